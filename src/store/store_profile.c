/*
 * Deployment profiles and their assignments (step 1 of the flow, the ztd
 * service), for both backends.  A device gets the profile assigned to its
 * group tag, else its tenant's default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

enum profile_q {
	Q_PROFILE_INSERT = STORE_Q_PROFILE_BASE,
	Q_PROFILE_GET,
	Q_PROFILE_BY_NAME,
	Q_PROFILE_LIST,
	Q_PROFILE_DELETE,
	Q_PROFILE_DEFAULT_CLEAR,
	Q_PROFILE_DEFAULT_SET,
	Q_PROFILE_DEFAULT_UNSET,
	Q_PROFILE_TAG_SET,
	Q_PROFILE_TAG_DELETE,
	Q_PROFILE_TAGS,
	Q_PROFILE_FOR_TAG,
	Q_PROFILE_FOR_DEFAULT,
	Q_PROFILE_Q_END
};
_Static_assert(Q_PROFILE_Q_END <= STORE_Q_TOKEN_BASE, "renumber the bases");

#define PROFILE_COLS \
	"p.id, p.tenant_id, p.name, p.deployment_mode, p.join_method, " \
	"p.device_name_template, p.oobe_flags, p.esp_timeout_min, " \
	"p.reboot_policy, p.ticket_days, p.is_default, p.created_ms, " \
	"p.updated_ms, p.session_key_wrap"

static const char *const profile_sql[Q_PROFILE_Q_END - STORE_Q_PROFILE_BASE] =
{
	[Q_PROFILE_INSERT - STORE_Q_PROFILE_BASE] = "INSERT INTO profiles "
	    "(id, tenant_id, name, deployment_mode, join_method, "
	    "device_name_template, oobe_flags, esp_timeout_min, "
	    "reboot_policy, ticket_days, is_default, created_ms, updated_ms, "
	    "session_key_wrap) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
	    "$10, 0, $11, $11, $12)",
	[Q_PROFILE_GET - STORE_Q_PROFILE_BASE] = "SELECT " PROFILE_COLS
	    " FROM profiles p WHERE p.tenant_id = $1 AND p.id = $2",
	[Q_PROFILE_BY_NAME - STORE_Q_PROFILE_BASE] = "SELECT " PROFILE_COLS
	    " FROM profiles p WHERE p.tenant_id = $1 AND p.name = $2",
	[Q_PROFILE_LIST - STORE_Q_PROFILE_BASE] = "SELECT " PROFILE_COLS
	    " FROM profiles p WHERE p.tenant_id = $1 AND p.name > $2 "
	    "ORDER BY p.name LIMIT $3",
	[Q_PROFILE_DELETE - STORE_Q_PROFILE_BASE] = "DELETE FROM profiles "
	    "WHERE tenant_id = $1 AND id = $2 RETURNING id",
	[Q_PROFILE_DEFAULT_CLEAR - STORE_Q_PROFILE_BASE] = "UPDATE profiles "
	    "SET is_default = 0, updated_ms = $2 WHERE tenant_id = $1 AND "
	    "is_default = 1",
	[Q_PROFILE_DEFAULT_SET - STORE_Q_PROFILE_BASE] = "UPDATE profiles "
	    "SET is_default = 1, updated_ms = $3 WHERE tenant_id = $1 AND "
	    "id = $2 RETURNING id",
	[Q_PROFILE_DEFAULT_UNSET - STORE_Q_PROFILE_BASE] = "UPDATE profiles "
	    "SET is_default = 0, updated_ms = $3 WHERE tenant_id = $1 AND "
	    "id = $2 AND is_default = 1 RETURNING id",
	/* the tag's earlier profile, if any, gives way */
	[Q_PROFILE_TAG_SET - STORE_Q_PROFILE_BASE] = "INSERT INTO "
	    "profile_assignments (tenant_id, group_tag, profile_id, "
	    "created_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, "
	    "group_tag) DO UPDATE SET profile_id = excluded.profile_id, "
	    "created_ms = excluded.created_ms",
	[Q_PROFILE_TAG_DELETE - STORE_Q_PROFILE_BASE] = "DELETE FROM "
	    "profile_assignments WHERE tenant_id = $1 AND profile_id = $2 AND "
	    "group_tag = $3 RETURNING group_tag",
	[Q_PROFILE_TAGS - STORE_Q_PROFILE_BASE] = "SELECT group_tag FROM "
	    "profile_assignments WHERE tenant_id = $1 AND profile_id = $2 "
	    "ORDER BY group_tag",
	[Q_PROFILE_FOR_TAG - STORE_Q_PROFILE_BASE] = "SELECT " PROFILE_COLS
	    " FROM profile_assignments a JOIN profiles p ON p.id = "
	    "a.profile_id WHERE a.tenant_id = $1 AND a.group_tag = $2",
	[Q_PROFILE_FOR_DEFAULT - STORE_Q_PROFILE_BASE] = "SELECT " PROFILE_COLS
	    " FROM profiles p WHERE p.tenant_id = $1 AND p.is_default = 1",
};

