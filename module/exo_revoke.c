// SPDX-License-Identifier: GPL-2.0
/*
 * Visible revocation and the abort protocol.
 *
 * exo never takes a frame silently. It asks: a request "return N frames by
 * T" goes into the context's event ring (exo_events.c) and the library OS
 * chooses which frames to free. Part-way to T an urgent warning follows.
 * At T the abort takes what is still owed: it breaks every binding of the
 * frames it takes, in every context they were granted to, saves their
 * contents and records them in the repossession vector (exo_repo.c).
 *
 * Three triggers post requests: exo's own frame limit (max_frames) when a
 * context below its fair share allocates (exo_frame.c), memory pressure (a
 * shrinker), and a privileged request (EXO_IOC_REVOKE, or the sysfs
 * "revoke" file).
 *
 * Locking: a request is posted under the context's ev.lock, a spinlock,
 * with the context kept alive by the registry's xa_lock (a dying context
 * leaves the registry first), so the shrinker never sleeps on a context:
 * the fault path holds ctx->lock while it allocates page tables. The abort
 * runs in a work item (or the privileged caller) under exo_abort_lock,
 * which also serialises grants, so that it can lock one context at a time
 * (mmap_lock, then ctx->lock) and never two. exo_abort_lock keeps a context
 * found in the registry alive too: a dying context takes it before it goes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/device.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "exo.h"
#include "exo_bind.h"
#include "exo_cap.h"
#include "exo_compat.h"
#include "exo_ctx.h"
#include "exo_events.h"
#include "exo_frame.h"
#include "exo_grant.h"
#include "exo_repo.h"
#include "exo_revoke.h"
#include "trace/exo_trace.h"

unsigned int exo_revoke_timeout_ms = 2000;
module_param_named(revoke_timeout_ms, exo_revoke_timeout_ms, uint, 0644);
MODULE_PARM_DESC(revoke_timeout_ms,
		 "Time a revocation request gives before the abort, in ms (default 2000)");

static unsigned int exo_urgent_pct = 50;
module_param_named(urgent_pct, exo_urgent_pct, uint, 0644);
MODULE_PARM_DESC(urgent_pct,
		 "The urgent warning goes out when this percentage of a request's time has passed (default 50)");

static bool exo_shrink = true;
module_param_named(shrink, exo_shrink, bool, 0644);
MODULE_PARM_DESC(shrink,
		 "Ask contexts for frames under memory pressure (default Y)");

static atomic_long_t exo_nr_repossessed = ATOMIC_LONG_INIT(0);
static atomic_long_t exo_nr_revoke_requests = ATOMIC_LONG_INIT(0);
static atomic_long_t exo_nr_shrinker_requested = ATOMIC_LONG_INIT(0);

/* Requests of every context are numbered module-wide (0 is none). */
static atomic64_t exo_last_revoke_id = ATOMIC64_INIT(0);

static struct workqueue_struct *exo_revoke_wq;

/**
 * exo_revocable() - frames exo may still ask @ctx for: not critical, not
 *	owed, not in a network ring.
 * @ctx: the context; ev.lock held, or a racy read is good enough.
 *
 * Return: the frames.
 */
u64 exo_revocable(struct exo_ctx *ctx)
{
	u64 frames = READ_ONCE(ctx->frames.held);
	u64 keep = READ_ONCE(ctx->frames.critical) + READ_ONCE(ctx->rv.owed) +
		   READ_ONCE(ctx->net.pinned);

	return ctx->rv.dying || frames <= keep ? 0 : frames - keep;
}

/* Run the work item at the next step: the urgent warning or the abort. */
static void exo_revoke_arm(struct exo_ctx *ctx, u64 now)
{
	u64 when = ctx->rv.deadline_ns;

	if (ctx->rv.state == EXO_REVOKE_REQUESTED)
		when = min(when, ctx->rv.urgent_ns);
	mod_delayed_work(exo_revoke_wq, &ctx->rv.work,
			 when > now ? nsecs_to_jiffies(when - now) + 1 : 0);
}

