/*
 * How the agent tries a request again: exponential back-off with jitter,
 * and which failures are worth another try.
 */
#ifndef WG_AGENT_RETRY_H
#define WG_AGENT_RETRY_H

#include "common/errors.h"

/* The longest wait between two tries. */
#define AGENT_BACKOFF_MAX_MS 60000

/*
 * Sleeps before try n (2, 3, ...): first_ms doubled for every try after
 * the second, at most AGENT_BACKOFF_MAX_MS, with +-25% jitter.
 */
void agent_backoff(long first_ms, unsigned n);

/*
 * Whether a failed try is worth another: the network (rc not WG_OK), the
 * server's own trouble (5xx), a 404 (a proxy, a service starting), 408
 * and 429 are; another refusal (400, 403, 409) will not change.
 */
int agent_retryable(enum wg_err rc, long status);

#endif
