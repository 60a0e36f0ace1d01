/*
 * server.c - listeners and clients (doc/protocol.md 2).
 *
 * Frames request lines, enforces every per-connection limit, keeps answers
 * in request order and closes a connection as soon as a half-closed client
 * has all its answers.  It knows nothing of verification: requests other
 * than PING and QUIT go to the handler.  A client object is destroyed only
 * from client_kick(), never from inside a handler call.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"
#include "log.h"
#include "xmalloc.h"

#define READ_CHUNK      4096
#define ACCEPT_BURST    64
#define ACCEPT_PAUSE    0.1     /* after EMFILE: retry accept later */
#define DRAIN_TIME      1.0     /* read and discard after our last answer */
/*
 * What one client may make us hold: input is read only while the buffer
 * holds at most one incomplete line (so it stays under max_request_length
 * + 2 + READ_CHUNK), and only while fewer than OUT_MAX answer bytes wait
 * for a client that does not read.  With max_pipeline slots that bounds
 * a client's memory; nothing is read between QUIT or toolong and the
 * drain.
 */
#define OUT_MAX         (64 * 1024)

struct client;

struct slot {
	TAILQ_ENTRY(slot) entry;
	struct client *cl;      /* NULL once the client has gone */
	int refs;
	int answered;
	char *line;             /* the answer, LF-terminated */
	size_t len;
};

enum client_state {
	CL_OPEN,                /* reading requests */
	CL_CLOSING,             /* no more requests; close once answered */
	CL_DRAIN,               /* answers written, write side shut: discard */
	CL_DEAD,                /* destroy at the next kick */
};

struct client {
	TAILQ_ENTRY(client) entry;
	enum client_state state;
	int fd;
	int busy;               /* inside client_kick */
	int eof;                /* the client has half-closed */
	int is_unix;            /* peer credentials can be asked */
	unsigned nslots;
	ev_io rio, wio;
	ev_timer timer;         /* idle timeout, drain time, deferred close */
	struct buf in, out;
	TAILQ_HEAD(, slot) slots;
};

struct listener {
	int fd;
	int is_unix;
	ev_io io;
};

static struct {
	struct ev_loop *loop;
	const struct config *cfg;
	server_handler_fn *handler;
	struct listener lst[2];
	int nlst;
	char *unix_path;
	ev_timer accept_pause;
	int stopping;
	ev_tstamp emfile_logged;        /* at most one EMFILE line per 10 s */
	struct server_stats st;
	TAILQ_HEAD(, client) clients;
} srv = { .clients = TAILQ_HEAD_INITIALIZER(srv.clients) };

static void client_kick(struct client *cl);

/* --- listening sockets --------------------------------------------- */

static void
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		fatal("fcntl: %s", strerror(errno));
}

/* Refuse to steal a socket that a running daemon still serves. */
static void
remove_stale_socket(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISSOCK(st.st_mode))
		fatal("socket %s: exists and is not a socket", path);
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket: %s", strerror(errno));
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0)
		fatal("socket %s: another savd is listening on it", path);
	if (unlink(path) < 0)
		fatal("socket %s: cannot remove stale socket: %s", path,
		    strerror(errno));
	log_info("removed stale socket %s", path);
}

static void
bind_unix(const struct config *cfg)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = cfg->socket;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		fatal("socket %s: path too long", path);
	remove_stale_socket(path);
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		fatal("socket %s: bind: %s", path, strerror(errno));
	if (chmod(path, cfg->socket_mode) < 0)
		fatal("socket %s: chmod: %s", path, strerror(errno));
	if (cfg->socket_group[0] != '\0') {
		struct group *gr = getgrnam(cfg->socket_group);

		if (gr == NULL)
			fatal("socket_group %s: no such group", cfg->socket_group);
		if (chown(path, (uid_t)-1, gr->gr_gid) < 0)
			fatal("socket %s: chown: %s", path, strerror(errno));
	}
	srv.unix_path = xstrdup(path);
	srv.lst[srv.nlst++] = (struct listener){ .fd = fd, .is_unix = 1 };
}

static void
bind_tcp(const struct hostport *hp)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char name[NETADDR_STRLEN + 8];
	int fd, one = 1;

	sl = netaddr_sockaddr(&hp->ip, hp->port, &ss);
	hostport_format(hp, name);
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("listen %s: socket: %s", name, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		fatal("listen %s: bind: %s", name, strerror(errno));
	srv.lst[srv.nlst++] = (struct listener){ .fd = fd, .is_unix = 0 };
}