/* Frames the abort could take from @ctx: all it holds but ring frames. */
static u64 exo_takeable(struct exo_ctx *ctx)
{
	u64 frames = READ_ONCE(ctx->frames.held);
	u64 pinned = READ_ONCE(ctx->net.pinned);

	return frames > pinned ? frames - pinned : 0;
}

/* Frames more that may be asked of @ctx: at most what it could give. */
static u64 exo_revoke_clamp(struct exo_ctx *ctx, u64 nr)
{
	u64 takeable = exo_takeable(ctx);

	return takeable > ctx->rv.owed ?
	       min(nr, takeable - ctx->rv.owed) : 0;
}

/* A new request id; the request owes @nr more frames. ev.lock held. */
static u64 exo_revoke_begin(struct exo_ctx *ctx, u64 nr)
{
	struct exo_revoke_ctx *rv = &ctx->rv;
	u64 id = atomic64_inc_return(&exo_last_revoke_id);

	if (!rv->owed)
		rv->cur_returned = 0;
	rv->owed += nr;
	rv->requested += nr;
	rv->id = id;
	atomic_long_inc(&exo_nr_revoke_requests);
	return id;
}

/**
 * exo_revoke_post() - ask @ctx for @nr more frames within @timeout_ms.
 * @ctx: the context, ev.lock held.
 * @nr: frames, at most what exo_revocable() or the clamp allows.
 * @timeout_ms: the time it gives; the deadline is the earlier of the
 *	current one and this one.
 *
 * Return: the request's id.
 */
u64 exo_revoke_post(struct exo_ctx *ctx, u64 nr, u32 timeout_ms)
{
	struct exo_revoke_ctx *rv = &ctx->rv;
	u64 now = ktime_get_ns();
	u64 span = (u64)timeout_ms * NSEC_PER_MSEC;
	u64 deadline = now + span;
	u64 urgent = now + div_u64(span * min(READ_ONCE(exo_urgent_pct), 100U),
				   100);
	bool fresh = !rv->owed;
	u64 id;

	lockdep_assert_held(&ctx->ev.lock);
	if (fresh || deadline < rv->deadline_ns)
		rv->deadline_ns = deadline;
	if (fresh || urgent < rv->urgent_ns)
		rv->urgent_ns = urgent;
	if (fresh)
		rv->state = EXO_REVOKE_REQUESTED;
	id = exo_revoke_begin(ctx, nr);
	trace_exo_revoke_request(ctx->id, id, nr);
	exo_event_post(ctx, EXO_EV_REVOKE, id, nr, rv->deadline_ns, 0, true);
	if (rv->state != EXO_REVOKE_ABORTING)
		exo_revoke_arm(ctx, now);
	return id;
}

/* Nothing owed any more: the request is done. ev.lock held. */
static void exo_revoke_done(struct exo_ctx *ctx)
{
	ctx->rv.state = EXO_REVOKE_IDLE;
	trace_exo_revoke_done(ctx->id, ctx->rv.id, ctx->rv.cur_returned);
	exo_event_post(ctx, EXO_EV_REVOKE_DONE, ctx->rv.id,
		       ctx->rv.cur_returned, 0, 0, false);
}

/**
 * exo_revoke_returned() - the library OS freed frames it owned.
 * @ctx: the context.
 * @nr: frames freed.
 *
 * They count towards what is owed; the request is done when nothing is.
 */
void exo_revoke_returned(struct exo_ctx *ctx, u64 nr)
{
	struct exo_revoke_ctx *rv = &ctx->rv;
	u64 n;

	spin_lock(&ctx->ev.lock);
	if (rv->owed) {
		n = min(nr, rv->owed);
		rv->owed -= n;
		rv->cur_returned += n;
		rv->returned += n;
		/* An abort under way finishes the request itself. */
		if (!rv->owed && rv->state != EXO_REVOKE_ABORTING)
			exo_revoke_done(ctx);
		else
			exo_events_sync(ctx);
	}
	spin_unlock(&ctx->ev.lock);
}

/**
 * exo_revoke_pending() - does the library OS have revocation work to do?
 * @ctx: the context.
 *
 * Return: true while frames are owed or repossessed contents wait.
 */
