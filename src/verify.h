/*
 * verify.h - a request's life: policy -> cache -> limits -> in-flight
 * table -> callout -> cache store -> answer.
 */
#ifndef SAVD_VERIFY_H
#define SAVD_VERIFY_H

#include <ev.h>

#include "config.h"
#include "proto.h"
#include "server.h"

struct verify_stats {
	unsigned long long verifications;       /* SENDER/RECIPIENT requests */
	unsigned long long cache_hits;
	unsigned long long cache_misses;
	unsigned long long callouts;            /* callouts started */
	unsigned long long refreshes;           /* background refreshes done */
	unsigned long long ratelimited;         /* answered defer ratelimited */
	unsigned long long overloaded;          /* answered defer overloaded */
	unsigned long long cache_entries;
	int cache_writable;
	int cache_memory_only;
	unsigned inflight;                      /* verifications in flight */
};

/* Shares of the last few minutes' network verifications (HEALTH). */
struct verify_recent {
	unsigned total;                 /* verifications that used the network */
	unsigned dnsfail;
	unsigned timeout;               /* timeout and unreachable */
	unsigned blocked;
};

void verify_recent(struct verify_recent *r);

void verify_init(struct ev_loop *loop, const struct config *cfg);
void verify_reconfigure(const struct config *cfg);
/* Answer a SENDER or RECIPIENT request on s (now or later). */
void verify_request(struct slot *s, const struct request *req);
/* Remove cached and remembered results; returns how many records. */
unsigned long verify_flush(enum flush_kind kind, const char *arg);
const struct verify_stats *verify_stats(void);
void verify_shutdown(void);

#endif
