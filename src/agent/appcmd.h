/*
 * An app's install command on the device (device setup, apps.h):
 * `/bin/sh -c CMD` with a working directory, one variable added to the
 * agent's environment, stdin from /dev/null, stdout and stderr to a log
 * file, in a process group of its own; at its stop time the whole group
 * gets SIGTERM and, APPCMD_KILL_GRACE_MS later, SIGKILL, so that an
 * installer's children do not outlive it.
 */
#ifndef WG_AGENT_APPCMD_H
#define WG_AGENT_APPCMD_H

#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"

#define APPCMD_KILL_GRACE_MS 3000 /* SIGTERM to SIGKILL */

struct appcmd {
	const char *dir;	/* the working directory */
	const char *command;	/* for /bin/sh -c */
	const char *log;	/* stdout and stderr (truncated, 0600) */
	const char *env_name;	/* added to the environment: name=value */
	const char *env_value;
	int64_t stop_ms;	/* wg_mono_ms() when it is stopped */
};

enum appcmd_end { APPCMD_EXITED, APPCMD_SIGNALED, APPCMD_STOPPED };

struct appcmd_result {
	enum appcmd_end end;
	int code;		/* the exit status, or the signal */
	char tail[160];		/* the log's last line, escaped */
};

/*
 * Runs c and waits for it (or stops it).  WG_OK with *r, else
 * WG_E_APP_INSTALL_FAILED with why when it cannot be started.  The
 * child's own failures (no such directory, no log) are exit status 126,
 * a missing /bin/sh 127.
 */
enum wg_err appcmd_run(const struct appcmd *c, struct appcmd_result *r,
    char *why, size_t whylen) __attribute__((warn_unused_result));

#endif
