/* db_pg.c -- the PostgreSQL backend (libpq): lazy prepared statements, reconnect, LISTEN/NOTIFY. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "clock.h"
#include "db_impl.h"
#include "log.h"

#define PG_CONNECT_TIMEOUT "5" /* seconds; libpq's connect_timeout */
#define PG_SESSION_OPTIONS "-c idle_in_transaction_session_timeout=60s"
#define PG_MAX_PARAMS      64
#define PG_MAX_CHANNELS    8
#define PG_RETRY_MS        1000 /* between reconnect attempts to an unreachable server */

struct db_pg {
    struct db base; /* first: the backend is reached by casting */
    PGconn *conn;
    bool prepared[STMT__MAX];           /* per connection: cleared on reconnect */
    unsigned gen[STMT__MAX];            /* replacements of a stale statement (server_name) */
    int nparams[STMT__MAX];             /* as the server described the statement */
    bool in_tx;                         /* BEGIN issued and not yet ended by us */
    bool tx_lost;                       /* the connection died inside a transaction */
    char channels[PG_MAX_CHANNELS][64]; /* LISTENed, re-issued after a reconnect */
    size_t nchannels;
    int64_t retry_at_ms; /* CLOCK_MONOTONIC: no reconnect attempt before this */
};

static struct db_pg *
P(struct db *db)
{
    return (struct db_pg *)db;
}

/* Is this SQLSTATE (or a dead connection) worth a retry?  Serialization failure,
 * deadlock, lock timeout, admin shutdown, connection exceptions. */
static bool
sqlstate_busy(const char *st)
{
    if (st == NULL)
        return false;
    return strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "55P03") == 0 ||
           strcmp(st, "57P01") == 0 || (strncmp(st, "08", 2) == 0 && strcmp(st, "08P01") != 0);
}

/* A dead connection: forget the prepared statements; remember a lost transaction so
 * that nothing later runs outside the transaction the caller thinks it is in. */
static void
mark_broken(struct db_pg *pg)
{
    if (pg->in_tx)
        pg->tx_lost = true;
    pg->in_tx = false;
    memset(pg->prepared, 0, sizeof(pg->prepared));
}

/* Map a failed result (res may be NULL) to our error and set errmsg.  The message is
 * the primary one only: libpq's full text carries DETAIL lines that quote values
 * ("Key (email)=(...) already exists"), which must never reach a log. */
static enum vf_err
map(struct db_pg *pg, const PGresult *res)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (PQstatus(pg->conn) == CONNECTION_BAD) {
        db_set_errmsg(&pg->base, "connection lost: %s", PQerrorMessage(pg->conn));
        mark_broken(pg);
        return VF_ERR_BUSY;
    }
    if (state != NULL && strncmp(state, "22", 2) == 0) {
        /* Data exceptions quote the offending input: log the code only. */
        db_set_errmsg(&pg->base, "data exception (SQLSTATE %s)", state);
        return VF_ERR_DB;
    }
    if (primary != NULL)
        db_set_errmsg(&pg->base, "%s (SQLSTATE %s)", primary, state ? state : "?");
    else
        db_set_errmsg(&pg->base, "%s", PQerrorMessage(pg->conn));
    if (state != NULL && strncmp(state, "23", 2) == 0)
        return VF_ERR_CONFLICT;
    /* A dead connection was handled above (PQstatus); one that survives keeps its
     * prepared statements. */
    if (state != NULL && sqlstate_busy(state))
        return VF_ERR_BUSY;
    if (state != NULL && strcmp(state, "53200") == 0)
        return VF_ERR_NOMEM;
    return VF_ERR_DB;
}

