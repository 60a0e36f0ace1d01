/*
 * callout.c - jobs, sessions and hosts (doc/protocol.md 4a).
 *
 * A job is one domain and one MAIL FROM: it resolves the targets once,
 * then carries its addresses ("rcpts") from target to target in SMTP
 * sessions of up to max_rcpt_per_session.  The dialogue itself is
 * session.c's pure state machine; this file only moves bytes, runs the
 * timers and decides where an address goes next.  Results are delivered
 * after the job's state is consistent again, from the event callback
 * that produced them.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include <uthash.h>

#include "callout.h"
#include "buf.h"
#include "host.h"
#include "log.h"
#include "ratelimit.h"
#include "record.h"
#include "resolve.h"
#include "session.h"
#include "smtpconn.h"
#include "xmalloc.h"

#define LINE_MAX_REMOTE 4096    /* longer reply lines are garbage */
#define QUIT_WAIT       2.0     /* a detached session waits for 221 */
#define AGAIN_MAX       3       /* new sessions for one address after 452 */
#define JOIN_SHARE      4       /* join a job younger than timeout / 4 */
#define TLS_BROKEN_TTL  3600    /* after a TLS failure, plain text only */

struct job;
struct csess;

struct callout {                        /* one address in a job */
	TAILQ_ENTRY(callout) entry;
	struct job *job;
	struct csess *sess;             /* riding in this session, or NULL */
	size_t tidx;                    /* next target to try */
	struct verdict *best;           /* most informative move-on so far */
	unsigned again;                 /* sessions that answered it 452 */
	callout_fn *cb;
	void *arg;
	char addr[];                    /* "local@domain" */
};
TAILQ_HEAD(callout_list, callout);

struct csess {
	TAILQ_ENTRY(csess) entry;
	struct job *job;
	struct host *host;
	const struct target *tgt;
	struct smtpconn conn;           /* the socket side */
	size_t nrc;
	struct callout **rc;            /* nrc entries, after rcpt_store */
	const char *mx;                 /* "host[ip]" */
	const char *probe;              /* "random@domain" or NULL */
	const char *helo;               /* copied: a reload may free cfg's */
	int plain_retry;                /* TLS failed: the undecided stay on
	                                   this target, for plain text */
	struct session sm;
	struct sess_rcpt rcpt_store[];  /* nrc entries, sized at start */
};
TAILQ_HEAD(csess_list, csess);

struct job {
	UT_hash_handle hh;
	TAILQ_ENTRY(job) all_entry;
	TAILQ_ENTRY(job) blocked_entry;
	int blocked;                    /* waiting for a host slot */
	int in_table;
	int probe;                      /* send the catch-all probe */
	ev_tstamp started;
	struct resolve *rsv;            /* resolving while non-NULL */
	size_t nt;
	struct target *t;
	struct callout_list rcpts;
	struct csess_list sess;
	ev_timer deadline;
	ev_timer kick;                  /* deferred job_pump for joiners */
	const char *mail_from;          /* into key */
	const char *domain;             /* into key */
	size_t keylen;
	char key[];                     /* "R" or "-" (routed), mail_from,
	                                   NUL, domain, NUL */
};

static struct {
	struct ev_loop *loop;
	const struct config *cfg;
	struct job *jobs;               /* joinable jobs by key */
	struct csess_list lingering;    /* QUIT sent, detached from any job */
	TAILQ_HEAD(, job) all;
	TAILQ_HEAD(, job) blocked;
	ev_timer sweep;
	struct callout_stats st;
} co = {
	.all = TAILQ_HEAD_INITIALIZER(co.all),
	.lingering = TAILQ_HEAD_INITIALIZER(co.lingering),
	.blocked = TAILQ_HEAD_INITIALIZER(co.blocked),
};

static void job_pump(struct job *j);
static void job_done(struct job *j);

#define HOST_SWEEP_EVERY 60.0

static void
on_host_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	host_sweep(ev_now(loop));
}

void
callout_init(struct ev_loop *loop, const struct config *cfg)
{
	co.loop = loop;
	co.cfg = cfg;
	resolve_init(loop, cfg);
	if (cfg->tls && sc_tls_init() < 0)
		log_warn("TLS: OpenSSL set-up failed; callouts go in plain text");
	ev_timer_init(&co.sweep, on_host_sweep, HOST_SWEEP_EVERY,
	    HOST_SWEEP_EVERY);
	ev_timer_start(loop, &co.sweep);
}

