/* video.c -- the videos table: create, state changes, lookups (schema 004_catalogue). */
#include "autoconf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "video.h"

static const char *const state_names[] = {
    [VIDEO_UPLOADED] = "uploaded",
    [VIDEO_PROCESSING] = "processing",
    [VIDEO_READY] = "ready",
    [VIDEO_FAILED] = "failed",
};

const char *
video_state_name(enum video_state s)
{
    if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
        return "unknown";
    return state_names[s];
}

int
video_state_parse(const char *s)
{
    for (size_t i = 0; s && i < sizeof(state_names) / sizeof(state_names[0]); i++)
        if (strcmp(s, state_names[i]) == 0)
            return (int)i;
    return -1;
}

void
video_free(struct video *v)
{
    if (!v)
        return;
    free(v->title);
    free(v->description);
    free(v->category);
    free(v->source_path);
    free(v->error);
    free(v);
}

void
video_list_free(struct video **list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        video_free(list[i]);
    free(list);
}

static char *
dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* Build a video from row `i` of a VIDEO_COLS result.  NULL on allocation failure. */
static struct video *
video_from_row(const struct db_rows *r, size_t i)
{
    struct video *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->id = db_rows_int(r, i, 0);
    v->title = dup_or_empty(db_rows_text(r, i, 1));
    v->description = dup_or_empty(db_rows_text(r, i, 2));
    v->category = dup_or_empty(db_rows_text(r, i, 3));
    v->created_at = db_rows_int(r, i, 4);
    v->updated_at = db_rows_int(r, i, 5);
    v->source_path = dup_or_empty(db_rows_text(r, i, 6));
    v->has_thumbnail = db_rows_int(r, i, 7) != 0;
    int st = video_state_parse(db_rows_text(r, i, 8));
    v->state = st < 0 ? VIDEO_FAILED : (enum video_state)st;
    v->duration = (double)db_rows_int(r, i, 9) / 1000.0;
    v->width = (int)db_rows_int(r, i, 10);
    v->height = (int)db_rows_int(r, i, 11);
    v->error = dup_or_empty(db_rows_text(r, i, 12));
    if (!v->title || !v->description || !v->category || !v->source_path || !v->error) {
        video_free(v);
        return NULL;
    }
    return v;
}

/* A rendition name: up to 7 of [0-9a-z] (the empty name of an old row included). */
static bool
rendition_name_ok(const char *s)
{
    size_t n = strnlen(s, sizeof(((struct video_rendition *)0)->name));
    if (n >= sizeof(((struct video_rendition *)0)->name))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z')))
            return false;
    return true;
}

/* Fill one rendition from row `i`, columns starting at `c`. */
static void
rendition_from_row(const struct db_rows *r, size_t i, size_t c, struct video_rendition *out)
{
    memset(out, 0, sizeof(*out));
    out->height = (int)db_rows_int(r, i, c);
    out->width = (int)db_rows_int(r, i, c + 1);
    out->bandwidth = db_rows_int(r, i, c + 2);
    out->avg_bandwidth = db_rows_int(r, i, c + 3);
    const char *codecs = db_rows_text(r, i, c + 4);
    if (codecs) {
        strncpy(out->codecs, codecs, sizeof(out->codecs) - 1);
        out->codecs[sizeof(out->codecs) - 1] = '\0';
    }
    const char *name = db_rows_text(r, i, c + 5);
    if (name && rendition_name_ok(name))
        memcpy(out->name, name, strlen(name) + 1);
    out->frame_rate = (double)db_rows_int(r, i, c + 6) / 1000.0;
    out->iframe_bandwidth = db_rows_int(r, i, c + 7);
}

