/*
 * admin.c - the requests that are not verifications: STATS, HEALTH,
 * METRICS (also served by metricsd.c as GET /metrics), FLUSH (admin peers
 * only, by SO_PEERCRED uid), and the routing of SENDER and RECIPIENT to
 * verify.c.  It reads the other modules' counters; it keeps none of its
 * own beyond the loop-lag sample.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "autoconf.h"
#include "admin.h"
#include "callout.h"
#include "log.h"
#include "metrics.h"
#include "metricsd.h"
#include "verify.h"
#include "xmalloc.h"

/* HEALTH thresholds (documented in savd(8)). */
#define LAG_TICK        1.0     /* seconds between loop-lag samples */
#define LAG_WARN        0.1
#define LAG_CRIT        1.0
#define MIN_SAMPLES     10      /* recent verifications before shares count */
#define DNS_WARN_PCT    20
#define DNS_CRIT_PCT    50
#define TIMEOUT_WARN_PCT 50
#define BLOCKED_WARN_PCT 50
#define NO_SUCCESS_WARN 3600.0  /* seconds without a decided SMTP answer */

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

static struct {
	struct ev_loop *loop;
	const struct config *cfg;
	ev_tstamp started;
	size_t nuids;
	uid_t *uids;
	ev_timer lag_timer;
	ev_tstamp lag_due;
	double lag, lag_max;            /* seconds; max over the last minute */
	long lag_minute;
} adm;

/* The loop is late when this 1 s timer fires late. */
static void
on_lag(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_tstamp now = ev_time();
	long minute = (long)(now / 60);

	(void)w;
	(void)revents;
	adm.lag = now - adm.lag_due;
	if (adm.lag < 0)
		adm.lag = 0;
	if (minute != adm.lag_minute) {
		adm.lag_minute = minute;
		adm.lag_max = 0;
	}
	if (adm.lag > adm.lag_max)
		adm.lag_max = adm.lag;
	adm.lag_due = ev_now(loop) + LAG_TICK;
}

void
admin_configure(struct ev_loop *loop, const struct config *cfg)
{
	adm.loop = loop;
	adm.cfg = cfg;
	if (adm.started == 0) {
		adm.started = ev_now(loop);
		ev_timer_init(&adm.lag_timer, on_lag, LAG_TICK, LAG_TICK);
		adm.lag_due = ev_now(loop) + LAG_TICK;
		ev_timer_start(loop, &adm.lag_timer);
		metricsd_start(loop, cfg, admin_metrics_text);
	}
	free(adm.uids);
	adm.uids = xcalloc(cfg->admin_users.n, sizeof(uid_t));
	adm.nuids = 0;
	for (size_t i = 0; i < cfg->admin_users.n; i++) {
		const char *name = cfg->admin_users.v[i];
		struct passwd *pw = getpwnam(name);

		if (pw == NULL)
			log_warn("admin_users: no such user '%s'", name);
		else
			adm.uids[adm.nuids++] = pw->pw_uid;
	}
}

static int
is_admin(const struct slot *s)
{
	uid_t uid;

	if (slot_peer_uid(s, &uid) < 0)
		return 0;
	if (uid == 0)
		return 1;
	for (size_t i = 0; i < adm.nuids; i++)
		if (adm.uids[i] == uid)
			return 1;
	return 0;
}

