/*
 * dnscheck.c - the checks a raw DNS reply must pass before udns parses it
 * (doc/protocol.md 4d, DESIGN.md section 4).  udns 0.4's dns_getdn() lets a
 * 256-octet name overrun its 255-byte buffer, in its own question check
 * and in every stock parser; its CNAME walk takes a loop or an answer
 * about another name for NODATA.  So: names are measured here, with
 * compression pointers allowed only backwards (which rules out loops),
 * and the answer's CNAME chain is followed here.
 *
 * Must not: do I/O, allocate, or read a byte outside pkt[0..len).
 */
#include <stdint.h>
#include <string.h>

#include "dnscheck.h"

#define HDR             12
#define T_CNAME         5

struct rr {
	size_t owner;           /* offset of the owner name */
	unsigned type;
	size_t rdata, rdlen;    /* offset and length of the RDATA */
};

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/*
 * Read the name at *pos, whose inline part must end before `end`.  Every
 * compression pointer must point before the start of the labels it
 * follows, so offsets only go down and the walk ends.  out (NULL, or
 * DNSCHECK_NAME_MAX bytes) gets the wire form, lower-cased.  Returns the
 * length on the wire, or -1; *pos moves past the name as written.
 */
static int
name_read(const unsigned char *pkt, size_t len, size_t *pos, size_t end,
    unsigned char *out)
{
	size_t p = *pos, floor = *pos, total = 0;
	int jumped = 0;

	for (;;) {
		unsigned c;

		if (p >= (jumped ? len : end))
			return -1;
		c = pkt[p];
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (p + 1 >= (jumped ? len : end))
				return -1;
			to = (size_t)(c & 0x3f) << 8 | pkt[p + 1];
			if (to < HDR || to >= floor)
				return -1;
			if (!jumped)
				*pos = p + 2;
			jumped = 1;
			p = floor = to;
			continue;
		}
		if (c & 0xc0)           /* 0x40, 0x80: no such label types */
			return -1;
		if (total + c + 1 > DNSCHECK_NAME_MAX ||
		    p + c + 1 > (jumped ? len : end))
			return -1;
		if (out != NULL) {
			out[total] = (unsigned char)c;
			for (unsigned i = 1; i <= c; i++)
				out[total + i] = lower(pkt[p + i]);
		}
		total += c + 1;
		p += c + 1;
		if (c == 0)
			break;
	}
	if (!jumped)
		*pos = p;
	return (int)total;
}

/* Where the names sit inside the RDATA of the types that carry them. */
static const struct {
	unsigned type, skip, names;
} rdata_names[] = {
	{ 2, 0, 1 },    /* NS */
	{ 3, 0, 1 },    /* MD */
	{ 4, 0, 1 },    /* MF */
	{ 5, 0, 1 },    /* CNAME */
	{ 6, 0, 2 },    /* SOA: MNAME RNAME, then 20 octets */
	{ 7, 0, 1 },    /* MB */
	{ 8, 0, 1 },    /* MG */
	{ 9, 0, 1 },    /* MR */
	{ 12, 0, 1 },   /* PTR */
	{ 14, 0, 2 },   /* MINFO */
	{ 15, 2, 1 },   /* MX */
	{ 17, 0, 2 },   /* RP */
	{ 18, 2, 1 },   /* AFSDB */
	{ 21, 2, 1 },   /* RT */
	{ 26, 2, 2 },   /* PX */
	{ 33, 6, 1 },   /* SRV */
	{ 36, 2, 1 },   /* KX */
	{ 39, 0, 1 },   /* DNAME */
};

static int
rdata_ok(const unsigned char *pkt, size_t len, const struct rr *rr)
{
	size_t end = rr->rdata + rr->rdlen;

	for (size_t i = 0; i < sizeof(rdata_names) / sizeof(rdata_names[0]);
	    i++) {
		size_t p = rr->rdata + rdata_names[i].skip;

		if (rdata_names[i].type != rr->type)
			continue;
		if (p > end)
			return 0;
		for (unsigned k = 0; k < rdata_names[i].names; k++)
			if (name_read(pkt, len, &p, end, NULL) < 0)
				return 0;
		return 1;
	}
	return 1;
}

