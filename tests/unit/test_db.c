/* test_db.c -- one table of database cases, run against SQLite and PostgreSQL alike. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "db.h"
#include "dbfixture.h"
#include "log.h"

/*
 * Every case is a function of a fixture holding an open, empty database (dbfixture.h).
 * DB_CASE(x) defines it once and registers it twice: sqlite/x and postgres/x.  PostgreSQL
 * runs against the cluster named by VF_TEST_PG_HOST/VF_TEST_PG_PORT/VF_TEST_PG_USER and is
 * skipped when they are unset.
 *
 * Most cases drive the table vf_test (tests/fixtures/schema) through the test statements of
 * lib/db/sql/test.def, which only a build configured with --enable-test-hooks has; without it
 * only the cases on the real schema and statements run.
 */
#define FIXTURES VF_SRCDIR "/tests/fixtures/schema"
#define SCHEMA   VF_SRCDIR "/schema"

static const struct dbfixture_setup fixture = { "db", NULL, 0 };

#define DB_CASE(name) DBFIXTURE_CASE(fixture, sqlite, postgres, name)

/* Skip a case that does not apply to this engine. */
#define skip_case(why) dbfixture_skip(fx, why)

#ifdef VF_TEST_HOOKS /* cases on vf_test through the test statements */
/* ---- helpers ------------------------------------------------------------------------ */

static void
migrate_fixtures(struct dbfixture *fx)
{
    int applied = -1;
    cr_assert_eq(db_migrate(fx->db, FIXTURES, &applied), VF_OK);
    cr_assert_eq(applied, 2);
}

static int64_t
insert(struct dbfixture *fx, const char *name, int64_t n, const char *note)
{
    int64_t id = 0;
    enum vf_err rc = db_query_int(fx->db, STMT_TEST_INSERT,
                                  DB_ARGS(DB_TEXT(name), DB_INT(n), DB_TEXT(note)), &id);
    cr_assert_eq(rc, VF_OK, "insert %s: %s", name, vf_strerror(rc));
    cr_assert_gt(id, 0);
    return id;
}

static int64_t
count(struct db *db)
{
    int64_t n = -1;
    cr_assert_eq(db_query_int(db, STMT_TEST_COUNT, DB_NOARGS, &n), VF_OK);
    return n;
}

/* STMT_TEST_COUNT's error code. */
static enum vf_err
count_or(struct db *db)
{
    int64_t n = 0;
    return db_query_int(db, STMT_TEST_COUNT, DB_NOARGS, &n);
}

/* A second connection to the same database, with its own busy timeout. */
static struct db *
open2(struct dbfixture *fx, int busy_ms)
{
    struct config cfg = fx->cfg;
    struct db *db = NULL;
    cfg.db_busy_timeout_ms = busy_ms;
    cr_assert_eq(db_open_create(&cfg, &db), VF_OK);
    return db;
}

static int64_t
ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- cases -------------------------------------------------------------------------- */

DB_CASE(query_returns_inserted_row_with_params_and_nulls)
{
    migrate_fixtures(fx);
    int64_t a = insert(fx, "alpha", 7, "first");
    int64_t b = insert(fx, "beta", 0, NULL);
    cr_assert_neq(a, b);

    struct db_rows *r = NULL;
    cr_assert_eq(db_query(fx->db, STMT_TEST_GET, DB_ARGS(DB_INT(a)), &r), VF_OK);
    cr_assert_eq(db_rows_count(r), 1);
    cr_assert_eq(db_rows_cols(r), 4);
    cr_assert_eq(db_rows_int(r, 0, 0), a);
    cr_assert_str_eq(db_rows_text(r, 0, 1), "alpha");
    cr_assert_eq(db_rows_int(r, 0, 2), 7);
    cr_assert_str_eq(db_rows_text(r, 0, 3), "first");
    cr_assert_not(db_rows_isnull(r, 0, 3));
    /* out of range is NULL / 0, never a crash */
    cr_assert_null(db_rows_text(r, 1, 0));
    cr_assert_null(db_rows_text(r, 0, 4));
    cr_assert_eq(db_rows_int(r, 5, 5), 0);
    db_rows_free(r);

    cr_assert_eq(db_query(fx->db, STMT_TEST_GET, DB_ARGS(DB_INT(b)), &r), VF_OK);
    cr_assert(db_rows_isnull(r, 0, 3), "DB_TEXT(NULL) binds SQL NULL");
    cr_assert_null(db_rows_text(r, 0, 3));
    db_rows_free(r);

    /* explicit DB_NULLV and an empty string are different things */
    cr_assert_eq(db_query(fx->db, STMT_TEST_ECHO, DB_ARGS(DB_NULLV, DB_INT(3), DB_TEXT("")), &r),
                 VF_OK);
    cr_assert(db_rows_isnull(r, 0, 0));
    cr_assert_str_eq(db_rows_text(r, 0, 1), "3");
    cr_assert_str_eq(db_rows_text(r, 0, 2), "");
    db_rows_free(r);

    /* UTF-8 and quotes pass through untouched: parameters are never spliced into SQL */
    const char *tricky = "O'Brien \"x\"; DROP TABLE vf_test; -- \xc3\xa9\xe2\x82\xac";
    int64_t c = insert(fx, tricky, 1, tricky);
    cr_assert_eq(db_query(fx->db, STMT_TEST_GET, DB_ARGS(DB_INT(c)), &r), VF_OK);
    cr_assert_str_eq(db_rows_text(r, 0, 1), tricky);
    db_rows_free(r);
    cr_assert_eq(count(fx->db), 4); /* seed + 3 */

    db_rows_free(NULL); /* NULL-safe */
}

