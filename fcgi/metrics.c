/* metrics.c -- GET /metrics: the shared counters of every FastCGI worker and a few gauges read at
 * scrape time (jobs from the database, free disk under MEDIA_ROOT), in the Prometheus text
 * exposition format 0.0.4.  Only for METRICS_ALLOW addresses; anyone else gets the 404 of an
 * unknown path.  Not in any route table: the responder calls it for the one path, which the web
 * server configurations pass on by itself (never under /api/). */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "clock.h"
#include "db.h"
#include "job.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "strbuf.h"

#define EXPOSITION_TYPE "text/plain; version=0.0.4; charset=utf-8"

static bool
render_jobs(struct app *app, struct strbuf *out)
{
    struct job_stat *st = NULL;
    size_t n = 0;
    bool up = app->db != NULL && job_stats(app->db, &st, &n) == VF_OK;
    int64_t now = clock_now_us();
    bool ok =
        metrics_family(out, "videoflix_jobs", "gauge", "Jobs in the queue by kind and state.");
    for (size_t i = 0; ok && i < n; i++)
        ok = strbuf_str(out, "videoflix_jobs{kind=\"") && metrics_label_value(out, st[i].kind) &&
             strbuf_printf(out, "\",state=\"%s\"} %lld\n", job_state_name(st[i].state),
                           (long long)st[i].count);
    ok = ok && metrics_family(out, "videoflix_jobs_queued_oldest_age_seconds", "gauge",
                              "How long the longest-waiting runnable queued job has waited "
                              "(0 when none), by kind.");
    for (size_t i = 0; ok && i < n; i++) {
        if (st[i].state != JOB_QUEUED)
            continue;
        int64_t age = now - st[i].oldest_us;
        ok = strbuf_str(out, "videoflix_jobs_queued_oldest_age_seconds{kind=\"") &&
             metrics_label_value(out, st[i].kind) &&
             strbuf_printf(out, "\"} %.3f\n", age > 0 ? (double)age / 1e6 : 0.0);
    }
    ok = ok &&
         metrics_family(out, "videoflix_db_up", "gauge",
                        "1 when this scrape could read the database, else 0.") &&
         strbuf_printf(out, "videoflix_db_up %d\n", up ? 1 : 0);
    free(st);
    return ok;
}

static bool
render_disk(struct app *app, struct strbuf *out)
{
    struct statvfs sv;
    bool ok = metrics_family(out, "videoflix_media_disk_free_bytes", "gauge",
                             "Bytes available to the application under MEDIA_ROOT.");
    if (statvfs(app->cfg->media_root, &sv) == 0)
        ok = ok && strbuf_printf(out, "videoflix_media_disk_free_bytes %llu\n",
                                 (unsigned long long)sv.f_bavail * (unsigned long long)sv.f_frsize);
    else
        log_warn("metrics: statvfs %s failed", app->cfg->media_root);
    return ok;
}

void
metrics_serve(struct app *app, struct http_request *req, struct http_response *res)
{
    if ((req->method != HTTP_GET && req->method != HTTP_HEAD) ||
        !metrics_addr_allowed(app->cfg->metrics_allow, req->remote_addr)) {
        route_dispatch(app, routes_all, req, res); /* the 404 of any unknown path */
        return;
    }
    struct strbuf sb = { 0 };
    if (!metrics_render(&sb) || !render_jobs(app, &sb) || !render_disk(app, &sb)) {
        strbuf_free(&sb);
        json_error_reply(req, res, VF_ERR_NOMEM);
        return;
    }
    size_t len = sb.len;
    char *body = strbuf_take(&sb);
    if (body == NULL || http_body_take(res, EXPOSITION_TYPE, body, len) != VF_OK) {
        json_error_reply(req, res, VF_ERR_NOMEM);
        return;
    }
    res->status = 200;
    http_header_set(res, "Cache-Control", "no-store");
    http_header_set(res, "X-Content-Type-Options", "nosniff");
}
