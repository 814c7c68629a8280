/* accounts.c -- handlers of the accounts resource: register, activate, login, logout, refresh,
 * password reset.  Bodies, statuses and cookies exactly as CONTRACT.md; logic in lib/. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "accountmail.h"
#include "auth.h"
#include "clock.h"
#include "form.h"
#include "json.h"
#include "linktoken.h"
#include "log.h"
#include "mail.h"
#include "password.h"
#include "procgate.h"
#include "metrics.h"
#include "ratelimit.h"
#include "routes.h"
#include "user.h"

#define MSG_LOGIN_FAILED   "No active account found with the given credentials"
#define MSG_CHECK_INPUT    "Please check your input and try again."
#define MSG_MISMATCH       "Passwords do not match."
#define MSG_NO_REFRESH     "Refresh token not provided."
#define MSG_BAD_REFRESH    "Invalid refresh token."
#define MSG_ACTIVATED      "Account successfully activated."
#define MSG_ALREADY_ACTIVE "Account already activated."
#define MSG_BAD_ACTIVATION "Activation link is invalid or expired."
#define MSG_BAD_RESET_LINK "Password reset link is invalid or expired."
#define MSG_RESET_SENT     "An email has been sent to reset your password."
#define MSG_RESET_DONE     "Your Password has been successfully reset."
#define MSG_LOGOUT         "Logout successful! All tokens will be deleted. Refresh token is now invalid."

/* Login failures count per account and address (RATELIMIT_LOGIN), per address over all accounts
 * (this many times more: shared NATs) and per account over all addresses (this many times more,
 * and only for addresses the account never signed in from: see login_limits_or_reply). */
#define LOGIN_IP_FACTOR      5
#define LOGIN_ACCOUNT_FACTOR 5
#define CSRF_MAX_AGE         31449600 /* one year, as Django */
/* How long a request may wait for a password-hashing place (when few enough others wait). */
#define HASH_WAIT_MS 500

/* ---- small helpers ------------------------------------------------------------------ */

static const char *
key_of(const struct app *app)
{
    return app->cfg->secret_key;
}

/* Roll back whatever transaction is open and answer a storage failure (json_error_reply:
 * 503 + Retry-After when busy, else 500 with the request id, logged there). */
static void
reply_db_error(struct app *app, const struct http_request *req, struct http_response *res,
               enum vf_err err)
{
    db_rollback(app->db);
    json_error_reply(req, res, err);
}

/* 429 {"detail":"Request was throttled. Expected available in N seconds."}, with the
 * limiter's real wait as Retry-After instead of the error table's default. */
static void
reply_throttled(const struct http_request *req, struct http_response *res, int64_t retry_after)
{
    char msg[96], hdr[24];
    snprintf(msg, sizeof(msg), "Request was throttled. Expected available in %" PRId64 " second%s.",
             retry_after, retry_after == 1 ? "" : "s");
    snprintf(hdr, sizeof(hdr), "%" PRId64, retry_after);
    json_error_reply_detail(req, res, VF_ERR_RATELIMIT, msg);
    http_header_set(res, "Retry-After", hdr);
}

static void
bucket(char *buf, size_t len, const char *action, const char *kind, const char *value)
{
    snprintf(buf, len, "%s:%s:%s", action, kind, value != NULL ? value : "");
}

/*
 * Count an attempt in bucket `b` within `limit` per RATELIMIT_WINDOW (ratelimit_take: check and
 * count in one statement) or answer 429 with the real wait (or the storage failure).  Returns
 * true when the caller may proceed; *ticket (may be NULL) gets what ratelimit_refund() needs.
 */
static bool
take_or_reply(struct app *app, const struct http_request *req, struct http_response *res,
              const char *b, int limit, int64_t *ticket)
{
    int64_t retry = 0;
    enum vf_err err = ratelimit_take(app->db, b, limit, app->cfg->ratelimit_window, &retry, ticket);
    if (err == VF_ERR_RATELIMIT) {
        reply_throttled(req, res, retry);
        return false;
    }
    if (err != VF_OK) {
        reply_db_error(app, req, res, err);
        return false;
    }
    return true;
}

