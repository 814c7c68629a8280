/* prune.c -- videoflix-worker: periodic housekeeping hooks (old jobs, expired rows of other areas).
 */
#include "clock.h"
#include "log.h"
#include "worker.h"

#define DONE_JOB_RETENTION_US (7LL * 86400 * 1000000)

/* Done jobs (mail payloads carry links) are kept a week for `videoflixctl jobs`. */
static enum vf_err
prune_done_jobs(struct app *app, int64_t now_us)
{
    int64_t n = 0;
    enum vf_err err = job_prune(app->db, now_us - DONE_JOB_RETENTION_US, &n);
    if (err == VF_OK && n > 0)
        log_info("prune: deleted %lld done jobs", (long long)n);
    return err;
}

/* Add your area's hook here: { "name", function }.  See worker.h for the contract. */
const struct worker_prune_hook worker_prune_hooks[] = {
    { "done jobs", prune_done_jobs },
    { NULL, NULL },
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
