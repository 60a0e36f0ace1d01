/*
 * session.c - the SMTP client dialogue of one callout session as a pure
 * state machine: reply lines and failures in, commands and per-recipient
 * verdicts out.  Every state change goes through enter(), the one place
 * that sends the command a state waits for.
 * Must not: do I/O, keep time, or map replies to answers itself (that is
 * verdict.c).  A CR or LF in anything we would send is our bug: abort.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "session.h"
#include "replyclass.h"
#include "config.h"
_Static_assert(CONFIG_MAX_RCPT <= SESS_MAX_RCPT, "config allows more rcpts");

static const char *const state_names[SS__COUNT] = {
	[SS_GREETING] = "greeting", [SS_EHLO] = "ehlo", [SS_HELO] = "helo",
	[SS_STARTTLS] = "starttls", [SS_TLS] = "tls",
	[SS_MAIL] = "mail", [SS_RCPT] = "rcpt", [SS_PROBE] = "probe",
	[SS_QUIT] = "quit", [SS_DONE] = "done",
};

/* The dialogue stage whose reply each waiting state receives. */
static const enum smtp_stage state_stage[SS__COUNT] = {
	[SS_GREETING] = STAGE_GREETING, [SS_EHLO] = STAGE_EHLO,
	[SS_HELO] = STAGE_HELO, [SS_STARTTLS] = STAGE_EHLO,
	[SS_TLS] = STAGE_EHLO, [SS_MAIL] = STAGE_MAIL,
	[SS_RCPT] = STAGE_RCPT, [SS_PROBE] = STAGE_PROBE,
	[SS_QUIT] = STAGE_RCPT, [SS_DONE] = STAGE_RCPT,
};

const char *
sess_state_name(enum sess_state st)
{
	if ((unsigned)st >= SS__COUNT || state_names[st] == NULL)
		return "?";
	return state_names[st];
}

/* Anything that goes on the wire: a CR or LF would inject commands. */
static void
check_arg(const char *s)
{
	if (s == NULL || strpbrk(s, "\r\n") != NULL) {
		fprintf(stderr, "session: CR/LF or NULL in an SMTP argument\n");
		abort();
	}
}

/* Queue one command; it is owed a reply once sess_sent() says so. */
static void
put_cmd(struct session *s, struct buf *out, const char *fmt, const char *arg)
{
	check_arg(arg);
	buf_printf(out, fmt, arg);
	s->queued++;
}

/* Does this text need SMTPUTF8 (a byte outside ASCII)? */
static int
needs_utf8(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			return 1;
	return 0;
}

static int
any_utf8_rcpt(const struct session *s)
{
	for (size_t i = 0; i < s->nrcpt; i++)
		if (!s->rcpt[i].skip && needs_utf8(s->rcpt[i].addr))
			return 1;
	return 0;
}

/* The first recipient from i on that goes on the wire. */
static size_t
next_sendable(const struct session *s, size_t i)
{
	while (i < s->nrcpt && s->rcpt[i].skip)
		i++;
	return i;
}

static void
copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* Give rcpt i the verdict v, with our mx and the remote's text. */
static void
give(struct session *s, size_t i, const struct verdict *v, int decided,
    const char *text)
{
	struct sess_rcpt *r = &s->rcpt[i];

	r->v = *v;
	r->decided = decided;
	copy_str(r->v.mx, sizeof(r->v.mx), s->mx);
	if (text != NULL)
		copy_str(r->v.text, sizeof(r->v.text), text);
}

/* Every undecided rcpt from index from on gets v. */
static void
give_rest(struct session *s, size_t from, const struct verdict *v,
    int decided, const char *text)
{
	size_t i;

	for (i = from; i < s->nrcpt; i++)
		if (!s->rcpt[i].decided)
			give(s, i, v, decided, text);
}

void
sess_init(struct session *s, const char *helo_name, const char *mail_from,
    const char *probe, const char *mx, struct sess_rcpt *rcpts, size_t cap)
{
	check_arg(helo_name);
	check_arg(mail_from);
	if (probe != NULL)
		check_arg(probe);
	memset(s, 0, sizeof(*s));
	s->state = SS_GREETING;
	s->helo_name = helo_name;
	s->mail_from = mail_from;
	s->probe = probe;
	s->mx = mx != NULL ? mx : "";
	s->rcpt = rcpts;
	s->cap = cap < SESS_MAX_RCPT ? cap : SESS_MAX_RCPT;
	s->awaiting = 1;                /* the greeting */
	smtpreply_reset(&s->reply);
}

void
sess_sent(struct session *s)
{
	s->awaiting += s->queued;
	s->queued = 0;
}

