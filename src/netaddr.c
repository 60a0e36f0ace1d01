/*
 * netaddr.c - IP addresses without sockets: parse and format IPv4/IPv6,
 * CIDR prefixes, "ip:port" pairs, and the target classification of
 * doc/protocol.md 4a (which addresses a callout must never connect to).
 * Pure: inet_pton/inet_ntop only; no name lookups, no sockets, no I/O.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "netaddr.h"

/*
 * Special ranges, most specific first: the first match decides.  IPv6
 * outside 2000::/3 that matches nothing here is unallocated and counts as
 * reserved (see netaddr_classify).
 */
struct range {
	const char *prefix;
	enum netclass nc;
};

static const struct range ranges[] = {
	/* IPv4 */
	{ "0.0.0.0/8",		NC_RESERVED },
	{ "10.0.0.0/8",		NC_PRIVATE },
	{ "100.64.0.0/10",	NC_CGNAT },
	{ "127.0.0.0/8",	NC_LOOPBACK },
	{ "169.254.0.0/16",	NC_LINKLOCAL },
	{ "172.16.0.0/12",	NC_PRIVATE },
	{ "192.0.0.0/24",	NC_RESERVED },	/* IETF protocol assignments */
	{ "192.0.2.0/24",	NC_RESERVED },	/* TEST-NET-1 */
	{ "192.88.99.0/24",	NC_RESERVED },	/* 6to4 relay anycast */
	{ "192.168.0.0/16",	NC_PRIVATE },
	{ "198.18.0.0/15",	NC_RESERVED },	/* benchmarking */
	{ "198.51.100.0/24",	NC_RESERVED },	/* TEST-NET-2 */
	{ "203.0.113.0/24",	NC_RESERVED },	/* TEST-NET-3 */
	{ "224.0.0.0/4",	NC_MULTICAST },
	{ "240.0.0.0/4",	NC_RESERVED },	/* incl. 255.255.255.255 */
	/* IPv6 */
	{ "::/128",		NC_RESERVED },	/* unspecified */
	{ "::1/128",		NC_LOOPBACK },
	{ "::ffff:0:0/96",	NC_MAPPED },
	{ "::/96",		NC_MAPPED },	/* IPv4-compatible */
	{ "64:ff9b::/96",	NC_RESERVED },	/* NAT64 */
	{ "64:ff9b:1::/48",	NC_RESERVED },	/* local-use NAT64 */
	{ "100::/64",		NC_RESERVED },	/* discard-only */
	{ "2001::/32",		NC_RESERVED },	/* Teredo: embeds IPv4 */
	{ "2001:2::/48",	NC_RESERVED },	/* benchmarking */
	{ "2001:10::/28",	NC_RESERVED },	/* ORCHID */
	{ "2001:20::/28",	NC_RESERVED },	/* ORCHIDv2 */
	{ "2001:db8::/32",	NC_RESERVED },	/* documentation */
	{ "2002::/16",		NC_RESERVED },	/* 6to4: embeds IPv4 */
	{ "3fff::/20",		NC_RESERVED },	/* documentation */
	{ "fc00::/7",		NC_PRIVATE },	/* unique local */
	{ "fe80::/10",		NC_LINKLOCAL },
	{ "fec0::/10",		NC_PRIVATE },	/* site-local */
	{ "ff00::/8",		NC_MULTICAST },
};

#define NRANGES (sizeof(ranges) / sizeof(ranges[0]))

static const char *const class_names[NC__COUNT] = {
	[NC_PUBLIC] = "public",
	[NC_LOOPBACK] = "loopback",
	[NC_PRIVATE] = "private",
	[NC_LINKLOCAL] = "linklocal",
	[NC_CGNAT] = "cgnat",
	[NC_MULTICAST] = "multicast",
	[NC_RESERVED] = "reserved",
	[NC_MAPPED] = "mapped",
};

static int
addrlen(int family)
{
	return family == AF_INET ? 4 : 16;
}

int
netaddr_parse(const char *s, struct netaddr *out)
{
	struct netaddr a;

	memset(&a, 0, sizeof(a));
	if (s == NULL || strnlen(s, NETADDR_STRLEN) >= NETADDR_STRLEN)
		return -1;
	if (inet_pton(AF_INET, s, a.a) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.a) == 1)
		a.family = AF_INET6;
	else
		return -1;
	*out = a;
	return 0;
}

void
netaddr_format(const struct netaddr *a, char *buf)
{
	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    inet_ntop(a->family, a->a, buf, NETADDR_STRLEN) == NULL)
		snprintf(buf, NETADDR_STRLEN, "?");
}

int
netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
	return a->family == b->family &&
	    memcmp(a->a, b->a, addrlen(a->family)) == 0;
}

