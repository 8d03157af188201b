/*
 * The store's connections and transactions, for both backends: one
 * connection per thread (a pthread key), opened lazily and re-opened after
 * the database went away; transactions that nest by joining.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "store/store_int.h"

/* ---- results ---- */

/* Appends a row of ncols NULL cells to res; the cells stay res's. */
char **
store_res_push(struct store_res *res, size_t ncols)
{
	char **row;

	if (res->nrows == 0)
		res->ncols = ncols;
	if (res->nrows == res->cap) {
		res->cap = res->cap ? res->cap * 2 : 8;
		res->cell = xrealloc(res->cell,
		    res->cap * res->ncols * sizeof(*res->cell) + 1);
	}
	row = res->cell + res->nrows * res->ncols;
	memset(row, 0, res->ncols * sizeof(*row));
	res->nrows++;
	return row;
}

/* Frees the cells of res and empties it; res itself is the caller's. */
void
store_res_free(struct store_res *res)
{
	size_t i;

	for (i = 0; i < res->nrows * res->ncols; i++)
		free(res->cell[i]);
	free(res->cell);
	memset(res, 0, sizeof(*res));
}

/* ---- connections ---- */

static void
conn_disconnect(struct store_conn *c)
{
	if (c->db != NULL)
		c->st->drv->disconnect(c);
	c->db = NULL;
	memset(c->prep, 0, sizeof(c->prep));
}

/* Disconnects and frees c; the caller unlinked it. */
void
store_conn_free(struct store_conn *c)
{
	conn_disconnect(c);
	free(c);
}

/* Thread exit: the thread's connection leaves the store's list. */
void
store_conn_destroy(void *p)
{
	struct store_conn *c = p;
	struct store *st = c->st;

	pthread_mutex_lock(&st->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		st->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&st->mu);
	store_conn_free(c);
}

/*
 * Makes sure c is connected.  A connection that died inside a transaction
 * stays dead until the caller rolls back, so that the rest of the
 * transaction cannot silently run in autocommit on a new connection.
 */
static enum wg_err
conn_ready(struct store_conn *c)
{
	enum wg_err rc;

	if (c->db != NULL && !c->broken && c->depth == 0 &&
	    c->st->drv->alive != NULL && !c->st->drv->alive(c)) {
		wg_info("store: the database closed an idle connection; "
		    "reconnecting");
		c->broken = 1;
	}
	if (c->db != NULL && !c->broken)
		return WG_OK;
	if (c->depth > 0)
		return WG_E_DB_UNAVAILABLE;
	conn_disconnect(c);
	rc = c->st->drv->connect(c, c->st->target);
	if (rc == WG_OK)
		c->broken = 0;
	else
		conn_disconnect(c);
	return rc;
}

/* Runs one of the driver's optional scripts on c (NULL: nothing to do). */
static enum wg_err
driver_script(struct store_conn *c, const char *sql)
{
	enum wg_err rc;

	if (sql == NULL)
		return WG_OK;
	if ((rc = conn_ready(c)) != WG_OK)
		return rc;
	return c->st->drv->script(c, sql);
}

enum wg_err
store_conn_bulk(struct store_conn *c)
{
	return driver_script(c, c->st->drv->bulk_sql);
}

int
store_has_checkpoint(const struct store_conn *c)
{
	return c->st->drv->checkpoint_sql != NULL;
}

enum wg_err
store_checkpoint(struct store_conn *c)
{
	return driver_script(c, c->st->drv->checkpoint_sql);
}

int
store_writers_serialized(const struct store_conn *c)
{
	return c->st->drv->serial_writes;
}

/*
 * Looks up (or creates) the calling thread's connection and connects it.
 * The connection is owned by the store; *out is NULL on failure.
 */
