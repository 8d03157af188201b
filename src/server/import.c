/*
 * The import pipeline shared by the JSON and CSV imports: each row is
 * checked (lengths, the hardware hash parsed strictly, the row's serial
 * against the serial inside the hash) and collected into a group of
 * IMPORT_GROUP_ROWS rows; a full group goes to the store in one
 * transaction (of batches of WG_IMPORT_BATCH_MAX rows): fewer, larger
 * commits write far less to the database's log, and a crash still loses
 * whole rows only.  A bad row becomes a failed row with its DDS code; it
 * never takes a good neighbour down with it.
 *
 * Once a first group is full, a writer thread (with its own database
 * connection) writes groups while the request's thread reads and checks
 * the next one: two groups in memory at most, so the memory an import
 * takes does not grow with its size.  A smaller import is written by the
 * request's thread at its end.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/hwhash.h"
#include "server/import.h"

/* The strings of one row, owned until its group is written. */
struct row_text {
	char *serial, *product_key, *group_tag, *upn, *manufacturer, *model;
	unsigned char *hash; /* its bytes, once the base64 decoded */
	size_t hash_len;
};

/* Rows written per transaction: 16 store batches. */
#define IMPORT_GROUP_ROWS (16 * WG_IMPORT_BATCH_MAX)

struct group {
	struct wg_import_row rows[IMPORT_GROUP_ROWS];
	struct row_text text[IMPORT_GROUP_ROWS];
	enum wg_err checked[IMPORT_GROUP_ROWS]; /* each row's own verdict */
	size_t n;
};

struct import_job {
	struct store *st;
	struct store_conn *db; /* the request thread's connection */
	char tenant_id[37];
	char request_id[64];
	struct wg_import im;
	import_flushed_fn on_flushed;
	void *arg;
	struct group *fill;    /* rows being read */
	struct group *idle;    /* the other group, when the writer is done */
	/* the writer thread; mu guards what follows */
	pthread_t writer;
	int writer_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct group *queued;  /* handed to the writer, not written yet */
	int stop;
	/* the checkpointer beside the writer, where the backend has one */
	pthread_t ckpt;
	int ckpt_started, ckpt_stop;
	pthread_cond_t ckpt_cv;
	enum wg_err writer_rc; /* the first failure; nothing after it is written */
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

static void
group_clear(struct group *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		text_free(&g->text[i]);
	g->n = 0;
}

enum wg_err
import_job_new(struct store *st, struct store_conn *db,
    const char *tenant_id, const char *source, const char *import_id,
    const char *owner, struct import_job **out)
{
	struct import_job *job = xcalloc(1, sizeof(*job));
	const char *rid = wg_log_request_id();
	enum wg_err rc;

	*out = NULL;
	job->st = st;
	job->db = db;
	snprintf(job->tenant_id, sizeof(job->tenant_id), "%s", tenant_id);
	snprintf(job->request_id, sizeof(job->request_id), "%s",
	    rid ? rid : "");
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
	job->fill = xcalloc(1, sizeof(*job->fill));
	pthread_mutex_init(&job->mu, NULL);
	wg_cond_init_mono(&job->cv);
	wg_cond_init_mono(&job->ckpt_cv);
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
write_batches(const struct import_job *job, struct store_conn *c,
    struct group *g)
{
	enum wg_err rc = WG_OK;
	size_t off, k;

	for (off = 0; off < g->n && rc == WG_OK; off += k) {
		k = g->n - off < WG_IMPORT_BATCH_MAX ? g->n - off :
		    WG_IMPORT_BATCH_MAX;
		rc = store_import_batch(c, job->tenant_id, job->im.id,
		    g->rows + off, k);
	}
	return rc;
}

/* Back to each row's own verdict, before a failed group is tried again. */
static void
reset_rows(struct group *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		g->rows[i].err = g->checked[i];
		if (g->checked[i] == WG_OK)
			g->rows[i].message[0] = '\0';
		g->rows[i].device_id[0] = g->rows[i].ztd_id[0] = '\0';
	}
}

/* Writes group g in one transaction on c, then empties it. */
static enum wg_err
write_group(const struct import_job *job, struct store_conn *c,
    struct group *g)
{
	enum wg_err rc;

