/* main.c -- videoflixctl: load the configuration, open the database if needed, dispatch. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "datadir.h"
#include "db.h"
#include "log.h"

static const struct ctl_cmd *const tables[] = {
    ctl_core_cmds, ctl_account_cmds, ctl_job_cmds, ctl_video_cmds, ctl_transcode_cmds, NULL,
};

static void
usage(FILE *fp)
{
    fprintf(fp, "usage: videoflixctl [-e ENVFILE] COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t t = 0; tables[t] != NULL; t++)
        for (const struct ctl_cmd *c = tables[t]; c->name != NULL; c++)
            fprintf(fp, "  %-34s %s\n", c->usage, c->help);
}

int
ctl_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("videoflixctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static bool
is_help_flag(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

static const struct ctl_cmd *
find(const char *name)
{
    for (size_t t = 0; tables[t] != NULL; t++)
        for (const struct ctl_cmd *c = tables[t]; c->name != NULL; c++)
            if (strcmp(c->name, name) == 0)
                return c;
    return NULL;
}

int
main(int argc, char **argv)
{
    const char *env_path = NULL;
    int i = 1;

    if (i + 1 < argc && strcmp(argv[i], "-e") == 0) {
        env_path = argv[i + 1];
        i += 2;
    }
    if (i >= argc || is_help_flag(argv[i]) || (strcmp(argv[i], "help") == 0 && i + 1 >= argc)) {
        usage(i >= argc ? stderr : stdout);
        return i >= argc ? 2 : 0;
    }
    /* "help COMMAND" and "COMMAND --help" show that command's usage without running it
     * (a prompting command would otherwise wait for input or fail on its argument). */
    bool help = strcmp(argv[i], "help") == 0; /* a COMMAND follows: checked above */
    if (help)
        i++;
    const struct ctl_cmd *cmd = find(argv[i]);
    if (cmd == NULL) {
        fprintf(stderr, "videoflixctl: unknown command '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    if (help || (i + 1 < argc && is_help_flag(argv[i + 1]))) {
        printf("usage: videoflixctl [-e ENVFILE] %s\n  %s\n", cmd->usage, cmd->help);
        return 0;
    }

    /* Nothing we create is for other users: the database, uploads and staging stay ours;
     * what the web server reads gets its modes explicitly (lib/domain/media.h). */
    umask(027);
    char err[512];
    struct config *cfg = NULL;
    if (config_load(env_path, &cfg, err, sizeof(err)) != VF_OK) {
        return ctl_fail("configuration: %s", err);
    }
    log_init("videoflixctl", cfg->log_level);

    struct ctl_ctx ctx = { .app = { .cfg = cfg, .db = NULL } };
    if (cmd->needs_data != 0 && datadir_require(cfg, cmd->needs_data, err, sizeof(err)) != VF_OK) {
        config_free(cfg);
        return ctl_fail("%s", err);
    }
    enum vf_err dbe = VF_OK;
    if (cmd->needs_db == CTL_DB_CREATE)
        dbe = db_open_create(cfg, &ctx.app.db);
    else if (cmd->needs_db)
        dbe = db_open(cfg, &ctx.app.db);
    if (dbe != VF_OK) {
        fprintf(stderr, "videoflixctl: cannot open the database (see the log above)\n");
        config_free(cfg);
        return 1;
    }
    int rc = cmd->run(&ctx, argc - i, argv + i);
    db_close(ctx.app.db);
    config_free(cfg);
    return rc;
}
