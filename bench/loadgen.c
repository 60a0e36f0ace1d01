/*
 * loadgen.c - client load generator for savd benchmarks.  One epoll loop
 * drives N concurrent clients over savd's UNIX socket (or a TCP listener
 * on loopback) and reports answers per second, latency percentiles and
 * the result/reason mix.
 *
 * Default mode is Exim's: one connection per query (connect, send the
 * line, half-close, read to EOF).  With -p P each client keeps one
 * connection and pipelines up to P queries on it.
 *
 * The query is a template: "{i}" becomes the query number (plus -o, modulo
 * -m when given) and "{i%N}" that number modulo N, so
 * 'SENDER <user{i}@d{i%500}.bench.test>' makes distinct addresses over 500
 * domains.  It must not connect to anything but loopback, and every wait
 * is bounded by -d and -t.
 *
 *   loadgen [-s socket | -T 127.0.0.1:port] [-c clients] [-n total]
 *           [-d seconds] [-p depth] [-q template] [-o offset] [-m mod]
 *           [-i interval-ms] [-r ramp-s] [-t timeout-s] [-v] [-l label]
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_Q      1024
#define IN_CAP          8192
#define MAX_DEPTH       256
#define MAX_KINDS       48

enum cstate { C_IDLE, C_CONNECTING, C_BUSY, C_DONE };

struct client {
	int fd;
	enum cstate st;
	unsigned mask;
	double next_at;                 /* may not start before this */
	double sent[MAX_DEPTH];         /* ring of send times (FIFO) */
	unsigned head, outstanding;
	int shut;                       /* write side closed */
	int got_line;                   /* conn mode: first line recorded */
	size_t inlen, outlen, outoff;
	char in[IN_CAP];
	char *out;
};

struct kind {
	char name[64];
	unsigned long n;
};

static struct {
	struct sockaddr_storage ss;
	socklen_t sl;
	int ep, nclients, depth, verbose;
	const char *tmpl, *label;
	unsigned long total, offset, mod, issued, answered, errors, timeouts;
	unsigned long retries, sec_answered;
	double interval, timeout, duration, ramp, t0, tend, tlast;
	struct client *c;
	uint32_t *lat;                  /* microseconds */
	size_t nlat, caplat;
	struct kind kinds[MAX_KINDS];
	int nkinds;
} lg;

static volatile sig_atomic_t stop;

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

/* Expand the template for query number k into buf (with LF). */
static size_t
expand(char *buf, size_t cap, unsigned long k)
{
	unsigned long v = lg.offset + (lg.mod ? k % lg.mod : k), m;
	const char *p = lg.tmpl;
	size_t o = 0;
	char *end;
	int n;

	while (*p && o + 24 < cap) {
		if (strncmp(p, "{i}", 3) == 0) {
			o += snprintf(buf + o, cap - o, "%lu", v);
			p += 3;
		} else if (strncmp(p, "{i%", 3) == 0 &&
		    (m = strtoul(p + 3, &end, 10)) > 0 && *end == '}') {
			n = snprintf(buf + o, cap - o, "%lu", v % m);
			o += n;
			p = end + 1;
		} else
			buf[o++] = *p++;
	}
	buf[o++] = '\n';
	return o;
}

/* Count "result=X reason=Y" (or just the result) of one answer line. */
static void
classify(const char *line, size_t len)
{
	char key[64];
	const char *r, *e;
	size_t o = 0;
	int i;

	for (r = line; r < line + len && o + 1 < sizeof(key); r = e) {
		while (r < line + len && *r == ' ')
			r++;
		for (e = r; e < line + len && *e != ' '; e++)
			;
		if ((e - r > 7 && strncmp(r, "result=", 7) == 0) ||
		    (e - r > 7 && strncmp(r, "reason=", 7) == 0) ||
		    (e - r > 7 && strncmp(r, "source=", 7) == 0)) {
			o += snprintf(key + o, sizeof(key) - o, "%s%.*s",
			    o ? "/" : "", (int)(e - r - 7), r + 7);
		}
		if (o >= sizeof(key))
			o = sizeof(key) - 1;
	}
	key[o] = '\0';
	for (i = 0; i < lg.nkinds; i++)
		if (strcmp(lg.kinds[i].name, key) == 0)
			break;
	if (i == lg.nkinds) {
		if (lg.nkinds == MAX_KINDS)
			i = MAX_KINDS - 1;      /* overflow bucket */
		else
			snprintf(lg.kinds[lg.nkinds++].name, 64, "%s", key);
	}
	lg.kinds[i].n++;
}

