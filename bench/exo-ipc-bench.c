// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-ipc-bench: libexo's user-level IPC (Documentation/ipc.rst) against
 * Linux's.
 *
 * PIPE-64, PIPE-4K: a ping-pong round trip of 64 bytes or 4 KiB over two
 * exo pipes between two processes, against the same over two pipe(2)s.
 * PIPE-TP: streaming 16 MiB in 4 KiB writes to another process (which
 * answers 8 bytes at the end), per MiB; MB/s = 1.048576e6 / (us per MiB).
 * RPC: an exo_rpc_call() with an 8-byte argument and result, against a
 * 16-byte request and reply over a Unix stream socket to a server that
 * dispatches on a procedure number.
 *
 * Every process is pinned to one CPU, as exo-call-bench does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libexo.h>

#include "bench.h"

#define BATCH	100
#define REPS	41
#define TP_LEN	(16u << 20)
#define TP_REPS	11
#define CHUNK	4096

enum { V_EXO, V_LINUX };
enum { K_PING64, K_PING4K, K_TP, K_RPC };

/* Shared with the forked peer during set-up. */
struct shm {
	_Atomic uint32_t cid, pid_ctx;
	_Atomic int tok_p_ready, tok_c_ready;
	struct exo_pipe_token tok_p, tok_c;
	_Atomic uint64_t cap;
};

struct peer {
	pid_t pid;
	struct shm *sh;
	struct exo *exo;
	struct exo_pipe *rd, *wr;		/* exo: C2P, P2C */
	struct exo_rpc_client *cl;
	int rfd, wfd;				/* Linux */
};

static struct peer peers[8];
static unsigned char buf[65536];

static size_t in_len(int kind)
{
	return kind == K_PING64 ? 64 : kind == K_PING4K ? 4096 : TP_LEN;
}

static size_t out_len(int kind)
{
	return kind == K_TP ? 8 : in_len(kind);
}

/* Move exactly @len bytes (exo pipe or fd); @dst NULL: discard. */
static void exo_read_full(struct exo_pipe *p, size_t len)
{
	long n;

	while (len) {
		n = exo_pipe_read(p, buf, len < sizeof(buf) ? len : sizeof(buf),
				  0);
		if (n <= 0)
			die("exo_pipe_read: %s", n ? strerror(-n) : "EOF");
		len -= n;
	}
}

static void exo_write_full(struct exo_pipe *p, size_t len)
{
	size_t n;
	long r;

	while (len) {
		n = len < CHUNK ? len : CHUNK;
		r = exo_pipe_write(p, buf, n, 0);
		if (r != (long)n)
			die("exo_pipe_write: %s", strerror(-r));
		len -= n;
	}
}

static void fd_read_full(int fd, size_t len)
{
	ssize_t n;

	while (len) {
		n = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));
		if (n <= 0)
			_exit(0);
		len -= n;
	}
}

static void fd_write_full(int fd, size_t len)
{
	size_t n;

	while (len) {
		n = len < CHUNK ? len : CHUNK;
		if (write(fd, buf, n) != (ssize_t)n)
			_exit(0);
		len -= n;
	}
}

static int rpc_inc(void *arg, struct exo_rpc_req *req)
{
	uint64_t v = 0;

	(void)arg;
	memcpy(&v, req->in, req->in_len < 8 ? req->in_len : 8);
	v++;
	memcpy(req->out, &v, 8);
	req->out_len = 8;
	return 0;
}

static void __attribute__((noreturn)) exo_child(struct shm *sh, int kind)
{
	struct exo_rpc_server *srv;
	struct exo_pipe *rd, *wr;
	struct exo *exo;
	uint64_t cap;

	if (exo_open(&exo))
		_exit(1);
	if (kind == K_RPC) {
		while (!atomic_load(&sh->pid_ctx))
			usleep(1000);
		if (exo_rpc_server_create(exo, &srv) ||
		    exo_rpc_register(srv, 1, rpc_inc, NULL) ||
		    exo_rpc_grant(srv, atomic_load(&sh->pid_ctx), &cap))
			_exit(1);
		atomic_store(&sh->cap, cap);
		exo_rpc_serve(srv);
		_exit(1);
	}
	atomic_store(&sh->cid, exo_api(exo)->ctx_id);
	while (!atomic_load(&sh->tok_p_ready))
		usleep(1000);
	if (exo_pipe_attach(exo, &sh->tok_p, &wr) ||
	    exo_pipe_create(exo, atomic_load(&sh->pid_ctx), 0, &rd,
			    &sh->tok_c))
		_exit(1);
	atomic_store(&sh->tok_c_ready, 1);
	for (;;) {
		exo_read_full(rd, in_len(kind));
		exo_write_full(wr, out_len(kind));
	}
}

