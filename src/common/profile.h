/*
 * The words of a deployment profile (step 1 of the flow), shared by the
 * admin API, the CLI and the ztd service: the OOBE flags sent as
 * Autopilot's CloudAssignedOobeConfig, the profile's enumerations, and
 * the device name template with Windows' rules.  Pure functions, no I/O:
 * randomness comes from the caller.
 */
#ifndef WG_PROFILE_H
#define WG_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

/*
 * The CloudAssignedOobeConfig bits whiteglove supports (the values
 * Windows gives them), with the API's names in wg_oobe_flag_at().
 */
#define WG_OOBE_USER_NOT_LOCAL_ADMIN 2u	   /* userNotLocalAdmin */
#define WG_OOBE_SKIP_EXPRESS_SETTINGS 4u   /* skipExpressSettings: privacy */
#define WG_OOBE_SKIP_OEM_REGISTRATION 8u   /* skipOemRegistration */
#define WG_OOBE_SKIP_EULA 16u		   /* skipEula */
#define WG_OOBE_SKIP_KEYBOARD 1024u	   /* skipKeyboardSelection */

struct wg_oobe_flag {
	const char *name; /* the API's name: "skipEula" */
	uint32_t bit;
};

/*
 * The i-th supported flag in bit order, or NULL past the last: iterate
 * with `for (i = 0; (f = wg_oobe_flag_at(i)) != NULL; i++)`.
 */
const struct wg_oobe_flag *wg_oobe_flag_at(size_t i);
/* The bit of the flag the API calls name (exact case), or 0. */
uint32_t wg_oobe_bit(const char *name);
/* The API's name of one supported bit, or NULL. */
const char *wg_oobe_name(uint32_t bit);
/* Every supported bit or'ed together: a mask outside it is not ours. */
uint32_t wg_oobe_supported(void);
/* "userNotLocalAdmin, …, skipKeyboardSelection" into buf (for messages). */
void wg_oobe_list(char *buf, size_t len);

/*
 * A profile's enumerations.  The database and the API spell each value
 * in camelCase ("preProvisioning"), the CLI with dashes
 * ("pre-provisioning"); the value's index is its enum constant below.
 */
enum wg_profile_enum {
	WG_PROFILE_MODE,   /* deploymentMode: enum wg_deploy_mode */
	WG_PROFILE_JOIN,   /* joinMethod: enum wg_join_method */
	WG_PROFILE_REBOOT, /* rebootPolicy: enum wg_reboot_policy */
	WG_PROFILE_ENUM_MAX
};

enum wg_deploy_mode {
	WG_MODE_USER_DRIVEN,
	WG_MODE_SELF_DEPLOYING,
	WG_MODE_PRE_PROVISIONING,
	WG_MODE_MAX
};

enum wg_join_method { WG_JOIN_CLOUD, WG_JOIN_HYBRID, WG_JOIN_MAX };

/* strict: one boot between reseal and sign-in; tolerant: any number. */
enum wg_reboot_policy { WG_REBOOT_STRICT, WG_REBOOT_TOLERANT, WG_REBOOT_MAX };

/* The numbers of a profile: their ranges and defaults (docs/api.md). */
#define WG_ESP_TIMEOUT_MIN 5	/* minutes of device setup (the ESP) */
#define WG_ESP_TIMEOUT_MAX 1440
#define WG_ESP_TIMEOUT_DEFAULT 60
#define WG_TICKET_DAYS_MIN 1	/* the pre-provisioning ticket's lifetime */
#define WG_TICKET_DAYS_MAX 365
#define WG_TICKET_DAYS_DEFAULT 180

/*
 * The value of enumeration e spelled s (the API's spelling, or the CLI's
 * with cli), or -1 if s is none of them.
 */
int wg_profile_enum_parse(enum wg_profile_enum e, const char *s, int cli);
/* The spelling of value v of e (API's, or CLI's with cli); NULL if none. */
const char *wg_profile_enum_name(enum wg_profile_enum e, int v, int cli);
/* "userDriven, selfDeploying or preProvisioning" into buf (messages). */
void wg_profile_enum_list(enum wg_profile_enum e, int cli, char *buf,
    size_t len);

/*
 * Device name templates (Autopilot's "Apply device name template"): the
 * name is at most WG_DEVICE_NAME_MAX letters, digits and '-', not all
 * digits.  Fixed characters stand as they are; %SERIAL% (once at most)
 * is the device's serial number without the characters a name cannot
 * hold, cut at its end so the name fits; %RAND:n% is n random digits
 * (n 1 to 15).  Macros are upper case.  "" means no name is set.
 */
#define WG_DEVICE_NAME_MAX 15
#define WG_NAME_TEMPLATE_LEN_MAX 64 /* bytes of a template */

/*
 * 0 if tmpl is a valid template, else -1 and why says which character or
 * macro is wrong (with its position, from 1), or how long the fixed part
 * plus the %RAND% digits are.
 */
int wg_name_template_check(const char *tmpl, char *why, size_t whylen);

/* A source of random bytes: wg_random() (common/util.h), or a test's. */
typedef enum wg_err (*wg_random_fn)(void *buf, size_t n);

/*
 * The device name tmpl gives for serial, into out ("" for the empty
 * template), its %RAND% digits drawn uniformly from bytes of rnd.
 * WG_E_CONFIG (why says why) when tmpl fails wg_name_template_check(),
 * or the serial leaves the name empty or all digits; rnd's own code when
 * it fails.  out is "" on failure.
 */
enum wg_err wg_name_template_expand(const char *tmpl, const char *serial,
    wg_random_fn rnd, char out[WG_DEVICE_NAME_MAX + 1], char *why,
    size_t whylen) __attribute__((warn_unused_result));

#endif
