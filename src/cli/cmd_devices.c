/*
 * whiteglove devices, whiteglove device show|delete|set|...|timeline:
 * the tenant's registered devices (/admin/v1/devices, docs/api.md).  A
 * tenant admin key acts on its own tenant; the operator key names the
 * tenant with --tenant (sent as the tenantId query parameter).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "common/util.h"
#include "common/xmalloc.h"

/* Every field of a device, as `device show` lists them. */
static const struct clientopts_col device_fields[] = {
	{ "id", "id" },
	{ "serial number", "serialNumber" },
	{ "manufacturer", "manufacturer" },
	{ "model", "model" },
	{ "group tag", "groupTag" },
	{ "assigned user", "assignedUserPrincipalName" },
	{ "registered owner", "registeredOwner" },
	{ "enrollment state", "enrollmentState" },
	{ "ZTDID", "ztdId" },
	{ "directory device", "directoryDeviceId" },
	{ "enabled", "enabled" },
	{ "last contacted", "lastContacted" },
	{ "import", "importId" },
	{ "created", "createdAt" },
};

static void
devices_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove devices [--serial PREFIX] [--group-tag "
	    "TAG] [--import ID]\n"
	    "                          [--all] [--tenant ID] [OPTIONS]\n\n"
	    "Lists the tenant's registered devices, newest first.  Without "
	    "--all only the\nfirst page is shown, with a note when more "
	    "exist.\n\n"
	    "Options:\n"
	    "  -s, --serial PREFIX  only devices whose serial number starts "
	    "so\n"
	    "  -g, --group-tag TAG  only devices with this group tag\n"
	    "  -i, --import ID      only devices from this import\n"
	    "  -a, --all            every page, not only the first\n"
	    "  -t, --tenant ID      the tenant to act on (operator key only)\n"
	    CLIENTOPTS_HELP);
}

static void
device_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove device show ID [--tenant ID] [OPTIONS]\n"
	    "       whiteglove device delete ID [--tenant ID] [OPTIONS]\n"
	    "       whiteglove device set ID [--group-tag TAG] [--user UPN] "
	    "[--tenant ID]\n"
	    "                             [OPTIONS]\n"
	    "       whiteglove device mdm ID [--tenant ID] [OPTIONS]\n"
	    "       whiteglove device unenroll ID [--tenant ID] [OPTIONS]\n"
	    "       whiteglove device allow-next-enrollment ID [--tenant ID] "
	    "[OPTIONS]\n"
	    "       whiteglove device setup ID [--tenant ID] [OPTIONS]\n"
	    "       whiteglove device timeline ID [--tenant ID] [OPTIONS]\n\n"
	    "Shows, deletes or changes one registered device; ID is its id "
	    "as 'whiteglove\ndevices' lists it.  Deleting a device removes "
	    "its registration: it can be\nimported again (also into another "
	    "tenant).\n\n"
	    "A pre-provisioned device enrolls in MDM once; a second "
	    "enrollment fails with\n0x80180014.  'mdm' shows the device's "
	    "enrollment, 'unenroll' deletes it and\n'allow-next-enrollment' "
	    "lets the device enroll one more time while keeping\nit; either "
	    "lets the flow run again.\n\n"
	    "'setup' shows device setup as the device reported it (the "
	    "Enrollment Status\nPage): each app's last state (identifying, "
	    "downloading, installing,\ninstalled, failed) with its error "
	    "code and message.\n\n"
	    "'timeline' shows the device's story in time order: the server's "
	    "records of it\n(profile delivered, token, join, enrollment, "
	    "ticket, ...) and the events the\ndevice uploaded from its "
	    "channels at the end of each phase (the newest\n1000), then the "
	    "first failure with what its code means and what to do.\n\n"
	    "Options:\n"
	    "  -g, --group-tag TAG  set: the new group tag\n"
	    "  -u, --user UPN       set: the new assigned user "
	    "(user@example.com)\n"
	    "  -t, --tenant ID      the tenant to act on (operator key only)\n"
	    CLIENTOPTS_HELP);
}

static int
devices_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	return clientopts_list_pages(c, co, arg);
}

