/*
 * "Securing your hardware" on the device (attest.h): the EK and its
 * certificate, the AIK, the attestation CA's exchange with its tries,
 * the activation and the AIK certificate, with the trail file and the
 * tpm channel's events.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "agent/answer.h"
#include "agent/attest.h"
#include "agent/eventlog.h"
#include "agent/profile.h"
#include "agent/retry.h"
#include "agent/state.h"
#include "agent/sysinfo.h"
#include "common/event.h"
#include "common/httpc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/aesgcm.h"
#include "crypto/tpmcert.h"
#include "crypto/tpmpub.h"

struct attest {
	const struct attest_opts *o;
	struct attest_result *res;
	struct tpm_ctx *tpm;
	unsigned char *ek_raw, *ek_cert;
	size_t ek_raw_len, ek_cert_len;
	struct tpm_public ek, aik_pub;
	struct tpm_aik aik;
	struct wg_httpc *ca;
	struct enroll_answer answer; /* the enrollment's */
	unsigned try_no;
	char correlation_id[37]; /* the profile's, when it was acquired */
	char *why;
	size_t whylen;
};

/* One event of the tpm channel, with the try it belongs to. */
static void __attribute__((format(printf, 5, 6)))
event(struct attest *a, int id, enum wg_level level, enum wg_err err,
    const char *fmt, ...)
{
	char try_no[24] = "";
	va_list ap;

	if (a->try_no > 0)
		snprintf(try_no, sizeof(try_no), "%u/%u", a->try_no,
		    a->o->p.tries);
	va_start(ap, fmt);
	eventlog_vsay(a->o->p.state_dir, "tpm", id, level,
	    WG_PHASE_SECURING_HARDWARE, err, a->correlation_id[0] ?
	    a->correlation_id : NULL, a->try_no ? "try" : NULL, try_no, fmt,
	    ap);
	va_end(ap);
}

/* Appends one line to STATE/CertReq_enrollaik_Output.txt. */
static void __attribute__((format(printf, 2, 3)))
trail(struct attest *a, const char *fmt, ...)
{
	char *path = xasprintf("%s/%s", a->o->p.state_dir, ATTEST_TRAIL_FILE);
	char now[32], line[2048];
	va_list ap;
	int fd, n;

	wg_time_rfc3339(wg_now_ms(), now);
	n = snprintf(line, sizeof(line), "%s ", now);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strncat(line, "\n", sizeof(line) - strlen(line) - 1);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) < 0 || write(fd, line, strlen(line)) < 0)
		wg_warn("%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(path);
}

/* ---- the TPM side ---- */

static enum wg_err
ek_load(struct attest *a)
{
	char why[256];
	enum wg_err rc;

	if ((rc = tpm_open(a->o->p.tcti, &a->tpm)) != WG_OK ||
	    (rc = tpm_ek_public(a->tpm, a->o->p.ek_alg, &a->ek_raw,
	    &a->ek_raw_len)) != WG_OK)
		return WG_FAIL(a, rc, "the TPM's EK could not be read");
	if (tpm_public_parse(a->ek_raw, a->ek_raw_len, &a->ek, why,
	    sizeof(why)) != WG_OK)
		return WG_FAIL(a, WG_E_TPM_ERROR, "the TPM's EK: %s", why);
	return WG_OK;
}

/* The AIK of an earlier run, else a new one kept in the state dir. */
static enum wg_err
aik_load(struct attest *a)
{
	return agent_aik_load(a->tpm, a->o->p.state_dir, &a->aik, &a->aik_pub,
	    a->why, a->whylen);
}

/* ---- the EK certificate ---- */

/* A pinned-roots check of a certificate fetched from the network. */
static int
ek_cert_pinned(struct attest *a, const unsigned char *der, size_t len)
{
	struct tpmcert_tpm tpm;
	X509_STORE *roots;
	char why[256] = "";
	size_t n = 0;
	int ok;

	if (a->o->ek_roots == NULL ||
	    (roots = tpmcert_store_load_dir(a->o->ek_roots, &n)) == NULL) {
		event(a, ATTEST_EVT_EK_CERT_MISSING, WG_LEVEL_WARNING,
		    WG_E_EK_CERT_UNTRUSTED, "no pinned manufacturer roots "
		    "(--ek-roots) to check the fetched EK certificate with");
		return 0;
	}
	ok = tpmcert_verify_ek(der, len, &a->ek, roots, NULL, &tpm, why,
	    sizeof(why)) == WG_OK;
	X509_STORE_free(roots);
	if (!ok)
		event(a, ATTEST_EVT_EK_CERT_MISSING, WG_LEVEL_ERROR,
		    WG_E_EK_CERT_UNTRUSTED, "the EK certificate from %s fails "
		    "the pinned manufacturer roots: %s", a->o->ekcert_url, why);
	return ok;
}

