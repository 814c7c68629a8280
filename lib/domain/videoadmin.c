/* videoadmin.c -- staff operations on videos: their transcode jobs, re-transcode, delete. */
#include "autoconf.h"

#include "videoadmin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transcode_payload.h"
#include "fstree.h"
#include "log.h"
#include "media.h"
#include "video.h"

int64_t
videoadmin_parse_id(const char *s)
{
    if (s == NULL || *s < '1' || *s > '9')
        return 0;
    int64_t v = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        int d = *s - '0';
        if (v > (INT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    return v;
}

static void
row_to_job(const struct db_rows *r, size_t i, void *elem)
{
    struct videoadmin_job *j = elem;
    memset(j, 0, sizeof(*j));
    j->video_id = db_rows_int(r, i, 0);
    j->id = db_rows_int(r, i, 1);
    int st = job_state_parse(db_rows_text(r, i, 2) != NULL ? db_rows_text(r, i, 2) : "");
    j->state = st < 0 ? JOB_FAILED : (enum job_state)st;
    j->progress = (int)db_rows_int(r, i, 3);
    j->attempts = (int)db_rows_int(r, i, 4);
    j->max_attempts = (int)db_rows_int(r, i, 5);
    const char *e = db_rows_text(r, i, 6);
    snprintf(j->error, sizeof(j->error), "%s", e != NULL ? e : "");
    j->run_after = db_rows_int(r, i, 7);
    j->updated_at = db_rows_int(r, i, 8);
}

enum vf_err
videoadmin_jobs(struct db *db, struct videoadmin_job **out, size_t *n)
{
    return db_query_list(db, STMT_ADMIN_TRANSCODE_LATEST, DB_NOARGS, sizeof(**out), row_to_job,
                         (void **)out, n);
}

/* STMT_ADMIN_JOBS: id, kind, state, progress, attempts, max_attempts, last_error, run_after,
 * created_at, updated_at, video_id, video title */
static void
row_to_job_row(const struct db_rows *r, size_t i, void *elem)
{
    struct videoadmin_job_row *j = elem;
    const char *kind = db_rows_text(r, i, 1), *state = db_rows_text(r, i, 2);
    const char *err = db_rows_text(r, i, 6), *title = db_rows_text(r, i, 11);
    int st = job_state_parse(state != NULL ? state : "");
    j->id = db_rows_int(r, i, 0);
    snprintf(j->kind, sizeof(j->kind), "%s", kind != NULL ? kind : "");
    j->state = st >= 0 ? (enum job_state)st : JOB_QUEUED;
    j->progress = (int)db_rows_int(r, i, 3);
    j->attempts = (int)db_rows_int(r, i, 4);
    j->max_attempts = (int)db_rows_int(r, i, 5);
    snprintf(j->error, sizeof(j->error), "%s", err != NULL ? err : "");
    j->run_after = db_rows_int(r, i, 7);
    j->created_at = db_rows_int(r, i, 8);
    j->updated_at = db_rows_int(r, i, 9);
    j->video_id = db_rows_isnull(r, i, 10) ? 0 : db_rows_int(r, i, 10);
    snprintf(j->video_title, sizeof(j->video_title), "%s", title != NULL ? title : "");
}

enum vf_err
videoadmin_job_list(struct db *db, const char *state, int limit, struct videoadmin_job_row **out,
                    size_t *n)
{
    return db_query_list(db, STMT_ADMIN_JOBS,
                         DB_ARGS(DB_TEXT(state != NULL ? state : ""), DB_INT(limit)), sizeof(**out),
                         row_to_job_row, (void **)out, n);
}

const struct videoadmin_job *
videoadmin_job_find(const struct videoadmin_job *jobs, size_t n, int64_t video_id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (jobs[mid].video_id == video_id)
            return &jobs[mid];
        if (jobs[mid].video_id < video_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

enum vf_err
videoadmin_job_for(struct db *db, int64_t video_id, struct videoadmin_job *out)
{
    struct db_rows *r = NULL;
    enum vf_err e = db_query_row(db, STMT_ADMIN_TRANSCODE_FOR_VIDEO, DB_ARGS(DB_INT(video_id)), &r);
    if (e != VF_OK)
        return e;
    row_to_job(r, 0, out);
    db_rows_free(r);
    return VF_OK;
}

bool
videoadmin_job_active(const struct videoadmin_job *job)
{
    return job != NULL && (job->state == JOB_QUEUED || job->state == JOB_RUNNING);
}

enum vf_err
videoadmin_retranscode(struct db *db, int64_t video_id, bool force, int64_t *job_id)
{
    struct video *v = NULL;
    struct videoadmin_job j;
    enum vf_err e = db_begin(db);
    if (e != VF_OK)
        return e;
    e = video_get(db, video_id, &v);
    if (e == VF_OK && !force) {
        enum vf_err je = videoadmin_job_for(db, video_id, &j);
        if (je == VF_OK && videoadmin_job_active(&j))
            e = VF_ERR_CONFLICT;
        else if (je != VF_OK && je != VF_ERR_NOTFOUND)
            e = je;
    }
    /* A published video is re-transcoded in place: the transcoder replaces hls/<id>/. */
    if (e == VF_OK)
        e = transcode_payload_enqueue(db, video_id, v->source_path, v->state == VIDEO_READY,
                                      v->duration, job_id);
    video_free(v);
    if (e == VF_OK)
        e = db_commit(db);
    if (e != VF_OK)
        db_rollback(db);
    return e;
}

/* Remove `path` (a file, a symlink or a directory tree); a missing path is fine.  Logs and
 * returns the number of entries left behind. */
static int
remove_path(const char *path)
{
    int left = fstree_remove(path);
    if (left > 0)
        log_error("delete: cannot remove %s: %s", path, strerror(errno));
    return left;
}

/* Remove every staging/<id>.* of video `id`; returns the entries left behind. */
static int
remove_staging(const char *root, int64_t id)
{
    char dir[PATH_MAX], prefix[32], path[PATH_MAX];
    int left = 0;
    if (media_dir_path(root, MEDIA_STAGING, dir, sizeof(dir)) < 0)
        return 0;
    snprintf(prefix, sizeof(prefix), "%lld.", (long long)id);
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path))
            left += remove_path(path);
    }
    closedir(d);
    return left;
}

/* A source path we wrote ourselves: "uploads/<name>" with a plain file name. */
static bool
source_path_ok(const char *p)
{
    static const char pre[] = "uploads/";
    if (p == NULL || strncmp(p, pre, sizeof(pre) - 1) != 0)
        return false;
    const char *name = p + sizeof(pre) - 1;
    return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL;
}

enum vf_err
videoadmin_delete(const struct config *cfg, struct db *db, int64_t video_id, int *leftovers)
{
    struct video *v = NULL;
    char path[PATH_MAX];
    int left = 0;

    if (leftovers != NULL)
        *leftovers = 0;
    enum vf_err e = video_get(db, video_id, &v);
    if (e != VF_OK)
        return e;
    e = db_begin(db);
    if (e == VF_OK)
        e = db_exec(db, STMT_ADMIN_DELETE_VIDEO_JOBS, DB_ARGS(DB_INT(video_id)), NULL);
    if (e == VF_OK)
        e = video_delete(db, video_id);
    if (e == VF_OK)
        e = db_commit(db);
    if (e != VF_OK) {
        db_rollback(db);
        video_free(v);
        return e;
    }

    /* The rows are gone: nothing refers to the files any more. */
    if (v->source_path[0] != '\0') {
        if (source_path_ok(v->source_path)) {
            snprintf(path, sizeof(path), "%s/%s", cfg->media_root, v->source_path);
            left += remove_path(path);
        } else {
            log_warn("delete: video %lld: unexpected source path left alone", (long long)video_id);
        }
    }
    /* A transcode in progress writes below staging/<id>.<random>: remove that too (the
     * child's writes then fail, its job row is gone, so nothing is published). */
    left += remove_staging(cfg->media_root, video_id);
    if (media_hls_path(cfg->media_root, video_id, path, sizeof(path)) > 0)
        left += remove_path(path);
    if (media_thumbnail_path(cfg->media_root, video_id, path, sizeof(path)) > 0)
        left += remove_path(path);
    video_free(v);
    if (left > 0)
        log_error("delete: video %lld: %d file(s) could not be removed", (long long)video_id, left);
    else
        log_info("delete: video %lld and its files removed", (long long)video_id);
    if (leftovers != NULL)
        *leftovers = left;
    return VF_OK;
}

enum vf_err
videoadmin_sweep_staging(const struct config *cfg, struct db *db, int64_t *removed)
{
    char dir[PATH_MAX];
    int64_t n = 0;
    enum vf_err err = VF_OK;
    if (removed != NULL)
        *removed = 0;
    if (media_dir_path(cfg->media_root, MEDIA_STAGING, dir, sizeof(dir)) < 0)
        return VF_ERR_INVALID;
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? VF_OK : VF_ERR_IO;
    int64_t last_checked = 0;
    bool last_gone = false;
    for (struct dirent *e; (e = readdir(d)) != NULL && err == VF_OK;) {
        char *end = NULL;
        long long id = strtoll(e->d_name, &end, 10);
        if (id < 1 || end == NULL || *end != '.')
            continue;
        if (id != last_checked) {
            struct video *v = NULL;
            enum vf_err ge = video_get(db, id, &v);
            video_free(v);
            if (ge != VF_OK && ge != VF_ERR_NOTFOUND) {
                err = ge;
                break;
            }
            last_checked = id;
            last_gone = ge == VF_ERR_NOTFOUND;
        }
        if (!last_gone)
            continue;
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path) &&
            remove_path(path) == 0)
            n++;
    }
    closedir(d);
    if (removed != NULL)
        *removed = n;
    return err;
}
