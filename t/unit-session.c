/*
 * unit-session.c - the SMTP client state machine, driven by scripted
 * dialogues: server lines (or failures) in, the exact bytes we send, the
 * action, and every recipient's final verdict checked.
 * Links only the pure core: session.c smtpreply.c verdict.c buf.c xmalloc.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "session.h"
#include "tap.h"

#define HELO    "us.example"
#define MX      "mx.remote.example[192.0.2.1]"
#define PROBE   "zz9q@remote.example"
#define A       "a@remote.example"
#define B       "b@remote.example"
#define C       "c@remote.example"
#define U8      "j\xc3\xbcrgen@remote.example"
#define VIOL(w, l) W(DEFER, TEMPFAIL, 451, 0, "protocol violation (" w "): " l)
#define EARLY   "a reply before its command"
#define BADCODE "a code that cannot answer the command"

#define EHLO    "EHLO " HELO "\r\n"
#define HELOC   "HELO " HELO "\r\n"
#define MAILN   "MAIL FROM:<>\r\n"
#define RCPT(x) "RCPT TO:<" x ">\r\n"
#define QUIT    "QUIT\r\n"

#define MAXR    3
#define MAXS    14

struct step {
	char ev;                /* 'S' server line, 'T' timeout, 'L' lost,
	                           'G' garbled, 'C' connect failure,
	                           'U' the TLS handshake succeeded */
	const char *line;
	const char *sent;       /* exact bytes appended to out */
	enum sess_action act;
};

#define S(l, o, a)      { 'S', (l), (o), (a) }
#define BATCH(l, o, a)  { 'B', (l), (o), (a) }
#define F(e, a)         { (e), NULL, "", (a) }
#define TLS_UP(o, a)    { 'U', NULL, (o), (a) }
#define STLS            "STARTTLS\r\n"
#define ST              SA_STARTTLS
#define GO              SA_CONTINUE
#define QU              SA_QUIT
#define CL              SA_CLOSE

struct want {
	enum sav_result res;
	enum sav_reason why;
	int code;
	int decided;
	enum sav_source src;
	const char *text;
};

#define W(r, y, c, d, t)        { RES_##r, R_##y, (c), (d), SRC_CALLOUT, (t) }
#define UNDECIDED               W(DEFER, TEMPFAIL, 451, 0, "")

struct dialogue {
	const char *name;
	const char *from;               /* NULL: "" */
	const char *probe;
	const char *rcpt[MAXR];
	struct step steps[MAXS];
	struct want want[MAXR];
	int pipelining;
	int backoff;
	enum sess_state final;
	enum sess_probe probe_result;   /* PROBE_NONE unless written */
	int tls_wanted;                 /* tls = may (caller's) */
	int tls_cleared;                /* plain text after a TLS failure */
};

/* The greeting and a plain EHLO without PIPELINING. */
#define HELLO \
	S("220 mx.remote.example ESMTP", EHLO, GO), \
	S("250-mx.remote.example", "", GO), \
	S("250 SIZE 10240000", MAILN, GO)
/* The greeting and an EHLO with PIPELINING: MAIL and RCPTs in one go. */
#define HELLO_PIPE(cmds) \
	S("220 mx.remote.example ESMTP", EHLO, GO), \
	S("250-mx.remote.example", "", GO), \
	S("250-PIPELINING", "", GO), \
	S("250 8BITMIME", MAILN cmds, GO)