enum wg_err
store_conn_get(struct store *st, struct store_conn **out)
{
	struct store_conn *c;
	enum wg_err rc;

	*out = NULL;
	c = pthread_getspecific(st->key);
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		c->st = st;
		pthread_mutex_lock(&st->mu);
		c->next = st->conns;
		if (st->conns != NULL)
			st->conns->prev = c;
		st->conns = c;
		pthread_mutex_unlock(&st->mu);
		if (pthread_setspecific(st->key, c) != 0)
			abort(); /* only ENOMEM */
	}
	if ((rc = conn_ready(c)) != WG_OK)
		return rc;
	*out = c;
	return WG_OK;
}

/*
 * Runs statement id (sql, prepared once per connection) with np
 * parameters.  Any failure inside a transaction marks it aborted
 * (PostgreSQL does so anyway; SQLite is made to match), so that its commit
 * turns into a rollback.  res, if not NULL, receives the rows (the caller
 * frees them with store_res_free()); it is empty on failure.
 */
enum wg_err
store_conn_run(struct store_conn *c, unsigned id, const char *sql,
    const struct store_param *p, size_t np, struct store_res *res)
{
	struct store_res tmp = {0};
	enum wg_err rc;

	if (id >= STORE_STMT_MAX || np > STORE_PARAM_MAX) {
		wg_error("store: statement %u with %zu parameters", id, np);
		return WG_E_INTERNAL;
	}
	if (c->aborted)
		return WG_E_DB_ERROR;
	if ((rc = conn_ready(c)) == WG_OK)
		rc = c->st->drv->exec(c, id, sql, p, np,
		    res != NULL ? res : &tmp);
	store_res_free(&tmp);
	if (rc != WG_OK) {
		if (res != NULL)
			store_res_free(res);
		if (c->depth > 0)
			c->aborted = 1;
	}
	return rc;
}

/* Runs a script on c; a failure aborts an open transaction likewise. */
enum wg_err
store_conn_script(struct store_conn *c, const char *sql)
{
	enum wg_err rc;

	if (c->aborted)
		return WG_E_DB_ERROR;
	if ((rc = conn_ready(c)) == WG_OK)
		rc = c->st->drv->script(c, sql);
	if (rc != WG_OK && c->depth > 0)
		c->aborted = 1;
	return rc;
}

/* ---- transactions ---- */

/* Opens a transaction, or joins the one open on c. */
enum wg_err
store_begin(struct store_conn *c)
{
	enum wg_err rc;

	if (c->depth == 0) {
		c->aborted = 0;
		if ((rc = conn_ready(c)) != WG_OK)
			return rc;
		if ((rc = c->st->drv->script(c, c->st->drv->begin_sql)) !=
		    WG_OK)
			return rc;
	}
	c->depth++;
	return WG_OK;
}

/*
 * Leaves one level; the outermost commits.  A transaction in which
 * something failed is rolled back instead and WG_E_DB_ERROR returned.
 */
enum wg_err
store_commit(struct store_conn *c)
{
	enum wg_err rc;

	if (c->depth == 0) {
		wg_error("store: commit without a transaction");
		return WG_E_INTERNAL;
	}
	if (c->aborted) {
		store_rollback(c);
		return WG_E_DB_ERROR;
	}
	if (c->depth > 1) {
		c->depth--;
		return WG_OK;
	}
	rc = c->broken ? WG_E_DB_UNAVAILABLE : c->st->drv->script(c, "COMMIT");
	if (rc != WG_OK) {
		store_rollback(c);
		return rc;
	}
	c->depth = 0;
	return WG_OK;
}

/*
 * Leaves one level: an inner rollback marks the transaction aborted, the
 * outermost rolls it back.  A no-op outside a transaction.
 */
void
store_rollback(struct store_conn *c)
{
	if (c->depth == 0)
		return;
	if (--c->depth > 0) {
		c->aborted = 1;
		return;
	}
	c->aborted = 0;
	if (c->db != NULL && !c->broken)
		(void)c->st->drv->script(c, "ROLLBACK"); /* logged there */
}
