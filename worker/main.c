/* main.c -- videoflix-worker: claim jobs, run each in a forked child, own every DB write. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "datadir.h"
#include "db.h"
#include "log.h"
#include "worker.h"

#define POLL_MS      250 /* SQLite and busy workers look for new jobs this often */
#define IDLE_WAIT_MS 500 /* PostgreSQL: wait for NOTIFY this long when idle */
#define RECORD_TRIES 5
#define MAX_SLOTS    256

static volatile sig_atomic_t got_term;
static int selfpipe[2] = { -1, -1 };

/* Signal handlers only count and wake the loop. */
static void
on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGTERM || sig == SIGINT)
        got_term++;
    ssize_t w = write(selfpipe[1], "x", 1);
    (void)w;
    errno = saved;
}

struct worker {
    struct app app;
    const struct config *cfg;
    char owner[JOB_OWNER_MAX];
    const struct worker_kind *kinds;
    size_t nkinds;
    struct slot slots[MAX_SLOTS];
    size_t nslots;
    int lease_s;
    bool pg;
    bool stopping;
    int64_t stop_deadline;
    int64_t next_sweep, next_prune, quiet_until;
    bool need_relisten;
};

static int64_t
secs(int s)
{
    return (int64_t)s * 1000000;
}

static uint32_t
rnd32(void)
{
    uint32_t r;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r = (uint32_t)random();
    return r;
}

/* Log a database error at most every 10 s (a missing migration must not flood the log). */
static void
db_trouble(struct worker *w, const char *what, enum vf_err err)
{
    int64_t now = clock_now_us();
    if (now >= w->quiet_until) {
        log_error("worker: %s: %s (%s)", what, vf_strerror(err), db_errmsg(w->app.db));
        w->quiet_until = now + secs(10);
    }
    if (err == VF_ERR_DB || err == VF_ERR_BUSY)
        w->need_relisten = true;
}

static int
running_of(const struct worker *w, const struct worker_kind *wk)
{
    int n = 0;
    for (size_t i = 0; i < w->nslots; i++)
        if (w->slots[i].job != NULL && w->slots[i].wk == wk)
            n++;
    return n;
}

static struct slot *
free_slot(struct worker *w)
{
    for (size_t i = 0; i < w->nslots; i++)
        if (w->slots[i].job == NULL)
            return &w->slots[i];
    return NULL;
}

static size_t
active(const struct worker *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nslots; i++)
        n += w->slots[i].job != NULL;
    return n;
}

static void
sweep_failed(void *arg, int64_t id, const char *kind, const char *payload, const char *reason)
{
    struct worker *w = arg;
    const struct worker_kind *wk = worker_kind_find(kind);
    if (wk != NULL && wk->kind->failed != NULL)
        wk->kind->failed(&w->app, id, payload, reason);
}

/*
 * The retry of a job of a kind with a retry window (mail): *delay capped at its own maximum and
 * at the end of the window, which counts from when the job was queued; `permanent` once the
 * window is over (then `reason` gets that said in front of the failure).
 */
static bool
window_retry(const struct worker *w, const struct slot *s, int64_t *delay, char *reason, size_t len,
             const char *why)
{
    int window = s->wk->retry_window(w->cfg);
    int64_t now = clock_now_us(), end = s->job->created_at + secs(window);
    if (now >= end) {
        vf_reason(reason, len, "given up after the retry window (%d s since it was queued): %s",
                  window, why);
        return true;
    }
    if (now + *delay > end)
        *delay = end - now; /* one last attempt at the end of the window */
    return false;
}

