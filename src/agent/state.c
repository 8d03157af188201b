/*
 * The agent's state directory (state.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "agent/state.h"
#include "common/util.h"
#include "common/xmalloc.h"

enum wg_err
agent_state_dir(const char *dir, char *why, size_t whylen)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		wg_say(why, whylen, "cannot make %s: %s", dir, strerror(errno));
		return WG_E_IO;
	}
	return WG_OK;
}

enum wg_err
agent_state_write(const char *dir, const char *name, const void *buf,
    size_t len, char *why, size_t whylen)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *tmp = xasprintf("%s.tmp", path);
	enum wg_err rc = WG_OK;
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && (write(fd, buf, len) != (ssize_t)len || fsync(fd) != 0)) {
		close(fd);
		fd = -1;
	} else if (fd >= 0 && close(fd) != 0) {
		fd = -1;
	} else if (fd >= 0 && rename(tmp, path) == 0) {
		goto done;
	}
	wg_say(why, whylen, "cannot write %s: %s", path, strerror(errno));
	rc = WG_E_IO;
	unlink(tmp);
done:
	free(tmp);
	free(path);
	return rc;
}

int
agent_state_read(const char *dir, const char *name, unsigned char *buf,
    size_t max, size_t *len)
{
	char *path = xasprintf("%s/%s", dir, name);
	ssize_t n = -1;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, max);
		close(fd);
	}
	free(path);
	if (n <= 0 || (size_t)n >= max)
		return -1;
	*len = (size_t)n;
	return 0;
}

enum wg_err
agent_state_write_certs(const char *dir, const char *name, X509 *cert,
    STACK_OF(X509) *chain, char *why, size_t whylen)
{
	BIO *pem = BIO_new(BIO_s_mem());
	enum wg_err rc;
	char *text;
	long n;
	int i, ok;

	ok = pem != NULL && (cert == NULL || PEM_write_bio_X509(pem, cert));
	for (i = 0; ok && i < sk_X509_num(chain); i++)
		ok = PEM_write_bio_X509(pem, sk_X509_value(chain, i));
	if (!ok) {
		wg_log_openssl("writing certificates as PEM");
		rc = wg_fail(WG_E_CRYPTO, why, whylen, "%s cannot be written as "
		    "PEM", name);
	} else {
		n = BIO_get_mem_data(pem, &text);
		rc = agent_state_write(dir, name, text, (size_t)n, why, whylen);
	}
	BIO_free(pem);
	return rc;
}

enum wg_err
agent_key_load(struct tpm_ctx *tpm, const char *dir, enum tpm_key_kind kind,
    struct tpm_aik *key, struct tpm_public *pub, char *why, size_t whylen)
{
	static const char *const names[TPM_KEY_KIND_MAX] = {
		[TPM_KEY_AIK] = "aik", [TPM_KEY_DEVICE] = "dk",
		[TPM_KEY_TRANSPORT] = "tk", [TPM_KEY_MDM] = "mdm" };
	char text[256], pub_file[16], priv_file[16];
	enum wg_err rc;

	if ((unsigned)kind >= TPM_KEY_KIND_MAX)
		return wg_fail(WG_E_INTERNAL, why, whylen, "unknown key kind");
	snprintf(pub_file, sizeof(pub_file), "%s.pub", names[kind]);
	snprintf(priv_file, sizeof(priv_file), "%s.priv", names[kind]);
	if (agent_state_read(dir, pub_file, key->pub, sizeof(key->pub),
	    &key->pub_len) != 0 || agent_state_read(dir, priv_file,
	    key->priv, sizeof(key->priv), &key->priv_len) != 0) {
		if ((rc = tpm_key_create(tpm, kind, key)) != WG_OK) {
			wg_say(why, whylen, "the TPM could not create the %s",
			    tpm_key_kind_name(kind));
			return rc;
		}
		/* the private part first: a public part alone is never kept */
		if ((rc = agent_state_write(dir, priv_file, key->priv,
		    key->priv_len, why, whylen)) != WG_OK ||
		    (rc = agent_state_write(dir, pub_file, key->pub,
		    key->pub_len, why, whylen)) != WG_OK)
			return rc;
	}
	if (tpm_public_parse(key->pub, key->pub_len, pub, text,
	    sizeof(text)) != WG_OK) {
		wg_say(why, whylen, "the key in %s/%s: %s (delete %s and %s to "
		    "make a new one)", dir, pub_file, text, pub_file,
		    priv_file);
		return WG_E_TPM_ERROR;
	}
	return WG_OK;
}

enum wg_err
agent_aik_load(struct tpm_ctx *tpm, const char *dir, struct tpm_aik *aik,
    struct tpm_public *pub, char *why, size_t whylen)
{
	return agent_key_load(tpm, dir, TPM_KEY_AIK, aik, pub, why, whylen);
}
