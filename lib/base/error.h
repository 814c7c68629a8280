/* error.h -- the one error enum shared by every module. */
#ifndef VF_ERROR_H
#define VF_ERROR_H

#include <stddef.h>

/*
 * Every fallible function in lib/ returns one of these.  VF_OK is 0 so that
 * `if (err)` reads naturally.  One table (error.c) says, per code, what it means to an
 * operator (vf_strerror), which HTTP status answers it (vf_err_status), what the client
 * is told (vf_err_message) and whether to send Retry-After (vf_err_retry_after).  The web
 * layer answers a code through that table in one place, json_error_reply (lib/web/json.h),
 * which also logs server-side failures once; the worker and videoflixctl read the codes
 * for their own decisions (retry a job or not, the exit status).
 */
enum vf_err {
    VF_OK = 0,
    VF_ERR_NOMEM,     /* allocation failed */
    VF_ERR_IO,        /* file or socket error (errno is meaningful) */
    VF_ERR_CONFIG,    /* invalid configuration */
    VF_ERR_INVALID,   /* invalid input (400) */
    VF_ERR_NOTFOUND,  /* no such row/file/route (404) */
    VF_ERR_AUTH,      /* authentication failed (401) */
    VF_ERR_FORBIDDEN, /* authenticated but not allowed (403) */
    VF_ERR_CONFLICT,  /* unique/foreign-key constraint violated (409/400) */
    VF_ERR_TOOBIG,    /* input exceeds a limit (413) */
    VF_ERR_MEDIATYPE, /* unsupported content type (415) */
    VF_ERR_RATELIMIT, /* too many attempts (429) */
    VF_ERR_BUSY,      /* database busy/locked, try again (503) */
    VF_ERR_DB,        /* database error other than the above (500) */
    VF_ERR_TIMEOUT,   /* an operation ran out of time */
    VF_ERR_STALE,     /* a fenced update lost its lease (changed nothing) */
    VF_ERR_TEMPFAIL,  /* transient external failure: retry later (SMTP 4xx) */
    VF_ERR_PERMFAIL,  /* permanent external failure: do not retry (SMTP 5xx) */
    VF_ERR_NOSPACE,   /* not enough free disk (507) */
    VF_ERR_INTERNAL,  /* a bug or an impossible state (500) */
    VF_ERR__MAX
};

/* Static, human-readable description for logs; never NULL. */
const char *vf_strerror(enum vf_err err);

/* The HTTP status that answers this error (500 for an unknown code). */
int vf_err_status(enum vf_err err);

/*
 * The message a client gets for this error, static, never NULL: CONTRACT.md's generic
 * wording ("Not found.", "Request was throttled.", ...), and "Internal server error." for
 * every 500 (a failure of ours is never described to the client).  Meaningless for VF_OK.
 */
const char *vf_err_message(enum vf_err err);

/* Seconds a client should wait before trying again (the Retry-After header): 1 for 503
 * (busy), 60 for 429 when the caller knows no better; 0 for no Retry-After. */
int vf_err_retry_after(enum vf_err err);

/*
 * Write a one-line reason into a caller's buffer: snprintf into buf (len bytes; nothing when
 * buf is NULL or len is 0) with newlines, carriage returns and tabs turned into spaces
 * (library messages, e.g. GStreamer's, may hold them).  The buffer stays the caller's.
 */
void vf_reason(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
