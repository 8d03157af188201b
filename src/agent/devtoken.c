/*
 * What the device's steps 3, 4 and 6 share (devtoken.h): the earlier
 * steps' files, the exchanges on --server tried as retry.h says, the
 * device token, and the checks of a certified key's answer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "agent/devtoken.h"
#include "agent/eventlog.h"
#include "agent/evupload.h"
#include "agent/retry.h"
#include "agent/state.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/x509.h"

/* The device token's grant_type, form-encoded (RFC 6749, appendix B). */
#define GRANT_TPM_QUOTE \
	"urn%3Awhiteglove%3Aparams%3Aoauth%3Agrant-type%3Atpm-quote"
#define FORM_TYPE "application/x-www-form-urlencoded"
#define JSON_TYPE "application/json"

void
devtoken_event(struct devtoken *d, int id, enum wg_level level,
    enum wg_err err, const char *fmt, ...)
{
	const char *corr = d->correlation_id;
	va_list ap;

	va_start(ap, fmt);
	eventlog_vsay(d->o->state_dir, d->channel, id, level, d->phase, err,
	    corr[0] ? corr : NULL, NULL, NULL, fmt, ap);
	va_end(ap);
}

/* ---- what the earlier steps left ---- */

/* The AIK certificate's DER, if it certifies the AIK of aik.pub. */
static enum wg_err
aik_cert_load(struct devtoken *d)
{
	char *path = xasprintf("%s/aik.crt", d->o->state_dir);
	X509 *cert = x509_cert_read(path);
	EVP_PKEY *key = NULL;
	unsigned char *p;
	int n = 0, ok;

	free(path);
	if (cert == NULL)
		return WG_FAIL(d, WG_E_AIK_CERT_INVALID, "no AIK certificate in "
		    "%s/aik.crt: secure the hardware first (whiteglove-agent "
		    "attest)", d->o->state_dir);
	ok = (key = tpm_public_to_pkey(&d->aik_pub)) != NULL &&
	    EVP_PKEY_eq(key, X509_get0_pubkey(cert)) == 1 &&
	    (n = i2d_X509(cert, NULL)) > 0;
	if (ok) {
		d->aik_cert = p = xmalloc((size_t)n);
		d->aik_cert_len = (size_t)i2d_X509(cert, &p);
	}
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(cert);
	if (!ok)
		return WG_FAIL(d, WG_E_AIK_CERT_INVALID, "%s/aik.crt does not "
		    "certify the AIK of aik.pub: secure the hardware again "
		    "(whiteglove-agent attest)", d->o->state_dir);
	return WG_OK;
}

/*
 * devtoken_share()'s: the discovery and device token of the run's last
 * phase, for the next one on the same server and tenant.
 */
static struct {
	int on;
	char server[512];
	char tenant_id[37];
	char registration_path[ANSWER_ENDPOINT_MAX + 1];
	char token_path[ANSWER_ENDPOINT_MAX + 1];
	char *token;		/* a secret; NULL: none yet */
	int64_t token_ms;	/* wg_mono_ms() when it was issued */
} shared;

enum wg_err
devtoken_open(struct devtoken *d)
{
	const struct wg_httpc_opts ho = { .base_url = d->o->server,
	    .ca_file = d->o->ca_file, .timeout_ms = d->o->timeout_ms,
	    .max_body = ANSWER_APPS_BODY_MAX }; /* each parser its own cap */
	char text[256] = "";
	enum wg_err rc;

	if ((rc = profile_file_read(d->o->state_dir, &d->profile, d->why,
	    d->whylen)) != WG_OK)
		return rc;
	memcpy(d->correlation_id, d->profile.correlation_id,
	    sizeof(d->correlation_id));
	if ((rc = tpm_open(d->o->tcti, &d->tpm)) != WG_OK)
		return WG_FAIL(d, rc, "the TPM cannot be opened (%s)",
		    d->o->tcti ? d->o->tcti : tpm_tcti_default());
	if ((rc = agent_aik_load(d->tpm, d->o->state_dir, &d->aik,
	    &d->aik_pub, d->why, d->whylen)) != WG_OK ||
	    (rc = aik_cert_load(d)) != WG_OK)
		return rc;
	if (wg_httpc_new(&ho, &d->http, text, sizeof(text)) != WG_OK)
		return WG_FAIL(d, WG_E_CONFIG, "--server: %s", text);
	return WG_OK;
}

