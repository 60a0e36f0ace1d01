/*
 * callout.c - jobs, sessions and hosts (PROTOCOL.md 3a).
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
#include "log.h"
#include "ratelimit.h"
#include "resolve.h"
#include "session.h"
#include "xmalloc.h"

#define LINE_MAX_REMOTE 4096    /* longer reply lines are garbage */
#define QUIT_WAIT       5.0     /* seconds to wait for the QUIT reply */
#define JOIN_SHARE      4       /* join a job younger than timeout / 4 */

struct job;
struct csess;

struct callout {                        /* one address in a job */
	TAILQ_ENTRY(callout) entry;
	struct job *job;
	struct csess *sess;             /* riding in this session, or NULL */
	size_t tidx;                    /* next target to try */
	struct verdict *best;           /* most informative move-on so far */
	callout_fn *cb;
	void *arg;
	char addr[];                    /* "local@domain" */
};
TAILQ_HEAD(callout_list, callout);

struct host {                           /* per target address */
	UT_hash_handle hh;
	struct netaddr ip;              /* key */
	unsigned open;
	struct backoff bo;
};

struct csess {
	TAILQ_ENTRY(csess) entry;
	struct job *job;
	struct host *host;
	const struct target *tgt;
	int fd;
	int connected;
	int connect_errno;              /* an immediate connect failure */
	ev_io io;
	ev_timer step;
	struct buf in, out;
	size_t nrc;
	struct callout **rc;            /* nrc entries, after rcpt_store */
	const char *mx;                 /* "host[ip]" */
	const char *probe;              /* "random@domain" or NULL */
	const char *helo;               /* copied: a reload may free cfg's */
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
	struct host *hosts;
	TAILQ_HEAD(, job) all;
	TAILQ_HEAD(, job) blocked;
	ev_timer sweep;
	struct callout_stats st;
} co = {
	.all = TAILQ_HEAD_INITIALIZER(co.all),
	.blocked = TAILQ_HEAD_INITIALIZER(co.blocked),
};

static void job_pump(struct job *j);
static void job_done(struct job *j);

#define HOST_SWEEP_EVERY 60.0

/*
 * A host is kept while it has sessions or a back-off to remember; a host
 * that backed us off and was never called again is forgotten once its
 * pause is long over, so the table stays bounded.
 */
static void
on_host_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct host *h, *tmp;

	(void)w;
	(void)revents;
	HASH_ITER(hh, co.hosts, h, tmp) {
		if (h->open == 0 && ev_now(loop) - h->bo.until > BACKOFF_MAX) {
			HASH_DEL(co.hosts, h);
			free(h);
		}
	}
}

void
callout_init(struct ev_loop *loop, const struct config *cfg)
{
	co.loop = loop;
	co.cfg = cfg;
	resolve_init(loop, cfg);
	ev_timer_init(&co.sweep, on_host_sweep, HOST_SWEEP_EVERY,
	    HOST_SWEEP_EVERY);
	ev_timer_start(loop, &co.sweep);
}

void
callout_reconfigure(const struct config *cfg)
{
	co.cfg = cfg;
	resolve_reconfigure(cfg);
}

const struct callout_stats *
callout_stats(void)
{
	return &co.st;
}

/* --- hosts ------------------------------------------------------------ */

static struct host *
host_get(const struct netaddr *addr)
{
	struct netaddr ip;
	struct host *h;

	/* The whole struct is the key: clear the bytes the family leaves. */
	memset(&ip, 0, sizeof(ip));
	ip.family = addr->family;
	memcpy(ip.a, addr->a, addr->family == AF_INET ? 4 : 16);
	HASH_FIND(hh, co.hosts, &ip, sizeof(ip), h);
	if (h == NULL) {
		h = xcalloc(1, sizeof(*h));
		h->ip = ip;
		HASH_ADD(hh, co.hosts, ip, sizeof(h->ip), h);
	}
	return h;
}

