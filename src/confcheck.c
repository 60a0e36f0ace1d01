/*
 * confcheck.c - reload differences and configuration advice
 * (confcheck.h).  Must not: print, log or look anything up; main.c says
 * what it finds where it should be seen (stderr for -t, the log).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "confcheck.h"

static void
add_name(char *out, size_t cap, const char *name)
{
	size_t len = strlen(out);

	snprintf(out + len, cap - len, "%s%s", len ? ", " : "", name);
}

void
confcheck_restart_keys(const struct config *a, const struct config *b,
    char *out, size_t cap)
{
	out[0] = '\0';
	if (strcmp(a->socket, b->socket) != 0)
		add_name(out, cap, "socket");
	if (a->socket_mode != b->socket_mode)
		add_name(out, cap, "socket_mode");
	if (strcmp(a->socket_group, b->socket_group) != 0)
		add_name(out, cap, "socket_group");
	if (a->has_listen != b->has_listen || (a->has_listen &&
	    (!netaddr_equal(&a->listen.ip, &b->listen.ip) ||
	    a->listen.port != b->listen.port)))
		add_name(out, cap, "listen");
	if (strcmp(a->user, b->user) != 0)
		add_name(out, cap, "user");
	if (strcmp(a->pid_file, b->pid_file) != 0)
		add_name(out, cap, "pid_file");
	if (strcmp(a->cache_file, b->cache_file) != 0)
		add_name(out, cap, "cache_file");
	if (a->cache_hash_size != b->cache_hash_size)
		add_name(out, cap, "cache_hash_size");
	if (!netaddr_equal(&a->metrics_listen.ip, &b->metrics_listen.ip) ||
	    a->metrics_listen.port != b->metrics_listen.port)
		add_name(out, cap, "metrics_listen");
}

static int
same_route(const struct route *x, const struct route *y)
{
	return strcasecmp(x->domain, y->domain) == 0 &&
	    strcasecmp(x->host, y->host) == 0 && x->literal == y->literal &&
	    (!x->literal || netaddr_equal(&x->ip, &y->ip)) &&
	    x->port == y->port;
}

int
confcheck_same_routes(const struct config *a, const struct config *b)
{
	if (a->n_routes != b->n_routes)
		return 0;
	for (size_t i = 0; i < a->n_routes; i++)
		if (!same_route(&a->routes[i], &b->routes[i]))
			return 0;
	return 1;
}

int
confcheck_same_networks(const struct config *a, const struct config *b)
{
	if (a->n_allow_networks != b->n_allow_networks)
		return 0;
	for (size_t i = 0; i < a->n_allow_networks; i++)
		if (a->allow_networks[i].prefix != b->allow_networks[i].prefix ||
		    !netaddr_equal(&a->allow_networks[i].net,
		    &b->allow_networks[i].net))
			return 0;
	return 1;
}

/* A name that remote servers can look up: dotted, not a local pseudo-TLD. */
static int
fqdn(const char *name)
{
	static const char *const local[] = { ".local", ".localdomain",
	    ".localhost", ".lan", ".home", ".internal", NULL };
	size_t n = strlen(name);

	if (strchr(name, '.') == NULL || name[n - 1] == '.')
		return 0;
	for (size_t i = 0; local[i] != NULL; i++) {
		size_t l = strlen(local[i]);

		if (n > l && strcasecmp(name + n - l, local[i]) == 0)
			return 0;
	}
	return 1;
}

int
confcheck_advice(const struct config *c,
    void (*warn)(void *arg, const char *msg), void *arg)
{
	char msg[512];
	int n = 0;

	if (c->helo_name[0] != '\0' && !fqdn(c->helo_name)) {
		snprintf(msg, sizeof(msg), "helo_name '%s' is not a fully "
		    "qualified domain name: many mail hosts refuse such a "
		    "HELO, and savd's answers become 'unknown blocked'",
		    c->helo_name);
		warn(arg, msg);
		n++;
	}
	if (c->socket_group[0] == '\0' && (c->socket_mode & 006) != 006) {
		snprintf(msg, sizeof(msg), "socket_group is empty and "
		    "socket_mode %04o lets only savd's own user and group "
		    "connect: set socket_group = Debian-exim for Exim",
		    c->socket_mode);
		warn(arg, msg);
		n++;
	}
	return n;
}
