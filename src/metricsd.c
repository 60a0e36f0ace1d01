/*
 * metricsd.c - GET /metrics over HTTP/1.0 or 1.1 for Prometheus
 * (metrics_listen, savd.conf(5)).
 *
 * A deliberately tiny server: the request head is read into a fixed
 * buffer (HEAD_MAX bytes) under one deadline (CONN_TIMEOUT for the whole
 * connection), the request line alone decides the answer (200 for GET
 * /metrics, 404 for another path, 405 for another method, 400 for garbage,
 * 431 for a head too large), the answer is written with Connection: close
 * and the connection is half-closed, then closed when the client closes or
 * the deadline passes.  Sockets are non-blocking and at most
 * MAX_CONNS are open: nothing here can stall the loop that verifies mail.
 * It must not read a request body, keep a connection alive, or serve
 * anything but the render function's text.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metricsd.h"
#include "netaddr.h"
#include "xmalloc.h"

#define HEAD_MAX        4096    /* request line and headers */
#define CONN_TIMEOUT    5.0     /* seconds for a whole connection */
#define MAX_CONNS       16
#define ACCEPT_PAUSE    1.0     /* after EMFILE: accept again later */

struct conn {
	int fd;
	size_t inlen;
	char in[HEAD_MAX + 1];
	struct buf out;
	ev_io io;
	ev_timer timer;
};

static struct {
	struct ev_loop *loop;
	metricsd_render_fn *render;
	int fd;
	unsigned nconns;
	ev_io accept_io;
	ev_timer pause;
} md = { .fd = -1 };

static void
conn_free(struct conn *c)
{
	ev_io_stop(md.loop, &c->io);
	ev_timer_stop(md.loop, &c->timer);
	close(c->fd);
	buf_free(&c->out);
	free(c);
	md.nconns--;
}

static void
respond(struct conn *c, int code, const char *status, int http11,
    const char *extra, struct buf *body)
{
	buf_printf(&c->out, "HTTP/1.%d %d %s\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n%s\r\n", http11, code, status,
	    body ? buf_avail(body) : strlen(status) + 1, extra);
	if (body != NULL)
		buf_add(&c->out, buf_head(body), buf_avail(body));
	else
		buf_printf(&c->out, "%s\n", status);
}

/* The answer to the request line in c->in[0..len). */
static void
answer(struct conn *c, size_t len)
{
	static const char plain[] = "Content-Type: text/plain; charset=utf-8\r\n";
	char *line = c->in, *sp1, *sp2, *q;
	int http11;
	struct buf body;

	line[len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL ||
	    sp1[1] != '/' || (strcmp(sp2 + 1, "HTTP/1.0") != 0 &&
	    strcmp(sp2 + 1, "HTTP/1.1") != 0)) {
		respond(c, 400, "Bad Request", 0, plain, NULL);
		return;
	}
	http11 = sp2[8] == '1';
	*sp1 = *sp2 = '\0';
	if ((q = strchr(sp1 + 1, '?')) != NULL)
		*q = '\0';              /* Prometheus may add parameters */
	if (strcmp(line, "GET") != 0)
		respond(c, 405, "Method Not Allowed", http11,
		    "Allow: GET\r\nContent-Type: text/plain; charset=utf-8\r\n",
		    NULL);
	else if (strcmp(sp1 + 1, "/metrics") != 0)
		respond(c, 404, "Not Found", http11, plain, NULL);
	else {
		buf_init(&body);
		md.render(&body);
		respond(c, 200, "OK", http11, "Content-Type: text/plain; "
		    "version=0.0.4; charset=utf-8\r\n", &body);
		buf_free(&body);
	}
}

static void
on_drain(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	char sink[1024];
	ssize_t n;

	(void)loop;
	(void)revents;
	n = read(c->fd, sink, sizeof(sink));
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		conn_free(c);
}

