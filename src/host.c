/*
 * host.c - the table of target addresses (host.h).  Knows nothing of
 * jobs or sessions: callout.c counts slots and records what remotes said.
 * Must not grow without bound: an entry is freed as soon as it holds
 * nothing (host_put) or its records are long over (host_sweep).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "host.h"
#include "buf.h"
#include "xmalloc.h"

#define HOST_KEEP       3600.0  /* a 452 cap, a block (for HEALTH) */
#define BLOCKED_NAMED   3       /* HEALTH names this many blocking hosts */

static struct host *hosts;

struct host *
host_get(const struct netaddr *addr)
{
	struct netaddr ip;
	struct host *h;

	/* The whole struct is the key: clear the bytes the family leaves. */
	memset(&ip, 0, sizeof(ip));
	ip.family = addr->family;
	memcpy(ip.a, addr->a, addr->family == AF_INET ? 4 : 16);
	HASH_FIND(hh, hosts, &ip, sizeof(ip), h);
	if (h == NULL) {
		h = xcalloc(1, sizeof(*h));
		h->ip = ip;
		HASH_ADD(hh, hosts, ip, sizeof(h->ip), h);
	}
	return h;
}

static void
host_free(struct host *h)
{
	HASH_DEL(hosts, h);
	free(h->blocked);
	free(h);
}

void
host_put(struct host *h)
{
	if (h->open == 0 && h->bo.level == 0 && h->blocked == NULL &&
	    h->rcpt_cap == 0 && h->tls_broken_until == 0)
		host_free(h);
}

/* Is anything about h still worth remembering at now? */
static int
host_live(const struct host *h, double now)
{
	if (h->open > 0 || now - h->bo.until <= BACKOFF_MAX)
		return 1;
	if (h->blocked != NULL && (now < h->blocked_until ||
	    now - h->blocked_at < HOST_KEEP))
		return 1;
	if (now < h->tls_broken_until)
		return 1;
	return h->rcpt_cap != 0 && now - h->last_used < HOST_KEEP;
}

void
host_sweep(double now)
{
	struct host *h, *tmp;

	HASH_ITER(hh, hosts, h, tmp) {
		if (!host_live(h, now))
			host_free(h);
	}
}

void
host_clear(void)
{
	struct host *h, *tmp;

	HASH_ITER(hh, hosts, h, tmp)
		host_free(h);
}

void
host_block(struct host *h, const struct verdict *v, double now, unsigned ttl)
{
	if (h->blocked == NULL)
		h->blocked = xmalloc(sizeof(*h->blocked));
	*h->blocked = *v;
	h->blocked->source = SRC_CACHE;
	h->blocked_at = now;
	h->blocked_until = now + ttl;
}

const struct verdict *
host_blocked(const struct host *h, double now)
{
	return h->blocked != NULL && now < h->blocked_until ? h->blocked :
	    NULL;
}

void
host_tls_break(struct host *h, double now, unsigned ttl)
{
	h->tls_broken_until = now + ttl;
}

int
host_tls_broken(const struct host *h, double now)
{
	return now < h->tls_broken_until;
}

unsigned
host_backoff_report(struct buf *out, double now)
{
	struct host *h, *tmp;
	char ip[NETADDR_STRLEN];
	unsigned n = 0;

	HASH_ITER(hh, hosts, h, tmp) {
		if (!backoff_active(&h->bo, now))
			continue;
		netaddr_format(&h->ip, ip);
		buf_printf(out, "%s%s", n++ ? "," : " backoff=", ip);
	}
	return n;
}

unsigned
host_blocked_report(struct buf *out, double now, double window)
{
	struct host *h, *tmp;
	char names[BLOCKED_NAMED * (SAV_MX_MAX + 1)] = "";
	unsigned n = 0;
	size_t len = 0;

	HASH_ITER(hh, hosts, h, tmp) {
		if (h->blocked == NULL || now - h->blocked_at > window)
			continue;
		if (n++ < BLOCKED_NAMED)
			len += (size_t)snprintf(names + len, sizeof(names) - len,
			    "%s%s", len ? "," : "", h->blocked->mx);
	}
	buf_printf(out, " blocked_hosts=%u", n);
	if (n > 0)
		buf_printf(out, " blocked_names=%s", names);
	return n;
}