static struct sess_rcpt store[SESS_MAX_RCPT];       /* every session's */
static const struct dialogue dialogues[] = {
	/* doc/protocol.md 4d: a reply belongs to the command that asked for it. */
	{ "a doubled greeting is a protocol violation", NULL, NULL, { A }, {
		BATCH("220 mx ESMTP\n220 mx ESMTP", EHLO, CL) },
	    { VIOL(EARLY, "220 mx ESMTP") }, 0, 0, SS_DONE },
	{ "every reply at once is a protocol violation", NULL, PROBE, { A }, {
		BATCH("220 mx ESMTP\n250 mx\n250 Ok\n250 Ok\n250 Ok", EHLO,
		    CL) },
	    { VIOL(EARLY, "250 mx") }, 0, 0, SS_DONE },
	{ "an early talker after MAIL's reply", NULL, NULL, { A }, {
		HELLO,
		BATCH("250 Ok\n250 Ok", RCPT(A), CL) },
	    { VIOL(EARLY, "250 Ok") }, 0, 0, SS_DONE },
	{ "a violation takes back what was decided", NULL, NULL, { A, B }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		BATCH("550 a unknown\n250 b ok", RCPT(B), CL) },
	    { VIOL(EARLY, "250 b ok"), VIOL(EARLY, "250 b ok") }, 0, 0,
	    SS_DONE },
	{ "220 cannot answer EHLO", NULL, NULL, { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("220 mx ESMTP again", "", CL) },
	    { VIOL(BADCODE, "220 mx ESMTP again") }, 0, 0, SS_DONE },
	{ "354 cannot answer RCPT", NULL, NULL, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("354 go ahead", "", CL) },
	    { VIOL(BADCODE, "354 go ahead") }, 0, 0, SS_DONE },
	{ "252 cannot answer RCPT", NULL, NULL, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("252 cannot VRFY", "", CL) },
	    { VIOL(BADCODE, "252 cannot VRFY") }, 0, 0, SS_DONE },
	/* doc/protocol.md 4c: 452 goes to a new session on the same host. */
	{ "452 too many recipients: asked again, not answered", NULL, NULL,
	    { A, B }, {
		HELLO_PIPE(RCPT(A) RCPT(B)),
		S("250 2.1.0 Ok", "", GO),
		S("250 2.1.5 a ok", "", GO),
		S("452 4.5.3 Too many recipients", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "2.1.5 a ok"),
	      W(DEFER, TEMPFAIL, 452, 0, "4.5.3 Too many recipients") }, 1, 0,
	    SS_QUIT },
	/* SMTPUTF8 (doc/protocol.md 4c). */
	{ "UTF-8 local part, SMTPUTF8 not offered", NULL, NULL, { U8, A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("250 Ok", QUIT, QU) },
	    { W(UNKNOWN, SMTPUTF8, 250, 1, "the address needs SMTPUTF8, "
	        "which the mail host does not offer"),
	      W(OK, ACCEPTED, 250, 1, "Ok") }, 0, 0, SS_QUIT },
	{ "UTF-8 local part alone, SMTPUTF8 not offered", NULL, NULL, { U8 }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250 mx", QUIT, QU) },
	    { W(UNKNOWN, SMTPUTF8, 250, 1, "the address needs SMTPUTF8, "
	        "which the mail host does not offer") }, 0, 0, SS_QUIT },
	{ "UTF-8 local part, SMTPUTF8 offered", NULL, NULL, { U8 }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250 SMTPUTF8", "MAIL FROM:<> SMTPUTF8\r\n", GO),
		S("250 Ok", RCPT(U8), GO),
		S("250 Ok", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "Ok") }, 0, 0, SS_QUIT },
	{ "SMTPUTF8 offered, ASCII addresses: plain MAIL", NULL, NULL, { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250 SMTPUTF8", MAILN, GO),
		S("250 Ok", RCPT(A), GO),
		S("250 Ok", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "Ok") }, 0, 0, SS_QUIT },
	{ "happy path, no PIPELINING, probe disabled", NULL, NULL, { A }, {
		HELLO,
		S("250 2.1.0 Ok", RCPT(A), GO),
		S("250 2.1.5 Ok", QUIT, QU),
		S("221 2.0.0 Bye", "", CL) },
	    { W(OK, ACCEPTED, 250, 1, "2.1.5 Ok") }, 0, 0, SS_DONE },
	{ "happy path, PIPELINING, 2 rcpts", NULL, NULL, { A, B }, {
		HELLO_PIPE(RCPT(A) RCPT(B)),
		S("250 2.1.0 Ok", "", GO),
		S("250 2.1.5 a ok", "", GO),
		S("251 2.1.5 b ok", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "2.1.5 a ok"),
	      W(OK, ACCEPTED, 251, 1, "2.1.5 b ok") }, 1, 0, SS_QUIT },
	{ "no PIPELINING, 2 rcpts one at a time", NULL, NULL, { A, B }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("250 a ok", RCPT(B), GO),
		S("550 b unknown", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "a ok"),
	      W(FAIL, REJECTED, 550, 1, "b unknown") }, 0, 0, SS_QUIT },
	{ "multi-line greeting and EHLO, lower-case pipelining", NULL, NULL,
	    { A }, {
		S("220-mx.remote.example ESMTP", "", GO),
		S("220-no UCE", "", GO),
		S("220 really", EHLO, GO),
		S("250-mx.remote.example hello", "", GO),
		S("250-SIZE 100", "", GO),
		S("250-pipelining", "", GO),
		S("250 HELP", MAILN RCPT(A), GO),
		S("250 Ok", "", GO),
		S("250 Ok", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "Ok") }, 1, 0, SS_QUIT },
	{ "PIPELINING as last EHLO line", NULL, NULL, { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250 PIPELINING", MAILN RCPT(A), GO),
		S("250 Ok", "", GO),
		S("250 Ok", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "Ok") }, 1, 0, SS_QUIT },
	{ "PIPELINING look-alikes do not count", NULL, NULL, { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-PIPELINING", "", GO),
		S("250-PIPELININGX", "", GO),
		S("250-XPIPELINING", "", GO),
		S("250 SIZE PIPELINING", MAILN, GO),
		S("250 Ok", RCPT(A), GO),
		S("250 Ok", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "Ok") }, 0, 0, SS_QUIT },
	{ "EHLO 502 falls back to HELO", NULL, NULL, { A }, {
		S("220 old.remote.example SMTP", EHLO, GO),
		S("502 5.5.2 Command not recognized", HELOC, GO),
		S("250 old.remote.example", MAILN, GO),
		S("250 Ok", RCPT(A), GO),
		S("250 Ok", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "Ok") }, 0, 0, SS_QUIT },
	{ "EHLO 550 and HELO 550: blocked", NULL, NULL, { A, B }, {
		S("220 mx ESMTP", EHLO, GO),
		S("550 no", HELOC, GO),
		S("550 5.7.1 go away", QUIT, QU) },
	    { W(UNKNOWN, BLOCKED, 550, 1, "5.7.1 go away"),
	      W(UNKNOWN, BLOCKED, 550, 1, "5.7.1 go away") }, 0, 0, SS_QUIT },
	{ "greeting 554: blocked with its code", NULL, NULL, { A }, {
		S("554 5.7.1 You are not welcome", QUIT, QU),
		S("221 bye", "", CL) },
	    { W(UNKNOWN, BLOCKED, 554, 1, "5.7.1 You are not welcome") },
	    0, 0, SS_DONE },
	{ "greeting 554 listed at: blocked and back-off", NULL, NULL, { A }, {
		S("554 listed at zen.example", QUIT, QU) },
	    { W(UNKNOWN, BLOCKED, 554, 1, "listed at zen.example") },
	    0, 1, SS_QUIT },
	{ "greeting 421: move on, back off, close", NULL, NULL, { A, B }, {
		S("421 4.7.0 Too busy", "", CL),
		S("250 late line", "", CL) },
	    { W(DEFER, TEMPFAIL, 421, 0, "4.7.0 Too busy"),
	      W(DEFER, TEMPFAIL, 421, 0, "4.7.0 Too busy") }, 0, 1, SS_DONE },
	{ "greeting 450: move on, QUIT", NULL, NULL, { A }, {
		S("450 later", QUIT, QU) },
	    { W(DEFER, TEMPFAIL, 450, 0, "later") }, 0, 0, SS_QUIT },
	{ "greeting with our own helo name: skipped", NULL, PROBE, { A, B }, {
		S("220 US.Example ESMTP Exim", QUIT, QU) },
	    { { RES_UNKNOWN, R_SKIPPED, 250, 1, SRC_POLICY,
		"US.Example ESMTP Exim" },
	      { RES_UNKNOWN, R_SKIPPED, 250, 1, SRC_POLICY,
		"US.Example ESMTP Exim" } }, 0, 0, SS_QUIT },
	{ "our name as a prefix is not us", NULL, NULL, { A }, {
		S("220 us.example.net ESMTP", EHLO, GO) },
	    { UNDECIDED }, 0, 0, SS_EHLO },
	{ "EHLO 421: move on, close", NULL, NULL, { A }, {
		S("220 mx", EHLO, GO),
		S("421 shutting down", "", CL) },
	    { W(DEFER, TEMPFAIL, 421, 0, "shutting down") }, 0, 1, SS_DONE },
	{ "MAIL FROM:<> 550: fail nullsender", NULL, NULL, { A, B }, {
		HELLO,
		S("550 5.7.1 we do not accept bounces", QUIT, QU) },
	    { W(FAIL, NULLSENDER, 550, 1, "5.7.1 we do not accept bounces"),
	      W(FAIL, NULLSENDER, 550, 1, "5.7.1 we do not accept bounces") },
	    0, 0, SS_QUIT },
	{ "MAIL FROM:<sender> 550: unknown blocked", "verify@us.example", NULL,
	    { A }, {
		S("220 mx", EHLO, GO),
		S("250 mx", "MAIL FROM:<verify@us.example>\r\n", GO),
		S("553 sender rejected", QUIT, QU) },
	    { W(UNKNOWN, BLOCKED, 553, 1, "sender rejected") }, 0, 0,
	    SS_QUIT },
	{ "MAIL 451 with PIPELINING: QUIT, rest ignored", NULL, NULL, { A }, {
		HELLO_PIPE(RCPT(A)),
		S("451 4.3.0 try later", QUIT, QU),
		S("503 need MAIL", "", CL) },
	    { W(DEFER, TEMPFAIL, 451, 0, "4.3.0 try later") }, 1, 0, SS_DONE },
	{ "RCPT 550: fail rejected with text", NULL, NULL, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("550 5.1.1 <a@remote.example>: Recipient address rejected: "
		    "User unknown", QUIT, QU) },
	    { W(FAIL, REJECTED, 550, 1, "5.1.1 <a@remote.example>: Recipient "
		"address rejected: User unknown") }, 0, 0, SS_QUIT },
	{ "RCPT 451: move on with code 451", NULL, NULL, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("451 4.7.1 Greylisted", QUIT, QU) },
	    { W(DEFER, TEMPFAIL, 451, 0, "4.7.1 Greylisted") }, 0, 0, SS_QUIT },
	{ "3 rcpts, mixed answers, pipelined", NULL, NULL, { A, B, C }, {
		HELLO_PIPE(RCPT(A) RCPT(B) RCPT(C)),
		S("250 Ok", "", GO),
		S("250 a ok", "", GO),
		S("550-b no such", "", GO),
		S("550 user", "", GO),
		S("452 c over quota", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "a ok"),
	      W(FAIL, REJECTED, 550, 1, "b no such user"),
	      W(DEFER, TEMPFAIL, 452, 0, "c over quota") }, 1, 0, SS_QUIT },
	{ "probe accepted: catch-all", NULL, PROBE, { A, B }, {
		HELLO_PIPE(RCPT(A) RCPT(B)),
		S("250 Ok", "", GO),
		S("250 a ok", "", GO),
		S("550 b unknown", RCPT(PROBE), GO),
		S("250 probe ok", QUIT, QU) },
	    { W(UNKNOWN, CATCHALL, 250, 1, "a ok"),
	      W(FAIL, REJECTED, 550, 1, "b unknown") }, 1, 0, SS_QUIT,
	    PROBE_ACCEPTED },
	{ "probe accepted with 251: still code 250", NULL, PROBE, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("251 a ok", RCPT(PROBE), GO),
		S("251 forwarded", QUIT, QU) },
	    { W(UNKNOWN, CATCHALL, 250, 1, "a ok") }, 0, 0, SS_QUIT,
	    PROBE_ACCEPTED },
	{ "probe rejected: ok stands", NULL, PROBE, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("250 a ok", RCPT(PROBE), GO),
		S("550 no such user", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "a ok") }, 0, 0, SS_QUIT,
	    PROBE_REFUSED },
	{ "probe 450: ok stands", NULL, PROBE, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("250 a ok", RCPT(PROBE), GO),
		S("450 later", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "a ok") }, 0, 0, SS_QUIT },
	{ "probe timeout: ok stands", NULL, PROBE, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("250 a ok", RCPT(PROBE), GO),
		F('T', CL) },
	    { W(OK, ACCEPTED, 250, 1, "a ok") }, 0, 0, SS_DONE },
	{ "probe not sent when no rcpt accepted", NULL, PROBE, { A, B }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("550 a unknown", RCPT(B), GO),
		S("450 b later", QUIT, QU) },
	    { W(FAIL, REJECTED, 550, 1, "a unknown"),
	      W(DEFER, TEMPFAIL, 450, 0, "b later") }, 0, 0, SS_QUIT },
	{ "garbage line: tempfail, close", NULL, NULL, { A }, {
		S("220 mx", EHLO, GO),
		S("hello \x01there", "", CL),
		S("250 late", "", CL) },
	    { W(DEFER, TEMPFAIL, 451, 0, "hello there") }, 0, 0, SS_DONE },
	{ "garbage continuation: tempfail, close", NULL, NULL, { A }, {
		S("220-mx", "", GO),
		S("221 mx", "", CL) },
	    { W(DEFER, TEMPFAIL, 451, 0, "221 mx") }, 0, 0, SS_DONE },
	{ "3xx greeting is garbled", NULL, NULL, { A }, {
		S("354 go ahead", "", CL) },
	    { VIOL(BADCODE, "354 go ahead") }, 0, 0, SS_DONE },
	{ "timeout: close without QUIT", NULL, NULL, { A, B }, {
		HELLO,
		F('T', CL) },
	    { W(DEFER, TIMEOUT, 451, 0, ""),
	      W(DEFER, TIMEOUT, 451, 0, "") }, 0, 0, SS_DONE },
	{ "timeout at the greeting", NULL, NULL, { A }, {
		F('T', CL) },
	    { W(DEFER, TIMEOUT, 451, 0, "") }, 0, 0, SS_DONE },
	{ "lost after RCPT: tempfail", NULL, NULL, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		F('L', CL),
		S("250 late", "", CL) },
	    { W(DEFER, TEMPFAIL, 451, 0, "") }, 0, 0, SS_DONE },
	{ "garbled failure event", NULL, NULL, { A }, {
		F('G', CL) },
	    { W(DEFER, TEMPFAIL, 451, 0, "") }, 0, 0, SS_DONE },
	{ "connect failure event", NULL, NULL, { A }, {
		F('C', CL) },
	    { W(DEFER, UNREACHABLE, 451, 0, "") }, 0, 0, SS_DONE },
	{ "451 to first RCPT, then timeout: the 451 stays", NULL, NULL,
	    { A, B }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("451 a greylisted", RCPT(B), GO),
		F('T', CL) },
	    { W(DEFER, TEMPFAIL, 451, 0, "a greylisted"),
	      W(DEFER, TIMEOUT, 451, 0, "") }, 0, 0, SS_DONE },
	{ "lost after QUIT: results stand", NULL, NULL, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("250 a ok", QUIT, QU),
		F('L', CL) },
	    { W(OK, ACCEPTED, 250, 1, "a ok") }, 0, 0, SS_DONE },
	{ "421 at RCPT: this and the rest move on", NULL, PROBE, { A, B, C }, {
		HELLO_PIPE(RCPT(A) RCPT(B) RCPT(C)),
		S("250 Ok", "", GO),
		S("250 a ok", "", GO),
		S("421 4.7.0 too many errors", "", CL),
		S("250 c ok", "", CL) },
	    { W(OK, ACCEPTED, 250, 1, "a ok"),
	      W(DEFER, TEMPFAIL, 421, 0, "4.7.0 too many errors"),
	      W(DEFER, TEMPFAIL, 421, 0, "4.7.0 too many errors") },
	    1, 1, SS_DONE },
	{ "RCPT 451 rate limit: back-off", NULL, NULL, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("451 4.7.1 rate limit exceeded", QUIT, QU) },
	    { W(DEFER, TEMPFAIL, 451, 0, "4.7.1 rate limit exceeded") },
	    0, 1, SS_QUIT },
	/* STARTTLS (RFC 3207, issue 12). */
	{ "STARTTLS offered: 220, handshake, EHLO again, old keywords gone",
	    NULL, NULL, { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250-PIPELINING", "", GO),
		S("250 STARTTLS", STLS, GO),
		S("220 2.0.0 Ready to start TLS", "", ST),
		TLS_UP(EHLO, GO),
		S("250-mx", "", GO),
		S("250 SIZE 1000", MAILN, GO),
		S("250 Ok", RCPT(A), GO),
		S("250 a ok", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "a ok") }, 0, 0, SS_QUIT, PROBE_NONE,
	    1, 0 },
	{ "over TLS, STARTTLS offered again: not sent again", NULL, NULL,
	    { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250 STARTTLS", STLS, GO),
		S("220 go ahead", "", ST),
		TLS_UP(EHLO, GO),
		S("250-mx", "", GO),
		S("250-PIPELINING", "", GO),
		S("250 STARTTLS", MAILN RCPT(A), GO),
		S("250 Ok", "", GO),
		S("550 5.1.1 a unknown", QUIT, QU) },
	    { W(FAIL, REJECTED, 550, 1, "5.1.1 a unknown") }, 1, 0, SS_QUIT,
	    PROBE_NONE, 1, 0 },
	{ "STARTTLS offered, tls = never: plain text", NULL, NULL, { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250 STARTTLS", MAILN, GO),
		S("250 Ok", RCPT(A), GO),
		S("250 a ok", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "a ok") }, 0, 0, SS_QUIT },
	{ "STARTTLS not offered: plain text", NULL, NULL, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("250 a ok", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "a ok") }, 0, 0, SS_QUIT, PROBE_NONE,
	    1, 0 },
	{ "454 to STARTTLS: on in plain text", NULL, NULL, { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250 STARTTLS", STLS, GO),
		S("454 4.7.0 TLS not available due to local problem", MAILN,
		    GO),
		S("250 Ok", RCPT(A), GO),
		S("250 a ok", QUIT, QU) },
	    { W(OK, ACCEPTED, 250, 1, "a ok") }, 0, 0, SS_QUIT, PROBE_NONE,
	    1, 0 },
	{ "502 to STARTTLS: on in plain text", NULL, NULL, { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250 STARTTLS", STLS, GO),
		S("502 5.5.1 not implemented", MAILN, GO),
		S("250 Ok", RCPT(A), GO),
		S("550 5.1.1 unknown", QUIT, QU) },
	    { W(FAIL, REJECTED, 550, 1, "5.1.1 unknown") }, 0, 0, SS_QUIT,
	    PROBE_NONE, 1, 0 },
	{ "421 to STARTTLS: everybody moves on", NULL, NULL, { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250 STARTTLS", STLS, GO),
		S("421 4.3.2 shutting down", "", CL) },
	    { W(DEFER, TEMPFAIL, 421, 0, "4.3.2 shutting down") }, 0, 1,
	    SS_DONE, PROBE_NONE, 1, 0 },
	{ "250 cannot answer STARTTLS", NULL, NULL, { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250 STARTTLS", STLS, GO),
		S("250 ok", "", CL) },
	    { VIOL(BADCODE, "250 ok") }, 0, 0, SS_DONE, PROBE_NONE, 1, 0 },
	{ "plain text after 220 to STARTTLS is a violation (injection)",
	    NULL, NULL, { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250 STARTTLS", STLS, GO),
		S("220 ready", "", ST),
		S("250-injected", "", CL) },
	    { VIOL(EARLY, "250-injected") }, 0, 0, SS_DONE, PROBE_NONE, 1, 0 },
	{ "220 and more in one read: the more is the caller's to judge",
	    NULL, NULL, { A }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250 STARTTLS", STLS, GO),
		BATCH("220 ready\n250 mx", "", ST) },
	    { UNDECIDED }, 0, 0, SS_TLS, PROBE_NONE, 1, 0 },
	{ "the handshake fails: everybody moves on", NULL, NULL, { A, B }, {
		S("220 mx ESMTP", EHLO, GO),
		S("250-mx", "", GO),
		S("250 STARTTLS", STLS, GO),
		S("220 ready", "", ST),
		F('L', CL) },
	    { UNDECIDED, UNDECIDED }, 0, 0, SS_DONE,
	    PROBE_NONE, 1, 0 },
	{ "plain after a TLS failure: 530 at MAIL is a defer, not blocked",
	    NULL, NULL, { A }, {
		HELLO,
		S("530 5.7.0 Must issue a STARTTLS command first", QUIT, QU) },
	    { W(DEFER, TEMPFAIL, 451, 0,
	        "5.7.0 Must issue a STARTTLS command first") }, 0, 0, SS_QUIT,
	    PROBE_NONE, 0, 1 },
	{ "plain after a TLS failure: a TLS refusal at RCPT is a defer", NULL,
	    NULL, { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("550 STARTTLS is required to send mail to this server", QUIT,
		    QU) },
	    { W(DEFER, TEMPFAIL, 451, 0,
	        "STARTTLS is required to send mail to this server") }, 0, 0,
	    SS_QUIT, PROBE_NONE, 0, 1 },
	{ "plain after a TLS failure: other blocks stay blocks", NULL, NULL,
	    { A }, {
		HELLO,
		S("250 Ok", RCPT(A), GO),
		S("554 5.7.1 Client host rejected: blocked using zen", QUIT,
		    QU) },
	    { W(UNKNOWN, BLOCKED, 554, 1,
	        "5.7.1 Client host rejected: blocked using zen") }, 0, 1,
	    SS_QUIT, PROBE_NONE, 0, 1 },
	{ "tls = never: 530 at MAIL is unknown blocked", NULL, NULL, { A }, {
		HELLO,
		S("530 5.7.0 Must issue a STARTTLS command first", QUIT, QU) },
	    { W(UNKNOWN, BLOCKED, 530, 1,
	        "5.7.0 Must issue a STARTTLS command first") }, 0, 0,
	    SS_QUIT },
	{ "no rcpts: MAIL then QUIT", NULL, NULL, { NULL }, {
		HELLO,
		S("250 Ok", QUIT, QU) },
	    { { 0 } }, 0, 0, SS_QUIT },
};

