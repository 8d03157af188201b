/*
 * TPM 2.0 public areas as they travel on the wire (TPM 2.0 Library Part 2,
 * revision 1.59): a strict parser of TPM2B_PUBLIC, the key's name, the
 * EK certificate lookup hash and the OpenSSL key.  Every other module
 * gets TPM public keys through here and never walks the bytes itself.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "common/log.h"
#include "common/util.h"
#include "crypto/tpmpub.h"

#define RSA_BITS 2048
#define RSA_BYTES (RSA_BITS / 8)
#define P256_BYTES 32
#define SHA256_LEN 32
#define RSA_F4 65537u

/* A cursor over the TPM2B_PUBLIC; offsets in messages count from its
 * first byte (the size field). */
struct rd {
	const unsigned char *p;
	size_t len, off;
	const char *prefix; /* the structure messages name */
	char *why;
	size_t whylen;
};

static int fail(struct rd *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes "<prefix>.<message>" to why; returns -1. */
static int
fail(struct rd *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->why == NULL || r->whylen == 0)
		return -1;
	n = snprintf(r->why, r->whylen, "%s.", r->prefix);
	if (n < 0 || (size_t)n >= r->whylen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(r->why + n, r->whylen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
need(struct rd *r, const char *field, size_t n)
{
	if (r->len < r->off || n > r->len - r->off)
		return fail(r, "%s: truncated at offset %zu (needs %zu bytes, "
		    "%zu left)", field, r->off, n, r->len - r->off);
	return 0;
}

static int
get_u16(struct rd *r, const char *field, uint16_t *v)
{
	if (need(r, field, 2) != 0)
		return -1;
	*v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return 0;
}

static int
get_u32(struct rd *r, const char *field, uint32_t *v)
{
	if (need(r, field, 4) != 0)
		return -1;
	*v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 |
	    (uint32_t)r->p[r->off + 2] << 8 | r->p[r->off + 3];
	r->off += 4;
	return 0;
}

/* A TPM2B of exactly `want` bytes (or of 0 or `want` if may_be_empty),
 * copied into out. */
static int
get_tpm2b(struct rd *r, const char *field, size_t want, int may_be_empty,
    unsigned char *out, size_t *outlen, const char *rule)
{
	uint16_t size;

	if (get_u16(r, field, &size) != 0)
		return -1;
	if (size != want && !(may_be_empty && size == 0))
		return fail(r, "%s: size %u at offset %zu, must be %s%zu (%s)",
		    field, size, r->off - 2, may_be_empty ? "0 or " : "", want,
		    rule);
	if (need(r, field, size) != 0)
		return -1;
	memcpy(out, r->p + r->off, size);
	*outlen = size;
	r->off += size;
	return 0;
}

static int
hash_ok(uint16_t alg)
{
	return alg == TPM_ALG_SHA1 || alg == TPM_ALG_SHA256 ||
	    alg == TPM_ALG_SHA384 || alg == TPM_ALG_SHA512;
}

/* type, nameAlg, objectAttributes, authPolicy (Part 2 12.2.4). */
static int
parse_head(struct rd *r, struct tpm_public *out)
{
	uint32_t bad;
	int bit;

	if (get_u16(r, "type", &out->type) != 0 ||
	    get_u16(r, "nameAlg", &out->name_alg) != 0 ||
	    get_u32(r, "objectAttributes", &out->attributes) != 0)
		return -1;
	if (out->type != TPM_ALG_RSA && out->type != TPM_ALG_ECC)
		return fail(r, "type: 0x%04x is not RSA (0x0001) or ECC "
		    "(0x0023); only asymmetric keys are accepted", out->type);
	if (out->name_alg != TPM_ALG_SHA256)
		return fail(r, "nameAlg: 0x%04x is not SHA-256 (0x000b); only "
		    "SHA-256 names are accepted", out->name_alg);
	if ((bad = out->attributes & TPMA_RESERVED) != 0) {
		for (bit = 0; !(bad & (1u << bit)); bit++)
			;
		return fail(r, "objectAttributes: reserved bit %d is set "
		    "(Part 2 8.3)", bit);
	}
	return get_tpm2b(r, "authPolicy", SHA256_LEN, 1, out->auth_policy,
	    &out->auth_policy_len, "a SHA-256 policy digest, Part 2 12.2.4");
}

/* TPMT_SYM_DEF_OBJECT (Part 2 11.1.7): NULL, or AES-128-CFB as in the TCG
 * EK templates. */
static int
parse_symmetric(struct rd *r, struct tpm_public *out)
{
	if (get_u16(r, "parameters.symmetric.algorithm", &out->sym_alg) != 0)
		return -1;
	if (out->sym_alg == TPM_ALG_NULL)
		return 0;
	if (out->sym_alg != TPM_ALG_AES)
		return fail(r, "parameters.symmetric.algorithm: 0x%04x is "
		    "not NULL or AES", out->sym_alg);
	if (get_u16(r, "parameters.symmetric.keyBits", &out->sym_bits) != 0 ||
	    get_u16(r, "parameters.symmetric.mode", &out->sym_mode) != 0)
		return -1;
	if (out->sym_bits != 128 || out->sym_mode != TPM_ALG_CFB)
		return fail(r, "parameters.symmetric: AES-%u mode 0x%04x is "
		    "not AES-128-CFB (the TCG EK templates' symmetric)",
		    out->sym_bits, out->sym_mode);
	return 0;
}

static int
scheme_allowed(uint16_t type, uint16_t s)
{
	if (s == TPM_ALG_NULL)
		return 1;
	if (type == TPM_ALG_RSA)
		return s == TPM_ALG_RSASSA || s == TPM_ALG_RSAES ||
		    s == TPM_ALG_RSAPSS || s == TPM_ALG_OAEP;
	return s == TPM_ALG_ECDSA || s == TPM_ALG_ECDH ||
	    s == TPM_ALG_ECDAA || s == TPM_ALG_ECSCHNORR;
}

/* TPMT_RSA_SCHEME / TPMT_ECC_SCHEME (Part 2 11.2.4.2, 11.2.5.6). */
static int
parse_scheme(struct rd *r, struct tpm_public *out)
{
	out->scheme_hash = TPM_ALG_NULL;
	if (get_u16(r, "parameters.scheme", &out->scheme) != 0)
		return -1;
	if (!scheme_allowed(out->type, out->scheme))
		return fail(r, "parameters.scheme: 0x%04x is not a scheme "
		    "accepted for %s keys", out->scheme,
		    out->type == TPM_ALG_RSA ? "RSA" : "ECC");
	if (out->scheme == TPM_ALG_NULL || out->scheme == TPM_ALG_RSAES)
		return 0; /* TPMS_EMPTY: no details */
	if (get_u16(r, "parameters.scheme.hashAlg", &out->scheme_hash) != 0)
		return -1;
	if (!hash_ok(out->scheme_hash))
		return fail(r, "parameters.scheme.hashAlg: 0x%04x is not "
		    "SHA-1, SHA-256, SHA-384 or SHA-512", out->scheme_hash);
	if (out->scheme == TPM_ALG_ECDAA)
		return get_u16(r, "parameters.scheme.count",
		    &out->scheme_count);
	return 0;
}

/* TPMS_RSA_PARMS (Part 2 12.2.3.5) and TPM2B_PUBLIC_KEY_RSA (11.2.4.5). */
static int
parse_rsa(struct rd *r, struct tpm_public *out)
{
	if (parse_symmetric(r, out) != 0 || parse_scheme(r, out) != 0 ||
	    get_u16(r, "parameters.keyBits", &out->rsa_bits) != 0 ||
	    get_u32(r, "parameters.exponent", &out->rsa_exponent) != 0)
		return -1;
	if (out->rsa_bits != RSA_BITS)
		return fail(r, "parameters.keyBits: %u is not 2048; only "
		    "RSA-2048 keys are accepted", out->rsa_bits);
	if (out->rsa_exponent != 0 && out->rsa_exponent != RSA_F4)
		return fail(r, "parameters.exponent: %u is not 0 or 65537 "
		    "(the only exponent accepted)", out->rsa_exponent);
	if (get_tpm2b(r, "unique.rsa", RSA_BYTES, 0, out->rsa_modulus,
	    &out->rsa_modulus_len, "the modulus of a 2048-bit key") != 0)
		return -1;
	if (!(out->rsa_modulus[0] & 0x80) ||
	    !(out->rsa_modulus[RSA_BYTES - 1] & 1))
		return fail(r, "unique.rsa: not a 2048-bit modulus (its top "
		    "bit must be set and it must be odd)");
	return 0;
}

/* P-256, built once: building a group costs more than checking a point. */
static EC_GROUP *p256_group;
static pthread_once_t p256_once = PTHREAD_ONCE_INIT;

static void
p256_build(void)
{
	p256_group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
}

/* 1 if (x, y) is a point of P-256 with both coordinates below p. */
static int
p256_on_curve(const unsigned char *x, const unsigned char *y)
{
	const EC_GROUP *g;
	EC_POINT *pt = NULL;
	BIGNUM *bx = BN_bin2bn(x, P256_BYTES, NULL);
	BIGNUM *by = BN_bin2bn(y, P256_BYTES, NULL);
	const BIGNUM *prime;
	int ok = 0;

	pthread_once(&p256_once, p256_build);
	g = p256_group;
	if (g == NULL || bx == NULL || by == NULL ||
	    (pt = EC_POINT_new(g)) == NULL ||
	    (prime = EC_GROUP_get0_field(g)) == NULL)
		goto done;
	ok = BN_cmp(bx, prime) < 0 && BN_cmp(by, prime) < 0 &&
	    EC_POINT_set_affine_coordinates(g, pt, bx, by, NULL) == 1 &&
	    EC_POINT_is_on_curve(g, pt, NULL) == 1;
done:
	ERR_clear_error(); /* a point off the curve is the input's fault */
	EC_POINT_free(pt);
	BN_free(bx);
	BN_free(by);
	return ok;
}

/* TPMS_ECC_PARMS (Part 2 12.2.3.6) and TPMS_ECC_POINT (11.2.5.2). */
static int
parse_ecc(struct rd *r, struct tpm_public *out)
{
	uint16_t kdf;

	if (parse_symmetric(r, out) != 0 || parse_scheme(r, out) != 0 ||
	    get_u16(r, "parameters.curveID", &out->ecc_curve) != 0 ||
	    get_u16(r, "parameters.kdf.scheme", &kdf) != 0)
		return -1;
	if (out->ecc_curve != TPM_ECC_NIST_P256)
		return fail(r, "parameters.curveID: 0x%04x is not NIST P-256 "
		    "(0x0003); only P-256 keys are accepted", out->ecc_curve);
	if (kdf != TPM_ALG_NULL)
		return fail(r, "parameters.kdf.scheme: 0x%04x is not NULL "
		    "(0x0010)", kdf);
	if (get_tpm2b(r, "unique.ecc.x", P256_BYTES, 0, out->ecc_x,
	    &out->ecc_x_len, "a P-256 coordinate") != 0 ||
	    get_tpm2b(r, "unique.ecc.y", P256_BYTES, 0, out->ecc_y,
	    &out->ecc_y_len, "a P-256 coordinate") != 0)
		return -1;
	if (!p256_on_curve(out->ecc_x, out->ecc_y))
		return fail(r, "unique.ecc: the point is not on the P-256 "
		    "curve");
	return 0;
}

enum wg_err
tpm_public_parse(const unsigned char *buf, size_t len,
    struct tpm_public *out, char *why, size_t whylen)
{
	struct rd r = { .p = buf, .len = len, .off = 2, .prefix =
		"TPM2B_PUBLIC", .why = why, .whylen = whylen };
	size_t size;
	int rc;

	memset(out, 0, sizeof(*out));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (len < 2) {
		fail(&r, "size: %zu bytes, shorter than the 2-byte size field",
		    len);
		return WG_E_JSON_FIELD;
	}
	size = (size_t)buf[0] << 8 | buf[1];
	if (size != len - 2) {
		fail(&r, "size: %zu, but %zu bytes follow (%s; Part 2 12.2.5)",
		    size, len - 2, size > len - 2 ? "truncated" :
		    "trailing bytes are refused");
		return WG_E_JSON_FIELD;
	}
	r.prefix = "TPMT_PUBLIC";
	rc = parse_head(&r, out);
	if (rc == 0)
		rc = out->type == TPM_ALG_RSA ? parse_rsa(&r, out) :
		    parse_ecc(&r, out);
	if (rc == 0 && r.off != len)
		rc = fail(&r, "unique: %zu bytes follow the key at offset %zu "
		    "(trailing bytes are refused)", len - r.off, r.off);
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		return WG_E_JSON_FIELD;
	}
	out->area = buf + 2;
	out->area_len = len - 2;
	return WG_OK;
}

void
tpm_public_sha256(const struct tpm_public *p, unsigned char out[32])
{
	wg_sha256(p->area, p->area_len, out);
}

void
tpm_public_name(const struct tpm_public *p, unsigned char name[34])
{
	name[0] = TPM_ALG_SHA256 >> 8;
	name[1] = TPM_ALG_SHA256 & 0xff;
	tpm_public_sha256(p, name + 2);
}

/*
 * Intel's EK certificate service names a certificate by SHA-256 over the
 * key, as tpm2-tools 5.x tpm2_getekcertificate (hash_ek_public, Intel
 * encoding) computes it: RSA, the modulus (unique.rsa as received) then
 * the exponent as the three bytes 01 00 01 (the tool refuses any exponent
 * but the default); ECC, unique.ecc.x then unique.ecc.y.  The tool then
 * base64-encodes the digest, maps '+' '/' to '-' '_' and URL-escapes the
 * one '=' pad: GET <server>/<43 characters>%3D.  Checked against
 * `tpm2_getekcertificate -x -u ek.pub http://127.0.0.1:PORT/` (5.4) with
 * swtpm EKs; the values are in tests/unit/test_tpmpub.c.
 */
void
tpm_public_ek_lookup_hash(const struct tpm_public *p, unsigned char out[32])
{
	unsigned char buf[sizeof(p->rsa_modulus) + 3];
	size_t n = 0;

	if (p->type == TPM_ALG_RSA && p->rsa_modulus_len <=
	    sizeof(p->rsa_modulus)) {
		memcpy(buf, p->rsa_modulus, p->rsa_modulus_len);
		n = p->rsa_modulus_len;
		buf[n++] = 0x01;
		buf[n++] = 0x00;
		buf[n++] = 0x01;
	} else if (p->type == TPM_ALG_ECC && p->ecc_x_len <=
	    sizeof(p->ecc_x) && p->ecc_y_len <= sizeof(p->ecc_y)) {
		memcpy(buf, p->ecc_x, p->ecc_x_len);
		memcpy(buf + p->ecc_x_len, p->ecc_y, p->ecc_y_len);
		n = p->ecc_x_len + p->ecc_y_len;
	}
	wg_sha256(buf, n, out);
}

void
tpm_public_ek_lookup_id(const struct tpm_public *p, char out[44])
{
	unsigned char digest[32];
	char *b64;

	tpm_public_ek_lookup_hash(p, digest);
	b64 = wg_b64url(digest, sizeof(digest));
	snprintf(out, 44, "%s", b64);
	free(b64);
}

/* The OSSL_PARAMs of p's public key into bld; 0 if p is not a key the
 * parser accepts, or OpenSSL failed.  bld keeps pointers to *n, *e and
 * pt until OSSL_PARAM_BLD_to_param: they must outlive this call. */
static int
key_params(const struct tpm_public *p, OSSL_PARAM_BLD *bld, BIGNUM **n,
    BIGNUM **e, unsigned char pt[1 + 2 * P256_BYTES])
{
	if (p->type == TPM_ALG_RSA && p->rsa_modulus_len == RSA_BYTES) {
		*n = BN_bin2bn(p->rsa_modulus, RSA_BYTES, NULL);
		*e = BN_new();
		return *n != NULL && *e != NULL &&
		    BN_set_word(*e, p->rsa_exponent ? p->rsa_exponent :
		    RSA_F4) == 1 &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, *n) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, *e);
	}
	if (p->type != TPM_ALG_ECC || p->ecc_curve != TPM_ECC_NIST_P256 ||
	    p->ecc_x_len != P256_BYTES || p->ecc_y_len != P256_BYTES)
		return 0;
	pt[0] = 0x04; /* uncompressed, SEC 1 2.3.3 */
	memcpy(pt + 1, p->ecc_x, P256_BYTES);
	memcpy(pt + 1 + P256_BYTES, p->ecc_y, P256_BYTES);
	return OSSL_PARAM_BLD_push_utf8_string(bld,
	    OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    1 + 2 * P256_BYTES);
}

