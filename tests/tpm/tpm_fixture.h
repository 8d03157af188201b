/*
 * The swtpm fixture of the TPM layer's tests (test_tpm_attest.c): a fresh
 * swtpm per test on loopback, files under the test's own directory,
 * tpm2-tools runs bounded in time, and the check that nothing was left
 * loaded in the TPM.
 */
#ifndef WG_TESTS_TPM_FIXTURE_H
#define WG_TESTS_TPM_FIXTURE_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/tpm.h"

#define TOOL_TIMEOUT_MS 60000 /* a tpm2-tools call is killed after this */
#define SWTPM_WAIT_MS 10000
#define FILE_MAX (64 * 1024)
#define EK_CERT_RSA "0x01c00002"
#define EK_CERT_ECC "0x01c0000a"

/* One test's TPM: swtpm with its state and the tools' files under root. */
struct fx {
	char root[PATH_MAX];
	int port;
	pid_t swtpm;
	char tcti[64];
	struct tpm_ctx *tpm; /* open between up() and down() */
};

/* A credential as tpm_activate_credential takes it. */
struct cred {
	unsigned char blob[512];
	size_t blob_len;
	unsigned char secret[1024];
	size_t secret_len;
};

/* root/name into out; returns out. */
const char *fx_path(const struct fx *fx, const char *name,
    char out[PATH_MAX]);
/* Writes a whole file, or fails the test. */
void write_file(const char *path, const void *buf, size_t len);
/* Reads a whole file (at most FILE_MAX, malloc'd), or fails the test. */
unsigned char *read_file(const char *path, size_t *len);
/*
 * Runs argv against the test's TPM (TPM2TOOLS_TCTI set), stdout into
 * out_path if not NULL, killed after TOOL_TIMEOUT_MS; its exit status.
 */
int run(const struct fx *fx, const char *out_path, const char *const *argv);
/* cmocka setups: a fresh swtpm, or one made as a discrete TPM leaves the
 * factory (swtpm_setup with its own local CA); and the teardown. */
int setup_fresh(void **state);
int setup_manufactured(void **state);
int teardown(void **state);
/* Opens the TPM through the agent's layer (fx->tpm) / closes it. */
void up(struct fx *fx);
void down(struct fx *fx);
/*
 * 1 if every program of the NULL-terminated list is in PATH; else 0,
 * after saying on stderr which is not (the test then exits 77: skipped).
 */
int fx_have_tools(const char *const *tools);
/* 1 if no transient object or loaded session is left in the TPM. */
int tpm_is_clean(const struct fx *fx);

/*
 * The bus tap: a forwarding proxy on loopback between the TCTI and swtpm
 * that records every byte of both directions.  The swtpm TCTI talks TPM
 * commands, framed as they are, on port and its control channel on
 * port + 1, so the tap listens on a pair of ports too and forwards each
 * connection to its counterpart.  Bytes are recorded before they are
 * passed on: once a TPM call returned, its command and response are in
 * the record (at most 1 MiB, else tap_seen() fails the test).
 */
struct tap {
	int listen[2];	/* our command and control ports */
	int up_port;	/* swtpm's command port */
	int stop[2];	/* a pipe: a byte on it stops the thread */
	pthread_t thread;
	pthread_mutex_t lock;
	unsigned char *rec;
	size_t rec_len;
	int overflow;
	char tcti[64];
	int running;
};

/*
 * Starts a tap on a free pair of loopback ports, forwarding to fx's
 * swtpm; t->tcti is the TCTI string that goes through it.
 */
void tap_start(struct tap *t, const struct fx *fx);
/* Stops the thread and frees the record; a no-op if t is not running. */
void tap_stop(struct tap *t);
/* Forgets what was recorded so far. */
void tap_clear(struct tap *t);
/* 1 if the len bytes of buf crossed the bus since tap_clear(). */
int tap_seen(struct tap *t, const void *buf, size_t len);

/* Runs a command that must succeed. */
#define RUN(fx, out, ...)                                                   \
	do {                                                                \
		const char *argv_[] = { __VA_ARGS__, NULL };                \
		if (run((fx), (out), argv_) != 0)                           \
			fail_msg("%s failed", argv_[0]);                    \
	} while (0)

#endif
