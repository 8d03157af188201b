/*
 * whiteglove-agent apps: "Device setup" (step 5 of the flow) on its own,
 * as the full flow runs it, or with --target user account setup's apps
 * (step 7, as `login` runs them), one line per change of an app's state.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/apps.h"
#include "agent/config.h"
#include "agent/phaseopts.h"
#include "common/errors.h"
#include "common/util.h"

/* The title of each target's phase. */
static const char *const titles[APPS_TARGET_MAX] = {
	[APPS_TARGET_DEVICE] = "Device setup",
	[APPS_TARGET_USER] = "Account setup",
};

enum { OPT_MAX_SIZE = PHASE_OPT_END, OPT_DEADLINE, OPT_TARGET };

struct apps_cmd {
	struct agent_phase_opts o;	/* the phase options */
	uint64_t max_size;
	long deadline_s;		/* 0: none */
	enum apps_target target;
};

/* What was last printed: a line per change, not per byte. */
struct shown {
	unsigned index;
	char state[16];
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent apps --server URL [--target device|"
	    "user] [OPTIONS]\n\n"
	    "Installs the apps assigned to the device for device setup: lists "
	    "them with a\ndevice token (GET " APPS_LIST_PATH "), downloads "
	    "each into STATE/" APPS_DIR "/<sha256>\n(resumed after an "
	    "interruption, its SHA-256 checked), runs its install\ncommand "
	    "with /bin/sh -c in STATE/" APPS_DIR " (" APPS_FILE_ENV " names "
	    "the content,\nthe output goes to STATE/" APPS_DIR "/<sha256>.log)"
	    " and reports each state to the\nserver.  Every app is required: "
	    "the first that fails ends device setup.\nSTATE/" APPS_FILE " "
	    "keeps each app's state: a second run installs nothing again.\n"
	    "It needs the profile and the AIK certificate of the earlier "
	    "steps.\n\n"
	    "With --target user, the user's apps of account setup instead "
	    "(GET\n" APPS_LIST_PATH "?target=user, their state in STATE/"
	    APPS_USER_FILE "): what\n`login` runs after the first sign-in, "
	    "and what finishes account setup when\nit stopped there.\n\n"
	    "Options:\n"
	    "  --target WHAT      device (default: device setup) or user "
	    "(account setup)\n"
	    "  --max-app-size BYTES\n"
	    "                     refuse an app larger than this (default 4 "
	    "GiB)\n"
	    "  --deadline-seconds N\n"
	    "                     the phase must be over in N seconds "
	    "(default: no\n"
	    "                     deadline); then it fails with "
	    "WG_E_ESP_TIMEOUT\n");
	agent_phase_usage(f, "the server whose discovery document names the "
	    "token service\n                     and which serves the apps, "
	    "e.g. https://host:8443", APPS_TRIES_DEFAULT);
}

/* Applies one option; returns an exit code, or -1 to go on. */
static int
apps_option(void *opts, int ch, const char *arg)
{
	struct apps_cmd *c = opts;
	long v;

	switch (ch) {
	case OPT_MAX_SIZE:
		if (agent_size_parse(arg, &c->max_size) == 0)
			return -1;
		return agent_usage_error("apps", usage, "--max-app-size is a "
		    "number of bytes above 0");
	case OPT_TARGET:
		if (strcmp(arg, "device") == 0)
			c->target = APPS_TARGET_DEVICE;
		else if (strcmp(arg, "user") == 0)
			c->target = APPS_TARGET_USER;
		else
			return agent_usage_error("apps", usage, "--target is "
			    "device or user");
		return -1;
	case OPT_DEADLINE:
		if ((v = agent_number(arg, 1, 7 * 86400)) > 0) {
			c->deadline_s = v;
			return -1;
		}
		return agent_usage_error("apps", usage, "--deadline-seconds is "
		    "1 to 604800");
	default:
		return agent_phase_only_option(&c->o, ch, arg, "apps", usage);
	}
}

/* One line per change of an app's state (not per downloaded byte). */
static void
show(void *arg, const struct apps_progress *p)
{
	struct shown *last = arg;

	if (p->index == last->index && strcmp(p->state, last->state) == 0)
		return;
	last->index = p->index;
	snprintf(last->state, sizeof(last->state), "%s", p->state);
	if (p->index == 0)
		printf("  Identifying the apps...\n");
	else if (strcmp(p->state, "downloading") == 0)
		printf("  [%u/%u] %s: downloading (%llu bytes)\n", p->index,
		    p->count, p->name, (unsigned long long)p->total);
	else
		printf("  [%u/%u] %s: %s\n", p->index, p->count, p->name,
		    p->state);
	fflush(stdout);
}

/* The phase with its options settled: what a person sees. */
static int
apps_main(void *opts)
{
	const struct apps_cmd *c = opts;
	struct shown last = { .index = (unsigned)-1 };
	struct apps_opts ao = { .target = c->target, .max_size = c->max_size,
	    .progress = show, .progress_arg = &last };
	const char *title = titles[c->target];
	struct apps_result res;
	char why[1024], see[1024];
	enum wg_err rc;

	if (c->o.server == NULL)
		return agent_usage_error("apps", usage, "--server is needed");
	if (c->deadline_s > 0)
		ao.deadline_ms = wg_now_ms() + (int64_t)c->deadline_s * 1000;
	printf("%s (%s)...\n", title, c->o.server);
	fflush(stdout);
	rc = apps_run(&c->o, &ao, &res, why, sizeof(why));
	if (rc == WG_OK) {
		printf("  Apps: %u of %u installed (%u by an earlier run)\n"
		    "%s: done\n", res.installed, res.count, res.already, title);
		return AGENT_EXIT_OK;
	}
	snprintf(see, sizeof(see), "%s/events/apps.jsonl", c->o.state_dir);
	return agent_phase_failed(title, "apps", rc, why, see);
}

int
cmd_apps(int argc, char **argv)
{
	static const struct option longopts[] = {
		PHASE_LONGOPTS,
		{ "max-app-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "deadline-seconds", required_argument, NULL, OPT_DEADLINE },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ NULL, 0, NULL, 0 },
	};
	struct apps_cmd c = { .max_size = APPS_MAX_SIZE_DEFAULT };

	agent_phase_defaults(&c.o, APPS_TRIES_DEFAULT);
	return agent_phase_cmd(argc, argv, "apps", longopts, apps_option,
	    usage, &c, apps_main);
}
