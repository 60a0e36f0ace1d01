/*
 * log.c - one line per event, to syslog (facility mail) or, with -f, to
 * stderr with a timestamp.  Never blocks the loop for long: syslog(3) on a
 * datagram socket and unbuffered stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>
#include <sys/time.h>

#include "log.h"

static int use_stderr = 1;
static int debug_on;
static const char *log_ident = "savd";

void
log_open(const char *ident, int to_stderr, int debug)
{
	log_ident = ident;
	use_stderr = to_stderr;
	debug_on = debug;
	if (!use_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static void
vlog(int prio, const char *fmt, va_list ap)
{
	static const char *const names[] = {
		[LOG_ERR] = "error", [LOG_WARNING] = "warning",
		[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};
	char line[2048];
	struct timeval tv;
	struct tm tm;

	if (prio == LOG_DEBUG && !debug_on)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (!use_stderr) {
		syslog(prio, "%s", line);
		return;
	}
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s[%s]: %s\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)tv.tv_usec / 1000, log_ident,
	    names[prio] ? names[prio] : "log", line);
}

#define LOGFN(name, prio) \
void name(const char *fmt, ...) \
{ \
	va_list ap; \
	va_start(ap, fmt); \
	vlog(prio, fmt, ap); \
	va_end(ap); \
}

LOGFN(log_debug, LOG_DEBUG)
LOGFN(log_info, LOG_INFO)
LOGFN(log_warn, LOG_WARNING)
LOGFN(log_err, LOG_ERR)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
