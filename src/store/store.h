/*
 * The store: all server state, behind one interface with two backends,
 * SQLite (embedded default) and PostgreSQL (production, scale-out).
 *
 * A `struct store` is shared by all threads.  Each thread that talks to
 * the database gets its own `struct store_conn` from store_conn_get();
 * it is opened lazily, kept for the thread's life and re-opened after the
 * database went away.  Every store_* call that writes more than one row runs
 * in its own transaction unless the caller opened one with store_begin(),
 * in which case it joins the caller's.  A failed call writes nothing.
 *
 * Errors: WG_E_DB_UNAVAILABLE (cannot reach the database; retry later),
 * WG_E_NOT_FOUND, WG_E_CONFLICT (unique constraint), WG_E_DB_ERROR
 * (anything else; logged once with the database's own message).
 */
#ifndef WG_STORE_H
#define WG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"
#include "common/event.h"

struct store;
struct store_conn;

enum wg_key_role {
	WG_KEY_OPERATOR, /* manages tenants; belongs to no tenant */
	WG_KEY_ADMIN,	 /* a tenant admin; sees only its tenant */
	WG_KEY_ROLE_MAX
};

#define WG_TENANT_NAME_MAX 128
#define WG_KEY_NAME_MAX 128

struct wg_tenant {
	char id[37];
	char name[WG_TENANT_NAME_MAX + 1];
	int64_t created_ms;
	int allow_join_recovery; /* 1: a lost join may be recovered by a
				  * user's sign-in (migration 015) */
};

struct wg_api_key {
	char id[37];
	char tenant_id[37]; /* empty for the operator */
	enum wg_key_role role;
	char name[WG_KEY_NAME_MAX + 1];
	unsigned char secret_hash[32]; /* SHA-256 of the secret part */
	int64_t created_ms;
	int64_t revoked_ms; /* 0: active */
	int64_t last_used_ms;
};

/*
 * Opens the database named by url ("sqlite:PATH" or "postgresql://…" /
 * "postgres://…"), checks it can be reached, and applies any pending
 * schema migrations (safe when several servers start at once).  On
 * success *out is a new store the caller closes with store_close().
 */
enum wg_err store_open(const char *url, struct store **out)
    __attribute__((warn_unused_result));
void store_close(struct store *st);

/* "sqlite" or "postgresql". */
const char *store_backend(const struct store *st);
/* The schema version the database is at. */
int store_schema_version(const struct store *st);

/*
 * The calling thread's connection (opened on first use, re-opened if
 * broken).  Owned by the store; valid until the thread exits or
 * store_close().  Fails with WG_E_DB_UNAVAILABLE.
 */
enum wg_err store_conn_get(struct store *st, struct store_conn **out)
    __attribute__((warn_unused_result));

/*
 * Readies the calling thread's connection c for bulk writes (on SQLite a
 * larger page cache, no checkpoints of its own and no per-row foreign-key
 * checks, until the thread exits: see store_checkpoint()).  Such a
 * connection may only run store_import_batch(), which checks a batch's
 * parent rows itself.
 */
enum wg_err store_conn_bulk(struct store_conn *c)
    __attribute__((warn_unused_result));

/*
 * Whether bulk writes on this backend want store_checkpoint() run beside
 * them (SQLite: a bulk connection does not checkpoint its own log).
 */
int store_has_checkpoint(const struct store_conn *c);
/*
 * Copies the log's committed pages into the database without waiting for
 * writers (SQLite's passive WAL checkpoint); WG_OK where nothing is to do.
 */
enum wg_err store_checkpoint(struct store_conn *c)
    __attribute__((warn_unused_result));

/*
 * 1 if a write transaction on c excludes every other writer from its
 * first statement to its end (SQLite), so a long one cannot conflict with
 * a concurrent write; 0 if writers run concurrently (PostgreSQL).
 */
int store_writers_serialized(const struct store_conn *c);

/* Round trip to the database (for /ready). */
enum wg_err store_ping(struct store_conn *c)
    __attribute__((warn_unused_result));

/* Explicit transactions; store_rollback() is safe to call after errors. */
enum wg_err store_begin(struct store_conn *c)
    __attribute__((warn_unused_result));
enum wg_err store_commit(struct store_conn *c)
    __attribute__((warn_unused_result));
void store_rollback(struct store_conn *c);

/* ---- tenants ---- */

/* Inserts a tenant with a fresh id; WG_E_CONFLICT if the name is taken. */
enum wg_err store_tenant_create(struct store_conn *c, const char *name,
    struct wg_tenant *out) __attribute__((warn_unused_result));
enum wg_err store_tenant_get(struct store_conn *c, const char *id,
    struct wg_tenant *out) __attribute__((warn_unused_result));
/* All tenants ordered by creation; *out is xmalloc'd, the caller frees. */
enum wg_err store_tenant_list(struct store_conn *c, struct wg_tenant **out,
    size_t *n) __attribute__((warn_unused_result));
/*
 * Sets tenant id's allow_join_recovery (allow: 0 off, any other value on)
 * and copies the tenant as it is now into *out; WG_E_NOT_FOUND if there is
 * no such tenant.
 */
enum wg_err store_tenant_set_recovery(struct store_conn *c, const char *id,
    int allow, struct wg_tenant *out) __attribute__((warn_unused_result));

/* ---- admin API keys (only hashes stored) ---- */

/* Inserts key (id and fields filled by the caller). */
enum wg_err store_api_key_insert(struct store_conn *c,
    const struct wg_api_key *key) __attribute__((warn_unused_result));
/* Finds a key by id, revoked or not; WG_E_NOT_FOUND if none. */
enum wg_err store_api_key_get(struct store_conn *c, const char *id,
    struct wg_api_key *out) __attribute__((warn_unused_result));
/* Keys of one tenant ("" for operator keys), by creation; caller frees. */
enum wg_err store_api_key_list(struct store_conn *c, const char *tenant_id,
    struct wg_api_key **out, size_t *n) __attribute__((warn_unused_result));
