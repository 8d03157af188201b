/*
 * The attestation answers the device reads (answer.h): JSON through the
 * one strict loader (common/json.h), base64 through util, certificates
 * through OpenSSL with their exact length.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "agent/answer.h"
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

/* One DER certificate of caChain, exactly its bytes. */
static X509 *
chain_cert(const json_t *v, size_t i, char *why, size_t whylen)
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
		wg_say(why, whylen, "caChain[%zu] is not one base64 DER "
		    "certificate of at most %d bytes", i, ANSWER_CERT_MAX);
	}
	free(der);
	return x;
}

static enum wg_err
chain_member(const json_t *o, STACK_OF(X509) **out, char *why,
    size_t whylen)
{
	json_t *arr = json_object_get(o, "caChain"), *v;
	X509 *x;
	size_t i;

	*out = NULL;
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > ANSWER_CHAIN_MAX) {
		wg_say(why, whylen, "caChain is not a list of 1 to %d "
		    "certificates", ANSWER_CHAIN_MAX);
		return WG_E_NET_PROTOCOL;
	}
	if ((*out = sk_X509_new_null()) == NULL)
		abort(); /* out of memory */
	json_array_foreach(arr, i, v) {
		if ((x = chain_cert(v, i, why, whylen)) == NULL) {
			sk_X509_pop_free(*out, X509_free);
			*out = NULL;
			return WG_E_NET_PROTOCOL;
		}
		if (!sk_X509_push(*out, x))
			abort();
	}
	return WG_OK;
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
	    (!chain || chain_member(o, &out->chain, why, whylen) == WG_OK))
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
	if (body == NULL || len > ANSWER_BODY_MAX ||
	    wg_json_load_object(body, len, &o, why, whylen) != WG_OK ||
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
