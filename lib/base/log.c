/* log.c -- leveled, single-line, escape-safe logging to stderr. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *prog = "videoflix";
static enum config_log_level min_level = CONFIG_LOG_INFO;
static const char *request_id;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_init(const char *progname, enum config_log_level level)
{
    if (progname != NULL)
        prog = progname;
    min_level = level;
}

void
log_set_level(enum config_log_level level)
{
    min_level = level;
}

void
log_set_request_id(const char *id)
{
    request_id = id;
}

/* Format the message, escape control characters, write one line with a single write(2). */
static void vlog(enum config_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
vlog(enum config_log_level level, const char *fmt, va_list ap)
{
    char msg[2048], line[4096];
    size_t n = 0;
    struct tm tm;
    time_t now = time(NULL);

    if (level < min_level)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    gmtime_r(&now, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
    int k = snprintf(line + n, sizeof(line) - n, "%s %s[%ld] ", level_names[level], prog,
                     (long)getpid());
    if (k > 0)
        n += (size_t)k;
    if (request_id != NULL && request_id[0] != '\0') {
        k = snprintf(line + n, sizeof(line) - n, "req=%s ", request_id);
        if (k > 0)
            n += (size_t)k;
    }
    for (const unsigned char *p = (const unsigned char *)msg; *p != '\0'; p++) {
        if (n + 5 >= sizeof(line))
            break;
        if (*p < 0x20 || *p == 0x7f) {
            n += (size_t)snprintf(line + n, sizeof(line) - n, "\\x%02x", *p);
        } else {
            line[n++] = (char)*p;
        }
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

void
log_debug(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(CONFIG_LOG_DEBUG, fmt, ap);
    va_end(ap);
}

void
log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(CONFIG_LOG_INFO, fmt, ap);
    va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(CONFIG_LOG_WARN, fmt, ap);
    va_end(ap);
}

void
log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(CONFIG_LOG_ERROR, fmt, ap);
    va_end(ap);
}
