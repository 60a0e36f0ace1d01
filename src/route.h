/*
 * route.h - one `routes` entry: a domain sent to a fixed host instead of
 * its MX.  A header of its own so that the value parsers (confval.h) and
 * the key table (config.h) can both use it without including each other.
 */
#ifndef SAVD_ROUTE_H
#define SAVD_ROUTE_H

#include "netaddr.h"
#include "address.h"

struct route {
	char domain[ADDR_DOMAIN_MAX + 1];       /* lower-cased */
	char host[ADDR_DOMAIN_MAX + 1];         /* host name, or "" when literal */
	int literal;                            /* [ip]: ip is valid */
	struct netaddr ip;
	int port;                               /* 0 = use smtp_port */
};

#endif
