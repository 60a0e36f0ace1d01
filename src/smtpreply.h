/*
 * smtpreply.h - assembly of (multi-line) SMTP replies from lines, code
 * checks, sanitising of remote text.  Pure: no I/O.
 */
#ifndef SAVD_SMTPREPLY_H
#define SAVD_SMTPREPLY_H

#include <stddef.h>
#include "verdict.h"

#define SMTPREPLY_MAX_LINES 64

struct smtp_reply {
	int code;                       /* 0 until the first line */
	int nlines;
	size_t tlen;
	char text[SAV_TEXT_MAX];        /* lines' text joined by " ", sanitised */
};

enum smtpreply_status {
	SR_MORE,        /* continuation line ("250-..."), wait for more */
	SR_DONE,        /* last line seen; code and text final */
	SR_BAD,         /* not SMTP: no 3-digit code 200..599, bad separator,
	                   code changed between lines, too many lines */
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
