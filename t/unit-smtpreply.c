/*
 * unit-smtpreply.c - reply assembly, code checks, sanitising, back-off
 * phrases.  Table-driven; links only smtpreply.c.
 */
#include <stdio.h>
#include <string.h>

#include "smtpreply.h"
#include "tap.h"

#define MAXL 8

static const struct {
	const char *name;
	const char *lines[MAXL];        /* NULL-terminated */
	enum smtpreply_status want;     /* status of the last line */
	int code;                       /* when not SR_BAD */
	const char *text;
} feeds[] = {
	{ "bare code", { "250" }, SR_DONE, 250, "" },
	{ "code and text", { "250 ok fine" }, SR_DONE, 250, "ok fine" },
	{ "code and space", { "250 " }, SR_DONE, 250, "" },
	{ "continuation", { "250-mx.example" }, SR_MORE, 250, "mx.example" },
	{ "multi-line joined", { "250-a", "250-b c", "250 d" }, SR_DONE, 250,
	    "a b c d" },
	{ "empty middle line", { "220-a", "220-", "220 b" }, SR_DONE, 220,
	    "a b" },
	{ "final bare", { "550-x", "550" }, SR_DONE, 550, "x" },
	{ "keeps enhanced code", { "550 5.1.1 <a@b>: unknown" }, SR_DONE, 550,
	    "5.1.1 <a@b>: unknown" },
	{ "code 559", { "559 x" }, SR_DONE, 559, "x" },
	{ "second digit 9", { "599 x" }, SR_BAD, 0, NULL },
	{ "code 200", { "200 x" }, SR_DONE, 200, "x" },
	{ "3xx is SMTP", { "354 go" }, SR_DONE, 354, "go" },
	{ "empty line", { "" }, SR_BAD, 0, NULL },
	{ "two digits", { "25" }, SR_BAD, 0, NULL },
	{ "four digits", { "2500 x" }, SR_BAD, 0, NULL },
	{ "first digit 1", { "199 x" }, SR_BAD, 0, NULL },
	{ "first digit 6", { "600 x" }, SR_BAD, 0, NULL },
	{ "second digit 6", { "260 x" }, SR_BAD, 0, NULL },
	{ "letter in code", { "2a0 x" }, SR_BAD, 0, NULL },
	{ "tab separator", { "250\tx" }, SR_BAD, 0, NULL },
	{ "text only", { "hello" }, SR_BAD, 0, NULL },
	{ "leading space", { " 250 x" }, SR_BAD, 0, NULL },
	{ "code changes", { "250-a", "251 b" }, SR_BAD, 0, NULL },
	{ "garbage after continuation", { "250-a", "junk" }, SR_BAD, 0, NULL },
	{ "control bytes dropped", { "250 a\x01" "b\x7f" "c\x80\xff" "d\t" },
	    SR_DONE, 250, "abcd" },
	/* doc/protocol.md 4b: the enhanced code repeated on continuations goes. */
	{ "joined Gmail reply", {
	    "550-5.1.1 The email account that you tried to reach does not exist. "
	    "Please try",
	    "550-5.1.1 double-checking the recipient's email address for typos or",
	    "550-5.1.1 unnecessary spaces. Learn more at",
	    "550 5.1.1 https://support.google.com/mail/?p=NoSuchUser "
	    "d72si22370812qhc.8 - gsmtp" }, SR_DONE, 550,
	    "5.1.1 The email account that you tried to reach does not exist. "
	    "Please try double-checking the recipient's email address for typos "
	    "or unnecessary spaces. Learn more at "
	    "https://support.google.com/mail/?p=NoSuchUser d72si22370812qhc.8 - "
	    "gsmtp" },
	{ "continuation code alone", { "552-5.2.2 over quota", "552 5.2.2" },
	    SR_DONE, 552, "5.2.2 over quota" },
	{ "a different code stays", { "550-5.1.1 a", "550 5.7.1 b" }, SR_DONE,
	    550, "5.1.1 a 5.7.1 b" },
	{ "code-like prefix stays", { "550-5.1.1 a", "550 5.1.10 b" }, SR_DONE,
	    550, "5.1.1 a 5.1.10 b" },
	{ "code glued to text stays", { "550-5.1.1 a", "550 5.1.1b" }, SR_DONE,
	    550, "5.1.1 a 5.1.1b" },
	{ "first code after empty line", { "550-", "550-5.1.1 a", "550 5.1.1 b" },
	    SR_DONE, 550, "5.1.1 a b" },
	{ "no code on the first line", { "550-a", "550 5.1.1 b" }, SR_DONE, 550,
	    "a 5.1.1 b" },
	{ "single line keeps its code", { "550 5.1.1 5.1.1 x" }, SR_DONE, 550,
	    "5.1.1 5.1.1 x" },
};

