/* mail.c -- the email outbox: "mail" jobs, template rendering, MIME assembly and SMTP delivery. */
#include "autoconf.h"

#include "mail.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#include <auth-client.h>
#include <libesmtp.h>

#include "clock.h"
#include "job.h"
#include "jsonobj.h"
#include "log.h"
#include "mailtls.h"
#include "strbuf.h"

#define TEMPLATE_MAX (64 * 1024)
#define FIELD_MAX    512
#define EMAIL_MAX    254

/* The templates a payload may name, with their subjects and link paths. */
static const struct mail_template {
    const char *name;
    const char *subject;
    const char *path; /* NULL: no link */
} templates[] = {
    [MAIL_ACTIVATION] = { "activation", "Confirm your email", "/pages/auth/activate.html" },
    [MAIL_PASSWORD_RESET] = { "password_reset", "Reset your Password",
                              "/pages/auth/confirm_password.html" },
    { "test", "Videoflix test message", NULL },
};
#define NTEMPLATES (sizeof(templates) / sizeof(templates[0]))

static const struct mail_template *
template_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < NTEMPLATES; i++)
        if (strcmp(templates[i].name, name) == 0)
            return &templates[i];
    return NULL;
}

/* No control characters (header injection), bounded length. */
static bool
field_ok(const char *s, size_t max)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > max)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static bool
address_ok(const char *s)
{
    if (!field_ok(s, EMAIL_MAX))
        return false;
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return false;
    return strpbrk(s, " <>()[],;:\"\\") == NULL;
}

enum vf_err
mail_enqueue(struct db *db, enum mail_kind kind, const char *to, const char *uidb64,
             const char *token)
{
    if ((unsigned)kind > MAIL_PASSWORD_RESET || !address_ok(to) || !field_ok(uidb64, FIELD_MAX) ||
        !field_ok(token, FIELD_MAX))
        return VF_ERR_INVALID;
    cJSON *j = cJSON_CreateObject();
    if (j == NULL || cJSON_AddStringToObject(j, "template", templates[kind].name) == NULL ||
        cJSON_AddStringToObject(j, "to", to) == NULL ||
        cJSON_AddStringToObject(j, "uid", uidb64) == NULL ||
        cJSON_AddStringToObject(j, "token", token) == NULL) {
        cJSON_Delete(j);
        return VF_ERR_NOMEM;
    }
    char *payload = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (payload == NULL)
        return VF_ERR_NOMEM;
    enum vf_err err = job_enqueue(db, "mail", payload, 0, 0, NULL);
    free(payload);
    return err;
}

char *
mail_test_payload(const char *to)
{
    if (!address_ok(to))
        return NULL;
    cJSON *j = cJSON_CreateObject();
    char *s = NULL;
    if (j != NULL && cJSON_AddStringToObject(j, "template", "test") != NULL &&
        cJSON_AddStringToObject(j, "to", to) != NULL)
        s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

/* ---- rendering ------------------------------------------------------------ */

static void
url_encode(struct strbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            strbuf_add(b, (const char *)p, 1);
        } else {
            char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
            strbuf_add(b, e, 3);
        }
    }
}

static void
html_escape(struct strbuf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&':
            strbuf_str(b, "&amp;");
            break;
        case '<':
            strbuf_str(b, "&lt;");
            break;
        case '>':
            strbuf_str(b, "&gt;");
            break;
        case '"':
            strbuf_str(b, "&quot;");
            break;
        case '\'':
            strbuf_str(b, "&#39;");
            break;
        default:
            strbuf_add(b, s, 1);
        }
    }
}

/* "24 hours", "1 hour", "30 minutes", "45 seconds". */
static void
format_duration(int s, char *out, size_t len)
{
    if (s >= 3600 && s % 3600 == 0)
        snprintf(out, len, "%d hour%s", s / 3600, s == 3600 ? "" : "s");
    else if (s >= 60 && s % 60 == 0)
        snprintf(out, len, "%d minute%s", s / 60, s == 60 ? "" : "s");
    else
        snprintf(out, len, "%d second%s", s, s == 1 ? "" : "s");
}

struct var {
    const char *name;
    const char *value;
};

