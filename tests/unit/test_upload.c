/* test_upload.c -- unit tests of the upload pipeline: container sniffing, metadata validation,
 * and refusals that must leave nothing on disk (no database or GStreamer needed). */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "upload.h"
#include "uploadform.h"
#include "videoadmin.h"

/* ------------------------------------------------------------------ sniffing */

struct sniff_case {
    const char *what;
    const unsigned char *data;
    size_t len;
    const char *ext; /* NULL: refused */
};

static unsigned char ts[188 * 3], m2ts[192 * 3], text[64];
/* RIFF headers: exactly 16 bytes, no terminating NUL. */
static const unsigned char riff_avi[16] = "RIFF\x10\x00\x00\x00"
                                          "AVI LIST";
static const unsigned char riff_wav[16] = "RIFF\x10\x00\x00\x00"
                                          "WAVEfmt ";

static void
sniff_setup(void)
{
    memset(ts, 0xff, sizeof(ts));
    for (size_t i = 0; i < sizeof(ts); i += 188)
        ts[i] = 0x47;
    memset(m2ts, 0xff, sizeof(m2ts));
    for (size_t i = 4; i < sizeof(m2ts); i += 192)
        m2ts[i] = 0x47;
    memset(text, 'a', sizeof(text));
}

#define CASE(what, lit, ext)                                                                       \
    {                                                                                              \
        what, (const unsigned char *)(lit), sizeof(lit) - 1, ext                                   \
    }

