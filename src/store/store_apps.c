/*
 * Apps, their assignments to group tags and each device's progress
 * through them (step 5 of the flow, device setup), for both backends.
 * The content itself lives in files named by its SHA-256 (server/apps.c);
 * the store keeps only that name and the size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

enum apps_q {
	Q_APP_INSERT = STORE_Q_APPS_BASE,
	Q_APP_GET,
	Q_APP_BY_NAME,
	Q_APP_LIST,
	Q_APP_DELETE,
	Q_APP_CONTENT,
	Q_APP_USERS,
	Q_APP_TAG_SET,
	Q_APP_TAG_DELETE,
	Q_APP_TAGS,
	Q_APP_FOR_DEVICE,
	Q_APP_DEVICE_BY_ID,
	Q_APP_DEVICE_BY_SHA,
	Q_APP_STATE_SET,
	Q_APP_STATES,
	Q_APP_Q_END
};
_Static_assert(Q_APP_Q_END <= STORE_STMT_MAX, "raise STORE_STMT_MAX");

#define APP_COLS \
	"a.id, a.tenant_id, a.name, a.install_command, a.target, " \
	"a.timeout_s, COALESCE(a.sha256, ''), a.size, a.created_ms, " \
	"a.updated_ms"
/*
 * The apps a device of tenant $1 with group tag $2 installs: for the
 * device (device setup) and for its user (account setup).
 */
#define APP_FOR_TAG \
	" FROM app_assignments g JOIN apps a ON a.id = g.app_id WHERE " \
	"g.tenant_id = $1 AND g.group_tag = $2 AND a.sha256 IS NOT NULL"

static const char *const apps_sql[Q_APP_Q_END - STORE_Q_APPS_BASE] = {
	[Q_APP_INSERT - STORE_Q_APPS_BASE] = "INSERT INTO apps (id, "
	    "tenant_id, name, install_command, target, timeout_s, sha256, "
	    "size, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, "
	    "NULL, 0, $7, $7)",
	[Q_APP_GET - STORE_Q_APPS_BASE] = "SELECT " APP_COLS " FROM apps a "
	    "WHERE a.tenant_id = $1 AND a.id = $2",
	[Q_APP_BY_NAME - STORE_Q_APPS_BASE] = "SELECT " APP_COLS " FROM apps "
	    "a WHERE a.tenant_id = $1 AND a.name = $2",
	[Q_APP_LIST - STORE_Q_APPS_BASE] = "SELECT " APP_COLS " FROM apps a "
	    "WHERE a.tenant_id = $1 AND a.name > $2 ORDER BY a.name LIMIT $3",
	[Q_APP_DELETE - STORE_Q_APPS_BASE] = "DELETE FROM apps WHERE "
	    "tenant_id = $1 AND id = $2 RETURNING id",
	[Q_APP_CONTENT - STORE_Q_APPS_BASE] = "UPDATE apps SET sha256 = $3, "
	    "size = $4, updated_ms = $5 WHERE tenant_id = $1 AND id = $2 "
	    "RETURNING id",
	[Q_APP_USERS - STORE_Q_APPS_BASE] = "SELECT COUNT(*) FROM apps WHERE "
	    "sha256 = $1",
	[Q_APP_TAG_SET - STORE_Q_APPS_BASE] = "INSERT INTO app_assignments "
	    "(tenant_id, group_tag, app_id, created_ms) VALUES ($1, $2, $3, "
	    "$4) ON CONFLICT (app_id, group_tag) DO NOTHING",
	[Q_APP_TAG_DELETE - STORE_Q_APPS_BASE] = "DELETE FROM app_assignments "
	    "WHERE tenant_id = $1 AND app_id = $2 AND group_tag = $3 "
	    "RETURNING group_tag",
	[Q_APP_TAGS - STORE_Q_APPS_BASE] = "SELECT group_tag FROM "
	    "app_assignments WHERE tenant_id = $1 AND app_id = $2 ORDER BY "
	    "group_tag",
	[Q_APP_FOR_DEVICE - STORE_Q_APPS_BASE] = "SELECT " APP_COLS
	    APP_FOR_TAG " AND a.target = $4 ORDER BY a.name LIMIT $3",
	[Q_APP_DEVICE_BY_ID - STORE_Q_APPS_BASE] = "SELECT " APP_COLS
	    APP_FOR_TAG " AND a.id = $3",
	[Q_APP_DEVICE_BY_SHA - STORE_Q_APPS_BASE] = "SELECT " APP_COLS
	    APP_FOR_TAG " AND a.sha256 = $3 ORDER BY a.id LIMIT 1",
	[Q_APP_STATE_SET - STORE_Q_APPS_BASE] = "INSERT INTO app_states "
	    "(device_id, app_id, state, code, message, updated_ms) VALUES ($1, "
	    "$2, $3, $4, $5, $6) ON CONFLICT (device_id, app_id) DO UPDATE SET "
	    "state = excluded.state, code = excluded.code, message = "
	    "excluded.message, updated_ms = excluded.updated_ms WHERE "
	    "app_states.state <> excluded.state OR COALESCE(app_states.code, "
	    "'') <> COALESCE(excluded.code, '') OR "
	    "COALESCE(app_states.message, '') <> COALESCE(excluded.message, "
	    "'') RETURNING app_id",
	[Q_APP_STATES - STORE_Q_APPS_BASE] = "SELECT s.device_id, s.app_id, "
	    "a.name, s.state, COALESCE(s.code, ''), COALESCE(s.message, ''), "
	    "s.updated_ms FROM app_states s JOIN apps a ON a.id = s.app_id "
	    "WHERE a.tenant_id = $1 AND s.device_id = $2 ORDER BY a.name",
};

