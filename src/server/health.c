/*
 * Liveness and readiness, for load balancers and orchestrators.
 */
#include <jansson.h>

#include "server/server.h"
#include "wg_version.h"

/* GET /health: the process answers (no database round trip). */
static enum wg_err
health_get(struct http_req *req, struct http_resp *resp)
{
	http_resp_json(resp, 200, json_pack("{s:s, s:s}", "status", "ok",
	    "version", WG_VERSION));
	return WG_OK;
}

/* GET /ready: the database answers a round trip. */
static enum wg_err
ready_get(struct http_req *req, struct http_resp *resp)
{
	struct store_conn *c;
	enum wg_err rc;

	if ((rc = http_db(req, &c)) != WG_OK)
		return rc;
	if ((rc = store_ping(c)) != WG_OK)
		return http_fail(req, rc, "the database does not answer");
	http_resp_json(resp, 200, json_pack("{s:s, s:s, s:i}", "status",
	    "ready", "database", store_backend(req->srv->store),
	    "schemaVersion", store_schema_version(req->srv->store)));
	return WG_OK;
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_GET, "/health", WG_SVC_MAX, HTTP_AUTH_NONE, 0,
	    health_get),
	HTTP_ROUTE(HTTP_GET, "/ready", WG_SVC_MAX, HTTP_AUTH_NONE, 0,
	    ready_get),
};

const struct http_routes health_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