/* take_or_reply() of the bucket action:kind:value, nothing to refund. */
static bool
take_bucket_or_reply(struct app *app, const struct http_request *req, struct http_response *res,
                     const char *action, const char *kind, const char *value, int limit)
{
    char b[400];
    bucket(b, sizeof(b), action, kind, value);
    return take_or_reply(app, req, res, b, limit, NULL);
}

/*
 * Take one of the workers' password-hashing places (PASSWORD_HASH_CONCURRENCY over all of them,
 * the master's shared memory) for the argon2id work that follows; release it with
 * procgate_leave(app->hash_gate).  When every place is taken and enough requests wait already,
 * answer 503 with Retry-After at once instead: a login flood then occupies at most all but one
 * worker and every other request still finds one.  Returns false after answering.
 */
static bool
hash_place_or_reply(struct app *app, const struct http_request *req, struct http_response *res)
{
    if (procgate_enter(app->hash_gate, HASH_WAIT_MS))
        return true;
    log_debug("accounts: every password-hashing place is taken: 503");
    json_error_reply(req, res, VF_ERR_BUSY);
    return false;
}

/*
 * Check a new password and its repetition (either may be NULL: missing, already reported):
 * the policy's messages go under `field`, a mismatch under `repeat_field`.
 */
static void
new_password_check(const struct config *cfg, const char *pw, const char *repeat, const char *email,
                   const char *field, const char *repeat_field, cJSON **errs)
{
    const char *msgs[PASSWORD_MAX_ERRORS];
    if (pw == NULL)
        return;
    (void)cfg; /* the master loaded the common-password list before forking us */
    size_t n = password_validate(pw, email, msgs, PASSWORD_MAX_ERRORS);
    for (size_t i = 0; i < n; i++)
        json_errors_add(errs, field, msgs[i]);
    if (repeat != NULL && strcmp(pw, repeat) != 0)
        json_errors_add(errs, repeat_field, MSG_MISMATCH);
}

static struct linktoken_subject
subject_of(const struct user *u, const char *hash, bool active)
{
    return (struct linktoken_subject){ .user_id = u->id,
                                       .password_hash = hash,
                                       .is_active = active,
                                       .email = u->email,
                                       .version = u->token_version };
}

/* The user of a link (uidb64 + token) for `purpose`, or false. */
static bool
link_user(struct app *app, const char *uidb64, const char *token, enum linktoken_purpose purpose,
          struct user *u, char *hash, enum vf_err *dberr)
{
    int64_t id = 0;
    *dberr = VF_OK;
    if (!linktoken_uid_decode(uidb64, &id))
        return false;
    enum vf_err err = user_get(app->db, id, u, hash);
    if (err != VF_OK) {
        if (err != VF_ERR_NOTFOUND)
            *dberr = err;
        return false;
    }
    /* Activation links are made while inactive; opened again later they still check
     * (answered "already activated").  Reset links bind the current active flag. */
    struct linktoken_subject s =
        subject_of(u, hash, purpose == LINKTOKEN_ACTIVATE ? false : u->is_active);
    return linktoken_check(key_of(app), strlen(key_of(app)), purpose, &s, token, clock_now(),
                           app->cfg->password_reset_timeout);
}

/*
 * The user of the request's link ({uidb64}/{token} route parameters) for `purpose`, filling
 * *u and hash.  Otherwise answers 400 {key: invalid} (or the storage failure) and returns false.
 */
static bool
link_user_or_reply(struct app *app, const struct http_request *req, struct http_response *res,
                   enum linktoken_purpose purpose, const char *key, const char *invalid,
                   struct user *u, char *hash)
{
    enum vf_err err = VF_OK;
    if (req->nparams == 2 && link_user(app, req->params[0], req->params[1], purpose, u, hash, &err))
        return true;
    if (err != VF_OK)
        reply_db_error(app, req, res, err);
    else
        json_message(res, 400, key, invalid);
    return false;
}

/* ---- POST /api/register/ ----------------------------------------------------------------- */

enum { REG_EMAIL, REG_PASSWORD, REG_CONFIRMED, REG__MAX };
static const struct form_field register_form[REG__MAX] = {
    [REG_EMAIL] = { "email", FORM_EMAIL, true, USER_EMAIL_MAX },
    [REG_PASSWORD] = { "password", FORM_STRING, true, 0 },
    [REG_CONFIRMED] = { "confirmed_password", FORM_STRING, true, 0 },
};

