/* cgienv.c -- CGI/FastCGI parameters (REQUEST_METHOD, REQUEST_URI, HTTP_*...) to the HTTP model. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgienv.h"

const char *
cgienv_get(char *const *envp, const char *name)
{
    size_t len = strlen(name);

    for (char *const *e = envp; *e != NULL; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

/* The request target; caller frees. */
static char *
target_of(char *const *envp)
{
    const char *uri = cgienv_get(envp, "REQUEST_URI");
    if (uri != NULL && *uri != '\0')
        return strdup(uri);

    const char *script = cgienv_get(envp, "SCRIPT_NAME");
    const char *info = cgienv_get(envp, "PATH_INFO");
    const char *qs = cgienv_get(envp, "QUERY_STRING");
    char *t = NULL;
    if (asprintf(&t, "%s%s%s%s", script ? script : "", info ? info : "", qs && *qs ? "?" : "",
                 qs && *qs ? qs : "") < 0)
        return NULL;
    if (*t == '\0') {
        free(t);
        t = strdup("/");
    }
    return t;
}

struct http_request *
cgienv_request(char *const *envp, size_t *dropped)
{
    const char *method = cgienv_get(envp, "REQUEST_METHOD");
    char *target = target_of(envp);
    struct http_request *req = NULL;
    size_t ndropped = 0;

    if (dropped != NULL)
        *dropped = 0;
    if (target != NULL)
        req = http_request_new(method && *method ? method : "GET", target, NULL, 0, NULL, 0);
    free(target);
    if (req == NULL)
        return NULL;

    for (char *const *e = envp; *e != NULL; e++) {
        const char *eq = strchr(*e, '=');
        const char *hname = NULL;
        char name[256];

        if (eq == NULL)
            continue;
        if (strncmp(*e, "HTTP_", 5) == 0 && eq - *e > 5 && (size_t)(eq - *e - 5) < sizeof(name)) {
            memcpy(name, *e + 5, (size_t)(eq - *e - 5));
            name[eq - *e - 5] = '\0';
            /* Never trust a client-sent copy of what the server passes itself. */
            if (strcmp(name, "CONTENT_TYPE") == 0 || strcmp(name, "CONTENT_LENGTH") == 0)
                continue;
            hname = name;
        } else if (strncmp(*e, "CONTENT_TYPE=", 13) == 0 && eq[1] != '\0') {
            hname = "content-type";
        } else if (strncmp(*e, "CONTENT_LENGTH=", 15) == 0 && eq[1] != '\0') {
            hname = "content-length";
        }
        if (hname == NULL)
            continue;
        enum vf_err err = http_request_add_header(req, hname, eq + 1);
        if (err == VF_ERR_TOOBIG) {
            ndropped++;
        } else if (err != VF_OK) {
            http_request_free(req);
            return NULL;
        }
    }
    if (dropped != NULL)
        *dropped = ndropped;

    const char *addr = cgienv_get(envp, "REMOTE_ADDR");
    if (addr != NULL) {
        char *copy = strdup(addr);
        if (copy == NULL) {
            http_request_free(req);
            return NULL;
        }
        free(req->remote_addr);
        req->remote_addr = copy;
    }
    return req;
}