DB_CASE(int64_values_round_trip)
{
    migrate_fixtures(fx);
    const int64_t vals[] = {
        0, 1, -1, INT32_MAX, (int64_t)INT32_MAX + 1, INT64_MAX, INT64_MIN, 1732200000123456
    };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "n%zu", i);
        int64_t id = insert(fx, name, vals[i], NULL);
        struct db_rows *r = NULL;
        cr_assert_eq(db_query(fx->db, STMT_TEST_GET, DB_ARGS(DB_INT(id)), &r), VF_OK);
        cr_assert_eq(db_rows_int(r, 0, 2), vals[i], "value %zu", i);
        db_rows_free(r);
    }
}

DB_CASE(query_int_without_row_is_notfound)
{
    migrate_fixtures(fx);
    int64_t v = 99;
    cr_assert_eq(db_query_int(fx->db, STMT_TEST_GET, DB_ARGS(DB_INT(424242)), &v), VF_ERR_NOTFOUND);
    cr_assert_eq(v, 0);
    struct db_rows *r = NULL;
    cr_assert_eq(db_query(fx->db, STMT_TEST_GET, DB_ARGS(DB_INT(424242)), &r), VF_OK);
    cr_assert_eq(db_rows_count(r), 0);
    cr_assert_eq(db_rows_cols(r), 4);
    db_rows_free(r);
}

DB_CASE(exec_reports_changed_rows)
{
    migrate_fixtures(fx);
    int64_t changes = -1;
    cr_assert_eq(db_exec(fx->db, STMT_TEST_SET_N, DB_ARGS(DB_TEXT("seed"), DB_INT(5)), &changes),
                 VF_OK);
    cr_assert_eq(changes, 1);
    cr_assert_eq(db_exec(fx->db, STMT_TEST_SET_N, DB_ARGS(DB_TEXT("nobody"), DB_INT(5)), &changes),
                 VF_OK);
    cr_assert_eq(changes, 0);
    insert(fx, "x", 1, NULL);
    cr_assert_eq(db_exec(fx->db, STMT_TEST_DELETE_ALL, DB_NOARGS, &changes), VF_OK);
    cr_assert_eq(changes, 2);
    cr_assert_eq(db_exec(fx->db, STMT_TEST_DELETE_ALL, DB_NOARGS, NULL), VF_OK);
}

DB_CASE(committed_transaction_is_visible_to_others)
{
    migrate_fixtures(fx);
    struct db *other = open2(fx, 5000);
    cr_assert_not(db_in_transaction(fx->db));
    cr_assert_eq(db_begin(fx->db), VF_OK);
    cr_assert(db_in_transaction(fx->db));
    insert(fx, "t1", 1, NULL);
    insert(fx, "t2", 2, NULL);
    cr_assert_eq(count(other), 1, "uncommitted rows are invisible to another connection");
    cr_assert_eq(db_commit(fx->db), VF_OK);
    cr_assert_not(db_in_transaction(fx->db));
    cr_assert_eq(count(other), 3);
    db_close(other);
}

DB_CASE(rolled_back_transaction_leaves_nothing)
{
    migrate_fixtures(fx);
    cr_assert_eq(db_rollback(fx->db), VF_OK, "rollback without a transaction is harmless");
    cr_assert_eq(db_begin(fx->db), VF_OK);
    insert(fx, "r1", 1, NULL);
    cr_assert_eq(db_exec(fx->db, STMT_TEST_SET_N, DB_ARGS(DB_TEXT("seed"), DB_INT(99)), NULL),
                 VF_OK);
    cr_assert_eq(db_rollback(fx->db), VF_OK);
    cr_assert_not(db_in_transaction(fx->db));
    cr_assert_eq(count(fx->db), 1);
    struct db_rows *r = NULL;
    cr_assert_eq(db_query(fx->db, STMT_TEST_BY_NAME, DB_ARGS(DB_TEXT("seed")), &r), VF_OK);
    cr_assert_eq(db_rows_int(r, 0, 2), 1);
    db_rows_free(r);
}

DB_CASE(begin_is_not_nestable_and_commit_needs_a_transaction)
{
    migrate_fixtures(fx);
    cr_assert_eq(db_commit(fx->db), VF_ERR_INTERNAL);
    cr_assert_eq(db_begin(fx->db), VF_OK);
    cr_assert_eq(db_begin(fx->db), VF_ERR_INTERNAL);
    cr_assert(db_in_transaction(fx->db), "the failed BEGIN left the open one alone");
    cr_assert_eq(db_rollback(fx->db), VF_OK);
}

