// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-vm-bench, the exo columns: libexo's raw VM calls (one ioctl each),
 * and faults handed to the library OS as SIGBUS, which the handler fixes
 * by unprotecting or binding the page before the access retries.
 *
 * The same handler also runs as an Aegis-style upcall, with no signal
 * (EXO_FAULT_MODE_UPCALL, columns whose variant is VX_VIA_UPCALL).
 * Two more ways of exo's: fault events (EXO_FAULT_MODE_EVENT), where a
 * fault thread reads the fault from the context's fd and its PROTECT wakes
 * the faulting thread, as userfaultfd does; and refill in the kernel from
 * the library OS's page table (EXO_IOC_STLB), with no upcall at all.
 *
 * Every exo column binds page i of its VMA to frame i of one pool of
 * frames allocated at start; each frame carries a mark in its first word,
 * so a binding to the wrong frame shows.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <libexo.h>

#include "vm-bench.h"

#define RW		(EXO_PROT_READ | EXO_PROT_WRITE)
#define MAX_ORDER	10	/* runs of up to 1024 frames */

struct vx_run {
	exo_cap_t cap;
	uint32_t nr;
};

struct vx_col {
	char *va;
	size_t len;
	unsigned int npages;
	struct exo_map_entry *entries;	/* the whole VMA onto the pool */
	unsigned int nentries;
	char *last;			/* APPEL1: the one page unprotected */
	unsigned int *perm;
	uint64_t *bitmap;
	struct exo_vpage *vpages;
	struct exo_upte *upte;		/* STLB: the library OS's page table */
	pthread_t thread;		/* EVENT: the fault thread */
	int upcall;			/* in EXO_FAULT_MODE_UPCALL */
	uint64_t round;
};

static struct exo *exo;
static struct vx_run *runs;
static unsigned int nruns, nframes, max_batch;

/* What the SIGBUS handler (or the fault thread) does for the access. */
enum vx_mode { VX_FATAL, VX_UNPROTECT, VX_BIND, VX_APPEL1, VX_EVENT };

/* Atomics: the fault thread reads and counts too. */
static struct {
	struct vx_col *col;
	enum vx_mode mode;
	uint32_t expect;		/* EXO_FAULT_* bits in si_errno */
	unsigned long faults;
} vf;

static void check(int ret, const char *what)
{
	if (ret < 0)
		die("exo: %s: %s", what, strerror(-ret));
}

static const struct exo_api *api(void)
{
	return exo_api(exo);
}

static uint64_t mark(unsigned int frame)
{
	return 0x65786f2d6672616dull ^ frame;	/* "exo-fram" */
}

static void check_mark(const char *page, unsigned int i, const char *what)
{
	uint64_t m = *(const volatile uint64_t *)page;

	if (m != mark(i))
		die("exo: %s: page %u holds %#" PRIx64 ", not frame %u's mark",
		    what, i, m, i);
}

static void frame_of(unsigned int i, exo_cap_t *cap, uint32_t *frame)
{
	unsigned int r;

	for (r = 0; i >= runs[r].nr; r++)
		i -= runs[r].nr;
	*cap = runs[r].cap;
	*frame = i;
}

static int protect(char *va, unsigned int n, uint32_t prot)
{
	struct exo_vrange r = { (uintptr_t)va, (uint64_t)n * bench_page };

	return exo_protect(exo, &r, 1, prot);
}

static int unmap(char *va, unsigned int n)
{
	struct exo_vrange r = { (uintptr_t)va, (uint64_t)n * bench_page };

	return exo_unmap(exo, &r, 1);
}

