/* linktoken.h -- activation and password-reset link tokens (HMAC-SHA256, stateless, single use). */
#ifndef VF_LINKTOKEN_H
#define VF_LINKTOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Room for a token: base36 timestamp, '-', 43 base64url characters, NUL. */
#define LINKTOKEN_MAX 64
/* Room for a uidb64 of any int64. */
#define LINKTOKEN_UID_MAX 32

enum linktoken_purpose { LINKTOKEN_ACTIVATE, LINKTOKEN_RESET };

/*
 * What a token is bound to.  Any change of these invalidates every token made
 * before it: setting a new password (hash), activation (flag), a new email, a bumped
 * token version (sysadmin deactivation, password reset).  That is what makes a reset
 * link single use without storing it.  Borrowed strings.
 */
struct linktoken_subject {
    int64_t user_id;
    const char *password_hash;
    bool is_active;
    const char *email;
    int64_t version;
};

/*
 * Make a token "<issued, base36 seconds>-<base64url HMAC-SHA256>" for `purpose` and
 * `subject`, issued at `now_s`, into out[LINKTOKEN_MAX].  Only [0-9a-zA-Z_-]: safe in a
 * URL path and query.  VF_ERR_CONFIG for a key shorter than 32 bytes.
 */
enum vf_err linktoken_make(const void *key, size_t keylen, enum linktoken_purpose purpose,
                           const struct linktoken_subject *subject, int64_t now_s,
                           char out[LINKTOKEN_MAX]);

/*
 * True when `token` was made by linktoken_make() for exactly this purpose and
 * subject, and is not older than `timeout_s` at `now_s` (nor from the future).
 * Constant-time comparison.  Malformed input is simply false.
 */
bool linktoken_check(const void *key, size_t keylen, enum linktoken_purpose purpose,
                     const struct linktoken_subject *subject, const char *token, int64_t now_s,
                     int64_t timeout_s);

/* uidb64: base64url (no padding) of the decimal id: 3 -> "Mw".  out[LINKTOKEN_UID_MAX]. */
void linktoken_uid_encode(int64_t id, char out[LINKTOKEN_UID_MAX]);
/* The inverse; false for anything but a canonical positive decimal id. */
bool linktoken_uid_decode(const char *uidb64, int64_t *id);

#endif
