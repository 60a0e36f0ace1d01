/*
 * unit-config.c - configuration keys: defaults, every value type, bounds,
 * file syntax and error messages, -o, lists, copy/free (run under ASan to
 * see leaks), the lookup helpers and the cross-key checks.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdlib.h>

#include "tap.h"
#include "config.h"

#define U(f) offsetof(struct config, f)

/* Keys stored as unsigned, with their defaults. */
static const struct {
	const char *key;
	size_t off;
	unsigned def;
} unsigned_keys[] = {
	{ "socket_mode", U(socket_mode), 0660 },
	{ "max_request_length", U(max_request_length), 1024 },
	{ "max_pipeline", U(max_pipeline), 64 },
	{ "max_clients", U(max_clients), 1024 },
	{ "client_idle_timeout", U(client_idle_timeout), 30 },
	{ "cache_hash_size", U(cache_hash_size), 1000003 },
	{ "positive_ttl", U(positive_ttl), 86400 },
	{ "negative_ttl", U(negative_ttl), 7200 },
	{ "tempfail_ttl", U(tempfail_ttl), 300 },
	{ "domain_positive_ttl", U(domain_positive_ttl), 7 * 86400 },
	{ "domain_negative_ttl", U(domain_negative_ttl), 3 * 3600 },
	{ "positive_refresh", U(positive_refresh), 12 * 3600 },
	{ "blocked_ttl", U(blocked_ttl), 3600 },
	{ "dns_timeout", U(dns_timeout), 5 },
	{ "dns_retries", U(dns_retries), 2 },
	{ "answer_timeout", U(answer_timeout), 20 },
	{ "connect_timeout", U(connect_timeout), 10 },
	{ "command_timeout", U(command_timeout), 30 },
	{ "callout_timeout", U(callout_timeout), 60 },
	{ "max_mx_hosts", U(max_mx_hosts), 5 },
	{ "max_mx_addresses", U(max_mx_addresses), 10 },
	{ "host_concurrency", U(host_concurrency), 2 },
	{ "max_callouts", U(max_callouts), 1000 },
	{ "max_rcpt_per_session", U(max_rcpt_per_session), 10 },
};

#define NUKEYS (sizeof(unsigned_keys) / sizeof(unsigned_keys[0]))

static unsigned
uget(const struct config *c, const char *key)
{
	size_t i;

	for (i = 0; i < NUKEYS; i++)
		if (strcmp(unsigned_keys[i].key, key) == 0)
			return *(const unsigned *)(const void *)
			    ((const char *)c + unsigned_keys[i].off);
	return 0xdeadbeef;
}

/* Numbers, times and modes: value -> result (want only when rc == 0). */
static const struct {
	const char *key, *value;
	int rc;
	unsigned want;
} num_tab[] = {
	{ "socket_mode", "0600", 0, 0600 },
	{ "socket_mode", "660", 0, 0660 },
	{ "socket_mode", "0", 0, 0 },
	{ "socket_mode", "07777", 0, 07777 },
	{ "socket_mode", "7777", 0, 07777 },
	{ "socket_mode", "10000", -1, 0 },
	{ "socket_mode", "999", -1, 0 },
	{ "socket_mode", "0o660", -1, 0 },
	{ "socket_mode", "", -1, 0 },
	{ "socket_mode", "-1", -1, 0 },
	{ "socket_mode", "000660", -1, 0 },
	{ "max_pipeline", "1", 0, 1 },
	{ "max_pipeline", "10000", 0, 10000 },
	{ "max_pipeline", "0", -1, 0 },
	{ "max_pipeline", "10001", -1, 0 },
	{ "max_pipeline", "-5", -1, 0 },
	{ "max_pipeline", "+5", -1, 0 },
	{ "max_pipeline", "5x", -1, 0 },
	{ "max_pipeline", " 5", -1, 0 },
	{ "max_pipeline", "", -1, 0 },
	{ "max_pipeline", "99999999999999999999", -1, 0 },
	{ "max_clients", "4294967296", -1, 0 },
	{ "dns_retries", "0", 0, 0 },
	{ "dns_retries", "11", -1, 0 },
	{ "max_rcpt_per_session", "100", 0, 100 },
	{ "max_rcpt_per_session", "101", -1, 0 },
	{ "max_rcpt_per_session", "0", -1, 0 },
	{ "max_request_length", "511", -1, 0 },
	{ "max_request_length", "4096", 0, 4096 },
	{ "cache_hash_size", "131", 0, 131 },
	{ "cache_hash_size", "0", -1, 0 },
	/* times */
	{ "positive_ttl", "30", 0, 30 },
	{ "positive_ttl", "30s", 0, 30 },
	{ "positive_ttl", "2m", 0, 120 },
	{ "positive_ttl", "1h", 0, 3600 },
	{ "positive_ttl", "7d", 0, 604800 },
	{ "positive_ttl", "0", 0, 0 },
	{ "positive_ttl", "0s", 0, 0 },
	{ "positive_ttl", "365d", 0, 365 * 86400 },
	{ "positive_ttl", "366d", -1, 0 },
	{ "positive_ttl", "-1", -1, 0 },
	{ "positive_ttl", "-1h", -1, 0 },
	{ "positive_ttl", "1w", -1, 0 },
	{ "positive_ttl", "1hh", -1, 0 },
	{ "positive_ttl", "1h30m", -1, 0 },
	{ "positive_ttl", "h", -1, 0 },
	{ "positive_ttl", "", -1, 0 },
	{ "positive_ttl", "1 h", -1, 0 },
	{ "positive_ttl", "1H", -1, 0 },
	{ "positive_ttl", "9999999999d", -1, 0 },
	{ "positive_ttl", "4294967296", -1, 0 },
	{ "positive_ttl", "99999999999", -1, 0 },
	{ "negative_ttl", "0", 0, 0 },
	{ "tempfail_ttl", "0", 0, 0 },
	{ "connect_timeout", "0", -1, 0 },
	{ "connect_timeout", "0s", -1, 0 },
	{ "connect_timeout", "1s", 0, 1 },
	{ "connect_timeout", "1h", 0, 3600 },
	{ "connect_timeout", "61m", -1, 0 },
	{ "command_timeout", "0", -1, 0 },
	{ "callout_timeout", "0", -1, 0 },
	{ "client_idle_timeout", "0", -1, 0 },
	{ "client_idle_timeout", "1d", 0, 86400 },
	{ "answer_timeout", "300", 0, 300 },
	{ "answer_timeout", "301", -1, 0 },
	{ "answer_timeout", "0", -1, 0 },
	{ "dns_timeout", "0", -1, 0 },
	{ "dns_timeout", "5m", 0, 300 },
};