/*
 * Marks key id of tenant_id revoked at now_ms; WG_E_NOT_FOUND if no such
 * key in that tenant (another tenant's key is "not found" too).
 */
enum wg_err store_api_key_revoke(struct store_conn *c, const char *tenant_id,
    const char *id, int64_t now_ms) __attribute__((warn_unused_result));
/* Records a successful use (best effort, coarse: at most once a minute). */
enum wg_err store_api_key_touch(struct store_conn *c, const char *id,
    int64_t now_ms) __attribute__((warn_unused_result));

/* ---- audit events ---- */

struct wg_audit {
	int64_t seq; /* increasing per database */
	char tenant_id[37];
	char device_id[37]; /* empty if none */
	char request_id[37]; /* empty if none */
	struct wg_event *event; /* owned */
};

/* Appends ev to the audit table; tenant/device/request may be NULL. */
enum wg_err store_audit_append(struct store_conn *c, const char *tenant_id,
    const char *device_id, const char *request_id, const struct wg_event *ev)
    __attribute__((warn_unused_result));
/* The most records one store_audit_list() call returns. */
#define WG_AUDIT_LIST_MAX 1000

/*
 * Audit records of tenant_id ("" for records without a tenant) with seq >
 * after_seq, oldest first, at most limit (capped at WG_AUDIT_LIST_MAX).
 * *out is xmalloc'd; free with store_audit_list_free().
 */
enum wg_err store_audit_list(struct store_conn *c, const char *tenant_id,
    int64_t after_seq, size_t limit, struct wg_audit **out, size_t *n)
    __attribute__((warn_unused_result));
void store_audit_list_free(struct wg_audit *list, size_t n);

/* ---- imports and devices (step 0: registration) ---- */

#define WG_SERIAL_MAX 128
#define WG_PRODUCT_KEY_MAX 64
#define WG_GROUP_TAG_MAX 128
#define WG_UPN_MAX 256
#define WG_IMPORT_MESSAGE_MAX 512

/* Rows handed to store_import_batch() at most at once. */
#define WG_IMPORT_BATCH_MAX 256

struct wg_import {
	char id[37];
	char tenant_id[37];
	char status[12]; /* unknown|pending|partial|complete|error */
	char source[8];	 /* json|csv */
	int64_t total, imported, failed;
	int64_t created_ms, updated_ms, completed_ms;
	int interrupted; /* the server stopped while it ran (status "error") */
	char message[WG_IMPORT_MESSAGE_MAX + 1];
};

/*
 * One row of an import.  The caller fills the input part (all text
 * borrowed; hardware_hash NULL when the row already failed validation,
 * then err says why) and store_import_batch() fills the result.
 */
struct wg_import_row {
	int64_t row_number;
	const char *serial;
	const char *product_key;
	const char *group_tag;
	const char *upn;
	const unsigned char *hardware_hash; /* its bytes (hwhash.h) */
	size_t hardware_hash_len;
	const char *manufacturer;
	const char *model;
	char ek_sha256[65]; /* hex */
	/* result (or, set by the caller, an error found before the store) */
	enum wg_err err; /* WG_OK or a DDS code */
	char message[160];
	char device_id[37];
	char ztd_id[37];
};

/* The state of one import row as listed back (devices or errors). */
struct wg_import_result {
	int64_t row_number;
	char serial[WG_SERIAL_MAX + 1];
	char product_key[WG_PRODUCT_KEY_MAX + 1];
	char group_tag[WG_GROUP_TAG_MAX + 1];
	char upn[WG_UPN_MAX + 1];
	uint32_t code; /* 0 or the DDS code */
	char ztd_id[37];
	char message[160];
};

struct wg_code_count {
	uint32_t code;
	int64_t count;
};

struct wg_device {
	char id[37];
	char tenant_id[37];
	char import_id[37];
	char serial[WG_SERIAL_MAX + 1];
	char product_key[WG_PRODUCT_KEY_MAX + 1];
	char manufacturer[WG_SERIAL_MAX + 1];
	char model[WG_SERIAL_MAX + 1];
	char group_tag[WG_GROUP_TAG_MAX + 1];
	char upn[WG_UPN_MAX + 1];
	char ek_sha256[65];
	char ztd_id[37];
	char directory_device_id[37];
	char enrollment_state[24];
	int enabled; /* of its directory object */
	int64_t created_ms, last_contacted_ms;
	char owner[WG_UPN_MAX + 1]; /* its object's registered owner, or "" */
};

struct wg_directory_device {
	char id[37];
	char tenant_id[37];
	char ztd_id[37];
	char display_name[WG_SERIAL_MAX + 1];
	int enabled;
	char trust_type[24];
	char os_version[64];
	char registered_owner[WG_UPN_MAX + 1];
	int64_t join_ms, created_ms;
};

struct wg_device_filter {
	const char *serial_prefix; /* NULL or "" for any */
	const char *group_tag;
	const char *import_id;
	const char *after_serial; /* paging: strictly after (serial, id) */
	const char *after_id;
	size_t limit;
};

/* A new import (status "unknown" until rows arrive) run by owner. */
enum wg_err store_import_create(struct store_conn *c, const char *tenant_id,
    const char *source, const char *owner, struct wg_import *out)
    __attribute__((warn_unused_result));
/* An import of tenant_id; WG_E_NOT_FOUND if none (or another tenant's). */
enum wg_err store_import_get(struct store_conn *c, const char *tenant_id,
    const char *id, struct wg_import *out)
    __attribute__((warn_unused_result));
/* The tenant's imports, newest first, at most limit; caller frees. */
enum wg_err store_import_list(struct store_conn *c, const char *tenant_id,
    size_t limit, struct wg_import **out, size_t *n)
    __attribute__((warn_unused_result));
/*
 * Marks an "unknown" import "pending" for owner (the first rows arrive);
 * WG_E_CONFLICT if it is not "unknown" any more.
 */
enum wg_err store_import_start(struct store_conn *c, const char *tenant_id,
    const char *id, const char *owner) __attribute__((warn_unused_result));
