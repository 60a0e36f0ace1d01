/*
 * resolve.c - domain -> ordered, filtered targets (doc/protocol.md 4a).
 *
 * MX lookup; NODATA means the implicit MX (the domain itself, RFC 5321
 * 5.1), and only a real NODATA does (a CNAME loop or an answer about
 * another name is dns.c's TEMPFAIL); a lone null MX is `fail nullmx`.
 * Every MX record is sorted before the cut to max_mx_hosts.  Every host's A and AAAA are
 * looked up in parallel; addresses are kept in MX order, IPv4 first, and
 * checked once here so that the callout connects to exactly what was
 * checked.  What is refused: loopback, private, reserved... (`fail
 * bogusmx`) and our own interface addresses (`unknown skipped`), unless
 * allow_networks says otherwise.  `routes` replace the MX lookup with a
 * fixed host under the same filters; when a route leads nowhere the
 * answer is a defer from policy: our configuration, not their fact.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "resolve.h"
#include "dns.h"
#include "log.h"
#include "mxlist.h"
#include "xmalloc.h"

#define MAX_OWN 64

struct resolve;

/* What an address query's callback needs to find its place. */
struct addr_slot {
	struct resolve *r;
	struct host_addrs *ha;
	int f;                          /* 0 = A, 1 = AAAA */
};

struct host_addrs {
	char name[ADDR_DOMAIN_MAX + 1];
	unsigned pref;                  /* MX preference (0 for routes) */
	struct addr_slot slot[2];
	struct dnsq *q[2];         /* A, AAAA */
	enum dns_result r[2];
	size_t n[2];
	struct netaddr *a[2];           /* n[f] addresses, allocated */
};

struct resolve {
	char domain[ADDR_DOMAIN_MAX + 1];
	resolve_fn *cb;
	void *arg;
	int port;
	int routed;                     /* trust the route's host */
	struct dnsq *mxq;
	size_t nhosts;
	unsigned pending;               /* address queries outstanding */
	struct host_addrs *hosts;
	struct route route;
	ev_timer later;                 /* answers that need no DNS */
};

static struct {
	struct ev_loop *loop;
	const struct config *cfg;
	size_t nown;
	struct netaddr own[MAX_OWN];
} rs;

