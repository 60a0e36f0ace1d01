/* unit-verdict.c - the one mapping from replies and failures to answers. */
#include "tap.h"
#include "verdict.h"

static const struct {
	enum smtp_stage stage;
	int code;
	const char *text;
	int ret;
	enum sav_result res;
	enum sav_reason why;
	int want_code;
} replies[] = {
	{ STAGE_RCPT, 250, "text", 1, RES_OK, R_ACCEPTED, 250 },
	{ STAGE_RCPT, 251, "text", 1, RES_OK, R_ACCEPTED, 251 },
	{ STAGE_RCPT, 550, "text", 1, RES_FAIL, R_REJECTED, 550 },
	{ STAGE_RCPT, 553, "text", 1, RES_FAIL, R_REJECTED, 553 },
	{ STAGE_RCPT, 451, "text", 0, RES_DEFER, R_TEMPFAIL, 451 },
	{ STAGE_RCPT, 421, "text", 0, RES_DEFER, R_TEMPFAIL, 421 },
	{ STAGE_MAIL, 451, "text", 0, RES_DEFER, R_TEMPFAIL, 451 },
	{ STAGE_MAIL_SENDER, 550, "text", 1, RES_UNKNOWN, R_BLOCKED, 550 },
	{ STAGE_GREETING, 554, "text", 1, RES_UNKNOWN, R_BLOCKED, 554 },
	{ STAGE_GREETING, 421, "text", 0, RES_DEFER, R_TEMPFAIL, 421 },
	{ STAGE_HELO, 550, "text", 1, RES_UNKNOWN, R_BLOCKED, 550 },
	{ STAGE_PROBE, 250, "text", 1, RES_UNKNOWN, R_CATCHALL, 250 },
	/* doc/protocol.md 4b: whose statement a 5xx to MAIL or RCPT is. */
	{ STAGE_MAIL, 550, "text", 1, RES_UNKNOWN, R_BLOCKED, 550 },
	{ STAGE_MAIL, 554, "5.7.1 <>: Sender address rejected: Access denied",
	    1, RES_FAIL, R_NULLSENDER, 554 },
	{ STAGE_MAIL, 550, "5.7.1 we do not accept bounces", 1, RES_FAIL,
	    R_NULLSENDER, 550 },
	{ STAGE_MAIL, 554, "5.7.1 Service unavailable; Client host [192.0.2.1] "
	    "blocked using zen.spamhaus.org", 1, RES_UNKNOWN, R_BLOCKED, 554 },
	{ STAGE_MAIL, 550, "5.1.1 User unknown", 1, RES_UNKNOWN, R_BLOCKED,
	    550 },
	{ STAGE_MAIL_SENDER, 550, "5.1.1 User unknown", 1, RES_UNKNOWN,
	    R_BLOCKED, 550 },
	{ STAGE_RCPT, 550, "5.1.1 <a@b>: Recipient address rejected: User "
	    "unknown", 1, RES_FAIL, R_REJECTED, 550 },
	{ STAGE_RCPT, 554, "5.7.1 Service unavailable; Client host [192.0.2.1] "
	    "blocked using zen.spamhaus.org", 1, RES_UNKNOWN, R_BLOCKED, 554 },
	{ STAGE_RCPT, 550, "5.7.606 Access denied, banned sending IP "
	    "[192.0.2.1]", 1, RES_UNKNOWN, R_BLOCKED, 550 },
	{ STAGE_RCPT, 530, "5.7.0 Must issue a STARTTLS command first", 1,
	    RES_UNKNOWN, R_BLOCKED, 530 },
	{ STAGE_RCPT, 550, "5.4.1 Recipient address rejected: Access denied", 1,
	    RES_FAIL, R_REJECTED, 550 },
	{ STAGE_RCPT, 554, "5.7.1 <>: Sender address rejected: Access denied",
	    1, RES_FAIL, R_NULLSENDER, 554 },
	{ STAGE_RCPT, 552, "5.2.2 Mailbox full", 1, RES_UNKNOWN, R_MAILBOXFULL,
	    552 },
	{ STAGE_RCPT, 552, "5.5.3 Too many recipients", 0, RES_DEFER,
	    R_TEMPFAIL, 552 },
	{ STAGE_RCPT, 452, "4.5.3 Too many recipients", 0, RES_DEFER,
	    R_TEMPFAIL, 452 },
};

