/*
 * whiteglove profile create|list|show|assign|unassign|delete: the
 * tenant's deployment profiles (/admin/v1/deploymentProfiles,
 * docs/api.md).  A tenant admin key acts on its own tenant; the operator
 * key names the tenant with --tenant (sent as the tenantId query
 * parameter).  A profile is named by its id or by its name (looked up
 * with ?name=).  What can be checked here is checked with the server's
 * own rules (common/profile.c), so a typo costs no round trip.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "common/profile.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define PROFILES_PATH "/admin/v1/deploymentProfiles"
#define TENANT_HELP \
	"  -t, --tenant ID         the tenant to act on (operator key only)\n"

struct profile_args {
	const char *verb;
	const char *target;	/* create: NAME; others: ID|NAME */
	const char *mode;	/* create */
	const char *join;
	const char *name_template;
	const char *oobe;
	const char *esp_timeout;
	const char *reboot_policy;
	const char *ticket_days;
	const char *wrap;
	const char *group_tag;	/* assign, unassign */
	int is_default;
	const char *tenant;
	struct clientopts_query query; /* tenantId */
	json_t *body;		/* what create, assign, unassign send */
};

/* Every field of a profile, as show lists them. */
static const struct clientopts_col profile_fields[] = {
	{ "id", "id" },
	{ "name", "name" },
	{ "deployment mode", "deploymentMode" },
	{ "join method", "joinMethod" },
	{ "device name template", "deviceNameTemplate" },
	{ "OOBE", "oobeText" },
	{ "OOBE config", "oobeConfig" },
	{ "ESP timeout (minutes)", "espTimeoutMinutes" },
	{ "reboot policy", "rebootPolicy" },
	{ "ticket lifetime (days)", "ticketLifetimeDays" },
	{ "session key wrap", "sessionKeyWrap" },
	{ "tenant default", "isDefault" },
	{ "group tags", "groupTagsText" },
	{ "created", "createdAt" },
	{ "updated", "updatedAt" },
};

static void
overview_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove profile create NAME --mode MODE "
	    "[OPTIONS]\n"
	    "       whiteglove profile list [OPTIONS]\n"
	    "       whiteglove profile show ID|NAME [OPTIONS]\n"
	    "       whiteglove profile assign ID|NAME (--group-tag TAG | "
	    "--default)\n"
	    "       whiteglove profile unassign ID|NAME (--group-tag TAG | "
	    "--default)\n"
	    "       whiteglove profile delete ID|NAME [OPTIONS]\n\n"
	    "The tenant's deployment profiles: what a device is told to do "
	    "when it asks at\nstep 1 (mode, join, device name, OOBE screens, "
	    "ESP timeout, ticket).  A device\ngets the profile assigned to "
	    "its group tag, else the tenant's default.\nA profile is named "
	    "by its id or its name.  Every command takes --tenant ID\n(the "
	    "operator key's) and the client options; 'whiteglove profile "
	    "COMMAND\n--help' describes each.\n");
}

static void
create_usage(FILE *f)
{
	const struct wg_oobe_flag *flag;
	char modes[96];
	size_t i;

	wg_profile_enum_list(WG_PROFILE_MODE, 1, modes, sizeof(modes));
	fprintf(f, "usage: whiteglove profile create NAME --mode MODE [--join "
	    "METHOD]\n"
	    "           [--name-template TEMPLATE] [--oobe FLAG[,FLAG...]]\n"
	    "           [--esp-timeout MIN] [--reboot-policy POLICY] "
	    "[--ticket-days N]\n"
	    "           [--session-key-wrap ALG] [--tenant ID] [OPTIONS]\n\n"
	    "Creates a deployment profile named NAME (unique in the tenant); "
	    "it applies to\nno device until 'whiteglove profile assign'.\n\n"
	    "Options:\n"
	    "  -m, --mode MODE         %s\n"
	    "  --join METHOD           cloud (default) or hybrid\n"
	    "  --name-template T       the device's name: at most %d letters, "
	    "digits and '-',\n"
	    "                          not all digits; %%SERIAL%% is its "
	    "serial number (cut to\n"
	    "                          fit), %%RAND:n%% n random digits; "
	    "default: no name\n"
	    "  --oobe FLAGS            OOBE settings, comma-separated (their "
	    "bit in\n"
	    "                          CloudAssignedOobeConfig):\n", modes,
	    WG_DEVICE_NAME_MAX);
	for (i = 0; (flag = wg_oobe_flag_at(i)) != NULL; i++)
		fprintf(f, "%28s%-22s %4u\n", "", flag->name,
		    (unsigned)flag->bit);
	fprintf(f, "  --esp-timeout MIN       device setup's time limit, %d to "
	    "%d minutes\n"
	    "                          (default %d)\n"
	    "  --reboot-policy POLICY  strict (default: one boot between "
	    "reseal and sign-in)\n"
	    "                          or tolerant (any number within the "
	    "ticket's lifetime)\n"
	    "  --ticket-days N         the pre-provisioning ticket's lifetime, "
	    "%d to %d days\n"
	    "                          (default %d)\n"
	    "  --session-key-wrap ALG  how the sign-in wraps the session key "
	    "to the device's\n"
	    "                          transport key: RSA-OAEP-256 (default) "
	    "or RSA-OAEP\n"
	    "                          (SHA-1, as Windows wraps it)\n"
	    TENANT_HELP CLIENTOPTS_HELP, WG_ESP_TIMEOUT_MIN, WG_ESP_TIMEOUT_MAX,
	    WG_ESP_TIMEOUT_DEFAULT, WG_TICKET_DAYS_MIN, WG_TICKET_DAYS_MAX,
	    WG_TICKET_DAYS_DEFAULT);
}

