// SPDX-License-Identifier: GPL-2.0
/*
 * exo VMAs: the library OS writes its own page-table entries.
 *
 * An exo VMA (mmap at EXO_MMAP_VM) is VM_PFNMAP: its PTEs are special, hold
 * no page reference and are never touched by reclaim, so the module keeps
 * each frame alive while a binding (exo_bind.c) names it. The commands
 * here bind frames to pages, unbind and re-protect them, and read their
 * state; faults go to exo_fault.c. Taking rights away zaps PTEs, since a
 * module cannot rewrite a live PTE and flush the TLB itself
 * (flush_tlb_range is not exported). Lock order: mmap_lock, then
 * ctx->lock.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "exo.h"
#include "exo_bind.h"
#include "exo_cap.h"
#include "exo_compat.h"
#include "exo_ctx.h"
#include "exo_fault.h"
#include "exo_vm.h"
#include "trace/exo_trace.h"

static vm_fault_t exo_vm_fault(struct vm_fault *vmf)
{
	return exo_fault(vmf->vma->vm_private_data, vmf, false);
}

/* A write to a present read-only PTE: the first write since clean. */
static vm_fault_t exo_vm_pfn_mkwrite(struct vm_fault *vmf)
{
	return exo_fault(vmf->vma->vm_private_data, vmf, true);
}

/* munmap, exit, or the part of a split VMA that goes: its PTEs are gone. */
static void exo_vm_close(struct vm_area_struct *vma)
{
	struct exo_ctx *ctx = vma->vm_private_data;
	unsigned long first = vma->vm_start >> PAGE_SHIFT;
	unsigned long last = (vma->vm_end >> PAGE_SHIFT) - 1;
	unsigned long vpn;
	void *b;

	mutex_lock(&ctx->lock);
	xa_for_each_range(&ctx->bind.map, vpn, b, first, last) {
		exo_bind_remove(ctx, vpn);
		cond_resched();
	}
	exo_bind_unmark(ctx, first, last);
	exo_fault_wake_range(ctx, vma->vm_start, vma->vm_end, EXO_WOKEN_RETRY);
	mutex_unlock(&ctx->lock);
}

/* Bindings are keyed by address: moving the VMA would orphan them. */
static int exo_vm_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

/* Per-page protection is the library OS's, through EXO_IOC_PROTECT. */
static int exo_vm_mprotect(struct vm_area_struct *vma, unsigned long start,
			   unsigned long end, unsigned long newflags)
{
	return -EACCES;
}

static const struct vm_operations_struct exo_vm_ops = {
	.close = exo_vm_close,
	.mremap = exo_vm_mremap,
	.mprotect = exo_vm_mprotect,
	.fault = exo_vm_fault,
	.pfn_mkwrite = exo_vm_pfn_mkwrite,
};

/**
 * exo_vm_mmap() - make an empty exo VMA.
 * @ctx: the context.
 * @vma: a MAP_SHARED mapping at %EXO_MMAP_VM.
 *
 * Return: 0, or -EINVAL for a private mapping.
 */
int exo_vm_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	/*
	 * VM_IO keeps madvise(MADV_DOFORK) from undoing VM_DONTCOPY: a child
	 * has no context, so it gets no exo VMA. VM_DONTEXPAND refuses
	 * growth by mremap; exo_vm_mremap() refuses moves.
	 */
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP |
		     VM_DONTCOPY);
	vma->vm_ops = &exo_vm_ops;
	vma->vm_private_data = ctx;
	return 0;
}

/*
 * The exo VMA of @ctx holding [@va, @va + @len), or NULL. Needs mmap_lock.
 * Another context's exo VMA, or any other mapping, is not ours.
 */
static struct vm_area_struct *exo_vm_vma(struct exo_ctx *ctx, u64 va, u64 len)
{
	struct vm_area_struct *vma;

	if (!ctx->mm || va > ULONG_MAX || !len || len > ULONG_MAX - va)
		return NULL;
	vma = vma_lookup(ctx->mm, va);
	if (!vma || vma->vm_ops != &exo_vm_ops || vma->vm_private_data != ctx)
		return NULL;
	if (len > vma->vm_end - va)
		return NULL;
	return vma;
}

/*
 * mmap_lock (read), then the context: the order every VM path takes. A
 * KUnit context has no address space, so no exo VMA: -ENXIO.
 */
