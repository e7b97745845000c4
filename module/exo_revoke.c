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
 * context below its fair share allocates, memory pressure (a shrinker),
 * and a privileged request (EXO_IOC_REVOKE, or the sysfs "revoke" file).
 *
 * Locking: a request is posted under the context's revoke_lock, a spinlock,
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
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "exo.h"

/* Serialises aborts, grants and the breaking of grants; see above. */
DEFINE_MUTEX(exo_abort_lock);

/* Live contexts by id: the targets of requests. */
static DEFINE_XARRAY(exo_ctxs);

/* Requests of every context are numbered module-wide (0 is none). */
static atomic64_t exo_last_revoke_id = ATOMIC64_INIT(0);

static struct workqueue_struct *exo_revoke_wq;

/**
 * exo_ctx_register() - make a new context a target of requests.
 * @ctx: the context.
 *
 * Return: 0 or -ENOMEM.
 */
int exo_ctx_register(struct exo_ctx *ctx)
{
	return xa_insert(&exo_ctxs, ctx->id, ctx, GFP_KERNEL);
}

/**
 * exo_ctx_unregister() - a dying context leaves: no request reaches it
 *	after this, and no deadline fires after it returns.
 * @ctx: the context.
 */
void exo_ctx_unregister(struct exo_ctx *ctx)
{
	xa_erase(&exo_ctxs, ctx->id);
	spin_lock(&ctx->revoke_lock);
	ctx->dying = true;
	spin_unlock(&ctx->revoke_lock);
	/* Break what it granted and let go of what it was granted. */
	exo_ctx_grants_release(ctx);
	cancel_delayed_work_sync(&ctx->revoke_work);
}

/**
 * exo_ctx_find() - the live context with id @id.
 * @id: a context id.
 *
 * The caller holds exo_abort_lock or the registry's lock, which keep the
 * context alive.
 *
 * Return: the context or NULL.
 */
struct exo_ctx *exo_ctx_find(u32 id)
{
	return xa_load(&exo_ctxs, id);
}

/* Frames exo may still ask @ctx for: not critical, not owed, not in a ring. */
static u64 exo_revocable(struct exo_ctx *ctx)
{
	u64 frames = READ_ONCE(ctx->frames);
	u64 keep = READ_ONCE(ctx->critical) + READ_ONCE(ctx->owed) +
		   READ_ONCE(ctx->net_pinned);

	return ctx->dying || frames <= keep ? 0 : frames - keep;
}

/* Run the work item at the next step: the urgent warning or the abort. */
static void exo_revoke_arm(struct exo_ctx *ctx, u64 now)
{
	u64 when = ctx->deadline_ns;

	if (ctx->revoke_state == EXO_REVOKE_REQUESTED)
		when = min(when, ctx->urgent_ns);
	mod_delayed_work(exo_revoke_wq, &ctx->revoke_work,
			 when > now ? nsecs_to_jiffies(when - now) + 1 : 0);
}

/* Frames the abort could take from @ctx: all it holds but ring frames. */
static u64 exo_takeable(struct exo_ctx *ctx)
{
	u64 frames = READ_ONCE(ctx->frames);
	u64 pinned = READ_ONCE(ctx->net_pinned);

	return frames > pinned ? frames - pinned : 0;
}

/* Frames more that may be asked of @ctx: at most what it could give. */
static u64 exo_revoke_clamp(struct exo_ctx *ctx, u64 nr)
{
	u64 takeable = exo_takeable(ctx);

	return takeable > ctx->owed ? min(nr, takeable - ctx->owed) : 0;
}

/* A new request id; the request owes @nr more frames. revoke_lock held. */
static u64 exo_revoke_begin(struct exo_ctx *ctx, u64 nr)
{
	u64 id = atomic64_inc_return(&exo_last_revoke_id);

	if (!ctx->owed)
		ctx->returned = 0;
	ctx->owed += nr;
	ctx->revoke_requested += nr;
	ctx->revoke_id = id;
	atomic_long_inc(&exo_nr_revoke_requests);
	return id;
}

