/*
 * record.h - the versioned cache record (doc/cache-format.md): encode,
 * strict decode, freshness and the lifetime policy.  Pure: no I/O, `now`
 * is an argument.
 */
#ifndef SAVD_RECORD_H
#define SAVD_RECORD_H

#include <stddef.h>
#include "verdict.h"
#include "config.h"

#define RECORD_VERSION 1
#define RECORD_MAX (64 + SAV_MX_MAX + SAV_TEXT_MAX)

struct record {
	enum sav_result result;
	enum sav_reason reason;
	int code;                       /* 200..599 */
	long long created;              /* unix seconds */
	long long expires;              /* unix seconds; gone at or after */
	long long refresh;              /* refresh point for positives, 0 = none */
	char mx[SAV_MX_MAX];
	char text[SAV_TEXT_MAX];
};

/* Returns the encoded length (<= RECORD_MAX), 0 if cap is too small or r
 * would not decode (bad enum, code, times or string bytes). */
size_t record_encode(const struct record *r, unsigned char *buf, size_t cap);
/* Strict: wrong version, length, enum range, code range, non-printable
 * text, missing NUL room, expires < created... -> -1.  Never reads past
 * len. */
int record_decode(const unsigned char *p, size_t len, struct record *r);

int record_fresh(const struct record *r, long long now);        /* now < expires */
int record_stale(const struct record *r, long long now);        /* past refresh */

/*
 * Does this verdict say something about every address of its domain
 * (catchall, nullsender, nxdomain, nullmx, nomx, bogusmx, blocked)?
 */
int record_domain_wide(const struct verdict *v);
/*
 * Lifetime in seconds for storing v (address or domain record); 0 means
 * do not store (our own limits, deadlines, skipped, syntax, errors).
 */
unsigned record_ttl(const struct config *c, const struct verdict *v,
    int domain_record);
/* Build a record from a verdict stored at now. */
void record_from_verdict(struct record *r, const struct verdict *v,
    const struct config *c, int domain_record, long long now);
/* Back into a verdict answered from the cache (source=cache). */
void record_to_verdict(const struct record *r, struct verdict *v);
/* May `incoming` replace `old` at now?  A fail or defer never replaces a
 * fresh ok; anything replaces an expired record. */
int record_may_replace(const struct record *old, const struct record *incoming,
    long long now);

#endif
