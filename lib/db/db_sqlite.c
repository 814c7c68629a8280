/* db_sqlite.c -- the SQLite backend: one connection, WAL, cached prepared statements. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "db_impl.h"

struct db_sqlite {
    struct db base; /* first: the backend is reached by casting */
    sqlite3 *h;
    sqlite3_stmt *stmts[STMT__MAX]; /* prepared lazily, kept for the connection's life */
};

static struct db_sqlite *
S(struct db *db)
{
    return (struct db_sqlite *)db;
}

static const struct db_sqlite *
CS(const struct db *db)
{
    return (const struct db_sqlite *)db;
}

/* SQLite result code -> our error; the message goes to db->errmsg. */
static enum vf_err
map(struct db_sqlite *s, int rc)
{
    db_set_errmsg(&s->base, "%s (%d)", s->h != NULL ? sqlite3_errmsg(s->h) : sqlite3_errstr(rc),
                  rc);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return VF_ERR_BUSY;
    case SQLITE_CONSTRAINT:
        return VF_ERR_CONFLICT;
    case SQLITE_NOMEM:
        return VF_ERR_NOMEM;
    default:
        return VF_ERR_DB;
    }
}

/* Run a one-value PRAGMA and copy its answer into buf. */
static int
pragma(sqlite3 *h, const char *sql, char *buf, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);

    buf[0] = '\0';
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        snprintf(buf, len, "%s", v != NULL ? (const char *)v : "");
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static void sqlite_close(struct db *db);

/* Refuse a missing parent directory up front: SQLite's own error ("unable to open
 * database file") does not say which path is wrong. */
static bool
parent_dir_exists(const char *path, char *err, size_t errlen)
{
    char *copy = strdup(path);
    struct stat st;

    if (copy == NULL)
        return false;
    const char *dir = dirname(copy);
    bool ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    if (!ok)
        snprintf(err, errlen, "DB_NAME=%s: directory %s does not exist", path, dir);
    free(copy);
    return ok;
}

static enum vf_err
sqlite_open(const struct config *cfg, bool create, struct db **out, char *err, size_t errlen)
{
    const char *path = cfg->db_name;
    char mode[32];
    int rc;

    *out = NULL;
    if (path == NULL || path[0] == '\0') {
        snprintf(err, errlen, "DB_NAME (the SQLite file) is empty");
        return VF_ERR_CONFIG;
    }
    if (strcmp(path, ":memory:") != 0 && !parent_dir_exists(path, err, errlen))
        return VF_ERR_CONFIG; /* DB_NAME points nowhere: fatal, not transient */
    struct stat st;
    if (!create && strcmp(path, ":memory:") != 0 && stat(path, &st) != 0) {
        /* Only migrate creates a database: an empty new file would answer "no such table". */
        snprintf(err, errlen, "DB_NAME=%s: %s (videoflixctl migrate creates the database)", path,
                 strerror(errno));
        return errno == ENOENT ? VF_ERR_NOTFOUND : VF_ERR_IO;
    }
    struct db_sqlite *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return VF_ERR_NOMEM;
    s->base.engine = CONFIG_DB_SQLITE;
    rc = sqlite3_open_v2(
        path, &s->h,
        SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, s->h ? sqlite3_errmsg(s->h) : sqlite3_errstr(rc));
        sqlite_close(&s->base);
        return rc == SQLITE_NOMEM ? VF_ERR_NOMEM : VF_ERR_IO;
    }
    sqlite3_extended_result_codes(s->h, 1);
    /* The busy timeout first: switching to WAL needs a lock another process may hold. */
    sqlite3_busy_timeout(s->h, cfg->db_busy_timeout_ms > 0 ? cfg->db_busy_timeout_ms : 0);
    rc = pragma(s->h, "PRAGMA journal_mode=WAL", mode, sizeof(mode));
    if (rc == SQLITE_OK && strcmp(mode, "wal") != 0 && strcmp(path, ":memory:") != 0) {
        snprintf(err, errlen, "%s: cannot switch to WAL (journal_mode=%s)", path, mode);
        sqlite_close(&s->base);
        return VF_ERR_DB;
    }
    if (rc == SQLITE_OK)
        rc = pragma(s->h, "PRAGMA foreign_keys=ON", mode, sizeof(mode));
    if (rc == SQLITE_OK)
        rc = pragma(s->h, "PRAGMA synchronous=NORMAL", mode, sizeof(mode));
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->h));
        enum vf_err e = (rc & 0xff) == SQLITE_BUSY ? VF_ERR_BUSY : VF_ERR_DB;
        sqlite_close(&s->base);
        return e;
    }
    *out = &s->base;
    return VF_OK;
}

