// SPDX-License-Identifier: GPL-2.0
/*
 * Physical frames under capabilities.
 *
 * A context gets frames by asking for any frame, a named one (by PFN), one
 * of a cache colour, or a contiguous run, each under a new capability
 * (exo_cap.c). A module-wide xarray maps every owned PFN to its owner so
 * that a request for a named frame held by another context fails with
 * -EBUSY before touching the page allocator. Before it allocates, a
 * context is admitted against exo's own limit (max_frames): over it, the
 * contexts above their fair share are asked for frames (exo_revoke.c).
 */
#include <linux/device.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "exo.h"
#include "exo_cap.h"
#include "exo_colour.h"
#include "exo_compat.h"
#include "exo_ctx.h"
#include "exo_frame.h"
#include "exo_grant.h"
#include "exo_pool.h"
#include "exo_revoke.h"
#include "trace/exo_trace.h"

static unsigned int exo_frame_quota = 8192;
module_param_named(frame_quota, exo_frame_quota, uint, 0644);
MODULE_PARM_DESC(frame_quota,
		 "Frames one context may hold; taken at open (default 8192)");

static unsigned int exo_max_order = MAX_PAGE_ORDER;
module_param_named(max_order, exo_max_order, uint, 0644);
MODULE_PARM_DESC(max_order,
		 "Largest order of a contiguous run (default and ceiling MAX_PAGE_ORDER)");

unsigned int exo_critical_max = 64;
module_param_named(critical_max, exo_critical_max, uint, 0644);
MODULE_PARM_DESC(critical_max,
		 "Frames one context may mark critical (default 64)");

unsigned int exo_max_frames;
module_param_named(max_frames, exo_max_frames, uint, 0644);
MODULE_PARM_DESC(max_frames,
		 "Frames all contexts together may hold; past it, contexts above their fair share are asked for frames (default 0: no limit)");

atomic_long_t exo_nr_frames = ATOMIC_LONG_INIT(0);
static atomic_long_t exo_frames_allocated = ATOMIC_LONG_INIT(0);
static atomic_long_t exo_frames_freed = ATOMIC_LONG_INIT(0);

static DEFINE_XARRAY(exo_pfn_owner);

/**
 * exo_frame_max_order() - the largest order a contiguous run may have now.
 */
unsigned int exo_frame_max_order(void)
{
	return min_t(unsigned int, READ_ONCE(exo_max_order), MAX_PAGE_ORDER);
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
	    ilog2(exo_nr_colours) > exo_frame_max_order())
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

static int exo_frame_check(const struct exo_frame_alloc *req)
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
		return req->order <= exo_frame_max_order() ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

static int exo_frame_get(const struct exo_frame_alloc *req, unsigned long *pfn)
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

/*
 * Count @nr frames against exo's limit before allocating them. Over the
 * limit, a context below its fair share (the limit divided among the
 * contexts holding frames) has the contexts above theirs asked for their
 * excess and is told to try again; one at its share is refused.
 * Return: 0 (exo_nr_frames includes @nr), -EAGAIN or -ENOSPC.
 */
static int exo_frame_admit(struct exo_ctx *ctx, u32 nr)
{
	unsigned long limit = READ_ONCE(exo_max_frames);
	unsigned long holders = 0, share, id;
	u64 need, ask, over, held;
	struct exo_ctx *c;
	long total;

	total = atomic_long_add_return(nr, &exo_nr_frames);
	if (!limit || total <= limit)
		return 0;
	atomic_long_sub(nr, &exo_nr_frames);

	exo_ctxs_lock();
	exo_ctx_for_each(id, c)
		if (READ_ONCE(c->frames.held) || c == ctx)
			holders++;
	share = limit / max(holders, 1UL);
	if (READ_ONCE(ctx->frames.held) + nr > share) {
		exo_ctxs_unlock();
		return -ENOSPC;
	}
	need = total - limit;
	exo_ctx_for_each(id, c) {
		if (c == ctx || !need)
			continue;
		spin_lock(&c->ev.lock);
		held = READ_ONCE(c->frames.held);
		over = held > share + c->rv.owed ? held - share - c->rv.owed : 0;
		ask = min3(over, need, exo_revocable(c));
		if (ask) {
			exo_revoke_post(c, ask, READ_ONCE(exo_revoke_timeout_ms));
			need -= ask;
		}
		spin_unlock(&c->ev.lock);
	}
	exo_ctxs_unlock();
	return -EAGAIN;
}

