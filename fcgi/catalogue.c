/* catalogue.c -- handlers of the catalogue resource. */
#include "route.h"

const struct route catalogue_routes[] = {
    { 0, NULL, NULL, 0 },
};