static void
record(double started, const char *line, size_t len)
{
	double t = now();

	if (lg.nlat == lg.caplat) {
		lg.caplat = lg.caplat ? lg.caplat * 2 : 65536;
		lg.lat = realloc(lg.lat, lg.caplat * sizeof(*lg.lat));
		if (lg.lat == NULL) {
			perror("loadgen: realloc");
			exit(2);
		}
	}
	lg.lat[lg.nlat++] = (uint32_t)((t - started) * 1e6);
	lg.answered++;
	lg.sec_answered++;
	lg.tlast = t;
	classify(line, len);
}

static void
set_events(struct client *c, unsigned want)
{
	struct epoll_event ev;

	if (want == c->mask)
		return;
	ev.events = want;
	ev.data.ptr = c;
	epoll_ctl(lg.ep, c->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
	c->mask = want;
}

static void
client_close(struct client *c, int done)
{
	if (c->fd >= 0)
		close(c->fd);           /* also leaves the epoll set */
	c->fd = -1;
	c->mask = 0;
	c->st = done ? C_DONE : C_IDLE;
	c->outstanding = c->head = 0;
	c->inlen = c->outlen = c->outoff = 0;
	c->shut = c->got_line = 0;
}

static int
may_issue(double t)
{
	if (stop || (lg.total && lg.issued >= lg.total))
		return 0;
	return lg.duration <= 0 || t < lg.t0 + lg.duration;
}

/* Write pending output; half-close when asked to and all is out. */
static int
client_flush(struct client *c, int halfclose)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -1;
		c->outoff += n;
	}
	if (c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		if (halfclose && !c->shut) {
			shutdown(c->fd, SHUT_WR);
			c->shut = 1;
		}
	}
	set_events(c, EPOLLIN | (c->outlen ? EPOLLOUT : 0));
	return 0;
}

/* Queue as many queries as the depth allows (1 in conn mode). */
static void
client_fill(struct client *c, double t)
{
	unsigned depth = lg.depth ? lg.depth : 1;

	while (c->outstanding < depth && may_issue(t) &&
	    c->outlen + LINE_MAX_Q <= (size_t)depth * LINE_MAX_Q) {
		c->outlen += expand(c->out + c->outlen, LINE_MAX_Q,
		    lg.issued++);
		c->sent[(c->head + c->outstanding) % MAX_DEPTH] = t;
		c->outstanding++;
	}
}

static int
client_connect(struct client *c)
{
	c->fd = socket(lg.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&lg.ss, lg.sl) == 0)
		return 0;
	if (errno == EINPROGRESS) {
		c->st = C_CONNECTING;
		set_events(c, EPOLLOUT);
		return 1;
	}
	return -1;
}

/* Start a connection (and its first queries) for an idle client. */
static void
client_start(struct client *c, double t)
{
	int r;

	if (!may_issue(t)) {
		client_close(c, 1);
		return;
	}
	r = client_connect(c);
	if (r < 0) {
		int again = errno == EAGAIN;

		client_close(c, 0);
		c->next_at = t + (again ? 0.001 : 0.01);
		if (again)
			lg.retries++;
		else
			lg.errors++;
		return;
	}
	/* Queue before the connect completes: latency includes connect. */
	c->st = r == 1 ? C_CONNECTING : C_BUSY;
	c->next_at = t + lg.interval;
	client_fill(c, t);
	if (r == 0 && client_flush(c, lg.depth == 0) < 0) {
		lg.errors += c->outstanding;
		client_close(c, 0);
	}
}

/* Pipelined mode: take every complete line as the next answer. */
static int
take_lines(struct client *c)
{
	char *nl;
	size_t len;

	while ((nl = memchr(c->in, '\n', c->inlen)) != NULL) {
		len = nl - c->in;
		if (c->outstanding > 0) {
			record(c->sent[c->head], c->in, len);
			c->head = (c->head + 1) % MAX_DEPTH;
			c->outstanding--;
		}
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
	}
	if (c->inlen == sizeof(c->in))
		return -1;                      /* absurd line */
	client_fill(c, now());
	if (c->outstanding == 0 && !c->shut) {
		shutdown(c->fd, SHUT_WR);       /* all asked, all answered */
		c->shut = 1;
	}
	return client_flush(c, 0);
}

