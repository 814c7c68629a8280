/* test_auth.c -- users, refresh-token revocation, sessions and cookie authentication against
 * a real (temporary) SQLite database migrated with the shipped schema; frozen clock. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "auth.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "route.h"
#include "user.h"

#define T0 1800000000LL

static char dir[64];
static struct config *cfg;
static struct app app;

static void
setup(void)
{
    char dbname[128], errbuf[256];
    strcpy(dir, "/tmp/vf-test-auth-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(dbname, sizeof(dbname), "DB_NAME=%s/t.sqlite3", dir);
    const char *pairs[] = { "SECRET_KEY=test-secret-key-0123456789abcdef-0123456789",
                            "DB_ENGINE=sqlite", dbname, ("VIDEOFLIX_DATA_DIR=" VF_SRCDIR),
                            "LOG_LEVEL=error" };
    cr_assert_eq(
        config_load_pairs(pairs, sizeof(pairs) / sizeof(pairs[0]), &cfg, errbuf, sizeof(errbuf)),
        VF_OK, "%s", errbuf);
    log_init("test_auth", CONFIG_LOG_ERROR);
    cr_assert_eq(db_open_create(cfg, &app.db), VF_OK);
    app.cfg = cfg;
    int applied = 0;
    cr_assert_eq(db_migrate(app.db, VF_SRCDIR "/schema", &applied), VF_OK);
    clock_set_us(T0 * 1000000LL);
}

static void
teardown(void)
{
    char path[128];
    clock_set_us(0);
    db_close(app.db);
    app.db = NULL;
    config_free(cfg);
    static const char *const files[] = { "t.sqlite3", "t.sqlite3-wal", "t.sqlite3-shm" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

TestSuite(auth, .init = setup, .fini = teardown);

static void
advance(int64_t seconds)
{
    clock_set_us(clock_now_us() + seconds * 1000000LL);
}

static int64_t
new_user(const char *email, bool active)
{
    int64_t id = 0;
    cr_assert_eq(user_create(app.db, email, "$argon2id$placeholder", active, false, false, &id),
                 VF_OK);
    return id;
}

Test(auth, duplicate_email_is_a_conflict_and_cas_password_change_is_single_use)
{
    int64_t id = new_user("a@example.com", true);
    int64_t other = 0;
    cr_expect_eq(user_create(app.db, "a@example.com", "x", false, false, false, &other),
                 VF_ERR_CONFLICT);
    cr_expect_eq(user_set_password(app.db, id, "new1", "$argon2id$placeholder"), VF_OK);
    cr_expect_eq(user_set_password(app.db, id, "new2", "$argon2id$placeholder"), VF_ERR_STALE,
                 "the old hash is gone: a second use of the same reset link loses");
    struct user u;
    char hash[USER_HASH_MAX];
    cr_assert_eq(user_get(app.db, id, &u, hash), VF_OK);
    cr_expect_str_eq(hash, "new1");
    cr_expect_eq(u.token_version, 1, "password change bumps the token version");
    cr_expect_eq(user_get(app.db, id + 100, &u, NULL), VF_ERR_NOTFOUND);
}

Test(auth, revocation_is_won_once_and_pruned_after_expiry)
{
    int64_t id = new_user("r@example.com", true);
    bool revoked = true;
    cr_assert_eq(user_is_revoked(app.db, "0123456789abcdef0123456789abcdef", &revoked), VF_OK);
    cr_expect_not(revoked);
    cr_expect_eq(user_revoke(app.db, "0123456789abcdef0123456789abcdef", id, T0 + 60), VF_OK);
    cr_expect_eq(user_revoke(app.db, "0123456789abcdef0123456789abcdef", id, T0 + 60),
                 VF_ERR_STALE);
    cr_assert_eq(user_is_revoked(app.db, "0123456789abcdef0123456789abcdef", &revoked), VF_OK);
    cr_expect(revoked);
    int64_t n = -1;
    cr_expect_eq(user_prune_revocations(app.db, &n), VF_OK);
    cr_expect_eq(n, 0, "not expired yet");
    advance(61);
    cr_expect_eq(user_prune_revocations(app.db, &n), VF_OK);
    cr_expect_eq(n, 1);
}

/* Run auth_require(_staff)_or_reply with `cookie` (may be NULL); returns the status
 * (0 when authenticated) and the body in body[]. */
