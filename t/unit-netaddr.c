/*
 * unit-netaddr.c - address parsing/formatting, classification, CIDR and
 * host:port parsing.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include "tap.h"
#include "netaddr.h"

static const struct {
	const char *in;
	int ok;
	int family;
	const char *out;        /* canonical form */
} parse_tab[] = {
	{ "1.2.3.4", 0, AF_INET, "1.2.3.4" },
	{ "0.0.0.0", 0, AF_INET, "0.0.0.0" },
	{ "255.255.255.255", 0, AF_INET, "255.255.255.255" },
	{ "::1", 0, AF_INET6, "::1" },
	{ "::", 0, AF_INET6, "::" },
	{ "2001:DB8:0:0:0:0:0:1", 0, AF_INET6, "2001:db8::1" },
	{ "::ffff:1.2.3.4", 0, AF_INET6, "::ffff:1.2.3.4" },
	{ "fe80::1", 0, AF_INET6, "fe80::1" },
	{ "", -1, 0, NULL },
	{ "1.2.3", -1, 0, NULL },
	{ "1.2.3.4.5", -1, 0, NULL },
	{ "256.1.1.1", -1, 0, NULL },
	{ "01.2.3.4", -1, 0, NULL },
	{ " 1.2.3.4", -1, 0, NULL },
	{ "1.2.3.4 ", -1, 0, NULL },
	{ "1.2.3.4/8", -1, 0, NULL },
	{ "[::1]", -1, 0, NULL },
	{ "fe80::1%eth0", -1, 0, NULL },
	{ ":::", -1, 0, NULL },
	{ "1:2:3:4:5:6:7:8:9", -1, 0, NULL },
	{ "example.com", -1, 0, NULL },
	{ "0000:0000:0000:0000:0000:0000:0000:0000:1", -1, 0, NULL },
	{ "1111111111111111111111111111111111111111111111111111111", -1, 0, NULL },
};

static const struct {
	const char *ip;
	enum netclass nc;
} class_tab[] = {
	{ "8.8.8.8", NC_PUBLIC },
	{ "1.1.1.1", NC_PUBLIC },
	{ "0.0.0.0", NC_RESERVED },
	{ "0.1.2.3", NC_RESERVED },
	{ "10.0.0.1", NC_PRIVATE },
	{ "11.0.0.1", NC_PUBLIC },
	{ "100.63.255.255", NC_PUBLIC },
	{ "100.64.0.1", NC_CGNAT },
	{ "100.127.255.255", NC_CGNAT },
	{ "100.128.0.0", NC_PUBLIC },
	{ "127.0.0.1", NC_LOOPBACK },
	{ "127.255.255.254", NC_LOOPBACK },
	{ "169.254.1.1", NC_LINKLOCAL },
	{ "172.15.255.255", NC_PUBLIC },
	{ "172.16.0.1", NC_PRIVATE },
	{ "172.31.255.255", NC_PRIVATE },
	{ "172.32.0.0", NC_PUBLIC },
	{ "192.0.0.8", NC_RESERVED },
	{ "192.0.2.10", NC_RESERVED },
	{ "192.0.3.1", NC_PUBLIC },
	{ "192.168.1.1", NC_PRIVATE },
	{ "198.18.0.1", NC_RESERVED },
	{ "198.19.255.255", NC_RESERVED },
	{ "198.20.0.0", NC_PUBLIC },
	{ "198.51.100.1", NC_RESERVED },
	{ "203.0.113.5", NC_RESERVED },
	{ "224.0.0.1", NC_MULTICAST },
	{ "239.255.255.255", NC_MULTICAST },
	{ "240.0.0.1", NC_RESERVED },
	{ "255.255.255.255", NC_RESERVED },
	{ "2a00:1450:4001::1", NC_PUBLIC },
	{ "2606:4700::1111", NC_PUBLIC },
	{ "::", NC_RESERVED },
	{ "::1", NC_LOOPBACK },
	{ "::2", NC_MAPPED },
	{ "::ffff:8.8.8.8", NC_MAPPED },
	{ "::ffff:127.0.0.1", NC_MAPPED },
	{ "::1.2.3.4", NC_MAPPED },
	{ "64:ff9b::8.8.8.8", NC_RESERVED },
	{ "100::1", NC_RESERVED },
	{ "2001:db8::1", NC_RESERVED },
	{ "2001:db9::1", NC_PUBLIC },
	{ "2001::1", NC_RESERVED },
	{ "2002:c000:0201::1", NC_RESERVED },
	{ "fc00::1", NC_PRIVATE },
	{ "fd12:3456::1", NC_PRIVATE },
	{ "fe80::1", NC_LINKLOCAL },
	{ "febf::1", NC_LINKLOCAL },
	{ "fec0::1", NC_PRIVATE },
	{ "ff02::1", NC_MULTICAST },
	{ "4000::1", NC_RESERVED },
	{ "1::1", NC_RESERVED },
};

