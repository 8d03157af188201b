/*
 * The `whiteglove-agent` command run on the device: one file per
 * subcommand, one dispatch table (main.c).  Every subcommand takes --help.
 */
#ifndef WG_AGENT_AGENT_H
#define WG_AGENT_AGENT_H

#include "common/cmdtab.h"

/* Exit codes (common/cmdtab.h): 0 ok, 1 failed, 2 usage error. */
#define AGENT_EXIT_OK WG_EXIT_OK
#define AGENT_EXIT_FAIL WG_EXIT_FAIL
#define AGENT_EXIT_USAGE WG_EXIT_USAGE

/* The crash tests' hook (main.c, docs/flow.md). */
#define AGENT_CRASH_ENV "WHITEGLOVE_AGENT_CRASH_AFTER"

int cmd_hash(int argc, char **argv);
int cmd_apps(int argc, char **argv);
int cmd_attest(int argc, char **argv);
int cmd_diag(int argc, char **argv);
int cmd_join(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_mdm(int argc, char **argv);
int cmd_reseal(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_provision(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