void
server_bind(const struct config *cfg)
{
	bind_unix(cfg);
	if (cfg->has_listen)
		bind_tcp(&cfg->listen);
	for (int i = 0; i < srv.nlst; i++) {
		set_nonblock(srv.lst[i].fd);
		if (listen(srv.lst[i].fd, SOMAXCONN) < 0)
			fatal("listen: %s", strerror(errno));
	}
}

void
server_unlink(void)
{
	if (srv.unix_path != NULL)
		unlink(srv.unix_path);
}

const struct server_stats *
server_stats(void)
{
	return &srv.st;
}

/* --- slots ----------------------------------------------------------- */

void
slot_hold(struct slot *s)
{
	s->refs++;
}

void
slot_release(struct slot *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	free(s->line);
	free(s);
}

/* Asked only by FLUSH: no getsockopt on the path of every query. */
int
slot_peer_uid(const struct slot *s, uid_t *uid)
{
	struct ucred uc;
	socklen_t sl = sizeof(uc);

	if (s->cl == NULL || !s->cl->is_unix ||
	    getsockopt(s->cl->fd, SOL_SOCKET, SO_PEERCRED, &uc, &sl) < 0)
		return -1;
	*uid = uc.uid;
	return 0;
}

void
slot_answer(struct slot *s, const char *line, size_t len)
{
	if (s->answered)
		return;
	s->answered = 1;
	s->line = xstrndup(line, len);
	s->len = len;
	srv.st.pending--;
	if (s->cl != NULL)
		client_kick(s->cl);
}

void
slot_answer_buf(struct slot *s, struct buf *b)
{
	slot_answer(s, buf_head(b), buf_avail(b));
}

void
slot_answer_verdict(struct slot *s, const struct verdict *v, long age)
{
	struct buf b;

	buf_init(&b);
	proto_format_verdict(&b, v, age);
	slot_answer_buf(s, &b);
	buf_free(&b);
}

static void
answer_simple(struct slot *s, enum sav_result r, enum sav_reason why)
{
	struct verdict v;

	verdict_set(&v, r, why, why == R_SYNTAX ? SRC_POLICY : SRC_NONE);
	slot_answer_verdict(s, &v, -1);
}

/* --- clients ----------------------------------------------------------- */

static void
client_destroy(struct client *cl)
{
	struct slot *s;

	while ((s = TAILQ_FIRST(&cl->slots)) != NULL) {
		TAILQ_REMOVE(&cl->slots, s, entry);
		s->cl = NULL;
		slot_release(s);
	}
	ev_io_stop(srv.loop, &cl->rio);
	ev_io_stop(srv.loop, &cl->wio);
	ev_timer_stop(srv.loop, &cl->timer);
	close(cl->fd);
	buf_free(&cl->in);
	buf_free(&cl->out);
	TAILQ_REMOVE(&srv.clients, cl, entry);
	srv.st.clients--;
	free(cl);
}

/* A place in the client's answer queue for its next request. */
static struct slot *
slot_new(struct client *cl)
{
	struct slot *s = xcalloc(1, sizeof(*s));

	s->cl = cl;
	s->refs = 1;
	TAILQ_INSERT_TAIL(&cl->slots, s, entry);
	cl->nslots++;
	srv.st.requests++;
	srv.st.pending++;
	return s;
}

/* One complete request line (CR already stripped). */
static void
dispatch(struct client *cl, const char *line, size_t len)
{
	struct slot *s = slot_new(cl);
	struct request req;
	enum proto_status ps;

	ps = proto_parse(line, len, &req);
	if (ps == PROTO_BADREQUEST)
		answer_simple(s, RES_ERROR, R_BADREQUEST);
	else if (ps == PROTO_SYNTAX)
		answer_simple(s, RES_FAIL, R_SYNTAX);
	else if (req.verb == VERB_PING)
		answer_simple(s, RES_OK, R_PONG);
	else if (req.verb == VERB_QUIT) {
		answer_simple(s, RES_OK, R_BYE);
		cl->state = CL_CLOSING;
	} else
		srv.handler(s, &req);
}

static void
too_long(struct client *cl)
{
	answer_simple(slot_new(cl), RES_ERROR, R_TOOLONG);
	cl->state = CL_CLOSING;
}

/* Room for one more request: the pipeline and the unread answers. */
static int
has_room(const struct client *cl)
{
	return cl->nslots < srv.cfg->max_pipeline &&
	    buf_avail(&cl->out) < OUT_MAX;
}

