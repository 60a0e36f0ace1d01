/*
 * cache-bench.c - the cost of cache_get: ns per fetch of a random present
 * key (and of an absent one) with 10^3, 10^5 and 10^6 records, between
 * commits (no transaction open, the usual state) and inside an open batch
 * transaction.  A benchmark, not a test: it prints figures only.
 *
 * usage: cache-bench [HASH_SIZE [MAX_RECORDS]]   (default 100003, 1000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "log.h"

#define LOOKUPS 1000000
#define NOW 1700000000LL

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int
mkkey(char *buf, size_t cap, unsigned long i)
{
	return snprintf(buf, cap, "a:user%lu@domain%lu.example", i, i % 9973);
}

static void
fill(struct cache *c, unsigned long n)
{
	struct record r;
	char key[128];
	unsigned long i;

	memset(&r, 0, sizeof(r));
	r.result = RES_OK;
	r.reason = R_ACCEPTED;
	r.code = 250;
	r.created = NOW;
	r.expires = NOW + 86400;
	snprintf(r.mx, sizeof(r.mx), "mx1.example.net[192.0.2.1]");
	snprintf(r.text, sizeof(r.text), "2.1.5 Recipient OK");
	for (i = 0; i < n; i++)
		cache_put(c, key, (size_t)mkkey(key, sizeof(key), i), &r, NOW);
	cache_commit(c);
}

/* ns per cache_get over LOOKUPS random keys among n (+ n when absent). */
static double
lookups(struct cache *c, unsigned long n, int absent)
{
	struct record r;
	char key[128];
	double t0;
	unsigned long i, hits = 0;
	int len;

	t0 = now_ns();
	for (i = 0; i < LOOKUPS; i++) {
		len = mkkey(key, sizeof(key), (unsigned long)random() % n +
		    (absent ? n : 0));
		hits += cache_get(c, key, (size_t)len, &r, NOW + 1);
	}
	t0 = (now_ns() - t0) / LOOKUPS;
	if (hits != (absent ? 0 : LOOKUPS))
		fprintf(stderr, "unexpected hits: %lu\n", hits);
	return t0;
}

int
main(int argc, char **argv)
{
	static const unsigned long sizes[] = { 1000, 100000, 1000000 };
	unsigned hash = argc > 1 ? (unsigned)atoi(argv[1]) : 100003;
	unsigned long max = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	char dir[] = "/tmp/cache-bench.XXXXXX", path[64];
	struct cache *c;
	double fill_s;
	size_t i;

	log_open("cache-bench", 1, 0);
	if (mkdtemp(dir) == NULL)
		return 1;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned long n = sizes[i];

		if (n > max)
			break;
		snprintf(path, sizeof(path), "%s/c%lu.tdb", dir, n);
		c = cache_open(path, hash);
		fill_s = now_ns();
		fill(c, n);
		fill_s = (now_ns() - fill_s) / 1e9;
		printf("records=%lu hash=%u fill_s=%.1f get_hit_ns=%.0f "
		    "get_miss_ns=%.0f", n, hash, fill_s, lookups(c, n, 0),
		    lookups(c, n, 1));
		/* A write opens the batch transaction: reads go through it. */
		cache_flush_key(c, "a:none", 6);
		cache_put(c, "a:x@y", 5, &(struct record){ .result = RES_OK,
		    .reason = R_ACCEPTED, .code = 250, .created = NOW,
		    .expires = NOW + 10 }, NOW);
		printf(" in_batch_get_hit_ns=%.0f\n", lookups(c, n, 0));
		cache_close(c);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}
