// SPDX-License-Identifier: GPL-2.0
/*
 * Entry points and call capabilities, Aegis's secure bindings for
 * protected control transfer. A context registers entries in its own code
 * and grants call capabilities for them, one context and one entry each,
 * as it grants frames; it may revoke one without disturbing the rest, and
 * unregistering an entry or closing the context takes back every one and
 * fails the calls in flight (exo_entry.h has the locking).
 */
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>

#include "exo_ctx.h"
#include "exo_entry.h"
#include "exo_grant.h"
#include "exo_ioctl.h"

#define EXO_CALL_MAX_ENTRIES	64
#define EXO_CALL_MAX_CAPS	1024

static void exo_entry_release(struct kref *ref)
{
	struct exo_entry *e = container_of(ref, struct exo_entry, ref);
	struct exo_server *s, *tmp;

	list_for_each_entry_safe(s, tmp, &e->servers, node) {
		put_task_struct(s->task);
		kfree(s);
	}
	kfree_rcu(e, rcu);
}

/**
 * exo_entry_put() - drop a reference to an entry.
 * @e: the entry.
 */
void exo_entry_put(struct exo_entry *e)
{
	kref_put(&e->ref, exo_entry_release);
}

/**
 * exo_entry_get() - find one of a context's entries.
 * @ctx: the serving context.
 * @id: the entry's id.
 *
 * Return: the entry with a reference, or NULL.
 */
struct exo_entry *exo_entry_get(struct exo_ctx *ctx, u32 id)
{
	struct exo_entry *e;

	rcu_read_lock();
	e = xa_load(&ctx->call.entries, id);
	if (e && !kref_get_unless_zero(&e->ref))
		e = NULL;
	rcu_read_unlock();
	return e;
}

/* Drop a call capability. exo_abort_lock held. */
static void exo_call_cap_drop(struct exo_call_cap *cc)
{
	lockdep_assert_held(&exo_abort_lock);
	/* A call that found it and has not queued yet sees this and fails. */
	spin_lock(&cc->entry->lock);
	cc->revoked = true;
	spin_unlock(&cc->entry->lock);
	xa_erase(&cc->holder->call.caps, cc->index);
	list_del(&cc->grant_node);
	exo_entry_put(cc->entry);
	kfree_rcu(cc, rcu);
}

/*
 * Unregister @e: no capability names it, every call on it fails, its
 * waiting servers return. exo_abort_lock held; the caller holds a
 * reference and has taken @e out of its context's entries.
 */
static void exo_entry_kill(struct exo_entry *e)
{
	struct exo_call_cap *cc, *ctmp;
	struct exo_call *c, *tmp;
	struct exo_server *s;

	lockdep_assert_held(&exo_abort_lock);
	list_for_each_entry_safe(cc, ctmp, &e->grants, grant_node)
		exo_call_cap_drop(cc);

	spin_lock(&e->lock);
	e->dead = true;
	list_for_each_entry_safe(c, tmp, &e->pending, node) {
		list_del(&c->node);
		exo_call_settle(e, c, -ECONNRESET);
	}
	list_for_each_entry(s, &e->servers, node) {
		if (s->call) {
			c = s->call;
			s->call = NULL;
			exo_call_settle(e, c, -ECONNRESET);
		}
		if (s->waiting)
			wake_up_process(s->task);
	}
	spin_unlock(&e->lock);
}

/* Take @ctx's entry @id out and kill it. exo_abort_lock held. */
static int exo_entry_remove(struct exo_ctx *ctx, u32 id)
{
	struct exo_entry *e;

	lockdep_assert_held(&exo_abort_lock);
	e = xa_erase(&ctx->call.entries, id);
	if (!e)
		return -ENOENT;
	ctx->call.nr_entries--;
	exo_entry_kill(e);
	exo_entry_put(e);
	return 0;
}

/**
 * exo_call_ctx_init() - a context starts with no entries and no call
 *	capabilities.
 * @ctx: the new context.
 *
 * Return: 0.
 */
int exo_call_ctx_init(struct exo_ctx *ctx)
{
	xa_init_flags(&ctx->call.entries, XA_FLAGS_ALLOC1);
	xa_init_flags(&ctx->call.caps, XA_FLAGS_ALLOC1);
	return 0;
}

/**
 * exo_call_ctx_fini() - a dying context gives up its call capabilities
 *	and unregisters its entries, failing their calls with ECONNRESET.
 * @ctx: the context, out of the registry, no ioctl running (so none of
 *	its threads is in a call or a REPLY).
 */
