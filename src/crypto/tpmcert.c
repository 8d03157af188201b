/*
 * Issuing certificates about TPM keys (tpmcert.h): EK certificates as a
 * TPM manufacturer's CA makes them, AIK certificates as the attestation
 * CA does, and the CA chain as SCEP's GetCACert sends it.  The checks of
 * such certificates, which read untrusted input and hold no CA key, are
 * in tpmcert_verify.c.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/tpmcert.h"
#include "crypto/tpmcert_int.h"
#include "crypto/x509.h"

const char *const tpmcert_attr_oid[ATTR_MAX] = {
	TPMCERT_OID_TPM_MANUFACTURER, TPMCERT_OID_TPM_MODEL,
	TPMCERT_OID_TPM_VERSION
};
const char *const tpmcert_attr_name[ATTR_MAX] = {
	"tpmManufacturer", "tpmModel", "tpmVersion"
};
const char *const tpmcert_assurance_oid[TPMCERT_ASSURANCE_MAX] = {
	[TPMCERT_EK_ON_LIST] = TPMCERT_OID_POLICY_EK_ON_LIST,
	[TPMCERT_EK_CERT] = TPMCERT_OID_POLICY_EK_CERT,
};

/* 1 if s is 1..TPMCERT_ATTR_MAX bytes of printable UTF-8. */
static int
attr_ok(const char *s)
{
	size_t n = strnlen(s, TPMCERT_ATTR_MAX + 1);

	return n >= 1 && n <= TPMCERT_ATTR_MAX && wg_str_printable(s);
}

/*
 * subjectAltName, critical (the subject is empty, RFC 5280 4.2.1.6), of
 * one directoryName with the three TPM attributes as UTF8Strings, each
 * in its own RDN, as swtpm and the EK profile's example lay them out.
 */
static int
add_tpm_san(X509 *cert, const struct tpmcert_tpm *tpm)
{
	const char *value[ATTR_MAX] = { tpm->manufacturer, tpm->model,
		tpm->version };
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gen = GENERAL_NAME_new();
	X509_NAME *dn = X509_NAME_new();
	ASN1_OBJECT *obj;
	int i, ok = 0;

	if (gens == NULL || gen == NULL || dn == NULL)
		goto done;
	for (i = 0; i < ATTR_MAX; i++) {
		obj = OBJ_txt2obj(tpmcert_attr_oid[i], 1);
		ok = obj != NULL && X509_NAME_add_entry_by_OBJ(dn, obj,
		    V_ASN1_UTF8STRING, (const unsigned char *)value[i], -1,
		    -1, 0);
		ASN1_OBJECT_free(obj);
		if (!ok)
			goto done;
	}
	ok = 0;
	GENERAL_NAME_set0_value(gen, GEN_DIRNAME, dn);
	dn = NULL;
	if (!sk_GENERAL_NAME_push(gens, gen))
		goto done;
	gen = NULL;
	ok = X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, 1,
	    X509V3_ADD_DEFAULT) == 1;
done:
	X509_NAME_free(dn);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return ok;
}

int
tpmcert_set_key(X509 *cert, const struct tpm_public *p)
{
	unsigned char *bits = OPENSSL_malloc(TPM_PUBLIC_KEY_BITS_MAX);
	int rsa = p->type == TPM_ALG_RSA, len;

	if (bits == NULL)
		return 0;
	len = (int)tpm_public_key_bits(p, bits);
	if (!X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert),
	    OBJ_nid2obj(rsa ? NID_rsaEncryption : NID_X9_62_id_ecPublicKey),
	    rsa ? V_ASN1_NULL : V_ASN1_OBJECT, rsa ? NULL :
	    OBJ_nid2obj(NID_X9_62_prime256v1), bits, len)) {
		OPENSSL_free(bits);
		return 0;
	}
	return 1;
}

X509 *
tpmcert_issue_client(EVP_PKEY *ca_key, X509 *ca_cert,
    const struct tpm_public *key, const char *cn, int days)
{
	X509 *cert = x509_cert_new(NULL, cn, ca_cert, days);

	if (cert != NULL && !tpmcert_set_key(cert, key)) {
		wg_log_openssl("client certificate issuance");
		X509_free(cert);
		return NULL;
	}
	return x509_leaf_sign(cert, ca_key, ca_cert, "clientAuth", NULL,
	    "client certificate issuance");
}

X509 *
tpmcert_issue_ek(EVP_PKEY *ca_key, X509 *ca_cert,
    const struct tpm_public *ek, const struct tpmcert_tpm *tpm, int days)
{
	const char *usage = ek->type == TPM_ALG_RSA ?
	    "critical,keyEncipherment" : "critical,keyAgreement";
	X509 *cert;

	if (!attr_ok(tpm->manufacturer) || !attr_ok(tpm->model) ||
	    !attr_ok(tpm->version) || days < 1) {
		wg_error("EK certificate issuance: a TPM attribute is not 1 "
		    "to %d printable characters, or days < 1",
		    TPMCERT_ATTR_MAX);
		return NULL;
	}
	cert = x509_cert_new(NULL, NULL, ca_cert, days);
	if (cert == NULL || !tpmcert_set_key(cert, ek) || !add_tpm_san(cert, tpm) ||
	    !x509_add_ext(cert, ca_cert, NID_basic_constraints,
	    "critical,CA:FALSE") ||
	    !x509_add_ext(cert, ca_cert, NID_key_usage, usage) ||
	    !x509_add_ext(cert, ca_cert, NID_ext_key_usage,
	    TPMCERT_OID_KP_EK) ||
	    !x509_add_ext(cert, ca_cert, NID_authority_key_identifier,
	    "keyid:always") ||
	    X509_sign(cert, ca_key, EVP_sha256()) == 0) {
		wg_log_openssl("EK certificate issuance");
		X509_free(cert);
		cert = NULL;
	}
	return cert;
}

