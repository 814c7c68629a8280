/* token.h -- access and refresh JWTs (HS256 pinned) over libjwt, every claim checked here. */
#ifndef VF_TOKEN_H
#define VF_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Tokens longer than this are refused before any decoding. */
#define TOKEN_MAX_LEN 4096
/* Shortest accepted signing key (RELIABILITY.md item 3). */
#define TOKEN_MIN_KEY 32
/* Tolerated clock skew between hosts for `iat`, seconds.  `exp` has no leeway. */
#define TOKEN_IAT_LEEWAY 5

enum token_type { TOKEN_ACCESS, TOKEN_REFRESH };

/* Length of a jti or session id: 32 hex characters (128 random bits). */
#define TOKEN_ID_LEN 32

/* The claims we issue and check. */
struct token_claims {
    enum token_type type;
    int64_t user_id;
    int64_t version;            /* the user's token version ("ver"); bumped to revoke every token */
    char jti[TOKEN_ID_LEN + 1]; /* this token */
    char sid[TOKEN_ID_LEN + 1]; /* its session: the login that issued it and the refreshes since */
    int64_t iat, exp;           /* seconds since the epoch */
};

/* A fresh random session id (TOKEN_ID_LEN hex characters) into sid: one per login. */
void token_new_sid(char sid[TOKEN_ID_LEN + 1]);

/* "access" / "refresh" */
const char *token_type_name(enum token_type type);

/*
 * Issue a token of `type` for `user_id` in session `sid` (TOKEN_ID_LEN hex characters, from
 * token_new_sid() at login, the refreshed token's at a refresh) signed with HS256 and `key`
 * (>= TOKEN_MIN_KEY bytes), valid for `lifetime_s` seconds from clock_now().  Returns VF_OK and a
 * malloc'd compact JWT in *out (caller frees); `claims` (may be NULL) gets what was
 * issued.  VF_ERR_CONFIG for a short key, VF_ERR_INVALID for a malformed sid,
 * VF_ERR_NOMEM/VF_ERR_INTERNAL otherwise.
 */
enum vf_err token_issue(const void *key, size_t keylen, enum token_type type, int64_t user_id,
                        int64_t version, const char *sid, int64_t lifetime_s, char **out,
                        struct token_claims *claims);

/*
 * Verify `jwt` as a token of type `expect`: length <= TOKEN_MAX_LEN, three base64url
 * parts, header alg exactly "HS256" (typ JWT if present), signature valid for `key`,
 * integer `exp` after now, integer `iat` not in the future, 32-hex `jti` and `sid`, integer
 * `user_id` and `ver`, `token_type` equal to `expect`.  Returns VF_OK and fills *out,
 * or VF_ERR_AUTH for any defect (nothing is logged: tokens are secrets).  Whether the
 * user exists, is active, still has this version and the session was not ended is the
 * caller's check (auth_token_user).
 */
enum vf_err token_verify(const void *key, size_t keylen, const char *jwt, enum token_type expect,
                         struct token_claims *out);

#endif
