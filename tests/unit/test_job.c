/* test_job.c -- the job queue's state machine, fencing, backoff and sweep on SQLite and PostgreSQL.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "clock.h"
#include "db.h"
#include "dbfixture.h"
#include "job.h"
#include "log.h"

/*
 * JOB_CASE(x) defines a case once and registers it as sqlite/x and postgres/x, each on a fresh
 * database migrated with the shipped schema (dbfixture.h; PostgreSQL is skipped with a message
 * when VF_TEST_PG_HOST is unset).  Time is frozen with clock_set_us() so leases and backoff are
 * exact.
 */
#define SCHEMA VF_SRCDIR "/schema"
#define T0     1800000000000000LL /* 2027-01-15, microseconds */
#define SEC    1000000LL

static const struct dbfixture_setup fixture = { "job", SCHEMA, T0 };

#define JOB_CASE(name) DBFIXTURE_CASE(fixture, sqlite, postgres, name)

/* ---- helpers --------------------------------------------------------------------------- */

static int64_t
enqueue(struct dbfixture *fx, const char *kind, int64_t run_after, int max_attempts)
{
    int64_t id = 0;
    enum vf_err e = job_enqueue(fx->db, kind, "{\"n\":1}", run_after, max_attempts, &id);
    cr_assert_eq(e, VF_OK, "enqueue: %s (%s)", vf_strerror(e), db_errmsg(fx->db));
    cr_assert_gt(id, 0);
    return id;
}

static struct job *
claim(struct dbfixture *fx, const char *owner, const char *kinds)
{
    struct job *job = NULL;
    enum vf_err e = job_claim(fx->db, owner, kinds, 10, &job);
    cr_assert_eq(e, VF_OK, "claim: %s (%s)", vf_strerror(e), db_errmsg(fx->db));
    cr_assert_not_null(job);
    return job;
}

static void
claim_none(struct dbfixture *fx, const char *kinds)
{
    struct job *job = NULL;
    cr_assert_eq(job_claim(fx->db, "nobody", kinds, 10, &job), VF_ERR_NOTFOUND);
    cr_assert_null(job);
}

static struct job_info
info(struct dbfixture *fx, int64_t id)
{
    struct job_info ji;
    cr_assert_eq(job_get(fx->db, id, &ji), VF_OK);
    return ji;
}

static void
expect_state(struct dbfixture *fx, int64_t id, enum job_state st, int attempts)
{
    struct job_info ji = info(fx, id);
    cr_expect_eq(ji.state, st, "job %lld: state %s, expected %s", (long long)id,
                 job_state_name(ji.state), job_state_name(st));
    cr_expect_eq(ji.attempts, attempts, "job %lld: attempts %d, expected %d", (long long)id,
                 ji.attempts, attempts);
    job_info_clear(&ji);
}

/* ---- the state machine ------------------------------------------------------------------ */

JOB_CASE(claim_leases_the_job_and_counts_the_attempt)
{
    int64_t id = enqueue(fx, "mail", 0, 0);
    expect_state(fx, id, JOB_QUEUED, 0);
    struct job *job = claim(fx, "w1", "mail");
    cr_expect_eq(job->id, id);
    cr_expect_str_eq(job->kind, "mail");
    cr_expect_str_eq(job->payload, "{\"n\":1}");
    cr_expect_eq(job->attempts, 1);
    cr_expect_eq(job->max_attempts, 0, "0 = the worker's configured default");
    struct job_info ji = info(fx, id);
    cr_expect_eq(ji.state, JOB_RUNNING);
    cr_expect_str_eq(ji.lease_owner, "w1");
    cr_expect_eq(ji.lease_expires, T0 + 10 * SEC);
    job_info_clear(&ji);
    claim_none(fx, "mail"); /* nobody else gets a running job */
    cr_expect_eq(job_complete(fx->db, job, "{\"ok\":1}"), VF_OK);
    ji = info(fx, id);
    cr_expect_eq(ji.state, JOB_DONE);
    cr_expect_eq(ji.progress, 100);
    cr_expect_null(ji.lease_owner);
    job_info_clear(&ji);
    job_free(job);
}

