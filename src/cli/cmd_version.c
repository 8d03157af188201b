/*
 * whiteglove version: this program's version and, when a server URL is
 * set, the server's (GET /health).  An unreachable server is only noted:
 * the command exists to be run when things are broken.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "common/httpc.h"
#include "common/json.h"
#include "wg_version.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove version [--url URL] [--ca FILE] "
	    "[--json]\n\n"
	    "Prints the version of this program and, when --url or "
	    "WHITEGLOVE_URL is set,\nthe version of the server there "
	    "(GET /health, no key needed).\n\n"
	    "Options:\n"
	    "  --url URL      the server (WHITEGLOVE_URL)\n"
	    "  --ca FILE      trust only this CA for the server's certificate\n"
	    "                 (WHITEGLOVE_CA)\n"
	    "  --json         print JSON\n"
	    "  -h, --help     print this help\n");
}

/* The server's version into ver; else the error and why in detail. */
static enum wg_err
server_version(struct wg_httpc *c, char *ver, size_t verlen, char *detail,
    size_t detlen)
{
	struct wg_httpc_resp resp = { 0 };
	struct wg_httpc_error e;
	const char *v;
	json_t *o = NULL;
	enum wg_err rc;

	if ((rc = wg_httpc_json(c, "GET", "/health", NULL, NULL, &resp)) !=
	    WG_OK) {
		snprintf(detail, detlen, "%s", resp.detail);
		goto done;
	}
	if (resp.status != 200) {
		wg_httpc_resp_error(&resp, &e);
		rc = e.err;
		snprintf(detail, detlen, "%s", e.message);
		goto done;
	}
	if ((rc = wg_httpc_resp_json(&resp, &o, detail, detlen)) != WG_OK)
		goto done;
	if (wg_json_string(o, "version", 1, 64, &v, detail, detlen) != WG_OK) {
		rc = WG_E_NET_PROTOCOL;
		goto done;
	}
	snprintf(ver, verlen, "%s", v);
done:
	json_decref(o);
	wg_httpc_resp_free(&resp);
	return rc;
}

static void
print_result(const struct clientopts *co, enum wg_err rc, const char *ver,
    const char *detail)
{
	char code[16];
	json_t *o, *srv = NULL;

	wg_err_code_str(rc, code, sizeof(code));
	if (co->json) {
		if (co->url_given)
			srv = rc == WG_OK ? json_pack("{s:s, s:s}", "url",
			    co->url, "version", ver) : json_pack("{s:s, s:n, "
			    "s:{s:s, s:s, s:s}}", "url", co->url, "version",
			    "error", "code", code, "name", wg_err_name(rc),
			    "message", detail);
		o = json_pack("{s:s, s:o?}", "version", WG_VERSION, "server",
		    srv);
		if (o != NULL)
			clientopts_print_json(o);
		json_decref(o);
		return;
	}
	printf("whiteglove %s\n", WG_VERSION);
	if (!co->url_given)
		return;
	if (rc == WG_OK)
		printf("server     %s (%s)\n", ver, co->url);
	else
		printf("server     unknown: %s did not answer (%s %s: %s)\n",
		    co->url, code, wg_err_name(rc), detail);
}

int
cmd_version(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, CLIENTOPT_URL },
		{ "ca", required_argument, NULL, CLIENTOPT_CA },
		{ "json", no_argument, NULL, CLIENTOPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct clientopts_cmd spec = { "version", usage, "",
		longopts };
	struct clientopts co;
	struct wg_httpc *c = NULL;
	char ver[65] = "", detail[1100];
	enum wg_err rc = WG_OK;
	int ret = CLI_EXIT_USAGE;

	clientopts_init(&co);
	co.token = NULL; /* /health needs none; keys go nowhere unasked */
	/* No options of its own: anything but the end means return. */
	if (clientopts_next(&co, argc, argv, &spec, &ret) != CLIENTOPTS_DONE)
		return ret;
	if (optind != argc)
		return clientopts_usage_error("version", usage,
		    "version takes no arguments");
	if (co.url_given) {
		if ((ret = clientopts_connect(&co, 0, &c)) != CLI_EXIT_OK)
			return ret;
		rc = server_version(c, ver, sizeof(ver), detail,
		    sizeof(detail));
		wg_httpc_free(c);
	}
	print_result(&co, rc, ver, detail);
	return CLI_EXIT_OK;
}
