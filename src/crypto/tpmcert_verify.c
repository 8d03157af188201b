/*
 * Checking certificates about TPM keys (tpmcert.h): EK certificates from
 * a TPM's NV or its manufacturer's service, AIK certificates from the
 * attestation CA, and the trust directories they are checked against.
 * Everything here reads untrusted bytes and holds no CA key (issuing is
 * tpmcert.c).  OpenSSL's path validation codes and error queue are
 * translated here, once, into the catalog's codes and a why.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/tpmcert.h"
#include "crypto/tpmcert_int.h"

/* Bytes of one file of a trust directory, and files in it, at most. */
#define STORE_FILE_MAX (1024 * 1024)
#define STORE_FILES_MAX 4096

/* 1 if obj is the OID in dotted form oid. */
static int
oid_is(const ASN1_OBJECT *obj, const char *oid)
{
	char buf[128];
	int n = OBJ_obj2txt(buf, sizeof(buf), obj, 1);

	return n > 0 && (size_t)n < sizeof(buf) && strcmp(buf, oid) == 0;
}

/*
 * The certificate of der[len], which must be 1..TPMCERT_DER_MAX bytes
 * (checked before parsing) of one DER certificate with nothing after it.
 * NULL with why (prefixed by what) otherwise.
 */
static X509 *
cert_parse(const char *what, const unsigned char *der, size_t len,
    char *why, size_t whylen)
{
	const unsigned char *p = der;
	X509 *cert;

	if (len == 0 || len > TPMCERT_DER_MAX) {
		wg_say(why, whylen, "%s: %zu bytes, not 1 to %d "
		    "(TPMCERT_DER_MAX)", what, len, TPMCERT_DER_MAX);
		return NULL;
	}
	cert = d2i_X509(NULL, &p, (long)len);
	ERR_clear_error();
	if (cert == NULL) {
		wg_say(why, whylen, "%s: not a DER X.509 certificate (RFC 5280 "
		    "4.1)", what);
		return NULL;
	}
	if (p != der + len) {
		wg_say(why, whylen, "%s: %zu bytes follow the DER certificate "
		    "(one Certificate, RFC 5280 4.1)", what,
		    (size_t)(der + len - p));
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* 1 if cert's subjectPublicKeyInfo is the TPM key key. */
static int
cert_key_is(X509 *cert, const struct tpm_public *key)
{
	unsigned char want[TPM_PUBLIC_KEY_BITS_MAX];
	const unsigned char *got;
	const ASN1_OBJECT *alg;
	X509_ALGOR *algor;
	const void *param;
	size_t n = tpm_public_key_bits(key, want);
	int len, ptype;

	/* the encoded key as it is: no key object to build (RFC 3279) */
	if (!X509_PUBKEY_get0_param(NULL, &got, &len, &algor,
	    X509_get_X509_PUBKEY(cert)) || algor == NULL)
		return 0;
	X509_ALGOR_get0(&alg, &ptype, &param, algor);
	if (key->type == TPM_ALG_RSA ? OBJ_obj2nid(alg) != NID_rsaEncryption :
	    (OBJ_obj2nid(alg) != NID_X9_62_id_ecPublicKey ||
	    ptype != V_ASN1_OBJECT ||
	    OBJ_obj2nid(param) != NID_X9_62_prime256v1))
		return 0;
	return (size_t)len == n && CRYPTO_memcmp(got, want, n) == 0;
}

/*
 * 1 if cert has one extendedKeyUsage (RFC 5280 4.2.1.12) listing oid;
 * OpenSSL knows neither TCG usage as a purpose, so it is checked here.
 */
static int
check_eku(X509 *cert, const char *what, const char *oid, char *why,
    size_t whylen)
{
	EXTENDED_KEY_USAGE *eku;
	int crit, i, have, found = 0;

	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
	have = eku != NULL;
	for (i = 0; have && i < sk_ASN1_OBJECT_num(eku); i++)
		found |= oid_is(sk_ASN1_OBJECT_value(eku, i), oid);
	EXTENDED_KEY_USAGE_free(eku);
	ERR_clear_error();
	if (!have)
		wg_say(why, whylen, "%s: extendedKeyUsage %s (RFC 5280 4.2.1.12; "
		    "it must list %s)", what, crit == -1 ? "absent" :
		    crit == -2 ? "repeated" : "does not decode", oid);
	else if (!found)
		wg_say(why, whylen, "%s: extendedKeyUsage does not list %s",
		    what, oid);
	return found;
}

/*
 * Copies a TPM attribute's value to out: a UTF8String (the profile) or
 * PrintableString (older EK certificates) of 1..TPMCERT_ATTR_MAX
 * printable characters, no NUL.  0 (out emptied) otherwise.
 */
static int
attr_copy(const ASN1_STRING *s, char out[TPMCERT_ATTR_MAX + 1])
{
	const unsigned char *d = ASN1_STRING_get0_data(s);
	int type = ASN1_STRING_type(s), len = ASN1_STRING_length(s);

	out[0] = '\0';
	if ((type != V_ASN1_UTF8STRING && type != V_ASN1_PRINTABLESTRING) ||
	    len < 1 || len > TPMCERT_ATTR_MAX ||
	    memchr(d, '\0', (size_t)len) != NULL)
		return 0;
	memcpy(out, d, (size_t)len);
	out[len] = '\0';
	if (!wg_str_printable(out)) {
		out[0] = '\0';
		return 0;
	}
	return 1;
}

/* The TPM attributes of one directoryName into out; seen counts them. */
static int
read_tpm_dn(const X509_NAME *dn, char *const out[ATTR_MAX],
    int seen[ATTR_MAX], char *why, size_t whylen)
{
	const X509_NAME_ENTRY *e;
	int i, a;

	for (i = 0; i < X509_NAME_entry_count(dn); i++) {
		e = X509_NAME_get_entry(dn, i);
		for (a = 0; a < ATTR_MAX; a++)
			if (oid_is(X509_NAME_ENTRY_get_object(e), tpmcert_attr_oid[a]))
				break;
		if (a == ATTR_MAX)
			continue;
		if (seen[a]++) {
			wg_say(why, whylen, "EK certificate: subjectAltName "
			    "names %s (%s) twice", tpmcert_attr_name[a], tpmcert_attr_oid[a]);
			return 0;
		}
		if (!attr_copy(X509_NAME_ENTRY_get_data(e), out[a])) {
			wg_say(why, whylen, "EK certificate: subjectAltName %s "
			    "(%s) is not a UTF8String or PrintableString of "
			    "1 to %d printable characters", tpmcert_attr_name[a],
			    tpmcert_attr_oid[a], TPMCERT_ATTR_MAX);
			return 0;
		}
	}
	return 1;
}

/*
 * The TPM an EK certificate names: tpmManufacturer, tpmModel and
 * tpmVersion, each exactly once, in the directoryNames of its one
 * subjectAltName (TCG EK Credential Profile, Subject Alternative Name).
 */
static int
read_tpm(X509 *cert, struct tpmcert_tpm *tpm, char *why, size_t whylen)
{
	char *const out[ATTR_MAX] = { tpm->manufacturer, tpm->model,
		tpm->version };
	int crit, i, type, seen[ATTR_MAX] = { 0 }, ok = 0;
	GENERAL_NAMES *gens;
	void *value;

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	ERR_clear_error();
	if (gens == NULL) {
		wg_say(why, whylen, "EK certificate: subjectAltName %s (the TCG "
		    "EK profile names the TPM there)", crit == -1 ? "absent" :
		    crit == -2 ? "repeated" : "does not decode");
		return 0;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		value = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i),
		    &type);
		if (type == GEN_DIRNAME &&
		    !read_tpm_dn(value, out, seen, why, whylen))
			goto done;
	}
	for (i = 0; i < ATTR_MAX; i++) {
		if (!seen[i]) {
			wg_say(why, whylen, "EK certificate: subjectAltName "
			    "lacks %s (%s) in a directoryName", tpmcert_attr_name[i],
			    tpmcert_attr_oid[i]);
			goto done;
		}
	}
	ok = 1;
done:
	GENERAL_NAMES_free(gens);
	return ok;
}

