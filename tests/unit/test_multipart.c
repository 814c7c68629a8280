/* test_multipart.c -- unit tests of the streaming multipart/form-data parser. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

/* What the callbacks saw, flattened: one record per part. */
#define MAXP 40
struct seen_part {
    char name[MULTIPART_MAX_NAME + 1];
    char filename[MULTIPART_MAX_FILENAME + 1];
    char ctype[MULTIPART_MAX_CTYPE + 1];
    bool has_filename, has_ctype, ended;
    char *data;
    size_t len, cap;
};

struct seen {
    struct seen_part parts[MAXP];
    size_t n;
    bool open;
    bool protocol_error; /* data or end outside a part, begin inside one */
    size_t stop_after;   /* part_data fails with VF_ERR_TOOBIG beyond this many bytes (0 = never) */
    size_t total;
};

static enum vf_err
on_begin(void *ctx, const struct multipart_part *p)
{
    struct seen *s = ctx;
    if (s->open || s->n >= MAXP) {
        s->protocol_error = true;
        return VF_ERR_INTERNAL;
    }
    struct seen_part *sp = &s->parts[s->n++];
    memset(sp, 0, sizeof(*sp));
    snprintf(sp->name, sizeof(sp->name), "%s", p->name);
    if (p->filename != NULL) {
        sp->has_filename = true;
        snprintf(sp->filename, sizeof(sp->filename), "%s", p->filename);
    }
    if (p->content_type != NULL) {
        sp->has_ctype = true;
        snprintf(sp->ctype, sizeof(sp->ctype), "%s", p->content_type);
    }
    s->open = true;
    return VF_OK;
}

static enum vf_err
on_data(void *ctx, const char *data, size_t len)
{
    struct seen *s = ctx;
    if (!s->open || len == 0) {
        s->protocol_error = true;
        return VF_ERR_INTERNAL;
    }
    s->total += len;
    if (s->stop_after != 0 && s->total > s->stop_after)
        return VF_ERR_TOOBIG;
    struct seen_part *sp = &s->parts[s->n - 1];
    if (sp->len + len + 1 > sp->cap) {
        sp->cap = (sp->len + len + 1) * 2;
        sp->data = realloc(sp->data, sp->cap);
        cr_assert_not_null(sp->data);
    }
    memcpy(sp->data + sp->len, data, len);
    sp->len += len;
    sp->data[sp->len] = '\0';
    return VF_OK;
}

static enum vf_err
on_end(void *ctx)
{
    struct seen *s = ctx;
    if (!s->open) {
        s->protocol_error = true;
        return VF_ERR_INTERNAL;
    }
    s->parts[s->n - 1].ended = true;
    s->open = false;
    return VF_OK;
}

static const struct multipart_callbacks cbs = { on_begin, on_data, on_end };

static void
seen_free(struct seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->parts[i].data);
    memset(s, 0, sizeof(*s));
}

/* Parse `body` cut into chunks of `chunk` bytes (0 = whole); returns the first error. */
static enum vf_err
parse_chunked(const char *boundary, const char *body, size_t len, size_t chunk, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    struct multipart *mp = multipart_new(boundary, &cbs, s);
    cr_assert_not_null(mp);
    enum vf_err err = VF_OK;
    size_t step = chunk == 0 ? len : chunk;
    for (size_t off = 0; off < len && err == VF_OK; off += step) {
        size_t n = len - off < step ? len - off : step;
        err = multipart_feed(mp, body + off, n);
    }
    if (err == VF_OK)
        err = multipart_finish(mp);
    multipart_free(mp);
    return err;
}

/* Parse with one cut at `at`. */
static enum vf_err
parse_split(const char *boundary, const char *body, size_t len, size_t at, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    struct multipart *mp = multipart_new(boundary, &cbs, s);
    cr_assert_not_null(mp);
    enum vf_err err = multipart_feed(mp, body, at);
    if (err == VF_OK)
        err = multipart_feed(mp, body + at, len - at);
    if (err == VF_OK)
        err = multipart_finish(mp);
    multipart_free(mp);
    return err;
}

struct want_part {
    const char *name, *filename, *ctype, *data;
};

struct valid_case {
    const char *what;
    const char *boundary;
    const char *body;
    struct want_part parts[4];
    size_t nparts;
};

#define B "----WebKitFormBoundary7MA4YWxkTrZu0gW"