static int exo_vm_lock(struct exo_ctx *ctx)
{
	int ret;

	if (!ctx->mm)
		return -ENXIO;
	ret = mmap_read_lock_killable(ctx->mm);
	if (ret)
		return ret;
	mutex_lock(&ctx->lock);
	return 0;
}

static void exo_vm_unlock(struct exo_ctx *ctx)
{
	mutex_unlock(&ctx->lock);
	mmap_read_unlock(ctx->mm);
}

static int exo_range_check(u64 va, u64 len)
{
	if (!len || !PAGE_ALIGNED(va) || !PAGE_ALIGNED(len) ||
	    len > U64_MAX - va)
		return -EINVAL;
	return 0;
}

static void *exo_user_array(u64 uptr, u32 nr, size_t size)
{
	void *buf;

	buf = kvmalloc_array(nr, size, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(buf, u64_to_user_ptr(uptr), (size_t)nr * size)) {
		kvfree(buf);
		return ERR_PTR(-EFAULT);
	}
	return buf;
}

static int exo_map_entry_check(const struct exo_map_entry *e)
{
	int ret;

	if (e->__reserved || !e->nr)
		return -EINVAL;
	ret = exo_prot_check(e->prot);
	if (ret)
		return ret;
	if ((u64)e->frame + e->nr > U32_MAX)
		return -EINVAL;
	return exo_range_check(e->va, (u64)e->nr << PAGE_SHIFT);
}

/* Everything that can be checked before anything changes. */
static int exo_map_entry_lookup(struct exo_ctx *ctx,
				const struct exo_map_entry *e,
				struct vm_area_struct **vmap,
				struct exo_cap **fp)
{
	struct vm_area_struct *vma;
	struct exo_cap *f;
	unsigned long vpn = e->va >> PAGE_SHIFT;
	u32 i;

	vma = exo_vm_vma(ctx, e->va, (u64)e->nr << PAGE_SHIFT);
	if (!vma)
		return -ENXIO;
	if (e->prot & ~exo_vma_prot(vma))
		return -EACCES;
	f = exo_cap_lookup(ctx, e->cap);
	if (!f)
		return -ENOENT;
	if ((u64)e->frame + e->nr > (1ULL << f->order))
		return -EINVAL;
	for (i = 0; i < e->nr; i++)
		if (xa_load(&ctx->bind.map, vpn + i))
			return -EEXIST;
	*vmap = vma;
	*fp = f;
	return 0;
}

/* Take back the first @done pages the call bound, in entry order. */
static void exo_map_rollback(struct exo_ctx *ctx,
			     const struct exo_map_entry *ents, u64 done)
{
	struct vm_area_struct *vma;
	unsigned long vpn;
	u32 i, n;

	for (i = 0; done; i++) {
		n = min_t(u64, ents[i].nr, done);
		done -= n;
		vpn = ents[i].va >> PAGE_SHIFT;
		while (n--)
			exo_bind_remove(ctx, vpn + n);
		vma = exo_vm_vma(ctx, ents[i].va, (u64)ents[i].nr << PAGE_SHIFT);
		if (vma)
			zap_vma_ptes(vma, ents[i].va,
				     (unsigned long)ents[i].nr << PAGE_SHIFT);
	}
}

static int exo_map_apply(struct exo_ctx *ctx, const struct exo_map_entry *ents,
			 u32 nr)
{
	struct vm_area_struct *vma;
	struct exo_cap *f;
	unsigned long va;
	u64 done = 0;
	void *b;
	u32 i, j;
	int ret;

	for (i = 0; i < nr; i++) {
		ret = exo_map_entry_lookup(ctx, &ents[i], &vma, &f);
		if (ret)
			goto undo;
		for (j = 0; j < ents[i].nr; j++) {
			va = ents[i].va + ((unsigned long)j << PAGE_SHIFT);
			/* A writable binding starts dirty: it is mapped to be written. */
			b = exo_binding(f->index, ents[i].frame + j, ents[i].prot,
					ents[i].prot & EXO_PROT_WRITE);
			ret = exo_bind_add(ctx, f, va >> PAGE_SHIFT, b);
			if (ret) {
				ret = ret == -EBUSY ? -EEXIST : -ENOMEM;
				goto undo;
			}
			done++;
			ret = exo_bind_install(ctx, vma, va, b);
			if (ret)
				goto undo;
		}
		exo_fault_wake_range(ctx, ents[i].va,
				     ents[i].va + ((u64)ents[i].nr << PAGE_SHIFT),
				     EXO_WOKEN_RETRY);
		cond_resched();
	}
	return 0;
undo:
	exo_map_rollback(ctx, ents, done);
	return ret;
}

