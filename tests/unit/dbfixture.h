/* dbfixture.h -- unit tests' throwaway databases: one case run on SQLite and PostgreSQL alike. */
#ifndef VF_DBFIXTURE_H
#define VF_DBFIXTURE_H

#include <stdint.h>

#include <criterion/criterion.h>

#include "config.h"
#include "db.h"

/*
 * A case gets an open database of its own: SQLite in a fresh temp directory, or a fresh
 * database on the PostgreSQL cluster named by VF_TEST_PG_HOST/VF_TEST_PG_PORT/
 * VF_TEST_PG_USER (script/test starts one).  Without VF_TEST_PG_HOST the PostgreSQL
 * variant is skipped with a message.  Everything is removed again after the case.
 */
struct dbfixture {
    enum config_db_engine engine;
    struct config cfg; /* db_* settings of the open database; other strings are "" */
    char dir[64];      /* SQLite: temp directory */
    char path[128];    /* SQLite: database file */
    char dbname[64];   /* PostgreSQL: throwaway database */
    const char *skip;  /* why this case cannot run here, or NULL */
    struct db *db;     /* the open connection (NULL when skipped); owned by the fixture */
};

/* What one test program wants of its databases. */
struct dbfixture_setup {
    const char *tag;    /* names the log, temp directory and database: "job" */
    const char *schema; /* migrations applied after opening; NULL = an empty database */
    int64_t clock_us;   /* clock frozen here for the case (clock_set_us); 0 = real time */
};

/* The running case's fixture (criterion runs every case in a process of its own). */
extern struct dbfixture dbfixture_fx;

/* Open a database of this engine into *fx as setup says; criterion-asserts on failure.  On
 * PostgreSQL without VF_TEST_PG_HOST it only sets fx->skip.  Undo with dbfixture_close(). */
void dbfixture_open(struct dbfixture *fx, enum config_db_engine engine,
                    const struct dbfixture_setup *setup);
/* Close the connection, remove the temp directory or drop the database, unfreeze the clock.
 * Safe to call twice. */
void dbfixture_close(struct dbfixture *fx);
/* Skip the running case for this reason, cleaning up first (criterion runs no .fini after a
 * skip).  Does not return. */
void dbfixture_skip(struct dbfixture *fx, const char *why);
/* Open dbfixture_fx on this engine and run body on it (or skip the case). */
void dbfixture_run(const struct dbfixture_setup *setup, enum config_db_engine engine,
                   void (*body)(struct dbfixture *fx));
/* criterion .fini: dbfixture_close(&dbfixture_fx). */
void dbfixture_fini(void);

/* Define `static void name(struct dbfixture *fx)` once and register it as sqlite_suite/name
 * and pg_suite/name, each on a fresh database made as setup (a struct dbfixture_setup) says. */
#define DBFIXTURE_CASE(setup, sqlite_suite, pg_suite, name)                                        \
    static void name(struct dbfixture *fx);                                                        \
    Test(sqlite_suite, name, .fini = dbfixture_fini)                                               \
    {                                                                                              \
        dbfixture_run(&(setup), CONFIG_DB_SQLITE, name);                                           \
    }                                                                                              \
    Test(pg_suite, name, .fini = dbfixture_fini)                                                   \
    {                                                                                              \
        dbfixture_run(&(setup), CONFIG_DB_POSTGRES, name);                                         \
    }                                                                                              \
    static void name(struct dbfixture *fx)

#endif
