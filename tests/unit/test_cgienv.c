/* test_cgienv.c -- FastCGI parameters to the HTTP model (target, headers, body length, peer). */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cgienv.h"

static struct http_request *
build(char *const *envp)
{
    struct http_request *r = cgienv_request(envp, NULL);
    cr_assert_not_null(r);
    return r;
}

Test(cgienv, get_matches_whole_names_only)
{
    char *env[] = { "HTTP_HOSTX=a", "HTTP_HOST=b", "EMPTY=", NULL };
    cr_expect_str_eq(cgienv_get(env, "HTTP_HOST"), "b");
    cr_expect_str_eq(cgienv_get(env, "EMPTY"), "");
    cr_expect_null(cgienv_get(env, "HTTP"));
    cr_expect_null(cgienv_get(env, "MISSING"));
}

struct target_case {
    const char *uri, *script, *info, *qs;
    const char *path, *query;
};

Test(cgienv, target_prefers_request_uri_then_script_name_path_info_query)
{
    static const struct target_case cases[] = {
        { "/api/video/?a=1", "/api/x", "/y", "b=2", "/api/video/", "a=1" },
        { "/api/x%2Fy/", NULL, NULL, NULL, "/api/x%2Fy/", "" },
        { NULL, "/api/health/", NULL, "", "/api/health/", "" },
        { "", "/api", "/login/", "next=%2F", "/api/login/", "next=%2F" },
        { NULL, NULL, NULL, NULL, "/", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct target_case *c = &cases[i];
        char uri[128], script[128], info[128], qs[128];
        char *env[6];
        size_t n = 0;
        env[n++] = "REQUEST_METHOD=GET";
        if (c->uri) {
            snprintf(uri, sizeof(uri), "REQUEST_URI=%s", c->uri);
            env[n++] = uri;
        }
        if (c->script) {
            snprintf(script, sizeof(script), "SCRIPT_NAME=%s", c->script);
            env[n++] = script;
        }
        if (c->info) {
            snprintf(info, sizeof(info), "PATH_INFO=%s", c->info);
            env[n++] = info;
        }
        if (c->qs) {
            snprintf(qs, sizeof(qs), "QUERY_STRING=%s", c->qs);
            env[n++] = qs;
        }
        env[n] = NULL;
        struct http_request *r = build(env);
        cr_expect_str_eq(r->path, c->path, "case %zu", i);
        cr_expect_str_eq(r->query, c->query, "case %zu", i);
        http_request_free(r);
    }
}

Test(cgienv, method_defaults_to_get_and_unknown_methods_are_other)
{
    char *none[] = { "REQUEST_URI=/", NULL };
    char *post[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/", NULL };
    char *odd[] = { "REQUEST_METHOD=BREW", "REQUEST_URI=/", NULL };
    struct http_request *r = build(none);
    cr_expect_eq(r->method, HTTP_GET);
    http_request_free(r);
    r = build(post);
    cr_expect_eq(r->method, HTTP_POST);
    http_request_free(r);
    r = build(odd);
    cr_expect_eq(r->method, HTTP_OTHER);
    cr_expect_str_eq(r->method_str, "BREW");
    http_request_free(r);
}

Test(cgienv, http_params_become_lower_case_dashed_headers_with_cookies)
{
    char *env[] = { "REQUEST_METHOD=GET",
                    "REQUEST_URI=/api/video/",
                    "HTTP_ACCEPT_LANGUAGE=de",
                    "HTTP_ORIGIN=http://127.0.0.1:5500",
                    "HTTP_COOKIE=access_token=abc; other=1",
                    "SERVER_NAME=ignored",
                    "HTTP_=empty name is ignored",
                    NULL };
    struct http_request *r = build(env);
    cr_expect_str_eq(http_header(r, "accept-language"), "de");
    cr_expect_str_eq(http_header(r, "Origin"), "http://127.0.0.1:5500");
    cr_expect_str_eq(http_cookie(r, "access_token"), "abc");
    cr_expect_null(http_header(r, "server-name"));
    cr_expect_null(http_header(r, ""));
    http_request_free(r);
}

Test(cgienv, content_type_and_length_come_from_the_server_params_only)
{
    char *env[] = { "REQUEST_METHOD=POST",
                    "REQUEST_URI=/api/login/",
                    "HTTP_CONTENT_LENGTH=999999",
                    "HTTP_CONTENT_TYPE=text/plain",
                    "CONTENT_TYPE=application/json",
                    "CONTENT_LENGTH=17",
                    NULL };
    struct http_request *r = build(env);
    char ct[64];
    cr_expect_eq(r->content_length, 17);
    cr_expect_str_eq(http_content_type(r, ct, sizeof(ct)), "application/json");
    http_request_free(r);

    char *empty[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/",
                      "CONTENT_LENGTH=", "CONTENT_TYPE=", NULL };
    r = build(empty);
    cr_expect_eq(r->content_length, -1, "an empty CONTENT_LENGTH means no body");
    cr_expect_null(http_header(r, "content-type"));
    http_request_free(r);
}

Test(cgienv, malformed_content_length_is_flagged_for_the_dispatcher)
{
    char *env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/", "CONTENT_LENGTH=12abc", NULL };
    struct http_request *r = build(env);
    cr_expect_lt(r->content_length, -1);
    http_request_free(r);
}

Test(cgienv, remote_addr_is_copied_and_defaults_to_empty)
{
    char *with[] = { "REQUEST_URI=/", "REMOTE_ADDR=192.0.2.7", NULL };
    char *without[] = { "REQUEST_URI=/", NULL };
    struct http_request *r = build(with);
    cr_expect_str_eq(r->remote_addr, "192.0.2.7");
    http_request_free(r);
    r = build(without);
    cr_expect_str_eq(r->remote_addr, "");
    http_request_free(r);
}

Test(cgienv, headers_past_the_limit_are_dropped_and_counted)
{
    static char bufs[HTTP_MAX_HEADERS + 10][32];
    char *env[HTTP_MAX_HEADERS + 13];
    size_t n = 0, dropped = 0;
    env[n++] = "REQUEST_URI=/";
    for (size_t i = 0; i < HTTP_MAX_HEADERS + 10; i++) {
        snprintf(bufs[i], sizeof(bufs[i]), "HTTP_X_H%zu=v", i);
        env[n++] = bufs[i];
    }
    env[n] = NULL;
    struct http_request *r = cgienv_request(env, &dropped);
    cr_assert_not_null(r);
    cr_expect_eq(dropped, 10);
    cr_expect_eq(r->nheaders, HTTP_MAX_HEADERS);
    cr_expect_str_eq(http_header(r, "x-h0"), "v");
    http_request_free(r);
}
