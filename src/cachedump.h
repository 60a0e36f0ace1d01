/*
 * cachedump.h - `savctl dump`: list the records of a savd cache file
 * without taking any lock, so a running daemon is never blocked.
 */
#ifndef SAVD_CACHEDUMP_H
#define SAVD_CACHEDUMP_H

#include <stdio.h>

/*
 * Print one line per record of the TDB file at path to out (format in
 * doc/cache-format.md, "Listing the cache").  domain non-NULL limits the
 * listing to "d:DOMAIN" and the "a:...@DOMAIN" records (case-insensitive,
 * exact: not subdomains).  Returns 0, or -1 with a message on stderr when
 * the file cannot be opened or read.
 */
int cachedump_run(const char *path, const char *domain, FILE *out);

#endif