/*
 * certificatePolicies (RFC 5280 4.2.1.4, non-critical) of the one
 * policy oid, no qualifiers.  Built here: OpenSSL's text form of this
 * extension wants a config database.
 */
static int
add_policy(X509 *cert, const char *oid)
{
	CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
	POLICYINFO *pi = POLICYINFO_new();
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int ok = 0;

	if (pols == NULL || pi == NULL || obj == NULL)
		goto done;
	ASN1_OBJECT_free(pi->policyid);
	pi->policyid = obj;
	obj = NULL;
	if (!sk_POLICYINFO_push(pols, pi))
		goto done;
	pi = NULL;
	ok = X509_add1_ext_i2d(cert, NID_certificate_policies, pols, 0,
	    X509V3_ADD_DEFAULT) == 1;
done:
	ASN1_OBJECT_free(obj);
	POLICYINFO_free(pi);
	CERTIFICATEPOLICIES_free(pols);
	return ok;
}

/*
 * The extension TPMCERT_OID_EK_SHA256 (non-critical): extnValue wraps
 * the DER of an OCTET STRING holding SHA-256 of the EK's TPMT_PUBLIC.
 */
static int
add_ek_digest(X509 *cert, const struct tpm_public *ek)
{
	ASN1_OCTET_STRING *digest = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
	ASN1_OBJECT *obj = OBJ_txt2obj(TPMCERT_OID_EK_SHA256, 1);
	X509_EXTENSION *ext = NULL;
	unsigned char md[32], *der = NULL;
	int len, ok = 0;

	tpm_public_sha256(ek, md);
	if (digest == NULL || value == NULL || obj == NULL ||
	    !ASN1_OCTET_STRING_set(digest, md, sizeof(md)) ||
	    (len = i2d_ASN1_OCTET_STRING(digest, &der)) <= 0 ||
	    !ASN1_OCTET_STRING_set(value, der, len) ||
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, value)) == NULL)
		goto done;
	ok = X509_add_ext(cert, ext, -1);
done:
	X509_EXTENSION_free(ext);
	OPENSSL_free(der);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(value);
	ASN1_OCTET_STRING_free(digest);
	return ok;
}

X509 *
tpmcert_issue_aik(EVP_PKEY *ca_key, X509 *ca_cert,
    const struct tpm_public *aik, const struct tpm_public *ek,
    enum tpmcert_assurance assurance, int days)
{
	unsigned char name[34];
	char cn[65];
	X509 *cert;

	if ((unsigned)assurance >= TPMCERT_ASSURANCE_MAX || days < 1) {
		wg_error("AIK certificate issuance: assurance %d or days %d "
		    "out of range", (int)assurance, days);
		return NULL;
	}
	/* The name's digest: 64 characters, RFC 5280's ub-common-name. */
	tpm_public_name(aik, name);
	wg_hex(name + 2, 32, cn);
	cert = x509_cert_new(NULL, NULL, ca_cert, days);
	if (cert == NULL || !tpmcert_set_key(cert, aik) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN",
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
	    !x509_add_ext(cert, ca_cert, NID_basic_constraints,
	    "critical,CA:FALSE") ||
	    !x509_add_ext(cert, ca_cert, NID_key_usage,
	    "critical,digitalSignature") ||
	    !x509_add_ext(cert, ca_cert, NID_ext_key_usage,
	    TPMCERT_OID_KP_AIK) ||
	    !add_policy(cert, tpmcert_assurance_oid[assurance]) ||
	    !add_ek_digest(cert, ek) ||
	    !x509_add_ext(cert, ca_cert, NID_subject_key_identifier, "hash") ||
	    !x509_add_ext(cert, ca_cert, NID_authority_key_identifier,
	    "keyid:always") ||
	    X509_sign(cert, ca_key, EVP_sha256()) == 0) {
		wg_log_openssl("AIK certificate issuance");
		X509_free(cert);
		cert = NULL;
	}
	return cert;
}

enum wg_err
tpmcert_p7_certs(STACK_OF(X509) *certs, unsigned char **out, size_t *len)
{
	unsigned char *der = NULL;
	PKCS7 *p7 = PKCS7_new();
	int i, n = 0;

	*out = NULL;
	*len = 0;
	if (p7 == NULL || sk_X509_num(certs) < 1 ||
	    !PKCS7_set_type(p7, NID_pkcs7_signed))
		goto done;
	/* encapContentInfo: type data, the content absent (RFC 8894 3.4) */
	p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
	for (i = 0; i < sk_X509_num(certs); i++)
		if (!PKCS7_add_certificate(p7, sk_X509_value(certs, i)))
			goto done;
	n = i2d_PKCS7(p7, &der);
done:
	PKCS7_free(p7);
	if (n <= 0) {
		wg_log_openssl("PKCS#7 certs-only encoding");
		return WG_E_CRYPTO;
	}
	*out = xmalloc((size_t)n);
	memcpy(*out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	return WG_OK;
}
