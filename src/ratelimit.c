/*
 * ratelimit.c - token buckets for domain_rate and the back-off state kept
 * for remotes that tell us we are too many.
 *
 * Must not: look at the clock (`now` is an argument) or allocate; the
 * caller owns every struct and the table that holds them.  A clock that
 * steps backwards must never grant extra tokens.
 */
#include "ratelimit.h"

/* Absorbs rounding when a caller waits exactly rl_wait() seconds. */
#define RL_EPSILON 1e-9

/* Tokens in the bucket at now, refilled continuously, capped at count. */
static double
rl_level(const struct rl_bucket *b, unsigned count, unsigned period,
    double now)
{
	double t = b->tokens;

	if (period == 0)
		return count;
	if (now > b->stamp)
		t += (now - b->stamp) * count / period;
	return t > count ? count : t;
}

void
rl_init(struct rl_bucket *b, unsigned count, double now)
{
	b->tokens = count;
	b->stamp = now;
}

int
rl_take(struct rl_bucket *b, unsigned count, unsigned period, double now)
{
	double t;

	if (count == 0)
		return 1;
	t = rl_level(b, count, period, now);
	/* Re-base on the current time, also when the clock went back. */
	b->stamp = now;
	if (t + RL_EPSILON >= 1.0) {
		b->tokens = t >= 1.0 ? t - 1.0 : 0.0;
		return 1;
	}
	b->tokens = t;
	return 0;
}

double
rl_wait(const struct rl_bucket *b, unsigned count, unsigned period,
    double now)
{
	double t;

	if (count == 0 || period == 0)
		return 0.0;
	t = rl_level(b, count, period, now);
	if (t + RL_EPSILON >= 1.0)
		return 0.0;
	return (1.0 - t) * period / count;
}

int
rl_idle(const struct rl_bucket *b, unsigned count, unsigned period,
    double now)
{
	if (count == 0)
		return 1;
	return rl_level(b, count, period, now) + RL_EPSILON >= count;
}

/*
 * Beyond this level the pause is already BACKOFF_MAX; letting the level
 * climb further would only make the decay take longer.
 */
static unsigned
backoff_level_cap(void)
{
	unsigned level = 0;
	double pause = BACKOFF_BASE;

	while (pause < BACKOFF_MAX && level < 30) {
		pause *= 2;
		level++;
	}
	return level + 1;
}

void
backoff_hit(struct backoff *b, double now)
{
	double pause = BACKOFF_BASE;
	unsigned i;

	for (i = 0; i < b->level && pause < BACKOFF_MAX; i++)
		pause *= 2;
	if (pause > BACKOFF_MAX)
		pause = BACKOFF_MAX;
	/* Concurrent sessions may hit at once: never shorten a pause. */
	if (now + pause > b->until)
		b->until = now + pause;
	if (b->level < backoff_level_cap())
		b->level++;
}

void
backoff_success(struct backoff *b, double now)
{
	if (b->level > 0 && now >= b->until)
		b->level--;
}

int
backoff_active(const struct backoff *b, double now)
{
	return now < b->until;
}

unsigned
backoff_concurrency(const struct backoff *b, unsigned configured)
{
	return b->level == 0 ? configured : 1;
}