	if (g->n == 0)
		return WG_OK;
	if ((rc = store_begin(c)) == WG_OK) {
		if ((rc = write_batches(job, c, g)) == WG_OK)
			rc = store_commit(c);
		else
			store_rollback(c);
	}
	if (rc == WG_E_CONFLICT) {
		/*
		 * A concurrent import won a device between our lookup and
		 * our insert: batch by batch, each retried on its own.
		 */
		reset_rows(g);
		rc = write_batches(job, c, g);
	}
	if (rc == WG_OK && job->on_flushed != NULL)
		job->on_flushed(job->arg, g->rows, g->n);
	group_clear(g);
	return rc;
}

/* Records the writer's first failure. */
static void
rc_note(struct import_job *job, enum wg_err rc)
{
	if (rc == WG_OK)
		return;
	pthread_mutex_lock(&job->mu);
	if (job->writer_rc == WG_OK)
		job->writer_rc = rc;
	pthread_mutex_unlock(&job->mu);
}

/*
 * Where writers exclude each other (SQLite), the writer keeps one
 * transaction over up to IMPORT_TX_GROUPS groups: the random pages of the
 * EK index are then written once per transaction, not once per group.  It
 * commits sooner when the transaction has been open IMPORT_TX_MS, so a
 * slow upload does not keep other writers waiting on the lock.
 */
#define IMPORT_TX_GROUPS 4
#define IMPORT_TX_MS 1000

struct writer {
	struct store_conn *c;
	int open;	  /* a transaction over several groups is open */
	size_t groups;	  /* groups written in it */
	int64_t deadline; /* wg_mono_ms() by which it commits */
	size_t written;	  /* groups written by this writer */
};

static enum wg_err
writer_commit(struct writer *w)
{
	if (!w->open)
		return WG_OK;
	w->open = 0;
	w->groups = 0;
	return store_commit(w->c);
}

/* Writes group g (in the open transaction, if the backend allows one). */
static enum wg_err
writer_write(struct import_job *job, struct writer *w, struct group *g)
{
	enum wg_err rc;

	if (w->c == NULL && ((rc = store_conn_get(job->st, &w->c)) != WG_OK ||
	    (rc = store_conn_bulk(w->c)) != WG_OK))
		return rc;
	if (!w->open && store_writers_serialized(w->c)) {
		if ((rc = store_begin(w->c)) != WG_OK)
			return rc;
		w->open = 1;
		w->deadline = wg_mono_ms() + IMPORT_TX_MS;
	}
	if ((rc = write_group(job, w->c, g)) != WG_OK) {
		if (w->open)
			store_rollback(w->c);
		w->open = 0;
		return rc;
	}
	/* fresh planner statistics at 1, 2, 4, 8, … groups (committed) */
	w->written++;
	if (!w->open && (w->written & (w->written - 1)) == 0 &&
	    store_import_analyze(w->c) != WG_OK)
		wg_warn("import %s: the database's statistics were not "
		    "refreshed; lookups may slow down", job->im.id);
	if (w->open && (++w->groups >= IMPORT_TX_GROUPS ||
	    wg_mono_ms() >= w->deadline))
		return writer_commit(w);
	return WG_OK;
}

/* Waits for the next group (job->mu held); commits first if none comes. */
static void
writer_wait(struct import_job *job, struct writer *w)
{
	struct timespec ts;
	int64_t left;

	while (job->queued == NULL && !job->stop) {
		if (w->open) {
			left = w->deadline - wg_mono_ms();
			if (left > 0) {
				wg_deadline_in(left, &ts);
				if (pthread_cond_timedwait(&job->cv, &job->mu,
				    &ts) == 0)
					continue;
			}
			if (job->queued == NULL && !job->stop) {
				/* rows waiting to commit: they go now */
				pthread_mutex_unlock(&job->mu);
				rc_note(job, writer_commit(w));
				pthread_mutex_lock(&job->mu);
			}
			continue;
		}
		pthread_cond_wait(&job->cv, &job->mu);
	}
}

/* The writer thread: writes each group handed to it, in order. */
static void *
writer_main(void *arg)
{
	struct import_job *job = arg;
	struct writer w = { NULL, 0, 0, 0, 0 };
	struct group *g;
	enum wg_err rc;

	pthread_setname_np(pthread_self(), "wg-import");
	wg_log_set_request_id(job->request_id[0] ? job->request_id : NULL);
	pthread_mutex_lock(&job->mu);
	for (;;) {
		writer_wait(job, &w);
		if ((g = job->queued) == NULL)
			break;
		rc = job->writer_rc;
		pthread_mutex_unlock(&job->mu);
		if (rc == WG_OK)
			rc = writer_write(job, &w, g);
		else
			group_clear(g); /* after a failure nothing is written */
		pthread_mutex_lock(&job->mu);
		if (job->writer_rc == WG_OK)
			job->writer_rc = rc;
		job->queued = NULL;
		job->idle = g;
		pthread_cond_broadcast(&job->cv);
	}
	pthread_mutex_unlock(&job->mu);
	rc_note(job, job->writer_rc == WG_OK ? writer_commit(&w) : WG_OK);
	if (w.open)
		store_rollback(w.c);
	return NULL;
}

/*
 * The checkpointer: every IMPORT_CKPT_MS while the writer runs (and once
 * after it), it copies what the writer committed from the log into the
 * database, on the other core, so that the writer only ever appends.
 */
#define IMPORT_CKPT_MS 50

static void *
ckpt_main(void *arg)
{
	struct import_job *job = arg;
	struct store_conn *c = NULL;
	struct timespec ts;
	enum wg_err rc = WG_OK;
	int last = 0;

	pthread_setname_np(pthread_self(), "wg-checkpoint");
	wg_log_set_request_id(job->request_id[0] ? job->request_id : NULL);
	while (!last && rc == WG_OK) {
		pthread_mutex_lock(&job->mu);
		if (!job->ckpt_stop) {
			wg_deadline_in(IMPORT_CKPT_MS, &ts);
			(void)pthread_cond_timedwait(&job->ckpt_cv, &job->mu,
			    &ts);
		}
		last = job->ckpt_stop;
		pthread_mutex_unlock(&job->mu);
		if (c == NULL)
			rc = store_conn_get(job->st, &c);
		if (rc == WG_OK)
			rc = store_checkpoint(c);
	}
	if (rc != WG_OK)
		wg_warn("import %s: checkpoints stopped; the database's log "
		    "is copied by later writes instead", job->im.id);
	return NULL;
}

/* Starts the checkpointer if the backend wants one; 0 if it runs. */
static int
ckpt_start(struct import_job *job)
{
	if (!store_has_checkpoint(job->db))
		return -1;
	if (pthread_create(&job->ckpt, NULL, ckpt_main, job) != 0)
		return -1;
	job->ckpt_started = 1;
	return 0;
}

/* Raises *stop (under job->mu), wakes th on cv and waits for it. */
static void
stop_thread(struct import_job *job, int *started, int *stop,
    pthread_cond_t *cv, pthread_t th)
{
	if (!*started)
		return;
	pthread_mutex_lock(&job->mu);
	*stop = 1;
	pthread_cond_broadcast(cv);
	pthread_mutex_unlock(&job->mu);
	pthread_join(th, NULL);
	*started = 0;
}

/*
 * Hands the full group to the writer (started on first use) once it is
 * done with the previous one, and takes that one back to fill.
 */
static enum wg_err
hand_over(struct import_job *job)
{
	enum wg_err rc;

	if (!job->writer_started) {
		job->idle = xcalloc(1, sizeof(*job->idle));
		if (pthread_create(&job->writer, NULL, writer_main, job) !=
		    0) {
			wg_error("import %s: no writer thread; writing on the "
			    "request's thread", job->im.id);
			free(job->idle);
			job->idle = NULL;
			return write_group(job, job->db, job->fill);
		}
		job->writer_started = 1;
		(void)ckpt_start(job);
	}
	pthread_mutex_lock(&job->mu);
	while (job->queued != NULL)
		pthread_cond_wait(&job->cv, &job->mu);
	if ((rc = job->writer_rc) == WG_OK) {
		job->queued = job->fill;
		job->fill = job->idle;
		job->idle = NULL;
		pthread_cond_broadcast(&job->cv);
	}
	pthread_mutex_unlock(&job->mu);
	return rc;
}

/* Stops the writer after what it was handed; its first failure. */
static enum wg_err
writer_join(struct import_job *job)
{
	stop_thread(job, &job->writer_started, &job->stop, &job->cv,
	    job->writer);
	stop_thread(job, &job->ckpt_started, &job->ckpt_stop, &job->ckpt_cv,
	    job->ckpt);
	return job->writer_rc;
}

/* s without leading and trailing blanks: where it starts, *n its length. */
static const char *
trim_span(const char *s, size_t *n)
{
	while (*s == ' ' || *s == '\t')
		s++;
	*n = strlen(s);
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

/* Copies s without leading and trailing blanks; NULL stays NULL. */
static char *
trimmed(const char *s)
{
	size_t n;

	if (s == NULL)
		return NULL;
	s = trim_span(s, &n);
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

/*
 * Validates hash text b64 of row r: parsed strictly, the serial inside
 * must be the row's.  Keeps the hash's bytes (the server stores a hash
 * as it was given, may-ignore records included), fills the EK digest,
 * make and model.
 */
static enum wg_err
check_hash(struct wg_import_row *r, struct row_text *t, const char *b64,
    char *why, size_t whylen)
{
	struct wg_hwhash *h = NULL;
	enum wg_err rc;
	size_t len = 0;

	if (b64 != NULL)
		b64 = trim_span(b64, &len);
	if (len == 0) {
		snprintf(why, whylen, "the hardware hash is missing");
		return WG_E_DDS_INVALID_HASH;
	}
	if (hwhash_b64_bytes(b64, len, &t->hash, &t->hash_len, why,
	    whylen) != WG_OK ||
	    hwhash_parse(t->hash, t->hash_len, &h, why, whylen) != WG_OK)
		return WG_E_DDS_INVALID_HASH;
	if (h->serial == NULL || strcmp(h->serial, t->serial) != 0) {
		snprintf(why, whylen, "the serial number inside the hash "
		    "(\"%.64s\") differs from the row's (\"%.64s\")",
		    h->serial ? h->serial : "", t->serial);
		rc = WG_E_DDS_INVALID_HASH;
		goto done;
	}
	rc = WG_OK;
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
	struct group *g = job->fill;
	struct wg_import_row *r = &g->rows[g->n];
	struct row_text *t = &g->text[g->n];
	char why[160] = "";

	memset(r, 0, sizeof(*r));
	r->row_number = row_number;
	t->serial = trimmed(in->serial);
	t->product_key = trimmed(in->product_key);
	t->group_tag = trimmed(in->group_tag);
	t->upn = trimmed(in->upn);
	if (early != WG_OK) {
		r->err = early;
		snprintf(why, sizeof(why), "%s", early_why);
	} else if ((r->err = check_lengths(t, why, sizeof(why))) != WG_OK) {
		;
	} else if (t->serial == NULL || t->serial[0] == '\0') {
		r->err = WG_E_DDS_MISSING_SERIAL;
		snprintf(why, sizeof(why), "the serial number is missing");
	} else {
		r->err = check_hash(r, t, in->hash, why, sizeof(why));
	}
	if (r->err != WG_OK) {
		drop_unfit_fields(t);
		snprintf(r->message, sizeof(r->message), "%s", why);
	}
	g->checked[g->n] = r->err;
	r->serial = t->serial;
	r->product_key = t->product_key;
	r->group_tag = t->group_tag;
	r->upn = t->upn;
	r->hardware_hash = t->hash;
	r->hardware_hash_len = t->hash_len;
	r->manufacturer = t->manufacturer;
	r->model = t->model;
	if (++g->n == IMPORT_GROUP_ROWS)
		return hand_over(job);
	return WG_OK;
}

enum wg_err
import_job_finish(struct import_job *job, const char *message, int hard)
{
	enum wg_err rc;

	if (job->writer_started) {
		rc = job->fill->n > 0 ? hand_over(job) : WG_OK;
		if (writer_join(job) != WG_OK || rc != WG_OK)
			rc = rc != WG_OK ? rc : job->writer_rc;
	} else {
		rc = write_group(job, job->db, job->fill);
	}
	if (rc != WG_OK)
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
	if (job == NULL)
		return;
	(void)writer_join(job);
	if (job->fill != NULL)
		group_clear(job->fill);
	if (job->idle != NULL)
		group_clear(job->idle);
	free(job->fill);
	free(job->idle);
	pthread_cond_destroy(&job->cv);
	pthread_cond_destroy(&job->ckpt_cv);
	pthread_mutex_destroy(&job->mu);
	free(job);
}
