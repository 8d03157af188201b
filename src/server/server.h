/*
 * The server process: configuration, the shared state every handler sees,
 * and the route tables of each service.
 */
#ifndef WG_SERVER_H
#define WG_SERVER_H

#include <stdatomic.h>
#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "server/http.h"
#include "store/store.h"

struct server_config {
	char *state_dir;
	char *listen;	  /* HOST:PORT, [V6]:PORT */
	char *db;	  /* sqlite:PATH or postgresql://… */
	char *services;	  /* comma list or "all" */
	char *log_format; /* text | json */
	char *log_level;
	char *tls_names;  /* extra certificate names, comma list */
	char *ek_trust_dir; /* TPM manufacturer roots (NULL: STATE/ek-trust) */
	unsigned aik_days;  /* lifetime of the AIK certificates issued */
	unsigned argon2_m_kib;	/* users' password hashes (crypto/passwd.h) */
	unsigned argon2_t;
	unsigned argon2_lanes;
	unsigned signin_lockout_after;	 /* failures that lock a user */
	unsigned signin_lockout_min;	 /* for so long */
	unsigned signin_device_limit;	 /* failures per device per window */
	int tls;	  /* 1: HTTPS (default) */
	unsigned threads;
	unsigned conn_limit;
	unsigned conn_timeout_s;
	unsigned drain_timeout_s;
	size_t conn_memory;
};

/*
 * The attestation CAs (step 2), loaded at start for the services that
 * use them: the ekcert service's root and issuing CA (the TPM
 * manufacturer's role), the attestation CA that issues AIK certificates,
 * and the TPM manufacturer roots it trusts.
 */
struct jose_signer;

/* A CA that issues a service's end-entity certificates. */
struct service_ca {
	EVP_PKEY *key;		/* the issuing CA's */
	X509 *cert, *root;
	char *chain_b64[2];	/* issuing, root: base64 DER, as sent */
};

struct attest_cas {
	EVP_PKEY *ekcert_key;
	X509 *ekcert_cert, *ekcert_root;
	EVP_PKEY *aik_key;
	X509 *aik_cert, *aik_root;
	X509_STORE *ek_roots;
	size_t ek_nroots;
	char *aik_chain_b64[2]; /* issuing, root: base64 DER, as sent */
	unsigned char *aik_p7;	/* the same as certs-only PKCS#7 (GetCACert) */
	size_t aik_p7_len;
	struct service_ca drs;	/* the device CA */
	struct service_ca mdm;	/* the MDM CA */
};

struct server {
	const struct server_config *cfg;
	struct store *store;
	unsigned services; /* bit per enum wg_service */
	void *mhd;	   /* struct MHD_Daemon */
	unsigned port;
	atomic_uint inflight;
	atomic_int draining;
	char instance_id[37]; /* STATE/instance.id: owner of its imports */
	struct attest_cas cas;
	struct jose_signer *signer; /* token, drs, mdm: device tokens */
};

/* Route tables, one per service file; the router walks all of them. */
struct http_routes {
	const struct http_route *routes;
	size_t n;
};
extern const struct http_routes health_routes;
extern const struct http_routes admin_routes;
extern const struct http_routes registry_routes;
extern const struct http_routes devices_routes;
extern const struct http_routes ekcert_routes;
extern const struct http_routes aik_routes;
extern const struct http_routes profiles_routes;
extern const struct http_routes ztd_routes;
extern const struct http_routes token_routes;
extern const struct http_routes drs_routes;
extern const struct http_routes mdm_routes;
extern const struct http_routes apps_routes;
extern const struct http_routes users_routes;
extern const struct http_routes events_routes;

/*
 * Removes what a server stopped in the middle of an upload left in
 * STATE/content (".upload-*" files untouched for an hour: another
 * instance sharing the directory may be writing a newer one).
 */
void apps_content_sweep(const char *state_dir);

/* Sets defaults in cfg (every field owned by cfg). */
void server_config_defaults(struct server_config *cfg);
/*
 * Applies `key = value` lines of a config file; keys are the long flag
 * names of `whiteglove serve`.  WG_E_CONFIG names the file and line.
 */
enum wg_err server_config_file(struct server_config *cfg, const char *path)
    __attribute__((warn_unused_result));