static int
authenticate(const char *cookie, bool staff, struct user *u, char *body, size_t len)
{
    char hdr[5000];
    const char *headers[1] = { hdr };
    snprintf(hdr, sizeof(hdr), "Cookie: %s", cookie ? cookie : "");
    struct http_request *req =
        http_request_new("GET", "/api/video/", headers, cookie ? 1 : 0, NULL, 0);
    cr_assert_not_null(req);
    struct http_response res;
    http_response_init(&res);
    bool ok = staff ? auth_require_staff_or_reply(&app, req, &res, u)
                    : auth_require_or_reply(&app, req, &res, u);
    snprintf(body, len, "%.*s", (int)res.body_len, res.body ? res.body : "");
    int status = ok ? 0 : res.status;
    http_response_free(&res);
    http_request_free(req);
    return status;
}

#define SID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* "access_token=<a token of type for user id at version in session sid>" (static buffer). */
static char *
session_cookie(int64_t id, int64_t version, enum token_type type, const char *sid)
{
    static char buf[4200];
    char *t = NULL;
    cr_assert_eq(token_issue(cfg->secret_key, strlen(cfg->secret_key), type, id, version, sid, 1800,
                             &t, NULL),
                 VF_OK);
    snprintf(buf, sizeof(buf), "access_token=%s", t);
    free(t);
    return buf;
}

static char *
access_cookie(int64_t id, int64_t version, enum token_type type)
{
    return session_cookie(id, version, type, SID_A);
}

#define NO_CREDENTIALS "{\"detail\":\"Authentication credentials were not provided.\"}"
#define INVALID        "{\"detail\":\"Token is invalid or expired\",\"code\":\"token_not_valid\"}"
#define FORBIDDEN      "{\"detail\":\"You do not have permission to perform this action.\"}"

Test(auth, access_cookie_authenticates_only_a_live_active_user_of_this_version)
{
    char body[512];
    struct user u;
    int64_t id = new_user("u@example.com", true);

    cr_expect_eq(authenticate(NULL, false, &u, body, sizeof(body)), 401);
    cr_expect_str_eq(body, NO_CREDENTIALS);
    cr_expect_eq(authenticate("access_token=", false, &u, body, sizeof(body)), 401);
    cr_expect_str_eq(body, NO_CREDENTIALS);
    cr_expect_eq(authenticate("access_token=a.b.c", false, &u, body, sizeof(body)), 401);
    cr_expect_str_eq(body, INVALID);

    char *cookie = strdup(access_cookie(id, 0, TOKEN_ACCESS));
    cr_assert_eq(authenticate(cookie, false, &u, body, sizeof(body)), 0, "%s", body);
    cr_expect_eq(u.id, id);
    cr_expect_str_eq(u.email, "u@example.com");

    cr_expect_eq(authenticate(access_cookie(id, 0, TOKEN_REFRESH), false, &u, body, sizeof(body)),
                 401, "a refresh token is not an access token");
    cr_expect_eq(
        authenticate(access_cookie(id + 1, 0, TOKEN_ACCESS), false, &u, body, sizeof(body)), 401,
        "unknown user");
    cr_expect_str_eq(body, INVALID);

    cr_expect_eq(authenticate(cookie, true, &u, body, sizeof(body)), 403);
    cr_expect_str_eq(body, FORBIDDEN);
    cr_assert_eq(user_set_staff(app.db, id, true, false), VF_OK);
    cr_expect_eq(authenticate(cookie, true, &u, body, sizeof(body)), 0);

    advance(1800);
    cr_expect_eq(authenticate(cookie, false, &u, body, sizeof(body)), 401, "expired");
    advance(-1800);

    cr_assert_eq(user_set_active(app.db, id, false), VF_OK);
    cr_expect_eq(authenticate(cookie, false, &u, body, sizeof(body)), 401, "deactivated");
    cr_assert_eq(user_set_active(app.db, id, true), VF_OK);
    cr_expect_eq(authenticate(cookie, false, &u, body, sizeof(body)), 401,
                 "reactivation does not revive old tokens (version bumped twice)");
    cr_expect_eq(authenticate(access_cookie(id, 2, TOKEN_ACCESS), false, &u, body, sizeof(body)), 0,
                 "a token of the current version works");
    free(cookie);
}

