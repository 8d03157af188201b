/*
 * POST /admin/v1/importedDeviceIdentities/importCsv: an Autopilot CSV read
 * as it arrives (the server never holds the file), row by row into the
 * import pipeline.  Header (Autopilot or Partner Center):
 *
 *   Device Serial Number,Windows Product ID,Hardware Hash[,Group Tag]
 *   [,Assigned User]      or      …,Hardware Hash,Manufacturer name,
 *   Device model
 *
 * A row the reader can isolate (too long, NUL, bad UTF-8, too many
 * columns) is a failed row (801) named by its line; a syntax error that
 * leaves no next row to find ends the import with an error naming line
 * and column, keeping what was imported before it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/csv.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "server/import.h"
#include "server/server.h"

/* A hash is at most HWHASH_MAX_B64 (11000) bytes; a row a little more. */
#define CSV_FIELD_MAX (16 * 1024)
#define CSV_RECORD_MAX (32 * 1024)
#define CSV_FIELDS_MAX 16

enum column {
	COL_SERIAL,
	COL_PRODUCT_KEY,
	COL_HASH,
	COL_GROUP_TAG,
	COL_UPN,
	COL_IGNORED, /* Partner Center's manufacturer and model */
	COL_MAX
};

static const struct {
	const char *name;
	enum column col;
	int required;
} header_names[] = {
	{ "Device Serial Number", COL_SERIAL, 1 },
	{ "Windows Product ID", COL_PRODUCT_KEY, 1 },
	{ "Hardware Hash", COL_HASH, 1 },
	{ "Group Tag", COL_GROUP_TAG, 0 },
	{ "Assigned User", COL_UPN, 0 },
	{ "Manufacturer name", COL_IGNORED, 0 },
	{ "Device model", COL_IGNORED, 0 },
};

struct csv_import {
	struct http_req *req;
	struct store_conn *db;
	char tenant[37];
	struct import_job *job;
	struct csv_reader *reader;
	int have_header;
	int ended;		      /* the import record has its end */
	size_t ncols;		      /* columns of the header */
	int index[COL_MAX];	      /* column of each field, -1 if none */
	char fatal[WG_IMPORT_MESSAGE_MAX];
};

/* Maps the header's columns; a fatal error names the first bad one. */
static enum wg_err
read_header(struct csv_import *ci, const struct csv_record *rec)
{
	size_t i, k;
	int found;

	for (k = 0; k < COL_MAX; k++)
		ci->index[k] = -1;
	for (i = 0; i < rec->nfields; i++) {
		found = 0;
		for (k = 0; k < sizeof(header_names) / sizeof(header_names[0]);
		    k++) {
			if (strcasecmp(rec->fields[i].data,
			    header_names[k].name) != 0)
				continue;
			found = 1;
			if (header_names[k].col != COL_IGNORED &&
			    ci->index[header_names[k].col] >= 0) {
				snprintf(ci->fatal, sizeof(ci->fatal), "line "
				    "%llu: column \"%s\" appears twice in the "
				    "header", (unsigned long long)rec->line,
				    header_names[k].name);
				return WG_E_CSV_SYNTAX;
			}
			if (header_names[k].col != COL_IGNORED)
				ci->index[header_names[k].col] = (int)i;
		}
		if (!found) {
			snprintf(ci->fatal, sizeof(ci->fatal), "line %llu, "
			    "column %zu: \"%.64s\" is not an Autopilot CSV "
			    "column (expected: " CSV_AUTOPILOT_HEADER ")",
			    (unsigned long long)rec->line, i + 1,
			    rec->fields[i].data);
			return WG_E_CSV_SYNTAX;
		}
	}
	for (k = 0; k < sizeof(header_names) / sizeof(header_names[0]); k++) {
		if (header_names[k].required &&
		    ci->index[header_names[k].col] < 0) {
			snprintf(ci->fatal, sizeof(ci->fatal), "line %llu: the "
			    "header has no \"%s\" column (expected: "
			    CSV_AUTOPILOT_HEADER ")",
			    (unsigned long long)rec->line,
			    header_names[k].name);
			return WG_E_CSV_SYNTAX;
		}
	}
	ci->ncols = rec->nfields;
	ci->have_header = 1;
	return WG_OK;
}

static const char *
field(const struct csv_record *rec, const struct csv_import *ci,
    enum column col)
{
	int i = ci->index[col];

	return i >= 0 && (size_t)i < rec->nfields ? rec->fields[i].data : NULL;
}

