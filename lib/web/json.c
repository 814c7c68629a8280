/* json.c -- JSON replies in the shapes of CONTRACT.md (DRF-compatible). */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"

static const char internal_body[] = "{\"detail\":\"Internal server error.\"}";

void
json_reply(struct http_response *res, int status, cJSON *obj)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;

    cJSON_Delete(obj);
    res->status = status;
    if (text == NULL) {
        res->status = 500;
        http_body_set(res, "application/json", internal_body, sizeof(internal_body) - 1);
        return;
    }
    http_body_take(res, "application/json", text, strlen(text));
}

void
json_message(struct http_response *res, int status, const char *key, const char *msg)
{
    cJSON *o = cJSON_CreateObject();

    if (o != NULL && cJSON_AddStringToObject(o, key, msg) == NULL) {
        cJSON_Delete(o);
        o = NULL;
    }
    json_reply(res, status, o);
}

void
json_detail(struct http_response *res, int status, const char *detail)
{
    json_message(res, status, "detail", detail);
}

void
json_internal_error(struct http_response *res, const char *request_id)
{
    cJSON *o = cJSON_CreateObject();

    if (o != NULL) {
        cJSON_AddStringToObject(o, "detail", "Internal server error.");
        cJSON_AddStringToObject(o, "request_id", request_id ? request_id : "");
    }
    json_reply(res, 500, o);
    if (res->status != 500)
        res->status = 500;
}

void
json_error_for(struct http_response *res, enum vf_err err, const char *request_id)
{
    int status = vf_err_status(err);

    switch (status) {
    case 400:
        json_detail(res, 400, "Invalid input.");
        break;
    case 401:
        json_detail(res, 401, "Authentication credentials were not provided.");
        break;
    case 403:
        json_detail(res, 403, "You do not have permission to perform this action.");
        break;
    case 404:
        json_detail(res, 404, "Not found.");
        break;
    case 409:
        json_detail(res, 409, "The request conflicts with the current state.");
        break;
    case 413:
        json_detail(res, 413, "Request body too large.");
        break;
    case 415:
        json_detail(res, 415, "Unsupported media type.");
        break;
    case 429:
        json_detail(res, 429, "Request was throttled.");
        http_header_set(res, "Retry-After", "60");
        break;
    case 503:
        json_detail(res, 503, "Service temporarily unavailable, try again later.");
        http_header_set(res, "Retry-After", "1");
        break;
    case 504:
        json_detail(res, 504, "The operation timed out.");
        break;
    case 507:
        json_detail(res, 507, "Insufficient storage.");
        break;
    default:
        log_error("internal error: %s", vf_strerror(err));
        json_internal_error(res, request_id);
        break;
    }
}

bool
json_errors_add(cJSON **errs, const char *field, const char *msg)
{
    cJSON *arr;

    if (*errs == NULL && (*errs = cJSON_CreateObject()) == NULL)
        return false;
    arr = cJSON_GetObjectItemCaseSensitive(*errs, field);
    if (arr == NULL && (arr = cJSON_AddArrayToObject(*errs, field)) == NULL)
        return false;
    cJSON *s = cJSON_CreateString(msg);
    if (s == NULL)
        return false;
    return cJSON_AddItemToArray(arr, s) != 0;
}

void
json_errors_reply(struct http_response *res, cJSON *errs)
{
    json_reply(res, 400, errs);
}

void
json_field_error(struct http_response *res, const char *field, const char *msg)
{
    cJSON *errs = NULL;
    json_errors_add(&errs, field, msg);
    json_errors_reply(res, errs);
}

bool
json_object_or_reply(const cJSON *body, struct http_response *res)
{
    if (body != NULL && cJSON_IsObject(body))
        return true;
    json_field_error(res, "non_field_errors", "Invalid data. Expected a dictionary.");
    return false;
}

const char *
json_string(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(item) ? item->valuestring : NULL;
}
