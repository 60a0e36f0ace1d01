/*
 * verify.c - a request's life: policy -> cache -> in-flight table ->
 * limits -> callout -> cache store -> answer (doc/protocol.md 3, 3, 3a).
 *
 * Identical questions share one entry and one callout.  Every waiting
 * request has its own deadline; when it passes the request is answered
 * (inprogress, or ratelimited/overloaded while still queued) and the
 * callout goes on so that the retry is answered from the cache.  Nothing
 * here talks to the network or to TDB directly.
 */
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uthash.h>

#include "verify.h"
#include "cache.h"
#include "callout.h"
#include "confcheck.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "record.h"
#include "xmalloc.h"

#define COMMIT_EVERY    0.1     /* seconds between cache commits */
#define EXPIRE_EVERY    1.0     /* seconds between expiry steps */
#define EXPIRE_BUDGET   2000    /* records examined per step */
#define SWEEP_EVERY     60.0    /* forget full domain buckets */
#define RECENT_SLOTS    5       /* HEALTH looks at the last 5 minutes */
#define RECENT_SLOT_LEN 60.0

enum entry_state { E_QUEUED, E_RUNNING };
enum queue_why { Q_RATE, Q_OVERLOAD };

struct entry;

/* " client=.. helo=.. id=..": what a request asked to have logged. */
#define NOTES_MAX (3 * (PROTO_NOTE_MAX + 8) + 16)

struct waiter {
	TAILQ_ENTRY(waiter) entry;
	struct entry *e;
	struct slot *slot;
	ev_timer deadline;
	ev_tstamp started;
	char notes[];
};

struct entry {
	UT_hash_handle hh;
	TAILQ_ENTRY(entry) qentry;
	enum entry_state state;
	enum queue_why why;
	int refresh;                    /* background refresh of a positive */
	int recipient;                  /* RECIPIENT: routes apply */
	ev_tstamp started;
	struct callout *co;             /* while running */
	TAILQ_HEAD(, waiter) waiters;
	const char *mail_from;          /* into key */
	const char *addr;               /* into key: "local@domain" */
	const char *domain;             /* into addr */
	size_t keylen;
	char key[];                     /* "mail_from\0addr\0": the question */
};

struct bucket {
	UT_hash_handle hh;
	char domain[ADDR_DOMAIN_MAX + 1];
	struct rl_bucket b;
};

static struct {
	struct ev_loop *loop;
	const struct config *cfg;
	struct cache *cache;
	struct entry *inflight;         /* by key */
	struct bucket *buckets;         /* by domain */
	unsigned running;
	TAILQ_HEAD(, entry) queue;
	ev_timer queue_timer;
	ev_timer commit_timer, expire_timer, sweep_timer;
	struct verify_stats st;
	struct {
		long minute;            /* which minute the slot counts */
		struct verify_recent r;
	} recent[RECENT_SLOTS];
} vfy = { .queue = TAILQ_HEAD_INITIALIZER(vfy.queue) };

static void pump_queue_soon(double delay);

/* --- answers ------------------------------------------------------------ */

static const char *
role_name(int recipient)
{
	return recipient ? "recipient" : "sender";
}

static void
notes_format(char *buf, size_t cap, const struct request *req)
{
	snprintf(buf, cap, " role=%s%s%s%s%s%s%s",
	    role_name(req->verb == VERB_RECIPIENT),
	    req->client[0] ? " client=" : "", req->client,
	    req->helo[0] ? " helo=" : "", req->helo,
	    req->id[0] ? " id=" : "", req->id);
}