static enum wg_err
on_record(void *arg, const struct csv_record *rec)
{
	struct csv_import *ci = arg;
	struct import_fields f = { 0 };
	enum wg_err early = WG_OK;
	char why[160] = "";

	if (!ci->have_header) {
		if (rec->err != CSV_REC_OK) {
			snprintf(ci->fatal, sizeof(ci->fatal), "%s (in the "
			    "header)", rec->why);
			return WG_E_CSV_SYNTAX;
		}
		return read_header(ci, rec);
	}
	if (rec->err != CSV_REC_OK) {
		early = WG_E_DDS_INVALID_REQUEST;
		snprintf(why, sizeof(why), "%s", rec->why);
	} else if (rec->nfields > ci->ncols) {
		early = WG_E_DDS_INVALID_REQUEST;
		snprintf(why, sizeof(why), "line %llu: %zu columns, but the "
		    "header has %zu", (unsigned long long)rec->line,
		    rec->nfields, ci->ncols);
	} else {
		f.serial = field(rec, ci, COL_SERIAL);
		f.product_key = field(rec, ci, COL_PRODUCT_KEY);
		f.hash = field(rec, ci, COL_HASH);
		f.group_tag = field(rec, ci, COL_GROUP_TAG);
		f.upn = field(rec, ci, COL_UPN);
	}
	return import_job_row(ci->job, (int64_t)rec->line, &f, early, why);
}

static enum wg_err
csv_begin(struct http_req *req, void **state)
{
	struct csv_limits lim = { CSV_FIELD_MAX, CSV_FIELDS_MAX,
		CSV_RECORD_MAX };
	struct csv_import *ci = xcalloc(1, sizeof(*ci));
	enum wg_err rc;

	*state = ci;
	ci->req = req;
	if ((rc = http_scope_tenant(req, ci->tenant)) != WG_OK ||
	    (rc = http_db(req, &ci->db)) != WG_OK)
		return rc;
	rc = import_job_new(req->srv->store, ci->db, ci->tenant, "csv",
	    http_query(req, "importId"), req->srv->instance_id, &ci->job);
	if (rc == WG_E_CONFLICT || rc == WG_E_NOT_FOUND)
		return http_fail(req, rc, "importId names no unused CSV import "
		    "of this tenant");
	if (rc != WG_OK)
		return rc;
	if ((ci->reader = csv_new(&lim)) == NULL)
		return WG_E_INTERNAL;
	return WG_OK;
}

/*
 * Ends the import after a failure: a syntax error is recorded in the
 * import and named in the error body with the rows already imported.
 */
static enum wg_err
csv_fail(struct csv_import *ci, enum wg_err rc)
{
	const char *msg;

	if (rc == WG_E_CSV_SYNTAX)
		msg = ci->fatal[0] ? ci->fatal : csv_error(ci->reader);
	else
		msg = "the database failed during the import";
	ci->ended = 1;
	if (import_job_finish(ci->job, msg, 1) != WG_OK)
		wg_warn("import: the rows of the last batch were lost");
	return http_fail(ci->req, rc, "%s; import %s stopped there (%lld "
	    "rows imported before it are kept)", msg,
	    import_job_import(ci->job)->id,
	    (long long)import_job_import(ci->job)->imported);
}

static enum wg_err
csv_data(struct http_req *req, void *state, const char *buf, size_t n)
{
	struct csv_import *ci = state;
	enum wg_err rc;

	rc = csv_feed(ci->reader, buf, n, on_record, ci);
	return rc == WG_OK ? WG_OK : csv_fail(ci, rc);
}

static enum wg_err
csv_end(struct http_req *req, void *state, struct http_resp *resp)
{
	struct csv_import *ci = state;
	enum wg_err rc;

	if ((rc = csv_finish(ci->reader, on_record, ci)) != WG_OK)
		return csv_fail(ci, rc);
	if (!ci->have_header) {
		snprintf(ci->fatal, sizeof(ci->fatal), "the file is empty: "
		    "expected the header " CSV_AUTOPILOT_HEADER);
		return csv_fail(ci, WG_E_CSV_SYNTAX);
	}
	ci->ended = 1;
	if ((rc = import_job_finish(ci->job, NULL, 0)) != WG_OK)
		return http_fail(req, rc, "the database failed at the end of "
		    "import %s", import_job_import(ci->job)->id);
	return registry_import_done(req, ci->db, ci->tenant,
	    import_job_import(ci->job), resp, NULL);
}

static void
csv_state_free(void *state)
{
	struct csv_import *ci = state;

	if (ci == NULL)
		return;
	/* The client went away mid-file: keep whole rows, say so. */
	if (ci->job != NULL && !ci->ended &&
	    import_job_finish(ci->job, "the upload stopped before the end of "
	    "the file (the client closed the connection); import the file "
	    "again to complete it", 1) != WG_OK)
		wg_warn("import: the rows of the last batch were lost");
	csv_free(ci->reader);
	import_job_free(ci->job);
	free(ci);
}

const struct http_stream import_csv_stream = {
	.begin = csv_begin,
	.data = csv_data,
	.end = csv_end,
	.free = csv_state_free,
};
