// SPDX-License-Identifier: GPL-2.0
/*
 * libexo's user-level threads: create, yield and join in an exact order;
 * a hundred uthreads and a checksum; directed yield; wait queues; the
 * errors; and preemption, by the CPU-time timer's signal and by exo's
 * end-of-slice upcall: a uthread that spins without yielding is preempted
 * so that another makes progress, preempt_disable() holds that off, and
 * floating-point state (registers, rounding mode) survives it. Uthreads
 * record what they see; the assertions run outside them.
 */
#include <fenv.h>
#include <pthread.h>
#include <time.h>

#include <libexo.h>

#include "exo_util.h"

#define SPIN_LIMIT_NS	(10ull * 1000000000ull)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* --- ordering ----------------------------------------------------------- */

static char order_log[64];
static int order_n;

static void *order_fn(void *arg)
{
	char c = (char)(uintptr_t)arg;
	int i;

	for (i = 0; i < 3; i++) {
		order_log[order_n++] = c;
		exo_uthread_yield();
	}
	return (void *)(uintptr_t)(c + 100);
}

TEST(create_yield_join_order)
{
	struct exo_uthread *t[3];
	void *ret;
	int i;

	order_n = 0;
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, exo_uthread_create(&t[i], order_fn,
						(void *)(uintptr_t)('A' + i),
						NULL));
	ASSERT_EQ(NULL, exo_uthread_self());
	ASSERT_EQ(0, exo_uthread_run(NULL));
	order_log[order_n] = 0;
	ASSERT_STREQ("ABCABCABC", order_log);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, exo_uthread_join(t[i], &ret));
		ASSERT_EQ('A' + i + 100, (int)(uintptr_t)ret);
	}
}

/* A uthread that joins another waits for it, and gets its exit value. */
static struct exo_uthread *join_target;
static void *join_got;

static void *exit_fn(void *arg)
{
	order_log[order_n++] = 'e';
	exo_uthread_yield();
	order_log[order_n++] = 'E';
	exo_uthread_exit(arg);
	order_log[order_n++] = '!';	/* never */
	return NULL;
}

static void *joiner_fn(void *arg)
{
	(void)arg;
	order_log[order_n++] = 'j';
	exo_uthread_join(join_target, &join_got);
	order_log[order_n++] = 'J';
	return NULL;
}

TEST(join_waits_for_exit)
{
	struct exo_uthread *j;

	order_n = 0;
	ASSERT_EQ(0, exo_uthread_create(&j, joiner_fn, NULL, NULL));
	ASSERT_EQ(0, exo_uthread_create(&join_target, exit_fn,
					(void *)0x1234, NULL));
	ASSERT_EQ(0, exo_uthread_run(NULL));
	order_log[order_n] = 0;
	ASSERT_STREQ("jeEJ", order_log);
	ASSERT_EQ((void *)0x1234, join_got);
	ASSERT_EQ(0, exo_uthread_join(j, NULL));
}

/* --- many --------------------------------------------------------------- */

#define MANY		100
#define MANY_ROUNDS	50

static uint64_t many_total;
static uint64_t many_own[MANY];

static void *many_fn(void *arg)
{
	uintptr_t i = (uintptr_t)arg;
	int r;

	for (r = 0; r < MANY_ROUNDS; r++) {
		many_total += i + 1;
		many_own[i]++;
		if (exo_uthread_yield())
			return NULL;
	}
	return (void *)(i * 7 + 1);
}