/* GET <ekcert_url>/<id>=: Intel's {"pubhash", "certificate"}. */
static void
ek_cert_fetch(struct attest *a)
{
	struct wg_httpc_opts ho = {.base_url = a->o->ekcert_url,
	    .ca_file = a->o->p.ca_file, .timeout_ms = a->o->p.timeout_ms,
	    .max_body = 4 * TPMCERT_DER_MAX};
	struct wg_httpc_resp resp = {0};
	struct wg_httpc *c = NULL;
	char id[44], *path, why[256] = "";
	unsigned char *der = NULL;
	enum wg_err rc;
	size_t n = 0;

	tpm_public_ek_lookup_id(&a->ek, id);
	path = xasprintf("/%s%%3D", id);
	if ((rc = wg_httpc_new(&ho, &c, why, sizeof(why))) == WG_OK &&
	    (rc = wg_httpc_json(c, "GET", path, NULL, NULL, &resp)) == WG_OK)
		trail(a, "GET %s%s -> HTTP %ld", a->o->ekcert_url, path,
		    resp.status);
	else
		trail(a, "GET %s%s -> %s: %s", a->o->ekcert_url, path,
		    wg_err_name(rc), why[0] ? why : resp.detail);
	if (rc == WG_OK && resp.status == 200 && (rc = ekcert_answer_parse(
	    resp.body, resp.body_len, &der, &n, why, sizeof(why))) == WG_OK &&
	    ek_cert_pinned(a, der, n)) {
		a->ek_cert = der;
		a->ek_cert_len = n;
		der = NULL;
		snprintf(a->res->ek_cert_source,
		    sizeof(a->res->ek_cert_source), "ekcert");
	} else if (rc != WG_OK || resp.status != 200) {
		if (rc == WG_E_NET_PROTOCOL)
			trail(a, "GET %s%s: %s", a->o->ekcert_url, path, why);
		event(a, ATTEST_EVT_EK_CERT_MISSING, WG_LEVEL_WARNING,
		    rc != WG_OK ? rc : WG_E_EK_CERT_MISSING, "the EK "
		    "certificate service %s gave no certificate (%s); the "
		    "attestation CA must know the EK from an imported hash",
		    a->o->ekcert_url, rc != WG_OK ? (why[0] ? why :
		    resp.detail) : "HTTP error");
	}
	free(der);
	free(path);
	wg_httpc_resp_free(&resp);
	wg_httpc_free(c);
}

/* The EK certificate: NV (a discrete TPM), else the manufacturer's. */
static enum wg_err
ek_cert_get(struct attest *a)
{
	enum wg_err rc;

	snprintf(a->res->ek_cert_source, sizeof(a->res->ek_cert_source),
	    "none");
	rc = tpm_ek_cert(a->tpm, a->o->p.ek_alg, &a->ek_cert, &a->ek_cert_len);
	if (rc == WG_OK) {
		snprintf(a->res->ek_cert_source,
		    sizeof(a->res->ek_cert_source), "nv");
	} else if (rc != WG_E_EK_CERT_MISSING && rc != WG_E_EK_CERT_INVALID) {
		return WG_FAIL(a, rc, "the EK certificate in NV could not be "
		    "read");
	} else {
		if (rc == WG_E_EK_CERT_INVALID)
			event(a, ATTEST_EVT_EK_CERT_MISSING, WG_LEVEL_WARNING,
			    rc, "the EK certificate in NV is not one DER "
			    "certificate; it is not used");
		if (a->o->ekcert_url != NULL)
			ek_cert_fetch(a);
	}
	event(a, ATTEST_EVT_EK_CERT, WG_LEVEL_INFO, WG_OK, "EK certificate: "
	    "%s", strcmp(a->res->ek_cert_source, "nv") == 0 ? "read from the "
	    "TPM's NV" : strcmp(a->res->ek_cert_source, "ekcert") == 0 ?
	    "fetched from the manufacturer's service" : "none");
	return WG_OK;
}

/* ---- the attestation CA ---- */

/* The device-side code of a failed exchange (0x80190190 for a 400...). */
static enum wg_err
try_error(enum wg_err rc, const struct wg_httpc_resp *resp,
    struct wg_httpc_error *e)
{
	memset(e, 0, sizeof(*e));
	if (rc == WG_E_NET_TIMEOUT)
		return WG_E_TIMEOUT;
	if (rc != WG_OK)
		return rc;
	wg_httpc_resp_error(resp, e);
	if (resp->status == 400)
		return WG_E_HTTP_BAD_REQUEST;
	if (resp->status == 404)
		return WG_E_HTTP_NOT_FOUND;
	return e->err;
}

