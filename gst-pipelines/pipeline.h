/* pipeline.h -- the one GStreamer pipeline that turns a source into the HLS ladder and a thumbnail.
 */
#ifndef VF_PIPELINE_H
#define VF_PIPELINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "ladder.h"
#include "probe.h"

/* x264 speed presets we accept (the enum values of x264enc's speed-preset). */
enum pipeline_preset {
    PIPELINE_PRESET_ULTRAFAST = 1,
    PIPELINE_PRESET_SUPERFAST = 2,
    PIPELINE_PRESET_VERYFAST = 3,
    PIPELINE_PRESET_FASTER = 4,
    PIPELINE_PRESET_FAST = 5,
    PIPELINE_PRESET_MEDIUM = 6,
};

struct pipeline_opts {
    const char *input;  /* source file (borrowed) */
    const char *outdir; /* existing directory: <name>/index.m3u8 + NNN.ts, thumbnail.jpg */
    const struct media_info *probe; /* from probe_discover() on the same file */
    const struct rendition *r;      /* ladder_plan() result */
    size_t nr;
    int segment_seconds;
    int x264_threads; /* per encoder; 0 = x264's own choice */
    enum pipeline_preset preset;
    int timeout_s;       /* wall-clock limit; 0 = none */
    int stall_timeout_s; /* no-progress limit; 0 = none */
    /* Called from the calling thread with 0..99 whenever the percentage changes; may be NULL. */
    void (*progress)(void *ctx, int percent);
    void *ctx;
    volatile sig_atomic_t *stop; /* set (by a signal handler) to abort; may be NULL */
};

struct pipeline_output {
    char codecs[LADDER_MAX][64];   /* per rendition: "avc1.64001f,mp4a.40.2" */
    double frame_rate[LADDER_MAX]; /* per rendition, frames per second as encoded (> 0) */
    bool has_thumbnail;            /* outdir/thumbnail.jpg was written */
};

/*
 * Runs the pipeline to EOS.  GStreamer must be initialised (a transcoder child).  The caller
 * validates and fixes up the playlists afterwards (hlssink2 writes live-style playlists).
 * Returns VF_OK, VF_ERR_MEDIATYPE (the source cannot be decoded: permanent), VF_ERR_TIMEOUT
 * (wall-clock or no-progress limit), VF_ERR_IO (cannot write output), VF_ERR_TEMPFAIL (stopped),
 * VF_ERR_INTERNAL (missing element, bug); `reason` gets one line.
 */
enum vf_err pipeline_run(const struct pipeline_opts *o, struct pipeline_output *out, char *reason,
                         size_t len);

#endif