static const struct valid_case valid_cases[] = {
    { "browser form with a text field and a file",
      B,
      "--" B "\r\n"
      "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
      "My clip\r\n"
      "--" B "\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\n"
      "Content-Type: video/mp4\r\n\r\n"
      "\x00\x00\x00\x18"
      "ftypmp42\r\n--notquite\r\n-" B "\r\r\n\n"
      "\r\n--" B "--\r\n",
      { { "title", NULL, NULL, "My clip" },
        { "file", "clip.mp4", "video/mp4",
          "\x00\x00\x00\x18"
          "ftypmp42\r\n--notquite\r\n-" B "\r\r\n\n" } },
      2 },
    { "empty part body and empty file name",
      "x",
      "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
      "\r\n--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n\r\n--x--",
      { { "a", NULL, NULL, "" }, { "file", "", "application/octet-stream", "" } },
      2 },
    { "preamble, transport padding and epilogue are ignored",
      "b0und",
      "this is a preamble\r\n--b0und  \t\r\n"
      "content-disposition: FORM-DATA;name=plain ; filename=\"a \\\"q\\\" b\\\\.mov\"\r\n"
      "X-Other: ignored\r\n\r\n"
      "data with \r\n--b0un and --b0und but no CRLF before it"
      "\r\n--b0und--  \r\nepilogue \r\n--b0und\r\n more",
      { { "plain", "a \"q\" b\\.mov", NULL,
          "data with \r\n--b0un and --b0und but no CRLF before it" } },
      1 },
    { "windows path with raw backslashes in the file name",
      "q",
      "--q\r\nContent-Disposition: form-data; name=\"f\"; filename=\"C:\\dir\\x.mkv\"\r\n\r\n"
      "abc\r\n--q--\r\n",
      { { "f", "C:\\dir\\x.mkv", NULL, "abc" } },
      1 },
    { "body that is all CR LF and dashes",
      "--==",
      "----==\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n"
      "\r\r\n\r\n-\r\n--\r\n---\r\n----=\r\n\r\n\r\n----==--",
      { { "n", NULL, NULL, "\r\r\n\r\n-\r\n--\r\n---\r\n----=\r\n\r\n" } },
      1 },
    { "utf-8 file name and a boundary with every special character",
      "'()+_,-./:=? z",
      "--'()+_,-./:=? z\r\nContent-Disposition: form-data; name=\"v\"; "
      "filename=\"\xc3\xa9t\xc3\xa9.webm\"\r\n\r\nX\r\n--'()+_,-./:=? z--",
      { { "v", "\xc3\xa9t\xc3\xa9.webm", NULL, "X" } },
      1 },
};

static void
check_valid(const struct valid_case *c, struct seen *s, enum vf_err err, const char *how,
            size_t arg)
{
    cr_assert_eq(err, VF_OK, "%s (%s %zu): error %d", c->what, how, arg, (int)err);
    cr_assert(!s->protocol_error, "%s (%s %zu): callback order", c->what, how, arg);
    cr_assert(!s->open, "%s: a part was left open", c->what);
    cr_assert_eq(s->n, c->nparts, "%s (%s %zu): %zu parts", c->what, how, arg, s->n);
    for (size_t i = 0; i < c->nparts; i++) {
        const struct want_part *w = &c->parts[i];
        const struct seen_part *g = &s->parts[i];
        cr_assert_str_eq(g->name, w->name, "%s: part %zu name", c->what, i);
        cr_assert_eq(g->has_filename, w->filename != NULL, "%s: part %zu filename?", c->what, i);
        if (w->filename != NULL)
            cr_assert_str_eq(g->filename, w->filename, "%s: part %zu filename", c->what, i);
        cr_assert_eq(g->has_ctype, w->ctype != NULL);
        if (w->ctype != NULL)
            cr_assert_str_eq(g->ctype, w->ctype);
        cr_assert(g->ended);
        /* the first case holds NULs: compare by the expected length */
        size_t wl = strlen(w->data);
        if (i == 1 && c == &valid_cases[0])
            wl = 4 + strlen("ftypmp42\r\n--notquite\r\n-" B "\r\r\n\n");
        cr_assert_eq(g->len, wl, "%s (%s %zu): part %zu has %zu bytes, want %zu", c->what, how, arg,
                     i, g->len, wl);
        cr_assert(wl == 0 || memcmp(g->data, w->data, wl) == 0, "%s (%s %zu): part %zu data",
                  c->what, how, arg, i);
    }
}

static size_t
case_len(const struct valid_case *c)
{
    /* the first case starts with text, so strlen would stop at the embedded NULs */
    if (c == &valid_cases[0]) {
        const char *tail = "ftypmp42\r\n--notquite\r\n-" B "\r\r\n\n\r\n--" B "--\r\n";
        const char *p = c->body;
        size_t head = strlen(p); /* up to the first NUL of the file data */
        return head + 4 + strlen(tail);
    }
    return strlen(c->body);
}

