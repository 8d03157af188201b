/*
 * whiteglove-agent version: this program's version.
 */
#include <getopt.h>
#include <stdio.h>

#include "agent/agent.h"
#include "wg_version.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent version\n\n"
	    "Prints the version of this program.\n\n"
	    "Options:\n"
	    "  -h, --help     print this help\n");
}

int
cmd_version(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return AGENT_EXIT_OK;
		}
		usage(stderr);
		return AGENT_EXIT_USAGE;
	}
	if (optind != argc) {
		fprintf(stderr, "whiteglove-agent version: takes no "
		    "arguments\n");
		return AGENT_EXIT_USAGE;
	}
	printf("whiteglove-agent %s\n", WG_VERSION);
	return AGENT_EXIT_OK;
}
