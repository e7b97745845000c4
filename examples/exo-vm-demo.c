// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-vm-demo: a small library OS that manages its own virtual memory.
 *
 * Three programs on libexo's managed regions (exo_vm_create(3)):
 *
 *  1. a pager: a working set eight times the frame budget, under each
 *     replacement policy (CLOCK, LRU, FIFO and an application's own) and
 *     each way of taking faults (a SIGBUS handler, a fault thread reading
 *     fault events, Aegis-style upcalls), every byte checked after it went
 *     out to the backing file and back;
 *  2. an incremental checkpointer: DIRTY names the pages written since the
 *     last checkpoint, and only those are saved; a restore from the
 *     checkpoint file matches the live memory byte for byte;
 *  3. a concurrent collector's write barrier: PROTN makes the heap
 *     read-only in one call, TRAP records each page the mutator writes
 *     and UNPROTs it, and the collector reads the heap through a MAP2
 *     alias that the barrier never touches;
 *  4. revocation: exo asks the library OS for frames back and the pager
 *     chooses which (spare frames, then clean cold pages) before the
 *     deadline; then the library OS ignores a request, the abort protocol
 *     takes frames by force, and the pager gets every byte back from the
 *     repossession vector.
 *
 * Prints what it does and its counters; ends with "exo-vm-demo: OK", or
 * "exo-vm-demo: FAILED: ..." and exit status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libexo.h>

#define PAGER_PAGES	256	/* 1 MiB of 4 KiB pages ... */
#define PAGER_BUDGET	32	/* ... in 128 KiB of frames */
#define CKPT_PAGES	64
#define CKPT_BUDGET	16
#define HEAP_PAGES	32
#define REVOKE_PAGES	48	/* in a budget of ... */
#define REVOKE_BUDGET	32
#define REVOKE_ASK	8

static size_t psz;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "exo-vm-demo: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void check(int ret, const char *what)
{
	if (ret < 0)
		die("%s: %s", what, strerror(-ret));
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The byte that belongs at @off after @gen generations of writes. */
static uint8_t pattern(size_t off, unsigned int gen)
{
	return (uint8_t)((off * 2654435761u) >> 13) ^ (uint8_t)(gen * 37);
}

static struct exo_vm *region_mode(struct exo *exo, size_t pages,
				  uint32_t budget, uint32_t policy,
				  uint32_t mode, exo_vm_victim_fn fn, void *arg)
{
	EXO_VM_OPTS(o, .len = pages * psz, .max_frames = budget,
		    .policy = policy, .fault_mode = mode, .choose_victim = fn,
		    .victim_arg = arg);
	struct exo_vm *vm;

	check(exo_vm_create(exo, &o, &vm), "exo_vm_create");
	return vm;
}

static struct exo_vm *region(struct exo *exo, size_t pages, uint32_t budget,
			     uint32_t policy, exo_vm_victim_fn fn, void *arg)
{
	return region_mode(exo, pages, budget, policy, EXO_VM_FAULT_SIGNAL,
			   fn, arg);
}

static void print_stats(struct exo_vm *vm, const char *indent)
{
	struct exo_vm_stats st;

	check(exo_vm_stats(vm, &st), "exo_vm_stats");
	printf("%sfaults %" PRIu64 ", zero-fills %" PRIu64 ", evictions %"
	       PRIu64 " (%" PRIu64 " written out, the rest clean), page-ins %"
	       PRIu64 ", traps %" PRIu64 "; frames %" PRIu64 "\n", indent,
	       st.faults, st.zero_fills, st.evictions, st.write_outs,
	       st.page_ins, st.traps, st.frames);
}

/*
 * 1. The pager. An application's policy: evict the page with the lowest
 * address first, as a program that sweeps its data upward would want.
 */
struct lowest {
	unsigned int calls;
};

static uint32_t lowest_first(struct exo_vm *vm,
			     const struct exo_vm_candidate *c, uint32_t nr,
			     void *arg)
{
	struct lowest *l = arg;
	uint32_t i, best = 0;

	(void)vm;
	l->calls++;
	for (i = 1; i < nr; i++)
		if (c[i].page < c[best].page)
			best = i;
	return best;
}

static void pager(struct exo *exo)
{
	static const struct {
		uint32_t policy;
		uint32_t mode;
		const char *name;
	} policies[] = {
		{ EXO_VM_POLICY_CLOCK, EXO_VM_FAULT_SIGNAL, "CLOCK" },
		{ EXO_VM_POLICY_LRU, EXO_VM_FAULT_SIGNAL, "LRU" },
		{ EXO_VM_POLICY_FIFO, EXO_VM_FAULT_SIGNAL, "FIFO" },
		{ EXO_VM_POLICY_CUSTOM, EXO_VM_FAULT_SIGNAL,
		  "custom (lowest page first)" },
		{ EXO_VM_POLICY_CLOCK, EXO_VM_FAULT_THREAD,
		  "CLOCK, faults to a thread" },
		{ EXO_VM_POLICY_CLOCK, EXO_VM_FAULT_UPCALL,
		  "CLOCK, upcalls (no signal)" },
	};
	size_t len = PAGER_PAGES * psz, i;
	struct exo_ctx_info before, after;
	struct exo_vm_stats st;
	struct lowest low;
	unsigned int p, k;
	volatile uint8_t *m;
	struct exo_vm *vm;
	uint64_t seed;

	printf("\n[1] pager: %d pages (%zu KiB) in a budget of %d frames\n",
	       PAGER_PAGES, len >> 10, PAGER_BUDGET);
	for (p = 0; p < sizeof(policies) / sizeof(policies[0]); p++) {
		if (policies[p].mode == EXO_VM_FAULT_UPCALL &&
		    !(exo_api(exo)->features & EXO_FEAT_UPCALL)) {
			printf("  %-27s not here: the module has no upcalls "
			       "(x86-64 only)\n", policies[p].name);
			continue;
		}
		memset(&low, 0, sizeof(low));
		check(exo_ctx_info(exo, &before), "exo_ctx_info");
		vm = region_mode(exo, PAGER_PAGES, PAGER_BUDGET,
				 policies[p].policy, policies[p].mode,
				 policies[p].policy == EXO_VM_POLICY_CUSTOM ?
				 lowest_first : NULL, &low);
		m = exo_vm_base(vm);
		/* Fill every byte, then rewrite a hot quarter and random pages. */
		for (i = 0; i < len; i++)
			m[i] = pattern(i, 0);
		seed = 0x2545f4914f6cdd1dULL + p;
		for (k = 0; k < 2000; k++) {
			i = (k % 4 ? rnd(&seed) % (len / 4) : rnd(&seed) % len);
			i &= ~(size_t)63;
			memset((void *)&m[i], 0, 64);
			memcpy((void *)&m[i], &i, sizeof(i));
		}
		for (i = 0; i < len; i += 64) {
			size_t j, want_i;

			memcpy(&want_i, (const void *)&m[i], sizeof(want_i));
			if (want_i == i) {
				/* Rewritten: the offset, then zeros. */
				for (j = sizeof(i); j < 64; j++)
					if (m[i + j])
						die("%s: byte %zu is %u, not 0",
						    policies[p].name, i + j,
						    m[i + j]);
				continue;
			}
			for (j = 0; j < 64; j++)
				if (m[i + j] != pattern(i + j, 0))
					die("%s: byte %zu is %u, not %u",
					    policies[p].name, i + j, m[i + j],
					    pattern(i + j, 0));
		}
		check(exo_vm_stats(vm, &st), "exo_vm_stats");
		check(exo_ctx_info(exo, &after), "exo_ctx_info");
		printf("  %-27s every byte of %zu KiB checked\n",
		       policies[p].name, len >> 10);
		print_stats(vm, "    ");
		printf("    module: %" PRIu64 " upcalls, %" PRIu64
		       " refills in the kernel (from bindings and libexo's page table)\n",
		       (uint64_t)(after.upcalls - before.upcalls),
		       (uint64_t)(after.refills - before.refills));
		if (st.frames > PAGER_BUDGET || after.frames > PAGER_BUDGET)
			die("%s: %" PRIu64 " frames held, budget %d",
			    policies[p].name, (uint64_t)after.frames,
			    PAGER_BUDGET);
		if (!st.evictions || !st.write_outs || !st.page_ins)
			die("%s: the pager never paged", policies[p].name);
		if (policies[p].policy == EXO_VM_POLICY_CUSTOM) {
			if (low.calls != st.evictions)
				die("custom policy asked %u times for %" PRIu64
				    " evictions", low.calls, st.evictions);
			printf("    the application chose all %u victims\n",
			       low.calls);
		}
		check(exo_vm_destroy(vm), "exo_vm_destroy");
		check(exo_ctx_info(exo, &after), "exo_ctx_info");
		if (after.frames || after.bindings)
			die("exo_vm_destroy left %" PRIu64 " frames, %" PRIu64
			    " bindings", (uint64_t)after.frames,
			    (uint64_t)after.bindings);
	}
}

/*
 * 2. The checkpointer: save the pages DIRTY names, at their own offset in
 * one image file; restore by reading the image into a fresh region.
 */
static int ckpt(struct exo_vm *vm, int fd, unsigned int n, uint8_t *buf)
{
	uint64_t bm[(CKPT_PAGES + 63) / 64];
	char *base = exo_vm_base(vm);
	int dirty, saved = 0;
	unsigned int i;

	dirty = exo_vm_dirty(vm, base, CKPT_PAGES, bm);
	check(dirty, "exo_vm_dirty");
	for (i = 0; i < CKPT_PAGES; i++) {
		if (!(bm[i / 64] & (1ULL << (i % 64))))
			continue;
		/*
		 * Through the CPU, not the system call: a page that is out
		 * faults in here, where a write(2) from it would get EFAULT.
		 */
		memcpy(buf, base + i * psz, psz);
		if (pwrite(fd, buf, psz, (off_t)(i * psz)) != (ssize_t)psz)
			die("checkpoint %u: pwrite: %s", n, strerror(errno));
		saved++;
	}
	if (saved != dirty)
		die("checkpoint %u: %d pages saved, DIRTY said %d", n, saved,
		    dirty);
	printf("  checkpoint %u: %2d of %d pages written since the last one, "
	       "%3d KiB saved\n", n, dirty, CKPT_PAGES,
	       (int)((size_t)dirty * psz >> 10));
	return dirty;
}

static void checkpointer(struct exo *exo)
{
	static const unsigned int writes[][4] = {
		{ 3, 17, 40, 63 }, { 17, 18, 0, 0 }, { 5, 0, 0, 0 },
	};
	static const int expect[] = { CKPT_PAGES, 4, 2, 1 };
	struct exo_vm *vm, *back;
	volatile char sink = 0, *m;
	unsigned int g, k;
	uint8_t *buf;
	char *r;
	size_t i;
	int fd;

	printf("\n[2] checkpointer: DIRTY picks the pages to save (%d pages, "
	       "budget %d frames)\n", CKPT_PAGES, CKPT_BUDGET);
	buf = malloc(psz);
	fd = memfd_create("exo-vm-demo-ckpt", MFD_CLOEXEC);
	if (!buf || fd < 0)
		die("checkpoint buffer: %s", strerror(errno));
	vm = region(exo, CKPT_PAGES, CKPT_BUDGET, EXO_VM_POLICY_CLOCK, NULL,
		    NULL);
	m = exo_vm_base(vm);
	for (i = 0; i < CKPT_PAGES * psz; i++)
		m[i] = (char)pattern(i, 1);
	if (ckpt(vm, fd, 0, buf) != expect[0])
		die("checkpoint 0 should save every page");
	for (g = 0; g < 3; g++) {
		/* Read everything (clean evictions), write a few pages. */
		for (i = 0; i < CKPT_PAGES * psz; i += psz)
			sink = (char)(sink + m[i]);
		for (k = 0; k < 4; k++)
			if (!k || writes[g][k])
				memset((char *)m + writes[g][k] * psz + 100 * g,
				       'A' + g, 100);
		if (ckpt(vm, fd, g + 1, buf) != expect[g + 1])
			die("checkpoint %u should save %d pages", g + 1,
			    expect[g + 1]);
	}
	print_stats(vm, "  ");

	/* Restore into a new region and compare with the live one. */
	back = region(exo, CKPT_PAGES, CKPT_BUDGET, EXO_VM_POLICY_FIFO, NULL,
		      NULL);
	r = exo_vm_base(back);
	for (i = 0; i < CKPT_PAGES; i++) {
		if (pread(fd, buf, psz, (off_t)(i * psz)) != (ssize_t)psz)
			die("restore: pread: %s", strerror(errno));
		memcpy(r + i * psz, buf, psz);
	}
	for (i = 0; i < CKPT_PAGES * psz; i++)
		if (r[i] != m[i])
			die("restore: byte %zu is %d, live %d", i, r[i], m[i]);
	printf("  restored from the checkpoint file: all %d pages match the "
	       "live region\n", CKPT_PAGES);
	check(exo_vm_destroy(back), "exo_vm_destroy");
	check(exo_vm_destroy(vm), "exo_vm_destroy");
	close(fd);
	free(buf);
}

/*
 * 3. A collector's write barrier. While the collector marks, the heap is
 * read-only to the mutator (PROTN); the first write to a page traps, the
 * barrier records the page in the remembered set and UNPROTs it, and the
 * write goes on. The collector then rescans only the remembered pages,
 * reading them through a MAP2 alias of its own.
 */
struct barrier {
	size_t psz;
	char *heap;
	unsigned int nr;
	unsigned int pages[HEAP_PAGES];
	int err;
};

static int write_barrier(struct exo_vm *vm, void *addr, uint32_t fault,
			 void *arg)
{
	struct barrier *b = arg;
	size_t page = ((char *)addr - b->heap) / b->psz;

	if (!(fault & EXO_FAULT_WRITE))
		return -1;	/* only writes are the barrier's */
	b->pages[b->nr++] = (unsigned int)page;
	b->err = exo_vm_unprot(vm, b->heap + page * b->psz, 1);
	return b->err;
}

static void collector(struct exo *exo)
{
	static const unsigned int mutated[] = { 2, 7, 7, 11, 30, 2, 19 };
	struct barrier b = { 0 };
	unsigned int i, j, want;
	struct exo_vm *vm;
	bool seen[HEAP_PAGES] = { false };
	void *alias;
	char *heap;

	printf("\n[3] collector's write barrier: PROTN + TRAP + UNPROT, "
	       "scanning through MAP2\n");
	vm = region(exo, HEAP_PAGES, 0, EXO_VM_POLICY_CLOCK, NULL, NULL);
	heap = exo_vm_base(vm);
	b.psz = psz;
	b.heap = heap;
	check(exo_vm_trap(vm, write_barrier, &b), "exo_vm_trap");
	for (i = 0; i < HEAP_PAGES; i++)
		snprintf(heap + i * psz, 32, "object %u v0", i);

	/* The collector's view of page 7, read-only, at its own address. */
	check(exo_vma_create(exo, psz, PROT_READ | PROT_WRITE, &alias),
	      "exo_vma_create");
	check(exo_vm_map2(vm, heap + 7 * psz, alias, EXO_PROT_READ),
	      "exo_vm_map2");

	/* Marking starts: one call makes the whole heap read-only. */
	check(exo_vm_protn(vm, heap, HEAP_PAGES, EXO_PROT_READ),
	      "exo_vm_protn");
	printf("  PROTN: %d pages read-only in one EXO_IOC_PROTECT\n",
	       HEAP_PAGES);
	for (i = 0; i < sizeof(mutated) / sizeof(mutated[0]); i++)
		snprintf(heap + mutated[i] * psz, 32, "object %u v%u",
			 mutated[i], i + 1);
	/* Reads of the protected heap do not trap. */
	for (i = 0; i < HEAP_PAGES; i++)
		if (strncmp(heap + i * psz, "object ", 7))
			die("heap page %u unreadable", i);
	if (b.err)
		die("UNPROT in the barrier: %s", strerror(-b.err));

	/* The remembered set is exactly the pages written, once each. */
	for (i = 0; i < sizeof(mutated) / sizeof(mutated[0]); i++)
		seen[mutated[i]] = true;
	for (i = 0, want = 0; i < HEAP_PAGES; i++)
		want += seen[i];
	if (b.nr != want)
		die("barrier trapped %u times for %u pages", b.nr, want);
	printf("  mutator wrote %zu times to %u pages; the barrier trapped "
	       "%u times:", sizeof(mutated) / sizeof(mutated[0]), want, b.nr);
	for (i = 0; i < b.nr; i++) {
		if (!seen[b.pages[i]])
			die("page %u trapped but was not written", b.pages[i]);
		for (j = 0; j < i; j++)
			if (b.pages[j] == b.pages[i])
				die("page %u trapped twice", b.pages[i]);
		printf(" %u", b.pages[i]);
	}
	printf("\n  collector rescans page 7 through its MAP2 alias: \"%s\"\n",
	       (char *)alias);
	if (strcmp(alias, "object 7 v3"))
		die("alias shows \"%s\"", (char *)alias);
	print_stats(vm, "  ");
	check(exo_vm_unmap2(vm, alias), "exo_vm_unmap2");
	check(exo_vma_destroy(exo, alias, psz), "exo_vma_destroy");
	check(exo_vm_destroy(vm), "exo_vm_destroy");
}

static void revoke_check(struct exo_vm *vm, unsigned int gen)
{
	uint8_t *p = exo_vm_base(vm);
	size_t off;

	for (off = 0; off < REVOKE_PAGES * psz; off++)
		if (p[off] != pattern(off, gen))
			die("revocation: byte %zu is %#x, not %#x", off, p[off],
			    pattern(off, gen));
}

/*
 * 4. Revocation. A privileged request (the operator's trigger; exo's own
 * are its frame limit and memory pressure) asks this context for frames;
 * exo_vm_handle_events() gives back the ones the pager misses least. Then
 * an abort takes frames without asking: the pager saves what the
 * repossession vector holds and pages it back in on the next touch.
 */
static void revocation(struct exo *exo)
{
	struct exo_vm *vm = region(exo, REVOKE_PAGES, REVOKE_BUDGET,
				   EXO_VM_POLICY_CLOCK, NULL, NULL);
	uint8_t *p = exo_vm_base(vm);
	struct exo_ctx_info info;
	struct exo_vm_stats st;
	size_t off;
	uint64_t id;
	int ret;

	printf("\n[4] revocation: %d pages in %d frames\n", REVOKE_PAGES,
	       REVOKE_BUDGET);
	for (off = 0; off < REVOKE_PAGES * psz; off++)
		p[off] = pattern(off, 1);
	/* The first pages were written out and read back: clean, and cold. */
	revoke_check(vm, 1);
	check(exo_vm_stats(vm, &st), "exo_vm_stats");
	ret = exo_revoke_request(exo, 0, REVOKE_ASK, 10000, 0, &id);
	if (ret == -EPERM) {
		printf("  (not root: exo_revoke_request needs CAP_SYS_ADMIN; "
		       "skipped)\n");
		check(exo_vm_destroy(vm), "exo_vm_destroy");
		return;
	}
	check(ret, "exo_revoke_request");
	printf("  request %" PRIu64 ": return %d of %" PRIu64
	       " frames within 10 s\n", id, REVOKE_ASK, st.frames);
	ret = exo_vm_handle_events(vm);
	check(ret, "exo_vm_handle_events");
	check(exo_ctx_info(exo, &info), "exo_ctx_info");
	if (info.owed || info.revoke_returned != REVOKE_ASK || info.repossessed)
		die("revocation: owed %" PRIu64 ", returned %" PRIu64
		    ", repossessed %" PRIu64, (uint64_t)info.owed,
		    (uint64_t)info.revoke_returned, (uint64_t)info.repossessed);
	printf("  the pager gave back %d frames of its choice; nothing owed\n",
	       ret);
	revoke_check(vm, 1);
	for (off = 0; off < REVOKE_PAGES * psz; off++)
		p[off] = pattern(off, 2);

	check(exo_revoke_request(exo, 0, REVOKE_ASK, 0, EXO_REVOKE_ABORT, &id),
	      "exo_revoke_request (abort)");
	check(exo_ctx_info(exo, &info), "exo_ctx_info");
	if (info.repossessed < REVOKE_ASK)
		die("revocation: the abort took %" PRIu64 " frames",
		    (uint64_t)info.repossessed);
	printf("  request %" PRIu64 " ignored: the abort took %" PRIu64
	       " frames (bindings broken, contents saved, %u vector entries)\n",
	       id, (uint64_t)info.repossessed, info.repo_used);
	revoke_check(vm, 2);
	check(exo_vm_handle_events(vm), "exo_vm_handle_events");
	check(exo_ctx_info(exo, &info), "exo_ctx_info");
	check(exo_vm_stats(vm, &st), "exo_vm_stats");
	printf("  every byte back: %" PRIu64 " pages recovered from the vector, "
	       "%u entries left\n", st.recovered, info.repo_used);
	if (info.repo_used)
		die("revocation: %u vector entries never recovered",
		    info.repo_used);
	print_stats(vm, "  ");
	check(exo_vm_destroy(vm), "exo_vm_destroy");
}

int main(void)
{
	struct exo_ctx_info info;
	const struct exo_api *api;
	struct exo *exo;

	setvbuf(stdout, NULL, _IOLBF, 0);
	check(exo_open(&exo), "exo_open (is exo.ko loaded?)");
	api = exo_api(exo);
	psz = api->page_size;
	printf("exo-vm-demo: a library OS managing its own virtual memory\n");
	printf("  module API %u, features 0x%llx, page size %zu, up to %u "
	       "entries per batch, STLB of %u entries\n", api->api,
	       (unsigned long long)api->features, psz, api->max_batch,
	       api->stlb_max);
	if (!(api->features & EXO_FEAT_VM))
		die("the module has no exo VMAs (EXO_FEAT_VM)");

	pager(exo);
	checkpointer(exo);
	collector(exo);
	if (api->features & EXO_FEAT_REVOKE)
		revocation(exo);

	check(exo_ctx_info(exo, &info), "exo_ctx_info");
	printf("\ncontext: %" PRIu64 " frames, %" PRIu64 " bindings left; %"
	       PRIu64 " upcalls, %" PRIu64 " refills in the kernel in all\n",
	       (uint64_t)info.frames, (uint64_t)info.bindings,
	       (uint64_t)info.upcalls, (uint64_t)info.refills);
	if (info.frames || info.bindings)
		die("frames or bindings left behind");
	exo_close(exo);
	printf("exo-vm-demo: OK\n");
	return 0;
}
