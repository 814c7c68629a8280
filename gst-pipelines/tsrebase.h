/* tsrebase.h -- move the timestamps (PTS, DTS, PCR) of MPEG-TS segments by a constant, free of
 * GStreamer. */
#ifndef VF_TSREBASE_H
#define VF_TSREBASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * Why: mpegtsmux starts every stream's clock one hour in (a fixed offset, not a property in
 * GStreamer 1.22), so segments begin at 3600 s.  Players that seek by timestamp (ffmpeg, mpv)
 * then land late or not at all, and `mpv --start=0` skips the first segment.  The transcoder
 * moves the whole ladder by one constant after muxing, so the renditions stay aligned and
 * continuous: the earliest timestamp of the ladder becomes 0.
 *
 * Only what our muxer writes is accepted: 188-byte packets, each starting with 0x47, a PES
 * header (with its PTS/DTS) contained in the packet that starts the PES.  Timestamps are in
 * 90 kHz ticks (33 bits); the PCR's 27 MHz extension is kept.
 */
#define TS_PACKET_SIZE 188
#define TS_TICKS_MASK  ((UINT64_C(1) << 33) - 1)

/* What tsrebase_scan() found, accumulated over calls (zero-initialise before the first). */
struct ts_times {
    uint64_t min;       /* smallest PTS, DTS or PCR base */
    uint64_t video_dts; /* smallest DTS (PTS when there is none) of a video PES */
    bool found, video_found;
};

/* Adds the timestamps of buf[0..len) to *t.  VF_ERR_INVALID for a buffer that is not whole
 * packets as described above. */
enum vf_err tsrebase_scan(const uint8_t *buf, size_t len, struct ts_times *t);

/*
 * The shift that moves the timeline to (near) zero: at most t->min, so nothing goes negative,
 * and chosen so that the first video DTS lands on a whole microsecond (a multiple of 9 ticks).
 * ffmpeg's HLS demuxer seeks to "first DTS + the #EXTINF durations" and drops a keyframe whose
 * DTS, rounded down to microseconds, is below that by even 1 us: with the first DTS exact,
 * keyframes at exact multiples of the segment length are never dropped.  0 when nothing was
 * found.
 */
uint64_t tsrebase_shift_for(const struct ts_times *t);

/* Subtracts `ticks` (modulo 2^33) from every PTS, DTS and PCR base in buf[0..len), in place.
 * VF_ERR_INVALID as for tsrebase_scan (the buffer may then be partly changed). */
enum vf_err tsrebase_shift(uint8_t *buf, size_t len, uint64_t ticks);

/* The same on a file (read whole, rewritten in place).  VF_ERR_IO with errno on a read or write
 * failure, VF_ERR_NOMEM, VF_ERR_INVALID. */
enum vf_err tsrebase_scan_file(const char *path, struct ts_times *t);
enum vf_err tsrebase_shift_file(const char *path, uint64_t ticks);

#endif
