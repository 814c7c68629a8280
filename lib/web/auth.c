/* auth.c -- cookie authentication over token.c and user.c. */
#include "autoconf.h"

#include "auth.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

void
auth_reply_token_invalid(struct http_response *res)
{
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddStringToObject(o, "detail", "Token is invalid or expired");
        cJSON_AddStringToObject(o, "code", "token_not_valid");
    }
    json_reply(res, 401, o);
}

enum vf_err
auth_token_user(struct app *app, const char *jwt, enum token_type type, struct user *user,
                struct token_claims *claims)
{
    const char *key = app->cfg->secret_key;
    if (token_verify(key, strlen(key), jwt, type, claims) != VF_OK)
        return VF_ERR_AUTH;
    /* The signature and claims may come from the per-thread cache of verified tokens; what can
     * change under a valid token is in the database and is read on every request, in the one
     * round trip the user lookup is: the account, its token version, its session. */
    bool ended = true;
    enum vf_err err = user_get_session(app->db, claims->user_id, claims->sid, user, &ended);
    if (err == VF_ERR_NOTFOUND)
        return VF_ERR_AUTH;
    if (err != VF_OK)
        return err;
    if (!user->is_active || user->token_version != claims->version || ended)
        return VF_ERR_AUTH;
    return VF_OK;
}

bool
auth_require_or_reply(struct app *app, const struct http_request *req, struct http_response *res,
                      struct user *user)
{
    const char *jwt = http_cookie(req, AUTH_ACCESS_COOKIE);
    if (jwt == NULL || *jwt == '\0') {
        json_detail(res, 401, "Authentication credentials were not provided.");
        return false;
    }
    struct token_claims claims;
    enum vf_err err = auth_token_user(app, jwt, TOKEN_ACCESS, user, &claims);
    if (err == VF_ERR_AUTH) {
        auth_reply_token_invalid(res);
        return false;
    }
    if (err != VF_OK) {
        json_error_reply(req, res, err);
        return false;
    }
    return true;
}

bool
auth_require_media_or_reply(struct app *app, const struct http_request *req,
                            struct http_response *res, struct user *user)
{
    const char *access = http_cookie(req, AUTH_ACCESS_COOKIE);
    const char *refresh = http_cookie(req, AUTH_REFRESH_COOKIE);
    struct token_claims claims;
    enum vf_err err = VF_ERR_AUTH;
    if (access != NULL && *access != '\0')
        err = auth_token_user(app, access, TOKEN_ACCESS, user, &claims);
    if (err == VF_ERR_AUTH && refresh != NULL && *refresh != '\0') {
        err = auth_token_user(app, refresh, TOKEN_REFRESH, user, &claims);
        bool revoked = false;
        if (err == VF_OK)
            err = user_is_revoked(app->db, claims.jti, &revoked);
        if (err == VF_OK && revoked)
            err = VF_ERR_AUTH;
    }
    if (err == VF_OK)
        return true;
    if (err != VF_ERR_AUTH) {
        json_error_reply(req, res, err);
        return false;
    }
    if ((access == NULL || *access == '\0') && (refresh == NULL || *refresh == '\0'))
        json_detail(res, 401, "Authentication credentials were not provided.");
    else
        auth_reply_token_invalid(res);
    return false;
}

bool
auth_require_staff_or_reply(struct app *app, const struct http_request *req,
                            struct http_response *res, struct user *user)
{
    if (!auth_require_or_reply(app, req, res, user))
        return false;
    if (!user->is_staff) {
        json_detail(res, 403, "You do not have permission to perform this action.");
        return false;
    }
    return true;
}

enum vf_err
auth_set_token_cookie(struct app *app, struct http_response *res, const struct user *user,
                      enum token_type type, const char *sid, char **jwt)
{
    const struct config *cfg = app->cfg;
    int lifetime = type == TOKEN_ACCESS ? cfg->access_token_lifetime : cfg->refresh_token_lifetime;
    char *t = NULL;
    if (jwt != NULL)
        *jwt = NULL;
    enum vf_err err = token_issue(cfg->secret_key, strlen(cfg->secret_key), type, user->id,
                                  user->token_version, sid, lifetime, &t, NULL);
    if (err != VF_OK)
        return err;
    err = http_cookie_set(res, type == TOKEN_ACCESS ? AUTH_ACCESS_COOKIE : AUTH_REFRESH_COOKIE, t,
                          lifetime, true, cfg->public_https);
    if (err != VF_OK || jwt == NULL)
        free(t);
    else
        *jwt = t;
    return err;
}

void
auth_delete_cookies(struct app *app, struct http_response *res)
{
    http_cookie_delete(res, AUTH_ACCESS_COOKIE, true, app->cfg->public_https);
    http_cookie_delete(res, AUTH_REFRESH_COOKIE, true, app->cfg->public_https);
}