DB_CASE(constraint_violations_are_conflicts)
{
    migrate_fixtures(fx);
    int64_t id = 0;
    /* unique */
    cr_assert_eq(
        db_query_int(fx->db, STMT_TEST_INSERT, DB_ARGS(DB_TEXT("seed"), DB_INT(1), DB_NULLV), &id),
        VF_ERR_CONFLICT);
    /* not null */
    cr_assert_eq(
        db_query_int(fx->db, STMT_TEST_INSERT, DB_ARGS(DB_NULLV, DB_INT(1), DB_NULLV), &id),
        VF_ERR_CONFLICT);
    /* foreign key (SQLite: only because foreign_keys=ON) */
    cr_assert_eq(db_exec(fx->db, STMT_TEST_INSERT_CHILD, DB_ARGS(DB_INT(987654)), NULL),
                 VF_ERR_CONFLICT);
    cr_assert_eq(count(fx->db), 1);
    /* inside a transaction: the caller rolls back and the connection stays usable */
    cr_assert_eq(db_begin(fx->db), VF_OK);
    insert(fx, "in-tx", 1, NULL);
    cr_assert_eq(
        db_query_int(fx->db, STMT_TEST_INSERT, DB_ARGS(DB_TEXT("in-tx"), DB_INT(1), DB_NULLV), &id),
        VF_ERR_CONFLICT);
    cr_assert_eq(db_rollback(fx->db), VF_OK);
    cr_assert_eq(count(fx->db), 1);
    insert(fx, "after", 1, NULL);
    cr_assert_eq(count(fx->db), 2);
}

DB_CASE(failed_transaction_cannot_commit_half)
{
    migrate_fixtures(fx);
    int64_t id = 0;
    cr_assert_eq(db_begin(fx->db), VF_OK);
    insert(fx, "half", 1, NULL);
    cr_assert_eq(
        db_query_int(fx->db, STMT_TEST_INSERT, DB_ARGS(DB_TEXT("seed"), DB_INT(1), DB_NULLV), &id),
        VF_ERR_CONFLICT);
    /* A careless caller commits anyway.  PostgreSQL refuses (the transaction is
     * aborted); SQLite only undid the failed statement.  Either way nothing is left
     * open and no later call runs inside a stale transaction. */
    enum vf_err rc = db_commit(fx->db);
    if (fx->engine == CONFIG_DB_POSTGRES) {
        cr_assert_neq(rc, VF_OK);
        cr_assert_eq(count(fx->db), 1);
    } else {
        cr_assert_eq(rc, VF_OK);
        cr_assert_eq(count(fx->db), 2);
    }
    cr_assert_not(db_in_transaction(fx->db));
}

DB_CASE(bad_sql_and_wrong_parameter_count_are_errors_not_crashes)
{
    migrate_fixtures(fx);
    int64_t v = 0;
    cr_assert_eq(db_exec(fx->db, STMT_TEST_BAD_SQL, DB_NOARGS, NULL), VF_ERR_DB);
    cr_assert_neq(db_errmsg(fx->db)[0], '\0');
    cr_assert_eq(db_exec(fx->db, STMT_TEST_BAD_SQL, DB_NOARGS, NULL), VF_ERR_DB, "not cached");
    cr_assert_eq(db_query_int(fx->db, STMT_TEST_GET, DB_NOARGS, &v), VF_ERR_INTERNAL);
    cr_assert_eq(db_query_int(fx->db, STMT_TEST_GET, DB_ARGS(DB_INT(1), DB_INT(2)), &v),
                 VF_ERR_INTERNAL);
    cr_assert_eq(db_exec(fx->db, (enum stmt_id)STMT__MAX, DB_NOARGS, NULL), VF_ERR_INTERNAL);
    cr_assert_eq(db_exec(fx->db, (enum stmt_id) - 1, DB_NOARGS, NULL), VF_ERR_INTERNAL);
    cr_assert_eq(db_ping(fx->db), VF_OK, "the connection is still fine");
    cr_assert_eq(count(fx->db), 1);
}

DB_CASE(write_lock_held_elsewhere_is_busy)
{
    migrate_fixtures(fx);
    struct db *other = open2(fx, 200);
    struct timespec t0;

    if (fx->engine == CONFIG_DB_POSTGRES)
        cr_assert_eq(db_exec(other, STMT_TEST_LOCK_TIMEOUT, DB_NOARGS, NULL), VF_OK);
    cr_assert_eq(db_begin(fx->db), VF_OK);
    cr_assert_eq(db_exec(fx->db, STMT_TEST_SET_N, DB_ARGS(DB_TEXT("seed"), DB_INT(2)), NULL),
                 VF_OK);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum vf_err rc = db_begin(other);
    if (rc == VF_OK) /* PostgreSQL: BEGIN takes no lock; the row update waits */
        rc = db_exec(other, STMT_TEST_SET_N, DB_ARGS(DB_TEXT("seed"), DB_INT(3)), NULL);
    cr_assert_eq(rc, VF_ERR_BUSY, "got %s", vf_strerror(rc));
    cr_assert_geq(ms_since(&t0), 150, "waited for the lock timeout first");
    cr_assert_lt(ms_since(&t0), 3000);
    cr_assert_eq(db_rollback(other), VF_OK);
    cr_assert_not(db_in_transaction(other));

    /* readers are not blocked by the writer (WAL / MVCC) */
    cr_assert_eq(count(other), 1);

    cr_assert_eq(db_commit(fx->db), VF_OK);
    cr_assert_eq(db_exec(other, STMT_TEST_SET_N, DB_ARGS(DB_TEXT("seed"), DB_INT(3)), NULL), VF_OK,
                 "after the lock is gone the retry works");
    db_close(other);
}

