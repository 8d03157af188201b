/*
 * whiteglove ekca register|revoke|list: the ekcert service's CA with the
 * operator key (POST /ekcertservice/register, /admin/v1/ekcerts,
 * docs/api.md).  register is the factory's step: an EK gets its
 * certificate; revoke stops it being served and attested.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define EK_PUBLIC_MAX 1024 /* a TPM2B_PUBLIC file */

struct ekca_args {
	const char *verb;
	const char *ek_public;	/* register: TPM2B_PUBLIC file */
	const char *attr[3];	/* register: manufacturer, model, version */
	const char *out;	/* register: DER certificate file */
	const char *id;		/* revoke: the EK's lookup id (--ek) */
	const char *reason;	/* revoke */
	int all;		/* list */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove ekca register --ek-public FILE "
	    "--manufacturer ID --model NAME\n"
	    "                              --version ID [-o CERT.der] "
	    "[OPTIONS]\n"
	    "       whiteglove ekca revoke --ek EK-ID --reason TEXT "
	    "[OPTIONS]\n"
	    "       whiteglove ekca list [--all] [OPTIONS]\n\n"
	    "The TPM manufacturer's EK certificate CA (the ekcert service), "
	    "with the\noperator key.  register issues the certificate of an "
	    "EK (FILE: its\nTPM2B_PUBLIC, as `tpm2_createek -u` writes it) "
	    "with the TPM's names\n(TCG EK Credential Profile: --manufacturer "
	    "id:49424D00, --version\nid:00020065); devices then fetch it from "
	    "GET /ekcertservice/EK-ID.\nrevoke makes the service stop serving "
	    "an EK and the attestation CA refuse\nit, for good (any EK, by "
	    "the EK-ID list and register print).\n\n"
	    "Options:\n"
	    "  --ek-public FILE      the EK's public area (register)\n"
	    "  --manufacturer ID     tpmManufacturer, e.g. id:49424D00\n"
	    "  --model NAME          tpmModel\n"
	    "  --version ID          tpmVersion (firmware), e.g. id:00020065\n"
	    "  -o, --out FILE        also write the certificate (DER) there\n"
	    "  --ek EK-ID            the EK to revoke (an option: an EK-ID may "
	    "start\n"
	    "                        with '-')\n"
	    "  --reason TEXT         why the EK is revoked (revoke)\n"
	    "  -a, --all             every page of the list\n"
	    CLIENTOPTS_HELP);
}

static int
ekca_register(struct wg_httpc *c, const struct clientopts *co,
    const struct ekca_args *a)
{
	unsigned char *raw, *der = NULL;
	const char *id, *cert;
	json_t *body, *ans = NULL;
	size_t len, n;
	char *b64;
	FILE *f;
	int ret;

	if ((raw = clientopts_read_file("ekca", a->ek_public, EK_PUBLIC_MAX,
	    &len)) == NULL)
		return CLI_EXIT_FAIL;
	b64 = wg_b64(raw, len);
	free(raw);
	body = json_pack("{s:s, s:s, s:s, s:s}", "ekPublic", b64,
	    "manufacturer", a->attr[0], "model", a->attr[1], "version",
	    a->attr[2]);
	free(b64);
	if (body == NULL)
		return clientopts_usage_error("ekca", usage, "the TPM names must "
		    "be UTF-8 text");
	ret = clientopts_post(c, co, "/ekcertservice/register", NULL, body,
	    &ans);
	if (ans == NULL)
		return ret;
	ret = CLI_EXIT_FAIL;
	if ((id = clientopts_field(ans, "ekId")) == NULL ||
	    (cert = clientopts_field(ans, "certificate")) == NULL)
		goto done;
	if (a->out != NULL) {
		if (wg_b64_decode_text(cert, &der, &n) != 0 ||
		    (f = fopen(a->out, "wb")) == NULL) {
			fprintf(stderr, "whiteglove ekca: cannot write %s\n",
			    a->out);
			goto done;
		}
		ret = fwrite(der, 1, n, f) == n ? CLI_EXIT_OK : CLI_EXIT_FAIL;
		if (fclose(f) != 0 || ret != CLI_EXIT_OK) {
			fprintf(stderr, "whiteglove ekca: cannot write %s\n",
			    a->out);
			ret = CLI_EXIT_FAIL;
			goto done;
		}
	}
	printf("EK certificate issued\n  EK-ID: %s\n  fetch: GET "
	    "/ekcertservice/%s\n%s%s%s", id, id, a->out ? "  written to: " :
	    "", a->out ? a->out : "", a->out ? "\n" : "");
	ret = CLI_EXIT_OK;
done:
	free(der);
	json_decref(ans);
	return ret;
}