/* The library OS's fault handler: on the faulting thread, SIGBUS or upcall. */
static void resolve(char *a, uint32_t bits, int via_upcall)
{
	struct vx_col *x = vf.col;
	char *page = a - BENCH_ACCESS_OFF;
	int saved = errno;
	exo_cap_t cap;
	uint32_t frame;

	if (vf.mode == VX_FATAL || vf.mode == VX_EVENT || !x)
		die_async("unexpected fault upcall (the module should have refilled)",
			  a);
	if (via_upcall != x->upcall)
		die_async(via_upcall ? "an upcall, though the mode is SIGNAL" :
				       "a SIGBUS, though the mode is UPCALL", a);
	if (a < x->va || a >= x->va + x->len ||
	    ((uintptr_t)a & (bench_page - 1)) != BENCH_ACCESS_OFF)
		die_async("upcall for an address the benchmark did not access",
			  a);
	if (bits != vf.expect)
		die_async("upcall with unexpected EXO_FAULT_* bits",
			  (void *)(uintptr_t)bits);

	switch (vf.mode) {
	case VX_UNPROTECT:
		if (protect(page, 1, RW))
			die_async("exo_protect in the fault handler failed", page);
		break;
	case VX_BIND:
		frame_of((page - x->va) / bench_page, &cap, &frame);
		if (exo_map_one(exo, page, cap, frame, RW))
			die_async("exo_map_one in the fault handler failed", page);
		break;
	case VX_APPEL1:
		if (protect(x->last, 1, EXO_PROT_NONE) || protect(page, 1, RW))
			die_async("exo_protect in the fault handler failed", page);
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
static void upcall(struct exo_upcall_frame *frame, void *arg)
{
	(void)arg;
	resolve((char *)(uintptr_t)frame->va, frame->fault, 1);
}

static void arm(struct vx_col *x, enum vx_mode mode, uint32_t expect)
{
	vf.col = x;
	vf.expect = expect;
	__atomic_store_n(&vf.faults, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vf.mode, mode, __ATOMIC_RELEASE);
}

static void disarm(unsigned long faults, const char *what)
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
static void *event_thread(void *arg)
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
		n = exo_fault_read(exo, &ev, 1, 0);
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
		if (protect(page, 1, RW))
			die_async("exo_protect in the fault thread failed", page);
	}
	return NULL;
}

static void map_entries(const struct exo_map_entry *e, unsigned int n)
{
	unsigned int i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < max_batch ? n - i : max_batch;
		check(exo_map(exo, e + i, k), "exo_map");
	}
}

/* Entries binding @n pages from @va to frames 0 .. n-1 of the pool. */
static unsigned int build_entries(char *va, unsigned int n, uint32_t prot,
				  struct exo_map_entry *e)
{
	unsigned int r, done = 0, k;

	for (r = 0; r < nruns && done < n; r++) {
		k = runs[r].nr < n - done ? runs[r].nr : n - done;
		memset(&e[r], 0, sizeof(e[r]));
		e[r].va = (uintptr_t)(va + (size_t)done * bench_page);
		e[r].cap = runs[r].cap;
		e[r].frame = 0;
		e[r].nr = k;
		e[r].prot = prot;
		done += k;
	}
	if (done < n)
		die("exo: %u frames cannot back %u pages", nframes, n);
	return r;
}

static void touch(struct vx_col *x, unsigned int n, uint64_t v,
		  const char *what)
{
	unsigned int i;

	arm(x, VX_FATAL, 0);
	for (i = 0; i < n; i++)
		bench_poke(x->va + (size_t)i * bench_page, v);
	for (i = 0; i < n; i++) {
		check_mark(x->va + (size_t)i * bench_page, i, what);
		if (bench_peek(x->va + (size_t)i * bench_page) != v)
			die("exo: %s: page %u lost its write", what, i);
	}
}

