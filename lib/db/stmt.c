/* stmt.c -- the statement table, built from lib/db/sql/ *.def. */
#include "autoconf.h"

#include "stmt.h"

const struct stmt_def stmt_table[STMT__MAX] = {
#define STMT(id, sqlite_sql, pg_sql) [id] = { #id, sqlite_sql, pg_sql },
#include "sql/core.def"
#include "sql/accounts.def"
#include "sql/jobs.def"
#include "sql/catalogue.def"
#include "sql/admin.def"
#ifdef VF_TEST_HOOKS
#include "sql/test.def"
#endif
#undef STMT
};
