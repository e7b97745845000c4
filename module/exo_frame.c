// SPDX-License-Identifier: GPL-2.0
/*
 * Physical frames under capabilities.
 *
 * A context names its frames by capability: index (a slot in its xarray and
 * its frame table) plus generation. The index is reused lowest-first, the
 * generation not within 2^32 allocations, so a stale capability fails.
 * Capabilities live in the context's own table and generations are
 * module-wide, so another context's capability names nothing here. A
 * module-wide xarray maps every owned PFN to its owner so that a request for
 * a named frame held by another context fails with -EBUSY before touching
 * the page allocator.
 */
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "exo.h"

static DEFINE_XARRAY(exo_pfn_owner);

/*
 * Generations are module-wide, so no two live capabilities of different
 * contexts are equal: another context's capability never names a frame of
 * this one by accident.
 */
static atomic_t exo_last_gen = ATOMIC_INIT(0);

u32 exo_new_gen(void)
{
	u32 gen;

	do {
		gen = atomic_inc_return(&exo_last_gen);
	} while (!gen);
	return gen;
}

/*
 * Zeroed, charged to the caller's memory cgroup, no OOM killer and no
 * warning: a library OS at its limit gets -ENOMEM, nobody else is killed.
 * Not movable: the module holds these frames until the library OS frees
 * them, so they must not sit in movable pageblocks.
 */
#define EXO_GFP	(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT | \
		 __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/* Frames of exo's region go back to it; the others back to Linux. */
static void exo_free_run(unsigned long pfn, unsigned int order)
{
	unsigned long i;

	for (i = 0; i < (1UL << order); i++) {
		if (exo_pool_contains(pfn + i))
			exo_pool_put(pfn + i);
		else
			__free_page(pfn_to_page(pfn + i));
	}
}

static int exo_get_any(unsigned long *pfn)
{
	struct page *page = alloc_page(EXO_GFP);

	if (!page)
		return -ENOMEM;
	*pfn = page_to_pfn(page);
	return 0;
}

static int exo_get_contig(unsigned int order, unsigned long *pfn)
{
	struct page *page = alloc_pages(EXO_GFP, order);

	if (!page)
		return -ENOMEM;
	/* One refcount per frame, so each can be mapped and freed alone. */
	if (order)
		split_page(page, order);
	*pfn = page_to_pfn(page);
	return 0;
}

/*
 * Draw frames until one has the wanted colour; hold the misses until the
 * end so the allocator does not hand the same frame back again. This is
 * the fallback: the per-CPU lists recycle the same misses, so it can fail.
 */
