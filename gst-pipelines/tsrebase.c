/* tsrebase.c -- move the timestamps (PTS, DTS, PCR) of MPEG-TS segments by a constant. */
#include "autoconf.h"

#include "tsrebase.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEGMENT_MAX_BYTES ((off_t)1 << 31) /* a segment larger than this is not ours */

/* A PES PTS or DTS (of a video stream or another one), or a PCR. */
enum stamp { STAMP_PTS, STAMP_DTS, STAMP_VIDEO_PTS, STAMP_VIDEO_DTS, STAMP_PCR };

/* Called for each timestamp at offset `off` of the buffer (5 bytes of a PES PTS/DTS, or 6 bytes
 * of a PCR). */
typedef void (*stamp_fn)(size_t off, enum stamp kind, void *ctx);

static uint64_t
pes_get(const uint8_t *p)
{
    return ((uint64_t)(p[0] >> 1) & 7) << 30 | (uint64_t)p[1] << 22 | (uint64_t)(p[2] >> 1) << 15 |
           (uint64_t)p[3] << 7 | (uint64_t)(p[4] >> 1);
}

/* Keeps the 4-bit prefix ('0010', '0011' or '0001') and sets the marker bits. */
static void
pes_put(uint8_t *p, uint64_t v)
{
    p[0] = (uint8_t)((p[0] & 0xf0) | ((v >> 29) & 0x0e) | 1);
    p[1] = (uint8_t)(v >> 22);
    p[2] = (uint8_t)(((v >> 14) & 0xfe) | 1);
    p[3] = (uint8_t)(v >> 7);
    p[4] = (uint8_t)(((v << 1) & 0xfe) | 1);
}

static uint64_t
pcr_get(const uint8_t *p)
{
    return (uint64_t)p[0] << 25 | (uint64_t)p[1] << 17 | (uint64_t)p[2] << 9 | (uint64_t)p[3] << 1 |
           (uint64_t)(p[4] >> 7);
}

/* The base only: the 6 reserved bits and the 9-bit extension are kept. */
static void
pcr_put(uint8_t *p, uint64_t v)
{
    p[0] = (uint8_t)(v >> 25);
    p[1] = (uint8_t)(v >> 17);
    p[2] = (uint8_t)(v >> 9);
    p[3] = (uint8_t)(v >> 1);
    p[4] = (uint8_t)(((v & 1) << 7) | (p[4] & 0x7f));
}

/* PES stream ids whose header has the optional fields (and so may carry a PTS): audio, video,
 * private stream 1. */
static bool
pes_with_header(uint8_t sid)
{
    return sid == 0xbd || (sid >= 0xc0 && sid <= 0xef);
}

/* Finds every timestamp of every packet in buf[0..len) and calls fn on it. */
static enum vf_err
walk(const uint8_t *buf, size_t len, stamp_fn fn, void *ctx)
{
    if (len % TS_PACKET_SIZE != 0)
        return VF_ERR_INVALID;
    for (size_t off = 0; off < len; off += TS_PACKET_SIZE) {
        const uint8_t *p = buf + off;
        if (p[0] != 0x47)
            return VF_ERR_INVALID;
        bool pusi = (p[1] & 0x40) != 0;
        unsigned pid = ((unsigned)(p[1] & 0x1f) << 8) | p[2];
        unsigned afc = (p[3] >> 4) & 3;
        size_t pos = 4;
        if (afc & 2) {
            size_t aflen = p[4];
            if (aflen > TS_PACKET_SIZE - 5)
                return VF_ERR_INVALID;
            if (aflen >= 1) {
                uint8_t flags = p[5];
                size_t need = 1 + ((flags & 0x10) ? 6 : 0) + ((flags & 0x08) ? 6 : 0);
                if (need > aflen)
                    return VF_ERR_INVALID;
                if (flags & 0x10)
                    fn(off + 6, STAMP_PCR, ctx);
                if (flags & 0x08) /* OPCR, after the PCR when both are there */
                    fn(off + 6 + ((flags & 0x10) ? 6 : 0), STAMP_PCR, ctx);
            }
            pos = 5 + aflen;
        }
        if (!(afc & 1) || !pusi || pid == 0 || pid == 0x1fff)
            continue;
        size_t left = TS_PACKET_SIZE - pos;
        const uint8_t *pes = p + pos;
        /* A PSI section starts with a pointer field and a table id, never 00 00 01. */
        if (left < 6 || pes[0] != 0 || pes[1] != 0 || pes[2] != 1 || !pes_with_header(pes[3]))
            continue;
        if (left < 9 || (pes[6] & 0xc0) != 0x80)
            return VF_ERR_INVALID;
        unsigned ptsdts = (pes[7] >> 6) & 3;
        size_t hlen = pes[8];
        size_t stamps = ptsdts == 3 ? 10 : ptsdts == 2 ? 5 : 0;
        if (ptsdts == 1 || stamps > hlen || 9 + hlen > left)
            return VF_ERR_INVALID;
        bool video = pes[3] >= 0xe0;
        if (ptsdts & 2)
            fn(off + pos + 9, video ? STAMP_VIDEO_PTS : STAMP_PTS, ctx);
        if (ptsdts == 3)
            fn(off + pos + 14, video ? STAMP_VIDEO_DTS : STAMP_DTS, ctx);
    }
    return VF_OK;
}

