/*
 * cache.c - the result cache in a TDB file (doc/cache-format.md): open
 * with a start-up check and move-aside of a bad file, fetch, store under
 * the replacement policy, flush, incremental expiry.
 *
 * Writes are grouped in batch transactions: the first write opens one, the
 * owner commits it every ~100 ms (cache_commit) and a batch of
 * CACHE_BATCH_MAX writes commits itself.  A transaction's recovery area
 * makes a kill -9 at any moment harmless: the next tdb_open rolls back.
 * The file is opened with TDB_NOSYNC: it only drops the fsync()s of a
 * commit, which matter for a power or kernel crash, not for a killed
 * process (the page cache keeps every write); with syncs a commit stalled
 * the event loop for milliseconds (bench/README.md has the figures).  An
 * OS crash can therefore corrupt the file; tdb_check at the next start-up
 * catches that and the file is moved aside.
 *
 * Must not: block the loop on another process's lock (non-blocking
 * transaction start), trust a stored byte (record_decode is strict), use
 * TDB_CLEAR_IF_FIRST, or ever fail to give the caller a usable cache.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <tdb.h>

#include "cache.h"
#include "log.h"
#include "xmalloc.h"

#define CACHE_BATCH_MAX		256	/* writes before a batch commits itself */
#define CACHE_KEY_MAX		2048	/* longer keys are refused */
#define CACHE_LOG_WINDOW	60	/* seconds */
#define CACHE_LOG_BURST		10	/* TDB messages per window */
#define TDB_MAGIC		"TDB file\n"	/* TDB_MAGIC_FOOD, with its NUL */

struct cache {
	struct tdb_context *tdb;        /* NULL only if even memory failed */
	char *path;                     /* NULL when memory only */
	unsigned batch;                 /* writes in the open transaction */
	TDB_DATA cursor;                /* expiry: next key to examine */
	time_t log_window;
	unsigned log_count;
	unsigned long log_dropped;
	struct cache_stats st;
};

/* Rate-limited: a failing disk must not flood syslog. */
static int
log_allowed(struct cache *c)
{
	time_t now = time(NULL);

	if (now - c->log_window >= CACHE_LOG_WINDOW) {
		if (c->log_dropped > 0)
			log_warn("cache: %lu messages suppressed",
			    c->log_dropped);
		c->log_window = now;
		c->log_count = 0;
		c->log_dropped = 0;
	}
	if (c->log_count >= CACHE_LOG_BURST) {
		c->log_dropped++;
		return 0;
	}
	c->log_count++;
	return 1;
}

__attribute__((format(printf, 3, 4)))
static void
tdb_logger(struct tdb_context *tdb, enum tdb_debug_level level,
    const char *fmt, ...)
{
	struct cache *c = tdb_get_logging_private(tdb);
	char msg[512];
	size_t n;
	va_list ap;

	if (level > TDB_DEBUG_WARNING || c == NULL || !log_allowed(c))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("cache: tdb: %s", msg);
}

/* Count a TDB error and log it (rate-limited). */
static void
cache_error(struct cache *c, const char *what)
{
	c->st.errors++;
	if (log_allowed(c))
		log_err("cache: %s: %s", what,
		    c->tdb ? tdb_errorstr(c->tdb) : "no database");
}

/* A write or commit failed: drop the batch, report the cache read-only. */
static void
write_failed(struct cache *c, const char *what)
{
	cache_error(c, what);
	c->st.writable = 0;
	if (c->tdb != NULL && !c->st.memory_only &&
	    tdb_transaction_active(c->tdb))
		tdb_transaction_cancel(c->tdb);
	c->batch = 0;
}

static struct tdb_context *
open_tdb(struct cache *c, const char *name, unsigned hash_size, int flags,
    int oflags)
{
	struct tdb_logging_context lc = { tdb_logger, c };

	return tdb_open_ex(name, (int)hash_size, flags, oflags, 0600, &lc,
	    NULL);
}