/*
 * Ask @ctx for @nr more frames within @timeout_ms. The deadline is the
 * earlier of the current one and the new one. revoke_lock held.
 */
static u64 exo_revoke_post(struct exo_ctx *ctx, u64 nr, u32 timeout_ms)
{
	u64 now = ktime_get_ns();
	u64 span = (u64)timeout_ms * NSEC_PER_MSEC;
	u64 deadline = now + span;
	u64 urgent = now + div_u64(span * min(READ_ONCE(exo_urgent_pct), 100U),
				   100);
	bool fresh = !ctx->owed;
	u64 id;

	lockdep_assert_held(&ctx->revoke_lock);
	if (fresh || deadline < ctx->deadline_ns)
		ctx->deadline_ns = deadline;
	if (fresh || urgent < ctx->urgent_ns)
		ctx->urgent_ns = urgent;
	if (fresh)
		ctx->revoke_state = EXO_REVOKE_REQUESTED;
	id = exo_revoke_begin(ctx, nr);
	exo_event_post(ctx, EXO_EV_REVOKE, id, nr, ctx->deadline_ns, 0, true);
	if (ctx->revoke_state != EXO_REVOKE_ABORTING)
		exo_revoke_arm(ctx, now);
	return id;
}

/* Nothing owed any more: the request is done. revoke_lock held. */
static void exo_revoke_done(struct exo_ctx *ctx)
{
	ctx->revoke_state = EXO_REVOKE_IDLE;
	exo_event_post(ctx, EXO_EV_REVOKE_DONE, ctx->revoke_id, ctx->returned,
		       0, 0, false);
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
	u64 n;

	spin_lock(&ctx->revoke_lock);
	if (ctx->owed) {
		n = min(nr, ctx->owed);
		ctx->owed -= n;
		ctx->returned += n;
		ctx->revoke_returned += n;
		/* An abort under way finishes the request itself. */
		if (!ctx->owed && ctx->revoke_state != EXO_REVOKE_ABORTING)
			exo_revoke_done(ctx);
		else
			exo_events_sync(ctx);
	}
	spin_unlock(&ctx->revoke_lock);
}

/* What the abort takes from one capability. */
struct exo_victim {
	u64 cap;
	struct exo_frames *shared;	/* the frames, while they have grants */
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
	struct exo_frames *f;
	unsigned long index;
	u64 got = 0;
	bool idle;
	int pass;

	for (pass = 0; pass < 3 && got < want; pass++) {
		xa_for_each(&ctx->caps, index, f) {
			if (got >= want || a->nr >= max)
				break;
			/* A network ring's frames are never taken. */
			if (f->src || f->pinned)
				continue;
			idle = !f->nr_bindings && list_empty(&f->grants);
			if ((pass == 0 && (f->critical || !idle)) ||
			    (pass == 1 && (f->critical || idle)) ||
			    (pass == 2 && !f->critical))
				continue;
			a->v[a->nr].cap = exo_cap_make(f->index, f->gen);
			a->v[a->nr].shared = list_empty(&f->grants) ? NULL : f;
			a->nr++;
			got += 1U << f->order;
		}
	}
}

/* Give each victim a free vector entry; keep only those that got one. */
static void exo_abort_slots(struct exo_ctx *ctx, struct exo_abort *a)
{
	struct exo_repo_entry *e = (struct exo_repo_entry *)(ctx->repo + 1);
	u32 i, s = 0;

	for (i = 0; i < a->nr; i++) {
		while (s < ctx->nr_repo && e[s].state != EXO_REPO_FREE)
			s++;
		if (s == ctx->nr_repo)
			break;
		a->v[i].slot = s++;
	}
	a->nr = i;
}

