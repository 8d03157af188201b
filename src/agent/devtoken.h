/*
 * What the device's steps 3, 4 and 6 (the join, the MDM enrollment, the
 * reseal) share: the earlier steps' files (the profile, the AIK and its
 * certificate), the TPM, the HTTP client on --server, the tenant's
 * discovery document, the device token (a nonce the AIK quotes, the
 * tpm-quote grant), and the parts of a request that carries a key the
 * AIK certified.  Each exchange is tried as retry.h says and every
 * failure is an event of the phase's channel with the profile's
 * correlation id.
 */
#ifndef WG_AGENT_DEVTOKEN_H
#define WG_AGENT_DEVTOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "agent/answer.h"
#include "agent/phaseopts.h"
#include "agent/profile.h"
#include "agent/tpm.h"
#include "common/errors.h"
#include "common/event.h"
#include "common/httpc.h"
#include "crypto/tpmpub.h"

struct devtoken {
	/* the caller's, before devtoken_open() */
	const struct agent_phase_opts *o;
	const char *channel;	/* of the events */
	enum wg_phase phase;
	int refused_event;	/* the id of a refusal's error event; 0:
				   none, the phase's failure says it */
	int try_event;		/* the id of a failed try's warning (moves) */
	const char *request_phase; /* "join", "mdm", "reseal": the suffix
				      of devtoken_post_json()'s
				      Idempotency-Key */
	char *why;
	size_t whylen;
	/* devtoken_open()'s */
	struct profile_file profile;
	char correlation_id[37]; /* the profile's, once it is read */
	struct tpm_ctx *tpm;
	struct wg_httpc *http;
	struct tpm_aik aik;
	struct tpm_public aik_pub;
	unsigned char *aik_cert; /* DER */
	size_t aik_cert_len;
	/* devtoken_discover()'s: paths on --server */
	char registration_path[ANSWER_ENDPOINT_MAX + 1];
	char token_path[ANSWER_ENDPOINT_MAX + 1];
	/* devtoken_get()'s: the device token, a secret */
	char *token;
	int64_t token_ms;	/* wg_mono_ms() when the server issued it */
};

/* A key certified by the AIK: the TPMS_ATTEST and its TPMT_SIGNATURE. */
struct devtoken_certified {
	unsigned char *info, *sig;
	size_t info_len, sig_len;
};

/* One try of an exchange: *retry says whether another may do better. */
typedef enum wg_err (*devtoken_try_fn)(void *arg, int *retry);

/*
 * A device token lives an hour (the token service's DEVICE_TOKEN_LIFE_S);
 * a phase of the same run reuses one at most this old.
 */
#define DEVTOKEN_REUSE_MS (40 * 60 * 1000)

/*
 * Makes the phases of this process share the tenant's discovery and the
 * device token (devtoken_discover, devtoken_get): a phase after another
 * on the same server and tenant asks for neither again, while the token
 * is younger than DEVTOKEN_REUSE_MS.  For `provision`, which runs the
 * phases one after another; the token is wiped at exit.
 */
void devtoken_share(void);

/*
 * The run's events to the server (evupload.h) with the shared device
 * token, at the end of a run that shares one (devtoken_share: the phases
 * leave the upload to it); nothing without one.  Best effort.
 */
void devtoken_upload_shared(const struct agent_phase_opts *o);

/*
 * Reads the profile, opens the TPM, loads the AIK and checks that aik.crt
 * certifies it, and makes the HTTP client for --server.  WG_OK, else
 * WG_E_PROFILE_INVALID, WG_E_AIK_CERT_INVALID, WG_E_TPM_* or WG_E_CONFIG
 * with d->why.  devtoken_close() frees what it made, either way.
 */
enum wg_err devtoken_open(struct devtoken *d)
    __attribute__((warn_unused_result));

/*
 * Uploads the device's events not sent yet when the phase holds a device
 * token (evupload.h: best effort, never a failure), then frees and wipes
 * what devtoken_open() and the exchanges made.
 */
void devtoken_close(struct devtoken *d);

