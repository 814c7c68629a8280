/* uploadform.c -- the HTTP half of an upload: multipart parts to an upload and its metadata. */
#include "autoconf.h"

#include "uploadform.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

#define READ_CHUNK (256u * 1024u)

/* Text fields are bounded in bytes: 4 per character is the most UTF-8 needs. */
struct field_buf {
    const char *name;
    char *buf;
    size_t len, cap; /* cap excludes the NUL */
    size_t max_chars;
    bool seen;
};

/* The state of one form: the upload its file part feeds and the text fields seen so far. */
struct form {
    struct upload *up;
    struct upload_error *err;
    bool have_file;
    enum { CUR_IGNORE, CUR_FILE, CUR_TEXT } cur;
    struct field_buf *text;
    struct field_buf title, description, category;
    char titlebuf[UPLOAD_TITLE_MAX * 4 + 1];
    char descbuf[UPLOAD_DESCRIPTION_MAX * 4 + 1];
    char catbuf[UPLOAD_CATEGORY_MAX * 4 + 1];
    char chunk[READ_CHUNK];
};

static enum vf_err
on_part_begin(void *ctx, const struct multipart_part *part)
{
    struct form *f = ctx;
    f->cur = CUR_IGNORE;
    if (strcmp(part->name, "file") == 0) {
        if (f->have_file)
            return upload_error_set(f->err, VF_ERR_INVALID, "file", "Upload exactly one file.");
        if (part->filename == NULL)
            return upload_error_set(f->err, VF_ERR_INVALID, "file",
                                    "The submitted data was not a file. Check the encoding type "
                                    "on the form.");
        f->have_file = true;
        f->cur = CUR_FILE;
        return upload_file_open(f->up);
    }
    struct field_buf *t = NULL;
    if (strcmp(part->name, "title") == 0)
        t = &f->title;
    else if (strcmp(part->name, "description") == 0)
        t = &f->description;
    else if (strcmp(part->name, "category") == 0)
        t = &f->category;
    if (t == NULL)
        return VF_OK; /* unknown fields are ignored */
    if (t->seen)
        return upload_error_set(f->err, VF_ERR_INVALID, part->name, "This field was sent twice.");
    t->seen = true;
    t->len = 0;
    f->text = t;
    f->cur = CUR_TEXT;
    return VF_OK;
}

static enum vf_err
on_part_data(void *ctx, const char *data, size_t len)
{
    struct form *f = ctx;
    if (f->cur == CUR_FILE)
        return upload_file_write(f->up, data, len);
    if (f->cur == CUR_TEXT) {
        struct field_buf *t = f->text;
        if (len > t->cap - t->len)
            return upload_error_set(f->err, VF_ERR_INVALID, t->name,
                                    "Ensure this field has no more than %zu characters.",
                                    t->max_chars);
        memcpy(t->buf + t->len, data, len);
        t->len += len;
    }
    return VF_OK;
}

static enum vf_err
on_part_end(void *ctx)
{
    struct form *f = ctx;
    enum vf_err e = VF_OK;
    if (f->cur == CUR_FILE)
        e = upload_file_close(f->up);
    else if (f->cur == CUR_TEXT)
        f->text->buf[f->text->len] = '\0';
    f->cur = CUR_IGNORE;
    return e;
}

static const struct multipart_callbacks form_callbacks = { on_part_begin, on_part_data,
                                                           on_part_end };

/* Same bytes as a C string?  A text field holding a NUL is refused. */
static bool
field_clean(const struct field_buf *t)
{
    return !t->seen || strlen(t->buf) == t->len;
}

static void
field_init(struct field_buf *t, const char *name, char *buf, size_t size, size_t max_chars)
{
    *t = (struct field_buf){ name, buf, 0, size - 1, max_chars, false };
}

