/* prune.c -- videoflix-worker: periodic housekeeping hooks (old jobs, expired rows of other areas).
 */
#include "autoconf.h"

#include "clock.h"
#include "log.h"
#include "ratelimit.h"
#include "user.h"
#include "videoadmin.h"
#include "worker.h"

#define DONE_JOB_RETENTION_US     (7LL * 86400 * 1000000)
#define LOGIN_SOURCE_RETENTION_US (90LL * 86400 * 1000000)

/* Log how many rows a hook deleted (`what`, e.g. "done jobs"); returns err. */
static enum vf_err
deleted(enum vf_err err, int64_t n, const char *what)
{
    if (err == VF_OK && n > 0)
        log_info("prune: deleted %lld %s", (long long)n, what);
    return err;
}

/* Done jobs (mail payloads carry links) are kept a week for `videoflixctl jobs`. */
static enum vf_err
prune_done_jobs(struct app *app, int64_t now_us)
{
    int64_t n = 0;
    enum vf_err err = job_prune(app->db, now_us - DONE_JOB_RETENTION_US, &n);
    return deleted(err, n, "done jobs");
}

/* Refresh-token revocations of tokens that have expired anyway (accounts). */
static enum vf_err
prune_revocations(struct app *app, int64_t now_us)
{
    (void)now_us;
    int64_t n = 0;
    enum vf_err err = user_prune_revocations(app->db, &n);
    return deleted(err, n, "expired token revocations");
}

/* Rate-limit windows older than the longest window in use (accounts). */
static enum vf_err
prune_ratelimits(struct app *app, int64_t now_us)
{
    (void)now_us;
    int64_t n = 0;
    enum vf_err err = ratelimit_prune(app->db, app->cfg->ratelimit_window, &n);
    return deleted(err, n, "old rate-limit windows");
}

/* Staging directories of deleted videos (a transcode that was running then). */
static enum vf_err
prune_staging(struct app *app, int64_t now_us)
{
    (void)now_us;
    int64_t n = 0;
    enum vf_err err = videoadmin_sweep_staging(app->cfg, app->db, &n);
    return deleted(err, n, "staging directories of deleted videos");
}

/* Addresses an account has not signed in from for 90 days are unknown again (accounts). */
static enum vf_err
prune_login_sources(struct app *app, int64_t now_us)
{
    int64_t n = 0;
    enum vf_err err = user_prune_login_sources(app->db, now_us - LOGIN_SOURCE_RETENTION_US, &n);
    return deleted(err, n, "old login sources");
}

/* Add your area's hook here: { "name", function }.  See worker.h for the contract. */
const struct worker_prune_hook worker_prune_hooks[] = {
    { "done jobs", prune_done_jobs },           { "token revocations", prune_revocations },
    { "rate-limit windows", prune_ratelimits }, { "staging of deleted videos", prune_staging },
    { "login sources", prune_login_sources },   { NULL, NULL },
};

void
worker_prune_run(struct app *app)
{
    for (const struct worker_prune_hook *h = worker_prune_hooks; h->name != NULL; h++) {
        enum vf_err err = h->run(app, clock_now_us());
        if (err != VF_OK)
            log_warn("prune: %s: %s", h->name, vf_strerror(err));
    }
}