/* One line per answered verification, in the protocol's words. */
static void
log_answer(const char *addr, const char *mail_from, const struct verdict *v,
    long age, ev_tstamp started, const char *notes)
{
	char agebuf[32] = "", tls[48] = "";

	if (age >= 0)
		snprintf(agebuf, sizeof(agebuf), " age=%ld", age);
	if (v->tls[0] != '\0')         /* how a callout got it (issue 12) */
		snprintf(tls, sizeof(tls), " tls=%s%s", v->tls,
		    strcmp(v->tls, "no") == 0 ? "" : v->tls_verified ?
		    " tls_verified=yes" : " tls_verified=no");
	log_info("verify result=%s reason=%s code=%d addr=<%s> from=<%s> "
	    "source=%s mx=%s%s%s ms=%ld%s",
	    verdict_result_name(v->result), verdict_reason_name(v->reason),
	    v->code, addr, mail_from, verdict_source_name(v->source),
	    v->mx[0] ? v->mx : "-", tls, agebuf,
	    (long)((ev_now(vfy.loop) - started) * 1000 + 0.5), notes);
	metrics_answer(v, (ev_now(vfy.loop) - started) * 1000);
}

/* Answer a request that never waited (policy, cache). */
static void
answer_now(struct slot *s, const struct request *req, const char *addr,
    const char *mail_from, const struct verdict *v, long age)
{
	char notes[NOTES_MAX];

	notes_format(notes, sizeof(notes), req);
	log_answer(addr, mail_from, v, age, ev_now(vfy.loop), notes);
	slot_answer_verdict(s, v, age);
}

static void
waiter_answer(struct waiter *w, const struct verdict *v)
{
	struct entry *e = w->e;

	log_answer(e->addr, e->mail_from, v, -1, w->started, w->notes);
	slot_answer_verdict(w->slot, v, -1);
	slot_release(w->slot);
	ev_timer_stop(vfy.loop, &w->deadline);
	TAILQ_REMOVE(&e->waiters, w, entry);
	free(w);
}

static void
entry_free(struct entry *e)
{
	if (e->state == E_QUEUED)
		TAILQ_REMOVE(&vfy.queue, e, qentry);
	HASH_DEL(vfy.inflight, e);
	vfy.st.inflight--;
	free(e);
}

/* --- cache ---------------------------------------------------------- */

/*
 * The cache speaks for the configured MAIL FROM (mail_from, normally <>):
 * a RECIPIENT with another from= neither reads nor writes address records,
 * and `nullsender` holds only for the null sender.
 */
static int
default_sender(const char *mail_from)
{
	return strcmp(mail_from, vfy.cfg->mail_from) == 0;
}

static long long
now_unix(void)
{
	return (long long)time(NULL);
}

/* Which records a question reads and writes (doc/protocol.md 4c). */
static enum record_path
question_path(int recipient, const char *domain)
{
	return recipient && config_route(vfy.cfg, domain) != NULL ?
	    RP_ROUTE : RP_MX;
}

/* Fetch a fresh record that means something; an implausible one is
 * deleted (a corrupt, hostile or outdated file) and is a miss. */
static int
cache_fetch(enum record_kind kind, enum record_path path, const char *name,
    struct record *r, long long now)
{
	char key[ADDR_BUF + 8];
	size_t kl = record_key(kind, path, name, key, sizeof(key));

	if (kl == 0 || !cache_get(vfy.cache, key, kl, r, now))
		return 0;
	if (record_plausible(vfy.cfg, kind, r, now))
		return 1;
	log_warn("cache: dropping an implausible record for %s", name);
	cache_flush_key(vfy.cache, key, kl);
	return 0;
}

/* A fresh cached answer for the question, or 0. */
static int
cache_lookup(const char *addr, const char *domain, const char *mail_from,
    enum record_path path, struct verdict *v, long *age, int *stale)
{
	struct record r;
	long long now = now_unix();
	int dflt = default_sender(mail_from);

	*stale = 0;
	if (cache_fetch(RK_DOMAIN, path, domain, &r, now) &&
	    record_answers(RK_DOMAIN, &r, mail_from, dflt))
		goto hit;
	if (dflt && cache_fetch(RK_ADDRESS, path, addr, &r, now) &&
	    record_answers(RK_ADDRESS, &r, mail_from, dflt)) {
		*stale = record_stale(&r, now);
		goto hit;
	}
	return 0;
hit:
	record_to_verdict(&r, v);
	*age = (long)(now - r.created);
	if (*age < 0)
		*age = 0;
	return 1;
}

