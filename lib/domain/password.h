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
 * The argon2id cost (PASSWORD_HASH_MEMORY_KIB, PASSWORD_HASH_TIME): OWASP's recommended
 * minimum, m = 19 MiB, t = 2, p = 1.  lib/base/config.c has the same defaults.
 */
#define PASSWORD_HASH_MEMORY_KIB_DEFAULT 19456
#define PASSWORD_HASH_TIME_DEFAULT       2
#define PASSWORD_HASH_MEMORY_KIB_MAX     (1024u * 1024u) /* 1 GiB */

/*
 * The least memory (KiB) OWASP accepts for argon2id with `time_cost` passes: 47104 for 1,
 * 19456 for 2, 12288 for 3, 9216 for 4, 7168 for 5 or more; UINT_MAX for 0.
 */
unsigned password_cost_floor_kib(unsigned time_cost);

/*
 * Set the cost of password_hash() and of the needs_rehash test of password_verify(), and make
 * the dummy hash of password_verify_dummy() cost the same (one hash when it changes).
 * Process-global: called at start-up, before the workers fork (datadir_require).  Returns
 * VF_OK; VF_ERR_CONFIG when memory_kib is below password_cost_floor_kib(time_cost) or above
 * PASSWORD_HASH_MEMORY_KIB_MAX (the cost is then unchanged); VF_ERR_NOMEM when the dummy hash
 * could not be computed (unchanged too).  Until called: the defaults above.
 */
enum vf_err password_set_cost(unsigned memory_kib, unsigned time_cost);

/*
 * Hash `password` with argon2id at the configured cost (password_set_cost) into
 * `out` (at least PASSWORD_HASH_MAX bytes), a self-describing "$argon2id$v=19$..."
 * string.  Returns VF_OK, VF_ERR_NOMEM when the memory limit could not be met, or
 * VF_ERR_INTERNAL when libsodium failed to initialise.
 */
enum vf_err password_hash(const char *password, char *out, size_t outlen);

/*
 * Verify `password` against `hash`: an argon2id string of ours or a Django
 * "pbkdf2_sha256$<iterations>$<salt>$<base64>" hash.  Comparison is constant-time.
 * Returns true on a match; `*needs_rehash` (may be NULL) is then set when the hash
 * should be replaced by password_hash(): a Django hash, or an argon2id hash whose
 * parameters differ from the configured cost (weaker or stronger: each login converges on it).
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
