/*
 * unit-mxlist.c - MX ordering, shuffling of equal preferences, duplicate
 * and null MX handling, name normalising, the cap, and the target filter.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "mxlist.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A small LCG: different seeds, different sequences. */
static unsigned
lcg(void *ctx)
{
	unsigned *s = ctx;

	*s = *s * 1103515245u + 12345u;
	return *s >> 8 | *s << 24;
}

static unsigned
zero(void *ctx)
{
	(void)ctx;
	return 0;
}

static void
test_order(void)
{
	static const struct mx_in in[] = {
		{ 30, "c.example" }, { 10, "a.example" }, { 20, "b.example" },
		{ 0, "z.example" },
	};
	struct mx_host out[8];
	unsigned seed = 1;
	int n = mxlist_build(in, N(in), out, N(out), lcg, &seed);

	is_int(n, 4, "order: four hosts");
	is_str(out[0].name, "z.example", "order: pref 0 first");
	is_str(out[1].name, "a.example", "order: pref 10 second");
	is_str(out[2].name, "b.example", "order: pref 20 third");
	is_str(out[3].name, "c.example", "order: pref 30 last");
	is_int(out[3].pref, 30, "order: pref kept");
	is_int(mxlist_build(in, 0, out, N(out), lcg, &seed), 0,
	    "order: empty answer: no hosts");
}

/*
 * Equal preferences come out in varying orders as rnd varies; different
 * preferences never change places.
 */
static void
test_shuffle(void)
{
	static const struct mx_in in[] = {
		{ 20, "late.example" }, { 10, "e1.example" }, { 10, "e2.example" },
		{ 5, "first.example" }, { 10, "e3.example" }, { 10, "e4.example" },
	};
	struct mx_host out[8];
	int firsts[4] = { 0, 0, 0, 0 }, orders = 0, bad = 0, i, n;
	char seen[64][8], cur[8];
	unsigned seed;

	for (seed = 1; seed <= 400; seed++) {
		unsigned s = seed * 2654435761u;

		n = mxlist_build(in, N(in), out, N(out), lcg, &s);
		if (n != 6 || strcmp(out[0].name, "first.example") != 0 ||
		    strcmp(out[5].name, "late.example") != 0)
			bad++;
		for (i = 1; i < 5; i++)
			if (out[i].pref != 10)
				bad++;
		if (out[1].name[0] == 'e' && out[1].name[1] >= '1' &&
		    out[1].name[1] <= '4')
			firsts[out[1].name[1] - '1']++;
		snprintf(cur, sizeof(cur), "%c%c%c%c", out[1].name[1],
		    out[2].name[1], out[3].name[1], out[4].name[1]);
		for (i = 0; i < orders; i++)
			if (strcmp(seen[i], cur) == 0)
				break;
		if (i == orders && orders < 64)
			strcpy(seen[orders++], cur);
	}
	is_int(bad, 0, "shuffle: different preferences never reordered");
	for (i = 0; i < 4; i++)
		ok(firsts[i] > 50, "shuffle: e%d comes first sometimes (%d/400)",
		    i + 1, firsts[i]);
	ok(orders >= 20, "shuffle: many different orders (%d of 24)", orders);
	n = mxlist_build(in, N(in), out, N(out), zero, NULL);
	is_int(n, 6, "shuffle: constant rnd still gives every host");
	is_str(out[0].name, "first.example", "shuffle: constant rnd keeps pref");
}

static void
test_dups(void)
{
	static const struct mx_in in[] = {
		{ 20, "mx.example" }, { 10, "MX.Example." }, { 10, "mx.example" },
		{ 30, "other.example" }, { 30, "OTHER.example" },
	};
	struct mx_host out[8];
	unsigned seed = 7;
	int n = mxlist_build(in, N(in), out, N(out), lcg, &seed);

	is_int(n, 2, "dups: one entry per name");
	is_str(out[0].name, "mx.example", "dups: name normalised");
	is_int(out[0].pref, 10, "dups: lowest preference kept");
	is_str(out[1].name, "other.example", "dups: second name");
}