/* Should the callout for this question send the catch-all probe?  Not
 * while the domain is known not to be a catch-all. */
static int
wants_probe(const struct entry *e)
{
	struct record r;

	return vfy.cfg->catchall_probe && !cache_fetch(RK_NOTCATCHALL,
	    question_path(e->recipient, e->domain), e->domain, &r,
	    now_unix());
}

/* Store what the callout found, as each kind of record it makes. */
static void
cache_store(const struct entry *e, const struct verdict *v, unsigned flags)
{
	enum record_path path = question_path(e->recipient, e->domain);
	unsigned kinds = record_store_kinds(v, flags,
	    default_sender(e->mail_from));
	long long now = now_unix();
	char key[ADDR_BUF + 8];
	struct record r;
	size_t kl;

	for (int k = 0; k < RK__COUNT; k++) {
		if (!(kinds & (1u << k)) || record_ttl(vfy.cfg, v, k) == 0)
			continue;
		kl = record_key(k, path, k == RK_ADDRESS ? e->addr :
		    e->domain, key, sizeof(key));
		if (kl == 0)
			continue;
		record_from_verdict(&r, v, vfy.cfg, k, now);
		cache_put(vfy.cache, key, kl, &r, now);
	}
}

/* --- recent outcomes (HEALTH) ------------------------------------------- */

static void
recent_note(const struct verdict *v)
{
	long minute = (long)(ev_now(vfy.loop) / RECENT_SLOT_LEN);
	struct verify_recent *r = &vfy.recent[minute % RECENT_SLOTS].r;

	if (vfy.recent[minute % RECENT_SLOTS].minute != minute) {
		memset(r, 0, sizeof(*r));
		vfy.recent[minute % RECENT_SLOTS].minute = minute;
	}
	r->total++;
	r->dnsfail += v->reason == R_DNSFAIL;
	r->timeout += v->reason == R_TIMEOUT || v->reason == R_UNREACHABLE;
	r->blocked += v->reason == R_BLOCKED;
}

void
verify_recent(struct verify_recent *out)
{
	long minute = (long)(ev_now(vfy.loop) / RECENT_SLOT_LEN);

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < RECENT_SLOTS; i++) {
		const struct verify_recent *r = &vfy.recent[i].r;

		if (minute - vfy.recent[i].minute >= RECENT_SLOTS)
			continue;
		out->total += r->total;
		out->dnsfail += r->dnsfail;
		out->timeout += r->timeout;
		out->blocked += r->blocked;
	}
}

/*
 * A refresh that did not confirm a fresh ok cannot replace it: move the
 * entry's refresh point on, so that not every query starts another one.
 */
static void
refresh_later(const struct entry *e)
{
	struct record r;
	char key[ADDR_BUF + 8];
	long long now = now_unix();
	size_t kl = record_key(RK_ADDRESS, question_path(e->recipient,
	    e->domain), e->addr, key, sizeof(key));

	if (kl > 0 && cache_get(vfy.cache, key, kl, &r, now) &&
	    record_refresh_later(&r, vfy.cfg, now))
		cache_put(vfy.cache, key, kl, &r, now);
}

/* --- callouts ---------------------------------------------------------- */

static void
on_callout_done(void *arg, const struct verdict *v, unsigned flags)
{
	struct entry *e = arg;
	struct waiter *w;

	e->co = NULL;
	cache_store(e, v, flags);
	if (e->refresh && v->result != RES_OK)
		refresh_later(e);
	recent_note(v);
	if (e->refresh)
		vfy.st.refreshes++;
	if (e->refresh)
		log_info("refresh addr=<%s> result=%s reason=%s", e->addr,
		    verdict_result_name(v->result),
		    verdict_reason_name(v->reason));
	else if (TAILQ_EMPTY(&e->waiters)) {
		char notes[32];

		/* Every client gave up (inprogress): the result is still
		 * what the retry will be answered with. */
		snprintf(notes, sizeof(notes), " role=%s late=yes",
		    role_name(e->recipient));
		log_answer(e->addr, e->mail_from, v, -1, e->started, notes);
	}
	while ((w = TAILQ_FIRST(&e->waiters)) != NULL)
		waiter_answer(w, v);
	vfy.running--;
	entry_free(e);
	pump_queue_soon(0.);
}

