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

#endif