static void
list_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove profile list [--tenant ID] [OPTIONS]\n\n"
	    "Lists the tenant's deployment profiles by name (all of them), "
	    "with the group\ntags assigned to each and which one is the "
	    "tenant's default.\n\n"
	    "Options:\n" TENANT_HELP CLIENTOPTS_HELP);
}

static void
show_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove profile show ID|NAME [--tenant ID] "
	    "[OPTIONS]\n\n"
	    "Shows every field of one deployment profile, named by its id or "
	    "its name.\n\n"
	    "Options:\n" TENANT_HELP CLIENTOPTS_HELP);
}

static void
assign_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove profile assign ID|NAME (--group-tag TAG "
	    "| --default)\n"
	    "                                [--tenant ID] [OPTIONS]\n\n"
	    "Assigns the profile to the devices with group tag TAG (the tag's "
	    "earlier\nprofile gives way), or makes it the tenant's default, "
	    "for devices whose tag\nhas no profile (the earlier default stops "
	    "being one).\n\n"
	    "Options:\n"
	    "  -g, --group-tag TAG     the devices' group tag\n"
	    "  -d, --default           the tenant's default profile\n"
	    TENANT_HELP CLIENTOPTS_HELP);
}

static void
unassign_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove profile unassign ID|NAME (--group-tag "
	    "TAG | --default)\n"
	    "                                  [--tenant ID] [OPTIONS]\n\n"
	    "Takes the profile off group tag TAG, or makes it stop being the "
	    "tenant's\ndefault.  It fails if the profile was not assigned so."
	    "\n\n"
	    "Options:\n"
	    "  -g, --group-tag TAG     the group tag to take it off\n"
	    "  -d, --default           stop being the tenant's default\n"
	    TENANT_HELP CLIENTOPTS_HELP);
}

static void
delete_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove profile delete ID|NAME [--tenant ID] "
	    "[OPTIONS]\n\n"
	    "Deletes a deployment profile and its assignments: devices of its "
	    "group tags\nget the tenant's default from then on (if there is "
	    "one).\n\n"
	    "Options:\n" TENANT_HELP CLIENTOPTS_HELP);
}

/* ---- create: the body, checked with the server's rules ---- */

/* Sets field name of body to value v of e given in its CLI spelling. */
static const char *
enum_option(json_t *body, const char *name, enum wg_profile_enum e,
    const char *v, char *msg, size_t msglen)
{
	char words[96];
	int val;

	if (v == NULL)
		return NULL;
	if ((val = wg_profile_enum_parse(e, v, 1)) < 0) {
		wg_profile_enum_list(e, 1, words, sizeof(words));
		snprintf(msg, msglen, "%s must be %s", e == WG_PROFILE_MODE ?
		    "--mode" : e == WG_PROFILE_JOIN ? "--join" :
		    "--reboot-policy", words);
		return msg;
	}
	json_object_set_new(body, name, json_string(wg_profile_enum_name(e,
	    val, 0)));
	return NULL;
}

/* Sets field name of body to the whole number v in [min, max]. */
static const char *
int_option(json_t *body, const char *name, const char *opt, const char *v,
    long min, long max, char *msg, size_t msglen)
{
	char *end;
	long n;

	if (v == NULL)
		return NULL;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *v == '\0' || *end != '\0' || n < min || n > max) {
		snprintf(msg, msglen, "%s must be a whole number from %ld to "
		    "%ld", opt, min, max);
		return msg;
	}
	json_object_set_new(body, name, json_integer(n));
	return NULL;
}

