/* error.c -- the error table: description, HTTP status, client message and Retry-After per code. */
#include "autoconf.h"

#include "error.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#define INTERNAL_DETAIL "Internal server error."
#define BUSY_DETAIL     "Service temporarily unavailable, try again later."
#define CONFLICT_DETAIL "The request conflicts with the current state."

/*
 * One row per code.  `msg` is for logs and operators; `detail` is what a client is told
 * (CONTRACT.md's wording; NULL for failures of ours, which answer the generic 500 body);
 * `retry` is the Retry-After in seconds (0: none).
 */
static const struct {
    const char *msg;
    int status;
    const char *detail;
    int retry;
} errs[VF_ERR__MAX] = {
    [VF_OK] = { "success", 200, NULL, 0 },
    [VF_ERR_NOMEM] = { "out of memory", 500, NULL, 0 },
    [VF_ERR_IO] = { "input/output error", 500, NULL, 0 },
    [VF_ERR_CONFIG] = { "invalid configuration", 500, NULL, 0 },
    [VF_ERR_INVALID] = { "invalid input", 400, "Invalid input.", 0 },
    [VF_ERR_NOTFOUND] = { "not found", 404, "Not found.", 0 },
    [VF_ERR_AUTH] = { "authentication failed", 401, "Authentication credentials were not provided.",
                      0 },
    [VF_ERR_FORBIDDEN] = { "permission denied", 403,
                           "You do not have permission to perform this action.", 0 },
    [VF_ERR_CONFLICT] = { "constraint violated", 409, CONFLICT_DETAIL, 0 },
    [VF_ERR_TOOBIG] = { "too large", 413, "Request body too large.", 0 },
    [VF_ERR_MEDIATYPE] = { "unsupported media type", 415, "Unsupported media type.", 0 },
    [VF_ERR_RATELIMIT] = { "rate limited", 429, "Request was throttled.", 60 },
    [VF_ERR_BUSY] = { "busy, try again", 503, BUSY_DETAIL, 1 },
    [VF_ERR_DB] = { "database error", 500, NULL, 0 },
    [VF_ERR_TIMEOUT] = { "timed out", 504, "The operation timed out.", 0 },
    [VF_ERR_STALE] = { "lease lost", 409, CONFLICT_DETAIL, 0 },
    [VF_ERR_TEMPFAIL] = { "temporary failure", 503, BUSY_DETAIL, 1 },
    [VF_ERR_PERMFAIL] = { "permanent failure", 500, NULL, 0 },
    [VF_ERR_NOSPACE] = { "insufficient storage", 507, "Insufficient storage.", 0 },
    [VF_ERR_INTERNAL] = { "internal error", 500, NULL, 0 },
};

/* Out-of-range codes and rows left out answer as an internal error. */
static bool
known(enum vf_err err)
{
    return (unsigned)err < VF_ERR__MAX && errs[err].msg != NULL;
}

const char *
vf_strerror(enum vf_err err)
{
    return known(err) ? errs[err].msg : "unknown error";
}

int
vf_err_status(enum vf_err err)
{
    return known(err) ? errs[err].status : 500;
}

const char *
vf_err_message(enum vf_err err)
{
    if (!known(err) || errs[err].detail == NULL)
        return INTERNAL_DETAIL;
    return errs[err].detail;
}

int
vf_err_retry_after(enum vf_err err)
{
    return known(err) ? errs[err].retry : 0;
}

void
vf_reason(char *buf, size_t len, const char *fmt, ...)
{
    if (buf == NULL || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}