static bool
ok_status(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Run a parameterless command; VF_OK or the mapped error.  *res_out (may be NULL)
 * gets the result on success. */
static enum vf_err
simple(struct db_pg *pg, const char *sql, PGresult **res_out)
{
    PGresult *res = PQexec(pg->conn, sql);
    enum vf_err e = res != NULL && ok_status(res) ? VF_OK : map(pg, res);

    if (e == VF_OK && res_out != NULL) {
        *res_out = res;
        return VF_OK;
    }
    PQclear(res);
    return e;
}

static enum vf_err
listen_channel(struct db_pg *pg, const char *channel)
{
    char *ident = PQescapeIdentifier(pg->conn, channel, strlen(channel));
    char sql[160];

    if (ident == NULL) {
        db_set_errmsg(&pg->base, "bad channel name");
        return VF_ERR_INVALID;
    }
    int n = snprintf(sql, sizeof(sql), "LISTEN %s", ident);
    PQfreemem(ident);
    if (n < 0 || (size_t)n >= sizeof(sql)) {
        db_set_errmsg(&pg->base, "channel name too long");
        return VF_ERR_INVALID;
    }
    return simple(pg, sql, NULL);
}

/* Make sure the connection is usable: reconnect a broken one (and re-LISTEN).
 * Prepared statements are re-prepared lazily afterwards. */
static enum vf_err
ensure(struct db_pg *pg)
{
    if (PQstatus(pg->conn) == CONNECTION_OK && !pg->tx_lost)
        return VF_OK;
    if (pg->in_tx || pg->tx_lost) {
        mark_broken(pg); /* never reconnect under a caller's open transaction */
        db_set_errmsg(&pg->base, "connection lost inside a transaction; roll back first");
        return VF_ERR_BUSY;
    }
    mark_broken(pg);
    /* While the server is unreachable, try at most once a second: each attempt can
     * block for connect_timeout. */
    int64_t now = clock_mono_ms();
    if (now < pg->retry_at_ms) {
        db_set_errmsg(&pg->base, "not connected (next attempt in %lld ms)",
                      (long long)(pg->retry_at_ms - now));
        return VF_ERR_BUSY;
    }
    PQreset(pg->conn);
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        pg->retry_at_ms = clock_mono_ms() + PG_RETRY_MS;
        db_set_errmsg(&pg->base, "reconnect failed: %s", PQerrorMessage(pg->conn));
        return VF_ERR_BUSY;
    }
    pg->retry_at_ms = 0;
    for (size_t i = 0; i < pg->nchannels; i++) {
        enum vf_err e = listen_channel(pg, pg->channels[i]);
        if (e != VF_OK)
            return e;
    }
    return VF_OK;
}

static void pg_close(struct db *db);

/* Server NOTICEs ("relation ... already exists, skipping") go to the debug log, not
 * to libpq's default stderr. */
static void
notice(void *arg, const char *msg)
{
    (void)arg;
    log_debug("db: postgres notice: %.200s", msg);
}

static enum vf_err
pg_open(const struct config *cfg, bool create, struct db **out, char *err, size_t errlen)
{
    (void)create;
    const char *keys[16], *vals[16];
    char port[16];
    size_t n = 0;

    *out = NULL;
    struct db_pg *pg = calloc(1, sizeof(*pg));
    if (pg == NULL)
        return VF_ERR_NOMEM;
    pg->base.engine = CONFIG_DB_POSTGRES;
    snprintf(port, sizeof(port), "%d", cfg->db_port > 0 ? cfg->db_port : 5432);
    /* DB_HOST starting with '/' is a unix socket directory: libpq understands that. */
    if (cfg->db_host != NULL && cfg->db_host[0] != '\0') {
        keys[n] = "host";
        vals[n++] = cfg->db_host;
    }
    keys[n] = "port";
    vals[n++] = port;
    if (cfg->db_name != NULL && cfg->db_name[0] != '\0') {
        keys[n] = "dbname";
        vals[n++] = cfg->db_name;
    }
    if (cfg->db_user != NULL && cfg->db_user[0] != '\0') {
        keys[n] = "user";
        vals[n++] = cfg->db_user;
    }
    if (cfg->db_password != NULL && cfg->db_password[0] != '\0') {
        keys[n] = "password";
        vals[n++] = cfg->db_password;
    }
    keys[n] = "connect_timeout";
    vals[n++] = PG_CONNECT_TIMEOUT;
    keys[n] = "application_name";
    vals[n++] = program_invocation_short_name;
    /* Several hosts share the server.  A host that dies (or loses its link) inside a
     * transaction would hold its row locks until TCP gives up, hours later: the server
     * ends such a session after a minute (no transaction of ours idles for long), and
     * keepalives let either side notice a dead peer within about a minute. */
    keys[n] = "options";
    vals[n++] = PG_SESSION_OPTIONS;
    keys[n] = "keepalives";
    vals[n++] = "1";
    keys[n] = "keepalives_idle";
    vals[n++] = "30";
    keys[n] = "keepalives_interval";
    vals[n++] = "10";
    keys[n] = "keepalives_count";
    vals[n++] = "3";
    keys[n] = NULL;
    vals[n] = NULL;

    pg->conn = PQconnectdbParams(keys, vals, 0);
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password. */
        snprintf(err, errlen, "%s", pg->conn ? PQerrorMessage(pg->conn) : "out of memory");
        for (char *c = err; *c != '\0'; c++)
            if (*c == '\n')
                *c = ' ';
        pg_close(&pg->base);
        return VF_ERR_BUSY;
    }
    PQsetNoticeProcessor(pg->conn, notice, NULL);
    /* Text results in UTF-8 whatever the server or database default is. */
    PGresult *res = PQexec(pg->conn, "SET client_encoding = 'UTF8'");
    bool ok = ok_status(res);
    PQclear(res);
    if (!ok) {
        snprintf(err, errlen, "%s", PQerrorMessage(pg->conn));
        pg_close(&pg->base);
        return VF_ERR_DB;
    }
    *out = &pg->base;
    return VF_OK;
}

