/* admin.c -- handlers of the admin resource: the staff-only API under /api/admin/. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accountmail.h"
#include "clock.h"
#include "form.h"
#include "json.h"
#include "log.h"
#include "media.h"
#include "mediafile.h"
#include "metrics.h"
#include "routes.h"
#include "probe.h"
#include "uploadform.h"
#include "user.h"
#include "video.h"
#include "videoadmin.h"

#define JOB_LIST_LIMIT 200

/* ------------------------------------------------------------ rendering */

static void
add_time(cJSON *o, const char *key, int64_t us)
{
    char buf[32];
    if (us <= 0)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddStringToObject(o, key, clock_format_iso(us, buf));
}

static void
add_text_or_null(cJSON *o, const char *key, const char *s)
{
    if (s == NULL || s[0] == '\0')
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddStringToObject(o, key, s);
}

static cJSON *
job_json(const struct app *app, const struct videoadmin_job *j)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)j->id);
    cJSON_AddStringToObject(o, "state", job_state_name(j->state));
    cJSON_AddNumberToObject(o, "progress", j->progress);
    cJSON_AddNumberToObject(o, "attempts", j->attempts);
    cJSON_AddNumberToObject(o, "max_attempts",
                            j->max_attempts > 0 ? j->max_attempts : app->cfg->job_max_attempts);
    add_text_or_null(o, "error", j->error);
    add_time(o, "run_after", j->run_after);
    add_time(o, "updated_at", j->updated_at);
    return o;
}

/* The admin view of a video: every state, with its newest transcode job (or null). */
static cJSON *
video_json(const struct app *app, const struct video *v, const struct videoadmin_job *j)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    char url[1024];
    cJSON_AddNumberToObject(o, "id", (double)v->id);
    cJSON_AddStringToObject(o, "title", v->title);
    cJSON_AddStringToObject(o, "description", v->description);
    cJSON_AddStringToObject(o, "category", v->category);
    cJSON_AddStringToObject(o, "state", video_state_name(v->state));
    add_text_or_null(o, "error", v->error);
    add_time(o, "created_at", v->created_at);
    add_time(o, "updated_at", v->updated_at);
    cJSON_AddNumberToObject(o, "duration", v->duration);
    cJSON_AddNumberToObject(o, "width", v->width);
    cJSON_AddNumberToObject(o, "height", v->height);
    if (v->has_thumbnail) {
        if (media_thumbnail_url(app->cfg->public_url, v->id, url, sizeof(url)) > 0)
            cJSON_AddStringToObject(o, "thumbnail_url", url);
        else
            cJSON_AddNullToObject(o, "thumbnail_url");
    } else {
        cJSON_AddNullToObject(o, "thumbnail_url");
    }
    cJSON *rs = cJSON_AddArrayToObject(o, "renditions");
    for (size_t i = 0; rs != NULL && i < v->nrenditions; i++) {
        /* the ladder step (URL name) that holds the rendition: its rung, e.g. "480p" */
        const struct video_rendition *vr = &v->renditions[i];
        const char *name = mediafile_res_name(mediafile_res_of(vr->name, vr->width, vr->height));
        cJSON_AddItemToArray(rs, cJSON_CreateString(name != NULL ? name : "?"));
    }
    if (j != NULL)
        cJSON_AddItemToObject(o, "job", job_json(app, j));
    else
        cJSON_AddNullToObject(o, "job");
    return o;
}

static cJSON *
user_json(const struct user_summary *u)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)u->id);
    cJSON_AddStringToObject(o, "email", u->email);
    cJSON_AddBoolToObject(o, "is_active", u->is_active);
    cJSON_AddBoolToObject(o, "is_staff", u->is_staff);
    cJSON_AddBoolToObject(o, "is_superuser", u->is_superuser);
    add_time(o, "last_login", u->last_login);
    add_time(o, "date_joined", u->created_at);
    cJSON_AddBoolToObject(o, "activation_pending", u->activation_pending);
    return o;
}

/* 200 with a built array or object, or 500 when building it ran out of memory. */
static void
reply_built(struct http_request *req, struct http_response *res, cJSON *built)
{
    if (built == NULL)
        json_error_reply(req, res, VF_ERR_NOMEM);
    else
        json_reply(res, 200, built);
}

