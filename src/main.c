/*
 * main.c - command line, configuration load and reload, start order,
 * privileges, pid file, signals and the event loop.  Everything that can
 * be wrong with the environment is found here, before serving, and is
 * fatal with a clear message.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "autoconf.h"
#include "admin.h"
#include "config.h"
#include "confcheck.h"
#include "mxlist.h"
#include "dns.h"
#include "log.h"
#include "server.h"
#include "verify.h"
#include "xmalloc.h"

#ifndef SAVD_CONF
#define SAVD_CONF "/etc/savd.conf"
#endif

#define CONF_MAX        (1024 * 1024)   /* a larger file is a mistake */
#define SHUTDOWN_GRACE  2.0             /* seconds to write last answers */

static struct {
	const char *conf_path;
	int conf_given;
	int foreground;
	int check_only;
	size_t noverrides;
	char **overrides;
	struct config *cfg;             /* in force */
	struct ev_loop *loop;
	ev_signal sighup, sigterm, sigint;
	ev_timer grace;
	ev_tstamp stop_at;
} m;

static void
usage(void)
{
	fprintf(stderr, "usage: savd [-f] [-t] [-V] [-c file] [-o key=value]...\n");
	exit(2);
}

/*
 * Open a configuration file: a regular file of at most CONF_MAX bytes.
 * A FIFO or a device would block -t or, on SIGHUP, the whole event loop;
 * O_NONBLOCK keeps open() itself from waiting for a FIFO's writer.
 * -1 with errno and err when it cannot be used.
 */
static int
open_conf(const char *path, char *err, size_t errlen)
{
	struct stat st;
	const char *why = NULL;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
		errno = EINVAL;
	} else if (st.st_size > CONF_MAX) {
		why = "file too large";
		errno = EFBIG;
	}
	if (why == NULL)
		return fd;
	e = errno;
	snprintf(err, errlen, "%s: %s", path, why);
	if (fd >= 0)
		close(fd);
	errno = e;
	return -1;
}

