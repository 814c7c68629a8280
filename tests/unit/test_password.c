/* test_password.c -- argon2id hashing, Django pbkdf2_sha256 import, dummy verification. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "config.h"
#include "datadir.h"
#include "password.h"

/* The cost named in a hash string, "m=<KiB>,t=<passes>". */
static bool
hash_has_cost(const char *h, unsigned m, unsigned t)
{
    char want[64];
    snprintf(want, sizeof(want), "$m=%u,t=%u,p=1$", m, t);
    return strstr(h, want) != NULL;
}

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

Test(password, default_cost_is_owasps_minimum)
{
    char h[PASSWORD_HASH_MAX];
    cr_assert_eq(password_hash("Tr0ub4dor&3-horse", h, sizeof(h)), VF_OK);
    cr_assert(hash_has_cost(h, 19456, 2), "%s", h);
    /* lib/base/config.c's defaults are the same */
    const char *pairs[] = { "SECRET_KEY=k3Jx9vQ2mZp7Lr4Tn8Wb1Yc6Hd0Fs5Ga2Ue" };
    struct config *cfg = NULL;
    char err[256] = "";
    cr_assert_eq(config_load_pairs(pairs, 1, &cfg, err, sizeof(err)), VF_OK, "%s", err);
    cr_expect_eq(cfg->password_hash_memory_kib, PASSWORD_HASH_MEMORY_KIB_DEFAULT);
    cr_expect_eq(cfg->password_hash_time, PASSWORD_HASH_TIME_DEFAULT);
    config_free(cfg);
}

Test(password, hash_of_the_old_interactive_cost_verifies_and_asks_for_rehash)
{
    /* What password_hash() wrote before the cost was OWASP's: libsodium's interactive
     * limits, 64 MiB and 2 passes.  A login verifies it and replaces it. */
    char old[PASSWORD_HASH_MAX];
    cr_assert_eq(crypto_pwhash_str(old, "Tr0ub4dor&3-horse", 17, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                   crypto_pwhash_MEMLIMIT_INTERACTIVE),
                 0);
    cr_assert(hash_has_cost(old, 65536, 2), "%s", old);
    bool rehash = false;
    cr_assert(password_verify(old, "Tr0ub4dor&3-horse", &rehash));
    cr_assert(rehash, "a hash of other parameters is replaced at login");
    cr_assert_not(password_verify(old, "Tr0ub4dor&3-hors", &rehash));

    char fresh[PASSWORD_HASH_MAX];
    cr_assert_eq(password_hash("Tr0ub4dor&3-horse", fresh, sizeof(fresh)), VF_OK);
    rehash = true;
    cr_assert(password_verify(fresh, "Tr0ub4dor&3-horse", &rehash));
    cr_assert_not(rehash, "the replacement is final");
}

Test(password, cost_below_owasps_minimum_is_refused)
{
    /* OWASP's pairs (m KiB, t): each is accepted, one KiB less is not. */
    static const unsigned pairs[][2] = {
        { 47104, 1 }, { 19456, 2 }, { 12288, 3 }, { 9216, 4 }, { 7168, 5 }, { 7168, 9 },
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        unsigned m = pairs[i][0], t = pairs[i][1];
        cr_expect_eq(password_cost_floor_kib(t), m, "t=%u", t);
        cr_expect_eq(password_set_cost(m - 1, t), VF_ERR_CONFIG, "m=%u t=%u", m - 1, t);
    }
    cr_expect_eq(password_set_cost(65536, 0), VF_ERR_CONFIG);
    cr_expect_eq(password_set_cost(PASSWORD_HASH_MEMORY_KIB_MAX + 1, 2), VF_ERR_CONFIG);
    /* a refused cost changes nothing */
    char h[PASSWORD_HASH_MAX];
    cr_assert_eq(password_hash("Tr0ub4dor&3-horse", h, sizeof(h)), VF_OK);
    cr_assert(hash_has_cost(h, 19456, 2), "%s", h);
}

Test(password, a_new_cost_applies_to_hashes_rehash_and_the_dummy)
{
    char before[PASSWORD_HASH_MAX], after[PASSWORD_HASH_MAX];
    cr_assert_eq(password_hash("Tr0ub4dor&3-horse", before, sizeof(before)), VF_OK);
    cr_assert_eq(password_set_cost(12288, 3), VF_OK);
    cr_assert_eq(password_hash("Tr0ub4dor&3-horse", after, sizeof(after)), VF_OK);
    cr_assert(hash_has_cost(after, 12288, 3), "%s", after);
    bool rehash = false;
    cr_assert(password_verify(before, "Tr0ub4dor&3-horse", &rehash));
    cr_assert(rehash, "the hash of the old cost is replaced");
    cr_assert(password_verify(after, "Tr0ub4dor&3-horse", &rehash));
    cr_assert_not(rehash);
    cr_assert_not(password_verify_dummy("Tr0ub4dor&3-horse"));
    /* stronger than configured is replaced too: every hash converges on the setting */
    cr_assert_eq(password_set_cost(19456, 2), VF_OK);
    cr_assert(password_verify(after, "Tr0ub4dor&3-horse", &rehash));
    cr_assert(rehash);
}

Test(password, datadir_sets_the_configured_cost_and_names_a_weak_one)
{
    const char *pairs[] = { "SECRET_KEY=k3Jx9vQ2mZp7Lr4Tn8Wb1Yc6Hd0Fs5Ga2Ue",
                            "VIDEOFLIX_DATA_DIR=" VF_SRCDIR, "PASSWORD_HASH_MEMORY_KIB=9216",
                            "PASSWORD_HASH_TIME=4" };
    struct config *cfg = NULL;
    char err[600] = "";
    cr_assert_eq(config_load_pairs(pairs, 4, &cfg, err, sizeof(err)), VF_OK, "%s", err);
    cr_assert_eq(datadir_require(cfg, DATADIR_PASSWORDS, err, sizeof(err)), VF_OK, "%s", err);
    char h[PASSWORD_HASH_MAX];
    cr_assert_eq(password_hash("Tr0ub4dor&3-horse", h, sizeof(h)), VF_OK);
    cr_assert(hash_has_cost(h, 9216, 4), "%s", h);
    config_free(cfg);

    /* 9216 KiB is enough with 4 passes, not with 3 */
    pairs[3] = "PASSWORD_HASH_TIME=3";
    cr_assert_eq(config_load_pairs(pairs, 4, &cfg, err, sizeof(err)), VF_OK, "%s", err);
    cr_assert_eq(datadir_require(cfg, DATADIR_PASSWORDS, err, sizeof(err)), VF_ERR_CONFIG);
    cr_assert(strstr(err, "PASSWORD_HASH_MEMORY_KIB=9216") != NULL, "%s", err);
    cr_assert(strstr(err, "12288") != NULL, "%s", err);
    config_free(cfg);
    password_common_free();
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
