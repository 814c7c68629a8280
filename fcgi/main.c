/* main.c -- videoflix-fcgi: options, the listening socket, then the prefork master. */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "datadir.h"
#include "db.h"
#include "log.h"
#include "master.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define SD_LISTEN_FDS_START 3

static const char usage[] =
    "usage: videoflix-fcgi [options]\n"
    "\n"
    "Prefork FastCGI server of Videoflix.  Without --socket it serves a listening socket\n"
    "inherited on fd 0 (spawn-fcgi, lighttpd bin-path) or from systemd (LISTEN_FDS).\n"
    "\n"
    "  -s, --socket PATH|HOST:PORT  bind a unix socket path or a TCP address\n"
    "  -M, --socket-mode MODE       permissions of a unix socket (octal, default 0660)\n"
    "  -b, --backlog N              listen backlog (default 1024)\n"
    "  -n, --workers N              worker processes (default FCGI_WORKERS)\n"
    "  -e, --env-file PATH          .env file (default $VIDEOFLIX_ENV or ./.env)\n"
    "  -P, --pidfile PATH           write the master's pid to PATH\n"
    "  -T, --graceful-timeout SECS  wait this long for in-flight requests on stop (default 30)\n"
    "  -h, --help                   this text\n"
    "  -V, --version                print the version\n"
    "\n"
    "Signals: TERM/INT stop gracefully, HUP reloads the configuration and replaces the\n"
    "workers, a worker exits after FCGI_MAX_REQUESTS requests and is replaced.\n";