static const char *
sql_of(enum profile_q id)
{
	return profile_sql[id - STORE_Q_PROFILE_BASE];
}

static int
profile_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_profile *p = out;

	memset(p, 0, sizeof(*p));
	p->oobe_flags = store_res_int(res, r, 6);
	p->esp_timeout_min = store_res_int(res, r, 7);
	p->ticket_days = store_res_int(res, r, 9);
	p->is_default = store_res_int(res, r, 10) != 0;
	p->created_ms = store_res_int(res, r, 11);
	p->updated_ms = store_res_int(res, r, 12);
	return store_res_copy(res, r, 0, p->id, sizeof(p->id)) ||
	    store_res_copy(res, r, 1, p->tenant_id, sizeof(p->tenant_id)) ||
	    store_res_copy(res, r, 2, p->name, sizeof(p->name)) ||
	    store_res_copy(res, r, 3, p->deployment_mode,
	    sizeof(p->deployment_mode)) ||
	    store_res_copy(res, r, 4, p->join_method,
	    sizeof(p->join_method)) ||
	    store_res_copy(res, r, 5, p->name_template,
	    sizeof(p->name_template)) ||
	    store_res_copy(res, r, 8, p->reboot_policy,
	    sizeof(p->reboot_policy)) ||
	    store_res_copy(res, r, 13, p->session_key_wrap,
	    sizeof(p->session_key_wrap)) ? -1 : 0;
}

enum wg_err
store_profile_create(struct store_conn *c, struct wg_profile *p)
{
	wg_uuid(p->id);
	p->created_ms = p->updated_ms = wg_now_ms();
	p->is_default = 0;
	struct store_param prm[] = {P_TEXT(p->id), P_TEXT(p->tenant_id),
	    P_TEXT(p->name), P_TEXT(p->deployment_mode),
	    P_TEXT(p->join_method), P_TEXT(p->name_template),
	    P_INT(p->oobe_flags), P_INT(p->esp_timeout_min),
	    P_TEXT(p->reboot_policy), P_INT(p->ticket_days),
	    P_INT(p->created_ms), P_TEXT(p->session_key_wrap[0] != '\0' ?
	    p->session_key_wrap : WG_SESSION_KEY_WRAP_DEFAULT)};

	return store_conn_run(c, Q_PROFILE_INSERT, sql_of(Q_PROFILE_INSERT),
	    prm, ARRAY_LEN(prm), NULL);
}

enum wg_err
store_profile_get(struct store_conn *c, const char *tenant_id,
    const char *id, struct wg_profile *out)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id)};

	return store_q_one(c, Q_PROFILE_GET, sql_of(Q_PROFILE_GET), p,
	    ARRAY_LEN(p), profile_row, out);
}

enum wg_err
store_profile_get_by_name(struct store_conn *c, const char *tenant_id,
    const char *name, struct wg_profile *out)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(name)};

	return store_q_one(c, Q_PROFILE_BY_NAME, sql_of(Q_PROFILE_BY_NAME), p,
	    ARRAY_LEN(p), profile_row, out);
}

enum wg_err
store_profile_list(struct store_conn *c, const char *tenant_id,
    const char *after, size_t limit, struct wg_profile **out, size_t *n)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(after ? after : ""),
	    P_INT((int64_t)limit)};
	void *list = NULL;
	enum wg_err rc;

	rc = store_q_list(c, Q_PROFILE_LIST, sql_of(Q_PROFILE_LIST), p,
	    ARRAY_LEN(p), profile_row, sizeof(**out), NULL, &list, n);
	*out = list;
	return rc;
}


enum wg_err
store_profile_delete(struct store_conn *c, const char *tenant_id,
    const char *id)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id)};

	/* assignments go with it (ON DELETE CASCADE) */
	return store_q_changed(c, Q_PROFILE_DELETE, sql_of(Q_PROFILE_DELETE),
	    p, ARRAY_LEN(p));
}