static void
pg_close(struct db *db)
{
    struct db_pg *pg = P(db);

    /* Closing the connection rolls back an open transaction on the server. */
    PQfinish(pg->conn);
    free(pg);
}

/* The server-side name of `id`: the statement's name, plus a generation once it had to
 * be replaced (a stale plan), so that no DEALLOCATE is needed inside a failed
 * transaction.  `buf` holds 96 bytes. */
static const char *
server_name(const struct db_pg *pg, enum stmt_id id, char *buf)
{
    if (pg->gen[id] == 0)
        return stmt_table[id].name;
    snprintf(buf, 96, "%s_%u", stmt_table[id].name, pg->gen[id]);
    return buf;
}

/* Stop using prepared `id`: the next use prepares it afresh under a new name (the old
 * one stays in the session until it ends, which costs nothing). */
static void
forget(struct db_pg *pg, enum stmt_id id)
{
    pg->prepared[id] = false;
    pg->gen[id]++;
}

/* Prepare `id` on this connection once, and learn how many parameters it takes. */
static enum vf_err
prepare(struct db_pg *pg, enum stmt_id id)
{
    char buf[96];
    const char *name = server_name(pg, id, buf);
    const char *sql = stmt_table[id].pg;

    if (pg->prepared[id])
        return VF_OK;
    if (sql == NULL || sql[0] == '\0') {
        db_set_errmsg(&pg->base, "no PostgreSQL text");
        return VF_ERR_INTERNAL;
    }
    PGresult *res = PQprepare(pg->conn, name, sql, 0, NULL);
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    /* 42P05: the session already has it (we lost track, not the server): describe it. */
    bool exists = state != NULL && strcmp(state, "42P05") == 0 && !pg->in_tx;
    enum vf_err e = (res != NULL && ok_status(res)) || exists ? VF_OK : map(pg, res);
    PQclear(res);
    if (e != VF_OK)
        return e;
    res = PQdescribePrepared(pg->conn, name);
    e = res != NULL && ok_status(res) ? VF_OK : map(pg, res);
    if (e == VF_OK) {
        pg->nparams[id] = PQnparams(res);
        pg->prepared[id] = true;
    }
    PQclear(res);
    if (e != VF_OK) /* prepared but not described: use a fresh name next time */
        forget(pg, id);
    return e;
}

/* Execute prepared `id` with text parameters; the result (success only) in *out. */
static enum vf_err
run_prepared(struct db_pg *pg, enum stmt_id id, const struct db_param *p, size_t np, PGresult **out)
{
    const char *vals[PG_MAX_PARAMS];
    char nums[PG_MAX_PARAMS][24], buf[96];

    *out = NULL;
    if (np > PG_MAX_PARAMS) {
        db_set_errmsg(&pg->base, "%zu parameters, at most %d", np, PG_MAX_PARAMS);
        return VF_ERR_INTERNAL;
    }
    for (size_t i = 0; i < np; i++) {
        switch (p[i].type) {
        case DB_T_INT:
            snprintf(nums[i], sizeof(nums[i]), "%" PRId64, p[i].i);
            vals[i] = nums[i];
            break;
        case DB_T_TEXT:
            vals[i] = p[i].s;
            break;
        default:
            vals[i] = NULL;
            break;
        }
    }
    for (int attempt = 0;; attempt++) {
        enum vf_err e = ensure(pg);
        if (e == VF_OK)
            e = prepare(pg, id);
        if (e != VF_OK)
            return e;
        if ((size_t)pg->nparams[id] != np) {
            db_set_errmsg(&pg->base, "statement takes %d parameters, %zu given", pg->nparams[id],
                          np);
            return VF_ERR_INTERNAL;
        }
        PGresult *res = PQexecPrepared(pg->conn, server_name(pg, id, buf), (int)np,
                                       np ? vals : NULL, NULL, NULL, 0);
        if (res != NULL && ok_status(res)) {
            *out = res;
            return VF_OK;
        }
        const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        bool stale = state != NULL && strcmp(state, "0A000") == 0;
        e = map(pg, res);
        PQclear(res);
        if (!stale)
            return e;
        /* "cached plan must not change result type": a migration changed a table under
         * our prepared statement.  Prepare it afresh; retry at once outside a
         * transaction, else the caller's retry (BUSY) will. */
        forget(pg, id);
        if (pg->in_tx || attempt > 0)
            return VF_ERR_BUSY;
    }
}

