/* media.c -- the layout of MEDIA_ROOT: one place that names its directories and files. */
#include "autoconf.h"

#include "media.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

static const char *const dir_names[] = {
    [MEDIA_UPLOADS] = "uploads",
    [MEDIA_STAGING] = "staging",
    [MEDIA_HLS] = "hls",
    [MEDIA_THUMBNAILS] = "thumbnails",
};

const char *
media_dir_name(enum media_dir d)
{
    return (unsigned)d < sizeof(dir_names) / sizeof(dir_names[0]) ? dir_names[d] : NULL;
}

static int format(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
format(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

int
media_dir_path(const char *root, enum media_dir d, char *buf, size_t len)
{
    const char *name = media_dir_name(d);
    return name != NULL ? format(buf, len, "%s/%s", root, name) : -1;
}

int
media_hls_path(const char *root, int64_t id, char *buf, size_t len)
{
    return format(buf, len, "%s/hls/%" PRId64, root, id);
}

int
media_thumbnail_path(const char *root, int64_t id, char *buf, size_t len)
{
    return format(buf, len, "%s/thumbnails/%" PRId64 ".jpg", root, id);
}

int
media_thumbnail_url(const char *public_url, int64_t id, char *buf, size_t len)
{
    return format(buf, len, "%s/media/thumbnails/%" PRId64 ".jpg", public_url, id);
}