Test(multipart, valid_bodies_parse_the_same_for_every_chunk_size)
{
    for (size_t k = 0; k < sizeof(valid_cases) / sizeof(valid_cases[0]); k++) {
        const struct valid_case *c = &valid_cases[k];
        size_t len = case_len(c);
        struct seen s;
        for (size_t chunk = 0; chunk <= len; chunk++) {
            enum vf_err err = parse_chunked(c->boundary, c->body, len, chunk, &s);
            check_valid(c, &s, err, "chunk", chunk);
            seen_free(&s);
        }
    }
}

Test(multipart, valid_bodies_parse_the_same_for_every_split_point)
{
    for (size_t k = 0; k < sizeof(valid_cases) / sizeof(valid_cases[0]); k++) {
        const struct valid_case *c = &valid_cases[k];
        size_t len = case_len(c);
        struct seen s;
        for (size_t at = 0; at <= len; at++) {
            enum vf_err err = parse_split(c->boundary, c->body, len, at, &s);
            check_valid(c, &s, err, "split", at);
            seen_free(&s);
        }
    }
}

struct bad_case {
    const char *what;
    const char *body;
};

#define CD "Content-Disposition: form-data; name=\"a\"\r\n"
static const struct bad_case bad_cases[] = {
    { "empty body", "" },
    { "no close delimiter", "--x\r\n" CD "\r\nabc" },
    { "truncated close delimiter", "--x\r\n" CD "\r\nabc\r\n--x-" },
    { "truncated inside headers", "--x\r\nContent-Disp" },
    { "delimiter without CRLF", "--x\r\n" CD "\r\nabc\r\n--xy\r\n--x--" },
    { "garbage after the delimiter", "--xZ\r\n" CD "\r\na\r\n--x--" },
    { "bare LF after the delimiter", "--x\n" CD "\r\na\r\n--x--" },
    { "single dash after the delimiter", "--x-\r\n" CD "\r\na\r\n--x--" },
    { "bare LF in headers", "--x\r\nContent-Disposition: form-data; name=\"a\"\n\r\na\r\n--x--" },
    { "CR without LF in headers",
      "--x\r\nContent-Disposition: form-data; name=\"a\"\rX\r\n\r\na\r\n--x--" },
    { "folded header", "--x\r\n" CD " continued\r\n\r\na\r\n--x--" },
    { "header without colon", "--x\r\n" CD "Broken header\r\n\r\na\r\n--x--" },
    { "space before the colon",
      "--x\r\nContent-Disposition : form-data; name=\"a\"\r\n\r\na\r\n--x--" },
    { "no Content-Disposition", "--x\r\nContent-Type: text/plain\r\n\r\na\r\n--x--" },
    { "no headers at all", "--x\r\n\r\na\r\n--x--" },
    { "not form-data", "--x\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\na\r\n--x--" },
    { "no name", "--x\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\na\r\n--x--" },
    { "empty name", "--x\r\nContent-Disposition: form-data; name=\"\"\r\n\r\na\r\n--x--" },
    { "repeated name", "--x\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\na\r\n--x--" },
    { "repeated filename",
      "--x\r\nContent-Disposition: form-data; name=a; filename=b; filename=c\r\n\r\na\r\n--x--" },
    { "repeated Content-Disposition", "--x\r\n" CD CD "\r\na\r\n--x--" },
    { "repeated Content-Type",
      "--x\r\n" CD "Content-Type: a/b\r\nContent-Type: a/b\r\n\r\na\r\n--x--" },
    { "unterminated quoted name",
      "--x\r\nContent-Disposition: form-data; name=\"a\r\n\r\na\r\n--x--" },
    { "junk after a quoted value",
      "--x\r\nContent-Disposition: form-data; name=\"a\"b\r\n\r\na\r\n--x--" },
    { "parameter without value", "--x\r\nContent-Disposition: form-data; name=\r\n\r\na\r\n--x--" },
    { "control character in headers",
      "--x\r\nContent-Disposition: form-data; name=\"a\"\r\nX-A: \x01\r\n\r\na\r\n--x--" },
    { "body that never starts with the boundary", "hello world" },
};

