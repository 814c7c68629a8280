/* test_tsindex.c -- finding a segment's opening keyframe for the I-frame playlist. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <string.h>

#include "tsindex.h"

#define TS 188

/* A packet on `pid`; when `sid` is set it starts a PES of that stream id. */
static void
packet(uint8_t *p, unsigned pid, uint8_t sid)
{
    memset(p, 0xff, TS);
    p[0] = 0x47;
    p[1] = (uint8_t)((sid ? 0x40 : 0) | (pid >> 8));
    p[2] = (uint8_t)pid;
    p[3] = 0x10;
    if (sid) {
        p[4] = 0;
        p[5] = 0;
        p[6] = 1;
        p[7] = sid;
    }
}

Test(tsindex, the_keyframe_runs_from_the_tables_to_the_next_picture)
{
    uint8_t buf[9 * TS];
    packet(buf + 0 * TS, 0, 0);       /* PAT */
    buf[0 * TS + 1] |= 0x40;          /* (a section start, not a PES) */
    packet(buf + 1 * TS, 0x1000, 0);  /* PMT */
    packet(buf + 2 * TS, 0x41, 0xe0); /* the keyframe starts */
    packet(buf + 3 * TS, 0x41, 0);    /* ... continues */
    packet(buf + 4 * TS, 0x42, 0xc0); /* audio in between */
    packet(buf + 5 * TS, 0x41, 0);    /* ... last packet of the keyframe */
    packet(buf + 6 * TS, 0x42, 0);    /* audio */
    packet(buf + 7 * TS, 0x41, 0xe0); /* the next picture */
    packet(buf + 8 * TS, 0x41, 0);
    size_t end = 0;
    cr_assert_eq(tsindex_keyframe(buf, sizeof(buf), &end), VF_OK);
    cr_expect_eq(end, 6 * TS);
    /* A segment of one picture: to its last packet. */
    cr_assert_eq(tsindex_keyframe(buf, 7 * TS, &end), VF_OK);
    cr_expect_eq(end, 6 * TS);
}

Test(tsindex, no_video_or_not_packets_is_refused)
{
    uint8_t buf[2 * TS];
    size_t end = 1;
    packet(buf, 0, 0);
    packet(buf + TS, 0x42, 0xc0);
    cr_expect_eq(tsindex_keyframe(buf, sizeof(buf), &end), VF_ERR_INVALID, "audio only");
    cr_expect_eq(tsindex_keyframe(buf, sizeof(buf) - 4, &end), VF_ERR_INVALID);
    buf[TS] = 0;
    cr_expect_eq(tsindex_keyframe(buf, sizeof(buf), &end), VF_ERR_INVALID, "lost sync");
    cr_expect_eq(tsindex_keyframe_file("/nonexistent.ts", &end), VF_ERR_IO);
}
