/*
 * "Joining your organization's network" on the device (join.h): the
 * requests in their order, each tried as the other phases try theirs
 * (retry.h), the TPM's part through tpm.h, and the answer checked before
 * anything is stored.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "agent/answer.h"
#include "agent/csr.h"
#include "agent/eventlog.h"
#include "agent/join.h"
#include "agent/profile.h"
#include "agent/retry.h"
#include "agent/state.h"
#include "common/event.h"
#include "common/httpc.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/tpmpub.h"
#include "crypto/x509.h"

/* The device token's grant_type, form-encoded (RFC 6749, appendix B). */
#define GRANT_TPM_QUOTE \
	"urn%3Awhiteglove%3Aparams%3Aoauth%3Agrant-type%3Atpm-quote"
#define FORM_TYPE "application/x-www-form-urlencoded"
#define JSON_TYPE "application/json"

/* A key certified by the AIK: the TPMS_ATTEST and its TPMT_SIGNATURE. */
struct certified {
	unsigned char *info, *sig;
	size_t info_len, sig_len;
};

struct join {
	const struct agent_phase_opts *o;
	struct join_result *res;
	struct tpm_ctx *tpm;
	struct wg_httpc *http;
	struct profile_file profile;
	struct tpm_aik aik, dk, tk;
	struct tpm_public aik_pub, dk_pub, tk_pub;
	unsigned char *aik_cert; /* DER */
	size_t aik_cert_len;
	char token_path[ANSWER_ENDPOINT_MAX + 1];
	char join_path[ANSWER_ENDPOINT_MAX + 1];
	char *token; /* the device token: a secret */
	unsigned char *csr;
	size_t csr_len;
	struct join_answer answer;
	int joining; /* 1 once the join request was made */
	char *why;
	size_t whylen;
};

typedef enum wg_err (*join_try_fn)(struct join *, int *);

/* One event of the registration channel, with the profile's id. */
static void __attribute__((format(printf, 5, 6)))
event(struct join *j, int id, enum wg_level level, enum wg_err err,
    const char *fmt, ...)
{
	const char *corr = j->res->correlation_id;
	va_list ap;

	va_start(ap, fmt);
	eventlog_vsay(j->o->state_dir, "registration", id, level,
	    WG_PHASE_JOINING, err, corr[0] ? corr : NULL, NULL, NULL, fmt, ap);
	va_end(ap);
}

/* ---- what the earlier steps left ---- */

/* The AIK certificate's DER, if it certifies the AIK of aik.pub. */
static enum wg_err
aik_cert_load(struct join *j)
{
	char *path = xasprintf("%s/aik.crt", j->o->state_dir);
	X509 *cert = x509_cert_read(path);
	EVP_PKEY *key = NULL;
	unsigned char *p;
	int n = 0, ok;

	free(path);
	if (cert == NULL)
		return WG_FAIL(j, WG_E_AIK_CERT_INVALID, "no AIK certificate in "
		    "%s/aik.crt: secure the hardware first (whiteglove-agent "
		    "attest)", j->o->state_dir);
	ok = (key = tpm_public_to_pkey(&j->aik_pub)) != NULL &&
	    EVP_PKEY_eq(key, X509_get0_pubkey(cert)) == 1 &&
	    (n = i2d_X509(cert, NULL)) > 0;
	if (ok) {
		j->aik_cert = p = xmalloc((size_t)n);
		j->aik_cert_len = (size_t)i2d_X509(cert, &p);
	}
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(cert);
	if (!ok)
		return WG_FAIL(j, WG_E_AIK_CERT_INVALID, "%s/aik.crt does not "
		    "certify the AIK of aik.pub: secure the hardware again "
		    "(whiteglove-agent attest)", j->o->state_dir);
	return WG_OK;
}