JOB_CASE(claim_takes_oldest_runnable_job_of_the_requested_kinds)
{
    int64_t later = enqueue(fx, "mail", T0 + 60 * SEC, 0);
    int64_t first = enqueue(fx, "mail", T0 - 5 * SEC, 0);
    int64_t second = enqueue(fx, "mail", 0, 0);
    int64_t other = enqueue(fx, "transcode", T0 - 10 * SEC, 0);

    claim_none(fx, "noop");
    bool ready = true;
    cr_assert_eq(job_ready(fx->db, "noop", &ready), VF_OK);
    cr_expect(!ready);
    cr_assert_eq(job_ready(fx->db, "noop,mail", &ready), VF_OK);
    cr_expect(ready);
    struct job *a = claim(fx, "w", "noop,mail");
    struct job *b = claim(fx, "w", "mail");
    cr_expect_eq(a->id, first);
    cr_expect_eq(b->id, second);
    claim_none(fx, "mail");             /* `later` is not due yet */
    struct job *c = claim(fx, "w", ""); /* "" = any kind */
    cr_expect_eq(c->id, other);
    clock_set_us(T0 + 61 * SEC);
    struct job *d = claim(fx, "w", "transcode,mail");
    cr_expect_eq(d->id, later);
    job_free(a);
    job_free(b);
    job_free(c);
    job_free(d);
}

