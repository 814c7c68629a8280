/* procgate.h -- a counting gate shared by a process and the children it forks (at most N
 * holders at once), crash-safe: the places of a child that died are given back by its reaper. */
#ifndef VF_PROCGATE_H
#define VF_PROCGATE_H

#include <stdbool.h>
#include <sys/types.h>

/* Most holders and most waiters a gate can have. */
#define PROCGATE_MAX 256

/*
 * The gate lives in shared anonymous memory: every process forked after procgate_new() uses
 * the same one.  A place is marked with the holder's pid (an atomic compare-and-swap), so no
 * lock is ever held across a crash: the process that reaps a dead child calls
 * procgate_release_pid() and the child's place is free again.
 *
 * Besides `cap` holders, at most `waiters` processes may wait for a place; any more are refused
 * at once.  With cap + waiters below the number of processes sharing the gate, at least one of
 * them is never busy with the gated work or waiting for it (the FastCGI workers and argon2id).
 */
struct procgate;

/* A gate for cap (1..PROCGATE_MAX) holders and `waiters` (0..PROCGATE_MAX) waiters; NULL when
 * the memory could not be mapped (errno).  Free with procgate_free() in the creating process. */
struct procgate *procgate_new(int cap, int waiters);
/* Unmap (NULL-safe).  Children forked before keep their mapping until they exit. */
void procgate_free(struct procgate *g);
/* Change the limits (e.g. on a configuration reload); holders above a smaller cap keep their
 * place until they leave. */
void procgate_set(struct procgate *g, int cap, int waiters);

/*
 * Take a place for this process.  True at once when one is free; otherwise, when fewer than
 * `waiters` processes wait already, wait up to wait_ms for one; false when refused or the wait
 * ran out.  A NULL gate always admits (no limit).  A process holds at most one place at a time.
 */
bool procgate_enter(struct procgate *g, int wait_ms);
/* Give back this process's place (nothing when it holds none; NULL-safe). */
void procgate_leave(struct procgate *g);
/* Give back every place and wait slot of `pid` (it died holding them); returns how many. */
int procgate_release_pid(struct procgate *g, pid_t pid);
/* How many places are held right now (monitoring, tests). */
int procgate_holders(const struct procgate *g);

#endif
