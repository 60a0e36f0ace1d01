/*
 * unit-record.c - the cache record: encoding bytes, strict decoding,
 * freshness, lifetimes per verdict and the replacement rule.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "record.h"

static struct config cfg;

static void
setup_config(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.positive_ttl = 86400;
	cfg.negative_ttl = 7200;
	cfg.tempfail_ttl = 300;
	cfg.domain_positive_ttl = 7 * 86400;
	cfg.domain_negative_ttl = 3 * 3600;
	cfg.positive_refresh = 12 * 3600;
	cfg.blocked_ttl = 3600;
}

static struct record
mkrec(enum sav_result res, enum sav_reason why, int code, long long created,
    long long expires, long long refresh, const char *mx, const char *text)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	r.result = res;
	r.reason = why;
	r.code = code;
	r.created = created;
	r.expires = expires;
	r.refresh = refresh;
	snprintf(r.mx, sizeof(r.mx), "%s", mx);
	snprintf(r.text, sizeof(r.text), "%s", text);
	return r;
}

static struct verdict
mkverdict(enum sav_result res, enum sav_reason why, int code)
{
	struct verdict v;

	memset(&v, 0, sizeof(v));
	v.result = res;
	v.reason = why;
	v.code = code;
	v.source = SRC_CALLOUT;
	return v;
}

/* The layout of doc/cache-format.md, byte for byte. */
static void
test_golden(void)
{
	static const unsigned char want[] = {
		1, RES_FAIL, R_REJECTED, 0x02, 0x26,
		0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00,
		0, 0, 0, 0, 0x65, 0x54, 0x0d, 0x20,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 3, 'm', 'x', '1',
		0, 2, 'n', 'o',
	};
	struct record r = mkrec(RES_FAIL, R_REJECTED, 550, 0x6553f100,
	    0x6553f100 + 7200, 0, "mx1", "no");
	unsigned char buf[RECORD_MAX];
	size_t n = record_encode(&r, buf, sizeof(buf));

	is_int(n, sizeof(want), "golden: length");
	ok(n == sizeof(want) && memcmp(buf, want, n) == 0,
	    "golden: bytes as documented");
}

static void
test_roundtrip(void)
{
	char longmx[SAV_MX_MAX], longtext[SAV_TEXT_MAX];
	struct record tab[5];
	unsigned char buf[RECORD_MAX];
	struct record out;
	size_t i, n;

	memset(longmx, 'm', sizeof(longmx) - 1);
	longmx[sizeof(longmx) - 1] = '\0';
	memset(longtext, 't', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	tab[0] = mkrec(RES_OK, R_ACCEPTED, 250, 1700000000, 1700086400,
	    1700043200, "mx.example.net[192.0.2.1]", "2.1.5 ok");
	tab[1] = mkrec(RES_FAIL, R_REJECTED, 550, 1, 2, 0, "",
	    "5.1.1 <bob@example.net>: \"User\" \\unknown");
	tab[2] = mkrec(RES_UNKNOWN, R_CATCHALL, 250, 0, 0, 0, "", "");
	tab[3] = mkrec(RES_DEFER, R_TEMPFAIL, 451, 5, 5, 0, longmx, longtext);
	tab[4] = mkrec(RES_UNKNOWN, R_BLOCKED, 554, 0x7fffffffffffffffLL - 1,
	    0x7fffffffffffffffLL, 0, "a[::1]", "~ !");
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		n = record_encode(&tab[i], buf, sizeof(buf));
		ok(n > 0 && n <= RECORD_MAX, "roundtrip %zu: encodes", i);
		memset(&out, 0xa5, sizeof(out));
		is_int(record_decode(buf, n, &out), 0, "roundtrip %zu: decodes", i);
		ok(out.result == tab[i].result && out.reason == tab[i].reason &&
		    out.code == tab[i].code, "roundtrip %zu: result reason code",
		    i);
		ok(out.created == tab[i].created &&
		    out.expires == tab[i].expires &&
		    out.refresh == tab[i].refresh, "roundtrip %zu: times", i);
		is_str(out.mx, tab[i].mx, "roundtrip %zu: mx", i);
		is_str(out.text, tab[i].text, "roundtrip %zu: text", i);
	}
}

