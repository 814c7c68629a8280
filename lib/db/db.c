/* db.c -- the database interface: dispatch to a backend, logging, results, migrations. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "db_impl.h"
#include "log.h"

/* Biggest migration file we read: migrations are small, anything bigger is a mistake. */
#define MIGRATION_MAX_BYTES (1024 * 1024)

static const struct db_ops *
ops_for(enum config_db_engine engine)
{
    switch (engine) {
    case CONFIG_DB_SQLITE:
        return &db_sqlite_ops;
    case CONFIG_DB_POSTGRES:
#ifdef HAVE_POSTGRESQL
        return &db_pg_ops;
#else
        return NULL;
#endif
    }
    return NULL;
}

/* Log a failed operation once: conflicts are expected business outcomes (debug),
 * busy is transient (warn), anything else is an error.  Never the bound values. */
static enum vf_err
failed(const struct db *db, const char *what, enum vf_err err)
{
    if (err == VF_OK)
        return err;
    const char *msg = db->errmsg[0] != '\0' ? db->errmsg : vf_strerror(err);
    if (err == VF_ERR_CONFLICT)
        log_debug("db %s: %s: %s", what, vf_strerror(err), msg);
    else if (err == VF_ERR_BUSY)
        log_warn("db %s: %s: %s", what, vf_strerror(err), msg);
    else
        log_error("db %s: %s: %s", what, vf_strerror(err), msg);
    return err;
}

