/*
 * config.c - the configuration keys of doc/protocol.md 8: one table of
 * (name, setter, field, default, bounds) drives defaults, "key = value"
 * text, -o overrides, copying and freeing.  Defaults go through the same
 * setters as the file, so a default can never be a value the file rejects.
 * Parsing a single value is confval.c's; this file binds values to keys.
 * Pure: the caller reads the file and reports errors; no I/O, no lookups
 * of users, groups or host names here.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "confval.h"
#include "xmalloc.h"

#define LINE_MAX_BYTES  4096    /* longer config lines are an error */
#define VALUE_MAX       4096
#define MSG_MAX         512
#define SUN_PATH_MAX    107     /* sizeof(sun_path) - 1 on Linux */
#define DAY             CONFVAL_DAY

struct key;
typedef int (*setter_fn)(struct config *, const struct key *, const char *,
    char *, size_t);

enum own { OWN_NONE, OWN_STR, OWN_STRLIST };

struct key {
	const char *name;
	setter_fn set;
	size_t off;             /* field in struct config, if the setter uses one */
	const char *def;        /* default, parsed by set */
	unsigned long min, max; /* number, time (seconds) or string length */
	enum own own;           /* what config_free/config_copy must handle */
};

#define FIELD(c, k, type) ((type *)(void *)((char *)(c) + (k)->off))

