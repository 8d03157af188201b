/*
 * "Acquire profile" on the device (profile.h): the hardware hash and the
 * AIK to the deployment service, the sealed profile opened in the TPM,
 * checked and saved, with the autopilot channel's events.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "agent/answer.h"
#include "agent/eventlog.h"
#include "agent/hwid.h"
#include "agent/phaseopts.h"
#include "agent/profile.h"
#include "agent/retry.h"
#include "agent/state.h"
#include "agent/sysinfo.h"
#include "common/event.h"
#include "common/httpc.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/aesgcm.h"
#include "crypto/tpmpub.h"

#define PROFILE_JSON_MAX (ANSWER_SEALED_MAX - 28) /* IV and tag aside */

struct acquire {
	const struct agent_phase_opts *o;
	struct profile_result *res;
	struct tpm_ctx *tpm;
	struct sysinfo *si;
	char *hash_b64;
	struct tpm_aik aik;
	struct tpm_public aik_pub;
	struct enroll_answer answer;
	json_t *profile;
	char *why;
	size_t whylen;
};

/* One event of the autopilot channel, with the correlation id once known. */
static void __attribute__((format(printf, 5, 6)))
event(struct acquire *a, int id, enum wg_level level, enum wg_err err,
    const char *fmt, ...)
{
	const char *corr = a->res->correlation_id;
	va_list ap;

	va_start(ap, fmt);
	eventlog_vsay(a->o->state_dir, "autopilot", id, level,
	    WG_PHASE_PROFILE, err, corr[0] ? corr : NULL, NULL, NULL, fmt, ap);
	va_end(ap);
}

/* The hash of this device as the import has it, and the AIK. */
static enum wg_err
identity(struct acquire *a)
{
	const char *serial;
	enum wg_err rc;

	if ((rc = sysinfo_collect(NULL, &a->si)) != WG_OK)
		return WG_FAIL(a, rc, "the device's identity could not be read");
	if ((serial = hwid_serial(a->si, a->o->serial, a->why, a->whylen)) ==
	    NULL)
		return WG_E_DDS_MISSING_SERIAL;
	if ((rc = tpm_open(a->o->tcti, &a->tpm)) != WG_OK)
		return WG_FAIL(a, rc, "the TPM cannot be opened (%s)", a->o->tcti ?
		    a->o->tcti : tpm_tcti_default());
	if ((rc = hwid_build(a->tpm, a->o->ek_alg, a->si, serial,
	    &a->hash_b64)) != WG_OK)
		return WG_FAIL(a, rc, "the hardware hash could not be made");
	return agent_aik_load(a->tpm, a->o->state_dir, &a->aik, &a->aik_pub,
	    a->why, a->whylen);
}

/*
 * Whether a refusal is the deployment service's answer about this device
 * (not registered, other hardware, no profile: final) rather than a proxy
 * or a server that is starting (worth another try).
 */
static int
final_refusal(long status, const struct wg_httpc_error *e)
{
	const struct wg_err_info *info = wg_err_info(e->err);

	if (!agent_retryable(WG_OK, status))
		return 1;
	return status == 404 && info != NULL && info->phase ==
	    WG_PHASE_PROFILE;
}

/* One try of POST /ztd/v1/profile; *retry: worth another. */
static enum wg_err
ask(struct acquire *a, struct wg_httpc *c, unsigned try_no, int *retry)
{
	struct wg_httpc_resp resp = {0};
	struct wg_httpc_error e;
	char *aik = wg_b64(a->aik.pub, a->aik.pub_len), why[256];
	json_t *body;
	enum wg_err rc;

	body = json_pack("{s:s, s:s}", "hardwareHash", a->hash_b64,
	    "aikPublic", aik);
	free(aik);
	rc = wg_httpc_json(c, "POST", "/ztd/v1/profile", NULL, body, &resp);
	json_decref(body);
	*retry = 1;
	if (rc != WG_OK) {
		WG_FAIL(a, rc == WG_E_NET_TIMEOUT ? WG_E_TIMEOUT : rc, "POST "
		    "%s/ztd/v1/profile: %s", a->o->server, resp.detail);
		rc = rc == WG_E_NET_TIMEOUT ? WG_E_TIMEOUT : rc;
	} else if (resp.status != 200) {
		wg_httpc_resp_error(&resp, &e);
		*retry = !final_refusal(resp.status, &e);
		rc = WG_FAIL(a, e.err, "POST %s/ztd/v1/profile: HTTP %ld %s %s: %s",
		    a->o->server, resp.status, e.code, e.name, e.message);
	} else if (profile_answer_parse(resp.body, resp.body_len, &a->answer,
	    why, sizeof(why)) != WG_OK) {
		rc = WG_FAIL(a, WG_E_NET_PROTOCOL, "POST /ztd/v1/profile: the "
		    "answer: %s", why);
	} else {
		*retry = 0;
	}
	/* a try to be made again is a warning; the phase reports the end */
	if (rc != WG_OK && *retry && try_no < a->o->tries)
		event(a, PROFILE_EVT_FAILED, WG_LEVEL_WARNING, rc, "try %u/%u: "
		    "%s", try_no, a->o->tries, a->why);
	wg_httpc_resp_free(&resp);
	return rc;
}