/* "oobe": the comma-separated flag names of v, each once. */
static const char *
oobe_option(json_t *body, const char *v, char *msg, size_t msglen)
{
	char *list, *name, *comma, flags[160], esc[80];
	uint32_t bit, mask = 0;
	const char *bad = NULL;
	json_t *arr;

	if (v == NULL)
		return NULL;
	arr = json_array();
	wg_oobe_list(flags, sizeof(flags));
	for (name = list = xstrdup(v); bad == NULL && name != NULL;
	    name = comma ? comma + 1 : NULL) {
		if ((comma = strchr(name, ',')) != NULL)
			*comma = '\0';
		bit = wg_oobe_bit(name);
		wg_escape_log(name, strlen(name), esc, sizeof(esc));
		if (bit == 0)
			snprintf(msg, msglen, "--oobe: \"%s\" is not a flag "
			    "name; the flags are %s", esc, flags);
		else if ((mask & bit) != 0)
			snprintf(msg, msglen, "--oobe names \"%s\" twice", esc);
		bad = bit == 0 || (mask & bit) != 0 ? msg : NULL;
		mask |= bit;
		json_array_append_new(arr, json_string(name));
	}
	free(list);
	if (bad == NULL)
		json_object_set_new(body, "oobe", arr);
	else
		json_decref(arr);
	return bad;
}

/* The create body of a's options into *out; a usage message if not. */
static const char *
create_body(const struct profile_args *a, json_t **out, char *msg,
    size_t msglen)
{
	json_t *body = json_object();
	const char *bad = NULL;
	char why[256];

	*out = NULL;
	if (json_object_set_new(body, "name", json_string(a->target)) != 0)
		bad = "NAME must be UTF-8 text";
	else if (a->mode == NULL)
		bad = "create needs --mode";
	else if (a->name_template != NULL && (wg_name_template_check(
	    a->name_template, why, sizeof(why)) != 0 ||
	    json_object_set_new(body, "deviceNameTemplate",
	    json_string(a->name_template)) != 0)) {
		snprintf(msg, msglen, "--name-template: %s", why);
		bad = msg;
	}
	if (bad == NULL &&
	    (bad = enum_option(body, "deploymentMode", WG_PROFILE_MODE,
	    a->mode, msg, msglen)) == NULL &&
	    (bad = enum_option(body, "joinMethod", WG_PROFILE_JOIN, a->join,
	    msg, msglen)) == NULL &&
	    (bad = oobe_option(body, a->oobe, msg, msglen)) == NULL &&
	    (bad = int_option(body, "espTimeoutMinutes", "--esp-timeout",
	    a->esp_timeout, WG_ESP_TIMEOUT_MIN, WG_ESP_TIMEOUT_MAX, msg,
	    msglen)) == NULL &&
	    (bad = enum_option(body, "rebootPolicy", WG_PROFILE_REBOOT,
	    a->reboot_policy, msg, msglen)) == NULL)
		bad = int_option(body, "ticketLifetimeDays", "--ticket-days",
		    a->ticket_days, WG_TICKET_DAYS_MIN, WG_TICKET_DAYS_MAX, msg,
		    msglen);
	if (bad == NULL && a->wrap != NULL && (strcmp(a->wrap, "RSA-OAEP-256") !=
	    0 && strcmp(a->wrap, "RSA-OAEP") != 0 ? (bad = "--session-key-wrap "
	    "must be RSA-OAEP-256 or RSA-OAEP") != NULL :
	    json_object_set_new(body, "sessionKeyWrap", json_string(a->wrap)) !=
	    0))
		bad = bad != NULL ? bad : "out of memory";
	if (bad != NULL)
		json_decref(body);
	else
		*out = body;
	return bad;
}

/* ---- printing ---- */

/* Prints a profile the server returned: title "NAME"what, its fields. */
static int
print_profile(const struct clientopts *co, json_t *p, const char *title,
    const char *what)
{
	const char *name;

	if (p == NULL)
		return clientopts_no_body("the profile");
	if (co->json) {
		clientopts_print_json(p);
		return CLI_EXIT_OK;
	}
	if ((name = clientopts_field(p, "name")) == NULL)
		return CLI_EXIT_FAIL;
	printf("%s \"%s\"%s\n", title, name, what);
	clientopts_join_strings(p, "oobe", "oobeText");
	clientopts_join_strings(p, "assignedGroupTags", "groupTagsText");
	if (json_is_string(json_object_get(p, "deviceNameTemplate")) &&
	    json_string_length(json_object_get(p, "deviceNameTemplate")) == 0)
		json_object_set_new(p, "deviceNameTemplate", json_null());
	clientopts_print_fields(p, profile_fields,
	    sizeof(profile_fields) / sizeof(profile_fields[0]));
	return CLI_EXIT_OK;
}

