/* accounts.c -- videoflixctl commands of the accounts area. */
#include "ctl.h"

const struct ctl_cmd ctl_account_cmds[] = {
    { NULL, NULL, NULL, 0, NULL },
};