/*
 * Path validation (RFC 5280 6.1) of cert to a root of roots through
 * untrusted, at the current time, with OpenSSL's defaults: no purpose
 * (OpenSSL knows neither TCG usage; check_eku does that), and critical
 * extensions OpenSSL does not process refused (RFC 5280 4.2).  Returns
 * the X509_V_ERR code and the depth of the certificate that failed.
 */
static int
chain_verify(X509 *cert, X509_STORE *roots, STACK_OF(X509) *untrusted,
    int *depth)
{
	X509_STORE_CTX *ctx = NULL;
	int err = X509_V_ERR_UNSPECIFIED;

	*depth = 0;
	if (roots == NULL)
		return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, roots, cert, untrusted)) {
		wg_log_openssl("certificate path validation");
		goto done;
	}
	if (X509_verify_cert(ctx) == 1) {
		err = X509_V_OK;
	} else {
		err = X509_STORE_CTX_get_error(ctx);
		*depth = X509_STORE_CTX_get_error_depth(ctx);
		if (err == X509_V_OK)
			err = X509_V_ERR_UNSPECIFIED;
	}
done:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return err;
}

/*
 * The rule each path validation failure breaks, and whether, found at the
 * certificate itself (depth 0), it is the certificate's own fault: it
 * carries an extension OpenSSL cannot process or decode, so it is no
 * valid certificate whoever issued it (WG_E_EK_CERT_INVALID).  Every
 * other failure, validity included, is the chain's: it does not vouch
 * for the key now (WG_E_EK_CERT_UNTRUSTED; see tpmcert.h).
 */
