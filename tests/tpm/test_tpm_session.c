/*
 * The user phase's session key in a real TPM 2.0 (swtpm, no resource
 * manager): a key wrapped by OpenSSL to the transport key with RSA-OAEP
 * (SHA-256 and SHA-1, empty label) opens in the TPM to the same bytes;
 * ciphertexts for another hash, another TK or none are refused as
 * WG_E_SESSION_KEY_INVALID; a secret sealed to the TPM unseals after the
 * TPM was closed and opened again, not on another TPM, and unseals with
 * tpm2-tools under the SRK they make from the Provisioning Guidance's
 * template, as an independent client.  A proxy between the agent and
 * swtpm records the bus: the session key crosses it encrypted both ways
 * (and, the control, in clear when the same commands go without the
 * encrypting session).  Nothing stays loaded.  Exits 77 (skipped) when
 * swtpm or tpm2-tools are missing.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "agent/tpm_int.h" /* the controls: the same commands in clear */
#include "crypto/tpmpub.h"

#include "tpm_fixture.h"

#define KEY_LEN 32   /* an AES-256 session key */
#define CIPHER_LEN 256 /* RSA-2048 */

/* k's public area as an OpenSSL key; caller frees. */
static EVP_PKEY *
key_pkey(const struct tpm_aik *k)
{
	struct tpm_public pub;
	char why[256] = "";
	EVP_PKEY *pkey;

	if (tpm_public_parse(k->pub, k->pub_len, &pub, why, sizeof(why)) !=
	    WG_OK)
		fail_msg("the key's public area was refused: %s", why);
	assert_non_null(pkey = tpm_public_to_pkey(&pub));
	return pkey;
}

/* RSA-OAEP of in with md (OAEP and MGF1), empty label, as the token
 * service wraps the session key (JWE RSA-OAEP-256 / RSA-OAEP). */
static void
oaep_wrap(const struct tpm_aik *tk, const EVP_MD *md, const unsigned char *in,
    size_t in_len, unsigned char out[CIPHER_LEN])
{
	EVP_PKEY *pkey = key_pkey(tk);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pkey, NULL);
	size_t len = CIPHER_LEN;

	assert_non_null(c);
	assert_int_equal(EVP_PKEY_encrypt_init(c), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c,
	    RSA_PKCS1_OAEP_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(c, md), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(c, md), 1);
	assert_int_equal(EVP_PKEY_encrypt(c, out, &len, in, in_len), 1);
	assert_int_equal(len, CIPHER_LEN);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(pkey);
}

/*
 * The tests' one tap: static, since the thread still uses it when a
 * failed assertion leaves the test function; teardown_tap() stops it.
 */
static struct tap bus;

/* Opens fx->tpm through the tap (bus), started on fx's swtpm. */
static void
tap_up(struct fx *fx)
{
	tap_start(&bus, fx);
	assert_null(fx->tpm);
	assert_int_equal(tpm_open(bus.tcti, &fx->tpm), WG_OK);
}

/*
 * Closes fx->tpm and the tap after it: swtpm serves one client at a
 * time, and tpm_is_clean() is the next.
 */
static void
tap_down(struct fx *fx)
{
	down(fx);
	tap_stop(&bus);
}

/* teardown(), after tap_down() if a failed test left the tap running. */
static int
teardown_tap(void **state)
{
	tap_down(*state);
	return teardown(state);
}

/* 1 if the n bytes at p are all zero. */
static int
zeroed(const unsigned char *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return 0;
	return 1;
}

/*
 * Makes a TK, then closes and opens the TPM again: the decryptions load
 * it from its blobs, as the user phase does in a later run of the agent.
 */
static void
tk_make(struct fx *fx, struct tpm_aik *tk)
{
	up(fx);
	assert_int_equal(tpm_key_create(fx->tpm, TPM_KEY_TRANSPORT, tk),
	    WG_OK);
	down(fx);
}

