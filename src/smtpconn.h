/*
 * smtpconn.h - the socket side of one SMTP client session: non-blocking
 * connect, bounded reads into a buffer, writes from a buffer, and one step
 * timer, and TLS (OpenSSL 3, non-blocking) once the dialogue asks for it.
 * Knows nothing of SMTP: callout.c feeds what arrives to the pure state
 * machine (session.c) and puts its commands in `out`; in and out hold
 * plain text whether the socket carries TLS or not.
 */
#ifndef SAVD_SMTPCONN_H
#define SAVD_SMTPCONN_H

#include <ev.h>

#include "buf.h"
#include "netaddr.h"

enum sc_phase {
	SC_CONNECTING,          /* connect() in progress */
	SC_OPEN,                /* connected: reading and writing */
	SC_HANDSHAKE,           /* TLS handshake in progress (sc_starttls) */
	SC_TLS,                 /* reading and writing through TLS */
	SC_CLOSED,              /* fd closed */
	SC__COUNT
};

enum sc_event {
	SC_EV_CONNECTED,        /* the connection is up */
	SC_EV_INPUT,            /* bytes were added to in */
	SC_EV_LOST,             /* EOF or error while open (err: errno, 0 EOF) */
	SC_EV_CONNECT_FAILED,   /* refused, unreachable... (err: errno) */
	SC_EV_TIMER,            /* the step timer ran out */
	SC_EV_TLS_UP,           /* the handshake is done: phase SC_TLS */
	SC_EV_TLS_FAILED,       /* handshake failed, or a TLS error later
	                           (tls_error says what) */
	SC_EV__COUNT
};

struct smtpconn;
struct ssl_st;
typedef void sc_fn(struct smtpconn *c, enum sc_event ev, int err);

struct smtpconn {
	enum sc_phase phase;
	int fd;
	int early_errno;        /* connect failed at once: told from a timer */
	ev_io io;
	ev_timer step;
	struct ev_loop *loop;
	struct buf in, out;
	sc_fn *cb;
	void *owner;
	struct ssl_st *ssl;     /* from sc_starttls until sc_close */
	int tls_verified;       /* the certificate verified (for SNI name) */
	char tls_error[160];    /* why SC_EV_TLS_FAILED, or "" */
};


/*
 * Connect to ip:port (from bind, if non-NULL and of the same family).
 * Never calls cb from inside this call: a connect that fails at once is
 * reported from a zero timer.  The connect timer is the caller's:
 * sc_timer(c, connect_timeout) right after.
 */
void sc_start(struct smtpconn *c, struct ev_loop *loop, const struct netaddr *ip,
    int port, const struct netaddr *bind, sc_fn *cb, void *owner);
/* (Re)arm the step timer to t seconds from now. */
void sc_timer(struct smtpconn *c, double t);
/* Write what out holds as far as the socket takes it; -1 when the peer is
 * gone (out is then emptied). */
int sc_flush(struct smtpconn *c);
/*
 * Start TLS on an open connection (after 220 to STARTTLS): in must be
 * empty (what came before is the caller's to judge).  sni: the server's
 * name (SNI and the name verified), or NULL.  The outcome comes as
 * SC_EV_TLS_UP or SC_EV_TLS_FAILED, never from inside this call; the
 * step timer keeps running and bounds the handshake.  The certificate
 * need not verify (opportunistic TLS); whether it did is in tls_verified.
 */
void sc_starttls(struct smtpconn *c, const char *sni);
/* "TLSv1.3" and the like once the handshake is done, else NULL. */
const char *sc_tls_version(const struct smtpconn *c);
/* Make the process's SSL_CTX now (loading the CAs takes some
 * milliseconds: better at start-up than in the loop); -1 if OpenSSL
 * cannot.  sc_starttls makes it on first use otherwise. */
int sc_tls_init(void);
/* Free the process's SSL_CTX (shutdown); sc_starttls makes a new one. */
void sc_tls_fini(void);
/* Close the socket, stop the watchers, free the buffers.  Idempotent. */
void sc_close(struct smtpconn *c);

#endif
