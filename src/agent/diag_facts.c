/*
 * The members of the diagnostics bundle that are made, not copied
 * (diag.h): the certificates' summary and the TPM's facts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "agent/diag.h"
#include "agent/tpm.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/tpmpub.h"
#include "crypto/x509.h"

#define CERTS_PER_FILE_MAX 32

/* An X509_NAME as RFC 2253 text; the caller frees it. */
static char *
name_text(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s;
	long n;

	if (b == NULL || X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) < 0) {
		BIO_free(b);
		return xstrdup("");
	}
	n = BIO_get_mem_data(b, &data);
	s = xmalloc((size_t)n + 1);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	return s;
}

/* An ASN1_TIME as RFC 3339 UTC ("" if it is not a time). */
static void
time_text(const ASN1_TIME *t, char out[32])
{
	struct tm tm;

	out[0] = '\0';
	if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The digest md of cert's DER, upper-case hex. */
static json_t *
thumbprint(X509 *cert, const EVP_MD *md)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned n = 0, i;

	if (X509_digest(cert, md, d, &n) != 1)
		return json_null();
	wg_hex(d, n, hex);
	for (i = 0; i < 2 * n; i++)
		if (hex[i] >= 'a' && hex[i] <= 'f')
			hex[i] = (char)(hex[i] - 'a' + 'A');
	return json_string(hex);
}

/* One certificate's summary. */
static json_t *
cert_json(const char *file, X509 *cert)
{
	char serial[128], nb[32], na[32];
	char *subject = name_text(X509_get_subject_name(cert));
	char *issuer = name_text(X509_get_issuer_name(cert));
	json_t *o;

	x509_serial_hex(cert, serial, sizeof(serial));
	time_text(X509_get0_notBefore(cert), nb);
	time_text(X509_get0_notAfter(cert), na);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "file",
	    file, "subject", subject, "issuer", issuer, "serial", serial,
	    "notBefore", nb, "notAfter", na, "sha1", thumbprint(cert,
	    EVP_sha1()), "sha256", thumbprint(cert, EVP_sha256()));
	free(subject);
	free(issuer);
	return o != NULL ? o : json_object();
}

/*
 * The PEM file dir/name (a regular file, not followed through a link, at
 * most DIAG_CERT_FILE_MAX bytes), xmalloc'd (the caller frees it), *len
 * its bytes; NULL with why.
 */
static char *
pem_read(const char *dir, const char *name, size_t *len, char *why,
    size_t whylen)
{
	char path[4096], *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		wg_say(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > DIAG_CERT_FILE_MAX)
		wg_say(why, whylen, "not a regular file of at most %d bytes",
		    DIAG_CERT_FILE_MAX);
	else {
		buf = xmalloc((size_t)st.st_size + 1);
		if ((n = read(fd, buf, (size_t)st.st_size)) < 0) {
			wg_say(why, whylen, "%s", strerror(errno));
			free(buf);
			buf = NULL;
		} else
			*len = (size_t)n;
	}
	close(fd);
	return buf;
}

/* Every certificate of one PEM file into certs. */
static void
certs_of_file(const char *dir, const char *name, json_t *certs,
    json_t *unreadable, json_t *keys)
{
	char why[256], *data;
	X509 *cert;
	size_t len = 0;
	BIO *b;
	int n = 0, key;

	if ((data = pem_read(dir, name, &len, why, sizeof(why))) == NULL) {
		json_array_append_new(unreadable, json_sprintf("%s: %s", name,
		    why));
		return;
	}
	if ((key = memmem(data, len, "PRIVATE KEY", 11) != NULL))
		json_array_append_new(keys, json_string(name));
	if ((b = BIO_new_mem_buf(data, (int)len)) == NULL)
		abort(); /* out of memory */
	/* PEM_read_bio_X509 passes over blocks that are not certificates */
	while (n < CERTS_PER_FILE_MAX && (cert = PEM_read_bio_X509(b, NULL,
	    NULL, NULL)) != NULL) {
		json_array_append_new(certs, cert_json(name, cert));
		X509_free(cert);
		n++;
	}
	ERR_clear_error(); /* the end of the file, or a bad block */
	if (n == 0 && !key) /* a key alone is said in the keys */
		json_array_append_new(unreadable, json_sprintf("%s: no PEM "
		    "certificate in it", name));
	BIO_free(b);
	OPENSSL_cleanse(data, len); /* it may have held a key */
	free(data);
}

json_t *
diag_certs(const char *state_dir, json_t *unreadable, json_t *keys)
{
	static const char *const pem[] = { ".crt", ".pem", ".cer", NULL };
	json_t *certs = json_array();
	char *names[DIAG_NAMES_MAX];
	size_t n, i;

	if (diag_list(state_dir, pem, names, &n) != 0)
		return certs; /* the manifest says the files are missing */
	for (i = 0; i < n; i++) {
		certs_of_file(state_dir, names[i], certs, unreadable, keys);
		free(names[i]);
	}
	return certs;
}