static void
strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
strlist_add(struct strlist *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

static void
strlist_copy(struct strlist *dst, const struct strlist *src)
{
	size_t i;

	dst->n = 0;
	dst->v = NULL;
	for (i = 0; i < src->n; i++)
		strlist_add(dst, src->v[i]);
}

/* The key's string field now holds a copy of s. */
static void
replace_str(struct config *c, const struct key *k, const char *s)
{
	char **f = FIELD(c, k, char *);

	free(*f);
	*f = xstrdup(s);
}

static int
set_str(struct config *c, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	size_t len = strlen(v);

	if (len < k->min || len > k->max) {
		if (k->min > 0 && len == 0)
			return confval_bad(err, errlen, v, "a non-empty value");
		return confval_bad(err, errlen, v, "at most %lu bytes",
		    k->max);
	}
	replace_str(c, k, v);
	return 0;
}

static int
set_mode(struct config *c, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	if (confval_mode(v, k->max, FIELD(c, k, unsigned)) == -1)
		return confval_bad(err, errlen, v, "an octal mode");
	return 0;
}

/* A number within the key's bounds; what ("a number") names it in errors. */
static int
key_uint(const struct key *k, const char *v, const char *what,
    unsigned long *n, char *err, size_t errlen)
{
	if (confval_uint(v, k->min, k->max, n) == -1)
		return confval_bad(err, errlen, v, "%s from %lu to %lu", what,
		    k->min, k->max);
	return 0;
}

static int
set_uint(struct config *c, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	unsigned long n;

	if (key_uint(k, v, "a number", &n, err, errlen) == -1)
		return -1;
	*FIELD(c, k, unsigned) = (unsigned)n;
	return 0;
}

static int
set_port(struct config *c, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	unsigned long n;

	if (key_uint(k, v, "a port", &n, err, errlen) == -1)
		return -1;
	*FIELD(c, k, int) = (int)n;
	return 0;
}

static int
set_time(struct config *c, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	char lo[24], hi[24];
	unsigned long s;

	if (confval_time(v, &s) == -1 || s < k->min || s > k->max)
		return confval_bad(err, errlen, v, "a time from %s to %s, "
		    "with an optional s, m, h or d suffix",
		    confval_fmt_time(k->min, lo, sizeof(lo)),
		    confval_fmt_time(k->max, hi, sizeof(hi)));
	*FIELD(c, k, unsigned) = (unsigned)s;
	return 0;
}

static int
set_bool(struct config *c, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	if (confval_bool(v, FIELD(c, k, int)) == -1)
		return confval_bad(err, errlen, v, "yes or no");
	return 0;
}

/* tls: "may" (STARTTLS when offered) or "never". */
static int
set_tls(struct config *c, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	if (strcmp(v, "may") != 0 && strcmp(v, "never") != 0)
		return confval_bad(err, errlen, v, "may or never");
	*FIELD(c, k, int) = strcmp(v, "may") == 0;
	return 0;
}

/* metrics_listen: "ip:port" for GET /metrics, or none. */
static int
set_metrics_listen(struct config *c, const struct key *k, const char *v,
    char *err, size_t errlen)
{
	int has;

	(void)k;
	if (confval_listen(v, &has, &c->metrics_listen) == -1 ||
	    (has && c->metrics_listen.port == 0))
		return confval_bad(err, errlen, v, "ip:port or none");
	if (!has)       /* port 0 is "none": no flag to keep in step */
		memset(&c->metrics_listen, 0, sizeof(c->metrics_listen));
	return 0;
}

static int
set_listen(struct config *c, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	(void)k;
	if (confval_listen(v, &c->has_listen, &c->listen) == -1)
		return confval_bad(err, errlen, v,
		    "none, ip:port or [ipv6]:port");
	return 0;
}

static int
set_bind(struct config *c, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	struct netaddr a;

	(void)k;
	if (*v == '\0') {
		c->has_bind_address = 0;
		memset(&c->bind_address, 0, sizeof(c->bind_address));
		return 0;
	}
	if (netaddr_parse(v, &a) == -1)
		return confval_bad(err, errlen, v, "an IPv4 or IPv6 address");
	c->has_bind_address = 1;
	c->bind_address = a;
	return 0;
}

static int
set_nameservers(struct config *c, const struct key *k, const char *v,
    char *err, size_t errlen)
{
	struct hostport ns[sizeof(c->nameservers) / sizeof(c->nameservers[0])];
	size_t n;

	(void)k;
	if (confval_nameservers(v, ns, sizeof(ns) / sizeof(ns[0]), &n, err,
	    errlen) == -1)
		return -1;
	memcpy(c->nameservers, ns, n * sizeof(ns[0]));
	c->n_nameservers = n;
	return 0;
}

static int
set_networks(struct config *c, const struct key *k, const char *v,
    char *err, size_t errlen)
{
	struct cidr *nets;
	size_t n;

	(void)k;
	if (confval_cidrs(v, &nets, &n, err, errlen) == -1)
		return -1;
	free(c->allow_networks);
	c->allow_networks = nets;
	c->n_allow_networks = n;
	return 0;
}

/* A string list whose entries norm checks and rewrites; what names an
 * entry in errors. */
static int
set_list(struct config *c, const struct key *k, const char *v,
    int (*norm)(const char *, char *, size_t), const char *what,
    char *err, size_t errlen)
{
	struct strlist l = { 0, NULL };
	struct confval_list it;
	char item[CONFVAL_ITEM_MAX], out[CONFVAL_ITEM_MAX];
	int r;

	confval_list_start(&it, v);
	while ((r = confval_list_next(&it, item, sizeof(item), err,
	    errlen)) == 1) {
		if (norm(item, out, sizeof(out)) == -1) {
			strlist_free(&l);
			return confval_bad(err, errlen, item, "%s", what);
		}
		strlist_add(&l, out);
	}
	if (r == -1) {
		strlist_free(&l);
		return -1;
	}
	strlist_free(FIELD(c, k, struct strlist));
	*FIELD(c, k, struct strlist) = l;
	return 0;
}

static int
set_names(struct config *c, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	return set_list(c, k, v, confval_name, "a name without spaces", err,
	    errlen);
}

static int
set_domains(struct config *c, const struct key *k, const char *v,
    char *err, size_t errlen)
{
	return set_list(c, k, v, confval_skip_domain, "a domain or *.domain",
	    err, errlen);
}

static int
set_routes(struct config *c, const struct key *k, const char *v,
    char *err, size_t errlen)
{
	struct route *rt;
	size_t n;

	(void)k;
	if (confval_routes(v, &rt, &n, err, errlen) == -1)
		return -1;
	free(c->routes);
	c->routes = rt;
	c->n_routes = n;
	return 0;
}

/* "N/period" (period a time), or "0" / "none" for unlimited. */
static int
set_rate(struct config *c, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	unsigned count, period;

	if (confval_rate(v, k->min, k->max, &count, &period) == -1)
		return confval_bad(err, errlen, v, "N/period such as 20/1m "
		    "(N 1 to %lu, period 1s to 1d), or none", k->max);
	c->domain_rate_count = count;
	c->domain_rate_period = period;
	return 0;
}

/* "" (main fills in the FQDN), a host name or an address literal. */
static int
set_helo(struct config *c, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	char host[ADDR_DOMAIN_MAX + 1], ip[NETADDR_STRLEN + 8];
	struct netaddr a;
	size_t len = strlen(v);

	if (len == 0)
		host[0] = '\0';
	else if (v[0] == '[' && len > 2 && len < sizeof(ip) &&
	    v[len - 1] == ']') {
		memcpy(ip, v + 1, len - 2);
		ip[len - 2] = '\0';
		if (netaddr_parse(ip, &a) == -1)
			return confval_bad(err, errlen, v,
			    "a host name or [address]");
		snprintf(host, sizeof(host), "%s", v);
	} else if (confval_hostname(v, len, host) == -1)
		return confval_bad(err, errlen, v, "a host name or [address]");
	replace_str(c, k, host);
	return 0;
}

/* "", "<>", "local@domain" or "<local@domain>"; stored without brackets. */
static int
set_mail_from(struct config *c, const struct key *k, const char *v,
    char *err, size_t errlen)
{
	struct mailbox mb;
	char buf[ADDR_BUF];

	if (*v == '\0')
		buf[0] = '\0';
	else if (address_parse(v, strlen(v), &mb) == -1)
		return confval_bad(err, errlen, v,
		    "an address, or empty for <>");
	else
		address_format(&mb, buf);
	replace_str(c, k, buf);
	return 0;
}

#define OFF(f) offsetof(struct config, f)

static const struct key keys[] = {
	/* server */
	{ "socket", set_str, OFF(socket), "/run/savd/savd.sock", 1,
	    SUN_PATH_MAX, OWN_STR },
	{ "socket_mode", set_mode, OFF(socket_mode), "0660", 0, 07777, 0 },
	{ "socket_group", set_str, OFF(socket_group), "", 0, 255, OWN_STR },
	{ "listen", set_listen, 0, "none", 0, 0, 0 },
	{ "metrics_listen", set_metrics_listen, 0, "none", 0, 0, 0 },
	{ "user", set_str, OFF(user), "", 0, 255, OWN_STR },
	{ "pid_file", set_str, OFF(pid_file), "", 0, 4095, OWN_STR },
	{ "max_request_length", set_uint, OFF(max_request_length), "1024",
	    512, 65536, 0 },
	{ "max_pipeline", set_uint, OFF(max_pipeline), "64", 1, 10000, 0 },
	{ "max_clients", set_uint, OFF(max_clients), "1024", 1, 1000000, 0 },
	{ "client_idle_timeout", set_time, OFF(client_idle_timeout), "30s",
	    1, DAY, 0 },
	{ "admin_users", set_names, OFF(admin_users), "root", 0, 0,
	    OWN_STRLIST },
	/* cache */
	{ "cache_file", set_str, OFF(cache_file), "/var/lib/savd/cache.tdb",
	    0, 4095, OWN_STR },
	{ "cache_hash_size", set_uint, OFF(cache_hash_size), "1000003",
	    1, 100000000, 0 },
	{ "positive_ttl", set_time, OFF(positive_ttl), "24h", 0, 365 * DAY, 0 },
	{ "negative_ttl", set_time, OFF(negative_ttl), "2h", 0, 365 * DAY, 0 },
	{ "tempfail_ttl", set_time, OFF(tempfail_ttl), "5m", 0, 365 * DAY, 0 },
	{ "domain_positive_ttl", set_time, OFF(domain_positive_ttl), "7d",
	    0, 365 * DAY, 0 },
	{ "domain_negative_ttl", set_time, OFF(domain_negative_ttl), "3h",
	    0, 365 * DAY, 0 },
	{ "positive_refresh", set_time, OFF(positive_refresh), "12h",
	    0, 365 * DAY, 0 },
	{ "blocked_ttl", set_time, OFF(blocked_ttl), "1h", 0, 365 * DAY, 0 },
	/* dns */
	{ "nameservers", set_nameservers, 0, "", 0, 0, 0 },
	{ "dns_timeout", set_time, OFF(dns_timeout), "5s", 1, 300, 0 },
	{ "dns_retries", set_uint, OFF(dns_retries), "2", 0, 10, 0 },
	/* smtp */
	{ "smtp_port", set_port, OFF(smtp_port), "25", 1, 65535, 0 },
	{ "helo_name", set_helo, OFF(helo_name), "", 0, 0, OWN_STR },
	{ "mail_from", set_mail_from, OFF(mail_from), "", 0, 0, OWN_STR },
	{ "bind_address", set_bind, 0, "", 0, 0, 0 },
	{ "allow_networks", set_networks, 0, "", 0, 0, 0 },
	{ "answer_timeout", set_time, OFF(answer_timeout), "20s", 1, 300, 0 },
	{ "connect_timeout", set_time, OFF(connect_timeout), "10s",
	    1, 3600, 0 },
	{ "command_timeout", set_time, OFF(command_timeout), "30s",
	    1, 3600, 0 },
	{ "callout_timeout", set_time, OFF(callout_timeout), "60s",
	    1, 3600, 0 },
	{ "catchall_probe", set_bool, OFF(catchall_probe), "yes", 0, 1, 0 },
	{ "tls", set_tls, OFF(tls), "may", 0, 0, 0 },
	{ "max_mx_hosts", set_uint, OFF(max_mx_hosts), "5", 1, 100, 0 },
	{ "max_mx_addresses", set_uint, OFF(max_mx_addresses), "10",
	    1, 1000, 0 },
	/* politeness */
	{ "domain_rate", set_rate, 0, "20/1m", 1, 1000000, 0 },
	{ "host_concurrency", set_uint, OFF(host_concurrency), "2",
	    1, 1000, 0 },
	{ "max_callouts", set_uint, OFF(max_callouts), "1000", 1, 1000000, 0 },
	{ "max_rcpt_per_session", set_uint, OFF(max_rcpt_per_session), "10",
	    1, CONFIG_MAX_RCPT, 0 },
	{ "skip_domains", set_domains, OFF(skip_domains), "", 0, 0,
	    OWN_STRLIST },
	{ "routes", set_routes, 0, "", 0, 0, 0 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct key *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/*
 * Set one key; the message in msg does not name the key.  Returns 0, -1
 * for a bad value, -2 for an unknown key.  On error c is unchanged.
 */
static int
set_one(struct config *c, const char *name, const char *v, char *msg,
    size_t msglen)
{
	const struct key *k;
	size_t i;

	if ((k = find_key(name)) == NULL) {
		snprintf(msg, msglen, "unknown key");
		return -2;
	}
	for (i = 0; v[i] != '\0'; i++) {
		if (i >= VALUE_MAX)
			return confval_bad(msg, msglen, v, "at most %d bytes",
			    VALUE_MAX);
		if (iscntrl((unsigned char)v[i]))
			return confval_bad(msg, msglen, v,
			    "no control characters");
	}
	return k->set(c, k, v, msg, msglen);
}

void
config_init(struct config *c)
{
	char msg[MSG_MAX];
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].set(c, &keys[i], keys[i].def, msg,
		    sizeof(msg)) != 0) {
			/* Our own bug: a default the setter rejects. */
			fprintf(stderr, "savd: default %s: %s\n",
			    keys[i].name, msg);
			abort();
		}
	}
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].own == OWN_STR)
			free(*FIELD(c, &keys[i], char *));
		else if (keys[i].own == OWN_STRLIST)
			strlist_free(FIELD(c, &keys[i], struct strlist));
	}
	free(c->allow_networks);
	free(c->routes);
	memset(c, 0, sizeof(*c));
}

