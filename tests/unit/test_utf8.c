/* test_utf8.c -- the one strict UTF-8 decoder: every accepted and refused form. */
#include "autoconf.h"

#include <string.h>

#include <criterion/criterion.h>

#include "utf8.h"

struct decode_case {
    const char *name;
    const char *bytes;
    size_t len;  /* bytes given */
    size_t want; /* 0: refused */
    uint32_t cp;
};

Test(utf8, decode_accepts_shortest_forms_and_refuses_the_rest)
{
    static const struct decode_case cases[] = {
        { "ascii", "A", 1, 1, 0x41 },
        { "two bytes", "\xc3\xa9", 2, 2, 0xe9 },
        { "three bytes", "\xe2\x82\xac", 3, 3, 0x20ac },
        { "four bytes", "\xf0\x9f\x98\x80", 4, 4, 0x1f600 },
        { "full-width digit", "\xef\xbc\x91", 3, 3, 0xff11 },
        { "highest code point", "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },
        { "overlong slash", "\xc0\xaf", 2, 0, 0 },
        { "overlong three", "\xe0\x80\xaf", 3, 0, 0 },
        { "overlong four", "\xf0\x80\x80\xaf", 4, 0, 0 },
        { "surrogate", "\xed\xa0\x80", 3, 0, 0 },
        { "past U+10FFFF", "\xf4\x90\x80\x80", 4, 0, 0 },
        { "lone continuation", "\x80", 1, 0, 0 },
        { "five-byte lead", "\xf8\x88\x80\x80\x80", 5, 0, 0 },
        { "truncated", "\xe2\x82", 2, 0, 0 },
        { "bad continuation", "\xe2\x28\xa1", 3, 0, 0 },
        { "empty", "", 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct decode_case *c = &cases[i];
        uint32_t cp = 0xdeadbeef;
        size_t n = utf8_decode((const unsigned char *)c->bytes, c->len, &cp);
        cr_expect_eq(n, c->want, "%s: length %zu, want %zu", c->name, n, c->want);
        if (c->want != 0)
            cr_expect_eq(cp, c->cp, "%s: U+%04X", c->name, (unsigned)cp);
    }
}

Test(utf8, valid_checks_every_code_point_of_the_buffer)
{
    const char ok[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    cr_expect(utf8_valid((const unsigned char *)ok, strlen(ok)));
    cr_expect(utf8_valid((const unsigned char *)"", 0));
    const char bad_end[] = "caf\xc3";
    cr_expect_not(utf8_valid((const unsigned char *)bad_end, strlen(bad_end)));
    const char bad_mid[] = "a\xed\xa0\x80z";
    cr_expect_not(utf8_valid((const unsigned char *)bad_mid, strlen(bad_mid)));
    cr_expect_eq(utf8_len(ok), 8); /* c a f é, space, €, space, 😀 */
}