/* Frame and dispatch buffered lines while there is room. */
static void
process_input(struct client *cl)
{
	size_t max = srv.cfg->max_request_length;

	while (cl->state == CL_OPEN && has_room(cl)) {
		const char *p = buf_head(&cl->in);
		size_t n = buf_avail(&cl->in), len;
		const char *lf;

		if (n == 0)
			break;
		lf = memchr(p, '\n', n);

		if (lf == NULL) {
			/* No LF yet: too long already, or wait; at EOF the
			 * rest is the last request. */
			len = n;
			if (len > 0 && p[len - 1] == '\r')
				len--;
			if (len > max)
				too_long(cl);
			else if (cl->eof && n > 0) {
				buf_consume(&cl->in, n);
				dispatch(cl, p, len);
			}
			break;
		}
		len = (size_t)(lf - p);
		buf_consume(&cl->in, len + 1);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > max)
			too_long(cl);
		else
			dispatch(cl, p, len);
	}
	if (cl->state != CL_OPEN)
		buf_reset(&cl->in);     /* requests after QUIT are ignored */
}

/* Move answered head slots to the output buffer and write what we can. */
static void
flush_output(struct client *cl)
{
	struct slot *s;
	ssize_t n;

	while ((s = TAILQ_FIRST(&cl->slots)) != NULL && s->answered) {
		buf_add(&cl->out, s->line, s->len);
		TAILQ_REMOVE(&cl->slots, s, entry);
		cl->nslots--;
		s->cl = NULL;
		slot_release(s);
	}
	while (buf_avail(&cl->out) > 0) {
		n = write(cl->fd, buf_head(&cl->out), buf_avail(&cl->out));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			cl->state = CL_DEAD;
			return;
		}
		buf_consume(&cl->out, (size_t)n);
	}
	if (buf_avail(&cl->out) > 0)
		ev_io_start(srv.loop, &cl->wio);
	else
		ev_io_stop(srv.loop, &cl->wio);
}

/* Decide what the client waits for next: input, output, or its end. */
static void
client_schedule(struct client *cl)
{
	int idle = cl->nslots == 0 && buf_avail(&cl->out) == 0;

	if (cl->state == CL_OPEN && cl->eof && idle)
		cl->state = CL_CLOSING;         /* half-closed, all answered */
	if (cl->state == CL_CLOSING && idle) {
		if (cl->eof) {          /* it has said all: just close */
			cl->state = CL_DEAD;
			return;
		}
		shutdown(cl->fd, SHUT_WR);
		cl->state = CL_DRAIN;
		buf_reset(&cl->in);
		ev_timer_stop(srv.loop, &cl->timer);
		ev_timer_set(&cl->timer, DRAIN_TIME, 0.);
		ev_timer_start(srv.loop, &cl->timer);
		ev_io_start(srv.loop, &cl->rio);
		return;
	}
	if (cl->state != CL_OPEN) {
		ev_io_stop(srv.loop, &cl->rio); /* after QUIT, toolong */
		return;
	}
	if (!cl->eof && has_room(cl) &&
	    buf_avail(&cl->in) <= srv.cfg->max_request_length + 2)
		ev_io_start(srv.loop, &cl->rio);
	else
		ev_io_stop(srv.loop, &cl->rio);
	/* The idle timer runs only while nothing is pending. */
	if (idle)
		ev_timer_again(srv.loop, &cl->timer);
	else
		ev_timer_stop(srv.loop, &cl->timer);
}

/* The one place that advances a client and the only place it is freed. */
static void
client_kick(struct client *cl)
{
	if (cl->busy)
		return;
	cl->busy = 1;
	for (;;) {
		unsigned before = cl->nslots;
		size_t inb = buf_avail(&cl->in), outb = buf_avail(&cl->out);

		if (cl->state == CL_OPEN)
			process_input(cl);
		if (cl->state != CL_DEAD && cl->state != CL_DRAIN)
			flush_output(cl);
		/* Written output can make room for buffered requests. */
		if (cl->state == CL_DEAD || (cl->nslots == before &&
		    buf_avail(&cl->in) == inb && buf_avail(&cl->out) == outb))
			break;
	}
	if (cl->state != CL_DEAD)
		client_schedule(cl);
	cl->busy = 0;
	if (cl->state == CL_DEAD)
		client_destroy(cl);
}

static void
on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *cl = w->data;
	char chunk[READ_CHUNK]; /* buffers grow only by what arrives */
	ssize_t n;

	(void)loop;
	(void)revents;
	n = read(cl->fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (cl->state == CL_DRAIN) {
		buf_reset(&cl->in);
		if (n <= 0)
			cl->state = CL_DEAD;
		client_kick(cl);
		return;
	}
	if (n < 0) {
		cl->state = CL_DEAD;
	} else if (n == 0) {
		/* Half-close: the buffered rest is the last request. */
		ev_io_stop(srv.loop, &cl->rio);
		cl->eof = 1;
	} else {
		buf_add(&cl->in, chunk, (size_t)n);
	}
	client_kick(cl);
}

