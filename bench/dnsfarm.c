/*
 * dnsfarm.c - a fast static DNS server for benchmarks, UDP on loopback.
 * For every name D under bench.test (D not starting with "mx."):
 *   D MX    10 mx.D
 *   mx.D A  one of -n consecutive addresses from -a (127.0.1.1 up),
 *           chosen by the number in D's first label (d17 -> 18th), so
 *           callouts spread over the SMTP farm's listeners
 * Every other type of those names is NODATA, any other name NXDOMAIN.
 *
 * It must never send to anything but the peer that asked, and only listens
 * on 127.0.0.0/8.  Malformed queries are dropped; every read is bounded.
 *
 *   dnsfarm [-l 127.0.0.1] [-p port] [-w portfile] [-a 127.0.1.1] [-n 64]
 *           [-t seconds]
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define T_A     1
#define T_MX    15
#define ZONE    "bench.test"
#define TTL     300

static struct {
	uint32_t base;          /* first A address, host order */
	unsigned n;
	unsigned long queries, answers, nxdomain, dropped;
} dns;

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * Decode the question name (uncompressed labels only) into dotted,
 * lower-case text.  Returns the offset after QCLASS, or -1.
 */
static int
parse_question(const unsigned char *p, size_t len, char *name, size_t cap,
    unsigned *qtype)
{
	size_t off = 12, o = 0;

	while (off < len && p[off] != 0) {
		size_t l = p[off];

		if (l > 63 || off + 1 + l > len || o + l + 2 > cap)
			return -1;
		if (o > 0)
			name[o++] = '.';
		for (size_t i = 0; i < l; i++)
			name[o++] = tolower(p[off + 1 + i]);
		off += 1 + l;
	}
	if (off + 5 > len)
		return -1;
	name[o] = '\0';
	*qtype = p[off + 1] << 8 | p[off + 2];
	return (int)off + 5;
}

static int
in_zone(const char *name)
{
	size_t n = strlen(name), z = sizeof(ZONE) - 1;

	return n > z + 1 && strcmp(name + n - z, ZONE) == 0 &&
	    name[n - z - 1] == '.';
}

/* Which farm address serves domain d: the number in its first label. */
static uint32_t
addr_for(const char *d)
{
	unsigned long v = 0, h = 2166136261u;
	int digits = 0;

	for (; *d && *d != '.'; d++) {
		h = (h ^ (unsigned char)*d) * 16777619u;
		if (isdigit((unsigned char)*d)) {
			v = (v * 10 + (*d - '0')) % 1000000007u;
			digits = 1;
		}
	}
	return dns.base + (uint32_t)((digits ? v : h) % dns.n);
}

static size_t
put_rr_head(unsigned char *o, unsigned type, unsigned rdlen)
{
	o[0] = 0xc0;                    /* name: pointer to the question */
	o[1] = 12;
	o[2] = type >> 8;
	o[3] = type & 0xff;
	o[4] = 0;
	o[5] = 1;                       /* IN */
	o[6] = 0;
	o[7] = 0;
	o[8] = TTL >> 8;
	o[9] = TTL & 0xff;
	o[10] = rdlen >> 8;
	o[11] = rdlen & 0xff;
	return 12;
}

/* Build the reply in r (the query is already copied there); its length. */
static size_t
answer(unsigned char *r, size_t qend, const char *name, unsigned qtype)
{
	size_t o = qend;
	int is_mx = strncmp(name, "mx.", 3) == 0;
	uint32_t a;

	r[2] = 0x84 | (r[2] & 0x01);    /* QR AA, keep RD */
	r[3] = 0x80;                    /* RA, NOERROR */
	memset(r + 6, 0, 6);            /* AN NS AR counts */
	if (!in_zone(name) || (is_mx && !in_zone(name + 3))) {
		r[3] |= 3;              /* NXDOMAIN */
		dns.nxdomain++;
		return o;
	}
	if (!is_mx && qtype == T_MX) {
		o += put_rr_head(r + o, T_MX, 7);
		memcpy(r + o, "\0\x0a\x02mx\xc0\x0c", 7);
		o += 7;
		r[7] = 1;
	} else if (is_mx && qtype == T_A) {
		o += put_rr_head(r + o, T_A, 4);
		a = htonl(addr_for(name + 3));
		memcpy(r + o, &a, 4);
		o += 4;
		r[7] = 1;
	}
	dns.answers += r[7];
	return o;
}

static void
serve_one(int fd)
{
	unsigned char q[512], r[512 + 64];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char name[256];
	unsigned qtype;
	ssize_t n;
	int qend;
	size_t rlen;

	n = recvfrom(fd, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&ss,
	    &sl);
	if (n < 0)
		return;
	dns.queries++;
	/* A query: QR clear, opcode 0, one question. */
	if (n < 17 || (q[2] & 0xf8) != 0 || q[4] != 0 || q[5] != 1 ||
	    (qend = parse_question(q, n, name, sizeof(name), &qtype)) < 0) {
		dns.dropped++;
		return;
	}
	memcpy(r, q, qend);
	r[5] = 1;
	rlen = answer(r, qend, name, qtype);
	sendto(fd, r, rlen, MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
}

static int
open_socket(const char *addr, int *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, sz = 4 << 20;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(*port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1 ||
	    (ntohl(sin.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "dnsfarm: %s is not a loopback address\n", addr);
		exit(2);
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		perror("dnsfarm: socket");
		exit(2);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("dnsfarm: bind");
		exit(2);
	}
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
write_portfile(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL || fprintf(f, "%d\n", port) < 0 ||
	    fclose(f) != 0 || rename(tmp, path) < 0) {
		perror("dnsfarm: port file");
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	const char *laddr = "127.0.0.1", *first = "127.0.1.1", *pf = NULL;
	struct in_addr a;
	struct pollfd pfd;
	int ch, port = 0;
	double limit = 900;
	time_t end;

	dns.n = 64;
	while ((ch = getopt(argc, argv, "l:p:w:a:n:t:")) != -1) {
		switch (ch) {
		case 'l': laddr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'w': pf = optarg; break;
		case 'a': first = optarg; break;
		case 'n': dns.n = atoi(optarg); break;
		case 't': limit = atof(optarg); break;
		default:
			fprintf(stderr, "usage: dnsfarm [-l addr] [-p port] "
			    "[-w portfile] [-a first-A] [-n count] [-t secs]\n");
			return 2;
		}
	}
	if (inet_pton(AF_INET, first, &a) != 1 || dns.n < 1) {
		fprintf(stderr, "dnsfarm: bad -a or -n\n");
		return 2;
	}
	dns.base = ntohl(a.s_addr);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	pfd.fd = open_socket(laddr, &port);
	pfd.events = POLLIN;
	if (pf)
		write_portfile(pf, port);
	end = time(NULL) + (time_t)limit;
	while (!stop && time(NULL) < end)
		if (poll(&pfd, 1, 250) > 0)
			for (int i = 0; i < 64; i++)
				serve_one(pfd.fd);
	fprintf(stderr, "dnsfarm: queries=%lu answers=%lu nxdomain=%lu "
	    "dropped=%lu\n", dns.queries, dns.answers, dns.nxdomain,
	    dns.dropped);
	return 0;
}
