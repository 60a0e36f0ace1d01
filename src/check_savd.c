/*
 * check_savd.c - Monitoring Plugins check for savd: sends HEALTH and STATS
 * on one connection, prints one status line with performance data and
 * exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.  It never changes the
 * daemon's state and never waits past its timeout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autoconf.h"
#include "client.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

enum state { ST_OK, ST_WARNING, ST_CRITICAL, ST_UNKNOWN };

static const char *state_name[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
static const char *status_word[] = { "ok", "warning", "critical", "unknown" };

/* -w / -c: TIME[,INFLIGHT]; either part may be left empty. */
struct threshold {
	int has_time;
	double time_ms;         /* alert when the answer took longer */
	int has_inflight;
	long long inflight;     /* alert when more are in flight */
};

/* STATS counters shown as performance data, with their unit. */
static const struct {
	const char *key;
	const char *uom;
} perf_stats[] = {
	{ "clients", "" },
	{ "pending", "" },
	{ "requests", "c" },
	{ "verifications", "c" },
	{ "cache_hits", "c" },
	{ "cache_misses", "c" },
	{ "callouts", "c" },
	{ "accepted", "c" },
	{ "evicted", "c" },
	{ "uptime", "s" },
};

struct check {
	const char *target;
	int timeout_ms;
	struct threshold warn, crit;
	double elapsed_ms;
	char health[CLIENT_ANSWER_MAX + 1];
	const char *stats;      /* second line inside health[] */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: check_savd [-s socket] [-w TIME[,INFLIGHT]] "
	    "[-c TIME[,INFLIGHT]] [-t timeout] [-V] [-h]\n"
	    "  -s, --socket    UNIX socket path or host:port (default %s)\n"
	    "  -w, --warning   warn when the answer takes more than TIME ms\n"
	    "                  or more than INFLIGHT verifications run\n"
	    "  -c, --critical  the same for CRITICAL\n"
	    "  -t, --timeout   seconds to wait for the answer (default 10)\n"
	    "  -V, --version   print the version\n"
	    "  -h, --help      print this help\n", SAVD_SOCKET);
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

static int
parse_count(const char *s, size_t len, long long *v)
{
	char buf[32], *end;

	if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*v = strtoll(buf, &end, 10);
	return *end != '\0' || errno != 0 ? -1 : 0;
}

static int
parse_ms(const char *s, size_t len, double *v)
{
	char buf[32], *end;

	if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*v = strtod(buf, &end);
	return *end != '\0' || !(*v >= 0 && *v < 1e9) ? -1 : 0;
}

static int
parse_threshold(const char *s, struct threshold *t)
{
	const char *comma = strchr(s, ',');
	size_t tlen = comma ? (size_t)(comma - s) : strlen(s);

	memset(t, 0, sizeof(*t));
	if (tlen > 0) {
		if (parse_ms(s, tlen, &t->time_ms) == -1)
			return -1;
		t->has_time = 1;
	}
	if (comma != NULL && comma[1] != '\0') {
		if (parse_count(comma + 1, strlen(comma + 1),
		    &t->inflight) == -1)
			return -1;
		t->has_inflight = 1;
	}
	return t->has_time || t->has_inflight ? 0 : -1;
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
parse_args(struct check *ck, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "warning", required_argument, NULL, 'w' },
		{ "critical", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:w:c:t:Vh", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 's':
			ck->target = optarg;
			break;
		case 'w':
		case 'c':
			if (parse_threshold(optarg, c == 'w' ? &ck->warn :
			    &ck->crit) == -1)
				finish(ST_UNKNOWN, "bad threshold -%c '%s': "
				    "want TIME_MS[,INFLIGHT]", c, optarg);
			break;
		case 't':
			if ((ck->timeout_ms = parse_timeout(optarg)) == -1)
				finish(ST_UNKNOWN, "bad timeout '%s'", optarg);
			break;
		case 'V':
			printf("check_savd %s\n", PACKAGE_VERSION);
			exit(ST_OK);
		case 'h':
			usage(stdout);
			exit(ST_OK);
		default:
			usage(stdout);
			exit(ST_UNKNOWN);
		}
	}
	if (optind != argc || *ck->target == '\0') {
		usage(stdout);
		exit(ST_UNKNOWN);
	}
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* HEALTH and STATS in one exchange; UNKNOWN unless both lines are sound. */
static void
ask(struct check *ck)
{
	static const char req[] = "HEALTH\nSTATS\n";
	char err[512], *nl;
	double t0 = now_ms();

	if (client_query(ck->target, req, sizeof(req) - 1, 2, ck->timeout_ms,
	    ck->health, sizeof(ck->health), err, sizeof(err)) == -1)
		finish(ST_UNKNOWN, "%s: %s", ck->target, err);
	ck->elapsed_ms = now_ms() - t0;
	nl = strchr(ck->health, '\n');
	*nl = '\0';
	ck->stats = nl + 1;
	nl = strchr(nl + 1, '\n');
	*nl = '\0';
	if (client_check_line(ck->health) == -1)
		finish(ST_UNKNOWN, "garbled answer to HEALTH");
	if (client_check_line(ck->stats) == -1)
		finish(ST_UNKNOWN, "garbled answer to STATS");
}