/*
 * One call to the CA: on a 2xx answer WG_OK and *resp; else the try's
 * code, written to the trail, the event log and a->why.
 */
static enum wg_err
ca_call(struct attest *a, const char *method, const char *path,
    const char *const *query, const json_t *body, int event_id,
    struct wg_httpc_resp *resp, int *retry)
{
	struct wg_httpc_error e;
	char url[512], code[16];
	enum wg_err rc, err;

	snprintf(url, sizeof(url), "%s%s%s%s", a->o->p.server, path,
	    query ? "?operation=" : "", query ? query[1] : "");
	rc = wg_httpc_json(a->ca, method, path, query, body, resp);
	*retry = agent_retryable(rc, resp->status);
	if (rc == WG_OK && resp->status >= 200 && resp->status < 300) {
		trail(a, "try %u/%u %s %s -> HTTP %ld", a->try_no,
		    a->o->p.tries, method, url, resp->status);
		return WG_OK;
	}
	err = try_error(rc, resp, &e);
	if (rc != WG_OK)
		WG_FAIL(a, err, "%s %s: %s", method, url, resp->detail);
	else
		WG_FAIL(a, err, "%s %s: HTTP %ld %s %s: %s", method, url,
		    resp->status, e.code, e.name, e.message);
	wg_err_code_str(err, code, sizeof(code));
	trail(a, "try %u/%u %s [%s %s]", a->try_no, a->o->p.tries, a->why, code,
	    wg_err_name(err));
	event(a, event_id, WG_LEVEL_ERROR, err, "%s", a->why);
	return err;
}

/* The certificates of a GetCACert answer (one DER, or certs-only PKCS#7). */
static enum wg_err
ca_chain_parse(struct attest *a, const struct wg_httpc_resp *resp)
{
	const unsigned char *p = (const unsigned char *)resp->body;
	PKCS7 *p7 = NULL;
	X509 *one = NULL;
	int ok;

	if (resp->body == NULL || resp->body_len == 0 ||
	    resp->body_len > ANSWER_BODY_MAX)
		return WG_FAIL(a, WG_E_NET_PROTOCOL, "GetCACert: empty answer");
	if (strncmp(resp->content_type, "application/x-x509-ca-cert", 26) ==
	    0)
		ok = (one = d2i_X509(NULL, &p, (long)resp->body_len)) != NULL;
	else
		ok = (p7 = d2i_PKCS7(NULL, &p, (long)resp->body_len)) != NULL &&
		    PKCS7_type_is_signed(p7) && p7->d.sign->cert != NULL &&
		    sk_X509_num(p7->d.sign->cert) > 0;
	ok = ok && p == (const unsigned char *)resp->body + resp->body_len;
	ERR_clear_error();
	X509_free(one);
	PKCS7_free(p7);
	if (!ok)
		return WG_FAIL(a, WG_E_NET_PROTOCOL, "GetCACert: the answer (%s) "
		    "is not a certificate or a certs-only PKCS#7",
		    resp->content_type);
	return WG_OK;
}

/* One try: GetCACaps, GetCACert, enroll.  *retry: worth another try. */
static enum wg_err
ca_try(struct attest *a, int *retry)
{
	static const char *const caps[] = {"operation", "GetCACaps", NULL};
	static const char *const cert[] = {"operation", "GetCACert", NULL};
	struct wg_httpc_resp resp = {0};
	char *ek = NULL, *aik = NULL, *ekc = NULL, why[256];
	json_t *body = NULL;
	enum wg_err rc;

	if ((rc = ca_call(a, "GET", "/aik/scep", caps, NULL,
	    ATTEST_EVT_GETCACAPS_FAILED, &resp, retry)) != WG_OK ||
	    (rc = ca_call(a, "GET", "/aik/scep", cert, NULL,
	    ATTEST_EVT_TRY_FAILED, &resp, retry)) != WG_OK)
		goto done;
	if ((rc = ca_chain_parse(a, &resp)) != WG_OK) {
		*retry = 1;
		goto done;
	}
	ek = wg_b64(a->ek_raw, a->ek_raw_len);
	aik = wg_b64(a->aik.pub, a->aik.pub_len);
	ekc = a->ek_cert ? wg_b64(a->ek_cert, a->ek_cert_len) : NULL;
	body = json_pack("{s:s, s:s, s:s, s:s?}", "ekPublic", ek,
	    "aikPublic", aik, "serialNumber", a->o->p.serial, "ekCertificate",
	    ekc);
	if ((rc = ca_call(a, "POST", "/aik/enroll", NULL, body,
	    ATTEST_EVT_TRY_FAILED, &resp, retry)) != WG_OK)
		goto done;
	enroll_answer_free(&a->answer);
	if (enroll_answer_parse(resp.body, resp.body_len, &a->answer, why,
	    sizeof(why)) != WG_OK) {
		*retry = 1;
		rc = WG_FAIL(a, WG_E_NET_PROTOCOL, "POST /aik/enroll: the answer: "
		    "%s", why);
	}
done:
	json_decref(body);
	free(ek);
	free(aik);
	free(ekc);
	wg_httpc_resp_free(&resp);
	return rc;
}

