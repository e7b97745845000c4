// SPDX-License-Identifier: GPL-2.0
/*
 * Bindings: the library OS writes its own page-table entries.
 *
 * A binding (ctx->bind.map) is the module's record of a secure binding,
 * checked when made: the frame is under a capability of this context and
 * the page is in this context's exo VMA (exo_vm.c). It keeps the frame
 * alive: special PTEs hold no reference. PTEs are a cache of the
 * bindings: MAP installs them at once, the fault path refills them, and
 * taking rights away zaps them. A page whose frame the abort took keeps a
 * marker, so that its next fault says so. Lock order: mmap_lock, then
 * ctx->lock.
 */
#include <linux/mm.h>

#include "exo.h"
#include "exo_bind.h"
#include "exo_cap.h"
#include "exo_ctx.h"

/**
 * exo_bind_ctx_init() - a new context binds nothing.
 * @ctx: the context.
 *
 * Return: 0.
 */
int exo_bind_ctx_init(struct exo_ctx *ctx)
{
	xa_init_flags(&ctx->bind.map, XA_FLAGS_ACCOUNT);
	xa_init(&ctx->bind.repossessed);
	return 0;
}

/**
 * exo_bind_ctx_fini() - forget a dying context's markers. Its exo VMAs
 *	hold its file, so they are gone, and with them every binding.
 * @ctx: the context.
 */
void exo_bind_ctx_fini(struct exo_ctx *ctx)
{
	WARN_ON_ONCE(!xa_empty(&ctx->bind.map));
	xa_destroy(&ctx->bind.map);
	xa_destroy(&ctx->bind.repossessed);
}

/**
 * exo_prot_check() - is @prot a protection a binding may have?
 * @prot: EXO_PROT_* bits.
 *
 * Return: 0 or -EINVAL (unknown bits; WRITE or EXEC without READ).
 */
int exo_prot_check(u32 prot)
{
	if (prot & ~EXO_PROT_MASK)
		return -EINVAL;
	if ((prot & (EXO_PROT_WRITE | EXO_PROT_EXEC)) && !(prot & EXO_PROT_READ))
		return -EINVAL;
	return 0;
}

/**
 * exo_fault_access() - the access a fault was, from its FAULT_FLAG_* bits.
 * @fault_flags: &vm_fault.flags.
 *
 * Return: EXO_FAULT_WRITE, EXO_FAULT_EXEC or EXO_FAULT_READ.
 */
u32 exo_fault_access(unsigned int fault_flags)
{
	if (fault_flags & FAULT_FLAG_WRITE)
		return EXO_FAULT_WRITE;
	if (fault_flags & FAULT_FLAG_INSTRUCTION)
		return EXO_FAULT_EXEC;
	return EXO_FAULT_READ;
}

/**
 * exo_vma_prot() - the most a binding in @vma may allow.
 * @vma: an exo VMA.
 *
 * Return: EXO_PROT_* bits.
 */
u32 exo_vma_prot(struct vm_area_struct *vma)
{
	u32 prot = 0;

	if (vma->vm_flags & VM_READ)
		prot |= EXO_PROT_READ;
	if (vma->vm_flags & VM_WRITE)
		prot |= EXO_PROT_WRITE;
	if (vma->vm_flags & VM_EXEC)
		prot |= EXO_PROT_EXEC;
	return prot;
}

/**
 * exo_bind_add() - record a new binding.
 * @ctx: the context, locked.
 * @c: the capability it names.
 * @vpn: the virtual page number.
 * @b: the binding (exo_binding()).
 *
 * Return: 0, -EBUSY if the page is already bound, or -ENOMEM.
 */
int exo_bind_add(struct exo_ctx *ctx, struct exo_cap *c, unsigned long vpn,
		 void *b)
{
	int ret = xa_insert(&ctx->bind.map, vpn, b, GFP_KERNEL_ACCOUNT);

	if (ret)
		return ret;
	c->nr_bindings++;
	ctx->bind.nr++;
	/* Bound again: no longer a repossessed page. */
	if (!xa_empty(&ctx->bind.repossessed))
		xa_erase(&ctx->bind.repossessed, vpn);
	return 0;
}

/**
 * exo_bind_removed() - a binding left the map: one fewer page names its
 *	frame.
 * @ctx: the context, locked.
 * @b: the binding.
 */
void exo_bind_removed(struct exo_ctx *ctx, void *b)
{
	struct exo_cap *c = exo_cap_at(&ctx->caps, exo_b_index(b));

	if (!WARN_ON_ONCE(!c))
		c->nr_bindings--;
	ctx->bind.nr--;
}

/**
 * exo_bind_remove() - remove the binding at @vpn, if any; the caller zaps
 *	the PTE.
 * @ctx: the context, locked.
 * @vpn: the virtual page number.
 */
