/*
 * whiteglove tenant create|list|show|set: tenant management
 * (/admin/v1/tenants, docs/api.md, "Tenants").  create and list need the
 * operator key; show and set take it or an admin key of that tenant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "common/xmalloc.h"

#define TENANTS_PATH "/admin/v1/tenants"
#define OPT_RECOVERY 0x200

/* What `tenant show ID` and `tenant set ID` are asked to do. */
struct tenant_args {
	const char *verb;
	const char *id;
	const char *recovery;	/* --allow-join-recovery on|off; NULL: none */
};

static const struct clientopts_col tenant_fields[] = {
	{ "id", "id" },
	{ "name", "name" },
	{ "created", "createdAt" },
	{ "allow join recovery", "allowJoinRecovery" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove tenant create NAME [OPTIONS]\n"
	    "       whiteglove tenant list [OPTIONS]\n"
	    "       whiteglove tenant show ID [OPTIONS]\n"
	    "       whiteglove tenant set ID --allow-join-recovery on|off "
	    "[OPTIONS]\n\n"
	    "create and list need the operator key.  create prints the new "
	    "tenant's id and\nits first admin API key, which is shown only "
	    "this once.  show and set take the\noperator key or an admin key "
	    "of that tenant: show prints the tenant and its\nsettings, set "
	    "changes a setting and prints the tenant after.\n\n"
	    "Options:\n"
	    "  --allow-join-recovery on|off\n"
	    "                 set: whether a user whose device lost its "
	    "pre-provisioned\n"
	    "                 join may recover it by signing in "
	    "(whiteglove-agent\n"
	    "                 login --recover); off for a new tenant\n"
	    CLIENTOPTS_HELP);
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

static int
print_tenant(const struct clientopts *co, json_t *t, const char *title)
{
	const char *name;

	if (t == NULL)
		return clientopts_no_body("the tenant");
	if (co->json) {
		clientopts_print_json(t);
		return CLI_EXIT_OK;
	}
	if ((name = clientopts_field(t, "name")) == NULL)
		return CLI_EXIT_FAIL;
	printf("%s \"%s\"\n", title, name);
	clientopts_print_fields(t, tenant_fields,
	    sizeof(tenant_fields) / sizeof(tenant_fields[0]));
	return CLI_EXIT_OK;
}

/* show: GET the tenant; set: PATCH its setting, then print it. */
static int
tenant_one(struct wg_httpc *c, const struct clientopts *co,
    const struct tenant_args *a)
{
	json_t *body = NULL, *ans = NULL;
	char *path = xasprintf(TENANTS_PATH "/%s", a->id);
	int ret;

	if (strcmp(a->verb, "show") == 0) {
		if ((ret = clientopts_call(c, "GET", path, NULL, NULL,
		    &ans)) == CLI_EXIT_OK)
			ret = print_tenant(co, ans, "Tenant");
	} else {
		body = json_pack("{s:b}", "allowJoinRecovery",
		    strcmp(a->recovery, "on") == 0);
		if ((ret = clientopts_call(c, "PATCH", path, NULL, body,
		    &ans)) == CLI_EXIT_OK)
			ret = print_tenant(co, ans, "Updated tenant");
	}
	json_decref(body);
	json_decref(ans);
	free(path);
	return ret;
}

/* The verb, its operands and the options that go with it; a message if
 * they do not go together. */
static const char *
tenant_check(struct tenant_args *a, int argc, char **argv)
{
	int nargs;

	a->verb = optind < argc ? argv[optind] : "";
	nargs = argc - optind - 1;
	if (strcmp(a->verb, "create") != 0 && strcmp(a->verb, "list") != 0 &&
	    strcmp(a->verb, "show") != 0 && strcmp(a->verb, "set") != 0)
		return "give create NAME or list, or show ID or set ID";
	if (strcmp(a->verb, "list") == 0 ? nargs != 0 : nargs != 1)
		return "give create NAME or list, or show ID or set ID, and "
		    "nothing more";
	if (strcmp(a->verb, "show") == 0 || strcmp(a->verb, "set") == 0) {
		a->id = argv[optind + 1];
		if (!clientopts_id_ok(a->id))
			return "ID must be a tenant id as 'whiteglove tenant "
			    "list' shows it";
	}
	if (strcmp(a->verb, "set") != 0)
		return a->recovery == NULL ? NULL :
		    "--allow-join-recovery goes with set";
	if (a->recovery == NULL)
		return "set needs --allow-join-recovery on|off";
	if (strcmp(a->recovery, "on") != 0 && strcmp(a->recovery, "off") != 0)
		return "--allow-join-recovery must be on or off";
	return NULL;
}

int
cmd_tenant(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "allow-join-recovery", required_argument, NULL,
		    OPT_RECOVERY },
		CLIENTOPTS_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct clientopts_cmd spec = { "tenant", usage, "",
		longopts };
	struct tenant_args a = { .verb = "" };
	const struct clientopts_arg args[] = {
		{ OPT_RECOVERY, &a.recovery, NULL },
		{ 0, NULL, NULL },
	};
	struct clientopts co;
	struct wg_httpc *c = NULL;
	const char *bad;
	int ret = CLI_EXIT_USAGE;

	if (clientopts_parse(&co, argc, argv, &spec, args, &ret) != 0)
		return ret;
	if ((bad = tenant_check(&a, argc, argv)) != NULL)
		return clientopts_usage_error("tenant", usage, bad);
	if ((ret = clientopts_connect(&co, 1, &c)) != CLI_EXIT_OK)
		return ret;
	if (strcmp(a.verb, "create") == 0)
		ret = tenant_create(c, &co, argv[optind + 1]);
	else if (strcmp(a.verb, "list") == 0)
		ret = tenant_list(c, &co);
	else
		ret = tenant_one(c, &co, &a);
	wg_httpc_free(c);
	return ret;
}