/* The CA exchange with its tries. */
static enum wg_err
ca_exchange(struct attest *a)
{
	struct wg_httpc_opts ho = {.base_url = a->o->p.server,
	    .ca_file = a->o->p.ca_file, .timeout_ms = a->o->p.timeout_ms,
	    .max_body = ANSWER_BODY_MAX};
	enum wg_err rc = WG_OK;
	char why[256] = "";
	int retry = 1;

	if (wg_httpc_new(&ho, &a->ca, why, sizeof(why)) != WG_OK)
		return WG_FAIL(a, WG_E_CONFIG, "--server: %s", why);
	for (a->try_no = 1; a->try_no <= a->o->p.tries && retry; a->try_no++) {
		if (a->try_no > 1)
			agent_backoff(a->o->p.backoff_ms, a->try_no);
		if ((rc = ca_try(a, &retry)) == WG_OK)
			break;
	}
	a->res->tries = a->try_no > a->o->p.tries ? a->o->p.tries : a->try_no;
	a->try_no = 0;
	if (rc != WG_OK && retry) {
		snprintf(why, sizeof(why), "%s", a->why);
		return WG_FAIL(a, WG_E_TPM_ATTESTATION_RETRIES_EXHAUSTED,
		    "%u tries failed; the last: %s", a->o->p.tries, why);
	}
	return rc;
}

/* ---- activation and the AIK certificate ---- */

