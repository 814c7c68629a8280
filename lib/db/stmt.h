/* stmt.h -- the table of every SQL statement, both dialects side by side. */
#ifndef VF_STMT_H
#define VF_STMT_H

/*
 * Statements are declared in lib/db/sql/<area>.def as
 *     STMT(STMT_NAME, "sqlite text", "postgres text")
 * and gathered here into one enum and one table, so all SQL lives in one place.
 */
enum stmt_id {
#define STMT(id, sqlite_sql, pg_sql) id,
#include "sql/core.def"
#include "sql/accounts.def"
#include "sql/jobs.def"
#include "sql/catalogue.def"
#include "sql/admin.def"
#ifdef VF_TEST_HOOKS
#include "sql/test.def"
#endif
#undef STMT
    STMT__MAX
};

struct stmt_def {
    const char *name;
    const char *sqlite;
    const char *pg;
};

extern const struct stmt_def stmt_table[STMT__MAX];

#endif