int
config_set(struct config *c, const char *key, const char *value,
    char *err, size_t errlen)
{
	char msg[MSG_MAX], sk[80];
	int r;

	if ((r = set_one(c, key, value, msg, sizeof(msg))) == 0)
		return 0;
	if (r == -2)
		snprintf(err, errlen, "unknown key '%s'",
		    confval_shown(key, sk, sizeof(sk)));
	else
		snprintf(err, errlen, "%s: %s", key, msg);
	return -1;
}

/*
 * The value part of a line: leading blanks skipped; either "quoted" (then
 * only blanks or a comment may follow) or bare up to a '#' that starts the
 * value or follows a blank, trailing blanks trimmed.  In place.
 */
static int
line_value(char *v, char **out, char *msg, size_t msglen)
{
	char *e, *q;

	v += strspn(v, " \t");
	if (*v == '"') {
		if ((q = strchr(v + 1, '"')) == NULL) {
			snprintf(msg, msglen, "missing closing '\"'");
			return -1;
		}
		*q++ = '\0';
		q += strspn(q, " \t");
		if (*q != '\0' && *q != '#') {
			snprintf(msg, msglen, "text after closing '\"'");
			return -1;
		}
		*out = v + 1;
		return 0;
	}
	for (e = v; *e != '\0'; e++)
		if (*e == '#' && (e == v || e[-1] == ' ' || e[-1] == '\t'))
			break;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	*out = v;
	return 0;
}

