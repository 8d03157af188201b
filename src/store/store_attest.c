/*
 * Attestation records (step 2 of the flow), for both backends: the EK
 * certificates of the ekcert service, EK revocations, and the AIK
 * certificates of the attestation CA.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

enum attest_q {
	Q_EKCERT_INSERT = STORE_Q_ATTEST_BASE,
	Q_EKCERT_GET,
	Q_EKCERT_LIST,
	Q_EK_REVOKE,
	Q_EK_REVOKED,
	Q_EK_ON_LIST,
	Q_AIK_INSERT,
	Q_AIK_GET,
	Q_ATTEST_Q_END
};
_Static_assert(Q_ATTEST_Q_END <= STORE_Q_PROFILE_BASE, "renumber the bases");

#define EKCERT_COLS \
	"e.ek_id, e.ek_alg, e.ek_sha256, e.ek_public, e.certificate, " \
	"e.cert_serial, e.manufacturer, e.model, e.version, e.created_ms, " \
	"COALESCE(r.revoked_ms, 0), COALESCE(r.reason, '')"
#define EKCERT_FROM \
	" FROM ek_certificates e LEFT JOIN ek_revocations r ON r.ek_id = " \
	"e.ek_id "

static const char *const attest_sql[Q_ATTEST_Q_END - STORE_Q_ATTEST_BASE] = {
	[Q_EKCERT_INSERT - STORE_Q_ATTEST_BASE] = "INSERT INTO "
	    "ek_certificates (ek_id, ek_alg, ek_sha256, ek_public, "
	    "certificate, cert_serial, manufacturer, model, version, "
	    "created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
	    "ON CONFLICT (ek_id) DO NOTHING RETURNING ek_id",
	[Q_EKCERT_GET - STORE_Q_ATTEST_BASE] = "SELECT " EKCERT_COLS
	    EKCERT_FROM "WHERE e.ek_id = $1",
	[Q_EKCERT_LIST - STORE_Q_ATTEST_BASE] = "SELECT " EKCERT_COLS
	    EKCERT_FROM "WHERE e.ek_id > $1 ORDER BY e.ek_id LIMIT $2",
	[Q_EK_REVOKE - STORE_Q_ATTEST_BASE] = "INSERT INTO ek_revocations "
	    "(ek_id, reason, revoked_ms) VALUES ($1, $2, $3) "
	    "ON CONFLICT (ek_id) DO NOTHING",
	[Q_EK_REVOKED - STORE_Q_ATTEST_BASE] = "SELECT revoked_ms, reason "
	    "FROM ek_revocations WHERE ek_id = $1",
	/* by ek_key (its index, 003), then the whole digest */
	[Q_EK_ON_LIST - STORE_Q_ATTEST_BASE] = "SELECT 1 FROM "
	    "device_identities WHERE ek_key = $1 AND ek_sha256 = $2 LIMIT 1",
	[Q_AIK_INSERT - STORE_Q_ATTEST_BASE] = "INSERT INTO aik_certificates "
	    "(cert_serial, aik_name, ek_id, assurance, serial_number, "
	    "certificate, created_ms, not_after_ms, ek_sha256, aik_public) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
	[Q_AIK_GET - STORE_Q_ATTEST_BASE] = "SELECT cert_serial, aik_name, "
	    "ek_id, assurance, serial_number, certificate, created_ms, "
	    "not_after_ms, COALESCE(ek_sha256, ''), COALESCE(aik_public, '') "
	    "FROM aik_certificates "
	    "WHERE aik_name = $1 AND certificate = $2",
};

static const char *
sql_of(enum attest_q id)
{
	return attest_sql[id - STORE_Q_ATTEST_BASE];
}

static int
ekcert_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_ekcert *e = out;

	memset(e, 0, sizeof(*e));
	e->created_ms = store_res_int(res, r, 9);
	e->revoked_ms = store_res_int(res, r, 10);
	return store_res_copy(res, r, 0, e->ek_id, sizeof(e->ek_id)) ||
	    store_res_copy(res, r, 1, e->ek_alg, sizeof(e->ek_alg)) ||
	    store_res_copy(res, r, 2, e->ek_sha256, sizeof(e->ek_sha256)) ||
	    store_res_copy(res, r, 3, e->ek_public, sizeof(e->ek_public)) ||
	    store_res_copy(res, r, 4, e->certificate,
	    sizeof(e->certificate)) ||
	    store_res_copy(res, r, 5, e->cert_serial,
	    sizeof(e->cert_serial)) ||
	    store_res_copy(res, r, 6, e->manufacturer,
	    sizeof(e->manufacturer)) ||
	    store_res_copy(res, r, 7, e->model, sizeof(e->model)) ||
	    store_res_copy(res, r, 8, e->version, sizeof(e->version)) ||
	    store_res_copy(res, r, 11, e->reason, sizeof(e->reason)) ? -1 : 0;
}

enum wg_err
store_ekcert_put(struct store_conn *c, struct wg_ekcert *e)
{
	e->created_ms = wg_now_ms();
	struct store_param p[] = {P_TEXT(e->ek_id), P_TEXT(e->ek_alg),
	    P_TEXT(e->ek_sha256), P_TEXT(e->ek_public),
	    P_TEXT(e->certificate), P_TEXT(e->cert_serial),
	    P_TEXT(e->manufacturer), P_TEXT(e->model), P_TEXT(e->version),
	    P_INT(e->created_ms)};

	struct store_res res = {0};
	enum wg_err rc;

	/* a lost race is an answer, not a failure that dooms the caller's tx */
	rc = store_conn_run(c, Q_EKCERT_INSERT, sql_of(Q_EKCERT_INSERT), p,
	    ARRAY_LEN(p), &res);
	if (rc == WG_OK && res.nrows == 0)
		rc = WG_E_CONFLICT;
	store_res_free(&res);
	return rc;
}