static void
test_defaults(void)
{
	struct config c;
	size_t i;

	config_init(&c);
	for (i = 0; i < NUKEYS; i++)
		is_int(uget(&c, unsigned_keys[i].key), unsigned_keys[i].def,
		    "default %s", unsigned_keys[i].key);
	is_str(c.socket, "/run/savd/savd.sock", "default socket");
	is_str(c.socket_group, "", "default socket_group");
	is_int(c.has_listen, 0, "default listen none");
	is_str(c.user, "", "default user");
	is_str(c.pid_file, "", "default pid_file");
	is_int(c.admin_users.n, 1, "default admin_users count");
	is_str(c.admin_users.n ? c.admin_users.v[0] : NULL, "root",
	    "default admin_users root");
	is_str(c.cache_file, "/var/lib/savd/cache.tdb", "default cache_file");
	is_int(c.n_nameservers, 0, "default nameservers: resolv.conf");
	is_int(c.smtp_port, 25, "default smtp_port");
	is_str(c.helo_name, "", "default helo_name");
	is_str(c.mail_from, "", "default mail_from");
	is_int(c.has_bind_address, 0, "default bind_address none");
	is_int(c.n_allow_networks, 0, "default allow_networks none");
	ok(c.allow_networks == NULL, "default allow_networks NULL");
	is_int(c.catchall_probe, 1, "default catchall_probe");
	is_int(c.domain_rate_count, 20, "default domain_rate count");
	is_int(c.domain_rate_period, 60, "default domain_rate period");
	is_int(c.skip_domains.n, 0, "default skip_domains");
	is_int(c.n_routes, 0, "default routes");
	config_free(&c);
}

static void
test_numbers(void)
{
	struct config c;
	char err[256];
	size_t i;

	config_init(&c);
	for (i = 0; i < sizeof(num_tab) / sizeof(num_tab[0]); i++) {
		unsigned before = uget(&c, num_tab[i].key);
		int r = config_set(&c, num_tab[i].key, num_tab[i].value,
		    err, sizeof(err));

		is_int(r, num_tab[i].rc, "%s = '%s'", num_tab[i].key,
		    num_tab[i].value);
		if (num_tab[i].rc == 0)
			is_int(uget(&c, num_tab[i].key), num_tab[i].want,
			    "%s = '%s' value", num_tab[i].key,
			    num_tab[i].value);
		else
			is_int(uget(&c, num_tab[i].key), before,
			    "%s = '%s' leaves the value", num_tab[i].key,
			    num_tab[i].value);
	}
	config_free(&c);
}