void
db_set_errmsg(struct db *db, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(db->errmsg, sizeof(db->errmsg), fmt, ap);
    va_end(ap);
    /* One line: backend messages (libpq) end with newlines and may contain more. */
    for (char *c = db->errmsg; *c != '\0'; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    size_t n = strlen(db->errmsg);
    while (n > 0 && db->errmsg[n - 1] == ' ')
        db->errmsg[--n] = '\0';
}

static enum vf_err
open_db(const struct config *cfg, bool create, struct db **out)
{
    char err[512] = "";

    *out = NULL;
    const struct db_ops *ops = ops_for(cfg->db_engine);
    if (ops == NULL) {
        log_error("db: DB_ENGINE=postgres but this build has no PostgreSQL support "
                  "(configure --with-postgresql)");
        return VF_ERR_CONFIG;
    }
    struct db *db = NULL;
    enum vf_err rc = ops->open(cfg, create, &db, err, sizeof(err));
    if (rc != VF_OK) {
        log_error("db: cannot open %s database: %s", ops->name, err[0] ? err : vf_strerror(rc));
        return rc;
    }
    db->ops = ops;
    db->engine = cfg->db_engine;
    *out = db;
    return VF_OK;
}

enum vf_err
db_open(const struct config *cfg, struct db **out)
{
    return open_db(cfg, false, out);
}

enum vf_err
db_open_create(const struct config *cfg, struct db **out)
{
    return open_db(cfg, true, out);
}

enum vf_err
db_require(const struct config *cfg, char *err, size_t errlen)
{
    struct stat st;
    if (cfg->db_engine != CONFIG_DB_SQLITE || strcmp(cfg->db_name, ":memory:") == 0)
        return VF_OK;
    if (stat(cfg->db_name, &st) == 0 && S_ISREG(st.st_mode))
        return VF_OK;
    snprintf(err, errlen, "DB_NAME=%s: %s (videoflixctl migrate creates the database)",
             cfg->db_name, errno != 0 && !S_ISREG(st.st_mode) ? strerror(errno) : "not a file");
    return VF_ERR_CONFIG;
}

void
db_close(struct db *db)
{
    if (db != NULL)
        db->ops->close(db);
}

enum config_db_engine
db_engine(const struct db *db)
{
    return db->engine;
}

static enum vf_err
check_args(struct db *db, enum stmt_id id, const struct db_param *p, size_t np)
{
    if ((unsigned)id >= STMT__MAX) {
        db_set_errmsg(db, "statement id %d out of range", (int)id);
        return failed(db, "?", VF_ERR_INTERNAL);
    }
    if (np > 0 && p == NULL) {
        db_set_errmsg(db, "%zu parameters but no array", np);
        return failed(db, stmt_table[id].name, VF_ERR_INTERNAL);
    }
    return VF_OK;
}

enum vf_err
db_exec(struct db *db, enum stmt_id id, const struct db_param *p, size_t np, int64_t *changes)
{
    enum vf_err rc = check_args(db, id, p, np);

    if (changes != NULL)
        *changes = 0;
    if (rc != VF_OK)
        return rc;
    db->errmsg[0] = '\0';
    return failed(db, stmt_table[id].name, db->ops->exec(db, id, p, np, changes));
}

enum vf_err
db_query(struct db *db, enum stmt_id id, const struct db_param *p, size_t np, struct db_rows **out)
{
    enum vf_err rc = check_args(db, id, p, np);

    *out = NULL;
    if (rc != VF_OK)
        return rc;
    db->errmsg[0] = '\0';
    rc = db->ops->query(db, id, p, np, out);
    if (rc != VF_OK) {
        db_rows_free(*out);
        *out = NULL;
    }
    return failed(db, stmt_table[id].name, rc);
}

enum vf_err
db_prepare(struct db *db, enum stmt_id id, int *nparams)
{
    enum vf_err rc = check_args(db, id, NULL, 0);

    *nparams = 0;
    if (rc != VF_OK)
        return rc;
    db->errmsg[0] = '\0';
    return failed(db, stmt_table[id].name, db->ops->prepare(db, id, nparams));
}

enum vf_err
db_query_list(struct db *db, enum stmt_id id, const struct db_param *p, size_t np, size_t elem_size,
              void (*row)(const struct db_rows *r, size_t i, void *elem), void **out, size_t *n)
{
    struct db_rows *r = NULL;
    *out = NULL;
    *n = 0;
    enum vf_err e = db_query(db, id, p, np, &r);
    if (e != VF_OK)
        return e;
    size_t cnt = db_rows_count(r);
    if (cnt > 0) {
        char *arr = calloc(cnt, elem_size);
        if (arr == NULL) {
            db_rows_free(r);
            return VF_ERR_NOMEM;
        }
        for (size_t i = 0; i < cnt; i++)
            row(r, i, arr + i * elem_size);
        *out = arr;
        *n = cnt;
    }
    db_rows_free(r);
    return VF_OK;
}

enum vf_err
db_query_row(struct db *db, enum stmt_id id, const struct db_param *p, size_t np,
             struct db_rows **out)
{
    enum vf_err rc = db_query(db, id, p, np, out);

    if (rc == VF_OK && (db_rows_count(*out) == 0 || db_rows_cols(*out) == 0)) {
        db_rows_free(*out);
        *out = NULL;
        rc = VF_ERR_NOTFOUND;
    }
    return rc;
}

enum vf_err
db_query_int(struct db *db, enum stmt_id id, const struct db_param *p, size_t np, int64_t *out)
{
    struct db_rows *r = NULL;
    enum vf_err rc = db_query_row(db, id, p, np, &r);

    *out = rc == VF_OK ? db_rows_int(r, 0, 0) : 0;
    db_rows_free(r);
    return rc;
}

struct db_rows *
db_rows_alloc(size_t ncols)
{
    struct db_rows *r = calloc(1, sizeof(*r));

    if (r != NULL)
        r->ncols = ncols;
    return r;
}

char **
db_rows_addrow(struct db_rows *r)
{
    if (r->nrows == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        size_t cells = cap * (r->ncols ? r->ncols : 1);
        char **c = realloc(r->cells, cells * sizeof(*c));
        if (c == NULL)
            return NULL;
        r->cells = c;
        r->cap = cap;
    }
    char **row = r->cells + r->nrows * r->ncols;
    for (size_t i = 0; i < r->ncols; i++)
        row[i] = NULL;
    r->nrows++;
    return row;
}

char *
db_strndup(const char *s, size_t len)
{
    char *d = malloc(len + 1);

    if (d != NULL) {
        if (len > 0)
            memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

size_t
db_rows_count(const struct db_rows *r)
{
    return r != NULL ? r->nrows : 0;
}

size_t
db_rows_cols(const struct db_rows *r)
{
    return r != NULL ? r->ncols : 0;
}

const char *
db_rows_text(const struct db_rows *r, size_t row, size_t col)
{
    if (r == NULL || row >= r->nrows || col >= r->ncols)
        return NULL;
    return r->cells[row * r->ncols + col];
}

int64_t
db_rows_int(const struct db_rows *r, size_t row, size_t col)
{
    const char *s = db_rows_text(r, row, col);

    if (s == NULL)
        return 0;
    return (int64_t)strtoll(s, NULL, 10);
}

bool
db_rows_isnull(const struct db_rows *r, size_t row, size_t col)
{
    return db_rows_text(r, row, col) == NULL;
}

void
db_rows_free(struct db_rows *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nrows * r->ncols; i++)
        free(r->cells[i]);
    free(r->cells);
    free(r);
}

enum vf_err
db_begin(struct db *db)
{
    db->errmsg[0] = '\0';
    if (db->ops->in_transaction(db)) {
        db_set_errmsg(db, "transaction already open (not nestable)");
        return failed(db, "BEGIN", VF_ERR_INTERNAL);
    }
    return failed(db, "BEGIN", db->ops->begin(db));
}

enum vf_err
db_commit(struct db *db)
{
    db->errmsg[0] = '\0';
    return failed(db, "COMMIT", db->ops->commit(db));
}

enum vf_err
db_rollback(struct db *db)
{
    db->errmsg[0] = '\0';
    return failed(db, "ROLLBACK", db->ops->rollback(db));
}

bool
db_in_transaction(const struct db *db)
{
    return db->ops->in_transaction(db);
}

enum vf_err
db_ping(struct db *db)
{
    db->errmsg[0] = '\0';
    return failed(db, "ping", db->ops->ping(db));
}

enum vf_err
db_exec_script(struct db *db, const char *sql)
{
    db->errmsg[0] = '\0';
    return failed(db, "script", db->ops->exec_script(db, sql));
}

enum vf_err
db_listen(struct db *db, const char *channel)
{
    db->errmsg[0] = '\0';
    return failed(db, "LISTEN", db->ops->listen(db, channel));
}

enum vf_err
db_notify(struct db *db, const char *channel)
{
    db->errmsg[0] = '\0';
    return failed(db, "NOTIFY", db->ops->notify(db, channel));
}

enum vf_err
db_wait(struct db *db, int timeout_ms)
{
    db->errmsg[0] = '\0';
    enum vf_err rc = db->ops->wait(db, timeout_ms);
    return rc == VF_ERR_TIMEOUT ? rc : failed(db, "wait", rc);
}

const char *
db_errmsg(const struct db *db)
{
    return db->ops->errmsg(db);
}

/* ---- migrations ------------------------------------------------------------------ */

struct migration {
    int version;
    char file[256]; /* NNN_name.sql */
    char name[256]; /* name */
};

static int
migration_cmp(const void *a, const void *b)
{
    const struct migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

/* Parse "NNN_name.sql" (digits, underscore, [A-Za-z0-9_-]+, ".sql"); false otherwise. */
static bool
parse_migration_name(const char *file, struct migration *m)
{
    const char *p = file;
    long v = 0;

    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        if (v > 999999)
            return false;
        p++;
    }
    if (*p++ != '_')
        return false;
    const char *name = p;
    size_t len = strlen(name);
    if (len <= 4 || strcmp(name + len - 4, ".sql") != 0 || len - 4 >= sizeof(m->name) ||
        strlen(file) >= sizeof(m->file))
        return false;
    for (size_t i = 0; i < len - 4; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    m->version = (int)v;
    memcpy(m->name, name, len - 4);
    m->name[len - 4] = '\0';
    snprintf(m->file, sizeof(m->file), "%s", file);
    return true;
}

/* The migrations in `dir`, sorted by version; caller frees *out.  Two files with the
 * same number are refused. */
static enum vf_err
list_migrations(const char *dir, struct migration **out, size_t *n)
{
    DIR *d = opendir(dir);
    struct migration *v = NULL;
    size_t len = 0, cap = 0;

    *out = NULL;
    *n = 0;
    if (d == NULL) {
        log_error("db migrate: cannot open %s: %s", dir, strerror(errno));
        return VF_ERR_IO;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        struct migration m;
        if (!parse_migration_name(e->d_name, &m))
            continue;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct migration *nv = realloc(v, ncap * sizeof(*nv));
            if (nv == NULL) {
                closedir(d);
                free(v);
                return VF_ERR_NOMEM;
            }
            v = nv;
            cap = ncap;
        }
        v[len++] = m;
    }
    closedir(d);
    if (len > 0)
        qsort(v, len, sizeof(*v), migration_cmp);
    for (size_t i = 1; i < len; i++) {
        if (v[i].version == v[i - 1].version) {
            log_error("db migrate: %s and %s in %s have the same number", v[i - 1].file, v[i].file,
                      dir);
            free(v);
            return VF_ERR_CONFIG;
        }
    }
    *out = v;
    *n = len;
    return VF_OK;
}

/* Whole file as a NUL-terminated malloc'd string. */
static enum vf_err
read_file(const char *path, char **out)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;

    *out = NULL;
    if (fp == NULL) {
        log_error("db migrate: cannot open %s: %s", path, strerror(errno));
        return VF_ERR_IO;
    }
    buf = malloc(MIGRATION_MAX_BYTES + 1);
    if (buf == NULL) {
        fclose(fp);
        return VF_ERR_NOMEM;
    }
    len = fread(buf, 1, MIGRATION_MAX_BYTES + 1, fp);
    bool bad = ferror(fp) != 0;
    fclose(fp);
    if (bad || len > MIGRATION_MAX_BYTES) {
        log_error("db migrate: cannot read %s (%s)", path, bad ? "read error" : "too large");
        free(buf);
        return VF_ERR_IO;
    }
    buf[len] = '\0';
    *out = buf;
    return VF_OK;
}

/* Apply one migration in its own transaction, unless another process did meanwhile.
 * *done is set when this call applied it. */
static enum vf_err
apply_one(struct db *db, const char *dir, const struct migration *m, bool *done)
{
    char path[4096];
    char *sql = NULL;
    int64_t n = 0;
    enum vf_err rc;

    *done = false;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, m->file) >= sizeof(path))
        return VF_ERR_IO;
    rc = read_file(path, &sql);
    if (rc != VF_OK)
        return rc;
    /* SQLite: BEGIN IMMEDIATE is the lock; PostgreSQL: the advisory lock is held. */
    rc = db_begin(db);
    if (rc == VF_OK)
        rc = db_query_int(db, STMT_MIGRATION_EXISTS, DB_ARGS(DB_INT(m->version)), &n);
    if (rc == VF_OK && n == 0) {
        rc = db_exec_script(db, sql);
        if (rc != VF_OK)
            log_error("db migrate: %s failed", path);
        if (rc == VF_OK && !db_in_transaction(db)) {
            /* Its changes are committed but unrecorded: the author must fix the file. */
            log_error("db migrate: %s ended the migration's transaction: a migration must "
                      "not contain BEGIN, COMMIT or ROLLBACK",
                      path);
            rc = VF_ERR_CONFIG;
        }
        if (rc == VF_OK)
            rc = db_exec(db, STMT_MIGRATION_RECORD,
                         DB_ARGS(DB_INT(m->version), DB_TEXT(m->name), DB_INT(clock_now_us())),
                         NULL);
        if (rc == VF_OK) {
            rc = db_commit(db);
            *done = rc == VF_OK;
        }
    }
    if (db_in_transaction(db))
        db_rollback(db);
    free(sql);
    return rc;
}

