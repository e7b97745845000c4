// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * libexo's pager: resolves a region's faults, pages in from the backing
 * file, evicts by the region's replacement policy at its frame budget.
 * The region (vm_region.c) hands it each fault; the revocation policy
 * (vm_revoke.c) and the primitives (vm_prim.c) use its eviction and
 * harvesting. It calls only down: repossession recovery (vm_repo.c),
 * vm_common.c and the raw calls.
 *
 * Runs from the SIGBUS handler or the fault thread with the region locked:
 * system calls, the region's preallocated arrays and nothing else.
 *
 * Binding rules, which keep the kernel's dirty bits exact:
 *  - a page is bound writable and dirty only by a write: a read fault
 *    binds it clean (from the STLB) or read-only (EXO_IOC_MAP makes a
 *    writable binding dirty), and the first write is upgraded in the
 *    kernel from the page table or by us;
 *  - the page table entry of a resident page always carries the
 *    application's protection, so the kernel never refills beyond it;
 *  - the pager reads and writes frames only through its scratch page, so
 *    a half-loaded page is never visible and a page the application
 *    protected to PROT_NONE can still be written out.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "vm_internal.h"

/* Load a frame through the scratch page: from the file, or zeros. */
static int vm_fill(struct exo_vm *vm, struct vm_frame *f, uint64_t page,
		   bool from_disk)
{
	struct exo_vrange r = { (uintptr_t)vm->scratch, vm->psz };
	int ret, ret2;

	ret = exo_vma_map_one(vm->exo, vm->scratch, f->cap, 0, VM_PROT_RW);
	if (ret)
		return ret;
	if (from_disk)
		ret = vm_io(vm, page, vm->scratch, false);
	else
		memset(vm->scratch, 0, vm->psz);
	ret2 = exo_vma_unmap(vm->exo, &r, 1);
	return ret ? ret : ret2;
}

/*
 * Take a resident page's frame: forbid writes (so nothing can dirty it
 * behind our back), collect its dirty bit, write it out if it is dirty,
 * unbind it. On failure the page stays resident and intact.
 */
int vm_evict(struct exo_vm *vm, uint32_t slot)
{
	struct vm_frame *f = &vm->frames[slot];
	uint64_t page = f->page, bm = 0;
	uint32_t prot = vm_prot(vm, page);
	struct exo_vrange r[2] = {
		{ (uintptr_t)vm_page_addr(vm, page), vm->psz },
		{ (uintptr_t)vm->scratch, vm->psz },
	};
	uint32_t nr = 1;
	int ret;

	vm_upte_set(vm, page, 0, 0);
	if (prot & EXO_PROT_WRITE) {
		ret = exo_vma_protect(vm->exo, r, 1, EXO_PROT_READ);
		if (ret)
			goto undo;
	}
	ret = exo_vma_dirty(vm->exo, vm_page_addr(vm, page), 1, &bm);
	if (ret < 0)
		goto undo;
	if (bm & 1) {
		vm_set(vm->soft_wb, page);
		vm_set(vm->soft_user, page);
	}
	if (vm_test(vm->soft_wb, page)) {
		ret = exo_vma_map_one(vm->exo, vm->scratch, f->cap, 0,
				      EXO_PROT_READ);
		if (ret)
			goto undo;
		nr = 2;
		ret = vm_io(vm, page, vm->scratch, true);
		if (ret) {
			exo_vma_unmap(vm->exo, &r[1], 1);
			goto undo;
		}
		vm_clear(vm->soft_wb, page);
		vm->pstate[page] |= PG_ON_DISK;
		vm->stats.write_outs++;
	}
	ret = exo_vma_unmap(vm->exo, r, nr);
	if (ret)
		goto undo;

	vm->pstate[page] &= ~PG_RESIDENT;
	f->page = VM_NO_PAGE;
	vm->free_slots[vm->nr_free++] = slot;
	vm->stats.evictions++;
	vm->stats.resident--;
	return 0;

undo:
	vm_upte_set(vm, page, f->cap, EXO_UPTE_VALID | prot);
	return ret;
}

static int vm_victim_fifo(struct exo_vm *vm)
{
	int best = -1;
	uint32_t s;

	for (s = 0; s < vm->nr_frames; s++) {
		if (!vm_evictable(&vm->frames[s]))
			continue;
		if (best < 0 || vm->frames[s].loaded < vm->frames[best].loaded)
			best = (int)s;
	}
	return best < 0 ? -ENOMEM : best;
}

