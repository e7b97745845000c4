// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * Appel & Li's virtual-memory primitives ("Virtual Memory Primitives for
 * User Programs", ASPLOS 1991) on a managed region, each one system call:
 *
 *   TRAP    exo_vm_trap()    none: libexo's fault path calls the handler
 *   PROT1   exo_vm_prot1()   one EXO_IOC_PROTECT of one page
 *   PROTN   exo_vm_protn()   one EXO_IOC_PROTECT of n pages (one shootdown)
 *   UNPROT  exo_vm_unprot()  one EXO_IOC_PROTECT, missing PTEs installed
 *   DIRTY   exo_vm_dirty()   EXO_IOC_DIRTY over the pages asked about
 *   MAP2    exo_vm_map2()    one EXO_IOC_MAP of the page's frame elsewhere
 *
 * The application's protection lives in the region's page table too, so
 * the module never refills a page beyond it; the table is changed before
 * the binding, as a TLB entry is flushed after its PTE changes.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "vm_internal.h"

static int vm_prot_ok(uint32_t prot)
{
	return prot == EXO_PROT_NONE || prot == EXO_PROT_READ ||
	       prot == VM_PROT_RW;
}

/* The pages [first, first + n) that @addr and @npages name. */
static int vm_pages(const struct exo_vm *vm, const void *addr, size_t npages,
		    uint64_t *first)
{
	uintptr_t a = (uintptr_t)addr, base = (uintptr_t)vm->base;
	uint64_t p;

	if (!npages || a < base || a - base >= vm->len)
		return -EINVAL;
	p = (a - base) / vm->psz;
	if (npages > vm->npages - p)
		return -EINVAL;
	*first = p;
	return 0;
}

int exo_vm_trap(struct exo_vm *vm, exo_vm_trap_fn fn, void *arg)
{
	int ret;

	if (!vm)
		return -EINVAL;
	ret = vm_lock(vm);
	if (ret)
		return ret;
	vm->trap_fn = fn;
	vm->trap_arg = arg;
	vm_unlock(vm);
	return 0;
}

/*
 * EXO_IOC_PROTECT of @r. Rights given come with their PTEs installed at
 * once (EXO_PROTECT_POPULATE: a TRAP handler's UNPROT saves the retry its
 * refill), where the module knows the flag.
 */
static int vm_protect(struct exo_vm *vm, const struct exo_vrange *r,
		      uint32_t prot, bool more)
{
	int ret;

	if (!more || vm->no_populate)
		return exo_vma_protect(vm->exo, r, 1, prot);
	ret = exo_vma_protect_flags(vm->exo, r, 1, prot, EXO_PROTECT_POPULATE);
	if (ret != -EOPNOTSUPP && ret != -EINVAL)
		return ret;
	/* An older module: the flag is what it refused if this works. */
	ret = exo_vma_protect(vm->exo, r, 1, prot);
	if (!ret)
		vm->no_populate = true;
	return ret;
}

static int vm_set_prot(struct exo_vm *vm, void *addr, size_t npages,
		       uint32_t prot)
{
	bool resident = false, more = false;
	struct exo_vrange r;
	uint64_t first, p;
	int ret;

	if (!vm || !vm_prot_ok(prot))
		return -EINVAL;
	ret = vm_pages(vm, addr, npages, &first);
	if (ret)
		return ret;
	ret = vm_lock(vm);
	if (ret)
		return ret;
	for (p = first; p < first + npages; p++) {
		more |= (prot & ~vm_prot(vm, p)) != 0;
		/* The old protection goes to spare bits, for a rollback. */
		vm->pstate[p] = (uint8_t)((vm->pstate[p] & (PG_RESIDENT |
							    PG_ON_DISK)) |
					  prot | vm_prot(vm, p) << PG_OLD_SHIFT);
		if (!(vm->pstate[p] & PG_RESIDENT))
			continue;
		resident = true;
		vm_upte_set(vm, p, vm->frames[vm->pslot[p]].cap,
			    EXO_UPTE_VALID | prot);
	}
	/* Pages without a frame take their protection when paged in. */
	if (resident) {
		r.va = (uintptr_t)vm_page_addr(vm, first);
		r.len = npages * vm->psz;
		ret = vm_protect(vm, &r, prot, more);
	}
	/* A failed call changes nothing: the bindings did not change. */
	for (p = first; ret && p < first + npages; p++) {
		prot = vm->pstate[p] >> PG_OLD_SHIFT;
		vm->pstate[p] = (uint8_t)((vm->pstate[p] & (PG_RESIDENT |
							    PG_ON_DISK)) |
					  prot);
		if (vm->pstate[p] & PG_RESIDENT)
			vm_upte_set(vm, p, vm->frames[vm->pslot[p]].cap,
				    EXO_UPTE_VALID | prot);
	}
	vm_unlock(vm);
	return ret;
}

