/*
 * unit-proto.c - the request line parser and the response line builders
 * of doc/protocol.md sections 1-3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tap.h"

#define ANY (-1)

struct pcase {
	const char *line;
	enum proto_status st;
	int verb;               /* checked when st is PROTO_OK; ANY skips */
	const char *addr;       /* address_format() of req.addr; NULL skips */
};

static const struct pcase cases[] = {
	/* SENDER */
	{ "SENDER <user@example.com>", PROTO_OK, VERB_SENDER, "user@example.com" },
	{ "SENDER user@example.com", PROTO_OK, VERB_SENDER, "user@example.com" },
	{ "sender <User@Example.COM>", PROTO_OK, VERB_SENDER, "User@example.com" },
	{ "SeNdEr <a@b.example>", PROTO_OK, VERB_SENDER, "a@b.example" },
	{ "SENDER <>", PROTO_OK, VERB_SENDER, "" },
	{ "SENDER", PROTO_OK, VERB_SENDER, "" },
	{ "SENDER   ", PROTO_OK, VERB_SENDER, "" },
	{ "SENDER timeout=5", PROTO_OK, VERB_SENDER, "" },
	{ "SENDER id=abc cache=no", PROTO_OK, VERB_SENDER, "" },
	{ "SENDER <> timeout=5", PROTO_OK, VERB_SENDER, "" },
	{ "SENDER prvs=1234567890=user@example.com", PROTO_OK, VERB_SENDER,
	  "prvs=1234567890=user@example.com" },
	{ "SENDER SRS0=HHH=TT=example.org=user@fwd.example.com timeout=10",
	  PROTO_OK, VERB_SENDER, "SRS0=HHH=TT=example.org=user@fwd.example.com" },
	{ "SENDER <SRS0=HHH=TT=example.org=user@fwd.example.com>", PROTO_OK,
	  VERB_SENDER, "SRS0=HHH=TT=example.org=user@fwd.example.com" },
	{ "SENDER \"a b\"@example.com", PROTO_OK, VERB_SENDER, NULL },
	{ "SENDER <a@b.example> from=<c@d.example>", PROTO_BADREQUEST, ANY, NULL },
	{ "SENDER <user@localhost>", PROTO_SYNTAX, ANY, NULL },
	{ "SENDER user", PROTO_SYNTAX, ANY, NULL },
	{ "SENDER <user@example.com", PROTO_SYNTAX, ANY, NULL },
	{ "SENDER <user@example.com> extra", PROTO_BADREQUEST, ANY, NULL },
	{ "SENDER <a@b.example> <c@d.example>", PROTO_BADREQUEST, ANY, NULL },
	{ "SENDER timeout=5 <user@example.com>", PROTO_BADREQUEST, ANY, NULL },
	{ "SENDER bad..addr@example.com bogus=1", PROTO_BADREQUEST, ANY, NULL },
	{ "SENDER bad..addr@example.com timeout=0", PROTO_BADREQUEST, ANY, NULL },
	{ "SENDER bad..addr@example.com timeout=5", PROTO_SYNTAX, ANY, NULL },
	/* address forms (doc/protocol.md 4c): long local parts verified as written */
	{ "SENDER <list-bounces+1712345678-4f3a2b1c0d9e5f6a7b-bob.smith="
	  "customer.example.net-7ab@lists.example.org> timeout=5", PROTO_OK,
	  VERB_SENDER, "list-bounces+1712345678-4f3a2b1c0d9e5f6a7b-bob.smith="
	  "customer.example.net-7ab@lists.example.org" },     /* 77 octets */
	{ "SENDER SRS0=Ab1c=XY=customer.example.net=very.long.user.name.for."
	  "testing@forwarder.example.com", PROTO_OK, VERB_SENDER,
	  "SRS0=Ab1c=XY=customer.example.net=very.long.user.name.for.testing"
	  "@forwarder.example.com" },
	{ "SENDER <SRS1=Zz9y=forwarder.example.com==Ab1c=XY=customer.example."
	  "net=very.long.user@second.example.net>", PROTO_OK, VERB_SENDER,
	  "SRS1=Zz9y=forwarder.example.com==Ab1c=XY=customer.example.net="
	  "very.long.user@second.example.net" },
	{ "SENDER prvs=4f3a2b1c0d=bounces+list-name-1234567890=customer."
	  "example.net@Example.COM", PROTO_OK, VERB_SENDER,
	  "prvs=4f3a2b1c0d=bounces+list-name-1234567890=customer.example.net"
	  "@example.com" },
	{ "RECIPIENT <\"john \\\"jr\\\" smith, esq.\"@Example.com> id=1",
	  PROTO_OK, VERB_RECIPIENT,
	  "\"john \\\"jr\\\" smith, esq.\"@example.com" },
	/* UTF-8 local parts kept as sent; domains become A-labels */
	{ "SENDER <J\xc3\xb6rg@example.com>", PROTO_OK, VERB_SENDER,
	  "J\xc3\xb6rg@example.com" },
	{ "RECIPIENT \"\xc3\xa4 b\"@example.com", PROTO_OK, VERB_RECIPIENT,
	  "\"\xc3\xa4 b\"@example.com" },
	{ "RECIPIENT <user@b\xc3\xbc" "cher.example>", PROTO_OK, VERB_RECIPIENT,
	  "user@xn--bcher-kva.example" },
	{ "RECIPIENT <User@B\xc3\x9c" "CHER.Example>", PROTO_OK, VERB_RECIPIENT,
	  "User@xn--bcher-kva.example" },
	{ "RECIPIENT \xc3\xa4@b\xc3\xbc" "cher.example", PROTO_OK,
	  VERB_RECIPIENT, "\xc3\xa4@xn--bcher-kva.example" },
	/* invalid UTF-8 or a domain IDNA refuses: syntax */
	{ "SENDER <\xc0\xaf@example.com>", PROTO_SYNTAX, ANY, NULL },
	{ "SENDER <a\x80" "b@example.com>", PROTO_SYNTAX, ANY, NULL },
	{ "SENDER <\xed\xa0\x80@example.com>", PROTO_SYNTAX, ANY, NULL },
	{ "SENDER <a@b\xed\xa0\x80.example>", PROTO_SYNTAX, ANY, NULL },
	{ "RECIPIENT <a@\xe2\x98\x83.example>", PROTO_SYNTAX, ANY, NULL },
	{ "RECIPIENT <a@a\xe2\x80\x8d" "b.example>", PROTO_SYNTAX, ANY, NULL },
	/* a C1 control in UTF-8 is a control character: badrequest */
	{ "SENDER <\xc2\x85@example.com>", PROTO_BADREQUEST, ANY, NULL },
	{ "SENDER <a@example.com> id=\xc2\x9f", PROTO_BADREQUEST, ANY, NULL },
	/* 8-bit outside an address: unknown option, bad value */
	{ "SENDER <a@example.com> t\xc3\xa4=1", PROTO_BADREQUEST, ANY, NULL },
	{ "SENDER <a@example.com> timeout=\xc3\xa4", PROTO_BADREQUEST, ANY,
	  NULL },
	{ "RECIPIENT <b@x.example> from=<\xc0\xaf@x.example>", PROTO_BADREQUEST,
	  ANY, NULL },
	/* RECIPIENT */
	{ "RECIPIENT <bob@example.net>", PROTO_OK, VERB_RECIPIENT, "bob@example.net" },
	{ "recipient bob@example.net", PROTO_OK, VERB_RECIPIENT, "bob@example.net" },
	{ "RECIPIENT user@[192.0.2.1]", PROTO_OK, VERB_RECIPIENT, "user@[192.0.2.1]" },
	{ "RECIPIENT", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <>", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <> timeout=5", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT timeout=5", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <bob@example.net> from=<a@example.org>", PROTO_OK,
	  VERB_RECIPIENT, "bob@example.net" },
	{ "RECIPIENT <bob@example.net> from=a@example.org", PROTO_OK,
	  VERB_RECIPIENT, "bob@example.net" },
	{ "RECIPIENT <bob@example.net> from=<>", PROTO_OK, VERB_RECIPIENT, NULL },
	{ "RECIPIENT <bob@example.net> from=", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <bob@example.net> from=<a@localhost>", PROTO_BADREQUEST,
	  ANY, NULL },
	{ "RECIPIENT <bob@example.net> from=<a@example.org",
	  PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <bad@localhost> from=<a@localhost>", PROTO_BADREQUEST,
	  ANY, NULL },
	{ "RECIPIENT <bad@localhost>", PROTO_SYNTAX, ANY, NULL },
	{ "RECIPIENT bob", PROTO_SYNTAX, ANY, NULL },
	{ "RECIPIENT <bob@example.net> x", PROTO_BADREQUEST, ANY, NULL },
	/* options */
	{ "RECIPIENT <b@x.example> timeout=1", PROTO_OK, VERB_RECIPIENT, NULL },
	{ "RECIPIENT <b@x.example> timeout=300", PROTO_OK, VERB_RECIPIENT, NULL },
	{ "RECIPIENT <b@x.example> timeout=0", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> timeout=301", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> timeout=-1", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> timeout=+5", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> timeout=5s", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> timeout=", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> timeout=99999999999999999999",
	  PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> timeout=5 timeout=6", PROTO_BADREQUEST,
	  ANY, NULL },
	{ "RECIPIENT <b@x.example> TIMEOUT=5", PROTO_OK, VERB_RECIPIENT, NULL },
	{ "RECIPIENT <b@x.example> cache=no", PROTO_OK, VERB_RECIPIENT, NULL },
	{ "RECIPIENT <b@x.example> cache=yes", PROTO_OK, VERB_RECIPIENT, NULL },
	{ "RECIPIENT <b@x.example> cache=NO", PROTO_OK, VERB_RECIPIENT, NULL },
	{ "RECIPIENT <b@x.example> cache=maybe", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> cache=", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> client=192.0.2.1 helo=mx.example id=1a2b",
	  PROTO_OK, VERB_RECIPIENT, NULL },
	{ "RECIPIENT <b@x.example> client= helo= id=", PROTO_OK,
	  VERB_RECIPIENT, NULL },
	{ "RECIPIENT <b@x.example> id=1 id=2", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> bogus=1", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> =1", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> =", PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> timeout", PROTO_BADREQUEST, ANY, NULL },
	/* whitespace */
	{ "  RECIPIENT\t<b@x.example> \t timeout=5\t", PROTO_OK, VERB_RECIPIENT,
	  "b@x.example" },
	{ "\tPING", PROTO_OK, VERB_PING, NULL },
	{ "PING   ", PROTO_OK, VERB_PING, NULL },
	{ "", PROTO_BADREQUEST, ANY, NULL },
	{ " ", PROTO_BADREQUEST, ANY, NULL },
	{ "\t\t", PROTO_BADREQUEST, ANY, NULL },
	/* argument-less verbs */
	{ "PING", PROTO_OK, VERB_PING, NULL },
	{ "ping", PROTO_OK, VERB_PING, NULL },
	{ "STATS", PROTO_OK, VERB_STATS, NULL },
	{ "Stats", PROTO_OK, VERB_STATS, NULL },
	{ "HEALTH", PROTO_OK, VERB_HEALTH, NULL },
	{ "health", PROTO_OK, VERB_HEALTH, NULL },
	{ "QUIT", PROTO_OK, VERB_QUIT, NULL },
	{ "quit", PROTO_OK, VERB_QUIT, NULL },
	{ "PING x", PROTO_BADREQUEST, ANY, NULL },
	{ "STATS all", PROTO_BADREQUEST, ANY, NULL },
	{ "HEALTH timeout=5", PROTO_BADREQUEST, ANY, NULL },
	{ "QUIT now", PROTO_BADREQUEST, ANY, NULL },
	/* unknown verbs */
	{ "HELO example.com", PROTO_BADREQUEST, ANY, NULL },
	{ "PINGS", PROTO_BADREQUEST, ANY, NULL },
	{ "PIN", PROTO_BADREQUEST, ANY, NULL },
	{ "<user@example.com>", PROTO_BADREQUEST, ANY, NULL },
	{ "SENDER:<a@b.example>", PROTO_BADREQUEST, ANY, NULL },
	{ "\xc3\xa4", PROTO_BADREQUEST, ANY, NULL },
	/* FLUSH */
	{ "FLUSH ALL", PROTO_OK, VERB_FLUSH, NULL },
	{ "flush all", PROTO_OK, VERB_FLUSH, NULL },
	{ "FLUSH DOMAIN example.com", PROTO_OK, VERB_FLUSH, NULL },
	{ "FLUSH domain Example.COM", PROTO_OK, VERB_FLUSH, NULL },
	{ "FLUSH ADDRESS bob@example.net", PROTO_OK, VERB_FLUSH,
	  "bob@example.net" },
	{ "FLUSH Address <Bob@Example.net>", PROTO_OK, VERB_FLUSH,
	  "Bob@example.net" },
	{ "FLUSH", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH ALL now", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH DOMAIN", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH DOMAIN a.example b.example", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH DOMAIN localhost", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH DOMAIN example.com.", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH DOMAIN <example.com>", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH DOMAIN \xe2\x98\x83.example", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH ADDRESS \xc0\xaf@example.com", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH ADDRESS <\xc3\xa4@B\xc3\xbc" "cher.example>", PROTO_OK,
	  VERB_FLUSH, "\xc3\xa4@xn--bcher-kva.example" },
	{ "FLUSH ADDRESS", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH ADDRESS <>", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH ADDRESS bob", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH ADDRESS a@b.example c@d.example", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH EVERYTHING", PROTO_BADREQUEST, ANY, NULL },
	{ "FLUSH example.com", PROTO_BADREQUEST, ANY, NULL },
	/* lots of fields */
	{ "SENDER a b c d e f g h i j k l m n o p q r s t u v w x y z",
	  PROTO_BADREQUEST, ANY, NULL },
	{ "RECIPIENT <b@x.example> id=1 id=1 id=1 id=1 id=1 id=1 id=1 id=1 "
	  "id=1 id=1 id=1 id=1 id=1 id=1 id=1 id=1 id=1 id=1 id=1 id=1",
	  PROTO_BADREQUEST, ANY, NULL },
};