DB_CASE(migrate_twice_is_idempotent)
{
    int applied = -1, pending = -1;
    cr_assert_eq(db_migrations_pending(fx->db, FIXTURES, &pending), VF_OK);
    cr_assert_eq(pending, 2, "nothing applied on a fresh database");
    cr_assert_eq(db_migrate(fx->db, FIXTURES, &applied), VF_OK);
    cr_assert_eq(db_migrations_pending(fx->db, FIXTURES, &pending), VF_OK);
    cr_assert_eq(pending, 0);
    cr_assert_eq(applied, 2);
    cr_assert_eq(db_migrate(fx->db, FIXTURES, &applied), VF_OK);
    cr_assert_eq(applied, 0);
    cr_assert_eq(count(fx->db), 1, "the seed row of 002 was inserted once");
    struct db_rows *r = NULL;
    cr_assert_eq(db_query(fx->db, STMT_MIGRATION_LIST, DB_NOARGS, &r), VF_OK);
    cr_assert_eq(db_rows_count(r), 2);
    cr_assert_eq(db_rows_int(r, 0, 0), 1);
    cr_assert_eq(db_rows_int(r, 1, 0), 2);
    db_rows_free(r);
}

#endif /* VF_TEST_HOOKS */

static bool
test_only(enum stmt_id id)
{
    return strncmp(stmt_table[id].name, "STMT_TEST_", 10) == 0;
}

DB_CASE(real_schema_migrates_and_every_statement_prepares)
{
    int applied = -1;
    cr_assert_eq(db_migrate(fx->db, SCHEMA, &applied), VF_OK);
    cr_assert_geq(applied, 1);
    /* Every area's SQL is checked against every area's schema, in this dialect. */
    for (int id = 0; id < STMT__MAX; id++) {
        int np = -1;
        if (test_only((enum stmt_id)id))
            continue;
        cr_expect_eq(db_prepare(fx->db, (enum stmt_id)id, &np), VF_OK, "%s: %s",
                     stmt_table[id].name, db_errmsg(fx->db));
    }
    cr_assert_eq(db_migrate(fx->db, SCHEMA, &applied), VF_OK);
    cr_assert_eq(applied, 0);
    cr_assert_eq(
        db_exec(fx->db, STMT_SETTING_SET, DB_ARGS(DB_TEXT("k"), DB_TEXT("v1"), DB_INT(1)), NULL),
        VF_OK);
    cr_assert_eq(
        db_exec(fx->db, STMT_SETTING_SET, DB_ARGS(DB_TEXT("k"), DB_TEXT("v2"), DB_INT(2)), NULL),
        VF_OK);
    struct db_rows *r = NULL;
    cr_assert_eq(db_query(fx->db, STMT_SETTING_GET, DB_ARGS(DB_TEXT("k")), &r), VF_OK);
    cr_assert_str_eq(db_rows_text(r, 0, 0), "v2");
    db_rows_free(r);
}