void vx_init(unsigned int frames)
{
	const struct exo_api *api;
	struct exo_frame f;
	struct sigaction sa;
	struct vx_col x;
	unsigned int order, i;
	int ret;

	ret = exo_open(&exo);
	if (ret)
		die("exo_open(" EXO_DEFAULT_DEVICE "): %s (is exo.ko loaded?)",
		    strerror(-ret));
	api = exo_api(exo);
	if (!(api->features & EXO_FEAT_VM))
		die("exo.ko has no VM interface (features %#" PRIx64 ")",
		    (uint64_t)api->features);
	if (api->page_size != bench_page)
		die("exo's page size %u is not the system's %zu",
		    api->page_size, bench_page);
	max_batch = api->max_batch;
	if (!max_batch)
		die("exo: max_batch is 0");

	/* Contiguous runs: a MAP of 4096 pages is then a handful of entries. */
	runs = calloc(frames, sizeof(*runs));
	if (!runs)
		die("out of memory");
	order = api->max_order < MAX_ORDER ? api->max_order : MAX_ORDER;
	while (nframes < frames) {
		while (order && (1u << order) > frames - nframes)
			order--;
		ret = order ? exo_frame_alloc_contig(exo, order, &f) :
			      exo_frame_alloc(exo, &f);
		if (ret < 0 && order) {
			order--;	/* no free run that large: smaller */
			continue;
		}
		check(ret, "allocating the benchmark's frames");
		runs[nruns].cap = f.cap;
		runs[nruns].nr = 1u << f.order;
		nframes += runs[nruns++].nr;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL))
		die("sigaction(SIGBUS): %s", strerror(errno));

	/* Mark every frame once, through a throw-away VMA. */
	memset(&x, 0, sizeof(x));
	x.len = (size_t)nframes * bench_page;
	check(exo_vma_create(exo, x.len, PROT_READ | PROT_WRITE,
			     (void **)&x.va), "exo_vma_create");
	x.entries = calloc(nruns, sizeof(*x.entries));
	if (!x.entries)
		die("out of memory");
	map_entries(x.entries, build_entries(x.va, nframes, RW, x.entries));
	for (i = 0; i < nframes; i++)
		*(volatile uint64_t *)(x.va + (size_t)i * bench_page) = mark(i);
	check(exo_vma_destroy(exo, x.va, x.len), "exo_vma_destroy");
	free(x.entries);
}

void vx_describe(void)
{
	printf("# exo: %u frames in %u runs (the largest %u frames), max_batch %u\n",
	       nframes, nruns, runs[0].nr, max_batch);
}

void vx_fini(void)
{
	struct exo_ctx_info info;
	unsigned int r;

	memset(&info, 0, sizeof(info));
	check(exo_ctx_info(exo, &info), "exo_ctx_info");
	if (info.bindings)
		die("exo: %" PRIu64 " bindings left after every VMA was destroyed",
		    (uint64_t)info.bindings);
	printf("# exo context: %" PRIu64 " upcalls, %" PRIu64 " in-kernel refills\n",
	       (uint64_t)info.upcalls, (uint64_t)info.refills);
	for (r = 0; r < nruns; r++)
		check(exo_frame_free(exo, runs[r].cap), "exo_frame_free");
	exo_close(exo);
	free(runs);
}

const char *vx_setup_empty(struct bench_col *c)
{
	struct vx_col *x = calloc(1, sizeof(*x));
	unsigned int n = c->npages;

	if (!x)
		die("out of memory");
	x->npages = n;
	x->len = (size_t)n * bench_page;
	check(exo_vma_create(exo, x->len, PROT_READ | PROT_WRITE,
			     (void **)&x->va), "exo_vma_create");
	x->entries = calloc(nruns, sizeof(*x->entries));
	x->perm = calloc(n, sizeof(*x->perm));
	x->bitmap = calloc((n + 63) / 64, sizeof(*x->bitmap));
	x->vpages = calloc(n, sizeof(*x->vpages));
	if (!x->entries || !x->perm || !x->bitmap || !x->vpages)
		die("out of memory");
	x->nentries = build_entries(x->va, n, RW, x->entries);
	c->priv = x;
	if (c->variant == VX_VIA_UPCALL) {
		if (!(api()->features & EXO_FEAT_UPCALL)) {
			vx_teardown(c);
			return "exo.ko without EXO_FAULT_MODE_UPCALL";
		}
		check(exo_upcall_set(exo, upcall, NULL), "exo_upcall_set");
		x->upcall = 1;
	}
	return NULL;
}

const char *vx_setup(struct bench_col *c)
{
	const char *skip = vx_setup_empty(c);
	struct vx_col *x;

	if (skip)
		return skip;
	x = c->priv;
	map_entries(x->entries, x->nentries);
	touch(x, x->npages, 0, "setup");
	return NULL;
}

const char *vx_setup_appel1(struct bench_col *c)
{
	const char *skip = vx_setup(c);
	struct vx_col *x;

	if (skip)
		return skip;
	x = c->priv;
	check(protect(x->va, x->npages, EXO_PROT_NONE), "exo_protect");
	x->last = x->va;
	check(protect(x->last, 1, RW), "exo_protect");
	return NULL;
}