enum vf_err
db_migrate_report(struct db *db, const char *schema_dir,
                  void (*on_applied)(int version, const char *name, void *arg), void *arg,
                  int *applied)
{
    char dir[4096];
    struct migration *ms = NULL;
    size_t nms = 0;
    enum vf_err rc;

    if (applied != NULL)
        *applied = 0;
    if (db_in_transaction(db)) {
        log_error("db migrate: called inside a transaction");
        return VF_ERR_INTERNAL;
    }
    if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", schema_dir,
                         db->engine == CONFIG_DB_POSTGRES ? "postgres" : "sqlite") >= sizeof(dir))
        return VF_ERR_IO;
    rc = list_migrations(dir, &ms, &nms);
    if (rc != VF_OK)
        return rc;

    /* PostgreSQL: one migrator at a time across hosts (session advisory lock); SQLite:
     * a no-op, each migration takes the write lock and re-checks. */
    rc = db_exec(db, STMT_MIGRATION_LOCK, DB_NOARGS, NULL);
    if (rc != VF_OK) {
        free(ms);
        return rc;
    }
    rc = db_exec_script(db, db->engine == CONFIG_DB_POSTGRES
                                ? stmt_table[STMT_MIGRATION_INIT].pg
                                : stmt_table[STMT_MIGRATION_INIT].sqlite);
    for (size_t i = 0; rc == VF_OK && i < nms; i++) {
        bool done = false;
        rc = apply_one(db, dir, &ms[i], &done);
        if (rc == VF_OK && done) {
            log_info("db migrate: applied %s", ms[i].file);
            if (applied != NULL)
                (*applied)++;
            if (on_applied != NULL)
                on_applied(ms[i].version, ms[i].name, arg);
        }
    }
    /* Recorded versions with no file: this database is newer than this program. */
    if (rc == VF_OK) {
        struct db_rows *r = NULL;
        if (db_query(db, STMT_MIGRATION_LIST, DB_NOARGS, &r) == VF_OK) {
            for (size_t i = 0; i < db_rows_count(r); i++) {
                struct migration key = { .version = (int)db_rows_int(r, i, 0) };
                if (nms == 0 || bsearch(&key, ms, nms, sizeof(*ms), migration_cmp) == NULL)
                    log_warn("db migrate: version %d is recorded but has no file in %s",
                             key.version, dir);
            }
        }
        db_rows_free(r);
    }
    enum vf_err urc = db_exec(db, STMT_MIGRATION_UNLOCK, DB_NOARGS, NULL);
    free(ms);
    return rc != VF_OK ? rc : urc;
}