int
tpm_public_ek_check(const struct tpm_public *ek, char *why, size_t whylen)
{
	const uint32_t want = TPMA_RESTRICTED | TPMA_DECRYPT;
	char attrs[192], b1[8], b2[8];

	/* the parser let through only RSA-2048, P-256 and SHA-256 names */
	if ((ek->attributes & (want | TPMA_SIGN)) != want) {
		tpm_public_attributes_str(ek->attributes, attrs, sizeof(attrs));
		wg_say(why, whylen, "objectAttributes %s: not an endorsement "
		    "key (restricted and decrypt, not sign; TCG EK Credential "
		    "Profile 2.2.1, Part 3 12.6)", attrs[0] ? attrs : "none");
		return -1;
	}
	if (ek->sym_alg != TPM_ALG_AES || ek->sym_bits != 128 ||
	    ek->sym_mode != TPM_ALG_CFB) {
		wg_say(why, whylen, "parameters.symmetric %s-%u-%s is not "
		    "AES-128-CFB (TCG EK templates L-1, L-2)",
		    tpm_alg_name(ek->sym_alg, b1), ek->sym_bits,
		    tpm_alg_name(ek->sym_mode, b2));
		return -1;
	}
	return 0;
}

size_t
tpm_public_key_bits(const struct tpm_public *p, unsigned char *out)
{
	static const unsigned char rsa_head[] = {0x30, 0x82, 0x01, 0x0a, 0x02,
	    0x82, 0x01, 0x01, 0x00};
	static const unsigned char rsa_e[] = {0x02, 0x03, 0x01, 0x00, 0x01};

	if (p->type == TPM_ALG_RSA) {
		/* SEQUENCE { INTEGER 0x00 || n (top bit set), INTEGER e } */
		memcpy(out, rsa_head, sizeof(rsa_head));
		memcpy(out + sizeof(rsa_head), p->rsa_modulus, 256);
		memcpy(out + sizeof(rsa_head) + 256, rsa_e, sizeof(rsa_e));
		return TPM_PUBLIC_KEY_BITS_RSA;
	}
	out[0] = 0x04;
	memcpy(out + 1, p->ecc_x, 32);
	memcpy(out + 33, p->ecc_y, 32);
	return 65;
}