static void
sqlite_close(struct db *db)
{
    struct db_sqlite *s = S(db);

    if (s->h != NULL && !sqlite3_get_autocommit(s->h))
        sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
    for (size_t i = 0; i < STMT__MAX; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_close(s->h);
    free(s);
}

/* The cached statement for `id`, prepared on first use. */
static enum vf_err
cached(struct db_sqlite *s, enum stmt_id id, sqlite3_stmt **out)
{
    const char *sql = stmt_table[id].sqlite, *tail = NULL;
    sqlite3_stmt *st = s->stmts[id];

    *out = st;
    if (st != NULL)
        return VF_OK;
    if (sql == NULL || sql[0] == '\0') {
        db_set_errmsg(&s->base, "no SQLite text");
        return VF_ERR_INTERNAL;
    }
    int rc = sqlite3_prepare_v3(s->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK)
        return map(s, rc);
    while (tail != NULL && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == ';'))
        tail++;
    if (st == NULL || (tail != NULL && *tail != '\0')) {
        /* empty text, or a second statement that would silently never run */
        sqlite3_finalize(st);
        db_set_errmsg(&s->base, "not exactly one statement");
        return VF_ERR_INTERNAL;
    }
    s->stmts[id] = st;
    *out = st;
    return VF_OK;
}

/* The cached statement for `id` with `p` bound. */
static enum vf_err
prepare(struct db_sqlite *s, enum stmt_id id, const struct db_param *p, size_t np,
        sqlite3_stmt **out)
{
    sqlite3_stmt *st = NULL;
    int rc;
    enum vf_err e = cached(s, id, &st);

    *out = NULL;
    if (e != VF_OK)
        return e;
    if ((size_t)sqlite3_bind_parameter_count(st) != np) {
        db_set_errmsg(&s->base, "statement takes %d parameters, %zu given",
                      sqlite3_bind_parameter_count(st), np);
        return VF_ERR_INTERNAL;
    }
    for (size_t i = 0; i < np; i++) {
        int col = (int)i + 1;
        switch (p[i].type) {
        case DB_T_INT:
            rc = sqlite3_bind_int64(st, col, p[i].i);
            break;
        case DB_T_TEXT:
            /* Static: the caller's string outlives the call; bindings are cleared after. */
            rc = p[i].s != NULL ? sqlite3_bind_text(st, col, p[i].s, -1, SQLITE_STATIC)
                                : sqlite3_bind_null(st, col);
            break;
        default:
            rc = sqlite3_bind_null(st, col);
            break;
        }
        if (rc != SQLITE_OK) {
            e = map(s, rc);
            sqlite3_clear_bindings(st);
            return e;
        }
    }
    *out = st;
    return VF_OK;
}

/* Reset after use, so that the statement holds no lock and references no caller memory. */
static void
done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static enum vf_err
sqlite_prepare(struct db *db, enum stmt_id id, int *nparams)
{
    sqlite3_stmt *st = NULL;
    enum vf_err e = cached(S(db), id, &st);

    *nparams = e == VF_OK ? sqlite3_bind_parameter_count(st) : 0;
    return e;
}

/* Copy the current row of st into a new row of r. */
static enum vf_err
copy_row(sqlite3_stmt *st, size_t ncols, struct db_rows *r)
{
    char **row = db_rows_addrow(r);
    if (row == NULL)
        return VF_ERR_NOMEM;
    for (size_t c = 0; c < ncols; c++) {
        if (sqlite3_column_type(st, (int)c) == SQLITE_NULL)
            continue;
        const unsigned char *v = sqlite3_column_text(st, (int)c);
        size_t len = (size_t)sqlite3_column_bytes(st, (int)c);
        row[c] = db_strndup(v != NULL ? (const char *)v : "", v != NULL ? len : 0);
        if (row[c] == NULL)
            return VF_ERR_NOMEM;
    }
    return VF_OK;
}

/*
 * Run statement `id` to its end.  With out, its rows are collected into *out (the caller
 * frees them with db_rows_free); without, they are skipped and *changes (may be NULL) gets
 * the number of rows changed.  The statement is reset either way.
 */
static enum vf_err
execute(struct db_sqlite *s, enum stmt_id id, const struct db_param *p, size_t np,
        struct db_rows **out, int64_t *changes)
{
    sqlite3_stmt *st = NULL;
    struct db_rows *r = NULL;
    enum vf_err e = prepare(s, id, p, np, &st);

