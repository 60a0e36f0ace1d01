/*
 * confcheck.h - what a reload changes, and advice about a configuration
 * that is valid but probably not what the operator meant.  Pure: no I/O.
 */
#ifndef SAVD_CONFCHECK_H
#define SAVD_CONFCHECK_H

#include <stddef.h>
#include "config.h"

/* The keys that differ between old and fresh and take effect only at a
 * restart, comma-separated into out ("" when none). */
void confcheck_restart_keys(const struct config *old,
    const struct config *fresh, char *out, size_t cap);

/* Do two configurations send the same domains to the same route hosts /
 * refuse the same target networks?  (Cached answers depend on them.) */
int confcheck_same_routes(const struct config *a, const struct config *b);
int confcheck_same_networks(const struct config *a, const struct config *b);

/* Call warn(arg, message) for each doubtful setting; returns how many:
 * a helo_name that is not a fully qualified domain name; an empty
 * socket_group while socket_mode lets only savd's own group connect. */
int confcheck_advice(const struct config *c,
    void (*warn)(void *arg, const char *msg), void *arg);

#endif
