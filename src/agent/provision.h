/*
 * `whiteglove-agent provision`: the technician's flow on the device, steps
 * 1 to 6 of the flow one after the other (the profile, Securing your
 * hardware, Joining your organization's network, Registering your device
 * for mobile management, Device setup's apps, the reseal) under the
 * Enrollment Status Page (esp.h).
 *
 * The run is a state machine saved in STATE/provision.json after every
 * change of a step: a run killed at any point and started again resumes.
 * A step whose result is in the state directory (the profile file,
 * aik.crt, join.json, mdm.json, the apps' own state, reseal.json) is not
 * done again, so no TPM work is redone; the state-changing requests of
 * the join, the MDM enrollment and the reseal carry an Idempotency-Key
 * made of the run's RequestKey (kept in provision.json) and the step, so
 * a request the server answered but the device never saw is answered
 * again, not done twice.
 */
#ifndef WG_AGENT_PROVISION_H
#define WG_AGENT_PROVISION_H

#include <stdint.h>

#include "agent/attest.h"
#include "agent/profile.h"
#include "common/errors.h"

#define PROVISION_FILE "provision.json"
#define PROVISION_TRIES_DEFAULT 5
#define PROVISION_ESP_MINUTES_DEFAULT 60

/* Events of the `autopilot` channel. */
enum {
	PROVISION_EVT_STARTED = 1500,	/* a run began (or resumed) */
	PROVISION_EVT_STEP_DONE = 1501,	/* a step ended well */
	PROVISION_EVT_STEP_FAILED = 1502, /* a step failed: the run ends */
	PROVISION_EVT_RESEALED = 1503,	/* the green screen */
};

enum provision_step {
	PROVISION_PROFILE,
	PROVISION_ATTEST,
	PROVISION_JOIN,
	PROVISION_MDM,
	PROVISION_APPS,
	PROVISION_RESEAL,
	PROVISION_STEP_MAX
};

struct provision_opts {
	struct attest_opts a;	/* a.p: every phase's options */
	int redraw;		/* draw the ESP in place (a terminal) */
	uint64_t max_app_size;	/* per app; 0: the apps phase's default */
};

struct provision_result {
	enum provision_step failed_step; /* PROVISION_STEP_MAX: none */
	unsigned resumed;	/* steps done by an earlier run */
	unsigned apps, apps_installed;
};

/*
 * Runs the flow from where the state directory says it stands, drawing
 * the ESP on stdout.  WG_OK with the device resealed (the green screen
 * shown); else the failed step's catalog code, shown with its meaning,
 * why and where to look.
 */
enum wg_err provision_run(const struct provision_opts *o,
    struct provision_result *res) __attribute__((warn_unused_result));

/*
 * The ESP's timeout in ms: the profile's EspTimeoutMinutes (f NULL, or
 * none set: PROVISION_ESP_MINUTES_DEFAULT).  Device setup's deadline in
 * the technician's run, account setup's after the user's sign-in.
 */
int64_t provision_esp_timeout_ms(const struct profile_file *f);

/* "profile", "attest", "join", "mdm", "apps", "reseal". */
const char *provision_step_name(enum provision_step s);

#endif
