// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * libexo: the raw virtual-memory calls. Each is one mmap(2), munmap(2),
 * ioctl(2) or read(2) on the context's fd; the structs are zeroed first
 * because the module rejects non-zero unused fields. Policy (which page
 * goes where, when to evict) is in vm_region.c and pager.c, not here.
 *
 * Everything here is async-signal-safe: the pager calls it from its SIGBUS
 * handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libexo.h"

static int vm_ioctl(struct exo *exo, unsigned long cmd, void *arg)
{
	if (ioctl(exo_fd(exo), cmd, arg) < 0)
		return -errno;
	return 0;
}

static int vm_len_ok(const struct exo *exo, size_t len)
{
	return len && !(len % exo_api(exo)->page_size);
}

int exo_vma_create(struct exo *exo, size_t len, int prot, void **out)
{
	void *p;

	if (!exo || !out || !vm_len_ok(exo, len) ||
	    (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	p = mmap(NULL, len, prot, MAP_SHARED, exo_fd(exo), EXO_MMAP_VM);
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
	struct exo_map m;

	if (!exo || !entries || !nr)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.nr = nr;
	m.entries = (uintptr_t)entries;
	return vm_ioctl(exo, EXO_IOC_MAP, &m);
}

int exo_vma_map_one(struct exo *exo, void *va, exo_cap_t cap, uint32_t frame,
		    uint32_t prot)
{
	struct exo_map_entry e;

	memset(&e, 0, sizeof(e));
	e.va = (uintptr_t)va;
	e.cap = cap;
	e.frame = frame;
	e.nr = 1;
	e.prot = prot;
	return exo_vma_map(exo, &e, 1);
}

static int vm_ranges(struct exo *exo, unsigned long cmd,
		     const struct exo_vrange *ranges, uint32_t nr,
		     uint32_t prot, uint32_t flags)
{
	struct exo_vm_ranges r;

	if (!exo || !ranges || !nr)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.flags = flags;
	r.prot = prot;
	r.nr = nr;
	r.ranges = (uintptr_t)ranges;
	return vm_ioctl(exo, cmd, &r);
}

int exo_vma_unmap(struct exo *exo, const struct exo_vrange *ranges, uint32_t nr)
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
	struct exo_query q;

	if (!exo || !out || !nr)
		return -EINVAL;
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.flags = flags;
	q.va = (uintptr_t)va;
	q.nr = nr;
	q.pages = (uintptr_t)out;
	return vm_ioctl(exo, EXO_IOC_QUERY, &q);
}

int exo_vma_dirty(struct exo *exo, void *va, uint32_t nr, uint64_t *bitmap)
{
	struct exo_dirty d;
	int ret;

	if (!exo || !bitmap || !nr)
		return -EINVAL;
	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.va = (uintptr_t)va;
	d.nr = nr;
	d.bitmap = (uintptr_t)bitmap;
	ret = vm_ioctl(exo, EXO_IOC_DIRTY, &d);
	if (ret)
		return ret;
	/* The count is what callers loop on; keep it within int. */
	return d.dirty > INT32_MAX ? INT32_MAX : (int)d.dirty;
}

int exo_stlb_set(struct exo *exo, struct exo_upte *table, void *base,
		 uint32_t nr_entries)
{
	struct exo_stlb s;

	if (!exo || (!table) != (!nr_entries))
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.table = (uintptr_t)table;
	s.base = table ? (uintptr_t)base : 0;
	s.nr_entries = nr_entries;
	return vm_ioctl(exo, EXO_IOC_STLB, &s);
}

int exo_fault_mode_set(struct exo *exo, uint32_t mode)
{
	struct exo_fault_mode m;
	int ret;

	if (!exo)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.mode = mode;
	ret = vm_ioctl(exo, EXO_IOC_FAULT_MODE, &m);
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
	pfd.fd = exo_fd(exo);
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
	struct exo_fault_wake w;

	if (!exo)
		return -EINVAL;
	memset(&w, 0, sizeof(w));
	w.size = sizeof(w);
	w.flags = flags;
	w.va = (uintptr_t)va;
	w.len = len;
	return vm_ioctl(exo, EXO_IOC_FAULT_WAKE, &w);
}
