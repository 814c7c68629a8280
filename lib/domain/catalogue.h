/* catalogue.h -- the public video list (GET /api/video/) with a per-process cache and ETag. */
#ifndef VF_CATALOGUE_H
#define VF_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "error.h"

/* One listed video, as the list query returns it.  Strings are borrowed. */
struct catalogue_item {
    int64_t id;
    int64_t created_at; /* microseconds */
    const char *title, *description, *category;
    bool has_thumbnail;
};

/*
 * Render the list body: a bare JSON array, items in the given order, keys in the order
 * id, created_at (ISO-8601 UTC with microseconds and Z), title, description,
 * thumbnail_url ("<public_url>/media/thumbnails/<id>.jpg" or null), category (never
 * null: "" if the row has none).  Returns a malloc'd NUL-terminated string the caller
 * frees (length in *len), or NULL on allocation failure.
 */
char *catalogue_render(const struct catalogue_item *items, size_t n, const char *public_url,
                       size_t *len);

/*
 * The per-process cache: the rendered body and its ETag, keyed on the catalogue
 * version (video_catalogue_version()).  One per process (struct app's `catalogue`);
 * never shared between processes.
 */
struct catalogue;

/* `public_url` builds thumbnail URLs; `media_root` is MEDIA_ROOT (made absolute for
 * X-Sendfile).  NULL on allocation failure.  Free with catalogue_free()
 * (NULL-safe). */
struct catalogue *catalogue_new(const char *public_url, const char *media_root);
void catalogue_free(struct catalogue *c);

/* MEDIA_ROOT as an absolute path (relative to the working directory at the first call;
 * symlinks are not resolved).  Borrowed from the cache. */
const char *catalogue_media_root(struct catalogue *c);

/*
 * The current list: one cheap version query, and the list query plus rendering only
 * when the version changed since the last call.  *body, *len and *etag are borrowed
 * from the cache and valid until the next call.  The ETag is a strong validator
 * "v<version>-<count>-<hash of the body>".
 */
enum vf_err catalogue_get(struct catalogue *c, struct db *db, const char **body, size_t *len,
                          const char **etag);

/* True when an If-None-Match header value (a list of entity tags, W/ prefixes
 * compared weakly, or "*") matches `etag`. */
bool catalogue_etag_match(const char *if_none_match, const char *etag);

#endif