static void
test_encode_refuses(void)
{
	struct record good = mkrec(RES_OK, R_ACCEPTED, 250, 10, 20, 0, "m", "t");
	struct record tab[8];
	unsigned char buf[RECORD_MAX];
	size_t i, n = record_encode(&good, buf, sizeof(buf));

	is_int(record_encode(&good, buf, n - 1), 0, "encode: cap one short");
	is_int(record_encode(&good, buf, n), n, "encode: exact cap");
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		tab[i] = good;
	tab[0].code = 199;
	tab[1].code = 600;
	tab[2].expires = 9;
	tab[3].result = RES__COUNT;
	tab[4].reason = R__COUNT;
	tab[5].text[0] = '\n';
	tab[6].mx[0] = '\x7f';
	memset(tab[7].text, 'x', sizeof(tab[7].text));	/* no NUL */
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		is_int(record_encode(&tab[i], buf, sizeof(buf)), 0,
		    "encode: invalid record %zu refused", i);
}

/* Patch one byte of a valid encoding and expect the decoder to refuse. */
static void
test_decode_refuses(void)
{
	static const struct {
		size_t off;
		unsigned char val;
		const char *name;
	} tab[] = {
		{ 0, 0, "version 0" },
		{ 0, 2, "version 2" },
		{ 1, RES__COUNT, "result out of range" },
		{ 2, R__COUNT, "reason out of range" },
		{ 2, 0xff, "reason 255" },
		{ 3, 0x00, "code 38" },
		{ 4, 0x58, "code 600" },
		{ 5, 0x80, "negative created" },
		{ 12, 0xff, "expires before created" },
		{ 21, 0x80, "negative refresh" },
		{ 28, 0x01, "refresh before created" },
		{ 30, 0x09, "mx length past the end" },
		{ 29, 0x01, "mx length 256+n" },
		{ 31, '\t', "tab in mx" },
		{ 34, 0x80, "high byte in text" },
		{ 35, 0x00, "NUL in text" },
		{ 33, 0x01, "text length one short" },
		{ 33, 0x03, "text length past the end" },
	};
	struct record good = mkrec(RES_FAIL, R_REJECTED, 550, 100, 200, 150,
	    "m", "xy");
	unsigned char buf[RECORD_MAX + 8], bad[RECORD_MAX + 8];
	struct record out;
	size_t i, n = record_encode(&good, buf, sizeof(buf));

	is_int(n, 36, "decode: sample is 36 bytes");
	is_int(record_decode(buf, n, &out), 0, "decode: sample decodes");
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		memcpy(bad, buf, n);
		bad[tab[i].off] = tab[i].val;
		is_int(record_decode(bad, n, &out), -1, "decode: %s",
		    tab[i].name);
	}
	for (i = 0; i < n; i++)
		if (record_decode(buf, i, &out) != -1)
			break;
	is_int(i, n, "decode: every truncation refused");
	memcpy(bad, buf, n);
	bad[n] = 0;
	is_int(record_decode(bad, n + 1, &out), -1, "decode: trailing byte");
	is_int(record_decode(NULL, 0, &out), -1, "decode: NULL");
}

/* mx or text length at the limit: no room for the NUL, refused. */
static void
test_decode_limits(void)
{
	unsigned char buf[33 + SAV_TEXT_MAX + 8];
	struct record out;
	size_t n;

	memset(buf, 0, sizeof(buf));
	buf[0] = 1;
	buf[1] = RES_OK;
	buf[2] = R_ACCEPTED;
	buf[3] = 0;
	buf[4] = 250;
	buf[29] = SAV_MX_MAX >> 8;
	buf[30] = SAV_MX_MAX & 0xff;
	memset(buf + 31, 'a', SAV_MX_MAX);
	n = 31 + SAV_MX_MAX + 2;
	is_int(record_decode(buf, n, &out), -1, "decode: mx of SAV_MX_MAX");
	buf[30] = (SAV_MX_MAX - 1) & 0xff;
	buf[31 + SAV_MX_MAX - 1] = 0;	/* text length 0 */
	buf[31 + SAV_MX_MAX] = 0;
	n--;
	is_int(record_decode(buf, n, &out), 0, "decode: mx of SAV_MX_MAX-1");
	memset(buf + 29, 0, 4);
	buf[31] = SAV_TEXT_MAX >> 8;
	buf[32] = SAV_TEXT_MAX & 0xff;
	memset(buf + 33, 'b', SAV_TEXT_MAX);
	is_int(record_decode(buf, 33 + SAV_TEXT_MAX, &out), -1,
	    "decode: text of SAV_TEXT_MAX");
	buf[32] = (SAV_TEXT_MAX - 1) & 0xff;
	is_int(record_decode(buf, 33 + SAV_TEXT_MAX - 1, &out), 0,
	    "decode: text of SAV_TEXT_MAX-1");
}

