/*
 * server.h - the UNIX/TCP listener and its clients: line framing, limits,
 * request order.  Requests that need more than framing go to a handler;
 * answers come back through slots, in any order, and leave in request
 * order.
 */
#ifndef SAVD_SERVER_H
#define SAVD_SERVER_H

#include <sys/types.h>
#include <ev.h>

#include "config.h"
#include "proto.h"
#include "buf.h"

struct slot;

/*
 * Called for SENDER, RECIPIENT, STATS, HEALTH and FLUSH.  The handler must
 * answer the slot exactly once, now or later.  To answer later it takes a
 * reference with slot_hold() and drops it with slot_release() after
 * answering.  Answering a slot whose client has gone is harmless.
 */
typedef void server_handler_fn(struct slot *, const struct request *);

struct server_stats {
	unsigned long long requests;    /* request lines answered or pending */
	unsigned long long accepted;    /* connections accepted */
	unsigned long long evicted;     /* idle clients closed at max_clients */
	unsigned clients;               /* connected now */
	unsigned pending;               /* requests awaiting an answer */
};

/* Create and bind the listening sockets as configured; fatal on error.
 * Runs before privileges are dropped and before the loop exists. */
void server_bind(const struct config *cfg);
/* Start serving on loop. */
void server_start(struct ev_loop *loop, const struct config *cfg,
    server_handler_fn *handler);
/* New limits after a reload (socket paths need a restart). */
void server_reconfigure(const struct config *cfg);
/* Stop accepting; answer every pending request with defer inprogress;
 * close clients once their answers are written. */
void server_shutdown(void);
/* Remove the socket file (at exit). */
void server_unlink(void);
const struct server_stats *server_stats(void);

void slot_answer(struct slot *s, const char *line, size_t len);
void slot_answer_buf(struct slot *s, struct buf *b);
void slot_answer_verdict(struct slot *s, const struct verdict *v, long age);
void slot_hold(struct slot *s);
void slot_release(struct slot *s);
/* 0 and *uid set when the peer's uid is known (UNIX socket). */
int slot_peer_uid(const struct slot *s, uid_t *uid);

#endif
