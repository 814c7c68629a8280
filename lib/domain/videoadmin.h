/* videoadmin.h -- staff operations on videos: their transcode jobs, re-transcode, delete. */
#ifndef VF_VIDEOADMIN_H
#define VF_VIDEOADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "error.h"
#include "job.h"

/* The newest transcode job of a video (jobs.video_id). */
struct videoadmin_job {
    int64_t video_id;
    int64_t id;
    enum job_state state;
    int progress, attempts, max_attempts; /* max_attempts 0 = JOB_MAX_ATTEMPTS */
    char error[256];                      /* "" when none */
    int64_t run_after, updated_at;        /* microseconds */
};

/* The newest transcode job of every video, ascending by video id.  *out is a malloc'd
 * array of *n (caller frees with free()); NULL when there are none. */
enum vf_err videoadmin_jobs(struct db *db, struct videoadmin_job **out, size_t *n);
/* Look a video up in such an array (binary search); NULL when it has no job. */
const struct videoadmin_job *videoadmin_job_find(const struct videoadmin_job *jobs, size_t n,
                                                 int64_t video_id);
/* The newest transcode job of one video; VF_ERR_NOTFOUND when it has none. */
enum vf_err videoadmin_job_for(struct db *db, int64_t video_id, struct videoadmin_job *out);
/* True while the job may still change the video (queued or running). */
bool videoadmin_job_active(const struct videoadmin_job *job);

/*
 * Queue a new transcode of an existing video from its source file (a ready video is
 * marked "overwrite": its renditions are replaced when the job publishes).  Unless
 * `force`, refused with VF_ERR_CONFLICT while one is queued or running.  VF_ERR_NOTFOUND
 * for no such video, VF_ERR_INVALID when it has no usable source path.  *job_id (may be
 * NULL) gets the new job's id.
 */
enum vf_err videoadmin_retranscode(struct db *db, int64_t video_id, bool force, int64_t *job_id);

/*
 * Delete a video for good: in one transaction its transcode jobs and its row (with its
 * renditions), then its files under MEDIA_ROOT: the source (uploads/...), hls/<id>/ and
 * thumbnails/<id>.jpg.  Symlinks are removed, never followed.  VF_ERR_NOTFOUND for no
 * such video.  A file that cannot be removed is logged and *leftovers (may be NULL)
 * counts it; the rows are gone either way.
 */
enum vf_err videoadmin_delete(const struct config *cfg, struct db *db, int64_t video_id,
                              int *leftovers);

/* A row of the staff's job list: any kind, with the video it concerns (never the payload:
 * mail payloads hold link tokens). */
struct videoadmin_job_row {
    int64_t id;
    char kind[32];
    enum job_state state;
    int progress, attempts, max_attempts; /* max_attempts 0 = JOB_MAX_ATTEMPTS */
    char error[256];                      /* "" when none */
    int64_t run_after, created_at, updated_at;
    int64_t video_id;      /* 0 when the job concerns no video */
    char video_title[256]; /* "" when none (or the video is gone) */
};

/* The newest `limit` jobs in state `state` (NULL or "" = any), newest first.  *out is a
 * malloc'd array of *n (caller frees with free()); NULL when there are none. */
enum vf_err videoadmin_job_list(struct db *db, const char *state, int limit,
                                struct videoadmin_job_row **out, size_t *n);

/*
 * Housekeeping (the worker's prune hooks): remove the staging/<id>.* directories of videos
 * that no longer exist, which a transcode that was running when its video was deleted may
 * have left (ids are never reused, so nothing else would).  *removed (may be NULL) counts
 * them.
 */
enum vf_err videoadmin_sweep_staging(const struct config *cfg, struct db *db, int64_t *removed);

/* Parse a positive decimal id (no sign, no leading zero, fits int64); 0 when invalid. */
int64_t videoadmin_parse_id(const char *s);

#endif
