/* catalogue.c -- the public video list (GET /api/video/) with a per-process cache and ETag. */
#include "autoconf.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "catalogue.h"
#include "clock.h"
#include "media.h"
#include "video.h"

struct catalogue {
    char *public_url;
    char *media_root;
    bool media_root_resolved;
    bool valid;
    int64_t version;
    char *body;
    size_t len;
    char etag[80];
};

/* Add a string member, "" for NULL.  false on allocation failure. */
static bool
add_str(cJSON *o, const char *key, const char *v)
{
    return cJSON_AddStringToObject(o, key, v ? v : "") != NULL;
}

static cJSON *
render_item(const struct catalogue_item *it, const char *public_url)
{
    char iso[28], url[512];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    clock_format_iso(it->created_at, iso);
    bool ok = cJSON_AddNumberToObject(o, "id", (double)it->id) != NULL &&
              add_str(o, "created_at", iso) && add_str(o, "title", it->title) &&
              add_str(o, "description", it->description);
    if (ok && it->has_thumbnail) {
        ok = media_thumbnail_url(public_url, it->id, url, sizeof(url)) > 0 &&
             add_str(o, "thumbnail_url", url);
    } else if (ok) {
        ok = cJSON_AddNullToObject(o, "thumbnail_url") != NULL;
    }
    ok = ok && add_str(o, "category", it->category);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

char *
catalogue_render(const struct catalogue_item *items, size_t n, const char *public_url, size_t *len)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        cJSON *o = render_item(&items[i], public_url ? public_url : "");
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    char *text = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    if (text && len)
        *len = strlen(text);
    return text;
}

struct catalogue *
catalogue_new(const char *public_url, const char *media_root)
{
    struct catalogue *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->public_url = strdup(public_url ? public_url : "");
    c->media_root = strdup(media_root ? media_root : "");
    if (!c->public_url || !c->media_root) {
        catalogue_free(c);
        return NULL;
    }
    return c;
}

const char *
catalogue_media_root(struct catalogue *c)
{
    /* Absolute, but symlinks kept: the web server's X-Sendfile docroot is the configured
     * MEDIA_ROOT, compared textually. */
    if (!c->media_root_resolved) {
        char cwd[PATH_MAX];
        c->media_root_resolved = true;
        if (c->media_root[0] != '/' && getcwd(cwd, sizeof(cwd))) {
            size_t n = strlen(cwd) + strlen(c->media_root) + 2;
            char *abs = malloc(n);
            if (abs) {
                snprintf(abs, n, "%s/%s", cwd, c->media_root);
                free(c->media_root);
                c->media_root = abs;
            }
        }
    }
    return c->media_root;
}

void
catalogue_free(struct catalogue *c)
{
    if (!c)
        return;
    free(c->public_url);
    free(c->media_root);
    free(c->body);
    free(c);
}

/* 64-bit FNV-1a: a fingerprint of the body for the ETag (not a security property). */
static uint64_t
fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Run the list query and render it into the cache as `version`. */
static enum vf_err
refresh(struct catalogue *c, struct db *db, int64_t version)
{
    struct db_rows *rows = NULL;
    enum vf_err err = db_query(db, STMT_CATALOGUE_LIST, DB_NOARGS, &rows);
    if (err)
        return err;
    size_t n = db_rows_count(rows);
    struct catalogue_item *items = calloc(n ? n : 1, sizeof(*items));
    if (!items) {
        db_rows_free(rows);
        return VF_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].id = db_rows_int(rows, i, 0);
        items[i].created_at = db_rows_int(rows, i, 1);
        items[i].title = db_rows_text(rows, i, 2);
        items[i].description = db_rows_text(rows, i, 3);
        items[i].has_thumbnail = db_rows_int(rows, i, 4) != 0;
        items[i].category = db_rows_text(rows, i, 5);
    }
    size_t len = 0;
    char *body = catalogue_render(items, n, c->public_url, &len);
    free(items);
    db_rows_free(rows);
    if (!body)
        return VF_ERR_NOMEM;
    free(c->body);
    c->body = body;
    c->len = len;
    c->version = version;
    c->valid = true;
    snprintf(c->etag, sizeof(c->etag), "\"v%" PRId64 "-%zu-%016" PRIx64 "\"", version, n,
             fnv1a(body, len));
    return VF_OK;
}

enum vf_err
catalogue_get(struct catalogue *c, struct db *db, const char **body, size_t *len, const char **etag)
{
    int64_t version = 0;
    /* Version first, then the list: the cached body is never older than its version. */
    enum vf_err err = video_catalogue_version(db, &version);
    if (err)
        return err;
    if (!c->valid || version != c->version) {
        err = refresh(c, db, version);
        if (err)
            return err;
    }
    *body = c->body;
    *len = c->len;
    *etag = c->etag;
    return VF_OK;
}

bool
catalogue_etag_match(const char *inm, const char *etag)
{
    if (!inm || !etag)
        return false;
    /* Compare opaque tags weakly (RFC 9110 13.1.2): ignore W/ on both sides. */
    if (etag[0] == 'W' && etag[1] == '/')
        etag += 2;
    size_t el = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *end = p;
        if (*end == '"') {
            end = strchr(end + 1, '"');
            if (!end)
                return false;
            end++;
        } else {
            while (*end && *end != ',')
                end++;
        }
        if ((size_t)(end - p) == el && memcmp(p, etag, el) == 0)
            return true;
        p = end;
    }
    return false;
}
