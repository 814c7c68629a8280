/* accountmailjob.c -- the "account_mail" job kind: a request for an activation or reset mail
 * (lib/domain/accountmail.h), resolved in the worker so that the request itself costs the same
 * whether or not the account exists.  The child has nothing to do; the parent's finish hook
 * looks the account up and queues the real mail in the job's own transaction. */
#include "autoconf.h"

#include "accountmail.h"
#include "log.h"
#include "worker.h"

static int
account_mail_concurrency(const struct config *cfg)
{
    return cfg->mail_concurrency > 0 ? cfg->mail_concurrency : 1;
}

/* In the child: nothing (it has no database handle); the work is the parent's. */
static int
account_mail_run(const struct config *cfg, const char *payload, int out_fd)
{
    (void)cfg;
    (void)payload;
    job_report_progress(out_fd, 100);
    return JOB_EXIT_OK;
}

static enum vf_err
account_mail_finish(struct app *app, int64_t job_id, const char *payload, const char *result,
                    char *err, size_t errlen)
{
    (void)result;
    bool queued = false;
    enum vf_err e = accountmail_resolve(app->db, app->cfg->secret_key, payload, &queued);
    if (e == VF_ERR_INVALID)
        vf_reason(err, errlen, "malformed account mail request");
    else if (e == VF_OK)
        log_info("account mail request %lld: %s", (long long)job_id,
                 queued ? "mail queued" : "nothing to send");
    return e;
}

const struct job_kind accountmailjob_kind = {
    .name = ACCOUNTMAIL_JOB_KIND,
    .concurrency = account_mail_concurrency,
    .run = account_mail_run,
    .finish = account_mail_finish,
};