/* Read the whole file; NULL with errno and err when it cannot be read. */
static char *
read_file(const char *path, size_t *lenp, char *err, size_t errlen)
{
	char *text;
	size_t len = 0;
	ssize_t n = 0;
	int fd, e;

	if ((fd = open_conf(path, err, errlen)) < 0)
		return NULL;
	/* Bounded even if the file grows while we read it. */
	text = xmalloc(CONF_MAX + 1);
	while (len <= CONF_MAX &&
	    (n = read(fd, text + len, CONF_MAX + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	e = errno;
	close(fd);
	if (n < 0 || len > CONF_MAX) {
		snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(e) :
		    "file too large");
		free(text);
		errno = n < 0 ? e : EFBIG;
		return NULL;
	}
	*lenp = len;
	return text;
}

/* The host's fully qualified name, for helo_name's default. */
static char *
host_fqdn(void)
{
	struct addrinfo hints = { .ai_flags = AI_CANONNAME }, *res;
	char name[256];
	char *fqdn;

	if (gethostname(name, sizeof(name) - 1) < 0)
		strcpy(name, "localhost");
	name[sizeof(name) - 1] = '\0';
	if (strchr(name, '.') == NULL &&
	    getaddrinfo(name, NULL, &hints, &res) == 0) {
		fqdn = res->ai_canonname && strchr(res->ai_canonname, '.') ?
		    xstrdup(res->ai_canonname) : xstrdup(name);
		freeaddrinfo(res);
		return fqdn;
	}
	return xstrdup(name);
}

/* Defaults, file, -o overrides, cross checks.  0 or -1 with err. */
static int
load_config(struct config *c, char *err, size_t errlen)
{
	size_t len;
	char *text;
	int rc;

	config_init(c);
	text = read_file(m.conf_path, &len, err, errlen);
	if (text == NULL && (m.conf_given || errno != ENOENT))
		return -1;
	if (text != NULL) {
		rc = config_parse(c, text, len, m.conf_path, err, errlen);
		free(text);
		if (rc < 0)
			return -1;
	}
	for (size_t i = 0; i < m.noverrides; i++)
		if (config_override(c, m.overrides[i], err, errlen) < 0)
			return -1;
	if (config_check(c, err, errlen) < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s: %s", m.conf_path, err);
		snprintf(err, errlen, "%s", msg);
		return -1;
	}
	if (c->helo_name[0] == '\0') {
		free(c->helo_name);
		c->helo_name = host_fqdn();
	}
	return 0;
}

static void
warn_stderr(void *arg, const char *msg)
{
	fprintf(stderr, "savd: %s: warning: %s\n", (const char *)arg, msg);
}

static void
warn_log(void *arg, const char *msg)
{
	(void)arg;
	log_warn("%s", msg);
}

/* Can the host a route names ever be called?  Resolved here, blocking:
 * only for -t, never on the event loop. */
static void
check_route(const struct route *rt, const struct config *c,
    void (*warn)(void *, const char *), void *arg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct netaddr a;
	char msg[1024], ip[NETADDR_STRLEN];
	int usable = 0, n = 0;

	if (rt->literal || getaddrinfo(rt->host, NULL, &hints, &res) != 0)
		return;
	for (ai = res; ai != NULL; ai = ai->ai_next, n++) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof(ip),
		    NULL, 0, NI_NUMERICHOST) != 0 || netaddr_parse(ip, &a) < 0)
			continue;
		usable |= mx_target_check(&a, c->allow_networks,
		    c->n_allow_networks, NULL, 0) == TGT_OK;
	}
	freeaddrinfo(res);
	if (n == 0 || usable)
		return;
	snprintf(msg, sizeof(msg), "routes: %s=%s resolves only to refused "
	    "addresses (loopback, private, reserved): every call-forward "
	    "for %s will defer; write the route as [address] or add the "
	    "network to allow_networks", rt->domain, rt->host, rt->domain);
	warn(arg, msg);
}

static void
reload(void)
{
	struct config *fresh = xcalloc(1, sizeof(*fresh));
	char err[512], keys[256];

	if (load_config(fresh, err, sizeof(err)) < 0) {
		log_err("reload failed, keeping the old configuration: %s", err);
		config_free(fresh);
		free(fresh);
		return;
	}
	confcheck_restart_keys(m.cfg, fresh, keys, sizeof(keys));
	if (keys[0] != '\0')
		log_warn("reload: %s changed: that takes effect only at a "
		    "restart", keys);
	confcheck_advice(fresh, warn_log, NULL);
	server_reconfigure(fresh);
	admin_configure(m.loop, fresh);
	dnsq_reconfigure(fresh);
	verify_reconfigure(fresh);
	config_free(m.cfg);
	free(m.cfg);
	m.cfg = fresh;
	log_info("configuration reloaded from %s", m.conf_path);
}

static void
on_grace(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	if (server_stats()->clients == 0 || ev_now(loop) >= m.stop_at)
		ev_break(loop, EVBREAK_ALL);
}

static void
on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (w->signum == SIGHUP) {
		reload();
		return;
	}
	if (ev_is_active(&m.grace))
		return;
	log_info("signal %d: stopping", w->signum);
	server_shutdown();
	verify_shutdown();
	m.stop_at = ev_now(loop) + SHUTDOWN_GRACE;
	ev_timer_init(&m.grace, on_grace, 0., 0.05);
	ev_timer_start(loop, &m.grace);
}

static void
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user[0] == '\0')
		return;
	if ((pw = getpwnam(user)) == NULL)
		fatal("user %s: no such user", user);
	if (geteuid() != 0) {
		if (pw->pw_uid != geteuid())
			log_warn("user %s: not root, keeping uid %d", user,
			    (int)geteuid());
		return;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		fatal("cannot become user %s: %s", user, strerror(errno));
}

