/* transcode.c -- probe, run the pipeline, fix up and validate the playlists, write the master
 * playlist. */
#include "autoconf.h"

#include "transcode.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <gst/gst.h>

#include "tsindex.h"
#include "tsrebase.h"

static void
progress_line(int fd, int pct)
{
    if (fd < 0)
        return;
    char line[32];
    int n = snprintf(line, sizeof(line), "progress %d\n", pct);
    ssize_t w;
    do
        w = write(fd, line, (size_t)n);
    while (w < 0 && errno == EINTR);
}

static void
on_progress(void *ctx, int pct)
{
    const struct transcode_params *p = ctx;
    progress_line(p->progress_fd, pct);
}

/* The directory of rendition i ("<outdir>/<name>") into buf. */
static void
rendition_dir(const struct transcode_params *p, const struct transcode_result *res, size_t i,
              char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", p->outdir, res->r[i].name);
}

/* Loads the playlist hlssink2 wrote for rendition i into *out (caller frees). */
static enum vf_err
load_rendition(const struct transcode_params *p, const struct transcode_result *res, size_t i,
               struct playlist **out, char *reason, size_t len)
{
    char dir[4096], path[4200], why[256] = "";
    rendition_dir(p, res, i, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/index.m3u8", dir);
    enum vf_err err = playlist_load(path, out, why, sizeof(why));
    if (err != VF_OK) {
        vf_reason(reason, len, "%s: %s", res->r[i].name, why);
        return err == VF_ERR_NOMEM ? err : VF_ERR_MEDIATYPE;
    }
    if ((*out)->n == 0 || !(*out)->endlist) {
        vf_reason(reason, len, "%s: the playlist is incomplete", res->r[i].name);
        playlist_free(*out);
        *out = NULL;
        return VF_ERR_MEDIATYPE;
    }
    return VF_OK;
}

/*
 * Moves the timeline of the whole ladder to (near) zero (see tsrebase.h): the minimum is taken
 * over the first segment of every rendition (timestamps only grow from there), then every
 * segment of every rendition is shifted by the same amount, so they stay aligned.
 */
static enum vf_err
rebase_ladder(const struct transcode_params *p, const struct transcode_result *res,
              struct playlist *const *pl, char *reason, size_t len)
{
    struct ts_times t = { 0 };
    uint64_t shift = 0;
    char dir[4096], path[4200];
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < res->nr; i++) {
            rendition_dir(p, res, i, dir, sizeof(dir));
            size_t nseg = pass == 0 ? 1 : pl[i]->n;
            for (size_t k = 0; k < nseg; k++) {
                snprintf(path, sizeof(path), "%s/%s", dir, pl[i]->seg[k].uri);
                enum vf_err err =
                    pass == 0 ? tsrebase_scan_file(path, &t) : tsrebase_shift_file(path, shift);
                if (err != VF_OK) {
                    vf_reason(reason, len, "%s/%s: cannot re-time the segment: %s", res->r[i].name,
                              pl[i]->seg[k].uri,
                              err == VF_ERR_IO ? strerror(errno) : vf_strerror(err));
                    return err == VF_ERR_INVALID ? VF_ERR_INTERNAL : err;
                }
            }
        }
        if (pass == 0 && (shift = tsrebase_shift_for(&t)) == 0)
            break;
    }
    return VF_OK;
}

/*
 * The I-frame playlist of rendition i (iframes.m3u8 beside index.m3u8) and its peak rate, the
 * BANDWIDTH of its EXT-X-I-FRAME-STREAM-INF: the largest I-frame (with its tables) over the time
 * it stands for, leaving out a short tail segment as playlist_measure() does.
 */
