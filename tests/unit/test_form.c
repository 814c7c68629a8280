/* test_form.c -- declared body fields (form.c) and email normalisation (user.c), table-driven. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "form.h"
#include "user.h"

Test(email, valid_addresses_are_trimmed_and_lower_cased)
{
    static const struct {
        const char *in, *want;
    } ok[] = {
        { "alice@example.com", "alice@example.com" },
        { "Alice@Example.COM", "alice@example.com" },
        { "  bob@example.org\t", "bob@example.org" },
        { "first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk" },
        { "o'brien_x-y@ex-ample.io", "o'brien_x-y@ex-ample.io" },
        { "a@b.cc", "a@b.cc" },
    };
    char out[USER_EMAIL_MAX + 1];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        cr_assert(user_email_normalise(ok[i].in, out), "%s", ok[i].in);
        cr_expect_str_eq(out, ok[i].want);
    }
}

Test(email, malformed_addresses_are_refused)
{
    static const char *const bad[] = {
        "",
        "plain",
        "@example.com",
        "alice@",
        "alice@example",
        "alice@@example.com",
        "al ice@example.com",
        "alice@exa mple.com",
        ".alice@example.com",
        "alice.@example.com",
        "al..ice@example.com",
        "alice@-example.com",
        "alice@example-.com",
        "alice@example..com",
        "alice@example.c0m",
        "alice@example.com.",
        "alice\r\n@example.com",
        "al\"ice@example.com",
        "älice@example.com",
        "alice@exämple.com",
        "alice@example.com\nBcc: x@y.zz",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com",
    };
    char out[USER_EMAIL_MAX + 1];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_not(user_email_normalise(bad[i], out), "accepted: %s", bad[i]);
    char longest[300];
    memset(longest, 'a', sizeof(longest));
    memcpy(longest + 255 - 12, "@example.com", 13); /* 255 characters */
    cr_expect_not(user_email_normalise(longest, out), "over 254 characters");
}

enum { F_EMAIL, F_NAME, F_OPT, F__MAX };
static const struct form_field fields[F__MAX] = {
    [F_EMAIL] = { "email", FORM_EMAIL, true, USER_EMAIL_MAX },
    [F_NAME] = { "name", FORM_STRING, true, 5 },
    [F_OPT] = { "opt", FORM_STRING, false, 0 },
};

/* Parse `json` and return the errors as compact JSON text (static buffer), "" when valid. */
static const char *
errors_of(const char *json, struct form_value *v)
{
    static char buf[1024];
    char emails[F__MAX][FORM_VALUE_MAX];
    cJSON *body = json ? cJSON_Parse(json) : NULL;
    cJSON *errs = NULL;
    bool ok = form_parse(body, fields, F__MAX, v, emails, &errs);
    char *text = errs ? cJSON_PrintUnformatted(errs) : NULL;
    snprintf(buf, sizeof(buf), "%s", text ? text : "");
    cr_assert_eq(ok, errs == NULL);
    free(text);
    cJSON_Delete(errs);
    if (ok && v[F_EMAIL].present)
        cr_expect_str_eq(v[F_EMAIL].s, "x@example.com"); /* normalised copy */
    cJSON_Delete(body);
    return buf;
}

