/* multipart.c -- a streaming multipart/form-data parser with bounded memory. */
#include "autoconf.h"

#include "multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum state {
    ST_PREAMBLE,    /* looking for the first delimiter; bytes are discarded */
    ST_AFTER_DELIM, /* a delimiter matched: "--", padding or CRLF follows */
    ST_PADDING,     /* transport padding (spaces/tabs) before the CRLF */
    ST_DELIM_LF,    /* CR seen after a delimiter */
    ST_CLOSE_DASH,  /* first '-' of the close delimiter seen */
    ST_HEADERS,     /* inside a part's header block */
    ST_HEADER_LF,   /* CR seen at the end of a header line */
    ST_BODY,        /* part body: bytes go to part_data until the next delimiter */
    ST_EPILOGUE,    /* after the close delimiter: everything is ignored */
    ST_ERROR,
};

struct multipart {
    const struct multipart_callbacks *cb;
    void *ctx;
    enum state state;
    enum vf_err err;
    const char *errmsg;

    /* "\r\n--" boundary: the delimiter searched for in bodies. */
    char delim[MULTIPART_MAX_BOUNDARY + 5];
    size_t dlen;
    size_t match; /* bytes of delim matched so far */
    bool implied; /* the CRLF matched so far is the implied one at the very start */
    size_t preamble;
    size_t nparts;

    /* The header block of the current part. */
    char line[MULTIPART_MAX_HEADER_BYTES + 1];
    size_t linelen;
    size_t hdrbytes, nheaders;
    bool have_disposition, have_ctype, have_name, have_filename;
    char name[MULTIPART_MAX_NAME + 1];
    char filename[MULTIPART_MAX_FILENAME + 1];
    char ctype[MULTIPART_MAX_CTYPE + 1];
};

static bool
is_bchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

