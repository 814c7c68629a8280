/* routes.h -- the route tables of the FastCGI application, one per resource file in fcgi/. */
#ifndef VF_ROUTES_H
#define VF_ROUTES_H

#include "route.h"

/* Each resource's table (fcgi/<resource>.c), ending with an entry whose pattern is NULL. */
extern const struct route health_routes[];
extern const struct route accounts_routes[];
extern const struct route catalogue_routes[];
extern const struct route admin_routes[];
extern const struct route schema_routes[];
#ifdef VF_TEST_HOOKS
/* Test builds only (fcgi/testroutes.c): /api/health/debug/... */
extern const struct route test_routes[];
#endif

/* The tables in match order, NULL-terminated (fcgi/routes.c). */
extern const struct route *const routes_all[];

/* GET /metrics (fcgi/metrics.c), called by the responder for that one path: the Prometheus
 * exposition for METRICS_ALLOW addresses, the 404 of an unknown path for anyone else. */
void metrics_serve(struct app *app, struct http_request *req, struct http_response *res);

/* Release the per-process state of the catalogue handlers (their list cache); called once
 * by the responder before a worker exits. */
void catalogue_routes_release(void);
/* The same for the OpenAPI handler (fcgi/schema.c): the documents it read. */
void schema_routes_release(void);

#endif
