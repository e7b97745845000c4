// SPDX-License-Identifier: GPL-2.0
/*
 * The processor: registered threads and their rows of the thread table,
 * end-of-slice upcalls (on preemption and on a slice timer) that resume
 * the interrupted code exactly, directed yield inside a context and
 * through a call capability, and every way a registration ends: by the
 * thread, by closing the context from another thread, by the thread's
 * exit, by kill -9. The module's counters come back to baseline.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <limits.h>

#include <libexo.h>

#include "exo_util.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* What the slice handler saw, per test. */
static struct {
	_Atomic long upcalls;
	_Atomic long expired;
	_Atomic long preempted;
	_Atomic long bad;	/* a frame that was not a slice's */
	uint64_t cookie;
} sl;

static void on_slice(struct exo_upcall_frame *f, void *arg)
{
	sl.upcalls++;
	if ((f->fault & EXO_UPCALL_SLICE) != EXO_UPCALL_SLICE ||
	    (f->fault & ~(EXO_UPCALL_SLICE | EXO_SLICE_EXPIRED |
			  EXO_SLICE_PREEMPTED)) ||
	    f->size != sizeof(*f) || arg != &sl)
		sl.bad++;
	if (f->fault & EXO_SLICE_EXPIRED)
		sl.expired++;
	if (f->fault & EXO_SLICE_PREEMPTED)
		sl.preempted++;
}

FIXTURE(cpu) {
	struct exo *exo;
	struct exo_counters base;
};

FIXTURE_SETUP(cpu)
{
	exo_counters_read(&self->base);
	memset(&sl, 0, sizeof(sl));
	ASSERT_EQ(0, exo_open(&self->exo));
	if (!(exo_api(self->exo)->features & EXO_FEAT_THREADS))
		SKIP(return, "this kernel has no preempt notifiers");
}

FIXTURE_TEARDOWN(cpu)
{
	exo_thread_unregister(self->exo);
	exo_close(self->exo);
	exo_counters_expect_baseline(&self->base);
}

/* Registration, the row it gives, and the errors around it. */
TEST_F(cpu, register_and_row)
{
	struct exo_thread_opts bad = { .size = sizeof(bad) - 1 };
	struct exo_thread_opts slice = {
		.size = sizeof(slice),
		.slice_ns = EXO_THREAD_SLICE_MIN_NS - 1,
		.on_slice = on_slice,
	};
	struct exo_thread_info ti;
	int id;

	EXPECT_EQ(-ENOENT, exo_thread_info(self->exo, 0, &ti));
	EXPECT_EQ(-ENOENT, exo_thread_unregister(self->exo));
	EXPECT_EQ(-EINVAL, exo_thread_register(self->exo, &bad));
	EXPECT_EQ(-EINVAL, exo_thread_register(self->exo, &slice));
	slice.on_slice = NULL;
	slice.slice_ns = 1000000;
	EXPECT_EQ(-EINVAL, exo_thread_register(self->exo, &slice))
		TH_LOG("a slice without a handler");

	id = exo_thread_register(self->exo, NULL);
	ASSERT_EQ(0, id);
	EXPECT_EQ(-EEXIST, exo_thread_register(self->exo, NULL));
	ASSERT_EQ(0, exo_thread_info(self->exo, id, &ti));
	EXPECT_EQ(1U, ti.live);
	EXPECT_EQ((uint32_t)syscall(SYS_gettid), ti.tid);
	EXPECT_EQ(0U, ti.seq & 1);
	EXPECT_EQ(0ULL, ti.upcalls);
	EXPECT_EQ(-ERANGE, exo_thread_info(self->exo, EXO_THREADS_MAX, &ti));

	/* a sleep is a switch, not a preemption */
	usleep(20000);
	ASSERT_EQ(0, exo_thread_info(self->exo, id, &ti));
	EXPECT_LE(1ULL, ti.switches);
	EXPECT_LT(0ULL, ti.run_ns);

	EXPECT_EQ(0, exo_thread_unregister(self->exo));
	ASSERT_EQ(0, exo_thread_info(self->exo, id, &ti));
	EXPECT_EQ(0U, ti.live);
	EXPECT_EQ(-ENOENT, exo_thread_unregister(self->exo));
	/* the row is free again */
	EXPECT_EQ(id, exo_thread_register(self->exo, NULL));
}