/* Opens the credential in the TPM and the AIK certificate with it. */
static enum wg_err
activate(struct attest *a, unsigned char **der, size_t *len)
{
	const struct enroll_answer *an = &a->answer;
	unsigned char key[64];
	size_t key_len = 0;
	enum wg_err rc;

	*der = NULL;
	if ((rc = tpm_activate_credential(a->tpm, a->o->p.ek_alg, &a->aik,
	    an->blob, an->blob_len, an->secret, an->secret_len, key,
	    &key_len)) != WG_OK) {
		WG_FAIL(a, rc, "the TPM did not open the attestation CA's "
		    "credential%s", rc == WG_E_TPM_ACTIVATION ? " (if the TPM "
		    "was cleared since the AIK was made, delete aik.pub and "
		    "aik.priv in the state directory: the next run makes a new "
		    "one)" : "");
	} else if (key_len != 32 || aesgcm_open(key, an->sealed,
	    an->sealed_len, der, len) != WG_OK) {
		rc = WG_FAIL(a, WG_E_AIK_CERT_INVALID, "the AIK certificate does "
		    "not decrypt with the activated secret");
	}
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* Checks the AIK certificate against the pinned CA root; stores both. */
static enum wg_err
aik_cert_store(struct attest *a, const unsigned char *der, size_t len)
{
	X509_STORE *roots = X509_STORE_new();
	BIO *pem = BIO_new(BIO_s_mem()), *leaf = BIO_new(BIO_s_mem());
	enum tpmcert_assurance how;
	char why[256] = "", *text;
	enum wg_err rc;
	long n;
	int i, ok;

	if (roots == NULL || pem == NULL || leaf == NULL ||
	    X509_STORE_load_file(roots, a->o->aik_root) != 1) {
		rc = WG_FAIL(a, WG_E_CONFIG, "--aik-root %s: not a readable PEM "
		    "certificate", a->o->aik_root);
		goto done;
	}
	if ((rc = tpmcert_verify_aik(der, len, &a->aik_pub, roots,
	    a->answer.chain, &how, why, sizeof(why))) != WG_OK) {
		WG_FAIL(a, rc, "the AIK certificate: %s", why);
		goto done;
	}
	a->res->assurance_cert = how == TPMCERT_EK_CERT;
	ok = PEM_write_bio(leaf, PEM_STRING_X509, "", der, (long)len);
	for (i = 0; ok && i < sk_X509_num(a->answer.chain); i++)
		ok = PEM_write_bio_X509(pem, sk_X509_value(a->answer.chain,
		    i));
	if (!ok) {
		rc = WG_FAIL(a, WG_E_CRYPTO, "the AIK certificate cannot be "
		    "written as PEM");
		goto done;
	}
	n = BIO_get_mem_data(leaf, &text);
	if ((rc = agent_state_write(a->o->p.state_dir, "aik.crt", text,
	    (size_t)n, a->why, a->whylen)) != WG_OK)
		goto done;
	n = BIO_get_mem_data(pem, &text);
	rc = agent_state_write(a->o->p.state_dir, "aik-ca.pem", text,
	    (size_t)n, a->why, a->whylen);
done:
	BIO_free(pem);
	BIO_free(leaf);
	X509_STORE_free(roots);
	return rc;
}

static enum wg_err
attest_steps(struct attest *a)
{
	unsigned char *der = NULL;
	enum wg_err rc;
	size_t len = 0;

	if ((rc = ek_load(a)) == WG_OK && (rc = ek_cert_get(a)) == WG_OK &&
	    (rc = aik_load(a)) == WG_OK && (rc = ca_exchange(a)) == WG_OK &&
	    (rc = activate(a, &der, &len)) == WG_OK)
		rc = aik_cert_store(a, der, len);
	free(der);
	return rc;
}

enum wg_err
attest_run(const struct attest_opts *o, struct attest_result *res,
    char *why, size_t whylen)
{
	struct attest a = {.o = o, .res = res, .why = why, .whylen = whylen};
	struct profile_file pf;
	char pwhy[256];
	enum wg_err rc;

	memset(res, 0, sizeof(*res));
	why[0] = '\0';
	if ((rc = agent_state_dir(o->p.state_dir, why, whylen)) != WG_OK)
		return rc;
	/* the events carry the profile's ZtdCorrelationId, as Windows' do */
	if (profile_file_read(o->p.state_dir, &pf, pwhy, sizeof(pwhy)) ==
	    WG_OK)
		memcpy(a.correlation_id, pf.correlation_id,
		    sizeof(a.correlation_id));
	trail(&a, "attestation started: CA %s, EK %s", o->p.server,
	    tpm_ek_alg_name(o->p.ek_alg));
	event(&a, ATTEST_EVT_STARTED, WG_LEVEL_INFO, WG_OK, "TPM attestation "
	    "started (attestation CA %s)", o->p.server);
	rc = attest_steps(&a);
	rc = agent_phase_code(rc, why, whylen);
	if (rc == WG_OK)
		event(&a, ATTEST_EVT_DONE, WG_LEVEL_INFO, WG_OK, "AIK "
		    "certificate installed (%s, %u %s)", res->assurance_cert ?
		    "EK certificate verified" : "EK on the imported list",
		    res->tries, res->tries == 1 ? "try" : "tries");
	else
		event(&a, ATTEST_EVT_FAILED, WG_LEVEL_ERROR, rc, "TPM "
		    "attestation failed: %s", why);
	trail(&a, "attestation %s%s", rc == WG_OK ? "succeeded" : "failed: ",
	    rc == WG_OK ? "" : wg_err_name(rc));
	enroll_answer_free(&a.answer);
	wg_httpc_free(a.ca);
	free(a.ek_raw);
	free(a.ek_cert);
	OPENSSL_cleanse(&a.aik, sizeof(a.aik));
	tpm_close(a.tpm);
	return rc;
}

/* ---- the options attest and provision share (attest.h) ---- */

void
attest_usage_options(FILE *f)
{
	fprintf(f, "  --aik-root FILE    the attestation CA's root certificate "
	    "(PEM) the AIK\n"
	    "                     certificate must chain to\n"
	    "  --ekcert-url URL   the TPM manufacturer's EK certificate "
	    "service, e.g.\n"
	    "                     https://host:8443/ekcertservice (firmware "
	    "TPMs)\n"
	    "  --ek-roots DIR     pinned manufacturer roots for a fetched EK "
	    "certificate\n");
}

int
attest_option_apply(struct attest_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case ATTEST_OPT_EKCERT: o->ekcert_url = arg; return 0;
	case ATTEST_OPT_EK_ROOTS: o->ek_roots = arg; return 0;
	case ATTEST_OPT_AIK_ROOT: o->aik_root = arg; return 0;
	}
	return 1;
}

char *
attest_firmware_serial(void)
{
	struct sysinfo *si = NULL;
	char *s = NULL;

	if (sysinfo_collect(NULL, &si) == WG_OK && si->serial != NULL)
		s = xstrdup(si->serial);
	sysinfo_free(si);
	return s;
}
