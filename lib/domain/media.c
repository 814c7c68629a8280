/* media.c -- the layout of MEDIA_ROOT: one place that names its directories and files. */
#include "autoconf.h"

#include "media.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int
media_mkdir(const char *path, enum media_dir d)
{
    mode_t want = (d == MEDIA_UPLOADS || d == MEDIA_STAGING ? MEDIA_PRIVATE_DIR_MODE
                                                            : MEDIA_PUBLIC_DIR_MODE) &
                  0777;
    struct stat st;
    /* The group and the setgid bit come from the parent (a setgid MEDIA_ROOT).  chmod() is
     * avoided when mkdir() already gave the permissions: for an app user outside the web
     * server's group it would clear the inherited setgid bit. */
    if (mkdir(path, want) != 0)
        return errno == EEXIST ? 0 : -1;
    if (stat(path, &st) != 0)
        return -1;
    if ((st.st_mode & 0777) == want)
        return 0;
    return chmod(path, (st.st_mode & S_ISGID) | want);
}

/* media_publish_tree() below the open directory `dfd` (closed here). */
static int
publish_dir(int dfd)
{
    int rc = 0;
    /* The setgid bit survives only where the app is in the directory's group; the group
     * itself (the web server's, inherited from MEDIA_ROOT) is what grants the reading. */
    if (fchmod(dfd, MEDIA_PUBLIC_DIR_MODE) != 0)
        rc = -1;
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return -1;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = -1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0 || publish_dir(sub) != 0)
                rc = -1;
        } else if (S_ISREG(st.st_mode)) {
            if (fchmodat(dirfd(d), e->d_name, MEDIA_PUBLIC_FILE_MODE, 0) != 0)
                rc = -1;
        }
    }
    int saved = errno;
    closedir(d);
    errno = saved;
    return rc;
}

int
media_publish_tree(const char *path)
{
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return dfd < 0 ? -1 : publish_dir(dfd);
}
