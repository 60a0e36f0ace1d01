/*
 * metricsd.h - the optional metrics_listen HTTP listener: GET /metrics on
 * the daemon's own event loop, one request per connection, bounded in
 * size, time and connections.  It knows nothing of what it serves: the
 * caller's render function writes the body.
 */
#ifndef SAVD_METRICSD_H
#define SAVD_METRICSD_H

#include <stddef.h>
#include <ev.h>

#include "buf.h"
#include "config.h"

/* Append the exposition to out; returns its number of lines. */
typedef size_t metricsd_render_fn(struct buf *out);

/*
 * Bind cfg->metrics_listen and serve on loop (fatal when the address
 * cannot be bound); a no-op without metrics_listen or when already
 * started: the address is read at start-up only.
 */
void metricsd_start(struct ev_loop *loop, const struct config *cfg,
    metricsd_render_fn *render);

#endif
