/*
 * admin.h - STATS, HEALTH, METRICS and FLUSH, the admin check, and the routing of
 * verification requests to verify.c.
 */
#ifndef SAVD_ADMIN_H
#define SAVD_ADMIN_H

#include <ev.h>

#include "config.h"
#include "server.h"

/* Resolve admin_users to uids (getpwnam: start-up and reload only). */
void admin_configure(struct ev_loop *loop, const struct config *cfg);
/* The server's request handler. */
void admin_handle(struct slot *s, const struct request *req);
/* Append the Prometheus text exposition of every counter; returns the
 * number of lines (METRICS and GET /metrics). */
size_t admin_metrics_text(struct buf *out);

#endif