static void
write_pid_file(const char *path)
{
	FILE *f;

	if (path[0] == '\0')
		return;
	if ((f = fopen(path, "w")) == NULL)
		fatal("pid_file %s: %s", path, strerror(errno));
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		fatal("pid_file %s: %s", path, strerror(errno));
}

static void
daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/") < 0)
		fatal("chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* Enough descriptors for every client and callout we allow. */
static void
raise_fd_limit(const struct config *c)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)c->max_clients + c->max_callouts + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ?
	    want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
		log_warn("open files limited to %lu; max_clients + max_callouts "
		    "need %lu", (unsigned long)rl.rlim_cur, (unsigned long)want);
}

/*
 * Held from before the socket or the pid file exists until the watchers
 * are in place: a SIGHUP sent as soon as either appears must reload, not
 * kill (its default action), and an early SIGTERM must stop cleanly.
 */
static void
block_signals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(how, &set, NULL) < 0)
		fatal("sigprocmask: %s", strerror(errno));
}

static void
parse_args(int argc, char **argv)
{
	int ch;

	m.conf_path = SAVD_CONF;
	m.overrides = xcalloc((size_t)argc, sizeof(char *));
	while ((ch = getopt(argc, argv, "fc:o:thV")) != -1) {
		switch (ch) {
		case 'V':
			printf("savd %s\n", PACKAGE_VERSION);
			exit(0);
		case 'f':
			m.foreground = 1;
			break;
		case 'c':
			m.conf_path = optarg;
			m.conf_given = 1;
			break;
		case 'o':
			m.overrides[m.noverrides++] = optarg;
			break;
		case 't':
			m.check_only = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

int
main(int argc, char **argv)
{
	char err[512];

	parse_args(argc, argv);
	log_open("savd", 1, 0);
	m.cfg = xcalloc(1, sizeof(*m.cfg));
	if (load_config(m.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "savd: %s\n", err);
		return 1;
	}
	if (m.check_only) {
		confcheck_advice(m.cfg, warn_stderr, (void *)m.conf_path);
		for (size_t i = 0; i < m.cfg->n_routes; i++)
			check_route(&m.cfg->routes[i], m.cfg, warn_stderr,
			    (void *)m.conf_path);
		printf("savd: configuration %s is valid\n", m.conf_path);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	block_signals(SIG_BLOCK);
	raise_fd_limit(m.cfg);
	server_bind(m.cfg);
	if (!m.foreground) {
		log_open("savd", 0, 0);
		daemonize();
	}
	write_pid_file(m.cfg->pid_file);
	drop_privileges(m.cfg->user);

	m.loop = ev_default_loop(EVFLAG_AUTO);
	admin_configure(m.loop, m.cfg);
	dnsq_init(m.loop, m.cfg);
	verify_init(m.loop, m.cfg);
	server_start(m.loop, m.cfg, admin_handle);
	ev_signal_init(&m.sighup, on_signal, SIGHUP);
	ev_signal_init(&m.sigterm, on_signal, SIGTERM);
	ev_signal_init(&m.sigint, on_signal, SIGINT);
	ev_signal_start(m.loop, &m.sighup);
	ev_signal_start(m.loop, &m.sigterm);
	ev_signal_start(m.loop, &m.sigint);
	/* EVFLAG_AUTO: handlers, not signalfd, so the mask is ours to undo;
	 * what came early is delivered now. */
	block_signals(SIG_UNBLOCK);
	log_info("savd %s started: socket %s", PACKAGE_VERSION, m.cfg->socket);
	confcheck_advice(m.cfg, warn_log, NULL);

	ev_run(m.loop, 0);

	verify_shutdown();
	dnsq_shutdown();
	if (m.cfg->pid_file[0] != '\0')
		unlink(m.cfg->pid_file);
	log_info("savd stopped");
	config_free(m.cfg);
	free(m.cfg);
	free(m.overrides);
	return 0;
}
