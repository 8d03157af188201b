/*
 * TPM 2.0 attestations (TPM 2.0 Library Part 2, revision 1.59): a strict
 * parser of TPMS_ATTEST for TPM2_Quote and TPM2_Certify, and the check of
 * a TPMT_SIGNATURE over one with OpenSSL 3.  Every other module gets
 * attestations through here and never walks their bytes itself; OpenSSL
 * failures are logged here, once, and passed up as WG_E_CRYPTO.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/log.h"
#include "common/util.h"
#include "crypto/tpmattest.h"

#define P256_BYTES 32
#define FIELD_MAX 96 /* the longest field path a message names */

/* A cursor over the bytes; offsets in messages count from p[0]. */
struct cur {
	const unsigned char *p;
	size_t len, off;
	char *why;
	size_t whylen;
};

/* The signature of a TPMT_SIGNATURE this verifier accepts. */
struct sig {
	uint16_t alg, hash;
	unsigned char rsa[sizeof(((struct tpm_public *)0)->rsa_modulus)];
	size_t rsa_len;
	unsigned char r[P256_BYTES], s[P256_BYTES];
	size_t r_len, s_len;
};

/* n bytes at the cursor into *at, or a refusal naming field. */
static enum wg_err
take(struct cur *c, const char *field, size_t n, const unsigned char **at)
{
	if (c->len < c->off || n > c->len - c->off)
		return WG_FAIL(c, WG_E_JSON_FIELD, "%s: truncated at offset "
		    "%zu (%zu bytes needed, %zu left)", field, c->off, n,
		    c->len < c->off ? 0 : c->len - c->off);
	*at = c->p + c->off;
	c->off += n;
	return WG_OK;
}

/* An n-byte big-endian integer (n <= 8), as all the TPM's are. */
static enum wg_err
get_int(struct cur *c, const char *field, size_t n, uint64_t *v)
{
	const unsigned char *at = NULL;
	enum wg_err rc;

	if ((rc = take(c, field, n, &at)) == WG_OK)
		*v = wg_get_be(at, n);
	return rc;
}

static enum wg_err
get_u16(struct cur *c, const char *field, uint16_t *v)
{
	uint64_t u = 0;
	enum wg_err rc = get_int(c, field, 2, &u);

	*v = (uint16_t)u;
	return rc;
}

/* A TPM2B of at most cap bytes (Part 2 10.4.1), copied into out. */
static enum wg_err
get_2b(struct cur *c, const char *field, size_t cap, unsigned char *out,
    size_t *outlen)
{
	const unsigned char *at = NULL;
	size_t where = c->off;
	uint16_t size;
	enum wg_err rc;

	if ((rc = get_u16(c, field, &size)) != WG_OK)
		return rc;
	if (size > cap)
		return WG_FAIL(c, WG_E_JSON_FIELD, "%s: size %u at offset %zu "
		    "is over the cap of %zu bytes", field, size, where, cap);
	if ((rc = take(c, field, size, &at)) != WG_OK)
		return rc;
	if (size > 0) /* at may be the end of an empty buffer */
		memcpy(out, at, size);
	*outlen = size;
	return WG_OK;
}

/* The digest size of a hash this parser knows, or 0. */
static size_t
digest_len(uint64_t alg)
{
	switch (alg) {
	case TPM_ALG_SHA1:
		return 20;
	case TPM_ALG_SHA256:
		return 32;
	case TPM_ALG_SHA384:
		return 48;
	case TPM_ALG_SHA512:
		return 64;
	default:
		return 0;
	}
}

/* A TPM2B_NAME (Part 2 10.5.3): empty, a handle, or hashAlg || digest. */
static enum wg_err
get_name(struct cur *c, const char *field, unsigned char *out,
    size_t *outlen)
{
	size_t where = c->off + 2;
	enum wg_err rc;

	if ((rc = get_2b(c, field, TPM_ATTEST_NAME_MAX, out, outlen)) != WG_OK)
		return rc;
	if (*outlen == 0 || *outlen == 4 ||
	    (*outlen > 2 && digest_len(wg_get_be(out, 2)) == *outlen - 2))
		return WG_OK;
	return WG_FAIL(c, WG_E_JSON_FIELD, "%s: the %zu bytes at offset %zu "
	    "are not a name (empty, a 4-byte handle, or a SHA-1/256/384/512 "
	    "algorithm and a digest of its size; Part 2 10.5.2)", field,
	    *outlen, where);
}

