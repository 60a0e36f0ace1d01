/*
 * unit-cache.c - the TDB cache (src/cache.c) and its listing
 * (src/cachedump.c) against real files in a mkdtemp directory: roundtrip,
 * expiry, replacement policy, flushes, move-aside of bad files, garbage
 * records, persistence, memory only, incremental expiry, a full disk.
 */
#include <sys/types.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tdb.h>

#include "tap.h"
#include "cache.h"
#include "cachedump.h"
#include "log.h"

#define NOW 1700000000LL
#define HASH 1009

static char dir[256];
static char path[512];

static void
mkrec(struct record *r, enum sav_result res, enum sav_reason reason,
    int code, long long created, long long ttl)
{
	memset(r, 0, sizeof(*r));
	r->result = res;
	r->reason = reason;
	r->code = code;
	r->created = created;
	r->expires = created + ttl;
	snprintf(r->mx, sizeof(r->mx), "mx1.example.com[192.0.2.1]");
	snprintf(r->text, sizeof(r->text), "2.1.5 \"ok\" \\ fine");
}

static int
put(struct cache *c, const char *key, enum sav_result res,
    enum sav_reason reason, long long ttl, long long now)
{
	struct record r;

	mkrec(&r, res, reason, res == RES_OK ? 250 : 550, now, ttl);
	return cache_put(c, key, strlen(key), &r, now);
}

static int
get(struct cache *c, const char *key, struct record *r, long long now)
{
	struct record tmp;

	return cache_get(c, key, strlen(key), r ? r : &tmp, now);
}

/* How many "cache.tdb.corrupt.*" files are in dir. */
static int
count_aside(void)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "cache.tdb.corrupt.", 18) == 0)
			n++;
	closedir(d);
	return n;
}

static void
remove_all(void)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	char p[1024];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
}

static void
write_file(const char *data, size_t n)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		return;
	fwrite(data, 1, n, fp);
	fclose(fp);
}

static void
test_roundtrip(void)
{
	struct cache *c = cache_open(path, HASH);
	struct record r;

	ok(!cache_stats(c)->memory_only, "file cache is not memory only");
	is_int(put(c, "a:bob@example.com", RES_OK, R_ACCEPTED, 100, NOW), 1,
	    "put stores");
	is_int(get(c, "a:bob@example.com", &r, NOW + 1), 1, "get hits");
	is_int(r.result, RES_OK, "result roundtrip");
	is_int(r.reason, R_ACCEPTED, "reason roundtrip");
	is_int(r.code, 250, "code roundtrip");
	is_int(r.created, NOW, "created roundtrip");
	is_int(r.expires, NOW + 100, "expires roundtrip");
	is_str(r.mx, "mx1.example.com[192.0.2.1]", "mx roundtrip");
	is_str(r.text, "2.1.5 \"ok\" \\ fine", "text roundtrip");
	is_int(get(c, "a:alice@example.com", NULL, NOW), 0, "absent key misses");
	is_int(get(c, "a:BOB@example.com", NULL, NOW), 0,
	    "local part case matters");
	is_int(get(c, "a:bob@example.com", NULL, NOW + 99), 1,
	    "fresh one second before expiry");
	is_int(get(c, "a:bob@example.com", NULL, NOW + 100), 0,
	    "expired at expires");
	is_int(cache_stats(c)->entries, 1, "one entry");
	is_int(cache_stats(c)->stores, 1, "one store");

	/* Replacement policy. */
	is_int(put(c, "a:bob@example.com", RES_FAIL, R_REJECTED, 50, NOW + 10),
	    0, "fail refused over fresh ok");
	is_int(put(c, "a:bob@example.com", RES_DEFER, R_TEMPFAIL, 50,
	    NOW + 10), 0, "defer refused over fresh ok");
	get(c, "a:bob@example.com", &r, NOW + 11);
	is_int(r.result, RES_OK, "fresh ok kept");
	is_int(put(c, "a:bob@example.com", RES_FAIL, R_REJECTED, 50, NOW + 100),
	    1, "fail replaces expired ok");
	get(c, "a:bob@example.com", &r, NOW + 101);
	is_int(r.result, RES_FAIL, "fail now stored");
	is_int(put(c, "a:bob@example.com", RES_OK, R_ACCEPTED, 50, NOW + 102),
	    1, "ok replaces fresh fail");
	is_int(cache_stats(c)->entries, 1, "still one entry");
	is_int(cache_put(c, "", 0, &r, NOW), -1, "empty key refused");
	r.code = 999;
	is_int(cache_put(c, "a:x@y", 5, &r, NOW), -1, "invalid record refused");
	ok(cache_stats(c)->writable, "writable");
	cache_close(c);
}

