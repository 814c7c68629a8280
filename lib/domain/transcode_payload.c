/* transcode_payload.c -- the payload of a "transcode" job and queueing one (no GStreamer here). */
#include "autoconf.h"

#include "transcode_payload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "job.h"
#include "jsonobj.h"

/* Longer than any source the probe accepts (24 h, gst-pipelines/probe.c). */
#define TRANSCODE_MAX_DURATION (48.0 * 3600.0)

/* A relative path we generated: [A-Za-z0-9._-] components separated by '/', none "." or "..". */
static bool
source_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(((struct transcode_payload *)0)->source) || s[0] == '/')
        return false;
    const char *comp = s;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        if (c == '/' || c == '\0') {
            size_t cl = (size_t)(s + i - comp);
            if (cl == 0 || (cl == 1 && comp[0] == '.') ||
                (cl == 2 && comp[0] == '.' && comp[1] == '.'))
                return false;
            comp = s + i + 1;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

enum vf_err
transcode_payload_parse(const char *json, struct transcode_payload *out)
{
    memset(out, 0, sizeof(*out));
    cJSON *o = json ? cJSON_Parse(json) : NULL;
    if (o == NULL)
        return VF_ERR_INVALID;
    int64_t id = 0;
    const char *src = jsonobj_string(o, "source");
    bool overwrite = false;
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(o, "duration");
    enum vf_err err = VF_ERR_INVALID;
    if (jsonobj_int64(o, "video_id", &id) && id >= 1 && src != NULL && source_ok(src) &&
        (cJSON_GetObjectItemCaseSensitive(o, "overwrite") == NULL ||
         jsonobj_bool(o, "overwrite", &overwrite)) &&
        (dur == NULL || (cJSON_IsNumber(dur) && dur->valuedouble >= 0 &&
                         dur->valuedouble <= TRANSCODE_MAX_DURATION))) {
        out->video_id = id;
        snprintf(out->source, sizeof(out->source), "%s", src);
        out->overwrite = overwrite;
        out->duration = dur != NULL ? dur->valuedouble : 0.0;
        err = VF_OK;
    }
    cJSON_Delete(o);
    return err;
}

enum vf_err
transcode_payload_enqueue(struct db *db, int64_t video_id, const char *source_path, bool overwrite,
                          double duration, int64_t *job_id)
{
    if (video_id < 1 || source_path == NULL || !source_ok(source_path) || !(duration >= 0) ||
        duration > TRANSCODE_MAX_DURATION)
        return VF_ERR_INVALID;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return VF_ERR_NOMEM;
    cJSON_AddNumberToObject(o, "video_id", (double)video_id);
    cJSON_AddStringToObject(o, "source", source_path);
    cJSON_AddBoolToObject(o, "overwrite", overwrite);
    if (duration > 0)
        cJSON_AddNumberToObject(o, "duration", round(duration * 1000.0) / 1000.0);
    char *payload = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (payload == NULL)
        return VF_ERR_NOMEM;
    enum vf_err err = job_enqueue_for(db, "transcode", video_id, payload, 0, 0, job_id);
    cJSON_free(payload);
    return err;
}

int
transcode_payload_timeout(const struct config *cfg, double duration)
{
    if (!(duration > 0))
        duration = 0;
    if (duration > TRANSCODE_MAX_DURATION)
        duration = TRANSCODE_MAX_DURATION;
    /* At most 2 days + 48 h x 3600: well inside an int. */
    return cfg->transcode_timeout + (int)ceil(duration * cfg->transcode_timeout_per_second);
}
