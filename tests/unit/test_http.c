/* test_http.c -- request parsing (headers, cookies, query), responses, ranges. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

static struct http_request *
req_with(const char *target, const char *const *h, size_t n)
{
    struct http_request *r = http_request_new("GET", target, h, n, NULL, 0);
    cr_assert_not_null(r);
    return r;
}

Test(http, cookies_parse_first_wins_and_quotes_strip)
{
    const char *h[] = { "Cookie: a=1; access_token=\"tok.en\"; a=2;  b = x=y ;broken; =v" };
    struct http_request *r = req_with("/", h, 1);
    cr_expect_str_eq(http_cookie(r, "a"), "1");
    cr_expect_str_eq(http_cookie(r, "access_token"), "tok.en");
    cr_expect_str_eq(http_cookie(r, "b"), "x=y");
    cr_expect_null(http_cookie(r, "broken"));
    cr_expect_null(http_cookie(r, "missing"));
    http_request_free(r);
}

Test(http, headers_are_case_insensitive_and_normalised)
{
    const char *h[] = { "X_Forwarded_For: 1.2.3.4",
                        "Content-Type: Application/JSON; charset=utf-8" };
    struct http_request *r = req_with("/p?x=1", h, 2);
    char ct[64];
    cr_expect_str_eq(http_header(r, "x-forwarded-for"), "1.2.3.4");
    cr_expect_str_eq(http_header(r, "CONTENT-TYPE"), "Application/JSON; charset=utf-8");
    cr_expect_str_eq(http_content_type(r, ct, sizeof(ct)), "application/json");
    cr_expect_str_eq(r->path, "/p");
    cr_expect_str_eq(r->query, "x=1");
    http_request_free(r);
}

Test(http, query_params_decode_once)
{
    struct http_request *r = req_with("/p?e=123&s=a%2Bb&sp=a+b&flag&bad=%zz&nul=%00", NULL, 0);
    char buf[64];
    cr_expect_str_eq(http_query(r, "e", buf, sizeof(buf)), "123");
    cr_expect_str_eq(http_query(r, "s", buf, sizeof(buf)), "a+b");
    cr_expect_str_eq(http_query(r, "sp", buf, sizeof(buf)), "a b");
    cr_expect_str_eq(http_query(r, "flag", buf, sizeof(buf)), "");
    cr_expect_null(http_query(r, "bad", buf, sizeof(buf)));
    cr_expect_null(http_query(r, "nul", buf, sizeof(buf)));
    cr_expect_null(http_query(r, "absent", buf, sizeof(buf)));
    cr_expect_null(http_query(r, "s", buf, 3), "truncation is refused");
    http_request_free(r);
}

Test(http, percent_decode_refuses_malformed_and_nul)
{
    char out[32];
    cr_expect_eq(http_percent_decode("%2e%2E%2f", out, sizeof(out)), 3);
    cr_expect_str_eq(out, "../");
    cr_expect_eq(http_percent_decode("%252e", out, sizeof(out)), 3, "decoded once only");
    cr_expect_str_eq(out, "%2e");
    cr_expect_eq(http_percent_decode("a%0", out, sizeof(out)), -1);
    cr_expect_eq(http_percent_decode("a%", out, sizeof(out)), -1);
    cr_expect_eq(http_percent_decode("%00", out, sizeof(out)), -1);
    cr_expect_eq(http_percent_decode("abcdef", out, 4), -1);
}

Test(http, content_length_malformed_is_flagged)
{
    const char *ok[] = { "Content-Length: 12" };
    const char *bad[] = { "Content-Length: -1" };
    const char *bad2[] = { "Content-Length: 12abc" };
    struct http_request *r = req_with("/", ok, 1);
    cr_expect_eq(r->content_length, 12);
    http_request_free(r);
    r = req_with("/", bad, 1);
    cr_expect_eq(r->content_length, -2);
    http_request_free(r);
    r = req_with("/", bad2, 1);
    cr_expect_eq(r->content_length, -2);
    http_request_free(r);
}

Test(http, response_headers_refuse_crlf_and_head_has_length)
{
    struct http_response res;
    char *head;
    size_t len;
    http_response_init(&res);
    cr_expect_eq(http_header_set(&res, "X-A", "1\r\nInjected: yes"), VF_ERR_INVALID);
    cr_expect_eq(http_header_set(&res, "X-A", "1"), VF_OK);
    cr_expect_eq(http_header_set(&res, "x-a", "2"), VF_OK);
    cr_expect_str_eq(http_response_header(&res, "X-A"), "2");
    http_body_set(&res, "application/json", "{}", 2);
    res.status = 404;
    cr_assert_eq(http_response_head(&res, &head, &len), VF_OK);
    cr_expect(strstr(head, "Status: 404 Not Found\r\n") == head);
    cr_expect(strstr(head, "Content-Length: 2\r\n") != NULL);
    cr_expect(strstr(head, "Content-Type: application/json\r\n") != NULL);
    cr_expect(strstr(head, "Injected") == NULL);
    cr_expect_eq(strcmp(head + len - 4, "\r\n\r\n"), 0);
    free(head);
    http_response_free(&res);
}

Test(http, cookie_attributes_match_the_contract)
{
    struct http_response res;
    http_response_init(&res);
    cr_assert_eq(http_cookie_set(&res, "access_token", "a.b.c", 1800, true, false), VF_OK);
    cr_assert_eq(http_cookie_delete(&res, "refresh_token", true, true), VF_OK);
    cr_expect_eq(http_cookie_set(&res, "x", "bad;value", 1, true, false), VF_ERR_INVALID);
    cr_assert_eq(res.nheaders, 2);
    cr_expect_str_eq(res.headers[0].value,
                     "access_token=a.b.c; Max-Age=1800; Path=/; SameSite=Lax; HttpOnly");
    cr_expect_str_eq(res.headers[1].value,
                     "refresh_token=; expires=Thu, 01 Jan 1970 00:00:00 "
                     "GMT; Max-Age=0; Path=/; SameSite=Lax; HttpOnly; Secure");
    http_response_free(&res);
}

struct range_case {
    const char *range;
    int status;
    long long off, len;
};

Test(http, ranges_are_served_per_rfc7233)
{
    static const struct range_case cases[] = {
        { NULL, 200, 0, 100 },
        { "bytes=0-9", 206, 0, 10 },
        { "bytes=90-", 206, 90, 10 },
        { "bytes=-5", 206, 95, 5 },
        { "bytes=50-500", 206, 50, 50 },
        { "bytes=100-", 416, 0, 0 },
        { "bytes=0-1,5-6", 200, 0, 100 },
        { "items=0-1", 200, 0, 100 },
        { "bytes=9-3", 200, 0, 100 },
        { "bytes=-0", 416, 0, 0 },
    };
    char path[] = "/tmp/vf-range-XXXXXX";
    int fd = mkstemp(path);
    char data[100];
    memset(data, 'x', sizeof(data));
    cr_assert_eq(write(fd, data, sizeof(data)), 100);
    close(fd);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char hdr[64];
        const char *h[1] = { hdr };
        snprintf(hdr, sizeof(hdr), "Range: %s", cases[i].range ? cases[i].range : "");
        struct http_request *r = req_with("/", h, cases[i].range ? 1 : 0);
        struct http_response res;
        http_response_init(&res);
        cr_assert_eq(http_serve_fd(r, &res, open(path, O_RDONLY), "video/MP2T"), VF_OK);
        cr_expect_eq(res.status, cases[i].status, "%s", hdr);
        if (cases[i].status != 416) {
            cr_expect_eq(res.file_offset, cases[i].off, "%s", hdr);
            cr_expect_eq(res.file_length, cases[i].len, "%s", hdr);
            cr_expect_str_eq(http_response_header(&res, "Accept-Ranges"), "bytes");
        } else {
            cr_expect_str_eq(http_response_header(&res, "Content-Range"), "bytes */100");
            cr_expect_eq(res.file_fd, -1);
        }
        http_response_free(&res);
        http_request_free(r);
    }
    unlink(path);
}
