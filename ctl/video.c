/* video.c -- videoflixctl commands of the video area: video add/list/transcode/delete. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "job.h"
#include "probe.h"
#include "upload.h"
#include "video.h"
#include "videoadmin.h"

static const char video_usage[] =
    "usage: videoflixctl video add FILE --title TITLE --category CATEGORY [--description TEXT]\n"
    "       videoflixctl video list\n"
    "       videoflixctl video transcode ID [--overwrite]\n"
    "       videoflixctl video delete ID\n";

/* video add FILE --title T --category C [--description D] */
static int
video_add(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *file = NULL;
    struct upload_meta meta = { NULL, NULL, NULL };
    for (int i = 0; i < argc; i++) {
        const char **slot = NULL;
        if (strcmp(argv[i], "--title") == 0)
            slot = &meta.title;
        else if (strcmp(argv[i], "--description") == 0)
            slot = &meta.description;
        else if (strcmp(argv[i], "--category") == 0)
            slot = &meta.category;
        if (slot != NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "videoflixctl: %s needs a value\n%s", argv[i], video_usage);
                return 2;
            }
            *slot = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "videoflixctl: unknown option %s\n%s", argv[i], video_usage);
            return 2;
        } else if (file == NULL) {
            file = argv[i];
        } else {
            fprintf(stderr, "videoflixctl: one FILE only\n%s", video_usage);
            return 2;
        }
    }
    if (file == NULL || meta.title == NULL || meta.category == NULL) {
        fprintf(stderr, "videoflixctl: video add needs FILE, --title and --category\n%s",
                video_usage);
        return 2;
    }
    struct upload_error err;
    int64_t vid = 0, jid = 0;
    enum vf_err e = upload_add_file(&ctx->app, probe_file, file, &meta, &vid, &jid, &err);
    if (e != VF_OK) {
        if (err.field[0] != '\0' && strcmp(err.field, "file") != 0)
            return ctl_fail("--%s: %s", err.field, err.msg);
        return ctl_fail("%s", err.msg[0] != '\0' ? err.msg : vf_strerror(e));
    }
    printf("video %lld added; transcode job %lld queued\n", (long long)vid, (long long)jid);
    return 0;
}