/* Record a failed attempt; the kind's failed hook runs in the same transaction. */
static void
record_fail(struct worker *w, struct slot *s, const char *why, bool permanent)
{
    const struct job *job = s->job;
    int max_delay = s->wk->retry_max_delay != NULL ? s->wk->retry_max_delay(w->cfg)
                                                   : w->cfg->job_retry_max_delay;
    int64_t delay =
        job_backoff_us(job->attempts, secs(w->cfg->job_retry_delay), secs(max_delay), rnd32());
    char windowed[1200];
    const char *reason = why;
    if (!permanent && s->wk->retry_window != NULL &&
        window_retry(w, s, &delay, windowed, sizeof(windowed), why)) {
        permanent = true;
        reason = windowed;
    }
    for (int t = 0; t < RECORD_TRIES; t++) {
        enum job_state st = JOB_QUEUED;
        enum vf_err err = db_begin(w->app.db);
        if (err == VF_OK)
            err = job_fail(w->app.db, job, reason, permanent, clock_now_us() + delay, &st);
        if (err == VF_OK && st == JOB_FAILED && s->wk->kind->failed != NULL)
            s->wk->kind->failed(&w->app, job->id, job->payload, reason);
        if (err == VF_OK)
            err = db_commit(w->app.db);
        if (err == VF_OK) {
            if (st == JOB_FAILED)
                log_warn("job %lld (%s) failed for good after attempt %d: %s", (long long)job->id,
                         job->kind, job->attempts, reason);
            else
                log_info("job %lld (%s) attempt %d failed, retry in %.1f s: %s", (long long)job->id,
                         job->kind, job->attempts, (double)delay / 1e6, reason);
            return;
        }
        db_rollback(w->app.db);
        if (err == VF_ERR_STALE) {
            log_warn("job %lld (%s): lease lost, failure not recorded", (long long)job->id,
                     job->kind);
            return;
        }
        db_trouble(w, "recording a failure", err);
        if (w->need_relisten)
            db_ping(w->app.db);
        usleep(200000);
    }
    log_error("job %lld (%s): could not record the failure; the lease will expire",
              (long long)job->id, job->kind);
}

/* The child succeeded: fence, publish via the kind's finish hook, mark done, atomically. */
static void
record_done(struct worker *w, struct slot *s)
{
    const struct job *job = s->job;
    for (int t = 0; t < RECORD_TRIES; t++) {
        char why[512] = "";
        enum vf_err herr = VF_OK;
        enum vf_err err = db_begin(w->app.db);
        if (err == VF_OK)
            err = job_fence(w->app.db, job);
        if (err == VF_OK && s->wk->kind->finish != NULL)
            herr = s->wk->kind->finish(&w->app, job->id, job->payload, s->result, why, sizeof(why));
        if (err == VF_OK && herr != VF_OK) {
            db_rollback(w->app.db);
            char reason[600];
            snprintf(reason, sizeof(reason), "finish: %s", why[0] ? why : vf_strerror(herr));
            bool perm = herr == VF_ERR_INVALID || herr == VF_ERR_MEDIATYPE ||
                        herr == VF_ERR_PERMFAIL || herr == VF_ERR_NOTFOUND;
            record_fail(w, s, reason, perm);
            return;
        }
        if (err == VF_OK)
            err = job_complete(w->app.db, job, s->result);
        if (err == VF_OK)
            err = db_commit(w->app.db);
        if (err == VF_OK) {
            log_info("job %lld (%s) done in %.2f s (attempt %d)", (long long)job->id, job->kind,
                     (double)(clock_now_us() - s->started_us) / 1e6, job->attempts);
            return;
        }
        db_rollback(w->app.db);
        if (err == VF_ERR_STALE) {
            log_warn("job %lld (%s): lease lost before completion; result discarded",
                     (long long)job->id, job->kind);
            return;
        }
        db_trouble(w, "recording completion", err);
        if (w->need_relisten)
            db_ping(w->app.db);
        usleep(200000);
    }
    log_error("job %lld (%s): could not record completion; the lease will expire",
              (long long)job->id, job->kind);
}

/* The child is reaped and its pipe drained: record the outcome, free the slot. */
static void
complete(struct worker *w, struct slot *s)
{
    char reason[700];
    int st = s->wstatus;
    if (s->lease_lost) {
        log_warn("job %lld (%s): lease lost while running; child stopped", (long long)s->job->id,
                 s->job->kind);
    } else if (s->handback) {
        enum vf_err err = job_release(w->app.db, s->job, "handed back by a stopping worker");
        log_info("job %lld (%s) handed back: %s", (long long)s->job->id, s->job->kind,
                 vf_strerror(err));
    } else if (s->kill_reason != NULL) {
        record_fail(w, s, s->kill_reason, s->kill_permanent);
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == JOB_EXIT_OK) {
        record_done(w, s);
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == JOB_EXIT_DATAERR) {
        record_fail(w, s, s->error[0] ? s->error : "permanent failure", true);
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == JOB_EXIT_TEMPFAIL) {
        record_fail(w, s, s->error[0] ? s->error : "temporary failure", false);
    } else if (WIFEXITED(st)) {
        snprintf(reason, sizeof(reason), "child exited with status %d%s%s", WEXITSTATUS(st),
                 s->error[0] ? ": " : "", s->error);
        record_fail(w, s, reason, false);
    } else {
        snprintf(reason, sizeof(reason), "child killed by signal %d (%s)%s%s",
                 WIFSIGNALED(st) ? WTERMSIG(st) : 0,
                 WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "?", s->error[0] ? ": " : "",
                 s->error);
        record_fail(w, s, reason, false);
    }
    slot_clear(s);
}

