/* http.h -- the HTTP request/response model, independent of libfcgi. */
#ifndef VF_HTTP_H
#define VF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "error.h"

struct user; /* lib/domain/user.h: the authenticated user of a request, see below */

enum http_method {
    HTTP_GET = 1u << 0,
    HTTP_HEAD = 1u << 1,
    HTTP_POST = 1u << 2,
    HTTP_PUT = 1u << 3,
    HTTP_PATCH = 1u << 4,
    HTTP_DELETE = 1u << 5,
    HTTP_OPTIONS = 1u << 6,
    HTTP_OTHER = 1u << 7
};

#define HTTP_MAX_PARAMS  6
#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_COOKIES 32

struct http_kv {
    char *name;
    char *value;
};

/*
 * A request.  Everything is owned by the request and released by
 * http_request_free().  Header names are lower-case with dashes ("if-none-match");
 * lookups are case-insensitive.
 */
struct http_request {
    enum http_method method;
    char *method_str; /* as sent, e.g. "GET" */
    char *path;       /* raw path (still percent-encoded), no query */
    char *query;      /* raw query string, "" when none */
    struct http_kv headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    struct http_kv cookies[HTTP_MAX_COOKIES];
    size_t ncookies;
    char *remote_addr;      /* client address as the web server saw it ("" unknown) */
    int64_t content_length; /* -1 when absent */
    char *body;             /* read by the dispatcher unless the route streams */
    size_t body_len;
    cJSON *json;                   /* parsed body of ROUTE_JSON routes (NULL if empty body) */
    char *params[HTTP_MAX_PARAMS]; /* route captures, percent-decoded once */
    size_t nparams;
    int64_t param_ids[HTTP_MAX_PARAMS]; /* for an "{id}" capture its value (> 0), else 0 */
    const struct user *user; /* the authenticated user of a route that requires one: borrowed
                                from the dispatcher, valid while the handler runs; else NULL */
    const char *route;       /* pattern of the matched route (borrowed from its table; NULL
                                before dispatch, when none matched, and for route_reply_unavailable):
                                what logs name instead of the path, which may carry a token */
    char request_id[33];     /* 32 hex chars */
    /* Streaming body source: returns bytes read, 0 at the end, -1 on error. */
    ssize_t (*body_read)(void *ctx, void *buf, size_t n);
    void *body_ctx;
};

/*
 * A response.  The body is either a memory buffer or an open file range (sent by
 * the responder with HEAD honoured).  http_response_free() releases both.
 */
struct http_response {
    int status;
    struct http_kv *headers;
    size_t nheaders, capheaders;
    char *body;
    size_t body_len;
    int file_fd; /* -1 when the body is not a file */
    int64_t file_offset, file_length;
};

/* Build a request from parts (tests and the responder).  `target` is path[?query].
 * `headers` is an array of "Name: value" strings.  The body is copied.
 * Returns NULL on allocation failure.  Free with http_request_free(). */
struct http_request *http_request_new(const char *method, const char *target,
                                      const char *const *headers, size_t nheaders, const void *body,
                                      size_t body_len);
/* Add a header (name is normalised to lower case).  Also parses Cookie and
 * Content-Length.  Returns VF_ERR_TOOBIG when there are too many headers. */
enum vf_err http_request_add_header(struct http_request *req, const char *name, const char *value);
/* NULL-safe. */
void http_request_free(struct http_request *req);

/* Borrowed lookups; NULL when absent. */
const char *http_header(const struct http_request *req, const char *name);
const char *http_cookie(const struct http_request *req, const char *name);
/* Decoded query parameter, copied into buf (truncated values are refused: returns NULL). */
const char *http_query(const struct http_request *req, const char *name, char *buf, size_t len);
/* Media type of the body without parameters, lower-cased into buf ("" when absent). */
const char *http_content_type(const struct http_request *req, char *buf, size_t len);

/* Percent-decode `in` once into `out` (NUL-terminated).  Fails (-1) on malformed
 * escapes, on an encoded NUL, or when `out` is too small; returns the length. */
ssize_t http_percent_decode(const char *in, char *out, size_t outlen);
const char *http_method_name(enum http_method m);
enum http_method http_method_parse(const char *s);
/* "OK", "Not Found", ... */
const char *http_reason(int status);

void http_response_init(struct http_response *res);
/* NULL-safe; closes file_fd. */
void http_response_free(struct http_response *res);
/* Reset to a fresh 200 with no headers or body (keeps nothing). */
void http_response_reset(struct http_response *res);
/* Replace (set) or append (add) a header.  Values with CR or LF are refused. */
enum vf_err http_header_set(struct http_response *res, const char *name, const char *value);
enum vf_err http_header_add(struct http_response *res, const char *name, const char *value);
const char *http_response_header(const struct http_response *res, const char *name);
/* Copy `len` bytes as the body and set Content-Type. */
enum vf_err http_body_set(struct http_response *res, const char *content_type, const void *data,
                          size_t len);
/* Take ownership of a malloc'd body. */
enum vf_err http_body_take(struct http_response *res, const char *content_type, char *data,
                           size_t len);

/* Set-Cookie: name=value; HttpOnly (if http_only); Path=/; SameSite=Lax; Max-Age=...;
 * Secure when `secure`.  max_age 0 deletes (also Expires in 1970). */
enum vf_err http_cookie_set(struct http_response *res, const char *name, const char *value,
                            long max_age, bool http_only, bool secure);
enum vf_err http_cookie_delete(struct http_response *res, const char *name, bool http_only,
                               bool secure);

/* Serve an open regular file (ownership of fd passes to res): 200, or 206/416 per
 * the request's Range header; sets Content-Type, Content-Length, Accept-Ranges. */
enum vf_err http_serve_fd(const struct http_request *req, struct http_response *res, int fd,
                          const char *content_type);

/* The CGI-style header block ("Status: 200 OK\r\nName: v\r\n...\r\n") for the
 * responder.  Adds Content-Length for memory bodies.  Caller frees *out. */
enum vf_err http_response_head(const struct http_response *res, char **out, size_t *len);

/* 32 random hex characters into buf[33]. */
void http_new_request_id(char buf[33]);

#endif
