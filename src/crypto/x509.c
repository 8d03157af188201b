#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/x509.h"

EVP_PKEY *
x509_key_new_p256(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (k == NULL)
		wg_log_openssl("EC P-256 key generation");
	return k;
}

int
x509_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

X509 *
x509_cert_new(EVP_PKEY *pub, const char *cn, X509 *issuer, int days)
{
	X509 *cert = X509_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	X509_NAME *name;
	int ok = 0;

	if (cert == NULL || wg_random(serial, sizeof(serial)) != WG_OK)
		goto done;
	serial[0] &= 0x7f; /* positive, RFC 5280 4.1.2.2 */
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL)
		goto done;
	name = X509_get_subject_name(cert);
	if (!X509_set_version(cert, X509_VERSION_3) ||
	    (cn != NULL && !X509_NAME_add_entry_by_txt(name, "CN",
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0)) ||
	    !X509_set_issuer_name(cert, issuer != NULL ?
	    X509_get_subject_name(issuer) : name) ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, NULL) == NULL ||
	    (pub != NULL && !X509_set_pubkey(cert, pub)))
		goto done;
	ok = 1;
done:
	BN_free(bn);
	if (!ok) {
		X509_free(cert);
		cert = NULL;
	}
	return cert;
}

X509 *
x509_ca_self_signed(EVP_PKEY *key, const char *cn, int days)
{
	X509 *cert = x509_cert_new(key, cn, NULL, days);

	if (cert == NULL ||
	    !x509_add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE") ||
	    !x509_add_ext(cert, cert, NID_key_usage,
	    "critical,keyCertSign,cRLSign") ||
	    !x509_add_ext(cert, cert, NID_subject_key_identifier, "hash") ||
	    X509_sign(cert, key, EVP_sha256()) == 0) {
		wg_log_openssl("CA certificate creation");
		X509_free(cert);
		return NULL;
	}
	return cert;
}

