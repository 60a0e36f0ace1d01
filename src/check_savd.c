/*
 * check_savd.c - a Monitoring Plugins check for savd: sends HEALTH and
 * STATS on one connection and prints one status line with performance
 * data, following the Monitoring Plugins development guidelines:
 *   - exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN;
 *   - a daemon that does not answer (no socket, refused, timeout, an
 *     answer cut short or garbled) is CRITICAL: with fail-open Exim ACLs a
 *     dead savd means no verification at all;
 *   - UNKNOWN only for bad arguments and answers this check cannot read
 *     (a daemon of another version), and for -h and -V, as the plugins'
 *     own test scripts expect;
 *   - thresholds are the guidelines' ranges (10, 10:, ~:10, 10:20,
 *     @10:20), one pair per metric.
 * It never changes the daemon's state and never waits past its timeout.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autoconf.h"
#include "client.h"

enum state { ST_OK, ST_WARNING, ST_CRITICAL, ST_UNKNOWN };

static const char *const state_name[] = {
	"OK", "WARNING", "CRITICAL", "UNKNOWN"
};

/* A threshold range: alert outside [lo, hi], or inside with '@'. */
struct range {
	int set;
	int inside;
	double lo, hi;          /* -INFINITY for '~', INFINITY when open */
	const char *text;       /* as given: echoed in the perfdata */
};

/* Metrics with thresholds; the order is the perfdata's. */
enum metric {
	M_TIME, M_DNSFAIL, M_TIMEOUT, M_BLOCKED, M_INFLIGHT, M_LAG,
	M_LAST_SUCCESS, M__COUNT
};

static const struct {
	const char *opt;        /* --warning-OPT, --critical-OPT */
	const char *label;      /* perfdata label */
	const char *uom;
	const char *field;      /* HEALTH field; NULL: the answer time */
	const char *help;
} mdef[M__COUNT] = {
	[M_TIME] = { "time", "time", "ms", NULL,
	    "HEALTH answer time, ms (also -w, -c)" },
	[M_DNSFAIL] = { "dnsfail", "dnsfail", "%", "dnsfail_pct",
	    "share of recent defer dnsfail, %" },
	[M_TIMEOUT] = { "timeouts", "timeout", "%", "timeout_pct",
	    "share of recent defer timeout/unreachable, %" },
	[M_BLOCKED] = { "blocked", "blocked", "%", "blocked_pct",
	    "share of recent unknown blocked, %" },
	[M_INFLIGHT] = { "inflight", "inflight", "", "inflight",
	    "verifications in flight" },
	[M_LAG] = { "lag", "loop_lag", "ms", "loop_lag_ms",
	    "event-loop lag, ms" },
	[M_LAST_SUCCESS] = { "last-success", "last_success", "s",
	    "last_success", "seconds since the last decided callout" },
};

/* HEALTH and STATS fields shown as perfdata only. */
static const struct {
	int from_stats;
	const char *key;
	const char *uom;
} perf_more[] = {
	{ 0, "sessions", "" }, { 0, "backed_off", "" },
	{ 0, "blocked_hosts", "" }, { 0, "recent", "" },
	{ 1, "clients", "" }, { 1, "pending", "" },
	{ 1, "cache_entries", "" }, { 1, "requests", "c" },
	{ 1, "verifications", "c" }, { 1, "cache_hits", "c" },
	{ 1, "cache_misses", "c" }, { 1, "callouts", "c" },
	{ 1, "backoffs", "c" }, { 1, "blocks", "c" },
	{ 1, "accepted", "c" }, { 1, "evicted", "c" }, { 1, "uptime", "s" },
};

#define OPT_BASE 256    /* long-only options: OPT_BASE + 2 * metric (+1) */

struct check {
	const char *target;
	int timeout_ms;
	int verbose;
	struct range warn[M__COUNT], crit[M__COUNT];
	double value[M__COUNT];
	int known[M__COUNT];
	char answer[CLIENT_ANSWER_MAX + 1];
	const char *health, *stats;     /* the two lines inside answer[] */
};