/* Test names must stay on one TAP line: escape what is not printable. */
static const char *
vis(const char *s, size_t n)
{
	static char out[2048];
	size_t o = 0, i;

	for (i = 0; i < n && o < sizeof(out) - 5; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '#')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

static void
test_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		size_t len = strlen(c->line);
		struct request req;
		char buf[ADDR_BUF];
		enum proto_status st = proto_parse(c->line, len, &req);

		is_int(st, c->st, "[%zu] status of \"%s\"", i,
		    vis(c->line, len));
		if (st != PROTO_OK || c->st != PROTO_OK)
			continue;
		if (c->verb != ANY)
			is_int(req.verb, c->verb, "[%zu] verb", i);
		if (c->addr != NULL) {
			address_format(&req.addr, buf);
			is_str(buf, c->addr, "[%zu] address", i);
		}
	}
}

static enum proto_status
parse(const char *line, struct request *req)
{
	return proto_parse(line, strlen(line), req);
}

static void
test_fields(void)
{
	struct request req;
	char buf[ADDR_BUF];

	is_int(parse("SENDER <>", &req), PROTO_OK, "sender <> parses");
	is_int(req.addr.null, 1, "sender <> is null");
	is_int(parse("SENDER", &req), PROTO_OK, "bare SENDER parses");
	is_int(req.addr.null, 1, "bare SENDER is null");
	is_int(parse("SENDER timeout=7 cache=no", &req), PROTO_OK,
	    "SENDER with options only");
	is_int(req.addr.null, 1, "options only: null sender");
	is_int(req.timeout, 7, "options only: timeout");
	is_int(req.no_cache, 1, "options only: cache=no");
	is_int(parse("SENDER <a@b.example>", &req), PROTO_OK, "sender");
	is_int(req.addr.null, 0, "sender not null");
	is_int(req.timeout, 0, "no timeout: 0");
	is_int(req.no_cache, 0, "no cache option: 0");
	is_int(req.has_from, 0, "no from");
	is_str(req.id, "", "no id: empty");

	is_int(parse("RECIPIENT <bob@example.net> from=<Alice@Example.ORG> "
	    "timeout=30 cache=no client=192.0.2.7 helo=mail.example id=1qX-00",
	    &req), PROTO_OK, "full recipient");
	is_int(req.verb, VERB_RECIPIENT, "full: verb");
	is_int(req.has_from, 1, "full: has_from");
	address_format(&req.from, buf);
	is_str(buf, "Alice@example.org", "full: from");
	is_int(req.timeout, 30, "full: timeout");
	is_int(req.no_cache, 1, "full: no_cache");
	is_str(req.client, "192.0.2.7", "full: client");
	is_str(req.helo, "mail.example", "full: helo");
	is_str(req.id, "1qX-00", "full: id");

	is_int(parse("RECIPIENT <b@x.example> from=a@example.org", &req),
	    PROTO_OK, "bare from");
	address_format(&req.from, buf);
	is_str(buf, "a@example.org", "bare from: address");
	is_int(parse("RECIPIENT <b@x.example> from=<>", &req), PROTO_OK,
	    "from=<>");
	is_int(req.has_from, 1, "from=<>: has_from");
	is_int(req.from.null, 1, "from=<>: null");
	is_int(parse("RECIPIENT <b@x.example> FROM=<a@example.org>", &req),
	    PROTO_OK, "FROM= key case-insensitive");
	is_int(req.has_from, 1, "FROM=: has_from");
	is_int(parse("RECIPIENT <b@x.example> cache=yes", &req), PROTO_OK,
	    "cache=yes");
	is_int(req.no_cache, 0, "cache=yes: cache used");

	is_int(parse("RECIPIENT <\xc3\xa4@b\xc3\xbc" "cher.example> "
	    "from=<J\xc3\xb6rg@B\xc3\x9c" "CHER.example>", &req), PROTO_OK,
	    "UTF-8 address and from");
	is_int(req.addr.utf8, 1, "UTF-8 local part: utf8");
	is_str(req.addr.domain, "xn--bcher-kva.example", "IDN: A-label");
	address_format(&req.from, buf);
	is_str(buf, "J\xc3\xb6rg@xn--bcher-kva.example", "from: A-label");
	is_int(req.from.utf8, 1, "from: utf8");
	is_int(address_needs_smtputf8(buf), 1, "from needs SMTPUTF8");
	is_int(parse("RECIPIENT <bob@b\xc3\xbc" "cher.example>", &req),
	    PROTO_OK, "IDN only");
	is_int(req.addr.utf8, 0, "IDN only: no utf8");

}