/* Lines separated by '\n', all received before anything is sent. */
static enum sess_action
run_batch(struct session *s, const char *lines, struct buf *out)
{
	enum sess_action act = SA_CONTINUE;

	while (act == SA_CONTINUE && *lines != '\0') {
		size_t n = strcspn(lines, "\n");

		act = sess_line(s, lines, n, out);
		lines += n + (lines[n] == '\n');
	}
	return act;
}

static enum sess_action
run_step(struct session *s, const struct step *st, struct buf *out)
{
	switch (st->ev) {
	case 'S':
		return sess_line(s, st->line, strlen(st->line), out);
	case 'B':               /* several lines in one read */
		return run_batch(s, st->line, out);
	case 'T':
		return sess_failure(s, FAIL_TIMEOUT);
	case 'L':
		return sess_failure(s, FAIL_LOST);
	case 'G':
		return sess_failure(s, FAIL_GARBLED);
	case 'U':
		return sess_tls_up(s, out);
	default:
		return sess_failure(s, FAIL_CONNECT);
	}
}

static void
check_rcpt(const struct dialogue *d, const struct session *s, size_t i)
{
	const struct sess_rcpt *r = &s->rcpt[i];
	const struct want *w = &d->want[i];

	is_str(verdict_result_name(r->v.result), verdict_result_name(w->res),
	    "%s: %s result", d->name, r->addr);
	is_str(verdict_reason_name(r->v.reason), verdict_reason_name(w->why),
	    "%s: %s reason", d->name, r->addr);
	is_int(r->v.code, w->code, "%s: %s code", d->name, r->addr);
	is_int(r->decided, w->decided, "%s: %s decided", d->name, r->addr);
	is_str(verdict_source_name(r->v.source), verdict_source_name(w->src),
	    "%s: %s source", d->name, r->addr);
	is_str(r->v.text, w->text, "%s: %s text", d->name, r->addr);
	is_str(r->v.mx, MX, "%s: %s mx", d->name, r->addr);
}