TEST(hundred_uthreads_checksum)
{
	struct exo_uthread *t[MANY];
	struct exo_uthread_stats st;
	uint64_t sum = 0;
	void *ret;
	int i;

	many_total = 0;
	memset(many_own, 0, sizeof(many_own));
	for (i = 0; i < MANY; i++) {
		/* Half on default stacks, half on the smallest. */
		EXO_UTHREAD_CREATE_OPTS(o, .stack_size = (i & 1) ?
					EXO_UTHREAD_STACK_MIN : 0);
		ASSERT_EQ(0, exo_uthread_create(&t[i], many_fn,
						(void *)(uintptr_t)i, &o));
	}
	ASSERT_EQ(0, exo_uthread_run(NULL));
	for (i = 0; i < MANY; i++) {
		ASSERT_EQ((uint64_t)MANY_ROUNDS, many_own[i]);
		ASSERT_EQ(0, exo_uthread_join(t[i], &ret));
		ASSERT_EQ((uintptr_t)i * 7 + 1, (uintptr_t)ret);
		sum += (uint64_t)(i + 1) * MANY_ROUNDS;
	}
	ASSERT_EQ(sum, many_total);
	ASSERT_EQ(0, exo_uthread_stats(&st));
	ASSERT_GE(st.yields, (uint64_t)MANY * MANY_ROUNDS);
}

/* Detached uthreads, some on a stack the caller provides. */
static int detached_ran;

static void *detached_fn(void *arg)
{
	(void)arg;
	exo_uthread_yield();
	detached_ran++;
	return NULL;
}

TEST(detached_and_caller_stacks)
{
	static char stacks[4][EXO_UTHREAD_STACK_MIN] __attribute__((aligned(64)));
	struct exo_uthread *t;
	int i;

	detached_ran = 0;
	for (i = 0; i < 8; i++) {
		EXO_UTHREAD_CREATE_OPTS(o, .flags = EXO_UTHREAD_DETACHED);
		if (i < 4) {
			o.stack = stacks[i];
			o.stack_size = sizeof(stacks[i]);
		}
		ASSERT_EQ(0, exo_uthread_create(&t, detached_fn, NULL, &o));
	}
	ASSERT_EQ(-EINVAL, exo_uthread_join(t, NULL));	/* detached */
	ASSERT_EQ(0, exo_uthread_run(NULL));
	ASSERT_EQ(8, detached_ran);
}

/* --- directed yield ----------------------------------------------------- */

static struct exo_uthread *yt[3];
static int yield_to_ret[4];

static void *yt_fn(void *arg)
{
	uintptr_t i = (uintptr_t)arg;

	order_log[order_n++] = 'a' + i;
	if (i == 0) {
		/* Skip b: straight to c, which runs before b. */
		yield_to_ret[0] = exo_uthread_yield_to(yt[2]);
		order_log[order_n++] = 'A';
	} else if (i == 2) {
		yield_to_ret[1] = exo_uthread_yield_to(yt[0]);
		order_log[order_n++] = 'C';
		yield_to_ret[2] = exo_uthread_yield_to(yt[2]);	/* self */
	}
	return NULL;
}

TEST(yield_to)
{
	int i;

	order_n = 0;
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, exo_uthread_create(&yt[i], yt_fn,
						(void *)(uintptr_t)i, NULL));
	ASSERT_EQ(0, exo_uthread_run(NULL));
	order_log[order_n] = 0;
	/* a → c (directed) → a (directed) → then the queue: b, c. */
	ASSERT_STREQ("acAbC", order_log);
	ASSERT_EQ(0, yield_to_ret[0]);
	ASSERT_EQ(0, yield_to_ret[1]);
	ASSERT_EQ(-EINVAL, yield_to_ret[2]);
	/* Only a uthread yields. */
	ASSERT_EQ(-EPERM, exo_uthread_yield_to(yt[0]));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, exo_uthread_join(yt[i], NULL));
}

static struct exo_uthread *esrch_target;
static int esrch_ret, eagain_ret;
static struct exo_uthread_waitq idle_wq = EXO_UTHREAD_WAITQ_INIT;

static void *quick_fn(void *arg)
{
	(void)arg;
	return NULL;
}

static void *idle_fn(void *arg)
{
	(void)arg;
	exo_uthread_wait(&idle_wq);
	return NULL;
}

