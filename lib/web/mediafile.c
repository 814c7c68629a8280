/* mediafile.c -- the HLS path allow-list and safe opening of media files under MEDIA_ROOT. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "mediafile.h"

#define PREFIX   "/api/video/"
#define MAX_PATH 256
#define OPEN_DIR (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* O_NONBLOCK: a planted FIFO must not block the worker; no effect on regular files. */
#define OPEN_FILE  (O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
#define MAX_DIGITS 9

static const char *const res_names[MEDIAFILE_NRES] = { "480p", "720p", "1080p" };
static const int res_heights[MEDIAFILE_NRES] = { 480, 720, 1080 };

const char *
mediafile_res_name(enum mediafile_res r)
{
    return (unsigned)r < MEDIAFILE_NRES ? res_names[r] : NULL;
}

int
mediafile_res_height(enum mediafile_res r)
{
    return (unsigned)r < MEDIAFILE_NRES ? res_heights[r] : 0;
}

enum mediafile_res
mediafile_res_for_height(int height)
{
    if (height <= 480)
        return MEDIAFILE_480P;
    if (height <= 720)
        return MEDIAFILE_720P;
    return MEDIAFILE_1080P;
}

enum mediafile_res
mediafile_res_of(const char *name, int width, int height)
{
    for (int i = 0; name != NULL && i < MEDIAFILE_NRES; i++)
        if (strcmp(name, res_names[i]) == 0)
            return (enum mediafile_res)i;
    return mediafile_res_for_height(width < height ? width : height);
}

const char *
mediafile_content_type(enum mediafile_kind kind)
{
    return kind == MEDIAFILE_SEGMENT ? "video/MP2T" : "application/vnd.apple.mpegurl";
}

static bool
all_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool
mediafile_is_segment_name(const char *s, size_t len)
{
    return len > 3 && len - 3 <= MAX_DIGITS && memcmp(s + len - 3, ".ts", 3) == 0 &&
           all_digits(s, len - 3);
}

/* Next path component of [*p, end): sets *seg and *seglen, and advances past one '/'. */
static bool
next_component(const char **p, const char *end, const char **seg, size_t *seglen)
{
    if (*p >= end)
        return false;
    const char *slash = memchr(*p, '/', (size_t)(end - *p));
    *seg = *p;
    *seglen = slash ? (size_t)(slash - *p) : (size_t)(end - *p);
    *p = slash ? slash + 1 : end;
    return true;
}

static int
parse_res(const char *s, size_t len)
{
    for (int i = 0; i < MEDIAFILE_NRES; i++)
        if (strlen(res_names[i]) == len && memcmp(res_names[i], s, len) == 0)
            return i;
    return -1;
}

enum vf_err
mediafile_parse(const char *raw_path, struct mediafile_path *out)
{
    char path[MAX_PATH];
    memset(out, 0, sizeof(*out));
    if (!raw_path || strlen(raw_path) >= sizeof(path))
        return VF_ERR_NOTFOUND;
    /* Exactly one decoding; an encoded NUL or a malformed escape fails here. */
    ssize_t n = http_percent_decode(raw_path, path, sizeof(path));
    if (n < 0 || (size_t)n != strlen(path))
        return VF_ERR_NOTFOUND;
    size_t plen = strlen(PREFIX);
    if ((size_t)n <= plen || memcmp(path, PREFIX, plen) != 0)
        return VF_ERR_NOTFOUND;

    const char *p = path + plen, *end = path + n;
    const char *c[4];
    size_t clen[4], nc = 0;
    while (nc < 4 && next_component(&p, end, &c[nc], &clen[nc]))
        nc++;
    if (p < end)
        return VF_ERR_NOTFOUND; /* more than four components */
    /* A trailing slash leaves no empty component behind: note it explicitly. */
    bool trailing_slash = path[n - 1] == '/';

    /* <id>: 1..18 digits, no leading zero. */
    if (nc < 2 || !all_digits(c[0], clen[0]) || clen[0] > 18 || c[0][0] == '0')
        return VF_ERR_NOTFOUND;
    int64_t id = 0;
    for (size_t i = 0; i < clen[0]; i++)
        id = id * 10 + (c[0][i] - '0');
    out->video_id = id;

    if (nc == 2) {
        if (trailing_slash || clen[1] != strlen("master.m3u8") ||
            memcmp(c[1], "master.m3u8", clen[1]) != 0)
            return VF_ERR_NOTFOUND;
        out->kind = MEDIAFILE_MASTER;
        memcpy(out->name, "master.m3u8", sizeof("master.m3u8"));
        return VF_OK;
    }
    if (nc != 3)
        return VF_ERR_NOTFOUND;
    int res = parse_res(c[1], clen[1]);
    if (res < 0)
        return VF_ERR_NOTFOUND;
    out->res = (enum mediafile_res)res;
    if (!trailing_slash &&
        ((clen[2] == strlen("index.m3u8") && memcmp(c[2], "index.m3u8", clen[2]) == 0) ||
         (clen[2] == strlen("iframes.m3u8") && memcmp(c[2], "iframes.m3u8", clen[2]) == 0))) {
        out->kind = MEDIAFILE_PLAYLIST;
    } else if (mediafile_is_segment_name(c[2], clen[2])) {
        out->kind = MEDIAFILE_SEGMENT;
    } else {
        return VF_ERR_NOTFOUND;
    }
    memcpy(out->name, c[2], clen[2]);
    out->name[clen[2]] = '\0';
    return VF_OK;
}

