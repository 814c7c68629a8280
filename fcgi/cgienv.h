/* cgienv.h -- CGI/FastCGI parameters (REQUEST_METHOD, REQUEST_URI, HTTP_*...) to the HTTP model. */
#ifndef VF_CGIENV_H
#define VF_CGIENV_H

#include "http.h"

/* Value of NAME in a NULL-terminated "NAME=value" array; NULL when absent.  Borrowed. */
const char *cgienv_get(char *const *envp, const char *name);

/*
 * Build a request from the parameters a web server passes: the method; the target from
 * REQUEST_URI (as sent by the client), else SCRIPT_NAME + PATH_INFO + "?" QUERY_STRING;
 * HTTP_* as headers ("HTTP_ACCEPT_LANGUAGE" -> "accept-language"); CONTENT_TYPE and
 * CONTENT_LENGTH; REMOTE_ADDR.  Headers past HTTP_MAX_HEADERS are dropped and counted in
 * *dropped (may be NULL).  The body is not read (set body_read).  Returns NULL on
 * allocation failure; free with http_request_free().
 */
struct http_request *cgienv_request(char *const *envp, size_t *dropped);

#endif