void
callout_reconfigure(const struct config *cfg)
{
	co.cfg = cfg;
	resolve_reconfigure(cfg);
	if (cfg->tls)
		sc_tls_init();          /* now, not during a handshake */
}

const struct callout_stats *
callout_stats(void)
{
	return &co.st;
}

/* --- hosts ------------------------------------------------------------ */

void
callout_backoff_report(struct buf *out, double now)
{
	co.st.backed_off = host_backoff_report(out, now);
}

unsigned
callout_blocked_report(struct buf *out, double now)
{
	return host_blocked_report(out, now, BLOCKED_WINDOW);
}

/* --- delivering results ----------------------------------------------- */

static void
rcpt_free(struct callout *rc)
{
	free(rc->best);
	free(rc);
}

/* Detach rc from its job and hand its verdict (and VF_* flags) over. */
static void
rcpt_finish(struct callout *rc, const struct verdict *v, unsigned flags)
{
	struct job *j = rc->job;
	callout_fn *cb = rc->cb;
	void *arg = rc->arg;
	struct verdict copy = *v;

	TAILQ_REMOVE(&j->rcpts, rc, entry);
	rcpt_free(rc);
	cb(arg, &copy, flags);
}

/* Remember a move-on verdict if it is more informative. */
static void
rcpt_move_on(struct callout *rc, const struct verdict *v)
{
	if (rc->best == NULL)
		rc->best = xmalloc(sizeof(*rc->best));
	else if (verdict_rank(v) <= verdict_rank(rc->best)) {
		rc->tidx++;
		return;
	}
	*rc->best = *v;
	rc->tidx++;
}

/* rc's answer is known without asking (a host that blocks us): it is
 * delivered with the exhausted ones at the end of job_pump. */
static void
rcpt_known(struct callout *rc, const struct verdict *v, size_t nt)
{
	if (rc->best == NULL)
		rc->best = xmalloc(sizeof(*rc->best));
	*rc->best = *v;
	rc->tidx = nt;
}

/* An address has run out of targets: its best failure is the answer. */
static void
rcpt_exhausted(struct callout *rc)
{
	struct verdict v;

	if (rc->best != NULL) {
		rcpt_finish(rc, rc->best, 0);
		return;
	}
	verdict_set(&v, RES_DEFER, R_UNREACHABLE, SRC_CALLOUT);
	snprintf(v.text, sizeof(v.text), "no mail host could be connected");
	rcpt_finish(rc, &v, 0);
}

/* --- sessions ----------------------------------------------------------- */

static void
step_timer(struct csess *s, double t)
{
	sc_timer(&s->conn, t);
}

/* Give back the host slot and leave the job: the result is known. */
static void
csess_detach(struct csess *s)
{
	if (s->job == NULL)
		return;
	TAILQ_REMOVE(&s->job->sess, s, entry);
	s->job = NULL;
	s->tgt = NULL;                  /* the job's targets go with it */
	s->host->open--;
	co.st.sessions--;
	host_put(s->host);
	s->host = NULL;
}

static void
csess_close(struct csess *s)
{
	if (s->job != NULL)
		csess_detach(s);
	else
		TAILQ_REMOVE(&co.lingering, s, entry);
	sc_close(&s->conn);
	free(s);
}

/* Back-off and block records: what this session taught us of its host. */
static void
csess_learn(struct csess *s)
{
	double now = ev_now(co.loop);
	struct host *h = s->host;

	if (s->sm.backoff) {
		backoff_hit(&h->bo, now);
		co.st.backoffs++;
		log_info("backoff host=%s level=%u", s->mx, h->bo.level);
	} else
		backoff_success(&h->bo, now);
	/* Only our own MAIL FROM speaks for us: another sender (from=) may
	 * be refused for what it is. */
	if (strcmp(s->job->mail_from, co.cfg->mail_from) != 0)
		return;
	for (size_t i = 0; i < s->nrc; i++) {
		const struct sess_rcpt *r = &s->sm.rcpt[i];

		if (r->decided && r->v.result == RES_UNKNOWN &&
		    r->v.reason == R_BLOCKED && r->v.source == SRC_CALLOUT) {
			if (host_blocked(h, now) == NULL) {
				co.st.blocked++;
				log_warn("blocked host=%s code=%d text=\"%s\"",
				    s->mx, r->v.code, r->v.text);
			}
			host_block(h, &r->v, now, co.cfg->blocked_ttl);
			return;
		}
	}
}

