/*
 * An app's install command on the device (appcmd.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/appcmd.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define POLL_MS 50

/*
 * The command's environment: the agent's with name=value (replacing
 * any), made before fork(): the child calls async-signal-safe functions
 * only.  The caller frees the array and its last entry.
 */
static char **
env_make(const char *name, const char *value)
{
	extern char **environ;
	size_t i, n = 0, len = strlen(name);
	char **env;

	while (environ[n] != NULL)
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	for (i = n = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], name, len) != 0 ||
		    environ[i][len] != '=')
			env[n++] = environ[i];
	env[n] = xasprintf("%s=%s", name, value);
	return env;
}

static void
env_free(char **env)
{
	size_t i;

	for (i = 0; env[i] != NULL; i++)
		;
	free(env[i - 1]);
	free(env);
}

/* The child: its own process group, the log, then the shell. */
static void __attribute__((noreturn))
child(const struct appcmd *c, char **env)
{
	char *const argv[] = { "sh", "-c", (char *)c->command, NULL };
	struct sigaction sa = { .sa_handler = SIG_DFL };
	int fd;

	(void)setpgid(0, 0);
	(void)sigaction(SIGPIPE, &sa, NULL);
	if (chdir(c->dir) != 0 || (fd = open(c->log, O_WRONLY | O_CREAT |
	    O_TRUNC | O_CLOEXEC, 0600)) < 0 || dup2(fd, 1) < 0 ||
	    dup2(fd, 2) < 0)
		_exit(126);
	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		(void)dup2(fd, 0);
	closefrom(3);
	execve("/bin/sh", argv, env);
	_exit(127);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The group of pid: SIGTERM, the grace, SIGKILL; reaps pid. */
static void
group_kill(pid_t pid, int *status)
{
	int64_t end = wg_mono_ms() + APPCMD_KILL_GRACE_MS;

	(void)kill(-pid, SIGTERM);
	while (waitpid(pid, status, WNOHANG) == 0 && wg_mono_ms() < end)
		sleep_ms(POLL_MS);
	/* the shell may be gone and its children not: the group goes */
	(void)kill(-pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

/* The last line of the log, escaped for a report. */
static void
log_tail(const char *log, char *out, size_t outlen)
{
	char buf[256], *nl;
	ssize_t n;
	int fd;

	out[0] = '\0';
	if ((fd = open(log, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (lseek(fd, -(off_t)(sizeof(buf) - 1), SEEK_END) < 0)
		(void)lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n <= 0)
		return;
	buf[n] = '\0';
	nl = strrchr(buf, '\n');
	nl = nl != NULL ? nl + 1 : buf;
	wg_escape_log(nl, strlen(nl), out, outlen);
}

enum wg_err
appcmd_run(const struct appcmd *c, struct appcmd_result *r, char *why,
    size_t whylen)
{
	char **env = env_make(c->env_name, c->env_value);
	int status = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	fflush(NULL); /* nothing buffered is written twice */
	if ((pid = fork()) < 0) {
		env_free(env);
		return wg_fail(WG_E_APP_INSTALL_FAILED, why, whylen, "cannot "
		    "start the install command: %s", strerror(errno));
	}
	if (pid == 0)
		child(c, env);
	env_free(env);
	(void)setpgid(pid, pid); /* whichever of the two runs first */
	while (waitpid(pid, &status, WNOHANG) != pid) {
		if (wg_mono_ms() >= c->stop_ms) {
			group_kill(pid, &status);
			r->end = APPCMD_STOPPED;
			break;
		}
		sleep_ms(POLL_MS);
	}
	if (r->end != APPCMD_STOPPED && WIFSIGNALED(status)) {
		r->end = APPCMD_SIGNALED;
		r->code = WTERMSIG(status);
	} else if (r->end != APPCMD_STOPPED) {
		r->code = WEXITSTATUS(status);
	}
	log_tail(c->log, r->tail, sizeof(r->tail));
	return WG_OK;
}