static const struct {
	const char *value;
	int rc, want;
} bool_tab[] = {
	{ "yes", 0, 1 }, { "no", 0, 0 }, { "true", 0, 1 }, { "false", 0, 0 },
	{ "on", 0, 1 }, { "off", 0, 0 }, { "1", 0, 1 }, { "0", 0, 0 },
	{ "YES", 0, 1 }, { "Off", 0, 0 },
	{ "", -1, 0 }, { "y", -1, 0 }, { "2", -1, 0 }, { "yes please", -1, 0 },
};

static void
test_bool(void)
{
	struct config c;
	char err[256];
	size_t i;

	config_init(&c);
	for (i = 0; i < sizeof(bool_tab) / sizeof(bool_tab[0]); i++) {
		c.catchall_probe = 7;
		is_int(config_set(&c, "catchall_probe", bool_tab[i].value,
		    err, sizeof(err)), bool_tab[i].rc, "bool '%s'",
		    bool_tab[i].value);
		is_int(c.catchall_probe, bool_tab[i].rc ? 7 : bool_tab[i].want,
		    "bool '%s' value", bool_tab[i].value);
	}
	config_free(&c);
}

static const struct {
	const char *key, *value;
	int rc;
	const char *want;       /* stored string when rc == 0 */
} str_tab[] = {
	{ "socket", "/tmp/x.sock", 0, "/tmp/x.sock" },
	{ "socket", "", -1, NULL },
	{ "socket", "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -1, NULL },
	{ "socket_group", "Debian-exim", 0, "Debian-exim" },
	{ "socket_group", "", 0, "" },
	{ "user", "savd", 0, "savd" },
	{ "pid_file", "/run/savd/savd.pid", 0, "/run/savd/savd.pid" },
	{ "cache_file", "", 0, "" },
	{ "cache_file", "/tmp/c.tdb", 0, "/tmp/c.tdb" },
	{ "cache_file", "/tmp/a\tb", -1, NULL },
	{ "helo_name", "mx.Example.COM", 0, "mx.example.com" },
	{ "helo_name", "localhost", 0, "localhost" },
	{ "helo_name", "[127.0.0.1]", 0, "[127.0.0.1]" },
	{ "helo_name", "[::1]", 0, "[::1]" },
	{ "helo_name", "", 0, "" },
	{ "helo_name", "bad_name.example", -1, NULL },
	{ "helo_name", "-x.example", -1, NULL },
	{ "helo_name", "x..example", -1, NULL },
	{ "helo_name", "x.example.", -1, NULL },
	{ "helo_name", "[300.1.1.1]", -1, NULL },
	{ "helo_name", "a b", -1, NULL },
	{ "mail_from", "", 0, "" },
	{ "mail_from", "<>", 0, "" },
	{ "mail_from", "probe@Example.COM", 0, "probe@example.com" },
	{ "mail_from", "<probe@example.com>", 0, "probe@example.com" },
	{ "mail_from", "probe", -1, NULL },
	{ "mail_from", "<probe@example.com", -1, NULL },
	{ "mail_from", "a b@example.com", -1, NULL },
};

static const char *
sget(const struct config *c, const char *key)
{
	if (strcmp(key, "socket") == 0) return c->socket;
	if (strcmp(key, "socket_group") == 0) return c->socket_group;
	if (strcmp(key, "user") == 0) return c->user;
	if (strcmp(key, "pid_file") == 0) return c->pid_file;
	if (strcmp(key, "cache_file") == 0) return c->cache_file;
	if (strcmp(key, "helo_name") == 0) return c->helo_name;
	if (strcmp(key, "mail_from") == 0) return c->mail_from;
	return NULL;
}

static void
test_strings(void)
{
	struct config c;
	char err[256], before[512];
	size_t i;

	config_init(&c);
	for (i = 0; i < sizeof(str_tab) / sizeof(str_tab[0]); i++) {
		snprintf(before, sizeof(before), "%s",
		    sget(&c, str_tab[i].key));
		is_int(config_set(&c, str_tab[i].key, str_tab[i].value, err,
		    sizeof(err)), str_tab[i].rc, "%s = '%s'", str_tab[i].key,
		    str_tab[i].value);
		is_str(sget(&c, str_tab[i].key),
		    str_tab[i].rc == 0 ? str_tab[i].want : before,
		    "%s = '%s' value", str_tab[i].key, str_tab[i].value);
	}
	config_free(&c);
}

static void
test_addresses(void)
{
	struct config c;
	char err[256], buf[NETADDR_STRLEN + 8];

	config_init(&c);
	is_int(config_set(&c, "listen", "127.0.0.1:8925", err, sizeof(err)),
	    0, "listen v4");
	is_int(c.has_listen, 1, "listen set");
	hostport_format(&c.listen, buf);
	is_str(buf, "127.0.0.1:8925", "listen value");
	is_int(config_set(&c, "listen", "[::1]:8925", err, sizeof(err)), 0,
	    "listen v6");
	hostport_format(&c.listen, buf);
	is_str(buf, "[::1]:8925", "listen v6 value");
	is_int(config_set(&c, "listen", "127.0.0.1", err, sizeof(err)), -1,
	    "listen needs a port");
	is_int(config_set(&c, "listen", "127.0.0.1:0", err, sizeof(err)), -1,
	    "listen port 0");
	is_int(c.has_listen, 1, "listen kept after error");
	is_int(config_set(&c, "listen", "none", err, sizeof(err)), 0,
	    "listen none");
	is_int(c.has_listen, 0, "listen none clears");
	config_set(&c, "listen", "127.0.0.1:1", err, sizeof(err));
	is_int(config_set(&c, "listen", "", err, sizeof(err)), 0,
	    "listen empty");
	is_int(c.has_listen, 0, "listen empty clears");

	is_int(config_set(&c, "bind_address", "192.0.2.1", err, sizeof(err)),
	    0, "bind_address v4");
	is_int(c.has_bind_address, 1, "bind_address set");
	is_int(c.bind_address.family, AF_INET, "bind_address family");
	is_int(config_set(&c, "bind_address", "2001:db8::1", err,
	    sizeof(err)), 0, "bind_address v6");
	is_int(c.bind_address.family, AF_INET6, "bind_address v6 family");
	is_int(config_set(&c, "bind_address", "1.2.3.4:25", err, sizeof(err)),
	    -1, "bind_address with port");
	is_int(config_set(&c, "bind_address", "host.example", err,
	    sizeof(err)), -1, "bind_address host name");
	is_int(config_set(&c, "bind_address", "", err, sizeof(err)), 0,
	    "bind_address empty");
	is_int(c.has_bind_address, 0, "bind_address cleared");

	is_int(config_set(&c, "smtp_port", "2525", err, sizeof(err)), 0,
	    "smtp_port");
	is_int(c.smtp_port, 2525, "smtp_port value");
	is_int(config_set(&c, "smtp_port", "0", err, sizeof(err)), -1,
	    "smtp_port 0");
	is_int(config_set(&c, "smtp_port", "65536", err, sizeof(err)), -1,
	    "smtp_port 65536");
	is_int(c.smtp_port, 2525, "smtp_port kept");
	config_free(&c);
}

static void
test_nameservers(void)
{
	struct config c;
	char err[256], buf[NETADDR_STRLEN + 8];

	config_init(&c);
	is_int(config_set(&c, "nameservers", "127.0.0.1, [::1]:5353,10.0.0.1:54",
	    err, sizeof(err)), 0, "nameservers list");
	is_int(c.n_nameservers, 3, "nameservers count");
	hostport_format(&c.nameservers[0], buf);
	is_str(buf, "127.0.0.1:53", "nameserver default port");
	hostport_format(&c.nameservers[1], buf);
	is_str(buf, "[::1]:5353", "nameserver v6 with port");
	hostport_format(&c.nameservers[2], buf);
	is_str(buf, "10.0.0.1:54", "nameserver v4 with port");
	is_int(config_set(&c, "nameservers", "::1", err, sizeof(err)), 0,
	    "nameserver bare v6");
	hostport_format(&c.nameservers[0], buf);
	is_str(buf, "[::1]:53", "nameserver bare v6 value");
	is_int(config_set(&c, "nameservers", "1.1.1.1,1.1.1.2,1.1.1.3,"
	    "1.1.1.4,1.1.1.5,1.1.1.6", err, sizeof(err)), 0, "6 nameservers");
	is_int(c.n_nameservers, 6, "6 nameservers count");
	is_int(config_set(&c, "nameservers", "1.1.1.1,1.1.1.2,1.1.1.3,"
	    "1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7", err, sizeof(err)), -1,
	    "7 nameservers");
	is_str(err, "nameservers: too many entries (at most 6)",
	    "7 nameservers message");
	is_int(c.n_nameservers, 6, "nameservers kept after error");
	is_int(config_set(&c, "nameservers", "1.1.1.1,,1.1.1.2", err,
	    sizeof(err)), -1, "empty entry");
	is_str(err, "nameservers: empty list entry", "empty entry message");
	is_int(config_set(&c, "nameservers", "1.1.1.1,", err, sizeof(err)),
	    -1, "trailing comma");
	is_int(config_set(&c, "nameservers", "1.1.1.1, ", err, sizeof(err)),
	    -1, "trailing comma and space");
	is_int(config_set(&c, "nameservers", "ns.example", err, sizeof(err)),
	    -1, "host name nameserver");
	is_int(config_set(&c, "nameservers", "1.1.1.1:0", err, sizeof(err)),
	    -1, "nameserver port 0");
	is_int(config_set(&c, "nameservers", "", err, sizeof(err)), 0,
	    "nameservers empty");
	is_int(c.n_nameservers, 0, "nameservers empty = resolv.conf");
	is_int(config_set(&c, "nameservers", "  ", err, sizeof(err)), 0,
	    "nameservers blank");
	is_int(c.n_nameservers, 0, "nameservers blank = empty");
	config_free(&c);
}

static void
test_networks(void)
{
	struct config c;
	struct netaddr a;
	char err[256];

	config_init(&c);
	is_int(config_set(&c, "allow_networks", "127.0.0.0/8, ::1/128",
	    err, sizeof(err)), 0, "allow_networks");
	is_int(c.n_allow_networks, 2, "allow_networks count");
	netaddr_parse("127.0.0.5", &a);
	ok(cidr_list_match(c.allow_networks, c.n_allow_networks, &a),
	    "allow_networks matches 127.0.0.5");
	netaddr_parse("10.0.0.1", &a);
	ok(!cidr_list_match(c.allow_networks, c.n_allow_networks, &a),
	    "allow_networks does not match 10.0.0.1");
	is_int(config_set(&c, "allow_networks", "10.0.0.0/33", err,
	    sizeof(err)), -1, "bad prefix");
	is_int(c.n_allow_networks, 2, "allow_networks kept");
	is_int(config_set(&c, "allow_networks", "10.0.0.1", err, sizeof(err)),
	    0, "bare address");
	is_int(c.allow_networks[0].prefix, 32, "bare address is /32");
	is_int(config_set(&c, "allow_networks", "", err, sizeof(err)), 0,
	    "allow_networks empty");
	is_int(c.n_allow_networks, 0, "allow_networks cleared");
	config_free(&c);
}

static void
test_rate(void)
{
	static const struct {
		const char *v;
		int rc;
		unsigned count, period;
	} tab[] = {
		{ "20/1m", 0, 20, 60 }, { "5/30", 0, 5, 30 },
		{ "100/1h", 0, 100, 3600 }, { "1/1d", 0, 1, 86400 },
		{ "0", 0, 0, 60 }, { "none", 0, 0, 60 },
		{ "20", -1, 0, 0 }, { "20/", -1, 0, 0 }, { "/1m", -1, 0, 0 },
		{ "20/0", -1, 0, 0 }, { "0/1m", -1, 0, 0 },
		{ "20/2d", -1, 0, 0 }, { "-1/1m", -1, 0, 0 },
		{ "20/1m/1", -1, 0, 0 }, { "", -1, 0, 0 },
		{ "1000001/1s", -1, 0, 0 },
	};
	struct config c;
	char err[256];
	size_t i;

	config_init(&c);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		c.domain_rate_count = c.domain_rate_period = 7;
		is_int(config_set(&c, "domain_rate", tab[i].v, err,
		    sizeof(err)), tab[i].rc, "domain_rate '%s'", tab[i].v);
		is_int(c.domain_rate_count, tab[i].rc ? 7 : tab[i].count,
		    "domain_rate '%s' count", tab[i].v);
		is_int(c.domain_rate_period, tab[i].rc ? 7 : tab[i].period,
		    "domain_rate '%s' period", tab[i].v);
	}
	config_free(&c);
}

