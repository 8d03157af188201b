/*
 * What the diagnostics bundle leaves out of the files it copies: secrets
 * (tickets, tokens, passwords, session keys, Authorization headers and
 * anything shaped like a JWT) replaced by "[redacted]", by member name in
 * JSON and by pattern in text lines.
 */
#ifndef WG_AGENT_DIAG_REDACT_H
#define WG_AGENT_DIAG_REDACT_H

#include <stdio.h>

#include <jansson.h>

#include "common/errors.h"

#define DIAG_REDACTED "[redacted]"
#define DIAG_LINE_MAX (64 * 1024) /* longer lines are left out whole */
#define DIAG_JSON_MAX (1024 * 1024) /* bigger JSON files go as text */

/* How a file is read: lines of text, one JSON value a line, one JSON. */
enum diag_kind { DIAG_TEXT, DIAG_JSONL, DIAG_JSON, DIAG_KIND_MAX };

/* 1 if a JSON member named name holds a secret (by its name). */
int diag_secret_name(const char *name);

/*
 * in (NUL-terminated) with every secret pattern's value and every
 * JWT-looking string replaced by DIAG_REDACTED; *count is increased by
 * the number replaced.  The caller frees the result.
 */
char *diag_redact_text(const char *in, unsigned *count)
    __attribute__((returns_nonnull));

/*
 * Redacts v in place: the value of every member diag_secret_name() names,
 * and every string through diag_redact_text().  Returns the number.
 */
unsigned diag_redact_json(json_t *v);

/*
 * Copies in (from where it stands) to out, redacted as kind says: a JSON
 * file up to DIAG_JSON_MAX bytes is parsed whole (a bigger one, or one
 * that does not parse, goes as text); JSON lines each (text when one
 * does not parse); text line by line, a line longer than DIAG_LINE_MAX
 * replaced by a note.  *count is what was redacted.  WG_E_IO with why
 * on a read or write failure.
 */
enum wg_err diag_redact_copy(FILE *in, FILE *out, enum diag_kind kind,
    unsigned *count, char *why, size_t whylen)
    __attribute__((warn_unused_result));

#endif