/* Write what we can, then wait for the client's close. */
static void
on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	while (buf_avail(&c->out) > 0) {
		n = write(c->fd, buf_head(&c->out), buf_avail(&c->out));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		buf_consume(&c->out, (size_t)n);
	}
	if (buf_avail(&c->out) > 0) {
		conn_free(c);
		return;
	}
	/* Closing with unread bytes would reset the connection and could
	 * lose the answer: half-close and discard until the client closes
	 * (the connection's timer still bounds this). */
	shutdown(c->fd, SHUT_WR);
	ev_io_stop(md.loop, &c->io);
	ev_io_init(&c->io, on_drain, c->fd, EV_READ);
	c->io.data = c;
	ev_io_start(md.loop, &c->io);
}

/* Start answering: stop reading, wait for the socket to be writable. */
static void
to_writing(struct conn *c)
{
	ev_io_stop(md.loop, &c->io);
	ev_io_init(&c->io, on_write, c->fd, EV_WRITE);
	c->io.data = c;
	ev_io_start(md.loop, &c->io);
}

/* Read the head; only the request line is looked at. */
static void
on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	ssize_t n;
	char *lf;

	(void)loop;
	(void)revents;
	n = read(c->fd, c->in + c->inlen, HEAD_MAX - c->inlen);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		conn_free(c);   /* closed before a complete head: no answer */
		return;
	}
	c->inlen += (size_t)n;
	c->in[c->inlen] = '\0';
	if (strstr(c->in, "\r\n\r\n") == NULL && strstr(c->in, "\n\n") == NULL) {
		if (c->inlen < HEAD_MAX)
			return;
		respond(c, 431, "Request Header Fields Too Large", 0,
		    "Content-Type: text/plain; charset=utf-8\r\n", NULL);
	} else {
		lf = strchr(c->in, '\n');
		answer(c, (size_t)(lf - c->in));
	}
	to_writing(c);
}

static void
on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	conn_free(w->data);     /* slow client: no answer, no wait */
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c;
	int fd;

	(void)w;
	(void)revents;
	while ((fd = accept4(md.fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		if (md.nconns >= MAX_CONNS) {
			close(fd);      /* a scraper retries; mail must not wait */
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		buf_init(&c->out);
		md.nconns++;
		ev_io_init(&c->io, on_read, fd, EV_READ);
		c->io.data = c;
		ev_timer_init(&c->timer, on_timeout, CONN_TIMEOUT, 0.);
		c->timer.data = c;
		ev_io_start(loop, &c->io);
		ev_timer_start(loop, &c->timer);
	}
	if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
		return;
	/* Out of descriptors: a level-triggered watcher would spin. */
	log_warn("metrics_listen: accept: %s", strerror(errno));
	ev_io_stop(loop, &md.accept_io);
	ev_timer_start(loop, &md.pause);
}

static void
on_pause_end(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_io_start(loop, &md.accept_io);
}

void
metricsd_start(struct ev_loop *loop, const struct config *cfg,
    metricsd_render_fn *render)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char name[NETADDR_STRLEN + 8];
	int one = 1;

	if (cfg->metrics_listen.port == 0 || md.fd >= 0)
		return;
	md.loop = loop;
	md.render = render;
	sl = netaddr_sockaddr(&cfg->metrics_listen.ip, cfg->metrics_listen.port,
	    &ss);
	hostport_format(&cfg->metrics_listen, name);
	md.fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (md.fd < 0)
		fatal("metrics_listen %s: socket: %s", name, strerror(errno));
	setsockopt(md.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(md.fd, (struct sockaddr *)&ss, sl) < 0 ||
	    listen(md.fd, 16) < 0)
		fatal("metrics_listen %s: %s", name, strerror(errno));
	ev_io_init(&md.accept_io, on_accept, md.fd, EV_READ);
	ev_timer_init(&md.pause, on_pause_end, ACCEPT_PAUSE, 0.);
	ev_io_start(loop, &md.accept_io);
	log_info("metrics_listen %s: serving GET /metrics", name);
}
