/* fuzz_request.c -- libFuzzer target over request parsing and dispatch; oracle: every reply is
 * JSON.
 *
 * Input: "<METHOD> <TARGET>\n", header lines "Name: value\n", an empty line and the body;
 * or "CGI\n", FastCGI parameter lines "NAME=value\n" (cgienv), an empty line and the body.
 * The request goes through http_request_new or cgienv_request (target, query, headers,
 * cookies, Content-Length), the streaming body reader and route_dispatch (CORS,
 * 404/405/413/415, JSON parsing) on a small table of JSON routes.  A response must be
 * well-formed: its head renders, no header carries CR/LF, and a non-empty body parses as
 * JSON (an empty one is allowed only for preflights, HEAD, 204 and 304). */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cgienv.h"
#include "config.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "route.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 80

static struct config *cfg;
static struct app app;

/* Echo what the parsers extracted, so their output is serialised too. */
static void
echo(struct app *a, struct http_request *req, struct http_response *res)
{
    char buf[256];
    cJSON *o = cJSON_CreateObject(), *params = cJSON_CreateArray();
    const char *q = http_query(req, "q", buf, sizeof(buf));

    (void)a;
    cJSON_AddStringToObject(o, "q", q ? q : "");
    cJSON_AddStringToObject(o, "cookie", http_cookie(req, "access_token") ? "yes" : "no");
    http_content_type(req, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "content_type", buf);
    for (size_t i = 0; i < req->nparams; i++)
        cJSON_AddItemToArray(params, cJSON_CreateString(req->params[i]));
    cJSON_AddItemToObject(o, "params", params);
    if (req->json != NULL)
        cJSON_AddItemToObject(o, "json", cJSON_Duplicate(req->json, 1));
    json_reply(res, 200, o);
}

static const struct route routes[] = {
    { HTTP_GET | HTTP_POST | HTTP_PUT, "/api/echo/{}/?", echo, ROUTE_JSON | ROUTE_NO_STORE,
      ROUTE_AUTH_NONE },
    { HTTP_POST, "/api/login/", echo, ROUTE_JSON, ROUTE_AUTH_NONE },
    { HTTP_GET, "/api/video/{}/{}/index.m3u8", echo, 0, ROUTE_AUTH_NONE },
    { HTTP_GET, "/api/video/{}/{}/{}/?", echo, 0, ROUTE_AUTH_NONE },
    { 0, NULL, NULL, 0, ROUTE_AUTH_NONE },
};
static const struct route *const tables[] = { routes, NULL };

struct cursor {
    const char *p;
    size_t left;
};

static ssize_t
read_cursor(void *ctx, void *buf, size_t n)
{
    struct cursor *c = ctx;
    if (n > c->left)
        n = c->left;
    if (n > 7)
        n = n / 2 + 1; /* short reads, as from a socket */
    memcpy(buf, c->p, n);
    c->p += n;
    c->left -= n;
    return (ssize_t)n;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const pairs[] = {
        "SECRET_KEY=fuzz-key-0123456789abcdefghijklmnopqrstuv",
        "DB_NAME=/nonexistent/fuzz.sqlite3",
        "JSON_MAX_BYTES=4096",
        "CORS_ALLOWED_ORIGINS=http://127.0.0.1:5500,http://localhost:5500",
    };
    char err[256];

    (void)argc;
    (void)argv;
    log_init("fuzz_request", CONFIG_LOG_ERROR);
    if (config_load_pairs(pairs, sizeof(pairs) / sizeof(pairs[0]), &cfg, err, sizeof(err)) != VF_OK)
        abort();
    app.cfg = cfg;
    return 0;
}

static void
check_response(const struct http_request *req, const struct http_response *res)
{
    char *head = NULL;
    size_t len = 0;

    if (res->status < 100 || res->status > 599)
        abort();
    for (size_t i = 0; i < res->nheaders; i++)
        if (strpbrk(res->headers[i].name, "\r\n") || strpbrk(res->headers[i].value, "\r\n"))
            abort();
    if (http_response_head(res, &head, &len) != VF_OK)
        abort();
    free(head);
    if (res->file_fd >= 0)
        return;
    if (res->body_len == 0) {
        if (req->method == HTTP_OPTIONS || req->method == HTTP_HEAD || res->status == 204 ||
            res->status == 304)
            return;
        abort();
    }
    cJSON *j = cJSON_ParseWithLength(res->body, res->body_len);
    if (j == NULL)
        abort();
    cJSON_Delete(j);
}

/* Dispatch req (owned) with `body` behind its streaming reader; check the reply. */
static void
run(struct http_request *req, const char *body, size_t len)
{
    struct cursor cur = { body, len };
    struct http_response res;

    if (req == NULL)
        return;
    req->body_read = read_cursor;
    req->body_ctx = &cur;
    http_response_init(&res);
    route_dispatch(&app, tables, req, &res);
    check_response(req, &res);
    http_response_free(&res);
    req->body_ctx = NULL; /* cur dies with this frame */
    http_request_free(req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *lines[MAX_LINES];
    const char *headers[MAX_LINES];
    size_t nlines = 0, nheaders = 0;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';

    /* Split off the head (up to the first empty line); the rest is the body. */
    char *p = buf, *body = buf + size;
    while (nlines < MAX_LINES && p < buf + size) {
        char *nl = memchr(p, '\n', (size_t)(buf + size - p));
        if (nl == NULL) {
            lines[nlines++] = p;
            break;
        }
        *nl = '\0';
        if (nl > p && nl[-1] == '\r')
            nl[-1] = '\0';
        if (*p == '\0' && nlines > 0) {
            body = nl + 1;
            break;
        }
        lines[nlines++] = p;
        p = nl + 1;
    }
    if (nlines == 0) {
        free(buf);
        return 0;
    }
    if (memchr(data, 0, (size_t)(body - buf)) != NULL) {
        free(buf); /* the web server hands us C strings only */
        return 0;
    }
    if (strcmp(lines[0], "CGI") == 0) {
        /* FastCGI parameters, one NAME=value per line, as the web server passes them. */
        char *env[MAX_LINES + 1];
        size_t n = 0;
        for (size_t i = 1; i < nlines; i++)
            env[n++] = lines[i];
        env[n] = NULL;
        run(cgienv_request(env, NULL), body, (size_t)(buf + size - body));
        free(buf);
        return 0;
    }
    char *method = lines[0], *target = strchr(lines[0], ' ');
    if (target == NULL) {
        free(buf);
        return 0;
    }
    *target++ = '\0';
    if (*method == '\0' || strlen(method) > 16) {
        free(buf);
        return 0;
    }
    for (size_t i = 1; i < nlines; i++)
        headers[nheaders++] = lines[i];

    run(http_request_new(method, target, headers, nheaders, NULL, 0), body,
        (size_t)(buf + size - body));
    free(buf);
    return 0;
}