struct assign {
	const char *tenant_id, *id, *group_tag;
};

static enum wg_err
assign_tx(struct store_conn *c, void *arg)
{
	const struct assign *a = arg;
	int64_t now = wg_now_ms();
	struct wg_profile p;
	enum wg_err rc;

	if ((rc = store_profile_get(c, a->tenant_id, a->id, &p)) != WG_OK)
		return rc;
	if (a->group_tag != NULL) {
		struct store_param t[] = {P_TEXT(a->tenant_id),
		    P_TEXT(a->group_tag), P_TEXT(a->id), P_INT(now)};

		return store_conn_run(c, Q_PROFILE_TAG_SET,
		    sql_of(Q_PROFILE_TAG_SET), t, ARRAY_LEN(t), NULL);
	}
	struct store_param clr[] = {P_TEXT(a->tenant_id), P_INT(now)};
	struct store_param set[] = {P_TEXT(a->tenant_id), P_TEXT(a->id),
	    P_INT(now)};
	/* one default per tenant: the partial unique index holds it */
	if ((rc = store_conn_run(c, Q_PROFILE_DEFAULT_CLEAR,
	    sql_of(Q_PROFILE_DEFAULT_CLEAR), clr, ARRAY_LEN(clr), NULL)) !=
	    WG_OK)
		return rc;
	return store_q_changed(c, Q_PROFILE_DEFAULT_SET,
	    sql_of(Q_PROFILE_DEFAULT_SET), set, ARRAY_LEN(set));
}

enum wg_err
store_profile_assign(struct store_conn *c, const char *tenant_id,
    const char *id, const char *group_tag)
{
	struct assign a = {tenant_id, id, group_tag};

	return store_in_tx(c, assign_tx, &a);
}

enum wg_err
store_profile_unassign(struct store_conn *c, const char *tenant_id,
    const char *id, const char *group_tag)
{
	struct store_param t[] = {P_TEXT(tenant_id), P_TEXT(id),
	    P_TEXT(group_tag ? group_tag : "")};
	struct store_param d[] = {P_TEXT(tenant_id), P_TEXT(id),
	    P_INT(wg_now_ms())};

	if (group_tag != NULL)
		return store_q_changed(c, Q_PROFILE_TAG_DELETE,
		    sql_of(Q_PROFILE_TAG_DELETE), t, ARRAY_LEN(t));
	return store_q_changed(c, Q_PROFILE_DEFAULT_UNSET,
	    sql_of(Q_PROFILE_DEFAULT_UNSET), d, ARRAY_LEN(d));
}

enum wg_err
store_profile_tags(struct store_conn *c, const char *tenant_id,
    const char *id, char ***tags, size_t *n)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id)};
	struct store_res res = {0};
	enum wg_err rc;
	size_t r;

	*tags = NULL;
	*n = 0;
	rc = store_conn_run(c, Q_PROFILE_TAGS, sql_of(Q_PROFILE_TAGS), p,
	    ARRAY_LEN(p), &res);
	if (rc == WG_OK && res.nrows > 0) {
		*tags = xcalloc(res.nrows, sizeof(**tags));
		for (r = 0; r < res.nrows; r++)
			(*tags)[r] = xstrdup(store_res_text(&res, r, 0) ?
			    store_res_text(&res, r, 0) : "");
		*n = res.nrows;
	}
	store_res_free(&res);
	return rc;
}

enum wg_err
store_profile_for(struct store_conn *c, const char *tenant_id,
    const char *group_tag, struct wg_profile *out, int *by_tag)
{
	struct store_param t[] = {P_TEXT(tenant_id), P_TEXT(group_tag)};
	struct store_param d[] = {P_TEXT(tenant_id)};
	enum wg_err rc = WG_E_NOT_FOUND;

	*by_tag = 0;
	if (group_tag[0] != '\0') {
		rc = store_q_one(c, Q_PROFILE_FOR_TAG,
		    sql_of(Q_PROFILE_FOR_TAG), t, ARRAY_LEN(t), profile_row,
		    out);
		*by_tag = rc == WG_OK;
	}
	if (rc == WG_E_NOT_FOUND)
		rc = store_q_one(c, Q_PROFILE_FOR_DEFAULT,
		    sql_of(Q_PROFILE_FOR_DEFAULT), d, ARRAY_LEN(d),
		    profile_row, out);
	return rc;
}
