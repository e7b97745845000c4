// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/* exo-tutorial: the library OS of Documentation/tutorial.rst, from
 * exo_open() to a page fault it handles itself. Exits 1 on any failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <libexo.h>

static struct exo *exo;
static struct exo_upcall_frame seen;	/* the fault, as the handler saw it */

static void check(int ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "exo-tutorial: FAILED: %s: %s\n", what, strerror(-ret));
		exit(1);
	}
}

/* The library OS's page-fault handler, entered by an upcall. */
static void on_fault(struct exo_upcall_frame *f, void *arg)
{
	uint64_t page = f->va & ~(uint64_t)(exo_api(exo)->page_size - 1);
	struct exo_frame frame;

	(void)arg;
	seen = *f;
	check(exo_frame_alloc(exo, &frame), "exo_frame_alloc");
	check(exo_vma_map_one(exo, (void *)(uintptr_t)page, frame.cap, 0,
			      EXO_PROT_READ | EXO_PROT_WRITE), "exo_vma_map_one");
}

int main(void)
{
	struct exo_ctx_info info = { .size = sizeof(info) };
	volatile char *mem;
	void *region;
	size_t len;

	check(exo_open(&exo), "exo_open");
	len = exo_api(exo)->page_size;
	check(exo_vma_create(exo, len, PROT_READ | PROT_WRITE, &region), "exo_vma_create");
	check(exo_upcall_set(exo, on_fault, NULL), "exo_upcall_set");

	mem = region;
	mem[100] = 42;		/* no frame there yet: on_fault() binds one */

	check(exo_ctx_info(exo, &info), "exo_ctx_info");
	printf("exo-tutorial: context %u: %s fault at +%llu, %llu upcall, %llu page bound, "
	       "read back %d\n", info.ctx_id, seen.fault == EXO_FAULT_WRITE ? "a write" : "a",
	       (unsigned long long)(seen.va - (uintptr_t)region),
	       (unsigned long long)info.upcalls, (unsigned long long)info.bindings, mem[100]);
	if (seen.va != (uintptr_t)&mem[100] || seen.fault != EXO_FAULT_WRITE ||
	    info.upcalls != 1 || info.bindings != 1 || mem[100] != 42)
		check(-EPROTO, "expected one write fault at +100, one upcall, one page, 42");
	check(exo_vma_destroy(exo, region, len), "exo_vma_destroy");
	exo_close(exo);
	printf("exo-tutorial: OK\n");
	return 0;
}