static void
do_stats(struct slot *s)
{
	const struct server_stats *ss = server_stats();
	const struct verify_stats *vs = verify_stats();
	const struct callout_stats *cs = callout_stats();
	struct buf b;

	buf_init(&b);
	proto_begin(&b, RES_OK);
	proto_kv_int(&b, "uptime", (long long)(ev_now(adm.loop) - adm.started));
	proto_kv_int(&b, "requests", (long long)ss->requests);
	proto_kv_int(&b, "verifications", (long long)vs->verifications);
	proto_kv_int(&b, "cache_hits", (long long)vs->cache_hits);
	proto_kv_int(&b, "cache_misses", (long long)vs->cache_misses);
	proto_kv_int(&b, "cache_entries", (long long)vs->cache_entries);
	proto_kv_int(&b, "refreshes", (long long)vs->refreshes);
	proto_kv_int(&b, "callouts", (long long)vs->callouts);
	proto_kv_int(&b, "inflight", vs->inflight);
	proto_kv_int(&b, "sessions", cs->sessions);
	proto_kv_int(&b, "sessions_total", (long long)cs->sessions_total);
	proto_kv_int(&b, "ratelimited", (long long)vs->ratelimited);
	proto_kv_int(&b, "overloaded", (long long)vs->overloaded);
	proto_kv_int(&b, "backoffs", (long long)cs->backoffs);
	proto_kv_int(&b, "blocks", (long long)cs->blocked);
	proto_kv_int(&b, "tls_sessions", (long long)cs->tls_sessions);
	proto_kv_int(&b, "tls_failures", (long long)cs->tls_failures);
	proto_kv_int(&b, "tls_plain_retries", (long long)cs->tls_plain_retries);
	callout_blocked_report(&b, ev_now(adm.loop));
	callout_backoff_report(&b, ev_now(adm.loop));
	proto_kv_int(&b, "backed_off", cs->backed_off);
	proto_kv_int(&b, "clients", ss->clients);
	proto_kv_int(&b, "pending", ss->pending);
	proto_kv_int(&b, "accepted", (long long)ss->accepted);
	proto_kv_int(&b, "evicted", (long long)ss->evicted);
	proto_end(&b);
	slot_answer_buf(s, &b);
	buf_free(&b);
}

static int
pct(unsigned part, unsigned total)
{
	return total ? (int)(100.0 * part / total + 0.5) : 0;
}

/* Add a reason, raising status to at least level (1 warning, 2 critical). */
static void
health_flag(struct buf *reasons, int *status, int level, const char *why)
{
	buf_printf(reasons, "%s%s", reasons->len ? "," : "", why);
	if (level > *status)
		*status = level;
}

struct health_facts {
	struct verify_recent r;
	int dns, tmo, blk;              /* shares in percent */
	unsigned blocked_hosts;         /* targets that blocked us lately */
};

/* The reasons for a status other than ok; returns the status. */
static int
health_reasons(const struct health_facts *f, struct buf *why, ev_tstamp now)
{
	const struct verify_stats *vs = verify_stats();
	const struct callout_stats *cs = callout_stats();
	int status = 0;

	if (adm.cfg->cache_file[0] != '\0' && vs->cache_memory_only)
		health_flag(why, &status, 1, "cache_in_memory");
	else if (adm.cfg->cache_file[0] != '\0' && !vs->cache_writable)
		health_flag(why, &status, 1, "cache_unwritable");
	if (f->r.total >= MIN_SAMPLES && f->dns >= DNS_WARN_PCT)
		health_flag(why, &status, f->dns >= DNS_CRIT_PCT ? 2 : 1,
		    "dns_failures");
	if (f->r.total >= MIN_SAMPLES && f->tmo >= TIMEOUT_WARN_PCT)
		health_flag(why, &status, 1, "timeouts");
	if (f->r.total >= MIN_SAMPLES && f->blk >= BLOCKED_WARN_PCT)
		health_flag(why, &status, 1, "blocked");
	/* Being blocked anywhere must show before the operator's mail
	 * suffers (doc/protocol.md 4b). */
	if (f->blocked_hosts > 0)
		health_flag(why, &status, 1, "blocked_hosts");
	if (f->r.total > 0 && cs->sessions_total > 0 &&
	    now - (cs->last_success ? cs->last_success : adm.started) >
	    NO_SUCCESS_WARN)
		health_flag(why, &status, 1, "no_success");
	if (adm.lag_max >= LAG_WARN)
		health_flag(why, &status, adm.lag_max >= LAG_CRIT ? 2 : 1,
		    "loop_lag");
	return status;
}