Test(upload, containers_are_recognised_by_their_magic_bytes, .init = sniff_setup)
{
    const struct sniff_case cases[] = {
        CASE("mp4 (isom brand)",
             "\x00\x00\x00\x18"
             "ftypisom\x00\x00\x02\x00",
             "mp4"),
        CASE("mp4 (mp42 brand)",
             "\x00\x00\x00\x1c"
             "ftypmp42\x00\x00\x00\x00",
             "mp4"),
        CASE("quicktime (qt brand)",
             "\x00\x00\x00\x14"
             "ftypqt  \x00\x00\x02\x00",
             "mov"),
        CASE("old quicktime (moov first)",
             "\x00\x00\x10\x00"
             "moov\x00\x00\x00\x6c",
             "mov"),
        CASE("old quicktime (mdat first)",
             "\x00\x00\x10\x00"
             "mdat",
             "mov"),
        CASE("matroska", "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", "mkv"),
        CASE("webm", "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
        CASE("ogg", "OggS\x00\x02\x00\x00", "ogv"),
        CASE("flv", "FLV\x01\x05\x00\x00\x00\x09", "flv"),
        CASE("asf/wmv", "\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9", "wmv"),
        CASE("mpeg program stream", "\x00\x00\x01\xba\x44\x00", "mpg"),
        CASE("ftyp cut short",
             "\x00\x00\x00\x18"
             "ftyp",
             NULL),
        CASE("html", "<!doctype html><html>", NULL),
        CASE("png", "\x89PNG\r\n\x1a\n\x00\x00", NULL),
        CASE("zip", "PK\x03\x04\x14\x00", NULL),
        CASE("elf",
             "\x7f"
             "ELF\x02\x01\x01",
             NULL),
        CASE("one sync byte is not a transport stream", "\x47\x40\x00\x10", NULL),
        CASE("empty", "", NULL),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = upload_sniff(cases[i].data, cases[i].len);
        if (cases[i].ext == NULL)
            cr_assert_null(got, "%s: got %s", cases[i].what, got);
        else
            cr_assert(got != NULL && strcmp(got, cases[i].ext) == 0, "%s: got %s want %s",
                      cases[i].what, got ? got : "(null)", cases[i].ext);
    }
    cr_assert_str_eq(upload_sniff(ts, sizeof(ts)), "ts");
    cr_assert_str_eq(upload_sniff(m2ts, sizeof(m2ts)), "m2ts");
    cr_assert_str_eq(upload_sniff(riff_avi, sizeof(riff_avi)), "avi");
    cr_assert_null(upload_sniff(riff_wav, sizeof(riff_wav)));
    cr_assert_null(upload_sniff(text, sizeof(text)));
    ts[188] = 0x00; /* a broken second packet */
    cr_assert_null(upload_sniff(ts, sizeof(ts)));
    cr_assert_null(upload_sniff(NULL, 10));
}

/* ---------------------------------------------------------------- validation */

struct meta_case {
    const char *what;
    const char *title, *category, *description;
    bool required;
    const char *field; /* NULL: valid */
};

Test(upload, metadata_is_validated_per_field)
{
    char t255[256], t256[257], e255[511], d4001[4002];
    memset(t255, 'x', 255);
    t255[255] = '\0';
    memset(t256, 'x', 256);
    t256[256] = '\0';
    for (int i = 0; i < 255; i++)
        memcpy(e255 + 2 * i, "\xc3\xa9", 2); /* 255 characters, 510 bytes */
    e255[510] = '\0';
    memset(d4001, 'd', 4001);
    d4001[4001] = '\0';
    const struct meta_case cases[] = {
        { "all fields", "Title", "Drama", "Line one\nline\ttwo", true, NULL },
        { "no description", "Title", "Drama", NULL, true, NULL },
        { "255 characters", t255, "Drama", "", true, NULL },
        { "255 two-byte characters", e255, "Drama", "", true, NULL },
        { "256 characters", t256, "Drama", "", true, "title" },
        { "missing title", NULL, "Drama", "", true, "title" },
        { "blank title", "  \t", "Drama", "", true, "title" },
        { "empty category", "T", "", "", true, "category" },
        { "missing category", "T", NULL, "", true, "category" },
        { "newline in a title", "a\nb", "Drama", "", true, "title" },
        { "DEL in a category", "T", "a\x7f", "", true, "category" },
        { "overlong encoding", "\xc0\xaf", "Drama", "", true, "title" },
        { "surrogate", "\xed\xa0\x80", "Drama", "", true, "title" },
        { "lone continuation byte", "a\x80", "Drama", "", true, "title" },
        { "truncated sequence", "a\xe2\x82", "Drama", "", true, "title" },
        { "beyond U+10FFFF", "\xf4\x90\x80\x80", "Drama", "", true, "title" },
        { "4-byte emoji", "\xf0\x9f\x8e\xac", "Drama", "", true, NULL },
        { "description too long", "T", "Drama", d4001, true, "description" },
        { "escape in a description", "T", "Drama", "a\x1b[31m", true, "description" },
        { "partial edit: description only", NULL, NULL, "new", false, NULL },
        { "partial edit: blank title", "", NULL, NULL, false, "title" },
        { "partial edit: nothing", NULL, NULL, NULL, false, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct meta_case *c = &cases[i];
        struct upload_meta m = { c->title, c->description, c->category };
        struct upload_error err;
        memset(&err, 0, sizeof(err));
        bool ok = upload_meta_valid(&m, c->required, &err);
        if (c->field == NULL) {
            cr_assert(ok, "%s: refused (%s: %s)", c->what, err.field, err.msg);
        } else {
            cr_assert(!ok, "%s: accepted", c->what);
            cr_assert_str_eq(err.field, c->field, "%s: field %s", c->what, err.field);
            cr_assert(err.msg[0] != '\0');
        }
    }
}

Test(upload, ids_parse_strictly)
{
    const struct {
        const char *s;
        int64_t id;
    } cases[] = {
        { "1", 1 },
        { "42", 42 },
        { "9223372036854775807", INT64_MAX },
        { "9223372036854775808", 0 },
        { "0", 0 },
        { "07", 0 },
        { "-1", 0 },
        { "+1", 0 },
        { "1a", 0 },
        { "", 0 },
        { " 1", 0 },
        { "1.0", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert_eq(videoadmin_parse_id(cases[i].s), cases[i].id, "'%s'", cases[i].s);
    cr_assert_eq(videoadmin_parse_id(NULL), 0);
}

/* ------------------------------------------------ refusals leave nothing */

static char media[64];
static struct config *cfg;
static struct app app;

struct body {
    const char *data;
    size_t len, off, chunk;
    bool fail_at_end; /* the client disappears instead of ending the body */
};

static ssize_t
body_read(void *ctx, void *buf, size_t n)
{
    struct body *b = ctx;
    if (b->off == b->len)
        return b->fail_at_end ? -1 : 0;
    size_t k = b->len - b->off;
    if (k > n)
        k = n;
    if (k > b->chunk)
        k = b->chunk;
    memcpy(buf, b->data + b->off, k);
    b->off += k;
    return (ssize_t)k;
}

static void
app_setup(void)
{
    snprintf(media, sizeof(media), "/tmp/vf-test-upload-XXXXXX");
    cr_assert_not_null(mkdtemp(media));
    char media_kv[128];
    snprintf(media_kv, sizeof(media_kv), "MEDIA_ROOT=%s", media);
    const char *pairs[] = { "SECRET_KEY=0123456789abcdef0123456789abcdef0123456789", media_kv,
                            "UPLOAD_MAX_BYTES=100000", "MIN_FREE_DISK_BYTES=0" };
    char err[256];
    cr_assert_eq(config_load_pairs(pairs, 4, &cfg, err, sizeof(err)), VF_OK, "%s", err);
    app = (struct app){ .cfg = cfg, .db = NULL };
}

static void
app_teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", media);
    cr_assert_eq(system(cmd), 0);
    config_free(cfg);
}

/* Number of entries in MEDIA_ROOT/uploads (0 when it does not exist). */
static int
upload_entries(void)
{
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/uploads", media);
    DIR *d = opendir(dir);
    int n = 0;
    if (d == NULL)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* No case here reaches the probe: every upload is refused before it. */
static enum vf_err
no_probe(const char *path, int timeout_s, struct media_info *out, char *why, size_t whylen)
{
    (void)path;
    (void)timeout_s;
    (void)out;
    snprintf(why, whylen, "the unit tests do not probe");
    cr_assert_fail("the probe was reached");
    return VF_ERR_INTERNAL;
}

static enum vf_err
run_upload(const char *ctype, const char *data, size_t len, size_t chunk, bool fail_at_end,
           int64_t content_length, struct upload_error *err)
{
    char hdr[256];
    snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype);
    const char *headers[] = { hdr };
    struct http_request *req = http_request_new("POST", "/api/admin/videos/", headers, 1, NULL, 0);
    cr_assert_not_null(req);
    struct body b = { data, len, 0, chunk, fail_at_end };
    req->body_read = body_read;
    req->body_ctx = &b;
    req->content_length = content_length;
    enum vf_err e = uploadform_receive(&app, req, no_probe, NULL, NULL, err);
    http_request_free(req);
    return e;
}

#define BND "XyZ"
#define CT  "multipart/form-data; boundary=" BND
#define PART(name, extra)                                                                          \
    "--" BND "\r\nContent-Disposition: form-data; name=\"" name "\"" extra "\r\n\r\n"

Test(upload, refused_uploads_leave_no_file, .init = app_setup, .fini = app_teardown)
{
    static const char text_file[] = PART("title", "") "T\r\n" PART("category", "") "C\r\n" PART(
        "file", "; filename=\"a.mp4\"") "this is only text, not a video at all\r\n--" BND "--\r\n";
    static const char mp4_truncated[] = PART("title", "") "T\r\n" PART(
        "file", "; filename=\"a.mp4\"") "\x00\x00\x00\x18"
                                        "ftypisom\x00\x00\x02\x00 more";
    static const char no_title[] = PART("category", "") "C\r\n" PART(
        "file", "; filename=\"a.mp4\"") "\x00\x00\x00\x18"
                                        "ftypisom\x00\x00\x02\x00\r\n--" BND "--";
    static const char two_files[] =
        PART("file", "; filename=\"a.mp4\"") "\x00\x00\x00\x18"
                                             "ftypisom\x00\x00\x02\x00\r\n" PART(
                                                 "file", "; filename=\"b.mp4\"") "y\r\n--" BND "--";
    static const char no_file[] = PART("title", "") "T\r\n" PART("category", "") "C\r\n--" BND "--";
    struct {
        const char *what;
        const char *ctype;
        const char *data;
        size_t len;
        bool fail_at_end;
        int64_t clen;
        enum vf_err want;
        const char *field;
    } cases[] = {
        { "text named .mp4", CT, text_file, sizeof(text_file) - 1, false, -1, VF_ERR_MEDIATYPE,
          "" },
        { "body cut off", CT, mp4_truncated, sizeof(mp4_truncated) - 1, false, -1, VF_ERR_INVALID,
          "" },
        { "client gone", CT, mp4_truncated, sizeof(mp4_truncated) - 1, true, -1, VF_ERR_INVALID,
          "" },
        { "missing title", CT, no_title, sizeof(no_title) - 1, false, -1, VF_ERR_INVALID, "title" },
        { "two files", CT, two_files, sizeof(two_files) - 1, false, -1, VF_ERR_INVALID, "file" },
        { "no file", CT, no_file, sizeof(no_file) - 1, false, -1, VF_ERR_INVALID, "file" },
        { "declared too large", CT, no_file, sizeof(no_file) - 1, false, 100001, VF_ERR_TOOBIG,
          "" },
        { "not multipart", "application/json", "{}", 2, false, 2, VF_ERR_MEDIATYPE, "" },
        { "bad boundary", "multipart/form-data; boundary=", "", 0, false, 0, VF_ERR_INVALID, "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t chunk = 1; chunk <= 4096; chunk *= 8) {
            struct upload_error err;
            enum vf_err e = run_upload(cases[i].ctype, cases[i].data, cases[i].len, chunk,
                                       cases[i].fail_at_end, cases[i].clen, &err);
            cr_assert_eq(e, cases[i].want, "%s (chunk %zu): got %d (%s)", cases[i].what, chunk,
                         (int)e, err.msg);
            cr_assert_str_eq(err.field, cases[i].field, "%s: field '%s'", cases[i].what, err.field);
            cr_assert(err.msg[0] != '\0', "%s: no message", cases[i].what);
            cr_assert_eq(upload_entries(), 0, "%s (chunk %zu): a file was left behind",
                         cases[i].what, chunk);
        }
    }
}

Test(upload, a_body_over_the_limit_is_cut_off_while_streaming, .init = app_setup,
     .fini = app_teardown)
{
    size_t n = 150000;
    char *body = malloc(n + 256);
    static const char head[] = PART("file", "; filename=\"big.mp4\"") "\x00\x00\x00\x18"
                                                                      "ftypisom";
    size_t off = sizeof(head) - 1;
    memcpy(body, head, off);
    memset(body + off, 'v', n - off);
    struct upload_error err;
    /* no Content-Length (chunked): the app counts */
    enum vf_err e = run_upload(CT, body, n, 65536, false, -1, &err);
    cr_assert_eq(e, VF_ERR_TOOBIG, "%d %s", (int)e, err.msg);
    cr_assert_eq(upload_entries(), 0);
    free(body);
}

Test(upload, low_disk_is_refused_before_reading, .init = app_setup, .fini = app_teardown)
{
    config_free(cfg);
    char media_kv[128];
    snprintf(media_kv, sizeof(media_kv), "MEDIA_ROOT=%s", media);
    const char *pairs[] = { "SECRET_KEY=0123456789abcdef0123456789abcdef0123456789", media_kv,
                            "MIN_FREE_DISK_BYTES=1099511627776" };
    char errbuf[256];
    cr_assert_eq(config_load_pairs(pairs, 3, &cfg, errbuf, sizeof(errbuf)), VF_OK, "%s", errbuf);
    app.cfg = cfg;
    struct upload_error err;
    static const char body[] = PART("file", "; filename=\"a.mp4\"") "x\r\n--" BND "--";
    cr_assert_eq(run_upload(CT, body, sizeof(body) - 1, 64, false, sizeof(body) - 1, &err),
                 VF_ERR_NOSPACE);
    cr_assert_eq(upload_entries(), 0);
    cr_assert_geq(upload_free_bytes(media), 0);
}

Test(upload, stale_partial_uploads_are_swept_fresh_ones_kept, .init = app_setup,
     .fini = app_teardown)
{
    char dir[128], old_part[192], new_part[192], other[192];
    snprintf(dir, sizeof(dir), "%s/uploads", media);
    cr_assert_eq(mkdir(dir, 0750), 0);
    snprintf(old_part, sizeof(old_part), "%s/dead.part", dir);
    snprintf(new_part, sizeof(new_part), "%s/live.part", dir);
    snprintf(other, sizeof(other), "%s/old-source.mp4", dir);
    const char *files[] = { old_part, new_part, other };
    for (size_t i = 0; i < 3; i++) {
        FILE *fp = fopen(files[i], "w");
        cr_assert_not_null(fp);
        fclose(fp);
    }
    struct timeval tv[2] = { { time(NULL) - UPLOAD_STALE_PART_S - 60, 0 },
                             { time(NULL) - UPLOAD_STALE_PART_S - 60, 0 } };
    cr_assert_eq(utimes(old_part, tv), 0);
    cr_assert_eq(utimes(other, tv), 0);
    static const char body[] = PART("file", "; filename=\"a.mp4\"") "plain text\r\n--" BND "--";
    struct upload_error err;
    cr_assert_eq(run_upload(CT, body, sizeof(body) - 1, 64, false, -1, &err), VF_ERR_MEDIATYPE);
    cr_assert_neq(access(old_part, F_OK), 0, "the stale .part is still there");
    cr_assert_eq(access(new_part, F_OK), 0, "a fresh .part was removed");
    cr_assert_eq(access(other, F_OK), 0, "a source file was removed");
    cr_assert_eq(upload_entries(), 2);
}

/* ------------------------------------------- the stored file is the uploaded one */

static const unsigned char *expect_data;
static size_t expect_len;
static int probed_same; /* 1: the .part held exactly expect_data; -1: it did not */

/* Compares the stored .part with what was sent, then refuses it (no database here). */
static enum vf_err
compare_probe(const char *path, int timeout_s, struct media_info *out, char *why, size_t whylen)
{
    (void)timeout_s;
    (void)out;
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "%s", path);
    unsigned char *got = malloc(expect_len + 1);
    cr_assert_not_null(got);
    size_t n = fread(got, 1, expect_len + 1, fp);
    fclose(fp);
    probed_same = n == expect_len && memcmp(got, expect_data, n) == 0 ? 1 : -1;
    free(got);
    snprintf(why, whylen, "compared");
    return VF_ERR_MEDIATYPE;
}

Test(upload, the_stored_file_is_byte_identical_however_the_body_arrives, .init = app_setup,
     .fini = app_teardown)
{
    /* Data as dense in CR bytes and near-delimiters as a video and worse: runs of every
     * length between them, longer than the write buffer too, split at every chunk size. */
    config_free(cfg);
    char media_kv[128];
    snprintf(media_kv, sizeof(media_kv), "MEDIA_ROOT=%s", media);
    const char *pairs[] = { "SECRET_KEY=0123456789abcdef0123456789abcdef0123456789", media_kv,
                            "UPLOAD_MAX_BYTES=4M", "MIN_FREE_DISK_BYTES=0" };
    char errbuf[256];
    cr_assert_eq(config_load_pairs(pairs, 4, &cfg, errbuf, sizeof(errbuf)), VF_OK, "%s", errbuf);
    app.cfg = cfg;

    size_t n = 900 * 1024;
    unsigned char *file = malloc(n);
    cr_assert_not_null(file);
    static const char magic[] = "\x00\x00\x00\x18"
                                "ftypisom";
    memcpy(file, magic, sizeof(magic) - 1);
    unsigned x = 12345;
    for (size_t i = sizeof(magic) - 1; i < n; i++) {
        x = x * 1103515245u + 12345u;
        file[i] = (unsigned char)(x >> 16);
    }
    /* near-delimiters, and one run of zeros longer than any buffer */
    static const char *const near[] = { "\r", "\r\n", "\r\n-", "\r\n--", "\r\n--X", "\r\n--Xy" };
    for (size_t k = 0, at = 1000; at + 16 < n / 2; k++, at += 997 + 13 * k)
        memcpy(file + at, near[k % 6], strlen(near[k % 6]));
    memset(file + n / 2, 0, 300 * 1024);

    static const char head[] =
        PART("title", "") "T\r\n" PART("category", "") "C\r\n" PART("file", "; filename=\"a.mp4\"");
    static const char tail[] = "\r\n--" BND "--\r\n";
    size_t len = sizeof(head) - 1 + n + sizeof(tail) - 1;
    char *body = malloc(len);
    cr_assert_not_null(body);
    memcpy(body, head, sizeof(head) - 1);
    memcpy(body + sizeof(head) - 1, file, n);
    memcpy(body + sizeof(head) - 1 + n, tail, sizeof(tail) - 1);
    expect_data = file;
    expect_len = n;

    static const size_t chunks[] = { 1, 7, 4096, 65536, 262144, 1 << 20 };
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        char hdr[] = "Content-Type: " CT;
        const char *headers[] = { hdr };
        struct http_request *req =
            http_request_new("POST", "/api/admin/videos/", headers, 1, NULL, 0);
        cr_assert_not_null(req);
        struct body b = { body, len, 0, chunks[i], false };
        req->body_read = body_read;
        req->body_ctx = &b;
        req->content_length = (int64_t)len;
        struct upload_error err;
        probed_same = 0;
        enum vf_err e = uploadform_receive(&app, req, compare_probe, NULL, NULL, &err);
        http_request_free(req);
        cr_assert_eq(e, VF_ERR_MEDIATYPE, "chunk %zu: %d %s", chunks[i], (int)e, err.msg);
        cr_assert_eq(probed_same, 1, "chunk %zu: the stored file differs", chunks[i]);
        cr_assert_eq(upload_entries(), 0);
    }
    free(body);
    free(file);
}
