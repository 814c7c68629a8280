/* fuzz_multipart.c -- libFuzzer target for the streaming multipart parser.
 *
 * Input: byte 0 picks the chunk size, the rest is the body (boundary "fz").  The
 * body is parsed twice, whole and in chunks; the oracle is that both runs agree
 * exactly (same parts, same bytes, same verdict), that callbacks come in order,
 * and that only VF_OK/VF_ERR_INVALID come out.  Without -DVF_LIBFUZZER a main()
 * replays the files named on the command line, or the seed corpus (make check). */
#include "autoconf.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

struct digest {
    size_t parts, ended, bytes;
    uint64_t hash; /* FNV-1a over names, file names, types and data */
    int order_error;
    int open;
};

static void
mix(struct digest *d, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        d->hash = (d->hash ^ c[i]) * 1099511628211ull;
}

static enum vf_err
on_begin(void *ctx, const struct multipart_part *p)
{
    struct digest *d = ctx;
    if (d->open)
        d->order_error = 1;
    d->open = 1;
    d->parts++;
    mix(d, "B", 1);
    mix(d, p->name, strlen(p->name) + 1);
    if (p->filename != NULL)
        mix(d, p->filename, strlen(p->filename) + 1);
    if (p->content_type != NULL)
        mix(d, p->content_type, strlen(p->content_type) + 1);
    return VF_OK;
}

static enum vf_err
on_data(void *ctx, const char *data, size_t len)
{
    struct digest *d = ctx;
    if (!d->open || len == 0)
        d->order_error = 1;
    d->bytes += len;
    mix(d, data, len);
    return VF_OK;
}

static enum vf_err
on_end(void *ctx)
{
    struct digest *d = ctx;
    if (!d->open)
        d->order_error = 1;
    d->open = 0;
    d->ended++;
    mix(d, "E", 1);
    return VF_OK;
}

static const struct multipart_callbacks cbs = { on_begin, on_data, on_end };

static enum vf_err
run(const char *body, size_t len, size_t chunk, struct digest *d)
{
    memset(d, 0, sizeof(*d));
    d->hash = 1469598103934665603ull;
    struct multipart *mp = multipart_new("fz", &cbs, d);
    if (mp == NULL)
        abort();
    enum vf_err err = VF_OK;
    for (size_t off = 0; off < len && err == VF_OK; off += chunk)
        err = multipart_feed(mp, body + off, len - off < chunk ? len - off : chunk);
    if (err == VF_OK)
        err = multipart_finish(mp);
    multipart_free(mp);
    return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)data[0] % 17 + 1;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct digest whole, parts;
    enum vf_err e1 = run(body, len, len > 0 ? len : 1, &whole);
    enum vf_err e2 = run(body, len, chunk, &parts);
    if (e1 != e2 || (e1 != VF_OK && e1 != VF_ERR_INVALID))
        abort();
    if (whole.order_error || parts.order_error)
        abort();
    if (e1 == VF_OK) {
        if (whole.parts != parts.parts || whole.bytes != parts.bytes || whole.hash != parts.hash ||
            whole.open || whole.ended != whole.parts)
            abort();
        if (whole.parts > MULTIPART_MAX_PARTS)
            abort();
    }
    return 0;
}

#ifndef VF_LIBFUZZER
#ifndef VF_SRCDIR
#define VF_SRCDIR "." /* the build passes the source tree */
#endif

/* Replay one file; returns false when it cannot be read. */
static bool
replay(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        perror(path);
        return false;
    }
    static uint8_t buf[1 << 20];
    size_t len = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    LLVMFuzzerTestOneInput(buf, len);
    return true;
}

/* With no arguments, replay the seed corpus of the source tree (make check). */
int
main(int argc, char **argv)
{
    int n = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++, n++)
            if (!replay(argv[i]))
                return 1;
    } else {
        const char *dir = VF_SRCDIR "/tests/fuzz/corpus/fuzz_multipart";
        DIR *d = opendir(dir);
        if (d == NULL) {
            perror(dir);
            return 1;
        }
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            char path[4096];
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            if (!replay(path)) {
                closedir(d);
                return 1;
            }
            n++;
        }
        closedir(d);
        if (n == 0) {
            fprintf(stderr, "fuzz_multipart: empty corpus %s\n", dir);
            return 1;
        }
    }
    printf("fuzz_multipart: %d inputs replayed\n", n);
    return 0;
}
#endif