static bool
boundary_valid(const char *b)
{
    size_t n = strlen(b);
    if (n == 0 || n > MULTIPART_MAX_BOUNDARY || b[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_bchar((unsigned char)b[i]))
            return false;
    return true;
}

static bool
is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *
skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/*
 * Parse one `; name=value` parameter at *pp (after the leading ';' and OWS).
 * The name goes to pname (lower-case), the unquoted value to pval.  A quoted
 * value takes backslash as an escape only before '"' or '\\' (browsers send raw
 * backslashes in file names and percent-encode quotes).  Returns false when
 * malformed or too long.
 */
static bool
parse_param(const char **pp, char *pname, size_t nlen, char *pval, size_t vlen)
{
    const char *p = *pp;
    size_t n = 0;
    while (is_tchar((unsigned char)*p)) {
        if (n + 1 >= nlen)
            return false;
        char c = *p++;
        pname[n++] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
    pname[n] = '\0';
    if (n == 0 || *p != '=')
        return false;
    p++;
    n = 0;
    if (*p == '"') {
        p++;
        for (;;) {
            char c = *p;
            if (c == '\0')
                return false;
            if (c == '"') {
                p++;
                break;
            }
            if (c == '\\' && (p[1] == '"' || p[1] == '\\'))
                c = *++p;
            if (n + 1 >= vlen)
                return false;
            pval[n++] = c;
            p++;
        }
    } else {
        while (is_tchar((unsigned char)*p)) {
            if (n + 1 >= vlen)
                return false;
            pval[n++] = *p++;
        }
        if (n == 0)
            return false;
    }
    pval[n] = '\0';
    p = skip_ows(p);
    if (*p != '\0' && *p != ';')
        return false;
    *pp = p;
    return true;
}

enum vf_err
multipart_boundary(const char *content_type, char *out, size_t outlen)
{
    if (content_type == NULL || out == NULL || outlen < MULTIPART_MAX_BOUNDARY + 1)
        return VF_ERR_MEDIATYPE;
    const char *p = skip_ows(content_type);
    const char *semi = strchr(p, ';');
    size_t tlen = semi != NULL ? (size_t)(semi - p) : strlen(p);
    while (tlen > 0 && (p[tlen - 1] == ' ' || p[tlen - 1] == '\t'))
        tlen--;
    static const char mt[] = "multipart/form-data";
    if (tlen != sizeof(mt) - 1 || strncasecmp(p, mt, tlen) != 0)
        return VF_ERR_MEDIATYPE;
    bool found = false;
    p = semi;
    while (p != NULL && *p == ';') {
        p = skip_ows(p + 1);
        if (*p == '\0')
            break; /* a trailing ';' is harmless */
        char name[32], val[MULTIPART_MAX_BOUNDARY + 2];
        if (!parse_param(&p, name, sizeof(name), val, sizeof(val)))
            return VF_ERR_INVALID;
        if (strcmp(name, "boundary") == 0) {
            if (found || !boundary_valid(val))
                return VF_ERR_INVALID;
            memcpy(out, val, strlen(val) + 1);
            found = true;
        }
    }
    return found ? VF_OK : VF_ERR_INVALID;
}

struct multipart *
multipart_new(const char *boundary, const struct multipart_callbacks *cb, void *ctx)
{
    static const struct multipart_callbacks none = { NULL, NULL, NULL };
    if (boundary == NULL || !boundary_valid(boundary))
        return NULL;
    struct multipart *mp = calloc(1, sizeof(*mp));
    if (mp == NULL)
        return NULL;
    mp->cb = cb != NULL ? cb : &none;
    mp->ctx = ctx;
    mp->dlen = (size_t)snprintf(mp->delim, sizeof(mp->delim), "\r\n--%s", boundary);
    mp->state = ST_PREAMBLE;
    mp->match = 2; /* the first delimiter may start the body: its CRLF is implied */
    mp->implied = true;
    return mp;
}

void
multipart_free(struct multipart *mp)
{
    free(mp);
}

const char *
multipart_error(const struct multipart *mp)
{
    return mp != NULL && mp->errmsg != NULL ? mp->errmsg : "no error";
}

size_t
multipart_parts(const struct multipart *mp)
{
    return mp != NULL ? mp->nparts : 0;
}

static enum vf_err
fail(struct multipart *mp, enum vf_err err, const char *msg)
{
    mp->state = ST_ERROR;
    mp->err = err;
    mp->errmsg = msg;
    return err;
}

static enum vf_err
emit(struct multipart *mp, const char *data, size_t len)
{
    if (len == 0 || mp->cb->part_data == NULL)
        return VF_OK;
    enum vf_err err = mp->cb->part_data(mp->ctx, data, len);
    return err != VF_OK ? fail(mp, err, "rejected by the receiver") : VF_OK;
}

/* Preamble bytes are dropped, but only so many: a body that is not multipart at
 * all should fail early rather than be read to the end. */
static enum vf_err
discard(struct multipart *mp, size_t len)
{
    mp->preamble += len;
    if (mp->preamble > MULTIPART_MAX_PREAMBLE)
        return fail(mp, VF_ERR_INVALID, "body does not start with the boundary");
    return VF_OK;
}

static void
header_reset(struct multipart *mp)
{
    mp->linelen = 0;
    mp->hdrbytes = 0;
    mp->nheaders = 0;
    mp->have_disposition = mp->have_ctype = mp->have_name = mp->have_filename = false;
    mp->name[0] = mp->filename[0] = mp->ctype[0] = '\0';
}

static enum vf_err
parse_disposition(struct multipart *mp, const char *v)
{
    static const char fd[] = "form-data";
    const char *p = v;
    size_t n = 0;
    while (is_tchar((unsigned char)p[n]))
        n++;
    if (n != sizeof(fd) - 1 || strncasecmp(p, fd, n) != 0)
        return fail(mp, VF_ERR_INVALID, "part is not form-data");
    p = skip_ows(p + n);
    while (*p == ';') {
        p = skip_ows(p + 1);
        if (*p == '\0')
            break;
        char pname[32], pval[MULTIPART_MAX_FILENAME + 1];
        if (!parse_param(&p, pname, sizeof(pname), pval, sizeof(pval)))
            return fail(mp, VF_ERR_INVALID, "malformed Content-Disposition");
        if (strcmp(pname, "name") == 0) {
            if (mp->have_name || strlen(pval) > MULTIPART_MAX_NAME)
                return fail(mp, VF_ERR_INVALID, "bad or repeated name parameter");
            memcpy(mp->name, pval, strlen(pval) + 1);
            mp->have_name = true;
        } else if (strcmp(pname, "filename") == 0) {
            if (mp->have_filename)
                return fail(mp, VF_ERR_INVALID, "repeated filename parameter");
            memcpy(mp->filename, pval, strlen(pval) + 1);
            mp->have_filename = true;
        }
    }
    if (*p != '\0')
        return fail(mp, VF_ERR_INVALID, "malformed Content-Disposition");
    if (!mp->have_name || mp->name[0] == '\0')
        return fail(mp, VF_ERR_INVALID, "part without a name");
    return VF_OK;
}

/* One complete header line (without CRLF) in mp->line. */
static enum vf_err
header_line(struct multipart *mp)
{
    char *line = mp->line;
    line[mp->linelen] = '\0';
    if (++mp->nheaders > MULTIPART_MAX_HEADERS)
        return fail(mp, VF_ERR_INVALID, "too many part headers");
    if (line[0] == ' ' || line[0] == '\t')
        return fail(mp, VF_ERR_INVALID, "folded part header");
    size_t n = 0;
    while (is_tchar((unsigned char)line[n]))
        n++;
    if (n == 0 || line[n] != ':')
        return fail(mp, VF_ERR_INVALID, "malformed part header");
    line[n] = '\0';
    char *v = (char *)skip_ows(line + n + 1);
    size_t vlen = strlen(v);
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        v[--vlen] = '\0';
    if (strcasecmp(line, "content-disposition") == 0) {
        if (mp->have_disposition)
            return fail(mp, VF_ERR_INVALID, "repeated Content-Disposition");
        mp->have_disposition = true;
        return parse_disposition(mp, v);
    }
    if (strcasecmp(line, "content-type") == 0) {
        if (mp->have_ctype || vlen > MULTIPART_MAX_CTYPE)
            return fail(mp, VF_ERR_INVALID, "bad or repeated part Content-Type");
        memcpy(mp->ctype, v, vlen + 1);
        mp->have_ctype = true;
    }
    return VF_OK; /* other headers are ignored */
}

static enum vf_err
headers_done(struct multipart *mp)
{
    if (!mp->have_disposition)
        return fail(mp, VF_ERR_INVALID, "part without Content-Disposition");
    if (++mp->nparts > MULTIPART_MAX_PARTS)
        return fail(mp, VF_ERR_INVALID, "too many parts");
    struct multipart_part part = {
        .name = mp->name,
        .filename = mp->have_filename ? mp->filename : NULL,
        .content_type = mp->have_ctype ? mp->ctype : NULL,
    };
    if (mp->cb->part_begin != NULL) {
        enum vf_err err = mp->cb->part_begin(mp->ctx, &part);
        if (err != VF_OK)
            return fail(mp, err, "rejected by the receiver");
    }
    mp->state = ST_BODY;
    mp->match = 0;
    return VF_OK;
}

/* A whole delimiter matched in the preamble or a body. */
static enum vf_err
delimiter(struct multipart *mp)
{
    if (mp->state == ST_BODY && mp->cb->part_end != NULL) {
        enum vf_err err = mp->cb->part_end(mp->ctx);
        if (err != VF_OK)
            return fail(mp, err, "rejected by the receiver");
    }
    mp->state = ST_AFTER_DELIM;
    mp->match = 0;
    return VF_OK;
}

/* Scan [*pp, end) for the delimiter, handing body bytes to part_data (ST_BODY) or
 * discarding them (ST_PREAMBLE).  Stops after a delimiter or at end. */
static enum vf_err
scan(struct multipart *mp, const char **pp, const char *end)
{
    const char *p = *pp;
    bool body = mp->state == ST_BODY;
    enum vf_err err = VF_OK;
    while (p < end) {
        if (mp->match == 0) {
            const char *cr = memchr(p, '\r', (size_t)(end - p));
            size_t run = cr != NULL ? (size_t)(cr - p) : (size_t)(end - p);
            if (body)
                err = emit(mp, p, run);
            else
                err = discard(mp, run);
            if (err != VF_OK)
                return err;
            p += run;
            if (cr == NULL)
                break;
            mp->match = 1;
            p++;
            continue;
        }
        if (*p == mp->delim[mp->match]) {
            p++;
            if (++mp->match == mp->dlen) {
                *pp = p;
                return delimiter(mp);
            }
            continue;
        }
        /* Mismatch: what matched so far was data.  Since the boundary holds no
         * CR, a new match can only start at this byte, and only if it is a CR. */
        if (body)
            err = emit(mp, mp->delim, mp->match);
        else
            err = discard(mp, mp->implied ? mp->match - 2 : mp->match);
        mp->implied = false;
        if (err != VF_OK)
            return err;
        mp->match = 0;
        if (*p == '\r') {
            mp->match = 1;
            p++;
        }
    }
    *pp = p;
    return VF_OK;
}

enum vf_err
multipart_feed(struct multipart *mp, const char *data, size_t len)
{
    if (mp == NULL)
        return VF_ERR_INVALID;
    const char *p = data, *end = data + len;
    enum vf_err err = VF_OK;
    while (p < end && err == VF_OK) {
        switch (mp->state) {
        case ST_PREAMBLE:
        case ST_BODY:
            err = scan(mp, &p, end);
            break;
        case ST_AFTER_DELIM:
            if (*p == '-')
                mp->state = ST_CLOSE_DASH;
            else if (*p == ' ' || *p == '\t')
                mp->state = ST_PADDING;
            else if (*p == '\r')
                mp->state = ST_DELIM_LF;
            else
                err = fail(mp, VF_ERR_INVALID, "garbage after a boundary");
            p++;
            break;
        case ST_PADDING:
            if (*p == '\r')
                mp->state = ST_DELIM_LF;
            else if (*p != ' ' && *p != '\t')
                err = fail(mp, VF_ERR_INVALID, "garbage after a boundary");
            p++;
            break;
        case ST_DELIM_LF:
            if (*p++ != '\n')
                err = fail(mp, VF_ERR_INVALID, "boundary line without CRLF");
            else {
                header_reset(mp);
                mp->state = ST_HEADERS;
            }
            break;
        case ST_CLOSE_DASH:
            if (*p++ != '-')
                err = fail(mp, VF_ERR_INVALID, "garbage after a boundary");
            else
                mp->state = ST_EPILOGUE;
            break;
        case ST_HEADERS: {
            unsigned char c = (unsigned char)*p++;
            if (++mp->hdrbytes > MULTIPART_MAX_HEADER_BYTES)
                err = fail(mp, VF_ERR_INVALID, "part headers too large");
            else if (c == '\r')
                mp->state = ST_HEADER_LF;
            else if ((c < 0x20 && c != '\t') || c == 0x7f)
                err = fail(mp, VF_ERR_INVALID, "control character in part headers");
            else
                mp->line[mp->linelen++] = (char)c;
            break;
        }
        case ST_HEADER_LF:
            if (*p++ != '\n') {
                err = fail(mp, VF_ERR_INVALID, "part header line without CRLF");
            } else if (++mp->hdrbytes > MULTIPART_MAX_HEADER_BYTES) {
                err = fail(mp, VF_ERR_INVALID, "part headers too large");
            } else if (mp->linelen == 0) {
                err = headers_done(mp);
            } else {
                err = header_line(mp);
                mp->linelen = 0;
                if (err == VF_OK)
                    mp->state = ST_HEADERS;
            }
            break;
        case ST_EPILOGUE:
            p = end;
            break;
        case ST_ERROR:
            return mp->err;
        }
    }
    return mp->state == ST_ERROR ? mp->err : err;
}

enum vf_err
multipart_finish(struct multipart *mp)
{
    if (mp == NULL)
        return VF_ERR_INVALID;
    if (mp->state == ST_ERROR)
        return mp->err;
    if (mp->state != ST_EPILOGUE)
        return fail(mp, VF_ERR_INVALID, "body ends before the closing boundary");
    return VF_OK;
}