/* One line, NUL-terminated, no LF.  Message carries no file/line prefix. */
static int
parse_line(struct config *c, char *line, char *msg, size_t msglen)
{
	char *key, *eq, *e, *v, sub[MSG_MAX - 64], sk[80];
	int r;

	key = line + strspn(line, " \t");
	if (*key == '\0' || *key == '#')
		return 0;
	if ((eq = strchr(key, '=')) == NULL) {
		snprintf(msg, msglen, "missing '='");
		return -1;
	}
	for (e = eq; e > key && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	*e = '\0';
	if (*key == '\0') {
		snprintf(msg, msglen, "missing key before '='");
		return -1;
	}
	if (line_value(eq + 1, &v, msg, msglen) == -1)
		return -1;
	if ((r = set_one(c, key, v, sub, sizeof(sub))) == -2)
		snprintf(msg, msglen, "unknown key '%s'",
		    confval_shown(key, sk, sizeof(sk)));
	else if (r == -1)
		snprintf(msg, msglen, "%s: %s", key, sub);
	return r == 0 ? 0 : -1;
}

int
config_parse(struct config *c, const char *text, size_t len,
    const char *fname, char *err, size_t errlen)
{
	char line[LINE_MAX_BYTES + 1], msg[MSG_MAX];
	const char *p = text, *end = text + len, *nl;
	unsigned long lineno = 0;
	size_t n;

	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > LINE_MAX_BYTES)
			snprintf(msg, sizeof(msg), "line longer than %d bytes",
			    LINE_MAX_BYTES);
		else if (memchr(p, '\0', n) != NULL)
			snprintf(msg, sizeof(msg), "NUL byte in line");
		else {
			memcpy(line, p, n);
			line[n] = '\0';
			if (parse_line(c, line, msg, sizeof(msg)) == 0) {
				p = nl ? nl + 1 : end;
				continue;
			}
		}
		snprintf(err, errlen, "%s:%lu: %s", fname, lineno, msg);
		return -1;
	}
	return 0;
}

