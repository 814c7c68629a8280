/* test_build.c -- a test build (configure --enable-test-hooks) has the test hooks, and a
 * production build has none of them (RELIABILITY 32): no test statement in the statement table,
 * no debug route behind the real route tables even with DEBUG on, and none of their strings in
 * the programs that get installed.  script/test's builds check the first half, `make distcheck`
 * (a production configuration) the second. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "routes.h"
#include "stmt.h"

#ifndef VF_BUILDDIR /* tests/tests.mk defines it for this program; make lint does not */
#define VF_BUILDDIR "."
#endif

#ifdef VF_TEST_HOOKS
#define HOOKS true
#else
#define HOOKS false
#endif

/* fcgi/routes.c collects these with health_routes (and test_routes in a test build): empty
 * stand-ins, so this program links fcgi/routes.c itself, not a copy of its list. */
const struct route accounts_routes[] = { { 0, NULL, NULL, 0, ROUTE_AUTH_NONE } };
const struct route catalogue_routes[] = { { 0, NULL, NULL, 0, ROUTE_AUTH_NONE } };
const struct route admin_routes[] = { { 0, NULL, NULL, 0, ROUTE_AUTH_NONE } };
const struct route schema_routes[] = { { 0, NULL, NULL, 0, ROUTE_AUTH_NONE } };

Test(build, test_statements_exist_only_in_test_builds)
{
    size_t n = 0;
    for (int id = 0; id < STMT__MAX; id++)
        if (strncmp(stmt_table[id].name, "STMT_TEST_", 10) == 0 ||
            strstr(stmt_table[id].sqlite, "vf_test") != NULL)
            n++;
    if (HOOKS)
        cr_assert_gt(n, 0, "a test build has the statements of tests/unit/test_db.c");
    else
        cr_assert_eq(n, 0, "a production build has %zu test statements", n);
}

/* The status the real route tables give `method path` with DEBUG on. */
static int
dispatch(const char *method, const char *path, const char *body)
{
    const char *pairs[] = { "SECRET_KEY=k3Jx9vQ2mZp7Lr4Tn8Wb1Yc6Hd0Fs5Ga2Ue", "DEBUG=true" };
    const char *hdr[] = { "Content-Type: application/json" };
    struct config *cfg = NULL;
    char err[256];
    cr_assert_eq(config_load_pairs(pairs, 2, &cfg, err, sizeof(err)), VF_OK, "%s", err);
    struct app app = { .cfg = cfg, .db = NULL };
    struct http_request *req =
        http_request_new(method, path, hdr, body != NULL ? 1 : 0, body, body ? strlen(body) : 0);
    cr_assert_not_null(req);
    struct http_response res;
    http_response_init(&res);
    route_dispatch(&app, routes_all, req, &res);
    int status = res.status;
    http_response_free(&res);
    http_request_free(req);
    config_free(cfg);
    return status;
}

Test(build, debug_routes_exist_only_in_test_builds)
{
    cr_assert_eq(dispatch("GET", "/api/health/debug/sleep/?ms=0", NULL), HOOKS ? 200 : 404);
    cr_assert_eq(dispatch("POST", "/api/health/debug/echo/", "{\"a\":1}"), HOOKS ? 200 : 404);
    if (!HOOKS) /* in a test build it would abort this process, as it is meant to */
        cr_assert_eq(dispatch("GET", "/api/health/debug/crash/", NULL), 404);
    /* the health check itself is in every build (503 here: no database) */
    cr_assert_eq(dispatch("GET", "/api/health/", NULL), 503);
}

/* Whether the file at VF_BUILDDIR/rel contains `needle`; the file must exist. */
static bool
file_has(const char *rel, const char *needle)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", VF_BUILDDIR, rel);
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "%s: not built", path);
    cr_assert_eq(fseek(fp, 0, SEEK_END), 0);
    long len = ftell(fp);
    cr_assert_gt(len, 0);
    rewind(fp);
    char *buf = malloc((size_t)len);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    bool found = memmem(buf, (size_t)len, needle, strlen(needle)) != NULL;
    free(buf);
    return found;
}

Test(build, programs_carry_test_hooks_only_in_test_builds)
{
    static const struct {
        const char *program, *needle;
    } marks[] = {
        { "fcgi/videoflix-fcgi", "/api/health/debug/" },
        { "fcgi/videoflix-fcgi", "FROM vf_test" },
        { "worker/videoflix-worker", "VF_TEST_JOB_KINDS" },
        { "worker/videoflix-worker", "VF_TEST_JOB_CONCURRENCY" },
        { "worker/videoflix-worker", "FROM vf_test" },
        { "ctl/videoflixctl", "FROM vf_test" },
    };
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
        cr_expect_eq(file_has(marks[i].program, marks[i].needle), HOOKS, "%s %s \"%s\"",
                     marks[i].program, HOOKS ? "lacks" : "carries", marks[i].needle);
}
