/* metrics.c -- shared counters of the FastCGI process tree and their text exposition. */
#include "autoconf.h"

#include "metrics.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Address-free lock-free atomics work across processes in a MAP_SHARED mapping (see procgate.c). */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "metrics need lock-free 64-bit atomics");
_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "metrics need lock-free atomic pointers");

static const double bucket_le[METRICS_NBUCKETS] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                    0.5,   1,    2.5,   5,    10 };

struct route_slot {
    _Atomic(const char *) pattern; /* NULL: free; slot 0 is "unmatched" */
    atomic_ullong by_class[5];     /* 1xx .. 5xx */
    atomic_ullong bucket[METRICS_NBUCKETS + 1];
    atomic_ullong sum_us;
};

struct shared {
    atomic_ullong counter[MC__MAX];
    atomic_int workers;
    atomic_int busy[METRICS_MAX_WORKERS]; /* pid of a worker inside a request, 0 free */
    struct route_slot route[METRICS_MAX_ROUTES];
};

static struct shared *sh;

bool
metrics_init(void)
{
    if (sh != NULL)
        return true;
    void *p = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    sh = p; /* anonymous mappings are zero-filled: every counter 0, every slot free */
    return true;
}

void
metrics_shutdown(void)
{
    if (sh != NULL)
        munmap(sh, sizeof(*sh));
    sh = NULL;
}

void
metrics_add(enum metrics_counter c, uint64_t n)
{
    if (sh != NULL && (unsigned)c < MC__MAX)
        atomic_fetch_add_explicit(&sh->counter[c], n, memory_order_relaxed);
}

uint64_t
metrics_get(enum metrics_counter c)
{
    if (sh == NULL || (unsigned)c >= MC__MAX)
        return 0;
    return atomic_load(&sh->counter[c]);
}

/* The slot of `route` (0 for NULL), claimed on first use; the last one takes any overflow. */
static struct route_slot *
slot_for(const char *route, bool claim)
{
    if (route == NULL)
        return &sh->route[0];
    for (size_t i = 1; i < METRICS_MAX_ROUTES - 1; i++) {
        const char *p = atomic_load(&sh->route[i].pattern);
        if (p == route)
            return &sh->route[i];
        if (p == NULL) {
            if (!claim)
                return NULL;
            const char *expected = NULL;
            if (atomic_compare_exchange_strong(&sh->route[i].pattern, &expected, route) ||
                expected == route)
                return &sh->route[i];
        }
    }
    if (!claim)
        return NULL;
    return &sh->route[METRICS_MAX_ROUTES - 1];
}

static int
status_class(int status)
{
    int c = status / 100;
    return c < 1 ? 5 : c > 5 ? 5 : c;
}

void
metrics_request(const char *route, int status, int64_t elapsed_us)
{
    if (sh == NULL)
        return;
    struct route_slot *s = slot_for(route, true);
    if (elapsed_us < 0)
        elapsed_us = 0;
    size_t b = 0;
    while (b < METRICS_NBUCKETS && (double)elapsed_us > bucket_le[b] * 1e6)
        b++;
    atomic_fetch_add_explicit(&s->by_class[status_class(status) - 1], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, (unsigned long long)elapsed_us, memory_order_relaxed);
}

uint64_t
metrics_requests(const char *route, int status_class_)
{
    if (sh == NULL || status_class_ < 1 || status_class_ > 5)
        return 0;
    struct route_slot *s = slot_for(route, false);
    return s == NULL ? 0 : atomic_load(&s->by_class[status_class_ - 1]);
}

void
metrics_busy(bool busy)
{
    if (sh == NULL)
        return;
    int pid = (int)getpid();
    for (size_t i = 0; i < METRICS_MAX_WORKERS; i++) {
        int expected = busy ? 0 : pid;
        if (atomic_compare_exchange_strong(&sh->busy[i], &expected, busy ? pid : 0))
            return;
    }
}

void
metrics_forget_pid(pid_t pid)
{
    for (size_t i = 0; sh != NULL && pid > 0 && i < METRICS_MAX_WORKERS; i++) {
        int expected = (int)pid;
        atomic_compare_exchange_strong(&sh->busy[i], &expected, 0);
    }
}

void
metrics_set_workers(int n)
{
    if (sh != NULL)
        atomic_store(&sh->workers, n);
}