#ifdef VF_TEST_HOOKS /* cases on vf_test through the test statements */
DB_CASE(failed_migration_is_not_recorded_and_leaves_nothing)
{
    char dir[64] = "/tmp/vf-test-mig-XXXXXX", sub[128], f[192];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/%s", dir,
             fx->engine == CONFIG_DB_POSTGRES ? "postgres" : "sqlite");
    cr_assert_eq(mkdir(sub, 0700), 0);
    snprintf(f, sizeof(f), "%s/001_ok.sql", sub);
    FILE *fp = fopen(f, "w");
    fprintf(fp, "CREATE TABLE vf_test (id %s, name TEXT NOT NULL UNIQUE, n BIGINT, note TEXT);\n",
            fx->engine == CONFIG_DB_POSTGRES ? "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                                             : "INTEGER PRIMARY KEY");
    fclose(fp);
    snprintf(f, sizeof(f), "%s/002_broken.sql", sub);
    fp = fopen(f, "w");
    fputs("INSERT INTO vf_test (name) VALUES ('from-002');\nTHIS IS NOT SQL;\n", fp);
    fclose(fp);
    snprintf(f, sizeof(f), "%s/README", sub); /* not a migration: ignored */
    fp = fopen(f, "w");
    fputs("x\n", fp);
    fclose(fp);

    int applied = -1;
    cr_assert_neq(db_migrate(fx->db, dir, &applied), VF_OK);
    cr_assert_eq(applied, 1);
    cr_assert_not(db_in_transaction(fx->db));
    cr_assert_eq(count(fx->db), 0, "the half of 002 that worked was rolled back");
    struct db_rows *r = NULL;
    cr_assert_eq(db_query(fx->db, STMT_MIGRATION_LIST, DB_NOARGS, &r), VF_OK);
    cr_assert_eq(db_rows_count(r), 1);
    db_rows_free(r);

    /* fixed file: the next run applies it */
    snprintf(f, sizeof(f), "%s/002_broken.sql", sub);
    fp = fopen(f, "w");
    fputs("INSERT INTO vf_test (name) VALUES ('from-002');\n", fp);
    fclose(fp);
    cr_assert_eq(db_migrate(fx->db, dir, &applied), VF_OK);
    cr_assert_eq(applied, 1);
    cr_assert_eq(count(fx->db), 1);

    /* a migration that commits by itself is refused and not recorded */
    snprintf(f, sizeof(f), "%s/003_commits.sql", sub);
    fp = fopen(f, "w");
    fputs("CREATE TABLE vf_t3 (id INTEGER);\nCOMMIT;\n", fp);
    fclose(fp);
    cr_assert_eq(db_migrate(fx->db, dir, &applied), VF_ERR_CONFIG);
    cr_assert_eq(applied, 0);
    cr_assert_not(db_in_transaction(fx->db));
    cr_assert_eq(db_query(fx->db, STMT_MIGRATION_LIST, DB_NOARGS, &r), VF_OK);
    cr_assert_eq(db_rows_count(r), 2);
    db_rows_free(r);
    unlink(f);

    /* a missing directory is an error naming it, not a crash */
    cr_assert_eq(db_migrate(fx->db, "/nonexistent/vf-schema", &applied), VF_ERR_IO);
    cr_assert_eq(applied, 0);

    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

DB_CASE(concurrent_migrate_from_several_processes_applies_each_once)
{
    enum { NPROC = 4 };
    int gate[2];
    pid_t pids[NPROC];

    cr_assert_eq(pipe(gate), 0);
    for (int i = 0; i < NPROC; i++) {
        pids[i] = fork();
        cr_assert_geq(pids[i], 0);
        if (pids[i] == 0) {
            char c;
            struct db *db = NULL;
            int applied = -1;
            close(gate[1]);
            if (db_open_create(&fx->cfg, &db) != VF_OK)
                _exit(1);
            (void)!read(gate[0], &c, 1); /* all start together when the gate closes */
            enum vf_err rc = db_migrate(db, FIXTURES, &applied);
            db_close(db);
            _exit(rc == VF_OK ? 10 + applied : 2);
        }
    }
    close(gate[0]);
    close(gate[1]);
    int total = 0;
    for (int i = 0; i < NPROC; i++) {
        int st = 0;
        cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) >= 10, "migrator %d failed (status %d)", i,
                  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        total += WEXITSTATUS(st) - 10;
    }
    cr_assert_eq(total, 2, "every migration applied exactly once overall");
    cr_assert_eq(count(fx->db), 1);
}

DB_CASE(notify_wakes_a_listener_after_commit)
{
    struct db *other = open2(fx, 5000);
    struct timespec t0;

    cr_assert_eq(db_listen(fx->db, "vf_test_channel"), VF_OK);
    cr_assert_eq(db_listen(fx->db, "vf_test_channel"), VF_OK, "twice is fine");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(db_wait(fx->db, 100), VF_ERR_TIMEOUT);
    cr_assert_geq(ms_since(&t0), 90);

    cr_assert_eq(db_notify(other, "vf_test_channel"), VF_OK);
    if (fx->engine == CONFIG_DB_SQLITE) {
        /* SQLite has no notifications: wait only paces the caller's polling */
        cr_assert_eq(db_wait(fx->db, 20), VF_ERR_TIMEOUT);
        db_close(other);
        return;
    }
    cr_assert_eq(db_wait(fx->db, 5000), VF_OK);
    cr_assert_eq(db_wait(fx->db, 50), VF_ERR_TIMEOUT, "a notification is consumed once");

    /* inside a transaction: delivered at commit, dropped on rollback */
    cr_assert_eq(db_begin(other), VF_OK);
    cr_assert_eq(db_notify(other, "vf_test_channel"), VF_OK);
    cr_assert_eq(db_wait(fx->db, 100), VF_ERR_TIMEOUT);
    cr_assert_eq(db_rollback(other), VF_OK);
    cr_assert_eq(db_wait(fx->db, 100), VF_ERR_TIMEOUT);
    cr_assert_eq(db_begin(other), VF_OK);
    cr_assert_eq(db_notify(other, "vf_test_channel"), VF_OK);
    cr_assert_eq(db_commit(other), VF_OK);
    cr_assert_eq(db_wait(fx->db, 5000), VF_OK);
    /* other channels do not wake us */
    cr_assert_eq(db_notify(other, "vf_other_channel"), VF_OK);
    cr_assert_eq(db_wait(fx->db, 100), VF_ERR_TIMEOUT);
    db_close(other);
}