/* Reply with one video as loaded now. */
static void
reply_video(struct app *app, struct http_request *req, struct http_response *res, int status,
            int64_t id)
{
    struct video *v = NULL;
    struct videoadmin_job j;
    enum vf_err e = video_get(app->db, id, &v);
    enum vf_err je = e == VF_OK ? videoadmin_job_for(app->db, id, &j) : VF_OK;
    if (e != VF_OK || (je != VF_OK && je != VF_ERR_NOTFOUND)) {
        video_free(v);
        json_error_reply(req, res, e != VF_OK ? e : je);
        return;
    }
    cJSON *o = video_json(app, v, je == VF_OK ? &j : NULL);
    video_free(v);
    if (o == NULL)
        json_error_reply(req, res, VF_ERR_NOMEM);
    else
        json_reply(res, status, o);
}

/* ------------------------------------------------------------- handlers */

/* GET /api/admin/me/ -- who is signed in (the panel's first call). */
static void
h_me(struct app *app, struct http_request *req, struct http_response *res)
{
    const struct user *u = req->user;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) {
        json_error_reply(req, res, VF_ERR_NOMEM);
        return;
    }
    cJSON_AddNumberToObject(o, "id", (double)u->id);
    cJSON_AddStringToObject(o, "email", u->email);
    cJSON_AddBoolToObject(o, "is_staff", u->is_staff);
    cJSON_AddBoolToObject(o, "is_superuser", u->is_superuser);
    cJSON_AddNumberToObject(o, "upload_max_bytes", (double)app->cfg->upload_max_bytes);
    json_reply(res, 200, o);
}

/* GET /api/admin/videos/ -- every video, newest first, with its transcode job. */
static void
h_videos(struct app *app, struct http_request *req, struct http_response *res)
{
    struct video **list = NULL;
    struct videoadmin_job *jobs = NULL;
    size_t n = 0, nj = 0;
    enum vf_err e = video_list_all(app->db, &list, &n);
    if (e == VF_OK)
        e = videoadmin_jobs(app->db, &jobs, &nj);
    cJSON *arr = e == VF_OK ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; arr != NULL && i < n; i++) {
        cJSON *o = video_json(app, list[i], videoadmin_job_find(jobs, nj, list[i]->id));
        if (o == NULL) {
            cJSON_Delete(arr);
            arr = NULL;
            e = VF_ERR_NOMEM;
        } else {
            cJSON_AddItemToArray(arr, o);
        }
    }
    video_list_free(list, n);
    free(jobs);
    if (e != VF_OK || arr == NULL) {
        json_error_reply(req, res, e != VF_OK ? e : VF_ERR_NOMEM);
        return;
    }
    json_reply(res, 200, arr);
}

/* POST /api/admin/videos/ -- multipart upload, streamed to disk. */
static void
h_upload(struct app *app, struct http_request *req, struct http_response *res)
{
    struct upload_error err;
    int64_t vid = 0, jid = 0;
    enum vf_err e = uploadform_receive(app, req, probe_file, &vid, &jid, &err);
    if (e == VF_OK) {
        if (req->content_length > 0) /* the request's bytes: the file and its multipart framing */
            metrics_add(MC_UPLOAD_BYTES, (uint64_t)req->content_length);
        log_info("admin: user %lld uploaded video %lld (job %lld)", (long long)req->user->id,
                 (long long)vid, (long long)jid);
        reply_video(app, req, res, 201, vid);
        return;
    }
    if (err.field[0] != '\0') {
        cJSON *errs = NULL;
        if (json_errors_add(&errs, err.field, err.msg)) {
            json_errors_reply(res, errs);
        } else {
            cJSON_Delete(errs);
            json_error_reply(req, res, VF_ERR_NOMEM);
        }
        return;
    }
    /* The upload's own words for 4xx, 503 and 507; a 500 stays generic. */
    json_error_reply_detail(req, res, e, err.msg[0] != '\0' ? err.msg : NULL);
}

/* GET /api/admin/videos/<id>/ */
static void
h_video(struct app *app, struct http_request *req, struct http_response *res)
{
    reply_video(app, req, res, 200, req->param_ids[0]);
}

/* PATCH /api/admin/videos/<id>/ {"title","description","category"} (each optional): their
 * types here, their content (blank, length, UTF-8) by upload_meta_valid as for an upload. */