static struct bucket *
bucket_get(const char *domain)
{
	struct bucket *b;

	HASH_FIND_STR(vfy.buckets, domain, b);
	if (b == NULL) {
		b = xcalloc(1, sizeof(*b));
		snprintf(b->domain, sizeof(b->domain), "%s", domain);
		rl_init(&b->b, vfy.cfg->domain_rate_count, ev_now(vfy.loop));
		HASH_ADD_STR(vfy.buckets, domain, b);
	}
	return b;
}

/* Start e's callout if the limits allow: 1 started, 0 must wait. */
static int
entry_try_start(struct entry *e)
{
	const struct config *c = vfy.cfg;
	const struct route *route = NULL;

	if (vfy.running >= c->max_callouts) {
		e->why = Q_OVERLOAD;
		return 0;
	}
	if (!rl_take(&bucket_get(e->domain)->b, c->domain_rate_count,
	    c->domain_rate_period, ev_now(vfy.loop))) {
		e->why = Q_RATE;
		return 0;
	}
	if (e->recipient)
		route = config_route(c, e->domain);
	e->state = E_RUNNING;
	vfy.running++;
	vfy.st.callouts++;
	e->co = callout_start(e->domain, e->addr, e->mail_from, route,
	    wants_probe(e), on_callout_done, e);
	return 1;
}

/* Start queued entries in order while the limits allow. */
static void
pump_queue(void)
{
	struct entry *e, *next;
	double wait = -1;

	for (e = TAILQ_FIRST(&vfy.queue); e != NULL; e = next) {
		next = TAILQ_NEXT(e, qentry);
		TAILQ_REMOVE(&vfy.queue, e, qentry);
		e->state = E_RUNNING;   /* so that a failed try re-queues */
		if (entry_try_start(e))
			continue;
		e->state = E_QUEUED;
		if (next != NULL)
			TAILQ_INSERT_BEFORE(next, e, qentry);
		else
			TAILQ_INSERT_TAIL(&vfy.queue, e, qentry);
		if (e->why == Q_OVERLOAD)
			break;          /* a finished callout will call us */
		double w = rl_wait(&bucket_get(e->domain)->b,
		    vfy.cfg->domain_rate_count, vfy.cfg->domain_rate_period,
		    ev_now(vfy.loop));
		if (wait < 0 || w < wait)
			wait = w;
	}
	if (wait >= 0)
		pump_queue_soon(wait);
}

static void
on_queue_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	pump_queue();
}

static void
pump_queue_soon(double delay)
{
	if (TAILQ_EMPTY(&vfy.queue))
		return;
	if (ev_is_active(&vfy.queue_timer) &&
	    ev_timer_remaining(vfy.loop, &vfy.queue_timer) <= delay)
		return;
	ev_timer_stop(vfy.loop, &vfy.queue_timer);
	ev_timer_set(&vfy.queue_timer, delay, 0.);
	ev_timer_start(vfy.loop, &vfy.queue_timer);
}

/* --- waiting ------------------------------------------------------------ */

static void
on_deadline(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct waiter *w = t->data;
	struct entry *e = w->e;
	struct verdict v;

	(void)loop;
	(void)revents;
	if (e->state == E_RUNNING && !callout_waiting(e->co))
		verdict_set(&v, RES_DEFER, R_INPROGRESS, SRC_POLICY);
	else if (e->state == E_RUNNING || e->why == Q_RATE) {
		verdict_set(&v, RES_DEFER, R_RATELIMITED, SRC_POLICY);
		vfy.st.ratelimited++;
	} else {
		verdict_set(&v, RES_DEFER, R_OVERLOADED, SRC_POLICY);
		vfy.st.overloaded++;
	}
	waiter_answer(w, &v);
	/* Nobody waits for a queued question any more: drop it. */
	if (e->state == E_QUEUED && TAILQ_EMPTY(&e->waiters))
		entry_free(e);
}