/*
 * Hostile bytes never crash, and whatever decodes is canonical: it
 * encodes back to the very same bytes.
 */
static void
test_fuzz(void)
{
	struct record good = mkrec(RES_OK, R_ACCEPTED, 250, 100, 200, 150,
	    "mx[1.2.3.4]", "ok");
	unsigned char buf[RECORD_MAX], bad[RECORD_MAX], again[RECORD_MAX];
	struct record out;
	size_t n = record_encode(&good, buf, sizeof(buf)), len, m;
	int i, noncanon = 0, accepted = 0;

	srand(1);
	for (i = 0; i < 200000; i++) {
		memcpy(bad, buf, n);
		len = n;
		if (i & 1)
			bad[rand() % n] ^= (unsigned char)(1 << (rand() % 8));
		else {
			len = (size_t)rand() % sizeof(bad);
			for (m = 0; m < len; m++)
				bad[m] = (unsigned char)rand();
			if (len > 0)
				bad[0] = 1;
		}
		if (record_decode(bad, len, &out) != 0)
			continue;
		accepted++;
		m = record_encode(&out, again, sizeof(again));
		if (m != len || memcmp(again, bad, len) != 0)
			noncanon++;
	}
	ok(accepted > 0, "fuzz: some mutations still decode (%d)", accepted);
	is_int(noncanon, 0, "fuzz: every decoded record is canonical");
}

static void
test_fresh_stale(void)
{
	struct record r = mkrec(RES_OK, R_ACCEPTED, 250, 100, 200, 150, "", "");
	struct record n = mkrec(RES_FAIL, R_REJECTED, 550, 100, 200, 0, "", "");

	ok(record_fresh(&r, 100), "fresh at created");
	ok(record_fresh(&r, 199), "fresh just before expires");
	ok(!record_fresh(&r, 200), "gone at expires");
	ok(!record_fresh(&r, 1000), "gone after expires");
	ok(!record_stale(&r, 149), "not stale before refresh");
	ok(record_stale(&r, 150), "stale at refresh");
	ok(!record_stale(&n, 199), "no refresh point: never stale");
}

static void
test_domain_wide(void)
{
	static const struct {
		enum sav_result res;
		enum sav_reason why;
		int want;
	} tab[] = {
		{ RES_UNKNOWN, R_CATCHALL, 1 },
		{ RES_UNKNOWN, R_BLOCKED, 1 },
		{ RES_FAIL, R_NULLSENDER, 1 },
		{ RES_FAIL, R_NXDOMAIN, 1 },
		{ RES_FAIL, R_NULLMX, 1 },
		{ RES_FAIL, R_NOMX, 1 },
		{ RES_FAIL, R_BOGUSMX, 1 },
		{ RES_UNKNOWN, R_SKIPPED, 0 },
		{ RES_FAIL, R_REJECTED, 0 },
		{ RES_FAIL, R_SYNTAX, 0 },
		{ RES_OK, R_ACCEPTED, 0 },
		{ RES_DEFER, R_DNSFAIL, 0 },
		{ RES_DEFER, R_CATCHALL, 0 },	/* inconsistent pair */
	};
	struct verdict v;
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		v = mkverdict(tab[i].res, tab[i].why, 250);
		is_int(record_domain_wide(&v), tab[i].want,
		    "domain_wide %zu (%d/%d)", i, tab[i].res, tab[i].why);
	}
}

