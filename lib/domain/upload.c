/* upload.c -- the upload pipeline: stream a video to MEDIA_ROOT, check it, queue its transcode. */
#include "autoconf.h"

#include "upload.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "log.h"
#include "media.h"
#include "transcode_payload.h"
#include "utf8.h"
#include "video.h"

#define READ_CHUNK  (256u * 1024u)
#define WRITE_CHUNK (256u * 1024u)

/* The state of one upload: its .part file until it is committed or discarded. */
struct upload {
    struct app *app;
    upload_probe_fn probe;
    struct upload_error *err;
    char dir[PATH_MAX - 64];  /* MEDIA_ROOT/uploads (room left for the name) */
    char name[33];            /* the generated name (hex) */
    char part_path[PATH_MAX]; /* dir/name.part */
    int fd;                   /* -1 until the file part starts */
    unsigned char head[UPLOAD_SNIFF_BYTES];
    size_t headlen;
    const char *ext; /* sniffed extension, NULL until known */
    char *buf;       /* READ_CHUNK bytes for reading the source file (upload_add_file) */
    char *wbuf;      /* WRITE_CHUNK bytes of file data not yet written (write_file) */
    size_t wlen;
    uint64_t file_bytes;
    bool committed;
};

enum vf_err
upload_error_set(struct upload_error *err, enum vf_err code, const char *field, const char *fmt,
                 ...)
{
    va_list ap;
    snprintf(err->field, sizeof(err->field), "%s", field != NULL ? field : "");
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

/* ------------------------------------------------------------------ sniffing */

static bool
at(const unsigned char *h, size_t n, size_t off, const char *magic, size_t mlen)
{
    return n >= off + mlen && memcmp(h + off, magic, mlen) == 0;
}

static bool
ts_sync(const unsigned char *h, size_t n, size_t first, size_t stride)
{
    /* MPEG-TS: a 0x47 sync byte at the start of every packet we can see (at least 2). */
    if (n < first + stride + 1)
        return false;
    for (size_t off = first; off < n; off += stride)
        if (h[off] != 0x47)
            return false;
    return true;
}

const char *
upload_sniff(const unsigned char *h, size_t n)
{
    if (h == NULL)
        return NULL;
    /* ISO base media (MP4, QuickTime, 3GP): a box size, then "ftyp" and the major brand. */
    if (at(h, n, 4, "ftyp", 4)) {
        if (n < 12)
            return NULL;
        return at(h, n, 8, "qt  ", 4) ? "mov" : "mp4";
    }
    /* Old QuickTime files start with another top-level atom. */
    if (at(h, n, 4, "moov", 4) || at(h, n, 4, "mdat", 4) || at(h, n, 4, "wide", 4) ||
        at(h, n, 4, "free", 4) || at(h, n, 4, "skip", 4) || at(h, n, 4, "pnot", 4))
        return "mov";
    /* Matroska/WebM: the EBML header; the DocType says which. */
    if (at(h, n, 0, "\x1a\x45\xdf\xa3", 4)) {
        size_t lim = n < 64 ? n : 64;
        for (size_t i = 4; i + 4 <= lim; i++)
            if (memcmp(h + i, "webm", 4) == 0)
                return "webm";
        return "mkv";
    }
    if (at(h, n, 0, "RIFF", 4) && at(h, n, 8, "AVI ", 4))
        return "avi";
    if (at(h, n, 0, "OggS", 4))
        return "ogv";
    if (at(h, n, 0, "FLV\x01", 4))
        return "flv";
    if (at(h, n, 0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11", 8))
        return "wmv";
    /* MPEG program stream: a pack header. */
    if (at(h, n, 0, "\x00\x00\x01\xba", 4))
        return "mpg";
    if (ts_sync(h, n, 0, 188))
        return "ts";
    if (ts_sync(h, n, 4, 192))
        return "m2ts";
    return NULL;
}

/* ---------------------------------------------------------------- validation */

/* Count UTF-8 characters; -1 when invalid or holding control characters (newlines and
 * tabs are allowed when `multiline`). */
static long
utf8_chars(const char *s, bool multiline)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    long n = 0;
    while (left > 0) {
        uint32_t cp;
        size_t len = utf8_decode(p, left, &cp);
        if (len == 0)
            return -1;
        if ((cp < 0x20 && !(multiline && (cp == '\n' || cp == '\t' || cp == '\r'))) || cp == 0x7f)
            return -1;
        p += len;
        left -= len;
        n++;
    }
    return n;
}

static bool
only_space(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

static bool
check_field(const char *name, const char *value, size_t max, bool required, bool nonblank,
            bool multiline, struct upload_error *err)
{
    if (value == NULL) {
        if (required)
            upload_error_set(err, VF_ERR_INVALID, name, "This field is required.");
        return !required;
    }
    long n = utf8_chars(value, multiline);
    if (n < 0) {
        upload_error_set(err, VF_ERR_INVALID, name,
                         "Enter valid text (UTF-8, no control characters).");
        return false;
    }
    if (nonblank && (n == 0 || only_space(value))) {
        upload_error_set(err, VF_ERR_INVALID, name, "This field may not be blank.");
        return false;
    }
    if ((size_t)n > max) {
        upload_error_set(err, VF_ERR_INVALID, name,
                         "Ensure this field has no more than %zu characters.", max);
        return false;
    }
    return true;
}

bool
upload_meta_valid(const struct upload_meta *meta, bool check_required, struct upload_error *err)
{
    return check_field("title", meta->title, UPLOAD_TITLE_MAX, check_required, true, false, err) &&
           check_field("category", meta->category, UPLOAD_CATEGORY_MAX, check_required, true, false,
                       err) &&
           check_field("description", meta->description, UPLOAD_DESCRIPTION_MAX, false, false, true,
                       err);
}

/* ------------------------------------------------------------------ files */

int64_t
upload_free_bytes(const char *dir)
{
    struct statvfs st;
    if (statvfs(dir, &st) != 0)
        return -1;
    return (int64_t)st.f_bavail * (int64_t)st.f_frsize;
}

/* MEDIA_ROOT (public mode) and its uploads/ (0700: the web server never reads a source). */
static bool
mkdir_uploads(const char *root, const char *dir)
{
    return media_mkdir(root, MEDIA_HLS) == 0 && media_mkdir(dir, MEDIA_UPLOADS) == 0;
}

/* Remove *.part files older than UPLOAD_STALE_PART_S: the leftovers of a process killed
 * mid-upload (a live upload writes its file within minutes: the web server has buffered
 * the whole body before the application reads it). */
static void
sweep_stale_parts(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    int64_t cutoff = clock_now() - UPLOAD_STALE_PART_S;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        struct stat st;
        if (n < 6 || strcmp(e->d_name + n - 5, ".part") != 0)
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            (int64_t)st.st_mtime >= cutoff)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            log_warn("upload: removed a stale partial upload %s", e->d_name);
    }
    closedir(d);
}

/* Create MEDIA_ROOT/uploads if needed, pick a fresh name and open dir/name.part. */
static enum vf_err
open_part(struct upload *u)
{
    const char *root = u->app->cfg->media_root;
    if (media_dir_path(root, MEDIA_UPLOADS, u->dir, sizeof(u->dir)) < 0)
        return upload_error_set(u->err, VF_ERR_INTERNAL, NULL, "MEDIA_ROOT is too long.");
    if (!mkdir_uploads(root, u->dir)) {
        log_error("upload: cannot create %s: %s", u->dir, strerror(errno));
        return upload_error_set(u->err, VF_ERR_IO, NULL, "Cannot store uploads.");
    }
    sweep_stale_parts(u->dir);
    for (int tries = 0; tries < 4; tries++) {
        unsigned char rnd[16];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
            return upload_error_set(u->err, VF_ERR_INTERNAL, NULL, "No randomness.");
        for (size_t i = 0; i < sizeof(rnd); i++)
            snprintf(u->name + 2 * i, 3, "%02x", rnd[i]);
        snprintf(u->part_path, sizeof(u->part_path), "%s/%s.part", u->dir, u->name);
        u->fd = open(u->part_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (u->fd >= 0)
            return VF_OK;
        if (errno != EEXIST)
            break;
    }
    log_error("upload: cannot create %s: %s", u->part_path, strerror(errno));
    if (errno == ENOSPC || errno == EDQUOT)
        return upload_error_set(u->err, VF_ERR_NOSPACE, NULL,
                                "Not enough free disk space for uploads.");
    return upload_error_set(u->err, VF_ERR_IO, NULL, "Cannot store uploads.");
}

/* Refuse when storing `incoming` more bytes would leave less than MIN_FREE_DISK_BYTES. */
static enum vf_err
check_space(struct upload *u, int64_t incoming)
{
    int64_t free_bytes = upload_free_bytes(u->dir);
    if (free_bytes < 0) {
        log_error("upload: statvfs %s: %s", u->dir, strerror(errno));
        return upload_error_set(u->err, VF_ERR_IO, NULL, "Cannot store uploads.");
    }
    if (incoming < 0)
        incoming = 0;
    if (free_bytes - incoming < u->app->cfg->min_free_disk_bytes) {
        log_warn("upload refused: %lld bytes free, %lld incoming, floor %lld",
                 (long long)free_bytes, (long long)incoming,
                 (long long)u->app->cfg->min_free_disk_bytes);
        return upload_error_set(u->err, VF_ERR_NOSPACE, NULL,
                                "Not enough free disk space to store this upload.");
    }
    return VF_OK;
}

static enum vf_err
write_all(struct upload *u, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(u->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            log_error("upload: write %s: %s", u->part_path, strerror(errno));
            if (errno == ENOSPC || errno == EDQUOT)
                return upload_error_set(u->err, VF_ERR_NOSPACE, NULL,
                                        "Not enough free disk space to store this upload.");
            return upload_error_set(u->err, VF_ERR_IO, NULL, "Cannot store the upload.");
        }
        p += w;
        len -= (size_t)w;
    }
    return VF_OK;
}

/*
 * Append file bytes through the write buffer.  The multipart parser hands over the file in
 * runs that end at each CR byte of the data (where a boundary might begin): about 256 bytes
 * each in a video.  Written one by one, they cost a write(2) each -- about 4 million per GiB,
 * which made an upload CPU-bound at a fraction of the disk's speed.  Runs are gathered into
 * WRITE_CHUNK-sized writes; one at least that long, with nothing gathered, goes straight on.
 */
static enum vf_err
flush_file(struct upload *u)
{
    enum vf_err e = u->wlen > 0 ? write_all(u, u->wbuf, u->wlen) : VF_OK;
    u->wlen = 0;
    return e;
}

static enum vf_err
write_file(struct upload *u, const unsigned char *data, size_t len)
{
    if (len <= WRITE_CHUNK - u->wlen) {
        memcpy(u->wbuf + u->wlen, data, len);
        u->wlen += len;
        return u->wlen == WRITE_CHUNK ? flush_file(u) : VF_OK;
    }
    enum vf_err e = flush_file(u);
    if (e != VF_OK)
        return e;
    if (len >= WRITE_CHUNK)
        return write_all(u, data, len);
    memcpy(u->wbuf, data, len);
    u->wlen = len;
    return VF_OK;
}

/* Feed file bytes: the first UPLOAD_SNIFF_BYTES decide the container. */
static enum vf_err
file_bytes(struct upload *u, const void *bytes, size_t len)
{
    const unsigned char *data = bytes;
    if (u->ext == NULL && u->headlen < sizeof(u->head)) {
        size_t n = sizeof(u->head) - u->headlen;
        if (n > len)
            n = len;
        memcpy(u->head + u->headlen, data, n);
        u->headlen += n;
        if (u->headlen == sizeof(u->head)) {
            u->ext = upload_sniff(u->head, u->headlen);
            if (u->ext == NULL)
                return upload_error_set(u->err, VF_ERR_MEDIATYPE, NULL,
                                        "The uploaded file is not a supported video container.");
        }
    }
    u->file_bytes += len;
    return write_file(u, data, len);
}

static enum vf_err
file_done(struct upload *u)
{
    enum vf_err e = flush_file(u);
    if (e != VF_OK)
        return e;
    if (u->file_bytes == 0)
        return upload_error_set(u->err, VF_ERR_INVALID, "file", "The submitted file is empty.");
    if (u->ext == NULL)
        u->ext = upload_sniff(u->head, u->headlen);
    if (u->ext == NULL)
        return upload_error_set(u->err, VF_ERR_MEDIATYPE, NULL,
                                "The uploaded file is not a supported video container.");
    return VF_OK;
}

static void
discard_part(struct upload *u)
{
    if (u->fd >= 0) {
        close(u->fd);
        u->fd = -1;
    }
    u->wlen = 0;
    if (u->part_path[0] != '\0' && unlink(u->part_path) != 0 && errno != ENOENT)
        log_error("upload: cannot remove %s: %s", u->part_path, strerror(errno));
    u->part_path[0] = '\0';
}

static void
fsync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0)
            log_warn("upload: fsync %s: %s", dir, strerror(errno));
        close(dfd);
    }
}

