/* http.c -- HTTP request/response model: parsing helpers, headers, cookies, file ranges. */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"

static const struct {
    enum http_method m;
    const char *name;
} methods[] = {
    { HTTP_GET, "GET" },         { HTTP_HEAD, "HEAD" },   { HTTP_POST, "POST" },
    { HTTP_PUT, "PUT" },         { HTTP_PATCH, "PATCH" }, { HTTP_DELETE, "DELETE" },
    { HTTP_OPTIONS, "OPTIONS" },
};

enum http_method
http_method_parse(const char *s)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(s, methods[i].name) == 0)
            return methods[i].m;
    return HTTP_OTHER;
}

const char *
http_method_name(enum http_method m)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (methods[i].m == m)
            return methods[i].name;
    return "OTHER";
}

const char *
http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 507:
        return "Insufficient Storage";
    default:
        return "Unknown";
    }
}

void
http_new_request_id(char buf[33])
{
    unsigned char raw[16];
    static const char hex[] = "0123456789abcdef";

    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        /* Not security relevant: fall back to something unique enough. */
        uint64_t t = (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)buf;
        memcpy(raw, &t, sizeof(t));
        memcpy(raw + 8, &t, sizeof(t));
    }
    for (size_t i = 0; i < 16; i++) {
        buf[2 * i] = hex[raw[i] >> 4];
        buf[2 * i + 1] = hex[raw[i] & 15];
    }
    buf[32] = '\0';
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode %XX (and '+' as space when `plus`).  Refuses bad escapes and NUL. */
static ssize_t
decode(const char *in, size_t inlen, char *out, size_t outlen, bool plus)
{
    size_t n = 0;

    for (size_t i = 0; i < inlen; i++) {
        int c = (unsigned char)in[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= inlen)
                return -1;
            hi = hexval((unsigned char)in[i + 1]);
            lo = hexval((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        } else if (plus && c == '+') {
            c = ' ';
        }
        if (c == 0 || n + 1 >= outlen)
            return -1;
        out[n++] = (char)c;
    }
    if (n >= outlen)
        return -1;
    out[n] = '\0';
    return (ssize_t)n;
}

ssize_t
http_percent_decode(const char *in, char *out, size_t outlen)
{
    return decode(in, strlen(in), out, outlen, false);
}

static char *
trimdup(const char *s, size_t len)
{
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return strndup(s, len);
}

/* Cookie: a=1; b="2"; c=3  — first occurrence of a name wins. */
static void
parse_cookies(struct http_request *req, const char *s)
{
    while (*s != '\0' && req->ncookies < HTTP_MAX_COOKIES) {
        const char *end = strchr(s, ';');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        if (eq != NULL) {
            char *name = trimdup(s, (size_t)(eq - s));
            char *val = trimdup(eq + 1, len - (size_t)(eq - s) - 1);
            if (name != NULL && val != NULL && name[0] != '\0' && http_cookie(req, name) == NULL) {
                size_t vl = strlen(val);
                if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
                    memmove(val, val + 1, vl - 2);
                    val[vl - 2] = '\0';
                }
                req->cookies[req->ncookies].name = name;
                req->cookies[req->ncookies].value = val;
                req->ncookies++;
            } else {
                free(name);
                free(val);
            }
        }
        if (end == NULL)
            break;
        s = end + 1;
    }
}

enum vf_err
http_request_add_header(struct http_request *req, const char *name, const char *value)
{
    if (req->nheaders == HTTP_MAX_HEADERS)
        return VF_ERR_TOOBIG;
    char *n = strdup(name), *v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return VF_ERR_NOMEM;
    }
    for (char *p = n; *p != '\0'; p++)
        *p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
    req->headers[req->nheaders].name = n;
    req->headers[req->nheaders].value = v;
    req->nheaders++;
    if (strcmp(n, "cookie") == 0) {
        parse_cookies(req, v);
    } else if (strcmp(n, "content-length") == 0) {
        char *end;
        errno = 0;
        long long cl = strtoll(v, &end, 10);
        req->content_length =
            (errno == 0 && end != v && *end == '\0' && cl >= 0 && isdigit((unsigned char)*v))
                ? cl
                : -2; /* malformed: the dispatcher answers 400 */
    }
    return VF_OK;
}

