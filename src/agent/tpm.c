/*
 * The device's TPM through tpm2-tss: the one file that calls ESAPI, the
 * TCTI loader, MU and RC decoding.  See tpm.h for the contract.
 *
 * EK templates and handles follow the TCG EK Credential Profile for TPM
 * Family 2.0, version 2.x, section 2.2.1 (templates L-1 and L-2, NV
 * indices 0x01C00002..0x01C0000C, persistent handles 0x81010001/2).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "agent/tpm.h"
#include "agent/tpm_int.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/tpmpub.h"

#define EK_RSA_HANDLE 0x81010001u
#define EK_ECC_HANDLE 0x81010002u
#define EK_RSA_NONCE_NV 0x01C00003u
#define EK_RSA_TEMPLATE_NV 0x01C00004u
#define EK_ECC_NONCE_NV 0x01C0000Bu
#define EK_ECC_TEMPLATE_NV 0x01C0000Cu

#define NV_TEMPLATE_MAX 1024 /* a marshalled TPMT_PUBLIC is far smaller */
#define NV_READ_CHUNK 512    /* every TPM reads at least this much at once */
#define CAP_LOOPS_MAX 8	     /* a TPM that keeps saying "more" is broken */

/*
 * What every EK template (low and high range) sets; L-1 and L-2 set
 * exactly these, the high range adds userWithAuth.
 */
#define EK_ATTRS_REQUIRED                                               \
	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |               \
	    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY | \
	    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)

/* The handles and NV indices of one EK algorithm. */
struct ek_slots {
	TPMI_ALG_PUBLIC type;
	TPM2_HANDLE persistent;
	TPM2_HANDLE template_nv;
	TPM2_HANDLE nonce_nv;
	size_t nonce_max; /* bytes of the unique field the nonce fills */
};

static const struct ek_slots ek_slots[TPM_EK_ALG_MAX] = {
	[TPM_EK_RSA] = { TPM2_ALG_RSA, EK_RSA_HANDLE, EK_RSA_TEMPLATE_NV,
	    EK_RSA_NONCE_NV, 256 },
	[TPM_EK_ECC] = { TPM2_ALG_ECC, EK_ECC_HANDLE, EK_ECC_TEMPLATE_NV,
	    EK_ECC_NONCE_NV, 32 },
};

/* PolicySecret(TPM_RH_ENDORSEMENT): the EK's authPolicy in L-1 and L-2. */
static const unsigned char ek_policy_a[32] = {
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC,
	0x8D, 0x46, 0xA5, 0xD7, 0x24, 0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52,
	0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA,
};

enum wg_err
tpm_fail(enum wg_err err, const char *fmt, ...)
{
	char msg[1024], code[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wg_err_code_str(err, code, sizeof(code));
	wg_error("%s %s: %s", code, wg_err_name(err), msg);
	return err;
}

TSS2_RC
tpm_rc_code(TSS2_RC rc)
{
	TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
	TSS2_RC base = rc & ~TSS2_RC_LAYER_MASK;

	if (layer != TSS2_TPM_RC_LAYER && layer != TSS2_RESMGR_TPM_RC_LAYER)
		return 0;
	if (base & TPM2_RC_FMT1)
		base &= TPM2_RC_FMT1 | 0x3F; /* drop handle/param numbers */
	return base;
}

/*
 * The catalog code for a TSS2_RC: the TCTI layer (or a lost connection
 * anywhere) means the TPM cannot be reached; the TPM's own authorization
 * failures are TPM_AUTH; everything else is TPM_ERROR.
 */
static enum wg_err
tpm_rc_err(TSS2_RC rc)
{
	TSS2_RC code = tpm_rc_code(rc);
	TSS2_RC base = rc & ~TSS2_RC_LAYER_MASK;

	if (code == 0) {
		if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER ||
		    base == TSS2_BASE_RC_NO_CONNECTION ||
		    base == TSS2_BASE_RC_IO_ERROR)
			return WG_E_TPM_UNAVAILABLE;
		return WG_E_TPM_ERROR;
	}
	if (code == TPM2_RC_AUTH_FAIL || code == TPM2_RC_BAD_AUTH ||
	    code == TPM2_RC_LOCKOUT)
		return WG_E_TPM_AUTH;
	return WG_E_TPM_ERROR;
}

