/*
 * address.c - RFC 5321/6531 mailbox parsing and normalising.
 *
 * Pure: no I/O, no locale (all case folding of our own is ASCII), no
 * allocation that outlives a call (libidn2 allocates its answer; it is
 * freed before we return).  Everything a client sends passes through here
 * before it can reach a cache key or the SMTP wire, so this file must
 * never accept a byte that could break an SMTP command line (CR, LF, NUL,
 * controls, invalid UTF-8) and must never write beyond the fixed buffers
 * of struct mailbox.  Domains leave this file as lower-case A-labels only:
 * cache keys, the wire and answers never see a U-label.
 *
 * Decisions beyond the RFC grammar (documented in doc/protocol.md):
 * - a domain needs at least two labels and its last label must not be all
 *   digits: savd verifies internet mail, and "user@localhost" or
 *   "user@192.168.1.1" are not internet addresses;
 * - a trailing dot on a domain ("example.com.") is rejected, not stripped;
 * - source routes ("<@a,@b:user@example.com>") are rejected;
 * - an empty local part, quoted ("\"\"@example.com") or not, is rejected;
 * - quoted local parts are kept as sent, quotes included (no attempt to
 *   unquote "abc"@example.com into abc@example.com);
 * - address literals: [IPv4] and [IPv6:...] only, nothing but hex digits,
 *   '.' and ':' inside, checked with inet_pton, kept with their brackets
 *   and lower-cased ("[ipv6:2001:db8::1]");
 * - UTF-8 (RFC 6531) in local parts, dot-string or quoted, kept as sent
 *   (no normalisation: the remote decides what its mailbox names mean);
 *   well-formed sequences only (RFC 3629: no overlongs, no surrogates,
 *   nothing past U+10FFFF) and no C1 controls (U+0080..U+009F);
 * - a domain with non-ASCII bytes is converted with libidn2 (IDNA 2008,
 *   UTS 46 non-transitional mapping, NFC input, so "BÜCHER.example" is
 *   "xn--bcher-kva.example"); what libidn2 refuses is a syntax error, and
 *   its answer must still pass the LDH rules above.  All-ASCII domains
 *   are only checked as LDH names (an xn-- label is not decoded).
 *
 * Limits: RFC 5321 4.5.3.1 allows 64 octets of local part and a path of
 * 256, but VERP, SRS and BATV senders run past 64 and MTAs (Exim's own
 * callout among them) do not enforce it, so an address that long must be
 * asked about, not answered `fail syntax`.  What does bind us is the
 * command line limit of 4.5.3.1.4, 512 octets with CRLF, which every
 * server must accept: ADDR_PATH_MAX (491) keeps our longest command,
 * "MAIL FROM:<path> SMTPUTF8" CRLF, within it, so that no remote can
 * refuse one of our commands for its length (a 500 "line too long" at
 * RCPT must never become `fail rejected`).  A local part has at most
 * ADDR_LOCAL_MAX (256) octets as written; the path is measured with the
 * domain as sent, in its A-label form.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#include "address.h"

#define DOMAIN_NAME_MAX 253     /* without a trailing dot */
#define LABEL_MAX       63
#define LITERAL_MAX     64      /* "[IPv6:" + 45 + "]" fits easily */

_Static_assert(ADDR_PATH_MAX + sizeof("MAIL FROM: SMTPUTF8\r\n") - 1 ==
    ADDR_SMTP_LINE, "our longest SMTP command must fit RFC 5321 4.5.3.1.4");
_Static_assert(ADDR_PATH_MAX - 2 < ADDR_BUF, "address_format's buffer");
_Static_assert(ADDR_INPUT_MAX >= ADDR_PATH_MAX, "input bound");

static int
ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 5322 atext. */
static int
is_atext(int c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/*
 * Length (2..4) of the well-formed UTF-8 sequence of a non-ASCII character
 * at s[0..len), or 0: RFC 3629's table, which leaves out overlongs (leads C0
 * and C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and anything past
 * U+10FFFF; C1 controls (C2 80..9F) are refused too (RFC 6531 excludes
 * them).
 */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xc2)
		lo = 0xa0;
	else if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Quoted-string local part starting at s[0] == '"'.  Returns the length up
 * to and including the closing quote, or 0 when malformed or empty.
 * qtextSMTP and quoted-pairSMTP of RFC 5321, with UTF-8 (RFC 6531).
 */
static size_t
scan_quoted(const unsigned char *s, size_t len)
{
	size_t i = 1, k;

	while (i < len) {
		if (s[i] == '"')
			return i > 1 ? i + 1 : 0;
		if (s[i] == '\\') {
			if (i + 1 >= len || s[i + 1] < 32 || s[i + 1] > 126)
				return 0;
			i += 2;
		} else if (s[i] >= 32 && s[i] <= 126)
			i++;
		else if (s[i] >= 0x80 && (k = utf8_seq(s + i, len - i)) > 0)
			i += k;
		else
			return 0;
	}
	return 0;
}

/* Dot-string local part: returns its length (stops at '@'), 0 if bad. */
static size_t
scan_dotstring(const unsigned char *s, size_t len)
{
	size_t i = 0, k;
	int dot = 1;            /* at the start or just after a '.' */

	while (i < len && s[i] != '@') {
		if (s[i] == '.') {
			if (dot)
				return 0;
			dot = 1;
			i++;
			continue;
		}
		if (s[i] >= 0x80) {
			if ((k = utf8_seq(s + i, len - i)) == 0)
				return 0;
			i += k;
		} else if (is_atext(s[i]))
			i++;
		else
			return 0;
		dot = 0;
	}
	return dot ? 0 : i;
}

