/*
 * unit-dnscheck.c - crafted DNS replies against dnscheck_packet() (name
 * limits, compression pointers, counts) and dnscheck_answer() (CNAME
 * chains, loops, answers about another name).
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "dnscheck.h"

#define T_A     1
#define T_CNAME 5
#define T_SOA   6
#define T_MX    15

struct pkt {
	unsigned char b[4096];
	size_t n;
};

static void
put(struct pkt *p, const void *d, size_t n)
{
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

static void
put16(struct pkt *p, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(p, b, 2);
}

static void
hdr(struct pkt *p, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	p->n = 0;
	put16(p, 0x1234);
	put16(p, 0x8580);
	put16(p, qd);
	put16(p, an);
	put16(p, ns);
	put16(p, ar);
}

/* Labels of the given lengths ("a" repeated), then the root if root. */
static void
labels(struct pkt *p, const int *len, int root)
{
	unsigned char l[64];

	for (; *len > 0; len++) {
		l[0] = (unsigned char)*len;
		memset(l + 1, 'a', (size_t)*len);
		put(p, l, (size_t)*len + 1);
	}
	if (root)
		put(p, "", 1);
}

/* A dotted name, uncompressed. */
static void
name(struct pkt *p, const char *s)
{
	while (*s) {
		size_t n = strcspn(s, ".");
		unsigned char c = (unsigned char)n;

		put(p, &c, 1);
		put(p, s, n);
		s += n;
		if (*s == '.')
			s++;
	}
	put(p, "", 1);
}

static void
ptr(struct pkt *p, unsigned off)
{
	put16(p, 0xc000 | off);
}

static void
question(struct pkt *p, const char *q, unsigned type)
{
	name(p, q);
	put16(p, type);
	put16(p, 1);
}

/* Type, class, TTL and RDLENGTH after an owner name already written. */
static void
rr_fixed(struct pkt *p, unsigned type, unsigned rdlen)
{
	put16(p, type);
	put16(p, 1);
	put16(p, 0);
	put16(p, 300);
	put16(p, rdlen);
}

/* An MX record owned by `owner` (offset) whose target is `target`. */
static void
mx_rr(struct pkt *p, unsigned owner, const char *target)
{
	struct pkt t = { .n = 0 };

	name(&t, target);
	ptr(p, owner);
	rr_fixed(p, T_MX, 2 + (unsigned)t.n);
	put16(p, 10);
	put(p, t.b, t.n);
}

static void
cname_rr(struct pkt *p, const char *owner, const char *target)
{
	struct pkt t = { .n = 0 };

	name(&t, target);
	name(p, owner);
	rr_fixed(p, T_CNAME, (unsigned)t.n);
	put(p, t.b, t.n);
}

static int
check(const struct pkt *p)
{
	return dnscheck_packet(p->b, p->n, NULL);
}

static void
test_good(void)
{
	struct pkt p;
	const char *why = "unset";

	hdr(&p, 1, 2, 0, 0);
	question(&p, "example.test", T_MX);
	mx_rr(&p, 12, "mx1.example.test");
	mx_rr(&p, 12, "mx2.example.test");
	is_int(dnscheck_packet(p.b, p.n, &why), 0, "good: two MX records");
	ok(why == NULL, "good: no reason");
	is_int(dnscheck_packet(p.b, 11, &why), -1, "short: 11 bytes");
	ok(why != NULL, "short: a reason");
	hdr(&p, 0, 0, 0, 0);
	is_int(check(&p), 0, "good: a bare header");
}

/*
 * A question of 3 x 63-octet labels (193 octets on the wire), and an MX
 * whose target is one label of `label` octets and a pointer to it.
 */
static void
mx_through_ptr(struct pkt *p, int label)
{
	static const int l3x63[] = { 63, 63, 63, 0 };
	const int l[] = { label, 0 };

	hdr(p, 1, 1, 0, 0);
	labels(p, l3x63, 1);
	put16(p, T_MX);
	put16(p, 1);
	ptr(p, 12);
	rr_fixed(p, T_MX, 2 + (unsigned)label + 1 + 2);
	put16(p, 10);
	labels(p, l, 0);
	ptr(p, 12);
}

/* 255 octets on the wire is the limit, root byte included. */
static void
test_length(void)
{
	static const int l255[] = { 63, 63, 63, 61, 0 };
	static const int l256[] = { 63, 63, 63, 62, 0 };
	struct pkt p;

	hdr(&p, 1, 0, 0, 0);
	labels(&p, l255, 1);
	put16(&p, T_MX);
	put16(&p, 1);
	is_int(check(&p), 0, "length: 255-octet question name passes");
	hdr(&p, 1, 0, 0, 0);
	labels(&p, l256, 1);
	put16(&p, T_MX);
	put16(&p, 1);
	is_int(check(&p), -1, "length: 256-octet question name refused");

	mx_through_ptr(&p, 62);
	is_int(check(&p), -1, "length: 256-octet MX target through a "
	    "pointer refused");
	mx_through_ptr(&p, 61);
	is_int(check(&p), 0, "length: 255-octet MX target through a "
	    "pointer passes");
}

