/*
 * fuzz-address.c - the mailbox and domain parsers (address.c).
 * Invariants: what parses has no control byte, fits its limits, has a
 * lower-case ASCII domain, formats back into an address that parses to
 * the same mailbox, and yields cache keys that lie in its own domain.
 */
#include <stdint.h>
#include <string.h>

#include "address.h"
#include "record.h"
#include "fuzz.h"

/* ASCII without space or control; lower-case unless an address literal
 * ("[IPv6:...]" keeps its tag as written). */
static void
check_domain(const char *d)
{
	for (const char *p = d; *p != '\0'; p++) {
		CHECK((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
		CHECK(d[0] == '[' || !(*p >= 'A' && *p <= 'Z'));
	}
}

static void
check_mailbox(const struct mailbox *mb)
{
	char a[ADDR_BUF], key[ADDR_BUF + 8], key2[ADDR_BUF + 8];
	struct mailbox again;
	size_t klen;

	CHECK(fz_terminated(mb->local, sizeof(mb->local)));
	CHECK(fz_terminated(mb->domain, sizeof(mb->domain)));
	if (mb->null) {
		CHECK(mb->local[0] == '\0' && mb->domain[0] == '\0');
		return;
	}
	CHECK(mb->local[0] != '\0' && mb->domain[0] != '\0');
	for (const char *p = mb->local; *p != '\0'; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	check_domain(mb->domain);
	address_format(mb, a);
	CHECK(strlen(a) < ADDR_BUF);
	CHECK(address_needs_smtputf8(a) == !!mb->utf8);
	CHECK(address_parse(a, strlen(a), &again) == 0);
	CHECK(strcmp(again.local, mb->local) == 0);
	CHECK(strcmp(again.domain, mb->domain) == 0);
	CHECK(again.literal == mb->literal && again.utf8 == mb->utf8);
	/* The cache keys of the address and its domain, both paths. */
	for (int p = RP_MX; p <= RP_ROUTE; p++) {
		klen = record_key(RK_ADDRESS, p, a, key, sizeof(key));
		CHECK(klen > 0 && klen < sizeof(key));
		CHECK(record_key_in_domain(key, klen, mb->domain));
		klen = record_key(RK_DOMAIN, p, mb->domain, key2, sizeof(key2));
		CHECK(klen > 0 && record_key_in_domain(key2, klen, mb->domain));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailbox mb;
	char dom[ADDR_DOMAIN_MAX + 1], again[ADDR_DOMAIN_MAX + 1];

	if (address_parse((const char *)data, size, &mb) == 0)
		check_mailbox(&mb);
	if (address_parse_domain((const char *)data, size, dom) == 0) {
		CHECK(fz_terminated(dom, sizeof(dom)));
		check_domain(dom);
		CHECK(address_parse_domain(dom, strlen(dom), again) == 0);
		CHECK(strcmp(dom, again) == 0);
	}
	return 0;
}
