/*
 * The answers the device reads during "Acquire profile", "Securing your
 * hardware" and "Joining your organization's network", each parsed once,
 * strictly, into a typed struct (docs/api.md): the deployment service's
 * sealed profile, the attestation CA's enrollment answer, the
 * manufacturer's EK certificate answer (Intel's {"pubhash",
 * "certificate"}), the discovery document, the token service's nonce and
 * device token, the join's device certificate, the MDM discovery and
 * enrollment answers, the reseal's ticket, device setup's app list, and
 * the user's sign-in and the answers to the PRT's use (answer_signin.c).
 */
#ifndef WG_AGENT_ANSWER_H
#define WG_AGENT_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "common/errors.h"

/* Bytes of an enrollment answer and of each of its parts, at most. */
#define ANSWER_BODY_MAX (64 * 1024)
/* The app list: APPS_MAX apps at their largest (about 2.5 KB each). */
#define ANSWER_APPS_BODY_MAX (3 * 1024 * 1024)
#define ANSWER_BLOB_MAX 512	  /* TPM2B_ID_OBJECT */
#define ANSWER_SECRET_MAX 512	  /* TPM2B_ENCRYPTED_SECRET */
#define ANSWER_SEALED_MAX 16384	  /* IV || AES-256-GCM(certificate) || tag */
#define ANSWER_CHAIN_MAX 4	  /* CA certificates */
#define ANSWER_CERT_MAX 8192	  /* one DER certificate */

struct enroll_answer {
	unsigned char *blob, *secret, *sealed;
	size_t blob_len, secret_len, sealed_len;
	STACK_OF(X509) *chain;	/* caChain, issuing CA first */
};

/*
 * Parses POST /aik/enroll's answer (len bytes of JSON): exactly the four
 * fields, each base64 within its cap, caChain 1..ANSWER_CHAIN_MAX DER
 * certificates without trailing bytes.  On success *out holds them (free
 * with enroll_answer_free); on failure *out is empty, the result is
 * WG_E_NET_PROTOCOL and why names the field and the rule.
 */
enum wg_err enroll_answer_parse(const char *body, size_t len,
    struct enroll_answer *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));
void enroll_answer_free(struct enroll_answer *a);

/*
 * Parses POST /ztd/v1/profile's answer the same way: exactly
 * credentialBlob, encryptedSecret and encryptedProfile (the profile JSON
 * sealed like the AIK certificate); out->chain stays NULL.
 */