static void
test_ttl(void)
{
	static const struct {
		enum sav_result res;
		enum sav_reason why;
		unsigned addr;          /* which config field, or 0 */
		unsigned dom;
		unsigned notca;
	} tab[] = {
#define POS 1
#define NEG 2
#define TMP 3
#define DPOS 4
#define DNEG 5
#define BLK 6
		{ RES_OK, R_ACCEPTED, POS, 0, DPOS },
		{ RES_OK, R_NULL, 0, 0, 0 },
		{ RES_FAIL, R_REJECTED, NEG, 0, 0 },
		{ RES_FAIL, R_SYNTAX, 0, 0, 0 },
		/* from a backup MX: for the address alone, briefly */
		{ RES_FAIL, R_NULLSENDER, TMP, DNEG, 0 },
		{ RES_FAIL, R_NXDOMAIN, 0, DNEG, 0 },
		{ RES_FAIL, R_NULLMX, 0, DNEG, 0 },
		{ RES_FAIL, R_NOMX, 0, DNEG, 0 },
		{ RES_FAIL, R_BOGUSMX, 0, DNEG, 0 },
		{ RES_DEFER, R_TEMPFAIL, TMP, 0, 0 },
		{ RES_DEFER, R_TIMEOUT, TMP, 0, 0 },
		{ RES_DEFER, R_UNREACHABLE, TMP, 0, 0 },
		{ RES_DEFER, R_DNSFAIL, TMP, 0, 0 },
		{ RES_DEFER, R_RATELIMITED, 0, 0, 0 },
		{ RES_DEFER, R_INPROGRESS, 0, 0, 0 },
		{ RES_DEFER, R_OVERLOADED, 0, 0, 0 },
		{ RES_UNKNOWN, R_CATCHALL, TMP, DPOS, 0 },
		{ RES_UNKNOWN, R_BLOCKED, TMP, BLK, 0 },
		{ RES_UNKNOWN, R_MAILBOXFULL, TMP, 0, 0 },
		{ RES_UNKNOWN, R_SMTPUTF8, TMP, 0, 0 },
		{ RES_UNKNOWN, R_SKIPPED, 0, 0, 0 },
		{ RES_ERROR, R_INTERNAL, 0, 0, 0 },
		{ RES_ERROR, R_BADREQUEST, 0, 0, 0 },
	};
	unsigned val[7];
	struct verdict v;
	size_t i;

	val[0] = 0;
	val[POS] = cfg.positive_ttl;
	val[NEG] = cfg.negative_ttl;
	val[TMP] = cfg.tempfail_ttl;
	val[DPOS] = cfg.domain_positive_ttl;
	val[DNEG] = cfg.domain_negative_ttl;
	val[BLK] = cfg.blocked_ttl;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		v = mkverdict(tab[i].res, tab[i].why, 450);
		is_int(record_ttl(&cfg, &v, RK_ADDRESS), val[tab[i].addr],
		    "ttl address %s %s", verdict_result_name(tab[i].res),
		    verdict_reason_name(tab[i].why));
		is_int(record_ttl(&cfg, &v, RK_DOMAIN), val[tab[i].dom],
		    "ttl domain %s %s", verdict_result_name(tab[i].res),
		    verdict_reason_name(tab[i].why));
		is_int(record_ttl(&cfg, &v, RK_NOTCATCHALL), val[tab[i].notca],
		    "ttl not-catch-all %s %s", verdict_result_name(tab[i].res),
		    verdict_reason_name(tab[i].why));
	}
}

