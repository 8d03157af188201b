/*
 * The agent's TPM layer for attestation against a real TPM 2.0: every
 * test starts its own swtpm on loopback (no resource manager, so a
 * leaked handle stays visible) and checks the results with tpm2-tools as
 * the independent client: tpm2_makecredential makes the credentials
 * tpm_activate_credential must open, tpm2_nvdefine/nvwrite and
 * swtpm_setup put the EK certificates tpm_ek_cert must return, and after
 * each test tpm2_getcap must list no transient object or loaded session.
 * Exits 77 (skipped) when swtpm, swtpm_setup, tpm2-tools or openssl are
 * not installed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "agent/tpm.h"
#include "crypto/tpmattest.h"
#include "crypto/tpmpub.h"

#include "tpm_fixture.h"

/* tpm_ek_public of alg into root/ek-<alg>.pub (TSS format). */
static void
ek_public_file(struct fx *fx, enum tpm_ek_alg alg, char path[PATH_MAX])
{
	unsigned char *pub;
	size_t len;
	char name[32];

	assert_int_equal(tpm_ek_public(fx->tpm, alg, &pub, &len), WG_OK);
	snprintf(name, sizeof(name), "ek-%s.pub", tpm_ek_alg_name(alg));
	write_file(fx_path(fx, name, path), pub, len);
	free(pub);
}

