/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exo-vm-bench's revocation rows: exo's revocation protocol (revoke-exo.c,
 * abort-exo.c) against the nearest stock Linux ways of asking a process
 * for memory back and of saving memory before dropping it
 * (revoke-linux.c). Every column owns a region of c->npages pages; the
 * pages it gives back or saves are filled with rv_fill() and checked.
 */
#ifndef EXO_REVOKE_BENCH_H
#define EXO_REVOKE_BENCH_H

#include "bench.h"

/* A request's time to the abort: far beyond a round, even under TCG. */
#define RV_TIMEOUT_MS	60000

/* Whole pages of a pattern that names the round, the page and the word. */
void rv_fill(char *va, unsigned int npages, uint64_t round);
void rv_verify(const char *va, unsigned int npages, uint64_t round,
	       const char *what);

/* An eventfd's counter: add @n; wait for and take it (EINTR retried). */
void efd_write(int fd, uint64_t n);
uint64_t efd_read(int fd);

/* exo: the operator's context, which posts every request. */
void rx_init(void);
void rx_fini(void);
const char *rx_setup_rt(struct bench_col *c);	/* handler thread */
void rx_rt(struct bench_col *c, double *out);
void rx_teardown_rt(struct bench_col *c);
const char *rx_setup_abort(struct bench_col *c);
void rx_abort(struct bench_col *c, double *out);
void rx_teardown_abort(struct bench_col *c);

/* Linux: an eventfd to a thread that drops pages; pwrite to a memfd. */
const char *rl_setup_rt(struct bench_col *c);	/* handler thread */
void rl_rt(struct bench_col *c, double *out);
const char *rl_setup_abort(struct bench_col *c);
void rl_abort(struct bench_col *c, double *out);
void rl_teardown(struct bench_col *c);

/*
 * The outputs of an ABORT row: per call, then per frame when the row has
 * more than one frame, then RECOVER per frame.
 */
static inline void rv_abort_out(const struct bench_col *c, double *out,
				double abort_ns, double recover_ns)
{
	out[0] = abort_ns;
	if (c->npages > 1) {
		out[1] = abort_ns / c->npages;
		out[2] = recover_ns / c->npages;
	} else {
		out[1] = recover_ns;
	}
}

#endif /* EXO_REVOKE_BENCH_H */
