/*
 * smtpfarm.c - a fast SMTP sink for benchmarks: one epoll loop, many
 * loopback listeners on one port (127.0.1.1, 127.0.1.2, ...), thousands of
 * sessions at once.  Greeting 220, EHLO with PIPELINING, MAIL 250, RCPT
 * 250 when the local part starts with the accept prefix and 550 otherwise
 * (so savd's random catch-all probe is rejected), QUIT 221.  An optional
 * delay before every RCPT reply keeps sessions in flight.
 *
 * It must never connect anywhere and never listen outside 127.0.0.0/8.
 * Not a test fixture: no logging of dialogues, only counters at exit.
 *
 *   smtpfarm [-a 127.0.1.1] [-n 64] [-p port] [-w portfile] [-d ms] [-A]
 *            [-u prefix] [-t seconds]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* accept4 */
#endif
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define IN_MAX          1024    /* a command line longer than this: close */
#define OUT_MAX         2048    /* replies waiting to be written */
#define HELD_MAX        128     /* one delayed reply */
#define MAX_LISTEN      1024

struct conn {
	TAILQ_ENTRY(conn) dq;   /* delay queue, while held */
	int fd;
	int listener;
	int held;               /* a delayed reply waits in hbuf */
	int eof;                /* client half-closed */
	int quit;               /* close once out is written */
	unsigned mask;          /* epoll events registered */
	double due;
	size_t inlen, outlen, hlen;
	char in[IN_MAX];
	char out[OUT_MAX];
	char hbuf[HELD_MAX];
};
TAILQ_HEAD(conn_list, conn);

static struct {
	int ep;
	double delay;           /* seconds before each delayed reply */
	int delay_all;          /* delay every reply, not only RCPT */
	const char *prefix;
	size_t prefixlen;
	struct conn_list delayq;
	struct conn **byfd;
	size_t nfd;
	unsigned long sessions, open, maxopen, rcpt_ok, rcpt_rej, dropped;
} farm;

static volatile sig_atomic_t stop;

static const char greeting[] = "220 farm.bench.test ESMTP smtpfarm\r\n";
static const char ehlo_reply[] = "250-farm.bench.test\r\n250-PIPELINING\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n";

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
conn_close(struct conn *c)
{
	if (c->held)
		TAILQ_REMOVE(&farm.delayq, c, dq);
	close(c->fd);
	farm.byfd[c->fd] = NULL;
	farm.open--;
	free(c);
}

/* Queue bytes for the client; a client that reads nothing is dropped. */
static int
conn_put(struct conn *c, const char *s, size_t n)
{
	if (c->outlen + n > sizeof(c->out))
		return -1;
	memcpy(c->out + c->outlen, s, n);
	c->outlen += n;
	return 0;
}

/* Register interest: read while open and room, write while output. */
static void
conn_events(struct conn *c)
{
	struct epoll_event ev;
	unsigned want = 0;

	if (!c->eof && c->inlen < sizeof(c->in))
		want |= EPOLLIN;
	if (c->outlen > 0)
		want |= EPOLLOUT;
	if (want == c->mask)
		return;
	ev.events = want;
	ev.data.ptr = c;
	epoll_ctl(farm.ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->mask = want;
}

/* Write what we can; returns -1 when the connection is gone. */
static int
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->outlen > 0) {
		n = write(c->fd, c->out, c->outlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -1;
		memmove(c->out, c->out + n, c->outlen - n);
		c->outlen -= n;
	}
	if (c->outlen == 0 && c->quit)
		return -1;
	conn_events(c);
	return 0;
}

static int
is_verb(const char *line, const char *verb)
{
	size_t n = strlen(verb);

	return strncasecmp(line, verb, n) == 0 &&
	    (line[n] == '\0' || line[n] == ' ' || line[n] == ':');
}