/* Parse the whole body into the form; VF_OK when it was well-formed multipart. */
static enum vf_err
read_body(struct form *f, struct http_request *req, const char *boundary, uint64_t limit)
{
    struct multipart *mp = multipart_new(boundary, &form_callbacks, f);
    uint64_t total = 0;
    enum vf_err e = VF_OK;
    if (mp == NULL)
        return upload_error_set(f->err, VF_ERR_NOMEM, NULL, "Out of memory.");
    for (;;) {
        ssize_t n = req->body_read(req->body_ctx, f->chunk, sizeof(f->chunk));
        if (n < 0) {
            e = upload_error_set(f->err, VF_ERR_INVALID, NULL, "Could not read the request body.");
            goto out;
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (total > limit) {
            e = upload_error_set(f->err, VF_ERR_TOOBIG, NULL,
                                 "Upload too large: the limit is %llu bytes.",
                                 (unsigned long long)limit);
            goto out;
        }
        e = multipart_feed(mp, f->chunk, (size_t)n);
        if (e != VF_OK)
            break;
    }
    if (e == VF_OK)
        e = multipart_finish(mp);
    /* a callback already said why; otherwise the body itself is malformed */
    if (e != VF_OK && f->err->msg[0] == '\0')
        upload_error_set(f->err, e, NULL, "Multipart form parse error: %s.", multipart_error(mp));
out:
    multipart_free(mp);
    return e;
}

enum vf_err
uploadform_receive(struct app *app, struct http_request *req, upload_probe_fn probe,
                   int64_t *video_id, int64_t *job_id, struct upload_error *err)
{
    char boundary[MULTIPART_MAX_BOUNDARY + 1];
    uint64_t limit = app->cfg->upload_max_bytes;
    struct form *f = NULL;
    enum vf_err e;

    memset(err, 0, sizeof(*err));
    e = multipart_boundary(http_header(req, "content-type"), boundary, sizeof(boundary));
    if (e == VF_ERR_MEDIATYPE)
        return upload_error_set(err, e, NULL, "Upload with Content-Type multipart/form-data.");
    if (e != VF_OK)
        return upload_error_set(err, VF_ERR_INVALID, NULL,
                                "Multipart form parse error: invalid boundary.");
    if (req->content_length > 0 && (uint64_t)req->content_length > limit)
        return upload_error_set(err, VF_ERR_TOOBIG, NULL,
                                "Upload too large: the limit is %llu bytes.",
                                (unsigned long long)limit);
    if (req->body_read == NULL)
        return upload_error_set(err, VF_ERR_INVALID, NULL, "Empty request body.");

    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return upload_error_set(err, VF_ERR_NOMEM, NULL, "Out of memory.");
    f->err = err;
    f->up = upload_new(app, probe, err);
    if (f->up == NULL) {
        free(f);
        return VF_ERR_NOMEM;
    }
    field_init(&f->title, "title", f->titlebuf, sizeof(f->titlebuf), UPLOAD_TITLE_MAX);
    field_init(&f->description, "description", f->descbuf, sizeof(f->descbuf),
               UPLOAD_DESCRIPTION_MAX);
    field_init(&f->category, "category", f->catbuf, sizeof(f->catbuf), UPLOAD_CATEGORY_MAX);

    /* The space check needs the directory: both before the body is read. */
    e = upload_reserve(f->up, req->content_length);
    if (e == VF_OK)
        e = read_body(f, req, boundary, limit);
    if (e == VF_OK && !f->have_file)
        e = upload_error_set(err, VF_ERR_INVALID, "file", "No file was submitted.");
    if (e == VF_OK &&
        (!field_clean(&f->title) || !field_clean(&f->category) || !field_clean(&f->description)))
        e = upload_error_set(err, VF_ERR_INVALID, NULL, "Text fields may not contain NUL bytes.");
    if (e == VF_OK) {
        struct upload_meta meta = {
            .title = f->title.seen ? f->titlebuf : NULL,
            .description = f->description.seen ? f->descbuf : NULL,
            .category = f->category.seen ? f->catbuf : NULL,
        };
        if (!upload_meta_valid(&meta, true, err))
            e = VF_ERR_INVALID;
        else
            e = upload_commit(f->up, &meta, video_id, job_id);
    }
    upload_free(f->up);
    free(f);
    return e;
}
