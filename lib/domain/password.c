/* password.c -- argon2id hashing via libsodium, Django pbkdf2_sha256 verification, policy. */
#include "autoconf.h"

#include "password.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "log.h"
#include "utf8.h"

#define DJANGO_PREFIX     "pbkdf2_sha256$"
#define DJANGO_MAX_ITER   10000000L /* refuse absurd imported work factors (DoS) */
#define DJANGO_DIGEST_LEN 32
#define SIMILARITY_MAX    0.7

/*
 * The argon2id cost: OWASP's Password Storage Cheat Sheet asks for m = 19 MiB, t = 2, p = 1 at
 * least, or one of the configurations it lists as equally strong (fewer passes over more
 * memory, or more over less).  libsodium's crypto_pwhash_str always uses p = 1.  A cost below
 * the pair for its t is refused (password_set_cost).
 */
static const struct {
    unsigned time_cost, min_kib;
} owasp_floor[] = {
    { 1, 47104 }, { 2, 19456 }, { 3, 12288 }, { 4, 9216 }, { 5, 7168 },
};

/* Process-global, set once at start-up before the workers fork (datadir_require). */
static unsigned long long cost_ops = PASSWORD_HASH_TIME_DEFAULT;
static size_t cost_mem = (size_t)PASSWORD_HASH_MEMORY_KIB_DEFAULT * 1024;

static unsigned long long
ops_limit(void)
{
    return cost_ops;
}

static size_t
mem_limit(void)
{
    return cost_mem;
}

static bool
sodium_ready(void)
{
    return sodium_init() >= 0; /* idempotent; 1 = already initialised */
}

enum vf_err
password_hash(const char *password, char *out, size_t outlen)
{
    if (outlen < crypto_pwhash_STRBYTES || password == NULL)
        return VF_ERR_INTERNAL;
    if (!sodium_ready())
        return VF_ERR_INTERNAL;
    if (crypto_pwhash_str(out, password, strlen(password), ops_limit(), mem_limit()) != 0)
        return VF_ERR_NOMEM;
    return VF_OK;
}

/* Django: pbkdf2_sha256$<iterations>$<salt>$<base64(sha256 pbkdf2 digest)> */
static bool
verify_django(const char *hash, const char *password)
{
    const char *p = hash + strlen(DJANGO_PREFIX);
    char *end = NULL;
    errno = 0;
    long iter = strtol(p, &end, 10);
    if (errno != 0 || end == p || *end != '$' || iter < 1 || iter > DJANGO_MAX_ITER)
        return false;
    const char *salt = end + 1;
    const char *dollar = strchr(salt, '$');
    if (dollar == NULL || dollar == salt || strchr(dollar + 1, '$') != NULL)
        return false;
    size_t saltlen = (size_t)(dollar - salt);
    const char *want = dollar + 1;
    size_t wantlen = strlen(want);
    if (saltlen > INT_MAX || strlen(password) > INT_MAX)
        return false;

    unsigned char digest[DJANGO_DIGEST_LEN];
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), (const unsigned char *)salt,
                          (int)saltlen, (int)iter, EVP_sha256(), sizeof(digest), digest) != 1)
        return false;
    char b64[sodium_base64_ENCODED_LEN(DJANGO_DIGEST_LEN, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(digest, sizeof(digest));
    if (wantlen != strlen(b64))
        return false;
    return sodium_memcmp(b64, want, wantlen) == 0;
}

bool
password_verify(const char *hash, const char *password, bool *needs_rehash)
{
    if (needs_rehash != NULL)
        *needs_rehash = false;
    if (hash == NULL || password == NULL || !sodium_ready())
        return false;
    if (strncmp(hash, "$argon2id$", 10) == 0) {
        if (strlen(hash) >= crypto_pwhash_STRBYTES)
            return false;
        if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0)
            return false;
        if (needs_rehash != NULL)
            *needs_rehash = crypto_pwhash_str_needs_rehash(hash, ops_limit(), mem_limit()) != 0;
        return true;
    }
    if (strncmp(hash, DJANGO_PREFIX, strlen(DJANGO_PREFIX)) == 0) {
        if (!verify_django(hash, password))
            return false;
        if (needs_rehash != NULL)
            *needs_rehash = true;
        return true;
    }
    return false; /* unusable ("!") or unknown scheme */
}

