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
 * Would one more attempt exceed `limit` per `window_s`?  VF_OK when allowed;
 * VF_ERR_RATELIMIT with *retry_after (seconds, >= 1) when not.  limit <= 0: no limit.
 */
enum vf_err ratelimit_check(struct db *db, const char *bucket, int limit, int window_s,
                            int64_t *retry_after);
/* Count one attempt in the bucket's current window. */
enum vf_err ratelimit_hit(struct db *db, const char *bucket, int window_s);
/* ratelimit_check() then, when allowed, ratelimit_hit(). */
enum vf_err ratelimit_take(struct db *db, const char *bucket, int limit, int window_s,
                           int64_t *retry_after);
/* Forget the bucket (e.g. an account's failures after a successful login). */
enum vf_err ratelimit_reset(struct db *db, const char *bucket);
/* Delete windows older than `max_window_s`; *n (may be NULL) gets the count. */
enum vf_err ratelimit_prune(struct db *db, int max_window_s, int64_t *n);

#endif
