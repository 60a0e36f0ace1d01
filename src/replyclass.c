/*
 * replyclass.c - whose statement is a negative SMTP reply (doc/protocol.md
 * 3b): the address, the null sender, or us.  Ordered tables of
 * case-insensitive phrases say what the wording is about; a table of RFC
 * 3463 codes decides where the wording says nothing; one table maps that
 * to an answer per stage.
 * Pure: no I/O, no allocation, no state.  Must never turn a statement
 * about us into one about the address: wording about us is looked for
 * first, and weak policy wording beats every code.
 */
#include <stddef.h>
#include <string.h>

#include "replyclass.h"

/* What a reply speaks about, in the order the phrase tables are tried. */
enum wording {
	W_US,           /* blocklists, rDNS, HELO, TLS, auth, relay, reputation */
	W_QUOTA,        /* the mailbox is full */
	W_NULLSENDER,   /* the null sender itself */
	W_SENDER,       /* our envelope sender (which is <> at STAGE_MAIL) */
	W_ADDRESS,      /* the recipient does not exist or is disabled */
	W_POLICY,       /* weak: policy, spam, blocked, denied, not allowed */
	W_NONE,         /* nothing recognisable: the codes decide */
	W__COUNT
};

/*
 * Phrases, lower case.  A phrase that begins with a letter or digit only
 * matches at the start of a word ("rbl" is not in "verbl", "listed" is not
 * in "blacklisted"); its end is open ("blacklist" matches "blacklisted").
 * Postfix's "Recipient address rejected:" is deliberately absent: it names
 * the restriction stage, and policy services answer behind it too.
 */
static const char *const us_phrases[] = {
	/* blocklists and reputation */
	"spamhaus", "spamcop", "sorbs", "barracudacentral",
	"barracuda reputation", "ipcheck.proofpoint", "blocked using",
	"blocklist", "block list", "blacklist", "black list", "denylist",
	"dnsbl", "rbl", "is listed", "are listed", "been listed", "listed at",
	"listed on", "listed by", "reputation", "banned sending",
	"banned sender", "weren't sent", "permanently deferred",
	"not accepted from", "your access to",
	/* our IP, name, HELO */
	"client host", "your ip", "the ip", "this ip", "sending ip",
	"sender ip", "ip address", "reverse dns", "reverse hostname",
	"reverse lookup", "rdns", "ptr", "your hostname", "forward-confirmed",
	"helo", "ehlo",
	/* TLS, authentication, sender authentication */
	"starttls", "tls required", "requires tls", "require tls",
	"tls version", "tls/ssl", "encryption", "authenticat",
	"unauthenticated", "spf", "dkim", "dmarc", "sender policy framework",
	"spoof", "sender verify",
	/* relaying */
	"relaying", "relay access denied", "relay denied",
	"relay not permitted", "relay not allowed", "not permitted to relay",
	"unable to relay", "we do not relay", "does not relay", "open relay",
	"rcpthosts", "not a gateway",
	/* rates and limits */
	"unsolicited", "unusual rate", "rate limit", "rate-limit",
	"sending limit", "sending quota", "submission quota", "too many",
	"maximum number of recipients",
	NULL
};

static const char *const quota_phrases[] = {
	"mailbox full", "mailbox is full", "mailbox has exceeded",
	"over quota", "quota exceeded", "exceeded quota", "exceeds quota",
	"insufficient storage", "out of storage", "exceeded storage",
	"storage space", "mailbox size limit",
	NULL
};

static const char *const nullsender_phrases[] = {
	"<>", "null sender", "null-sender", "null reverse", "null return",
	"null envelope", "empty sender", "empty envelope", "empty return",
	"blank sender", "bounce", "mailer-daemon",
	NULL
};

static const char *const sender_phrases[] = {
	"sender address", "sender rejected", "sender refused",
	"sender denied", "sender not", "invalid sender", "bad sender",
	"unknown sender", "envelope sender", "sender domain",
	"domain of sender", "envelope from", "return path", "return-path",
	NULL
};

