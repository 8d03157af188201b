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
agent_aik_load(struct tpm_ctx *tpm, const char *dir, struct tpm_aik *aik,
    struct tpm_public *pub, char *why, size_t whylen)
{
	char text[256];
	enum wg_err rc;

	if (agent_state_read(dir, "aik.pub", aik->pub, sizeof(aik->pub),
	    &aik->pub_len) != 0 || agent_state_read(dir, "aik.priv",
	    aik->priv, sizeof(aik->priv), &aik->priv_len) != 0) {
		if ((rc = tpm_aik_create(tpm, aik)) != WG_OK) {
			wg_say(why, whylen, "the TPM could not create an AIK");
			return rc;
		}
		/* the private part first: a public part alone is never kept */
		if ((rc = agent_state_write(dir, "aik.priv", aik->priv,
		    aik->priv_len, why, whylen)) != WG_OK ||
		    (rc = agent_state_write(dir, "aik.pub", aik->pub,
		    aik->pub_len, why, whylen)) != WG_OK)
			return rc;
	}
	if (tpm_public_parse(aik->pub, aik->pub_len, pub, text,
	    sizeof(text)) != WG_OK) {
		wg_say(why, whylen, "the AIK in %s/aik.pub: %s (delete aik.pub "
		    "and aik.priv to make a new one)", dir, text);
		return WG_E_TPM_ERROR;
	}
	return WG_OK;
}