/* Our interface addresses: never called, whatever DNS says. */
static void
load_own_addresses(void)
{
	struct ifaddrs *ifa, *i;

	rs.nown = 0;
	if (getifaddrs(&ifa) < 0) {
		log_warn("getifaddrs failed: own addresses unknown");
		return;
	}
	for (i = ifa; i != NULL && rs.nown < MAX_OWN; i = i->ifa_next) {
		struct netaddr *a = &rs.own[rs.nown];

		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			a->family = AF_INET;
			memcpy(a->a, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			rs.nown++;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a->family = AF_INET6;
			memcpy(a->a, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			rs.nown++;
		}
	}
	freeifaddrs(ifa);
}

void
resolve_init(struct ev_loop *loop, const struct config *cfg)
{
	rs.loop = loop;
	rs.cfg = cfg;
	load_own_addresses();
}

void
resolve_reconfigure(const struct config *cfg)
{
	rs.cfg = cfg;
	load_own_addresses();
}

static unsigned
rnd32(void *ctx)
{
	unsigned v;

	(void)ctx;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (unsigned)random();
	return v;
}

static void
resolve_free(struct resolve *r)
{
	dnsq_cancel(r->mxq);
	for (size_t i = 0; i < r->nhosts; i++) {
		dnsq_cancel(r->hosts[i].q[0]);
		dnsq_cancel(r->hosts[i].q[1]);
	}
	ev_timer_stop(rs.loop, &r->later);
	for (size_t i = 0; i < r->nhosts; i++) {
		free(r->hosts[i].a[0]);
		free(r->hosts[i].a[1]);
	}
	free(r->hosts);
	free(r);
}

void
resolve_cancel(struct resolve *r)
{
	if (r != NULL)
		resolve_free(r);
}

static void
finish_verdict(struct resolve *r, enum sav_result res, enum sav_reason why,
    const char *fmt, const char *arg)
{
	struct resolve_result out = { .ok = 0 };

	verdict_set(&out.v, res, why, why == R_SKIPPED || r->routed ?
	    SRC_POLICY : SRC_DNS);
	snprintf(out.v.text, sizeof(out.v.text), fmt, arg);
	r->cb(r->arg, &out);
	resolve_free(r);
}

/* Every address query is back: build, filter and deliver the targets. */
static void
finish_targets(struct resolve *r)
{
	struct resolve_result out = { .ok = 1 };
	size_t cap = rs.cfg->max_mx_addresses, own = 0, bogus = 0;
	int tempfail = 0;

	out.t = xcalloc(cap, sizeof(*out.t));
	for (size_t h = 0; h < r->nhosts; h++) {
		struct host_addrs *ha = &r->hosts[h];

		for (int f = 0; f < 2; f++) {
			tempfail |= ha->r[f] == DNSR_TEMPFAIL;
			for (size_t i = 0; i < ha->n[f] && out.n < cap; i++) {
				const struct netaddr *a = &ha->a[f][i];
				/* A route written as an address literal is
				 * the operator's own choice (doc/protocol.md 4a). */
				enum target_check c = r->route.literal ?
				    TGT_OK : mx_target_check(a,
				    rs.cfg->allow_networks,
				    rs.cfg->n_allow_networks, rs.own, rs.nown);

				if (c == TGT_OWN) {
					own++;
					continue;
				}
				if (c == TGT_BOGUS) {
					bogus++;
					continue;
				}
				out.t[out.n].ip = *a;
				out.t[out.n].port = r->port;
				out.t[out.n].primary = ha->pref ==
				    r->hosts[0].pref;
				strcpy(out.t[out.n++].host, ha->name);
			}
		}
	}
	if (out.n > 0) {
		r->cb(r->arg, &out);
		free(out.t);
		resolve_free(r);
		return;
	}
	free(out.t);
	if (r->routed && own == 0 && bogus > 0) /* our configuration */
		finish_verdict(r, RES_DEFER, R_UNREACHABLE, "routes: the host "
		    "of %s is in a refused range (see allow_networks)",
		    r->domain);
	else if (r->routed && own == 0)
		finish_verdict(r, RES_DEFER, tempfail ? R_DNSFAIL :
		    R_UNREACHABLE, "routes: no usable address for the host "
		    "of %s", r->domain);
	else if (own > 0)
		finish_verdict(r, RES_UNKNOWN, R_SKIPPED,
		    "mail for %s is handled by this host", r->domain);
	else if (bogus > 0)
		finish_verdict(r, RES_FAIL, R_BOGUSMX, "every mail host of %s "
		    "has a loopback, private or reserved address", r->domain);
	else if (tempfail)
		finish_verdict(r, RES_DEFER, R_DNSFAIL,
		    "address lookup failed for the mail hosts of %s", r->domain);
	else
		finish_verdict(r, RES_FAIL, R_NOMX,
		    "no mail host of %s has an address", r->domain);
}

static void
on_addr(void *arg, enum dns_result res, const struct netaddr *a, size_t n)
{
	struct addr_slot *as = arg;
	struct resolve *r = as->r;
	struct host_addrs *ha = as->ha;
	int f = as->f;

	ha->q[f] = NULL;
	ha->r[f] = res;
	ha->n[f] = res == DNSR_OK ? n : 0;
	ha->a[f] = xcalloc(ha->n[f], sizeof(*a));
	memcpy(ha->a[f], a, ha->n[f] * sizeof(*a));
	if (--r->pending > 0)
		return;
	if (r->nhosts == 1 && strcmp(r->hosts[0].name, r->domain) == 0 &&
	    !r->routed && r->hosts[0].r[0] == DNSR_NXDOMAIN &&
	    r->hosts[0].r[1] == DNSR_NXDOMAIN) {
		finish_verdict(r, RES_FAIL, R_NXDOMAIN,
		    "%s: no such domain", r->domain);
		return;
	}
	finish_targets(r);
}

static void
lookup_hosts(struct resolve *r, const struct mx_host *mx, size_t n)
{
	r->hosts = xcalloc(n, sizeof(*r->hosts));
	r->nhosts = n;
	r->pending = 2 * (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		struct host_addrs *ha = &r->hosts[i];

		strcpy(ha->name, mx[i].name);
		ha->pref = mx[i].pref;
		for (int f = 0; f < 2; f++) {
			ha->slot[f] = (struct addr_slot){ r, ha, f };
			ha->q[f] = dnsq_addr(ha->name, f == 0 ? AF_INET :
			    AF_INET6, on_addr, &ha->slot[f]);
		}
	}
}

static void
on_mx(void *arg, enum dns_result res, const struct mx_in *in, size_t n)
{
	struct resolve *r = arg;
	size_t cap = rs.cfg->max_mx_hosts;
	struct mx_host *hosts;
	int nh;

	r->mxq = NULL;
	if (res == DNSR_NXDOMAIN) {
		finish_verdict(r, RES_FAIL, R_NXDOMAIN, "%s: no such domain",
		    r->domain);
		return;
	}
	/* An answer without records is not NODATA: dns.c says NODATA only
	 * when the reply really says so (doc/protocol.md 4d). */
	if (res == DNSR_TEMPFAIL || (res == DNSR_OK && n == 0)) {
		finish_verdict(r, RES_DEFER, R_DNSFAIL,
		    "MX lookup for %s failed temporarily", r->domain);
		return;
	}
	hosts = xcalloc(cap, sizeof(*hosts));
	if (res == DNSR_NODATA) {
		/* RFC 5321 5.1: the domain is its own mail host. */
		strcpy(hosts[0].name, r->domain);
		nh = 1;
	} else if ((nh = mxlist_build(in, n, hosts, cap, rnd32, NULL)) ==
	    MXLIST_NULLMX) {
		free(hosts);
		finish_verdict(r, RES_FAIL, R_NULLMX,
		    "%s publishes a null MX: it accepts no mail", r->domain);
		return;
	} else if (nh == 0) {
		free(hosts);
		finish_verdict(r, RES_FAIL, R_NOMX,
		    "%s: no usable MX host name", r->domain);
		return;
	}
	lookup_hosts(r, hosts, (size_t)nh);
	free(hosts);
}

/* A route to a literal address needs no DNS: answer from a timer. */
static void
on_later(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct resolve *r = w->data;

	(void)loop;
	(void)revents;
	r->hosts = xcalloc(1, sizeof(*r->hosts));
	r->nhosts = 1;
	snprintf(r->hosts[0].name, sizeof(r->hosts[0].name), "%s",
	    r->route.host[0] ? r->route.host : r->domain);
	int f = r->route.ip.family == AF_INET ? 0 : 1;

	r->hosts[0].a[f] = xmalloc(sizeof(r->route.ip));
	r->hosts[0].a[f][0] = r->route.ip;
	r->hosts[0].n[f] = 1;
	finish_targets(r);
}

struct resolve *
resolve_start(const char *domain, const struct route *route, resolve_fn *cb,
    void *arg)
{
	struct resolve *r = xcalloc(1, sizeof(*r));

	snprintf(r->domain, sizeof(r->domain), "%s", domain);
	r->cb = cb;
	r->arg = arg;
	r->port = rs.cfg->smtp_port;
	ev_init(&r->later, on_later);
	r->later.data = r;
	if (route == NULL) {
		r->mxq = dnsq_mx(domain, on_mx, r);
		return r;
	}
	r->route = *route;
	r->routed = 1;
	if (route->port != 0)
		r->port = route->port;
	if (route->literal) {
		ev_timer_set(&r->later, 0., 0.);
		ev_timer_start(rs.loop, &r->later);
	} else {
		struct mx_host h = { .pref = 0 };

		snprintf(h.name, sizeof(h.name), "%s", route->host);
		lookup_hosts(r, &h, 1);
	}
	return r;
}
