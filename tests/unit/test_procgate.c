/* test_procgate.c -- the counting gate the FastCGI workers share for password hashing: never more
 * holders than its cap across processes, a bounded number of waiters, refusals at once, and the
 * places of a process that died given back by its reaper. */
#include "autoconf.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "procgate.h"

/* A child that takes a place (waiting up to wait_ms), writes '1' (got it) or '0' to *report, then
 * holds it until it reads a byte from *release (or is killed), leaves and exits. */
static pid_t
holder(struct procgate *g, int wait_ms, int *report, int *release)
{
    int up[2], down[2];
    cr_assert_eq(pipe(up), 0);
    cr_assert_eq(pipe(down), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char c = procgate_enter(g, wait_ms) ? '1' : '0';
        if (write(up[1], &c, 1) != 1)
            _exit(2);
        if (read(down[0], &c, 1) < 0)
            _exit(3);
        procgate_leave(g);
        _exit(0);
    }
    close(up[1]);
    close(down[0]);
    *report = up[0];
    *release = down[1];
    return pid;
}

static char
reported(int fd)
{
    char c = '?';
    cr_assert_eq(read(fd, &c, 1), 1);
    return c;
}

static void
finish(pid_t pid, int release)
{
    int st = 0;
    cr_assert_eq(write(release, "x", 1), 1);
    close(release);
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

Test(procgate, cap_waiters_refusal_and_a_dead_holder_s_place)
{
    struct procgate *g = procgate_new(2, 1);
    cr_assert_not_null(g);
    int ra, wa, rb, wb, rc, wc;
    pid_t a = holder(g, 0, &ra, &wa);
    cr_assert_eq(reported(ra), '1');
    pid_t b = holder(g, 0, &rb, &wb);
    cr_assert_eq(reported(rb), '1');
    cr_expect_eq(procgate_holders(g), 2);
    cr_expect_not(procgate_enter(g, 0), "full and no wait asked: refused");

    /* c waits (the one wait slot); a second waiter is refused at once */
    pid_t c = holder(g, 10000, &rc, &wc);
    struct timespec ts = { 0, 100000000 };
    nanosleep(&ts, NULL);
    cr_expect_not(procgate_enter(g, 10000), "the wait slot is taken: refused without waiting");

    /* a leaves: c gets its place */
    finish(a, wa);
    cr_expect_eq(reported(rc), '1');
    cr_expect_eq(procgate_holders(g), 2);

    /* b dies holding its place: only its reaper can give it back */
    cr_assert_eq(kill(b, SIGKILL), 0);
    cr_assert_eq(waitpid(b, NULL, 0), b);
    cr_expect_eq(procgate_holders(g), 2, "a dead holder's place stays taken...");
    cr_expect_eq(procgate_release_pid(g, b), 1);
    cr_expect_eq(procgate_holders(g), 1, "...until its reaper gives it back");
    cr_expect_eq(procgate_release_pid(g, b), 0);
    cr_expect(procgate_enter(g, 0));
    procgate_leave(g);
    finish(c, wc);
    cr_expect_eq(procgate_holders(g), 0);
    close(ra);
    close(rb);
    close(rc);
    procgate_free(g);
    cr_expect(procgate_enter(NULL, 0), "no gate: no cap");
}

/* Many processes entering and leaving as fast as they can: never more inside than the cap. */
Test(procgate, never_more_holders_than_the_cap)
{
    enum { CAP = 3, PROCS = 8, ROUNDS = 300 };
    struct procgate *g = procgate_new(CAP, PROCS);
    atomic_int *inside = mmap(NULL, 2 * sizeof(atomic_int), PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_not_null(g);
    cr_assert_neq(inside, MAP_FAILED);
    atomic_init(&inside[0], 0);
    atomic_init(&inside[1], 0);
    for (int p = 0; p < PROCS; p++) {
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            for (int r = 0; r < ROUNDS; r++) {
                if (!procgate_enter(g, 5000))
                    _exit(1);
                int now = atomic_fetch_add(&inside[0], 1) + 1;
                int max = atomic_load(&inside[1]);
                while (now > max && !atomic_compare_exchange_weak(&inside[1], &max, now))
                    ;
                atomic_fetch_sub(&inside[0], 1);
                procgate_leave(g);
            }
            _exit(0);
        }
    }
    for (int p = 0; p < PROCS; p++) {
        int st = 0;
        cr_assert_gt(wait(&st), 0);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a child was refused or failed");
    }
    cr_expect_leq(atomic_load(&inside[1]), CAP);
    cr_expect_geq(atomic_load(&inside[1]), 1);
    cr_expect_eq(procgate_holders(g), 0);
    munmap(inside, 2 * sizeof(atomic_int));
    procgate_free(g);
}
