/*
 * A password a person gives a command: typed at the terminal without
 * echo, or standard input whole (for scripts: --password-stdin).  Read
 * with read(), so that no stdio buffer keeps a copy; the caller wipes its
 * own buffer.  Never on the command line.
 */
#ifndef WG_PWREAD_H
#define WG_PWREAD_H

#include <stddef.h>

/*
 * Reads a password into buf (size bytes, at least 2; NUL-terminated,
 * *n bytes without the NUL): with from_stdin, standard input to its end;
 * else one line typed at the terminal after prompt (on stderr), echo off
 * and restored on return and on SIGINT, SIGTERM, SIGHUP and SIGQUIT.
 * One trailing "\n" or "\r\n" is dropped.  A longer input than buf holds
 * is cut at size - 1 bytes (a line is read to its end), so that a caller
 * whose rule allows at most size - 3 bytes refuses it.  NULL, or what
 * went wrong (standard input not a terminal without from_stdin, nothing
 * read) for a message.
 */
const char *pwread(int from_stdin, const char *prompt, char *buf,
    size_t size, size_t *n) __attribute__((warn_unused_result));

#endif