/* The facts HEALTH and METRICS share; blocked gets the named hosts. */
static int
health_now(struct health_facts *f, struct buf *why, struct buf *blocked,
    ev_tstamp now)
{
	verify_recent(&f->r);
	f->dns = pct(f->r.dnsfail, f->r.total);
	f->tmo = pct(f->r.timeout, f->r.total);
	f->blk = pct(f->r.blocked, f->r.total);
	f->blocked_hosts = callout_blocked_report(blocked, now);
	return health_reasons(f, why, now);
}

static void
do_health(struct slot *s)
{
	static const char *const names[] = { "ok", "warning", "critical" };
	const struct verify_stats *vs = verify_stats();
	const struct callout_stats *cs = callout_stats();
	ev_tstamp now = ev_now(adm.loop);
	struct health_facts f;
	struct buf b, why, blocked;
	int status;

	buf_init(&blocked);
	buf_init(&why);
	status = health_now(&f, &why, &blocked, now);

	buf_init(&b);
	proto_begin(&b, RES_OK);
	proto_kv(&b, "status", names[status]);
	if (why.len)
		proto_kv(&b, "reasons", buf_cstr(&why));
	proto_kv_int(&b, "inflight", vs->inflight);
	proto_kv_int(&b, "sessions", cs->sessions);
	proto_kv_int(&b, "clients", server_stats()->clients);
	proto_kv(&b, "cache", vs->cache_memory_only ? "memory" :
	    vs->cache_writable ? "ok" : "unwritable");
	proto_kv_int(&b, "recent", f.r.total);
	proto_kv_int(&b, "dnsfail_pct", f.dns);
	proto_kv_int(&b, "timeout_pct", f.tmo);
	proto_kv_int(&b, "blocked_pct", f.blk);
	buf_add(&b, buf_cstr(&blocked), blocked.len);
	proto_kv_int(&b, "last_success", cs->last_success ?
	    (long long)(now - cs->last_success) : -1);
	callout_backoff_report(&b, now);
	proto_kv_int(&b, "backed_off", cs->backed_off);
	proto_kv_int(&b, "loop_lag_ms", (long long)(adm.lag_max * 1000 + 0.5));
	proto_end(&b);
	slot_answer_buf(s, &b);
	buf_free(&b);
	buf_free(&why);
	buf_free(&blocked);
}

/* HEALTH's status and facts without its text. */
static int
health_numbers(struct health_facts *f, ev_tstamp now)
{
	struct buf why, blocked;
	int status;

	buf_init(&why);
	buf_init(&blocked);
	status = health_now(f, &why, &blocked, now);
	buf_free(&why);
	buf_free(&blocked);
	return status;
}

#define C METRIC_COUNTER
#define G METRIC_GAUGE

/* The cache file's size in bytes; 0 in memory or when it cannot be read. */
static double
cache_file_bytes(void)
{
	struct stat st;

	if (adm.cfg->cache_file[0] == '\0' || verify_stats()->cache_memory_only
	    || stat(adm.cfg->cache_file, &st) < 0)
		return 0;
	return (double)st.st_size;
}

/* The Prometheus exposition (metrics.c) of everything STATS and HEALTH
 * count; returns the number of lines appended to out. */
