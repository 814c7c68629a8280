/* upload.h -- the upload pipeline: stream a video to MEDIA_ROOT, check it, queue its transcode. */
#ifndef VF_UPLOAD_H
#define VF_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "error.h"
#include "media.h"

/*
 * An upload never lives in memory and never leaves anything half-written:
 *
 *   1. the file goes to MEDIA_ROOT/uploads/<32 random hex>.part (O_EXCL, 0640) as it
 *      arrives (a user-supplied name never reaches a path or a pipeline);
 *   2. its container is sniffed by magic bytes (the first bytes decide: a file that is
 *      not a known video container is refused as soon as they have arrived);
 *   3. it is fsync'ed, then probed by the program's upload_probe_fn (the transcoder's
 *      probe_file(), GStreamer in a forked child: it must hold a video stream of sane
 *      duration and size);
 *   4. it is renamed to uploads/<same hex>.<sniffed extension> and the directory fsync'ed;
 *   5. the video row (state uploaded) and its "transcode" job are created in one
 *      transaction (payload {"video_id":N,"source":"uploads/...","overwrite":false}, see
 *      lib/domain/transcode_payload.h).
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

/* How a program probes a stored file (gst-pipelines/probe.h: probe_file).  VF_ERR_MEDIATYPE or
 * VF_ERR_TIMEOUT with a one-line `reason` for a file that is not a usable video. */
typedef enum vf_err (*upload_probe_fn)(const char *path, int timeout_s, struct media_info *out,
                                       char *reason, size_t len);

/*
 * One upload in progress, fed by a transport (the FastCGI multipart form in fcgi/uploadform.c,
 * a local file in upload_add_file()):
 *   upload_new -> [upload_reserve] -> upload_file_open -> upload_file_write* ->
 *   upload_file_close -> upload_commit -> upload_free
 * Every call returns VF_OK or an error with *err (given to upload_new, borrowed for the
 * upload's life) saying what to answer.  upload_free() removes the file unless
 * upload_commit() succeeded; it accepts NULL.  upload_new returns NULL when out of memory.
 */
struct upload;
struct upload *upload_new(struct app *app, upload_probe_fn probe, struct upload_error *err);
void upload_free(struct upload *u);
/* Create MEDIA_ROOT/uploads and refuse (VF_ERR_NOSPACE, 507) when `incoming` bytes (-1:
 * unknown) would leave less than MIN_FREE_DISK_BYTES free. */
enum vf_err upload_reserve(struct upload *u, int64_t incoming);
/* Open the .part file (once: a second call is a field error "Upload exactly one file."). */
enum vf_err upload_file_open(struct upload *u);
/* Append file bytes; the first UPLOAD_SNIFF_BYTES decide the container (VF_ERR_MEDIATYPE). */
enum vf_err upload_file_write(struct upload *u, const void *data, size_t len);
/* The file is complete: refuse an empty or unrecognised one. */
enum vf_err upload_file_close(struct upload *u);
/* Sync, probe, rename, then the video row and its transcode job in one transaction.
 * *video_id and *job_id (either may be NULL) get the new ids. */
enum vf_err upload_commit(struct upload *u, const struct upload_meta *meta, int64_t *video_id,
                          int64_t *job_id);

/* Fill *err ({"<field>":[msg]} when field is set, else {"detail":msg}) and return `code`. */
enum vf_err upload_error_set(struct upload_error *err, enum vf_err code, const char *field,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Add a local file (videoflixctl video add): copy it into MEDIA_ROOT/uploads under a
 * generated name, then the same checks and transaction as an HTTP upload.  UPLOAD_MAX_BYTES
 * does not apply (it limits HTTP bodies); the free-disk floor does.  Same errors.
 */
enum vf_err upload_add_file(struct app *app, upload_probe_fn probe, const char *path,
                            const struct upload_meta *meta, int64_t *video_id, int64_t *job_id,
                            struct upload_error *err);

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