/* doc/protocol.md 4c: which records a verdict from the network makes. */
static void
test_store_kinds(void)
{
#define KA (1u << RK_ADDRESS)
#define KD (1u << RK_DOMAIN)
#define KN (1u << RK_NOTCATCHALL)
	static const struct {
		enum sav_result res;
		enum sav_reason why;
		enum sav_source src;
		unsigned flags;
		int dflt;
		unsigned want;
		const char *name;
	} tab[] = {
		{ RES_OK, R_ACCEPTED, SRC_CALLOUT, VF_PRIMARY, 1, KA,
		    "ok from the primary MX, no probe: address" },
		{ RES_OK, R_ACCEPTED, SRC_CALLOUT, VF_PRIMARY | VF_NOTCATCHALL,
		    1, KA | KN, "ok, probe refused at the primary: not catch-all" },
		{ RES_OK, R_ACCEPTED, SRC_CALLOUT, VF_NOTCATCHALL, 1, KA,
		    "probe refused at a backup MX says nothing of the domain" },
		{ RES_UNKNOWN, R_CATCHALL, SRC_CALLOUT, VF_PRIMARY, 1, KD,
		    "catch-all at the primary MX: domain record" },
		{ RES_UNKNOWN, R_CATCHALL, SRC_CALLOUT, 0, 1, KA,
		    "catch-all at a backup MX: the address alone" },
		{ RES_UNKNOWN, R_BLOCKED, SRC_CALLOUT, VF_PRIMARY, 1, KD,
		    "blocked by the primary MX: domain record" },
		{ RES_UNKNOWN, R_BLOCKED, SRC_CALLOUT, 0, 1, KA,
		    "blocked by a backup MX: the address alone" },
		{ RES_UNKNOWN, R_BLOCKED, SRC_CACHE, VF_PRIMARY, 1, 0,
		    "a known block is not stored again" },
		{ RES_FAIL, R_NULLSENDER, SRC_CALLOUT, VF_PRIMARY, 1, KD,
		    "<> refused by the primary MX: domain record" },
		{ RES_FAIL, R_NULLSENDER, SRC_CALLOUT, 0, 1, KA,
		    "<> refused by a backup MX: the address alone" },
		{ RES_FAIL, R_REJECTED, SRC_CALLOUT, VF_PRIMARY, 1, KA,
		    "rejected: address" },
		{ RES_FAIL, R_REJECTED, SRC_CALLOUT, VF_PRIMARY, 0, 0,
		    "another MAIL FROM: nothing" },
		{ RES_FAIL, R_NXDOMAIN, SRC_DNS, 0, 0, KD,
		    "DNS facts hold for every sender" },
		{ RES_DEFER, R_RATELIMITED, SRC_POLICY, 0, 1, 0,
		    "our own limits: nothing" },
		{ RES_UNKNOWN, R_MAILBOXFULL, SRC_CALLOUT, VF_PRIMARY, 1, KA,
		    "mailbox full: address" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct verdict v = mkverdict(tab[i].res, tab[i].why, 250);

		v.source = tab[i].src;
		is_int(record_store_kinds(&v, tab[i].flags, tab[i].dflt),
		    tab[i].want, "store: %s", tab[i].name);
	}
}

/* Which fresh records may answer which question. */
static void
test_answers(void)
{
	static const struct {
		enum record_kind kind;
		enum sav_result res;
		enum sav_reason why;
		const char *from;
		int dflt;
		int want;
		const char *name;
	} tab[] = {
		{ RK_DOMAIN, RES_UNKNOWN, R_CATCHALL, "", 1, 1,
		    "domain catch-all answers" },
		{ RK_DOMAIN, RES_FAIL, R_NULLSENDER, "", 1, 1,
		    "refuses <>: answers the null sender" },
		{ RK_DOMAIN, RES_FAIL, R_NULLSENDER, "a@b.example", 0, 0,
		    "refuses <>: not another sender" },
		{ RK_DOMAIN, RES_FAIL, R_NXDOMAIN, "a@b.example", 0, 1,
		    "nxdomain answers any sender" },
		{ RK_ADDRESS, RES_OK, R_ACCEPTED, "", 1, 1,
		    "address record answers the configured sender" },
		{ RK_ADDRESS, RES_OK, R_ACCEPTED, "a@b.example", 0, 0,
		    "address record is silent for another sender" },
		{ RK_ADDRESS, RES_FAIL, R_NULLSENDER, "bounce@b.example", 1, 0,
		    "address <> refusal: not for a configured non-null sender" },
		{ RK_NOTCATCHALL, RES_OK, R_ACCEPTED, "", 1, 0,
		    "not-catch-all never answers a question" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct record r = mkrec(tab[i].res, tab[i].why, 250, 0, 10, 0,
		    "", "");

		is_int(record_answers(tab[i].kind, &r, tab[i].from,
		    tab[i].dflt), tab[i].want, "answers: %s", tab[i].name);
	}
}

/* Records that decode but mean nothing are misses (issue 9 item 12). */
static void
test_plausible(void)
{
	static const struct {
		enum record_kind kind;
		enum sav_result res;
		enum sav_reason why;
		int code;
		long long created, expires;
		int want;
		const char *name;
	} tab[] = {
		{ RK_ADDRESS, RES_OK, R_ACCEPTED, 250, 1000, 1000 + 86400, 1,
		    "ok accepted within positive_ttl" },
		{ RK_ADDRESS, RES_OK, R_REJECTED, 550, 1000, 2000, 0,
		    "ok rejected is no pair of the vocabulary" },
		{ RK_ADDRESS, RES_OK, R_ACCEPTED, 550, 1000, 2000, 0,
		    "ok with a 5xx code" },
		{ RK_ADDRESS, RES_FAIL, R_REJECTED, 250, 1000, 2000, 0,
		    "fail with a 2xx code" },
		{ RK_ADDRESS, RES_DEFER, R_TEMPFAIL, 451, 1000, 1300, 1,
		    "defer tempfail within tempfail_ttl" },
		{ RK_ADDRESS, RES_DEFER, R_TEMPFAIL, 451, 1000, 1301, 0,
		    "defer tempfail beyond tempfail_ttl" },
		{ RK_DOMAIN, RES_UNKNOWN, R_CATCHALL, 250, 1000,
		    1000 + 10LL * 365 * 86400, 0,
		    "a domain record expiring in ten years" },
		{ RK_DOMAIN, RES_FAIL, R_NXDOMAIN, 550, 1000, 1000 + 3 * 3600, 1,
		    "nxdomain within domain_negative_ttl" },
		{ RK_DOMAIN, RES_OK, R_ACCEPTED, 250, 1000, 2000, 0,
		    "ok is not a domain record" },
		{ RK_DOMAIN, RES_UNKNOWN, R_SKIPPED, 250, 1000, 2000, 0,
		    "skipped is never stored" },
		{ RK_NOTCATCHALL, RES_OK, R_ACCEPTED, 250, 1000, 2000, 1,
		    "not-catch-all record" },
		{ RK_ADDRESS, RES_OK, R_ACCEPTED, 250, 5000, 6000, 0,
		    "created in the future" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct record r = mkrec(tab[i].res, tab[i].why, tab[i].code,
		    tab[i].created, tab[i].expires, 0, "", "");

		is_int(record_plausible(&cfg, tab[i].kind, &r, 1500),
		    tab[i].want, "plausible: %s", tab[i].name);
	}
}

/* A refresh that found no ok moves the refresh point on. */
static void
test_refresh_later(void)
{
	struct record r = mkrec(RES_OK, R_ACCEPTED, 250, 1000, 1000 + 86400,
	    1000 + 43200, "", "");

	ok(record_refresh_later(&r, &cfg, 20000), "refresh later: ok moves");
	is_int(r.refresh, 20000 + cfg.positive_refresh,
	    "refresh later: one positive_refresh on");
	ok(record_refresh_later(&r, &cfg, 50000), "refresh later: again");
	is_int(r.refresh, 0, "refresh later: none past the expiry");
	r = mkrec(RES_FAIL, R_REJECTED, 550, 1000, 2000, 0, "", "");
	ok(!record_refresh_later(&r, &cfg, 1500), "refresh later: not a fail");
}

/* Keys per kind and path, and which keys FLUSH DOMAIN takes. */
static void
test_keys(void)
{
	char k[64];

	is_int(record_key(RK_ADDRESS, RP_MX, "a@x.example", k, sizeof(k)),
	    13, "key: address length");
	is_str(k, "a:a@x.example", "key: address");
	record_key(RK_DOMAIN, RP_ROUTE, "x.example", k, sizeof(k));
	is_str(k, "rd:x.example", "key: routed domain");
	record_key(RK_NOTCATCHALL, RP_MX, "x.example", k, sizeof(k));
	is_str(k, "n:x.example", "key: not catch-all");
	is_int(record_key(RK_ADDRESS, RP_MX, "a@x.example", k, 8), 0,
	    "key: too small a buffer");
	ok(record_key_in_domain("ra:b@X.example", 14, "x.example"),
	    "in domain: routed address, case-insensitive");
	ok(record_key_in_domain("n:x.example", 11, "x.example"),
	    "in domain: not-catch-all record");
	ok(record_key_in_domain("rn:x.example", 12, "x.example"),
	    "in domain: routed not-catch-all record");
	ok(!record_key_in_domain("a:b@sub.x.example", 17, "x.example"),
	    "in domain: not a subdomain");
	ok(!record_key_in_domain("q:x.example", 11, "x.example"),
	    "in domain: unknown prefix");
	ok(!record_key_in_domain("d:x.example.org", 15, "x.example"),
	    "in domain: longer name");
}

static void
test_from_verdict(void)
{
	struct verdict v = mkverdict(RES_OK, R_ACCEPTED, 250);
	struct record r;
	struct config c = cfg;

	snprintf(v.mx, sizeof(v.mx), "mx.example.net[192.0.2.1]");
	snprintf(v.text, sizeof(v.text), "2.1.5 fine\r\n\x01ok");
	record_from_verdict(&r, &v, &cfg, 0, 1000);
	is_int(r.created, 1000, "from_verdict: created");
	is_int(r.expires, 1000 + cfg.positive_ttl, "from_verdict: expires");
	is_int(r.refresh, 1000 + cfg.positive_refresh,
	    "from_verdict: refresh for ok");
	is_int(r.code, 250, "from_verdict: code");
	is_str(r.mx, "mx.example.net[192.0.2.1]", "from_verdict: mx");
	is_str(r.text, "2.1.5 fineok", "from_verdict: control bytes dropped");
	c.positive_refresh = c.positive_ttl;
	record_from_verdict(&r, &v, &c, 0, 1000);
	is_int(r.refresh, 0, "from_verdict: no refresh when >= positive_ttl");
	c.positive_refresh = 0;
	record_from_verdict(&r, &v, &c, 0, 1000);
	is_int(r.refresh, 0, "from_verdict: no refresh when disabled");
	v = mkverdict(RES_FAIL, R_REJECTED, 550);
	record_from_verdict(&r, &v, &cfg, 0, 1000);
	is_int(r.refresh, 0, "from_verdict: no refresh for fail");
	is_int(r.expires, 1000 + cfg.negative_ttl, "from_verdict: fail expires");
	v = mkverdict(RES_UNKNOWN, R_CATCHALL, 250);
	record_from_verdict(&r, &v, &cfg, RK_DOMAIN, 1000);
	is_int(r.expires, 1000 + cfg.domain_positive_ttl,
	    "from_verdict: domain catchall expires");
	is_int(r.refresh, 0, "from_verdict: no refresh for catchall");
	v = mkverdict(RES_FAIL, R_NXDOMAIN, 0);
	record_from_verdict(&r, &v, &cfg, RK_DOMAIN, 1000);
	is_int(r.code, 550, "from_verdict: missing code gets the default");
}

static void
test_to_verdict(void)
{
	struct record r = mkrec(RES_FAIL, R_REJECTED, 553, 1, 2, 0,
	    "mx[192.0.2.7]", "5.7.1 go away");
	struct verdict v;

	memset(&v, 0x5a, sizeof(v));
	record_to_verdict(&r, &v);
	is_int(v.result, RES_FAIL, "to_verdict: result");
	is_int(v.reason, R_REJECTED, "to_verdict: reason");
	is_int(v.code, 553, "to_verdict: code");
	is_int(v.source, SRC_CACHE, "to_verdict: source=cache");
	is_str(v.mx, "mx[192.0.2.7]", "to_verdict: mx");
	is_str(v.text, "5.7.1 go away", "to_verdict: text");
}

static void
test_may_replace(void)
{
	static const struct {
		enum sav_result old;
		long long expires;
		enum sav_result in;
		int want;
		const char *name;
	} tab[] = {
		{ RES_OK, 200, RES_FAIL, 0, "fail never replaces fresh ok" },
		{ RES_OK, 200, RES_DEFER, 0, "defer never replaces fresh ok" },
		{ RES_OK, 200, RES_UNKNOWN, 0, "unknown never replaces fresh ok" },
		{ RES_OK, 200, RES_OK, 1, "ok replaces fresh ok" },
		{ RES_OK, 100, RES_FAIL, 1, "fail replaces expired ok" },
		{ RES_OK, 99, RES_DEFER, 1, "defer replaces long-expired ok" },
		{ RES_FAIL, 200, RES_OK, 1, "ok replaces fresh fail" },
		{ RES_FAIL, 200, RES_DEFER, 1, "defer replaces fresh fail" },
		{ RES_DEFER, 200, RES_FAIL, 1, "fail replaces fresh defer" },
		{ RES_UNKNOWN, 200, RES_FAIL, 1, "fail replaces fresh unknown" },
	};
	struct record old, in;
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		old = mkrec(tab[i].old, R_ACCEPTED, 250, 0, tab[i].expires, 0,
		    "", "");
		in = mkrec(tab[i].in, R_REJECTED, 550, 100, 200, 0, "", "");
		is_int(record_may_replace(&old, &in, 100), tab[i].want, "%s",
		    tab[i].name);
	}
	is_int(record_may_replace(NULL, &in, 100), 1, "nothing to replace");
}

int
main(void)
{
	plan_no_plan();
	setup_config();
	test_golden();
	test_roundtrip();
	test_encode_refuses();
	test_decode_refuses();
	test_decode_limits();
	test_fuzz();
	test_fresh_stale();
	test_domain_wide();
	test_ttl();
	test_from_verdict();
	test_to_verdict();
	test_may_replace();
	test_store_kinds();
	test_answers();
	test_plausible();
	test_keys();
	test_refresh_later();
	return done_testing();
}
