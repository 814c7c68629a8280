/* core.c -- videoflixctl commands of the core area: migrate, check-config. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static void
print_applied(int version, const char *name, void *arg)
{
    (void)arg;
    printf("applied %03d_%s\n", version, name);
    fflush(stdout);
}

/* videoflixctl migrate: apply the missing schema migrations of DB_ENGINE. */
static int
cmd_migrate(struct ctl_ctx *ctx, int argc, char **argv)
{
    char dir[4096];
    int applied = 0;

    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: videoflixctl migrate\n");
        return 2;
    }
    if ((size_t)snprintf(dir, sizeof(dir), "%s/schema", ctx->app.cfg->data_dir) >= sizeof(dir)) {
        return ctl_fail("VIDEOFLIX_DATA_DIR is too long");
    }
    enum vf_err rc = db_migrate_report(ctx->app.db, dir, print_applied, NULL, &applied);
    if (rc != VF_OK) {
        fprintf(stderr, "videoflixctl migrate: failed: %s (%s; see the log above)\n",
                vf_strerror(rc), dir);
        return 1;
    }
    if (applied == 0)
        printf("up to date\n");
    else
        printf("%d migration%s applied\n", applied, applied == 1 ? "" : "s");
    return 0;
}

/* Can we create a file in `dir`?  A real file, not access(2): it also catches a
 * read-only mount and a full inode table. */
static bool
dir_writable(const char *dir, char *why, size_t len)
{
    char path[4096];

    if ((size_t)snprintf(path, sizeof(path), "%s/.videoflix-check-XXXXXX", dir) >= sizeof(path)) {
        snprintf(why, len, "path too long");
        return false;
    }
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(why, len, "%s", strerror(errno));
        return false;
    }
    close(fd);
    unlink(path);
    return true;
}

/* Are all migrations applied?  Prints one line; returns 1 when not (or unknown). */
static int
check_schema(struct db *db, const struct config *cfg)
{
    char dir[4096];
    int pending = 0;

    snprintf(dir, sizeof(dir), "%s/schema", cfg->data_dir);
    enum vf_err rc = db_migrations_pending(db, dir, &pending);
    if (rc != VF_OK) {
        printf("schema: FAILED (%s): %s\n", dir, vf_strerror(rc));
        return 1;
    }
    if (pending > 0) {
        printf("schema: FAILED: %d migration%s pending: run videoflixctl migrate\n", pending,
               pending == 1 ? "" : "s");
        return 1;
    }
    printf("schema: ok (up to date)\n");
    return 0;
}

/* videoflixctl check-config: print the settings (secrets masked), then check that the
 * database answers, its schema is up to date and MEDIA_ROOT is writable. */
static int
cmd_check_config(struct ctl_ctx *ctx, int argc, char **argv)
{
    const struct config *cfg = ctx->app.cfg;
    char why[256];
    int bad = 0;

    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: videoflixctl check-config\n");
        return 2;
    }
    config_dump(cfg, stdout);
    printf("\n");

    struct db *db = NULL;
    enum vf_err rc = db_open(cfg, &db);
    if (rc == VF_OK)
        rc = db_ping(db);
    if (rc == VF_OK) {
        printf("database: ok (%s %s)\n",
               cfg->db_engine == CONFIG_DB_POSTGRES ? "postgres" : "sqlite", cfg->db_name);
        bad += check_schema(db, cfg);
    } else {
        printf("database: FAILED (%s %s): %s%s\n",
               cfg->db_engine == CONFIG_DB_POSTGRES ? "postgres" : "sqlite", cfg->db_name,
               vf_strerror(rc), db != NULL ? "" : " (see the log above)");
        bad++;
    }
    db_close(db);

    if (dir_writable(cfg->media_root, why, sizeof(why))) {
        printf("media root: ok (%s writable)\n", cfg->media_root);
    } else {
        printf("media root: FAILED (%s): %s\n", cfg->media_root, why);
        bad++;
    }
    printf("%s\n", bad ? "configuration has problems" : "configuration ok");
    return bad ? 1 : 0;
}

const struct ctl_cmd ctl_core_cmds[] = {
    { "migrate", "migrate", "apply the missing database schema migrations", 1, cmd_migrate },
    { "check-config", "check-config",
      "print the configuration (secrets masked), check the database, schema and MEDIA_ROOT", 0,
      cmd_check_config },
    { NULL, NULL, NULL, 0, NULL },
};
