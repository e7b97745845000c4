// SPDX-License-Identifier: GPL-2.0
/*
 * The processor, as Aegis exposed it: a library OS sees its threads' time
 * slices and gives its processor to a thread of its choice.
 *
 * A thread registers with its context and gets a row of the read-only
 * thread table and a preempt notifier: at every switch it records its CPU,
 * its switches, the times Linux preempted it and its CPU time. With
 * EXO_THREAD_UPCALL the thread enters the library OS's handler on its way
 * back to user mode after a preemption, or after each slice_ns of CPU time
 * (a pinned hrtimer armed only while it runs), at an exo_upcall_frame as
 * fault upcalls do, so a user-level scheduler can switch threads. Linux's
 * scheduler decides as before: a library OS that ignores its upcalls keeps
 * the processor no longer than Linux gives it.
 *
 * A preempt notifier can only be unlinked safely by its own thread, which
 * a context closed by another thread cannot ask for synchronously. So a
 * registered thread holds its &struct exo_thread (and the module) until
 * it unregisters itself: on EXO_IOC_THREAD_UNREGISTER, or by task work
 * that a closing context queues on it, or, for a thread that exited, in
 * the reaper once its last switch is done.
 */
#include <linux/compat.h>
#include <linux/device.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/ptrace.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/workqueue.h>

#include "exo_cpu.h"
#include "exo_ctx.h"
#include "exo_entry.h"
#include "exo_fault.h"

#if defined(CONFIG_PREEMPT_NOTIFIERS) && defined(CONFIG_X86_64)

/* How often the reaper looks at threads that exited registered. */
#define EXO_REAP_INTERVAL	msecs_to_jiffies(10)

/**
 * struct exo_thread - a registered thread.
 * @pn: its preempt notifier, on @task's list until it unregisters.
 * @task: the thread (a reference).
 * @mm: its address space when it registered (compared, never followed).
 * @info: its row of the table; NULL once the context is closing. Read in
 *	the notifiers under RCU (they run with preemption disabled).
 * @id: its row.
 * @flags: &enum exo_thread_flags.
 * @entry: the upcall entry.
 * @cookie: copied into each upcall frame.
 * @slice: the slice length with %EXO_THREAD_UPCALL, or 0.
 * @left: CPU time left of the current slice. Its thread's only.
 * @ran_at: the thread's CPU time when it was last switched in.
 * @timer: fires when @left runs out while the thread runs.
 * @preempted: switched out while runnable, with upcalls: the upcall is
 *	queued when it is switched back in, outside the runqueue lock.
 * @reasons: EXO_SLICE_* bits of the upcall to come.
 * @queued: bit 0: @upcall_cb is queued.
 * @upcall_cb: the upcall's task work.
 * @unreg_cb: the task work a closing context queues.
 * @ref: the registration holds one, a queued upcall one.
 * @reap_node: on exo_reap_list once its thread has exited unhooked, or on
 *	exo_free_list once unreferenced. Under exo_reap_lock.
 */
struct exo_thread {
	struct preempt_notifier pn;
	struct task_struct *task;
	struct mm_struct *mm;
	struct exo_thread_info *info;
	u32 id;
	u32 flags;
	u64 entry;
	u64 cookie;
	u64 slice;
	s64 left;
	u64 ran_at;
	struct hrtimer timer;
	bool preempted;
	atomic_t reasons;
	unsigned long queued;
	struct callback_head upcall_cb;
	struct callback_head unreg_cb;
	refcount_t ref;
	struct list_head reap_node;
};

/* The task in EXO_IOC_YIELD on each CPU: its switch is not a preemption. */
static DEFINE_PER_CPU(struct task_struct *, exo_yielding);

/* Registrations not yet freed, of open and closed contexts: sysfs "threads". */
static atomic_long_t exo_nr_threads = ATOMIC_LONG_INIT(0);

static LIST_HEAD(exo_reap_list);	/* exited: wait for the last switch */
static LIST_HEAD(exo_free_list);	/* unreferenced: free */
static DEFINE_SPINLOCK(exo_reap_lock);
static void exo_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(exo_reaper, exo_reap);

/*
 * The last reference goes to the reaper, which frees: the registration
 * holds the module, and exo_cpu_exit() waits for the reaper, so no code of
 * the module runs after the last module_put().
 */
