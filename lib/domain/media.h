/* media.h -- the layout of MEDIA_ROOT and what a probe learns of a media file. */
#ifndef VF_MEDIA_H
#define VF_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * MEDIA_ROOT holds four directories, and nothing else of ours builds their paths:
 *   uploads/<32 hex>.<ext>     sources as uploaded (never served)
 *   staging/<id>.<random>/     a transcode's output until it is published (never served)
 *   hls/<id>/<res>/...         published renditions (served after the cookie or signature check)
 *   thumbnails/<id>.jpg        public thumbnails (served by the web server)
 */
enum media_dir { MEDIA_UPLOADS, MEDIA_STAGING, MEDIA_HLS, MEDIA_THUMBNAILS };

/* What a probe found in a media file (gst-pipelines/probe.c fills it). */
struct media_info {
    double duration;   /* seconds */
    int width, height; /* display size: width already corrected for a non-square pixel aspect */
    double fps;        /* 0 when the container does not say */
    bool has_audio;
    bool has_video;
};

/* The directory's name below MEDIA_ROOT ("uploads", "staging", "hls", "thumbnails"). */
const char *media_dir_name(enum media_dir d);

/* Each writes a path into buf and returns its length, or -1 when `len` is too small:
 *   media_dir_path        <root>/<dir>
 *   media_hls_path        <root>/hls/<id>
 *   media_thumbnail_path  <root>/thumbnails/<id>.jpg
 *   media_thumbnail_url   <public_url>/media/thumbnails/<id>.jpg (what clients fetch) */
int media_dir_path(const char *root, enum media_dir d, char *buf, size_t len);
int media_hls_path(const char *root, int64_t id, char *buf, size_t len);
int media_thumbnail_path(const char *root, int64_t id, char *buf, size_t len);
int media_thumbnail_url(const char *public_url, int64_t id, char *buf, size_t len);

#endif
