/* db.h -- one database interface over SQLite and PostgreSQL. */
#ifndef VF_DB_H
#define VF_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "stmt.h"

/*
 * A connection.  One per process, opened after fork; never shared between processes
 * or threads.  A child forked while the parent holds one must neither use nor
 * db_close() the inherited handle (for PostgreSQL, closing it would end the parent's
 * session): leave it alone and let exit() or exec() drop it.
 *
 * Handlers never build SQL: they name a statement of the table in stmt.h (lib/db/sql/ *.def
 * holds both dialects side by side) and bind parameters.  Each statement is prepared
 * once per connection, on first use.
 *
 * Conventions for every schema: timestamps are BIGINT microseconds since the epoch
 * (passed in from clock_now_us(), never the database's clock), booleans are INTEGER
 * 0/1, ids are INTEGER/BIGINT primary keys.  Placeholders: ?1.. in SQLite, $1.. in
 * PostgreSQL (both texts of a statement take the same parameters; test_db checks).
 *
 * Error mapping: SQLITE_BUSY/LOCKED and PG serialization/deadlock/lock timeout/
 * connection loss -> VF_ERR_BUSY (the HTTP layer answers 503 + Retry-After); unique,
 * foreign-key, not-null and check violations -> VF_ERR_CONFLICT; a wrong parameter count
 * -> VF_ERR_INTERNAL; anything else -> VF_ERR_DB.  The backend's message is logged by
 * the db layer (never the bound values) and never shown to a client.
 *
 * After any error inside a transaction the caller calls db_rollback() (PostgreSQL has
 * aborted the transaction anyway).  A PostgreSQL connection lost inside a transaction
 * makes every call VF_ERR_BUSY until db_rollback(); outside one, the next call
 * reconnects (at most once a second while the server is unreachable).
 */
struct db;
struct db_rows;

enum db_type { DB_T_NULL = 0, DB_T_INT, DB_T_TEXT };

struct db_param {
    enum db_type type;
    int64_t i;
    const char *s; /* borrowed for the duration of the call */
};

#define DB_INT(v)  ((struct db_param){ .type = DB_T_INT, .i = (int64_t)(v) })
#define DB_TEXT(v) ((struct db_param){ .type = DB_T_TEXT, .s = (v) })
#define DB_NULLV   ((struct db_param){ .type = DB_T_NULL })
/* DB_ARGS(DB_INT(1), DB_TEXT("x")) expands to "array, count". */
#define DB_ARGS(...)                                                                               \
    ((const struct db_param[]){ __VA_ARGS__ }),                                                    \
        (sizeof((const struct db_param[]){ __VA_ARGS__ }) / sizeof(struct db_param))
#define DB_NOARGS NULL, 0

/* Open per cfg->db_engine.  SQLite: WAL, busy timeout, foreign keys on, synchronous
 * NORMAL.  PostgreSQL: connect_timeout, application_name, keepalives, sessions ended by
 * the server after a minute idle in a transaction.  Caller frees with db_close().  On
 * failure *out is NULL, the reason is logged, and the result is VF_ERR_CONFIG for a
 * setting that cannot work (missing SQLite directory, engine not built in), else
 * VF_ERR_BUSY (server unreachable) / VF_ERR_IO / VF_ERR_DB. */
enum vf_err db_open(const struct config *cfg, struct db **out);
/* The same, but a missing SQLite file is created (videoflixctl migrate and tests only).
 * db_open() never creates one: a missing file is VF_ERR_NOTFOUND, logged with its path. */
enum vf_err db_open_create(const struct config *cfg, struct db **out);
/* Start-up check of a program that serves an existing database: for SQLite the file must
 * exist (VF_ERR_CONFIG and one line in `err` naming DB_NAME otherwise).  PostgreSQL: VF_OK
 * (a server that is down at boot is waited for, not a configuration error). */
enum vf_err db_require(const struct config *cfg, char *err, size_t errlen);
/* NULL-safe.  Rolls back an open transaction. */
void db_close(struct db *db);
enum config_db_engine db_engine(const struct db *db);

/* Run a statement that returns no rows; `*changes` (may be NULL) gets the row count. */
enum vf_err db_exec(struct db *db, enum stmt_id id, const struct db_param *p, size_t np,
                    int64_t *changes);
