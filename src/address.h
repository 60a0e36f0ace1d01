/*
 * address.h - RFC 5321/6531 mailbox parsing and normalising.
 * Pure: no I/O; no allocation that outlives a call.
 */
#ifndef SAVD_ADDRESS_H
#define SAVD_ADDRESS_H

#include <stddef.h>

/*
 * Limits (why: see address.c).  Every length is counted as sent: the local
 * part as written (quotes included), the domain in its A-label form.
 */
#define ADDR_LOCAL_MAX  256     /* VERP/SRS/BATV run past RFC 5321's 64 */
#define ADDR_DOMAIN_MAX 255     /* RFC 5321 4.5.3.1.2; names are <= 253 */
#define ADDR_SMTP_LINE  512     /* RFC 5321 4.5.3.1.4, incl. CRLF */
/* "<local@domain>": "MAIL FROM:" path " SMTPUTF8" CRLF is 512 (asserted) */
#define ADDR_PATH_MAX   491
#define ADDR_INPUT_MAX  1024    /* bytes as written (U-labels are longer) */
#define ADDR_BUF        (ADDR_LOCAL_MAX + 1 + ADDR_DOMAIN_MAX + 1)

struct mailbox {
	int null;                       /* <> : local and domain are "" */
	int literal;                    /* domain is an address literal [..] */
	int utf8;                       /* local has non-ASCII: needs SMTPUTF8 */
	char local[ADDR_LOCAL_MAX + 1]; /* as on the wire, quotes kept, case kept */
	char domain[ADDR_DOMAIN_MAX + 1]; /* lower-case A-label; literal with [] */
};

/*
 * Parse s[0..len) as a mailbox: bare "local@domain", "<local@domain>" or
 * "<>" (null).  Dot-atom and quoted-string local parts (RFC 5321 4.1.2)
 * with RFC 6531 UTF-8 (well-formed only: no overlongs, surrogates or C1
 * controls); the domain as dot-separated LDH labels (each 1..63, no
 * leading/trailing hyphen, at least two labels... see address.c), or with
 * U-labels, converted to its lower-case A-label form (IDNA 2008 with UTS 46
 * non-transitional mapping, libidn2), or an address literal [IPv4] /
 * [IPv6:...].  Any control character, NUL, space outside quotes, invalid
 * UTF-8, a domain IDNA refuses, or a length beyond the limits above is an
 * error.  Returns 0 and fills mb, or -1 (mb unspecified).
 */
int address_parse(const char *s, size_t len, struct mailbox *mb);

/* Parse a domain alone (FLUSH DOMAIN, skip_domains, routes): U-labels are
 * converted as above; the lower-case A-label form goes into out
 * (ADDR_DOMAIN_MAX+1 bytes).  Returns 0 or -1. */
int address_parse_domain(const char *s, size_t len, char *out);

/* Does "local@domain" (address_format's output) need SMTPUTF8, that is,
 * has it any byte >= 0x80?  Domains are A-labels, so only a UTF-8 local
 * part does.  1 or 0. */
int address_needs_smtputf8(const char *addr);

/* "local@domain" (or "" for null) into buf of ADDR_BUF bytes. */
void address_format(const struct mailbox *mb, char *buf);

#endif
