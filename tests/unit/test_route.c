/* test_route.c -- pattern matching and the cross-cutting contract of the dispatcher. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonobj.h"
#include "route.h"

static void
echo_handler(struct app *app, struct http_request *req, struct http_response *res)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "nparams", (double)req->nparams);
    if (req->nparams > 0)
        cJSON_AddStringToObject(o, "p0", req->params[0]);
    if (req->json != NULL)
        cJSON_AddItemToObject(o, "body", cJSON_Duplicate(req->json, 1));
    json_reply(res, 200, o);
}

static void
status_only_handler(struct app *app, struct http_request *req, struct http_response *res)
{
    res->status = 500;
}

static const struct route test_routes[] = {
    { HTTP_GET, "/api/health/", echo_handler, 0, ROUTE_AUTH_NONE },
    { HTTP_POST, "/api/login/", echo_handler, ROUTE_JSON | ROUTE_NO_STORE, ROUTE_AUTH_NONE },
    { HTTP_GET, "/api/video/{}/{}/index.m3u8", echo_handler, 0, ROUTE_AUTH_NONE },
    { HTTP_GET, "/api/video/{}/{}/{}/?", echo_handler, 0, ROUTE_AUTH_NONE },
    { HTTP_GET, "/api/broken/", status_only_handler, 0, ROUTE_AUTH_NONE },
    { HTTP_PATCH, "/api/things/{id}/", echo_handler, ROUTE_JSON, ROUTE_AUTH_USER },
    { HTTP_GET, "/api/staff/{id}/{}/", echo_handler, 0, ROUTE_AUTH_STAFF },
    { 0, NULL, NULL, 0, ROUTE_AUTH_NONE },
};
static const struct route *const tables[] = { test_routes, NULL };

static struct config *cfg;
static struct app app;

static void
setup(void)
{
    const char *p[] = { "SECRET_KEY=k3Jx9vQ2mZp7Lr4Tn8Wb1Yc6Hd0Fs5Ga2Ue", "JSON_MAX_BYTES=2048" };
    char err[256];
    cr_assert_eq(config_load_pairs(p, 2, &cfg, err, sizeof(err)), VF_OK, "%s", err);
    app.cfg = cfg;
}

static void
teardown(void)
{
    config_free(cfg);
}

struct result {
    int status;
    struct http_response res;
    cJSON *json;
};

static void
run(struct result *out, const char *method, const char *target, const char *const *h, size_t nh,
    const char *body)
{
    struct http_request *req =
        http_request_new(method, target, h, nh, body, body ? strlen(body) : 0);
    cr_assert_not_null(req);
    http_response_init(&out->res);
    route_dispatch(&app, tables, req, &out->res);
    out->status = out->res.status;
    out->json = out->res.body ? cJSON_ParseWithLength(out->res.body, out->res.body_len) : NULL;
    http_request_free(req);
}

static void
done(struct result *r)
{
    cJSON_Delete(r->json);
    http_response_free(&r->res);
}

TestSuite(route, .init = setup, .fini = teardown);

Test(route, match_captures_and_optional_slash)
{
    char *p[HTTP_MAX_PARAMS];
    size_t n;
    cr_assert(route_match("/api/video/{}/{}/{}/?", "/api/video/7/480p/000.ts", p, &n));
    cr_expect_eq(n, 3);
    cr_expect_str_eq(p[2], "000.ts");
    while (n > 0)
        free(p[--n]);
    cr_expect(route_match("/api/video/{}/{}/{}/?", "/api/video/7/480p/000.ts/", p, &n));
    while (n > 0)
        free(p[--n]);
    cr_expect(!route_match("/api/video/{}/{}/{}/?", "/api/video/7/480p/000.ts//", p, &n));
    cr_expect(!route_match("/api/video/{}/{}/{}/?", "/api/video/7//000.ts", p, &n));
    cr_expect(!route_match("/api/health/", "/api/health", p, &n));
    cr_expect(route_match("/api/video/{}/{}/{}/?", "/api/video/7/480p/%2e%2e", p, &n));
    cr_expect_str_eq(p[2], "..", "captures are decoded once");
    while (n > 0)
        free(p[--n]);
    cr_expect(!route_match("/api/video/{}/{}/{}/?", "/api/video/7/480p/%00", p, &n));
}

Test(route, unknown_path_is_404_json_with_security_headers)
{
    struct result r;
    run(&r, "GET", "/nope/", NULL, 0, NULL);
    cr_expect_eq(r.status, 404);
    cr_assert_not_null(r.json);
    cr_expect_str_eq(jsonobj_string(r.json, "detail"), "Not found.");
    cr_expect_str_eq(http_response_header(&r.res, "X-Content-Type-Options"), "nosniff");
    cr_expect_str_eq(http_response_header(&r.res, "X-Frame-Options"), "DENY");
    cr_expect_str_eq(http_response_header(&r.res, "Referrer-Policy"), "same-origin");
    done(&r);
}

Test(route, wrong_method_is_405_with_allow)
{
    struct result r;
    run(&r, "DELETE", "/api/login/", NULL, 0, NULL);
    cr_expect_eq(r.status, 405);
    cr_expect_str_eq(jsonobj_string(r.json, "detail"), "Method \"DELETE\" not allowed.");
    cr_expect_str_eq(http_response_header(&r.res, "Allow"), "POST, OPTIONS");
    done(&r);
}

Test(route, head_is_accepted_where_get_is)
{
    struct result r;
    run(&r, "HEAD", "/api/health/", NULL, 0, NULL);
    cr_expect_eq(r.status, 200);
    done(&r);
}

Test(route, preflight_from_allowed_origin)
{
    const char *h[] = { "Origin: http://127.0.0.1:5500", "Access-Control-Request-Method: POST" };
    struct result r;
    run(&r, "OPTIONS", "/anything/at/all", h, 2, NULL);
    cr_expect_eq(r.status, 200);
    cr_expect_eq(r.res.body_len, 0);
    cr_expect_str_eq(http_response_header(&r.res, "Access-Control-Allow-Origin"),
                     "http://127.0.0.1:5500");
    cr_expect_str_eq(http_response_header(&r.res, "Access-Control-Allow-Credentials"), "true");
    cr_expect_str_eq(http_response_header(&r.res, "Access-Control-Max-Age"), "86400");
    const char *ah = http_response_header(&r.res, "Access-Control-Allow-Headers");
    cr_expect(strstr(ah, "content-type") && strstr(ah, "x-csrftoken"));
    cr_expect_str_eq(http_response_header(&r.res, "Vary"), "Origin");
    done(&r);
}

Test(route, cors_headers_on_errors_too_but_never_for_other_origins)
{
    const char *ok[] = { "Origin: http://localhost:5500" };
    const char *evil[] = { "Origin: http://evil.example" };
    struct result r;
    run(&r, "GET", "/missing", ok, 1, NULL);
    cr_expect_eq(r.status, 404);
    cr_expect_str_eq(http_response_header(&r.res, "Access-Control-Allow-Origin"),
                     "http://localhost:5500");
    done(&r);
    run(&r, "GET", "/api/health/", evil, 1, NULL);
    cr_expect_null(http_response_header(&r.res, "Access-Control-Allow-Origin"));
    done(&r);
}

Test(route, unsafe_method_from_foreign_origin_is_403)
{
    const char *h[] = { "Origin: http://evil.example", "Content-Type: application/json" };
    struct result r;
    run(&r, "POST", "/api/login/", h, 2, "{}");
    cr_expect_eq(r.status, 403);
    cr_expect_not_null(jsonobj_string(r.json, "detail"));
    done(&r);
}

Test(route, json_body_rules)
{
    const char *json[] = { "Content-Type: application/json" };
    const char *text[] = { "Content-Type: text/plain" };
    struct result r;

    run(&r, "POST", "/api/login/", json, 1, "{\"email\":\"a@b.c\"}");
    cr_expect_eq(r.status, 200);
    cr_expect_str_eq(jsonobj_string(cJSON_GetObjectItem(r.json, "body"), "email"), "a@b.c");
    cr_expect_str_eq(http_response_header(&r.res, "Cache-Control"), "no-store");
    done(&r);

    run(&r, "POST", "/api/login/", text, 1, "email=a");
    cr_expect_eq(r.status, 415);
    done(&r);

    run(&r, "POST", "/api/login/", json, 1, "{\"email\":");
    cr_expect_eq(r.status, 400);
    cr_expect_not_null(r.json, "error bodies are JSON");
    done(&r);

    run(&r, "POST", "/api/login/", json, 1, "[1,2]");
    cr_expect_eq(r.status, 400);
    cr_expect_not_null(cJSON_GetObjectItem(r.json, "non_field_errors"));
    done(&r);

    run(&r, "POST", "/api/login/", json, 1, "{\"a\":\"\xc3\x28\"}");
    cr_expect_eq(r.status, 400, "invalid UTF-8");
    done(&r);

    run(&r, "POST", "/api/login/", json, 1, "{} trailing");
    cr_expect_eq(r.status, 400);
    done(&r);

    char big[4096];
    memset(big, ' ', sizeof(big) - 1);
    big[0] = '{';
    big[sizeof(big) - 2] = '}';
    big[sizeof(big) - 1] = '\0';
    run(&r, "POST", "/api/login/", json, 1, big);
    cr_expect_eq(r.status, 413);
    cr_expect_not_null(r.json);
    done(&r);

    run(&r, "POST", "/api/login/", NULL, 0, NULL);
    cr_expect_eq(r.status, 200, "an empty body is the handler's business");
    done(&r);
}

/* The first message of field `f` in r's body, or NULL. */
static const char *
field_msg(const struct result *r, const char *f)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(r->json, f);
    return cJSON_IsArray(a) && cJSON_IsString(a->child) ? a->child->valuestring : NULL;
}

