/* token.c -- access and refresh JWTs: libjwt signs and checks the MAC; we check everything else. */
#include "autoconf.h"

#include "token.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <jwt.h>
#include <sodium.h>

#include "clock.h"
#include "jsonobj.h"

const char *
token_type_name(enum token_type type)
{
    return type == TOKEN_REFRESH ? "refresh" : "access";
}

static bool hex32(const char *s);

/* TOKEN_ID_LEN random hex characters into id. */
static void
random_id(char id[TOKEN_ID_LEN + 1])
{
    unsigned char rnd[TOKEN_ID_LEN / 2];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(id, TOKEN_ID_LEN + 1, rnd, sizeof(rnd));
}

void
token_new_sid(char sid[TOKEN_ID_LEN + 1])
{
    if (sodium_init() < 0) {
        sid[0] = '\0'; /* token_issue refuses it */
        return;
    }
    random_id(sid);
}

enum vf_err
token_issue(const void *key, size_t keylen, enum token_type type, int64_t user_id, int64_t version,
            const char *sid, int64_t lifetime_s, char **out, struct token_claims *claims)
{
    *out = NULL;
    if (key == NULL || keylen < TOKEN_MIN_KEY || keylen > 4096)
        return VF_ERR_CONFIG;
    if (sid == NULL || !hex32(sid))
        return VF_ERR_INVALID;
    if (sodium_init() < 0)
        return VF_ERR_INTERNAL;

    struct token_claims c = { .type = type, .user_id = user_id, .version = version };
    random_id(c.jti);
    memcpy(c.sid, sid, sizeof(c.sid));
    c.iat = clock_now();
    c.exp = c.iat + lifetime_s;

    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) != 0)
        return VF_ERR_NOMEM;
    enum vf_err err = VF_ERR_NOMEM;
    if (jwt_add_grant(jwt, "token_type", token_type_name(type)) != 0 ||
        jwt_add_grant_int(jwt, "exp", (long)c.exp) != 0 ||
        jwt_add_grant_int(jwt, "iat", (long)c.iat) != 0 || jwt_add_grant(jwt, "jti", c.jti) != 0 ||
        jwt_add_grant(jwt, "sid", c.sid) != 0 ||
        jwt_add_grant_int(jwt, "user_id", (long)user_id) != 0 ||
        jwt_add_grant_int(jwt, "ver", (long)version) != 0)
        goto done;
    if (jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)keylen) != 0) {
        err = VF_ERR_INTERNAL;
        goto done;
    }
    *out = jwt_encode_str(jwt);
    if (*out == NULL)
        goto done;
    if (claims != NULL)
        *claims = c;
    err = VF_OK;
done:
    jwt_free(jwt);
    return err;
}

/* Three non-empty base64url parts separated by dots. */
static bool
well_formed(const char *s, size_t len, size_t *hdrlen)
{
    size_t dots = 0, partlen = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '.') {
            if (partlen == 0)
                return false;
            if (dots == 0)
                *hdrlen = i;
            dots++;
            partlen = 0;
            continue;
        }
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return false;
        partlen++;
    }
    return dots == 2 && partlen > 0;
}

