/*
 * dns.c - udns on the libev loop (DESIGN.md section 4).
 *
 * Every query carries DNS_NOSRCH; timeouts and retries are set from the
 * configuration; `now` given to udns is the loop's time.  udns 0.4's
 * defects are kept out:
 *  - dns_cancel() is never called (a cancelled query is only marked, its
 *    udns result freed when it arrives or times out);
 *  - udns never reads a datagram from the network.  Its nameservers are
 *    loopback sockets of ours (one relay per configured nameserver, so
 *    udns still tells them apart); a relay forwards queries to its
 *    nameserver and passes a reply on to udns only when dnscheck_packet()
 *    finds every name in it within RFC 1035's limits (doc/protocol.md 4d):
 *    udns's own question check overruns its buffer on a 256-octet name.
 *    Peeking at udns's socket instead cannot work: dns_ioevent() reads
 *    every datagram queued behind the one that was checked;
 *  - every reply goes through guarded_parse(), which refuses a reply whose
 *    question is not exactly the name we asked, and one whose answer is a
 *    CNAME loop or about another name (udns calls both NODATA), before
 *    the stock parser sees it.
 *
 * udns walks its list of outstanding queries on every submit and reply, so
 * at most DNS_MAX_ACTIVE are outstanding; the rest wait in a FIFO here.
 * Must not: hand udns a byte that dnscheck has not passed.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <udns.h>

#include "dns.h"
#include "dnscheck.h"
#include "log.h"
#include "xmalloc.h"

#define DNS_MAX_ACTIVE  256             /* queries outstanding in udns */
#define DNS_RCVBUF      (1024 * 1024)   /* answers arrive in bursts */
#define DNS_MAX_SERV    6               /* udns's DNS_MAXSERV */
#define DNS_PKT_MAX     65536           /* one UDP datagram */
#define DNS_BURST       256             /* datagrams relayed per wakeup */
#define RESOLV_CONF     "/etc/resolv.conf"

/* A nameserver, and the loopback socket that stands for it to udns. */
struct relay {
	ev_io io;               /* queries from udns */
	int fd;
	struct sockaddr_storage ns;
	socklen_t nslen;
};

struct dnsq {
	TAILQ_ENTRY(dnsq) entry;        /* while waiting to be submitted */
	int cancelled;
	int family;             /* AF_INET, AF_INET6, or 0 for MX */
	dnsq_mx_fn *mx_cb;
	dnsq_addr_fn *addr_cb;
	void *arg;
	ev_timer fail;          /* delivers a submit failure later */
	char name[];            /* the name asked for */
};

static struct {
	struct ev_loop *loop;
	struct dns_ctx *ctx;
	ev_io io;
	ev_timer tm;
	int fd;
	unsigned active;                /* submitted to udns */
	TAILQ_HEAD(, dnsq) waiting;
	struct relay relay[DNS_MAX_SERV];
	size_t nrelay;
	ev_io up[2];                    /* to the nameservers: IPv4, IPv6 */
	struct sockaddr_in self;        /* udns's socket */
	unsigned udpsize;               /* udns's receive buffer */
	unsigned long dropped;          /* replies refused, not yet logged */
	ev_tstamp drop_logged;
	unsigned char pkt[DNS_PKT_MAX];
} dns = { .waiting = TAILQ_HEAD_INITIALIZER(dns.waiting),
    .up = { { .fd = -1 }, { .fd = -1 } } };

static void submit(struct dnsq *q);

static time_t
now_s(void)
{
	return (time_t)ev_now(dns.loop);
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	dns_ioevent(dns.ctx, now_s());
}

static void
on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	dns_timeouts(dns.ctx, -1, now_s());
}

/* udns asks for a timer: < 0 none, else seconds from now. */
static void
set_timer(struct dns_ctx *ctx, int timeout, void *data)
{
	(void)ctx;
	(void)data;
	ev_timer_stop(dns.loop, &dns.tm);
	if (timeout >= 0) {
		ev_timer_set(&dns.tm, timeout, 0.);
		ev_timer_start(dns.loop, &dns.tm);
	}
}

