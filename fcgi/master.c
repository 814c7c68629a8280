/* master.c -- the prefork master of videoflix-fcgi: spawns, reaps, respawns and retires workers. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "datadir.h"
#include "db.h"
#include "log.h"
#include "master.h"
#include "password.h"
#include "metrics.h"
#include "procgate.h"
#include "responder.h"

#define MAX_SLOTS      520 /* 2 x FCGI_WORKERS max (256) during a reload, plus slack */
#define MAX_CRASH_RING 64
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 32000

/* One worker process.  pid 0 = free slot. */
struct slot {
    pid_t pid;
    unsigned gen;  /* generation: bumped by each reload */
    bool retiring; /* told to stop (reload or shutdown): not replaced when it exits */
};

struct master {
    struct config **cfg;
    const struct master_opts *opts;
    int listen_fd;
    pid_t pid;
    int nworkers;
    unsigned gen;
    struct slot slots[MAX_SLOTS];
    int64_t crashes[MAX_CRASH_RING]; /* monotonic ms of recent abnormal exits (ring) */
    size_t ncrashes;
    int64_t respawn_after; /* crash-loop guard: no spawning before this (monotonic ms) */
    int backoff_ms;
    int64_t last_crash_loop;
    bool fatal;    /* a worker exited with MASTER_EXIT_CONFIG */
    bool stopping; /* SIGTERM/SIGINT received: workers asked to finish */
    bool killed;   /* stopping took too long: SIGKILL sent */
    int64_t stop_deadline;
    struct procgate *hash_gate; /* argon2id places shared by the workers (NULL: no cap) */
    int to_replace;             /* workers that exited unasked: their successors are respawns */
};

/* Signal handlers only set these and poke the self-pipe; the loop does the work. */
static volatile sig_atomic_t got_chld, got_stop, got_hup;
static int wake_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
    int saved = errno;

    if (sig == SIGCHLD)
        got_chld = 1;
    else if (sig == SIGHUP)
        got_hup = 1;
    else
        got_stop = 1;
    if (wake_pipe[1] >= 0) {
        ssize_t r = write(wake_pipe[1], "", 1); /* a full pipe is fine: a wake-up is pending */
        (void)r;
    }
    errno = saved;
}

static void
set_handlers(void (*fn)(int))
{
    static const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = fn;
    sa.sa_flags = fn == SIG_DFL ? 0 : SA_RESTART;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}

/* In the child right after fork (all signals still blocked): drop the master's signal
 * plumbing, die with the master, serve.  Stop signals stay blocked until the responder
 * has installed its handlers, so one sent during start-up is handled, not fatal.
 * Never returns. */
