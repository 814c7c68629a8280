/* child.c -- the fork discipline of every child we run (see child.h). */
#include "autoconf.h"

#include "child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Close every descriptor from `from` up. */
static void
close_from(int from)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)from, ~0U, 0) == 0)
        return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = from; fd < (max > 0 ? max : 1024); fd++)
        close((int)fd);
}

bool
child_setup(pid_t parent, int keep_fd, int as_fd, bool null_stdout)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        return false;

    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    int first_closed = 3;
    if (keep_fd >= 0) {
        if (keep_fd != as_fd) {
            if (dup2(keep_fd, as_fd) < 0)
                return false;
        } else if (fcntl(keep_fd, F_SETFD, 0) != 0) {
            return false;
        }
        first_closed = as_fd + 1;
        for (int fd = 3; fd < as_fd; fd++)
            close(fd);
    }
    close_from(first_closed);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        if (null_stdout)
            dup2(devnull, STDOUT_FILENO);
        if (devnull > STDERR_FILENO && devnull != as_fd)
            close(devnull);
    }
    return true;
}

bool
child_limit(int resource, unsigned long long value)
{
    if (value == 0)
        return true;
    struct rlimit rl = { .rlim_cur = (rlim_t)value, .rlim_max = (rlim_t)value };
    return setrlimit(resource, &rl) == 0;
}