/* The TPM_ST name (Part 2 6.9) of the attestations refused by name. */
static const char *
st_name(uint16_t type)
{
	switch (type) {
	case 0x8014:
		return "TPM_ST_ATTEST_NV";
	case 0x8015:
		return "TPM_ST_ATTEST_COMMAND_AUDIT";
	case 0x8016:
		return "TPM_ST_ATTEST_SESSION_AUDIT";
	case 0x8019:
		return "TPM_ST_ATTEST_TIME";
	case 0x801A:
		return "TPM_ST_ATTEST_CREATION";
	case 0x801C:
		return "TPM_ST_ATTEST_NV_DIGEST";
	default:
		return NULL;
	}
}

/* magic, type, qualifiedSigner, extraData. */
static enum wg_err
parse_head(struct cur *c, struct tpm_attest *out)
{
	size_t at = c->off;
	uint64_t magic = 0;
	const char *st;
	enum wg_err rc;

	if ((rc = get_int(c, "TPMS_ATTEST.magic", 4, &magic)) != WG_OK)
		return rc;
	if (magic != TPM_GENERATED_VALUE)
		return WG_FAIL(c, WG_E_JSON_FIELD, "TPMS_ATTEST.magic: "
		    "0x%08llx at offset %zu is not TPM_GENERATED_VALUE "
		    "0xff544347: the TPM did not make these bytes (Part 2 "
		    "10.12.12)", (unsigned long long)magic, at);
	if ((rc = get_u16(c, "TPMS_ATTEST.type", &out->type)) != WG_OK)
		return rc;
	if (out->type != TPM_ST_ATTEST_QUOTE &&
	    out->type != TPM_ST_ATTEST_CERTIFY) {
		st = st_name(out->type);
		return WG_FAIL(c, WG_E_JSON_FIELD, "TPMS_ATTEST.type: %s%s"
		    "0x%04x%s at offset %zu is %s; only quote (0x8018) and "
		    "certify (0x8017) are accepted", st ? st : "", st ? " (" :
		    "", out->type, st ? ")" : "", at + 4, st ? "refused" :
		    "not an attestation type (Part 2 6.9)");
	}
	if ((rc = get_name(c, "TPMS_ATTEST.qualifiedSigner", out->signer,
	    &out->signer_len)) != WG_OK)
		return rc;
	return get_2b(c, "TPMS_ATTEST.extraData", TPM_ATTEST_DATA_MAX,
	    out->extra, &out->extra_len);
}

/* clockInfo (TPMS_CLOCK_INFO, Part 2 10.11.1) and firmwareVersion. */
static enum wg_err
parse_clock(struct cur *c, struct tpm_attest *out)
{
	uint64_t reset = 0, restart = 0, safe = 0;
	enum wg_err rc;

	if ((rc = get_int(c, "TPMS_ATTEST.clockInfo.clock", 8,
	    &out->clock)) != WG_OK ||
	    (rc = get_int(c, "TPMS_ATTEST.clockInfo.resetCount", 4,
	    &reset)) != WG_OK ||
	    (rc = get_int(c, "TPMS_ATTEST.clockInfo.restartCount", 4,
	    &restart)) != WG_OK ||
	    (rc = get_int(c, "TPMS_ATTEST.clockInfo.safe", 1, &safe)) != WG_OK)
		return rc;
	out->reset_count = (uint32_t)reset;
	out->restart_count = (uint32_t)restart;
	if (safe > 1)
		return WG_FAIL(c, WG_E_JSON_FIELD, "TPMS_ATTEST.clockInfo."
		    "safe: %llu at offset %zu is not NO (0) or YES (1) "
		    "(TPMI_YES_NO, Part 2 9.2)", (unsigned long long)safe,
		    c->off - 1);
	out->safe = (int)safe;
	return get_int(c, "TPMS_ATTEST.firmwareVersion", 8, &out->firmware);
}