/* Applies one setting by key (flag name without dashes). */
enum wg_err server_config_set(struct server_config *cfg, const char *key,
    const char *value, char *why, size_t whylen)
    __attribute__((warn_unused_result));
void server_config_free(struct server_config *cfg);

/*
 * Runs the server until SIGTERM/SIGINT, then drains and returns 0; returns
 * non-zero (after logging why) if it cannot start.
 */
int server_run(const struct server_config *cfg);

/*
 * State directory: creates it (0700) on first start with a private CA,
 * a server certificate for names and the operator key; reuses them after.
 * PEM texts of the server's certificate chain and key are returned in
 * *cert_pem and *key_pem (caller frees; the key is wiped by the caller).
 */
enum wg_err state_tls_load(const char *state_dir, const char *const *names,
    size_t nnames, char **cert_pem, char **key_pem)
    __attribute__((warn_unused_result));

/*
 * A CA of the server's, DIR/NAME.key (0600) and DIR/NAME.crt, created on
 * first start with subject CN=cn: self-signed when parent_key is NULL,
 * else issued by parent_cert/parent_key; reused after.  The caller frees
 * *key and *cert.  WG_E_TLS_SETUP (logged) if they are unusable.
 */
enum wg_err state_ca(const char *dir, const char *name, const char *cn,
    EVP_PKEY *parent_key, X509 *parent_cert, EVP_PKEY **key, X509 **cert)
    __attribute__((warn_unused_result));

/*
 * Loads (creating on first start) the CAs of the enabled services:
 * STATE/ekcert/root and issuing for ekcert; STATE/aik/root and issuing
 * and the manufacturer roots of --ek-trust-dir for aik (and token, which
 * checks AIK certificates); STATE/drs/root and issuing for drs;
 * STATE/mdm/root and issuing for mdm.  The ekcert root and
 * issuing certificates are copied into STATE/ek-trust when the CA is
 * made, so a server that hosts both trusts its own EK certificates.
 */
enum wg_err state_attest_load(const struct server_config *cfg,
    unsigned services, struct attest_cas *out)
    __attribute__((warn_unused_result));
void state_attest_free(struct attest_cas *cas);

/*
 * The token service's signing key STATE/token/signing.key (EC P-256,
 * 0600; made on first start), as a signer, when the token, drs or mdm
 * service is enabled (*out NULL otherwise).
 */
enum wg_err state_token_load(const struct server_config *cfg,
    unsigned services, struct jose_signer **out)
    __attribute__((warn_unused_result));

/*
 * Makes sure the operator key exists: generates STATE/operator.key
 * (0600) and stores its hash on first start; on later starts stores the
 * hash again if this database has not seen it (a new database).
 */
enum wg_err state_operator_key(const char *state_dir, struct store *st)
    __attribute__((warn_unused_result));

/*
 * This instance's id (STATE/instance.id, made on first start; not to be
 * copied to other instances).  Imports record it as their owner.
 */
enum wg_err state_instance_id(const char *state_dir, char out[37])
    __attribute__((warn_unused_result));

/* ---- device tokens (token.c), for the services they are for ---- */

#define TOKEN_ISSUER "urn:whiteglove:token"
#define TOKEN_AUD_DRS "urn:whiteglove:drs"
#define TOKEN_AUD_MDM "urn:whiteglove:mdm"
/* The purpose of the nonces srv_challenge gives: any TPM proof. */
#define TOKEN_NONCE_PURPOSE "challenge"

/* What a device token says of its device. */
struct device_claims {
	char ztd_id[37];	       /* sub */
	char tenant_id[37];	       /* tid */
	char directory_device_id[37];  /* deviceid */
	char aik_name[69];	       /* cnf.tpm_aik_name, hex */
};

/*
 * Checks the request's `Authorization: Bearer <device token>`: signed by
 * this token service, for audience, within its lifetime (60 s of clock
 * skew for nbf); its claims into *out.  WG_E_TOKEN_INVALID (401) with the
 * reason otherwise.
 */
enum wg_err token_device_check(struct http_req *req, const char *audience,
    struct device_claims *out) __attribute__((warn_unused_result));

#endif