static void
test_fields_flush_quoted(void)
{
	struct request req;
	char buf[ADDR_BUF];

	is_int(parse("FLUSH ALL", &req), PROTO_OK, "flush all");
	is_int(req.flush, FLUSH_ALL, "flush all: kind");
	is_int(parse("FLUSH DOMAIN Example.COM", &req), PROTO_OK,
	    "flush domain");
	is_int(req.flush, FLUSH_DOMAIN, "flush domain: kind");
	is_str(req.flush_domain, "example.com", "flush domain: lower-cased");
	is_int(parse("FLUSH DOMAIN B\xc3\x9c" "CHER.example", &req), PROTO_OK,
	    "flush domain U-label");
	is_str(req.flush_domain, "xn--bcher-kva.example",
	    "flush domain: A-label");
	is_int(parse("FLUSH ADDRESS <Bob@Example.NET>", &req), PROTO_OK,
	    "flush address");
	is_int(req.flush, FLUSH_ADDRESS, "flush address: kind");
	address_format(&req.addr, buf);
	is_str(buf, "Bob@example.net", "flush address: address");

	is_int(parse("SENDER \"a b\"@Example.com", &req), PROTO_OK,
	    "quoted local part");
	is_str(req.addr.local, "\"a b\"", "quoted local part kept");
	is_int(parse("SENDER \"a\\\" b\"@example.com id=x", &req), PROTO_OK,
	    "quoted local part with escaped quote and space");
	is_str(req.addr.local, "\"a\\\" b\"", "escaped quote kept");
	is_int(parse("RECIPIENT <\"a  b\"@example.com>\ttimeout=5", &req),
	    PROTO_OK, "bracketed quoted local part with two spaces");
	is_str(req.addr.local, "\"a  b\"", "two spaces kept");
	is_int(parse("SENDER \"a b@example.com id=x", &req), PROTO_SYNTAX,
	    "unclosed quote swallows the line: syntax");
	is_int(parse("SENDER \"a b\"@example.com id=x", &req), PROTO_OK,
	    "quoted local part then option");
	is_str(req.id, "x", "quoted local part then option: id");
}

