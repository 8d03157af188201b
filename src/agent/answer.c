/*
 * The answers the device reads (answer.h): JSON through the
 * one strict loader (common/json.h), base64 through util, certificates
 * through OpenSSL with their exact length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "agent/answer.h"
#include "agent/answer_int.h"
#include "agent/apps.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"

/* A base64 string field into *out, 1..max bytes once decoded. */
static enum wg_err
b64_member(const json_t *o, const char *name, size_t max,
    unsigned char **out, size_t *len, char *why, size_t whylen)
{
	const char *s;

	*out = NULL;
	if (wg_json_string(o, name, 1, (max + 2) / 3 * 4, &s, why, whylen) !=
	    WG_OK)
		return WG_E_NET_PROTOCOL;
	if (wg_b64_decode_text(s, out, len) != 0 || *len == 0) {
		free(*out);
		*out = NULL;
		wg_say(why, whylen, "field \"%s\" is not base64", name);
		return WG_E_NET_PROTOCOL;
	}
	return WG_OK;
}

/* One DER certificate (label names it in why), exactly its bytes. */
static X509 *
der_cert(const json_t *v, const char *label, char *why, size_t whylen)
{
	const unsigned char *p;
	unsigned char *der = NULL;
	size_t n = 0;
	X509 *x = NULL;

	if (json_is_string(v) &&
	    json_string_length(v) <= (ANSWER_CERT_MAX + 2) / 3 * 4 &&
	    wg_b64_decode_text(json_string_value(v), &der, &n) == 0) {
		p = der;
		x = d2i_X509(NULL, &p, (long)n);
		if (x != NULL && p != der + n) {
			X509_free(x);
			x = NULL;
		}
	}
	if (x == NULL) {
		ERR_clear_error();
		wg_say(why, whylen, "%s is not one base64 DER certificate of "
		    "at most %d bytes", label, ANSWER_CERT_MAX);
	}
	free(der);
	return x;
}

/* The list of CA certificates `name` of o. */
static enum wg_err
chain_member(const json_t *o, const char *name, STACK_OF(X509) **out,
    char *why, size_t whylen)
{
	json_t *arr = json_object_get(o, name), *v;
	char label[64];
	X509 *x;
	size_t i;

	*out = NULL;
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > ANSWER_CHAIN_MAX) {
		wg_say(why, whylen, "%s is not a list of 1 to %d "
		    "certificates", name, ANSWER_CHAIN_MAX);
		return WG_E_NET_PROTOCOL;
	}
	if ((*out = sk_X509_new_null()) == NULL)
		abort(); /* out of memory */
	json_array_foreach(arr, i, v) {
		snprintf(label, sizeof(label), "%s[%zu]", name, i);
		if ((x = der_cert(v, label, why, whylen)) == NULL) {
			sk_X509_pop_free(*out, X509_free);
			*out = NULL;
			return WG_E_NET_PROTOCOL;
		}
		if (!sk_X509_push(*out, x))
			abort();
	}
	return WG_OK;
}

/* body as one JSON object of at most max bytes. */
static enum wg_err
answer_load_max(const char *body, size_t len, size_t max, json_t **o,
    char *why, size_t whylen)
{
	*o = NULL;
	if (body == NULL || len > max) {
		wg_say(why, whylen, "the answer is empty or over %zu bytes",
		    max);
		return WG_E_NET_PROTOCOL;
	}
	if (wg_json_load_object(body, len, o, why, whylen) != WG_OK)
		return WG_E_NET_PROTOCOL;
	return WG_OK;
}

/* body as one JSON object of at most ANSWER_BODY_MAX (answer_int.h). */
enum wg_err
answer_load(const char *body, size_t len, json_t **o, char *why,
    size_t whylen)
{
	return answer_load_max(body, len, ANSWER_BODY_MAX, o, why, whylen);
}

/*
 * A sealed answer: credentialBlob, encryptedSecret, the sealed field
 * `sealed` and, with chain, caChain; nothing else.
 */