/* An AIK's name: nameAlg (SHA-256) || SHA-256(TPMT_PUBLIC). */
static void
aik_name(const struct tpm_aik *aik, unsigned char name[34])
{
	unsigned int n;

	assert_true(aik->pub_len > 2 && aik->pub_len <= sizeof(aik->pub));
	assert_int_equal(aik->pub[0] << 8 | aik->pub[1], aik->pub_len - 2);
	name[0] = 0x00;
	name[1] = 0x0B;
	assert_int_equal(EVP_Digest(aik->pub + 2, aik->pub_len - 2, name + 2,
	    &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, 32);
}

/*
 * What tpm2-tools sees in the AIK: its public area is the restricted
 * RSASSA-SHA256 signing key of the contract, and the TPM loads the AIK
 * under an SRK tpm2_createprimary makes from the Provisioning Guidance
 * template, giving the name we compute.  Flushes what the tools leave.
 */
static void
aik_check(struct fx *fx, const struct tpm_aik *aik,
    const unsigned char name[34])
{
	char pub[PATH_MAX], priv[PATH_MAX], srk[PATH_MAX], out[PATH_MAX],
	    aikctx[PATH_MAX], namefile[PATH_MAX];
	unsigned char *text;
	size_t len;

	write_file(fx_path(fx, "aik.pub", pub), aik->pub, aik->pub_len);
	write_file(fx_path(fx, "aik.priv", priv), aik->priv, aik->priv_len);
	RUN(fx, fx_path(fx, "aik.txt", out), "tpm2_print", "-t",
	    "TPM2B_PUBLIC", pub);
	text = read_file(out, &len);
	assert_non_null(strstr((char *)text, "raw: 0x50072\n"));
	assert_non_null(strstr((char *)text, "bits: 2048\n"));
	assert_non_null(strstr((char *)text, "value: rsassa\n"));
	assert_non_null(strstr((char *)text, "value: sha256\n"));
	free(text);
	RUN(fx, NULL, "tpm2_createprimary", "-Q", "-C", "o", "-g", "sha256",
	    "-G", "ecc256:null:aes128cfb", "-a", "fixedtpm|fixedparent|"
	    "sensitivedataorigin|userwithauth|noda|restricted|decrypt", "-c",
	    fx_path(fx, "srk.ctx", srk));
	RUN(fx, NULL, "tpm2_load", "-Q", "-C", srk, "-u", pub, "-r", priv,
	    "-n", fx_path(fx, "aik.name", namefile), "-c",
	    fx_path(fx, "aik.ctx", aikctx));
	RUN(fx, NULL, "tpm2_flushcontext", "-t");
	text = read_file(namefile, &len);
	assert_int_equal(len, 34);
	assert_memory_equal(text, name, 34);
	free(text);
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * tpm2_makecredential offline (--tcti none): secret for the key named
 * name, for the EK whose TPM2B_PUBLIC is in ek_file.  Splits the tool's
 * file (magic 0xBADCC0DE, version 1, TPM2B_ID_OBJECT,
 * TPM2B_ENCRYPTED_SECRET) into c.
 */
static void
make_credential(struct fx *fx, const char *ek_file,
    const unsigned char name[34], const unsigned char *secret, size_t n,
    struct cred *c)
{
	char hex[69], sfile[PATH_MAX], cfile[PATH_MAX];
	unsigned char *buf;
	size_t len, i, blob_len;

	for (i = 0; i < 34; i++)
		snprintf(hex + 2 * i, 3, "%02x", name[i]);
	write_file(fx_path(fx, "secret.bin", sfile), secret, n);
	fx_path(fx, "cred.out", cfile);
	RUN(NULL, NULL, "tpm2_makecredential", "-Q", "--tcti", "none", "-u",
	    ek_file, "-s", sfile, "-n", hex, "-o", cfile);
	buf = read_file(cfile, &len);
	assert_true(len > 12);
	assert_int_equal(be32(buf), 0xBADCC0DEu);
	assert_int_equal(be32(buf + 4), 1);
	blob_len = 2 + (size_t)(buf[8] << 8 | buf[9]);
	assert_true(blob_len <= sizeof(c->blob) && blob_len + 2 <= len - 8);
	memcpy(c->blob, buf + 8, blob_len);
	c->blob_len = blob_len;
	c->secret_len = len - 8 - blob_len;
	assert_true(c->secret_len <= sizeof(c->secret));
	memcpy(c->secret, buf + 8 + blob_len, c->secret_len);
	assert_int_equal(2 + (buf[8 + blob_len] << 8 | buf[9 + blob_len]),
	    c->secret_len);
	free(buf);
}

/*
 * An AIK made by tpm_aik_create, checked by tpm2-tools; the EK public of
 * alg in ek_file; a credential for the AIK's name made by the tools.
 */
static void
enroll(struct fx *fx, enum tpm_ek_alg alg, struct tpm_aik *aik,
    char ek_file[PATH_MAX], unsigned char secret[32], struct cred *c)
{
	unsigned char name[34];

	up(fx);
	assert_int_equal(tpm_aik_create(fx->tpm, aik), WG_OK);
	ek_public_file(fx, alg, ek_file);
	down(fx);
	assert_true(tpm_is_clean(fx));
	aik_name(aik, name);
	aik_check(fx, aik, name);
	assert_int_equal(RAND_bytes(secret, 32), 1);
	make_credential(fx, ek_file, name, secret, 32, c);
}

/* tpm_activate_credential on a fresh connection; its result. */
static enum wg_err
activate(struct fx *fx, enum tpm_ek_alg alg, const struct tpm_aik *aik,
    const struct cred *c, unsigned char out[64], size_t *outlen)
{
	enum wg_err err;

	up(fx);
	err = tpm_activate_credential(fx->tpm, alg, aik, c->blob, c->blob_len,
	    c->secret, c->secret_len, out, outlen);
	down(fx);
	assert_true(tpm_is_clean(fx));
	return err;
}

/* The EK public in ek_file is the one tpm2_readpublic reads at handle. */
static void
assert_ek_persistent(struct fx *fx, const char *ek_file, const char *handle)
{
	unsigned char *pub, *ek;
	size_t pub_len, ek_len;
	char file[PATH_MAX];

	RUN(fx, NULL, "tpm2_readpublic", "-Q", "-c", handle, "-o",
	    fx_path(fx, "ek-persistent.pub", file));
	pub = read_file(file, &pub_len);
	ek = read_file(ek_file, &ek_len);
	assert_int_equal(pub_len, ek_len);
	assert_memory_equal(pub, ek, ek_len);
	free(pub);
	free(ek);
}

/*
 * The flow: AIK, EK public, a credential from the tools, activation gives
 * back the secret.  persistent: the EK's handle if it must be that one.
 */
static void
activate_roundtrip(struct fx *fx, enum tpm_ek_alg alg, const char *persistent)
{
	struct tpm_aik aik;
	struct cred c;
	unsigned char secret[32], got[64];
	char ek_file[PATH_MAX];
	size_t got_len = 99;

	enroll(fx, alg, &aik, ek_file, secret, &c);
	if (persistent != NULL)
		assert_ek_persistent(fx, ek_file, persistent);
	assert_int_equal(activate(fx, alg, &aik, &c, got, &got_len), WG_OK);
	assert_int_equal(got_len, sizeof(secret));
	assert_memory_equal(got, secret, sizeof(secret));
}

static void
test_tpm_activate_credential_rsa(void **state)
{
	activate_roundtrip(*state, TPM_EK_RSA, NULL);
}

static void
test_tpm_activate_credential_ecc(void **state)
{
	activate_roundtrip(*state, TPM_EK_ECC, NULL);
}

/*
 * A persistent EK with userWithAuth and an authPolicy PolicySecret does
 * not satisfy (as an EK made from an NV template in the high-range style
 * may be): the activation authorizes it with its empty password.
 */
static void
test_tpm_activate_credential_userwithauth_ek(void **state)
{
	struct fx *fx = *state;
	unsigned char policy[32];
	char file[PATH_MAX], ctx[PATH_MAX];

	assert_int_equal(RAND_bytes(policy, sizeof(policy)), 1);
	write_file(fx_path(fx, "policy.bin", file), policy, sizeof(policy));
	RUN(fx, NULL, "tpm2_createprimary", "-Q", "-C", "e", "-g", "sha256",
	    "-G", "rsa2048:null:aes128cfb", "-a", "fixedtpm|fixedparent|"
	    "sensitivedataorigin|userwithauth|adminwithpolicy|restricted|"
	    "decrypt", "-L", file, "-c", fx_path(fx, "ek.ctx", ctx));
	RUN(fx, NULL, "tpm2_evictcontrol", "-Q", "-C", "o", "-c", ctx,
	    "0x81010001");
	RUN(fx, NULL, "tpm2_flushcontext", "-t");
	activate_roundtrip(fx, TPM_EK_RSA, "0x81010001");
}

/* A credential made for another AIK's name is refused by the TPM. */
static void
test_tpm_activate_credential_other_aik(void **state)
{
	struct fx *fx = *state;
	struct tpm_aik aik, other;
	struct cred c;
	unsigned char secret[32], got[64], name[34];
	char ek_file[PATH_MAX];
	size_t got_len = 99;

	enroll(fx, TPM_EK_RSA, &aik, ek_file, secret, &c);
	up(fx);
	assert_int_equal(tpm_aik_create(fx->tpm, &other), WG_OK);
	down(fx);
	aik_name(&other, name);
	make_credential(fx, ek_file, name, secret, sizeof(secret), &c);
	assert_int_equal(activate(fx, TPM_EK_RSA, &aik, &c, got, &got_len),
	    WG_E_TPM_ACTIVATION);
	assert_int_equal(got_len, 0);
	/* and the AIK it was made for opens it */
	assert_int_equal(activate(fx, TPM_EK_RSA, &other, &c, got, &got_len),
	    WG_OK);
	assert_memory_equal(got, secret, sizeof(secret));
}

/* A credential for the ECC EK does not open with the RSA EK. */
static void
test_tpm_activate_credential_other_ek(void **state)
{
	struct fx *fx = *state;
	struct tpm_aik aik;
	struct cred c;
	unsigned char secret[32], got[64];
	char ek_file[PATH_MAX];
	size_t got_len = 99;

	enroll(fx, TPM_EK_ECC, &aik, ek_file, secret, &c);
	assert_int_equal(activate(fx, TPM_EK_RSA, &aik, &c, got, &got_len),
	    WG_E_TPM_ACTIVATION);
	assert_int_equal(got_len, 0);
}

/* Cut or overlong parts are refused before the TPM sees them. */
static void
test_tpm_activate_credential_malformed(void **state)
{
	struct fx *fx = *state;
	struct tpm_aik aik;
	struct cred c, bad;
	unsigned char secret[32], got[64];
	char ek_file[PATH_MAX];
	size_t got_len;

	enroll(fx, TPM_EK_RSA, &aik, ek_file, secret, &c);
	bad = c;
	bad.blob_len--;
	assert_int_equal(activate(fx, TPM_EK_RSA, &aik, &bad, got, &got_len),
	    WG_E_TPM_ACTIVATION);
	bad = c;
	bad.blob[bad.blob_len++] = 0;
	assert_int_equal(activate(fx, TPM_EK_RSA, &aik, &bad, got, &got_len),
	    WG_E_TPM_ACTIVATION);
	bad = c;
	bad.secret_len = 1;
	assert_int_equal(activate(fx, TPM_EK_RSA, &aik, &bad, got, &got_len),
	    WG_E_TPM_ACTIVATION);
	bad = c;
	bad.blob_len = 0;
	assert_int_equal(activate(fx, TPM_EK_RSA, &aik, &bad, got, &got_len),
	    WG_E_TPM_ACTIVATION);
	/* a damaged blob of the right shape reaches the TPM: INTEGRITY */
	bad = c;
	bad.blob[bad.blob_len - 1] ^= 0x01;
	assert_int_equal(activate(fx, TPM_EK_RSA, &aik, &bad, got, &got_len),
	    WG_E_TPM_ACTIVATION);
	assert_int_equal(got_len, 0);
}

/* An AIK whose private part the TPM's integrity check refuses. */
static void
test_tpm_activate_credential_damaged_aik(void **state)
{
	struct fx *fx = *state;
	struct tpm_aik aik, bad;
	struct cred c;
	unsigned char secret[32], got[64];
	char ek_file[PATH_MAX];
	size_t got_len;

	enroll(fx, TPM_EK_RSA, &aik, ek_file, secret, &c);
	bad = aik;
	bad.priv[bad.priv_len - 1] ^= 0x01;
	assert_int_equal(activate(fx, TPM_EK_RSA, &bad, &c, got, &got_len),
	    WG_E_TPM_ACTIVATION);
	bad = aik;
	bad.pub_len--;
	assert_int_equal(activate(fx, TPM_EK_RSA, &bad, &c, got, &got_len),
	    WG_E_TPM_ERROR);
}

static void
test_tpm_ek_cert_missing(void **state)
{
	struct fx *fx = *state;
	unsigned char *der = (unsigned char *)"x";
	size_t len = 99;

	up(fx);
	assert_int_equal(tpm_ek_cert(fx->tpm, TPM_EK_RSA, &der, &len),
	    WG_E_EK_CERT_MISSING);
	assert_null(der);
	assert_int_equal(len, 0);
	assert_int_equal(tpm_ek_cert(fx->tpm, TPM_EK_ECC, &der, &len),
	    WG_E_EK_CERT_MISSING);
	assert_null(der);
	down(fx);
}

/* A DER certificate made by openssl into *der (caller frees). */
static void
make_cert(struct fx *fx, unsigned char **der, size_t *len)
{
	char cert[PATH_MAX], key[PATH_MAX];

	RUN(NULL, NULL, "openssl", "req", "-x509", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
	    "/CN=whiteglove test EK", "-days", "1", "-outform", "DER",
	    "-keyout", fx_path(fx, "cert.key", key), "-out",
	    fx_path(fx, "cert.der", cert));
	*der = read_file(cert, len);
}

/*
 * Defines index as the platform does for EK certificates (TCG EK
 * Credential Profile 2.2.1.5: platform-written, owner- and auth-readable)
 * with size bytes and writes data (size bytes) into it with tpm2-tools.
 */
static void
nv_put(struct fx *fx, const char *index, const unsigned char *data,
    size_t size)
{
	char file[PATH_MAX], sz[16];

	snprintf(sz, sizeof(sz), "%zu", size);
	write_file(fx_path(fx, "nv.bin", file), data, size);
	RUN(fx, NULL, "tpm2_nvdefine", "-Q", index, "-C", "p", "-s", sz, "-a",
	    "ppwrite|ppread|ownerread|authread|no_da|platformcreate");
	RUN(fx, NULL, "tpm2_nvwrite", "-Q", index, "-C", "p", "-i", file);
}

/* The DER comes back exact, with the zero padding after it cut off. */
static void
test_tpm_ek_cert_padded(void **state)
{
	struct fx *fx = *state;
	unsigned char *der, *padded, *got;
	size_t len, got_len;

	make_cert(fx, &der, &len);
	assert_non_null(padded = calloc(1, len + 300));
	memcpy(padded, der, len);
	nv_put(fx, EK_CERT_RSA, padded, len + 300);
	nv_put(fx, EK_CERT_ECC, der, len);
	up(fx);
	assert_int_equal(tpm_ek_cert(fx->tpm, TPM_EK_RSA, &got, &got_len),
	    WG_OK);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, der, len);
	free(got);
	assert_int_equal(tpm_ek_cert(fx->tpm, TPM_EK_ECC, &got, &got_len),
	    WG_OK);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, der, len);
	free(got);
	down(fx);
	free(padded);
	free(der);
}