/* The profile, the TPM, the AIK and its certificate. */
static enum wg_err
inputs(struct join *j)
{
	struct profile_file *p = &j->profile;
	enum wg_err rc;

	if ((rc = profile_file_read(j->o->state_dir, p, j->why, j->whylen)) !=
	    WG_OK)
		return rc;
	memcpy(j->res->correlation_id, p->correlation_id,
	    sizeof(p->correlation_id));
	memcpy(j->res->tenant, p->tenant, sizeof(p->tenant));
	if ((rc = tpm_open(j->o->tcti, &j->tpm)) != WG_OK)
		return WG_FAIL(j, rc, "the TPM cannot be opened (%s)",
		    j->o->tcti ? j->o->tcti : tpm_tcti_default());
	if ((rc = agent_aik_load(j->tpm, j->o->state_dir, &j->aik,
	    &j->aik_pub, j->why, j->whylen)) != WG_OK)
		return rc;
	return aik_cert_load(j);
}

/* ---- the exchanges ---- */

/*
 * One exchange on --server: WG_OK on a 200, with *resp; else the code,
 * j->why and *retry, whether another try may do better (the network,
 * the server's trouble, a 404 no service named).  A refusal, which ends
 * the tries, is event 204 with the server's code and message.
 */
static enum wg_err
call(struct join *j, const char *method, const char *path, const char *type,
    const char *body, struct wg_httpc_resp *resp, int *retry)
{
	static const struct wg_httpc_header accept = { "Accept", JSON_TYPE };
	const struct wg_httpc_req req = { .method = method, .path = path,
	    .headers = &accept, .nheaders = 1, .content_type = type,
	    .body = body, .body_len = body != NULL ? strlen(body) : 0 };
	const struct wg_err_info *info;
	struct wg_httpc_error e;
	enum wg_err rc;

	*retry = 1;
	if ((rc = wg_httpc_do(j->http, &req, resp)) != WG_OK)
		return WG_FAIL(j, rc == WG_E_NET_TIMEOUT ? WG_E_TIMEOUT : rc,
		    "%s %s%s: %s", method, j->o->server, path, resp->detail);
	if (resp->status == 200) {
		*retry = 0;
		return WG_OK;
	}
	wg_httpc_resp_error(resp, &e);
	info = wg_err_info(e.err);
	*retry = agent_retryable(WG_OK, resp->status) &&
	    !(resp->status == 404 && info != NULL &&
	    info->phase != WG_PHASE_NONE);
	rc = WG_FAIL(j, e.err, "%s %s%s: HTTP %ld %s %s: %s", method,
	    j->o->server, path, resp->status, e.code, e.name, e.message);
	if (!*retry)
		event(j, JOIN_EVT_REFUSED, WG_LEVEL_ERROR, e.err, "%s", j->why);
	return rc;
}

/*
 * one() up to --tries times with the back-off; a failed try to be made
 * again is a warning.  *count (if not NULL): the tries made.
 */
static enum wg_err
tries(struct join *j, join_try_fn one, unsigned *count)
{
	enum wg_err rc = WG_OK;
	char last[512];
	unsigned n;
	int retry = 1;

	for (n = 1; n <= j->o->tries && retry; n++) {
		if (n > 1)
			agent_backoff(j->o->backoff_ms, n);
		if ((rc = one(j, &retry)) == WG_OK)
			break;
		if (retry && n < j->o->tries)
			event(j, j->joining ? JOIN_EVT_FAILED :
			    JOIN_EVT_PREPARE_FAILED, WG_LEVEL_WARNING, rc,
			    "try %u/%u: %s", n, j->o->tries, j->why);
	}
	if (count != NULL)
		*count = n > j->o->tries ? j->o->tries : n;
	if (rc != WG_OK && retry) {
		snprintf(last, sizeof(last), "%s", j->why);
		return WG_FAIL(j, rc, "%u tries failed; the last: %s",
		    j->o->tries, last);
	}
	return rc;
}

/* An endpoint of the discovery document as a path on --server. */
static enum wg_err
endpoint_path(struct join *j, const char *what, const char *ep, char *out,
    size_t size)
{
	const char *server = j->o->server;
	size_t n = strlen(server);

	while (n > 0 && server[n - 1] == '/')
		n--;
	if (ep[0] != '/') {
		/* the token goes only where --server (and --ca) point */
		if (strncmp(ep, server, n) != 0 || ep[n] != '/')
			return WG_FAIL(j, WG_E_NET_PROTOCOL, "the discovery "
			    "document's %s %s is not on %s", what, ep, server);
		ep += n;
	}
	snprintf(out, size, "%s", ep);
	return WG_OK;
}

