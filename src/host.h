/*
 * host.h - what savd remembers per target address (not per domain):
 * sessions open (host_concurrency), back-off after "slow down" replies,
 * "this host blocks us" records (blocked_ttl, doc/protocol.md 4b), and how many
 * RCPTs it takes per session (after a 452), and whether TLS failed with it
 * lately (callouts then go straight to plain text).  A table in memory, bounded:
 * an entry lives while something about it is worth remembering.
 */
#ifndef SAVD_HOST_H
#define SAVD_HOST_H

#include <uthash.h>

#include "netaddr.h"
#include "ratelimit.h"
#include "verdict.h"

struct buf;

struct host {
	UT_hash_handle hh;
	struct netaddr ip;              /* key */
	unsigned open;                  /* sessions holding a slot */
	struct backoff bo;
	unsigned rcpt_cap;              /* RCPTs per session; 0 = no limit */
	double last_used;               /* ev time of the last session */
	double blocked_until;           /* ev time; 0 = not blocked */
	double blocked_at;
	struct verdict *blocked;        /* the reply that blocked us */
	double tls_broken_until;        /* ev time; 0 = TLS never failed */
};

/* Find or create the entry for addr (never NULL). */
struct host *host_get(const struct netaddr *addr);
/* Forget h now if nothing about it is worth remembering. */
void host_put(struct host *h);
/* Drop entries whose records are long over (call every minute). */
void host_sweep(double now);
/* Drop everything (shutdown). */
void host_clear(void);

/* h refused to talk to us: remember v for ttl seconds. */
void host_block(struct host *h, const struct verdict *v, double now,
    unsigned ttl);
/* The blocked verdict while it holds (source=cache), else NULL. */
const struct verdict *host_blocked(const struct host *h, double now);

/* TLS failed with h: plain text only for ttl seconds. */
void host_tls_break(struct host *h, double now, unsigned ttl);
int host_tls_broken(const struct host *h, double now);

/* " backoff=ip,ip": hosts paused now; returns their number. */
unsigned host_backoff_report(struct buf *out, double now);
/* " blocked_hosts=N [blocked_names=name,...]": hosts that blocked us within
 * window seconds, the first few named; returns N. */
unsigned host_blocked_report(struct buf *out, double now, double window);

#endif
