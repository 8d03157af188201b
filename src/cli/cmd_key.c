/*
 * whiteglove key create|list|revoke: a tenant's admin API keys
 * (/admin/v1/apiKeys, docs/api.md).  A tenant admin key acts on its own
 * tenant; the operator key names the tenant with --tenant (sent as the
 * tenantId query parameter).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "common/util.h"
#include "common/xmalloc.h"

struct key_args {
	const char *verb;
	const char *name;	/* --name, create only */
	const char *id;		/* revoke's ID */
	const char *query[3];	/* { "tenantId", ID, NULL } or { NULL } */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove key create [--name NAME] [--tenant ID] "
	    "[OPTIONS]\n"
	    "       whiteglove key list [--tenant ID] [OPTIONS]\n"
	    "       whiteglove key revoke KEY-ID [--tenant ID] [OPTIONS]\n\n"
	    "Creates, lists and revokes a tenant's admin API keys.  A tenant "
	    "admin key\nacts on its own tenant; the operator key must name "
	    "the tenant with --tenant.\ncreate prints the new key, which is "
	    "shown only this once.\n\n"
	    "Options:\n"
	    "  -n, --name NAME  a name for the new key (create), e.g. \"ci\"\n"
	    "  -t, --tenant ID  the tenant to act on (operator key only)\n"
	    CLIENTOPTS_HELP);
}

static int
key_create(struct wg_httpc *c, const struct clientopts *co,
    const struct key_args *a)
{
	const char *id, *name, *key;
	json_t *body, *ans = NULL;
	int ret;

	body = a->name != NULL ? json_pack("{s:s}", "name", a->name) :
	    json_object();
	if (body == NULL)
		return clientopts_usage_error("key", usage,
		    "NAME must be UTF-8 text");
	ret = clientopts_post(c, co, "/admin/v1/apiKeys", a->query, body,
	    &ans);
	if (ans == NULL)
		return ret; /* failed, or printed as JSON */
	ret = CLI_EXIT_FAIL;
	if ((id = clientopts_field(ans, "id")) == NULL ||
	    (name = clientopts_field(ans, "name")) == NULL ||
	    (key = clientopts_field(ans, "key")) == NULL)
		goto done;
	printf("Created API key \"%s\"\n  id: %s\n\n  %s\n\n", name, id, key);
	printf("The key is shown only now: store it in a safe place.\n");
	ret = CLI_EXIT_OK;
done:
	json_decref(ans);
	return ret;
}

static int
key_list(struct wg_httpc *c, const struct clientopts *co,
    const struct key_args *a)
{
	static const struct clientopts_col cols[] = {
		{ "ID", "id" },
		{ "NAME", "name" },
		{ "CREATED", "createdAt" },
		{ "LAST USED", "lastUsedAt" },
		{ "REVOKED", "revokedAt" },
	};

	return clientopts_list(c, co, "/admin/v1/apiKeys", a->query, cols,
	    sizeof(cols) / sizeof(cols[0]), "No API keys.");
}

static int
key_revoke(struct wg_httpc *c, const struct clientopts *co,
    const struct key_args *a)
{
	json_t *ans = NULL;
	char *path;
	int ret;

	path = xasprintf("/admin/v1/apiKeys/%s", a->id);
	ret = clientopts_call(c, "DELETE", path, a->query, NULL, &ans);
	if (ret == CLI_EXIT_OK && !co->json)
		printf("Revoked API key %s\n", a->id);
	json_decref(ans);
	free(path);
	return ret;
}

/* Operands and options that go together; a usage message if not. */
static const char *
check_args(struct key_args *a, int argc, char **argv)
{
	int nargs = argc - optind - 1;

	a->verb = optind < argc ? argv[optind] : "";
	if (strcmp(a->verb, "create") != 0 && strcmp(a->verb, "list") != 0 &&
	    strcmp(a->verb, "revoke") != 0)
		return "give create, list or revoke";
	if (strcmp(a->verb, "revoke") == 0) {
		if (nargs != 1)
			return "revoke takes one KEY-ID";
		a->id = argv[optind + 1];
		if (!wg_is_uuid(a->id))
			return "KEY-ID must be a key id as 'whiteglove key "
			    "list' shows it";
	} else if (nargs != 0) {
		return "too many arguments";
	}
	if (a->name != NULL && strcmp(a->verb, "create") != 0)
		return "--name goes with create";
	return NULL;
}

int
cmd_key(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "tenant", required_argument, NULL, 't' },
		CLIENTOPTS_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct clientopts_cmd spec = { "key", usage, "n:t:",
		longopts };
	struct key_args a = { .query = { NULL } };
	struct clientopts co;
	struct wg_httpc *c = NULL;
	const char *bad;
	int ch, ret = CLI_EXIT_USAGE;

	clientopts_init(&co);
	while ((ch = clientopts_next(&co, argc, argv, &spec, &ret)) !=
	    CLIENTOPTS_DONE) {
		if (ch == CLIENTOPTS_EXIT)
			return ret;
		if (ch == 'n') {
			a.name = optarg;
		} else {
			a.query[0] = "tenantId";
			a.query[1] = optarg;
		}
	}
	if ((bad = check_args(&a, argc, argv)) != NULL)
		return clientopts_usage_error("key", usage, bad);
	if ((ret = clientopts_connect(&co, 1, &c)) != CLI_EXIT_OK)
		return ret;
	if (strcmp(a.verb, "create") == 0)
		ret = key_create(c, &co, &a);
	else if (strcmp(a.verb, "list") == 0)
		ret = key_list(c, &co, &a);
	else
		ret = key_revoke(c, &co, &a);
	wg_httpc_free(c);
	return ret;
}