static void
run_dialogue(const struct dialogue *d)
{
	static struct session s;        /* large: keep it off the stack */
	struct buf out;
	size_t i;

	buf_init(&out);
	sess_init(&s, HELO, d->from ? d->from : "", d->probe, MX, store, SESS_MAX_RCPT);
	s.tls_wanted = d->tls_wanted;
	s.tls_cleared = d->tls_cleared;
	for (i = 0; i < MAXR && d->rcpt[i] != NULL; i++)
		sess_add_rcpt(&s, d->rcpt[i]);
	is_int(s.nrcpt, i, "%s: %zu rcpts added", d->name, i);
	for (i = 0; i < MAXS && d->steps[i].ev != 0; i++) {
		const struct step *st = &d->steps[i];
		enum sess_action act;

		buf_reset(&out);
		act = run_step(&s, st, &out);
		sess_sent(&s);          /* each step is one read, then a write */
		is_str(buf_cstr(&out), st->sent, "%s: step %zu sends", d->name,
		    i + 1);
		is_int(act, st->act, "%s: step %zu action", d->name, i + 1);
	}
	for (i = 0; i < s.nrcpt; i++)
		check_rcpt(d, &s, i);
	is_int(s.pipelining, d->pipelining, "%s: pipelining", d->name);
	is_int(s.backoff, d->backoff, "%s: backoff", d->name);
	is_str(sess_state_name(s.state), sess_state_name(d->final),
	    "%s: final state", d->name);
	is_int(s.probe_result, d->probe_result, "%s: probe result", d->name);
	buf_free(&out);
}

