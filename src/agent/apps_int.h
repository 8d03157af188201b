/*
 * What the apps phase (apps.c: the list, the state file, the reports, the
 * install, the flow) and its download (apps_download.c) share.  Not for
 * the rest of the agent (apps.h is).
 */
#ifndef WG_AGENT_APPS_INT_H
#define WG_AGENT_APPS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "agent/answer.h"
#include "agent/apps.h"
#include "agent/devtoken.h"
#include "common/errors.h"
#include "common/event.h"
#include "common/httpc.h"

#define APP_NAME_MAX ANSWER_APP_NAME_MAX
#define APP_COMMAND_MAX ANSWER_APP_COMMAND_MAX

enum app_state { ST_NONE, ST_IDENTIFYING, ST_DOWNLOADING, ST_INSTALLING,
	ST_INSTALLED, ST_FAILED, ST_MAX };

struct app {
	char id[37];
	char name[APP_NAME_MAX + 1];
	char sha256[65];
	uint64_t size;
	char command[APP_COMMAND_MAX + 1];
	long timeout_s;
	char url[ANSWER_ENDPOINT_MAX + 1];
	/* kept in the target's state file */
	enum app_state state;
	unsigned reported;	/* 1 << state for each the server has */
};

struct apps {
	struct devtoken d;
	const struct apps_opts *ao;
	struct apps_result *res;
	const char *const *list_query; /* the target's, of GET /mdm/v1/apps */
	const char *words;	/* "device setup" | "account setup" */
	const char *file;	/* APPS_FILE | APPS_USER_FILE */
	struct app *list;
	size_t n;
	char *dir;		/* STATE/apps */
	uint64_t max_size;
	/* the app at hand, and its download */
	struct app *cur;
	unsigned index;
	int fd;
	uint64_t got;
	EVP_MD_CTX *md;
	int64_t shown_ms;
	enum wg_err stop;	/* why the download's receiver stopped it */
	const struct wg_httpc_resp *resp; /* the download's, while it runs */
	int started;		/* the body's first bytes came */
	char *part;		/* the .part's path */
	/* a status report's body */
	const char *status_body;
	char *why;
	size_t whylen;
};

/* An event of the apps channel and s's phase; a (if not NULL) names the
   app. */
void apps_event(struct apps *s, const struct app *a, int id,
    enum wg_level level, enum wg_err err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Tells the caller's progress callback that app a (NULL: the list) is
   in state st. */
void apps_show(struct apps *s, const struct app *a, enum app_state st);

/* WG_E_ESP_TIMEOUT (doing: where, for why) once the deadline passed. */
enum wg_err apps_deadline(struct apps *s, const char *doing)
    __attribute__((warn_unused_result));

/* A device token younger than the phase's refresh age as the bearer. */
enum wg_err apps_token_fresh(struct apps *s)
    __attribute__((warn_unused_result));

/* STATE/apps/<a's sha256><suffix>; the caller frees it. */
char *apps_path(const struct apps *s, const struct app *a,
    const char *suffix);

/*
 * a's content downloaded into STATE/apps/<sha256> (resumed from its
 * .part, its SHA-256 checked), tried: WG_OK, or the app's code
 * (WG_E_APP_DOWNLOAD_FAILED, WG_E_APP_HASH_MISMATCH, WG_E_APP_TOO_LARGE,
 * WG_E_ESP_TIMEOUT) with s->why.
 */
enum wg_err apps_download(struct apps *s, struct app *a)
    __attribute__((warn_unused_result));

#endif