/*
 * argon2id of 32 random bytes nobody kept, at the default cost: verifying against it costs what
 * a real verification costs, from the first request of a process on (a hash computed lazily
 * would make the first unknown-email login of each worker slower).  password_set_cost()
 * replaces it with one of the configured cost when that differs.
 */
static char dummy_hash[crypto_pwhash_STRBYTES] =
    "$argon2id$v=19$m=19456,t=2,p=1$Z36NCPV/"
    "ZlxFhwFMNpQrEg$D8HoKKl52ZJn0tSO/THcHTkvBXkJe0Ypz53bZVSb2tU";

unsigned
password_cost_floor_kib(unsigned time_cost)
{
    size_t n = sizeof(owasp_floor) / sizeof(owasp_floor[0]);
    if (time_cost == 0)
        return UINT_MAX; /* no pass at all: nothing is enough */
    for (size_t i = 0; i < n; i++)
        if (owasp_floor[i].time_cost == time_cost)
            return owasp_floor[i].min_kib;
    return owasp_floor[n - 1].min_kib; /* more passes than the table lists: its last line */
}

enum vf_err
password_set_cost(unsigned memory_kib, unsigned time_cost)
{
    if (memory_kib < password_cost_floor_kib(time_cost) ||
        memory_kib > PASSWORD_HASH_MEMORY_KIB_MAX)
        return VF_ERR_CONFIG;
    if (!sodium_ready())
        return VF_ERR_INTERNAL;
    unsigned long long ops = time_cost;
    size_t mem = (size_t)memory_kib * 1024;
    if (crypto_pwhash_str_needs_rehash(dummy_hash, ops, mem) != 0) {
        unsigned char secret[32];
        char fresh[crypto_pwhash_STRBYTES];
        randombytes_buf(secret, sizeof(secret));
        int rc = crypto_pwhash_str(fresh, (const char *)secret, sizeof(secret), ops, mem);
        sodium_memzero(secret, sizeof(secret));
        if (rc != 0)
            return VF_ERR_NOMEM;
        memcpy(dummy_hash, fresh, sizeof(dummy_hash));
    }
    cost_ops = ops;
    cost_mem = mem;
    return VF_OK;
}

bool
password_verify_dummy(const char *password)
{
    (void)password_verify(dummy_hash, password != NULL ? password : "", NULL);
    return false;
}

/* ---- common passwords ------------------------------------------------------------ */

static char **common;
static size_t ncommon;

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
password_common_free(void)
{
    for (size_t i = 0; i < ncommon; i++)
        free(common[i]);
    free(common);
    common = NULL;
    ncommon = 0;
}

enum vf_err
password_common_load_from(const char *data_dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/data/common-passwords.txt", data_dir);
    return password_common_load(path);
}

enum vf_err
password_common_load(const char *path)
{
    FILE *fp = fopen(path, "re");
    if (fp == NULL) {
        log_error("password: cannot open common-password list %s: %s", path, strerror(errno));
        return VF_ERR_IO;
    }
    char **list = NULL;
    size_t n = 0, cap = 0;
    char line[256];
    enum vf_err err = VF_OK;
    while (fgets(line, sizeof(line), fp) != NULL) {
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        for (size_t i = 0; i < len; i++)
            line[i] = (char)tolower((unsigned char)line[i]);
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char **nl = realloc(list, ncap * sizeof(*nl));
            if (nl == NULL) {
                err = VF_ERR_NOMEM;
                break;
            }
            list = nl;
            cap = ncap;
        }
        if ((list[n] = strdup(line)) == NULL) {
            err = VF_ERR_NOMEM;
            break;
        }
        n++;
    }
    fclose(fp);
    if (err != VF_OK) {
        for (size_t i = 0; i < n; i++)
            free(list[i]);
        free(list);
        return err;
    }
    if (n > 0)
        qsort(list, n, sizeof(*list), cmp_str);
    password_common_free();
    common = list;
    ncommon = n;
    return VF_OK;
}