enum { VE_TITLE, VE_DESCRIPTION, VE_CATEGORY, VE__MAX };
static const struct form_field video_edit_form[VE__MAX] = {
    [VE_TITLE] = { "title", FORM_TEXT, false, 0 },
    [VE_DESCRIPTION] = { "description", FORM_TEXT, false, 0 },
    [VE_CATEGORY] = { "category", FORM_TEXT, false, 0 },
};

static void
h_video_edit(struct app *app, struct http_request *req, struct http_response *res)
{
    struct upload_error err;
    struct form_value v[VE__MAX];
    cJSON *errs = NULL;
    int64_t id = req->param_ids[0];
    if (!json_object_or_reply(req->json, res))
        return;
    if (!form_parse(req->json, video_edit_form, VE__MAX, v, NULL, &errs)) {
        json_errors_reply(res, errs);
        return;
    }
    struct upload_meta meta = { .title = v[VE_TITLE].s,
                                .description = v[VE_DESCRIPTION].s,
                                .category = v[VE_CATEGORY].s };
    if (!upload_meta_valid(&meta, false, &err)) {
        json_field_error(res, err.field, err.msg);
        return;
    }
    enum vf_err e = video_update_meta(app->db, id, meta.title, meta.description, meta.category);
    if (e != VF_OK) {
        json_error_reply(req, res, e);
        return;
    }
    reply_video(app, req, res, 200, id);
}

/* DELETE /api/admin/videos/<id>/ -- rows, jobs and every file. */
static void
h_video_delete(struct app *app, struct http_request *req, struct http_response *res)
{
    int left = 0;
    int64_t id = req->param_ids[0];
    enum vf_err e = videoadmin_delete(app->cfg, app->db, id, &left);
    if (e != VF_OK) {
        json_error_reply(req, res, e);
        return;
    }
    log_info("admin: user %lld deleted video %lld", (long long)req->user->id, (long long)id);
    json_detail(res, 200,
                left == 0 ? "Video deleted."
                          : "Video deleted; some files could not be removed (see the "
                            "server log).");
}

/* POST /api/admin/videos/<id>/transcode/ -- queue a new transcode (202). */
static void
h_video_transcode(struct app *app, struct http_request *req, struct http_response *res)
{
    int64_t jid = 0;
    int64_t id = req->param_ids[0];
    enum vf_err e = videoadmin_retranscode(app->db, id, false, &jid);
    if (e == VF_ERR_CONFLICT) {
        json_detail(res, 409, "A transcode of this video is already queued or running.");
        return;
    }
    if (e == VF_ERR_INVALID) {
        json_detail(res, 400, "This video has no source file to transcode.");
        return;
    }
    if (e != VF_OK) {
        json_error_reply(req, res, e);
        return;
    }
    log_info("admin: user %lld queued transcode job %lld of video %lld", (long long)req->user->id,
             (long long)jid, (long long)id);
    reply_video(app, req, res, 202, id);
}

/* GET /api/admin/jobs/[?state=queued|running|done|failed] */
static void
h_jobs(struct app *app, struct http_request *req, struct http_response *res)
{
    char state[16];
    const char *st = http_query(req, "state", state, sizeof(state));
    if (st == NULL)
        st = "";
    if (st[0] != '\0' && job_state_parse(st) < 0) {
        json_field_error(res, "state", "Select a valid choice.");
        return;
    }
    struct videoadmin_job_row *jobs = NULL;
    size_t n = 0;
    enum vf_err e = videoadmin_job_list(app->db, st, JOB_LIST_LIMIT, &jobs, &n);
    if (e != VF_OK) {
        json_error_reply(req, res, e);
        return;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        const struct videoadmin_job_row *j = &jobs[i];
        cJSON *o = cJSON_CreateObject();
        if (o == NULL)
            break;
        cJSON_AddNumberToObject(o, "id", (double)j->id);
        cJSON_AddStringToObject(o, "kind", j->kind);
        cJSON_AddStringToObject(o, "state", job_state_name(j->state));
        cJSON_AddNumberToObject(o, "progress", j->progress);
        cJSON_AddNumberToObject(o, "attempts", j->attempts);
        /* mail is retried for MAIL_RETRY_WINDOW, not a number of times: null */
        if (j->max_attempts <= 0 && strcmp(j->kind, "mail") == 0)
            cJSON_AddNullToObject(o, "max_attempts");
        else
            cJSON_AddNumberToObject(o, "max_attempts",
                                    j->max_attempts > 0 ? j->max_attempts
                                                        : app->cfg->job_max_attempts);
        add_text_or_null(o, "error", j->error[0] != '\0' ? j->error : NULL);
        add_time(o, "run_after", j->run_after);
        add_time(o, "created_at", j->created_at);
        add_time(o, "updated_at", j->updated_at);
        if (j->video_id == 0)
            cJSON_AddNullToObject(o, "video_id");
        else
            cJSON_AddNumberToObject(o, "video_id", (double)j->video_id);
        add_text_or_null(o, "video_title", j->video_title[0] != '\0' ? j->video_title : NULL);
        cJSON_AddItemToArray(arr, o);
    }
    free(jobs);
    reply_built(req, res, arr);
}

