/*
 * The technician's flow on the device (provision.h): the steps in order,
 * each skipped when the state directory holds its result, the run's state
 * saved after every change, the ESP drawn as it goes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/apps.h"
#include "agent/devtoken.h"
#include "agent/esp.h"
#include "agent/eventlog.h"
#include "agent/join.h"
#include "agent/mdm.h"
#include "agent/profile.h"
#include "agent/provision.h"
#include "agent/reseal.h"
#include "agent/state.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define STATE_MAX 16384	/* provision.json is small */
#define PROFILE_MAX 65536

struct prov {
	const struct provision_opts *o;
	struct agent_phase_opts p;	/* o's, with the request key */
	struct provision_result *res;
	struct esp *esp;
	json_t *state;			/* provision.json */
	char key[WG_UUID_LEN + 1];	/* RequestKey */
	char correlation[37];		/* the profile's, once read */
	char why[1024];
	char summary[640];		/* the step's, for its row */
	/* for the green screen */
	char display_name[129], tenant[129], expires[32];
	int64_t esp_timeout_ms;
};

static const char *const step_names[PROVISION_STEP_MAX] = {
	"profile", "attest", "join", "mdm", "apps", "reseal",
};

static const enum esp_row step_rows[PROVISION_STEP_MAX] = {
	ESP_PROFILE, ESP_HARDWARE, ESP_JOIN, ESP_MDM, ESP_APPS, ESP_RESEAL,
};

/* The file an earlier run's step left, whose presence says it is done. */
static const enum wg_phase step_phases[PROVISION_STEP_MAX] = {
	WG_PHASE_PROFILE, WG_PHASE_SECURING_HARDWARE, WG_PHASE_JOINING,
	WG_PHASE_MDM, WG_PHASE_DEVICE_SETUP, WG_PHASE_RESEAL,
};

static const char *const step_files[PROVISION_STEP_MAX] = {
	PROFILE_FILE, "aik.crt", JOIN_FILE, MDM_FILE, NULL, RESEAL_FILE,
};

const char *
provision_step_name(enum provision_step s)
{
	return s < PROVISION_STEP_MAX ? step_names[s] : "?";
}

/*
 * One event of the autopilot channel with the run's correlation id, of
 * step s (PROVISION_STEP_MAX: the run's).
 */
static void
prov_event(struct prov *pv, int id, enum wg_level level, enum wg_err err,
    enum provision_step s, const char *fmt, ...)
{
	int one = s < PROVISION_STEP_MAX;
	va_list ap;

	va_start(ap, fmt);
	eventlog_vsay(pv->p.state_dir, "autopilot", id, level, one ?
	    step_phases[s] : WG_PHASE_NONE, err, pv->correlation[0] ?
	    pv->correlation : NULL, one ? "step" : NULL, one ? step_names[s] :
	    NULL, fmt, ap);
	va_end(ap);
}

/* Writes provision.json whole. */
static enum wg_err
state_save(struct prov *pv)
{
	char *text = json_dumps(pv->state, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER);
	enum wg_err rc;

	if (text == NULL)
		abort(); /* out of memory */
	rc = agent_state_write(pv->p.state_dir, PROVISION_FILE, text,
	    strlen(text), pv->why, sizeof(pv->why));
	free(text);
	return rc;
}

/*
 * provision.json of an earlier run, or a new one: {"Version": 1,
 * "RequestKey": a UUID, "Steps": {name: {"State", "ElapsedMs", "Code"}}}.
 * A file that does not read is started again (the steps' own files still
 * say what is done), with a warning.
 */
static void
state_load(struct prov *pv)
{
	unsigned char *buf = xmalloc(STATE_MAX);
	json_t *root = NULL, *steps;
	const char *key = NULL;
	json_error_t jerr;
	size_t len;

	if (agent_state_read(pv->p.state_dir, PROVISION_FILE, buf, STATE_MAX,
	    &len) == 0) {
		root = json_loadb((const char *)buf, len,
		    JSON_REJECT_DUPLICATES, &jerr);
		if (root == NULL || json_unpack(root, "{s:s, s:o}",
		    "RequestKey", &key, "Steps", &steps) != 0 ||
		    !wg_is_uuid(key) || !json_is_object(steps)) {
			wg_warn("%s/%s does not read; the run starts a new "
			    "one", pv->p.state_dir, PROVISION_FILE);
			json_decref(root);
			root = NULL;
		}
	}
	free(buf);
	if (root == NULL) {
		wg_uuid(pv->key);
		root = json_pack("{s:i, s:s, s:{}}", "Version", 1,
		    "RequestKey", pv->key, "Steps");
	} else {
		snprintf(pv->key, sizeof(pv->key), "%s", key);
	}
	pv->state = root;
}

/* The step's record in provision.json (NULL: none). */
static json_t *
step_record(struct prov *pv, enum provision_step s)
{
	return json_object_get(json_object_get(pv->state, "Steps"),
	    step_names[s]);
}