static void
test_feeds(void)
{
	size_t i, j;

	for (i = 0; i < sizeof(feeds) / sizeof(feeds[0]); i++) {
		struct smtp_reply r;
		enum smtpreply_status st = SR_BAD;

		smtpreply_reset(&r);
		for (j = 0; j < MAXL && feeds[i].lines[j] != NULL; j++)
			st = smtpreply_feed(&r, feeds[i].lines[j],
			    strlen(feeds[i].lines[j]));
		is_int(st, feeds[i].want, "%s: status", feeds[i].name);
		if (feeds[i].want == SR_BAD)
			continue;
		is_int(r.code, feeds[i].code, "%s: code", feeds[i].name);
		is_str(r.text, feeds[i].text, "%s: text", feeds[i].name);
		is_int(r.tlen, strlen(feeds[i].text), "%s: tlen",
		    feeds[i].name);
	}
}

static void
test_binary(void)
{
	static const char line[] = "250 a\0b\r\nc";
	struct smtp_reply r;

	smtpreply_reset(&r);
	is_int(smtpreply_feed(&r, line, sizeof(line) - 1), SR_DONE,
	    "NUL, CR, LF inside: done");
	is_str(r.text, "abc", "NUL, CR, LF inside: dropped");
	smtpreply_reset(&r);
	is_int(smtpreply_feed(&r, "250 x", 3), SR_DONE,
	    "len is honoured: only the code");
	is_str(r.text, "", "len is honoured: no text");
}

static void
test_limits(void)
{
	static char big[SMTPREPLY_MAX_BYTES + 8];
	struct smtp_reply r;
	size_t used;
	int i, st = SR_MORE;

	/* Issue 9: real EHLO replies run past 64 lines; bytes bound them. */
	smtpreply_reset(&r);
	for (i = 0; i < 69; i++)
		st = smtpreply_feed(&r, "250-X-EXTENSION-KEYWORD", 23);
	is_int(st, SR_MORE, "69 continuation lines: more");
	is_int(smtpreply_feed(&r, "250 HELP", 8), SR_DONE, "70-line EHLO: done");
	is_int(r.nlines, 70, "70-line EHLO: 70 lines");

	/* 16 KiB of reply, CRLFs counted, and not one byte more. */
	memset(big, 'y', sizeof(big));
	memcpy(big, "250-", 4);
	smtpreply_reset(&r);
	for (used = 0; used + 1000 + 2 <= SMTPREPLY_MAX_BYTES; used += 1002)
		st = smtpreply_feed(&r, big, 1000);
	is_int(st, SR_MORE, "%zu bytes: more", used);
	big[3] = ' ';
	is_int(smtpreply_feed(&r, big, SMTPREPLY_MAX_BYTES - used - 2), SR_DONE,
	    "exactly %d bytes: done", SMTPREPLY_MAX_BYTES);
	is_int(r.bytes, SMTPREPLY_MAX_BYTES, "bytes counted with CRLF");
	smtpreply_reset(&r);
	big[3] = '-';
	for (used = 0; used + 1000 + 2 <= SMTPREPLY_MAX_BYTES; used += 1002)
		smtpreply_feed(&r, big, 1000);
	big[3] = ' ';
	is_int(smtpreply_feed(&r, big, SMTPREPLY_MAX_BYTES - used - 1), SR_BAD,
	    "one byte over %d: bad", SMTPREPLY_MAX_BYTES);
	smtpreply_reset(&r);
	is_int(smtpreply_feed(&r, big, SMTPREPLY_MAX_BYTES + 8), SR_BAD,
	    "one line over the bound: bad");
	smtpreply_reset(&r);
	for (i = 0; i < 10000 && st != SR_BAD; i++)
		st = smtpreply_feed(&r, "250-", 4);
	is_int(st, SR_BAD, "empty lines end too (%d lines)", i);
	ok(i <= SMTPREPLY_MAX_BYTES / 6 + 1, "empty lines: bounded by bytes");

	memset(big, 'y', 2000);
	memcpy(big, "250-", 4);
	smtpreply_reset(&r);
	is_int(smtpreply_feed(&r, big, 2000), SR_MORE, "long line: more");
	is_int(r.tlen, SAV_TEXT_MAX - 1, "long line: capped");
	is_int(strlen(r.text), SAV_TEXT_MAX - 1, "long line: NUL at the cap");
	is_int(smtpreply_feed(&r, "250 more", 8), SR_DONE, "after cap: done");
	is_int(strlen(r.text), SAV_TEXT_MAX - 1, "after cap: still capped");

	smtpreply_reset(&r);
	smtpreply_feed(&r, big, SAV_TEXT_MAX - 2 + 4);  /* 398 bytes of text */
	smtpreply_feed(&r, "250 zz", 6);
	is_int(strlen(r.text), SAV_TEXT_MAX - 2, "one byte left: no lone space");
	ok(r.text[strlen(r.text) - 1] == 'y', "one byte left: text unchanged");
}