static const struct {
	const char *in;
	int ok;
	const char *net;
	int prefix;
} cidr_tab[] = {
	{ "10.0.0.0/8", 0, "10.0.0.0", 8 },
	{ "10.1.2.3/8", 0, "10.0.0.0", 8 },     /* host bits masked */
	{ "192.168.1.255/23", 0, "192.168.0.0", 23 },
	{ "1.2.3.4", 0, "1.2.3.4", 32 },
	{ "0.0.0.0/0", 0, "0.0.0.0", 0 },
	{ "::1/128", 0, "::1", 128 },
	{ "::1", 0, "::1", 128 },
	{ "2001:db8:ffff::/33", 0, "2001:db8:8000::", 33 },
	{ "::/0", 0, "::", 0 },
	{ "10.0.0.0/33", -1, NULL, 0 },
	{ "::/129", -1, NULL, 0 },
	{ "10.0.0.0/", -1, NULL, 0 },
	{ "10.0.0.0/-1", -1, NULL, 0 },
	{ "10.0.0.0/+8", -1, NULL, 0 },
	{ "10.0.0.0/8x", -1, NULL, 0 },
	{ "10.0.0.0/0008", -1, NULL, 0 },
	{ "10.0.0.0/8/8", -1, NULL, 0 },
	{ "/8", -1, NULL, 0 },
	{ "", -1, NULL, 0 },
	{ "10.0.0/8", -1, NULL, 0 },
};

static const struct {
	const char *cidr;
	const char *ip;
	int match;
} match_tab[] = {
	{ "10.0.0.0/8", "10.255.1.1", 1 },
	{ "10.0.0.0/8", "11.0.0.0", 0 },
	{ "172.16.0.0/12", "172.31.0.1", 1 },
	{ "172.16.0.0/12", "172.32.0.1", 0 },
	{ "1.2.3.4", "1.2.3.4", 1 },
	{ "1.2.3.4", "1.2.3.5", 0 },
	{ "0.0.0.0/0", "8.8.8.8", 1 },
	{ "0.0.0.0/0", "::1", 0 },              /* family must match */
	{ "::/0", "1.2.3.4", 0 },
	{ "::/0", "2001:db8::1", 1 },
	{ "::1/128", "::1", 1 },
	{ "::1/128", "::2", 0 },
	{ "2001:db8::/33", "2001:db8:7fff::1", 1 },
	{ "2001:db8::/33", "2001:db8:8000::1", 0 },
	{ "127.0.0.0/8", "::ffff:127.0.0.1", 0 },
};

static const struct {
	const char *in;
	int ok;
	const char *ip;
	int port;
} hp_tab[] = {
	{ "1.2.3.4", 0, "1.2.3.4", 53 },
	{ "1.2.3.4:5353", 0, "1.2.3.4", 5353 },
	{ "[::1]", 0, "::1", 53 },
	{ "[::1]:25", 0, "::1", 25 },
	{ "::1", 0, "::1", 53 },
	{ "2001:db8::1", 0, "2001:db8::1", 53 },
	{ "[1.2.3.4]:25", 0, "1.2.3.4", 25 },
	{ "1.2.3.4:1", 0, "1.2.3.4", 1 },
	{ "1.2.3.4:65535", 0, "1.2.3.4", 65535 },
	{ "1.2.3.4:0", -1, NULL, 0 },
	{ "1.2.3.4:65536", -1, NULL, 0 },
	{ "1.2.3.4:100000", -1, NULL, 0 },
	{ "1.2.3.4:", -1, NULL, 0 },
	{ "1.2.3.4:-1", -1, NULL, 0 },
	{ "1.2.3.4:53x", -1, NULL, 0 },
	{ "1.2.3.4:+53", -1, NULL, 0 },
	{ "[::1]:", -1, NULL, 0 },
	{ "[::1]x", -1, NULL, 0 },
	{ "[::1", -1, NULL, 0 },
	{ "::1]:53", -1, NULL, 0 },
	{ "[]:53", -1, NULL, 0 },
	{ "[::1]:53:53", -1, NULL, 0 },
	{ "localhost:53", -1, NULL, 0 },
	{ "", -1, NULL, 0 },
	{ ":53", -1, NULL, 0 },
	{ "1.2.3.4 :53", -1, NULL, 0 },
};

static void
test_parse(void)
{
	struct netaddr a;
	char buf[NETADDR_STRLEN];
	size_t i;

	for (i = 0; i < sizeof(parse_tab) / sizeof(parse_tab[0]); i++) {
		int r = netaddr_parse(parse_tab[i].in, &a);

		is_int(r, parse_tab[i].ok, "parse '%s'", parse_tab[i].in);
		if (r != 0 || parse_tab[i].ok != 0)
			continue;
		is_int(a.family, parse_tab[i].family, "family '%s'",
		    parse_tab[i].in);
		netaddr_format(&a, buf);
		is_str(buf, parse_tab[i].out, "format '%s'", parse_tab[i].in);
	}
}

