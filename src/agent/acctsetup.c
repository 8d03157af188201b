/*
 * Account setup on the device (acctsetup.h): the ESP's account-setup
 * rows, the sign-in shown done, the user's apps under the profile's ESP
 * timeout, then the good end or the failure.
 */
#include <stdio.h>
#include <string.h>

#include "agent/acctsetup.h"
#include "agent/esp.h"
#include "agent/profile.h"
#include "agent/provision.h"
#include "common/util.h"

#define TITLE "Setting up your device for work"

struct acct {
	struct esp *esp;
	int redraw;
};

/* The user apps' progress on the Apps row. */
static void
apps_progress(void *arg, const struct apps_progress *p)
{
	struct acct *a = arg;
	char detail[256];

	apps_progress_text(p, a->redraw, detail, sizeof(detail));
	esp_detail(a->esp, ESP_USER_APPS, "%s", detail);
}

/* The deadline: the profile's ESP timeout from now. */
static int64_t
deadline(const char *state_dir)
{
	struct profile_file f;
	char why[256];

	if (profile_file_read(state_dir, &f, why, sizeof(why)) != WG_OK)
		return wg_now_ms() + provision_esp_timeout_ms(NULL);
	return wg_now_ms() + provision_esp_timeout_ms(&f);
}

/* The good end's words. */
static void
done(struct esp *e, const char *upn, const struct apps_result *res)
{
	char l1[384], l2[128];
	const char *lines[3] = { "", l1, l2 };

	snprintf(l1, sizeof(l1), "Account setup is complete: the device is "
	    "ready for %s.", upn);
	if (res->count == 0)
		snprintf(l2, sizeof(l2), "No user apps are assigned to this "
		    "device.");
	else
		snprintf(l2, sizeof(l2), "%u of %u %s installed.",
		    res->installed, res->count, res->count == 1 ? "app" :
		    "apps");
	esp_green(e, lines, 3);
}

enum wg_err
acctsetup_run(const struct agent_phase_opts *o,
    const struct acctsetup_opts *ao, struct apps_result *res)
{
	struct acct a = { .redraw = ao->redraw };
	struct apps_opts opts = { .target = APPS_TARGET_USER,
	    .max_size = ao->max_app_size, .progress = apps_progress,
	    .progress_arg = &a };
	char why[1024], detail[384], next[256];
	enum wg_err rc;

	a.esp = esp_new(stdout, ao->redraw, ESP_LAYOUT_ACCOUNT, TITLE);
	snprintf(detail, sizeof(detail), "signed in as %s", ao->upn);
	esp_set_done(a.esp, ESP_USER_JOIN, ao->signin_ms, detail);
	esp_set(a.esp, ESP_USER_APPS, ESP_WORKING);
	opts.deadline_ms = deadline(o->state_dir);
	rc = apps_run(o, &opts, res, why, sizeof(why));
	if (rc == WG_OK && res->count == 0)
		snprintf(detail, sizeof(detail), "none");
	else if (rc == WG_OK)
		snprintf(detail, sizeof(detail), "%u of %u installed",
		    res->installed, res->count);
	esp_finish(a.esp, ESP_USER_APPS, rc == WG_OK ? ESP_DONE : ESP_FAILED,
	    rc == WG_OK ? detail : NULL);
	if (rc == WG_OK) {
		done(a.esp, ao->upn, res);
	} else {
		snprintf(next, sizeof(next), "The sign-in is done and kept; "
		    "to finish account setup: whiteglove-agent apps --target "
		    "user (with this command's options)");
		esp_failure(a.esp, rc, why, o->state_dir, next);
	}
	esp_free(a.esp);
	return rc;
}
