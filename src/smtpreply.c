/*
 * smtpreply.c - assembles one SMTP reply from its lines: checks the code
 * and the separator, keeps the code equal across lines, joins and
 * sanitises the text (dropping the enhanced code that continuation lines
 * repeat), and recognises "slow down" replies.
 * Pure: no I/O, no allocation.  Must not trust anything in a line: every
 * length is bounded here (SMTPREPLY_MAX_BYTES per reply), the text never
 * holds a control byte.
 */
#include <stddef.h>
#include <string.h>

#include "replyclass.h"
#include "smtpreply.h"

/*
 * Phrases that mean "you are too many / too fast" in a 4xx or 5xx reply,
 * lower case.  Kept short on purpose: plain greylisting ("try again later")
 * must not count, or every greylisted domain would slow us down.
 */
static const char *const backoff_any[] = {
	"too many connections", "too many concurrent", "too many sessions",
	"too many simultaneous", "rate limit", "ratelimit", "rate-limit",
	"too fast", "slow down", "throttl",
	NULL
};

/* Phrases that, in a 5xx only, mean "we block you": no point hurrying. */
static const char *const backoff_5xx[] = {
	"blocked", "blacklist", "blocklist", "denylist", "listed at",
	"poor reputation",
	NULL
};

void
smtpreply_reset(struct smtp_reply *r)
{
	r->code = 0;
	r->nlines = 0;
	r->bytes = 0;
	r->tlen = 0;
	r->esclen = 0;
	r->esc[0] = '\0';
	r->text[0] = '\0';
}

size_t
smtp_sanitise(char *dst, size_t cap, const char *src, size_t len)
{
	size_t i, n = 0;

	if (cap == 0)
		return 0;
	for (i = 0; i < len && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c >= 0x20 && c <= 0x7e)
			dst[n++] = (char)c;
	}
	dst[n] = '\0';
	return n;
}

/* The code of a line "DDD", "DDD-..." or "DDD ...", or -1. */
static int
line_code(const char *line, size_t len, int *last)
{
	if (len < 3)
		return -1;
	if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
	    line[2] < '0' || line[2] > '9')
		return -1;
	if (len == 3 || line[3] == ' ')
		*last = 1;
	else if (line[3] == '-')
		*last = 0;
	else
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* Append a line's text, a single space apart, silently truncated. */
static void
add_text(struct smtp_reply *r, const char *p, size_t len)
{
	char tmp[SAV_TEXT_MAX];
	size_t n, room;

	n = smtp_sanitise(tmp, sizeof(tmp), p, len);
	room = sizeof(r->text) - 1 - r->tlen;
	if (n == 0 || room == 0 || (r->tlen > 0 && room < 2))
		return;
	if (r->tlen > 0) {
		r->text[r->tlen++] = ' ';
		room--;
	}
	if (n > room)
		n = room;
	memcpy(r->text + r->tlen, tmp, n);
	r->tlen += n;
	r->text[r->tlen] = '\0';
}

/* Length of the enhanced status code "c.sss.ddd" that p (len bytes)
 * starts with, followed by a space or the end; 0 if none. */
static size_t
esc_len(const char *p, size_t len)
{
	char tmp[SMTPREPLY_ESC_MAX];
	int c, s, d;
	size_t n = 0;

	while (n < len && n < sizeof(tmp) - 1 &&
	    ((p[n] >= '0' && p[n] <= '9') || p[n] == '.')) {
		tmp[n] = p[n];
		n++;
	}
	if (n == 0 || (n < len && p[n] != ' ') || tmp[n - 1] == '.')
		return 0;
	tmp[n] = '\0';
	return reply_enhanced(tmp, &c, &s, &d) ? n : 0;
}

/*
 * A line's text: the first one's enhanced code is remembered; later lines
 * that repeat it lose it, so "550-5.1.1 a" "550 5.1.1 b" reads "5.1.1 a b"
 * (doc/protocol.md 4b).
 */
static void
add_line_text(struct smtp_reply *r, const char *p, size_t len)
{
	size_t n = esc_len(p, len);

	if (r->esclen == 0 && r->tlen == 0 && n > 0) {
		memcpy(r->esc, p, n);
		r->esc[n] = '\0';
		r->esclen = n;
	} else if (r->esclen > 0 && n == r->esclen &&
	    memcmp(p, r->esc, n) == 0) {
		p += n;
		len -= n;
		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
	}
	add_text(r, p, len);
}

enum smtpreply_status
smtpreply_feed(struct smtp_reply *r, const char *line, size_t len)
{
	int code, last = 0;

	code = line_code(line, len, &last);
	if (code < 0)
		return SR_BAD;
	if (r->nlines > 0 && code != r->code)
		return SR_BAD;
	if (len > SMTPREPLY_MAX_BYTES - 2 ||
	    r->bytes > SMTPREPLY_MAX_BYTES - 2 - len)
		return SR_BAD;
	r->bytes += len + 2;
	r->code = code;
	r->nlines++;
	if (len > 4)
		add_line_text(r, line + 4, len - 4);
	return last ? SR_DONE : SR_MORE;
}

int
smtpreply_says_backoff(int code, const char *text)
{
	if (code == 421)
		return 1;
	if (code < 400 || code > 599 || text == NULL)
		return 0;
	if (reply_has_any(text, backoff_any))
		return 1;
	/* "Too many ..., try again later": a rate word makes it a back-off. */
	if (reply_has_phrase(text, "too many") &&
	    reply_has_phrase(text, "try again later"))
		return 1;
	if (code >= 500 && reply_has_any(text, backoff_5xx))
		return 1;
	return 0;
}