/* {"code", "name", "meaning"} of a catalog code. */
static json_t *
err_json(enum wg_err err)
{
	const struct wg_err_info *i = wg_err_info(err);
	char code[16];

	wg_err_code_str(err, code, sizeof(code));
	return json_pack("{s:s, s:s, s:s}", "code", code, "name", i->name,
	    "meaning", i->meaning != NULL ? i->meaning : "");
}

/* The EK certificates in NV: present or not, their size and SHA-256. */
static json_t *
tpm_ek_certs(struct tpm_ctx *tpm)
{
	json_t *o = json_object();
	unsigned char *der, d[32];
	char hex[65];
	enum wg_err err;
	size_t len;
	int alg;

	for (alg = 0; alg < TPM_EK_ALG_MAX; alg++) {
		err = tpm_ek_cert(tpm, (enum tpm_ek_alg)alg, &der, &len);
		if (err == WG_OK) {
			wg_sha256(der, len, d);
			wg_hex(d, sizeof(d), hex);
			json_object_set_new(o, tpm_ek_alg_name((enum tpm_ek_alg)
			    alg), json_pack("{s:b, s:I, s:s}", "present", 1,
			    "bytes", (json_int_t)len, "sha256", hex));
			free(der);
		} else
			json_object_set_new(o, tpm_ek_alg_name((enum tpm_ek_alg)
			    alg), json_pack("{s:b, s:o}", "present", 0,
			    err == WG_E_EK_CERT_MISSING ? "why" : "error",
			    err == WG_E_EK_CERT_MISSING ?
			    json_string("no certificate in NV") :
			    err_json(err)));
	}
	return o;
}

/* The algorithms and PCR banks into o. */
static void
tpm_caps_json(struct tpm_ctx *tpm, json_t *o)
{
	json_t *algs = json_array(), *banks = json_array();
	struct tpm_caps caps;
	enum wg_err err;
	char buf[8];
	size_t i;

	if ((err = tpm_caps_read(tpm, &caps)) != WG_OK) {
		json_object_set_new(o, "capabilitiesError", err_json(err));
		json_decref(algs);
		json_decref(banks);
		return;
	}
	for (i = 0; i < caps.nalgs; i++)
		json_array_append_new(algs, json_string(tpm_alg_name(
		    caps.algs[i], buf)));
	for (i = 0; i < caps.nbanks; i++)
		json_array_append_new(banks, json_pack("{s:s, s:i, s:b}",
		    "hash", tpm_alg_name(caps.banks[i].hash, buf), "pcrs",
		    (int)caps.banks[i].npcrs, "active", caps.banks[i].npcrs >
		    0));
	json_object_set_new(o, "algorithms", algs);
	json_object_set_new(o, "pcrBanks", banks);
}

/* The manufacturer, vendor, firmware and level into o. */
static void
tpm_info_json(struct tpm_ctx *tpm, json_t *o)
{
	struct tpm_info info;
	char mf[5], fw[32];
	enum wg_err err;

	if ((err = tpm_info_read(tpm, &info)) != WG_OK) {
		json_object_set_new(o, "infoError", err_json(err));
		return;
	}
	tpm_words_text(&info.manufacturer, 1, mf);
	snprintf(fw, sizeof(fw), "%u.%u.%u.%u",
	    (unsigned)(info.firmware >> 48), (unsigned)(info.firmware >> 32 &
	    0xffff), (unsigned)(info.firmware >> 16 & 0xffff),
	    (unsigned)(info.firmware & 0xffff));
	json_object_set_new(o, "manufacturer", json_string(mf));
	json_object_set_new(o, "manufacturerId", json_sprintf("0x%08x",
	    (unsigned)info.manufacturer));
	json_object_set_new(o, "vendor", json_string(info.vendor));
	json_object_set_new(o, "firmware", json_string(fw));
	json_object_set_new(o, "specLevel", json_integer(info.spec_level));
	json_object_set_new(o, "specRevision",
	    json_integer(info.spec_revision));
}

json_t *
diag_tpm(const char *tcti)
{
	const char *t = tcti != NULL ? tcti : tpm_tcti_default();
	json_t *o = json_pack("{s:s}", "tcti", t);
	struct tpm_ctx *tpm = NULL;
	struct tpm_clock clk;
	enum wg_err err;

	if (o == NULL) /* a TCTI that is not UTF-8: tpm_open() says so */
		o = json_pack("{s:s}", "tcti", "(not UTF-8)");
	if ((err = tpm_open(tcti, &tpm)) != WG_OK) {
		json_object_set_new(o, "error", err_json(err));
		return o;
	}
	tpm_info_json(tpm, o);
	json_object_set_new(o, "ekCertificates", tpm_ek_certs(tpm));
	tpm_caps_json(tpm, o);
	if ((err = tpm_clock_read(tpm, &clk)) != WG_OK)
		json_object_set_new(o, "clockError", err_json(err));
	else
		json_object_set_new(o, "clock", json_pack("{s:I, s:I, s:I, "
		    "s:I, s:b}", "clockMs", (json_int_t)clk.clock_ms, "timeMs",
		    (json_int_t)clk.time_ms, "resetCount",
		    (json_int_t)clk.reset_count, "restartCount",
		    (json_int_t)clk.restart_count, "safe", clk.safe));
	tpm_close(tpm);
	return o;
}