/* A 452 to RCPT: the address goes to a new session on the same host, and
 * the host is given no more RCPTs per session than it took. */
static void
csess_again(struct csess *s, struct callout *rc, size_t i)
{
	struct verdict *v = &s->sm.rcpt[i].v;

	if (s->host->rcpt_cap == 0 || i < s->host->rcpt_cap)
		s->host->rcpt_cap = i > 0 ? (unsigned)i : 1;
	if (++rc->again > AGAIN_MAX)
		rcpt_move_on(rc, v);    /* this host will not take it */
}

static unsigned
csess_flags(const struct csess *s)
{
	return (s->tgt->primary ? VF_PRIMARY : 0) |
	    (s->sm.probe_result == PROBE_REFUSED ? VF_NOTCATCHALL : 0);
}

/* The session's results are final: settle every address it carried. */
static void
csess_settle(struct csess *s)
{
	struct callout *done[SESS_MAX_RCPT];
	struct verdict dv[SESS_MAX_RCPT];
	unsigned flags = csess_flags(s);
	const char *tls = sc_tls_version(&s->conn);
	size_t nd = 0;

	csess_learn(s);
	for (size_t i = 0; i < s->nrc; i++) {
		struct callout *rc = s->rc[i];
		struct sess_rcpt *r = &s->sm.rcpt[i];

		rc->sess = NULL;
		snprintf(r->v.tls, sizeof(r->v.tls), "%s", tls ? tls : "no");
		r->v.tls_verified = tls != NULL && s->conn.tls_verified;
		if (r->decided) {
			co.st.last_success = ev_now(co.loop);
			done[nd] = rc;
			dv[nd++] = r->v;
		} else if (r->again)
			csess_again(s, rc, i);
		else {
			rcpt_move_on(rc, &r->v);
			rc->tidx -= (size_t)s->plain_retry;
		}
	}
	s->nrc = 0;
	for (size_t i = 0; i < nd; i++)
		rcpt_finish(done[i], &dv[i], flags);
}

/* Settle (once); the host slot is given back at once, and a session that
 * sent QUIT lingers, detached, only for the remote's 221. */
static void
csess_act(struct csess *s, enum sess_action act)
{
	struct job *j = s->job;

	if (act == SA_CONTINUE)
		return;
	if (j == NULL) {                /* lingering: anything ends it */
		csess_close(s);
		return;
	}
	if (s->nrc > 0)
		csess_settle(s);
	if (act == SA_QUIT && buf_avail(&s->conn.out) == 0) {
		csess_detach(s);
		TAILQ_INSERT_TAIL(&co.lingering, s, entry);
		step_timer(s, QUIT_WAIT);
	} else
		csess_close(s);
	job_pump(j);
	job_done(j);
}

/*
 * A failure that is not a reply: let the state machine settle it, then say
 * what happened in the text of every address it leaves undecided.
 */
static enum sess_action
csess_fail(struct csess *s, enum smtp_failure f, const char *why)
{
	size_t before = s->sm.replied;
	enum sess_action act = sess_failure(&s->sm, f);

	for (size_t i = before; i < s->sm.nrcpt; i++) {
		struct verdict *v = &s->sm.rcpt[i].v;

		if (!s->sm.rcpt[i].decided && v->text[0] == '\0')
			snprintf(v->text, sizeof(v->text), "%s: %s", s->mx, why);
	}
	return act;
}