static void
open_memory(struct cache *c, unsigned hash_size)
{
	c->st.memory_only = 1;
	c->tdb = open_tdb(c, "savd-cache", hash_size, TDB_INTERNAL |
	    TDB_INCOMPATIBLE_HASH, O_RDWR | O_CREAT);
	if (c->tdb == NULL) {
		c->st.writable = 0;
		cache_error(c, "memory cache");
	}
}

/*
 * TDB's on-disk header (tdb_private.h, unchanged since TDB 1.2): the
 * version word at 32 and the recovery area offset at 44, in the file's
 * byte order; the whole header is 168 bytes.  A recovery record starts
 * with next and rec_len words.
 */
#define TDB_HDR_LEN		168
#define TDB_HDR_VERSION		32
#define TDB_HDR_RECOVERY	44
#define TDB_FILE_VERSION	(0x26011967 + 6)
#define TDB_REC_HDR_LEN		24

static unsigned
word(const unsigned char *p, int swap)
{
	unsigned v;

	memcpy(&v, p, sizeof(v));
	return swap ? __builtin_bswap32(v) : v;
}

/*
 * tdb_check does not look at whether the recovery area fits in the file,
 * and a later commit that reuses a cut-off recovery area wrecks the file.
 * Returns 1 when a recovery area runs past the end of the file.
 */
static int
recovery_cut(int fd, const unsigned char *hdr, off_t size)
{
	unsigned char rec[TDB_REC_HDR_LEN];
	unsigned long long start, len;
	int swap;

	if (word(hdr + TDB_HDR_VERSION, 0) == TDB_FILE_VERSION)
		swap = 0;
	else if (word(hdr + TDB_HDR_VERSION, 1) == TDB_FILE_VERSION)
		swap = 1;
	else
		return 0;	/* tdb_open will judge it */
	if ((start = word(hdr + TDB_HDR_RECOVERY, swap)) == 0)
		return 0;
	if (start + TDB_REC_HDR_LEN > (unsigned long long)size ||
	    pread(fd, rec, sizeof(rec), (off_t)start) != (ssize_t)sizeof(rec))
		return 1;
	len = word(rec + 4, swap);
	return start + TDB_REC_HDR_LEN + len > (unsigned long long)size;
}

/*
 * Look at the file before TDB does: TDB would quietly overwrite a file
 * that lacks its magic or a full header.  Returns 0 absent, empty or
 * plausible TDB; 1 not a TDB file; 2 cut short; -1 unusable (not a
 * regular file, unreadable).
 */
static int
precheck(const char *path)
{
	unsigned char hdr[TDB_HDR_LEN];
	struct stat sb;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	if (sb.st_size == 0) {
		close(fd);
		log_info("cache: %s is empty, initialising it", path);
		return 0;
	}
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, TDB_MAGIC, sizeof(TDB_MAGIC)) != 0)
		rc = 1;
	else if (recovery_cut(fd, hdr, sb.st_size))
		rc = 2;
	close(fd);
	return rc;
}

/* Rename path to path.corrupt.UNIXTIME[.N]; 0 on success. */
static int
move_aside(const char *path, const char *why)
{
	char aside[4096];
	struct stat sb;
	long long t = (long long)time(NULL);
	int i;

	for (i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(aside, sizeof(aside), "%s.corrupt.%lld", path, t);
		else
			snprintf(aside, sizeof(aside), "%s.corrupt.%lld.%d",
			    path, t, i);
		if (lstat(aside, &sb) == -1 && errno == ENOENT)
			break;
	}
	if (i == 100 || rename(path, aside) == -1) {
		log_err("cache: %s: %s; cannot move it aside: %s", path, why,
		    strerror(errno));
		return -1;
	}
	log_err("cache: %s: %s; moved aside to %s, starting empty", path, why,
	    aside);
	return 0;
}

static int
count_record(TDB_DATA key, TDB_DATA data, void *arg)
{
	(void)key;
	(void)data;
	(*(unsigned long long *)arg)++;
	return 0;
}

