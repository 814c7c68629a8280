/* health.c -- GET /api/health/ for load balancers and monitors (and debug-only test routes). */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "json.h"
#include "routes.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* 200 {"status":"ok","database":"ok","version":...}, or 503 with Retry-After when the
 * database does not answer a round trip ("unavailable") or its schema is missing or behind
 * the migrations installed under VIDEOFLIX_DATA_DIR ("unmigrated"). */
static void
health(struct app *app, struct http_request *req, struct http_response *res)
{
    (void)req;
    char dir[4096];
    int pending = 0;
    bool up = app->db != NULL && db_ping(app->db) == VF_OK;
    snprintf(dir, sizeof(dir), "%s/schema", app->cfg->data_dir);
    bool current = up && db_migrations_pending(app->db, dir, &pending) == VF_OK && pending == 0;
    cJSON *o = cJSON_CreateObject();

    if (o != NULL) {
        cJSON_AddStringToObject(o, "status", current ? "ok" : "error");
        cJSON_AddStringToObject(o, "database", current ? "ok" : up ? "unmigrated" : "unavailable");
        cJSON_AddStringToObject(o, "version", PACKAGE_VERSION);
    }
    json_reply(res, current ? 200 : 503, o);
    if (!current)
        http_header_set(res, "Retry-After", "5");
}

/* DEBUG only: sleep ?ms= (at most 10 s), then answer {"slept_ms":N,"pid":P} plus, with
 * ?bytes=N (at most 64 MiB), "blob": N letters.  The tests use it to signal a worker in the
 * middle of a request (or a large response) and to see which worker answered. */
static void
debug_sleep(struct app *app, struct http_request *req, struct http_response *res)
{
    char buf[24];
    long ms = 0, bytes = 0;

    if (!app->cfg->debug) {
        json_detail(res, 404, "Not found.");
        return;
    }
    if (http_query(req, "ms", buf, sizeof(buf)) != NULL)
        ms = strtol(buf, NULL, 10);
    if (ms < 0 || ms > 10000)
        ms = 0;
    if (http_query(req, "bytes", buf, sizeof(buf)) != NULL)
        bytes = strtol(buf, NULL, 10);
    if (bytes < 0 || bytes > 64L * 1024 * 1024)
        bytes = 0;
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
    char *blob = malloc((size_t)bytes + 1);
    cJSON *o = cJSON_CreateObject();
    if (o != NULL && blob != NULL) {
        memset(blob, 'a', (size_t)bytes);
        blob[bytes] = '\0';
        cJSON_AddNumberToObject(o, "slept_ms", (double)ms);
        cJSON_AddNumberToObject(o, "pid", (double)getpid());
        if (bytes > 0)
            cJSON_AddStringToObject(o, "blob", blob);
    }
    free(blob);
    json_reply(res, 200, o);
}

/* DEBUG only: echo the JSON body ({"json": <body or null>}); exercises the dispatcher's
 * body limits (413), content type (415) and JSON parsing (400) end to end. */
static void
debug_echo(struct app *app, struct http_request *req, struct http_response *res)
{
    if (!app->cfg->debug) {
        json_detail(res, 404, "Not found.");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (o != NULL)
        cJSON_AddItemToObject(o, "json",
                              req->json ? cJSON_Duplicate(req->json, 1) : cJSON_CreateNull());
    json_reply(res, 200, o);
}

/* DEBUG only: the worker dies on the spot (SIGABRT), as a crashing handler would.  The
 * tests use it to drive the master's crash-loop guard. */
static void
debug_crash(struct app *app, struct http_request *req, struct http_response *res)
{
    (void)req;
    if (!app->cfg->debug) {
        json_detail(res, 404, "Not found.");
        return;
    }
    abort();
}

const struct route health_routes[] = {
    { HTTP_GET, "/api/health/", health, ROUTE_NO_STORE, ROUTE_AUTH_NONE },
    { HTTP_GET, "/api/health/debug/sleep/", debug_sleep, ROUTE_NO_STORE, ROUTE_AUTH_NONE },
    { HTTP_POST, "/api/health/debug/echo/", debug_echo, ROUTE_JSON | ROUTE_NO_STORE,
      ROUTE_AUTH_NONE },
    { HTTP_GET, "/api/health/debug/crash/", debug_crash, ROUTE_NO_STORE, ROUTE_AUTH_NONE },
    { 0, NULL, NULL, 0, ROUTE_AUTH_NONE },
};
