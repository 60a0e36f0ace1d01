/*
 * dns.h - asynchronous MX, A and AAAA lookups: udns on the libev loop.
 * Results are copied into plain arrays; the udns result is freed here.
 */
#ifndef SAVD_DNS_H
#define SAVD_DNS_H

#include <stddef.h>
#include <ev.h>

#include "config.h"
#include "mxlist.h"
#include "netaddr.h"

enum dns_result {
	DNSR_OK,
	DNSR_NXDOMAIN,
	DNSR_NODATA,            /* the name exists, no record of that type */
	DNSR_TEMPFAIL,          /* SERVFAIL, REFUSED, timeout, truncated,
	                           garbled */
};

#define DNS_MAX_ADDR    16      /* addresses kept per host and family */

struct dnsq;

/*
 * mx[0..n) holds every MX record of the answer, in wire order; mx and the
 * names it points to are valid only during the callback.
 */
typedef void dnsq_mx_fn(void *arg, enum dns_result, const struct mx_in *mx,
    size_t n);
typedef void dnsq_addr_fn(void *arg, enum dns_result, const struct netaddr *a,
    size_t n);

/* Fatal on a configuration the resolver cannot use. */
void dnsq_init(struct ev_loop *loop, const struct config *cfg);
void dnsq_reconfigure(const struct config *cfg);
/*
 * Start a lookup.  The callback is never called from inside this call
 * (an immediate failure is delivered from a zero timer).  Returns a
 * handle for dns_cancel; the handle is invalid after the callback.
 */
struct dnsq *dnsq_mx(const char *domain, dnsq_mx_fn *cb, void *arg);
struct dnsq *dnsq_addr(const char *name, int family, dnsq_addr_fn *cb,
    void *arg);
/* The callback will not be called.  NULL is a no-op. */
void dnsq_cancel(struct dnsq *q);
void dnsq_shutdown(void);

#endif