/* Feed complete lines to the state machine; returns the last action. */
static enum sess_action
csess_lines(struct csess *s)
{
	enum sess_action act = SA_CONTINUE;

	while (act == SA_CONTINUE && s->sm.state < SS_DONE) {
		const char *p = buf_head(&s->conn.in);
		size_t n = buf_avail(&s->conn.in), len;
		const char *lf = n ? memchr(p, '\n', n) : NULL;

		if (lf == NULL) {
			if (n > LINE_MAX_REMOTE)
				act = csess_fail(s, FAIL_GARBLED, "reply line too long");
			break;
		}
		len = (size_t)(lf - p);
		buf_consume(&s->conn.in, len + 1);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		act = sess_line(&s->sm, p, len, &s->conn.out);
	}
	return act;
}

/* Bytes that came while no reply was owed (plain text buffered before
 * the handshake: an injection as in CVE-2011-0411; or bytes before our
 * first command over TLS): the state machine calls it a violation. */
static enum sess_action
csess_unasked(struct csess *s)
{
	size_t n = buf_avail(&s->conn.in);
	enum sess_action act = sess_line(&s->sm, buf_head(&s->conn.in),
	    n < LINE_MAX_REMOTE ? n : LINE_MAX_REMOTE, &s->conn.out);

	buf_reset(&s->conn.in);
	return act;
}

/* The handshake failed or TLS broke before RCPT's reply: remember the
 * host as TLS-broken; what is undecided goes to a new session on the same
 * target in plain text (Exim's tls_tempfail_tryclear). */
static void
csess_tls_failed(struct csess *s, const char *why)
{
	if (s->job == NULL) {           /* after QUIT: nothing is owed */
		csess_act(s, SA_CLOSE);
		return;
	}
	co.st.tls_failures++;
	why = why[0] != '\0' ? why : "TLS failed";
	log_info("tls_failed host=%s why=\"%s\"", s->mx, why);
	host_tls_break(s->host, ev_now(co.loop), TLS_BROKEN_TTL);
	s->plain_retry = s->sm.state < SS_PROBE;
	co.st.tls_plain_retries += (unsigned)s->plain_retry;
	csess_act(s, csess_fail(s, FAIL_LOST, why));
}

/*
 * Everything that arrived in one go is fed before anything is sent, so a
 * line that came before its command is seen as such (doc/protocol.md 4d).
 * command_timeout runs from each command to its complete reply: bytes
 * dripping in do not extend it.
 */
static void
csess_input(struct csess *s)
{
	unsigned long before = s->sm.replies;
	enum sess_action act = csess_lines(s);

	if (act == SA_STARTTLS && buf_avail(&s->conn.in) > 0)
		act = csess_unasked(s);
	else if (act == SA_STARTTLS) {  /* command_timeout covers it */
		sc_starttls(&s->conn, s->tgt->host);
		act = SA_CONTINUE;
	}
	sess_sent(&s->sm);
	if (act == SA_CONTINUE && s->sm.replies != before)
		step_timer(s, co.cfg->command_timeout);
	if (act != SA_CLOSE && sc_flush(&s->conn) < 0)
		act = s->sm.state >= SS_QUIT ? SA_CLOSE :
		    csess_fail(s, FAIL_LOST, "connection lost while writing");
	csess_act(s, act);
}

/* What the socket side reports: one place for every event. */
static void
on_conn(struct smtpconn *c, enum sc_event ev, int err)
{
	struct csess *s = c->owner;

	switch (ev) {
	case SC_EV_CONNECTED:
		step_timer(s, co.cfg->command_timeout);    /* the greeting */
		return;
	case SC_EV_INPUT:
		csess_input(s);
		return;
	case SC_EV_LOST:
		csess_act(s, csess_fail(s, FAIL_LOST, err ? strerror(err) :
		    "connection closed"));
		return;
	case SC_EV_CONNECT_FAILED:
		csess_act(s, csess_fail(s, FAIL_CONNECT, strerror(err)));
		return;
	case SC_EV_TLS_UP:
		co.st.tls_sessions++;
		sess_tls_up(&s->sm, &s->conn.out);
		step_timer(s, co.cfg->command_timeout);
		if (buf_avail(&c->in) > 0)
			csess_act(s, csess_unasked(s));
		else
			csess_input(s);         /* sends EHLO again */
		return;
	case SC_EV_TLS_FAILED:
		csess_tls_failed(s, c->tls_error);
		return;
	default:                                /* SC_EV_TIMER */
		if (s->sm.state >= SS_QUIT)
			csess_act(s, SA_CLOSE);
		else if (c->phase == SC_HANDSHAKE)
			csess_tls_failed(s, "TLS handshake timed out");
		else if (c->phase != SC_CONNECTING)
			csess_act(s, csess_fail(s, FAIL_TIMEOUT,
			    "no reply in time"));
		else
			csess_act(s, csess_fail(s, FAIL_CONNECT,
			    "connect timed out"));
	}
}

