/* user.h -- the users table: accounts identified by a lower-cased email. */
#ifndef VF_USER_H
#define VF_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "error.h"

/* Longest accepted email (RFC 5321 path limit, as Django's EmailField). */
#define USER_EMAIL_MAX 254
/* Room for any stored password hash (ours or an imported Django one). */
#define USER_HASH_MAX 256

struct user {
    int64_t id;
    char email[255];
    bool is_active, is_staff, is_superuser;
    bool activation_pending; /* registered, never activated: may get a fresh activation mail */
    int64_t token_version;
};

/* A row of the staff's user list (no hash, no token version). */
struct user_summary {
    int64_t id;
    char email[255];
    bool is_active, is_staff, is_superuser;
    int64_t last_login;      /* microseconds, 0 = never */
    int64_t created_at;      /* microseconds */
    bool activation_pending; /* registered, never activated, not deactivated by staff */
};

/* Every user, by id: *out is a malloc'd array of *n (caller frees with free()), NULL when
 * there are none. */
enum vf_err user_list(struct db *db, struct user_summary **out, size_t *n);
/* One user's summary; VF_ERR_NOTFOUND when there is none. */
enum vf_err user_summary_get(struct db *db, int64_t id, struct user_summary *out);

/*
 * Normalise and validate an email address into out[USER_EMAIL_MAX + 1]: trimmed of
 * surrounding spaces, lower-cased, ASCII, one '@', a dotted domain of
 * letters/digits/hyphens.  Returns false (out unspecified) when malformed.
 */
bool user_email_normalise(const char *in, char out[USER_EMAIL_MAX + 1]);

/*
 * Load a user by id or by (normalised) email into *u; `hash` (may be NULL, else at
 * least USER_HASH_MAX bytes) gets the password hash.  VF_ERR_NOTFOUND when no row.
 */
enum vf_err user_get(struct db *db, int64_t id, struct user *u, char *hash);
enum vf_err user_get_by_email(struct db *db, const char *email, struct user *u, char *hash);
/* user_get(), and *ended = whether session `sid` was ended by a logout (user_revoke_session). */
enum vf_err user_get_session(struct db *db, int64_t id, const char *sid, struct user *u,
                             bool *ended);

/*
 * Insert a user with an already computed hash; *id gets the new id.  An inactive one awaits its
 * activation (activation_pending).  VF_ERR_CONFLICT when the email is taken.
 */
enum vf_err user_create(struct db *db, const char *email, const char *hash, bool active, bool staff,
                        bool superuser, int64_t *id);

/*
 * Replace the password and bump the token version (every JWT and link token of the
 * user dies).  With `old_hash` non-NULL, only if the stored hash still equals it:
 * VF_ERR_STALE otherwise (someone else changed it first).  VF_ERR_NOTFOUND: no user.
 */
enum vf_err user_set_password(struct db *db, int64_t id, const char *hash, const char *old_hash);
/* Upgrade the stored hash of the same password (no version bump); a race is harmless. */
enum vf_err user_rehash(struct db *db, int64_t id, const char *hash, const char *old_hash);
/* Activate an inactive account; *changed tells whether it was inactive. */
enum vf_err user_activate(struct db *db, int64_t id, bool *changed);
/* Sysadmin or staff: set the active flag and bump the token version (old links/tokens die); the
 * account no longer awaits a self-service activation. */
enum vf_err user_set_active(struct db *db, int64_t id, bool active);
enum vf_err user_set_staff(struct db *db, int64_t id, bool staff, bool superuser);
/* Record a successful login at clock_now_us(). */
enum vf_err user_touch_login(struct db *db, int64_t id);

/*
 * Refresh-token revocation (table revoked_tokens, UNIQUE jti).  user_revoke() inserts
 * the jti; it returns VF_OK when this call revoked it and VF_ERR_STALE when it was
 * already revoked -- so of N concurrent callers with one jti exactly one gets VF_OK.
 * `exp_s` is the token's expiry (the row is pruned after it).
 */
enum vf_err user_revoke(struct db *db, const char *jti, int64_t user_id, int64_t exp_s);
/* *revoked is set when the jti is in the table. */
enum vf_err user_is_revoked(struct db *db, const char *jti, bool *revoked);
/*
 * End session `sid` of user_id (logout): every token carrying it, the access token included, is
 * refused from now on (auth_token_user).  `until_s` is the latest expiry of any of its tokens;
 * the row is pruned after it.  Idempotent.
 */
enum vf_err user_revoke_session(struct db *db, const char *sid, int64_t user_id, int64_t until_s);
/*
 * Login sources: the client addresses an account signed in from (login rate limits hold back
 * only unknown addresses once an account's failures pile up).  *known: whether the account of
 * `email` (which need not exist: same statement either way) signed in from `addr`; record one
 * after a successful login; forget those without a login since `before_us`.
 */
enum vf_err user_login_source_known(struct db *db, const char *email, const char *addr,
                                    bool *known);
enum vf_err user_login_source_record(struct db *db, int64_t user_id, const char *addr);
enum vf_err user_prune_login_sources(struct db *db, int64_t before_us, int64_t *n);
/* Delete revocations (tokens and sessions) that have expired anyway; *n (may be NULL) gets the
 * count. */
enum vf_err user_prune_revocations(struct db *db, int64_t *n);

#endif
