/* responder.h -- one FastCGI worker: FastCGI records in, the HTTP model through the router, bytes
 * out. */
#ifndef VF_RESPONDER_H
#define VF_RESPONDER_H

#include <sys/types.h>

#include "config.h"

struct procgate;

/*
 * Serve requests on `listen_fd` (shared with the other workers) until SIGTERM, SIGINT,
 * SIGQUIT or SIGUSR1 (the in-flight request always completes first), until
 * cfg->fcgi_max_requests requests were served (recycling), or until the master
 * `master_pid` is gone.  Opens its own database connection.  `hash_gate` (the master's, may
 * be NULL) caps password hashing over all workers.  Returns the exit status for the worker
 * process: 0, or MASTER_EXIT_CONFIG for a fatal configuration error.
 */
int responder_run(const struct config *cfg, int listen_fd, pid_t master_pid,
                  struct procgate *hash_gate);

#endif
