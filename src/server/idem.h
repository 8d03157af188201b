/*
 * Idempotency keys for a device's state-changing requests (the join, the
 * MDM enrollment, the reseal): an agent killed after the server answered
 * sends the same request with the same `Idempotency-Key` again and gets
 * the same answer, without the work being done twice.
 */
#ifndef WG_IDEM_H
#define WG_IDEM_H

#include "server/http.h"

/* An Idempotency-Key is 1 to 64 printable ASCII characters. */
#define IDEM_KEY_MAX 64

/*
 * Runs handler for req as an idempotent request of route (its path
 * template), for the device its device token for audience names.
 * Without an Idempotency-Key header: handler(req, resp) as is.  With one:
 * WG_E_IDEMPOTENCY_KEY if it is malformed; the token's failure if the
 * token does not verify; the answer stored for (route, device, key) if
 * one is younger than 24 hours (resp->replayed set, handler not run);
 * else handler runs inside a transaction that also claims the key and
 * stores its successful answer (sealed under STATE/idempotency.key), so
 * the work and the answer are committed together or not at all.
 */
enum wg_err idem_run(struct http_req *req, struct http_resp *resp,
    const char *route, const char *audience, http_handler handler)
    __attribute__((warn_unused_result));

/* The work of an idempotent request: a handler with an argument. */
typedef enum wg_err (*idem_work)(struct http_req *req,
    struct http_resp *resp, void *arg);

/*
 * idem_run() for a caller the route has identified itself (who1, who2:
 * e.g. "signin" and the device key whose signature it checked; never
 * what the request merely claims): work(req, resp, arg) runs as
 * idem_run()'s handler does, and an answer is replayed to the same
 * caller with the same key.
 */
enum wg_err idem_run_for(struct http_req *req, struct http_resp *resp,
    const char *route, const char *who1, const char *who2, idem_work work,
    void *arg) __attribute__((warn_unused_result));

#endif
