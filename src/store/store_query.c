/*
 * Running statements and decoding their rows: the helpers every store_*.c
 * file shares.  Results arrive as text cells (NULL for SQL NULL) from
 * either driver, so decoding is written once here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "store/store_int.h"

const char *
store_res_text(const struct store_res *res, size_t r, size_t c)
{
	const char *s = res->cell[r * res->ncols + c];

	return s != NULL ? s : "";
}

int64_t
store_res_int(const struct store_res *res, size_t r, size_t c)
{
	return strtoll(store_res_text(res, r, c), NULL, 10);
}

int64_t
store_ek_key(const char *hex)
{
	uint32_t v = 0;
	int i, d;

	for (i = 0; i < 8 && (d = wg_hex_value(hex[i])) >= 0; i++)
		v = v << 4 | (uint32_t)d;
	return (int64_t)(int32_t)v;
}

int
store_res_copy(const struct store_res *res, size_t r, size_t c, char *dst,
    size_t size)
{
	const char *s = store_res_text(res, r, c);
	size_t n = strlen(s);

	if (n >= size) {
		wg_error("store: a %zu-byte value does not fit a %zu-byte "
		    "field (column %zu)", n, size - 1, c);
		return -1;
	}
	memcpy(dst, s, n + 1);
	return 0;
}

enum wg_err
store_q_one(struct store_conn *c, unsigned id, const char *sql,
    const struct store_param *p, size_t np, store_row_fn fn, void *out)
{
	struct store_res res = {0};
	enum wg_err rc;

	if ((rc = store_conn_run(c, id, sql, p, np, &res)) != WG_OK)
		goto done;
	if (res.nrows == 0)
		rc = WG_E_NOT_FOUND;
	else if (fn(&res, 0, out) != 0)
		rc = WG_E_DB_ERROR;
done:
	store_res_free(&res);
	return rc;
}

enum wg_err
store_q_list(struct store_conn *c, unsigned id, const char *sql,
    const struct store_param *p, size_t np, store_row_fn fn, size_t size,
    void (*free_fn)(void *, size_t), void **out, size_t *n)
{
	struct store_res res = {0};
	unsigned char *list = NULL;
	enum wg_err rc;
	size_t i = 0;

	*out = NULL;
	*n = 0;
	if ((rc = store_conn_run(c, id, sql, p, np, &res)) != WG_OK)
		goto done;
	list = xcalloc(res.nrows + 1, size);
	for (i = 0; i < res.nrows; i++) {
		if (fn(&res, i, list + i * size) != 0) {
			rc = WG_E_DB_ERROR;
			goto done;
		}
	}
	*out = list;
	*n = res.nrows;
	list = NULL;
done:
	if (list != NULL && free_fn != NULL)
		free_fn(list, i); /* the rows decoded before the bad one */
	else
		free(list);
	store_res_free(&res);
	return rc;
}


enum wg_err
store_in_tx(struct store_conn *c,
    enum wg_err (*fn)(struct store_conn *, void *), void *arg)
{
	enum wg_err rc;

	if ((rc = store_begin(c)) != WG_OK)
		return rc;
	if ((rc = fn(c, arg)) != WG_OK) {
		store_rollback(c);
		return rc;
	}
	return store_commit(c);
}

enum wg_err
store_q_changed(struct store_conn *c, unsigned id, const char *sql,
    const struct store_param *p, size_t np)
{
	struct store_res res = {0};
	enum wg_err rc;

	rc = store_conn_run(c, id, sql, p, np, &res);
	if (rc == WG_OK && res.nrows == 0)
		rc = WG_E_NOT_FOUND;
	store_res_free(&res);
	return rc;
}
