/*
 * libFuzzer harness for the diagnostics bundle reader
 * (src/common/ustar.c) and the timeline its events make
 * (src/common/timeline.c).
 *
 * An input that starts with gzip's magic is read as it is (the gzip
 * layer fuzzed); any other is gzipped here first, so that the fuzzer's
 * bytes reach the ustar parser.  Small caps, so that small inputs reach
 * each.  Every kept member must keep ustar.h's promises (a checked
 * relative name, a NUL after its bytes, within the caps), and each is
 * then read as an event channel into a timeline.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "common/timeline.h"
#include "common/ustar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct ustar_limits lim = { .member_max = 4096,
	.kept_max = 16384, .archive_max = 1 << 20, .members_max = 16 };

static int
name_ok(const char *n)
{
	return n[0] != '\0' && n[0] != '/' && strstr(n, "..") != n &&
	    strstr(n, "/../") == NULL && strstr(n, "//") == NULL &&
	    (strlen(n) < 3 || strcmp(n + strlen(n) - 3, "/..") != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ustar *u = NULL;
	struct timeline *tl;
	char why[256];
	uint64_t kept = 0;
	enum wg_err rc;
	FILE *f = tmpfile();
	gzFile g;
	size_t i;

	if (f == NULL)
		abort();
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		if (size > 0 && fwrite(data, 1, size, f) != size)
			abort();
		fflush(f);
	} else {
		if ((g = gzdopen(dup(fileno(f)), "wb")) == NULL ||
		    (size > 0 && gzwrite(g, data, (unsigned)size) !=
		    (int)size) || gzclose(g) != Z_OK)
			abort();
	}
	if (lseek(fileno(f), 0, SEEK_SET) != 0)
		abort();
	rc = ustar_read_fd(fileno(f), &lim, NULL, NULL, &u, why, sizeof(why));
	fclose(f);
	if (rc != WG_OK) {
		if (u != NULL || why[0] == '\0' || (rc != WG_E_IO &&
		    rc != WG_E_BODY_TOO_LARGE))
			abort();
		return 0;
	}
	tl = timeline_new();
	for (i = 0; i < u->n; i++) {
		const struct ustar_member *m = &u->members[i];

		kept += m->len;
		if (!name_ok(m->name) || m->len > lim.member_max ||
		    m->data[m->len] != '\0' || ustar_find(u, m->name) != m)
			abort();
		timeline_add_text(tl, (const char *)m->data, m->len);
	}
	if (kept > lim.kept_max || u->n > lim.members_max)
		abort();
	timeline_finish(tl);
	if (tl->failure != NULL && tl->cls == TIMELINE_CLASS_NONE)
		abort();
	timeline_free(tl);
	ustar_free(u);
	return 0;
}
