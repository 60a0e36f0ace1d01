/*
 * session.h - the SMTP client dialogue of one callout session as a pure
 * state machine: (state, event) -> commands to send + per-recipient
 * verdicts.  No sockets, no timers: the caller (callout.c) does the I/O
 * and turns timeouts and lost connections into events.
 *
 * One session = one target address, one domain, one MAIL FROM, up to
 * SESS_MAX_RCPT recipients, plus an optional catch-all probe.
 */
#ifndef SAVD_SESSION_H
#define SAVD_SESSION_H

#include <stddef.h>
#include "verdict.h"
#include "smtpreply.h"
#include "buf.h"

#define SESS_MAX_RCPT 100

enum sess_state {
	SS_GREETING,            /* connected, waiting for the banner */
	SS_EHLO,
	SS_HELO,
	SS_STARTTLS,            /* waiting for the reply to STARTTLS */
	SS_TLS,                 /* 220 to STARTTLS: the caller's handshake;
	                           no reply is owed, none may arrive */
	SS_MAIL,                /* waiting for the MAIL reply */
	SS_RCPT,                /* waiting for RCPT replies */
	SS_PROBE,               /* waiting for the catch-all probe reply */
	SS_QUIT,                /* QUIT sent, results final */
	SS_DONE,                /* results final, close the connection */
	SS__COUNT
};

enum sess_action {
	SA_CONTINUE,            /* flush out (if non-empty), wait for a line */
	SA_QUIT,                /* results final; out holds QUIT: flush it and
	                           wait briefly for the reply or close */
	SA_CLOSE,               /* results final; close now, send nothing */
	SA_STARTTLS,            /* 220 to STARTTLS: check that nothing else
	                           arrived in plain text, do the TLS handshake,
	                           then sess_tls_up() (or sess_failure()) */
};

struct sess_rcpt {
	const char *addr;       /* "local@domain", caller-owned, no CR/LF */
	int decided;            /* 1: v is the answer; 0: v is a move-on defer */
	int again;              /* 452 too many recipients: ask this host
	                           again in a new session (not decided) */
	int skip;               /* decided before MAIL: never sent */
	struct verdict v;
};

/* What the catch-all probe found. */
enum sess_probe { PROBE_NONE, PROBE_REFUSED, PROBE_ACCEPTED };

struct session {
	enum sess_state state;
	const char *helo_name;  /* our name for EHLO/HELO and loop detection */
	const char *mail_from;  /* "" = null sender */
	const char *probe;      /* "random@domain" or NULL = no probe */
	const char *mx;         /* "host[ip]", copied into verdicts */
	int esmtp;              /* EHLO accepted */
	int pipelining;         /* PIPELINING advertised */
	int smtputf8;           /* SMTPUTF8 advertised */
	int starttls;           /* STARTTLS advertised (this EHLO) */
	int tls_wanted;         /* caller: send STARTTLS when offered */
	int tls_cleared;        /* caller: plain text because TLS failed
	                           here; a refusal about TLS is then a defer */
	int tls;                /* the dialogue runs over TLS now */
	int backoff;            /* the remote asked us to slow down (421 ...) */
	enum sess_probe probe_result;
	unsigned queued;        /* commands put in out, not yet sent */
	unsigned awaiting;      /* replies due for commands sent */
	unsigned long replies;  /* complete replies received */
	size_t nrcpt;
	size_t cap;             /* room in rcpt[] */
	size_t replied;         /* RCPT replies received so far */
	struct sess_rcpt *rcpt; /* the caller's storage, cap entries */
	struct smtp_reply reply;
};

/* Strings and rcpts[] (room for cap <= SESS_MAX_RCPT recipients) are
 * borrowed and must outlive the session. */
void sess_init(struct session *s, const char *helo_name, const char *mail_from,
    const char *probe, const char *mx, struct sess_rcpt *rcpts, size_t cap);
/* Add a recipient before the dialogue starts; -1 when full. */
int sess_add_rcpt(struct session *s, const char *addr);

/*
 * One reply line (without CRLF) arrived.  Commands to send next are
 * appended to out.  Each recipient is undecided (decided=0, verdict =
 * defer tempfail "no answer yet") until its answer is known.
 * When the greeting's first word equals helo_name (case-insensitive) every
 * recipient is decided unknown skipped.  With PIPELINING, MAIL and all RCPTs
 * go in one write; the probe is sent only after a real RCPT got 2xx.
 */
enum sess_action sess_line(struct session *s, const char *line, size_t len,
    struct buf *out);

/*
 * The caller has handed everything in out to the kernel: those commands
 * are now owed a reply.  A line that arrives while no reply is owed (a
 * doubled greeting, an early talker, a server that sends every reply at
 * once) is a protocol violation (doc/protocol.md 4d): every recipient of the
 * session, decided or not, moves on with defer tempfail.
 */
void sess_sent(struct session *s);

/*
 * The TLS handshake after SA_STARTTLS succeeded: every EHLO keyword from
 * before it is forgotten and EHLO is sent again (RFC 3207 4.2).  Returns
 * SA_CONTINUE with EHLO in out.
 */
enum sess_action sess_tls_up(struct session *s, struct buf *out);

/* A timeout, a lost connection or garbage: every undecided recipient gets
 * the failure's verdict; always SA_CLOSE (no QUIT after a timeout). */
enum sess_action sess_failure(struct session *s, enum smtp_failure f);

const char *sess_state_name(enum sess_state);

#endif