static void
usage(FILE *fp)
{
	int m;

	fprintf(fp, "check_savd %s - Monitoring Plugins check for savd\n"
	    "usage: check_savd [-s socket] [-t timeout] [-w RANGE] [-c RANGE]\n"
	    "                  [--warning-METRIC RANGE] [--critical-METRIC "
	    "RANGE] [-v] [-V] [-h]\n"
	    "  -s, --socket    UNIX socket path or host:port (default %s)\n"
	    "  -t, --timeout   seconds to wait for the answer (default 10)\n"
	    "  -w, --warning-time, -c, --critical-time RANGE\n"
	    "                  thresholds on the answer time in ms\n"
	    "  -v, --verbose   add the daemon's answers after the status line\n"
	    "  -V, --version   print the version (exit 3)\n"
	    "  -h, --help      print this help (exit 3)\n"
	    "METRIC is one of:\n", PACKAGE_VERSION, SAVD_SOCKET);
	for (m = 0; m < M__COUNT; m++)
		fprintf(fp, "  %-14s %s\n", mdef[m].opt, mdef[m].help);
	fprintf(fp, "RANGE (Monitoring Plugins guidelines): N alerts outside "
	    "0..N, N: below N,\n  ~:N above N, N:M outside N..M, @N:M inside "
	    "N..M.\nHEALTH's own status warning/critical counts too.\n");
}

static void
finish(enum state st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void
finish(enum state st, const char *fmt, ...)
{
	va_list ap;

	printf("SAVD %s - ", state_name[st]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(st);
}

/* One end of a range: a decimal number; -1 if bad. */
static int
parse_bound(const char *s, size_t len, double *v)
{
	char buf[64], *end;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*v = strtod(buf, &end);
	return *end != '\0' || errno != 0 || !isfinite(*v) ? -1 : 0;
}

/* "[@][start:][end]" with "~" for minus infinity; 0 or -1. */
static int
parse_range(const char *s, struct range *r)
{
	const char *p = s, *colon;

	memset(r, 0, sizeof(*r));
	r->text = s;
	if (*p == '@') {
		r->inside = 1;
		p++;
	}
	if ((colon = strchr(p, ':')) == NULL) {
		r->lo = 0;
		if (parse_bound(p, strlen(p), &r->hi) == -1)
			return -1;
	} else {
		if (colon - p == 1 && *p == '~')
			r->lo = -INFINITY;
		else if (parse_bound(p, (size_t)(colon - p), &r->lo) == -1)
			return -1;
		if (colon[1] == '\0')
			r->hi = INFINITY;
		else if (parse_bound(colon + 1, strlen(colon + 1), &r->hi) == -1)
			return -1;
	}
	if (r->lo > r->hi)
		return -1;
	r->set = 1;
	return 0;
}

/* Does value raise an alert against r? */
static int
alerts(const struct range *r, double v)
{
	int in = v >= r->lo && v <= r->hi;

	return r->set && (r->inside ? in : !in);
}

/* Seconds for -t: decimals allowed; -1 if bad. */
static int
parse_timeout(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || (*end != '\0' && strcmp(end, "s") != 0) ||
	    !(v > 0 && v <= 3600))
		return -1;
	return v * 1000 < 1 ? 1 : (int)(v * 1000);
}

static void
set_range(struct check *ck, int critical, enum metric m, const char *arg)
{
	if (parse_range(arg, critical ? &ck->crit[m] : &ck->warn[m]) == -1)
		finish(ST_UNKNOWN, "bad threshold --%s-%s '%s': want a range "
		    "such as 10, 10:, ~:10, 10:20 or @10:20",
		    critical ? "critical" : "warning", mdef[m].opt, arg);
}

/* Long options: the fixed ones, then a warning/critical pair per metric. */
static const struct option *
long_options(void)
{
	static char names[M__COUNT][2][32];
	static struct option lo[8 + 2 * M__COUNT + 1] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "warning", required_argument, NULL, 'w' },
		{ "critical", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
	};
	int m, k, i = 7;

	for (m = 0; m < M__COUNT; m++)
		for (k = 0; k < 2; k++) {
			snprintf(names[m][k], sizeof(names[m][k]), "%s-%s",
			    k ? "critical" : "warning", mdef[m].opt);
			lo[i++] = (struct option){ names[m][k],
			    required_argument, NULL, OPT_BASE + 2 * m + k };
		}
	return lo;
}

