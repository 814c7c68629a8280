/* schema.c -- GET /api/schema/: the OpenAPI description installed under VIDEOFLIX_DATA_DIR. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "routes.h"

#define DOC_MAX (4 * 1024 * 1024) /* a description larger than this is not ours */

/* The document in each format, read on first use and kept for the life of the worker (a
 * worker serves one request at a time: no lock).  The files are data of the installation,
 * changed only by an upgrade, which restarts the service.  Released by
 * schema_routes_release(). */
static struct doc {
    const char *file; /* below <data_dir>/schema/ */
    const char *content_type;
    char *text;
    size_t len;
} docs[] = {
    { "openapi.json", "application/json", NULL, 0 },
    { "openapi.yaml", "application/yaml; charset=utf-8", NULL, 0 },
};

void
schema_routes_release(void)
{
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        free(docs[i].text);
        docs[i].text = NULL;
        docs[i].len = 0;
    }
}

/* Read <data_dir>/schema/<d->file> into d (regular files only, at most DOC_MAX).  0 or -1
 * with errno. */
static int
doc_load(const char *data_dir, struct doc *d)
{
    char path[4096];
    struct stat st;
    if ((size_t)snprintf(path, sizeof(path), "%s/schema/%s", data_dir, d->file) >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > DOC_MAX) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    size_t len = (size_t)st.st_size, got = 0;
    char *buf = malloc(len);
    while (buf != NULL && got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (buf == NULL || got != len) {
        free(buf);
        errno = buf == NULL ? ENOMEM : EIO;
        return -1;
    }
    d->text = buf;
    d->len = len;
    return 0;
}

/* GET /api/schema/[?format=json|yaml] */
static void
schema(struct app *app, struct http_request *req, struct http_response *res)
{
    char fmt[8];
    const char *f = http_query(req, "format", fmt, sizeof(fmt));
    struct doc *d = &docs[0];
    if (f != NULL && strcmp(f, "yaml") == 0) {
        d = &docs[1];
    } else if (f != NULL && strcmp(f, "json") != 0) {
        json_field_error(res, "format", "Select a valid choice.");
        return;
    }
    if (d->text == NULL && doc_load(app->cfg->data_dir, d) != 0) {
        log_error("schema: %s/schema/%s: %s", app->cfg->data_dir, d->file, strerror(errno));
        json_error_reply(req, res, VF_ERR_IO);
        return;
    }
    if (http_body_set(res, d->content_type, d->text, d->len) != VF_OK) {
        json_error_reply(req, res, VF_ERR_NOMEM);
        return;
    }
    res->status = 200;
    http_header_set(res, "Cache-Control", "public, max-age=300");
}

const struct route schema_routes[] = {
    { HTTP_GET, "/api/schema/", schema, 0, ROUTE_AUTH_NONE },
    { 0, NULL, NULL, 0, ROUTE_AUTH_NONE },
};
