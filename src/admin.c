/*
 * admin.c - the requests that are not verifications: STATS, HEALTH,
 * FLUSH (admin peers only, by SO_PEERCRED uid), and the routing of SENDER
 * and RECIPIENT to verify.c.
 */
#include <sys/types.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "log.h"
#include "verify.h"
#include "xmalloc.h"

static struct {
	struct ev_loop *loop;
	const struct config *cfg;
	ev_tstamp started;
	size_t nuids;
	uid_t *uids;
} adm;

void
admin_configure(struct ev_loop *loop, const struct config *cfg)
{
	adm.loop = loop;
	adm.cfg = cfg;
	if (adm.started == 0)
		adm.started = ev_now(loop);
	free(adm.uids);
	adm.uids = xcalloc(cfg->admin_users.n, sizeof(uid_t));
	adm.nuids = 0;
	for (size_t i = 0; i < cfg->admin_users.n; i++) {
		const char *name = cfg->admin_users.v[i];
		struct passwd *pw = getpwnam(name);

		if (pw == NULL)
			log_warn("admin_users: no such user '%s'", name);
		else
			adm.uids[adm.nuids++] = pw->pw_uid;
	}
}

static int
is_admin(const struct slot *s)
{
	uid_t uid;

	if (slot_peer_uid(s, &uid) < 0)
		return 0;
	if (uid == 0)
		return 1;
	for (size_t i = 0; i < adm.nuids; i++)
		if (adm.uids[i] == uid)
			return 1;
	return 0;
}

static void
do_stats(struct slot *s)
{
	const struct server_stats *ss = server_stats();
	const struct verify_stats *vs = verify_stats();
	struct buf b;

	buf_init(&b);
	proto_begin(&b, RES_OK);
	proto_kv_int(&b, "uptime", (long long)(ev_now(adm.loop) - adm.started));
	proto_kv_int(&b, "requests", (long long)ss->requests);
	proto_kv_int(&b, "verifications", (long long)vs->verifications);
	proto_kv_int(&b, "cache_hits", (long long)vs->cache_hits);
	proto_kv_int(&b, "cache_misses", (long long)vs->cache_misses);
	proto_kv_int(&b, "callouts", (long long)vs->callouts);
	proto_kv_int(&b, "inflight", vs->inflight);
	proto_kv_int(&b, "clients", ss->clients);
	proto_kv_int(&b, "pending", ss->pending);
	proto_kv_int(&b, "accepted", (long long)ss->accepted);
	proto_kv_int(&b, "evicted", (long long)ss->evicted);
	proto_end(&b);
	slot_answer_buf(s, &b);
	buf_free(&b);
}

static void
do_health(struct slot *s)
{
	const struct verify_stats *vs = verify_stats();
	struct buf b;

	buf_init(&b);
	proto_begin(&b, RES_OK);
	proto_kv(&b, "status", "ok");
	proto_kv_int(&b, "inflight", vs->inflight);
	proto_kv_int(&b, "clients", server_stats()->clients);
	proto_end(&b);
	slot_answer_buf(s, &b);
	buf_free(&b);
}

static void
do_flush(struct slot *s, const struct request *req)
{
	struct verdict v;
	struct buf b;
	char addr[ADDR_BUF];
	const char *arg = NULL;
	unsigned long n;

	if (!is_admin(s)) {
		verdict_set(&v, RES_ERROR, R_DENIED, SRC_NONE);
		slot_answer_verdict(s, &v, -1);
		return;
	}
	if (req->flush == FLUSH_DOMAIN)
		arg = req->flush_domain;
	else if (req->flush == FLUSH_ADDRESS) {
		address_format(&req->addr, addr);
		arg = addr;
	}
	n = verify_flush(req->flush, arg);
	log_info("flush %s%s%s: %lu records removed",
	    req->flush == FLUSH_ALL ? "all" : req->flush == FLUSH_DOMAIN ?
	    "domain" : "address", arg ? " " : "", arg ? arg : "", n);
	buf_init(&b);
	proto_begin(&b, RES_OK);
	proto_kv_int(&b, "flushed", (long long)n);
	proto_end(&b);
	slot_answer_buf(s, &b);
	buf_free(&b);
}

void
admin_handle(struct slot *s, const struct request *req)
{
	switch (req->verb) {
	case VERB_SENDER:
	case VERB_RECIPIENT:
		verify_request(s, req);
		break;
	case VERB_STATS:
		do_stats(s);
		break;
	case VERB_HEALTH:
		do_health(s);
		break;
	case VERB_FLUSH:
		do_flush(s, req);
		break;
	default:
		abort();        /* the server answers PING and QUIT itself */
	}
}