JOB_CASE(enqueue_rejects_bad_kind_and_payload)
{
    static const struct {
        const char *kind, *payload;
    } bad[] = {
        { "", "{}" },
        { "Mail", "{}" },
        { "a b", "{}" },
        { "x;drop", "{}" },
        { "mail", "{not json" },
        { "mail", "" },
        { "0123456789012345678901234567890123", "{}" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_eq(job_enqueue(fx->db, bad[i].kind, bad[i].payload, 0, 0, NULL), VF_ERR_INVALID,
                     "case %zu", i);
    cr_expect_eq(job_enqueue(fx->db, "mail", "{}", 0, -1, NULL), VF_ERR_INVALID);
    claim_none(fx, "");
}

JOB_CASE(enqueue_is_part_of_the_callers_transaction)
{
    cr_assert_eq(db_begin(fx->db), VF_OK);
    enqueue(fx, "mail", 0, 0);
    cr_assert_eq(db_rollback(fx->db), VF_OK);
    claim_none(fx, "mail");

    cr_assert_eq(db_begin(fx->db), VF_OK);
    int64_t id = enqueue(fx, "mail", 0, 0);
    cr_assert_eq(db_commit(fx->db), VF_OK);
    struct job *job = claim(fx, "w", "mail");
    cr_expect_eq(job->id, id);
    job_free(job);
}

JOB_CASE(failure_is_retried_with_backoff_then_terminal_after_max_attempts)
{
    int64_t id = enqueue(fx, "mail", 0, 3);
    for (int attempt = 1; attempt <= 3; attempt++) {
        struct job *job = claim(fx, "w", "mail");
        cr_assert_eq(job->attempts, attempt);
        cr_assert_eq(job->max_attempts, 3);
        int64_t retry_at = clock_now_us() + (int64_t)attempt * 10 * SEC;
        enum job_state st;
        cr_assert_eq(job_fail(fx->db, job, "421 try\r\nlater", false, retry_at, &st), VF_OK);
        struct job_info ji = info(fx, id);
        cr_expect_str_eq(ji.last_error, "421 try  later", "control characters are replaced");
        if (attempt < 3) {
            cr_expect_eq(st, JOB_QUEUED);
            cr_expect_eq(ji.run_after, retry_at);
            claim_none(fx, "mail"); /* not before the backoff */
            clock_set_us(retry_at);
        } else {
            cr_expect_eq(st, JOB_FAILED, "attempts used up");
            cr_expect_eq(ji.state, JOB_FAILED);
        }
        job_info_clear(&ji);
        job_free(job);
    }
    clock_set_us(T0 + 3600 * SEC);
    claim_none(fx, "mail");
}

JOB_CASE(permanent_failure_is_terminal_at_once)
{
    int64_t id = enqueue(fx, "mail", 0, 5);
    struct job *job = claim(fx, "w", "mail");
    enum job_state st = JOB_QUEUED;
    cr_assert_eq(job_fail(fx->db, job, "550 no such user", true, 0, &st), VF_OK);
    cr_expect_eq(st, JOB_FAILED);
    expect_state(fx, id, JOB_FAILED, 1);
    struct job_info ji = info(fx, id);
    cr_expect_str_eq(ji.last_error, "550 no such user");
    job_info_clear(&ji);
    job_free(job);
}

JOB_CASE(release_hands_the_job_back_runnable_now)
{
    int64_t id = enqueue(fx, "transcode", 0, 0);
    struct job *job = claim(fx, "w1", "transcode");
    cr_assert_eq(job_release(fx->db, job, NULL), VF_OK);
    expect_state(fx, id, JOB_QUEUED, 1);
    struct job *again = claim(fx, "w2", "transcode");
    cr_expect_eq(again->attempts, 2);
    cr_expect_eq(job_release(fx->db, job, NULL), VF_ERR_STALE, "the old lease is gone");
    job_free(job);
    job_free(again);
}

/* ---- fencing --------------------------------------------------------------------------- */

JOB_CASE(stale_worker_changes_nothing_after_its_lease_was_swept)
{
    int64_t id = enqueue(fx, "transcode", 0, 0);
    struct job *old = claim(fx, "old", "transcode");
    cr_assert_eq(job_progress(fx->db, old, 40), VF_OK);
    cr_assert_eq(job_renew(fx->db, old, 10), VF_OK);

    /* The old worker stalls past its lease; the sweep re-queues, a new worker claims. */
    clock_set_us(T0 + 11 * SEC);
    int rq = -1, fl = -1;
    cr_assert_eq(job_sweep(fx->db, 5, NULL, NULL, &rq, &fl), VF_OK);
    cr_expect_eq(rq, 1);
    cr_expect_eq(fl, 0);
    struct job_info ji = info(fx, id);
    cr_expect_eq(ji.state, JOB_QUEUED);
    cr_expect_not_null(strstr(ji.last_error, "lease expired"));
    job_info_clear(&ji);
    struct job *cur = claim(fx, "new", "transcode");
    cr_assert_eq(cur->attempts, 2);

    /* Every update of the stale worker is refused and changes nothing. */
    cr_expect_eq(job_renew(fx->db, old, 10), VF_ERR_STALE);
    cr_expect_eq(job_progress(fx->db, old, 99), VF_ERR_STALE);
    cr_expect_eq(job_complete(fx->db, old, "{}"), VF_ERR_STALE);
    cr_expect_eq(job_fail(fx->db, old, "x", true, 0, NULL), VF_ERR_STALE);
    cr_expect_eq(job_release(fx->db, old, NULL), VF_ERR_STALE);
    cr_assert_eq(db_begin(fx->db), VF_OK);
    cr_expect_eq(job_fence(fx->db, old), VF_ERR_STALE);
    cr_assert_eq(db_rollback(fx->db), VF_OK);
    ji = info(fx, id);
    cr_expect_eq(ji.state, JOB_RUNNING);
    cr_expect_str_eq(ji.lease_owner, "new");
    cr_expect_eq(ji.progress, 0);
    job_info_clear(&ji);

    /* Same owner name but an older attempt is stale too. */
    struct job forged = *cur;
    forged.attempts = 1;
    cr_expect_eq(job_complete(fx->db, &forged, NULL), VF_ERR_STALE);

    cr_expect_eq(job_progress(fx->db, cur, 150), VF_OK);
    ji = info(fx, id);
    cr_expect_eq(ji.progress, 100, "progress is clamped");
    job_info_clear(&ji);
    cr_assert_eq(db_begin(fx->db), VF_OK);
    cr_expect_eq(job_fence(fx->db, cur), VF_OK);
    cr_expect_eq(job_complete(fx->db, cur, NULL), VF_OK);
    cr_assert_eq(db_commit(fx->db), VF_OK);
    expect_state(fx, id, JOB_DONE, 2);
    job_free(old);
    job_free(cur);
}

JOB_CASE(renewed_lease_is_not_swept)
{
    int64_t id = enqueue(fx, "mail", 0, 0);
    struct job *job = claim(fx, "w", "mail");
    clock_set_us(T0 + 8 * SEC);
    cr_assert_eq(job_renew(fx->db, job, 10), VF_OK); /* now expires at T0 + 18 s */
    clock_set_us(T0 + 15 * SEC);
    int rq = -1;
    cr_assert_eq(job_sweep(fx->db, 5, NULL, NULL, &rq, NULL), VF_OK);
    cr_expect_eq(rq, 0);
    expect_state(fx, id, JOB_RUNNING, 1);
    job_free(job);
}

/* ---- monitoring: job_stats (/metrics, videoflixctl status) ----------------------------- */

JOB_CASE(stats_group_by_kind_and_state_with_the_oldest_queued_wait)
{
    struct job_stat *st = NULL;
    size_t n = 99;
    cr_assert_eq(job_stats(fx->db, &st, &n), VF_OK);
    cr_expect_eq(n, 0);
    cr_expect_null(st);
    enqueue(fx, "mail", T0 - 5 * SEC, 0);
    enqueue(fx, "mail", T0 - 60 * SEC, 0);
    enqueue(fx, "transcode", T0, 0);
    struct job *job = claim(fx, "w1", "transcode");
    job_free(job);
    cr_assert_eq(job_stats(fx->db, &st, &n), VF_OK, "%s", db_errmsg(fx->db));
    cr_assert_eq(n, 2);
    cr_assert_not_null(st);
    if (st == NULL)
        return; /* not reached: tells the analyser too */
    cr_expect_str_eq(st[0].kind, "mail");
    cr_expect_eq(st[0].state, JOB_QUEUED);
    cr_expect_eq(st[0].count, 2);
    cr_expect_eq(st[0].oldest_us, T0 - 60 * SEC, "queued: the earliest run_after");
    cr_expect_str_eq(st[1].kind, "transcode");
    cr_expect_eq(st[1].state, JOB_RUNNING);
    cr_expect_eq(st[1].count, 1);
    cr_expect_eq(st[1].oldest_us, T0, "other states: created_at");
    free(st);
}

struct swept {
    int calls;
    int64_t id;
    char kind[32];
};

static void
on_swept(void *arg, int64_t id, const char *kind, const char *payload, const char *reason)
{
    struct swept *s = arg;
    s->calls++;
    s->id = id;
    snprintf(s->kind, sizeof(s->kind), "%s", kind);
    cr_expect_str_eq(payload, "{\"n\":1}");
    cr_expect_not_null(strstr(reason, "lease expired"));
}

JOB_CASE(sweep_fails_a_job_whose_attempts_are_used_up)
{
    int64_t dead = enqueue(fx, "transcode", 0, 2);
    int64_t dflt = enqueue(fx, "mail", 0, 0); /* max 0: the default passed to the sweep */
    for (int i = 0; i < 2; i++) {
        struct job *a = claim(fx, "w", "transcode");
        struct job *b = claim(fx, "w", "mail");
        clock_set_us(clock_now_us() + 11 * SEC);
        struct swept s = { 0 };
        int rq = -1, fl = -1;
        cr_assert_eq(job_sweep(fx->db, 2, on_swept, &s, &rq, &fl), VF_OK);
        if (i == 0) {
            cr_expect_eq(rq, 2);
            cr_expect_eq(fl, 0);
            cr_expect_eq(s.calls, 0);
        } else {
            cr_expect_eq(rq, 0);
            cr_expect_eq(fl, 2);
            cr_expect_eq(s.calls, 2, "the failed hook is called once per job");
        }
        job_free(a);
        job_free(b);
    }
    expect_state(fx, dead, JOB_FAILED, 2);
    expect_state(fx, dflt, JOB_FAILED, 2);
    claim_none(fx, "");
}

JOB_CASE(operator_retry_requeues_failed_jobs_only)
{
    int64_t id = enqueue(fx, "mail", 0, 1);
    struct job *job = claim(fx, "w", "mail");
    cr_expect_eq(job_retry(fx->db, id), VF_ERR_CONFLICT, "running");
    cr_assert_eq(job_fail(fx->db, job, "boom", false, 0, NULL), VF_OK);
    expect_state(fx, id, JOB_FAILED, 1);
    cr_expect_eq(job_retry(fx->db, id), VF_OK);
    expect_state(fx, id, JOB_QUEUED, 0);
    struct job *again = claim(fx, "w", "mail");
    cr_expect_eq(again->attempts, 1);
    cr_expect_eq(job_complete(fx->db, again, NULL), VF_OK);
    cr_expect_eq(job_retry(fx->db, id), VF_ERR_CONFLICT, "done");
    cr_expect_eq(job_retry(fx->db, id + 1000), VF_ERR_NOTFOUND);
    job_free(job);
    job_free(again);
}

JOB_CASE(list_and_prune)
{
    int64_t a = enqueue(fx, "mail", 0, 0);
    int64_t b = enqueue(fx, "mail", 0, 0);
    struct job *job = claim(fx, "w", "mail");
    cr_assert_eq(job->id, a);
    cr_assert_eq(job_complete(fx->db, job, NULL), VF_OK);
    struct job_info *v = NULL;
    size_t n = 0;
    cr_assert_eq(job_list(fx->db, -1, 10, &v, &n), VF_OK);
    cr_assert_eq(n, 2);
    cr_expect_eq(v[0].id, b, "newest first");
    cr_expect_eq(v[1].state, JOB_DONE);
    job_info_free(v, n);
    cr_assert_eq(job_list(fx->db, JOB_QUEUED, 10, &v, &n), VF_OK);
    cr_expect_eq(n, 1);
    job_info_free(v, n);
    int64_t deleted = -1;
    cr_assert_eq(job_prune(fx->db, T0, &deleted), VF_OK);
    cr_expect_eq(deleted, 0, "done at T0 is not older than T0");
    cr_assert_eq(job_prune(fx->db, T0 + 1, &deleted), VF_OK);
    cr_expect_eq(deleted, 1);
    expect_state(fx, b, JOB_QUEUED, 0);
    job_free(job);
}

/* Several processes claim from one queue at once: every job is claimed exactly once. */
JOB_CASE(concurrent_claimers_never_share_a_job)
{
    enum { JOBS = 120, PROCS = 4 };
    clock_set_us(0); /* real time: the children's claims must see the jobs as due */
    cr_assert_eq(db_begin(fx->db), VF_OK);
    for (int i = 0; i < JOBS; i++)
        cr_assert_eq(job_enqueue(fx->db, "noop", "{}", 0, 0, NULL), VF_OK);
    cr_assert_eq(db_commit(fx->db), VF_OK);
    int pipes[PROCS][2];
    for (int p = 0; p < PROCS; p++) {
        cr_assert_eq(pipe(pipes[p]), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            struct db *db = NULL;
            if (db_open_create(&fx->cfg, &db) != VF_OK)
                _exit(3);
            char owner[32];
            snprintf(owner, sizeof(owner), "proc%d", p);
            for (int misses = 0; misses < 3;) {
                struct job *job = NULL;
                enum vf_err e = job_claim(db, owner, "noop", 30, &job);
                if (e == VF_ERR_NOTFOUND) {
                    misses++;
                    continue;
                }
                if (e != VF_OK)
                    continue; /* busy: try again */
                int64_t id = job->id;
                if (job_complete(db, job, NULL) != VF_OK)
                    _exit(4);
                if (write(pipes[p][1], &id, sizeof(id)) != (ssize_t)sizeof(id))
                    _exit(5);
                job_free(job);
            }
            db_close(db);
            _exit(0);
        }
        close(pipes[p][1]);
    }
    static int seen[JOBS + 1];
    memset(seen, 0, sizeof(seen));
    int total = 0;
    for (int p = 0; p < PROCS; p++) {
        int64_t id;
        while (read(pipes[p][0], &id, sizeof(id)) == (ssize_t)sizeof(id)) {
            cr_assert(id >= 1 && id <= JOBS);
            seen[id]++;
            total++;
        }
        close(pipes[p][0]);
    }
    for (int p = 0; p < PROCS; p++) {
        int st = 0;
        wait(&st);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "claimer exit status %d", st);
    }
    cr_expect_eq(total, JOBS);
    for (int i = 1; i <= JOBS; i++)
        cr_expect_eq(seen[i], 1, "job %d claimed %d times", i, seen[i]);
    int64_t done = 0;
    cr_assert_eq(db_query_int(fx->db, STMT_JOB_COUNT, DB_ARGS(DB_TEXT("done")), &done), VF_OK);
    cr_expect_eq(done, JOBS);
}

/* ---- pure functions ------------------------------------------------------------------------ */

Test(backoff, doubles_per_attempt_with_jitter_and_a_cap)
{
    static const struct {
        int attempt;
        uint32_t rnd;
        int64_t lo, hi; /* inclusive, seconds * 1e6 */
    } cases[] = {
        { 1, 0, 5 * SEC, 5 * SEC },                                         /* d = 10 s: [5, 10] */
        { 1, UINT32_MAX, 5 * SEC, 10 * SEC }, { 2, 0, 10 * SEC, 10 * SEC }, /* d = 20 s */
        { 3, 12345, 20 * SEC, 40 * SEC },                                   /* d = 40 s */
        { 9, 7, 50 * SEC, 100 * SEC },                                      /* capped at 100 s */
        { 1000, 99, 50 * SEC, 100 * SEC },                                  /* no overflow */
        { 0, 0, 5 * SEC, 10 * SEC }, /* attempt < 1 counts as 1 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t d = job_backoff_us(cases[i].attempt, 10 * SEC, 100 * SEC, cases[i].rnd);
        cr_expect(d >= cases[i].lo && d <= cases[i].hi, "case %zu: %lld not in [%lld, %lld]", i,
                  (long long)d, (long long)cases[i].lo, (long long)cases[i].hi);
    }
    /* Jitter spreads retries: different random numbers, different delays. */
    cr_expect_neq(job_backoff_us(4, 10 * SEC, 3600 * SEC, 1),
                  job_backoff_us(4, 10 * SEC, 3600 * SEC, 40000000));
}

Test(state, names_round_trip)
{
    for (int s = JOB_QUEUED; s <= JOB_FAILED; s++)
        cr_expect_eq(job_state_parse(job_state_name((enum job_state)s)), s);
    cr_expect_eq(job_state_parse("sleeping"), -1);
    cr_expect_eq(job_state_parse(NULL), -1);
}

Test(owner, names_are_unique_per_call)
{
    char a[JOB_OWNER_MAX], b[JOB_OWNER_MAX];
    job_owner_name(a, sizeof(a));
    job_owner_name(b, sizeof(b));
    cr_expect_str_neq(a, b);
    char pid[32];
    snprintf(pid, sizeof(pid), ":%ld:", (long)getpid());
    cr_expect_not_null(strstr(a, pid));
}