static void
test_domains(void)
{
	struct config c;
	char err[256];

	config_init(&c);
	is_int(config_set(&c, "skip_domains", "Example.COM, *.Big.example",
	    err, sizeof(err)), 0, "skip_domains");
	is_int(c.skip_domains.n, 2, "skip_domains count");
	is_str(c.skip_domains.v[0], "example.com", "skip lower-cased");
	is_str(c.skip_domains.v[1], "*.big.example", "skip wildcard");
	ok(config_skip_domain(&c, "example.com"), "skip exact");
	ok(config_skip_domain(&c, "EXAMPLE.com"), "skip exact any case");
	ok(!config_skip_domain(&c, "sub.example.com"), "exact not sub");
	ok(!config_skip_domain(&c, "xexample.com"), "exact not suffix");
	ok(config_skip_domain(&c, "a.big.example"), "wildcard sub");
	ok(config_skip_domain(&c, "a.b.big.example"), "wildcard deep sub");
	ok(!config_skip_domain(&c, "big.example"), "wildcard not parent");
	ok(!config_skip_domain(&c, "notbig.example"), "wildcard not suffix");
	ok(!config_skip_domain(&c, "other.org"), "skip other");
	is_int(config_set(&c, "skip_domains", "bad..example", err,
	    sizeof(err)), -1, "skip bad domain");
	is_int(config_set(&c, "skip_domains", "*", err, sizeof(err)), -1,
	    "skip bare star");
	is_int(config_set(&c, "skip_domains", "a.*.example", err,
	    sizeof(err)), -1, "skip inner star");
	is_int(config_set(&c, "skip_domains", "x_y.example", err,
	    sizeof(err)), -1, "skip underscore");
	is_int(c.skip_domains.n, 2, "skip kept after error");
	is_int(config_set(&c, "skip_domains", "", err, sizeof(err)), 0,
	    "skip empty");
	is_int(c.skip_domains.n, 0, "skip cleared");
	ok(!config_skip_domain(&c, "example.com"), "skip none");

	is_int(config_set(&c, "admin_users", "root, alice,bob", err,
	    sizeof(err)), 0, "admin_users");
	is_int(c.admin_users.n, 3, "admin_users count");
	ok(config_admin_user(&c, "alice"), "admin alice");
	ok(config_admin_user(&c, "root"), "admin root");
	ok(!config_admin_user(&c, "Alice"), "admin case-sensitive");
	ok(!config_admin_user(&c, "mallory"), "not admin");
	is_int(config_set(&c, "admin_users", "a b", err, sizeof(err)), -1,
	    "admin with space");
	is_int(config_set(&c, "admin_users", "", err, sizeof(err)), 0,
	    "admin_users empty");
	ok(!config_admin_user(&c, "root"), "no admins");
	config_free(&c);
}

