/* jobs.c -- videoflixctl commands of the jobs area: inspect and retry jobs, send a test mail. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctl.h"
#include "datadir.h"
#include "job.h"
#include "mail.h"

static int
parse_id(const char *s, int64_t *id)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || v <= 0)
        return -1;
    *id = v;
    return 0;
}

static int
jobs_list(struct ctl_ctx *ctx, int state, int limit)
{
    struct job_info *v = NULL;
    size_t n = 0;
    enum vf_err err = job_list(ctx->app.db, state, limit, &v, &n);
    if (err != VF_OK) {
        return ctl_fail("jobs: %s", vf_strerror(err));
    }
    printf("%-8s %-10s %-8s %-8s %-8s %-20s %s\n", "ID", "KIND", "STATE", "ATTEMPTS", "PROGRESS",
           "UPDATED", "ERROR");
    for (size_t i = 0; i < n; i++) {
        char when[28], att[24];
        clock_format_iso(v[i].updated_at, when);
        when[19] = '\0'; /* seconds are enough here */
        int maxa = v[i].max_attempts > 0 ? v[i].max_attempts : ctx->app.cfg->job_max_attempts;
        if (v[i].max_attempts <= 0 && strcmp(v[i].kind, "mail") == 0)
            snprintf(att, sizeof(att), "%d", v[i].attempts); /* retried for MAIL_RETRY_WINDOW */
        else
            snprintf(att, sizeof(att), "%d/%d", v[i].attempts, maxa);
        printf("%-8lld %-10s %-8s %-8s %3d%%     %-20s %s\n", (long long)v[i].id, v[i].kind,
               job_state_name(v[i].state), att, v[i].progress, when,
               v[i].last_error != NULL ? v[i].last_error : "");
    }
    job_info_free(v, n);
    return 0;
}

static int
cmd_jobs(struct ctl_ctx *ctx, int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "retry") == 0) {
        int64_t id;
        if (parse_id(argv[2], &id) != 0) {
            fprintf(stderr, "usage: videoflixctl jobs retry ID\n");
            return 2;
        }
        enum vf_err err = job_retry(ctx->app.db, id);
        if (err == VF_ERR_NOTFOUND) {
            return ctl_fail("no job %lld", (long long)id);
        }
        if (err == VF_ERR_CONFLICT) {
            return ctl_fail(
                "job %lld is running or done; only failed or queued jobs can be retried",
                (long long)id);
        }
        if (err != VF_OK) {
            return ctl_fail("jobs retry: %s", vf_strerror(err));
        }
        printf("job %lld queued again\n", (long long)id);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "enqueue") == 0) {
        /* jobs enqueue KIND JSON [COUNT]: operations and tests. */
        long count = argc >= 5 ? strtol(argv[4], NULL, 10) : 1;
        if (argc < 4 || argc > 5 || count < 1 || count > 1000000) {
            fprintf(stderr, "usage: videoflixctl jobs enqueue KIND JSON [COUNT]\n");
            return 2;
        }
        int64_t id = 0;
        enum vf_err err = db_begin(ctx->app.db);
        for (long i = 0; err == VF_OK && i < count; i++)
            err = job_enqueue(ctx->app.db, argv[2], argv[3], 0, 0, &id);
        if (err == VF_OK)
            err = db_commit(ctx->app.db);
        if (err != VF_OK) {
            db_rollback(ctx->app.db);
            return ctl_fail("jobs enqueue: %s", vf_strerror(err));
        }
        if (count == 1)
            printf("job %lld queued\n", (long long)id);
        else
            printf("%ld jobs queued, the last is %lld\n", count, (long long)id);
        return 0;
    }
    int state = -1, limit = 50;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
            if ((state = job_state_parse(argv[++i])) < 0) {
                fprintf(stderr, "videoflixctl: state is queued, running, done or failed\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            limit = (int)strtol(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: videoflixctl jobs [--state S] [--limit N] | jobs retry ID\n");
            return 2;
        }
    }
    return jobs_list(ctx, state, limit);
}

