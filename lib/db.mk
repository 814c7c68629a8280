## lib/db.mk -- the database layer: interface, SQLite and PostgreSQL backends, migrations.
lib_libvideoflix_a_SOURCES += lib/db.c lib/db.h lib/db_impl.h lib/db_sqlite.c
if HAVE_POSTGRESQL
lib_libvideoflix_a_SOURCES += lib/db_pg.c
endif