bool
password_is_common(const char *password)
{
    char low[PASSWORD_MAX_LEN * 4 + 1];
    size_t len = strlen(password);
    if (ncommon == 0 || len >= sizeof(low))
        return false;
    for (size_t i = 0; i <= len; i++)
        low[i] = (char)tolower((unsigned char)password[i]);
    const char *key = low;
    return bsearch(&key, common, ncommon, sizeof(*common), cmp_str) != NULL;
}

/* ---- policy ------------------------------------------------------------------------ */

/* Entirely digits of any script (full-width, Arabic-Indic...), as Python's str.isdigit(). */
static bool
all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    int32_t cp;
    while ((cp = utf8_next(&s)) != 0)
        if (cp < 0 || !utf8_is_digit((uint32_t)cp))
            return false;
    return true;
}

/*
 * Python's difflib.SequenceMatcher.quick_ratio(): 2 * |multiset intersection| / (|a| + |b|),
 * over lower-cased bytes.
 */
static double
quick_ratio(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen + blen == 0)
        return 1.0;
    size_t counts[256] = { 0 };
    for (size_t i = 0; i < blen; i++)
        counts[(unsigned char)tolower((unsigned char)b[i])]++;
    size_t matches = 0;
    for (size_t i = 0; i < alen; i++) {
        unsigned char c = (unsigned char)tolower((unsigned char)a[i]);
        if (counts[c] > 0) {
            counts[c]--;
            matches++;
        }
    }
    return 2.0 * (double)matches / (double)(alen + blen);
}

/* Django's exceeds_maximum_length_ratio(): a short value cannot make a long password similar. */
static bool
too_long_to_compare(size_t pwlen, size_t vlen)
{
    return pwlen >= 10 * vlen && (double)vlen < SIMILARITY_MAX / 2.0 * (double)pwlen;
}

static bool
similar_part(const char *pw, size_t pwlen, const char *v, size_t vlen)
{
    if (vlen == 0 || too_long_to_compare(pwlen, vlen))
        return false;
    return quick_ratio(pw, pwlen, v, vlen) >= SIMILARITY_MAX;
}

/* Similar to the whole email or to one of its parts split on non-word characters. */
static bool
similar_to_email(const char *pw, const char *email)
{
    size_t pwlen = strlen(pw);
    if (similar_part(pw, pwlen, email, strlen(email)))
        return true;
    const char *p = email;
    while (*p) {
        while (*p && !(isalnum((unsigned char)*p) || *p == '_'))
            p++;
        const char *start = p;
        while (*p && (isalnum((unsigned char)*p) || *p == '_'))
            p++;
        if (p > start && similar_part(pw, pwlen, start, (size_t)(p - start)))
            return true;
    }
    return false;
}

size_t
password_validate(const char *password, const char *email, const char **msgs, size_t max)
{
    size_t n = 0;
#define ADD(m)                                                                                     \
    do {                                                                                           \
        if (n < max)                                                                               \
            msgs[n++] = (m);                                                                       \
    } while (0)
    /* Fail closed: without the list no password is known not to be common. */
    if (ncommon == 0) {
        ADD("The password cannot be checked right now: the common-password list is not loaded.");
        return n;
    }
    size_t len = utf8_len(password);
    if (len < PASSWORD_MIN_LEN)
        ADD("This password is too short. It must contain at least 8 characters.");
    if (len > PASSWORD_MAX_LEN) {
        ADD("This password is too long. It must contain at most 128 characters.");
        return n; /* nothing more worth saying about it */
    }
    if (email != NULL && *email != '\0' && similar_to_email(password, email))
        ADD("The password is too similar to the email address.");
    if (password_is_common(password))
        ADD("This password is too common.");
    if (all_digits(password))
        ADD("This password is entirely numeric.");
#undef ADD
    return n;
}
