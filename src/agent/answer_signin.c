/*
 * The answers of the user's phase (answer.h, step 7): the sign-in's and
 * those to the PRT's use, through answer.c's loader and member checks
 * (answer_int.h).  The PRT, the access token and their copies in
 * jansson's objects are wiped before they go.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "agent/answer.h"
#include "agent/answer_int.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"

void
answer_wipe_member(json_t *o, const char *name)
{
	json_t *s = json_object_get(o, name);

	if (json_is_string(s))
		OPENSSL_cleanse((char *)json_string_value(s),
		    json_string_length(s));
}

int
answer_b64url_secret(const char *s)
{
	unsigned char *raw = NULL;
	size_t n = 0;
	int ok;

	ok = wg_b64url_decode(s, &raw, &n) == 0 && n >= 16 && n <= 64;
	if (raw != NULL)
		OPENSSL_cleanse(raw, n);
	free(raw);
	return ok;
}

enum wg_err
answer_prt_member(const json_t *o, const char *name,
    char prt[ANSWER_PRT_MAX + 1], char *why, size_t whylen)
{
	const char *s;

	if (wg_json_string(o, name, 1, ANSWER_PRT_MAX, &s, why, whylen) !=
	    WG_OK)
		return WG_E_NET_PROTOCOL;
	if (!answer_b64url_secret(s))
		return wg_fail(WG_E_NET_PROTOCOL, why, whylen, "%s is not "
		    "base64url of 16 to 64 bytes", name);
	memcpy(prt, s, strlen(s) + 1);
	return WG_OK;
}

/* ---- the sign-in ---- */

/*
 * The answer's members beside the join's, each by its rule (RFC 6749
 * 5.1: members not named are ignored).
 */
static enum wg_err
signin_members(const json_t *o, struct signin_answer *out, char *why,
    size_t whylen)
{
	const char *type, *idt, *jwe, *owner;
	json_int_t life, boots;

	if (wg_json_string(o, "token_type", 1, 16, &type, why, whylen) !=
	    WG_OK || answer_prt_member(o, "refresh_token", out->prt, why,
	    whylen) != WG_OK || answer_range_member(o,
	    "refresh_token_expires_in", 1, ANSWER_PRT_LIFE_MAX, &life, why,
	    whylen) != WG_OK || wg_json_string(o, "id_token", 1,
	    ANSWER_TOKEN_MAX, &idt, why, whylen) != WG_OK ||
	    wg_json_string(o, "session_key_jwe", 1, ANSWER_JWE_MAX, &jwe, why,
	    whylen) != WG_OK || wg_json_string(o, "Owner", 1, ANSWER_UPN_MAX,
	    &owner, why, whylen) != WG_OK || answer_range_member(o,
	    "BootsSinceReseal", 0, UINT32_MAX, &boots, why, whylen) != WG_OK)
		return WG_E_NET_PROTOCOL;
	if (strcasecmp(type, "pop") != 0) /* RFC 6749 7.1: no case */
		return wg_fail(WG_E_NET_PROTOCOL, why, whylen, "token_type is "
		    "not pop");
	/* optional booleans (absent: a first sign-in, no recovery) */
	if ((json_object_get(o, "Recovered") != NULL &&
	    !json_is_boolean(json_object_get(o, "Recovered"))) ||
	    (json_object_get(o, "FirstSignIn") != NULL &&
	    !json_is_boolean(json_object_get(o, "FirstSignIn"))))
		return wg_fail(WG_E_NET_PROTOCOL, why, whylen, "Recovered and "
		    "FirstSignIn must be booleans");
	out->recovered = json_is_true(json_object_get(o, "Recovered"));
	out->later = json_is_false(json_object_get(o, "FirstSignIn"));
	out->prt_life_s = life;
	out->boots = boots;
	out->jwe = xstrdup(jwe);
	memcpy(out->owner, owner, strlen(owner) + 1);
	return WG_OK;
}

/*
 * The restored join: Certificate, CaChain and DeviceId are the join's
 * answer's members, read by its one parser (with the display name the
 * join stored, which the sign-in does not change).
 */
static enum wg_err
signin_join(const json_t *o, const char *display_name,
    struct join_answer *out, char *why, size_t whylen)
{
	json_t *j = json_pack("{s:O, s:O, s:O, s:s}", "Certificate",
	    json_object_get(o, "Certificate"), "CaChain",
	    json_object_get(o, "CaChain"), "DeviceId",
	    json_object_get(o, "DeviceId"), "DisplayName", display_name);
	enum wg_err rc;
	char *text;