/*
 * Registers rows in one transaction (joining the caller's if one is
 * open): classifies each row (806 in this tenant, 808 in another, 813
 * matches two records, 814 twice in this import), pre-creates a disabled
 * directory object and a ZTDID for each new device, records failed rows
 * with their code, and adds the counts to the import.  n <=
 * WG_IMPORT_BATCH_MAX.  Rows whose err the caller set are recorded as
 * failed as they are.
 */
enum wg_err store_import_batch(struct store_conn *c, const char *tenant_id,
    const char *import_id, struct wg_import_row *rows, size_t n)
    __attribute__((warn_unused_result));
/*
 * Refreshes the planner's statistics of the registry tables where the
 * backend plans by them (PostgreSQL), outside any transaction; the import
 * calls it as the tables grow (after 4096 rows, then at each doubling), so
 * its lookups keep using their indexes.  WG_OK where nothing is to do.
 */
enum wg_err store_import_analyze(struct store_conn *c)
    __attribute__((warn_unused_result));
/* Ends an import: status from its counts (or "error"), message, time. */
enum wg_err store_import_finish(struct store_conn *c, const char *tenant_id,
    const char *id, const char *message, int failed_hard)
    __attribute__((warn_unused_result));
/*
 * Marks owner's imports still "pending" as interrupted ("error"): called
 * at start, when nothing of this instance can still be running them.
 * *n says how many.
 */
enum wg_err store_import_interrupt_owner(struct store_conn *c,
    const char *owner, size_t *n) __attribute__((warn_unused_result));
/* Failed rows counted by code, by code; caller frees *out. */
enum wg_err store_import_error_counts(struct store_conn *c,
    const char *import_id, struct wg_code_count **out, size_t *n)
    __attribute__((warn_unused_result));
/*
 * Rows of an import after row_number `after`, by row number, at most
 * limit; errors_only lists failed rows only.  Rows of devices deleted
 * since are not listed.  Caller frees *out.
 */
enum wg_err store_import_rows(struct store_conn *c, const char *import_id,
    int64_t after, size_t limit, int errors_only,
    struct wg_import_result **out, size_t *n)
    __attribute__((warn_unused_result));

/* Devices of tenant_id matching f, by (serial, id); caller frees. */
enum wg_err store_device_list(struct store_conn *c, const char *tenant_id,
    const struct wg_device_filter *f, struct wg_device **out, size_t *n)
    __attribute__((warn_unused_result));
enum wg_err store_device_get(struct store_conn *c, const char *tenant_id,
    const char *id, struct wg_device *out)
    __attribute__((warn_unused_result));
/*
 * Deletes a device and its directory object and gives the device's serial
 * number; WG_E_NOT_FOUND if none.
 */
enum wg_err store_device_delete(struct store_conn *c, const char *tenant_id,
    const char *id, char serial[WG_SERIAL_MAX + 1])
    __attribute__((warn_unused_result));
/*
 * Sets group tag and/or assigned user (NULL: unchanged, "": cleared);
 * WG_E_NOT_FOUND if no such device in the tenant.
 */
enum wg_err store_device_update(struct store_conn *c, const char *tenant_id,
    const char *id, const char *group_tag, const char *upn)
    __attribute__((warn_unused_result));
/* Directory objects of the tenant after id `after`, by id; caller frees. */
enum wg_err store_directory_list(struct store_conn *c, const char *tenant_id,
    const char *after, size_t limit, struct wg_directory_device **out,
    size_t *n) __attribute__((warn_unused_result));

/* ---- attestation (step 2: EK certificates, revocations, AIKs) ---- */

#define WG_EK_ID_LEN 43		  /* base64url of a SHA-256, unpadded */
#define WG_EK_PUBLIC_B64_MAX 1400 /* a TPM2B_PUBLIC in base64 */
#define WG_CERT_B64_MAX 11000	  /* a DER certificate in base64 */
#define WG_TPM_ATTR_MAX 64	  /* tpmManufacturer, tpmModel, tpmVersion */
#define WG_REASON_MAX 256

/* An EK certificate of the ekcert service. */
struct wg_ekcert {
	char ek_id[WG_EK_ID_LEN + 1];
	char ek_alg[4];		   /* rsa | ecc */
	char ek_sha256[65];	   /* of the TPMT_PUBLIC, hex */
	char ek_public[WG_EK_PUBLIC_B64_MAX + 1]; /* TPM2B_PUBLIC */
	char certificate[WG_CERT_B64_MAX + 1];	  /* DER */
	char cert_serial[65];	   /* hex */
	char manufacturer[WG_TPM_ATTR_MAX + 1];
	char model[WG_TPM_ATTR_MAX + 1];
	char version[WG_TPM_ATTR_MAX + 1];
	int64_t created_ms;
	int64_t revoked_ms;	   /* 0: not revoked */
	char reason[WG_REASON_MAX + 1];
};

/* An AIK certificate the attestation CA issued. */
struct wg_aik_cert {
	char cert_serial[65];
	char aik_name[69];	   /* the AIK's TPM name, hex */
	char ek_id[WG_EK_ID_LEN + 1];
	char assurance[16];	   /* ek-certificate | ek-on-list */
	char serial_number[WG_SERIAL_MAX + 1]; /* the device's, as sent */
	char certificate[WG_CERT_B64_MAX + 1];
	int64_t created_ms, not_after_ms;
	char ek_sha256[65];	   /* of the EK's TPMT_PUBLIC, hex; "" if
				      issued before it was recorded */
	char aik_public[WG_EK_PUBLIC_B64_MAX + 1]; /* TPM2B_PUBLIC, base64;
						      "" if not recorded */
};

/*
 * Records an EK certificate (created_ms set here).  WG_E_CONFLICT if the
 * EK has one already (the caller's transaction goes on).
 */
enum wg_err store_ekcert_put(struct store_conn *c, struct wg_ekcert *e)
    __attribute__((warn_unused_result));
