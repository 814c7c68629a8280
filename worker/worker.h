/* worker.h -- videoflix-worker internals: job kinds with limits, child slots, housekeeping hooks.
 */
#ifndef VF_WORKER_H
#define VF_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "app.h"
#include "job.h"
#include "jobkind.h"

/* How the worker runs one kind: the kind itself plus the child's limits. */
struct worker_kind {
    const struct job_kind *kind;
    /* Wall-clock limit of one run of the job with `payload` and no-progress limit (0 = none),
     * seconds. */
    int (*wall_timeout)(const struct config *cfg, const char *payload);
    int (*stall_timeout)(const struct config *cfg);
    bool timeout_permanent; /* a run killed by a timeout fails for good (poison input) */
    /* NULL: a job gets JOB_MAX_ATTEMPTS attempts, JOB_RETRY_MAX_DELAY apart at most.  Else its
     * temporary failures are retried for this many seconds after it was queued, however many
     * attempts that takes (an MTA's queue: mail survives an SMTP outage), at most
     * retry_max_delay seconds apart; a permanent failure still ends it at once. */
    int (*retry_window)(const struct config *cfg);
    int (*retry_max_delay)(const struct config *cfg);
    /* Child rlimits: CPU seconds (0 = wall_timeout * cores), address space and file
     * size in MiB (0 = unlimited). */
    long cpu_s, as_mib, fsize_mib;
};

/* The kinds this worker runs (the test kinds only in a test build and with VF_TEST_JOB_KINDS=1).
 * Borrowed. */
const struct worker_kind *worker_kinds(size_t *n);
const struct worker_kind *worker_kind_find(const char *name);

/* The job kinds of this program, one file each: worker/mailjob.c (lib/domain/mail.c renders
 * and sends) and worker/transcodejob.c (gst-pipelines/ runs the ladder).  A new kind is one
 * file here and one row in worker/kinds.c. */
extern const struct job_kind mailjob_kind;
extern const struct job_kind transcodejob_kind;
/* worker/accountmailjob.c: requests for activation and reset mails, resolved with the database */
extern const struct job_kind accountmailjob_kind;

#ifdef VF_TEST_HOOKS
/* Test kinds (worker/testkinds.c, compiled only with configure --enable-test-hooks), enabled by
 * VF_TEST_JOB_KINDS=1:
 *   noop  {"log": "/path", "tag": "x", "sleep_ms": N}  appends "<tag or job id> <pid>\n" to
 *         log, sleeps with progress lines, succeeds
 *   fail  {"code": 65|75|..., "reason": "..."}          exits with code after an error line */
extern const struct job_kind worker_test_noop;
extern const struct job_kind worker_test_fail;
#endif

/*
 * Periodic housekeeping in the parent (it has the database): expired token
 * revocations, rate-limit rows, old done jobs.  Each hook gets the current time and
 * returns VF_OK or an error (logged, the next run tries again).  Areas add their
 * hook to the table in worker/prune.c.  Hooks run every PRUNE_INTERVAL seconds in
 * every worker, so they must be idempotent (plain DELETE ... WHERE expired).
 */
struct worker_prune_hook {
    const char *name;
    enum vf_err (*run)(struct app *app, int64_t now_us);
};
extern const struct worker_prune_hook worker_prune_hooks[]; /* ends with { NULL, NULL } */
#define WORKER_PRUNE_INTERVAL_S 300

/* Run every prune hook once (logs failures). */
void worker_prune_run(struct app *app);

/* A running child and its job. */
struct slot {
    struct job *job;
    const struct worker_kind *wk;
    pid_t pid;   /* 0 once reaped */
    pid_t pgid;  /* the child's process group (= its first pid) */
    int fd;      /* read end of the report pipe, -1 once closed */
    int wstatus; /* from waitpid */
    char line[16384];
    size_t linelen;
    bool line_overflow;
    char *result;    /* "result" line, owned */
    char error[512]; /* last "error" line */
    int progress, stored_progress;
    int64_t started_us, last_progress_us, stored_progress_us, next_renew_us;
    int64_t lease_until;     /* our lease as last confirmed by the database */
    const char *kill_reason; /* set when the parent killed it */
    bool kill_permanent;
    bool lease_lost; /* someone else owns the job now: record nothing */
    bool handback;   /* shutdown: give the job back instead of failing it */
};

/* Fork a child for `s->job` (own process group, no DB handle, rlimits, death signal)
 * and fill pid/fd.  Returns VF_OK or VF_ERR_IO. */
enum vf_err slot_spawn(struct slot *s, const struct config *cfg);
/* Read what the child wrote (non-blocking); handles progress lines.  Returns true at EOF. */
bool slot_read(struct slot *s);
/* Kill the child's whole process group with SIGKILL. */
void slot_kill(struct slot *s, const char *reason, bool permanent);
/* Free the slot's memory (the job too) and reset it. */
void slot_clear(struct slot *s);

#endif
