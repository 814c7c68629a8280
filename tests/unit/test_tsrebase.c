/* test_tsrebase.c -- moving the PTS/DTS/PCR of MPEG-TS packets by a constant. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tsrebase.h"

#define HOUR (UINT64_C(90000) * 3600)

static void
put_pes_ts(uint8_t *p, unsigned prefix, uint64_t v)
{
    p[0] = (uint8_t)((prefix << 4) | ((v >> 29) & 0x0e) | 1);
    p[1] = (uint8_t)(v >> 22);
    p[2] = (uint8_t)(((v >> 14) & 0xfe) | 1);
    p[3] = (uint8_t)(v >> 7);
    p[4] = (uint8_t)(((v << 1) & 0xfe) | 1);
}

static uint64_t
get_pes_ts(const uint8_t *p)
{
    return ((uint64_t)(p[0] >> 1) & 7) << 30 | (uint64_t)p[1] << 22 | (uint64_t)(p[2] >> 1) << 15 |
           (uint64_t)p[3] << 7 | (uint64_t)(p[4] >> 1);
}

/* A PSI packet on `pid`: pointer field 0, then a table that starts 00 B0 (like a PAT). */
static void
psi_packet(uint8_t *p, unsigned pid)
{
    memset(p, 0xff, TS_PACKET_SIZE);
    p[0] = 0x47;
    p[1] = (uint8_t)(0x40 | (pid >> 8));
    p[2] = (uint8_t)pid;
    p[3] = 0x10;
    p[4] = 0x00;
    p[5] = 0x00;
    p[6] = 0xb0;
    p[7] = 0x0d;
}

/*
 * A packet starting a PES of stream `sid` on `pid`: with a PCR in the adaptation field when
 * pcr != 0 (extension 123), a PTS, and a DTS when dts != 0.  Returns the offset of the PES.
 */
static size_t
pes_packet(uint8_t *p, unsigned pid, uint8_t sid, uint64_t pcr, uint64_t pts, uint64_t dts)
{
    memset(p, 0, TS_PACKET_SIZE);
    p[0] = 0x47;
    p[1] = (uint8_t)(0x40 | (pid >> 8));
    p[2] = (uint8_t)pid;
    size_t pos = 4;
    if (pcr != 0) {
        p[3] = 0x30;
        p[4] = 7; /* flags + PCR */
        p[5] = 0x10;
        p[6] = (uint8_t)(pcr >> 25);
        p[7] = (uint8_t)(pcr >> 17);
        p[8] = (uint8_t)(pcr >> 9);
        p[9] = (uint8_t)(pcr >> 1);
        p[10] = (uint8_t)(((pcr & 1) << 7) | 0x7e | (123 >> 8));
        p[11] = 123 & 0xff;
        pos = 12;
    } else {
        p[3] = 0x10;
    }
    uint8_t *e = p + pos;
    e[2] = 1;
    e[3] = sid;
    e[6] = 0x80;
    e[7] = dts != 0 ? 0xc0 : 0x80;
    e[8] = dts != 0 ? 10 : 5;
    put_pes_ts(e + 9, dts != 0 ? 3 : 2, pts);
    if (dts != 0)
        put_pes_ts(e + 14, 1, dts);
    return pos;
}

static uint64_t
pcr_of(const uint8_t *p)
{
    return (uint64_t)p[6] << 25 | (uint64_t)p[7] << 17 | (uint64_t)p[8] << 9 | (uint64_t)p[9] << 1 |
           (uint64_t)(p[10] >> 7);
}

/* PAT, video with PCR (PTS = DTS + 2 frames), audio, a continuation packet of video. */
static void
segment(uint8_t buf[5 * TS_PACKET_SIZE], uint64_t base)
{
    psi_packet(buf, 0);
    psi_packet(buf + TS_PACKET_SIZE, 0x1000);
    pes_packet(buf + 2 * TS_PACKET_SIZE, 0x41, 0xe0, base - 11250, base + 6000, base);
    pes_packet(buf + 3 * TS_PACKET_SIZE, 0x42, 0xc0, 0, base + 6000, 0);
    uint8_t *c = buf + 4 * TS_PACKET_SIZE;
    memset(c, 0, TS_PACKET_SIZE);
    c[0] = 0x47;
    c[1] = 0x00; /* no PUSI: payload bytes that look like a start code are data */
    c[2] = 0x41;
    c[3] = 0x11;
    c[6] = 1;
    c[7] = 0xe0;
}

Test(tsrebase, scan_finds_the_earliest_timestamp_and_the_first_video_dts)
{
    uint8_t buf[5 * TS_PACKET_SIZE];
    segment(buf, HOUR + 9000);
    struct ts_times t = { 0 };
    cr_assert_eq(tsrebase_scan(buf, sizeof(buf), &t), VF_OK);
    cr_expect(t.found);
    cr_expect(t.video_found);
    cr_expect_eq(t.min, HOUR + 9000 - 11250, "the PCR is the earliest");
    cr_expect_eq(t.video_dts, HOUR + 9000);
    /* Accumulates: a later segment changes nothing. */
    segment(buf, HOUR + 9000 + 360000);
    cr_assert_eq(tsrebase_scan(buf, sizeof(buf), &t), VF_OK);
    cr_expect_eq(t.min, HOUR + 9000 - 11250);
    cr_expect_eq(t.video_dts, HOUR + 9000);
}

