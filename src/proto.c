/*
 * proto.c - the line protocol of doc/protocol.md sections 1-3: one request
 * line -> struct request, and the response line builders.
 *
 * Pure: no I/O, no allocation except through struct buf.  Every request
 * byte is hostile: nothing here indexes past len, and every value copied
 * into struct request is bounded first.  This file decides only what a
 * line means; what to do with it (permissions, cache, callouts) is not
 * its business.
 *
 * Decisions beyond doc/protocol.md (documented in doc/protocol.md):
 * - option keys and the cache= value are case-insensitive; cache=yes is
 *   accepted and means the default;
 * - a duplicate option, an option with an empty key, or a field without
 *   '=' after the address is a badrequest;
 * - from= is a RECIPIENT option: on SENDER it is a badrequest; from=<> is
 *   allowed (call out with the null sender explicitly);
 * - client=, helo=, id= may be empty; longer than PROTO_NOTE_MAX-1 bytes is
 *   a badrequest; '"', '\\' and 8-bit bytes in them are stored as '?' so
 *   that log lines stay parsable (the values are never used otherwise);
 * - a bad option and a bad address on one line: badrequest wins;
 * - FLUSH DOMAIN/ADDRESS with a malformed argument is a badrequest, and so
 *   is FLUSH ADDRESS <>;
 * - bytes >= 0x80 mean something only in an address (RFC 6531 local parts,
 *   U-labels: address.c checks them and turns domains into A-labels);
 *   elsewhere they make an unknown verb or option, a bad value or a '?' in
 *   a note.  A C1 control written in UTF-8 (C2 80..C2 9F) is a control
 *   character like any other: badrequest, wherever it is.
 */
#include <string.h>

#include "proto.h"

#define MAX_FIELDS      16      /* verb + address + 6 options, and slack */
#define TIMEOUT_MAX     300

struct field {
	const char *p;
	size_t n;
};

enum opt { OPT_TIMEOUT, OPT_FROM, OPT_CACHE, OPT_CLIENT, OPT_HELO, OPT_ID,
	OPT__COUNT };

static const char *const opt_names[OPT__COUNT] = {
	[OPT_TIMEOUT] = "timeout", [OPT_FROM] = "from", [OPT_CACHE] = "cache",
	[OPT_CLIENT] = "client", [OPT_HELO] = "helo", [OPT_ID] = "id",
};

static const char *const verb_names[VERB__COUNT] = {
	[VERB_SENDER] = "SENDER", [VERB_RECIPIENT] = "RECIPIENT",
	[VERB_PING] = "PING", [VERB_STATS] = "STATS", [VERB_HEALTH] = "HEALTH",
	[VERB_FLUSH] = "FLUSH", [VERB_QUIT] = "QUIT",
	[VERB_METRICS] = "METRICS",
};

/* Case-insensitive (ASCII) comparison of a field with a word. */
static int
field_is(const struct field *f, const char *word)
{
	size_t i;

	if (strlen(word) != f->n)
		return 0;
	for (i = 0; i < f->n; i++) {
		int a = (unsigned char)f->p[i], b = (unsigned char)word[i];

		if (a >= 'A' && a <= 'Z')
			a += 'a' - 'A';
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		if (a != b)
			return 0;
	}
	return 1;
}

/* End of the field starting at i: a blank inside "..." (with \-escapes)
 * does not end it, so that "a b"@example.com is one field.  An unclosed
 * quote runs to the end of the line (and fails as an address later). */
static size_t
field_end(const char *line, size_t len, size_t i)
{
	int quoted = 0;

	for (; i < len; i++) {
		if (quoted && line[i] == '\\' && i + 1 < len)
			i++;
		else if (line[i] == '"')
			quoted = !quoted;
		else if (!quoted && (line[i] == ' ' || line[i] == '\t'))
			break;
	}
	return i;
}

/* Split on runs of spaces/tabs.  Returns the count, -1 if too many. */
static int
split(const char *line, size_t len, struct field *f)
{
	size_t i = 0, start;
	int n = 0;

	for (;;) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			return n;
		if (n == MAX_FIELDS)
			return -1;
		start = i;
		i = field_end(line, len, i);
		f[n].p = line + start;
		f[n].n = i - start;
		n++;
	}
}

static int
parse_timeout(const char *v, size_t n, int *out)
{
	size_t i;
	int t = 0;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		t = t * 10 + (v[i] - '0');
		if (t > TIMEOUT_MAX)
			return -1;
	}
	if (t < 1)
		return -1;
	*out = t;
	return 0;
}

/* A logged-only note: bounded, made safe for key=value log lines. */
static int
parse_note(const char *v, size_t n, char *dst)
{
	size_t i;

	if (n >= PROTO_NOTE_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		dst[i] = (c > 0x20 && c < 0x7f && c != '"' && c != '\\') ?
		    (char)c : '?';
	}
	dst[n] = '\0';
	return 0;
}

/* One key=value field of SENDER/RECIPIENT.  0 or -1 (badrequest). */
static int
parse_option(const struct field *f, struct request *req, unsigned *seen)
{
	const char *eq = memchr(f->p, '=', f->n);
	struct field key;
	const char *v;
	size_t vn;
	int o;

	if (eq == NULL || eq == f->p)
		return -1;
	key.p = f->p;
	key.n = (size_t)(eq - f->p);
	v = eq + 1;
	vn = f->n - key.n - 1;
	for (o = 0; o < OPT__COUNT; o++)
		if (field_is(&key, opt_names[o]))
			break;
	if (o == OPT__COUNT || (*seen & (1u << o)))
		return -1;
	*seen |= 1u << o;
	switch (o) {
	case OPT_TIMEOUT:
		return parse_timeout(v, vn, &req->timeout);
	case OPT_FROM:
		if (req->verb != VERB_RECIPIENT)
			return -1;
		req->has_from = 1;
		return address_parse(v, vn, &req->from);
	case OPT_CACHE: {
		struct field val = { v, vn };

		if (field_is(&val, "no"))
			req->no_cache = 1;
		else if (!field_is(&val, "yes"))
			return -1;
		return 0;
	}
	case OPT_CLIENT:
		return parse_note(v, vn, req->client);
	case OPT_HELO:
		return parse_note(v, vn, req->helo);
	default:
		return parse_note(v, vn, req->id);
	}
}

