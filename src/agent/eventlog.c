/*
 * The device's event channels (eventlog.h): append-only JSON lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/eventlog.h"
#include "common/log.h"
#include "common/xmalloc.h"

void
eventlog_write(const char *state_dir, const struct wg_event *ev)
{
	char *dir = xasprintf("%s/events", state_dir);
	char *path = xasprintf("%s/%s.jsonl", dir, ev->channel);
	char *line = wg_event_to_json(ev);
	size_t len = strlen(line);
	int fd = -1;

	line[len++] = '\n'; /* over the NUL: written by length */
	if ((mkdir(state_dir, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) != 0 && errno != EEXIST) ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) < 0 || write(fd, line, len) != (ssize_t)len)
		wg_warn("event %d not written to %s: %s", ev->event_id, path,
		    strerror(errno));
	if (fd >= 0)
		close(fd);
	free(line);
	free(path);
	free(dir);
}

void
eventlog_vsay(const char *state_dir, const char *channel, int id,
    enum wg_level level, enum wg_phase phase, enum wg_err err,
    const char *correlation, const char *key, const char *value,
    const char *fmt, va_list ap)
{
	struct wg_event *ev;
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	ev = wg_event_new(channel, id, level, phase, err, "%s", msg);
	if (correlation != NULL)
		wg_event_set_correlation(ev, correlation);
	if (key != NULL)
		wg_event_add(ev, key, "%s", value);
	eventlog_write(state_dir, ev);
	wg_event_free(ev);
}
