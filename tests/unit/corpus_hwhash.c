/*
 * corpus_hwhash: every tests/corpus/hwhash/good/NAME.b64 must parse, and
 * encoding what it gives must be stable (encode, parse, encode: the same
 * bytes); every bad/NAME.b64 must fail with a message containing each line
 * of bad/NAME.expect.  One trailing newline of a .b64 file is not part of
 * the hash.
 *
 * usage: corpus_hwhash DIR           run the corpus under DIR
 *        corpus_hwhash --print FILE  print what parsing FILE says
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "corpus_file.h"
#include "crypto/hwhash.h"

/* path's text without one trailing newline; NULL (said) if unreadable. */
static char *
read_text(const char *path, size_t *len)
{
	char *text = corpus_file_read(path, len);

	if (text != NULL && *len > 0 && text[*len - 1] == '\n')
		text[--*len] = '\0';
	if (text != NULL && *len > 0 && text[*len - 1] == '\r')
		text[--*len] = '\0';
	return text;
}

/* 0 if encoding h, parsing that and encoding again gives the same bytes. */
static int
stable(const char *path, const struct wg_hwhash *h)
{
	struct wg_hwhash *h2 = NULL;
	char *b1 = NULL, *b2 = NULL, why[300];
	int ret = -1;

	if (hwhash_encode_b64(h, &b1) != WG_OK ||
	    hwhash_parse_b64(b1, strlen(b1), &h2, why, sizeof(why)) != WG_OK ||
	    hwhash_encode_b64(h2, &b2) != WG_OK)
		fprintf(stderr, "FAIL %s: its re-encoding does not parse\n",
		    path);
	else if (strcmp(b1, b2) != 0)
		fprintf(stderr, "FAIL %s: encoding is not stable\n", path);
	else
		ret = 0;
	hwhash_free(h2);
	free(b1);
	free(b2);
	return ret;
}

static int
check_good(const char *path, const char *text, size_t len)
{
	struct wg_hwhash *h = NULL;
	char why[300];
	int ret = 1;

	if (hwhash_parse_b64(text, len, &h, why, sizeof(why)) != WG_OK)
		fprintf(stderr, "FAIL %s: a good hash was refused: %s\n", path,
		    why);
	else if (stable(path, h) == 0)
		ret = 0;
	hwhash_free(h);
	return ret;
}

/* Every line of the .expect next to path must be in the message. */
static int
check_bad(const char *path, const char *text, size_t len)
{
	struct wg_hwhash *h = NULL;
	char why[300], *epath, *expect, *line, *nl;
	size_t n, elen;
	int ret = 1;

	n = strlen(path) - 4; /* ".b64" */
	epath = xasprintf("%.*s.expect", (int)n, path);
	if ((expect = read_text(epath, &elen)) == NULL)
		goto done;
	if (hwhash_parse_b64(text, len, &h, why, sizeof(why)) == WG_OK) {
		fprintf(stderr, "FAIL %s: a bad hash was accepted\n", path);
		goto done;
	}
	if (h != NULL) {
		fprintf(stderr, "FAIL %s: failure left a result\n", path);
		goto done;
	}
	for (line = expect; *line != '\0'; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		else
			nl = line + strlen(line);
		if (*line != '\0' && strstr(why, line) == NULL) {
			fprintf(stderr, "FAIL %s: message lacks '%s':\n  %s\n",
			    path, line, why);
			goto done;
		}
	}
	ret = 0;
done:
	hwhash_free(h);
	free(expect);
	free(epath);
	return ret;
}

static int
check_file(const char *dir, const char *kind, const char *name)
{
	char *path = xasprintf("%s/%s/%s", dir, kind, name), *text;
	size_t len;
	int ret = 1;

	if ((text = read_text(path, &len)) != NULL) {
		ret = strcmp(kind, "good") == 0 ? check_good(path, text, len) :
		    check_bad(path, text, len);
		if (ret == 0)
			printf("ok   %s/%s\n", kind, name);
	}
	free(text);
	free(path);
	return ret;
}

static int
is_b64(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 4 && strcmp(e->d_name + n - 4, ".b64") == 0;
}

/* Checks DIR/KIND/\*.b64 in name order; returns the failures. */
static int
run_kind(const char *dir, const char *kind, int *files)
{
	char *path = xasprintf("%s/%s", dir, kind);
	struct dirent **names;
	int i, n, fails = 0;

	if ((n = scandir(path, &names, is_b64, alphasort)) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		free(path);
		return 1;
	}
	for (i = 0; i < n; i++) {
		fails += check_file(dir, kind, names[i]->d_name);
		free(names[i]);
	}
	*files += n;
	free(names);
	free(path);
	return fails;
}

static int
print_one(const char *path)
{
	struct wg_hwhash *h = NULL;
	char why[300], *text;
	size_t len;

	if ((text = read_text(path, &len)) == NULL)
		return 1;
	if (hwhash_parse_b64(text, len, &h, why, sizeof(why)) == WG_OK)
		printf("ok: serial %s\n", h->serial);
	else
		printf("refused: %s\n", why);
	hwhash_free(h);
	free(text);
	return 0;
}

int
main(int argc, char **argv)
{
	int fails, files = 0;

	if (argc == 3 && strcmp(argv[1], "--print") == 0)
		return print_one(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: corpus_hwhash DIR | --print FILE\n");
		return 2;
	}
	fails = run_kind(argv[1], "good", &files) +
	    run_kind(argv[1], "bad", &files);
	if (files < 2) {
		fprintf(stderr, "FAIL: no corpus files under %s\n", argv[1]);
		return 1;
	}
	printf("%d files, %d failed\n", files, fails);
	return fails != 0;
}