Test(route, nul_in_any_json_string_is_a_400_field_error_never_a_shorter_value)
{
    static const struct {
        const char *body, *field; /* field NULL: accepted (200) */
    } cases[] = {
        { "{\"email\":\"a@b.c\",\"password\":\"pw\\u0000x\"}", "password" },
        { "{\"password\":\"\\u0000\"}", "password" },
        { "{\"email\":\"a\\u0000@b.c\"}", "email" },
        { "{\"x\":1,\"nested\":{\"deep\":[\"ok\",\"bad\\u0000\"]}}", "nested" },
        { "{\"ignored\":\"\\u0000\",\"email\":\"a@b.c\"}", "ignored" },
        { "{\"na\\u0000me\":\"v\"}", "non_field_errors" },
        { "{\"a\":{\"na\\u0000me\":1}}", "a" },
        { "{\"email\":\"a@b.c\",\"email\":\"b\\u0000\"}", "email" },
        /* not NULs: an escaped backslash before "u0000", other escapes, a NUL-free \u */
        { "{\"password\":\"pw\\\\u0000x\"}", NULL },
        { "{\"password\":\"\\u0001\\u00e9\\\"\\\\\"}", NULL },
        { "{\"k\\\\\":\"u0000\"}", NULL },
    };
    const char *json[] = { "Content-Type: application/json" };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct result r;
        run(&r, "POST", "/api/login/", json, 1, cases[i].body);
        if (cases[i].field == NULL) {
            cr_expect_eq(r.status, 200, "%s: %d", cases[i].body, r.status);
        } else {
            cr_expect_eq(r.status, 400, "%s: %d", cases[i].body, r.status);
            cr_expect_str_eq(field_msg(&r, cases[i].field), "Null characters are not allowed.",
                             "%s", cases[i].body);
            cr_expect_null(cJSON_GetObjectItem(r.json, "body"), "the handler never ran");
        }
        done(&r);
    }
}