enum wg_err
tpm_rc_as(enum wg_err err, TSS2_RC rc, const char *what)
{
	return tpm_fail(err, "TPM %s failed: %s (TSS2_RC 0x%08x)", what,
	    Tss2_RC_Decode(rc), (unsigned)rc);
}

enum wg_err
tpm_rc(TSS2_RC rc, const char *what)
{
	return tpm_rc_as(tpm_rc_err(rc), rc, what);
}

enum wg_err
tpm_flush(struct tpm_ctx *ctx, ESYS_TR *tr, const char *what,
    enum wg_err err)
{
	char msg[64];
	TSS2_RC rc;

	if (*tr == ESYS_TR_NONE)
		return err;
	if ((rc = Esys_FlushContext(ctx->esys, *tr)) != TSS2_RC_SUCCESS) {
		/* ESAPI keeps the handle's metadata when the TPM refuses. */
		Esys_TR_Close(ctx->esys, tr);
		snprintf(msg, sizeof(msg), "FlushContext(%s)", what);
		if (err == WG_OK)
			err = tpm_rc(rc, msg);
		else
			(void)tpm_rc(rc, msg);
	}
	*tr = ESYS_TR_NONE;
	return err;
}

/* tpm_int.h */
enum wg_err
tpm_salted_session_start(struct tpm_ctx *ctx, ESYS_TR salt, TPM2_SE type,
    TPMA_SESSION attrs, const char *what, ESYS_TR *session)
{
	static const TPMT_SYM_DEF aes128cfb = { .algorithm = TPM2_ALG_AES,
		.keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB };
	char msg[96];
	TSS2_RC rc;

	if ((rc = Esys_StartAuthSession(ctx->esys, salt, ESYS_TR_NONE,
	    ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, type, &aes128cfb,
	    TPM2_ALG_SHA256, session)) != TSS2_RC_SUCCESS) {
		*session = ESYS_TR_NONE;
		snprintf(msg, sizeof(msg), "StartAuthSession(%s)", what);
		return tpm_rc(rc, msg);
	}
	if ((rc = Esys_TRSess_SetAttributes(ctx->esys, *session,
	    TPMA_SESSION_CONTINUESESSION | attrs, 0xFF)) != TSS2_RC_SUCCESS) {
		snprintf(msg, sizeof(msg), "setting the attributes of the %s",
		    what);
		return tpm_flush(ctx, session, what, tpm_rc(rc, msg));
	}
	return WG_OK;
}

const char *
tpm_tcti_default(void)
{
	const char *s = getenv(TPM_TCTI_ENV);

	return s != NULL && *s != '\0' ? s : TPM_TCTI_DEFAULT;
}

/* tpm_share()'s: the open context the next tpm_open of tcti gets. */
static struct {
	int on;
	struct tpm_ctx *ctx;
	char tcti[TPM_TCTI_MAX + 1];
} kept;

static void
kept_close(void)
{
	struct tpm_ctx *ctx = kept.ctx;

	kept.ctx = NULL;
	kept.on = 0;
	tpm_close(ctx);
}

void
tpm_share(void)
{
	if (!kept.on)
		atexit(kept_close);
	kept.on = 1;
}

enum wg_err
tpm_open(const char *tcti, struct tpm_ctx **out)
{
	struct tpm_ctx *ctx;
	TSS2_RC rc;
	enum wg_err err;

	*out = NULL;
	if (tcti == NULL)
		tcti = tpm_tcti_default();
	if (strlen(tcti) > TPM_TCTI_MAX || !wg_str_printable(tcti))
		return tpm_fail(WG_E_CONFIG, "the TCTI string is longer than "
		    "%d bytes or not printable", TPM_TCTI_MAX);
	if (kept.ctx != NULL && strcmp(kept.tcti, tcti) == 0) {
		*out = kept.ctx;
		return WG_OK;
	}
	/* One report per failure, ours; TSS2_LOG=all+debug brings theirs. */
	if (setenv("TSS2_LOG", "all+none", 0) != 0)
		return tpm_fail(WG_E_INTERNAL, "setenv TSS2_LOG failed");
	ctx = xcalloc(1, sizeof(*ctx));
	if ((rc = Tss2_TctiLdr_Initialize(tcti, &ctx->tcti)) !=
	    TSS2_RC_SUCCESS) {
		err = tpm_fail(WG_E_TPM_UNAVAILABLE, "cannot open the TPM at "
		    "'%s': %s (TSS2_RC 0x%08x)", tcti, Tss2_RC_Decode(rc),
		    (unsigned)rc);
		goto fail;
	}
	if ((rc = Esys_Initialize(&ctx->esys, ctx->tcti, NULL)) !=
	    TSS2_RC_SUCCESS) {
		err = tpm_rc(rc, "Esys_Initialize");
		goto fail;
	}
	*out = ctx;
	if (kept.on && kept.ctx == NULL) {
		kept.ctx = ctx;
		snprintf(kept.tcti, sizeof(kept.tcti), "%s", tcti);
	}
	return WG_OK;
fail:
	tpm_close(ctx);
	return err;
}

