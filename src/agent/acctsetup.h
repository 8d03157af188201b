/*
 * "Account setup" on the device (step 7 of the flow, the Enrollment
 * Status Page's user phase): after the user's first sign-in, the apps
 * assigned to the device's group tag for its user (apps.h with
 * APPS_TARGET_USER: GET /mdm/v1/apps?target=user, their state in
 * STATE/apps-user.json), under the ESP's account-setup rows (esp.h:
 * Account setup, with "Joining your organization's network" the sign-in
 * that restored the join, and Apps n of m), bounded by the profile's ESP
 * timeout as device setup is.
 */
#ifndef WG_AGENT_ACCTSETUP_H
#define WG_AGENT_ACCTSETUP_H

#include <stdint.h>

#include "agent/apps.h"
#include "agent/phaseopts.h"
#include "common/errors.h"

struct acctsetup_opts {
	int redraw;		/* draw the ESP in place (a terminal) */
	const char *upn;	/* who signed in, for the sign-in row */
	int64_t signin_ms;	/* how long the sign-in took */
	uint64_t max_app_size;	/* per app; 0: the apps phase's default */
};

/*
 * Runs account setup with o (the sign-in's phase options), drawing the
 * ESP on stdout.  WG_OK with every user app installed (none is fine:
 * the Apps row says so) and the screen's good end; else apps_run()'s
 * code (an app's, WG_E_ESP_TIMEOUT, the phase's), shown under the
 * screen with its meaning, why, where to look and how to go on
 * (`whiteglove-agent apps --target user`).  res: what apps_run() did.
 */
enum wg_err acctsetup_run(const struct agent_phase_opts *o,
    const struct acctsetup_opts *ao, struct apps_result *res)
    __attribute__((warn_unused_result));

#endif
