/* The ztd service: being written. */
#include "server/server.h"

const struct http_routes ztd_routes = { NULL, 0 };
