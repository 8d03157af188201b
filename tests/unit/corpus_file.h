/*
 * Files of tests/corpus for the unit tests: the swtpm EKs of
 * tests/corpus/tpmpub/good, the hashes of tests/corpus/hwhash.
 */
#ifndef WG_TEST_CORPUS_FILE_H
#define WG_TEST_CORPUS_FILE_H

#include <stddef.h>

/*
 * The text of the file at path (NUL-terminated, *len bytes, at most
 * 64 KiB); the caller frees it.  NULL (said on stderr) if it cannot be
 * read.
 */
char *corpus_file_read(const char *path, size_t *len);

/*
 * The text of WG_CORPUS_DIR/REL (NUL-terminated, *len bytes).  The caller
 * frees it; aborts if the file cannot be read, since no test can run
 * without it.
 */
char *corpus_file_text(const char *rel, size_t *len);

/* The bytes of hex file WG_CORPUS_DIR/REL (white space ignored); the
 * caller frees them.  Aborts if the file is not hex. */
unsigned char *corpus_file_hex(const char *rel, size_t *len);

#endif