static void exo_thread_put(struct exo_thread *th)
{
	if (!refcount_dec_and_test(&th->ref))
		return;
	spin_lock(&exo_reap_lock);
	list_add_tail(&th->reap_node, &exo_free_list);
	spin_unlock(&exo_reap_lock);
	schedule_delayed_work(&exo_reaper, 0);
}

static void exo_thread_free(struct exo_thread *th)
{
	put_task_struct(th->task);
	kfree(th);
	atomic_long_dec(&exo_nr_threads);
	module_put(THIS_MODULE);
}

static void exo_info_begin(struct exo_thread_info *info)
{
	exo_table_write_begin(&info->seq);
}

static void exo_info_end(struct exo_thread_info *info)
{
	exo_table_write_end(&info->seq);
}

/*
 * Queue an upcall for @reason in the current thread: from its switch in or
 * its timer, never under the runqueue lock (task_work_add() may allocate
 * under KASAN).
 */
static void exo_thread_upcall_queue(struct exo_thread *th, u32 reason)
{
	atomic_or(reason, &th->reasons);
	if (test_and_set_bit(0, &th->queued))
		return;
	refcount_inc(&th->ref);
	if (task_work_add(current, &th->upcall_cb, TWA_RESUME)) {
		/* Exiting: nothing will return to user mode. */
		clear_bit(0, &th->queued);
		refcount_dec(&th->ref);	/* the registration's remains */
	}
}

static void exo_thread_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct exo_thread *th = container_of(pn, struct exo_thread, pn);
	struct exo_thread_info *info = READ_ONCE(th->info);

	if (!info)
		return;
	exo_info_begin(info);
	info->cpu = cpu;
	exo_info_end(info);
	th->ran_at = current->se.sum_exec_runtime;
	if (th->slice)
		hrtimer_start(&th->timer, ns_to_ktime(max_t(s64, th->left, 0)),
			      HRTIMER_MODE_REL_PINNED_HARD);
	if (th->preempted) {
		th->preempted = false;
		exo_thread_upcall_queue(th, EXO_SLICE_PREEMPTED);
	}
}

static void exo_thread_sched_out(struct preempt_notifier *pn,
				 struct task_struct *next)
{
	struct exo_thread *th = container_of(pn, struct exo_thread, pn);
	struct exo_thread_info *info = READ_ONCE(th->info);
	u64 now = current->se.sum_exec_runtime;
	bool preempted;

	if (!info)
		return;
	preempted = task_is_running(current) &&
		    this_cpu_read(exo_yielding) != current;
	if (th->slice) {
		hrtimer_try_to_cancel(&th->timer);
		th->left -= now - th->ran_at;
	}
	exo_info_begin(info);
	info->switches++;
	info->preempted += preempted;
	info->run_ns = now;
	exo_info_end(info);
	if (preempted && (th->flags & EXO_THREAD_UPCALL))
		th->preempted = true;
}

static struct preempt_ops exo_thread_preempt_ops = {
	.sched_in = exo_thread_sched_in,
	.sched_out = exo_thread_sched_out,
};

/* The slice ran out while the thread ran: it is current here. */
static enum hrtimer_restart exo_thread_expired(struct hrtimer *timer)
{
	struct exo_thread *th = container_of(timer, struct exo_thread, timer);

	if (current != th->task || !READ_ONCE(th->info))
		return HRTIMER_NORESTART;
	th->left = th->slice;
	th->ran_at = current->se.sum_exec_runtime;
	exo_thread_upcall_queue(th, EXO_SLICE_EXPIRED);
	hrtimer_forward_now(timer, ns_to_ktime(th->slice));
	return HRTIMER_RESTART;
}

/* The upcall, in the thread on its way back to user mode. */
static void exo_thread_upcall_run(struct callback_head *cb)
{
	struct exo_thread *th = container_of(cb, struct exo_thread, upcall_cb);
	struct exo_upcall_frame fr = {
		.size = sizeof(fr),
		.cookie = th->cookie,
	};
	struct exo_thread_info *info;
	u32 reasons;

	clear_bit(0, &th->queued);
	reasons = atomic_xchg(&th->reasons, 0);
	/* No row: unregistered or closing, and the handler may be gone. */
	if (!reasons || !READ_ONCE(th->info) ||
	    (current->flags & PF_EXITING) || current->mm != th->mm ||
	    !user_64bit_mode(task_pt_regs(current)))
		goto out;
	fr.fault = EXO_UPCALL_SLICE | reasons;
	if (!exo_upcall_enter(&fr, th->entry))
		goto out;
	rcu_read_lock();
	info = READ_ONCE(th->info);
	if (info) {
		preempt_disable();	/* one writer: not our own switch */
		exo_info_begin(info);
		info->upcalls++;
		exo_info_end(info);
		preempt_enable();
	}
	rcu_read_unlock();
out:
	exo_thread_put(th);
}