/*
 * The common tail of both paths: the .part file is complete and sniffed.  Sync, probe,
 * rename, then one transaction for the row and the job.  Removes the file on failure.
 */
static enum vf_err
publish(struct upload *u, const struct upload_meta *meta, int64_t *video_id, int64_t *job_id)
{
    enum vf_err e;
    char final_path[PATH_MAX], rel[64], reason[200] = "";
    struct media_info info;

    if ((e = flush_file(u)) != VF_OK) { /* upload_file_close did, unless it was not called */
        discard_part(u);
        return e;
    }
    if (fsync(u->fd) != 0) {
        int saved = errno;
        log_error("upload: fsync %s: %s", u->part_path, strerror(saved));
        discard_part(u);
        return upload_error_set(u->err, saved == ENOSPC ? VF_ERR_NOSPACE : VF_ERR_IO, NULL,
                                "Cannot store the upload.");
    }
    close(u->fd);
    u->fd = -1;

    memset(&info, 0, sizeof(info));
    e = u->probe(u->part_path, UPLOAD_PROBE_TIMEOUT, &info, reason, sizeof(reason));
    if (e != VF_OK) {
        discard_part(u);
        if (e == VF_ERR_MEDIATYPE || e == VF_ERR_TIMEOUT) {
            log_info("upload refused by the probe: %s", reason);
            /* GStreamer's messages may name the file: a path never goes to a client. */
            bool names_path = strstr(reason, u->dir) != NULL || strstr(reason, ".part") != NULL;
            return upload_error_set(
                u->err, VF_ERR_MEDIATYPE, NULL, "The uploaded file is not a usable video: %s.",
                reason[0] != '\0' && !names_path ? reason : "it could not be decoded");
        }
        log_error("upload: probe failed (%s): %s", vf_strerror(e), reason);
        return upload_error_set(u->err, VF_ERR_INTERNAL, NULL, "The upload could not be checked.");
    }

    snprintf(rel, sizeof(rel), "uploads/%s.%s", u->name, u->ext);
    snprintf(final_path, sizeof(final_path), "%s/%s.%s", u->dir, u->name, u->ext);
    if (rename(u->part_path, final_path) != 0) {
        log_error("upload: rename %s: %s", u->part_path, strerror(errno));
        discard_part(u);
        return upload_error_set(u->err, VF_ERR_IO, NULL, "Cannot store the upload.");
    }
    u->part_path[0] = '\0';
    fsync_dir(u->dir);

    struct db *db = u->app->db;
    int64_t vid = 0, jid = 0;
    e = db_begin(db);
    if (e == VF_OK)
        e = video_create(db, meta->title, meta->description != NULL ? meta->description : "",
                         meta->category, rel, info.duration, &vid);
    if (e == VF_OK)
        e = transcode_payload_enqueue(db, vid, rel, false, info.duration, &jid);
    if (e == VF_OK)
        e = db_commit(db);
    if (e != VF_OK) {
        db_rollback(db);
        if (unlink(final_path) != 0)
            log_error("upload: cannot remove %s: %s", final_path, strerror(errno));
        log_error("upload: cannot record the video: %s", vf_strerror(e));
        return upload_error_set(u->err, e == VF_ERR_BUSY ? VF_ERR_BUSY : VF_ERR_DB, NULL,
                                "The video could not be saved.");
    }
    log_info("upload: video %lld stored as %s (%.1f s, %dx%d), transcode job %lld", (long long)vid,
             rel, info.duration, info.width, info.height, (long long)jid);
    if (video_id != NULL)
        *video_id = vid;
    if (job_id != NULL)
        *job_id = jid;
    return VF_OK;
}

