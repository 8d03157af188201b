/*
 * whiteglove tenant create|list: tenant management with the operator key
 * (POST and GET /admin/v1/tenants, docs/api.md).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/clientopts.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove tenant create NAME [OPTIONS]\n"
	    "       whiteglove tenant list [OPTIONS]\n\n"
	    "Creates or lists tenants; both need the operator key.  create "
	    "prints the new\ntenant's id and its first admin API key, which "
	    "is shown only this once.\n\n"
	    "Options:\n" CLIENTOPTS_HELP);
}

static int
tenant_create(struct wg_httpc *c, const struct clientopts *co,
    const char *name)
{
	const char *id, *tname, *key_id, *key;
	json_t *body, *ans = NULL, *admin;
	int ret;

	if ((body = json_pack("{s:s}", "name", name)) == NULL)
		return clientopts_usage_error("tenant", usage,
		    "NAME must be UTF-8 text");
	ret = clientopts_post(c, co, "/admin/v1/tenants", NULL, body, &ans);
	if (ans == NULL)
		return ret; /* failed, or printed as JSON */
	admin = json_object_get(ans, "adminKey");
	ret = CLI_EXIT_FAIL;
	if ((id = clientopts_field(ans, "id")) == NULL ||
	    (tname = clientopts_field(ans, "name")) == NULL ||
	    (key_id = clientopts_field(admin, "id")) == NULL ||
	    (key = clientopts_field(admin, "key")) == NULL)
		goto done;
	printf("Created tenant \"%s\"\n  id: %s\n\n", tname, id);
	printf("Its first admin API key (id %s):\n\n  %s\n\n", key_id, key);
	printf("The key is shown only now: store it in a safe place.  Use it "
	    "with --token or\nWHITEGLOVE_TOKEN; 'whiteglove key create' makes "
	    "more.\n");
	ret = CLI_EXIT_OK;
done:
	json_decref(ans);
	return ret;
}

static int
tenant_list(struct wg_httpc *c, const struct clientopts *co)
{
	static const struct clientopts_col cols[] = {
		{ "ID", "id" },
		{ "NAME", "name" },
		{ "CREATED", "createdAt" },
	};

	return clientopts_list(c, co, "/admin/v1/tenants", NULL, cols,
	    sizeof(cols) / sizeof(cols[0]), "No tenants yet; 'whiteglove "
	    "tenant create NAME' makes one.");
}

int
cmd_tenant(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENTOPTS_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct clientopts_cmd spec = { "tenant", usage, "",
		longopts };
	struct clientopts co;
	struct wg_httpc *c = NULL;
	const char *verb;
	int ret = CLI_EXIT_USAGE, nargs;

	clientopts_init(&co);
	if (clientopts_next(&co, argc, argv, &spec, &ret) != CLIENTOPTS_DONE)
		return ret;
	verb = optind < argc ? argv[optind] : "";
	nargs = argc - optind - 1;
	if (strcmp(verb, "create") == 0 ? nargs != 1 :
	    strcmp(verb, "list") != 0 || nargs != 0)
		return clientopts_usage_error("tenant", usage, *verb == '\0' ?
		    "give create NAME or list" : "give create NAME or list, "
		    "and nothing more");
	if ((ret = clientopts_connect(&co, 1, &c)) != CLI_EXIT_OK)
		return ret;
	if (strcmp(verb, "create") == 0)
		ret = tenant_create(c, &co, argv[optind + 1]);
	else
		ret = tenant_list(c, &co);
	wg_httpc_free(c);
	return ret;
}
