/* mail.h -- the email outbox: queue mails as jobs, render templates, send with libesmtp. */
#ifndef VF_MAIL_H
#define VF_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "error.h"

enum mail_kind { MAIL_ACTIVATION, MAIL_PASSWORD_RESET };

/* Queue one email as a "mail" job in the caller's transaction; never talks to SMTP.  The worker
 * renders data/templates/<kind>.{txt,html} with links built from FRONTEND_URL:
 * {FRONTEND_URL}/pages/auth/activate.html?uid=<uidb64>&token=<token> and
 * {FRONTEND_URL}/pages/auth/confirm_password.html?uid=<uidb64>&token=<token>.
 * VF_ERR_INVALID for an address or value with control characters or over-long ones. */
enum vf_err mail_enqueue(struct db *db, enum mail_kind kind, const char *to, const char *uidb64,
                         const char *token);

/*
 * Render the complete RFC 5322 message (CRLF line ends, multipart/alternative text +
 * HTML) for a "mail" job payload.  `job_id` > 0 gives a Message-ID that is the same
 * for every attempt of the job; 0 makes a random one.  On success the caller frees
 * *message and *to.  VF_ERR_INVALID for a bad payload, VF_ERR_IO for a missing
 * template; `err` gets one line.
 */
enum vf_err mail_render(const struct config *cfg, const char *payload, int64_t job_id,
                        char **message, char **to, char *err, size_t errlen);

/*
 * Send one rendered message to `to` through EMAIL_HOST:EMAIL_PORT with libesmtp
 * (STARTTLS when EMAIL_USE_TLS, implicit TLS when EMAIL_USE_SSL, AUTH when
 * EMAIL_HOST_USER is set), with EMAIL_TIMEOUT on every step.  Returns VF_OK,
 * VF_ERR_TEMPFAIL (connection error, timeout or 4xx: retry later) or VF_ERR_PERMFAIL
 * (5xx: do not retry); `err` gets the server's reply or the connection error.
 */
enum vf_err mail_send(const struct config *cfg, const char *to, const char *message, char *err,
                      size_t errlen);

/* Can every template (data/templates/<name>.{txt,html}) be read?  VF_OK, or VF_ERR_IO with
 * `err` naming the first file that cannot and why. */
enum vf_err mail_templates_check(const struct config *cfg, char *err, size_t errlen);

/* The payload of a test mail to `to` (ctl sendtestmail); caller frees.  NULL on error. */
char *mail_test_payload(const char *to);

#endif
