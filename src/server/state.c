/*
 * The server's state directory:
 *
 *   STATE/tls/ca.key, ca.crt          private CA (key 0600), made once
 *   STATE/tls/server.key, server.crt  TLS certificate for the listen names
 *   STATE/operator.key                the operator's API key (0600)
 *   STATE/ekcert/root.*, issuing.*    the ekcert service's CA (TPM
 *                                     manufacturer role), made once
 *   STATE/aik/root.*, issuing.*       the attestation CA, made once
 *   STATE/ek-trust/                   TPM manufacturer roots the
 *                                     attestation CA trusts (default)
 *   STATE/drs/root.*, issuing.*       the device CA of the device
 *                                     registration service, made once
 *   STATE/mdm/root.*, issuing.*       the MDM CA, made once
 *   STATE/token/signing.key           the token service's ES256 key
 *                                     (0600), made once
 *   STATE/whiteglove.db               the SQLite database (default --db)
 *
 * Everything is generated on first start and reused after; the server
 * certificate is reissued from the same CA when the names change or it
 * nears expiry, so clients pinning the CA keep working.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/util.h"
#include "crypto/jose.h"
#include "common/xmalloc.h"
#include "crypto/tpmcert.h"
#include "crypto/x509.h"
#include "server/auth.h"
#include "server/server.h"

#define CA_DAYS 3650
#define SERVER_DAYS 397
#define RENEW_DAYS 30
#define FILE_MAX (64 * 1024)

/* Creates dir with mode 0700 if missing (one level). */
static enum wg_err
ensure_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return WG_OK;
	if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (st.st_mode & 077)
			wg_warn("%s is readable by others (mode %03o); it holds "
			    "private keys: chmod 700 it", dir,
			    (unsigned)(st.st_mode & 0777));
		return WG_OK;
	}
	wg_error("cannot create directory %s: %s", dir, strerror(errno));
	return WG_E_IO;
}