enum wg_err profile_answer_parse(const char *body, size_t len,
    struct enroll_answer *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * Parses an EK certificate service's answer {"pubhash", "certificate":
 * base64url DER, padded or not}: *der (xmalloc'd, the caller frees it)
 * is the certificate's bytes, at most ANSWER_CERT_MAX.  WG_E_NET_PROTOCOL
 * and why otherwise.
 */
enum wg_err ekcert_answer_parse(const char *body, size_t len,
    unsigned char **der, size_t *n, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* ---- joining ---- */

#define ANSWER_ENDPOINT_MAX 512	  /* a discovery document's endpoint */
#define ANSWER_NONCE_TEXT_MAX 86  /* base64url of 64 bytes */
#define ANSWER_TOKEN_MAX 8192	  /* a device token (compact JWS) */
#define ANSWER_NAME_MAX 256	  /* a device's display name */

/* GET /{tenant}/Discover: where the device joins and gets its token. */
struct discovery_answer {
	/* DeviceRegistrationService.RegistrationEndpoint */
	char registration[ANSWER_ENDPOINT_MAX + 1];
	/* AuthenticationService.OAuth2.TokenEndpoint */
	char token[ANSWER_ENDPOINT_MAX + 1];
};

/*
 * Parses a discovery document: the two endpoints above, each a path
 * ("/token") or an http(s) URL, printable, no blanks; the members the
 * agent does not use are not read.  WG_E_NET_PROTOCOL with why (*out
 * zeroed) otherwise.
 */
enum wg_err discovery_answer_parse(const char *body, size_t len,
    struct discovery_answer *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* POST /token grant_type=srv_challenge: the nonce. */
struct nonce_answer {
	char text[ANSWER_NONCE_TEXT_MAX + 1]; /* Nonce, as sent back */
	unsigned char bytes[64];	      /* decoded: qualifying data */
	size_t len;
};

/*
 * Parses {"Nonce": base64url of 1 to 64 bytes, "expires_in"?: 1..86400};
 * other members are ignored (RFC 6749 5.1).  WG_E_NET_PROTOCOL with why
 * (*out zeroed) otherwise.
 */
enum wg_err nonce_answer_parse(const char *body, size_t len,
    struct nonce_answer *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * Parses the device token answer {"access_token": a compact JWS of at
 * most ANSWER_TOKEN_MAX bytes, "token_type": "Bearer" (any case),
 * "expires_in": 1..86400}; other members ("resource") are ignored (RFC
 * 6749 5.1).  *token is xstrdup'd: the caller wipes and frees it.
 * WG_E_NET_PROTOCOL with why (*token NULL) otherwise.
 */
enum wg_err token_answer_parse(const char *body, size_t len, char **token,
    char *why, size_t whylen) __attribute__((warn_unused_result));

/* POST {RegistrationEndpoint}: the device certificate. */
struct join_answer {
	X509 *cert;		/* Certificate.RawBody */
	char thumbprint[41];	/* Certificate.Thumbprint: SHA-1, upper hex */
	char device_id[37];	/* DeviceId: the directory object's UUID */
	char display_name[ANSWER_NAME_MAX + 1];
	STACK_OF(X509) *chain;	/* CaChain, issuing CA first */
};

/*
 * Parses the join's answer: exactly Certificate {RawBody: one base64 DER
 * certificate, Thumbprint: the upper case hex SHA-1 of those bytes},
 * DeviceId (a UUID), DisplayName (printable, 1..ANSWER_NAME_MAX bytes)
 * and CaChain (1..ANSWER_CHAIN_MAX DER certificates).  Whether the
 * certificate is for the DK and chains is the caller's check.  On success
 * *out holds them (free with join_answer_free); else *out is empty, the
 * result WG_E_NET_PROTOCOL and why names the field and the rule.
 */
enum wg_err join_answer_parse(const char *body, size_t len,
    struct join_answer *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));
void join_answer_free(struct join_answer *a);

/* ---- MDM enrollment (step 4) and the reseal (step 6) ---- */

#define ANSWER_TICKET_MAX 88	  /* base64url of 64 bytes, and more */

/* GET /mdm/v1/discovery: where the device enrolls. */
struct mdm_discovery_answer {
	char enroll[ANSWER_ENDPOINT_MAX + 1]; /* EnrollmentServiceUrl */
};

/*
 * Parses the MDM discovery document: EnrollmentServiceUrl (a path or an
 * http(s) URL, as a discovery document's endpoints) and AuthPolicy, which
 * must be "DeviceToken"; other members are not read.  WG_E_NET_PROTOCOL
 * with why (*out zeroed) otherwise.
 */
enum wg_err mdm_discovery_answer_parse(const char *body, size_t len,
    struct mdm_discovery_answer *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* POST {EnrollmentServiceUrl}: the MDM certificate. */
struct mdm_answer {
	X509 *cert;		/* Certificate.RawBody */
	char thumbprint[41];	/* Certificate.Thumbprint: SHA-1, upper hex */
	char enrollment_id[37];	/* EnrollmentId: a UUID */
	char management_url[ANSWER_ENDPOINT_MAX + 1]; /* https://... */
	STACK_OF(X509) *chain;	/* CaChain, issuing CA first */
};

/*
 * Parses the enrollment's answer: exactly Certificate (as the join's),
 * EnrollmentId (a UUID), ManagementUrl (an https URL, printable, at most
 * ANSWER_ENDPOINT_MAX bytes) and CaChain (1..ANSWER_CHAIN_MAX DER
 * certificates).  Whether the certificate is the MDM key's and chains is
 * the caller's check.  On success *out holds them (free with
 * mdm_answer_free); else *out is empty, the result WG_E_NET_PROTOCOL and
 * why names the field and the rule.
 */
enum wg_err mdm_answer_parse(const char *body, size_t len,
    struct mdm_answer *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));
void mdm_answer_free(struct mdm_answer *a);

/* POST /token/v1/reseal: the pre-provisioning ticket. */
struct reseal_answer {
	char ticket[ANSWER_TICKET_MAX + 1]; /* Ticket: a secret */
	char expires_at[32];		    /* ExpiresAt, RFC 3339 UTC */
	uint32_t reset_count;		    /* ResetCount */
	uint32_t restart_count;		    /* RestartCount */
	char bound_to[65];		    /* BoundTo: hex SHA-256 */
};

/*
 * Parses the reseal's answer: exactly Ticket (base64url of 16 to 64
 * bytes), ExpiresAt (RFC 3339, UTC), ResetCount and RestartCount (0 to
 * 2^32 - 1: TPMS_CLOCK_INFO's UINT32s) and BoundTo (64 hex digits).
 * WG_E_NET_PROTOCOL with why (*out wiped) otherwise; the caller wipes
 * out->ticket after use.
 */
enum wg_err reseal_answer_parse(const char *body, size_t len,
    struct reseal_answer *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* ---- device setup (step 5) ---- */

#define ANSWER_APP_NAME_MAX 128	   /* the server's WG_APP_NAME_MAX */
#define ANSWER_APP_COMMAND_MAX 2048 /* the server's WG_APP_COMMAND_MAX */
#define ANSWER_APP_TIMEOUT_MAX 7200 /* the server's APP_TIMEOUT_MAX */
#define ANSWER_APP_SIZE_MAX ((uint64_t)1 << 62)
#define ANSWER_CONTENT_PATH "/mdm/v1/content/" /* then the sha256 */

/* One app of GET /mdm/v1/apps's list. */
struct app_answer {
	char id[37];				/* id: a UUID */
	char name[ANSWER_APP_NAME_MAX + 1];	/* name: printable */
	char sha256[65];			/* sha256: lower case hex */
	uint64_t size;				/* size: 1..2^62 bytes */
	/* installCommand: printable, run as /bin/sh -c */
	char install_command[ANSWER_APP_COMMAND_MAX + 1];
	uint32_t timeout_s;			/* timeoutSeconds */
	/* contentUrl: ANSWER_CONTENT_PATH and sha256, a path on --server */
	char content_url[sizeof(ANSWER_CONTENT_PATH) + 64];
};

/* GET /mdm/v1/apps: the apps in the order they are installed. */
struct apps_answer {
	struct app_answer *app;	/* n of them; NULL when n is 0 */
	size_t n;
};

/*
 * Parses the app list {"value": [...]} (docs/api.md, "GET /mdm/v1/apps"):
 * exactly "value", a list of 0 to APPS_MAX (apps.h) apps, each exactly
 * id (a UUID, no two alike), name (1..ANSWER_APP_NAME_MAX printable
 * bytes), sha256 (64 lower case hex digits), size (an integer 1 to 2^62),
 * installCommand (1..ANSWER_APP_COMMAND_MAX printable bytes),
 * timeoutSeconds (an integer 1 to ANSWER_APP_TIMEOUT_MAX) and contentUrl
 * (exactly ANSWER_CONTENT_PATH followed by sha256, so the device token
 * goes nowhere but --server).  On success *out holds them (free with
 * apps_answer_free); else *out is empty, the result WG_E_NET_PROTOCOL and
 * why names the app, the field and the rule.
 */
enum wg_err apps_answer_parse(const char *body, size_t len,
    struct apps_answer *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));
void apps_answer_free(struct apps_answer *a);


/* ---- the user's sign-in (step 7; answer_signin.c) ---- */

#define ANSWER_UPN_MAX 256	  /* bytes of a UPN (the server's rule) */
#define ANSWER_PRT_MAX 128	  /* bytes of a PRT's text */
#define ANSWER_RESOURCE_MAX 128	  /* bytes of a resource name */
#define ANSWER_JWE_MAX 8192	  /* bytes of session_key_jwe */
#define ANSWER_PRT_LIFE_MAX (366 * 86400) /* refresh_token_expires_in */

/* POST {TokenEndpoint} jwt-bearer grant: the sign-in's 200. */
struct signin_answer {
	char prt[ANSWER_PRT_MAX + 1];	/* refresh_token: a secret */
	int64_t prt_life_s;		/* refresh_token_expires_in */
	char *jwe;			/* session_key_jwe (xmalloc'd) */
	char owner[ANSWER_UPN_MAX + 1];	/* Owner */
	int64_t boots;			/* BootsSinceReseal */
	int recovered;			/* Recovered: a lost join recovered */
	int later;			/* FirstSignIn false: a later one */
	struct join_answer join;	/* Certificate, CaChain, DeviceId */
};

/*
 * Parses the sign-in's answer (docs/api.md, "The user's sign-in"):
 * token_type "pop" (any case), refresh_token (base64url of 16 to 64
 * bytes), refresh_token_expires_in (1 to ANSWER_PRT_LIFE_MAX), id_token
 * (1..ANSWER_TOKEN_MAX bytes), session_key_jwe (1..ANSWER_JWE_MAX bytes;
 * its parts are signin_jwe_split()'s), Owner (1..ANSWER_UPN_MAX bytes),
 * BootsSinceReseal (0 to 2^32 - 1), and Certificate, CaChain and DeviceId
 * by the join answer's rules (join_answer_parse(), with display_name, the
 * join's, as its DisplayName); other members are ignored (RFC 6749 5.1).
 * On success *out holds them (free with signin_answer_free, which wipes
 * it); else *out is wiped, the result WG_E_NET_PROTOCOL and why names the
 * member and the rule.  The PRT's copy in jansson's object is wiped.
 */
enum wg_err signin_answer_parse(const char *body, size_t len,
    const char *display_name, struct signin_answer *out, char *why,
    size_t whylen) __attribute__((warn_unused_result));
void signin_answer_free(struct signin_answer *a);

/* POST {TokenEndpoint} with the PRT: an access token or a new PRT. */
struct prt_answer {
	char *access_token;		/* with a resource: a secret */
	int64_t expires_in;		/* with a resource: its seconds */
	char prt[ANSWER_PRT_MAX + 1];	/* without: refresh_token, a secret */
	int64_t prt_life_s;		/* refresh_token_expires_in */
	json_t *whole;			/* the answer as it came: secrets */
};

/*
 * Parses the answer to a PRT's use (docs/api.md, "Using the PRT"):
 * refresh_token_expires_in (1 to ANSWER_PRT_LIFE_MAX) and, with resource,
 * token_type "Bearer", access_token (1..ANSWER_TOKEN_MAX bytes),
 * expires_in (1 to 86400) and resource (resource itself); without
 * (renewing the PRT), token_type "pop" and refresh_token (base64url of 16
 * to 64 bytes).  token_type in any case; other members are ignored (RFC
 * 6749 5.1).  On success *out holds them, out->whole the answer's object
 * for printing (free with prt_answer_free, which wipes the tokens); else
 * *out is empty, the result WG_E_NET_PROTOCOL and why names the member
 * and the rule.
 */
enum wg_err prt_answer_parse(const char *body, size_t len,
    const char *resource, struct prt_answer *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));
void prt_answer_free(struct prt_answer *a);

/*
 * The PRT member name of o (base64url of 16 to 64 bytes, at most
 * ANSWER_PRT_MAX characters) into prt; WG_E_NET_PROTOCOL with why
 * otherwise.  session.json's RefreshToken is read by it too.
 */
enum wg_err answer_prt_member(const json_t *o, const char *name,
    char prt[ANSWER_PRT_MAX + 1], char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* Wipes the string member name of o (a secret) before o is freed. */
void answer_wipe_member(json_t *o, const char *name);

#endif
