/* job.h -- the durable job queue: a jobs table with leased claims and fenced updates. */
#ifndef VF_JOB_H
#define VF_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "error.h"

/*
 * A job moves queued -> running -> done | failed.  Claiming a job increments its
 * attempt counter and gives the claimer a lease (owner + expiry).  Every later update
 * by the claimer (renew, progress, complete, fail, release) is fenced by
 * (id, owner, attempts, state running): once the lease was swept or the job was
 * claimed by someone else the update changes nothing and returns VF_ERR_STALE.
 *
 * Functions that write take part in the caller's open transaction when there is one
 * (db_in_transaction()); otherwise they run in a transaction of their own.
 * Time is clock_now_us() throughout.
 */

#define JOB_KIND_MAX       32
#define JOB_OWNER_MAX      96
#define JOB_NOTIFY_CHANNEL "videoflix_jobs"

enum job_state { JOB_QUEUED = 0, JOB_RUNNING, JOB_DONE, JOB_FAILED };

/* A claimed job.  Owned by the claimer; free with job_free(). */
struct job {
    int64_t id;
    char kind[JOB_KIND_MAX];
    char owner[JOB_OWNER_MAX];
    char *payload;      /* JSON text, never NULL */
    int attempts;       /* including this one (1 on the first run) */
    int max_attempts;   /* as stored; 0 = the configured default (the claimer fills it in) */
    int64_t created_at; /* when it was queued (a retry window counts from here) */
};

/* One row of job_list(); strings owned by the list. */
struct job_info {
    int64_t id;
    char kind[JOB_KIND_MAX];
    enum job_state state;
    int attempts, max_attempts, progress;
    int64_t run_after, created_at, updated_at, lease_expires;
    char *last_error;  /* NULL when none */
    char *lease_owner; /* NULL when not running */
};

/* One group of job_stats(): how many jobs of a kind are in a state, and the oldest of them
 * (for queued jobs the earliest run_after, i.e. the longest wait for a worker; microseconds). */
struct job_stat {
    char kind[JOB_KIND_MAX];
    enum job_state state;
    int64_t count;
    int64_t oldest_us;
};

/* "queued", "running", "done", "failed" (static); job_state_parse returns -1 if unknown. */
const char *job_state_name(enum job_state s);
int job_state_parse(const char *s);

/* Insert a queued job inside the caller's open transaction (or on its own).  payload is JSON text
 * (copied).  run_after_us 0 = now; max_attempts 0 = cfg default.  *id (may be NULL) gets the id.
 * Wakes workers (PostgreSQL NOTIFY on commit).
 * (max_attempts 0 is stored as 0 and resolved by the worker from JOB_MAX_ATTEMPTS, so the
 * default follows the worker's configuration.) */
enum vf_err job_enqueue(struct db *db, const char *kind, const char *payload, int64_t run_after_us,
                        int max_attempts, int64_t *id);
/* The same for a job that concerns video `video_id` (> 0; stored in jobs.video_id, which the
 * admin queries join on; 0 = none). */
enum vf_err job_enqueue_for(struct db *db, const char *kind, int64_t video_id, const char *payload,
                            int64_t run_after_us, int max_attempts, int64_t *id);

/* A process-unique lease owner name "host:pid:random" into buf (at least JOB_OWNER_MAX). */
void job_owner_name(char *buf, size_t len);

/*
 * Claim the next runnable job (queued, run_after <= now) whose kind is one of the
 * comma-separated `kinds` (NULL or "" = any kind), oldest run_after first, and lease
 * it to `owner` for `lease_s` seconds.  PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite:
 * inside BEGIN IMMEDIATE.  Returns VF_ERR_NOTFOUND when nothing is runnable.
 * On success the caller owns *out (job_free()).
 */
enum vf_err job_claim(struct db *db, const char *owner, const char *kinds, int lease_s,
                      struct job **out);