const char *vx_setup_dirty(struct bench_col *c)
{
	struct vx_col *x;
	int ret;

	vx_setup(c);
	x = c->priv;
	/* A writable binding starts dirty: all of them, once. */
	ret = exo_dirty(exo, x->va, x->npages, x->bitmap);
	check(ret, "exo_dirty");
	if ((unsigned int)ret != x->npages)
		die("exo: exo_dirty after binding %u writable pages found %d dirty",
		    x->npages, ret);
	return NULL;
}

const char *vx_setup_event(struct bench_col *c)
{
	struct vx_col *x;
	int ret;

	if (!(api()->features & EXO_FEAT_FAULT_EVENTS))
		return "exo.ko without fault events";
	vx_setup(c);
	x = c->priv;
	ret = exo_fault_mode_set(exo, EXO_FAULT_MODE_EVENT);
	check(ret, "exo_fault_mode_set(EVENT)");
	if (ret != EXO_FAULT_MODE_SIGNAL)
		die("exo: the fault mode was %d, not SIGNAL", ret);
	ret = pthread_create(&x->thread, NULL, event_thread, NULL);
	if (ret)
		die("pthread_create: %s", strerror(ret));
	return NULL;
}

const char *vx_setup_stlb(struct bench_col *c)
{
	struct vx_col *x;
	unsigned int i;
	exo_cap_t cap;
	uint32_t frame;

	if (!(api()->features & EXO_FEAT_STLB))
		return "exo.ko without STLB refill";
	if (c->npages > api()->stlb_max)
		die("exo: stlb_max %u < %u pages", api()->stlb_max, c->npages);
	vx_setup(c);
	x = c->priv;
	x->upte = aligned_alloc(16, c->npages * sizeof(*x->upte));
	if (!x->upte)
		die("out of memory");
	for (i = 0; i < c->npages; i++) {
		frame_of(i, &cap, &frame);
		memset(&x->upte[i], 0, sizeof(x->upte[i]));
		x->upte[i].cap = cap;
		x->upte[i].frame = frame;
		x->upte[i].flags = EXO_UPTE_VALID | RW;
	}
	check(exo_stlb_set(exo, x->upte, x->va, c->npages), "exo_stlb_set");
	return NULL;
}

void vx_teardown(struct bench_col *c)
{
	struct vx_col *x = c->priv;
	int ret;

	if (x->thread) {
		pthread_cancel(x->thread);
		pthread_join(x->thread, NULL);
		ret = exo_fault_mode_set(exo, EXO_FAULT_MODE_SIGNAL);
		check(ret, "exo_fault_mode_set(SIGNAL)");
	}
	if (x->upte)
		check(exo_stlb_set(exo, NULL, NULL, 0), "exo_stlb_set(NULL)");
	if (x->upcall)
		check(exo_upcall_set(exo, NULL, NULL), "exo_upcall_set(NULL)");
	check(exo_vma_destroy(exo, x->va, x->len), "exo_vma_destroy");
	free(x->entries);
	free(x->perm);
	free(x->bitmap);
	free(x->vpages);
	free(x->upte);
	free(x);
}

