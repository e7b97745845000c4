// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-uthread-demo: user-level threads in the library OS, as ExOS had.
 *
 * Three steps, each printed: uthreads that yield round robin and hand
 * items over a wait queue; a uthread that spins without ever yielding,
 * preempted by a CPU-time timer's signal so that another uthread runs;
 * and the same spinner preempted by exo's end-of-slice upcall, with no
 * signal at all. Prints happen outside the uthreads that get preempted
 * (stdio is not reentrant). Exits 1 on anything unexpected, and ends with
 * "exo-uthread-demo: OK". Needs the exo module for the last step.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libexo.h>

static void fail(const char *what, int err)
{
	fprintf(stderr, "exo-uthread-demo: FAILED: %s: %s\n", what,
		strerror(-err));
	exit(1);
}

/* Step 1: a producer and two consumers, no preemption. */
static struct exo_uthread_waitq ready = EXO_UTHREAD_WAITQ_INIT;
static int items;
static char trace[64];
static int ntrace;

static void *consumer(void *arg)
{
	char name = (char)(uintptr_t)arg;
	int got;

	for (got = 0; got < 3; got++) {
		while (!items) {
			trace[ntrace++] = name;		/* waits */
			exo_uthread_wait(&ready);
		}
		items--;
		trace[ntrace++] = (char)(name - 'a' + 'A');	/* took one */
		exo_uthread_yield();
	}
	return NULL;
}

static void *producer(void *arg)
{
	int round;

	(void)arg;
	for (round = 0; round < 3; round++) {
		items += 2;
		trace[ntrace++] = 'P';
		exo_uthread_wake(&ready, 2);
		exo_uthread_yield();
	}
	return NULL;
}

/* Steps 2 and 3: a spinner that never yields, and a counter. */
static volatile int stop;
static volatile unsigned long spins, ticks;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void *spinner(void *arg)
{
	uint64_t end = now_ns() + 10000000000ull;

	(void)arg;
	while (!stop && now_ns() < end)
		spins++;
	return NULL;
}

static void *counter(void *arg)
{
	(void)arg;
	for (ticks = 0; ticks < 10; ticks++)
		exo_uthread_yield();
	stop = 1;
	return NULL;
}

static void spin_step(const char *how, const struct exo_uthread_opts *o)
{
	struct exo_uthread *s, *c;
	struct exo_uthread_stats a, b;
	int ret;

	stop = 0;
	spins = ticks = 0;
	exo_uthread_stats(&a);
	if ((ret = exo_uthread_create(&s, spinner, NULL, NULL)) ||
	    (ret = exo_uthread_create(&c, counter, NULL, NULL)))
		fail("exo_uthread_create", ret);
	ret = exo_uthread_run(o);
	if (ret)
		fail("exo_uthread_run", ret);
	exo_uthread_stats(&b);
	exo_uthread_join(s, NULL);
	exo_uthread_join(c, NULL);
	printf("  %s: the spinner spun %lu times and never yielded; the "
	       "counter still reached %lu: %llu preemptions\n", how, spins,
	       ticks, (unsigned long long)(b.preempts - a.preempts));
	if (!stop || ticks != 10 || b.preempts == a.preempts)
		fail(how, -ETIMEDOUT);
}

int main(void)
{
	struct exo_uthread *t[3];
	struct exo *exo;
	int i, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("exo-uthread-demo: uthreads on one kernel thread\n");

	if ((ret = exo_uthread_create(&t[0], consumer, (void *)'a', NULL)) ||
	    (ret = exo_uthread_create(&t[1], consumer, (void *)'b', NULL)) ||
	    (ret = exo_uthread_create(&t[2], producer, NULL, NULL)))
		fail("exo_uthread_create", ret);
	ret = exo_uthread_run(NULL);
	if (ret)
		fail("exo_uthread_run", ret);
	for (i = 0; i < 3; i++)
		exo_uthread_join(t[i], NULL);
	printf("  a producer (P) and two consumers: lower case waits, upper "
	       "case takes an item:\n    %.*s\n", ntrace, trace);
	if (items)
		fail("items left over", -EIO);

	{
		EXO_UTHREAD_OPTS(o, .preempt = EXO_UTHREAD_PREEMPT_SIGNAL,
				 .slice_ns = 2000000);
		spin_step("preempted by a 2 ms CPU-time timer's signal", &o);
	}

	ret = exo_open(&exo);
	if (ret)
		fail("exo_open", ret);
	{
		EXO_UTHREAD_OPTS(o, .preempt = EXO_UTHREAD_PREEMPT_UPCALL,
				 .slice_ns = 2000000, .exo = exo);
		spin_step("preempted by exo's 2 ms end-of-slice upcall", &o);
	}
	exo_close(exo);
	printf("exo-uthread-demo: OK\n");
	return 0;
}