static enum wg_err
sealed_answer_parse(const char *body, size_t len, const char *sealed,
    int chain, struct enroll_answer *out, char *why, size_t whylen)
{
	const char *const allowed[] = {"credentialBlob", "encryptedSecret",
	    sealed, chain ? "caChain" : NULL, NULL};
	json_t *o = NULL;
	enum wg_err rc = WG_E_NET_PROTOCOL;

	memset(out, 0, sizeof(*out));
	if (body == NULL || len > ANSWER_BODY_MAX) {
		wg_say(why, whylen, "the answer is empty or over %d bytes",
		    ANSWER_BODY_MAX);
		return rc;
	}
	if (wg_json_load_object(body, len, &o, why, whylen) == WG_OK &&
	    wg_json_only(o, allowed, why, whylen) == WG_OK &&
	    b64_member(o, "credentialBlob", ANSWER_BLOB_MAX, &out->blob,
	    &out->blob_len, why, whylen) == WG_OK &&
	    b64_member(o, "encryptedSecret", ANSWER_SECRET_MAX, &out->secret,
	    &out->secret_len, why, whylen) == WG_OK &&
	    b64_member(o, sealed, ANSWER_SEALED_MAX, &out->sealed,
	    &out->sealed_len, why, whylen) == WG_OK &&
	    (!chain || chain_member(o, "caChain", &out->chain, why, whylen) ==
	    WG_OK))
		rc = WG_OK;
	json_decref(o);
	if (rc != WG_OK)
		enroll_answer_free(out);
	return rc;
}

enum wg_err
enroll_answer_parse(const char *body, size_t len, struct enroll_answer *out,
    char *why, size_t whylen)
{
	return sealed_answer_parse(body, len, "encryptedCertificate", 1, out,
	    why, whylen);
}

enum wg_err
profile_answer_parse(const char *body, size_t len, struct enroll_answer *out,
    char *why, size_t whylen)
{
	return sealed_answer_parse(body, len, "encryptedProfile", 0, out, why,
	    whylen);
}

void
enroll_answer_free(struct enroll_answer *a)
{
	free(a->blob);
	free(a->secret);
	free(a->sealed);
	sk_X509_pop_free(a->chain, X509_free);
	memset(a, 0, sizeof(*a));
}

enum wg_err
ekcert_answer_parse(const char *body, size_t len, unsigned char **der,
    size_t *n, char *why, size_t whylen)
{
	static const char *const allowed[] = {"pubhash", "certificate", NULL};
	const char *cert, *pubhash;
	json_t *o = NULL;
	char *t = NULL;
	size_t tn;
	enum wg_err rc = WG_E_NET_PROTOCOL;

	*der = NULL;
	*n = 0;
	if (answer_load(body, len, &o, why, whylen) != WG_OK ||
	    wg_json_only(o, allowed, why, whylen) != WG_OK ||
	    wg_json_string(o, "pubhash", 1, 64, &pubhash, why, whylen) !=
	    WG_OK ||
	    wg_json_string(o, "certificate", 1, (ANSWER_CERT_MAX + 2) / 3 * 4,
	    &cert, why, whylen) != WG_OK)
		goto done;
	/* base64url; the pad Intel's service writes is dropped first */
	t = xstrdup(cert);
	for (tn = strlen(t); tn > 0 && t[tn - 1] == '='; tn--)
		t[tn - 1] = '\0';
	if (strlen(cert) - tn > 2 || wg_b64url_decode(t, der, n) != 0 ||
	    *n == 0) {
		free(*der);
		*der = NULL;
		*n = 0;
		wg_say(why, whylen, "field \"certificate\" is not base64url");
		goto done;
	}
	rc = WG_OK;
done:
	free(t);
	json_decref(o);
	return rc;
}

/* ---- joining ---- */

/*
 * Endpoint `name` of the discovery object o (label: its path, for why):
 * a path from the root ("/token") or an http(s) URL, printable, without
 * blanks, at most ANSWER_ENDPOINT_MAX bytes, into out.
 */
static enum wg_err
endpoint_member(const json_t *o, const char *label, const char *name,
    char out[ANSWER_ENDPOINT_MAX + 1], char *why, size_t whylen)
{
	const char *s = NULL;

	if (json_is_object(o) && wg_json_string(o, name, 1,
	    ANSWER_ENDPOINT_MAX, &s, why, whylen) == WG_OK &&
	    strchr(s, ' ') == NULL && ((s[0] == '/' && s[1] != '/') ||
	    strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0)) {
		memcpy(out, s, strlen(s) + 1);
		return WG_OK;
	}
	wg_say(why, whylen, "%s is not a path (\"/...\") or an http(s) URL of "
	    "at most %d bytes", label, ANSWER_ENDPOINT_MAX);
	return WG_E_NET_PROTOCOL;
}