/* The in-flight table's key for a question: "mail_from\0addr\0". */
static size_t
question_key(char *buf, size_t cap, const char *mail_from, const char *addr)
{
	int n = snprintf(buf, cap, "%s%c%s", mail_from, '\0', addr);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n + 1;
}

static struct entry *
entry_new(const char *key, size_t keylen, const struct request *req)
{
	struct entry *e = xcalloc(1, sizeof(*e) + keylen);

	memcpy(e->key, key, keylen);
	e->keylen = keylen;
	e->mail_from = e->key;
	e->addr = e->key + strlen(e->key) + 1;
	e->domain = strrchr(e->addr, '@') + 1;
	e->recipient = req->verb == VERB_RECIPIENT;
	e->started = ev_now(vfy.loop);
	TAILQ_INIT(&e->waiters);
	HASH_ADD_KEYPTR(hh, vfy.inflight, e->key, e->keylen, e);
	vfy.st.inflight++;
	e->state = E_RUNNING;           /* until entry_try_start says */
	return e;
}

/* Queued questions for domain ahead of a new one. */
static unsigned
queued_for(const char *domain)
{
	struct entry *q;
	unsigned n = 0;

	TAILQ_FOREACH(q, &vfy.queue, qentry)
		n += strcmp(q->domain, domain) == 0;
	return n;
}

/*
 * A new question that our own limits cannot start before its deadline is
 * answered at once, not held until the deadline to be deferred anyway:
 * the domain's bucket refills too slowly for it and those ahead of it, or
 * every callout slot is taken.  Returns 1 when s was answered.
 */
static int
refuse_now(struct entry *e, struct slot *s, const struct request *req,
    double deadline)
{
	const struct config *c = vfy.cfg;
	struct verdict v;
	double wait;

	if (e->why == Q_OVERLOAD) {
		verdict_set(&v, RES_DEFER, R_OVERLOADED, SRC_POLICY);
		snprintf(v.text, sizeof(v.text), "max_callouts (%u) "
		    "verifications are in flight", c->max_callouts);
		vfy.st.overloaded++;
	} else {
		if (c->domain_rate_count == 0)
			return 0;
		wait = rl_wait(&bucket_get(e->domain)->b, c->domain_rate_count,
		    c->domain_rate_period, ev_now(vfy.loop)) +
		    (double)queued_for(e->domain) * c->domain_rate_period /
		    c->domain_rate_count;
		if (wait < deadline)
			return 0;
		verdict_set(&v, RES_DEFER, R_RATELIMITED, SRC_POLICY);
		snprintf(v.text, sizeof(v.text), "domain_rate for %s: no "
		    "verification can start within %.0f s", e->domain,
		    deadline);
		vfy.st.ratelimited++;
	}
	answer_now(s, req, e->addr, e->mail_from, &v, -1);
	return 1;
}

/* Join (or create) the in-flight entry for this question and wait. */
static void
wait_for(struct slot *s, const struct request *req, const char *addr,
    const char *mail_from, int refresh_only)
{
	char key[2 * ADDR_BUF + 2], notes[NOTES_MAX];
	size_t keylen = question_key(key, sizeof(key), mail_from, addr);
	struct entry *e;
	struct waiter *w;

	if (keylen == 0)
		abort();        /* both parts are bounded by ADDR_BUF */
	double deadline = req->timeout > 0 ? (double)req->timeout :
	    (double)vfy.cfg->answer_timeout;

	HASH_FIND(hh, vfy.inflight, key, keylen, e);
	if (e == NULL) {
		e = entry_new(key, keylen, req);
		e->refresh = refresh_only;
		if (!entry_try_start(e)) {
			/* Never queue a refresh, nor what cannot start. */
			if (refresh_only || (s != NULL &&
			    refuse_now(e, s, req, deadline))) {
				entry_free(e);
				return;
			}
			e->state = E_QUEUED;
			TAILQ_INSERT_TAIL(&vfy.queue, e, qentry);
			pump_queue_soon(0.);
		}
	}
	if (s == NULL)
		return;
	notes_format(notes, sizeof(notes), req);
	w = xcalloc(1, sizeof(*w) + strlen(notes) + 1);
	strcpy(w->notes, notes);
	w->e = e;
	w->slot = s;
	w->started = ev_now(vfy.loop);
	slot_hold(s);
	TAILQ_INSERT_TAIL(&e->waiters, w, entry);
	ev_timer_init(&w->deadline, on_deadline, deadline, 0.);
	w->deadline.data = w;
	ev_timer_start(vfy.loop, &w->deadline);
}

