/*
 * fuzz-proto.c - the request parser (proto_parse) and the response line
 * builder.  Invariants: a control character other than TAB is always a
 * badrequest (PROTOCOL.md 1); a parsed address survives format + reparse
 * unchanged; a response is one line of printable bytes, text last.
 */
#include <stdint.h>
#include <string.h>

#include "address.h"
#include "buf.h"
#include "proto.h"
#include "verdict.h"
#include "fuzz.h"

static int
has_control(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((d[i] < 0x20 && d[i] != '\t') || d[i] == 0x7f)
			return 1;
	return 0;
}

static void
check_mailbox(const struct mailbox *mb)
{
	char a[ADDR_BUF];
	struct mailbox again;

	CHECK(fz_terminated(mb->local, sizeof(mb->local)));
	CHECK(fz_terminated(mb->domain, sizeof(mb->domain)));
	CHECK(strpbrk(mb->local, "\r\n") == NULL);
	CHECK(strpbrk(mb->domain, "\r\n ") == NULL);
	if (mb->null) {
		CHECK(mb->local[0] == '\0' && mb->domain[0] == '\0');
		return;
	}
	address_format(mb, a);
	CHECK(address_parse(a, strlen(a), &again) == 0);
	CHECK(strcmp(again.local, mb->local) == 0);
	CHECK(strcmp(again.domain, mb->domain) == 0);
}

/* The response to a verdict whose remote text is the fuzzer's. */
static void
check_response(const uint8_t *data, size_t size)
{
	struct verdict v;
	struct buf out;
	size_t n = size < sizeof(v.text) - 1 ? size : sizeof(v.text) - 1;
	const char *s, *t;

	verdict_set(&v, RES_FAIL, R_REJECTED, SRC_CALLOUT);
	v.code = 550;
	memcpy(v.text, data, n);
	v.text[n] = '\0';
	snprintf(v.mx, sizeof(v.mx), "mx.example.net[192.0.2.10]");
	buf_init(&out);
	proto_format_verdict(&out, &v, 12);
	s = buf_cstr(&out);
	CHECK(out.len > 0 && s[out.len - 1] == '\n');
	CHECK(fz_printable(s, out.len - 1));
	CHECK(strncmp(s, "result=fail ", 12) == 0);
	t = strstr(s, " text=\"");
	if (t != NULL) {        /* text is last: closing quote, then LF */
		const char *q = t + 7;

		while (*q != '"') {
			CHECK(*q != '\n' && *q != '\0');
			if (*q == '\\') {
				q++;
				CHECK(*q == '"' || *q == '\\');
			}
			q++;
		}
		CHECK(q[1] == '\n' && q[2] == '\0');
	}
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request req;
	enum proto_status st;

	memset(&req, 0x5a, sizeof(req));        /* nothing read uninitialised */
	st = proto_parse((const char *)data, size, &req);
	CHECK(st == PROTO_OK || st == PROTO_BADREQUEST || st == PROTO_SYNTAX);
	if (has_control(data, size))
		CHECK(st == PROTO_BADREQUEST);
	if (st == PROTO_OK) {
		CHECK((unsigned)req.verb < VERB__COUNT);
		if (req.verb == VERB_SENDER || req.verb == VERB_RECIPIENT)
			check_mailbox(&req.addr);
		if (req.verb == VERB_RECIPIENT)
			CHECK(!req.addr.null);
		if (req.has_from)
			check_mailbox(&req.from);
		CHECK(req.timeout >= 0 && req.timeout <= 300);
		CHECK(fz_terminated(req.client, sizeof(req.client)));
		CHECK(fz_terminated(req.helo, sizeof(req.helo)));
		CHECK(fz_terminated(req.id, sizeof(req.id)));
		CHECK(fz_printable(req.client, strlen(req.client)));
		CHECK(fz_printable(req.helo, strlen(req.helo)));
		CHECK(fz_printable(req.id, strlen(req.id)));
	}
	check_response(data, size);
	return 0;
}
