/*
 * The story a diagnostics bundle's event channels tell
 * (`whiteglove diag timeline`): the events in time order, each phase of
 * the flow with its start, end and duration, every error and warning,
 * and the first failure: the first error no later success of its phase
 * made good, with the try behind it, and the failure class it belongs
 * to among those the field reports (docs/flow.md, "Diagnostics bundle";
 * the walk-through of shared/reference).  Events are parsed by
 * wg_event_parse(), strictly; a line that is not one is counted, not
 * used.
 */
#ifndef WG_TIMELINE_H
#define WG_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"
#include "common/event.h"

#define TIMELINE_EVENTS_MAX 100000 /* events kept; the rest are counted */

/* The failure classes a person recognises (timeline_class_name()). */
enum timeline_class {
	TIMELINE_CLASS_NONE,		/* no failure */
	TIMELINE_CLASS_EKCERT_UNREACHABLE,
	TIMELINE_CLASS_EKCERT_MISSING,
	TIMELINE_CLASS_GETCACAPS_404,
	TIMELINE_CLASS_GETCACAPS_400,
	TIMELINE_CLASS_ATTESTATION_TIMEOUT,
	TIMELINE_CLASS_ATTESTATION_RETRIES,
	TIMELINE_CLASS_TPM_REVOKED,
	TIMELINE_CLASS_NOT_REGISTERED,
	TIMELINE_CLASS_OTHER_TENANT,
	TIMELINE_CLASS_ALREADY_ENROLLED,
	TIMELINE_CLASS_DEVICE_DELETED,
	TIMELINE_CLASS_APP_INSTALL,
	TIMELINE_CLASS_APP_DOWNLOAD,
	TIMELINE_CLASS_ESP_TIMEOUT,
	TIMELINE_CLASS_DNS,
	TIMELINE_CLASS_UNREACHABLE,
	TIMELINE_CLASS_CLOCK_SKEW,
	TIMELINE_CLASS_LOST_JOIN,
	TIMELINE_CLASS_OTHER,		/* a failure of no class above */
	TIMELINE_CLASS_MAX
};

/* One phase of the flow, as its events show it. */
struct timeline_phase {
	enum wg_phase phase;
	int64_t start_ms;	/* its first event */
	int64_t end_ms;		/* its last event */
	size_t events;
	size_t errors;
	size_t warnings;
	int done;		/* a success event of the phase was seen */
	int failed;		/* the first failure is in it */
};

struct timeline {
	struct wg_event **events;	/* time order (ties: as added) */
	size_t nevents;
	size_t skipped;		/* lines that are not events */
	char skipped_why[192];	/* the first one's reason */
	size_t dropped;		/* events past TIMELINE_EVENTS_MAX */
	struct timeline_phase phases[WG_PHASE_MAX]; /* by start */
	size_t nphases;
	const struct wg_event *failure;	/* the first failure, or NULL */
	const struct wg_event *cause;	/* the failed try behind it, or NULL */
	const struct wg_event *context;	/* an earlier event that explains
					   the class (EK service), or NULL */
	enum timeline_class cls;
	int64_t clock_back_ms;	/* the most a channel's time went back */
};

/* A new, empty timeline; the caller frees it with timeline_free(). */
struct timeline *timeline_new(void) __attribute__((returns_nonnull));

/*
 * Adds the events of one channel's file (JSON lines; text need not end
 * with a NUL).  Lines that are not events (a note of redaction or of a
 * cut) are counted in skipped.
 */
void timeline_add_text(struct timeline *tl, const char *text, size_t len);

/* Orders the events and finds the phases, the first failure and its
 * class.  Call once, after the last timeline_add_text(). */
void timeline_finish(struct timeline *tl);

/* 1 if ev is an error or warning the timeline lists. */
int timeline_is_issue(const struct wg_event *ev);

/* The class's short name ("device-already-enrolled"); never NULL. */
const char *timeline_class_name(enum timeline_class c);

/* The class in one plain sentence, for a person; never NULL. */
const char *timeline_class_text(enum timeline_class c);

/* Frees tl and its events; NULL is a no-op. */
void timeline_free(struct timeline *tl);

#endif