/*
 * CLOCK: the hand gives a page a second chance if it was referenced since
 * the hand last passed: our own bit for a page just loaded, else the
 * hardware accessed bit, read and cleared with EXO_IOC_QUERY.
 */
static int vm_victim_clock(struct exo_vm *vm)
{
	uint32_t steps, s, limit = 3 * vm->nr_frames + 1;
	struct exo_vpage vp;
	struct vm_frame *f;
	int first = -1, ret;

	for (steps = 0; steps < limit; steps++) {
		s = vm->hand;
		vm->hand = (vm->hand + 1) % vm->nr_frames;
		f = &vm->frames[s];
		if (!vm_evictable(f))
			continue;
		if (first < 0)
			first = (int)s;
		if (f->ref) {
			f->ref = false;
			continue;
		}
		ret = exo_vma_query(vm->exo, vm_page_addr(vm, f->page), 1,
				    EXO_QUERY_CLEAR_ACCESSED, &vp);
		if (ret)
			return ret;
		if (vp.state & EXO_VPAGE_ACCESSED)
			continue;
		return (int)s;
	}
	/* Everything kept being touched while we looked: take the first. */
	return first < 0 ? -ENOMEM : first;
}

/*
 * Read the accessed and dirty bits of every resident page, a few QUERYs of
 * up to max_batch pages each, starting at each page not yet covered; with
 * EXO_QUERY_CLEAR_ACCESSED in @qflags the accessed bits are cleared too.
 */
int vm_harvest(struct exo_vm *vm, uint32_t qflags)
{
	uint64_t first, n, i, p;
	struct vm_frame *f, *g;
	uint32_t s;
	int ret;

	vm->round++;
	for (s = 0; s < vm->nr_frames; s++) {
		f = &vm->frames[s];
		if (f->page == VM_NO_PAGE || f->round == vm->round)
			continue;
		first = f->page;
		n = vm->npages - first;
		if (n > vm->qmax)
			n = vm->qmax;
		ret = exo_vma_query(vm->exo, vm_page_addr(vm, first),
				    (uint32_t)n, qflags, vm->qbuf);
		if (ret)
			return ret;
		for (i = 0; i < n; i++) {
			p = first + i;
			if (!(vm->pstate[p] & PG_RESIDENT))
				continue;
			g = &vm->frames[vm->pslot[p]];
			g->round = vm->round;
			g->accessed = vm->qbuf[i].state & EXO_VPAGE_ACCESSED;
			g->dirty = (vm->qbuf[i].state & EXO_VPAGE_DIRTY) ||
				   vm_test(vm->soft_wb, p);
			if (g->accessed)
				g->used = vm->tick;
		}
	}
	return 0;
}

/* LRU, approximated by ageing: the page seen accessed longest ago. */
static int vm_victim_lru(struct exo_vm *vm)
{
	struct vm_frame *f, *b;
	int best = -1, ret;
	uint32_t s;

	ret = vm_harvest(vm, EXO_QUERY_CLEAR_ACCESSED);
	if (ret)
		return ret;
	for (s = 0; s < vm->nr_frames; s++) {
		f = &vm->frames[s];
		if (!vm_evictable(f))
			continue;
		b = best < 0 ? NULL : &vm->frames[best];
		if (!b || f->used < b->used ||
		    (f->used == b->used && f->loaded < b->loaded))
			best = (int)s;
	}
	return best < 0 ? -ENOMEM : best;
}

/*
 * Describe the resident pages an application's policy may choose among:
 * every evictable one, or with @givable only those that may be given back
 * (not critical). Return: how many, in @cands.
 */
uint32_t vm_candidates(struct exo_vm *vm, struct exo_vm_candidate *cands,
		       bool givable)
{
	struct vm_frame *f;
	uint32_t s, nr = 0;

	for (s = 0; s < vm->nr_frames; s++) {
		f = &vm->frames[s];
		if (!(givable ? vm_givable(f) : vm_evictable(f)))
			continue;
		cands[nr++] = (struct exo_vm_candidate){
			.addr = vm_page_addr(vm, f->page),
			.page = f->page,
			.loaded = f->loaded,
			.used = f->used,
			.flags = (f->accessed ? EXO_VM_CAND_ACCESSED : 0) |
				 (f->dirty ? EXO_VM_CAND_DIRTY : 0),
		};
	}
	return nr;
}

