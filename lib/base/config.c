/* config.c -- parse .env and the environment once into an immutable, validated struct config. */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "metrics.h"

#ifndef VF_DATADIR
#define VF_DATADIR "/usr/local/share/videoflix"
#endif

enum vtype { V_STR, V_SECRET, V_BOOL, V_INT, V_SIZE, V_URL, V_ENUM, V_ORIGINS, V_SIGNKEY };

/*
 * The declared settings: name, type, where it goes, default, bounds.  Every
 * variable the programs read is here and nowhere else (kcgi-style input table).
 */
struct var {
    const char *name;
    enum vtype type;
    size_t off;
    const char *def; /* NULL: required (V_SECRET) or engine-dependent */
    long long min, max;
    const char *const *choices; /* V_ENUM: value index is stored as int */
};

static const char *const engines[] = { "sqlite", "postgres", NULL };
static const char *const sendfiles[] = { "none", "x-sendfile", "x-accel-redirect", NULL };
static const char *const levels[] = { "debug", "info", "warn", "error", NULL };

#define OFF(f) offsetof(struct config, f)
#define GiB    (1024LL * 1024 * 1024)

static const struct var vars[] = {
    { "SECRET_KEY", V_SECRET, OFF(secret_key), NULL, 32, 4096, NULL },
    { "DEBUG", V_BOOL, OFF(debug), "false", 0, 0, NULL },
    { "LOG_LEVEL", V_ENUM, OFF(log_level), "info", 0, 0, levels },
    /* argon2id cost (lib/domain/password.h): the bounds are the loosest of OWASP's pairs
     * (7 MiB with t >= 5); the pair itself is checked at start-up by password_set_cost(). */
    { "PASSWORD_HASH_MEMORY_KIB", V_INT, OFF(password_hash_memory_kib), "19456", 7168, 1048576,
      NULL },
    { "PASSWORD_HASH_TIME", V_INT, OFF(password_hash_time), "2", 1, 32, NULL },
    { "DB_ENGINE", V_ENUM, OFF(db_engine), "sqlite", 0, 0, engines },
    { "DB_NAME", V_STR, OFF(db_name), NULL, 1, 4096, NULL },
    { "DB_USER", V_STR, OFF(db_user), "", 0, 256, NULL },
    { "DB_PASSWORD", V_STR, OFF(db_password), "", 0, 1024, NULL },
    { "DB_HOST", V_STR, OFF(db_host), "localhost", 1, 4096, NULL },
    { "DB_PORT", V_INT, OFF(db_port), "5432", 1, 65535, NULL },
    { "DB_BUSY_TIMEOUT_MS", V_INT, OFF(db_busy_timeout_ms), "5000", 5000, 600000, NULL },
    { "MEDIA_ROOT", V_STR, OFF(media_root), "/var/lib/videoflix/media", 1, 3000, NULL },
    { "VIDEOFLIX_DATA_DIR", V_STR, OFF(data_dir), VF_DATADIR, 1, 3000, NULL },
    { "PUBLIC_URL", V_URL, OFF(public_url), "http://127.0.0.1:8000", 0, 0, NULL },
    { "FRONTEND_URL", V_URL, OFF(frontend_url), "http://127.0.0.1:5500", 0, 0, NULL },
    { "CORS_ALLOWED_ORIGINS", V_ORIGINS, 0, "http://127.0.0.1:5500,http://localhost:5500", 0, 0,
      NULL },
    { "EMAIL_HOST", V_STR, OFF(email_host), "localhost", 1, 255, NULL },
    { "EMAIL_PORT", V_INT, OFF(email_port), "587", 1, 65535, NULL },
    { "EMAIL_HOST_USER", V_STR, OFF(email_user), "", 0, 255, NULL },
    { "EMAIL_HOST_PASSWORD", V_STR, OFF(email_password), "", 0, 1024, NULL },
    { "EMAIL_USE_TLS", V_BOOL, OFF(email_use_tls), "false", 0, 0, NULL },
    { "EMAIL_USE_SSL", V_BOOL, OFF(email_use_ssl), "false", 0, 0, NULL },
    { "DEFAULT_FROM_EMAIL", V_STR, OFF(default_from_email), "Videoflix <noreply@localhost>", 3, 255,
      NULL },
    { "EMAIL_TIMEOUT", V_INT, OFF(email_timeout), "10", 1, 600, NULL },
    { "ACCESS_TOKEN_LIFETIME", V_INT, OFF(access_token_lifetime), "1800", 1, 86400 * 7, NULL },
    { "REFRESH_TOKEN_LIFETIME", V_INT, OFF(refresh_token_lifetime), "86400", 1, 86400 * 365, NULL },
    { "ROTATE_REFRESH_TOKENS", V_BOOL, OFF(rotate_refresh_tokens), "true", 0, 0, NULL },
    { "PASSWORD_RESET_TIMEOUT", V_INT, OFF(password_reset_timeout), "86400", 1, 86400 * 30, NULL },
    { "RATELIMIT_LOGIN", V_INT, OFF(ratelimit_login), "10", 1, 1000000, NULL },
    { "RATELIMIT_REGISTER", V_INT, OFF(ratelimit_register), "10", 1, 1000000, NULL },
    { "RATELIMIT_PASSWORD_RESET", V_INT, OFF(ratelimit_password_reset), "5", 1, 1000000, NULL },
    { "RATELIMIT_WINDOW", V_INT, OFF(ratelimit_window), "900", 1, 86400, NULL },
    { "FCGI_WORKERS", V_INT, OFF(fcgi_workers), "4", 1, 256, NULL },
    { "FCGI_MAX_REQUESTS", V_INT, OFF(fcgi_max_requests), "10000", 0, INT_MAX, NULL },
    { "METRICS_ALLOW", V_STR, OFF(metrics_allow), "127.0.0.1,::1", 0, 4096, NULL },
    { "UPLOAD_MAX_BYTES", V_SIZE, OFF(upload_max_bytes), "8G", 1024, 1024 * GiB, NULL },
    { "JSON_MAX_BYTES", V_SIZE, OFF(json_max_bytes), "65536", 1024, 16 * 1024 * 1024, NULL },
    { "MIN_FREE_DISK_BYTES", V_SIZE, OFF(min_free_disk_bytes), "1G", 0, 1024 * GiB, NULL },
    { "PASSWORD_HASH_CONCURRENCY", V_INT, OFF(password_hash_concurrency), "0", 0, 256, NULL },
    { "SENDFILE_MODE", V_ENUM, OFF(sendfile_mode), "none", 0, 0, sendfiles },
    { "XACCEL_PREFIX", V_STR, OFF(xaccel_prefix), "/protected-hls", 2, 255, NULL },
    { "MEDIA_SIGNING_KEY", V_SIGNKEY, OFF(media_signing_key), "", 32, 256, NULL },
    { "SEGMENT_URL_TTL", V_INT, OFF(segment_url_ttl), "300", 1, 86400 * 7, NULL },
    { "HLS_CACHE_MAX_AGE", V_INT, OFF(hls_max_age), "86400", 0, 86400 * 365, NULL },
    { "TRANSCODE_CONCURRENCY", V_INT, OFF(transcode_concurrency), "1", 1, 64, NULL },
    { "MAIL_CONCURRENCY", V_INT, OFF(mail_concurrency), "2", 1, 64, NULL },
    { "JOB_LEASE_SECONDS", V_INT, OFF(job_lease_seconds), "60", 2, 86400, NULL },
    { "JOB_MAX_ATTEMPTS", V_INT, OFF(job_max_attempts), "5", 1, 100, NULL },
    { "JOB_RETRY_DELAY", V_INT, OFF(job_retry_delay), "10", 1, 86400, NULL },
    { "JOB_RETRY_MAX_DELAY", V_INT, OFF(job_retry_max_delay), "3600", 1, 86400 * 7, NULL },
    { "MAIL_RETRY_WINDOW", V_INT, OFF(mail_retry_window), "86400", 1, 86400 * 30, NULL },
    { "MAIL_RETRY_MAX_DELAY", V_INT, OFF(mail_retry_max_delay), "900", 1, 86400, NULL },
    { "WORKER_SHUTDOWN_GRACE", V_INT, OFF(worker_shutdown_grace), "30", 0, 86400, NULL },
    { "HLS_SEGMENT_SECONDS", V_INT, OFF(hls_segment_seconds), "4", 1, 60, NULL },
    { "TRANSCODE_TIMEOUT", V_INT, OFF(transcode_timeout), "7200", 10, 86400 * 2, NULL },
    { "TRANSCODE_TIMEOUT_PER_SECOND", V_INT, OFF(transcode_timeout_per_second), "10", 0, 3600,
      NULL },
    { "TRANSCODE_STALL_TIMEOUT", V_INT, OFF(transcode_stall_timeout), "120", 5, 86400, NULL },
    { "X264_THREADS", V_INT, OFF(x264_threads), "0", 0, 128, NULL },
    { "VIDEOFLIX_SUPERUSER_EMAIL", V_STR, OFF(superuser_email), "", 0, 254, NULL },
    { "VIDEOFLIX_SUPERUSER_PASSWORD", V_STR, OFF(superuser_password), "", 0, 1024, NULL },
};

