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
#define RECORD_CLOCK_SLACK 60   /* seconds a record may be "from the future" */

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
 * The cache rules (doc/protocol.md 4a, 3c), one function each.
 *
 * Kinds of record: what one address answered; what holds for every address
 * of a domain (catch-all, refuses <>, blocks us, and the DNS facts); and
 * "the catch-all probe was refused" (no probe while it is fresh).  Each
 * kind exists once per path: questions answered through `routes` and
 * through public MX records never share a record.
 */
enum record_kind { RK_ADDRESS, RK_DOMAIN, RK_NOTCATCHALL, RK__COUNT };
enum record_path { RP_MX, RP_ROUTE };

/* What a callout learnt besides its verdict (callout.h passes these). */
#define VF_PRIMARY      1u      /* from a host of the most preferred MX */
#define VF_NOTCATCHALL  2u      /* the catch-all probe was refused */

/* "a:local@domain", "d:domain", "n:domain"; routed: "ra:", "rd:", "rn:".
 * name is the address for RK_ADDRESS, else the domain.  Returns the key
 * length (no NUL stored), 0 if it does not fit. */
size_t record_key(enum record_kind k, enum record_path p, const char *name,
    char *buf, size_t cap);
/* The kind and path of a key; returns the prefix length, -1 if the key is
 * none of ours. */
int record_key_parse(const void *key, size_t klen, enum record_kind *kind,
    enum record_path *path);
/* Is key (not NUL-terminated) a record of domain, of any kind and path?
 * The domain after the last '@' of an address key is compared exactly,
 * case-insensitively. */
int record_key_in_domain(const void *key, size_t klen, const char *domain);

/* Is this verdict a statement about every address of its domain? */
int record_domain_wide(const struct verdict *v);
/* Which kinds of record a verdict from the network is stored as: a bit
 * (1u << kind) each.  flags: VF_*.  default_sender: the question used the
 * configured mail_from (other senders store only DNS facts). */
unsigned record_store_kinds(const struct verdict *v, unsigned flags,
    int default_sender);
/*
 * Lifetime in seconds for storing v as kind; 0 means do not store (our
 * own limits, deadlines, skipped, syntax, errors).
 */
unsigned record_ttl(const struct config *c, const struct verdict *v,
    enum record_kind kind);
/* May a fresh record of this kind answer a question asked with mail_from
 * ("" = <>)?  Refusals of <> answer only the null sender; address records
 * speak only for the configured mail_from. */
int record_answers(enum record_kind kind, const struct record *r,
    const char *mail_from, int default_sender);
/* Does a decoded record mean something: a result/reason pair that this
 * kind stores, a code of the result's class, created not in the future,
 * and a lifetime within what the configuration gives it now?  A record
 * that fails is a miss and is deleted. */
int record_plausible(const struct config *c, enum record_kind kind,
    const struct record *r, long long now);
/* Build a record from a verdict stored at now. */
void record_from_verdict(struct record *r, const struct verdict *v,
    const struct config *c, enum record_kind kind, long long now);
/* Back into a verdict answered from the cache (source=cache). */
void record_to_verdict(const struct record *r, struct verdict *v);
/* A refresh did not confirm the fresh ok r: move its refresh point one
 * positive_refresh on (or drop it when that passes its expiry), so that
 * not every query starts another refresh.  Returns 1 when r changed (only
 * ok records do). */
int record_refresh_later(struct record *r, const struct config *c,
    long long now);
/* May `incoming` replace `old` at now?  A fail or defer never replaces a
 * fresh ok; anything replaces an expired record. */
int record_may_replace(const struct record *old, const struct record *incoming,
    long long now);

#endif