/* Decrypts in (CIPHER_LEN bytes); must give WG_OK and exactly want. */
static void
decrypt_ok(struct fx *fx, const struct tpm_aik *tk, enum tpm_oaep_hash hash,
    const unsigned char *in, const unsigned char want[KEY_LEN])
{
	unsigned char out[CIPHER_LEN];
	size_t out_len = sizeof(out);

	assert_int_equal(tpm_rsa_decrypt(fx->tpm, tk, hash, in, CIPHER_LEN,
	    out, &out_len), WG_OK);
	assert_int_equal(out_len, KEY_LEN);
	assert_memory_equal(out, want, KEY_LEN);
	OPENSSL_cleanse(out, sizeof(out));
}

/* Decrypts in (in_len bytes): must fail with want, out empty and wiped. */
static void
decrypt_refused(struct fx *fx, const struct tpm_aik *tk,
    enum tpm_oaep_hash hash, const unsigned char *in, size_t in_len,
    enum wg_err want)
{
	unsigned char out[CIPHER_LEN];
	size_t out_len = sizeof(out);

	memset(out, 0xA5, sizeof(out));
	assert_int_equal(tpm_rsa_decrypt(fx->tpm, tk, hash, in, in_len, out,
	    &out_len), want);
	assert_int_equal(out_len, 0);
	assert_true(zeroed(out, sizeof(out)));
}

/* A key wrapped with OAEP SHA-256 and with SHA-1 opens in the TPM. */
static void
test_tpm_rsa_decrypt_oaep(void **state)
{
	struct fx *fx = *state;
	unsigned char key[KEY_LEN], ct256[CIPHER_LEN], ct1[CIPHER_LEN];
	unsigned char out[KEY_LEN - 1];
	size_t out_len = sizeof(out);
	struct tpm_aik tk;

	tk_make(fx, &tk);
	assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
	oaep_wrap(&tk, EVP_sha256(), key, sizeof(key), ct256);
	oaep_wrap(&tk, EVP_sha1(), key, sizeof(key), ct1);
	up(fx);
	decrypt_ok(fx, &tk, TPM_OAEP_SHA256, ct256, key);
	decrypt_ok(fx, &tk, TPM_OAEP_SHA1, ct1, key);
	/* the same key again: nothing of the first call stayed in the way */
	decrypt_ok(fx, &tk, TPM_OAEP_SHA256, ct256, key);
	/* a buffer one byte short: refused, and wiped */
	memset(out, 0xA5, sizeof(out));
	assert_int_equal(tpm_rsa_decrypt(fx->tpm, &tk, TPM_OAEP_SHA256, ct256,
	    CIPHER_LEN, out, &out_len), WG_E_INTERNAL);
	assert_int_equal(out_len, 0);
	assert_true(zeroed(out, sizeof(out)));
	out_len = sizeof(out);
	assert_int_equal(tpm_rsa_decrypt(fx->tpm, &tk, TPM_OAEP_MAX, ct256,
	    CIPHER_LEN, out, &out_len), WG_E_INTERNAL);
	down(fx);
	assert_true(tpm_is_clean(fx));
}

/*
 * What was not wrapped to this TK with this hash is refused as an
 * invalid session key; a key that is not a TK, or one the TPM does not
 * take back, is a TPM failure.  Nothing stays loaded after any of them.
 */