/* GET /{tenant id}/Discover: the registration and token endpoints. */
static enum wg_err
discover_once(struct join *j, int *retry)
{
	struct wg_httpc_resp resp = { 0 };
	struct discovery_answer d;
	char path[64], why[256];
	enum wg_err rc;

	snprintf(path, sizeof(path), "/%s/Discover", j->profile.tenant_id);
	if ((rc = call(j, "GET", path, NULL, NULL, &resp, retry)) != WG_OK)
		goto done;
	if (discovery_answer_parse(resp.body, resp.body_len, &d, why,
	    sizeof(why)) != WG_OK) {
		rc = WG_FAIL(j, WG_E_NET_PROTOCOL, "GET %s: the answer: %s",
		    path, why);
		*retry = 1;
	} else if ((rc = endpoint_path(j, "RegistrationEndpoint",
	    d.registration, j->join_path, sizeof(j->join_path))) != WG_OK ||
	    (rc = endpoint_path(j, "TokenEndpoint", d.token, j->token_path,
	    sizeof(j->token_path))) != WG_OK) {
		*retry = 0;
	}
done:
	wg_httpc_resp_free(&resp);
	return rc;
}

/* POST {TokenEndpoint} grant_type=srv_challenge: a fresh nonce. */
static enum wg_err
nonce_get(struct join *j, struct nonce_answer *n, int *retry)
{
	struct wg_httpc_resp resp = { 0 };
	char why[256];
	enum wg_err rc;

	if ((rc = call(j, "POST", j->token_path, FORM_TYPE,
	    "grant_type=srv_challenge", &resp, retry)) == WG_OK &&
	    nonce_answer_parse(resp.body, resp.body_len, n, why,
	    sizeof(why)) != WG_OK) {
		rc = WG_FAIL(j, WG_E_NET_PROTOCOL, "POST %s (srv_challenge): "
		    "the answer: %s", j->token_path, why);
		*retry = 1;
	}
	wg_httpc_resp_free(&resp);
	return rc;
}

/* The device token form: the AIK's quote of the nonce, base64url. */
static char *
token_form(struct join *j, const struct nonce_answer *n,
    const unsigned char *quote, size_t qlen, const unsigned char *sig,
    size_t slen)
{
	char *aik = wg_b64url(j->aik.pub, j->aik.pub_len);
	char *cert = wg_b64url(j->aik_cert, j->aik_cert_len);
	char *q = wg_b64url(quote, qlen), *s = wg_b64url(sig, slen), *form;

	form = xasprintf("grant_type=%s&nonce=%s&aik_public=%s&"
	    "aik_certificate=%s&quote=%s&signature=%s", GRANT_TPM_QUOTE,
	    n->text, aik, cert, q, s);
	free(aik);
	free(cert);
	free(q);
	free(s);
	return form;
}

/* A nonce, the AIK's quote of it, and the device token for the quote. */
static enum wg_err
token_once(struct join *j, int *retry)
{
	struct wg_httpc_resp resp = { 0 };
	struct nonce_answer n;
	unsigned char *quote = NULL, *sig = NULL;
	size_t qlen = 0, slen = 0;
	char *form, why[256];
	enum wg_err rc;

	if ((rc = nonce_get(j, &n, retry)) != WG_OK)
		return rc;
	if ((rc = tpm_quote(j->tpm, &j->aik, n.bytes, n.len, &quote, &qlen,
	    &sig, &slen)) != WG_OK) {
		*retry = 0;
		return WG_FAIL(j, rc, "the TPM did not quote the token "
		    "service's nonce with the AIK");
	}
	form = token_form(j, &n, quote, qlen, sig, slen);
	if ((rc = call(j, "POST", j->token_path, FORM_TYPE, form, &resp,
	    retry)) == WG_OK && token_answer_parse(resp.body,
	    resp.body_len, &j->token, why, sizeof(why)) != WG_OK) {
		rc = WG_FAIL(j, WG_E_NET_PROTOCOL, "POST %s (device token): "
		    "the answer: %s", j->token_path, why);
		*retry = 1;
	}
	free(form);
	free(quote);
	free(sig);
	wg_httpc_resp_free(&resp);
	return rc;
}