/* A non-blocking UDP socket, bound to `at` when it is not NULL. */
static int
udp_socket(int family, const struct sockaddr_in *at)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fatal("dns: cannot open a UDP socket: %s", strerror(errno));
	if (at != NULL && bind(fd, (const struct sockaddr *)at,
	    sizeof(*at)) < 0)
		fatal("dns: cannot bind a loopback socket: %s",
		    strerror(errno));
	return fd;
}

static void
loopback_any(struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void
local_name(int fd, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);

	if (getsockname(fd, (struct sockaddr *)sin, &len) < 0)
		fatal("dns: getsockname: %s", strerror(errno));
}

static int
same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

static int
from_udns(const struct sockaddr_storage *from)
{
	const struct sockaddr_in *sin = (const void *)from;

	return from->ss_family == AF_INET &&
	    sin->sin_port == dns.self.sin_port &&
	    sin->sin_addr.s_addr == dns.self.sin_addr.s_addr;
}

/* udns sent a query to a relay: on to that relay's nameserver. */
static void
on_query(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay *r = w->data;
	int up = dns.up[r->ns.ss_family == AF_INET ? 0 : 1].fd;

	(void)loop;
	(void)revents;
	for (int i = 0; i < DNS_BURST; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(r->fd, dns.pkt, sizeof(dns.pkt), 0,
		    (struct sockaddr *)&from, &flen);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		if (!from_udns(&from))
			continue;       /* not udns: no open relay here */
		if (sendto(up, dns.pkt, (size_t)n, 0,
		    (struct sockaddr *)&r->ns, r->nslen) < 0)
			log_debug("dns: sendto a nameserver: %s",
			    strerror(errno));
	}
}

/* Refused replies are counted and logged at most once a second. */
static void
refused(const char *why)
{
	ev_tstamp now = ev_now(dns.loop);

	dns.dropped++;
	if (now - dns.drop_logged < 1.)
		return;
	log_warn("dns: %lu reply datagram(s) dropped before udns (%s)",
	    dns.dropped, why);
	dns.dropped = 0;
	dns.drop_logged = now;
}

/* A nameserver answered: to udns, through its relay, if it passes. */
static void
on_reply(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	for (int i = 0; i < DNS_BURST; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(w->fd, dns.pkt, sizeof(dns.pkt), 0,
		    (struct sockaddr *)&from, &flen);
		const char *why;
		size_t k;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		for (k = 0; k < dns.nrelay; k++)
			if (same_peer(&from, &dns.relay[k].ns))
				break;
		if (k == dns.nrelay)
			continue;       /* not a nameserver of ours */
		if ((size_t)n > dns.udpsize)
			refused("larger than the udns buffer");
		else if (dnscheck_packet(dns.pkt, (size_t)n, &why) < 0)
			refused(why);
		else if (sendto(dns.relay[k].fd, dns.pkt, (size_t)n, 0,
		    (struct sockaddr *)&dns.self, sizeof(dns.self)) < 0)
			log_debug("dns: relay to udns: %s", strerror(errno));
	}
}

/* The configured nameservers, else resolv.conf's, else 127.0.0.1. */
static size_t
nameservers(const struct config *cfg, struct hostport *ns)
{
	char line[512], addr[256];
	size_t n = 0;
	FILE *f;

	for (n = 0; n < cfg->n_nameservers && n < DNS_MAX_SERV; n++)
		ns[n] = cfg->nameservers[n];
	if (n > 0 || (f = fopen(RESOLV_CONF, "re")) == NULL)
		goto out;
	while (n < DNS_MAX_SERV && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " nameserver %255s", addr) == 1 &&
		    netaddr_parse(addr, &ns[n].ip) == 0)
			ns[n++].port = 53;
	fclose(f);
out:
	if (n == 0) {
		netaddr_parse("127.0.0.1", &ns[0].ip);
		ns[n++].port = 53;
	}
	return n;
}

static void
open_up(int k)
{
	int rcvbuf = DNS_RCVBUF;

	if (dns.up[k].fd >= 0)
		return;
	ev_io_init(&dns.up[k], on_reply, udp_socket(k ? AF_INET6 : AF_INET,
	    NULL), EV_READ);
	if (setsockopt(dns.up[k].fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf)) < 0)
		log_warn("dns: cannot enlarge the receive buffer");
	ev_io_start(dns.loop, &dns.up[k]);
}