/* --- requests ------------------------------------------------------------ */

void
verify_request(struct slot *s, const struct request *req)
{
	const char *mail_from = vfy.cfg->mail_from;
	char addr[ADDR_BUF], from[ADDR_BUF];
	struct verdict v;
	long age;
	int stale;

	vfy.st.verifications++;
	address_format(&req->addr, addr);
	if (req->has_from) {
		address_format(&req->from, from);
		mail_from = from;
	}
	if (req->addr.null) {
		verdict_set(&v, RES_OK, R_NULL, SRC_POLICY);
		answer_now(s, req, addr, mail_from, &v, -1);
		return;
	}
	if (req->addr.literal || config_skip_domain(vfy.cfg, req->addr.domain)) {
		verdict_set(&v, RES_UNKNOWN, R_SKIPPED, SRC_POLICY);
		if (req->addr.literal)
			snprintf(v.text, sizeof(v.text),
			    "address literals are not verified");
		answer_now(s, req, addr, mail_from, &v, -1);
		return;
	}
	if (!req->no_cache && cache_lookup(addr, req->addr.domain, mail_from,
	    question_path(req->verb == VERB_RECIPIENT, req->addr.domain), &v,
	    &age, &stale)) {
		vfy.st.cache_hits++;
		answer_now(s, req, addr, mail_from, &v, age);
		if (stale)
			wait_for(NULL, req, addr, mail_from, 1);
		return;
	}
	vfy.st.cache_misses++;
	wait_for(s, req, addr, mail_from, 0);
}

unsigned long
verify_flush(enum flush_kind kind, const char *arg)
{
	char key[ADDR_BUF + 8], addr[ADDR_BUF];
	struct mailbox mb;
	unsigned long n = 0;
	size_t kl;

	switch (kind) {
	case FLUSH_ALL:
		return cache_flush_all(vfy.cache);
	case FLUSH_DOMAIN:
		return cache_flush_domain(vfy.cache, arg);
	default:
		if (address_parse(arg, strlen(arg), &mb) < 0)
			return 0;
		address_format(&mb, addr);
		for (int p = RP_MX; p <= RP_ROUTE; p++) {
			kl = record_key(RK_ADDRESS, p, addr, key, sizeof(key));
			n += kl ? cache_flush_key(vfy.cache, key, kl) : 0;
		}
		return n;
	}
}

const struct verify_stats *
verify_stats(void)
{
	const struct cache_stats *cs = cache_stats(vfy.cache);

	vfy.st.cache_entries = cs->entries;
	vfy.st.cache_writable = cs->writable;
	vfy.st.cache_memory_only = cs->memory_only;
	return &vfy.st;
}

/* --- timers and life cycle ------------------------------------------------ */

static void
on_commit(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	cache_commit(vfy.cache);
}

static void
on_expire(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	cache_expire_step(vfy.cache, now_unix(), EXPIRE_BUDGET);
}

static void
on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bucket *b, *tmp;

	(void)w;
	(void)revents;
	HASH_ITER(hh, vfy.buckets, b, tmp) {
		if (rl_idle(&b->b, vfy.cfg->domain_rate_count,
		    vfy.cfg->domain_rate_period, ev_now(loop))) {
			HASH_DEL(vfy.buckets, b);
			free(b);
		}
	}
}

