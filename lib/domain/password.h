/* password.h -- password hashing (argon2id), Django hash import, and the password policy. */
#ifndef VF_PASSWORD_H
#define VF_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Room for any hash this module writes (libsodium's crypto_pwhash_STRBYTES). */
#define PASSWORD_HASH_MAX 128
/* Policy limits (characters counted as bytes of UTF-8 code points). */
#define PASSWORD_MIN_LEN 8
#define PASSWORD_MAX_LEN 128
/* Most messages password_validate() can return at once. */
#define PASSWORD_MAX_ERRORS 5

/*
 * Hash `password` with argon2id at libsodium's "interactive" limits (or above) into
 * `out` (at least PASSWORD_HASH_MAX bytes), a self-describing "$argon2id$v=19$..."
 * string.  Returns VF_OK, VF_ERR_NOMEM when the memory limit could not be met, or
 * VF_ERR_INTERNAL when libsodium failed to initialise.
 */
enum vf_err password_hash(const char *password, char *out, size_t outlen);

/*
 * Verify `password` against `hash`: an argon2id string of ours or a Django
 * "pbkdf2_sha256$<iterations>$<salt>$<base64>" hash.  Comparison is constant-time.
 * Returns true on a match; `*needs_rehash` (may be NULL) is then set when the hash
 * should be replaced by password_hash() (Django hashes, weaker argon2 parameters).
 * Unknown or malformed hashes never match.
 */
bool password_verify(const char *hash, const char *password, bool *needs_rehash);

/*
 * Spend the same work as verifying a real hash, then return false.  Called for
 * unknown emails so that login takes the same time whether or not the account exists.
 */
bool password_verify_dummy(const char *password);

/*
 * Load the common-password list (one lower-case password a line, '#' comments) from
 * `path`, replacing any list loaded before.  Process-global, loaded once at start-up
 * (datadir_require) before any fork.  Returns VF_ERR_IO when the file is unreadable.
 */
enum vf_err password_common_load(const char *path);
/* password_common_load() of the list installed under data_dir: data/common-passwords.txt. */
enum vf_err password_common_load_from(const char *data_dir);
/* True when `password` (compared lower-cased) is on the loaded list. */
bool password_is_common(const char *password);
/* Release the loaded list (tests, leak checkers). */
void password_common_free(void);

/*
 * The password policy: length 8..128 characters, not entirely numeric, not a common
 * password, not too similar to the email address (Django's UserAttributeSimilarity
 * rule: quick_ratio >= 0.7 against the email and its parts).  Writes up to `max`
 * static messages (never freed) in Django's wording to msgs and returns how many;
 * 0 means the password is acceptable.  `email` may be NULL.  Fails closed: with no
 * common-password list loaded every password is refused (one message saying so).
 */
size_t password_validate(const char *password, const char *email, const char **msgs, size_t max);

#endif