size_t
admin_metrics_text(struct buf *out)
{
	const struct server_stats *ss = server_stats();
	const struct verify_stats *vs = verify_stats();
	const struct callout_stats *cs = callout_stats();
	ev_tstamp now = ev_now(adm.loop);
	struct health_facts f;
	size_t n;
	int status = health_numbers(&f, now);

	{
		const struct metric_value v[] = {
	{ "savd_requests_total", "Request lines received.", C, ss->requests },
	{ "savd_cache_hits_total", "Verifications answered from the cache.", C,
	    vs->cache_hits },
	{ "savd_cache_misses_total", "Verifications the cache could not answer.",
	    C, vs->cache_misses },
	{ "savd_callouts_total", "Callouts started.", C, vs->callouts },
	{ "savd_refreshes_total", "Background refreshes done.", C,
	    vs->refreshes },
	{ "savd_smtp_sessions_total", "SMTP sessions opened.", C,
	    cs->sessions_total },
	{ "savd_backoffs_total", "Target hosts put in back-off.", C,
	    cs->backoffs },
	{ "savd_blocks_total", "Times a target host blocked us.", C,
	    cs->blocked },
	{ "savd_connections_total", "Client connections accepted.", C,
	    ss->accepted },
	{ "savd_evicted_total", "Idle clients closed at max_clients.", C,
	    ss->evicted },
	{ "savd_uptime_seconds", "Seconds since start.", G,
	    (double)(long long)(now - adm.started) },
	{ "savd_inflight", "Verifications in flight.", G, vs->inflight },
	{ "savd_smtp_sessions", "SMTP sessions open.", G, cs->sessions },
	{ "savd_clients", "Clients connected.", G, ss->clients },
	{ "savd_pending_requests", "Requests awaiting an answer.", G,
	    ss->pending },
	{ "savd_backed_off_hosts", "Target hosts in back-off now.", G,
	    cs->backed_off },
	{ "savd_blocked_hosts", "Target hosts that blocked us lately.", G,
	    f.blocked_hosts },
	{ "savd_last_success_timestamp_seconds", "Unix time of the last "
	    "decided SMTP answer; 0 if none.", G, cs->last_success },
	{ "savd_loop_lag_seconds", "Largest event-loop lag of the minute.", G,
	    adm.lag_max },
	{ "savd_health_status", "HEALTH status: 0 ok, 1 warning, 2 critical.",
	    G, status },
	{ "savd_cache_entries", "Records in the cache.", G, vs->cache_entries },
	{ "savd_cache_file_bytes", "Size of the cache file.", G,
	    cache_file_bytes() },
	{ "savd_cache_writable", "1 when the cache file can be written.", G,
	    vs->cache_writable && !vs->cache_memory_only },
		};

		n = metrics_render(out, metrics_self(), v,
		    sizeof(v) / sizeof(v[0]), PACKAGE_VERSION);
	}
	return n;
}

#undef C
#undef G

/* "result=ok lines=N" and the N lines of the exposition (doc/protocol.md). */
static void
do_metrics(struct slot *s)
{
	struct buf head, body;
	size_t n;

	buf_init(&body);
	n = admin_metrics_text(&body);
	buf_init(&head);
	proto_begin(&head, RES_OK);
	proto_kv_int(&head, "lines", (long long)n);
	proto_end(&head);
	buf_add(&head, buf_head(&body), buf_avail(&body));
	slot_answer_buf(s, &head);
	buf_free(&head);
	buf_free(&body);
}

static void
do_flush(struct slot *s, const struct request *req)
{
	struct verdict v;
	struct buf b;
	char addr[ADDR_BUF];
	const char *arg = NULL;
	unsigned long n;

	if (!is_admin(s)) {
		verdict_set(&v, RES_ERROR, R_DENIED, SRC_NONE);
		slot_answer_verdict(s, &v, -1);
		return;
	}
	if (req->flush == FLUSH_DOMAIN)
		arg = req->flush_domain;
	else if (req->flush == FLUSH_ADDRESS) {
		address_format(&req->addr, addr);
		arg = addr;
	}
	n = verify_flush(req->flush, arg);
	log_info("flush %s%s%s: %lu records removed",
	    req->flush == FLUSH_ALL ? "all" : req->flush == FLUSH_DOMAIN ?
	    "domain" : "address", arg ? " " : "", arg ? arg : "", n);
	buf_init(&b);
	proto_begin(&b, RES_OK);
	proto_kv_int(&b, "flushed", (long long)n);
	proto_end(&b);
	slot_answer_buf(s, &b);
	buf_free(&b);
}

void
admin_handle(struct slot *s, const struct request *req)
{
	switch (req->verb) {
	case VERB_SENDER:
	case VERB_RECIPIENT:
		verify_request(s, req);
		break;
	case VERB_STATS:
		do_stats(s);
		break;
	case VERB_HEALTH:
		do_health(s);
		break;
	case VERB_FLUSH:
		do_flush(s, req);
		break;
	case VERB_METRICS:
		do_metrics(s);
		break;
	default:
		abort();        /* the server answers PING and QUIT itself */
	}
}