/* Replace {{name}} by its value (HTML-escaped when `html`); unknown names stay as they are. */
static char *
substitute(const char *tpl, const struct var *vars, size_t nvars, bool html)
{
    struct strbuf b = { 0 };
    const char *p = tpl;
    while (*p != '\0') {
        const char *open = strstr(p, "{{");
        if (open == NULL) {
            strbuf_str(&b, p);
            break;
        }
        strbuf_add(&b, p, (size_t)(open - p));
        const char *close = strstr(open + 2, "}}");
        if (close == NULL) {
            strbuf_str(&b, open);
            break;
        }
        size_t n = (size_t)(close - open - 2);
        const struct var *v = NULL;
        for (size_t i = 0; i < nvars; i++)
            if (strlen(vars[i].name) == n && strncmp(vars[i].name, open + 2, n) == 0)
                v = &vars[i];
        if (v == NULL)
            strbuf_add(&b, open, n + 4);
        else if (html)
            html_escape(&b, v->value);
        else
            strbuf_str(&b, v->value);
        p = close + 2;
    }
    return strbuf_take(&b);
}

enum vf_err
mail_templates_check(const struct config *cfg, char *err, size_t errlen)
{
    static const char *const exts[] = { "txt", "html" };
    for (size_t i = 0; i < NTEMPLATES; i++) {
        for (size_t j = 0; j < sizeof(exts) / sizeof(exts[0]); j++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/data/templates/%s.%s", cfg->data_dir,
                     templates[i].name, exts[j]);
            if (access(path, R_OK) != 0) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return VF_ERR_IO;
            }
        }
    }
    return VF_OK;
}

/* Read data_dir/data/templates/<name>.<ext>; caller frees.  NULL (errno set) on failure. */
static char *
template_load(const struct config *cfg, const char *name, const char *ext)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/data/templates/%s.%s", cfg->data_dir, name, ext);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *s = malloc(TEMPLATE_MAX + 1);
    size_t len = 0;
    ssize_t r = 0;
    while (s != NULL && len < TEMPLATE_MAX &&
           ((r = read(fd, s + len, TEMPLATE_MAX - len)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            len += (size_t)r;
    close(fd);
    if (s == NULL || r < 0) {
        free(s);
        return NULL;
    }
    s[len] = '\0';
    return s;
}

/* Quoted-printable (RFC 2045) of UTF-8 text with LF or CRLF line ends, output with CRLF. */
static void
qp_encode(struct strbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\n') {
            strbuf_str(b, "\r\n");
            col = 0;
            continue;
        }
        bool trailing_ws =
            (*p == ' ' || *p == '\t') && (p[1] == '\n' || p[1] == '\r' || p[1] == '\0');
        bool literal =
            (*p >= 33 && *p <= 126 && *p != '=') || ((*p == ' ' || *p == '\t') && !trailing_ws);
        /* A leading '.' is escaped too, so no line is ever taken for SMTP's end of data. */
        if (col == 0 && *p == '.')
            literal = false;
        size_t need = literal ? 1 : 3;
        if (col + need > 75) {
            strbuf_str(b, "=\r\n");
            col = 0;
        }
        if (literal) {
            strbuf_add(b, (const char *)p, 1);
        } else {
            char e[3] = { '=', hex[*p >> 4], hex[*p & 15] };
            strbuf_add(b, e, 3);
        }
        col += need;
    }
    if (col > 0)
        strbuf_str(b, "\r\n");
}

/* Lower-case hex of HMAC-SHA256(secret, msg), truncated to `n` hex chars (n <= 64). */
static void
hmac_hex(const char *secret, const char *msg, char *out, size_t n)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    static const char hex[] = "0123456789abcdef";
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, strlen(msg),
             mac, &maclen) == NULL)
        maclen = 0;
    size_t i = 0;
    for (; i < n && i / 2 < maclen; i++)
        out[i] = hex[(i % 2 == 0) ? mac[i / 2] >> 4 : mac[i / 2] & 15];
    for (; i < n; i++)
        out[i] = '0';
    out[n] = '\0';
}

static void
random_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[32] = { 0 };
    if (getrandom(r, sizeof(r), 0) < 0)
        memset(r, 0x5a, sizeof(r));
    for (size_t i = 0; i < n && i / 2 < sizeof(r); i++)
        out[i] = hex[(i % 2 == 0) ? r[i / 2] >> 4 : r[i / 2] & 15];
    out[n] = '\0';
}

/* The addr-spec of "Name <a@b>" or "a@b" into out; false if there is none. */
static bool
addr_spec(const char *from, char *out, size_t len)
{
    const char *lt = strrchr(from, '<');
    const char *start = lt != NULL ? lt + 1 : from;
    const char *end = lt != NULL ? strchr(start, '>') : start + strlen(start);
    while (lt == NULL && *start == ' ')
        start++;
    if (end == NULL || end <= start || (size_t)(end - start) >= len)
        return false;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return strchr(out, '@') != NULL;
}