int exo_vm_prot1(struct exo_vm *vm, void *addr, uint32_t prot)
{
	return vm_set_prot(vm, addr, 1, prot);
}

int exo_vm_protn(struct exo_vm *vm, void *addr, size_t npages,
		 uint32_t prot)
{
	return vm_set_prot(vm, addr, npages, prot);
}

int exo_vm_unprot(struct exo_vm *vm, void *addr, size_t npages)
{
	return vm_set_prot(vm, addr, npages, VM_PROT_RW);
}

int exo_vm_dirty(struct exo_vm *vm, void *addr, size_t npages,
		 uint64_t *bitmap)
{
	uint64_t first, i, p;
	struct vm_alias *a;
	int ret, count = 0;

	if (!vm || !bitmap)
		return -EINVAL;
	ret = vm_pages(vm, addr, npages, &first);
	if (ret)
		return ret;
	ret = vm_lock(vm);
	if (ret)
		return ret;
	ret = vm_harvest_dirty(vm, first, npages);
	for (i = 0; !ret && i < VM_MAX_ALIASES; i++) {
		a = &vm->aliases[i];
		if (a->va && a->page >= first && a->page < first + npages)
			ret = vm_alias_harvest(vm, a);
	}
	if (ret)
		goto out;
	memset(bitmap, 0, (npages + 63) / 64 * sizeof(uint64_t));
	for (i = 0; i < npages; i++) {
		p = first + i;
		if (!vm_test(vm->soft_user, p))
			continue;
		vm_clear(vm->soft_user, p);
		vm_set(bitmap, i);
		if (count < INT_MAX)
			count++;
	}
	ret = count;
out:
	vm_unlock(vm);
	return ret;
}

/*
 * The alias keeps the page's frame: the page is pinned (never evicted)
 * until exo_vm_unmap2(), which also collects what was written through it.
 */
int exo_vm_map2(struct exo_vm *vm, void *addr, void *alias, uint32_t prot)
{
	uintptr_t al = (uintptr_t)alias;
	struct vm_alias *a = NULL;
	struct vm_frame *f;
	uint64_t page;
	int ret, i;

	if (!vm || !vm_prot_ok(prot) || !alias || al % vm->psz ||
	    al - (uintptr_t)vm->base < vm->len + vm->psz)
		return -EINVAL;
	ret = vm_pages(vm, addr, 1, &page);
	if (ret)
		return ret;
	ret = vm_lock(vm);
	if (ret)
		return ret;
	for (i = 0; i < VM_MAX_ALIASES; i++) {
		if (vm->aliases[i].va == al) {
			ret = -EEXIST;
			goto out;
		}
		if (!a && !vm->aliases[i].va)
			a = &vm->aliases[i];
	}
	ret = -ENOSPC;
	if (!a)
		goto out;
	if (!(vm->pstate[page] & PG_RESIDENT)) {
		vm->tick++;
		ret = vm_page_in(vm, page);
		if (ret)
			goto out;
	}
	f = &vm->frames[vm->pslot[page]];
	ret = exo_vma_map_one(vm->exo, alias, f->cap, 0, prot);
	if (ret)
		goto out;
	f->pins++;
	a->va = al;
	a->page = page;
out:
	vm_unlock(vm);
	return ret;
}

int exo_vm_unmap2(struct exo_vm *vm, void *alias)
{
	struct vm_alias *a = NULL;
	struct exo_vrange r;
	int ret, i;

	if (!vm || !alias)
		return -EINVAL;
	ret = vm_lock(vm);
	if (ret)
		return ret;
	for (i = 0; i < VM_MAX_ALIASES && !a; i++)
		if (vm->aliases[i].va == (uintptr_t)alias)
			a = &vm->aliases[i];
	ret = -ENOENT;
	if (!a)
		goto out;
	/* Unknown is dirty: better one write-out too many than a lost one. */
	if (vm_alias_harvest(vm, a)) {
		vm_set(vm->soft_wb, a->page);
		vm_set(vm->soft_user, a->page);
	}
	r.va = a->va;
	r.len = vm->psz;
	ret = exo_vma_unmap(vm->exo, &r, 1);
	if (ret)
		goto out;
	/* An alias of a page the abort took lost its pin with the frame. */
	if ((vm->pstate[a->page] & PG_RESIDENT) &&
	    vm->frames[vm->pslot[a->page]].pins)
		vm->frames[vm->pslot[a->page]].pins--;
	a->va = 0;
out:
	vm_unlock(vm);
	return ret;
}
