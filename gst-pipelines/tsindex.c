/* tsindex.c -- where a segment's keyframe lies, for I-frame playlists. */
#include "autoconf.h"

#include "tsindex.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define TS                188
#define SEGMENT_MAX_BYTES ((off_t)1 << 31)

/* Offset of the payload of packet p (TS bytes), or TS when it has none. */
static size_t
payload_at(const uint8_t *p)
{
    unsigned afc = (p[3] >> 4) & 3;
    if (!(afc & 1))
        return TS;
    size_t pos = (afc & 2) ? 5 + (size_t)p[4] : 4;
    return pos < TS ? pos : TS;
}

enum vf_err
tsindex_keyframe(const uint8_t *buf, size_t len, size_t *end)
{
    *end = 0;
    if (len % TS != 0)
        return VF_ERR_INVALID;
    bool found = false;
    unsigned vpid = 0;
    for (size_t off = 0; off < len; off += TS) {
        const uint8_t *p = buf + off;
        if (p[0] != 0x47)
            return VF_ERR_INVALID;
        bool pusi = (p[1] & 0x40) != 0;
        unsigned pid = ((unsigned)(p[1] & 0x1f) << 8) | p[2];
        size_t pos = payload_at(p);
        if (!found) {
            const uint8_t *e = p + pos;
            if (pusi && pos + 4 <= TS && e[0] == 0 && e[1] == 0 && e[2] == 1 && e[3] >= 0xe0 &&
                e[3] <= 0xef) {
                found = true;
                vpid = pid;
                *end = off + TS;
            }
            continue;
        }
        if (pid != vpid)
            continue;
        if (pusi)
            break; /* the next picture */
        *end = off + TS;
    }
    return found ? VF_OK : VF_ERR_INVALID;
}

enum vf_err
tsindex_keyframe_file(const char *path, size_t *end)
{
    *end = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
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
    enum vf_err err = VF_OK;
    while (got < n) {
        ssize_t r = pread(fd, b + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = VF_ERR_IO;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    if (err == VF_OK)
        err = tsindex_keyframe(b, n, end);
    free(b);
    return err;
}