/* Open path read-write, creating it; NULL with errno on failure. */
/* bench/cache-crash.sh builds with -DCACHE_SYNC_COMMITS to compare. */
#ifdef CACHE_SYNC_COMMITS
#define CACHE_TDB_FLAGS	(TDB_DEFAULT | TDB_INCOMPATIBLE_HASH)
#else
#define CACHE_TDB_FLAGS	(TDB_DEFAULT | TDB_NOSYNC | TDB_INCOMPATIBLE_HASH)
#endif

static struct tdb_context *
open_file_tdb(struct cache *c, unsigned hash_size)
{
	return open_tdb(c, c->path, hash_size, CACHE_TDB_FLAGS,
	    O_RDWR | O_CREAT);
}

/* Did tdb_open fail on the file's contents rather than on our rights? */
static int
format_error(int err)
{
	switch (err) {
	case EACCES: case EPERM: case ENOENT: case ENOTDIR: case EISDIR:
	case EROFS: case ENOSPC: case EMFILE: case ENFILE: case ENOMEM:
	case ELOOP: case ENAMETOOLONG: case EDQUOT:
		return 0;
	default:
		return 1;
	}
}

/* Open, check, move aside and recreate as needed.  0 on success. */
static int
open_file(struct cache *c, unsigned hash_size)
{
	unsigned long long n = 0;
	int pc;

	errno = 0;
	if ((pc = precheck(c->path)) == -1) {
		log_err("cache: %s: cannot use: %s", c->path,
		    errno ? strerror(errno) : "not a regular file");
		return -1;
	}
	if (pc == 1 && move_aside(c->path, "not a TDB file") == -1)
		return -1;
	if (pc == 2 && move_aside(c->path, "truncated (recovery area cut "
	    "off)") == -1)
		return -1;
	if ((c->tdb = open_file_tdb(c, hash_size)) == NULL) {
		int err = errno;

		if (!format_error(err)) {
			log_err("cache: %s: %s", c->path, strerror(err));
			return -1;
		}
		if (move_aside(c->path, "cannot be opened as TDB") == -1 ||
		    (c->tdb = open_file_tdb(c, hash_size)) == NULL)
			return -1;
	}
	if (tdb_check(c->tdb, count_record, &n) == -1) {
		tdb_close(c->tdb);
		c->tdb = NULL;
		n = 0;
		if (move_aside(c->path, "failed tdb_check") == -1 ||
		    (c->tdb = open_file_tdb(c, hash_size)) == NULL)
			return -1;
	}
	c->st.entries = n;
	if ((unsigned)tdb_hash_size(c->tdb) != hash_size)
		log_info("cache: %s keeps its hash size %d (configured %u "
		    "applies to a new file)", c->path, tdb_hash_size(c->tdb),
		    hash_size);
	log_info("cache: %s open, %llu records", c->path, n);
	return 0;
}

struct cache *
cache_open(const char *path, unsigned hash_size)
{
	struct cache *c = xcalloc(1, sizeof(*c));

	c->st.writable = 1;
	if (hash_size == 0)
		hash_size = 1000003;	/* see bench/README.md */
	if (path == NULL || *path == '\0') {
		open_memory(c, hash_size);
		return c;
	}
	c->path = xstrdup(path);
	if (open_file(c, hash_size) == 0)
		return c;
	log_err("cache: %s unusable, keeping the cache in memory only", path);
	if (c->tdb != NULL)
		tdb_close(c->tdb);
	c->tdb = NULL;
	open_memory(c, hash_size);
	return c;
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	cache_commit(c);
	if (c->tdb != NULL && tdb_close(c->tdb) != 0)
		log_err("cache: close failed");
	free(c->cursor.dptr);
	free(c->path);
	free(c);
}

/* Make sure a batch transaction is open.  0 ready, -1 error. */
static int
begin(struct cache *c)
{
	if (c->tdb == NULL)
		return -1;
	/* TDB has no transactions on an internal database. */
	if (c->st.memory_only || tdb_transaction_active(c->tdb))
		return 0;
	if (tdb_transaction_start_nonblock(c->tdb) != 0) {
		write_failed(c, "transaction start");
		return -1;
	}
	c->batch = 0;
	return 0;
}

