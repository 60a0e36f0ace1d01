/*
 * callout.h - SMTP callouts: per domain and MAIL FROM a job resolves the
 * targets once and runs sessions over them; several addresses ride in one
 * session (max_rcpt_per_session); a 4xx, timeout or lost connection moves
 * an address on to the next target.  Per-host concurrency and back-off
 * live here.
 */
#ifndef SAVD_CALLOUT_H
#define SAVD_CALLOUT_H

#include <ev.h>

#include "config.h"
#include "verdict.h"

struct callout;

/* v->source says where the answer came from (callout, dns, policy, cache
 * for a host known to block us); flags are record.h's VF_* (what else
 * the session learnt: from the most preferred MX, probe refused). */
typedef void callout_fn(void *arg, const struct verdict *v, unsigned flags);

struct callout_stats {
	unsigned sessions;                      /* SMTP sessions open */
	unsigned jobs;                          /* domains being worked on */
	unsigned long long sessions_total;
	unsigned long long backoffs;            /* times a host asked us to slow */
	unsigned backed_off;                    /* hosts paused now */
	unsigned long long blocked;             /* times a host began to
	                                           block us */
	unsigned long long tls_sessions;        /* TLS handshakes completed */
	unsigned long long tls_failures;        /* handshakes failed, TLS
	                                           errors */
	unsigned long long tls_plain_retries;   /* then tried in plain text */
	double last_success;                    /* ev time of the last decided
	                                           SMTP answer, 0 = never */
};

void callout_init(struct ev_loop *loop, const struct config *cfg);
void callout_reconfigure(const struct config *cfg);
/*
 * Verify addr ("local@domain") at domain with MAIL FROM mail_from ("" for
 * <>).  route (may be NULL) replaces the MX lookup.  probe: send the
 * catch-all probe after an accepted RCPT.  cb is called exactly
 * once, never from inside this call (callout_shutdown aside).  Strings
 * are copied.  There is no cancel: a started callout always completes, so
 * that its answer can be cached.
 */
struct callout *callout_start(const char *domain, const char *addr,
    const char *mail_from, const struct route *route, int probe,
    callout_fn *cb, void *arg);
/* Is c waiting for a connection slot to a host (host_concurrency), as
 * opposed to resolving or talking to a remote?  Valid until its callback. */
int callout_waiting(const struct callout *c);
/* Abort everything (shutdown); no callbacks. */
void callout_shutdown(void);
const struct callout_stats *callout_stats(void);
/* Append " key=value" back-off details for HEALTH/STATS. */
struct buf;
void callout_backoff_report(struct buf *out, double now);
/* Append " blocked_hosts=N [blocked_names=host[ip],...]": targets that refused
 * to talk to us within the last hour (doc/protocol.md 4b); returns N. */
#define BLOCKED_WINDOW 3600.0
unsigned callout_blocked_report(struct buf *out, double now);

#endif
