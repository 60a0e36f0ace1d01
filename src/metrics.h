/*
 * metrics.h - the numbers behind METRICS and GET /metrics: answered
 * verifications per result and reason and per source, the request-to-
 * answer time of answers a callout decided as a histogram with fixed
 * buckets, and their rendering in the Prometheus text exposition format
 * (version 0.0.4).  Pure: no I/O and no clock; times are arguments.
 */
#ifndef SAVD_METRICS_H
#define SAVD_METRICS_H

#include <stddef.h>

#include "buf.h"
#include "verdict.h"

#define METRICS_BUCKETS 13      /* finite upper bounds; +Inf is implied */

/* Bucket upper bounds in milliseconds, increasing. */
extern const double metrics_bucket_ms[METRICS_BUCKETS];

struct metrics {
	unsigned long long answers[RES__COUNT][R__COUNT];
	unsigned long long sources[SRC__COUNT];
	unsigned long long bucket[METRICS_BUCKETS + 1]; /* not cumulative */
	unsigned long long callout_count;
	double callout_sum_ms;
};

/* The daemon's own counters (static storage: never freed). */
struct metrics *metrics_self(void);
/* Count one answered verification; ms from request to answer. */
void metrics_record(struct metrics *m, const struct verdict *v, double ms);
/* metrics_record() on metrics_self(): the call in verify.c. */
void metrics_answer(const struct verdict *v, double ms);

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

/* One unlabelled sample the caller adds (STATS counters, cache size). */
struct metric_value {
	const char *name;       /* savd_*, [a-zA-Z_:][a-zA-Z0-9_:]* */
	const char *help;
	enum metric_type type;
	double value;
};

/*
 * Append the exposition of m, then of extra[0..nextra), then
 * savd_build_info{version="..."} 1, to out: "# HELP" and "# TYPE" lines
 * before each family, every line LF-terminated.  Returns the number of
 * lines appended.
 */
size_t metrics_render(struct buf *out, const struct metrics *m,
    const struct metric_value *extra, size_t nextra, const char *version);

#endif