/* The EK certificate of ek_id, revocation included; WG_E_NOT_FOUND. */
enum wg_err store_ekcert_get(struct store_conn *c, const char *ek_id,
    struct wg_ekcert *out) __attribute__((warn_unused_result));
/*
 * EK certificates by ek_id after `after` ("" from the start), at most
 * limit, with their revocations; the caller frees *out.
 */
enum wg_err store_ekcert_list(struct store_conn *c, const char *after,
    size_t limit, struct wg_ekcert **out, size_t *n)
    __attribute__((warn_unused_result));
/*
 * Revokes the EK ek_id (whether or not the ekcert service certified it);
 * revoking it again keeps the first reason and time.
 */
enum wg_err store_ek_revoke(struct store_conn *c, const char *ek_id,
    const char *reason) __attribute__((warn_unused_result));
/* *revoked_ms: when ek_id was revoked (reason into reason), or 0. */
enum wg_err store_ek_revoked(struct store_conn *c, const char *ek_id,
    int64_t *revoked_ms, char reason[WG_REASON_MAX + 1])
    __attribute__((warn_unused_result));
/*
 * Whether an imported hardware hash of any tenant carries the EK whose
 * TPMT_PUBLIC has SHA-256 ek_sha256 (hex): *found 1 or 0.
 */
enum wg_err store_ek_on_list(struct store_conn *c, const char *ek_sha256,
    int *found) __attribute__((warn_unused_result));
/* Records an issued AIK certificate (created_ms set by the caller). */
enum wg_err store_aik_cert_put(struct store_conn *c,
    const struct wg_aik_cert *a) __attribute__((warn_unused_result));
/*
 * The AIK certificate issued for the AIK of name aik_name (hex) that is
 * certificate (base64, as store_aik_cert_put() recorded it);
 * WG_E_NOT_FOUND if the attestation CA issued no such certificate.
 */
enum wg_err store_aik_cert_find(struct store_conn *c, const char *aik_name,
    const char *certificate, struct wg_aik_cert *out)
    __attribute__((warn_unused_result));

/* ---- deployment profiles (step 1: the ztd service) ---- */

#define WG_PROFILE_NAME_MAX 128
#define WG_NAME_TEMPLATE_MAX 64
#define WG_PROFILE_LIST_MAX 1000

/*
 * A deployment profile.  deployment_mode: userDriven | selfDeploying |
 * preProvisioning; join_method: cloud | hybrid; reboot_policy: strict |
 * tolerant; oobe_flags: the CloudAssignedOobeConfig bits
 * (common/profile.h); is_default: the tenant's default profile.
 */
struct wg_profile {
	char id[37];
	char tenant_id[37];
	char name[WG_PROFILE_NAME_MAX + 1];
	char deployment_mode[16];
	char join_method[8];
	char name_template[WG_NAME_TEMPLATE_MAX + 1];
	int64_t oobe_flags;
	int64_t esp_timeout_min;
	char reboot_policy[9];
	int64_t ticket_days;
	int is_default;
	int64_t created_ms, updated_ms;
	char session_key_wrap[16];	/* "RSA-OAEP-256" or "RSA-OAEP" ("":
					   the default, at create) */
};

#define WG_SESSION_KEY_WRAP_DEFAULT "RSA-OAEP-256"

/*
 * Creates p in p->tenant_id (id, created_ms and updated_ms set here; a
 * new profile is not the default).  WG_E_CONFLICT if the tenant has a
 * profile of that name.
 */
enum wg_err store_profile_create(struct store_conn *c, struct wg_profile *p)
    __attribute__((warn_unused_result));
/* Profile id of the tenant; WG_E_NOT_FOUND if none. */
enum wg_err store_profile_get(struct store_conn *c, const char *tenant_id,
    const char *id, struct wg_profile *out)
    __attribute__((warn_unused_result));
/* Profile of that name in the tenant; WG_E_NOT_FOUND if none. */
enum wg_err store_profile_get_by_name(struct store_conn *c,
    const char *tenant_id, const char *name, struct wg_profile *out)
    __attribute__((warn_unused_result));
/* The tenant's profiles by name after `after` ("": from the start). */
enum wg_err store_profile_list(struct store_conn *c, const char *tenant_id,
    const char *after, size_t limit, struct wg_profile **out, size_t *n)
    __attribute__((warn_unused_result));
/* Deletes a profile and its assignments; WG_E_NOT_FOUND if none. */
enum wg_err store_profile_delete(struct store_conn *c, const char *tenant_id,
    const char *id) __attribute__((warn_unused_result));
/*
 * Assigns profile id to group_tag (the tag's earlier profile, if any, is
 * replaced) or, with group_tag NULL, makes it the tenant's default (the
 * earlier default stops being one).  WG_E_NOT_FOUND if no such profile.
 */
enum wg_err store_profile_assign(struct store_conn *c, const char *tenant_id,
    const char *id, const char *group_tag)
    __attribute__((warn_unused_result));
/*
 * Removes group_tag's assignment to profile id (group_tag NULL: the
 * profile stops being the default); WG_E_NOT_FOUND if there was none.
 */
enum wg_err store_profile_unassign(struct store_conn *c,
    const char *tenant_id, const char *id, const char *group_tag)
    __attribute__((warn_unused_result));
/*
 * The group tags assigned to profile id, sorted; the caller frees each
 * and *tags.
 */
enum wg_err store_profile_tags(struct store_conn *c, const char *tenant_id,
    const char *id, char ***tags, size_t *n)
    __attribute__((warn_unused_result));
/*
 * The profile a device of the tenant with group_tag ("" for none) gets:
 * its tag's assignment, else the tenant's default (*by_tag 1 or 0).
 * WG_E_NOT_FOUND if neither exists.
 */
enum wg_err store_profile_for(struct store_conn *c, const char *tenant_id,
    const char *group_tag, struct wg_profile *out, int *by_tag)
    __attribute__((warn_unused_result));

/*
 * The device registered (in any tenant) with the EK whose TPMT_PUBLIC has
 * SHA-256 ek_sha256 (hex), and its imported hardware hash (*hash, bytes,
 * the caller frees it).  WG_E_NOT_FOUND if none.
 */
