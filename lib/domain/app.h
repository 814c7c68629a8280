/* app.h -- the per-process context every handler receives. */
#ifndef VF_APP_H
#define VF_APP_H

#include "config.h"
#include "db.h"

/*
 * One per process, created after fork.  `cfg` is borrowed (immutable, global for
 * the process lifetime); `db` is owned by the process (NULL while the database is
 * unreachable).  State of one program's handlers lives with those handlers, not here.
 */
struct app {
    const struct config *cfg;
    struct db *db;
};

#endif