static void
test_labels(void)
{
	struct pkt p;
	unsigned char l[66];

	hdr(&p, 1, 0, 0, 0);
	l[0] = 64;
	memset(l + 1, 'a', 64);
	put(&p, l, 65);
	put(&p, "", 1);
	put16(&p, T_A);
	put16(&p, 1);
	is_int(check(&p), -1, "label: 64 octets refused");
	p.b[12] = 0x80;
	is_int(check(&p), -1, "label: type 0x80 refused");
	hdr(&p, 1, 0, 0, 0);
	labels(&p, (const int[]){ 63, 0 }, 1);
	put16(&p, T_A);
	put16(&p, 1);
	is_int(check(&p), 0, "label: 63 octets pass");
	hdr(&p, 1, 0, 0, 0);
	labels(&p, (const int[]){ 10, 0 }, 0);
	is_int(check(&p), -1, "label: runs past the end");
}

static void
test_pointers(void)
{
	struct pkt p;

	hdr(&p, 1, 1, 0, 0);
	question(&p, "example.test", T_MX);
	ptr(&p, (unsigned)p.n);                 /* points at itself */
	rr_fixed(&p, T_A, 4);
	put(&p, "\1\2\3\4", 4);
	is_int(check(&p), -1, "pointer: to itself refused");

	/* "a" then a pointer back to the "a": a two-step loop. */
	hdr(&p, 1, 1, 0, 0);
	question(&p, "example.test", T_MX);
	{
		size_t at = p.n;

		put(&p, "\1a", 2);
		ptr(&p, (unsigned)at);
	}
	rr_fixed(&p, T_A, 4);
	put(&p, "\1\2\3\4", 4);
	is_int(check(&p), -1, "pointer: loop through a label refused");

	hdr(&p, 1, 1, 0, 0);
	question(&p, "example.test", T_MX);
	ptr(&p, 4);
	rr_fixed(&p, T_A, 4);
	put(&p, "\1\2\3\4", 4);
	is_int(check(&p), -1, "pointer: into the header refused");

	hdr(&p, 1, 1, 0, 0);
	question(&p, "example.test", T_MX);
	ptr(&p, (unsigned)p.n + 2 + 10 + 4);    /* forward, to the rdata */
	rr_fixed(&p, T_A, 4);
	put(&p, "\0\2\3\4", 4);
	is_int(check(&p), -1, "pointer: forward refused");

	hdr(&p, 1, 0, 0, 0);
	put(&p, "\1a\xc0", 3);
	is_int(check(&p), -1, "pointer: cut off at the end");

	/* Pointers, each further back than the last: fine. */
	hdr(&p, 1, 1, 0, 0);
	question(&p, "example.test", T_MX);
	{
		size_t at = p.n;

		put(&p, "\3mx1", 4);
		ptr(&p, 12);
		rr_fixed(&p, T_CNAME, 6);
		put(&p, "\3www", 4);
		ptr(&p, (unsigned)at);
	}
	is_int(check(&p), 0, "pointer: a chain of backward pointers");
}

static void
test_counts(void)
{
	struct pkt p;

	hdr(&p, 1, 2, 0, 0);
	question(&p, "example.test", T_MX);
	mx_rr(&p, 12, "mx1.example.test");
	is_int(check(&p), -1, "counts: ANCOUNT 2, one record");
	hdr(&p, 1, 1, 0, 0);
	question(&p, "example.test", T_MX);
	mx_rr(&p, 12, "mx1.example.test");
	put(&p, "x", 1);
	is_int(check(&p), -1, "counts: a byte after the last record");
	hdr(&p, 1, 1, 0, 0);
	question(&p, "example.test", T_MX);
	mx_rr(&p, 12, "mx1.example.test");
	p.b[p.n - 19 - 2 - 1] = 60;     /* RDLENGTH past the end */
	is_int(check(&p), -1, "counts: RDLENGTH past the end");
	hdr(&p, 1, 0, 0, 1);
	question(&p, "example.test", T_MX);
	mx_rr(&p, 12, "mx1.example.test");
	is_int(check(&p), 0, "counts: a record in the additional section");
	hdr(&p, 2, 0, 0, 0);
	question(&p, "example.test", T_MX);
	is_int(check(&p), -1, "counts: QDCOUNT 2, one question");
}

static void
test_rdata(void)
{
	struct pkt p;

	/* An MX whose RDLENGTH ends inside its target name. */
	hdr(&p, 1, 1, 0, 0);
	question(&p, "example.test", T_MX);
	ptr(&p, 12);
	rr_fixed(&p, T_MX, 5);
	put16(&p, 10);
	put(&p, "\4mxmx", 5);
	p.n -= 2;
	is_int(check(&p), -1, "rdata: MX name past RDLENGTH");

	hdr(&p, 1, 1, 0, 0);
	question(&p, "example.test", T_MX);
	ptr(&p, 12);
	rr_fixed(&p, T_CNAME, 2);
	ptr(&p, (unsigned)p.n);
	is_int(check(&p), -1, "rdata: CNAME target pointing at itself");

	/* SOA with a good MNAME and a looping RNAME, in the authority. */
	hdr(&p, 1, 0, 1, 0);
	question(&p, "example.test", T_MX);
	ptr(&p, 12);
	rr_fixed(&p, T_SOA, 2 + 2 + 20);
	ptr(&p, 12);
	ptr(&p, (unsigned)p.n);
	memset(p.b + p.n, 0, 20);
	p.n += 20;
	is_int(check(&p), -1, "rdata: SOA RNAME loop");
	p.b[p.n - 22] = 0xc0;
	p.b[p.n - 21] = 12;
	is_int(check(&p), 0, "rdata: SOA with two good names");
}