static void *yt_err_fn(void *arg)
{
	struct exo_uthread *idle = arg;

	exo_uthread_yield();		/* quick_fn exits, idle waits */
	esrch_ret = exo_uthread_yield_to(esrch_target);
	eagain_ret = exo_uthread_yield_to(idle);
	exo_uthread_wake(&idle_wq, 1);
	return NULL;
}

TEST(yield_to_errors)
{
	struct exo_uthread *a, *idle;

	ASSERT_EQ(0, exo_uthread_create(&idle, idle_fn, NULL, NULL));
	ASSERT_EQ(0, exo_uthread_create(&esrch_target, quick_fn, NULL, NULL));
	ASSERT_EQ(0, exo_uthread_create(&a, yt_err_fn, idle, NULL));
	ASSERT_EQ(0, exo_uthread_run(NULL));
	ASSERT_EQ(-ESRCH, esrch_ret);
	ASSERT_EQ(-EAGAIN, eagain_ret);
	ASSERT_EQ(0, exo_uthread_join(a, NULL));
	ASSERT_EQ(0, exo_uthread_join(idle, NULL));
	ASSERT_EQ(0, exo_uthread_join(esrch_target, NULL));
}

/* --- wait queues -------------------------------------------------------- */

static struct exo_uthread_waitq wq = EXO_UTHREAD_WAITQ_INIT;
static int items, consumed, wake_ret[3];

/* Takes two items, waiting while there are none. */
static void *consumer_fn(void *arg)
{
	char c = (char)(uintptr_t)arg;
	int n;

	for (n = 0; n < 2; n++) {
		/* No preemption between the test and the wait. */
		exo_uthread_preempt_disable();
		while (!items) {
			order_log[order_n++] = c;
			if (exo_uthread_wait(&wq))
				return (void *)1;
		}
		items--;
		consumed++;
		exo_uthread_preempt_enable();
		if (n == 0)
			exo_uthread_yield();
	}
	return NULL;
}

static void *producer_fn(void *arg)
{
	(void)arg;
	order_log[order_n++] = 'P';
	items = 2;
	wake_ret[0] = exo_uthread_wake(&wq, 1);		/* 1 of 2 */
	wake_ret[1] = exo_uthread_wake(&wq, INT32_MAX);	/* the other */
	order_log[order_n++] = 'p';
	exo_uthread_yield();
	exo_uthread_yield();
	items = 2;
	order_log[order_n++] = 'Q';
	wake_ret[2] = exo_uthread_wake(&wq, INT32_MAX);
	return NULL;
}

TEST(wait_and_wake)
{
	struct exo_uthread *c1, *c2, *p;
	void *r1, *r2;

	order_n = 0;
	items = consumed = 0;
	ASSERT_EQ(0, exo_uthread_create(&c1, consumer_fn, (void *)'1', NULL));
	ASSERT_EQ(0, exo_uthread_create(&c2, consumer_fn, (void *)'2', NULL));
	ASSERT_EQ(0, exo_uthread_create(&p, producer_fn, NULL, NULL));
	ASSERT_EQ(0, exo_uthread_wake(&wq, 1));		/* nobody waits */
	ASSERT_EQ(0, exo_uthread_run(NULL));
	order_log[order_n] = 0;
	/*
	 * 1 and 2 wait; P makes 2 items, wakes both; 1 and 2 take one each
	 * and yield; both find none and wait; Q makes 2 more and wakes them.
	 */
	ASSERT_STREQ("12Pp12Q", order_log);
	ASSERT_EQ(1, wake_ret[0]);
	ASSERT_EQ(1, wake_ret[1]);
	ASSERT_EQ(2, wake_ret[2]);
	ASSERT_EQ(4, consumed);
	ASSERT_EQ(0, exo_uthread_join(c1, &r1));
	ASSERT_EQ(0, exo_uthread_join(c2, &r2));
	ASSERT_EQ(NULL, (void *)((uintptr_t)r1 | (uintptr_t)r2));
	ASSERT_EQ(0, exo_uthread_join(p, NULL));
}

