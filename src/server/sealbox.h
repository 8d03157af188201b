/*
 * Secrets the server keeps at rest, sealed: AES-256-GCM under one key of
 * the server's (STATE/idempotency.key, 0600, 64 hex digits, made at first
 * use; every server instance sharing a database needs the same file).
 * What is sealed: the stored answers of idempotent requests (idem.c: the
 * reseal's holds a ticket the database keeps only hashed otherwise) and
 * the session keys of primary refresh tokens (signin.c).  The sealed text
 * starts with a scope, the row's own name, so a value copied to another
 * row does not open as that row's.
 */
#ifndef WG_SEALBOX_H
#define WG_SEALBOX_H

#include <stddef.h>

#include "server/http.h"

#define SEALBOX_KEY_FILE "idempotency.key"
#define SEALBOX_SCOPE_LEN 64 /* a hex SHA-256 */

/*
 * Reads or makes the key once per process; a failure is answered
 * (WG_E_IO: the file cannot be read, made, or is not 64 hex digits).
 */
enum wg_err sealbox_ready(struct http_req *req)
    __attribute__((warn_unused_result));

/*
 * scope (SEALBOX_SCOPE_LEN characters) || body (n bytes) sealed, as
 * base64 in *out (xmalloc'd); the key is read or made first.
 */
enum wg_err sealbox_seal(struct http_req *req, const char *scope,
    const void *body, size_t n, char **out)
    __attribute__((warn_unused_result));

/*
 * Opens what sealbox_seal() made for scope: *body (n bytes and a NUL,
 * xmalloc'd; the caller wipes and frees it).  WG_E_CRYPTO (logged) if it
 * does not open under the key for that scope.
 */
enum wg_err sealbox_open(struct http_req *req, const char *scope,
    const char *text, char **body, size_t *n)
    __attribute__((warn_unused_result));

#endif
