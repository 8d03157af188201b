/*
 * The AIK's quote (tpm.h): TPM2_Quote over PCR 0 of the SHA-256 bank with
 * the caller's qualifying data, the proof the token service asks for.
 */
#include "agent/tpm_int.h"

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
	TPM2B_DATA data;
	TPM2B_ATTEST *quoted = NULL;
	TPMT_SIGNATURE *signature = NULL;
	ESYS_TR key = ESYS_TR_NONE;
	enum wg_err err;
	TSS2_RC rc;

	*attest = *sig = NULL;
	*attest_len = *sig_len = 0;
	if ((err = tpm_qualifying_data(qd, qd_len, &data)) != WG_OK ||
	    (err = tpm_aik_load(ctx, aik, &key)) != WG_OK)
		return err;
	if ((rc = Esys_Quote(ctx->esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, &data, &key_scheme, &quote_pcrs, &quoted,
	    &signature)) != TSS2_RC_SUCCESS)
		err = tpm_rc(rc, "Quote(AIK)");
	else
		err = tpm_attest_out(quoted, signature, "the quote", attest,
		    attest_len, sig, sig_len);
	Esys_Free(quoted);
	Esys_Free(signature);
	return tpm_flush(ctx, &key, "AIK", err);
}