/**
 * exo_vm_cmd_map() - bind frames to virtual pages (%EXO_IOC_MAP), all or
 *	none.
 * @ucmd: the command.
 *
 * Return: 0, -EINVAL, -E2BIG, -EFAULT, -ENXIO, -EACCES, -ENOENT, -EEXIST,
 * -ENOMEM or -EINTR.
 */
int exo_vm_cmd_map(struct exo_ucmd *ucmd)
{
	const struct exo_map *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_map_entry *ents;
	u32 i;
	int ret;

	if (req->__reserved || !req->nr)
		return -EINVAL;
	if (req->nr > EXO_MAX_BATCH)
		return -E2BIG;
	/* Copy before mmap_lock: the array may itself need a fault. */
	ents = exo_user_array(req->entries, req->nr, sizeof(*ents));
	if (IS_ERR(ents))
		return PTR_ERR(ents);
	for (i = 0; i < req->nr; i++) {
		ret = exo_map_entry_check(&ents[i]);
		if (ret)
			goto out;
	}
	ret = exo_vm_lock(ctx);
	if (ret)
		goto out;
	ret = exo_map_apply(ctx, ents, req->nr);
	exo_vm_unlock(ctx);
out:
	kvfree(ents);
	trace_exo_map(ctx->id, req->nr, ret);
	return ret;
}

/* Ranges an UNMAP or PROTECT keeps on the stack. */
#define EXO_SMALL_BATCH	4

/* One zap per VMA per call: the span of the pages that lost rights. */
struct exo_zap {
	struct vm_area_struct *vma;
	unsigned long lo, hi;
};

static void exo_zap_add(struct exo_zap *z, u32 *nz, struct vm_area_struct *vma,
			unsigned long lo, unsigned long hi)
{
	u32 i;

	for (i = 0; i < *nz; i++) {
		if (z[i].vma == vma) {
			z[i].lo = min(z[i].lo, lo);
			z[i].hi = max(z[i].hi, hi);
			return;
		}
	}
	z[*nz].vma = vma;
	z[*nz].lo = lo;
	z[*nz].hi = hi;
	(*nz)++;
}

static void exo_zap_all(const struct exo_zap *z, u32 nz)
{
	u32 i;

	for (i = 0; i < nz; i++)
		zap_vma_ptes(z[i].vma, z[i].lo, z[i].hi - z[i].lo);
}

/*
 * Unmap or re-protect the bound pages of one range; true if rights went.
 * One walk of the xarray under its lock, storing in place: a value entry
 * replaced by another (or erased) needs no allocation.
 */
static bool exo_range_apply(struct exo_ctx *ctx, const struct exo_vrange *r,
			    bool protect, u32 prot)
{
	unsigned long first = r->va >> PAGE_SHIFT;
	unsigned long last = first + (r->len >> PAGE_SHIFT) - 1;
	XA_STATE(xas, &ctx->bind.map, first);
	unsigned long next;
	bool lost = false;
	void *b;

	xas_lock(&xas);
	xas_for_each(&xas, b, last) {
		if (!protect) {
			xas_store(&xas, NULL);
			exo_bind_removed(ctx, b);
			lost = true;
		} else if (exo_b_prot(b) != prot) {
			lost |= exo_b_prot(b) & ~prot;
			/* Dirty stays: the frame's contents were written. */
			xas_store(&xas, exo_binding(exo_b_index(b),
						    exo_b_frame(b), prot,
						    exo_b_dirty(b)));
		}
		/*
		 * Not xas_pause(): after a store that freed an empty node it
		 * steps from the parent's slot and can skip entries. Restart
		 * from the next index instead.
		 */
		if (need_resched()) {
			next = xas.xa_index + 1;
			xas_unlock(&xas);
			cond_resched();
			xas_lock(&xas);
			xas_set(&xas, next);
		}
	}
	xas_unlock(&xas);
	return lost;
}

/*
 * Install the PTEs of the readable bound pages of some ranges now. Best
 * effort: a page left out (no memory for a page table) refills on access.
 */