struct spinner {
	struct exo *exo;
	int cpu;
	bool upcalls;
	_Atomic int stop;
	_Atomic int ready;
	int id;
	_Atomic long spins;
};

static void *spin_thread(void *p)
{
	struct spinner *s = p;
	struct exo_thread_opts o = {
		.size = sizeof(o),
		.on_slice = on_slice,
		.arg = &sl,
	};

	s->id = s->cpu >= 0 ? pin(s->cpu) : 0;
	if (!s->id)
		s->id = exo_thread_register(s->exo, s->upcalls ? &o : NULL);
	s->ready = 1;
	if (s->id < 0)
		return NULL;
	while (!s->stop)
		s->spins++;
	return NULL;
}

/*
 * Two threads spinning on one CPU: Linux preempts each, the rows count
 * it, and the thread that asked for upcalls enters its handler after its
 * preemptions and goes on where it was.
 */
TEST_F_TIMEOUT(cpu, preemption_visible, 60)
{
	struct spinner a = { .exo = self->exo, .cpu = 0, .upcalls = true };
	struct spinner b = { .exo = self->exo, .cpu = 0 };
	struct exo_thread_info ta, tb;
	pthread_t ta_t, tb_t;
	long end;

	ASSERT_EQ(0, pthread_create(&ta_t, NULL, spin_thread, &a));
	ASSERT_EQ(0, pthread_create(&tb_t, NULL, spin_thread, &b));
	while (!a.ready || !b.ready)
		usleep(1000);
	ASSERT_LE(0, a.id);
	ASSERT_LE(0, b.id);
	end = now_ms() + 10000;
	do {
		usleep(50000);
		ASSERT_EQ(0, exo_thread_info(self->exo, a.id, &ta));
		ASSERT_EQ(0, exo_thread_info(self->exo, b.id, &tb));
	} while ((ta.preempted < 3 || tb.preempted < 3 || sl.preempted < 3) &&
		 now_ms() < end);
	a.stop = b.stop = 1;
	pthread_join(ta_t, NULL);
	pthread_join(tb_t, NULL);
	/* the rows as the threads left them: after the last upcall */
	ASSERT_EQ(0, exo_thread_info(self->exo, a.id, &ta));

	EXPECT_LE(3ULL, ta.preempted);
	EXPECT_LE(3ULL, tb.preempted);
	EXPECT_EQ(0U, ta.cpu);
	EXPECT_EQ(0U, tb.cpu);
	EXPECT_LE(3, sl.preempted) TH_LOG("upcalls after preemption");
	EXPECT_EQ(0, sl.expired) TH_LOG("no slice was asked for");
	EXPECT_EQ(0, sl.bad);
	EXPECT_EQ(0ULL, tb.upcalls);
	EXPECT_LE((uint64_t)sl.preempted, ta.upcalls + 1);
	EXPECT_LT(0, a.spins);
	EXPECT_LT(0, b.spins);
}

/*
 * A slice timer: an upcall each time the thread has run slice_ns, in the
 * middle of a computation that must come out exact (general and SSE
 * registers restored by the entry).
 */
TEST_F_TIMEOUT(cpu, slice_timer_resumes_exactly, 60)
{
	struct exo_thread_opts o = {
		.size = sizeof(o),
		.slice_ns = 2000000,
		.on_slice = on_slice,
		.arg = &sl,
	};
	volatile double acc = 0;
	uint64_t x = 1, start;
	double want = 0;
	long i, n = 0;
	int id;

	id = exo_thread_register(self->exo, &o);
	ASSERT_LE(0, id);
	start = thread_cpu_ns();
	/* at least 200 ms of CPU time: about 100 slices */
	while (thread_cpu_ns() - start < 200000000ull) {
		for (i = 0; i < 100000; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			acc += (double)(x >> 40) * 0.5;
		}
		n++;
	}
	EXPECT_EQ(0, exo_thread_unregister(self->exo));
	/* the same computation again, with no upcalls */
	x = 1;
	for (; n > 0; n--)
		for (i = 0; i < 100000; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			want += (double)(x >> 40) * 0.5;
		}
	EXPECT_EQ(want, acc);
	EXPECT_LE(20, sl.expired) TH_LOG("%ld slice upcalls in 200 ms",
					 (long)sl.expired);
	EXPECT_EQ(0, sl.bad);
}

