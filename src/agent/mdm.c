/*
 * "Registering your device for mobile management" on the device (mdm.h):
 * the requests in their order, tried through devtoken.h, the TPM's part
 * through tpm.h, the answer checked before anything is stored, and the
 * unjoin of pre-provisioning last.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent/csr.h"
#include "agent/devtoken.h"
#include "agent/join.h"
#include "agent/mdm.h"
#include "agent/state.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/x509.h"

struct mdm {
	struct devtoken d;
	struct mdm_result *res;
	char enroll_path[ANSWER_ENDPOINT_MAX + 1];
	struct tpm_aik key; /* the MDM key */
	struct tpm_public key_pub;
	unsigned char *csr;
	size_t csr_len;
	struct mdm_answer answer;
	int enrolling; /* 1 once the enrollment request was made */
	char *why;
	size_t whylen;
};

/* GET /mdm/v1/discovery: the enrollment endpoint. */
static enum wg_err
discover_once(void *arg, int *retry)
{
	struct mdm *m = arg;
	struct wg_httpc_resp resp = { 0 };
	struct mdm_discovery_answer da;
	char why[256];
	enum wg_err rc;

	if ((rc = devtoken_call(&m->d, "GET", MDM_DISCOVERY_PATH, NULL, NULL,
	    &resp, retry)) != WG_OK)
		goto done;
	if (mdm_discovery_answer_parse(resp.body, resp.body_len, &da, why,
	    sizeof(why)) != WG_OK) {
		rc = WG_FAIL(m, WG_E_NET_PROTOCOL, "GET %s: the answer: %s",
		    MDM_DISCOVERY_PATH, why);
		*retry = 1;
	} else if ((rc = devtoken_endpoint(&m->d, "EnrollmentServiceUrl",
	    da.enroll, m->enroll_path, sizeof(m->enroll_path))) != WG_OK)
		*retry = 0;
done:
	wg_httpc_resp_free(&resp);
	return rc;
}

/* The enrollment request (docs/api.md, "MDM enrollment"). */
static char *
enroll_body(struct mdm *m, const struct nonce_answer *n,
    const struct devtoken_certified *c)
{
	return devtoken_json_text(json_pack("{s:{s:s, s:o}, s:o, "
	    "s:{s:s, s:{s:o, s:o, s:o}}}",
	    "CertificateRequest", "Type", "pkcs10",
	    "Data", devtoken_b64_json(m->csr, m->csr_len),
	    "AikCertificate", devtoken_b64_json(m->d.aik_cert,
	    m->d.aik_cert_len),
	    "AttestationData", "Nonce", n->text,
	    "MdmKey", "Public", devtoken_b64_json(m->key.pub, m->key.pub_len),
	    "CertifyInfo", devtoken_b64_json(c->info, c->info_len),
	    "Signature", devtoken_b64_json(c->sig, c->sig_len)));
}

/* A nonce, the MDM key's certification, POST {EnrollmentServiceUrl}. */
static enum wg_err
enroll_once(void *arg, int *retry)
{
	struct mdm *m = arg;
	struct wg_httpc_resp resp = { 0 };
	struct devtoken_certified c = { 0 };
	struct nonce_answer n;
	char *body = NULL, why[256];
	enum wg_err rc;

	if ((rc = devtoken_nonce(&m->d, &n, retry)) != WG_OK)
		return rc;
	if ((rc = devtoken_certify(&m->d, &m->key, TPM_KEY_MDM, &n, &c)) !=
	    WG_OK) {
		*retry = 0;
		goto done;
	}
	body = enroll_body(m, &n, &c);
	m->enrolling = 1;
	rc = devtoken_post_json(&m->d, m->enroll_path, body, &resp, retry);
	mdm_answer_free(&m->answer);
	if (rc == WG_OK && mdm_answer_parse(resp.body, resp.body_len,
	    &m->answer, why, sizeof(why)) != WG_OK) {
		rc = WG_FAIL(m, WG_E_NET_PROTOCOL, "POST %s: the answer: %s",
		    m->enroll_path, why);
		*retry = 1;
	}
done:
	free(body);
	devtoken_certified_free(&c);
	wg_httpc_resp_free(&resp);
	return rc;
}

/* mdm.crt, mdm-ca.pem and mdm.json, each written whole. */
static enum wg_err
answer_store(struct mdm *m)
{
	const struct mdm_answer *an = &m->answer;
	struct mdm_result *r = m->res;
	enum wg_err rc;

	rc = devtoken_store(&m->d, MDM_CERT_FILE, an->cert, MDM_CA_FILE,
	    an->chain, MDM_FILE, json_pack("{s:s, s:s, s:s}", "EnrollmentId",
	    an->enrollment_id, "ManagementUrl", an->management_url,
	    "Thumbprint", an->thumbprint));
	memcpy(r->enrollment_id, an->enrollment_id, sizeof(r->enrollment_id));
	memcpy(r->management_url, an->management_url,
	    sizeof(r->management_url));
	memcpy(r->thumbprint, an->thumbprint, sizeof(r->thumbprint));
	return rc;
}

/*
 * Pre-provisioning's unjoin: the device certificate and its chain go, so
 * that the device is not on the organization's network between the
 * technician and the user; the DK and TK stay for the user's phase.
 */