/* ---- the keys and the request ---- */

/* The DK and TK of an earlier run, else new ones; the CSR for the DK. */
static enum wg_err
keys_and_csr(struct join *j)
{
	enum wg_err rc;

	if ((rc = agent_key_load(j->tpm, j->o->state_dir, TPM_KEY_DEVICE,
	    &j->dk, &j->dk_pub, j->why, j->whylen)) != WG_OK ||
	    (rc = agent_key_load(j->tpm, j->o->state_dir, TPM_KEY_TRANSPORT,
	    &j->tk, &j->tk_pub, j->why, j->whylen)) != WG_OK)
		return rc;
	return csr_make(j->tpm, &j->dk, j->profile.ztd_id, &j->csr,
	    &j->csr_len, j->why, j->whylen);
}

static void
certified_free(struct certified *c)
{
	free(c->info);
	free(c->sig);
	memset(c, 0, sizeof(*c));
}

/* TPM2_Certify of the DK and of the TK by the AIK, with the nonce. */
static enum wg_err
certify(struct join *j, const struct nonce_answer *n, struct certified *dk,
    struct certified *tk)
{
	enum wg_err rc;

	if ((rc = tpm_certify(j->tpm, &j->aik, &j->dk, n->bytes, n->len,
	    &dk->info, &dk->info_len, &dk->sig, &dk->sig_len)) != WG_OK)
		return WG_FAIL(j, rc, "the TPM did not certify the DK with the "
		    "AIK");
	if ((rc = tpm_certify(j->tpm, &j->aik, &j->tk, n->bytes, n->len,
	    &tk->info, &tk->info_len, &tk->sig, &tk->sig_len)) != WG_OK)
		return WG_FAIL(j, rc, "the TPM did not certify the TK with the "
		    "AIK");
	return WG_OK;
}

/*
 * The device's OS as a person reads it: os-release(5)'s PRETTY_NAME
 * (else "Linux") and the kernel's release, cut to JOIN_OS_VERSION_MAX
 * bytes on a character boundary.
 */
static void
os_version(char out[JOIN_OS_VERSION_MAX + 1])
{
	char buf[4096], name[256] = "Linux", full[512], *line, *end, *v;
	struct utsname u;
	size_t len = 0, n;
	FILE *f;

	if ((f = fopen("/etc/os-release", "r")) != NULL ||
	    (f = fopen("/usr/lib/os-release", "r")) != NULL) {
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[len] = '\0';
	for (line = buf; line != NULL && *line != '\0'; line = end) {
		if ((end = strchr(line, '\n')) != NULL)
			*end++ = '\0';
		if (strncmp(line, "PRETTY_NAME=", 12) != 0)
			continue;
		v = line + 12;
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
		}
		if (*v != '\0' && strlen(v) < sizeof(name) &&
		    wg_str_printable(v))
			memcpy(name, v, strlen(v) + 1);
	}
	snprintf(full, sizeof(full), "%s", name);
	if (uname(&u) == 0 && wg_str_printable(u.release))
		snprintf(full + strlen(full), sizeof(full) - strlen(full),
		    " %s", u.release);
	n = strlen(full) > JOIN_OS_VERSION_MAX ? JOIN_OS_VERSION_MAX :
	    strlen(full);
	while (n > 0 && ((unsigned char)full[n] & 0xC0) == 0x80)
		n--; /* full[n] continues a character: cut before it */
	memcpy(out, full, n);
	out[n] = '\0';
}

/* Standard base64 of n bytes as a new JSON string. */
static json_t *
b64_json(const void *p, size_t n)
{
	char *text = wg_b64(p, n);
	json_t *v = json_string(text);

	free(text);
	if (v == NULL)
		abort(); /* out of memory */
	return v;
}