#define NVARS (sizeof(vars) / sizeof(vars[0]))

/* Values that mean "nobody set a real secret". */
static const char *const placeholders[] = {
    "changeme",    "change-me",       "change_me",       "change-this",
    "change_this", "your-secret",     "your_secret",     "yoursecret",
    "placeholder", "django-insecure", "secret-key-here", "replace-me",
    "replace_me",  "example",         "xxxxxxxx",        NULL,
};

struct kv {
    char *key, *val;
};

struct envfile {
    struct kv *items;
    size_t n, cap;
};

static void
envfile_free(struct envfile *ef)
{
    for (size_t i = 0; i < ef->n; i++) {
        free(ef->items[i].key);
        free(ef->items[i].val);
    }
    free(ef->items);
    ef->items = NULL;
    ef->n = ef->cap = 0;
}

/* Later entries override earlier ones. */
static int
envfile_put(struct envfile *ef, const char *key, size_t klen, const char *val, size_t vlen)
{
    for (size_t i = 0; i < ef->n; i++) {
        if (strlen(ef->items[i].key) == klen && memcmp(ef->items[i].key, key, klen) == 0) {
            char *v = strndup(val, vlen);
            if (v == NULL)
                return -1;
            free(ef->items[i].val);
            ef->items[i].val = v;
            return 0;
        }
    }
    if (ef->n == ef->cap) {
        size_t cap = ef->cap ? ef->cap * 2 : 32;
        struct kv *p = realloc(ef->items, cap * sizeof(*p));
        if (p == NULL)
            return -1;
        ef->items = p;
        ef->cap = cap;
    }
    ef->items[ef->n].key = strndup(key, klen);
    ef->items[ef->n].val = strndup(val, vlen);
    if (ef->items[ef->n].key == NULL || ef->items[ef->n].val == NULL) {
        free(ef->items[ef->n].key);
        free(ef->items[ef->n].val);
        return -1;
    }
    ef->n++;
    return 0;
}

