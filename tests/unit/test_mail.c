/* test_mail.c -- rendering of the activation and password-reset mails (MIME, links, Message-ID). */
#include "autoconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "mail.h"

static struct config *
load(const char *extra)
{
    const char *pairs[] = {
        "SECRET_KEY=0123456789abcdef0123456789abcdef-test-key",
        "FRONTEND_URL=https://app.example.com",
        "DEFAULT_FROM_EMAIL=Videoflix <noreply@videoflix.example>",
        ("VIDEOFLIX_DATA_DIR=" VF_SRCDIR),
        extra != NULL ? extra : "LOG_LEVEL=error",
    };
    struct config *cfg = NULL;
    char err[256];
    cr_assert_eq(config_load_pairs(pairs, 5, &cfg, err, sizeof(err)), VF_OK, "%s", err);
    log_init("test_mail", CONFIG_LOG_ERROR);
    return cfg;
}

/* Decode quoted-printable in place (soft line breaks, =XX). */
static void
qp_decode(char *s)
{
    char *out = s;
    for (char *p = s; *p != '\0'; p++) {
        if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
            p += 2;
        } else if (p[0] == '=' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hex[3] = { p[1], p[2], 0 };
            *out++ = (char)strtol(hex, NULL, 16);
            p += 2;
        } else {
            *out++ = *p;
        }
    }
    *out = '\0';
}

static char *
render(const struct config *cfg, const char *payload, int64_t id)
{
    char *msg = NULL, *to = NULL, err[256] = "";
    enum vf_err e = mail_render(cfg, payload, id, &msg, &to, err, sizeof(err));
    cr_assert_eq(e, VF_OK, "render: %s", err);
    free(to);
    return msg;
}

static char *
header(const char *msg, const char *name)
{
    static char value[512];
    size_t n = strlen(name);
    for (const char *p = msg; p != NULL && *p != '\0';
         p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL) {
        if (strncmp(p, "\r\n", 2) == 0)
            break; /* end of the header block */
        if (strncmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 2;
            size_t len = strcspn(v, "\r\n");
            snprintf(value, sizeof(value), "%.*s", (int)len, v);
            return value;
        }
    }
    return NULL;
}

Test(mail, activation_is_multipart_with_the_frontend_link)
{
    struct config *cfg = load(NULL);
    char *msg = render(cfg,
                       "{\"template\":\"activation\",\"to\":\"ann@example.org\",\"uid\":\"MQ\","
                       "\"token\":\"c2v-3f9a\"}",
                       42);
    cr_expect_str_eq(header(msg, "Subject"), "Confirm your email");
    cr_expect_str_eq(header(msg, "From"), "Videoflix <noreply@videoflix.example>");
    cr_expect_str_eq(header(msg, "To"), "ann@example.org");
    cr_expect_str_eq(header(msg, "MIME-Version"), "1.0");
    cr_expect_not_null(strstr(header(msg, "Content-Type"), "multipart/alternative; boundary="));
    cr_expect_not_null(strstr(msg, "Content-Type: text/plain; charset=utf-8"));
    cr_expect_not_null(strstr(msg, "Content-Type: text/html; charset=utf-8"));
    for (const char *p = msg; (p = strchr(p, '\n')) != NULL; p++)
        cr_assert(p > msg && p[-1] == '\r', "every line ends with CRLF");
    qp_decode(msg);
    const char *link = "https://app.example.com/pages/auth/activate.html?uid=MQ&token=c2v-3f9a";
    cr_expect_not_null(strstr(msg, link), "plain part carries the raw link");
    cr_expect_not_null(strstr(msg, "href=\"https://app.example.com/pages/auth/activate.html?uid=MQ"
                                   "&amp;token=c2v-3f9a\""));
    cr_expect_not_null(strstr(msg, ">Activate account</a>"));
    cr_expect_not_null(strstr(msg, "Thank you for registering with Videoflix"));
    cr_expect_not_null(strstr(msg, "Thank you for registering with <strong>Videoflix</strong>"));
    cr_expect_null(strstr(msg, "{{"), "every placeholder is filled");
    free(msg);
    config_free(cfg);
}