/* One TPMS_PCR_SELECTION (Part 2 10.6.2) into out->banks[i]. */
static enum wg_err
parse_bank(struct cur *c, struct tpm_attest *out, size_t i)
{
	struct tpm_pcr_bank *b = &out->banks[i];
	const unsigned char *sel = NULL;
	char field[FIELD_MAX];
	uint64_t size = 0;
	size_t at = c->off, j;
	enum wg_err rc;

	snprintf(field, sizeof(field), "TPMS_ATTEST.attested.quote."
	    "pcrSelect.pcrSelections[%zu]", i);
	if ((rc = get_u16(c, field, &b->hash)) != WG_OK)
		return rc;
	if (digest_len(b->hash) == 0)
		return WG_FAIL(c, WG_E_JSON_FIELD, "%s.hash: 0x%04x at offset "
		    "%zu is not SHA-1, SHA-256, SHA-384 or SHA-512", field,
		    b->hash, at);
	for (j = 0; j < i; j++)
		if (out->banks[j].hash == b->hash)
			return WG_FAIL(c, WG_E_JSON_FIELD, "%s.hash: 0x%04x at "
			    "offset %zu repeats pcrSelections[%zu]'s bank",
			    field, b->hash, at, j);
	if ((rc = get_int(c, field, 1, &size)) != WG_OK)
		return rc;
	if (size < 1 || size > TPM_ATTEST_SELECT_MAX)
		return WG_FAIL(c, WG_E_JSON_FIELD, "%s.sizeofSelect: %llu at "
		    "offset %zu is not 1 to %d (PCRs 0 to 31)", field,
		    (unsigned long long)size, at + 2, TPM_ATTEST_SELECT_MAX);
	if ((rc = take(c, field, (size_t)size, &sel)) != WG_OK)
		return rc;
	b->select_len = (uint8_t)size;
	for (j = 0; j < size; j++)
		b->pcrs |= (uint32_t)sel[j] << (8 * j);
	return WG_OK;
}

/* TPMS_QUOTE_INFO (Part 2 10.12.4): TPML_PCR_SELECTION, pcrDigest. */
static enum wg_err
parse_quote(struct cur *c, struct tpm_attest *out)
{
	size_t at = c->off, i;
	uint64_t count = 0;
	enum wg_err rc;

	if ((rc = get_int(c, "TPMS_ATTEST.attested.quote.pcrSelect.count", 4,
	    &count)) != WG_OK)
		return rc;
	if (count > TPM_ATTEST_BANKS_MAX)
		return WG_FAIL(c, WG_E_JSON_FIELD, "TPMS_ATTEST.attested.quote."
		    "pcrSelect.count: %llu banks at offset %zu, over the cap "
		    "of %d", (unsigned long long)count, at,
		    TPM_ATTEST_BANKS_MAX);
	for (i = 0; i < count; i++)
		if ((rc = parse_bank(c, out, i)) != WG_OK)
			return rc;
	out->bank_count = (size_t)count;
	return get_2b(c, "TPMS_ATTEST.attested.quote.pcrDigest",
	    TPM_ATTEST_DIGEST_MAX, out->pcr_digest, &out->pcr_digest_len);
}

/* TPMS_CERTIFY_INFO (Part 2 10.12.3): name, qualifiedName. */
static enum wg_err
parse_certify(struct cur *c, struct tpm_attest *out)
{
	enum wg_err rc;

	if ((rc = get_name(c, "TPMS_ATTEST.attested.certify.name", out->name,
	    &out->name_len)) != WG_OK)
		return rc;
	return get_name(c, "TPMS_ATTEST.attested.certify.qualifiedName",
	    out->qualified_name, &out->qualified_name_len);
}

/* The TPM2B_ATTEST size field (Part 2 10.12.13): len - 2 must follow. */
static enum wg_err
parse_size(struct cur *c)
{
	uint64_t size = 0;

	if (c->len < 2)
		return WG_FAIL(c, WG_E_JSON_FIELD, "TPM2B_ATTEST.size: %zu "
		    "bytes, shorter than the 2-byte size field", c->len);
	if (get_int(c, "TPM2B_ATTEST.size", 2, &size) != WG_OK ||
	    size != c->len - 2)
		return WG_FAIL(c, WG_E_JSON_FIELD, "TPM2B_ATTEST.size: %llu, "
		    "but %zu bytes follow (%s; Part 2 10.12.13)",
		    (unsigned long long)size, c->len - 2, size > c->len - 2 ?
		    "truncated" : "trailing bytes are refused");
	return WG_OK;
}

/* Both parsers: with a TPM2B size first if sized. */
static enum wg_err
attest_parse(const unsigned char *buf, size_t len, int sized,
    struct tpm_attest *out, char *why, size_t whylen)
{
	struct cur c = { .p = buf, .len = len, .why = why, .whylen = whylen };
	enum wg_err rc = WG_OK;

