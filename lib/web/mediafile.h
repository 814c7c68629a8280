/* mediafile.h -- the HLS path allow-list and safe opening of media files under MEDIA_ROOT. */
#ifndef VF_MEDIAFILE_H
#define VF_MEDIAFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "error.h"

enum mediafile_kind { MEDIAFILE_PLAYLIST, MEDIAFILE_SEGMENT, MEDIAFILE_MASTER };

/* The renditions of the ladder, lowest first; index = enum value. */
enum mediafile_res { MEDIAFILE_480P = 0, MEDIAFILE_720P, MEDIAFILE_1080P, MEDIAFILE_NRES };

/*
 * A validated request for one HLS file: hls/<video_id>/<res>/<name>
 * (or hls/<video_id>/master.m3u8).  Only ever filled by mediafile_parse(), so every
 * component is known to match the allow-list.
 */
struct mediafile_path {
    enum mediafile_kind kind;
    int64_t video_id;       /* > 0 */
    enum mediafile_res res; /* unused for MEDIAFILE_MASTER */
    char name[24];          /* "index.m3u8", "iframes.m3u8", "<digits>.ts" or "master.m3u8" */
};

/*
 * Match a raw (still percent-encoded) request path against the allow-list
 *     /api/video/<id>/(480p|720p|1080p)/(index|iframes).m3u8
 *     /api/video/<id>/(480p|720p|1080p)/<digits>.ts[/]
 *     /api/video/<id>/master.m3u8
 * after exactly one percent-decoding of the whole path (so "%2e%2e%2f", a dot-dot segment, is
 * refused, "%252e" stays "%2e" and is refused, "%00" is refused).  <id> is a decimal
 * without a leading zero; <digits> are 1..9 digits.  Returns VF_OK or VF_ERR_NOTFOUND.
 */
enum vf_err mediafile_parse(const char *raw_path, struct mediafile_path *out);

/* "480p", "720p", "1080p" (NULL for an invalid value); the rendition height for a
 * name's ladder step (480, 720, 1080); the ladder step that holds a rendition of
 * `height` (<= 480 -> 480p, <= 720 -> 720p, else 1080p). */
const char *mediafile_res_name(enum mediafile_res r);
int mediafile_res_height(enum mediafile_res r);
enum mediafile_res mediafile_res_for_height(int height);

/* The ladder step of a stored rendition: the one its name names, else (a row older than the
 * name column, whose directory the transcoder named by the short side) the step of
 * min(width, height). */
enum mediafile_res mediafile_res_of(const char *name, int width, int height);

/*
 * Open the file a validated path names, under `media_root` (trusted configuration;
 * every component below it is opened with openat(..., O_NOFOLLOW | O_CLOEXEC), so a
 * symlink anywhere in hls/<id>/<res>/<name> is refused, and only a regular file is
 * accepted).  When the requested rendition directory does not exist (a resolution
 * above the source), the highest existing rendition is used instead; `*used`
 * (may be NULL) gets the rendition actually opened.  On success *fd is an open
 * read-only descriptor the caller owns (close it) and *st its fstat().
 * VF_ERR_NOTFOUND for anything missing, not regular or a symlink; VF_ERR_IO otherwise
 * (its cause, errno, logged here: the caller only answers 500).
 */
enum vf_err mediafile_open(const char *media_root, const struct mediafile_path *p, int *fd,
                           struct stat *st, enum mediafile_res *used);

/* The path of the file relative to MEDIA_ROOT's hls/ directory, e.g. "7/480p/000.ts"
 * or "7/master.m3u8", for rendition `res` (the one mediafile_open() used).  Returns the
 * length, or -1 when `len` is too small. */
int mediafile_relpath(const struct mediafile_path *p, enum mediafile_res res, char *buf,
                      size_t len);

/* Content-Type for the kind: application/vnd.apple.mpegurl or video/MP2T. */
const char *mediafile_content_type(enum mediafile_kind kind);

/* True for a playlist line that is a bare segment name (<digits>.ts). */
bool mediafile_is_segment_name(const char *s, size_t len);

#endif
