/* app.h -- the per-process context every handler receives. */
#ifndef VF_APP_H
#define VF_APP_H

#include "config.h"
#include "db.h"

/*
 * One per process, created after fork.  `cfg` is borrowed (immutable, global for
 * the process lifetime); `db` and `catalogue` are owned by the process.
 */
struct app {
    const struct config *cfg;
    struct db *db;
    void *catalogue; /* per-process catalogue cache (lib/catalogue.c), NULL until used */
};

#endif
