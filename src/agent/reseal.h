/*
 * The reseal on the device (step 6 of the flow), the technician's last
 * step: a device token as for the join, a fresh nonce the AIK quotes (the
 * quote's clockInfo carries the TPM's resetCount and restartCount), and
 * POST /token/v1/reseal, whose answer is the one-time pre-provisioning
 * ticket, bound by the server to the join's device key.  The ticket must
 * be bound to this state directory's DK (dk.pub); it is kept in
 * STATE/ticket.json (0600, written whole with fsync) for the user's
 * phase, and STATE/reseal.json marks the device resealed (ExpiresAt,
 * ResetCount, RestartCount, BoundTo, ResealedAt).  The ticket is a
 * secret: it is in no event, log line or message.
 *
 * Events of the `autopilot` channel with the profile's correlation id:
 * 1301 resealed (its expiry and the TPM's resetCount), 1302 a try failed
 * and is made again (warning), 1303 the phase failed (with the server's
 * code for a refusal, e.g. WG_E_RESEAL_NOT_JOINED).
 *
 * A run made again after the phase ended (reseal.json and ticket.json are
 * there) sends nothing and reports the ticket it finds.  A run killed
 * after the server issued the ticket but before it was stored asks again:
 * with --request-key the server answers with the same ticket, without it
 * with a new one that replaces the first (the server keeps one unused
 * ticket per device).
 */
#ifndef WG_AGENT_RESEAL_H
#define WG_AGENT_RESEAL_H

#include <stdint.h>

#include "agent/phaseopts.h"
#include "common/errors.h"

enum {
	RESEAL_EVT_DONE = 1301,
	RESEAL_EVT_TRY_FAILED = 1302,
	RESEAL_EVT_FAILED = 1303,
};

#define RESEAL_TRIES_DEFAULT 5
#define RESEAL_PATH "/token/v1/reseal"
#define RESEAL_FILE "reseal.json"
#define RESEAL_TICKET_FILE "ticket.json"

struct reseal_result {
	char expires_at[32];	/* the ticket's ExpiresAt, RFC 3339 UTC */
	uint32_t reset_count;	/* the TPM's resetCount the server recorded,
				   as the AIK's quotes show it: obfuscated
				   by a per-key offset (TPM 2.0 part 3,
				   18.1), the AIK not being in the
				   endorsement hierarchy */
	unsigned tries;		/* of the reseal request */
	int already;		/* resealed by an earlier run: nothing sent */
};

/*
 * Runs the phase with o (o->server: the server whose tenant discovery
 * names the token endpoint; the reseal is RESEAL_PATH on it).  WG_OK at
 * once with res->already set when an earlier run resealed; else WG_OK
 * with the ticket stored and the device marked resealed; else the catalog
 * code a person reads: the server's for a refusal (WG_E_RESEAL_NOT_JOINED
 * before the join; tries end at once), the last try's when every try
 * failed on the network or on the server's trouble,
 * WG_E_RESEAL_KEY_MISMATCH when the ticket is bound to another device key
 * than dk.pub, WG_E_PROFILE_INVALID or WG_E_AIK_CERT_INVALID when an
 * earlier step's files are missing, WG_E_TPM_* from the TPM, 0x800705B4
 * without a usable TPM, WG_E_IO when a file cannot be written; why says
 * what happened (never the ticket).
 */
enum wg_err reseal_run(const struct agent_phase_opts *o,
    struct reseal_result *res, char *why, size_t whylen)
    __attribute__((warn_unused_result));

#endif