static void exo_populate(struct exo_ctx *ctx, const struct exo_vrange *r,
			 u32 nr)
{
	struct vm_area_struct *vma;
	unsigned long vpn, first;
	void *b;
	u32 i;

	for (i = 0; i < nr; i++) {
		vma = exo_vm_vma(ctx, r[i].va, r[i].len);
		first = r[i].va >> PAGE_SHIFT;
		xa_for_each_range(&ctx->bind.map, vpn, b, first,
				  first + (r[i].len >> PAGE_SHIFT) - 1) {
			if (exo_bind_install(ctx, vma, vpn << PAGE_SHIFT, b))
				return;
		}
	}
}

/*
 * Unmap (%EXO_IOC_UNMAP) or re-protect (%EXO_IOC_PROTECT) the bound pages
 * of some ranges.
 *
 * Rights taken away are gone in every thread on return: the PTEs of the
 * span they cover in each VMA are zapped, with one TLB shootdown each.
 * With %EXO_PROTECT_POPULATE the readable pages' PTEs are installed after,
 * as far as memory for page tables allows; the rest refill on access.
 *
 * Return: 0, -EINVAL, -E2BIG, -EFAULT, -ENXIO, -EACCES, -ENOMEM or -EINTR.
 */
static int exo_vm_ranges(struct exo_ctx *ctx, const struct exo_vm_ranges *req,
			 bool protect)
{
	struct exo_vrange r_small[EXO_SMALL_BATCH], *r;
	struct exo_zap z_small[EXO_SMALL_BATCH], *z;
	struct vm_area_struct *vma;
	u32 i, nz = 0;
	int ret;

	if (!req->nr)
		return -EINVAL;
	if (req->nr > EXO_MAX_BATCH)
		return -E2BIG;
	ret = protect ? exo_prot_check(req->prot) : (req->prot ? -EINVAL : 0);
	if (ret)
		return ret;
	/* PROT1 and PROTN are one range: keep small calls off the heap. */
	if (req->nr <= EXO_SMALL_BATCH) {
		r = r_small;
		z = z_small;
		if (copy_from_user(r, u64_to_user_ptr(req->ranges),
				   req->nr * sizeof(*r)))
			return -EFAULT;
	} else {
		r = exo_user_array(req->ranges, req->nr, sizeof(*r));
		if (IS_ERR(r))
			return PTR_ERR(r);
		z = kvmalloc_array(req->nr, sizeof(*z), GFP_KERNEL_ACCOUNT);
		if (!z) {
			ret = -ENOMEM;
			goto out_free;
		}
	}
	for (i = 0; i < req->nr; i++) {
		ret = exo_range_check(r[i].va, r[i].len);
		if (ret)
			goto out_free;
	}
	ret = exo_vm_lock(ctx);
	if (ret)
		goto out_free;
	for (i = 0; i < req->nr; i++) {
		vma = exo_vm_vma(ctx, r[i].va, r[i].len);
		if (!vma) {
			ret = -ENXIO;
			goto out_unlock;
		}
		if (protect && (req->prot & ~exo_vma_prot(vma))) {
			ret = -EACCES;
			goto out_unlock;
		}
	}
	for (i = 0; i < req->nr; i++) {
		vma = exo_vm_vma(ctx, r[i].va, r[i].len);
		if (exo_range_apply(ctx, &r[i], protect, req->prot))
			exo_zap_add(z, &nz, vma, r[i].va, r[i].va + r[i].len);
		if (!protect)
			exo_bind_unmark(ctx, r[i].va >> PAGE_SHIFT,
					((r[i].va + r[i].len) >> PAGE_SHIFT) - 1);
		if (protect)
			exo_fault_wake_range(ctx, r[i].va, r[i].va + r[i].len,
					     EXO_WOKEN_RETRY);
	}
	exo_zap_all(z, nz);
	if (req->flags & EXO_PROTECT_POPULATE)
		exo_populate(ctx, r, req->nr);
out_unlock:
	exo_vm_unlock(ctx);
out_free:
	if (r != r_small) {
		kvfree(z);
		kvfree(r);
	}
	return ret;
}

/**
 * exo_vm_cmd_unmap() - remove the bindings of some ranges (%EXO_IOC_UNMAP).
 * @ucmd: the command.
 *
 * Return: 0, -EINVAL, -E2BIG, -EFAULT, -ENXIO, -ENOMEM or -EINTR.
 */
