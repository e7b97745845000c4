// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-vm-bench, the userfaultfd columns: Linux's own way to hand faults
 * to user space. A fault thread reads each fault from the userfaultfd and
 * resolves it with UFFDIO_WRITEPROTECT (write-protect faults) or
 * UFFDIO_COPY (missing pages); the ioctl wakes the faulting thread.
 * Write-protection is all userfaultfd offers: these columns protect
 * against writes, where exo and mprotect protect against every access.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vm-bench.h"

#define UF_MARK		0x7566666463707921ull	/* what UFFDIO_COPY brings */

struct uf_col {
	char *va;
	size_t len;
	unsigned int npages;
	char *last;			/* APPEL1: the one page unprotected */
	unsigned int *perm;
	uint64_t round;
};

enum uf_mode { UF_FATAL, UF_UNPROTECT, UF_COPY, UF_APPEL1 };

static int uffd = -1;
static char why[128];
static char *src;			/* the page UFFDIO_COPY copies */

/* Set by the main thread while the fault thread sleeps in read(2). */
static struct {
	struct uf_col *col;
	enum uf_mode mode;
	unsigned long faults;
} uf;

static int wp(char *va, size_t len, int on)
{
	struct uffdio_writeprotect w = {
		.range = { (uintptr_t)va, len },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &w);
}

static void xwp(char *va, size_t len, int on)
{
	if (wp(va, len, on))
		die("UFFDIO_WRITEPROTECT: %s", strerror(errno));
}

/* The fault thread's half; the last ioctl wakes the faulting thread. */
static void resolve(uint64_t addr, uint64_t flags)
{
	struct uf_col *x = __atomic_load_n(&uf.col, __ATOMIC_ACQUIRE);
	enum uf_mode mode = __atomic_load_n(&uf.mode, __ATOMIC_ACQUIRE);
	char *page = (char *)(uintptr_t)(addr & ~(uint64_t)(bench_page - 1));
	int is_wp = !!(flags & UFFD_PAGEFAULT_FLAG_WP);
	struct uffdio_copy copy;

	if (mode == UF_FATAL || !x || page < x->va || page >= x->va + x->len)
		die_async("unexpected userfaultfd fault", page);
	if (!(flags & UFFD_PAGEFAULT_FLAG_WRITE) || is_wp != (mode != UF_COPY))
		die_async("userfaultfd fault of an unexpected kind", page);
	__atomic_add_fetch(&uf.faults, 1, __ATOMIC_RELEASE);
	switch (mode) {
	case UF_UNPROTECT:
		if (wp(page, bench_page, 0))
			die_async("UFFDIO_WRITEPROTECT in the fault thread failed",
				  page);
		break;
	case UF_COPY:
		memset(&copy, 0, sizeof(copy));
		copy.dst = (uintptr_t)page;
		copy.src = (uintptr_t)src;
		copy.len = bench_page;
		if (ioctl(uffd, UFFDIO_COPY, &copy) ||
		    copy.copy != (int64_t)bench_page)
			die_async("UFFDIO_COPY in the fault thread failed", page);
		break;
	case UF_APPEL1:
		if (wp(x->last, bench_page, 1))
			die_async("UFFDIO_WRITEPROTECT in the fault thread failed",
				  x->last);
		x->last = page;
		if (wp(page, bench_page, 0))
			die_async("UFFDIO_WRITEPROTECT in the fault thread failed",
				  page);
		break;
	default:
		break;
	}
}

static void *fault_thread(void *arg)
{
	struct uffd_msg msg;
	sigset_t all;
	ssize_t n;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		n = read(uffd, &msg, sizeof(msg));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(msg))
			die_async("read from the userfaultfd failed", NULL);
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			die_async("unexpected userfaultfd event", NULL);
		resolve(msg.arg.pagefault.address, msg.arg.pagefault.flags);
	}
	return NULL;
}

void uf_init(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	pthread_t t;
	int ret;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0) {
		snprintf(why, sizeof(why), "userfaultfd(2): %s",
			 strerror(errno));
		return;
	}
	if (ioctl(uffd, UFFDIO_API, &api)) {
		snprintf(why, sizeof(why), "UFFDIO_API: %s", strerror(errno));
		close(uffd);
		uffd = -1;
		return;
	}
	src = mmap(NULL, bench_page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	*(uint64_t *)src = UF_MARK;
	ret = pthread_create(&t, NULL, fault_thread, NULL);
	if (ret)
		die("pthread_create: %s", strerror(ret));
	pthread_detach(t);
}

static void arm(struct uf_col *x, enum uf_mode mode)
{
	__atomic_store_n(&uf.faults, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&uf.col, x, __ATOMIC_RELEASE);
	__atomic_store_n(&uf.mode, mode, __ATOMIC_RELEASE);
}

static void disarm(unsigned long faults, const char *what)
{
	unsigned long got = __atomic_load_n(&uf.faults, __ATOMIC_ACQUIRE);

	if (got != faults)
		die("userfaultfd: %s: %lu faults, expected %lu", what, got,
		    faults);
	__atomic_store_n(&uf.mode, UF_FATAL, __ATOMIC_RELEASE);
}