static void
worker_main(struct master *m, const sigset_t *saved)
{
    sigset_t mask = *saved;

    close(wake_pipe[0]);
    close(wake_pipe[1]);
    wake_pipe[0] = wake_pipe[1] = -1;
    set_handlers(SIG_DFL);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGQUIT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    /* SIGTERM, not SIGKILL: an orphaned worker still finishes its request. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != m->pid)
        exit(0);
    exit(responder_run(*m->cfg, m->listen_fd, m->pid, m->hash_gate));
}

static void
spawn(struct master *m)
{
    struct slot *s = NULL;

    for (size_t i = 0; i < MAX_SLOTS && s == NULL; i++)
        if (m->slots[i].pid == 0)
            s = &m->slots[i];
    if (s == NULL) {
        log_error("no free worker slot");
        return;
    }
    sigset_t all, saved;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &saved);
    pid_t pid = fork();
    if (pid == 0)
        worker_main(m, &saved);
    int err = errno;
    sigprocmask(SIG_SETMASK, &saved, NULL);
    if (pid < 0) {
        log_error("fork: %s", strerror(err));
        m->respawn_after = clock_mono_ms() + BACKOFF_MIN_MS;
        return;
    }
    if (m->to_replace > 0) {
        m->to_replace--;
        metrics_inc(MC_FCGI_RESPAWNS);
    }
    s->pid = pid;
    s->gen = m->gen;
    s->retiring = false;
    log_debug("started worker %d (generation %u)", (int)pid, m->gen);
}

static int
count_live(const struct master *m, bool current_only)
{
    int n = 0;
    for (size_t i = 0; i < MAX_SLOTS; i++)
        if (m->slots[i].pid != 0 &&
            (!current_only || (m->slots[i].gen == m->gen && !m->slots[i].retiring)))
            n++;
    return n;
}

static void
signal_all(struct master *m, int sig, bool mark_retiring)
{
    for (size_t i = 0; i < MAX_SLOTS; i++) {
        if (m->slots[i].pid == 0)
            continue;
        if (mark_retiring)
            m->slots[i].retiring = true;
        kill(m->slots[i].pid, sig);
    }
}

/* php-fpm's emergency restart threshold: too many abnormal exits in a short time
 * pause respawning with an exponential backoff instead of fork-bombing. */
static void
note_crash(struct master *m)
{
    int64_t t = clock_mono_ms();
    int threshold = m->opts->crash_threshold;

    if (threshold <= 0)
        return;
    if (threshold > MAX_CRASH_RING)
        threshold = MAX_CRASH_RING;
    m->crashes[m->ncrashes++ % MAX_CRASH_RING] = t;
    if (m->ncrashes < (size_t)threshold)
        return;
    int64_t oldest = m->crashes[(m->ncrashes - (size_t)threshold) % MAX_CRASH_RING];
    if (t - oldest > (int64_t)m->opts->crash_interval * 1000)
        return;
    if (t - m->last_crash_loop > 60000)
        m->backoff_ms = BACKOFF_MIN_MS;
    else if (m->backoff_ms < BACKOFF_MAX_MS)
        m->backoff_ms *= 2;
    m->last_crash_loop = t;
    m->respawn_after = t + m->backoff_ms;
    m->ncrashes = 0;
    log_error("crash loop: %d workers died within %d s; pausing respawn for %d ms", threshold,
              m->opts->crash_interval, m->backoff_ms);
}

static void
reap(struct master *m)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct slot *s = NULL;
        for (size_t i = 0; i < MAX_SLOTS && s == NULL; i++)
            if (m->slots[i].pid == pid)
                s = &m->slots[i];
        if (s == NULL)
            continue; /* not ours (cannot happen: we fork nothing else) */
        /* A worker killed while hashing a password must not keep its place for ever. */
        if (procgate_release_pid(m->hash_gate, pid) > 0)
            log_info("worker %d died holding a password-hashing place: given back", (int)pid);
        metrics_forget_pid(pid);
        bool expected = s->retiring || m->stopping;
        if (!expected)
            m->to_replace++;
        if (WIFEXITED(status)) {
            int code = WEXITSTATUS(status);
            if (code == 0) {
                log_info("worker %d exited", (int)pid);
            } else if (code == MASTER_EXIT_CONFIG) {
                log_error("worker %d exited with a fatal configuration error: not respawning",
                          (int)pid);
                m->fatal = true;
            } else {
                log_warn("worker %d exited with status %d", (int)pid, code);
                if (!expected)
                    note_crash(m);
            }
        } else if (WIFSIGNALED(status)) {
            int sig = WTERMSIG(status);
            bool core = false;
#ifdef WCOREDUMP
            core = WCOREDUMP(status);
#endif
            if (expected && (sig == SIGKILL || sig == SIGTERM)) {
                log_info("worker %d killed by signal %d", (int)pid, sig);
            } else {
                log_warn("worker %d killed by signal %d (%s)%s", (int)pid, sig, strsignal(sig),
                         core ? " (core dumped)" : "");
                note_crash(m);
            }
        }
        s->pid = 0;
    }
}

/*
 * The password-hashing cap for `workers` workers: PASSWORD_HASH_CONCURRENCY (0: half of them, at
 * least 1) hashing at once, and as many waiting for a place as leaves one worker free of both,
 * so that a login flood never takes every worker: other requests always find one.
 */
static void
hash_limits(const struct config *cfg, int workers, int *cap, int *waiters)
{
    *cap = cfg->password_hash_concurrency > 0 ? cfg->password_hash_concurrency : workers / 2;
    if (*cap < 1)
        *cap = 1;
    *waiters = workers - *cap - 1;
    if (*waiters < 0)
        *waiters = 0;
}

