/*
 * unit-ratelimit.c - token buckets (burst, continuous refill, exact wait,
 * idle) and the back-off (growth, cap, decay, concurrency).
 */
#include <math.h>

#include "tap.h"
#include "ratelimit.h"

#define near(a, b) (fabs((a) - (b)) < 1e-6)

/* 20 per 60 s: a full burst of 20, then one token every 3 s. */
static void
test_burst(void)
{
	struct rl_bucket b;
	int i, taken = 0;

	rl_init(&b, 20, 1000.0);
	for (i = 0; i < 25; i++)
		taken += rl_take(&b, 20, 60, 1000.0);
	is_int(taken, 20, "burst: exactly count tokens at once");
	is_int(rl_take(&b, 20, 60, 1000.0), 0, "burst: empty bucket refuses");
	ok(!rl_idle(&b, 20, 60, 1000.0), "burst: empty bucket is not idle");
}

static void
test_refill(void)
{
	static const struct {
		double dt;              /* seconds after emptying */
		int want;               /* tokens rl_take gives then */
	} tab[] = {
		{ 0.0, 0 }, { 2.9, 0 }, { 3.0, 1 }, { 5.9, 1 }, { 6.0, 2 },
		{ 30.0, 10 }, { 60.0, 20 }, { 600.0, 20 },
	};
	struct rl_bucket b;
	size_t i;
	int j, taken;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		rl_init(&b, 20, 0.0);
		for (j = 0; j < 20; j++)
			rl_take(&b, 20, 60, 0.0);
		for (taken = 0; taken < 100 &&
		    rl_take(&b, 20, 60, tab[i].dt); taken++)
			;
		is_int(taken, tab[i].want, "refill: %d tokens after %.1fs",
		    tab[i].want, tab[i].dt);
	}
}

static void
test_wait(void)
{
	struct rl_bucket b;

	rl_init(&b, 20, 0.0);
	ok(near(rl_wait(&b, 20, 60, 0.0), 0.0), "wait: full bucket: 0");
	while (rl_take(&b, 20, 60, 0.0))
		;
	ok(near(rl_wait(&b, 20, 60, 0.0), 3.0), "wait: empty: 3s for 20/60s");
	ok(near(rl_wait(&b, 20, 60, 1.0), 2.0), "wait: 1s later: 2s");
	ok(near(rl_wait(&b, 20, 60, 2.5), 0.5), "wait: 2.5s later: 0.5s");
	is_int(rl_take(&b, 20, 60, 2.999), 0, "wait: not before it");
	ok(near(rl_wait(&b, 20, 60, 2.999), 0.001), "wait: 1ms left");
	is_int(rl_take(&b, 20, 60, 2.999 + rl_wait(&b, 20, 60, 2.999)), 1,
	    "wait: take succeeds after exactly the wait");
	ok(near(rl_wait(&b, 20, 60, 3.0), 3.0), "wait: next one 3s again");
	rl_init(&b, 1, 0.0);
	rl_take(&b, 1, 3600, 0.0);
	ok(near(rl_wait(&b, 1, 3600, 0.0), 3600.0), "wait: 1/1h: an hour");
}

static void
test_unlimited_and_clock(void)
{
	struct rl_bucket b;
	int i, taken = 0;

	rl_init(&b, 0, 0.0);
	for (i = 0; i < 1000; i++)
		taken += rl_take(&b, 0, 60, 0.0);
	is_int(taken, 1000, "count 0: unlimited");
	ok(near(rl_wait(&b, 0, 60, 0.0), 0.0), "count 0: never waits");
	ok(rl_idle(&b, 0, 60, 0.0), "count 0: always idle");
	rl_init(&b, 2, 100.0);
	rl_take(&b, 2, 60, 100.0);
	rl_take(&b, 2, 60, 100.0);
	is_int(rl_take(&b, 2, 60, 50.0), 0, "clock back: no tokens granted");
	is_int(rl_take(&b, 2, 60, 79.0), 0, "clock back: refill from new base");
	is_int(rl_take(&b, 2, 60, 80.0), 1, "clock back: 30s after re-base");
}

static void
test_idle(void)
{
	struct rl_bucket b;

	rl_init(&b, 10, 0.0);
	ok(rl_idle(&b, 10, 10, 0.0), "idle: new bucket is full");
	rl_take(&b, 10, 10, 0.0);
	ok(!rl_idle(&b, 10, 10, 0.5), "idle: not before refilled");
	ok(rl_idle(&b, 10, 10, 1.0), "idle: full again after 1 token time");
}

static void
test_backoff_growth(void)
{
	static const double pause[] = {
		30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600,
	};
	struct backoff b = { 0, 0.0 };
	double now = 1000.0;
	size_t i;

	ok(!backoff_active(&b, now), "backoff: none at first");
	is_int(backoff_concurrency(&b, 4), 4, "backoff: level 0: configured");
	for (i = 0; i < sizeof(pause) / sizeof(pause[0]); i++) {
		backoff_hit(&b, now);
		ok(near(b.until - now, pause[i]), "backoff: hit %zu pauses %.0fs",
		    i + 1, pause[i]);
		ok(backoff_active(&b, now + pause[i] - 0.5),
		    "backoff: hit %zu active within the pause", i + 1);
		ok(!backoff_active(&b, now + pause[i]),
		    "backoff: hit %zu over after the pause", i + 1);
		now += pause[i];
	}
	ok(b.level <= 8, "backoff: level capped (%u)", b.level);
	is_int(backoff_concurrency(&b, 4), 1, "backoff: level > 0: one session");
	for (i = 0; i < 100000; i++)
		backoff_hit(&b, now);
	ok(near(b.until - now, BACKOFF_MAX), "backoff: many hits: MAX pause");
}

static void
test_backoff_decay(void)
{
	struct backoff b = { 0, 0.0 };
	unsigned i;

	backoff_hit(&b, 0.0);
	backoff_hit(&b, 0.0);
	backoff_hit(&b, 0.0);
	is_int(b.level, 3, "decay: three hits: level 3");
	ok(near(b.until, 120.0), "decay: concurrent hits: longest pause");
	backoff_success(&b, 100.0);
	is_int(b.level, 3, "decay: no decay during the pause");
	backoff_success(&b, 120.0);
	is_int(b.level, 2, "decay: one step after the pause");
	backoff_success(&b, 121.0);
	backoff_success(&b, 122.0);
	is_int(b.level, 0, "decay: down to 0");
	backoff_success(&b, 123.0);
	is_int(b.level, 0, "decay: stays at 0");
	is_int(backoff_concurrency(&b, 3), 3, "decay: concurrency restored");
	backoff_hit(&b, 200.0);
	ok(near(b.until, 230.0), "decay: after decay the pause is BASE again");
	for (i = 0; i < 3; i++)
		backoff_hit(&b, 1000.0);
	backoff_success(&b, 1100.0);
	ok(near(b.until - 1000.0, 240.0) && b.level == 4,
	    "decay: a hit during a pause lengthens it");
}

int
main(void)
{
	plan_no_plan();
	test_burst();
	test_refill();
	test_wait();
	test_unlimited_and_clock();
	test_idle();
	test_backoff_growth();
	test_backoff_decay();
	return done_testing();
}