/* Not yet registered (a registration that failed is a -errno). */
#define NO_ROW	INT_MIN

struct pingpong {
	struct exo *exo;
	uint64_t cap;		/* for the other thread's context, or 0 */
	int rounds;
	_Atomic int *turn;	/* whose turn: 0 or 1 */
	int me;
	_Atomic int *ids;	/* both rows */
	long yielded, again, errors;
};

static void *pingpong_thread(void *p)
{
	struct pingpong *pp = p;
	int i, rc;

	rc = pin(0);
	pp->ids[pp->me] = rc ? rc : exo_thread_register(pp->exo, NULL);
	while (pp->ids[!pp->me] == NO_ROW)
		sched_yield();
	if (pp->ids[0] < 0 || pp->ids[1] < 0) {
		pp->errors++;
		return NULL;
	}
	for (i = 0; i < pp->rounds; i++) {
		while (*pp->turn != pp->me) {
			rc = exo_yield(pp->exo, pp->cap, pp->ids[!pp->me]);
			if (!rc)
				pp->yielded++;
			else if (rc == -EAGAIN)
				pp->again++;
			else
				pp->errors++;
		}
		*pp->turn = !pp->me;
	}
	exo_thread_unregister(pp->exo);
	return NULL;
}

/* Two threads of one context on one CPU hand the processor back and forth. */
TEST_F_TIMEOUT(cpu, yield_pingpong, 120)
{
	_Atomic int turn = 0, ids[2] = { NO_ROW, NO_ROW };
	struct pingpong p0 = {
		.exo = self->exo, .rounds = 500, .turn = &turn, .me = 0,
		.ids = ids,
	};
	struct pingpong p1 = p0;
	pthread_t t0, t1;

	p1.me = 1;
	ASSERT_EQ(0, pthread_create(&t0, NULL, pingpong_thread, &p0));
	ASSERT_EQ(0, pthread_create(&t1, NULL, pingpong_thread, &p1));
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	EXPECT_EQ(1, turn == 0 || turn == 1);
	EXPECT_EQ(0, p0.errors);
	EXPECT_EQ(0, p1.errors);
	EXPECT_LE(400, p0.yielded + p1.yielded)
		TH_LOG("yielded %ld + %ld, EAGAIN %ld + %ld", p0.yielded,
		       p1.yielded, p0.again, p1.again);
}

struct sleeper {
	struct exo *exo;
	int fd;			/* blocks reading it */
	_Atomic int ready;
	int id;
};

static void *sleeper(void *p)
{
	struct sleeper *s = p;
	char c;

	s->id = exo_thread_register(s->exo, NULL);
	s->ready = 1;
	if (read(s->fd, &c, 1) != 1)
		s->id = -EIO;
	return NULL;
}

/* A blocked thread cannot take the processor; an exited one is gone. */
TEST_F(cpu, yield_to_sleeping_and_exited)
{
	struct sleeper s = { .exo = self->exo };
	int rc, i, p[2];
	pthread_t t;

	ASSERT_EQ(0, pipe(p));
	s.fd = p[0];
	ASSERT_EQ(0, pthread_create(&t, NULL, sleeper, &s));
	while (!s.ready)
		usleep(1000);
	ASSERT_LE(0, s.id);
	/* until it is asleep in read(2): then it cannot run */
	for (i = 0, rc = 0; i < 1000 && rc != -EAGAIN; i++)
		rc = exo_yield(self->exo, 0, s.id);
	EXPECT_EQ(-EAGAIN, rc);
	EXPECT_EQ(-EAGAIN, exo_yield(self->exo, 0, s.id));
	ASSERT_EQ(1, write(p[1], "x", 1));
	pthread_join(t, NULL);
	EXPECT_LE(0, s.id);
	/* it exited registered: its row stays, it cannot run */
	EXPECT_EQ(-ESRCH, exo_yield(self->exo, 0, s.id));
	close(p[0]);
	close(p[1]);
}

/*
 * Through a call capability: the client yields to a thread of the
 * server's context; without the capability, or once it is revoked, it
 * cannot name that context at all.
 */
