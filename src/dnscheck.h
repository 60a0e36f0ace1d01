/*
 * dnscheck.h - checks on a raw DNS reply before any udns code sees it
 * (doc/protocol.md 4d): every name within RFC 1035's limits, and what the
 * answer section says about the name asked.  Pure: no I/O.
 */
#ifndef SAVD_DNSCHECK_H
#define SAVD_DNSCHECK_H

#include <stddef.h>

#define DNSCHECK_NAME_MAX   255     /* octets on the wire, root included */
#define DNSCHECK_CHAIN_MAX  16      /* CNAMEs followed in one answer */

/*
 * 0 when pkt[0..len) is a DNS message whose every name (question, owner
 * names, and the names inside the RDATA of the types that carry them) is
 * at most 255 octets with labels of at most 63, whose compression pointers
 * point only backwards (so no loops), and whose section counts match the
 * length exactly.  -1 otherwise, with a static reason in *why (may be
 * NULL).
 */
int dnscheck_packet(const unsigned char *pkt, size_t len, const char **why);

enum dnscheck_answer {
	DNSA_RECORDS,           /* records of the asked type for the name (or
	                           the end of its CNAME chain) */
	DNSA_NODATA,            /* only a CNAME chain, no records of the type */
	DNSA_LOOP,              /* the CNAME chain loops or is too long */
	DNSA_FOREIGN,           /* records about names that are not asked */
	DNSA_BAD,               /* not one question, or a bad packet */
};

/*
 * What the answer section of a reply that passed dnscheck_packet() says
 * about its question.  An empty answer section is DNSA_NODATA.
 */
enum dnscheck_answer dnscheck_answer(const unsigned char *pkt, size_t len);
const char *dnscheck_answer_name(enum dnscheck_answer a);

#endif
