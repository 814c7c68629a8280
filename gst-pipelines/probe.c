/* probe.c -- media probing with GstDiscoverer, in a disposable child process. */
#include "autoconf.h"

#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include "child.h"
#include "clock.h"

#define PROBE_MIN_SIDE     16
#define PROBE_MAX_SIDE     8192
#define PROBE_MAX_DURATION (24.0 * 3600.0)
#define PROBE_MAX_FPS      300.0

/*
 * The display rotation a stream's image-orientation tag asks for (what videoflip's
 * video-direction=auto applies): "rotate-N" and "flip-rotate-N" turn by N degrees clockwise
 * (the flip does not change the size).  0 without a tag.
 */
static int
orientation(const GstTagList *tags)
{
    gchar *o = NULL;
    if (tags == NULL || !gst_tag_list_get_string(tags, GST_TAG_IMAGE_ORIENTATION, &o))
        return 0;
    const char *deg = g_str_has_prefix(o, "flip-rotate-") ? o + strlen("flip-rotate-")
                      : g_str_has_prefix(o, "rotate-")    ? o + strlen("rotate-")
                                                          : "0";
    int r = strcmp(deg, "90") == 0    ? 90
            : strcmp(deg, "180") == 0 ? 180
            : strcmp(deg, "270") == 0 ? 270
                                      : 0;
    g_free(o);
    return r;
}

/* Reads the first video and audio stream of `info` into *out; checks the limits. */
static enum vf_err
check_streams(GstDiscovererInfo *info, struct media_info *out, char *reason, size_t len)
{
    GList *videos = gst_discoverer_info_get_video_streams(info);
    GList *audios = gst_discoverer_info_get_audio_streams(info);
    enum vf_err err = VF_OK;

    out->has_audio = audios != NULL;
    out->has_video = videos != NULL;
    GstClockTime dur = gst_discoverer_info_get_duration(info);
    out->duration = GST_CLOCK_TIME_IS_VALID(dur) ? (double)dur / GST_SECOND : 0.0;

    if (videos == NULL) {
        vf_reason(reason, len, "not a video: the file has no video stream");
        err = VF_ERR_MEDIATYPE;
        goto done;
    }
    GstDiscovererVideoInfo *v = videos->data;
    if (gst_discoverer_video_info_is_image(v)) {
        vf_reason(reason, len, "not a video: the file is a still image");
        err = VF_ERR_MEDIATYPE;
        goto done;
    }
    unsigned w = gst_discoverer_video_info_get_width(v);
    unsigned h = gst_discoverer_video_info_get_height(v);
    unsigned par_n = gst_discoverer_video_info_get_par_num(v);
    unsigned par_d = gst_discoverer_video_info_get_par_denom(v);
    unsigned fn = gst_discoverer_video_info_get_framerate_num(v);
    unsigned fd = gst_discoverer_video_info_get_framerate_denom(v);
    double dw = (double)w;
    if (par_n > 0 && par_d > 0 && par_n != par_d)
        dw = (double)w * par_n / par_d;
    out->width = (int)lround(dw);
    out->height = (int)h;
    out->fps = fd > 0 ? (double)fn / fd : 0.0;
    out->interlaced = gst_discoverer_video_info_is_interlaced(v);
    out->rotation = orientation(gst_discoverer_stream_info_get_tags(GST_DISCOVERER_STREAM_INFO(v)));
    if (out->rotation == 90 || out->rotation == 270) {
        int t = out->width;
        out->width = out->height;
        out->height = t;
    }

    if (out->width < PROBE_MIN_SIDE || out->height < PROBE_MIN_SIDE ||
        out->width > PROBE_MAX_SIDE || out->height > PROBE_MAX_SIDE) {
        vf_reason(reason, len, "unsupported video size %dx%d (each side must be %d..%d pixels)",
                  out->width, out->height, PROBE_MIN_SIDE, PROBE_MAX_SIDE);
        err = VF_ERR_MEDIATYPE;
    } else if (!(out->duration > 0.05)) {
        vf_reason(reason, len, "not a video: zero or unknown duration");
        err = VF_ERR_MEDIATYPE;
    } else if (out->duration > PROBE_MAX_DURATION) {
        vf_reason(reason, len, "video too long (%.0f s, at most %.0f s)", out->duration,
                  PROBE_MAX_DURATION);
        err = VF_ERR_MEDIATYPE;
    } else if (out->fps > PROBE_MAX_FPS) {
        vf_reason(reason, len, "unsupported frame rate %.1f fps", out->fps);
        err = VF_ERR_MEDIATYPE;
    }
done:
    gst_discoverer_stream_info_list_free(videos);
    gst_discoverer_stream_info_list_free(audios);
    return err;
}