static enum vf_err
pg_prepare(struct db *db, enum stmt_id id, int *nparams)
{
    struct db_pg *pg = P(db);
    enum vf_err e = ensure(pg);

    if (e == VF_OK)
        e = prepare(pg, id);
    *nparams = e == VF_OK ? pg->nparams[id] : 0;
    return e;
}

static enum vf_err
pg_exec(struct db *db, enum stmt_id id, const struct db_param *p, size_t np, int64_t *changes)
{
    PGresult *res = NULL;
    enum vf_err e = run_prepared(P(db), id, p, np, &res);

    if (e == VF_OK && changes != NULL) {
        const char *n = PQcmdTuples(res);
        *changes = n != NULL && n[0] != '\0' ? strtoll(n, NULL, 10) : 0;
    }
    PQclear(res);
    return e;
}

static enum vf_err
pg_query(struct db *db, enum stmt_id id, const struct db_param *p, size_t np, struct db_rows **out)
{
    PGresult *res = NULL;
    enum vf_err e = run_prepared(P(db), id, p, np, &res);

    if (e != VF_OK)
        return e;
    int nrows = PQntuples(res), ncols = PQnfields(res);
    struct db_rows *r = db_rows_alloc((size_t)ncols);
    for (int i = 0; r != NULL && e == VF_OK && i < nrows; i++) {
        char **row = db_rows_addrow(r);
        if (row == NULL) {
            e = VF_ERR_NOMEM;
            break;
        }
        for (int c = 0; c < ncols; c++) {
            if (PQgetisnull(res, i, c))
                continue;
            row[c] = db_strndup(PQgetvalue(res, i, c), (size_t)PQgetlength(res, i, c));
            if (row[c] == NULL) {
                e = VF_ERR_NOMEM;
                break;
            }
        }
    }
    PQclear(res);
    if (r == NULL)
        e = VF_ERR_NOMEM;
    if (e != VF_OK) {
        db_rows_free(r);
        return e;
    }
    *out = r;
    return VF_OK;
}

static bool
pg_in_transaction(const struct db *db)
{
    const struct db_pg *pg = (const struct db_pg *)db;
    if (pg->tx_lost)
        return true;
    /* A script may have ended our transaction behind our back (a COMMIT in it). */
    return pg->in_tx && PQtransactionStatus(pg->conn) != PQTRANS_IDLE;
}

static enum vf_err
pg_begin(struct db *db)
{
    struct db_pg *pg = P(db);
    enum vf_err e = ensure(pg);

    if (e == VF_OK)
        e = simple(pg, "BEGIN", NULL);
    if (e == VF_OK)
        pg->in_tx = true;
    return e;
}

static enum vf_err
pg_rollback(struct db *db)
{
    struct db_pg *pg = P(db);

    if (pg->tx_lost) {
        /* The server already rolled back when the connection died. */
        pg->tx_lost = false;
        return VF_OK;
    }
    if (PQstatus(pg->conn) != CONNECTION_OK || PQtransactionStatus(pg->conn) == PQTRANS_IDLE) {
        pg->in_tx = false;
        return VF_OK;
    }
    enum vf_err e = simple(pg, "ROLLBACK", NULL);
    pg->in_tx = false;
    return e;
}

static enum vf_err
pg_commit(struct db *db)
{
    struct db_pg *pg = P(db);
    PGresult *res = NULL;

    if (pg->tx_lost) {
        pg->tx_lost = false;
        db_set_errmsg(db, "connection lost inside the transaction: rolled back");
        return VF_ERR_BUSY;
    }
    if (!pg->in_tx) {
        db_set_errmsg(db, "COMMIT without a transaction");
        return VF_ERR_INTERNAL;
    }
    bool aborted = PQtransactionStatus(pg->conn) == PQTRANS_INERROR;
    enum vf_err e = simple(pg, "COMMIT", &res);
    pg->in_tx = false;
    if (e != VF_OK)
        return e;
    /* COMMIT of a failed transaction "succeeds" as ROLLBACK: that is a failure. */
    if (aborted || strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
        db_set_errmsg(db, "transaction had failed; rolled back");
        e = VF_ERR_DB;
    }
    PQclear(res);
    return e;
}

