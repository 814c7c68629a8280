/* datadir.h -- the data files each program needs, checked at start-up (fail closed). */
#ifndef VF_DATADIR_H
#define VF_DATADIR_H

#include <stddef.h>

#include "config.h"
#include "error.h"

/* What a program reads from VIDEOFLIX_DATA_DIR. */
enum datadir_need {
    DATADIR_SCHEMA = 1u << 0,    /* schema/<DB_ENGINE>/NNN_name.sql (migrate, health) */
    DATADIR_PASSWORDS = 1u << 1, /* data/common-passwords.txt, loaded here (password policy);
                                    also sets the argon2id cost (password_set_cost) */
    DATADIR_TEMPLATES = 1u << 2, /* data/templates/<mail>.{txt,html} (the worker's mail) */
    DATADIR_OPENAPI = 1u << 3,   /* schema/openapi.{json,yaml} (GET /api/schema/) */
};

/*
 * Check every file of `needs` (a mask of enum datadir_need) under cfg->data_dir, loading the
 * common-password list and setting the password hash cost (PASSWORD_HASH_MEMORY_KIB,
 * PASSWORD_HASH_TIME: refused below OWASP's minimum) for DATADIR_PASSWORDS.  VF_OK, or
 * VF_ERR_CONFIG with one line in `err` naming the file, why it failed and VIDEOFLIX_DATA_DIR: the
 * caller refuses to start with it. A missing file never weakens a check.
 */
enum vf_err datadir_require(const struct config *cfg, unsigned needs, char *err, size_t errlen);

#endif
