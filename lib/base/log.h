/* log.h -- leveled logging to stderr with a per-request id. */
#ifndef VF_LOG_H
#define VF_LOG_H

#include "config.h"

/*
 * Lines look like: 2026-11-21T20:01:02Z info videoflix-fcgi[1234] req=3f9c... message
 * CR, LF and other control characters in the message are escaped, so input never
 * forges a log line.  Never pass a password, token, cookie or link.
 */
void log_init(const char *progname, enum config_log_level level);
void log_set_level(enum config_log_level level);
/* Borrowed pointer kept until the next call; NULL clears it. */
void log_set_request_id(const char *request_id);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
