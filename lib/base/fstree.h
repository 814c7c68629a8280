/* fstree.h -- file-system trees: removing one without ever following a symlink. */
#ifndef VF_FSTREE_H
#define VF_FSTREE_H

/*
 * Remove `path`: a file, a symlink (the link itself) or a directory with everything below
 * it, opened with O_NOFOLLOW at every level (openat/unlinkat below an open directory), so
 * a symlink planted in the tree never leads outside it.  A missing path is fine.  Returns
 * the number of entries that could not be removed (0: all gone); errno is that of the
 * last failure.
 */
int fstree_remove(const char *path);

#endif