/* Does fn abort (SIGABRT) in a child? */
static int
aborts(void (*fn)(void))
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(2);
		fn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static struct session as;

static void crlf_rcpt(void) {
	sess_init(&as, HELO, "", NULL, MX, store, SESS_MAX_RCPT);
	sess_add_rcpt(&as, "a@b\r\nDATA");
}
static void lf_helo(void) { sess_init(&as, "us\nRSET", "", NULL, MX, store, SESS_MAX_RCPT); }
static void cr_from(void) { sess_init(&as, HELO, "a@b\rx", NULL, MX, store, SESS_MAX_RCPT); }
static void cr_probe(void) { sess_init(&as, HELO, "", "x@y\r", MX, store, SESS_MAX_RCPT); }
static void clean(void) {
	sess_init(&as, HELO, "", PROBE, MX, store, SESS_MAX_RCPT);
	sess_add_rcpt(&as, A);
}

static void
test_guards(void)
{
	static struct session s;
	size_t i;
	int full = 0;

	ok(aborts(crlf_rcpt), "CR/LF in a rcpt aborts");
	ok(aborts(lf_helo), "LF in helo_name aborts");
	ok(aborts(cr_from), "CR in mail_from aborts");
	ok(aborts(cr_probe), "CR in probe aborts");
	ok(!aborts(clean), "clean arguments do not abort");

	sess_init(&s, HELO, "", NULL, MX, store, SESS_MAX_RCPT);
	for (i = 0; i < SESS_MAX_RCPT; i++)
		full |= sess_add_rcpt(&s, A);
	is_int(full, 0, "%d rcpts fit", SESS_MAX_RCPT);
	is_int(sess_add_rcpt(&s, A), -1, "one more is refused");
	is_int(s.rcpt[0].decided, 0, "initial: undecided");
	is_str(verdict_reason_name(s.rcpt[0].v.reason), "tempfail",
	    "initial: tempfail");
	is_str(s.rcpt[0].v.text, "", "initial: no text");
}

static void
test_names(void)
{
	int st;

	for (st = 0; st < SS__COUNT; st++)
		ok(strcmp(sess_state_name(st), "?") != 0, "state %d has a name",
		    st);
	is_str(sess_state_name(SS__COUNT), "?", "out of range: ?");
}

int
main(void)
{
	size_t i;

	plan_no_plan();
	for (i = 0; i < sizeof(dialogues) / sizeof(dialogues[0]); i++)
		run_dialogue(&dialogues[i]);
	test_guards();
	test_names();
	return done_testing();
}