    if (e != VF_OK)
        return e;
    /* Columns counted after the first step: a schema change re-prepares the statement
     * inside sqlite3_step() and may change them ("SELECT *"). */
    int rc = sqlite3_step(st);
    size_t ncols = (size_t)sqlite3_column_count(st);
    if (out != NULL && (r = db_rows_alloc(ncols)) == NULL)
        e = VF_ERR_NOMEM;
    while (e == VF_OK && rc == SQLITE_ROW) {
        if (r != NULL)
            e = copy_row(st, ncols, r);
        if (e == VF_OK)
            rc = sqlite3_step(st);
    }
    if (e == VF_OK && rc != SQLITE_DONE)
        e = map(s, rc);
    if (e == VF_OK && changes != NULL)
        *changes = (int64_t)sqlite3_changes64(s->h);
    done(st);
    if (e != VF_OK) {
        db_rows_free(r);
        return e;
    }
    if (out != NULL)
        *out = r;
    return VF_OK;
}

static enum vf_err
sqlite_exec(struct db *db, enum stmt_id id, const struct db_param *p, size_t np, int64_t *changes)
{
    return execute(S(db), id, p, np, NULL, changes);
}

static enum vf_err
sqlite_query(struct db *db, enum stmt_id id, const struct db_param *p, size_t np,
             struct db_rows **out)
{
    return execute(S(db), id, p, np, out, NULL);
}

static enum vf_err
run(struct db_sqlite *s, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->h, sql, NULL, NULL, &msg);

    if (rc == SQLITE_OK)
        return VF_OK;
    enum vf_err e = map(s, rc);
    if (msg != NULL)
        db_set_errmsg(&s->base, "%s (%d)", msg, rc);
    sqlite3_free(msg);
    return e;
}

static bool
sqlite_in_transaction(const struct db *db)
{
    return sqlite3_get_autocommit(CS(db)->h) == 0;
}

static enum vf_err
sqlite_begin(struct db *db)
{
    /* IMMEDIATE: take the write lock now (waiting up to the busy timeout), so no
     * statement inside the transaction can fail to upgrade a read lock. */
    return run(S(db), "BEGIN IMMEDIATE");
}

static enum vf_err
sqlite_rollback(struct db *db)
{
    /* Some errors (busy, I/O, full) already rolled back: then there is nothing to do. */
    if (!sqlite_in_transaction(db))
        return VF_OK;
    return run(S(db), "ROLLBACK");
}

static enum vf_err
sqlite_commit(struct db *db)
{
    struct db_sqlite *s = S(db);

    if (!sqlite_in_transaction(db)) {
        db_set_errmsg(db, "COMMIT without a transaction");
        return VF_ERR_INTERNAL;
    }
    enum vf_err e = run(s, "COMMIT");
    if (e != VF_OK && sqlite_in_transaction(db)) {
        char saved[sizeof(db->errmsg)];
        memcpy(saved, db->errmsg, sizeof(saved));
        run(s, "ROLLBACK");
        memcpy(db->errmsg, saved, sizeof(saved));
    }
    return e;
}

static enum vf_err
sqlite_ping(struct db *db)
{
    return sqlite_exec(db, STMT_PING, NULL, 0, NULL);
}

static enum vf_err
sqlite_exec_script(struct db *db, const char *sql)
{
    return run(S(db), sql);
}

static enum vf_err
sqlite_listen(struct db *db, const char *channel)
{
    return VF_OK;
}

static enum vf_err
sqlite_notify(struct db *db, const char *channel)
{
    return VF_OK;
}

/* No notifications on SQLite: the caller polls, we just pace it. */
static enum vf_err
sqlite_wait(struct db *db, int timeout_ms)
{
    struct timespec ts = { .tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000L };

    if (timeout_ms > 0)
        nanosleep(&ts, NULL); /* a signal cuts it short: the caller checks its flags */
    return VF_ERR_TIMEOUT;
}

static const char *
sqlite_errmsg(const struct db *db)
{
    return db->errmsg;
}

const struct db_ops db_sqlite_ops = {
    .name = "SQLite",
    .open = sqlite_open,
    .close = sqlite_close,
    .prepare = sqlite_prepare,
    .exec = sqlite_exec,
    .query = sqlite_query,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .in_transaction = sqlite_in_transaction,
    .ping = sqlite_ping,
    .exec_script = sqlite_exec_script,
    .listen = sqlite_listen,
    .notify = sqlite_notify,
    .wait = sqlite_wait,
    .errmsg = sqlite_errmsg,
};
