/* mailjob.c -- the "mail" job kind: render and send one outbox mail in the worker's child. */
#include "autoconf.h"

#include <stdlib.h>

#include "log.h"
#include "mail.h"
#include "worker.h"

static int
mail_concurrency(const struct config *cfg)
{
    return cfg->mail_concurrency > 0 ? cfg->mail_concurrency : 1;
}

/* In the worker's child: render, send, report.  Never touches the database. */
static int
mail_run(const struct config *cfg, const char *payload, int out_fd)
{
    const char *idenv = getenv("VF_JOB_ID");
    int64_t id = idenv != NULL ? strtoll(idenv, NULL, 10) : 0;
    char err[512], *message = NULL, *to = NULL;
    enum vf_err rc = mail_render(cfg, payload, id, &message, &to, err, sizeof(err));
    if (rc != VF_OK) {
        job_report_error(out_fd, err);
        return rc == VF_ERR_IO || rc == VF_ERR_NOMEM ? JOB_EXIT_TEMPFAIL : JOB_EXIT_DATAERR;
    }
    job_report_progress(out_fd, 50);
    rc = mail_send(cfg, to, message, err, sizeof(err));
    free(message);
    free(to);
    if (rc == VF_OK) {
        job_report_progress(out_fd, 100);
        return JOB_EXIT_OK;
    }
    job_report_error(out_fd, err);
    return rc == VF_ERR_PERMFAIL ? JOB_EXIT_DATAERR : JOB_EXIT_TEMPFAIL;
}

static enum vf_err
mail_finish(struct app *app, int64_t job_id, const char *payload, const char *result, char *err,
            size_t errlen)
{
    (void)app;
    (void)payload;
    (void)result;
    (void)err;
    (void)errlen;
    log_info("mail job %lld delivered to the SMTP server", (long long)job_id);
    return VF_OK;
}

static void
mail_failed(struct app *app, int64_t job_id, const char *payload, const char *reason)
{
    (void)app;
    (void)payload;
    log_error("mail job %lld failed for good: %s", (long long)job_id, reason);
}

const struct job_kind mailjob_kind = {
    .name = "mail",
    .concurrency = mail_concurrency,
    .run = mail_run,
    .finish = mail_finish,
    .failed = mail_failed,
    .started = NULL,
};
