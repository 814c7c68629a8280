/* config.h -- the immutable configuration, parsed once from .env and the environment. */
#ifndef VF_CONFIG_H
#define VF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

enum config_db_engine { CONFIG_DB_SQLITE = 0, CONFIG_DB_POSTGRES };
enum config_sendfile {
    CONFIG_SENDFILE_NONE = 0,
    CONFIG_SENDFILE_XSENDFILE,
    CONFIG_SENDFILE_XACCEL
};
enum config_log_level { CONFIG_LOG_DEBUG = 0, CONFIG_LOG_INFO, CONFIG_LOG_WARN, CONFIG_LOG_ERROR };

#define CONFIG_MAX_ORIGINS 16

/*
 * Every setting the programs read.  Names follow the Django Videoflix .env so an
 * existing file carries over; README.md and .env.example document each one.
 * Strings are owned by the struct and never NULL unless stated ("" when unset).
 * Durations are in seconds, sizes in bytes.
 */
struct config {
    /* security */
    char *secret_key;                /* SECRET_KEY (required, >= 32 bytes) */
    bool debug;                      /* DEBUG (default false) */
    enum config_log_level log_level; /* LOG_LEVEL debug|info|warn|error (default info) */
    int password_hash_memory_kib;    /* PASSWORD_HASH_MEMORY_KIB argon2id m (default 19456) */
    int password_hash_time;          /* PASSWORD_HASH_TIME argon2id t (default 2); the pair is
                                        checked against OWASP's minimum by password_set_cost() */

    /* database */
    enum config_db_engine db_engine; /* DB_ENGINE sqlite|postgres (default sqlite) */
    char *db_name;     /* DB_NAME: SQLite path (default var/videoflix.sqlite3) or PG database */
    char *db_user;     /* DB_USER */
    char *db_password; /* DB_PASSWORD */
    char *db_host;     /* DB_HOST (default localhost; a path means a unix socket dir) */
    int db_port;       /* DB_PORT (default 5432) */
    int db_busy_timeout_ms; /* DB_BUSY_TIMEOUT_MS (default 5000, SQLite) */

    /* files and URLs */
    char *media_root;      /* MEDIA_ROOT (default var/media) */
    char *data_dir;        /* VIDEOFLIX_DATA_DIR: schema/, templates (default $pkgdatadir) */
    char *public_url;      /* PUBLIC_URL (default http://127.0.0.1:8000), no trailing slash */
    char *frontend_url;    /* FRONTEND_URL (default http://127.0.0.1:5500), no trailing slash */
    bool public_https;     /* derived: PUBLIC_URL starts with https:// (Secure cookies) */
    size_t n_cors_origins; /* CORS_ALLOWED_ORIGINS, comma separated */
    char *cors_origins[CONFIG_MAX_ORIGINS];

    /* mail */
    char *email_host;         /* EMAIL_HOST (default localhost) */
    int email_port;           /* EMAIL_PORT (default 587) */
    char *email_user;         /* EMAIL_HOST_USER */
    char *email_password;     /* EMAIL_HOST_PASSWORD */
    bool email_use_tls;       /* EMAIL_USE_TLS (STARTTLS, default false) */
    bool email_use_ssl;       /* EMAIL_USE_SSL (implicit TLS, default false) */
    char *default_from_email; /* DEFAULT_FROM_EMAIL (default "Videoflix <noreply@localhost>") */
    int email_timeout;        /* EMAIL_TIMEOUT (default 10) */

    /* tokens */
    int access_token_lifetime;  /* ACCESS_TOKEN_LIFETIME (default 1800) */
    int refresh_token_lifetime; /* REFRESH_TOKEN_LIFETIME (default 86400) */
    bool rotate_refresh_tokens; /* ROTATE_REFRESH_TOKENS (default true) */
    int password_reset_timeout; /* PASSWORD_RESET_TIMEOUT (default 86400) */

    /* rate limits: attempts per window */
    int ratelimit_login;          /* RATELIMIT_LOGIN (default 10 per window) */
    int ratelimit_register;       /* RATELIMIT_REGISTER (default 10) */
    int ratelimit_password_reset; /* RATELIMIT_PASSWORD_RESET (default 5) */
    int ratelimit_window;         /* RATELIMIT_WINDOW (default 900) */

