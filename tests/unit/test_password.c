/* test_password.c -- argon2id hashing, Django pbkdf2_sha256 import, dummy verification. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "password.h"

Test(password, hash_is_argon2id_and_verifies)
{
    char h[PASSWORD_HASH_MAX];
    cr_assert_eq(password_hash("Tr0ub4dor&3-horse", h, sizeof(h)), VF_OK);
    cr_assert(strncmp(h, "$argon2id$", 10) == 0, "%s", h);
    bool rehash = true;
    cr_assert(password_verify(h, "Tr0ub4dor&3-horse", &rehash));
    cr_assert_not(rehash, "a fresh hash needs no rehash");
}

Test(password, wrong_password_is_refused)
{
    char h[PASSWORD_HASH_MAX];
    cr_assert_eq(password_hash("Tr0ub4dor&3-horse", h, sizeof(h)), VF_OK);
    cr_assert_not(password_verify(h, "Tr0ub4dor&3-hors", NULL));
    cr_assert_not(password_verify(h, "", NULL));
}

Test(password, same_password_hashes_differently)
{
    char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
    cr_assert_eq(password_hash("same-password-1", a, sizeof(a)), VF_OK);
    cr_assert_eq(password_hash("same-password-1", b, sizeof(b)), VF_OK);
    cr_assert_str_neq(a, b, "salted");
}

Test(password, hash_buffer_too_small_is_an_error)
{
    char h[16];
    cr_assert_neq(password_hash("whatever-1234", h, sizeof(h)), VF_OK);
}

Test(password, weaker_argon2_hash_verifies_and_asks_for_rehash)
{
    /* Made with crypto_pwhash_str at MIN limits: valid but below our policy. */
    char h[PASSWORD_HASH_MAX];
    cr_assert_eq(crypto_pwhash_str(h, "low-cost-pass", 13, crypto_pwhash_OPSLIMIT_MIN,
                                   crypto_pwhash_MEMLIMIT_MIN),
                 0);
    bool rehash = false;
    cr_assert(password_verify(h, "low-cost-pass", &rehash));
    cr_assert(rehash);
}

Test(password, django_hashes_from_hashlib_verify_and_ask_for_rehash)
{
    FILE *fp = fopen(VF_SRCDIR "/tests/unit/fixtures/django-hashes.txt", "r");
    cr_assert_not_null(fp, "fixture file");
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        cr_assert_not_null(tab);
        *tab = '\0';
        const char *pw = line, *hash = tab + 1;
        bool rehash = false;
        cr_assert(password_verify(hash, pw, &rehash), "django hash for '%s'", pw);
        cr_assert(rehash, "django hashes are upgraded");
        cr_assert_not(password_verify(hash, "not the password", NULL));
        n++;
    }
    fclose(fp);
    cr_assert_geq(n, 3);
}

Test(password, malformed_django_hashes_never_match)
{
    static const char *const bad[] = {
        "pbkdf2_sha256$$s4ltS4lt1234$2ec5xX917D7xL6L3pk5R4nZzURJPDvP74fB0t+7Bc8g=",
        "pbkdf2_sha256$0$s4ltS4lt1234$2ec5xX917D7xL6L3pk5R4nZzURJPDvP74fB0t+7Bc8g=",
        "pbkdf2_sha256$-1$s4ltS4lt1234$2ec5xX917D7xL6L3pk5R4nZzURJPDvP74fB0t+7Bc8g=",
        "pbkdf2_sha256$99999999999$s4ltS4lt1234$2ec5xX917D7xL6L3pk5R4nZzURJPDvP74fB0t+7Bc8g=",
        "pbkdf2_sha256$1000$$2ec5xX917D7xL6L3pk5R4nZzURJPDvP74fB0t+7Bc8g=",
        "pbkdf2_sha256$1000$s4ltS4lt1234$",
        "pbkdf2_sha256$1000$s4ltS4lt1234$2ec5xX917D7xL6L3pk5R4nZzURJPDvP74fB0t+7Bc8",
        "pbkdf2_sha256$1000$s4ltS4lt1234$2ec5xX917D7xL6L3pk5R4nZzURJPDvP74fB0t+7Bc8g=$x",
        "pbkdf2_sha1$1000$s4ltS4lt1234$2ec5xX917D7xL6L3pk5R4nZzURJPDvP74fB0t+7Bc8g=",
        "!unusable",
        "",
        "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaA",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(password_verify(bad[i], "correct horse battery", NULL), "case %zu", i);
    cr_assert_not(password_verify(NULL, "x", NULL));
}

Test(password, dummy_verification_is_false)
{
    cr_assert_not(password_verify_dummy("anything at all"));
    cr_assert_not(password_verify_dummy(NULL));
}