struct http_request *
http_request_new(const char *method, const char *target, const char *const *headers,
                 size_t nheaders, const void *body, size_t body_len)
{
    struct http_request *req = calloc(1, sizeof(*req));
    if (req == NULL)
        return NULL;
    req->content_length = -1;
    req->method = http_method_parse(method);
    req->method_str = strdup(method);
    const char *q = strchr(target, '?');
    req->path = q ? strndup(target, (size_t)(q - target)) : strdup(target);
    req->query = strdup(q ? q + 1 : "");
    req->remote_addr = strdup("");
    if (req->method_str == NULL || req->path == NULL || req->query == NULL ||
        req->remote_addr == NULL)
        goto fail;
    for (size_t i = 0; i < nheaders; i++) {
        const char *colon = strchr(headers[i], ':');
        if (colon == NULL)
            continue;
        char *name = strndup(headers[i], (size_t)(colon - headers[i]));
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        enum vf_err err = name ? http_request_add_header(req, name, v) : VF_ERR_NOMEM;
        free(name);
        if (err == VF_ERR_NOMEM)
            goto fail;
    }
    if (body != NULL) {
        if ((req->body = malloc(body_len + 1)) == NULL)
            goto fail;
        memcpy(req->body, body, body_len);
        req->body[body_len] = '\0';
        req->body_len = body_len;
        if (req->content_length == -1)
            req->content_length = (int64_t)body_len;
    }
    http_new_request_id(req->request_id);
    return req;
fail:
    http_request_free(req);
    return NULL;
}

