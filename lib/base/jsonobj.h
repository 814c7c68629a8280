/* jsonobj.h -- typed reads of a cJSON object's members: the one set of accessors. */
#ifndef VF_JSONOBJ_H
#define VF_JSONOBJ_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* The string member `key` of `obj`, or NULL when absent, not a string or obj is NULL.
 * Borrowed from obj. */
const char *jsonobj_string(const cJSON *obj, const char *key);

/* The member `key` as an integer: a finite JSON number without a fraction within +-2^53.
 * Returns false (and leaves *out) otherwise. */
bool jsonobj_int64(const cJSON *obj, const char *key, int64_t *out);

/* jsonobj_int64() narrowed to int, or `fallback` when absent, invalid or out of range. */
int jsonobj_int(const cJSON *obj, const char *key, int fallback);

/* The boolean member `key`; false (and *out untouched) when absent or not a boolean. */
bool jsonobj_bool(const cJSON *obj, const char *key, bool *out);

#endif