static const char *const address_phrases[] = {
	"user unknown", "unknown user", "no such user", "no such mailbox",
	"no such recipient", "no such address", "no mailbox here",
	"recipient unknown", "unknown recipient", "recipient not found",
	"recipnotfound", "recipientnotfound", "user not found",
	"mailbox not found", "mailbox unavailable", "mailbox does not exist",
	"does not exist", "doesn't exist", "unrouteable address",
	"unroutable address", "invalid recipient", "invalid mailbox",
	"not a valid user", "not a valid mailbox", "no longer valid",
	"user doesn't have", "disabled", "inactive", "banned recipient",
	"recipient address rejected: access denied",
	NULL
};

static const char *const policy_phrases[] = {
	"polic", "spam", "block", "denied", "not allowed", "not authorized",
	"unauthorized", "prohibit", "administrative", "service unavailable",
	"suspicious", "abuse",
	NULL
};

static const char *const *const phrase_tables[W_NONE] = {
	[W_US] = us_phrases, [W_QUOTA] = quota_phrases,
	[W_NULLSENDER] = nullsender_phrases, [W_SENDER] = sender_phrases,
	[W_ADDRESS] = address_phrases, [W_POLICY] = policy_phrases,
};

/* Enhanced codes, consulted when the wording says nothing. */
static const struct {
	int cls, subj, detail;          /* detail -1: any */
	enum wording w;
} code_table[] = {
	{ 5, 1, 0, W_ADDRESS },         /* other address status */
	{ 5, 1, 1, W_ADDRESS },         /* bad destination mailbox */
	{ 5, 1, 2, W_ADDRESS },         /* bad destination system */
	{ 5, 1, 3, W_ADDRESS },         /* bad destination mailbox syntax */
	{ 5, 1, 6, W_ADDRESS },         /* mailbox has moved */
	{ 5, 1, 10, W_ADDRESS },        /* recipient address has null MX */
	{ 5, 2, 1, W_ADDRESS },         /* mailbox disabled */
	{ 5, 2, 2, W_QUOTA },           /* mailbox full */
	{ 5, 1, 7, W_SENDER },          /* bad sender's mailbox syntax */
	{ 5, 1, 8, W_SENDER },          /* bad sender's system address */
	{ 5, 7, -1, W_US },             /* security or policy status */
};

/* Basic codes, consulted when there is no enhanced code either. */
static const struct {
	int code;
	enum wording w;
} basic_table[] = {
	{ 530, W_US },                  /* authentication required (RFC 4954) */
	{ 552, W_QUOTA },               /* exceeded storage allocation */
};

/*
 * The answer per wording and stage.  Columns: MAIL FROM:<>, MAIL
 * FROM:<x@y>, RCPT (and the probe).  At MAIL FROM:<> the sender is <>, so
 * sender wording refuses the null sender; at RCPT it speaks about the
 * sender we used, which we cannot tell apart from us.
 */
enum { COL_MAIL, COL_MAIL_SENDER, COL_RCPT, COL__COUNT };

static const enum reply_about answer[W__COUNT][COL__COUNT] = {
	[W_US] = { ABOUT_US, ABOUT_US, ABOUT_US },
	[W_QUOTA] = { ABOUT_US, ABOUT_US, ABOUT_QUOTA },
	[W_NULLSENDER] = { ABOUT_NULLSENDER, ABOUT_US, ABOUT_NULLSENDER },
	[W_SENDER] = { ABOUT_NULLSENDER, ABOUT_US, ABOUT_US },
	[W_ADDRESS] = { ABOUT_US, ABOUT_US, ABOUT_ADDRESS },
	[W_POLICY] = { ABOUT_US, ABOUT_US, ABOUT_US },
	[W_NONE] = { ABOUT_US, ABOUT_US, ABOUT_ADDRESS },
};

static const char *const about_names[ABOUT__COUNT] = {
	[ABOUT_ADDRESS] = "address", [ABOUT_NULLSENDER] = "nullsender",
	[ABOUT_US] = "us", [ABOUT_QUOTA] = "quota",
};