static void
test_tpm_rsa_decrypt_refused(void **state)
{
	struct fx *fx = *state;
	unsigned char key[KEY_LEN], ct[CIPHER_LEN], other_ct[CIPHER_LEN];
	unsigned char junk[CIPHER_LEN + 257];
	struct tpm_aik tk, other, dk, bad;

	tk_make(fx, &tk);
	tk_make(fx, &other);
	up(fx);
	assert_int_equal(tpm_key_create(fx->tpm, TPM_KEY_DEVICE, &dk), WG_OK);
	down(fx);
	assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
	oaep_wrap(&tk, EVP_sha256(), key, sizeof(key), ct);
	oaep_wrap(&other, EVP_sha256(), key, sizeof(key), other_ct);
	up(fx);
	/* another hash; another TK's ciphertext (TPM_RC_VALUE) */
	decrypt_refused(fx, &tk, TPM_OAEP_SHA1, ct, CIPHER_LEN,
	    WG_E_SESSION_KEY_INVALID);
	decrypt_refused(fx, &tk, TPM_OAEP_SHA256, other_ct, CIPHER_LEN,
	    WG_E_SESSION_KEY_INVALID);
	/* garbage below the modulus, and above it (TPM_RC_VALUE) */
	assert_int_equal(RAND_bytes(junk, sizeof(junk)), 1);
	junk[0] = 0x00;
	decrypt_refused(fx, &tk, TPM_OAEP_SHA256, junk, CIPHER_LEN,
	    WG_E_SESSION_KEY_INVALID);
	memset(junk, 0xFF, CIPHER_LEN);
	decrypt_refused(fx, &tk, TPM_OAEP_SHA256, junk, CIPHER_LEN,
	    WG_E_SESSION_KEY_INVALID);
	/* not the modulus' length (TPM_RC_SIZE); longer than any modulus */
	decrypt_refused(fx, &tk, TPM_OAEP_SHA256, ct, CIPHER_LEN - 1,
	    WG_E_SESSION_KEY_INVALID);
	decrypt_refused(fx, &tk, TPM_OAEP_SHA256, junk, sizeof(junk),
	    WG_E_SESSION_KEY_INVALID);
	/* the DK does not decrypt: not the ciphertext's fault */
	decrypt_refused(fx, &dk, TPM_OAEP_SHA256, ct, CIPHER_LEN,
	    WG_E_TPM_ERROR);
	/* a TK whose private part is damaged does not load */
	bad = tk;
	bad.priv[bad.priv_len - 1] ^= 0x01;
	decrypt_refused(fx, &bad, TPM_OAEP_SHA256, ct, CIPHER_LEN,
	    WG_E_TPM_ACTIVATION);
	/* and after all of that the right one still opens */
	decrypt_ok(fx, &tk, TPM_OAEP_SHA256, ct, key);
	down(fx);
	assert_true(tpm_is_clean(fx));
}

/* The sealed object's public area: a keyedhash data object as tpm.h says. */
static void
sealed_public_check(const struct tpm_aik *sealed)
{
	TPM2B_PUBLIC pub = { 0 };
	size_t off = 0;

	assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(sealed->pub,
	    sealed->pub_len, &off, &pub), TSS2_RC_SUCCESS);
	assert_int_equal(off, sealed->pub_len);
	assert_int_equal(pub.publicArea.type, TPM2_ALG_KEYEDHASH);
	assert_int_equal(pub.publicArea.nameAlg, TPM2_ALG_SHA256);
	assert_int_equal(pub.publicArea.objectAttributes,
	    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
	    TPMA_OBJECT_USERWITHAUTH);
	assert_int_equal(pub.publicArea.authPolicy.size, 0);
	assert_int_equal(pub.publicArea.parameters.keyedHashDetail.scheme
	    .scheme, TPM2_ALG_NULL);
	/* unique: the TPM's SHA-256 of seed and data */
	assert_int_equal(pub.publicArea.unique.keyedHash.size, 32);
}

/* Seals len random bytes, reopens the TPM, unseals them. */
static void
seal_round_trip(struct fx *fx, size_t len)
{
	unsigned char secret[TPM_SEAL_MAX], out[TPM_SEAL_MAX + 1];
	size_t out_len = sizeof(out);
	struct tpm_aik sealed;

	assert_int_equal(RAND_bytes(secret, (int)len), 1);
	up(fx);
	assert_int_equal(tpm_seal(fx->tpm, secret, len, &sealed), WG_OK);
	down(fx);
	sealed_public_check(&sealed);
	/* not in clear (a byte or two may occur by chance) */
	if (len >= 8) {
		assert_null(memmem(sealed.priv, sealed.priv_len, secret, len));
		assert_null(memmem(sealed.pub, sealed.pub_len, secret, len));
	}
	up(fx);
	assert_int_equal(tpm_unseal(fx->tpm, &sealed, out, &out_len), WG_OK);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, secret, len);
	/* a buffer one byte short: refused, and wiped */
	out_len = len - 1;
	memset(out, 0xA5, sizeof(out));
	assert_int_equal(tpm_unseal(fx->tpm, &sealed, out, &out_len),
	    WG_E_INTERNAL);
	assert_int_equal(out_len, 0);
	assert_true(zeroed(out, len - 1));
	down(fx);
}