/* Forget hosts with nothing open and no back-off to remember. */
static void
host_put(struct host *h)
{
	if (h->open == 0 && h->bo.level == 0) {
		HASH_DEL(co.hosts, h);
		free(h);
	}
}

void
callout_backoff_report(struct buf *out, double now)
{
	struct host *h, *tmp;
	char ip[NETADDR_STRLEN];
	unsigned n = 0;

	HASH_ITER(hh, co.hosts, h, tmp) {
		if (!backoff_active(&h->bo, now))
			continue;
		netaddr_format(&h->ip, ip);
		buf_printf(out, "%s%s", n++ ? "," : " backoff=", ip);
	}
	co.st.backed_off = n;
}

/* --- delivering results ----------------------------------------------- */

/* Detach rc from its job and hand its verdict to the owner. */
static void
rcpt_free(struct callout *rc)
{
	free(rc->best);
	free(rc);
}

/* Detach rc from its job and hand its verdict to the owner. */
static void
rcpt_finish(struct callout *rc, const struct verdict *v)
{
	struct job *j = rc->job;
	callout_fn *cb = rc->cb;
	void *arg = rc->arg;
	struct verdict copy = *v;

	TAILQ_REMOVE(&j->rcpts, rc, entry);
	rcpt_free(rc);
	cb(arg, &copy);
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

/* An address has run out of targets: its best failure is the answer. */
static void
rcpt_exhausted(struct callout *rc)
{
	struct verdict v;

	if (rc->best != NULL) {
		rcpt_finish(rc, rc->best);
		return;
	}
	verdict_set(&v, RES_DEFER, R_UNREACHABLE, SRC_CALLOUT);
	snprintf(v.text, sizeof(v.text), "no mail host could be connected");
	rcpt_finish(rc, &v);
}

/* --- sessions ----------------------------------------------------------- */

static void
step_timer(struct csess *s, double t)
{
	ev_timer_stop(co.loop, &s->step);
	ev_timer_set(&s->step, t, 0.);
	ev_timer_start(co.loop, &s->step);
}

static void
sess_close(struct csess *s)
{
	struct job *j = s->job;

	ev_io_stop(co.loop, &s->io);
	ev_timer_stop(co.loop, &s->step);
	if (s->fd >= 0)
		close(s->fd);
	buf_free(&s->in);
	buf_free(&s->out);
	TAILQ_REMOVE(&j->sess, s, entry);
	s->host->open--;
	co.st.sessions--;
	host_put(s->host);
	free(s);
}

/* The session's results are final: settle every address it carried. */
static void
sess_settle(struct csess *s)
{
	struct callout *done[SESS_MAX_RCPT];
	struct verdict dv[SESS_MAX_RCPT];
	size_t nd = 0;

	if (s->sm.backoff) {
		backoff_hit(&s->host->bo, ev_now(co.loop));
		co.st.backoffs++;
		log_info("backoff host=%s level=%u", s->mx, s->host->bo.level);
	} else
		backoff_success(&s->host->bo, ev_now(co.loop));
	for (size_t i = 0; i < s->nrc; i++) {
		struct callout *rc = s->rc[i];
		struct sess_rcpt *r = &s->sm.rcpt[i];

		rc->sess = NULL;
		if (r->decided) {
			co.st.last_success = ev_now(co.loop);
			done[nd] = rc;
			dv[nd++] = r->v;
		} else
			rcpt_move_on(rc, &r->v);
	}
	s->nrc = 0;
	for (size_t i = 0; i < nd; i++)
		rcpt_finish(done[i], &dv[i]);
}

/* Settle (once) and either linger for the QUIT reply or close. */
static void
sess_act(struct csess *s, enum sess_action act)
{
	struct job *j = s->job;

	if (act == SA_CONTINUE)
		return;
	if (s->nrc > 0)
		sess_settle(s);
	if (act == SA_QUIT) {           /* linger for the QUIT reply */
		step_timer(s, QUIT_WAIT);
		return;
	}
	sess_close(s);
	job_pump(j);
	job_done(j);
}

/* Write what we can and watch for the rest; -1 when the peer is gone. */
static int
sess_write(struct csess *s)
{
	while (buf_avail(&s->out) > 0) {
		ssize_t n = write(s->fd, buf_head(&s->out), buf_avail(&s->out));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			buf_reset(&s->out);
			return -1;
		}
		buf_consume(&s->out, (size_t)n);
	}
	ev_io_stop(co.loop, &s->io);
	ev_io_set(&s->io, s->fd, EV_READ | (buf_avail(&s->out) ? EV_WRITE : 0));
	ev_io_start(co.loop, &s->io);
	return 0;
}

