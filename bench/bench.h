/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * exo-vm-bench: the runner every column plugs into.
 *
 * A row is one operation (TRAP, PROT1, ...); its columns are the ways of
 * doing it (exo, mprotect, userfaultfd, ...). The runner interleaves the
 * columns round by round, so drift in the machine (TCG's translation
 * cache, the host's load) hits all of them alike, and prints the median
 * and the 99th percentile of each.
 */
#ifndef EXO_BENCH_H
#define EXO_BENCH_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_OUT	3	/* lines a row may print (DIRTY 2, ABORT 3) */
#define BENCH_MAX_COLS	4

/* Where a timed access writes: not offset 0, so si_addr is checked exactly. */
#define BENCH_ACCESS_OFF	64

struct bench_col {
	const char *name;
	/* Returns NULL, or why the column cannot run on this kernel. */
	const char *(*setup)(struct bench_col *c);
	/* One round: nanoseconds per output of the row. */
	void (*trial)(struct bench_col *c, double out[BENCH_MAX_OUT]);
	void (*teardown)(struct bench_col *c);
	unsigned int npages;
	int variant;
	void *priv;
	/* The runner's. */
	const char *skipped;
	double *samples[BENCH_MAX_OUT];
};

struct bench_row {
	const char *names[BENCH_MAX_OUT];
	unsigned int nout;
	unsigned int reps;
	const char *what;	/* one line: what a sample is */
	struct bench_col cols[BENCH_MAX_COLS];	/* [0] exo, [1] Linux */
};

extern size_t bench_page;

void bench_init(void);
double bench_start(int argc, char **argv);
const char *bench_accel(void);
const char *bench_tag(void);
const char *bench_cmdline(const char *key);
uint64_t bench_now(void);
uint64_t bench_rand(uint64_t below);
void bench_shuffle(unsigned int *v, unsigned int n);
void bench_run(struct bench_row *row, unsigned int warmup);

void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...);
/* For signal handlers and the fault thread: async-signal-safe. */
void __attribute__((noreturn)) die_async(const char *msg, const void *addr);

/*
 * The access being timed. The barriers keep the compiler from moving the
 * stores that tell the fault handler what to do past the faulting store.
 */
static inline void bench_poke(char *page, uint64_t v)
{
	__asm__ volatile("" ::: "memory");
	*(volatile uint64_t *)(page + BENCH_ACCESS_OFF) = v;
	__asm__ volatile("" ::: "memory");
}

static inline uint64_t bench_peek(const char *page)
{
	return *(const volatile uint64_t *)(page + BENCH_ACCESS_OFF);
}

static inline double bench_since(uint64_t t0)
{
	return (double)(bench_now() - t0);
}

#endif /* EXO_BENCH_H */
