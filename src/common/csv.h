/*
 * csv: a streaming, push-based reader of RFC 4180 CSV for device imports.
 *
 * The caller feeds bytes as they arrive (csv_feed), in pieces of any size,
 * then calls csv_finish at the end of the input; every complete record is
 * handed to a callback.  The reader never needs the whole input: its
 * memory is bounded by the limits it was made with, whatever the bytes.
 * Feeding the same input in different pieces gives the same records and
 * the same errors.
 *
 * The dialect (RFC 4180 section 2, with the usual relaxations):
 * - fields are separated by ',' and records end with LF or CRLF; a CR
 *   outside quotes not followed by LF is data;
 * - a field may be quoted with '"'; inside, "" is one quote and ',', CR,
 *   LF are data (kept as they are);
 * - a UTF-8 byte order mark at the very start is skipped; blank lines are
 *   skipped; the last record needs no line end;
 * - every field is valid UTF-8 (RFC 3629: no overlong forms, surrogates
 *   or code points above U+10FFFF) and holds no NUL byte.
 *
 * Two kinds of error:
 * - A record error spoils one record, and the reader can resynchronise at
 *   the record's line end outside quotes: a field or record over its
 *   limit, too many fields, a NUL byte, invalid UTF-8.  The callback gets
 *   the record with err set (and no fields) and reading goes on.
 * - A syntax error leaves no way to know where the next record starts: a
 *   quote inside an unquoted field (ab"c), characters after a closing
 *   quote ("ab"c), a quoted field longer than the record limit (a missing
 *   closing quote, most likely), a quoted field still open at the end of
 *   the input.  csv_feed or csv_finish returns WG_E_CSV_SYNTAX and
 *   csv_error() says "line 5, column 17: a quote inside an unquoted field".
 *
 * Lines are counted from 1 as an editor shows them (a line end inside a
 * quoted field starts a new line); columns are byte offsets within the
 * line, from 1, the BOM not counted.
 */
#ifndef WG_CSV_H
#define WG_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "errors.h"

/* Defaults for a zero member of struct csv_limits. */
#define CSV_DEFAULT_MAX_FIELD (64u * 1024)
#define CSV_DEFAULT_MAX_FIELDS 64u
#define CSV_DEFAULT_MAX_RECORD (256u * 1024)
/* Upper bounds csv_new accepts. */
#define CSV_LIMIT_MAX_RECORD (64u * 1024 * 1024)
#define CSV_LIMIT_MAX_FIELDS 65536u

struct csv_limits {
	size_t max_field;	/* bytes of one field's value */
	size_t max_fields;	/* fields in one record */
	size_t max_record;	/* bytes of one record as written, quotes and
				 * separators included, its line end not */
};

/* Why a record was skipped. */
enum csv_rec_err {
	CSV_REC_OK,
	CSV_REC_FIELD_TOO_LONG,
	CSV_REC_RECORD_TOO_LONG,
	CSV_REC_TOO_MANY_FIELDS,
	CSV_REC_NUL,
	CSV_REC_UTF8
};

struct csv_field {
	const char *data;	/* NUL-terminated; borrowed from the reader */
	size_t len;
};

struct csv_record {
	uint64_t line;			/* where the record starts */
	const struct csv_field *fields;	/* nfields of them; NULL if err */
	size_t nfields;
	enum csv_rec_err err;		/* CSV_REC_OK, or why it was skipped */
	uint64_t err_line, err_column;	/* where err was found */
	const char *why;		/* "line 7, column 3: a NUL byte"; ""
					 * when err is CSV_REC_OK */
};

struct csv_reader;

/*
 * Gets each record (or skipped record) in input order; everything it
 * points to is valid only during the call.  Returns WG_OK to go on, or an
 * error that stops the reader and is returned by csv_feed/csv_finish.
 */
typedef enum wg_err (*csv_record_cb)(void *arg, const struct csv_record *rec);

/*
 * Makes a reader with lim (NULL or zero members: the defaults).  Returns
 * NULL when a limit is above CSV_LIMIT_MAX_RECORD / CSV_LIMIT_MAX_FIELDS
 * or max_field is above max_record.  The caller frees it with csv_free().
 */
struct csv_reader *csv_new(const struct csv_limits *lim)
    __attribute__((warn_unused_result));

/* Frees r; NULL is a no-op. */
void csv_free(struct csv_reader *r);

/*
 * Reads n more bytes, calling cb for each record they complete.  Returns
 * WG_OK, WG_E_CSV_SYNTAX (csv_error() says where and why), or the error
 * cb returned.  After an error the reader is stopped: later calls return
 * the same error without reading.
 */
enum wg_err csv_feed(struct csv_reader *r, const char *data, size_t n,
    csv_record_cb cb, void *arg) __attribute__((warn_unused_result));

/*
 * Ends the input: the last record is completed without a line end, and an
 * open quoted field is a syntax error.  Same results as csv_feed.
 */
enum wg_err csv_finish(struct csv_reader *r, csv_record_cb cb, void *arg)
    __attribute__((warn_unused_result));

/*
 * The syntax error that stopped r: "line 5, column 17: a quote inside an
 * unquoted field"; "" if none.  Borrowed from r.
 */
const char *csv_error(const struct csv_reader *r);

/* The line the reader is on (1-based), e.g. for progress reports. */
uint64_t csv_line(const struct csv_reader *r);

/*
 * The Autopilot CSV header (Windows' Get-WindowsAutoPilotInfo writes it;
 * an import takes Group Tag and Assigned User as optional).
 */
#define CSV_AUTOPILOT_HEADER "Device Serial Number,Windows Product ID," \
	"Hardware Hash,Group Tag,Assigned User"

/*
 * Writes s to f as one CSV field: quoted (with "" for a quote) when it
 * holds ',', '"', CR or LF or starts or ends with a space, as is otherwise.
 */
void csv_write_field(FILE *f, const char *s);

#endif