struct upload *
upload_new(struct app *app, upload_probe_fn probe, struct upload_error *err)
{
    memset(err, 0, sizeof(*err));
    struct upload *u = calloc(1, sizeof(*u));
    char *buf = malloc(READ_CHUNK);
    char *wbuf = malloc(WRITE_CHUNK);
    if (u == NULL || buf == NULL || wbuf == NULL) {
        free(u);
        free(buf);
        free(wbuf);
        upload_error_set(err, VF_ERR_NOMEM, NULL, "Out of memory.");
        return NULL;
    }
    u->app = app;
    u->probe = probe;
    u->err = err;
    u->fd = -1;
    u->buf = buf;
    u->wbuf = wbuf;
    return u;
}

void
upload_free(struct upload *u)
{
    if (u == NULL)
        return;
    if (!u->committed)
        discard_part(u);
    free(u->buf);
    free(u->wbuf);
    free(u);
}

enum vf_err
upload_reserve(struct upload *u, int64_t incoming)
{
    const char *root = u->app->cfg->media_root;
    if (media_dir_path(root, MEDIA_UPLOADS, u->dir, sizeof(u->dir)) < 0 ||
        !mkdir_uploads(root, u->dir)) {
        log_error("upload: cannot create %s: %s", u->dir, strerror(errno));
        return upload_error_set(u->err, VF_ERR_IO, NULL, "Cannot store uploads.");
    }
    return check_space(u, incoming);
}

