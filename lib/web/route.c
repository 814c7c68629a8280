/* route.c -- match const route tables and apply the cross-cutting HTTP contract. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "json.h"
#include "log.h"
#include "route.h"
#include "utf8.h"
#include "videoadmin.h"

#define UNSAFE_METHODS (HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE)

static const char preflight_methods[] = "GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD";
static const char preflight_headers[] =
    "accept, accept-encoding, authorization, content-type, dnt, origin, range, user-agent, "
    "x-csrftoken, x-requested-with";

bool
route_match(const char *pattern, const char *path, char **params, size_t *nparams)
{
    size_t plen = strlen(pattern), n = 0;
    bool optslash = plen >= 2 && strcmp(pattern + plen - 2, "/?") == 0;
    const char *p = pattern, *pend = pattern + (optslash ? plen - 2 : plen), *s = path;

    while (p < pend) {
        const char *close = p[0] == '{' ? memchr(p, '}', (size_t)(pend - p)) : NULL;
        if (close != NULL) {
            const char *e = s;
            while (*e != '\0' && *e != '/')
                e++;
            if (e == s || n == HTTP_MAX_PARAMS)
                goto fail;
            size_t len = (size_t)(e - s);
            char *raw = strndup(s, len), *dec = malloc(len + 1);
            if (raw == NULL || dec == NULL || http_percent_decode(raw, dec, len + 1) < 0) {
                free(raw);
                free(dec);
                goto fail;
            }
            free(raw);
            params[n++] = dec;
            p = close + 1;
            s = e;
        } else {
            if (*p != *s)
                goto fail;
            p++;
            s++;
        }
    }
    if (optslash ? (*s == '\0' || (s[0] == '/' && s[1] == '\0')) : *s == '\0') {
        *nparams = n;
        return true;
    }
fail:
    while (n > 0)
        free(params[--n]);
    *nparams = 0;
    return false;
}

static void
add_cors(const struct app *app, const struct http_request *req, struct http_response *res)
{
    const char *origin = http_header(req, "origin");
    const char *vary = http_response_header(res, "Vary");

    /* Keep what the handler's response also varies on (Accept-Encoding for playlists). */
    if (vary == NULL) {
        http_header_set(res, "Vary", "Origin");
    } else if (strcasestr(vary, "origin") == NULL) {
        char merged[256];
        if ((size_t)snprintf(merged, sizeof(merged), "%s, Origin", vary) < sizeof(merged))
            http_header_set(res, "Vary", merged);
        else
            http_header_set(res, "Vary", "*");
    }
    if (origin != NULL && config_origin_allowed(app->cfg, origin)) {
        http_header_set(res, "Access-Control-Allow-Origin", origin);
        http_header_set(res, "Access-Control-Allow-Credentials", "true");
    }
}

static void
add_security_headers(struct http_response *res, unsigned flags)
{
    http_header_set(res, "X-Content-Type-Options", "nosniff");
    http_header_set(res, "X-Frame-Options", "DENY");
    http_header_set(res, "Referrer-Policy", "same-origin");
    http_header_set(res, "Cross-Origin-Opener-Policy", "same-origin");
    if (http_response_header(res, "Cache-Control") == NULL &&
        ((flags & ROUTE_NO_STORE) || res->status >= 400))
        http_header_set(res, "Cache-Control", "no-store");
}

/* Read the whole body (up to `limit` bytes) through body_read.  VF_ERR_TOOBIG past it. */
static enum vf_err
read_body(struct http_request *req, size_t limit)
{
    size_t cap, n = 0;
    char *buf;

    if (req->body != NULL || req->body_read == NULL)
        return req->body_len > limit ? VF_ERR_TOOBIG : VF_OK;
    if (req->content_length > (int64_t)limit)
        return VF_ERR_TOOBIG;
    cap = req->content_length > 0 ? (size_t)req->content_length + 1 : 4096;
    if ((buf = malloc(cap)) == NULL)
        return VF_ERR_NOMEM;
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > limit + 1) {
                free(buf);
                return VF_ERR_TOOBIG;
            }
            size_t ncap = cap * 2 > limit + 2 ? limit + 2 : cap * 2;
            char *p = realloc(buf, ncap);
            if (p == NULL) {
                free(buf);
                return VF_ERR_NOMEM;
            }
            buf = p;
            cap = ncap;
        }
        ssize_t r = req->body_read(req->body_ctx, buf + n, cap - n - 1);
        if (r < 0) {
            free(buf);
            return VF_ERR_IO;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > limit) {
            free(buf);
            return VF_ERR_TOOBIG;
        }
    }
    buf[n] = '\0';
    req->body = buf;
    req->body_len = n;
    return VF_OK;
}