/* Anything but zeros after the DER, or no DER at all, is refused. */
static void
test_tpm_ek_cert_invalid(void **state)
{
	struct fx *fx = *state;
	unsigned char *der, *buf, *got = (unsigned char *)"x";
	size_t len, got_len = 99;

	make_cert(fx, &der, &len);
	assert_non_null(buf = calloc(1, len + 16));
	memcpy(buf, der, len);
	buf[len + 15] = 0x01;
	nv_put(fx, EK_CERT_RSA, buf, len + 16);
	buf[0] = 0x31; /* a SET, not a SEQUENCE */
	nv_put(fx, EK_CERT_ECC, buf, len);
	up(fx);
	assert_int_equal(tpm_ek_cert(fx->tpm, TPM_EK_RSA, &got, &got_len),
	    WG_E_EK_CERT_INVALID);
	assert_null(got);
	assert_int_equal(got_len, 0);
	assert_int_equal(tpm_ek_cert(fx->tpm, TPM_EK_ECC, &got, &got_len),
	    WG_E_EK_CERT_INVALID);
	down(fx);
	free(buf);
	free(der);
}

/* 1 if the X.509 DER certifies the key in the TPM2B_PUBLIC pub. */
static int
cert_is_for(const unsigned char *der, size_t len, const unsigned char *pub,
    size_t pub_len)
{
	const unsigned char *p = der;
	struct tpm_public tp;
	EVP_PKEY *key;
	X509 *x;
	char why[256];
	int same;

	assert_non_null(x = d2i_X509(NULL, &p, (long)len));
	assert_ptr_equal(p, der + len);
	assert_int_equal(tpm_public_parse(pub, pub_len, &tp, why,
	    sizeof(why)), WG_OK);
	assert_non_null(key = tpm_public_to_pkey(&tp));
	same = EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1;
	EVP_PKEY_free(key);
	X509_free(x);
	return same;
}