enum wg_err store_device_by_ek(struct store_conn *c, const char *ek_sha256,
    struct wg_device *out, unsigned char **hash, size_t *hash_len)
    __attribute__((warn_unused_result));
/* Records that device id was in contact now (lastContacted). */
enum wg_err store_device_contacted(struct store_conn *c, const char *id)
    __attribute__((warn_unused_result));

/* ---- the token service's nonces (single use, across instances) ---- */

#define WG_NONCE_PURPOSE_MAX 32

/* Records a nonce by its SHA-256 (hex), valid until expires_ms. */
enum wg_err store_nonce_put(struct store_conn *c, const char *sha256_hex,
    const char *purpose, int64_t expires_ms)
    __attribute__((warn_unused_result));
/*
 * Takes the nonce with SHA-256 sha256_hex for purpose: WG_OK if it was
 * recorded for that purpose, unused and unexpired, and is used from now
 * on (one UPDATE: two servers cannot both take it).  Otherwise
 * WG_E_NOT_FOUND with *why "unknown", "already used", "expired" or
 * "issued for another purpose".
 */
enum wg_err store_nonce_take(struct store_conn *c, const char *sha256_hex,
    const char *purpose, const char **why) __attribute__((warn_unused_result));
/*
 * Whether the nonce could be taken now (store_nonce_take's rule), without
 * taking it: WG_OK, or WG_E_NOT_FOUND with *why.  For a request refused
 * on other grounds that must not use its nonce up.
 */
enum wg_err store_nonce_check(struct store_conn *c, const char *sha256_hex,
    const char *purpose, const char **why) __attribute__((warn_unused_result));
/* Deletes at most limit nonces that expired before `before`. */
enum wg_err store_nonce_purge(struct store_conn *c, int64_t before,
    size_t limit) __attribute__((warn_unused_result));

/* ---- the join (step 3: drs) ---- */

#define WG_DISPLAY_NAME_MAX 15
#define WG_TPM_PUBLIC_B64_MAX 1368 /* base64 of a 1024-byte TPM2B_PUBLIC */

/* What a join writes: the directory object's new state and the
 * certificate the device registration service issued. */
struct wg_join {
	char tenant_id[37];
	char device_id[37];		/* device_identities.id */
	char directory_device_id[37];
	char display_name[WG_DISPLAY_NAME_MAX + 1];
	char os_version[64];
	char trust_type[24];
	char device_key_id[65];		/* SHA-256 of the DK's TPMT_PUBLIC */
	char transport_key_id[65];	/* the same of the TK */
	char dk_public[WG_TPM_PUBLIC_B64_MAX + 1]; /* TPM2B_PUBLIC, base64 */
	char tk_public[WG_TPM_PUBLIC_B64_MAX + 1];
	char dk_name[69];		/* the DK's TPM name, hex */
	char cert_serial[65];
	char thumbprint[41];		/* SHA-1 of the DER, hex upper case */
	char certificate[WG_CERT_B64_MAX + 1];
	int64_t join_ms, not_after_ms;
};

/* The device of the tenant whose ZTDID is ztd_id; WG_E_NOT_FOUND. */
enum wg_err store_device_by_ztd(struct store_conn *c, const char *tenant_id,
    const char *ztd_id, struct wg_device *out)
    __attribute__((warn_unused_result));
/*
 * Records a join in the caller's transaction: the directory object is
 * enabled and updated (name, OS, trust type, join time, key ids) and the
 * certificate recorded.  WG_E_NOT_FOUND if the directory object is gone.
 */
enum wg_err store_join_record(struct store_conn *c, const struct wg_join *j)
    __attribute__((warn_unused_result));
/*
 * Records a device certificate (j's cert_serial through not_after_ms, its
 * ids and dk_name) in the caller's transaction: the join's, and the one
 * the sign-in issues again for the same DK.
 */
enum wg_err store_device_cert_add(struct store_conn *c,
    const struct wg_join *j) __attribute__((warn_unused_result));
/* How many device certificates device_id has (tests, diagnostics). */
enum wg_err store_device_cert_count(struct store_conn *c,
    const char *device_id, int64_t *n) __attribute__((warn_unused_result));

/* ---- MDM enrollment (step 4: mdm) ---- */

struct wg_mdm_enrollment {
	char device_id[37];
	char tenant_id[37];
	char enrollment_id[37];
	char cert_serial[65];
	char thumbprint[41];
	char certificate[WG_CERT_B64_MAX + 1];
	char key_name[69];	/* the MDM key's TPM name, hex */
	int64_t created_ms, not_after_ms;
};

/*
 * Records e in the caller's transaction and marks the device enrolled.
 * WG_E_CONFLICT if the device is enrolled already and no admin allowed
 * another enrollment; an allowance is used up, the earlier enrollment
 * replaced.
 */
enum wg_err store_mdm_enroll(struct store_conn *c,
    const struct wg_mdm_enrollment *e) __attribute__((warn_unused_result));
/* The device's enrollment; WG_E_NOT_FOUND if it has none. */
enum wg_err store_mdm_get(struct store_conn *c, const char *tenant_id,
    const char *device_id, struct wg_mdm_enrollment *out)
    __attribute__((warn_unused_result));
/* Deletes the device's enrollment; WG_E_NOT_FOUND if it had none. */
enum wg_err store_mdm_delete(struct store_conn *c, const char *tenant_id,
    const char *device_id) __attribute__((warn_unused_result));
/* Allows the device one more enrollment; WG_E_NOT_FOUND: no device. */
enum wg_err store_mdm_allow_next(struct store_conn *c, const char *tenant_id,
    const char *device_id) __attribute__((warn_unused_result));

/* ---- pre-provisioning tickets (step 6: the reseal) ---- */

struct wg_ticket {
	char ticket_sha256[65];
	char tenant_id[37];
	char device_id[37];
	char dk_id[65];
	char aik_name[69];	/* the AIK whose quote gave the counters, hex */
	int64_t reset_count, restart_count;
	int64_t created_ms, expires_ms, used_ms;
};

