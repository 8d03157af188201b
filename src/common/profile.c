/*
 * A deployment profile's words: OOBE flags, enumerations and the device
 * name template (docs/api.md, "Deployment profiles").
 */
#include <stdio.h>
#include <string.h>

#include "profile.h"
#include "util.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MACROS_HINT "the macros are %%SERIAL%% and %%RAND:n%%" /* a format */

/* In bit order, so JSON lists them alike everywhere. */
static const struct wg_oobe_flag oobe_flags[] = {
	{ "userNotLocalAdmin", WG_OOBE_USER_NOT_LOCAL_ADMIN },
	{ "skipExpressSettings", WG_OOBE_SKIP_EXPRESS_SETTINGS },
	{ "skipOemRegistration", WG_OOBE_SKIP_OEM_REGISTRATION },
	{ "skipEula", WG_OOBE_SKIP_EULA },
	{ "skipKeyboardSelection", WG_OOBE_SKIP_KEYBOARD },
};

/* One value of an enumeration: the API's and the CLI's spelling. */
struct enum_value {
	const char *api;
	const char *cli;
};

static const struct enum_value modes[WG_MODE_MAX] = {
	[WG_MODE_USER_DRIVEN] = { "userDriven", "user-driven" },
	[WG_MODE_SELF_DEPLOYING] = { "selfDeploying", "self-deploying" },
	[WG_MODE_PRE_PROVISIONING] = { "preProvisioning", "pre-provisioning" },
};

static const struct enum_value joins[WG_JOIN_MAX] = {
	[WG_JOIN_CLOUD] = { "cloud", "cloud" },
	[WG_JOIN_HYBRID] = { "hybrid", "hybrid" },
};

static const struct enum_value reboots[WG_REBOOT_MAX] = {
	[WG_REBOOT_STRICT] = { "strict", "strict" },
	[WG_REBOOT_TOLERANT] = { "tolerant", "tolerant" },
};

static const struct {
	const struct enum_value *values;
	int n;
} enums[WG_PROFILE_ENUM_MAX] = {
	[WG_PROFILE_MODE] = { modes, WG_MODE_MAX },
	[WG_PROFILE_JOIN] = { joins, WG_JOIN_MAX },
	[WG_PROFILE_REBOOT] = { reboots, WG_REBOOT_MAX },
};

/* Appends word to the text in buf, after sep unless buf is empty. */
static void
list_append(char *buf, size_t len, const char *sep, const char *word)
{
	size_t used = strlen(buf);

	if (used + 1 < len)
		snprintf(buf + used, len - used, "%s%s", used ? sep : "", word);
}

const struct wg_oobe_flag *
wg_oobe_flag_at(size_t i)
{
	return i < ARRAY_LEN(oobe_flags) ? &oobe_flags[i] : NULL;
}

uint32_t
wg_oobe_bit(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(oobe_flags); i++)
		if (strcmp(name, oobe_flags[i].name) == 0)
			return oobe_flags[i].bit;
	return 0;
}

const char *
wg_oobe_name(uint32_t bit)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(oobe_flags); i++)
		if (bit == oobe_flags[i].bit)
			return oobe_flags[i].name;
	return NULL;
}

uint32_t
wg_oobe_supported(void)
{
	uint32_t mask = 0;
	size_t i;

	for (i = 0; i < ARRAY_LEN(oobe_flags); i++)
		mask |= oobe_flags[i].bit;
	return mask;
}

void
wg_oobe_list(char *buf, size_t len)
{
	size_t i;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < ARRAY_LEN(oobe_flags); i++)
		list_append(buf, len, ", ", oobe_flags[i].name);
}

/* The spelling of v (API's or CLI's). */
static const char *
spelling(const struct enum_value *v, int cli)
{
	return cli ? v->cli : v->api;
}

int
wg_profile_enum_parse(enum wg_profile_enum e, const char *s, int cli)
{
	int i;

	if ((unsigned)e >= WG_PROFILE_ENUM_MAX)
		return -1;
	for (i = 0; i < enums[e].n; i++)
		if (strcmp(s, spelling(&enums[e].values[i], cli)) == 0)
			return i;
	return -1;
}

const char *
wg_profile_enum_name(enum wg_profile_enum e, int v, int cli)
{
	if ((unsigned)e >= WG_PROFILE_ENUM_MAX || v < 0 || v >= enums[e].n)
		return NULL;
	return spelling(&enums[e].values[v], cli);
}

