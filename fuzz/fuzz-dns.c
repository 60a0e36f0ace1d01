/*
 * fuzz-dns.c - the DNS guard (dnscheck.c) with udns's stock parsers
 * behind it, as dns.c arranges them: a reply reaches dns_parse_mx,
 * dns_parse_a4 or dns_parse_a6 only when dnscheck_packet() passed it.
 * The asked name is the reply's own question, as when udns matched it to
 * our query.  Invariants: the checker and dnscheck_answer() return a
 * defined value; a passed packet never makes udns crash or overrun (only
 * what udns does through intercepted libc calls is seen by ASan: libudns
 * itself is not instrumented), and a parsed MX set has names within
 * limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <udns.h>

#include "dnscheck.h"
#include "fuzz.h"

static void
parse_as_udns(const unsigned char *pkt, size_t len)
{
	dnsc_t dn[DNS_MAXDN];
	dnscc_t *cur = pkt + DNS_HSIZE, *end = pkt + len;
	void *res = NULL;
	int typ, r;

	/* what dns_ioevent() checks before it calls the query's parser */
	if (len < DNS_HSIZE || dns_numqd(pkt) != 1)
		return;
	if (dns_getdn(pkt, &cur, end, dn, sizeof(dn)) <= 0 || end - cur < 4)
		return;
	if (dns_get16(cur + 2) != DNS_C_IN)
		return;
	typ = dns_get16(cur);
	if (typ == DNS_T_MX) {
		r = dns_parse_mx(dn, pkt, cur, end, &res);
		if (r >= 0 && res != NULL) {
			struct dns_rr_mx *mx = res;

			CHECK(mx->dnsmx_nrr >= 0);
			for (int i = 0; i < mx->dnsmx_nrr; i++)
				CHECK(strlen(mx->dnsmx_mx[i].name) <= DNS_MAXNAME);
		}
	} else if (typ == DNS_T_A) {
		r = dns_parse_a4(dn, pkt, cur, end, &res);
	} else if (typ == DNS_T_AAAA) {
		r = dns_parse_a6(dn, pkt, cur, end, &res);
	} else {
		return;
	}
	CHECK(r >= 0 ? res != NULL : 1);
	free(res);              /* one allocation (DESIGN.md section 4) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	enum dnscheck_answer a;

	if (dnscheck_packet(data, size, &why) != 0) {
		CHECK(why == NULL || why[0] != '\0');
		return 0;
	}
	a = dnscheck_answer(data, size);
	CHECK(a >= DNSA_RECORDS && a <= DNSA_BAD);
	CHECK(dnscheck_answer_name(a) != NULL);
	parse_as_udns(data, size);
	return 0;
}