Test(route, status_only_errors_get_a_json_body_with_request_id)
{
    struct result r;
    run(&r, "GET", "/api/broken/", NULL, 0, NULL);
    cr_expect_eq(r.status, 500);
    cr_assert_not_null(r.json);
    cr_expect_str_eq(jsonobj_string(r.json, "detail"), "Internal server error.");
    cr_expect_eq(strlen(jsonobj_string(r.json, "request_id")), 32);
    done(&r);
}

Test(route, match_treats_a_typed_capture_as_one_segment)
{
    char *p[HTTP_MAX_PARAMS];
    size_t n;
    cr_assert(route_match("/api/staff/{id}/{}/", "/api/staff/12/x/", p, &n));
    cr_expect_eq(n, 2);
    cr_expect_str_eq(p[0], "12");
    cr_expect_str_eq(p[1], "x");
    while (n > 0)
        free(p[--n]);
    cr_assert(route_match("/api/staff/{id}/{}/", "/api/staff/abc/x/", p, &n),
              "the type is checked by the dispatcher, after authentication");
    while (n > 0)
        free(p[--n]);
    cr_expect(!route_match("/api/staff/{id}/{}/", "/api/staff//x/", p, &n));
}

/*
 * Authentication comes after 404/405 and the Origin check, and before the typed captures
 * and any body check: without a cookie a malformed id or a wrong content type is still 401.
 */
