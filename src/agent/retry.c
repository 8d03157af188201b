/*
 * How the agent tries a request again (retry.h).
 */
#include <errno.h>
#include <time.h>

#include "agent/retry.h"
#include "common/util.h"

void
agent_backoff(long first_ms, unsigned n)
{
	long ms = first_ms;
	unsigned i, r = 0;
	struct timespec ts;

	for (i = 2; i < n && ms < AGENT_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > AGENT_BACKOFF_MAX_MS)
		ms = AGENT_BACKOFF_MAX_MS;
	if (wg_random(&r, sizeof(r)) == WG_OK && ms >= 4)
		ms += (long)(r % (unsigned)(ms / 2)) - ms / 4;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
agent_retryable(enum wg_err rc, long status)
{
	return rc != WG_OK || status >= 500 || status == 404 ||
	    status == 408 || status == 429;
}