EVP_PKEY *
tpm_public_to_pkey(const struct tpm_public *p)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char pt[1 + 2 * P256_BYTES];

	if (bld == NULL || !key_params(p, bld, &n, &e, pt) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, p->type == TPM_ALG_RSA ?
	    "RSA" : "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		wg_log_openssl("TPM public key to OpenSSL key");
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

const char *
tpm_alg_name(uint16_t alg, char buf[8])
{
	static const struct {
		uint16_t alg;
		const char *name;
	} names[] = {
		{ TPM_ALG_RSA, "rsa" }, { TPM_ALG_SHA1, "sha1" },
		{ TPM_ALG_AES, "aes" }, { TPM_ALG_SHA256, "sha256" },
		{ TPM_ALG_SHA384, "sha384" }, { TPM_ALG_SHA512, "sha512" },
		{ TPM_ALG_NULL, "null" }, { TPM_ALG_RSASSA, "rsassa" },
		{ TPM_ALG_RSAES, "rsaes" }, { TPM_ALG_RSAPSS, "rsapss" },
		{ TPM_ALG_OAEP, "oaep" }, { TPM_ALG_ECDSA, "ecdsa" },
		{ TPM_ALG_ECDH, "ecdh" }, { TPM_ALG_ECDAA, "ecdaa" },
		{ TPM_ALG_ECSCHNORR, "ecschnorr" }, { TPM_ALG_ECC, "ecc" },
		{ TPM_ALG_CFB, "cfb" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].alg == alg)
			return names[i].name;
	snprintf(buf, 8, "0x%04x", alg);
	return buf;
}

void
tpm_public_attributes_str(uint32_t attributes, char *out, size_t outlen)
{
	static const char *const names[32] = {
		[1] = "fixedTPM", [2] = "stClear", [4] = "fixedParent",
		[5] = "sensitiveDataOrigin", [6] = "userWithAuth",
		[7] = "adminWithPolicy", [10] = "noDA",
		[11] = "encryptedDuplication", [16] = "restricted",
		[17] = "decrypt", [18] = "sign", [19] = "x509sign",
	};
	size_t n = 0;
	int bit, w;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (bit = 0; bit < 32; bit++) {
		if (!(attributes & (1u << bit)))
			continue;
		if (names[bit] != NULL)
			w = snprintf(out + n, outlen - n, "%s%s", n ? "|" : "",
			    names[bit]);
		else
			w = snprintf(out + n, outlen - n, "%sbit%d",
			    n ? "|" : "", bit);
		if (w < 0 || (size_t)w >= outlen - n) {
			out[n] = '\0'; /* only whole names */
			return;
		}
		n += (size_t)w;
	}
}

void
tpm_words_text(const uint32_t *words, size_t n, char *out)
{
	size_t i, len = 0;
	unsigned char c;

	for (i = 0; i < 4 * n; i++) {
		c = (unsigned char)(words[i / 4] >> (24 - 8 * (i % 4)));
		if (c >= 0x20 && c < 0x7f)
			out[len++] = (char)c;
	}
	while (len > 0 && out[len - 1] == ' ')
		len--;
	out[len] = '\0';
}