void
tpm_close(struct tpm_ctx *ctx)
{
	int i;

	if (ctx == NULL || (ctx == kept.ctx && kept.on))
		return; /* kept for the next phase; closed at exit */
	for (i = 0; i < TPM_EK_ALG_MAX; i++) {
		Esys_Free(ctx->ek_saved[i]);
		Esys_Free(ctx->ek_saved_pub[i]);
	}
	Esys_Free(ctx->srk_saved);
	if (ctx->esys != NULL)
		Esys_Finalize(&ctx->esys);
	if (ctx->tcti != NULL)
		Tss2_TctiLdr_Finalize(&ctx->tcti);
	free(ctx);
}

/* Stores one fixed property in out; 1 if it was TPM_PT_MANUFACTURER. */
static int
info_property(struct tpm_info *out, uint32_t vendor[4],
    const TPMS_TAGGED_PROPERTY *p)
{
	switch (p->property) {
	case TPM2_PT_LEVEL:
		out->spec_level = p->value;
		break;
	case TPM2_PT_REVISION:
		out->spec_revision = p->value;
		break;
	case TPM2_PT_MANUFACTURER:
		out->manufacturer = p->value;
		return 1;
	case TPM2_PT_VENDOR_STRING_1:
	case TPM2_PT_VENDOR_STRING_2:
	case TPM2_PT_VENDOR_STRING_3:
	case TPM2_PT_VENDOR_STRING_4:
		vendor[p->property - TPM2_PT_VENDOR_STRING_1] = p->value;
		break;
	case TPM2_PT_FIRMWARE_VERSION_1:
		out->firmware |= (uint64_t)p->value << 32;
		break;
	case TPM2_PT_FIRMWARE_VERSION_2:
		out->firmware |= p->value;
		break;
	default:
		break;
	}
	return 0;
}

enum wg_err
tpm_info_read(struct tpm_ctx *ctx, struct tpm_info *out)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more = TPM2_YES;
	TPM2_PT next = TPM2_PT_FIXED;
	const TPML_TAGGED_TPM_PROPERTY *props;
	uint32_t i, vendor[4] = { 0 };
	int loops, have_manufacturer = 0;
	TSS2_RC rc;

	memset(out, 0, sizeof(*out));
	for (loops = 0; more && next <= TPM2_PT_FIRMWARE_VERSION_2 &&
	    loops < CAP_LOOPS_MAX; loops++) {
		if ((rc = Esys_GetCapability(ctx->esys, ESYS_TR_NONE,
		    ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES, next,
		    TPM2_MAX_TPM_PROPERTIES, &more, &cap)) != TSS2_RC_SUCCESS)
			return tpm_rc(rc, "GetCapability(TPM_PROPERTIES)");
		props = &cap->data.tpmProperties;
		for (i = 0; i < props->count && i < TPM2_MAX_TPM_PROPERTIES;
		    i++)
			have_manufacturer |= info_property(out, vendor,
			    &props->tpmProperty[i]);
		if (props->count == 0 || props->tpmProperty[props->count -
		    1].property < next)
			more = TPM2_NO;
		else
			next = props->tpmProperty[props->count - 1].property + 1;
		Esys_Free(cap);
		cap = NULL;
	}
	tpm_words_text(vendor, 4, out->vendor);
	if (!have_manufacturer)
		return tpm_fail(WG_E_TPM_ERROR, "the TPM did not report "
		    "TPM_PT_MANUFACTURER");
	return WG_OK;
}