static const char *
envfile_get(const struct envfile *ef, const char *key)
{
    for (size_t i = 0; i < ef->n; i++)
        if (strcmp(ef->items[i].key, key) == 0)
            return ef->items[i].val;
    return NULL;
}

/*
 * Parse one "KEY=VALUE" line in dotenv syntax: optional "export ", '#' comments,
 * single quotes (literal) or double quotes (\n \" \\ escapes), unquoted values
 * trimmed and cut at " #".  Returns 0 (also for blank/comment lines), -1 on a
 * syntax error.
 */
static int
parse_line(struct envfile *ef, const char *line)
{
    const char *p = line, *k, *v;
    size_t klen;
    char buf[8192];
    size_t n = 0;

    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '#' || *p == '\n' || *p == '\r')
        return 0;
    if (strncmp(p, "export ", 7) == 0)
        p += 7;
    while (*p == ' ' || *p == '\t')
        p++;
    k = p;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    klen = (size_t)(p - k);
    while (*p == ' ' || *p == '\t')
        p++;
    if (klen == 0 || *p != '=')
        return -1;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\'' || *p == '"') {
        char q = *p++;
        for (; *p != '\0' && *p != q; p++) {
            if (n + 1 >= sizeof(buf))
                return -1;
            if (q == '"' && *p == '\\' && p[1] != '\0') {
                p++;
                buf[n++] = *p == 'n' ? '\n' : *p;
            } else {
                buf[n++] = *p;
            }
        }
        if (*p != q)
            return -1;
        return envfile_put(ef, k, klen, buf, n);
    }
    v = p;
    const char *end = v;
    for (; *p != '\0' && *p != '\n' && *p != '\r'; p++) {
        if (*p == '#' && p > v && (p[-1] == ' ' || p[-1] == '\t'))
            break;
        end = p + 1;
    }
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return envfile_put(ef, k, klen, v, (size_t)(end - v));
}