static void
test_persistence(void)
{
	struct cache *c = cache_open(path, HASH);
	struct record r;

	is_int(get(c, "a:bob@example.com", &r, NOW + 103), 1,
	    "record survives close and open");
	is_int(r.result, RES_OK, "persisted result");
	is_int(cache_stats(c)->entries, 1, "entries counted at open");
	is_int(count_aside(), 0, "good file not moved aside");
	cache_close(c);
}

static const char *const flush_keys[] = {
	"a:x@example.com", "a:y@example.com", "d:example.com",
	"a:\"p@q\"@example.com", "a:z@sub.example.com", "d:sub.example.com",
	"a:w@other.com", "a:v@notexample.com", "d:other.com",
};
#define NFLUSH (sizeof(flush_keys) / sizeof(flush_keys[0]))

static void
test_flush(struct cache *c, const char *what)
{
	size_t i;

	for (i = 0; i < NFLUSH; i++)
		put(c, flush_keys[i], RES_OK, R_ACCEPTED, 1000, NOW);
	is_int(cache_flush_domain(c, "EXAMPLE.com"), 4,
	    "%s: domain flush removes domain and its addresses", what);
	is_int(get(c, "d:example.com", NULL, NOW), 0,
	    "%s: domain record gone", what);
	is_int(get(c, "a:\"p@q\"@example.com", NULL, NOW), 0,
	    "%s: quoted local part with @ gone", what);
	is_int(get(c, "a:z@sub.example.com", NULL, NOW), 1,
	    "%s: subdomain address kept", what);
	is_int(get(c, "d:sub.example.com", NULL, NOW), 1,
	    "%s: subdomain record kept", what);
	is_int(get(c, "a:v@notexample.com", NULL, NOW), 1,
	    "%s: suffix-alike domain kept", what);
	is_int(cache_flush_domain(c, "example.com"), 0,
	    "%s: second domain flush finds nothing", what);
	is_int(cache_flush_key(c, "a:w@other.com", 13), 1,
	    "%s: key flush removes one", what);
	is_int(cache_flush_key(c, "a:w@other.com", 13), 0,
	    "%s: key flush of absent key", what);
	is_int(cache_flush_all(c), 4, "%s: flush all counts the rest", what);
	is_int(get(c, "d:other.com", NULL, NOW), 0, "%s: all gone", what);
	is_int(cache_stats(c)->entries, 0, "%s: no entries", what);
	is_int(put(c, "a:x@example.com", RES_OK, R_ACCEPTED, 10, NOW), 1,
	    "%s: store after flush all", what);
	is_int(get(c, "a:x@example.com", NULL, NOW), 1,
	    "%s: get after flush all", what);
	cache_commit(c);
}

static void
test_flush_file(void)
{
	struct cache *c;

	remove_all();
	c = cache_open(path, HASH);
	test_flush(c, "file");
	cache_close(c);
	c = cache_open(path, HASH);
	is_int(cache_stats(c)->entries, 1, "flushes persisted");
	cache_close(c);
}

static void
test_memory(void)
{
	struct cache *c = cache_open("", 0);

	ok(cache_stats(c)->memory_only, "empty path is memory only");
	test_flush(c, "memory");
	cache_close(c);
	cache_close(NULL);
}

/* Opening a bad file moves it aside and gives a working, empty cache. */
static void
check_recovered(const char *what, int aside)
{
	struct cache *c = cache_open(path, HASH);

	is_int(count_aside(), aside, "%s: moved aside", what);
	ok(!cache_stats(c)->memory_only, "%s: fresh file in use", what);
	is_int(cache_stats(c)->entries, 0, "%s: empty", what);
	is_int(put(c, "a:n@example.com", RES_OK, R_ACCEPTED, 10, NOW), 1,
	    "%s: store works", what);
	is_int(get(c, "a:n@example.com", NULL, NOW), 1, "%s: get works", what);
	cache_close(c);
	c = cache_open(path, HASH);
	is_int(get(c, "a:n@example.com", NULL, NOW), 1,
	    "%s: fresh file persists", what);
	cache_close(c);
}