void
devtoken_close(struct devtoken *d)
{
	/*
	 * The phase's last event is written: the channels to the server.
	 * Phases sharing a run (devtoken_share) leave it to the run's end,
	 * devtoken_upload_shared(): one upload, with the run's own events.
	 */
	if (d->token != NULL && d->http != NULL && !shared.on)
		evupload_run(d->o->state_dir, d->http, d->token,
		    d->o->timeout_ms);
	if (d->token != NULL) {
		OPENSSL_cleanse(d->token, strlen(d->token));
		free(d->token);
		d->token = NULL;
	}
	free(d->aik_cert);
	d->aik_cert = NULL;
	OPENSSL_cleanse(&d->aik, sizeof(d->aik));
	wg_httpc_free(d->http);
	d->http = NULL;
	tpm_close(d->tpm);
	d->tpm = NULL;
}

/* ---- the exchanges ---- */

/* devtoken_exchange() with the headers of idem (NULL: none) too. */
static enum wg_err
call(struct devtoken *d, const char *method, const char *path,
    const char *const *query, const char *type, const char *body,
    const char *idem, struct wg_httpc_resp *resp, int *retry)
{
	const struct wg_httpc_header headers[] = { { "Accept", JSON_TYPE },
	    { "Idempotency-Key", idem } };
	const struct wg_httpc_req req = { .method = method, .path = path,
	    .query = query, .headers = headers,
	    .nheaders = idem != NULL ? 2 : 1, .content_type = type,
	    .body = body, .body_len = body != NULL ? strlen(body) : 0 };
	const struct wg_err_info *info;
	struct wg_httpc_error e;
	char q[96] = "";
	enum wg_err rc;

	if (query != NULL && query[0] != NULL && query[1] != NULL)
		snprintf(q, sizeof(q), "?%s=%s", query[0], query[1]);
	*retry = 1;
	if ((rc = wg_httpc_do(d->http, &req, resp)) != WG_OK)
		return WG_FAIL(d, rc == WG_E_NET_TIMEOUT ? WG_E_TIMEOUT : rc,
		    "%s %s%s%s: %s", method, d->o->server, path, q,
		    resp->detail);
	if (resp->status >= 200 && resp->status <= 299) {
		*retry = 0;
		return WG_OK;
	}
	wg_httpc_resp_error(resp, &e);
	info = wg_err_info(e.err);
	*retry = agent_retryable(WG_OK, resp->status) &&
	    !(resp->status == 404 && info != NULL &&
	    info->phase != WG_PHASE_NONE);
	rc = WG_FAIL(d, e.err, "%s %s%s%s: HTTP %ld %s %s: %s", method,
	    d->o->server, path, q, resp->status, e.code, e.name, e.message);
	if (!*retry && d->refused_event != 0)
		devtoken_event(d, d->refused_event, WG_LEVEL_ERROR, e.err, "%s",
		    d->why);
	return rc;
}

enum wg_err
devtoken_call(struct devtoken *d, const char *method, const char *path,
    const char *type, const char *body, struct wg_httpc_resp *resp,
    int *retry)
{
	return call(d, method, path, NULL, type, body, NULL, resp, retry);
}

enum wg_err
devtoken_exchange(struct devtoken *d, const char *method, const char *path,
    const char *const *query, const char *type, const char *body,
    const char *key, struct wg_httpc_resp *resp, int *retry)
{
	return call(d, method, path, query, type, body, key, resp, retry);
}

enum wg_err
devtoken_post_json(struct devtoken *d, const char *path, const char *body,
    struct wg_httpc_resp *resp, int *retry)
{
	char *idem = NULL;
	enum wg_err rc;

	if (d->o->request_key != NULL)
		idem = xasprintf("%s.%s", d->o->request_key, d->request_phase);
	wg_httpc_set_bearer(d->http, d->token);
	rc = call(d, "POST", path, NULL, JSON_TYPE, body, idem, resp, retry);
	wg_httpc_set_bearer(d->http, NULL);
	free(idem);
	return rc;
}