int
main(void)
{
	struct verdict v;
	size_t i;

	plan_no_plan();
	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		verdict_set(&v, RES_ERROR, R_INTERNAL, SRC_NONE);
		is_int(verdict_from_reply(&v, replies[i].stage, replies[i].code,
		    replies[i].text), replies[i].ret, "case %zu: return", i);
		is_str(verdict_result_name(v.result),
		    verdict_result_name(replies[i].res), "case %zu: result", i);
		is_str(verdict_reason_name(v.reason),
		    verdict_reason_name(replies[i].why), "case %zu: reason", i);
		is_int(v.code, replies[i].want_code, "case %zu: the remote's code",
		    i);
		is_str(v.text, replies[i].text, "case %zu: remote text kept", i);
		is_int(v.source, SRC_CALLOUT, "case %zu: source callout", i);
	}
	/* Replies that let the dialogue go on leave the verdict alone. */
	verdict_set(&v, RES_ERROR, R_INTERNAL, SRC_NONE);
	is_int(verdict_from_reply(&v, STAGE_EHLO, 550, "x"), -1, "5xx EHLO: fall back to HELO");
	is_int(verdict_from_reply(&v, STAGE_GREETING, 220, "x"), -1, "220 greeting goes on");
	is_int(verdict_from_reply(&v, STAGE_PROBE, 550, "x"), -1, "rejected probe: no news");
	is_int(verdict_from_reply(&v, STAGE_PROBE, 451, "x"), -1, "deferred probe: no news");
	is_int(verdict_from_reply(&v, STAGE_PROBE, 554, "5.7.1 blocked using "
	    "zen.spamhaus.org"), -1, "probe refused about us: no news");
	is_int(v.result, RES_ERROR, "verdict untouched");

	verdict_from_failure(&v, FAIL_CONNECT, NULL);
	is_int(v.reason, R_UNREACHABLE, "connect failure: unreachable");
	is_int(v.code, 451, "connect failure: 451");
	verdict_from_failure(&v, FAIL_TIMEOUT, "t");
	is_int(v.reason, R_TIMEOUT, "timeout: timeout");
	verdict_from_failure(&v, FAIL_LOST, NULL);
	is_int(v.reason, R_TEMPFAIL, "lost: tempfail");
	verdict_from_failure(&v, FAIL_GARBLED, NULL);
	is_int(v.reason, R_TEMPFAIL, "garbled: tempfail");

	struct verdict a, b, c;
	verdict_from_failure(&a, FAIL_CONNECT, NULL);
	verdict_from_failure(&b, FAIL_TIMEOUT, NULL);
	verdict_from_failure(&c, FAIL_LOST, NULL);
	ok(verdict_rank(&c) > verdict_rank(&b), "tempfail over timeout");
	ok(verdict_rank(&b) > verdict_rank(&a), "timeout over unreachable");

	/* Default codes of doc/protocol.md 4. */
	is_int(verdict_default_code(RES_OK, R_ACCEPTED), 250, "ok 250");
	is_int(verdict_default_code(RES_UNKNOWN, R_SKIPPED), 250, "unknown 250");
	is_int(verdict_default_code(RES_FAIL, R_REJECTED), 550, "fail 550");
	is_int(verdict_default_code(RES_FAIL, R_SYNTAX), 501, "fail syntax 501");
	is_int(verdict_default_code(RES_DEFER, R_TIMEOUT), 451, "defer 451");
	is_int(verdict_default_code(RES_ERROR, R_BADREQUEST), 500, "badrequest 500");
	is_int(verdict_default_code(RES_ERROR, R_TOOLONG), 500, "toolong 500");
	is_int(verdict_default_code(RES_ERROR, R_DENIED), 530, "denied 530");
	is_int(verdict_default_code(RES_ERROR, R_INTERNAL), 451, "internal 451");

	/* Names round-trip. */
	for (int r = 1; r < R__COUNT; r++)
		is_int(verdict_reason_from_name(verdict_reason_name(r)), r,
		    "reason %s round-trips", verdict_reason_name(r));
	for (int r = 0; r < RES__COUNT; r++)
		is_int(verdict_result_from_name(verdict_result_name(r)), r,
		    "result %s round-trips", verdict_result_name(r));
	is_int(verdict_reason_from_name("nonsense"), -1, "unknown reason name");
	return done_testing();
}