void vx_trap(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	check(protect(x->va, 1, EXO_PROT_NONE), "exo_protect");
	arm(x, VX_UNPROTECT, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	disarm(1, "TRAP");
	if (bench_peek(x->va) != v)
		die("exo: TRAP: the write was lost");
}

void vx_trap_miss(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	check(unmap(x->va, 1), "exo_unmap");
	arm(x, VX_BIND, EXO_FAULT_WRITE);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	disarm(1, "TRAP-MISS");
	check_mark(x->va, 0, "TRAP-MISS");
	if (bench_peek(x->va) != v)
		die("exo: TRAP-MISS: the write was lost");
}

void vx_trap_event(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	check(protect(x->va, 1, EXO_PROT_NONE), "exo_protect");
	arm(x, VX_EVENT, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	disarm(1, "TRAP-EVENT");
	if (bench_peek(x->va) != v)
		die("exo: TRAP-EVENT: the write was lost");
}

/* An unbound page the module binds from the STLB: no upcall may happen. */
void vx_refill(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	check(unmap(x->va, 1), "exo_unmap");
	arm(x, VX_FATAL, 0);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	disarm(0, "REFILL");
	check_mark(x->va, 0, "REFILL");
	if (bench_peek(x->va) != v)
		die("exo: REFILL: the write was lost");
}

/* What QUERY says of the first @n pages: bound, with protection @prot. */
static void check_prot(struct vx_col *x, unsigned int n, uint32_t prot)
{
	unsigned int i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < max_batch ? n - i : max_batch;
		check(exo_query(exo, x->va + (size_t)i * bench_page, k, 0,
				x->vpages + i), "exo_query");
	}
	for (i = 0; i < n; i++)
		if (!(x->vpages[i].state & EXO_VPAGE_BOUND) ||
		    x->vpages[i].prot != prot)
			die("exo: page %u: state %#x prot %#x, expected bound with prot %#x",
			    i, x->vpages[i].state, x->vpages[i].prot, prot);
}

void vx_prot(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t t0;
	int ret;

	t0 = bench_now();
	ret = protect(x->va, x->npages, EXO_PROT_NONE);
	out[0] = bench_since(t0);
	check(ret, "exo_protect");
	check_prot(x, x->npages, EXO_PROT_NONE);
	check(protect(x->va, x->npages, RW), "exo_protect");
	touch(x, x->npages, ++x->round, "PROT");
}

void vx_unprot(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t t0;
	int ret;

	check(protect(x->va, x->npages, EXO_PROT_NONE), "exo_protect");
	t0 = bench_now();
	ret = protect(x->va, x->npages, RW);
	out[0] = bench_since(t0);
	check(ret, "exo_protect");
	check_prot(x, x->npages, RW);
	/* Rights given are lazy: these writes refill in the kernel. */
	touch(x, x->npages, ++x->round, "UNPROT");
}

void vx_appel1(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;
	char *p;

	do
		p = x->va + bench_rand(x->npages) * bench_page;
	while (p == x->last);
	arm(x, VX_APPEL1, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	t0 = bench_now();
	bench_poke(p, v);
	out[0] = bench_since(t0);
	disarm(1, "APPEL1");
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
	arm(x, VX_UNPROTECT, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	t0 = bench_now();
	ret = protect(x->va, n, EXO_PROT_NONE);
	for (i = 0; i < n && !ret; i++)
		bench_poke(x->va + (size_t)x->perm[i] * bench_page, v);
	out[0] = bench_since(t0) / n;
	check(ret, "exo_protect");
	disarm(n, "APPEL2");
	for (i = 0; i < n; i++)
		if (bench_peek(x->va + (size_t)i * bench_page) != v)
			die("exo: APPEL2: page %u lost its write", i);
}

void vx_dirty(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;
	unsigned int i;
	int ret;

	vm_pick(x->perm, x->npages);
	arm(x, VX_FATAL, 0);
	t0 = bench_now();
	for (i = 0; i < VM_DIRTY_WRITES; i++)
		bench_poke(x->va + (size_t)x->perm[i] * bench_page, v);
	out[1] = bench_since(t0) / VM_DIRTY_WRITES;
	t0 = bench_now();
	ret = exo_dirty(exo, x->va, x->npages, x->bitmap);
	out[0] = bench_since(t0);
	check(ret, "exo_dirty");
	vm_check_dirty("exo", x->bitmap, ret, x->npages, x->perm,
		       VM_DIRTY_WRITES);
}

void vx_map(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;
	unsigned int i;

	arm(x, VX_FATAL, 0);
	t0 = bench_now();
	map_entries(x->entries, x->nentries);
	for (i = 0; i < x->npages; i++)
		bench_poke(x->va + (size_t)i * bench_page, v);
	out[0] = bench_since(t0);
	for (i = 0; i < x->npages; i++) {
		check_mark(x->va + (size_t)i * bench_page, i, "MAP");
		if (bench_peek(x->va + (size_t)i * bench_page) != v)
			die("exo: MAP: page %u lost its write", i);
	}
	check(unmap(x->va, x->npages), "exo_unmap");
}