/*
 * The discovery document carries every service of the tenant (MS-DVRD);
 * a client reads the members it uses and ignores the others, as with any
 * discovery document (RFC 8414, 3.2), so the server may add services.
 */
enum wg_err
discovery_answer_parse(const char *body, size_t len,
    struct discovery_answer *out, char *why, size_t whylen)
{
	const json_t *drs, *oauth;
	json_t *o = NULL;
	enum wg_err rc = WG_E_NET_PROTOCOL;

	memset(out, 0, sizeof(*out));
	if (answer_load(body, len, &o, why, whylen) != WG_OK)
		return rc;
	drs = json_object_get(o, "DeviceRegistrationService");
	oauth = json_object_get(json_object_get(o, "AuthenticationService"),
	    "OAuth2");
	if (endpoint_member(drs, "DeviceRegistrationService."
	    "RegistrationEndpoint", "RegistrationEndpoint", out->registration,
	    why, whylen) == WG_OK && endpoint_member(oauth,
	    "AuthenticationService.OAuth2.TokenEndpoint", "TokenEndpoint",
	    out->token, why, whylen) == WG_OK)
		rc = WG_OK;
	json_decref(o);
	if (rc != WG_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* expires_in of a token endpoint's answer: absent, or 1..max seconds. */
static enum wg_err
expires_member(const json_t *o, int required, json_int_t max, char *why,
    size_t whylen)
{
	const json_t *v = json_object_get(o, "expires_in");

	if ((v == NULL && !required) || (json_is_integer(v) &&
	    json_integer_value(v) >= 1 && json_integer_value(v) <= max))
		return WG_OK;
	wg_say(why, whylen, "expires_in is not 1 to %lld seconds",
	    (long long)max);
	return WG_E_NET_PROTOCOL;
}

/*
 * The token endpoint's answers follow RFC 6749 5.1: a client ignores
 * members it does not know.
 */
enum wg_err
nonce_answer_parse(const char *body, size_t len, struct nonce_answer *out,
    char *why, size_t whylen)
{
	unsigned char *raw = NULL;
	const char *s;
	json_t *o = NULL;
	size_t n = 0;
	enum wg_err rc = WG_E_NET_PROTOCOL;

	memset(out, 0, sizeof(*out));
	if (answer_load(body, len, &o, why, whylen) != WG_OK ||
	    wg_json_string(o, "Nonce", 1, ANSWER_NONCE_TEXT_MAX, &s, why,
	    whylen) != WG_OK || expires_member(o, 0, 86400, why, whylen) !=
	    WG_OK)
		goto done;
	if (wg_b64url_decode(s, &raw, &n) != 0 || n == 0 ||
	    n > sizeof(out->bytes)) {
		wg_say(why, whylen, "Nonce is not base64url of 1 to %zu bytes",
		    sizeof(out->bytes));
		goto done;
	}
	memcpy(out->text, s, strlen(s) + 1);
	memcpy(out->bytes, raw, n);
	out->len = n;
	rc = WG_OK;
done:
	free(raw);
	json_decref(o);
	return rc;
}

/* 1 if s is a JWS in compact form (RFC 7515 7.1): 3 base64url parts. */
static int
is_compact_jws(const char *s)
{
	size_t dots = 0;

	for (; *s != '\0'; s++) {
		if (*s == '.')
			dots++;
		else if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' &&
		    *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		    *s == '_'))
			return 0;
	}
	return dots == 2;
}