/* exo_vm_unbind_caps() callback: is this page bound to a victim? */
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
	struct exo_frames *f;
	u64 got = 0;
	u32 i;

	/*
	 * ctx->lock was dropped since the choice: skip a victim freed
	 * meanwhile (that counted as returned), granted again, or pinned by
	 * a network ring that now maps it; or when there is no memory.
	 */
	for (i = 0; i < a->nr; i++) {
		f = exo_cap_lookup(ctx, a->v[i].cap);
		if (!f || f->pinned || !list_empty(&f->grants) ||
		    xa_insert(&a->by_index, f->index, &a->v[i], GFP_KERNEL))
			a->v[i].cap = 0;	/* names nothing: index 0 */
	}
	exo_vm_unbind_caps(ctx, exo_abort_match, a);
	for (i = 0; i < a->nr; i++) {
		f = exo_cap_lookup(ctx, a->v[i].cap);
		if (!f)
			continue;
		/* Not saved, not taken: the pages fault and can be bound again. */
		if (exo_repo_save(ctx, a->v[i].slot, f, id, a->v[i].vas,
				  a->v[i].nr_va))
			break;
		xa_erase(&ctx->caps, f->index);
		got += 1U << f->order;
		exo_frames_put(ctx, f);
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
	want = READ_ONCE(ctx->owed);
	if (!want)
		return 0;
	xa_init(&a.by_index);

	mutex_lock(&ctx->lock);
	a.v = kvcalloc(max(ctx->nr_caps, 1U), sizeof(*a.v), GFP_KERNEL);
	if (a.v) {
		exo_abort_choose(ctx, &a, want, ctx->nr_caps);
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
	u64 got = exo_abort_locked(ctx, id);
	u64 now = ktime_get_ns();

	if (got)
		pr_info_ratelimited("context %u: abort took %llu frames (request %llu)\n",
				    ctx->id, got, id);
	spin_lock(&ctx->revoke_lock);
	if (got) {
		ctx->repossessed += got;
		atomic_long_add(got, &exo_nr_repossessed);
		ctx->owed -= min(got, ctx->owed);
		exo_event_post(ctx, EXO_EV_REPOSSESSED, id, got, 0, 0, true);
	}
	/*
	 * Owed more than the abort could ever take: it freed meanwhile, or
	 * a network ring pinned frames after the request. What is left
	 * owed is what is still takeable (only a full vector leaves some).
	 */
	ctx->owed = min(ctx->owed, exo_takeable(ctx));
	if (!ctx->owed) {
		exo_revoke_done(ctx);
	} else if (!ctx->dying) {
		/* The vector is full: try again after another timeout. */
		ctx->deadline_ns = now + (u64)READ_ONCE(exo_revoke_timeout_ms) *
					 NSEC_PER_MSEC;
		exo_events_sync(ctx);
		exo_revoke_arm(ctx, now);
	}
	spin_unlock(&ctx->revoke_lock);
}

static void exo_revoke_workfn(struct work_struct *work)
{
	struct exo_ctx *ctx = container_of(to_delayed_work(work),
					   struct exo_ctx, revoke_work);
	u64 now, id;

	spin_lock(&ctx->revoke_lock);
	if (ctx->dying || !ctx->owed) {
		spin_unlock(&ctx->revoke_lock);
		return;
	}
	now = ktime_get_ns();
	if (now < ctx->deadline_ns) {
		if (ctx->revoke_state == EXO_REVOKE_REQUESTED &&
		    now >= ctx->urgent_ns) {
			ctx->revoke_state = EXO_REVOKE_URGENT;
			exo_event_post(ctx, EXO_EV_REVOKE_URGENT,
				       ctx->revoke_id, ctx->owed,
				       ctx->deadline_ns, 0, true);
		}
		exo_revoke_arm(ctx, now);
		spin_unlock(&ctx->revoke_lock);
		return;
	}
	/*
	 * The urgent warning always comes before the abort, even when this
	 * work ran late (a busy host) and finds the deadline already past.
	 */
	if (ctx->revoke_state == EXO_REVOKE_REQUESTED)
		exo_event_post(ctx, EXO_EV_REVOKE_URGENT, ctx->revoke_id,
			       ctx->owed, ctx->deadline_ns, 0, true);
	ctx->revoke_state = EXO_REVOKE_ABORTING;
	exo_events_sync(ctx);
	id = ctx->revoke_id;
	spin_unlock(&ctx->revoke_lock);

	mutex_lock(&exo_abort_lock);
	/* Closing began meanwhile: its frames go back to Linux anyway. */
	if (!READ_ONCE(ctx->dying))
		exo_abort(ctx, id);
	mutex_unlock(&exo_abort_lock);
}

/**
 * exo_revoke_ctx_init() - set up a new context's revocation state.
 * @ctx: the context.
 */
void exo_revoke_ctx_init(struct exo_ctx *ctx)
{
	spin_lock_init(&ctx->revoke_lock);
	INIT_DELAYED_WORK(&ctx->revoke_work, exo_revoke_workfn);
	init_waitqueue_head(&ctx->revoke_wq);
	xa_init(&ctx->repo_va);
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
	spin_lock(&ctx->revoke_lock);
	if (!exo_takeable(ctx)) {
		spin_unlock(&ctx->revoke_lock);
		ret = -ENODATA;
		goto out;
	}
	req->id = exo_revoke_begin(ctx, exo_revoke_clamp(ctx, req->nr));
	ctx->revoke_state = EXO_REVOKE_ABORTING;
	exo_events_sync(ctx);
	spin_unlock(&ctx->revoke_lock);
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

	xa_lock(&exo_ctxs);
	ctx = xa_load(&exo_ctxs, id);
	if (!ctx) {
		ret = -ESRCH;
		goto out;
	}
	spin_lock(&ctx->revoke_lock);
	nr = exo_revoke_clamp(ctx, nr);
	if (!nr)
		ret = -ENODATA;
	else
		*rid = exo_revoke_post(ctx, nr, timeout_ms);
	spin_unlock(&ctx->revoke_lock);
out:
	xa_unlock(&exo_ctxs);
	return ret;
}

/**
 * exo_revoke_ioctl() - the privileged trigger (%EXO_IOC_REVOKE).
 * @ctx: the caller's context.
 * @req: the request; @req->id is set.
 *
 * Return: 0, -EPERM, -EINVAL, -ESRCH, or -ENODATA when the context holds
 * no frames it does not already owe.
 */
int exo_revoke_ioctl(struct exo_ctx *ctx, struct exo_revoke *req)
{
	u32 timeout = req->timeout_ms ?: READ_ONCE(exo_revoke_timeout_ms);
	u32 id = req->ctx_id ?: ctx->id;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!req->nr || req->id)
		return -EINVAL;
	if (req->flags & EXO_REVOKE_ABORT)
		return exo_revoke_abort_now(id, req);
	return exo_revoke_ask(id, req->nr, timeout, &req->id);
}

