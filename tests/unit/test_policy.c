/* test_policy.c -- the password policy (RELIABILITY.md item 2), table-driven. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "password.h"
#include "utf8.h"

#define SHORT   "This password is too short. It must contain at least 8 characters."
#define LONG    "This password is too long. It must contain at most 128 characters."
#define NUMERIC "This password is entirely numeric."
#define COMMON  "This password is too common."
#define SIMILAR "The password is too similar to the email address."

static void
load_list(void)
{
    cr_assert_eq(password_common_load(VF_SRCDIR "/data/common-passwords.txt"), VF_OK);
}

TestSuite(policy, .init = load_list, .fini = password_common_free);

struct policy_case {
    const char *password;
    const char *email;
    const char *want[3]; /* expected messages, in any order; NULL-terminated */
};

static const struct policy_case cases[] = {
    { "Xk9#mq2!Lw", "alice@example.com", { NULL } },
    { "correct-horse-battery", "alice@example.com", { NULL } },
    { "Xk9#mq2", "alice@example.com", { SHORT, NULL } },
    { "", "alice@example.com", { SHORT, NULL } },
    { "12345678", "alice@example.com", { NUMERIC, COMMON, NULL } },
    { "93817465", "alice@example.com", { NUMERIC, NULL } },
    { "1234567", "alice@example.com", { SHORT, NUMERIC, COMMON } },
    { "password", "alice@example.com", { COMMON, NULL } },
    { "PassWord", "alice@example.com", { COMMON, NULL } },
    { "baseball", "bob@example.com", { COMMON, NULL } },
    { "qwertyuiop", "bob@example.com", { COMMON, NULL } },
    { "videoflix", "bob@example.com", { COMMON, NULL } },
    { "alice@example.com", "alice@example.com", { SIMILAR, NULL } },
    { "alicealice1", "alice@example.com", { NULL } },
    { "ALICE.EXAMPLE", "alice@example.com", { SIMILAR, NULL } },
    { "margarethe9", "margarethe@example.com", { SIMILAR, NULL } },
    { "ethmargare9", "margarethe@example.com", { SIMILAR, NULL } },
    { "examples!12", "zed@example.com", { SIMILAR, NULL } },
    { "Xk9#mq2!Lw", NULL, { NULL } },
    /* 8 characters of UTF-8 (16 bytes) are long enough. */
    { "ÄÖÜäöüßé", "zed@example.com", { NULL } },
    { "ÄÖÜäöüß", "zed@example.com", { SHORT, NULL } },
    /* "Entirely numeric" is any script's digits, as Django's str.isdigit(): full-width
     * U+FF10-FF19, Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali, superscripts,
     * mathematical bold, and mixtures with ASCII digits. */
    { "１２３４５６７８", "zed@example.com", { NUMERIC, NULL } },
    { "٠١٢٣٤٥٦٧٨٩", "zed@example.com", { NUMERIC, NULL } },
    { "۱۲۳۴۵۶۷۸", "zed@example.com", { NUMERIC, NULL } },
    { "१२३४५६७८", "zed@example.com", { NUMERIC, NULL } },
    { "০১২৩৪৫৬৭", "zed@example.com", { NUMERIC, NULL } },
    { "²³¹²³¹²³", "zed@example.com", { NUMERIC, NULL } },
    { "\xf0\x9d\x9f\x8e\xf0\x9d\x9f\x8f\xf0\x9d\x9f\x90\xf0\x9d\x9f\x91"
      "\xf0\x9d\x9f\x92\xf0\x9d\x9f\x93\xf0\x9d\x9f\x94\xf0\x9d\x9f\x95",
      "zed@example.com",
      { NUMERIC, NULL } }, /* U+1D7CE-1D7D5 */
    { "1234５６７８", "zed@example.com", { NUMERIC, NULL } },
    { "１２３４５６７ｘ", "zed@example.com", { NULL } },
    { "١٢٣٤٥٦٧a", "zed@example.com", { NULL } },
    { "ⅠⅡⅢⅣⅤⅥⅦⅧ", "zed@example.com", { NULL } }, /* Roman numerals are not digits */
};