Test(route, authentication_is_checked_after_the_origin_and_before_captures_and_body)
{
    const char *text[] = { "Content-Type: text/plain" };
    const char *evil[] = { "Origin: http://evil.example", "Content-Type: application/json" };
    const char *bad_token[] = { "Cookie: access_token=a.b.c", "Content-Type: text/plain" };
    struct result r;

    run(&r, "PATCH", "/api/things/abc/", text, 1, "not json");
    cr_expect_eq(r.status, 401);
    cr_expect_str_eq(jsonobj_string(r.json, "detail"),
                     "Authentication credentials were not provided.");
    cr_expect_str_eq(http_response_header(&r.res, "Cache-Control"), "no-store");
    done(&r);

    run(&r, "PATCH", "/api/things/7/", bad_token, 2, "not json");
    cr_expect_eq(r.status, 401);
    cr_expect_str_eq(jsonobj_string(r.json, "code"), "token_not_valid");
    done(&r);

    run(&r, "GET", "/api/staff/7/x/", NULL, 0, NULL);
    cr_expect_eq(r.status, 401, "staff routes need a user first");
    done(&r);

    run(&r, "PATCH", "/api/things/abc/", evil, 2, "{}");
    cr_expect_eq(r.status, 403, "the Origin check comes first");
    done(&r);

    run(&r, "DELETE", "/api/things/7/", NULL, 0, NULL);
    cr_expect_eq(r.status, 405, "and 405 before that");
    done(&r);
}

Test(route, segment_route_gets_decoded_params)
{
    struct result r;
    run(&r, "GET", "/api/video/12/720p/001.ts", NULL, 0, NULL);
    cr_expect_eq(r.status, 200);
    cr_expect_str_eq(jsonobj_string(r.json, "p0"), "12");
    done(&r);
}

Test(route, error_table_has_a_row_status_and_message_for_every_code)
{
    for (int e = VF_ERR_NOMEM; e < VF_ERR__MAX; e++) {
        cr_expect_str_neq(vf_strerror((enum vf_err)e), "unknown error", "code %d", e);
        cr_expect_geq(vf_err_status((enum vf_err)e), 400, "code %d", e);
        cr_expect_not_null(vf_err_message((enum vf_err)e), "code %d", e);
        if (vf_err_status((enum vf_err)e) == 500)
            cr_expect_str_eq(vf_err_message((enum vf_err)e), "Internal server error.");
    }
    cr_expect_eq(vf_err_status((enum vf_err)999), 500, "unknown codes are internal errors");
}

/* json_error_reply for `err` (and `detail`) on a matched request; the caller frees. */
static void
error_reply(struct result *out, enum vf_err err, const char *detail)
{
    struct http_request *req = http_request_new("GET", "/api/video/", NULL, 0, NULL, 0);
    cr_assert_not_null(req);
    http_response_init(&out->res);
    json_error_reply_detail(req, &out->res, err, detail);
    out->status = out->res.status;
    out->json = cJSON_ParseWithLength(out->res.body, out->res.body_len);
    cr_assert_not_null(out->json);
    if (out->status == 500)
        cr_expect_str_eq(jsonobj_string(out->json, "request_id"), req->request_id);
    http_request_free(req);
}

