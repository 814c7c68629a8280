/* linktoken.c -- activation and password-reset link tokens, Django-generator style, HMAC-SHA256. */
#include "autoconf.h"

#include "linktoken.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define DOMAIN      "videoflix.linktoken.v1"
#define MAC_B64_LEN 43 /* base64url of 32 bytes without padding */
#define FUTURE_SKEW 60 /* seconds a token may appear to come from the future (host clocks) */

static const char *
purpose_name(enum linktoken_purpose p)
{
    return p == LINKTOKEN_RESET ? "reset" : "activate";
}

static void
mac_field(crypto_auth_hmacsha256_state *st, const char *s)
{
    /* Length-prefixed so that no two field lists serialise alike. */
    char len[24];
    int n = snprintf(len, sizeof(len), "%zu:", strlen(s));
    crypto_auth_hmacsha256_update(st, (const unsigned char *)len, (unsigned long long)n);
    crypto_auth_hmacsha256_update(st, (const unsigned char *)s, strlen(s));
}

static void
to_base36(int64_t v, char *out)
{
    char tmp[16];
    size_t n = 0;
    do {
        int d = (int)(v % 36);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= 36;
    } while (v > 0 && n < sizeof(tmp));
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

/* Build the whole token for issue time `ts` into out[LINKTOKEN_MAX]. */
static void
build(const void *key, size_t keylen, enum linktoken_purpose purpose,
      const struct linktoken_subject *s, int64_t ts, char out[LINKTOKEN_MAX])
{
    char num[32];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, keylen);
    mac_field(&st, DOMAIN);
    mac_field(&st, purpose_name(purpose));
    snprintf(num, sizeof(num), "%" PRId64, s->user_id);
    mac_field(&st, num);
    mac_field(&st, s->password_hash != NULL ? s->password_hash : "");
    mac_field(&st, s->is_active ? "1" : "0");
    char email[256];
    size_t i = 0;
    for (const char *e = s->email != NULL ? s->email : ""; *e && i < sizeof(email) - 1; e++)
        email[i++] = (char)tolower((unsigned char)*e);
    email[i] = '\0';
    mac_field(&st, email);
    snprintf(num, sizeof(num), "%" PRId64, s->version);
    mac_field(&st, num);
    snprintf(num, sizeof(num), "%" PRId64, ts);
    mac_field(&st, num);
    crypto_auth_hmacsha256_final(&st, mac);

    to_base36(ts, out);
    size_t n = strlen(out);
    out[n++] = '-';
    sodium_bin2base64(out + n, LINKTOKEN_MAX - n, mac, sizeof(mac),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(mac, sizeof(mac));
}

enum vf_err
linktoken_make(const void *key, size_t keylen, enum linktoken_purpose purpose,
               const struct linktoken_subject *subject, int64_t now_s, char out[LINKTOKEN_MAX])
{
    out[0] = '\0';
    if (key == NULL || keylen < 32 || now_s < 0)
        return VF_ERR_CONFIG;
    if (sodium_init() < 0)
        return VF_ERR_INTERNAL;
    build(key, keylen, purpose, subject, now_s, out);
    return VF_OK;
}

bool
linktoken_check(const void *key, size_t keylen, enum linktoken_purpose purpose,
                const struct linktoken_subject *subject, const char *token, int64_t now_s,
                int64_t timeout_s)
{
    if (key == NULL || keylen < 32 || token == NULL || sodium_init() < 0)
        return false;
    size_t len = strnlen(token, LINKTOKEN_MAX);
    if (len >= LINKTOKEN_MAX)
        return false;
    /* Parse the base36 timestamp (at most 12 digits: well past year 9999). */
    int64_t ts = 0;
    size_t i = 0;
    for (; i < len && token[i] != '-'; i++) {
        char c = token[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'z') ? c - 'a' + 10 : -1;
        if (d < 0 || i >= 12)
            return false;
        ts = ts * 36 + d;
    }
    if (i == 0 || i == len || len - i - 1 != MAC_B64_LEN)
        return false;
    if (ts > now_s + FUTURE_SKEW || now_s - ts > timeout_s)
        return false;
    char want[LINKTOKEN_MAX];
    build(key, keylen, purpose, subject, ts, want);
    bool ok = strlen(want) == len && sodium_memcmp(want, token, len) == 0;
    sodium_memzero(want, sizeof(want));
    return ok;
}

void
linktoken_uid_encode(int64_t id, char out[LINKTOKEN_UID_MAX])
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRId64, id);
    if (sodium_init() < 0) {
        out[0] = '\0';
        return;
    }
    sodium_bin2base64(out, LINKTOKEN_UID_MAX, (const unsigned char *)num, (size_t)n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool
linktoken_uid_decode(const char *uidb64, int64_t *id)
{
    unsigned char num[24];
    size_t n = 0;
    if (uidb64 == NULL || strlen(uidb64) > 28 || sodium_init() < 0)
        return false;
    if (sodium_base642bin(num, sizeof(num) - 1, uidb64, strlen(uidb64), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return false;
    if (n == 0 || n > 18 || num[0] == '0')
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (num[i] < '0' || num[i] > '9')
            return false;
        v = v * 10 + (num[i] - '0');
    }
    /* Canonical form only: re-encode and compare (rejects trailing bits variants). */
    char again[LINKTOKEN_UID_MAX];
    linktoken_uid_encode(v, again);
    if (strcmp(again, uidb64) != 0)
        return false;
    *id = v;
    return true;
}
