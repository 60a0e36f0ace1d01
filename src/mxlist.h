/*
 * mxlist.h - from DNS answers to an ordered list of targets: MX ordering
 * with shuffled equal preferences, null MX (RFC 7505), and the filtering of
 * target addresses (doc/protocol.md 4a).  Pure: randomness is passed in.
 */
#ifndef SAVD_MXLIST_H
#define SAVD_MXLIST_H

#include <stddef.h>
#include "netaddr.h"
#include "address.h"

struct mx_in {
	unsigned pref;
	const char *name;       /* as udns gives it: "" for a null MX */
};

struct mx_host {
	unsigned pref;
	char name[ADDR_DOMAIN_MAX + 1];  /* lower-cased, no trailing dot */
};

#define MXLIST_NULLMX (-1)

/*
 * Order in[0..n) into out (at most cap hosts): ascending preference, equal
 * preferences shuffled with rnd(ctx) (uniform 32-bit), duplicates (same
 * name) dropped, names lower-cased and a trailing dot removed.  Returns the
 * number of hosts, or MXLIST_NULLMX when the only record(s) are null MX
 * ("" or "." target).  A null MX mixed with real ones is ignored.
 */
int mxlist_build(const struct mx_in *in, size_t n, struct mx_host *out,
    size_t cap, unsigned (*rnd)(void *), void *ctx);

enum target_check {
	TGT_OK,                 /* connect */
	TGT_BOGUS,              /* loopback/private/reserved...: never */
	TGT_OWN,                /* one of our own addresses: never */
};

/* allow_networks wins over both filters. */
enum target_check mx_target_check(const struct netaddr *a,
    const struct cidr *allow, size_t nallow,
    const struct netaddr *own, size_t nown);

#endif