static enum vf_err
read_envfile(const char *path, bool required, struct envfile *ef, char *errbuf, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    enum vf_err err = VF_OK;

    if (fp == NULL) {
        if (errno == ENOENT && !required)
            return VF_OK;
        vf_reason(errbuf, errlen, "cannot read %s: %s", path, strerror(errno));
        return VF_ERR_CONFIG;
    }
    while (getline(&line, &cap, fp) != -1) {
        lineno++;
        if (parse_line(ef, line) != 0) {
            vf_reason(errbuf, errlen, "%s:%d: not a KEY=VALUE line", path, lineno);
            err = VF_ERR_CONFIG;
            break;
        }
    }
    free(line);
    fclose(fp);
    return err;
}

static bool
parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "1", "true", "yes", "on", NULL };
    static const char *const no[] = { "0", "false", "no", "off", "", NULL };

    for (size_t i = 0; yes[i] != NULL; i++)
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, true;
    for (size_t i = 0; no[i] != NULL; i++)
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, true;
    return false;
}

/* Integer with an optional binary suffix K, M, G (sizes only). */
static bool
parse_int(const char *s, bool suffixes, long long *out)
{
    char *end;
    long long v;

    if (*s == '\0' || isspace((unsigned char)*s))
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s)
        return false;
    if (suffixes && *end != '\0' && end[1] == '\0') {
        long long mul = 1;
        switch (toupper((unsigned char)*end)) {
        case 'K':
            mul = 1024LL;
            break;
        case 'M':
            mul = 1024LL * 1024;
            break;
        case 'G':
            mul = GiB;
            break;
        default:
            return false;
        }
        if (v > LLONG_MAX / mul || v < 0)
            return false;
        v *= mul;
        end++;
    }
    if (*end != '\0')
        return false;
    *out = v;
    return true;
}

static bool
has_ctl(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* scheme://host[:port] with no path, query or userinfo. */
static bool
is_origin(const char *s, size_t len)
{
    size_t skip;

    if (len > 7 && strncmp(s, "http://", 7) == 0)
        skip = 7;
    else if (len > 8 && strncmp(s, "https://", 8) == 0)
        skip = 8;
    else
        return false;
    for (size_t i = skip; i < len; i++) {
        char c = s[i];
        if (!(isalnum((unsigned char)c) || c == '.' || c == '-' || c == ':' || c == '[' ||
              c == ']'))
            return false;
    }
    return len > skip;
}

static bool
secret_is_placeholder(const char *s)
{
    char lower[4097];
    size_t n = strlen(s), distinct = 0;
    bool seen[256] = { false };

    if (n >= sizeof(lower))
        n = sizeof(lower) - 1;
    for (size_t i = 0; i < n; i++) {
        lower[i] = (char)tolower((unsigned char)s[i]);
        if (!seen[(unsigned char)s[i]]) {
            seen[(unsigned char)s[i]] = true;
            distinct++;
        }
    }
    lower[n] = '\0';
    if (distinct < 10)
        return true;
    for (size_t i = 0; placeholders[i] != NULL; i++)
        if (strstr(lower, placeholders[i]) != NULL)
            return true;
    return false;
}

static enum vf_err
set_origins(struct config *cfg, const char *val, char *errbuf, size_t errlen)
{
    const char *p = val;

    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        const char *e = p;
        while (*e != '\0' && *e != ',' && *e != ' ')
            e++;
        size_t len = (size_t)(e - p);
        while (len > 0 && p[len - 1] == '/')
            len--;
        if (!is_origin(p, len)) {
            vf_reason(errbuf, errlen,
                      "CORS_ALLOWED_ORIGINS: '%.*s' is not an origin "
                      "(scheme://host[:port])",
                      (int)len, p);
            return VF_ERR_CONFIG;
        }
        if (cfg->n_cors_origins == CONFIG_MAX_ORIGINS) {
            vf_reason(errbuf, errlen, "CORS_ALLOWED_ORIGINS: more than %d origins",
                      CONFIG_MAX_ORIGINS);
            return VF_ERR_CONFIG;
        }
        if ((cfg->cors_origins[cfg->n_cors_origins] = strndup(p, len)) == NULL)
            return VF_ERR_NOMEM;
        cfg->n_cors_origins++;
        p = e;
    }
    return VF_OK;
}