enum wg_err
devtoken_tries(struct devtoken *d, devtoken_try_fn one, void *arg,
    unsigned *count)
{
	enum wg_err rc = WG_OK;
	char last[512];
	unsigned n;
	int retry = 1;

	for (n = 1; n <= d->o->tries && retry; n++) {
		if (n > 1)
			agent_backoff(d->o->backoff_ms, n);
		if ((rc = one(arg, &retry)) == WG_OK)
			break;
		if (retry && n < d->o->tries)
			devtoken_event(d, d->try_event, WG_LEVEL_WARNING, rc,
			    "try %u/%u: %s", n, d->o->tries, d->why);
	}
	if (count != NULL)
		*count = n > d->o->tries ? d->o->tries : n;
	if (rc != WG_OK && retry) {
		snprintf(last, sizeof(last), "%s", d->why);
		return WG_FAIL(d, rc, "%u tries failed; the last: %s",
		    d->o->tries, last);
	}
	return rc;
}

enum wg_err
devtoken_endpoint(struct devtoken *d, const char *what, const char *ep,
    char *out, size_t size)
{
	const char *server = d->o->server;
	size_t n = strlen(server);

	while (n > 0 && server[n - 1] == '/')
		n--;
	if (ep[0] != '/') {
		/* the token goes only where --server (and --ca) point */
		if (strncmp(ep, server, n) != 0 || ep[n] != '/')
			return WG_FAIL(d, WG_E_NET_PROTOCOL, "the discovery "
			    "document's %s %s is not on %s", what, ep, server);
		ep += n;
	}
	snprintf(out, size, "%s", ep);
	return WG_OK;
}



static void
shared_forget_token(void)
{
	if (shared.token != NULL)
		OPENSSL_cleanse(shared.token, strlen(shared.token));
	free(shared.token);
	shared.token = NULL;
}

void
devtoken_upload_shared(const struct agent_phase_opts *o)
{
	const struct wg_httpc_opts ho = { .base_url = o->server,
	    .ca_file = o->ca_file, .timeout_ms = o->timeout_ms,
	    .max_body = ANSWER_APPS_BODY_MAX };
	struct wg_httpc *http = NULL;
	char text[256] = "";

	if (!shared.on || shared.token == NULL || o->server == NULL ||
	    strcmp(shared.server, o->server) != 0)
		return;
	if (wg_httpc_new(&ho, &http, text, sizeof(text)) == WG_OK)
		evupload_run(o->state_dir, http, shared.token, o->timeout_ms);
	wg_httpc_free(http);
}

void
devtoken_share(void)
{
	if (!shared.on)
		atexit(shared_forget_token);
	shared.on = 1;
}

/* Whether the shared values are d's: the same server and tenant. */
static int
shared_fits(const struct devtoken *d)
{
	return shared.on && d->o->server != NULL &&
	    strcmp(shared.server, d->o->server) == 0 &&
	    strcmp(shared.tenant_id, d->profile.tenant_id) == 0;
}

/* Keeps d's discovery (and token, if any) for the next phase. */
static void
shared_keep(const struct devtoken *d)
{
	if (!shared.on || d->o->server == NULL ||
	    strlen(d->o->server) >= sizeof(shared.server))
		return;
	if (!shared_fits(d))
		shared_forget_token();
	snprintf(shared.server, sizeof(shared.server), "%s", d->o->server);
	memcpy(shared.tenant_id, d->profile.tenant_id,
	    sizeof(shared.tenant_id));
	memcpy(shared.registration_path, d->registration_path,
	    sizeof(shared.registration_path));
	memcpy(shared.token_path, d->token_path, sizeof(shared.token_path));
	if (d->token != NULL) {
		shared_forget_token();
		shared.token = xstrdup(d->token);
		shared.token_ms = d->token_ms;
	}
}