/*
 * The email is taken: 400 "please check your input", whoever owns it.  An account that was never
 * activated (its activation mail lost, say to an SMTP outage) must not be locked out for good, so
 * a fresh activation mail is requested -- through the worker (accountmail_request), the same
 * request whether the account awaits activation or not, so nothing tells them apart.  At most
 * RATELIMIT_PASSWORD_RESET such requests per address and window (beyond it: the same answer and
 * no request).
 */
static void
register_taken(struct app *app, const struct http_request *req, struct http_response *res,
               const char *email)
{
    char b[400];
    int64_t retry = 0;
    bucket(b, sizeof(b), "activation", "email", email);
    enum vf_err err = ratelimit_take(app->db, b, app->cfg->ratelimit_password_reset,
                                     app->cfg->ratelimit_window, &retry, NULL);
    if (err == VF_OK)
        err = accountmail_request(app->db, ACCOUNTMAIL_ACTIVATION, email);
    if (err != VF_OK && err != VF_ERR_RATELIMIT) {
        reply_db_error(app, req, res, err);
        return;
    }
    json_field_error(res, "non_field_errors", MSG_CHECK_INPUT);
}

static void
handle_register(struct app *app, struct http_request *req, struct http_response *res)
{
    const struct config *cfg = app->cfg;
    if (!take_bucket_or_reply(app, req, res, "register", "ip", req->remote_addr,
                              cfg->ratelimit_register))
        return;

    struct form_value v[REG__MAX];
    char emails[REG__MAX][FORM_VALUE_MAX];
    cJSON *errs = NULL;
    bool ok = form_parse(req->json, register_form, REG__MAX, v, emails, &errs);
    new_password_check(cfg, v[REG_PASSWORD].s, v[REG_CONFIRMED].s, v[REG_EMAIL].s, "password",
                       "confirmed_password", &errs);
    if (!ok || errs != NULL) { /* (no errs but not ok: out of memory, answered 500) */
        json_errors_reply(res, errs);
        return;
    }
    if (!take_bucket_or_reply(app, req, res, "register", "email", v[REG_EMAIL].s,
                              cfg->ratelimit_register))
        return;

    /* Hash before looking at the table: a taken email costs the same time. */
    char hash[PASSWORD_HASH_MAX];
    if (!hash_place_or_reply(app, req, res))
        return;
    enum vf_err err = password_hash(v[REG_PASSWORD].s, hash, sizeof(hash));
    procgate_leave(app->hash_gate);
    if (err != VF_OK) {
        json_error_reply(req, res, err);
        return;
    }

    struct user u = { .is_active = false, .activation_pending = true };
    snprintf(u.email, sizeof(u.email), "%s", v[REG_EMAIL].s);
    char token[LINKTOKEN_MAX] = "";
    if ((err = db_begin(app->db)) != VF_OK) {
        reply_db_error(app, req, res, err);
        return;
    }
    err = user_create(app->db, u.email, hash, false, false, false, &u.id);
    if (err == VF_ERR_CONFLICT) {
        db_rollback(app->db);
        register_taken(app, req, res, u.email);
        return;
    }
    if (err == VF_OK)
        err = accountmail_queue(app->db, key_of(app), ACCOUNTMAIL_ACTIVATION, &u, hash, token);
    if (err == VF_OK)
        err = db_commit(app->db);
    if (err != VF_OK) {
        reply_db_error(app, req, res, err);
        return;
    }
    log_info("accounts: registered user %" PRId64, u.id);

    cJSON *o = cJSON_CreateObject();
    cJSON *user = o ? cJSON_AddObjectToObject(o, "user") : NULL;
    if (user != NULL) {
        cJSON_AddNumberToObject(user, "id", (double)u.id);
        cJSON_AddStringToObject(user, "email", u.email);
        /* A development convenience of the course API, only with DEBUG: in production the
         * token would let anyone activate an address they do not own (CONTRACT.md). */
        if (cfg->debug)
            cJSON_AddStringToObject(o, "token", token);
    }
    sodium_memzero(token, sizeof(token));
    json_reply(res, 201, o);
}

/* ---- GET /api/activate/{uidb64}/{token}/ ----------------------------------------------- */

