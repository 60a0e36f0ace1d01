/*
 * unit-client.c - the pure parts of src/client.c: target classification,
 * response line checking and field extraction, control character test.
 */
#include <stdio.h>

#include "tap.h"
#include "client.h"

static const struct {
	const char *target;
	int tcp;
} targets[] = {
	{ "/run/savd/savd.sock", 0 },
	{ "savd.sock", 0 },
	{ "./host:25", 0 },
	{ "127.0.0.1:8925", 1 },
	{ "localhost:8925", 1 },
	{ "[::1]:8925", 1 },
	{ "[::1]", 0 },
	{ "::1:8925", 0 },
	{ "[]:25", 0 },
	{ "host:", 0 },
	{ ":25", 0 },
	{ "host:25x", 0 },
};

static const struct {
	const char *line;
	int valid;
} lines[] = {
	{ "result=ok reason=pong\n", 1 },
	{ "result=ok reason=pong", 1 },
	{ "result=ok reason=pong\r\n", 1 },
	{ "result=fail code=550 text=\"5.1.1 <a@b>: no \\\"such\\\" \\\\ user\"\n", 1 },
	{ "result=ok  status=ok   inflight=0\n", 1 },
	{ "result=ok mx=\n", 1 },
	{ "", 0 },
	{ "\n", 0 },
	{ "hello world\n", 0 },
	{ "status=ok result=ok\n", 0 },
	{ "result=\n", 0 },
	{ "result=\"ok\"\n", 0 },
	{ "result=ok text=\"a\" code=1\n", 0 },
	{ "result=ok text=\"unterminated\n", 0 },
	{ "result=ok text=\"bad \\", 0 },
	{ "result=ok bare\n", 0 },
	{ "result=ok =x\n", 0 },
	{ "result=ok a=b\tc=d\n", 0 },
	{ "result=ok a=b\nresult=ok\n", 0 },
	{ "result=ok a=\x01\n", 0 },
	{ "result=ok text=\"a\x7f\"\n", 0 },
};

static const struct {
	const char *line;
	const char *key;
	size_t vallen;
	int ret;
	const char *val;
} fields[] = {
	{ "result=ok reason=pong\n", "result", 64, 1, "ok" },
	{ "result=ok reason=pong\n", "reason", 64, 1, "pong" },
	{ "result=ok reason=pong\n", "code", 64, 0, NULL },
	{ "result=ok reason=pong\n", "reaso", 64, 0, NULL },
	{ "result=ok reason=pong\n", "reason", 4, -1, NULL },
	{ "result=ok reason=pong\n", "reason", 5, 1, "pong" },
	{ "result=ok reason=pong\n", "reason", 0, -1, NULL },
	{ "result=fail text=\"a \\\"q\\\" \\\\ z\"\n", "text", 64, 1,
	    "a \"q\" \\ z" },
	{ "result=ok text=\"\"\n", "text", 64, 1, "" },
	{ "result=ok status=warning reasons=a,b\n", "reasons", 64, 1, "a,b" },
	{ "garbage\n", "result", 64, -1, NULL },
	{ "result=ok text=\"x\" a=b\n", "result", 64, -1, NULL },
};

static const struct {
	const char *s;
	int ctl;
} ctls[] = {
	{ "bob@example.com", 0 },
	{ "\"a b\"@example.com", 0 },
	{ "bob@example.com\r", 1 },
	{ "a\nb", 1 },
	{ "a\tb", 1 },
	{ "a\x7f", 1 },
	{ "", 0 },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

int
main(void)
{
	char val[128];
	size_t i;
	int r;

	plan_no_plan();
	for (i = 0; i < N(targets); i++)
		is_int(client_is_tcp(targets[i].target), targets[i].tcp,
		    "is_tcp %s", targets[i].target);
	for (i = 0; i < N(lines); i++)
		is_int(client_check_line(lines[i].line) == 0, lines[i].valid,
		    "check_line #%zu", i);
	for (i = 0; i < N(fields); i++) {
		val[0] = '\0';
		r = client_field(fields[i].line, fields[i].key, val,
		    fields[i].vallen);
		is_int(r, fields[i].ret, "field #%zu %s: return", i,
		    fields[i].key);
		if (fields[i].val != NULL)
			is_str(val, fields[i].val, "field #%zu %s: value", i,
			    fields[i].key);
	}
	for (i = 0; i < N(ctls); i++)
		is_int(client_has_ctl(ctls[i].s), ctls[i].ctl, "has_ctl #%zu",
		    i);
	return done_testing();
}
