/* ctl.h -- videoflixctl: the sysadmin's command-line tool; commands live in tables per area. */
#ifndef VF_CTL_H
#define VF_CTL_H

#include "app.h"

/*
 * A command runs with the configuration loaded and, when `needs_db` is set, the
 * database open (ctx->app.db).  argv[0] is the command name.  Returns the process
 * exit status: 0 ok, 1 failure, 2 usage error.
 */
struct ctl_ctx {
    struct app app;
};

struct ctl_cmd {
    const char *name;
    const char *usage; /* one line: "migrate", "jobs [retry ID]" */
    const char *help;  /* one sentence */
    int needs_db;      /* 0 none, 1 an existing database, CTL_DB_CREATE may create it (migrate) */
    int (*run)(struct ctl_ctx *ctx, int argc, char **argv);
    unsigned needs_data; /* enum datadir_need mask, checked before run(): fail closed */
};
#define CTL_DB_CREATE 2

/* Print "videoflixctl: <message>\n" on stderr; returns 1, the failure exit status, so that a
 * command can `return ctl_fail(...)`. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Each area's table (ctl/<area>.c), ending with a zeroed entry. */
extern const struct ctl_cmd ctl_core_cmds[];      /* migrate, check-config */
extern const struct ctl_cmd ctl_account_cmds[];   /* createsuperuser, users */
extern const struct ctl_cmd ctl_job_cmds[];       /* status, jobs, sendtestmail */
extern const struct ctl_cmd ctl_video_cmds[];     /* video add/list/transcode/delete */
extern const struct ctl_cmd ctl_transcode_cmds[]; /* transcode-file */

#endif
