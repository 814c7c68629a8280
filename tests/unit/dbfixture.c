/* dbfixture.c -- unit tests' throwaway SQLite and PostgreSQL databases. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include "dbfixture.h"

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

struct dbfixture dbfixture_fx;

static char empty[] = "", postgres[] = "postgres";

/* Run one statement on the cluster's maintenance database; false if it cannot be reached. */
static bool
admin_exec(const struct dbfixture *fx, const char *sql, bool must)
{
    struct config cfg = fx->cfg;
    struct db *admin = NULL;
    cfg.db_name = postgres;
    if (must)
        cr_assert_eq(db_open_create(&cfg, &admin), VF_OK, "cannot reach PostgreSQL at %s:%d",
                     cfg.db_host, cfg.db_port);
    else if (db_open_create(&cfg, &admin) != VF_OK)
        return false;
    enum vf_err rc = db_exec_script(admin, sql);
    if (must)
        cr_assert_eq(rc, VF_OK, "%s: %s", sql, db_errmsg(admin));
    db_close(admin);
    return true;
}

static void
open_sqlite(struct dbfixture *fx, const char *tag)
{
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/vf-test-%s-XXXXXX", tag);
    cr_assert_not_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof(fx->path), "%s/test.sqlite3", fx->dir);
    fx->cfg.db_name = fx->path;
}

static void
open_postgres(struct dbfixture *fx, const char *tag)
{
    static unsigned seq;
    const char *host = getenv("VF_TEST_PG_HOST"), *port = getenv("VF_TEST_PG_PORT");
    const char *user = getenv("VF_TEST_PG_USER");
    char sql[160];

    if (host == NULL || host[0] == '\0') {
        fx->skip = "VF_TEST_PG_HOST not set: PostgreSQL cases skipped";
        return;
    }
    fx->cfg.db_host = (char *)host;
    fx->cfg.db_port = port != NULL ? (int)strtol(port, NULL, 10) : 5432;
    fx->cfg.db_user = user != NULL ? (char *)user : postgres;
    snprintf(fx->dbname, sizeof(fx->dbname), "vf_%s_%ld_%u_%ld", tag, (long)getpid(), seq++,
             (long)time(NULL) % 100000);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", fx->dbname);
    admin_exec(fx, sql, true);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", fx->dbname);
    admin_exec(fx, sql, true);
    fx->cfg.db_name = fx->dbname;
}

void
dbfixture_open(struct dbfixture *fx, enum config_db_engine engine,
               const struct dbfixture_setup *setup)
{
    char name[64];
    memset(fx, 0, sizeof(*fx));
    fx->engine = engine;
    fx->cfg.db_engine = engine;
    fx->cfg.db_busy_timeout_ms = 5000;
    fx->cfg.db_user = fx->cfg.db_password = fx->cfg.db_host = empty;
    fx->cfg.data_dir = fx->cfg.media_root = empty;
    snprintf(name, sizeof(name), "test_%s", setup->tag);
    log_init(name, CONFIG_LOG_ERROR);

    if (engine == CONFIG_DB_SQLITE)
        open_sqlite(fx, setup->tag);
    else
        open_postgres(fx, setup->tag);
    if (fx->skip != NULL)
        return;
    if (setup->clock_us != 0)
        clock_set_us(setup->clock_us);
    cr_assert_eq(db_open_create(&fx->cfg, &fx->db), VF_OK);
    if (setup->schema != NULL)
        cr_assert_eq(db_migrate(fx->db, setup->schema, NULL), VF_OK, "%s", db_errmsg(fx->db));
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

void
dbfixture_close(struct dbfixture *fx)
{
    clock_set_us(0);
    db_close(fx->db);
    fx->db = NULL;
    if (fx->dir[0] != '\0') {
        nftw(fx->dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
        fx->dir[0] = '\0';
    }
    if (fx->dbname[0] != '\0') {
        char sql[160];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", fx->dbname);
        admin_exec(fx, sql, false);
        fx->dbname[0] = '\0';
    }
}

void
dbfixture_skip(struct dbfixture *fx, const char *why)
{
    dbfixture_close(fx);
    cr_skip_test("%s", why);
}

void
dbfixture_run(const struct dbfixture_setup *setup, enum config_db_engine engine,
              void (*body)(struct dbfixture *fx))
{
    dbfixture_open(&dbfixture_fx, engine, setup);
    if (dbfixture_fx.skip != NULL)
        cr_skip_test("%s", dbfixture_fx.skip);
    body(&dbfixture_fx);
}

void
dbfixture_fini(void)
{
    dbfixture_close(&dbfixture_fx);
}
