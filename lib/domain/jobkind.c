/* jobkind.c -- the child side of the worker's pipe protocol (progress/result/error lines). */
#include "autoconf.h"

#include "jobkind.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write all of buf; one line per write() when it fits PIPE_BUF, so lines never interleave. */
static int
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* "<word> <text>\n" with CR, LF and other control characters of text replaced. */
static int
write_line(int fd, const char *word, const char *text)
{
    size_t wl = strlen(word), tl = strlen(text), len = wl + tl + 2;
    char *line = malloc(len + 1);
    if (line == NULL)
        return -1;
    snprintf(line, len + 1, "%s %s\n", word, text);
    for (size_t i = wl + 1; i < wl + 1 + tl; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c == 0x7f)
            line[i] = ' ';
    }
    int rc = write_all(fd, line, len);
    free(line);
    return rc;
}

int
job_report_progress(int out_fd, int percent)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "%d", percent < 0 ? 0 : percent > 100 ? 100 : percent);
    return write_line(out_fd, "progress", buf);
}

int
job_report_error(int out_fd, const char *reason)
{
    return write_line(out_fd, "error", reason != NULL ? reason : "unknown error");
}

int
job_report_result(int out_fd, const char *json)
{
    return write_line(out_fd, "result", json != NULL ? json : "null");
}