static void
test_notes(void)
{
	struct request req;
	char line[512], v127[128], v128[129];

	memset(v127, 'n', 127), v127[127] = '\0';
	memset(v128, 'n', 128), v128[128] = '\0';
	snprintf(line, sizeof(line), "SENDER <a@b.example> id=%s", v127);
	is_int(parse(line, &req), PROTO_OK, "id of 127 bytes");
	is_int((int)strlen(req.id), 127, "id of 127 kept whole");
	snprintf(line, sizeof(line), "SENDER <a@b.example> id=%s", v128);
	is_int(parse(line, &req), PROTO_BADREQUEST, "id of 128 bytes");
	snprintf(line, sizeof(line), "SENDER <a@b.example> helo=%s", v128);
	is_int(parse(line, &req), PROTO_BADREQUEST, "helo of 128 bytes");
	snprintf(line, sizeof(line), "SENDER <a@b.example> client=%s", v128);
	is_int(parse(line, &req), PROTO_BADREQUEST, "client of 128 bytes");
	is_int(parse("SENDER <a@b.example> helo=\"x\\y\xc3\xa4\"", &req),
	    PROTO_OK, "helo with quotes, backslash, 8-bit");
	is_str(req.helo, "?x?y???", "helo made log-safe");
	is_int(parse("SENDER <a@b.example> id=a=b", &req), PROTO_OK,
	    "id with '=' in the value");
	is_str(req.id, "a=b", "id value keeps '='");
}

