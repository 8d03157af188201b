/*
 * "Device setup" on the device (step 5 of the flow, the Enrollment
 * Status Page's device phase): the apps the device's group tag is
 * assigned, each downloaded, verified and installed in the order the
 * server lists them, with its state reported to the server (docs/api.md,
 * "Apps and device setup"; docs/flow.md, "Step 5").
 *
 * With a device token (devtoken.h) as bearer: GET /mdm/v1/apps, then per
 * app GET {contentUrl} into STATE/apps/<sha256>.part (resumed with
 * `Range: bytes=N-` after a killed run; a 200 instead of a 206 starts
 * over), streamed to disk and hashed as it comes, never held in memory;
 * the SHA-256 is checked before the file is renamed to STATE/apps/<sha256>.
 * The install command runs as `/bin/sh -c CMD` in STATE/apps, in its own
 * process group, with WHITEGLOVE_APP_FILE naming the content and its
 * output in STATE/apps/<sha256>.log; after the app's timeoutSeconds or
 * the device setup deadline, whichever comes first, the whole group gets
 * SIGTERM, then SIGKILL.  Each state (identifying, downloading,
 * installing, installed, failed) is POSTed to /mdm/v1/apps/{id}/status,
 * tried as the other phases try.
 *
 * STATE/apps.json keeps each app's state (written whole, with fsync,
 * after every change), so that a run killed at any point and started
 * again skips installed apps, resumes its download and does not report a
 * state the server already has.
 *
 * The same for "Account setup" (step 7, after the user's first sign-in):
 * apps_opts.target APPS_TARGET_USER lists GET /mdm/v1/apps?target=user,
 * keeps its apps' state apart in STATE/apps-user.json (so that neither
 * phase's "installed" marks the other's) and writes its events with the
 * phase account_setup; the content (STATE/apps/<sha256>, named by its
 * hash) is shared.
 *
 * Events of the `apps` channel with the profile's correlation id (the
 * server's device timeline uses 1901 and 1902 for the same things):
 * 1901 installed, 1902 failed (with the catalog code), 1903 the list,
 * 1904 download started (from byte N when resumed), 1905 downloaded and
 * verified, 1906 install started, 1907 skipped (installed by an earlier
 * run), 1908 a try made again (a warning), 1909 device setup done, 1910
 * device setup failed (the phase's code); for user apps 1909 and 1910
 * are account setup's.
 */
#ifndef WG_AGENT_APPS_H
#define WG_AGENT_APPS_H

#include <stddef.h>
#include <stdint.h>

#include "agent/phaseopts.h"
#include "common/errors.h"

enum {
	APPS_EVT_INSTALLED = 1901,
	APPS_EVT_FAILED = 1902,
	APPS_EVT_LIST = 1903,
	APPS_EVT_DOWNLOAD = 1904,
	APPS_EVT_DOWNLOADED = 1905,
	APPS_EVT_INSTALLING = 1906,
	APPS_EVT_SKIPPED = 1907,
	APPS_EVT_TRY = 1908,
	APPS_EVT_DONE = 1909,
	APPS_EVT_PHASE_FAILED = 1910,
};

#define APPS_TRIES_DEFAULT 5
#define APPS_MAX 1000	/* apps in one list: the server's WG_APP_LIST_MAX */
#define APPS_MAX_SIZE_DEFAULT ((uint64_t)4 << 30) /* 4 GiB per app */
#define APPS_LIST_PATH "/mdm/v1/apps"
#define APPS_DIR "apps"				/* STATE/apps/ */
#define APPS_FILE "apps.json"			/* STATE/apps.json */
#define APPS_USER_FILE "apps-user.json"		/* account setup's */
#define APPS_FILE_ENV "WHITEGLOVE_APP_FILE"	/* for the install command */

struct apps_progress {
	unsigned index, count;	/* this app (1-based) of count; index 0: the
				   list is being fetched */
	const char *name;	/* NULL when index is 0 */
	const char *state;	/* identifying | downloading | installing |
				   installed | failed */
	uint64_t done, total;	/* bytes downloaded of total, while
				   downloading */
};

enum apps_target {
	APPS_TARGET_DEVICE,	/* device setup (step 5), the default */
	APPS_TARGET_USER,	/* account setup (step 7) */
	APPS_TARGET_MAX
};

struct apps_opts {
	enum apps_target target;
	int64_t deadline_ms;	/* wall-clock ms (wg_now_ms()) when the
				   phase must be over; 0: none */
	uint64_t max_size;	/* per app; 0: the default */
	/* may be NULL; called on each change and at most ~4 times/s while
	   downloading */
	void (*progress)(void *arg, const struct apps_progress *p);
	void *progress_arg;
};

struct apps_result {
	unsigned count, installed, failed;
	char failed_app[129];	/* the name of the app that failed, or "" */
	unsigned already;	/* installed by an earlier run */
};

/*
 * Runs device setup (or ao->target's phase) with o (o->server: the
 * server whose tenant discovery names the token endpoint and which serves
 * /mdm/v1/apps) and ao (NULL: the defaults).  WG_OK when every app is installed (res says how many,
 * and how many were already); else the first failed app's code (every
 * app is required): WG_E_APP_DOWNLOAD_FAILED, WG_E_APP_HASH_MISMATCH,
 * WG_E_APP_TOO_LARGE, WG_E_APP_INSTALL_FAILED (the exit status in why),
 * WG_E_APP_INSTALL_TIMEOUT, WG_E_ESP_TIMEOUT when ao->deadline_ms
 * passed; or the phase's: a refusal's code or the last try's when the
 * token, the list or a status report failed, WG_E_PROFILE_INVALID or
 * WG_E_AIK_CERT_INVALID when an earlier step's files are missing,
 * WG_E_TPM_*, 0x800705B4 without a usable TPM, WG_E_IO; why says what
 * happened.
 */
enum wg_err apps_run(const struct agent_phase_opts *o,
    const struct apps_opts *ao, struct apps_result *res, char *why,
    size_t whylen) __attribute__((warn_unused_result));

/*
 * p as an ESP row's detail into buf: "identifying apps", "1 of 2: NAME:
 * STATE", while downloading "... downloading 1.5 of 3.0 MiB" (bytes: the
 * screen is redrawn, so the count may move) or "... downloading 3.0 MiB"
 * (a line per change).
 */
void apps_progress_text(const struct apps_progress *p, int bytes, char *buf,
    size_t size);

#endif
