/* test_config.c -- configuration parsing and validation. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define KEY "SECRET_KEY=k3Jx9vQ2mZp7Lr4Tn8Wb1Yc6Hd0Fs5Ga2Ue"

static struct config *
load(const char *const *pairs, size_t n, char *err)
{
    struct config *cfg = NULL;
    config_load_pairs(pairs, n, &cfg, err, 256);
    return cfg;
}

Test(config, defaults_apply_when_only_secret_key_is_set)
{
    const char *p[] = { KEY };
    char err[256] = "";
    struct config *cfg = load(p, 1, err);
    cr_assert_not_null(cfg, "%s", err);
    cr_expect_eq(cfg->db_engine, CONFIG_DB_SQLITE);
    cr_expect_str_eq(cfg->public_url, "http://127.0.0.1:8000");
    cr_expect_str_eq(cfg->frontend_url, "http://127.0.0.1:5500");
    cr_expect_eq(cfg->access_token_lifetime, 1800);
    cr_expect_eq(cfg->refresh_token_lifetime, 86400);
    cr_expect(cfg->rotate_refresh_tokens);
    cr_expect_eq(cfg->json_max_bytes, 65536);
    cr_expect_eq(cfg->n_cors_origins, 2);
    cr_expect_str_eq(cfg->cors_origins[0], "http://127.0.0.1:5500");
    cr_expect_eq(cfg->hls_segment_seconds, 4);
    cr_expect_eq(cfg->password_hash_memory_kib, 19456); /* OWASP's argon2id minimum */
    cr_expect_eq(cfg->password_hash_time, 2);
    cr_expect(!cfg->public_https);
    config_free(cfg);
}

struct bad_case {
    const char *pair;
    const char *must_name;
};