/* A real TDB file with n records, cut to len bytes (or to size - cut). */
static void
make_truncated(long len, long cut)
{
	struct cache *c;
	struct stat sb;
	char key[64];
	int i;

	remove_all();
	c = cache_open(path, HASH);
	for (i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "a:u%d@example.com", i);
		put(c, key, RES_OK, R_ACCEPTED, 1000, NOW);
	}
	cache_close(c);
	ok(stat(path, &sb) == 0 &&
	    truncate(path, len >= 0 ? len : (long)sb.st_size - cut) == 0,
	    "made a truncated file");
}

static void
test_bad_files(void)
{
	static const char garbage[] = "this is not a TDB file\n\0\1\2";
	char hdr[8192];

	remove_all();
	write_file(garbage, sizeof(garbage));
	check_recovered("garbage", 1);

	remove_all();
	write_file("", 0);
	check_recovered("zero length", 0);

	make_truncated(-1, 3000);
	check_recovered("truncated data", 1);

	make_truncated(100, 0);
	check_recovered("truncated header", 1);

	make_truncated(1000, 0);
	check_recovered("truncated hash table", 1);

	remove_all();
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, "TDB file\n", 10);
	memset(hdr + 32, 0x5a, 16);
	write_file(hdr, sizeof(hdr));
	check_recovered("unknown TDB version", 1);

	remove_all();
	write_file("TDB", 3);
	check_recovered("short magic", 1);
}

static void
test_dir_path(void)
{
	struct cache *c;

	remove_all();
	mkdir(path, 0700);
	c = cache_open(path, HASH);
	ok(cache_stats(c)->memory_only, "directory path: memory only");
	is_int(put(c, "a:x@y", RES_OK, R_ACCEPTED, 10, NOW), 1,
	    "directory path: cache still works");
	cache_close(c);
	rmdir(path);
}

static void
raw_store(const char *key, const char *val, size_t vlen)
{
	struct tdb_context *t = tdb_open(path, 0, 0, O_RDWR, 0600);
	TDB_DATA k = { (unsigned char *)key, strlen(key) };
	TDB_DATA v = { (unsigned char *)val, vlen };

	ok(t != NULL && tdb_store(t, k, v, TDB_REPLACE) == 0,
	    "raw store of %s", key);
	if (t != NULL)
		tdb_close(t);
}

static int
raw_exists(const char *key)
{
	struct tdb_context *t = tdb_open(path, 0, 0, O_RDONLY, 0);
	TDB_DATA k = { (unsigned char *)key, strlen(key) };
	int rc;

	if (t == NULL)
		return -1;
	rc = tdb_exists(t, k);
	tdb_close(t);
	return rc;
}

static void
test_garbage_record(void)
{
	struct cache *c;

	remove_all();
	c = cache_open(path, HASH);
	put(c, "a:good@example.com", RES_OK, R_ACCEPTED, 1000, NOW);
	cache_close(c);
	raw_store("a:bad@example.com", "\1garbage", 8);
	raw_store("a:empty@example.com", "", 0);
	is_int(raw_exists("a:bad@example.com"), 1, "garbage record present");
	c = cache_open(path, HASH);
	is_int(count_aside(), 0, "garbage record is not file corruption");
	is_int(get(c, "a:bad@example.com", NULL, NOW), 0, "garbage is a miss");
	is_int(get(c, "a:empty@example.com", NULL, NOW), 0,
	    "empty value is a miss");
	is_int(get(c, "a:good@example.com", NULL, NOW), 1, "good record hits");
	cache_close(c);
	is_int(raw_exists("a:bad@example.com"), 0, "garbage record deleted");
	is_int(raw_exists("a:empty@example.com"), 0, "empty record deleted");
}

