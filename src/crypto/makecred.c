/*
 * TPM2_MakeCredential in software (TPM 2.0 Library Part 1 section 24
 * "Credential Protection", Part 3 section 12.6), with OpenSSL 3: the seed
 * is shared with the EK (RSA-OAEP, Part 1 B.10.3; one-pass ECDH, Part 1
 * C.6.1), then KDFa turns it into the keys that encrypt the credential
 * and bind it to the name of the key it is for.  Every OpenSSL failure
 * is logged here, once; callers pass WG_E_CRYPTO up.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "common/log.h"
#include "common/util.h"
#include "crypto/makecred.h"

#define SHA256_LEN 32
#define SEED_LEN 32 /* the digest size of the EK's nameAlg (Part 1 24.4) */
#define NAME_LEN (2 + SHA256_LEN)
#define AES128_LEN 16
#define P256_LEN 32
#define RSA2048_LEN 256

/* One piece of the input of a hash or an HMAC. */
struct part {
	const void *p;
	size_t len;
};


/* HMAC-SHA256 of the n parts under key into out; 0 or -1 (logged). */
static int
hmac_parts(const unsigned char *key, size_t key_len,
    const struct part *parts, size_t n, unsigned char out[SHA256_LEN])
{
	static char sha256[] = "SHA256";
	OSSL_PARAM params[2];
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	size_t i, outlen = 0;
	int ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    sha256, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = (mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL &&
	    (ctx = EVP_MAC_CTX_new(mac)) != NULL &&
	    EVP_MAC_init(ctx, key, key_len, params) == 1;
	for (i = 0; ok && i < n; i++)
		if (parts[i].len > 0)
			ok = EVP_MAC_update(ctx, parts[i].p, parts[i].len) == 1;
	ok = ok && EVP_MAC_final(ctx, out, &outlen, SHA256_LEN) == 1 &&
	    outlen == SHA256_LEN;
	if (!ok)
		wg_log_openssl("HMAC-SHA256");
	EVP_MAC_CTX_free(ctx); /* wipes the key schedule */
	EVP_MAC_free(mac);
	return ok ? 0 : -1;
}

/* SHA-256 of the n parts into out; 0 or -1 (logged). */
static int
sha256_parts(const struct part *parts, size_t n,
    unsigned char out[SHA256_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int outlen = 0;
	size_t i;
	int ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	for (i = 0; ok && i < n; i++)
		if (parts[i].len > 0)
			ok = EVP_DigestUpdate(ctx, parts[i].p,
			    parts[i].len) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, out, &outlen) == 1 &&
	    outlen == SHA256_LEN;
	if (!ok)
		wg_log_openssl("SHA-256");
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/*
 * The counter mode both KDFs share: blocks made from a 32-bit big-endian
 * counter from 1 (written into parts[0]) and the other parts, by HMAC
 * under key or, when key is NULL, by SHA-256; bits / 8 bytes of them.
 */
static int
counter_kdf(const char *kdf, const unsigned char *key, size_t key_len,
    struct part *parts, size_t n, size_t bits, unsigned char *out)
{
	unsigned char counter[4], block[SHA256_LEN];
	size_t done, len = bits / 8, take = 0;
	int rc = 0;

	if (bits == 0 || bits % 8 != 0 || bits > MAKECRED_KDF_MAX_BITS) {
		wg_error("makecred: %s of %zu bits asked for (a multiple of 8 "
		    "up to %d is needed)", kdf, bits, MAKECRED_KDF_MAX_BITS);
		return -1;
	}
	parts[0] = (struct part){ counter, sizeof(counter) };
	for (done = 0; rc == 0 && done < len; done += take) {
		wg_put_be(counter, done / SHA256_LEN + 1, sizeof(counter));
		rc = key != NULL ? hmac_parts(key, key_len, parts, n, block) :
		    sha256_parts(parts, n, block);
		take = len - done < SHA256_LEN ? len - done : SHA256_LEN;
		memcpy(out + done, block, take);
	}
	OPENSSL_cleanse(block, sizeof(block));
	if (rc != 0)
		OPENSSL_cleanse(out, len);
	return rc;
}

/* KDFa: HMAC(key, counter || label || context_u || context_v || bits). */
int
makecred_kdfa(const unsigned char *key, size_t key_len, const char *label,
    const unsigned char *context_u, size_t u_len,
    const unsigned char *context_v, size_t v_len, size_t bits,
    unsigned char *out)
{
	unsigned char nbits[4];
	struct part parts[] = { { NULL, 0 }, { label, strlen(label) + 1 },
		{ context_u, u_len }, { context_v, v_len }, { nbits, 4 } };

	wg_put_be(nbits, bits, sizeof(nbits));
	return counter_kdf("KDFa", key, key_len, parts, 5, bits, out);
}

/* KDFe: SHA-256(counter || z || label || party_u || party_v). */
int
makecred_kdfe(const unsigned char *z, size_t z_len, const char *label,
    const unsigned char *party_u, size_t u_len,
    const unsigned char *party_v, size_t v_len, size_t bits,
    unsigned char *out)
{
	struct part parts[] = { { NULL, 0 }, { z, z_len },
		{ label, strlen(label) + 1 }, { party_u, u_len },
		{ party_v, v_len } };

	return counter_kdf("KDFe", NULL, 0, parts, 5, bits, out);
}

/* The caller's own inputs: a SHA-256 name, a credential that fits. */
static enum wg_err
check_args(const unsigned char *name, size_t name_len,
    const unsigned char *cred, size_t cred_len, char *why, size_t whylen)
{
	if (name == NULL || name_len != NAME_LEN || name[0] != 0x00 ||
	    name[1] != 0x0b) {
		wg_say(why, whylen, "name: %zu bytes%s, not a SHA-256 TPM name "
		    "(nameAlg 0x000b and a 32-byte digest)", name_len,
		    name == NULL ? " at NULL" : "");
		return WG_E_INTERNAL;
	}
	if (cred == NULL || cred_len == 0 || cred_len > MAKECRED_MAX) {
		wg_say(why, whylen, "credential: %zu bytes%s, must be 1 to %d (a "
		    "TPM2B_DIGEST of the EK's nameAlg, Part 3 12.6)", cred_len,
		    cred == NULL ? " at NULL" : "", MAKECRED_MAX);
		return WG_E_INTERNAL;
	}
	return WG_OK;
}

/* encryptedSecret: the seed under RSA-OAEP with SHA-256 and the label
 * "IDENTITY" and its NUL (Part 1 B.10.3). */
static enum wg_err
rsa_secret(const struct tpm_public *ek, const unsigned char seed[SEED_LEN],
    struct makecred *out)
{
	static const char label[] = "IDENTITY";
	EVP_PKEY *pkey = tpm_public_to_pkey(ek); /* logs on failure */
	EVP_PKEY_CTX *ctx = NULL;
	unsigned char *l = NULL;
	size_t len = sizeof(out->secret) - 2;
	int ok;

	if (pkey == NULL)
		return WG_E_CRYPTO;
	ok = (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) != NULL &&
	    EVP_PKEY_encrypt_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
	    (l = OPENSSL_memdup(label, sizeof(label))) != NULL &&
	    EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, l, sizeof(label)) == 1;
	if (ok)
		l = NULL; /* ctx owns it now */
	ok = ok && EVP_PKEY_encrypt(ctx, out->secret + 2, &len, seed,
	    SEED_LEN) == 1 && len == RSA2048_LEN;
	if (ok) {
		wg_put_be(out->secret, len, 2);
		out->secret_len = 2 + len;
	} else
		wg_log_openssl("RSA-OAEP encryption to the EK");
	OPENSSL_free(l);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ok ? WG_OK : WG_E_CRYPTO;
}

/* d: the ephemeral scalar, eph (big-endian) or random in [1, n - 1]. */
static enum wg_err
eph_scalar(const EC_GROUP *g, const unsigned char *eph, BIGNUM *d)
{
	const BIGNUM *order = EC_GROUP_get0_order(g);
	BIGNUM *range = NULL;
	int ok;

	if (eph != NULL) {
		if (BN_bin2bn(eph, P256_LEN, d) == NULL) {
			wg_log_openssl("reading the ephemeral key");
			return WG_E_CRYPTO;
		}
		/* a fixed test vector: comparing it is no leak */
		if (BN_is_zero(d) || BN_cmp(d, order) >= 0) {
			wg_error("makecred: ecc_eph is not a P-256 scalar");
			return WG_E_INTERNAL;
		}
		BN_set_flags(d, BN_FLG_CONSTTIME);
		return WG_OK;
	}
	ok = order != NULL && (range = BN_dup(order)) != NULL &&
	    BN_sub_word(range, 1) == 1 && BN_priv_rand_range(d, range) == 1 &&
	    BN_add_word(d, 1) == 1;
	BN_free(range);
	BN_set_flags(d, BN_FLG_CONSTTIME);
	if (!ok)
		wg_log_openssl("ephemeral P-256 key generation");
	return ok ? WG_OK : WG_E_CRYPTO;
}

/*
 * One-pass ECDH with an ephemeral key (Part 1 C.6.1): Q_e = d*G into qx,
 * qy and Z = x(d*Q_EK) into z, d from eph_scalar().
 */
static enum wg_err
ecdh(const struct tpm_public *ek, const unsigned char *eph,
    unsigned char qx[P256_LEN], unsigned char qy[P256_LEN],
    unsigned char z[P256_LEN])
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	BN_CTX *bn = BN_CTX_secure_new();
	BIGNUM *d = BN_secure_new(), *x = BN_secure_new(), *y = BN_new();
	EC_POINT *qek = NULL, *qe = NULL, *s = NULL;
	enum wg_err rc = WG_E_CRYPTO;
	int ok;

	ok = g != NULL && bn != NULL && d != NULL && x != NULL && y != NULL &&
	    (qek = EC_POINT_new(g)) != NULL && (qe = EC_POINT_new(g)) != NULL &&
	    (s = EC_POINT_new(g)) != NULL;
	if (ok && (rc = eph_scalar(g, eph, d)) != WG_OK)
		goto done; /* logged */
	ok = ok && BN_bin2bn(ek->ecc_x, P256_LEN, x) != NULL &&
	    BN_bin2bn(ek->ecc_y, P256_LEN, y) != NULL &&
	    EC_POINT_set_affine_coordinates(g, qek, x, y, bn) == 1 &&
	    EC_POINT_mul(g, qe, d, NULL, NULL, bn) == 1 &&
	    EC_POINT_mul(g, s, NULL, qek, d, bn) == 1 &&
	    EC_POINT_get_affine_coordinates(g, qe, x, y, bn) == 1 &&
	    BN_bn2binpad(x, qx, P256_LEN) == P256_LEN &&
	    BN_bn2binpad(y, qy, P256_LEN) == P256_LEN &&
	    EC_POINT_get_affine_coordinates(g, s, x, NULL, bn) == 1 &&
	    BN_bn2binpad(x, z, P256_LEN) == P256_LEN;
	rc = ok ? WG_OK : WG_E_CRYPTO;
	if (!ok)
		wg_log_openssl("ECDH with the EK");
done:
	EC_POINT_clear_free(s);
	EC_POINT_free(qe);
	EC_POINT_free(qek);
	BN_free(y);
	BN_clear_free(x);
	BN_clear_free(d);
	BN_CTX_free(bn);
	EC_GROUP_free(g);
	return rc;
}

