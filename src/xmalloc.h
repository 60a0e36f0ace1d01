/*
 * xmalloc.h - allocation that cannot fail: out of memory is fatal (abort
 * with a message), so callers never handle NULL.
 */
#ifndef SAVD_XMALLOC_H
#define SAVD_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
