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

/*
 * The one reply for an error code, from the error table (lib/base/error.h): its status,
 * {"detail": vf_err_message(err)} and, when the table has one, Retry-After.  Every 500
 * answers {"detail":"Internal server error.","request_id":"<req->request_id>"}, whatever
 * the code (VF_OK here is a caller's bug and answers 500 too).  A 500 is logged here, once,
 * at error level: method, route pattern (never the path, which may carry a link token) and
 * vf_strerror(err), on a line that carries the request id; a handler does not log what it
 * passes here.  Other statuses are not logged here: 4xx are the client's, and the transient
 * ones (503 busy, 507 low disk) are reported with their cause by the module that meets them.
 */
void json_error_reply(const struct http_request *req, struct http_response *res, enum vf_err err);
/* The same with `detail` (when not NULL) as the message; a 500 still gets the generic body. */
void json_error_reply_detail(const struct http_request *req, struct http_response *res,
                             enum vf_err err, const char *detail);

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

/*
 * The top-level member of the object `root`, parsed from `text` (len bytes), one of whose strings
 * holds a NUL character, or NULL when none does.  cJSON decodes a \u0000 escape into a NUL byte
 * and so cuts the value short ("pw\u0000x" would read as "pw"): such a body must be refused, not
 * truncated.  (Raw NUL bytes never get this far: the dispatcher refuses them before parsing.)
 * *in_name is set when the NUL is in the member's name rather than in its value.  Borrowed.
 */
const cJSON *json_nul_member(const char *text, size_t len, const cJSON *root, bool *in_name);

#endif