static void
handle_activate(struct app *app, struct http_request *req, struct http_response *res)
{
    struct user u;
    char hash[USER_HASH_MAX];
    if (!link_user_or_reply(app, req, res, LINKTOKEN_ACTIVATE, "message", MSG_BAD_ACTIVATION, &u,
                            hash))
        return;
    bool changed = false;
    enum vf_err err = user_activate(app->db, u.id, &changed);
    if (err != VF_OK) {
        reply_db_error(app, req, res, err);
        return;
    }
    if (changed)
        log_info("accounts: activated user %" PRId64, u.id);
    json_message(res, 200, "message", changed ? MSG_ACTIVATED : MSG_ALREADY_ACTIVE);
}

/* ---- POST /api/login/ ------------------------------------------------------------------- */

enum { LOGIN_EMAIL, LOGIN_PASSWORD, LOGIN__MAX };
static const struct form_field login_form[LOGIN__MAX] = {
    [LOGIN_EMAIL] = { "email", FORM_STRING, true, 1024 },
    [LOGIN_PASSWORD] = { "password", FORM_STRING, true, 4096 },
};

static void
set_csrf_cookie(struct app *app, struct http_response *res)
{
    unsigned char rnd[16];
    char hex[33];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    http_cookie_set(res, "csrftoken", hex, CSRF_MAX_AGE, false, app->cfg->public_https);
}

/* The rate-limit buckets of one login attempt and the tickets of what it counted. */
struct login_limits {
    char ip[400], pair[700], account[400];
    int64_t ip_ticket, pair_ticket, account_ticket;
};

/* Give back what this attempt counted (it was not evaluated after all, or it succeeded). */
static void
login_limits_refund(struct app *app, const struct login_limits *l)
{
    if (ratelimit_refund(app->db, l->ip, l->ip_ticket) != VF_OK ||
        ratelimit_refund(app->db, l->pair, l->pair_ticket) != VF_OK ||
        ratelimit_refund(app->db, l->account, l->account_ticket) != VF_OK)
        log_warn("accounts: could not give back a counted login attempt");
}

/*
 * Count this attempt against the login limits, or answer 429 and return false.  Each take checks
 * and counts in one statement, so N concurrent attempts never get more than the limit evaluated:
 *  - per address over all accounts: RATELIMIT_LOGIN x LOGIN_IP_FACTOR (a shared NAT);
 *  - per account and address: RATELIMIT_LOGIN -- what stops a guesser at one address, and what
 *    the owner at another address never meets;
 *  - per account over all addresses: RATELIMIT_LOGIN x LOGIN_ACCOUNT_FACTOR, counted and
 *    enforced only for addresses the account never signed in from (login_sources), so a
 *    distributed guesser is held back too while the owner at a known address is never locked
 *    out by anybody else's failures.
 * `email` is NULL for a malformed one (only the address counts).  An attempt refused by one
 * bucket gives back what the others counted.  Failures stay counted; a successful login gives
 * them back (login_limits_passed).
 */
static bool
login_limits_or_reply(struct app *app, const struct http_request *req, struct http_response *res,
                      const char *email, struct login_limits *l)
{
    const int limit = app->cfg->ratelimit_login;
    char pair[USER_EMAIL_MAX + 300];
    *l = (struct login_limits){ .ip_ticket = 0 };
    bucket(l->ip, sizeof(l->ip), "login", "ip", req->remote_addr);
    if (!take_or_reply(app, req, res, l->ip, limit * LOGIN_IP_FACTOR, &l->ip_ticket))
        return false;
    if (email == NULL)
        return true;
    snprintf(pair, sizeof(pair), "%s|%s", email, req->remote_addr);
    bucket(l->pair, sizeof(l->pair), "login", "pair", pair);
    bucket(l->account, sizeof(l->account), "login", "email", email);
    bool known = false;
    enum vf_err err = VF_OK;
    if (!take_or_reply(app, req, res, l->pair, limit, &l->pair_ticket) ||
        (err = user_login_source_known(app->db, email, req->remote_addr, &known)) != VF_OK ||
        (!known && !take_or_reply(app, req, res, l->account, limit * LOGIN_ACCOUNT_FACTOR,
                                  &l->account_ticket))) {
        if (err != VF_OK)
            reply_db_error(app, req, res, err);
        login_limits_refund(app, l);
        return false;
    }
    return true;
}