/* The header must be exactly {"alg":"HS256"} plus an optional "typ":"JWT". */
static bool
header_ok(const char *b64, size_t len)
{
    unsigned char buf[512];
    size_t n = 0;
    if (sodium_base642bin(buf, sizeof(buf) - 1, b64, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return false;
    buf[n] = '\0';
    cJSON *h = cJSON_ParseWithLength((const char *)buf, n);
    if (h == NULL)
        return false;
    bool ok = cJSON_IsObject(h);
    bool have_alg = false;
    for (const cJSON *it = h->child; ok && it != NULL; it = it->next) {
        if (strcmp(it->string, "alg") == 0 && !have_alg)
            ok = have_alg = cJSON_IsString(it) && strcmp(it->valuestring, "HS256") == 0;
        else if (strcmp(it->string, "typ") == 0)
            ok = cJSON_IsString(it) && strcmp(it->valuestring, "JWT") == 0;
        else
            ok = false;
    }
    cJSON_Delete(h);
    return ok && have_alg;
}

static bool
hex32(const char *s)
{
    if (strlen(s) != TOKEN_ID_LEN)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

static bool
claims_ok(const cJSON *g, enum token_type expect, struct token_claims *c)
{
    const cJSON *tt = cJSON_GetObjectItemCaseSensitive(g, "token_type");
    const cJSON *jti = cJSON_GetObjectItemCaseSensitive(g, "jti");
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(g, "sid");
    if (!cJSON_IsObject(g) || !cJSON_IsString(tt) || !cJSON_IsString(jti) || !cJSON_IsString(sid))
        return false;
    if (strcmp(tt->valuestring, token_type_name(expect)) != 0 || !hex32(jti->valuestring) ||
        !hex32(sid->valuestring))
        return false;
    if (!jsonobj_int64(g, "exp", &c->exp) || !jsonobj_int64(g, "iat", &c->iat) ||
        !jsonobj_int64(g, "user_id", &c->user_id) || !jsonobj_int64(g, "ver", &c->version))
        return false;
    int64_t now = clock_now();
    if (c->exp <= now || c->iat > now + TOKEN_IAT_LEEWAY || c->iat > c->exp || c->user_id <= 0)
        return false;
    c->type = expect;
    memcpy(c->jti, jti->valuestring, sizeof(c->jti));
    memcpy(c->sid, sid->valuestring, sizeof(c->sid));
    return true;
}

/*
 * Tokens this thread verified: a browser sends the same access token with every request, and
 * checking it through libjwt (jansson, OpenSSL's one-shot HMAC, the grants serialised and
 * parsed again) is about a fifth of the CPU of a cookie-authenticated request (bench/README.md).
 * An entry holds the BLAKE2b hash of (key length, key, expected type, token) -- never the token
 * -- compared in constant time, and the claims of a token that passed every check; the
 * time-dependent checks run again on every hit.  Failures are never cached.
 */
#define VCACHE_SIZE 256 /* direct-mapped by hash: a worker serving many users keeps hitting */

struct vcache_entry {
    bool used;
    unsigned char h[crypto_generichash_BYTES];
    struct token_claims c;
};

static _Thread_local struct vcache_entry vcache[VCACHE_SIZE];

static void
vcache_hash(const void *key, size_t keylen, enum token_type expect, const char *jwt, size_t len,
            unsigned char h[crypto_generichash_BYTES])
{
    crypto_generichash_state st;
    uint64_t kl = keylen;
    unsigned char t = (unsigned char)expect;
    crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)&kl, sizeof(kl));
    crypto_generichash_update(&st, key, keylen);
    crypto_generichash_update(&st, &t, 1);
    crypto_generichash_update(&st, (const unsigned char *)jwt, len);
    crypto_generichash_final(&st, h, crypto_generichash_BYTES);
}

/* The one slot hash h may live in (a colliding token simply replaces the entry). */
static struct vcache_entry *
vcache_slot(const unsigned char *h)
{
    return &vcache[(h[0] | (unsigned)h[1] << 8) % VCACHE_SIZE];
}

/* The cached claims of hash h, re-checked against the clock; false when absent or expired. */
static bool
vcache_get(const unsigned char *h, struct token_claims *out)
{
    const struct vcache_entry *e = vcache_slot(h);
    if (!e->used || sodium_memcmp(e->h, h, crypto_generichash_BYTES) != 0)
        return false;
    int64_t now = clock_now();
    if (e->c.exp <= now || e->c.iat > now + TOKEN_IAT_LEEWAY)
        return false;
    *out = e->c;
    return true;
}

static void
vcache_put(const unsigned char *h, const struct token_claims *c)
{
    struct vcache_entry *e = vcache_slot(h);
    e->used = true;
    memcpy(e->h, h, crypto_generichash_BYTES);
    e->c = *c;
}

enum vf_err
token_verify(const void *key, size_t keylen, const char *jwt_str, enum token_type expect,
             struct token_claims *out)
{
    memset(out, 0, sizeof(*out));
    if (key == NULL || keylen < TOKEN_MIN_KEY || keylen > 4096 || jwt_str == NULL)
        return VF_ERR_AUTH;
    size_t len = strnlen(jwt_str, TOKEN_MAX_LEN + 1);
    size_t hdrlen = 0;
    if (len == 0 || len > TOKEN_MAX_LEN || !well_formed(jwt_str, len, &hdrlen))
        return VF_ERR_AUTH;
    if (sodium_init() < 0)
        return VF_ERR_AUTH;
    /* A hit is this exact token, header included, which passed header_ok() and every other
     * check before: the header is only decoded and parsed on a miss. */
    unsigned char h[crypto_generichash_BYTES];
    vcache_hash(key, keylen, expect, jwt_str, len, h);
    if (vcache_get(h, out))
        return VF_OK;
    if (!header_ok(jwt_str, hdrlen))
        return VF_ERR_AUTH;

    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, jwt_str, key, (int)keylen) != 0 || jwt == NULL)
        return VF_ERR_AUTH;
    enum vf_err err = VF_ERR_AUTH;
    char *grants = NULL;
    cJSON *g = NULL;
    if (jwt_get_alg(jwt) != JWT_ALG_HS256)
        goto done;
    grants = jwt_get_grants_json(jwt, NULL);
    if (grants == NULL || (g = cJSON_Parse(grants)) == NULL)
        goto done;
    struct token_claims c = { 0 };
    if (!claims_ok(g, expect, &c))
        goto done;
    *out = c;
    vcache_put(h, &c);
    err = VF_OK;
done:
    cJSON_Delete(g);
    free(grants);
    jwt_free(jwt);
    return err;
}