	if (j == NULL)
		return wg_fail(WG_E_NET_PROTOCOL, why, whylen, "Certificate, "
		    "CaChain and DeviceId are required");
	if ((text = json_dumps(j, JSON_COMPACT)) == NULL)
		abort(); /* out of memory */
	json_decref(j);
	rc = join_answer_parse(text, strlen(text), out, why, whylen);
	free(text);
	return rc;
}

enum wg_err
signin_answer_parse(const char *body, size_t len, const char *display_name,
    struct signin_answer *out, char *why, size_t whylen)
{
	json_t *o = NULL;
	enum wg_err rc = WG_E_NET_PROTOCOL;

	memset(out, 0, sizeof(*out));
	if (answer_load(body, len, &o, why, whylen) == WG_OK &&
	    signin_members(o, out, why, whylen) == WG_OK &&
	    signin_join(o, display_name, &out->join, why, whylen) == WG_OK)
		rc = WG_OK;
	answer_wipe_member(o, "refresh_token");
	json_decref(o);
	if (rc != WG_OK)
		signin_answer_free(out);
	return rc;
}

void
signin_answer_free(struct signin_answer *a)
{
	if (a == NULL)
		return;
	free(a->jwe); /* wrapped to the TK: not a secret in itself */
	join_answer_free(&a->join);
	OPENSSL_cleanse(a, sizeof(*a));
}

/* ---- the PRT's use ---- */

/* The access token's members (docs/api.md, "Using the PRT"). */
static enum wg_err
access_members(const json_t *o, const char *type, const char *resource,
    struct prt_answer *out, char *why, size_t whylen)
{
	const char *at, *res;
	json_int_t in;

	if (wg_json_string(o, "access_token", 1, ANSWER_TOKEN_MAX, &at, why,
	    whylen) != WG_OK || answer_range_member(o, "expires_in", 1, 86400,
	    &in, why, whylen) != WG_OK || wg_json_string(o, "resource", 1,
	    ANSWER_RESOURCE_MAX, &res, why, whylen) != WG_OK)
		return WG_E_NET_PROTOCOL;
	if (strcasecmp(type, "Bearer") != 0)
		return wg_fail(WG_E_NET_PROTOCOL, why, whylen, "token_type is "
		    "not Bearer");
	if (strcmp(res, resource) != 0)
		return wg_fail(WG_E_NET_PROTOCOL, why, whylen, "the token is "
		    "for another resource");
	out->access_token = xstrdup(at);
	out->expires_in = in;
	return WG_OK;
}

/* The renewed PRT's members. */
static enum wg_err
renewal_members(const json_t *o, const char *type, struct prt_answer *out,
    char *why, size_t whylen)
{
	if (answer_prt_member(o, "refresh_token", out->prt, why, whylen) !=
	    WG_OK)
		return WG_E_NET_PROTOCOL;
	if (strcasecmp(type, "pop") != 0)
		return wg_fail(WG_E_NET_PROTOCOL, why, whylen, "token_type is "
		    "not pop");
	return WG_OK;
}

enum wg_err
prt_answer_parse(const char *body, size_t len, const char *resource,
    struct prt_answer *out, char *why, size_t whylen)
{
	const char *type;
	json_int_t life;
	json_t *o = NULL;
	enum wg_err rc = WG_E_NET_PROTOCOL;

	memset(out, 0, sizeof(*out));
	if (answer_load(body, len, &o, why, whylen) == WG_OK &&
	    wg_json_string(o, "token_type", 1, 16, &type, why, whylen) ==
	    WG_OK && answer_range_member(o, "refresh_token_expires_in", 1,
	    ANSWER_PRT_LIFE_MAX, &life, why, whylen) == WG_OK)
		rc = resource != NULL ? access_members(o, type, resource, out,
		    why, whylen) : renewal_members(o, type, out, why, whylen);
	if (rc == WG_OK) {
		out->prt_life_s = life;
		out->whole = o;
		return WG_OK;
	}
	answer_wipe_member(o, "access_token");
	answer_wipe_member(o, "refresh_token");
	json_decref(o);
	prt_answer_free(out);
	return rc;
}

void
prt_answer_free(struct prt_answer *a)
{
	if (a == NULL)
		return;
	if (a->access_token != NULL) {
		OPENSSL_cleanse(a->access_token, strlen(a->access_token));
		free(a->access_token);
	}
	answer_wipe_member(a->whole, "access_token");
	answer_wipe_member(a->whole, "refresh_token");
	json_decref(a->whole);
	OPENSSL_cleanse(a, sizeof(*a));
}