enum vf_err
probe_discover(const char *path, int timeout_s, struct media_info *out, char *reason, size_t len)
{
    memset(out, 0, sizeof(*out));
    if (reason != NULL && len > 0)
        reason[0] = '\0';

    struct stat sb;
    if (stat(path, &sb) != 0) {
        vf_reason(reason, len, "cannot read the file: %s", strerror(errno));
        return VF_ERR_IO;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size == 0) {
        vf_reason(reason, len, "not a video: the file is empty");
        return VF_ERR_MEDIATYPE;
    }

    GError *gerr = NULL;
    GstDiscoverer *d =
        gst_discoverer_new((GstClockTime)(timeout_s > 0 ? timeout_s : 30) * GST_SECOND, &gerr);
    if (d == NULL) {
        vf_reason(reason, len, "discoverer: %s", gerr ? gerr->message : "cannot create");
        g_clear_error(&gerr);
        return VF_ERR_INTERNAL;
    }
    char *uri = gst_filename_to_uri(path, &gerr);
    if (uri == NULL) {
        vf_reason(reason, len, "bad path: %s", gerr ? gerr->message : "?");
        g_clear_error(&gerr);
        g_object_unref(d);
        return VF_ERR_IO;
    }
    GstDiscovererInfo *info = gst_discoverer_discover_uri(d, uri, &gerr);
    g_free(uri);
    enum vf_err err;
    GstDiscovererResult res = info ? gst_discoverer_info_get_result(info) : GST_DISCOVERER_ERROR;
    switch (res) {
    case GST_DISCOVERER_OK:
        err = check_streams(info, out, reason, len);
        break;
    case GST_DISCOVERER_TIMEOUT:
        vf_reason(reason, len, "probing timed out after %d s", timeout_s);
        err = VF_ERR_TIMEOUT;
        break;
    case GST_DISCOVERER_MISSING_PLUGINS:
        vf_reason(reason, len, "unsupported format: no decoder for this file");
        err = VF_ERR_MEDIATYPE;
        break;
    default:
        vf_reason(reason, len, "not a usable video: %s", gerr ? gerr->message : "unreadable file");
        err = VF_ERR_MEDIATYPE;
        break;
    }
    g_clear_error(&gerr);
    if (info != NULL)
        g_object_unref(info);
    g_object_unref(d);
    return err;
}

/* What the probe child sends back in one write (well under PIPE_BUF). */
struct probe_wire {
    int err;
    struct media_info info;
    char reason[512];
};

#define PROBE_OUT_FD 3

static void __attribute__((noreturn)) child(const char *path, int timeout_s, int wfd, pid_t parent)
{
    /* Hold nothing of the parent's but stderr and the pipe (on PROBE_OUT_FD). */
    if (!child_setup(parent, wfd, PROBE_OUT_FD, true))
        _exit(1);
    wfd = PROBE_OUT_FD;
    signal(SIGPIPE, SIG_IGN);

    struct probe_wire w;
    memset(&w, 0, sizeof(w));
    gst_init(NULL, NULL);
    w.err = probe_discover(path, timeout_s, &w.info, w.reason, sizeof(w.reason));
    ssize_t n;
    do
        n = write(wfd, &w, sizeof(w));
    while (n < 0 && errno == EINTR);
    _exit(n == (ssize_t)sizeof(w) ? 0 : 1);
}

enum vf_err
probe_file(const char *path, int timeout_s, struct media_info *out, char *reason, size_t len)
{
    memset(out, 0, sizeof(*out));
    if (reason != NULL && len > 0)
        reason[0] = '\0';
    if (timeout_s <= 0)
        timeout_s = 30;

    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        vf_reason(reason, len, "pipe: %s", strerror(errno));
        return VF_ERR_IO;
    }
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        vf_reason(reason, len, "fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return VF_ERR_IO;
    }
    if (pid == 0) {
        close(p[0]);
        child(path, timeout_s, p[1], parent);
    }
    close(p[1]);
    setpgid(pid, pid); /* also done by the child; whichever runs first wins the race */

    struct probe_wire w;
    memset(&w, 0, sizeof(w));
    size_t got = 0;
    int64_t deadline = clock_mono_ms() + (int64_t)(timeout_s + 2) * 1000;
    enum vf_err err = VF_OK;
    while (got < sizeof(w)) {
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0) {
            err = VF_ERR_TIMEOUT;
            break;
        }
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err = VF_ERR_IO;
            break;
        }
        if (r == 0)
            continue;
        ssize_t n = read(p[0], (char *)&w + got, sizeof(w) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = VF_ERR_INTERNAL; /* the child died without an answer */
            break;
        }
        got += (size_t)n;
    }
    close(p[0]);
    if (err != VF_OK)
        kill(-pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (err == VF_ERR_TIMEOUT) {
        vf_reason(reason, len, "probing timed out after %d s", timeout_s);
        return err;
    }
    if (err != VF_OK) {
        if (WIFSIGNALED(status))
            vf_reason(reason, len, "the probe crashed (signal %d): not a usable video",
                      WTERMSIG(status));
        else
            vf_reason(reason, len, "the probe failed (exit %d)", WEXITSTATUS(status));
        /* A decoder that crashes on the file makes it unusable, not the server broken. */
        return WIFSIGNALED(status) ? VF_ERR_MEDIATYPE : err;
    }
    *out = w.info;
    w.reason[sizeof(w.reason) - 1] = '\0';
    vf_reason(reason, len, "%s", w.reason);
    return (enum vf_err)w.err;
}