	memset(out, 0, sizeof(*out));
	wg_say(why, whylen, "%s", "");
	if (sized)
		rc = parse_size(&c);
	if (rc == WG_OK)
		rc = parse_head(&c, out);
	if (rc == WG_OK)
		rc = parse_clock(&c, out);
	if (rc == WG_OK)
		rc = out->type == TPM_ST_ATTEST_QUOTE ? parse_quote(&c, out) :
		    parse_certify(&c, out);
	if (rc == WG_OK && c.off != len)
		rc = WG_FAIL(&c, WG_E_JSON_FIELD, "TPMS_ATTEST: %zu bytes "
		    "follow the attestation at offset %zu (trailing bytes are "
		    "refused)", len - c.off, c.off);
	if (rc != WG_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

enum wg_err
tpm_attest_parse(const unsigned char *buf, size_t len,
    struct tpm_attest *out, char *why, size_t whylen)
{
	return attest_parse(buf, len, 0, out, why, whylen);
}

enum wg_err
tpm_attest_parse_2b(const unsigned char *buf, size_t len,
    struct tpm_attest *out, char *why, size_t whylen)
{
	return attest_parse(buf, len, 1, out, why, whylen);
}

/* "rsassa (0x0014)" for a known algorithm, "0x0005" otherwise. */
static const char *
alg_str(uint16_t alg, char buf[24])
{
	char name[8];
	const char *s = tpm_alg_name(alg, name);

	if (s == name)
		snprintf(buf, 24, "0x%04x", alg);
	else
		snprintf(buf, 24, "%s (0x%04x)", s, alg);
	return buf;
}

/*
 * sigAlg against the key: RSASSA for RSA, ECDSA for P-256, and the key's
 * own scheme if it has one (a key with a scheme signs only with it, Part 1
 * "Signature Operations").
 */
static enum wg_err
sig_alg_check(struct cur *c, const struct tpm_public *key, uint16_t alg)
{
	uint16_t want = key->type == TPM_ALG_RSA ? TPM_ALG_RSASSA :
	    TPM_ALG_ECDSA;
	char b1[24], b2[8];

	if (key->scheme != TPM_ALG_NULL && alg != key->scheme)
		return WG_FAIL(c, WG_E_JSON_FIELD, "TPMT_SIGNATURE.sigAlg: %s "
		    "at offset 0 is not the key's own scheme %s",
		    alg_str(alg, b1), tpm_alg_name(key->scheme, b2));
	if (alg != want)
		return WG_FAIL(c, WG_E_JSON_FIELD, "TPMT_SIGNATURE.sigAlg: %s "
		    "at offset 0 is not %s, the scheme accepted for %s keys",
		    alg_str(alg, b1), tpm_alg_name(want, b2),
		    key->type == TPM_ALG_RSA ? "RSA" : "ECC");
	return WG_OK;
}

/* The signature's hash: SHA-256, and the key's scheme's if it has one. */
static enum wg_err
sig_hash_check(struct cur *c, const struct tpm_public *key, uint16_t hash)
{
	char b1[24], b2[8];

	if (key->scheme_hash != TPM_ALG_NULL && hash != key->scheme_hash)
		return WG_FAIL(c, WG_E_JSON_FIELD, "TPMT_SIGNATURE.signature."
		    "hash: %s at offset 2 is not the hash of the key's scheme, "
		    "%s", alg_str(hash, b1), tpm_alg_name(key->scheme_hash, b2));
	if (hash != TPM_ALG_SHA256)
		return WG_FAIL(c, WG_E_JSON_FIELD, "TPMT_SIGNATURE.signature."
		    "hash: %s at offset 2 is not SHA-256, the only hash "
		    "accepted", alg_str(hash, b1));
	return WG_OK;
}

/* An ECDSA r or s (TPM2B_ECC_PARAMETER, Part 2 11.2.5.1) of P-256. */
static enum wg_err
get_ecc_param(struct cur *c, const char *field, unsigned char *out,
    size_t *outlen)
{
	enum wg_err rc = get_2b(c, field, P256_BYTES, out, outlen);

	if (rc == WG_OK && *outlen == 0)
		return WG_FAIL(c, WG_E_JSON_FIELD, "%s: empty at offset %zu "
		    "(a P-256 value has 1 to 32 bytes)", field, c->off - 2);
	return rc;
}

/* TPMT_SIGNATURE (Part 2 11.3.4) into s, checked against the key. */
static enum wg_err
sig_parse(struct cur *c, const struct tpm_public *key, struct sig *s)
{
	enum wg_err rc;

	if ((rc = get_u16(c, "TPMT_SIGNATURE.sigAlg", &s->alg)) != WG_OK ||
	    (rc = sig_alg_check(c, key, s->alg)) != WG_OK ||
	    (rc = get_u16(c, "TPMT_SIGNATURE.signature.hash",
	    &s->hash)) != WG_OK ||
	    (rc = sig_hash_check(c, key, s->hash)) != WG_OK)
		return rc;
	if (s->alg == TPM_ALG_RSASSA) {
		if ((rc = get_2b(c, "TPMT_SIGNATURE.signature.rsassa.sig",
		    key->rsa_modulus_len, s->rsa, &s->rsa_len)) != WG_OK)
			return rc;
		if (s->rsa_len != key->rsa_modulus_len)
			return WG_FAIL(c, WG_E_JSON_FIELD, "TPMT_SIGNATURE."
			    "signature.rsassa.sig: %zu bytes at offset 4, not "
			    "the key's modulus size %zu", s->rsa_len,
			    key->rsa_modulus_len);
	} else if ((rc = get_ecc_param(c, "TPMT_SIGNATURE.signature.ecdsa."
	    "signatureR", s->r, &s->r_len)) != WG_OK ||
	    (rc = get_ecc_param(c, "TPMT_SIGNATURE.signature.ecdsa."
	    "signatureS", s->s, &s->s_len)) != WG_OK) {
		return rc;
	}
	if (c->off != c->len)
		return WG_FAIL(c, WG_E_JSON_FIELD, "TPMT_SIGNATURE: %zu bytes "
		    "follow the signature at offset %zu (trailing bytes are "
		    "refused)", c->len - c->off, c->off);
	return WG_OK;
}

/* r and s as the DER ECDSA-Sig-Value OpenSSL verifies (RFC 3279
 * 2.2.3) into *der (OPENSSL_free it); its length, or 0 (logged). */
static size_t
ecdsa_der(const struct sig *s, unsigned char **der)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(s->r, (int)s->r_len, NULL);
	BIGNUM *v = BN_bin2bn(s->s, (int)s->s_len, NULL);
	int n = 0;

	*der = NULL;
	if (es != NULL && r != NULL && v != NULL &&
	    ECDSA_SIG_set0(es, r, v) == 1) {
		r = v = NULL; /* es owns them now */
		n = i2d_ECDSA_SIG(es, der);
	}
	if (n <= 0) {
		wg_log_openssl("ECDSA signature to DER");
		n = 0;
	}
	BN_free(r);
	BN_free(v);
	ECDSA_SIG_free(es);
	return (size_t)n;
}

/* The OpenSSL check of s over tbs with key. */
static enum wg_err
sig_check(const struct tpm_public *key, const struct sig *s,
    const unsigned char *tbs, size_t tbs_len, char *why, size_t whylen)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char *der = NULL;
	const unsigned char *sb = s->rsa;
	size_t sb_len = s->rsa_len;
	enum wg_err rc = WG_E_CRYPTO;

