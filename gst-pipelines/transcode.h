/* transcode.h -- one source file to a validated HLS ladder + master playlist + thumbnail in a
 * directory. */
#ifndef VF_TRANSCODE_H
#define VF_TRANSCODE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "ladder.h"
#include "pipeline.h"
#include "playlist.h"
#include "probe.h"

/* The x264 speed preset, chosen by measurement (bench/README.md). */
#define TRANSCODE_PRESET PIPELINE_PRESET_VERYFAST

struct transcode_params {
    const char *input;  /* source file (borrowed) */
    const char *outdir; /* existing, empty directory that receives everything */
    int segment_seconds;
    int x264_threads;
    enum pipeline_preset preset;
    int timeout_s, stall_timeout_s;
    int timeout_per_second;      /* added to timeout_s per second of the probed source (0: none) */
    volatile sig_atomic_t *stop; /* may be NULL */
    int progress_fd;             /* "progress N\n" lines are written here; -1 for none */
};

struct transcode_result {
    struct media_info probe;
    struct rendition r[LADDER_MAX];
    size_t nr;
    struct playlist_stats stats[LADDER_MAX];
    char codecs[LADDER_MAX][64];
    double frame_rate[LADDER_MAX];
    int64_t iframe_bps[LADDER_MAX]; /* peak rate of the I-frame playlist (iframes.m3u8) */
    bool has_thumbnail;
};

/*
 * Probes p->input, runs the one pipeline into p->outdir, turns every playlist into a complete VOD
 * playlist, writes each rendition's I-frame playlist (iframes.m3u8), validates (each playlist
 * parses, every segment exists, each rendition's duration is within 1 s of the source) and writes
 * outdir/master.m3u8.  Initialises GStreamer in the calling process, so call it only in a child (or
 * a one-shot tool).  Returns VF_OK or the pipeline_run() codes (a source that fails probing or
 * validation is VF_ERR_MEDIATYPE); `reason` gets one line. The caller removes outdir on failure.
 */
enum vf_err transcode_run(const struct transcode_params *p, struct transcode_result *res,
                          char *reason, size_t len);

/* Rendition i of a result as the row that describes it (video.h). */
void transcode_result_rendition(const struct transcode_result *res, size_t i,
                                struct video_rendition *out);

/* The result as JSON text (malloc'd, caller frees); `staging` (may be NULL) is added as "staging".
 * NULL when out of memory. */
char *transcode_result_json(const struct transcode_result *res, const char *staging);

#endif
