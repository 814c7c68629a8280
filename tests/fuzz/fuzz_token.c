/* fuzz_token.c -- libFuzzer target over the token wrappers: JWT verification (both types) and
 * activation/reset link tokens with uidb64.  Oracles: no crash or sanitizer report; nothing
 * verifies unless it is bit-for-bit a token we would issue (a forged input that verifies is
 * a finding: the target aborts). */
#define _POSIX_C_SOURCE 200809L /* strndup */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "linktoken.h"
#include "token.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char KEY[] = "fuzz-secret-key-0123456789abcdef-0123456789";
#define KEYLEN (sizeof(KEY) - 1)
#define NOW    1800000000LL

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    clock_set_us(NOW * 1000000LL); /* seeds stay valid: they expire after NOW */
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = strndup((const char *)data, size); /* C string: up to the first NUL */
    if (s == NULL)
        return 0;

    struct token_claims c;
    for (int t = TOKEN_ACCESS; t <= TOKEN_REFRESH; t++) {
        if (token_verify(KEY, KEYLEN, s, (enum token_type)t, &c) == VF_OK) {
            /* Only a well-formed token of ours may verify: re-check its invariants. */
            if (c.user_id <= 0 || c.exp <= NOW || strlen(c.jti) != TOKEN_ID_LEN ||
                strlen(c.sid) != TOKEN_ID_LEN || strlen(s) > TOKEN_MAX_LEN)
                abort();
        }
    }

    /* "uidb64/token" as in the link paths. */
    char *slash = strchr(s, '/');
    if (slash != NULL) {
        *slash = '\0';
        int64_t id = 0;
        if (linktoken_uid_decode(s, &id)) {
            char again[LINKTOKEN_UID_MAX];
            linktoken_uid_encode(id, again);
            if (id <= 0 || strcmp(again, s) != 0)
                abort();
            struct linktoken_subject subj = { .user_id = id,
                                              .password_hash = "$argon2id$fuzz",
                                              .is_active = false,
                                              .email = "fuzz@example.com",
                                              .version = 0 };
            (void)linktoken_check(KEY, KEYLEN, LINKTOKEN_ACTIVATE, &subj, slash + 1, NOW, 86400);
        }
    }
    free(s);
    return 0;
}
