/*
 * netaddr.h - IP addresses: parse, format, CIDR match, the target
 * classification of doc/protocol.md 4a, and the sockaddr to give the kernel.
 * Pure: no I/O, no socket is opened here.
 */
#ifndef SAVD_NETADDR_H
#define SAVD_NETADDR_H

#include <stddef.h>

#define NETADDR_STRLEN 46       /* INET6_ADDRSTRLEN */

struct netaddr {
	int family;                     /* AF_INET or AF_INET6 */
	unsigned char a[16];            /* network order; 4 bytes used for v4 */
};

struct cidr {
	struct netaddr net;
	int prefix;                     /* 0..32 or 0..128 */
};

/* An address with a port: "ip", "ip:port", "[ipv6]" or "[ipv6]:port". */
struct hostport {
	struct netaddr ip;
	int port;                       /* default_port when absent */
};

enum netclass {
	NC_PUBLIC,
	NC_LOOPBACK,            /* 127/8, ::1 */
	NC_PRIVATE,             /* 10/8, 172.16/12, 192.168/16, fc00::/7 */
	NC_LINKLOCAL,           /* 169.254/16, fe80::/10 */
	NC_CGNAT,               /* 100.64/10 */
	NC_MULTICAST,           /* 224/4, ff00::/8 */
	NC_RESERVED,            /* 0/8, 240/4, 255.255.255.255, TEST-NETs,
	                           192.0.0/24, 198.18/15, ::/128, 64:ff9b::/96,
	                           2001:db8::/32, 100::/64, ... */
	NC_MAPPED,              /* ::ffff:0:0/96 and ::/96 compatible */
	NC__COUNT
};

int netaddr_parse(const char *s, struct netaddr *out);          /* 0 / -1 */
void netaddr_format(const struct netaddr *a, char *buf);        /* NETADDR_STRLEN */
int netaddr_equal(const struct netaddr *a, const struct netaddr *b);
enum netclass netaddr_classify(const struct netaddr *a);
const char *netclass_name(enum netclass);

int cidr_parse(const char *s, struct cidr *out);                /* "a/n" or "a" */
int cidr_match(const struct cidr *c, const struct netaddr *a);
int cidr_list_match(const struct cidr *v, size_t n, const struct netaddr *a);

struct sockaddr_storage;
/* Fill ss for a, port; returns the length to pass with it. */
unsigned netaddr_sockaddr(const struct netaddr *a, int port,
    struct sockaddr_storage *ss);

int hostport_parse(const char *s, int default_port, struct hostport *out);
/* "ip:port" or "[ipv6]:port" into buf of NETADDR_STRLEN + 8 bytes. */
void hostport_format(const struct hostport *hp, char *buf);

#endif