/* Conn mode: keep the first line, read to EOF. */
static void
conn_line(struct client *c)
{
	char *nl = memchr(c->in, '\n', c->inlen);

	if (c->got_line || c->outstanding == 0)
		return;
	if (nl == NULL && c->inlen < sizeof(c->in))
		return;
	record(c->sent[c->head], c->in, nl ? (size_t)(nl - c->in) : c->inlen);
	c->got_line = 1;
	c->outstanding = 0;
}

static void
client_read(struct client *c)
{
	ssize_t n;

	for (;;) {
		if (c->inlen == sizeof(c->in)) {
			if (lg.depth)
				break;
			c->inlen = 0;           /* discard the rest */
		}
		n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			if (lg.depth == 0)
				conn_line(c);
			if (c->outstanding)
				lg.errors += c->outstanding;
			client_close(c, lg.depth != 0);
			return;
		}
		c->inlen += n;
		if (lg.depth == 0)
			conn_line(c);
	}
	if (lg.depth && take_lines(c) < 0) {
		lg.errors += c->outstanding;
		client_close(c, 1);
	}
}

static void
client_event(struct client *c, unsigned ev)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (c->st == C_CONNECTING) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			lg.errors++;
			client_close(c, 0);
			c->next_at = now() + 0.01;
			return;
		}
		c->st = C_BUSY;
		if (client_flush(c, lg.depth == 0) < 0) {
			lg.errors += c->outstanding;
			client_close(c, 0);
		}
		return;
	}
	if (ev & EPOLLOUT && client_flush(c, lg.depth == 0) < 0) {
		lg.errors += c->outstanding;
		client_close(c, lg.depth != 0);
		return;
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_read(c);
}

/* Expire queries older than -t; returns how many clients are active. */
static int
sweep(double t, int *idle)
{
	int active = 0;

	*idle = 0;
	for (int i = 0; i < lg.nclients; i++) {
		struct client *c = &lg.c[i];

		if (c->st == C_DONE)
			continue;
		if (c->st != C_IDLE && c->outstanding > 0 &&
		    t - c->sent[c->head] > lg.timeout) {
			lg.timeouts += c->outstanding;
			client_close(c, lg.depth != 0);
		}
		if (c->st == C_IDLE) {
			if (c->next_at <= t)
				client_start(c, t);
			if (c->st == C_IDLE)
				(*idle)++;
		}
		active += c->st != C_DONE;
	}
	return active;
}

static void
progress(double t, double *tick)
{
	if (t < *tick)
		return;
	if (lg.verbose)
		fprintf(stderr, "loadgen%s%s: t=%.0f answered/s=%lu total=%lu "
		    "timeouts=%lu errors=%lu\n", lg.label ? " " : "",
		    lg.label ? lg.label : "", t - lg.t0, lg.sec_answered,
		    lg.answered, lg.timeouts, lg.errors);
	lg.sec_answered = 0;
	*tick += 1.0;
}

static void
run(void)
{
	struct epoll_event evs[512];
	double t, tick;
	int n, idle = 0, active;

	lg.t0 = t = now();
	tick = t + 1.0;
	/* -r: client i starts ramp * i / N seconds in. */
	for (int i = 0; i < lg.nclients; i++)
		lg.c[i].next_at = t + lg.ramp * i / lg.nclients;
	active = sweep(t, &idle);
	while (active > 0) {
		n = epoll_wait(lg.ep, evs, 512, idle || lg.interval ? 1 : 20);
		for (int i = 0; i < n; i++)
			client_event(evs[i].data.ptr, evs[i].events);
		t = now();
		if (lg.duration > 0 && t > lg.t0 + lg.duration + lg.timeout + 1)
			break;                  /* hard bound */
		active = sweep(t, &idle);
		progress(t, &tick);
	}
	lg.tend = now();
}