/* Records at the end of a CNAME chain, loops, chains too long. */
static void
test_answer_chain(void)
{
	struct pkt p;
	char chain[DNSCHECK_CHAIN_MAX + 2][32];

	hdr(&p, 1, 1, 0, 0);
	question(&p, "example.test", T_MX);
	mx_rr(&p, 12, "mx1.example.test");
	is_int(dnscheck_answer(p.b, p.n), DNSA_RECORDS, "answer: MX");

	hdr(&p, 1, 2, 0, 0);
	question(&p, "a.test", T_MX);
	cname_rr(&p, "A.TEST", "b.test");
	name(&p, "b.test");
	rr_fixed(&p, T_MX, 2 + 2);
	put16(&p, 10);
	ptr(&p, 12);
	is_int(dnscheck_answer(p.b, p.n), DNSA_RECORDS,
	    "answer: CNAME (other case), then MX");

	hdr(&p, 1, 2, 0, 0);
	question(&p, "a.test", T_MX);
	cname_rr(&p, "a.test", "b.test");
	cname_rr(&p, "b.test", "a.test");
	is_int(dnscheck_answer(p.b, p.n), DNSA_LOOP, "answer: a->b->a loop");

	hdr(&p, 1, 1, 0, 0);
	question(&p, "a.test", T_MX);
	cname_rr(&p, "a.test", "a.test");
	is_int(dnscheck_answer(p.b, p.n), DNSA_LOOP, "answer: a->a loop");

	hdr(&p, 1, DNSCHECK_CHAIN_MAX + 1, 0, 0);
	question(&p, "c0.test", T_MX);
	for (int i = 0; i <= DNSCHECK_CHAIN_MAX + 1; i++)
		snprintf(chain[i], sizeof(chain[i]), "c%d.test", i);
	for (int i = 0; i <= DNSCHECK_CHAIN_MAX; i++)
		cname_rr(&p, chain[i], chain[i + 1]);
	is_int(dnscheck_answer(p.b, p.n), DNSA_LOOP,
	    "answer: a chain of %d CNAMEs is too long", DNSCHECK_CHAIN_MAX + 1);
	hdr(&p, 1, DNSCHECK_CHAIN_MAX, 0, 0);
	question(&p, "c0.test", T_MX);
	for (int i = 0; i < DNSCHECK_CHAIN_MAX; i++)
		cname_rr(&p, chain[i], chain[i + 1]);
	is_int(dnscheck_answer(p.b, p.n), DNSA_NODATA,
	    "answer: a chain of %d CNAMEs, no MX: NODATA", DNSCHECK_CHAIN_MAX);

}

/* Not NODATA: records about other names; NODATA: only a CNAME chain. */
static void
test_answer_other(void)
{
	struct pkt p;

	hdr(&p, 1, 1, 0, 0);
	question(&p, "example.test", T_MX);
	name(&p, "other.test");
	rr_fixed(&p, T_MX, 2 + 2);
	put16(&p, 10);
	ptr(&p, 12);
	is_int(dnscheck_answer(p.b, p.n), DNSA_FOREIGN,
	    "answer: MX about another name");

	hdr(&p, 1, 1, 0, 0);
	question(&p, "a.test", T_MX);
	cname_rr(&p, "a.test", "b.test");
	is_int(dnscheck_answer(p.b, p.n), DNSA_NODATA,
	    "answer: CNAME only: NODATA");

	hdr(&p, 1, 0, 0, 1);
	question(&p, "a.test", T_MX);
	mx_rr(&p, 12, "mx.other.test");
	is_int(dnscheck_answer(p.b, p.n), DNSA_NODATA,
	    "answer: empty answer section: NODATA");

	hdr(&p, 0, 0, 0, 0);
	is_int(dnscheck_answer(p.b, p.n), DNSA_BAD, "answer: no question");
	hdr(&p, 1, 0, 0, 0);
	labels(&p, (const int[]){ 63, 63, 63, 62, 0 }, 1);
	put16(&p, T_MX);
	put16(&p, 1);
	is_int(dnscheck_answer(p.b, p.n), DNSA_BAD, "answer: bad packet");
	ok(strcmp(dnscheck_answer_name(DNSA_LOOP), "CNAME loop") == 0,
	    "answer: names");
}

int
main(void)
{
	plan_no_plan();
	test_good();
	test_length();
	test_labels();
	test_pointers();
	test_counts();
	test_rdata();
	test_answer_chain();
	test_answer_other();
	return done_testing();
}