enum wg_err
token_answer_parse(const char *body, size_t len, char **token, char *why,
    size_t whylen)
{
	const char *s, *type;
	json_t *o = NULL;
	enum wg_err rc = WG_E_NET_PROTOCOL;

	*token = NULL;
	if (answer_load(body, len, &o, why, whylen) != WG_OK ||
	    wg_json_string(o, "access_token", 1, ANSWER_TOKEN_MAX, &s, why,
	    whylen) != WG_OK || wg_json_string(o, "token_type", 1, 16, &type,
	    why, whylen) != WG_OK || expires_member(o, 1, 86400, why,
	    whylen) != WG_OK)
		goto done;
	if (strcasecmp(type, "Bearer") != 0) /* RFC 6749 7.1: no case */
		wg_say(why, whylen, "token_type is not Bearer");
	else if (!is_compact_jws(s))
		wg_say(why, whylen, "access_token is not a compact JWS "
		    "(RFC 7515 7.1)");
	else {
		*token = xstrdup(s);
		rc = WG_OK;
	}
done:
	json_decref(o);
	return rc;
}

/*
 * Certificate: exactly {RawBody, Thumbprint}, the thumbprint its SHA-1
 * (the join's and the MDM enrollment's answers): *cert (the caller frees
 * it, also on failure) and thumbprint, upper case hex.
 */
static enum wg_err
cert_member(const json_t *o, X509 **cert, char thumbprint[41], char *why,
    size_t whylen)
{
	static const char *const allowed[] = {"RawBody", "Thumbprint", NULL};
	const json_t *c = json_object_get(o, "Certificate");
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	const char *tp;
	size_t i;

	if (!json_is_object(c) || wg_json_only(c, allowed, why, whylen) !=
	    WG_OK || wg_json_string(c, "Thumbprint", 1, 40, &tp, why,
	    whylen) != WG_OK) {
		wg_say(why, whylen, "Certificate is not {\"RawBody\", "
		    "\"Thumbprint\"}");
		return WG_E_NET_PROTOCOL;
	}
	if ((*cert = der_cert(json_object_get(c, "RawBody"),
	    "Certificate.RawBody", why, whylen)) == NULL)
		return WG_E_NET_PROTOCOL;
	if (!X509_digest(*cert, EVP_sha1(), md, &n) || n != 20)
		abort(); /* SHA-1 of a certificate that encodes */
	for (i = 0; i < n; i++)
		snprintf(thumbprint + 2 * i, 3, "%02X", md[i]);
	if (strcmp(tp, thumbprint) != 0) {
		wg_say(why, whylen, "Certificate.Thumbprint is not the upper "
		    "case hex SHA-1 of RawBody");
		return WG_E_NET_PROTOCOL;
	}
	return WG_OK;
}

/*
 * What the join's and the MDM enrollment's answers share: the object of
 * body with exactly the members of allowed, among them Certificate (into
 * *cert and thumbprint), CaChain (into *chain) and id_name, a UUID (into
 * id).  *o is the object for the caller's other members (the caller
 * decrefs it; the certificates are the caller's, also on failure).
 */
static enum wg_err
cert_answer(const char *body, size_t len, const char *const *allowed,
    const char *id_name, json_t **o, X509 **cert, char thumbprint[41],
    STACK_OF(X509) **chain, char id[WG_UUID_LEN + 1], char *why,
    size_t whylen)
{
	const char *s;

	if (answer_load(body, len, o, why, whylen) != WG_OK ||
	    wg_json_only(*o, allowed, why, whylen) != WG_OK ||
	    cert_member(*o, cert, thumbprint, why, whylen) != WG_OK ||
	    wg_json_string(*o, id_name, 1, WG_UUID_LEN, &s, why, whylen) !=
	    WG_OK ||
	    chain_member(*o, "CaChain", chain, why, whylen) != WG_OK)
		return WG_E_NET_PROTOCOL;
	if (!wg_is_uuid(s)) {
		wg_say(why, whylen, "%s is not a UUID", id_name);
		return WG_E_NET_PROTOCOL;
	}
	memcpy(id, s, strlen(s) + 1);
	return WG_OK;
}

enum wg_err
join_answer_parse(const char *body, size_t len, struct join_answer *out,
    char *why, size_t whylen)
{
	static const char *const allowed[] = {"Certificate", "DeviceId",
	    "DisplayName", "CaChain", NULL};
	const char *name;
	json_t *o = NULL;
	enum wg_err rc = WG_E_NET_PROTOCOL;

	memset(out, 0, sizeof(*out));
	if (cert_answer(body, len, allowed, "DeviceId", &o, &out->cert,
	    out->thumbprint, &out->chain, out->device_id, why, whylen) ==
	    WG_OK && wg_json_string(o, "DisplayName", 1, ANSWER_NAME_MAX,
	    &name, why, whylen) == WG_OK) {
		memcpy(out->display_name, name, strlen(name) + 1);
		rc = WG_OK;
	}
	json_decref(o);
	if (rc != WG_OK)
		join_answer_free(out);
	return rc;
}