/* Sealing 1, 32 and TPM_SEAL_MAX bytes; 0 and TPM_SEAL_MAX + 1 refused. */
static void
test_tpm_seal_unseal(void **state)
{
	struct fx *fx = *state;
	unsigned char secret[TPM_SEAL_MAX + 1] = { 1 };
	struct tpm_aik sealed;

	seal_round_trip(fx, KEY_LEN);
	seal_round_trip(fx, 1);
	seal_round_trip(fx, TPM_SEAL_MAX);
	up(fx);
	memset(&sealed, 0xA5, sizeof(sealed));
	assert_int_equal(tpm_seal(fx->tpm, secret, 0, &sealed), WG_E_INTERNAL);
	assert_int_equal(sealed.pub_len + sealed.priv_len, 0);
	assert_int_equal(tpm_seal(fx->tpm, secret, TPM_SEAL_MAX + 1, &sealed),
	    WG_E_INTERNAL);
	assert_int_equal(sealed.pub_len + sealed.priv_len, 0);
	down(fx);
	assert_true(tpm_is_clean(fx));
}

/*
 * What one TPM sealed, and its TK, do not load on another (a second
 * swtpm: another owner seed, another SRK): WG_E_TPM_ACTIVATION, and the
 * other TPM is left clean.
 */
static void
test_tpm_session_other_tpm(void **state)
{
	struct fx *fx = *state, *fx2;
	unsigned char secret[KEY_LEN], ct[CIPHER_LEN], out[CIPHER_LEN];
	size_t out_len = sizeof(out);
	struct tpm_aik sealed, tk;
	void *state2 = NULL;

	assert_int_equal(RAND_bytes(secret, sizeof(secret)), 1);
	tk_make(fx, &tk);
	oaep_wrap(&tk, EVP_sha256(), secret, sizeof(secret), ct);
	up(fx);
	assert_int_equal(tpm_seal(fx->tpm, secret, sizeof(secret), &sealed),
	    WG_OK);
	down(fx);
	assert_int_equal(setup_fresh(&state2), 0);
	fx2 = state2;
	up(fx2);
	assert_int_equal(tpm_unseal(fx2->tpm, &sealed, out, &out_len),
	    WG_E_TPM_ACTIVATION);
	assert_int_equal(out_len, 0);
	decrypt_refused(fx2, &tk, TPM_OAEP_SHA256, ct, CIPHER_LEN,
	    WG_E_TPM_ACTIVATION);
	/* teardown() closes, checks fx2 is clean, stops its swtpm */
	assert_int_equal(teardown(&state2), 0);
	/* on its own TPM both still open */
	up(fx);
	decrypt_ok(fx, &tk, TPM_OAEP_SHA256, ct, secret);
	out_len = sizeof(out);
	assert_int_equal(tpm_unseal(fx->tpm, &sealed, out, &out_len), WG_OK);
	assert_int_equal(out_len, sizeof(secret));
	assert_memory_equal(out, secret, sizeof(secret));
	down(fx);
	assert_true(tpm_is_clean(fx));
}

/*
 * tpm2_createprimary with the SRK template of the Provisioning Guidance
 * (7.5.1: ECC P-256, AES-128-CFB, restricted decrypt, noDA, empty
 * unique) into srk.ctx, with attrs as its objectAttributes; then every
 * transient object the tool left is flushed (no resource manager).
 */