static int vm_victim_custom(struct exo_vm *vm)
{
	uint32_t nr, pick;
	int ret;

	ret = vm_harvest(vm, EXO_QUERY_CLEAR_ACCESSED);
	if (ret)
		return ret;
	nr = vm_candidates(vm, vm->cands, false);
	if (!nr)
		return -ENOMEM;
	pick = vm->victim_fn(vm, vm->cands, nr, vm->victim_arg);
	if (pick >= nr)
		pick = 0;
	return (int)vm->pslot[vm->cands[pick].page];
}

static int vm_choose_victim(struct exo_vm *vm)
{
	switch (vm->policy) {
	case EXO_VM_POLICY_LRU:
		return vm_victim_lru(vm);
	case EXO_VM_POLICY_FIFO:
		return vm_victim_fifo(vm);
	case EXO_VM_POLICY_CUSTOM:
		return vm_victim_custom(vm);
	default:
		return vm_victim_clock(vm);
	}
}

/* A slot with a frame and no page: a spare one, a new one, or a victim's. */
static int vm_frame_get(struct exo_vm *vm)
{
	struct exo_frame fr;
	struct vm_frame *f;
	int ret, victim;

	if (vm->nr_free)
		return (int)vm->free_slots[--vm->nr_free];
	if (vm->nr_frames < vm->max_frames) {
		ret = exo_frame_alloc(vm->exo, &fr);
		if (!ret) {
			f = &vm->frames[vm->nr_frames];
			*f = (struct vm_frame){
				.cap = fr.cap,
				.page = VM_NO_PAGE,
				.fresh = true,
			};
			/* Past critical_max (other regions'): an ordinary one. */
			if (vm->nr_critical < vm->critical &&
			    !exo_frame_critical(vm->exo, fr.cap, 0, NULL)) {
				f->critical = true;
				vm->nr_critical++;
			}
			vm->stats.frames++;
			return (int)vm->nr_frames++;
		}
		/*
		 * Over quota, memory cgroup or exo's own limit (EAGAIN, ENOSPC:
		 * frames are being revoked): live within what we have.
		 */
		if (!vm->nr_frames ||
		    (ret != -EDQUOT && ret != -ENOMEM && ret != -EAGAIN &&
		     ret != -ENOSPC))
			return ret;
	}
	victim = vm_choose_victim(vm);
	if (victim < 0)
		return victim;
	ret = vm_evict(vm, (uint32_t)victim);
	if (ret)
		return ret;
	return (int)vm->free_slots[--vm->nr_free];
}

/* Give @page a frame holding its data; it is not bound yet. */
int vm_page_in(struct exo_vm *vm, uint64_t page)
{
	struct vm_frame *f;
	bool disk = vm->pstate[page] & PG_ON_DISK;
	int slot, ret;

	slot = vm_frame_get(vm);
	if (slot < 0)
		return slot;
	f = &vm->frames[slot];
	if (disk || !f->fresh) {
		ret = vm_fill(vm, f, page, disk);
		if (ret) {
			vm->free_slots[vm->nr_free++] = (uint32_t)slot;
			return ret;
		}
	}
	if (disk)
		vm->stats.page_ins++;
	else
		vm->stats.zero_fills++;
	f->fresh = false;
	f->page = page;
	f->loaded = vm->tick;
	f->used = vm->tick;
	f->ref = true;
	f->pins = 0;
	vm->pslot[page] = (uint32_t)slot;
	vm->pstate[page] |= PG_RESIDENT;
	vm->stats.resident++;
	vm_upte_set(vm, page, f->cap, EXO_UPTE_VALID | vm_prot(vm, page));
	return 0;
}

/*
 * Let the faulting access through a resident page it is allowed. A page
 * just paged in and covered by the registered table needs nothing: the
 * retried access binds it in the kernel from the entry, clean, and a write
 * marks it dirty. Otherwise it is bound here; read-only for a read, since
 * a binding made writable by EXO_IOC_MAP starts dirty. A page bound with
 * fewer rights than it is allowed (PROT) gets them with EXO_IOC_PROTECT,
 * which keeps its dirty bit.
 */
