/* transcode.c -- videoflixctl commands that run the transcoder without the job queue. */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "ctl.h"
#include "fstree.h"
#include "transcode.h"

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static const struct {
    const char *name;
    enum pipeline_preset preset;
} presets[] = {
    { "ultrafast", PIPELINE_PRESET_ULTRAFAST }, { "superfast", PIPELINE_PRESET_SUPERFAST },
    { "veryfast", PIPELINE_PRESET_VERYFAST },   { "faster", PIPELINE_PRESET_FASTER },
    { "fast", PIPELINE_PRESET_FAST },           { "medium", PIPELINE_PRESET_MEDIUM },
};

static int
usage(void)
{
    fprintf(stderr, "usage: videoflixctl transcode-file IN OUTDIR [--preset NAME] [--threads N]\n");
    return 2;
}

/* SIGINT and SIGTERM set stop_flag (in the tool, and again in the transcoder child). */
static void
catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* True when `dir` exists and holds nothing but . and .. */
static int
dir_is_empty(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return 0;
    return rmdir(dir) == 0 && mkdir(dir, 0755) == 0;
}

/* The transcoder child: runs the pipeline, prints progress (stderr) and the result (stdout). */
static int
child(const struct config *cfg, const char *in, const char *out, enum pipeline_preset preset,
      int threads)
{
    /* Unlike a worker's child, this one is asked to stop (EOS, partial output removed) when
     * the tool is interrupted or dies, so SIGTERM rather than SIGKILL. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    catch_stop_signals();
    struct transcode_params p = {
        .input = in,
        .outdir = out,
        .segment_seconds = cfg->hls_segment_seconds,
        .x264_threads = threads,
        .preset = preset,
        .timeout_s = cfg->transcode_timeout,
        .timeout_per_second = cfg->transcode_timeout_per_second,
        .stall_timeout_s = cfg->transcode_stall_timeout,
        .stop = &stop_flag,
        .progress_fd = STDERR_FILENO,
    };
    struct transcode_result res;
    char reason[512];
    enum vf_err err = transcode_run(&p, &res, reason, sizeof(reason));
    if (err != VF_OK) {
        fprintf(stderr, "videoflixctl: transcode failed (%s): %s\n", vf_strerror(err), reason);
        fflush(NULL);
        return 1;
    }
    char *json = transcode_result_json(&res, NULL);
    printf("%s\n", json ? json : "{}");
    free(json);
    fflush(NULL);
    return 0;
}

/*
 * transcode-file IN OUTDIR: probe, encode the ladder into OUTDIR (created; an existing one must
 * be empty), validate, write master.m3u8 and thumbnail.jpg.  Progress goes to stderr, the result
 * JSON to stdout.  On failure OUTDIR is removed again if this command created it.
 */
static int
cmd_transcode_file(struct ctl_ctx *ctx, int argc, char **argv)
{
    const struct config *cfg = ctx->app.cfg;
    const char *in = NULL, *out = NULL;
    enum pipeline_preset preset = TRANSCODE_PRESET;
    int threads = cfg->x264_threads;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--preset") == 0 && i + 1 < argc) {
            const char *name = argv[++i];
            size_t k = 0;
            while (k < sizeof(presets) / sizeof(presets[0]) && strcmp(presets[k].name, name) != 0)
                k++;
            if (k == sizeof(presets) / sizeof(presets[0])) {
                fprintf(stderr, "videoflixctl: unknown preset '%s'\n", name);
                return 2;
            }
            preset = presets[k].preset;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *end = NULL;
            long t = strtol(argv[++i], &end, 10);
            if (*end != '\0' || t < 0 || t > 128)
                return usage();
            threads = (int)t;
        } else if (argv[i][0] != '-' && in == NULL) {
            in = argv[i];
        } else if (argv[i][0] != '-' && out == NULL) {
            out = argv[i];
        } else {
            return usage();
        }
    }
    if (in == NULL || out == NULL)
        return usage();
    if (strchr(out, '%') != NULL) {
        fprintf(stderr, "videoflixctl: OUTDIR must not contain '%%'\n");
        return 2;
    }
    int created = 0;
    if (mkdir(out, 0755) == 0) {
        created = 1;
    } else if (errno != EEXIST || !dir_is_empty(out)) {
        return ctl_fail("%s must be a new or empty directory", out);
    }

    /* GStreamer lives only in a child (as in the worker): this process stays clean, and the
     * child leaves with _exit() once the result is printed. */
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "videoflixctl: fork: %s\n", strerror(errno));
        if (created)
            rmdir(out);
        return 1;
    }
    if (pid == 0) {
        /* The common discipline (lib/base/child.h), stdout kept: it carries the result. */
        if (!child_setup(parent, -1, 0, false))
            _exit(1);
        _exit(child(cfg, in, out, preset, threads));
    }

    catch_stop_signals();
    int status = 0, forwarded = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            break;
        if (stop_flag && !forwarded) {
            kill(pid, SIGTERM);
            forwarded = 1;
        }
    }
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && WIFSIGNALED(status))
        fprintf(stderr, "videoflixctl: the transcoder died (signal %d)\n", WTERMSIG(status));
    if (!ok && created)
        fstree_remove(out);
    return ok ? 0 : 1;
}

const struct ctl_cmd ctl_transcode_cmds[] = {
    { "transcode-file", "transcode-file IN OUTDIR [--preset P]",
      "Transcode a file into an HLS ladder in OUTDIR, without the database.", 0, cmd_transcode_file,
      0 },
    { NULL, NULL, NULL, 0, NULL, 0 },
};
