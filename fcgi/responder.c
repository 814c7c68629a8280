/* responder.c -- one FastCGI worker: FastCGI records in, the HTTP model through the router, bytes
 * out. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "cgienv.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "responder.h"
#include "routes.h"

#define IO_CHUNK          65536
#define DB_RETRY_US       1000000 /* reconnect attempts at most once a second */
#define MAX_ACCEPT_ERRORS 100

/*
 * Stop requests.  Outside ppoll() these signals stay blocked, so a request that has
 * been accepted always runs to completion: neither our handler nor libfcgi's default
 * behaviour can cut a response short.  (libfcgi installs handlers for SIGPIPE and
 * SIGUSR1 only when they are at their default; ours are installed first.)
 */
static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void
install_signals(sigset_t *wait_mask)
{
    static const int stops[] = { SIGTERM, SIGINT, SIGQUIT, SIGUSR1 };
    struct sigaction sa;
    sigset_t block;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
        sigaction(stops[i], &sa, NULL);
        sigaddset(&block, stops[i]);
    }
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL); /* a vanished web server is an error return, not a death */
    sigaction(SIGHUP, &sa, NULL);  /* reloads are the master's business */
    sigprocmask(SIG_BLOCK, &block, wait_mask);
    for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
        sigdelset(wait_mask, stops[i]);
}

/* body_read over the FastCGI stdin stream. */
static ssize_t
fcgi_body_read(void *ctx, void *buf, size_t n)
{
    FCGX_Stream *in = ctx;
    if (n > INT_MAX)
        n = INT_MAX;
    int got = FCGX_GetStr(buf, (int)n, in);
    if (got < 0 || (got == 0 && FCGX_GetError(in) != 0))
        return -1;
    return got;
}

/* Translate the FastCGI parameters into a request.  NULL on allocation failure. */
static struct http_request *
request_from_params(FCGX_Request *fr)
{
    size_t dropped = 0;
    struct http_request *req = cgienv_request(fr->envp, &dropped);

    if (req == NULL)
        return NULL;
    if (dropped > 0)
        log_warn("dropped %zu request headers over the limit of %d", dropped, HTTP_MAX_HEADERS);
    req->body_read = fcgi_body_read;
    req->body_ctx = fr->in;
    return req;
}

