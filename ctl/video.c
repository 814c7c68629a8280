/* video.c -- videoflixctl commands of the video area. */
#include "ctl.h"

const struct ctl_cmd ctl_video_cmds[] = {
    { NULL, NULL, NULL, 0, NULL },
};