static void
reap(struct worker *w)
{
    for (;;) {
        int st = 0;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid <= 0)
            break;
        for (size_t i = 0; i < w->nslots; i++) {
            struct slot *s = &w->slots[i];
            if (s->job != NULL && s->pid == pid) {
                s->wstatus = st;
                s->pid = 0;
                if (WIFSIGNALED(st) && s->kill_reason == NULL)
                    log_warn("job %lld (%s): child %ld killed by signal %d", (long long)s->job->id,
                             s->job->kind, (long)pid, WTERMSIG(st));
            }
        }
    }
    for (size_t i = 0; i < w->nslots; i++) {
        struct slot *s = &w->slots[i];
        if (s->job == NULL || s->pid != 0)
            continue;
        /* Reaped: take what is left in the pipe.  A grandchild still holding it open
         * is killed with the process group. */
        if (!slot_read(s)) {
            kill(-s->pgid, SIGKILL);
            close(s->fd);
            s->fd = -1;
        }
        complete(w, s);
    }
}

/* Renew leases, store progress, enforce timeouts. */
static void
tend(struct worker *w)
{
    int64_t now = clock_now_us();
    for (size_t i = 0; i < w->nslots; i++) {
        struct slot *s = &w->slots[i];
        if (s->job == NULL || s->pid == 0 || s->lease_lost || s->handback)
            continue;
        enum vf_err err = VF_OK;
        if (now >= s->next_renew_us) {
            err = job_renew(w->app.db, s->job, w->lease_s);
            s->next_renew_us = now + (err == VF_OK ? secs(w->lease_s) / 3 : secs(1));
            if (err == VF_OK)
                s->lease_until = now + secs(w->lease_s);
        }
        /* Self-fencing: when renewals keep failing (database unreachable) stop the child
         * before the lease runs out, so no other worker's run overlaps with ours. */
        if (err != VF_ERR_STALE && now >= s->lease_until - secs(w->lease_s) / 4) {
            log_warn("job %lld (%s): lease could not be renewed; stopping the child",
                     (long long)s->job->id, s->job->kind);
            s->lease_lost = true;
            slot_kill(s, "lease could not be renewed", false);
            continue;
        }
        if (err == VF_OK && s->progress != s->stored_progress &&
            (now - s->stored_progress_us >= 1000000 || s->progress == 100)) {
            err = job_progress(w->app.db, s->job, s->progress);
            if (err == VF_OK) {
                s->stored_progress = s->progress;
                s->stored_progress_us = now;
            }
        }
        if (err == VF_ERR_STALE) {
            s->lease_lost = true;
            slot_kill(s, "lease lost", false);
            continue;
        }
        if (err != VF_OK)
            db_trouble(w, "renewing a lease", err);
        int wall = s->wk->wall_timeout != NULL ? s->wk->wall_timeout(w->cfg, s->job->payload) : 0;
        int stall = s->wk->stall_timeout != NULL ? s->wk->stall_timeout(w->cfg) : 0;
        if (wall > 0 && now - s->started_us > secs(wall)) {
            snprintf(s->error, sizeof(s->error), "timed out after %d s", wall);
            slot_kill(s, s->error, s->wk->timeout_permanent);
        } else if (stall > 0 && now - s->last_progress_us > secs(stall)) {
            snprintf(s->error, sizeof(s->error), "no progress for %d s", stall);
            slot_kill(s, s->error, s->wk->timeout_permanent);
        }
    }
}

