// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-vm-bench, the PAGEMAP_SCAN column of DIRTY: the newest Linux way to
 * find the pages written since the last look (Linux 6.7; the column says
 * so and is skipped on 6.1). A userfaultfd with UFFD_FEATURE_WP_ASYNC
 * write-protects the range; the kernel itself lifts the protection at a
 * page's first write, no fault reaching user space; one PAGEMAP_SCAN
 * ioctl of /proc/self/pagemap reports the written pages and write-protects
 * them again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vm-bench.h"

/*
 * Debian 12's linux-libc-dev is 6.1's: the 6.7 interface, as its uapi
 * (include/uapi/linux/fs.h, userfaultfd.h) defines it.
 */
#ifndef PAGEMAP_SCAN
#define PAGE_IS_WRITTEN		(1 << 1)
#define PM_SCAN_WP_MATCHING	(1 << 0)
#define PM_SCAN_CHECK_WPASYNC	(1 << 1)
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN	_IOWR('f', 16, struct pm_scan_arg)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC	(1 << 15)
#endif

struct pm_col {
	char *va;
	size_t len;
	unsigned int npages;
	unsigned int *perm;
	uint64_t *report;
	struct page_region *vec;
	uint64_t round;
	int uffd, pagemap;
};

static char why[128];

void pm_teardown(struct bench_col *c)
{
	struct pm_col *x = c->priv;

	if (!x)
		return;
	if (x->pagemap >= 0)
		close(x->pagemap);
	if (x->uffd >= 0)
		close(x->uffd);
	if (x->va)
		munmap(x->va, x->len);
	free(x->perm);
	free(x->report);
	free(x->vec);
	free(x);
	c->priv = NULL;
}

/* Why the column cannot run, after undoing what setup did. */
static const char *refuse(struct bench_col *c, const char *what, int err)
{
	snprintf(why, sizeof(why), "%s: %s", what, strerror(err));
	pm_teardown(c);
	return why;
}

const char *pm_setup_dirty(struct bench_col *c)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_WP_ASYNC,
	};
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	struct pm_col *x = calloc(1, sizeof(*x));
	unsigned int i;

	if (!x)
		die("out of memory");
	c->priv = x;
	x->uffd = x->pagemap = -1;
	x->npages = c->npages;
	x->len = (size_t)x->npages * bench_page;
	x->perm = calloc(x->npages, sizeof(*x->perm));
	x->report = calloc((x->npages + 63) / 64, sizeof(*x->report));
	x->vec = calloc(x->npages, sizeof(*x->vec));
	if (!x->perm || !x->report || !x->vec)
		die("out of memory");
	x->va = mmap(NULL, x->len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (x->va == MAP_FAILED) {
		x->va = NULL;
		die("mmap: %s", strerror(errno));
	}
	for (i = 0; i < x->npages; i++)
		bench_poke(x->va + (size_t)i * bench_page, 0);
	x->uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (x->uffd < 0)
		return refuse(c, "userfaultfd", errno);
	/* 6.1 refuses the feature it does not know. */
	if (ioctl(x->uffd, UFFDIO_API, &api))
		return refuse(c, "UFFD_FEATURE_WP_ASYNC (Linux 6.7)", errno);
	reg.range.start = (uintptr_t)x->va;
	reg.range.len = x->len;
	if (ioctl(x->uffd, UFFDIO_REGISTER, &reg))
		return refuse(c, "UFFDIO_REGISTER", errno);
	wp.range = reg.range;
	if (ioctl(x->uffd, UFFDIO_WRITEPROTECT, &wp))
		return refuse(c, "UFFDIO_WRITEPROTECT", errno);
	x->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (x->pagemap < 0)
		return refuse(c, "open /proc/self/pagemap", errno);
	return NULL;
}

void pm_dirty(struct bench_col *c, double *out)
{
	struct pm_col *x = c->priv;
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.start = (uintptr_t)x->va,
		.end = (uintptr_t)x->va + x->len,
		.vec = (uintptr_t)x->vec,
		.vec_len = x->npages,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	uint64_t v = ++x->round, t0, a;
	unsigned int i, p;
	int n, dirty = 0;

	vm_pick(x->perm, x->npages);
	t0 = bench_now();
	for (i = 0; i < VM_DIRTY_WRITES; i++)
		bench_poke(x->va + (size_t)x->perm[i] * bench_page, v);
	out[1] = bench_since(t0) / VM_DIRTY_WRITES;
	t0 = bench_now();
	n = ioctl(x->pagemap, PAGEMAP_SCAN, &arg);
	if (n < 0)
		die("PAGEMAP_SCAN: %s", strerror(errno));
	memset(x->report, 0, (x->npages + 63) / 64 * sizeof(uint64_t));
	for (i = 0; i < (unsigned int)n; i++) {
		for (a = x->vec[i].start; a < x->vec[i].end; a += bench_page) {
			p = (a - (uintptr_t)x->va) / bench_page;
			x->report[p / 64] |= 1ull << (p % 64);
			dirty++;
		}
	}
	out[0] = bench_since(t0);
	if (arg.walk_end != arg.end)
		die("PAGEMAP_SCAN stopped at %#llx of %#llx",
		    (unsigned long long)arg.walk_end,
		    (unsigned long long)arg.end);
	vm_check_dirty("pagemap-scan", x->report, dirty, x->npages, x->perm,
		       VM_DIRTY_WRITES);
}
