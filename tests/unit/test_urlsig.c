/* test_urlsig.c -- signed segment URLs: the exact formats nginx and our lighttpd script check. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "urlsig.h"

#define KEY  "0123456789abcdef0123456789abcdef"
#define URI  "/api/video/7/480p/000.ts"
#define ADDR "127.0.0.1"

/* Expected values computed independently with Python's hashlib/hmac:
 *   base64.urlsafe_b64encode(md5(b"2000000000" + URI + ADDR + b" " + KEY)).rstrip("=")
 *   hmac.new(KEY, b"2000000000|" + URI + b"|" + ADDR, sha256).hexdigest() */
Test(urlsig, nginx_query_matches_secure_link_md5)
{
    char q[URLSIG_QUERY_MAX];
    cr_assert_eq(urlsig_query(URLSIG_NGINX, KEY, URI, ADDR, 2000000000, q, sizeof(q)), VF_OK);
    cr_expect_str_eq(q, "e=2000000000&s=LLIRVT8KymlgzKRkY9PIOg");
}

Test(urlsig, lighttpd_query_matches_hmac_sha256)
{
    char q[URLSIG_QUERY_MAX];
    cr_assert_eq(urlsig_query(URLSIG_LIGHTTPD, KEY, URI, ADDR, 2000000000, q, sizeof(q)), VF_OK);
    cr_expect_str_eq(
        q, "e=2000000000&s=e421a30d2834b3463c3fc81e250bf2f545bbf659f2591a61e743390dfe5ca053");
}

Test(urlsig, round_trip_and_every_alteration_fails)
{
    static const enum urlsig_scheme schemes[] = { URLSIG_NGINX, URLSIG_LIGHTTPD };
    for (size_t i = 0; i < 2; i++) {
        enum urlsig_scheme s = schemes[i];
        char q[URLSIG_QUERY_MAX], bad[URLSIG_QUERY_MAX + 8];
        cr_assert_eq(urlsig_query(s, KEY, URI, ADDR, 1000, q, sizeof(q)), VF_OK);
        cr_expect_eq(urlsig_verify(s, KEY, URI, ADDR, q, 999), VF_OK);
        cr_expect_eq(urlsig_verify(s, KEY, URI, ADDR, q, 1000), VF_OK);
        /* expired by one second */
        cr_expect_eq(urlsig_verify(s, KEY, URI, ADDR, q, 1001), VF_ERR_AUTH);
        /* other video, other rendition, other segment, other client, other key */
        cr_expect_eq(urlsig_verify(s, KEY, "/api/video/8/480p/000.ts", ADDR, q, 999), VF_ERR_AUTH);
        cr_expect_eq(urlsig_verify(s, KEY, "/api/video/7/720p/000.ts", ADDR, q, 999), VF_ERR_AUTH);
        cr_expect_eq(urlsig_verify(s, KEY, "/api/video/7/480p/001.ts", ADDR, q, 999), VF_ERR_AUTH);
        cr_expect_eq(urlsig_verify(s, KEY, URI, "127.0.0.2", q, 999), VF_ERR_AUTH);
        cr_expect_eq(urlsig_verify(s, KEY "x", URI, ADDR, q, 999), VF_ERR_AUTH);
        /* a later expiry with the old signature */
        snprintf(bad, sizeof(bad), "e=1001%s", strchr(q, '&'));
        cr_expect_eq(urlsig_verify(s, KEY, URI, ADDR, bad, 999), VF_ERR_AUTH);
        /* one character of the signature flipped */
        snprintf(bad, sizeof(bad), "%s", q);
        char *last = bad + strlen(bad) - 1;
        *last = *last == 'A' ? 'B' : 'A';
        cr_expect_eq(urlsig_verify(s, KEY, URI, ADDR, bad, 999), VF_ERR_AUTH);
        /* truncated, missing, duplicated, malformed */
        bad[strlen(bad) - 1] = '\0';
        cr_expect_eq(urlsig_verify(s, KEY, URI, ADDR, bad, 999), VF_ERR_AUTH);
        cr_expect_eq(urlsig_verify(s, KEY, URI, ADDR, "", 999), VF_ERR_AUTH);
        cr_expect_eq(urlsig_verify(s, KEY, URI, ADDR, "e=1000", 999), VF_ERR_AUTH);
        snprintf(bad, sizeof(bad), "%s&e=1000", q);
        cr_expect_eq(urlsig_verify(s, KEY, URI, ADDR, bad, 999), VF_ERR_AUTH);
        snprintf(bad, sizeof(bad), "e=-1%s", strchr(q, '&'));
        cr_expect_eq(urlsig_verify(s, KEY, URI, ADDR, bad, -5), VF_ERR_AUTH);
        /* parameter order does not matter; unknown parameters are ignored */
        char sig[80];
        snprintf(sig, sizeof(sig), "%s", strchr(q, '&') + 1);
        snprintf(bad, sizeof(bad), "x=1&%s&e=1000", sig);
        cr_expect_eq(urlsig_verify(s, KEY, URI, ADDR, bad, 999), VF_OK);
    }
}

Test(urlsig, no_key_or_scheme_signs_nothing)
{
    char q[URLSIG_QUERY_MAX];
    cr_expect_eq(urlsig_query(URLSIG_NONE, KEY, URI, ADDR, 1000, q, sizeof(q)), VF_ERR_INVALID);
    cr_expect_eq(urlsig_query(URLSIG_NGINX, "", URI, ADDR, 1000, q, sizeof(q)), VF_ERR_INVALID);
    cr_expect_eq(urlsig_query(URLSIG_NGINX, NULL, URI, ADDR, 1000, q, sizeof(q)), VF_ERR_INVALID);
    cr_expect_eq(urlsig_query(URLSIG_NGINX, KEY, URI, ADDR, 1000, q, 10), VF_ERR_TOOBIG);
    cr_expect_eq(urlsig_verify(URLSIG_NONE, KEY, URI, ADDR, "e=1000&s=x", 999), VF_ERR_AUTH);
}