Test(multipart, malformed_bodies_are_refused_for_every_chunk_size)
{
    for (size_t k = 0; k < sizeof(bad_cases) / sizeof(bad_cases[0]); k++) {
        const struct bad_case *c = &bad_cases[k];
        size_t len = strlen(c->body);
        struct seen s;
        for (size_t chunk = 0; chunk <= len; chunk++) {
            enum vf_err err = parse_chunked("x", c->body, len, chunk, &s);
            cr_assert_eq(err, VF_ERR_INVALID, "%s (chunk %zu): got %d", c->what, chunk, (int)err);
            cr_assert(!s.protocol_error, "%s: callback order", c->what);
            seen_free(&s);
        }
    }
}

Test(multipart, error_is_sticky_and_described)
{
    struct seen s;
    memset(&s, 0, sizeof(s));
    struct multipart *mp = multipart_new("x", &cbs, &s);
    cr_assert_eq(multipart_feed(mp, "--x\r\nBad\r\n", 11), VF_ERR_INVALID);
    cr_assert_str_eq(multipart_error(mp), "malformed part header");
    cr_assert_eq(multipart_feed(mp, "\r\n", 2), VF_ERR_INVALID);
    cr_assert_eq(multipart_finish(mp), VF_ERR_INVALID);
    multipart_free(mp);
    seen_free(&s);
    multipart_free(NULL);
}

Test(multipart, callback_error_stops_the_parser_and_is_returned)
{
    const char *body = "--x\r\n" CD "\r\n0123456789abcdef\r\n--x--";
    struct seen s;
    memset(&s, 0, sizeof(s));
    s.stop_after = 10;
    struct multipart *mp = multipart_new("x", &cbs, &s);
    enum vf_err err = VF_OK;
    for (size_t i = 0; body[i] != '\0' && err == VF_OK; i++)
        err = multipart_feed(mp, body + i, 1);
    cr_assert_eq(err, VF_ERR_TOOBIG);
    cr_assert_eq(multipart_feed(mp, "x", 1), VF_ERR_TOOBIG);
    cr_assert_eq(multipart_finish(mp), VF_ERR_TOOBIG);
    multipart_free(mp);
    seen_free(&s);
}

Test(multipart, header_block_over_the_limit_is_refused)
{
    size_t n = MULTIPART_MAX_HEADER_BYTES + 100;
    char *body = malloc(n + 200);
    int off = snprintf(body, 200, "--x\r\n" CD "X-Pad: ");
    memset(body + off, 'p', n);
    memcpy(body + off + n, "\r\n\r\na\r\n--x--", 13);
    struct seen s;
    cr_assert_eq(parse_chunked("x", body, strlen(body), 4096, &s), VF_ERR_INVALID);
    seen_free(&s);
    free(body);
}

Test(multipart, too_many_parts_are_refused)
{
    char body[8192];
    size_t off = 0;
    for (int i = 0; i <= MULTIPART_MAX_PARTS; i++)
        off += (size_t)snprintf(body + off, sizeof(body) - off, "--x\r\n" CD "\r\nv\r\n");
    off += (size_t)snprintf(body + off, sizeof(body) - off, "--x--");
    struct seen s;
    cr_assert_eq(parse_chunked("x", body, off, 0, &s), VF_ERR_INVALID);
    cr_assert_eq(s.n, MULTIPART_MAX_PARTS);
    seen_free(&s);
}

Test(multipart, large_binary_part_streams_through_in_random_chunks)
{
    const char *bd = "bnd";
    size_t datalen = 4u << 20;
    char *data = malloc(datalen);
    cr_assert_not_null(data);
    unsigned x = 12345;
    for (size_t i = 0; i < datalen; i++) {
        x = x * 1103515245u + 12345u;
        /* plenty of near-delimiters: CR, LF, '-' and boundary letters */
        static const char alphabet[] = "\r\n-bnd\r\n--bn\x00\xff";
        data[i] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
    }
    /* the data must not contain the delimiter itself */
    for (char *hit; (hit = memmem(data, datalen, "\r\n--bnd", 7)) != NULL;)
        hit[3] = 'x';
    static const char head[] =
        "--bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n";
    static const char tail[] = "\r\n--bnd--\r\n";
    const size_t headlen = sizeof(head) - 1, taillen = sizeof(tail) - 1;
    size_t len = headlen + datalen + taillen; /* binary: no terminating NUL */
    char *body = malloc(len);
    cr_assert_not_null(body);
    memcpy(body, head, headlen);
    memcpy(body + headlen, data, datalen);
    memcpy(body + headlen + datalen, tail, taillen);

    struct seen s;
    memset(&s, 0, sizeof(s));
    struct multipart *mp = multipart_new(bd, &cbs, &s);
    size_t off = 0;
    while (off < len) {
        x = x * 1103515245u + 12345u;
        size_t n = 1 + (x >> 8) % 70000;
        if (n > len - off)
            n = len - off;
        cr_assert_eq(multipart_feed(mp, body + off, n), VF_OK);
        off += n;
    }
    cr_assert_eq(multipart_finish(mp), VF_OK);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.parts[0].len, datalen);
    cr_assert(memcmp(s.parts[0].data, data, datalen) == 0);
    multipart_free(mp);
    seen_free(&s);
    free(body);
    free(data);
}