static void
test_routes(void)
{
	struct config c;
	static const char *const badr[] = {
		"example.com", "example.com=", "=[1.2.3.4]",
		"example.com=[1.2.3.4]:0", "example.com=[1.2.3.4]:65536",
		"example.com=[1.2.3]", "example.com=host:", "example.com=ho st",
		"example.com=host:x", "example.com=host:0",
		"bad..com=[1.2.3.4]", "a.example=[1.2.3.4],a.example=host",
	};
	const struct route *r;
	char err[256], ip[NETADDR_STRLEN];
	size_t i;

	config_init(&c);
	is_int(config_set(&c, "routes", "Example.com=[10.0.0.5]:25, "
	    "b.example=[::1], c.example=mx.Relay.example:2525, "
	    "d.example=relay, e.example = 127.0.0.1:26", err, sizeof(err)),
	    0, "routes");
	is_int(c.n_routes, 5, "routes count");
	r = config_route(&c, "example.com");
	ok(r != NULL, "route example.com");
	if (r != NULL) {
		is_str(r->domain, "example.com", "route domain lower-cased");
		is_int(r->literal, 1, "route literal");
		netaddr_format(&r->ip, ip);
		is_str(ip, "10.0.0.5", "route ip");
		is_int(r->port, 25, "route port");
	}
	r = config_route(&c, "b.example");
	ok(r && r->literal && r->port == 0, "route [::1] no port");
	r = config_route(&c, "c.example");
	ok(r && !r->literal && strcmp(r->host, "mx.relay.example") == 0 &&
	    r->port == 2525, "route host:port");
	r = config_route(&c, "d.example");
	ok(r && !r->literal && strcmp(r->host, "relay") == 0 && r->port == 0,
	    "route host");
	r = config_route(&c, "e.example");
	ok(r && r->literal && r->port == 26, "route bare ip:port, spaces");
	ok(config_route(&c, "x.example.com") == NULL, "route exact only");
	ok(config_route(&c, "EXAMPLE.COM") != NULL, "route any case");
	for (i = 0; i < sizeof(badr) / sizeof(badr[0]); i++)
		is_int(config_set(&c, "routes", badr[i], err, sizeof(err)), -1,
		    "bad route '%s'", badr[i]);
	is_int(c.n_routes, 5, "routes kept after errors");
	is_int(config_set(&c, "routes", "", err, sizeof(err)), 0,
	    "routes empty");
	ok(config_route(&c, "example.com") == NULL, "no routes");
	config_free(&c);
}

