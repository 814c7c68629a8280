/* ladder.h -- the rendition table (480p/720p/1080p) and the size/GOP math, free of GStreamer. */
#ifndef VF_LADDER_H
#define VF_LADDER_H

#include <stddef.h>

#define LADDER_MAX        3   /* rows in ladder_rungs */
#define LADDER_AUDIO_KBPS 128 /* AAC-LC, encoded once and shared by every rendition */

/*
 * One row of the ladder.  `label` is the short side in pixels (the height of a
 * landscape video, the width of a portrait one) and names the directory
 * ("<label>p").  Rate control is capped CRF: x264 aims at `crf` quality but never
 * spends more than `maxrate_kbps` (VBV), so easy content costs few bits and hard
 * content stays streamable at the nominal `bitrate_kbps` class.
 */
struct ladder_rung {
    int label;
    int bitrate_kbps; /* nominal class of the rung (documentation, benchmark) */
    int maxrate_kbps; /* VBV cap */
    int crf;
    const char *profile; /* x264 output profile */
};

extern const struct ladder_rung ladder_rungs[LADDER_MAX];

/* A planned rendition for one source. */
struct rendition {
    char name[8]; /* "480p", "720p", "1080p" */
    int label;
    int width, height; /* even, aspect kept, never above the source */
    const struct ladder_rung *rung;
};

/*
 * Plans the renditions for a source of src_w x src_h display pixels into `out`
 * (ascending).  A rung is produced when its label is not above the source's short
 * side; a source smaller than the lowest rung still gets that one rung at its own
 * (even) size, never upscaled.  Returns the count (1..LADDER_MAX), or 0 when the
 * size is unusable (< 2 pixels on a side).
 */
size_t ladder_plan(int src_w, int src_h, struct rendition out[LADDER_MAX]);

/*
 * The one colorimetry of every rendition of a source src_h lines high, as a GStreamer caps
 * string (static): "bt709" when the source is more than 576 lines high, else "bt601" --
 * what GStreamer assumes for an untagged source of that size (and what HD and SD sources are
 * tagged with), so the common source is never converted.  Without it the scaler gives a
 * rendition of 576 lines or less (480p) GStreamer's SD default, BT.601, converting the pixels
 * of an HD source: one ladder in two colour spaces (HLS authoring: one colour space per
 * stream) and a lossy matrix conversion (about -0.04 SSIM at 480p in bench/README.md).
 */
const char *ladder_colorimetry(int src_h);

/* Frames between keyframes so that every segment starts on one: round(fps * seconds), at least 1,
 * at most 1000.  An unknown frame rate (<= 0) counts as 25 fps. */
int ladder_gop_frames(double fps, int segment_seconds);

/* The time of the thumbnail frame in seconds: 1 s, or 10 % of a video shorter than 10 s. */
double ladder_thumbnail_time(double duration);

#endif
