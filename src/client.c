/*
 * client.c - blocking one-shot client for savctl and check_savd: connect
 * (UNIX path or host:port), send, half-close, read under one deadline with
 * poll(2); and a reader for response lines.  Never used by the daemon,
 * never waits without the deadline, never stores more than the caller's
 * buffer holds.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define FIELD_KEY_MAX 64

struct field {
	const char *k;
	size_t klen;
	const char *v;          /* raw: for text, between the quotes */
	size_t vlen;
	int quoted;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline: 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

int
client_is_tcp(const char *target)
{
	const char *colon = strrchr(target, ':');
	const char *p;

	if (strchr(target, '/') != NULL || colon == NULL || colon == target ||
	    colon[1] == '\0')
		return 0;
	for (p = colon + 1; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	if (target[0] == '[')
		return colon[-1] == ']' && colon - target > 2;
	/* "a:b:80" is neither a host name nor a bracketed IPv6 address. */
	return memchr(target, ':', (size_t)(colon - target)) == NULL;
}

/* Split "host:port" / "[v6]:port"; -1 when a part does not fit. */
static int
split_hostport(const char *target, char *host, size_t hostcap, char *port,
    size_t portcap)
{
	const char *colon = strrchr(target, ':');
	const char *h = target;
	size_t hlen = (size_t)(colon - target);

	if (target[0] == '[') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= hostcap || strlen(colon + 1) >= portcap)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

/*
 * Non-blocking connect on fd, finished under the deadline.  A UNIX socket
 * whose backlog is full says EAGAIN: try again until the deadline.
 */
static int
connect_fd(int fd, const struct sockaddr *sa, socklen_t salen,
    long long deadline, char *err, size_t errlen)
{
	int soerr = 0, r;
	socklen_t sl = sizeof(soerr);

	while (connect(fd, sa, salen) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && sa->sa_family == AF_UNIX) {
			if (now_ms() >= deadline)
				goto timeout;
			poll(NULL, 0, 10);
			continue;
		}
		if (errno != EINPROGRESS) {
			snprintf(err, errlen, "connect: %s", strerror(errno));
			return -1;
		}
		if ((r = wait_fd(fd, POLLOUT, deadline)) == 0)
			goto timeout;
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &sl) == -1)
			soerr = errno;
		if (soerr != 0) {
			snprintf(err, errlen, "connect: %s", strerror(soerr));
			return -1;
		}
		return 0;
	}
	return 0;
timeout:
	snprintf(err, errlen, "connect: timed out");
	return -1;
}

