/*
 * config.h - every configuration key (doc/protocol.md 8): the table of
 * names, types, defaults and bounds, parsing of "key = value" text and of
 * -o overrides.  Pure: the caller reads the file; no I/O here.
 */
#ifndef SAVD_CONFIG_H
#define SAVD_CONFIG_H

#include <stddef.h>
#include "netaddr.h"
#include "address.h"
#include "route.h"

/* Most recipients one callout session may carry (max_rcpt_per_session
 * bound); session.c asserts its own room is at least this. */
#define CONFIG_MAX_RCPT 100

struct strlist {
	size_t n;
	char **v;               /* each malloc'd */
};

struct config {
	/* server */
	char *socket;                   /* /run/savd/savd.sock */
	unsigned socket_mode;           /* 0660 (octal in the file) */
	char *socket_group;             /* "" = unchanged */
	int has_listen;
	struct hostport listen;         /* "" / none = no TCP listener */
	struct hostport metrics_listen; /* port 0: none (no GET /metrics) */
	char *user;                     /* "" = do not drop privileges */
	char *pid_file;                 /* "" = none */
	unsigned max_request_length;    /* 1024 */
	unsigned max_pipeline;          /* 64 */
	unsigned max_clients;           /* 1024 */
	unsigned client_idle_timeout;   /* 30s */
	struct strlist admin_users;     /* root */
	/* cache */
	char *cache_file;               /* /var/lib/savd/cache.tdb; "" = memory */
	unsigned cache_hash_size;       /* 1000003 */
	unsigned positive_ttl;          /* 24h */
	unsigned negative_ttl;          /* 2h */
	unsigned tempfail_ttl;          /* 5m */
	unsigned domain_positive_ttl;   /* 7d */
	unsigned domain_negative_ttl;   /* 3h */
	unsigned positive_refresh;      /* 12h */
	unsigned blocked_ttl;           /* 1h: a target host that blocks us */
	/* dns */
	size_t n_nameservers;           /* 0 = /etc/resolv.conf */
	struct hostport nameservers[6]; /* udns takes at most 6 */
	unsigned dns_timeout;           /* 5s */
	unsigned dns_retries;           /* 2 */
	/* smtp */
	int smtp_port;                  /* 25 */
	char *helo_name;                /* "" = host's FQDN, filled by main */
	char *mail_from;                /* "" = <> ; stored without brackets */
	int has_bind_address;
	struct netaddr bind_address;
	size_t n_allow_networks;
	struct cidr *allow_networks;
	unsigned answer_timeout;        /* 20s */
	unsigned connect_timeout;       /* 10s */
	unsigned command_timeout;       /* 30s */
	unsigned callout_timeout;       /* 60s */
	int catchall_probe;             /* yes */
	int tls;                        /* may (1) | never (0): STARTTLS */
	unsigned max_mx_hosts;          /* 5 */
	unsigned max_mx_addresses;      /* 10, over all hosts */
	/* politeness */
	unsigned domain_rate_count;     /* 20 ; 0 = unlimited */
	unsigned domain_rate_period;    /* 60 seconds */
	unsigned host_concurrency;      /* 2 */
	unsigned max_callouts;          /* 1000 */
	unsigned max_rcpt_per_session;  /* 10 */
	struct strlist skip_domains;    /* lower-cased; "*.example.com" matches
	                                   subdomains only, not example.com */
	size_t n_routes;
	struct route *routes;
};

/* Fill c with the defaults.  Allocates: pair with config_free. */
void config_init(struct config *c);
/* Release what c owns; c may then be config_init'ed again. NULL is a no-op. */
void config_free(struct config *c);

/*
 * Set one key.  Returns 0, or -1 with a message in err such as
 * "unknown key 'foo'" or "socket_mode: bad value '999' (expected an octal
 * mode)".  On error c is unchanged.
 * The message names the key but carries no file/line prefix.
 */
int config_set(struct config *c, const char *key, const char *value,
    char *err, size_t errlen);

/*
 * Parse a configuration file's text: "key = value" lines, '#' comments,
 * blank lines.  Stops at the first error: -1 with "FNAME:LINE: message"
 * in err.  Keys not in the text keep their current value.
 */
int config_parse(struct config *c, const char *text, size_t len,
    const char *fname, char *err, size_t errlen);

/* "-o key=value": -1 with "-o key: message" in err. */
int config_override(struct config *c, const char *kv, char *err, size_t errlen);

/* Cross-key checks once everything is set (e.g. timeouts consistent). */
int config_check(const struct config *c, char *err, size_t errlen);

/* Deep copy (for reload); aborts on out-of-memory.  dst is overwritten,
 * not freed first; free both copies with config_free. */
void config_copy(struct config *dst, const struct config *src);

/* Helpers used by the engine. */
int config_skip_domain(const struct config *c, const char *domain);
const struct route *config_route(const struct config *c, const char *domain);
int config_admin_user(const struct config *c, const char *username);

#endif