int
mediafile_relpath(const struct mediafile_path *p, enum mediafile_res res, char *buf, size_t len)
{
    int n;
    if (p->kind == MEDIAFILE_MASTER)
        n = snprintf(buf, len, "%lld/%s", (long long)p->video_id, p->name);
    else
        n = snprintf(buf, len, "%lld/%s/%s", (long long)p->video_id, mediafile_res_name(res),
                     p->name);
    return (n < 0 || (size_t)n >= len) ? -1 : n;
}

/* The code for errno after a failed open or stat of video `idstr`'s file: a missing or
 * refused component is NOTFOUND; anything else is a failure of ours, whose cause is logged
 * here (the caller answers a plain 500). */
static enum vf_err
errno_err(const char *idstr)
{
    switch (errno) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP: /* a symlink where O_NOFOLLOW forbids one */
    case EACCES:
    case ENXIO:
        return VF_ERR_NOTFOUND;
    default:
        log_error("media file of video %s: %s", idstr, strerror(errno));
        return VF_ERR_IO;
    }
}

static void
close_if(int fd)
{
    if (fd >= 0)
        close(fd);
}

enum vf_err
mediafile_open(const char *media_root, const struct mediafile_path *p, int *fd, struct stat *st,
               enum mediafile_res *used)
{
    enum vf_err err = VF_OK;
    int root = -1, hls = -1, vid = -1, rdir = -1, f = -1;
    char idstr[24];
    enum mediafile_res res = p->res;

    *fd = -1;
    snprintf(idstr, sizeof(idstr), "%lld", (long long)p->video_id);
    root = open(media_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0 || (hls = openat(root, "hls", OPEN_DIR)) < 0 ||
        (vid = openat(hls, idstr, OPEN_DIR)) < 0) {
        err = errno_err(idstr);
        goto out;
    }
    if (p->kind == MEDIAFILE_MASTER) {
        f = openat(vid, p->name, OPEN_FILE);
    } else {
        rdir = openat(vid, mediafile_res_name(res), OPEN_DIR);
        /* A resolution above the source: answer with the highest real rendition. */
        for (int r = MEDIAFILE_NRES - 1; rdir < 0 && errno == ENOENT && r >= 0; r--) {
            if ((enum mediafile_res)r == p->res)
                continue;
            rdir = openat(vid, res_names[r], OPEN_DIR);
            res = (enum mediafile_res)r;
        }
        if (rdir >= 0)
            f = openat(rdir, p->name, OPEN_FILE);
    }
    if (f < 0) {
        err = errno_err(idstr);
        goto out;
    }
    if (fstat(f, st) != 0) {
        log_error("media file of video %s: fstat: %s", idstr, strerror(errno));
        err = VF_ERR_IO;
        goto out;
    }
    if (!S_ISREG(st->st_mode)) {
        err = VF_ERR_NOTFOUND;
        goto out;
    }
    /* Back to blocking reads for the responder. */
    int fl = fcntl(f, F_GETFL);
    if (fl >= 0)
        (void)fcntl(f, F_SETFL, fl & ~O_NONBLOCK);
    *fd = f;
    f = -1;
    if (used)
        *used = res;
out:
    close_if(f);
    close_if(rdir);
    close_if(vid);
    close_if(hls);
    close_if(root);
    return err;
}