static const struct {
	int err;
	int own;
	const char *rule;
} chain_rules[] = {
	{ X509_V_ERR_CERT_HAS_EXPIRED, 0, "validity, RFC 5280 4.1.2.5" },
	{ X509_V_ERR_CERT_NOT_YET_VALID, 0, "validity, RFC 5280 4.1.2.5" },
	{ X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD, 0,
	    "validity, RFC 5280 4.1.2.5" },
	{ X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD, 0,
	    "validity, RFC 5280 4.1.2.5" },
	{ X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION, 1,
	    "critical extensions, RFC 5280 4.2" },
	{ X509_V_ERR_INVALID_EXTENSION, 1, "extensions, RFC 5280 4.2" },
};

/* Says why path validation failed; 1 if it is the certificate's fault. */
static int
chain_why(const char *what, int err, int depth, char *why, size_t whylen)
{
	const char *rule = "chain to a trusted root, RFC 5280 6.1";
	size_t i;
	int own = 0;

	for (i = 0; i < sizeof(chain_rules) / sizeof(chain_rules[0]); i++) {
		if (chain_rules[i].err == err) {
			rule = chain_rules[i].rule;
			own = chain_rules[i].own && depth == 0;
		}
	}
	wg_say(why, whylen, "%s: %s at chain depth %d (%s)", what,
	    X509_verify_cert_error_string(err), depth, rule);
	return own;
}

enum wg_err
tpmcert_verify_ek(const unsigned char *der, size_t len,
    const struct tpm_public *ek, X509_STORE *roots,
    STACK_OF(X509) *untrusted, struct tpmcert_tpm *tpm, char *why,
    size_t whylen)
{
	static const char what[] = "EK certificate";
	enum wg_err rc = WG_E_EK_CERT_INVALID;
	struct tpmcert_tpm got;
	X509 *cert;
	int err, depth;

	memset(tpm, 0, sizeof(*tpm));
	memset(&got, 0, sizeof(got));
	wg_say(why, whylen, "%s", "");
	if ((cert = cert_parse(what, der, len, why, whylen)) == NULL)
		return WG_E_EK_CERT_INVALID;
	if (!cert_key_is(cert, ek)) {
		wg_say(why, whylen, "%s: subjectPublicKeyInfo is not the TPM's "
		    "EK (RFC 5280 4.1.2.7; a certificate of another key)",
		    what);
		goto done;
	}
	if (!check_eku(cert, what, TPMCERT_OID_KP_EK, why, whylen) ||
	    !read_tpm(cert, &got, why, whylen))
		goto done;
	err = chain_verify(cert, roots, untrusted, &depth);
	if (err != X509_V_OK) {
		if (!chain_why(what, err, depth, why, whylen))
			rc = WG_E_EK_CERT_UNTRUSTED;
		goto done;
	}
	*tpm = got;
	rc = WG_OK;
done:
	X509_free(cert);
	return rc;
}