/*
 * A TPM manufactured like a discrete one: the RSA EK certificate in NV
 * is what tpm2_nvread reads and certifies the EK tpm_ek_public returns,
 * the persistent one, which the activation uses; the ECC EK (P-384 by
 * swtpm_setup, its certificate at 0x01C00016) has no P-256 certificate.
 */
static void
test_tpm_ek_cert_manufactured(void **state)
{
	struct fx *fx = *state;
	unsigned char *der, *nv, *ek;
	size_t len, nv_len, ek_len;
	char file[PATH_MAX];

	up(fx);
	assert_int_equal(tpm_ek_cert(fx->tpm, TPM_EK_RSA, &der, &len), WG_OK);
	assert_int_equal(tpm_ek_public(fx->tpm, TPM_EK_RSA, &ek, &ek_len),
	    WG_OK);
	assert_int_equal(tpm_ek_cert(fx->tpm, TPM_EK_ECC, &nv, &nv_len),
	    WG_E_EK_CERT_MISSING);
	down(fx);
	RUN(fx, NULL, "tpm2_nvread", "-Q", EK_CERT_RSA, "-C", "o", "-o",
	    fx_path(fx, "ekcert.der", file));
	nv = read_file(file, &nv_len);
	assert_int_equal(len, nv_len);
	assert_memory_equal(der, nv, len);
	assert_true(cert_is_for(der, len, ek, ek_len));
	free(nv);
	free(der);
	free(ek);
	activate_roundtrip(fx, TPM_EK_RSA, "0x81010001");
}

