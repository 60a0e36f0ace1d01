/*
 * cachedump.c - `savctl dump`: open the cache file read-only with
 * TDB_NOLOCK (as tdbdump does) and print every record as one line of
 * key=value fields.
 *
 * Must not: take a lock (the daemon's event loop would stall behind us),
 * write to the file, or trust it: keys are escaped, values go through the
 * strict record decoder, and the walk is bounded by the file size so that
 * a file changing under us cannot make it loop forever.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <tdb.h>

#include "cachedump.h"
#include "record.h"

/* Smallest on-disk record: TDB's record header plus two bytes of key. */
#define MIN_RECORD_BYTES 26

struct dump {
	FILE *out;
	const char *domain;
	long long now;
	unsigned long seen, limit;
};

/* Bare when safe for key=value splitting, else quoted with escapes. */
static void
put_value(FILE *out, const unsigned char *p, size_t n, int always_quote)
{
	size_t i;
	int bare = n > 0 && !always_quote;

	for (i = 0; i < n && bare; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '"' ||
		    p[i] == '\\')
			bare = 0;
	if (bare) {
		fwrite(p, 1, n, out);
		return;
	}
	fputc('"', out);
	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			fprintf(out, "\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			fprintf(out, "\\x%02x", p[i]);
		else
			fputc(p[i], out);
	}
	fputc('"', out);
}

static void
put_record(struct dump *d, const struct record *r)
{
	long long age = d->now - r->created;

	fprintf(d->out, " result=%s reason=%s code=%d age=%lld expires=",
	    verdict_result_name(r->result), verdict_reason_name(r->reason),
	    r->code, age < 0 ? 0 : age);
	if (r->expires > d->now)
		fprintf(d->out, "%lld", r->expires - d->now);
	else
		fputs("expired", d->out);
	fputs(" mx=", d->out);
	put_value(d->out, (const unsigned char *)r->mx, strlen(r->mx), 0);
	fputs(" text=", d->out);
	put_value(d->out, (const unsigned char *)r->text, strlen(r->text), 1);
}

static int
dump_cb(struct tdb_context *tdb, TDB_DATA key, TDB_DATA data, void *arg)
{
	struct dump *d = arg;
	struct record r;

	(void)tdb;
	if (++d->seen > d->limit)
		return -1;
	if (d->domain != NULL &&
	    !record_key_in_domain(key.dptr, key.dsize, d->domain))
		return 0;
	fputs("key=", d->out);
	put_value(d->out, key.dptr, key.dsize, 0);
	if (record_decode(data.dptr, data.dsize, &r) == 0)
		put_record(d, &r);
	else
		fprintf(d->out, " result=invalid len=%zu", data.dsize);
	fputc('\n', d->out);
	return ferror(d->out) ? -1 : 0;
}

int
cachedump_run(const char *path, const char *domain, FILE *out)
{
	struct tdb_context *tdb;
	struct dump d;

	memset(&d, 0, sizeof(d));
	errno = 0;
	tdb = tdb_open(path, 0, TDB_NOLOCK, O_RDONLY, 0);
	if (tdb == NULL) {
		fprintf(stderr, "savctl: %s: %s\n", path,
		    errno ? strerror(errno) : "not a TDB file");
		return -1;
	}
	d.out = out;
	d.domain = domain != NULL && *domain != '\0' ? domain : NULL;
	d.now = (long long)time(NULL);
	d.limit = tdb_map_size(tdb) / MIN_RECORD_BYTES + 1;
	/* A callback's -1 stops the walk but is not a -1 return. */
	if ((tdb_traverse_read(tdb, dump_cb, &d) < 0 || d.seen > d.limit) &&
	    !ferror(out)) {
		fprintf(stderr, "savctl: %s: %s\n", path,
		    d.seen > d.limit ? "traversal does not end" :
		    tdb_errorstr(tdb));
		tdb_close(tdb);
		return -1;
	}
	tdb_close(tdb);
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(stderr, "savctl: write error: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}
