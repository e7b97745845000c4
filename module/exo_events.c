// SPDX-License-Identifier: GPL-2.0
/*
 * The event ring: exposed kernel data, as the frame table is. exo posts
 * revocation requests, warnings and repossessions into a ring the library
 * OS maps read-only and reads with no system call, then wakes it: poll(2)
 * (POLLPRI), an eventfd and, if it asked for one, a signal. The header
 * also carries the revocation state now, so a reader that fell more than a
 * ring behind loses history, never the state.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/vmalloc.h>

#include "exo.h"

static struct exo_event *exo_event_entry(struct exo_ctx *ctx, u64 n)
{
	return (struct exo_event *)(ctx->events + 1) +
	       (n & (ctx->nr_events - 1));
}

/**
 * exo_events_init() - allocate a context's event ring.
 * @ctx: the context; @ctx->id must be set.
 *
 * Return: 0 or -ENOMEM.
 */
int exo_events_init(struct exo_ctx *ctx)
{
	u32 nr = clamp_t(u32, READ_ONCE(exo_event_entries), 16, 65536);
	struct exo_events_header *h;
	size_t size;

	nr = rounddown_pow_of_two(nr);
	size = PAGE_ALIGN(sizeof(*h) + (size_t)nr * sizeof(struct exo_event));
	h = vmalloc_user(size);
	if (!h)
		return -ENOMEM;
	h->magic = EXO_EVENTS_MAGIC;
	h->version = EXO_EVENTS_VERSION;
	h->ctx_id = ctx->id;
	h->nr_entries = nr;
	h->entry_size = sizeof(struct exo_event);
	h->entries_offset = sizeof(*h);
	ctx->events = h;
	ctx->events_size = size;
	ctx->nr_events = nr;
	return 0;
}

/**
 * exo_events_destroy() - free the ring and drop the notify registration.
 * @ctx: a dying context.
 */
void exo_events_destroy(struct exo_ctx *ctx)
{
	if (ctx->notify_efd)
		eventfd_ctx_put(ctx->notify_efd);
	put_pid(ctx->notify_pid);
	vfree(ctx->events);
	ctx->events = NULL;
}

/**
 * exo_events_mmap() - map the ring read-only into the caller.
 * @ctx: the context.
 * @vma: a mapping at %EXO_MMAP_EVENTS.
 *
 * Return: 0, -EACCES for a writable mapping, -EINVAL for a bad size.
 */
int exo_events_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma)
{
	return exo_mmap_readonly(vma, ctx->events, ctx->events_size);
}

/**
 * exo_events_sync() - copy the revocation state into the ring's header.
 * @ctx: the context, @ctx->revoke_lock held.
 */
void exo_events_sync(struct exo_ctx *ctx)
{
	struct exo_events_header *h = ctx->events;

	lockdep_assert_held(&ctx->revoke_lock);
	WRITE_ONCE(h->revoke_id, ctx->revoke_id);
	WRITE_ONCE(h->owed, ctx->owed);
	WRITE_ONCE(h->deadline_ns, ctx->owed ? ctx->deadline_ns : 0);
	WRITE_ONCE(h->state, ctx->revoke_state);
	WRITE_ONCE(h->repossessed, ctx->repossessed);
}

/**
 * exo_event_post() - post one event and wake the library OS.
 * @ctx: the context, @ctx->revoke_lock held.
 * @type: an &enum exo_event_type.
 * @id: the revocation request.
 * @nr: frames.
 * @deadline_ns: the abort's time, or 0.
 * @arg: the event's argument.
 * @signal: also send the registered signal.
 *
 * eventfd_signal() and kill_pid() take only spinlocks, so this is safe
 * under @ctx->revoke_lock, which the shrinker takes.
 */
void exo_event_post(struct exo_ctx *ctx, u32 type, u64 id, u64 nr,
		    u64 deadline_ns, u64 arg, bool signal)
{
	struct exo_events_header *h = ctx->events;
	u64 n = h->head;
	struct exo_event *e = exo_event_entry(ctx, n);

	lockdep_assert_held(&ctx->revoke_lock);
	WRITE_ONCE(e->seq, 0);
	/* Pairs with the reader's fence between its two reads of seq. */
	smp_wmb();
	e->type = type;
	e->id = id;
	e->nr = nr;
	e->deadline_ns = deadline_ns;
	e->arg = arg;
	/* The fields before seq says they are complete. */
	smp_wmb();
	WRITE_ONCE(e->seq, n + 1);
	exo_events_sync(ctx);
	/* The entry and the state are visible before the new head. */
	smp_store_release(&h->head, n + 1);

	if (ctx->notify_efd)
		eventfd_signal(ctx->notify_efd, 1);
	if (signal && ctx->notify_pid && ctx->notify_signo)
		kill_pid(ctx->notify_pid, ctx->notify_signo, 1);
	wake_up_interruptible(&ctx->revoke_wq);
}

/**
 * exo_revoke_pending() - does the library OS have revocation work to do?
 * @ctx: the context.
 *
 * Return: true while frames are owed or repossessed contents wait.
 */
bool exo_revoke_pending(struct exo_ctx *ctx)
{
	return READ_ONCE(ctx->owed) || READ_ONCE(ctx->repo_used);
}

/**
 * exo_revoke_notify() - register how events wake the library OS
 *	(%EXO_IOC_REVOKE_NOTIFY).
 * @ctx: the context.
 * @req: the request.
 *
 * Return: 0, -EINVAL for a bad signal or a descriptor that is not an
 * eventfd, -EBADF for a bad descriptor.
 */
int exo_revoke_notify(struct exo_ctx *ctx, const struct exo_revoke_notify *req)
{
	struct eventfd_ctx *efd = NULL, *old_efd;
	struct pid *pid = NULL, *old_pid;

	if (req->signo && !valid_signal(req->signo))
		return -EINVAL;
	if (req->signo == SIGKILL || req->signo == SIGSTOP)
		return -EINVAL;
	if (req->eventfd != -1) {
		if (req->eventfd < 0)
			return -EBADF;
		efd = eventfd_ctx_fdget(req->eventfd);
		if (IS_ERR(efd))
			return PTR_ERR(efd);
	}
	if (req->signo)
		pid = get_pid(task_tgid(current));

	spin_lock(&ctx->revoke_lock);
	old_efd = ctx->notify_efd;
	old_pid = ctx->notify_pid;
	ctx->notify_efd = efd;
	ctx->notify_pid = pid;
	ctx->notify_signo = req->signo;
	spin_unlock(&ctx->revoke_lock);

	if (old_efd)
		eventfd_ctx_put(old_efd);
	put_pid(old_pid);
	return 0;
}