/* "key=value"; blanks around the '=' are forgiven as in the file. */
int
config_override(struct config *c, const char *kv, char *err, size_t errlen)
{
	char key[64], val[VALUE_MAX + 2], msg[MSG_MAX], sk[80];
	const char *eq = strchr(kv, '=');
	size_t kl, vl;

	if (eq == NULL) {
		snprintf(err, errlen, "-o %s: missing '='",
		    confval_shown(kv, sk, sizeof(sk)));
		return -1;
	}
	for (kl = (size_t)(eq - kv); kl > 0 &&
	    (kv[kl - 1] == ' ' || kv[kl - 1] == '\t'); kl--)
		;
	if (kl == 0 || kl >= sizeof(key)) {
		snprintf(err, errlen, "-o %s: unknown key",
		    confval_shown(kv, sk, sizeof(sk)));
		return -1;
	}
	memcpy(key, kv, kl);
	key[kl] = '\0';
	eq++;
	eq += strspn(eq, " \t");
	for (vl = strlen(eq); vl > 0 && (eq[vl - 1] == ' ' ||
	    eq[vl - 1] == '\t'); vl--)
		;
	if (vl > VALUE_MAX)
		vl = VALUE_MAX + 1;     /* too long: set_one reports it */
	memcpy(val, eq, vl);
	val[vl] = '\0';
	if (set_one(c, key, val, msg, sizeof(msg)) == 0)
		return 0;
	snprintf(err, errlen, "-o %s: %s", confval_shown(key, sk, sizeof(sk)),
	    msg);
	return -1;
}