int exo_vm_cmd_unmap(struct exo_ucmd *ucmd)
{
	const struct exo_vm_ranges *req = ucmd->cmd;
	int ret = exo_vm_ranges(ucmd->ctx, req, false);

	trace_exo_unmap(ucmd->ctx->id, req->nr, ret);
	return ret;
}

/**
 * exo_vm_cmd_protect() - change the protection of the bindings of some
 *	ranges (%EXO_IOC_PROTECT).
 * @ucmd: the command.
 *
 * Return: 0, -EINVAL, -E2BIG, -EFAULT, -ENXIO, -EACCES, -ENOMEM or -EINTR.
 */
int exo_vm_cmd_protect(struct exo_ucmd *ucmd)
{
	const struct exo_vm_ranges *req = ucmd->cmd;
	int ret = exo_vm_ranges(ucmd->ctx, req, true);

	trace_exo_protect(ucmd->ctx->id, req->nr, ret);
	return ret;
}

struct exo_query_walk {
	struct mm_struct *mm;
	struct exo_vpage *out;
	unsigned long va;
	bool clear;
};

static int exo_query_pte(pte_t *ptep, unsigned long addr, void *data)
{
	struct exo_query_walk *w = data;
	struct exo_vpage *p = &w->out[(addr - w->va) >> PAGE_SHIFT];
	pte_t pte = ptep_get(ptep);

	if (!pte_present(pte))
		return 0;
	p->state |= EXO_VPAGE_PRESENT;
	if (pte_young(pte)) {
		p->state |= EXO_VPAGE_ACCESSED;
		/*
		 * No flush, as Linux's own aging on x86: a cached
		 * translation may keep the page young a while longer.
		 */
		if (w->clear)
			set_pte_at(w->mm, addr, ptep, pte_mkold(pte));
	}
	return 0;
}

/**
 * exo_vm_cmd_query() - read the bindings of consecutive pages
 *	(%EXO_IOC_QUERY).
 * @ucmd: the command.
 *
 * Return: 0, -EINVAL, -E2BIG, -EFAULT, -ENXIO, -ENOMEM or -EINTR.
 */
int exo_vm_cmd_query(struct exo_ucmd *ucmd)
{
	const struct exo_query *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_query_walk w = {
		.mm = ctx->mm,
		.va = req->va,
		.clear = req->flags & EXO_QUERY_CLEAR_ACCESSED,
	};
	unsigned long vpn, first;
	struct exo_cap *f;
	struct exo_vpage *p;
	u64 len;
	void *b;
	int ret;

	if (req->__reserved || !req->nr)
		return -EINVAL;
	if (req->nr > EXO_MAX_BATCH)
		return -E2BIG;
	len = (u64)req->nr << PAGE_SHIFT;
	ret = exo_range_check(req->va, len);
	if (ret)
		return ret;
	w.out = kvcalloc(req->nr, sizeof(*w.out), GFP_KERNEL_ACCOUNT);
	if (!w.out)
		return -ENOMEM;
	ret = exo_vm_lock(ctx);
	if (ret)
		goto out;
	if (!exo_vm_vma(ctx, req->va, len)) {
		ret = -ENXIO;
		goto out_unlock;
	}
	first = req->va >> PAGE_SHIFT;
	xa_for_each_range(&ctx->bind.map, vpn, b, first, first + req->nr - 1) {
		p = &w.out[vpn - first];
		f = exo_cap_at(&ctx->caps, exo_b_index(b));
		if (WARN_ON_ONCE(!f))
			continue;
		p->cap = exo_cap_make(f->index, f->gen);
		p->frame = exo_b_frame(b);
		p->pfn = f->pfn + p->frame;
		p->prot = exo_b_prot(b);
		p->state = EXO_VPAGE_BOUND;
		if (exo_b_dirty(b))
			p->state |= EXO_VPAGE_DIRTY;
	}
	ret = apply_to_existing_page_range(ctx->mm, req->va, len,
					   exo_query_pte, &w);
out_unlock:
	exo_vm_unlock(ctx);
	if (!ret && copy_to_user(u64_to_user_ptr(req->pages), w.out,
				 (size_t)req->nr * sizeof(*w.out)))
		ret = -EFAULT;
out:
	kvfree(w.out);
	return ret;
}

