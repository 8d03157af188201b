/*
 * The AIK's quote (tpm.h): TPM2_Quote over PCR 0 of the SHA-256 bank with
 * the caller's qualifying data, the proof the token service asks for.
 */
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "agent/tpm_int.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* PCR 0 of the SHA-256 bank: what the quote covers (firmware). */
static const TPML_PCR_SELECTION quote_pcrs = {
	.count = 1,
	.pcrSelections = { { .hash = TPM2_ALG_SHA256, .sizeofSelect = 3,
	    .pcrSelect = { 0x01, 0x00, 0x00 } } },
};

/* The AIK's own scheme (RSASSA, SHA-256, from its template). */
static const TPMT_SIG_SCHEME key_scheme = { .scheme = TPM2_ALG_NULL };

enum wg_err
tpm_quote(struct tpm_ctx *ctx, const struct tpm_aik *aik,
    const unsigned char *qd, size_t qd_len, unsigned char **attest,
    size_t *attest_len, unsigned char **sig, size_t *sig_len)
{
	TPM2B_DATA data = { 0 };
	TPM2B_ATTEST *quoted = NULL;
	TPMT_SIGNATURE *signature = NULL;
	ESYS_TR key = ESYS_TR_NONE;
	enum wg_err err;
	TSS2_RC rc;
	size_t n = 0;

	*attest = *sig = NULL;
	*attest_len = *sig_len = 0;
	if (qd_len == 0 || qd_len > sizeof(data.buffer))
		return tpm_fail(WG_E_INTERNAL, "qualifying data of %zu bytes "
		    "(1 to %zu)", qd_len, sizeof(data.buffer));
	data.size = (UINT16)qd_len;
	memcpy(data.buffer, qd, qd_len);
	if ((err = tpm_aik_load(ctx, aik, &key)) != WG_OK)
		return err;
	if ((rc = Esys_Quote(ctx->esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, &data, &key_scheme, &quote_pcrs, &quoted,
	    &signature)) != TSS2_RC_SUCCESS) {
		err = tpm_rc(rc, "Quote(AIK)");
	} else {
		*sig = xmalloc(sizeof(*signature));
		if ((rc = Tss2_MU_TPMT_SIGNATURE_Marshal(signature, *sig,
		    sizeof(*signature), &n)) != TSS2_RC_SUCCESS) {
			err = tpm_rc(rc, "marshalling the quote's signature");
		} else {
			*sig_len = n;
			*attest = xmalloc(quoted->size);
			memcpy(*attest, quoted->attestationData, quoted->size);
			*attest_len = quoted->size;
		}
	}
	if (err != WG_OK) {
		free(*sig);
		*sig = NULL;
		*sig_len = 0;
	}
	Esys_Free(quoted);
	Esys_Free(signature);
	return tpm_flush(ctx, &key, "AIK", err);
}