/* ---- the commands ---- */

static int
create_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	const struct profile_args *a = arg;
	json_t *ans = NULL;
	int ret;

	ret = clientopts_post(c, co, PROFILES_PATH, a->query.kv,
	    json_incref(a->body), &ans);
	if (ans == NULL)
		return ret; /* failed, or printed as JSON */
	ret = print_profile(co, ans, "Created deployment profile", "");
	json_decref(ans);
	return ret;
}

static int
list_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	static const struct clientopts_col cols[] = {
		{ "NAME", "name" },
		{ "MODE", "deploymentMode" },
		{ "DEFAULT", "isDefault" },
		{ "GROUP TAGS", "groupTagsText" },
		{ "ID", "id" },
	};
	const struct profile_args *a = arg;
	const struct clientopts_listing l = { .path = PROFILES_PATH,
		.query = &a->query, .all = 1, .cols = cols,
		.ncols = sizeof(cols) / sizeof(cols[0]), .empty_note = "No "
		"deployment profiles; 'whiteglove profile create' makes one.",
		.join_from = "assignedGroupTags", .join_to = "groupTagsText" };

	return clientopts_list_pages(c, co, &l);
}

/* assign or unassign: {"groupTag": TAG} or {"tenantDefault": true}. */
static int
target_post(struct wg_httpc *c, const struct clientopts *co,
    const struct profile_args *a, const char *path)
{
	int assign = strcmp(a->verb, "assign") == 0, ret;
	char what[300], esc[200];
	json_t *ans = NULL;

	ret = clientopts_post(c, co, path, a->query.kv, json_incref(a->body),
	    &ans);
	if (ans == NULL)
		return ret; /* failed, or printed as JSON */
	if (a->is_default) {
		snprintf(what, sizeof(what), " is %s the tenant's default",
		    assign ? "now" : "no longer");
	} else {
		wg_escape_log(a->group_tag, strlen(a->group_tag), esc,
		    sizeof(esc));
		snprintf(what, sizeof(what), " %s group tag \"%s\"", assign ?
		    "assigned to" : "taken off", esc);
	}
	ret = print_profile(co, ans, "Deployment profile", what);
	json_decref(ans);
	return ret;
}

/* show, assign, unassign, delete: one profile, by id or name. */
static int
target_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	const struct profile_args *a = arg;
	char *id, *path;
	json_t *ans = NULL;
	int ret;

	if ((id = clientopts_id_by_name(c, PROFILES_PATH, &a->query,
	    a->target, "deployment profile")) == NULL)
		return CLI_EXIT_FAIL;
	path = xasprintf(PROFILES_PATH "/%s%s", id,
	    strcmp(a->verb, "assign") == 0 ? "/assign" :
	    strcmp(a->verb, "unassign") == 0 ? "/unassign" : "");
	if (strcmp(a->verb, "show") == 0) {
		if ((ret = clientopts_call(c, "GET", path, a->query.kv, NULL,
		    &ans)) == CLI_EXIT_OK)
			ret = print_profile(co, ans, "Deployment profile", "");
	} else if (strcmp(a->verb, "delete") == 0) {
		ret = clientopts_call(c, "DELETE", path, a->query.kv, NULL,
		    &ans);
		if (ret == CLI_EXIT_OK && !co->json)
			printf("Deleted deployment profile %s\n", id);
	} else {
		ret = target_post(c, co, a, path);
	}
	json_decref(ans);
	free(path);
	free(id);
	return ret;
}

/* ---- options and operands ---- */

#define OPT_JOIN 0x200
#define OPT_TEMPLATE 0x201
#define OPT_OOBE 0x202
#define OPT_ESP 0x203
#define OPT_REBOOT 0x204
#define OPT_TICKET 0x205
#define OPT_WRAP 0x206

