/* catalogue.c -- handlers of the catalogue: the video list and authenticated HLS delivery. */
#include "autoconf.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalogue.h"
#include "clock.h"
#include "compress.h"
#include "hlsmaster.h"
#include "json.h"
#include "log.h"
#include "mediafile.h"
#include "routes.h"
#include "strbuf.h"
#include "urlsig.h"
#include "video.h"

#define PLAYLIST_MAX (4 * 1024 * 1024) /* a playlist larger than this is not ours */

/* The per-process list cache, created on first use; a FastCGI worker serves one request at a
 * time, so it needs no lock.  Released by catalogue_routes_release(). */
static struct catalogue *cache;

static struct catalogue *
state(struct app *app)
{
    if (cache == NULL)
        cache = catalogue_new(app->cfg->public_url, app->cfg->media_root);
    return cache;
}

void
catalogue_routes_release(void)
{
    catalogue_free(cache);
    cache = NULL;
}

/* GET /api/video/ */
static void
video_list(struct app *app, struct http_request *req, struct http_response *res)
{
    struct catalogue *c = state(app);
    const char *body, *etag;
    size_t len;
    enum vf_err err = c ? catalogue_get(c, app->db, &body, &len, &etag) : VF_ERR_NOMEM;
    if (err) {
        json_error_reply(req, res, err);
        return;
    }
    /* Not user-specific, but behind a cookie: private, revalidated with the ETag. */
    http_header_set(res, "Cache-Control", "private, no-cache");
    http_header_set(res, "ETag", etag);
    if (catalogue_etag_match(http_header(req, "if-none-match"), etag)) {
        res->status = 304;
        return;
    }
    res->status = 200;
    if (http_body_set(res, "application/json", body, len) != VF_OK)
        json_error_reply(req, res, VF_ERR_NOMEM);
}

/* The signing scheme follows the web server the sendfile mode names; none without a key. */
static enum urlsig_scheme
signing_scheme(const struct config *cfg)
{
    if (!cfg->media_signing_key || !*cfg->media_signing_key)
        return URLSIG_NONE;
    switch (cfg->sendfile_mode) {
    case CONFIG_SENDFILE_XACCEL:
        return URLSIG_NGINX;
    case CONFIG_SENDFILE_XSENDFILE:
        return URLSIG_LIGHTTPD;
    default:
        return URLSIG_NONE;
    }
}

/*
 * Answer with an open, validated media file (fd ownership taken): handed to the web
 * server by X-Accel-Redirect or X-Sendfile, or streamed by the responder with Range and
 * HEAD (SENDFILE_MODE=none).
 */
static void
send_file(struct app *app, struct http_request *req, struct http_response *res,
          const struct mediafile_path *p, enum mediafile_res used, int fd,
          const char *cache_control)
{
    const struct config *cfg = app->cfg;
    const char *ctype = mediafile_content_type(p->kind);
    char rel[128], target[PATH_MAX + 160];
    enum vf_err err = VF_OK;

    if (mediafile_relpath(p, used, rel, sizeof(rel)) < 0) {
        close(fd);
        json_detail(res, 404, "Not found.");
        return;
    }
    switch (cfg->sendfile_mode) {
    case CONFIG_SENDFILE_XACCEL:
        close(fd);
        snprintf(target, sizeof(target), "%s/%s", cfg->xaccel_prefix, rel);
        res->status = 200;
        err = http_header_set(res, "X-Accel-Redirect", target);
        if (!err)
            err = http_header_set(res, "Content-Type", ctype);
        break;
    case CONFIG_SENDFILE_XSENDFILE:
        close(fd);
        snprintf(target, sizeof(target), "%s/hls/%s", catalogue_media_root(state(app)), rel);
        res->status = 200;
        err = http_header_set(res, "X-Sendfile", target);
        if (!err)
            err = http_header_set(res, "Content-Type", ctype);
        break;
    default:
        err = http_serve_fd(req, res, fd, ctype);
        break;
    }
    if (!err)
        err = http_header_set(res, "Cache-Control", cache_control);
    if (err) {
        /* Whatever the code says, a file we could not hand over is our failure. */
        http_response_reset(res);
        json_error_reply(req, res, VF_ERR_INTERNAL);
    }
}

/* Allow-list the path and open the file (the dispatcher has authenticated: 401 comes before
 * any file is touched).  false when answered. */
static bool
open_media(struct app *app, struct http_request *req, struct http_response *res,
           struct mediafile_path *p, enum mediafile_kind want, int *fd, struct stat *st,
           enum mediafile_res *used)
{
    if (mediafile_parse(req->path, p) != VF_OK || p->kind != want) {
        json_detail(res, 404, "Not found.");
        return false;
    }
    if (want != MEDIAFILE_SEGMENT) {
        /* Playlists are the entry point: only for a video that is ready. */
        struct video *v = NULL;
        enum vf_err err = video_get(app->db, p->video_id, &v);
        bool ready = !err && v->state == VIDEO_READY;
        video_free(v);
        if (err && err != VF_ERR_NOTFOUND) {
            json_error_reply(req, res, err);
            return false;
        }
        if (!ready) {
            json_detail(res, 404, "Not found.");
            return false;
        }
    }
    enum vf_err err = mediafile_open(app->cfg->media_root, p, fd, st, used);
    if (err) {
        json_error_reply(req, res, err); /* 404, or 500 (its cause logged by mediafile_open) */
        return false;
    }
    return true;
}

