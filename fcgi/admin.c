/* admin.c -- handlers of the admin resource. */
#include "route.h"

const struct route admin_routes[] = {
    { 0, NULL, NULL, 0 },
};
