// SPDX-License-Identifier: GPL-2.0
/*
 * Protected control transfer, as Aegis's Scall. A thread of a context
 * holding a call capability calls with six message words in registers and
 * sleeps; a server thread of the entry, asleep in REPLY, returns to user
 * mode at the entry with the message and the caller's context id. Its
 * next REPLY hands the reply words back and, with EXO_REPLY_WAIT, waits
 * for the next call in the same system call. A send is a call nobody
 * waits for: queued at the entry (a bounded number), answered by nothing.
 *
 * A call lives on the caller's stack. Everything another thread does to it
 * is done under the entry's lock, which is also where a caller interrupted
 * by a signal takes its call back; settling a call (the reply, or an error)
 * is the last touch, and the caller may return the moment it sees it.
 */
#include <linux/compat.h>
#include <linux/ptrace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>

#include "exo_call.h"
#include "exo_ctx.h"
#include "exo_entry.h"
#include "exo_grant.h"
#include "trace/exo_trace.h"

#define EXO_CALL_MAX_SERVERS	64

/* How often a waiting caller looks whether its server thread has died. */
#define EXO_CALL_CHECK		HZ

#ifdef CONFIG_X86_64

/* Take @c off its entry before it is settled. e->lock held. */
static void exo_call_detach(struct exo_call *c)
{
	if (c->srv) {
		c->srv->call = NULL;
		c->srv->orphaned = true;
	} else {
		list_del(&c->node);
	}
}

static void exo_call_regs_get(const struct pt_regs *regs, u64 *w)
{
	w[0] = regs->r10;
	w[1] = regs->r8;
	w[2] = regs->r9;
	w[3] = regs->r12;
	w[4] = regs->r13;
	w[5] = regs->r14;
}

static void exo_call_regs_set(struct pt_regs *regs, const u64 *w)
{
	regs->r10 = w[0];
	regs->r8 = w[1];
	regs->r9 = w[2];
	regs->r12 = w[3];
	regs->r13 = w[4];
	regs->r14 = w[5];
}

/* A waiting server, one last run on this CPU first, or NULL. e->lock held. */
static struct exo_server *exo_call_pick(struct exo_entry *e)
{
	struct exo_server *s, *any = NULL;
	int cpu = raw_smp_processor_id();

	list_for_each_entry(s, &e->servers, node) {
		if (!s->waiting)
			continue;
		if (task_cpu(s->task) == cpu)
			return s;
		if (!any)
			any = s;
	}
	return any;
}

/* Has the thread serving @c died? */
static bool exo_call_server_died(struct exo_call *c)
{
	struct exo_server *s = READ_ONCE(c->srv);

	return s && (READ_ONCE(s->task->flags) & PF_EXITING);
}

/*
 * Wait for @c to be settled. A signal, or the death of the thread serving
 * it, takes the call back: a call no server has taken yet is restarted
 * (nothing ran), one being served fails with EINTR or ECONNRESET.
 */