void
join_answer_free(struct join_answer *a)
{
	X509_free(a->cert);
	sk_X509_pop_free(a->chain, X509_free);
	memset(a, 0, sizeof(*a));
}

/* ---- MDM enrollment and the reseal ---- */

enum wg_err
mdm_discovery_answer_parse(const char *body, size_t len,
    struct mdm_discovery_answer *out, char *why, size_t whylen)
{
	const char *policy = NULL;
	json_t *o = NULL;
	enum wg_err rc = WG_E_NET_PROTOCOL;

	memset(out, 0, sizeof(*out));
	if (answer_load(body, len, &o, why, whylen) != WG_OK ||
	    endpoint_member(o, "EnrollmentServiceUrl", "EnrollmentServiceUrl",
	    out->enroll, why, whylen) != WG_OK ||
	    wg_json_string(o, "AuthPolicy", 1, 32, &policy, why, whylen) !=
	    WG_OK)
		goto done;
	if (strcmp(policy, "DeviceToken") != 0)
		wg_say(why, whylen, "AuthPolicy is not DeviceToken, the only "
		    "policy the agent has");
	else
		rc = WG_OK;
done:
	json_decref(o);
	if (rc != WG_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ManagementUrl: an https URL, printable, without blanks. */
static enum wg_err
url_member(const json_t *o, const char *name,
    char out[ANSWER_ENDPOINT_MAX + 1], char *why, size_t whylen)
{
	const char *s;

	if (wg_json_string(o, name, 1, ANSWER_ENDPOINT_MAX, &s, why, whylen) !=
	    WG_OK)
		return WG_E_NET_PROTOCOL;
	if (strncmp(s, "https://", 8) != 0 || s[8] == '\0' ||
	    strchr(s, ' ') != NULL || !wg_str_printable(s)) {
		wg_say(why, whylen, "%s is not an https URL of at most %d "
		    "bytes", name, ANSWER_ENDPOINT_MAX);
		return WG_E_NET_PROTOCOL;
	}
	memcpy(out, s, strlen(s) + 1);
	return WG_OK;
}

enum wg_err
mdm_answer_parse(const char *body, size_t len, struct mdm_answer *out,
    char *why, size_t whylen)
{
	static const char *const allowed[] = {"Certificate", "EnrollmentId",
	    "ManagementUrl", "CaChain", NULL};
	json_t *o = NULL;
	enum wg_err rc = WG_E_NET_PROTOCOL;

	memset(out, 0, sizeof(*out));
	if (cert_answer(body, len, allowed, "EnrollmentId", &o, &out->cert,
	    out->thumbprint, &out->chain, out->enrollment_id, why, whylen) ==
	    WG_OK && url_member(o, "ManagementUrl", out->management_url, why,
	    whylen) == WG_OK)
		rc = WG_OK;
	json_decref(o);
	if (rc != WG_OK)
		mdm_answer_free(out);
	return rc;
}

void
mdm_answer_free(struct mdm_answer *a)
{
	X509_free(a->cert);
	sk_X509_pop_free(a->chain, X509_free);
	memset(a, 0, sizeof(*a));
}

/* Integer member `name` of o in [min, max] (answer_int.h). */
enum wg_err
answer_range_member(const json_t *o, const char *name, json_int_t min,
    json_int_t max, json_int_t *out, char *why, size_t whylen)
{
	const json_t *v = json_object_get(o, name);

	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		wg_say(why, whylen, "%s is not an integer %lld to %lld", name,
		    (long long)min, (long long)max);
		return WG_E_NET_PROTOCOL;
	}
	*out = json_integer_value(v);
	return WG_OK;
}

/* A counter of TPMS_CLOCK_INFO (a UINT32) into *out. */
static enum wg_err
count_member(const json_t *o, const char *name, uint32_t *out, char *why,
    size_t whylen)
{
	json_int_t v;

	if (answer_range_member(o, name, 0, (json_int_t)UINT32_MAX, &v, why,
	    whylen) != WG_OK)
		return WG_E_NET_PROTOCOL;
	*out = (uint32_t)v;
	return WG_OK;
}

/* 1 if s is an RFC 3339 UTC time as the server writes them. */
static int
is_rfc3339(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i, n = strlen(s);

	if (n < sizeof(shape) || s[n - 1] != 'Z')
		return 0;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') :
		    s[i] != shape[i])
			return 0;
	for (; i < n - 1; i++) /* fractions of a second */
		if (!(s[i] == '.' && i == sizeof(shape) - 1) &&
		    !(s[i] >= '0' && s[i] <= '9' && i > sizeof(shape) - 1))
			return 0;
	return 1;
}