bool exo_revoke_pending(struct exo_ctx *ctx)
{
	return READ_ONCE(ctx->rv.owed) || READ_ONCE(ctx->repo.used);
}

/* What the abort takes from one capability. */
struct exo_victim {
	u64 cap;
	struct exo_cap *shared;		/* the frames, while they have grants */
	u32 slot;
	u32 nr_va;
	u64 vas[EXO_REPO_VAS];
};

struct exo_abort {
	struct exo_victim *v;
	u32 nr;
	struct xarray by_index;		/* capability index -> victim */
};

/*
 * Choose capabilities worth @want frames: first those nothing binds or
 * shares (cheapest), then the other ordinary ones, critical ones last.
 * ctx->lock held.
 */
static void exo_abort_choose(struct exo_ctx *ctx, struct exo_abort *a,
			     u64 want, u32 max)
{
	struct exo_cap *c;
	unsigned long index;
	u64 got = 0;
	bool idle;
	int pass;

	for (pass = 0; pass < 3 && got < want; pass++) {
		xa_for_each(&ctx->caps.xa, index, c) {
			if (got >= want || a->nr >= max)
				break;
			/* A network ring's frames are never taken. */
			if (c->src || c->pinned)
				continue;
			idle = !c->nr_bindings && list_empty(&c->grants);
			if ((pass == 0 && (c->critical || !idle)) ||
			    (pass == 1 && (c->critical || idle)) ||
			    (pass == 2 && !c->critical))
				continue;
			a->v[a->nr].cap = exo_cap_make(c->index, c->gen);
			a->v[a->nr].shared = list_empty(&c->grants) ? NULL : c;
			a->nr++;
			got += 1U << c->order;
		}
	}
}

/* Give each victim a free vector entry; keep only those that got one. */
static void exo_abort_slots(struct exo_ctx *ctx, struct exo_abort *a)
{
	u32 i, s = 0;

	for (i = 0; i < a->nr; i++) {
		if (exo_repo_next_free(ctx, &s))
			break;
		a->v[i].slot = s++;
	}
	a->nr = i;
}

/* exo_bind_unbind_caps() callback: is this page bound to a victim? */
static void *exo_abort_match(void *arg, u32 index, unsigned long vpn)
{
	struct exo_abort *a = arg;
	struct exo_victim *v = xa_load(&a->by_index, index);

	if (!v)
		return NULL;
	if (v->nr_va < EXO_REPO_VAS)
		v->vas[v->nr_va] = (u64)vpn << PAGE_SHIFT;
	v->nr_va++;
	return xa_mk_value(v->slot + 1);
}

/*
 * Take the chosen victims: break their bindings, save, record, free.
 * mmap_lock and ctx->lock held. Return: frames taken.
 */
static u64 exo_abort_take(struct exo_ctx *ctx, struct exo_abort *a, u64 id)
{
	struct exo_cap *c;
	u64 got = 0;
	u32 i;

	/*
	 * ctx->lock was dropped since the choice: skip a victim freed
	 * meanwhile (that counted as returned), granted again, or pinned by
	 * a network ring that now maps it; or when there is no memory.
	 */
	for (i = 0; i < a->nr; i++) {
		c = exo_cap_lookup(ctx, a->v[i].cap);
		if (!c || c->pinned || !list_empty(&c->grants) ||
		    xa_insert(&a->by_index, c->index, &a->v[i], GFP_KERNEL))
			a->v[i].cap = 0;	/* names nothing: index 0 */
	}
	exo_bind_unbind_caps(ctx, exo_abort_match, a);
	for (i = 0; i < a->nr; i++) {
		c = exo_cap_lookup(ctx, a->v[i].cap);
		if (!c)
			continue;
		/* Not saved, not taken: the pages fault and can be bound again. */
		if (exo_repo_save(ctx, a->v[i].slot, c, id, a->v[i].vas,
				  a->v[i].nr_va))
			break;
		got += 1U << c->order;
		exo_frame_put(ctx, c);
		cond_resched();
	}
	return got;
}

/*
 * The abort: take what @ctx owes. exo_abort_lock held, which keeps @ctx
 * alive and its victims' grants still. Return: frames taken.
 */