enum vf_err
video_get(struct db *db, int64_t id, struct video **out)
{
    struct db_rows *rows = NULL;
    *out = NULL;
    enum vf_err err = db_query_row(db, STMT_VIDEO_GET, DB_ARGS(DB_INT(id)), &rows);
    if (err)
        return err;
    struct video *v = video_from_row(rows, 0);
    db_rows_free(rows);
    if (!v)
        return VF_ERR_NOMEM;
    err = db_query(db, STMT_VIDEO_RENDITIONS, DB_ARGS(DB_INT(id)), &rows);
    if (err) {
        video_free(v);
        return err;
    }
    size_t n = db_rows_count(rows);
    for (size_t i = 0; i < n && v->nrenditions < VIDEO_MAX_RENDITIONS; i++)
        rendition_from_row(rows, i, 0, &v->renditions[v->nrenditions++]);
    db_rows_free(rows);
    *out = v;
    return VF_OK;
}

enum vf_err
video_list_all(struct db *db, struct video ***out, size_t *n)
{
    struct db_rows *rows = NULL, *rend = NULL;
    *out = NULL;
    *n = 0;
    enum vf_err err = db_query(db, STMT_VIDEO_LIST_ALL, DB_NOARGS, &rows);
    if (err)
        return err;
    err = db_query(db, STMT_VIDEO_RENDITIONS_ALL, DB_NOARGS, &rend);
    if (err) {
        db_rows_free(rows);
        return err;
    }
    size_t count = db_rows_count(rows);
    struct video **list = calloc(count ? count : 1, sizeof(*list));
    if (!list) {
        err = VF_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        list[i] = video_from_row(rows, i);
        if (!list[i]) {
            video_list_free(list, i);
            list = NULL;
            err = VF_ERR_NOMEM;
            goto out;
        }
    }
    /* Attach renditions: few videos per admin page, so a linear scan is fine. */
    size_t nrend = db_rows_count(rend);
    for (size_t j = 0; j < nrend; j++) {
        int64_t vid = db_rows_int(rend, j, 0);
        for (size_t i = 0; i < count; i++) {
            struct video *v = list[i];
            if (v->id == vid && v->nrenditions < VIDEO_MAX_RENDITIONS) {
                rendition_from_row(rend, j, 1, &v->renditions[v->nrenditions++]);
                break;
            }
        }
    }
    *out = list;
    *n = count;
out:
    db_rows_free(rows);
    db_rows_free(rend);
    return err;
}

/*
 * Run fn inside a transaction: the caller's if one is open (it commits or rolls
 * back), else our own, committed on success and rolled back on failure.
 */
static enum vf_err
in_transaction(struct db *db, enum vf_err (*fn)(struct db *, void *), void *arg)
{
    if (db_in_transaction(db))
        return fn(db, arg);
    enum vf_err err = db_begin(db);
    if (err)
        return err;
    err = fn(db, arg);
    if (err) {
        db_rollback(db);
        return err;
    }
    err = db_commit(db);
    if (err)
        db_rollback(db);
    return err;
}

/* One UPDATE/DELETE of a single row by id: VF_ERR_NOTFOUND when it touched nothing. */
static enum vf_err
exec_one(struct db *db, enum stmt_id id, const struct db_param *p, size_t np)
{
    int64_t changes = 0;
    enum vf_err err = db_exec(db, id, p, np, &changes);
    if (err)
        return err;
    return changes == 0 ? VF_ERR_NOTFOUND : VF_OK;
}

enum vf_err
video_create(struct db *db, const char *title, const char *description, const char *category,
             const char *source_path, double duration, int64_t *id)
{
    if (!title || !*title || !category || !*category || !(duration >= 0) || duration > 1e9)
        return VF_ERR_INVALID;
    int64_t newid = 0;
    enum vf_err err =
        db_query_int(db, STMT_VIDEO_INSERT,
                     DB_ARGS(DB_TEXT(title), DB_TEXT(description ? description : ""),
                             DB_TEXT(category), DB_TEXT(source_path ? source_path : ""),
                             DB_INT(clock_now_us()), DB_INT(llround(duration * 1000.0))),
                     &newid);
    if (err)
        return err;
    if (id)
        *id = newid;
    return VF_OK;
}

enum vf_err
video_set_processing(struct db *db, int64_t id)
{
    return exec_one(db, STMT_VIDEO_SET_PROCESSING, DB_ARGS(DB_INT(id), DB_INT(clock_now_us())));
}

