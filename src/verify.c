/*
 * verify.c - a request's life.  This first version applies the policy
 * answers that need no network (null sender, skip_domains); everything
 * else is answered `defer inprogress` until the callout engine exists.
 */
#include <string.h>

#include "verify.h"
#include "log.h"

static struct {
	struct ev_loop *loop;
	const struct config *cfg;
	struct verify_stats st;
} vfy;

void
verify_init(struct ev_loop *loop, const struct config *cfg)
{
	vfy.loop = loop;
	vfy.cfg = cfg;
}

void
verify_reconfigure(const struct config *cfg)
{
	vfy.cfg = cfg;
}

const struct verify_stats *
verify_stats(void)
{
	return &vfy.st;
}

unsigned long
verify_flush(enum flush_kind kind, const char *arg)
{
	(void)kind;
	(void)arg;
	return 0;
}

void
verify_shutdown(void)
{
}

void
verify_request(struct slot *s, const struct request *req)
{
	struct verdict v;

	vfy.st.verifications++;
	if (req->addr.null)
		verdict_set(&v, RES_OK, R_NULL, SRC_POLICY);
	else if (config_skip_domain(vfy.cfg, req->addr.domain))
		verdict_set(&v, RES_UNKNOWN, R_SKIPPED, SRC_POLICY);
	else
		verdict_set(&v, RES_DEFER, R_INPROGRESS, SRC_POLICY);
	slot_answer_verdict(s, &v, -1);
}