static void
tools_srk(struct fx *fx, const char *attrs)
{
	char ctx[PATH_MAX];

	RUN(fx, NULL, "tpm2_createprimary", "-Q", "-C", "o", "-g", "sha256",
	    "-G", "ecc256:aes128cfb", "-a", attrs, "-c",
	    fx_path(fx, "srk.ctx", ctx));
	RUN(fx, NULL, "tpm2_flushcontext", "-t");
}

/*
 * tpm2-tools, an independent client, unseal what tpm_seal() made under
 * the SRK they create from the same template: the TPM's integrity check
 * of the private part passes only under the very same parent.
 */
static void
test_tpm_unseal_tpm2_tools(void **state)
{
	static const char srk_attrs[] = "fixedtpm|fixedparent|"
	    "sensitivedataorigin|userwithauth|noda|restricted|decrypt";
	struct fx *fx = *state;
	unsigned char secret[KEY_LEN], *got;
	char pub[PATH_MAX], priv[PATH_MAX], srk[PATH_MAX], obj[PATH_MAX];
	char out[PATH_MAX];
	const char *load[] = { "tpm2_load", "-Q", "-C", srk, "-u", pub, "-r",
		priv, "-c", obj, NULL };
	struct tpm_aik sealed;
	size_t len;

	assert_int_equal(RAND_bytes(secret, sizeof(secret)), 1);
	up(fx);
	assert_int_equal(tpm_seal(fx->tpm, secret, sizeof(secret), &sealed),
	    WG_OK);
	down(fx);
	write_file(fx_path(fx, "sealed.pub", pub), sealed.pub, sealed.pub_len);
	write_file(fx_path(fx, "sealed.priv", priv), sealed.priv,
	    sealed.priv_len);
	fx_path(fx, "srk.ctx", srk);
	fx_path(fx, "sealed.ctx", obj);
	fx_path(fx, "unsealed.bin", out);

	/* the control: another parent (no noDA) does not take it */
	tools_srk(fx, "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|"
	    "restricted|decrypt");
	assert_int_not_equal(run(fx, NULL, load), 0);
	RUN(fx, NULL, "tpm2_flushcontext", "-t");

	tools_srk(fx, srk_attrs);
	assert_int_equal(run(fx, NULL, load), 0);
	RUN(fx, NULL, "tpm2_flushcontext", "-t");
	RUN(fx, NULL, "tpm2_unseal", "-c", obj, "-o", out);
	RUN(fx, NULL, "tpm2_flushcontext", "-t");
	got = read_file(out, &len);
	assert_int_equal(len, sizeof(secret));
	assert_memory_equal(got, secret, sizeof(secret));
	free(got);
	assert_true(tpm_is_clean(fx));
}

/*
 * The control: TPM2_RSA_Decrypt of in by tk as the agent made it before
 * it encrypted the response, the password session alone.  Must give want.
 */
static void
plain_decrypt(struct fx *fx, const struct tpm_aik *tk, const unsigned char
    in[CIPHER_LEN], const unsigned char want[KEY_LEN])
{
	TPMT_RSA_DECRYPT scheme = { .scheme = TPM2_ALG_OAEP,
		.details.oaep.hashAlg = TPM2_ALG_SHA256 };
	TPM2B_PUBLIC_KEY_RSA cipher = { .size = CIPHER_LEN }, *msg = NULL;
	TPM2B_DATA label = { .size = 0 };
	ESYS_TR tr = ESYS_TR_NONE;

	memcpy(cipher.buffer, in, CIPHER_LEN);
	assert_int_equal(tpm_key_load(fx->tpm, tk, "TK", &tr), WG_OK);
	assert_int_equal(Esys_RSA_Decrypt(fx->tpm->esys, tr, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, ESYS_TR_NONE, &cipher, &scheme, &label, &msg),
	    TSS2_RC_SUCCESS);
	assert_int_equal(tpm_flush(fx->tpm, &tr, "TK", WG_OK), WG_OK);
	assert_int_equal(msg->size, KEY_LEN);
	assert_memory_equal(msg->buffer, want, KEY_LEN);
	Esys_Free(msg);
}