static int
ekca_revoke(struct wg_httpc *c, const struct clientopts *co,
    const struct ekca_args *a)
{
	json_t *body = json_pack("{s:s}", "reason", a->reason), *ans = NULL;
	char *path;
	int ret;

	if (body == NULL)
		return clientopts_usage_error("ekca", usage, "the reason must "
		    "be UTF-8 text");
	path = xasprintf("/admin/v1/ekcerts/%s/revoke", a->id);
	ret = clientopts_post(c, co, path, NULL, body, &ans);
	free(path);
	if (ans == NULL)
		return ret;
	printf("EK %s revoked: it is no longer served, and the attestation "
	    "CA refuses it.\n", a->id);
	json_decref(ans);
	return CLI_EXIT_OK;
}

static int
ekca_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	static const struct clientopts_col cols[] = {
		{ "EK-ID", "ekId" },
		{ "ALG", "ekAlgorithm" },
		{ "MANUFACTURER", "manufacturer" },
		{ "MODEL", "model" },
		{ "VERSION", "version" },
		{ "REVOKED", "revokedAt" },
	};
	const struct ekca_args *a = arg;
	struct clientopts_listing l = { .path = "/admin/v1/ekcerts",
		.all = a->all, .cols = cols,
		.ncols = sizeof(cols) / sizeof(cols[0]),
		.empty_note = "No EK certificates yet; 'whiteglove ekca register' "
		"issues one.", .more_note = "More exist: add --all to list "
		"them all." };

	if (strcmp(a->verb, "register") == 0)
		return ekca_register(c, co, a);
	if (strcmp(a->verb, "revoke") == 0)
		return ekca_revoke(c, co, a);
	return clientopts_list_pages(c, co, &l);
}

int
cmd_ekca(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ek-public", required_argument, NULL, 'e' },
		{ "manufacturer", required_argument, NULL, 'm' },
		{ "model", required_argument, NULL, 'M' },
		{ "version", required_argument, NULL, 'v' },
		{ "out", required_argument, NULL, 'o' },
		{ "reason", required_argument, NULL, 'r' },
		{ "ek", required_argument, NULL, 'k' },
		{ "all", no_argument, NULL, 'a' },
		CLIENTOPTS_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct clientopts_cmd spec = { "ekca", usage, "o:a",
		longopts };
	struct ekca_args a = { 0 };
	const struct clientopts_arg args[] = {
		{ 'e', &a.ek_public, NULL },
		{ 'm', &a.attr[0], NULL },
		{ 'M', &a.attr[1], NULL },
		{ 'v', &a.attr[2], NULL },
		{ 'o', &a.out, NULL },
		{ 'r', &a.reason, NULL },
		{ 'k', &a.id, NULL },
		{ 'a', NULL, &a.all },
		{ 0, NULL, NULL },
	};
	struct clientopts co;
	int ret = CLI_EXIT_USAGE, nargs;

	if (clientopts_parse(&co, argc, argv, &spec, args, &ret) != 0)
		return ret;
	a.verb = optind < argc ? argv[optind] : "";
	nargs = argc - optind - 1;
	if (strcmp(a.verb, "register") == 0) {
		if (nargs != 0 || !a.ek_public || !a.attr[0] || !a.attr[1] ||
		    !a.attr[2])
			return clientopts_usage_error("ekca", usage, "register "
			    "needs --ek-public, --manufacturer, --model and "
			    "--version");
	} else if (strcmp(a.verb, "revoke") == 0) {
		if (nargs != 0 || a.id == NULL || a.reason == NULL)
			return clientopts_usage_error("ekca", usage, "revoke "
			    "needs --ek EK-ID and --reason");
		if (!clientopts_id_ok(a.id))
			return clientopts_usage_error("ekca", usage, "EK-ID is "
			    "the 43-character id that list shows");
	} else if (strcmp(a.verb, "list") != 0 || nargs != 0) {
		return clientopts_usage_error("ekca", usage, "give register, "
		    "revoke or list");
	}
	return clientopts_run(&co, ekca_run, &a);
}