/* A successful login: the account's failures from this address are forgotten, this attempt is
 * given back to the other buckets and the address becomes a known one. */
static enum vf_err
login_limits_passed(struct app *app, const struct http_request *req, const struct login_limits *l,
                    int64_t user_id)
{
    enum vf_err err = ratelimit_reset(app->db, l->pair);
    if (err == VF_OK)
        err = ratelimit_refund(app->db, l->ip, l->ip_ticket);
    if (err == VF_OK)
        err = ratelimit_refund(app->db, l->account, l->account_ticket);
    if (err == VF_OK)
        err = user_login_source_record(app->db, user_id, req->remote_addr);
    return err;
}

static void
handle_login(struct app *app, struct http_request *req, struct http_response *res)
{
    struct form_value v[LOGIN__MAX];
    cJSON *errs = NULL;
    if (!form_parse(req->json, login_form, LOGIN__MAX, v, NULL, &errs)) {
        json_errors_reply(res, errs);
        return;
    }
    char email[USER_EMAIL_MAX + 1];
    bool email_ok = user_email_normalise(v[LOGIN_EMAIL].s, email);
    struct login_limits limits;
    if (!login_limits_or_reply(app, req, res, email_ok ? email : NULL, &limits)) {
        if (res->status == 429)
            metrics_inc(MC_LOGIN_RATELIMIT);
        return;
    }

    struct user u = { .is_active = false };
    char hash[USER_HASH_MAX] = "";
    enum vf_err err = email_ok ? user_get_by_email(app->db, email, &u, hash) : VF_ERR_NOTFOUND;
    if (err != VF_OK && err != VF_ERR_NOTFOUND) {
        login_limits_refund(app, &limits);
        reply_db_error(app, req, res, err);
        return;
    }
    if (!hash_place_or_reply(app, req, res)) {
        login_limits_refund(app, &limits); /* not evaluated: it does not count */
        return;
    }
    bool rehash = false;
    bool ok = err == VF_OK ? password_verify(hash, v[LOGIN_PASSWORD].s, &rehash)
                           : password_verify_dummy(v[LOGIN_PASSWORD].s);
    char fresh[PASSWORD_HASH_MAX];
    rehash = rehash && ok && u.is_active &&
             password_hash(v[LOGIN_PASSWORD].s, fresh, sizeof(fresh)) == VF_OK;
    procgate_leave(app->hash_gate);
    if (!ok || !u.is_active) {
        /* The failure stays counted in every bucket; the same answer in every case. */
        metrics_inc(MC_LOGIN_FAILED);
        json_detail(res, 401, MSG_LOGIN_FAILED);
        return;
    }
    if (rehash && user_rehash(app->db, u.id, fresh, hash) == VF_OK)
        log_info("accounts: upgraded the password hash of user %" PRId64, u.id);
    if ((err = user_touch_login(app->db, u.id)) != VF_OK ||
        (err = login_limits_passed(app, req, &limits, u.id)) != VF_OK) {
        reply_db_error(app, req, res, err);
        return;
    }
    char sid[TOKEN_ID_LEN + 1]; /* a new session: both tokens carry it, logout ends it */
    token_new_sid(sid);
    if ((err = auth_set_token_cookie(app, res, &u, TOKEN_ACCESS, sid, NULL)) != VF_OK ||
        (err = auth_set_token_cookie(app, res, &u, TOKEN_REFRESH, sid, NULL)) != VF_OK) {
        http_response_reset(res);
        json_error_reply(req, res, err);
        return;
    }
    set_csrf_cookie(app, res);

    cJSON *o = cJSON_CreateObject();
    cJSON *user = NULL;
    if (o != NULL && cJSON_AddStringToObject(o, "detail", "Login successful") != NULL &&
        (user = cJSON_AddObjectToObject(o, "user")) != NULL) {
        cJSON_AddNumberToObject(user, "id", (double)u.id);
        cJSON_AddStringToObject(user, "username", u.email);
    }
    metrics_inc(MC_LOGIN_OK);
    json_reply(res, 200, o);
}

/* ---- POST /api/logout/ ------------------------------------------------------------------ */

/*
 * The user and claims of the request's refresh-token cookie.  Without the cookie answers 400
 * and returns false; otherwise returns true with *err as auth_token_user() left it (VF_ERR_AUTH
 * for a bad token: each caller answers that its own way).
 */
