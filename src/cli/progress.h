/*
 * progress: the one-line progress bar `whiteglove import` draws on a
 * terminal while it uploads: bytes sent of the total, rows per second and
 * errors (from the import record the server keeps, polled every 0.5 s on
 * a second connection, by a thread of its own), and the time left.
 */
#ifndef WG_CLI_PROGRESS_H
#define WG_CLI_PROGRESS_H

#include <stdint.h>

#include "cli/clientopts.h"

struct progress;

/*
 * Starts showing the progress of the import whose record is at path
 * (GET path?query): total is the bytes to send (-1: unknown).  Draws only
 * when stderr is a terminal; otherwise it only counts.  Returns a handle
 * the caller ends with progress_stop(); never NULL.
 */
struct progress *progress_start(const struct clientopts *co,
    const char *path, const char *const *query, int64_t total);

/* Counts n more bytes sent (p may be NULL); from the uploading thread. */
void progress_sent(struct progress *p, int64_t n);

/* Stops polling, wipes the line and frees p; NULL is a no-op. */
void progress_stop(struct progress *p);

#endif