enum wg_err
store_ekcert_get(struct store_conn *c, const char *ek_id,
    struct wg_ekcert *out)
{
	struct store_param p[] = {P_TEXT(ek_id)};

	return store_q_one(c, Q_EKCERT_GET, sql_of(Q_EKCERT_GET), p,
	    ARRAY_LEN(p), ekcert_row, out);
}

enum wg_err
store_ekcert_list(struct store_conn *c, const char *after, size_t limit,
    struct wg_ekcert **out, size_t *n)
{
	struct store_param p[] = {P_TEXT(after ? after : ""),
	    P_INT((int64_t)limit)};
	void *list = NULL;
	enum wg_err rc;

	rc = store_q_list(c, Q_EKCERT_LIST, sql_of(Q_EKCERT_LIST), p,
	    ARRAY_LEN(p), ekcert_row, sizeof(**out), NULL, &list, n);
	*out = list;
	return rc;
}

enum wg_err
store_ek_revoke(struct store_conn *c, const char *ek_id, const char *reason)
{
	struct store_param p[] = {P_TEXT(ek_id), P_TEXT(reason),
	    P_INT(wg_now_ms())};

	return store_conn_run(c, Q_EK_REVOKE, sql_of(Q_EK_REVOKE), p,
	    ARRAY_LEN(p), NULL);
}

struct revoked {
	int64_t *ms;
	char *reason;
};

static int
revoked_row(const struct store_res *res, size_t r, void *out)
{
	struct revoked *v = out;

	*v->ms = store_res_int(res, r, 0);
	return store_res_copy(res, r, 1, v->reason, WG_REASON_MAX + 1);
}

enum wg_err
store_ek_revoked(struct store_conn *c, const char *ek_id,
    int64_t *revoked_ms, char reason[WG_REASON_MAX + 1])
{
	struct store_param p[] = {P_TEXT(ek_id)};
	struct revoked v = {revoked_ms, reason};
	enum wg_err rc;

	*revoked_ms = 0;
	reason[0] = '\0';
	rc = store_q_one(c, Q_EK_REVOKED, sql_of(Q_EK_REVOKED), p,
	    ARRAY_LEN(p), revoked_row, &v);
	return rc == WG_E_NOT_FOUND ? WG_OK : rc;
}

enum wg_err
store_ek_on_list(struct store_conn *c, const char *ek_sha256, int *found)
{
	struct store_param p[] = {P_INT(store_ek_key(ek_sha256)),
	    P_TEXT(ek_sha256)};
	struct store_res res = {0};
	enum wg_err rc;

	*found = 0;
	rc = store_conn_run(c, Q_EK_ON_LIST, sql_of(Q_EK_ON_LIST), p,
	    ARRAY_LEN(p), &res);
	if (rc == WG_OK)
		*found = res.nrows > 0;
	store_res_free(&res);
	return rc;
}

enum wg_err
store_aik_cert_put(struct store_conn *c, const struct wg_aik_cert *a)
{
	struct store_param p[] = {P_TEXT(a->cert_serial), P_TEXT(a->aik_name),
	    P_TEXT(a->ek_id), P_TEXT(a->assurance), P_TEXT(a->serial_number),
	    P_TEXT(a->certificate), P_INT(a->created_ms),
	    P_INT(a->not_after_ms), P_OPT(a->ek_sha256), P_OPT(a->aik_public)};

	return store_conn_run(c, Q_AIK_INSERT, sql_of(Q_AIK_INSERT), p,
	    ARRAY_LEN(p), NULL);
}

static int
aik_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_aik_cert *a = out;

	memset(a, 0, sizeof(*a));
	a->created_ms = store_res_int(res, r, 6);
	a->not_after_ms = store_res_int(res, r, 7);
	return store_res_copy(res, r, 0, a->cert_serial,
	    sizeof(a->cert_serial)) ||
	    store_res_copy(res, r, 1, a->aik_name, sizeof(a->aik_name)) ||
	    store_res_copy(res, r, 2, a->ek_id, sizeof(a->ek_id)) ||
	    store_res_copy(res, r, 3, a->assurance, sizeof(a->assurance)) ||
	    store_res_copy(res, r, 4, a->serial_number,
	    sizeof(a->serial_number)) ||
	    store_res_copy(res, r, 5, a->certificate,
	    sizeof(a->certificate)) ||
	    store_res_copy(res, r, 8, a->ek_sha256, sizeof(a->ek_sha256)) ||
	    store_res_copy(res, r, 9, a->aik_public, sizeof(a->aik_public)) ?
	    -1 : 0;
}

enum wg_err
store_aik_cert_find(struct store_conn *c, const char *aik_name,
    const char *certificate, struct wg_aik_cert *out)
{
	struct store_param p[] = {P_TEXT(aik_name), P_TEXT(certificate)};

	return store_q_one(c, Q_AIK_GET, sql_of(Q_AIK_GET), p, ARRAY_LEN(p),
	    aik_row, out);
}