static const struct {
	const char *text;
	int rc;
	const char *err;
} file_tab[] = {
	{ "", 0, NULL },
	{ "# only a comment\n\n   \n\t# indented comment\n", 0, NULL },
	{ "smtp_port = 2525\n", 0, NULL },
	{ "smtp_port=2525", 0, NULL },
	{ "  smtp_port\t=\t2525  \r\n", 0, NULL },
	{ "smtp_port = \"2525\"\n", 0, NULL },
	{ "smtp_port = 2525 # the test port\n", 0, NULL },
	{ "smtp_port = \"2525\"  # quoted\n", 0, NULL },
	{ "\n\nfoo = 1\n", -1, "test.conf:3: unknown key 'foo'" },
	{ "socket_mode = 999\n", -1,
	  "test.conf:1: socket_mode: bad value '999' (expected an octal mode)" },
	{ "# c\nsmtp_port 2525\n", -1, "test.conf:2: missing '='" },
	{ "= 1\n", -1, "test.conf:1: missing key before '='" },
	{ "smtp_port = \"2525\n", -1, "test.conf:1: missing closing '\"'" },
	{ "smtp_port = \"25\"25\n", -1, "test.conf:1: text after closing '\"'" },
	{ "smtp_port = 2525\nsmtp_port = 0\n", -1,
	  "test.conf:2: smtp_port: bad value '0' (expected a port from 1 "
	  "to 65535)" },
	{ "connect_timeout = 0\n", -1,
	  "test.conf:1: connect_timeout: bad value '0' (expected a time "
	  "from 1s to 1h, with an optional s, m, h or d suffix)" },
	{ "Smtp_Port = 25\n", -1, "test.conf:1: unknown key 'Smtp_Port'" },
};