/* Every control byte except TAB, anywhere, is a badrequest; checked first. */
static void
test_controls(void)
{
	static const char *const bases[] = {
		"RECIPIENT <user@example.com> timeout=5",
		"PING",
		"SENDER <bad@localhost>",
		"FLUSH ALL",
	};
	char buf[128];
	size_t b, i, len;
	int c;

	for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		len = strlen(bases[b]);
		for (c = 0; c < 0x80; c++) {
			int good = 1;

			if ((c >= 0x20 && c < 0x7f) || c == '\t')
				continue;
			for (i = 0; i <= len; i++) {
				struct request req;

				memcpy(buf, bases[b], i);
				buf[i] = (char)c;
				memcpy(buf + i + 1, bases[b] + i, len - i);
				if (proto_parse(buf, len + 1, &req) !=
				    PROTO_BADREQUEST)
					good = 0;
			}
			ok(good, "0x%02x anywhere in \"%s\": badrequest", c,
			    bases[b]);
		}
	}
	/* length is what counts, not a NUL terminator */
	{
		struct request req;

		is_int(proto_parse("PING\0", 5, &req), PROTO_BADREQUEST,
		    "PING then NUL");
		is_int(proto_parse("PING", 2, &req), PROTO_BADREQUEST,
		    "length 2 of PING is PI");
		is_int(proto_parse("PING x", 4, &req), PROTO_OK,
		    "length 4 of \"PING x\" is PING");
		is_int(proto_parse("", 0, &req), PROTO_BADREQUEST, "empty");
	}
}

