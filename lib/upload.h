/* upload.h -- the upload pipeline: stream a video to MEDIA_ROOT, check it, queue its transcode. */
#ifndef VF_UPLOAD_H
#define VF_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "error.h"
#include "http.h"

/*
 * An upload never lives in memory and never leaves anything half-written:
 *
 *   1. the file goes to MEDIA_ROOT/uploads/<32 random hex>.part (O_EXCL, 0640) as it
 *      arrives (a user-supplied name never reaches a path or a pipeline);
 *   2. its container is sniffed by magic bytes (the first bytes decide: a file that is
 *      not a known video container is refused as soon as they have arrived);
 *   3. it is fsync'ed, then probed (probe_file() in a forked child: it must hold a video
 *      stream of sane duration and size);
 *   4. it is renamed to uploads/<same hex>.<sniffed extension> and the directory fsync'ed;
 *   5. the video row (state uploaded) and its "transcode" job are created in one
 *      transaction (payload {"video_id":N,"source":"uploads/...","overwrite":false}, see
 *      gst-pipelines/transcode_job.h).
 *
 * Any failure removes the file; a process killed mid-upload leaves uploads/<hex>.part, which
 * the next upload removes once it is UPLOAD_STALE_PART_S old.  The limits: UPLOAD_MAX_BYTES for an
 * HTTP body (413) and MIN_FREE_DISK_BYTES of free space left after the upload (507).
 */

#define UPLOAD_TITLE_MAX       255
#define UPLOAD_CATEGORY_MAX    100
#define UPLOAD_DESCRIPTION_MAX 4000
#define UPLOAD_PROBE_TIMEOUT   60         /* seconds */
#define UPLOAD_STALE_PART_S    (6 * 3600) /* a *.part file older than this is a crash leftover */

/* Why an upload was refused: a field error ({"<field>":["msg"]}, 400) when `field` is set,
 * otherwise a {"detail":"msg"} with the status of the returned error. */
struct upload_error {
    char field[32];
    char msg[256];
};

/* The metadata of a new video.  Borrowed strings; description may be NULL. */
struct upload_meta {
    const char *title;
    const char *description;
    const char *category;
};

/*
 * Receive a multipart/form-data body through req->body_read: text fields "title",
 * "category" and "description" (any order; other fields are ignored) and exactly one
 * file part "file".  On success *video_id and *job_id (either may be NULL) get the new
 * ids.  Errors: VF_ERR_INVALID (400, malformed body or field errors), VF_ERR_TOOBIG (413),
 * VF_ERR_MEDIATYPE (415: not multipart, or not a video), VF_ERR_NOSPACE (507),
 * VF_ERR_BUSY (503), VF_ERR_IO/VF_ERR_DB/VF_ERR_INTERNAL (500); *err says what to answer.
 */
enum vf_err upload_receive(struct app *app, struct http_request *req, int64_t *video_id,
                           int64_t *job_id, struct upload_error *err);

/*
 * Add a local file (videoflixctl video add): copy it into MEDIA_ROOT/uploads under a
 * generated name, then the same checks and transaction as an HTTP upload.  UPLOAD_MAX_BYTES
 * does not apply (it limits HTTP bodies); the free-disk floor does.  Same errors.
 */
enum vf_err upload_add_file(struct app *app, const char *path, const struct upload_meta *meta,
                            int64_t *video_id, int64_t *job_id, struct upload_error *err);

/*
 * Validate the metadata of a new or edited video: title 1..255 characters and category
 * 1..100, neither blank; description 0..4000.  Valid UTF-8 without control characters
 * (description may hold newlines and tabs).  A NULL field is "required" when
 * check_required, else skipped (partial edits).  Returns false and fills *err.
 */
bool upload_meta_valid(const struct upload_meta *meta, bool check_required,
                       struct upload_error *err);

/* The file extension for a container recognised from its first `n` bytes ("mp4", "mov",
 * "mkv", "webm", "avi", "ts", "m2ts", "mpg", "ogv", "flv", "wmv"), or NULL.  Static
 * string.  UPLOAD_SNIFF_BYTES are enough for every format; fewer may give NULL. */
#define UPLOAD_SNIFF_BYTES 512
const char *upload_sniff(const unsigned char *head, size_t n);

/* Free bytes for unprivileged users on the filesystem holding `dir`; -1 on error. */
int64_t upload_free_bytes(const char *dir);

#endif