/* The control: TPM2_Unseal of sealed in clear.  Must give want. */
static void
plain_unseal(struct fx *fx, const struct tpm_aik *sealed,
    const unsigned char want[KEY_LEN])
{
	TPM2B_SENSITIVE_DATA *data = NULL;
	ESYS_TR tr = ESYS_TR_NONE;

	assert_int_equal(tpm_key_load(fx->tpm, sealed, "sealed", &tr), WG_OK);
	assert_int_equal(Esys_Unseal(fx->tpm->esys, tr, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, ESYS_TR_NONE, &data), TSS2_RC_SUCCESS);
	assert_int_equal(tpm_flush(fx->tpm, &tr, "sealed", WG_OK), WG_OK);
	assert_int_equal(data->size, KEY_LEN);
	assert_memory_equal(data->buffer, want, KEY_LEN);
	Esys_Free(data);
}

/* The control: TPM2_Create of a data object holding secret, in clear. */
static void
plain_seal(struct fx *fx, const unsigned char secret[KEY_LEN])
{
	TPM2B_SENSITIVE_CREATE sensitive = { 0 };
	TPM2B_PUBLIC tmpl = { 0 }, *pub = NULL;
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION pcrs = { 0 };
	ESYS_TR srk = ESYS_TR_NONE;

	sensitive.sensitive.data.size = KEY_LEN;
	memcpy(sensitive.sensitive.data.buffer, secret, KEY_LEN);
	tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
	tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
	tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM |
	    TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_USERWITHAUTH;
	tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme =
	    TPM2_ALG_NULL;
	assert_int_equal(tpm_srk_create(fx->tpm, &srk), WG_OK);
	assert_int_equal(Esys_Create(fx->tpm->esys, srk, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &tmpl, &outside, &pcrs,
	    &priv, &pub, NULL, NULL, NULL), TSS2_RC_SUCCESS);
	assert_int_equal(tpm_flush(fx->tpm, &srk, "SRK", WG_OK), WG_OK);
	Esys_Free(pub);
	Esys_Free(priv);
}

/*
 * 1 if the tap saw a TPM2_StartAuthSession (TPM 2.0 Part 3, 11.1) with a
 * tpmKey and a non-empty encryptedSalt: a session key that one who
 * reads the bus cannot compute, unlike an unsalted session's, which
 * would hide the secret from tap_seen() and not from a sniffer.
 */
static int
salted_session_seen(struct tap *t)
{
	/* TPM_ST_NO_SESSIONS; TPM_CC_StartAuthSession; TPM_RH_NULL */
	static const unsigned char tag[] = { 0x80, 0x01 };
	static const unsigned char code[] = { 0x00, 0x00, 0x01, 0x76 };
	static const unsigned char rh_null[] = { 0x40, 0x00, 0x00, 0x07 };
	const unsigned char *r;
	size_t off, len, nonce;
	int seen = 0;

	pthread_mutex_lock(&t->lock);
	r = t->rec;
	len = t->rec_len;
	/* tag, size, code; tpmKey, bind; nonceCaller, encryptedSalt */
	for (off = 0; !seen && len >= 22 && off <= len - 22; off++) {
		if (memcmp(r + off, tag, 2) != 0 ||
		    memcmp(r + off + 6, code, 4) != 0 ||
		    memcmp(r + off + 10, rh_null, 4) == 0)
			continue;
		nonce = (size_t)r[off + 18] << 8 | r[off + 19];
		if (nonce <= len - off - 22)
			seen = (r[off + 20 + nonce] << 8 |
			    r[off + 21 + nonce]) > 0;
	}
	pthread_mutex_unlock(&t->lock);
	return seen;
}