/* One relay per nameserver; udns is told the relays' addresses. */
static void
open_relays(const struct config *cfg)
{
	struct hostport ns[DNS_MAX_SERV];
	struct sockaddr_in lo;

	dns.nrelay = nameservers(cfg, ns);
	for (size_t i = 0; i < dns.nrelay; i++) {
		struct relay *r = &dns.relay[i];

		r->nslen = netaddr_sockaddr(&ns[i].ip, ns[i].port, &r->ns);
		open_up(r->ns.ss_family == AF_INET ? 0 : 1);
		loopback_any(&lo);
		r->fd = udp_socket(AF_INET, &lo);
		local_name(r->fd, &lo);
		if (dns_add_serv_s(dns.ctx, (struct sockaddr *)&lo) < 0)
			fatal("nameservers: udns refused a server");
		ev_io_init(&r->io, on_query, r->fd, EV_READ);
		r->io.data = r;
		ev_io_start(dns.loop, &r->io);
	}
}

static void
close_relays(void)
{
	for (size_t i = 0; i < dns.nrelay; i++) {
		ev_io_stop(dns.loop, &dns.relay[i].io);
		close(dns.relay[i].fd);
	}
	dns.nrelay = 0;
	for (int k = 0; k < 2; k++)
		if (dns.up[k].fd >= 0) {
			ev_io_stop(dns.loop, &dns.up[k]);
			close(dns.up[k].fd);
			dns.up[k].fd = -1;
		}
}

static void
open_resolver(const struct config *cfg)
{
	struct sockaddr_in lo;

	if (dns.ctx != NULL) {
		ev_io_stop(dns.loop, &dns.io);
		ev_timer_stop(dns.loop, &dns.tm);
		dns_free(dns.ctx);
	}
	close_relays();
	dns.ctx = dns_new(NULL);
	if (dns.ctx == NULL || dns_init(dns.ctx, 0) < 0)
		fatal("dns: cannot initialise udns");
	dns_add_serv(dns.ctx, NULL);    /* only our relays */
	open_relays(cfg);
	/*
	 * udns counts whole seconds from a truncated `now`: a query sent at
	 * x.99 with a timeout of 1 expires at x+1, 10 ms later.  One second
	 * more makes every wait at least dns_timeout.
	 */
	dns_set_opt(dns.ctx, DNS_OPT_TIMEOUT, (int)cfg->dns_timeout + 1);
	dns_set_opt(dns.ctx, DNS_OPT_NTRIES, (int)cfg->dns_retries + 1);
	dns.udpsize = (unsigned)dns_set_opt(dns.ctx, DNS_OPT_UDPSIZE, -1);
	if ((dns.fd = dns_open(dns.ctx)) < 0)
		fatal("dns: cannot open the resolver socket");
	loopback_any(&lo);
	if (bind(dns.fd, (struct sockaddr *)&lo, sizeof(lo)) < 0)
		fatal("dns: cannot bind the resolver socket: %s",
		    strerror(errno));
	local_name(dns.fd, &dns.self);
	int rcvbuf = DNS_RCVBUF;
	if (setsockopt(dns.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf)) < 0)
		log_warn("dns: cannot enlarge the receive buffer");
	dns_set_tmcbck(dns.ctx, set_timer, NULL);
	ev_io_init(&dns.io, on_io, dns.fd, EV_READ);
	ev_io_start(dns.loop, &dns.io);
}

void
dnsq_init(struct ev_loop *loop, const struct config *cfg)
{
	dns.loop = loop;
	ev_init(&dns.tm, on_timeout);
	if (dns_init(NULL, 0) < 0)      /* the default context, for udns */
		fatal("dns: cannot initialise udns");
	open_resolver(cfg);
}

/*
 * A new resolver context for new queries.  Queries in flight keep the old
 * context, which is leaked deliberately small: reloads are rare, and
 * udns cannot move queries between contexts.
 */
void
dnsq_reconfigure(const struct config *cfg)
{
	if (dns_active(dns.ctx) > 0 || !TAILQ_EMPTY(&dns.waiting)) {
		log_warn("dns: reload while queries are in flight; new "
		    "resolver settings apply after a restart");
		return;
	}
	open_resolver(cfg);
}

