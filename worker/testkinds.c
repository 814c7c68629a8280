/* testkinds.c -- videoflix-worker: trivial job kinds for the durability tests
 * (VF_TEST_JOB_KINDS=1). Test builds only (configure --enable-test-hooks): a production worker has
 * none of them. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "worker.h"

static int
test_concurrency(const struct config *cfg)
{
    (void)cfg;
    const char *c = getenv("VF_TEST_JOB_CONCURRENCY");
    long n = c != NULL ? strtol(c, NULL, 10) : 4;
    return n > 0 && n <= 64 ? (int)n : 4;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Append "<tag> <pid>\n" to the log named in the payload (one write: O_APPEND keeps
 * concurrent writers' lines whole), then sleep in steps with progress lines. */
static int
noop_run(const struct config *cfg, const char *payload, int out_fd)
{
    (void)cfg;
    cJSON *j = cJSON_Parse(payload);
    const cJSON *log = cJSON_GetObjectItemCaseSensitive(j, "log");
    const cJSON *tag = cJSON_GetObjectItemCaseSensitive(j, "tag");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(j, "sleep_ms");
    int rc = JOB_EXIT_OK;
    if (cJSON_IsString(log)) {
        char line[256];
        const char *id = getenv("VF_JOB_ID");
        int n = snprintf(line, sizeof(line), "%s %ld\n",
                         cJSON_IsString(tag) ? tag->valuestring : (id != NULL ? id : "-"),
                         (long)getpid());
        int fd = open(log->valuestring, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, line, (size_t)n) != n) {
            job_report_error(out_fd, "cannot append to the test log");
            rc = JOB_EXIT_TEMPFAIL;
        }
        if (fd >= 0)
            close(fd);
    }
    long total = cJSON_IsNumber(ms) ? (long)ms->valuedouble : 0;
    for (int step = 1; rc == JOB_EXIT_OK && total > 0 && step <= 4; step++) {
        sleep_ms(total / 4);
        job_report_progress(out_fd, step * 25);
    }
    if (rc == JOB_EXIT_OK)
        job_report_result(out_fd, "{\"ok\":true}");
    cJSON_Delete(j);
    return rc;
}

static enum vf_err
noop_finish(struct app *app, int64_t job_id, const char *payload, const char *result, char *err,
            size_t errlen)
{
    (void)app;
    (void)job_id;
    (void)payload;
    if (result == NULL || strcmp(result, "{\"ok\":true}") != 0) {
        snprintf(err, errlen, "unexpected result");
        return VF_ERR_INTERNAL;
    }
    return VF_OK;
}

static int
fail_run(const struct config *cfg, const char *payload, int out_fd)
{
    (void)cfg;
    cJSON *j = cJSON_Parse(payload);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(j, "reason");
    job_report_error(out_fd, cJSON_IsString(reason) ? reason->valuestring : "test failure");
    int rc = cJSON_IsNumber(code) ? (int)code->valuedouble : JOB_EXIT_DATAERR;
    cJSON_Delete(j);
    return rc;
}

const struct job_kind worker_test_noop = {
    .name = "noop",
    .concurrency = test_concurrency,
    .run = noop_run,
    .finish = noop_finish,
};

const struct job_kind worker_test_fail = {
    .name = "fail",
    .concurrency = test_concurrency,
    .run = fail_run,
};