/*
 * Records t in the caller's transaction, bound to the device key of the
 * join of directory object directory_device_id (t->dk_id is set),
 * replacing the device's unused ticket if it has one (a reseal made
 * again).  WG_E_NOT_FOUND if that object is not joined (not enabled, or
 * without a device key).
 */
enum wg_err store_ticket_put(struct store_conn *c, struct wg_ticket *t,
    const char *directory_device_id) __attribute__((warn_unused_result));

/* ---- the user's sign-in (step 7: the token service) ---- */

/* The device whose directory object holds a device key. */
struct wg_signin_device {
	struct wg_device dev;	/* its identity; dev.enabled: its object's */
	char dk_public[WG_TPM_PUBLIC_B64_MAX + 1]; /* "" before 014 joins */
	char tk_public[WG_TPM_PUBLIC_B64_MAX + 1];
	char transport_key_id[65];
	char display_name[WG_DISPLAY_NAME_MAX + 1];
};

/*
 * The device whose directory object's device_key_id is dk_id (the hex
 * SHA-256 of the DK's TPMT_PUBLIC); WG_E_NOT_FOUND if none.
 */
enum wg_err store_signin_device(struct store_conn *c, const char *dk_id,
    struct wg_signin_device *out) __attribute__((warn_unused_result));
/* The ticket whose SHA-256 is ticket_sha256 (hex); WG_E_NOT_FOUND. */
enum wg_err store_ticket_get(struct store_conn *c, const char *ticket_sha256,
    struct wg_ticket *out) __attribute__((warn_unused_result));
/* The device's newest ticket (device_identities.id); WG_E_NOT_FOUND. */
enum wg_err store_ticket_latest(struct store_conn *c, const char *device_id,
    struct wg_ticket *out) __attribute__((warn_unused_result));
/*
 * Uses the ticket up at now_ms, in one UPDATE: WG_E_NOT_FOUND if it is
 * not there or was used (two sign-ins cannot both use it).
 */
enum wg_err store_ticket_use(struct store_conn *c, const char *ticket_sha256,
    int64_t now_ms) __attribute__((warn_unused_result));
/* Sets the directory object's registered owner; WG_E_NOT_FOUND. */
enum wg_err store_owner_set(struct store_conn *c, const char *tenant_id,
    const char *directory_device_id, const char *upn)
    __attribute__((warn_unused_result));

#define WG_PRT_SEALED_MAX 255	/* base64 of a sealed session key */

/* A primary refresh token as stored (014_signin.sql). */
struct wg_prt {
	char prt_sha256[65];
	char tenant_id[37];
	char user_id[37];
	char device_id[37];		/* device_identities.id */
	char directory_device_id[37];
	char session_key[WG_PRT_SEALED_MAX + 1]; /* sealed (sealbox.h) */
	int64_t created_ms, expires_ms, replaced_ms;
};

/* Stores t in the caller's transaction. */
enum wg_err store_prt_put(struct store_conn *c, const struct wg_prt *t)
    __attribute__((warn_unused_result));
/* The token whose SHA-256 is prt_sha256 (hex); WG_E_NOT_FOUND. */
enum wg_err store_prt_get(struct store_conn *c, const char *prt_sha256,
    struct wg_prt *out) __attribute__((warn_unused_result));
/* Moves a live token's expiry to expires_ms; WG_E_NOT_FOUND if replaced. */
enum wg_err store_prt_touch(struct store_conn *c, const char *prt_sha256,
    int64_t expires_ms) __attribute__((warn_unused_result));
/*
 * Marks a live token replaced at now_ms, in one UPDATE: WG_E_NOT_FOUND if
 * it was replaced already (two renewals cannot both succeed).
 */
enum wg_err store_prt_replace(struct store_conn *c, const char *prt_sha256,
    int64_t now_ms) __attribute__((warn_unused_result));
/*
 * Housekeeping: deletes at most limit PRTs that expired or were replaced
 * before prts_before, and at most limit per-device sign-in windows that
 * started before windows_before.
 */
enum wg_err store_signin_purge(struct store_conn *c, int64_t prts_before,
    int64_t windows_before, size_t limit) __attribute__((warn_unused_result));

/* ---- apps and device setup (step 5: the mdm service) ---- */

#define WG_APP_NAME_MAX 128
#define WG_APP_COMMAND_MAX 2048
#define WG_APP_LIST_MAX 1000
#define WG_APP_CODE_MAX 10	/* "0x" and 8 hex digits */
#define WG_APP_MESSAGE_MAX 512

/*
 * An app a device installs during device setup.  target: device | user;
 * sha256: hex of its content, "" until uploaded (size 0).
 */
struct wg_app {
	char id[37];
	char tenant_id[37];
	char name[WG_APP_NAME_MAX + 1];
	char install_command[WG_APP_COMMAND_MAX + 1];
	char target[8];
	int64_t timeout_s;
	char sha256[65];
	int64_t size;
	int64_t created_ms, updated_ms;
};

/*
 * A device's last report on an app.  state: identifying | downloading |
 * installing | installed | failed; code and message "" when not given.
 */
struct wg_app_state {
	char device_id[37];
	char app_id[37];
	char app_name[WG_APP_NAME_MAX + 1];
	char state[16];
	char code[WG_APP_CODE_MAX + 1];
	char message[WG_APP_MESSAGE_MAX + 1];
	int64_t updated_ms;
};

/*
 * Creates a (its id, times set; no content).  WG_E_CONFLICT if the tenant
 * has an app of that name.
 */
enum wg_err store_app_create(struct store_conn *c, struct wg_app *a)
    __attribute__((warn_unused_result));
/* The tenant's app id, or its app named name; WG_E_NOT_FOUND if none. */
enum wg_err store_app_get(struct store_conn *c, const char *tenant_id,
    const char *id, struct wg_app *out) __attribute__((warn_unused_result));