/* Everything left waits: run() says so, and a wake lets it finish. */
TEST(all_waiting_is_a_deadlock)
{
	struct exo_uthread *t;

	ASSERT_EQ(0, exo_uthread_create(&t, idle_fn, NULL, NULL));
	ASSERT_EQ(-EDEADLK, exo_uthread_run(NULL));
	ASSERT_EQ(-EBUSY, exo_uthread_join(t, NULL));
	ASSERT_EQ(1, exo_uthread_wake(&idle_wq, 1));
	ASSERT_EQ(0, exo_uthread_run(NULL));
	ASSERT_EQ(0, exo_uthread_join(t, NULL));
}

/* --- errors ------------------------------------------------------------- */

static int inner_errs[8];
static struct exo_uthread *peer;

static void *cycle_fn(void *arg)
{
	/* peer joins us first (it ran first); joining it back is a cycle. */
	(void)arg;
	inner_errs[2] = exo_uthread_join(peer, NULL);
	return NULL;
}

static void *errs_fn(void *arg)
{
	struct exo_uthread *other = arg;

	inner_errs[0] = exo_uthread_join(exo_uthread_self(), NULL);
	inner_errs[1] = exo_uthread_run(NULL);
	inner_errs[3] = exo_uthread_join(other, NULL);	/* waits for it */
	return NULL;
}

TEST(errors)
{
	struct exo_uthread *t = NULL, *o2;
	struct exo_uthread_waitq q = EXO_UTHREAD_WAITQ_INIT;
	struct {
		struct exo_uthread_create_opts o;
		uint64_t extra;
	} big = { .o = { .sz = sizeof(big) }, .extra = 1 };
	EXO_UTHREAD_CREATE_OPTS(small, .stack_size = EXO_UTHREAD_STACK_MIN - 1);
	EXO_UTHREAD_CREATE_OPTS(flags, .flags = 0x80);
	struct exo_uthread_create_opts zero = { .sz = 0 };
	EXO_UTHREAD_OPTS(bad_preempt, .preempt = 7);
	EXO_UTHREAD_OPTS(bad_sig, .preempt = EXO_UTHREAD_PREEMPT_SIGNAL,
			 .signo = SIGKILL);
	EXO_UTHREAD_OPTS(no_exo, .preempt = EXO_UTHREAD_PREEMPT_UPCALL);
	struct exo_uthread_opts run_zero = { .sz = 0 };

	ASSERT_EQ(-EINVAL, exo_uthread_create(NULL, quick_fn, NULL, NULL));
	ASSERT_EQ(-EINVAL, exo_uthread_create(&t, NULL, NULL, NULL));
	ASSERT_EQ(-EINVAL, exo_uthread_create(&t, quick_fn, NULL, &zero));
	ASSERT_EQ(-E2BIG, exo_uthread_create(&t, quick_fn, NULL, &big.o));
	ASSERT_EQ(-EINVAL, exo_uthread_create(&t, quick_fn, NULL, &small));
	ASSERT_EQ(-EINVAL, exo_uthread_create(&t, quick_fn, NULL, &flags));
	ASSERT_EQ(NULL, t);
	ASSERT_EQ(-EINVAL, exo_uthread_run(&run_zero));
	ASSERT_EQ(-EINVAL, exo_uthread_run(&bad_preempt));
	ASSERT_EQ(-EINVAL, exo_uthread_run(&bad_sig));
	ASSERT_EQ(-EINVAL, exo_uthread_run(&no_exo));
	/* Outside a uthread. */
	ASSERT_EQ(-EPERM, exo_uthread_yield());
	ASSERT_EQ(-EPERM, exo_uthread_exit(NULL));
	ASSERT_EQ(-EPERM, exo_uthread_wait(&q));
	ASSERT_EQ(-EINVAL, exo_uthread_wait(NULL));
	ASSERT_EQ(-EINVAL, exo_uthread_wake(&q, 0));
	ASSERT_EQ(-EINVAL, exo_uthread_wake(NULL, 1));
	ASSERT_EQ(-EINVAL, exo_uthread_yield_to(NULL));
	ASSERT_EQ(-EINVAL, exo_uthread_join(NULL, NULL));
	ASSERT_EQ(-EINVAL, exo_uthread_stats(NULL));

	/* Inside: self-join, nested run, a join cycle. */
	ASSERT_EQ(0, exo_uthread_create(&o2, cycle_fn, NULL, NULL));
	ASSERT_EQ(0, exo_uthread_create(&t, errs_fn, o2, NULL));
	peer = t;
	ASSERT_EQ(0, exo_uthread_run(NULL));
	ASSERT_EQ(-EDEADLK, inner_errs[0]);
	ASSERT_EQ(-EBUSY, inner_errs[1]);
	/* o2 ran first and waits joining t: t joining o2 is a cycle. */
	ASSERT_EQ(-EDEADLK, inner_errs[3]);
	ASSERT_EQ(0, inner_errs[2]);
	ASSERT_EQ(0, exo_uthread_join(o2, NULL));
}

