/*
 * The import pipeline shared by the JSON and CSV imports: each row is
 * checked (lengths, the hardware hash parsed strictly, the row's serial
 * against the serial inside the hash) and collected; every
 * IMPORT_GROUP_ROWS rows the rows go to the store in one transaction (of
 * batches of WG_IMPORT_BATCH_MAX rows): fewer, larger commits write far
 * less to the database's log, and a crash still loses whole rows only.
 * A bad row becomes a failed row with its DDS code; it never takes a good
 * neighbour down with it.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/hwhash.h"
#include "server/import.h"

/* The strings of one row, owned until its batch is written. */
struct row_text {
	char *serial, *product_key, *group_tag, *upn, *hash, *manufacturer;
	char *model;
};

/* Rows written per transaction: 16 store batches. */
#define IMPORT_GROUP_ROWS (16 * WG_IMPORT_BATCH_MAX)

struct import_job {
	struct store_conn *db;
	char tenant_id[37];
	struct wg_import im;
	struct wg_import_row rows[IMPORT_GROUP_ROWS];
	struct row_text text[IMPORT_GROUP_ROWS];
	enum wg_err checked[IMPORT_GROUP_ROWS]; /* each row's own verdict */
	size_t n;
	import_flushed_fn on_flushed;
	void *arg;
};

static void
text_free(struct row_text *t)
{
	free(t->serial);
	free(t->product_key);
	free(t->group_tag);
	free(t->upn);
	free(t->hash);
	free(t->manufacturer);
	free(t->model);
	memset(t, 0, sizeof(*t));
}

enum wg_err
import_job_new(struct store_conn *db, const char *tenant_id,
    const char *source, const char *import_id, const char *owner,
    struct import_job **out)
{
	struct import_job *job = xcalloc(1, sizeof(*job));
	enum wg_err rc;

	*out = NULL;
	job->db = db;
	snprintf(job->tenant_id, sizeof(job->tenant_id), "%s", tenant_id);
	if (import_id == NULL) {
		rc = store_import_create(db, tenant_id, source, owner,
		    &job->im);
		if (rc != WG_OK)
			goto fail;
		import_id = job->im.id;
	}
	if ((rc = store_import_start(db, tenant_id, import_id, owner)) !=
	    WG_OK || (rc = store_import_get(db, tenant_id, import_id,
	    &job->im)) != WG_OK)
		goto fail;
	if (strcmp(job->im.source, source) != 0) {
		rc = WG_E_CONFLICT;
		goto fail;
	}
	*out = job;
	return WG_OK;
fail:
	free(job);
	return rc;
}

const struct wg_import *
import_job_import(const struct import_job *job)
{
	return &job->im;
}

void
import_job_on_flushed(struct import_job *job, import_flushed_fn fn, void *arg)
{
	job->on_flushed = fn;
	job->arg = arg;
}

/*
 * Writes the rows in store batches: inside the caller's transaction if one
 * is open, else each batch in its own.
 */
static enum wg_err
write_group(struct import_job *job)
{
	enum wg_err rc = WG_OK;
	size_t off, k;

	for (off = 0; off < job->n && rc == WG_OK; off += k) {
		k = job->n - off < WG_IMPORT_BATCH_MAX ? job->n - off :
		    WG_IMPORT_BATCH_MAX;
		rc = store_import_batch(job->db, job->tenant_id, job->im.id,
		    job->rows + off, k);
	}
	return rc;
}

/* Back to each row's own verdict, before a failed group is tried again. */
static void
reset_rows(struct import_job *job)
{
	size_t i;

	for (i = 0; i < job->n; i++) {
		job->rows[i].err = job->checked[i];
		if (job->checked[i] == WG_OK)
			job->rows[i].message[0] = '\0';
		job->rows[i].device_id[0] = job->rows[i].ztd_id[0] = '\0';
	}
}

enum wg_err
import_job_flush(struct import_job *job)
{
	enum wg_err rc;
	size_t i;

	if (job->n == 0)
		return WG_OK;
	if ((rc = store_begin(job->db)) == WG_OK) {
		if ((rc = write_group(job)) == WG_OK)
			rc = store_commit(job->db);
		else
			store_rollback(job->db);
	}
	if (rc == WG_E_CONFLICT) {
		/*
		 * A concurrent import won a device between our lookup and
		 * our insert: batch by batch, each retried on its own.
		 */
		reset_rows(job);
		rc = write_group(job);
	}
	if (rc == WG_OK && job->on_flushed != NULL)
		job->on_flushed(job->arg, job->rows, job->n);
	for (i = 0; i < job->n; i++)
		text_free(&job->text[i]);
	job->n = 0;
	return rc;
}

/* Copies s without leading and trailing blanks; NULL stays NULL. */
static char *
trimmed(const char *s)
{
	size_t n;

	if (s == NULL)
		return NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return xstrndup(s, n);
}

/* The text fields of a row with their Graph names and limits. */
struct field_rule {
	const char *name;
	size_t max;
	size_t off;
};

static const struct field_rule field_rules[] = {
	{ "serialNumber", WG_SERIAL_MAX, offsetof(struct row_text, serial) },
	{ "productKey", WG_PRODUCT_KEY_MAX,
	    offsetof(struct row_text, product_key) },
	{ "groupTag", WG_GROUP_TAG_MAX, offsetof(struct row_text, group_tag) },
	{ "assignedUserPrincipalName", WG_UPN_MAX,
	    offsetof(struct row_text, upn) },
};

