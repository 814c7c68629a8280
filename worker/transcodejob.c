/* transcodejob.c -- the "transcode" job kind: run the ladder in the worker's child, publish in the
 * parent. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "worker.h"
#include "fstree.h"
#include "jsonobj.h"
#include "log.h"
#include "media.h"
#include "transcode.h"
#include "transcode_payload.h"
#include "video.h"

#if defined(__SANITIZE_ADDRESS__)
#define VF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VF_ASAN 1
#endif
#endif

static volatile sig_atomic_t stop_flag;

static void
on_term(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int
concurrency(const struct config *cfg)
{
    return cfg->transcode_concurrency;
}

/* Sets a limit only where the worker left it unlimited. */
static void
limit_if_unset(int resource, rlim_t value)
{
    struct rlimit rl;
    if (getrlimit(resource, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY) {
        rl.rlim_cur = value;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < value)
            rl.rlim_cur = rl.rlim_max;
        setrlimit(resource, &rl);
    }
}

/* Removes <staging>/<id>.* except `keep` (leftovers of killed attempts). */
static void
clean_staging(const char *staging, int64_t id, const char *keep)
{
    char prefix[32];
    int pl = snprintf(prefix, sizeof(prefix), "%lld.", (long long)id);
    DIR *d = opendir(staging);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)pl) != 0 ||
            (keep != NULL && strcmp(e->d_name, keep) == 0))
            continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", staging, e->d_name) < sizeof(path))
            fstree_remove(path);
    }
    closedir(d);
}

static int
fail(int out_fd, int code, const char *reason)
{
    job_report_error(out_fd, reason);
    return code;
}

/* In the worker's child: probe + pipeline + validation into MEDIA_ROOT/staging/<id>.<random>. */
static int
run(const struct config *cfg, const char *payload, int out_fd)
{
    struct transcode_payload p;
    if (transcode_payload_parse(payload, &p) != VF_OK)
        return fail(out_fd, JOB_EXIT_DATAERR, "bad transcode payload");

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    /* Backstops in case the worker set none (it normally does).  The limits grow with the
     * source's length (transcode_payload_timeout), the worker's own too. */
    int wall = transcode_payload_timeout(cfg, p.duration), stall = cfg->transcode_stall_timeout;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    limit_if_unset(RLIMIT_CPU, (rlim_t)wall * (rlim_t)(cores > 0 ? cores : 1));
    limit_if_unset(RLIMIT_FSIZE, (rlim_t)64 << 30);
#ifndef VF_ASAN
    limit_if_unset(RLIMIT_AS, (rlim_t)16 << 30);
#endif

    char src[4096], staging[4096], dir[4200];
    if ((size_t)snprintf(src, sizeof(src), "%s/%s", cfg->media_root, p.source) >= sizeof(src) ||
        media_dir_path(cfg->media_root, MEDIA_STAGING, staging, sizeof(staging)) < 0)
        return fail(out_fd, JOB_EXIT_DATAERR, "MEDIA_ROOT path too long");
    if (media_mkdir(staging, MEDIA_STAGING) != 0) {
        char why[300];
        snprintf(why, sizeof(why), "cannot create the staging directory: %s", strerror(errno));
        return fail(out_fd, JOB_EXIT_TEMPFAIL, why);
    }
    clean_staging(staging, p.video_id, NULL);
    snprintf(dir, sizeof(dir), "%s/%lld.XXXXXX", staging, (long long)p.video_id);
    if (mkdtemp(dir) == NULL) {
        char why[300];
        snprintf(why, sizeof(why), "cannot create a staging directory: %s", strerror(errno));
        return fail(out_fd, JOB_EXIT_TEMPFAIL, why);
    }

    /* Our own watchdogs fire a little before the worker's, so the reason is ours and the
     * staging directory is removed. */
    struct transcode_params tp = {
        .input = src,
        .outdir = dir,
        .segment_seconds = cfg->hls_segment_seconds,
        .x264_threads = cfg->x264_threads,
        .preset = TRANSCODE_PRESET,
        .timeout_s = wall > 10 ? wall - (wall / 20 > 2 ? wall / 20 : 2) : wall,
        .stall_timeout_s = stall > 4 ? stall - 2 : stall,
        .stop = &stop_flag,
        .progress_fd = out_fd,
    };
    struct transcode_result res;
    char reason[512];
    enum vf_err err = transcode_run(&tp, &res, reason, sizeof(reason));
    if (err != VF_OK) {
        fstree_remove(dir);
        /* A file that cannot be decoded, or that hangs the pipeline, will not get better. */
        int code = err == VF_ERR_MEDIATYPE || err == VF_ERR_INVALID || err == VF_ERR_TIMEOUT
                       ? JOB_EXIT_DATAERR
                       : JOB_EXIT_TEMPFAIL;
        return fail(out_fd, code, reason);
    }
    char rel[300];
    snprintf(rel, sizeof(rel), "staging/%s", strrchr(dir, '/') + 1);
    char *json = transcode_result_json(&res, rel);
    if (json == NULL || job_report_result(out_fd, json) != 0) {
        free(json);
        fstree_remove(dir);
        return fail(out_fd, JOB_EXIT_TEMPFAIL, "cannot report the result");
    }
    free(json);
    return JOB_EXIT_OK;
}

