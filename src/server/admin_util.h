/*
 * Helpers every admin endpoint shares: times in JSON, query integers,
 * audit records in the request's transaction.
 */
#ifndef WG_ADMIN_UTIL_H
#define WG_ADMIN_UTIL_H

#include <stdint.h>

#include <jansson.h>

#include "crypto/tpmpub.h"
#include "store/store.h"
#include "server/http.h"

/* Audit event ids of the admin channel (docs/api.md lists them). */
enum {
	ADMIN_EVT_TENANT_CREATED = 1001,
	ADMIN_EVT_KEY_CREATED = 1002,
	ADMIN_EVT_KEY_REVOKED = 1003,
	ADMIN_EVT_DEVICE_DELETED = 1004,
	ADMIN_EVT_IMPORT_ENDED = 1005,
	ADMIN_EVT_EKCERT_REGISTERED = 1006,
	ADMIN_EVT_EK_REVOKED = 1007,
	ADMIN_EVT_AIK_ISSUED = 1008,
	ADMIN_EVT_PROFILE_CREATED = 1009,
	ADMIN_EVT_PROFILE_ASSIGNED = 1010,
	ADMIN_EVT_PROFILE_UNASSIGNED = 1011,
	ADMIN_EVT_PROFILE_DELETED = 1012,
	ADMIN_EVT_PROFILE_DELIVERED = 1013,
	ADMIN_EVT_PROFILE_REFUSED = 1014,
	ADMIN_EVT_DEVICE_TOKEN = 1015,
	ADMIN_EVT_MDM_ALLOWED = 1016,
	ADMIN_EVT_MDM_DELETED = 1017,
	ADMIN_EVT_TICKET_ISSUED = 1018,
	/* users (users.c) are 1030-1033; the sign-in's (signin.c): */
	ADMIN_EVT_USER_LOCKED = 1034,
	ADMIN_EVT_SIGNED_IN = 1035,
	ADMIN_EVT_PRT_ISSUED = 1036,
	ADMIN_EVT_SIGNIN_FAILED = 1037,
	ADMIN_EVT_PRT_RENEWED = 1038,
	ADMIN_EVT_TENANT_SET = 1039,
	/* 1039: a tenant's setting (admin.c) */
	ADMIN_EVT_JOIN_RECOVERED = 1040,
	ADMIN_EVT_AIK_REFUSED = 1041, /* aik.c: a revoked TPM refused */
};

/* RFC 3339 text of ms since the epoch, or JSON null for 0. */
json_t *admin_json_time(int64_t ms);

/*
 * Integer query parameter name in [min, max], def when absent;
 * WG_E_JSON_FIELD naming it otherwise.
 */
enum wg_err admin_query_int(struct http_req *req, const char *name,
    long long min, long long max, long long def, long long *out)
    __attribute__((warn_unused_result));

/*
 * The caller's tenant (http_scope_tenant) and a connection, for the object
 * of kind `what` ("app", "device", ...) the path's {id} names: the 404
 * "<what> not found" when the id is not a UUID.
 */
enum wg_err admin_path_scope(struct http_req *req, const char *what,
    char tenant[37], struct store_conn **c)
    __attribute__((warn_unused_result));

/*
 * ?after= of a list ordered by name: the base64url of the last name a
 * page gave (at most ADMIN_CURSOR_MAX characters), decoded into *after
 * (xmalloc'd; NULL when absent): 1 to max printable bytes.
 * WG_E_JSON_FIELD "not a <what> cursor this server gave" otherwise.
 */
#define ADMIN_CURSOR_MAX 512
enum wg_err admin_name_cursor(struct http_req *req, const char *what,
    size_t max, char **after) __attribute__((warn_unused_result));

/*
 * Appends an admin-channel audit record "<what> "<name>" <verb>" with the
 * detail key=value and the caller's key id, in the caller's transaction.
 */
enum wg_err admin_audit(struct http_req *req, struct store_conn *c,
    const char *tenant_id, int event_id, const char *what, const char *name,
    const char *key, const char *value) __attribute__((warn_unused_result));

/*
 * A base64 field of a request body, decoded into *out (xmalloc'd; NULL
 * when an optional field is absent): at most max bytes once decoded.
 * WG_E_JSON_FIELD naming the field otherwise.
 */
enum wg_err admin_b64_field(struct http_req *req, const json_t *root,
    const char *name, int required, size_t max, unsigned char **out,
    size_t *len) __attribute__((warn_unused_result));

/*
 * A TPM2B_PUBLIC field (base64) parsed strictly into *out (its bytes in
 * *raw, xmalloc'd); with ek, it must also be an endorsement key
 * (tpm_public_ek_check).  WG_E_JSON_FIELD naming the field and the rule.
 */
enum wg_err admin_tpm_public(struct http_req *req, const json_t *root,
    const char *name, int ek, unsigned char **raw, size_t *len,
    struct tpm_public *out) __attribute__((warn_unused_result));

/*
 * admin_tpm_public() for an attestation identity key, and the check
 * alone (name: the field, for the message): a restricted signing key
 * bound to its TPM (restricted, sign, fixedTPM, fixedParent,
 * sensitiveDataOrigin; not decrypt).  WG_E_AIK_ATTRIBUTES otherwise.
 */
/*
 * Appends a record to device d's server-side timeline (its tenant, its
 * id) in the caller's transaction: channel, id, phase, code (WG_OK:
 * info, else error), the correlation id (NULL: none), the device's serial
 * number and one detail key = value (key or value NULL: none).
 */
enum wg_err admin_device_audit(struct http_req *req, struct store_conn *c,
    const struct wg_device *d, const char *channel, int id,
    enum wg_phase phase, enum wg_err err, const char *correlation,
    const char *key, const char *value, const char *msg)
    __attribute__((warn_unused_result));

/*
 * A refusal in the device's timeline: admin_device_audit() in a
 * transaction of its own, committed although the request fails (nested
 * in an idempotent request's, it stays as the handler's own writes do).
 * Best effort: a failure is logged, never the request's.
 */
void admin_device_refusal(struct http_req *req, struct store_conn *c,
    const struct wg_device *d, const char *channel, int id,
    enum wg_phase phase, enum wg_err err, const char *key, const char *value,
    const char *msg);

enum wg_err admin_aik_check(struct http_req *req, const char *name,
    const struct tpm_public *aik) __attribute__((warn_unused_result));
enum wg_err admin_aik_public(struct http_req *req, const json_t *root,
    const char *name, unsigned char **raw, size_t *len,
    struct tpm_public *out) __attribute__((warn_unused_result));

#endif
