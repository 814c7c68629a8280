/* route.h -- const route tables and the dispatcher that applies the HTTP contract. */
#ifndef VF_ROUTE_H
#define VF_ROUTE_H

#include <stdbool.h>

#include "app.h"
#include "http.h"

typedef void (*route_fn)(struct app *app, struct http_request *req, struct http_response *res);

enum route_flags {
    ROUTE_JSON = 1u << 0,     /* a non-empty body must be application/json within JSON_MAX_BYTES;
                                 it is parsed into req->json (400 when malformed) */
    ROUTE_STREAM = 1u << 1,   /* the handler reads the body itself through req->body_read */
    ROUTE_NO_STORE = 1u << 2, /* Cache-Control: no-store (auth and user data) */
};

/* Who may call a route; checked by the dispatcher before the handler runs. */
enum route_auth {
    ROUTE_AUTH_NONE = 0, /* anyone */
    ROUTE_AUTH_USER,     /* a valid access_token cookie of an active user (401 otherwise) */
    ROUTE_AUTH_STAFF,    /* the same, and the user is staff (403 otherwise) */
    ROUTE_AUTH_MEDIA,    /* HLS files: the access cookie, or the refresh cookie of a live
                            session when the access cookie lapsed (auth_require_media_or_reply) */
};

/*
 * One entry: methods (a mask of enum http_method), a pattern, its handler, flags and
 * the authentication it needs.  Patterns are literal segments and captures of exactly
 * one segment: "{}" any text, "{id}" a positive decimal int64 (no sign, no leading zero:
 * videoadmin_parse_id), e.g. "/api/admin/videos/{id}/".  A trailing "/?" makes the final slash
 * optional. Captures are percent-decoded once into req->params; an "{id}" capture's value is also
 * in req->param_ids (0 for "{}" captures).  HEAD is accepted wherever GET is.  Tables end
 * with an entry whose pattern is NULL.
 */
struct route {
    unsigned methods;
    const char *pattern;
    route_fn fn;
    unsigned flags;
    enum route_auth auth;
};

/* Match one pattern; on success fills params (malloc'd, caller frees) and returns true. */
bool route_match(const char *pattern, const char *path, char **params, size_t *nparams);

/*
 * Handle one request end to end, independent of the transport, in this order:
 *  - CORS preflights (OPTIONS with Access-Control-Request-Method) answered 200 on any path;
 *  - 404/405 (+Allow) JSON for unknown paths and methods;
 *  - Origin check: unsafe methods from a non-allowed Origin get 403;
 *  - authentication per the route's `auth` (auth_require_or_reply: 401, then 403 for
 *    staff routes; 503/500 when the database fails), before any body is read;
 *  - typed captures: an "{id}" that is not a positive int64 is 404;
 *  - body: 413 over the limit, 415 wrong content type, 400 malformed JSON;
 *  - the handler, which for an authenticated route finds the user in req->user
 *    (borrowed from the dispatcher, valid only while the handler runs);
 *  - allowed origins echoed on every response; security headers; Cache-Control: no-store
 *    per route and on every error.
 * `tables` is a NULL-terminated array of route tables.
 */
void route_dispatch(struct app *app, const struct route *const *tables, struct http_request *req,
                    struct http_response *res);

/*
 * Answer a request while the database is unreachable, as if every path had one route for
 * every method whose handler answers busy: preflights still get their 200 and the Origin,
 * framing and body rules still apply, then 503 {"detail":...} with Retry-After
 * (json_error_reply, VF_ERR_BUSY); CORS, security headers and Cache-Control: no-store as
 * on any reply.  The caller (the responder) decides when the database is down and which
 * paths still go to route_dispatch (the health check).
 */
void route_reply_unavailable(struct app *app, struct http_request *req, struct http_response *res);

#endif