static const char *
built(struct buf *b)
{
	return buf_cstr(b);
}

static void
test_builders(void)
{
	struct buf b;
	int r;

	buf_init(&b);
	for (r = 0; r < RES__COUNT; r++) {
		static const char *const want[] = { "result=ok", "result=fail",
		    "result=defer", "result=unknown", "result=error" };

		buf_reset(&b);
		proto_begin(&b, (enum sav_result)r);
		is_str(built(&b), want[r], "proto_begin %d", r);
	}
	buf_reset(&b);
	proto_begin(&b, RES_OK);
	proto_kv(&b, "reason", "pong");
	proto_kv_int(&b, "flushed", 42);
	proto_kv_int(&b, "neg", -3);
	proto_end(&b);
	is_str(built(&b), "result=ok reason=pong flushed=42 neg=-3\n",
	    "kv, kv_int, end");

	buf_reset(&b);
	proto_kv(&b, "k", "a b\tc\r\n\x80");
	is_str(built(&b), " k=abc", "kv drops spaces and non-printables");

	buf_reset(&b);
	proto_text(&b, "");
	is_str(built(&b), " text=\"\"", "empty text");
	buf_reset(&b);
	proto_text(&b, "say \"hi\"");
	is_str(built(&b), " text=\"say \\\"hi\\\"\"", "text escapes quotes");
	buf_reset(&b);
	proto_text(&b, "C:\\dir\\");
	is_str(built(&b), " text=\"C:\\\\dir\\\\\"", "text escapes backslashes");
	buf_reset(&b);
	proto_text(&b, "a\rb\nc\td\x01" "e\x7f" "f");
	is_str(built(&b), " text=\"abcdef\"", "text drops control bytes");
	buf_reset(&b);
	proto_text(&b, "gr\xc3\xbc\xc3\x9f" "e \xff!");
	is_str(built(&b), " text=\"gre !\"", "text drops 8-bit bytes");
	buf_reset(&b);
	proto_text(&b, " ~ ");
	is_str(built(&b), " text=\" ~ \"", "text keeps space and tilde");
	buf_free(&b);
}