static enum vf_err
set_var(struct config *cfg, const struct var *v, const char *val, char *errbuf, size_t errlen)
{
    char *base = (char *)cfg;
    long long n;
    bool b;

    if (has_ctl(val)) {
        vf_reason(errbuf, errlen, "%s: control characters are not allowed", v->name);
        return VF_ERR_CONFIG;
    }
    switch (v->type) {
    case V_SECRET:
        if (strlen(val) < (size_t)v->min) {
            vf_reason(errbuf, errlen,
                      "%s must be at least %lld bytes (got %zu); generate one with "
                      "`head -c 48 /dev/urandom | base64`",
                      v->name, v->min, strlen(val));
            return VF_ERR_CONFIG;
        }
        if (secret_is_placeholder(val)) {
            vf_reason(errbuf, errlen, "%s looks like a placeholder; set a random value", v->name);
            return VF_ERR_CONFIG;
        }
        /* fall through */
    case V_STR:
        if (strlen(val) < (size_t)v->min || strlen(val) > (size_t)v->max) {
            vf_reason(errbuf, errlen, "%s must be %lld to %lld characters long", v->name, v->min,
                      v->max);
            return VF_ERR_CONFIG;
        }
        break;
    case V_SIGNKEY:
        if (val[0] == '\0')
            break;
        if (strlen(val) < (size_t)v->min || strlen(val) > (size_t)v->max) {
            vf_reason(errbuf, errlen, "%s must be %lld to %lld characters long", v->name, v->min,
                      v->max);
            return VF_ERR_CONFIG;
        }
        for (const char *p = val; *p != '\0'; p++) {
            if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_')) {
                vf_reason(errbuf, errlen,
                          "%s may contain only letters, digits, '-' and '_' "
                          "(it is pasted into web server configs)",
                          v->name);
                return VF_ERR_CONFIG;
            }
        }
        break;
    case V_BOOL:
        if (!parse_bool(val, &b)) {
            vf_reason(errbuf, errlen, "%s must be true or false (got '%s')", v->name, val);
            return VF_ERR_CONFIG;
        }
        *(bool *)(base + v->off) = b;
        return VF_OK;
    case V_INT:
    case V_SIZE:
        if (!parse_int(val, v->type == V_SIZE, &n) || n < v->min || n > v->max) {
            vf_reason(errbuf, errlen, "%s must be %s between %lld and %lld (got '%s')", v->name,
                      v->type == V_SIZE ? "a size in bytes (K/M/G suffix allowed)" : "an integer",
                      v->min, v->max, val);
            return VF_ERR_CONFIG;
        }
        if (v->type == V_SIZE && v->off == OFF(min_free_disk_bytes))
            *(int64_t *)(base + v->off) = n;
        else if (v->type == V_SIZE)
            *(size_t *)(base + v->off) = (size_t)n;
        else
            *(int *)(base + v->off) = (int)n;
        return VF_OK;
    case V_ENUM:
        for (int i = 0; v->choices[i] != NULL; i++) {
            if (strcasecmp(val, v->choices[i]) == 0) {
                *(int *)(base + v->off) = i;
                return VF_OK;
            }
        }
        vf_reason(errbuf, errlen, "%s must be one of the documented values (got '%s')", v->name,
                  val);
        return VF_ERR_CONFIG;
    case V_URL: {
        size_t len = strlen(val);
        while (len > 0 && val[len - 1] == '/')
            len--;
        if (!((len > 7 && strncmp(val, "http://", 7) == 0) ||
              (len > 8 && strncmp(val, "https://", 8) == 0)) ||
            strpbrk(val, " \"'<>?#") != NULL) {
            vf_reason(errbuf, errlen, "%s must be an absolute http(s) URL without query (got '%s')",
                      v->name, val);
            return VF_ERR_CONFIG;
        }
        char *s = strndup(val, len);
        if (s == NULL)
            return VF_ERR_NOMEM;
        *(char **)(base + v->off) = s;
        return VF_OK;
    }
    case V_ORIGINS:
        return set_origins(cfg, val, errbuf, errlen);
    }
    char *s = strdup(val);
    if (s == NULL)
        return VF_ERR_NOMEM;
    *(char **)(base + v->off) = s;
    return VF_OK;
}

