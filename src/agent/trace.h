/*
 * The agent's HTTP trace (the role Fiddler plays in the field): with
 * --trace, `trace = on` in the configuration file or
 * WHITEGLOVE_AGENT_TRACE=1, every exchange a phase command makes, answered
 * or failed, is appended as one JSON line to STATE/trace/http.jsonl
 * (0600; past AGENT_TRACE_FILE_MAX it becomes http.jsonl.1 and a new one
 * starts): the time, method, URL, status, curl's timings, the request's
 * and response's headers and bodies with their secrets taken out.
 * `whiteglove-agent diag collect` bundles both files.  docs/flow.md,
 * "Diagnostics bundle".
 *
 * What is never written: Authorization, Cookie, Set-Cookie and
 * Idempotency-Key values; in JSON bodies every member diag_redact.h calls
 * secret; in form bodies (application/x-www-form-urlencoded) the value of
 * every field named like a secret; a JWS or JWT anywhere is reduced to
 * its header and the names of its claims (a JWE to its header); any
 * other body (app content, certificates) is its length and SHA-256 only.
 * Then the whole line goes through diag_redact_json() as well.
 */
#ifndef WG_AGENT_TRACE_H
#define WG_AGENT_TRACE_H

#include <stddef.h>

#include <jansson.h>

#include "common/errors.h"
#include "common/httpc.h"

#define AGENT_TRACE_ENV "WHITEGLOVE_AGENT_TRACE"
#define AGENT_TRACE_DIR "trace"
#define AGENT_TRACE_FILE "http.jsonl"
#define AGENT_TRACE_OLD "http.jsonl.1"
#define AGENT_TRACE_FILE_MAX (4 * 1024 * 1024) /* then rotated to .1 */
#define AGENT_TRACE_LINE_MAX (60 * 1024) /* under diag's DIAG_LINE_MAX */
#define AGENT_TRACE_JSON_MAX (1024 * 1024) /* bigger bodies: digest only */

/* "on", "1", "yes", "true" (NULL too: a bare --trace): 1; "off", "0",
 * "no", "false": 0; anything else -1. */
int agent_trace_value(const char *s);

/* What WHITEGLOVE_AGENT_TRACE says: 1 on, 0 off or unset or not a value. */
int agent_trace_env(void);

/*
 * Whether tracing is on for a phase command run now with the
 * configuration file config (NULL: none): its `trace` setting, else the
 * environment's.  For the diagnostics bundle's manifest.
 */
int agent_trace_configured(const char *config);

/*
 * Starts the trace of this process's exchanges into
 * state_dir/trace/http.jsonl, each line naming cmd (the subcommand; both
 * strings must outlive the process's exchanges).  Makes the folders
 * (0700).  WG_E_IO with why when they cannot be made; tracing is then
 * off.
 */
enum wg_err agent_trace_start(const char *state_dir, const char *cmd,
    char *why, size_t whylen) __attribute__((warn_unused_result));

/*
 * The trace line of exchange x made by cmd, without its newline: compact
 * JSON at most AGENT_TRACE_LINE_MAX bytes (bodies, then headers, left
 * out when it would be longer).  The caller frees it.
 */
char *agent_trace_line(const struct wg_httpc_exchange *x, const char *cmd)
    __attribute__((returns_nonnull));

/* ---- the redaction (trace_redact.c) ---- */

/*
 * A body of content type type (NULL: none given) as a trace shows it:
 * {"json": value} redacted, {"form": {field: value}} redacted, else
 * {"bytes": n, "sha256": hex}; NULL for no body.  A new reference.
 */
json_t *agent_trace_body(const char *type, const void *body, size_t len);

/*
 * The compact JWS or JWT s reduced to {"jws": {"header": {...},
 * "claims": [names]}}, a JWE to {"jwe": {"header": {...}}}; NULL when s
 * is not one.  A new reference.
 */
json_t *agent_trace_jose(const char *s);

/*
 * A header's value as a trace shows it: "[redacted]" for a secret one
 * (Authorization, Cookie, Set-Cookie, Idempotency-Key ...), else value
 * through diag_redact_text().  The caller frees it.
 */
char *agent_trace_header(const char *name, const char *value)
    __attribute__((returns_nonnull));

#endif
