/* playlist.h -- HLS media/master playlists: parse, VOD fix-up, validate, measure, write. */
#ifndef VF_PLAYLIST_H
#define VF_PLAYLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "video.h" /* struct video_rendition */

struct playlist_segment {
    double duration; /* seconds, from #EXTINF */
    char uri[32];    /* a bare relative name: <digits>.ts */
};

struct playlist {
    struct playlist_segment *seg;
    size_t n;
    int target_duration;
    bool endlist, vod;
};

/*
 * Parses the media playlist at `path`.  Only what our transcoder writes is
 * accepted: #EXTM3U first, #EXTINF durations > 0, segment URIs of the form
 * <digits>.ts.  On success *out is owned by the caller (playlist_free).  On
 * VF_ERR_INVALID/VF_ERR_IO, `reason` says why in one line.
 */
enum vf_err playlist_load(const char *path, struct playlist **out, char *reason, size_t len);
void playlist_free(struct playlist *pl);

/* Sum of the segment durations in seconds. */
double playlist_duration(const struct playlist *pl);

/*
 * Rewrites `pl` to `path` as a complete VOD playlist (#EXT-X-PLAYLIST-TYPE:VOD,
 * #EXT-X-TARGETDURATION covering every rounded #EXTINF, #EXT-X-ENDLIST), atomically
 * (temporary file + rename).  VF_ERR_IO on failure.
 */
enum vf_err playlist_write_vod(const struct playlist *pl, const char *path);

/*
 * Writes the I-frame playlist of `pl` to `path` atomically (#EXT-X-I-FRAMES-ONLY, version 4):
 * one I-frame per segment, the first iframe_len[i] bytes of segment i (its PAT, PMT and opening
 * keyframe: tsindex.h), lasting until the next.  Players scrub and fast-forward with it.
 * VF_ERR_IO on failure.
 */
enum vf_err playlist_write_iframes(const struct playlist *pl, const size_t *iframe_len,
                                   const char *path);

struct playlist_stats {
    int64_t peak_bps; /* highest segment bit rate (BANDWIDTH) */
    int64_t avg_bps;  /* total bits / total duration (AVERAGE-BANDWIDTH) */
    uint64_t bytes;   /* total size of the segments */
};

/*
 * Checks that every segment of `pl` exists in directory `dir` as a non-empty
 * regular file and measures the bit rates.  Segments shorter than half the
 * target duration (the tail) do not set the peak unless they are all there is.
 * VF_ERR_INVALID with `reason` when a segment is missing or empty.
 */
enum vf_err playlist_measure(const struct playlist *pl, const char *dir, struct playlist_stats *st,
                             char *reason, size_t len);

/* Writes the master playlist of renditions r[0..n) (hlsmaster_render) to `path` atomically.
 * VF_ERR_IO on failure, VF_ERR_NOMEM. */
enum vf_err playlist_write_master(const char *path, const struct video_rendition *r, size_t n);

#endif
