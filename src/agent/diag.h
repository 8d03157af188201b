/*
 * The diagnostics bundle (`whiteglove-agent diag collect`): what an admin
 * asks a technician for when pre-provisioning failed.  One .tar.gz with
 * the state directory's event channels and phase records, the apps'
 * install logs and the agent's configuration, each redacted
 * (diag_redact.h) and cut to its last DIAG_FILE_MAX bytes; a summary of
 * every certificate there; the TPM's facts read live (or why it could
 * not be reached); and a manifest of what is in it, what was missing and
 * what was redacted.  Private keys, sealed key blobs, the ticket and
 * tokens are never copied.  docs/flow.md, "Diagnostics bundle".
 */
#ifndef WG_AGENT_DIAG_H
#define WG_AGENT_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/errors.h"

#define DIAG_FILE_MAX (8 * 1024 * 1024) /* the last bytes of a file kept */
#define DIAG_CERT_FILE_MAX (1024 * 1024) /* a PEM file read for certs */

struct diag_opts {
	const char *state_dir;	  /* the agent's state directory */
	const char *tcti;	  /* NULL: tpm_tcti_default() */
	const char *config;	  /* the configuration file, NULL: none */
	const char *config_error; /* why the agent could not use it, or NULL */
	const char *out;	  /* the bundle's path, NULL: the default
				     name in the current directory */
};

/* What diag_collect() wrote; diag_result_free() frees its members. */
struct diag_result {
	char *path;		/* the bundle */
	uint64_t size;		/* its bytes */
	unsigned files;		/* members */
	char **unreadable;	/* "name: why" of each file not read */
	size_t nunreadable;
};

/*
 * Writes the bundle o describes (to a temporary file beside it, renamed
 * at the end; mode 0600) and fills *res.  A file that cannot be read,
 * and a TPM that cannot be reached, are recorded in the bundle and do not
 * fail it.  WG_E_IO (or WG_E_CONFIG for an output path that cannot be)
 * with why when no bundle could be written; *res is empty then.
 */
enum wg_err diag_collect(const struct diag_opts *o, struct diag_result *res,
    char *why, size_t whylen) __attribute__((warn_unused_result));

void diag_result_free(struct diag_result *res);

/* ---- what diag.c and diag_facts.c share ---- */

#define DIAG_NAMES_MAX 256 /* files of one folder taken at most */

/*
 * The names in dir (no dot files) that end with one of suffixes
 * (NULL-terminated), sorted, at most DIAG_NAMES_MAX: names[0..*n), each
 * xmalloc'd (the caller frees them).  -1 with errno if dir cannot be
 * read.
 */
int diag_list(const char *dir, const char *const *suffixes,
    char *names[DIAG_NAMES_MAX], size_t *n);

/* ---- the generated members (diag_facts.c) ---- */

/*
 * certificates.json's content: every certificate in the PEM files
 * (*.crt, *.pem, *.cer) at the top of state_dir, each with its file,
 * subject and issuer (RFC 2253), serial (hex), notBefore and notAfter
 * (RFC 3339), SHA-1 and SHA-256 thumbprints (upper-case hex, as Windows
 * shows them).  A file that cannot be read is appended to unreadable
 * ("name: why"), one that holds a private key to keys (its key is never
 * read).  A new reference.
 */
json_t *diag_certs(const char *state_dir, json_t *unreadable, json_t *keys)
    __attribute__((returns_nonnull));

/*
 * tpm.json's content: the TPM at tcti (NULL: the default) read live:
 * manufacturer, vendor string, firmware and specification level, the EK
 * certificates in NV (present or not, size, SHA-256), the algorithms and
 * PCR banks, and TPM2_ReadClock's counters.  {"tcti", "error"} when the
 * TPM cannot be opened; a part that fails has its "...Error" member.  A
 * new reference.
 */
json_t *diag_tpm(const char *tcti) __attribute__((returns_nonnull));

#endif
