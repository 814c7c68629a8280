/* playlist.c -- HLS media/master playlists: parse, VOD fix-up, validate, measure, write. */
#include "autoconf.h"

#include "playlist.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hlsmaster.h"
#include "strbuf.h"

#define PLAYLIST_MAX_BYTES    (8 * 1024 * 1024)
#define PLAYLIST_MAX_SEGMENTS 200000

/* True for "<digits>.ts" (at most 12 digits). */
static bool
segment_name_ok(const char *s)
{
    size_t d = 0;
    while (s[d] >= '0' && s[d] <= '9')
        d++;
    return d > 0 && d <= 12 && strcmp(s + d, ".ts") == 0;
}

static enum vf_err
push(struct playlist *pl, size_t *cap, double dur, const char *uri)
{
    if (pl->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct playlist_segment *s = realloc(pl->seg, ncap * sizeof(*s));
        if (s == NULL)
            return VF_ERR_NOMEM;
        pl->seg = s;
        *cap = ncap;
    }
    size_t l = strlen(uri);
    if (l >= sizeof(pl->seg[0].uri))
        return VF_ERR_INVALID;
    pl->seg[pl->n].duration = dur;
    memcpy(pl->seg[pl->n].uri, uri, l + 1);
    pl->n++;
    return VF_OK;
}

enum vf_err
playlist_load(const char *path, struct playlist **out, char *reason, size_t len)
{
    *out = NULL;
    FILE *fp = fopen(path, "re");
    if (fp == NULL) {
        vf_reason(reason, len, "cannot open playlist: %s", strerror(errno));
        return VF_ERR_IO;
    }
    struct playlist *pl = calloc(1, sizeof(*pl));
    if (pl == NULL) {
        fclose(fp);
        return VF_ERR_NOMEM;
    }
    enum vf_err err = VF_OK;
    size_t cap = 0, lineno = 0, total = 0;
    double pending = -1.0;
    char line[512];

    while (fgets(line, sizeof(line), fp) != NULL) {
        size_t l = strlen(line);
        total += l;
        if (total > PLAYLIST_MAX_BYTES || (l == sizeof(line) - 1 && line[l - 1] != '\n')) {
            vf_reason(reason, len, "playlist too large or line too long");
            err = VF_ERR_INVALID;
            break;
        }
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            line[--l] = '\0';
        lineno++;
        if (lineno == 1) {
            if (strcmp(line, "#EXTM3U") != 0) {
                vf_reason(reason, len, "playlist does not start with #EXTM3U");
                err = VF_ERR_INVALID;
                break;
            }
            continue;
        }
        if (l == 0)
            continue;
        if (strncmp(line, "#EXTINF:", 8) == 0) {
            char *end = NULL;
            errno = 0;
            double d = strtod(line + 8, &end);
            if (errno != 0 || end == line + 8 || (*end != ',' && *end != '\0') || !isfinite(d) ||
                d <= 0.0 || d > 3600.0) {
                vf_reason(reason, len, "bad #EXTINF duration");
                err = VF_ERR_INVALID;
                break;
            }
            pending = d;
        } else if (strncmp(line, "#EXT-X-TARGETDURATION:", 22) == 0) {
            pl->target_duration = (int)strtol(line + 22, NULL, 10);
        } else if (strcmp(line, "#EXT-X-ENDLIST") == 0) {
            pl->endlist = true;
        } else if (strcmp(line, "#EXT-X-PLAYLIST-TYPE:VOD") == 0) {
            pl->vod = true;
        } else if (line[0] == '#') {
            continue;
        } else {
            if (pending < 0.0 || !segment_name_ok(line)) {
                vf_reason(reason, len, "segment URI without #EXTINF or not <digits>.ts");
                err = VF_ERR_INVALID;
                break;
            }
            if (pl->n >= PLAYLIST_MAX_SEGMENTS) {
                vf_reason(reason, len, "too many segments");
                err = VF_ERR_INVALID;
                break;
            }
            if ((err = push(pl, &cap, pending, line)) != VF_OK)
                break;
            pending = -1.0;
        }
    }
    if (err == VF_OK && ferror(fp)) {
        vf_reason(reason, len, "read error: %s", strerror(errno));
        err = VF_ERR_IO;
    }
    fclose(fp);
    if (err == VF_OK && lineno == 0) {
        vf_reason(reason, len, "empty playlist");
        err = VF_ERR_INVALID;
    }
    if (err != VF_OK) {
        playlist_free(pl);
        return err;
    }
    *out = pl;
    return VF_OK;
}

