/* health.c -- GET /api/health/ for load balancers and monitors. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "db.h"
#include "json.h"
#include "routes.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Whether the request carries the access cookie of an active staff user (the health check is
 * public: anything else, a bad or missing cookie included, is simply not staff). */
static bool
from_staff(struct app *app, const struct http_request *req)
{
    const char *jwt = http_cookie(req, AUTH_ACCESS_COOKIE);
    struct user u;
    struct token_claims c;
    return jwt != NULL && *jwt != '\0' && app->db != NULL &&
           auth_token_user(app, jwt, TOKEN_ACCESS, &u, &c) == VF_OK && u.is_staff;
}

/* 200 {"status":"ok","database":"ok"}, or 503 with Retry-After when the database does not answer
 * a round trip ("unavailable") or its schema is missing or behind the migrations installed under
 * VIDEOFLIX_DATA_DIR ("unmigrated").  "version" is added only with DEBUG on or for a staff
 * caller: a version tells an attacker which published flaws to try. */
static void
health(struct app *app, struct http_request *req, struct http_response *res)
{
    char dir[4096];
    int pending = 0;
    bool up = app->db != NULL && db_ping(app->db) == VF_OK;
    snprintf(dir, sizeof(dir), "%s/schema", app->cfg->data_dir);
    bool current = up && db_migrations_pending(app->db, dir, &pending) == VF_OK && pending == 0;
    cJSON *o = cJSON_CreateObject();

    if (o != NULL) {
        cJSON_AddStringToObject(o, "status", current ? "ok" : "error");
        cJSON_AddStringToObject(o, "database", current ? "ok" : up ? "unmigrated" : "unavailable");
        if (app->cfg->debug || from_staff(app, req))
            cJSON_AddStringToObject(o, "version", PACKAGE_VERSION);
    }
    json_reply(res, current ? 200 : 503, o);
    if (!current)
        http_header_set(res, "Retry-After", "5");
}

const struct route health_routes[] = {
    { HTTP_GET, "/api/health/", health, ROUTE_NO_STORE, ROUTE_AUTH_NONE },
    { 0, NULL, NULL, 0, ROUTE_AUTH_NONE },
};
