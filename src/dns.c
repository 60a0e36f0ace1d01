/*
 * dns.c - udns on the libev loop (DESIGN.md section 4).
 *
 * Every query carries DNS_NOSRCH; timeouts and retries are set from the
 * configuration; `now` given to udns is the loop's time.  Two udns defects
 * are kept out: udns's dns_cancel() is never called (a cancelled query is only
 * marked, its udns result freed when it arrives or times out), and every
 * reply goes through guarded_parse(), which refuses a reply whose question
 * is not exactly the name we asked before the stock parser sees it.
 *
 * udns walks its list of outstanding queries on every submit and reply, so
 * at most DNS_MAX_ACTIVE are outstanding; the rest wait in a FIFO here.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udns.h>

#include "dns.h"
#include "log.h"
#include "xmalloc.h"

#define DNS_MAX_ACTIVE  256             /* queries outstanding in udns */
#define DNS_RCVBUF      (1024 * 1024)   /* answers arrive in bursts */

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
} dns = { .waiting = TAILQ_HEAD_INITIALIZER(dns.waiting) };

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

static void
add_server(const struct hostport *hp)
{
	struct sockaddr_storage ss;

	netaddr_sockaddr(&hp->ip, hp->port, &ss);
	if (dns_add_serv_s(dns.ctx, (struct sockaddr *)&ss) < 0)
		fatal("nameservers: udns refused a server");
}

static void
open_resolver(const struct config *cfg)
{
	if (dns.ctx != NULL) {
		ev_io_stop(dns.loop, &dns.io);
		ev_timer_stop(dns.loop, &dns.tm);
		dns_free(dns.ctx);
	}
	dns.ctx = dns_new(NULL);
	if (dns.ctx == NULL || dns_init(dns.ctx, 0) < 0)
		fatal("dns: cannot initialise udns");
	if (cfg->n_nameservers > 0) {
		dns_add_serv(dns.ctx, NULL);    /* forget resolv.conf's */
		for (size_t i = 0; i < cfg->n_nameservers; i++)
			add_server(&cfg->nameservers[i]);
	}
	/*
	 * udns counts whole seconds from a truncated `now`: a query sent at
	 * x.99 with a timeout of 1 expires at x+1, 10 ms later.  One second
	 * more makes every wait at least dns_timeout.
	 */
	dns_set_opt(dns.ctx, DNS_OPT_TIMEOUT, (int)cfg->dns_timeout + 1);
	dns_set_opt(dns.ctx, DNS_OPT_NTRIES, (int)cfg->dns_retries + 1);
	if ((dns.fd = dns_open(dns.ctx)) < 0)
		fatal("dns: cannot open the resolver socket");
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

static int
guarded_mx(dnscc_t *qdn, dnscc_t *pkt, dnscc_t *cur, dnscc_t *end, void **res)
{
	if (!question_ok(qdn, pkt, end))
		return DNS_E_PROTOCOL;
	return dns_parse_mx(qdn, pkt, cur, end, res);
}

static int
guarded_a4(dnscc_t *qdn, dnscc_t *pkt, dnscc_t *cur, dnscc_t *end, void **res)
{
	if (!question_ok(qdn, pkt, end))
		return DNS_E_PROTOCOL;
	return dns_parse_a4(qdn, pkt, cur, end, res);
}

static int
guarded_a6(dnscc_t *qdn, dnscc_t *pkt, dnscc_t *cur, dnscc_t *end, void **res)
{
	if (!question_ok(qdn, pkt, end))
		return DNS_E_PROTOCOL;
	return dns_parse_a6(qdn, pkt, cur, end, res);
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

static void
deliver_mx(struct dnsq *q, enum dns_result r, struct dns_rr_mx *rr)
{
	struct mx_in mx[DNS_MAX_MX];
	size_t n = 0;

	if (rr != NULL)
		for (int i = 0; i < rr->dnsmx_nrr && n < DNS_MAX_MX; i++) {
			mx[n].pref = (unsigned)rr->dnsmx_mx[i].priority;
			mx[n++].name = rr->dnsmx_mx[i].name;
		}
	q->mx_cb(q->arg, r, mx, n);
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
