/* datadir.c -- find the data files a program needs at start-up, or say which one is missing. */
#include "autoconf.h"

#include "datadir.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mail.h"
#include "password.h"

/* At least one migration file NNN_name.sql in schema/<engine>/? */
static bool
schema_present(const struct config *cfg, char *path, size_t len, char *why, size_t whylen)
{
    snprintf(path, len, "%s/schema/%s", cfg->data_dir,
             cfg->db_engine == CONFIG_DB_POSTGRES ? "postgres" : "sqlite");
    DIR *d = opendir(path);
    if (d == NULL) {
        snprintf(why, whylen, "%s", strerror(errno));
        return false;
    }
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        found = n > 8 && e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
                strcmp(e->d_name + n - 4, ".sql") == 0;
    }
    closedir(d);
    if (!found)
        snprintf(why, whylen, "no migration files");
    return found;
}

/* The argon2id cost of DATADIR_PASSWORDS: set last, once every file is there, so that a
 * refused reload (SIGHUP) changes it only when nothing here failed. */
static enum vf_err
set_hash_cost(const struct config *cfg, char *err, size_t errlen)
{
    enum vf_err e = password_set_cost((unsigned)cfg->password_hash_memory_kib,
                                      (unsigned)cfg->password_hash_time);
    if (e == VF_ERR_CONFIG) {
        snprintf(err, errlen,
                 "PASSWORD_HASH_MEMORY_KIB=%d with PASSWORD_HASH_TIME=%d is below OWASP's "
                 "minimum for argon2id: at least %u KiB with %d passes",
                 cfg->password_hash_memory_kib, cfg->password_hash_time,
                 password_cost_floor_kib((unsigned)cfg->password_hash_time),
                 cfg->password_hash_time);
        return VF_ERR_CONFIG;
    }
    if (e != VF_OK) {
        snprintf(err, errlen, "PASSWORD_HASH_MEMORY_KIB=%d: cannot hash with that much memory",
                 cfg->password_hash_memory_kib);
        return VF_ERR_CONFIG;
    }
    return VF_OK;
}

enum vf_err
datadir_require(const struct config *cfg, unsigned needs, char *err, size_t errlen)
{
    char path[4096], why[512];

    if ((needs & DATADIR_SCHEMA) && !schema_present(cfg, path, sizeof(path), why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s (VIDEOFLIX_DATA_DIR=%s)", path, why, cfg->data_dir);
        return VF_ERR_CONFIG;
    }
    if (needs & DATADIR_PASSWORDS) {
        snprintf(path, sizeof(path), "%s/data/common-passwords.txt", cfg->data_dir);
        if (access(path, R_OK) != 0 || password_common_load(path) != VF_OK) {
            snprintf(err, errlen, "%s: %s (VIDEOFLIX_DATA_DIR=%s)", path,
                     errno != 0 ? strerror(errno) : "unreadable", cfg->data_dir);
            return VF_ERR_CONFIG;
        }
    }
    static const char *const api_docs[] = { "openapi.json", "openapi.yaml" };
    for (size_t i = 0; (needs & DATADIR_OPENAPI) && i < sizeof(api_docs) / sizeof(api_docs[0]);
         i++) {
        snprintf(path, sizeof(path), "%s/schema/%s", cfg->data_dir, api_docs[i]);
        if (access(path, R_OK) != 0) {
            snprintf(err, errlen, "%s: %s (VIDEOFLIX_DATA_DIR=%s)", path, strerror(errno),
                     cfg->data_dir);
            return VF_ERR_CONFIG;
        }
    }
    if ((needs & DATADIR_TEMPLATES) && mail_templates_check(cfg, why, sizeof(why)) != VF_OK) {
        snprintf(err, errlen, "%s (VIDEOFLIX_DATA_DIR=%s)", why, cfg->data_dir);
        return VF_ERR_CONFIG;
    }
    return (needs & DATADIR_PASSWORDS) ? set_hash_cost(cfg, err, errlen) : VF_OK;
}
