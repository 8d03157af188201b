/*
 * The tpmattest tests' material (tpmattest_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/util.h"
#include "crypto/tpmattest.h"
#include "tpmattest_fixture.h"

struct key rsa_key, rsa_other, ecc_key, ecc_other;

void
put(struct buf *w, uint64_t v, size_t n)
{
	assert_true(n <= sizeof(w->b) - w->len);
	wg_put_be(w->b + w->len, v, n);
	w->len += n;
}

void
put_2b(struct buf *w, const void *p, size_t n)
{
	put(w, n, 2);
	assert_true(n <= sizeof(w->b) - w->len);
	if (n > 0) /* an empty TPM2B may come with no buffer */
		memcpy(w->b + w->len, p, n);
	w->len += n;
}

static void
put_bn(struct buf *w, EVP_PKEY *pkey, const char *param, size_t n)
{
	unsigned char v[256];
	BIGNUM *bn = NULL;

	assert_int_equal(EVP_PKEY_get_bn_param(pkey, param, &bn), 1);
	assert_int_equal(BN_bn2binpad(bn, v, (int)n), (int)n);
	put_2b(w, v, n);
	BN_free(bn);
}

/*
 * k's TPM2B_PUBLIC as an AIK's (Part 2 12.2.4): sign, restricted,
 * fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, no policy, no
 * symmetric, the given scheme and hash; parsed into k->pub.
 */
