/*
 * corpus_csv: reads every tests/corpus/csv/{good,bad}/NAME.csv with the
 * default limits and compares the outcome with NAME.expect (csv_dump.h's
 * format).  A good file must give only records; a bad one at least one
 * error.  Each file is read whole, byte by byte and in 7-byte pieces,
 * which must agree.
 *
 * usage: corpus_csv DIR          run the corpus under DIR
 *        corpus_csv --print FILE print FILE's outcome (to write .expect)
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "csv_dump.h"

#define CORPUS_FILE_MAX (16u * 1024 * 1024)

/* Reads path whole into *out (NUL-terminated); -1 with a message if not. */
static int
slurp(const char *path, char **out, size_t *len)
{
	FILE *f;
	char *buf;
	size_t n;
	int ret = -1;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = xmalloc(CORPUS_FILE_MAX + 1);
	n = fread(buf, 1, CORPUS_FILE_MAX + 1, f);
	if (ferror(f) || n > CORPUS_FILE_MAX) {
		fprintf(stderr, "%s: unreadable or over %u bytes\n", path,
		    CORPUS_FILE_MAX);
		free(buf);
		goto done;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	ret = 0;
done:
	fclose(f);
	return ret;
}

/* The outcome of path; NULL (reported) if the ways of feeding differ. */
static char *
outcome(const char *path)
{
	char *in, *whole, *bytes, *sevens;
	size_t n;

	if (slurp(path, &in, &n) != 0)
		return NULL;
	whole = csv_dump(NULL, in, n, 0);
	bytes = csv_dump(NULL, in, n, 1);
	sevens = csv_dump(NULL, in, n, 7);
	if (strcmp(whole, bytes) != 0 || strcmp(whole, sevens) != 0) {
		fprintf(stderr, "FAIL %s: the outcome depends on how the input "
		    "is cut:\n--- whole\n%s--- byte by byte\n%s--- in 7-byte "
		    "pieces\n%s", path, whole, bytes, sevens);
		free(whole);
		whole = NULL;
	}
	free(in);
	free(bytes);
	free(sevens);
	return whole;
}

static int
check_file(const char *dir, const char *kind, const char *name)
{
	char *csv = xasprintf("%s/%s/%s", dir, kind, name), *expect = NULL;
	char *epath, *got;
	size_t elen, stem = strlen(name) - 4;
	int bad_outcome, ret = 1;

	epath = xasprintf("%s/%s/%.*s.expect", dir, kind, (int)stem, name);
	if ((got = outcome(csv)) == NULL || slurp(epath, &expect, &elen) != 0)
		goto done;
	bad_outcome = strstr(got, " error: ") != NULL ||
	    strncmp(got, "fatal: ", 7) == 0 || strstr(got, "\nfatal: ") != NULL;
	if (strcmp(got, expect) != 0) {
		fprintf(stderr, "FAIL %s:\n--- want (%s)\n%s--- got\n%s", csv,
		    epath, expect, got);
	} else if (bad_outcome != (strcmp(kind, "bad") == 0)) {
		fprintf(stderr, "FAIL %s: a %s file must %s\n", csv, kind,
		    bad_outcome ? "read without errors" : "give an error");
	} else {
		printf("ok   %s/%s\n", kind, name);
		ret = 0;
	}
done:
	free(csv);
	free(epath);
	free(expect);
	free(got);
	return ret;
}

static int
run_kind(const char *dir, const char *kind, int *files)
{
	char *path = xasprintf("%s/%s", dir, kind);
	struct dirent *e;
	size_t n;
	DIR *d;
	int fails = 0;

	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		free(path);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n <= 4 || strcmp(e->d_name + n - 4, ".csv") != 0)
			continue;
		fails += check_file(dir, kind, e->d_name);
		(*files)++;
	}
	closedir(d);
	free(path);
	return fails;
}

int
main(int argc, char **argv)
{
	int fails, files = 0;
	char *got;

	if (argc == 3 && strcmp(argv[1], "--print") == 0) {
		if ((got = outcome(argv[2])) == NULL)
			return 1;
		fputs(got, stdout);
		free(got);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: corpus_csv DIR | --print FILE\n");
		return 2;
	}
	fails = run_kind(argv[1], "good", &files) +
	    run_kind(argv[1], "bad", &files);
	if (files == 0) {
		fprintf(stderr, "FAIL: no corpus files under %s\n", argv[1]);
		return 1;
	}
	printf("%d file(s), %d failure(s)\n", files, fails);
	return fails != 0;
}