static bool
put(FCGX_Stream *out, const char *p, size_t len)
{
    while (len > 0) {
        int n = len > IO_CHUNK ? IO_CHUNK : (int)len;
        if (FCGX_PutStr(p, n, out) != n)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Write head and body.  A failed write means the web server dropped the request: stop. */
static void
send_response(FCGX_Request *fr, const struct http_request *req, const struct http_response *res)
{
    static const char fallback[] = "Status: 500 Internal Server Error\r\n"
                                   "Content-Type: application/json\r\n"
                                   "Cache-Control: no-store\r\n\r\n"
                                   "{\"detail\":\"Internal server error.\"}";
    char *head = NULL;
    size_t len = 0;

    if (http_response_head(res, &head, &len) != VF_OK) {
        put(fr->out, fallback, sizeof(fallback) - 1);
        return;
    }
    bool ok = put(fr->out, head, len);
    free(head);
    if (!ok || req->method == HTTP_HEAD || res->status == 204 || res->status == 304)
        return;
    if (res->file_fd < 0) {
        if (res->body_len > 0 && !put(fr->out, res->body, res->body_len))
            log_debug("client went away while sending the body");
        return;
    }

    char *buf = malloc(IO_CHUNK);
    int64_t off = res->file_offset, left = res->file_length;
    if (buf == NULL)
        return;
    while (left > 0) {
        ssize_t n = pread(res->file_fd, buf, left > IO_CHUNK ? IO_CHUNK : (size_t)left, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_error("reading a response file: %s", n < 0 ? strerror(errno) : "short file");
            break;
        }
        if (!put(fr->out, buf, (size_t)n)) {
            log_debug("client went away while sending a file");
            break;
        }
        off += n;
        left -= n;
    }
    free(buf);
}

static void
ensure_db(struct app *app, int64_t *last_try)
{
    if (app->db != NULL)
        return;
    int64_t t = clock_now_us();
    if (t - *last_try < DB_RETRY_US)
        return;
    *last_try = t;
    if (db_open(app->cfg, &app->db) == VF_OK)
        log_info("database connection established");
}

static void
handle(struct app *app, FCGX_Request *fr, int64_t *db_last_try)
{
    struct http_request *req = request_from_params(fr);
    struct http_response res;

    if (req == NULL) {
        /* Out of memory before there is a request to answer: the error table's busy reply,
         * formatted on the stack. */
        char oom[256];
        int n = snprintf(oom, sizeof(oom),
                         "Status: %d %s\r\nContent-Type: application/json\r\n"
                         "Retry-After: %d\r\n\r\n{\"detail\":\"%s\"}",
                         vf_err_status(VF_ERR_BUSY), http_reason(vf_err_status(VF_ERR_BUSY)),
                         vf_err_retry_after(VF_ERR_BUSY), vf_err_message(VF_ERR_BUSY));
        if (n > 0 && (size_t)n < sizeof(oom))
            put(fr->out, oom, (size_t)n);
        return;
    }
    int64_t started = clock_mono_us();
    http_response_init(&res);
    log_set_request_id(req->request_id);
    ensure_db(app, db_last_try);

    /* While the database is down every path but the health check (which says so itself)
     * answers 503 JSON, with CORS and the security headers. */
    bool scrape = strcmp(req->path, "/metrics") == 0;
    if (scrape)
        metrics_serve(app, req, &res); /* answers without the database as well */
    else if (app->db == NULL && strcmp(req->path, "/api/health/") != 0)
        route_reply_unavailable(app, req, &res);
    else
        route_dispatch(app, routes_all, req, &res);
    send_response(fr, req, &res);
    if (!scrape) /* scrapes are not traffic */
        metrics_request(req->route, res.status, clock_mono_us() - started);
    log_debug("%s -> %d", req->method_str, res.status);
    log_set_request_id(NULL);
    http_response_free(&res);
    http_request_free(req);
}

int
responder_run(const struct config *cfg, int listen_fd, pid_t master_pid, struct procgate *hash_gate)
{
    struct app app = { .cfg = cfg, .db = NULL, .hash_gate = hash_gate };
    sigset_t wait_mask;
    FCGX_Request fr;
    unsigned long served = 0;
    int errors = 0, rc = 0;
    int64_t db_last_try;

    stop_requested = 0;
    install_signals(&wait_mask);

    /* Non-blocking accept: several workers wait on the socket and only one wins. */
    int fl = fcntl(listen_fd, F_GETFL);
    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        log_error("listening socket: %s", strerror(errno));
        return 1;
    }
    if (FCGX_Init() != 0) {
        log_error("FCGX_Init failed");
        return 1;
    }

    enum vf_err err = db_open(cfg, &app.db);
    if (err == VF_ERR_CONFIG)
        return MASTER_EXIT_CONFIG;
    if (err != VF_OK)
        log_warn("database unavailable (%s): answering 503 until it is back", vf_strerror(err));
    db_last_try = clock_now_us();

    if (FCGX_InitRequest(&fr, listen_fd, 0) != 0) {
        db_close(app.db);
        return 1;
    }
    while (!stop_requested) {
        struct pollfd p = { .fd = listen_fd, .events = POLLIN };
        struct timespec tick = { .tv_sec = 1, .tv_nsec = 0 };
        int r = ppoll(&p, 1, &tick, &wait_mask); /* the only place stop signals arrive */
        if (stop_requested)
            break;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll: %s", strerror(errno));
            rc = 1;
            break;
        }
        if (r == 0) {
            if (getppid() != master_pid)
                break; /* orphaned */
            continue;
        }
        int a = FCGX_Accept_r(&fr);
        if (a < 0) {
            if (a == -EAGAIN || a == -EWOULDBLOCK || a == -EINTR || a == -ECONNABORTED)
                continue; /* another worker won the connection */
            log_error("accept: %s", a > -4096 ? strerror(-a) : "protocol error");
            if (++errors >= MAX_ACCEPT_ERRORS) {
                rc = 1;
                break;
            }
            struct timespec pause = { .tv_sec = 0, .tv_nsec = 100000000 };
            nanosleep(&pause, NULL);
            continue;
        }
        errors = 0;
        metrics_busy(true);
        handle(&app, &fr, &db_last_try);
        metrics_busy(false);
        FCGX_Finish_r(&fr);
        served++;
        if (cfg->fcgi_max_requests > 0 && served >= (unsigned long)cfg->fcgi_max_requests) {
            log_info("recycling after %lu requests", served);
            metrics_inc(MC_FCGI_RECYCLED);
            break;
        }
    }
    FCGX_Finish_r(&fr);
    FCGX_Free(&fr, 0);
    catalogue_routes_release();
    schema_routes_release();
    db_close(app.db);
    return rc;
}
