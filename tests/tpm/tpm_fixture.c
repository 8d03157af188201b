/*
 * The swtpm fixture (tpm_fixture.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "agent/tpm.h"
#include "crypto/tpmpub.h"

#include "tpm_fixture.h"

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* root/name into out. */
const char *
fx_path(const struct fx *fx, const char *name, char out[PATH_MAX])
{
	assert_true((size_t)snprintf(out, PATH_MAX, "%s/%s", fx->root, name) <
	    PATH_MAX);
	return out;
}

void
write_file(const char *path, const void *buf, size_t len)
{
	FILE *f;

	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The bytes of path (at most FILE_MAX, NUL-terminated); caller frees. */
unsigned char *
read_file(const char *path, size_t *len)
{
	unsigned char *buf;
	FILE *f;

	assert_non_null(f = fopen(path, "rb"));
	assert_non_null(buf = malloc(FILE_MAX + 1));
	*len = fread(buf, 1, FILE_MAX + 1, f);
	assert_int_equal(ferror(f), 0);
	assert_true(*len <= FILE_MAX);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/*
 * Waits for child pid at most ms; kills it when the time is up.  Its
 * exit status, or -1 if it did not exit by itself.
 */
static int
wait_child(pid_t pid, int64_t ms)
{
	int64_t deadline = mono_ms() + ms;
	int status;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
	    mono_ms() < deadline)
		sleep_ms(10);
	if (r == 0) {
		fprintf(stderr, "killing pid %d after %lld ms\n", (int)pid,
		    (long long)ms);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	assert_int_equal(r, pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Runs argv (a tool in PATH) against the test's TPM, with stdout into
 * out_path (NULL: inherited) and a 60 s limit.  Its exit status.
 */
int
run(const struct fx *fx, const char *out_path, const char *const *argv)
{
	pid_t pid;
	int fd;

	fflush(NULL);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		if (fx != NULL)
			setenv("TPM2TOOLS_TCTI", fx->tcti, 1);
		if (out_path != NULL) {
			if ((fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC,
			    0600)) < 0 || dup2(fd, 1) < 0)
				_exit(126);
			close(fd);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return wait_child(pid, TOOL_TIMEOUT_MS);
}


/* A port p such that p and p + 1 were free on loopback just now. */
static int
port_pair(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int s, t, port, i, ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 50; i++) {
		assert_true((s = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
		a.sin_port = 0;
		assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen),
		    0);
		port = ntohs(a.sin_port);
		assert_true((t = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
		a.sin_port = htons((uint16_t)(port + 1));
		ok = port < 65535 &&
		    bind(t, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(s);
		close(t);
		if (ok)
			return port;
	}
	fail_msg("no two consecutive free loopback ports");
	return -1;
}

/* 1 once something accepts on the port, 0 if swtpm died or timed out. */
static int
swtpm_wait(struct fx *fx)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int64_t deadline = mono_ms() + SWTPM_WAIT_MS;
	int s, status, ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)fx->port);
	while (mono_ms() < deadline) {
		if (waitpid(fx->swtpm, &status, WNOHANG) == fx->swtpm) {
			fx->swtpm = -1;
			return 0;
		}
		assert_true((s = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
		ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(s);
		if (ok)
			return 1;
		sleep_ms(20);
	}
	return 0;
}

static void
swtpm_stop(struct fx *fx)
{
	if (fx->swtpm <= 0)
		return;
	kill(fx->swtpm, SIGTERM);
	if (wait_child(fx->swtpm, 10000) < 0)
		fprintf(stderr, "swtpm did not stop on SIGTERM\n");
	fx->swtpm = -1;
}

/* Starts swtpm on root/state (tries other ports if it loses a race). */
static void
swtpm_start(struct fx *fx)
{
	char state[PATH_MAX + 16], server[64], ctrl[64], log[PATH_MAX];
	int i, fd;

	snprintf(state, sizeof(state), "dir=%s/state", fx->root);
	fx_path(fx, "swtpm.log", log);
	for (i = 0; i < 5; i++) {
		fx->port = port_pair();
		snprintf(server, sizeof(server), "type=tcp,port=%d", fx->port);
		snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d", fx->port + 1);
		fflush(NULL);
		assert_true((fx->swtpm = fork()) >= 0);
		if (fx->swtpm == 0) {
			if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND,
			    0600)) >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execlp("swtpm", "swtpm", "socket", "--tpm2",
			    "--tpmstate", state, "--server", server, "--ctrl",
			    ctrl, "--flags", "not-need-init,startup-clear",
			    (char *)NULL);
			_exit(127);
		}
		if (swtpm_wait(fx)) {
			snprintf(fx->tcti, sizeof(fx->tcti),
			    "swtpm:host=127.0.0.1,port=%d", fx->port);
			return;
		}
		swtpm_stop(fx);
	}
	fail_msg("swtpm did not start (see %s)", log);
}

/*
 * Manufactures the TPM in root/state as a discrete TPM comes: swtpm_setup
 * creates the RSA EK (persistent at 0x81010001) and an ECC P-384 EK, and
 * a local CA of its own (in root/ca) certifies them into NV.
 */
static void
swtpm_manufacture(struct fx *fx)
{
	char conf[PATH_MAX], ca_conf[PATH_MAX], opts[PATH_MAX], log[PATH_MAX];
	char state[PATH_MAX], ca[PATH_MAX], text[4 * PATH_MAX];
	int n;

	fx_path(fx, "state", state);
	fx_path(fx, "ca", ca);
	assert_int_equal(mkdir(ca, 0700), 0);
	fx_path(fx, "swtpm-localca.options", opts);
	n = snprintf(text, sizeof(text), "--platform-manufacturer whiteglove\n"
	    "--platform-version 2.1\n--platform-model test\n");
	write_file(opts, text, (size_t)n);
	fx_path(fx, "swtpm-localca.conf", ca_conf);
	n = snprintf(text, sizeof(text), "statedir = %s\nsigningkey = "
	    "%s/signkey.pem\nissuercert = %s/issuercert.pem\ncertserial = "
	    "%s/certserial\n", ca, ca, ca, ca);
	write_file(ca_conf, text, (size_t)n);
	fx_path(fx, "swtpm_setup.conf", conf);
	n = snprintf(text, sizeof(text), "create_certs_tool = swtpm_localca\n"
	    "create_certs_tool_config = %s\ncreate_certs_tool_options = %s\n"
	    "active_pcr_banks = sha256\n", ca_conf, opts);
	write_file(conf, text, (size_t)n);
	fx_path(fx, "swtpm_setup.log", log);
	RUN(NULL, NULL, "swtpm_setup", "--tpm2", "--tpmstate", state,
	    "--create-ek-cert", "--config", conf, "--logfile", log);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
fx_setup(void **state, int manufactured)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char dir[PATH_MAX];

	assert_non_null(fx);
	fx->swtpm = -1;
	snprintf(fx->root, sizeof(fx->root), "/tmp/wg-tpmtest-XXXXXX");
	assert_non_null(mkdtemp(fx->root));
	assert_int_equal(mkdir(fx_path(fx, "state", dir), 0700), 0);
	*state = fx;
	if (manufactured)
		swtpm_manufacture(fx);
	swtpm_start(fx);
	return 0;
}

int
setup_fresh(void **state)
{
	return fx_setup(state, 0);
}

int
setup_manufactured(void **state)
{
	return fx_setup(state, 1);
}

void
up(struct fx *fx)
{
	assert_null(fx->tpm);
	assert_int_equal(tpm_open(fx->tcti, &fx->tpm), WG_OK);
}

/* Closes our connection: swtpm serves one client at a time. */
void
down(struct fx *fx)
{
	tpm_close(fx->tpm);
	fx->tpm = NULL;
}

/*
 * 1 if tpm2_getcap lists no transient object and no loaded session;
 * without a resource manager anything a test leaked is still there.
 */
int
tpm_is_clean(const struct fx *fx)
{
	static const char *const caps[] = { "handles-transient",
		"handles-loaded-session" };
	char out[PATH_MAX];
	unsigned char *text;
	size_t i, len;
	int clean = 1;

	fx_path(fx, "getcap.txt", out);
	for (i = 0; i < 2; i++) {
		const char *argv[] = { "tpm2_getcap", caps[i], NULL };

		if (run(fx, out, argv) != 0)
			return 0;
		text = read_file(out, &len);
		if (strstr((char *)text, "0x") != NULL) {
			fprintf(stderr, "left in the TPM (%s):\n%s", caps[i],
			    (char *)text);
			clean = 0;
		}
		free(text);
	}
	return clean;
}

int
fx_have_tools(const char *const *tools)
{
	char cmd[128];

	for (; *tools != NULL; tools++) {
		snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null", *tools);
		if (system(cmd) != 0) {
			fprintf(stderr, "skipped: %s is not installed\n", *tools);
			return 0;
		}
	}
	return 1;
}

int
teardown(void **state)
{
	struct fx *fx = *state;
	int clean;

	down(fx);
	clean = tpm_is_clean(fx);
	swtpm_stop(fx);
	nftw(fx->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return clean ? 0 : -1;
}

#define TAP_MAX (1024 * 1024) /* bytes recorded at most */
#define TAP_CONNS 8	      /* connections open at once */

/* One forwarded connection: fd[0] from the TCTI, fd[1] to swtpm. */
struct tap_conn {
	int fd[2];
};

static void
tap_record(struct tap *t, const unsigned char *buf, size_t len)
{
	pthread_mutex_lock(&t->lock);
	if (len > TAP_MAX - t->rec_len)
		t->overflow = 1;
	else {
		memcpy(t->rec + t->rec_len, buf, len);
		t->rec_len += len;
	}
	pthread_mutex_unlock(&t->lock);
}

/* 1 if all of buf was written to fd. */
static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		buf += n;
		len -= (size_t)n;
	}
	return 1;
}

static void
conn_close(struct tap_conn *c)
{
	close(c->fd[0]);
	close(c->fd[1]);
	c->fd[0] = c->fd[1] = -1;
}

/* A new connection on our port i, paired with one to swtpm's. */
static void
tap_accept(struct tap *t, int i, struct tap_conn *conns)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int c, u, k;

	if ((c = accept(t->listen[i], NULL, NULL)) < 0)
		return;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)(t->up_port + i));
	if ((u = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(u, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (u >= 0)
			close(u);
		close(c);
		return;
	}
	for (k = 0; k < TAP_CONNS && conns[k].fd[0] >= 0; k++)
		;
	if (k == TAP_CONNS) {
		close(u);
		close(c);
		return;
	}
	conns[k].fd[0] = c;
	conns[k].fd[1] = u;
}

/* Passes what fd side of c has on to the other side, recording it. */
static void
tap_forward(struct tap *t, struct tap_conn *c, int side)
{
	unsigned char buf[4096];
	ssize_t n;

	if ((n = read(c->fd[side], buf, sizeof(buf))) < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	tap_record(t, buf, (size_t)n);
	if (!write_all(c->fd[!side], buf, (size_t)n))
		conn_close(c);
}

static void *
tap_run(void *arg)
{
	struct tap *t = arg;
	struct tap_conn conns[TAP_CONNS];
	struct pollfd p[3 + 2 * TAP_CONNS];
	int k, side;

	for (k = 0; k < TAP_CONNS; k++)
		conns[k].fd[0] = conns[k].fd[1] = -1;
	for (;;) {
		p[0] = (struct pollfd){ .fd = t->stop[0], .events = POLLIN };
		p[1] = (struct pollfd){ .fd = t->listen[0], .events = POLLIN };
		p[2] = (struct pollfd){ .fd = t->listen[1], .events = POLLIN };
		for (k = 0; k < 2 * TAP_CONNS; k++)
			p[3 + k] = (struct pollfd){ .fd = conns[k / 2].fd[k % 2],
				.events = POLLIN };
		if (poll(p, 3 + 2 * TAP_CONNS, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents != 0)
			break;
		for (k = 0; k < 2 * TAP_CONNS; k++) {
			side = k % 2;
			if (p[3 + k].revents != 0 && conns[k / 2].fd[side] >= 0)
				tap_forward(t, &conns[k / 2], side);
		}
		for (k = 0; k < 2; k++)
			if (p[1 + k].revents != 0)
				tap_accept(t, k, conns);
	}
	for (k = 0; k < TAP_CONNS; k++)
		if (conns[k].fd[0] >= 0)
			conn_close(&conns[k]);
	return NULL;
}

/* A listening socket on loopback port, or -1 if the port is taken. */
static int
tap_listen(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int s;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	assert_true((s = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(s, 4) != 0) {
		close(s);
		return -1;
	}
	return s;
}

/* tpm_fixture.h */
void
tap_start(struct tap *t, const struct fx *fx)
{
	int i, port = -1;

	memset(t, 0, sizeof(*t));
	t->up_port = fx->port;
	/* port_pair()'s ports may be taken before we bind: try again */
	for (i = 0; i < 50 && port < 0; i++) {
		port = port_pair();
		if ((t->listen[0] = tap_listen(port)) < 0 ||
		    (t->listen[1] = tap_listen(port + 1)) < 0) {
			if (t->listen[0] >= 0)
				close(t->listen[0]);
			port = -1;
		}
	}
	assert_true(port > 0);
	assert_int_equal(pipe(t->stop), 0);
	assert_non_null(t->rec = malloc(TAP_MAX));
	assert_int_equal(pthread_mutex_init(&t->lock, NULL), 0);
	snprintf(t->tcti, sizeof(t->tcti), "swtpm:host=127.0.0.1,port=%d",
	    port);
	assert_int_equal(pthread_create(&t->thread, NULL, tap_run, t), 0);
	t->running = 1;
}

/* tpm_fixture.h */
void
tap_stop(struct tap *t)
{
	if (!t->running)
		return;
	t->running = 0;
	assert_true(write_all(t->stop[1], (const unsigned char *)"x", 1));
	assert_int_equal(pthread_join(t->thread, NULL), 0);
	close(t->stop[0]);
	close(t->stop[1]);
	close(t->listen[0]);
	close(t->listen[1]);
	pthread_mutex_destroy(&t->lock);
	OPENSSL_cleanse(t->rec, TAP_MAX);
	free(t->rec);
}

/* tpm_fixture.h */
void
tap_clear(struct tap *t)
{
	pthread_mutex_lock(&t->lock);
	t->rec_len = 0;
	pthread_mutex_unlock(&t->lock);
}

/* tpm_fixture.h */
int
tap_seen(struct tap *t, const void *buf, size_t len)
{
	int seen, overflow;

	pthread_mutex_lock(&t->lock);
	overflow = t->overflow;
	seen = memmem(t->rec, t->rec_len, buf, len) != NULL;
	pthread_mutex_unlock(&t->lock);
	assert_false(overflow);
	return seen;
}