/* Records step s as state (with elapsed ms and err) and saves. */
static enum wg_err
step_mark(struct prov *pv, enum provision_step s, const char *state,
    int64_t elapsed_ms, enum wg_err err)
{
	char code[16], at[32];
	json_t *r;

	wg_time_rfc3339(wg_now_ms(), at);
	r = json_pack("{s:s, s:I, s:s}", "State", state, "ElapsedMs",
	    (json_int_t)elapsed_ms, "At", at);
	if (err != WG_OK)
		json_object_set_new(r, "Code", json_string(wg_err_code_str(err,
		    code, sizeof(code))));
	json_object_set_new(json_object_get(pv->state, "Steps"),
	    step_names[s], r);
	return state_save(pv);
}

/* Whether an earlier run finished step s (its file, or its record). */
static int
step_done_before(struct prov *pv, enum provision_step s)
{
	const char *state = NULL;
	char *path;
	int there;

	if (step_files[s] == NULL) {
		json_unpack(step_record(pv, s), "{s:s}", "State", &state);
		return state != NULL && strcmp(state, "done") == 0;
	}
	path = xasprintf("%s/%s", pv->p.state_dir, step_files[s]);
	there = access(path, F_OK) == 0;
	free(path);
	return there;
}

/* A string member of a JSON file of the state directory into out. */
static void
file_string(struct prov *pv, const char *file, const char *member,
    char *out, size_t size)
{
	unsigned char *buf = xmalloc(PROFILE_MAX);
	const char *v = NULL;
	json_t *root = NULL;
	size_t len;

	if (agent_state_read(pv->p.state_dir, file, buf, PROFILE_MAX,
	    &len) == 0 && (root = json_loadb((const char *)buf, len, 0,
	    NULL)) != NULL && json_unpack(root, "{s:s}", member, &v) == 0)
		snprintf(out, size, "%s", v);
	json_decref(root);
	free(buf);
}

/*
 * What the profile says the run needs: correlation, tenant, ESP time (all
 * unset until the profile step has run).
 */
static void
profile_facts(struct prov *pv)
{
	struct profile_file f;
	char why[256];

	if (profile_file_read(pv->p.state_dir, &f, why, sizeof(why)) != WG_OK)
		return;
	memcpy(pv->correlation, f.correlation_id, sizeof(pv->correlation));
	memcpy(pv->tenant, f.tenant, sizeof(pv->tenant));
	pv->esp_timeout_ms = provision_esp_timeout_ms(&f);
}

int64_t
provision_esp_timeout_ms(const struct profile_file *f)
{
	return (int64_t)(f != NULL && f->esp_timeout_min > 0 ?
	    f->esp_timeout_min : PROVISION_ESP_MINUTES_DEFAULT) * 60000;
}

/* ---- the steps ---- */

static enum wg_err
run_profile(struct prov *pv)
{
	struct profile_result r;
	enum wg_err rc;

	rc = profile_run(&pv->p, &r, pv->why, sizeof(pv->why));
	if (rc == WG_OK)
		snprintf(pv->summary, sizeof(pv->summary), "%s (%s) for %s",
		    r.name, r.mode, r.tenant);
	return rc;
}

static enum wg_err
run_attest(struct prov *pv)
{
	struct attest_opts a = pv->o->a;
	struct attest_result r;
	enum wg_err rc;

	a.p = pv->p;
	rc = attest_run(&a, &r, pv->why, sizeof(pv->why));
	if (rc == WG_OK)
		snprintf(pv->summary, sizeof(pv->summary), "AIK certified "
		    "(EK certificate: %s)", r.ek_cert_source);
	return rc;
}

static enum wg_err
run_join(struct prov *pv)
{
	struct join_result r;
	enum wg_err rc;

	rc = join_run(&pv->p, &r, pv->why, sizeof(pv->why));
	if (rc == WG_OK)
		snprintf(pv->summary, sizeof(pv->summary), "%s",
		    r.display_name);
	return rc;
}

static enum wg_err
run_mdm(struct prov *pv)
{
	struct mdm_result r;
	enum wg_err rc;

	rc = mdm_run(&pv->p, &r, pv->why, sizeof(pv->why));
	if (rc == WG_OK && r.unjoined)
		snprintf(pv->summary, sizeof(pv->summary), "enrolled; the "
		    "device certificate waits for the user");
	return rc;
}

/* The apps phase's progress on the Apps row. */
static void
apps_progress(void *arg, const struct apps_progress *a)
{
	struct prov *pv = arg;
	char detail[256];

	apps_progress_text(a, pv->o->redraw, detail, sizeof(detail));
	esp_detail(pv->esp, ESP_APPS, "%s", detail);
}

static enum wg_err
run_apps(struct prov *pv)
{
	struct apps_opts ao = { .max_size = pv->o->max_app_size,
		.progress = apps_progress, .progress_arg = pv };
	struct apps_result r;
	enum wg_err rc;

	ao.deadline_ms = wg_now_ms() + pv->esp_timeout_ms;
	rc = apps_run(&pv->p, &ao, &r, pv->why, sizeof(pv->why));
	pv->res->apps = r.count;
	pv->res->apps_installed = r.installed;
	if (rc == WG_OK)
		snprintf(pv->summary, sizeof(pv->summary), "%u of %u "
		    "installed", r.installed, r.count);
	return rc;
}

