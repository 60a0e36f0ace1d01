/*
 * fuzz-record.c - the cache record decoder (record.c).  A record read
 * from the TDB file is untrusted bytes.  Invariants: what decodes has
 * in-range fields and printable strings, re-encodes to exactly the same
 * bytes (the format is canonical), and the rules that read records
 * (freshness, plausibility, back into a verdict) accept it without harm.
 */
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "record.h"
#include "verdict.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static int ready;
	unsigned char again[RECORD_MAX];
	struct record r;
	struct verdict v;
	size_t n;
	int k;

	if (!ready) {           /* the defaults, kept for the whole run */
		config_init(&cfg);
		ready = 1;
	}
	if (record_decode(data, size, &r) != 0)
		return 0;
	CHECK((unsigned)r.result < RES__COUNT);
	CHECK((unsigned)r.reason < R__COUNT);
	CHECK(r.code >= 200 && r.code <= 599);
	CHECK(r.expires >= r.created);
	CHECK(fz_terminated(r.mx, sizeof(r.mx)));
	CHECK(fz_terminated(r.text, sizeof(r.text)));
	CHECK(fz_printable(r.mx, strlen(r.mx)));
	CHECK(fz_printable(r.text, strlen(r.text)));
	n = record_encode(&r, again, sizeof(again));
	CHECK(n == size);
	CHECK(memcmp(again, data, size) == 0);
	(void)record_fresh(&r, r.created);
	(void)record_stale(&r, r.expires);
	for (k = 0; k < RK__COUNT; k++) {
		(void)record_plausible(&cfg, (enum record_kind)k, &r, r.created);
		(void)record_answers((enum record_kind)k, &r, "", 1);
		(void)record_answers((enum record_kind)k, &r, "a@b.example", 0);
	}
	record_to_verdict(&r, &v);
	CHECK(v.result == r.result && v.reason == r.reason);
	CHECK(v.source == SRC_CACHE);
	CHECK(record_may_replace(&r, &r, r.expires) == 1);
	return 0;
}
