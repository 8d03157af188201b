/*
 * The network check's TLS step (diag_network.h): the handshake through
 * httpc (libcurl, the agent's own TLS and trust), pinned to the address
 * the connect step reached; when curl refuses the server, a second
 * handshake without verification (nothing is sent) reads the chain so
 * that OpenSSL here can say why in words: not signed by the pinned CA,
 * expired (on which date), not yet valid, or another name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "agent/diag_network.h"
#include "common/httpc.h"
#include "common/util.h"

#define HTTP_BODY_MAX (64 * 1024)

/* "host:port:address" pinning curl to the address that connected. */
static void
resolve_pin(const struct dn_transport *t, char *out, size_t outlen)
{
	out[0] = '\0';
	if (t->used[0] != '\0' && !dn_is_ip_literal(t->host))
		snprintf(out, outlen, strchr(t->used, ':') ? "%s:%d:[%s]" :
		    "%s:%d:%s", t->host, t->port, t->used);
}

enum wg_err
dn_exchange(const struct dn_transport *t, const struct dn_opts *o,
    const char *prefix, struct wg_httpc_req *req, struct wg_httpc_resp *resp)
{
	char base[1100], pin[400], why[256] = "";
	struct wg_httpc_opts ho = { .base_url = base, .ca_file = o->ca_file,
	    .connect_timeout_ms = o->timeout_ms, .timeout_ms = o->timeout_ms,
	    .max_body = HTTP_BODY_MAX };
	struct wg_httpc *c = NULL;
	enum wg_err rc;

	snprintf(base, sizeof(base), "%s://%s%s", t->tls ? "https" : "http",
	    t->hostport, prefix);
	resolve_pin(t, pin, sizeof(pin));
	req->probe->resolve = pin[0] ? pin : NULL;
	if ((rc = wg_httpc_new(&ho, &c, why, sizeof(why))) != WG_OK) {
		snprintf(resp->detail, sizeof(resp->detail), "%s", why);
		return rc;
	}
	rc = wg_httpc_do(c, req, resp);
	wg_httpc_free(c);
	return rc;
}

/* The chain curl saw, leaf first; NULL if none could be read. */
static STACK_OF(X509) *
chain_parse(const struct wg_httpc_probe *p)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x;
	BIO *b;
	size_t i;

	if (sk == NULL)
		abort(); /* out of memory */
	for (i = 0; i < p->ncerts; i++) {
		if ((b = BIO_new_mem_buf(p->certs[i], -1)) == NULL)
			abort();
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
		if (x == NULL || !sk_X509_push(sk, x)) {
			X509_free(x);
			break;
		}
	}
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
}

static void
name_text(const X509_NAME *n, char *out, size_t outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long len;

	out[0] = '\0';
	if (b == NULL)
		abort();
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)
	    >= 0 && (len = BIO_get_mem_data(b, &p)) > 0)
		wg_escape_log(p, (size_t)len, out, outlen);
	BIO_free(b);
}

static void
time_text(const ASN1_TIME *t, char *out, size_t outlen)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, outlen, "?");
}

/* The leaf's subject, issuer, expiry and whether it names the host. */
static void
leaf_facts(struct dn_transport *t, X509 *leaf)
{
	struct dn_tls_facts *f = &t->cert;
	int days = 0, secs = 0;

	f->read = 1;
	name_text(X509_get_subject_name(leaf), f->subject, sizeof(f->subject));
	name_text(X509_get_issuer_name(leaf), f->issuer, sizeof(f->issuer));
	time_text(X509_get0_notAfter(leaf), f->not_after,
	    sizeof(f->not_after));
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf)) == 1)
		f->days_left = secs < 0 && days == 0 ? -1 : days;
	f->name_ok = dn_is_ip_literal(t->host) ?
	    X509_check_ip_asc(leaf, t->host, 0) == 1 :
	    X509_check_host(leaf, t->host, 0, 0, NULL) == 1;
	ERR_clear_error();
}

/* The pinned CA's subject for a message, or the file's name. */
static void
pinned_name(const char *ca_file, char *out, size_t outlen)
{
	X509 *ca = NULL;
	BIO *b = BIO_new_file(ca_file, "r");

	snprintf(out, outlen, "%s", ca_file);
	if (b != NULL && (ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) !=
	    NULL) {
		name_text(X509_get_subject_name(ca), out, outlen);
		X509_free(ca);
	}
	BIO_free(b);
	ERR_clear_error();
}

