// SPDX-License-Identifier: GPL-2.0
/*
 * The library OS's own page table (EXO_IOC_STLB), as Aegis refilled its
 * TLB from a software TLB: a fault on a page with no binding, or with one
 * narrower than the access, is refilled in the kernel from the library
 * OS's entry for it when the entry is valid and its capability checks.
 * The table is pinned and mapped into the kernel, because the fault path
 * cannot fault; the library OS writes it as it likes, so every entry is
 * checked as it is used.
 */
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "exo.h"
#include "exo_bind.h"
#include "exo_cap.h"
#include "exo_ctx.h"
#include "exo_stlb.h"

unsigned int exo_stlb_max = 1U << 18;
module_param_named(stlb_max, exo_stlb_max, uint, 0644);
MODULE_PARM_DESC(stlb_max,
		 "Most entries in a library OS page table registered for in-kernel refill; pinned (default 262144: 4 MiB)");

/* The entry of the library OS's table for @va, if valid. Under ctx->lock. */
static const struct exo_upte *exo_stlb_entry(struct exo_ctx *ctx,
					     unsigned long va, u32 *flags)
{
	const struct exo_stlb_map *s = ctx->fault.stlb;
	const struct exo_upte *e;
	unsigned long i;

	if (!s || va < s->base)
		return NULL;
	i = (va - s->base) >> PAGE_SHIFT;
	if (i >= s->nr)
		return NULL;
	e = &s->table[i];
	*flags = READ_ONCE(e->flags);
	if (!(*flags & EXO_UPTE_VALID))
		return NULL;
	/* Pairs with the library OS setting VALID last. */
	smp_rmb();
	return e;
}

/**
 * exo_stlb_refill() - refill from the library OS's table: bind an unbound
 *	page, or widen a binding to the same frame.
 * @ctx: the context, locked; mmap_lock held.
 * @vma: the exo VMA of the fault.
 * @va: the faulting page.
 * @b: its binding, or NULL.
 * @access: the access, one EXO_FAULT_READ/WRITE/EXEC.
 *
 * Anything else is the library OS's to sort out (it changed a bound entry
 * without unmapping).
 *
 * Return: the binding now in force, or @b unchanged (NULL if unbound).
 */
void *exo_stlb_refill(struct exo_ctx *ctx, struct vm_area_struct *vma,
		      unsigned long va, void *b, u32 access)
{
	const struct exo_upte *e;
	struct exo_cap *f;
	u32 flags, prot, frame;
	void *nb;

	e = exo_stlb_entry(ctx, va, &flags);
	if (!e)
		return b;
	prot = flags & EXO_PROT_MASK;
	frame = READ_ONCE(e->frame);
	if ((flags & ~(EXO_PROT_MASK | EXO_UPTE_VALID)) || exo_prot_check(prot) ||
	    (prot & ~exo_vma_prot(vma)) || !exo_prot_allows(prot, access))
		return b;
	f = exo_cap_lookup(ctx, READ_ONCE(e->cap));
	if (!f || frame >= (1U << f->order))
		return b;
	if (b) {
		if (exo_b_index(b) != f->index || exo_b_frame(b) != frame)
			return b;
		nb = exo_binding(f->index, frame, prot, exo_b_dirty(b));
		if (xa_err(xa_store(&ctx->bind.map, va >> PAGE_SHIFT, nb,
				    GFP_KERNEL_ACCOUNT)))
			return b;
		return nb;
	}
	nb = exo_binding(f->index, frame, prot, false);
	if (exo_bind_add(ctx, f, va >> PAGE_SHIFT, nb))
		return NULL;
	return nb;
}

/**
 * exo_stlb_free() - unpin and unmap a registered table.
 * @stlb: the table, or NULL.
 */
void exo_stlb_free(struct exo_stlb_map *stlb)
{
	if (!stlb)
		return;
	vunmap(stlb->vaddr);
	unpin_user_pages(stlb->pages, stlb->nr_pages);
	kvfree(stlb->pages);
	kfree(stlb);
}

/* Pin the table's pages (the fault path cannot fault) and map them. */
static struct exo_stlb_map *exo_stlb_pin(const struct exo_stlb *req)
{
	unsigned long start = req->table & PAGE_MASK;
	size_t bytes = (size_t)req->nr_entries * sizeof(struct exo_upte);
	struct exo_stlb_map *s;
	int pinned, ret = -ENOMEM;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->nr_pages = DIV_ROUND_UP(req->table + bytes - start, PAGE_SIZE);
	s->pages = kvmalloc_array(s->nr_pages, sizeof(*s->pages),
				  GFP_KERNEL_ACCOUNT);
	if (!s->pages)
		goto err_free;
	pinned = pin_user_pages_fast(start, s->nr_pages,
				     FOLL_WRITE | FOLL_LONGTERM, s->pages);
	if (pinned != s->nr_pages) {
		if (pinned > 0)
			unpin_user_pages(s->pages, pinned);
		ret = pinned < 0 && pinned != -EFAULT ? pinned : -EFAULT;
		goto err_free;
	}
	s->vaddr = vmap(s->pages, s->nr_pages, VM_MAP, PAGE_KERNEL_RO);
	if (!s->vaddr) {
		unpin_user_pages(s->pages, s->nr_pages);
		goto err_free;
	}
	s->table = s->vaddr + offset_in_page(req->table);
	s->base = req->base;
	s->nr = req->nr_entries;
	return s;

err_free:
	kvfree(s->pages);
	kfree(s);
	return ERR_PTR(ret);
}

/**
 * exo_stlb_cmd_set() - register (or with table 0, drop) the library OS's
 *	page table (%EXO_IOC_STLB).
 * @ucmd: the command.
 *
 * Return: 0, -EINVAL, -EFAULT (the table is not ordinary writable memory)
 * or -ENOMEM.
 */
int exo_stlb_cmd_set(struct exo_ucmd *ucmd)
{
	const struct exo_stlb *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_stlb_map *s = NULL, *old;
	u64 span;

	if (req->__reserved)
		return -EINVAL;
	if (req->table) {
		span = (u64)req->nr_entries << PAGE_SHIFT;
		if (!req->nr_entries || req->nr_entries > READ_ONCE(exo_stlb_max))
			return -EINVAL;
		if (!IS_ALIGNED(req->table, sizeof(struct exo_upte)) ||
		    req->table > ULONG_MAX - (u64)req->nr_entries *
						 sizeof(struct exo_upte))
			return -EINVAL;
		if (!PAGE_ALIGNED(req->base) || span > TASK_SIZE ||
		    req->base > TASK_SIZE - span)
			return -EINVAL;
		/* The table must be this context's own memory. */
		if (!ctx->mm || ctx->mm != current->mm)
			return -EFAULT;
		s = exo_stlb_pin(req);
		if (IS_ERR(s))
			return PTR_ERR(s);
	} else if (req->base || req->nr_entries) {
		return -EINVAL;
	}
	mutex_lock(&ctx->lock);
	old = ctx->fault.stlb;
	ctx->fault.stlb = s;
	mutex_unlock(&ctx->lock);
	exo_stlb_free(old);
	return 0;
}