static char **
field_of(struct row_text *t, const struct field_rule *rule)
{
	return (char **)((char *)t + rule->off);
}

static int
field_ok(const char *v, const struct field_rule *rule)
{
	return v == NULL || (strlen(v) <= rule->max && wg_str_printable(v));
}

/* The row's fields within the limits; why names the first that isn't. */
static enum wg_err
check_lengths(struct row_text *t, char *why, size_t whylen)
{
	size_t i;

	for (i = 0; i < sizeof(field_rules) / sizeof(field_rules[0]); i++) {
		if (!field_ok(*field_of(t, &field_rules[i]), &field_rules[i])) {
			snprintf(why, whylen, "%s is longer than %zu bytes or "
			    "not printable UTF-8", field_rules[i].name,
			    field_rules[i].max);
			return WG_E_DDS_INVALID_REQUEST;
		}
	}
	return WG_OK;
}

/* A failed row is recorded with the fields that are fit to keep. */
static void
drop_unfit_fields(struct row_text *t)
{
	char **v;
	size_t i;

	for (i = 0; i < sizeof(field_rules) / sizeof(field_rules[0]); i++) {
		v = field_of(t, &field_rules[i]);
		if (!field_ok(*v, &field_rules[i])) {
			free(*v);
			*v = NULL;
		}
	}
}

/* Completes unpadded base64 with its '=' padding. */
static void
pad_b64(char **b64)
{
	size_t n = strlen(*b64), pad = (4 - n % 4) % 4;

	if (pad == 0)
		return;
	*b64 = xrealloc(*b64, n + pad + 1);
	memset(*b64 + n, '=', pad);
	(*b64)[n + pad] = '\0';
}

/*
 * Validates the hash of row r: parsed strictly, the serial inside must be
 * the row's.  Pads the hash text (the server keeps a hash as it was
 * given, may-ignore records included), fills the EK digest, make and
 * model.
 */
static enum wg_err
check_hash(struct wg_import_row *r, struct row_text *t, char *why,
    size_t whylen)
{
	struct wg_hwhash *h = NULL;
	enum wg_err rc;

	if (t->hash == NULL || t->hash[0] == '\0') {
		snprintf(why, whylen, "the hardware hash is missing");
		return WG_E_DDS_INVALID_HASH;
	}
	rc = hwhash_parse_b64(t->hash, strlen(t->hash), &h, why, whylen);
	if (rc != WG_OK)
		return WG_E_DDS_INVALID_HASH;
	if (h->serial == NULL || strcmp(h->serial, t->serial) != 0) {
		snprintf(why, whylen, "the serial number inside the hash "
		    "(\"%.64s\") differs from the row's (\"%.64s\")",
		    h->serial ? h->serial : "", t->serial);
		rc = WG_E_DDS_INVALID_HASH;
		goto done;
	}
	pad_b64(&t->hash);
	wg_hex(h->ek_sha256, sizeof(h->ek_sha256), r->ek_sha256);
	t->manufacturer = h->manufacturer ? xstrdup(h->manufacturer) : NULL;
	t->model = h->model ? xstrdup(h->model) : NULL;
done:
	hwhash_free(h);
	return rc;
}

enum wg_err
import_job_row(struct import_job *job, int64_t row_number,
    const struct import_fields *in, enum wg_err early, const char *early_why)
{
	struct wg_import_row *r = &job->rows[job->n];
	struct row_text *t = &job->text[job->n];
	char why[160] = "";

	memset(r, 0, sizeof(*r));
	r->row_number = row_number;
	t->serial = trimmed(in->serial);
	t->product_key = trimmed(in->product_key);
	t->group_tag = trimmed(in->group_tag);
	t->upn = trimmed(in->upn);
	t->hash = trimmed(in->hash);
	if (early != WG_OK) {
		r->err = early;
		snprintf(why, sizeof(why), "%s", early_why);
	} else if ((r->err = check_lengths(t, why, sizeof(why))) != WG_OK) {
		;
	} else if (t->serial == NULL || t->serial[0] == '\0') {
		r->err = WG_E_DDS_MISSING_SERIAL;
		snprintf(why, sizeof(why), "the serial number is missing");
	} else {
		r->err = check_hash(r, t, why, sizeof(why));
	}
	if (r->err != WG_OK) {
		drop_unfit_fields(t);
		snprintf(r->message, sizeof(r->message), "%s", why);
	}
	job->checked[job->n] = r->err;
	r->serial = t->serial;
	r->product_key = t->product_key;
	r->group_tag = t->group_tag;
	r->upn = t->upn;
	r->hardware_hash = t->hash;
	r->manufacturer = t->manufacturer;
	r->model = t->model;
	if (++job->n == IMPORT_GROUP_ROWS)
		return import_job_flush(job);
	return WG_OK;
}

enum wg_err
import_job_finish(struct import_job *job, const char *message, int hard)
{
	enum wg_err rc;

	if ((rc = import_job_flush(job)) != WG_OK)
		hard = 1;
	if (store_import_finish(job->db, job->tenant_id, job->im.id, message,
	    hard) != WG_OK)
		wg_error("import %s: could not record its end", job->im.id);
	if (store_import_get(job->db, job->tenant_id, job->im.id, &job->im) !=
	    WG_OK)
		wg_error("import %s: could not read it back", job->im.id);
	return rc;
}

void
import_job_free(struct import_job *job)
{
	size_t i;

	if (job == NULL)
		return;
	for (i = 0; i < job->n; i++)
		text_free(&job->text[i]);
	free(job);
}