/* One LDH label of n bytes; 1 when good. */
static int
label_ok(const unsigned char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* Domain name: see the decisions above.  Lower-cased into out. */
static int
parse_name(const unsigned char *s, size_t len, char *out)
{
	size_t i, start = 0, labels = 0, digits = 1;

	if (len == 0 || len > DOMAIN_NAME_MAX)
		return -1;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (!label_ok(s + start, i - start))
			return -1;
		labels++;
		start = i + 1;
	}
	for (start = len; start > 0 && s[start - 1] != '.'; start--)
		;
	for (i = start; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			digits = 0;
	if (labels < 2 || digits)
		return -1;
	for (i = 0; i < len; i++)
		out[i] = (char)ascii_lower(s[i]);
	out[len] = '\0';
	return 0;
}

/*
 * Address literal "[1.2.3.4]" or "[IPv6:...]"; lower-cased into out.
 * inet_pton reads a C string, so every byte between the brackets is
 * checked first: a NUL must not end the literal early and let the bytes
 * after it through.
 */
static int
parse_literal(const unsigned char *s, size_t len, char *out)
{
	char tmp[LITERAL_MAX];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t i;
	int af = AF_INET, skip = 0;

	if (len < 3 || len >= LITERAL_MAX || s[0] != '[' || s[len - 1] != ']')
		return -1;
	for (i = 0; i < len; i++)
		out[i] = (char)ascii_lower(s[i]);
	out[len] = '\0';
	if (len > 6 && memcmp(out, "[ipv6:", 6) == 0) {
		af = AF_INET6;
		skip = 5;
	}
	for (i = 1 + (size_t)skip; i < len - 1; i++)
		if (!strchr("0123456789abcdef.:", out[i]) || out[i] == '\0')
			return -1;
	memcpy(tmp, out + 1 + skip, len - 2 - skip);
	tmp[len - 2 - skip] = '\0';
	if (inet_pton(af, tmp, bin) != 1)
		return -1;
	return 0;
}

/*
 * A domain with non-ASCII bytes: well-formed UTF-8 and nothing in ASCII
 * but letters, digits, '-' and '.', then libidn2's A-label form, which
 * must pass parse_name like any other name.  Lower-cased into out.
 */
static int
parse_idn(const unsigned char *s, size_t len, char *out)
{
	char tmp[ADDR_INPUT_MAX + 1];
	uint8_t *alabel = NULL;
	size_t i = 0, k;
	int rc;

	if (len > ADDR_INPUT_MAX)
		return -1;
	while (i < len) {
		if (s[i] >= 0x80) {
			if ((k = utf8_seq(s + i, len - i)) == 0)
				return -1;
			i += k;
		} else if (is_alnum(s[i]) || s[i] == '-' || s[i] == '.')
			i++;
		else
			return -1;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (idn2_lookup_u8((const uint8_t *)tmp, &alabel,
	    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK) {
		idn2_free(alabel);
		return -1;
	}
	rc = parse_name(alabel, strlen((const char *)alabel), out);
	idn2_free(alabel);
	return rc;
}

/* A domain name, ASCII or with U-labels. */
static int
parse_domain(const unsigned char *s, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] >= 0x80)
			return parse_idn(s, len, out);
	return parse_name(s, len, out);
}

int
address_parse_domain(const char *s, size_t len, char *out)
{
	return parse_domain((const unsigned char *)s, len, out);
}

int
address_needs_smtputf8(const char *addr)
{
	const unsigned char *p;

	for (p = (const unsigned char *)addr; *p != '\0'; p++)
		if (*p >= 0x80)
			return 1;
	return 0;
}

/* local@domain without brackets; mb already cleared. */
static int
parse_mailbox(const unsigned char *s, size_t len, struct mailbox *mb)
{
	size_t llen, dlen, i;
	const unsigned char *dom;

	/* A source route starts with '@': an empty local part, rejected. */
	if (len > 0 && s[0] == '"')
		llen = scan_quoted(s, len);
	else
		llen = scan_dotstring(s, len);
	if (llen == 0 || llen > ADDR_LOCAL_MAX || llen >= len || s[llen] != '@')
		return -1;
	memcpy(mb->local, s, llen);
	mb->local[llen] = '\0';
	for (i = 0; i < llen; i++)
		if (s[i] >= 0x80)
			mb->utf8 = 1;
	dom = s + llen + 1;
	dlen = len - llen - 1;
	if (dlen > 0 && dom[0] == '[') {
		mb->literal = 1;
		if (parse_literal(dom, dlen, mb->domain) == -1)
			return -1;
	} else if (parse_domain(dom, dlen, mb->domain) == -1)
		return -1;
	/* The path as sent: "<" local "@" A-label ">". */
	if (llen + 1 + strlen(mb->domain) + 2 > ADDR_PATH_MAX)
		return -1;
	return 0;
}

int
address_parse(const char *str, size_t len, struct mailbox *mb)
{
	const unsigned char *s = (const unsigned char *)str;

	memset(mb, 0, sizeof(*mb));
	if (len == 0 || len > ADDR_INPUT_MAX)
		return -1;
	if (s[0] == '<') {
		if (len < 2 || s[len - 1] != '>')
			return -1;
		if (len == 2) {
			mb->null = 1;
			return 0;
		}
		return parse_mailbox(s + 1, len - 2, mb);
	}
	return parse_mailbox(s, len, mb);
}

void
address_format(const struct mailbox *mb, char *buf)
{
	size_t l, d;

	if (mb->null) {
		buf[0] = '\0';
		return;
	}
	l = strnlen(mb->local, ADDR_LOCAL_MAX);
	d = strnlen(mb->domain, ADDR_DOMAIN_MAX);
	memcpy(buf, mb->local, l);
	buf[l] = '@';
	memcpy(buf + l + 1, mb->domain, d);
	buf[l + 1 + d] = '\0';
}
