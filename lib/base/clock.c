/* clock.c -- wall clock in microseconds, freezable for tests; the monotonic clock. */
#include "autoconf.h"

#include <stdio.h>
#include <time.h>

#include "clock.h"

static int64_t frozen_us;

/* Microseconds of clock `id`. */
static int64_t
read_us(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
clock_now_us(void)
{
    return frozen_us != 0 ? frozen_us : read_us(CLOCK_REALTIME);
}

int64_t
clock_now(void)
{
    return clock_now_us() / 1000000;
}

int64_t
clock_mono_us(void)
{
    return read_us(CLOCK_MONOTONIC);
}

int64_t
clock_mono_ms(void)
{
    return clock_mono_us() / 1000;
}

void
clock_set_us(int64_t us)
{
    frozen_us = us;
}

char *
clock_format_iso(int64_t us, char *buf)
{
    time_t secs = (time_t)(us / 1000000);
    long frac = (long)(us % 1000000);
    struct tm tm;

    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, 21, "%Y-%m-%dT%H:%M:%S", &tm);
    /* 19 characters of date and time, then ".uuuuuuZ". */
    snprintf(buf + n, 28 - n, ".%06ldZ", frac);
    return buf;
}