static double
pct(double p)
{
	size_t i;

	if (lg.nlat == 0)
		return 0;
	i = (size_t)(p * (lg.nlat - 1) + 0.5);
	return lg.lat[i] / 1000.0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(void)
{
	const char *sp = lg.label ? " " : "", *lb = lg.label ? lg.label : "";
	double secs = (lg.tlast > lg.t0 ? lg.tlast : lg.tend) - lg.t0;

	qsort(lg.lat, lg.nlat, sizeof(*lg.lat), cmp_u32);
	printf("loadgen%s%s: mode=%s clients=%d answered=%lu errors=%lu "
	    "timeouts=%lu retries=%lu secs=%.3f rate=%.0f/s lat_ms p50=%.3f "
	    "p90=%.3f p99=%.3f p999=%.3f max=%.3f\n", sp, lb,
	    lg.depth ? "pipeline" : "conn", lg.nclients, lg.answered,
	    lg.errors, lg.timeouts, lg.retries, secs,
	    secs > 0 ? lg.answered / secs : 0, pct(0.5), pct(0.9), pct(0.99),
	    pct(0.999), pct(1.0));
	printf("loadgen%s%s: results", sp, lb);
	for (int i = 0; i < lg.nkinds; i++)
		printf(" %s=%lu", lg.kinds[i].name, lg.kinds[i].n);
	printf("\n");
	fflush(stdout);
}

static void
set_target(const char *sock, const char *tcp)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&lg.ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&lg.ss;
	char host[64];
	const char *colon;

	memset(&lg.ss, 0, sizeof(lg.ss));
	if (tcp == NULL) {
		if (strlen(sock) >= sizeof(sun->sun_path)) {
			fprintf(stderr, "loadgen: socket path too long\n");
			exit(2);
		}
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, sock);
		lg.sl = sizeof(*sun);
		return;
	}
	colon = strrchr(tcp, ':');
	if (colon == NULL || (size_t)(colon - tcp) >= sizeof(host)) {
		fprintf(stderr, "loadgen: -T wants ip:port\n");
		exit(2);
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - tcp), tcp);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 ||
	    (ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "loadgen: -T must be a 127/8 address\n");
		exit(2);
	}
	lg.sl = sizeof(*sin);
}

static void
setup(void)
{
	struct rlimit rl;
	size_t depth = lg.depth ? lg.depth : 1;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	lg.c = calloc(lg.nclients, sizeof(*lg.c));
	if ((lg.ep = epoll_create1(EPOLL_CLOEXEC)) < 0 || lg.c == NULL) {
		perror("loadgen: setup");
		exit(2);
	}
	for (int i = 0; i < lg.nclients; i++) {
		lg.c[i].fd = -1;
		if ((lg.c[i].out = malloc(depth * LINE_MAX_Q)) == NULL) {
			perror("loadgen: malloc");
			exit(2);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen [-s socket | -T ip:port] [-c clients] "
	    "[-n total] [-d seconds]\n\t[-p depth] [-q template] [-o offset] "
	    "[-m mod] [-i interval-ms] [-r ramp-s] [-t timeout-s] [-v] [-l label]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *sock = "/run/savd/savd.sock", *tcp = NULL;
	int ch;

	lg.nclients = 1;
	lg.tmpl = "PING";
	lg.timeout = 30;
	while ((ch = getopt(argc, argv, "s:T:c:n:d:p:q:o:m:i:r:t:vl:")) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'T': tcp = optarg; break;
		case 'c': lg.nclients = atoi(optarg); break;
		case 'n': lg.total = strtoul(optarg, NULL, 10); break;
		case 'd': lg.duration = atof(optarg); break;
		case 'p': lg.depth = atoi(optarg); break;
		case 'q': lg.tmpl = optarg; break;
		case 'o': lg.offset = strtoul(optarg, NULL, 10); break;
		case 'm': lg.mod = strtoul(optarg, NULL, 10); break;
		case 'i': lg.interval = atof(optarg) / 1000.0; break;
		case 'r': lg.ramp = atof(optarg); break;
		case 't': lg.timeout = atof(optarg); break;
		case 'v': lg.verbose = 1; break;
		case 'l': lg.label = optarg; break;
		default: usage();
		}
	}
	if (lg.nclients < 1 || lg.nclients > 100000 || lg.depth < 0 ||
	    lg.depth > MAX_DEPTH || (lg.total == 0 && lg.duration <= 0) ||
	    lg.timeout <= 0 || lg.ramp < 0)
		usage();
	set_target(sock, tcp);
	setup();
	run();
	report();
	return lg.answered > 0 ? 0 : 1;
}
