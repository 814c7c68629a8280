/* core.c -- videoflixctl commands of the core area. */
#include "ctl.h"

const struct ctl_cmd ctl_core_cmds[] = {
    { NULL, NULL, NULL, 0, NULL },
};