static bool
refresh_user_or_reply(struct app *app, const struct http_request *req, struct http_response *res,
                      struct user *u, struct token_claims *c, enum vf_err *err)
{
    const char *jwt = http_cookie(req, AUTH_REFRESH_COOKIE);
    if (jwt == NULL || *jwt == '\0') {
        json_detail(res, 400, MSG_NO_REFRESH);
        return false;
    }
    *err = auth_token_user(app, jwt, TOKEN_REFRESH, u, c);
    return true;
}

static void
handle_logout(struct app *app, struct http_request *req, struct http_response *res)
{
    struct user u;
    struct token_claims c;
    enum vf_err err;
    if (!refresh_user_or_reply(app, req, res, &u, &c, &err))
        return;
    /* The refresh token (atomically: of N logouts with it one wins) and its session, so that
     * the session's access token dies too: any token of the session expires by then. */
    int64_t until = clock_now() + app->cfg->access_token_lifetime;
    if (err == VF_OK && (err = db_begin(app->db)) == VF_OK &&
        (err = user_revoke(app->db, c.jti, u.id, c.exp)) == VF_OK &&
        (err = user_revoke_session(app->db, c.sid, u.id, c.exp > until ? c.exp : until)) == VF_OK)
        err = db_commit(app->db);
    if (err == VF_ERR_AUTH || err == VF_ERR_STALE) {
        db_rollback(app->db);
        json_detail(res, 400, MSG_BAD_REFRESH);
        auth_delete_cookies(app, res);
        return;
    }
    if (err != VF_OK) {
        reply_db_error(app, req, res, err);
        return;
    }
    metrics_inc(MC_REFRESH_REVOKED);
    json_detail(res, 200, MSG_LOGOUT);
    auth_delete_cookies(app, res);
}

/* ---- POST /api/token/refresh/ ---------------------------------------------------------- */

static void
handle_refresh(struct app *app, struct http_request *req, struct http_response *res)
{
    struct user u;
    struct token_claims c;
    enum vf_err err;
    if (!refresh_user_or_reply(app, req, res, &u, &c, &err))
        return;
    if (err == VF_OK) {
        if (app->cfg->rotate_refresh_tokens) {
            /* The atomic step: of N concurrent refreshes with this token one inserts. */
            err = user_revoke(app->db, c.jti, u.id, c.exp);
        } else {
            bool revoked = false;
            err = user_is_revoked(app->db, c.jti, &revoked);
            if (err == VF_OK && revoked)
                err = VF_ERR_AUTH;
        }
    }
    if (err == VF_ERR_AUTH || err == VF_ERR_STALE) {
        auth_reply_token_invalid(res);
        return;
    }
    if (err != VF_OK) {
        reply_db_error(app, req, res, err);
        return;
    }
    char *access = NULL;
    err = auth_set_token_cookie(app, res, &u, TOKEN_ACCESS, c.sid, &access);
    if (err == VF_OK && app->cfg->rotate_refresh_tokens)
        err = auth_set_token_cookie(app, res, &u, TOKEN_REFRESH, c.sid, NULL);
    if (err != VF_OK) {
        free(access);
        http_response_reset(res);
        json_error_reply(req, res, err);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddStringToObject(o, "detail", "Token refreshed");
        cJSON_AddStringToObject(o, "access", access);
    }
    free(access);
    if (app->cfg->rotate_refresh_tokens)
        metrics_inc(MC_REFRESH_ROTATED);
    json_reply(res, 200, o);
}

/* ---- POST /api/password_reset/ --------------------------------------------------------- */

enum { RESET_EMAIL, RESET__MAX };
static const struct form_field reset_form[RESET__MAX] = {
    [RESET_EMAIL] = { "email", FORM_EMAIL, true, USER_EMAIL_MAX },
};

