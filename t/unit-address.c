/*
 * unit-address.c - RFC 5321/6531 mailbox parsing: a table of good and bad
 * addresses (long VERP/SRS/BATV local parts, UTF-8, IDN), hostile bytes
 * at every position, length limits, keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "tap.h"

struct acase {
	const char *in;
	int rc;                 /* 0 good, -1 bad */
	const char *local;      /* expected when good */
	const char *domain;
	int null, literal;
	int utf8;               /* expected mb.utf8 (0 when left out) */
};

/* 77 octets: an Exim/ezmlm-style VERP bounce address. */
#define VERP77_LOCAL "list-bounces+1712345678-4f3a2b1c0d9e5f6a7b-" \
	"bob.smith=customer.example.net-7ab"
#define VERP77 VERP77_LOCAL "@lists.example.org"
_Static_assert(sizeof(VERP77_LOCAL) - 1 == 77, "VERP77 is 77 octets");

static const struct acase cases[] = {
	/* plain forms */
	{ "user@example.com", 0, "user", "example.com", 0, 0, 0 },
	{ "<user@example.com>", 0, "user", "example.com", 0, 0, 0 },
	{ "<>", 0, "", "", 1, 0, 0 },
	{ "a@b.co", 0, "a", "b.co", 0, 0, 0 },
	{ "first.last@sub.example.org", 0, "first.last", "sub.example.org", 0, 0, 0 },
	{ "User.Name@EXAMPLE.COM", 0, "User.Name", "example.com", 0, 0, 0 },
	{ "<MiXeD@Ex-Ample.NET>", 0, "MiXeD", "ex-ample.net", 0, 0, 0 },
	{ "x@xn--bcher-kva.example", 0, "x", "xn--bcher-kva.example", 0, 0, 0 },
	{ "x@1example.com", 0, "x", "1example.com", 0, 0, 0 },
	{ "x@123.example", 0, "x", "123.example", 0, 0, 0 },
	{ "x@a-b-c.d-e", 0, "x", "a-b-c.d-e", 0, 0, 0 },
	/* every atext special */
	{ "!#$%&'*+-/=?^_`{|}~@example.com", 0, "!#$%&'*+-/=?^_`{|}~",
	  "example.com", 0, 0, 0 },
	{ "user+tag@example.com", 0, "user+tag", "example.com", 0, 0, 0 },
	/* SRS and BATV */
	{ "SRS0=HHH=TT=example.org=user@fwd.example.com", 0,
	  "SRS0=HHH=TT=example.org=user", "fwd.example.com", 0, 0, 0 },
	{ "<SRS1=XXX=fwd.example.com==HHH=TT=example.org=user@fwd2.example.net>",
	  0, "SRS1=XXX=fwd.example.com==HHH=TT=example.org=user",
	  "fwd2.example.net", 0, 0, 0 },
	{ "prvs=1234567890=user@example.com", 0, "prvs=1234567890=user",
	  "example.com", 0, 0, 0 },
	/* quoted local parts */
	{ "\"a b\"@example.com", 0, "\"a b\"", "example.com", 0, 0, 0 },
	{ "<\"john smith\"@Example.com>", 0, "\"john smith\"", "example.com",
	  0, 0, 0 },
	{ "\"a\\\"b\"@example.com", 0, "\"a\\\"b\"", "example.com", 0, 0, 0 },
	{ "\"a\\\\b\"@example.com", 0, "\"a\\\\b\"", "example.com", 0, 0, 0 },
	{ "\"a@b\"@example.com", 0, "\"a@b\"", "example.com", 0, 0, 0 },
	{ "\"a.\"@example.com", 0, "\"a.\"", "example.com", 0, 0, 0 },
	{ "\"<>\"@example.com", 0, "\"<>\"", "example.com", 0, 0, 0 },
	{ "\"\\ \"@example.com", 0, "\"\\ \"", "example.com", 0, 0, 0 },
	{ "\"\"@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "\"abc@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "\"a\"b@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "a\"b\"@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "\"a\\\"@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "\"a\tb\"@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "\"a\\\tb\"@example.com", -1, NULL, NULL, 0, 0, 0 },
	/* address literals */
	{ "user@[192.0.2.1]", 0, "user", "[192.0.2.1]", 0, 1, 0 },
	{ "<user@[IPv6:2001:DB8::1]>", 0, "user", "[ipv6:2001:db8::1]", 0, 1, 0 },
	{ "user@[ipv6:::1]", 0, "user", "[ipv6:::1]", 0, 1, 0 },
	{ "user@[IPv6:::ffff:192.0.2.1]", 0, "user", "[ipv6:::ffff:192.0.2.1]",
	  0, 1, 0 },
	{ "user@[192.0.2.256]", -1, NULL, NULL, 0, 0, 0 },
	{ "user@[192.0.2]", -1, NULL, NULL, 0, 0, 0 },
	{ "user@[2001:db8::1]", -1, NULL, NULL, 0, 0, 0 },
	{ "user@[IPv6:192.0.2.1]", -1, NULL, NULL, 0, 0, 0 },
	{ "user@[IPv6:fe80::1%eth0]", -1, NULL, NULL, 0, 0, 0 },
	{ "user@[]", -1, NULL, NULL, 0, 0, 0 },
	{ "user@[IPv6:]", -1, NULL, NULL, 0, 0, 0 },
	{ "user@[192.0.2.1", -1, NULL, NULL, 0, 0, 0 },
	{ "user@192.0.2.1]", -1, NULL, NULL, 0, 0, 0 },
	{ "user@[tag:foo]", -1, NULL, NULL, 0, 0, 0 },
	/* bare IP as a domain name: last label all digits */
	{ "user@192.0.2.1", -1, NULL, NULL, 0, 0, 0 },
	/* dot-string errors */
	{ ".user@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "user.@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "us..er@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "us er@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "us(er)@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "us,er@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "us[er@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "a@b@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "<@example.com>", -1, NULL, NULL, 0, 0, 0 },
	{ "userexample.com", -1, NULL, NULL, 0, 0, 0 },
	{ "user@", -1, NULL, NULL, 0, 0, 0 },
	{ "<user@>", -1, NULL, NULL, 0, 0, 0 },
	{ "", -1, NULL, NULL, 0, 0, 0 },
	{ "@", -1, NULL, NULL, 0, 0, 0 },
	/* brackets */
	{ "<user@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "user@example.com>", -1, NULL, NULL, 0, 0, 0 },
	{ "<<user@example.com>>", -1, NULL, NULL, 0, 0, 0 },
	{ "<", -1, NULL, NULL, 0, 0, 0 },
	{ ">", -1, NULL, NULL, 0, 0, 0 },
	{ "< >", -1, NULL, NULL, 0, 0, 0 },
	{ "< user@example.com>", -1, NULL, NULL, 0, 0, 0 },
	{ "<user@example.com >", -1, NULL, NULL, 0, 0, 0 },
	{ "<<>>", -1, NULL, NULL, 0, 0, 0 },
	/* source routes */
	{ "<@a.example,@b.example:user@example.com>", -1, NULL, NULL, 0, 0, 0 },
	{ "<@a.example:user@example.com>", -1, NULL, NULL, 0, 0, 0 },
	/* domain errors */
	{ "user@localhost", -1, NULL, NULL, 0, 0, 0 },
	{ "user@example.com.", -1, NULL, NULL, 0, 0, 0 },
	{ "user@.example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "user@example..com", -1, NULL, NULL, 0, 0, 0 },
	{ "user@-example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "user@example-.com", -1, NULL, NULL, 0, 0, 0 },
	{ "user@example.com-", -1, NULL, NULL, 0, 0, 0 },
	{ "user@exa_mple.com", -1, NULL, NULL, 0, 0, 0 },
	{ "user@exa mple.com", -1, NULL, NULL, 0, 0, 0 },
	{ "user@example.com ", -1, NULL, NULL, 0, 0, 0 },
	{ " user@example.com", -1, NULL, NULL, 0, 0, 0 },
	/* long local parts: VERP, SRS, BATV run past 64 octets (doc/protocol.md 4c) */
	{ "<" VERP77 ">", 0, VERP77_LOCAL, "lists.example.org", 0, 0, 0 },
	{ "owner-list+bob.smith=customer.example.net-1712345678-abcdef0123"
	  "@lists.example.org", 0, "owner-list+bob.smith=customer.example.net"
	  "-1712345678-abcdef0123", "lists.example.org", 0, 0, 0 },
	{ "SRS0=Ab1c=XY=customer.example.net=very.long.user.name.for.testing"
	  "@forwarder.example.com", 0, "SRS0=Ab1c=XY=customer.example.net="
	  "very.long.user.name.for.testing", "forwarder.example.com", 0, 0, 0 },
	{ "<SRS1=Zz9y=forwarder.example.com==Ab1c=XY=customer.example.net="
	  "very.long.user@second.example.net>", 0, "SRS1=Zz9y=forwarder."
	  "example.com==Ab1c=XY=customer.example.net=very.long.user",
	  "second.example.net", 0, 0, 0 },
	{ "prvs=4f3a2b1c0d=bounces+list-name-1234567890=customer.example.net"
	  "@example.com", 0, "prvs=4f3a2b1c0d=bounces+list-name-1234567890="
	  "customer.example.net", "example.com", 0, 0, 0 },
	{ "\"a very long quoted local part with spaces, commas, and \\\"esc"
	  "apes\\\"\"@Example.com", 0, "\"a very long quoted local part with "
	  "spaces, commas, and \\\"escapes\\\"\"", "example.com", 0, 0, 0 },
	{ "\"john \\\"jr\\\" smith\"@example.com", 0,
	  "\"john \\\"jr\\\" smith\"", "example.com", 0, 0, 0 },
	/* UTF-8 local parts (RFC 6531): kept as sent, utf8 = 1 */
	{ "\xc3\xa4@example.com", 0, "\xc3\xa4", "example.com", 0, 0, 1 },
	{ "\"\xc3\xa4 b\"@example.com", 0, "\"\xc3\xa4 b\"", "example.com", 0,
	  0, 1 },
	{ "<J\xc3\xb6rg.M\xc3\xbcller@example.com>", 0,
	  "J\xc3\xb6rg.M\xc3\xbcller", "example.com", 0, 0, 1 },
	{ "\xe7\x94\xa8\xe6\x88\xb7@example.com", 0, "\xe7\x94\xa8\xe6\x88\xb7",
	  "example.com", 0, 0, 1 },                     /* 3-byte sequences */
	{ "a\xf0\x9f\x98\x80@example.com", 0, "a\xf0\x9f\x98\x80",
	  "example.com", 0, 0, 1 },                     /* U+1F600, 4 bytes */
	{ "\xef\xbf\xbd@example.com", 0, "\xef\xbf\xbd", "example.com", 0, 0,
	  1 },                                          /* U+FFFD */
	{ "\xf4\x8f\xbf\xbf@example.com", 0, "\xf4\x8f\xbf\xbf", "example.com",
	  0, 0, 1 },                                    /* U+10FFFF */
	/* invalid UTF-8 is a syntax error, in local parts and in domains */
	{ "\xc0\xaf@example.com", -1, NULL, NULL, 0, 0, 0 },     /* overlong / */
	{ "\xe0\x80\xaf@example.com", -1, NULL, NULL, 0, 0, 0 }, /* overlong / */
	{ "\xf0\x80\x80\xaf@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "\xc1\xbf@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "a\x80" "b@example.com", -1, NULL, NULL, 0, 0, 0 }, /* continuation */
	{ "\"a\xbf\"@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "\xed\xa0\x80@example.com", -1, NULL, NULL, 0, 0, 0 }, /* surrogate */
	{ "\xed\xbf\xbf@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "\xf4\x90\x80\x80@example.com", -1, NULL, NULL, 0, 0, 0 }, /* > 10FFFF */
	{ "\xf5\x80\x80\x80@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "\xc2\x85@example.com", -1, NULL, NULL, 0, 0, 0 },  /* C1: NEL */
	{ "\"\xc2\x9f\"@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "\xc3@example.com", -1, NULL, NULL, 0, 0, 0 },       /* truncated */
	{ "\xe2\x82@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "a@\xc3", -1, NULL, NULL, 0, 0, 0 },
	{ "\xc3\xa4\xa4@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "\xff@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "user@b\xc0\xaf" "cher.example", -1, NULL, NULL, 0, 0, 0 },
	{ "user@b\xed\xa0\x80" "cher.example", -1, NULL, NULL, 0, 0, 0 },
	{ "user@b\x80" "cher.example", -1, NULL, NULL, 0, 0, 0 },
	/* internationalised domains: lower-case A-label, utf8 stays 0 */
	{ "user@b\xc3\xbc" "cher.example", 0, "user", "xn--bcher-kva.example",
	  0, 0, 0 },
	{ "<User@B\xc3\x9c" "CHER.Example>", 0, "User", "xn--bcher-kva.example",
	  0, 0, 0 },                                       /* mixed case */
	{ "user@ex\xc3\xa4mple.com", 0, "user", "xn--exmple-cua.com", 0, 0, 0 },
	{ "x@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84",
	  0, "x", "xn--e1afmkfd.xn--p1ai", 0, 0, 0 },      /* пример.рф */
	{ "x@fa\xc3\x9f.de", 0, "x", "xn--fa-hia.de", 0, 0, 0 }, /* non-trans. */
	{ "x@b\xc3\xbc" "cher\xe3\x80\x82" "example", 0, "x", "xn--bcher-kva.example",
	  0, 0, 0 },                                       /* ideographic dot */
	{ "\xc3\xa4@b\xc3\xbc" "cher.example", 0, "\xc3\xa4",
	  "xn--bcher-kva.example", 0, 0, 1 },
	/* domains libidn2 refuses, or whose A-label breaks our rules */
	{ "x@\xe2\x98\x83.example", -1, NULL, NULL, 0, 0, 0 }, /* disallowed */
	{ "x@a\xe2\x80\x8d" "b.example", -1, NULL, NULL, 0, 0, 0 }, /* ZWJ */
	{ "x@\xcc\x81" "b.example", -1, NULL, NULL, 0, 0, 0 },  /* leading mark */
	{ "x@a\xd7\x90.example", -1, NULL, NULL, 0, 0, 0 },  /* bidi */
	{ "x@-\xc3\xbc.example", -1, NULL, NULL, 0, 0, 0 },
	{ "x@\xc3\xbc.example.", -1, NULL, NULL, 0, 0, 0 },
	{ "x@\xc3\xbc..example", -1, NULL, NULL, 0, 0, 0 },
	{ "x@\xc3\xbc.123", -1, NULL, NULL, 0, 0, 0 },
	{ "x@\xc3\xbc", -1, NULL, NULL, 0, 0, 0 },
	{ "x@\xc3\xbc_b.example", -1, NULL, NULL, 0, 0, 0 },
	{ "x@\xc3\xbc b.example", -1, NULL, NULL, 0, 0, 0 },
	{ "x@[\xc3\xbc]", -1, NULL, NULL, 0, 0, 0 },
	{ "user@example.com\x7f", -1, NULL, NULL, 0, 0, 0 },
	{ "user@example.com\r", -1, NULL, NULL, 0, 0, 0 },
	{ "user@example.com\n", -1, NULL, NULL, 0, 0, 0 },
	{ "user\r\nRCPT TO:<x@y.z>@example.com", -1, NULL, NULL, 0, 0, 0 },
	{ "\"user\r\n\"@example.com", -1, NULL, NULL, 0, 0, 0 },
};

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Test names must stay on one TAP line: escape what is not printable. */
static const char *
vis(const char *s)
{
	static char out[1024];
	size_t o = 0;

	for (; *s != '\0' && o < sizeof(out) - 5; s++) {
		unsigned char c = (unsigned char)*s;

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
		const struct acase *c = &cases[i];
		struct mailbox mb;
		int rc = address_parse(c->in, strlen(c->in), &mb);

		is_int(rc, c->rc, "parse [%zu] %s", i, vis(c->in));
		if (rc != 0 || c->rc != 0)
			continue;
		is_str(mb.local, c->local, "local [%zu]", i);
		is_str(mb.domain, c->domain, "domain [%zu]", i);
		is_int(mb.null, c->null, "null [%zu]", i);
		is_int(mb.literal, c->literal, "literal [%zu]", i);
		is_int(mb.utf8, c->utf8, "utf8 [%zu]", i);
	}
}

/* Replace or insert NUL, CR, LF, TAB, DEL, 8-bit at every position. */
static void
test_hostile_bytes(void)
{
	static const char good[] = "<first.last@mail.example.com>";
	static const char bad[] = { '\0', '\r', '\n', '\t', 0x7f, (char)0x80,
	    (char)0xff, ' ' };
	size_t len = sizeof(good) - 1, i, b;
	char buf[64];
	struct mailbox mb;

	is_int(address_parse(good, len, &mb), 0, "hostile: base is good");
	for (b = 0; b < sizeof(bad); b++) {
		int okr = 1, oki = 1;

		for (i = 0; i < len; i++) {
			memcpy(buf, good, len);
			buf[i] = bad[b];
			if (address_parse(buf, len, &mb) != -1)
				okr = 0;
			memcpy(buf, good, i);
			buf[i] = bad[b];
			memcpy(buf + i + 1, good + i, len - i);
			if (address_parse(buf, len + 1, &mb) != -1)
				oki = 0;
		}
		ok(okr, "byte 0x%02x replacing every position is rejected",
		    (unsigned char)bad[b]);
		ok(oki, "byte 0x%02x inserted at every position is rejected",
		    (unsigned char)bad[b]);
	}
	/* inside quotes a space is fine, other hostile bytes are not */
	for (b = 0; b < sizeof(bad); b++) {
		int okq = 1;

		for (i = 1; i < 4; i++) {
			memcpy(buf, "\"a b\"@example.com", 17);
			buf[i] = bad[b];
			if ((address_parse(buf, 17, &mb) == 0) != (bad[b] == ' '))
				okq = 0;
		}
		ok(okq, "byte 0x%02x inside quotes", (unsigned char)bad[b]);
	}
	/* the length is what counts, not a NUL terminator */
	is_int(address_parse("user@example.com", 8, &mb), -1,
	    "length cuts the domain");
	is_int(address_parse("a@example.com\0junk", 18, &mb), -1,
	    "NUL then junk within len");
}

/* The limits of address.h: ADDR_LOCAL_MAX as written, ADDR_PATH_MAX as
 * sent (A-label), labels and names as in DNS. */
static void
test_lengths(void)
{
	char addr[2048], *l256 = repeat('l', 256), *l257 = repeat('l', 257);
	char *l254 = repeat('q', 254), *lab63 = repeat('a', 63);
	char *lab64 = repeat('a', 64), u[ADDR_INPUT_MAX + 2];
	struct mailbox mb;
	char dom[ADDR_DOMAIN_MAX + 1], d253[300], d254[300], d232[300];
	size_t i;

	snprintf(addr, sizeof(addr), "%s@example.com", l256);
	is_int(address_parse(addr, strlen(addr), &mb), 0, "local part of 256");
	is_int((int)strlen(mb.local), 256, "local part of 256 kept whole");
	snprintf(addr, sizeof(addr), "%s@example.com", l257);
	is_int(address_parse(addr, strlen(addr), &mb), -1, "local part of 257");
	snprintf(addr, sizeof(addr), "\"%s\"@example.com", l254);
	is_int(address_parse(addr, strlen(addr), &mb), 0,
	    "quoted local part of 256 with quotes");
	is_int((int)strlen(mb.local), 256, "... kept whole, quotes included");
	snprintf(addr, sizeof(addr), "\"%sq\"@example.com", l254);
	is_int(address_parse(addr, strlen(addr), &mb), -1,
	    "quoted local part of 257 with quotes");
	/* 128 two-byte characters: 256 octets as written */
	for (i = 0; i < 128; i++)
		memcpy(u + 2 * i, "\xc3\xa4", 2);
	memcpy(u + 256, "@example.com", 13);
	is_int(address_parse(u, strlen(u), &mb), 0, "UTF-8 local of 256 octets");
	memmove(u + 1, u, strlen(u) + 1);
	u[0] = 'x';
	is_int(address_parse(u, strlen(u), &mb), -1, "UTF-8 local of 257 octets");

	snprintf(addr, sizeof(addr), "x@%s.com", lab63);
	is_int(address_parse(addr, strlen(addr), &mb), 0, "label of 63");
	snprintf(addr, sizeof(addr), "x@%s.com", lab64);
	is_int(address_parse(addr, strlen(addr), &mb), -1, "label of 64");

	/* 63+1+63+1+63+1+61 = 253; then 254; and 232 */
	snprintf(d253, sizeof(d253), "%s.%s.%s.%.61s", lab63, lab63, lab63,
	    lab63);
	snprintf(d254, sizeof(d254), "%s.%s.%s.%.62s", lab63, lab63, lab63,
	    lab63);
	snprintf(d232, sizeof(d232), "%s.%s.%s.%.40s", lab63, lab63, lab63,
	    lab63);
	is_int((int)strlen(d253), 253, "d253 has 253 octets");
	is_int(address_parse_domain(d253, 253, dom), 0, "domain of 253");
	is_int(address_parse_domain(d254, 254, dom), -1, "domain of 254");
	snprintf(addr, sizeof(addr), "%.252s.", d253);
	is_int(address_parse_domain(addr, 253, dom), -1,
	    "domain of 252 plus trailing dot");
	snprintf(addr, sizeof(addr), "x@%s", d253);
	is_int(address_parse(addr, strlen(addr), &mb), 0,
	    "domain of 253 in an address");
	snprintf(addr, sizeof(addr), "x@%s", d254);
	is_int(address_parse(addr, strlen(addr), &mb), -1,
	    "domain of 254 in an address");

	/* path limit: 256 + 1 + 232 + 2 = 491 octets is the most */
	is_int(ADDR_PATH_MAX, 491, "ADDR_PATH_MAX is 491");
	snprintf(addr, sizeof(addr), "<%s@%s>", l256, d232);
	is_int((int)strlen(addr), 491, "path of 491 octets built");
	is_int(address_parse(addr, strlen(addr), &mb), 0, "path of 491 octets");
	is_str(mb.domain, d232, "path of 491: domain kept");
	is_int(address_parse(addr + 1, strlen(addr) - 2, &mb), 0,
	    "bare address of 489 octets");
	snprintf(addr, sizeof(addr), "<%s@a%s>", l256, d232);
	is_int(address_parse(addr, strlen(addr), &mb), -1,
	    "path of 492 octets");
	is_int(address_parse(addr + 1, strlen(addr) - 2, &mb), -1,
	    "bare address of 490 octets");
	/* the path is measured as sent, A-label (13) not U-label (7):
	 * 2 + 256 + 1 + 14 + 218 = 491 fits, with 220 it does not */
	snprintf(addr, sizeof(addr), "%s@b\xc3\xbc" "cher.%s.%s.%s.%.26s", l256,
	    lab63, lab63, lab63, lab63);
	is_int(address_parse(addr, strlen(addr), &mb), 0,
	    "IDN path of 491 octets as sent");
	is_int((int)strlen(mb.domain), 13 + 1 + 218, "... its A-label domain");
	snprintf(addr, sizeof(addr), "%s@b\xc3\xbc" "cher.%s.%s.%s.%.28s", l256,
	    lab63, lab63, lab63, lab63);
	is_int(address_parse(addr, strlen(addr), &mb), -1,
	    "IDN path of 493 as sent (487 as written) is refused");
	is_int(address_parse(u, ADDR_INPUT_MAX + 1, &mb), -1,
	    "input beyond ADDR_INPUT_MAX");
	free(l256), free(l257), free(l254), free(lab63), free(lab64);
}

/* Issue 9 item 11: inet_pton stops at a NUL, the literal must not. */
static void
test_literal_nul(void)
{
	static const char a[] = "user@[1.2.3.4\0junk]";
	static const char b[] = "<user@[IPv6:::1\0zz]>";
	static const char c[] = "user@[1.2.3.4]\0junk";
	static const char d[] = "user@[1.2.3.4\0]";
	struct mailbox mb;

	is_int(address_parse(a, sizeof(a) - 1, &mb), -1,
	    "literal [1.2.3.4\\0junk] is refused");
	is_int(address_parse(b, sizeof(b) - 1, &mb), -1,
	    "literal [IPv6:::1\\0zz] is refused");
	is_int(address_parse(c, sizeof(c) - 1, &mb), -1,
	    "literal [1.2.3.4] then NUL and junk is refused");
	is_int(address_parse(d, sizeof(d) - 1, &mb), -1,
	    "literal [1.2.3.4\\0] is refused");
	is_int(address_parse("user@[1.2.3.4 ]", 15, &mb), -1,
	    "literal with a space is refused");
	is_int(address_parse("user@[1.2.3.4]", 14, &mb), 0,
	    "literal [1.2.3.4] still parses");
}

static void
test_smtputf8(void)
{
	struct mailbox mb;
	char buf[ADDR_BUF];

	is_int(address_needs_smtputf8("user@example.com"), 0,
	    "ASCII address: no SMTPUTF8");
	is_int(address_needs_smtputf8(""), 0, "null sender: no SMTPUTF8");
	is_int(address_needs_smtputf8("\xc3\xa4@example.com"), 1,
	    "UTF-8 local part: SMTPUTF8");
	address_parse("user@b\xc3\xbc" "cher.example", 20, &mb);
	address_format(&mb, buf);
	is_str(buf, "user@xn--bcher-kva.example", "IDN formats as A-label");
	is_int(address_needs_smtputf8(buf), 0, "IDN alone: no SMTPUTF8");
	address_parse("\xc3\xa4@b\xc3\xbc" "cher.example", 18, &mb);
	address_format(&mb, buf);
	is_str(buf, "\xc3\xa4@xn--bcher-kva.example",
	    "UTF-8 local part and IDN");
	is_int(address_needs_smtputf8(buf), 1, "... needs SMTPUTF8");
	is_int(mb.utf8, 1, "... and mb.utf8 says so");
}

static void
test_parse_domain(void)
{
	static const struct { const char *in; int rc; const char *out; } d[] = {
		{ "Example.COM", 0, "example.com" },
		{ "mx1.example.net", 0, "mx1.example.net" },
		{ "example.com.", -1, NULL },
		{ "localhost", -1, NULL },
		{ "", -1, NULL },
		{ ".", -1, NULL },
		{ "[192.0.2.1]", -1, NULL },
		{ "user@example.com", -1, NULL },
		{ "exa mple.com", -1, NULL },
		{ "example.com\r", -1, NULL },
		{ "1.2.3.4", -1, NULL },
		{ "a.b-", -1, NULL },
		{ "B\xc3\xbc" "CHER.example", 0, "xn--bcher-kva.example" },
		{ "xn--bcher-kva.example", 0, "xn--bcher-kva.example" },
		{ "\xe2\x98\x83.example", -1, NULL },
		{ "b\xc3\xbc" "cher.example.", -1, NULL },
		{ "b\xed\xa0\x80.example", -1, NULL },
		{ "b\xc3\xbc" "cher.example\r", -1, NULL },
	};
	char out[ADDR_DOMAIN_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		int rc = address_parse_domain(d[i].in, strlen(d[i].in), out);

		is_int(rc, d[i].rc, "parse_domain \"%s\"", vis(d[i].in));
		if (rc == 0 && d[i].rc == 0)
			is_str(out, d[i].out, "parse_domain \"%s\" out",
			    d[i].in);
	}
}

/* Formatting; the cache keys made from it are record.c's (unit-record). */
static void
test_format(void)
{
	struct mailbox mb;
	char buf[ADDR_BUF];

	address_parse("<Bob.Smith@Example.COM>", 23, &mb);
	address_format(&mb, buf);
	is_str(buf, "Bob.Smith@example.com", "format keeps local case");
	address_parse("\"a b\"@Example.com", 17, &mb);
	address_format(&mb, buf);
	is_str(buf, "\"a b\"@example.com", "format quoted");
	address_parse("<>", 2, &mb);
	address_format(&mb, buf);
	is_str(buf, "", "format null");
	address_parse("u@[IPv6:2001:DB8::1]", 20, &mb);
	address_format(&mb, buf);
	is_str(buf, "u@[ipv6:2001:db8::1]", "format literal");
}

int
main(void)
{
	plan_no_plan();
	test_table();
	test_hostile_bytes();
	test_lengths();
	test_literal_nul();
	test_smtputf8();
	test_parse_domain();
	test_format();
	return done_testing();
}
