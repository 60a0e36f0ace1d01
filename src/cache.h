/*
 * cache.h - the TDB-backed result cache: address records ("a:local@domain")
 * and domain records ("d:domain") holding struct record (record.h).
 * Crash-safe batched transactions, start-up check with move-aside of a bad
 * file, incremental expiry.  No libev here: the owner drives cache_commit
 * and cache_expire_step from its timers.
 */
#ifndef SAVD_CACHE_H
#define SAVD_CACHE_H

#include <stddef.h>
#include "record.h"

struct cache;

struct cache_stats {
	unsigned long long entries;     /* records in the file (approximate) */
	unsigned long long stores;      /* records written */
	unsigned long long expired;     /* records removed by expiry */
	unsigned long long errors;      /* TDB errors since start */
	int writable;                   /* last write/commit succeeded */
	int memory_only;                /* cache_file empty, or fell back */
};

/*
 * Open (or create) the cache at path with the given TDB hash size.  path
 * "" means memory only.  A file that fails tdb_check or cannot be opened
 * as TDB is renamed to "PATH.corrupt.UNIXTIME" with a log line and a fresh
 * one is created; if even that fails, the cache falls back to memory only
 * (logged).  Never returns NULL.
 */
struct cache *cache_open(const char *path, unsigned hash_size);
/* Commit pending writes and close.  NULL is a no-op. */
void cache_close(struct cache *c);

/*
 * Fetch key.  Returns 1 and fills r when a decodable, fresh (now <
 * expires) record exists; 0 otherwise.  An undecodable record is deleted
 * (logged once) and is a miss.
 */
int cache_get(struct cache *c, const char *key, size_t klen,
    struct record *r, long long now);
/*
 * Store r under key unless record_may_replace(existing, r, now) says no.
 * Returns 1 stored, 0 refused (a fresh positive entry stays), -1 error.
 * Writes join the current batch transaction.
 */
int cache_put(struct cache *c, const char *key, size_t klen,
    const struct record *r, long long now);
/* Remove records; return how many were removed. */
unsigned long cache_flush_all(struct cache *c);
unsigned long cache_flush_domain(struct cache *c, const char *domain);
unsigned long cache_flush_key(struct cache *c, const char *key, size_t klen);
/* Remove every record for which match says 1; r is NULL when the record
 * does not decode.  A full traversal: for admin commands and reloads. */
typedef int cache_match_fn(const void *key, size_t klen,
    const struct record *r, void *arg);
unsigned long cache_flush_match(struct cache *c, cache_match_fn *match,
    void *arg);

/* Commit the batch transaction if one is open (call every ~100 ms). */
void cache_commit(struct cache *c);
/* Examine at most budget records from a saved cursor, deleting expired
 * ones; wraps around.  Returns records removed. */
unsigned long cache_expire_step(struct cache *c, long long now,
    unsigned budget);
const struct cache_stats *cache_stats(const struct cache *c);

#endif