void exo_bind_remove(struct exo_ctx *ctx, unsigned long vpn)
{
	void *b = xa_erase(&ctx->bind.map, vpn);

	if (b)
		exo_bind_removed(ctx, b);
}

/**
 * exo_bind_install() - install the PTE for a binding.
 * @ctx: the context, locked; mmap_lock held.
 * @vma: the exo VMA holding @va.
 * @va: the page.
 * @b: its binding.
 *
 * Writable only while the binding is dirty, so that the first write after
 * a clean point traps to the VMA's ->pfn_mkwrite. An existing PTE is left
 * as it is. No PTE for a binding without READ.
 *
 * Return: 0 or -ENOMEM.
 */
int exo_bind_install(struct exo_ctx *ctx, struct vm_area_struct *vma,
		     unsigned long va, void *b)
{
	u32 prot = exo_b_prot(b);
	unsigned long flags = VM_SHARED;
	struct exo_cap *c;
	vm_fault_t ret;

	if (!(prot & EXO_PROT_READ))
		return 0;
	c = exo_cap_at(&ctx->caps, exo_b_index(b));
	if (WARN_ON_ONCE(!c))
		return -EINVAL;
	flags |= VM_READ;
	if ((prot & EXO_PROT_WRITE) && exo_b_dirty(b))
		flags |= VM_WRITE;
	if (prot & EXO_PROT_EXEC)
		flags |= VM_EXEC;
	ret = vmf_insert_pfn_prot(vma, va, c->pfn + exo_b_frame(b),
				  vm_get_page_prot(flags));
	return ret == VM_FAULT_NOPAGE ? 0 : -ENOMEM;
}

/* Zap one span of one exo VMA at a time: walks go in address order. */
struct exo_span {
	struct vm_area_struct *vma;
	unsigned long lo, hi;
};

static void exo_span_flush(struct exo_span *z)
{
	if (z->vma)
		zap_vma_ptes(z->vma, z->lo, z->hi - z->lo);
	z->vma = NULL;
}

static void exo_span_add(struct exo_ctx *ctx, struct exo_span *z,
			 unsigned long va)
{
	struct vm_area_struct *vma;

	if (z->vma && va >= z->vma->vm_start && va < z->vma->vm_end) {
		z->hi = va + PAGE_SIZE;
		return;
	}
	exo_span_flush(z);
	vma = vma_lookup(ctx->mm, va);
	/* A binding lives only inside its exo VMA (close removes it). */
	if (WARN_ON_ONCE(!vma || vma->vm_private_data != ctx))
		return;
	z->vma = vma;
	z->lo = va;
	z->hi = va + PAGE_SIZE;
}

/**
 * exo_bind_unbind_caps() - remove the bindings @fn picks, zap their PTEs
 *	and mark the pages repossessed.
 * @ctx: the context, locked; mmap_lock held when @ctx has an address space.
 * @fn: called for each binding with its capability index and page; returns
 *	the marker (an xarray value) to leave for the page, or NULL to keep
 *	the binding.
 * @arg: passed to @fn.
 *
 * The marker makes a later access fault with EXO_FAULT_REPOSSESSED; if
 * there is no memory to store it the access faults without the bit.
 *
 * Return: bindings removed.
 */
u64 exo_bind_unbind_caps(struct exo_ctx *ctx, exo_unbind_fn fn, void *arg)
{
	struct exo_span z = { };
	unsigned long vpn;
	void *b, *m;
	u64 n = 0;

	lockdep_assert_held(&ctx->lock);
	xa_for_each(&ctx->bind.map, vpn, b) {
		m = fn(arg, exo_b_index(b), vpn);
		if (!m)
			continue;
		exo_bind_remove(ctx, vpn);
		xa_store(&ctx->bind.repossessed, vpn, m, GFP_KERNEL_ACCOUNT);
		exo_span_add(ctx, &z, vpn << PAGE_SHIFT);
		n++;
		cond_resched();
	}
	exo_span_flush(&z);
	return n;
}

/**
 * exo_bind_repossessed() - was the page at @vpn bound to a frame the abort
 *	took (and not bound since)?
 * @ctx: the context, locked.
 * @vpn: the virtual page number.
 */
bool exo_bind_repossessed(struct exo_ctx *ctx, unsigned long vpn)
{
	return xa_load(&ctx->bind.repossessed, vpn);
}

/**
 * exo_bind_unmark() - forget that pages were repossessed (they are
 *	unmapped, or their VMA is gone).
 * @ctx: the context, locked.
 * @first: first virtual page number.
 * @last: last virtual page number.
 */
void exo_bind_unmark(struct exo_ctx *ctx, unsigned long first,
		     unsigned long last)
{
	unsigned long vpn;
	void *m;

	if (xa_empty(&ctx->bind.repossessed))
		return;
	xa_for_each_range(&ctx->bind.repossessed, vpn, m, first, last)
		xa_erase(&ctx->bind.repossessed, vpn);
}