static void
rfc5322_date(char *out, size_t len)
{
    time_t t = (time_t)clock_now();
    struct tm tm;
    gmtime_r(&t, &tm);
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

enum vf_err
mail_render(const struct config *cfg, const char *payload, int64_t job_id, char **message,
            char **to_out, char *err, size_t errlen)
{
    *message = NULL;
    *to_out = NULL;
    cJSON *j = cJSON_Parse(payload != NULL ? payload : "");
    const struct mail_template *t = template_find(jsonobj_string(j, "template"));
    const char *to = jsonobj_string(j, "to");
    const char *uid = jsonobj_string(j, "uid");
    const char *token = jsonobj_string(j, "token");
    char from_addr[256];
    enum vf_err rc = VF_ERR_INVALID;
    char *txt_tpl = NULL, *html_tpl = NULL, *txt = NULL, *html = NULL, *link = NULL;
    struct strbuf m = { 0 };

    if (t == NULL || !address_ok(to)) {
        snprintf(err, errlen, "invalid mail payload (template or recipient)");
        goto out;
    }
    if (t->path != NULL && (!field_ok(uid, FIELD_MAX) || !field_ok(token, FIELD_MAX))) {
        snprintf(err, errlen, "invalid mail payload (uid or token)");
        goto out;
    }
    if (!field_ok(cfg->default_from_email, 512) ||
        !addr_spec(cfg->default_from_email, from_addr, sizeof(from_addr))) {
        snprintf(err, errlen, "DEFAULT_FROM_EMAIL is not a usable address");
        goto out;
    }
    if (t->path != NULL) {
        struct strbuf l = { 0 };
        strbuf_str(&l, cfg->frontend_url);
        strbuf_str(&l, t->path);
        strbuf_str(&l, "?uid=");
        url_encode(&l, uid);
        strbuf_str(&l, "&token=");
        url_encode(&l, token);
        if ((link = strbuf_take(&l)) == NULL) {
            rc = VF_ERR_NOMEM;
            goto out;
        }
    }
    char valid[64];
    format_duration(cfg->password_reset_timeout, valid, sizeof(valid));
    const struct var vars[] = {
        { "email", to },
        { "link", link != NULL ? link : "" },
        { "valid", valid },
        { "site_url", cfg->frontend_url },
    };
    const size_t nvars = sizeof(vars) / sizeof(vars[0]);

    txt_tpl = template_load(cfg, t->name, "txt");
    html_tpl = txt_tpl != NULL ? template_load(cfg, t->name, "html") : NULL;
    if (txt_tpl == NULL || html_tpl == NULL) {
        snprintf(err, errlen, "cannot read template %s/data/templates/%s.%s: %s", cfg->data_dir,
                 t->name, txt_tpl == NULL ? "txt" : "html", strerror(errno));
        rc = VF_ERR_IO;
        goto out;
    }
    txt = substitute(txt_tpl, vars, nvars, false);
    html = substitute(html_tpl, vars, nvars, true);
    if (txt == NULL || html == NULL) {
        rc = VF_ERR_NOMEM;
        goto out;
    }

    /* Message-ID and boundary: stable per job (an HMAC of the id, so ids of two
     * installations never collide and a retry is recognisable), random otherwise. */
    char tag[33], date[64];
    if (job_id > 0) {
        char msg[64];
        snprintf(msg, sizeof(msg), "videoflix-mail-%lld", (long long)job_id);
        hmac_hex(cfg->secret_key, msg, tag, 16);
    } else {
        random_hex(tag, 16);
    }
    rfc5322_date(date, sizeof(date));
    const char *domain = strchr(from_addr, '@') + 1;
    char msgid[384];
    if (job_id > 0)
        snprintf(msgid, sizeof(msgid), "<job-%lld.%s@%s>", (long long)job_id, tag, domain);
    else
        snprintf(msgid, sizeof(msgid), "<test.%s@%s>", tag, domain);

    strbuf_str(&m, "From: ");
    strbuf_str(&m, cfg->default_from_email);
    strbuf_str(&m, "\r\nTo: ");
    strbuf_str(&m, to);
    strbuf_str(&m, "\r\nSubject: ");
    strbuf_str(&m, t->subject);
    strbuf_str(&m, "\r\nDate: ");
    strbuf_str(&m, date);
    strbuf_str(&m, "\r\nMessage-ID: ");
    strbuf_str(&m, msgid);
    strbuf_str(&m,
               "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"=_vf_");
    strbuf_str(&m, tag);
    strbuf_str(&m, "\"\r\nAuto-Submitted: auto-generated\r\n\r\n");
    strbuf_str(&m, "This is a multi-part message in MIME format.\r\n\r\n--=_vf_");
    strbuf_str(&m, tag);
    strbuf_str(&m, "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    qp_encode(&m, txt);
    strbuf_str(&m, "\r\n--=_vf_");
    strbuf_str(&m, tag);
    strbuf_str(&m, "\r\nContent-Type: text/html; charset=utf-8\r\n"
                   "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    qp_encode(&m, html);
    strbuf_str(&m, "\r\n--=_vf_");
    strbuf_str(&m, tag);
    strbuf_str(&m, "--\r\n");
    *message = strbuf_take(&m);
    if (*message == NULL || (*to_out = strdup(to)) == NULL) {
        free(*message);
        *message = NULL;
        rc = VF_ERR_NOMEM;
        goto out;
    }
    rc = VF_OK;
out:
    if (rc == VF_ERR_NOMEM)
        snprintf(err, errlen, "out of memory");
    strbuf_free(&m);
    cJSON_Delete(j);
    free(txt_tpl);
    free(html_tpl);
    free(txt);
    free(html);
    free(link);
    return rc;
}

/* ---- sending ---------------------------------------------------------------- */

static int
auth_interact(auth_client_request_t req, char **result, int fields, void *arg)
{
    const struct config *cfg = arg;
    for (int i = 0; i < fields; i++) {
        if (req[i].flags & AUTH_USER)
            result[i] = cfg->email_user;
        else if (req[i].flags & AUTH_PASS)
            result[i] = cfg->email_password;
        else
            return 0;
    }
    return 1;
}

/* Copy the server's reply text without its line end. */
static void
status_text(const smtp_status_t *st, char *out, size_t len)
{
    snprintf(out, len, "%d %s", st != NULL ? st->code : 0,
             st != NULL && st->text != NULL ? st->text : "");
    out[strcspn(out, "\r\n")] = '\0';
}

/* LOG_LEVEL=debug: the server's replies (never our side: it carries AUTH data). */
static void
monitor(const char *buf, int len, int writing, void *arg)
{
    (void)arg;
    if (!writing && len > 0)
        log_debug("smtp < %.*s", (int)strcspn(buf, "\r\n") < len ? (int)strcspn(buf, "\r\n") : len,
                  buf);
}

/* TLS and protocol events worth a line in the log. */
static void
event(smtp_session_t session, int event_no, void *arg, ...)
{
    (void)session;
    (void)arg;
    switch (event_no) {
    case SMTP_EV_STARTTLS_OK:
        log_debug("smtp: STARTTLS ok");
        break;
    case SMTP_EV_EXTNA_STARTTLS:
        log_warn("smtp: the server does not offer STARTTLS");
        break;
    case SMTP_EV_INVALID_PEER_CERTIFICATE:
    case SMTP_EV_NO_PEER_CERTIFICATE:
    case SMTP_EV_WRONG_PEER_CERTIFICATE:
        log_warn("smtp: the server's TLS certificate is not valid for EMAIL_HOST (event %d)",
                 event_no);
        break;
    default:
        break;
    }
}

struct rcpt_status {
    int code;
    char text[256];
};

/* Keep the worst recipient status (5xx over 4xx over 2xx). */
static void
rcpt_cb(smtp_recipient_t r, const char *mailbox, void *arg)
{
    struct rcpt_status *rs = arg;
    const smtp_status_t *st = smtp_recipient_status(r);
    (void)mailbox;
    if (st != NULL && st->code > rs->code)
        status_text(st, rs->text, sizeof(rs->text));
    if (st != NULL && st->code > rs->code)
        rs->code = st->code;
}

static enum vf_err
classify(int code)
{
    if (code >= 200 && code < 300)
        return VF_OK;
    if (code >= 500 && code < 600)
        return VF_ERR_PERMFAIL;
    return VF_ERR_TEMPFAIL; /* 4xx, or no reply at all */
}

enum vf_err
mail_send(const struct config *cfg, const char *to, const char *message, char *err, size_t errlen)
{
    char from_addr[256], server[512];
    enum vf_err rc = VF_ERR_TEMPFAIL;
    smtp_session_t s = NULL;
    auth_context_t actx = NULL;
    SSL_CTX *ssl = NULL;
    struct mailtls *tunnel = NULL;

    snprintf(err, errlen, "not sent");
    if (!address_ok(to) || !addr_spec(cfg->default_from_email, from_addr, sizeof(from_addr))) {
        snprintf(err, errlen, "invalid sender or recipient address");
        return VF_ERR_PERMFAIL;
    }
    /* libESMTP may write to a socket the server already closed. */
    signal(SIGPIPE, SIG_IGN);

    long timeout_ms = (long)(cfg->email_timeout > 0 ? cfg->email_timeout : 10) * 1000;
    if (cfg->email_use_ssl) {
        /* libESMTP speaks only plain SMTP and STARTTLS: implicit TLS (SMTPS) goes
         * through a loopback relay that does the TLS handshake for it. */
        if (mailtls_start(cfg->email_host, cfg->email_port, (int)timeout_ms, &tunnel, err,
                          errlen) != VF_OK)
            return VF_ERR_TEMPFAIL;
        snprintf(server, sizeof(server), "127.0.0.1:%d", mailtls_port(tunnel));
    } else if (strchr(cfg->email_host, ':') != NULL) {
        snprintf(server, sizeof(server), "[%s]:%d", cfg->email_host, cfg->email_port);
    } else {
        snprintf(server, sizeof(server), "%s:%d", cfg->email_host, cfg->email_port);
    }

    if ((s = smtp_create_session()) == NULL) {
        snprintf(err, errlen, "cannot create an SMTP session");
        goto out;
    }
    smtp_set_server(s, server);
    smtp_set_monitorcb(s, monitor, NULL, 0);
    smtp_set_eventcb(s, event, NULL);
    for (int w = Timeout_GREETING; w <= Timeout_DATA2; w++)
        smtp_set_timeout(s, w | Timeout_OVERRIDE_RFC2822_MINIMUM, timeout_ms);
    if (cfg->email_use_tls && !cfg->email_use_ssl) {
        ssl = SSL_CTX_new(TLS_client_method());
        if (ssl == NULL) {
            snprintf(err, errlen, "cannot create a TLS context");
            goto out;
        }
        SSL_CTX_set_default_verify_paths(ssl);
        SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
        /* libESMTP polls the socket before reading: TLS 1.3 session tickets sent after
         * the handshake leave the EHLO reply buffered inside OpenSSL and the session
         * stalls until EMAIL_TIMEOUT.  TLS 1.2 has no post-handshake messages. */
        SSL_CTX_set_max_proto_version(ssl, TLS1_2_VERSION);
        smtp_starttls_set_ctx(s, ssl);
        smtp_starttls_enable(s, Starttls_REQUIRED);
    }
    if (cfg->email_user[0] != '\0') {
        auth_client_init();
        actx = auth_create_context();
        if (actx == NULL) {
            snprintf(err, errlen, "cannot create an SMTP AUTH context");
            goto out;
        }
        auth_set_mechanism_flags(actx, AUTH_PLUGIN_PLAIN, 0);
        auth_set_interact_cb(actx, auth_interact, (void *)cfg);
        smtp_auth_set_context(s, actx);
    }
    smtp_message_t msg = smtp_add_message(s);
    if (msg == NULL || !smtp_set_reverse_path(msg, from_addr) ||
        !smtp_set_message_str(msg, (void *)message) || smtp_add_recipient(msg, to) == NULL) {
        snprintf(err, errlen, "cannot set up the SMTP message");
        goto out;
    }
    if (!smtp_start_session(s)) {
        char e[256];
        snprintf(err, errlen, "SMTP %s: %s", server,
                 smtp_strerror(smtp_errno(), e, sizeof(e)) ? e : "connection failed");
        rc = VF_ERR_TEMPFAIL;
        goto out;
    }
    /* Sender refused, then recipient refused, then the message itself. */
    const smtp_status_t *st = smtp_reverse_path_status(msg);
    if (st != NULL && st->code != 0 && classify(st->code) != VF_OK) {
        status_text(st, err, errlen);
        rc = classify(st->code);
        goto out;
    }
    struct rcpt_status rs = { 0, "" };
    smtp_enumerate_recipients(msg, rcpt_cb, &rs);
    if (rs.code != 0 && classify(rs.code) != VF_OK) {
        snprintf(err, errlen, "%s", rs.text);
        rc = classify(rs.code);
        goto out;
    }
    st = smtp_message_transfer_status(msg);
    if (st == NULL || st->code == 0) {
        /* The session ended before the message was offered (TLS or AUTH failed, or
         * the server hung up): libESMTP's last error says why. */
        char e[256];
        int en = smtp_errno();
        snprintf(err, errlen, "SMTP %s: no reply to the message (%s)", server,
                 en != 0 && smtp_strerror(en, e, sizeof(e)) ? e : "session ended early");
        rc = VF_ERR_TEMPFAIL;
        goto out;
    }
    status_text(st, err, errlen);
    rc = classify(st->code);
out:
    if (s != NULL)
        smtp_destroy_session(s);
    if (actx != NULL) {
        auth_destroy_context(actx);
        auth_client_exit();
    }
    SSL_CTX_free(ssl);
    mailtls_stop(tunnel);
    return rc;
}
