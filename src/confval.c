/*
 * confval.c - parsers for single configuration values (see confval.h).
 * Every input is bounded: digit counts, entry lengths, list sizes.  Must
 * not know the key table, touch a struct config, do I/O or look names up.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "confval.h"
#include "xmalloc.h"

#define NAME_MAX_BYTES  255

const char *
confval_shown(const char *v, char *out, size_t cap)
{
	size_t i;

	for (i = 0; v[i] != '\0' && i < 60 && i + 4 < cap; i++)
		out[i] = isprint((unsigned char)v[i]) ? v[i] : '?';
	if (v[i] != '\0' && i + 4 <= cap) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

int
confval_bad(char *err, size_t errlen, const char *v, const char *fmt, ...)
{
	char sv[80], exp[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(exp, sizeof(exp), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "bad value '%s' (expected %s)",
	    confval_shown(v, sv, sizeof(sv)), exp);
	return -1;
}

const char *
confval_fmt_time(unsigned long s, char *buf, size_t cap)
{
	if (s != 0 && s % CONFVAL_DAY == 0)
		snprintf(buf, cap, "%lud", s / CONFVAL_DAY);
	else if (s != 0 && s % 3600 == 0)
		snprintf(buf, cap, "%luh", s / 3600);
	else if (s != 0 && s % 60 == 0)
		snprintf(buf, cap, "%lum", s / 60);
	else
		snprintf(buf, cap, "%lus", s);
	return buf;
}

/* 1..10 decimal digits at *pp into *out; advances *pp.  0 or -1. */
static int
digits(const char **pp, unsigned long long *out)
{
	const char *p = *pp;
	unsigned long long v = 0;
	int n;

	for (n = 0; *p >= '0' && *p <= '9'; p++, n++) {
		if (n >= 10)
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (n == 0)
		return -1;
	*pp = p;
	*out = v;
	return 0;
}

int
confval_time(const char *s, unsigned long *out)
{
	unsigned long long v, mul = 1;

	if (digits(&s, &v) == -1)
		return -1;
	switch (*s) {
	case '\0': case 's': break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = CONFVAL_DAY; break;
	default: return -1;
	}
	if (*s != '\0' && s[1] != '\0')
		return -1;
	if (v * mul > UINT_MAX)
		return -1;
	*out = (unsigned long)(v * mul);
	return 0;
}

int
confval_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long long n;

	if (digits(&s, &n) == -1 || *s != '\0' || n < min || n > max)
		return -1;
	*out = (unsigned long)n;
	return 0;
}

int
confval_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int
confval_mode(const char *s, unsigned long max, unsigned *out)
{
	unsigned long m = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 5 || s[i] < '0' || s[i] > '7')
			break;
		m = m * 8 + (unsigned long)(s[i] - '0');
	}
	if (i == 0 || s[i] != '\0' || m > max)
		return -1;
	*out = (unsigned)m;
	return 0;
}

void
confval_list_start(struct confval_list *l, const char *v)
{
	l->p = v;
	l->after_comma = 0;
}

int
confval_list_next(struct confval_list *l, char *item, size_t cap,
    char *err, size_t errlen)
{
	const char *p = l->p, *e, *comma;

	if (p == NULL)
		return 0;
	p += strspn(p, " \t");
	if (*p == '\0' && !l->after_comma) {
		l->p = NULL;
		return 0;
	}
	comma = strchr(p, ',');
	e = comma ? comma : p + strlen(p);
	l->p = comma ? comma + 1 : NULL;
	l->after_comma = 1;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e == p) {
		snprintf(err, errlen, "empty list entry");
		return -1;
	}
	if ((size_t)(e - p) >= cap) {
		snprintf(err, errlen, "list entry too long");
		return -1;
	}
	memcpy(item, p, (size_t)(e - p));
	item[e - p] = '\0';
	return 1;
}

/* A name that is a typo if it holds a space or a control character. */
int
confval_name(const char *s, char *out, size_t cap)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isgraph((unsigned char)s[i]))
			return -1;
	if (i > NAME_MAX_BYTES || i >= cap)
		return -1;
	memcpy(out, s, i + 1);
	return 0;
}

int
confval_hostname(const char *s, size_t len, char *out)
{
	size_t i, lab = 0;

	if (len == 0 || len > ADDR_DOMAIN_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return -1;
			lab = 0;
		} else if (isalnum(ch) || (ch == '-' && lab > 0)) {
			if (++lab > 63)
				return -1;
		} else
			return -1;
		out[i] = (char)tolower(ch);
	}
	if (lab == 0 || s[len - 1] == '-')
		return -1;
	out[len] = '\0';
	return 0;
}

int
confval_skip_domain(const char *s, char *out, size_t cap)
{
	char dom[ADDR_DOMAIN_MAX + 1];
	int wild = strncmp(s, "*.", 2) == 0;
	const char *d = wild ? s + 2 : s;

	if (address_parse_domain(d, strlen(d), dom) == -1)
		return -1;
	snprintf(out, cap, "%s%s", wild ? "*." : "", dom);
	return 0;
}

