/* clock.h -- the one source of "now", replaceable by tests. */
#ifndef VF_CLOCK_H
#define VF_CLOCK_H

#include <stdint.h>

/* Microseconds since the Unix epoch (CLOCK_REALTIME), or the frozen value. */
int64_t clock_now_us(void);
/* Seconds since the epoch. */
int64_t clock_now(void);
/* CLOCK_MONOTONIC in microseconds / milliseconds: for timeouts, intervals and benchmarks
 * (unaffected by clock_set_us and by changes of the wall clock). */
int64_t clock_mono_us(void);
int64_t clock_mono_ms(void);
/* Tests: freeze the clock at `us` (0 unfreezes). */
void clock_set_us(int64_t us);
/* Format `us` as ISO-8601 UTC with microseconds: 2025-07-04T13:33:02.123456Z.
 * `buf` must hold 28 bytes. Returns buf. */
char *clock_format_iso(int64_t us, char *buf);

#endif
