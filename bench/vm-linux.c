// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-vm-bench, the stock Linux columns: mprotect(2) with a SIGSEGV
 * handler that unprotects (what Appel & Li measured on Unix), soft-dirty
 * and mprotect-based write tracking, and mmap(2).
 *
 * Each region sits between two PROT_NONE guard pages, so no other mapping
 * of the process merges with it and its VMA changes only by our calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm-bench.h"

#define RW		(PROT_READ | PROT_WRITE)
/* pagemap bits: Documentation/admin-guide/mm/soft-dirty.rst, pagemap.rst */
#define PM_SOFT_DIRTY	(1ull << 55)
#define PM_PRESENT	(1ull << 63)

struct lx_col {
	char *va;
	size_t len;
	unsigned int npages;
	char *last;			/* APPEL1: the one page unprotected */
	unsigned int *perm;
	uint64_t *tracked;		/* written by the SIGSEGV handler */
	uint64_t *report;		/* what one DIRTY call reports */
	uint64_t *pagemap_buf;
	int pagemap, clear_refs, memfd;
	uint64_t round;
};

enum lx_mode { LX_FATAL, LX_UNPROTECT, LX_APPEL1, LX_TRACK };

static struct {
	struct lx_col *col;
	enum lx_mode mode;
	volatile unsigned long faults;
} lf;

static void sigsegv(int sig, siginfo_t *si, void *uc)
{
	struct lx_col *x = lf.col;
	char *a = si->si_addr, *page = a - BENCH_ACCESS_OFF;
	size_t i;
	int saved = errno;

	(void)sig;
	(void)uc;
	if (lf.mode == LX_FATAL || !x)
		die_async("unexpected SIGSEGV", a);
	if (si->si_code != SEGV_ACCERR || a < x->va || a >= x->va + x->len ||
	    ((uintptr_t)a & (bench_page - 1)) != BENCH_ACCESS_OFF)
		die_async("SIGSEGV at an address the benchmark did not access",
			  a);
	switch (lf.mode) {
	case LX_UNPROTECT:
		if (mprotect(page, bench_page, RW))
			die_async("mprotect in the SIGSEGV handler failed", page);
		break;
	case LX_APPEL1:
		if (mprotect(x->last, bench_page, PROT_NONE) ||
		    mprotect(page, bench_page, RW))
			die_async("mprotect in the SIGSEGV handler failed", page);
		x->last = page;
		break;
	case LX_TRACK:
		i = (page - x->va) / bench_page;
		x->tracked[i / 64] |= 1ull << (i % 64);
		if (mprotect(page, bench_page, RW))
			die_async("mprotect in the SIGSEGV handler failed", page);
		break;
	default:
		break;
	}
	lf.faults++;
	errno = saved;
}

static void arm(struct lx_col *x, enum lx_mode mode)
{
	lf.col = x;
	lf.faults = 0;
	lf.mode = mode;
}

static void disarm(unsigned long faults, const char *what)
{
	if (lf.faults != faults)
		die("linux: %s: %lu SIGSEGVs, expected %lu", what, lf.faults,
		    faults);
	lf.mode = LX_FATAL;
}

static void xmprotect(void *va, size_t len, int prot)
{
	if (mprotect(va, len, prot))
		die("mprotect: %s", strerror(errno));
}

static void touch(struct lx_col *x, uint64_t v, const char *what)
{
	unsigned int i;

	arm(x, LX_FATAL);
	for (i = 0; i < x->npages; i++)
		bench_poke(x->va + (size_t)i * bench_page, v);
	for (i = 0; i < x->npages; i++)
		if (bench_peek(x->va + (size_t)i * bench_page) != v)
			die("linux: %s: page %u lost its write", what, i);
}

void lx_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsegv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL))
		die("sigaction(SIGSEGV): %s", strerror(errno));
}

