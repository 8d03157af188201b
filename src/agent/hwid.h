/*
 * This device's hardware hash (DESIGN.md section 2, step 0): what
 * `whiteglove-agent hash` prints for the import and what the agent sends
 * the deployment service for its profile (step 1).
 */
#ifndef WG_AGENT_HWID_H
#define WG_AGENT_HWID_H

#include <stddef.h>

#include "agent/sysinfo.h"
#include "agent/tpm.h"
#include "common/errors.h"

/*
 * The serial number a hash records: the firmware's, else given (a VM's or
 * container's, from --serial or the configuration).  NULL, with why
 * saying what to do, when there is none or given contradicts the
 * firmware.  Borrowed from si or given.
 */
const char *hwid_serial(const struct sysinfo *si, const char *given,
    char *why, size_t whylen);

/*
 * Builds the hash of si's identity with serial, the TPM's facts and its
 * EK of algorithm alg (read or created through tpm), as padded base64
 * into *b64 (the caller frees it).  WG_E_TPM_* or an encoding failure.
 */
enum wg_err hwid_build(struct tpm_ctx *tpm, enum tpm_ek_alg alg,
    const struct sysinfo *si, const char *serial, char **b64)
    __attribute__((warn_unused_result));

#endif