Test(auth, an_ended_session_refuses_its_access_and_refresh_tokens_and_only_those)
{
    char body[512];
    struct user u;
    int64_t id = new_user("s@example.com", true);
    char *a = strdup(session_cookie(id, 0, TOKEN_ACCESS, SID_A));
    char *b = strdup(session_cookie(id, 0, TOKEN_ACCESS, SID_B));
    cr_assert_eq(authenticate(a, false, &u, body, sizeof(body)), 0, "%s", body);
    cr_assert_eq(authenticate(b, false, &u, body, sizeof(body)), 0, "%s", body);

    /* logout of session A: its access token dies although its signature is cached */
    cr_assert_eq(user_revoke_session(app.db, SID_A, id, T0 + 86400), VF_OK);
    cr_assert_eq(user_revoke_session(app.db, SID_A, id, T0 + 60), VF_OK, "idempotent");
    cr_expect_eq(authenticate(a, false, &u, body, sizeof(body)), 401);
    cr_expect_str_eq(body, INVALID);
    cr_expect_eq(authenticate(b, false, &u, body, sizeof(body)), 0, "other sessions live on");
    char *t = NULL;
    struct token_claims c;
    cr_assert_eq(token_issue(cfg->secret_key, strlen(cfg->secret_key), TOKEN_REFRESH, id, 0, SID_A,
                             86400, &t, NULL),
                 VF_OK);
    cr_expect_eq(auth_token_user(&app, t, TOKEN_REFRESH, &u, &c), VF_ERR_AUTH,
                 "a refresh token of the ended session too");
    free(t);

    /* pruned once every token of the session has expired anyway (the longer expiry kept) */
    int64_t n = -1;
    advance(3600);
    cr_assert_eq(user_prune_revocations(app.db, &n), VF_OK);
    cr_expect_eq(n, 0, "kept until its latest expiry");
    advance(86400);
    cr_assert_eq(user_prune_revocations(app.db, &n), VF_OK);
    cr_expect_eq(n, 1);
    free(a);
    free(b);
}

/* --------------------------------------------- route rows that declare authentication */

/* Records what the handler was handed: {"user": id, "id": param_ids[0], "body": ...}. */
static void
whoami(struct app *a, struct http_request *req, struct http_response *res)
{
    (void)a;
    cJSON *o = cJSON_CreateObject();
    cr_assert_not_null(req->user, "an authenticated route hands the user over");
    cJSON_AddNumberToObject(o, "user", (double)req->user->id);
    cJSON_AddNumberToObject(o, "id", (double)req->param_ids[0]);
    cJSON_AddBoolToObject(o, "body", req->json != NULL);
    json_reply(res, 200, o);
}

static const struct route staff_routes[] = {
    { HTTP_PATCH, "/api/admin/things/{id}/", whoami, ROUTE_JSON, ROUTE_AUTH_STAFF },
    { 0, NULL, NULL, 0, ROUTE_AUTH_NONE },
};

/* Dispatch to staff_routes; returns the status and the body in body[]. */
static int
dispatch_staff(const char *cookie, const char *path, const char *ctype, const char *body_in,
               char *body, size_t len)
{
    const struct route *const tables[] = { staff_routes, NULL };
    char hdr[5000], ct[64];
    const char *headers[2] = { hdr, ct };
    snprintf(hdr, sizeof(hdr), "Cookie: %s", cookie);
    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
    struct http_request *req =
        http_request_new("PATCH", path, headers, 2, body_in, strlen(body_in));
    cr_assert_not_null(req);
    struct http_response res;
    http_response_init(&res);
    route_dispatch(&app, tables, req, &res);
    cr_expect_null(req->user, "the borrowed user does not outlive the handler");
    snprintf(body, len, "%.*s", (int)res.body_len, res.body ? res.body : "");
    int status = res.status;
    http_response_free(&res);
    http_request_free(req);
    return status;
}

Test(auth, dispatcher_checks_staff_then_the_id_then_the_body_and_hands_the_user_over)
{
    char body[512], want[128];
    int64_t id = new_user("staff@example.com", true);
    char *cookie = strdup(access_cookie(id, 0, TOKEN_ACCESS));

    cr_expect_eq(
        dispatch_staff(cookie, "/api/admin/things/abc/", "text/plain", "x", body, sizeof(body)),
        403, "not staff: refused before the id or the body is looked at");
    cr_expect_str_eq(body, FORBIDDEN);
    cr_assert_eq(user_set_staff(app.db, id, true, false), VF_OK);

    static const char *const bad_ids[] = { "abc", "0", "07", "-1", "9223372036854775808" };
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        char path[96];
        snprintf(path, sizeof(path), "/api/admin/things/%s/", bad_ids[i]);
        cr_expect_eq(dispatch_staff(cookie, path, "text/plain", "x", body, sizeof(body)), 404, "%s",
                     bad_ids[i]);
        cr_expect_str_eq(body, "{\"detail\":\"Not found.\"}");
    }
    cr_expect_eq(
        dispatch_staff(cookie, "/api/admin/things/42/", "text/plain", "x", body, sizeof(body)), 415,
        "the body is checked last");
    cr_expect_eq(dispatch_staff(cookie, "/api/admin/things/42/", "application/json", "{}", body,
                                sizeof(body)),
                 200, "%s", body);
    snprintf(want, sizeof(want), "{\"user\":%lld,\"id\":42,\"body\":true}", (long long)id);
    cr_expect_str_eq(body, want);
    free(cookie);
}