/*
 * A failure that is not a reply: let the state machine settle it, then say
 * what happened in the text of every address it leaves undecided.
 */
static enum sess_action
sess_fail(struct csess *s, enum smtp_failure f, const char *why)
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
sess_lines(struct csess *s)
{
	enum sess_action act = SA_CONTINUE;

	while (act == SA_CONTINUE && s->sm.state < SS_DONE) {
		const char *p = buf_head(&s->in);
		size_t n = buf_avail(&s->in), len;
		const char *lf = n ? memchr(p, '\n', n) : NULL;

		if (lf == NULL) {
			if (n > LINE_MAX_REMOTE)
				act = sess_fail(s, FAIL_GARBLED, "reply line too long");
			break;
		}
		len = (size_t)(lf - p);
		buf_consume(&s->in, len + 1);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		act = sess_line(&s->sm, p, len, &s->out);
	}
	return act;
}

static void
sess_readable(struct csess *s)
{
	char chunk[2048];       /* buffers grow only by what arrives */
	ssize_t n = read(s->fd, chunk, sizeof(chunk));
	enum sess_action act;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		sess_act(s, sess_fail(s, FAIL_LOST, n < 0 ? strerror(errno) :
		    "connection closed"));
		return;
	}
	buf_add(&s->in, chunk, (size_t)n);
	act = sess_lines(s);
	if (act == SA_CONTINUE)
		step_timer(s, co.cfg->command_timeout);
	if (act != SA_CLOSE && sess_write(s) < 0)
		act = s->sm.state >= SS_QUIT ? SA_CLOSE :
		    sess_fail(s, FAIL_LOST, "connection lost while writing");
	sess_act(s, act);
}

static void
on_sess_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct csess *s = w->data;
	int err = 0;
	socklen_t sl = sizeof(err);

	(void)loop;
	if (!s->connected) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 ||
		    err != 0) {
			sess_act(s, sess_fail(s, FAIL_CONNECT, err ?
			    strerror(err) : "connect failed"));
			return;
		}
		s->connected = 1;
		ev_io_stop(co.loop, &s->io);
		ev_io_set(&s->io, s->fd, EV_READ);
		ev_io_start(co.loop, &s->io);
		step_timer(s, co.cfg->command_timeout);
		return;
	}
	if ((revents & EV_WRITE) && sess_write(s) < 0) {
		sess_act(s, s->sm.state >= SS_QUIT ? SA_CLOSE :
		    sess_fail(s, FAIL_LOST, "connection lost while writing"));
		return;
	}
	if (revents & EV_READ)
		sess_readable(s);
}

static void
on_sess_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct csess *s = w->data;

	(void)loop;
	(void)revents;
	if (s->sm.state >= SS_QUIT) {
		sess_act(s, SA_CLOSE);
		return;
	}
	if (s->connected)
		sess_act(s, sess_fail(s, FAIL_TIMEOUT, "no reply in time"));
	else
		sess_act(s, sess_fail(s, FAIL_CONNECT, s->connect_errno ?
		    strerror(s->connect_errno) : "connect timed out"));
}