static void
test_expire_step(void)
{
	struct cache *c;
	char key[64];
	unsigned long removed = 0, maxstep = 0;
	int i, calls = 0, fresh = 0;

	remove_all();
	c = cache_open(path, HASH);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "a:e%d@example.com", i);
		put(c, key, RES_OK, R_ACCEPTED, i % 2 ? 10 : 100000, NOW);
	}
	cache_commit(c);
	is_int(cache_expire_step(c, NOW + 20, 0), 0, "budget 0 does nothing");
	while (removed < 500 && calls < 2000) {
		unsigned long n = cache_expire_step(c, NOW + 20, 7);

		if (n > maxstep)
			maxstep = n;
		removed += n;
		if (++calls % 10 == 0)
			cache_commit(c);
	}
	is_int(removed, 500, "expiry removed every expired record");
	ok(maxstep <= 7, "no step went over its budget");
	ok(calls >= 500 / 7 && calls < 300, "walked in small steps (%d)",
	    calls);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "a:e%d@example.com", i);
		fresh += get(c, key, NULL, NOW + 20);
	}
	is_int(fresh, 500, "fresh records kept");
	is_int(cache_stats(c)->expired, 500, "expired counted");
	is_int(cache_stats(c)->entries, 500, "entries follow");
	cache_close(c);
	c = cache_open(path, HASH);
	is_int(cache_stats(c)->entries, 500, "expiry persisted");
	for (i = 0; i < 50; i++)
		removed += cache_expire_step(c, NOW + 200000, 100);
	is_int(cache_stats(c)->entries, 0, "everything expires eventually");
	cache_close(c);
}

static void
test_batch(void)
{
	struct cache *c;
	char key[64];
	int i;

	remove_all();
	c = cache_open(path, HASH);
	for (i = 0; i < 600; i++) {
		snprintf(key, sizeof(key), "a:b%d@example.com", i);
		put(c, key, RES_OK, R_ACCEPTED, 1000, NOW);
	}
	/* Close without commit: cache_close commits.  A raw look shows the
	 * data landed. */
	cache_close(c);
	is_int(raw_exists("a:b599@example.com"), 1, "close commits the batch");
	is_int(raw_exists("a:b0@example.com"), 1, "early batch committed");
}

