/* job.c -- the durable job queue: enqueue, leased claim, fenced updates, retry and sweep. */
#include "autoconf.h"

#include "job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "log.h"

#define REASON_MAX 1000

static const char *const state_names[] = {
    [JOB_QUEUED] = "queued",
    [JOB_RUNNING] = "running",
    [JOB_DONE] = "done",
    [JOB_FAILED] = "failed",
};

const char *
job_state_name(enum job_state s)
{
    if ((unsigned)s > JOB_FAILED)
        return "unknown";
    return state_names[s];
}

int
job_state_parse(const char *s)
{
    for (int i = 0; s != NULL && i <= JOB_FAILED; i++)
        if (strcmp(s, state_names[i]) == 0)
            return i;
    return -1;
}

static bool
kind_valid(const char *kind)
{
    size_t n = kind == NULL ? 0 : strlen(kind);
    if (n == 0 || n >= JOB_KIND_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = kind[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

enum vf_err
job_enqueue(struct db *db, const char *kind, const char *payload, int64_t run_after_us,
            int max_attempts, int64_t *id)
{
    return job_enqueue_for(db, kind, 0, payload, run_after_us, max_attempts, id);
}

enum vf_err
job_enqueue_for(struct db *db, const char *kind, int64_t video_id, const char *payload,
                int64_t run_after_us, int max_attempts, int64_t *id)
{
    if (payload == NULL)
        payload = "{}";
    if (!kind_valid(kind) || max_attempts < 0)
        return VF_ERR_INVALID;
    cJSON *j = cJSON_Parse(payload);
    if (j == NULL)
        return VF_ERR_INVALID;
    cJSON_Delete(j);

    int64_t now = clock_now_us();
    if (run_after_us <= 0)
        run_after_us = now;
    int64_t newid = 0;
    enum vf_err err = db_query_int(db, STMT_JOB_INSERT,
                                   DB_ARGS(DB_TEXT(kind), DB_TEXT(payload), DB_INT(max_attempts),
                                           DB_INT(run_after_us), DB_INT(now),
                                           video_id > 0 ? DB_INT(video_id) : DB_NULLV),
                                   &newid);
    if (err != VF_OK)
        return err;
    /* Inside a transaction PostgreSQL delivers this at commit; SQLite workers poll. */
    if (db_notify(db, JOB_NOTIFY_CHANNEL) != VF_OK)
        log_warn("job: enqueue notify failed (workers will still poll)");
    if (id != NULL)
        *id = newid;
    return VF_OK;
}

void
job_owner_name(char *buf, size_t len)
{
    char host[64] = "localhost";
    uint32_t rnd = 0;
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        rnd = (uint32_t)clock_now_us();
    snprintf(buf, len, "%s:%ld:%08x", host, (long)getpid(), rnd);
}

/* Copy a row of (id, kind, payload, attempts, max_attempts, created_at) into a new job. */
static enum vf_err
job_from_row(const struct db_rows *r, const char *owner, struct job **out)
{
    struct job *job = calloc(1, sizeof(*job));
    const char *payload = db_rows_text(r, 0, 2);
    if (job == NULL || (job->payload = strdup(payload != NULL ? payload : "{}")) == NULL) {
        free(job);
        return VF_ERR_NOMEM;
    }
    job->id = db_rows_int(r, 0, 0);
    snprintf(job->kind, sizeof(job->kind), "%s",
             db_rows_text(r, 0, 1) ? db_rows_text(r, 0, 1) : "");
    snprintf(job->owner, sizeof(job->owner), "%s", owner);
    job->attempts = (int)db_rows_int(r, 0, 3);
    job->max_attempts = (int)db_rows_int(r, 0, 4);
    job->created_at = db_rows_int(r, 0, 5);
    *out = job;
    return VF_OK;
}

enum vf_err
job_claim(struct db *db, const char *owner, const char *kinds, int lease_s, struct job **out)
{
    *out = NULL;
    if (owner == NULL || owner[0] == '\0' || strlen(owner) >= JOB_OWNER_MAX || lease_s <= 0)
        return VF_ERR_INVALID;
    bool own = !db_in_transaction(db);
    enum vf_err err;
    if (own && (err = db_begin(db)) != VF_OK)
        return err;

    int64_t now = clock_now_us();
    struct db_rows *r = NULL;
    err = db_query_row(db, STMT_JOB_CLAIM,
                       DB_ARGS(DB_TEXT(owner), DB_TEXT(kinds != NULL ? kinds : ""), DB_INT(now),
                               DB_INT(now + (int64_t)lease_s * 1000000)),
                       &r);
    if (err == VF_OK)
        err = job_from_row(r, owner, out);
    db_rows_free(r);
    if (own) {
        if (err == VF_OK || err == VF_ERR_NOTFOUND) {
            enum vf_err cerr = db_commit(db);
            if (cerr != VF_OK) {
                db_rollback(db);
                job_free(*out);
                *out = NULL;
                return cerr;
            }
        } else {
            db_rollback(db);
        }
    }
    return err;
}

enum vf_err
job_ready(struct db *db, const char *kinds, bool *ready)
{
    int64_t n = 0;
    enum vf_err err =
        db_query_int(db, STMT_JOB_READY,
                     DB_ARGS(DB_TEXT(kinds != NULL ? kinds : ""), DB_INT(clock_now_us())), &n);
    *ready = err == VF_OK && n > 0;
    return err;
}

/* Run one fenced statement with extra parameters after the four fence values. */
static enum vf_err
fenced(struct db *db, enum stmt_id id, const struct job *job, const struct db_param *extra,
       size_t nextra)
{
    struct db_param p[8];
    if (job == NULL || nextra > 4)
        return VF_ERR_INVALID;
    p[0] = DB_INT(job->id);
    p[1] = DB_TEXT(job->owner);
    p[2] = DB_INT(job->attempts);
    p[3] = DB_INT(clock_now_us());
    for (size_t i = 0; i < nextra; i++)
        p[4 + i] = extra[i];
    int64_t changes = 0;
    enum vf_err err = db_exec(db, id, p, 4 + nextra, &changes);
    if (err == VF_OK && changes == 0)
        err = VF_ERR_STALE;
    return err;
}

enum vf_err
job_renew(struct db *db, const struct job *job, int lease_s)
{
    return fenced(db, STMT_JOB_RENEW, job,
                  DB_ARGS(DB_INT(clock_now_us() + (int64_t)lease_s * 1000000)));
}

enum vf_err
job_progress(struct db *db, const struct job *job, int progress)
{
    if (progress < 0)
        progress = 0;
    if (progress > 100)
        progress = 100;
    return fenced(db, STMT_JOB_PROGRESS, job, DB_ARGS(DB_INT(progress)));
}

enum vf_err
job_fence(struct db *db, const struct job *job)
{
    return fenced(db, STMT_JOB_FENCE, job, NULL, 0);
}

enum vf_err
job_complete(struct db *db, const struct job *job, const char *result)
{
    return fenced(db, STMT_JOB_COMPLETE, job, DB_ARGS(result != NULL ? DB_TEXT(result) : DB_NULLV));
}

/* One line, at most REASON_MAX bytes, control characters replaced; caller frees. */
static char *
clean_reason(const char *reason)
{
    if (reason == NULL || reason[0] == '\0')
        reason = "unknown error";
    size_t n = strnlen(reason, REASON_MAX);
    char *s = malloc(n + 1);
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        s[i] = ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f) ? ' ' : reason[i];
    s[n] = '\0';
    return s;
}

enum vf_err
job_fail(struct db *db, const struct job *job, const char *reason, bool permanent,
         int64_t retry_at_us, enum job_state *state)
{
    if (job == NULL)
        return VF_ERR_INVALID;
    char *why = clean_reason(reason);
    if (why == NULL)
        return VF_ERR_NOMEM;
    int64_t now = clock_now_us();
    if (retry_at_us < now)
        retry_at_us = now;
    int maxa = job->max_attempts > 0 ? job->max_attempts : 1;
    struct db_rows *r = NULL;
    enum vf_err err = db_query(db, STMT_JOB_FAIL,
                               DB_ARGS(DB_INT(job->id), DB_TEXT(job->owner), DB_INT(job->attempts),
                                       DB_INT(now), DB_INT(permanent ? 1 : 0), DB_INT(maxa),
                                       DB_INT(retry_at_us), DB_TEXT(why)),
                               &r);
    free(why);
    if (err == VF_OK && db_rows_count(r) == 0)
        err = VF_ERR_STALE;
    if (err == VF_OK && state != NULL) {
        int s = job_state_parse(db_rows_text(r, 0, 0));
        *state = s < 0 ? JOB_FAILED : (enum job_state)s;
    }
    db_rows_free(r);
    return err;
}

enum vf_err
job_release(struct db *db, const struct job *job, const char *reason)
{
    char *why = clean_reason(reason != NULL ? reason : "handed back by a stopping worker");
    if (why == NULL)
        return VF_ERR_NOMEM;
    enum vf_err err = fenced(db, STMT_JOB_RELEASE, job, DB_ARGS(DB_TEXT(why)));
    free(why);
    return err;
}

int64_t
job_backoff_us(int attempt, int64_t base_us, int64_t max_us, uint32_t rnd)
{
    if (attempt < 1)
        attempt = 1;
    if (base_us < 1)
        base_us = 1;
    if (max_us < base_us)
        max_us = base_us;
    int64_t d = base_us;
    for (int i = 1; i < attempt && d < max_us; i++)
        d = d > max_us / 2 ? max_us : d * 2;
    if (d > max_us)
        d = max_us;
    int64_t half = d / 2;
    return d - half + (int64_t)(rnd % (uint64_t)(half + 1));
}

enum vf_err
job_sweep(struct db *db, int default_max_attempts, job_sweep_cb cb, void *arg, int *requeued,
          int *failed)
{
    int nq = 0, nf = 0;
    if (default_max_attempts < 1)
        default_max_attempts = 1;
    bool own = !db_in_transaction(db);
    enum vf_err err;
    if (own && (err = db_begin(db)) != VF_OK)
        return err;
    struct db_rows *r = NULL;
    err = db_query(db, STMT_JOB_SWEEP,
                   DB_ARGS(DB_INT(clock_now_us()), DB_INT(default_max_attempts)), &r);
    for (size_t i = 0; err == VF_OK && i < db_rows_count(r); i++) {
        const char *st = db_rows_text(r, i, 3);
        if (st != NULL && strcmp(st, "failed") == 0) {
            nf++;
            log_warn("job %lld (%s): lease expired and attempts used up: failed",
                     (long long)db_rows_int(r, i, 0), db_rows_text(r, i, 1));
            if (cb != NULL)
                cb(arg, db_rows_int(r, i, 0), db_rows_text(r, i, 1), db_rows_text(r, i, 2),
                   "lease expired: the worker was lost");
        } else {
            nq++;
            log_info("job %lld (%s): lease expired, re-queued", (long long)db_rows_int(r, i, 0),
                     db_rows_text(r, i, 1));
        }
    }
    db_rows_free(r);
    if (own)
        err = err == VF_OK ? db_commit(db) : err;
    if (own && err != VF_OK)
        db_rollback(db);
    if (requeued != NULL)
        *requeued = err == VF_OK ? nq : 0;
    if (failed != NULL)
        *failed = err == VF_OK ? nf : 0;
    return err;
}

enum vf_err
job_retry(struct db *db, int64_t id)
{
    int64_t changes = 0;
    enum vf_err err =
        db_exec(db, STMT_JOB_RETRY, DB_ARGS(DB_INT(id), DB_INT(clock_now_us())), &changes);
    if (err != VF_OK)
        return err;
    if (changes == 0) {
        struct job_info ji;
        err = job_get(db, id, &ji);
        if (err != VF_OK)
            return err;
        job_info_clear(&ji);
        return VF_ERR_CONFLICT;
    }
    if (db_notify(db, JOB_NOTIFY_CHANNEL) != VF_OK)
        log_warn("job: retry notify failed (workers will still poll)");
    return VF_OK;
}

enum vf_err
job_prune(struct db *db, int64_t before_us, int64_t *deleted)
{
    return db_exec(db, STMT_JOB_PRUNE, DB_ARGS(DB_INT(before_us)), deleted);
}

static char *
dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void
info_from_row(const struct db_rows *r, size_t i, struct job_info *v)
{
    memset(v, 0, sizeof(*v));
    v->id = db_rows_int(r, i, 0);
    snprintf(v->kind, sizeof(v->kind), "%s", db_rows_text(r, i, 1) ? db_rows_text(r, i, 1) : "");
    int s = job_state_parse(db_rows_text(r, i, 2));
    v->state = s < 0 ? JOB_FAILED : (enum job_state)s;
    v->attempts = (int)db_rows_int(r, i, 3);
    v->max_attempts = (int)db_rows_int(r, i, 4);
    v->progress = (int)db_rows_int(r, i, 5);
    v->run_after = db_rows_int(r, i, 6);
    v->created_at = db_rows_int(r, i, 7);
    v->updated_at = db_rows_int(r, i, 8);
    v->lease_expires = db_rows_int(r, i, 9);
    v->last_error = dup_or_null(db_rows_text(r, i, 10));
    v->lease_owner = dup_or_null(db_rows_text(r, i, 11));
}

enum vf_err
job_list(struct db *db, int state, int limit, struct job_info **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (limit <= 0)
        limit = 50;
    struct db_rows *r = NULL;
    const char *st = state >= 0 ? job_state_name((enum job_state)state) : "";
    enum vf_err err = db_query(db, STMT_JOB_LIST, DB_ARGS(DB_TEXT(st), DB_INT(limit)), &r);
    if (err != VF_OK)
        return err;
    size_t cnt = db_rows_count(r);
    struct job_info *v = cnt > 0 ? calloc(cnt, sizeof(*v)) : NULL;
    if (cnt > 0 && v == NULL) {
        db_rows_free(r);
        return VF_ERR_NOMEM;
    }
    for (size_t i = 0; i < cnt; i++)
        info_from_row(r, i, &v[i]);
    db_rows_free(r);
    *out = v;
    *n = cnt;
    return VF_OK;
}

enum vf_err
job_get(struct db *db, int64_t id, struct job_info *out)
{
    memset(out, 0, sizeof(*out));
    struct db_rows *r = NULL;
    enum vf_err err = db_query_row(db, STMT_JOB_GET, DB_ARGS(DB_INT(id)), &r);
    if (err == VF_OK)
        info_from_row(r, 0, out);
    db_rows_free(r);
    return err;
}

void
job_free(struct job *job)
{
    if (job == NULL)
        return;
    free(job->payload);
    free(job);
}

void
job_info_clear(struct job_info *v)
{
    if (v == NULL)
        return;
    free(v->last_error);
    free(v->lease_owner);
    v->last_error = NULL;
    v->lease_owner = NULL;
}

void
job_info_free(struct job_info *v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        job_info_clear(&v[i]);
    free(v);
}

static void
stat_row(const struct db_rows *r, size_t i, void *elem)
{
    struct job_stat *s = elem;
    const char *kind = db_rows_text(r, i, 0);
    snprintf(s->kind, sizeof(s->kind), "%s", kind != NULL ? kind : "");
    int st = job_state_parse(db_rows_text(r, i, 1));
    s->state = st < 0 ? JOB_FAILED : (enum job_state)st;
    s->count = db_rows_int(r, i, 2);
    s->oldest_us = db_rows_int(r, i, 3);
}

enum vf_err
job_stats(struct db *db, struct job_stat **out, size_t *n)
{
    return db_query_list(db, STMT_JOB_STATS, DB_NOARGS, sizeof(**out), stat_row, (void **)out, n);
}
