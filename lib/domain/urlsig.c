/* urlsig.c -- short-lived segment URL signatures the web server verifies by itself. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "urlsig.h"

#define MSG_MAX 1024

/* base64url without padding of `n` bytes into out (needs 4*ceil(n/3)+1 bytes). */
static void
b64url(const unsigned char *in, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (int i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
}

static void
hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The signature string S for (uri, addr, expires) into sig[72].  false on failure. */
static bool
sign(enum urlsig_scheme scheme, const char *key, const char *uri, const char *addr, int64_t expires,
     char sig[72])
{
    char msg[MSG_MAX];
    int n;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!key || !*key || !uri || !addr)
        return false;
    switch (scheme) {
    case URLSIG_NGINX:
        /* secure_link_md5 "$secure_link_expires$uri$remote_addr <key>" */
        n = snprintf(msg, sizeof(msg), "%" PRId64 "%s%s %s", expires, uri, addr, key);
        if (n < 0 || (size_t)n >= sizeof(msg))
            return false;
        if (!EVP_Digest(msg, (size_t)n, md, &mdlen, EVP_md5(), NULL) || mdlen != 16)
            return false;
        b64url(md, mdlen, sig);
        break;
    case URLSIG_LIGHTTPD:
        n = snprintf(msg, sizeof(msg), "%" PRId64 "|%s|%s", expires, uri, addr);
        if (n < 0 || (size_t)n >= sizeof(msg))
            return false;
        if (!HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, (size_t)n, md,
                  &mdlen) ||
            mdlen != 32)
            return false;
        hex(md, mdlen, sig);
        break;
    default:
        return false;
    }
    OPENSSL_cleanse(msg, sizeof(msg));
    return true;
}

enum vf_err
urlsig_query(enum urlsig_scheme scheme, const char *key, const char *uri, const char *client_addr,
             int64_t expires, char *buf, size_t len)
{
    char sig[72];
    if (!sign(scheme, key, uri, client_addr, expires, sig))
        return VF_ERR_INVALID;
    int n = snprintf(buf, len, "e=%" PRId64 "&s=%s", expires, sig);
    return (n < 0 || (size_t)n >= len) ? VF_ERR_TOOBIG : VF_OK;
}

/* Copy the raw value of query parameter `name` into out; false when absent/too long. */
static bool
query_param(const char *q, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    bool found = false;
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t seglen = amp ? (size_t)(amp - q) : strlen(q);
        if (seglen > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
            size_t vl = seglen - nl - 1;
            if (found || vl >= outlen)
                return false; /* duplicates are refused outright */
            memcpy(out, q + nl + 1, vl);
            out[vl] = '\0';
            found = true;
        }
        q = amp ? amp + 1 : NULL;
    }
    return found;
}

enum vf_err
urlsig_verify(enum urlsig_scheme scheme, const char *key, const char *uri, const char *client_addr,
              const char *query, int64_t now)
{
    char e[24], s[80], want[72];
    if (!query_param(query, "e", e, sizeof(e)) || !query_param(query, "s", s, sizeof(s)))
        return VF_ERR_AUTH;
    if (!*e || strspn(e, "0123456789") != strlen(e) || strlen(e) > 15)
        return VF_ERR_AUTH;
    int64_t expires = strtoll(e, NULL, 10);
    if (expires < now)
        return VF_ERR_AUTH;
    if (!sign(scheme, key, uri, client_addr, expires, want))
        return VF_ERR_AUTH;
    size_t wl = strlen(want);
    if (strlen(s) != wl || CRYPTO_memcmp(s, want, wl) != 0)
        return VF_ERR_AUTH;
    return VF_OK;
}