struct ready_args {
    int64_t id;
    double duration;
    int width, height;
    const struct video_rendition *r;
    size_t n;
    bool has_thumbnail;
};

static enum vf_err
set_ready_tx(struct db *db, void *arg)
{
    const struct ready_args *a = arg;
    int64_t ms = (int64_t)llround(a->duration * 1000.0);
    enum vf_err err =
        exec_one(db, STMT_VIDEO_SET_READY,
                 DB_ARGS(DB_INT(a->id), DB_INT(ms), DB_INT(a->width), DB_INT(a->height),
                         DB_INT(a->has_thumbnail ? 1 : 0), DB_INT(clock_now_us())));
    if (err)
        return err;
    err = db_exec(db, STMT_VIDEO_RENDITIONS_DELETE, DB_ARGS(DB_INT(a->id)), NULL);
    for (size_t i = 0; !err && i < a->n; i++) {
        const struct video_rendition *r = &a->r[i];
        err = db_exec(db, STMT_VIDEO_RENDITION_INSERT,
                      DB_ARGS(DB_INT(a->id), DB_INT(r->height), DB_INT(r->width),
                              DB_INT(r->bandwidth), DB_INT(r->avg_bandwidth), DB_TEXT(r->codecs),
                              DB_TEXT(r->name), DB_INT(llround(r->frame_rate * 1000.0)),
                              DB_INT(r->iframe_bandwidth)),
                      NULL);
    }
    return err;
}

enum vf_err
video_set_ready(struct db *db, int64_t id, double duration, int width, int height,
                const struct video_rendition *r, size_t n, bool has_thumbnail)
{
    if (n > VIDEO_MAX_RENDITIONS || (n && !r) || !(duration >= 0) || duration > 1e9 || width < 0 ||
        height < 0)
        return VF_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        if (r[i].height <= 0 || r[i].width <= 0 || r[i].bandwidth < 0 || r[i].avg_bandwidth < 0 ||
            memchr(r[i].codecs, '\0', sizeof(r[i].codecs)) == NULL ||
            !rendition_name_ok(r[i].name) || !(r[i].frame_rate >= 0.0) ||
            r[i].frame_rate > 1000.0 || r[i].iframe_bandwidth < 0)
            return VF_ERR_INVALID;
        for (size_t j = 0; j < i; j++)
            if (r[i].name[0] != '\0' && strcmp(r[i].name, r[j].name) == 0)
                return VF_ERR_INVALID;
    }
    struct ready_args a = { id, duration, width, height, r, n, has_thumbnail };
    return in_transaction(db, set_ready_tx, &a);
}

enum vf_err
video_set_failed(struct db *db, int64_t id, const char *reason)
{
    return exec_one(db, STMT_VIDEO_SET_FAILED,
                    DB_ARGS(DB_INT(id), DB_TEXT(reason ? reason : ""), DB_INT(clock_now_us())));
}

enum vf_err
video_update_meta(struct db *db, int64_t id, const char *title, const char *description,
                  const char *category)
{
    if ((title && !*title) || (category && !*category))
        return VF_ERR_INVALID;
    return exec_one(db, STMT_VIDEO_UPDATE_META,
                    DB_ARGS(DB_INT(id), title ? DB_TEXT(title) : DB_NULLV,
                            description ? DB_TEXT(description) : DB_NULLV,
                            category ? DB_TEXT(category) : DB_NULLV, DB_INT(clock_now_us())));
}

enum vf_err
video_delete(struct db *db, int64_t id)
{
    /* Renditions go with the row (ON DELETE CASCADE; foreign keys are on in SQLite). */
    return exec_one(db, STMT_VIDEO_DELETE, DB_ARGS(DB_INT(id)));
}

enum vf_err
video_catalogue_version(struct db *db, int64_t *version)
{
    return db_query_int(db, STMT_CATALOGUE_VERSION, DB_NOARGS, version);
}
