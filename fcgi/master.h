/* master.h -- the prefork master of videoflix-fcgi: spawns, reaps, respawns and retires workers. */
#ifndef VF_MASTER_H
#define VF_MASTER_H

#include "config.h"

/* Exit status of a worker (and of the program) for a configuration error: the
 * master never respawns a worker that exited with it (nginx's convention). */
#define MASTER_EXIT_CONFIG 2

struct master_opts {
    const char *env_path; /* .env reloaded on SIGHUP (NULL: $VIDEOFLIX_ENV or ./.env) */
    int workers;          /* 0: cfg->fcgi_workers */
    int graceful_timeout; /* seconds between SIGTERM and SIGKILL on shutdown */
    int crash_threshold;  /* abnormal exits within crash_interval that pause respawning */
    int crash_interval;   /* seconds */
};

/*
 * Run the master loop on an already listening socket until SIGTERM/SIGINT, then stop
 * the workers gracefully.  SIGHUP reloads the configuration (keeping the old one when
 * the new one is invalid), starts fresh workers and retires the old ones.  `*cfg` may be
 * replaced on reload; the caller frees whatever *cfg points to afterwards.
 * Returns the process exit status: 0, or MASTER_EXIT_CONFIG when workers reported a
 * fatal configuration error.  In a worker process this function never returns.
 */
int master_run(struct config **cfg, int listen_fd, const struct master_opts *opts);

#endif