void
http_request_free(struct http_request *req)
{
    if (req == NULL)
        return;
    free(req->method_str);
    free(req->path);
    free(req->query);
    free(req->remote_addr);
    for (size_t i = 0; i < req->nheaders; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    for (size_t i = 0; i < req->ncookies; i++) {
        free(req->cookies[i].name);
        free(req->cookies[i].value);
    }
    for (size_t i = 0; i < req->nparams; i++)
        free(req->params[i]);
    free(req->body);
    cJSON_Delete(req->json);
    free(req);
}

const char *
http_header(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *
http_cookie(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->ncookies; i++)
        if (strcmp(req->cookies[i].name, name) == 0)
            return req->cookies[i].value;
    return NULL;
}

const char *
http_query(const struct http_request *req, const char *name, char *buf, size_t len)
{
    const char *p = req->query;
    char key[256];

    while (p != NULL && *p != '\0') {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        if (decode(p, klen, key, sizeof(key), true) >= 0 && strcmp(key, name) == 0) {
            if (eq == NULL) {
                if (len == 0)
                    return NULL;
                buf[0] = '\0';
                return buf;
            }
            if (decode(eq + 1, plen - klen - 1, buf, len, true) < 0)
                return NULL;
            return buf;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

const char *
http_content_type(const struct http_request *req, char *buf, size_t len)
{
    const char *ct = http_header(req, "content-type");
    size_t n = 0;

    if (len == 0)
        return "";
    if (ct != NULL) {
        while (*ct == ' ')
            ct++;
        for (; *ct != '\0' && *ct != ';' && *ct != ' ' && n + 1 < len; ct++)
            buf[n++] = (char)tolower((unsigned char)*ct);
    }
    buf[n] = '\0';
    return buf;
}

void
http_response_init(struct http_response *res)
{
    memset(res, 0, sizeof(*res));
    res->status = 200;
    res->file_fd = -1;
}

void
http_response_free(struct http_response *res)
{
    if (res == NULL)
        return;
    for (size_t i = 0; i < res->nheaders; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    free(res->headers);
    free(res->body);
    if (res->file_fd >= 0)
        close(res->file_fd);
    http_response_init(res);
}

void
http_response_reset(struct http_response *res)
{
    http_response_free(res);
}

static bool
header_value_ok(const char *v)
{
    for (; *v != '\0'; v++)
        if (*v == '\r' || *v == '\n' || *v == '\0')
            return false;
    return true;
}

enum vf_err
http_header_add(struct http_response *res, const char *name, const char *value)
{
    if (!header_value_ok(name) || !header_value_ok(value))
        return VF_ERR_INVALID;
    if (res->nheaders == res->capheaders) {
        size_t cap = res->capheaders ? res->capheaders * 2 : 16;
        struct http_kv *p = realloc(res->headers, cap * sizeof(*p));
        if (p == NULL)
            return VF_ERR_NOMEM;
        res->headers = p;
        res->capheaders = cap;
    }
    char *n = strdup(name), *v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return VF_ERR_NOMEM;
    }
    res->headers[res->nheaders].name = n;
    res->headers[res->nheaders].value = v;
    res->nheaders++;
    return VF_OK;
}

enum vf_err
http_header_set(struct http_response *res, const char *name, const char *value)
{
    size_t j = 0;

    if (!header_value_ok(value))
        return VF_ERR_INVALID;
    for (size_t i = 0; i < res->nheaders; i++) {
        if (strcasecmp(res->headers[i].name, name) == 0) {
            free(res->headers[i].name);
            free(res->headers[i].value);
        } else {
            res->headers[j++] = res->headers[i];
        }
    }
    res->nheaders = j;
    return http_header_add(res, name, value);
}

const char *
http_response_header(const struct http_response *res, const char *name)
{
    for (size_t i = 0; i < res->nheaders; i++)
        if (strcasecmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}

enum vf_err
http_body_take(struct http_response *res, const char *content_type, char *data, size_t len)
{
    free(res->body);
    res->body = data;
    res->body_len = len;
    if (res->file_fd >= 0) {
        close(res->file_fd);
        res->file_fd = -1;
    }
    return content_type ? http_header_set(res, "Content-Type", content_type) : VF_OK;
}

enum vf_err
http_body_set(struct http_response *res, const char *content_type, const void *data, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return VF_ERR_NOMEM;
    if (len > 0)
        memcpy(copy, data, len);
    copy[len] = '\0';
    return http_body_take(res, content_type, copy, len);
}

static bool
cookie_octets_ok(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\')
            return false;
    }
    return true;
}

enum vf_err
http_cookie_set(struct http_response *res, const char *name, const char *value, long max_age,
                bool http_only, bool secure)
{
    char buf[8192];

    if (!cookie_octets_ok(name) || !cookie_octets_ok(value))
        return VF_ERR_INVALID;
    int n = snprintf(buf, sizeof(buf), "%s=%s; %sMax-Age=%ld; Path=/; SameSite=Lax%s%s", name,
                     value, max_age <= 0 ? "expires=Thu, 01 Jan 1970 00:00:00 GMT; " : "",
                     max_age < 0 ? 0 : max_age, http_only ? "; HttpOnly" : "",
                     secure ? "; Secure" : "");
    if (n < 0 || (size_t)n >= sizeof(buf))
        return VF_ERR_TOOBIG;
    return http_header_add(res, "Set-Cookie", buf);
}

enum vf_err
http_cookie_delete(struct http_response *res, const char *name, bool http_only, bool secure)
{
    return http_cookie_set(res, name, "", 0, http_only, secure);
}

/* Parse a single "bytes=a-b" range against `size`.  Returns 1 for a satisfiable
 * range, 0 to ignore the header (serve everything), -1 for unsatisfiable. */
static int
parse_range(const char *h, int64_t size, int64_t *start, int64_t *len)
{
    const char *p;
    char *end;
    long long a, b;

    if (strncasecmp(h, "bytes=", 6) != 0)
        return 0;
    p = h + 6;
    while (*p == ' ')
        p++;
    if (strchr(p, ',') != NULL)
        return 0; /* multiple ranges: answer with the whole file */
    if (*p == '-') {
        errno = 0;
        b = strtoll(p + 1, &end, 10);
        if (errno != 0 || end == p + 1 || *end != '\0' || b < 0)
            return 0;
        if (b == 0 || size == 0)
            return -1;
        if (b > size)
            b = size;
        *start = size - b;
        *len = b;
        return 1;
    }
    if (!isdigit((unsigned char)*p))
        return 0;
    errno = 0;
    a = strtoll(p, &end, 10);
    if (errno != 0 || *end != '-')
        return 0;
    p = end + 1;
    if (*p == '\0') {
        b = size - 1;
    } else {
        if (!isdigit((unsigned char)*p))
            return 0;
        b = strtoll(p, &end, 10);
        if (errno != 0 || *end != '\0' || b < a)
            return 0;
        if (b >= size)
            b = size - 1;
    }
    if (a >= size)
        return -1;
    *start = a;
    *len = b - a + 1;
    return 1;
}

enum vf_err
http_serve_fd(const struct http_request *req, struct http_response *res, int fd,
              const char *content_type)
{
    struct stat st;
    char buf[128];
    int64_t start = 0, len;
    enum vf_err err;

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return VF_ERR_NOTFOUND;
    }
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    if (res->file_fd >= 0)
        close(res->file_fd);
    res->file_fd = fd;
    len = st.st_size;
    res->status = 200;
    const char *range = http_header(req, "range");
    if (range != NULL) {
        switch (parse_range(range, st.st_size, &start, &len)) {
        case 1:
            res->status = 206;
            snprintf(buf, sizeof(buf), "bytes %" PRId64 "-%" PRId64 "/%lld", start, start + len - 1,
                     (long long)st.st_size);
            if ((err = http_header_set(res, "Content-Range", buf)) != VF_OK)
                return err;
            break;
        case -1:
            res->status = 416;
            snprintf(buf, sizeof(buf), "bytes */%lld", (long long)st.st_size);
            close(res->file_fd);
            res->file_fd = -1;
            if ((err = http_header_set(res, "Content-Range", buf)) != VF_OK)
                return err;
            static const char msg[] = "{\"detail\":\"Requested range not satisfiable.\"}";
            return http_body_set(res, "application/json", msg, sizeof(msg) - 1);
        default:
            break;
        }
    }
    res->file_offset = start;
    res->file_length = len;
    if ((err = http_header_set(res, "Accept-Ranges", "bytes")) != VF_OK)
        return err;
    return http_header_set(res, "Content-Type", content_type);
}

enum vf_err
http_response_head(const struct http_response *res, char **out, size_t *outlen)
{
    size_t cap = 256, n = 0;
    bool has_len = http_response_header(res, "Content-Length") != NULL;
    char *buf;

    for (size_t i = 0; i < res->nheaders; i++) {
        const struct http_kv *h = &res->headers[i];
        cap += (h->name ? strlen(h->name) : 0) + (h->value ? strlen(h->value) : 0) + 4;
    }
    if ((buf = malloc(cap)) == NULL)
        return VF_ERR_NOMEM;
    n += (size_t)snprintf(buf + n, cap - n, "Status: %d %s\r\n", res->status,
                          http_reason(res->status));
    for (size_t i = 0; i < res->nheaders; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s: %s\r\n", res->headers[i].name,
                              res->headers[i].value);
    if (!has_len && res->status != 304 && res->status != 204) {
        long long len = res->file_fd >= 0 ? (long long)res->file_length : (long long)res->body_len;
        n += (size_t)snprintf(buf + n, cap - n, "Content-Length: %lld\r\n", len);
    }
    n += (size_t)snprintf(buf + n, cap - n, "\r\n");
    *out = buf;
    *outlen = n;
    return VF_OK;
}
