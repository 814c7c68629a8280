/* db_impl.h -- what a database backend implements: the method table behind db.h. */
#ifndef VF_DB_IMPL_H
#define VF_DB_IMPL_H

#include "db.h"

/*
 * A backend allocates its own connection struct with `struct db` as its first
 * member and returns a pointer to that member from open().  Methods return the
 * mapped error and leave the backend's message in db->errmsg; db.c logs it (with
 * the statement name, never the bound values).  db.c has already checked the
 * arguments (statement id in range, p non-NULL when np > 0).
 */
struct db_ops {
    const char *name;
    /* create: SQLite may create a missing file (videoflixctl migrate only); else a missing
     * file is VF_ERR_NOTFOUND.  PostgreSQL ignores it (databases are made by the DBA). */
    enum vf_err (*open)(const struct config *cfg, bool create, struct db **out, char *err,
                        size_t errlen);
    void (*close)(struct db *db);
    enum vf_err (*prepare)(struct db *db, enum stmt_id id, int *nparams);
    enum vf_err (*exec)(struct db *db, enum stmt_id id, const struct db_param *p, size_t np,
                        int64_t *changes);
    enum vf_err (*query)(struct db *db, enum stmt_id id, const struct db_param *p, size_t np,
                         struct db_rows **out);
    enum vf_err (*begin)(struct db *db);
    enum vf_err (*commit)(struct db *db); /* on failure the transaction is rolled back */
    enum vf_err (*rollback)(struct db *db);
    bool (*in_transaction)(const struct db *db);
    enum vf_err (*ping)(struct db *db);
    enum vf_err (*exec_script)(struct db *db, const char *sql);
    enum vf_err (*listen)(struct db *db, const char *channel);
    enum vf_err (*notify)(struct db *db, const char *channel);
    enum vf_err (*wait)(struct db *db, int timeout_ms);
    const char *(*errmsg)(const struct db *db);
};

struct db {
    const struct db_ops *ops;
    enum config_db_engine engine;
    char errmsg[512]; /* last backend message, one line */
};

/* Materialised result: rows x cols of NUL-terminated text, NULL for SQL NULL. */
struct db_rows {
    size_t nrows, ncols, cap; /* cap: rows allocated */
    char **cells;             /* cells[row * ncols + col], each malloc'd */
};

/* A result with `ncols` columns and no rows yet; NULL when out of memory. */
struct db_rows *db_rows_alloc(size_t ncols);
/* Append a row; returns its ncols cells (all NULL) to fill with malloc'd strings, or
 * NULL when out of memory. */
char **db_rows_addrow(struct db_rows *r);
/* A malloc'd copy of `len` bytes of `s` with a NUL appended; NULL when out of memory. */
char *db_strndup(const char *s, size_t len);
/* Set db->errmsg (printf-style, truncated, trailing newlines removed). */
void db_set_errmsg(struct db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

extern const struct db_ops db_sqlite_ops;
#ifdef HAVE_POSTGRESQL
extern const struct db_ops db_pg_ops;
#endif

#endif
