/*
 * "Registering your device for mobile management" on the device (step 4
 * of the flow), then, in pre-provisioning, the unjoin: the MDM discovery
 * document, a device token as for the join, the MDM key made in the TPM
 * and certified by the AIK over a fresh nonce, a CSR the MDM key signs in
 * the TPM, and the enrollment request, whose answer is the MDM
 * certificate.  It needs the join's state (the server refuses a device
 * that has not joined) and adds mdm.pub/mdm.priv, mdm.crt, mdm-ca.pem and
 * mdm.json.  When the profile's DeploymentMode is preProvisioning the
 * device then leaves the organization's network until the user's phase:
 * device.crt and device-ca.pem are deleted, the DK and TK stay (in the
 * state directory and the TPM).  Events of the `enrollment` channel with
 * the profile's correlation id (Windows' MDM enrollment ids): 75 enrolled
 * (saying whether the device was unjoined), 76 failed (with the server's
 * code for a refusal; a warning for a try made again).
 *
 * A run made again after the phase ended (mdm.json and mdm.crt are there)
 * sends nothing: it reports the enrollment it finds, and finishes the
 * unjoin if a crash came between the two; so a rerun never earns a
 * 0x80180014 by itself.  A run killed after the server enrolled the
 * device but before mdm.json was written enrolls again: with
 * --request-key the server answers with its first enrollment
 * (phaseopts.h), without it with 0x80180014.
 */
#ifndef WG_AGENT_MDM_H
#define WG_AGENT_MDM_H

#include "agent/answer.h"
#include "agent/phaseopts.h"
#include "common/errors.h"

enum {
	MDM_EVT_ENROLLED = 75,
	MDM_EVT_FAILED = 76,
};

#define MDM_TRIES_DEFAULT 5
#define MDM_DISCOVERY_PATH "/mdm/v1/discovery"
#define MDM_FILE "mdm.json"
#define MDM_CERT_FILE "mdm.crt"
#define MDM_CA_FILE "mdm-ca.pem"
#define MDM_MODE_UNJOIN "preProvisioning" /* DeploymentMode */

struct mdm_result {
	char tenant[129];			  /* CloudAssignedTenantDomain */
	char correlation_id[37];		  /* ZtdCorrelationId */
	char enrollment_id[37];			  /* EnrollmentId */
	char management_url[ANSWER_ENDPOINT_MAX + 1]; /* ManagementUrl */
	char thumbprint[41];			  /* SHA-1 of mdm.crt */
	unsigned tries;				  /* of the enrollment */
	int unjoined; /* device.crt and device-ca.pem were deleted */
	int already;  /* enrolled by an earlier run: nothing was sent */
};

/*
 * Runs the phase with o (o->server: the server whose tenant discovery
 * names the token endpoint and whose MDM discovery names the enrollment;
 * both on it).  WG_OK at once with res->already set when an earlier run
 * enrolled (the unjoin finished if it was not); else WG_OK with the MDM certificate checked (the MDM key's,
 * chaining to the answer's CaChain) and stored, and the device unjoined
 * in pre-provisioning; else the catalog code a person reads: the
 * server's for a refusal (0x80180014 enrolled before, WG_E_MDM_NOT_JOINED;
 * tries end at once), the last try's when every try failed on the
 * network or on the server's trouble, WG_E_PROFILE_INVALID or
 * WG_E_AIK_CERT_INVALID when an earlier step's files are missing,
 * WG_E_TPM_* from the TPM, 0x800705B4 without a usable TPM, WG_E_IO when
 * a file cannot be written or deleted; why says what happened.
 */
enum wg_err mdm_run(const struct agent_phase_opts *o, struct mdm_result *res,
    char *why, size_t whylen) __attribute__((warn_unused_result));

#endif
