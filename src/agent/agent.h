/*
 * The `whiteglove-agent` command run on the device: one file per
 * subcommand, one dispatch table (main.c).  Every subcommand takes --help.
 */
#ifndef WG_AGENT_AGENT_H
#define WG_AGENT_AGENT_H

struct agent_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help; /* one line */
};

/* Exit codes: 0 ok, 1 the operation failed, 2 usage error. */
#define AGENT_EXIT_OK 0
#define AGENT_EXIT_FAIL 1
#define AGENT_EXIT_USAGE 2

int cmd_hash(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