/* Read a whole (small) playlist.  Returns a malloc'd NUL-terminated copy or NULL. */
static char *
slurp(int fd, const struct stat *st, size_t *len)
{
    if (st->st_size < 0 || st->st_size > PLAYLIST_MAX)
        return NULL;
    size_t n = (size_t)st->st_size, got = 0;
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

/*
 * The playlist with every segment line signed: "000.ts?e=..&s=.." (or
 * "../720p/000.ts?..." when a higher resolution was mapped onto 720p), bound to the
 * segment's URI and the client address.  Returns a malloc'd body or NULL.
 */
static char *
sign_playlist(const struct config *cfg, enum urlsig_scheme scheme, const char *text, size_t tlen,
              const struct mediafile_path *p, enum mediafile_res used, const char *addr,
              size_t *outlen)
{
    struct strbuf b = { 0 };
    int64_t expires = clock_now() + (cfg->segment_url_ttl > 0 ? cfg->segment_url_ttl : 3600);
    const char *s = text, *end = text + tlen;
    bool mapped = used != p->res;
    const char *resname = mediafile_res_name(used);

    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        size_t ll = (size_t)(le - s);
        size_t nl_len = (ll > 0 && s[ll - 1] == '\r') ? ll - 1 : ll;
        bool ok;
        if (mediafile_is_segment_name(s, nl_len)) {
            char uri[160], q[URLSIG_QUERY_MAX], line[300];
            snprintf(uri, sizeof(uri), "/api/video/%" PRId64 "/%s/%.*s", p->video_id, resname,
                     (int)nl_len, s);
            if (urlsig_query(scheme, cfg->media_signing_key, uri, addr, expires, q, sizeof(q))) {
                strbuf_free(&b);
                return NULL;
            }
            int n = snprintf(line, sizeof(line), "%s%s%s%.*s?%s", mapped ? "../" : "",
                             mapped ? resname : "", mapped ? "/" : "", (int)nl_len, s, q);
            ok = n > 0 && (size_t)n < sizeof(line) && strbuf_add(&b, line, (size_t)n);
            ok = ok && strbuf_add(&b, s + nl_len, ll - nl_len); /* keep a CR */
        } else {
            ok = strbuf_add(&b, s, ll);
        }
        ok = ok && (!nl || strbuf_add(&b, "\n", 1));
        if (!ok) {
            strbuf_free(&b);
            return NULL;
        }
        s = nl ? nl + 1 : end;
    }
    if (!b.s && !strbuf_add(&b, "", 0))
        return NULL;
    *outlen = b.len;
    return b.s;
}

/* A weak validator of a generated body: W/"<64-bit FNV-1a in hex>" (weak: the same for its
 * gzip-encoded form). */
static void
etag_of(const char *body, size_t len, char *buf, size_t buflen)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)body[i];
        h *= UINT64_C(0x100000001b3);
    }
    snprintf(buf, buflen, "W/\"%016" PRIx64 "\"", h);
}

/* A memory body (taken) with its content type, gzip-encoded when the client accepts it. */
static void
send_playlist(struct http_request *req, struct http_response *res, char *body, size_t len)
{
    res->status = 200;
    if (http_body_take(res, mediafile_content_type(MEDIAFILE_PLAYLIST), body, len) != VF_OK) {
        json_error_reply(req, res, VF_ERR_NOMEM);
        return;
    }
    enum vf_err err = compress_body(req, res);
    if (err != VF_OK) /* the identity body is still there and correct */
        log_warn("playlist: cannot gzip: %s", vf_strerror(err));
}