int
cmd_devices(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "serial", required_argument, NULL, 's' },
		{ "group-tag", required_argument, NULL, 'g' },
		{ "import", required_argument, NULL, 'i' },
		{ "all", no_argument, NULL, 'a' },
		{ "tenant", required_argument, NULL, 't' },
		CLIENTOPTS_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct clientopts_cmd spec = { "devices", devices_usage,
		"s:g:i:at:", longopts };
	static const struct clientopts_col cols[] = {
		{ "SERIAL", "serialNumber" },
		{ "MANUFACTURER", "manufacturer" },
		{ "MODEL", "model" },
		{ "GROUP TAG", "groupTag" },
		{ "STATE", "enrollmentState" },
		{ "ENABLED", "enabled" },
		{ "ID", "id" },
	};
	struct clientopts_query q = { .n = 0 };
	struct clientopts_listing l = { .path = "/admin/v1/devices",
		.query = &q, .cols = cols, .ncols = sizeof(cols) / sizeof(cols[0]),
		.empty_note = "No devices.", .more_note = "More devices exist: "
		"add --all to list them all, or narrow the list with\n--serial, "
		"--group-tag or --import." };
	const char *filter[4] = { NULL, NULL, NULL, NULL };
	static const char *const names[4] = { "serial", "groupTag",
		"importId", "tenantId" };
	const struct clientopts_arg args[] = {
		{ 's', &filter[0], NULL },
		{ 'g', &filter[1], NULL },
		{ 'i', &filter[2], NULL },
		{ 't', &filter[3], NULL },
		{ 'a', NULL, &l.all },
		{ 0, NULL, NULL },
	};
	struct clientopts co;
	int i, ret = CLI_EXIT_USAGE;

	if (clientopts_parse(&co, argc, argv, &spec, args, &ret) != 0)
		return ret;
	if (optind < argc)
		return clientopts_usage_error("devices", devices_usage,
		    "devices takes no arguments; filter with --serial, "
		    "--group-tag or --import");
	for (i = 0; i < 4; i++)
		clientopts_query_add(&q, names[i], filter[i]);
	return clientopts_run(&co, devices_run, &l);
}

struct device_args {
	const char *verb;
	const char *id;
	const char *group_tag;	/* set */
	const char *user;	/* set */
	const char *tenant;
	struct clientopts_query query;
};

/* Prints a device the server returned (show, set). */
static int
print_device(const struct clientopts *co, json_t *dev, const char *title)
{
	const char *id;

	if (dev == NULL)
		return clientopts_no_body("the device");
	if (co->json) {
		clientopts_print_json(dev);
		return CLI_EXIT_OK;
	}
	if ((id = clientopts_field(dev, "id")) == NULL)
		return CLI_EXIT_FAIL;
	printf("%s %s\n", title, id);
	clientopts_print_fields(dev, device_fields,
	    sizeof(device_fields) / sizeof(device_fields[0]));
	return CLI_EXIT_OK;
}

/*
 * GET path/sub, a device's list (what: its name in messages): CLI_EXIT_OK
 * with *ans and its "value" array in *list for the caller to print, or
 * with *list NULL when --json printed it; else the exit code (no array
 * in the answer: clientopts_no_body).  The caller decrefs *ans.
 */
static int
device_list_get(struct wg_httpc *c, const struct clientopts *co,
    const struct device_args *a, const char *path, const char *sub,
    const char *what, json_t **ans, const json_t **list)
{
	char *p = xasprintf("%s/%s", path, sub);
	int ret;

	*ans = NULL;
	*list = NULL;
	ret = clientopts_call(c, "GET", p, a->query.kv, NULL, ans);
	free(p);
	if (ret != CLI_EXIT_OK)
		return ret;
	if (co->json) {
		clientopts_print_json(*ans);
		return CLI_EXIT_OK;
	}
	*list = json_object_get(*ans, "value");
	if (!json_is_array(*list)) {
		*list = NULL;
		return clientopts_no_body(what);
	}
	return CLI_EXIT_OK;
}

/* setup: each app's state as the device last reported it. */
static int
device_setup(struct wg_httpc *c, const struct clientopts *co,
    const struct device_args *a, const char *path)
{
	static const struct clientopts_col cols[] = {
		{ "APP", "appName" },
		{ "STATE", "state" },
		{ "CODE", "code" },
		{ "UPDATED", "updatedAt" },
		{ "MESSAGE", "message" },
	};
	const json_t *list;
	json_t *ans;
	int ret;

	ret = device_list_get(c, co, a, path, "setup", "the device's app "
	    "states", &ans, &list);
	if (list != NULL && json_array_size(list) == 0) {
		printf("Device %s has reported no app yet.\n", a->id);
	} else if (list != NULL) {
		printf("Device setup of device %s:\n", a->id);
		clientopts_print_table(list, cols, sizeof(cols) /
		    sizeof(cols[0]));
	}
	json_decref(ans);
	return ret;
}

