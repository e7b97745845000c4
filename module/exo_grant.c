// SPDX-License-Identifier: GPL-2.0
/*
 * Grants: a context gives another a capability for frames it owns, as
 * Aegis let capabilities be shared. The grantee's capability is its own
 * struct exo_cap (its own index and generation, in its own table) that
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
#include "exo_bind.h"
#include "exo_cap.h"
#include "exo_ctx.h"
#include "exo_events.h"
#include "exo_frame.h"
#include "exo_grant.h"
#include "trace/exo_trace.h"

/* Serialises aborts, grants and their breaking; see exo_grant.h. */
DEFINE_MUTEX(exo_abort_lock);

/* exo_bind_unbind_caps() callback: bound to the broken grant? */
static void *exo_grant_match(void *arg, u32 index, unsigned long vpn)
{
	return index == *(u32 *)arg ? xa_mk_value(0) : NULL;
}

/* Take one granted capability away from its holder. */
static void exo_grant_break_one(struct exo_cap *c)
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
	exo_bind_unbind_caps(g, exo_grant_match, &index);
	list_del(&c->grant_node);
	exo_frame_put(g, c);
	mutex_unlock(&g->lock);
	if (g->mm)
		mmap_read_unlock(g->mm);

	spin_lock(&g->ev.lock);
	exo_event_post(g, EXO_EV_GRANT_REVOKED, 0, nr, 0, cap, true);
	spin_unlock(&g->ev.lock);
}

/**
 * exo_grants_break() - take back every grant of some frames.
 * @f: the owner's frames. exo_abort_lock held (it keeps @f alive: a frame
 *	with grants is freed only under it); no context locked.
 */
void exo_grants_break(struct exo_cap *f)
{
	struct exo_cap *c, *tmp;

	lockdep_assert_held(&exo_abort_lock);
	list_for_each_entry_safe(c, tmp, &f->grants, grant_node)
		exo_grant_break_one(c);
}

/**
 * exo_grants_release() - a dying context breaks what it granted and lets
 *	go of what it was granted.
 * @ctx: the context, out of the registry, no ioctl running: nothing but
 *	this changes its capabilities, so they are walked without its lock
 *	(other contexts are locked while breaking).
 */
void exo_grants_release(struct exo_ctx *ctx)
{
	struct exo_cap *f;
	unsigned long index;

	mutex_lock(&exo_abort_lock);
	xa_for_each(&ctx->caps.xa, index, f) {
		if (f->src)
			list_del_init(&f->grant_node);
		else
			exo_grants_break(f);
	}
	mutex_unlock(&exo_abort_lock);
}

/* @g's capability @c for @f's frames. g->lock held. */
static int exo_grant_new(struct exo_ctx *g, struct exo_cap *f,
			 struct exo_cap *c)
{
	int ret;

	ret = exo_cap_reserve(g, c);
	if (ret)
		return ret;
	c->pfn = f->pfn;
	c->order = f->order;
	c->how = f->how;
	c->src = f;
	exo_cap_publish(g, c);
	return 0;
}

/**
 * exo_grant_give() - give context @ctx_id a capability for frames @ctx owns.
 * @ctx: the owner.
 * @cap: its capability for them.
 * @ctx_id: the grantee: a context of the same user, not @ctx.
 * @grant_cap: set to the grantee's capability.
 *
 * Return: 0, -EINVAL (@cap is itself a grant, or @ctx_id is @ctx),
 * -ENOENT, -ESRCH, -EPERM, -EDQUOT or -ENOMEM.
 */
int exo_grant_give(struct exo_ctx *ctx, u64 cap, u32 ctx_id, u64 *grant_cap)
{
	struct exo_cap *f, *c;
	struct exo_ctx *g;
	int ret = 0;

	if (ctx_id == ctx->id)
		return -EINVAL;
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return -ENOMEM;

	mutex_lock(&exo_abort_lock);
	g = exo_ctx_find(ctx_id);
	if (!g) {
		ret = -ESRCH;
		goto out;
	}
	if (!uid_eq(g->uid, ctx->uid)) {
		ret = -EPERM;
		goto out;
	}
	mutex_lock(&ctx->lock);
	f = exo_cap_lookup(ctx, cap);
	if (!f || f->src) {
		ret = f ? -EINVAL : -ENOENT;
		mutex_unlock(&ctx->lock);
		goto out;
	}
	/* Listed before ctx->lock goes: a free now needs exo_abort_lock. */
	list_add(&c->grant_node, &f->grants);
	mutex_unlock(&ctx->lock);

	mutex_lock(&g->lock);
	ret = exo_grant_new(g, f, c);
	mutex_unlock(&g->lock);
	if (ret) {
		list_del(&c->grant_node);
		goto out;
	}
	*grant_cap = exo_cap_make(c->index, c->gen);
	trace_exo_grant(ctx->id, cap, ctx_id, *grant_cap);
	c = NULL;
out:
	mutex_unlock(&exo_abort_lock);
	kfree(c);
	return ret;
}

/**
 * exo_grant_take_back() - undo exo_grant_give() before the grantee was
 *	told of it: its capability goes, unless it has bound it already.
 * @ctx_id: the grantee.
 * @grant_cap: its capability.
 */
void exo_grant_take_back(u32 ctx_id, u64 grant_cap)
{
	struct exo_cap *c;
	struct exo_ctx *g;

	mutex_lock(&exo_abort_lock);
	g = exo_ctx_find(ctx_id);
	if (g) {
		mutex_lock(&g->lock);
		c = exo_cap_lookup(g, grant_cap);
		if (c && c->src && !c->nr_bindings) {
			list_del(&c->grant_node);
			exo_frame_put(g, c);
		}
		mutex_unlock(&g->lock);
	}
	mutex_unlock(&exo_abort_lock);
}

/**
 * exo_grant_cmd_give() - give another context a capability for frames this
 *	one owns (%EXO_IOC_FRAME_GRANT).
 * @ucmd: the command; its grant_cap is set.
 *
 * Return: 0, -EINVAL, -ENOENT, -ESRCH, -EPERM, -EDQUOT or -ENOMEM.
 */
int exo_grant_cmd_give(struct exo_ucmd *ucmd)
{
	struct exo_frame_grant *req = ucmd->cmd;

	if (req->__reserved || req->grant_cap)
		return -EINVAL;
	return exo_grant_give(ucmd->ctx, req->cap, req->ctx_id,
			      &req->grant_cap);
}

/**
 * exo_grant_cmd_give_undo() - take back a grant whose capability never
 *	reached user space.
 * @ucmd: the command as exo_grant_cmd_give() completed it.
 */
void exo_grant_cmd_give_undo(struct exo_ucmd *ucmd)
{
	const struct exo_frame_grant *req = ucmd->cmd;

	exo_grant_take_back(req->ctx_id, req->grant_cap);
}
