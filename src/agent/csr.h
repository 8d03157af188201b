/*
 * The join's certificate request: a PKCS#10 request (RFC 2986) for the
 * device key, signed in the TPM, so the DK's private part never exists
 * outside it.
 */
#ifndef WG_AGENT_CSR_H
#define WG_AGENT_CSR_H

#include <stddef.h>

#include "agent/tpm.h"
#include "common/errors.h"

/* Bytes of a common name, at most (RFC 5280's ub-common-name). */
#define CSR_CN_MAX 64

/*
 * The request for dk (tpm_key_create(TPM_KEY_DEVICE)): version 1,
 * subject CN=cn (1 to CSR_CN_MAX bytes of printable UTF-8), the DK's
 * public key, no attributes, sha256WithRSAEncryption; the DER of its
 * CertificationRequestInfo is hashed here and signed by the DK in the
 * TPM (tpm_sign_digest).  *der (xmalloc'd, the caller frees it) is the
 * request's DER, *len its size.  WG_E_TPM_* from the TPM, WG_E_INTERNAL
 * for a cn or key that cannot be used, WG_E_CRYPTO if OpenSSL fails
 * (logged); why says what; *der NULL then.
 */
enum wg_err csr_make(struct tpm_ctx *ctx, const struct tpm_aik *dk,
    const char *cn, unsigned char **der, size_t *len, char *why,
    size_t whylen) __attribute__((warn_unused_result));

#endif
