/* jobkind.h -- how a job kind plugs into videoflix-worker. */
#ifndef VF_JOBKIND_H
#define VF_JOBKIND_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "config.h"
#include "error.h"

/*
 * The worker claims a job, forks a child for it and calls the kind's run() there;
 * the parent owns every database write and calls finish/failed/started.
 *
 * In the child the worker also sets VF_JOB_ID and VF_JOB_ATTEMPT in the environment
 * (e.g. for a Message-ID that stays the same across retries).  The parent hooks run
 * inside the worker's open transaction, together with the job's own state change:
 * they must not call db_begin/db_commit themselves.
 */
struct job_kind {
    const char *name;                             /* "mail", "transcode" */
    int (*concurrency)(const struct config *cfg); /* max children of this kind at once */
    /* In the forked child (no DB handle, own process group, rlimits set by the worker).
     * Write progress lines "progress <0-100>\n" and at most one "result <json>\n" line to out_fd.
     * Return 0 = success, 75 (EX_TEMPFAIL) = retry with backoff, 65 (EX_DATAERR) = permanent
     * failure; write "error <one-line reason>\n" before failing. */
    int (*run)(const struct config *cfg, const char *payload, int out_fd);
    /* In the parent after run() returned 0: publish the result (DB writes, renames).  Fenced by the
     * caller: it is only called while the job's lease is still ours.  VF_ERR_* = treat as failure.
     */
    enum vf_err (*finish)(struct app *app, int64_t job_id, const char *payload, const char *result,
                          char *err, size_t errlen);
    /* In the parent when the job failed for good (after max attempts or a permanent error). */
    void (*failed)(struct app *app, int64_t job_id, const char *payload, const char *reason);
    /* In the parent when the job is claimed (e.g. mark the video "processing"); may be NULL. */
    void (*started)(struct app *app, int64_t job_id, const char *payload);
};

/* Exit codes of run() (sysexits.h values). */
#define JOB_EXIT_OK       0
#define JOB_EXIT_DATAERR  65
#define JOB_EXIT_TEMPFAIL 75

/* Helpers for run(): write one protocol line to out_fd ("progress N", "error <reason>"
 * with control characters replaced, "result <json>").  Return 0, or -1 on a write error. */
int job_report_progress(int out_fd, int percent);
int job_report_error(int out_fd, const char *reason);
int job_report_result(int out_fd, const char *json);

#endif
