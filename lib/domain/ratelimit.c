/* ratelimit.c -- fixed-window attempt counters in the rate_limits table. */
#include "autoconf.h"

#include "ratelimit.h"

#include "clock.h"

enum vf_err
ratelimit_check(struct db *db, const char *bucket, int limit, int window_s, int64_t *retry_after)
{
    *retry_after = 0;
    if (limit <= 0 || window_s <= 0)
        return VF_OK;
    struct db_rows *rows = NULL;
    enum vf_err err = db_query(db, STMT_RATELIMIT_GET, DB_ARGS(DB_TEXT(bucket)), &rows);
    if (err != VF_OK)
        return err;
    if (db_rows_count(rows) == 1) {
        int64_t hits = db_rows_int(rows, 0, 0);
        int64_t start = db_rows_int(rows, 0, 1);
        int64_t now = clock_now_us();
        int64_t end = start + (int64_t)window_s * 1000000;
        if (now < end && hits >= limit) {
            *retry_after = (end - now + 999999) / 1000000;
            if (*retry_after < 1)
                *retry_after = 1;
            err = VF_ERR_RATELIMIT;
        }
    }
    db_rows_free(rows);
    return err;
}

enum vf_err
ratelimit_hit(struct db *db, const char *bucket, int window_s)
{
    return db_exec(
        db, STMT_RATELIMIT_HIT,
        DB_ARGS(DB_TEXT(bucket), DB_INT(clock_now_us()), DB_INT((int64_t)window_s * 1000000)),
        NULL);
}

enum vf_err
ratelimit_take(struct db *db, const char *bucket, int limit, int window_s, int64_t *retry_after)
{
    enum vf_err err = ratelimit_check(db, bucket, limit, window_s, retry_after);
    if (err == VF_OK && limit > 0 && window_s > 0)
        err = ratelimit_hit(db, bucket, window_s);
    return err;
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
