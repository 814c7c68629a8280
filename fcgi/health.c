/* health.c -- handlers of the health resource. */
#include "route.h"

const struct route health_routes[] = {
    { 0, NULL, NULL, 0 },
};