static const char *
sql_of(enum apps_q id)
{
	return apps_sql[id - STORE_Q_APPS_BASE];
}

static int
app_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_app *a = out;

	memset(a, 0, sizeof(*a));
	a->timeout_s = store_res_int(res, r, 5);
	a->size = store_res_int(res, r, 7);
	a->created_ms = store_res_int(res, r, 8);
	a->updated_ms = store_res_int(res, r, 9);
	return store_res_copy(res, r, 0, a->id, sizeof(a->id)) ||
	    store_res_copy(res, r, 1, a->tenant_id, sizeof(a->tenant_id)) ||
	    store_res_copy(res, r, 2, a->name, sizeof(a->name)) ||
	    store_res_copy(res, r, 3, a->install_command,
	    sizeof(a->install_command)) ||
	    store_res_copy(res, r, 4, a->target, sizeof(a->target)) ||
	    store_res_copy(res, r, 6, a->sha256, sizeof(a->sha256)) ? -1 : 0;
}

static int
state_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_app_state *s = out;

	memset(s, 0, sizeof(*s));
	s->updated_ms = store_res_int(res, r, 6);
	return store_res_copy(res, r, 0, s->device_id, sizeof(s->device_id)) ||
	    store_res_copy(res, r, 1, s->app_id, sizeof(s->app_id)) ||
	    store_res_copy(res, r, 2, s->app_name, sizeof(s->app_name)) ||
	    store_res_copy(res, r, 3, s->state, sizeof(s->state)) ||
	    store_res_copy(res, r, 4, s->code, sizeof(s->code)) ||
	    store_res_copy(res, r, 5, s->message, sizeof(s->message)) ? -1 : 0;
}

/* A group tag of Q_APP_TAGS into a char * (xstrdup'd). */
static int
tag_row(const struct store_res *res, size_t r, void *out)
{
	const char *s = store_res_text(res, r, 0);

	*(char **)out = xstrdup(s != NULL ? s : "");
	return 0;
}

static void
tags_free(void *list, size_t n)
{
	char **tags = list;
	size_t i;

	for (i = 0; i < n; i++)
		free(tags[i]);
	free(tags);
}

enum wg_err
store_app_create(struct store_conn *c, struct wg_app *a)
{
	wg_uuid(a->id);
	a->created_ms = a->updated_ms = wg_now_ms();
	a->sha256[0] = '\0';
	a->size = 0;
	struct store_param p[] = {P_TEXT(a->id), P_TEXT(a->tenant_id),
	    P_TEXT(a->name), P_TEXT(a->install_command), P_TEXT(a->target),
	    P_INT(a->timeout_s), P_INT(a->created_ms)};

	return store_conn_run(c, Q_APP_INSERT, sql_of(Q_APP_INSERT), p,
	    ARRAY_LEN(p), NULL);
}

enum wg_err
store_app_get(struct store_conn *c, const char *tenant_id, const char *id,
    struct wg_app *out)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id)};

	return store_q_one(c, Q_APP_GET, sql_of(Q_APP_GET), p, ARRAY_LEN(p),
	    app_row, out);
}

enum wg_err
store_app_get_by_name(struct store_conn *c, const char *tenant_id,
    const char *name, struct wg_app *out)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(name)};

	return store_q_one(c, Q_APP_BY_NAME, sql_of(Q_APP_BY_NAME), p,
	    ARRAY_LEN(p), app_row, out);
}

enum wg_err
store_app_list(struct store_conn *c, const char *tenant_id,
    const char *after, size_t limit, struct wg_app **out, size_t *n)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(after ? after : ""),
	    P_INT((int64_t)limit)};
	void *list = NULL;
	enum wg_err rc;

	rc = store_q_list(c, Q_APP_LIST, sql_of(Q_APP_LIST), p, ARRAY_LEN(p),
	    app_row, sizeof(**out), NULL, &list, n);
	*out = list;
	return rc;
}

enum wg_err
store_app_delete(struct store_conn *c, const char *tenant_id, const char *id)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id)};

	/* assignments and states go with it (ON DELETE CASCADE) */
	return store_q_changed(c, Q_APP_DELETE, sql_of(Q_APP_DELETE), p,
	    ARRAY_LEN(p));
}

