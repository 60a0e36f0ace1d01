/*
 * record.c - the cache record (doc/cache-format.md): a small binary,
 * versioned, big-endian encoding, a strict decoder, freshness and the
 * lifetime policy of each verdict.
 *
 * Must not: do I/O, look at the clock (`now` is an argument), or trust a
 * stored byte: the cache file may be corrupt, old or hostile, and a record
 * that does not decode exactly is treated as absent by the caller.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "record.h"

/* Fixed part: version, result, reason, code, three times, two lengths. */
#define OFF_VERSION	0
#define OFF_RESULT	1
#define OFF_REASON	2
#define OFF_CODE	3
#define OFF_CREATED	5
#define OFF_EXPIRES	13
#define OFF_REFRESH	21
#define OFF_MXLEN	29
#define FIXED_LEN	33	/* OFF_MXLEN + mx length + text length */

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = (v >> 8) & 0xff;
	p[1] = v & 0xff;
}

static unsigned
get16(const unsigned char *p)
{
	return ((unsigned)p[0] << 8) | p[1];
}

static void
put64(unsigned char *p, long long v)
{
	unsigned long long u = (unsigned long long)v;
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = u & 0xff;
		u >>= 8;
	}
}

static long long
get64(const unsigned char *p)
{
	unsigned long long u = 0;
	int i;

	for (i = 0; i < 8; i++)
		u = (u << 8) | p[i];
	return (long long)u;	/* two's complement on every target we build */
}

static int
printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* The checks shared by encode and decode, on everything but the strings. */
static int
fields_valid(const struct record *r)
{
	if ((unsigned)r->result >= RES__COUNT ||
	    (unsigned)r->reason >= R__COUNT)
		return 0;
	if (r->code < 200 || r->code > 599)
		return 0;
	if (r->created < 0 || r->expires < r->created)
		return 0;
	if (r->refresh != 0 && r->refresh < r->created)
		return 0;
	return 1;
}

/*
 * A record that would not decode is not encoded either (returns 0), so
 * the cache never holds bytes its own reader refuses.
 */
size_t
record_encode(const struct record *r, unsigned char *buf, size_t cap)
{
	size_t mxlen = strnlen(r->mx, SAV_MX_MAX);
	size_t textlen = strnlen(r->text, SAV_TEXT_MAX);
	size_t len = FIXED_LEN + mxlen + textlen;
	unsigned char *p;

	if (mxlen >= SAV_MX_MAX || textlen >= SAV_TEXT_MAX)
		return 0;
	if (!fields_valid(r) || !printable(r->mx, mxlen) ||
	    !printable(r->text, textlen))
		return 0;
	if (len > cap || len > RECORD_MAX)
		return 0;
	buf[OFF_VERSION] = RECORD_VERSION;
	buf[OFF_RESULT] = (unsigned char)r->result;
	buf[OFF_REASON] = (unsigned char)r->reason;
	put16(buf + OFF_CODE, (unsigned)r->code);
	put64(buf + OFF_CREATED, r->created);
	put64(buf + OFF_EXPIRES, r->expires);
	put64(buf + OFF_REFRESH, r->refresh);
	p = buf + OFF_MXLEN;
	put16(p, (unsigned)mxlen);
	memcpy(p + 2, r->mx, mxlen);
	p += 2 + mxlen;
	put16(p, (unsigned)textlen);
	memcpy(p + 2, r->text, textlen);
	return len;
}

/* One length-prefixed string at *off into dst (room for max - 1 bytes). */
static int
get_string(const unsigned char *p, size_t len, size_t *off, char *dst,
    size_t max)
{
	size_t n;

	if (len - *off < 2)
		return -1;
	n = get16(p + *off);
	*off += 2;
	if (n >= max || n > len - *off)
		return -1;
	memcpy(dst, p + *off, n);
	dst[n] = '\0';
	if (!printable(dst, n))
		return -1;
	*off += n;
	return 0;
}

int
record_decode(const unsigned char *p, size_t len, struct record *r)
{
	struct record tmp;
	size_t off = OFF_MXLEN;

	if (p == NULL || len < FIXED_LEN || len > RECORD_MAX)
		return -1;
	if (p[OFF_VERSION] != RECORD_VERSION)
		return -1;
	memset(&tmp, 0, sizeof(tmp));
	if (p[OFF_RESULT] >= RES__COUNT || p[OFF_REASON] >= R__COUNT)
		return -1;
	tmp.result = (enum sav_result)p[OFF_RESULT];
	tmp.reason = (enum sav_reason)p[OFF_REASON];
	tmp.code = (int)get16(p + OFF_CODE);
	tmp.created = get64(p + OFF_CREATED);
	tmp.expires = get64(p + OFF_EXPIRES);
	tmp.refresh = get64(p + OFF_REFRESH);
	if (!fields_valid(&tmp))
		return -1;
	if (get_string(p, len, &off, tmp.mx, sizeof(tmp.mx)) == -1 ||
	    get_string(p, len, &off, tmp.text, sizeof(tmp.text)) == -1)
		return -1;
	if (off != len)
		return -1;
	*r = tmp;
	return 0;
}