	wg_say(why, whylen, "TPMT_SIGNATURE: OpenSSL could not check the "
	    "signature (see the log)");
	if ((pkey = tpm_public_to_pkey(key)) == NULL) /* logs */
		goto done;
	if (s->alg == TPM_ALG_ECDSA && (sb_len = ecdsa_der(s, &der)) == 0)
		goto done;
	if (s->alg == TPM_ALG_ECDSA)
		sb = der;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(md, &pctx, "SHA256", NULL, NULL, pkey,
	    NULL) != 1 || (s->alg == TPM_ALG_RSASSA &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)) {
		wg_log_openssl("signature check setup");
		goto done;
	}
	if (EVP_DigestVerify(md, sb, sb_len, tbs, tbs_len) == 1) {
		rc = WG_OK;
		wg_say(why, whylen, "%s", "");
	} else {
		ERR_clear_error(); /* a bad signature is the input's fault */
		rc = wg_fail(WG_E_JSON_FIELD, why, whylen, "TPMT_SIGNATURE: "
		    "the %s signature does not verify over the %zu attested "
		    "bytes with this key (another key signed, or the bytes "
		    "were changed)", s->alg == TPM_ALG_RSASSA ? "RSASSA" :
		    "ECDSA", tbs_len);
	}
done:
	EVP_MD_CTX_free(md); /* frees pctx too */
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	return rc;
}

enum wg_err
tpm_attest_verify(const struct tpm_public *key,
    const unsigned char *attest, size_t attest_len, const unsigned char *sig,
    size_t sig_len, char *why, size_t whylen)
{
	struct cur c = { .p = sig, .len = sig_len, .why = why,
		.whylen = whylen };
	struct sig s;
	enum wg_err rc;

	memset(&s, 0, sizeof(s));
	wg_say(why, whylen, "%s", "");
	if (key->type != TPM_ALG_RSA && key->type != TPM_ALG_ECC) {
		/* the caller's bug, not the input's: said in the log too */
		wg_error("tpm_attest_verify: a key tpm_public_parse did not "
		    "make (type 0x%04x)", key->type);
		return WG_FAIL(&c, WG_E_INTERNAL, "the signing key is not a "
		    "parsed RSA or ECC key");
	}
	if ((rc = sig_parse(&c, key, &s)) == WG_OK)
		rc = sig_check(key, &s, attest, attest_len, why, whylen);
	return rc;
}