DB_CASE(lost_connection_is_busy_then_reconnects)
{
    if (fx->engine == CONFIG_DB_SQLITE)
        skip_case("SQLite is embedded: no connection to lose");
    migrate_fixtures(fx);
    struct db *killer = open2(fx, 5000);
    int64_t pid = 0;
    cr_assert_eq(db_listen(fx->db, "vf_test_channel"), VF_OK);

    /* outside a transaction: one BUSY, then the next call reconnects and re-prepares */
    cr_assert_eq(count(fx->db), 1); /* STMT_TEST_COUNT is now prepared */
    cr_assert_eq(db_query_int(fx->db, STMT_TEST_BACKEND_PID, DB_NOARGS, &pid), VF_OK);
    cr_assert_eq(db_exec(killer, STMT_TEST_TERMINATE, DB_ARGS(DB_INT(pid)), NULL), VF_OK);
    usleep(100 * 1000);
    int64_t n = -1;
    cr_assert_eq(db_query_int(fx->db, STMT_TEST_COUNT, DB_NOARGS, &n), VF_ERR_BUSY);
    cr_assert_eq(count(fx->db), 1);
    int64_t pid2 = 0;
    cr_assert_eq(db_query_int(fx->db, STMT_TEST_BACKEND_PID, DB_NOARGS, &pid2), VF_OK);
    cr_assert_neq(pid, pid2);
    /* LISTEN was re-issued on the new connection */
    cr_assert_eq(db_notify(killer, "vf_test_channel"), VF_OK);
    cr_assert_eq(db_wait(fx->db, 5000), VF_OK);

    /* inside a transaction: every call is BUSY until the caller rolls back; nothing
     * runs outside the transaction it believes it is in */
    cr_assert_eq(db_begin(fx->db), VF_OK);
    insert(fx, "lost", 1, NULL);
    cr_assert_eq(db_exec(killer, STMT_TEST_TERMINATE, DB_ARGS(DB_INT(pid2)), NULL), VF_OK);
    usleep(100 * 1000);
    cr_assert_eq(db_query_int(fx->db, STMT_TEST_COUNT, DB_NOARGS, &n), VF_ERR_BUSY);
    cr_assert(db_in_transaction(fx->db));
    cr_assert_eq(db_exec(fx->db, STMT_TEST_SET_N, DB_ARGS(DB_TEXT("seed"), DB_INT(9)), NULL),
                 VF_ERR_BUSY);
    cr_assert_eq(db_rollback(fx->db), VF_OK);
    cr_assert_not(db_in_transaction(fx->db));
    cr_assert_eq(count(fx->db), 1, "neither the insert nor the update happened");
    cr_assert_eq(db_ping(fx->db), VF_OK);

    /* server refusing connections: BUSY without blocking, at most one attempt a
     * second, and back by itself once the database accepts connections again */
    char sql[160];
    int64_t pid3 = 0;
    cr_assert_eq(db_query_int(fx->db, STMT_TEST_BACKEND_PID, DB_NOARGS, &pid3), VF_OK);
    struct config acfg = fx->cfg;
    struct db *admin = NULL;
    acfg.db_name = (char *)"postgres"; /* a database cannot lock itself out */
    cr_assert_eq(db_open_create(&acfg, &admin), VF_OK);
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS false", fx->dbname);
    cr_assert_eq(db_exec_script(admin, sql), VF_OK);
    cr_assert_eq(db_exec(killer, STMT_TEST_TERMINATE, DB_ARGS(DB_INT(pid3)), NULL), VF_OK);
    usleep(100 * 1000);
    cr_assert_eq(db_ping(fx->db), VF_ERR_BUSY);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(db_ping(fx->db), VF_ERR_BUSY);
    cr_assert_eq(count_or(fx->db), VF_ERR_BUSY);
    cr_assert_lt(ms_since(&t0), 200, "no reconnect attempt within the back-off");
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true", fx->dbname);
    cr_assert_eq(db_exec_script(admin, sql), VF_OK);
    db_close(admin);
    usleep(1100 * 1000);
    cr_assert_eq(db_ping(fx->db), VF_OK);
    cr_assert_eq(count(fx->db), 1);
    db_close(killer);
}

DB_CASE(logs_name_the_statement_but_never_the_values)
{
    migrate_fixtures(fx);
    char logpath[] = "/tmp/vf-test-log-XXXXXX";
    int fd = mkstemp(logpath);
    cr_assert_geq(fd, 0);
    int saved = dup(2);
    dup2(fd, 2);
    log_init("test_db", CONFIG_LOG_DEBUG);

    int64_t id = 0;
    insert(fx, "S3CRET-NAME", 1, NULL);
    db_query_int(fx->db, STMT_TEST_INSERT, DB_ARGS(DB_TEXT("S3CRET-NAME"), DB_INT(2), DB_NULLV),
                 &id);
    struct db_rows *r = NULL;
    db_query(fx->db, STMT_TEST_ECHO, DB_ARGS(DB_TEXT("a"), DB_TEXT("S3CRET-NUM"), DB_NULLV), &r);
    db_rows_free(r);

    log_init("test_db", CONFIG_LOG_ERROR);
    dup2(saved, 2);
    close(saved);
    char buf[8192] = "";
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    unlink(logpath);
    cr_assert_gt(n, 0, "something was logged");
    buf[n] = '\0';
    cr_assert_not_null(strstr(buf, "STMT_TEST_INSERT"), "log: %s", buf);
    cr_assert_null(strstr(buf, "S3CRET"), "a bound value leaked into the log: %s", buf);
}

