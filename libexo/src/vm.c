// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * libexo: the raw virtual-memory calls. Each is one mmap(2), munmap(2),
 * ioctl(2) or read(2) on the context's fd; fields a struct's initialiser
 * does not name are zero, because the module rejects non-zero unused
 * fields. Policy (which page goes where, when to evict) is in the managed
 * region's files (vm_internal.h), not here.
 *
 * Everything here is async-signal-safe: the pager calls it from its SIGBUS
 * handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libexo.h"
#include "internal.h"

static int vm_len_ok(const struct exo *exo, size_t len)
{
	return len && !(len % exo->api.page_size);
}

int exo_vma_create(struct exo *exo, size_t len, int prot, void **out)
{
	void *p;

	if (!exo || !out || !vm_len_ok(exo, len) ||
	    (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	p = mmap(NULL, len, prot, MAP_SHARED, exo->fd, EXO_MMAP_VM);
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

int exo_vma_destroy(struct exo *exo, void *addr, size_t len)
{
	if (!exo || !addr || !vm_len_ok(exo, len))
		return -EINVAL;
	if (munmap(addr, len))
		return -errno;
	return 0;
}

int exo_vma_map(struct exo *exo, const struct exo_map_entry *entries,
		uint32_t nr)
{
	struct exo_map m = {
		.size = sizeof(m),
		.nr = nr,
		.entries = (uintptr_t)entries,
	};

	if (!exo || !entries || !nr)
		return -EINVAL;
	return lx_ioctl(exo, EXO_IOC_MAP, &m);
}

int exo_vma_map_one(struct exo *exo, void *va, exo_cap_t cap, uint32_t frame,
		    uint32_t prot)
{
	struct exo_map_entry e = {
		.va = (uintptr_t)va,
		.cap = cap,
		.frame = frame,
		.nr = 1,
		.prot = prot,
	};

	return exo_vma_map(exo, &e, 1);
}

static int vm_ranges(struct exo *exo, unsigned long cmd,
		     const struct exo_vrange *ranges, uint32_t nr,
		     uint32_t prot, uint32_t flags)
{
	struct exo_vm_ranges r = {
		.size = sizeof(r),
		.flags = flags,
		.prot = prot,
		.nr = nr,
		.ranges = (uintptr_t)ranges,
	};

	if (!exo || !ranges || !nr)
		return -EINVAL;
	return lx_ioctl(exo, cmd, &r);
}

int exo_vma_unmap(struct exo *exo, const struct exo_vrange *ranges,
		  uint32_t nr)
{
	return vm_ranges(exo, EXO_IOC_UNMAP, ranges, nr, 0, 0);
}

int exo_vma_protect(struct exo *exo, const struct exo_vrange *ranges,
		    uint32_t nr, uint32_t prot)
{
	return vm_ranges(exo, EXO_IOC_PROTECT, ranges, nr, prot, 0);
}

int exo_vma_protect_flags(struct exo *exo, const struct exo_vrange *ranges,
			  uint32_t nr, uint32_t prot, uint32_t flags)
{
	return vm_ranges(exo, EXO_IOC_PROTECT, ranges, nr, prot, flags);
}

int exo_vma_query(struct exo *exo, void *va, uint32_t nr, uint32_t flags,
		  struct exo_vpage *out)
{
	struct exo_query q = {
		.size = sizeof(q),
		.flags = flags,
		.va = (uintptr_t)va,
		.nr = nr,
		.pages = (uintptr_t)out,
	};

	if (!exo || !out || !nr)
		return -EINVAL;
	return lx_ioctl(exo, EXO_IOC_QUERY, &q);
}

int exo_vma_dirty(struct exo *exo, void *va, uint32_t nr, uint64_t *bitmap)
{
	struct exo_dirty d = {
		.size = sizeof(d),
		.va = (uintptr_t)va,
		.nr = nr,
		.bitmap = (uintptr_t)bitmap,
	};
	int ret;

	if (!exo || !bitmap || !nr)
		return -EINVAL;
	ret = lx_ioctl(exo, EXO_IOC_DIRTY, &d);
	if (ret)
		return ret;
	/* The count is what callers loop on; keep it within int. */
	return d.dirty > INT32_MAX ? INT32_MAX : (int)d.dirty;
}

int exo_stlb_set(struct exo *exo, struct exo_upte *table, void *base,
		 uint32_t nr_entries)
{
	struct exo_stlb s = {
		.size = sizeof(s),
		.table = (uintptr_t)table,
		.base = table ? (uintptr_t)base : 0,
		.nr_entries = nr_entries,
	};

	if (!exo || (!table) != (!nr_entries))
		return -EINVAL;
	return lx_ioctl(exo, EXO_IOC_STLB, &s);
}

int exo_fault_mode_set(struct exo *exo, uint32_t mode)
{
	struct exo_fault_mode m = { .size = sizeof(m), .mode = mode };
	int ret;

	if (!exo)
		return -EINVAL;
	ret = lx_ioctl(exo, EXO_IOC_FAULT_MODE, &m);
	return ret ? ret : (int)m.mode;
}

/*
 * A nonblocking read puts the file in O_NONBLOCK mode (once, and for good):
 * a poll(2)-then-read(2) without it could block if another thread took the
 * event in between. A blocking read then waits in poll(2) when the file is
 * nonblocking, so either kind of call is right in any order.
 */
int exo_fault_read(struct exo *exo, struct exo_fault_event *events,
		   uint32_t max, int nonblock)
{
	size_t len = (size_t)max * sizeof(*events);
	struct pollfd pfd;
	ssize_t n;
	int fl;

	if (!exo || !events || !max)
		return -EINVAL;
	pfd.fd = exo->fd;
	pfd.events = POLLIN;
	if (nonblock) {
		fl = fcntl(pfd.fd, F_GETFL);
		if (fl < 0)
			return -errno;
		if (!(fl & O_NONBLOCK) &&
		    fcntl(pfd.fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return -errno;
	}
	for (;;) {
		n = read(pfd.fd, events, len);
		if (n >= 0)
			return (int)(n / sizeof(*events));
		if (errno != EAGAIN)
			return -errno;
		if (nonblock)
			return 0;
		if (poll(&pfd, 1, -1) < 0)
			return -errno;
	}
}

int exo_fault_wake(struct exo *exo, void *va, size_t len, uint32_t flags)
{
	struct exo_fault_wake w = {
		.size = sizeof(w),
		.flags = flags,
		.va = (uintptr_t)va,
		.len = len,
	};

	if (!exo)
		return -EINVAL;
	return lx_ioctl(exo, EXO_IOC_FAULT_WAKE, &w);
}