X509 *
x509_issue_ca(EVP_PKEY *parent_key, X509 *parent_cert, EVP_PKEY *pub,
    const char *cn, int days)
{
	X509 *cert = x509_cert_new(pub, cn, parent_cert, days);

	if (cert == NULL ||
	    !x509_add_ext(cert, parent_cert, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0") ||
	    !x509_add_ext(cert, parent_cert, NID_key_usage,
	    "critical,keyCertSign,cRLSign") ||
	    !x509_add_ext(cert, parent_cert, NID_subject_key_identifier, "hash") ||
	    !x509_add_ext(cert, parent_cert, NID_authority_key_identifier,
	    "keyid:always") ||
	    X509_sign(cert, parent_key, EVP_sha256()) == 0) {
		wg_log_openssl("issuing CA certificate creation");
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* "DNS:a,IP:1.2.3.4,…" for the subjectAltName extension. */
static char *
san_value(const char *const *names, size_t n)
{
	unsigned char addr[16];
	size_t i, len = 1;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(names[i]) + 5;
	s = xcalloc(1, len);
	for (i = 0; i < n; i++) {
		int ip = inet_pton(AF_INET, names[i], addr) == 1 ||
		    inet_pton(AF_INET6, names[i], addr) == 1;

		if (i > 0)
			strncat(s, ",", len - strlen(s) - 1);
		strncat(s, ip ? "IP:" : "DNS:", len - strlen(s) - 1);
		strncat(s, names[i], len - strlen(s) - 1);
	}
	return s;
}

X509 *
x509_leaf_sign(X509 *cert, EVP_PKEY *ca_key, X509 *ca_cert, const char *eku,
    const char *san, const char *what)
{
	if (cert == NULL ||
	    !x509_add_ext(cert, ca_cert, NID_basic_constraints,
	    "critical,CA:FALSE") ||
	    !x509_add_ext(cert, ca_cert, NID_key_usage,
	    "critical,digitalSignature") ||
	    !x509_add_ext(cert, ca_cert, NID_ext_key_usage, eku) ||
	    (san != NULL &&
	    !x509_add_ext(cert, ca_cert, NID_subject_alt_name, san)) ||
	    !x509_add_ext(cert, ca_cert, NID_subject_key_identifier, "hash") ||
	    !x509_add_ext(cert, ca_cert, NID_authority_key_identifier,
	    "keyid:always") ||
	    X509_sign(cert, ca_key, EVP_sha256()) == 0) {
		wg_log_openssl(what);
		X509_free(cert);
		cert = NULL;
	}
	return cert;
}

X509 *
x509_issue_server(EVP_PKEY *ca_key, X509 *ca_cert, EVP_PKEY *pub,
    const char *const *names, size_t nnames, int days)
{
	X509 *cert;
	char *san;

	if (nnames == 0)
		return NULL;
	san = san_value(names, nnames);
	cert = x509_leaf_sign(x509_cert_new(pub, names[0], ca_cert, days),
	    ca_key, ca_cert, "serverAuth", san, "server certificate "
	    "issuance");
	free(san);
	return cert;
}

void
x509_serial_hex(X509 *cert, char *out, size_t outlen)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	size_t i;

	snprintf(out, outlen, "%s", hex ? hex : "");
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'A' && out[i] <= 'F')
			out[i] = (char)(out[i] - 'A' + 'a');
	OPENSSL_free(hex);
	BN_free(bn);
}

/* Writes via a temp file and rename so a crash never leaves half a file. */
static enum wg_err
pem_write(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert)
{
	char *tmp = xasprintf("%s.tmp", path);
	enum wg_err rc = WG_E_IO;
	FILE *f = NULL;
	int fd, ok;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		wg_error("cannot write %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto done;
	}
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) :
	    PEM_write_X509(f, cert);
	if (!ok) {
		wg_log_openssl("PEM encoding");
		fclose(f);
		rc = WG_E_CRYPTO;
		goto done;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0) {
		wg_error("cannot write %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (rename(tmp, path) != 0) {
		wg_error("cannot rename %s: %s", tmp, strerror(errno));
		goto done;
	}
	rc = WG_OK;
done:
	if (rc != WG_OK)
		unlink(tmp);
	free(tmp);
	return rc;
}

enum wg_err
x509_key_write(const char *path, EVP_PKEY *key)
{
	return pem_write(path, 0600, key, NULL);
}

enum wg_err
x509_cert_write(const char *path, X509 *cert)
{
	return pem_write(path, 0644, NULL, cert);
}

/* Reads one PEM object from path with read; NULL if absent or bad. */
static void *
pem_read(const char *path, void *(*read)(FILE *))
{
	void *obj;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		wg_error("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	obj = read(f);
	fclose(f);
	if (obj == NULL)
		wg_log_openssl(path);
	return obj;
}

static void *
read_key(FILE *f)
{
	return PEM_read_PrivateKey(f, NULL, NULL, NULL);
}

static void *
read_cert(FILE *f)
{
	return PEM_read_X509(f, NULL, NULL, NULL);
}

EVP_PKEY *
x509_key_read(const char *path)
{
	return pem_read(path, read_key);
}

X509 *
x509_cert_read(const char *path)
{
	return pem_read(path, read_cert);
}

int
x509_cert_verify_issued(X509 *cert, X509 *issuer)
{
	EVP_PKEY *pub = X509_get0_pubkey(issuer);
	int ok;

	ok = pub != NULL && X509_verify(cert, pub) == 1 &&
	    X509_cmp_current_time(X509_get0_notBefore(cert)) < 0 &&
	    X509_cmp_current_time(X509_get0_notAfter(cert)) > 0;
	ERR_clear_error();
	return ok;
}

void
x509_cert_sha256_hex(X509 *cert, char out[65])
{
	unsigned char md[32];
	unsigned int n = sizeof(md);

	if (!X509_digest(cert, EVP_sha256(), md, &n))
		memset(md, 0, sizeof(md));
	wg_hex(md, 32, out);
}
