/*
 * cache-writer.c - heavy cache writes for bench/cache-crash.sh: cache_put
 * in a tight loop over random keys, a few flushes and expiry steps, and
 * cache_commit every 100 ms, as savd's timer would.  Run forever (to be
 * killed with kill -9), or for SECONDS and then print throughput and
 * commit latency.  A benchmark, not a test.
 *
 * usage: cache-writer PATH [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "log.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
fill(struct record *r, long long now)
{
	memset(r, 0, sizeof(*r));
	r->result = random() % 4 ? RES_OK : RES_FAIL;
	r->reason = r->result == RES_OK ? R_ACCEPTED : R_REJECTED;
	r->code = r->result == RES_OK ? 250 : 550;
	r->created = now;
	r->expires = now + 1 + random() % 600;
	snprintf(r->mx, sizeof(r->mx), "mx%ld.example.net[192.0.2.%ld]",
	    random() % 10, random() % 250);
	memset(r->text, 'x', (size_t)(random() % 300));
}

int
main(int argc, char **argv)
{
	struct cache *c;
	struct record r;
	char key[128];
	double start, last, t, t0, worst = 0, total = 0, put_max = 0;
	unsigned long long puts = 0, commits = 0;
	double seconds = argc > 2 ? atof(argv[2]) : 0;

	if (argc < 2) {
		fprintf(stderr, "usage: cache-writer PATH [SECONDS]\n");
		return 2;
	}
	log_open("cache-writer", 1, 0);
	srandom((unsigned)getpid());
	c = cache_open(argv[1], 100003);
	start = last = now_ms();
	for (;;) {
		long long now = (long long)time(NULL);
		int len = snprintf(key, sizeof(key), "a:u%ld@d%ld.example",
		    random() % 2000, random() % 100);

		fill(&r, now);
		t0 = now_ms();
		cache_put(c, key, (size_t)len, &r, now);
		if ((t = now_ms() - t0) > put_max)
			put_max = t;	/* includes the self-commits of a batch */
		puts++;
		if (puts % 5000 == 0)
			cache_flush_key(c, key, (size_t)len);
		if (puts % 1000 == 0)
			cache_expire_step(c, now, 100);
		if ((t = now_ms()) - last >= 100) {
			cache_commit(c);
			last = now_ms();
			total += last - t;
			if (last - t > worst)
				worst = last - t;
			commits++;
			if (seconds > 0 && last - start >= seconds * 1000)
				break;
		}
	}
	printf("puts=%llu puts_per_s=%.0f commits=%llu commit_ms_avg=%.2f "
	    "commit_ms_max=%.2f put_ms_max=%.2f entries=%llu errors=%llu\n",
	    puts, puts / ((last - start) / 1000), commits, total / commits,
	    worst, put_max,
	    cache_stats(c)->entries, cache_stats(c)->errors);
	cache_close(c);
	return 0;
}
