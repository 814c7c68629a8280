/* fuzz_mail.c -- libFuzzer target over mail job payloads; oracle: a rendered mail is a
 * well-formed message.
 *
 * Input: the JSON payload of a "mail" job.  mail_render either refuses it (no output) or
 * produces a message whose lines all end in CRLF, are at most 998 octets, contain no NUL,
 * whose header block has exactly one From, To, Subject and Message-ID, and whose To is
 * the payload's address (no header injection). */
#define _POSIX_C_SOURCE 200809L /* strndup */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "mail.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char data_dir[] = "VIDEOFLIX_DATA_DIR=" VF_SRCDIR;
    const char *pairs[] = {
        "SECRET_KEY=Qm9rZ2VzIGZ1enplcyBtYWlsIHBheWxvYWRzIDIwMjY",
        "FRONTEND_URL=https://app.example.com",
        data_dir,
        "LOG_LEVEL=error",
    };
    char err[256];
    if (config_load_pairs(pairs, 4, &cfg, err, sizeof(err)) != VF_OK) {
        fprintf(stderr, "fuzz_mail: configuration: %s\n", err);
        abort();
    }
    log_init("fuzz_mail", CONFIG_LOG_ERROR);
    return 0;
}

static size_t
count_header(const char *msg, size_t head_len, const char *name)
{
    size_t n = 0, nl = strlen(name);
    for (const char *p = msg; p < msg + head_len; p = strstr(p, "\r\n") + 2)
        if (strncmp(p, name, nl) == 0 && p[nl] == ':')
            n++;
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *payload = strndup((const char *)data, size); /* C string: up to the first NUL */
    if (payload == NULL)
        return 0;
    char *msg = NULL, *to = NULL, err[256];
    if (mail_render(cfg, payload, 1, &msg, &to, err, sizeof(err)) == VF_OK) {
        size_t len = strlen(msg), col = 0;
        for (size_t i = 0; i < len; i++) {
            if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
                abort(); /* bare LF */
            if (msg[i] == '\r' && msg[i + 1] != '\n')
                abort(); /* bare CR */
            col = msg[i] == '\n' ? 0 : col + 1;
            if (col > 999)
                abort(); /* line over 998 octets */
        }
        const char *end = strstr(msg, "\r\n\r\n");
        if (end == NULL)
            abort();
        size_t head = (size_t)(end - msg) + 2;
        if (count_header(msg, head, "From") != 1 || count_header(msg, head, "To") != 1 ||
            count_header(msg, head, "Subject") != 1 || count_header(msg, head, "Message-ID") != 1 ||
            count_header(msg, head, "Bcc") != 0)
            abort();
        const char *t = strstr(msg, "\r\nTo: ");
        if (t == NULL || strncmp(t + 6, to, strlen(to)) != 0 || t[6 + strlen(to)] != '\r')
            abort();
    }
    free(msg);
    free(to);
    free(payload);
    return 0;
}