int
record_fresh(const struct record *r, long long now)
{
	return now < r->expires;
}

int
record_stale(const struct record *r, long long now)
{
	return r->refresh != 0 && now >= r->refresh;
}

/* --- the cache rules (doc/protocol.md 4a, 3c) -------------------------------- */

static const char *const key_prefix[2][RK__COUNT] = {
	[RP_MX] = { [RK_ADDRESS] = "a:", [RK_DOMAIN] = "d:",
	    [RK_NOTCATCHALL] = "n:" },
	[RP_ROUTE] = { [RK_ADDRESS] = "ra:", [RK_DOMAIN] = "rd:",
	    [RK_NOTCATCHALL] = "rn:" },
};

size_t
record_key(enum record_kind k, enum record_path p, const char *name,
    char *buf, size_t cap)
{
	int n;

	if ((unsigned)k >= RK__COUNT || (unsigned)p > RP_ROUTE)
		return 0;
	n = snprintf(buf, cap, "%s%s", key_prefix[p][k], name);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static int
same_domain(const unsigned char *p, size_t n, const char *domain)
{
	return n == strlen(domain) && strncasecmp((const char *)p, domain,
	    n) == 0;
}

int
record_key_parse(const void *key, size_t n, enum record_kind *kind,
    enum record_path *path)
{
	for (int p = RP_MX; p <= RP_ROUTE; p++)
		for (int k = 0; k < RK__COUNT; k++) {
			size_t plen = strlen(key_prefix[p][k]);

			if (n > plen && memcmp(key, key_prefix[p][k],
			    plen) == 0) {
				*kind = (enum record_kind)k;
				*path = (enum record_path)p;
				return (int)plen;
			}
		}
	return -1;
}

int
record_key_in_domain(const void *key, size_t n, const char *domain)
{
	const unsigned char *p = key;
	enum record_kind kind;
	enum record_path path;
	int plen = record_key_parse(key, n, &kind, &path);

	if (plen < 0)
		return 0;
	if (kind != RK_ADDRESS)
		return same_domain(p + plen, n - (size_t)plen, domain);
	for (size_t i = n; i > (size_t)plen; i--)
		if (p[i - 1] == '@')
			return same_domain(p + i, n - i, domain);
	return 0;
}

/* Facts of DNS: they hold for every sender, path and address. */
static int
dns_fact(const struct verdict *v)
{
	if (v->result != RES_FAIL)
		return 0;
	return v->reason == R_NXDOMAIN || v->reason == R_NULLMX ||
	    v->reason == R_NOMX || v->reason == R_BOGUSMX;
}

int
record_domain_wide(const struct verdict *v)
{
	if (dns_fact(v))
		return 1;
	if (v->result == RES_UNKNOWN)
		return v->reason == R_CATCHALL || v->reason == R_BLOCKED;
	return v->result == RES_FAIL && v->reason == R_NULLSENDER;
}

unsigned
record_store_kinds(const struct verdict *v, unsigned flags, int default_sender)
{
	unsigned kinds = 0;

	if (v->source == SRC_POLICY || v->source == SRC_CACHE)
		return 0;       /* our configuration and limits, or known */
	if (dns_fact(v))
		return 1u << RK_DOMAIN;
	if (!default_sender)
		return 0;
	/* A backup MX that accepts everything says nothing about the
	 * domain: its domain-wide answers hold for the address alone. */
	if (record_domain_wide(v))
		return (flags & VF_PRIMARY) ? 1u << RK_DOMAIN :
		    1u << RK_ADDRESS;
	kinds = 1u << RK_ADDRESS;
	if (v->result == RES_OK && (flags & VF_NOTCATCHALL) &&
	    (flags & VF_PRIMARY))
		kinds |= 1u << RK_NOTCATCHALL;
	return kinds;
}

/* Domain records hold only the domain-wide facts. */
static unsigned
domain_ttl(const struct config *c, const struct verdict *v)
{
	if (!record_domain_wide(v))
		return 0;
	if (v->result == RES_UNKNOWN && v->reason == R_CATCHALL)
		return c->domain_positive_ttl;
	if (v->result == RES_UNKNOWN && v->reason == R_BLOCKED)
		return c->blocked_ttl;
	return c->domain_negative_ttl;
}

/*
 * Address records hold what was learnt about one address: the answer to
 * its RCPT, remote trouble for a short while, and (briefly, so that the
 * next question asks again) a domain-wide answer that came from a backup
 * MX.  Our own limits and deadlines (ratelimited, inprogress, overloaded)
 * and policy answers (null, syntax, skipped) are never stored at all.
 */
static unsigned
address_ttl(const struct config *c, const struct verdict *v)
{
	if (dns_fact(v))
		return 0;
	switch (v->result) {
	case RES_OK:
		return v->reason == R_ACCEPTED ? c->positive_ttl : 0;
	case RES_FAIL:
		if (v->reason == R_NULLSENDER)
			return c->tempfail_ttl;
		return v->reason == R_REJECTED ? c->negative_ttl : 0;
	case RES_DEFER:
		switch (v->reason) {
		case R_TEMPFAIL:
		case R_TIMEOUT:
		case R_UNREACHABLE:
		case R_DNSFAIL:
			return c->tempfail_ttl;
		default:
			return 0;
		}
	case RES_UNKNOWN:
		return v->reason == R_SKIPPED ? 0 : c->tempfail_ttl;
	default:
		return 0;
	}
}

unsigned
record_ttl(const struct config *c, const struct verdict *v,
    enum record_kind kind)
{
	switch (kind) {
	case RK_ADDRESS:
		return address_ttl(c, v);
	case RK_DOMAIN:
		return domain_ttl(c, v);
	case RK_NOTCATCHALL:
		return v->result == RES_OK && v->reason == R_ACCEPTED ?
		    c->domain_positive_ttl : 0;
	default:
		return 0;
	}
}

int
record_answers(enum record_kind kind, const struct record *r,
    const char *mail_from, int default_sender)
{
	if (r->reason == R_NULLSENDER && mail_from[0] != '\0')
		return 0;
	switch (kind) {
	case RK_DOMAIN:
		return 1;
	case RK_ADDRESS:
		return default_sender;
	default:                /* says what to ask, not what to answer */
		return 0;
	}
}

/* Is code of the class that result carries? */
static int
code_fits(enum sav_result res, int code)
{
	switch (res) {
	case RES_OK:
		return code / 100 == 2;
	case RES_FAIL:
		return code / 100 == 5;
	case RES_DEFER:
		return code / 100 == 4;
	case RES_UNKNOWN:
		return code / 100 == 2 || code / 100 == 5;
	default:
		return 0;
	}
}

int
record_plausible(const struct config *c, enum record_kind kind,
    const struct record *r, long long now)
{
	struct verdict v;
	unsigned ttl;

	memset(&v, 0, sizeof(v));
	v.result = r->result;
	v.reason = r->reason;
	v.source = SRC_CALLOUT;
	ttl = record_ttl(c, &v, kind);
	if (ttl == 0 || !code_fits(r->result, r->code))
		return 0;
	if (r->created > now + RECORD_CLOCK_SLACK)
		return 0;
	return r->expires - r->created <= (long long)ttl;
}

/* Copy at most max - 1 printable bytes of src; the rest is dropped. */
static void
copy_printable(char *dst, const char *src, size_t max)
{
	size_t i, j = 0;

	for (i = 0; i < max - 1 && src[i] != '\0'; i++)
		if ((unsigned char)src[i] >= 0x20 &&
		    (unsigned char)src[i] <= 0x7e)
			dst[j++] = src[i];
	dst[j] = '\0';
}

void
record_from_verdict(struct record *r, const struct verdict *v,
    const struct config *c, enum record_kind kind, long long now)
{
	unsigned ttl = record_ttl(c, v, kind);

	memset(r, 0, sizeof(*r));
	r->result = v->result;
	r->reason = v->reason;
	r->code = v->code;
	if (r->code < 200 || r->code > 599)
		r->code = verdict_default_code(v->result, v->reason);
	r->created = now;
	r->expires = now + ttl;
	/* Refresh early only when it comes before the entry expires anyway. */
	if (kind == RK_ADDRESS && v->result == RES_OK &&
	    c->positive_refresh > 0 &&
	    c->positive_refresh < ttl)
		r->refresh = now + c->positive_refresh;
	copy_printable(r->mx, v->mx, sizeof(r->mx));
	copy_printable(r->text, v->text, sizeof(r->text));
}

void
record_to_verdict(const struct record *r, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->result = r->result;
	v->reason = r->reason;
	v->code = r->code;
	v->source = SRC_CACHE;
	copy_printable(v->mx, r->mx, sizeof(v->mx));
	copy_printable(v->text, r->text, sizeof(v->text));
}

int
record_may_replace(const struct record *old, const struct record *incoming,
    long long now)
{
	if (old == NULL)
		return 1;
	return !(record_fresh(old, now) && old->result == RES_OK &&
	    incoming->result != RES_OK);
}

int
record_refresh_later(struct record *r, const struct config *c, long long now)
{
	if (r->result != RES_OK)
		return 0;
	r->refresh = now + c->positive_refresh < r->expires ?
	    now + c->positive_refresh : 0;
	return 1;
}
