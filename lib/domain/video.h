/* video.h -- the videos table (schema 004_catalogue): one row per uploaded video. */
#ifndef VF_VIDEO_H
#define VF_VIDEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "error.h"

/*
 * Life cycle: uploaded -> processing -> ready | failed (a re-transcode goes back to
 * processing).  Only ready videos are listed and streamed.  Every write through this
 * module (and any other write to videos/video_renditions: the schema bumps it with
 * triggers) increments the catalogue version in the same transaction, which is what
 * the list cache and its ETag are keyed on.
 *
 * Media layout under MEDIA_ROOT: uploads/<generated>.<ext> (sources),
 * hls/<id>/<480p|720p|1080p>/index.m3u8 + NNN.ts, hls/<id>/master.m3u8,
 * thumbnails/<id>.jpg.
 */
enum video_state { VIDEO_UPLOADED, VIDEO_PROCESSING, VIDEO_READY, VIDEO_FAILED };

#define VIDEO_MAX_RENDITIONS 3

/*
 * One rendition as it was measured when published (schema 004_catalogue, 006_renditions): what
 * the master playlist tells players about it.  `name` is its ladder rung and directory,
 * hls/<id>/<name>/ ("480p": 480 pixels on the short side, so a portrait 480p is 480 wide); ""
 * only in rows older than the column.
 */
struct video_rendition {
    int height, width;
    int64_t bandwidth, avg_bandwidth; /* bits per second (peak, average) */
    char codecs[64];                  /* RFC 6381, e.g. "avc1.64001f,mp4a.40.2" */
    char name[8];                     /* [0-9a-z]*, e.g. "480p" */
    double frame_rate;                /* frames per second, 0 = unknown */
    int64_t iframe_bandwidth;         /* peak of its I-frame playlist, 0 = it has none */
};

struct video {
    int64_t id;
    char *title, *description, *category, *source_path, *error; /* never NULL ("" when unset) */
    int64_t created_at, updated_at;                             /* microseconds */
    enum video_state state;
    double duration;   /* seconds */
    int width, height; /* source */
    bool has_thumbnail;
    struct video_rendition renditions[VIDEO_MAX_RENDITIONS];
    size_t nrenditions; /* ascending height */
};

/* Load one video with its renditions.  VF_ERR_NOTFOUND when there is no such row.
 * The caller frees *out with video_free(); *out is NULL on error. */
enum vf_err video_get(struct db *db, int64_t id, struct video **out);
/* NULL-safe. */
void video_free(struct video *v);

/* Insert a video in state uploaded; source_path is relative to MEDIA_ROOT
 * (e.g. "uploads/<random>.mp4"), duration the source's as probed (seconds, 0 unknown: a
 * re-transcode sizes its limits by it).  title and category must be non-empty
 * (VF_ERR_INVALID otherwise; length limits are the caller's validation).  `*id` (may
 * be NULL) gets the new id.  Joins the caller's open transaction if there is one. */
enum vf_err video_create(struct db *db, const char *title, const char *description,
                         const char *category, const char *source_path, double duration,
                         int64_t *id);

/* State changes.  VF_ERR_NOTFOUND when the video does not exist.  Each joins the
 * caller's open transaction if there is one, else runs in its own.  A ready video stays
 * ready through a re-transcode: set_processing leaves its state, set_failed only records
 * why (error) and it keeps playing its old renditions; set_ready publishes the new ones. */
enum vf_err video_set_processing(struct db *db, int64_t id);
/* Mark ready: source duration/size, the renditions that exist (n <= 3, any order; stored
 * ascending by height, replacing earlier ones; names of [0-9a-z], distinct when set, frame
 * rates 0..1000) and whether thumbnails/<id>.jpg exists.  VF_ERR_INVALID for anything else. */
enum vf_err video_set_ready(struct db *db, int64_t id, double duration, int width, int height,
                            const struct video_rendition *r, size_t n, bool has_thumbnail);
/* Mark failed with a one-line reason (shown to staff, never to viewers). */
enum vf_err video_set_failed(struct db *db, int64_t id, const char *reason);

/* Every video in every state, newest first (ties: higher id first), renditions
 * included.  *out is a malloc'd array of *n pointers; free with video_list_free(). */
enum vf_err video_list_all(struct db *db, struct video ***out, size_t *n);
/* NULL-safe; frees the array and every element. */
void video_list_free(struct video **list, size_t n);

/* Update the editable metadata; a NULL argument keeps the current value, "" is refused
 * for title and category (VF_ERR_INVALID).  VF_ERR_NOTFOUND when there is no such row. */
enum vf_err video_update_meta(struct db *db, int64_t id, const char *title, const char *description,
                              const char *category);

/* Delete the row and its renditions (files are the caller's: see mediafile.h).
 * VF_ERR_NOTFOUND when there is no such row. */
enum vf_err video_delete(struct db *db, int64_t id);

/* The catalogue version: a counter bumped in the same transaction as every write to
 * the videos (one cheap indexed read). */
enum vf_err video_catalogue_version(struct db *db, int64_t *version);

/* "uploaded", "processing", "ready", "failed"; video_state_parse returns -1 for others. */
const char *video_state_name(enum video_state s);
int video_state_parse(const char *s);

#endif
