/* core.c -- videoflixctl commands of the core area: migrate, check-config. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "autoconf.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "datadir.h"
#include "media.h"

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

/* May the user with `uid` and groups `gids[n]` do `want` (R_OK|X_OK bits, as in a mode's
 * "other" triplet) on `path`?  The kernel's rule: owner bits, else group bits, else others. */
static bool
user_may(const char *path, uid_t uid, const gid_t *gids, int n, unsigned want, char *why,
         size_t len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, len, "%s: %s", path, strerror(errno));
        return false;
    }
    unsigned bits;
    if (uid == 0)
        return true;
    if (st.st_uid == uid) {
        bits = (st.st_mode >> 6) & 7;
    } else {
        bool member = false;
        for (int i = 0; i < n && !member; i++)
            member = gids[i] == st.st_gid;
        bits = member ? (st.st_mode >> 3) & 7 : st.st_mode & 7;
    }
    if ((bits & want) == want)
        return true;
    struct group *g = getgrgid(st.st_gid);
    snprintf(why, len, "%s (mode %04o, group %s)", path, (unsigned)(st.st_mode & 07777),
             g != NULL ? g->gr_name : "?");
    return false;
}

/* The permission model of lib/domain/media.h, seen from the web server's user: it must
 * read MEDIA_ROOT, hls/ and thumbnails/ (with what is published below them: the
 * directories' modes are those the app gives), and never uploads/ or staging/.  Prints one
 * line; returns 1 when the model does not hold. */
static int
check_media_permissions(const struct config *cfg, const char *web_user)
{
    struct passwd *pw = getpwnam(web_user);
    if (pw == NULL) {
        printf("media permissions: FAILED: no user %s (name the web server's user with "
               "--web-user)\n",
               web_user);
        return 1;
    }
    gid_t gids[256];
    int n = (int)(sizeof(gids) / sizeof(gids[0]));
    if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &n) < 0)
        n = 0;
    char path[4096], why[4200];
    static const enum media_dir readable[] = { MEDIA_HLS, MEDIA_THUMBNAILS };
    static const enum media_dir hidden[] = { MEDIA_UPLOADS, MEDIA_STAGING };
    if (!user_may(cfg->media_root, pw->pw_uid, gids, n, R_OK | X_OK, why, sizeof(why))) {
        printf("media permissions: FAILED: %s cannot read %s; make MEDIA_ROOT its group's "
               "(chgrp GROUP MEDIA_ROOT; chmod 2750 MEDIA_ROOT)\n",
               web_user, why);
        return 1;
    }
    for (size_t i = 0; i < sizeof(readable) / sizeof(readable[0]); i++) {
        media_dir_path(cfg->media_root, readable[i], path, sizeof(path));
        if (access(path, F_OK) == 0 &&
            !user_may(path, pw->pw_uid, gids, n, R_OK | X_OK, why, sizeof(why))) {
            printf("media permissions: FAILED: %s cannot read %s\n", web_user, why);
            return 1;
        }
    }
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
        media_dir_path(cfg->media_root, hidden[i], path, sizeof(path));
        if (access(path, F_OK) == 0 && pw->pw_uid != 0 &&
            user_may(path, pw->pw_uid, gids, n, X_OK, why, sizeof(why))) {
            printf("media permissions: FAILED: %s can enter %s (it must be 0700)\n", web_user,
                   path);
            return 1;
        }
    }
    printf("media permissions: ok (%s reads hls/ and thumbnails/, not uploads/ or staging/)\n",
           web_user);
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

    const char *web_user = "www-data";
    if (argc == 3 && strcmp(argv[1], "--web-user") == 0) {
        web_user = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: videoflixctl check-config [--web-user USER]\n");
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
    bad += check_media_permissions(cfg, web_user);
    char err[600];
    if (datadir_require(cfg, DATADIR_SCHEMA | DATADIR_PASSWORDS | DATADIR_TEMPLATES, err,
                        sizeof(err)) == VF_OK) {
        printf("data files: ok (%s)\n", cfg->data_dir);
    } else {
        printf("data files: FAILED: %s\n", err);
        bad++;
    }
    printf("%s\n", bad ? "configuration has problems" : "configuration ok");
    return bad ? 1 : 0;
}

const struct ctl_cmd ctl_core_cmds[] = {
    { "migrate", "migrate", "apply the missing database schema migrations", CTL_DB_CREATE,
      cmd_migrate, DATADIR_SCHEMA },
    { "check-config", "check-config [--web-user USER]",
      "print the configuration (secrets masked); check the database, schema, data files, "
      "MEDIA_ROOT and what the web server's user (default www-data) can read",
      0, cmd_check_config, 0 },
    { NULL, NULL, NULL, 0, NULL, 0 },
};