/* --- preemption --------------------------------------------------------- */

static volatile int spin_stop;
static volatile uint64_t spin_count, worker_count;
static volatile int spin_timed_out;

/* Never yields: only preemption lets anything else run. */
static void *spinner_fn(void *arg)
{
	uint64_t end = now_ns() + SPIN_LIMIT_NS;

	(void)arg;
	while (!spin_stop) {
		spin_count++;
		if (!(spin_count & 0xfff) && now_ns() > end) {
			spin_timed_out = 1;
			break;
		}
	}
	return NULL;
}

static void *worker_fn(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 5; i++) {
		worker_count++;
		exo_uthread_yield();
	}
	spin_stop = 1;
	return NULL;
}

static void run_preempt_spinner(struct __test_metadata *_metadata,
				const struct exo_uthread_opts *o)
{
	struct exo_uthread *s, *w;
	struct exo_uthread_stats a, b;

	spin_stop = 0;
	spin_count = worker_count = 0;
	spin_timed_out = 0;
	ASSERT_EQ(0, exo_uthread_stats(&a));
	ASSERT_EQ(0, exo_uthread_create(&s, spinner_fn, NULL, NULL));
	ASSERT_EQ(0, exo_uthread_create(&w, worker_fn, NULL, NULL));
	ASSERT_EQ(0, exo_uthread_run(o));
	ASSERT_EQ(0, exo_uthread_stats(&b));
	ASSERT_EQ(0, spin_timed_out);
	ASSERT_EQ(5u, worker_count);
	ASSERT_GT(spin_count, 0u);
	ASSERT_GE(b.preempts - a.preempts, 5u);
	ASSERT_EQ(0, exo_uthread_join(s, NULL));
	ASSERT_EQ(0, exo_uthread_join(w, NULL));
}

TEST(preempt_signal_spinner)
{
	EXO_UTHREAD_OPTS(o, .preempt = EXO_UTHREAD_PREEMPT_SIGNAL,
			 .slice_ns = 2000000);

	struct sigaction sa;

	run_preempt_spinner(_metadata, &o);
	/* The handler is gone once run() returns. */
	ASSERT_EQ(0, sigaction(SIGVTALRM, NULL, &sa));
	ASSERT_EQ(SIG_DFL, sa.sa_handler);
}

TEST(preempt_upcall_spinner)
{
	EXO_UTHREAD_OPTS(o, .preempt = EXO_UTHREAD_PREEMPT_UPCALL,
			 .slice_ns = 2000000);
	struct exo *exo;

	ASSERT_EQ(0, exo_open(&exo));
	o.exo = exo;
	run_preempt_spinner(_metadata, &o);
	/* The registration ended with run(): the thread can register again. */
	ASSERT_LE(0, exo_thread_register(exo, NULL));
	ASSERT_EQ(0, exo_thread_unregister(exo));
	exo_close(exo);
}