static int
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Reads a small file into a NUL-terminated buffer the caller frees. */
static enum wg_err
read_small(const char *path, char **out)
{
	char *buf = xmalloc(FILE_MAX + 1);
	size_t n = 0;
	ssize_t r;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		wg_error("cannot read %s: %s", path, strerror(errno));
		free(buf);
		return WG_E_IO;
	}
	while (n < FILE_MAX && (r = read(fd, buf + n, FILE_MAX - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	*out = buf;
	return WG_OK;
}

/* A one-line file without its line end; the caller frees *out. */
static enum wg_err
read_line(const char *path, char **out)
{
	enum wg_err rc;
	size_t n;

	if ((rc = read_small(path, out)) != WG_OK)
		return rc;
	n = strlen(*out);
	while (n > 0 && ((*out)[n - 1] == '\n' || (*out)[n - 1] == '\r'))
		(*out)[--n] = '\0';
	return WG_OK;
}

static int
cert_covers(X509 *cert, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (X509_check_ip_asc(cert, names[i], 0) == 1)
			continue;
		if (X509_check_host(cert, names[i], 0, 0, NULL) != 1)
			return 0;
	}
	return 1;
}

enum wg_err
state_ca(const char *dir, const char *name, const char *cn,
    EVP_PKEY *parent_key, X509 *parent_cert, EVP_PKEY **key, X509 **cert)
{
	char *kp = xasprintf("%s/%s.key", dir, name);
	char *cp = xasprintf("%s/%s.crt", dir, name);
	enum wg_err rc = WG_E_TLS_SETUP;

	*key = NULL;
	*cert = NULL;
	if (ensure_dir(dir) != WG_OK)
		goto done;
	if (exists(kp) && exists(cp)) {
		*key = x509_key_read(kp);
		*cert = x509_cert_read(cp);
	} else {
		wg_info("first start: creating the %s in %s", cn, dir);
		if ((*key = x509_key_new_p256()) != NULL &&
		    (*cert = parent_key == NULL ?
		    x509_ca_self_signed(*key, cn, CA_DAYS) :
		    x509_issue_ca(parent_key, parent_cert, *key, cn,
		    CA_DAYS)) != NULL &&
		    (x509_key_write(kp, *key) != WG_OK ||
		    x509_cert_write(cp, *cert) != WG_OK)) {
			X509_free(*cert);
			*cert = NULL;
		}
	}
	if (*key != NULL && *cert != NULL &&
	    X509_check_private_key(*cert, *key) == 1 &&
	    (parent_cert == NULL || x509_cert_verify_issued(*cert,
	    parent_cert)))
		rc = WG_OK;
	else
		wg_error("the %s in %s is unusable (%s.key and %s.crt "
		    "missing, damaged, not a pair, or not issued by the root "
		    "beside them)", cn, dir, name, name);
done:
	if (rc != WG_OK) {
		EVP_PKEY_free(*key);
		X509_free(*cert);
		*key = NULL;
		*cert = NULL;
	}
	free(kp);
	free(cp);
	return rc;
}

/* Reuses the server certificate if it is good for names, else reissues. */
static enum wg_err
server_cert(const char *tls, EVP_PKEY *ca_key, X509 *ca,
    const char *const *names, size_t n)
{
	char *kp = xasprintf("%s/server.key", tls);
	char *cp = xasprintf("%s/server.crt", tls);
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	enum wg_err rc = WG_OK;
	time_t soon = time(NULL) + (time_t)RENEW_DAYS * 86400;

	if (exists(kp) && exists(cp) && (key = x509_key_read(kp)) != NULL &&
	    (cert = x509_cert_read(cp)) != NULL &&
	    X509_check_private_key(cert, key) == 1 &&
	    x509_cert_verify_issued(cert, ca) &&
	    X509_cmp_time(X509_get0_notAfter(cert), &soon) > 0 &&
	    cert_covers(cert, names, n))
		goto done;
	wg_info("issuing a TLS server certificate for %s%s", names[0],
	    n > 1 ? " and the other listen names" : "");
	EVP_PKEY_free(key);
	X509_free(cert);
	cert = NULL;
	rc = WG_E_TLS_SETUP;
	if ((key = x509_key_new_p256()) == NULL ||
	    (cert = x509_issue_server(ca_key, ca, key, names, n,
	    SERVER_DAYS)) == NULL)
		goto done;
	if ((rc = x509_key_write(kp, key)) != WG_OK ||
	    (rc = x509_cert_write(cp, cert)) != WG_OK)
		goto done;
	rc = WG_OK;
done:
	EVP_PKEY_free(key);
	X509_free(cert);
	free(kp);
	free(cp);
	return rc;
}

enum wg_err
state_tls_load(const char *state_dir, const char *const *names,
    size_t nnames, char **cert_pem, char **key_pem)
{
	char *tls = xasprintf("%s/tls", state_dir), *path = NULL;
	char *leaf = NULL, *ca_pem = NULL;
	EVP_PKEY *ca_key = NULL;
	X509 *ca = NULL;
	enum wg_err rc;

	*cert_pem = NULL;
	*key_pem = NULL;
	if ((rc = ensure_dir(state_dir)) != WG_OK ||
	    (rc = ensure_dir(tls)) != WG_OK ||
	    (rc = state_ca(tls, "ca", "whiteglove server CA", NULL, NULL,
	    &ca_key, &ca)) != WG_OK ||
	    (rc = server_cert(tls, ca_key, ca, names, nnames)) != WG_OK)
		goto done;
	path = xasprintf("%s/server.crt", tls);
	if ((rc = read_small(path, &leaf)) != WG_OK)
		goto done;
	free(path);
	path = xasprintf("%s/ca.crt", tls);
	if ((rc = read_small(path, &ca_pem)) != WG_OK)
		goto done;
	free(path);
	path = xasprintf("%s/server.key", tls);
	if ((rc = read_small(path, key_pem)) != WG_OK)
		goto done;
	*cert_pem = xasprintf("%s%s", leaf, ca_pem); /* leaf, then its CA */
done:
	EVP_PKEY_free(ca_key);
	X509_free(ca);
	free(leaf);
	free(ca_pem);
	free(path);
	free(tls);
	return rc;
}

/* Writes the operator key file (0600) without ever leaving it partial. */
static enum wg_err
write_key_file(const char *path, const char *key_text)
{
	char *tmp = xasprintf("%s.tmp", path);
	size_t n = strlen(key_text);
	enum wg_err rc = WG_E_IO;
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && write(fd, key_text, n) == (ssize_t)n &&
	    write(fd, "\n", 1) == 1 && fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		if (rename(tmp, path) == 0)
			rc = WG_OK;
	}
	if (fd >= 0)
		close(fd);
	if (rc != WG_OK) {
		wg_error("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* Stores the operator key's hash if this database does not know it. */
static enum wg_err
operator_register(struct store *st, const char *key_text, const char *path)
{
	struct wg_api_key rec = { 0 }, old;
	struct store_conn *c;
	enum wg_err rc;

	if ((rc = auth_key_parse(key_text, rec.id, rec.secret_hash)) !=
	    WG_OK) {
		wg_error("%s does not hold a whiteglove key", path);
		return WG_E_CONFIG;
	}
	if ((rc = store_conn_get(st, &c)) != WG_OK)
		return rc;
	rc = store_api_key_get(c, rec.id, &old);
	if (rc == WG_OK) {
		if (old.revoked_ms != 0)
			wg_warn("the operator key in %s is revoked", path);
		return WG_OK;
	}
	if (rc != WG_E_NOT_FOUND)
		return rc;
	rec.role = WG_KEY_OPERATOR;
	snprintf(rec.name, sizeof(rec.name), "operator");
	rec.created_ms = wg_now_ms();
	wg_info("registering the operator key of %s in this database", path);
	return store_api_key_insert(c, &rec);
}

enum wg_err
state_operator_key(const char *state_dir, struct store *st)
{
	char *path = xasprintf("%s/operator.key", state_dir), *text = NULL;
	struct wg_api_key rec;
	enum wg_err rc;

	if (exists(path)) {
		if ((rc = read_line(path, &text)) != WG_OK)
			goto done;
		rc = operator_register(st, text, path);
		goto done;
	}
	if ((rc = auth_key_new(WG_KEY_OPERATOR, "", "operator", &rec,
	    &text)) != WG_OK)
		goto done;
	/* File first: a key in the database nobody holds would be useless. */
	if ((rc = write_key_file(path, text)) != WG_OK)
		goto done;
	if ((rc = operator_register(st, text, path)) != WG_OK) {
		unlink(path);
		goto done;
	}
	wg_info("first start: wrote the operator key to %s", path);
done:
	if (text != NULL)
		xfree_secret(text, strlen(text));
	free(path);
	return rc;
}

enum wg_err
state_instance_id(const char *state_dir, char out[37])
{
	char *path = xasprintf("%s/instance.id", state_dir), *text = NULL;
	enum wg_err rc;

	if (exists(path)) {
		if ((rc = read_line(path, &text)) != WG_OK)
			goto done;
		if (!wg_is_uuid(text)) {
			wg_error("%s does not hold an instance id", path);
			rc = WG_E_CONFIG;
			goto done;
		}
		memcpy(out, text, 37);
		goto done;
	}
	wg_uuid(out);
	rc = write_key_file(path, out);
done:
	free(text);
	free(path);
	return rc;
}

/* The base64 of cert's DER; NULL if it cannot be encoded (logged). */
static char *
cert_b64(X509 *cert)
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der);
	char *s = n > 0 ? wg_b64(der, (size_t)n) : NULL;

	if (s == NULL)
		wg_log_openssl("certificate encoding");
	OPENSSL_free(der);
	return s;
}

/* The attestation CA's chain as every answer sends it, made once. */
static enum wg_err
aik_chain_encode(struct attest_cas *cas)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	enum wg_err rc = WG_E_CRYPTO;

	if ((cas->aik_chain_b64[0] = cert_b64(cas->aik_cert)) != NULL &&
	    (cas->aik_chain_b64[1] = cert_b64(cas->aik_root)) != NULL &&
	    chain != NULL && sk_X509_push(chain, cas->aik_cert) &&
	    sk_X509_push(chain, cas->aik_root))
		rc = tpmcert_p7_certs(chain, &cas->aik_p7, &cas->aik_p7_len);
	sk_X509_free(chain);
	if (rc != WG_OK)
		wg_error("the attestation CA's chain cannot be encoded");
	return rc;
}