/* The field key of line, or UNKNOWN naming what is missing. */
static void
need_field(const char *line, const char *what, const char *key, char *val,
    size_t vallen)
{
	if (client_field(line, key, val, vallen) != 1)
		finish(ST_UNKNOWN, "%s answer has no %s", what, key);
}

/* Make a daemon-provided string safe for the status line. */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '|' || (unsigned char)*s < 0x20)
			*s = '/';
}

static enum state
daemon_state(struct check *ck, char *reasons, size_t rlen)
{
	char result[CLIENT_VALUE_MAX], status[CLIENT_VALUE_MAX];

	need_field(ck->health, "HEALTH", "result", result, sizeof(result));
	if (strcmp(result, "ok") != 0) {
		if (client_field(ck->health, "reason", reasons, rlen) != 1)
			snprintf(reasons, rlen, "none");
		sanitize(reasons);
		finish(ST_UNKNOWN, "HEALTH answered result=%s reason=%s",
		    result, reasons);
	}
	need_field(ck->health, "HEALTH", "status", status, sizeof(status));
	if (client_field(ck->health, "reasons", reasons, rlen) != 1 &&
	    client_field(ck->health, "reason", reasons, rlen) != 1 &&
	    client_field(ck->health, "text", reasons, rlen) != 1)
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

/* Level reached by value against the -w / -c limits. */
static enum state
level(int has_w, double w, int has_c, double c, double value)
{
	if (has_c && value > c)
		return ST_CRITICAL;
	if (has_w && value > w)
		return ST_WARNING;
	return ST_OK;
}

/* A number for perfdata: fixed point, trailing zeros dropped. */
static const char *
num(char *buf, size_t len, double v)
{
	char *p;

	snprintf(buf, len, "%.9f", v);
	if ((p = strchr(buf, '.')) != NULL) {
		p += strlen(p) - 1;
		while (*p == '0')
			*p-- = '\0';
		if (*p == '.')
			*p = '\0';
	}
	return buf;
}

static void
print_perfdata(const struct check *ck, long long inflight)
{
	char a[48], b[48], c[48], val[CLIENT_VALUE_MAX];
	long long v;
	size_t i;

	printf(" | time=%ss;%s;%s;0;", num(a, sizeof(a), ck->elapsed_ms / 1000),
	    ck->warn.has_time ? num(b, sizeof(b), ck->warn.time_ms / 1000) : "",
	    ck->crit.has_time ? num(c, sizeof(c), ck->crit.time_ms / 1000) : "");
	printf(" inflight=%lld;", inflight);
	if (ck->warn.has_inflight)
		printf("%lld", ck->warn.inflight);
	putchar(';');
	if (ck->crit.has_inflight)
		printf("%lld", ck->crit.inflight);
	printf(";0;");
	for (i = 0; i < sizeof(perf_stats) / sizeof(perf_stats[0]); i++) {
		if (client_field(ck->stats, perf_stats[i].key, val,
		    sizeof(val)) != 1 ||
		    parse_count(val, strlen(val), &v) == -1)
			continue;
		printf(" %s=%lld%s;;;0;", perf_stats[i].key, v,
		    perf_stats[i].uom);
	}
}

static enum state
worst(enum state a, enum state b)
{
	return a > b ? a : b;
}

int
main(int argc, char **argv)
{
	static struct check ck;
	char reasons[CLIENT_VALUE_MAX], val[CLIENT_VALUE_MAX];
	enum state st, st_daemon, st_time, st_infl;
	long long inflight;

	ck.target = SAVD_SOCKET;
	ck.timeout_ms = 10000;
	parse_args(&ck, argc, argv);
	ask(&ck);
	st_daemon = daemon_state(&ck, reasons, sizeof(reasons));
	need_field(ck.stats, "STATS", "result", val, sizeof(val));
	if (strcmp(val, "ok") != 0)
		finish(ST_UNKNOWN, "STATS answered result=%s", val);
	need_field(ck.stats, "STATS", "inflight", val, sizeof(val));
	if (parse_count(val, strlen(val), &inflight) == -1)
		finish(ST_UNKNOWN, "STATS answered a bad inflight count");
	st_time = level(ck.warn.has_time, ck.warn.time_ms, ck.crit.has_time,
	    ck.crit.time_ms, ck.elapsed_ms);
	st_infl = level(ck.warn.has_inflight, (double)ck.warn.inflight,
	    ck.crit.has_inflight, (double)ck.crit.inflight, (double)inflight);
	st = worst(st_daemon, worst(st_time, st_infl));

	printf("SAVD %s - status %s", state_name[st], status_word[st_daemon]);
	if (reasons[0] != '\0')
		printf(" (%s)", reasons);
	printf(", %lld inflight", inflight);
	if (st_infl != ST_OK)
		printf(" (> %lld)", st_infl == ST_CRITICAL ?
		    ck.crit.inflight : ck.warn.inflight);
	printf(", answer %.3f ms", ck.elapsed_ms);
	if (st_time != ST_OK)
		printf(" (> %s ms)", num(val, sizeof(val),
		    st_time == ST_CRITICAL ? ck.crit.time_ms : ck.warn.time_ms));
	print_perfdata(&ck, inflight);
	putchar('\n');
	return st;
}