DB_CASE(sqlite_pragmas_and_missing_directory)
{
    if (fx->engine != CONFIG_DB_SQLITE)
        skip_case("SQLite only");
    struct db_rows *r = NULL;
    cr_assert_eq(db_query(fx->db, STMT_TEST_PRAGMA_JOURNAL, DB_NOARGS, &r), VF_OK);
    cr_assert_str_eq(db_rows_text(r, 0, 0), "wal");
    db_rows_free(r);
    int64_t v = 0;
    cr_assert_eq(db_query_int(fx->db, STMT_TEST_PRAGMA_FK, DB_NOARGS, &v), VF_OK);
    cr_assert_eq(v, 1);
    cr_assert_eq(db_query_int(fx->db, STMT_TEST_PRAGMA_SYNC, DB_NOARGS, &v), VF_OK);
    cr_assert_eq(v, 1, "synchronous=NORMAL");
    cr_assert_eq(db_engine(fx->db), CONFIG_DB_SQLITE);

    struct config cfg = fx->cfg;
    struct db *db = (struct db *)&cfg; /* must be reset to NULL */
    cfg.db_name = (char *)"/nonexistent-vf-dir/sub/x.sqlite3";
    cr_assert_eq(db_open_create(&cfg, &db), VF_ERR_CONFIG);
    cr_assert_null(db);
    cfg.db_name = (char *)"";
    cr_assert_eq(db_open_create(&cfg, &db), VF_ERR_CONFIG);
    db_close(NULL); /* NULL-safe */

    /* Only migrate creates a database: db_open() of a missing file leaves nothing behind. */
    char missing[] = "/tmp/vf-test-missing-XXXXXX";
    cr_assert_not_null(mkdtemp(missing));
    char path[64];
    snprintf(path, sizeof(path), "%s/gone.sqlite3", missing);
    cfg.db_name = path;
    char why[256] = "";
    cr_assert_eq(db_require(&cfg, why, sizeof(why)), VF_ERR_CONFIG);
    cr_assert_not_null(strstr(why, "DB_NAME="), "%s", why);
    cr_assert_eq(db_open(&cfg, &db), VF_ERR_NOTFOUND);
    cr_assert_null(db);
    cr_assert_eq(access(path, F_OK), -1, "db_open created %s", path);
    cr_assert_eq(db_open_create(&cfg, &db), VF_OK);
    db_close(db);
    cr_assert_eq(db_require(&cfg, why, sizeof(why)), VF_OK);
    unlink(path);
    char wal[80];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", path);
    unlink(wal);
    rmdir(missing);
}

DB_CASE(schema_change_under_a_cached_statement_is_picked_up)
{
    migrate_fixtures(fx);
    struct db *other = open2(fx, 5000);
    struct db_rows *r = NULL;
    int64_t id = insert(fx, "star", 1, NULL);
    cr_assert_eq(db_query(fx->db, STMT_TEST_GET_STAR, DB_ARGS(DB_INT(id)), &r), VF_OK);
    cr_assert_eq(db_rows_cols(r), 4);
    db_rows_free(r);
    /* another process migrates: the result type of the cached statement changes */
    cr_assert_eq(db_exec_script(other, "ALTER TABLE vf_test ADD COLUMN extra TEXT"), VF_OK);
    cr_assert_eq(db_query(fx->db, STMT_TEST_GET_STAR, DB_ARGS(DB_INT(id)), &r), VF_OK);
    cr_assert_eq(db_rows_cols(r), 5);
    db_rows_free(r);

    /* the same inside a transaction: PostgreSQL has aborted it (BUSY: retry), and the
     * retry, itself in a transaction, works */
    cr_assert_eq(db_exec_script(other, "ALTER TABLE vf_test ADD COLUMN extra2 TEXT"), VF_OK);
    cr_assert_eq(db_begin(fx->db), VF_OK);
    enum vf_err rc = db_query(fx->db, STMT_TEST_GET_STAR, DB_ARGS(DB_INT(id)), &r);
    if (rc == VF_ERR_BUSY) {
        cr_assert_eq(fx->engine, CONFIG_DB_POSTGRES);
        cr_assert_eq(db_rollback(fx->db), VF_OK);
        cr_assert_eq(db_begin(fx->db), VF_OK);
        rc = db_query(fx->db, STMT_TEST_GET_STAR, DB_ARGS(DB_INT(id)), &r);
    }
    cr_assert_eq(rc, VF_OK, "%s", vf_strerror(rc));
    cr_assert_eq(db_rows_cols(r), 6);
    db_rows_free(r);
    cr_assert_eq(db_commit(fx->db), VF_OK);
    db_close(other);
}

#endif /* VF_TEST_HOOKS */

/* The two texts of each statement take the same number of parameters (a ?3 that is
 * $2 in the other dialect would bind the wrong values on one engine only). */
