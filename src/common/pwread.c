/*
 * Passwords typed or piped (pwread.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/pwread.h"

/* Drops one trailing "\n" or "\r\n" from buf[*n]. */
static void
chomp(char *buf, size_t *n)
{
	if (*n > 0 && buf[*n - 1] == '\n')
		buf[--*n] = '\0';
	if (*n > 0 && buf[*n - 1] == '\r')
		buf[--*n] = '\0';
}

/* The terminal's settings while echo is off, for tty_signal(). */
static struct termios tty_saved;
static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* A signal while echo is off: echo back on, then die of it as usual. */
static void
tty_signal(int sig)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Catches (on 1) or releases (on 0) the signals that end a prompt. */
static void
tty_catch(int on)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on ? tty_signal : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(tty_signals) / sizeof(tty_signals[0]); i++)
		sigaction(tty_signals[i], &sa, NULL);
}

/*
 * One line from the terminal on stdin after prompt, echo off; a longer
 * line than buf holds is read to its end (and fails the caller's length
 * rule).
 */
static int
tty_line(const char *prompt, char *buf, size_t size, size_t *n)
{
	struct termios quiet;
	char rest[64];
	ssize_t r;

	*n = 0;
	if (tcgetattr(STDIN_FILENO, &tty_saved) != 0)
		return -1;
	quiet = tty_saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	tty_catch(1);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
		tty_catch(0);
		return -1;
	}
	while ((r = read(STDIN_FILENO, buf, size - 1)) < 0 && errno == EINTR)
		;
	*n = r > 0 ? (size_t)r : 0;
	buf[*n] = '\0';
	while (r > 0 && buf[*n - 1] != '\n' &&
	    (r = read(STDIN_FILENO, rest, sizeof(rest))) > 0 &&
	    rest[r - 1] != '\n')
		;
	OPENSSL_cleanse(rest, sizeof(rest));
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &tty_saved);
	tty_catch(0);
	fprintf(stderr, "\n");
	return *n > 0 ? 0 : -1;
}

/* Standard input to its end, at most size - 1 bytes kept. */
static int
stdin_all(char *buf, size_t size, size_t *n)
{
	ssize_t r = 1;

	*n = 0;
	while (*n < size - 1 && (r = read(STDIN_FILENO, buf + *n,
	    size - 1 - *n)) != 0)
		if (r > 0)
			*n += (size_t)r;
		else if (errno != EINTR)
			break;
	buf[*n] = '\0';
	return r < 0 ? -1 : 0;
}

const char *
pwread(int from_stdin, const char *prompt, char *buf, size_t size,
    size_t *n)
{
	*n = 0;
	buf[0] = '\0';
	if (from_stdin) {
		if (stdin_all(buf, size, n) != 0)
			return "cannot read the password from standard input";
	} else if (!isatty(STDIN_FILENO)) {
		return "standard input is not a terminal: give "
		    "--password-stdin to read the password from it";
	} else if (tty_line(prompt, buf, size, n) != 0)
		return "cannot read the password from the terminal";
	chomp(buf, n);
	return NULL;
}