void
key_public(struct key *k, uint16_t scheme, uint16_t hash)
{
	int rsa = EVP_PKEY_is_a(k->pkey, "RSA");
	char why[256] = "";

	k->area.len = 0;
	put(&k->area, 0, 2); /* the size, below */
	put(&k->area, rsa ? TPM_ALG_RSA : TPM_ALG_ECC, 2);
	put(&k->area, TPM_ALG_SHA256, 2);
	put(&k->area, TPMA_SIGN | TPMA_RESTRICTED | TPMA_FIXEDTPM |
	    TPMA_FIXEDPARENT | TPMA_SENSITIVEDATAORIGIN | TPMA_USERWITHAUTH, 4);
	put_2b(&k->area, NULL, 0);
	put(&k->area, TPM_ALG_NULL, 2);
	put(&k->area, scheme, 2);
	if (scheme != TPM_ALG_NULL)
		put(&k->area, hash, 2);
	if (rsa) {
		put(&k->area, 2048, 2);
		put(&k->area, 0, 4);
		put_bn(&k->area, k->pkey, OSSL_PKEY_PARAM_RSA_N, 256);
	} else {
		put(&k->area, TPM_ECC_NIST_P256, 2);
		put(&k->area, TPM_ALG_NULL, 2);
		put_bn(&k->area, k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		put_bn(&k->area, k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	}
	wg_put_be(k->area.b, k->area.len - 2, 2);
	if (tpm_public_parse(k->area.b, k->area.len, &k->pub, why,
	    sizeof(why)) != WG_OK)
		fail_msg("the test key was refused: %s", why);
}

int
group_setup(void **state)
{
	rsa_key.pkey = EVP_RSA_gen(2048);
	rsa_other.pkey = EVP_RSA_gen(2048);
	ecc_key.pkey = EVP_EC_gen("P-256");
	ecc_other.pkey = EVP_EC_gen("P-256");
	if (!rsa_key.pkey || !rsa_other.pkey || !ecc_key.pkey ||
	    !ecc_other.pkey)
		return -1;
	key_public(&rsa_key, TPM_ALG_RSASSA, TPM_ALG_SHA256);
	key_public(&rsa_other, TPM_ALG_RSASSA, TPM_ALG_SHA256);
	key_public(&ecc_key, TPM_ALG_ECDSA, TPM_ALG_SHA256);
	key_public(&ecc_other, TPM_ALG_ECDSA, TPM_ALG_SHA256);
	return 0;
}

int
group_teardown(void **state)
{
	EVP_PKEY_free(rsa_key.pkey);
	EVP_PKEY_free(rsa_other.pkey);
	EVP_PKEY_free(ecc_key.pkey);
	EVP_PKEY_free(ecc_other.pkey);
	return 0;
}

/* n bytes v, v + 1, ... (names start with the SHA-256 algorithm). */
static void
put_pattern(struct buf *w, int name, unsigned v, size_t n)
{
	unsigned char p[64];
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v + i);
	if (name)
		wg_put_be(p, TPM_ALG_SHA256, 2);
	put_2b(w, p, n);
}

/* magic, type, qualifiedSigner, extraData, clockInfo, firmwareVersion. */
static void
head_make(struct buf *w, uint16_t type)
{
	w->len = 0;
	put(w, TPM_GENERATED_VALUE, 4);
	put(w, type, 2);
	put_pattern(w, 1, 0x10, 34);
	put_pattern(w, 0, 0xa0, 32);
	put(w, 0x0102030405060708ull, 8);
	put(w, 9, 4);
	put(w, 10, 4);
	put(w, 1, 1);
	put(w, 0x1122334455667788ull, 8);
}

void
quote_make(struct buf *w)
{
	head_make(w, TPM_ST_ATTEST_QUOTE);
	put(w, 2, 4);
	put(w, TPM_ALG_SHA256, 2);
	put(w, 3, 1);
	put(w, 0x810001, 3); /* PCRs 0, 7 and 16 */
	put(w, TPM_ALG_SHA1, 2);
	put(w, 1, 1);
	put(w, 0x02, 1); /* PCR 1 */
	put_pattern(w, 0, 0xd0, 32);
	assert_int_equal(w->len, QUOTE_LEN);
}

void
certify_make(struct buf *w)
{
	head_make(w, TPM_ST_ATTEST_CERTIFY);
	put_pattern(w, 1, 0x40, 34);
	put_pattern(w, 1, 0x70, 34);
	assert_int_equal(w->len, CERTIFY_LEN);
}

/* r or s, minimal (leading zeros dropped) or padded to 32 bytes. */
static void
put_ecc(struct buf *w, const BIGNUM *v, int pad)
{
	unsigned char b[32];
	int n = pad ? BN_bn2binpad(v, b, 32) : BN_bn2bin(v, b);

	assert_true(n > 0 && n <= 32);
	put_2b(w, b, (size_t)n);
}

/* k's TPMT_SIGNATURE over p into sig: RSASSA or ECDSA with SHA-256,
 * r and s padded to 32 bytes or not. */
void
sign(const struct key *k, const struct buf *p, int pad, struct buf *sig)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[512];
	const unsigned char *q = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *es;
	size_t n = sizeof(der);
	int rsa = EVP_PKEY_is_a(k->pkey, "RSA");

	assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL,
	    NULL, k->pkey, NULL), 1);
	assert_int_equal(EVP_DigestSign(md, der, &n, p->b, p->len), 1);
	EVP_MD_CTX_free(md);
	sig->len = 0;
	put(sig, rsa ? TPM_ALG_RSASSA : TPM_ALG_ECDSA, 2);
	put(sig, TPM_ALG_SHA256, 2);
	if (rsa) {
		put_2b(sig, der, n);
		return;
	}
	assert_non_null(es = d2i_ECDSA_SIG(NULL, &q, (long)n));
	ECDSA_SIG_get0(es, &r, &s);
	put_ecc(sig, r, pad);
	put_ecc(sig, s, pad);
	ECDSA_SIG_free(es);
}

/* w with del bytes at off replaced by the inslen bytes of ins. */
struct buf
splice(const struct buf *w, size_t off, size_t del, const void *ins,
    size_t inslen)
{
	struct buf out = { .len = 0 };

	assert_true(off + del <= w->len);
	memcpy(out.b, w->b, off);
	if (inslen > 0)
		memcpy(out.b + off, ins, inslen);
	memcpy(out.b + off + inslen, w->b + off + del, w->len - off - del);
	out.len = w->len - del + inslen;
	return out;
}