/* *present = 1 if handle (persistent object or NV index) exists. */
static enum wg_err
handle_present(struct tpm_ctx *ctx, TPM2_HANDLE handle, int *present)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	TSS2_RC rc;

	*present = 0;
	if ((rc = Esys_GetCapability(ctx->esys, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, TPM2_CAP_HANDLES, handle, 1, &more, &cap)) !=
	    TSS2_RC_SUCCESS)
		return tpm_rc(rc, "GetCapability(HANDLES)");
	*present = cap->data.handles.count > 0 &&
	    cap->data.handles.handle[0] == handle;
	Esys_Free(cap);
	return WG_OK;
}

/* The TCG default template L-1 (RSA 2048) or L-2 (ECC NIST P-256). */
static void
ek_template_default(enum tpm_ek_alg alg, TPM2B_PUBLIC *t)
{
	TPMT_PUBLIC *p = &t->publicArea;

	memset(t, 0, sizeof(*t));
	p->type = ek_slots[alg].type;
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = EK_ATTRS_REQUIRED;
	p->authPolicy.size = sizeof(ek_policy_a);
	memcpy(p->authPolicy.buffer, ek_policy_a, sizeof(ek_policy_a));
	if (alg == TPM_EK_RSA) {
		p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
		p->parameters.rsaDetail.symmetric.keyBits.aes = 128;
		p->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		p->parameters.rsaDetail.keyBits = 2048;
		p->parameters.rsaDetail.exponent = 0;
		p->unique.rsa.size = 256; /* zeros */
	} else {
		p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
		p->parameters.eccDetail.symmetric.keyBits.aes = 128;
		p->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
		p->unique.ecc.x.size = 32; /* zeros */
		p->unique.ecc.y.size = 32;
	}
}

/*
 * 1 if p can be an EK of alg: its type and size, the attributes every EK
 * template sets, an authPolicy (an SRK or other storage key has none).
 */
static int
ek_looks_valid(enum tpm_ek_alg alg, const TPMT_PUBLIC *p)
{
	if (p->type != ek_slots[alg].type || p->nameAlg != TPM2_ALG_SHA256 ||
	    (p->objectAttributes & EK_ATTRS_REQUIRED) != EK_ATTRS_REQUIRED ||
	    (p->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) != 0 ||
	    p->authPolicy.size == 0)
		return 0;
	if (alg == TPM_EK_RSA)
		return p->parameters.rsaDetail.keyBits == 2048;
	return p->parameters.eccDetail.curveID == TPM2_ECC_NIST_P256;
}

/*
 * The persistent EK of alg, if its handle holds one: ek->tr (an ESAPI
 * handle the caller closes) and ek->pub; both left empty when there is
 * none or the handle holds a key that is not an EK (then it is ignored,
 * with a warning).
 */
static enum wg_err
ek_persistent_open(struct tpm_ctx *ctx, enum tpm_ek_alg alg,
    struct tpm_ek *ek)
{
	TPM2_HANDLE h = ek_slots[alg].persistent;
	enum wg_err err;
	int present;
	TSS2_RC rc;

	if ((err = handle_present(ctx, h, &present)) != WG_OK || !present)
		return err;
	if ((rc = Esys_TR_FromTPMPublic(ctx->esys, h, ESYS_TR_NONE,
	    ESYS_TR_NONE, ESYS_TR_NONE, &ek->tr)) != TSS2_RC_SUCCESS ||
	    (rc = Esys_ReadPublic(ctx->esys, ek->tr, ESYS_TR_NONE,
	    ESYS_TR_NONE, ESYS_TR_NONE, &ek->pub, NULL, NULL)) !=
	    TSS2_RC_SUCCESS)
		err = tpm_rc(rc, "ReadPublic(persistent EK)");
	else if (!ek_looks_valid(alg, &ek->pub->publicArea))
		wg_warn("TPM: the key at 0x%08x is not an %s endorsement key "
		    "(EK attributes and policy); creating the EK instead",
		    (unsigned)h, tpm_ek_alg_name(alg));
	else
		return WG_OK;
	Esys_Free(ek->pub);
	ek->pub = NULL;
	if (ek->tr != ESYS_TR_NONE)
		Esys_TR_Close(ctx->esys, &ek->tr);
	return err;
}