static enum vf_err
pg_ping(struct db *db)
{
    struct db_pg *pg = P(db);

    if (pg->in_tx || pg->tx_lost)
        return pg_exec(db, STMT_PING, NULL, 0, NULL);
    enum vf_err e = ensure(pg);
    if (e == VF_OK)
        e = simple(pg, "SELECT 1", NULL);
    /* A connection that died since the last call: one reconnect attempt now. */
    if (e == VF_ERR_BUSY && PQstatus(pg->conn) == CONNECTION_BAD) {
        e = ensure(pg);
        if (e == VF_OK)
            e = simple(pg, "SELECT 1", NULL);
    }
    return e;
}

static enum vf_err
pg_exec_script(struct db *db, const char *sql)
{
    struct db_pg *pg = P(db);
    enum vf_err e = ensure(pg);

    /* Simple query protocol: several statements, run in the caller's transaction if
     * one is open, else in one implicit transaction. */
    if (e == VF_OK)
        e = simple(pg, sql, NULL);
    if (PQtransactionStatus(pg->conn) == PQTRANS_IDLE)
        pg->in_tx = false; /* the script ended it (or none was open) */
    return e;
}

static enum vf_err
pg_listen(struct db *db, const char *channel)
{
    struct db_pg *pg = P(db);

    for (size_t i = 0; i < pg->nchannels; i++)
        if (strcmp(pg->channels[i], channel) == 0)
            return VF_OK;
    if (pg->nchannels == PG_MAX_CHANNELS || strlen(channel) >= sizeof(pg->channels[0])) {
        db_set_errmsg(db, "too many channels or name too long");
        return VF_ERR_INVALID;
    }
    enum vf_err e = ensure(pg);
    if (e == VF_OK)
        e = listen_channel(pg, channel);
    if (e == VF_OK)
        snprintf(pg->channels[pg->nchannels++], sizeof(pg->channels[0]), "%s", channel);
    return e;
}

static enum vf_err
pg_notify(struct db *db, const char *channel)
{
    struct db_pg *pg = P(db);
    const char *vals[1] = { channel };
    enum vf_err e = ensure(pg);

    if (e != VF_OK)
        return e;
    /* Inside a transaction the notification is delivered at COMMIT (and dropped on
     * ROLLBACK): exactly what job_enqueue wants. */
    PGresult *res =
        PQexecParams(pg->conn, "SELECT pg_notify($1, '')", 1, NULL, vals, NULL, NULL, 0);
    e = res != NULL && ok_status(res) ? VF_OK : map(pg, res);
    PQclear(res);
    return e;
}

/* Drop every queued notification; true if there was one. */
static bool
drain(struct db_pg *pg)
{
    bool any = false;

    for (PGnotify *n; (n = PQnotifies(pg->conn)) != NULL;) {
        any = true;
        PQfreemem(n);
    }
    return any;
}

static enum vf_err
pg_wait(struct db *db, int timeout_ms)
{
    struct db_pg *pg = P(db);
    enum vf_err e = ensure(pg);

    if (e != VF_OK)
        return e;
    if (!PQconsumeInput(pg->conn))
        return map(pg, NULL);
    if (drain(pg))
        return VF_OK;
    int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0)
            return VF_ERR_TIMEOUT;
        struct pollfd pfd = { .fd = PQsocket(pg->conn), .events = POLLIN };
        if (pfd.fd < 0)
            return map(pg, NULL);
        int n = poll(&pfd, 1, (int)left);
        if (n < 0) {
            if (errno == EINTR)
                return VF_ERR_TIMEOUT; /* a signal: let the caller look at its flags */
            db_set_errmsg(db, "poll: %s", strerror(errno));
            return VF_ERR_IO;
        }
        if (n == 0)
            return VF_ERR_TIMEOUT;
        if (!PQconsumeInput(pg->conn)) {
            db_set_errmsg(db, "connection lost: %s", PQerrorMessage(pg->conn));
            mark_broken(pg);
            return VF_ERR_BUSY;
        }
        if (drain(pg))
            return VF_OK;
    }
}

static const char *
pg_errmsg(const struct db *db)
{
    return db->errmsg;
}

const struct db_ops db_pg_ops = {
    .name = "PostgreSQL",
    .open = pg_open,
    .close = pg_close,
    .prepare = pg_prepare,
    .exec = pg_exec,
    .query = pg_query,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .in_transaction = pg_in_transaction,
    .ping = pg_ping,
    .exec_script = pg_exec_script,
    .listen = pg_listen,
    .notify = pg_notify,
    .wait = pg_wait,
    .errmsg = pg_errmsg,
};
