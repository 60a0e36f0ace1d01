/*
 * proto.h - the line protocol of doc/protocol.md sections 1-3: request line ->
 * struct request, verdict -> response line.  Pure: no I/O.
 */
#ifndef SAVD_PROTO_H
#define SAVD_PROTO_H

#include <stddef.h>
#include "address.h"
#include "verdict.h"
#include "buf.h"

enum req_verb {
	VERB_SENDER, VERB_RECIPIENT, VERB_PING, VERB_STATS, VERB_HEALTH,
	VERB_FLUSH, VERB_QUIT, VERB_METRICS, VERB__COUNT
};

enum flush_kind { FLUSH_ALL, FLUSH_DOMAIN, FLUSH_ADDRESS };

#define PROTO_NOTE_MAX 128      /* client=, helo=, id= values kept */

struct request {
	enum req_verb verb;
	struct mailbox addr;            /* SENDER/RECIPIENT; FLUSH ADDRESS */
	int has_from;
	struct mailbox from;            /* RECIPIENT from=<...> */
	int timeout;                    /* seconds 1..300, 0 = default */
	int no_cache;                   /* cache=no */
	char client[PROTO_NOTE_MAX];    /* "" when absent */
	char helo[PROTO_NOTE_MAX];
	char id[PROTO_NOTE_MAX];
	enum flush_kind flush;
	char flush_domain[ADDR_DOMAIN_MAX + 1];  /* FLUSH DOMAIN */
};

enum proto_status {
	PROTO_OK,               /* req filled */
	PROTO_BADREQUEST,       /* result=error reason=badrequest */
	PROTO_SYNTAX,           /* result=fail reason=syntax (bad address) */
};

/*
 * Parse one request line (without its LF; a trailing CR is the caller's
 * to strip).  Verbs case-insensitive, fields separated by spaces/tabs.
 * NUL or a control character other than TAB -> PROTO_BADREQUEST.
 * Unknown verb or option, bad option value, missing RECIPIENT address,
 * extra arguments -> PROTO_BADREQUEST.  A malformed address (the request
 * being otherwise well-formed) -> PROTO_SYNTAX.  A malformed from= value is
 * PROTO_BADREQUEST.
 */
enum proto_status proto_parse(const char *line, size_t len, struct request *req);

/* Response building: "result=R", then " key=value" pairs, then the quoted
 * text (always last), then LF.  Values must not contain spaces. */
void proto_begin(struct buf *out, enum sav_result r);
void proto_kv(struct buf *out, const char *key, const char *val);
void proto_kv_int(struct buf *out, const char *key, long long val);
/* text="..." with \" and \\ escaped, non-printable bytes dropped. */
void proto_text(struct buf *out, const char *text);
void proto_end(struct buf *out);

/*
 * A whole verdict line: result reason code source [mx] [age] [text] LF.
 * age < 0 means no age field.  text is written when non-empty.
 */
void proto_format_verdict(struct buf *out, const struct verdict *v, long age);

#endif
