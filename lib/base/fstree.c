/* fstree.c -- file-system trees: remove one below an open directory, never following links. */
#include "autoconf.h"

#include "fstree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 16 /* our trees are hls/<id>/<res>/<file>: far deeper is not ours */

/* Remove everything below the directory `dfd` (closed here).  Returns the failures. */
static int
remove_below(int dfd, int depth)
{
    int left = 0;
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return 1;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT)
                left++;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int sub = depth < MAX_DEPTH ? openat(dirfd(d), e->d_name,
                                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                                        : -1;
            if (sub < 0) {
                left++;
                continue;
            }
            left += remove_below(sub, depth + 1);
            if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) != 0 && errno != ENOENT)
                left++;
        } else if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT) {
            left++;
        }
    }
    int saved = errno;
    closedir(d);
    errno = saved;
    return left;
}

int
fstree_remove(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : 1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 || errno == ENOENT ? 0 : 1;
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int left = dfd >= 0 ? remove_below(dfd, 0) : 1;
    if (rmdir(path) != 0 && errno != ENOENT)
        left++;
    return left;
}