const char *lx_setup(struct bench_col *c)
{
	struct lx_col *x = calloc(1, sizeof(*x));
	unsigned int n = c->npages;
	char *map;

	if (!x)
		die("out of memory");
	x->npages = n;
	x->len = (size_t)n * bench_page;
	map = mmap(NULL, x->len + 2 * bench_page, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	x->va = map + bench_page;
	xmprotect(x->va, x->len, RW);
	x->perm = calloc(n, sizeof(*x->perm));
	x->tracked = calloc((n + 63) / 64, sizeof(*x->tracked));
	x->report = calloc((n + 63) / 64, sizeof(*x->report));
	if (!x->perm || !x->tracked || !x->report)
		die("out of memory");
	x->pagemap = x->clear_refs = x->memfd = -1;
	touch(x, 0, "setup");
	c->priv = x;
	return NULL;
}

const char *lx_setup_appel1(struct bench_col *c)
{
	struct lx_col *x;

	lx_setup(c);
	x = c->priv;
	xmprotect(x->va, x->len, PROT_NONE);
	x->last = x->va;
	xmprotect(x->last, bench_page, RW);
	return NULL;
}

static void clear_soft_dirty(struct lx_col *x)
{
	if (write(x->clear_refs, "4", 1) != 1)
		die("write 4 to /proc/self/clear_refs: %s", strerror(errno));
}

const char *lx_setup_softdirty(struct bench_col *c)
{
	struct lx_col *x;

	lx_setup(c);
	x = c->priv;
	x->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	x->clear_refs = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (x->pagemap < 0 || x->clear_refs < 0)
		die("open /proc/self/pagemap or clear_refs: %s",
		    strerror(errno));
	x->pagemap_buf = calloc(x->npages, sizeof(*x->pagemap_buf));
	if (!x->pagemap_buf)
		die("out of memory");
	/* A kernel without CONFIG_MEM_SOFT_DIRTY never sets the bit. */
	clear_soft_dirty(x);
	bench_poke(x->va, 1);
	if (pread(x->pagemap, x->pagemap_buf, sizeof(uint64_t),
		  (off_t)((uintptr_t)x->va / bench_page * sizeof(uint64_t))) !=
	    sizeof(uint64_t))
		die("pread(/proc/self/pagemap): %s", strerror(errno));
	if (!(x->pagemap_buf[0] & PM_SOFT_DIRTY)) {
		lx_teardown(c);
		return "this kernel does not track soft-dirty bits";
	}
	clear_soft_dirty(x);
	return NULL;
}

const char *lx_setup_track(struct bench_col *c)
{
	struct lx_col *x;

	lx_setup(c);
	x = c->priv;
	xmprotect(x->va, x->len, PROT_READ);
	return NULL;
}

/* Pre-allocated memory to map, as exo maps frames it already holds. */
const char *lx_setup_map(struct bench_col *c)
{
	struct lx_col *x = calloc(1, sizeof(*x));
	char *p;

	if (!x)
		die("out of memory");
	x->npages = c->npages;
	x->len = (size_t)c->npages * bench_page;
	x->memfd = -1;
	c->priv = x;
	if (c->variant != LX_MAP_MEMFD)
		return NULL;
	x->memfd = memfd_create("exo-vm-bench", MFD_CLOEXEC);
	if (x->memfd < 0)
		die("memfd_create: %s", strerror(errno));
	if (ftruncate(x->memfd, x->len))
		die("ftruncate(memfd): %s", strerror(errno));
	p = mmap(NULL, x->len, RW, MAP_SHARED | MAP_POPULATE, x->memfd, 0);
	if (p == MAP_FAILED)
		die("mmap(memfd): %s", strerror(errno));
	memset(p, 0, x->len);
	munmap(p, x->len);
	return NULL;
}

/* A memfd mapped shared: its pages stay in the page cache when unmapped. */
const char *lx_setup_refill(struct bench_col *c)
{
	struct lx_col *x;
	char *p;

	lx_setup_map(c);
	x = c->priv;
	p = mmap(NULL, x->len + 2 * bench_page, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	x->va = mmap(p + bench_page, x->len, RW, MAP_SHARED | MAP_FIXED,
		     x->memfd, 0);
	if (x->va == MAP_FAILED)
		die("mmap(memfd): %s", strerror(errno));
	*(volatile uint64_t *)x->va = 0x65786f2d6d656d66ull;	/* "exo-memf" */
	return NULL;
}

void lx_teardown(struct bench_col *c)
{
	struct lx_col *x = c->priv;

	if (x->va && munmap(x->va - bench_page, x->len + 2 * bench_page))
		die("munmap: %s", strerror(errno));
	if (x->pagemap >= 0)
		close(x->pagemap);
	if (x->clear_refs >= 0)
		close(x->clear_refs);
	if (x->memfd >= 0)
		close(x->memfd);
	free(x->perm);
	free(x->tracked);
	free(x->report);
	free(x->pagemap_buf);
	free(x);
}

void lx_trap(struct bench_col *c, double *out)
{
	struct lx_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	xmprotect(x->va, bench_page, PROT_NONE);
	arm(x, LX_UNPROTECT);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	disarm(1, "TRAP");
	if (bench_peek(x->va) != v)
		die("linux: TRAP: the write was lost");
}

/* An unbacked page: the handler gives access, the retry fills a zero page. */
void lx_trap_miss(struct bench_col *c, double *out)
{
	struct lx_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	if (madvise(x->va, bench_page, MADV_DONTNEED))
		die("madvise(MADV_DONTNEED): %s", strerror(errno));
	xmprotect(x->va, bench_page, PROT_NONE);
	arm(x, LX_UNPROTECT);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	disarm(1, "TRAP-MISS");
	if (bench_peek(x->va) != v || *(volatile uint64_t *)x->va)
		die("linux: TRAP-MISS: the page is not a fresh zero page");
}

/* The page is in the page cache: a minor fault maps it again. */
void lx_refill(struct bench_col *c, double *out)
{
	struct lx_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	if (madvise(x->va, bench_page, MADV_DONTNEED))
		die("madvise(MADV_DONTNEED): %s", strerror(errno));
	arm(x, LX_FATAL);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	disarm(0, "REFILL");
	if (bench_peek(x->va) != v ||
	    *(volatile uint64_t *)x->va != 0x65786f2d6d656d66ull)
		die("linux: REFILL: the page is not the memfd's page");
}

void lx_prot(struct bench_col *c, double *out)
{
	struct lx_col *x = c->priv;
	uint64_t t0;
	int ret;

	t0 = bench_now();
	ret = mprotect(x->va, x->len, PROT_NONE);
	out[0] = bench_since(t0);
	if (ret)
		die("mprotect: %s", strerror(errno));
	xmprotect(x->va, x->len, RW);
	touch(x, ++x->round, "PROT");
}

void lx_unprot(struct bench_col *c, double *out)
{
	struct lx_col *x = c->priv;
	uint64_t t0;
	int ret;

	xmprotect(x->va, x->len, PROT_NONE);
	t0 = bench_now();
	ret = mprotect(x->va, x->len, RW);
	out[0] = bench_since(t0);
	if (ret)
		die("mprotect: %s", strerror(errno));
	touch(x, ++x->round, "UNPROT");
}

void lx_appel1(struct bench_col *c, double *out)
{
	struct lx_col *x = c->priv;
	uint64_t v = ++x->round, t0;
	char *p;

	do
		p = x->va + bench_rand(x->npages) * bench_page;
	while (p == x->last);
	arm(x, LX_APPEL1);
	t0 = bench_now();
	bench_poke(p, v);
	out[0] = bench_since(t0);
	disarm(1, "APPEL1");
	if (x->last != p || bench_peek(p) != v)
		die("linux: APPEL1: the handler did not unprotect the page");
}

void lx_appel2(struct bench_col *c, double *out)
{
	struct lx_col *x = c->priv;
	unsigned int i, n = x->npages;
	uint64_t v = ++x->round, t0;
	int ret;

	bench_shuffle(x->perm, n);
	arm(x, LX_UNPROTECT);
	t0 = bench_now();
	ret = mprotect(x->va, x->len, PROT_NONE);
	for (i = 0; i < n && !ret; i++)
		bench_poke(x->va + (size_t)x->perm[i] * bench_page, v);
	out[0] = bench_since(t0) / n;
	if (ret)
		die("mprotect: %s", strerror(errno));
	disarm(n, "APPEL2");
	for (i = 0; i < n; i++)
		if (bench_peek(x->va + (size_t)i * bench_page) != v)
			die("linux: APPEL2: page %u lost its write", i);
}

/* Soft-dirty: read the bits from pagemap, then clear them (all of them). */
void lx_softdirty(struct bench_col *c, double *out)
{
	struct lx_col *x = c->priv;
	size_t bytes = (size_t)x->npages * sizeof(uint64_t);
	uint64_t v = ++x->round, t0;
	unsigned int i;
	ssize_t got;
	int dirty = 0;

	vm_pick(x->perm, x->npages);
	arm(x, LX_FATAL);
	t0 = bench_now();
	for (i = 0; i < VM_DIRTY_WRITES; i++)
		bench_poke(x->va + (size_t)x->perm[i] * bench_page, v);
	out[1] = bench_since(t0) / VM_DIRTY_WRITES;
	t0 = bench_now();
	got = pread(x->pagemap, x->pagemap_buf, bytes,
		    (off_t)((uintptr_t)x->va / bench_page * sizeof(uint64_t)));
	clear_soft_dirty(x);
	memset(x->report, 0, (x->npages + 63) / 64 * sizeof(uint64_t));
	for (i = 0; i < x->npages; i++) {
		if (!(x->pagemap_buf[i] & PM_SOFT_DIRTY))
			continue;
		x->report[i / 64] |= 1ull << (i % 64);
		dirty++;
	}
	out[0] = bench_since(t0);
	if (got != (ssize_t)bytes)
		die("pread(/proc/self/pagemap): %zd of %zu bytes: %s", got,
		    bytes, got < 0 ? strerror(errno) : "short read");
	for (i = 0; i < x->npages; i++)
		if (!(x->pagemap_buf[i] & PM_PRESENT))
			die("linux: soft-dirty: page %u is not present", i);
	vm_check_dirty("soft-dirty", x->report, dirty, x->npages, x->perm,
		       VM_DIRTY_WRITES);
}

/*
 * mprotect tracking: pages are read-only, the first write to each faults
 * and the handler records it and makes the page writable; a DIRTY call
 * takes the record and makes the region read-only again.
 */
void lx_track(struct bench_col *c, double *out)
{
	struct lx_col *x = c->priv;
	size_t words = (x->npages + 63) / 64;
	uint64_t v = ++x->round, t0;
	unsigned int i;
	int dirty = 0, ret;

	vm_pick(x->perm, x->npages);
	arm(x, LX_TRACK);
	t0 = bench_now();
	for (i = 0; i < VM_DIRTY_WRITES; i++)
		bench_poke(x->va + (size_t)x->perm[i] * bench_page, v);
	out[1] = bench_since(t0) / VM_DIRTY_WRITES;
	disarm(VM_DIRTY_WRITES, "mprotect tracking");
	t0 = bench_now();
	for (i = 0; i < words; i++) {
		x->report[i] = x->tracked[i];
		x->tracked[i] = 0;
		dirty += __builtin_popcountll(x->report[i]);
	}
	ret = mprotect(x->va, x->len, PROT_READ);
	out[0] = bench_since(t0);
	if (ret)
		die("mprotect: %s", strerror(errno));
	vm_check_dirty("mprotect tracking", x->report, dirty, x->npages,
		       x->perm, VM_DIRTY_WRITES);
}

void lx_map(struct bench_col *c, double *out)
{
	struct lx_col *x = c->priv;
	uint64_t v = ++x->round, t0;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	unsigned int i;
	char *p;

	if (c->variant == LX_MAP_POPULATE)
		flags |= MAP_POPULATE;
	else if (c->variant == LX_MAP_MEMFD)
		flags = MAP_SHARED | MAP_POPULATE;
	t0 = bench_now();
	p = mmap(NULL, x->len, RW, flags, x->memfd, 0);
	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	for (i = 0; i < x->npages; i++)
		bench_poke(p + (size_t)i * bench_page, v);
	out[0] = bench_since(t0);
	for (i = 0; i < x->npages; i++)
		if (bench_peek(p + (size_t)i * bench_page) != v)
			die("linux: MAP: page %u lost its write", i);
	if (munmap(p, x->len))
		die("munmap: %s", strerror(errno));
}
