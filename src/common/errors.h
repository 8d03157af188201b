/*
 * Error catalog: every failure in whiteglove is one of these codes.
 * The catalog itself is errors.def; see there for the columns.
 */
#ifndef WG_ERRORS_H
#define WG_ERRORS_H

#include <stdint.h>

/* Where in the flow an error happens (DESIGN.md section 2). */
enum wg_phase {
	WG_PHASE_NONE,
	WG_PHASE_REGISTRATION,
	WG_PHASE_PROFILE,
	WG_PHASE_SECURING_HARDWARE,
	WG_PHASE_JOINING,
	WG_PHASE_MDM,
	WG_PHASE_DEVICE_SETUP,
	WG_PHASE_RESEAL,
	WG_PHASE_ACCOUNT_SETUP,
	WG_PHASE_ADMIN,
	WG_PHASE_MAX
};

/*
 * Functions return one of these (WG_OK = 0 is success).  The enum value is
 * an index into the catalog; wg_err_code() gives the published code.
 */
enum wg_err {
	WG_OK = 0,
#define WG_ERR(sym, code, name, phase, http, meaning, causes, remedy) \
	WG_E_##sym,
#include "errors.def"
#undef WG_ERR
	WG_E_MAX
};

struct wg_err_info {
	enum wg_err err;
	uint32_t code;
	const char *name;
	enum wg_phase phase;
	int http_status;
	const char *meaning;
	const char *causes;
	const char *remedy;
};

/* The catalog entry of err; never NULL (unknown values map to INTERNAL). */
const struct wg_err_info *wg_err_info(enum wg_err err);

/* Number of entries in the catalog (WG_E_MAX - 1). */
int wg_err_count(void);

uint32_t wg_err_code(enum wg_err err);
const char *wg_err_name(enum wg_err err);

/* HTTP status for err; 500 for codes that never cross HTTP. */
int wg_err_http_status(enum wg_err err);

/*
 * Formats the published code: "0x80180014" for HRESULT-style codes, "806"
 * for DDS codes.  Writes at most len bytes into buf; returns buf.
 */
char *wg_err_code_str(enum wg_err err, char *buf, unsigned long len);

/* Human name of a phase ("Securing your hardware"); never NULL. */
const char *wg_phase_title(enum wg_phase phase);
/* Short machine name of a phase ("securing_hardware"); never NULL. */
const char *wg_phase_name(enum wg_phase phase);

/* The catalog entry with this published code, or NULL. */
const struct wg_err_info *wg_err_by_code(uint32_t code);

/*
 * Finds the catalog entry a person typed: "0x80180014", "80180014" (eight
 * hex digits), "806" (a decimal DDS code), a signed or unsigned decimal
 * HRESULT as Windows logs print them ("-2145910764"), or a name in any case
 * ("ZtdDeviceAlreadyAssigned", "MENROLL_E_DEVICENOTSUPPORTED").  Returns
 * NULL if nothing matches.
 */
const struct wg_err_info *wg_err_lookup(const char *text);

#endif