/* Parse a JSON object body into req->json, answering 415/400 itself. */
static bool
parse_json_or_reply(struct http_request *req, struct http_response *res)
{
    char ct[128];

    if (req->body_len == 0)
        return true;
    http_content_type(req, ct, sizeof(ct));
    if (strcmp(ct, "application/json") != 0) {
        char msg[200];
        snprintf(msg, sizeof(msg), "Unsupported media type \"%.100s\" in request.",
                 ct[0] ? ct : "none");
        json_detail(res, 415, msg);
        return false;
    }
    if (!utf8_valid((const unsigned char *)req->body, req->body_len) ||
        memchr(req->body, '\0', req->body_len) != NULL) {
        json_detail(res, 400, "JSON parse error - invalid UTF-8.");
        return false;
    }
    const char *end = NULL;
    req->json = cJSON_ParseWithLengthOpts(req->body, req->body_len, &end, 0);
    if (req->json == NULL) {
        json_detail(res, 400, "JSON parse error.");
        return false;
    }
    /* Only whitespace may follow the value. */
    for (; end != NULL && end < req->body + req->body_len; end++) {
        if (*end != ' ' && *end != '\n' && *end != '\r' && *end != '\t') {
            json_detail(res, 400, "JSON parse error.");
            return false;
        }
    }
    if (!json_object_or_reply(req->json, res))
        return false;
    /* A \u0000 would silently cut a value short (a password "pw\u0000x" read as "pw"). */
    bool in_name = false;
    const cJSON *m = json_nul_member(req->body, req->body_len, req->json, &in_name);
    if (m != NULL) {
        json_field_error(res, in_name || m->string == NULL ? "non_field_errors" : m->string,
                         "Null characters are not allowed.");
        return false;
    }
    return true;
}

static void
allow_header(unsigned methods, char *buf, size_t len)
{
    static const enum http_method order[] = { HTTP_GET,    HTTP_POST, HTTP_PUT,    HTTP_PATCH,
                                              HTTP_DELETE, HTTP_HEAD, HTTP_OPTIONS };
    size_t n = 0;

    buf[0] = '\0';
    if (methods & HTTP_GET)
        methods |= HTTP_HEAD;
    methods |= HTTP_OPTIONS;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (!(methods & order[i]))
            continue;
        int k = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", http_method_name(order[i]));
        if (k < 0 || (size_t)k >= len - n)
            break;
        n += (size_t)k;
    }
}

/* A CORS preflight (OPTIONS with Access-Control-Request-Method) on any path: answer 200
 * with an empty body, and the CORS grant for an allowed origin.  False for anything else. */
static bool
preflight_reply(const struct app *app, const struct http_request *req, struct http_response *res)
{
    const char *origin = http_header(req, "origin");

    if (req->method != HTTP_OPTIONS || http_header(req, "access-control-request-method") == NULL)
        return false;
    res->status = 200;
    if (origin != NULL && config_origin_allowed(app->cfg, origin)) {
        http_header_set(res, "Access-Control-Allow-Methods", preflight_methods);
        http_header_set(res, "Access-Control-Allow-Headers", preflight_headers);
        http_header_set(res, "Access-Control-Max-Age", "86400");
    }
    http_header_set(res, "Content-Length", "0");
    return true;
}

/* The route for the request's path and method, with req->params and req->route filled; NULL
 * after answering 404, or 405 with Allow (200 {"allow":...} for a plain OPTIONS). */
static const struct route *
match_or_reply(const struct route *const *tables, struct http_request *req,
               struct http_response *res)
{
    unsigned path_methods = 0;

    for (size_t t = 0; tables[t] != NULL; t++) {
        for (const struct route *r = tables[t]; r->pattern != NULL; r++) {
            char *params[HTTP_MAX_PARAMS];
            size_t np = 0;
            if (!route_match(r->pattern, req->path, params, &np))
                continue;
            unsigned m = r->methods | ((r->methods & HTTP_GET) ? HTTP_HEAD : 0);
            path_methods |= r->methods;
            if (!(m & req->method)) {
                while (np > 0)
                    free(params[--np]);
                continue;
            }
            for (size_t i = 0; i < req->nparams; i++)
                free(req->params[i]);
            memcpy(req->params, params, np * sizeof(params[0]));
            req->nparams = np;
            req->route = r->pattern;
            return r;
        }
    }
    if (path_methods == 0) {
        json_detail(res, 404, "Not found.");
        return NULL;
    }
    char allow[128], msg[160];
    allow_header(path_methods, allow, sizeof(allow));
    if (req->method == HTTP_OPTIONS) {
        json_message(res, 200, "allow", allow);
    } else {
        snprintf(msg, sizeof(msg), "Method \"%.20s\" not allowed.", req->method_str);
        json_detail(res, 405, msg);
    }
    http_header_set(res, "Allow", allow);
    return NULL;
}

/* Fill req->param_ids from the pattern's "{id}" captures; false after answering 404 when
 * one is not a positive int64.  (Patterns are ours: every "{" has its "}".) */