static enum wg_err
run_reseal(struct prov *pv)
{
	struct reseal_result r;
	enum wg_err rc;

	rc = reseal_run(&pv->p, &r, pv->why, sizeof(pv->why));
	if (rc == WG_OK)
		snprintf(pv->summary, sizeof(pv->summary), "ticket until %s",
		    r.expires_at);
	return rc;
}

static enum wg_err (*const step_fns[PROVISION_STEP_MAX])(struct prov *) = {
	run_profile, run_attest, run_join, run_mdm, run_apps, run_reseal,
};

/* One step: skipped when done before, else run, timed and recorded. */
static enum wg_err
step(struct prov *pv, enum provision_step s)
{
	enum esp_row row = step_rows[s];
	json_int_t ms = 0;
	enum wg_err rc, src;

	if (step_done_before(pv, s)) {
		json_unpack(step_record(pv, s), "{s:I}", "ElapsedMs", &ms);
		esp_set_earlier(pv->esp, row, ms);
		pv->res->resumed++;
		return WG_OK;
	}
	esp_set(pv->esp, row, ESP_WORKING);
	if ((rc = step_mark(pv, s, "working", 0, WG_OK)) != WG_OK)
		return rc;
	pv->summary[0] = '\0';
	rc = agent_phase_code(step_fns[s](pv), pv->why, sizeof(pv->why));
	esp_finish(pv->esp, row, rc == WG_OK ? ESP_DONE : ESP_FAILED,
	    pv->summary[0] ? pv->summary : NULL);
	if (s == PROVISION_PROFILE)
		profile_facts(pv);
	src = step_mark(pv, s, rc == WG_OK ? "done" : "failed",
	    esp_elapsed(pv->esp, row), rc);
	if (rc != WG_OK) {
		prov_event(pv, PROVISION_EVT_STEP_FAILED, WG_LEVEL_ERROR, rc,
		    s, "provisioning stopped at step %s: %s",
		    step_names[s], pv->why);
		return rc;
	}
	prov_event(pv, PROVISION_EVT_STEP_DONE, WG_LEVEL_INFO, WG_OK,
	    s, "step %s done in %lld ms", step_names[s],
	    (long long)esp_elapsed(pv->esp, row));
	return src;
}

/* The green screen's words. */
static void
green(struct prov *pv)
{
	char l1[384], l2[256];
	const char *lines[5];

	file_string(pv, JOIN_FILE, "DisplayName", pv->display_name,
	    sizeof(pv->display_name));
	file_string(pv, RESEAL_FILE, "ExpiresAt", pv->expires,
	    sizeof(pv->expires));
	snprintf(l1, sizeof(l1), "Device %s of %s is ready for its user.",
	    pv->display_name, pv->tenant);
	snprintf(l2, sizeof(l2), "The ticket for the user's sign-in is "
	    "valid until %s.", pv->expires);
	lines[0] = "";
	lines[1] = "Pre-provisioning is complete: the device is resealed.";
	lines[2] = l1;
	lines[3] = l2;
	lines[4] = "Turn it off and ship it.";
	esp_green(pv->esp, lines, 5);
}

enum wg_err
provision_run(const struct provision_opts *o, struct provision_result *res)
{
	struct prov pv = { .o = o, .p = o->a.p, .res = res };
	enum provision_step s;
	enum wg_err rc;

	memset(res, 0, sizeof(*res));
	res->failed_step = PROVISION_STEP_MAX;
	pv.esp_timeout_ms = provision_esp_timeout_ms(NULL);
	if ((rc = agent_state_dir(pv.p.state_dir, pv.why, sizeof(pv.why))) !=
	    WG_OK) {
		fprintf(stderr, "whiteglove-agent provision: %s\n", pv.why);
		return rc;
	}
	state_load(&pv);
	pv.p.request_key = pv.key;
	profile_facts(&pv);
	pv.esp = esp_new(stdout, o->redraw, ESP_LAYOUT_DEVICE,
	    "Setting up your device for work");
	prov_event(&pv, PROVISION_EVT_STARTED, WG_LEVEL_INFO, WG_OK,
	    PROVISION_STEP_MAX, "provisioning %s (request key %s)",
	    json_object_size(json_object_get(pv.state, "Steps")) ? "resumed" :
	    "started", pv.key);
	rc = state_save(&pv);
	for (s = 0; rc == WG_OK && s < PROVISION_STEP_MAX; s++)
		if ((rc = step(&pv, s)) != WG_OK)
			res->failed_step = s;
	if (rc == WG_OK) {
		prov_event(&pv, PROVISION_EVT_RESEALED, WG_LEVEL_INFO, WG_OK,
		    PROVISION_STEP_MAX, "the device is resealed");
		green(&pv);
	} else {
		esp_failure(pv.esp, rc, pv.why, pv.p.state_dir, NULL);
	}
	/* the run's events, its own last ones too, to the server at once */
	devtoken_upload_shared(&pv.p);
	esp_free(pv.esp);
	json_decref(pv.state);
	return rc;
}