static void
random_local(char *buf, size_t len)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[16];

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)random();
	for (size_t i = 0; i + 1 < len && i < sizeof(r); i++)
		buf[i] = set[r[i] % (sizeof(set) - 1)];
	buf[len - 1 < sizeof(r) ? len - 1 : sizeof(r)] = '\0';
}

static void
csess_start(struct job *j, size_t tidx, struct callout **rcs, size_t n)
{
	const struct target *tgt = &j->t[tidx];
	char ip[NETADDR_STRLEN], local[13], mx[SAV_MX_MAX], probe[ADDR_BUF];
	size_t lmx, lprobe = 0, lhelo = strlen(co.cfg->helo_name) + 1;
	struct csess *s;
	char *p;

	netaddr_format(&tgt->ip, ip);
	lmx = (size_t)snprintf(mx, sizeof(mx), "%s[%s]", tgt->host, ip) + 1;
	if (j->probe) {
		random_local(local, sizeof(local));
		lprobe = (size_t)snprintf(probe, sizeof(probe), "%s@%s", local,
		    j->domain) + 1;
	}
	/* One block: the session, its recipients, and its strings. */
	s = xcalloc(1, sizeof(*s) + n * (sizeof(s->rcpt_store[0]) +
	    sizeof(s->rc[0])) + lmx + lprobe + lhelo);
	s->rc = (struct callout **)(s->rcpt_store + n);
	p = (char *)(s->rc + n);
	s->mx = memcpy(p, mx, lmx);
	s->helo = memcpy(p + lmx, co.cfg->helo_name, lhelo);
	if (lprobe > 0)
		s->probe = memcpy(p + lmx + lhelo, probe, lprobe);
	s->job = j;
	s->tgt = tgt;
	s->host = host_get(&tgt->ip);
	s->host->open++;
	s->host->last_used = ev_now(co.loop);
	sess_init(&s->sm, s->helo, j->mail_from, s->probe, s->mx,
	    s->rcpt_store, n);
	s->sm.tls_wanted = co.cfg->tls &&
	    !host_tls_broken(s->host, ev_now(co.loop));
	s->sm.tls_cleared = co.cfg->tls && !s->sm.tls_wanted;
	for (size_t i = 0; i < n; i++) {
		s->rc[s->nrc++] = rcs[i];
		rcs[i]->sess = s;
		sess_add_rcpt(&s->sm, rcs[i]->addr);
	}
	TAILQ_INSERT_TAIL(&j->sess, s, entry);
	co.st.sessions++;
	co.st.sessions_total++;
	sc_start(&s->conn, co.loop, &tgt->ip, tgt->port,
	    co.cfg->has_bind_address ? &co.cfg->bind_address : NULL, on_conn,
	    s);
	if (s->conn.phase == SC_CONNECTING)
		step_timer(s, co.cfg->connect_timeout);
}

/* --- jobs ------------------------------------------------------------ */

static unsigned
host_limit(const struct host *h)
{
	return backoff_concurrency(&h->bo, co.cfg->host_concurrency);
}

static void
set_blocked(struct job *j, int blocked)
{
	if (blocked && !j->blocked)
		TAILQ_INSERT_TAIL(&co.blocked, j, blocked_entry);
	else if (!blocked && j->blocked)
		TAILQ_REMOVE(&co.blocked, j, blocked_entry);
	j->blocked = blocked;
}

/* How many addresses one session to h may carry. */
static size_t
host_batch(const struct host *h)
{
	size_t n = co.cfg->max_rcpt_per_session;

	return h->rcpt_cap != 0 && h->rcpt_cap < n ? h->rcpt_cap : n;
}

/* Can rc go to target t now?  0: yes; 1: its answer is already known
 * (the host is paused or blocks us); rc is then set aside. */