void
wg_profile_enum_list(enum wg_profile_enum e, int cli, char *buf, size_t len)
{
	int i;

	if (len == 0)
		return;
	buf[0] = '\0';
	if ((unsigned)e >= WG_PROFILE_ENUM_MAX)
		return;
	for (i = 0; i < enums[e].n; i++)
		list_append(buf, len, i + 1 == enums[e].n ? " or " : ", ",
		    spelling(&enums[e].values[i], cli));
}

/* ---- device name templates ---- */

enum part_kind { PART_CHAR, PART_SERIAL, PART_RAND };

/* One piece of a template: a fixed character or a macro. */
struct part {
	enum part_kind kind;
	size_t len;	 /* bytes of the template it takes */
	unsigned rand_n; /* PART_RAND: its digits */
};

/* What a template is made of, once it is known to be well formed. */
struct shape {
	size_t fixed;	/* fixed characters */
	size_t rand;	/* %RAND% digits */
	int serial;	/* holds %SERIAL% */
	int not_digit;	/* a fixed letter or '-' */
};

/* A character a device name may hold. */
static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

static int
all_digits(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* %RAND:n% of the template at t (len bytes, both '%' included). */
static int
rand_part(const char *t, size_t len, size_t pos, struct part *p, char *why,
    size_t whylen)
{
	const char *n = t + 6; /* after "%RAND:" */
	size_t k = len - 7, i;
	unsigned v = 0;

	for (i = 0; i < k && i < 3; i++) {
		if (n[i] < '0' || n[i] > '9') {
			v = 0;
			break;
		}
		v = v * 10 + (unsigned)(n[i] - '0');
	}
	if (k == 0 || k > 2 || v < 1 || v > WG_DEVICE_NAME_MAX) {
		char esc[80];

		wg_escape_log(t, len, esc, sizeof(esc));
		wg_say(why, whylen, "%s at position %zu: n must be a number "
		    "from 1 to %d", esc, pos + 1, WG_DEVICE_NAME_MAX);
		return -1;
	}
	p->kind = PART_RAND;
	p->rand_n = v;
	return 0;
}

/* The macro at t[pos] (a '%'), into p; -1 (why) if it is none. */
static int
macro_at(const char *t, size_t pos, struct part *p, char *why, size_t whylen)
{
	const char *end = strchr(t + pos + 1, '%');
	char esc[80];

	if (end == NULL) {
		wg_say(why, whylen, "the '%%' at position %zu is not closed: "
		    MACROS_HINT, pos + 1);
		return -1;
	}
	p->len = (size_t)(end - (t + pos)) + 1;
	if (p->len == 8 && memcmp(t + pos, "%SERIAL%", 8) == 0) {
		p->kind = PART_SERIAL;
		return 0;
	}
	if (p->len >= 7 && memcmp(t + pos, "%RAND:", 6) == 0)
		return rand_part(t + pos, p->len, pos, p, why, whylen);
	wg_escape_log(t + pos, p->len, esc, sizeof(esc));
	wg_say(why, whylen, "unknown macro %s at position %zu: " MACROS_HINT,
	    esc, pos + 1);
	return -1;
}

/* The piece of t at pos, into p; -1 (why) if it is not allowed. */
static int
part_at(const char *t, size_t pos, struct part *p, char *why, size_t whylen)
{
	unsigned char c = (unsigned char)t[pos];

	memset(p, 0, sizeof(*p));
	if (c == '%')
		return macro_at(t, pos, p, why, whylen);
	if (!name_char((char)c)) {
		if (c >= 0x20 && c < 0x7f)
			wg_say(why, whylen, "character '%c' at position %zu is "
			    "not allowed: a device name holds letters, digits "
			    "and '-' only", c, pos + 1);
		else
			wg_say(why, whylen, "byte 0x%02X at position %zu is "
			    "not allowed: a device name holds letters, digits "
			    "and '-' only", c, pos + 1);
		return -1;
	}
	p->kind = PART_CHAR;
	p->len = 1;
	return 0;
}

/* Adds part p (at t[pos]) to s; -1 (why) for a second %SERIAL%. */
static int
shape_add(struct shape *s, const char *t, size_t pos, const struct part *p,
    char *why, size_t whylen)
{
	switch (p->kind) {
	case PART_CHAR:
		s->fixed++;
		s->not_digit |= t[pos] < '0' || t[pos] > '9';
		return 0;
	case PART_RAND:
		s->rand += p->rand_n;
		return 0;
	case PART_SERIAL:
		break;
	}
	if (s->serial) {
		wg_say(why, whylen, "%%SERIAL%% at position %zu is the second "
		    "one: it may stand once", pos + 1);
		return -1;
	}
	s->serial = 1;
	return 0;
}

/* Reads t into s: 0, or -1 and why names the first rule it breaks. */
static int
template_shape(const char *t, struct shape *s, char *why, size_t whylen)
{
	size_t len = strlen(t), pos, total;
	struct part p;

	memset(s, 0, sizeof(*s));
	if (len > WG_NAME_TEMPLATE_LEN_MAX) {
		wg_say(why, whylen, "the template is %zu bytes long; at most "
		    "%d", len, WG_NAME_TEMPLATE_LEN_MAX);
		return -1;
	}
	for (pos = 0; pos < len; pos += p.len)
		if (part_at(t, pos, &p, why, whylen) != 0 ||
		    shape_add(s, t, pos, &p, why, whylen) != 0)
			return -1;
	total = s->fixed + s->rand;
	if (total > WG_DEVICE_NAME_MAX || (s->serial &&
	    total == WG_DEVICE_NAME_MAX)) {
		wg_say(why, whylen, "the fixed part (%zu characters) plus the "
		    "%%RAND%% digits (%zu) make %zu characters%s: a device "
		    "name has at most %d", s->fixed, s->rand, total,
		    s->serial ? ", leaving none for %SERIAL%" : "",
		    WG_DEVICE_NAME_MAX);
		return -1;
	}
	if (total > 0 && !s->serial && !s->not_digit) {
		wg_say(why, whylen, "the name would be only digits: a device "
		    "name needs a letter or '-' (or %%SERIAL%%)");
		return -1;
	}
	return 0;
}

int
wg_name_template_check(const char *tmpl, char *why, size_t whylen)
{
	struct shape s;

	return template_shape(tmpl, &s, why, whylen);
}

/*
 * n uniform random digits into out: bytes from rnd, those of 250 and up
 * drawn again (so that 0-9 are equally likely), a bounded number of times.
 */
static enum wg_err
rand_digits(wg_random_fn rnd, char *out, size_t n, char *why, size_t whylen)
{
	unsigned char b[WG_DEVICE_NAME_MAX];
	size_t got = 0, need, i;
	enum wg_err rc;
	int round;

	for (round = 0; got < n; round++) {
		if (round == 32) {
			wg_say(why, whylen, "the random source gave no digits");
			return WG_E_CRYPTO;
		}
		need = n - got;
		if ((rc = rnd(b, need)) != WG_OK) {
			wg_say(why, whylen, "the random source failed");
			return rc;
		}
		for (i = 0; i < need; i++)
			if (b[i] < 250)
				out[got++] = (char)('0' + b[i] % 10);
	}
	return WG_OK;
}

/* The serial's name characters, at most room of them, into out. */
static size_t
serial_part(const char *serial, char *out, size_t room)
{
	size_t n = 0;

	for (; *serial != '\0' && n < room; serial++)
		if (name_char(*serial))
			out[n++] = *serial;
	return n;
}

/* Why the name made of serial is not one; WG_E_CONFIG. */
static enum wg_err
name_refused(const char *serial, const char *name, char *why, size_t whylen)
{
	char esc[80];

	wg_escape_log(serial, strlen(serial), esc, sizeof(esc));
	if (name[0] == '\0')
		wg_say(why, whylen, "the serial number \"%s\" has no letter, "
		    "digit or '-' for %%SERIAL%%: the name would be empty",
		    esc);
	else
		wg_say(why, whylen, "the name \"%s\" made with the serial "
		    "number \"%s\" would be only digits", name, esc);
	return WG_E_CONFIG;
}

enum wg_err
wg_name_template_expand(const char *tmpl, const char *serial,
    wg_random_fn rnd, char out[WG_DEVICE_NAME_MAX + 1], char *why,
    size_t whylen)
{
	struct shape s;
	struct part p;
	size_t pos, n = 0;
	enum wg_err rc;

	out[0] = '\0';
	if (template_shape(tmpl, &s, why, whylen) != 0)
		return WG_E_CONFIG;
	for (pos = 0; tmpl[pos] != '\0'; pos += p.len) {
		(void)part_at(tmpl, pos, &p, NULL, 0); /* checked above */
		if (p.kind == PART_CHAR) {
			out[n++] = tmpl[pos];
		} else if (p.kind == PART_SERIAL) {
			n += serial_part(serial, out + n,
			    WG_DEVICE_NAME_MAX - s.fixed - s.rand);
		} else if ((rc = rand_digits(rnd, out + n, p.rand_n, why,
		    whylen)) != WG_OK) {
			out[0] = '\0';
			return rc;
		} else {
			n += p.rand_n;
		}
	}
	out[n] = '\0';
	if (tmpl[0] != '\0' && (n == 0 || all_digits(out))) {
		rc = name_refused(serial, out, why, whylen);
		out[0] = '\0';
		return rc;
	}
	return WG_OK;
}
