/*
 * whiteglove-agent token: the signed-in user's primary refresh token used
 * (login.h): an access token for a resource, printed alone on standard
 * output for scripts, or the PRT renewed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/agent.h"
#include "agent/login.h"
#include "agent/phaseopts.h"
#include "common/errors.h"

#define TITLE "The user's token"

enum { OPT_RESOURCE = PHASE_OPT_END, OPT_REFRESH, OPT_JSON };

struct token_cmd {
	struct agent_phase_opts o;	/* the phase options */
	const char *resource;
	int refresh, json;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent token --resource NAME [--json] "
	    "--server URL [OPTIONS]\n"
	    "       whiteglove-agent token --refresh --server URL [OPTIONS]\n\n"
	    "Uses the primary refresh token of the user who signed in "
	    "(whiteglove-agent\nlogin) in a request signed with a key derived "
	    "from the session key the TPM\nunseals.  --resource prints an "
	    "access token for NAME on standard output,\nalone (--json: the "
	    "token service's whole answer); --refresh replaces the\nrefresh "
	    "token with a new one in " LOGIN_SESSION_FILE ".  Either way the "
	    "refresh\ntoken's 14 days start again.\n\n"
	    "Options:\n"
	    "  --resource NAME    the resource: 1 to %d of A-Za-z0-9 and "
	    ":/._-\n"
	    "  --json             print the whole answer as JSON\n"
	    "  --refresh          renew the refresh token instead\n",
	    LOGIN_RESOURCE_MAX);
	agent_phase_usage(f, "the server whose discovery document names the "
	    "token\n                     service, e.g. https://host:8443",
	    LOGIN_TRIES_DEFAULT);
}

/* Applies one option; returns an exit code, or -1 to go on. */
static int
token_option(void *opts, int ch, const char *arg)
{
	struct token_cmd *c = opts;

	switch (ch) {
	case OPT_RESOURCE:
		if (!login_resource_ok(arg))
			return agent_usage_error("token", usage, "--resource is "
			    "1 to %d of A-Za-z0-9 and :/._-",
			    LOGIN_RESOURCE_MAX);
		c->resource = arg;
		return -1;
	case OPT_REFRESH:
		c->refresh = 1;
		return -1;
	case OPT_JSON:
		c->json = 1;
		return -1;
	default:
		return agent_phase_only_option(&c->o, ch, arg, "token", usage);
	}
}

/* What the user asked for, on standard output. */
static void
token_print(const struct token_cmd *c, const struct login_token_result *r)
{
	char *text;

	if (c->json) {
		if ((text = json_dumps(r->answer, JSON_INDENT(2))) == NULL)
			abort(); /* out of memory */
		printf("%s\n", text);
		free(text); /* holds the token the user asked for */
	} else if (c->resource != NULL)
		printf("%s\n", r->access_token);
	else
		printf("Refresh token of %s renewed, valid until %s\n", r->upn,
		    r->prt_expires_at);
}

static int
token_main(void *opts)
{
	const struct token_cmd *c = opts;
	struct login_token_result r;
	char why[1024], see[1024];
	enum wg_err rc;

	if (c->o.server == NULL)
		return agent_usage_error("token", usage, "--server is needed");
	if ((c->resource == NULL) == !c->refresh)
		return agent_usage_error("token", usage, "give --resource NAME "
		    "or --refresh");
	if (c->json && c->resource == NULL)
		return agent_usage_error("token", usage, "--json goes with "
		    "--resource");
	rc = login_token(&c->o, c->resource, &r, why, sizeof(why));
	if (rc == WG_OK) {
		token_print(c, &r);
		login_token_result_free(&r);
		return AGENT_EXIT_OK;
	}
	snprintf(see, sizeof(see), "%s/events/" LOGIN_CHANNEL ".jsonl",
	    c->o.state_dir);
	return agent_phase_failed(TITLE, "token", rc, why, see);
}

int
cmd_token(int argc, char **argv)
{
	static const struct option longopts[] = {
		PHASE_LONGOPTS,
		{ "resource", required_argument, NULL, OPT_RESOURCE },
		{ "refresh", no_argument, NULL, OPT_REFRESH },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	struct token_cmd c = { 0 };

	agent_phase_defaults(&c.o, LOGIN_TRIES_DEFAULT);
	return agent_phase_cmd(argc, argv, "token", longopts, token_option,
	    usage, &c, token_main);
}