static int exo_draw_colour(unsigned int colour, unsigned long *pfn)
{
	unsigned int tries = min(8 * exo_nr_colours, 4096U);
	struct page *page, *tmp;
	LIST_HEAD(misses);
	int ret = -ENOMEM;

	while (tries--) {
		page = alloc_page(EXO_GFP);
		if (!page)
			break;
		if (exo_colour_of(page_to_pfn(page)) == colour) {
			*pfn = page_to_pfn(page);
			ret = 0;
			break;
		}
		list_add(&page->lru, &misses);
	}
	list_for_each_entry_safe(page, tmp, &misses, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	return ret;
}

/*
 * An aligned block of nr_colours frames (a power of two) holds exactly one
 * frame of each colour: take a block, keep that frame, free the rest. When
 * no such block is to be had, draw single frames instead.
 */
static int exo_get_colour(unsigned int colour, unsigned long *pfn)
{
	unsigned int order, i, keep;
	struct page *page;

	if (!is_power_of_2(exo_nr_colours) ||
	    ilog2(exo_nr_colours) > exo_effective_max_order())
		return exo_draw_colour(colour, pfn);
	order = ilog2(exo_nr_colours);
	page = alloc_pages(EXO_GFP, order);
	if (!page)
		return exo_draw_colour(colour, pfn);
	if (order)
		split_page(page, order);
	keep = (colour - page_to_pfn(page)) & (exo_nr_colours - 1);
	for (i = 0; i < (1U << order); i++)
		if (i != keep)
			__free_page(page + i);
	*pfn = page_to_pfn(page) + keep;
	return 0;
}

/*
 * Take exactly frame @pfn: from exo's own region, which is certain, or out
 * of Linux's hands, migrating a movable page off it, which Linux may refuse.
 */
static int exo_get_named(unsigned long pfn)
{
	int ret;

	if (exo_pool_contains(pfn)) {
		ret = exo_pool_take(pfn);
		if (!ret)
			clear_highpage(pfn_to_page(pfn));
		return ret;
	}
	if (!pfn_to_online_page(pfn))
		return -EINVAL;
	if (xa_load(&exo_pfn_owner, pfn))
		return -EBUSY;
	ret = alloc_contig_range(pfn, pfn + 1, MIGRATE_MOVABLE,
				 GFP_KERNEL | __GFP_NOWARN);
	if (ret)
		return ret == -EINTR ? ret : -EBUSY;
	clear_highpage(pfn_to_page(pfn));
	return 0;
}

static int exo_check_request(const struct exo_frame_alloc *req)
{
	if (req->__reserved)
		return -EINVAL;
	if (req->how != EXO_ALLOC_PFN && req->pfn)
		return -EINVAL;
	if (req->how != EXO_ALLOC_COLOUR && req->colour)
		return -EINVAL;
	if (req->how != EXO_ALLOC_CONTIG && req->order)
		return -EINVAL;

	switch (req->how) {
	case EXO_ALLOC_ANY:
	case EXO_ALLOC_PFN:
		return 0;
	case EXO_ALLOC_COLOUR:
		return req->colour < exo_nr_colours ? 0 : -EINVAL;
	case EXO_ALLOC_CONTIG:
		return req->order <= exo_effective_max_order() ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

static int exo_get_frames(const struct exo_frame_alloc *req,
			  unsigned long *pfn)
{
	switch (req->how) {
	case EXO_ALLOC_PFN:
		if (req->pfn > ULONG_MAX)
			return -EINVAL;
		*pfn = req->pfn;
		return exo_get_named(*pfn);
	case EXO_ALLOC_COLOUR:
		return exo_get_colour(req->colour, pfn);
	case EXO_ALLOC_CONTIG:
		return exo_get_contig(req->order, pfn);
	default:
		return exo_get_any(pfn);
	}
}

static void exo_owner_erase(unsigned long pfn, unsigned int order)
{
	unsigned long i;

	for (i = 0; i < (1UL << order); i++)
		xa_erase(&exo_pfn_owner, pfn + i);
}

static int exo_owner_insert(struct exo_ctx *ctx, unsigned long pfn,
			    unsigned int order)
{
	unsigned long i;
	int ret;

	for (i = 0; i < (1UL << order); i++) {
		ret = xa_insert(&exo_pfn_owner, pfn + i, xa_mk_value(ctx->id),
				GFP_KERNEL);
		if (ret) {
			while (i--)
				xa_erase(&exo_pfn_owner, pfn + i);
			return ret == -EBUSY ? -EBUSY : -ENOMEM;
		}
	}
	return 0;
}

/**
 * exo_frame_alloc() - allocate frames for a context under a new capability.
 * @ctx: the context.
 * @req: the request; on success @req->cap, pfn, order and colour are filled.
 *
 * Return: 0, or -EINVAL, -EDQUOT, -EBUSY, -ENOMEM (see Documentation/uapi.rst).
 */
int exo_frame_alloc(struct exo_ctx *ctx, struct exo_frame_alloc *req)
{
	struct exo_frames *f;
	unsigned long pfn;
	u32 nr, index;
	int ret;

	ret = exo_check_request(req);
	if (ret)
		return ret;
	nr = 1U << req->order;

	/* At the memcg limit: -ENOMEM for the caller, no OOM kill. */
	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL);
	if (!f)
		return -ENOMEM;

	mutex_lock(&ctx->lock);
	if (ctx->frames + nr > ctx->frame_quota) {
		ret = -EDQUOT;
		goto err_unlock;
	}
	ret = exo_frames_reserve(ctx, nr);
	if (ret)
		goto err_unlock;
	ret = xa_alloc(&ctx->caps, &index, f, XA_LIMIT(1, ctx->nr_slots - 1),
		       GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL);
	if (ret) {
		ret = ret == -EBUSY ? -EDQUOT : ret;
		goto err_unreserve;
	}

	ret = exo_get_frames(req, &pfn);
	if (ret)
		goto err_erase;
	ret = exo_owner_insert(ctx, pfn, req->order);
	if (ret)
		goto err_put;

	f->pfn = pfn;
	f->order = req->order;
	f->how = req->how;
	f->index = index;
	f->gen = exo_new_gen();
	f->holder = ctx;
	INIT_LIST_HEAD(&f->grants);

	ctx->frames += nr;
	ctx->nr_caps++;
	ctx->allocs++;
	exo_ftable_publish(ctx, f);
	mutex_unlock(&ctx->lock);

	atomic_long_add(nr, &exo_frames_allocated);

	req->cap = exo_cap_make(index, f->gen);
	req->pfn = pfn;
	req->colour = exo_colour_of(pfn);
	return 0;

err_put:
	exo_free_run(pfn, req->order);
err_erase:
	xa_erase(&ctx->caps, index);
err_unreserve:
	atomic_long_sub(nr, &exo_nr_frames);
err_unlock:
	mutex_unlock(&ctx->lock);
	kfree(f);
	return ret;
}

/**
 * exo_frames_put() - drop a capability already out of ctx->caps: free its
 *	frames, or for a granted one only the capability.
 * @ctx: its holder, locked (or dying).
 * @f: the capability's frames; unbound, ungranted, unlinked.
 */
void exo_frames_put(struct exo_ctx *ctx, struct exo_frames *f)
{
	u32 nr = 1U << f->order;

	exo_ftable_clear(ctx, f->index);
	ctx->nr_caps--;
	if (f->src) {
		ctx->granted--;
		kfree(f);
		return;
	}
	WARN_ON_ONCE(!list_empty(&f->grants));
	if (f->critical)
		ctx->critical -= nr;
	exo_owner_erase(f->pfn, f->order);
	exo_free_run(f->pfn, f->order);
	ctx->frames -= nr;
	WRITE_ONCE(ctx->ftable->frames, ctx->frames);
	atomic_long_sub(nr, &exo_nr_frames);
	atomic_long_add(nr, &exo_frames_freed);
	kfree(f);
}

/**
 * exo_cap_lookup() - the frames a capability names.
 * @ctx: the context, locked.
 * @cap: the capability.
 *
 * Return: the frames, or NULL if @cap is forged, stale or foreign.
 */
struct exo_frames *exo_cap_lookup(struct exo_ctx *ctx, u64 cap)
{
	struct exo_frames *f;

	lockdep_assert_held(&ctx->lock);
	f = xa_load(&ctx->caps, EXO_CAP_INDEX(cap));
	if (!f || f->gen != EXO_CAP_GEN(cap))
		return NULL;
	return f;
}

static int exo_frame_drop(struct exo_ctx *ctx, u64 cap, bool undo)
{
	bool shared = false;
	struct exo_frames *f;
	u32 nr = 0;
	int ret = 0;

again:
	/* Grants are taken apart under exo_abort_lock, before ctx->lock. */
	if (shared)
		mutex_lock(&exo_abort_lock);
	mutex_lock(&ctx->lock);
	f = exo_cap_lookup(ctx, cap);
	if (!f) {
		ret = -ENOENT;
		goto out;
	}
	/* Bound frames are reachable through special PTEs: unmap first. */
	if (f->nr_bindings || f->pinned) {
		ret = -EBUSY;
		goto out;
	}
	if (!shared && (f->src || !list_empty(&f->grants))) {
		mutex_unlock(&ctx->lock);
		shared = true;
		goto again;
	}
	if (!list_empty(&f->grants)) {
		mutex_unlock(&ctx->lock);
		exo_grants_break(f);
		shared = false;
		mutex_unlock(&exo_abort_lock);
		goto again;
	}
	if (f->src)
		list_del(&f->grant_node);
	else
		nr = 1U << f->order;
	xa_erase(&ctx->caps, f->index);
	exo_frames_put(ctx, f);
	if (undo)
		ctx->allocs--;
	else
		ctx->frees++;
out:
	mutex_unlock(&ctx->lock);
	if (shared)
		mutex_unlock(&exo_abort_lock);
	if (nr && !undo)
		exo_revoke_returned(ctx, nr);
	return ret;
}

/**
 * exo_frame_critical() - mark or unmark frames critical
 *	(%EXO_IOC_FRAME_CRITICAL).
 * @ctx: the context.
 * @req: the request; @req->critical is set.
 *
 * Return: 0, -EINVAL, -ENOENT, or -ENOSPC past critical_max frames.
 */
int exo_frame_critical(struct exo_ctx *ctx, struct exo_frame_critical *req)
{
	bool mark = !(req->flags & EXO_CRITICAL_CLEAR);
	struct exo_frames *f;
	int ret = 0;
	u32 nr;

	if (req->__reserved || req->critical)
		return -EINVAL;
	mutex_lock(&ctx->lock);
	f = exo_cap_lookup(ctx, req->cap);
	if (!f || f->src) {
		ret = f ? -EINVAL : -ENOENT;
		goto out;
	}
	nr = 1U << f->order;
	if (mark && !f->critical) {
		if ((u64)ctx->critical + nr > READ_ONCE(exo_critical_max)) {
			ret = -ENOSPC;
			goto out;
		}
		ctx->critical += nr;
	} else if (!mark && f->critical) {
		ctx->critical -= nr;
	}
	f->critical = mark;
	exo_ftable_publish(ctx, f);
	req->critical = ctx->critical;
out:
	mutex_unlock(&ctx->lock);
	return ret;
}

/**
 * exo_frame_free() - free the frames a capability names.
 * @ctx: the context.
 * @cap: the capability.
 *
 * Return: 0, -ENOENT if @cap names nothing in @ctx, -EBUSY while a virtual
 * page is bound to one of its frames or a network ring holds them.
 */
int exo_frame_free(struct exo_ctx *ctx, u64 cap)
{
	return exo_frame_drop(ctx, cap, false);
}

/**
 * exo_frame_unalloc() - take back an allocation user space never learnt of.
 * @ctx: the context.
 * @cap: the capability just allocated.
 */
void exo_frame_unalloc(struct exo_ctx *ctx, u64 cap)
{
	exo_frame_drop(ctx, cap, true);
}

/**
 * exo_frame_release_all() - return every frame of a dying context.
 * @ctx: the context, no longer reachable from user space.
 */
void exo_frame_release_all(struct exo_ctx *ctx)
{
	struct exo_frames *f;
	unsigned long index;

	mutex_lock(&ctx->lock);
	xa_for_each(&ctx->caps, index, f) {
		xa_erase(&ctx->caps, index);
		/* exo_ctx_grants_release() unlinked and broke grants. */
		exo_frames_put(ctx, f);
		cond_resched();
	}
	mutex_unlock(&ctx->lock);
}

/**
 * exo_frames_idle() - true when no context holds a frame.
 */
bool exo_frames_idle(void)
{
	return xa_empty(&exo_pfn_owner) && !atomic_long_read(&exo_nr_frames);
}
