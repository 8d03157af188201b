#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "corpus_file.h"

#define CORPUS_FILE_MAX 65536

char *
corpus_file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(CORPUS_FILE_MAX + 1);
	n = fread(buf, 1, CORPUS_FILE_MAX + 1, f);
	fclose(f);
	if (n > CORPUS_FILE_MAX) {
		fprintf(stderr, "%s: over %d bytes\n", path, CORPUS_FILE_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

char *
corpus_file_text(const char *rel, size_t *len)
{
	char *path = xasprintf("%s/%s", WG_CORPUS_DIR, rel);
	char *text = corpus_file_read(path, len);

	free(path);
	if (text == NULL)
		abort();
	return text;
}


unsigned char *
corpus_file_hex(const char *rel, size_t *len)
{
	size_t n, i, o = 0;
	char *text = corpus_file_text(rel, &n);
	unsigned char *out = xmalloc(n / 2 + 1);
	int hi = -1, v;

	for (i = 0; i < n; i++) {
		if (isspace((unsigned char)text[i]))
			continue;
		if ((v = wg_hex_value((unsigned char)text[i])) < 0) {
			fprintf(stderr, "%s: not hex at %zu\n", rel, i);
			abort();
		}
		if (hi < 0) {
			hi = v;
		} else {
			out[o++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	free(text);
	*len = o;
	return out;
}