static void
reload(struct master *m)
{
    struct config *fresh = NULL;
    char err[256];

    if (config_load(m->opts->env_path, &fresh, err, sizeof(err)) != VF_OK ||
        datadir_require(fresh, DATADIR_SCHEMA | DATADIR_PASSWORDS | DATADIR_OPENAPI, err,
                        sizeof(err)) != VF_OK ||
        db_require(fresh, err, sizeof(err)) != VF_OK) {
        log_error("reload: %s; keeping the current configuration", err);
        config_free(fresh);
        if (password_common_load_from((*m->cfg)->data_dir) != VF_OK)
            log_error("reload: the common-password list of the current configuration is gone");
    } else {
        config_free(*m->cfg);
        *m->cfg = fresh;
        if (m->opts->workers <= 0)
            m->nworkers = fresh->fcgi_workers;
        log_set_level(fresh->log_level);
        int cap, waiters;
        hash_limits(fresh, m->nworkers, &cap, &waiters);
        if (m->hash_gate != NULL)
            procgate_set(m->hash_gate, cap, waiters);
    }
    /* Fresh workers first, so the socket is always served; then retire the old ones. */
    int old_gen = (int)m->gen;
    m->gen++;
    m->respawn_after = 0;
    for (int i = 0; i < m->nworkers; i++)
        spawn(m);
    for (size_t i = 0; i < MAX_SLOTS; i++) {
        if (m->slots[i].pid != 0 && (int)m->slots[i].gen == old_gen) {
            m->slots[i].retiring = true;
            kill(m->slots[i].pid, SIGTERM);
        }
    }
    log_info("reloaded: %d fresh workers (generation %u), retiring the previous ones", m->nworkers,
             m->gen);
}

int
master_run(struct config **cfg, int listen_fd, const struct master_opts *opts)
{
    static struct master m; /* large; one per process */

    memset(&m, 0, sizeof(m));
    m.cfg = cfg;
    m.opts = opts;
    m.listen_fd = listen_fd;
    m.pid = getpid();
    m.nworkers = opts->workers > 0 ? opts->workers : (*cfg)->fcgi_workers;
    m.backoff_ms = BACKOFF_MIN_MS;
    m.last_crash_loop = -1000000;

    if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        log_error("pipe: %s", strerror(errno));
        return 1;
    }
    int hash_cap, hash_waiters;
    hash_limits(*cfg, m.nworkers, &hash_cap, &hash_waiters);
    if ((m.hash_gate = procgate_new(hash_cap, hash_waiters)) == NULL) {
        log_error("shared memory for the password-hashing cap: %s", strerror(errno));
        close(wake_pipe[0]);
        close(wake_pipe[1]);
        wake_pipe[0] = wake_pipe[1] = -1;
        return 1;
    }
    /* The counters of /metrics, shared by every worker forked from here on. */
    if (!metrics_init())
        log_warn("shared memory for the metrics: %s (they stay at zero)", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    set_handlers(on_signal);
    log_info("master %d serving with %d workers (%d may hash a password at once)", (int)m.pid,
             m.nworkers, hash_cap);

    for (;;) {
        int64_t t = clock_mono_ms();

        if (got_chld) {
            got_chld = 0;
            reap(&m);
        }
        if (got_stop && !m.stopping) {
            m.stopping = true;
            m.stop_deadline = t + (int64_t)opts->graceful_timeout * 1000;
            log_info("stopping: waiting up to %d s for in-flight requests", opts->graceful_timeout);
            signal_all(&m, SIGTERM, true);
        }
        if (m.fatal && !m.stopping) {
            m.stopping = true;
            m.stop_deadline = t + (int64_t)opts->graceful_timeout * 1000;
            signal_all(&m, SIGTERM, true);
        }
        if (m.stopping) {
            if (count_live(&m, false) == 0)
                break;
            if (t >= m.stop_deadline && !m.killed) {
                log_warn("workers still busy after %d s: killing them", opts->graceful_timeout);
                signal_all(&m, SIGKILL, true);
                m.killed = true;
            }
        } else {
            if (got_hup) {
                got_hup = 0;
                reload(&m);
            }
            if (t >= m.respawn_after)
                for (int n = count_live(&m, true); n < m.nworkers; n++)
                    spawn(&m);
        }

        metrics_set_workers(count_live(&m, false));

        /* Sleep until a signal arrives, or a timer (backoff end, kill deadline) is due. */
        int64_t timeout = 1000;
        if (m.stopping && !m.killed && m.stop_deadline - t < timeout)
            timeout = m.stop_deadline - t;
        if (!m.stopping && m.respawn_after > t && m.respawn_after - t < timeout)
            timeout = m.respawn_after - t;
        if (timeout < 0)
            timeout = 0;
        struct pollfd p = { .fd = wake_pipe[0], .events = POLLIN };
        if (poll(&p, 1, (int)timeout) > 0) {
            char buf[64];
            while (read(wake_pipe[0], buf, sizeof(buf)) > 0) {
            }
        }
    }

    set_handlers(SIG_DFL);
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    wake_pipe[0] = wake_pipe[1] = -1;
    procgate_free(m.hash_gate);
    m.hash_gate = NULL;
    log_info("master %d stopped", (int)m.pid);
    return m.fatal ? MASTER_EXIT_CONFIG : 0;
}