/*
 * encryptedSecret: the ephemeral point Q_e as a TPMS_ECC_POINT in a
 * TPM2B_ENCRYPTED_SECRET; seed = KDFe(SHA-256, Z, "IDENTITY", Q_e.x,
 * Q_EK.x, 256) (Part 1 C.6.1 and 11.4.10.3).
 */
static enum wg_err
ecc_secret(const struct tpm_public *ek, const unsigned char *eph,
    unsigned char seed[SEED_LEN], struct makecred *out)
{
	unsigned char z[P256_LEN], *p = out->secret;
	enum wg_err rc;

	rc = ecdh(ek, eph, p + 4, p + 4 + P256_LEN + 2, z);
	if (rc == WG_OK && makecred_kdfe(z, sizeof(z), "IDENTITY", p + 4,
	    P256_LEN, ek->ecc_x, P256_LEN, 8 * SEED_LEN, seed) != 0)
		rc = WG_E_CRYPTO;
	if (rc == WG_OK) {
		wg_put_be(p, 2 + P256_LEN + 2 + P256_LEN, 2);
		wg_put_be(p + 2, P256_LEN, 2);
		wg_put_be(p + 4 + P256_LEN, P256_LEN, 2);
		out->secret_len = 2 + 2 + P256_LEN + 2 + P256_LEN;
	}
	OPENSSL_cleanse(z, sizeof(z));
	return rc;
}

