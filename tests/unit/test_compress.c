/* test_compress.c -- Accept-Encoding and the gzip coding of playlist bodies. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "compress.h"
#include "http.h"

Test(compress, accept_encoding_table)
{
    static const struct {
        const char *ae;
        bool gzip;
    } cases[] = {
        { NULL, false },
        { "", false },
        { "identity", false },
        { "gzip", true },
        { "GZip", true },
        { "x-gzip", true },
        { "gzip, deflate, br", true },
        { "br;q=1.0, gzip;q=0.8, *;q=0.1", true },
        { "deflate, gzip;q=0", false },
        { "gzip; q=0.000", false },
        { "gzip;q=0.001", true },
        { "*", true },
        { "*;q=0", false },
        { "*, gzip;q=0", false },
        { "gzip;q=0, *", false },
        { "gzipped", false },
        { "deflate,br", false },
        { "gzip;q=2", false },
        { "gzip;q=abc", false },
        { " , ,gzip", true },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_expect_eq(compress_accepts_gzip(cases[i].ae), cases[i].gzip, "%s",
                     cases[i].ae ? cases[i].ae : "(none)");
}

static struct http_request *
request(const char *ae)
{
    char h[128];
    snprintf(h, sizeof(h), "Accept-Encoding: %s", ae);
    const char *hdrs[1] = { h };
    struct http_request *req =
        http_request_new("GET", "/api/video/1/master.m3u8", hdrs, ae ? 1 : 0, NULL, 0);
    cr_assert_not_null(req);
    return req;
}

Test(compress, a_playlist_is_gzipped_for_a_client_that_takes_it)
{
    /* A long media playlist: repetitive, as real ones are. */
    size_t n = 0, cap = 200000;
    char *text = malloc(cap);
    n += (size_t)snprintf(text, cap, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n");
    for (int i = 0; i < 1800; i++)
        n += (size_t)snprintf(text + n, cap - n, "#EXTINF:4.000000,\n%03d.ts\n", i);

    struct http_request *req = request("gzip, deflate");
    struct http_response res;
    http_response_init(&res);
    cr_assert_eq(http_body_set(&res, "application/vnd.apple.mpegurl", text, n), VF_OK);
    cr_assert_eq(compress_body(req, &res), VF_OK);
    cr_expect_str_eq(http_response_header(&res, "Content-Encoding"), "gzip");
    cr_expect_str_eq(http_response_header(&res, "Vary"), "Accept-Encoding");
    cr_expect_lt(res.body_len, n / 4);
    cr_expect_eq((unsigned char)res.body[0], 0x1f, "a gzip member");
    cr_expect_eq((unsigned char)res.body[1], 0x8b);

    z_stream z;
    memset(&z, 0, sizeof(z));
    cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK);
    char *back = malloc(n + 1);
    z.next_in = (Bytef *)res.body;
    z.avail_in = (uInt)res.body_len;
    z.next_out = (Bytef *)back;
    z.avail_out = (uInt)n + 1;
    cr_assert_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
    cr_expect_eq(z.total_out, n);
    cr_expect_arr_eq(back, text, n);
    inflateEnd(&z);
    free(back);
    http_response_free(&res);
    http_request_free(req);

    /* Not accepted: the body stays as it is; Vary says why. */
    req = request("identity");
    http_response_init(&res);
    cr_assert_eq(http_body_set(&res, NULL, text, n), VF_OK);
    http_header_set(&res, "Vary", "Origin");
    cr_assert_eq(compress_body(req, &res), VF_OK);
    cr_expect_null(http_response_header(&res, "Content-Encoding"));
    cr_expect_eq(res.body_len, n);
    cr_expect_str_eq(http_response_header(&res, "Vary"), "Origin, Accept-Encoding");
    http_response_free(&res);
    http_request_free(req);
    free(text);
}