/* Claim and start jobs while this worker has free capacity.  Returns how many started. */
static int
claim_some(struct worker *w)
{
    int started = 0;
    for (;;) {
        struct slot *s = free_slot(w);
        if (s == NULL)
            return started;
        char kinds[512] = "";
        size_t klen = 0;
        for (size_t k = 0; k < w->nkinds; k++) {
            const struct worker_kind *wk = &w->kinds[k];
            if (running_of(w, wk) < wk->kind->concurrency(w->cfg)) {
                int n = snprintf(kinds + klen, sizeof(kinds) - klen, "%s%s", klen ? "," : "",
                                 wk->kind->name);
                if (n > 0 && (size_t)n < sizeof(kinds) - klen)
                    klen += (size_t)n;
                else
                    kinds[klen] = '\0';
            }
        }
        if (kinds[0] == '\0')
            return started;

        bool ready = false;
        enum vf_err err = job_ready(w->app.db, kinds, &ready);
        if (err != VF_OK) {
            db_trouble(w, "looking for jobs", err);
            return started;
        }
        if (!ready)
            return started;
        struct job *job = NULL;
        err = db_begin(w->app.db);
        if (err == VF_OK)
            err = job_claim(w->app.db, w->owner, kinds, w->lease_s, &job);
        if (err == VF_ERR_NOTFOUND) {
            db_commit(w->app.db);
            return started;
        }
        const struct worker_kind *wk = err == VF_OK ? worker_kind_find(job->kind) : NULL;
        if (err == VF_OK && wk == NULL)
            err = VF_ERR_INTERNAL; /* cannot happen: the claim filters by kind */
        if (err == VF_OK && wk->kind->started != NULL)
            wk->kind->started(&w->app, job->id, job->payload);
        if (err == VF_OK)
            err = db_commit(w->app.db);
        if (err != VF_OK) {
            db_rollback(w->app.db);
            job_free(job);
            db_trouble(w, "claiming a job", err);
            return started;
        }
        /* A kind with a retry window (mail) is retried until the window ends, not a number
         * of times (record_fail). */
        if (job->max_attempts <= 0)
            job->max_attempts = wk->retry_window != NULL ? INT_MAX : w->cfg->job_max_attempts;
        s->job = job;
        s->wk = wk;
        s->fd = -1;
        s->next_renew_us = clock_now_us() + secs(w->lease_s) / 3;
        s->lease_until = clock_now_us() + secs(w->lease_s);
        if (slot_spawn(s, w->cfg) != VF_OK) {
            record_fail(w, s, "cannot fork a child", false);
            slot_clear(s);
            return started;
        }
        if (job->max_attempts == INT_MAX)
            log_info("job %lld (%s) started, attempt %d (retried for %d s), child %ld",
                     (long long)job->id, job->kind, job->attempts, wk->retry_window(w->cfg),
                     (long)s->pid);
        else
            log_info("job %lld (%s) started, attempt %d/%d, child %ld", (long long)job->id,
                     job->kind, job->attempts, job->max_attempts, (long)s->pid);
        started++;
    }
}

static void
housekeeping(struct worker *w)
{
    int64_t now = clock_now_us();
    if (w->need_relisten) {
        if (db_ping(w->app.db) == VF_OK &&
            (!w->pg || db_listen(w->app.db, JOB_NOTIFY_CHANNEL) == VF_OK))
            w->need_relisten = false;
    }
    if (now >= w->next_sweep) {
        int rq = 0, fl = 0;
        enum vf_err err = job_sweep(w->app.db, w->cfg->job_max_attempts, sweep_failed, w, &rq, &fl);
        if (err != VF_OK)
            db_trouble(w, "sweeping expired leases", err);
        w->next_sweep = now + secs(w->lease_s > 2 ? w->lease_s / 2 : 1);
    }
    if (now >= w->next_prune) {
        worker_prune_run(&w->app);
        w->next_prune = now + secs(WORKER_PRUNE_INTERVAL_S);
    }
}

/* Wait for a child report, a signal, a notification or the poll interval. */
static void
wait_events(struct worker *w, int timeout_ms)
{
    struct pollfd p[MAX_SLOTS + 1];
    size_t n = 0;
    p[n++] = (struct pollfd){ .fd = selfpipe[0], .events = POLLIN };
    for (size_t i = 0; i < w->nslots; i++)
        if (w->slots[i].job != NULL && w->slots[i].fd >= 0)
            p[n++] = (struct pollfd){ .fd = w->slots[i].fd, .events = POLLIN };
    if (w->pg && n == 1 && !w->stopping && timeout_ms > 0) {
        /* Idle on PostgreSQL: block on the connection for NOTIFY instead. */
        db_wait(w->app.db, IDLE_WAIT_MS);
        return;
    }
    if (poll(p, n, timeout_ms) > 0) {
        char buf[64];
        if (p[0].revents & POLLIN)
            while (read(selfpipe[0], buf, sizeof(buf)) > 0)
                ;
        for (size_t i = 0; i < w->nslots; i++)
            if (w->slots[i].job != NULL && w->slots[i].fd >= 0)
                slot_read(&w->slots[i]);
    }
    if (w->pg)
        db_wait(w->app.db, 0); /* drain notifications */
}