/* AES-128-CFB (full-block feedback), IV zero; 0 or -1 (logged). */
static int
aes_cfb(const unsigned char key[AES128_LEN], const unsigned char *in,
    size_t len, unsigned char *out)
{
	static const unsigned char iv[AES128_LEN];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, m = 0, ok;

	/* len is at most 2 + MAKECRED_MAX: the int cast cannot truncate */
	ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_128_cfb128(), NULL,
	    key, iv) == 1 &&
	    EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1 &&
	    EVP_EncryptFinal_ex(ctx, out + n, &m) == 1 &&
	    (size_t)n + (size_t)m == len;
	if (!ok)
		wg_log_openssl("AES-128-CFB encryption");
	EVP_CIPHER_CTX_free(ctx); /* wipes the key schedule */
	return ok ? 0 : -1;
}

/*
 * credentialBlob from the seed (Part 1 24.4, 24.5): a TPM2B_ID_OBJECT of
 * integrityHMAC (a TPM2B_DIGEST) then encIdentity (the rest, unsized).
 */
static enum wg_err
wrap(const unsigned char seed[SEED_LEN], const unsigned char *name,
    const unsigned char *cred, size_t cred_len, struct makecred *out)
{
	unsigned char sym[AES128_LEN], hkey[SHA256_LEN];
	unsigned char plain[2 + MAKECRED_MAX];
	unsigned char *hmac = out->blob + 4, *enc = hmac + SHA256_LEN;
	size_t enc_len = 2 + cred_len;
	struct part parts[] = { { enc, enc_len }, { name, NAME_LEN } };
	int ok;

	wg_put_be(plain, cred_len, 2);
	memcpy(plain + 2, cred, cred_len);
	ok = makecred_kdfa(seed, SEED_LEN, "STORAGE", name, NAME_LEN, NULL, 0,
	    8 * AES128_LEN, sym) == 0 &&
	    aes_cfb(sym, plain, enc_len, enc) == 0 &&
	    makecred_kdfa(seed, SEED_LEN, "INTEGRITY", NULL, 0, NULL, 0,
	    8 * SHA256_LEN, hkey) == 0 &&
	    hmac_parts(hkey, sizeof(hkey), parts, 2, hmac) == 0;
	if (ok) {
		wg_put_be(out->blob, 2 + SHA256_LEN + enc_len, 2);
		wg_put_be(out->blob + 2, SHA256_LEN, 2);
		out->blob_len = 4 + SHA256_LEN + enc_len;
	}
	OPENSSL_cleanse(sym, sizeof(sym));
	OPENSSL_cleanse(hkey, sizeof(hkey));
	OPENSSL_cleanse(plain, sizeof(plain));
	return ok ? WG_OK : WG_E_CRYPTO;
}

