// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-call-bench: a null protected control transfer round trip against
 * the Linux ways of asking another process and waiting for its answer.
 *
 * CALL: exo_call() into a server process (one server thread) against a
 * futex ping-pong between two processes, a 1-byte pipe ping-pong and a
 * 48-byte Unix-socket request/reply (the size of exo_call's message).
 * CALL-1P: the same call between two contexts of one process, against a
 * futex ping-pong between two of its threads: no address-space switch.
 * YIELD: two threads of one process hand the processor back and forth,
 * each spinning on a shared turn until it is its own: exo_yield() to the
 * other's row against sched_yield(), and against a futex wake and wait.
 *
 * A sample is the mean of BATCH round trips. Every process is pinned to
 * one CPU, as exo-net-bench does: a hand-off is then a switch on this CPU,
 * not an IPI to another vCPU whose cost under TCG is the host's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libexo.h>

#include "bench.h"

#define BATCH	200
#define REPS	41
#define MSG	48

enum {
	C_EXO, C_EXO_LOCAL, C_FUTEX, C_FUTEX_LOCAL, C_PIPE, C_UNIX,
	C_YIELD_EXO, C_YIELD_SCHED, C_YIELD_FUTEX,
};

/* Shared with a forked peer. */
struct shm {
	_Atomic uint32_t futex;
	_Atomic uint64_t cap;
	_Atomic int ready;
	_Atomic int turn;	/* YIELD: 1 the peer's, 0 ours */
	_Atomic int stop;
	_Atomic int peer_row;	/* YIELD: the peer thread's row, or -1 */
};

struct peer {
	pid_t pid;
	struct shm *sh;
	struct exo *cli, *srv;
	uint64_t cap;
	uint32_t entry;
	int fd[2];
	pthread_t thread;
	int row;		/* YIELD: this thread's row */
};

static struct peer peers[9];

static void echo(void *arg, struct exo_msg *m)
{
	(void)arg;
	m->w[0]++;
}

static long futex(_Atomic uint32_t *f, int op, uint32_t val)
{
	return syscall(SYS_futex, f, op, val, NULL, NULL, 0);
}

/* The answering side of a futex ping-pong (op: shared or private). */
static void futex_answer(_Atomic uint32_t *f, int op_wait, int op_wake)
{
	for (;;) {
		while (atomic_load(f) != 1)
			futex(f, op_wait, 0);
		atomic_store(f, 2);
		futex(f, op_wake, 1);
	}
}

static void futex_ask(_Atomic uint32_t *f, int op_wait, int op_wake)
{
	atomic_store(f, 1);
	futex(f, op_wake, 1);
	while (atomic_load(f) != 2)
		futex(f, op_wait, 1);
	atomic_store(f, 0);
}

static void *futex_thread(void *p)
{
	futex_answer(p, FUTEX_WAIT_PRIVATE, FUTEX_WAKE_PRIVATE);
	return NULL;
}

/* Give the processor to the other side: exo_yield() or sched_yield(). */
static void yield_once(struct peer *pe, int row)
{
	if (pe->cli) {
		int ret = exo_yield(pe->cli, 0, row);

		if (ret && ret != -EAGAIN)
			die("exo_yield: %s", strerror(-ret));
	} else {
		sched_yield();
	}
}

/* The YIELD peer: wait for its turn, hand the turn back. */
static void *yield_thread(void *p)
{
	struct peer *pe = p;
	int row = -1;

	if (pe->cli) {
		row = exo_thread_register(pe->cli, NULL);
		if (row < 0)
			die("exo_thread_register: %s", strerror(-row));
	}
	atomic_store(&pe->sh->peer_row, row);
	for (;;) {
		while (atomic_load(&pe->sh->turn) != 1) {
			if (atomic_load(&pe->sh->stop))
				return NULL;
			yield_once(pe, pe->row);
		}
		atomic_store(&pe->sh->turn, 0);
	}
}

static void *serve_thread(void *p)
{
	struct peer *pe = p;

	exo_serve(pe->srv, pe->entry, echo, NULL);
	return NULL;
}

static const char *setup(struct bench_col *c)
{
	struct peer *pe = &peers[c->variant];
	int a[2], b[2];
	int ret;

	pe->sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pe->sh == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	c->priv = pe;
	switch (c->variant) {
	case C_EXO:
		ret = exo_open(&pe->cli);
		if (ret)
			return "no /dev/exo";
		if (!(exo_api(pe->cli)->features & EXO_FEAT_CALL))
			return "the module has no EXO_FEAT_CALL";
		pe->pid = fork();
		if (!pe->pid) {
			struct exo *srv;
			uint32_t entry;
			uint64_t cap;

			if (exo_open(&srv) || exo_entry_register(srv, &entry) ||
			    exo_call_grant(srv, entry,
					   exo_api(pe->cli)->ctx_id, &cap))
				_exit(1);
			atomic_store(&pe->sh->cap, cap);
			exo_serve(srv, entry, echo, NULL);
			_exit(1);
		}
		while (!atomic_load(&pe->sh->cap))
			usleep(1000);
		pe->cap = atomic_load(&pe->sh->cap);
		return NULL;
	case C_EXO_LOCAL:
		if (exo_open(&pe->cli) || exo_open(&pe->srv) ||
		    exo_entry_register(pe->srv, &pe->entry) ||
		    exo_call_grant(pe->srv, pe->entry,
				   exo_api(pe->cli)->ctx_id, &pe->cap))
			return "no /dev/exo";
		if (pthread_create(&pe->thread, NULL, serve_thread, pe))
			die("pthread_create");
		return NULL;
	case C_FUTEX:
		pe->pid = fork();
		if (!pe->pid)
			futex_answer(&pe->sh->futex, FUTEX_WAIT, FUTEX_WAKE);
		return NULL;
	case C_FUTEX_LOCAL:
	case C_YIELD_FUTEX:
		if (pthread_create(&pe->thread, NULL, futex_thread,
				   &pe->sh->futex))
			die("pthread_create");
		return NULL;
	case C_YIELD_EXO:
		if (exo_open(&pe->cli))
			return "no /dev/exo";
		if (!(exo_api(pe->cli)->features & EXO_FEAT_THREADS))
			return "the module has no EXO_FEAT_THREADS";
		pe->row = exo_thread_register(pe->cli, NULL);
		if (pe->row < 0)
			die("exo_thread_register: %s", strerror(-pe->row));
		/* fall through */
	case C_YIELD_SCHED:
		atomic_store(&pe->sh->peer_row, -2);
		if (pthread_create(&pe->thread, NULL, yield_thread, pe))
			die("pthread_create");
		while (atomic_load(&pe->sh->peer_row) == -2)
			usleep(1000);
		return NULL;
	case C_PIPE:
	case C_UNIX:
		if (c->variant == C_UNIX ?
		    socketpair(AF_UNIX, SOCK_STREAM, 0, a) :
		    pipe(a) || pipe(b))
			die("pipe: %s", strerror(errno));
		if (c->variant == C_UNIX) {
			b[0] = a[1];
			b[1] = a[1];
			pe->fd[0] = a[0];
			pe->fd[1] = a[0];
		} else {
			pe->fd[0] = b[0];
			pe->fd[1] = a[1];
		}
		pe->pid = fork();
		if (!pe->pid) {
			size_t len = c->variant == C_UNIX ? MSG : 1;
			int rfd = c->variant == C_UNIX ? a[1] : a[0];
			char buf[MSG];

			for (;;) {
				if (read(rfd, buf, len) != (ssize_t)len ||
				    write(b[1], buf, len) != (ssize_t)len)
					_exit(0);
			}
		}
		return NULL;
	}
	return "unknown column";
}

static void trial(struct bench_col *c, double out[BENCH_MAX_OUT])
{
	struct peer *pe = c->priv;
	size_t len = c->variant == C_UNIX ? MSG : 1;
	uint64_t w[EXO_CALL_WORDS] = { 0 };
	char buf[MSG] = { 0 };
	uint64_t t0 = bench_now();
	int i, ret;

	for (i = 0; i < BATCH; i++) {
		switch (c->variant) {
		case C_EXO:
		case C_EXO_LOCAL:
			w[0] = i;
			ret = exo_call(pe->cli, pe->cap, w);
			if (ret || w[0] != (uint64_t)i + 1)
				die("exo_call: %s, reply %llu", strerror(-ret),
				    (unsigned long long)w[0]);
			break;
		case C_FUTEX:
			futex_ask(&pe->sh->futex, FUTEX_WAIT, FUTEX_WAKE);
			break;
		case C_FUTEX_LOCAL:
		case C_YIELD_FUTEX:
			futex_ask(&pe->sh->futex, FUTEX_WAIT_PRIVATE,
				  FUTEX_WAKE_PRIVATE);
			break;
		case C_YIELD_EXO:
		case C_YIELD_SCHED:
			atomic_store(&pe->sh->turn, 1);
			while (atomic_load(&pe->sh->turn) != 0)
				yield_once(pe, atomic_load(&pe->sh->peer_row));
			break;
		default:
			if (write(pe->fd[1], buf, len) != (ssize_t)len ||
			    read(pe->fd[0], buf, len) != (ssize_t)len)
				die("ping-pong: %s", strerror(errno));
		}
	}
	out[0] = bench_since(t0) / BATCH;
}

static void teardown(struct bench_col *c)
{
	struct peer *pe = c->priv;

	if (pe->pid > 0) {
		kill(pe->pid, SIGKILL);
		waitpid(pe->pid, NULL, 0);
	}
	if (c->variant == C_YIELD_EXO || c->variant == C_YIELD_SCHED) {
		atomic_store(&pe->sh->stop, 1);
		pthread_join(pe->thread, NULL);
		exo_thread_unregister(pe->cli);
	}
	if (c->variant == C_EXO_LOCAL) {
		/* exo_serve() returns when its entry goes. */
		exo_entry_unregister(pe->srv, pe->entry);
		pthread_join(pe->thread, NULL);
	}
	exo_close(pe->cli);
	exo_close(pe->srv);
}

#define COL(name, v) { name, setup, trial, teardown, 0, v, NULL, NULL, { NULL } }

static struct bench_row rows[] = {
	{ { "CALL" }, 1, REPS, "a round trip to another process",
	  { COL("exo_call", C_EXO), COL("futex", C_FUTEX),
	    COL("pipe", C_PIPE), COL("unix", C_UNIX) } },
	{ { "CALL-1P" }, 1, REPS, "a round trip within one process",
	  { COL("exo_call", C_EXO_LOCAL), COL("futex", C_FUTEX_LOCAL) } },
	{ { "YIELD" }, 1, REPS, "a hand-off there and back between two threads",
	  { COL("exo_yield", C_YIELD_EXO), COL("sched_yield", C_YIELD_SCHED),
	    COL("futex", C_YIELD_FUTEX) } },
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
	printf("exo-call-bench: accelerator %s, kernel %s, %ld cpus, %s\n",
	       bench_accel(), u.release, sysconf(_SC_NPROCESSORS_ONLN), date);
	printf("# columns interleaved round by round; a sample is the mean of "
	       "%d round trips; ratio = exo median / first Linux column's "
	       "median\n", BATCH);
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
		bench_run(&rows[i], 3);
	}
	printf("exo-call-bench: OK\n");
	return 0;
}