struct scan {
    const uint8_t *buf;
    struct ts_times *t;
};

static void
scan_one(size_t off, enum stamp kind, void *ctx)
{
    struct scan *s = ctx;
    struct ts_times *t = s->t;
    uint64_t v = kind == STAMP_PCR ? pcr_get(s->buf + off) : pes_get(s->buf + off);
    if (!t->found || v < t->min)
        t->min = v;
    t->found = true;
    /* A DTS is never after its PTS: the smallest of both is the first DTS. */
    if (kind == STAMP_VIDEO_PTS || kind == STAMP_VIDEO_DTS) {
        if (!t->video_found || v < t->video_dts)
            t->video_dts = v;
        t->video_found = true;
    }
}

struct shift {
    uint8_t *buf;
    uint64_t ticks;
};

static void
shift_one(size_t off, enum stamp kind, void *ctx)
{
    const struct shift *s = ctx;
    uint8_t *p = s->buf + off;
    uint64_t ticks = s->ticks;
    if (kind == STAMP_PCR)
        pcr_put(p, (pcr_get(p) - ticks) & TS_TICKS_MASK);
    else
        pes_put(p, (pes_get(p) - ticks) & TS_TICKS_MASK);
}

enum vf_err
tsrebase_scan(const uint8_t *buf, size_t len, struct ts_times *t)
{
    struct ts_times copy = *t;
    struct scan s = { buf, &copy };
    enum vf_err err = walk(buf, len, scan_one, &s);
    if (err == VF_OK)
        *t = copy;
    return err;
}

uint64_t
tsrebase_shift_for(const struct ts_times *t)
{
    if (!t->found)
        return 0;
    if (!t->video_found)
        return t->min;
    /* 9 ticks of 90 kHz are 100 us: a multiple of 9 is a whole microsecond. */
    uint64_t r = (9 - (t->video_dts - t->min) % 9) % 9;
    return t->min >= r ? t->min - r : 0;
}

enum vf_err
tsrebase_shift(uint8_t *buf, size_t len, uint64_t ticks)
{
    struct shift s = { buf, ticks & TS_TICKS_MASK };
    return walk(buf, len, shift_one, &s);
}

/* Reads the whole file: *buf (malloc'd, caller frees) and *len; the open fd in *fdp. */
static enum vf_err
load(const char *path, int flags, int *fdp, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return VF_ERR_IO;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > SEGMENT_MAX_BYTES) {
        close(fd);
        return VF_ERR_IO;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    uint8_t *b = malloc(n ? n : 1);
    if (b == NULL) {
        close(fd);
        return VF_ERR_NOMEM;
    }
    while (got < n) {
        ssize_t r = pread(fd, b + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(b);
            close(fd);
            return VF_ERR_IO;
        }
        got += (size_t)r;
    }
    *fdp = fd;
    *buf = b;
    *len = n;
    return VF_OK;
}

enum vf_err
tsrebase_scan_file(const char *path, struct ts_times *t)
{
    int fd = -1;
    uint8_t *b;
    size_t n;
    enum vf_err err = load(path, O_RDONLY, &fd, &b, &n);
    if (err != VF_OK)
        return err;
    err = tsrebase_scan(b, n, t);
    free(b);
    close(fd);
    return err;
}

enum vf_err
tsrebase_shift_file(const char *path, uint64_t ticks)
{
    int fd = -1;
    uint8_t *b;
    size_t n;
    enum vf_err err = load(path, O_RDWR, &fd, &b, &n);
    if (err != VF_OK)
        return err;
    err = tsrebase_shift(b, n, ticks);
    for (size_t off = 0; err == VF_OK && off < n;) {
        ssize_t w = pwrite(fd, b + off, n - off, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            err = VF_ERR_IO;
        else
            off += (size_t)w;
    }
    free(b);
    if (close(fd) != 0 && err == VF_OK)
        err = VF_ERR_IO;
    return err;
}