/* Unlink the notifier: only ever in @th's own thread. */
static void exo_thread_detach(struct exo_thread *th)
{
	preempt_disable();
	preempt_notifier_unregister(&th->pn);
	preempt_enable();
	hrtimer_cancel(&th->timer);
	exo_thread_put(th);
}

static void exo_thread_unreg_run(struct callback_head *cb)
{
	exo_thread_detach(container_of(cb, struct exo_thread, unreg_cb));
}

/* Its thread has made its last switch: the notifier will not run again. */
static bool exo_thread_gone(struct exo_thread *th)
{
	return READ_ONCE(th->task->__state) == TASK_DEAD &&
	       !READ_ONCE(th->task->on_cpu);
}

static void exo_reap(struct work_struct *work)
{
	struct exo_thread *th, *tmp;
	LIST_HEAD(done);
	bool more;

	spin_lock(&exo_reap_lock);
	list_for_each_entry_safe(th, tmp, &exo_reap_list, reap_node)
		if (exo_thread_gone(th))
			list_move(&th->reap_node, &done);
	spin_unlock(&exo_reap_lock);
	list_for_each_entry_safe(th, tmp, &done, reap_node) {
		list_del(&th->reap_node);
		hrtimer_cancel(&th->timer);
		exo_thread_put(th);
	}
	spin_lock(&exo_reap_lock);
	list_splice_init(&exo_free_list, &done);
	more = !list_empty(&exo_reap_list);
	spin_unlock(&exo_reap_lock);
	list_for_each_entry_safe(th, tmp, &done, reap_node)
		exo_thread_free(th);
	if (more)
		schedule_delayed_work(&exo_reaper, EXO_REAP_INTERVAL);
}

/*
 * Hand a thread whose row is gone (info NULL, a grace period past) back to
 * its own thread, or to the reaper if that thread is past its last task
 * work. Sleeps.
 */
static void exo_thread_release(struct exo_thread *th)
{
	if (th->task == current) {
		exo_thread_detach(th);
		return;
	}
	init_task_work(&th->unreg_cb, exo_thread_unreg_run);
	if (!task_work_add(th->task, &th->unreg_cb, TWA_RESUME))
		return;
	spin_lock(&exo_reap_lock);
	list_add_tail(&th->reap_node, &exo_reap_list);
	spin_unlock(&exo_reap_lock);
	schedule_delayed_work(&exo_reaper, 0);
}

/* Empty row @id; ctx->cpu.lock held. The row is the caller's to write. */
static struct exo_thread *exo_thread_take(struct exo_ctx *ctx, u32 id)
{
	struct exo_thread *th = ctx->cpu.threads[id];

	ctx->cpu.threads[id] = NULL;
	ctx->cpu.nr--;
	WRITE_ONCE(th->info, NULL);
	return th;
}

static void exo_row_clear(struct exo_ctx *ctx, u32 id)
{
	struct exo_thread_info *info = exo_table_entry(&ctx->cpu.table, id);

	exo_info_begin(info);
	info->live = 0;
	info->tid = 0;
	info->cpu = 0;
	info->switches = 0;
	info->preempted = 0;
	info->run_ns = 0;
	info->upcalls = 0;
	exo_info_end(info);
}

/*
 * Free the rows of threads that exited registered, when the table is
 * full. Sleeps.
 */
static void exo_cpu_reap_rows(struct exo_ctx *ctx)
{
	struct exo_thread *dead[EXO_THREADS_MAX];
	u32 id, ids[EXO_THREADS_MAX], n = 0;

	spin_lock(&ctx->cpu.lock);
	for (id = 0; id < EXO_THREADS_MAX; id++) {
		struct exo_thread *th = ctx->cpu.threads[id];

		if (th && (th->task->flags & PF_EXITING)) {
			ids[n] = id;
			dead[n++] = exo_thread_take(ctx, id);
		}
	}
	spin_unlock(&ctx->cpu.lock);
	if (!n)
		return;
	synchronize_rcu();	/* their notifiers no longer write their rows */
	while (n--) {
		exo_row_clear(ctx, ids[n]);
		exo_thread_release(dead[n]);
	}
}

