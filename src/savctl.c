/*
 * savctl.c - command-line client for savd (doc/protocol.md 9): turns
 * its arguments into one request line, prints the answer line, and exits
 * 0 ok, 1 fail, 2 defer/unknown, 3 error or no answer.  It never sends a
 * control character and never waits past its timeout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cachedump.h"
#include "autoconf.h"
#include "client.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

#define EXIT_OK         0
#define EXIT_FAIL       1
#define EXIT_DEFER      2
#define EXIT_ERROR      3

#define REQUEST_MAX     4096
#define DEFAULT_TIMEOUT_MS 30000

struct req {
	char line[REQUEST_MAX];
	size_t len;
	int overflow;
	int answer_s;           /* timeout=N option given, else 0 */
	int framed;             /* multi-line answer (METRICS) */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: savctl [-s socket] [-t timeout] command\n"
	    "commands:\n"
	    "  sender ADDRESS [key=value ...]\n"
	    "  recipient ADDRESS [key=value ...]\n"
	    "  ping | stats | health\n"
	    "  metrics            (Prometheus text exposition format)\n"
	    "  flush all | flush domain DOMAIN | flush address ADDRESS\n"
	    "  dump [-C cache_file] [--domain DOMAIN]\n"
	    "socket: a UNIX socket path (default %s) or host:port\n",
	    SAVD_SOCKET);
}

static void
req_add(struct req *r, const char *s)
{
	size_t n = strlen(s);

	if (r->len + n + 2 > sizeof(r->line)) {
		r->overflow = 1;
		return;
	}
	memcpy(r->line + r->len, s, n);
	r->len += n;
	r->line[r->len] = '\0';
}

/* Append " <address>", brackets added unless already there. */
static void
req_add_address(struct req *r, const char *addr)
{
	size_t n = strlen(addr);
	int bracketed = n >= 2 && addr[0] == '<' && addr[n - 1] == '>';

	req_add(r, bracketed ? " " : " <");
	req_add(r, addr);
	if (!bracketed)
		req_add(r, ">");
}

/* Seconds, decimals allowed, optional "s" or "ms" suffix; -1 if bad. */
static int
parse_timeout(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return -1;
	if (strcmp(end, "ms") == 0)
		v /= 1000;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	if (!(v > 0 && v <= 86400))
		return -1;
	return v * 1000 < 1 ? 1 : (int)(v * 1000);
}

/* SENDER/RECIPIENT ADDRESS [key=value ...] */
static int
build_verify(struct req *r, const char *verb, int argc, char **argv)
{
	int i;

	if (argc < 1)
		return -1;
	req_add(r, verb);
	req_add_address(r, argv[0]);
	for (i = 1; i < argc; i++) {
		if (strchr(argv[i], '=') == NULL ||
		    strchr(argv[i], ' ') != NULL || argv[i][0] == '=') {
			fprintf(stderr, "savctl: '%s': options are key=value "
			    "without spaces\n", argv[i]);
			exit(EXIT_ERROR);
		}
		if (strncasecmp(argv[i], "timeout=", 8) == 0)
			r->answer_s = atoi(argv[i] + 8);
		req_add(r, " ");
		req_add(r, argv[i]);
	}
	return 0;
}

/* FLUSH ALL | FLUSH DOMAIN d | FLUSH ADDRESS a */
static int
build_flush(struct req *r, int argc, char **argv)
{
	if (argc == 1 && strcasecmp(argv[0], "all") == 0)
		req_add(r, "FLUSH ALL");
	else if (argc == 2 && strcasecmp(argv[0], "domain") == 0) {
		req_add(r, "FLUSH DOMAIN ");
		req_add(r, argv[1]);
	} else if (argc == 2 && strcasecmp(argv[0], "address") == 0) {
		req_add(r, "FLUSH ADDRESS");
		req_add_address(r, argv[1]);
	} else
		return -1;
	return 0;
}