static u64 exo_abort_locked(struct exo_ctx *ctx, u64 id)
{
	struct exo_abort a = { };
	u64 want, got = 0;
	bool vm;
	u32 i;

	lockdep_assert_held(&exo_abort_lock);
	want = READ_ONCE(ctx->rv.owed);
	if (!want)
		return 0;
	xa_init(&a.by_index);

	mutex_lock(&ctx->lock);
	a.v = kvcalloc(max(ctx->caps.nr, 1U), sizeof(*a.v), GFP_KERNEL);
	if (a.v) {
		exo_abort_choose(ctx, &a, want, ctx->caps.nr);
		exo_abort_slots(ctx, &a);
	}
	mutex_unlock(&ctx->lock);
	if (!a.v)
		return 0;

	/* Other contexts first, one at a time: never two contexts locked. */
	for (i = 0; i < a.nr; i++)
		if (a.v[i].shared)
			exo_grants_break(a.v[i].shared);

	vm = ctx->mm && !mmap_read_lock_killable(ctx->mm);
	if (ctx->mm && !vm)
		goto out;
	mutex_lock(&ctx->lock);
	got = exo_abort_take(ctx, &a, id);
	mutex_unlock(&ctx->lock);
	if (vm)
		mmap_read_unlock(ctx->mm);
out:
	xa_destroy(&a.by_index);
	kvfree(a.v);
	return got;
}

/* Abort, then settle the request. exo_abort_lock held. */
static void exo_abort(struct exo_ctx *ctx, u64 id)
{
	struct exo_revoke_ctx *rv = &ctx->rv;
	u64 got = exo_abort_locked(ctx, id);
	u64 now = ktime_get_ns();

	trace_exo_revoke_abort(ctx->id, id, got);
	if (got)
		pr_info_ratelimited("context %u: abort took %llu frames (request %llu)\n",
				    ctx->id, got, id);
	spin_lock(&ctx->ev.lock);
	if (got) {
		rv->repossessed += got;
		atomic_long_add(got, &exo_nr_repossessed);
		rv->owed -= min(got, rv->owed);
		exo_event_post(ctx, EXO_EV_REPOSSESSED, id, got, 0, 0, true);
	}
	/*
	 * Owed more than the abort could ever take: it freed meanwhile, or
	 * a network ring pinned frames after the request. What is left
	 * owed is what is still takeable (only a full vector leaves some).
	 */
	rv->owed = min(rv->owed, exo_takeable(ctx));
	if (!rv->owed) {
		exo_revoke_done(ctx);
	} else if (!rv->dying) {
		/* The vector is full: try again after another timeout. */
		rv->deadline_ns = now + (u64)READ_ONCE(exo_revoke_timeout_ms) *
					NSEC_PER_MSEC;
		exo_events_sync(ctx);
		exo_revoke_arm(ctx, now);
	}
	spin_unlock(&ctx->ev.lock);
}

/* The urgent warning: what is still owed, and the deadline. ev.lock held. */
static void exo_revoke_warn(struct exo_ctx *ctx)
{
	struct exo_revoke_ctx *rv = &ctx->rv;

	trace_exo_revoke_warning(ctx->id, rv->id, rv->owed);
	exo_event_post(ctx, EXO_EV_REVOKE_URGENT, rv->id, rv->owed,
		       rv->deadline_ns, 0, true);
}

static void exo_revoke_workfn(struct work_struct *work)
{
	struct exo_ctx *ctx = container_of(to_delayed_work(work),
					   struct exo_ctx, rv.work);
	struct exo_revoke_ctx *rv = &ctx->rv;
	u64 now, id;

	spin_lock(&ctx->ev.lock);
	if (rv->dying || !rv->owed) {
		spin_unlock(&ctx->ev.lock);
		return;
	}
	now = ktime_get_ns();
	if (now < rv->deadline_ns) {
		if (rv->state == EXO_REVOKE_REQUESTED && now >= rv->urgent_ns) {
			rv->state = EXO_REVOKE_URGENT;
			exo_revoke_warn(ctx);
		}
		exo_revoke_arm(ctx, now);
		spin_unlock(&ctx->ev.lock);
		return;
	}
	/*
	 * The urgent warning always comes before the abort, even when this
	 * work ran late (a busy host) and finds the deadline already past.
	 */
	if (rv->state == EXO_REVOKE_REQUESTED)
		exo_revoke_warn(ctx);
	rv->state = EXO_REVOKE_ABORTING;
	exo_events_sync(ctx);
	id = rv->id;
	spin_unlock(&ctx->ev.lock);

	mutex_lock(&exo_abort_lock);
	/* Closing began meanwhile: its frames go back to Linux anyway. */
	if (!READ_ONCE(rv->dying))
		exo_abort(ctx, id);
	mutex_unlock(&exo_abort_lock);
}