bool
metrics_family(struct strbuf *out, const char *name, const char *type, const char *help)
{
    return strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

bool
metrics_label_value(struct strbuf *out, const char *v)
{
    bool ok = true;
    for (const char *p = v; ok && *p != '\0'; p++) {
        if (*p == '\\')
            ok = strbuf_str(out, "\\\\");
        else if (*p == '"')
            ok = strbuf_str(out, "\\\"");
        else if (*p == '\n')
            ok = strbuf_str(out, "\\n");
        else
            ok = strbuf_add(out, p, 1);
    }
    return ok;
}

static const char *
slot_label(size_t i, const char *pattern)
{
    if (i == 0)
        return "unmatched";
    if (i == METRICS_MAX_ROUTES - 1)
        return "other";
    return pattern;
}

/* `name{route="..."` (the caller closes the brace or adds labels). */
static bool
route_labels(struct strbuf *out, const char *name, const char *label)
{
    return strbuf_printf(out, "%s{route=\"", name) && metrics_label_value(out, label) &&
           strbuf_str(out, "\"");
}

static bool
render_requests(struct strbuf *out, const struct shared *z)
{
    bool ok = metrics_family(out, "videoflix_http_requests_total", "counter",
                             "Requests answered, by route template and status class.");
    for (size_t i = 0; ok && i < METRICS_MAX_ROUTES; i++) {
        const struct route_slot *s = &z->route[i];
        const char *p = atomic_load(&((struct route_slot *)s)->pattern);
        if (i > 0 && p == NULL)
            continue;
        for (int c = 0; ok && c < 5; c++) {
            unsigned long long v = atomic_load(&((struct route_slot *)s)->by_class[c]);
            if (v == 0 && !(i == 0 && c == 3))
                continue; /* the unmatched 4xx line always exists */
            ok = route_labels(out, "videoflix_http_requests_total", slot_label(i, p)) &&
                 strbuf_printf(out, ",code=\"%dxx\"} %llu\n", c + 1, v);
        }
    }
    ok = ok && metrics_family(out, "videoflix_http_request_duration_seconds", "histogram",
                              "Time from the request's arrival in the worker to its reply.");
    for (size_t i = 0; ok && i < METRICS_MAX_ROUTES; i++) {
        struct route_slot *s = (struct route_slot *)&z->route[i];
        const char *p = atomic_load(&s->pattern);
        if (i > 0 && p == NULL)
            continue;
        const char *label = slot_label(i, p);
        unsigned long long cum = 0;
        for (size_t b = 0; ok && b <= METRICS_NBUCKETS; b++) {
            cum += atomic_load(&s->bucket[b]);
            ok = route_labels(out, "videoflix_http_request_duration_seconds_bucket", label);
            if (ok && b < METRICS_NBUCKETS)
                ok = strbuf_printf(out, ",le=\"%g\"} %llu\n", bucket_le[b], cum);
            else if (ok)
                ok = strbuf_printf(out, ",le=\"+Inf\"} %llu\n", cum);
        }
        unsigned long long sum = atomic_load(&s->sum_us);
        ok = ok && route_labels(out, "videoflix_http_request_duration_seconds_sum", label) &&
             strbuf_printf(out, "} %llu.%06llu\n", sum / 1000000, sum % 1000000) &&
             route_labels(out, "videoflix_http_request_duration_seconds_count", label) &&
             strbuf_printf(out, "} %llu\n", cum);
    }
    return ok;
}

static bool
counter(struct strbuf *out, const char *name, const char *help, enum metrics_counter c)
{
    return metrics_family(out, name, "counter", help) &&
           strbuf_printf(out, "%s %llu\n", name, (unsigned long long)metrics_get(c));
}

bool
metrics_render(struct strbuf *out)
{
    static struct shared zero; /* before metrics_init(): all zeros */
    struct shared *z = sh != NULL ? sh : &zero;
    int busy = 0;
    for (size_t i = 0; i < METRICS_MAX_WORKERS; i++)
        busy += atomic_load(&z->busy[i]) != 0;
    int workers = atomic_load(&z->workers);
    int idle = workers > busy ? workers - busy : 0;
    unsigned long long c[MC__MAX];
    for (int i = 0; i < MC__MAX; i++)
        c[i] = metrics_get((enum metrics_counter)i);

    return render_requests(out, z) &&
           metrics_family(
               out, "videoflix_fcgi_workers", "gauge",
               "FastCGI workers inside a request (busy, the one answering this scrape included) or "
               "waiting for one (idle).") &&
           strbuf_printf(out,
                         "videoflix_fcgi_workers{state=\"busy\"} %d\n"
                         "videoflix_fcgi_workers{state=\"idle\"} %d\n",
                         busy, idle) &&
           counter(out, "videoflix_fcgi_worker_respawns_total",
                   "FastCGI workers started to replace one that exited.", MC_FCGI_RESPAWNS) &&
           counter(out, "videoflix_fcgi_worker_recycled_total",
                   "FastCGI workers that exited after FCGI_MAX_REQUESTS requests.",
                   MC_FCGI_RECYCLED) &&
           metrics_family(out, "videoflix_db_errors_total", "counter",
                          "Requests answered with a database error (error: 500, busy: 503).") &&
           strbuf_printf(out,
                         "videoflix_db_errors_total{kind=\"error\"} %llu\n"
                         "videoflix_db_errors_total{kind=\"busy\"} %llu\n",
                         c[MC_DB_ERRORS], c[MC_DB_BUSY]) &&
           metrics_family(out, "videoflix_logins_total", "counter", "Login attempts by outcome.") &&
           strbuf_printf(out,
                         "videoflix_logins_total{outcome=\"ok\"} %llu\n"
                         "videoflix_logins_total{outcome=\"failed\"} %llu\n"
                         "videoflix_logins_total{outcome=\"rate_limited\"} %llu\n",
                         c[MC_LOGIN_OK], c[MC_LOGIN_FAILED], c[MC_LOGIN_RATELIMIT]) &&
           counter(out, "videoflix_refresh_rotations_total",
                   "Refresh tokens exchanged for a new access token.", MC_REFRESH_ROTATED) &&
           counter(out, "videoflix_session_revocations_total",
                   "Sessions ended by logout (refresh token and session revoked).",
                   MC_REFRESH_REVOKED) &&
           counter(out, "videoflix_upload_bytes_total",
                   "Request bytes of accepted video uploads (multipart framing included).",
                   MC_UPLOAD_BYTES);
}

/* An address as 16 bytes (IPv4 mapped into ::ffff:0:0/96); false when not an address. */
static bool
parse_addr(const char *s, size_t len, unsigned char out[16], bool *v4)
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    unsigned char a4[4];
    if (inet_pton(AF_INET, buf, a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, a4, 4);
        *v4 = true;
        return true;
    }
    *v4 = false;
    return inet_pton(AF_INET6, buf, out) == 1;
}