/* The request with its tries. */
static enum wg_err
request(struct acquire *a)
{
	struct wg_httpc_opts ho = {.base_url = a->o->server,
	    .ca_file = a->o->ca_file, .timeout_ms = a->o->timeout_ms,
	    .max_body = ANSWER_BODY_MAX};
	struct wg_httpc *c = NULL;
	enum wg_err rc = WG_OK;
	char why[512] = "";
	unsigned n;
	int retry = 1;

	if (wg_httpc_new(&ho, &c, why, sizeof(why)) != WG_OK)
		return WG_FAIL(a, WG_E_CONFIG, "--server: %s", why);
	for (n = 1; n <= a->o->tries && retry; n++) {
		if (n > 1)
			agent_backoff(a->o->backoff_ms, n);
		if ((rc = ask(a, c, n, &retry)) == WG_OK)
			break;
	}
	a->res->tries = n > a->o->tries ? a->o->tries : n;
	wg_httpc_free(c);
	if (rc != WG_OK && retry) {
		snprintf(why, sizeof(why), "%s", a->why);
		return WG_FAIL(a, rc, "%u tries failed; the last: %s", a->o->tries,
		    why);
	}
	return rc;
}

/* A string member of the profile into dst; -1 if absent or too long. */
static int
member(const json_t *p, const char *name, char *dst, size_t size)
{
	const json_t *v = json_object_get(p, name);

	if (!json_is_string(v) || json_string_length(v) >= size)
		return -1;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* The profile JSON: the members every later step relies on. */
static enum wg_err
profile_check(struct acquire *a, const unsigned char *text, size_t len)
{
	struct profile_result *r = a->res;
	char why[256] = "", tenant_id[37];

	if (wg_json_load_object((const char *)text, len, &a->profile, why,
	    sizeof(why)) != WG_OK)
		return WG_FAIL(a, WG_E_PROFILE_INVALID, "the profile is not a JSON "
		    "object: %s", why);
	if (member(a->profile, "ZtdCorrelationId", r->correlation_id,
	    sizeof(r->correlation_id)) != 0 || member(a->profile,
	    "CloudAssignedTenantId", tenant_id, sizeof(tenant_id)) != 0 ||
	    member(a->profile, "CloudAssignedTenantDomain", r->tenant,
	    sizeof(r->tenant)) != 0 || member(a->profile,
	    "DeploymentProfileName", r->name, sizeof(r->name)) != 0 ||
	    member(a->profile, "DeploymentMode", r->mode, sizeof(r->mode)) !=
	    0 || !json_is_integer(json_object_get(a->profile, "Version")))
		return WG_FAIL(a, WG_E_PROFILE_INVALID, "the profile lacks "
		    "Version, ZtdCorrelationId, CloudAssignedTenantId, "
		    "CloudAssignedTenantDomain, DeploymentProfileName or "
		    "DeploymentMode, or one is not what it should be");
	return WG_OK;
}

/* Opens the sealed profile in the TPM, checks it and saves it. */
static enum wg_err
open_and_save(struct acquire *a)
{
	const struct enroll_answer *an = &a->answer;
	unsigned char key[64], *text = NULL;
	size_t key_len = 0, len = 0;
	char *pretty;
	enum wg_err rc;

	rc = tpm_activate_credential(a->tpm, a->o->ek_alg, &a->aik, an->blob,
	    an->blob_len, an->secret, an->secret_len, key, &key_len);
	if (rc == WG_E_TPM_ACTIVATION)
		rc = WG_FAIL(a, WG_E_PROFILE_INVALID, "the TPM did not open the "
		    "profile's credential: it was not made for this TPM's EK "
		    "and AIK (the tpm channel and the log have the TPM's own "
		    "message)");
	else if (rc != WG_OK)
		rc = WG_FAIL(a, rc, "the TPM failed while opening the profile");
	else if (key_len != 32 || aesgcm_open(key, an->sealed, an->sealed_len,
	    &text, &len) != WG_OK || len > PROFILE_JSON_MAX)
		rc = WG_FAIL(a, WG_E_PROFILE_INVALID, "the profile does not "
		    "decrypt with the activated secret");
	OPENSSL_cleanse(key, sizeof(key));
	if (rc == WG_OK)
		rc = profile_check(a, text, len);
	free(text);
	if (rc != WG_OK)
		return rc;
	pretty = json_dumps(a->profile, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (pretty == NULL)
		abort(); /* out of memory */
	rc = agent_state_write(a->o->state_dir, PROFILE_FILE, pretty,
	    strlen(pretty), a->why, a->whylen);
	free(pretty);
	return rc;
}

/* The profile's state after the phase, as event 153 tells it. */
static const char *
state_of(enum wg_err rc)
{
	switch (rc) {
	case WG_OK:
		return "available";
	case WG_E_DDS_DEVICE_NOT_FOUND:
		return "notRegistered";
	case WG_E_DDS_HASH_MISMATCH:
		return "hardwareMismatch";
	case WG_E_PROFILE_NOT_ASSIGNED:
		return "notAssigned";
	default:
		return "unavailable";
	}
}

enum wg_err
profile_file_read(const char *dir, struct profile_file *out, char *why,
    size_t whylen)
{
	unsigned char *buf = xmalloc(PROFILE_JSON_MAX + 1);
	char text[256] = "";
	json_t *p = NULL;
	size_t len = 0;
	enum wg_err rc = WG_E_PROFILE_INVALID;

	memset(out, 0, sizeof(*out));
	if (agent_state_read(dir, PROFILE_FILE, buf, PROFILE_JSON_MAX + 1,
	    &len) != 0)
		wg_say(why, whylen, "no profile in %s/%s: acquire it first "
		    "(whiteglove-agent profile)", dir, PROFILE_FILE);
	else if (wg_json_load_object((const char *)buf, len, &p, text,
	    sizeof(text)) != WG_OK)
		wg_say(why, whylen, "%s/%s: %s", dir, PROFILE_FILE, text);
	else if (member(p, "CloudAssignedTenantId", out->tenant_id,
	    sizeof(out->tenant_id)) != 0 || !wg_is_uuid(out->tenant_id) ||
	    member(p, "CloudAssignedTenantDomain", out->tenant,
	    sizeof(out->tenant)) != 0 || out->tenant[0] == '\0' ||
	    member(p, "CloudAssignedDeviceName", out->device_name,
	    sizeof(out->device_name)) != 0 ||
	    member(p, "ZtdCorrelationId", out->correlation_id,
	    sizeof(out->correlation_id)) != 0 ||
	    member(p, "ZtdDeviceId", out->ztd_id, sizeof(out->ztd_id)) != 0 ||
	    !wg_is_uuid(out->ztd_id))
		wg_say(why, whylen, "%s/%s lacks CloudAssignedTenantId, "
		    "CloudAssignedTenantDomain, CloudAssignedDeviceName, "
		    "ZtdCorrelationId or ZtdDeviceId, or one is not what it "
		    "should be", dir, PROFILE_FILE);
	else if (json_object_get(p, "DeploymentMode") != NULL &&
	    member(p, "DeploymentMode", out->mode, sizeof(out->mode)) != 0)
		wg_say(why, whylen, "%s/%s: DeploymentMode is not a string of "
		    "at most %zu bytes", dir, PROFILE_FILE, sizeof(out->mode) - 1);
	else
		rc = WG_OK;
	if (rc == WG_OK && json_is_integer(json_object_get(p,
	    "EspTimeoutMinutes"))) {
		json_int_t m = json_integer_value(json_object_get(p,
		    "EspTimeoutMinutes"));

		out->esp_timeout_min = m >= 1 && m <= 24 * 60 ? (int)m : 0;
	}
	json_decref(p);
	free(buf);
	if (rc != WG_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

enum wg_err
profile_run(const struct agent_phase_opts *o, struct profile_result *res,
    char *why, size_t whylen)
{
	struct acquire a = {.o = o, .res = res, .why = why, .whylen = whylen};
	enum wg_err rc;

	memset(res, 0, sizeof(*res));
	why[0] = '\0';
	if ((rc = agent_state_dir(o->state_dir, why, whylen)) != WG_OK)
		return rc;
	event(&a, PROFILE_EVT_STARTED, WG_LEVEL_INFO, WG_OK, "Autopilot "
	    "profile acquisition started (deployment service %s)",
	    o->server);
	if ((rc = identity(&a)) == WG_OK && (rc = request(&a)) == WG_OK)
		rc = open_and_save(&a);
	rc = agent_phase_code(rc, why, whylen);
	if (rc == WG_OK)
		event(&a, PROFILE_EVT_DONE, WG_LEVEL_INFO, WG_OK, "Autopilot "
		    "profile \"%s\" retrieved for %s (%s, %u %s); saved as %s",
		    res->name, res->tenant, res->mode, res->tries,
		    res->tries == 1 ? "try" : "tries", PROFILE_FILE);
	else if (rc == WG_E_DDS_HASH_MISMATCH)
		event(&a, PROFILE_EVT_HASH_MISMATCH, WG_LEVEL_ERROR, rc, "the "
		    "device's hardware does not match its imported hardware "
		    "hash: %s", why);
	else
		event(&a, PROFILE_EVT_FAILED, WG_LEVEL_ERROR, rc, "Autopilot "
		    "profile not acquired: %s", why);
	event(&a, PROFILE_EVT_STATE, rc == WG_OK ? WG_LEVEL_INFO :
	    WG_LEVEL_ERROR, rc, "the profile's state changed from unknown to "
	    "%s", state_of(rc));
	json_decref(a.profile);
	enroll_answer_free(&a.answer);
	OPENSSL_cleanse(&a.aik, sizeof(a.aik));
	free(a.hash_b64);
	sysinfo_free(a.si);
	tpm_close(a.tpm);
	return rc;
}