static void
test_file(void)
{
	struct config c;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(file_tab) / sizeof(file_tab[0]); i++) {
		config_init(&c);
		err[0] = '\0';
		is_int(config_parse(&c, file_tab[i].text,
		    strlen(file_tab[i].text), "test.conf", err, sizeof(err)),
		    file_tab[i].rc, "file #%zu rc", i);
		if (file_tab[i].err != NULL)
			is_str(err, file_tab[i].err, "file #%zu message", i);
		else if (strstr(file_tab[i].text, "2525") != NULL)
			is_int(c.smtp_port, 2525, "file #%zu smtp_port", i);
		config_free(&c);
	}
}

static void
test_file_more(void)
{
	static const char text[] =
	    "# savd.conf\n"
	    "socket = \"/tmp/my sock # not a comment\"\n"
	    "helo_name = mx.example.com\n"
	    "positive_ttl = 1h\n"
	    "positive_ttl = 2h   # last wins\n"
	    "skip_domains = a.example, *.b.example\n"
	    "mail_from = #nothing\n"
	    "listen = 127.0.0.1:8925\n";
	static const char nul[] = "smtp_port = 25\nuser = a\0b\n";
	struct config c;
	char err[512], *big;
	size_t n;

	config_init(&c);
	is_int(config_parse(&c, text, sizeof(text) - 1, "f", err,
	    sizeof(err)), 0, "full file parses");
	is_str(c.socket, "/tmp/my sock # not a comment", "quoted keeps #");
	is_str(c.helo_name, "mx.example.com", "helo from file");
	is_int(c.positive_ttl, 7200, "duplicate key: last wins");
	is_int(c.skip_domains.n, 2, "list from file");
	is_str(c.mail_from, "", "value that is only a comment is empty");
	is_int(c.has_listen, 1, "listen from file");
	config_free(&c);

	config_init(&c);
	is_int(config_parse(&c, nul, sizeof(nul) - 1, "f", err, sizeof(err)),
	    -1, "NUL byte rejected");
	is_str(err, "f:2: NUL byte in line", "NUL byte message");
	is_int(c.smtp_port, 25, "lines before the error applied");
	config_free(&c);

	n = 5000;
	big = malloc(n + 32);
	memcpy(big, "smtp_port = 1\nuser = ", 21);
	memset(big + 21, 'a', n);
	memcpy(big + 21 + n, "\n", 2);
	config_init(&c);
	is_int(config_parse(&c, big, strlen(big), "f", err, sizeof(err)), -1,
	    "long line rejected");
	is_str(err, "f:2: line longer than 4096 bytes", "long line message");
	config_free(&c);
	free(big);

	config_init(&c);
	is_int(config_parse(&c, "smtp_port = 26", 14, "f", err, sizeof(err)),
	    0, "last line without LF");
	is_int(c.smtp_port, 26, "last line without LF applied");
	is_int(config_parse(&c, "smtp_port = 27\nxx", 15, "f", err,
	    sizeof(err)), 0, "len bounds the text");
	is_int(c.smtp_port, 27, "len bounds the text value");
	config_free(&c);
}

#define VBIG 5000

