/*
 * verdict.c - the one place where SMTP replies and failures become answers
 * (doc/protocol.md 4).  Pure: no I/O.  Anything a remote can send maps
 * to a defined verdict; nothing here turns an error into ok or fail.
 */
#include <string.h>

#include "verdict.h"

static const char *const result_names[RES__COUNT] = {
	[RES_OK] = "ok", [RES_FAIL] = "fail", [RES_DEFER] = "defer",
	[RES_UNKNOWN] = "unknown", [RES_ERROR] = "error",
};

static const char *const reason_names[R__COUNT] = {
	[R_NONE] = "",
	[R_ACCEPTED] = "accepted", [R_NULL] = "null",
	[R_REJECTED] = "rejected", [R_NULLSENDER] = "nullsender",
	[R_NXDOMAIN] = "nxdomain", [R_NULLMX] = "nullmx", [R_NOMX] = "nomx",
	[R_BOGUSMX] = "bogusmx", [R_SYNTAX] = "syntax",
	[R_TEMPFAIL] = "tempfail", [R_TIMEOUT] = "timeout",
	[R_UNREACHABLE] = "unreachable", [R_DNSFAIL] = "dnsfail",
	[R_RATELIMITED] = "ratelimited", [R_INPROGRESS] = "inprogress",
	[R_OVERLOADED] = "overloaded",
	[R_CATCHALL] = "catchall", [R_BLOCKED] = "blocked",
	[R_SKIPPED] = "skipped",
	[R_BADREQUEST] = "badrequest", [R_TOOLONG] = "toolong",
	[R_DENIED] = "denied", [R_INTERNAL] = "internal",
	[R_PONG] = "pong", [R_BYE] = "bye",
	[R_MAILBOXFULL] = "mailboxfull", [R_SMTPUTF8] = "smtputf8",
};

static const char *const source_names[SRC__COUNT] = {
	[SRC_NONE] = "", [SRC_CALLOUT] = "callout", [SRC_CACHE] = "cache",
	[SRC_DNS] = "dns", [SRC_POLICY] = "policy",
};

const char *
verdict_result_name(enum sav_result r)
{
	return (unsigned)r < RES__COUNT ? result_names[r] : "error";
}

const char *
verdict_reason_name(enum sav_reason r)
{
	return (unsigned)r < R__COUNT ? reason_names[r] : "internal";
}

const char *
verdict_source_name(enum sav_source s)
{
	return (unsigned)s < SRC__COUNT ? source_names[s] : "";
}

static int
lookup(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (names[i][0] != '\0' && strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int
verdict_result_from_name(const char *name)
{
	return lookup(result_names, RES__COUNT, name);
}

int
verdict_reason_from_name(const char *name)
{
	return lookup(reason_names, R__COUNT, name);
}

int
verdict_default_code(enum sav_result res, enum sav_reason why)
{
	switch (res) {
	case RES_OK:
	case RES_UNKNOWN:
		return 250;
	case RES_FAIL:
		return why == R_SYNTAX ? 501 : 550;
	case RES_DEFER:
		return 451;
	case RES_ERROR:
		if (why == R_DENIED)
			return 530;
		return why == R_INTERNAL ? 451 : 500;
	default:
		return 451;
	}
}

void
verdict_set(struct verdict *v, enum sav_result res, enum sav_reason why,
    enum sav_source src)
{
	v->result = res;
	v->reason = why;
	v->code = verdict_default_code(res, why);
	v->source = src;
	v->mx[0] = '\0';
	v->text[0] = '\0';
	v->tls[0] = '\0';
}

static void
set_remote(struct verdict *v, enum sav_result res, enum sav_reason why,
    int code, const char *text)
{
	v->result = res;
	v->reason = why;
	v->code = code;
	v->source = SRC_CALLOUT;
	if (text == NULL)
		text = "";
	strncpy(v->text, text, sizeof(v->text) - 1);
	v->text[sizeof(v->text) - 1] = '\0';
}

/* A 5xx to MAIL or RCPT, by whose statement it is (doc/protocol.md 4b). */
static void
from_classified(struct verdict *v, enum reply_about about, int code,
    const char *text)
{
	static const struct {
		enum sav_result res;
		enum sav_reason why;
	} by_about[ABOUT__COUNT] = {
		[ABOUT_ADDRESS] = { RES_FAIL, R_REJECTED },
		[ABOUT_NULLSENDER] = { RES_FAIL, R_NULLSENDER },
		[ABOUT_US] = { RES_UNKNOWN, R_BLOCKED },
		[ABOUT_QUOTA] = { RES_UNKNOWN, R_MAILBOXFULL },
	};

	if ((unsigned)about >= ABOUT__COUNT)
		about = ABOUT_US;       /* when unsure, never fail */
	set_remote(v, by_about[about].res, by_about[about].why, code, text);
}

int
verdict_from_reply(struct verdict *v, enum smtp_stage stage, int code,
    const char *text)
{
	int class = code / 100;

	if (class == 4) {
		if (stage == STAGE_PROBE)
			return -1;
		set_remote(v, RES_DEFER, R_TEMPFAIL, code, text);
		return 0;
	}
	if (class == 2) {
		switch (stage) {
		case STAGE_RCPT:
			set_remote(v, RES_OK, R_ACCEPTED, code, text);
			return 1;
		case STAGE_PROBE:
			set_remote(v, RES_UNKNOWN, R_CATCHALL, 250, text);
			return 1;
		default:
			return -1;
		}
	}
	if (class != 5)
		return -1;      /* the caller treats other codes as garbled */
	switch (stage) {
	case STAGE_GREETING:
	case STAGE_HELO:
		set_remote(v, RES_UNKNOWN, R_BLOCKED, code, text);
		return 1;
	case STAGE_RCPT:
		if (reply_too_many_rcpts(code, text)) {
			/* RFC 5321 4.5.3.1.10: a 552 "too many recipients"
			 * refused nothing; like a 452, try again. */
			set_remote(v, RES_DEFER, R_TEMPFAIL, code, text);
			return 0;
		}
		/* FALLTHROUGH */
	case STAGE_MAIL:
	case STAGE_MAIL_SENDER:
		from_classified(v, reply_classify(stage, code, text), code,
		    text);
		return 1;
	default:                /* EHLO: fall back to HELO; PROBE: no news */
		return -1;
	}
}

void
verdict_from_failure(struct verdict *v, enum smtp_failure f, const char *text)
{
	static const enum sav_reason reasons[FAIL__COUNT] = {
		[FAIL_CONNECT] = R_UNREACHABLE, [FAIL_TIMEOUT] = R_TIMEOUT,
		[FAIL_LOST] = R_TEMPFAIL, [FAIL_GARBLED] = R_TEMPFAIL,
	};

	set_remote(v, RES_DEFER, (unsigned)f < FAIL__COUNT ? reasons[f] :
	    R_TEMPFAIL, 451, text);
}

int
verdict_rank(const struct verdict *v)
{
	if (v->result != RES_DEFER)
		return 0;
	switch (v->reason) {
	case R_TEMPFAIL:
		return 3;
	case R_TIMEOUT:
		return 2;
	case R_UNREACHABLE:
		return 1;
	default:
		return 0;
	}
}