/* The parsed "result" line. */
struct published {
    double duration;
    int width, height;
    bool has_thumbnail;
    char staging[64]; /* "<id>.<random>" under MEDIA_ROOT/staging */
    struct video_rendition r[VIDEO_MAX_RENDITIONS];
    size_t n;
};

static enum vf_err
parse_result(const char *json, int64_t id, struct published *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    cJSON *o = json ? cJSON_Parse(json) : NULL;
    if (o == NULL) {
        snprintf(err, errlen, "transcode result is not JSON");
        return VF_ERR_INVALID;
    }
    enum vf_err e = VF_ERR_INVALID;
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(o, "duration");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "staging");
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "renditions");
    char prefix[40];
    int pl = snprintf(prefix, sizeof(prefix), "staging/%lld.", (long long)id);
    if (!cJSON_IsNumber(dur) || !cJSON_IsString(st) || !cJSON_IsArray(rs) ||
        strncmp(st->valuestring, prefix, (size_t)pl) != 0 ||
        strchr(st->valuestring + pl, '/') != NULL || strstr(st->valuestring, "..") != NULL ||
        strlen(st->valuestring + 8) >= sizeof(out->staging)) {
        snprintf(err, errlen, "transcode result is malformed");
        goto done;
    }
    out->duration = dur->valuedouble;
    out->width = jsonobj_int(o, "width", -1);
    out->height = jsonobj_int(o, "height", -1);
    out->has_thumbnail = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "has_thumbnail"));
    snprintf(out->staging, sizeof(out->staging), "%s", st->valuestring + 8);
    const cJSON *r;
    cJSON_ArrayForEach(r, rs)
    {
        if (out->n >= VIDEO_MAX_RENDITIONS)
            break;
        struct video_rendition *vr = &out->r[out->n++];
        const cJSON *bw = cJSON_GetObjectItemCaseSensitive(r, "bandwidth");
        const cJSON *avg = cJSON_GetObjectItemCaseSensitive(r, "avg_bandwidth");
        const cJSON *codecs = cJSON_GetObjectItemCaseSensitive(r, "codecs");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(r, "name");
        const cJSON *fps = cJSON_GetObjectItemCaseSensitive(r, "frame_rate");
        vr->width = jsonobj_int(r, "width", -1);
        vr->height = jsonobj_int(r, "height", -1);
        vr->bandwidth = cJSON_IsNumber(bw) ? (int64_t)bw->valuedouble : 0;
        vr->avg_bandwidth = cJSON_IsNumber(avg) ? (int64_t)avg->valuedouble : 0;
        snprintf(vr->codecs, sizeof(vr->codecs), "%s",
                 cJSON_IsString(codecs) ? codecs->valuestring : "");
        /* The name is the directory the files are published in: video_set_ready() refuses
         * anything but [0-9a-z]. */
        if (!cJSON_IsString(name) || strlen(name->valuestring) >= sizeof(vr->name)) {
            snprintf(err, errlen, "transcode result has a rendition without a usable name");
            goto done;
        }
        memcpy(vr->name, name->valuestring, strlen(name->valuestring) + 1);
        vr->frame_rate = cJSON_IsNumber(fps) ? fps->valuedouble : 0.0;
        const cJSON *ib = cJSON_GetObjectItemCaseSensitive(r, "iframe_bandwidth");
        vr->iframe_bandwidth =
            cJSON_IsNumber(ib) && ib->valuedouble > 0 ? (int64_t)ib->valuedouble : 0;
    }
    if (out->n == 0) {
        snprintf(err, errlen, "transcode result has no renditions");
        goto done;
    }
    e = VF_OK;
done:
    cJSON_Delete(o);
    return e;
}

static void
mkdir_p1(const char *path)
{
    if (media_mkdir(path, MEDIA_HLS) != 0)
        log_warn("transcode: cannot create %s: %s", path, strerror(errno));
}

/*
 * Swaps `from` into place at `to`: a plain rename when `to` does not exist, else an atomic exchange
 * (RENAME_EXCHANGE) after which the old tree, now at `from`, is removed.  A reader sees either the
 * whole old or the whole new directory, never a mix.
 */