/* Reads size bytes of NV index tr (handle index) into buf, in chunks. */
static enum wg_err
nv_read_chunks(struct tpm_ctx *ctx, ESYS_TR auth, ESYS_TR tr,
    TPM2_HANDLE index, unsigned char *buf, size_t size)
{
	TPM2B_MAX_NV_BUFFER *data = NULL;
	size_t off;
	uint16_t n;
	TSS2_RC rc;

	for (off = 0; off < size; off += n) {
		n = (uint16_t)(size - off < NV_READ_CHUNK ? size - off :
		    NV_READ_CHUNK);
		if ((rc = Esys_NV_Read(ctx->esys, auth, tr, ESYS_TR_PASSWORD,
		    ESYS_TR_NONE, ESYS_TR_NONE, n, (uint16_t)off, &data)) !=
		    TSS2_RC_SUCCESS)
			return tpm_rc(rc, "NV_Read");
		if (data->size != n) {
			Esys_Free(data);
			return tpm_fail(WG_E_TPM_ERROR, "NV_Read of 0x%08x "
			    "returned a short read", (unsigned)index);
		}
		memcpy(buf + off, data->buffer, n);
		Esys_Free(data);
		data = NULL;
	}
	return WG_OK;
}

enum wg_err
tpm_nv_read_all(struct tpm_ctx *ctx, TPM2_HANDLE index, size_t max,
    unsigned char **buf, size_t *len)
{
	TPM2B_NV_PUBLIC *pub = NULL;
	ESYS_TR tr = ESYS_TR_NONE, auth;
	enum wg_err err;
	int present;
	size_t size;
	TSS2_RC rc;

	*buf = NULL;
	*len = 0;
	if ((err = handle_present(ctx, index, &present)) != WG_OK || !present)
		return err;
	if ((rc = Esys_TR_FromTPMPublic(ctx->esys, index, ESYS_TR_NONE,
	    ESYS_TR_NONE, ESYS_TR_NONE, &tr)) != TSS2_RC_SUCCESS ||
	    (rc = Esys_NV_ReadPublic(ctx->esys, tr, ESYS_TR_NONE,
	    ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL)) != TSS2_RC_SUCCESS) {
		err = tpm_rc(rc, "NV_ReadPublic");
		goto done;
	}
	if (!(pub->nvPublic.attributes & TPMA_NV_WRITTEN))
		goto done; /* defined but never written: not populated */
	size = pub->nvPublic.dataSize;
	auth = pub->nvPublic.attributes & TPMA_NV_AUTHREAD ? tr :
	    pub->nvPublic.attributes & TPMA_NV_OWNERREAD ? ESYS_TR_RH_OWNER :
	    ESYS_TR_NONE;
	if (size > max)
		err = tpm_fail(WG_E_TPM_ERROR, "NV index 0x%08x holds %zu "
		    "bytes; at most %zu expected", (unsigned)index, size, max);
	else if (auth == ESYS_TR_NONE)
		err = tpm_fail(WG_E_TPM_ERROR, "NV index 0x%08x can be read "
		    "only with platform authorization", (unsigned)index);
	else {
		*buf = xmalloc(size > 0 ? size : 1);
		if ((err = nv_read_chunks(ctx, auth, tr, index, *buf, size)) ==
		    WG_OK)
			*len = size;
	}
done:
	if (err != WG_OK) {
		free(*buf);
		*buf = NULL;
	}
	Esys_Free(pub);
	if (tr != ESYS_TR_NONE)
		Esys_TR_Close(ctx->esys, &tr);
	return err;
}

/*
 * Puts the EK nonce into the template's unique field, zero-padded to the
 * key size (EK Credential Profile 2.2.1.5: 256 bytes RSA, 32 bytes ECC x;
 * y stays 32 zero bytes).
 */
static enum wg_err
ek_template_nonce(enum tpm_ek_alg alg, TPMT_PUBLIC *p,
    const unsigned char *nonce, size_t len)
{
	if (len > ek_slots[alg].nonce_max)
		return tpm_fail(WG_E_TPM_ERROR, "the EK nonce in NV 0x%08x is "
		    "%zu bytes; at most %zu allowed",
		    (unsigned)ek_slots[alg].nonce_nv, len,
		    ek_slots[alg].nonce_max);
	if (alg == TPM_EK_RSA) {
		memset(&p->unique.rsa, 0, sizeof(p->unique.rsa));
		memcpy(p->unique.rsa.buffer, nonce, len);
		p->unique.rsa.size = 256;
	} else {
		memset(&p->unique.ecc, 0, sizeof(p->unique.ecc));
		memcpy(p->unique.ecc.x.buffer, nonce, len);
		p->unique.ecc.x.size = 32;
		p->unique.ecc.y.size = 32;
	}
	return WG_OK;
}

