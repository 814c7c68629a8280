/* uploadform.h -- the HTTP half of an upload: a multipart/form-data body fed to lib/domain/upload.
 */
#ifndef VF_UPLOADFORM_H
#define VF_UPLOADFORM_H

#include <stdint.h>

#include "app.h"
#include "error.h"
#include "http.h"
#include "upload.h"

/*
 * Receive a multipart/form-data body through req->body_read: text fields "title",
 * "category" and "description" (any order; other fields are ignored; each checked as it
 * ends) and exactly one file part "file", streamed into an upload (lib/domain/upload.h)
 * and probed with `probe`.  On success *video_id and *job_id (either may be NULL) get the
 * new ids.  Errors: VF_ERR_INVALID (400, malformed body or field errors), VF_ERR_TOOBIG
 * (413), VF_ERR_MEDIATYPE (415: not multipart, or not a video), VF_ERR_NOSPACE (507),
 * VF_ERR_BUSY (503), VF_ERR_IO/VF_ERR_DB/VF_ERR_INTERNAL (500); *err says what to answer.
 */
enum vf_err uploadform_receive(struct app *app, struct http_request *req, upload_probe_fn probe,
                               int64_t *video_id, int64_t *job_id, struct upload_error *err);

#endif