static void
format_duration(double sec, char *buf, size_t len)
{
    long s = sec > 0 ? (long)(sec + 0.5) : 0;
    if (s == 0)
        snprintf(buf, len, "-");
    else if (s >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

/* video list: every video, newest first, with its newest transcode job. */
static int
video_list(struct ctl_ctx *ctx)
{
    struct video **list = NULL;
    struct videoadmin_job *jobs = NULL;
    size_t n = 0, nj = 0;
    enum vf_err e = video_list_all(ctx->app.db, &list, &n);
    if (e == VF_OK)
        e = videoadmin_jobs(ctx->app.db, &jobs, &nj);
    if (e != VF_OK) {
        fprintf(stderr, "videoflixctl: database error: %s\n", vf_strerror(e));
        video_list_free(list, n);
        return 1;
    }
    printf("%6s %-10s %-22s %8s %-9s %-16s %s\n", "ID", "STATE", "JOB", "DURATION", "SIZE",
           "CATEGORY", "TITLE");
    for (size_t i = 0; i < n; i++) {
        const struct video *v = list[i];
        const struct videoadmin_job *j = videoadmin_job_find(jobs, nj, v->id);
        char job[48] = "-", dur[48], size[32] = "-";
        if (j != NULL && j->state == JOB_RUNNING)
            snprintf(job, sizeof(job), "#%lld running %d%%", (long long)j->id, j->progress);
        else if (j != NULL)
            snprintf(job, sizeof(job), "#%lld %s", (long long)j->id, job_state_name(j->state));
        format_duration(v->duration, dur, sizeof(dur));
        if (v->width > 0)
            snprintf(size, sizeof(size), "%dx%d", v->width, v->height);
        printf("%6lld %-10s %-22s %8s %-9s %-16.16s %s\n", (long long)v->id,
               video_state_name(v->state), job, dur, size, v->category, v->title);
        if (v->state == VIDEO_FAILED && v->error[0] != '\0')
            printf("%6s   error: %s\n", "", v->error);
    }
    printf("%zu video%s\n", n, n == 1 ? "" : "s");
    video_list_free(list, n);
    free(jobs);
    return 0;
}

/* video transcode ID [--overwrite] */
static int
video_transcode(struct ctl_ctx *ctx, int argc, char **argv)
{
    bool overwrite = false;
    int64_t id = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--overwrite") == 0)
            overwrite = true;
        else if (id == 0 && (id = videoadmin_parse_id(argv[i])) > 0)
            continue;
        else {
            fprintf(stderr, "videoflixctl: bad argument '%s'\n%s", argv[i], video_usage);
            return 2;
        }
    }
    if (id == 0) {
        fprintf(stderr, "%s", video_usage);
        return 2;
    }
    struct video *v = NULL;
    enum vf_err e = video_get(ctx->app.db, id, &v);
    if (e == VF_ERR_NOTFOUND) {
        return ctl_fail("no video %lld", (long long)id);
    }
    bool ready = e == VF_OK && v->state == VIDEO_READY;
    video_free(v);
    if (e != VF_OK) {
        return ctl_fail("database error: %s", vf_strerror(e));
    }
    if (ready && !overwrite) {
        return ctl_fail("video %lld is ready; add --overwrite to transcode it again",
                        (long long)id);
    }
    int64_t jid = 0;
    e = videoadmin_retranscode(ctx->app.db, id, overwrite, &jid);
    if (e == VF_ERR_CONFLICT) {
        return ctl_fail(
            "a transcode of video %lld is already queued or running (--overwrite queues another)",
            (long long)id);
    }
    if (e != VF_OK) {
        return ctl_fail("cannot queue the transcode: %s", vf_strerror(e));
    }
    printf("transcode job %lld queued for video %lld\n", (long long)jid, (long long)id);
    return 0;
}

/* video delete ID */
static int
video_delete_cmd(struct ctl_ctx *ctx, int argc, char **argv)
{
    int64_t id = argc == 1 ? videoadmin_parse_id(argv[0]) : 0;
    if (id == 0) {
        fprintf(stderr, "%s", video_usage);
        return 2;
    }
    int left = 0;
    enum vf_err e = videoadmin_delete(ctx->app.cfg, ctx->app.db, id, &left);
    if (e == VF_ERR_NOTFOUND) {
        return ctl_fail("no video %lld", (long long)id);
    }
    if (e != VF_OK) {
        return ctl_fail("cannot delete video %lld: %s", (long long)id, vf_strerror(e));
    }
    if (left > 0) {
        return ctl_fail(
            "video %lld deleted, but %d file(s) could not be removed (see the log above)",
            (long long)id, left);
    }
    printf("video %lld deleted with its files\n", (long long)id);
    return 0;
}

static int
cmd_video(struct ctl_ctx *ctx, int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "%s", video_usage);
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "add") == 0)
        return video_add(ctx, argc - 2, argv + 2);
    if (strcmp(sub, "list") == 0 && argc == 2)
        return video_list(ctx);
    if (strcmp(sub, "transcode") == 0)
        return video_transcode(ctx, argc - 2, argv + 2);
    if (strcmp(sub, "delete") == 0)
        return video_delete_cmd(ctx, argc - 2, argv + 2);
    fprintf(stderr, "%s", video_usage);
    return 2;
}

const struct ctl_cmd ctl_video_cmds[] = {
    { "video", "video add|list|transcode|delete ...",
      "add a video file (queues its transcode), list videos, re-transcode or delete one", 1,
      cmd_video, 0 },
    { NULL, NULL, NULL, 0, NULL, 0 },
};