static void
handle_password_reset(struct app *app, struct http_request *req, struct http_response *res)
{
    const struct config *cfg = app->cfg;
    if (!take_bucket_or_reply(app, req, res, "reset", "ip", req->remote_addr,
                              cfg->ratelimit_password_reset))
        return;
    struct form_value v[RESET__MAX];
    char emails[RESET__MAX][FORM_VALUE_MAX];
    cJSON *errs = NULL;
    if (!form_parse(req->json, reset_form, RESET__MAX, v, emails, &errs)) {
        json_errors_reply(res, errs);
        return;
    }
    if (!take_bucket_or_reply(app, req, res, "reset", "email", v[RESET_EMAIL].s,
                              cfg->ratelimit_password_reset))
        return;

    /* The same work for a known and an unknown email: one request, which the worker turns into a
     * reset mail only for an existing account (the response time tells nothing). */
    enum vf_err err = accountmail_request(app->db, ACCOUNTMAIL_RESET, v[RESET_EMAIL].s);
    if (err != VF_OK) {
        reply_db_error(app, req, res, err);
        return;
    }
    json_detail(res, 200, MSG_RESET_SENT);
}

/* ---- POST /api/password_confirm/{uidb64}/{token}/ -------------------------------------- */

enum { CONFIRM_NEW, CONFIRM_REPEAT, CONFIRM__MAX };
static const struct form_field confirm_form[CONFIRM__MAX] = {
    [CONFIRM_NEW] = { "new_password", FORM_STRING, true, 0 },
    [CONFIRM_REPEAT] = { "confirm_password", FORM_STRING, true, 0 },
};

static void
handle_password_confirm(struct app *app, struct http_request *req, struct http_response *res)
{
    struct user u;
    char hash[USER_HASH_MAX];
    if (!link_user_or_reply(app, req, res, LINKTOKEN_RESET, "detail", MSG_BAD_RESET_LINK, &u, hash))
        return;
    struct form_value v[CONFIRM__MAX];
    cJSON *errs = NULL;
    bool ok = form_parse(req->json, confirm_form, CONFIRM__MAX, v, NULL, &errs);
    new_password_check(app->cfg, v[CONFIRM_NEW].s, v[CONFIRM_REPEAT].s, u.email, "new_password",
                       "confirm_password", &errs);
    if (!ok || errs != NULL) {
        json_errors_reply(res, errs); /* the link stays usable */
        return;
    }
    char fresh[PASSWORD_HASH_MAX];
    if (!hash_place_or_reply(app, req, res))
        return; /* the link stays usable */
    enum vf_err err = password_hash(v[CONFIRM_NEW].s, fresh, sizeof(fresh));
    procgate_leave(app->hash_gate);
    if (err != VF_OK) {
        json_error_reply(req, res, err);
        return;
    }
    /* Compare-and-set on the hash the link was checked against: single use even when
     * two confirmations race.  The version bump kills every refresh token of the user. */
    err = user_set_password(app->db, u.id, fresh, hash);
    if (err == VF_ERR_STALE) {
        json_detail(res, 400, MSG_BAD_RESET_LINK);
        return;
    }
    if (err != VF_OK) {
        reply_db_error(app, req, res, err);
        return;
    }
    log_info("accounts: password reset for user %" PRId64, u.id);
    json_detail(res, 200, MSG_RESET_DONE);
}

const struct route accounts_routes[] = {
    { HTTP_POST, "/api/register/", handle_register, ROUTE_JSON | ROUTE_NO_STORE, ROUTE_AUTH_NONE },
    { HTTP_GET, "/api/activate/{}/{}/", handle_activate, ROUTE_JSON | ROUTE_NO_STORE,
      ROUTE_AUTH_NONE },
    { HTTP_POST, "/api/login/", handle_login, ROUTE_JSON | ROUTE_NO_STORE, ROUTE_AUTH_NONE },
    { HTTP_POST, "/api/logout/", handle_logout, ROUTE_JSON | ROUTE_NO_STORE, ROUTE_AUTH_NONE },
    { HTTP_POST, "/api/token/refresh/", handle_refresh, ROUTE_JSON | ROUTE_NO_STORE,
      ROUTE_AUTH_NONE },
    { HTTP_POST, "/api/password_reset/", handle_password_reset, ROUTE_JSON | ROUTE_NO_STORE,
      ROUTE_AUTH_NONE },
    { HTTP_POST, "/api/password_confirm/{}/{}/", handle_password_confirm,
      ROUTE_JSON | ROUTE_NO_STORE, ROUTE_AUTH_NONE },
    { 0, NULL, NULL, 0, ROUTE_AUTH_NONE },
};