enum wg_err
store_app_set_content(struct store_conn *c, const char *tenant_id,
    const char *id, const char *sha256, int64_t size)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id),
	    P_TEXT(sha256), P_INT(size), P_INT(wg_now_ms())};

	return store_q_changed(c, Q_APP_CONTENT, sql_of(Q_APP_CONTENT), p,
	    ARRAY_LEN(p));
}

enum wg_err
store_app_content_users(struct store_conn *c, const char *sha256,
    int64_t *used)
{
	struct store_param p[] = {P_TEXT(sha256)};
	struct store_res res = {0};
	enum wg_err rc;

	*used = 0;
	rc = store_conn_run(c, Q_APP_USERS, sql_of(Q_APP_USERS), p,
	    ARRAY_LEN(p), &res);
	if (rc == WG_OK && res.nrows == 1)
		*used = store_res_int(&res, 0, 0);
	store_res_free(&res);
	return rc;
}

struct app_assign {
	const char *tenant_id, *id, *group_tag;
};

static enum wg_err
assign_tx(struct store_conn *c, void *arg)
{
	const struct app_assign *a = arg;
	struct store_param p[] = {P_TEXT(a->tenant_id), P_TEXT(a->group_tag),
	    P_TEXT(a->id), P_INT(wg_now_ms())};
	struct wg_app app;
	enum wg_err rc;

	if ((rc = store_app_get(c, a->tenant_id, a->id, &app)) != WG_OK)
		return rc;
	return store_conn_run(c, Q_APP_TAG_SET, sql_of(Q_APP_TAG_SET), p,
	    ARRAY_LEN(p), NULL);
}

enum wg_err
store_app_assign(struct store_conn *c, const char *tenant_id, const char *id,
    const char *group_tag)
{
	struct app_assign a = {tenant_id, id, group_tag};

	return store_in_tx(c, assign_tx, &a);
}

enum wg_err
store_app_unassign(struct store_conn *c, const char *tenant_id,
    const char *id, const char *group_tag)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id),
	    P_TEXT(group_tag)};

	return store_q_changed(c, Q_APP_TAG_DELETE, sql_of(Q_APP_TAG_DELETE),
	    p, ARRAY_LEN(p));
}

enum wg_err
store_app_tags(struct store_conn *c, const char *tenant_id, const char *id,
    char ***tags, size_t *n)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id)};
	void *list = NULL;
	enum wg_err rc;

	rc = store_q_list(c, Q_APP_TAGS, sql_of(Q_APP_TAGS), p, ARRAY_LEN(p),
	    tag_row, sizeof(**tags), tags_free, &list, n);
	*tags = list;
	return rc;
}

enum wg_err
store_app_for_device(struct store_conn *c, const char *tenant_id,
    const char *group_tag, const char *target, struct wg_app **out,
    size_t *n)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(group_tag),
	    P_INT(WG_APP_LIST_MAX), P_TEXT(target)};
	void *list = NULL;
	enum wg_err rc;

	rc = store_q_list(c, Q_APP_FOR_DEVICE, sql_of(Q_APP_FOR_DEVICE), p,
	    ARRAY_LEN(p), app_row, sizeof(**out), NULL, &list, n);
	*out = list;
	return rc;
}

enum wg_err
store_app_device_get(struct store_conn *c, const char *tenant_id,
    const char *group_tag, const char *id, const char *sha256,
    struct wg_app *out)
{
	enum apps_q q = id != NULL ? Q_APP_DEVICE_BY_ID : Q_APP_DEVICE_BY_SHA;
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(group_tag),
	    P_TEXT(id != NULL ? id : sha256)};

	return store_q_one(c, q, sql_of(q), p, ARRAY_LEN(p), app_row, out);
}

enum wg_err
store_app_state_set(struct store_conn *c, const struct wg_app_state *s,
    int *changed)
{
	struct store_param p[] = {P_TEXT(s->device_id), P_TEXT(s->app_id),
	    P_TEXT(s->state), P_OPT(s->code), P_OPT(s->message),
	    P_INT(s->updated_ms)};
	enum wg_err rc;

	/* the row comes back only when it was inserted or changed */
	rc = store_q_changed(c, Q_APP_STATE_SET, sql_of(Q_APP_STATE_SET), p,
	    ARRAY_LEN(p));
	*changed = rc == WG_OK;
	return rc == WG_E_NOT_FOUND ? WG_OK : rc;
}

enum wg_err
store_app_states(struct store_conn *c, const char *tenant_id,
    const char *device_id, struct wg_app_state **out, size_t *n)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(device_id)};
	void *list = NULL;
	enum wg_err rc;

	rc = store_q_list(c, Q_APP_STATES, sql_of(Q_APP_STATES), p,
	    ARRAY_LEN(p), state_row, sizeof(**out), NULL, &list, n);
	*out = list;
	return rc;
}
