/*
 * confval.h - parsers for single configuration values: times with
 * suffixes, numbers, booleans, octal modes, comma lists, host names,
 * skip-domain entries, routes, address lists and rates.  They know
 * nothing of the key table (config.c owns that) and do no I/O and no
 * name lookups.  Unless said otherwise a parser returns 0, or -1 leaving
 * its outputs unspecified; callers parse into temporaries.
 */
#ifndef SAVD_CONFVAL_H
#define SAVD_CONFVAL_H

#include <stddef.h>
#include "netaddr.h"
#include "route.h"

#define CONFVAL_DAY             86400u
#define CONFVAL_ITEM_MAX        1024    /* one list entry, with its NUL */

/* v made printable and cut to 60 bytes plus "...", for messages. */
const char *confval_shown(const char *v, char *out, size_t cap);

/* "bad value 'V' (expected ...)" into err; always returns -1. */
int confval_bad(char *err, size_t errlen, const char *v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "N", "Ns", "Nm", "Nh" or "Nd" into seconds, at most UINT_MAX. */
int confval_time(const char *s, unsigned long *out);
/* Seconds as the shortest exact "Nd", "Nh", "Nm" or "Ns"; returns buf. */
const char *confval_fmt_time(unsigned long s, char *buf, size_t cap);
/* Decimal digits only (at most 10), within [min, max]. */
int confval_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out);
/* yes/true/on/1 or no/false/off/0, any case, into 1 or 0. */
int confval_bool(const char *s, int *out);
/* 1 to 5 octal digits, at most max. */
int confval_mode(const char *s, unsigned long max, unsigned *out);

/* A comma-separated list being walked by confval_list_next. */
struct confval_list {
	const char *p;          /* the rest; NULL when done */
	int after_comma;        /* a blank rest is then an empty entry */
};

void confval_list_start(struct confval_list *l, const char *v);
/*
 * Next entry, trimmed of spaces and tabs, into item.  Returns 1 with an
 * entry, 0 at the end, -1 (message in err) on an empty entry ("a,,b",
 * "a,") or an over-long one.  An all-blank value is an empty list.
 */
int confval_list_next(struct confval_list *l, char *item, size_t cap,
    char *err, size_t errlen);

/* A user name: printable, no spaces, at most 255 bytes; copied to out. */
int confval_name(const char *s, char *out, size_t cap);
/* Host name of LDH labels (one label is fine), lower-cased into out,
 * which holds ADDR_DOMAIN_MAX + 1 bytes. */
int confval_hostname(const char *s, size_t len, char *out);
/* "example.com" or "*.example.com", validated and lower-cased into out. */
int confval_skip_domain(const char *s, char *out, size_t cap);

/* "" or "none" (*has = 0), else "ip:port" or "[ipv6]:port", port > 0. */
int confval_listen(const char *s, int *has, struct hostport *out);
/* A list of at most max "ip", "ip:port" or "[ipv6]:port" (port 53 by
 * default) into ns[]; message in err on failure. */
int confval_nameservers(const char *v, struct hostport *ns, size_t max,
    size_t *n, char *err, size_t errlen);
/* A list of addresses or prefixes; *out is malloc'd (NULL when empty),
 * the caller frees it.  Message in err on failure, nothing allocated. */
int confval_cidrs(const char *v, struct cidr **out, size_t *n, char *err,
    size_t errlen);
/* A list of "domain=[ip]:port" or "domain=host:port" (port optional), no
 * domain twice; *out as for confval_cidrs. */
int confval_routes(const char *v, struct route **out, size_t *n, char *err,
    size_t errlen);
/* "N/period" with N in [min, max] and period 1s to 1d, or "0" / "none"
 * (count 0, period 60). */
int confval_rate(const char *s, unsigned long min, unsigned long max,
    unsigned *count, unsigned *period);

#endif
