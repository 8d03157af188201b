/*
 * Secrets at rest sealed under the server's key (sealbox.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/aesgcm.h"
#include "server/sealbox.h"
#include "server/server.h"

/* The sealing key, read or made once per process. */
static pthread_mutex_t seal_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char seal_key[32];
static int seal_loaded;

/* Makes path (0600) with a new key unless it exists; never half-written. */
static enum wg_err
seal_key_make(const char *path)
{
	unsigned char raw[32];
	char hex[65], *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
	enum wg_err rc = WG_E_IO;
	int fd;

	if (wg_random(raw, sizeof(raw)) != WG_OK) {
		free(tmp);
		return WG_E_CRYPTO;
	}
	wg_hex(raw, sizeof(raw), hex);
	hex[64] = '\n';
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0 && write(fd, hex, 65) == 65 && fsync(fd) == 0 &&
	    close(fd) == 0) {
		fd = -1;
		/* link, not rename: a key another server made first stays */
		if (link(tmp, path) == 0 || errno == EEXIST)
			rc = WG_OK;
	}
	if (rc != WG_OK)
		wg_error("cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

/* Reads the key of path into seal_key. */
static enum wg_err
seal_key_read(const char *path)
{
	char hex[66] = "";
	ssize_t n = -1;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, hex, sizeof(hex) - 1);
		close(fd);
	}
	if (n == 65 && hex[64] == '\n')
		hex[64] = '\0';
	if (n < 64 || n > 65 || wg_hex_decode(hex, seal_key,
	    sizeof(seal_key)) != 0) {
		OPENSSL_cleanse(hex, sizeof(hex));
		wg_error("%s is not 64 hex digits (the key that seals the "
		    "secrets the server stores)", path);
		return WG_E_IO;
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	return WG_OK;
}

/* sealbox.h */
enum wg_err
sealbox_ready(struct http_req *req)
{
	char *path;
	enum wg_err rc = WG_OK;

	pthread_mutex_lock(&seal_mu);
	if (!seal_loaded) {
		path = xasprintf("%s/" SEALBOX_KEY_FILE,
		    req->srv->cfg->state_dir);
		if (access(path, F_OK) != 0)
			rc = seal_key_make(path);
		if (rc == WG_OK)
			rc = seal_key_read(path);
		seal_loaded = rc == WG_OK;
		free(path);
	}
	pthread_mutex_unlock(&seal_mu);
	if (rc != WG_OK)
		return http_fail(req, rc, "the server cannot read or make its "
		    "key for sealed secrets (STATE/" SEALBOX_KEY_FILE ")");
	return WG_OK;
}

/* sealbox.h */
enum wg_err
sealbox_seal(struct http_req *req, const char *scope, const void *body,
    size_t n, char **out)
{
	unsigned char *pt = xmalloc(SEALBOX_SCOPE_LEN + n + 1), *ct = NULL;
	size_t len;
	enum wg_err rc;

	*out = NULL;
	if ((rc = sealbox_ready(req)) != WG_OK) {
		free(pt);
		return rc;
	}
	memcpy(pt, scope, SEALBOX_SCOPE_LEN);
	memcpy(pt + SEALBOX_SCOPE_LEN, body, n);
	rc = aesgcm_seal(seal_key, pt, SEALBOX_SCOPE_LEN + n, &ct, &len);
	OPENSSL_cleanse(pt, SEALBOX_SCOPE_LEN + n);
	free(pt);
	if (rc == WG_OK)
		*out = wg_b64(ct, len);
	free(ct);
	return rc;
}

/* sealbox.h */
enum wg_err
sealbox_open(struct http_req *req, const char *scope, const char *text,
    char **body, size_t *n)
{
	unsigned char *ct = NULL, *pt = NULL;
	size_t ct_len, len = 0;
	enum wg_err rc = WG_E_CRYPTO;

	*body = NULL;
	*n = 0;
	if ((rc = sealbox_ready(req)) != WG_OK)
		return rc;
	rc = WG_E_CRYPTO;
	if (wg_b64_decode_text(text, &ct, &ct_len) == 0 &&
	    aesgcm_open(seal_key, ct, ct_len, &pt, &len) == WG_OK &&
	    len >= SEALBOX_SCOPE_LEN && memcmp(pt, scope,
	    SEALBOX_SCOPE_LEN) == 0) {
		*n = len - SEALBOX_SCOPE_LEN;
		*body = xmalloc(*n + 1);
		memcpy(*body, pt + SEALBOX_SCOPE_LEN, *n);
		(*body)[*n] = '\0';
		rc = WG_OK;
	} else {
		wg_error("a sealed value does not open under "
		    "STATE/" SEALBOX_KEY_FILE " (another server's key?)");
	}
	if (pt != NULL)
		OPENSSL_cleanse(pt, len);
	free(pt);
	free(ct);
	return rc;
}

