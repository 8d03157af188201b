/*
 * whiteglove-agent login: the user's sign-in on a resealed device (step 7
 * of the flow), the part of Windows' sign-in screen: the UPN and
 * password, then login.h's exchange.  The password is typed without echo
 * or read from standard input (--password-stdin); it is never an
 * argument, and is wiped after use.  After the device's first sign-in,
 * account setup (acctsetup.h): the user's apps under the ESP.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "agent/acctsetup.h"
#include "agent/agent.h"
#include "agent/esp.h"
#include "agent/join.h"
#include "agent/login.h"
#include "agent/phaseopts.h"
#include "common/errors.h"
#include "common/pwread.h"
#include "common/util.h"
#include "crypto/passwd.h"

#define TITLE "Signing in"
/* A password, a newline (\r\n) and a byte to tell "too long" by. */
#define PW_BUF (PASSWD_LEN_MAX + 3)

enum { OPT_USER = PHASE_OPT_END, OPT_PASSWORD_STDIN, OPT_RECOVER,
	OPT_SKIP_ACCOUNT_SETUP, OPT_SCREEN, OPT_MAX_APP_SIZE };

struct login_cmd {
	struct agent_phase_opts o;	/* the phase options */
	const char *user;
	int password_stdin;
	int recover;
	int skip_account_setup;
	enum esp_screen screen;
	uint64_t max_app_size;	/* account setup's, per app; 0: default */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent login --user UPN [--password-stdin] "
	    "[--recover]\n"
	    "                              --server URL [OPTIONS]\n\n"
	    "Signs the device's user in (the first sign-in after the reseal): "
	    "the\npassword, asked for on the terminal without echo, the "
	    "pre-provisioning\nticket and a quote of a fresh nonce by the AIK "
	    "go to the token service in\na request the device key signs in "
	    "the TPM.  The answer's session key is\nopened by the transport "
	    "key and sealed to the TPM; the primary refresh\ntoken and the "
	    "sealed key are kept in " LOGIN_SESSION_FILE " (0600), the "
	    "device\ncertificate is restored (" JOIN_CERT_FILE ", "
	    JOIN_CA_FILE ") and the ticket, used\nup, is deleted.  Later "
	    "sign-ins (another user, or an expired refresh\ntoken) need no "
	    "ticket.  Network failures and the server's trouble are tried\n"
	    "again up to --tries times, with one request key kept in "
	    LOGIN_KEY_FILE " so that\nan answer lost on the way is sent "
	    "again; a refusal (a wrong password, a\nlost join) is final.\n\n"
	    "After the first sign-in comes account setup, under the progress "
	    "screen: the\napps assigned to the device's users (GET "
	    "/mdm/v1/apps?target=user), each\ninstalled as device setup "
	    "installs its apps, within the profile's ESP\ntimeout.  A failed "
	    "app ends it with its code (exit 1); the sign-in stays\ndone, "
	    "and `whiteglove-agent apps --target user` finishes it.  Later "
	    "sign-ins\nskip it.\n\n"
	    "Options:\n"
	    "  --user UPN         the user, e.g. ana@contoso.com\n"
	    "  --password-stdin   read the password from standard input (one "
	    "trailing\n                     newline is dropped) instead of "
	    "asking on the terminal\n"
	    "  --recover          recover a lost join (the device was started "
	    "too often\n                     since its reseal, or its ticket "
	    "expired), where the\n                     tenant allows it\n"
	    "  --skip-account-setup\n"
	    "                     sign in only: no user apps after the first "
	    "sign-in\n"
	    "  --max-app-size N   refuse a user app bigger than N bytes "
	    "(default 4 GiB)\n"
	    ESP_SCREEN_USAGE);
	agent_phase_usage(f, "the server whose discovery document names the "
	    "token\n                     service, e.g. https://host:8443",
	    LOGIN_TRIES_DEFAULT);
}

/* Applies one option; returns an exit code, or -1 to go on. */
static int
login_option(void *opts, int ch, const char *arg)
{
	struct login_cmd *c = opts;

	switch (ch) {
	case OPT_USER:
		if (strlen(arg) > LOGIN_UPN_MAX || !wg_str_printable(arg) ||
		    strchr(arg, '@') == NULL)
			return agent_usage_error("login", usage, "--user is a "
			    "UPN (name@domain) of at most %d bytes",
			    LOGIN_UPN_MAX);
		c->user = arg;
		return -1;
	case OPT_PASSWORD_STDIN:
		c->password_stdin = 1;
		return -1;
	case OPT_RECOVER:
		c->recover = 1;
		return -1;
	case OPT_SKIP_ACCOUNT_SETUP:
		c->skip_account_setup = 1;
		return -1;
	case OPT_SCREEN:
		if (esp_screen_parse(arg, &c->screen) != 0)
			return agent_usage_error("login", usage, "--screen "
			    "must be auto, redraw or lines");
		return -1;
	case OPT_MAX_APP_SIZE:
		if (agent_size_parse(arg, &c->max_app_size) != 0)
			return agent_usage_error("login", usage, "--max-app-size "
			    "must be a number of bytes above 0");
		return -1;
	default:
		return agent_phase_only_option(&c->o, ch, arg, "login", usage);
	}
}