/* One event of d's channel and phase, with the profile's correlation id. */
void devtoken_event(struct devtoken *d, int id, enum wg_level level,
    enum wg_err err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * One exchange on --server (body NULL: none): WG_OK on a 2xx, with *resp
 * (the caller frees it with wg_httpc_resp_free); else the code, d->why
 * and *retry, whether another try may do better (the network, the
 * server's trouble, a 404 that names no service).  A refusal, which ends
 * the tries, is event d->refused_event (if not 0) with the server's code
 * and message.
 */
enum wg_err devtoken_call(struct devtoken *d, const char *method,
    const char *path, const char *type, const char *body,
    struct wg_httpc_resp *resp, int *retry)
    __attribute__((warn_unused_result));

/*
 * devtoken_call() with a query (NULL, or name and value pairs and a
 * NULL: httpc escapes them) and "Idempotency-Key: key" (NULL: none).
 */
enum wg_err devtoken_exchange(struct devtoken *d, const char *method,
    const char *path, const char *const *query, const char *type,
    const char *body, const char *key, struct wg_httpc_resp *resp,
    int *retry) __attribute__((warn_unused_result));

/*
 * devtoken_call() of POST path, a JSON body, the device token as bearer:
 * the phase's one request that changes the server's state.  With
 * d->o->request_key it carries "Idempotency-Key: <request_key>.<d->
 * request_phase>", so that the server answers a repeated request (a run
 * made again after a crash) with its first answer.
 */
enum wg_err devtoken_post_json(struct devtoken *d, const char *path,
    const char *body, struct wg_httpc_resp *resp, int *retry)
    __attribute__((warn_unused_result));

/*
 * one(arg) up to --tries times with the back-off; a failed try to be
 * made again is a warning event (d->try_event).  *count (if not NULL):
 * the tries made.  The last try's code, with "N tries failed" in d->why
 * when every try failed on something another could mend.
 */
enum wg_err devtoken_tries(struct devtoken *d, devtoken_try_fn one,
    void *arg, unsigned *count) __attribute__((warn_unused_result));

/*
 * An endpoint of a discovery document (what: its name, for why) as a path
 * on --server into out: the device token goes nowhere else.  WG_OK, else
 * WG_E_NET_PROTOCOL.
 */
enum wg_err devtoken_endpoint(struct devtoken *d, const char *what,
    const char *ep, char *out, size_t size)
    __attribute__((warn_unused_result));

/*
 * GET /{tenant id}/Discover, tried: d->registration_path and
 * d->token_path.
 */
enum wg_err devtoken_discover(struct devtoken *d)
    __attribute__((warn_unused_result));

/* POST {TokenEndpoint} grant_type=srv_challenge: a fresh nonce in *n. */
enum wg_err devtoken_nonce(struct devtoken *d, struct nonce_answer *n,
    int *retry) __attribute__((warn_unused_result));

/*
 * A fresh nonce into *n (devtoken_nonce) and the AIK's quote of it
 * (what: the quote's use, for why): *quote and *sig, which the caller
 * frees (also on failure).  A TPM failure ends the tries (*retry 0).
 */
enum wg_err devtoken_quote(struct devtoken *d, const char *what,
    struct nonce_answer *n, unsigned char **quote, size_t *qlen,
    unsigned char **sig, size_t *slen, int *retry)
    __attribute__((warn_unused_result));

/*
 * The device token, tried: a nonce, the AIK's quote of it (tpm_quote),
 * and the tpm-quote grant (docs/api.md, "Token service").  d->token is
 * the token; devtoken_close() wipes it.
 */
enum wg_err devtoken_get(struct devtoken *d)
    __attribute__((warn_unused_result));

/*
 * TPM2_Certify of key (kind: its name for why) by the AIK over the nonce
 * into *out (free with devtoken_certified_free, also on failure).
 */
enum wg_err devtoken_certify(struct devtoken *d, const struct tpm_aik *key,
    enum tpm_key_kind kind, const struct nonce_answer *n,
    struct devtoken_certified *out) __attribute__((warn_unused_result));
void devtoken_certified_free(struct devtoken_certified *c);

/* Standard base64 of n bytes as a new JSON string (aborts without memory). */
json_t *devtoken_b64_json(const void *p, size_t n);

/*
 * A request body: body (json_pack()'s result, consumed; NULL, out of
 * memory, aborts) as compact text the caller frees.
 */
char *devtoken_json_text(json_t *body);

/*
 * Writes the JSON object o (consumed, as devtoken_json_text) indented to
 * the state file name, whole (agent_state_write).  WG_E_IO with d->why.
 */
enum wg_err devtoken_write_json(struct devtoken *d, const char *name,
    json_t *o) __attribute__((warn_unused_result));

/*
 * Stores the answer of a certified key: cert as cert_file, chain as
 * ca_file (PEM), then the object mark (consumed) as mark_file, last: the
 * phase's mark that it ended.  Each whole, 0600; WG_E_IO or WG_E_CRYPTO
 * with d->why.
 */
enum wg_err devtoken_store(struct devtoken *d, const char *cert_file,
    X509 *cert, const char *ca_file, STACK_OF(X509) *chain,
    const char *mark_file, json_t *mark)
    __attribute__((warn_unused_result));

/*
 * Whether an answer holds together: cert (what: its name for why) has
 * key's public key and chains to the last certificate of chain.  WG_OK,
 * else WG_E_NET_PROTOCOL with d->why.  Validity dates are not checked:
 * the device's clock may not be set yet; the trust in the answer is the
 * TLS channel's (--ca).
 */
enum wg_err devtoken_cert_check(struct devtoken *d, const char *what,
    X509 *cert, STACK_OF(X509) *chain, const struct tpm_public *key)
    __attribute__((warn_unused_result));

#endif
