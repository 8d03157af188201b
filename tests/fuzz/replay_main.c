/*
 * A main() for the libFuzzer harnesses in builds without libFuzzer (gcc,
 * the ASan build): runs each file named on the command line, or every
 * regular file below each directory named (in name order, recursively),
 * once through LLVMFuzzerTestOneInput.  Each input sits in a buffer of
 * exactly its size, so ASan sees a read one byte past it.  A harness
 * reports a bug by crashing (abort, a sanitizer); this program fails only
 * when it cannot read its inputs or finds none.
 *
 * usage: fuzz_NAME FILE|DIR...
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_FILE_MAX (16u * 1024 * 1024)
#define REPLAY_DEPTH_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_path(const char *path, int depth, size_t *count);

/* Runs one file through the harness; -1 (said) if it cannot be read. */
static int
replay_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long size;
	int ret = -1;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    (unsigned long)size > REPLAY_FILE_MAX ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, f == NULL ?
		    strerror(errno) : "unreadable or over 16 MiB");
		goto done;
	}
	/* malloc(0) may give NULL; one byte keeps the pointer real. */
	if ((buf = malloc(size > 0 ? (size_t)size : 1)) == NULL ||
	    fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		goto done;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	(*count)++;
	ret = 0;
done:
	free(buf);
	if (f != NULL)
		fclose(f);
	return ret;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry of dir but . and .., sorted, into *names (caller frees). */
static int
list_dir(const char *dir, char ***names, size_t *n)
{
	struct dirent *e;
	size_t cap = 0;
	DIR *d;

	*names = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((*names = realloc(*names, cap * sizeof(**names))) ==
			    NULL)
				abort();
		}
		if (((*names)[(*n)++] = strdup(e->d_name)) == NULL)
			abort();
	}
	closedir(d);
	if (*n > 0)
		qsort(*names, *n, sizeof(**names), by_name);
	return 0;
}

static int
replay_dir(const char *dir, int depth, size_t *count)
{
	char **names, *path;
	size_t n, i, len;
	int ret;

	if (depth > REPLAY_DEPTH_MAX) {
		fprintf(stderr, "replay: %s: nested too deep\n", dir);
		return -1;
	}
	if ((ret = list_dir(dir, &names, &n)) != 0)
		return ret;
	for (i = 0; i < n; i++) {
		len = strlen(dir) + strlen(names[i]) + 2;
		if ((path = malloc(len)) == NULL)
			abort();
		snprintf(path, len, "%s/%s", dir, names[i]);
		if (replay_path(path, depth + 1, count) != 0)
			ret = -1;
		free(path);
		free(names[i]);
	}
	free(names);
	return ret;
}

static int
replay_path(const char *path, int depth, size_t *count)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return replay_dir(path, depth, count);
	if (!S_ISREG(st.st_mode))
		return 0;
	return replay_file(path, count);
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	int i, ret = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (replay_path(argv[i], 0, &count) != 0)
			ret = 1;
	if (count == 0) {
		fprintf(stderr, "replay: no inputs found\n");
		return 1;
	}
	printf("replayed %zu inputs\n", count);
	return ret;
}