/**
 * exo_revoke_ctx_init() - a new context owes nothing.
 * @ctx: the context.
 *
 * Return: 0.
 */
int exo_revoke_ctx_init(struct exo_ctx *ctx)
{
	INIT_DELAYED_WORK(&ctx->rv.work, exo_revoke_workfn);
	return 0;
}

/**
 * exo_revoke_ctx_fini() - a dying context takes no more requests, and no
 *	deadline fires after this returns.
 * @ctx: the context, out of the registry.
 */
void exo_revoke_ctx_fini(struct exo_ctx *ctx)
{
	spin_lock(&ctx->ev.lock);
	ctx->rv.dying = true;
	spin_unlock(&ctx->ev.lock);
	cancel_delayed_work_sync(&ctx->rv.work);
}

/* A privileged abort: owe @nr more and take it all now. */
static int exo_revoke_abort_now(u32 id, struct exo_revoke *req)
{
	struct exo_ctx *ctx;
	int ret = 0;

	mutex_lock(&exo_abort_lock);
	ctx = exo_ctx_find(id);
	if (!ctx) {
		ret = -ESRCH;
		goto out;
	}
	spin_lock(&ctx->ev.lock);
	if (!exo_takeable(ctx)) {
		spin_unlock(&ctx->ev.lock);
		ret = -ENODATA;
		goto out;
	}
	req->id = exo_revoke_begin(ctx, exo_revoke_clamp(ctx, req->nr));
	ctx->rv.state = EXO_REVOKE_ABORTING;
	exo_events_sync(ctx);
	spin_unlock(&ctx->ev.lock);
	exo_abort(ctx, req->id);
out:
	mutex_unlock(&exo_abort_lock);
	return ret;
}

/* Post a visible request to context @id. */
static int exo_revoke_ask(u32 id, u64 nr, u32 timeout_ms, u64 *rid)
{
	struct exo_ctx *ctx;
	int ret = 0;

	exo_ctxs_lock();
	ctx = exo_ctx_find(id);
	if (!ctx) {
		ret = -ESRCH;
		goto out;
	}
	spin_lock(&ctx->ev.lock);
	nr = exo_revoke_clamp(ctx, nr);
	if (!nr)
		ret = -ENODATA;
	else
		*rid = exo_revoke_post(ctx, nr, timeout_ms);
	spin_unlock(&ctx->ev.lock);
out:
	exo_ctxs_unlock();
	return ret;
}

/**
 * exo_revoke_cmd_request() - the privileged trigger (%EXO_IOC_REVOKE).
 * @ucmd: the command; its id is set.
 *
 * Return: 0, -EPERM, -EINVAL, -ESRCH, or -ENODATA when the context holds
 * no frames it does not already owe, outside its network rings.
 */
int exo_revoke_cmd_request(struct exo_ucmd *ucmd)
{
	struct exo_revoke *req = ucmd->cmd;
	u32 timeout = req->timeout_ms ?: READ_ONCE(exo_revoke_timeout_ms);
	u32 id = req->ctx_id ?: ucmd->ctx->id;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!req->nr || req->id)
		return -EINVAL;
	if (req->flags & EXO_REVOKE_ABORT)
		return exo_revoke_abort_now(id, req);
	return exo_revoke_ask(id, req->nr, timeout, &req->id);
}

static unsigned long exo_shrink_count(struct shrinker *s,
				      struct shrink_control *sc)
{
	unsigned long id, sum = 0;
	struct exo_ctx *c;

