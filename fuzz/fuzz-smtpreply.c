/*
 * fuzz-smtpreply.c - reply assembly from remote lines (smtpreply.c).
 * Invariants: the assembled text is printable ASCII within its buffer,
 * a finished reply has a code 200..599 and at most SMTPREPLY_MAX_BYTES
 * bytes, and the sanitiser keeps printable bytes only.
 */
#include <stdint.h>
#include <string.h>

#include "smtpreply.h"
#include "fuzz.h"

static void
check_reply(const struct smtp_reply *r)
{
	CHECK(r->tlen < sizeof(r->text));
	CHECK(fz_terminated(r->text, sizeof(r->text)));
	CHECK(strlen(r->text) == r->tlen);
	CHECK(fz_printable(r->text, r->tlen));
	CHECK(r->nlines >= 0);
	CHECK(r->esclen < sizeof(r->esc));
	CHECK(fz_printable(r->esc, r->esclen));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	char clean[SAV_TEXT_MAX];
	const char *line;
	size_t off = 0, len, n;

	smtpreply_reset(&r);
	while ((line = fz_next_line(data, size, &off, &len)) != NULL) {
		enum smtpreply_status st = smtpreply_feed(&r, line, len);

		CHECK(st == SR_MORE || st == SR_DONE || st == SR_BAD);
		check_reply(&r);
		if (st == SR_MORE)
			continue;
		if (st == SR_DONE) {
			CHECK(r.code >= 200 && r.code <= 599);
			CHECK(r.bytes <= SMTPREPLY_MAX_BYTES);
			(void)smtpreply_says_backoff(r.code, r.text);
		}
		smtpreply_reset(&r);
	}
	n = smtp_sanitise(clean, sizeof(clean), (const char *)data, size);
	CHECK(n < sizeof(clean) && strlen(clean) == n);
	CHECK(fz_printable(clean, n));
	return 0;
}
