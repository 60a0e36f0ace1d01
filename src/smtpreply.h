/*
 * smtpreply.h - assembly of (multi-line) SMTP replies from lines, code
 * checks, sanitising of remote text.  Pure: no I/O.
 */
#ifndef SAVD_SMTPREPLY_H
#define SAVD_SMTPREPLY_H

#include <stddef.h>
#include "verdict.h"

/*
 * One reply may hold this many bytes, CRLFs included, over all its lines.
 * Real EHLO replies list dozens of extensions; a line count would refuse
 * them, a byte count bounds the work whatever the lines look like.
 */
#define SMTPREPLY_MAX_BYTES (16 * 1024)
#define SMTPREPLY_ESC_MAX 12            /* "5.123.123" and a NUL, rounded */

struct smtp_reply {
	int code;                       /* 0 until the first line */
	int nlines;
	size_t bytes;                   /* of all lines so far, CRLF counted */
	size_t tlen;
	size_t esclen;                  /* length of esc, 0 if none */
	char esc[SMTPREPLY_ESC_MAX];    /* enhanced code of the first text */
	char text[SAV_TEXT_MAX];        /* lines' text joined by " ", sanitised;
	                                   the enhanced code repeated at the
	                                   start of later lines dropped */
};

enum smtpreply_status {
	SR_MORE,        /* continuation line ("250-..."), wait for more */
	SR_DONE,        /* last line seen; code and text final */
	SR_BAD,         /* not SMTP: no 3-digit code 200..599, bad separator,
	                   code changed between lines, over
	                   SMTPREPLY_MAX_BYTES */
};

void smtpreply_reset(struct smtp_reply *r);
/* Feed one line without its CRLF (len bytes, may contain anything). */
enum smtpreply_status smtpreply_feed(struct smtp_reply *r, const char *line,
    size_t len);

/* Copy src into dst (cap bytes incl. NUL) keeping printable ASCII only
 * (0x20..0x7e), collapsing nothing else; returns the length. */
size_t smtp_sanitise(char *dst, size_t cap, const char *src, size_t len);

/* Does this reply ask us to slow down (421, or 4xx/5xx text such as "too
 * many connections", "rate limit", "try again later" with a rate word,
 * "blocked", "blacklisted", "denied ... ip")?  Used for back-off. */
int smtpreply_says_backoff(int code, const char *text);

#endif
