/* jsonobj.c -- typed reads of a cJSON object's members. */
#include "autoconf.h"

#include "jsonobj.h"

#include <limits.h>
#include <math.h>

const char *
jsonobj_string(const cJSON *obj, const char *key)
{
    const cJSON *v = obj != NULL ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return v != NULL && cJSON_IsString(v) ? v->valuestring : NULL;
}

bool
jsonobj_int64(const cJSON *obj, const char *key, int64_t *out)
{
    const cJSON *v = obj != NULL ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (v == NULL || !cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || fabs(d) > 9007199254740992.0)
        return false;
    *out = (int64_t)d;
    return true;
}

int
jsonobj_int(const cJSON *obj, const char *key, int fallback)
{
    int64_t v;
    if (!jsonobj_int64(obj, key, &v) || v < INT_MIN || v > INT_MAX)
        return fallback;
    return (int)v;
}

bool
jsonobj_bool(const cJSON *obj, const char *key, bool *out)
{
    const cJSON *v = obj != NULL ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (v == NULL || !cJSON_IsBool(v))
        return false;
    *out = cJSON_IsTrue(v);
    return true;
}