/*
 * The assurance of an AIK certificate: exactly one of the assurance OIDs
 * among its certificatePolicies (RFC 5280 4.2.1.4).
 */
static int
read_assurance(X509 *cert, enum tpmcert_assurance *out, char *why,
    size_t whylen)
{
	CERTIFICATEPOLICIES *pols;
	int i, a, n = 0;

	pols = X509_get_ext_d2i(cert, NID_certificate_policies, NULL, NULL);
	ERR_clear_error();
	for (i = 0; pols != NULL && i < sk_POLICYINFO_num(pols); i++) {
		for (a = 0; a < TPMCERT_ASSURANCE_MAX; a++) {
			if (oid_is(sk_POLICYINFO_value(pols, i)->policyid,
			    tpmcert_assurance_oid[a])) {
				*out = (enum tpmcert_assurance)a;
				n++;
			}
		}
	}
	CERTIFICATEPOLICIES_free(pols);
	if (n != 1) {
		wg_say(why, whylen, "AIK certificate: certificatePolicies holds "
		    "%d of %s and %s, not one (RFC 5280 4.2.1.4)", n,
		    tpmcert_assurance_oid[TPMCERT_EK_ON_LIST],
		    tpmcert_assurance_oid[TPMCERT_EK_CERT]);
		*out = TPMCERT_ASSURANCE_MAX;
		return 0;
	}
	return 1;
}