/* Count n writes in the batch; a full batch commits itself. */
static void
wrote(struct cache *c, unsigned n)
{
	c->batch += n;
	if (c->batch >= CACHE_BATCH_MAX)
		cache_commit(c);
}

void
cache_commit(struct cache *c)
{
	if (c == NULL || c->tdb == NULL || c->st.memory_only ||
	    !tdb_transaction_active(c->tdb))
		return;
	if (tdb_transaction_commit(c->tdb) != 0) {
		write_failed(c, "transaction commit");
		return;
	}
	/* Only a commit that wrote proves the file writable: the expiry
	 * step's empty batch commits fine on a full disk. */
	if (c->batch > 0)
		c->st.writable = 1;
	c->batch = 0;
}

static int
key_ok(const char *key, size_t klen)
{
	return key != NULL && klen > 0 && klen <= CACHE_KEY_MAX;
}

/* Delete one key inside the batch: 1 removed, 0 absent, -1 error. */
static int
delete_key(struct cache *c, TDB_DATA k)
{
	if (begin(c) == -1)
		return -1;
	if (tdb_delete(c->tdb, k) != 0) {
		if (tdb_error(c->tdb) == TDB_ERR_NOEXIST)
			return 0;
		write_failed(c, "delete");
		return -1;
	}
	if (c->st.entries > 0)
		c->st.entries--;
	wrote(c, 1);
	return 1;
}

/* Fetch and decode key: 1 decoded, 0 absent, -1 present but undecodable. */
static int
fetch(struct cache *c, TDB_DATA k, struct record *r)
{
	TDB_DATA v;
	int rc;

	v = tdb_fetch(c->tdb, k);
	if (v.dptr == NULL) {
		if (tdb_error(c->tdb) != TDB_ERR_NOEXIST)
			cache_error(c, "fetch");
		return 0;
	}
	rc = record_decode(v.dptr, v.dsize, r);
	free(v.dptr);
	return rc == 0 ? 1 : -1;
}

int
cache_get(struct cache *c, const char *key, size_t klen, struct record *r,
    long long now)
{
	TDB_DATA k = { (unsigned char *)key, klen };
	struct record tmp;
	int rc;

	if (c == NULL || c->tdb == NULL || !key_ok(key, klen))
		return 0;
	if ((rc = fetch(c, k, &tmp)) == -1) {
		if (log_allowed(c))
			log_warn("cache: undecodable record for %.*s, deleted",
			    (int)(klen > 200 ? 200 : klen), key);
		delete_key(c, k);
		return 0;
	}
	if (rc == 0 || !record_fresh(&tmp, now))
		return 0;
	*r = tmp;
	return 1;
}

int
cache_put(struct cache *c, const char *key, size_t klen,
    const struct record *r, long long now)
{
	TDB_DATA k = { (unsigned char *)key, klen }, v;
	unsigned char buf[RECORD_MAX];
	struct record old;
	size_t len;
	int rc;

	if (c == NULL || c->tdb == NULL || !key_ok(key, klen))
		return -1;
	if ((len = record_encode(r, buf, sizeof(buf))) == 0) {
		log_err("cache: refusing to store an invalid record");
		return -1;
	}
	rc = fetch(c, k, &old);
	if (rc == 1 && !record_may_replace(&old, r, now))
		return 0;
	if (begin(c) == -1)
		return -1;
	v.dptr = buf;
	v.dsize = len;
	if (tdb_store(c->tdb, k, v, TDB_REPLACE) != 0) {
		write_failed(c, "store");
		return -1;
	}
	if (rc == 0)
		c->st.entries++;
	c->st.stores++;
	wrote(c, 1);
	return 1;
}

unsigned long
cache_flush_key(struct cache *c, const char *key, size_t klen)
{
	TDB_DATA k = { (unsigned char *)key, klen };

	if (c == NULL || c->tdb == NULL || !key_ok(key, klen))
		return 0;
	return delete_key(c, k) == 1 ? 1 : 0;
}