const char *
reply_about_name(enum reply_about a)
{
	return (unsigned)a < ABOUT__COUNT ? about_names[a] : "?";
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Does the lower-case phrase occur in text, at a word start if it begins
 * with a letter or digit? */
int
reply_has_phrase(const char *text, const char *phrase)
{
	size_t n = strlen(phrase), i;
	int word = alnum((unsigned char)phrase[0]);
	const char *p;

	for (p = text; *p != '\0'; p++) {
		if (word && p > text && alnum((unsigned char)p[-1]))
			continue;
		for (i = 0; i < n; i++)
			if (lower((unsigned char)p[i]) != phrase[i])
				break;
		if (i == n)
			return 1;
	}
	return 0;
}

int
reply_has_any(const char *text, const char *const *list)
{
	for (; *list != NULL; list++)
		if (reply_has_phrase(text, *list))
			return 1;
	return 0;
}

/* The first phrase table, in order, that matches the text. */
static enum wording
wording_of(const char *text)
{
	int w;

	for (w = 0; w < W_NONE; w++)
		if (reply_has_any(text, phrase_tables[w]))
			return (enum wording)w;
	return W_NONE;
}

/* What the codes say when the wording says nothing. */
static enum wording
wording_of_codes(int code, const char *text)
{
	int cls, subj, detail;
	size_t i;

	if (reply_enhanced(text, &cls, &subj, &detail)) {
		for (i = 0; i < sizeof(code_table) / sizeof(code_table[0]); i++)
			if (code_table[i].cls == cls &&
			    code_table[i].subj == subj &&
			    (code_table[i].detail < 0 ||
			    code_table[i].detail == detail))
				return code_table[i].w;
		return W_NONE;
	}
	for (i = 0; i < sizeof(basic_table) / sizeof(basic_table[0]); i++)
		if (basic_table[i].code == code)
			return basic_table[i].w;
	return W_NONE;
}

enum reply_about
reply_classify(enum smtp_stage stage, int code, const char *text)
{
	enum wording w;
	int col;

	if (text == NULL)
		text = "";
	w = wording_of(text);
	if (w == W_NONE)
		w = wording_of_codes(code, text);
	switch (stage) {
	case STAGE_MAIL:
		col = COL_MAIL;
		break;
	case STAGE_RCPT:
	case STAGE_PROBE:
		col = COL_RCPT;
		break;
	default:                /* MAIL FROM:<x@y>; greeting/HELO: never us */
		col = COL_MAIL_SENDER;
		break;
	}
	return answer[w][col];
}

/* 1 to 3 digits at *p; advances *p.  -1 if none. */
static int
digits(const char **p)
{
	int n = 0, v = 0;

	while (n < 3 && **p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n == 0 || (**p >= '0' && **p <= '9') ? -1 : v;
}

int
reply_enhanced(const char *text, int *cls, int *subj, int *detail)
{
	const char *p = text;
	int c, s, d;

	if (p == NULL || (*p != '2' && *p != '4' && *p != '5') || p[1] != '.')
		return 0;
	c = *p - '0';
	p += 2;
	if ((s = digits(&p)) < 0 || *p++ != '.' || (d = digits(&p)) < 0)
		return 0;
	if (*p == '.' && p[1] >= '0' && p[1] <= '9')
		return 0;               /* "5.1.1.2" is not a status code */
	*cls = c;
	*subj = s;
	*detail = d;
	return 1;
}

static const char *const too_many_phrases[] = {
	"too many recipients", "too many rcpt", "maximum number of recipients",
	"recipients per", "separate transaction",
	NULL
};

/* Wording that makes a bare 452 mean storage, not too many recipients. */
static const char *const storage_phrases[] = {
	"storage", "quota", "full", "space", "resources",
	NULL
};

int
reply_too_many_rcpts(int code, const char *text)
{
	int cls, subj, detail;

	if (code < 400 || code > 599)
		return 0;
	if (text == NULL)
		text = "";
	if (reply_enhanced(text, &cls, &subj, &detail) && subj == 5 &&
	    detail == 3)
		return 1;
	if (reply_has_any(text, too_many_phrases))
		return 1;
	if (code != 452 || reply_has_any(text, storage_phrases))
		return 0;
	/* A bare 452 is "too many recipients" unless it names another cause
	 * by its enhanced code (4.2.2 over quota, 4.3.1 system full). */
	return !reply_enhanced(text, &cls, &subj, &detail);
}