static int
rcpt_settled_by_host(struct job *j, struct callout *rc, struct host *h,
    double now)
{
	const struct verdict *bv = host_blocked(h, now);
	struct verdict v;

	if (bv != NULL) {
		rcpt_known(rc, bv, j->nt);
		return 1;
	}
	if (!backoff_active(&h->bo, now))
		return 0;
	verdict_set(&v, RES_DEFER, R_RATELIMITED, SRC_POLICY);
	rcpt_move_on(rc, &v);
	return 1;
}

/* Start sessions for waiting addresses, target by target. */
static void
job_pump(struct job *j)
{
	struct callout *rc, *next, *batch[SESS_MAX_RCPT];
	ev_tstamp now = ev_now(co.loop);
	int blocked = 0;

	if (j->rsv != NULL)
		return;
	for (size_t t = 0; t < j->nt; t++) {
		struct host *h = host_get(&j->t[t].ip);
		size_t n = 0, max = host_batch(h);

		TAILQ_FOREACH(rc, &j->rcpts, entry) {
			if (rc->sess != NULL || rc->tidx != t ||
			    rcpt_settled_by_host(j, rc, h, now))
				continue;
			batch[n++] = rc;
			if (n == max) {
				if (h->open >= host_limit(h))
					break;
				csess_start(j, t, batch, n);
				n = 0;
			}
		}
		if (n > 0 && h->open < host_limit(h))
			csess_start(j, t, batch, n);
		else if (n > 0)
			blocked = 1;
		host_put(h);
	}
	set_blocked(j, blocked);
	/* Addresses past the last target are finished. */
	for (rc = TAILQ_FIRST(&j->rcpts); rc != NULL; rc = next) {
		next = TAILQ_NEXT(rc, entry);
		if (rc->sess == NULL && rc->tidx >= j->nt)
			rcpt_exhausted(rc);
	}
}

static void
job_unlist(struct job *j)
{
	if (j->in_table)
		HASH_DEL(co.jobs, j);
	j->in_table = 0;
}

static void
job_free(struct job *j)
{
	job_unlist(j);
	set_blocked(j, 0);
	TAILQ_REMOVE(&co.all, j, all_entry);
	resolve_cancel(j->rsv);
	ev_timer_stop(co.loop, &j->deadline);
	ev_timer_stop(co.loop, &j->kick);
	free(j->t);
	co.st.jobs--;
	free(j);
}

/* Free j if it has nothing left; 1 if freed. */
static int
job_check(struct job *j)
{
	if (!TAILQ_EMPTY(&j->rcpts) || !TAILQ_EMPTY(&j->sess) ||
	    j->rsv != NULL)
		return 0;
	job_free(j);
	return 1;
}

/* j made progress: free it if done, and let blocked jobs go on, since a
 * host slot may have opened. */
static void
job_done(struct job *j)
{
	struct job *b, *next;

	job_check(j);
	for (b = TAILQ_FIRST(&co.blocked); b != NULL; b = next) {
		next = TAILQ_NEXT(b, blocked_entry);
		job_pump(b);
		job_check(b);
	}
}

static void
on_resolved(void *arg, const struct resolve_result *res)
{
	struct job *j = arg;
	struct callout *rc;

	j->rsv = NULL;
	if (!res->ok) {
		while ((rc = TAILQ_FIRST(&j->rcpts)) != NULL)
			rcpt_finish(rc, &res->v, 0);
		job_done(j);
		return;
	}
	j->t = xcalloc(res->n, sizeof(*j->t));
	memcpy(j->t, res->t, res->n * sizeof(*j->t));
	j->nt = res->n;
	job_pump(j);
	job_done(j);
}