static int fail_config(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "videoflix-fcgi: <message>" on stderr; returns -1 (no socket). */
static int
fail_config(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "videoflix-fcgi: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

/* A unix socket path: refuse to clobber a live socket or a non-socket file. */
static int
bind_unix(const char *path, mode_t mode, int backlog)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;

    if (strlen(path) >= sizeof(sa.sun_path))
        return fail_config("socket path too long: %s", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail_config("socket: %s", strerror(errno));
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            close(fd);
            return fail_config("%s exists and is not a socket", path);
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(fd);
            return fail_config("%s is in use by a running server", path);
        }
        close(fd);
        unlink(path); /* stale, left by a crash */
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
            return fail_config("socket: %s", strerror(errno));
    }
    mode_t old = umask(0777 & ~mode);
    int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r != 0 || chmod(path, mode) != 0 || listen(fd, backlog) != 0) {
        fprintf(stderr, "videoflix-fcgi: %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int
bind_tcp(const char *spec, int backlog)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *ai = NULL;

    if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
        return fail_config("bad socket address: %s", spec);
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    /* [::1]:9000 */
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = '\0';
        h++;
    }
    int gai = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai);
    if (gai != 0)
        return fail_config("bad socket address: %s", gai_strerror(gai));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
        fprintf(stderr, "videoflix-fcgi: %s: %s\n", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static bool
is_listening_socket(int fd)
{
    int v = 0;
    socklen_t len = sizeof(v);
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v != 0;
}

/* systemd socket activation (LISTEN_PID/LISTEN_FDS), else a socket on fd 0. */
static int
inherited_socket(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    if (pid != NULL && fds != NULL && strtol(pid, NULL, 10) == (long)getpid() &&
        strtol(fds, NULL, 10) >= 1) {
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
        if (is_listening_socket(SD_LISTEN_FDS_START))
            return SD_LISTEN_FDS_START;
        return fail_config("LISTEN_FDS is set but fd %s is not a listening socket", "3");
    }
    if (is_listening_socket(0))
        return 0;
    return fail_config("%s", "no socket: give --socket, or start under spawn-fcgi, a web server's "
                             "bin-path or systemd socket activation");
}

static bool
parse_int(const char *s, int base, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, base);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "socket", required_argument, NULL, 's' },
        { "socket-mode", required_argument, NULL, 'M' },
        { "backlog", required_argument, NULL, 'b' },
        { "workers", required_argument, NULL, 'n' },
        { "env-file", required_argument, NULL, 'e' },
        { "pidfile", required_argument, NULL, 'P' },
        { "graceful-timeout", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *sock = NULL, *pidfile = NULL;
    struct master_opts opts = { .graceful_timeout = 30,
                                .crash_threshold = 10,
                                .crash_interval = 10 };
    long mode = 0660, backlog = 1024, v;
    int c;

    while ((c = getopt_long(argc, argv, "s:M:b:n:e:P:T:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            sock = optarg;
            break;
        case 'M':
            if (!parse_int(optarg, 8, 0, 0777, &mode)) {
                fprintf(stderr, "videoflix-fcgi: bad --socket-mode: %s\n", optarg);
                return MASTER_EXIT_CONFIG;
            }
            break;
        case 'b':
            if (!parse_int(optarg, 10, 1, 65535, &backlog)) {
                fprintf(stderr, "videoflix-fcgi: bad --backlog: %s\n", optarg);
                return MASTER_EXIT_CONFIG;
            }
            break;
        case 'n':
            if (!parse_int(optarg, 10, 1, 256, &v)) {
                fprintf(stderr, "videoflix-fcgi: bad --workers (1..256): %s\n", optarg);
                return MASTER_EXIT_CONFIG;
            }
            opts.workers = (int)v;
            break;
        case 'e':
            opts.env_path = optarg;
            break;
        case 'P':
            pidfile = optarg;
            break;
        case 'T':
            if (!parse_int(optarg, 10, 0, 86400, &v)) {
                fprintf(stderr, "videoflix-fcgi: bad --graceful-timeout: %s\n", optarg);
                return MASTER_EXIT_CONFIG;
            }
            opts.graceful_timeout = (int)v;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        case 'V':
            puts("videoflix-fcgi " PACKAGE_VERSION);
            return 0;
        default:
            fputs(usage, stderr);
            return MASTER_EXIT_CONFIG;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return MASTER_EXIT_CONFIG;
    }

    /* Nothing we create is for other users: the database, uploads and staging stay ours;
     * what the web server reads gets its modes explicitly (lib/domain/media.h). */
    umask(027);
    struct config *cfg = NULL;
    char err[512];
    if (config_load(opts.env_path, &cfg, err, sizeof(err)) != VF_OK) {
        fprintf(stderr, "videoflix-fcgi: configuration error: %s\n", err);
        return MASTER_EXIT_CONFIG;
    }
    log_init("videoflix-fcgi", cfg->log_level);
    /* Fail closed: the password list (loaded here, before the workers fork), the schema
     * (health compares it with the database), the OpenAPI description (GET /api/schema/)
     * and an existing SQLite database. */
    if (datadir_require(cfg, DATADIR_SCHEMA | DATADIR_PASSWORDS | DATADIR_OPENAPI, err,
                        sizeof(err)) != VF_OK ||
        db_require(cfg, err, sizeof(err)) != VF_OK) {
        fprintf(stderr, "videoflix-fcgi: %s\n", err);
        config_free(cfg);
        return MASTER_EXIT_CONFIG;
    }

    bool is_unix = sock != NULL && (strchr(sock, '/') != NULL || strchr(sock, ':') == NULL);
    int fd = sock == NULL ? inherited_socket()
             : is_unix    ? bind_unix(sock, (mode_t)mode, (int)backlog)
                          : bind_tcp(sock, (int)backlog);
    if (fd < 0) {
        config_free(cfg);
        return MASTER_EXIT_CONFIG;
    }
    if (pidfile != NULL) {
        FILE *fp = fopen(pidfile, "w");
        if (fp == NULL || fprintf(fp, "%d\n", (int)getpid()) < 0 || fclose(fp) != 0) {
            fprintf(stderr, "videoflix-fcgi: %s: %s\n", pidfile, strerror(errno));
            config_free(cfg);
            return MASTER_EXIT_CONFIG;
        }
    }

    int rc = master_run(&cfg, fd, &opts);

    close(fd);
    if (is_unix)
        unlink(sock);
    if (pidfile != NULL)
        unlink(pidfile);
    config_free(cfg);
    return rc;
}
