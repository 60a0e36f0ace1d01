/*
 * smtpconn.c - non-blocking TCP and TLS for callouts (smtpconn.h).
 * Must not: block, interpret a byte, or call its owner back from inside
 * a call the owner made (sc_start's immediate failure goes through a
 * zero timer, sc_starttls's outcome through the socket's events).  Every
 * read is bounded per event.  TLS is OpenSSL driven by
 * SSL_ERROR_WANT_READ/WANT_WRITE on the loop, one SSL_CTX per process,
 * opportunistic: a certificate that does not verify is recorded, not
 * refused.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "smtpconn.h"

#define READ_CHUNK      2048    /* buffers grow only by what arrives */
#define READ_BURST      65536   /* bytes read per event at most */

static SSL_CTX *tls_ctx;        /* the process's, made on first use */

/*
 * The system's CAs, so that tls_verified means something.  Not
 * SSL_CTX_set_default_verify_paths(): in OpenSSL 3.0 it also adds a store
 * lookup that reads the whole certificate directory on every verification
 * (measured: 1 ms of the loop per handshake).  The bundle file is parsed
 * once; the hashed directory only where there is no bundle.  The
 * SSL_CERT_FILE/SSL_CERT_DIR variables are honoured as OpenSSL does.
 */
static void
tls_load_cas(SSL_CTX *ctx)
{
	const char *file = getenv(X509_get_default_cert_file_env());
	const char *dir = getenv(X509_get_default_cert_dir_env());

	if (SSL_CTX_load_verify_locations(ctx, file != NULL ? file :
	    X509_get_default_cert_file(), NULL) != 1 &&
	    SSL_CTX_load_verify_locations(ctx, NULL, dir != NULL ? dir :
	    X509_get_default_cert_dir()) != 1)
		ERR_clear_error();      /* no CAs: nothing will verify */
}

/* The one SSL_CTX: no verification required, system CAs loaded so that
 * the result says something, buffers released while idle. */