static const char *setup(struct bench_col *c)
{
	struct peer *pe = &peers[c->npages * 2 + c->variant];
	int kind = c->npages;
	int a[2], b[2];

	pe->sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pe->sh == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	c->priv = pe;
	if (c->variant == V_EXO) {
		if (exo_open(&pe->exo))
			return "no /dev/exo";
		if (!(exo_api(pe->exo)->features & EXO_FEAT_CALL))
			return "the module has no EXO_FEAT_CALL";
		atomic_store(&pe->sh->pid_ctx, exo_api(pe->exo)->ctx_id);
		pe->pid = fork();
		if (!pe->pid)
			exo_child(pe->sh, kind);
		if (kind == K_RPC) {
			while (!atomic_load(&pe->sh->cap))
				usleep(1000);
			if (exo_rpc_bind(pe->exo, atomic_load(&pe->sh->cap), 0,
					 &pe->cl))
				die("exo_rpc_bind");
			return NULL;
		}
		while (!atomic_load(&pe->sh->cid))
			usleep(1000);
		if (exo_pipe_create(pe->exo, atomic_load(&pe->sh->cid), 0,
				    &pe->rd, &pe->sh->tok_p))
			die("exo_pipe_create");
		atomic_store(&pe->sh->tok_p_ready, 1);
		while (!atomic_load(&pe->sh->tok_c_ready))
			usleep(1000);
		if (exo_pipe_attach(pe->exo, &pe->sh->tok_c, &pe->wr))
			die("exo_pipe_attach");
		return NULL;
	}
	if (kind == K_RPC ? socketpair(AF_UNIX, SOCK_STREAM, 0, a) :
	    pipe(a) || pipe(b))
		die("pipe: %s", strerror(errno));
	if (kind == K_RPC) {
		b[0] = a[1];
		b[1] = a[1];
		pe->rfd = pe->wfd = a[0];
	} else {
		pe->rfd = b[0];
		pe->wfd = a[1];
	}
	pe->pid = fork();
	if (!pe->pid) {
		int rfd = kind == K_RPC ? a[1] : a[0];

		for (;;) {
			if (kind == K_RPC) {
				uint64_t req[2], rep[2];

				if (read(rfd, req, 16) != 16)
					_exit(0);
				rep[0] = req[0] == 1 ? 0 : ENOSYS;
				rep[1] = req[1] + 1;
				if (write(b[1], rep, 16) != 16)
					_exit(0);
				continue;
			}
			fd_read_full(rfd, in_len(kind));
			fd_write_full(b[1], out_len(kind));
		}
	}
	return NULL;
}

static void trial(struct bench_col *c, double out[BENCH_MAX_OUT])
{
	struct peer *pe = c->priv;
	int kind = c->npages, i, n = kind == K_TP ? 1 : BATCH;
	uint64_t t0 = bench_now(), v, req[2], rep[2];
	size_t len;
	int ret;

	for (i = 0; i < n; i++) {
		if (kind == K_RPC && c->variant == V_EXO) {
			v = i;
			ret = exo_rpc_call(pe->cl, 1, &v, 8, &v, 8, &len);
			if (ret || v != (uint64_t)i + 1)
				die("exo_rpc_call: %d", ret);
		} else if (kind == K_RPC) {
			req[0] = 1;
			req[1] = i;
			if (write(pe->wfd, req, 16) != 16 ||
			    read(pe->rfd, rep, 16) != 16 || rep[0] ||
			    rep[1] != (uint64_t)i + 1)
				die("unix rpc");
		} else if (c->variant == V_EXO) {
			exo_write_full(pe->wr, in_len(kind));
			exo_read_full(pe->rd, out_len(kind));
		} else {
			fd_write_full(pe->wfd, in_len(kind));
			fd_read_full(pe->rfd, out_len(kind));
		}
	}
	out[0] = bench_since(t0) / (kind == K_TP ? (int)(TP_LEN >> 20) : n);
}

static void teardown(struct bench_col *c)
{
	struct peer *pe = c->priv;

	if (pe->pid > 0) {
		kill(pe->pid, SIGKILL);
		waitpid(pe->pid, NULL, 0);
	}
	if (pe->cl)
		exo_rpc_unbind(pe->cl);
	if (pe->rd)
		exo_pipe_close(pe->rd);
	if (pe->wr)
		exo_pipe_close(pe->wr);
	exo_close(pe->exo);
}

#define COL(name, k, v) \
	{ name, setup, trial, teardown, k, v, NULL, NULL, { NULL } }

static struct bench_row rows[] = {
	{ { "PIPE-64" }, 1, REPS, "a 64-byte round trip over two pipes",
	  { COL("exo_pipe", K_PING64, V_EXO),
	    COL("pipe", K_PING64, V_LINUX) } },
	{ { "PIPE-4K" }, 1, REPS, "a 4 KiB round trip over two pipes",
	  { COL("exo_pipe", K_PING4K, V_EXO),
	    COL("pipe", K_PING4K, V_LINUX) } },
	{ { "PIPE-TP" }, 1, TP_REPS, "time per MiB of a 16 MiB stream",
	  { COL("exo_pipe", K_TP, V_EXO), COL("pipe", K_TP, V_LINUX) } },
	{ { "RPC" }, 1, REPS, "an 8-byte-argument RPC round trip",
	  { COL("exo_rpc", K_RPC, V_EXO), COL("unix", K_RPC, V_LINUX) } },
};

int main(int argc, char **argv)
{
	double scale = bench_start(argc, argv);
	time_t now = time(NULL);
	struct utsname u;
	char date[32];
	cpu_set_t set;
	unsigned int i;
	int cpu;

	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	printf("exo-ipc-bench: accelerator %s, kernel %s, %ld cpus, %s\n",
	       bench_accel(), u.release, sysconf(_SC_NPROCESSORS_ONLN), date);
	printf("# columns interleaved round by round; a sample is the mean of "
	       "%d round trips (PIPE-TP: per MiB of 16 MiB); ratio = exo "
	       "median / Linux median\n", BATCH);
	if (sched_getaffinity(0, sizeof(set), &set))
		die("sched_getaffinity: %s", strerror(errno));
	for (cpu = CPU_SETSIZE - 1; cpu > 0 && !CPU_ISSET(cpu, &set); cpu--)
		;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("pinning to cpu %d: %s", cpu, strerror(errno));
	printf("# every process pinned to cpu %d\n", cpu);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rows[i].reps = rows[i].reps * scale < 3 ? 3 :
			       rows[i].reps * scale;
		bench_run(&rows[i], 2);
	}
	printf("exo-ipc-bench: OK\n");
	return 0;
}
