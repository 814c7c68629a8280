/* routes.c -- the route tables of the FastCGI application, in match order. */
#include "route.h"

const struct route *const route_tables[] = {
    health_routes, accounts_routes, catalogue_routes, admin_routes, NULL,
};
