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
row_to_job(const struct db_rows *r, size_t i, struct videoadmin_job *j)
{
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
    struct db_rows *r = NULL;
    *out = NULL;
    *n = 0;
    enum vf_err e = db_query(db, STMT_ADMIN_TRANSCODE_LATEST, DB_NOARGS, &r);
    if (e != VF_OK)
        return e;
    size_t cnt = db_rows_count(r);
    if (cnt > 0) {
        *out = calloc(cnt, sizeof(**out));
        if (*out == NULL) {
            db_rows_free(r);
            return VF_ERR_NOMEM;
        }
        for (size_t i = 0; i < cnt; i++)
            row_to_job(r, i, &(*out)[i]);
        *n = cnt;
    }
    db_rows_free(r);
    return VF_OK;
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

/* Remove everything below the directory `dfd` (closed here), never following a
 * symlink.  Returns the number of entries that could not be removed. */
static int
remove_tree_fd(int dfd, int depth)
{
    int left = 0;
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return 1;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            int sub = depth < 8 ? openat(dirfd(d), e->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                                : -1;
            if (sub < 0) {
                left++;
                continue;
            }
            left += remove_tree_fd(sub, depth + 1);
            if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) != 0)
                left++;
        } else if (unlinkat(dirfd(d), e->d_name, 0) != 0) {
            left++;
        }
    }
    closedir(d);
    return left;
}

/* Remove `path` (a file, a symlink or a directory tree); a missing path is fine. */
static int
remove_path(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : 1;
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) == 0 || errno == ENOENT)
            return 0;
        log_error("delete: cannot remove %s: %s", path, strerror(errno));
        return 1;
    }
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int left = dfd >= 0 ? remove_tree_fd(dfd, 0) : 1;
    if (rmdir(path) != 0 && errno != ENOENT) {
        log_error("delete: cannot remove %s: %s", path, strerror(errno));
        left++;
    }
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