void exo_call_ctx_fini(struct exo_ctx *ctx)
{
	struct exo_call_cap *cc;
	struct exo_entry *e;
	unsigned long i;

	mutex_lock(&exo_abort_lock);
	xa_for_each(&ctx->call.caps, i, cc)
		exo_call_cap_drop(cc);
	xa_for_each(&ctx->call.entries, i, e)
		exo_entry_remove(ctx, i);
	mutex_unlock(&exo_abort_lock);
	xa_destroy(&ctx->call.caps);
	xa_destroy(&ctx->call.entries);
}

/**
 * exo_entry_cmd_register() - register an entry point
 *	(%EXO_IOC_ENTRY_REGISTER).
 * @ucmd: the command; its id is set.
 *
 * Return: 0, -EINVAL (reserved bits, no pc, pc not a user address),
 * -ENOSPC (%EXO_CALL_MAX_ENTRIES entries already) or -ENOMEM.
 */
int exo_entry_cmd_register(struct exo_ucmd *ucmd)
{
	struct exo_entry_register *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_entry *e;
	u32 id;
	int ret;

	if (req->__reserved || req->id)
		return -EINVAL;
	if (!req->pc || !access_ok((void __user *)(unsigned long)req->pc, 1))
		return -EINVAL;
	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return -ENOMEM;
	kref_init(&e->ref);
	e->pc = req->pc;
	e->ctx_id = ctx->id;
	INIT_LIST_HEAD(&e->grants);
	spin_lock_init(&e->lock);
	INIT_LIST_HEAD(&e->servers);
	INIT_LIST_HEAD(&e->pending);

	mutex_lock(&exo_abort_lock);
	if (ctx->call.nr_entries >= EXO_CALL_MAX_ENTRIES) {
		ret = -ENOSPC;
	} else {
		/*
		 * Ids are not reused soon: a server thread still answering
		 * on a removed entry must not serve its successor.
		 */
		ret = xa_alloc_cyclic(&ctx->call.entries, &id, e,
				      XA_LIMIT(1, INT_MAX),
				      &ctx->call.next_entry,
				      GFP_KERNEL_ACCOUNT);
		ret = ret < 0 ? ret : 0;
	}
	if (!ret) {
		e->id = id;
		ctx->call.nr_entries++;
	}
	mutex_unlock(&exo_abort_lock);
	if (ret) {
		kfree(e);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	req->id = id;
	return 0;
}

/**
 * exo_entry_cmd_register_undo() - unregister an entry whose id never
 *	reached user space.
 * @ucmd: the command as exo_entry_cmd_register() completed it.
 */
void exo_entry_cmd_register_undo(struct exo_ucmd *ucmd)
{
	const struct exo_entry_register *req = ucmd->cmd;

	mutex_lock(&exo_abort_lock);
	exo_entry_remove(ucmd->ctx, req->id);
	mutex_unlock(&exo_abort_lock);
}

/**
 * exo_entry_cmd_unregister() - remove an entry point
 *	(%EXO_IOC_ENTRY_UNREGISTER).
 * @ucmd: the command.
 *
 * Return: 0, -EINVAL (reserved bits) or -ENOENT (no such entry).
 */
int exo_entry_cmd_unregister(struct exo_ucmd *ucmd)
{
	const struct exo_entry_unregister *req = ucmd->cmd;
	int ret;

	if (req->__reserved)
		return -EINVAL;
	mutex_lock(&exo_abort_lock);
	ret = exo_entry_remove(ucmd->ctx, req->id);
	mutex_unlock(&exo_abort_lock);
	return ret;
}

/**
 * exo_entry_cmd_grant() - give another context a call capability for an
 *	entry (%EXO_IOC_CALL_GRANT).
 * @ucmd: the command; its cap is set.
 *
 * Return: 0, -EINVAL (cap not 0, or the grantee is this context), -ENOENT
 * (no such entry), -ESRCH (no such context), -EPERM (another user's
 * context), -ENOSPC (the grantee holds %EXO_CALL_MAX_CAPS - 1) or -ENOMEM.
 */
int exo_entry_cmd_grant(struct exo_ucmd *ucmd)
{
	struct exo_call_grant *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_call_cap *cc;
	struct exo_entry *e;
	struct exo_ctx *g;
	int ret;

	if (req->cap || req->ctx_id == ctx->id)
		return -EINVAL;
	cc = kzalloc(sizeof(*cc), GFP_KERNEL_ACCOUNT);
	if (!cc)
		return -ENOMEM;

	mutex_lock(&exo_abort_lock);
	e = xa_load(&ctx->call.entries, req->entry);
	g = exo_ctx_find(req->ctx_id);
	if (!e || !g) {
		ret = e ? -ESRCH : -ENOENT;
		goto out;
	}
	if (!uid_eq(g->uid, ctx->uid)) {
		ret = -EPERM;
		goto out;
	}
	cc->holder = g;
	cc->entry = e;
	cc->gen = ++g->call.gen;
	kref_get(&e->ref);
	list_add(&cc->grant_node, &e->grants);
	/* Complete before it is published: a call may find it at once. */
	ret = xa_alloc(&g->call.caps, &cc->index, cc,
		       XA_LIMIT(1, EXO_CALL_MAX_CAPS - 1), GFP_KERNEL_ACCOUNT);
	if (ret) {
		list_del(&cc->grant_node);
		exo_entry_put(e);
		ret = ret == -EBUSY ? -ENOSPC : ret;
		goto out;
	}
	req->cap = (u64)cc->gen << 32 | cc->index;
	cc = NULL;
out:
	mutex_unlock(&exo_abort_lock);
	kfree(cc);
	return ret;
}

/*
 * The capability @cap of context @ctx_id for @ctx's entry @entry.
 * exo_abort_lock held. Return: it, or ERR_PTR(-ESRCH or -ENOENT).
 */
static struct exo_call_cap *exo_call_cap_find(struct exo_ctx *ctx, u32 entry,
					      u32 ctx_id, u64 cap)
{
	struct exo_call_cap *cc;
	struct exo_ctx *g;

	lockdep_assert_held(&exo_abort_lock);
	g = exo_ctx_find(ctx_id);
	if (!g)
		return ERR_PTR(-ESRCH);
	cc = xa_load(&g->call.caps, (u32)cap);
	if (!cc || cc->gen != (u32)(cap >> 32) ||
	    cc->entry != xa_load(&ctx->call.entries, entry))
		return ERR_PTR(-ENOENT);
	return cc;
}

/**
 * exo_entry_cmd_grant_undo() - take back a call capability that never
 *	reached user space.
 * @ucmd: the command as exo_entry_cmd_grant() completed it.
 */
void exo_entry_cmd_grant_undo(struct exo_ucmd *ucmd)
{
	const struct exo_call_grant *req = ucmd->cmd;
	struct exo_call_cap *cc;

	mutex_lock(&exo_abort_lock);
	cc = exo_call_cap_find(ucmd->ctx, req->entry, req->ctx_id, req->cap);
	if (!IS_ERR(cc))
		exo_call_cap_drop(cc);
	mutex_unlock(&exo_abort_lock);
}

/**
 * exo_entry_cmd_revoke() - take back a call capability
 *	(%EXO_IOC_CALL_REVOKE); calls made with it that no server has taken
 *	fail with ECONNRESET.
 * @ucmd: the command.
 *
 * Return: 0, -ESRCH (no such context) or -ENOENT (it holds no such
 * capability for this entry).
 */
int exo_entry_cmd_revoke(struct exo_ucmd *ucmd)
{
	const struct exo_call_revoke *req = ucmd->cmd;
	struct exo_call *c, *tmp;
	struct exo_call_cap *cc;
	struct exo_entry *e;
	int ret = 0;

	mutex_lock(&exo_abort_lock);
	cc = exo_call_cap_find(ucmd->ctx, req->entry, req->ctx_id, req->cap);
	if (IS_ERR(cc)) {
		ret = PTR_ERR(cc);
		goto out;
	}
	e = cc->entry;
	spin_lock(&e->lock);
	cc->revoked = true;	/* in the same section as the sweep */
	list_for_each_entry_safe(c, tmp, &e->pending, node) {
		if (c->cap != cc)
			continue;
		list_del(&c->node);
		exo_call_settle(e, c, -ECONNRESET);
	}
	spin_unlock(&e->lock);
	exo_call_cap_drop(cc);
out:
	mutex_unlock(&exo_abort_lock);
	return ret;
}

/**
 * exo_entry_by_cap() - the entry a call capability names.
 * @ctx: the calling context.
 * @cap: the capability.
 * @ccp: set to the capability found.
 *
 * Return: the entry with a reference, or NULL.
 */
struct exo_entry *exo_entry_by_cap(struct exo_ctx *ctx, u64 cap,
				   struct exo_call_cap **ccp)
{
	struct exo_entry *e = NULL;
	struct exo_call_cap *cc;

	rcu_read_lock();
	cc = xa_load(&ctx->call.caps, (u32)cap);
	if (cc && cc->gen == (u32)(cap >> 32) &&
	    kref_get_unless_zero(&cc->entry->ref)) {
		e = cc->entry;
		*ccp = cc;
	}
	rcu_read_unlock();
	return e;
}