static void
test_sanitise(void)
{
	char dst[8];

	is_int(smtp_sanitise(dst, sizeof(dst), "ab\x1b[0mcd", 8), 7,
	    "sanitise: escape dropped");
	is_str(dst, "ab[0mcd", "sanitise: text");
	is_int(smtp_sanitise(dst, 4, "abcdef", 6), 3, "sanitise: capped");
	is_str(dst, "abc", "sanitise: capped text");
	is_int(smtp_sanitise(dst, 1, "abc", 3), 0, "sanitise: cap 1");
	is_str(dst, "", "sanitise: cap 1 empty");
	is_int(smtp_sanitise(dst, 0, "abc", 3), 0, "sanitise: cap 0");
}

static const struct {
	int code;
	const char *text;
	int want;
} backoffs[] = {
	{ 421, "", 1 },
	{ 421, NULL, 1 },
	{ 421, "Service closing", 1 },
	{ 450, "Greylisted, try again later", 0 },
	{ 451, "4.7.1 Too many connections from your IP", 1 },
	{ 451, "too many CONCURRENT sessions", 1 },
	{ 452, "4.5.3 Too many recipients", 0 },
	{ 450, "Too many messages, try again later", 1 },
	{ 451, "Rate limited", 1 },
	{ 451, "ratelimit exceeded", 1 },
	{ 450, "You are sending too fast", 1 },
	{ 450, "Slow down", 1 },
	{ 451, "Throttled", 1 },
	{ 550, "5.7.1 Blocked - see https://example.net", 1 },
	{ 450, "blocked", 0 },
	{ 554, "Your IP is listed at zen.spamhaus.org", 1 },
	{ 554, "Blacklisted", 1 },
	{ 554, "on our blocklist", 1 },
	{ 554, "poor reputation", 1 },
	{ 550, "5.1.1 User unknown", 0 },
	{ 250, "rate limit", 0 },
	{ 354, "too many connections", 0 },
};

static void
test_backoff(void)
{
	size_t i;

	for (i = 0; i < sizeof(backoffs) / sizeof(backoffs[0]); i++)
		is_int(smtpreply_says_backoff(backoffs[i].code, backoffs[i].text),
		    backoffs[i].want, "backoff %d \"%s\"", backoffs[i].code,
		    backoffs[i].text ? backoffs[i].text : "(null)");
}

int
main(void)
{
	plan_no_plan();
	test_feeds();
	test_binary();
	test_limits();
	test_sanitise();
	test_backoff();
	return done_testing();
}