static bool
ids_or_reply(const char *pattern, struct http_request *req, struct http_response *res)
{
    size_t k = 0;

    for (const char *p = pattern; p != NULL && (p = strchr(p, '{')) != NULL; p++, k++) {
        if (k >= req->nparams)
            break;
        req->param_ids[k] = 0;
        if (strncmp(p, "{id}", 4) != 0)
            continue;
        if ((req->param_ids[k] = videoadmin_parse_id(req->params[k])) == 0) {
            json_error_reply(req, res, VF_ERR_NOTFOUND);
            return false;
        }
    }
    return true;
}

/* Authenticate for the route's level into *user; false when answered (401/403/5xx). */
static bool
auth_or_reply(struct app *app, const struct route *r, struct http_request *req,
              struct http_response *res, struct user *user)
{
    switch (r->auth) {
    case ROUTE_AUTH_NONE:
        return true;
    case ROUTE_AUTH_USER:
        return auth_require_or_reply(app, req, res, user);
    case ROUTE_AUTH_STAFF:
        return auth_require_staff_or_reply(app, req, res, user);
    case ROUTE_AUTH_MEDIA:
        return auth_require_media_or_reply(app, req, res, user);
    }
    json_error_reply(req, res, VF_ERR_INTERNAL); /* a row with a level we do not know */
    return false;
}

/* Everything after the match, in the contract's order: the Origin check of unsafe methods
 * (403), the framing (400), authentication (401/403) before any body is read, typed
 * captures (404), the body (413, then 415/400 for ROUTE_JSON), the handler (with req->user
 * pointing at this frame's user while it runs). */
static void
run(struct app *app, const struct route *r, struct http_request *req, struct http_response *res)
{
    const char *origin = http_header(req, "origin");
    struct user user;

    if ((req->method & UNSAFE_METHODS) && origin != NULL &&
        !config_origin_allowed(app->cfg, origin)) {
        log_info("refused %s %s from origin not allowed", req->method_str,
                 r->pattern != NULL ? r->pattern : "(any path)");
        json_detail(res, 403, "Origin not allowed.");
        return;
    }
    if (req->content_length == -2) {
        json_detail(res, 400, "Malformed Content-Length.");
        return;
    }
    if (!auth_or_reply(app, r, req, res, &user) || !ids_or_reply(r->pattern, req, res))
        return;
    if (!(r->flags & ROUTE_STREAM)) {
        enum vf_err err = read_body(req, app->cfg->json_max_bytes);
        if (err == VF_ERR_TOOBIG) {
            json_detail(res, 413, "Request body too large.");
            return;
        }
        if (err != VF_OK) {
            json_detail(res, 400, "Could not read the request body.");
            return;
        }
        if ((r->flags & ROUTE_JSON) && !parse_json_or_reply(req, res))
            return;
    }
    req->user = r->auth != ROUTE_AUTH_NONE ? &user : NULL;
    r->fn(app, req, res);
    req->user = NULL;
}

/* What every reply gets last: a JSON body for a bare error status, CORS, security headers. */
static void
finish(const struct app *app, const struct http_request *req, struct http_response *res,
       unsigned flags)
{
    /* Every error is JSON: a handler that set only a status gets the generic body (a bare
     * 5xx is a handler's bug: answered and logged as an internal error). */
    if (res->status >= 400 && res->body == NULL && res->file_fd < 0) {
        if (res->status >= 500) {
            json_error_reply(req, res, VF_ERR_INTERNAL);
        } else {
            char msg[64];
            snprintf(msg, sizeof(msg), "%s.", http_reason(res->status));
            json_detail(res, res->status, msg);
        }
    }
    add_cors(app, req, res);
    add_security_headers(res, flags);
}

void
route_dispatch(struct app *app, const struct route *const *tables, struct http_request *req,
               struct http_response *res)
{
    const struct route *r = NULL;

    log_set_request_id(req->request_id);
    if (!preflight_reply(app, req, res) && (r = match_or_reply(tables, req, res)) != NULL)
        run(app, r, req, res);
    finish(app, req, res, r != NULL ? r->flags : 0);
    log_set_request_id(NULL);
}

static void
unavailable(struct app *app, struct http_request *req, struct http_response *res)
{
    (void)app;
    json_error_reply(req, res, VF_ERR_BUSY);
}

/* The route every path and method has while the database is down. */
static const struct route unavailable_route = { ~0u, NULL, unavailable, ROUTE_NO_STORE,
                                                ROUTE_AUTH_NONE };

void
route_reply_unavailable(struct app *app, struct http_request *req, struct http_response *res)
{
    log_set_request_id(req->request_id);
    if (!preflight_reply(app, req, res))
        run(app, &unavailable_route, req, res);
    finish(app, req, res, unavailable_route.flags);
    log_set_request_id(NULL);
}
