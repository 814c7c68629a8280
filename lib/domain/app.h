/* app.h -- the per-process context every handler receives. */
#ifndef VF_APP_H
#define VF_APP_H

#include "config.h"
#include "db.h"

/*
 * One per process, created after fork.  `cfg` is borrowed (immutable, global for
 * the process lifetime); `db` is owned by the process (NULL while the database is
 * unreachable); `hash_gate` is shared with the sibling processes.  State of one program's handlers
 * lives with those handlers, not here.
 */
struct procgate;

struct app {
    const struct config *cfg;
    struct db *db;
    /* Caps password hashing over every FastCGI worker (lib/base/procgate.h; the master's
     * shared memory); NULL = no cap (other programs, tests).  Borrowed. */
    struct procgate *hash_gate;
};

#endif
