## lib/db.mk -- the database layer: interface, SQLite and PostgreSQL backends, migrations.
lib_libvideoflix_a_SOURCES += lib/db.c lib/db.h lib/db_impl.h lib/db_sqlite.c
if HAVE_POSTGRESQL
lib_libvideoflix_a_SOURCES += lib/db_pg.c
endif
lint_sources += lib/db.c lib/db_sqlite.c bench/db_bench.c
if HAVE_POSTGRESQL
lint_sources += lib/db_pg.c
endif

# Migrations are installed with the rest of $(pkgdatadir) by the top Makefile.am
# (EXTRA_DIST schema); tests/fixtures/schema holds test-only migrations.
EXTRA_DIST += tests/fixtures/schema

if HAVE_CRITERION
check_PROGRAMS += tests/unit/test_db
# tests/unit/dbfixture.{c,h}: a throwaway SQLite/PostgreSQL database per case, shared by
# every unit test that runs its cases on both engines (test_job, test_catalogue too).
tests_unit_test_db_SOURCES = tests/unit/test_db.c tests/unit/dbfixture.c tests/unit/dbfixture.h
tests_unit_test_db_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_db_LDADD = $(UNIT_LDADD)
lint_sources += tests/unit/test_db.c tests/unit/dbfixture.c
endif

# Latency of the database layer (bench/db_bench [N]; run on demand, not a test).
noinst_PROGRAMS += bench/db_bench
bench_db_bench_SOURCES = bench/db_bench.c
