/* unit-metrics.c - answer counters, the callout histogram and the
 * Prometheus text rendering of metrics.c, and the METRICS verb. */
#include <string.h>

#include "tap.h"
#include "metrics.h"
#include "proto.h"

static struct verdict
mk(enum sav_result r, enum sav_reason w, enum sav_source s)
{
	struct verdict v;

	verdict_set(&v, r, w, s);
	return v;
}

/* Does the rendered text hold this exact line? */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

static size_t
count_lf(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

int
main(void)
{
	static struct metrics m;
	struct verdict v;
	struct buf b;
	struct request req;
	const struct metric_value extra[] = {
		{ "savd_cache_entries", "Records.", METRIC_GAUGE, 42 },
		{ "savd_loop_lag_seconds", "Lag.", METRIC_GAUGE, 0.25 },
		{ "savd_last_success_timestamp_seconds", "T.", METRIC_GAUGE,
		    1796285670.5 },
	};
	const char *t;
	size_t lines;

	plan_no_plan();
	v = mk(RES_OK, R_ACCEPTED, SRC_CALLOUT);
	metrics_record(&m, &v, 3);              /* bucket le=5 ms */
	metrics_record(&m, &v, 5);              /* le=5 ms: bounds inclusive */
	metrics_record(&m, &v, 700);            /* le=1000 ms */
	metrics_record(&m, &v, 1e7);            /* beyond 60 s: +Inf only */
	v = mk(RES_FAIL, R_REJECTED, SRC_CACHE);
	metrics_record(&m, &v, 0.2);            /* not a callout: no bucket */
	v = mk(RES_DEFER, R_TIMEOUT, SRC_CALLOUT);
	metrics_record(&m, &v, -4);             /* clock step: counted as 0 */
	is_int((int)m.answers[RES_OK][R_ACCEPTED], 4, "ok accepted counted");
	is_int((int)m.answers[RES_FAIL][R_REJECTED], 1, "fail rejected counted");
	is_int((int)m.sources[SRC_CALLOUT], 5, "callout answers by source");
	is_int((int)m.sources[SRC_CACHE], 1, "cache answers by source");
	is_int((int)m.callout_count, 5, "only callout answers are timed");
	is_int((int)m.bucket[0], 3, "3, 5 and -4 ms in the first bucket");
	is_int((int)m.bucket[7], 1, "700 ms in le=1000");
	is_int((int)m.bucket[METRICS_BUCKETS], 1, "1e7 ms beyond the last");

	buf_init(&b);
	lines = metrics_render(&b, &m, extra, 3, "1.2.3\"x");
	t = buf_cstr(&b);
	is_int((int)lines, (int)count_lf(t), "returned count = lines written");
	ok(t[b.len - 1] == '\n', "ends with LF");
	ok(has_line(t, "# TYPE savd_verifications_total counter"), "TYPE line");
	ok(has_line(t, "savd_verifications_total{result=\"ok\","
	    "reason=\"accepted\"} 4"), "ok accepted sample");
	ok(has_line(t, "savd_verifications_total{result=\"unknown\","
	    "reason=\"catchall\"} 0"), "known pairs exported at zero");
	ok(strstr(t, "reason=\"pong\"") == NULL, "non-verification pairs "
	    "left out");
	ok(has_line(t, "savd_answers_by_source_total{source=\"callout\"} 5"),
	    "source sample");
	ok(has_line(t, "# TYPE savd_callout_duration_seconds histogram"),
	    "histogram TYPE");
	ok(has_line(t, "savd_callout_duration_seconds_bucket{le=\"0.005\"} 3"),
	    "first bucket in seconds");
	ok(has_line(t, "savd_callout_duration_seconds_bucket{le=\"1\"} 4"),
	    "buckets are cumulative");
	ok(has_line(t, "savd_callout_duration_seconds_bucket{le=\"60\"} 4"),
	    "last finite bucket");
	ok(has_line(t, "savd_callout_duration_seconds_bucket{le=\"+Inf\"} 5"),
	    "+Inf bucket = count");
	ok(has_line(t, "savd_callout_duration_seconds_count 5"), "count");
	ok(has_line(t, "savd_callout_duration_seconds_sum 10000.708"), "sum in "
	    "seconds");
	ok(has_line(t, "savd_cache_entries 42"), "integer gauge");
	ok(has_line(t, "savd_loop_lag_seconds 0.25"), "fractional gauge");
	ok(has_line(t, "# HELP savd_cache_entries Records."), "HELP of extra");
	ok(has_line(t, "savd_last_success_timestamp_seconds 1796285670.5"),
	    "a Unix time keeps its seconds and fraction");
	ok(has_line(t, "savd_build_info{version=\"1.2.3\\\"x\"} 1"),
	    "label value escaped");
	buf_free(&b);

	metrics_answer(&v, 1);
	is_int((int)metrics_self()->callout_count, 1, "metrics_answer feeds "
	    "metrics_self");

	is_int(proto_parse("METRICS", 7, &req), PROTO_OK, "METRICS parses");
	is_int(req.verb, VERB_METRICS, "... as VERB_METRICS");
	is_int(proto_parse("metrics", 7, &req), PROTO_OK, "case-insensitive");
	is_int(proto_parse("METRICS x", 9, &req), PROTO_BADREQUEST,
	    "METRICS takes no argument");
	return done_testing();
}