static bool
has(const char **msgs, size_t n, const char *m)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(msgs[i], m) == 0)
            return true;
    return false;
}

Test(policy, table_of_passwords_gets_exactly_the_expected_messages)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct policy_case *c = &cases[i];
        const char *msgs[PASSWORD_MAX_ERRORS];
        size_t n = password_validate(c->password, c->email, msgs, PASSWORD_MAX_ERRORS);
        size_t want = 0;
        while (want < 3 && c->want[want] != NULL)
            want++;
        cr_expect_eq(n, want, "case %zu '%s': %zu messages, want %zu (first: %s)", i, c->password,
                     n, want, n ? msgs[0] : "-");
        for (size_t k = 0; k < want; k++)
            cr_expect(has(msgs, n, c->want[k]), "case %zu '%s' lacks '%s'", i, c->password,
                      c->want[k]);
    }
}

Test(policy, utf8_digits_and_decoding)
{
    const char *s = "7\xef\xbc\x90\xd9\xa9x\xc0\xaf";
    cr_expect_eq(utf8_next(&s), '7');
    cr_expect_eq(utf8_next(&s), 0xff10);
    cr_expect_eq(utf8_next(&s), 0x669);
    cr_expect_eq(utf8_next(&s), 'x');
    cr_expect_eq(utf8_next(&s), -1, "overlong");
    cr_expect_eq(utf8_next(&s), 0);
    cr_expect_eq(utf8_next(&s), 0, "stays at the end");
    const char *cut = "\xe2\x82";
    cr_expect_eq(utf8_next(&cut), -1, "truncated");
    cr_expect_eq(*cut, '\0');
    for (uint32_t cp = '0'; cp <= '9'; cp++)
        cr_expect(utf8_is_digit(cp));
    for (uint32_t cp = 0xff10; cp <= 0xff19; cp++)
        cr_expect(utf8_is_digit(cp));
    for (uint32_t cp = 0x660; cp <= 0x669; cp++)
        cr_expect(utf8_is_digit(cp));
    cr_expect_not(utf8_is_digit('a'));
    cr_expect_not(utf8_is_digit('/'));
    cr_expect_not(utf8_is_digit(':'));
    cr_expect_not(utf8_is_digit(0xff21)); /* full-width A */
    cr_expect_not(utf8_is_digit(0x10ffff));
}

Test(policy, length_bounds_are_8_and_128)
{
    char pw[200];
    const char *msgs[PASSWORD_MAX_ERRORS];
    memset(pw, 'q', sizeof(pw));
    pw[0] = 'Z';
    pw[1] = '7';
    pw[128] = '\0';
    cr_expect_eq(password_validate(pw, "a@b.cc", msgs, PASSWORD_MAX_ERRORS), 0, "128 ok");
    pw[128] = 'q';
    pw[129] = '\0';
    cr_assert_eq(password_validate(pw, "a@b.cc", msgs, PASSWORD_MAX_ERRORS), 1);
    cr_expect_str_eq(msgs[0], LONG);
}

Test(policy, common_list_has_several_thousand_entries_and_ignores_case)
{
    cr_expect(password_is_common("letmein"));
    cr_expect(password_is_common("LetMeIn"));
    cr_expect(password_is_common("iloveyou"));
    cr_expect_not(password_is_common("Xk9#mq2!Lw"));
    /* Count lines without comments. */
    FILE *fp = fopen(VF_SRCDIR "/data/common-passwords.txt", "r");
    cr_assert_not_null(fp);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof(line), fp) != NULL)
        n += line[0] != '#' && line[0] != '\n';
    fclose(fp);
    cr_expect_geq(n, 3000);
}

Test(policy, missing_list_is_an_io_error_and_keeps_the_loaded_one)
{
    cr_expect_eq(password_common_load("/nonexistent/common.txt"), VF_ERR_IO);
    cr_expect(password_is_common("password"));
}