/* Run a statement and materialise all rows (values as text).  Caller frees *out with
 * db_rows_free(); *out is NULL on error. */
enum vf_err db_query(struct db *db, enum stmt_id id, const struct db_param *p, size_t np,
                     struct db_rows **out);
/* db_query() for a statement that should find a row: VF_ERR_NOTFOUND (and *out NULL) when
 * it returned none.  Caller frees *out with db_rows_free(). */
enum vf_err db_query_row(struct db *db, enum stmt_id id, const struct db_param *p, size_t np,
                         struct db_rows **out);
/* Prepare (and cache) statement `id` without running it: checks its text against the
 * schema.  `*nparams` gets the number of parameters it takes.  For tests and checks. */
enum vf_err db_prepare(struct db *db, enum stmt_id id, int *nparams);
/* First column of the first row as an integer; VF_ERR_NOTFOUND when there is no row. */
enum vf_err db_query_int(struct db *db, enum stmt_id id, const struct db_param *p, size_t np,
                         int64_t *out);

/*
 * A typed list: run statement `id` and turn each row into an element of `elem_size` bytes
 * with `row` (it fills the zeroed element from row i).  *out gets a malloc'd array of *n
 * elements (caller frees with free()), NULL when there are no rows.  On failure *out is NULL
 * and *n 0.  The domain's list functions (user_list, videoadmin_jobs, ...) are this with
 * their row function.
 */
enum vf_err db_query_list(struct db *db, enum stmt_id id, const struct db_param *p, size_t np,
                          size_t elem_size,
                          void (*row)(const struct db_rows *r, size_t i, void *elem), void **out,
                          size_t *n);

size_t db_rows_count(const struct db_rows *r);
size_t db_rows_cols(const struct db_rows *r);
/* Borrowed, valid until db_rows_free(); NULL for SQL NULL or out of range. */
const char *db_rows_text(const struct db_rows *r, size_t row, size_t col);
/* 0 for NULL or out of range. */
int64_t db_rows_int(const struct db_rows *r, size_t row, size_t col);
bool db_rows_isnull(const struct db_rows *r, size_t row, size_t col);
/* NULL-safe. */
void db_rows_free(struct db_rows *r);

/* Transactions.  db_begin() takes the write lock at once (SQLite BEGIN IMMEDIATE,
 * PostgreSQL BEGIN): every transaction of ours writes.  Not nestable.
 * db_rollback() is safe to call when no transaction is open. */
enum vf_err db_begin(struct db *db);
/* On failure the transaction has been rolled back (nothing half-written stays). */
enum vf_err db_commit(struct db *db);
enum vf_err db_rollback(struct db *db);
bool db_in_transaction(const struct db *db);

/* A cheap round trip (SELECT 1); reconnects a broken PostgreSQL connection first. */
enum vf_err db_ping(struct db *db);

/* Run a multi-statement SQL script (migrations only; no parameters). */
enum vf_err db_exec_script(struct db *db, const char *sql);

/* Apply every schema/<engine>/NNN_name.sql under `schema_dir` not yet recorded in
 * schema_migrations, in order, each in its own transaction with its record.  Safe to
 * run from several hosts at once (PostgreSQL advisory lock; SQLite write lock).
 * `*applied` (may be NULL) gets the number applied. */
enum vf_err db_migrate(struct db *db, const char *schema_dir, int *applied);
/* Same, calling `on_applied` (may be NULL) after each migration this call committed
 * (videoflixctl migrate prints them). */
enum vf_err db_migrate_report(struct db *db, const char *schema_dir,
                              void (*on_applied)(int version, const char *name, void *arg),
                              void *arg, int *applied);

/* How many migrations under `schema_dir` are not applied yet (videoflixctl check-config). */
enum vf_err db_migrations_pending(struct db *db, const char *schema_dir, int *pending);

/* Notifications: PostgreSQL LISTEN/NOTIFY; on SQLite listen/notify do nothing and
 * db_wait() just sleeps.  db_wait returns VF_OK when notified, VF_ERR_TIMEOUT otherwise. */
enum vf_err db_listen(struct db *db, const char *channel);
enum vf_err db_notify(struct db *db, const char *channel);
enum vf_err db_wait(struct db *db, int timeout_ms);

/* Backend message of the last error, for logs only. */
const char *db_errmsg(const struct db *db);

#endif
