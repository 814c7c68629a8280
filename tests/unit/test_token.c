/* test_token.c -- JWT issue/verify: a table of forgeries, each refused; expiry on a frozen clock.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "clock.h"
#include "token.h"

static const char KEY[] = "unit-test-secret-key-0123456789abcdef-xyz";
#define KEYLEN (sizeof(KEY) - 1)
#define NOW    1800000000LL /* frozen "now", seconds */
#define JTI    "0123456789abcdef0123456789abcdef"
#define SID    "fedcba9876543210fedcba9876543210"
#define SIDM   "\"sid\":\"" SID "\","

static void
freeze(void)
{
    clock_set_us(NOW * 1000000LL);
}

static void
unfreeze(void)
{
    clock_set_us(0);
}

TestSuite(token, .init = freeze, .fini = unfreeze);

static void
b64url(const void *data, size_t len, char *out, size_t outlen)
{
    sodium_bin2base64(out, outlen, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Hand-made token: header and payload JSON as given, signed with `md` (NULL: no signature). */
static char *
forge(const char *header, const char *payload, const EVP_MD *md, const char *key)
{
    static char out[16384];
    char h[4096], p[8192];
    b64url(header, strlen(header), h, sizeof(h));
    b64url(payload, strlen(payload), p, sizeof(p));
    int n = snprintf(out, sizeof(out), "%s.%s.", h, p);
    if (md != NULL) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;
        HMAC(md, key, (int)strlen(key), (const unsigned char *)out, (size_t)n - 1, mac, &maclen);
        b64url(mac, maclen, out + n, sizeof(out) - (size_t)n);
    }
    return out;
}

static char *
claims(const char *type, const char *exp, const char *iat, const char *jti)
{
    static char buf[512];
    snprintf(buf, sizeof(buf),
             "{\"token_type\":\"%s\",\"exp\":%s,\"iat\":%s,%s" SIDM "\"user_id\":7,\"ver\":0}",
             type, exp, iat, jti);
    return buf;
}

#define HS256_HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define GOOD_EXP  "1800000600"
#define GOOD_IAT  "1800000000"
#define GOOD_JTI  "\"jti\":\"" JTI "\","

Test(token, hand_made_valid_token_verifies)
{
    struct token_claims c;
    char *t = forge(HS256_HDR, claims("access", GOOD_EXP, GOOD_IAT, GOOD_JTI), EVP_sha256(), KEY);
    cr_assert_eq(token_verify(KEY, KEYLEN, t, TOKEN_ACCESS, &c), VF_OK, "%s", t);
    cr_expect_eq(c.user_id, 7);
    cr_expect_str_eq(c.jti, JTI);
    t = forge("{\"alg\":\"HS256\"}", claims("refresh", GOOD_EXP, GOOD_IAT, GOOD_JTI), EVP_sha256(),
              KEY);
    cr_assert_eq(token_verify(KEY, KEYLEN, t, TOKEN_REFRESH, &c), VF_OK, "no typ is fine");
}

struct forgery {
    const char *name;
    const char *token;
    enum token_type expect;
};

static char *
dup(const char *s)
{
    char *d = strdup(s);
    cr_assert_not_null(d);
    return d;
}

Test(token, every_forgery_is_refused)
{
    const char *good = claims("access", GOOD_EXP, GOOD_IAT, GOOD_JTI);
    char *valid = dup(forge(HS256_HDR, good, EVP_sha256(), KEY));

    char *stripped = dup(valid);
    *(strrchr(stripped, '.') + 1) = '\0';
    char *altered_sig = dup(valid);
    char *last = altered_sig + strlen(altered_sig) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    /* Payload swapped for another user, signature kept. */
    char *altered_payload = dup(valid);
    {
        char p[512];
        const char *other = "{\"token_type\":\"access\",\"exp\":1800000600,\"iat\":1800000000,"
                            "\"jti\":\"" JTI "\"," SIDM "\"user_id\":1,\"ver\":0}";
        b64url(other, strlen(other), p, sizeof(p));
        char *d1 = strchr(altered_payload, '.');
        char *d2 = strchr(d1 + 1, '.');
        char *rebuilt = malloc(strlen(valid) + 512);
        cr_assert_not_null(rebuilt);
        sprintf(rebuilt, "%.*s.%s%s", (int)(d1 - altered_payload), altered_payload, p, d2);
        free(altered_payload);
        altered_payload = rebuilt;
    }
    /* A validly signed token of more than 4 KiB. */
    char big[6000];
    snprintf(big, sizeof(big),
             "{\"token_type\":\"access\",\"exp\":1800000600,\"iat\":1800000000,\"jti\":\"" JTI
             "\"," SIDM "\"user_id\":7,\"ver\":0,\"pad\":\"%04000d\"}",
             0);
    char *huge = dup(forge(HS256_HDR, big, EVP_sha256(), KEY));
    char *two_dots_only = dup("abc.def");
    char *four_parts = NULL;
    {
        four_parts = malloc(strlen(valid) + 8);
        cr_assert_not_null(four_parts);
        sprintf(four_parts, "%s.xyz", valid);
    }
    char *padded = malloc(strlen(valid) + 4);
    cr_assert_not_null(padded);
    sprintf(padded, "%s==", valid);

    const struct forgery table[] = {
        { "alg none, no signature",
          dup(forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", good, NULL, KEY)), TOKEN_ACCESS },
        { "alg none with an HS256 signature",
          dup(forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", good, EVP_sha256(), KEY)), TOKEN_ACCESS },
        { "alg None (case)", dup(forge("{\"alg\":\"None\"}", good, NULL, KEY)), TOKEN_ACCESS },
        { "alg hs256 (case)", dup(forge("{\"alg\":\"hs256\"}", good, EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "HS384 signed with the key",
          dup(forge("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", good, EVP_sha384(), KEY)),
          TOKEN_ACCESS },
        { "HS512 signed with the key",
          dup(forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", good, EVP_sha512(), KEY)),
          TOKEN_ACCESS },
        { "RS256 header, HMAC signature (key confusion)",
          dup(forge("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", good, EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "header with a kid",
          dup(forge("{\"alg\":\"HS256\",\"kid\":\"../../x\"}", good, EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "two alg members",
          dup(forge("{\"alg\":\"HS256\",\"alg\":\"none\"}", good, EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "header not JSON", dup(forge("not json", good, EVP_sha256(), KEY)), TOKEN_ACCESS },
        { "signed with another key",
          dup(forge(HS256_HDR, good, EVP_sha256(), "another-secret-key-0123456789abcdef")),
          TOKEN_ACCESS },
        { "stripped signature", stripped, TOKEN_ACCESS },
        { "altered signature", altered_sig, TOKEN_ACCESS },
        { "altered payload", altered_payload, TOKEN_ACCESS },
        { "expired by 1 s",
          dup(forge(HS256_HDR, claims("access", "1799999999", "1799999000", GOOD_JTI), EVP_sha256(),
                    KEY)),
          TOKEN_ACCESS },
        { "expires exactly now",
          dup(forge(HS256_HDR, claims("access", "1800000000", "1799999000", GOOD_JTI), EVP_sha256(),
                    KEY)),
          TOKEN_ACCESS },
        { "string exp",
          dup(forge(HS256_HDR, claims("access", "\"1800000600\"", GOOD_IAT, GOOD_JTI), EVP_sha256(),
                    KEY)),
          TOKEN_ACCESS },
        { "fractional exp",
          dup(forge(HS256_HDR, claims("access", "1800000600.5", GOOD_IAT, GOOD_JTI), EVP_sha256(),
                    KEY)),
          TOKEN_ACCESS },
        { "null exp",
          dup(forge(HS256_HDR, claims("access", "null", GOOD_IAT, GOOD_JTI), EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "huge exp",
          dup(forge(HS256_HDR, claims("access", "1e300", GOOD_IAT, GOOD_JTI), EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "iat in the future",
          dup(forge(HS256_HDR, claims("access", "1800009999", "1800000600", GOOD_JTI), EVP_sha256(),
                    KEY)),
          TOKEN_ACCESS },
        { "string iat",
          dup(forge(HS256_HDR, claims("access", GOOD_EXP, "\"1800000000\"", GOOD_JTI), EVP_sha256(),
                    KEY)),
          TOKEN_ACCESS },
        { "missing jti",
          dup(forge(HS256_HDR, claims("access", GOOD_EXP, GOOD_IAT, ""), EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "short jti",
          dup(forge(HS256_HDR, claims("access", GOOD_EXP, GOOD_IAT, "\"jti\":\"abc\","),
                    EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "numeric jti",
          dup(forge(HS256_HDR, claims("access", GOOD_EXP, GOOD_IAT, "\"jti\":5,"), EVP_sha256(),
                    KEY)),
          TOKEN_ACCESS },
        { "missing sid (no session)",
          dup(forge(HS256_HDR,
                    "{\"token_type\":\"access\",\"exp\":1800000600,\"iat\":1800000000,"
                    "\"jti\":\"" JTI "\",\"user_id\":7,\"ver\":0}",
                    EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "short sid",
          dup(forge(HS256_HDR,
                    "{\"token_type\":\"access\",\"exp\":1800000600,\"iat\":1800000000,"
                    "\"jti\":\"" JTI "\",\"sid\":\"fedcba\",\"user_id\":7,\"ver\":0}",
                    EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "numeric sid",
          dup(forge(HS256_HDR,
                    "{\"token_type\":\"access\",\"exp\":1800000600,\"iat\":1800000000,"
                    "\"jti\":\"" JTI "\",\"sid\":12,\"user_id\":7,\"ver\":0}",
                    EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "refresh used as access",
          dup(forge(HS256_HDR, claims("refresh", GOOD_EXP, GOOD_IAT, GOOD_JTI), EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "access used as refresh", valid, TOKEN_REFRESH },
        { "unknown token_type",
          dup(forge(HS256_HDR, claims("admin", GOOD_EXP, GOOD_IAT, GOOD_JTI), EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "missing user_id",
          dup(forge(HS256_HDR,
                    "{\"token_type\":\"access\",\"exp\":1800000600,\"iat\":1800000000,"
                    "\"jti\":\"" JTI "\"," SIDM "\"ver\":0}",
                    EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "string user_id",
          dup(forge(HS256_HDR,
                    "{\"token_type\":\"access\",\"exp\":1800000600,\"iat\":1800000000,"
                    "\"jti\":\"" JTI "\"," SIDM "\"user_id\":\"7\",\"ver\":0}",
                    EVP_sha256(), KEY)),
          TOKEN_ACCESS },
        { "payload is an array", dup(forge(HS256_HDR, "[1,2]", EVP_sha256(), KEY)), TOKEN_ACCESS },
        { "huge token (> 4 KiB)", huge, TOKEN_ACCESS },
        { "two parts", two_dots_only, TOKEN_ACCESS },
        { "four parts", four_parts, TOKEN_ACCESS },
        { "padding characters", padded, TOKEN_ACCESS },
        { "empty string", dup(""), TOKEN_ACCESS },
        { "garbage", dup("..."), TOKEN_ACCESS },
    };
    /* Sanity: the unmodified original is valid, so each case fails for its own reason. */
    struct token_claims c;
    cr_assert_eq(token_verify(KEY, KEYLEN, valid, TOKEN_ACCESS, &c), VF_OK);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        cr_expect_eq(token_verify(KEY, KEYLEN, table[i].token, table[i].expect, &c), VF_ERR_AUTH,
                     "forgery accepted: %s", table[i].name);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].token != valid)
            free((void *)table[i].token);
    free(valid);
    cr_expect_eq(token_verify(KEY, KEYLEN, NULL, TOKEN_ACCESS, &c), VF_ERR_AUTH);
}

Test(token, issued_token_verifies_until_exp_on_a_frozen_clock)
{
    char *t = NULL;
    struct token_claims issued, got;
    cr_assert_eq(token_issue(KEY, KEYLEN, TOKEN_ACCESS, 42, 3, SID, 300, &t, &issued), VF_OK);
    cr_expect_eq(issued.iat, NOW);
    cr_expect_str_eq(issued.sid, SID);
    cr_expect_eq(issued.exp, NOW + 300);
    cr_expect_eq(strlen(issued.jti), 32);
    cr_assert_eq(token_verify(KEY, KEYLEN, t, TOKEN_ACCESS, &got), VF_OK);
    cr_expect_eq(got.user_id, 42);
    cr_expect_eq(got.version, 3);
    cr_expect_str_eq(got.jti, issued.jti);
    cr_expect_str_eq(got.sid, SID, "the session id travels in the token");

    clock_set_us((NOW + 299) * 1000000LL);
    cr_expect_eq(token_verify(KEY, KEYLEN, t, TOKEN_ACCESS, &got), VF_OK, "1 s before exp");
    clock_set_us((NOW + 300) * 1000000LL);
    cr_expect_eq(token_verify(KEY, KEYLEN, t, TOKEN_ACCESS, &got), VF_ERR_AUTH, "at exp");
    clock_set_us((NOW + 301) * 1000000LL);
    cr_expect_eq(token_verify(KEY, KEYLEN, t, TOKEN_ACCESS, &got), VF_ERR_AUTH, "1 s after");
    clock_set_us((NOW - TOKEN_IAT_LEEWAY - 1) * 1000000LL);
    cr_expect_eq(token_verify(KEY, KEYLEN, t, TOKEN_ACCESS, &got), VF_ERR_AUTH,
                 "issued in the future");
    free(t);
}

Test(token, issued_refresh_is_not_an_access_token)
{
    char *t = NULL;
    struct token_claims got;
    cr_assert_eq(token_issue(KEY, KEYLEN, TOKEN_REFRESH, 1, 0, SID, 86400, &t, NULL), VF_OK);
    cr_expect_eq(token_verify(KEY, KEYLEN, t, TOKEN_REFRESH, &got), VF_OK);
    cr_expect_eq(token_verify(KEY, KEYLEN, t, TOKEN_ACCESS, &got), VF_ERR_AUTH);
    free(t);
}

Test(token, jti_is_unique_per_token)
{
    char *a = NULL, *b = NULL;
    struct token_claims ca, cb;
    cr_assert_eq(token_issue(KEY, KEYLEN, TOKEN_REFRESH, 1, 0, SID, 60, &a, &ca), VF_OK);
    cr_assert_eq(token_issue(KEY, KEYLEN, TOKEN_REFRESH, 1, 0, SID, 60, &b, &cb), VF_OK);
    cr_expect_str_neq(ca.jti, cb.jti);
    cr_expect_str_neq(a, b);
    free(a);
    free(b);
}

Test(token, short_keys_are_refused)
{
    char *t = NULL;
    struct token_claims c;
    cr_expect_eq(token_issue("short", 5, TOKEN_ACCESS, 1, 0, SID, 60, &t, NULL), VF_ERR_CONFIG);
    cr_expect_null(t);
    cr_expect_eq(token_issue(KEY, KEYLEN, TOKEN_ACCESS, 1, 0, NULL, 60, &t, NULL), VF_ERR_INVALID,
                 "no session");
    cr_expect_eq(token_issue(KEY, KEYLEN, TOKEN_ACCESS, 1, 0, "abc", 60, &t, NULL), VF_ERR_INVALID);
    cr_expect_null(t);
    char fresh[TOKEN_ID_LEN + 1], other[TOKEN_ID_LEN + 1];
    token_new_sid(fresh);
    token_new_sid(other);
    cr_expect_eq(strlen(fresh), TOKEN_ID_LEN);
    cr_expect_str_neq(fresh, other);
    cr_expect_eq(token_issue(KEY, KEYLEN, TOKEN_ACCESS, 1, 0, fresh, 60, &t, NULL), VF_OK);
    free(t);
    t = NULL;
    cr_assert_eq(token_issue(KEY, KEYLEN, TOKEN_ACCESS, 1, 0, SID, 60, &t, NULL), VF_OK);
    cr_expect_eq(token_verify("short", 5, t, TOKEN_ACCESS, &c), VF_ERR_AUTH);
    free(t);
}

Test(token, a_verified_token_is_refused_with_another_key_or_type_and_after_exp)
{
    static const char other[] = "unit-test-secret-key-0123456789abcdef-XYZ";
    char *t = NULL;
    struct token_claims got;
    cr_assert_eq(token_issue(KEY, KEYLEN, TOKEN_ACCESS, 7, 1, SID, 60, &t, NULL), VF_OK);
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(token_verify(KEY, KEYLEN, t, TOKEN_ACCESS, &got), VF_OK, "verify %d", i);
        cr_expect_eq(got.user_id, 7);
    }
    cr_expect_eq(token_verify(other, sizeof(other) - 1, t, TOKEN_ACCESS, &got), VF_ERR_AUTH,
                 "the same token under another key");
    cr_expect_eq(token_verify(KEY, KEYLEN, t, TOKEN_REFRESH, &got), VF_ERR_AUTH, "as a refresh");
    clock_set_us((NOW + 60) * 1000000LL);
    cr_expect_eq(token_verify(KEY, KEYLEN, t, TOKEN_ACCESS, &got), VF_ERR_AUTH, "at exp");
    free(t);
}

/* More live tokens than cache slots (many users on one worker): every one keeps verifying with
 * its own claims, whatever entries collide or are replaced; an altered one never does. */
Test(token, many_verified_tokens_each_keep_their_own_claims)
{
    enum { N = 600 };
    char *many[N];
    struct token_claims got;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(token_issue(KEY, KEYLEN, TOKEN_ACCESS, i + 1, 0, SID, 300, &many[i], NULL),
                     VF_OK);
        cr_assert_eq(token_verify(KEY, KEYLEN, many[i], TOKEN_ACCESS, &got), VF_OK);
    }
    for (int i = 0; i < N; i++) {
        cr_expect_eq(token_verify(KEY, KEYLEN, many[i], TOKEN_ACCESS, &got), VF_OK);
        cr_expect_eq(got.user_id, i + 1);
        size_t n = strlen(many[i]); /* a signature character carrying data bits */
        many[i][n - 10] = many[i][n - 10] == 'A' ? 'B' : 'A';
        cr_expect_eq(token_verify(KEY, KEYLEN, many[i], TOKEN_ACCESS, &got), VF_ERR_AUTH);
        free(many[i]);
    }
}