/*
 * The session key tpm_rsa_decrypt() opens does not cross the bus in
 * clear; the wrapped key it sent does (the tap saw the command), and the
 * same decryption without the encrypting session shows the session key
 * on the bus: the tap would see it if it were there.  The encrypting
 * session is salted.
 */
static void
test_tpm_rsa_decrypt_bus(void **state)
{
	struct fx *fx = *state;
	unsigned char key[KEY_LEN], ct[CIPHER_LEN];
	struct tpm_aik tk;

	tk_make(fx, &tk);
	assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
	oaep_wrap(&tk, EVP_sha256(), key, sizeof(key), ct);
	tap_up(fx);
	decrypt_ok(fx, &tk, TPM_OAEP_SHA256, ct, key);
	assert_true(tap_seen(&bus, ct, sizeof(ct)));
	assert_false(tap_seen(&bus, key, sizeof(key)));
	assert_true(salted_session_seen(&bus));
	tap_clear(&bus);
	plain_decrypt(fx, &tk, ct, key);
	assert_true(tap_seen(&bus, key, sizeof(key)));
	tap_down(fx);
	assert_true(tpm_is_clean(fx));
}

/*
 * Neither tpm_seal()'s command nor tpm_unseal()'s response carries the
 * secret in clear, and what was sealed unseals; the controls, TPM2_Create
 * and TPM2_Unseal without the encrypting session, show it on the bus.
 * Both encrypting sessions are salted.
 */
static void
test_tpm_seal_unseal_bus(void **state)
{
	struct fx *fx = *state;
	unsigned char secret[KEY_LEN], other[KEY_LEN], out[KEY_LEN];
	size_t out_len = sizeof(out);
	struct tpm_aik sealed;

	assert_int_equal(RAND_bytes(secret, sizeof(secret)), 1);
	assert_int_equal(RAND_bytes(other, sizeof(other)), 1);
	tap_up(fx);
	assert_int_equal(tpm_seal(fx->tpm, secret, sizeof(secret), &sealed),
	    WG_OK);
	/* the tap saw the response: the new object's public area */
	assert_true(tap_seen(&bus, sealed.pub + 2, sealed.pub_len - 2));
	assert_false(tap_seen(&bus, secret, sizeof(secret)));
	assert_true(salted_session_seen(&bus));
	tap_clear(&bus);
	assert_int_equal(tpm_unseal(fx->tpm, &sealed, out, &out_len), WG_OK);
	assert_int_equal(out_len, sizeof(secret));
	assert_memory_equal(out, secret, sizeof(secret));
	assert_false(tap_seen(&bus, secret, sizeof(secret)));
	assert_true(salted_session_seen(&bus));
	tap_clear(&bus);
	plain_unseal(fx, &sealed, secret);
	assert_true(tap_seen(&bus, secret, sizeof(secret)));
	tap_clear(&bus);
	plain_seal(fx, other);
	assert_true(tap_seen(&bus, other, sizeof(other)));
	assert_false(salted_session_seen(&bus));
	tap_down(fx);
	OPENSSL_cleanse(out, sizeof(out));
	assert_true(tpm_is_clean(fx));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_fresh, teardown)

int
main(void)
{
	static const char *const tools[] = { "swtpm", "swtpm_setup",
		"tpm2_getcap", "tpm2_createprimary", "tpm2_load",
		"tpm2_unseal", "tpm2_flushcontext", NULL };
	const struct CMUnitTest tests[] = {
		T(test_tpm_rsa_decrypt_oaep),
		T(test_tpm_rsa_decrypt_refused),
		T(test_tpm_seal_unseal),
		T(test_tpm_session_other_tpm),
		T(test_tpm_unseal_tpm2_tools),
		cmocka_unit_test_setup_teardown(test_tpm_rsa_decrypt_bus,
		    setup_fresh, teardown_tap),
		cmocka_unit_test_setup_teardown(test_tpm_seal_unseal_bus,
		    setup_fresh, teardown_tap),
	};

	if (!fx_have_tools(tools))
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
