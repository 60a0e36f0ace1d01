/*
 * resolve.h - from a domain to the ordered, filtered list of addresses to
 * call (doc/protocol.md 4a): MX, implicit MX, null MX, address filtering, and
 * the fixed hosts of `routes`.
 */
#ifndef SAVD_RESOLVE_H
#define SAVD_RESOLVE_H

#include <stddef.h>
#include <ev.h>

#include "config.h"
#include "netaddr.h"
#include "verdict.h"

struct target {
	struct netaddr ip;
	int port;
	int primary;            /* a host of the most preferred MX preference */
	char host[ADDR_DOMAIN_MAX + 1];
};

struct resolve_result {
	int ok;                 /* 1: targets below; 0: v is the answer */
	struct verdict v;       /* nxdomain nullmx nomx bogusmx dnsfail skipped */
	size_t n;
	struct target *t;       /* owned by the resolver; valid in the callback */
};

typedef void resolve_fn(void *arg, const struct resolve_result *);

struct resolve;

void resolve_init(struct ev_loop *loop, const struct config *cfg);
void resolve_reconfigure(const struct config *cfg);
/* route may be NULL.  The callback is never called from inside this call. */
struct resolve *resolve_start(const char *domain, const struct route *route,
    resolve_fn *cb, void *arg);
/* The callback will not be called.  NULL is a no-op. */
void resolve_cancel(struct resolve *r);

#endif