/* The RCPT reply: 250 when the local part starts with the prefix. */
static const char *
rcpt_reply(const char *line)
{
	const char *lp = strchr(line, '<');

	lp = lp ? lp + 1 : line + 8;
	if (strncasecmp(lp, farm.prefix, farm.prefixlen) == 0) {
		farm.rcpt_ok++;
		return "250 2.1.5 Ok\r\n";
	}
	farm.rcpt_rej++;
	return "550 5.1.1 User unknown\r\n";
}

/* One command line (without CRLF) -> its reply; sets *delay. */
static const char *
command(struct conn *c, const char *line, int *delay)
{
	*delay = farm.delay > 0 && farm.delay_all;
	if (is_verb(line, "EHLO"))
		return ehlo_reply;
	if (is_verb(line, "HELO"))
		return "250 farm.bench.test\r\n";
	if (is_verb(line, "MAIL"))
		return "250 2.1.0 Ok\r\n";
	if (is_verb(line, "RCPT")) {
		*delay = farm.delay > 0;
		return rcpt_reply(line);
	}
	if (is_verb(line, "RSET") || is_verb(line, "NOOP"))
		return "250 2.0.0 Ok\r\n";
	if (is_verb(line, "QUIT")) {
		c->quit = 1;
		*delay = 0;
		return "221 2.0.0 Bye\r\n";
	}
	return "502 5.5.2 Command not implemented\r\n";
}

/* Answer complete lines in order until one reply must be held back. */
static int
conn_process(struct conn *c)
{
	char *nl, line[IN_MAX + 1];
	const char *r;
	size_t len;
	int delay;

	while (!c->held && !c->quit &&
	    (nl = memchr(c->in, '\n', c->inlen)) != NULL) {
		len = nl - c->in;
		memcpy(line, c->in, len);
		line[len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[len - 1] = '\0';
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
		r = command(c, line, &delay);
		if (delay) {
			snprintf(c->hbuf, sizeof(c->hbuf), "%s", r);
			c->hlen = strlen(c->hbuf);
			c->held = 1;
			c->due = now() + farm.delay;
			TAILQ_INSERT_TAIL(&farm.delayq, c, dq);
		} else if (conn_put(c, r, strlen(r)) < 0)
			return -1;
	}
	if (conn_flush(c) < 0)
		return -1;
	/* Half-closed and nothing left to answer: done. */
	if (c->eof && !c->held && c->outlen == 0)
		return -1;
	return 0;
}

static void
conn_read(struct conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->inlen == sizeof(c->in)) {
			if (memchr(c->in, '\n', c->inlen) == NULL) {
				conn_close(c);  /* line too long */
				return;
			}
			break;                  /* wait until processed */
		}
		n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			conn_close(c);
			return;
		}
		if (n == 0) {
			c->eof = 1;
			break;
		}
		c->inlen += n;
	}
	if (conn_process(c) < 0)
		conn_close(c);
}

static void
conn_accept(int lfd)
{
	struct epoll_event ev;
	struct conn *c;
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		if ((size_t)fd >= farm.nfd) {
			close(fd);
			farm.dropped++;
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			farm.dropped++;
			continue;
		}
		c->fd = fd;
		farm.byfd[fd] = c;
		ev.events = c->mask = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(farm.ep, EPOLL_CTL_ADD, fd, &ev);
		farm.sessions++;
		if (++farm.open > farm.maxopen)
			farm.maxopen = farm.open;
		conn_put(c, greeting, sizeof(greeting) - 1);
		if (conn_flush(c) < 0)
			conn_close(c);
	}
	if (errno == EMFILE || errno == ENFILE)
		farm.dropped++;
}

/* Release every held reply that is due; returns ms until the next one. */
static int
release_due(void)
{
	struct conn *c;
	double t = now();

	while ((c = TAILQ_FIRST(&farm.delayq)) != NULL && c->due <= t) {
		TAILQ_REMOVE(&farm.delayq, c, dq);
		c->held = 0;
		if (conn_put(c, c->hbuf, c->hlen) < 0 || conn_process(c) < 0)
			conn_close(c);
	}
	if (c == NULL)
		return 250;
	return (int)((c->due - t) * 1000) + 1;
}