int
sess_add_rcpt(struct session *s, const char *addr)
{
	struct sess_rcpt *r;

	check_arg(addr);
	if (s->nrcpt >= s->cap || s->state != SS_GREETING)
		return -1;
	r = &s->rcpt[s->nrcpt++];
	r->addr = addr;
	r->decided = 0;
	r->again = 0;
	r->skip = 0;
	verdict_set(&r->v, RES_DEFER, R_TEMPFAIL, SRC_CALLOUT);
	copy_str(r->v.mx, sizeof(r->v.mx), s->mx);
	return 0;
}

/*
 * Enter state st: send what that state waits a reply to.  The one place
 * where s->state changes.
 */
static enum sess_action
enter(struct session *s, enum sess_state st, struct buf *out)
{
	size_t i;

	s->state = st;
	switch (st) {
	case SS_EHLO:
		put_cmd(s, out, "EHLO %s\r\n", s->helo_name);
		break;
	case SS_HELO:
		put_cmd(s, out, "HELO %s\r\n", s->helo_name);
		break;
	case SS_STARTTLS:
		put_cmd(s, out, "STARTTLS%s\r\n", "");
		break;
	case SS_TLS:                    /* the handshake is the caller's */
		return SA_STARTTLS;
	case SS_MAIL:
		put_cmd(s, out, s->smtputf8 && (needs_utf8(s->mail_from) ||
		    any_utf8_rcpt(s)) ? "MAIL FROM:<%s> SMTPUTF8\r\n" :
		    "MAIL FROM:<%s>\r\n", s->mail_from);
		for (i = next_sendable(s, 0); s->pipelining && i < s->nrcpt;
		    i = next_sendable(s, i + 1))
			put_cmd(s, out, "RCPT TO:<%s>\r\n", s->rcpt[i].addr);
		break;
	case SS_RCPT:
		if (!s->pipelining)
			put_cmd(s, out, "RCPT TO:<%s>\r\n",
			    s->rcpt[s->replied].addr);
		break;
	case SS_PROBE:
		put_cmd(s, out, "RCPT TO:<%s>\r\n", s->probe);
		break;
	case SS_QUIT:
		buf_adds(out, "QUIT\r\n");
		s->queued++;
		return SA_QUIT;
	case SS_DONE:
		return SA_CLOSE;
	default:
		abort();
	}
	return SA_CONTINUE;
}

/* Does the banner's first word equal our own helo_name?  (We call us.) */
static int
greets_as_us(const struct session *s, const char *text)
{
	size_t n = strcspn(text, " ");

	return s->helo_name[0] != '\0' && n == strlen(s->helo_name) &&
	    strncasecmp(text, s->helo_name, n) == 0;
}

/*
 * Before MAIL: addresses that need SMTPUTF8 where the remote does not
 * offer it are answered unknown smtputf8 and never sent (doc/protocol.md 4c).
 * Returns the state to enter: MAIL, or QUIT when nobody is left to ask.
 */
static enum sess_state
before_mail(struct session *s)
{
	struct verdict v;
	int from8 = needs_utf8(s->mail_from);

	if (!s->smtputf8) {
		verdict_set(&v, RES_UNKNOWN, R_SMTPUTF8, SRC_CALLOUT);
		for (size_t i = 0; i < s->nrcpt; i++) {
			if (!from8 && !needs_utf8(s->rcpt[i].addr))
				continue;
			give(s, i, &v, 1, "the address needs SMTPUTF8, "
			    "which the mail host does not offer");
			s->rcpt[i].skip = 1;
		}
	}
	s->replied = next_sendable(s, 0);
	return s->nrcpt > 0 && s->replied == s->nrcpt ? SS_QUIT : SS_MAIL;
}

/* What follows a successful greeting/EHLO/HELO/MAIL. */
static enum sess_state
next_after_ok(struct session *s, int code, const char *text)
{
	struct verdict v;

	switch (s->state) {
	case SS_GREETING:
		if (!greets_as_us(s, text))
			return SS_EHLO;
		verdict_set(&v, RES_UNKNOWN, R_SKIPPED, SRC_POLICY);
		v.code = 250;
		give_rest(s, 0, &v, 1, text);
		return SS_QUIT;
	case SS_EHLO:
		if (code / 100 != 2)
			return SS_HELO;         /* 5xx EHLO: try HELO */
		s->esmtp = 1;
		if (s->starttls && s->tls_wanted && !s->tls)
			return SS_STARTTLS;
		return before_mail(s);
	case SS_HELO:
		s->pipelining = s->smtputf8 = 0;
		return before_mail(s);
	default:                                /* SS_MAIL */
		return s->replied < s->nrcpt ? SS_RCPT : SS_QUIT;
	}
}