/*
 * The EK template from NV, if the platform put one there (then the EK
 * certificate in NV belongs to the EK made from it, not from L-1/L-2, so
 * it must be honoured).  *found = 0 if there is none.  An unreadable or
 * malformed template fails rather than silently producing an EK that
 * matches no certificate.
 */
static enum wg_err
ek_template_nv(struct tpm_ctx *ctx, enum tpm_ek_alg alg, TPM2B_PUBLIC *t,
    int *found)
{
	unsigned char *tmpl = NULL, *nonce = NULL;
	size_t tlen, nlen, off = 0;
	enum wg_err err;
	TSS2_RC rc;

	*found = 0;
	memset(t, 0, sizeof(*t));
	if ((err = tpm_nv_read_all(ctx, ek_slots[alg].template_nv,
	    NV_TEMPLATE_MAX, &tmpl, &tlen)) != WG_OK || tmpl == NULL)
		goto done;
	if ((rc = Tss2_MU_TPMT_PUBLIC_Unmarshal(tmpl, tlen, &off,
	    &t->publicArea)) != TSS2_RC_SUCCESS || off != tlen) {
		err = tpm_fail(WG_E_TPM_ERROR, "the EK template in NV 0x%08x "
		    "is not a TPMT_PUBLIC: %s", (unsigned)
		    ek_slots[alg].template_nv, rc != TSS2_RC_SUCCESS ?
		    Tss2_RC_Decode(rc) : "trailing bytes");
		goto done;
	}
	if (t->publicArea.type != ek_slots[alg].type) {
		err = tpm_fail(WG_E_TPM_ERROR, "the EK template in NV 0x%08x "
		    "is not an %s key", (unsigned)ek_slots[alg].template_nv,
		    tpm_ek_alg_name(alg));
		goto done;
	}
	if ((err = tpm_nv_read_all(ctx, ek_slots[alg].nonce_nv,
	    ek_slots[alg].nonce_max, &nonce, &nlen)) != WG_OK)
		goto done;
	if (nonce != NULL &&
	    (err = ek_template_nonce(alg, &t->publicArea, nonce, nlen)) !=
	    WG_OK)
		goto done;
	*found = 1;
done:
	free(tmpl);
	free(nonce);
	return err;
}

/* Creates the EK from template t; it stays loaded (ek->created). */
static enum wg_err
ek_create(struct tpm_ctx *ctx, const TPM2B_PUBLIC *t, struct tpm_ek *ek)
{
	static const TPM2B_SENSITIVE_CREATE sensitive = { 0 };
	static const TPM2B_DATA outside = { 0 };
	static const TPML_PCR_SELECTION pcrs = { 0 };
	TSS2_RC rc;

	if ((rc = Esys_CreatePrimary(ctx->esys, ESYS_TR_RH_ENDORSEMENT,
	    ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, t,
	    &outside, &pcrs, &ek->tr, &ek->pub, NULL, NULL, NULL)) !=
	    TSS2_RC_SUCCESS) {
		ek->tr = ESYS_TR_NONE;
		return tpm_rc(rc, "CreatePrimary(EK)");
	}
	ek->created = 1;
	return WG_OK;
}

/* Keeps a created EK's context and public area on ctx, once. */
static void
ek_save(struct tpm_ctx *ctx, const struct tpm_ek *ek)
{
	TPM2B_PUBLIC *pub;
	TSS2_RC rc;

	if (ctx->ek_saved[ek->alg] != NULL || ek->pub == NULL)
		return;
	if ((rc = Esys_ContextSave(ctx->esys, ek->tr,
	    &ctx->ek_saved[ek->alg])) != TSS2_RC_SUCCESS) {
		ctx->ek_saved[ek->alg] = NULL;
		wg_debug("TPM: the EK's context was not saved (%s); it will be "
		    "created again", Tss2_RC_Decode(rc));
		return;
	}
	if ((pub = calloc(1, sizeof(*pub))) == NULL)
		abort(); /* out of memory */
	*pub = *ek->pub;
	ctx->ek_saved_pub[ek->alg] = pub;
}

