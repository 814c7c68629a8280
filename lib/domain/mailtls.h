/* mailtls.h -- implicit-TLS (SMTPS) relay on loopback for libESMTP, which only knows STARTTLS. */
#ifndef VF_MAILTLS_H
#define VF_MAILTLS_H

#include <stddef.h>

#include "error.h"

struct mailtls;

/*
 * Connect to host:port, complete a verified TLS handshake (system CA store, host
 * name checked) within timeout_ms, and relay one plain connection accepted on
 * 127.0.0.1:<mailtls_port()> to it from a thread.  VF_ERR_TEMPFAIL with a reason in
 * `err` when the server cannot be reached or verified.  Free with mailtls_stop().
 */
enum vf_err mailtls_start(const char *host, int port, int timeout_ms, struct mailtls **out,
                          char *err, size_t errlen);
int mailtls_port(const struct mailtls *t);
/* Stop the relay, close everything, free.  NULL-safe. */
void mailtls_stop(struct mailtls *t);

#endif
