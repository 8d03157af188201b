/*
 * Allocation that aborts on out-of-memory.  Every size that comes from
 * outside is capped before it reaches these, so exhaustion cannot be
 * triggered remotely; when it happens anyway there is nothing sane to do.
 */
#ifndef WG_XMALLOC_H
#define WG_XMALLOC_H

#include <stddef.h>

#define WG_NONNULL __attribute__((returns_nonnull))

void *xmalloc(size_t n) WG_NONNULL;
void *xcalloc(size_t nmemb, size_t size) WG_NONNULL;
void *xrealloc(void *p, size_t n) WG_NONNULL;
char *xstrdup(const char *s) WG_NONNULL;
char *xstrndup(const char *s, size_t n) WG_NONNULL;
/* printf into a fresh string; the caller frees it. */
char *xasprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2))) WG_NONNULL;

/* Wipes n bytes at p and frees p; NULL is a no-op.  For secrets. */
void xfree_secret(void *p, size_t n);

#endif
