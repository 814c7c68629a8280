/* test_metrics.c -- the shared counters of /metrics: counted across forked processes, requests by
 * route template and status class with a cumulative latency histogram, worker busy marks given
 * back by the reaper, the exposition text, and METRICS_ALLOW address matching. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "metrics.h"
#include "strbuf.h"

static const char route_a[] = "/api/video/";
static const char route_b[] = "/api/video/{id}/{}/index.m3u8";

static void
setup(void)
{
    cr_assert(metrics_init());
}

static void
teardown(void)
{
    metrics_shutdown();
}

TestSuite(metrics, .init = setup, .fini = teardown);

static char *
render(void)
{
    struct strbuf sb = { 0 };
    cr_assert(metrics_render(&sb));
    return strbuf_take(&sb);
}

Test(metrics, counters_add_across_forked_processes)
{
    enum { KIDS = 4, EACH = 1000 };
    pid_t kids[KIDS];
    for (int k = 0; k < KIDS; k++) {
        kids[k] = fork();
        cr_assert_geq(kids[k], 0);
        if (kids[k] == 0) {
            for (int i = 0; i < EACH; i++) {
                metrics_inc(MC_LOGIN_OK);
                metrics_request(route_a, 200, 1000);
            }
            _exit(0);
        }
    }
    for (int k = 0; k < KIDS; k++) {
        int st;
        cr_assert_eq(waitpid(kids[k], &st, 0), kids[k]);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    cr_assert_eq(metrics_get(MC_LOGIN_OK), KIDS * EACH);
    cr_assert_eq(metrics_requests(route_a, 2), KIDS * EACH);
}

Test(metrics, requests_by_template_and_class)
{
    metrics_request(route_a, 200, 10);
    metrics_request(route_a, 304, 10);
    metrics_request(route_b, 403, 10);
    metrics_request(NULL, 404, 10);
    metrics_request(route_a, 503, 10);
    cr_assert_eq(metrics_requests(route_a, 2), 1);
    cr_assert_eq(metrics_requests(route_a, 3), 1);
    cr_assert_eq(metrics_requests(route_a, 5), 1);
    cr_assert_eq(metrics_requests(route_b, 4), 1);
    cr_assert_eq(metrics_requests(NULL, 4), 1);
    cr_assert_eq(metrics_requests("/api/never/", 2), 0);

    char *text = render();
    cr_assert_not_null(strstr(text, "# TYPE videoflix_http_requests_total counter\n"));
    cr_assert_not_null(
        strstr(text, "videoflix_http_requests_total{route=\"/api/video/\",code=\"2xx\"} 1\n"));
    cr_assert_not_null(
        strstr(text, "videoflix_http_requests_total{route=\"unmatched\",code=\"4xx\"} 1\n"));
    cr_assert_not_null(strstr(text, "videoflix_http_requests_total{route=\"/api/video/{id}/{}/"
                                    "index.m3u8\",code=\"4xx\"} 1\n"));
    free(text);
}

Test(metrics, histogram_is_cumulative)
{
    metrics_request(route_a, 200, 3000);     /* 3 ms: le 0.005 */
    metrics_request(route_a, 200, 200000);   /* 200 ms: le 0.25 */
    metrics_request(route_a, 200, 60000000); /* 60 s: +Inf only */
    char *text = render();
    const char *p = "videoflix_http_request_duration_seconds_bucket{route=\"/api/video/\",";
    char line[256];
    snprintf(line, sizeof(line), "%sle=\"0.005\"} 1\n", p);
    cr_assert_not_null(strstr(text, line), "%s", text);
    snprintf(line, sizeof(line), "%sle=\"0.1\"} 1\n", p);
    cr_assert_not_null(strstr(text, line));
    snprintf(line, sizeof(line), "%sle=\"0.25\"} 2\n", p);
    cr_assert_not_null(strstr(text, line));
    snprintf(line, sizeof(line), "%sle=\"10\"} 2\n", p);
    cr_assert_not_null(strstr(text, line));
    snprintf(line, sizeof(line), "%sle=\"+Inf\"} 3\n", p);
    cr_assert_not_null(strstr(text, line));
    cr_assert_not_null(strstr(text, "videoflix_http_request_duration_seconds_sum{route="
                                    "\"/api/video/\"} 60.203000\n"));
    cr_assert_not_null(strstr(text, "videoflix_http_request_duration_seconds_count{route="
                                    "\"/api/video/\"} 3\n"));
    free(text);
}