Test(mail, password_reset_states_the_configured_validity)
{
    static const struct {
        const char *setting, *text;
    } cases[] = {
        { "LOG_LEVEL=error", "valid for 24 hours" },
        { "PASSWORD_RESET_TIMEOUT=3600", "valid for 1 hour" },
        { "PASSWORD_RESET_TIMEOUT=1800", "valid for 30 minutes" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config *cfg = load(cases[i].setting);
        char *msg = render(cfg,
                           "{\"template\":\"password_reset\",\"to\":\"bob@example.org\","
                           "\"uid\":\"Mg\",\"token\":\"tok\"}",
                           7);
        cr_expect_str_eq(header(msg, "Subject"), "Reset your Password");
        qp_decode(msg);
        cr_expect_not_null(strstr(msg, cases[i].text), "case %zu", i);
        cr_expect_not_null(strstr(msg, "ignore this email"));
        cr_expect_not_null(strstr(msg, ">Reset password</a>"));
        cr_expect_not_null(strstr(msg, "https://app.example.com/pages/auth/confirm_password.html?"
                                       "uid=Mg&token=tok"));
        free(msg);
        config_free(cfg);
    }
}

Test(mail, message_id_is_stable_per_job_and_unique_between_jobs)
{
    struct config *cfg = load(NULL);
    const char *p =
        "{\"template\":\"activation\",\"to\":\"a@b.example\",\"uid\":\"MQ\",\"token\":\"t\"}";
    char *a = render(cfg, p, 5), *b = render(cfg, p, 5), *c = render(cfg, p, 6);
    char ida[512], idb[512], idc[512];
    snprintf(ida, sizeof(ida), "%s", header(a, "Message-ID"));
    snprintf(idb, sizeof(idb), "%s", header(b, "Message-ID"));
    snprintf(idc, sizeof(idc), "%s", header(c, "Message-ID"));
    cr_expect_str_eq(ida, idb, "a retry of job 5 carries the same Message-ID");
    cr_expect_str_neq(ida, idc);
    cr_expect_eq(strncmp(ida, "<job-5.", 7), 0, "%s", ida);
    cr_expect_not_null(strstr(ida, "@videoflix.example>"));
    free(a);
    free(b);
    free(c);
    config_free(cfg);
}

Test(mail, link_values_are_url_encoded)
{
    struct config *cfg = load(NULL);
    char *msg = render(cfg,
                       "{\"template\":\"activation\",\"to\":\"a@b.example\",\"uid\":\"a&b\","
                       "\"token\":\"x y<\"}",
                       1);
    qp_decode(msg);
    cr_expect_not_null(strstr(msg, "?uid=a%26b&token=x%20y%3C"));
    free(msg);
    config_free(cfg);
}

Test(mail, bad_payloads_and_header_injection_are_refused)
{
    struct config *cfg = load(NULL);
    static const char *bad[] = {
        "",
        "[]",
        "{\"template\":\"nope\",\"to\":\"a@b.example\",\"uid\":\"1\",\"token\":\"t\"}",
        "{\"template\":\"activation\",\"to\":\"a@b.example\",\"uid\":\"1\"}",
        ("{\"template\":\"activation\",\"to\":\"a@b.example\\r\\nBcc: x@evil.example\","
         "\"uid\":\"1\",\"token\":\"t\"}"),
        "{\"template\":\"activation\",\"to\":\"not-an-address\",\"uid\":\"1\",\"token\":\"t\"}",
        "{\"template\":\"activation\",\"to\":\"a@b.example\",\"uid\":\"1\",\"token\":\"t\\n\"}",
        "{\"template\":\"../../etc/passwd\",\"to\":\"a@b.example\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *msg = NULL, *to = NULL, err[256];
        cr_expect_eq(mail_render(cfg, bad[i], 1, &msg, &to, err, sizeof(err)), VF_ERR_INVALID,
                     "case %zu", i);
        cr_expect_null(msg);
        cr_expect_null(to);
    }
    cr_expect_eq(mail_enqueue(NULL, MAIL_ACTIVATION, "a@b.example\r\nBcc: x@y", "1", "t"),
                 VF_ERR_INVALID);
    cr_expect_eq(mail_enqueue(NULL, (enum mail_kind)9, "a@b.example", "1", "t"), VF_ERR_INVALID);
    config_free(cfg);
}

Test(mail, missing_template_is_an_io_error)
{
    struct config *cfg = load("VIDEOFLIX_DATA_DIR=/nonexistent");
    char *msg = NULL, *to = NULL, err[256] = "";
    cr_expect_eq(mail_render(cfg,
                             "{\"template\":\"activation\",\"to\":\"a@b.example\",\"uid\":\"1\","
                             "\"token\":\"t\"}",
                             1, &msg, &to, err, sizeof(err)),
                 VF_ERR_IO);
    cr_expect_not_null(strstr(err, "activation.txt"));
    config_free(cfg);
}

Test(mail, test_mail_payload)
{
    struct config *cfg = load(NULL);
    char *p = mail_test_payload("ops@example.org");
    cr_assert_not_null(p);
    char *msg = render(cfg, p, 0);
    cr_expect_str_eq(header(msg, "Subject"), "Videoflix test message");
    cr_expect_eq(strncmp(header(msg, "Message-ID"), "<test.", 6), 0);
    cr_expect_null(mail_test_payload("bad\naddress@x"));
    free(p);
    free(msg);
    config_free(cfg);
}