/*
 * A library OS that registers the kernel thread itself, with
 * exo_uthread_on_slice() as its handler, gets the same preemption with
 * run() asked for none.
 */
TEST(preempt_upcall_registered_by_caller)
{
	struct exo_thread_opts to = {
		.size = sizeof(to),
		.slice_ns = 2000000,
		.on_slice = exo_uthread_on_slice,
	};
	struct exo *exo;

	ASSERT_EQ(0, exo_open(&exo));
	ASSERT_LE(0, exo_thread_register(exo, &to));
	run_preempt_spinner(_metadata, NULL);
	/* run() with the upcall too: the thread is registered already. */
	{
		EXO_UTHREAD_OPTS(o, .preempt = EXO_UTHREAD_PREEMPT_UPCALL);

		o.exo = exo;
		ASSERT_EQ(-EEXIST, exo_uthread_run(&o));
	}
	ASSERT_EQ(0, exo_thread_unregister(exo));
	exo_close(exo);
}

/* errno belongs to each uthread, preempted or not. */
static volatile int errno_bad, errno_done;

static void *errno_fn(void *arg)
{
	int mine = (int)(uintptr_t)arg, i;
	uint64_t end = now_ns() + SPIN_LIMIT_NS;

	errno = mine;
	for (i = 0; i < 4 && now_ns() < end; ) {
		uint64_t start = cpu_ns();

		/* Spin a few slices, checking errno all the while. */
		while (cpu_ns() - start < 6000000)
			if (errno != mine)
				errno_bad = 1;
		i++;
		exo_uthread_yield();
		if (errno != mine)
			errno_bad = 1;
	}
	errno_done++;
	return NULL;
}

TEST(errno_per_uthread)
{
	EXO_UTHREAD_OPTS(o, .preempt = EXO_UTHREAD_PREEMPT_SIGNAL,
			 .slice_ns = 2000000);
	struct exo_uthread *t[2];
	struct exo_uthread_stats a, b;

	errno_bad = errno_done = 0;
	errno = EIO;
	ASSERT_EQ(0, exo_uthread_stats(&a));
	ASSERT_EQ(0, exo_uthread_create(&t[0], errno_fn, (void *)EPIPE, NULL));
	ASSERT_EQ(0, exo_uthread_create(&t[1], errno_fn, (void *)ENOENT,
					NULL));
	errno = EIO;
	ASSERT_EQ(0, exo_uthread_run(&o));
	ASSERT_EQ(EIO, errno);
	ASSERT_EQ(0, exo_uthread_stats(&b));
	ASSERT_EQ(2, errno_done);
	ASSERT_EQ(0, errno_bad);
	ASSERT_GT(b.preempts - a.preempts, 0u);
	ASSERT_EQ(0, exo_uthread_join(t[0], NULL));
	ASSERT_EQ(0, exo_uthread_join(t[1], NULL));
}

/* preempt_disable(): the holder runs its whole section, then yields. */
static volatile int in_section, section_violated, section_done;
static volatile uint64_t section_cpu_ns;

static void *section_fn(void *arg)
{
	uint64_t start, wstart, end = now_ns() + SPIN_LIMIT_NS;

	(void)arg;
	exo_uthread_preempt_disable();
	in_section = 1;
	wstart = worker_count;
	start = cpu_ns();
	/* Several slices' worth of CPU time. */
	while (cpu_ns() - start < section_cpu_ns && now_ns() < end)
		;
	if (worker_count != wstart)
		section_violated = 1;
	in_section = 0;
	section_done = 1;
	exo_uthread_preempt_enable();
	/* Now spin until the worker is done: preemption is back. */
	while (!spin_stop && now_ns() < end)
		;
	if (!spin_stop)
		spin_timed_out = 1;
	return NULL;
}