static void
stop_all(struct worker *w)
{
    for (size_t i = 0; i < w->nslots; i++) {
        struct slot *s = &w->slots[i];
        if (s->job != NULL && s->pid > 0 && !s->handback) {
            s->handback = true;
            slot_kill(s, "worker stopping", false);
        }
    }
}

static void
usage(FILE *fp)
{
    fprintf(fp, "usage: videoflix-worker [-e ENVFILE]\n"
                "Runs queued jobs (mail, transcode) in child processes until SIGTERM.\n");
}

static int
setup_signals(void)
{
    if (pipe2(selfpipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *env_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-e") == 0 && i + 1 < argc) {
            env_path = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    /* Nothing we create is for other users: the database, uploads and staging stay ours;
     * what the web server reads gets its modes explicitly (lib/domain/media.h). */
    umask(027);
    char errbuf[512];
    struct config *cfg = NULL;
    if (config_load(env_path, &cfg, errbuf, sizeof(errbuf)) != VF_OK) {
        fprintf(stderr, "videoflix-worker: configuration: %s\n", errbuf);
        return 2;
    }
    log_init("videoflix-worker", cfg->log_level);
    if (datadir_require(cfg, DATADIR_TEMPLATES, errbuf, sizeof(errbuf)) != VF_OK ||
        db_require(cfg, errbuf, sizeof(errbuf)) != VF_OK) {
        fprintf(stderr, "videoflix-worker: %s\n", errbuf);
        config_free(cfg);
        return 2;
    }
    srandom((unsigned)(getpid() ^ (uint32_t)clock_now_us()));
    if (setup_signals() != 0) {
        log_error("worker: cannot set up signals: %s", strerror(errno));
        config_free(cfg);
        return 1;
    }

    static struct worker w;
    w.cfg = cfg;
    w.app.cfg = cfg;
    w.lease_s = cfg->job_lease_seconds;
    job_owner_name(w.owner, sizeof(w.owner));
    w.kinds = worker_kinds(&w.nkinds);
    for (size_t k = 0; k < w.nkinds; k++) {
        int c = w.kinds[k].kind->concurrency(cfg);
        w.nslots += (size_t)(c > 0 ? c : 1);
    }
    if (w.nslots > MAX_SLOTS)
        w.nslots = MAX_SLOTS;
    for (size_t i = 0; i < w.nslots; i++)
        w.slots[i].fd = -1;

    if (db_open(cfg, &w.app.db) != VF_OK) {
        log_error("worker: cannot open the database");
        config_free(cfg);
        return 1;
    }
    w.pg = db_engine(w.app.db) == CONFIG_DB_POSTGRES;
    if (w.pg && db_listen(w.app.db, JOB_NOTIFY_CHANNEL) != VF_OK)
        w.need_relisten = true;
    w.next_prune = clock_now_us() + secs(10);
    {
        char names[256] = "";
        for (size_t k = 0; k < w.nkinds; k++)
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s(%d)", k ? " " : "",
                     w.kinds[k].kind->name, w.kinds[k].kind->concurrency(cfg));
        log_info("worker %s started: kinds %s, lease %d s", w.owner, names, w.lease_s);
    }

    for (;;) {
        if (got_term && !w.stopping) {
            w.stopping = true;
            w.stop_deadline = clock_now_us() + secs(cfg->worker_shutdown_grace);
            log_info("worker: stopping; waiting up to %d s for %zu running job(s)",
                     cfg->worker_shutdown_grace, active(&w));
        }
        if (w.stopping && (got_term > 1 || clock_now_us() >= w.stop_deadline))
            stop_all(&w);
        reap(&w);
        tend(&w);
        if (w.stopping && active(&w) == 0)
            break;
        int started = 0;
        if (!w.stopping) {
            housekeeping(&w);
            started = claim_some(&w);
        }
        wait_events(&w, started > 0 ? 0 : POLL_MS);
    }
    log_info("worker %s stopped", w.owner);
    db_close(w.app.db);
    config_free(cfg);
    return 0;
}