/* GET /api/video/<id>/<res>/index.m3u8 (and iframes.m3u8, the I-frame playlist) */
static void
video_playlist(struct app *app, struct http_request *req, struct http_response *res)
{
    struct mediafile_path p;
    struct stat st;
    enum mediafile_res used;
    int fd;
    if (!open_media(app, req, res, &p, MEDIAFILE_PLAYLIST, &fd, &st, &used))
        return;
    enum urlsig_scheme scheme = signing_scheme(app->cfg);
    /* The file as it is goes out through the web server; gzip and signatures need us. */
    if (scheme == URLSIG_NONE && !compress_accepts_gzip(http_header(req, "accept-encoding"))) {
        http_header_set(res, "Vary", "Accept-Encoding");
        send_file(app, req, res, &p, used, fd, "private, no-cache");
        return;
    }
    size_t tlen = 0, blen = 0;
    char *text = slurp(fd, &st, &tlen);
    close(fd);
    if (text != NULL && scheme == URLSIG_NONE) {
        char etag[24];
        etag_of(text, tlen, etag, sizeof(etag));
        http_header_set(res, "Cache-Control", "private, no-cache");
        http_header_set(res, "ETag", etag);
        if (catalogue_etag_match(http_header(req, "if-none-match"), etag)) {
            free(text);
            http_header_set(res, "Vary", "Accept-Encoding");
            res->status = 304;
            return;
        }
        send_playlist(req, res, text, tlen);
        return;
    }
    char *body = text ? sign_playlist(app->cfg, scheme, text, tlen, &p, used,
                                      req->remote_addr ? req->remote_addr : "", &blen)
                      : NULL;
    free(text);
    if (!body) {
        json_error_reply(req, res, VF_ERR_INTERNAL); /* unreadable, or could not be signed */
        return;
    }
    /* Signatures expire and name the client: never shared, never stored. */
    http_header_set(res, "Cache-Control", "private, no-store");
    send_playlist(req, res, body, blen);
}

/* GET /api/video/<id>/<res>/<n>.ts[/] */
static void
video_segment(struct app *app, struct http_request *req, struct http_response *res)
{
    struct mediafile_path p;
    struct stat st;
    enum mediafile_res used;
    int fd;
    char cc[64];
    if (!open_media(app, req, res, &p, MEDIAFILE_SEGMENT, &fd, &st, &used))
        return;
    /* Segments never change once published. */
    snprintf(cc, sizeof(cc), "private, max-age=%d, immutable",
             app->cfg->hls_max_age > 0 ? app->cfg->hls_max_age : 0);
    send_file(app, req, res, &p, used, fd, cc);
}

/* GET /api/video/<id>/master.m3u8: the real renditions, as their rows describe them. */
static void
video_master(struct app *app, struct http_request *req, struct http_response *res)
{
    struct mediafile_path p;
    if (mediafile_parse(req->path, &p) != VF_OK || p.kind != MEDIAFILE_MASTER) {
        json_detail(res, 404, "Not found.");
        return;
    }
    struct video *v = NULL;
    enum vf_err err = video_get(app->db, p.video_id, &v);
    if (err || v->state != VIDEO_READY || v->nrenditions == 0) {
        video_free(v);
        if (err && err != VF_ERR_NOTFOUND)
            json_error_reply(req, res, err);
        else
            json_detail(res, 404, "Not found.");
        return;
    }
    /* Each variant's URI is its rung's URL (the contract's 480p/720p/1080p), one per rung. */
    struct video_rendition rs[VIDEO_MAX_RENDITIONS];
    size_t n = 0;
    bool seen[MEDIAFILE_NRES] = { false };
    for (size_t i = 0; i < v->nrenditions && n < VIDEO_MAX_RENDITIONS; i++) {
        const struct video_rendition *r = &v->renditions[i];
        enum mediafile_res step = mediafile_res_of(r->name, r->width, r->height);
        if (seen[step])
            continue;
        seen[step] = true;
        rs[n] = *r;
        snprintf(rs[n].name, sizeof(rs[n].name), "%s", mediafile_res_name(step));
        n++;
    }
    video_free(v);
    size_t len = 0;
    char *body = hlsmaster_render(rs, n, &len);
    if (body == NULL) {
        json_error_reply(req, res, VF_ERR_NOMEM);
        return;
    }
    /* Revalidated, not refetched: the ETag changes with the body (a re-transcode). */
    char etag[24];
    etag_of(body, len, etag, sizeof(etag));
    http_header_set(res, "Cache-Control", "private, no-cache");
    http_header_set(res, "ETag", etag);
    if (catalogue_etag_match(http_header(req, "if-none-match"), etag)) {
        free(body);
        http_header_set(res, "Vary", "Accept-Encoding");
        res->status = 304;
        return;
    }
    send_playlist(req, res, body, len);
}

/* Every route needs a signed-in user; the media paths are checked by mediafile_parse
 * (404), so their captures stay untyped. */
const struct route catalogue_routes[] = {
    { HTTP_GET, "/api/video/", video_list, 0, ROUTE_AUTH_USER },
    /* The HLS files: a paused player whose access cookie lapsed resumes on its refresh
     * cookie (ROUTE_AUTH_MEDIA); the list wants the access cookie. */
    { HTTP_GET, "/api/video/{}/master.m3u8", video_master, 0, ROUTE_AUTH_MEDIA },
    { HTTP_GET, "/api/video/{}/{}/index.m3u8", video_playlist, 0, ROUTE_AUTH_MEDIA },
    { HTTP_GET, "/api/video/{}/{}/iframes.m3u8", video_playlist, 0, ROUTE_AUTH_MEDIA },
    { HTTP_GET, "/api/video/{}/{}/{}/?", video_segment, 0, ROUTE_AUTH_MEDIA },
    { 0, NULL, NULL, 0, ROUTE_AUTH_NONE },
};