/* The join request (MS-DVRJ's field names; docs/api.md). */
static char *
join_body(struct join *j, const struct nonce_answer *n,
    const struct certified *dk, const struct certified *tk)
{
	char os[JOIN_OS_VERSION_MAX + 1], *text;
	json_t *body;

	os_version(os);
	body = json_pack("{s:{s:s, s:o}, s:o, s:s, s:s, s:s, s:s?, s:i, s:o, "
	    "s:{s:s, s:{s:o, s:o, s:o}, s:{s:o, s:o}}}",
	    "CertificateRequest", "Type", "pkcs10",
	    "Data", b64_json(j->csr, j->csr_len),
	    "TransportKey", b64_json(j->tk.pub, j->tk.pub_len),
	    "TargetDomain", j->profile.tenant,
	    "DeviceType", "Linux",
	    "OSVersion", os,
	    "DeviceDisplayName", j->profile.device_name[0] ?
	    j->profile.device_name : NULL,
	    "JoinType", 0,
	    "AikCertificate", b64_json(j->aik_cert, j->aik_cert_len),
	    "AttestationData", "Nonce", n->text,
	    "DeviceKey", "Public", b64_json(j->dk.pub, j->dk.pub_len),
	    "CertifyInfo", b64_json(dk->info, dk->info_len),
	    "Signature", b64_json(dk->sig, dk->sig_len),
	    "TransportKey", "CertifyInfo", b64_json(tk->info, tk->info_len),
	    "Signature", b64_json(tk->sig, tk->sig_len));
	if (body == NULL || (text = json_dumps(body, JSON_COMPACT)) == NULL)
		abort(); /* out of memory */
	json_decref(body);
	return text;
}

/* A nonce, both certifications, and POST {RegistrationEndpoint}. */
static enum wg_err
join_once(struct join *j, int *retry)
{
	struct wg_httpc_resp resp = { 0 };
	struct certified dk = { 0 }, tk = { 0 };
	struct nonce_answer n;
	char *body = NULL, why[256];
	enum wg_err rc;

	if ((rc = nonce_get(j, &n, retry)) != WG_OK)
		return rc;
	if ((rc = certify(j, &n, &dk, &tk)) != WG_OK) {
		*retry = 0;
		goto done;
	}
	body = join_body(j, &n, &dk, &tk);
	j->joining = 1;
	wg_httpc_set_bearer(j->http, j->token);
	rc = call(j, "POST", j->join_path, JSON_TYPE, body, &resp, retry);
	wg_httpc_set_bearer(j->http, NULL);
	join_answer_free(&j->answer);
	if (rc == WG_OK && join_answer_parse(resp.body, resp.body_len,
	    &j->answer, why, sizeof(why)) != WG_OK) {
		rc = WG_FAIL(j, WG_E_NET_PROTOCOL, "POST %s: the answer: %s",
		    j->join_path, why);
		*retry = 1;
	}
done:
	free(body);
	certified_free(&dk);
	certified_free(&tk);
	wg_httpc_resp_free(&resp);
	return rc;
}

/* ---- the device certificate ---- */

/* The certificate is the DK's and chains to the answer's CaChain. */
static enum wg_err
answer_check(struct join *j)
{
	const struct join_answer *an = &j->answer;
	X509 *root = sk_X509_value(an->chain, sk_X509_num(an->chain) - 1);
	EVP_PKEY *dk = tpm_public_to_pkey(&j->dk_pub);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	enum wg_err rc = WG_OK;
	int ok;

	if (store == NULL || ctx == NULL)
		abort(); /* out of memory */
	if (dk == NULL || EVP_PKEY_eq(X509_get0_pubkey(an->cert), dk) != 1) {
		rc = WG_FAIL(j, WG_E_NET_PROTOCOL, "the device certificate is "
		    "not for this device's DK");
		goto done;
	}
	/*
	 * The check is that the answer holds together; the trust in it is
	 * the TLS channel's (--ca).  The device's clock may not be set yet
	 * at this point of the setup, so validity dates are not checked.
	 */
	ok = X509_STORE_add_cert(store, root) == 1 &&
	    X509_STORE_CTX_init(ctx, store, an->cert, an->chain) == 1;
	if (ok) {
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME |
		    X509_V_FLAG_X509_STRICT);
		ok = X509_verify_cert(ctx) == 1;
	}
	if (!ok)
		rc = WG_FAIL(j, WG_E_NET_PROTOCOL, "the device certificate does "
		    "not chain to the answer's CaChain: %s",
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(
		    ctx)));
done:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	EVP_PKEY_free(dk);
	return rc;
}

/* device.crt, device-ca.pem and join.json, each written whole. */
static enum wg_err
answer_store(struct join *j)
{
	const struct join_answer *an = &j->answer;
	struct join_result *r = j->res;
	enum wg_err rc;
	json_t *o;
	char *text;

	if ((rc = agent_state_write_certs(j->o->state_dir, JOIN_CERT_FILE,
	    an->cert, NULL, j->why, j->whylen)) != WG_OK ||
	    (rc = agent_state_write_certs(j->o->state_dir, JOIN_CA_FILE, NULL,
	    an->chain, j->why, j->whylen)) != WG_OK)
		return rc;
	o = json_pack("{s:s, s:s, s:s}", "DeviceId", an->device_id,
	    "DisplayName", an->display_name, "Thumbprint", an->thumbprint);
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER)) == NULL)
		abort(); /* out of memory */
	json_decref(o);
	rc = agent_state_write(j->o->state_dir, JOIN_FILE, text, strlen(text),
	    j->why, j->whylen);
	free(text);
	memcpy(r->device_id, an->device_id, sizeof(r->device_id));
	memcpy(r->display_name, an->display_name, sizeof(r->display_name));
	memcpy(r->thumbprint, an->thumbprint, sizeof(r->thumbprint));
	return rc;
}

static enum wg_err
join_steps(struct join *j)
{
	const struct wg_httpc_opts ho = { .base_url = j->o->server,
	    .ca_file = j->o->ca_file, .timeout_ms = j->o->timeout_ms,
	    .max_body = ANSWER_BODY_MAX };
	char text[256] = "";
	enum wg_err rc;

	if ((rc = inputs(j)) != WG_OK)
		return rc;
	if (wg_httpc_new(&ho, &j->http, text, sizeof(text)) != WG_OK)
		return WG_FAIL(j, WG_E_CONFIG, "--server: %s", text);
	if ((rc = tries(j, discover_once, NULL)) == WG_OK &&
	    (rc = tries(j, token_once, NULL)) == WG_OK &&
	    (rc = keys_and_csr(j)) == WG_OK &&
	    (rc = tries(j, join_once, &j->res->tries)) == WG_OK &&
	    (rc = answer_check(j)) == WG_OK)
		rc = answer_store(j);
	return rc;
}

enum wg_err
join_run(const struct agent_phase_opts *o, struct join_result *res,
    char *why, size_t whylen)
{
	struct join j = { .o = o, .res = res, .why = why, .whylen = whylen };
	enum wg_err rc;

	memset(res, 0, sizeof(*res));
	why[0] = '\0';
	if ((rc = agent_state_dir(o->state_dir, why, whylen)) != WG_OK)
		return rc;
	rc = join_steps(&j);
	rc = agent_phase_code(rc, why, whylen);
	if (rc == WG_OK)
		event(&j, JOIN_EVT_DONE, WG_LEVEL_INFO, WG_OK, "joined %s as %s, "
		    "device id %s (certificate %s; %u %s)", res->tenant,
		    res->display_name, res->device_id, res->thumbprint,
		    res->tries, res->tries == 1 ? "try" : "tries");
	else
		event(&j, j.joining ? JOIN_EVT_FAILED : JOIN_EVT_PREPARE_FAILED,
		    WG_LEVEL_ERROR, rc, "%s: %s", j.joining ? "the join failed" :
		    "the join could not be prepared", why);
	if (j.token != NULL) {
		OPENSSL_cleanse(j.token, strlen(j.token));
		free(j.token);
	}
	join_answer_free(&j.answer);
	free(j.csr);
	free(j.aik_cert);
	OPENSSL_cleanse(&j.aik, sizeof(j.aik));
	OPENSSL_cleanse(&j.dk, sizeof(j.dk));
	OPENSSL_cleanse(&j.tk, sizeof(j.tk));
	wg_httpc_free(j.http);
	tpm_close(j.tpm);
	return rc;
}