/* 1 if s is n hex digits, lower case or (with upper) either case. */
static int
is_hex(const char *s, size_t n, int upper)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f') || (upper && s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return i == n;
}

/* Ticket, ExpiresAt and BoundTo, each by its rule. */
static enum wg_err
reseal_strings(const json_t *o, struct reseal_answer *out, char *why,
    size_t whylen)
{
	const char *ticket, *at, *bound;

	if (wg_json_string(o, "Ticket", 1, ANSWER_TICKET_MAX, &ticket, why,
	    whylen) != WG_OK || wg_json_string(o, "ExpiresAt", 1,
	    sizeof(out->expires_at) - 1, &at, why, whylen) != WG_OK ||
	    wg_json_string(o, "BoundTo", 1, 64, &bound, why, whylen) != WG_OK)
		return WG_E_NET_PROTOCOL;
	if (!answer_b64url_secret(ticket))
		wg_say(why, whylen, "Ticket is not base64url of 16 to 64 bytes");
	else if (!is_rfc3339(at))
		wg_say(why, whylen, "ExpiresAt is not an RFC 3339 UTC time");
	else if (!is_hex(bound, 64, 1))
		wg_say(why, whylen, "BoundTo is not a hex SHA-256");
	else {
		memcpy(out->ticket, ticket, strlen(ticket) + 1);
		memcpy(out->expires_at, at, strlen(at) + 1);
		memcpy(out->bound_to, bound, 65);
		return WG_OK;
	}
	return WG_E_NET_PROTOCOL;
}

enum wg_err
reseal_answer_parse(const char *body, size_t len, struct reseal_answer *out,
    char *why, size_t whylen)
{
	static const char *const allowed[] = {"Ticket", "ExpiresAt",
	    "ResetCount", "RestartCount", "BoundTo", NULL};
	json_t *o = NULL;
	enum wg_err rc = WG_E_NET_PROTOCOL;

	memset(out, 0, sizeof(*out));
	if (answer_load(body, len, &o, why, whylen) == WG_OK &&
	    wg_json_only(o, allowed, why, whylen) == WG_OK &&
	    reseal_strings(o, out, why, whylen) == WG_OK &&
	    count_member(o, "ResetCount", &out->reset_count, why, whylen) ==
	    WG_OK && count_member(o, "RestartCount", &out->restart_count, why,
	    whylen) == WG_OK)
		rc = WG_OK;
	json_decref(o);
	if (rc != WG_OK)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}

/* ---- device setup ---- */

/*
 * The strings of app o into *a, each by its rule; the caller names the
 * app in front of why.
 */