static int
listen_on(struct in_addr a, int port)
{
	struct sockaddr_in sin;
	struct epoll_event ev;
	struct conn *c;
	int fd, one = 1;

	if ((ntohl(a.s_addr) >> 24) != 127) {
		fprintf(stderr, "smtpfarm: %s is not loopback\n", inet_ntoa(a));
		exit(2);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = a;
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 4096) < 0) {
		perror("smtpfarm: bind/listen");
		exit(2);
	}
	if (port == 0) {
		socklen_t sl = sizeof(sin);

		getsockname(fd, (struct sockaddr *)&sin, &sl);
		port = ntohs(sin.sin_port);
	}
	c = calloc(1, sizeof(*c));
	c->fd = fd;
	c->listener = 1;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	epoll_ctl(farm.ep, EPOLL_CTL_ADD, fd, &ev);
	return port;
}

static void
write_portfile(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL || fprintf(f, "%d\n", port) < 0 ||
	    fclose(f) != 0 || rename(tmp, path) < 0) {
		perror("smtpfarm: port file");
		exit(2);
	}
}

static void
setup(const char *first, int n, int port, const char *portfile)
{
	struct rlimit rl;
	struct in_addr a;
	uint32_t base;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	farm.nfd = rl.rlim_cur > 1000000 ? 1000000 : rl.rlim_cur;
	farm.byfd = calloc(farm.nfd, sizeof(*farm.byfd));
	TAILQ_INIT(&farm.delayq);
	if ((farm.ep = epoll_create1(EPOLL_CLOEXEC)) < 0 || !farm.byfd ||
	    inet_pton(AF_INET, first, &a) != 1 || n < 1 || n > MAX_LISTEN) {
		fprintf(stderr, "smtpfarm: bad setup\n");
		exit(2);
	}
	base = ntohl(a.s_addr);
	for (int i = 0; i < n; i++) {
		a.s_addr = htonl(base + i);
		port = listen_on(a, port);
	}
	if (portfile)
		write_portfile(portfile, port);
}

static void
run(double limit)
{
	struct epoll_event evs[256];
	struct conn *c;
	double end = now() + limit;
	int n, wait;

	while (!stop && now() < end) {
		wait = release_due();
		n = epoll_wait(farm.ep, evs, 256, wait);
		for (int i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (c->listener)
				conn_accept(c->fd);
			else if (evs[i].events & (EPOLLERR | EPOLLHUP))
				conn_close(c);
			else if (evs[i].events & EPOLLIN)
				conn_read(c);
			else if (conn_flush(c) < 0)
				conn_close(c);
		}
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: smtpfarm [-a first-addr] [-n count] [-p port] "
	    "[-w portfile] [-d delay-ms] [-A] [-u accept-prefix] "
	    "[-t seconds]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *first = "127.0.1.1", *portfile = NULL;
	int ch, n = 64, port = 0;
	double limit = 900;

	farm.prefix = "user";
	while ((ch = getopt(argc, argv, "a:n:p:w:d:Au:t:")) != -1) {
		switch (ch) {
		case 'a': first = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 'w': portfile = optarg; break;
		case 'd': farm.delay = atof(optarg) / 1000.0; break;
		case 'A': farm.delay_all = 1; break;
		case 'u': farm.prefix = optarg; break;
		case 't': limit = atof(optarg); break;
		default: usage();
		}
	}
	farm.prefixlen = strlen(farm.prefix);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	setup(first, n, port, portfile);
	run(limit);
	fprintf(stderr, "smtpfarm: sessions=%lu maxopen=%lu rcpt_ok=%lu "
	    "rcpt_rejected=%lu dropped=%lu\n", farm.sessions, farm.maxopen,
	    farm.rcpt_ok, farm.rcpt_rej, farm.dropped);
	return 0;
}