/*
 * The data directory of a program that has not been installed: a build tree writes its
 * source directory into <builddir>/uninstalled-datadir (Makefile.am), and its programs live
 * one level below (<builddir>/fcgi/videoflix-fcgi), so they find the schema, templates and
 * password list of their own tree without any setting, as uninstalled programs of other
 * projects do.  An installed program ($sbindir) has no such file beside it and uses
 * $pkgdatadir.  Returns `buf` or NULL.
 */
static const char *
uninstalled_datadir(char *buf, size_t len)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    char marker[4096 + 32];
    snprintf(marker, sizeof(marker), "%s/../uninstalled-datadir", exe);
    FILE *fp = fopen(marker, "re");
    if (fp == NULL)
        return NULL;
    const char *r = fgets(buf, (int)len, fp) != NULL ? buf : NULL;
    fclose(fp);
    if (r != NULL)
        buf[strcspn(buf, "\r\n")] = '\0';
    return r != NULL && buf[0] == '/' ? r : NULL;
}

/* Resolve every variable: environment (if use_env) > file > default. */
static enum vf_err
build(const struct envfile *ef, bool use_env, struct config **out, char *errbuf, size_t errlen)
{
    struct config *cfg = calloc(1, sizeof(*cfg));
    enum vf_err err = VF_OK;

    *out = NULL;
    if (cfg == NULL)
        return VF_ERR_NOMEM;
    for (size_t i = 0; i < NVARS && err == VF_OK; i++) {
        const struct var *v = &vars[i];
        const char *val = use_env ? getenv(v->name) : NULL;
        if (val == NULL)
            val = envfile_get(ef, v->name);
        if (val == NULL && v->off == OFF(db_name) && v->type == V_STR)
            val = cfg->db_engine == CONFIG_DB_POSTGRES ? "videoflix"
                                                       : "/var/lib/videoflix/videoflix.sqlite3";
        char datadir[4096];
        if (val == NULL && v->off == OFF(data_dir))
            val = uninstalled_datadir(datadir, sizeof(datadir));
        if (val == NULL)
            val = v->def;
        if (val == NULL) {
            vf_reason(errbuf, errlen, "%s is required (set it in .env or the environment)",
                      v->name);
            err = VF_ERR_CONFIG;
            break;
        }
        err = set_var(cfg, v, val, errbuf, errlen);
    }
    if (err == VF_OK) {
        cfg->public_https = strncmp(cfg->public_url, "https://", 8) == 0;
        if (cfg->email_use_tls && cfg->email_use_ssl) {
            vf_reason(errbuf, errlen, "EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive");
            err = VF_ERR_CONFIG;
        } else if (!metrics_allow_valid(cfg->metrics_allow)) {
            vf_reason(errbuf, errlen,
                      "METRICS_ALLOW must be comma-separated addresses or CIDR blocks (got '%s')",
                      cfg->metrics_allow);
            err = VF_ERR_CONFIG;
        }
    }
    if (err != VF_OK) {
        if (err == VF_ERR_NOMEM)
            vf_reason(errbuf, errlen, "out of memory");
        config_free(cfg);
        return err;
    }
    *out = cfg;
    return VF_OK;
}