static int vm_bind(struct exo_vm *vm, uint64_t page, uint32_t fault,
		   bool paged_in)
{
	uint32_t prot = vm_prot(vm, page);
	void *va = vm_page_addr(vm, page);
	struct exo_vrange r = { (uintptr_t)va, vm->psz };
	int ret;

	/* A page the abort unbound faults until MAP binds it again. */
	if (paged_in && page < vm->stlb_pages &&
	    !(fault & EXO_FAULT_REPOSSESSED))
		return 0;
	if ((fault & EXO_FAULT_PROT) && !paged_in)
		return exo_vma_protect(vm->exo, &r, 1, prot);
	ret = exo_vma_map_one(vm->exo, va, vm->frames[vm->pslot[page]].cap, 0,
			      (fault & EXO_FAULT_WRITE) ? prot :
			      prot & ~EXO_PROT_WRITE);
	/* Bound meanwhile, by another thread's refill: a write may need more. */
	if (ret == -EEXIST)
		ret = (fault & EXO_FAULT_WRITE) ?
		      exo_vma_protect(vm->exo, &r, 1, prot) : 0;
	return ret;
}

int vm_fault(struct exo_vm *vm, uintptr_t addr, uint32_t fault)
{
	uint32_t need = vm_fault_needs(fault);
	uintptr_t base = (uintptr_t)vm->base;
	bool paged_in = false, synced = false;
	exo_vm_trap_fn fn;
	uint64_t page;
	void *arg;
	int ret;

	if (addr < base || addr - base >= vm->len)
		return -EFAULT;
	page = (addr - base) / vm->psz;

	ret = vm_lock(vm);
	if (ret)
		return ret;
	vm->stats.faults++;
	vm->tick++;
	/*
	 * The abort took frames: save what it took before anything else. Not
	 * only on EXO_FAULT_REPOSSESSED: it may have taken a spare frame this
	 * fault would page in to. Free when nothing new is in the vector.
	 */
	ret = vm_repo_sync(vm, true);
	if (ret)
		goto out;
retry:
	if (!(vm->pstate[page] & PG_RESIDENT)) {
		ret = vm_page_in(vm, page);
		if (ret)
			goto out;
		paged_in = true;
	}
	if ((vm_prot(vm, page) & need) != need) {
		/* TRAP: the application's handler runs unlocked. */
		fn = vm->trap_fn;
		arg = vm->trap_arg;
		if (fn)
			vm->stats.traps++;
		vm_unlock(vm);
		if (!fn)
			return -EACCES;
		return fn(vm, (void *)addr, fault, arg) ? -EACCES : 0;
	}
	ret = vm_bind(vm, page, fault, paged_in);
	/*
	 * A stale capability: the abort took the page's frame and we had not
	 * heard. Once its vector entry is saved the page is on disk; until the
	 * abort has filled the entry, retry the access.
	 */
	if (ret == -ENOENT && !paged_in && !synced) {
		synced = true;
		ret = vm_repo_sync(vm, true);
		if (!ret && !(vm->pstate[page] & PG_RESIDENT))
			goto retry;
		if (!ret)
			sched_yield();
	}
out:
	vm_unlock(vm);
	return ret;
}

/* Fold the kernel's dirty bits of @nr pages from @first into ours. */
int vm_harvest_dirty(struct exo_vm *vm, uint64_t first, uint64_t nr)
{
	uint64_t n, w, x, p;
	int ret;

	while (nr) {
		n = nr < vm->dmax ? nr : vm->dmax;
		ret = exo_vma_dirty(vm->exo, vm_page_addr(vm, first),
				    (uint32_t)n, vm->dbuf);
		if (ret < 0)
			return ret;
		for (w = 0; ret && w < (n + 63) / 64; w++) {
			for (x = vm->dbuf[w]; x; x &= x - 1) {
				p = first + w * 64 + (uint64_t)__builtin_ctzll(x);
				vm_set(vm->soft_wb, p);
				vm_set(vm->soft_user, p);
			}
		}
		first += n;
		nr -= n;
	}
	return 0;
}

/* Writes through a MAP2 alias dirty the alias's binding, not the page's. */
int vm_alias_harvest(struct exo_vm *vm, struct vm_alias *a)
{
	uint64_t bm = 0;
	int ret;

	ret = exo_vma_dirty(vm->exo, (void *)a->va, 1, &bm);
	if (ret < 0)
		return ret;
	if (bm & 1) {
		vm_set(vm->soft_wb, a->page);
		vm_set(vm->soft_user, a->page);
	}
	return 0;
}