/* The calling thread's registration in @ctx, or -1. ctx->cpu.lock held. */
static int exo_cpu_find_current(struct exo_ctx *ctx)
{
	int id;

	for (id = 0; id < EXO_THREADS_MAX; id++)
		if (ctx->cpu.threads[id] && ctx->cpu.threads[id]->task == current)
			return id;
	return -1;
}

bool exo_cpu_supported(void)
{
	return true;
}

/**
 * exo_cpu_cmd_register() - %EXO_IOC_THREAD_REGISTER: register the calling
 *	thread, its row of the thread table and its end-of-slice upcalls.
 * @ucmd: the command; &struct exo_thread_register.
 *
 * Return: 0; -EINVAL for unknown flags, a slice shorter than
 * %EXO_THREAD_SLICE_MIN_NS, a slice or entry without %EXO_THREAD_UPCALL or
 * an entry that is not a user address; -EOPNOTSUPP for a 32-bit caller;
 * -EEXIST when the thread is registered already; -ENOSPC when
 * %EXO_THREADS_MAX threads are; -ENOMEM.
 */
int exo_cpu_cmd_register(struct exo_ucmd *ucmd)
{
	struct exo_thread_register *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_thread_info *info;
	struct exo_thread *th;
	int id, ret;

	if (in_compat_syscall())
		return -EOPNOTSUPP;
	if (req->flags & ~EXO_THREAD_UPCALL)
		return -EINVAL;
	if (req->flags & EXO_THREAD_UPCALL) {
		if (!req->entry || req->entry >= TASK_SIZE_MAX)
			return -EINVAL;
		if (req->slice_ns && req->slice_ns < EXO_THREAD_SLICE_MIN_NS)
			return -EINVAL;
	} else if (req->entry || req->slice_ns || req->cookie) {
		return -EINVAL;
	}
	if (req->id || req->table_size)
		return -EINVAL;

	th = kzalloc(sizeof(*th), GFP_KERNEL_ACCOUNT);
	if (!th)
		return -ENOMEM;
	if (ctx->cpu.nr == EXO_THREADS_MAX)
		exo_cpu_reap_rows(ctx);
	spin_lock(&ctx->cpu.lock);
	id = exo_cpu_find_current(ctx);
	if (id < 0) {
		for (id = 0; id < EXO_THREADS_MAX && ctx->cpu.threads[id];
		     id++)
			;
		ret = id == EXO_THREADS_MAX ? -ENOSPC : 0;
	} else {
		ret = -EEXIST;
	}
	if (ret) {
		spin_unlock(&ctx->cpu.lock);
		kfree(th);
		return ret;
	}
	__module_get(THIS_MODULE);
	atomic_long_inc(&exo_nr_threads);
	get_task_struct(current);
	th->task = current;
	th->mm = current->mm;
	th->id = id;
	th->flags = req->flags;
	th->entry = req->entry;
	th->cookie = req->cookie;
	th->slice = req->slice_ns;
	th->left = req->slice_ns;
	refcount_set(&th->ref, 1);
	init_task_work(&th->upcall_cb, exo_thread_upcall_run);
	hrtimer_init(&th->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	th->timer.function = exo_thread_expired;
	preempt_notifier_init(&th->pn, &exo_thread_preempt_ops);
	info = exo_table_entry(&ctx->cpu.table, id);
	ctx->cpu.threads[id] = th;
	ctx->cpu.nr++;
	spin_unlock(&ctx->cpu.lock);

	/* The row is this thread's from here on: it is the only writer. */
	preempt_disable();
	exo_info_begin(info);
	info->live = 1;
	info->tid = task_pid_vnr(current);
	info->cpu = smp_processor_id();
	info->run_ns = current->se.sum_exec_runtime;
	exo_info_end(info);
	th->info = info;
	th->ran_at = current->se.sum_exec_runtime;
	preempt_notifier_register(&th->pn);
	if (th->slice)
		hrtimer_start(&th->timer, ns_to_ktime(th->slice),
			      HRTIMER_MODE_REL_PINNED_HARD);
	preempt_enable();

	req->id = id;
	req->table_size = ctx->cpu.table.size;
	return 0;
}

/**
 * exo_cpu_cmd_register_undo() - unregister what exo_cpu_cmd_register()
 *	registered when its answer could not be copied back.
 * @ucmd: the command as it succeeded.
 */
void exo_cpu_cmd_register_undo(struct exo_ucmd *ucmd)
{
	struct exo_thread_register *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_thread *th;

	spin_lock(&ctx->cpu.lock);
	th = exo_thread_take(ctx, req->id);
	spin_unlock(&ctx->cpu.lock);
	synchronize_rcu();
	exo_row_clear(ctx, req->id);
	exo_thread_detach(th);
}

/**
 * exo_cpu_cmd_unregister() - %EXO_IOC_THREAD_UNREGISTER: the calling
 *	thread leaves the table; no upcall reaches it any more.
 * @ucmd: the command; &struct exo_thread_unregister.
 *
 * Return: 0, or -ENOENT when the calling thread is not registered.
 */
int exo_cpu_cmd_unregister(struct exo_ucmd *ucmd)
{
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_thread *th;
	int id;

	spin_lock(&ctx->cpu.lock);
	id = exo_cpu_find_current(ctx);
	if (id < 0) {
		spin_unlock(&ctx->cpu.lock);
		return -ENOENT;
	}
	th = exo_thread_take(ctx, id);
	spin_unlock(&ctx->cpu.lock);
	synchronize_rcu();
	exo_row_clear(ctx, id);
	exo_thread_detach(th);
	return 0;
}

/* The live thread in @row of @t, with a reference, or NULL. */
static struct task_struct *exo_cpu_row_task(struct exo_ctx *t, u32 row)
{
	struct task_struct *p = NULL;
	struct exo_thread *th;

	spin_lock(&t->cpu.lock);
	th = t->cpu.threads[row];
	if (th && !(th->task->flags & PF_EXITING)) {
		p = th->task;
		get_task_struct(p);
	}
	spin_unlock(&t->cpu.lock);
	return p;
}

/*
 * The thread in @row of @ctx (@cap 0) or of the context serving @cap's
 * entry, with a reference; NULL with *@err set.
 */
static struct task_struct *exo_cpu_target(struct exo_ctx *ctx, u64 cap,
					  u32 row, int *err)
{
	struct task_struct *p = NULL;
	struct exo_call_cap *cc;
	struct exo_entry *e;
	struct exo_ctx *t;
	u32 id;

	*err = -ESRCH;
	if (!cap)
		return exo_cpu_row_task(ctx, row);
	e = exo_entry_by_cap(ctx, cap, &cc);
	if (!e) {
		*err = -ENOENT;
		return NULL;
	}
	id = e->ctx_id;
	if (READ_ONCE(e->dead))
		*err = -ECONNRESET;
	exo_entry_put(e);
	if (*err == -ECONNRESET)
		return NULL;
	/* The registry's lock keeps the context found alive. */
	exo_ctxs_lock();
	t = exo_ctx_find(id);
	if (t)
		p = exo_cpu_row_task(t, row);
	else
		*err = -ECONNRESET;
	exo_ctxs_unlock();
	return p;
}

/**
 * exo_cpu_yield() - %EXO_IOC_YIELD: give the rest of the caller's slice
 *	to a registered thread of a context it may call, or of its own.
 * @ctx: the caller's context.
 * @arg: rdx: a call capability, or 0 for @ctx itself; r10 holds the
 *	thread's row in that context's table.
 *
 * Linux's yield_to() does the work: the target runs next on its CPU if it
 * is runnable there; the caller stays runnable.
 *
 * Return: 0 once the target has been given the processor; -EAGAIN when it
 * cannot take it (asleep, or running already); -ESRCH for an empty row or
 * a thread that exited; -EINVAL for the caller itself or a row past the
 * table; -ENOENT for an unknown or stale capability; -ECONNRESET when its
 * entry or context is gone; -EOPNOTSUPP for a 32-bit caller.
 */
long exo_cpu_yield(struct exo_ctx *ctx, unsigned long arg)
{
	u64 row = task_pt_regs(current)->r10;
	struct task_struct *p;
	int ret;

	if (in_compat_syscall())
		return -EOPNOTSUPP;
	if (row >= EXO_THREADS_MAX)
		return -EINVAL;
	p = exo_cpu_target(ctx, arg, row, &ret);
	if (!p)
		return ret;
	if (p == current) {
		put_task_struct(p);
		return -EINVAL;
	}
	this_cpu_write(exo_yielding, current);
	ret = yield_to(p, true);
	/* Back on some CPU: forget the mark wherever it was left. */
	if (this_cpu_read(exo_yielding) == current)
		this_cpu_write(exo_yielding, NULL);
	put_task_struct(p);
	return ret > 0 ? 0 : -EAGAIN;
}

/**
 * exo_cpu_ctx_fini() - end every registration of a closing context: the
 *	rows go now, each thread unlinks its notifier itself.
 * @ctx: a dying context.
 */
void exo_cpu_ctx_fini(struct exo_ctx *ctx)
{
	struct exo_thread *ths[EXO_THREADS_MAX];
	u32 id, n = 0;

	spin_lock(&ctx->cpu.lock);
	for (id = 0; id < EXO_THREADS_MAX; id++)
		if (ctx->cpu.threads[id])
			ths[n++] = exo_thread_take(ctx, id);
	spin_unlock(&ctx->cpu.lock);
	if (n)
		synchronize_rcu();	/* no notifier writes the table now */
	while (n--)
		exo_thread_release(ths[n]);
	exo_table_fini(&ctx->cpu.table);
}

/**
 * exo_cpu_init() - at load: turn the scheduler's preempt-notifier hook on
 *	for as long as the module is loaded.
 *
 * The hook is a static key: turning it on and off patches the scheduler's
 * code. Done once here, at a quiet moment, rather than at each first and
 * last registration (under TCG a context switch racing that patching
 * stalled both vCPUs); the cost is a test of an empty list per switch.
 */
void exo_cpu_init(void)
{
	preempt_notifier_inc();
}

/**
 * exo_cpu_exit() - at unload: nothing is left to reap (every registered
 *	thread holds the module), but the reaper may still be queued.
 */
void exo_cpu_exit(void)
{
	cancel_delayed_work_sync(&exo_reaper);
	preempt_notifier_dec();
}

#else /* no preempt notifiers, or not x86-64 */

bool exo_cpu_supported(void)
{
	return false;
}

int exo_cpu_cmd_register(struct exo_ucmd *ucmd)
{
	return -EOPNOTSUPP;
}

void exo_cpu_cmd_register_undo(struct exo_ucmd *ucmd)
{
}

int exo_cpu_cmd_unregister(struct exo_ucmd *ucmd)
{
	return -EOPNOTSUPP;
}

long exo_cpu_yield(struct exo_ctx *ctx, unsigned long arg)
{
	return -EOPNOTSUPP;
}

void exo_cpu_ctx_fini(struct exo_ctx *ctx)
{
	exo_table_fini(&ctx->cpu.table);
}

void exo_cpu_init(void)
{
}

void exo_cpu_exit(void)
{
}

#endif

static ssize_t threads_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
#if defined(CONFIG_PREEMPT_NOTIFIERS) && defined(CONFIG_X86_64)
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&exo_nr_threads));
#else
	return sysfs_emit(buf, "0\n");
#endif
}
static DEVICE_ATTR_RO(threads);

static struct attribute *exo_cpu_attrs[] = {
	&dev_attr_threads.attr,
	NULL,
};

/* /sys/class/misc/exo/threads. */
const struct attribute_group exo_cpu_attr_group = {
	.attrs = exo_cpu_attrs,
};

/**
 * exo_cpu_ctx_init() - an empty thread table.
 * @ctx: a new context.
 *
 * Return: 0 or -ENOMEM.
 */
int exo_cpu_ctx_init(struct exo_ctx *ctx)
{
	spin_lock_init(&ctx->cpu.lock);
	return exo_table_init(&ctx->cpu.table, EXO_THREADS_MAGIC,
			      EXO_THREADS_VERSION, ctx->id,
			      sizeof(struct exo_threads_header),
			      sizeof(struct exo_thread_info), EXO_THREADS_MAX);
}

/**
 * exo_cpu_mmap() - map the thread table read-only into the caller.
 * @ctx: the context.
 * @vma: a mapping at %EXO_MMAP_THREADS.
 *
 * Return: 0, -EACCES for a writable mapping, -EINVAL for a bad size.
 */
int exo_cpu_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma)
{
	return exo_table_mmap(&ctx->cpu.table, vma);
}