/* POST /api/admin/jobs/<id>/retry/ -- a failed (or queued) job runs again now. */
static void
h_job_retry(struct app *app, struct http_request *req, struct http_response *res)
{
    struct job_info ji;
    int64_t id = req->param_ids[0];
    enum vf_err e = job_retry(app->db, id);
    if (e == VF_ERR_CONFLICT) {
        json_detail(res, 409, "Only failed or queued jobs can be retried.");
        return;
    }
    if (e == VF_OK)
        e = job_get(app->db, id, &ji);
    if (e != VF_OK) {
        json_error_reply(req, res, e);
        return;
    }
    log_info("admin: user %lld retried job %lld", (long long)req->user->id, (long long)id);
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddNumberToObject(o, "id", (double)ji.id);
        cJSON_AddStringToObject(o, "kind", ji.kind);
        cJSON_AddStringToObject(o, "state", job_state_name(ji.state));
        cJSON_AddNumberToObject(o, "attempts", ji.attempts);
        cJSON_AddNumberToObject(o, "max_attempts",
                                ji.max_attempts > 0 ? ji.max_attempts : app->cfg->job_max_attempts);
    }
    job_info_clear(&ji);
    reply_built(req, res, o);
}

/* GET /api/admin/users/ */
static void
h_users(struct app *app, struct http_request *req, struct http_response *res)
{
    struct user_summary *users = NULL;
    size_t n = 0;
    enum vf_err e = user_list(app->db, &users, &n);
    if (e != VF_OK) {
        json_error_reply(req, res, e);
        return;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        cJSON *o = user_json(&users[i]);
        if (o != NULL)
            cJSON_AddItemToArray(arr, o);
    }
    free(users);
    reply_built(req, res, arr);
}

/* PATCH /api/admin/users/<id>/ {"is_active": bool, "is_staff": bool} (each optional).
 * Nobody changes their own account here (no lock-out), and only a superuser touches a
 * superuser.  Deactivating ends the user's sessions (token version bump). */
enum { UE_ACTIVE, UE_STAFF, UE__MAX };
static const struct form_field user_edit_form[UE__MAX] = {
    [UE_ACTIVE] = { "is_active", FORM_BOOL, false, 0 },
    [UE_STAFF] = { "is_staff", FORM_BOOL, false, 0 },
};

static void
h_user_edit(struct app *app, struct http_request *req, struct http_response *res)
{
    const struct user *me = req->user;
    struct user target;
    struct form_value v[UE__MAX];
    cJSON *errs = NULL;
    int64_t id = req->param_ids[0];
    if (!json_object_or_reply(req->json, res))
        return;
    if (!form_parse(req->json, user_edit_form, UE__MAX, v, NULL, &errs)) {
        json_errors_reply(res, errs);
        return;
    }
    /* 1 true, 0 false, -1 absent (unchanged) */
    int active = v[UE_ACTIVE].present ? v[UE_ACTIVE].b : -1;
    int staff = v[UE_STAFF].present ? v[UE_STAFF].b : -1;
    enum vf_err e = user_get(app->db, id, &target, NULL);
    if (e != VF_OK) {
        json_error_reply(req, res, e);
        return;
    }
    if (target.id == me->id) {
        json_detail(res, 403, "You cannot change your own account here.");
        return;
    }
    if (target.is_superuser && !me->is_superuser) {
        json_detail(res, 403, "You do not have permission to perform this action.");
        return;
    }
    e = db_begin(app->db);
    if (e == VF_OK && active >= 0 && (active == 1) != target.is_active)
        e = user_set_active(app->db, id, active == 1);
    if (e == VF_OK && staff >= 0 && (staff == 1) != target.is_staff)
        e = user_set_staff(app->db, id, staff == 1, staff == 1 && target.is_superuser);
    if (e == VF_OK)
        e = db_commit(app->db);
    if (e != VF_OK) {
        db_rollback(app->db);
        json_error_reply(req, res, e);
        return;
    }
    log_info("admin: user %lld changed user %lld (active %d, staff %d)", (long long)me->id,
             (long long)id, active, staff);
    struct user_summary after;
    e = user_summary_get(app->db, id, &after);
    if (e != VF_OK) {
        json_error_reply(req, res, e);
        return;
    }
    reply_built(req, res, user_json(&after));
}

