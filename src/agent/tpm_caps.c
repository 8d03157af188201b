/*
 * What the TPM supports and its clock, for the diagnostics bundle
 * (`whiteglove-agent diag collect`): TPM2_GetCapability of the
 * algorithms and the PCR banks, and TPM2_ReadClock.  One of the files that
 * call tpm2-tss (tpm_int.h); see tpm.h for the contract.
 */
#include <string.h>

#include <tss2/tss2_esys.h>

#include "agent/tpm.h"
#include "agent/tpm_int.h"

#define CAP_LOOPS_MAX 8 /* a TPM that keeps saying "more" is broken */

/* TPM2_CAP_ALGS into out->algs, as many as fit. */
static enum wg_err
caps_algs(struct tpm_ctx *ctx, struct tpm_caps *out)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more = TPM2_YES;
	uint32_t next = TPM2_ALG_FIRST, i;
	const TPML_ALG_PROPERTY *a;
	int loops;
	TSS2_RC rc;

	for (loops = 0; more && loops < CAP_LOOPS_MAX; loops++) {
		if ((rc = Esys_GetCapability(ctx->esys, ESYS_TR_NONE,
		    ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_ALGS, next,
		    TPM2_MAX_CAP_ALGS, &more, &cap)) != TSS2_RC_SUCCESS)
			return tpm_rc(rc, "GetCapability(ALGS)");
		a = &cap->data.algorithms;
		for (i = 0; i < a->count && i < TPM2_MAX_CAP_ALGS &&
		    out->nalgs < TPM_ALGS_MAX; i++)
			out->algs[out->nalgs++] = a->algProperties[i].alg;
		if (a->count == 0 || a->algProperties[a->count - 1].alg < next)
			more = TPM2_NO;
		else
			next = a->algProperties[a->count - 1].alg + 1u;
		Esys_Free(cap);
		cap = NULL;
	}
	return WG_OK;
}

/* TPM2_CAP_PCRS: every bank, with how many of its PCRs are allocated. */
static enum wg_err
caps_banks(struct tpm_ctx *ctx, struct tpm_caps *out)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	const TPMS_PCR_SELECTION *s;
	TPMI_YES_NO more;
	uint32_t i, b;
	TSS2_RC rc;

	if ((rc = Esys_GetCapability(ctx->esys, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1, &more, &cap)) !=
	    TSS2_RC_SUCCESS)
		return tpm_rc(rc, "GetCapability(PCRS)");
	for (i = 0; i < cap->data.assignedPCR.count && i < TPM2_NUM_PCR_BANKS &&
	    out->nbanks < TPM_BANKS_MAX; i++) {
		s = &cap->data.assignedPCR.pcrSelections[i];
		out->banks[out->nbanks].hash = s->hash;
		out->banks[out->nbanks].npcrs = 0;
		for (b = 0; b < s->sizeofSelect && b < TPM2_PCR_SELECT_MAX; b++)
			out->banks[out->nbanks].npcrs += (unsigned)
			    __builtin_popcount(s->pcrSelect[b]);
		out->nbanks++;
	}
	Esys_Free(cap);
	return WG_OK;
}

enum wg_err
tpm_caps_read(struct tpm_ctx *ctx, struct tpm_caps *out)
{
	enum wg_err err;

	memset(out, 0, sizeof(*out));
	if ((err = caps_algs(ctx, out)) != WG_OK)
		return err;
	return caps_banks(ctx, out);
}

enum wg_err
tpm_clock_read(struct tpm_ctx *ctx, struct tpm_clock *out)
{
	TPMS_TIME_INFO *t = NULL;
	TSS2_RC rc;

	memset(out, 0, sizeof(*out));
	if ((rc = Esys_ReadClock(ctx->esys, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, &t)) != TSS2_RC_SUCCESS)
		return tpm_rc(rc, "ReadClock");
	out->time_ms = t->time;
	out->clock_ms = t->clockInfo.clock;
	out->reset_count = t->clockInfo.resetCount;
	out->restart_count = t->clockInfo.restartCount;
	out->safe = t->clockInfo.safe == TPM2_YES;
	Esys_Free(t);
	return WG_OK;
}