enum vf_err
config_load(const char *env_path, struct config **out, char *errbuf, size_t errlen)
{
    struct envfile ef = { 0 };
    bool required = env_path != NULL;
    enum vf_err err;

    *out = NULL;
    if (env_path == NULL) {
        env_path = getenv("VIDEOFLIX_ENV");
        required = env_path != NULL;
    }
    if (env_path == NULL)
        env_path = ".env";
    err = read_envfile(env_path, required, &ef, errbuf, errlen);
    if (err == VF_OK)
        err = build(&ef, true, out, errbuf, errlen);
    envfile_free(&ef);
    return err;
}

enum vf_err
config_load_pairs(const char *const *pairs, size_t n, struct config **out, char *errbuf,
                  size_t errlen)
{
    struct envfile ef = { 0 };
    enum vf_err err = VF_OK;

    *out = NULL;
    for (size_t i = 0; i < n && err == VF_OK; i++) {
        if (parse_line(&ef, pairs[i]) != 0) {
            vf_reason(errbuf, errlen, "not a KEY=VALUE pair: %s", pairs[i]);
            err = VF_ERR_CONFIG;
        }
    }
    if (err == VF_OK)
        err = build(&ef, false, out, errbuf, errlen);
    envfile_free(&ef);
    return err;
}

void
config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    if (cfg->secret_key != NULL)
        explicit_bzero(cfg->secret_key, strlen(cfg->secret_key));
    for (size_t i = 0; i < NVARS; i++) {
        const struct var *v = &vars[i];
        if (v->type == V_STR || v->type == V_SECRET || v->type == V_URL || v->type == V_SIGNKEY)
            free(*(char **)((char *)cfg + v->off));
    }
    for (size_t i = 0; i < cfg->n_cors_origins; i++)
        free(cfg->cors_origins[i]);
    free(cfg);
}

bool
config_origin_allowed(const struct config *cfg, const char *origin)
{
    if (origin == NULL || *origin == '\0')
        return false;
    for (size_t i = 0; i < cfg->n_cors_origins; i++)
        if (strcmp(cfg->cors_origins[i], origin) == 0)
            return true;
    /* The origin of PUBLIC_URL: scheme://host[:port] before the first path slash. */
    const char *host = strstr(cfg->public_url, "://");
    size_t len = strlen(cfg->public_url);
    if (host != NULL) {
        const char *slash = strchr(host + 3, '/');
        if (slash != NULL)
            len = (size_t)(slash - cfg->public_url);
    }
    return strlen(origin) == len && strncmp(origin, cfg->public_url, len) == 0;
}

void
config_dump(const struct config *cfg, FILE *fp)
{
    const char *base = (const char *)cfg;

    for (size_t i = 0; i < NVARS; i++) {
        const struct var *v = &vars[i];
        fprintf(fp, "%s=", v->name);
        switch (v->type) {
        case V_SECRET:
        case V_SIGNKEY:
            fputs((*(char *const *)(base + v->off))[0] ? "********" : "", fp);
            break;
        case V_STR:
        case V_URL:
            if (strstr(v->name, "PASSWORD") != NULL)
                fputs(**(char *const *)(base + v->off) ? "********" : "", fp);
            else
                fputs(*(char *const *)(base + v->off), fp);
            break;
        case V_BOOL:
            fputs(*(const bool *)(base + v->off) ? "true" : "false", fp);
            break;
        case V_INT:
            fprintf(fp, "%d", *(const int *)(base + v->off));
            break;
        case V_SIZE:
            if (v->off == OFF(min_free_disk_bytes))
                fprintf(fp, "%lld", (long long)*(const int64_t *)(base + v->off));
            else
                fprintf(fp, "%zu", *(const size_t *)(base + v->off));
            break;
        case V_ENUM:
            fputs(v->choices[*(const int *)(base + v->off)], fp);
            break;
        case V_ORIGINS:
            for (size_t k = 0; k < cfg->n_cors_origins; k++)
                fprintf(fp, "%s%s", k ? "," : "", cfg->cors_origins[k]);
            break;
        }
        fputc('\n', fp);
    }
}