enum wg_err store_app_get_by_name(struct store_conn *c,
    const char *tenant_id, const char *name, struct wg_app *out)
    __attribute__((warn_unused_result));
/*
 * The tenant's apps by name after `after` ("": from the start), at most
 * limit; *out is an array the caller frees.
 */
enum wg_err store_app_list(struct store_conn *c, const char *tenant_id,
    const char *after, size_t limit, struct wg_app **out, size_t *n)
    __attribute__((warn_unused_result));
/* Deletes an app, its assignments and states; WG_E_NOT_FOUND if none. */
enum wg_err store_app_delete(struct store_conn *c, const char *tenant_id,
    const char *id) __attribute__((warn_unused_result));
/* Sets the app's content; WG_E_NOT_FOUND if there is no such app. */
enum wg_err store_app_set_content(struct store_conn *c,
    const char *tenant_id, const char *id, const char *sha256, int64_t size)
    __attribute__((warn_unused_result));
/* *used: how many apps, of any tenant, have content sha256. */
enum wg_err store_app_content_users(struct store_conn *c,
    const char *sha256, int64_t *used) __attribute__((warn_unused_result));
/*
 * Assigns app id to group_tag (again: no change); unassign answers
 * WG_E_NOT_FOUND if it was not.  Assign: WG_E_NOT_FOUND if no such app.
 */
enum wg_err store_app_assign(struct store_conn *c, const char *tenant_id,
    const char *id, const char *group_tag)
    __attribute__((warn_unused_result));
enum wg_err store_app_unassign(struct store_conn *c, const char *tenant_id,
    const char *id, const char *group_tag)
    __attribute__((warn_unused_result));
/* The group tags of app id, sorted; the caller frees each and *tags. */
enum wg_err store_app_tags(struct store_conn *c, const char *tenant_id,
    const char *id, char ***tags, size_t *n)
    __attribute__((warn_unused_result));
/*
 * What a device of the tenant with group_tag installs: the apps of target
 * ("device": device setup; "user": account setup) assigned to its tag
 * that have content, by name (at most WG_APP_LIST_MAX); *out is an array
 * the caller frees.
 */
enum wg_err store_app_for_device(struct store_conn *c, const char *tenant_id,
    const char *group_tag, const char *target, struct wg_app **out,
    size_t *n) __attribute__((warn_unused_result));
/*
 * One app of store_app_for_device, of either target: by id, or (id NULL)
 * one whose content is sha256.  WG_E_NOT_FOUND if the device gets no such
 * app.
 */
enum wg_err store_app_device_get(struct store_conn *c, const char *tenant_id,
    const char *group_tag, const char *id, const char *sha256,
    struct wg_app *out) __attribute__((warn_unused_result));
/*
 * Records (replaces) a device's state of an app; *changed 0 when the
 * device reported the same state, code and message again (nothing is
 * written, updated_ms stays that of the first report), 1 otherwise.
 */
enum wg_err store_app_state_set(struct store_conn *c,
    const struct wg_app_state *s, int *changed)
    __attribute__((warn_unused_result));
/*
 * The states device_id of the tenant reported, by app name; *out is an
 * array the caller frees.
 */
enum wg_err store_app_states(struct store_conn *c, const char *tenant_id,
    const char *device_id, struct wg_app_state **out, size_t *n)
    __attribute__((warn_unused_result));

/* ---- idempotency keys (server/idem.c) ---- */

/* How long an answer is replayed, and how much of one is kept. */
#define WG_IDEM_LIFE_MS ((int64_t)24 * 3600 * 1000)
#define WG_IDEM_BODY_MAX (256 * 1024)

/*
 * A stored answer: status (0 while claimed and unanswered), its content
 * type and body (text the caller made; xmalloc'd, freed by
 * wg_idem_free()).
 */
struct wg_idem {
	int status;
	char content_type[128];
	char *body;
	int64_t created_ms;
};

/*
 * Claims scope (an opaque text key, at most 128 bytes) of route inside the
 * caller's transaction, after removing up to 100 of route's rows older
 * than cutoff_ms: WG_OK if scope is now this transaction's (a new row, or
 * one older than cutoff_ms made new), WG_E_CONFLICT if a row younger than
 * cutoff_ms holds it.  On PostgreSQL a concurrent claim of the same scope
 * waits for this transaction to end (the primary key), then sees its row.
 */
enum wg_err store_idem_claim(struct store_conn *c, const char *scope,
    const char *route, int64_t now_ms, int64_t cutoff_ms)
    __attribute__((warn_unused_result));
/* The answer stored for scope, if younger than cutoff_ms; WG_E_NOT_FOUND. */
enum wg_err store_idem_get(struct store_conn *c, const char *scope,
    int64_t cutoff_ms, struct wg_idem *out)
    __attribute__((warn_unused_result));
/* Records the answer of the claimed scope; WG_E_NOT_FOUND if unclaimed. */
enum wg_err store_idem_put(struct store_conn *c, const char *scope,
    int status, const char *content_type, const char *body)
    __attribute__((warn_unused_result));
/* Gives up the claim of scope made in this transaction (no answer). */
enum wg_err store_idem_release(struct store_conn *c, const char *scope)
    __attribute__((warn_unused_result));
/* Frees what out holds (not out); safe on a zeroed struct. */
void wg_idem_free(struct wg_idem *out);

/* ---- users (step 7: the token service) ---- */

#define WG_USER_DISPLAY_NAME_MAX 256
#define WG_USER_LIST_MAX 1000
#define WG_PASSWORD_HASH_MAX 192 /* a PHC string with its NUL */

/*
 * A user of a tenant.  upn is lower-cased by the store (so UPNs are unique
 * per tenant whatever their case); password_hash is the Argon2id PHC
 * string (crypto/passwd.h); failed_count counts failed sign-ins since the
 * last good one; locked_until_ms (0: never locked) and last_sign_in_ms
 * (0: never) are ms since the epoch.
 */