/* Loads the EK saved on ctx into ek; 0 if there is none (or it is gone). */
static int
ek_saved_load(struct tpm_ctx *ctx, struct tpm_ek *ek)
{
	TSS2_RC rc;

	if (ctx->ek_saved[ek->alg] == NULL)
		return 0;
	if ((rc = Esys_ContextLoad(ctx->esys, ctx->ek_saved[ek->alg],
	    &ek->tr)) != TSS2_RC_SUCCESS) {
		/* a TPM reset drops saved contexts: create it again */
		wg_debug("TPM: the EK's saved context did not load (%s)",
		    Tss2_RC_Decode(rc));
		ek->tr = ESYS_TR_NONE;
		Esys_Free(ctx->ek_saved[ek->alg]);
		Esys_Free(ctx->ek_saved_pub[ek->alg]);
		ctx->ek_saved[ek->alg] = NULL;
		ctx->ek_saved_pub[ek->alg] = NULL;
		return 0;
	}
	if ((ek->pub = calloc(1, sizeof(*ek->pub))) == NULL)
		abort();
	*ek->pub = *ctx->ek_saved_pub[ek->alg];
	ek->created = 1;
	ek->src = "the context saved when it was created";
	return 1;
}

enum wg_err
tpm_ek_open(struct tpm_ctx *ctx, enum tpm_ek_alg alg, struct tpm_ek *ek)
{
	TPM2B_PUBLIC tmpl;
	enum wg_err err;
	int found;

	memset(ek, 0, sizeof(*ek));
	ek->tr = ESYS_TR_NONE;
	ek->src = "persistent";
	ek->alg = alg;
	if ((unsigned)alg >= TPM_EK_ALG_MAX)
		return tpm_fail(WG_E_INTERNAL, "unknown EK algorithm %d", alg);
	if (ek_saved_load(ctx, ek))
		return WG_OK;
	if ((err = ek_persistent_open(ctx, alg, ek)) != WG_OK ||
	    ek->tr != ESYS_TR_NONE)
		return err;
	if ((err = ek_template_nv(ctx, alg, &tmpl, &found)) != WG_OK)
		return err;
	ek->src = found ? "the template in NV" : "the default template";
	if (!found)
		ek_template_default(alg, &tmpl);
	return ek_create(ctx, &tmpl, ek);
}

enum wg_err
tpm_ek_close(struct tpm_ctx *ctx, struct tpm_ek *ek, enum wg_err err)
{
	if (ek->created && ek->tr != ESYS_TR_NONE)
		ek_save(ctx, ek);
	if (ek->created)
		err = tpm_flush(ctx, &ek->tr, "EK", err);
	else if (ek->tr != ESYS_TR_NONE)
		Esys_TR_Close(ctx->esys, &ek->tr);
	ek->created = 0;
	Esys_Free(ek->pub);
	ek->pub = NULL;
	return err;
}

enum wg_err
tpm_ek_public(struct tpm_ctx *ctx, enum tpm_ek_alg alg, unsigned char **out,
    size_t *outlen)
{
	unsigned char buf[sizeof(TPM2B_PUBLIC)];
	struct tpm_ek ek;
	size_t off = 0;
	enum wg_err err;
	TSS2_RC rc;

	*out = NULL;
	*outlen = 0;
	if ((err = tpm_ek_open(ctx, alg, &ek)) != WG_OK)
		return err;
	if ((rc = Tss2_MU_TPM2B_PUBLIC_Marshal(ek.pub, buf, sizeof(buf),
	    &off)) != TSS2_RC_SUCCESS)
		err = tpm_rc(rc, "marshalling the EK public");
	else
		wg_debug("TPM: %s EK from %s (%zu bytes)",
		    tpm_ek_alg_name(alg), ek.src, off);
	if ((err = tpm_ek_close(ctx, &ek, err)) == WG_OK) {
		*out = xmalloc(off);
		memcpy(*out, buf, off);
		*outlen = off;
	}
	return err;
}

int
tpm_ek_alg_parse(const char *s, enum tpm_ek_alg *out)
{
	if (strcmp(s, "rsa") == 0)
		*out = TPM_EK_RSA;
	else if (strcmp(s, "ecc") == 0)
		*out = TPM_EK_ECC;
	else
		return -1;
	return 0;
}

const char *
tpm_ek_alg_name(enum tpm_ek_alg alg)
{
	return alg == TPM_EK_ECC ? "ecc" : "rsa";
}