/* The request line from the command words; -1 on a usage error. */
static int
build_request(struct req *r, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcasecmp(cmd, "sender") == 0)
		return build_verify(r, "SENDER", argc - 1, argv + 1);
	if (strcasecmp(cmd, "recipient") == 0)
		return build_verify(r, "RECIPIENT", argc - 1, argv + 1);
	if (strcasecmp(cmd, "flush") == 0)
		return build_flush(r, argc - 1, argv + 1);
	if (argc != 1)
		return -1;
	if (strcasecmp(cmd, "ping") == 0)
		req_add(r, "PING");
	else if (strcasecmp(cmd, "stats") == 0)
		req_add(r, "STATS");
	else if (strcasecmp(cmd, "health") == 0)
		req_add(r, "HEALTH");
	else if (strcasecmp(cmd, "metrics") == 0) {
		req_add(r, "METRICS");
		r->framed = 1;
	} else
		return -1;
	return 0;
}

static int
exit_for_result(const char *result)
{
	if (strcmp(result, "ok") == 0)
		return EXIT_OK;
	if (strcmp(result, "fail") == 0)
		return EXIT_FAIL;
	if (strcmp(result, "defer") == 0 || strcmp(result, "unknown") == 0)
		return EXIT_DEFER;
	return EXIT_ERROR;
}

/* Send the request, print the answer; returns the exit status. */
static int
run(const char *target, struct req *r, int timeout_ms)
{
	char answer[CLIENT_ANSWER_MAX + 1], result[CLIENT_VALUE_MAX];
	char err[512], *nl;
	int got;

	req_add(r, "\n");
	if (r->overflow) {
		fprintf(stderr, "savctl: request longer than %d bytes\n",
		    REQUEST_MAX - 2);
		return EXIT_ERROR;
	}
	if (client_query(target, r->line, r->len, r->framed ? CLIENT_FRAMED : 1,
	    timeout_ms, answer, sizeof(answer), err, sizeof(err)) == -1) {
		fprintf(stderr, "savctl: %s: %s\n", target, err);
		return EXIT_ERROR;
	}
	if ((nl = strchr(answer, '\n')) != NULL)
		*nl = '\0';            /* the first line decides */
	got = client_field(answer, "result", result, sizeof(result));
	if (nl != NULL)
		*nl = '\n';
	if (got != 1) {
		fprintf(stderr, "savctl: %s: garbled answer\n", target);
		return EXIT_ERROR;
	}
	/* metrics: the exposition alone, for node_exporter's textfile
	 * collector; the framing line only when it is not result=ok. */
	if (r->framed && strcmp(result, "ok") == 0)
		fputs(strchr(answer, '\n') + 1, stdout);
	else
		fputs(answer, stdout);
	if (fflush(stdout) == EOF) {
		perror("savctl: stdout");
		return EXIT_ERROR;
	}
	return exit_for_result(result);
}

/* savctl dump: read the cache file directly, without locking it. */
static int
dump(int argc, char **argv)
{
	const char *path = SAVD_CACHE_FILE, *domain = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-C") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--domain") == 0 && i + 1 < argc)
			domain = argv[++i];
		else {
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	return cachedump_run(path, domain, stdout) == 0 ? EXIT_OK : EXIT_ERROR;
}

int
main(int argc, char **argv)
{
	const char *target = SAVD_SOCKET;
	struct req r;
	int c, i, timeout_ms = -1;

	while ((c = getopt(argc, argv, "+hs:t:V")) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 's':
			target = optarg;
			break;
		case 't':
			if ((timeout_ms = parse_timeout(optarg)) == -1) {
				fprintf(stderr, "savctl: bad timeout '%s'\n",
				    optarg);
				return EXIT_ERROR;
			}
			break;
		case 'V':
			printf("savctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	argc -= optind;
	argv += optind;
	for (i = 0; i < argc; i++)
		if (client_has_ctl(argv[i])) {
			fprintf(stderr, "savctl: argument %d holds a control "
			    "character\n", i + 1);
			return EXIT_ERROR;
		}
	if (argc >= 1 && strcmp(argv[0], "dump") == 0)
		return dump(argc, argv);
	memset(&r, 0, sizeof(r));
	if (argc < 1 || *target == '\0' || build_request(&r, argc, argv) == -1) {
		usage(stderr);
		return EXIT_ERROR;
	}
	/* Without -t, outwait the deadline the request asked for. */
	if (timeout_ms == -1)
		timeout_ms = r.answer_s > 0 && r.answer_s <= 300 &&
		    (r.answer_s + 5) * 1000 > DEFAULT_TIMEOUT_MS ?
		    (r.answer_s + 5) * 1000 : DEFAULT_TIMEOUT_MS;
	return run(target, &r, timeout_ms);
}