/* GET /{tenant id}/Discover: the registration and token endpoints. */
static enum wg_err
discover_once(void *arg, int *retry)
{
	struct devtoken *d = arg;
	struct wg_httpc_resp resp = { 0 };
	struct discovery_answer da;
	char path[64], why[256];
	enum wg_err rc;

	snprintf(path, sizeof(path), "/%s/Discover", d->profile.tenant_id);
	if ((rc = devtoken_call(d, "GET", path, NULL, NULL, &resp, retry)) !=
	    WG_OK)
		goto done;
	if (discovery_answer_parse(resp.body, resp.body_len, &da, why,
	    sizeof(why)) != WG_OK) {
		rc = WG_FAIL(d, WG_E_NET_PROTOCOL, "GET %s: the answer: %s",
		    path, why);
		*retry = 1;
	} else if ((rc = devtoken_endpoint(d, "RegistrationEndpoint",
	    da.registration, d->registration_path,
	    sizeof(d->registration_path))) != WG_OK ||
	    (rc = devtoken_endpoint(d, "TokenEndpoint", da.token,
	    d->token_path, sizeof(d->token_path))) != WG_OK) {
		*retry = 0;
	}
done:
	wg_httpc_resp_free(&resp);
	return rc;
}

enum wg_err
devtoken_discover(struct devtoken *d)
{
	enum wg_err rc;

	if (shared_fits(d) && shared.token_path[0] != '\0') {
		memcpy(d->registration_path, shared.registration_path,
		    sizeof(d->registration_path));
		memcpy(d->token_path, shared.token_path,
		    sizeof(d->token_path));
		return WG_OK;
	}
	if ((rc = devtoken_tries(d, discover_once, d, NULL)) == WG_OK)
		shared_keep(d);
	return rc;
}

enum wg_err
devtoken_nonce(struct devtoken *d, struct nonce_answer *n, int *retry)
{
	struct wg_httpc_resp resp = { 0 };
	char why[256];
	enum wg_err rc;

	if ((rc = devtoken_call(d, "POST", d->token_path, FORM_TYPE,
	    "grant_type=srv_challenge", &resp, retry)) == WG_OK &&
	    nonce_answer_parse(resp.body, resp.body_len, n, why,
	    sizeof(why)) != WG_OK) {
		rc = WG_FAIL(d, WG_E_NET_PROTOCOL, "POST %s (srv_challenge): "
		    "the answer: %s", d->token_path, why);
		*retry = 1;
	}
	wg_httpc_resp_free(&resp);
	return rc;
}

enum wg_err
devtoken_quote(struct devtoken *d, const char *what, struct nonce_answer *n,
    unsigned char **quote, size_t *qlen, unsigned char **sig, size_t *slen,
    int *retry)
{
	enum wg_err rc;

	*quote = *sig = NULL;
	if ((rc = devtoken_nonce(d, n, retry)) != WG_OK)
		return rc;
	if ((rc = tpm_quote(d->tpm, &d->aik, n->bytes, n->len, quote, qlen,
	    sig, slen)) != WG_OK) {
		*retry = 0;
		return WG_FAIL(d, rc, "the TPM did not quote the nonce for %s "
		    "with the AIK", what);
	}
	return WG_OK;
}