enum netclass
netaddr_classify(const struct netaddr *a)
{
	struct cidr c;
	size_t i;

	for (i = 0; i < NRANGES; i++) {
		if (cidr_parse(ranges[i].prefix, &c) == -1)
			continue;       /* cannot happen: the table is ours */
		if (cidr_match(&c, a))
			return ranges[i].nc;
	}
	/* Global unicast is 2000::/3; the rest of IPv6 is unallocated. */
	if (a->family == AF_INET6 && (a->a[0] & 0xe0) != 0x20)
		return NC_RESERVED;
	if (a->family != AF_INET && a->family != AF_INET6)
		return NC_RESERVED;
	return NC_PUBLIC;
}

const char *
netclass_name(enum netclass nc)
{
	if ((unsigned)nc >= NC__COUNT)
		return "?";
	return class_names[nc];
}

/* Parse 1..maxdigits decimal digits, nothing else; -1 on anything else. */
static long
parse_digits(const char *s, size_t maxdigits)
{
	long v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= maxdigits || s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return i == 0 ? -1 : v;
}

/* Clear the bits beyond the prefix. */
static void
mask_host(struct netaddr *a, int prefix)
{
	int i, n = addrlen(a->family);

	for (i = 0; i < n; i++) {
		if (prefix >= 8)
			prefix -= 8;
		else {
			a->a[i] &= (unsigned char)(0xff00 >> prefix);
			prefix = 0;
		}
	}
}

/* "a/n" or "a" (full length).  Host bits are accepted and masked off. */
int
cidr_parse(const char *s, struct cidr *out)
{
	char ip[NETADDR_STRLEN];
	const char *slash;
	struct cidr c;
	long n;
	size_t len;

	if (s == NULL)
		return -1;
	slash = strchr(s, '/');
	len = slash ? (size_t)(slash - s) : strlen(s);
	if (len >= sizeof(ip))
		return -1;
	memcpy(ip, s, len);
	ip[len] = '\0';
	memset(&c, 0, sizeof(c));
	if (netaddr_parse(ip, &c.net) == -1)
		return -1;
	c.prefix = addrlen(c.net.family) * 8;
	if (slash != NULL) {
		if ((n = parse_digits(slash + 1, 3)) < 0 || n > c.prefix)
			return -1;
		c.prefix = (int)n;
	}
	mask_host(&c.net, c.prefix);
	*out = c;
	return 0;
}

int
cidr_match(const struct cidr *c, const struct netaddr *a)
{
	int full, rest;

	if (c->net.family != a->family || c->prefix < 0 ||
	    c->prefix > addrlen(a->family) * 8)
		return 0;
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(c->net.a, a->a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((c->net.a[full] ^ a->a[full]) & (0xff00 >> rest) & 0xff) == 0;
}

int
cidr_list_match(const struct cidr *v, size_t n, const struct netaddr *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cidr_match(&v[i], a))
			return 1;
	return 0;
}

/* Port "1".."65535", digits only. */
static int
parse_port(const char *s)
{
	long n = parse_digits(s, 5);

	return n >= 1 && n <= 65535 ? (int)n : -1;
}

/*
 * "ip", "ip:port", "[ip]", "[ip]:port" (brackets may hold either family);
 * a bare address with more than one ':' is IPv6 without a port.
 */
int
hostport_parse(const char *s, int default_port, struct hostport *out)
{
	char ip[NETADDR_STRLEN];
	const char *end, *port = NULL;
	struct hostport hp;
	size_t len;

	if (s == NULL)
		return -1;
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
		s++;
	} else {
		end = strchr(s, ':');
		if (end != NULL && strchr(end + 1, ':') == NULL)
			port = end + 1;
		else
			end = s + strlen(s);
	}
	len = (size_t)(end - s);
	if (len >= sizeof(ip))
		return -1;
	memcpy(ip, s, len);
	ip[len] = '\0';
	memset(&hp, 0, sizeof(hp));
	if (netaddr_parse(ip, &hp.ip) == -1)
		return -1;
	hp.port = default_port;
	if (port != NULL && (hp.port = parse_port(port)) == -1)
		return -1;
	*out = hp;
	return 0;
}

void
hostport_format(const struct hostport *hp, char *buf)
{
	char ip[NETADDR_STRLEN];

	netaddr_format(&hp->ip, ip);
	if (hp->ip.family == AF_INET6)
		snprintf(buf, NETADDR_STRLEN + 8, "[%s]:%d", ip, hp->port);
	else
		snprintf(buf, NETADDR_STRLEN + 8, "%s:%d", ip, hp->port);
}

unsigned
netaddr_sockaddr(const struct netaddr *a, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		memcpy(&sin->sin_addr, a->a, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((unsigned short)port);
	memcpy(&sin6->sin6_addr, a->a, 16);
	return sizeof(*sin6);
}
