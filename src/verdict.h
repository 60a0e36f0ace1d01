/*
 * verdict.h - the answer vocabulary of doc/protocol.md 4 and the one
 * place that maps SMTP replies and failures to it.  Pure: no I/O.
 */
#ifndef SAVD_VERDICT_H
#define SAVD_VERDICT_H

#include "replyclass.h"         /* enum smtp_stage, reply_classify() */

#define SAV_TEXT_MAX 400        /* sanitised remote text kept, bytes + NUL */
#define SAV_MX_MAX   320        /* "host[ip]" */

enum sav_result {
	RES_OK, RES_FAIL, RES_DEFER, RES_UNKNOWN, RES_ERROR,
	RES__COUNT
};

enum sav_reason {
	R_NONE,                 /* no reason field (STATS, HEALTH, FLUSH) */
	R_ACCEPTED, R_NULL,
	R_REJECTED, R_NULLSENDER, R_NXDOMAIN, R_NULLMX, R_NOMX, R_BOGUSMX,
	R_SYNTAX,
	R_TEMPFAIL, R_TIMEOUT, R_UNREACHABLE, R_DNSFAIL, R_RATELIMITED,
	R_INPROGRESS, R_OVERLOADED,
	R_CATCHALL, R_BLOCKED, R_SKIPPED,
	R_BADREQUEST, R_TOOLONG, R_DENIED, R_INTERNAL,
	R_PONG, R_BYE,
	/* Appended, never inserted: the cache stores these numbers. */
	R_MAILBOXFULL,          /* unknown: over quota (5.2.2) */
	R_SMTPUTF8,             /* unknown: needs SMTPUTF8, not offered */
	R__COUNT
};

enum sav_source { SRC_NONE, SRC_CALLOUT, SRC_CACHE, SRC_DNS, SRC_POLICY, SRC__COUNT };

/* Failures that are not replies. */
enum smtp_failure {
	FAIL_CONNECT,           /* refused, unreachable, connect timeout */
	FAIL_TIMEOUT,           /* no reply within command/callout timeout */
	FAIL_LOST,              /* connection closed or reset mid-dialogue */
	FAIL_GARBLED,           /* reply that is not SMTP */
	FAIL__COUNT
};

struct verdict {
	enum sav_result result;
	enum sav_reason reason;
	int code;                       /* three-digit SMTP code */
	enum sav_source source;
	char mx[SAV_MX_MAX];            /* "host[ip]" or "" */
	char text[SAV_TEXT_MAX];        /* sanitised, printable ASCII, or "" */
	char tls[12];                   /* callout sessions: "TLSv1.3" or "no";
	                                   "" = no tls= field (never cached) */
	int tls_verified;               /* the certificate verified */
};

const char *verdict_result_name(enum sav_result);
const char *verdict_reason_name(enum sav_reason);
const char *verdict_source_name(enum sav_source);
/* Reverse lookups for the cache and savctl; -1 if unknown. */
int verdict_result_from_name(const char *);
int verdict_reason_from_name(const char *);

/* The default code of doc/protocol.md 4 for a result/reason pair. */
int verdict_default_code(enum sav_result, enum sav_reason);

/* Fill v with result, reason, source and the default code; clear mx/text. */
void verdict_set(struct verdict *v, enum sav_result, enum sav_reason,
    enum sav_source);

/*
 * Classify a complete reply received at stage.  Returns 1 when the reply
 * decides the answer for the address (v filled, source=callout), 0 when the
 * caller must move on to the next host (v filled with the defer verdict to
 * remember: tempfail with the remote's code), and -1 when the dialogue goes
 * on normally (2xx/3xx at greeting, EHLO, MAIL; v untouched).
 * Rules (doc/protocol.md 4, 3a and 3b):
 *   2xx RCPT -> ok accepted; 4xx anywhere -> 0 tempfail; 5xx greeting or
 *   HELO (after EHLO failed) -> unknown blocked; 5xx EHLO -> -1 (caller
 *   falls back to HELO).  A 5xx to MAIL or RCPT goes by reply_classify():
 *   about the address -> fail rejected (RCPT only), the null sender -> fail
 *   nullsender, us -> unknown blocked, over quota -> unknown mailboxfull,
 *   always with the remote's code.  A 5xx to RCPT that only says "too many
 *   recipients" (reply_too_many_rcpts) -> 0 tempfail, as a 452.
 *   Codes outside 200..599 are treated as garbled by the caller.
 * PROBE: 2xx -> unknown catchall (1); anything else -> -1 (the real answer
 * stands).
 */
int verdict_from_reply(struct verdict *v, enum smtp_stage stage, int code,
    const char *text);

/* Verdict for a failure: defer tempfail/timeout/unreachable.  text may be
 * NULL. */
void verdict_from_failure(struct verdict *v, enum smtp_failure f,
    const char *text);

/* Rank of a "moved on" defer: higher is more informative (tempfail >
 * timeout > unreachable).  Used to pick the answer when no host decides. */
int verdict_rank(const struct verdict *v);

#endif
