/*
 * fuzz-session.c - the SMTP client state machine (session.c) fed a
 * remote's reply bytes.  The first byte chooses the session: recipients
 * (1..8), catch-all probe, null sender, a failure event at the end; the
 * rest is split into lines and fed to sess_line.
 * Invariants: everything we send is whole commands of printable ASCII,
 * each ending in the one CRLF, at most 512 bytes, of a known verb;
 * SA_CLOSE sends nothing; SA_QUIT ends with QUIT; the state is in range;
 * every recipient is decided or undecided with a defer, and its verdict
 * is a result/reason pair of PROTOCOL.md 3 with a plausible code.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "session.h"
#include "verdict.h"
#include "fuzz.h"

#define HELO "savd.example.org"
#define MX "mx1.example.net[192.0.2.10]"

static const char *const rcpt_addrs[] = {
	"alice@example.net", "bob@example.net", "c.d+tag@example.net",
	"\"x y\"@example.net", "srs0=ab=cd=example.com=e@example.net",
	"dave@example.net", "eve@example.net", "frank@example.net",
};

/* May a session give this result/reason pair? */
static int
pair_ok(const struct verdict *v)
{
	switch (v->result) {
	case RES_OK:
		return v->reason == R_ACCEPTED;
	case RES_FAIL:
		return v->reason == R_REJECTED || v->reason == R_NULLSENDER;
	case RES_DEFER:
		return v->reason == R_TEMPFAIL || v->reason == R_TIMEOUT ||
		    v->reason == R_UNREACHABLE;
	case RES_UNKNOWN:
		return v->reason == R_CATCHALL || v->reason == R_BLOCKED ||
		    v->reason == R_SKIPPED || v->reason == R_MAILBOXFULL ||
		    v->reason == R_SMTPUTF8;
	default:
		return 0;
	}
}

static void
check_rcpts(const struct session *s)
{
	for (size_t i = 0; i < s->nrcpt; i++) {
		const struct sess_rcpt *r = &s->rcpt[i];
		const struct verdict *v = &r->v;

		CHECK(r->decided == 0 || r->decided == 1);
		CHECK(r->decided || v->result == RES_DEFER);
		CHECK(pair_ok(v));
		CHECK(v->code >= 200 && v->code <= 599);
		if (v->result == RES_OK)
			CHECK(v->code / 100 == 2);
		if (v->result == RES_FAIL)
			CHECK(v->code / 100 == 5);
		if (v->result == RES_DEFER)
			CHECK(v->code / 100 == 4);
		/* our own name in the greeting is a policy skip */
		CHECK(v->source == SRC_CALLOUT || (v->source == SRC_POLICY &&
		    v->reason == R_SKIPPED));
		CHECK(fz_terminated(v->text, sizeof(v->text)));
		CHECK(fz_printable(v->text, strlen(v->text)));
		CHECK(strcmp(v->mx, MX) == 0);
	}
}

/* out[from..len) is whole commands: verb, printable, one CRLF each. */
static void
check_sent(const struct buf *out, size_t from)
{
	static const char *const verbs[] = {
		"EHLO ", "HELO ", "MAIL FROM:<", "RCPT TO:<", "QUIT",
	};
	const char *p, *end;

	if (out->len == from)
		return;
	p = out->data + from;
	end = out->data + out->len;
	while (p < end) {
		const char *crlf = memchr(p, '\r', (size_t)(end - p));
		size_t n, k, known = 0;

		CHECK(crlf != NULL && crlf + 1 < end && crlf[1] == '\n');
		n = (size_t)(crlf - p);
		CHECK(memchr(p, '\n', n) == NULL);
		CHECK(fz_printable(p, n));
		CHECK(n + 2 <= 512);
		for (k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
			known |= strncmp(p, verbs[k], strlen(verbs[k])) == 0;
		CHECK(known);
		p = crlf + 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum smtp_failure fails[] = {
		FAIL_CONNECT, FAIL_TIMEOUT, FAIL_LOST, FAIL_GARBLED,
	};
	struct sess_rcpt rcpts[8];
	struct session s;
	struct buf out;
	enum sess_action act = SA_CONTINUE;
	const char *line;
	size_t off = 1, len, n, i;
	unsigned flags;

	if (size < 1)
		return 0;
	flags = data[0];
	n = (flags & 7) + 1;
	sess_init(&s, HELO, flags & 0x10 ? "" : "sender@example.org",
	    flags & 0x08 ? "q7x2k9@example.net" : NULL, MX, rcpts, n);
	for (i = 0; i < n; i++)
		CHECK(sess_add_rcpt(&s, rcpt_addrs[i]) == 0);
	CHECK(sess_add_rcpt(&s, "one.too.many@example.net") == -1);
	buf_init(&out);
	while (act == SA_CONTINUE && s.state < SS_DONE &&
	    (line = fz_next_line(data, size, &off, &len)) != NULL) {
		size_t before = out.len;

		act = sess_line(&s, line, len, &out);
		CHECK(act == SA_CONTINUE || act == SA_QUIT || act == SA_CLOSE);
		CHECK((unsigned)s.state < SS__COUNT);
		CHECK(sess_state_name(s.state) != NULL);
		check_sent(&out, before);
		if (act == SA_CLOSE)
			CHECK(out.len == before);
		if (act == SA_QUIT)
			CHECK(out.len >= 6 &&
			    memcmp(out.data + out.len - 6, "QUIT\r\n", 6) == 0);
		if (act != SA_CONTINUE)
			CHECK(s.state >= SS_QUIT);
		check_rcpts(&s);
	}
	if (act == SA_CONTINUE && (flags >> 5) >= 4) {
		act = sess_failure(&s, fails[(flags >> 5) - 4]);
		CHECK(act == SA_CLOSE);
		CHECK(s.state == SS_DONE);
		check_rcpts(&s);
	}
	buf_free(&out);
	return 0;
}
