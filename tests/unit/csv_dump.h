/*
 * csv_dump: the outcome of reading a CSV input as text, one line per
 * record, so that tests can compare outcomes (whole input against byte
 * by byte) and the corpus can keep expected outcomes in files:
 *
 *   1: "serial" "hash, with comma" ""
 *   4: error: line 4, column 7: a NUL byte in field 2
 *   fatal: line 9, column 3: a quote inside an unquoted field
 *
 * A field's bytes are shown as they are except '"', '\\' and control
 * bytes, which are escaped (\", \\, \r, \n, \t, \xHH).  The last line is
 * "end" when the input was read to its end, or the "fatal:" line.
 */
#ifndef WG_TEST_CSV_DUMP_H
#define WG_TEST_CSV_DUMP_H

#include <stddef.h>

#include "common/csv.h"

/*
 * Reads n bytes of in with lim, fed in pieces of step bytes (0: all at
 * once).  Returns the dump; the caller frees it.
 */
char *csv_dump(const struct csv_limits *lim, const char *in, size_t n,
    size_t step);

#endif