/* The first field after the verb is the address unless it is an option. */
static int
is_address_field(const struct field *f)
{
	if (f->n > 0 && f->p[0] == '<')
		return 1;
	return !(memchr(f->p, '=', f->n) && !memchr(f->p, '@', f->n));
}

static enum proto_status
parse_verify(const struct field *f, int n, struct request *req)
{
	const struct field *addr = NULL;
	unsigned seen = 0;
	int i = 1;

	if (n > 1 && is_address_field(&f[1]))
		addr = &f[i++];
	for (; i < n; i++)
		if (parse_option(&f[i], req, &seen) == -1)
			return PROTO_BADREQUEST;
	if (addr == NULL) {
		if (req->verb == VERB_RECIPIENT)
			return PROTO_BADREQUEST;
		req->addr.null = 1;
		return PROTO_OK;
	}
	if (address_parse(addr->p, addr->n, &req->addr) == -1) {
		memset(&req->addr, 0, sizeof(req->addr));
		return PROTO_SYNTAX;
	}
	if (req->verb == VERB_RECIPIENT && req->addr.null)
		return PROTO_BADREQUEST;
	return PROTO_OK;
}

static enum proto_status
parse_flush(const struct field *f, int n, struct request *req)
{
	if (n == 2 && field_is(&f[1], "all")) {
		req->flush = FLUSH_ALL;
		return PROTO_OK;
	}
	if (n != 3)
		return PROTO_BADREQUEST;
	if (field_is(&f[1], "domain")) {
		req->flush = FLUSH_DOMAIN;
		if (address_parse_domain(f[2].p, f[2].n, req->flush_domain) == -1)
			return PROTO_BADREQUEST;
		return PROTO_OK;
	}
	if (field_is(&f[1], "address")) {
		req->flush = FLUSH_ADDRESS;
		if (address_parse(f[2].p, f[2].n, &req->addr) == -1 ||
		    req->addr.null)
			return PROTO_BADREQUEST;
		return PROTO_OK;
	}
	return PROTO_BADREQUEST;
}

enum proto_status
proto_parse(const char *line, size_t len, struct request *req)
{
	struct field f[MAX_FIELDS];
	size_t i;
	int n, v;

	memset(req, 0, sizeof(*req));
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return PROTO_BADREQUEST;
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)line[i + 1] >= 0x80 &&
		    (unsigned char)line[i + 1] <= 0x9f)
			return PROTO_BADREQUEST;
	}
	if ((n = split(line, len, f)) <= 0)
		return PROTO_BADREQUEST;
	for (v = 0; v < VERB__COUNT; v++)
		if (field_is(&f[0], verb_names[v]))
			break;
	if (v == VERB__COUNT)
		return PROTO_BADREQUEST;
	req->verb = (enum req_verb)v;
	switch (req->verb) {
	case VERB_SENDER:
	case VERB_RECIPIENT:
		return parse_verify(f, n, req);
	case VERB_FLUSH:
		return parse_flush(f, n, req);
	default:
		return n == 1 ? PROTO_OK : PROTO_BADREQUEST;
	}
}

void
proto_begin(struct buf *out, enum sav_result r)
{
	buf_adds(out, "result=");
	buf_adds(out, verdict_result_name(r));
}

/* Values are the caller's, but a stray space must not break the line. */
void
proto_kv(struct buf *out, const char *key, const char *val)
{
	const unsigned char *p;

	buf_addc(out, ' ');
	buf_adds(out, key);
	buf_addc(out, '=');
	for (p = (const unsigned char *)val; *p != '\0'; p++)
		if (*p > 0x20 && *p < 0x7f)
			buf_addc(out, (char)*p);
}

void
proto_kv_int(struct buf *out, const char *key, long long val)
{
	buf_printf(out, " %s=%lld", key, val);
}

void
proto_text(struct buf *out, const char *text)
{
	const unsigned char *p;

	buf_adds(out, " text=\"");
	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			continue;
		if (*p == '"' || *p == '\\')
			buf_addc(out, '\\');
		buf_addc(out, (char)*p);
	}
	buf_addc(out, '"');
}

void
proto_end(struct buf *out)
{
	buf_addc(out, '\n');
}

/* code is written when non-zero: every verdict has one, by verdict_set. */
void
proto_format_verdict(struct buf *out, const struct verdict *v, long age)
{
	proto_begin(out, v->result);
	if (v->reason != R_NONE)
		proto_kv(out, "reason", verdict_reason_name(v->reason));
	if (v->code != 0)
		proto_kv_int(out, "code", v->code);
	if (v->source != SRC_NONE)
		proto_kv(out, "source", verdict_source_name(v->source));
	if (v->mx[0] != '\0')
		proto_kv(out, "mx", v->mx);
	if (age >= 0)
		proto_kv_int(out, "age", age);
	if (v->tls[0] != '\0')
		proto_kv(out, "tls", v->tls);
	if (v->text[0] != '\0')
		proto_text(out, v->text);
	proto_end(out);
}