static void
test_nullmx(void)
{
	static const struct {
		struct mx_in in[3];
		size_t n;
		int want;
		const char *name;
	} tab[] = {
		{ { { 0, "" } }, 1, MXLIST_NULLMX, "null MX \"\" alone" },
		{ { { 0, "." } }, 1, MXLIST_NULLMX, "null MX \".\" alone" },
		{ { { 10, "" } }, 1, MXLIST_NULLMX, "null MX with pref 10" },
		{ { { 0, "" }, { 0, "." } }, 2, MXLIST_NULLMX, "two null MX" },
		{ { { 0, "" }, { 10, "mx.example" } }, 2, 1,
		    "null MX mixed: ignored" },
		{ { { 10, "mx.example." }, { 0, "." } }, 2, 1,
		    "null MX mixed, after: ignored" },
		{ { { 0, "" }, { 10, "bad_name" } }, 2, 0,
		    "null MX with an invalid name: no hosts, not null MX" },
	};
	struct mx_host out[4];
	unsigned seed = 3;
	size_t i;
	int n;

	for (i = 0; i < N(tab); i++) {
		n = mxlist_build(tab[i].in, tab[i].n, out, N(out), lcg, &seed);
		is_int(n, tab[i].want, "nullmx: %s", tab[i].name);
		if (n == 1)
			is_str(out[0].name, "mx.example", "nullmx: %s: host",
			    tab[i].name);
	}
}