/*
 * In plain text because TLS failed with this host (the retry, or a host
 * remembered so): a refusal that asks for TLS says nothing about the
 * address nor, lastingly, about us.  It is a defer tempfail (r becomes 0),
 * never fail or a block record.  Returns r, possibly changed.
 */
static int
tls_refusal(const struct session *s, struct verdict *v, int r, int code,
    const char *text)
{
	if (r != 1 || !s->tls_cleared || v->result != RES_UNKNOWN ||
	    v->reason != R_BLOCKED)
		return r;
	if (code != 530 && strcasestr(text, "tls") == NULL &&
	    strcasestr(text, "encrypt") == NULL)
		return r;
	verdict_set(v, RES_DEFER, R_TEMPFAIL, SRC_CALLOUT);
	return 0;
}

/* A reply before any RCPT: it goes on, or it decides everybody. */
static enum sess_state
on_setup_reply(struct session *s, int code, const char *text)
{
	enum smtp_stage stage = state_stage[s->state];
	struct verdict v;
	int r;

	if (s->state == SS_MAIL && s->mail_from[0] != '\0')
		stage = STAGE_MAIL_SENDER;
	r = tls_refusal(s, &v, verdict_from_reply(&v, stage, code, text),
	    code, text);
	if (r == 1) {
		give_rest(s, 0, &v, 1, text);
		return SS_QUIT;
	}
	if (r == 0) {
		give_rest(s, 0, &v, 0, text);
		return code == 421 ? SS_DONE : SS_QUIT;
	}
	if (code / 100 == 2 || (s->state == SS_EHLO && code / 100 == 5))
		return next_after_ok(s, code, text);
	return SS_QUIT;         /* unclassified: leave them undecided */
}

static int
any_accepted(const struct session *s)
{
	size_t i;

	for (i = 0; i < s->nrcpt; i++)
		if (s->rcpt[i].decided && s->rcpt[i].v.result == RES_OK)
			return 1;
	return 0;
}

/* The reply to RCPT number s->replied. */
static enum sess_state
on_rcpt_reply(struct session *s, int code, const char *text)
{
	struct verdict v;
	size_t i = s->replied;
	int r;

	r = tls_refusal(s, &v, verdict_from_reply(&v, STAGE_RCPT, code, text),
	    code, text);
	if (code == 421) {              /* closing: this and the rest move on */
		s->backoff = 1;
		give_rest(s, i, &v, 0, text);
		s->replied = s->nrcpt;
		return SS_DONE;
	}
	if (reply_too_many_rcpts(code, text)) {
		give(s, i, &v, 0, text);
		s->rcpt[i].again = 1;   /* not refused: ask again, same host */
	} else if (r >= 0)
		give(s, i, &v, r, text);
	s->replied = next_sendable(s, i + 1);
	if (s->replied < s->nrcpt)
		return SS_RCPT;
	if (s->probe != NULL && any_accepted(s))
		return SS_PROBE;
	return SS_QUIT;
}

/* The probe's reply: accepted makes every accepted rcpt a catch-all;
 * refused says the domain checks its recipients (a record of its own). */
static enum sess_state
on_probe_reply(struct session *s, int code, const char *text)
{
	struct verdict v;
	size_t i;

	if (verdict_from_reply(&v, STAGE_PROBE, code, text) == 1) {
		s->probe_result = PROBE_ACCEPTED;
		for (i = 0; i < s->nrcpt; i++) {
			struct sess_rcpt *r = &s->rcpt[i];

			if (!r->decided || r->v.result != RES_OK)
				continue;
			/* The answer is about the real address: its text. */
			copy_str(v.text, sizeof(v.text), r->v.text);
			v.code = 250;
			give(s, i, &v, 1, NULL);
		}
	} else if (code / 100 == 5)
		s->probe_result = PROBE_REFUSED;
	return code == 421 ? SS_DONE : SS_QUIT;
}

/* The failure's verdict for every rcpt still waiting for its own reply. */
static enum sess_action
fail_with(struct session *s, enum smtp_failure f, const char *text)
{
	struct verdict v;
	size_t from = s->state == SS_RCPT || s->state == SS_PROBE ?
	    s->replied : 0;

	if (s->state != SS_QUIT && s->state != SS_DONE) {
		verdict_from_failure(&v, f, text);
		give_rest(s, from, &v, 0, NULL);
	}
	smtpreply_reset(&s->reply);
	return enter(s, SS_DONE, NULL);
}