/* *ready = whether job_claim would find a job now (a read only; cheap to poll). */
enum vf_err job_ready(struct db *db, const char *kinds, bool *ready);

/* Extend the lease to now + lease_s.  VF_ERR_STALE when the lease is no longer ours. */
enum vf_err job_renew(struct db *db, const struct job *job, int lease_s);

/* Store progress (clamped to 0..100).  VF_ERR_STALE when the lease is no longer ours. */
enum vf_err job_progress(struct db *db, const struct job *job, int progress);

/* Verify inside the caller's transaction that the lease is still ours and lock the
 * row until commit (so a finish hook runs fenced).  VF_ERR_STALE otherwise. */
enum vf_err job_fence(struct db *db, const struct job *job);

/* Mark the job done (progress 100), storing `result` (JSON text, may be NULL).
 * VF_ERR_STALE when the lease is no longer ours (nothing changed). */
enum vf_err job_complete(struct db *db, const struct job *job, const char *result);

/*
 * Record a failed attempt with `reason` (one line; truncated to 1000 bytes).  When
 * `permanent` or the attempts are used up (attempts >= job->max_attempts, which the
 * caller must have resolved to a positive number) the job becomes failed; otherwise it is
 * queued again to run at `retry_at_us`.  *state (may be NULL) gets the new state.
 * VF_ERR_STALE when the lease is no longer ours.
 */
enum vf_err job_fail(struct db *db, const struct job *job, const char *reason, bool permanent,
                     int64_t retry_at_us, enum job_state *state);

/* Hand a running job back (worker shutdown): queued again, runnable now, the attempt
 * still counted.  VF_ERR_STALE when the lease is no longer ours. */
enum vf_err job_release(struct db *db, const struct job *job, const char *reason);

/*
 * Exponential backoff with jitter for the retry after attempt `attempt` (1-based):
 * d = min(base_us * 2^(attempt-1), max_us); returns a value in [d/2, d] chosen by
 * `rnd` (pass a random number; tests pass fixed ones).
 */
int64_t job_backoff_us(int attempt, int64_t base_us, int64_t max_us, uint32_t rnd);

/* Called by job_sweep for every job it failed for good, inside its transaction. */
typedef void (*job_sweep_cb)(void *arg, int64_t id, const char *kind, const char *payload,
                             const char *reason);

/*
 * Re-queue running jobs whose lease expired (their worker died): runnable at once,
 * or failed when their attempts are used up (max_attempts 0 = default_max_attempts) (then `cb`,
 * which may be NULL, is called for each inside the same transaction).  *requeued and *failed (may
 * be NULL) get counts.
 */
enum vf_err job_sweep(struct db *db, int default_max_attempts, job_sweep_cb cb, void *arg,
                      int *requeued, int *failed);

/* Operator retry: a failed (or queued) job becomes queued with attempts 0, runnable
 * now.  VF_ERR_NOTFOUND for no such job, VF_ERR_CONFLICT when it is running or done. */
enum vf_err job_retry(struct db *db, int64_t id);

/* Delete done jobs last updated before `before_us`.  *deleted may be NULL. */
enum vf_err job_prune(struct db *db, int64_t before_us, int64_t *deleted);

/* The newest `limit` jobs (state < 0: any state), newest first.  The caller frees
 * *out with job_info_free(*out, *n). */
enum vf_err job_list(struct db *db, int state, int limit, struct job_info **out, size_t *n);

/* The state of one job; VF_ERR_NOTFOUND if there is none. */
enum vf_err job_get(struct db *db, int64_t id, struct job_info *out);

/* NULL-safe. */
/* Every kind/state group, ordered by kind then state; *out malloc'd (free()), NULL when empty. */
enum vf_err job_stats(struct db *db, struct job_stat **out, size_t *n);
void job_free(struct job *job);
void job_info_free(struct job_info *v, size_t n);
/* Frees the strings of one job_info filled by job_get (not the struct). */
void job_info_clear(struct job_info *v);

#endif
