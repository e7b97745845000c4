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
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>

#include "exo.h"
#include "exo_compat.h"
#include "exo_ctx.h"
#include "exo_events.h"

static unsigned int exo_event_entries = 256;
module_param_named(event_entries, exo_event_entries, uint, 0644);
MODULE_PARM_DESC(event_entries,
		 "Entries in a context's event ring, 16..65536, rounded down to a power of two; taken at open (default 256)");

static struct exo_event *exo_event_entry(struct exo_ctx *ctx, u64 n)
{
	return exo_table_entry(&ctx->ev.ring, n & (ctx->ev.ring.nr - 1));
}

/**
 * exo_events_ctx_init() - allocate a context's event ring.
 * @ctx: the context; @ctx->id is set.
 *
 * Return: 0 or -ENOMEM.
 */
int exo_events_ctx_init(struct exo_ctx *ctx)
{
	u32 nr = clamp_t(u32, READ_ONCE(exo_event_entries), 16, 65536);

	spin_lock_init(&ctx->ev.lock);
	init_waitqueue_head(&ctx->ev.wq);
	return exo_table_init(&ctx->ev.ring, EXO_EVENTS_MAGIC,
			      EXO_EVENTS_VERSION, ctx->id,
			      sizeof(struct exo_events_header),
			      sizeof(struct exo_event),
			      rounddown_pow_of_two(nr));
}

/**
 * exo_events_ctx_fini() - free the ring and drop the notify registration.
 * @ctx: a dying context.
 */
void exo_events_ctx_fini(struct exo_ctx *ctx)
{
	if (ctx->ev.efd)
		eventfd_ctx_put(ctx->ev.efd);
	put_pid(ctx->ev.pid);
	exo_table_fini(&ctx->ev.ring);
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
	return exo_table_mmap(&ctx->ev.ring, vma);
}

/**
 * exo_events_sync() - copy the revocation state into the ring's header.
 * @ctx: the context, @ctx->ev.lock held.
 */
void exo_events_sync(struct exo_ctx *ctx)
{
	struct exo_events_header *h = ctx->ev.ring.hdr;
	struct exo_revoke_ctx *rv = &ctx->rv;

	lockdep_assert_held(&ctx->ev.lock);
	WRITE_ONCE(h->revoke_id, rv->id);
	WRITE_ONCE(h->owed, rv->owed);
	WRITE_ONCE(h->deadline_ns, rv->owed ? rv->deadline_ns : 0);
	WRITE_ONCE(h->state, rv->state);
	WRITE_ONCE(h->repossessed, rv->repossessed);
}

/**
 * exo_event_post() - post one event and wake the library OS.
 * @ctx: the context, @ctx->ev.lock held.
 * @type: an &enum exo_event_type.
 * @id: the revocation request.
 * @nr: frames.
 * @deadline_ns: the abort's time, or 0.
 * @arg: the event's argument.
 * @signal: also send the registered signal.
 *
 * eventfd_signal() and kill_pid() take only spinlocks, so this is safe
 * under @ctx->ev.lock, which the shrinker takes.
 */
void exo_event_post(struct exo_ctx *ctx, u32 type, u64 id, u64 nr,
		    u64 deadline_ns, u64 arg, bool signal)
{
	struct exo_events_header *h = ctx->ev.ring.hdr;
	u64 n = h->head;
	struct exo_event *e = exo_event_entry(ctx, n);

	lockdep_assert_held(&ctx->ev.lock);
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

	if (ctx->ev.efd)
		exo_eventfd_signal(ctx->ev.efd);
	if (signal && ctx->ev.pid && ctx->ev.signo)
		kill_pid(ctx->ev.pid, ctx->ev.signo, 1);
	wake_up_interruptible(&ctx->ev.wq);
}

/**
 * exo_events_cmd_notify() - register how events wake the library OS
 *	(%EXO_IOC_REVOKE_NOTIFY).
 * @ucmd: the command.
 *
 * Return: 0, -EINVAL for a bad signal or a descriptor that is not an
 * eventfd, -EBADF for a bad descriptor.
 */
int exo_events_cmd_notify(struct exo_ucmd *ucmd)
{
	const struct exo_revoke_notify *req = ucmd->cmd;
	struct eventfd_ctx *efd = NULL, *old_efd;
	struct exo_ctx *ctx = ucmd->ctx;
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

	spin_lock(&ctx->ev.lock);
	old_efd = ctx->ev.efd;
	old_pid = ctx->ev.pid;
	ctx->ev.efd = efd;
	ctx->ev.pid = pid;
	ctx->ev.signo = req->signo;
	spin_unlock(&ctx->ev.lock);

	if (old_efd)
		eventfd_ctx_put(old_efd);
	put_pid(old_pid);
	return 0;
}
