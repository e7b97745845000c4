// SPDX-License-Identifier: GPL-2.0
/*
 * Grants: a context gives another a capability for frames it owns, as
 * Aegis let capabilities be shared. The grantee's capability is its own
 * struct exo_frames (its own index and generation, in its own table) that
 * points at the owner's; the owner's frames list their grants. The owner
 * stays in charge: freeing, an abort or its close breaks every grant first,
 * removing the grantee's bindings and capability, so no context ever
 * reaches a frame after its owner let it go. All of it under
 * exo_abort_lock, which lets these paths lock one context at a time.
 */
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "exo.h"

/* exo_vm_unbind_caps() callback: bound to the broken grant? */
static void *exo_grant_match(void *arg, u32 index, unsigned long vpn)
{
	return index == *(u32 *)arg ? xa_mk_value(0) : NULL;
}

/* Take one granted capability away from its holder. */
static void exo_grant_break_one(struct exo_frames *c)
{
	struct exo_ctx *g = c->holder;
	u32 index = c->index;
	u64 cap = exo_cap_make(c->index, c->gen);
	u32 nr = 1U << c->order;

	lockdep_assert_held(&exo_abort_lock);
	/* Not killable: the owner's frames must not outlive this. */
	if (g->mm)
		mmap_read_lock(g->mm);
	mutex_lock(&g->lock);
	exo_vm_unbind_caps(g, exo_grant_match, &index);
	xa_erase(&g->caps, c->index);
	list_del(&c->grant_node);
	exo_frames_put(g, c);
	mutex_unlock(&g->lock);
	if (g->mm)
		mmap_read_unlock(g->mm);

	spin_lock(&g->revoke_lock);
	exo_event_post(g, EXO_EV_GRANT_REVOKED, 0, nr, 0, cap, true);
	spin_unlock(&g->revoke_lock);
}

/**
 * exo_grants_break() - take back every grant of some frames.
 * @f: the owner's frames. exo_abort_lock held (it keeps @f alive: a frame
 *	with grants is freed only under it); no context locked.
 */
void exo_grants_break(struct exo_frames *f)
{
	struct exo_frames *c, *tmp;

	lockdep_assert_held(&exo_abort_lock);
	list_for_each_entry_safe(c, tmp, &f->grants, grant_node)
		exo_grant_break_one(c);
}

/**
 * exo_ctx_grants_release() - a dying context breaks what it granted and
 *	lets go of what it was granted.
 * @ctx: the context, out of the registry, no ioctl running: nothing but
 *	this changes its capabilities, so they are walked without its lock
 *	(other contexts are locked while breaking).
 */
void exo_ctx_grants_release(struct exo_ctx *ctx)
{
	struct exo_frames *f;
	unsigned long index;

	mutex_lock(&exo_abort_lock);
	xa_for_each(&ctx->caps, index, f) {
		if (f->src)
			list_del_init(&f->grant_node);
		else
			exo_grants_break(f);
	}
	mutex_unlock(&exo_abort_lock);
}

static struct exo_frames *exo_grant_new(struct exo_ctx *g, struct exo_frames *f,
					struct exo_frames *c)
{
	u32 index;
	int ret;

	ret = xa_alloc(&g->caps, &index, c, XA_LIMIT(1, g->nr_slots - 1),
		       GFP_KERNEL_ACCOUNT);
	if (ret)
		return ERR_PTR(ret == -EBUSY ? -EDQUOT : ret);
	c->pfn = f->pfn;
	c->order = f->order;
	c->how = f->how;
	c->index = index;
	c->gen = exo_new_gen();
	c->holder = g;
	c->src = f;
	INIT_LIST_HEAD(&c->grants);
	g->granted++;
	g->nr_caps++;
	exo_ftable_publish(g, c);
	return c;
}

/**
 * exo_frame_grant() - give context @req->ctx_id a capability for frames
 *	this one owns (%EXO_IOC_FRAME_GRANT).
 * @ctx: the granting context.
 * @req: the request; @req->grant_cap is set.
 *
 * Return: 0, -EINVAL, -ENOENT, -ESRCH, -EPERM, -EDQUOT or -ENOMEM.
 */
int exo_frame_grant(struct exo_ctx *ctx, struct exo_frame_grant *req)
{
	struct exo_frames *f, *c, *got;
	struct exo_ctx *g;
	int ret = 0;

	if (req->__reserved || req->grant_cap)
		return -EINVAL;
	if (req->ctx_id == ctx->id)
		return -EINVAL;
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return -ENOMEM;

	mutex_lock(&exo_abort_lock);
	g = exo_ctx_find(req->ctx_id);
	if (!g) {
		ret = -ESRCH;
		goto out;
	}
	if (!uid_eq(g->uid, ctx->uid)) {
		ret = -EPERM;
		goto out;
	}
	mutex_lock(&ctx->lock);
	f = exo_cap_lookup(ctx, req->cap);
	if (!f || f->src) {
		ret = f ? -EINVAL : -ENOENT;
		mutex_unlock(&ctx->lock);
		goto out;
	}
	/* Listed before ctx->lock goes: a free now needs exo_abort_lock. */
	list_add(&c->grant_node, &f->grants);
	mutex_unlock(&ctx->lock);

	mutex_lock(&g->lock);
	got = exo_grant_new(g, f, c);
	mutex_unlock(&g->lock);
	if (IS_ERR(got)) {
		ret = PTR_ERR(got);
		list_del(&c->grant_node);
		goto out;
	}
	req->grant_cap = exo_cap_make(c->index, c->gen);
	c = NULL;
out:
	mutex_unlock(&exo_abort_lock);
	kfree(c);
	return ret;
}

/**
 * exo_grant_undo() - take back a grant whose capability never reached
 *	user space.
 * @ctx: the granting context.
 * @req: the request as exo_frame_grant() completed it.
 */
void exo_grant_undo(struct exo_ctx *ctx, const struct exo_frame_grant *req)
{
	struct exo_frames *c;
	struct exo_ctx *g;

	mutex_lock(&exo_abort_lock);
	g = exo_ctx_find(req->ctx_id);
	if (g) {
		mutex_lock(&g->lock);
		c = exo_cap_lookup(g, req->grant_cap);
		if (c && c->src && !c->nr_bindings) {
			xa_erase(&g->caps, c->index);
			list_del(&c->grant_node);
			exo_frames_put(g, c);
		}
		mutex_unlock(&g->lock);
	}
	mutex_unlock(&exo_abort_lock);
}