Test(metrics, every_family_has_help_and_type)
{
    static const char *const families[] = {
        "videoflix_http_requests_total counter",
        "videoflix_http_request_duration_seconds histogram",
        "videoflix_fcgi_workers gauge",
        "videoflix_fcgi_worker_respawns_total counter",
        "videoflix_fcgi_worker_recycled_total counter",
        "videoflix_db_errors_total counter",
        "videoflix_logins_total counter",
        "videoflix_refresh_rotations_total counter",
        "videoflix_session_revocations_total counter",
        "videoflix_upload_bytes_total counter",
    };
    char *text = render();
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        char want[128];
        snprintf(want, sizeof(want), "# TYPE %s\n", families[i]);
        cr_assert_not_null(strstr(text, want), "missing %s", want);
        const char *name = families[i];
        snprintf(want, sizeof(want), "# HELP %.*s ", (int)(strchr(name, ' ') - name), name);
        cr_assert_not_null(strstr(text, want), "missing %s", want);
    }
    free(text);
}

Test(metrics, busy_workers_and_the_reaper)
{
    metrics_set_workers(3);
    int up[2];
    cr_assert_eq(pipe(up), 0);
    pid_t kid = fork();
    cr_assert_geq(kid, 0);
    if (kid == 0) {
        metrics_busy(true);
        char c = '1';
        _exit(write(up[1], &c, 1) == 1 ? 0 : 1);
    }
    char c;
    cr_assert_eq(read(up[0], &c, 1), 1);
    int st;
    waitpid(kid, &st, 0);
    char *text = render();
    cr_assert_not_null(strstr(text, "videoflix_fcgi_workers{state=\"busy\"} 1\n"));
    cr_assert_not_null(strstr(text, "videoflix_fcgi_workers{state=\"idle\"} 2\n"));
    free(text);
    metrics_forget_pid(kid); /* it died busy: its reaper gives the mark back */
    text = render();
    cr_assert_not_null(strstr(text, "videoflix_fcgi_workers{state=\"busy\"} 0\n"));
    cr_assert_not_null(strstr(text, "videoflix_fcgi_workers{state=\"idle\"} 3\n"));
    free(text);
    metrics_busy(true);
    metrics_busy(false);
    text = render();
    cr_assert_not_null(strstr(text, "videoflix_fcgi_workers{state=\"busy\"} 0\n"));
    free(text);
    close(up[0]);
    close(up[1]);
}

Test(metrics, label_values_are_escaped)
{
    struct strbuf sb = { 0 };
    cr_assert(metrics_label_value(&sb, "a\"b\\c\nd"));
    char *s = strbuf_take(&sb);
    cr_assert_str_eq(s, "a\\\"b\\\\c\\nd");
    free(s);
}

Test(metrics, without_init_nothing_breaks)
{
    metrics_shutdown();
    metrics_inc(MC_DB_ERRORS);
    metrics_request(route_a, 200, 5);
    metrics_busy(true);
    cr_assert_eq(metrics_get(MC_DB_ERRORS), 0);
    char *text = render();
    cr_assert_not_null(strstr(text, "videoflix_db_errors_total{kind=\"error\"} 0\n"));
    free(text);
}

Test(metrics, allow_list_addresses_and_cidrs)
{
    const char *def = "127.0.0.1,::1";
    cr_assert(metrics_addr_allowed(def, "127.0.0.1"));
    cr_assert(metrics_addr_allowed(def, "::1"));
    cr_assert(metrics_addr_allowed(def, "::ffff:127.0.0.1")); /* IPv4-mapped */
    cr_assert_not(metrics_addr_allowed(def, "127.0.0.2"));
    cr_assert_not(metrics_addr_allowed(def, "10.0.0.1"));
    cr_assert_not(metrics_addr_allowed(def, ""));
    cr_assert_not(metrics_addr_allowed(def, "localhost"));
    cr_assert_not(metrics_addr_allowed(def, NULL));

    const char *nets = " 10.0.0.0/8 , 192.168.1.128/25,fd00::/8";
    cr_assert(metrics_addr_allowed(nets, "10.255.1.2"));
    cr_assert_not(metrics_addr_allowed(nets, "11.0.0.1"));
    cr_assert(metrics_addr_allowed(nets, "192.168.1.200"));
    cr_assert_not(metrics_addr_allowed(nets, "192.168.1.127"));
    cr_assert(metrics_addr_allowed(nets, "fd12:3456::1"));
    cr_assert_not(metrics_addr_allowed(nets, "fe80::1"));
    cr_assert(metrics_addr_allowed("0.0.0.0/0", "203.0.113.9"));
    cr_assert_not(metrics_addr_allowed("", "127.0.0.1"));
}

Test(metrics, allow_list_validation)
{
    cr_assert(metrics_allow_valid("127.0.0.1,::1"));
    cr_assert(metrics_allow_valid(""));
    cr_assert(metrics_allow_valid("10.0.0.0/8, 2001:db8::/32"));
    cr_assert_not(metrics_allow_valid("localhost"));
    cr_assert_not(metrics_allow_valid("10.0.0.0/33"));
    cr_assert_not(metrics_allow_valid("::/129"));
    cr_assert_not(metrics_allow_valid("10.0.0.0/"));
    cr_assert_not(metrics_allow_valid("10.0.0.0/8x"));
    cr_assert_not(metrics_allow_valid("1.2.3"));
}
