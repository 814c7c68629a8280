/* test_strbuf.c -- the growable string: appends, formatting, growth, taking the string. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

Test(strbuf, appends_keep_a_terminated_string)
{
    struct strbuf b = { 0 };
    cr_assert(strbuf_str(&b, "#EXTM3U\n"));
    cr_assert(strbuf_add(&b, "000.tsXX", 6));
    cr_assert(strbuf_printf(&b, "?e=%d&s=%s", 42, "sig"));
    cr_assert(strbuf_add(&b, "", 0));
    cr_expect_str_eq(b.s, "#EXTM3U\n000.ts?e=42&s=sig");
    cr_expect_eq(b.len, strlen(b.s));
    strbuf_free(&b);
    cr_expect_null(b.s);
    cr_expect_eq(b.len, 0);
}

Test(strbuf, grows_past_many_pages)
{
    struct strbuf b = { 0 };
    for (int i = 0; i < 10000; i++)
        cr_assert(strbuf_printf(&b, "#EXTINF:%d.000000,\n%03d.ts\n", i % 7, i));
    cr_expect_eq(b.len, strlen(b.s));
    cr_expect_str_eq(b.s + b.len - 8, "9999.ts\n");
    cr_expect_geq(b.cap, b.len + 1);
    strbuf_free(&b);
}

Test(strbuf, take_hands_over_the_string_and_empties_the_buffer)
{
    struct strbuf b = { 0 };
    char *s = strbuf_take(&b);
    cr_assert_not_null(s, "nothing appended: an empty string, not NULL");
    cr_expect_str_eq(s, "");
    free(s);
    strbuf_str(&b, "mail");
    s = strbuf_take(&b);
    cr_expect_str_eq(s, "mail");
    cr_expect_null(b.s);
    cr_expect_eq(b.len, 0);
    free(s);
    strbuf_free(NULL);
}

Test(strbuf, a_failed_append_sticks_and_take_gives_null)
{
    struct strbuf b = { 0 };
    strbuf_str(&b, "start");
    cr_expect_not(strbuf_add(&b, "x", (size_t)-1 / 2), "an impossible size fails");
    cr_expect(b.oom);
    cr_expect_not(strbuf_str(&b, "more"), "later appends do nothing");
    cr_expect_str_eq(b.s, "start");
    cr_expect_null(strbuf_take(&b));
    cr_expect_null(b.s);
    cr_expect_not(b.oom);
}