static void
test_set_override(void)
{
	struct config c;
	char err[256], *big;

	config_init(&c);
	is_int(config_set(&c, "nosuch", "1", err, sizeof(err)), -1,
	    "set unknown");
	is_str(err, "unknown key 'nosuch'", "set unknown message");
	is_int(config_set(&c, "socket_mode", "999", err, sizeof(err)), -1,
	    "set bad");
	is_str(err, "socket_mode: bad value '999' (expected an octal mode)",
	    "set bad message");
	is_int(config_set(&c, "user", "a\nb", err, sizeof(err)), -1,
	    "control character rejected");
	is_int(config_override(&c, "smtp_port=2526", err, sizeof(err)), 0,
	    "-o good");
	is_int(c.smtp_port, 2526, "-o applied");
	is_int(config_override(&c, "skip_domains=a.example, b.example", err,
	    sizeof(err)), 0, "-o list");
	is_int(c.skip_domains.n, 2, "-o list applied");
	is_int(config_override(&c, "mail_from=", err, sizeof(err)), 0,
	    "-o empty value");
	is_int(config_override(&c, "socket_mode=999", err, sizeof(err)), -1,
	    "-o bad");
	is_str(err, "-o socket_mode: bad value '999' (expected an octal mode)",
	    "-o bad message");
	is_int(config_override(&c, "nosuch=1", err, sizeof(err)), -1,
	    "-o unknown");
	is_str(err, "-o nosuch: unknown key", "-o unknown message");
	is_int(config_override(&c, "smtp_port", err, sizeof(err)), -1,
	    "-o without =");
	is_str(err, "-o smtp_port: missing '='", "-o without = message");
	is_int(config_override(&c, "=1", err, sizeof(err)), -1, "-o no key");
	is_int(config_override(&c, "smtp_port = 2527 ", err, sizeof(err)), 0,
	    "-o blanks around =");
	is_int(c.smtp_port, 2527, "-o blanks around = applied");
	big = malloc(VBIG + 16);
	memcpy(big, "cache_file=", 11);
	memset(big + 11, 'u', VBIG);
	big[11 + VBIG] = '\0';
	is_int(config_override(&c, big, err, sizeof(err)), -1,
	    "-o value over 4096 bytes");
	ok(strstr(err, "(expected at most 4096 bytes)") != NULL,
	    "-o value over 4096 bytes message");
	big[11 + 4095] = '\0';
	is_int(config_override(&c, big, err, sizeof(err)), 0,
	    "-o value of 4095 bytes");
	is_int(strlen(c.cache_file), 4095, "-o 4095-byte value kept whole");
	free(big);
	config_free(&c);
}

static void
test_check(void)
{
	struct config c;
	char err[256];

	config_init(&c);
	is_int(config_check(&c, err, sizeof(err)), 0, "defaults pass check");
	config_set(&c, "callout_timeout", "20s", err, sizeof(err));
	is_int(config_check(&c, err, sizeof(err)), -1,
	    "command_timeout > callout_timeout");
	is_str(err, "command_timeout (30s) must not exceed callout_timeout "
	    "(20s)", "check message");
	config_set(&c, "command_timeout", "20s", err, sizeof(err));
	is_int(config_check(&c, err, sizeof(err)), 0, "equal is fine");
	config_set(&c, "connect_timeout", "21s", err, sizeof(err));
	is_int(config_check(&c, err, sizeof(err)), -1,
	    "connect_timeout > callout_timeout");
	config_set(&c, "connect_timeout", "5s", err, sizeof(err));
	c.max_rcpt_per_session = 101;
	is_int(config_check(&c, err, sizeof(err)), -1, "max_rcpt 101");
	c.max_rcpt_per_session = 0;
	is_int(config_check(&c, err, sizeof(err)), -1, "max_rcpt 0");
	config_free(&c);
}

static void
test_copy(void)
{
	struct config a, b;
	char err[256];

	config_init(&a);
	config_set(&a, "allow_networks", "127.0.0.0/8", err, sizeof(err));
	config_set(&a, "routes", "x.example=[127.0.0.1]:2525", err,
	    sizeof(err));
	config_set(&a, "skip_domains", "*.s.example", err, sizeof(err));
	config_set(&a, "helo_name", "me.example", err, sizeof(err));
	config_copy(&b, &a);
	ok(b.socket != a.socket, "copy: own socket string");
	is_str(b.socket, a.socket, "copy: socket");
	is_str(b.helo_name, "me.example", "copy: helo_name");
	ok(b.allow_networks != a.allow_networks, "copy: own networks");
	is_int(b.n_allow_networks, 1, "copy: networks count");
	ok(config_route(&b, "x.example") != NULL, "copy: routes");
	ok(config_skip_domain(&b, "a.s.example"), "copy: skip_domains");
	ok(config_admin_user(&b, "root"), "copy: admin_users");
	config_free(&a);
	ok(config_route(&b, "x.example") != NULL, "copy survives free");
	is_str(b.admin_users.v[0], "root", "copy strlist survives free");
	config_free(&b);
	config_free(NULL);
	ok(1, "config_free(NULL)");
	config_init(&a);
	config_free(&a);
	config_free(&a);
	ok(1, "double config_free");
}

int
main(void)
{
	plan_no_plan();
	test_defaults();
	test_numbers();
	test_bool();
	test_strings();
	test_addresses();
	test_nameservers();
	test_networks();
	test_rate();
	test_domains();
	test_routes();
	test_file();
	test_file_more();
	test_set_override();
	test_check();
	test_copy();
	return done_testing();
}
