/*
 * AES-256-GCM in whiteglove's sealed layout (aesgcm.h), with OpenSSL.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/aesgcm.h"
#include "crypto/makecred.h"

/* Runs one GCM pass (enc 1 seals, 0 opens) over n bytes; 0 on success. */
static int
gcm_run(int enc, const unsigned char key[32], const unsigned char *iv,
    const unsigned char *in, size_t n, unsigned char *out,
    unsigned char tag[AESGCM_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0, ok;

	ok = ctx != NULL && n <= 0x7fffffff &&
	    EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, enc) &&
	    EVP_CipherUpdate(ctx, out, &len, in, (int)n) &&
	    (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
	    AESGCM_TAG_LEN, tag)) &&
	    EVP_CipherFinal_ex(ctx, out + len, &fin) &&
	    (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
	    AESGCM_TAG_LEN, tag));
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

enum wg_err
aesgcm_seal(const unsigned char key[32], const unsigned char *pt, size_t n,
    unsigned char **out, size_t *outlen)
{
	unsigned char *buf;

	*out = NULL;
	*outlen = 0;
	if (n > 0x7fffffff - AESGCM_OVERHEAD) {
		wg_error("AES-256-GCM: %zu bytes are too many to seal", n);
		return WG_E_CRYPTO;
	}
	buf = xmalloc(n + AESGCM_OVERHEAD);
	if (wg_random(buf, AESGCM_IV_LEN) != WG_OK ||
	    gcm_run(1, key, buf, pt, n, buf + AESGCM_IV_LEN,
	    buf + AESGCM_IV_LEN + n) != 0) {
		wg_log_openssl("AES-256-GCM sealing");
		free(buf);
		return WG_E_CRYPTO;
	}
	*out = buf;
	*outlen = n + AESGCM_OVERHEAD;
	return WG_OK;
}

enum wg_err
aesgcm_open(const unsigned char key[32], const unsigned char *in, size_t n,
    unsigned char **out, size_t *outlen)
{
	unsigned char tag[AESGCM_TAG_LEN], *buf;
	size_t len;

	*out = NULL;
	*outlen = 0;
	if (n < AESGCM_OVERHEAD)
		return WG_E_CRYPTO;
	len = n - AESGCM_OVERHEAD;
	buf = xmalloc(len + 1);
	memcpy(tag, in + AESGCM_IV_LEN + len, AESGCM_TAG_LEN);
	if (gcm_run(0, key, in, in + AESGCM_IV_LEN, len, buf, tag) != 0) {
		ERR_clear_error(); /* a forgery or the wrong key: no log */
		OPENSSL_cleanse(buf, len);
		free(buf);
		return WG_E_CRYPTO;
	}
	*out = buf;
	*outlen = len;
	return WG_OK;
}

enum wg_err
aesgcm_seal_for_tpm(const struct tpm_public *ek, const unsigned char *name,
    size_t name_len, const unsigned char *data, size_t n,
    struct aesgcm_for_tpm *out, char *why, size_t whylen)
{
	unsigned char secret[32], *sealed = NULL;
	struct makecred mc;
	enum wg_err rc;
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = wg_random(secret, sizeof(secret))) == WG_OK &&
	    (rc = makecred(ek, name, name_len, secret, sizeof(secret), &mc,
	    why, whylen)) == WG_OK &&
	    (rc = aesgcm_seal(secret, data, n, &sealed, &len)) == WG_OK) {
		out->blob = wg_b64(mc.blob, mc.blob_len);
		out->secret = wg_b64(mc.secret, mc.secret_len);
		out->sealed = wg_b64(sealed, len);
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	free(sealed);
	return rc;
}

void
aesgcm_for_tpm_free(struct aesgcm_for_tpm *s)
{
	free(s->blob);
	free(s->secret);
	free(s->sealed);
	memset(s, 0, sizeof(*s));
}