/* A root and an issuing CA under it in dir, created on first start. */
static enum wg_err
ca_pair(const char *dir, const char *what, EVP_PKEY **key, X509 **cert,
    X509 **root)
{
	char root_cn[128], cn[128];
	EVP_PKEY *root_key = NULL;
	enum wg_err rc;

	snprintf(root_cn, sizeof(root_cn), "whiteglove %s root CA", what);
	snprintf(cn, sizeof(cn), "whiteglove %s issuing CA", what);
	if ((rc = state_ca(dir, "root", root_cn, NULL, NULL, &root_key,
	    root)) == WG_OK)
		rc = state_ca(dir, "issuing", cn, root_key, *root, key, cert);
	EVP_PKEY_free(root_key);
	return rc;
}

/* The ekcert CA; on its first start its chain joins the default trust. */
static enum wg_err
ekcert_load(const struct server_config *cfg, const char *trust,
    struct attest_cas *out)
{
	char *dir = xasprintf("%s/ekcert", cfg->state_dir);
	char *root = xasprintf("%s/root.crt", dir), *a = NULL, *b = NULL;
	int fresh = !exists(root);
	enum wg_err rc;

	rc = ca_pair(dir, "TPM manufacturer", &out->ekcert_key,
	    &out->ekcert_cert, &out->ekcert_root);
	if (rc == WG_OK && fresh && cfg->ek_trust_dir == NULL) {
		a = xasprintf("%s/whiteglove-ekcert-root.crt", trust);
		b = xasprintf("%s/whiteglove-ekcert-issuing.crt", trust);
		if ((rc = ensure_dir(trust)) == WG_OK &&
		    (rc = x509_cert_write(a, out->ekcert_root)) == WG_OK)
			rc = x509_cert_write(b, out->ekcert_cert);
	}
	free(a);
	free(b);
	free(root);
	free(dir);
	return rc;
}

