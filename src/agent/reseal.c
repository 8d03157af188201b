/*
 * The reseal on the device (reseal.h): the device token and the AIK's
 * quote of a fresh nonce through devtoken.h, the ticket checked against
 * the join's device key, then stored; the ticket itself is wiped from
 * every buffer that held it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "agent/devtoken.h"
#include "agent/reseal.h"
#include "agent/state.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"

struct reseal {
	struct devtoken d;
	struct reseal_result *res;
	struct reseal_answer answer; /* answer.ticket: a secret */
	int resealing; /* 1 once the reseal request was made */
	char *why;
	size_t whylen;
};

/* Whether an earlier run resealed: reseal.json and ticket.json, into res. */
static int
resealed_before(struct reseal *r)
{
	const char *dir = r->d.o->state_dir, *at;
	char buf[1024], why[256];
	const json_t *n;
	json_t *o = NULL;
	size_t len;
	int ok;

	/* the ticket is not read: only that a run stored one */
	ok = agent_state_read(dir, RESEAL_TICKET_FILE, (unsigned char *)buf,
	    sizeof(buf), &len) == 0;
	OPENSSL_cleanse(buf, sizeof(buf));
	ok = ok && agent_state_read(dir, RESEAL_FILE, (unsigned char *)buf,
	    sizeof(buf), &len) == 0 &&
	    wg_json_load_object(buf, len, &o, why, sizeof(why)) == WG_OK &&
	    wg_json_string(o, "ExpiresAt", 1, sizeof(r->res->expires_at) - 1,
	    &at, why, sizeof(why)) == WG_OK &&
	    json_is_integer(n = json_object_get(o, "ResetCount")) &&
	    json_integer_value(n) >= 0 &&
	    json_integer_value(n) <= (json_int_t)UINT32_MAX;
	if (ok) {
		memcpy(r->res->expires_at, at, strlen(at) + 1);
		r->res->reset_count = (uint32_t)json_integer_value(n);
	}
	json_decref(o);
	return ok;
}

/* The request (docs/api.md, "POST /token/v1/reseal"). */
static char *
reseal_body(struct reseal *r, const struct nonce_answer *n,
    const unsigned char *quote, size_t qlen, const unsigned char *sig,
    size_t slen)
{
	return devtoken_json_text(json_pack("{s:o, s:s, s:o, s:o}",
	    "AikCertificate", devtoken_b64_json(r->d.aik_cert,
	    r->d.aik_cert_len),
	    "Nonce", n->text,
	    "Quote", devtoken_b64_json(quote, qlen),
	    "Signature", devtoken_b64_json(sig, slen)));
}

/* A nonce, the AIK's quote of it, POST /token/v1/reseal. */
static enum wg_err
reseal_once(void *arg, int *retry)
{
	struct reseal *r = arg;
	struct wg_httpc_resp resp = { 0 };
	struct nonce_answer n;
	unsigned char *quote = NULL, *sig = NULL;
	size_t qlen = 0, slen = 0;
	char *body = NULL, why[256];
	enum wg_err rc;

	if ((rc = devtoken_quote(&r->d, "the reseal", &n, &quote, &qlen, &sig,
	    &slen, retry)) != WG_OK)
		goto done;
	body = reseal_body(r, &n, quote, qlen, sig, slen);
	r->resealing = 1;
	rc = devtoken_post_json(&r->d, RESEAL_PATH, body, &resp, retry);
	OPENSSL_cleanse(&r->answer, sizeof(r->answer));
	if (rc == WG_OK && reseal_answer_parse(resp.body, resp.body_len,
	    &r->answer, why, sizeof(why)) != WG_OK) {
		rc = WG_FAIL(r, WG_E_NET_PROTOCOL, "POST %s: the answer: %s",
		    RESEAL_PATH, why);
		*retry = 1;
	}
	free(body);
done:
	free(quote);
	free(sig);
	wg_httpc_resp_free(&resp); /* wipes the ticket's copy */
	return rc;
}

/*
 * The ticket must be bound to the DK of this state directory (the user's
 * phase signs with it): BoundTo is the SHA-256 of dk.pub's TPMT_PUBLIC.
 */
