/* routes.c -- the route tables of the FastCGI application, in match order. */
#include "autoconf.h"

#include "routes.h"

const struct route *const routes_all[] = {
    health_routes, accounts_routes, catalogue_routes, admin_routes, schema_routes,
#ifdef VF_TEST_HOOKS
    test_routes,
#endif
    NULL,
};
