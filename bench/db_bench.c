/* db_bench.c -- latency of the database layer: point reads, autocommit and batched writes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"

/*
 * Usage: bench/db_bench [N]   (default 5000)
 * Configuration as for every program (.env, DB_ENGINE, DB_NAME...).  Migrates the
 * schema under VIDEOFLIX_DATA_DIR first and writes only rows "bench:*" of settings.
 * Run it on demand, never in the test suite: timings are not assertions.
 */

/* Seconds on the monotonic clock. */
static double
now_s(void)
{
    return (double)clock_mono_us() / 1e6;
}

static void
report(const char *what, int n, double secs)
{
    printf("%-34s %8d ops %9.0f ops/s %8.1f us/op\n", what, n, n / secs, secs * 1e6 / n);
}

static int
bench(struct db *db, int n)
{
    char key[64], val[64];
    double t;

    t = now_s();
    for (int i = 0; i < n; i++)
        if (db_ping(db) != VF_OK)
            return 1;
    report("ping (SELECT 1)", n, now_s() - t);

    t = now_s();
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "bench:%d", i % 100);
        snprintf(val, sizeof(val), "v%d", i);
        if (db_exec(db, STMT_SETTING_SET,
                    DB_ARGS(DB_TEXT(key), DB_TEXT(val), DB_INT(clock_now_us())), NULL) != VF_OK)
            return 1;
    }
    report("upsert, autocommit", n, now_s() - t);

    t = now_s();
    for (int i = 0; i < n; i += 100) {
        if (db_begin(db) != VF_OK)
            return 1;
        for (int j = i; j < i + 100 && j < n; j++) {
            snprintf(key, sizeof(key), "bench:%d", j % 100);
            snprintf(val, sizeof(val), "w%d", j);
            if (db_exec(db, STMT_SETTING_SET,
                        DB_ARGS(DB_TEXT(key), DB_TEXT(val), DB_INT(clock_now_us())),
                        NULL) != VF_OK) {
                db_rollback(db);
                return 1;
            }
        }
        if (db_commit(db) != VF_OK)
            return 1;
    }
    report("upsert, 100 per transaction", n, now_s() - t);

    t = now_s();
    for (int i = 0; i < n; i++) {
        struct db_rows *r = NULL;
        snprintf(key, sizeof(key), "bench:%d", i % 100);
        if (db_query(db, STMT_SETTING_GET, DB_ARGS(DB_TEXT(key)), &r) != VF_OK ||
            db_rows_count(r) != 1) {
            db_rows_free(r);
            return 1;
        }
        db_rows_free(r);
    }
    report("point read (materialised)", n, now_s() - t);
    return 0;
}

int
main(int argc, char **argv)
{
    char err[512], dir[4096];
    struct config *cfg = NULL;
    struct db *db = NULL;
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 5000;

    if (n <= 0 || n > 100000000) {
        fprintf(stderr, "usage: db_bench [N]\n");
        return 2;
    }
    if (config_load(NULL, &cfg, err, sizeof(err)) != VF_OK) {
        fprintf(stderr, "db_bench: configuration: %s\n", err);
        return 1;
    }
    log_init("db_bench", cfg->log_level);
    snprintf(dir, sizeof(dir), "%s/schema", cfg->data_dir);
    if (db_open_create(cfg, &db) != VF_OK || db_migrate(db, dir, NULL) != VF_OK) {
        db_close(db);
        config_free(cfg);
        return 1;
    }
    printf("engine: %s, N=%ld\n", cfg->db_engine == CONFIG_DB_POSTGRES ? "postgres" : "sqlite", n);
    int rc = bench(db, (int)n);
    if (rc != 0)
        fprintf(stderr, "db_bench: failed: %s\n", db_errmsg(db));
    db_close(db);
    config_free(cfg);
    return rc;
}