/* A leaf-issuing CA of a service, and its chain as its answers send it. */
static enum wg_err
service_ca_load(const struct server_config *cfg, const char *name,
    const char *what, struct service_ca *out)
{
	char *dir = xasprintf("%s/%s", cfg->state_dir, name);
	enum wg_err rc;

	rc = ca_pair(dir, what, &out->key, &out->cert, &out->root);
	if (rc == WG_OK && ((out->chain_b64[0] = cert_b64(out->cert)) ==
	    NULL || (out->chain_b64[1] = cert_b64(out->root)) == NULL))
		rc = WG_E_CRYPTO;
	free(dir);
	return rc;
}

static void
service_ca_free(struct service_ca *ca)
{
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	X509_free(ca->root);
	free(ca->chain_b64[0]);
	free(ca->chain_b64[1]);
}

enum wg_err
state_attest_load(const struct server_config *cfg, unsigned services,
    struct attest_cas *out)
{
	char *trust = cfg->ek_trust_dir ? xstrdup(cfg->ek_trust_dir) :
	    xasprintf("%s/ek-trust", cfg->state_dir);
	char *dir = xasprintf("%s/aik", cfg->state_dir);
	enum wg_err rc = WG_OK;

	memset(out, 0, sizeof(*out));
	if ((services & (1u << WG_SVC_EKCERT)) != 0)
		rc = ekcert_load(cfg, trust, out);
	/* the token service checks the AIK certificates this CA issues */
	if (rc == WG_OK && (services & (1u << WG_SVC_AIK |
	    1u << WG_SVC_TOKEN)) != 0) {
		if ((rc = ca_pair(dir, "attestation", &out->aik_key,
		    &out->aik_cert, &out->aik_root)) == WG_OK)
			rc = aik_chain_encode(out);
		if (rc == WG_OK && cfg->ek_trust_dir == NULL)
			rc = ensure_dir(trust);
		if (rc == WG_OK && (out->ek_roots =
		    tpmcert_store_load_dir(trust, &out->ek_nroots)) == NULL) {
			wg_error("the TPM manufacturer roots in %s cannot be "
			    "read; see the line above", trust);
			rc = WG_E_CONFIG;
		} else if (rc == WG_OK && out->ek_nroots == 0) {
			wg_warn("no TPM manufacturer roots in %s: only EKs of "
			    "imported hardware hashes will be attested", trust);
		}
	}
	if (rc == WG_OK && (services & (1u << WG_SVC_DRS)) != 0)
		rc = service_ca_load(cfg, "drs", "device", &out->drs);
	if (rc == WG_OK && (services & (1u << WG_SVC_MDM)) != 0)
		rc = service_ca_load(cfg, "mdm", "MDM", &out->mdm);
	if (rc != WG_OK)
		state_attest_free(out);
	free(trust);
	free(dir);
	return rc;
}

void
state_attest_free(struct attest_cas *cas)
{
	EVP_PKEY_free(cas->ekcert_key);
	X509_free(cas->ekcert_cert);
	X509_free(cas->ekcert_root);
	EVP_PKEY_free(cas->aik_key);
	X509_free(cas->aik_cert);
	X509_free(cas->aik_root);
	X509_STORE_free(cas->ek_roots);
	free(cas->aik_chain_b64[0]);
	free(cas->aik_chain_b64[1]);
	free(cas->aik_p7);
	service_ca_free(&cas->drs);
	service_ca_free(&cas->mdm);
	memset(cas, 0, sizeof(*cas));
}

enum wg_err
state_token_load(const struct server_config *cfg, unsigned services,
    struct jose_signer **out)
{
	char *dir = xasprintf("%s/token", cfg->state_dir);
	char *kp = xasprintf("%s/signing.key", dir);
	EVP_PKEY *key = NULL;
	enum wg_err rc = WG_OK;

	*out = NULL;
	/* drs and mdm check the device tokens it signs */
	if ((services & (1u << WG_SVC_TOKEN | 1u << WG_SVC_DRS |
	    1u << WG_SVC_MDM)) == 0)
		goto done;
	if ((rc = ensure_dir(dir)) != WG_OK)
		goto done;
	if (exists(kp)) {
		key = x509_key_read(kp);
	} else {
		wg_info("first start: creating the token signing key in %s",
		    dir);
		if ((key = x509_key_new_p256()) != NULL &&
		    x509_key_write(kp, key) != WG_OK) {
			EVP_PKEY_free(key);
			key = NULL;
		}
	}
	rc = key != NULL ? jose_signer_new(key, out) : WG_E_TLS_SETUP;
	if (rc != WG_OK)
		wg_error("the token signing key %s cannot be used; see the "
		    "line above", kp);
done:
	EVP_PKEY_free(key);
	free(kp);
	free(dir);
	return rc;
}