enum wg_err
tpmcert_verify_aik(const unsigned char *der, size_t len,
    const struct tpm_public *aik, X509_STORE *roots,
    STACK_OF(X509) *untrusted, enum tpmcert_assurance *assurance,
    char *why, size_t whylen)
{
	static const char what[] = "AIK certificate";
	enum tpmcert_assurance got = TPMCERT_ASSURANCE_MAX;
	enum wg_err rc = WG_E_AIK_CERT_INVALID;
	X509 *cert;
	int err, depth;

	*assurance = TPMCERT_ASSURANCE_MAX;
	wg_say(why, whylen, "%s", "");
	if ((cert = cert_parse(what, der, len, why, whylen)) == NULL)
		return WG_E_AIK_CERT_INVALID;
	if (!cert_key_is(cert, aik)) {
		wg_say(why, whylen, "%s: subjectPublicKeyInfo is not the AIK "
		    "(RFC 5280 4.1.2.7; a certificate of another key)", what);
		goto done;
	}
	if (!check_eku(cert, what, TPMCERT_OID_KP_AIK, why, whylen) ||
	    !read_assurance(cert, &got, why, whylen))
		goto done;
	err = chain_verify(cert, roots, untrusted, &depth);
	if (err != X509_V_OK) {
		(void)chain_why(what, err, depth, why, whylen);
		goto done;
	}
	*assurance = got;
	rc = WG_OK;
done:
	X509_free(cert);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The names in dir, dotfiles left out, sorted (so the order certificates
 * are added in does not depend on the file system); -1 if it cannot be
 * read (logged).  The caller frees each name and *names.
 */
static int
dir_list(const char *dir, char ***names, size_t *n)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int full = 0;

	*names = NULL;
	*n = 0;
	if (d == NULL) {
		wg_error("cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (*n == STORE_FILES_MAX) {
			wg_error("%s: more than %d files", dir,
			    STORE_FILES_MAX);
			full = 1;
			break;
		}
		*names = xrealloc(*names, (*n + 1) * sizeof(**names));
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (full)
		return -1;
	if (*n > 0)
		qsort(*names, *n, sizeof(**names), name_cmp);
	return 0;
}

/*
 * The bytes of path if it is a regular file of at most STORE_FILE_MAX
 * bytes (*buf xmalloc'd, the caller frees it); 1 if it is something else
 * (a directory: skipped), -1 if it cannot be read (logged).
 */
static int
file_read(const char *path, unsigned char **buf, size_t *len)
{
	struct stat st;
	ssize_t got = 0;
	int fd;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0) {
		wg_error("cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return 1;
	}
	*buf = xmalloc(STORE_FILE_MAX + 1);
	while (*len <= STORE_FILE_MAX &&
	    (got = read(fd, *buf + *len, STORE_FILE_MAX + 1 - *len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			wg_error("cannot read %s: %s", path, strerror(errno));
			break;
		}
		*len += (size_t)got;
	}
	close(fd);
	if (got < 0 || *len > STORE_FILE_MAX) {
		if (got >= 0)
			wg_error("%s: more than %d bytes", path,
			    STORE_FILE_MAX);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

/* One DER certificate exactly len bytes long, or NULL. */
static X509 *
der_cert(const unsigned char *der, long len)
{
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, len);

	if (cert != NULL && p != der + len) {
		X509_free(cert);
		cert = NULL;
	}
	return cert;
}

/*
 * Adds the PEM CERTIFICATE blocks of buf to store, *n of them; -1 if
 * there is none, a block of another kind, or one that does not decode.
 */
static int
pem_add(X509_STORE *store, const unsigned char *buf, size_t len,
    size_t *n)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	unsigned long e;
	X509 *cert;
	long dlen;
	int ok = 1;

	while (ok && bio != NULL &&
	    PEM_read_bio(bio, &name, &header, &data, &dlen) == 1) {
		cert = strcmp(name, PEM_STRING_X509) == 0 ?
		    der_cert(data, dlen) : NULL;
		ok = cert != NULL && X509_STORE_add_cert(store, cert) == 1;
		*n += ok;
		X509_free(cert);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
	}
	/* The loop ends at the first block missing: only that is fine. */
	e = ERR_peek_last_error();
	ok = ok && *n > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
	ERR_clear_error();
	BIO_free(bio);
	return ok ? 0 : -1;
}

/*
 * Adds the certificates of dir/name to store, *n of them (0 for what is
 * not a regular file: skipped); -1 (logged, naming the file) if it is
 * neither one DER certificate nor PEM CERTIFICATE blocks only.
 */
static int
file_add(X509_STORE *store, const char *dir, const char *name, size_t *n)
{
	char *path = xasprintf("%s/%s", dir, name), esc[512];
	unsigned char *buf = NULL;
	X509 *cert;
	size_t len;
	int rc;

	*n = 0;
	rc = file_read(path, &buf, &len);
	/* DER if it starts a SEQUENCE and is one certificate, else PEM */
	cert = rc == 0 && len > 0 && buf[0] == 0x30 ?
	    der_cert(buf, (long)len) : NULL;
	ERR_clear_error();
	if (cert != NULL) {
		rc = X509_STORE_add_cert(store, cert) == 1 ? 0 : -1;
		*n = rc == 0;
		X509_free(cert);
		ERR_clear_error();
	} else if (rc == 0) {
		rc = pem_add(store, buf, len, n);
	}
	if (rc < 0 && buf != NULL) {
		wg_escape_log(path, strlen(path), esc, sizeof(esc));
		wg_error("%s: not a DER certificate or PEM certificates "
		    "only", esc);
	}
	free(buf);
	free(path);
	return rc < 0 ? -1 : 0;
}

X509_STORE *
tpmcert_store_load_dir(const char *dir, size_t *n)
{
	X509_STORE *store = NULL;
	char **names = NULL;
	size_t count = 0, i, got;
	int ok = 0;

	*n = 0;
	if (dir_list(dir, &names, &count) != 0)
		goto done;
	if ((store = X509_STORE_new()) == NULL) {
		wg_log_openssl("certificate store");
		goto done;
	}
	for (i = 0; i < count; i++) {
		if (file_add(store, dir, names[i], &got) != 0)
			goto done;
		*n += got;
	}
	ok = 1;
done:
	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
	if (!ok) {
		X509_STORE_free(store);
		store = NULL;
		*n = 0;
	}
	return store;
}