static enum vf_err
write_iframes(const struct transcode_params *p, struct transcode_result *res, size_t i,
              const struct playlist *pl, char *reason, size_t len)
{
    char dir[4096], path[4200];
    rendition_dir(p, res, i, dir, sizeof(dir));
    size_t *bytes = calloc(pl->n, sizeof(*bytes));
    if (bytes == NULL)
        return VF_ERR_NOMEM;
    enum vf_err err = VF_OK;
    double target = pl->target_duration > 0 ? pl->target_duration : 1;
    int64_t peak = 0, peak_all = 0;
    for (size_t k = 0; err == VF_OK && k < pl->n; k++) {
        snprintf(path, sizeof(path), "%s/%s", dir, pl->seg[k].uri);
        if ((err = tsindex_keyframe_file(path, &bytes[k])) != VF_OK) {
            vf_reason(reason, len, "%s/%s: no keyframe to index: %s", res->r[i].name,
                      pl->seg[k].uri, err == VF_ERR_IO ? strerror(errno) : vf_strerror(err));
            err = err == VF_ERR_INVALID ? VF_ERR_INTERNAL : err;
            break;
        }
        int64_t bps = (int64_t)((double)bytes[k] * 8.0 / pl->seg[k].duration);
        peak_all = bps > peak_all ? bps : peak_all;
        if (pl->seg[k].duration >= target / 2.0 && bps > peak)
            peak = bps;
    }
    snprintf(path, sizeof(path), "%s/iframes.m3u8", dir);
    if (err == VF_OK && (err = playlist_write_iframes(pl, bytes, path)) != VF_OK)
        vf_reason(reason, len, "%s: cannot write the I-frame playlist: %s", res->r[i].name,
                  strerror(errno));
    res->iframe_bps[i] = peak > 0 ? peak : peak_all;
    free(bytes);
    return err;
}

