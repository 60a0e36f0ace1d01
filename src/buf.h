/*
 * buf.h - a growable byte buffer with an upper bound.
 * Ownership: the struct is the caller's; buf_free releases the bytes.
 */
#ifndef SAVD_BUF_H
#define SAVD_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *data;
	size_t len;     /* bytes in use */
	size_t off;     /* bytes already consumed from the front */
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Append; aborts on out-of-memory (xmalloc policy). */
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Unconsumed bytes start at b->data + b->off, b->len - b->off of them. */
static inline size_t buf_avail(const struct buf *b) { return b->len - b->off; }
static inline const char *buf_head(const struct buf *b) { return b->data + b->off; }
/* Mark n bytes consumed; compacts when everything is consumed. */
void buf_consume(struct buf *b, size_t n);
/* Make room for at least n more bytes; returns the write pointer. */
char *buf_reserve(struct buf *b, size_t n);
/* NUL-terminate without counting the NUL (data stays usable as a C string). */
const char *buf_cstr(struct buf *b);

#endif