Test(tsrebase, shift_moves_pts_dts_and_pcr_and_keeps_everything_else)
{
    uint8_t buf[5 * TS_PACKET_SIZE], orig[5 * TS_PACKET_SIZE];
    uint64_t base = HOUR + 9000;
    segment(buf, base);
    memcpy(orig, buf, sizeof(buf));
    uint64_t shift = HOUR - 20000;
    cr_assert_eq(tsrebase_shift(buf, sizeof(buf), shift), VF_OK);
    const uint8_t *v = buf + 2 * TS_PACKET_SIZE;
    const uint8_t *a = buf + 3 * TS_PACKET_SIZE;
    cr_expect_eq(pcr_of(v), base - 11250 - shift);
    cr_expect_eq(((v[10] & 1) << 8) | v[11], 123, "the PCR extension is kept");
    cr_expect_eq(get_pes_ts(v + 12 + 9), base + 6000 - shift);
    cr_expect_eq(get_pes_ts(v + 12 + 14), base - shift);
    cr_expect_eq(v[12 + 9] >> 4, 3, "the PTS prefix is kept");
    cr_expect_eq(v[12 + 14] >> 4, 1, "the DTS prefix is kept");
    cr_expect_eq(get_pes_ts(a + 4 + 9), base + 6000 - shift);
    /* PSI and continuation packets are untouched. */
    cr_expect_arr_eq(buf, orig, 2 * TS_PACKET_SIZE);
    cr_expect_arr_eq(buf + 4 * TS_PACKET_SIZE, orig + 4 * TS_PACKET_SIZE, TS_PACKET_SIZE);
    /* And back: modulo 2^33, nothing is lost. */
    cr_assert_eq(tsrebase_shift(buf, sizeof(buf), TS_TICKS_MASK + 1 - shift), VF_OK);
    cr_expect_arr_eq(buf, orig, sizeof(buf));
}

Test(tsrebase, shift_for_puts_the_first_video_dts_on_a_whole_microsecond)
{
    struct ts_times none = { 0 };
    cr_expect_eq(tsrebase_shift_for(&none), 0);
    struct ts_times audio = { .min = HOUR + 5, .found = true };
    cr_expect_eq(tsrebase_shift_for(&audio), HOUR + 5);
    for (uint64_t d = 0; d < 30; d++) {
        struct ts_times t = {
            .min = HOUR + 7, .video_dts = HOUR + 7 + 11250 + d, .found = true, .video_found = true
        };
        uint64_t s = tsrebase_shift_for(&t);
        cr_expect_leq(s, t.min, "nothing goes negative");
        cr_expect_lt(t.min - s, 9, "near zero");
        cr_expect_eq((t.video_dts - s) % 9, 0, "d=%d", (int)d);
    }
}

Test(tsrebase, what_our_muxer_never_writes_is_refused)
{
    uint8_t buf[2 * TS_PACKET_SIZE];
    struct ts_times t = { 0 };
    psi_packet(buf, 0);
    psi_packet(buf + TS_PACKET_SIZE, 0);
    cr_expect_eq(tsrebase_scan(buf, sizeof(buf) - 1, &t), VF_ERR_INVALID, "not whole packets");
    buf[TS_PACKET_SIZE] = 0x48;
    cr_expect_eq(tsrebase_scan(buf, sizeof(buf), &t), VF_ERR_INVALID, "lost sync");
    cr_expect(!t.found);

    /* A PES header cut by the end of its packet. */
    size_t pos = pes_packet(buf, 0x41, 0xe0, 0, HOUR, HOUR);
    buf[pos + 8] = (uint8_t)(TS_PACKET_SIZE - pos - 9 + 1);
    cr_expect_eq(tsrebase_scan(buf, TS_PACKET_SIZE, &t), VF_ERR_INVALID);
    cr_expect_eq(tsrebase_shift(buf, TS_PACKET_SIZE, 1), VF_ERR_INVALID);
    /* PTS_DTS_flags 01 is forbidden. */
    pos = pes_packet(buf, 0x41, 0xe0, 0, HOUR, 0);
    buf[pos + 7] = 0x40;
    cr_expect_eq(tsrebase_scan(buf, TS_PACKET_SIZE, &t), VF_ERR_INVALID);
    /* An adaptation field longer than the packet. */
    pes_packet(buf, 0x41, 0xe0, HOUR, HOUR, 0);
    buf[4] = 184;
    cr_expect_eq(tsrebase_scan(buf, TS_PACKET_SIZE, &t), VF_ERR_INVALID);
}

Test(tsrebase, files_are_rewritten_in_place)
{
    char path[] = "/tmp/vf-test-tsrebase-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    uint8_t buf[5 * TS_PACKET_SIZE];
    segment(buf, HOUR + 9000);
    cr_assert_eq(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
    close(fd);
    struct ts_times t = { 0 };
    cr_assert_eq(tsrebase_scan_file(path, &t), VF_OK);
    uint64_t shift = tsrebase_shift_for(&t);
    cr_assert_eq(tsrebase_shift_file(path, shift), VF_OK);
    struct ts_times after = { 0 };
    cr_assert_eq(tsrebase_scan_file(path, &after), VF_OK);
    cr_expect_lt(after.min, 9);
    cr_expect_eq(after.video_dts % 9, 0);
    cr_expect_eq(tsrebase_scan_file("/nonexistent/x.ts", &t), VF_ERR_IO);
    unlink(path);
}