static void
parse_args(struct check *ck, int argc, char **argv)
{
	const struct option *lo = long_options();
	int c;
	enum metric m;

	while ((c = getopt_long(argc, argv, "s:t:w:c:vVh", lo, NULL)) != -1) {
		if (c >= OPT_BASE && c < OPT_BASE + 2 * M__COUNT) {
			m = (c - OPT_BASE) / 2;
			set_range(ck, (c - OPT_BASE) % 2, m, optarg);
			continue;
		}
		switch (c) {
		case 's':
			ck->target = optarg;
			break;
		case 't':
			if ((ck->timeout_ms = parse_timeout(optarg)) == -1)
				finish(ST_UNKNOWN, "bad timeout '%s'", optarg);
			break;
		case 'w':
			set_range(ck, 0, M_TIME, optarg);
			break;
		case 'c':
			set_range(ck, 1, M_TIME, optarg);
			break;
		case 'v':
			ck->verbose++;
			break;
		case 'V':
			printf("check_savd %s\n", PACKAGE_VERSION);
			exit(ST_UNKNOWN);
		case 'h':
			usage(stdout);
			exit(ST_UNKNOWN);
		default:
			finish(ST_UNKNOWN, "bad arguments (check_savd -h "
			    "lists them)");
		}
	}
	if (optind != argc)
		finish(ST_UNKNOWN, "unexpected argument '%s'", argv[optind]);
	if (*ck->target == '\0')
		finish(ST_UNKNOWN, "empty socket");
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* HEALTH and STATS in one exchange: CRITICAL unless both lines came. */
static void
ask(struct check *ck)
{
	static const char req[] = "HEALTH\nSTATS\n";
	char err[512], *nl;
	double t0 = now_ms();

	if (client_query(ck->target, req, sizeof(req) - 1, 2, ck->timeout_ms,
	    ck->answer, sizeof(ck->answer), err, sizeof(err)) == -1)
		finish(ST_CRITICAL, "%s: %s", ck->target, err);
	ck->value[M_TIME] = now_ms() - t0;
	ck->known[M_TIME] = 1;
	ck->health = ck->answer;
	nl = strchr(ck->answer, '\n');
	*nl = '\0';
	ck->stats = nl + 1;
	*strchr(nl + 1, '\n') = '\0';
	if (client_check_line(ck->health) == -1)
		finish(ST_CRITICAL, "%s: garbled answer to HEALTH",
		    ck->target);
	if (client_check_line(ck->stats) == -1)
		finish(ST_CRITICAL, "%s: garbled answer to STATS", ck->target);
}

/* Make a daemon-provided string safe for the status line. */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '|' || (unsigned char)*s < 0x20 ||
		    (unsigned char)*s > 0x7e)
			*s = '/';
}

/* A numeric field; 1 when present and a number. */
static int
num_field(const char *line, const char *key, double *v)
{
	char val[CLIENT_VALUE_MAX], *end;

	if (client_field(line, key, val, sizeof(val)) != 1 || val[0] == '\0')
		return 0;
	*v = strtod(val, &end);
	return *end == '\0' && isfinite(*v);
}

/* HEALTH's own verdict; UNKNOWN when it cannot be read. */
static enum state
daemon_state(const struct check *ck, char *reasons, size_t rlen)
{
	char result[CLIENT_VALUE_MAX], status[CLIENT_VALUE_MAX];

	if (client_field(ck->health, "result", result, sizeof(result)) != 1)
		finish(ST_UNKNOWN, "HEALTH answer has no result");
	if (strcmp(result, "ok") != 0) {
		if (client_field(ck->health, "reason", reasons, rlen) != 1)
			snprintf(reasons, rlen, "none");
		sanitize(result);
		sanitize(reasons);
		finish(ST_UNKNOWN, "HEALTH answered result=%s reason=%s",
		    result, reasons);
	}
	if (client_field(ck->health, "status", status, sizeof(status)) != 1)
		finish(ST_UNKNOWN, "HEALTH answer has no status");
	if (client_field(ck->health, "reasons", reasons, rlen) != 1)
		reasons[0] = '\0';
	sanitize(reasons);
	if (strcmp(status, "ok") == 0)
		return ST_OK;
	if (strcmp(status, "warning") == 0)
		return ST_WARNING;
	if (strcmp(status, "critical") == 0)
		return ST_CRITICAL;
	sanitize(status);
	finish(ST_UNKNOWN, "HEALTH answered an unknown status '%s'", status);
}