enum vf_err
upload_file_open(struct upload *u)
{
    if (u->fd >= 0 || u->part_path[0] != '\0')
        return upload_error_set(u->err, VF_ERR_INVALID, "file", "Upload exactly one file.");
    return open_part(u);
}

enum vf_err
upload_file_write(struct upload *u, const void *data, size_t len)
{
    if (u->fd < 0)
        return upload_error_set(u->err, VF_ERR_INTERNAL, NULL, "No upload file is open.");
    return file_bytes(u, data, len);
}

enum vf_err
upload_file_close(struct upload *u)
{
    return file_done(u);
}

enum vf_err
upload_commit(struct upload *u, const struct upload_meta *meta, int64_t *video_id, int64_t *job_id)
{
    if (u->fd < 0)
        return upload_error_set(u->err, VF_ERR_INVALID, "file", "No file was submitted.");
    enum vf_err e = publish(u, meta, video_id, job_id);
    u->committed = e == VF_OK;
    return e;
}

/* ------------------------------------------------------------- local path */

enum vf_err
upload_add_file(struct app *app, upload_probe_fn probe, const char *path,
                const struct upload_meta *meta, int64_t *video_id, int64_t *job_id,
                struct upload_error *err)
{
    struct upload *u = upload_new(app, probe, err);
    int in = -1;
    enum vf_err e = VF_OK;
    struct stat st;

    if (u == NULL)
        return VF_ERR_NOMEM;
    if (!upload_meta_valid(meta, true, err)) {
        e = VF_ERR_INVALID;
        goto out;
    }
    in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0 || fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        e = upload_error_set(err, VF_ERR_NOTFOUND, "file", "%s: %s", path,
                             in < 0 ? strerror(errno) : "not a regular file");
        goto out;
    }
    if (st.st_size == 0) {
        e = upload_error_set(err, VF_ERR_INVALID, "file", "The file is empty.");
        goto out;
    }
    e = open_part(u);
    if (e == VF_OK)
        e = check_space(u, st.st_size);
    if (e != VF_OK)
        goto out;
    for (;;) {
        ssize_t n = read(in, u->buf, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = upload_error_set(err, VF_ERR_IO, "file", "%s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        e = file_bytes(u, u->buf, (size_t)n);
        if (e != VF_OK)
            goto out;
    }
    e = file_done(u);
    if (e == VF_OK)
        e = upload_commit(u, meta, video_id, job_id);

out:
    if (in >= 0)
        close(in);
    upload_free(u);
    return e;
}
