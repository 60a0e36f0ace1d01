/*
 * address.h - RFC 5321 mailbox parsing, normalising and cache keys.
 * Pure: no I/O, no allocation.
 */
#ifndef SAVD_ADDRESS_H
#define SAVD_ADDRESS_H

#include <stddef.h>

#define ADDR_LOCAL_MAX  64      /* RFC 5321 4.5.3.1.1, octets */
#define ADDR_DOMAIN_MAX 255     /* RFC 5321 4.5.3.1.2 */
#define ADDR_PATH_MAX   256     /* RFC 5321 4.5.3.1.3, incl. < > */
#define ADDR_BUF        (ADDR_LOCAL_MAX + 1 + ADDR_DOMAIN_MAX + 1)

struct mailbox {
	int null;                       /* <> : local and domain are "" */
	int literal;                    /* domain is an address literal [..] */
	char local[ADDR_LOCAL_MAX + 1]; /* as on the wire, quotes kept, case kept */
	char domain[ADDR_DOMAIN_MAX + 1]; /* lower-cased; literal with brackets */
};

/*
 * Parse s[0..len) as a mailbox: bare "local@domain", "<local@domain>" or
 * "<>" (null).  Dot-atom and quoted-string local parts (RFC 5321 4.1.2),
 * domain as dot-separated LDH labels (each 1..63, no leading/trailing
 * hyphen, at least two labels... see address.c) or an address literal
 * [IPv4] / [IPv6:...].  Any control character, NUL, space outside quotes,
 * non-ASCII byte, or length beyond the RFC limits is an error.
 * Returns 0 and fills mb, or -1 (mb unspecified).
 */
int address_parse(const char *s, size_t len, struct mailbox *mb);

/* Parse a domain alone (FLUSH DOMAIN, skip_domains, routes); lower-cases
 * into out (ADDR_DOMAIN_MAX+1 bytes).  Returns 0 or -1. */
int address_parse_domain(const char *s, size_t len, char *out);

/* "local@domain" (or "" for null) into buf of ADDR_BUF bytes. */
void address_format(const struct mailbox *mb, char *buf);

/* Cache keys: "a:local@domain" and "d:domain".  Return the length. */
size_t address_key(const struct mailbox *mb, char *buf, size_t cap);
/* The same from the formatted address ("local@domain"). */
size_t address_key_str(const char *addr, char *buf, size_t cap);
size_t address_domain_key(const char *domain, char *buf, size_t cap);
/* Is key (not NUL-terminated) "d:DOMAIN" or "a:...@DOMAIN", the domain
 * after the last '@' compared case-insensitively and exactly? */
int address_key_in_domain(const void *key, size_t klen, const char *domain);

#endif