/* callout_timeout: every session is cut, every address answered. */
static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *j = w->data;
	struct csess *s;
	struct callout *rc;
	struct verdict v;

	(void)loop;
	(void)revents;
	job_unlist(j);
	while ((s = TAILQ_FIRST(&j->sess)) != NULL) {
		if (s->nrc > 0) {
			csess_fail(s, FAIL_TIMEOUT, "callout_timeout reached");
			csess_settle(s);
		}
		csess_close(s);
	}
	resolve_cancel(j->rsv);
	j->rsv = NULL;
	while ((rc = TAILQ_FIRST(&j->rcpts)) != NULL) {
		/* Never had a connection slot: our limit, not the remote's. */
		if (rc->best == NULL && j->nt > 0) {
			verdict_set(&v, RES_DEFER, R_RATELIMITED, SRC_POLICY);
			snprintf(v.text, sizeof(v.text), "no connection slot "
			    "to the mail hosts of %s became free", j->domain);
		} else
			verdict_from_failure(&v, FAIL_TIMEOUT,
			    "callout_timeout reached");
		rcpt_move_on(rc, &v);
		rcpt_finish(rc, rc->best, 0);
	}
	job_done(j);
}

/* A late joiner of a resolved job starts from a zero timer. */
static void
on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *j = w->data;

	(void)loop;
	(void)revents;
	job_pump(j);
	job_done(j);
}

static struct job *
job_get(const char *domain, const char *mail_from, const struct route *route)
{
	char key[ADDR_BUF + ADDR_DOMAIN_MAX + 3];
	struct job *j;
	ev_tstamp now = ev_now(co.loop);
	int n;

	/* A routed job never serves an unrouted question, nor the reverse. */
	n = snprintf(key, sizeof(key), "%c%s%c%s", route ? 'R' : '-',
	    mail_from, '\0', domain);
	if (n < 0 || (size_t)n >= sizeof(key))
		abort();        /* both parts are bounded */
	HASH_FIND(hh, co.jobs, key, (size_t)n + 1, j);
	if (j != NULL && (j->rsv != NULL ||
	    now - j->started < co.cfg->callout_timeout / JOIN_SHARE))
		return j;
	if (j != NULL)                  /* too old to join: leave it be */
		job_unlist(j);
	j = xcalloc(1, sizeof(*j) + (size_t)n + 1);
	j->keylen = (size_t)n + 1;
	memcpy(j->key, key, j->keylen);
	j->mail_from = j->key + 1;
	j->domain = j->mail_from + strlen(j->mail_from) + 1;
	j->started = now;
	TAILQ_INIT(&j->rcpts);
	TAILQ_INIT(&j->sess);
	HASH_ADD_KEYPTR(hh, co.jobs, j->key, j->keylen, j);
	j->in_table = 1;
	TAILQ_INSERT_TAIL(&co.all, j, all_entry);
	ev_init(&j->kick, on_kick);
	j->kick.data = j;
	co.st.jobs++;
	ev_timer_init(&j->deadline, on_deadline, co.cfg->callout_timeout, 0.);
	j->deadline.data = j;
	ev_timer_start(co.loop, &j->deadline);
	j->rsv = resolve_start(domain, route, on_resolved, j);
	return j;
}


struct callout *
callout_start(const char *domain, const char *addr, const char *mail_from,
    const struct route *route, int probe, callout_fn *cb, void *arg)
{
	struct job *j = job_get(domain, mail_from, route);
	struct callout *rc = xcalloc(1, sizeof(*rc) + strlen(addr) + 1);

	j->probe |= probe;
	rc->job = j;
	rc->cb = cb;
	rc->arg = arg;
	strcpy(rc->addr, addr);
	TAILQ_INSERT_TAIL(&j->rcpts, rc, entry);
	if (j->rsv == NULL && !ev_is_active(&j->kick)) {
		ev_timer_set(&j->kick, 0., 0.);
		ev_timer_start(co.loop, &j->kick);
	}
	return rc;
}

int
callout_waiting(const struct callout *rc)
{
	return rc->sess == NULL && rc->job->rsv == NULL;
}

void
callout_shutdown(void)
{
	struct job *j;
	struct csess *s;
	struct callout *rc;

	ev_timer_stop(co.loop, &co.sweep);
	while ((s = TAILQ_FIRST(&co.lingering)) != NULL)
		csess_close(s);
	while ((j = TAILQ_FIRST(&co.all)) != NULL) {
		while ((s = TAILQ_FIRST(&j->sess)) != NULL)
			csess_close(s);
		while ((rc = TAILQ_FIRST(&j->rcpts)) != NULL) {
			TAILQ_REMOVE(&j->rcpts, rc, entry);
			rcpt_free(rc);
		}
		job_free(j);
	}
	host_clear();
	sc_tls_fini();
}