int
config_check(const struct config *c, char *err, size_t errlen)
{
	if (c->connect_timeout > c->callout_timeout) {
		snprintf(err, errlen, "connect_timeout (%us) must not exceed "
		    "callout_timeout (%us)", c->connect_timeout,
		    c->callout_timeout);
		return -1;
	}
	if (c->command_timeout > c->callout_timeout) {
		snprintf(err, errlen, "command_timeout (%us) must not exceed "
		    "callout_timeout (%us)", c->command_timeout,
		    c->callout_timeout);
		return -1;
	}
	if (c->max_rcpt_per_session < 1 ||
	    c->max_rcpt_per_session > CONFIG_MAX_RCPT) {
		snprintf(err, errlen, "max_rcpt_per_session must be from 1 "
		    "to %d", CONFIG_MAX_RCPT);
		return -1;
	}
	if (c->socket == NULL || c->socket[0] == '\0') {
		snprintf(err, errlen, "socket must not be empty");
		return -1;
	}
	if (c->has_listen && c->listen.port == 0) {
		snprintf(err, errlen, "listen needs a port");
		return -1;
	}
	return 0;
}

/* dst is overwritten, not freed: config_free it first if it held one. */
void
config_copy(struct config *dst, const struct config *src)
{
	size_t i;

	*dst = *src;
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].own == OWN_STR) {
			char *const *s = FIELD(src, &keys[i], char *const);

			*FIELD(dst, &keys[i], char *) = *s ? xstrdup(*s) : NULL;
		} else if (keys[i].own == OWN_STRLIST)
			strlist_copy(FIELD(dst, &keys[i], struct strlist),
			    FIELD(src, &keys[i], const struct strlist));
	}
	dst->allow_networks = NULL;
	if (src->n_allow_networks > 0) {
		dst->allow_networks = xcalloc(src->n_allow_networks,
		    sizeof(*dst->allow_networks));
		memcpy(dst->allow_networks, src->allow_networks,
		    src->n_allow_networks * sizeof(*dst->allow_networks));
	}
	dst->routes = NULL;
	if (src->n_routes > 0) {
		dst->routes = xcalloc(src->n_routes, sizeof(*dst->routes));
		memcpy(dst->routes, src->routes,
		    src->n_routes * sizeof(*dst->routes));
	}
}

/*
 * "example.com" matches that domain only; "*.example.com" matches its
 * subdomains (a.example.com, a.b.example.com) but not example.com itself,
 * so that skipping a parent needs both entries and is never an accident.
 */
int
config_skip_domain(const struct config *c, const char *domain)
{
	size_t i, dl = strlen(domain), sl;
	const char *e;

	for (i = 0; i < c->skip_domains.n; i++) {
		e = c->skip_domains.v[i];
		if (e[0] == '*' && e[1] == '.') {
			sl = strlen(e + 1);     /* ".example.com" */
			if (dl > sl && strcasecmp(domain + dl - sl, e + 1) == 0)
				return 1;
		} else if (strcasecmp(e, domain) == 0)
			return 1;
	}
	return 0;
}

const struct route *
config_route(const struct config *c, const char *domain)
{
	size_t i;

	for (i = 0; i < c->n_routes; i++)
		if (strcasecmp(c->routes[i].domain, domain) == 0)
			return &c->routes[i];
	return NULL;
}

int
config_admin_user(const struct config *c, const char *username)
{
	size_t i;

	for (i = 0; i < c->admin_users.n; i++)
		if (strcmp(c->admin_users.v[i], username) == 0)
			return 1;
	return 0;
}