/* Validation and VOD fix-up of rendition i, whose playlist is `pl`. */
static enum vf_err
finish_rendition(const struct transcode_params *p, struct transcode_result *res, size_t i,
                 const struct playlist *pl, char *reason, size_t len)
{
    const struct rendition *rd = &res->r[i];
    char dir[4096], path[4200], why[256] = "";
    rendition_dir(p, res, i, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/index.m3u8", dir);

    enum vf_err err = VF_OK;
    if (fabs(playlist_duration(pl) - res->probe.duration) > 1.0) {
        vf_reason(reason, len,
                  "%s: %.2f s of output for %.2f s of source (damaged or truncated input)",
                  rd->name, playlist_duration(pl), res->probe.duration);
        err = VF_ERR_MEDIATYPE;
    } else if (playlist_measure(pl, dir, &res->stats[i], why, sizeof(why)) != VF_OK) {
        vf_reason(reason, len, "%s: %s", rd->name, why);
        err = VF_ERR_MEDIATYPE;
    } else if ((err = playlist_write_vod(pl, path)) != VF_OK) {
        vf_reason(reason, len, "%s: cannot rewrite the playlist: %s", rd->name, strerror(errno));
    } else {
        err = write_iframes(p, res, i, pl, reason, len);
    }
    return err;
}

enum vf_err
transcode_run(const struct transcode_params *p, struct transcode_result *res, char *reason,
              size_t len)
{
    memset(res, 0, sizeof(*res));
    if (reason != NULL && len > 0)
        reason[0] = '\0';
    GError *gerr = NULL;
    if (!gst_init_check(NULL, NULL, &gerr)) {
        vf_reason(reason, len, "cannot initialise GStreamer: %s", gerr ? gerr->message : "?");
        g_clear_error(&gerr);
        return VF_ERR_INTERNAL;
    }
    progress_line(p->progress_fd, 0);

    int probe_timeout = p->stall_timeout_s > 0 && p->stall_timeout_s < 60 ? p->stall_timeout_s : 60;
    enum vf_err err = probe_discover(p->input, probe_timeout, &res->probe, reason, len);
    if (err != VF_OK)
        return err == VF_ERR_IO ? VF_ERR_MEDIATYPE : err;
    res->nr = ladder_plan(res->probe.width, res->probe.height, res->r);
    if (res->nr == 0) {
        vf_reason(reason, len, "unsupported video size %dx%d", res->probe.width, res->probe.height);
        return VF_ERR_MEDIATYPE;
    }

    struct pipeline_opts po = {
        .input = p->input,
        .outdir = p->outdir,
        .probe = &res->probe,
        .r = res->r,
        .nr = res->nr,
        .segment_seconds = p->segment_seconds > 0 ? p->segment_seconds : 4,
        .x264_threads = p->x264_threads,
        .preset = p->preset ? p->preset : TRANSCODE_PRESET,
        .timeout_s = p->timeout_s > 0 && p->timeout_per_second > 0
                         ? p->timeout_s + (int)ceil(res->probe.duration * p->timeout_per_second)
                         : p->timeout_s,
        .stall_timeout_s = p->stall_timeout_s,
        .progress = on_progress,
        .ctx = (void *)p,
        .stop = p->stop,
    };
    struct pipeline_output out;
    if ((err = pipeline_run(&po, &out, reason, len)) != VF_OK)
        return err;
    res->has_thumbnail = out.has_thumbnail;

    struct playlist *pl[LADDER_MAX] = { NULL };
    for (size_t i = 0; err == VF_OK && i < res->nr; i++)
        err = load_rendition(p, res, i, &pl[i], reason, len);
    if (err == VF_OK)
        err = rebase_ladder(p, res, pl, reason, len);
    for (size_t i = 0; err == VF_OK && i < res->nr; i++)
        err = finish_rendition(p, res, i, pl[i], reason, len);
    for (size_t i = 0; i < res->nr; i++)
        playlist_free(pl[i]);
    if (err != VF_OK)
        return err;

    struct video_rendition v[LADDER_MAX];
    for (size_t i = 0; i < res->nr; i++) {
        memcpy(res->codecs[i], out.codecs[i], sizeof(res->codecs[i]));
        res->frame_rate[i] = out.frame_rate[i];
        transcode_result_rendition(res, i, &v[i]);
    }
    char master[4200];
    snprintf(master, sizeof(master), "%s/master.m3u8", p->outdir);
    if (playlist_write_master(master, v, res->nr) != VF_OK) {
        vf_reason(reason, len, "cannot write master.m3u8: %s", strerror(errno));
        return VF_ERR_IO;
    }
    progress_line(p->progress_fd, 100);
    return VF_OK;
}

void
transcode_result_rendition(const struct transcode_result *res, size_t i,
                           struct video_rendition *out)
{
    memset(out, 0, sizeof(*out));
    out->width = res->r[i].width;
    out->height = res->r[i].height;
    out->bandwidth = res->stats[i].peak_bps;
    out->avg_bandwidth = res->stats[i].avg_bps;
    snprintf(out->codecs, sizeof(out->codecs), "%s", res->codecs[i]);
    snprintf(out->name, sizeof(out->name), "%s", res->r[i].name);
    out->frame_rate = res->frame_rate[i];
    out->iframe_bandwidth = res->iframe_bps[i];
}

char *
transcode_result_json(const struct transcode_result *res, const char *staging)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddNumberToObject(o, "duration", res->probe.duration);
    cJSON_AddNumberToObject(o, "width", res->probe.width);
    cJSON_AddNumberToObject(o, "height", res->probe.height);
    cJSON_AddBoolToObject(o, "has_audio", res->probe.has_audio);
    cJSON_AddNumberToObject(o, "rotation", res->probe.rotation);
    cJSON_AddBoolToObject(o, "interlaced", res->probe.interlaced);
    cJSON_AddBoolToObject(o, "has_thumbnail", res->has_thumbnail);
    if (staging != NULL)
        cJSON_AddStringToObject(o, "staging", staging);
    cJSON *arr = cJSON_AddArrayToObject(o, "renditions");
    for (size_t i = 0; arr != NULL && i < res->nr; i++) {
        cJSON *r = cJSON_CreateObject();
        if (r == NULL)
            break;
        cJSON_AddStringToObject(r, "name", res->r[i].name);
        cJSON_AddNumberToObject(r, "width", res->r[i].width);
        cJSON_AddNumberToObject(r, "height", res->r[i].height);
        cJSON_AddNumberToObject(r, "bandwidth", (double)res->stats[i].peak_bps);
        cJSON_AddNumberToObject(r, "avg_bandwidth", (double)res->stats[i].avg_bps);
        cJSON_AddStringToObject(r, "codecs", res->codecs[i]);
        /* Rounded as stored (frames per second x 1000). */
        cJSON_AddNumberToObject(r, "frame_rate", round(res->frame_rate[i] * 1000.0) / 1000.0);
        cJSON_AddNumberToObject(r, "iframe_bandwidth", (double)res->iframe_bps[i]);
        cJSON_AddItemToArray(arr, r);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
