/*
 * client.h - the tiny blocking client shared by savctl and check_savd:
 * one connection to savd (UNIX socket path or host:port), the request
 * bytes, a half-close, the answer read under one deadline; and a reader
 * for the key=value fields of a response line (doc/protocol.md 4).
 * Not for use inside the daemon: everything here blocks.
 */
#ifndef SAVD_CLIENT_H
#define SAVD_CLIENT_H

#include <stddef.h>

#ifndef SAVD_SOCKET
#define SAVD_SOCKET "/run/savd/savd.sock"
#endif

#define CLIENT_ANSWER_MAX 65536         /* bytes of answer kept, at most */
#define CLIENT_VALUE_MAX  1024          /* longest field value returned */
/* nlines for a multi-line answer (METRICS): "result=... lines=N", then
 * N more lines (doc/protocol.md). */
#define CLIENT_FRAMED     0

/*
 * Is target a TCP "host:port" ("127.0.0.1:8925", "[::1]:8925",
 * "localhost:8925") rather than a UNIX socket path?  A target holding a
 * '/' is always a path.
 */
int client_is_tcp(const char *target);

/*
 * Connect to target, send req[0..reqlen) (the caller puts the LFs in),
 * half-close, and read until nlines LFs have arrived or the server closes
 * (nlines CLIENT_FRAMED: the first line and the lines=N it announces).
 * The whole exchange must end within timeout_ms.  On success returns the
 * number of bytes stored in out (NUL-terminated; at most outcap - 1) and
 * those bytes hold nlines complete lines.  On failure returns -1 with a
 * message in err: unreachable, timeout, closed early, answer too long.
 */
int client_query(const char *target, const char *req, size_t reqlen,
    int nlines, int timeout_ms, char *out, size_t outcap,
    char *err, size_t errlen);

/*
 * Check that line (one response, with or without its LF) is well formed:
 * "result=" first, then space-separated key=value fields with bare values,
 * and at most one text="..." field, last.  Returns 0 or -1.
 */
int client_check_line(const char *line);

/*
 * Find key in a response line and copy its value into val (text="..." is
 * unescaped).  Returns 1 when found, 0 when absent, -1 when the line is
 * malformed or the value does not fit in vallen.
 */
int client_field(const char *line, const char *key, char *val, size_t vallen);

/*
 * Does s contain a byte that must never be sent (NUL excluded by C
 * strings): a control character or DEL?  TAB counts too: it separates
 * fields on the wire.
 */
int client_has_ctl(const char *s);

#endif
