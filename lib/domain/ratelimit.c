/* ratelimit.c -- fixed-window attempt counters in the rate_limits table. */
#include "autoconf.h"

#include "ratelimit.h"

#include "clock.h"

enum vf_err
ratelimit_take(struct db *db, const char *bucket, int limit, int window_s, int64_t *retry_after,
               int64_t *ticket)
{
    *retry_after = 0;
    if (ticket != NULL)
        *ticket = 0;
    if (limit <= 0 || window_s <= 0)
        return VF_OK;
    int64_t now = clock_now_us(), window = (int64_t)window_s * 1000000, start = 0;
    enum vf_err err =
        db_query_int(db, STMT_RATELIMIT_TAKE,
                     DB_ARGS(DB_TEXT(bucket), DB_INT(now), DB_INT(window), DB_INT(limit)), &start);
    if (err == VF_OK) {
        if (ticket != NULL)
            *ticket = start;
        return VF_OK;
    }
    if (err != VF_ERR_NOTFOUND)
        return err;
    /* Full: the statement counted nothing.  When may the next attempt come? */
    err = db_query_int(db, STMT_RATELIMIT_WINDOW, DB_ARGS(DB_TEXT(bucket)), &start);
    if (err == VF_ERR_NOTFOUND) /* reset or pruned in between: just try again */
        start = now - window;
    else if (err != VF_OK)
        return err;
    *retry_after = (start + window - now + 999999) / 1000000;
    if (*retry_after < 1)
        *retry_after = 1;
    return VF_ERR_RATELIMIT;
}

enum vf_err
ratelimit_refund(struct db *db, const char *bucket, int64_t ticket)
{
    if (ticket == 0)
        return VF_OK;
    return db_exec(db, STMT_RATELIMIT_REFUND, DB_ARGS(DB_TEXT(bucket), DB_INT(ticket)), NULL);
}

enum vf_err
ratelimit_reset(struct db *db, const char *bucket)
{
    return db_exec(db, STMT_RATELIMIT_RESET, DB_ARGS(DB_TEXT(bucket)), NULL);
}

enum vf_err
ratelimit_prune(struct db *db, int max_window_s, int64_t *n)
{
    return db_exec(db, STMT_RATELIMIT_PRUNE,
                   DB_ARGS(DB_INT(clock_now_us() - (int64_t)max_window_s * 1000000)), n);
}