/* Set (or clear) the dirty bit of the bindings whose bit is set in @bm. */
static void exo_dirty_mark(struct exo_ctx *ctx, unsigned long first,
			   const u64 *bm, u32 nr, bool dirty)
{
	void *b;
	u32 i;

	for (i = 0; i < nr; i++) {
		if (!(bm[i / 64] & BIT_ULL(i % 64)))
			continue;
		b = xa_load(&ctx->bind.map, first + i);
		if (b)
			xa_store(&ctx->bind.map, first + i,
				 exo_binding(exo_b_index(b), exo_b_frame(b),
					     exo_b_prot(b), dirty),
				 GFP_KERNEL);
	}
}

/* Not reported after all, so not clean: mark them dirty again. */
static void exo_dirty_remark(struct exo_ctx *ctx, unsigned long first,
			     const u64 *bm, u32 nr)
{
	if (exo_vm_lock(ctx))
		return;
	exo_dirty_mark(ctx, first, bm, nr, true);
	exo_vm_unlock(ctx);
}

/**
 * exo_vm_cmd_dirty() - report and clear dirty bits (%EXO_IOC_DIRTY).
 * @ucmd: the command; its dirty is set.
 *
 * The dirty pages' PTEs are zapped (one shootdown over their span) while
 * ctx->lock keeps the fault path out, so a write after the call, in any
 * thread, faults and marks the page dirty again.
 *
 * Return: 0, -EINVAL, -E2BIG, -EFAULT, -ENXIO, -ENOMEM or -EINTR.
 */
int exo_vm_cmd_dirty(struct exo_ucmd *ucmd)
{
	struct exo_dirty *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	unsigned long vpn, first, lo = ULONG_MAX, hi = 0;
	struct vm_area_struct *vma;
	size_t words;
	u32 count = 0;
	u64 len, *bm;
	void *b;
	int ret;

	if (req->dirty || !req->nr)
		return -EINVAL;
	if (req->nr > EXO_DIRTY_MAX_PAGES)
		return -E2BIG;
	len = (u64)req->nr << PAGE_SHIFT;
	ret = exo_range_check(req->va, len);
	if (ret)
		return ret;
	first = req->va >> PAGE_SHIFT;
	words = DIV_ROUND_UP(req->nr, 64);
	bm = kvcalloc(words, sizeof(*bm), GFP_KERNEL_ACCOUNT);
	if (!bm)
		return -ENOMEM;
	ret = exo_vm_lock(ctx);
	if (ret)
		goto out;
	vma = exo_vm_vma(ctx, req->va, len);
	if (!vma) {
		ret = -ENXIO;
		goto out_unlock;
	}
	xa_for_each_range(&ctx->bind.map, vpn, b, first, first + req->nr - 1) {
		if (!exo_b_dirty(b))
			continue;
		bm[(vpn - first) / 64] |= BIT_ULL((vpn - first) % 64);
		lo = min(lo, vpn);
		hi = max(hi, vpn + 1);
		count++;
	}
	if (count) {
		exo_dirty_mark(ctx, first, bm, req->nr, false);
		zap_vma_ptes(vma, lo << PAGE_SHIFT, (hi - lo) << PAGE_SHIFT);
	}
	req->dirty = count;
out_unlock:
	exo_vm_unlock(ctx);
	if (ret)
		goto out;
	if (copy_to_user(u64_to_user_ptr(req->bitmap), bm,
			 words * sizeof(*bm))) {
		ret = -EFAULT;
		exo_dirty_remark(ctx, first, bm, req->nr);
	}
out:
	kvfree(bm);
	return ret;
}

/**
 * exo_vm_cmd_dirty_undo() - mark dirty again the pages a DIRTY reported,
 *	when its result could not be copied out.
 * @ucmd: the command as exo_vm_cmd_dirty() completed it.
 *
 * The bitmap already reached user space: read it back. Pages written
 * since are dirty anyway, so marking them again is harmless.
 */
void exo_vm_cmd_dirty_undo(struct exo_ucmd *ucmd)
{
	const struct exo_dirty *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	size_t words = DIV_ROUND_UP(req->nr, 64);
	u64 *bm;

	if (!req->dirty)
		return;
	bm = kvcalloc(words, sizeof(*bm), GFP_KERNEL);
	if (!bm)
		return;
	if (!copy_from_user(bm, u64_to_user_ptr(req->bitmap),
			    words * sizeof(*bm)))
		exo_dirty_remark(ctx, req->va >> PAGE_SHIFT, bm, req->nr);
	kvfree(bm);
}