/*
 * The AIK's quote of a nonce, checked by the server's own verifier
 * (crypto/tpmattest.c): a TPM2_Quote over PCR 0 (SHA-256) carrying the
 * nonce, signed by the AIK; one changed byte and it no longer verifies.
 */
static void
test_tpm_quote_of_a_nonce(void **state)
{
	struct fx *fx = *state;
	struct tpm_aik aik;
	struct tpm_public pub;
	struct tpm_attest att;
	unsigned char nonce[32], *quote = NULL, *sig = NULL;
	size_t qlen = 0, slen = 0;
	char why[256];

	assert_int_equal(RAND_bytes(nonce, sizeof(nonce)), 1);
	up(fx);
	assert_int_equal(tpm_aik_create(fx->tpm, &aik), WG_OK);
	assert_int_equal(tpm_quote(fx->tpm, &aik, nonce, 0, &quote, &qlen,
	    &sig, &slen), WG_E_INTERNAL);
	assert_null(quote);
	assert_int_equal(tpm_quote(fx->tpm, &aik, nonce, sizeof(nonce),
	    &quote, &qlen, &sig, &slen), WG_OK);
	down(fx);
	assert_int_equal(tpm_public_parse(aik.pub, aik.pub_len, &pub, why,
	    sizeof(why)), WG_OK);
	assert_int_equal(tpm_attest_parse(quote, qlen, &att, why,
	    sizeof(why)), WG_OK);
	assert_int_equal(att.type, TPM_ST_ATTEST_QUOTE);
	assert_int_equal(att.extra_len, sizeof(nonce));
	assert_memory_equal(att.extra, nonce, sizeof(nonce));
	assert_int_equal(att.bank_count, 1);
	assert_int_equal(att.banks[0].hash, TPM_ALG_SHA256);
	assert_int_equal(att.banks[0].pcrs, 1);
	assert_int_equal(tpm_attest_verify(&pub, quote, qlen, sig, slen, why,
	    sizeof(why)), WG_OK);
	quote[qlen - 1] ^= 1;
	assert_int_not_equal(tpm_attest_verify(&pub, quote, qlen, sig, slen,
	    why, sizeof(why)), WG_OK);
	assert_true(tpm_is_clean(fx));
	free(quote);
	free(sig);
}

#define T(name, setup) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	static const char *const tools[] = { "swtpm", "swtpm_setup",
		"swtpm_localca", "tpm2_makecredential", "tpm2_getcap",
		"tpm2_nvdefine", "tpm2_print", "openssl", NULL };
	const struct CMUnitTest tests[] = {
		T(test_tpm_ek_cert_missing, setup_fresh),
		T(test_tpm_ek_cert_padded, setup_fresh),
		T(test_tpm_ek_cert_invalid, setup_fresh),
		T(test_tpm_activate_credential_rsa, setup_fresh),
		T(test_tpm_activate_credential_ecc, setup_fresh),
		T(test_tpm_activate_credential_userwithauth_ek, setup_fresh),
		T(test_tpm_activate_credential_other_aik, setup_fresh),
		T(test_tpm_activate_credential_other_ek, setup_fresh),
		T(test_tpm_activate_credential_malformed, setup_fresh),
		T(test_tpm_activate_credential_damaged_aik, setup_fresh),
		T(test_tpm_quote_of_a_nonce, setup_fresh),
		T(test_tpm_ek_cert_manufactured, setup_manufactured),
	};

	if (!fx_have_tools(tools))
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