int
confval_listen(const char *s, int *has, struct hostport *out)
{
	struct hostport hp;

	memset(&hp, 0, sizeof(hp));
	if (*s == '\0' || strcasecmp(s, "none") == 0) {
		*has = 0;
		*out = hp;
		return 0;
	}
	if (hostport_parse(s, 0, &hp) == -1 || hp.port == 0)
		return -1;
	*has = 1;
	*out = hp;
	return 0;
}

int
confval_nameservers(const char *v, struct hostport *ns, size_t max,
    size_t *n, char *err, size_t errlen)
{
	struct confval_list it;
	char item[CONFVAL_ITEM_MAX];
	int r;

	*n = 0;
	confval_list_start(&it, v);
	while ((r = confval_list_next(&it, item, sizeof(item), err,
	    errlen)) == 1) {
		if (*n == max) {
			snprintf(err, errlen, "too many entries (at most %zu)",
			    max);
			return -1;
		}
		if (hostport_parse(item, 53, &ns[*n]) == -1)
			return confval_bad(err, errlen, item,
			    "ip, ip:port or [ipv6]:port");
		(*n)++;
	}
	return r;
}

int
confval_cidrs(const char *v, struct cidr **out, size_t *n, char *err,
    size_t errlen)
{
	struct cidr *nets = NULL;
	struct confval_list it;
	char item[CONFVAL_ITEM_MAX];
	size_t k = 0;
	int r;

	confval_list_start(&it, v);
	while ((r = confval_list_next(&it, item, sizeof(item), err,
	    errlen)) == 1) {
		nets = xrealloc(nets, (k + 1) * sizeof(*nets));
		if (cidr_parse(item, &nets[k]) == -1) {
			free(nets);
			return confval_bad(err, errlen, item,
			    "an address or a prefix such as 10.0.0.0/8");
		}
		k++;
	}
	if (r == -1) {
		free(nets);
		return -1;
	}
	*out = nets;
	*n = k;
	return 0;
}

/* "[ip]", "[ip]:port", "ip", "ip:port", "host" or "host:port". */
static int
route_target(const char *t, struct route *r)
{
	struct hostport hp;
	const char *colon;
	long port;
	size_t len;

	if (hostport_parse(t, 0, &hp) == 0) {
		r->literal = 1;
		r->ip = hp.ip;
		r->port = hp.port;
		return 0;
	}
	colon = strchr(t, ':');
	len = colon ? (size_t)(colon - t) : strlen(t);
	if (colon != NULL) {
		if (colon[1] < '1' || colon[1] > '9' ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
		    strlen(colon + 1) > 5 ||
		    (port = strtol(colon + 1, NULL, 10)) > 65535)
			return -1;
		r->port = (int)port;
	}
	return confval_hostname(t, len, r->host);
}

/* One "domain=target" entry. */
static int
route_entry(const char *item, struct route *r)
{
	const char *eq = strchr(item, '=');
	char dom[ADDR_DOMAIN_MAX + 1];
	size_t dl;

	memset(r, 0, sizeof(*r));
	if (eq == NULL)
		return -1;
	dl = (size_t)(eq - item);
	while (dl > 0 && (item[dl - 1] == ' ' || item[dl - 1] == '\t'))
		dl--;
	if (address_parse_domain(item, dl, dom) == -1)
		return -1;
	memcpy(r->domain, dom, sizeof(r->domain));
	eq++;
	eq += strspn(eq, " \t");
	return route_target(eq, r);
}

/* Checks the newest entry rt[n] of a list being built; frees rt on error. */
static int
route_check(struct route *rt, size_t n, const char *item, char *err,
    size_t errlen)
{
	size_t i;

	if (route_entry(item, &rt[n]) == -1) {
		free(rt);
		return confval_bad(err, errlen, item, "domain=[ip]:port or "
		    "domain=host:port, port optional");
	}
	for (i = 0; i < n; i++) {
		if (strcmp(rt[i].domain, rt[n].domain) == 0) {
			snprintf(err, errlen, "duplicate route for '%s'",
			    rt[n].domain);
			free(rt);
			return -1;
		}
	}
	return 0;
}

int
confval_routes(const char *v, struct route **out, size_t *n, char *err,
    size_t errlen)
{
	struct route *rt = NULL;
	struct confval_list it;
	char item[CONFVAL_ITEM_MAX];
	size_t k = 0;
	int r;

	confval_list_start(&it, v);
	while ((r = confval_list_next(&it, item, sizeof(item), err,
	    errlen)) == 1) {
		rt = xrealloc(rt, (k + 1) * sizeof(*rt));
		if (route_check(rt, k, item, err, errlen) == -1)
			return -1;
		k++;
	}
	if (r == -1) {
		free(rt);
		return -1;
	}
	*out = rt;
	*n = k;
	return 0;
}

int
confval_rate(const char *s, unsigned long min, unsigned long max,
    unsigned *count, unsigned *period)
{
	unsigned long long n;
	unsigned long p;

	if (strcmp(s, "0") == 0 || strcasecmp(s, "none") == 0) {
		*count = 0;
		*period = 60;
		return 0;
	}
	if (digits(&s, &n) == -1 || *s != '/' || n < min || n > max ||
	    confval_time(s + 1, &p) == -1 || p < 1 || p > CONFVAL_DAY)
		return -1;
	*count = (unsigned)n;
	*period = (unsigned)p;
	return 0;
}
