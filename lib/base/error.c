/* error.c -- descriptions and HTTP statuses of the error enum. */
#include "autoconf.h"

#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
    const char *msg;
    int status;
} errs[VF_ERR__MAX] = {
    [VF_OK] = { "success", 200 },
    [VF_ERR_NOMEM] = { "out of memory", 500 },
    [VF_ERR_IO] = { "input/output error", 500 },
    [VF_ERR_CONFIG] = { "invalid configuration", 500 },
    [VF_ERR_INVALID] = { "invalid input", 400 },
    [VF_ERR_NOTFOUND] = { "not found", 404 },
    [VF_ERR_AUTH] = { "authentication failed", 401 },
    [VF_ERR_FORBIDDEN] = { "permission denied", 403 },
    [VF_ERR_CONFLICT] = { "constraint violated", 409 },
    [VF_ERR_TOOBIG] = { "too large", 413 },
    [VF_ERR_MEDIATYPE] = { "unsupported media type", 415 },
    [VF_ERR_RATELIMIT] = { "rate limited", 429 },
    [VF_ERR_BUSY] = { "busy, try again", 503 },
    [VF_ERR_DB] = { "database error", 500 },
    [VF_ERR_TIMEOUT] = { "timed out", 504 },
    [VF_ERR_STALE] = { "lease lost", 409 },
    [VF_ERR_TEMPFAIL] = { "temporary failure", 503 },
    [VF_ERR_PERMFAIL] = { "permanent failure", 500 },
    [VF_ERR_NOSPACE] = { "insufficient storage", 507 },
    [VF_ERR_INTERNAL] = { "internal error", 500 },
};

const char *
vf_strerror(enum vf_err err)
{
    if ((unsigned)err >= VF_ERR__MAX || errs[err].msg == 0)
        return "unknown error";
    return errs[err].msg;
}

int
vf_err_status(enum vf_err err)
{
    if ((unsigned)err >= VF_ERR__MAX || errs[err].status == 0)
        return 500;
    return errs[err].status;
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
