/* compress.c -- the gzip content coding of generated bodies (playlists), when the client takes it.
 */
#include "autoconf.h"

#include "compress.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* next_in is const: the input is never written through. */
#define ZLIB_CONST
#include <zlib.h>

/* The q-value of one list element's parameters ("; q=0.5"): 1 when absent, 0 when malformed. */
static double
qvalue(const char *p, const char *end)
{
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            char buf[8];
            size_t n = (size_t)(end - p - 2);
            if (n == 0 || n >= sizeof(buf))
                return 0.0;
            memcpy(buf, p + 2, n);
            buf[n] = '\0';
            char *stop = NULL;
            double q = strtod(buf, &stop);
            while (*stop == ' ' || *stop == '\t')
                stop++;
            return *stop == '\0' && q >= 0.0 && q <= 1.0 ? q : 0.0;
        }
        while (p < end && *p != ';')
            p++;
    }
    return 1.0;
}

bool
compress_accepts_gzip(const char *ae)
{
    double gzip_q = -1.0, star_q = -1.0;
    for (const char *p = ae; p != NULL && *p != '\0';) {
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *name_end = p;
        while (name_end < end && *name_end != ';' && *name_end != ' ' && *name_end != '\t')
            name_end++;
        size_t n = (size_t)(name_end - p);
        double q = qvalue(name_end, end);
        if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) ||
            (n == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            gzip_q = q > gzip_q ? q : gzip_q;
        else if (n == 1 && *p == '*')
            star_q = q;
        p = *end == ',' ? end + 1 : end;
    }
    return gzip_q >= 0.0 ? gzip_q > 0.0 : star_q > 0.0;
}

/* gzip of in[0..len) into a malloc'd *out (caller frees).  VF_OK, VF_ERR_NOMEM, VF_ERR_INTERNAL. */
static enum vf_err
gzip(const char *in, size_t len, char **out, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    /* 15 + 16: a gzip wrapper, not zlib's.  Level 6: zlib's default, ~1 ms per 100 KB. */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return VF_ERR_NOMEM;
    uLong cap = deflateBound(&z, (uLong)len);
    char *buf = malloc(cap > 0 ? cap : 1);
    if (buf == NULL) {
        deflateEnd(&z);
        return VF_ERR_NOMEM;
    }
    z.next_in = (const Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *outlen = (size_t)z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return VF_ERR_INTERNAL;
    }
    *out = buf;
    return VF_OK;
}

enum vf_err
compress_body(const struct http_request *req, struct http_response *res)
{
    const char *vary = http_response_header(res, "Vary");
    if (vary == NULL) {
        http_header_set(res, "Vary", "Accept-Encoding");
    } else if (strcasestr(vary, "accept-encoding") == NULL) {
        size_t n = strlen(vary) + sizeof(", Accept-Encoding");
        char *v = malloc(n);
        if (v == NULL)
            return VF_ERR_NOMEM;
        snprintf(v, n, "%s, Accept-Encoding", vary);
        http_header_set(res, "Vary", v);
        free(v);
    }
    if (res->file_fd >= 0 || res->body == NULL ||
        !compress_accepts_gzip(http_header(req, "accept-encoding")) ||
        http_response_header(res, "Content-Encoding") != NULL)
        return VF_OK;
    char *z = NULL;
    size_t zlen = 0;
    if (res->body_len > UINT32_MAX / 2)
        return VF_ERR_INTERNAL; /* not a playlist */
    enum vf_err err = gzip(res->body, res->body_len, &z, &zlen);
    if (err != VF_OK)
        return err;
    free(res->body);
    res->body = z;
    res->body_len = zlen;
    return http_header_set(res, "Content-Encoding", "gzip");
}