static void
parameter_counts_agree(struct dbfixture *fx)
{
    struct config cfg = fx->cfg;
    char dir[] = "/tmp/vf-test-dialects-XXXXXX", path[96];
    struct db *lite = NULL;
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/d.sqlite3", dir);
    cfg.db_engine = CONFIG_DB_SQLITE;
    cfg.db_name = path;
    cr_assert_eq(db_open_create(&cfg, &lite), VF_OK);
    cr_assert_eq(db_migrate(lite, SCHEMA, NULL), VF_OK);
    cr_assert_eq(db_migrate(fx->db, SCHEMA, NULL), VF_OK);
    for (int id = 0; id < STMT__MAX; id++) {
        int a = -1, b = -2;
        if (test_only((enum stmt_id)id))
            continue;
        if (db_prepare(lite, (enum stmt_id)id, &a) != VF_OK ||
            db_prepare(fx->db, (enum stmt_id)id, &b) != VF_OK)
            continue; /* reported by real_schema_migrates_and_every_statement_prepares */
        cr_expect_eq(a, b, "%s: SQLite takes %d parameters, PostgreSQL %d", stmt_table[id].name, a,
                     b);
    }
    db_close(lite);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(dialects, parameter_counts_agree, .fini = dbfixture_fini)
{
    dbfixture_run(&fixture, CONFIG_DB_POSTGRES, parameter_counts_agree);
}

#ifdef VF_TEST_HOOKS /* cases on vf_test through the test statements */
DB_CASE(concurrent_writers_lose_nothing)
{
    enum { NPROC = 4, NTX = 150 };
    pid_t pids[NPROC];

    migrate_fixtures(fx);
    for (int i = 0; i < NPROC; i++) {
        pids[i] = fork();
        cr_assert_geq(pids[i], 0);
        if (pids[i] == 0) {
            struct db *db = NULL;
            char name[32];
            if (db_open_create(&fx->cfg, &db) != VF_OK)
                _exit(1);
            for (int t = 0; t < NTX; t++) {
                int64_t id = 0;
                snprintf(name, sizeof(name), "w%d-%d", i, t);
                enum vf_err rc = db_begin(db);
                if (rc == VF_OK)
                    rc = db_query_int(db, STMT_TEST_INSERT,
                                      DB_ARGS(DB_TEXT(name), DB_INT(t), DB_NULLV), &id);
                if (rc == VF_OK)
                    rc = db_exec(db, STMT_TEST_INCR, DB_ARGS(DB_TEXT("seed")), NULL);
                if (rc == VF_OK)
                    rc = db_commit(db);
                if (rc != VF_OK) {
                    db_rollback(db);
                    _exit(2);
                }
            }
            db_close(db);
            _exit(0);
        }
    }
    for (int i = 0; i < NPROC; i++) {
        int st = 0;
        cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d failed (status %d)", i,
                  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    cr_assert_eq(count(fx->db), 1 + NPROC * NTX);
    struct db_rows *r = NULL;
    cr_assert_eq(db_query(fx->db, STMT_TEST_BY_NAME, DB_ARGS(DB_TEXT("seed")), &r), VF_OK);
    cr_assert_eq(db_rows_int(r, 0, 2), 1 + NPROC * NTX, "no lost update");
    db_rows_free(r);
}

DB_CASE(postgres_session_is_named_and_cannot_idle_in_a_transaction)
{
    if (fx->engine != CONFIG_DB_POSTGRES)
        skip_case("PostgreSQL only");
    struct db_rows *r = NULL;
    cr_assert_eq(db_query(fx->db, STMT_TEST_SESSION, DB_NOARGS, &r), VF_OK);
    cr_assert_str_eq(db_rows_text(r, 0, 0), program_invocation_short_name, "got %s",
                     db_rows_text(r, 0, 0));
    cr_assert_str_eq(db_rows_text(r, 0, 1), "1min");
    db_rows_free(r);
}

DB_CASE(deadlock_victim_gets_busy_and_the_other_commits)
{
    if (fx->engine == CONFIG_DB_SQLITE)
        skip_case("SQLite: BEGIN IMMEDIATE serialises writers, no deadlock is possible");
    migrate_fixtures(fx);
    insert(fx, "other", 1, NULL);
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(db_begin(fx->db), VF_OK);
    cr_assert_eq(db_exec(fx->db, STMT_TEST_INCR, DB_ARGS(DB_TEXT("seed")), NULL), VF_OK);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct db *db = NULL;
        if (db_open_create(&fx->cfg, &db) != VF_OK || db_begin(db) != VF_OK ||
            db_exec(db, STMT_TEST_INCR, DB_ARGS(DB_TEXT("other")), NULL) != VF_OK)
            _exit(1);
        (void)!write(ready[1], "x", 1);
        enum vf_err rc = db_exec(db, STMT_TEST_INCR, DB_ARGS(DB_TEXT("seed")), NULL);
        if (rc == VF_OK)
            rc = db_commit(db);
        db_rollback(db);
        db_close(db);
        _exit(rc == VF_OK ? 10 : rc == VF_ERR_BUSY ? 11 : 12);
    }
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1);
    usleep(200 * 1000); /* let the child block on "seed" */
    enum vf_err rc = db_exec(fx->db, STMT_TEST_INCR, DB_ARGS(DB_TEXT("other")), NULL);
    if (rc == VF_OK)
        rc = db_commit(fx->db);
    db_rollback(fx->db);
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st));
    int child = WEXITSTATUS(st);
    cr_assert((rc == VF_ERR_BUSY && child == 10) || (rc == VF_OK && child == 11),
              "exactly one victim, and it gets BUSY (parent %s, child status %d)", vf_strerror(rc),
              child);
}

#endif /* VF_TEST_HOOKS */
