/* test_linktoken.c -- activation/reset link tokens and uidb64. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "linktoken.h"

static const char KEY[] = "unit-test-secret-key-0123456789abcdef-xyz";
#define KEYLEN (sizeof(KEY) - 1)
#define T0     1800000000LL
#define DAY    86400

static const struct linktoken_subject alice = {
    .user_id = 3,
    .password_hash = "$argon2id$v=19$m=65536,t=2,p=1$aaaa$bbbb",
    .is_active = false,
    .email = "alice@example.com",
};

static void
make(enum linktoken_purpose p, const struct linktoken_subject *s, int64_t now, char *out)
{
    cr_assert_eq(linktoken_make(KEY, KEYLEN, p, s, now, out), VF_OK);
}

Test(linktoken, fresh_token_checks_and_is_url_safe)
{
    char t[LINKTOKEN_MAX];
    make(LINKTOKEN_ACTIVATE, &alice, T0, t);
    cr_expect(linktoken_check(KEY, KEYLEN, LINKTOKEN_ACTIVATE, &alice, t, T0, DAY));
    for (const char *p = t; *p; p++)
        cr_expect(strchr("/&?=+%#. ", *p) == NULL, "unsafe char in %s", t);
}

Test(linktoken, expires_after_the_timeout_on_a_controlled_clock)
{
    char t[LINKTOKEN_MAX];
    make(LINKTOKEN_RESET, &alice, T0, t);
    cr_expect(linktoken_check(KEY, KEYLEN, LINKTOKEN_RESET, &alice, t, T0 + DAY, DAY));
    cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_RESET, &alice, t, T0 + DAY + 1, DAY));
    cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_RESET, &alice, t, T0 - 3600, DAY),
                  "from the future");
}

Test(linktoken, any_change_of_the_subject_kills_the_token)
{
    char t[LINKTOKEN_MAX];
    make(LINKTOKEN_RESET, &alice, T0, t);
    struct linktoken_subject s = alice;
    s.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$cccc$dddd";
    cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_RESET, &s, t, T0, DAY), "new password");
    s = alice;
    s.is_active = true;
    cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_RESET, &s, t, T0, DAY), "activated");
    s = alice;
    s.email = "mallory@example.com";
    cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_RESET, &s, t, T0, DAY), "email");
    s = alice;
    s.user_id = 4;
    cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_RESET, &s, t, T0, DAY), "other uid");
    s = alice;
    s.version = 1;
    cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_RESET, &s, t, T0, DAY), "version");
    s = alice;
    s.email = "ALICE@example.com";
    cr_expect(linktoken_check(KEY, KEYLEN, LINKTOKEN_RESET, &s, t, T0, DAY), "email case");
}

Test(linktoken, purposes_and_keys_are_not_interchangeable)
{
    char t[LINKTOKEN_MAX];
    make(LINKTOKEN_ACTIVATE, &alice, T0, t);
    cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_RESET, &alice, t, T0, DAY));
    const char other[] = "another-secret-key-0123456789abcdef-xyz!";
    cr_expect_not(
        linktoken_check(other, sizeof(other) - 1, LINKTOKEN_ACTIVATE, &alice, t, T0, DAY));
}

Test(linktoken, malformed_tokens_are_false)
{
    char t[LINKTOKEN_MAX];
    make(LINKTOKEN_ACTIVATE, &alice, T0, t);
    char bad[LINKTOKEN_MAX + 8];
    const char *cases[] = {
        "", "-", "abc", "abc-", "-abc", "zzzzzzzzzzzzz-aaaa", "ZZ-abc", "invalid-token"
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_ACTIVATE, &alice, cases[i], T0, DAY),
                      "%s", cases[i]);
    snprintf(bad, sizeof(bad), "%s", t);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
    cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_ACTIVATE, &alice, bad, T0, DAY));
    snprintf(bad, sizeof(bad), "%s", t);
    strncat(bad, "A", sizeof(bad) - strlen(bad) - 1);
    cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_ACTIVATE, &alice, bad, T0, DAY));
    /* Another timestamp with the same MAC. */
    snprintf(bad, sizeof(bad), "%s", t);
    bad[0] = bad[0] == '1' ? '2' : '1';
    cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_ACTIVATE, &alice, bad, T0, DAY));
    cr_expect_not(linktoken_check(KEY, KEYLEN, LINKTOKEN_ACTIVATE, &alice, NULL, T0, DAY));
}

Test(linktoken, uidb64_round_trips_and_matches_django)
{
    char u[LINKTOKEN_UID_MAX];
    linktoken_uid_encode(3, u);
    cr_expect_str_eq(u, "Mw");
    linktoken_uid_encode(1, u);
    cr_expect_str_eq(u, "MQ");
    linktoken_uid_encode(12345, u);
    cr_expect_str_eq(u, "MTIzNDU");
    int64_t id = 0;
    cr_expect(linktoken_uid_decode("MTIzNDU", &id));
    cr_expect_eq(id, 12345);
    const char *bad[] = { "",  "Mw==", "MA", "LTE",      "YWJj",
                          "M", "Mx",   "!!", "MTIzNDU/", "OTk5OTk5OTk5OTk5OTk5OTk5OTk" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_not(linktoken_uid_decode(bad[i], &id), "%s", bad[i]);
}
