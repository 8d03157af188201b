#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "server/auth.h"

#define KEY_PREFIX "wgk."
#define SECRET_B64_LEN 43 /* base64url of 32 bytes, unpadded */

enum wg_err
auth_key_new(enum wg_key_role role, const char *tenant_id, const char *name,
    struct wg_api_key *rec, char **key_text)
{
	unsigned char secret[AUTH_SECRET_BYTES];
	enum wg_err rc;
	char *b64;
	size_t n;

	*key_text = NULL;
	memset(rec, 0, sizeof(*rec));
	if ((rc = wg_random(secret, sizeof(secret))) != WG_OK)
		return rc;
	b64 = wg_b64url(secret, sizeof(secret));
	OPENSSL_cleanse(secret, sizeof(secret));
	wg_uuid(rec->id);
	snprintf(rec->tenant_id, sizeof(rec->tenant_id), "%s", tenant_id);
	snprintf(rec->name, sizeof(rec->name), "%s", name);
	rec->role = role;
	rec->created_ms = wg_now_ms();
	wg_sha256(b64, strlen(b64), rec->secret_hash);
	/* KEY_PREFIX id "." secret, assembled by hand: the sizes are fixed. */
	n = strlen(KEY_PREFIX);
	*key_text = xmalloc(n + WG_UUID_LEN + 1 + SECRET_B64_LEN + 1);
	memcpy(*key_text, KEY_PREFIX, n);
	memcpy(*key_text + n, rec->id, WG_UUID_LEN);
	(*key_text)[n + WG_UUID_LEN] = '.';
	memcpy(*key_text + n + WG_UUID_LEN + 1, b64, SECRET_B64_LEN + 1);
	xfree_secret(b64, strlen(b64));
	return WG_OK;
}

static int
is_b64url(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return 0;
	}
	return 1;
}

enum wg_err
auth_key_parse(const char *key_text, char id[37], unsigned char hash[32])
{
	size_t plen = strlen(KEY_PREFIX);
	const char *p;

	if (strlen(key_text) != plen + WG_UUID_LEN + 1 + SECRET_B64_LEN ||
	    strncmp(key_text, KEY_PREFIX, plen) != 0)
		return WG_E_AUTH_INVALID;
	p = key_text + plen;
	memcpy(id, p, WG_UUID_LEN);
	id[WG_UUID_LEN] = '\0';
	p += WG_UUID_LEN;
	if (!wg_is_uuid(id) || *p != '.' || !is_b64url(p + 1, SECRET_B64_LEN))
		return WG_E_AUTH_INVALID;
	wg_sha256(p + 1, SECRET_B64_LEN, hash);
	return WG_OK;
}

enum wg_err
auth_check(struct store_conn *c, const char *authorization,
    struct http_caller *caller, char *why, size_t whylen)
{
	unsigned char hash[32];
	struct wg_api_key rec;
	const char *key;
	enum wg_err rc;
	char id[37];

	memset(caller, 0, sizeof(*caller));
	if (authorization == NULL) {
		snprintf(why, whylen, "missing 'Authorization: Bearer KEY' "
		    "header");
		return WG_E_AUTH_MISSING;
	}
	if (strncasecmp(authorization, "Bearer ", 7) != 0) {
		snprintf(why, whylen, "the Authorization header must use the "
		    "Bearer scheme (RFC 6750 section 2.1)");
		return WG_E_AUTH_INVALID;
	}
	key = authorization + 7;
	while (*key == ' ')
		key++;
	if (auth_key_parse(key, id, hash) != WG_OK) {
		snprintf(why, whylen, "the API key is malformed (expected "
		    "wgk.<id>.<secret>)");
		return WG_E_AUTH_INVALID;
	}
	rc = store_api_key_get(c, id, &rec);
	if (rc == WG_E_NOT_FOUND) {
		/* Same work as a found key, so timing tells nothing. */
		CRYPTO_memcmp(hash, hash, sizeof(hash));
		snprintf(why, whylen, "the API key is not valid");
		return WG_E_AUTH_INVALID;
	}
	if (rc != WG_OK)
		return rc;
	if (CRYPTO_memcmp(hash, rec.secret_hash, sizeof(hash)) != 0) {
		snprintf(why, whylen, "the API key is not valid");
		rc = WG_E_AUTH_INVALID;
		goto done;
	}
	if (rec.revoked_ms != 0) {
		snprintf(why, whylen, "the API key was revoked");
		rc = WG_E_AUTH_INVALID;
		goto done;
	}
	caller->role = rec.role;
	memcpy(caller->key_id, rec.id, sizeof(caller->key_id));
	memcpy(caller->tenant_id, rec.tenant_id, sizeof(caller->tenant_id));
	if (wg_now_ms() - rec.last_used_ms > 60000 &&
	    store_api_key_touch(c, rec.id, wg_now_ms()) != WG_OK)
		wg_warn("could not record the use of key %s", rec.id);
done:
	OPENSSL_cleanse(&rec, sizeof(rec));
	return rc;
}
