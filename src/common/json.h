/*
 * Strict JSON input: one place that loads untrusted JSON (duplicates
 * rejected, an object at the top, depth and size bounded) and checks
 * string fields, so every parser names the field and the rule that failed.
 */
#ifndef WG_JSON_H
#define WG_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "errors.h"

#define WG_JSON_MAX_DEPTH 16

/*
 * Loads a JSON object from len bytes.  On success *out is a new reference
 * the caller decrefs; on failure *out is NULL, the result is
 * WG_E_JSON_MALFORMED (syntax, duplicate key, too deep) or WG_E_JSON_FIELD
 * (not an object), and why names the problem and its position.
 */
enum wg_err wg_json_load_object(const char *buf, size_t len, json_t **out,
    char *why, size_t whylen) __attribute__((warn_unused_result));

/*
 * Reads string field `name` of obj: required (or optional, then *out may
 * be NULL), 1..max bytes, valid printable UTF-8.  *out is borrowed from
 * obj.  WG_E_JSON_FIELD with why set on failure.
 */
enum wg_err wg_json_string(const json_t *obj, const char *name, int required,
    size_t max, const char **out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * Fails with WG_E_JSON_FIELD naming the first key of obj not in the
 * NULL-terminated list allowed.
 */
enum wg_err wg_json_only(const json_t *obj, const char *const *allowed,
    char *why, size_t whylen) __attribute__((warn_unused_result));

#endif
