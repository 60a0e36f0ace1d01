/*
 * smtpconn.c - non-blocking TCP for callouts (smtpconn.h).
 * Must not: block, interpret a byte, or call its owner back from inside
 * a call the owner made (sc_start's immediate failure goes through a
 * zero timer).  Every read is bounded per event.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "smtpconn.h"

#define READ_CHUNK      2048    /* buffers grow only by what arrives */
#define READ_BURST      65536   /* bytes read per event at most */

/* Read what is there now (bounded); 1 got bytes, 0 nothing yet, -1 the
 * connection is gone (errno set, 0 for EOF). */
static int
sc_read(struct smtpconn *c)
{
	char chunk[READ_CHUNK];
	size_t total = 0;
	ssize_t n;

	do {
		n = read(c->fd, chunk, sizeof(chunk));
		if (n > 0) {
			buf_add(&c->in, chunk, (size_t)n);
			total += (size_t)n;
		}
	} while (n == (ssize_t)sizeof(chunk) && total < READ_BURST);
	if (total > 0)
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == 0)
		errno = 0;
	return -1;
}

static void
watch(struct smtpconn *c, int events)
{
	ev_io_stop(c->loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(c->loop, &c->io);
}

int
sc_flush(struct smtpconn *c)
{
	while (buf_avail(&c->out) > 0) {
		ssize_t n = write(c->fd, buf_head(&c->out), buf_avail(&c->out));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			buf_reset(&c->out);
			return -1;
		}
		buf_consume(&c->out, (size_t)n);
	}
	watch(c, EV_READ | (buf_avail(&c->out) ? EV_WRITE : 0));
	return 0;
}

/* The connect finished, one way or the other. */
static void
on_connect_done(struct smtpconn *c)
{
	int err = 0;
	socklen_t sl = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
		err = errno;
	if (err != 0) {
		c->cb(c, SC_EV_CONNECT_FAILED, err);
		return;
	}
	c->phase = SC_OPEN;
	watch(c, EV_READ);
	c->cb(c, SC_EV_CONNECTED, 0);
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct smtpconn *c = w->data;
	int r;

	(void)loop;
	if (c->phase == SC_CONNECTING) {
		on_connect_done(c);
		return;
	}
	if ((revents & EV_WRITE) && sc_flush(c) < 0) {
		c->cb(c, SC_EV_LOST, EPIPE);
		return;
	}
	if (!(revents & EV_READ) || (r = sc_read(c)) == 0)
		return;
	if (r < 0)
		c->cb(c, SC_EV_LOST, errno);
	else
		c->cb(c, SC_EV_INPUT, 0);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct smtpconn *c = w->data;

	(void)loop;
	(void)revents;
	if (c->early_errno != 0) {
		c->cb(c, SC_EV_CONNECT_FAILED, c->early_errno);
		return;
	}
	c->cb(c, SC_EV_TIMER, 0);
}

void
sc_timer(struct smtpconn *c, double t)
{
	ev_timer_stop(c->loop, &c->step);
	ev_timer_set(&c->step, t, 0.);
	ev_timer_start(c->loop, &c->step);
}

/* Non-blocking connect; -1 with errno when it failed at once. */
static int
sc_connect(struct smtpconn *c, const struct netaddr *ip, int port,
    const struct netaddr *bindto)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	c->fd = socket(ip->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (c->fd < 0)
		return -1;
	if (bindto != NULL && bindto->family == ip->family) {
		sl = netaddr_sockaddr(bindto, 0, &ss);
		if (bind(c->fd, (struct sockaddr *)&ss, sl) < 0)
			return -1;
	}
	sl = netaddr_sockaddr(ip, port, &ss);
	if (connect(c->fd, (struct sockaddr *)&ss, sl) < 0 &&
	    errno != EINPROGRESS)
		return -1;
	return 0;
}

void
sc_start(struct smtpconn *c, struct ev_loop *loop, const struct netaddr *ip,
    int port, const struct netaddr *bindto, sc_fn *cb, void *owner)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->cb = cb;
	c->owner = owner;
	c->fd = -1;
	buf_init(&c->in);
	buf_init(&c->out);
	ev_init(&c->step, on_timer);
	c->step.data = c;
	ev_init(&c->io, on_io);
	if (sc_connect(c, ip, port, bindto) < 0) {
		int err = errno;

		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		c->phase = SC_CLOSED;
		c->early_errno = err != 0 ? err : EIO;
		sc_timer(c, 0.);
		return;
	}
	c->phase = SC_CONNECTING;
	c->io.data = c;
	ev_io_set(&c->io, c->fd, EV_WRITE);
	ev_io_start(loop, &c->io);
}

void
sc_close(struct smtpconn *c)
{
	if (c->loop == NULL)
		return;
	ev_io_stop(c->loop, &c->io);
	ev_timer_stop(c->loop, &c->step);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->phase = SC_CLOSED;
	c->early_errno = 0;
	buf_free(&c->in);
	buf_free(&c->out);
}
