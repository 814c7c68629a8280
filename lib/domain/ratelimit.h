/* ratelimit.h -- fixed-window attempt counters kept in the database (survive restarts). */
#ifndef VF_RATELIMIT_H
#define VF_RATELIMIT_H

#include <stdint.h>

#include "db.h"
#include "error.h"

/*
 * A bucket is a string such as "login:ip:127.0.0.1" or "login:email:a@b.cc" (at most
 * 300 bytes; longer keys are truncated).  Counters live in rate_limits, so every
 * worker process and host shares them.
 */

/*
 * Count one attempt in the bucket's current window if that keeps it within `limit` per
 * `window_s`: the check and the count are one statement, so however many processes or hosts
 * take at once, no more than `limit` attempts per window get VF_OK.  VF_OK: counted, and
 * *ticket (may be NULL) names the counted attempt for ratelimit_refund().  VF_ERR_RATELIMIT
 * with *retry_after (seconds, >= 1) when the bucket is full (nothing counted).  limit <= 0:
 * no limit (VF_OK, nothing counted, *ticket 0).
 */
enum vf_err ratelimit_take(struct db *db, const char *bucket, int limit, int window_s,
                           int64_t *retry_after, int64_t *ticket);
/* Give back the attempt that ratelimit_take() counted with `ticket` (e.g. a login that turned
 * out to succeed, when only failures should count); nothing when its window is over or ticket
 * is 0. */
enum vf_err ratelimit_refund(struct db *db, const char *bucket, int64_t ticket);
/* Forget the bucket (e.g. an account's failures from an address after a successful login). */
enum vf_err ratelimit_reset(struct db *db, const char *bucket);
/* Delete windows older than `max_window_s`; *n (may be NULL) gets the count. */
enum vf_err ratelimit_prune(struct db *db, int max_window_s, int64_t *n);

#endif