static int
open_unix(const char *path, long long deadline, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect_fd(fd, (struct sockaddr *)&sun, sizeof(sun), deadline,
	    err, errlen) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
open_tcp(const char *target, long long deadline, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char host[256], port[16];
	int fd = -1, r;

	if (split_hostport(target, host, sizeof(host), port,
	    sizeof(port)) == -1) {
		snprintf(err, errlen, "%s: bad host:port", target);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(r));
		return -1;
	}
	snprintf(err, errlen, "%s: no address", host);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			continue;
		}
		if (connect_fd(fd, ai->ai_addr, ai->ai_addrlen, deadline,
		    err, errlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int
send_all(int fd, const char *p, size_t len, long long deadline, char *err,
    size_t errlen)
{
	ssize_t n;
	int r;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(err, errlen, "send: %s", strerror(errno));
			return -1;
		}
		if ((r = wait_fd(fd, POLLOUT, deadline)) <= 0) {
			snprintf(err, errlen, "send: %s",
			    r == 0 ? "timed out" : strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The line count a framed answer's first line announces: 1 + lines=N
 * (doc/protocol.md), or 1 when it has no lines= field. */
static int
framed_total(const char *first)
{
	char val[CLIENT_VALUE_MAX], *end;
	long n;

	if (client_field(first, "lines", val, sizeof(val)) != 1)
		return 1;
	n = strtol(val, &end, 10);
	if (*end != '\0' || n < 0 || n > CLIENT_ANSWER_MAX)
		return 1;
	return 1 + (int)n;
}

/* Read until nlines LFs (CLIENT_FRAMED: as many as the first line says)
 * or EOF; returns the byte count or -1. */
static int
read_answer(int fd, int nlines, long long deadline, char *out, size_t outcap,
    char *err, size_t errlen)
{
	size_t len = 0, i;
	ssize_t n;
	int lines = 0, r, framed = nlines == CLIENT_FRAMED;

	if (framed)
		nlines = 1;
	while (lines < nlines) {
		if (len + 1 >= outcap) {
			snprintf(err, errlen, "answer too long");
			return -1;
		}
		n = recv(fd, out + len, outcap - 1 - len, 0);
		if (n == 0)
			break;
		if (n > 0) {
			for (i = len; i < len + (size_t)n; i++) {
				if (out[i] != '\n' || ++lines < nlines)
					continue;
				if (framed && lines == 1) {
					framed = 0;
					out[i] = '\0';
					nlines = framed_total(out);
					out[i] = '\n';
					if (lines < nlines)
						continue;
				}
				len = i + 1;
				goto done;
			}
			len += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(err, errlen, "recv: %s", strerror(errno));
			return -1;
		}
		if ((r = wait_fd(fd, POLLIN, deadline)) <= 0) {
			snprintf(err, errlen, "no answer: %s",
			    r == 0 ? "timed out" : strerror(errno));
			return -1;
		}
	}
	if (lines < nlines) {
		snprintf(err, errlen, "connection closed before the answer%s",
		    len > 0 ? " was complete" : "");
		return -1;
	}
done:
	out[len] = '\0';
	return (int)len;
}

int
client_query(const char *target, const char *req, size_t reqlen,
    int nlines, int timeout_ms, char *out, size_t outcap,
    char *err, size_t errlen)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	int fd, n;

	if (outcap < 2 || outcap > CLIENT_ANSWER_MAX + 1 ||
	    (nlines < 1 && nlines != CLIENT_FRAMED)) {
		snprintf(err, errlen, "bad answer buffer");
		return -1;
	}
	if (client_is_tcp(target))
		fd = open_tcp(target, deadline, err, errlen);
	else
		fd = open_unix(target, deadline, err, errlen);
	if (fd == -1)
		return -1;
	if (send_all(fd, req, reqlen, deadline, err, errlen) == -1) {
		close(fd);
		return -1;
	}
	shutdown(fd, SHUT_WR);
	n = read_answer(fd, nlines, deadline, out, outcap, err, errlen);
	close(fd);
	return n;
}

static int
is_keychar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* Is c the end of the line (NUL, LF, or the CR of a CRLF)? */
static int
is_eol(const char *p)
{
	return *p == '\0' || *p == '\n' || (p[0] == '\r' && p[1] == '\n');
}

/* A quoted value after its opening '"': fills f, returns the end or NULL. */
static const char *
scan_quoted(const char *p, struct field *f)
{
	f->quoted = 1;
	f->v = p;
	while (*p != '"') {
		if (is_eol(p) || (unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
		if (*p == '\\') {
			p++;
			if (is_eol(p) || (unsigned char)*p < 0x20)
				return NULL;
		}
		p++;
	}
	f->vlen = (size_t)(p - f->v);
	p++;
	/* text is last: only spaces may follow. */
	while (*p == ' ')
		p++;
	return is_eol(p) ? p : NULL;
}

/* Next field at *pp: 1 with f filled, 0 at the end, -1 when malformed. */
static int
next_field(const char **pp, struct field *f)
{
	const char *p = *pp;

	while (*p == ' ')
		p++;
	if (is_eol(p))
		return 0;
	memset(f, 0, sizeof(*f));
	f->k = p;
	while (is_keychar((unsigned char)*p))
		p++;
	f->klen = (size_t)(p - f->k);
	if (f->klen == 0 || f->klen > FIELD_KEY_MAX || *p != '=')
		return -1;
	p++;
	if (*p == '"') {
		if ((p = scan_quoted(p + 1, f)) == NULL)
			return -1;
	} else {
		f->v = p;
		while (!is_eol(p) && *p != ' ') {
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return -1;
			p++;
		}
		f->vlen = (size_t)(p - f->v);
	}
	*pp = p;
	return 1;
}

int
client_check_line(const char *line)
{
	const char *p = line;
	struct field f;
	int r, n = 0;

	while ((r = next_field(&p, &f)) == 1) {
		if (n++ == 0 && (f.klen != 6 || memcmp(f.k, "result", 6) != 0 ||
		    f.quoted || f.vlen == 0))
			return -1;
	}
	if (r < 0 || n == 0)
		return -1;
	/* Nothing after the line end. */
	if (*p == '\r')
		p++;
	if (*p == '\n')
		p++;
	return *p == '\0' ? 0 : -1;
}

/* Copy f's value into val, unescaping text; -1 when it does not fit. */
static int
copy_value(const struct field *f, char *val, size_t vallen)
{
	size_t i, o = 0;

	if (vallen == 0)
		return -1;
	for (i = 0; i < f->vlen; i++) {
		if (f->quoted && f->v[i] == '\\')
			i++;
		if (o + 1 >= vallen)
			return -1;
		val[o++] = f->v[i];
	}
	val[o] = '\0';
	return 1;
}

int
client_field(const char *line, const char *key, char *val, size_t vallen)
{
	const char *p = line;
	size_t klen = strlen(key);
	struct field f;
	int r;

	if (client_check_line(line) == -1)
		return -1;
	while ((r = next_field(&p, &f)) == 1)
		if (f.klen == klen && memcmp(f.k, key, klen) == 0)
			return copy_value(&f, val, vallen);
	return r;
}

int
client_has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}
