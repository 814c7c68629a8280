/* json.h -- JSON replies and body helpers over cJSON. */
#ifndef VF_JSON_H
#define VF_JSON_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "http.h"

/* Reply with `obj` (ownership taken, freed even on failure) as application/json. */
void json_reply(struct http_response *res, int status, cJSON *obj);
/* {"detail": detail} */
void json_detail(struct http_response *res, int status, const char *detail);
/* {key: msg}, e.g. {"message": "..."} */
void json_message(struct http_response *res, int status, const char *key, const char *msg);
/* 500 {"detail":"Internal server error.","request_id":"..."} */
void json_internal_error(struct http_response *res, const char *request_id);
/* Answer the status for err with a generic body (503 adds Retry-After). */
void json_error_for(struct http_response *res, enum vf_err err, const char *request_id);

/* Field errors, DRF style: {"field": ["msg", ...], "non_field_errors": [...]}.
 * json_errors_add creates *errs on first use; returns false on allocation failure. */
bool json_errors_add(cJSON **errs, const char *field, const char *msg);
/* 400 with errs (ownership taken). */
void json_errors_reply(struct http_response *res, cJSON *errs);
/* 400 {field: [msg]}: one field error (500 when out of memory). */
void json_field_error(struct http_response *res, const char *field, const char *msg);
/* True when body is a JSON object; otherwise answers DRF's 400
 * {"non_field_errors": ["Invalid data. Expected a dictionary."]} and returns false. */
bool json_object_or_reply(const cJSON *body, struct http_response *res);

/* String member or NULL when absent/not a string.  Borrowed. */
/* libjansson (loaded by libjwt) exports json_string(): an executable defining the same
 * symbol interposes it and libjwt crashes.  Keep the short name, link another one. */
#define json_string vf_json_string
const char *json_string(const cJSON *obj, const char *key);

#endif
