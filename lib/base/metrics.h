/* metrics.h -- process-tree-wide counters for /metrics: fixed arrays of atomic 64-bit counters in
 * shared anonymous memory, mapped by the FastCGI master before it forks its workers. */
#ifndef VF_METRICS_H
#define VF_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "strbuf.h"

/* Distinct route templates counted; later ones share the last slot ("other"). */
#define METRICS_MAX_ROUTES 128
/* Latency buckets (upper bounds in seconds, +Inf implied). */
#define METRICS_NBUCKETS 11
/* Worker busy marks (one per live worker). */
#define METRICS_MAX_WORKERS 256

/* Plain counters, each a family of its own or one label value of one (metrics_render). */
enum metrics_counter {
    MC_FCGI_RESPAWNS,   /* workers started again after one died or was recycled */
    MC_FCGI_RECYCLED,   /* workers that left after FCGI_MAX_REQUESTS */
    MC_DB_ERRORS,       /* replies for VF_ERR_DB */
    MC_DB_BUSY,         /* replies for VF_ERR_BUSY (database busy or unreachable) */
    MC_LOGIN_OK,        /* successful logins */
    MC_LOGIN_FAILED,    /* wrong credentials or inactive account */
    MC_LOGIN_RATELIMIT, /* logins refused by the rate limit */
    MC_REFRESH_ROTATED, /* refresh tokens used (and rotated) */
    MC_REFRESH_REVOKED, /* sessions ended (logout, revoked refresh token presented) */
    MC_UPLOAD_BYTES,    /* bytes of uploaded video sources accepted */
    MC__MAX
};

/*
 * Map the shared counters (zeroed).  Call once in the process that forks the others, before it
 * forks; every process forked afterwards counts into the same memory.  Route templates are
 * remembered by address, which is the same in every process forked from the mapping one (the
 * route tables are static data of the same program).  VF_ERR-style: false when mmap failed
 * (errno); the metrics_* calls below then do nothing and the render shows zeros.
 */
bool metrics_init(void);
/* Unmap (tests, a master that exits). */
void metrics_shutdown(void);

/* Add n to a counter. */
void metrics_add(enum metrics_counter c, uint64_t n);
static inline void
metrics_inc(enum metrics_counter c)
{
    metrics_add(c, 1);
}

/*
 * Count one answered request: `route` the matched pattern (NULL: unmatched), its status and how
 * long it took in microseconds.  The pattern must be static data (a route table's string).
 */
void metrics_request(const char *route, int status, int64_t elapsed_us);

/* This worker starts (true) or ends (false) a request; metrics_forget_pid() by the reaper. */
void metrics_busy(bool busy);
void metrics_forget_pid(pid_t pid);
/* The master says how many workers are alive. */
void metrics_set_workers(int n);

/* Read a counter (tests, videoflixctl status). */
uint64_t metrics_get(enum metrics_counter c);
/* Requests counted for route (NULL: unmatched) with statuses of class 1..5 (tests). */
uint64_t metrics_requests(const char *route, int status_class);

/* Append every shared family in the text exposition format 0.0.4; false on allocation failure. */
bool metrics_render(struct strbuf *out);

/* Text exposition helpers for families computed elsewhere (scrape-time gauges). */
bool metrics_family(struct strbuf *out, const char *name, const char *type, const char *help);
/* A label value escaped per the exposition format (backslash, double quote, newline). */
bool metrics_label_value(struct strbuf *out, const char *v);

/*
 * Is `addr` (an IPv4 or IPv6 address as REMOTE_ADDR has it) in `list`, comma-separated
 * addresses and CIDR blocks (e.g. "127.0.0.1,::1,10.0.0.0/8")?  IPv4-mapped IPv6 addresses are
 * compared as IPv4.  False for anything unparsable.
 */
bool metrics_addr_allowed(const char *list, const char *addr);
/* Is `list` a valid METRICS_ALLOW value?  (config validation) */
bool metrics_allow_valid(const char *list);

#endif