/* The device token form: the AIK's quote of the nonce, base64url. */
static char *
token_form(struct devtoken *d, const struct nonce_answer *n,
    const unsigned char *quote, size_t qlen, const unsigned char *sig,
    size_t slen)
{
	char *aik = wg_b64url(d->aik.pub, d->aik.pub_len);
	char *cert = wg_b64url(d->aik_cert, d->aik_cert_len);
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
token_once(void *arg, int *retry)
{
	struct devtoken *d = arg;
	struct wg_httpc_resp resp = { 0 };
	struct nonce_answer n;
	unsigned char *quote = NULL, *sig = NULL;
	size_t qlen = 0, slen = 0;
	char *form, why[256];
	enum wg_err rc;

	if ((rc = devtoken_quote(d, "the device token", &n, &quote, &qlen,
	    &sig, &slen, retry)) != WG_OK)
		goto done;
	form = token_form(d, &n, quote, qlen, sig, slen);
	if ((rc = devtoken_call(d, "POST", d->token_path, FORM_TYPE, form,
	    &resp, retry)) == WG_OK && token_answer_parse(resp.body,
	    resp.body_len, &d->token, why, sizeof(why)) != WG_OK) {
		rc = WG_FAIL(d, WG_E_NET_PROTOCOL, "POST %s (device token): "
		    "the answer: %s", d->token_path, why);
		*retry = 1;
	}
	OPENSSL_cleanse(form, strlen(form));
	free(form);
done:
	free(quote);
	free(sig);
	wg_httpc_resp_free(&resp);
	return rc;
}

enum wg_err
devtoken_get(struct devtoken *d)
{
	enum wg_err rc;

	if (shared_fits(d) && shared.token != NULL &&
	    wg_mono_ms() - shared.token_ms < DEVTOKEN_REUSE_MS) {
		d->token = xstrdup(shared.token);
		d->token_ms = shared.token_ms;
		return WG_OK;
	}
	if ((rc = devtoken_tries(d, token_once, d, NULL)) == WG_OK) {
		d->token_ms = wg_mono_ms();
		shared_keep(d);
	}
	return rc;
}

/* ---- certified keys and their answers ---- */

enum wg_err
devtoken_certify(struct devtoken *d, const struct tpm_aik *key,
    enum tpm_key_kind kind, const struct nonce_answer *n,
    struct devtoken_certified *out)
{
	enum wg_err rc;

	if ((rc = tpm_certify(d->tpm, &d->aik, key, n->bytes, n->len,
	    &out->info, &out->info_len, &out->sig, &out->sig_len)) != WG_OK)
		return WG_FAIL(d, rc, "the TPM did not certify the %s with the "
		    "AIK", tpm_key_kind_name(kind));
	return WG_OK;
}

void
devtoken_certified_free(struct devtoken_certified *c)
{
	free(c->info);
	free(c->sig);
	memset(c, 0, sizeof(*c));
}

json_t *
devtoken_b64_json(const void *p, size_t n)
{
	char *text = wg_b64(p, n);
	json_t *v = json_string(text);

	free(text);
	if (v == NULL)
		abort(); /* out of memory */
	return v;
}

char *
devtoken_json_text(json_t *body)
{
	char *text;

	if (body == NULL || (text = json_dumps(body, JSON_COMPACT)) == NULL)
		abort(); /* out of memory */
	json_decref(body);
	return text;
}

enum wg_err
devtoken_write_json(struct devtoken *d, const char *name, json_t *o)
{
	enum wg_err rc;
	char *text;

	if (o == NULL || (text = json_dumps(o, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER)) == NULL)
		abort(); /* out of memory */
	json_decref(o);
	rc = agent_state_write(d->o->state_dir, name, text, strlen(text),
	    d->why, d->whylen);
	free(text);
	return rc;
}

enum wg_err
devtoken_store(struct devtoken *d, const char *cert_file, X509 *cert,
    const char *ca_file, STACK_OF(X509) *chain, const char *mark_file,
    json_t *mark)
{
	enum wg_err rc;

	if ((rc = agent_state_write_certs(d->o->state_dir, cert_file, cert,
	    NULL, d->why, d->whylen)) != WG_OK ||
	    (rc = agent_state_write_certs(d->o->state_dir, ca_file, NULL,
	    chain, d->why, d->whylen)) != WG_OK) {
		json_decref(mark);
		return rc;
	}
	return devtoken_write_json(d, mark_file, mark);
}

enum wg_err
devtoken_cert_check(struct devtoken *d, const char *what, X509 *cert,
    STACK_OF(X509) *chain, const struct tpm_public *key)
{
	X509 *root = sk_X509_value(chain, sk_X509_num(chain) - 1);
	EVP_PKEY *pkey = tpm_public_to_pkey(key);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	enum wg_err rc = WG_OK;
	int ok;

	if (store == NULL || ctx == NULL)
		abort(); /* out of memory */
	if (pkey == NULL || EVP_PKEY_eq(X509_get0_pubkey(cert), pkey) != 1) {
		rc = WG_FAIL(d, WG_E_NET_PROTOCOL, "the %s is not for this "
		    "device's key", what);
		goto done;
	}
	ok = root != NULL && X509_STORE_add_cert(store, root) == 1 &&
	    X509_STORE_CTX_init(ctx, store, cert, chain) == 1;
	if (ok) {
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME |
		    X509_V_FLAG_X509_STRICT);
		ok = X509_verify_cert(ctx) == 1;
	}
	if (!ok)
		rc = WG_FAIL(d, WG_E_NET_PROTOCOL, "the %s does not chain to "
		    "the answer's CaChain: %s", what,
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(
		    ctx)));
done:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	EVP_PKEY_free(pkey);
	return rc;
}
