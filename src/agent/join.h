/*
 * "Joining your organization's network" on the device (step 3 of the
 * flow): the tenant's discovery document, a device token for a nonce the
 * AIK quotes, the device key (DK) and transport key (TK) made in the TPM
 * and certified by the AIK, a CSR the DK signs in the TPM, and the join
 * request, whose answer is the device certificate.  It needs what steps
 * 1 and 2 left in the state directory (the profile, the AIK and its
 * certificate) and adds dk.pub/dk.priv, tk.pub/tk.priv, device.crt,
 * device-ca.pem and join.json.  Every failure is an event of the
 * `registration` channel with the profile's correlation id (Windows' User
 * Device Registration ids: 204 a request refused, 304 the join failed,
 * 305 it failed before the join request, 306 joined).
 */
#ifndef WG_AGENT_JOIN_H
#define WG_AGENT_JOIN_H

#include "agent/answer.h"
#include "agent/phaseopts.h"
#include "common/errors.h"

enum {
	JOIN_EVT_REFUSED = 204,
	JOIN_EVT_FAILED = 304,
	JOIN_EVT_PREPARE_FAILED = 305,
	JOIN_EVT_DONE = 306,
};

#define JOIN_TRIES_DEFAULT 5
#define JOIN_FILE "join.json"
#define JOIN_CERT_FILE "device.crt"
#define JOIN_CA_FILE "device-ca.pem"
#define JOIN_OS_VERSION_MAX 63 /* bytes of OSVersion */

struct join_result {
	char tenant[129];			/* CloudAssignedTenantDomain */
	char correlation_id[37];		/* ZtdCorrelationId */
	char device_id[37];			/* the directory object */
	char display_name[ANSWER_NAME_MAX + 1];	/* as the server named it */
	char thumbprint[41];			/* SHA-1 of device.crt */
	unsigned tries;				/* of the join request */
};

/*
 * Runs the phase with o (o->server: the server whose discovery document
 * names the registration and token endpoints; both must be on it).
 * WG_OK with the device certificate checked (the DK's key, chaining to
 * the answer's CaChain) and stored; else the catalog code a person
 * reads: the server's for a refusal (tries end at once), the last try's
 * when every try failed on the network or on the server's trouble,
 * WG_E_PROFILE_INVALID or WG_E_AIK_CERT_INVALID when an earlier step's
 * files are missing or do not match, WG_E_TPM_* from the TPM, 0x800705B4
 * without a usable TPM; why says what happened.
 */
enum wg_err join_run(const struct agent_phase_opts *o,
    struct join_result *res, char *why, size_t whylen)
    __attribute__((warn_unused_result));

#endif