/* A string field of o, or "-"; the server's text, printed as is. */
static const char *
text_or_dash(const json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));

	return s != NULL && wg_str_printable(s) ? s : "-";
}

/* s without one trailing '.', as a printf precision. */
static int
no_period(const char *s)
{
	size_t n = strlen(s);

	return (int)(n > 0 && s[n - 1] == '.' ? n - 1 : n);
}

/* "First failure: CODE NAME — meaning. What to do: remedy." */
static void
print_first_failure(const json_t *f)
{
	const char *meaning, *remedy;

	if (!json_is_object(f)) {
		printf("No failure recorded.\n");
		return;
	}
	meaning = text_or_dash(f, "meaning");
	remedy = text_or_dash(f, "remedy");
	printf("First failure: %s %s \xe2\x80\x94 %.*s. What to do: %.*s.\n",
	    text_or_dash(f, "code"), text_or_dash(f, "name"),
	    no_period(meaning), meaning, no_period(remedy), remedy);
	printf("  (%s, %s event %" JSON_INTEGER_FORMAT " of channel %s at %s: "
	    "%s)\n", text_or_dash(f, "source"), text_or_dash(f, "phase"),
	    json_integer_value(json_object_get(f, "eventId")),
	    text_or_dash(f, "channel"), text_or_dash(f, "time"),
	    text_or_dash(f, "message"));
}

/* timeline: the server's records and the device's events, in order. */
static int
device_timeline(struct wg_httpc *c, const struct clientopts *co,
    const struct device_args *a, const char *path)
{
	static const struct clientopts_col cols[] = {
		{ "TIME", "time" },
		{ "SOURCE", "source" },
		{ "CHANNEL", "channel" },
		{ "ID", "eventId" },
		{ "LEVEL", "level" },
		{ "PHASE", "phase" },
		{ "CODE", "name" },
		{ "MESSAGE", "message" },
	};
	const json_t *list;
	json_t *ans;
	int ret;

	ret = device_list_get(c, co, a, path, "timeline", "the device's "
	    "timeline", &ans, &list);
	if (list != NULL) {
		printf("Timeline of device %s (serial number %s):\n", a->id,
		    text_or_dash(ans, "serialNumber"));
		if (json_array_size(list) == 0)
			printf("No events yet.\n");
		else
			clientopts_print_table(list, cols, sizeof(cols) /
			    sizeof(cols[0]));
		if (json_is_true(json_object_get(ans, "more")))
			printf("(older events left out)\n");
		print_first_failure(json_object_get(ans, "firstFailure"));
	}
	json_decref(ans);
	return ret;
}

/* mdm, unenroll, allow-next-enrollment: the device's MDM enrollment. */
static int
device_mdm(struct wg_httpc *c, const struct clientopts *co,
    const struct device_args *a, const char *path)
{
	static const struct clientopts_col fields[] = {
		{ "enrollment", "enrollmentId" },
		{ "enrolled", "enrolledAt" },
		{ "certificate", "thumbprint" },
		{ "valid until", "certificateNotAfter" },
	};
	char *sub = xasprintf("%s/%s", path, strcmp(a->verb,
	    "allow-next-enrollment") == 0 ? "allowNextEnrollment" :
	    "mdmEnrollment");
	json_t *ans = NULL;
	int ret;

	if (strcmp(a->verb, "mdm") == 0) {
		ret = clientopts_call(c, "GET", sub, a->query.kv, NULL, &ans);
		if (ret == CLI_EXIT_OK && co->json)
			clientopts_print_json(ans);
		else if (ret == CLI_EXIT_OK)
			clientopts_print_fields(ans, fields,
			    sizeof(fields) / sizeof(fields[0]));
	} else {
		ret = clientopts_call(c, strcmp(a->verb, "unenroll") == 0 ?
		    "DELETE" : "POST", sub, a->query.kv, NULL, &ans);
		if (ret == CLI_EXIT_OK && !co->json)
			printf(strcmp(a->verb, "unenroll") == 0 ? "Deleted the "
			    "MDM enrollment of device %s\n" : "Device %s may "
			    "enroll in MDM once more\n", a->id);
	}
	json_decref(ans);
	free(sub);
	return ret;
}

