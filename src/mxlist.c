/*
 * mxlist.c - from an MX answer to the ordered list of hosts to try, and
 * the filter that decides which target addresses may be connected to
 * (doc/protocol.md 4a).
 *
 * Must not: resolve names, touch the network or draw its own random
 * numbers (rnd is passed in, so tests can drive it), or cut the input
 * before it is sorted: the preferred MX may come last (doc/protocol.md 4d).
 * The answer comes from a remote DNS server: every name is bounded here;
 * the count is bounded by the datagram it came in.
 */
#include <stdlib.h>
#include <string.h>

#include "mxlist.h"
#include "xmalloc.h"

#define HOST_MAX	253	/* RFC 1035 name, in text, without the dot */

static int
ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Labels of 1..63 letters, digits and hyphens, no hyphen at either end. */
static int
hostname_valid(const char *s, size_t len)
{
	size_t i, start = 0;

	if (len == 0 || len > HOST_MAX)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!ldh((unsigned char)s[i]))
				return 0;
			continue;
		}
		if (i == start || i - start > 63)
			return 0;
		if (s[start] == '-' || s[i - 1] == '-')
			return 0;
		start = i + 1;
	}
	return 1;
}

/*
 * Lower-case name into out (ADDR_DOMAIN_MAX + 1 bytes) without one
 * trailing dot.  Returns 0, or -1 when it is not a valid host name.
 */
static int
normalise(const char *name, char *out)
{
	size_t len = strnlen(name, HOST_MAX + 2);
	size_t i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len > HOST_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') :
		    (char)c;
	}
	out[len] = '\0';
	return hostname_valid(out, len) ? 0 : -1;
}

static int
null_mx(const char *name)
{
	return name[0] == '\0' || strcmp(name, ".") == 0;
}

/* Stable insertion sort by preference: duplicates keep the lowest. */
static void
sort_pref(struct mx_host *h, size_t n)
{
	struct mx_host tmp;
	size_t i, j;

	for (i = 1; i < n; i++) {
		if (h[i - 1].pref <= h[i].pref)
			continue;
		tmp = h[i];
		for (j = i; j > 0 && h[j - 1].pref > tmp.pref; j--)
			h[j] = h[j - 1];
		h[j] = tmp;
	}
}

/* Drop later entries whose name was already seen; returns the new count. */
static size_t
dedup(struct mx_host *h, size_t n)
{
	size_t i, j, m = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < m; j++)
			if (strcmp(h[j].name, h[i].name) == 0)
				break;
		if (j < m)
			continue;
		if (m != i)
			h[m] = h[i];
		m++;
	}
	return m;
}

/* Fisher-Yates on every run of equal preferences. */
static void
shuffle_runs(struct mx_host *h, size_t n, unsigned (*rnd)(void *), void *ctx)
{
	struct mx_host tmp;
	size_t start, end, i, j;

	for (start = 0; start < n; start = end) {
		for (end = start + 1; end < n && h[end].pref == h[start].pref;
		    end++)
			;
		for (i = end - start; i > 1; i--) {
			j = rnd(ctx) % i;
			if (j == i - 1)
				continue;
			tmp = h[start + i - 1];
			h[start + i - 1] = h[start + j];
			h[start + j] = tmp;
		}
	}
}

int
mxlist_build(const struct mx_in *in, size_t n, struct mx_host *out,
    size_t cap, unsigned (*rnd)(void *), void *ctx)
{
	struct mx_host *h;
	size_t i, m = 0, nnull = 0;

	if (n == 0)
		return 0;
	h = xcalloc(n, sizeof(*h));
	for (i = 0; i < n; i++) {
		if (in[i].name != NULL && null_mx(in[i].name)) {
			nnull++;
			continue;
		}
		if (in[i].name == NULL ||
		    normalise(in[i].name, h[m].name) == -1)
			continue;
		h[m].pref = in[i].pref;
		m++;
	}
	if (nnull == n) {
		free(h);
		return MXLIST_NULLMX;
	}
	sort_pref(h, m);
	m = dedup(h, m);
	if (rnd != NULL)
		shuffle_runs(h, m, rnd, ctx);
	if (m > cap)
		m = cap;
	if (m > 0)
		memcpy(out, h, m * sizeof(*h));
	free(h);
	return (int)m;
}

enum target_check
mx_target_check(const struct netaddr *a, const struct cidr *allow,
    size_t nallow, const struct netaddr *own, size_t nown)
{
	size_t i;

	if (nallow > 0 && cidr_list_match(allow, nallow, a))
		return TGT_OK;
	for (i = 0; i < nown; i++)
		if (netaddr_equal(&own[i], a))
			return TGT_OWN;
	if (netaddr_classify(a) != NC_PUBLIC)
		return TGT_BOGUS;
	return TGT_OK;
}
