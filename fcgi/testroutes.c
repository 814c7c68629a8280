/* testroutes.c -- test builds only (--enable-test-hooks): the routes under /api/health/debug/ that
 * the integration suite drives (a slow request, the dispatcher's body rules, a crashing worker).
 * A production build does not compile this file, so it has none of them (tests/unit/test_build). */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "routes.h"

/* DEBUG only, even in a test build: sleep ?ms= (at most 10 s), then answer
 * {"slept_ms":N,"pid":P} plus, with ?bytes=N (at most 64 MiB), "blob": N letters.  The tests use it
 * to signal a worker in the middle of a request (or a large response) and to see which worker
 * answered. */
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

const struct route test_routes[] = {
    { HTTP_GET, "/api/health/debug/sleep/", debug_sleep, ROUTE_NO_STORE, ROUTE_AUTH_NONE },
    { HTTP_POST, "/api/health/debug/echo/", debug_echo, ROUTE_JSON | ROUTE_NO_STORE,
      ROUTE_AUTH_NONE },
    { HTTP_GET, "/api/health/debug/crash/", debug_crash, ROUTE_NO_STORE, ROUTE_AUTH_NONE },
    { 0, NULL, NULL, 0, ROUTE_AUTH_NONE },
};