void
dnsq_shutdown(void)
{
	struct dnsq *q;

	while ((q = TAILQ_FIRST(&dns.waiting)) != NULL) {
		TAILQ_REMOVE(&dns.waiting, q, entry);
		free(q);
	}
	if (dns.ctx == NULL)
		return;
	ev_io_stop(dns.loop, &dns.io);
	ev_timer_stop(dns.loop, &dns.tm);
	close_relays();
}

/*
 * Refuse replies whose question section is not exactly our name in
 * uncompressed form: a compressed question name overflows udns's stock
 * parsers (DESIGN.md section 4).
 */
static int
question_ok(dnscc_t *qdn, dnscc_t *pkt, dnscc_t *end)
{
	dnscc_t *p = pkt + 12, *q = qdn;

	if (end - pkt < 12 || pkt[4] != 0 || pkt[5] != 1)
		return 0;
	for (;;) {
		if (p >= end || (*p & 0xc0) != 0 || *p != *q)
			return 0;
		if (*p == 0)
			break;
		if (end - p < *p + 1)
			return 0;
		for (unsigned i = 1; i <= *p; i++)
			if (DNS_DNLC(p[i]) != DNS_DNLC(q[i]))
				return 0;
		q += *p + 1;
		p += *p + 1;
	}
	return end - p >= 5;    /* the root byte, QTYPE and QCLASS */
}

/*
 * What udns would call NODATA must really be NODATA: a CNAME loop or an
 * answer about another name is a broken or hostile server (doc/protocol.md
 * 3d), and so is a disagreement between our reading and udns's.
 */
static int
guarded(dnscc_t *qdn, dnscc_t *pkt, dnscc_t *cur, dnscc_t *end, void **res,
    dns_parse_fn *stock)
{
	enum dnscheck_answer a;
	int st;

	if (!question_ok(qdn, pkt, end))
		return DNS_E_PROTOCOL;
	a = dnscheck_answer(pkt, (size_t)(end - pkt));
	if (a == DNSA_LOOP || a == DNSA_FOREIGN || a == DNSA_BAD) {
		char name[DNS_MAXNAME];

		if (dns_dntop(qdn, name, sizeof(name)) <= 0)
			strcpy(name, "?");
		log_info("dns: %s %s: reply refused: %s", name,
		    dns_typename((enum dns_type)dns_get16(cur)),
		    dnscheck_answer_name(a));
		return DNS_E_PROTOCOL;
	}
	st = stock(qdn, pkt, cur, end, res);
	if (st == DNS_E_NODATA && a != DNSA_NODATA)
		return DNS_E_PROTOCOL;
	return st;
}

static int
guarded_mx(dnscc_t *qdn, dnscc_t *pkt, dnscc_t *cur, dnscc_t *end, void **res)
{
	return guarded(qdn, pkt, cur, end, res, dns_parse_mx);
}

static int
guarded_a4(dnscc_t *qdn, dnscc_t *pkt, dnscc_t *cur, dnscc_t *end, void **res)
{
	return guarded(qdn, pkt, cur, end, res, dns_parse_a4);
}

static int
guarded_a6(dnscc_t *qdn, dnscc_t *pkt, dnscc_t *cur, dnscc_t *end, void **res)
{
	return guarded(qdn, pkt, cur, end, res, dns_parse_a6);
}

static enum dns_result
map_status(int st)
{
	switch (st) {
	case DNS_E_NOERROR:
		return DNSR_OK;
	case DNS_E_NXDOMAIN:
		return DNSR_NXDOMAIN;
	case DNS_E_NODATA:
		return DNSR_NODATA;
	default:
		return DNSR_TEMPFAIL;
	}
}

/* Every record, in wire order: the callee sorts before it cuts. */
static void
deliver_mx(struct dnsq *q, enum dns_result r, struct dns_rr_mx *rr)
{
	size_t n = rr != NULL && rr->dnsmx_nrr > 0 ? (size_t)rr->dnsmx_nrr : 0;
	struct mx_in *mx = xcalloc(n + 1, sizeof(*mx));

	for (size_t i = 0; i < n; i++) {
		mx[i].pref = (unsigned)rr->dnsmx_mx[i].priority;
		mx[i].name = rr->dnsmx_mx[i].name;
	}
	q->mx_cb(q->arg, r, mx, n);
	free(mx);
}