/* Read a whole stream back. */
static char *
slurp(FILE *fp)
{
	static char buf[8192];
	size_t n;

	rewind(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	return buf;
}

static void
test_dump(void)
{
	struct cache *c;
	FILE *fp;
	static const char tail[] = " mx=mx1.example.com[192.0.2.1] "
	    "text=\"2.1.5 \\\"ok\\\" \\\\ fine\"";
	char *s, *line, *end;
	long long now = (long long)time(NULL), age = -1, left = -1;

	remove_all();
	c = cache_open(path, HASH);
	put(c, "a:bob@example.com", RES_OK, R_ACCEPTED, 3600, now - 5);
	put(c, "a:old@example.com", RES_FAIL, R_REJECTED, 1, now - 100);
	put(c, "d:other.com", RES_UNKNOWN, R_CATCHALL, 3600, now);
	put(c, "a:sp ace@other.com", RES_OK, R_ACCEPTED, 3600, now);
	cache_close(c);
	raw_store("a:bad@example.com", "junk", 4);
	fp = tmpfile();
	is_int(cachedump_run(path, NULL, fp), 0, "dump succeeds");
	s = slurp(fp);
	line = strstr(s, "key=a:bob@example.com result=ok reason=accepted "
	    "code=250 age=");
	ok(line != NULL, "dump line fields");
	ok(line && sscanf(line, "%*s %*s %*s %*s age=%lld expires=%lld",
	    &age, &left) == 2 && age >= 5 && age <= 6 && left >= 3594 &&
	    left <= 3595, "dump age and expires");
	end = line ? strchr(line, '\n') : NULL;
	ok(end && (size_t)(end - line) > strlen(tail) &&
	    strncmp(end - strlen(tail), tail, strlen(tail)) == 0,
	    "dump mx and escaped text end the line");
	ok(strstr(s, "key=a:old@example.com result=fail reason=rejected "
	    "code=550 age=10") != NULL && strstr(s, " expires=expired mx=") !=
	    NULL, "expired line");
	ok(strstr(s, "key=\"a:sp ace@other.com\" result=ok") != NULL,
	    "key with space quoted");
	ok(strstr(s, "key=a:bad@example.com result=invalid len=4\n") != NULL,
	    "undecodable record listed");
	ok(strstr(s, "key=d:other.com result=unknown reason=catchall") != NULL,
	    "domain record listed");
	fclose(fp);
	fp = tmpfile();
	is_int(cachedump_run(path, "Example.COM", fp), 0, "domain dump");
	s = slurp(fp);
	ok(strstr(s, "a:bob@example.com") && strstr(s, "a:bad@example.com") &&
	    !strstr(s, "other.com"), "domain filter");
	fclose(fp);
	fp = tmpfile();
	is_int(cachedump_run("/nonexistent/cache.tdb", NULL, fp), -1,
	    "missing file is an error");
	fclose(fp);
}

/* Fill the file system holding name until a write fails. */
static void
fill_disk(const char *name)
{
	static const char block[4096];
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return;
	while (write(fd, block, sizeof(block)) > 0)
		;
	close(fd);
}

/*
 * Issue 9 item 4: on a full disk the cache must stay reported read-only.
 * The expiry step opens a batch even when nothing expires; committing that
 * empty batch succeeds, and used to mark the cache writable again within a
 * second of the failing writes.  Needs root for a tiny tmpfs (1 MiB: the
 * first commit alone grows a TDB file to about 400 KiB).
 */
static void
test_full_disk(void)
{
	char mnt[512], file[600], filler[600], key[64];
	struct cache *c;
	int i;

	if (geteuid() != 0) {
		ok(1, "# SKIP full disk: needs root to mount a tmpfs");
		return;
	}
	snprintf(mnt, sizeof(mnt), "%s/full", dir);
	snprintf(file, sizeof(file), "%s/cache.tdb", mnt);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	if (mkdir(mnt, 0700) != 0 ||
	    mount("tmpfs", mnt, "tmpfs", 0, "size=1m,mode=0700") != 0) {
		ok(1, "# SKIP full disk: cannot mount a tmpfs: %s",
		    strerror(errno));
		rmdir(mnt);
		return;
	}
	c = cache_open(file, 131);
	ok(c != NULL && !cache_stats(c)->memory_only, "full disk: cache open");
	if (c == NULL)
		goto out;
	is_int(put(c, "a:first@example.com", RES_OK, R_ACCEPTED, 86400, NOW), 1,
	    "full disk: a store before the disk fills");
	cache_commit(c);
	is_int(cache_stats(c)->writable, 1, "full disk: writable while room");
	fill_disk(filler);
	for (i = 0; i < 5000 && cache_stats(c)->writable; i++) {
		snprintf(key, sizeof(key), "a:user%d@example.com", i);
		put(c, key, RES_OK, R_ACCEPTED, 86400, NOW);
		if (i % 20 == 19)
			cache_commit(c);
	}
	is_int(cache_stats(c)->writable, 0, "full disk: failing writes make "
	    "the cache read-only");
	cache_expire_step(c, NOW + 1, 100);     /* nothing is due */
	cache_commit(c);
	is_int(cache_stats(c)->writable, 0, "full disk: an expiry step with "
	    "nothing to expire leaves it read-only");
	cache_expire_step(c, NOW + 2, 100);
	cache_commit(c);
	is_int(cache_stats(c)->writable, 0, "full disk: and so does the next");
	unlink(filler);
	is_int(put(c, "a:again@example.com", RES_OK, R_ACCEPTED, 86400, NOW),
	    1, "full disk: a store once there is room again");
	cache_commit(c);
	is_int(cache_stats(c)->writable, 1, "full disk: a commit that wrote "
	    "makes it writable again");
	cache_close(c);
out:
	unlink(filler);
	unlink(file);
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
}

int
main(void)
{
	plan_no_plan();
	log_open("unit-cache", 1, 0);
	snprintf(dir, sizeof(dir), "%s/savd-cache-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/cache.tdb", dir);
	test_roundtrip();
	test_persistence();
	test_flush_file();
	test_memory();
	test_bad_files();
	test_dir_path();
	test_garbage_record();
	test_expire_step();
	test_batch();
	test_dump();
	test_full_disk();
	remove_all();
	rmdir(dir);
	return done_testing();
}