static void *section_worker_fn(void *arg)
{
	(void)arg;
	while (!section_done) {
		if (in_section)
			section_violated = 1;
		worker_count++;
		exo_uthread_yield();
	}
	spin_stop = 1;
	return NULL;
}

static void run_section(struct __test_metadata *_metadata,
			const struct exo_uthread_opts *o)
{
	struct exo_uthread *s, *w;
	struct exo_uthread_stats a, b;

	in_section = section_violated = section_done = 0;
	spin_stop = spin_timed_out = 0;
	worker_count = 0;
	section_cpu_ns = 10 * o->slice_ns;
	ASSERT_EQ(0, exo_uthread_stats(&a));
	ASSERT_EQ(0, exo_uthread_create(&s, section_fn, NULL, NULL));
	ASSERT_EQ(0, exo_uthread_create(&w, section_worker_fn, NULL, NULL));
	ASSERT_EQ(0, exo_uthread_run(o));
	ASSERT_EQ(0, exo_uthread_stats(&b));
	ASSERT_EQ(0, section_violated);
	ASSERT_EQ(0, spin_timed_out);
	ASSERT_GT(b.deferred - a.deferred, 0u);
	ASSERT_GT(b.preempts - a.preempts, 0u);
	ASSERT_EQ(0, exo_uthread_join(s, NULL));
	ASSERT_EQ(0, exo_uthread_join(w, NULL));
}

TEST(preempt_disable_signal)
{
	EXO_UTHREAD_OPTS(o, .preempt = EXO_UTHREAD_PREEMPT_SIGNAL,
			 .slice_ns = 2000000);

	run_section(_metadata, &o);
}

TEST(preempt_disable_upcall)
{
	EXO_UTHREAD_OPTS(o, .preempt = EXO_UTHREAD_PREEMPT_UPCALL,
			 .slice_ns = 2000000);
	struct exo *exo;

	ASSERT_EQ(0, exo_open(&exo));
	o.exo = exo;
	run_section(_metadata, &o);
	exo_close(exo);
}

/*
 * Floating point across preemption: two uthreads in opposite rounding
 * modes compute the same series, which spans many slices; each result
 * must equal, bit for bit, the one computed without interruption.
 */
#define FP_TERMS	3000000

static double fp_series(void)
{
	volatile double x = 0;
	double acc = 0, v[4] = { 1, 1, 1, 1 };
	int i;

	for (i = 1; i <= FP_TERMS; i++) {
		acc += 1.0 / i;
		v[i & 3] = v[i & 3] * 1.0000001 + acc * 1e-9;
		x = (acc + v[(i + 1) & 3]) / (x + 3.0);
	}
	return acc + v[0] + v[1] + v[2] + v[3] + x;
}

static double fp_result[2];
static int fp_mode_lost[2];

static void *fp_fn(void *arg)
{
	uintptr_t i = (uintptr_t)arg;
	int mode = i ? FE_UPWARD : FE_DOWNWARD;

	fesetround(mode);
	fp_result[i] = fp_series();
	exo_uthread_yield();	/* the rounding mode survives a yield too */
	fp_mode_lost[i] = fegetround() != mode;
	fesetround(FE_TONEAREST);
	return NULL;
}