/**
 * exo_frame_cmd_alloc() - allocate frames under a new capability
 *	(%EXO_IOC_FRAME_ALLOC).
 * @ucmd: the command; on success its cap, pfn, order and colour are set.
 *
 * Return: 0, -EINVAL, -EDQUOT, -EBUSY, -ENOMEM, -EAGAIN, -ENOSPC or
 * -EINTR.
 */
int exo_frame_cmd_alloc(struct exo_ucmd *ucmd)
{
	struct exo_frame_alloc *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_cap *c;
	unsigned long pfn;
	u32 nr;
	int ret;

	ret = exo_frame_check(req);
	if (ret)
		return ret;
	nr = 1U << req->order;

	/* At the memcg limit: -ENOMEM for the caller, no OOM kill. */
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL);
	if (!c)
		return -ENOMEM;

	mutex_lock(&ctx->lock);
	if (ctx->frames.held + nr > ctx->frames.quota) {
		ret = -EDQUOT;
		goto err_unlock;
	}
	ret = exo_frame_admit(ctx, nr);
	if (ret)
		goto err_unlock;
	ret = exo_cap_reserve(ctx, c);
	if (ret)
		goto err_unadmit;

	ret = exo_frame_get(req, &pfn);
	if (ret)
		goto err_unreserve;
	ret = exo_owner_insert(ctx, pfn, req->order);
	if (ret)
		goto err_put;

	c->pfn = pfn;
	c->order = req->order;
	c->how = req->how;
	ctx->frames.held += nr;
	ctx->frames.allocs++;
	exo_cap_publish(ctx, c);
	mutex_unlock(&ctx->lock);

	atomic_long_add(nr, &exo_frames_allocated);

	req->cap = exo_cap_make(c->index, c->gen);
	req->pfn = pfn;
	req->colour = exo_colour_of(pfn);
	trace_exo_frame_alloc(ctx->id, req->cap, pfn, req->order, req->how);
	return 0;

err_put:
	exo_free_run(pfn, req->order);
err_unreserve:
	exo_cap_unreserve(ctx, c);
err_unadmit:
	atomic_long_sub(nr, &exo_nr_frames);
err_unlock:
	mutex_unlock(&ctx->lock);
	kfree(c);
	return ret;
}

/**
 * exo_frame_put() - drop a capability: free its frames, or for a granted
 *	one only the capability.
 * @ctx: its holder, locked (or dying).
 * @c: the capability; unbound, ungranted, unlinked from any grant list.
 */
void exo_frame_put(struct exo_ctx *ctx, struct exo_cap *c)
{
	u32 nr = 1U << c->order;

	exo_cap_erase(ctx, c);
	if (c->src) {
		kfree(c);
		return;
	}
	WARN_ON_ONCE(!list_empty(&c->grants));
	if (c->critical)
		ctx->frames.critical -= nr;
	trace_exo_frame_free(ctx->id, c->pfn, c->order);
	exo_owner_erase(c->pfn, c->order);
	exo_free_run(c->pfn, c->order);
	ctx->frames.held -= nr;
	exo_caps_show_frames(ctx);
	atomic_long_sub(nr, &exo_nr_frames);
	atomic_long_add(nr, &exo_frames_freed);
	kfree(c);
}

static int exo_frame_drop(struct exo_ctx *ctx, u64 cap, bool undo)
{
	bool shared = false;
	struct exo_cap *c;
	u32 nr = 0;
	int ret = 0;

again:
	/* Grants are taken apart under exo_abort_lock, before ctx->lock. */
	if (shared)
		mutex_lock(&exo_abort_lock);
	mutex_lock(&ctx->lock);
	c = exo_cap_lookup(ctx, cap);
	if (!c) {
		ret = -ENOENT;
		goto out;
	}
	/* Bound frames are reachable through special PTEs: unmap first. */
	if (c->nr_bindings || c->pinned) {
		ret = -EBUSY;
		goto out;
	}
	if (!shared && (c->src || !list_empty(&c->grants))) {
		mutex_unlock(&ctx->lock);
		shared = true;
		goto again;
	}
	if (!list_empty(&c->grants)) {
		mutex_unlock(&ctx->lock);
		exo_grants_break(c);
		shared = false;
		mutex_unlock(&exo_abort_lock);
		goto again;
	}
	if (c->src)
		list_del(&c->grant_node);
	else
		nr = 1U << c->order;
	exo_frame_put(ctx, c);
	if (undo)
		ctx->frames.allocs--;
	else
		ctx->frames.frees++;
out:
	mutex_unlock(&ctx->lock);
	if (shared)
		mutex_unlock(&exo_abort_lock);
	if (nr && !undo)
		exo_revoke_returned(ctx, nr);
	return ret;
}

