/* accounts.c -- handlers of the accounts resource. */
#include "route.h"

const struct route accounts_routes[] = {
    { 0, NULL, NULL, 0 },
};