static void
test_equal(void)
{
	struct netaddr a, b, c, d;

	netaddr_parse("10.0.0.1", &a);
	netaddr_parse("10.0.0.1", &b);
	netaddr_parse("10.0.0.2", &c);
	netaddr_parse("::ffff:10.0.0.1", &d);
	ok(netaddr_equal(&a, &b), "equal same");
	ok(!netaddr_equal(&a, &c), "not equal other");
	ok(!netaddr_equal(&a, &d), "v4 not equal mapped v6");
}

static void
test_classify(void)
{
	struct netaddr a;
	size_t i;

	for (i = 0; i < sizeof(class_tab) / sizeof(class_tab[0]); i++) {
		if (netaddr_parse(class_tab[i].ip, &a) != 0) {
			ok(0, "classify: cannot parse %s", class_tab[i].ip);
			continue;
		}
		is_str(netclass_name(netaddr_classify(&a)),
		    netclass_name(class_tab[i].nc), "classify %s",
		    class_tab[i].ip);
	}
	is_str(netclass_name(NC_PUBLIC), "public", "name public");
	is_str(netclass_name(NC_MAPPED), "mapped", "name mapped");
	is_str(netclass_name(NC__COUNT), "?", "name out of range");
}

static void
test_cidr(void)
{
	struct cidr c;
	struct netaddr a;
	char buf[NETADDR_STRLEN];
	size_t i;

	for (i = 0; i < sizeof(cidr_tab) / sizeof(cidr_tab[0]); i++) {
		int r = cidr_parse(cidr_tab[i].in, &c);

		is_int(r, cidr_tab[i].ok, "cidr_parse '%s'", cidr_tab[i].in);
		if (r != 0 || cidr_tab[i].ok != 0)
			continue;
		netaddr_format(&c.net, buf);
		is_str(buf, cidr_tab[i].net, "cidr net '%s'", cidr_tab[i].in);
		is_int(c.prefix, cidr_tab[i].prefix, "cidr prefix '%s'",
		    cidr_tab[i].in);
	}
	for (i = 0; i < sizeof(match_tab) / sizeof(match_tab[0]); i++) {
		if (cidr_parse(match_tab[i].cidr, &c) != 0 ||
		    netaddr_parse(match_tab[i].ip, &a) != 0) {
			ok(0, "match setup %s", match_tab[i].cidr);
			continue;
		}
		is_int(cidr_match(&c, &a), match_tab[i].match, "%s in %s",
		    match_tab[i].ip, match_tab[i].cidr);
	}
}

static void
test_cidr_list(void)
{
	struct cidr v[2];
	struct netaddr a;

	cidr_parse("127.0.0.0/8", &v[0]);
	cidr_parse("::1/128", &v[1]);
	netaddr_parse("127.0.0.2", &a);
	ok(cidr_list_match(v, 2, &a), "list match v4");
	netaddr_parse("::1", &a);
	ok(cidr_list_match(v, 2, &a), "list match v6");
	netaddr_parse("10.0.0.1", &a);
	ok(!cidr_list_match(v, 2, &a), "list no match");
	ok(!cidr_list_match(v, 0, &a), "empty list no match");
}

static void
test_hostport(void)
{
	struct hostport hp;
	char buf[NETADDR_STRLEN];
	char out[NETADDR_STRLEN + 8];
	size_t i;

	for (i = 0; i < sizeof(hp_tab) / sizeof(hp_tab[0]); i++) {
		int r = hostport_parse(hp_tab[i].in, 53, &hp);

		is_int(r, hp_tab[i].ok, "hostport '%s'", hp_tab[i].in);
		if (r != 0 || hp_tab[i].ok != 0)
			continue;
		netaddr_format(&hp.ip, buf);
		is_str(buf, hp_tab[i].ip, "hostport ip '%s'", hp_tab[i].in);
		is_int(hp.port, hp_tab[i].port, "hostport port '%s'",
		    hp_tab[i].in);
	}
	hostport_parse("1.2.3.4:25", 53, &hp);
	hostport_format(&hp, out);
	is_str(out, "1.2.3.4:25", "format v4");
	hostport_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 65535,
	    &hp);
	hostport_format(&hp, out);
	is_str(out, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
	    "format longest v6");
	hostport_parse("1.2.3.4", 0, &hp);
	is_int(hp.port, 0, "default port 0 kept");
}

int
main(void)
{
	plan_no_plan();
	test_parse();
	test_equal();
	test_classify();
	test_cidr();
	test_cidr_list();
	test_hostport();
	return done_testing();
}