/**
 * exo_frame_cmd_alloc_undo() - take back an allocation user space never
 *	learnt of.
 * @ucmd: the command as exo_frame_cmd_alloc() completed it.
 */
void exo_frame_cmd_alloc_undo(struct exo_ucmd *ucmd)
{
	const struct exo_frame_alloc *req = ucmd->cmd;

	exo_frame_drop(ucmd->ctx, req->cap, true);
}

/**
 * exo_frame_cmd_free() - free the frames a capability names
 *	(%EXO_IOC_FRAME_FREE).
 * @ucmd: the command.
 *
 * Return: 0, -ENOENT if the capability names nothing in this context,
 * -EBUSY while a virtual page is bound to one of its frames or a network
 * ring holds them.
 */
int exo_frame_cmd_free(struct exo_ucmd *ucmd)
{
	const struct exo_frame_free *req = ucmd->cmd;

	return exo_frame_drop(ucmd->ctx, req->cap, false);
}

/**
 * exo_frame_cmd_critical() - mark or unmark frames critical
 *	(%EXO_IOC_FRAME_CRITICAL).
 * @ucmd: the command; its critical is set.
 *
 * Return: 0, -EINVAL, -ENOENT, or -ENOSPC past critical_max frames.
 */
int exo_frame_cmd_critical(struct exo_ucmd *ucmd)
{
	struct exo_frame_critical *req = ucmd->cmd;
	bool mark = !(req->flags & EXO_CRITICAL_CLEAR);
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_cap *c;
	int ret = 0;
	u32 nr;

	if (req->__reserved || req->critical)
		return -EINVAL;
	mutex_lock(&ctx->lock);
	c = exo_cap_lookup(ctx, req->cap);
	if (!c || c->src) {
		ret = c ? -EINVAL : -ENOENT;
		goto out;
	}
	nr = 1U << c->order;
	if (mark && !c->critical) {
		if ((u64)ctx->frames.critical + nr > READ_ONCE(exo_critical_max)) {
			ret = -ENOSPC;
			goto out;
		}
		ctx->frames.critical += nr;
	} else if (!mark && c->critical) {
		ctx->frames.critical -= nr;
	}
	c->critical = mark;
	exo_cap_update(ctx, c);
	req->critical = ctx->frames.critical;
out:
	mutex_unlock(&ctx->lock);
	return ret;
}

/**
 * exo_frame_ctx_init() - a new context holds no frames.
 * @ctx: the context.
 *
 * Return: 0.
 */
int exo_frame_ctx_init(struct exo_ctx *ctx)
{
	ctx->frames.quota = READ_ONCE(exo_frame_quota);
	return 0;
}

/**
 * exo_frame_ctx_fini() - return every frame of a dying context.
 * @ctx: the context, no longer reachable from user space; its grants are
 *	broken and let go (exo_grants_release()).
 */
void exo_frame_ctx_fini(struct exo_ctx *ctx)
{
	struct exo_cap *c;
	unsigned long index;

	mutex_lock(&ctx->lock);
	xa_for_each(&ctx->caps.xa, index, c) {
		exo_frame_put(ctx, c);
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

static ssize_t frames_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&exo_nr_frames));
}
static DEVICE_ATTR_RO(frames);

static ssize_t frames_allocated_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&exo_frames_allocated));
}
static DEVICE_ATTR_RO(frames_allocated);

static ssize_t frames_freed_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&exo_frames_freed));
}
static DEVICE_ATTR_RO(frames_freed);

static struct attribute *exo_frame_attrs[] = {
	&dev_attr_frames.attr,
	&dev_attr_frames_allocated.attr,
	&dev_attr_frames_freed.attr,
	NULL,
};

/* /sys/class/misc/exo/frames, frames_allocated and frames_freed. */
const struct attribute_group exo_frame_attr_group = {
	.attrs = exo_frame_attrs,
};
