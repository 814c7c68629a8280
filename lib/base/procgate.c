/* procgate.c -- a crash-safe counting gate in shared memory: places marked with their holder's
 * pid by compare-and-swap, released by the holder or by whoever reaps it. */
#include "autoconf.h"

#include "procgate.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define POLL_NS 2000000L /* 2 ms between looks while waiting */

/* Lock-free atomics on an int are address-free, so they work across processes in a MAP_SHARED
 * mapping (C11 7.17.5; int is lock-free on every platform we build for). */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "procgate needs lock-free atomic int");

struct procgate {
    atomic_int cap, waiters;
    atomic_int holder[PROCGATE_MAX]; /* 0 = free, else the holder's pid */
    atomic_int waiting[PROCGATE_MAX];
};

static int
clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

struct procgate *
procgate_new(int cap, int waiters)
{
    struct procgate *g =
        mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g == MAP_FAILED)
        return NULL;
    for (int i = 0; i < PROCGATE_MAX; i++) {
        atomic_init(&g->holder[i], 0);
        atomic_init(&g->waiting[i], 0);
    }
    atomic_init(&g->cap, 1);
    atomic_init(&g->waiters, 0);
    procgate_set(g, cap, waiters);
    return g;
}

void
procgate_free(struct procgate *g)
{
    if (g != NULL)
        munmap(g, sizeof(*g));
}

void
procgate_set(struct procgate *g, int cap, int waiters)
{
    atomic_store(&g->cap, clamp(cap, 1, PROCGATE_MAX));
    atomic_store(&g->waiters, clamp(waiters, 0, PROCGATE_MAX));
}

/* Mark a free one of slots[0..n) with pid; true when one was taken. */
static bool
claim(atomic_int *slots, int n, int pid)
{
    for (int i = 0; i < n; i++) {
        int expected = 0;
        if (atomic_load_explicit(&slots[i], memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong(&slots[i], &expected, pid))
            return true;
    }
    return false;
}

/* Clear the slots of slots[0..PROCGATE_MAX) that hold pid (at most `max` of them); how many. */
static int
unclaim(atomic_int *slots, int pid, int max)
{
    int n = 0;
    for (int i = 0; i < PROCGATE_MAX && n < max; i++) {
        int expected = pid;
        if (atomic_compare_exchange_strong(&slots[i], &expected, 0))
            n++;
    }
    return n;
}

bool
procgate_enter(struct procgate *g, int wait_ms)
{
    if (g == NULL)
        return true;
    int pid = (int)getpid();
    if (claim(g->holder, atomic_load(&g->cap), pid))
        return true;
    if (wait_ms <= 0 || !claim(g->waiting, atomic_load(&g->waiters), pid))
        return false;
    int64_t deadline = clock_mono_ms() + wait_ms;
    bool got = false;
    while (!got && clock_mono_ms() < deadline) {
        struct timespec ts = { 0, POLL_NS };
        nanosleep(&ts, NULL);
        got = claim(g->holder, atomic_load(&g->cap), pid);
    }
    unclaim(g->waiting, pid, 1);
    return got;
}

void
procgate_leave(struct procgate *g)
{
    if (g != NULL)
        unclaim(g->holder, (int)getpid(), 1);
}

int
procgate_release_pid(struct procgate *g, pid_t pid)
{
    if (g == NULL || pid <= 0)
        return 0;
    return unclaim(g->holder, (int)pid, PROCGATE_MAX) + unclaim(g->waiting, (int)pid, PROCGATE_MAX);
}

int
procgate_holders(const struct procgate *g)
{
    int n = 0;
    for (int i = 0; g != NULL && i < PROCGATE_MAX; i++)
        n += atomic_load(&((struct procgate *)g)->holder[i]) != 0;
    return n;
}