	if (!READ_ONCE(exo_shrink))
		return 0;
	exo_ctxs_lock();
	exo_ctx_for_each(id, c)
		sum += exo_revocable(c);
	exo_ctxs_unlock();
	return sum ?: SHRINK_EMPTY;
}

/*
 * Memory pressure: ask each context for its part of nr_to_scan, in
 * proportion to what it could give. Nothing is freed here: the frames
 * come back when the library OS frees them, or at the abort.
 */
static unsigned long exo_shrink_scan(struct shrinker *s,
				     struct shrink_control *sc)
{
	unsigned long id, total = 0, asked = 0;
	struct exo_ctx *c;
	u64 r, ask;

	if (!READ_ONCE(exo_shrink))
		return SHRINK_STOP;
	exo_ctxs_lock();
	exo_ctx_for_each(id, c)
		total += exo_revocable(c);
	exo_ctx_for_each(id, c) {
		if (!total)
			break;
		spin_lock(&c->ev.lock);
		r = exo_revocable(c);
		ask = min_t(u64, r, DIV_ROUND_UP_ULL((u64)r * sc->nr_to_scan,
						     total));
		if (ask) {
			exo_revoke_post(c, ask, READ_ONCE(exo_revoke_timeout_ms));
			asked += ask;
		}
		spin_unlock(&c->ev.lock);
	}
	exo_ctxs_unlock();
	atomic_long_add(asked, &exo_nr_shrinker_requested);
	return SHRINK_STOP;
}

static struct shrinker *exo_shrinker;

/**
 * exo_revoke_init() - the work queue for deadlines and the shrinker.
 *
 * The queue may reclaim memory: the shrinker's requests rely on it.
 *
 * Return: 0 or -ENOMEM.
 */
int exo_revoke_init(void)
{
	exo_revoke_wq = alloc_workqueue("exo_revoke", WQ_UNBOUND |
					WQ_MEM_RECLAIM, 0);
	if (!exo_revoke_wq)
		return -ENOMEM;
	exo_shrinker = exo_shrinker_create("exo", exo_shrink_count,
					   exo_shrink_scan);
	if (!exo_shrinker) {
		destroy_workqueue(exo_revoke_wq);
		exo_revoke_wq = NULL;
		return -ENOMEM;
	}
	return 0;
}

/**
 * exo_revoke_exit() - undo exo_revoke_init(); no context is left.
 */
void exo_revoke_exit(void)
{
	if (!exo_revoke_wq)
		return;
	exo_shrinker_destroy(exo_shrinker);
	exo_shrinker = NULL;
	destroy_workqueue(exo_revoke_wq);
	exo_revoke_wq = NULL;
}

static ssize_t repossessed_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&exo_nr_repossessed));
}
static DEVICE_ATTR_RO(repossessed);

static ssize_t revoke_requests_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&exo_nr_revoke_requests));
}
static DEVICE_ATTR_RO(revoke_requests);

static ssize_t shrinker_requested_show(struct device *dev,
				       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&exo_nr_shrinker_requested));
}
static DEVICE_ATTR_RO(shrinker_requested);

/* "CTX_ID NR [TIMEOUT_MS]": the operator's request (root). */
static ssize_t revoke_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t len)
{
	unsigned int id, ms = 0;
	unsigned long long nr;
	char tail;
	u64 rid;
	int n, ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	n = sscanf(buf, "%u %llu %u %c", &id, &nr, &ms, &tail);
	if (n < 2 || n > 3 || !nr)
		return -EINVAL;
	ret = exo_revoke_ask(id, nr, ms ?: READ_ONCE(exo_revoke_timeout_ms),
			     &rid);
	return ret ?: len;
}
static DEVICE_ATTR_WO(revoke);

static struct attribute *exo_revoke_attrs[] = {
	&dev_attr_repossessed.attr,
	&dev_attr_revoke_requests.attr,
	&dev_attr_shrinker_requested.attr,
	&dev_attr_revoke.attr,
	NULL,
};

/* /sys/class/misc/exo/repossessed, revoke_requests, shrinker_requested, revoke. */
const struct attribute_group exo_revoke_attr_group = {
	.attrs = exo_revoke_attrs,
};
