/* transcode.c -- videoflixctl commands that run the transcoder without the job queue. */
#include "ctl.h"

const struct ctl_cmd ctl_transcode_cmds[] = {
    { NULL, NULL, NULL, 0, NULL },
};