/**
 * exo_revoke_store() - the sysfs trigger: "CTX_ID NR [TIMEOUT_MS]".
 * @buf: what was written.
 * @len: its length.
 *
 * Return: @len, or -EPERM, -EINVAL, -ESRCH, -ENODATA.
 */
ssize_t exo_revoke_store(const char *buf, size_t len)
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

/**
 * exo_frames_reserve() - count @nr frames against exo's limit before
 *	allocating them.
 * @ctx: the allocating context.
 * @nr: frames wanted.
 *
 * Over the limit, a context below its fair share (the limit divided among
 * the contexts holding frames) has the contexts above theirs asked for
 * their excess, and is told to try again; one at its share is refused.
 *
 * Return: 0 (reserved: exo_nr_frames includes @nr), -EAGAIN or -ENOSPC.
 */
int exo_frames_reserve(struct exo_ctx *ctx, u32 nr)
{
	unsigned long limit = READ_ONCE(exo_max_frames);
	unsigned long holders = 0, share, id;
	u64 need, ask, over;
	struct exo_ctx *c;
	long total;

	total = atomic_long_add_return(nr, &exo_nr_frames);
	if (!limit || total <= limit)
		return 0;
	atomic_long_sub(nr, &exo_nr_frames);

	xa_lock(&exo_ctxs);
	xa_for_each(&exo_ctxs, id, c)
		if (READ_ONCE(c->frames) || c == ctx)
			holders++;
	share = limit / max(holders, 1UL);
	if (READ_ONCE(ctx->frames) + nr > share) {
		xa_unlock(&exo_ctxs);
		return -ENOSPC;
	}
	need = total - limit;
	xa_for_each(&exo_ctxs, id, c) {
		if (c == ctx || !need)
			continue;
		spin_lock(&c->revoke_lock);
		over = READ_ONCE(c->frames) > share + c->owed ?
		       READ_ONCE(c->frames) - share - c->owed : 0;
		ask = min3(over, need, exo_revocable(c));
		if (ask) {
			exo_revoke_post(c, ask, READ_ONCE(exo_revoke_timeout_ms));
			need -= ask;
		}
		spin_unlock(&c->revoke_lock);
	}
	xa_unlock(&exo_ctxs);
	return -EAGAIN;
}

