/*
 * ratelimit.h - token buckets (domain_rate), back-off state for remotes
 * that ask us to slow down.  Pure: `now` (seconds, double) is an argument.
 */
#ifndef SAVD_RATELIMIT_H
#define SAVD_RATELIMIT_H

struct rl_bucket {
	double tokens;
	double stamp;           /* when tokens was last brought up to date */
};

/* A full bucket (count tokens) at now. */
void rl_init(struct rl_bucket *b, unsigned count, double now);
/* Take one token if there is one: 1 taken, 0 not.  count == 0 means
 * unlimited (always 1).  Refill: count tokens per period seconds, capped
 * at count. */
int rl_take(struct rl_bucket *b, unsigned count, unsigned period, double now);
/* Seconds until rl_take would succeed (0 if now). */
double rl_wait(const struct rl_bucket *b, unsigned count, unsigned period,
    double now);
/* Is the bucket full again at now (so its table entry can be dropped)? */
int rl_idle(const struct rl_bucket *b, unsigned count, unsigned period,
    double now);

#define BACKOFF_BASE 30.0       /* first pause, seconds */
#define BACKOFF_MAX  3600.0     /* longest pause */

struct backoff {
	unsigned level;         /* 0 = none; grows on each hit */
	double until;           /* no new sessions before this time */
};

/* The remote asked us to slow down: pause BASE * 2^(level) capped at MAX,
 * level++. */
void backoff_hit(struct backoff *b, double now);
/* A session completed normally: level decays by one once the pause is
 * over. */
void backoff_success(struct backoff *b, double now);
int backoff_active(const struct backoff *b, double now);
/* Concurrency allowed under back-off: configured when level 0, else 1. */
unsigned backoff_concurrency(const struct backoff *b, unsigned configured);

#endif