static int
swap_into_place(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno == EEXIST || errno == ENOTEMPTY) {
        if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) == 0) {
            fstree_remove(from);
            return 0;
        }
    }
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* A filesystem without renameat2 flags: move the old one aside first (brief gap). */
    char aside[4400];
    snprintf(aside, sizeof(aside), "%s.old.%ld", to, (long)getpid());
    if (rename(to, aside) != 0 && errno != ENOENT)
        return -1;
    if (rename(from, to) != 0) {
        rename(aside, to);
        return -1;
    }
    fstree_remove(aside);
    return 0;
}

/* In the parent, inside the worker's transaction: mark ready, then publish the files. */
static enum vf_err
finish(struct app *app, int64_t job_id, const char *payload, const char *result, char *err,
       size_t errlen)
{
    (void)job_id;
    struct transcode_payload p;
    struct published pub;
    if (transcode_payload_parse(payload, &p) != VF_OK) {
        snprintf(err, errlen, "bad transcode payload");
        return VF_ERR_INVALID;
    }
    enum vf_err e = parse_result(result, p.video_id, &pub, err, errlen);
    if (e != VF_OK)
        return e;
    const char *root = app->cfg->media_root;
    char stage[4200], hls[4200], dst[4300], thumbs[4200], tsrc[4300], tdst[4300];
    snprintf(stage, sizeof(stage), "%s/%s/%s", root, media_dir_name(MEDIA_STAGING), pub.staging);
    media_dir_path(root, MEDIA_HLS, hls, sizeof(hls));
    media_hls_path(root, p.video_id, dst, sizeof(dst));
    media_dir_path(root, MEDIA_THUMBNAILS, thumbs, sizeof(thumbs));
    snprintf(tsrc, sizeof(tsrc), "%s/thumbnail.jpg", stage);
    media_thumbnail_path(root, p.video_id, tdst, sizeof(tdst));

    struct stat sb;
    if (stat(stage, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "the staging directory is gone");
        return VF_ERR_IO;
    }
    /* The row first: if it cannot be written, nothing on disk has changed. */
    e = video_set_ready(app->db, p.video_id, pub.duration, pub.width, pub.height, pub.r, pub.n,
                        pub.has_thumbnail);
    if (e != VF_OK) {
        snprintf(err, errlen, "cannot mark the video ready: %s", vf_strerror(e));
        return e;
    }
    mkdir_p1(hls);
    mkdir_p1(thumbs);
    /* The web server reads what is published: the staging tree is 0700 until now. */
    if (media_publish_tree(stage) != 0) {
        snprintf(err, errlen, "cannot set the permissions of the renditions: %s", strerror(errno));
        return VF_ERR_IO;
    }
    if (pub.has_thumbnail && rename(tsrc, tdst) != 0) {
        snprintf(err, errlen, "cannot publish the thumbnail: %s", strerror(errno));
        return VF_ERR_IO;
    }
    if (swap_into_place(stage, dst) != 0) {
        snprintf(err, errlen, "cannot publish the renditions: %s", strerror(errno));
        return VF_ERR_IO;
    }
    log_info("transcode: video %lld ready (%zu renditions, %.1f s)", (long long)p.video_id, pub.n,
             pub.duration);
    return VF_OK;
}

static void
failed(struct app *app, int64_t job_id, const char *payload, const char *reason)
{
    (void)job_id;
    struct transcode_payload p;
    if (transcode_payload_parse(payload, &p) != VF_OK)
        return;
    enum vf_err e = video_set_failed(app->db, p.video_id, reason ? reason : "transcode failed");
    if (e != VF_OK && e != VF_ERR_NOTFOUND)
        log_warn("transcode: cannot mark video %lld failed: %s", (long long)p.video_id,
                 vf_strerror(e));
    char staging[4200];
    snprintf(staging, sizeof(staging), "%s/staging", app->cfg->media_root);
    clean_staging(staging, p.video_id, NULL);
}

static void
started(struct app *app, int64_t job_id, const char *payload)
{
    (void)job_id;
    struct transcode_payload p;
    if (transcode_payload_parse(payload, &p) != VF_OK)
        return;
    enum vf_err e = video_set_processing(app->db, p.video_id);
    if (e != VF_OK)
        log_warn("transcode: cannot mark video %lld processing: %s", (long long)p.video_id,
                 vf_strerror(e));
}

const struct job_kind transcodejob_kind = {
    .name = "transcode",
    .concurrency = concurrency,
    .run = run,
    .finish = finish,
    .failed = failed,
    .started = started,
};
