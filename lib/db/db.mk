## lib/db/db.mk -- layer 2: the database interface, its SQLite and PostgreSQL backends, the
## statement table (sql/*.def, both dialects side by side) and migrations (schema/).
noinst_LIBRARIES += lib/db/libvfdb.a
lib_db_libvfdb_a_SOURCES = \
	lib/db/db.c lib/db/db.h lib/db/db_impl.h lib/db/db_sqlite.c \
	lib/db/stmt.c lib/db/stmt.h lib/db/sql/core.def lib/db/sql/accounts.def \
	lib/db/sql/jobs.def lib/db/sql/catalogue.def lib/db/sql/admin.def \
	lib/db/sql/test.def
if HAVE_POSTGRESQL
lib_db_libvfdb_a_SOURCES += lib/db/db_pg.c
endif
lib_db_libvfdb_a_CPPFLAGS = $(VF_DEFS) $(DB_CPPFLAGS)
# db_pg.c is linted even where configure left it out (lint needs libpq's headers).
lint_sources += $(filter %.c,$(lib_db_libvfdb_a_SOURCES)) lib/db/db_pg.c