/* Non-blocking connect; -1 with errno when it failed at once. */
static int
sess_connect(struct csess *s)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	s->fd = socket(s->tgt->ip.family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -1;
	if (co.cfg->has_bind_address &&
	    co.cfg->bind_address.family == s->tgt->ip.family) {
		sl = netaddr_sockaddr(&co.cfg->bind_address, 0, &ss);
		if (bind(s->fd, (struct sockaddr *)&ss, sl) < 0)
			return -1;
	}
	sl = netaddr_sockaddr(&s->tgt->ip, s->tgt->port, &ss);
	if (connect(s->fd, (struct sockaddr *)&ss, sl) < 0 &&
	    errno != EINPROGRESS)
		return -1;
	return 0;
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
sess_start(struct job *j, size_t tidx, struct callout **rcs, size_t n)
{
	const struct target *tgt = &j->t[tidx];
	char ip[NETADDR_STRLEN], local[13], mx[SAV_MX_MAX], probe[ADDR_BUF];
	size_t lmx, lprobe = 0, lhelo = strlen(co.cfg->helo_name) + 1;
	struct csess *s;
	char *p;

	netaddr_format(&tgt->ip, ip);
	lmx = (size_t)snprintf(mx, sizeof(mx), "%s[%s]", tgt->host, ip) + 1;
	if (co.cfg->catchall_probe) {
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
	s->fd = -1;
	buf_init(&s->in);
	buf_init(&s->out);
	sess_init(&s->sm, s->helo, j->mail_from, s->probe, s->mx,
	    s->rcpt_store, n);
	for (size_t i = 0; i < n; i++) {
		s->rc[s->nrc++] = rcs[i];
		rcs[i]->sess = s;
		sess_add_rcpt(&s->sm, rcs[i]->addr);
	}
	TAILQ_INSERT_TAIL(&j->sess, s, entry);
	co.st.sessions++;
	co.st.sessions_total++;
	ev_init(&s->step, on_sess_timer);
	s->step.data = s;
	if (sess_connect(s) < 0) {
		/* Refused at once: settle from a timer, never from here. */
		s->connect_errno = errno;
		step_timer(s, 0.);
		return;
	}
	ev_io_init(&s->io, on_sess_io, s->fd, EV_WRITE);
	s->io.data = s;
	ev_io_start(co.loop, &s->io);
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
		size_t n = 0;

		TAILQ_FOREACH(rc, &j->rcpts, entry) {
			if (rc->sess != NULL || rc->tidx != t)
				continue;
			if (backoff_active(&h->bo, now)) {
				struct verdict v;

				verdict_set(&v, RES_DEFER, R_RATELIMITED,
				    SRC_POLICY);
				rcpt_move_on(rc, &v);
				continue;
			}
			batch[n++] = rc;
			if (n == co.cfg->max_rcpt_per_session) {
				if (h->open >= host_limit(h))
					break;
				sess_start(j, t, batch, n);
				n = 0;
			}
		}
		if (n > 0 && h->open < host_limit(h))
			sess_start(j, t, batch, n);
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
			rcpt_finish(rc, &res->v);
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
			sess_fail(s, FAIL_TIMEOUT, "callout_timeout reached");
			sess_settle(s);
		}
		sess_close(s);
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
		rcpt_finish(rc, rc->best);
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
    const struct route *route, callout_fn *cb, void *arg)
{
	struct job *j = job_get(domain, mail_from, route);
	struct callout *rc = xcalloc(1, sizeof(*rc) + strlen(addr) + 1);

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
	struct host *h, *htmp;

	ev_timer_stop(co.loop, &co.sweep);
	while ((j = TAILQ_FIRST(&co.all)) != NULL) {
		while ((s = TAILQ_FIRST(&j->sess)) != NULL)
			sess_close(s);
		while ((rc = TAILQ_FIRST(&j->rcpts)) != NULL) {
			TAILQ_REMOVE(&j->rcpts, rc, entry);
			rcpt_free(rc);
		}
		job_free(j);
	}
	HASH_ITER(hh, co.hosts, h, htmp) {
		HASH_DEL(co.hosts, h);
		free(h);
	}
}