/* A test name must stay on one TAP line: control bytes become '?'. */
static const char *
vis(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && s[i] != '\0'; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static void
test_names(void)
{
	static char l63[80], l64[80], n253[300], n254[300];
	static const struct {
		const char *in;
		const char *want;       /* NULL: skipped */
	} tab[] = {
		{ "MX1.Example.NET.", "mx1.example.net" },
		{ "mx1.example.net", "mx1.example.net" },
		{ "localhost", "localhost" },
		{ "1-2.example", "1-2.example" },
		{ "123.example", "123.example" },
		{ "a.b..", NULL },
		{ "..", NULL },
		{ ".a.example", NULL },
		{ "a..example", NULL },
		{ "bad_name.example", NULL },
		{ "-a.example", NULL },
		{ "a-.example", NULL },
		{ "a b.example", NULL },
		{ "a\r\n.example", NULL },
		{ "caf\xc3\xa9.example", NULL },
		{ "mx.example/25", NULL },
		{ "[192.0.2.1]", NULL },
		{ l63, l63 },
		{ l64, NULL },
		{ n253, n253 },
		{ n254, NULL },
	};
	struct mx_host out[2];
	struct mx_in in;
	char name[41];
	size_t i;
	int n;

	memset(l63, 'a', 63);
	strcpy(l63 + 63, ".example");
	memset(l64, 'a', 64);
	strcpy(l64 + 64, ".example");
	for (i = 0; i < 253; i++)	/* "a.a.a....a": 253 characters */
		n253[i] = i % 2 ? '.' : 'a';
	n253[253] = '\0';
	memcpy(n254, n253, 253);
	strcpy(n254 + 253, "a");	/* last label "aa": 254 */
	for (i = 0; i < N(tab); i++) {
		in.pref = 10;
		in.name = tab[i].in;
		n = mxlist_build(&in, 1, out, N(out), zero, NULL);
		if (tab[i].want == NULL)
			is_int(n, 0, "names: %s (%zu bytes) skipped",
			    vis(tab[i].in, name, sizeof(name)),
			    strlen(tab[i].in));
		else
			ok(n == 1 && strcmp(out[0].name, tab[i].want) == 0,
			    "names: %s (%zu bytes) ok", vis(tab[i].in, name,
			    sizeof(name)), strlen(tab[i].in));
	}
	in.name = NULL;
	is_int(mxlist_build(&in, 1, out, N(out), zero, NULL), 0,
	    "names: NULL name skipped");
}

static void
test_cap(void)
{
	struct mx_in in[12];
	struct mx_host out[12];
	char names[12][16];
	unsigned seed = 5;
	size_t i;
	int n;

	for (i = 0; i < N(in); i++) {
		snprintf(names[i], sizeof(names[i]), "mx%zu.example", i);
		in[i].pref = (unsigned)(100 - i);
		in[i].name = names[i];
	}
	n = mxlist_build(in, N(in), out, 3, lcg, &seed);
	is_int(n, 3, "cap: at most cap hosts");
	is_str(out[0].name, "mx11.example", "cap: lowest preference kept 1");
	is_str(out[2].name, "mx9.example", "cap: lowest preference kept 3");
	is_int(mxlist_build(in, N(in), out, 0, lcg, &seed), 0, "cap 0: none");
	is_int(mxlist_build(in, N(in), NULL, 0, lcg, &seed), 0,
	    "cap 0, no output array: none");
}

/*
 * Every record counts, however many: the preferred one, last in wire
 * order, comes first (an answer from a 64 KB datagram holds ~4000).
 */
static void
test_many(void)
{
	static const size_t counts[] = { 65, 70, 1100, 4000 };
	struct mx_host out[5];

	for (size_t c = 0; c < N(counts); c++) {
		size_t n = counts[c];
		struct mx_in *in = calloc(n, sizeof(*in));
		char (*names)[32] = calloc(n, sizeof(*names));
		unsigned seed = 7;

		for (size_t i = 0; i < n; i++) {
			snprintf(names[i], sizeof(names[i]), "mx%zu.example", i);
			in[i].pref = i == n - 1 ? 5 : 20;
			in[i].name = names[i];
		}
		is_int(mxlist_build(in, n, out, N(out), lcg, &seed), 5,
		    "many: %zu records, cut to the cap after sorting", n);
		ok(strcmp(out[0].name, names[n - 1]) == 0 && out[0].pref == 5,
		    "many: %zu records, the preferred last one first", n);
		free(in);
		free(names);
	}
}

static void
parse_or_die(const char *s, struct netaddr *a)
{
	if (netaddr_parse(s, a) != 0) {
		printf("Bail out! cannot parse %s\n", s);
		exit(255);
	}
}

static void
test_targets(void)
{
	static const struct {
		const char *addr;
		enum target_check want;
	} tab[] = {
		{ "93.184.216.34", TGT_OK }, { "2a00:1450:4001::1", TGT_OK },
		{ "127.0.0.1", TGT_BOGUS }, { "::1", TGT_BOGUS },
		{ "10.1.2.3", TGT_BOGUS }, { "172.16.0.1", TGT_BOGUS },
		{ "192.168.1.1", TGT_BOGUS }, { "fd00::1", TGT_BOGUS },
		{ "169.254.1.1", TGT_BOGUS }, { "fe80::1", TGT_BOGUS },
		{ "100.64.0.1", TGT_BOGUS }, { "224.0.0.1", TGT_BOGUS },
		{ "ff02::1", TGT_BOGUS }, { "0.1.2.3", TGT_BOGUS },
		{ "240.0.0.1", TGT_BOGUS }, { "255.255.255.255", TGT_BOGUS },
		{ "192.0.2.1", TGT_BOGUS }, { "2001:db8::1", TGT_BOGUS },
		{ "::ffff:93.184.216.34", TGT_BOGUS },
		{ "203.0.113.9", TGT_OWN },       /* own wins over bogus */
		{ "198.51.100.1", TGT_BOGUS },
		{ "93.184.216.35", TGT_OWN },
		{ "2a00:1450:4001::2", TGT_OWN },
	};
	struct netaddr a, own[3];
	size_t i;

	parse_or_die("203.0.113.9", &own[0]);
	parse_or_die("93.184.216.35", &own[1]);
	parse_or_die("2a00:1450:4001::2", &own[2]);
	for (i = 0; i < N(tab); i++) {
		parse_or_die(tab[i].addr, &a);
		is_int(mx_target_check(&a, NULL, 0, own, N(own)), tab[i].want,
		    "target: %s", tab[i].addr);
	}
}

static void
test_allow(void)
{
	static const struct {
		const char *addr;
		enum target_check want;
	} tab[] = {
		{ "127.0.0.1", TGT_OK },          /* allow wins over bogus */
		{ "127.0.0.2", TGT_OK },
		{ "::1", TGT_OK },
		{ "93.184.216.35", TGT_OK },      /* allow wins over own */
		{ "203.0.113.9", TGT_OWN },       /* not in allow */
		{ "10.0.0.1", TGT_BOGUS },        /* not in allow */
		{ "93.184.216.34", TGT_OK },
	};
	static const char *nets[] = {
		"127.0.0.0/8", "::1/128", "93.184.216.35/32",
	};
	struct cidr allow[3];
	struct netaddr a, own[2];
	size_t i;

	for (i = 0; i < N(nets); i++)
		if (cidr_parse(nets[i], &allow[i]) != 0) {
			printf("Bail out! cannot parse %s\n", nets[i]);
			exit(255);
		}
	parse_or_die("203.0.113.9", &own[0]);
	parse_or_die("93.184.216.35", &own[1]);
	for (i = 0; i < N(tab); i++) {
		parse_or_die(tab[i].addr, &a);
		is_int(mx_target_check(&a, allow, N(allow), own, N(own)),
		    tab[i].want, "allow: %s", tab[i].addr);
	}
}

int
main(void)
{
	plan_no_plan();
	test_order();
	test_shuffle();
	test_dups();
	test_nullmx();
	test_names();
	test_cap();
	test_many();
	test_targets();
	test_allow();
	return done_testing();
}