const char *uf_setup(struct bench_col *c)
{
	struct uffdio_register reg;
	struct uf_col *x;
	unsigned int i;

	if (uffd < 0)
		return why;
	x = calloc(1, sizeof(*x));
	if (!x)
		die("out of memory");
	x->npages = c->npages;
	x->len = (size_t)c->npages * bench_page;
	x->va = mmap(NULL, x->len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	x->perm = calloc(x->npages, sizeof(*x->perm));
	if (x->va == MAP_FAILED || !x->perm)
		die("out of memory");
	/* Present before registering: write-protection needs a page. */
	for (i = 0; i < x->npages; i++)
		bench_poke(x->va + (size_t)i * bench_page, 0);

	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)x->va;
	reg.range.len = x->len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		snprintf(why, sizeof(why),
			 "UFFDIO_REGISTER (missing + write-protect): %s",
			 strerror(errno));
		munmap(x->va, x->len);
		free(x->perm);
		free(x);
		return why;
	}
	if (!(reg.ioctls & (1ull << _UFFDIO_WRITEPROTECT)) ||
	    !(reg.ioctls & (1ull << _UFFDIO_COPY)))
		die("userfaultfd: UFFDIO_REGISTER offers no WRITEPROTECT or COPY");
	c->priv = x;
	return NULL;
}

const char *uf_setup_appel1(struct bench_col *c)
{
	const char *skip = uf_setup(c);
	struct uf_col *x;

	if (skip)
		return skip;
	x = c->priv;
	xwp(x->va, x->len, 1);
	x->last = x->va;
	xwp(x->last, bench_page, 0);
	return NULL;
}

void uf_teardown(struct bench_col *c)
{
	struct uf_col *x = c->priv;
	struct uffdio_range r = { (uintptr_t)x->va, x->len };

	if (ioctl(uffd, UFFDIO_UNREGISTER, &r))
		die("UFFDIO_UNREGISTER: %s", strerror(errno));
	munmap(x->va, x->len);
	free(x->perm);
	free(x);
}

void uf_trap(struct bench_col *c, double *out)
{
	struct uf_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	xwp(x->va, bench_page, 1);
	arm(x, UF_UNPROTECT);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	disarm(1, "TRAP");
	if (bench_peek(x->va) != v)
		die("userfaultfd: TRAP: the write was lost");
}

void uf_trap_miss(struct bench_col *c, double *out)
{
	struct uf_col *x = c->priv;
	uint64_t v = ++x->round, t0;

	if (madvise(x->va, bench_page, MADV_DONTNEED))
		die("madvise(MADV_DONTNEED): %s", strerror(errno));
	arm(x, UF_COPY);
	t0 = bench_now();
	bench_poke(x->va, v);
	out[0] = bench_since(t0);
	disarm(1, "TRAP-MISS");
	if (bench_peek(x->va) != v || *(volatile uint64_t *)x->va != UF_MARK)
		die("userfaultfd: TRAP-MISS: the page is not the copied one");
}

void uf_prot(struct bench_col *c, double *out)
{
	struct uf_col *x = c->priv;
	uint64_t t0;
	int ret;

	t0 = bench_now();
	ret = wp(x->va, x->len, 1);
	out[0] = bench_since(t0);
	if (ret)
		die("UFFDIO_WRITEPROTECT: %s", strerror(errno));
	xwp(x->va, x->len, 0);
}

void uf_unprot(struct bench_col *c, double *out)
{
	struct uf_col *x = c->priv;
	uint64_t t0;
	int ret;

	xwp(x->va, x->len, 1);
	t0 = bench_now();
	ret = wp(x->va, x->len, 0);
	out[0] = bench_since(t0);
	if (ret)
		die("UFFDIO_WRITEPROTECT: %s", strerror(errno));
}

void uf_appel1(struct bench_col *c, double *out)
{
	struct uf_col *x = c->priv;
	uint64_t v = ++x->round, t0;
	char *p;

	do
		p = x->va + bench_rand(x->npages) * bench_page;
	while (p == x->last);
	arm(x, UF_APPEL1);
	t0 = bench_now();
	bench_poke(p, v);
	out[0] = bench_since(t0);
	disarm(1, "APPEL1");
	if (x->last != p || bench_peek(p) != v)
		die("userfaultfd: APPEL1: the fault thread did not unprotect the page");
}

void uf_appel2(struct bench_col *c, double *out)
{
	struct uf_col *x = c->priv;
	unsigned int i, n = x->npages;
	uint64_t v = ++x->round, t0;
	int ret;

	bench_shuffle(x->perm, n);
	arm(x, UF_UNPROTECT);
	t0 = bench_now();
	ret = wp(x->va, x->len, 1);
	for (i = 0; i < n && !ret; i++)
		bench_poke(x->va + (size_t)x->perm[i] * bench_page, v);
	out[0] = bench_since(t0) / n;
	if (ret)
		die("UFFDIO_WRITEPROTECT: %s", strerror(errno));
	disarm(n, "APPEL2");
	for (i = 0; i < n; i++)
		if (bench_peek(x->va + (size_t)i * bench_page) != v)
			die("userfaultfd: APPEL2: page %u lost its write", i);
}