void
verify_init(struct ev_loop *loop, const struct config *cfg)
{
	vfy.loop = loop;
	vfy.cfg = cfg;
	vfy.cache = cache_open(cfg->cache_file, cfg->cache_hash_size);
	callout_init(loop, cfg);
	ev_init(&vfy.queue_timer, on_queue_timer);
	ev_timer_init(&vfy.commit_timer, on_commit, COMMIT_EVERY, COMMIT_EVERY);
	ev_timer_init(&vfy.expire_timer, on_expire, EXPIRE_EVERY, EXPIRE_EVERY);
	ev_timer_init(&vfy.sweep_timer, on_sweep, SWEEP_EVERY, SWEEP_EVERY);
	ev_timer_start(loop, &vfy.commit_timer);
	ev_timer_start(loop, &vfy.expire_timer);
	ev_timer_start(loop, &vfy.sweep_timer);
}

/* What a reload changed that cached answers depend on. */
enum stale_why { STALE_NETWORKS = 1, STALE_ROUTES = 2, STALE_SENDER = 4 };

static int
stale_match(const void *key, size_t klen, const struct record *r, void *arg)
{
	unsigned why = *(const unsigned *)arg;
	enum record_kind kind;
	enum record_path path;

	if (r == NULL || record_key_parse(key, klen, &kind, &path) < 0)
		return 0;
	if ((why & STALE_NETWORKS) && r->reason == R_BOGUSMX)
		return 1;
	if ((why & STALE_ROUTES) && path == RP_ROUTE)
		return 1;
	return (why & STALE_SENDER) && (kind == RK_ADDRESS ||
	    r->reason == R_NULLSENDER);
}

/*
 * Answers that hold only under the old configuration go with it: bogusmx
 * (allow_networks), everything learnt through routes (routes), and what
 * the configured MAIL FROM was told (mail_from).
 */
static void
forget_stale(const struct config *old, const struct config *fresh)
{
	unsigned why = 0;
	unsigned long n;

	if (!confcheck_same_networks(old, fresh))
		why |= STALE_NETWORKS;
	if (!confcheck_same_routes(old, fresh))
		why |= STALE_ROUTES;
	if (strcmp(old->mail_from, fresh->mail_from) != 0)
		why |= STALE_SENDER;
	if (why == 0)
		return;
	n = cache_flush_match(vfy.cache, stale_match, &why);
	log_info("reload: %lu cached answers depended on what changed%s%s%s",
	    n, why & STALE_NETWORKS ? " (allow_networks)" : "",
	    why & STALE_ROUTES ? " (routes)" : "",
	    why & STALE_SENDER ? " (mail_from)" : "");
}

void
verify_reconfigure(const struct config *cfg)
{
	forget_stale(vfy.cfg, cfg);
	vfy.cfg = cfg;
	callout_reconfigure(cfg);
}

/* Stop: drop every question (the server answers the clients), close the
 * cache with its last batch committed. */
void
verify_shutdown(void)
{
	struct entry *e, *tmp;
	struct waiter *w;
	struct bucket *b, *btmp;

	if (vfy.loop == NULL)
		return;
	callout_shutdown();
	HASH_ITER(hh, vfy.inflight, e, tmp) {
		while ((w = TAILQ_FIRST(&e->waiters)) != NULL) {
			ev_timer_stop(vfy.loop, &w->deadline);
			slot_release(w->slot);
			TAILQ_REMOVE(&e->waiters, w, entry);
			free(w);
		}
		entry_free(e);
	}
	HASH_ITER(hh, vfy.buckets, b, btmp) {
		HASH_DEL(vfy.buckets, b);
		free(b);
	}
	ev_timer_stop(vfy.loop, &vfy.queue_timer);
	ev_timer_stop(vfy.loop, &vfy.commit_timer);
	ev_timer_stop(vfy.loop, &vfy.expire_timer);
	ev_timer_stop(vfy.loop, &vfy.sweep_timer);
	cache_close(vfy.cache);
	vfy.cache = NULL;
	vfy.loop = NULL;
}
