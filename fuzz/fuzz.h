/*
 * fuzz.h - helpers shared by the libFuzzer targets: a checked invariant
 * that aborts with a message (a finding), and line splitting.
 * Header-only so that every target stays one file.
 */
#ifndef SAVD_FUZZ_H
#define SAVD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", \
		    __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* Printable ASCII only (what every sanitised remote text must be). */
static inline int
fz_printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* Is s NUL-terminated within cap bytes? */
static inline int
fz_terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

/*
 * The next line of data[*off..size): sets *len (without LF and one CR
 * before it) and returns its start, or NULL at the end.
 */
static inline const char *
fz_next_line(const uint8_t *data, size_t size, size_t *off, size_t *len)
{
	const char *p = (const char *)data + *off;
	const char *lf;
	size_t n;

	if (*off >= size)
		return NULL;
	n = size - *off;
	lf = memchr(p, '\n', n);
	*len = lf != NULL ? (size_t)(lf - p) : n;
	*off += *len + (lf != NULL);
	if (*len > 0 && p[*len - 1] == '\r')
		(*len)--;
	return p;
}

#endif