static unsigned long exo_shrink_count(struct shrinker *s,
				      struct shrink_control *sc)
{
	unsigned long id, sum = 0;
	struct exo_ctx *c;

	if (!READ_ONCE(exo_shrink))
		return 0;
	xa_lock(&exo_ctxs);
	xa_for_each(&exo_ctxs, id, c)
		sum += exo_revocable(c);
	xa_unlock(&exo_ctxs);
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
	xa_lock(&exo_ctxs);
	xa_for_each(&exo_ctxs, id, c)
		total += exo_revocable(c);
	xa_for_each(&exo_ctxs, id, c) {
		if (!total)
			break;
		spin_lock(&c->revoke_lock);
		r = exo_revocable(c);
		ask = min_t(u64, r, DIV_ROUND_UP_ULL((u64)r * sc->nr_to_scan,
						     total));
		if (ask) {
			exo_revoke_post(c, ask, READ_ONCE(exo_revoke_timeout_ms));
			asked += ask;
		}
		spin_unlock(&c->revoke_lock);
	}
	xa_unlock(&exo_ctxs);
	atomic_long_add(asked, &exo_nr_shrinker_requested);
	return SHRINK_STOP;
}

static struct shrinker exo_shrinker = {
	.count_objects = exo_shrink_count,
	.scan_objects = exo_shrink_scan,
	.seeks = DEFAULT_SEEKS,
};

/**
 * exo_revoke_init() - the work queue for deadlines and the shrinker.
 *
 * The queue may reclaim memory: the shrinker's requests rely on it.
 *
 * Return: 0 or -ENOMEM.
 */
int exo_revoke_init(void)
{
	int ret;

	exo_revoke_wq = alloc_workqueue("exo_revoke", WQ_UNBOUND |
					WQ_MEM_RECLAIM, 0);
	if (!exo_revoke_wq)
		return -ENOMEM;
	ret = register_shrinker(&exo_shrinker, "exo");
	if (ret) {
		destroy_workqueue(exo_revoke_wq);
		exo_revoke_wq = NULL;
	}
	return ret;
}

/**
 * exo_revoke_exit() - undo exo_revoke_init(); no context is left.
 */
void exo_revoke_exit(void)
{
	if (!exo_revoke_wq)
		return;
	unregister_shrinker(&exo_shrinker);
	destroy_workqueue(exo_revoke_wq);
	exo_revoke_wq = NULL;
}