TEST_F_TIMEOUT(cpu, yield_with_call_capability, 60)
{
	struct spinner s = { .cpu = 0 };
	struct exo *srv;
	uint32_t entry;
	uint64_t cap;
	pthread_t t;
	int rc, i, ok = 0;

	ASSERT_EQ(0, exo_open(&srv));
	s.exo = srv;
	ASSERT_EQ(0, exo_entry_register(srv, &entry));
	ASSERT_EQ(0, exo_call_grant(srv, entry, exo_api(self->exo)->ctx_id,
				    &cap));
	ASSERT_EQ(0, pthread_create(&t, NULL, spin_thread, &s));
	while (!s.ready)
		usleep(1000);
	ASSERT_LE(0, s.id);
	ASSERT_EQ(0, pin(0));
	for (i = 0; i < 200; i++) {
		rc = exo_yield(self->exo, cap, s.id);
		if (!rc)
			ok++;
		else
			EXPECT_EQ(-EAGAIN, rc);
	}
	EXPECT_LT(0, ok);
	/* the client's own context has no such thread */
	EXPECT_EQ(-ESRCH, exo_yield(self->exo, 0, s.id));
	EXPECT_EQ(-ENOENT, exo_yield(self->exo, cap + 1, s.id));
	ASSERT_EQ(0, exo_call_revoke(srv, entry, exo_api(self->exo)->ctx_id,
				     cap));
	EXPECT_EQ(-ENOENT, exo_yield(self->exo, cap, s.id));
	s.stop = 1;
	pthread_join(t, NULL);
	exo_close(srv);
}

/*
 * Closing the context from another thread while registered threads spin
 * with upcalls on: the rows go at once, each thread lets go of its
 * registration on its own way back to user mode, and nothing leaks.
 */
TEST_F_TIMEOUT(cpu, close_while_registered, 60)
{
	struct spinner s[3] = {
		{ .cpu = 0, .upcalls = true },
		{ .cpu = 1, .upcalls = true },
		{ .cpu = 0 },
	};
	struct exo *e;
	pthread_t t[3];
	int i;

	ASSERT_EQ(0, exo_open(&e));
	for (i = 0; i < 3; i++) {
		s[i].exo = e;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, spin_thread, &s[i]));
	}
	for (i = 0; i < 3; i++) {
		while (!s[i].ready)
			usleep(1000);
		ASSERT_LE(0, s[i].id);
	}
	usleep(100000);
	exo_close(e);
	usleep(100000);
	for (i = 0; i < 3; i++)
		s[i].stop = 1;
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
}

/* Threads that exit registered are reaped when the context closes. */
TEST_F(cpu, exit_while_registered)
{
	struct spinner s[4];
	struct exo *e;
	pthread_t t;
	int i;

	ASSERT_EQ(0, exo_open(&e));
	for (i = 0; i < 4; i++) {
		s[i] = (struct spinner){ .exo = e, .cpu = -1,
					 .upcalls = i & 1, .stop = 1 };
		ASSERT_EQ(0, pthread_create(&t, NULL, spin_thread, &s[i]));
		pthread_join(t, NULL);
		EXPECT_LE(0, s[i].id);
	}
	exo_close(e);
}

/*
 * A full table: rows of threads that exited are taken back for new ones;
 * live ones are not (ENOSPC).
 */
TEST_F_TIMEOUT(cpu, full_table, 60)
{
	struct spinner s;
	pthread_t t;
	int i;

	for (i = 0; i < EXO_THREADS_MAX + 5; i++) {
		s = (struct spinner){ .exo = self->exo, .cpu = -1, .stop = 1 };
		ASSERT_EQ(0, pthread_create(&t, NULL, spin_thread, &s));
		pthread_join(t, NULL);
		ASSERT_LE(0, s.id) TH_LOG("registration %d: %d", i, s.id);
	}
}

/* kill -9 of a process whose threads take upcalls: nothing leaks. */
TEST_F_TIMEOUT(cpu, kill_with_upcalls, 60)
{
	pid_t pid;
	int i;

	for (i = 0; i < 3; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			struct spinner s[2] = {
				{ .cpu = 0, .upcalls = true },
				{ .cpu = 0, .upcalls = true },
			};
			struct exo *e;
			pthread_t t[2];
			int j;

			if (exo_open(&e))
				_exit(1);
			for (j = 0; j < 2; j++) {
				s[j].exo = e;
				pthread_create(&t[j], NULL, spin_thread, &s[j]);
			}
			for (;;)
				pause();
		}
		usleep(100000 + i * 50000);
		kill(pid, SIGKILL);
		exo_wait(pid);
	}
}

TEST_HARNESS_MAIN