static int exo_call_wait(struct exo_entry *e, struct exo_call *c)
{
	int status;

	for (;;) {
		/* Pairs with exo_call_settle(): then the reply words are in. */
		status = smp_load_acquire(&c->status);
		if (status)
			break;
		if (signal_pending(current) || exo_call_server_died(c)) {
			spin_lock(&e->lock);
			status = c->status;
			if (!status) {
				if (!c->srv)
					status = -ERESTARTSYS;
				else if (signal_pending(current))
					status = -EINTR;
				else
					status = -ECONNRESET;
				exo_call_detach(c);
			}
			spin_unlock(&e->lock);
			break;
		}
		schedule_timeout(EXO_CALL_CHECK);
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return status;
}

/*
 * Hand @c to a waiting server, or queue it. Return: the server's thread
 * to wake (a reference), or NULL.
 */
static struct task_struct *exo_call_post(struct exo_entry *e,
					 struct exo_call *c)
	__must_hold(&e->lock)
{
	struct exo_server *s = exo_call_pick(e);

	if (!s) {
		list_add_tail(&c->node, &e->pending);
		return NULL;
	}
	s->waiting = false;
	s->call = c;
	c->srv = s;
	return get_task_struct(s->task);
}

static void exo_call_wake(struct task_struct *srv)
{
	if (srv) {
		wake_up_process(srv);
		put_task_struct(srv);
	}
}

/*
 * %EXO_IOC_CALL: see exo_call_ioctl(). @frame: the server's capability
 * for a frame granted with the call, or 0. *@taken: a server took it.
 */
static long exo_call_call(struct exo_ctx *ctx, u64 cap, u64 frame,
			  bool *taken)
{
	struct pt_regs *regs = task_pt_regs(current);
	struct exo_call c = { .caller = ctx->id, .task = current,
			      .frame = frame };
	struct task_struct *srv;
	struct exo_entry *e;
	int status;

	/* Under RCU until queued: the capability is checked again then. */
	rcu_read_lock();
	e = exo_entry_by_cap(ctx, cap, &c.cap);
	if (!e) {
		rcu_read_unlock();
		*taken = false;
		return -ENOENT;
	}
	exo_call_regs_get(regs, c.w);

	spin_lock(&e->lock);
	*taken = false;
	if (e->dead || c.cap->revoked) {
		spin_unlock(&e->lock);
		rcu_read_unlock();
		exo_entry_put(e);
		return -ECONNRESET;
	}
	srv = exo_call_post(e, &c);
	/* Asleep before the server can run: its reply cannot be missed. */
	set_current_state(TASK_INTERRUPTIBLE);
	spin_unlock(&e->lock);
	rcu_read_unlock();
	exo_call_wake(srv);

	status = exo_call_wait(e, &c);
	exo_entry_put(e);
	/* Settled: nothing touches c now, and a server set c.srv if any. */
	*taken = !!c.srv;
	if (status < 0)
		return status;
	exo_call_regs_set(regs, c.w);
	return 0;
}

/*
 * %EXO_IOC_CALL_FRAME: a call that first grants the server's context the
 * frames of rbx's capability. Until a server takes the call the grant is
 * the caller's to take back, which it does if the call fails before.
 */
static long exo_call_frame(struct exo_ctx *ctx, u64 cap)
{
	struct exo_call_cap *cc;
	struct exo_entry *e;
	bool taken;
	u32 srv_ctx;
	u64 frame;
	long ret;

	e = exo_entry_by_cap(ctx, cap, &cc);
	if (!e)
		return -ENOENT;
	srv_ctx = e->ctx_id;
	exo_entry_put(e);
	ret = exo_grant_give(ctx, task_pt_regs(current)->bx, srv_ctx, &frame);
	if (ret)
		return ret == -ESRCH ? -ECONNRESET : ret;
	ret = exo_call_call(ctx, cap, frame, &taken);
	if (ret < 0 && !taken)
		exo_grant_take_back(srv_ctx, frame);
	return ret;
}

/* %EXO_IOC_SEND: see exo_call_ioctl(). */
static long exo_call_async(struct exo_ctx *ctx, u64 cap)
{
	struct task_struct *srv = NULL;
	struct exo_entry *e;
	struct exo_call *c;
	long ret = 0;

	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return -ENOMEM;
	c->caller = ctx->id;
	exo_call_regs_get(task_pt_regs(current), c->w);
	/* Under RCU until queued: the capability is checked again then. */
	rcu_read_lock();
	e = exo_entry_by_cap(ctx, cap, &c->cap);
	if (!e) {
		rcu_read_unlock();
		kfree(c);
		return -ENOENT;
	}

	spin_lock(&e->lock);
	if (e->dead || c->cap->revoked)
		ret = -ECONNRESET;
	else if (e->nr_sends >= EXO_CALL_MAX_SENDS)
		ret = -EAGAIN;
	if (!ret) {
		e->nr_sends++;
		srv = exo_call_post(e, c);
		c = NULL;
	}
	spin_unlock(&e->lock);
	rcu_read_unlock();
	exo_call_wake(srv);
	kfree(c);
	exo_entry_put(e);
	return ret;
}

/*
 * Forget servers whose thread is exiting, with the send one of them died
 * in; one that died in a call waits for its caller to take the call back.
 */
static void exo_call_reap(struct exo_entry *e)
	__must_hold(&e->lock)
{
	struct exo_server *s, *tmp;

	list_for_each_entry_safe(s, tmp, &e->servers, node) {
		if (s->waiting || !(s->task->flags & PF_EXITING))
			continue;
		if (s->call && s->call->task)
			continue;
		if (s->call)
			exo_call_settle(e, s->call, -ECONNRESET);
		list_del(&s->node);
		e->nr_servers--;
		put_task_struct(s->task);
		kfree(s);
	}
}

/*
 * This thread's server at @e; if it has none yet, *@new becomes it (and
 * *@new NULL). Return: the server, or NULL with %EXO_CALL_MAX_SERVERS.
 */
static struct exo_server *exo_call_server(struct exo_entry *e,
					  struct exo_server **new)
	__must_hold(&e->lock)
{
	struct exo_server *s;

	list_for_each_entry(s, &e->servers, node)
		if (s->task == current)
			return s;
	if (!*new)
		return NULL;
	if (e->nr_servers >= EXO_CALL_MAX_SERVERS)
		exo_call_reap(e);
	if (e->nr_servers >= EXO_CALL_MAX_SERVERS)
		return NULL;
	s = *new;
	*new = NULL;
	s->task = get_task_struct(current);
	list_add(&s->node, &e->servers);
	e->nr_servers++;
	return s;
}

/*
 * Wait at @e for a call for @s. e->lock held on entry and return. Return:
 * the call, or NULL with e->dead set or a signal pending.
 */
static struct exo_call *exo_call_next(struct exo_entry *e,
				      struct exo_server *s)
	__must_hold(&e->lock)
{
	struct exo_call *c;

	for (;;) {
		if (s->call || e->dead)
			return s->call;
		if (!list_empty(&e->pending)) {
			c = list_first_entry(&e->pending, struct exo_call, node);
			list_del(&c->node);
			c->srv = s;
			s->call = c;
			return c;
		}
		if (signal_pending(current))
			return NULL;
		s->waiting = true;
		set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock(&e->lock);
		if (!READ_ONCE(s->call) && !READ_ONCE(e->dead))
			schedule();
		__set_current_state(TASK_RUNNING);
		spin_lock(&e->lock);
		s->waiting = false;
	}
}

/* %EXO_IOC_REPLY: see exo_call_ioctl(). */
static long exo_call_reply(struct exo_ctx *ctx, u64 arg)
{
	struct pt_regs *regs = task_pt_regs(current);
	u32 flags = arg >> 32;
	u64 w[EXO_CALL_WORDS], frame;
	struct exo_server *s, *new = NULL;
	struct exo_call *c;
	struct exo_entry *e;
	bool orphaned;
	long ret;

	if (flags & ~EXO_REPLY_WAIT)
		return -EINVAL;
	e = exo_entry_get(ctx, (u32)arg);
	if (!e)
		return -ENOENT;
	spin_lock(&e->lock);
	s = exo_call_server(e, &new);
	if (!s) {
		/* This thread's first REPLY here. */
		spin_unlock(&e->lock);
		new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
		spin_lock(&e->lock);
		s = exo_call_server(e, &new);
		if (!s) {
			ret = new ? -EBUSY : -ENOMEM;
			goto unlock;
		}
	}
	if (e->dead) {
		ret = -ENOENT;
		goto unlock;
	}
	c = s->call;
	s->call = NULL;
	orphaned = s->orphaned;
	s->orphaned = false;
	if (c) {
		exo_call_regs_get(regs, c->w);
		exo_call_settle(e, c, 1);
	} else if (orphaned) {
		ret = -EPIPE;
		goto unlock;
	}
	if (!(flags & EXO_REPLY_WAIT)) {
		ret = c ? 0 : -ENOMSG;
		goto unlock;
	}

	c = exo_call_next(e, s);
	if (!c) {
		/* Restarting is safe: the reply, if any, is delivered. */
		ret = e->dead ? -ENOENT : -ERESTARTSYS;
		goto unlock;
	}
	memcpy(w, c->w, sizeof(w));
	ret = c->caller;
	regs->dx = c->task ? 0 : EXO_CALL_SEND;
	frame = c->frame;
	spin_unlock(&e->lock);

	exo_call_regs_set(regs, w);
	regs->ip = e->pc;
	if (regs->bx)
		regs->sp = regs->bx;
	regs->bx = frame;
	/* SYSRET, not IRET: rcx and r11 are what the syscall clobbers. */
	regs->cx = regs->ip;
	regs->r11 = regs->flags;
	goto out;
unlock:
	spin_unlock(&e->lock);
out:
	kfree(new);
	exo_entry_put(e);
	return ret;
}

/**
 * exo_call_ioctl() - the register commands: %EXO_IOC_CALL,
 *	%EXO_IOC_CALL_FRAME, %EXO_IOC_REPLY and %EXO_IOC_SEND
 *	(uapi/linux/exo.h has their convention).
 * @ctx: the calling context, of the caller's address space.
 * @cmd: the command.
 * @arg: rdx: the call capability, or the entry id | flags << 32.
 *
 * Return: for a call, 0 (the reply is in the message registers), -ENOENT
 * (no such capability), -ECONNRESET (the entry went, its context closed
 * or its server thread died), -EINTR (a signal, while the call was being
 * served); a call no server had taken is restarted after a signal. A call
 * with a frame also -ENOENT (no such frame capability), -EINVAL (a
 * granted one, or the caller's own entry), -EPERM (a server of another
 * user), -EDQUOT or -ENOMEM (as %EXO_IOC_FRAME_GRANT). For a
 * reply that waits, the caller's context id, with rdx %EXO_CALL_SEND for
 * a send (at the entry); -ENOENT (no
 * such entry, or it went while waiting), -EINVAL (unknown flags), -EPIPE
 * (the caller left before the reply), -EBUSY (%EXO_CALL_MAX_SERVERS
 * threads serve it), -ENOMEM; a wait interrupted by a signal is restarted.
 * A reply that does not wait returns 0, or -ENOMSG with no call to
 * answer. A send returns 0 once queued or handed to a server; -ENOENT,
 * -ECONNRESET (the entry went), -EAGAIN (%EXO_CALL_MAX_SENDS sends are
 * unanswered) or -ENOMEM. Each is -EOPNOTSUPP from a 32-bit task.
 */
long exo_call_ioctl(struct exo_ctx *ctx, unsigned int cmd, unsigned long arg)
{
	/* The convention is x86-64's registers; a 32-bit task has none. */
	if (in_compat_syscall())
		return -EOPNOTSUPP;
	bool taken;
	long ret;
	u32 op;

	switch (cmd) {
	case EXO_IOC_CALL:
		op = EXO_TRACE_CALL;
		ret = exo_call_call(ctx, arg, 0, &taken);
		break;
	case EXO_IOC_CALL_FRAME:
		op = EXO_TRACE_CALL_FRAME;
		ret = exo_call_frame(ctx, arg);
		break;
	case EXO_IOC_REPLY:
		op = EXO_TRACE_REPLY;
		ret = exo_call_reply(ctx, arg);
		break;
	case EXO_IOC_SEND:
		op = EXO_TRACE_SEND;
		ret = exo_call_async(ctx, arg);
		break;
	default:
		return -ENOTTY;
	}
	trace_exo_call(ctx->id, op, arg, ret);
	return ret;
}

#else /* !CONFIG_X86_64 */

long exo_call_ioctl(struct exo_ctx *ctx, unsigned int cmd, unsigned long arg)
{
	return -EOPNOTSUPP;
}

#endif
