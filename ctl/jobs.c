/* jobs.c -- videoflixctl commands of the jobs area. */
#include "ctl.h"

const struct ctl_cmd ctl_job_cmds[] = {
    { NULL, NULL, NULL, 0, NULL },
};