struct boundary_case {
    const char *content_type;
    enum vf_err err;
    const char *boundary;
};

static const struct boundary_case boundary_cases[] = {
    { "multipart/form-data; boundary=abc", VF_OK, "abc" },
    { "Multipart/Form-Data ;BOUNDARY=\"a b:c\"", VF_OK, "a b:c" },
    { "multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundaryX1", VF_OK,
      "----WebKitFormBoundaryX1" },
    { "multipart/form-data; boundary=abc;", VF_OK, "abc" },
    { "multipart/form-data", VF_ERR_INVALID, NULL },
    { "multipart/form-data; boundary=", VF_ERR_INVALID, NULL },
    { "multipart/form-data; boundary=\"\"", VF_ERR_INVALID, NULL },
    { "multipart/form-data; boundary=\"ends with space \"", VF_ERR_INVALID, NULL },
    { "multipart/form-data; boundary=\"bad\r\"", VF_ERR_INVALID, NULL },
    { "multipart/form-data; boundary=a; boundary=b", VF_ERR_INVALID, NULL },
    { "multipart/form-data; boundary="
      "12345678901234567890123456789012345678901234567890123456789012345678901",
      VF_ERR_INVALID, NULL },
    { "multipart/form-data; boundary=a b", VF_ERR_INVALID, NULL },
    { "multipart/mixed; boundary=abc", VF_ERR_MEDIATYPE, NULL },
    { "application/json", VF_ERR_MEDIATYPE, NULL },
    { "", VF_ERR_MEDIATYPE, NULL },
    { NULL, VF_ERR_MEDIATYPE, NULL },
};

Test(multipart, boundary_is_extracted_from_the_content_type)
{
    for (size_t i = 0; i < sizeof(boundary_cases) / sizeof(boundary_cases[0]); i++) {
        const struct boundary_case *c = &boundary_cases[i];
        char out[MULTIPART_MAX_BOUNDARY + 1];
        enum vf_err err = multipart_boundary(c->content_type, out, sizeof(out));
        cr_assert_eq(err, c->err, "'%s': got %d want %d",
                     c->content_type ? c->content_type : "(null)", (int)err, (int)c->err);
        if (c->boundary != NULL)
            cr_assert_str_eq(out, c->boundary);
    }
}

Test(multipart, malformed_boundaries_make_no_parser)
{
    cr_assert_null(multipart_new("", &cbs, NULL));
    cr_assert_null(multipart_new("has\rcr", &cbs, NULL));
    cr_assert_null(multipart_new(NULL, &cbs, NULL));
    struct multipart *mp = multipart_new("ok", NULL, NULL);
    cr_assert_not_null(mp);
    cr_assert_eq(multipart_feed(mp, "--ok\r\n" CD "\r\nz\r\n--ok--", 11 + strlen(CD) + 10), VF_OK);
    cr_assert_eq(multipart_finish(mp), VF_OK);
    cr_assert_eq(multipart_parts(mp), 1);
    multipart_free(mp);
}

Test(multipart, preamble_over_the_limit_is_refused_but_a_short_one_is_fine)
{
    char body[4096];
    for (size_t pre = MULTIPART_MAX_PREAMBLE - 2; pre <= MULTIPART_MAX_PREAMBLE + 2; pre++) {
        memset(body, 'p', pre);
        int n = snprintf(body + pre, sizeof(body) - pre, "\r\n--x\r\n" CD "\r\nv\r\n--x--");
        size_t len = pre + (size_t)n;
        struct seen s;
        for (size_t chunk = 0; chunk < 40; chunk += 7) {
            /* the CRLF before the first delimiter is part of the delimiter, not the preamble */
            enum vf_err want = pre <= MULTIPART_MAX_PREAMBLE ? VF_OK : VF_ERR_INVALID;
            cr_assert_eq(parse_chunked("x", body, len, chunk, &s), want, "preamble %zu chunk %zu",
                         pre, chunk);
            seen_free(&s);
        }
    }
}