Test(config, invalid_values_are_refused_with_the_variable_named)
{
    static const struct bad_case cases[] = {
        { "SECRET_KEY=short", "SECRET_KEY" },
        { "SECRET_KEY=changeme-changeme-changeme-changeme-1234", "SECRET_KEY" },
        { "SECRET_KEY=django-insecure-abcdefghijklmnopqrstuvwxyz012345", "SECRET_KEY" },
        { "SECRET_KEY=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "SECRET_KEY" },
        { "DEBUG=maybe", "DEBUG" },
        { "DB_ENGINE=mysql", "DB_ENGINE" },
        { "DB_PORT=70000", "DB_PORT" },
        { "DB_PORT=12x", "DB_PORT" },
        { "PUBLIC_URL=ftp://x", "PUBLIC_URL" },
        { "PUBLIC_URL=http://x/?a=b", "PUBLIC_URL" },
        { "CORS_ALLOWED_ORIGINS=http://ok:1,http://bad/path", "CORS_ALLOWED_ORIGINS" },
        { "UPLOAD_MAX_BYTES=10X", "UPLOAD_MAX_BYTES" },
        { "FCGI_WORKERS=0", "FCGI_WORKERS" },
        { "SENDFILE_MODE=magic", "SENDFILE_MODE" },
        { "MEDIA_SIGNING_KEY=has spaces in it and is long enough to pass", "MEDIA_SIGNING_KEY" },
        { "MEDIA_SIGNING_KEY=tooshort", "MEDIA_SIGNING_KEY" },
        { "PASSWORD_HASH_MEMORY_KIB=7167", "PASSWORD_HASH_MEMORY_KIB" },
        { "PASSWORD_HASH_MEMORY_KIB=19M", "PASSWORD_HASH_MEMORY_KIB" },
        { "PASSWORD_HASH_TIME=0", "PASSWORD_HASH_TIME" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *p[] = { KEY, cases[i].pair };
        char err[256] = "";
        struct config *cfg = load(p, 2, err);
        cr_expect_null(cfg, "accepted: %s", cases[i].pair);
        cr_expect(strstr(err, cases[i].must_name) != NULL, "error for %s: %s", cases[i].pair, err);
        config_free(cfg);
    }
}

Test(config, missing_secret_key_is_required)
{
    char err[256] = "";
    struct config *cfg = load(NULL, 0, err);
    cr_expect_null(cfg);
    cr_expect(strstr(err, "SECRET_KEY is required") != NULL, "%s", err);
}

Test(config, values_parse_sizes_bools_and_trailing_slashes)
{
    const char *p[] = { KEY,
                        "UPLOAD_MAX_BYTES=2G",
                        "DEBUG=yes",
                        "PUBLIC_URL=https://v.example/",
                        "DB_ENGINE=postgres",
                        "EMAIL_USE_TLS=1",
                        "SENDFILE_MODE=x-accel-redirect" };
    char err[256] = "";
    struct config *cfg = load(p, 7, err);
    cr_assert_not_null(cfg, "%s", err);
    cr_expect_eq(cfg->upload_max_bytes, (size_t)2 * 1024 * 1024 * 1024);
    cr_expect(cfg->debug);
    cr_expect_str_eq(cfg->public_url, "https://v.example");
    cr_expect(cfg->public_https);
    cr_expect_str_eq(cfg->db_name, "videoflix", "postgres default database name");
    cr_expect(cfg->email_use_tls);
    cr_expect_eq(cfg->sendfile_mode, CONFIG_SENDFILE_XACCEL);
    config_free(cfg);
}

Test(config, origin_allowed_includes_public_url_origin)
{
    const char *p[] = { KEY, "PUBLIC_URL=http://127.0.0.1:8000/",
                        "CORS_ALLOWED_ORIGINS=http://a:1" };
    char err[256] = "";
    struct config *cfg = load(p, 3, err);
    cr_assert_not_null(cfg, "%s", err);
    cr_expect(config_origin_allowed(cfg, "http://a:1"));
    cr_expect(config_origin_allowed(cfg, "http://127.0.0.1:8000"));
    cr_expect(!config_origin_allowed(cfg, "http://127.0.0.1:8000.evil"));
    cr_expect(!config_origin_allowed(cfg, "http://a:10"));
    cr_expect(!config_origin_allowed(cfg, "null"));
    cr_expect(!config_origin_allowed(cfg, NULL));
    config_free(cfg);
}

Test(config, env_file_syntax_and_environment_wins)
{
    char path[] = "/tmp/vf-test-env-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "# comment\n\nexport " KEY "\nDB_NAME='/tmp/a b.sqlite3'\n"
                "DEFAULT_FROM_EMAIL=\"Videoflix <no@x.y>\"\nEMAIL_PORT=2525 # inline\n"
                "FCGI_WORKERS=3\nUNKNOWN_DJANGO_SETTING=ignored\n");
    fclose(fp);
    setenv("FCGI_WORKERS", "7", 1);
    struct config *cfg = NULL;
    char err[256] = "";
    enum vf_err e = config_load(path, &cfg, err, sizeof(err));
    unsetenv("FCGI_WORKERS");
    unlink(path);
    cr_assert_eq(e, VF_OK, "%s", err);
    cr_expect_str_eq(cfg->db_name, "/tmp/a b.sqlite3");
    cr_expect_str_eq(cfg->default_from_email, "Videoflix <no@x.y>");
    cr_expect_eq(cfg->email_port, 2525);
    cr_expect_eq(cfg->fcgi_workers, 7, "environment must win over .env");
    config_free(cfg);
}

Test(config, explicit_env_file_must_exist)
{
    struct config *cfg = NULL;
    char err[256] = "";
    cr_expect_eq(config_load("/nonexistent/videoflix.env", &cfg, err, sizeof(err)), VF_ERR_CONFIG);
    cr_expect(strstr(err, "/nonexistent/videoflix.env") != NULL, "%s", err);
}

Test(config, dump_masks_secrets)
{
    const char *p[] = { KEY, "EMAIL_HOST_PASSWORD=hunter2hunter2", "DB_PASSWORD=pgsecret" };
    char err[256] = "", *buf = NULL;
    size_t len = 0;
    struct config *cfg = load(p, 3, err);
    cr_assert_not_null(cfg, "%s", err);
    FILE *fp = open_memstream(&buf, &len);
    config_dump(cfg, fp);
    fclose(fp);
    cr_expect(strstr(buf, "k3Jx9vQ2") == NULL);
    cr_expect(strstr(buf, "hunter2") == NULL);
    cr_expect(strstr(buf, "pgsecret") == NULL);
    cr_expect(strstr(buf, "SECRET_KEY=********") != NULL);
    cr_expect(strstr(buf, "FCGI_WORKERS=4") != NULL);
    free(buf);
    config_free(cfg);
}
