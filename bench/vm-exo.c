// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-vm-bench, the exo columns: one context, its frames and VMAs, and
 * libexo's raw VM calls (one ioctl each): PROTECT, DIRTY, MAP, and refill
 * in the kernel from the library OS's page table (EXO_IOC_STLB), with no
 * upcall at all. The faults are in vm-exo-trap.c.
 *
 * Every exo column binds page i of its VMA to frame i of one pool of
 * frames allocated at start; each frame carries a mark in its first word,
 * so a binding to the wrong frame shows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vm-exo.h"

#define MAX_ORDER	10	/* runs of up to 1024 frames */

struct vx_run {
	exo_cap_t cap;
	uint32_t nr;
};

static struct exo *exo;
static struct vx_run *runs;
static unsigned int nruns, nframes, max_batch;

void vx_check(int ret, const char *what)
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

void vx_check_mark(const char *page, unsigned int i, const char *what)
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

int vx_protect(char *va, unsigned int n, uint32_t prot)
{
	struct exo_vrange r = { (uintptr_t)va, (uint64_t)n * bench_page };

	return exo_vma_protect(exo, &r, 1, prot);
}

/*
 * A fault handler's unprotect: the PTE comes with it, as mprotect(2)
 * rewrites the PTE in place, so the retried write needs no refill.
 */
int vx_unprotect_fault(char *page)
{
	struct exo_vrange r = { (uintptr_t)page, bench_page };

	return exo_vma_protect_flags(exo, &r, 1, VX_RW, EXO_PROTECT_POPULATE);
}

int vx_unmap(char *va, unsigned int n)
{
	struct exo_vrange r = { (uintptr_t)va, (uint64_t)n * bench_page };

	return exo_vma_unmap(exo, &r, 1);
}

/* Bind @page of @x to its frame: the fault handler's half of TRAP-MISS. */
int vx_bind(struct vx_col *x, char *page)
{
	exo_cap_t cap;
	uint32_t frame;

	frame_of((page - x->va) / bench_page, &cap, &frame);
	return exo_vma_map_one(exo, page, cap, frame, VX_RW);
}

int vx_read_event(struct exo_fault_event *ev)
{
	return exo_fault_read(exo, ev, 1, 0);
}

static void map_entries(const struct exo_map_entry *e, unsigned int n)
{
	unsigned int i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < max_batch ? n - i : max_batch;
		vx_check(exo_vma_map(exo, e + i, k), "exo_vma_map");
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

	vx_arm(x, VX_FATAL, 0);
	for (i = 0; i < n; i++)
		bench_poke(x->va + (size_t)i * bench_page, v);
	for (i = 0; i < n; i++) {
		vx_check_mark(x->va + (size_t)i * bench_page, i, what);
		if (bench_peek(x->va + (size_t)i * bench_page) != v)
			die("exo: %s: page %u lost its write", what, i);
	}
}

void vx_init(unsigned int frames)
{
	const struct exo_api *api;
	struct exo_frame f;
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
		vx_check(ret, "allocating the benchmark's frames");
		runs[nruns].cap = f.cap;
		runs[nruns].nr = 1u << f.order;
		nframes += runs[nruns++].nr;
	}

	vx_traps_init();

	/* Mark every frame once, through a throw-away VMA. */
	memset(&x, 0, sizeof(x));
	x.len = (size_t)nframes * bench_page;
	vx_check(exo_vma_create(exo, x.len, PROT_READ | PROT_WRITE,
			     (void **)&x.va), "exo_vma_create");
	x.entries = calloc(nruns, sizeof(*x.entries));
	if (!x.entries)
		die("out of memory");
	map_entries(x.entries, build_entries(x.va, nframes, VX_RW, x.entries));
	for (i = 0; i < nframes; i++)
		*(volatile uint64_t *)(x.va + (size_t)i * bench_page) = mark(i);
	vx_check(exo_vma_destroy(exo, x.va, x.len), "exo_vma_destroy");
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
	vx_check(exo_ctx_info(exo, &info), "exo_ctx_info");
	if (info.bindings)
		die("exo: %" PRIu64 " bindings left after every VMA was destroyed",
		    (uint64_t)info.bindings);
	printf("# exo context: %" PRIu64 " upcalls, %" PRIu64 " in-kernel refills\n",
	       (uint64_t)info.upcalls, (uint64_t)info.refills);
	for (r = 0; r < nruns; r++)
		vx_check(exo_frame_free(exo, runs[r].cap), "exo_frame_free");
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
	vx_check(exo_vma_create(exo, x->len, PROT_READ | PROT_WRITE,
			     (void **)&x->va), "exo_vma_create");
	x->entries = calloc(nruns, sizeof(*x->entries));
	x->perm = calloc(n, sizeof(*x->perm));
	x->bitmap = calloc((n + 63) / 64, sizeof(*x->bitmap));
	x->vpages = calloc(n, sizeof(*x->vpages));
	if (!x->entries || !x->perm || !x->bitmap || !x->vpages)
		die("out of memory");
	x->nentries = build_entries(x->va, n, VX_RW, x->entries);
	c->priv = x;
	if (c->variant == VX_VIA_UPCALL) {
		if (!(api()->features & EXO_FEAT_UPCALL)) {
			vx_teardown(c);
			return "exo.ko without EXO_FAULT_MODE_UPCALL";
		}
		vx_check(exo_upcall_set(exo, vx_upcall, NULL), "exo_upcall_set");
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
	vx_check(vx_protect(x->va, x->npages, EXO_PROT_NONE),
		 "exo_vma_protect");
	x->last = x->va;
	vx_check(vx_protect(x->last, 1, VX_RW), "exo_vma_protect");
	return NULL;
}