/* Account setup after the first sign-in, which took signin_ms. */
static int
account_setup(const struct login_cmd *c, const struct login_result *res,
    int64_t signin_ms)
{
	struct acctsetup_opts ao = { .upn = res->upn, .signin_ms = signin_ms,
	    .max_app_size = c->max_app_size };
	struct apps_result apps;

	putchar('\n');
	fflush(stdout);
	ao.redraw = esp_screen_redraw(c->screen, stdout);
	return acctsetup_run(&c->o, &ao, &apps) == WG_OK ? AGENT_EXIT_OK :
	    AGENT_EXIT_FAIL;
}

/*
 * The sign-in with the password read: what a person sees.  *res and
 * *ms: its result and how long it took.
 */
static int
login_with(const struct login_cmd *c, const char *pw, size_t n,
    struct login_result *res, int64_t *ms)
{
	const struct agent_phase_opts *o = &c->o;
	char why[1024], see[1024];
	int64_t t0 = wg_mono_ms();
	enum wg_err rc;

	printf(TITLE " as %s (%s)...\n", c->user, o->server);
	fflush(stdout);
	rc = login_run(o, c->user, pw, n, c->recover, res, why, sizeof(why));
	*ms = wg_mono_ms() - t0;
	if (rc == WG_OK) {
		printf("  Signed in as %s%s\n  Owner: %s\n  Device %s, "
		    "certificate %s\n", res->upn, res->later ? " (a later "
		    "sign-in: the device's owner stays)" : "", res->owner,
		    res->device_id, res->thumbprint);
		if (!res->later)
			printf("  Boots since reseal: %lld%s\n",
			    (long long)res->boots, res->recovered ? " (the "
			    "lost join was recovered)" : "");
		printf("  Session key (%s) sealed to the TPM; refresh token "
		    "valid until %s\n" TITLE ": done\n",
		    signin_wrap_name(res->wrap), res->prt_expires_at);
		return AGENT_EXIT_OK;
	}
	snprintf(see, sizeof(see), "%s/events/" LOGIN_CHANNEL ".jsonl",
	    o->state_dir);
	return agent_phase_failed(TITLE, "login", rc, why, see);
}

/* The phase with its options settled. */
static int
login_main(void *opts)
{
	const struct login_cmd *c = opts;
	struct login_result res;
	char pw[PW_BUF];
	const char *bad;
	int64_t ms;
	size_t n = 0;
	int ret;

	if (c->o.server == NULL)
		return agent_usage_error("login", usage, "--server is needed");
	if (c->user == NULL)
		return agent_usage_error("login", usage, "--user is needed");
	if ((bad = pwread(c->password_stdin, "Password: ", pw, sizeof(pw),
	    &n)) == NULL && (n == 0 || n > PASSWD_LEN_MAX || strlen(pw) != n))
		bad = "the password must be 1 to 256 bytes of text";
	if (bad != NULL) {
		OPENSSL_cleanse(pw, sizeof(pw));
		fprintf(stderr, "whiteglove-agent login: %s\n", bad);
		return AGENT_EXIT_FAIL;
	}
	ret = login_with(c, pw, n, &res, &ms);
	OPENSSL_cleanse(pw, sizeof(pw)); /* not kept through account setup */
	if (ret != AGENT_EXIT_OK || res.later || c->skip_account_setup)
		return ret;
	return account_setup(c, &res, ms);
}

int
cmd_login(int argc, char **argv)
{
	static const struct option longopts[] = {
		PHASE_LONGOPTS,
		{ "user", required_argument, NULL, OPT_USER },
		{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
		{ "recover", no_argument, NULL, OPT_RECOVER },
		{ "skip-account-setup", no_argument, NULL,
		    OPT_SKIP_ACCOUNT_SETUP },
		{ "screen", required_argument, NULL, OPT_SCREEN },
		{ "max-app-size", required_argument, NULL, OPT_MAX_APP_SIZE },
		{ NULL, 0, NULL, 0 },
	};
	struct login_cmd c = { 0 };

	agent_phase_defaults(&c.o, LOGIN_TRIES_DEFAULT);
	return agent_phase_cmd(argc, argv, "login", longopts, login_option,
	    usage, &c, login_main);
}
