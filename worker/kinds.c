/* kinds.c -- videoflix-worker: the job kinds it runs and the limits of their children. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "transcode_payload.h"
#include "worker.h"

static int
mail_wall(const struct config *cfg, const char *payload)
{
    (void)payload;
    /* libESMTP applies EMAIL_TIMEOUT per step; this is the backstop for the whole run. */
    return cfg->email_timeout * 6 + 10;
}

/* Grows with the source's length (transcode_payload_timeout); the base for an old payload. */
static int
mail_window(const struct config *cfg)
{
    return cfg->mail_retry_window;
}

static int
mail_max_delay(const struct config *cfg)
{
    return cfg->mail_retry_max_delay;
}

static int
transcode_wall(const struct config *cfg, const char *payload)
{
    struct transcode_payload p;
    if (transcode_payload_parse(payload, &p) != VF_OK)
        return cfg->transcode_timeout;
    return transcode_payload_timeout(cfg, p.duration);
}

static int
transcode_stall(const struct config *cfg)
{
    return cfg->transcode_stall_timeout;
}

#ifdef VF_TEST_HOOKS
static int
test_wall(const struct config *cfg, const char *payload)
{
    (void)cfg;
    (void)payload;
    return 120;
}
#endif

static struct worker_kind kinds[8];
static size_t nkinds;

static void
add(const struct job_kind *k, int (*wall)(const struct config *, const char *),
    int (*stall)(const struct config *), bool perm, long cpu_s, long as_mib, long fsize_mib)
{
    if (k == NULL || nkinds >= sizeof(kinds) / sizeof(kinds[0]))
        return;
    kinds[nkinds++] = (struct worker_kind){ .kind = k,
                                            .wall_timeout = wall,
                                            .stall_timeout = stall,
                                            .timeout_permanent = perm,
                                            .cpu_s = cpu_s,
                                            .as_mib = as_mib,
                                            .fsize_mib = fsize_mib };
}

const struct worker_kind *
worker_kinds(size_t *n)
{
    if (nkinds == 0) {
        /* Mail: a small SMTP client.  CPU 60 s, 1 GiB address space, no files.  Retried for
         * MAIL_RETRY_WINDOW after it was queued, not JOB_MAX_ATTEMPTS times. */
        add(&mailjob_kind, mail_wall, NULL, false, 60, 1024, 1);
        kinds[nkinds - 1].retry_window = mail_window;
        kinds[nkinds - 1].retry_max_delay = mail_max_delay;
        /* Account mail requests: the child does nothing, the parent one lookup and one insert. */
        add(&accountmailjob_kind, mail_wall, NULL, false, 10, 256, 1);
        /* Transcode: GStreamer with x264 threads; timeouts mean a poison input. */
        add(&transcodejob_kind, transcode_wall, transcode_stall, true, 0, 16384, 65536);
#ifdef VF_TEST_HOOKS
        /* Test builds only, and only when the suite asks for them. */
        const char *t = getenv("VF_TEST_JOB_KINDS");
        if (t != NULL && strcmp(t, "1") == 0) {
            add(&worker_test_noop, test_wall, NULL, false, 60, 1024, 16);
            add(&worker_test_fail, test_wall, NULL, false, 60, 1024, 16);
        }
#endif
    }
    *n = nkinds;
    return kinds;
}

const struct worker_kind *
worker_kind_find(const char *name)
{
    size_t n;
    const struct worker_kind *k = worker_kinds(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i].kind->name, name) == 0)
            return &k[i];
    return NULL;
}