Test(route, error_reply_answers_from_the_table)
{
    static const struct {
        enum vf_err err;
        const char *detail;
        int status;
        const char *body_detail, *retry_after;
    } cases[] = {
        { VF_ERR_BUSY, NULL, 503, "Service temporarily unavailable, try again later.", "1" },
        { VF_ERR_TEMPFAIL, NULL, 503, "Service temporarily unavailable, try again later.", "1" },
        { VF_ERR_RATELIMIT, NULL, 429, "Request was throttled.", "60" },
        { VF_ERR_NOTFOUND, NULL, 404, "Not found.", NULL },
        { VF_ERR_NOSPACE, "Not enough disk.", 507, "Not enough disk.", NULL },
        { VF_ERR_DB, NULL, 500, "Internal server error.", NULL },
        { VF_ERR_IO, "/srv/media/secret/path", 500, "Internal server error.", NULL },
        { VF_OK, NULL, 500, "Internal server error.", NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct result r;
        error_reply(&r, cases[i].err, cases[i].detail);
        cr_expect_eq(r.status, cases[i].status, "case %zu", i);
        cr_expect_str_eq(jsonobj_string(r.json, "detail"), cases[i].body_detail, "case %zu", i);
        const char *ra = http_response_header(&r.res, "Retry-After");
        if (cases[i].retry_after == NULL)
            cr_expect_null(ra, "case %zu", i);
        else
            cr_expect_str_eq(ra, cases[i].retry_after, "case %zu", i);
        done(&r);
    }
}

Test(route, database_down_answers_503_with_cors_but_preflights_still_200)
{
    const char *pre[] = { "Origin: http://127.0.0.1:5500", "Access-Control-Request-Method: POST" };
    const char *get[] = { "Origin: http://127.0.0.1:5500" };
    const char *evil[] = { "Origin: http://evil.example", "Content-Type: application/json" };
    static const char *const paths[] = { "/api/video/", "/api/login/", "/no/such/path",
                                         "/api/activate/{}/x/" };
    struct result r;

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct http_request *req = http_request_new("GET", paths[i], get, 1, NULL, 0);
        cr_assert_not_null(req);
        http_response_init(&r.res);
        route_reply_unavailable(&app, req, &r.res);
        r.json = cJSON_ParseWithLength(r.res.body, r.res.body_len);
        cr_expect_eq(r.res.status, 503, "%s", paths[i]);
        cr_expect_str_eq(jsonobj_string(r.json, "detail"),
                         "Service temporarily unavailable, try again later.");
        cr_expect_str_eq(http_response_header(&r.res, "Retry-After"), "1");
        cr_expect_str_eq(http_response_header(&r.res, "Access-Control-Allow-Origin"),
                         "http://127.0.0.1:5500");
        cr_expect_str_eq(http_response_header(&r.res, "Cache-Control"), "no-store");
        cr_expect_str_eq(http_response_header(&r.res, "X-Frame-Options"), "DENY");
        cr_expect_null(req->route);
        http_request_free(req);
        done(&r);
    }

    struct http_request *req = http_request_new("OPTIONS", "/api/login/", pre, 2, NULL, 0);
    cr_assert_not_null(req);
    http_response_init(&r.res);
    route_reply_unavailable(&app, req, &r.res);
    cr_expect_eq(r.res.status, 200, "a preflight needs no database");
    cr_expect_eq(r.res.body_len, 0);
    cr_expect_str_eq(http_response_header(&r.res, "Access-Control-Max-Age"), "86400");
    http_request_free(req);
    r.json = NULL;
    done(&r);

    req = http_request_new("POST", "/api/login/", evil, 2, "{}", 2);
    cr_assert_not_null(req);
    http_response_init(&r.res);
    route_reply_unavailable(&app, req, &r.res);
    cr_expect_eq(r.res.status, 403, "the Origin rule holds while the database is down");
    http_request_free(req);
    r.json = NULL;
    done(&r);
}