static int
cmd_sendtestmail(struct ctl_ctx *ctx, int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: videoflixctl sendtestmail ADDRESS\n");
        return 2;
    }
    char *payload = mail_test_payload(argv[1]);
    if (payload == NULL) {
        fprintf(stderr, "videoflixctl: not a usable email address\n");
        return 2;
    }
    char err[512], *message = NULL, *to = NULL;
    enum vf_err rc = mail_render(ctx->app.cfg, payload, 0, &message, &to, err, sizeof(err));
    free(payload);
    if (rc == VF_OK)
        rc = mail_send(ctx->app.cfg, to, message, err, sizeof(err));
    free(message);
    free(to);
    if (rc != VF_OK) {
        return ctl_fail("sendtestmail: %s (%s)", err,
                        rc == VF_ERR_PERMFAIL ? "rejected" : "temporary failure");
    }
    printf("sent a test mail to %s via %s:%d (%s)\n", argv[1], ctx->app.cfg->email_host,
           ctx->app.cfg->email_port, err);
    return 0;
}

/* A duration as "3d 04h", "2h 05m", "4m 10s" or "12s". */
static void
format_age(int64_t s, char *buf, size_t len)
{
    if (s < 0)
        s = 0;
    if (s >= 86400)
        snprintf(buf, len, "%lldd %02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    else if (s >= 3600)
        snprintf(buf, len, "%lldh %02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else if (s >= 60)
        snprintf(buf, len, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(buf, len, "%llds", (long long)s);
}

#define STATUS_FAILED 5 /* the newest failed jobs shown */

/* A php-fpm-status-like summary from the database: the queue by kind and state, how long the
 * longest-waiting runnable job of each kind waits, and the newest failures with their error. */
static int
cmd_status(struct ctl_ctx *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: videoflixctl status\n");
        return 2;
    }
    struct job_stat *st = NULL;
    size_t n = 0;
    enum vf_err err = job_stats(ctx->app.db, &st, &n);
    if (err != VF_OK)
        return ctl_fail("status: %s", vf_strerror(err));
    int64_t now = clock_now_us();
    printf("jobs by kind and state:\n");
    printf("  %-12s %-8s %8s  %s\n", "KIND", "STATE", "COUNT", "OLDEST QUEUED");
    int64_t queued = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        char age[32] = "";
        if (st[i].state == JOB_QUEUED) {
            queued += st[i].count;
            format_age((now - st[i].oldest_us) / 1000000, age, sizeof(age));
        } else if (st[i].state == JOB_FAILED) {
            failed += st[i].count;
        }
        printf("  %-12s %-8s %8lld  %s\n", st[i].kind, job_state_name(st[i].state),
               (long long)st[i].count, age);
    }
    if (n == 0)
        printf("  (no jobs)\n");
    printf("queue depth: %lld queued, %lld failed\n", (long long)queued, (long long)failed);
    free(st);

    struct job_info *v = NULL;
    size_t nf = 0;
    if ((err = job_list(ctx->app.db, JOB_FAILED, STATUS_FAILED, &v, &nf)) != VF_OK)
        return ctl_fail("status: %s", vf_strerror(err));
    printf("last failed jobs:\n");
    for (size_t i = 0; i < nf; i++) {
        char when[28];
        clock_format_iso(v[i].updated_at, when);
        when[19] = '\0';
        printf("  %-8lld %-12s %s  %s\n", (long long)v[i].id, v[i].kind, when,
               v[i].last_error != NULL ? v[i].last_error : "(no error recorded)");
    }
    if (nf == 0)
        printf("  (none)\n");
    job_info_free(v, nf);
    return 0;
}

const struct ctl_cmd ctl_job_cmds[] = {
    { "status", "status",
      "summary: jobs by kind and state, oldest queued job, the last failures and their errors", 1,
      cmd_status, 0 },
    { "jobs", "jobs [--state S] [--limit N] | jobs retry ID",
      "list jobs with state, attempts, progress and error; retry a failed job", 1, cmd_jobs, 0 },
    { "sendtestmail", "sendtestmail ADDRESS",
      "send a test email now through the configured SMTP server", 0, cmd_sendtestmail,
      DATADIR_TEMPLATES },
    { NULL, NULL, NULL, 0, NULL, 0 },
};
