/*
 * unit-address.c - RFC 5321 mailbox parsing: a table of good and bad
 * addresses, hostile bytes at every position, length limits, keys.
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
};

static const struct acase cases[] = {
	/* plain forms */
	{ "user@example.com", 0, "user", "example.com", 0, 0 },
	{ "<user@example.com>", 0, "user", "example.com", 0, 0 },
	{ "<>", 0, "", "", 1, 0 },
	{ "a@b.co", 0, "a", "b.co", 0, 0 },
	{ "first.last@sub.example.org", 0, "first.last", "sub.example.org", 0, 0 },
	{ "User.Name@EXAMPLE.COM", 0, "User.Name", "example.com", 0, 0 },
	{ "<MiXeD@Ex-Ample.NET>", 0, "MiXeD", "ex-ample.net", 0, 0 },
	{ "x@xn--bcher-kva.example", 0, "x", "xn--bcher-kva.example", 0, 0 },
	{ "x@1example.com", 0, "x", "1example.com", 0, 0 },
	{ "x@123.example", 0, "x", "123.example", 0, 0 },
	{ "x@a-b-c.d-e", 0, "x", "a-b-c.d-e", 0, 0 },
	/* every atext special */
	{ "!#$%&'*+-/=?^_`{|}~@example.com", 0, "!#$%&'*+-/=?^_`{|}~",
	  "example.com", 0, 0 },
	{ "user+tag@example.com", 0, "user+tag", "example.com", 0, 0 },
	/* SRS and BATV */
	{ "SRS0=HHH=TT=example.org=user@fwd.example.com", 0,
	  "SRS0=HHH=TT=example.org=user", "fwd.example.com", 0, 0 },
	{ "<SRS1=XXX=fwd.example.com==HHH=TT=example.org=user@fwd2.example.net>",
	  0, "SRS1=XXX=fwd.example.com==HHH=TT=example.org=user",
	  "fwd2.example.net", 0, 0 },
	{ "prvs=1234567890=user@example.com", 0, "prvs=1234567890=user",
	  "example.com", 0, 0 },
	/* quoted local parts */
	{ "\"a b\"@example.com", 0, "\"a b\"", "example.com", 0, 0 },
	{ "<\"john smith\"@Example.com>", 0, "\"john smith\"", "example.com",
	  0, 0 },
	{ "\"a\\\"b\"@example.com", 0, "\"a\\\"b\"", "example.com", 0, 0 },
	{ "\"a\\\\b\"@example.com", 0, "\"a\\\\b\"", "example.com", 0, 0 },
	{ "\"a@b\"@example.com", 0, "\"a@b\"", "example.com", 0, 0 },
	{ "\"a.\"@example.com", 0, "\"a.\"", "example.com", 0, 0 },
	{ "\"<>\"@example.com", 0, "\"<>\"", "example.com", 0, 0 },
	{ "\"\\ \"@example.com", 0, "\"\\ \"", "example.com", 0, 0 },
	{ "\"\"@example.com", -1, NULL, NULL, 0, 0 },
	{ "\"abc@example.com", -1, NULL, NULL, 0, 0 },
	{ "\"a\"b@example.com", -1, NULL, NULL, 0, 0 },
	{ "a\"b\"@example.com", -1, NULL, NULL, 0, 0 },
	{ "\"a\\\"@example.com", -1, NULL, NULL, 0, 0 },
	{ "\"a\tb\"@example.com", -1, NULL, NULL, 0, 0 },
	{ "\"a\\\tb\"@example.com", -1, NULL, NULL, 0, 0 },
	/* address literals */
	{ "user@[192.0.2.1]", 0, "user", "[192.0.2.1]", 0, 1 },
	{ "<user@[IPv6:2001:DB8::1]>", 0, "user", "[ipv6:2001:db8::1]", 0, 1 },
	{ "user@[ipv6:::1]", 0, "user", "[ipv6:::1]", 0, 1 },
	{ "user@[IPv6:::ffff:192.0.2.1]", 0, "user", "[ipv6:::ffff:192.0.2.1]",
	  0, 1 },
	{ "user@[192.0.2.256]", -1, NULL, NULL, 0, 0 },
	{ "user@[192.0.2]", -1, NULL, NULL, 0, 0 },
	{ "user@[2001:db8::1]", -1, NULL, NULL, 0, 0 },
	{ "user@[IPv6:192.0.2.1]", -1, NULL, NULL, 0, 0 },
	{ "user@[IPv6:fe80::1%eth0]", -1, NULL, NULL, 0, 0 },
	{ "user@[]", -1, NULL, NULL, 0, 0 },
	{ "user@[IPv6:]", -1, NULL, NULL, 0, 0 },
	{ "user@[192.0.2.1", -1, NULL, NULL, 0, 0 },
	{ "user@192.0.2.1]", -1, NULL, NULL, 0, 0 },
	{ "user@[tag:foo]", -1, NULL, NULL, 0, 0 },
	/* bare IP as a domain name: last label all digits */
	{ "user@192.0.2.1", -1, NULL, NULL, 0, 0 },
	/* dot-string errors */
	{ ".user@example.com", -1, NULL, NULL, 0, 0 },
	{ "user.@example.com", -1, NULL, NULL, 0, 0 },
	{ "us..er@example.com", -1, NULL, NULL, 0, 0 },
	{ "us er@example.com", -1, NULL, NULL, 0, 0 },
	{ "us(er)@example.com", -1, NULL, NULL, 0, 0 },
	{ "us,er@example.com", -1, NULL, NULL, 0, 0 },
	{ "us[er@example.com", -1, NULL, NULL, 0, 0 },
	{ "a@b@example.com", -1, NULL, NULL, 0, 0 },
	{ "@example.com", -1, NULL, NULL, 0, 0 },
	{ "<@example.com>", -1, NULL, NULL, 0, 0 },
	{ "userexample.com", -1, NULL, NULL, 0, 0 },
	{ "user@", -1, NULL, NULL, 0, 0 },
	{ "<user@>", -1, NULL, NULL, 0, 0 },
	{ "", -1, NULL, NULL, 0, 0 },
	{ "@", -1, NULL, NULL, 0, 0 },
	/* brackets */
	{ "<user@example.com", -1, NULL, NULL, 0, 0 },
	{ "user@example.com>", -1, NULL, NULL, 0, 0 },
	{ "<<user@example.com>>", -1, NULL, NULL, 0, 0 },
	{ "<", -1, NULL, NULL, 0, 0 },
	{ ">", -1, NULL, NULL, 0, 0 },
	{ "< >", -1, NULL, NULL, 0, 0 },
	{ "< user@example.com>", -1, NULL, NULL, 0, 0 },
	{ "<user@example.com >", -1, NULL, NULL, 0, 0 },
	{ "<<>>", -1, NULL, NULL, 0, 0 },
	/* source routes */
	{ "<@a.example,@b.example:user@example.com>", -1, NULL, NULL, 0, 0 },
	{ "<@a.example:user@example.com>", -1, NULL, NULL, 0, 0 },
	/* domain errors */
	{ "user@localhost", -1, NULL, NULL, 0, 0 },
	{ "user@example.com.", -1, NULL, NULL, 0, 0 },
	{ "user@.example.com", -1, NULL, NULL, 0, 0 },
	{ "user@example..com", -1, NULL, NULL, 0, 0 },
	{ "user@-example.com", -1, NULL, NULL, 0, 0 },
	{ "user@example-.com", -1, NULL, NULL, 0, 0 },
	{ "user@example.com-", -1, NULL, NULL, 0, 0 },
	{ "user@exa_mple.com", -1, NULL, NULL, 0, 0 },
	{ "user@exa mple.com", -1, NULL, NULL, 0, 0 },
	{ "user@example.com ", -1, NULL, NULL, 0, 0 },
	{ " user@example.com", -1, NULL, NULL, 0, 0 },
	{ "user@ex\xc3\xa4mple.com", -1, NULL, NULL, 0, 0 },
	{ "\xc3\xa4@example.com", -1, NULL, NULL, 0, 0 },
	{ "\"\xc3\xa4\"@example.com", -1, NULL, NULL, 0, 0 },
	{ "user@example.com\x7f", -1, NULL, NULL, 0, 0 },
	{ "user@example.com\r", -1, NULL, NULL, 0, 0 },
	{ "user@example.com\n", -1, NULL, NULL, 0, 0 },
	{ "user\r\nRCPT TO:<x@y.z>@example.com", -1, NULL, NULL, 0, 0 },
	{ "\"user\r\n\"@example.com", -1, NULL, NULL, 0, 0 },
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

