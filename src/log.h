/*
 * log.h - logging to syslog (facility mail) or to stderr in the foreground.
 */
#ifndef SAVD_LOG_H
#define SAVD_LOG_H

#include <stdarg.h>

void log_open(const char *ident, int to_stderr, int debug);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log and exit(1): configuration and environment problems at start-up. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