const char *vx_setup_dirty(struct bench_col *c)
{
	struct vx_col *x;
	int ret;

	vx_setup(c);
	x = c->priv;
	/* A writable binding starts dirty: all of them, once. */
	ret = exo_vma_dirty(exo, x->va, x->npages, x->bitmap);
	vx_check(ret, "exo_vma_dirty");
	if ((unsigned int)ret != x->npages)
		die("exo: exo_vma_dirty after binding %u writable pages found "
		    "%d dirty", x->npages, ret);
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
	vx_check(ret, "exo_fault_mode_set(EVENT)");
	if (ret != EXO_FAULT_MODE_SIGNAL)
		die("exo: the fault mode was %d, not SIGNAL", ret);
	ret = pthread_create(&x->thread, NULL, vx_event_thread, NULL);
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
		x->upte[i].flags = EXO_UPTE_VALID | VX_RW;
	}
	vx_check(exo_stlb_set(exo, x->upte, x->va, c->npages), "exo_stlb_set");
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
		vx_check(ret, "exo_fault_mode_set(SIGNAL)");
	}
	if (x->upte)
		vx_check(exo_stlb_set(exo, NULL, NULL, 0), "exo_stlb_set(NULL)");
	if (x->upcall)
		vx_check(exo_upcall_set(exo, NULL, NULL), "exo_upcall_set(NULL)");
	vx_check(exo_vma_destroy(exo, x->va, x->len), "exo_vma_destroy");
	free(x->entries);
	free(x->perm);
	free(x->bitmap);
	free(x->vpages);
	free(x->upte);
	free(x);
}

/* An unbound page the module binds from the STLB: no upcall may happen. */
void vx_refill(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	vx_check(vx_unmap(x->va, 1), "exo_vma_unmap");
	vx_arm(x, VX_FATAL, 0);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	vx_disarm(0, "REFILL");
	vx_check_mark(x->va, 0, "REFILL");
	if (bench_peek(x->va) != v)
		die("exo: REFILL: the write was lost");
}

/* What QUERY says of the first @n pages: bound, with protection @prot. */
static void check_prot(struct vx_col *x, unsigned int n, uint32_t prot)
{
	unsigned int i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < max_batch ? n - i : max_batch;
		vx_check(exo_vma_query(exo, x->va + (size_t)i * bench_page, k,
				       0, x->vpages + i), "exo_vma_query");
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
	ret = vx_protect(x->va, x->npages, EXO_PROT_NONE);
	out[0] = bench_since(t0);
	vx_check(ret, "exo_vma_protect");
	check_prot(x, x->npages, EXO_PROT_NONE);
	vx_check(vx_protect(x->va, x->npages, VX_RW), "exo_vma_protect");
	touch(x, x->npages, ++x->round, "PROT");
}

void vx_unprot(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t t0;
	int ret;

	vx_check(vx_protect(x->va, x->npages, EXO_PROT_NONE),
		 "exo_vma_protect");
	t0 = bench_now();
	ret = vx_protect(x->va, x->npages, VX_RW);
	out[0] = bench_since(t0);
	vx_check(ret, "exo_vma_protect");
	check_prot(x, x->npages, VX_RW);
	/* Rights given are lazy: these writes refill in the kernel. */
	touch(x, x->npages, ++x->round, "UNPROT");
}

void vx_dirty(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;
	unsigned int i;
	int ret;

	vm_pick(x->perm, x->npages);
	vx_arm(x, VX_FATAL, 0);
	t0 = bench_now();
	for (i = 0; i < VM_DIRTY_WRITES; i++)
		bench_poke(x->va + (size_t)x->perm[i] * bench_page, v);
	out[1] = bench_since(t0) / VM_DIRTY_WRITES;
	t0 = bench_now();
	ret = exo_vma_dirty(exo, x->va, x->npages, x->bitmap);
	out[0] = bench_since(t0);
	vx_check(ret, "exo_vma_dirty");
	vm_check_dirty("exo", x->bitmap, ret, x->npages, x->perm,
		       VM_DIRTY_WRITES);
}

void vx_map(struct bench_col *c, double *out)
{
	struct vx_col *x = c->priv;
	uint64_t v = ++x->round, t0;
	unsigned int i;

	vx_arm(x, VX_FATAL, 0);
	t0 = bench_now();
	map_entries(x->entries, x->nentries);
	for (i = 0; i < x->npages; i++)
		bench_poke(x->va + (size_t)i * bench_page, v);
	out[0] = bench_since(t0);
	for (i = 0; i < x->npages; i++) {
		vx_check_mark(x->va + (size_t)i * bench_page, i, "MAP");
		if (bench_peek(x->va + (size_t)i * bench_page) != v)
			die("exo: MAP: page %u lost its write", i);
	}
	vx_check(vx_unmap(x->va, x->npages), "exo_vma_unmap");
}