/* One list entry: address and prefix length (over the 128 bits). */
static bool
parse_entry(const char *s, size_t len, unsigned char net[16], int *bits)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash != NULL ? (size_t)(slash - s) : len;
    bool v4;
    if (!parse_addr(s, alen, net, &v4))
        return false;
    int max = v4 ? 32 : 128;
    int prefix = max;
    if (slash != NULL) {
        const char *d = slash + 1, *end = s + len;
        if (d == end || end - d > 3)
            return false;
        prefix = 0;
        for (; d < end; d++) {
            if (*d < '0' || *d > '9')
                return false;
            prefix = prefix * 10 + (*d - '0');
        }
        if (prefix > max)
            return false;
    }
    *bits = v4 ? prefix + 96 : prefix;
    return true;
}

static bool
prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* Scan the trimmed entries of list (*hit: addr, when not NULL, is in one); false as soon as one
 * is malformed. */
static bool
scan(const char *list, const unsigned char *addr, bool *hit)
{
    const char *p = list;
    *hit = false;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a) {
            unsigned char net[16];
            int bits;
            if (!parse_entry(a, (size_t)(b - a), net, &bits))
                return false;
            if (addr != NULL && prefix_eq(net, addr, bits))
                *hit = true;
        }
        if (comma == NULL)
            return true;
        p = comma + 1;
    }
}

bool
metrics_allow_valid(const char *list)
{
    bool hit;
    return list != NULL && scan(list, NULL, &hit);
}

bool
metrics_addr_allowed(const char *list, const char *addr)
{
    unsigned char a[16];
    bool v4, hit = false;
    if (list == NULL || addr == NULL || !parse_addr(addr, strlen(addr), a, &v4))
        return false;
    /* Validated at load (metrics_allow_valid); a malformed entry would end the scan here. */
    scan(list, a, &hit);
    return hit;
}
