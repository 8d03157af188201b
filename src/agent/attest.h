/*
 * "Securing your hardware" on the device (step 2 of the flow): the EK
 * certificate (NV, else the manufacturer's ekcert service), an AIK, the
 * attestation CA's discovery (GetCACaps, GetCACert), the enrollment, the
 * credential activation in the TPM, and the AIK certificate checked and
 * stored.  The CA exchange is tried up to `tries` times with exponential
 * back-off and jitter; every try is appended to
 * STATE/CertReq_enrollaik_Output.txt and written as a `tpm` channel event.
 */
#ifndef WG_AGENT_ATTEST_H
#define WG_AGENT_ATTEST_H

#include <stdio.h>

#include "agent/phaseopts.h"
#include "agent/tpm.h"
#include "common/errors.h"

/* Events of the tpm channel (86 is the one Windows logs for GetCACaps). */
enum {
	ATTEST_EVT_GETCACAPS_FAILED = 86,
	ATTEST_EVT_STARTED = 1100,
	ATTEST_EVT_EK_CERT = 1101,	  /* where the EK certificate came from */
	ATTEST_EVT_EK_CERT_MISSING = 1102, /* none: NV empty, service failed */
	ATTEST_EVT_TRY_FAILED = 1103,
	ATTEST_EVT_DONE = 1104,
	ATTEST_EVT_FAILED = 1105,
};

#define ATTEST_TRIES_DEFAULT 10
#define ATTEST_TRAIL_FILE "CertReq_enrollaik_Output.txt"

struct attest_opts {
	struct agent_phase_opts p; /* server: the attestation CA */
	const char *ekcert_url;	/* the manufacturer's service, ".../
				   ekcertservice"; NULL: none */
	const char *ek_roots;	/* dir of pinned manufacturer roots */
	const char *aik_root;	/* PEM of the attestation CA's root */
};

struct attest_result {
	int assurance_cert;	/* 1: EK certificate verified (.31); 0: list */
	unsigned tries;		/* tries the CA exchange took */
	char ek_cert_source[16]; /* "nv", "ekcert", "none" */
};

/*
 * Runs the phase.  WG_OK with STATE/aik.crt (PEM) and STATE/aik-ca.pem
 * stored; else the catalog code a person reads (0x81039001 when every
 * try failed, 0x80190190/0x80190194 for a refusal of the CA, 0x800705B4
 * without a usable TPM, WG_E_TPM_ERROR/WG_E_TPM_AUTH/WG_E_TPM_ACTIVATION
 * from the TPM, the attestation codes) and why says what happened.
 */
enum wg_err attest_run(const struct attest_opts *o, struct attest_result *res,
    char *why, size_t whylen) __attribute__((warn_unused_result));

/* getopt values and entries of attest's own options (also provision's). */
enum { ATTEST_OPT_EKCERT = PHASE_OPT_END, ATTEST_OPT_EK_ROOTS,
	ATTEST_OPT_AIK_ROOT, ATTEST_OPT_END };
#define ATTEST_LONGOPTS \
	{ "aik-root", required_argument, NULL, ATTEST_OPT_AIK_ROOT }, \
	{ "ekcert-url", required_argument, NULL, ATTEST_OPT_EKCERT }, \
	{ "ek-roots", required_argument, NULL, ATTEST_OPT_EK_ROOTS }

/* Their --help lines. */
void attest_usage_options(FILE *f);

/* Applies one of them to o: 0, or 1 if ch is not one of them. */
int attest_option_apply(struct attest_opts *o, int ch, const char *arg);

/* The firmware's serial number (the caller frees it), or NULL if none. */
char *attest_firmware_serial(void);

#endif