enum vf_err
db_migrations_pending(struct db *db, const char *schema_dir, int *pending)
{
    char dir[4096];
    struct migration *ms = NULL;
    size_t nms = 0;
    int64_t exists = 0;
    struct db_rows *r = NULL;

    *pending = 0;
    if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", schema_dir,
                         db->engine == CONFIG_DB_POSTGRES ? "postgres" : "sqlite") >= sizeof(dir))
        return VF_ERR_IO;
    enum vf_err rc = list_migrations(dir, &ms, &nms);
    if (rc == VF_OK)
        rc = db_query_int(db, STMT_MIGRATION_TABLE_EXISTS, DB_NOARGS, &exists);
    if (rc == VF_OK && exists > 0)
        rc = db_query(db, STMT_MIGRATION_LIST, DB_NOARGS, &r);
    if (rc == VF_OK) {
        for (size_t i = 0; i < nms; i++) {
            bool found = false;
            for (size_t j = 0; !found && j < db_rows_count(r); j++)
                found = db_rows_int(r, j, 0) == ms[i].version;
            if (!found)
                (*pending)++;
        }
    }
    db_rows_free(r);
    free(ms);
    return rc;
}

enum vf_err
db_migrate(struct db *db, const char *schema_dir, int *applied)
{
    return db_migrate_report(db, schema_dir, NULL, NULL, applied);
}