/* Read the metrics from HEALTH; last_success -1 (never) is unknown. */
static void
read_metrics(struct check *ck)
{
	int m;

	for (m = 0; m < M__COUNT; m++) {
		if (mdef[m].field == NULL)
			continue;
		ck->known[m] = num_field(ck->health, mdef[m].field,
		    &ck->value[m]);
		if (m == M_LAST_SUCCESS && ck->value[m] < 0)
			ck->known[m] = 0;
	}
	if (!ck->known[M_INFLIGHT])
		finish(ST_UNKNOWN, "HEALTH answer has no inflight count");
}

/* A number for perfdata and the status line: trailing zeros dropped. */
static const char *
num(char *buf, size_t len, double v)
{
	char *p;

	snprintf(buf, len, "%.3f", v);
	if ((p = strchr(buf, '.')) != NULL) {
		p += strlen(p) - 1;
		while (*p == '0')
			*p-- = '\0';
		if (*p == '.')
			*p = '\0';
	}
	return buf;
}

/* Check each metric against its ranges; name the ones that alert. */
static enum state
thresholds(const struct check *ck, char *why, size_t wlen)
{
	enum state st = ST_OK, m_st;
	char a[48];
	size_t off = 0;
	int m;

	why[0] = '\0';
	for (m = 0; m < M__COUNT; m++) {
		if (!ck->known[m])
			continue;
		m_st = alerts(&ck->crit[m], ck->value[m]) ? ST_CRITICAL :
		    alerts(&ck->warn[m], ck->value[m]) ? ST_WARNING : ST_OK;
		if (m_st == ST_OK)
			continue;
		if (off < wlen)
			off += (size_t)snprintf(why + off, wlen - off,
			    ", %s %s%s (%s range %s)", mdef[m].label,
			    num(a, sizeof(a), ck->value[m]), mdef[m].uom,
			    m_st == ST_CRITICAL ? "critical" : "warning",
			    m_st == ST_CRITICAL ? ck->crit[m].text :
			    ck->warn[m].text);
		if (m_st > st)
			st = m_st;
	}
	return st;
}

/* 'label'=value[UOM];[warn];[crit];[min];[max] for every number. */
static void
print_perfdata(const struct check *ck)
{
	char a[48];
	double v;
	size_t i;
	int m;

	fputs(" |", stdout);
	for (m = 0; m < M__COUNT; m++) {
		printf(" %s=", mdef[m].label);
		if (ck->known[m])
			printf("%s%s", num(a, sizeof(a), ck->value[m]),
			    mdef[m].uom);
		else
			putchar('U');   /* the guidelines' "undetermined" */
		printf(";%s;%s;0;%s", ck->warn[m].set ? ck->warn[m].text : "",
		    ck->crit[m].set ? ck->crit[m].text : "",
		    strcmp(mdef[m].uom, "%") == 0 ? "100" : "");
	}
	for (i = 0; i < sizeof(perf_more) / sizeof(perf_more[0]); i++)
		if (num_field(perf_more[i].from_stats ? ck->stats : ck->health,
		    perf_more[i].key, &v))
			printf(" %s=%s%s;;;0;", perf_more[i].key,
			    num(a, sizeof(a), v), perf_more[i].uom);
	putchar('\n');
}

int
main(int argc, char **argv)
{
	static struct check ck;
	char reasons[CLIENT_VALUE_MAX], why[1024], a[48];
	enum state st, st_daemon, st_limits;

	ck.target = SAVD_SOCKET;
	ck.timeout_ms = 10000;
	parse_args(&ck, argc, argv);
	ask(&ck);
	st_daemon = daemon_state(&ck, reasons, sizeof(reasons));
	if (client_field(ck.stats, "result", a, sizeof(a)) != 1 ||
	    strcmp(a, "ok") != 0)
		finish(ST_UNKNOWN, "STATS did not answer result=ok");
	read_metrics(&ck);
	st_limits = thresholds(&ck, why, sizeof(why));
	st = st_daemon > st_limits ? st_daemon : st_limits;

	printf("SAVD %s - status %s", state_name[st],
	    st_daemon == ST_OK ? "ok" : st_daemon == ST_WARNING ? "warning" :
	    "critical");
	if (reasons[0] != '\0')
		printf(" (%s)", reasons);
	printf(", %.0f inflight, answer %s ms%s", ck.value[M_INFLIGHT],
	    num(a, sizeof(a), ck.value[M_TIME]), why);
	print_perfdata(&ck);
	if (ck.verbose > 0)
		printf("HEALTH: %s\nSTATS: %s\n", ck.health, ck.stats);
	return st;
}