/* Why a chain curl refused fails: OpenSSL's verdict in words. */
static void
tls_why(struct dn_transport *t, const struct dn_opts *o,
    STACK_OF(X509) *chain, const char *detail)
{
	struct dn_check *c = &t->step[DN_TLS];
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *leaf = sk_X509_value(chain, 0), *cur;
	char ca[256], when[32], who[256];
	int ok, err;

	if (store == NULL || ctx == NULL)
		abort();
	leaf_facts(t, leaf);
	if (o->ca_file != NULL)
		ok = X509_STORE_load_file(store, o->ca_file) == 1;
	else
		ok = X509_STORE_set_default_paths(store) == 1;
	ok = ok && X509_STORE_CTX_init(ctx, store, leaf, chain) == 1 &&
	    X509_verify_cert(ctx) == 1;
	err = X509_STORE_CTX_get_error(ctx);
	cur = X509_STORE_CTX_get_current_cert(ctx);
	if (o->ca_file != NULL)
		pinned_name(o->ca_file, ca, sizeof(ca));
	if (!ok && (err == X509_V_ERR_CERT_HAS_EXPIRED ||
	    err == X509_V_ERR_CERT_NOT_YET_VALID) && cur != NULL) {
		name_text(X509_get_subject_name(cur), who, sizeof(who));
		time_text(err == X509_V_ERR_CERT_HAS_EXPIRED ?
		    X509_get0_notAfter(cur) : X509_get0_notBefore(cur), when,
		    sizeof(when));
		if (err == X509_V_ERR_CERT_HAS_EXPIRED)
			dn_check_fail(c, "TLS: expired on %s (%s)", when, who);
		else
			dn_check_fail(c, "TLS: not valid before %s (%s): is the "
			    "device's clock right?", when, who);
	} else if (!ok && (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	    err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	    err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
	    err == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE ||
	    err == X509_V_ERR_CERT_SIGNATURE_FAILURE)) {
		if (o->ca_file != NULL)
			dn_check_fail(c, "TLS: certificate not signed by the pinned "
			    "CA (%s, %s); the server's is issued by %s", ca,
			    o->ca_file, t->cert.issuer);
		else
			dn_check_fail(c, "TLS: certificate not signed by a CA this "
			    "system trusts; the server's is issued by %s",
			    t->cert.issuer);
	} else if (!ok) {
		dn_check_fail(c, "TLS: %s", X509_verify_cert_error_string(err));
	} else if (!t->cert.name_ok) {
		dn_check_fail(c, "TLS: the certificate (%s) does not name %s",
		    t->cert.subject, t->host);
	} else {
		dn_check_fail(c, "TLS: handshake failed: %s", detail);
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
}

/* A handshake that passed: the leaf's facts, a warning near expiry. */
static void
tls_passed(struct dn_transport *t, const struct dn_opts *o,
    STACK_OF(X509) *chain)
{
	struct dn_check *c = &t->step[DN_TLS];

	if (chain != NULL)
		leaf_facts(t, sk_X509_value(chain, 0));
	c->state = DN_PASS;
	snprintf(c->text, sizeof(c->text), "verified by %s; name matches; "
	    "expires %s (%ld days)", o->ca_file ? "the pinned CA" :
	    "the system's CAs", t->cert.read ? t->cert.not_after : "?",
	    t->cert.days_left);
	if (t->cert.read && t->cert.days_left < DN_EXPIRY_WARN_DAYS) {
		c->state = DN_WARN;
		snprintf(c->text, sizeof(c->text), "TLS: the certificate "
		    "expires in %ld days (%s): renew it", t->cert.days_left,
		    t->cert.not_after);
	}
}

void
dn_step_tls(struct dn_transport *t, const struct dn_opts *o)
{
	struct dn_check *c = &t->step[DN_TLS];
	struct wg_httpc_probe p = { .handshake_only = 1 };
	struct wg_httpc_req req = { .method = "GET", .path = "/",
	    .probe = &p };
	struct wg_httpc_resp resp = { 0 };
	STACK_OF(X509) *chain = NULL;
	enum wg_err rc;

	if (!t->tls) {
		c->state = DN_WARN;
		snprintf(c->text, sizeof(c->text), "plain http: not encrypted, "
		    "not authenticated");
		return;
	}
	rc = dn_exchange(t, o, "", &req, &resp);
	c->us = p.tls_us > p.connect_us ? p.tls_us - p.connect_us : 0;
	chain = chain_parse(&p);
	if (rc == WG_OK) {
		tls_passed(t, o, chain);
	} else if (rc == WG_E_NET_TLS) {
		t->err = rc;
		sk_X509_pop_free(chain, X509_free);
		wg_httpc_probe_free(&p);
		memset(&p, 0, sizeof(p));
		p.handshake_only = p.no_verify = 1;
		if (dn_exchange(t, o, "", &req, &resp) == WG_OK &&
		    (chain = chain_parse(&p)) != NULL)
			tls_why(t, o, chain, resp.detail);
		else
			dn_check_fail(c, "TLS: handshake failed: %s", resp.detail);
	} else {
		t->err = rc;
		dn_check_fail(c, "TLS: %s", resp.detail);
	}
	sk_X509_pop_free(chain, X509_free);
	wg_httpc_probe_free(&p);
	wg_httpc_resp_free(&resp);
}