static void
on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	client_kick(w->data);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *cl = w->data;

	(void)loop;
	(void)revents;
	cl->state = CL_DEAD;
	client_kick(cl);
}

/* At max_clients: close the longest-connected client with nothing
 * pending.  Returns 0 if one was closed. */
static int
evict_idle(void)
{
	struct client *cl;

	TAILQ_FOREACH(cl, &srv.clients, entry) {
		if (cl->nslots == 0 && buf_avail(&cl->out) == 0 &&
		    !cl->busy) {
			srv.st.evicted++;
			cl->state = CL_DEAD;
			client_kick(cl);
			return 0;
		}
	}
	return -1;
}

static void
client_new(int fd, int is_unix)
{
	struct client *cl = xcalloc(1, sizeof(*cl));

	cl->fd = fd;
	cl->state = CL_OPEN;
	TAILQ_INIT(&cl->slots);
	buf_init(&cl->in);
	buf_init(&cl->out);
	cl->is_unix = is_unix;
	ev_io_init(&cl->rio, on_read, fd, EV_READ);
	ev_io_init(&cl->wio, on_write, fd, EV_WRITE);
	ev_init(&cl->timer, on_timer);
	cl->timer.repeat = srv.cfg->client_idle_timeout;
	cl->rio.data = cl->wio.data = cl->timer.data = cl;
	TAILQ_INSERT_TAIL(&srv.clients, cl, entry);
	srv.st.clients++;
	srv.st.accepted++;
	client_kick(cl);
}

static void
accept_pause(void)
{
	for (int i = 0; i < srv.nlst; i++)
		ev_io_stop(srv.loop, &srv.lst[i].io);
	ev_timer_set(&srv.accept_pause, ACCEPT_PAUSE, 0.);
	ev_timer_start(srv.loop, &srv.accept_pause);
}

static void
on_accept_resume(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (srv.stopping)
		return;
	for (int i = 0; i < srv.nlst; i++)
		ev_io_start(srv.loop, &srv.lst[i].io);
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener *l = w->data;

	(void)loop;
	(void)revents;
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd;

		/* At the limit, make room only for a connection known to be
		 * waiting: the first of a burst. */
		if (srv.st.clients >= srv.cfg->max_clients) {
			if (i > 0)
				return;
			if (evict_idle() < 0) {
				accept_pause();         /* every client is busy */
				return;
			}
		}
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			client_new(fd, l->is_unix);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			if (ev_now(srv.loop) - srv.emfile_logged >= 10.) {
				log_warn("accept: %s; closing idle clients or "
				    "pausing", strerror(errno));
				srv.emfile_logged = ev_now(srv.loop);
			}
			if (evict_idle() < 0)
				accept_pause();
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept: %s", strerror(errno));
		return;
	}
}

void
server_start(struct ev_loop *loop, const struct config *cfg,
    server_handler_fn *handler)
{
	srv.loop = loop;
	srv.cfg = cfg;
	srv.handler = handler;
	ev_init(&srv.accept_pause, on_accept_resume);
	for (int i = 0; i < srv.nlst; i++) {
		ev_io_init(&srv.lst[i].io, on_accept, srv.lst[i].fd, EV_READ);
		srv.lst[i].io.data = &srv.lst[i];
		ev_io_start(loop, &srv.lst[i].io);
	}
}

void
server_reconfigure(const struct config *cfg)
{
	struct client *cl;

	srv.cfg = cfg;
	TAILQ_FOREACH(cl, &srv.clients, entry)
		cl->timer.repeat = cfg->client_idle_timeout;
}

void
server_shutdown(void)
{
	struct client *cl, *next;
	struct slot *s;

	srv.stopping = 1;
	ev_timer_stop(srv.loop, &srv.accept_pause);
	for (int i = 0; i < srv.nlst; i++) {
		ev_io_stop(srv.loop, &srv.lst[i].io);
		close(srv.lst[i].fd);
	}
	srv.nlst = 0;
	server_unlink();
	for (cl = TAILQ_FIRST(&srv.clients); cl != NULL; cl = next) {
		next = TAILQ_NEXT(cl, entry);
		cl->busy++;
		if (cl->state == CL_OPEN)
			cl->state = CL_CLOSING;
		TAILQ_FOREACH(s, &cl->slots, entry)
			if (!s->answered)
				answer_simple(s, RES_DEFER, R_INPROGRESS);
		cl->busy--;
		client_kick(cl);
	}
}
