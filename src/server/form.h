/*
 * application/x-www-form-urlencoded request bodies (the OAuth 2.0 token
 * endpoint's, RFC 6749 3.2), parsed strictly: name=value pairs joined by
 * '&', '+' for a space, %XX for other bytes; names of letters, digits and
 * "_.-"; no name twice; every value printable UTF-8.
 */
#ifndef WG_SERVER_FORM_H
#define WG_SERVER_FORM_H

#include <stddef.h>

#include "common/errors.h"

#define FORM_FIELDS_MAX 16
#define FORM_NAME_MAX 64

struct form {
	char *names[FORM_FIELDS_MAX];
	char *values[FORM_FIELDS_MAX];
	size_t n;
};

/*
 * Parses len bytes of body into *out (free with form_free).  On failure
 * *out is empty, the result is WG_E_JSON_FIELD and why names the field
 * (or the position) and the rule.
 */
enum wg_err form_parse(const char *body, size_t len, struct form *out,
    char *why, size_t whylen) __attribute__((warn_unused_result));

/* The value of field name, or NULL when the form has none. */
const char *form_get(const struct form *f, const char *name);

/* Every field's name is among allowed (NULL-terminated); else -1, why. */
int form_only(const struct form *f, const char *const *allowed, char *why,
    size_t whylen);

void form_free(struct form *f);

#endif