static enum wg_err
bound_check(struct reseal *r)
{
	struct tpm_aik dk;
	struct tpm_public pub;
	unsigned char md[32];
	char hex[65], text[128];
	int ok;

	ok = agent_state_read(r->d.o->state_dir, "dk.pub", dk.pub,
	    sizeof(dk.pub), &dk.pub_len) == 0 && tpm_public_parse(dk.pub,
	    dk.pub_len, &pub, text, sizeof(text)) == WG_OK;
	if (ok) {
		tpm_public_sha256(&pub, md);
		wg_hex(md, sizeof(md), hex);
		ok = strcasecmp(hex, r->answer.bound_to) == 0;
	}
	if (!ok)
		return WG_FAIL(r, WG_E_RESEAL_KEY_MISMATCH, "the ticket is bound "
		    "to the device key %s, not to this device's %s/dk.pub: the "
		    "device joined with another state directory, or its keys "
		    "were lost", r->answer.bound_to, r->d.o->state_dir);
	return WG_OK;
}

/* ticket.json (the secret), then reseal.json (the mark), each whole. */
static enum wg_err
answer_store(struct reseal *r)
{
	const struct reseal_answer *an = &r->answer;
	const char *dir = r->d.o->state_dir;
	char text[512], now[32];
	enum wg_err rc;
	int n;

	/* every member was checked: base64url, RFC 3339, hex; no escaping */
	n = snprintf(text, sizeof(text), "{\n  \"Ticket\": \"%s\",\n  "
	    "\"ExpiresAt\": \"%s\",\n  \"BoundTo\": \"%s\"\n}\n", an->ticket,
	    an->expires_at, an->bound_to);
	if (n < 0 || (size_t)n >= sizeof(text))
		abort(); /* the parser bounds every member */
	rc = agent_state_write(dir, RESEAL_TICKET_FILE, text, (size_t)n,
	    r->why, r->whylen);
	OPENSSL_cleanse(text, sizeof(text));
	if (rc != WG_OK)
		return rc;
	wg_time_rfc3339(wg_now_ms(), now);
	rc = devtoken_write_json(&r->d, RESEAL_FILE, json_pack("{s:s, s:I, "
	    "s:I, s:s, s:s}", "ExpiresAt", an->expires_at, "ResetCount",
	    (json_int_t)an->reset_count, "RestartCount",
	    (json_int_t)an->restart_count, "BoundTo", an->bound_to,
	    "ResealedAt", now));
	memcpy(r->res->expires_at, an->expires_at, sizeof(r->res->expires_at));
	r->res->reset_count = an->reset_count;
	return rc;
}

static enum wg_err
reseal_steps(struct reseal *r)
{
	enum wg_err rc;

	if (resealed_before(r)) {
		r->res->already = 1;
		return WG_OK;
	}
	if ((rc = devtoken_open(&r->d)) == WG_OK &&
	    (rc = devtoken_discover(&r->d)) == WG_OK &&
	    (rc = devtoken_get(&r->d)) == WG_OK &&
	    (rc = devtoken_tries(&r->d, reseal_once, r, &r->res->tries)) ==
	    WG_OK && (rc = bound_check(r)) == WG_OK)
		rc = answer_store(r);
	return rc;
}

enum wg_err
reseal_run(const struct agent_phase_opts *o, struct reseal_result *res,
    char *why, size_t whylen)
{
	struct reseal r = { .d = { .o = o, .channel = "autopilot",
	    .phase = WG_PHASE_RESEAL, .refused_event = 0,
	    .try_event = RESEAL_EVT_TRY_FAILED, .request_phase = "reseal",
	    .why = why, .whylen = whylen }, .res = res, .why = why,
	    .whylen = whylen };
	enum wg_err rc;

	memset(res, 0, sizeof(*res));
	why[0] = '\0';
	if ((rc = agent_state_dir(o->state_dir, why, whylen)) != WG_OK)
		return rc;
	rc = reseal_steps(&r);
	rc = agent_phase_code(rc, why, whylen);
	if (rc == WG_OK && !res->already)
		devtoken_event(&r.d, RESEAL_EVT_DONE, WG_LEVEL_INFO, WG_OK,
		    "resealed: pre-provisioning ticket stored, valid until %s, "
		    "TPM resetCount %lu (%u %s)", res->expires_at,
		    (unsigned long)res->reset_count, res->tries,
		    res->tries == 1 ? "try" : "tries");
	else if (rc != WG_OK)
		devtoken_event(&r.d, RESEAL_EVT_FAILED, WG_LEVEL_ERROR, rc,
		    "%s: %s", r.resealing ? "the reseal failed" : "the reseal "
		    "could not be prepared", why);
	OPENSSL_cleanse(&r.answer, sizeof(r.answer));
	devtoken_close(&r.d);
	return rc;
}