void
playlist_free(struct playlist *pl)
{
    if (pl == NULL)
        return;
    free(pl->seg);
    free(pl);
}

double
playlist_duration(const struct playlist *pl)
{
    double t = 0.0;
    for (size_t i = 0; i < pl->n; i++)
        t += pl->seg[i].duration;
    return t;
}

/* Writes `body` to path via path.tmp + fsync + rename. */
static enum vf_err
write_atomic(const char *path, const char *body, size_t n)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return VF_ERR_IO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return VF_ERR_IO;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, body + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return VF_ERR_IO;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return VF_ERR_IO;
    }
    return VF_OK;
}

/* The #EXT-X-TARGETDURATION that covers every rounded #EXTINF (at least 1). */
static long
target_of(const struct playlist *pl)
{
    long target = 1;
    for (size_t i = 0; i < pl->n; i++)
        if (lround(pl->seg[i].duration) > target)
            target = lround(pl->seg[i].duration);
    return target;
}

enum vf_err
playlist_write_vod(const struct playlist *pl, const char *path)
{
    long target = target_of(pl);
    struct strbuf b = { 0 };
    strbuf_printf(&b,
                  "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                  "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:%ld\n"
                  "#EXT-X-MEDIA-SEQUENCE:0\n",
                  target);
    for (size_t i = 0; i < pl->n; i++)
        strbuf_printf(&b, "#EXTINF:%.6f,\n%s\n", pl->seg[i].duration, pl->seg[i].uri);
    strbuf_printf(&b, "#EXT-X-ENDLIST\n");
    enum vf_err err = b.oom ? VF_ERR_NOMEM : write_atomic(path, b.s, b.len);
    strbuf_free(&b);
    return err;
}

enum vf_err
playlist_write_iframes(const struct playlist *pl, const size_t *iframe_len, const char *path)
{
    struct strbuf b = { 0 };
    strbuf_printf(&b,
                  "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-I-FRAMES-ONLY\n"
                  "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:%ld\n"
                  "#EXT-X-MEDIA-SEQUENCE:0\n",
                  target_of(pl));
    for (size_t i = 0; i < pl->n; i++)
        strbuf_printf(&b, "#EXTINF:%.6f,\n#EXT-X-BYTERANGE:%zu@0\n%s\n", pl->seg[i].duration,
                      iframe_len[i], pl->seg[i].uri);
    strbuf_printf(&b, "#EXT-X-ENDLIST\n");
    enum vf_err err = b.oom ? VF_ERR_NOMEM : write_atomic(path, b.s, b.len);
    strbuf_free(&b);
    return err;
}

enum vf_err
playlist_measure(const struct playlist *pl, const char *dir, struct playlist_stats *st,
                 char *reason, size_t len)
{
    memset(st, 0, sizeof(*st));
    if (pl->n == 0) {
        vf_reason(reason, len, "playlist has no segments");
        return VF_ERR_INVALID;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        vf_reason(reason, len, "cannot open rendition directory: %s", strerror(errno));
        return VF_ERR_IO;
    }
    double total = 0.0, target = pl->target_duration > 0 ? pl->target_duration : 1;
    int64_t peak_all = 0;
    enum vf_err err = VF_OK;
    for (size_t i = 0; i < pl->n; i++) {
        struct stat sb;
        if (fstatat(dfd, pl->seg[i].uri, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode) ||
            sb.st_size == 0) {
            vf_reason(reason, len, "segment %s is missing or empty", pl->seg[i].uri);
            err = VF_ERR_INVALID;
            break;
        }
        const struct playlist_segment *s = &pl->seg[i];
        int64_t bps = (int64_t)((double)sb.st_size * 8.0 / s->duration);
        if (bps > peak_all)
            peak_all = bps;
        if (s->duration >= target / 2.0 && bps > st->peak_bps)
            st->peak_bps = bps;
        st->bytes += (uint64_t)sb.st_size;
        total += s->duration;
    }
    close(dfd);
    if (err != VF_OK)
        return err;
    if (st->peak_bps == 0)
        st->peak_bps = peak_all;
    st->avg_bps = (int64_t)((double)st->bytes * 8.0 / total);
    if (st->avg_bps > st->peak_bps)
        st->peak_bps = st->avg_bps;
    return VF_OK;
}

enum vf_err
playlist_write_master(const char *path, const struct video_rendition *r, size_t n)
{
    size_t len = 0;
    char *body = hlsmaster_render(r, n, &len);
    if (body == NULL)
        return VF_ERR_NOMEM;
    enum vf_err err = write_atomic(path, body, len);
    free(body);
    return err;
}