struct wg_user {
	char id[37];
	char tenant_id[37];
	char upn[WG_UPN_MAX + 1];
	char display_name[WG_USER_DISPLAY_NAME_MAX + 1];
	char password_hash[WG_PASSWORD_HASH_MAX];
	int disabled;
	int64_t failed_count;
	int64_t locked_until_ms;
	int64_t last_sign_in_ms;
	int64_t created_ms, updated_ms;
};

/*
 * Creates u (its id and times set, its upn lower-cased; enabled, no
 * failures).  WG_E_CONFLICT if the tenant has a user with that UPN.
 */
enum wg_err store_user_create(struct store_conn *c, struct wg_user *u)
    __attribute__((warn_unused_result));
/* The tenant's user id, or its user upn (any case); WG_E_NOT_FOUND. */
enum wg_err store_user_get(struct store_conn *c, const char *tenant_id,
    const char *id, struct wg_user *out) __attribute__((warn_unused_result));
enum wg_err store_user_get_by_upn(struct store_conn *c,
    const char *tenant_id, const char *upn, struct wg_user *out)
    __attribute__((warn_unused_result));
/*
 * The tenant's users by UPN after `after` ("": from the start), at most
 * limit; *out is an array the caller frees (it holds the hashes: wipe it
 * if that matters).
 */
enum wg_err store_user_list(struct store_conn *c, const char *tenant_id,
    const char *after, size_t limit, struct wg_user **out, size_t *n)
    __attribute__((warn_unused_result));
/*
 * Disables (disabled 1) or enables (0) user id; *out is the user as it is
 * now.  WG_E_NOT_FOUND if the tenant has no such user.
 */
enum wg_err store_user_set_disabled(struct store_conn *c,
    const char *tenant_id, const char *id, int disabled, struct wg_user *out)
    __attribute__((warn_unused_result));
/*
 * Sets user id's password hash (a PHC string) and clears its failures and
 * any lockout (an admin's reset unlocks); *out is the user as it is now.
 * WG_E_NOT_FOUND if the tenant has no such user.
 */
enum wg_err store_user_set_password(struct store_conn *c,
    const char *tenant_id, const char *id, const char *password_hash,
    struct wg_user *out) __attribute__((warn_unused_result));
/*
 * Records a failed sign-in of user id at now_ms in one statement (two
 * sign-ins failing at once both count): failed_count goes up by one, and
 * when it reaches a multiple of lockout_after the user is locked until
 * now_ms + lockout_ms.  *out is the user as it is now (locked if
 * out->locked_until_ms > now_ms).  WG_E_NOT_FOUND if there is no such user.
 */
enum wg_err store_user_signin_failed(struct store_conn *c,
    const char *tenant_id, const char *id, int64_t now_ms,
    int64_t lockout_after, int64_t lockout_ms, struct wg_user *out)
    __attribute__((warn_unused_result));
/*
 * Records a good sign-in of user id at now_ms: failures and lockout
 * cleared, last_sign_in_ms set; *out the user as it is now.
 */
enum wg_err store_user_signin_ok(struct store_conn *c, const char *tenant_id,
    const char *id, int64_t now_ms, struct wg_user *out)
    __attribute__((warn_unused_result));
/*
 * Counts a failed sign-in from device_id (the caller's name for the
 * device, at most 128 bytes) at now_ms in one statement: a window of
 * window_ms starts at its first failure, and a failure after the window
 * starts a new one.  *failures is the count in the current window, this
 * one included.  A good sign-in does not reset it.
 */
enum wg_err store_signin_device_failed(struct store_conn *c,
    const char *tenant_id, const char *device_id, int64_t now_ms,
    int64_t window_ms, int64_t *failures)
    __attribute__((warn_unused_result));
/* *failures: device_id's failures in its window live at now_ms (else 0). */
enum wg_err store_signin_device_failures(struct store_conn *c,
    const char *tenant_id, const char *device_id, int64_t now_ms,
    int64_t window_ms, int64_t *failures)
    __attribute__((warn_unused_result));

/* ---- device events and the device's timeline (store_events.c) ---- */

/* Events a device keeps: an upload trims the older ones (by arrival). */
#define WG_DEVICE_EVENTS_KEEP 2000
/* The most entries one store_timeline_list() call returns. */
#define WG_TIMELINE_MAX 1000

/* One record of a device's timeline. */
struct wg_timeline_entry {
	int64_t seq;		/* of its table: audit_events or device_events */
	int from_server;	/* 1: the server's audit record; 0: uploaded */
	struct wg_event *event;	/* owned */
};

/*
 * Stores the n events device_id (of tenant_id) uploaded, received at
 * now_ms, in one transaction (the caller's, if open): an event the device
 * has already stored (the same channel and the same SHA-256 of its
 * wg_event_to_json() line) is skipped, and then the device's events past
 * its newest WG_DEVICE_EVENTS_KEEP are deleted.  *stored: how many were
 * new.
 */
enum wg_err store_device_events_add(struct store_conn *c,
    const char *tenant_id, const char *device_id,
    struct wg_event *const *evs, size_t n, int64_t now_ms, size_t *stored)
    __attribute__((warn_unused_result));

/*
 * The timeline of device_id: its audit records and its uploaded events,
 * the newest limit of both (capped at WG_TIMELINE_MAX) in time order,
 * oldest first (a tie: the server's first, then by seq).  *more is 1 when
 * older entries were left out.  Free *out with store_timeline_free().
 */
enum wg_err store_timeline_list(struct store_conn *c, const char *tenant_id,
    const char *device_id, size_t limit, struct wg_timeline_entry **out,
    size_t *n, int *more) __attribute__((warn_unused_result));

/*
 * The earliest error-level entry of device_id's whole timeline into *out
 * (its event the caller frees with wg_event_free); WG_E_NOT_FOUND if the
 * device has none.
 */
enum wg_err store_timeline_first_error(struct store_conn *c,
    const char *tenant_id, const char *device_id,
    struct wg_timeline_entry *out) __attribute__((warn_unused_result));

void store_timeline_free(struct wg_timeline_entry *list, size_t n);

#endif
