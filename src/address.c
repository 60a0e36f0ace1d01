/*
 * address.c - RFC 5321 mailbox parsing, normalising and cache keys.
 *
 * Pure: no I/O, no allocation, no locale (all case folding is ASCII).
 * Everything a client sends passes through here before it can reach a
 * cache key or the SMTP wire, so this file must never accept a byte that
 * could break an SMTP command line (CR, LF, NUL, controls, 8-bit) and must
 * never write beyond the fixed buffers of struct mailbox.
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
 * - address literals: [IPv4] and [IPv6:...] only, checked with inet_pton,
 *   kept with their brackets and lower-cased ("[ipv6:2001:db8::1]");
 * - the whole path "<local@domain>" is at most 256 octets (RFC 5321
 *   4.5.3.1.3), so a bare address is at most 254.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "address.h"

#define DOMAIN_NAME_MAX 253     /* without a trailing dot */
#define LABEL_MAX       63
#define LITERAL_MAX     64      /* "[IPv6:" + 45 + "]" fits easily */

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
 * Quoted-string local part starting at s[0] == '"'.  Returns the length up
 * to and including the closing quote, or 0 when malformed or empty.
 */
static size_t
scan_quoted(const unsigned char *s, size_t len)
{
	size_t i = 1;

	while (i < len) {
		if (s[i] == '"')
			return i > 1 ? i + 1 : 0;
		if (s[i] == '\\') {
			if (i + 1 >= len || s[i + 1] < 32 || s[i + 1] > 126)
				return 0;
			i += 2;
		} else if (s[i] >= 32 && s[i] <= 126)
			i++;
		else
			return 0;
	}
	return 0;
}

/* Dot-string local part: returns its length (stops at '@'), 0 if bad. */
static size_t
scan_dotstring(const unsigned char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i] != '@'; i++) {
		if (s[i] == '.') {
			if (i == 0 || s[i - 1] == '.')
				return 0;
		} else if (!is_atext(s[i]))
			return 0;
	}
	if (i == 0 || s[i - 1] == '.')
		return 0;
	return i;
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

/* Address literal "[1.2.3.4]" or "[IPv6:...]"; lower-cased into out. */
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
	memcpy(tmp, out + 1 + skip, len - 2 - skip);
	tmp[len - 2 - skip] = '\0';
	if (inet_pton(af, tmp, bin) != 1)
		return -1;
	return 0;
}

int
address_parse_domain(const char *s, size_t len, char *out)
{
	return parse_name((const unsigned char *)s, len, out);
}

/* local@domain without brackets; mb already cleared. */
static int
parse_mailbox(const unsigned char *s, size_t len, struct mailbox *mb)
{
	size_t llen;
	const unsigned char *dom;
	size_t dlen;

	/* A source route starts with '@': an empty local part, rejected. */
	if (len > 0 && s[0] == '"')
		llen = scan_quoted(s, len);
	else
		llen = scan_dotstring(s, len);
	if (llen == 0 || llen > ADDR_LOCAL_MAX || llen >= len || s[llen] != '@')
		return -1;
	memcpy(mb->local, s, llen);
	mb->local[llen] = '\0';
	dom = s + llen + 1;
	dlen = len - llen - 1;
	if (dlen > 0 && dom[0] == '[') {
		mb->literal = 1;
		return parse_literal(dom, dlen, mb->domain);
	}
	return parse_name(dom, dlen, mb->domain);
}

int
address_parse(const char *str, size_t len, struct mailbox *mb)
{
	const unsigned char *s = (const unsigned char *)str;

	memset(mb, 0, sizeof(*mb));
	if (len > 0 && s[0] == '<') {
		if (len < 2 || s[len - 1] != '>' || len > ADDR_PATH_MAX)
			return -1;
		if (len == 2) {
			mb->null = 1;
			return 0;
		}
		return parse_mailbox(s + 1, len - 2, mb);
	}
	if (len == 0 || len + 2 > ADDR_PATH_MAX)
		return -1;
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

/*
 * The keys are NUL-terminated; the returned length does not count the NUL.
 * A key that does not fit in cap is never truncated (two addresses must
 * never share a key): 0 is returned and buf holds "" when cap > 0.
 */
size_t
address_key(const struct mailbox *mb, char *buf, size_t cap)
{
	char addr[ADDR_BUF];

	address_format(mb, addr);
	return address_key_str(addr, buf, cap);
}

size_t
address_key_str(const char *addr, char *buf, size_t cap)
{
	size_t n = strlen(addr);

	if (cap < n + 3) {
		if (cap > 0)
			buf[0] = '\0';
		return 0;
	}
	memcpy(buf, "a:", 2);
	memcpy(buf + 2, addr, n + 1);
	return n + 2;
}

/* The domain is lower-cased again here: callers may pass config values. */
size_t
address_domain_key(const char *domain, char *buf, size_t cap)
{
	size_t i, n = strlen(domain);

	if (cap < n + 3) {
		if (cap > 0)
			buf[0] = '\0';
		return 0;
	}
	memcpy(buf, "d:", 2);
	for (i = 0; i < n; i++)
		buf[2 + i] = (char)ascii_lower((unsigned char)domain[i]);
	buf[2 + n] = '\0';
	return n + 2;
}

int
address_key_in_domain(const void *key, size_t n, const char *domain)
{
	const unsigned char *p = key, *at = NULL;
	size_t dlen = strlen(domain), i;

	if (n < 2 || p[1] != ':')
		return 0;
	if (p[0] == 'd')
		return n - 2 == dlen &&
		    strncasecmp((const char *)p + 2, domain, dlen) == 0;
	if (p[0] != 'a')
		return 0;
	for (i = n; i > 2 && at == NULL; i--)
		if (p[i - 1] == '@')
			at = p + i - 1;
	if (at == NULL)
		return 0;
	at++;
	return (size_t)(p + n - at) == dlen &&
	    strncasecmp((const char *)at, domain, dlen) == 0;
}
