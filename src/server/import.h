/*
 * The import pipeline (JSON and CSV imports share it): rows in, batches
 * to the store, an import record that always says how far it got.
 */
#ifndef WG_IMPORT_H
#define WG_IMPORT_H

#include <stdint.h>

#include <jansson.h>

#include "server/http.h"
#include "store/store.h"

struct import_job;

/* A row as the client sent it (any field may be NULL). */
struct import_fields {
	const char *serial;
	const char *product_key;
	const char *hash;
	const char *group_tag;
	const char *upn;
};

/*
 * Called after each group of rows is committed, with its rows and their
 * results, one call at a time, possibly on the import's writer thread.
 */
typedef void (*import_flushed_fn)(void *arg, const struct wg_import_row *rows,
    size_t n);

/*
 * Starts an import of tenant_id: the pre-created import_id (which must
 * still be "unknown" and of this source: WG_E_CONFLICT otherwise), or a new
 * one if NULL.  owner is this server instance.  db is the calling thread's
 * connection; a writer thread takes its own from st.  *out is freed with
 * import_job_free().
 */
enum wg_err import_job_new(struct store *st, struct store_conn *db,
    const char *tenant_id, const char *source, const char *import_id,
    const char *owner, struct import_job **out)
    __attribute__((warn_unused_result));

/* The import record (counts as of the last batch). */
const struct wg_import *import_job_import(const struct import_job *job);

void import_job_on_flushed(struct import_job *job, import_flushed_fn fn,
    void *arg);

/*
 * Adds a row; early != WG_OK records it as failed with that code and
 * early_why (a row the reader could not take apart).  A full group of
 * rows goes to the writer; a store error the writer met is returned (no
 * row after it is written).
 */
enum wg_err import_job_row(struct import_job *job, int64_t row_number,
    const struct import_fields *in, enum wg_err early, const char *early_why)
    __attribute__((warn_unused_result));

/*
 * Writes the last batch and ends the import (hard: it stopped on an
 * error, with message), then reads the record back.
 */
enum wg_err import_job_finish(struct import_job *job, const char *message,
    int hard) __attribute__((warn_unused_result));

void import_job_free(struct import_job *job);

/*
 * registry.c: audits the end of an import and answers 200 with its record
 * (and rows, stolen, if not NULL).
 */
enum wg_err registry_import_done(struct http_req *req, struct store_conn *c,
    const char *tenant, const struct wg_import *im, struct http_resp *resp,
    json_t *rows) __attribute__((warn_unused_result));

/* import_csv.c: POST …/importCsv, the body read as it arrives. */
extern const struct http_stream import_csv_stream;

#endif
