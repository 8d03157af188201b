/*
 * "Acquire profile" on the device (step 1 of the flow): the hardware hash
 * and the AIK go to the deployment service (the ztd service), whose
 * answer is the profile sealed to this TPM: a TPM2_MakeCredential
 * credential that TPM2_ActivateCredential opens into the AES-256-GCM key
 * of the profile JSON.  The profile is saved as
 * STATE/AutopilotDDSZTDFile.json; every step is an event of the
 * `autopilot` channel (Windows' ids: 160 started, 161 retrieved, 153 the
 * profile's state, 171 the hardware does not match, 172 failed).
 */
#ifndef WG_AGENT_PROFILE_H
#define WG_AGENT_PROFILE_H

#include "agent/phaseopts.h"
#include "common/errors.h"

enum {
	PROFILE_EVT_STATE = 153,
	PROFILE_EVT_STARTED = 160,
	PROFILE_EVT_DONE = 161,
	PROFILE_EVT_HASH_MISMATCH = 171,
	PROFILE_EVT_FAILED = 172,
};

#define PROFILE_FILE "AutopilotDDSZTDFile.json"
#define PROFILE_TRIES_DEFAULT 5


struct profile_result {
	char correlation_id[37];	/* ZtdCorrelationId */
	char tenant[129];		/* CloudAssignedTenantDomain */
	char name[129];			/* DeploymentProfileName */
	char mode[16];			/* DeploymentMode */
	unsigned tries;
};

/* The saved profile as the later phases read it. */
struct profile_file {
	char tenant_id[37];	  /* CloudAssignedTenantId */
	char tenant[129];	  /* CloudAssignedTenantDomain */
	char device_name[65];	  /* CloudAssignedDeviceName: the template */
	char correlation_id[37];  /* ZtdCorrelationId */
	char ztd_id[37];	  /* ZtdDeviceId */
	char mode[16];		  /* DeploymentMode */
	int esp_timeout_min;	  /* EspTimeoutMinutes: 1..1440; 0 when
				     absent or out of range */
};

/*
 * Reads STATE/AutopilotDDSZTDFile.json (dir: the state directory) into
 * *out: the tenant's id and a ZTDID that are UUIDs, the other members
 * strings that fit (DeploymentMode may be absent: "").
 * WG_E_PROFILE_INVALID with why (the file is missing: the profile phase
 * has not run) otherwise, *out zeroed.
 */
enum wg_err profile_file_read(const char *dir, struct profile_file *out,
    char *why, size_t whylen) __attribute__((warn_unused_result));

/*
 * Runs the phase with o (o->server: the deployment service).  WG_OK
 * with the profile saved; else the catalog code a person reads: the
 * server's (807 not registered, 809 the hardware
 * differs, WG_E_PROFILE_NOT_ASSIGNED, 802 ...), WG_E_PROFILE_INVALID if
 * the sealed profile does not open or read, 0x800705B4 without a usable
 * TPM, and the last try's code when every try failed on the network or
 * on the server's trouble; why says what happened.
 */
enum wg_err profile_run(const struct agent_phase_opts *o,
    struct profile_result *res, char *why, size_t whylen)
    __attribute__((warn_unused_result));

#endif