Test(form, table_of_bodies_gives_drf_field_errors)
{
    static const struct {
        const char *json, *want;
    } cases[] = {
        { "{\"email\":\"X@Example.com\",\"name\":\"ab\",\"unknown\":1}", "" },
        { "{\"email\":\"x@example.com\",\"name\":\"abcde\",\"opt\":\"z\"}", "" },
        { NULL,
          "{\"email\":[\"This field is required.\"],\"name\":[\"This field is required.\"]}" },
        { "{}",
          "{\"email\":[\"This field is required.\"],\"name\":[\"This field is required.\"]}" },
        { "{\"email\":\"nope\",\"name\":\"ab\"}",
          "{\"email\":[\"Enter a valid email address.\"]}" },
        { "{\"email\":\"x@example.com\",\"name\":\"abcdef\"}",
          "{\"name\":[\"Ensure this field has no more than 5 characters.\"]}" },
        { "{\"email\":\"x@example.com\",\"name\":\"äöüßé\"}", "" },
        { "{\"email\":\"x@example.com\",\"name\":\"\"}",
          "{\"name\":[\"This field may not be blank.\"]}" },
        { "{\"email\":\"x@example.com\",\"name\":null}",
          "{\"name\":[\"This field may not be null.\"]}" },
        { "{\"email\":[\"x@example.com\"],\"name\":\"ab\"}",
          "{\"email\":[\"Not a valid string.\"]}" },
        { "{\"email\":\"x@example.com\",\"name\":12}", "{\"name\":[\"Not a valid string.\"]}" },
        { "{\"email\":\"x@example.com\",\"name\":\"ab\",\"opt\":false}",
          "{\"opt\":[\"Not a valid string.\"]}" },
        { "[1]",
          "{\"non_field_errors\":[\"Invalid data. Expected a dictionary, but got list.\"]}" },
        { "\"s\"",
          "{\"non_field_errors\":[\"Invalid data. Expected a dictionary, but got str.\"]}" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct form_value v[F__MAX];
        cr_expect_str_eq(errors_of(cases[i].json, v), cases[i].want, "case %zu: %s", i,
                         cases[i].json ? cases[i].json : "(empty)");
    }
}

Test(form, absent_optional_field_is_not_present)
{
    struct form_value v[F__MAX];
    cr_assert_str_eq(errors_of("{\"email\":\"x@example.com\",\"name\":\"ab\"}", v), "");
    cr_expect_not(v[F_OPT].present);
    cr_expect_null(v[F_OPT].s); /* (the other values were borrowed from the freed body) */
    cr_expect(v[F_NAME].present);
}

/* Optional typed fields, as in the admin PATCH bodies. */
enum { T_TEXT, T_FLAG, T_COUNT, T__MAX };
static const struct form_field typed[T__MAX] = {
    [T_TEXT] = { "text", FORM_TEXT, false, 3 },
    [T_FLAG] = { "flag", FORM_BOOL, false, 0 },
    [T_COUNT] = { "count", FORM_INT, false, 0 },
};

Test(form, text_bool_and_int_kinds)
{
    static const struct {
        const char *json, *want;
        int flag;       /* -1 absent, else 0 or 1 */
        bool has_count; /* count present, with this value: */
        int64_t count;
    } cases[] = {
        { "{}", "", -1, false, 0 },
        { "{\"text\":\"\",\"flag\":true,\"count\":0}", "", 1, true, 0 },
        { "{\"flag\":false,\"count\":-42}", "", 0, true, -42 },
        { "{\"count\":9007199254740992}", "", -1, true, 9007199254740992LL },
        { "{\"count\":9007199254740994}", "{\"count\":[\"A valid integer is required.\"]}", -1,
          false, 0 },
        { "{\"text\":\"abcd\"}",
          "{\"text\":[\"Ensure this field has no more than 3 characters.\"]}", -1, false, 0 },
        { "{\"text\":7}", "{\"text\":[\"Not a valid string.\"]}", -1, false, 0 },
        { "{\"text\":null}", "{\"text\":[\"Not a valid string.\"]}", -1, false, 0 },
        { "{\"flag\":\"yes\"}", "{\"flag\":[\"Must be a valid boolean.\"]}", -1, false, 0 },
        { "{\"flag\":1}", "{\"flag\":[\"Must be a valid boolean.\"]}", -1, false, 0 },
        { "{\"flag\":null}", "{\"flag\":[\"Must be a valid boolean.\"]}", -1, false, 0 },
        { "{\"count\":1.5}", "{\"count\":[\"A valid integer is required.\"]}", -1, false, 0 },
        { "{\"count\":\"12\"}", "{\"count\":[\"A valid integer is required.\"]}", -1, false, 0 },
        { "{\"count\":true}", "{\"count\":[\"A valid integer is required.\"]}", -1, false, 0 },
        { "{\"count\":1e300}", "{\"count\":[\"A valid integer is required.\"]}", -1, false, 0 },
        { "{\"flag\":0,\"count\":[]}",
          "{\"flag\":[\"Must be a valid boolean.\"],\"count\":[\"A valid integer is required.\"]}",
          -1, false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct form_value v[T__MAX];
        cJSON *body = cJSON_Parse(cases[i].json);
        cJSON *errs = NULL;
        cr_assert_not_null(body, "case %zu", i);
        bool ok = form_parse(body, typed, T__MAX, v, NULL, &errs);
        char *text = errs ? cJSON_PrintUnformatted(errs) : NULL;
        cr_expect_str_eq(text ? text : "", cases[i].want, "case %zu: %s", i, cases[i].json);
        cr_expect_eq(ok, errs == NULL, "case %zu", i);
        cr_expect_eq(v[T_FLAG].present, cases[i].flag >= 0, "case %zu", i);
        if (cases[i].flag >= 0)
            cr_expect_eq(v[T_FLAG].b, cases[i].flag == 1, "case %zu", i);
        cr_expect_eq(v[T_COUNT].present, cases[i].has_count, "case %zu", i);
        if (v[T_COUNT].present)
            cr_expect_eq(v[T_COUNT].i, cases[i].count, "case %zu", i);
        free(text);
        cJSON_Delete(errs);
        cJSON_Delete(body);
    }
}
