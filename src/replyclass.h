/*
 * replyclass.h - whose statement is a negative SMTP reply (doc/protocol.md
 * 3b): the address, the null sender, or us?  Pure: no I/O, no state.
 */
#ifndef SAVD_REPLYCLASS_H
#define SAVD_REPLYCLASS_H

/*
 * Where in the SMTP dialogue a reply was received.  Defined here, below
 * verdict.h (which includes this header), so that the two modules do not
 * include each other.
 */
enum smtp_stage {
	STAGE_GREETING, STAGE_EHLO, STAGE_HELO,
	STAGE_MAIL,             /* MAIL FROM:<> (null sender) */
	STAGE_MAIL_SENDER,      /* MAIL FROM:<x@y>: 5xx is unknown blocked */
	STAGE_RCPT, STAGE_PROBE, STAGE__COUNT
};

enum reply_about {
	ABOUT_ADDRESS,          /* the address does not exist / disabled: fail rejected */
	ABOUT_NULLSENDER,       /* the null sender is refused: fail nullsender */
	ABOUT_US,               /* our IP/rDNS/HELO/TLS/auth/relay/reputation/policy: unknown blocked */
	ABOUT_QUOTA,            /* mailbox full / over quota (5.2.2): unknown mailboxfull */
	ABOUT__COUNT
};

/*
 * Whose statement is this 5xx reply received at stage (STAGE_MAIL = reply
 * to MAIL FROM:<>, STAGE_MAIL_SENDER = reply to MAIL FROM:<x@y>,
 * STAGE_RCPT, STAGE_PROBE)?  text is the joined reply text (enhanced code
 * included as sent), NULL is "".  Wording wins over codes; codes decide
 * where the wording says nothing.  At MAIL only ABOUT_NULLSENDER and
 * ABOUT_US come back; at STAGE_MAIL_SENDER only ABOUT_US; a reply at RCPT
 * that says nothing recognisable is ABOUT_ADDRESS.
 */
enum reply_about reply_classify(enum smtp_stage stage, int code,
    const char *text);

/* Case-insensitive phrase search (phrases in lower case).  A phrase that
 * begins with a letter or digit matches only at the start of a word;
 * its end is open ("blacklist" matches "blacklisted"). */
int reply_has_phrase(const char *text, const char *phrase);
/* Does text contain any phrase of the NULL-terminated list? */
int reply_has_any(const char *text, const char *const *list);

/* Name for logs and tests: "address", "nullsender", "us", "quota". */
const char *reply_about_name(enum reply_about);

/*
 * Parse a leading RFC 3463 enhanced status code "c.sss.ddd" (class 2/4/5,
 * subject 0-999, detail 0-999); returns 1 and fills cls/subj/detail or 0
 * when text does not start with one.
 */
int reply_enhanced(const char *text, int *cls, int *subj, int *detail);

/*
 * 452 / 4.5.3 / "too many recipients": the RCPT was not refused, retry it
 * in a new session.  Also true for a 5xx with x.5.3 or that wording (RFC
 * 5321 4.5.3.1.10: treat 552 "too many recipients" as temporary); false
 * for a 452 whose code or wording says storage or quota (4.2.2, 4.3.1).
 */
int reply_too_many_rcpts(int code, const char *text);

#endif
