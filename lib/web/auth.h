/* auth.h -- cookie authentication: JWT cookies to a user, for every protected route. */
#ifndef VF_AUTH_H
#define VF_AUTH_H

#include <stdbool.h>

#include "app.h"
#include "http.h"
#include "token.h"
#include "user.h"

#define AUTH_ACCESS_COOKIE  "access_token"
#define AUTH_REFRESH_COOKIE "refresh_token"

/*
 * Authenticate by the access_token cookie.  On success fills *user and returns true.
 * On failure it has already answered 401 JSON ({"detail":"Authentication credentials
 * were not provided."} without a cookie, {"detail":"Token is invalid or expired",
 * "code":"token_not_valid"} for a bad one; 503/500 through json_error_reply on a
 * database failure) and returns false.  The dispatcher calls this (and the staff
 * variant) for routes whose row says ROUTE_AUTH_USER/ROUTE_AUTH_STAFF, before the
 * handler and before any body is read; handlers find the user in req->user.
 */
bool auth_require_or_reply(struct app *app, const struct http_request *req,
                           struct http_response *res, struct user *user);
/* Same, and additionally 403 JSON {"detail":"You do not have permission to perform
 * this action."} for a non-staff user. */
bool auth_require_staff_or_reply(struct app *app, const struct http_request *req,
                                 struct http_response *res, struct user *user);
/*
 * For the HLS files (ROUTE_AUTH_MEDIA): the access cookie as auth_require_or_reply, or,
 * when it is missing or has lapsed, the refresh cookie of a live session (signature,
 * expiry, account, token version, session not ended, jti not revoked).  A player paused
 * longer than the access token lives (a laptop asleep) resumes within the refresh window,
 * and a logout or a deactivation still ends its playback at once.  Same replies.
 */
bool auth_require_media_or_reply(struct app *app, const struct http_request *req,
                                 struct http_response *res, struct user *user);

/*
 * Verify `jwt` as a token of `type` and load its user: the signature and claims
 * (token_verify), then the user exists, is active and has the token's version, and the
 * token's session was not ended by a logout.  VF_OK fills *user and *claims; VF_ERR_AUTH for
 * any defect; VF_ERR_BUSY/VF_ERR_DB when the database failed.
 */
enum vf_err auth_token_user(struct app *app, const char *jwt, enum token_type type,
                            struct user *user, struct token_claims *claims);

/*
 * Issue a token of `type` for `user` in session `sid` (token_new_sid() at login, the refresh
 * token's at a refresh) with the configured lifetime and set it as its cookie (HttpOnly;
 * Path=/; SameSite=Lax; Max-Age; Secure under https).  *jwt (may be NULL) gets the malloc'd
 * token (caller frees).
 */
enum vf_err auth_set_token_cookie(struct app *app, struct http_response *res,
                                  const struct user *user, enum token_type type, const char *sid,
                                  char **jwt);
/* Delete both token cookies (Max-Age=0, Expires in 1970, same attributes). */
void auth_delete_cookies(struct app *app, struct http_response *res);

/* The 401 reply for a bad token (simplejwt's body). */
void auth_reply_token_invalid(struct http_response *res);

#endif