/* POST /api/admin/users/<id>/activation/: queue a fresh activation mail for an account that
 * registered and was never activated (its first mail may have been lost).  202, or 409 for an
 * account that does not await activation (active, or deactivated by staff: activate it here
 * instead), 404 for no such account. */
static void
h_user_activation(struct app *app, struct http_request *req, struct http_response *res)
{
    struct user u;
    char hash[USER_HASH_MAX];
    int64_t id = req->param_ids[0];
    enum vf_err e = user_get(app->db, id, &u, hash);
    if (e == VF_OK)
        e = accountmail_queue(app->db, app->cfg->secret_key, ACCOUNTMAIL_ACTIVATION, &u, hash,
                              NULL);
    if (e == VF_ERR_CONFLICT) {
        json_detail(res, 409, "This account is not awaiting activation.");
        return;
    }
    if (e != VF_OK) {
        json_error_reply(req, res, e);
        return;
    }
    log_info("admin: user %lld queued an activation mail for user %lld", (long long)req->user->id,
             (long long)id);
    json_detail(res, 202, "Activation email queued.");
}

/* The staff-only API: the dispatcher checks the staff user before any handler runs (401,
 * 403) and parses {id} (404 when malformed), so handlers read req->user and req->param_ids. */
const struct route admin_routes[] = {
    { HTTP_GET, "/api/admin/me/", h_me, ROUTE_NO_STORE, ROUTE_AUTH_STAFF },
    { HTTP_GET, "/api/admin/videos/", h_videos, ROUTE_NO_STORE, ROUTE_AUTH_STAFF },
    { HTTP_POST, "/api/admin/videos/", h_upload, ROUTE_STREAM | ROUTE_NO_STORE, ROUTE_AUTH_STAFF },
    { HTTP_GET, "/api/admin/videos/{id}/", h_video, ROUTE_NO_STORE, ROUTE_AUTH_STAFF },
    { HTTP_PATCH, "/api/admin/videos/{id}/", h_video_edit, ROUTE_JSON | ROUTE_NO_STORE,
      ROUTE_AUTH_STAFF },
    { HTTP_DELETE, "/api/admin/videos/{id}/", h_video_delete, ROUTE_NO_STORE, ROUTE_AUTH_STAFF },
    { HTTP_POST, "/api/admin/videos/{id}/transcode/", h_video_transcode,
      ROUTE_JSON | ROUTE_NO_STORE, ROUTE_AUTH_STAFF },
    { HTTP_GET, "/api/admin/jobs/", h_jobs, ROUTE_NO_STORE, ROUTE_AUTH_STAFF },
    { HTTP_POST, "/api/admin/jobs/{id}/retry/", h_job_retry, ROUTE_JSON | ROUTE_NO_STORE,
      ROUTE_AUTH_STAFF },
    { HTTP_GET, "/api/admin/users/", h_users, ROUTE_NO_STORE, ROUTE_AUTH_STAFF },
    { HTTP_PATCH, "/api/admin/users/{id}/", h_user_edit, ROUTE_JSON | ROUTE_NO_STORE,
      ROUTE_AUTH_STAFF },
    { HTTP_POST, "/api/admin/users/{id}/activation/", h_user_activation,
      ROUTE_JSON | ROUTE_NO_STORE, ROUTE_AUTH_STAFF },
    { 0, NULL, NULL, 0, ROUTE_AUTH_NONE },
};