static const struct option create_opts[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "join", required_argument, NULL, OPT_JOIN },
	{ "name-template", required_argument, NULL, OPT_TEMPLATE },
	{ "oobe", required_argument, NULL, OPT_OOBE },
	{ "esp-timeout", required_argument, NULL, OPT_ESP },
	{ "reboot-policy", required_argument, NULL, OPT_REBOOT },
	{ "ticket-days", required_argument, NULL, OPT_TICKET },
	{ "session-key-wrap", required_argument, NULL, OPT_WRAP },
	{ "tenant", required_argument, NULL, 't' },
	CLIENTOPTS_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static const struct option target_opts[] = {
	{ "group-tag", required_argument, NULL, 'g' },
	{ "default", no_argument, NULL, 'd' },
	{ "tenant", required_argument, NULL, 't' },
	CLIENTOPTS_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static const struct option plain_opts[] = {
	{ "tenant", required_argument, NULL, 't' },
	CLIENTOPTS_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

/* A subcommand: its options, and whether it names a profile. */
struct verb {
	const char *name;
	struct clientopts_cmd spec;
	int takes_target; /* one operand: NAME (create) or ID|NAME */
	int takes_tag;	  /* --group-tag or --default (one of them) */
	clientopts_run_fn run;
};

static const struct verb verbs[] = {
	{ "create", { "profile create", create_usage, "m:t:", create_opts },
	    1, 0, create_run },
	{ "list", { "profile list", list_usage, "t:", plain_opts }, 0, 0,
	    list_run },
	{ "show", { "profile show", show_usage, "t:", plain_opts }, 1, 0,
	    target_run },
	{ "assign", { "profile assign", assign_usage, "g:dt:", target_opts },
	    1, 1, target_run },
	{ "unassign", { "profile unassign", unassign_usage, "g:dt:",
	    target_opts }, 1, 1, target_run },
	{ "delete", { "profile delete", delete_usage, "t:", plain_opts }, 1,
	    0, target_run },
};

/*
 * Operands and options that go together, and the body to send (into
 * a->body); a usage message if not.
 */
static const char *
check_args(const struct verb *v, struct profile_args *a, int argc,
    char **argv, char *msg, size_t msglen)
{
	if (argc - optind != v->takes_target)
		return !v->takes_target ? "list takes no arguments" :
		    v->run == create_run ? "give the new profile's NAME" :
		    "give one profile ID or NAME";
	a->target = v->takes_target ? argv[optind] : NULL;
	if (v->run == create_run)
		return create_body(a, &a->body, msg, msglen);
	if (!v->takes_tag)
		return NULL;
	if ((a->group_tag != NULL) == a->is_default)
		return "give either --group-tag TAG or --default";
	a->body = a->is_default ? json_pack("{s:b}", "tenantDefault", 1) :
	    json_pack("{s:s}", "groupTag", a->group_tag);
	return a->body == NULL ? "TAG must be UTF-8 text" : NULL;
}

int
cmd_profile(int argc, char **argv)
{
	struct profile_args a = { .verb = "" };
	const struct clientopts_arg args[] = {
		{ 'm', &a.mode, NULL },
		{ OPT_JOIN, &a.join, NULL },
		{ OPT_TEMPLATE, &a.name_template, NULL },
		{ OPT_OOBE, &a.oobe, NULL },
		{ OPT_ESP, &a.esp_timeout, NULL },
		{ OPT_REBOOT, &a.reboot_policy, NULL },
		{ OPT_TICKET, &a.ticket_days, NULL },
		{ OPT_WRAP, &a.wrap, NULL },
		{ 'g', &a.group_tag, NULL },
		{ 'd', NULL, &a.is_default },
		{ 't', &a.tenant, NULL },
		{ 0, NULL, NULL },
	};
	const struct verb *v = NULL;
	struct clientopts co;
	const char *bad;
	char msg[512];
	size_t i;
	int ret = CLI_EXIT_USAGE;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		overview_usage(stdout);
		return CLI_EXIT_OK;
	}
	for (i = 0; argc > 1 && i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			v = &verbs[i];
	if (v == NULL)
		return clientopts_usage_error("profile", overview_usage, "give "
		    "create, list, show, assign, unassign or delete");
	a.verb = argv[1];
	if (clientopts_parse(&co, argc - 1, argv + 1, &v->spec, args, &ret) !=
	    0)
		return ret;
	if ((bad = check_args(v, &a, argc - 1, argv + 1, msg, sizeof(msg))) !=
	    NULL)
		return clientopts_usage_error(v->spec.name, v->spec.usage, bad);
	clientopts_query_add(&a.query, "tenantId", a.tenant);
	ret = clientopts_run(&co, v->run, &a);
	json_decref(a.body);
	return ret;
}
