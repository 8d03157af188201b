/*
 * The agent's state directory: small files written whole (a temporary
 * file, fsync, rename), so that a run killed at any point leaves either
 * the old file or the new one; and the TPM keys kept there (the AIK every
 * phase shares, the join's DK and TK).
 */
#ifndef WG_AGENT_STATE_H
#define WG_AGENT_STATE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "agent/tpm.h"
#include "common/errors.h"
#include "crypto/tpmpub.h"

/* Makes dir (0700) if it is not there; WG_E_IO with why otherwise. */
enum wg_err agent_state_dir(const char *dir, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* Writes len bytes to dir/name (0600) whole; WG_E_IO with why. */
enum wg_err agent_state_write(const char *dir, const char *name,
    const void *buf, size_t len, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* Reads dir/name (fewer than max bytes) into buf; -1 if absent or bad. */
int agent_state_read(const char *dir, const char *name, unsigned char *buf,
    size_t max, size_t *len);

/*
 * Writes cert, then the certificates of chain (either may be NULL), as
 * PEM to dir/name whole; WG_E_IO or WG_E_CRYPTO (logged) with why.
 */
enum wg_err agent_state_write_certs(const char *dir, const char *name,
    X509 *cert, STACK_OF(X509) *chain, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * The AIK of an earlier run (dir/aik.pub and dir/aik.priv), else a new
 * one made by the TPM and kept there; its public area parsed into *pub.
 * WG_E_TPM_* or WG_E_IO with why.
 */
enum wg_err agent_aik_load(struct tpm_ctx *tpm, const char *dir,
    struct tpm_aik *aik, struct tpm_public *pub, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * The same for any key of kind: the AIK (aik.*, as above), the join's
 * device key (dir/dk.pub, dir/dk.priv) or transport key (dir/tk.pub,
 * dir/tk.priv), the MDM key (dir/mdm.pub, dir/mdm.priv): made once,
 * reused after.
 */
enum wg_err agent_key_load(struct tpm_ctx *tpm, const char *dir,
    enum tpm_key_kind kind, struct tpm_aik *key, struct tpm_public *pub,
    char *why, size_t whylen) __attribute__((warn_unused_result));

#endif
