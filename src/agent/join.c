/*
 * "Joining your organization's network" on the device (join.h): the
 * requests in their order, each tried as the other phases try theirs
 * (devtoken.h), the TPM's part through tpm.h, and the answer checked
 * before anything is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <openssl/crypto.h>

#include "agent/csr.h"
#include "agent/devtoken.h"
#include "agent/join.h"
#include "agent/state.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"

struct join {
	struct devtoken d;
	struct join_result *res;
	struct tpm_aik dk, tk;
	struct tpm_public dk_pub, tk_pub;
	unsigned char *csr;
	size_t csr_len;
	struct join_answer answer;
	int joining; /* 1 once the join request was made */
	char *why;
	size_t whylen;
};

/* ---- the keys and the request ---- */

/* The DK and TK of an earlier run, else new ones; the CSR for the DK. */
static enum wg_err
keys_and_csr(struct join *j)
{
	const char *dir = j->d.o->state_dir;
	enum wg_err rc;

	if ((rc = agent_key_load(j->d.tpm, dir, TPM_KEY_DEVICE, &j->dk,
	    &j->dk_pub, j->why, j->whylen)) != WG_OK ||
	    (rc = agent_key_load(j->d.tpm, dir, TPM_KEY_TRANSPORT, &j->tk,
	    &j->tk_pub, j->why, j->whylen)) != WG_OK)
		return rc;
	return csr_make(j->d.tpm, &j->dk, j->d.profile.ztd_id, &j->csr,
	    &j->csr_len, j->why, j->whylen);
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

/* The join request (MS-DVRJ's field names; docs/api.md). */
static char *
join_body(struct join *j, const struct nonce_answer *n,
    const struct devtoken_certified *dk, const struct devtoken_certified *tk)
{
	const struct profile_file *p = &j->d.profile;
	char os[JOIN_OS_VERSION_MAX + 1];
	json_t *body;

	os_version(os);
	body = json_pack("{s:{s:s, s:o}, s:o, s:s, s:s, s:s, s:s?, s:i, s:o, "
	    "s:{s:s, s:{s:o, s:o, s:o}, s:{s:o, s:o}}}",
	    "CertificateRequest", "Type", "pkcs10",
	    "Data", devtoken_b64_json(j->csr, j->csr_len),
	    "TransportKey", devtoken_b64_json(j->tk.pub, j->tk.pub_len),
	    "TargetDomain", p->tenant,
	    "DeviceType", "Linux",
	    "OSVersion", os,
	    "DeviceDisplayName", p->device_name[0] ? p->device_name : NULL,
	    "JoinType", 0,
	    "AikCertificate", devtoken_b64_json(j->d.aik_cert,
	    j->d.aik_cert_len),
	    "AttestationData", "Nonce", n->text,
	    "DeviceKey", "Public", devtoken_b64_json(j->dk.pub, j->dk.pub_len),
	    "CertifyInfo", devtoken_b64_json(dk->info, dk->info_len),
	    "Signature", devtoken_b64_json(dk->sig, dk->sig_len),
	    "TransportKey", "CertifyInfo", devtoken_b64_json(tk->info,
	    tk->info_len),
	    "Signature", devtoken_b64_json(tk->sig, tk->sig_len));
	return devtoken_json_text(body);
}

/* A nonce, both certifications, and POST {RegistrationEndpoint}. */
static enum wg_err
join_once(void *arg, int *retry)
{
	struct join *j = arg;
	struct wg_httpc_resp resp = { 0 };
	struct devtoken_certified dk = { 0 }, tk = { 0 };
	struct nonce_answer n;
	char *body = NULL, why[256];
	enum wg_err rc;

	if ((rc = devtoken_nonce(&j->d, &n, retry)) != WG_OK)
		return rc;
	if ((rc = devtoken_certify(&j->d, &j->dk, TPM_KEY_DEVICE, &n,
	    &dk)) != WG_OK || (rc = devtoken_certify(&j->d, &j->tk,
	    TPM_KEY_TRANSPORT, &n, &tk)) != WG_OK) {
		*retry = 0;
		goto done;
	}
	body = join_body(j, &n, &dk, &tk);
	j->joining = 1;
	j->d.try_event = JOIN_EVT_FAILED;
	rc = devtoken_post_json(&j->d, j->d.registration_path, body, &resp,
	    retry);
	join_answer_free(&j->answer);
	if (rc == WG_OK && join_answer_parse(resp.body, resp.body_len,
	    &j->answer, why, sizeof(why)) != WG_OK) {
		rc = WG_FAIL(j, WG_E_NET_PROTOCOL, "POST %s: the answer: %s",
		    j->d.registration_path, why);
		*retry = 1;
	}
done:
	free(body);
	devtoken_certified_free(&dk);
	devtoken_certified_free(&tk);
	wg_httpc_resp_free(&resp);
	return rc;
}

/* ---- the device certificate ---- */

/* device.crt, device-ca.pem and join.json, each written whole. */
static enum wg_err
answer_store(struct join *j)
{
	const struct join_answer *an = &j->answer;
	struct join_result *r = j->res;
	enum wg_err rc;

	rc = devtoken_store(&j->d, JOIN_CERT_FILE, an->cert, JOIN_CA_FILE,
	    an->chain, JOIN_FILE, json_pack("{s:s, s:s, s:s}", "DeviceId",
	    an->device_id, "DisplayName", an->display_name, "Thumbprint",
	    an->thumbprint));
	memcpy(r->device_id, an->device_id, sizeof(r->device_id));
	memcpy(r->display_name, an->display_name, sizeof(r->display_name));
	memcpy(r->thumbprint, an->thumbprint, sizeof(r->thumbprint));
	return rc;
}

static enum wg_err
join_steps(struct join *j)
{
	enum wg_err rc;

	if ((rc = devtoken_open(&j->d)) != WG_OK)
		return rc;
	memcpy(j->res->correlation_id, j->d.profile.correlation_id,
	    sizeof(j->res->correlation_id));
	memcpy(j->res->tenant, j->d.profile.tenant, sizeof(j->res->tenant));
	if ((rc = devtoken_discover(&j->d)) == WG_OK &&
	    (rc = devtoken_get(&j->d)) == WG_OK &&
	    (rc = keys_and_csr(j)) == WG_OK &&
	    (rc = devtoken_tries(&j->d, join_once, j, &j->res->tries)) ==
	    WG_OK &&
	    (rc = devtoken_cert_check(&j->d, "device certificate",
	    j->answer.cert, j->answer.chain, &j->dk_pub)) == WG_OK)
		rc = answer_store(j);
	return rc;
}

enum wg_err
join_run(const struct agent_phase_opts *o, struct join_result *res,
    char *why, size_t whylen)
{
	struct join j = { .d = { .o = o, .channel = "registration",
	    .phase = WG_PHASE_JOINING, .refused_event = JOIN_EVT_REFUSED,
	    .try_event = JOIN_EVT_PREPARE_FAILED, .request_phase = "join",
	    .why = why,
	    .whylen = whylen }, .res = res, .why = why, .whylen = whylen };
	enum wg_err rc;

	memset(res, 0, sizeof(*res));
	why[0] = '\0';
	if ((rc = agent_state_dir(o->state_dir, why, whylen)) != WG_OK)
		return rc;
	rc = join_steps(&j);
	rc = agent_phase_code(rc, why, whylen);
	if (rc == WG_OK)
		devtoken_event(&j.d, JOIN_EVT_DONE, WG_LEVEL_INFO, WG_OK,
		    "joined %s as %s, device id %s (certificate %s; %u %s)",
		    res->tenant, res->display_name, res->device_id,
		    res->thumbprint, res->tries, res->tries == 1 ? "try" :
		    "tries");
	else
		devtoken_event(&j.d, j.joining ? JOIN_EVT_FAILED :
		    JOIN_EVT_PREPARE_FAILED, WG_LEVEL_ERROR, rc, "%s: %s",
		    j.joining ? "the join failed" : "the join could not be "
		    "prepared", why);
	join_answer_free(&j.answer);
	free(j.csr);
	OPENSSL_cleanse(&j.dk, sizeof(j.dk));
	OPENSSL_cleanse(&j.tk, sizeof(j.tk));
	devtoken_close(&j.d);
	return rc;
}