/*
 * FLUSH ALL: count, then wipe.  Inside the batch transaction a wipe only
 * rewrites the hash table and the free list, so it stays crash-safe and
 * cheap; it is committed at once.
 */
unsigned long
cache_flush_all(struct cache *c)
{
	int n;

	if (c == NULL || begin(c) == -1)
		return 0;
	if ((n = tdb_traverse(c->tdb, NULL, NULL)) < 0) {
		cache_error(c, "count");
		return 0;
	}
	if (tdb_wipe_all(c->tdb) != 0) {
		write_failed(c, "wipe");
		return 0;
	}
	c->st.entries = 0;
	free(c->cursor.dptr);
	c->cursor.dptr = NULL;
	wrote(c, CACHE_BATCH_MAX);
	return (unsigned long)n;
}

struct flush_arg {
	cache_match_fn *match;
	void *arg;
	unsigned long removed;
	int failed;
};

static int
flush_cb(struct tdb_context *tdb, TDB_DATA key, TDB_DATA data, void *arg)
{
	struct flush_arg *fa = arg;
	struct record r;
	int ok = record_decode(data.dptr, data.dsize, &r) == 0;

	if (!fa->match(key.dptr, key.dsize, ok ? &r : NULL, fa->arg))
		return 0;
	if (tdb_delete(tdb, key) != 0) {
		fa->failed = 1;
		return -1;
	}
	fa->removed++;
	return 0;
}

/*
 * A full traversal: about a second per million records (bench/README.md),
 * acceptable for an admin command or a reload.  Deletes join the batch;
 * no commit can happen inside the traversal.
 */
unsigned long
cache_flush_match(struct cache *c, cache_match_fn *match, void *arg)
{
	struct flush_arg fa = { match, arg, 0, 0 };

	if (c == NULL || begin(c) == -1)
		return 0;
	if (tdb_traverse(c->tdb, flush_cb, &fa) < 0 || fa.failed) {
		write_failed(c, "flush");
		return 0;
	}
	c->st.entries = c->st.entries > fa.removed ?
	    c->st.entries - fa.removed : 0;
	wrote(c, fa.removed > CACHE_BATCH_MAX ? CACHE_BATCH_MAX :
	    (unsigned)fa.removed);
	return fa.removed;
}

static int
in_domain(const void *key, size_t klen, const struct record *r, void *arg)
{
	(void)r;
	return record_key_in_domain(key, klen, arg);
}

unsigned long
cache_flush_domain(struct cache *c, const char *domain)
{
	if (domain == NULL || *domain == '\0' ||
	    strlen(domain) > CACHE_KEY_MAX)
		return 0;
	return cache_flush_match(c, in_domain, (void *)domain);
}

/* Examine one key for expiry: 1 removed, 0 kept. */
static int
expire_one(struct cache *c, TDB_DATA k, long long now)
{
	struct record r;
	int rc = fetch(c, k, &r);

	if (rc == 0 || (rc == 1 && record_fresh(&r, now)))
		return 0;
	return delete_key(c, k) == 1;
}

/*
 * The cursor is the next key to examine.  The following key is taken
 * before the current one may be deleted, so TDB's traversal lock never
 * sits on a record being removed.  A cursor that vanished (flushed) ends
 * the walk; the next call starts again from the first key.
 */
unsigned long
cache_expire_step(struct cache *c, long long now, unsigned budget)
{
	TDB_DATA key, next;
	unsigned long removed = 0;
	unsigned i;

	if (c == NULL || c->tdb == NULL || budget == 0 || begin(c) == -1)
		return 0;
	key = c->cursor.dptr ? c->cursor : tdb_firstkey(c->tdb);
	c->cursor.dptr = NULL;
	for (i = 0; i < budget && key.dptr != NULL; i++) {
		next = tdb_nextkey(c->tdb, key);
		if (expire_one(c, key, now)) {
			removed++;
			c->st.expired++;
		}
		free(key.dptr);
		key = next;
	}
	c->cursor = key;
	return removed;
}

const struct cache_stats *
cache_stats(const struct cache *c)
{
	return &c->st;
}