static void
deliver_addr(struct dnsq *q, enum dns_result r, void *result)
{
	struct netaddr a[DNS_MAX_ADDR];
	size_t n = 0;

	memset(a, 0, sizeof(a));        /* unused bytes take part in hashing */
	if (result != NULL && q->family == AF_INET) {
		struct dns_rr_a4 *rr = result;

		for (int i = 0; i < rr->dnsa4_nrr && n < DNS_MAX_ADDR; i++) {
			a[n].family = AF_INET;
			memcpy(a[n++].a, &rr->dnsa4_addr[i], 4);
		}
	} else if (result != NULL) {
		struct dns_rr_a6 *rr = result;

		for (int i = 0; i < rr->dnsa6_nrr && n < DNS_MAX_ADDR; i++) {
			a[n].family = AF_INET6;
			memcpy(a[n++].a, &rr->dnsa6_addr[i], 16);
		}
	}
	if (r == DNSR_OK && n == 0)
		r = DNSR_NODATA;
	q->addr_cb(q->arg, r, a, n);
}

static void
on_answer(struct dns_ctx *ctx, void *result, void *data)
{
	struct dnsq *q = data;
	enum dns_result r = map_status(result ? DNS_E_NOERROR :
	    dns_status(ctx));

	dns.active--;
	if (!q->cancelled) {
		if (q->family == 0)
			deliver_mx(q, r, result);
		else
			deliver_addr(q, r, result);
	}
	free(result);
	free(q);
	/* A place is free: submit the oldest waiting query. */
	while (dns.active < DNS_MAX_ACTIVE &&
	    (q = TAILQ_FIRST(&dns.waiting)) != NULL) {
		TAILQ_REMOVE(&dns.waiting, q, entry);
		if (q->cancelled)
			free(q);
		else
			submit(q);
	}
}

/* Submitting failed (a bad name, out of memory): answer from a timer. */
static void
on_submit_failed(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dnsq *q = w->data;

	(void)loop;
	(void)revents;
	on_answer(dns.ctx, NULL, q);
}

static void
submit(struct dnsq *q)
{
	static dns_parse_fn *const parse[] = { guarded_mx, guarded_a4,
	    guarded_a6 };
	static const int qtype[] = { DNS_T_MX, DNS_T_A, DNS_T_AAAA };
	int k = q->family == 0 ? 0 : q->family == AF_INET ? 1 : 2;

	dns.active++;
	if (dns_submit_p(dns.ctx, q->name, DNS_C_IN, qtype[k], DNS_NOSRCH,
	    parse[k], on_answer, q) == NULL) {
		ev_timer_init(&q->fail, on_submit_failed, 0., 0.);
		q->fail.data = q;
		ev_timer_start(dns.loop, &q->fail);
	}
}

/* A new query: to udns now, or to the back of the queue. */
static struct dnsq *
query_new(const char *name, int family)
{
	struct dnsq *q = xcalloc(1, sizeof(*q) + strlen(name) + 1);

	q->family = family;
	strcpy(q->name, name);
	if (dns.active < DNS_MAX_ACTIVE && TAILQ_EMPTY(&dns.waiting))
		submit(q);
	else
		TAILQ_INSERT_TAIL(&dns.waiting, q, entry);
	return q;
}

struct dnsq *
dnsq_mx(const char *domain, dnsq_mx_fn *cb, void *arg)
{
	struct dnsq *q = query_new(domain, 0);

	q->mx_cb = cb;
	q->arg = arg;
	return q;
}

struct dnsq *
dnsq_addr(const char *name, int family, dnsq_addr_fn *cb, void *arg)
{
	struct dnsq *q = query_new(name, family == AF_INET ? AF_INET :
	    AF_INET6);

	q->addr_cb = cb;
	q->arg = arg;
	return q;
}

void
dnsq_cancel(struct dnsq *q)
{
	if (q != NULL)
		q->cancelled = 1;
}