static enum wg_err
app_strings(const json_t *o, struct app_answer *a, char *why, size_t whylen)
{
	const char *id, *name, *sha, *cmd, *url;

	if (wg_json_string(o, "id", 1, WG_UUID_LEN, &id, why, whylen) !=
	    WG_OK || wg_json_string(o, "name", 1, ANSWER_APP_NAME_MAX, &name,
	    why, whylen) != WG_OK || wg_json_string(o, "sha256", 1, 64, &sha,
	    why, whylen) != WG_OK || wg_json_string(o, "installCommand", 1,
	    ANSWER_APP_COMMAND_MAX, &cmd, why, whylen) != WG_OK ||
	    wg_json_string(o, "contentUrl", 1, ANSWER_ENDPOINT_MAX, &url, why,
	    whylen) != WG_OK)
		return WG_E_NET_PROTOCOL;
	if (!wg_is_uuid(id))
		return wg_fail(WG_E_NET_PROTOCOL, why, whylen, "id is not a "
		    "lower case UUID");
	if (!is_hex(sha, 64, 0))
		return wg_fail(WG_E_NET_PROTOCOL, why, whylen, "sha256 is not "
		    "64 lower case hex digits");
	snprintf(a->content_url, sizeof(a->content_url), "%s%s",
	    ANSWER_CONTENT_PATH, sha);
	if (strcmp(url, a->content_url) != 0)
		return wg_fail(WG_E_NET_PROTOCOL, why, whylen, "contentUrl is "
		    "not \"" ANSWER_CONTENT_PATH "\" followed by sha256");
	memcpy(a->id, id, strlen(id) + 1);
	memcpy(a->name, name, strlen(name) + 1);
	memcpy(a->sha256, sha, 65);
	memcpy(a->install_command, cmd, strlen(cmd) + 1);
	return WG_OK;
}

/* App o of the list into *a: exactly its seven members. */
static enum wg_err
app_member(const json_t *o, struct app_answer *a, char *why, size_t whylen)
{
	static const char *const allowed[] = {"id", "name", "sha256", "size",
	    "installCommand", "timeoutSeconds", "contentUrl", NULL};
	json_int_t size, timeout;

	if (!json_is_object(o))
		return wg_fail(WG_E_NET_PROTOCOL, why, whylen, "not an object");
	if (wg_json_only(o, allowed, why, whylen) != WG_OK ||
	    app_strings(o, a, why, whylen) != WG_OK ||
	    answer_range_member(o, "size", 1, (json_int_t)ANSWER_APP_SIZE_MAX,
	    &size, why, whylen) != WG_OK ||
	    answer_range_member(o, "timeoutSeconds", 1,
	    ANSWER_APP_TIMEOUT_MAX, &timeout, why, whylen) != WG_OK)
		return WG_E_NET_PROTOCOL;
	a->size = (uint64_t)size;
	a->timeout_s = (uint32_t)timeout;
	return WG_OK;
}

/* Each app of arr into out->app, no id twice; why names the app. */
static enum wg_err
app_list(const json_t *arr, struct apps_answer *out, char *why,
    size_t whylen)
{
	char inner[256];
	size_t i, j;

	out->n = json_array_size(arr);
	if (out->n > 0)
		out->app = xcalloc(out->n, sizeof(*out->app));
	for (i = 0; i < out->n; i++) {
		inner[0] = '\0';
		if (app_member(json_array_get(arr, i), &out->app[i], inner,
		    sizeof(inner)) != WG_OK)
			return wg_fail(WG_E_NET_PROTOCOL, why, whylen,
			    "value[%zu]: %s", i, inner);
		for (j = 0; j < i; j++)
			if (strcmp(out->app[j].id, out->app[i].id) == 0)
				return wg_fail(WG_E_NET_PROTOCOL, why, whylen,
				    "value[%zu]: id is value[%zu]'s too: each "
				    "app's id is its own", i, j);
	}
	return WG_OK;
}

enum wg_err
apps_answer_parse(const char *body, size_t len, struct apps_answer *out,
    char *why, size_t whylen)
{
	static const char *const allowed[] = {"value", NULL};
	const json_t *arr;
	json_t *o = NULL;
	enum wg_err rc = WG_E_NET_PROTOCOL;

	memset(out, 0, sizeof(*out));
	if (answer_load_max(body, len, ANSWER_APPS_BODY_MAX, &o, why,
	    whylen) != WG_OK || wg_json_only(o, allowed, why, whylen) !=
	    WG_OK)
		goto done;
	arr = json_object_get(o, "value");
	if (!json_is_array(arr) || json_array_size(arr) > APPS_MAX)
		wg_say(why, whylen, "value is not a list of at most %d apps",
		    APPS_MAX);
	else
		rc = app_list(arr, out, why, whylen);
done:
	json_decref(o);
	if (rc != WG_OK)
		apps_answer_free(out);
	return rc;
}

void
apps_answer_free(struct apps_answer *a)
{
	free(a->app);
	memset(a, 0, sizeof(*a));
}
