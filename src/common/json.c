#include <stdio.h>
#include <string.h>

#include "json.h"
#include "util.h"

static int
too_deep(const json_t *v, int depth)
{
	const char *key;
	json_t *child;
	size_t i;

	if (depth > WG_JSON_MAX_DEPTH)
		return 1;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child)
			if (too_deep(child, depth + 1))
				return 1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			if (too_deep(child, depth + 1))
				return 1;
	}
	return 0;
}

enum wg_err
wg_json_load_object(const char *buf, size_t len, json_t **out, char *why,
    size_t whylen)
{
	json_error_t jerr;
	json_t *o;

	*out = NULL;
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		snprintf(why, whylen, "body is not valid JSON: %s (line %d, "
		    "column %d)", jerr.text, jerr.line, jerr.column);
		return WG_E_JSON_MALFORMED;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(why, whylen, "body must be a JSON object");
		return WG_E_JSON_FIELD;
	}
	if (too_deep(o, 0)) {
		json_decref(o);
		snprintf(why, whylen, "body nests deeper than %d levels",
		    WG_JSON_MAX_DEPTH);
		return WG_E_JSON_MALFORMED;
	}
	*out = o;
	return WG_OK;
}

enum wg_err
wg_json_string(const json_t *obj, const char *name, int required, size_t max,
    const char **out, char *why, size_t whylen)
{
	const json_t *v = json_object_get(obj, name);
	const char *s;
	size_t n;

	*out = NULL;
	if (v == NULL || (!required && json_is_null(v))) {
		if (!required)
			return WG_OK;
		snprintf(why, whylen, "field \"%s\" is required", name);
		return WG_E_JSON_FIELD;
	}
	if (!json_is_string(v)) {
		snprintf(why, whylen, "field \"%s\" must be a string", name);
		return WG_E_JSON_FIELD;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > max) {
		snprintf(why, whylen, "field \"%s\" must be 1 to %zu bytes "
		    "long", name, max);
		return WG_E_JSON_FIELD;
	}
	if (strlen(s) != n || !wg_str_printable(s)) {
		snprintf(why, whylen, "field \"%s\" must be printable text "
		    "without control characters", name);
		return WG_E_JSON_FIELD;
	}
	*out = s;
	return WG_OK;
}

enum wg_err
wg_json_only(const json_t *obj, const char *const *allowed, char *why,
    size_t whylen)
{
	const char *key;
	json_t *v;
	size_t i;
	int ok;

	json_object_foreach((json_t *)obj, key, v) {
		ok = 0;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = 1;
		if (!ok) {
			char esc[80];

			wg_escape_log(key, strlen(key), esc, sizeof(esc));
			snprintf(why, whylen, "unknown field \"%s\"", esc);
			return WG_E_JSON_FIELD;
		}
	}
	return WG_OK;
}