static void run_fp(struct __test_metadata *_metadata,
		   const struct exo_uthread_opts *o)
{
	struct exo_uthread *t[2];
	struct exo_uthread_stats a, b;
	double want[2];

	fesetround(FE_DOWNWARD);
	want[0] = fp_series();
	fesetround(FE_UPWARD);
	want[1] = fp_series();
	fesetround(FE_TONEAREST);
	ASSERT_NE(want[0], want[1]);
	ASSERT_EQ(0, exo_uthread_stats(&a));
	ASSERT_EQ(0, exo_uthread_create(&t[0], fp_fn, (void *)0, NULL));
	ASSERT_EQ(0, exo_uthread_create(&t[1], fp_fn, (void *)1, NULL));
	ASSERT_EQ(0, exo_uthread_run(o));
	ASSERT_EQ(0, exo_uthread_stats(&b));
	ASSERT_GT(b.preempts - a.preempts, 2u);
	ASSERT_EQ(0, memcmp(&want[0], &fp_result[0], sizeof(double)));
	ASSERT_EQ(0, memcmp(&want[1], &fp_result[1], sizeof(double)));
	ASSERT_EQ(0, fp_mode_lost[0]);
	ASSERT_EQ(0, fp_mode_lost[1]);
	ASSERT_EQ(FE_TONEAREST, fegetround());
	ASSERT_EQ(0, exo_uthread_join(t[0], NULL));
	ASSERT_EQ(0, exo_uthread_join(t[1], NULL));
}

TEST(fpu_state_across_signal_preemption)
{
	EXO_UTHREAD_OPTS(o, .preempt = EXO_UTHREAD_PREEMPT_SIGNAL,
			 .slice_ns = 1000000);

	run_fp(_metadata, &o);
}

TEST(fpu_state_across_upcall_preemption)
{
	EXO_UTHREAD_OPTS(o, .preempt = EXO_UTHREAD_PREEMPT_UPCALL,
			 .slice_ns = 1000000);
	struct exo *exo;

	ASSERT_EQ(0, exo_open(&exo));
	o.exo = exo;
	run_fp(_metadata, &o);
	exo_close(exo);
}

/* --- two kernel threads, two schedulers ---------------------------------- */

struct kt {
	volatile int started;
	int ret;
	int mine;	/* creates and joins all succeeded */
	int timed_out;
};

/*
 * Spin, never yielding, until all four uthreads of this kernel thread
 * have started: only this kernel thread's own preemption gets them there.
 */
static void *kt_uthread(void *arg)
{
	struct kt *k = arg;
	uint64_t end = now_ns() + SPIN_LIMIT_NS;

	k->started++;
	while (k->started < 4) {
		if (now_ns() > end) {
			k->timed_out = 1;
			break;
		}
	}
	return NULL;
}

static void *kt_main(void *arg)
{
	struct kt *k = arg;
	struct exo_uthread *t[4];
	EXO_UTHREAD_OPTS(o, .preempt = EXO_UTHREAD_PREEMPT_SIGNAL,
			 .slice_ns = 2000000);
	int i;

	k->mine = 1;
	for (i = 0; i < 4; i++)
		if (exo_uthread_create(&t[i], kt_uthread, k, NULL))
			k->mine = 0;
	k->ret = exo_uthread_run(&o);
	for (i = 0; i < 4; i++)
		if (exo_uthread_join(t[i], NULL))
			k->mine = 0;
	return NULL;
}

TEST(two_kernel_threads)
{
	pthread_t th[2];
	struct kt k[2];
	int i;

	memset(k, 0, sizeof(k));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, kt_main, &k[i]));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, k[i].ret);
		ASSERT_EQ(1, k[i].mine);
		ASSERT_EQ(4, k[i].started);
		ASSERT_EQ(0, k[i].timed_out);
	}
}

/* The guard page: running off a stack faults rather than scribbles. */
static int recurse(int n)
{
	volatile char buf[1024];

	buf[0] = (char)n;
	return n ? recurse(n - 1) + buf[0] : 0;
}

static void *overflow_fn(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)recurse(1000000);
}

TEST_SIGNAL(stack_guard_page, SIGSEGV)
{
	struct exo_uthread *t;
	EXO_UTHREAD_CREATE_OPTS(o, .stack_size = EXO_UTHREAD_STACK_MIN);

	ASSERT_EQ(0, exo_uthread_create(&t, overflow_fn, NULL, &o));
	exo_uthread_run(NULL);
}

TEST_HARNESS_MAIN