static SSL_CTX *
tls_context(void)
{
	if (tls_ctx != NULL)
		return tls_ctx;
	tls_ctx = SSL_CTX_new(TLS_client_method());
	if (tls_ctx == NULL)
		return NULL;
	SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	tls_load_cas(tls_ctx);
	SSL_CTX_set_mode(tls_ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
	return tls_ctx;
}

int
sc_tls_init(void)
{
	return tls_context() != NULL ? 0 : -1;
}

void
sc_tls_fini(void)
{
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
}

/* Say in c->tls_error what went wrong (OpenSSL's queue is emptied). */
static void
tls_note_error(struct smtpconn *c, const char *what, int sslerr)
{
	unsigned long e = ERR_get_error();
	char es[120];

	if (e != 0)
		ERR_error_string_n(e, es, sizeof(es));
	else if (sslerr == SSL_ERROR_SYSCALL)
		snprintf(es, sizeof(es), "%s", errno != 0 ? strerror(errno) :
		    "connection closed");
	else
		snprintf(es, sizeof(es), "error %d", sslerr);
	ERR_clear_error();
	snprintf(c->tls_error, sizeof(c->tls_error), "%s: %s", what, es);
}

/* SSL_read what is there (bounded); as sc_read, and -2 for a TLS error
 * (tls_error set).  A clean close_notify or EOF is -1 with errno 0. */
static int
tls_read(struct smtpconn *c)
{
	char chunk[READ_CHUNK];
	size_t total = 0;
	int n, e;

	for (;;) {
		n = SSL_read(c->ssl, chunk, sizeof(chunk));
		if (n <= 0)
			break;
		buf_add(&c->in, chunk, (size_t)n);
		total += (size_t)n;
		if (total >= READ_BURST) {
			/* decrypted bytes wait inside OpenSSL: no fd event
			 * will say so */
			if (SSL_pending(c->ssl) > 0)
				ev_feed_event(c->loop, &c->io, EV_READ);
			return 1;
		}
	}
	e = SSL_get_error(c->ssl, n);
	if (total > 0 || e == SSL_ERROR_WANT_READ ||
	    e == SSL_ERROR_WANT_WRITE) {
		ERR_clear_error();
		return total > 0;
	}
	if (e == SSL_ERROR_ZERO_RETURN ||
	    (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
		ERR_clear_error();
		return -1;              /* errno as the read left it, or 0 */
	}
	tls_note_error(c, "TLS read", e);
	return -2;
}

/* Read what is there now (bounded); 1 got bytes, 0 nothing yet, -1 the
 * connection is gone (errno set, 0 for EOF), -2 a TLS error. */
static int
sc_read(struct smtpconn *c)
{
	char chunk[READ_CHUNK];
	size_t total = 0;
	ssize_t n;

	if (c->ssl != NULL) {
		errno = 0;
		return tls_read(c);
	}
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

/* SSL_write what out holds; 0 written or waiting, -1 gone. */
static int
tls_flush(struct smtpconn *c)
{
	while (buf_avail(&c->out) > 0) {
		int n = SSL_write(c->ssl, buf_head(&c->out),
		    (int)(buf_avail(&c->out) > 65536 ? 65536 :
		    buf_avail(&c->out)));
		int e;

		if (n > 0) {
			buf_consume(&c->out, (size_t)n);
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
			break;          /* on_io tries again on any event */
		tls_note_error(c, "TLS write", e);
		buf_reset(&c->out);
		return -1;
	}
	ERR_clear_error();
	watch(c, EV_READ | (buf_avail(&c->out) ? EV_WRITE : 0));
	return 0;
}

int
sc_flush(struct smtpconn *c)
{
	if (c->phase == SC_HANDSHAKE)
		return 0;               /* nothing may be sent meanwhile */
	if (c->ssl != NULL)
		return tls_flush(c);
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

/* One step of the handshake; its end is told to the owner.  Whatever
 * the server sent right after the handshake is read at once, so that an
 * early talker is seen before our EHLO goes out (doc/protocol.md 4d). */
static void
tls_handshake_step(struct smtpconn *c)
{
	int r, e;

	if (c->ssl == NULL) {
		c->cb(c, SC_EV_TLS_FAILED, 0);  /* set-up failed */
		return;
	}
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->phase = SC_TLS;
		c->tls_verified = SSL_get0_peer_certificate(c->ssl) != NULL &&
		    SSL_get_verify_result(c->ssl) == X509_V_OK;
		watch(c, EV_READ);
		r = tls_read(c);
		if (r == -2)
			c->cb(c, SC_EV_TLS_FAILED, 0);
		else if (r == -1)
			c->cb(c, SC_EV_LOST, errno);
		else
			c->cb(c, SC_EV_TLS_UP, 0);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		ERR_clear_error();
		watch(c, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
		return;
	}
	tls_note_error(c, "TLS handshake", e);
	c->cb(c, SC_EV_TLS_FAILED, 0);
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
	if (c->phase == SC_HANDSHAKE) {
		tls_handshake_step(c);
		return;
	}
	/* Through TLS a write may wait for a read and the reverse: try
	 * both on any event. */
	if (((revents & EV_WRITE) || (c->ssl != NULL &&
	    buf_avail(&c->out) > 0)) && sc_flush(c) < 0) {
		c->cb(c, c->tls_error[0] ? SC_EV_TLS_FAILED : SC_EV_LOST,
		    EPIPE);
		return;
	}
	if ((!(revents & EV_READ) && c->ssl == NULL) ||
	    (r = sc_read(c)) == 0)
		return;
	if (r == -2)
		c->cb(c, SC_EV_TLS_FAILED, 0);
	else if (r < 0)
		c->cb(c, SC_EV_LOST, errno);
	else
		c->cb(c, SC_EV_INPUT, 0);
}

/* Is name an address literal (no SNI for those, RFC 6066 3)? */
static int
is_literal(const char *name)
{
	unsigned char b[16];

	return name[0] == '[' || inet_pton(AF_INET, name, b) == 1 ||
	    inet_pton(AF_INET6, name, b) == 1;
}

void
sc_starttls(struct smtpconn *c, const char *sni)
{
	SSL_CTX *ctx = tls_context();

	c->phase = SC_HANDSHAKE;
	c->tls_error[0] = '\0';
	if (ctx == NULL || (c->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		tls_note_error(c, "TLS set-up", 0);
		SSL_free(c->ssl);
		c->ssl = NULL;          /* told from on_io */
	} else {
		SSL_set_connect_state(c->ssl);
		if (sni != NULL && sni[0] != '\0' && !is_literal(sni) &&
		    (SSL_set_tlsext_host_name(c->ssl, sni) != 1 ||
		    SSL_set1_host(c->ssl, sni) != 1))
			ERR_clear_error();      /* a name OpenSSL refuses */
	}
	watch(c, EV_WRITE);             /* writable at once: the first step */
}

const char *
sc_tls_version(const struct smtpconn *c)
{
	return c->phase == SC_TLS && c->ssl != NULL ?
	    SSL_get_version(c->ssl) : NULL;
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
	if (c->ssl != NULL) {
		if (c->phase == SC_TLS)
			SSL_shutdown(c->ssl);   /* one try: never waits */
		SSL_free(c->ssl);
		ERR_clear_error();
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->phase = SC_CLOSED;
	c->early_errno = 0;
	buf_free(&c->in);
	buf_free(&c->out);
}
