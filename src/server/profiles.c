/* The deployment profiles' admin API: being written. */
#include "server/server.h"

const struct http_routes profiles_routes = { NULL, 0 };
