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

/* Fix-up and validation of one rendition directory. */
static enum vf_err
finish_rendition(const struct transcode_params *p, struct transcode_result *res, size_t i,
                 char *reason, size_t len)
{
    const struct rendition *rd = &res->r[i];
    char dir[4096], path[4200], why[256] = "";
    snprintf(dir, sizeof(dir), "%s/%s", p->outdir, rd->name);
    snprintf(path, sizeof(path), "%s/index.m3u8", dir);

    struct playlist *pl = NULL;
    enum vf_err err = playlist_load(path, &pl, why, sizeof(why));
    if (err != VF_OK) {
        vf_reason(reason, len, "%s: %s", rd->name, why);
        return err == VF_ERR_NOMEM ? err : VF_ERR_MEDIATYPE;
    }
    if (pl->n == 0 || !pl->endlist) {
        vf_reason(reason, len, "%s: the playlist is incomplete", rd->name);
        err = VF_ERR_MEDIATYPE;
    } else if (fabs(playlist_duration(pl) - res->probe.duration) > 1.0) {
        vf_reason(reason, len,
                  "%s: %.2f s of output for %.2f s of source (damaged or truncated input)",
                  rd->name, playlist_duration(pl), res->probe.duration);
        err = VF_ERR_MEDIATYPE;
    } else if (playlist_measure(pl, dir, &res->stats[i], why, sizeof(why)) != VF_OK) {
        vf_reason(reason, len, "%s: %s", rd->name, why);
        err = VF_ERR_MEDIATYPE;
    } else if ((err = playlist_write_vod(pl, path)) != VF_OK) {
        vf_reason(reason, len, "%s: cannot rewrite the playlist: %s", rd->name, strerror(errno));
    }
    playlist_free(pl);
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
        .timeout_s = p->timeout_s,
        .stall_timeout_s = p->stall_timeout_s,
        .progress = on_progress,
        .ctx = (void *)p,
        .stop = p->stop,
    };
    struct pipeline_output out;
    if ((err = pipeline_run(&po, &out, reason, len)) != VF_OK)
        return err;
    res->has_thumbnail = out.has_thumbnail;

    struct playlist_variant v[LADDER_MAX];
    char uris[LADDER_MAX][32];
    for (size_t i = 0; i < res->nr; i++) {
        if ((err = finish_rendition(p, res, i, reason, len)) != VF_OK)
            return err;
        memcpy(res->codecs[i], out.codecs[i], sizeof(res->codecs[i]));
        snprintf(uris[i], sizeof(uris[i]), "%s/index.m3u8", res->r[i].name);
        v[i] = (struct playlist_variant){
            .uri = uris[i],
            .width = res->r[i].width,
            .height = res->r[i].height,
            .bandwidth = res->stats[i].peak_bps,
            .avg_bandwidth = res->stats[i].avg_bps,
            .codecs = res->codecs[i],
        };
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
        cJSON_AddItemToArray(arr, r);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