    /* FastCGI responder */
    int fcgi_workers;              /* FCGI_WORKERS (default 4) */
    int fcgi_max_requests;         /* FCGI_MAX_REQUESTS (default 10000; 0 = never recycle) */
    char *metrics_allow;           /* METRICS_ALLOW: addresses/CIDRs that may GET /metrics
                                      (default 127.0.0.1,::1) */
    size_t upload_max_bytes;       /* UPLOAD_MAX_BYTES (default 4 GiB) */
    size_t json_max_bytes;         /* JSON_MAX_BYTES (default 65536) */
    int64_t min_free_disk_bytes;   /* MIN_FREE_DISK_BYTES (default 1 GiB): uploads refused below */
    int password_hash_concurrency; /* PASSWORD_HASH_CONCURRENCY: argon2id runs at once over all
                                      workers (default 0 = half of the workers, at least 1) */

    /* media delivery */
    enum config_sendfile
        sendfile_mode;       /* SENDFILE_MODE x-sendfile|x-accel-redirect|none (default none) */
    char *xaccel_prefix;     /* XACCEL_PREFIX (default /protected-hls) */
    char *media_signing_key; /* MEDIA_SIGNING_KEY: shared with the web server (default: none,
                                unsigned) */
    int segment_url_ttl;     /* SEGMENT_URL_TTL (default 300) */
    int hls_max_age;         /* HLS_CACHE_MAX_AGE (default 86400) */

    /* jobs and transcoding */
    int transcode_concurrency; /* TRANSCODE_CONCURRENCY (default 1) */
    int mail_concurrency;      /* MAIL_CONCURRENCY (default 2) */
    int job_lease_seconds;     /* JOB_LEASE_SECONDS (default 60) */
    int job_max_attempts;      /* JOB_MAX_ATTEMPTS (default 5) */
    int job_retry_delay;       /* JOB_RETRY_DELAY first retry backoff (default 10) */
    int job_retry_max_delay;   /* JOB_RETRY_MAX_DELAY backoff cap (default 3600) */
    int mail_retry_window;     /* MAIL_RETRY_WINDOW: mail is retried this long after it was
                                  queued, however many attempts that takes (default 86400) */
    int mail_retry_max_delay;  /* MAIL_RETRY_MAX_DELAY: mail backoff cap (default 900) */
    int worker_shutdown_grace; /* WORKER_SHUTDOWN_GRACE SIGTERM wait for children (default 30) */
    int hls_segment_seconds;   /* HLS_SEGMENT_SECONDS (default 4) */
    int transcode_timeout;     /* TRANSCODE_TIMEOUT wall clock (default 7200) ... */
    int transcode_timeout_per_second; /* ... plus this per second of source (default 10) */
    int transcode_stall_timeout; /* TRANSCODE_STALL_TIMEOUT no-progress watchdog (default 120) */
    int x264_threads;            /* X264_THREADS (default 0 = auto) */

    /* videoflixctl createsuperuser, non-interactive when both are set */
    char *superuser_email;    /* VIDEOFLIX_SUPERUSER_EMAIL */
    char *superuser_password; /* VIDEOFLIX_SUPERUSER_PASSWORD (a secret: masked in dumps) */
};

/*
 * Load the configuration: first the .env file at `env_path` (NULL: $VIDEOFLIX_ENV,
 * else ".env" in the working directory; a missing file is fine), then the process
 * environment, which wins.  Every value is validated; on failure `*out` is NULL,
 * VF_ERR_CONFIG is returned and `errbuf` holds one line naming the variable.
 * The caller owns `*out` and frees it with config_free().
 */
enum vf_err config_load(const char *env_path, struct config **out, char *errbuf, size_t errlen);

/* Load from an explicit list of "KEY=VALUE" strings only (tests); same rules. */
enum vf_err config_load_pairs(const char *const *pairs, size_t n, struct config **out, char *errbuf,
                              size_t errlen);

/* NULL-safe. */
void config_free(struct config *cfg);

/* True if `origin` is one of CORS_ALLOWED_ORIGINS or the origin of PUBLIC_URL. */
bool config_origin_allowed(const struct config *cfg, const char *origin);

/* Print every setting (secrets masked) as KEY=VALUE lines; used by `videoflixctl check-config`. */
void config_dump(const struct config *cfg, FILE *fp);

#endif