enum sess_action
sess_tls_up(struct session *s, struct buf *out)
{
	if (s->state != SS_TLS) {
		fprintf(stderr, "session: TLS up in state %s\n",
		    sess_state_name(s->state));
		abort();
	}
	s->tls = 1;
	s->esmtp = s->pipelining = s->smtputf8 = s->starttls = 0;
	return enter(s, SS_EHLO, out);
}

enum sess_action
sess_failure(struct session *s, enum smtp_failure f)
{
	return fail_with(s, f, NULL);
}

/*
 * A line nobody asked for, or a code that cannot answer the command: the
 * replies of this session cannot be trusted to belong to their commands,
 * so nothing it said stands, not even what it said before (doc/protocol.md
 * 4d).  Every recipient moves on with defer tempfail.
 */
static enum sess_action
violation(struct session *s, const char *why, const char *line, size_t len)
{
	char bad[SAV_TEXT_MAX - 64], text[SAV_TEXT_MAX];
	struct verdict v;

	smtp_sanitise(bad, sizeof(bad), line, len);
	snprintf(text, sizeof(text), "protocol violation (%s): %s", why, bad);
	verdict_from_failure(&v, FAIL_GARBLED, text);
	for (size_t i = 0; i < s->nrcpt; i++)
		give(s, i, &v, 0, NULL);
	s->probe_result = PROBE_NONE;
	smtpreply_reset(&s->reply);
	return enter(s, SS_DONE, NULL);
}

/* May a reply with this code answer what state waits for?  4xx and 5xx
 * answer anything; a positive reply must be the one the command has. */
static int
code_answers(enum sess_state st, int code)
{
	if (code / 100 == 4 || code / 100 == 5)
		return 1;
	switch (st) {
	case SS_GREETING:
	case SS_STARTTLS:
		return code == 220;
	case SS_RCPT:
	case SS_PROBE:
		return code == 250 || code == 251;
	default:
		return code == 250;
	}
}

/* EHLO keyword lines: "250-PIPELINING", "250 SMTPUTF8 ..." (not the
 * first line, which names the host). */
static void
scan_ehlo_line(struct session *s, const char *line, size_t len)
{
	static const struct {
		const char *kw;
		size_t off;
	} kws[] = {
		{ "PIPELINING", offsetof(struct session, pipelining) },
		{ "SMTPUTF8", offsetof(struct session, smtputf8) },
		{ "STARTTLS", offsetof(struct session, starttls) },
	};

	if (s->reply.nlines < 2 || len < 4 || line[0] != '2')
		return;
	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
		size_t n = strlen(kws[i].kw);

		if (len >= 4 + n && strncasecmp(line + 4, kws[i].kw, n) == 0 &&
		    (len == 4 + n || line[4 + n] == ' '))
			*(int *)((char *)s + kws[i].off) = 1;
	}
}

/* A complete reply arrived in a waiting state: decide the next state. */
static enum sess_state
on_reply(struct session *s, int code, const char *text)
{
	if (code >= 400 && smtpreply_says_backoff(code, text))
		s->backoff = 1;
	switch (s->state) {
	case SS_STARTTLS:               /* 220: the handshake; 4xx/5xx but 421:
	                                   go on in plain text */
		if (code == 220)
			return SS_TLS;
		return code == 421 ? on_setup_reply(s, code, text) :
		    before_mail(s);
	case SS_RCPT:
		return on_rcpt_reply(s, code, text);
	case SS_PROBE:
		return on_probe_reply(s, code, text);
	default:
		return on_setup_reply(s, code, text);
	}
}

enum sess_action
sess_line(struct session *s, const char *line, size_t len, struct buf *out)
{
	char bad[SAV_TEXT_MAX];
	enum sess_state next;

	if (s->state == SS_QUIT || s->state == SS_DONE)
		return enter(s, SS_DONE, out);
	if (s->awaiting == 0)
		return violation(s, "a reply before its command", line, len);
	if (memchr(line, '\0', len) != NULL)
		return violation(s, "a NUL byte in a reply", line, len);
	switch (smtpreply_feed(&s->reply, line, len)) {
	case SR_MORE:
		if (s->state == SS_EHLO)
			scan_ehlo_line(s, line, len);
		return SA_CONTINUE;
	case SR_DONE:
		if (s->state == SS_EHLO)
			scan_ehlo_line(s, line, len);
		break;
	default:
		smtp_sanitise(bad, sizeof(bad), line, len);
		return fail_with(s, FAIL_GARBLED, bad);
	}
	s->awaiting--;
	s->replies++;
	if (!code_answers(s->state, s->reply.code))
		return violation(s, "a code that cannot answer the command",
		    line, len);
	next = on_reply(s, s->reply.code, s->reply.text);
	smtpreply_reset(&s->reply);
	return enter(s, next, out);
}