static void
test_verdicts(void)
{
	struct buf b;
	struct verdict v;

	buf_init(&b);
	memset(&v, 0, sizeof(v));
	v.result = RES_FAIL;
	v.reason = R_REJECTED;
	v.code = 550;
	v.source = SRC_CALLOUT;
	snprintf(v.mx, sizeof(v.mx), "mx1.example.net[192.0.2.10]");
	snprintf(v.text, sizeof(v.text), "5.1.1 <bob@example.net>: "
	    "Recipient address rejected: User unknown");
	proto_format_verdict(&b, &v, -1);
	is_str(built(&b), "result=fail reason=rejected code=550 "
	    "source=callout mx=mx1.example.net[192.0.2.10] text=\"5.1.1 "
	    "<bob@example.net>: Recipient address rejected: User unknown\"\n",
	    "doc/protocol.md example line");

	buf_reset(&b);
	proto_format_verdict(&b, &v, 120);
	is_str(built(&b), "result=fail reason=rejected code=550 "
	    "source=callout mx=mx1.example.net[192.0.2.10] age=120 "
	    "text=\"5.1.1 <bob@example.net>: Recipient address rejected: "
	    "User unknown\"\n", "age before text, text last");

	buf_reset(&b);
	v.source = SRC_CACHE;
	proto_format_verdict(&b, &v, 0);
	ok(strstr(built(&b), " source=cache mx=mx1.example.net[192.0.2.10] "
	    "age=0 text=") != NULL, "age=0 written");

	buf_free(&b);
}

static void
test_verdicts_sparse(void)
{
	struct buf b;
	struct verdict v;

	buf_init(&b);
	memset(&v, 0, sizeof(v));
	v.result = RES_OK;
	v.reason = R_NULL;
	v.code = 250;
	v.source = SRC_POLICY;
	buf_reset(&b);
	proto_format_verdict(&b, &v, -1);
	is_str(built(&b), "result=ok reason=null code=250 source=policy\n",
	    "no mx, age, text");

	memset(&v, 0, sizeof(v));
	v.result = RES_ERROR;
	v.reason = R_BADREQUEST;
	v.code = 500;
	buf_reset(&b);
	proto_format_verdict(&b, &v, -1);
	is_str(built(&b), "result=error reason=badrequest code=500\n",
	    "SRC_NONE omits source");

	memset(&v, 0, sizeof(v));
	v.result = RES_OK;
	buf_reset(&b);
	proto_format_verdict(&b, &v, -1);
	is_str(built(&b), "result=ok\n", "R_NONE, code 0: bare result");

	memset(&v, 0, sizeof(v));
	v.result = RES_UNKNOWN;
	v.reason = R_BLOCKED;
	v.code = 554;
	v.source = SRC_CALLOUT;
	snprintf(v.mx, sizeof(v.mx), "mx.example[2001:db8::25]");
	snprintf(v.text, sizeof(v.text), "no \"thanks\" \\ bye\x01");
	buf_reset(&b);
	proto_format_verdict(&b, &v, -1);
	is_str(built(&b), "result=unknown reason=blocked code=554 "
	    "source=callout mx=mx.example[2001:db8::25] "
	    "text=\"no \\\"thanks\\\" \\\\ bye\"\n", "text escaped in verdict");
	buf_free(&b);
}

int
main(void)
{
	plan_no_plan();
	test_table();
	test_fields();
	test_fields_flush_quoted();
	test_notes();
	test_controls();
	test_builders();
	test_verdicts();
	test_verdicts_sparse();
	return done_testing();
}