/* The seed for an RSA EK: seed, or drawn when NULL. */
static enum wg_err
rsa_seed(const unsigned char *seed, unsigned char s[SEED_LEN])
{
	if (seed != NULL)
		memcpy(s, seed, SEED_LEN);
	else if (RAND_priv_bytes(s, SEED_LEN) != 1) {
		wg_log_openssl("drawing the seed");
		return WG_E_CRYPTO;
	}
	return WG_OK;
}

/*
 * makecred() and makecred_with(): seed (RSA) and eph (ECC) are drawn
 * when NULL.  *out is zeroed first and again on failure.
 */
static enum wg_err
make(const struct tpm_public *ek, const unsigned char *name,
    size_t name_len, const unsigned char *cred, size_t cred_len,
    const unsigned char *seed, const unsigned char *eph,
    struct makecred *out, char *why, size_t whylen)
{
	unsigned char s[SEED_LEN];
	enum wg_err rc;

	memset(out, 0, sizeof(*out));
	wg_say(why, whylen, "%s", "");
	if ((rc = tpm_public_ek_check(ek, why, whylen) == 0 ? WG_OK :
	    WG_E_EK_CERT_INVALID) != WG_OK ||
	    (rc = check_args(name, name_len, cred, cred_len, why,
	    whylen)) != WG_OK)
		return rc;
	if (ek->type == TPM_ALG_RSA) {
		if ((rc = rsa_seed(seed, s)) == WG_OK)
			rc = rsa_secret(ek, s, out);
	} else
		rc = ecc_secret(ek, eph, s, out);
	if (rc == WG_OK)
		rc = wrap(s, name, cred, cred_len, out);
	OPENSSL_cleanse(s, sizeof(s));
	if (rc != WG_OK)
		OPENSSL_cleanse(out, sizeof(*out));
	if (rc == WG_E_CRYPTO)
		wg_say(why, whylen, "OpenSSL failed making the credential (see "
		    "the log)");
	else if (rc == WG_E_INTERNAL)
		wg_say(why, whylen, "ecc_eph: not a P-256 private key (0 < d < "
		    "n)");
	return rc;
}

enum wg_err
makecred(const struct tpm_public *ek, const unsigned char *name,
    size_t name_len, const unsigned char *cred, size_t cred_len,
    struct makecred *out, char *why, size_t whylen)
{
	return make(ek, name, name_len, cred, cred_len, NULL, NULL, out, why,
	    whylen);
}

enum wg_err
makecred_with(const struct tpm_public *ek, const unsigned char *name,
    size_t name_len, const unsigned char *cred, size_t cred_len,
    const unsigned char seed[32], const unsigned char ecc_eph[32],
    struct makecred *out, char *why, size_t whylen)
{
	if ((ek->type == TPM_ALG_RSA && seed == NULL) ||
	    (ek->type == TPM_ALG_ECC && ecc_eph == NULL)) {
		memset(out, 0, sizeof(*out));
		wg_say(why, whylen, "%s: NULL, but this EK needs it (a fixed "
		    "vector)", ek->type == TPM_ALG_RSA ? "seed" : "ecc_eph");
		return WG_E_INTERNAL;
	}
	return make(ek, name, name_len, cred, cred_len, seed, ecc_eph, out,
	    why, whylen);
}
