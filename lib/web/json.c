/* json.c -- JSON replies in the shapes of CONTRACT.md (DRF-compatible). */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "metrics.h"

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

/* 500 {"detail":"Internal server error.","request_id":"..."}, even out of memory. */
static void
internal_error(struct http_response *res, const char *request_id)
{
    cJSON *o = cJSON_CreateObject();

    if (o != NULL) {
        cJSON_AddStringToObject(o, "detail", vf_err_message(VF_ERR_INTERNAL));
        cJSON_AddStringToObject(o, "request_id", request_id);
    }
    json_reply(res, 500, o);
}

void
json_error_reply_detail(const struct http_request *req, struct http_response *res, enum vf_err err,
                        const char *detail)
{
    int status = err == VF_OK ? 500 : vf_err_status(err);

    if (err == VF_ERR_DB)
        metrics_inc(MC_DB_ERRORS);
    else if (err == VF_ERR_BUSY)
        metrics_inc(MC_DB_BUSY);

    if (status == 500) {
        log_error("%s %s answered 500: %s", req->method_str,
                  req->route != NULL ? req->route : "(no route)",
                  err == VF_OK ? "error reply without an error" : vf_strerror(err));
        internal_error(res, req->request_id);
        return;
    }
    json_detail(res, status, detail != NULL ? detail : vf_err_message(err));
    int retry = vf_err_retry_after(err);
    if (retry > 0 && res->status == status) {
        char v[16];
        snprintf(v, sizeof(v), "%d", retry);
        http_header_set(res, "Retry-After", v);
    }
}

void
json_error_reply(const struct http_request *req, struct http_response *res, enum vf_err err)
{
    json_error_reply_detail(req, res, err, NULL);
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

/* Whether text[i..] (inside a string, at a backslash) is the escape \u0000. */
static bool
nul_escape(const char *text, size_t len, size_t i)
{
    return i + 5 < len && memcmp(text + i, "\\u0000", 6) == 0;
}

const cJSON *
json_nul_member(const char *text, size_t len, const cJSON *root, bool *in_name)
{
    /* `text` parsed into `root`, so it is valid JSON: track strings, nesting and which
     * top-level member (1-based) we are in; \u0000 is the only way a NUL gets into a string. */
    size_t member = 0;
    int depth = 0;
    bool in_str = false, is_name = false, want_name = false;

    *in_name = false;
    if (!cJSON_IsObject(root))
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '"') {
                in_str = false;
            } else if (c == '\\') {
                if (nul_escape(text, len, i)) {
                    *in_name = is_name;
                    const cJSON *m = root->child;
                    for (size_t k = 1; m != NULL && k < member; k++)
                        m = m->next;
                    return m;
                }
                i++; /* the escaped character (\uXXXX: its hex digits are plain ones) */
            }
            continue;
        }
        if (c == '"') {
            in_str = true;
            is_name = depth == 1 && want_name;
            if (is_name) {
                member++;
                want_name = false;
            }
        } else if (c == '{' || c == '[') {
            depth++;
            if (c == '{' && depth == 1)
                want_name = true;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',' && depth == 1) {
            want_name = true;
        }
    }
    return NULL;
}
