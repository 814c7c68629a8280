/* slot.c -- videoflix-worker: a job child in its slot: fork it (lib/base/child.h), read its report
 * pipe, kill it. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "log.h"
#include "worker.h"

#define CHILD_OUT_FD 3

/* AddressSanitizer reserves terabytes of address space: no RLIMIT_AS under it. */
#if defined(__SANITIZE_ADDRESS__)
#define NO_AS_LIMIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_AS_LIMIT 1
#endif
#endif

/* In the child: never returns. */
static void __attribute__((noreturn))
child_main(struct slot *s, const struct config *cfg, int wfd, pid_t parent)
{
    /* Own group, dies with the worker (gives up if it already died), clean signals, only
     * the report pipe on CHILD_OUT_FD: no database handle, no other child's pipe. */
    if (!child_setup(parent, wfd, CHILD_OUT_FD, false))
        _exit(JOB_EXIT_TEMPFAIL);

    const struct worker_kind *wk = s->wk;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long wall = wk->wall_timeout != NULL ? wk->wall_timeout(cfg, s->job->payload) : 0;
    long cpu = wk->cpu_s > 0 ? wk->cpu_s : wall * (cores > 0 ? cores : 1);
    child_limit(RLIMIT_CPU, cpu > 0 ? (unsigned long long)cpu : 0);
#ifndef NO_AS_LIMIT
    child_limit(RLIMIT_AS, wk->as_mib > 0 ? (unsigned long long)wk->as_mib << 20 : 0);
#endif
    child_limit(RLIMIT_FSIZE, wk->fsize_mib > 0 ? (unsigned long long)wk->fsize_mib << 20 : 0);
    struct rlimit nocore = { 0, 0 };
    setrlimit(RLIMIT_CORE, &nocore);

    char v[32];
    snprintf(v, sizeof(v), "%lld", (long long)s->job->id);
    setenv("VF_JOB_ID", v, 1);
    snprintf(v, sizeof(v), "%d", s->job->attempts);
    setenv("VF_JOB_ATTEMPT", v, 1);

    int rc = wk->kind->run(cfg, s->job->payload, CHILD_OUT_FD);
    _exit(rc);
}

enum vf_err
slot_spawn(struct slot *s, const struct config *cfg)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        log_error("worker: pipe: %s", strerror(errno));
        return VF_ERR_IO;
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        log_error("worker: fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return VF_ERR_IO;
    }
    if (pid == 0) {
        close(p[0]);
        child_main(s, cfg, p[1], parent);
    }
    setpgid(pid, pid); /* also in the child: whichever runs first wins, no race */
    close(p[1]);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    s->pid = pid;
    s->pgid = pid;
    s->fd = p[0];
    int64_t now = clock_now_us();
    s->started_us = s->last_progress_us = s->stored_progress_us = now;
    s->progress = s->stored_progress = 0;
    return VF_OK;
}

/* One complete line from the child. */
static void
handle_line(struct slot *s, char *line)
{
    if (strncmp(line, "progress ", 9) == 0) {
        char *end = NULL;
        long v = strtol(line + 9, &end, 10);
        if (end != line + 9 && v >= 0 && v <= 100) {
            s->progress = (int)v;
            s->last_progress_us = clock_now_us();
        }
    } else if (strncmp(line, "result ", 7) == 0) {
        free(s->result);
        s->result = strdup(line + 7);
    } else if (strncmp(line, "error ", 6) == 0) {
        snprintf(s->error, sizeof(s->error), "%s", line + 6);
    } else {
        log_debug("job %lld: ignoring report line from the child", (long long)s->job->id);
    }
}

bool
slot_read(struct slot *s)
{
    if (s->fd < 0)
        return true;
    for (;;) {
        char buf[4096];
        ssize_t n = read(s->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return false;
        if (n <= 0) {
            if (s->linelen > 0 && !s->line_overflow) {
                s->line[s->linelen] = '\0';
                handle_line(s, s->line);
            }
            close(s->fd);
            s->fd = -1;
            return true;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                s->line[s->linelen] = '\0';
                if (!s->line_overflow)
                    handle_line(s, s->line);
                s->linelen = 0;
                s->line_overflow = false;
            } else if (s->linelen + 1 < sizeof(s->line)) {
                s->line[s->linelen++] = buf[i];
            } else {
                s->line_overflow = true; /* an over-long line is dropped whole */
            }
        }
    }
}

void
slot_kill(struct slot *s, const char *reason, bool permanent)
{
    if (s->pid > 0 && s->kill_reason == NULL) {
        s->kill_reason = reason;
        s->kill_permanent = permanent;
    }
    if (s->pgid > 0)
        kill(-s->pgid, SIGKILL);
    if (s->pid > 0)
        kill(s->pid, SIGKILL);
}

void
slot_clear(struct slot *s)
{
    if (s->fd >= 0)
        close(s->fd);
    job_free(s->job);
    free(s->result);
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}