static int
device_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	const struct device_args *a = arg;
	char *path = xasprintf("/admin/v1/devices/%s", a->id);
	json_t *body = NULL, *ans = NULL;
	int ret;

	if (strcmp(a->verb, "show") == 0) {
		if ((ret = clientopts_call(c, "GET", path, a->query.kv, NULL,
		    &ans)) == CLI_EXIT_OK)
			ret = print_device(co, ans, "Device");
	} else if (strcmp(a->verb, "delete") == 0) {
		ret = clientopts_call(c, "DELETE", path, a->query.kv, NULL,
		    &ans);
		if (ret == CLI_EXIT_OK && !co->json)
			printf("Deleted device %s\n", a->id);
	} else if (strcmp(a->verb, "setup") == 0) {
		ret = device_setup(c, co, a, path);
	} else if (strcmp(a->verb, "timeline") == 0) {
		ret = device_timeline(c, co, a, path);
	} else if (strcmp(a->verb, "set") != 0) {
		ret = device_mdm(c, co, a, path);
	} else {
		if ((body = json_object()) == NULL ||
		    (a->group_tag != NULL && json_object_set_new(body,
		    "groupTag", json_string(a->group_tag)) != 0) ||
		    (a->user != NULL && json_object_set_new(body,
		    "assignedUserPrincipalName", json_string(a->user)) != 0)) {
			ret = clientopts_usage_error("device", device_usage,
			    "--group-tag and --user must be UTF-8 text");
			goto done;
		}
		if ((ret = clientopts_call(c, "PATCH", path, a->query.kv, body,
		    &ans)) == CLI_EXIT_OK)
			ret = print_device(co, ans, "Updated device");
	}
done:
	json_decref(body);
	json_decref(ans);
	free(path);
	return ret;
}

/* Operands and options that go together; a usage message if not. */
static const char *
device_check(struct device_args *a, int argc, char **argv)
{
	a->verb = optind < argc ? argv[optind] : "";
	if (strcmp(a->verb, "show") != 0 && strcmp(a->verb, "delete") != 0 &&
	    strcmp(a->verb, "set") != 0 && strcmp(a->verb, "mdm") != 0 &&
	    strcmp(a->verb, "unenroll") != 0 &&
	    strcmp(a->verb, "setup") != 0 &&
	    strcmp(a->verb, "timeline") != 0 &&
	    strcmp(a->verb, "allow-next-enrollment") != 0)
		return "give show, delete, set, mdm, unenroll, "
		    "allow-next-enrollment, setup or timeline";
	if (argc - optind != 2)
		return "give one device ID";
	a->id = argv[optind + 1];
	if (!clientopts_id_ok(a->id))
		return "ID must be a device id as 'whiteglove devices' shows it";
	if (strcmp(a->verb, "set") == 0) {
		if (a->group_tag == NULL && a->user == NULL)
			return "set needs --group-tag or --user";
	} else if (a->group_tag != NULL || a->user != NULL) {
		return "--group-tag and --user go with set";
	}
	return NULL;
}

int
cmd_device(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "group-tag", required_argument, NULL, 'g' },
		{ "user", required_argument, NULL, 'u' },
		{ "tenant", required_argument, NULL, 't' },
		CLIENTOPTS_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct clientopts_cmd spec = { "device", device_usage,
		"g:u:t:", longopts };
	struct device_args a = { .verb = "" };
	const struct clientopts_arg args[] = {
		{ 'g', &a.group_tag, NULL },
		{ 'u', &a.user, NULL },
		{ 't', &a.tenant, NULL },
		{ 0, NULL, NULL },
	};
	struct clientopts co;
	const char *bad;
	int ret = CLI_EXIT_USAGE;

	if (clientopts_parse(&co, argc, argv, &spec, args, &ret) != 0)
		return ret;
	if ((bad = device_check(&a, argc, argv)) != NULL)
		return clientopts_usage_error("device", device_usage, bad);
	clientopts_query_add(&a.query, "tenantId", a.tenant);
	return clientopts_run(&co, device_run, &a);
}