/* One resource record at *pos: its name, fixed part and RDATA fit. */
static int
rr_read(const unsigned char *pkt, size_t len, size_t *pos, struct rr *rr)
{
	rr->owner = *pos;
	if (name_read(pkt, len, pos, len, NULL) < 0 || len - *pos < 10)
		return 0;
	rr->type = get16(pkt + *pos);
	rr->rdlen = get16(pkt + *pos + 8);
	rr->rdata = *pos + 10;
	if (rr->rdlen > len - rr->rdata)
		return 0;
	*pos = rr->rdata + rr->rdlen;
	return 1;
}

int
dnscheck_packet(const unsigned char *pkt, size_t len, const char **why)
{
	const char *dummy;
	size_t pos = HDR;
	unsigned nq, nrr;
	struct rr rr;

	if (why == NULL)
		why = &dummy;
	*why = "shorter than a DNS header";
	if (len < HDR)
		return -1;
	nq = get16(pkt + 4);
	nrr = get16(pkt + 6) + get16(pkt + 8) + get16(pkt + 10);
	*why = "bad name in the question";
	for (unsigned i = 0; i < nq; i++) {
		if (name_read(pkt, len, &pos, len, NULL) < 0 || len - pos < 4)
			return -1;
		pos += 4;
	}
	for (unsigned i = 0; i < nrr; i++) {
		*why = "bad owner name or record length";
		if (!rr_read(pkt, len, &pos, &rr))
			return -1;
		*why = "bad name inside a record";
		if (!rdata_ok(pkt, len, &rr))
			return -1;
	}
	*why = "bytes after the last record";
	if (pos != len)
		return -1;
	*why = NULL;
	return 0;
}

/* Is name (wire form, lower-case) one of chain[0..n)? */
static int
in_chain(unsigned char chain[][DNSCHECK_NAME_MAX], size_t n,
    const unsigned char *name, int nlen)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(chain[i], name, (size_t)nlen) == 0)
			return 1;
	return 0;
}

/*
 * The answer record of `type` owned by `owner` (NULL: any owner not in
 * chain[0..n)), from the answer section at ans with an records.  Returns
 * 1 and fills *rr when there is one.
 */
static int
find_rr(const unsigned char *pkt, size_t len, size_t ans, unsigned an,
    unsigned type, const unsigned char *owner,
    unsigned char chain[][DNSCHECK_NAME_MAX], size_t n, struct rr *rr)
{
	unsigned char name[DNSCHECK_NAME_MAX];

	for (unsigned i = 0; i < an; i++) {
		size_t p;
		int nl;

		if (!rr_read(pkt, len, &ans, rr))
			return 0;
		p = rr->owner;
		nl = name_read(pkt, len, &p, len, name);
		if (owner != NULL && rr->type == type &&
		    memcmp(name, owner, (size_t)nl) == 0)
			return 1;
		if (owner == NULL && !in_chain(chain, n, name, nl))
			return 1;
	}
	return 0;
}

enum dnscheck_answer
dnscheck_answer(const unsigned char *pkt, size_t len)
{
	unsigned char chain[DNSCHECK_CHAIN_MAX + 1][DNSCHECK_NAME_MAX];
	unsigned char target[DNSCHECK_NAME_MAX];
	size_t pos = HDR, n = 1;
	unsigned an, qtype;
	struct rr rr;

	memset(chain, 0, sizeof(chain));        /* compared past short names */
	if (dnscheck_packet(pkt, len, NULL) < 0 || get16(pkt + 4) != 1)
		return DNSA_BAD;
	an = get16(pkt + 6);
	name_read(pkt, len, &pos, len, chain[0]);
	qtype = get16(pkt + pos);
	pos += 4;
	if (an == 0)
		return DNSA_NODATA;
	while (qtype != T_CNAME && find_rr(pkt, len, pos, an, T_CNAME,
	    chain[n - 1], chain, n, &rr)) {
		size_t p = rr.rdata;
		int tl = name_read(pkt, len, &p, rr.rdata + rr.rdlen, target);

		if (in_chain(chain, n, target, tl) || n > DNSCHECK_CHAIN_MAX)
			return DNSA_LOOP;
		memcpy(chain[n++], target, (size_t)tl);
	}
	if (find_rr(pkt, len, pos, an, qtype, chain[n - 1], chain, n, &rr))
		return DNSA_RECORDS;
	if (find_rr(pkt, len, pos, an, 0, NULL, chain, n, &rr))
		return DNSA_FOREIGN;
	return DNSA_NODATA;
}

const char *
dnscheck_answer_name(enum dnscheck_answer a)
{
	static const char *const names[] = { "records", "nodata",
	    "CNAME loop", "records about another name", "bad packet" };

	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] :
	    "?";
}
