/*
 * metrics.c - counters of answered verifications and their rendering in
 * the Prometheus text exposition format (doc/protocol.md, METRICS).
 *
 * Pure: no I/O, no clock.  The daemon keeps one struct metrics (metrics_
 * self()) that verify.c feeds with every answer it logs; admin.c renders
 * it with the STATS counters for METRICS and for GET /metrics.  Names and
 * label sets are an interface: dashboards depend on them, so add series
 * but never rename one.
 */
#include <math.h>            /* isnan, isinf: macros, no libm */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* From a cache hit (well under 1 ms) to callout_timeout's default 60 s. */
const double metrics_bucket_ms[METRICS_BUCKETS] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
};

/* Every pair of the reason table (doc/protocol.md 4) a verification
 * can be answered with: always exported, zero or not, so that rate() and
 * dashboards see a series before its first event. */
static const struct {
	enum sav_result res;
	enum sav_reason why;
} known_pairs[] = {
	{ RES_OK, R_ACCEPTED }, { RES_OK, R_NULL },
	{ RES_FAIL, R_REJECTED }, { RES_FAIL, R_NULLSENDER },
	{ RES_FAIL, R_NXDOMAIN }, { RES_FAIL, R_NULLMX }, { RES_FAIL, R_NOMX },
	{ RES_FAIL, R_BOGUSMX }, { RES_FAIL, R_SYNTAX },
	{ RES_DEFER, R_TEMPFAIL }, { RES_DEFER, R_TIMEOUT },
	{ RES_DEFER, R_UNREACHABLE }, { RES_DEFER, R_DNSFAIL },
	{ RES_DEFER, R_RATELIMITED }, { RES_DEFER, R_INPROGRESS },
	{ RES_DEFER, R_OVERLOADED },
	{ RES_UNKNOWN, R_CATCHALL }, { RES_UNKNOWN, R_BLOCKED },
	{ RES_UNKNOWN, R_MAILBOXFULL }, { RES_UNKNOWN, R_SMTPUTF8 },
	{ RES_UNKNOWN, R_SKIPPED },
	{ RES_ERROR, R_INTERNAL },
};

struct metrics *
metrics_self(void)
{
	static struct metrics self;

	return &self;
}

void
metrics_record(struct metrics *m, const struct verdict *v, double ms)
{
	size_t i;

	if ((unsigned)v->result < RES__COUNT && (unsigned)v->reason < R__COUNT)
		m->answers[v->result][v->reason]++;
	if ((unsigned)v->source < SRC__COUNT)
		m->sources[v->source]++;
	if (v->source != SRC_CALLOUT)
		return;
	if (!(ms >= 0))                 /* NaN or a clock step back */
		ms = 0;
	for (i = 0; i < METRICS_BUCKETS && ms > metrics_bucket_ms[i]; i++)
		;
	m->bucket[i]++;
	m->callout_count++;
	m->callout_sum_ms += ms;
}

void
metrics_answer(const struct verdict *v, double ms)
{
	metrics_record(metrics_self(), v, ms);
}

/* "# HELP" and "# TYPE" for one family: 2 lines. */
static size_t
family(struct buf *out, const char *name, const char *type,
    const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
	return 2;
}

/* A sample value: integers without a fraction, others in %g form. */
static void
value(struct buf *out, double v)
{
	if (isnan(v))
		buf_adds(out, "NaN");
	else if (isinf(v))
		buf_adds(out, v > 0 ? "+Inf" : "-Inf");
	else if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		buf_printf(out, "%.0f", v);
	else            /* 15 digits: a Unix time keeps its fraction */
		buf_printf(out, "%.15g", v);
	buf_addc(out, '\n');
}

/* A label value with \\, \" and \n escaped (the format's only escapes). */
static void
label_value(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_addc(out, '\\');
		if (*s == '\n')
			buf_adds(out, "\\n");
		else
			buf_addc(out, *s);
	}
}

static int
is_known(unsigned res, unsigned why)
{
	size_t i;

	for (i = 0; i < sizeof(known_pairs) / sizeof(known_pairs[0]); i++)
		if ((unsigned)known_pairs[i].res == res &&
		    (unsigned)known_pairs[i].why == why)
			return 1;
	return 0;
}

static size_t
render_answers(struct buf *out, const struct metrics *m)
{
	static const char name[] = "savd_verifications_total";
	size_t n = family(out, name, "counter",
	    "Answered verifications by result and reason.");
	unsigned r, w;

	for (r = 0; r < RES__COUNT; r++)
		for (w = 0; w < R__COUNT; w++) {
			if (m->answers[r][w] == 0 && !is_known(r, w))
				continue;
			buf_printf(out, "%s{result=\"%s\",reason=\"%s\"} ",
			    name, verdict_result_name(r),
			    verdict_reason_name(w));
			value(out, (double)m->answers[r][w]);
			n++;
		}
	return n;
}

static size_t
render_sources(struct buf *out, const struct metrics *m)
{
	static const char name[] = "savd_answers_by_source_total";
	size_t n = family(out, name, "counter",
	    "Answered verifications by where the answer came from.");
	unsigned s;

	for (s = SRC_NONE + 1; s < SRC__COUNT; s++) {
		buf_printf(out, "%s{source=\"%s\"} ", name,
		    verdict_source_name(s));
		value(out, (double)m->sources[s]);
		n++;
	}
	return n;
}

/* Cumulative buckets in seconds, the unit Prometheus names expect. */
static size_t
render_histogram(struct buf *out, const struct metrics *m)
{
	static const char name[] = "savd_callout_duration_seconds";
	size_t n = family(out, name, "histogram",
	    "Time from request to answer of answers decided by a callout.");
	unsigned long long cum = 0;
	size_t i;

	for (i = 0; i < METRICS_BUCKETS; i++) {
		cum += m->bucket[i];
		buf_printf(out, "%s_bucket{le=\"%g\"} ", name,
		    metrics_bucket_ms[i] / 1000);
		value(out, (double)cum);
	}
	cum += m->bucket[METRICS_BUCKETS];
	buf_printf(out, "%s_bucket{le=\"+Inf\"} ", name);
	value(out, (double)cum);
	buf_printf(out, "%s_sum ", name);
	value(out, m->callout_sum_ms / 1000);
	buf_printf(out, "%s_count ", name);
	value(out, (double)m->callout_count);
	return n + METRICS_BUCKETS + 3;
}

size_t
metrics_render(struct buf *out, const struct metrics *m,
    const struct metric_value *extra, size_t nextra, const char *version)
{
	size_t n = 0, i;

	n += render_answers(out, m);
	n += render_sources(out, m);
	n += render_histogram(out, m);
	for (i = 0; i < nextra; i++) {
		n += family(out, extra[i].name, extra[i].type ==
		    METRIC_COUNTER ? "counter" : "gauge", extra[i].help);
		buf_printf(out, "%s ", extra[i].name);
		value(out, extra[i].value);
		n++;
	}
	n += family(out, "savd_build_info", "gauge",
	    "Always 1; the version is in the label.");
	buf_adds(out, "savd_build_info{version=\"");
	label_value(out, version);
	buf_adds(out, "\"} 1\n");
	return n + 1;
}