static enum wg_err
unjoin(struct mdm *m)
{
	static const char *const files[] = { JOIN_CERT_FILE, JOIN_CA_FILE };
	enum wg_err rc = WG_OK;
	size_t i;
	char *path;

	if (strcmp(m->d.profile.mode, MDM_MODE_UNJOIN) != 0)
		return WG_OK;
	for (i = 0; i < sizeof(files) / sizeof(files[0]) && rc == WG_OK;
	    i++) {
		path = xasprintf("%s/%s", m->d.o->state_dir, files[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			rc = WG_FAIL(m, WG_E_IO, "the unjoin: %s cannot be "
			    "deleted: %s", path, strerror(errno));
		free(path);
	}
	m->res->unjoined = rc == WG_OK;
	return rc;
}

/*
 * Whether an earlier run enrolled: mdm.crt is a certificate and mdm.json
 * names the enrollment (what answer_store() wrote), into m->res.
 */
static int
enrolled_before(struct mdm *m)
{
	const char *dir = m->d.o->state_dir, *id, *url, *tp;
	char buf[4096], why[256], *path;
	struct mdm_result *r = m->res;
	X509 *cert = NULL;
	json_t *o = NULL;
	size_t len;
	int ok;

	ok = agent_state_read(dir, MDM_FILE, (unsigned char *)buf,
	    sizeof(buf), &len) == 0 &&
	    wg_json_load_object(buf, len, &o, why, sizeof(why)) == WG_OK &&
	    wg_json_string(o, "EnrollmentId", 1, sizeof(r->enrollment_id) - 1,
	    &id, why, sizeof(why)) == WG_OK &&
	    wg_json_string(o, "ManagementUrl", 1, sizeof(r->management_url) -
	    1, &url, why, sizeof(why)) == WG_OK &&
	    wg_json_string(o, "Thumbprint", 1, sizeof(r->thumbprint) - 1, &tp,
	    why, sizeof(why)) == WG_OK;
	if (ok) { /* mdm.json is written last: mdm.crt is there */
		path = xasprintf("%s/%s", dir, MDM_CERT_FILE);
		ok = (cert = x509_cert_read(path)) != NULL;
		free(path);
	}
	if (ok) {
		memcpy(r->enrollment_id, id, strlen(id) + 1);
		memcpy(r->management_url, url, strlen(url) + 1);
		memcpy(r->thumbprint, tp, strlen(tp) + 1);
	}
	json_decref(o);
	X509_free(cert);
	return ok;
}

static enum wg_err
mdm_steps(struct mdm *m)
{
	const char *dir = m->d.o->state_dir;
	enum wg_err rc;

	if ((rc = profile_file_read(dir, &m->d.profile, m->why, m->whylen)) !=
	    WG_OK)
		return rc;
	memcpy(m->d.correlation_id, m->d.profile.correlation_id,
	    sizeof(m->d.correlation_id));
	memcpy(m->res->correlation_id, m->d.profile.correlation_id,
	    sizeof(m->res->correlation_id));
	memcpy(m->res->tenant, m->d.profile.tenant, sizeof(m->res->tenant));
	if (enrolled_before(m)) {
		/* nothing is sent again; a crash may have left the unjoin */
		m->res->already = 1;
		return unjoin(m);
	}
	if ((rc = devtoken_open(&m->d)) != WG_OK)
		return rc;
	if ((rc = devtoken_discover(&m->d)) != WG_OK ||
	    (rc = devtoken_tries(&m->d, discover_once, m, NULL)) != WG_OK ||
	    (rc = devtoken_get(&m->d)) != WG_OK ||
	    (rc = agent_key_load(m->d.tpm, dir, TPM_KEY_MDM, &m->key,
	    &m->key_pub, m->why, m->whylen)) != WG_OK ||
	    (rc = csr_make(m->d.tpm, &m->key, m->d.profile.ztd_id, &m->csr,
	    &m->csr_len, m->why, m->whylen)) != WG_OK ||
	    (rc = devtoken_tries(&m->d, enroll_once, m, &m->res->tries)) !=
	    WG_OK ||
	    (rc = devtoken_cert_check(&m->d, "MDM certificate",
	    m->answer.cert, m->answer.chain, &m->key_pub)) != WG_OK ||
	    (rc = answer_store(m)) != WG_OK)
		return rc;
	return unjoin(m);
}

enum wg_err
mdm_run(const struct agent_phase_opts *o, struct mdm_result *res, char *why,
    size_t whylen)
{
	struct mdm m = { .d = { .o = o, .channel = "enrollment",
	    .phase = WG_PHASE_MDM, .refused_event = 0,
	    .try_event = MDM_EVT_FAILED, .request_phase = "mdm", .why = why, .whylen = whylen },
	    .res = res, .why = why, .whylen = whylen };
	enum wg_err rc;

	memset(res, 0, sizeof(*res));
	why[0] = '\0';
	if ((rc = agent_state_dir(o->state_dir, why, whylen)) != WG_OK)
		return rc;
	rc = mdm_steps(&m);
	rc = agent_phase_code(rc, why, whylen);
	if (rc == WG_OK && !res->already)
		devtoken_event(&m.d, MDM_EVT_ENROLLED, WG_LEVEL_INFO, WG_OK,
		    "enrolled in device management for %s: enrollment %s, "
		    "management %s (certificate %s; %u %s)%s", res->tenant,
		    res->enrollment_id, res->management_url, res->thumbprint,
		    res->tries, res->tries == 1 ? "try" : "tries",
		    res->unjoined ? "; pre-provisioning: unjoined until the "
		    "user's phase (" JOIN_CERT_FILE " and " JOIN_CA_FILE
		    " deleted, the DK and TK kept)" : "");
	else if (rc != WG_OK)
		devtoken_event(&m.d, MDM_EVT_FAILED, WG_LEVEL_ERROR, rc, "%s: %s",
		    m.enrolling ? "the MDM enrollment failed" : "the MDM "
		    "enrollment could not be prepared", why);
	mdm_answer_free(&m.answer);
	free(m.csr);
	OPENSSL_cleanse(&m.key, sizeof(m.key));
	devtoken_close(&m.d);
	return rc;
}