static void
test_lengths(void)
{
	char addr[1024], *l64 = repeat('l', 64), *l65 = repeat('l', 65);
	char *l62 = repeat('q', 62), *lab63 = repeat('a', 63);
	char *lab64 = repeat('a', 64);
	struct mailbox mb;
	char dom[ADDR_DOMAIN_MAX + 1], d253[300], d254[300], d252[300];

	snprintf(addr, sizeof(addr), "%s@example.com", l64);
	is_int(address_parse(addr, strlen(addr), &mb), 0, "local part of 64");
	is_int((int)strlen(mb.local), 64, "local part of 64 kept whole");
	snprintf(addr, sizeof(addr), "%s@example.com", l65);
	is_int(address_parse(addr, strlen(addr), &mb), -1, "local part of 65");
	snprintf(addr, sizeof(addr), "\"%s\"@example.com", l62);
	is_int(address_parse(addr, strlen(addr), &mb), 0,
	    "quoted local part of 64 with quotes");
	snprintf(addr, sizeof(addr), "\"%sq\"@example.com", l62);
	is_int(address_parse(addr, strlen(addr), &mb), -1,
	    "quoted local part of 65 with quotes");

	snprintf(addr, sizeof(addr), "x@%s.com", lab63);
	is_int(address_parse(addr, strlen(addr), &mb), 0, "label of 63");
	snprintf(addr, sizeof(addr), "x@%s.com", lab64);
	is_int(address_parse(addr, strlen(addr), &mb), -1, "label of 64");

	/* 63+1+63+1+63+1+61 = 253; then 254; and 252 */
	snprintf(d253, sizeof(d253), "%s.%s.%s.%.61s", lab63, lab63, lab63,
	    lab63);
	snprintf(d254, sizeof(d254), "%s.%s.%s.%.62s", lab63, lab63, lab63,
	    lab63);
	snprintf(d252, sizeof(d252), "%s.%s.%s.%.60s", lab63, lab63, lab63,
	    lab63);
	is_int((int)strlen(d253), 253, "d253 has 253 octets");
	is_int(address_parse_domain(d253, 253, dom), 0, "domain of 253");
	is_int(address_parse_domain(d254, 254, dom), -1, "domain of 254");
	snprintf(addr, sizeof(addr), "%s.", d252);
	is_int(address_parse_domain(addr, 253, dom), -1,
	    "domain of 252 plus trailing dot");
	/* path limit: <x@252> is 256 octets, <x@253> is 257 */
	snprintf(addr, sizeof(addr), "<x@%s>", d252);
	is_int(address_parse(addr, strlen(addr), &mb), 0,
	    "path of 256 octets");
	is_str(mb.domain, d252, "path of 256: domain kept");
	snprintf(addr, sizeof(addr), "x@%s", d252);
	is_int(address_parse(addr, strlen(addr), &mb), 0,
	    "bare address of 254 octets");
	snprintf(addr, sizeof(addr), "<x@%s>", d253);
	is_int(address_parse(addr, strlen(addr), &mb), -1,
	    "path of 257 octets");
	snprintf(addr, sizeof(addr), "x@%s", d253);
	is_int(address_parse(addr, strlen(addr), &mb), -1,
	    "bare address of 255 octets");
	snprintf(addr, sizeof(addr), "%s@%s", l64, d254);
	is_int(address_parse(addr, strlen(addr), &mb), -1,
	    "local 64 and domain 254");
	free(l64), free(l65), free(l62), free(lab63), free(lab64);
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

static void
test_format_keys(void)
{
	struct mailbox mb;
	char buf[ADDR_BUF], key[ADDR_BUF + 2], small[8];

	address_parse("<Bob.Smith@Example.COM>", 23, &mb);
	address_format(&mb, buf);
	is_str(buf, "Bob.Smith@example.com", "format keeps local case");
	is_int((int)address_key(&mb, key, sizeof(key)), 23, "key length");
	is_str(key, "a:Bob.Smith@example.com", "address key");
	is_int((int)address_key(&mb, small, sizeof(small)), 0,
	    "key too long for cap: 0");
	is_str(small, "", "key too long for cap: empty, not truncated");
	is_int((int)address_key(&mb, key, 23), 0, "cap without room for NUL");
	is_int((int)address_key(&mb, key, 24), 23, "cap exactly fits");
	is_int((int)address_domain_key(mb.domain, key, sizeof(key)), 13,
	    "domain key length");
	is_str(key, "d:example.com", "domain key");
	address_domain_key("MiXed.Example", key, sizeof(key));
	is_str(key, "d:mixed.example", "domain key lower-cases");
	is_int((int)address_domain_key("example.com", small, sizeof(small)),
	    0, "domain key too long for cap");

	address_parse("\"a b\"@Example.com", 17, &mb);
	address_format(&mb, buf);
	is_str(buf, "\"a b\"@example.com", "format quoted");
	address_key(&mb, key, sizeof(key));
	is_str(key, "a:\"a b\"@example.com", "key quoted");

	address_parse("<>", 2, &mb);
	address_format(&mb, buf);
	is_str(buf, "", "format null");
	is_int((int)address_key(&mb, key, sizeof(key)), 2, "null key length");

	address_parse("u@[IPv6:2001:DB8::1]", 20, &mb);
	address_format(&mb, buf);
	is_str(buf, "u@[ipv6:2001:db8::1]", "format literal");
	address_domain_key(mb.domain, key, sizeof(key));
	is_str(key, "d:[ipv6:2001:db8::1]", "literal domain key");
}

int
main(void)
{
	plan_no_plan();
	test_table();
	test_hostile_bytes();
	test_lengths();
	test_parse_domain();
	test_format_keys();
	return done_testing();
}
