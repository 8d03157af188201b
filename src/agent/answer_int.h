/*
 * What answer.c and answer_signin.c share: the one loader of an answer's
 * object and the checks more than one answer's members go through.  Not
 * for the rest of the agent (answer.h is).
 */
#ifndef WG_AGENT_ANSWER_INT_H
#define WG_AGENT_ANSWER_INT_H

#include <stddef.h>

#include <jansson.h>

#include "common/errors.h"

/*
 * len bytes of body as one JSON object of at most ANSWER_BODY_MAX bytes
 * (no duplicate members): *o a new reference the caller decrefs (NULL on
 * failure); WG_E_NET_PROTOCOL with why otherwise.
 */
enum wg_err answer_load(const char *body, size_t len, json_t **o, char *why,
    size_t whylen) __attribute__((warn_unused_result));

/*
 * The integer member name of o, within [min, max], into *out;
 * WG_E_NET_PROTOCOL with why ("NAME is not an integer MIN to MAX")
 * otherwise.
 */
enum wg_err answer_range_member(const json_t *o, const char *name,
    json_int_t min, json_int_t max, json_int_t *out, char *why,
    size_t whylen) __attribute__((warn_unused_result));

/*
 * 1 if s is base64url (RFC 4648 5, unpadded) of 16 to 64 bytes, as a
 * reseal's ticket and a PRT are; the decoded bytes are wiped.
 */
int answer_b64url_secret(const char *s);

#endif
