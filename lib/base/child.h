/* child.h -- the fork discipline of every child we run: process group, death signal, clean
 * signal state, only the descriptors it needs, resource limits. */
#ifndef VF_CHILD_H
#define VF_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Called first thing in a forked child of `parent` (getpid() before the fork):
 *  - its own process group (the parent kills the whole group on a timeout);
 *  - PR_SET_PDEATHSIG SIGKILL: it dies with its parent; if the parent is already gone, it
 *    returns false and the child should _exit at once;
 *  - every signal back to its default disposition and nothing blocked (the parent's
 *    handlers and masks mean nothing here);
 *  - `keep_fd` (>= 0) moved to `as_fd` (a report pipe: 3 by convention), stdin (and
 *    stdout when `null_stdout`) on /dev/null, every other descriptor above 2 closed (the
 *    parent's database connection, listening socket and other children's pipes must not
 *    live on in the child; closing them leaves the parent's connections intact).
 * Returns true when the child may go on.
 */
bool child_setup(pid_t parent, int keep_fd, int as_fd, bool null_stdout);

/* Set the soft and hard limit of `resource` to `value` (0: leave it); false on failure. */
bool child_limit(int resource, unsigned long long value);

#endif
