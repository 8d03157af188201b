/*
 * The `whiteglove` command: one file per subcommand, one dispatch table
 * (whiteglove.c).  Every subcommand takes --help.
 */
#ifndef WG_CLI_H
#define WG_CLI_H

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help; /* one line */
};

/* Exit codes: 0 ok, 1 the operation failed, 2 usage error. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

int cmd_serve(int argc, char **argv);
int cmd_tenant(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_hash(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
