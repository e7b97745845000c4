// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-vm-bench, exo's faults: the library OS's handler, entered by SIGBUS
 * (EXO_FAULT_MODE_SIGNAL) or by an Aegis-style upcall with no signal
 * (EXO_FAULT_MODE_UPCALL), fixes the page by unprotecting or binding it
 * and the access retries; or, in EXO_FAULT_MODE_EVENT, a fault thread
 * reads the fault from the context's fd and its PROTECT wakes the faulting
 * thread, as userfaultfd does. Every fault is checked: its address, its
 * EXO_FAULT_* bits, the way it came, and how many there were.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "vm-exo.h"

/* Atomics: the fault thread reads and counts too. */
static struct {
	struct vx_col *col;
	enum vx_mode mode;
	uint32_t expect;		/* EXO_FAULT_* bits */
	unsigned long faults;
} vf;

/* The library OS's fault handler: on the faulting thread, SIGBUS or upcall. */
static void resolve(char *a, uint32_t bits, int via_upcall)
{
	struct vx_col *x = vf.col;
	char *page = a - BENCH_ACCESS_OFF;
	int saved = errno;

	if (vf.mode == VX_FATAL || vf.mode == VX_EVENT || !x)
		die_async("an unexpected fault (the module should have refilled)",
			  a);
	if (via_upcall != x->upcall)
		die_async(via_upcall ? "an upcall, though the mode is SIGNAL" :
				       "a SIGBUS, though the mode is UPCALL", a);
	if (a < x->va || a >= x->va + x->len ||
	    ((uintptr_t)a & (bench_page - 1)) != BENCH_ACCESS_OFF)
		die_async("a fault at an address the benchmark did not access",
			  a);
	if (bits != vf.expect)
		die_async("a fault with unexpected EXO_FAULT_* bits",
			  (void *)(uintptr_t)bits);

	switch (vf.mode) {
	case VX_UNPROTECT:
		if (vx_unprotect_fault(page))
			die_async("exo_vma_protect in the fault handler failed",
				  page);
		break;
	case VX_BIND:
		if (vx_bind(x, page))
			die_async("exo_vma_map_one in the fault handler failed",
				  page);
		break;
	case VX_APPEL1:
		if (vx_protect(x->last, 1, EXO_PROT_NONE) ||
		    vx_unprotect_fault(page))
			die_async("exo_vma_protect in the fault handler failed",
				  page);
		x->last = page;
		break;
	default:
		break;
	}
	__atomic_add_fetch(&vf.faults, 1, __ATOMIC_RELAXED);
	errno = saved;
}

static void sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != BUS_ADRERR)
		die_async("SIGBUS whose si_code is not BUS_ADRERR", si->si_addr);
	resolve(si->si_addr, (uint32_t)si->si_errno, 0);
}

/* EXO_FAULT_MODE_UPCALL: the same handler, entered without a signal. */
void vx_upcall(struct exo_upcall_frame *frame, void *arg)
{
	(void)arg;
	resolve((char *)(uintptr_t)frame->va, frame->fault, 1);
}

void vx_arm(struct vx_col *x, enum vx_mode mode, uint32_t expect)
{
	vf.col = x;
	vf.expect = expect;
	__atomic_store_n(&vf.faults, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vf.mode, mode, __ATOMIC_RELEASE);
}

void vx_disarm(unsigned long faults, const char *what)
{
	unsigned long got = __atomic_load_n(&vf.faults, __ATOMIC_ACQUIRE);

	if (got != faults)
		die("exo: %s: %lu upcalls, expected %lu", what, got, faults);
	__atomic_store_n(&vf.mode, VX_FATAL, __ATOMIC_RELEASE);
}

/*
 * EXO_FAULT_MODE_EVENT: the faulting thread sleeps in the kernel; this
 * thread reads its event and unprotects the page, which wakes it.
 */
void *vx_event_thread(void *arg)
{
	struct exo_fault_event ev;
	enum vx_mode mode;
	struct vx_col *x;
	char *page;
	sigset_t all;
	int n;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		n = vx_read_event(&ev);
		if (n == -EINTR)
			continue;
		if (n != 1)
			die_async("exo_fault_read in the fault thread failed",
				  NULL);
		mode = __atomic_load_n(&vf.mode, __ATOMIC_ACQUIRE);
		x = vf.col;
		page = (char *)(uintptr_t)ev.va - BENCH_ACCESS_OFF;
		if (mode != VX_EVENT || !x || page != x->va)
			die_async("unexpected exo fault event",
				  (void *)(uintptr_t)ev.va);
		if (ev.fault != vf.expect)
			die_async("exo fault event with unexpected EXO_FAULT_* bits",
				  (void *)(uintptr_t)ev.fault);
		__atomic_add_fetch(&vf.faults, 1, __ATOMIC_RELEASE);
		if (vx_unprotect_fault(page))
			die_async("exo_vma_protect in the fault thread failed",
				  page);
	}
	return NULL;
}

void vx_traps_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL))
		die("sigaction(SIGBUS): %s", strerror(errno));
}

void vx_trap(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	vx_check(vx_protect(x->va, 1, EXO_PROT_NONE), "exo_vma_protect");
	vx_arm(x, VX_UNPROTECT, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	vx_disarm(1, "TRAP");
	if (bench_peek(x->va) != v)
		die("exo: TRAP: the write was lost");
}

void vx_trap_miss(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	vx_check(vx_unmap(x->va, 1), "exo_vma_unmap");
	vx_arm(x, VX_BIND, EXO_FAULT_WRITE);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	vx_disarm(1, "TRAP-MISS");
	vx_check_mark(x->va, 0, "TRAP-MISS");
	if (bench_peek(x->va) != v)
		die("exo: TRAP-MISS: the write was lost");
}

void vx_trap_event(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	vx_check(vx_protect(x->va, 1, EXO_PROT_NONE), "exo_vma_protect");
	vx_arm(x, VX_EVENT, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	vx_disarm(1, "TRAP-EVENT");
	if (bench_peek(x->va) != v)
		die("exo: TRAP-EVENT: the write was lost");
}

void vx_appel1(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;
	char *p;

	do
		p = x->va + bench_rand(x->npages) * bench_page;
	while (p == x->last);
	vx_arm(x, VX_APPEL1, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	t0 = bench_now();
	bench_poke(p, v);
	out[0] = bench_since(t0);
	vx_disarm(1, "APPEL1");
	if (x->last != p || bench_peek(p) != v)
		die("exo: APPEL1: the handler did not unprotect the page");
}

void vx_appel2(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	unsigned int i, n = x->npages;
	uint64_t v = ++x->round, t0;
	int ret;

	bench_shuffle(x->perm, n);
	vx_arm(x, VX_UNPROTECT, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	t0 = bench_now();
	ret = vx_protect(x->va, n, EXO_PROT_NONE);
	for (i = 0; i < n && !ret; i++)
		bench_poke(x->va + (size_t)x->perm[i] * bench_page, v);
	out[0] = bench_since(t0) / n;
	vx_check(ret, "exo_vma_protect");
	vx_disarm(n, "APPEL2");
	for (i = 0; i < n; i++)
		if (bench_peek(x->va + (size_t)i * bench_page) != v)
			die("exo: APPEL2: page %u lost its write", i);
}
