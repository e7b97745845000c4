// SPDX-License-Identifier: GPL-2.0
/*
 * Faults in an exo VMA belong to the library OS.
 *
 * The module first refills in the kernel: from the page's binding (a PTE
 * zapped when rights changed comes back this way), else from the library
 * OS's own page table (exo_stlb.c). Only then does
 * the fault go up: SIGBUS to the faulting thread with the address and the
 * access (the default); an event read from the context's fd while the
 * thread sleeps, for a library OS that handles faults in another thread;
 * or, as Aegis dispatched exceptions, a jump to the library OS's own entry
 * with a frame on the thread's stack and no signal at all.
 */
#include <linux/compat.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "exo.h"
#include "exo_bind.h"
#include "exo_ctx.h"
#include "exo_fault.h"
#include "exo_stlb.h"
#include "trace/exo_trace.h"

/**
 * struct exo_fault_waiter - a thread asleep on a fault event, on its stack.
 * @node: in &exo_fault_ctx.waiters until woken.
 * @ev: the event read(2) returns.
 * @reported: read(2) has returned it.
 * @woken: 0, %EXO_WOKEN_RETRY or %EXO_WOKEN_SIGBUS; set under fault_lock.
 */
struct exo_fault_waiter {
	struct list_head node;
	struct exo_fault_event ev;
	bool reported;
	int woken;
};

/* Will SIGBUS reach a handler of this thread (not blocked, not default)? */
static bool exo_sigbus_caught(void)
{
	/* Only an exec by this very thread replaces its sighand. */
	struct sighand_struct *sh = rcu_dereference_protected(current->sighand,
							      true);
	__sighandler_t handler;
	bool blocked;

	spin_lock_irq(&sh->siglock);
	handler = sh->action[SIGBUS - 1].sa.sa_handler;
	blocked = sigismember(&current->blocked, SIGBUS);
	spin_unlock_irq(&sh->siglock);
	return !blocked && handler != SIG_DFL && handler != SIG_IGN;
}

/* SIGBUS to this thread only, the fault bits in si_errno. */
static void exo_sigbus_send(unsigned long addr, u32 bits)
{
	struct kernel_siginfo info;

	clear_siginfo(&info);
	info.si_signo = SIGBUS;
	info.si_errno = bits;
	info.si_code = BUS_ADRERR;
	info.si_addr = (void __user *)addr;
	send_sig_info(SIGBUS, &info, current);
}

/*
 * The upcall: SIGBUS to this thread only, with the fault in si_errno. The
 * access retries after the handler returns. A thread that would not catch
 * it gets the arch's forced SIGBUS instead (VM_FAULT_SIGBUS), as any bad
 * access would: never a livelock of ignored signals.
 */
static vm_fault_t exo_sigbus(struct vm_fault *vmf, u32 bits)
{
	if (!(vmf->flags & FAULT_FLAG_USER) || !exo_sigbus_caught())
		return VM_FAULT_SIGBUS;
	exo_sigbus_send(vmf->real_address, bits);
	return VM_FAULT_NOPAGE;
}

/**
 * exo_fault_pending() - does a fault event wait to be read?
 * @ctx: the context.
 */
bool exo_fault_pending(struct exo_ctx *ctx)
{
	struct exo_fault_waiter *w;
	bool pending = false;

	spin_lock(&ctx->fault.lock);
	list_for_each_entry(w, &ctx->fault.waiters, node) {
		if (!w->reported) {
			pending = true;
			break;
		}
	}
	spin_unlock(&ctx->fault.lock);
	return pending;
}

/*
 * Sleep until the library OS resolves the fault, as userfaultfd does:
 * mmap_lock is dropped (the resolver needs it) and the fault retried.
 * Entered with ctx->lock held, so a MAP cannot slip between the failed
 * refill and the waiter going on the list.
 */
static vm_fault_t exo_fault_wait(struct exo_ctx *ctx, struct vm_fault *vmf,
				 u32 bits)
{
	struct exo_fault_waiter w = {
		.ev = {
			.va = vmf->real_address,
			.fault = bits,
			.tid = task_pid_vnr(current),
		},
	};
	struct file *file = vmf->vma->vm_file;
	struct mm_struct *mm = vmf->vma->vm_mm;
	int woken;

	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT) {
		mutex_unlock(&ctx->lock);
		return VM_FAULT_RETRY;
	}
	spin_lock(&ctx->fault.lock);
	list_add_tail(&w.node, &ctx->fault.waiters);
	spin_unlock(&ctx->fault.lock);
	mutex_unlock(&ctx->lock);
	wake_up_poll(&ctx->fault.readq, EPOLLIN | EPOLLRDNORM);

	/* The VMA may go while we sleep; its file keeps the context. */
	get_file(file);
	mmap_read_unlock(mm);
	wait_event_interruptible(ctx->fault.wakeq, READ_ONCE(w.woken));

	spin_lock(&ctx->fault.lock);
	woken = w.woken;
	if (!woken)
		list_del(&w.node);
	spin_unlock(&ctx->fault.lock);
	fput(file);

	if (woken == EXO_WOKEN_SIGBUS) {
		if (exo_sigbus_caught())
			exo_sigbus_send(w.ev.va, bits);
		else
			force_sig(SIGBUS);
	}
	return VM_FAULT_RETRY;
}

#ifdef CONFIG_X86_64
/**
 * struct exo_upcall_work - a fault to dispatch on the way back to user mode.
 * @cb: queued with task_work_add(); runs with no lock held.
 * @frame: the frame, but for the registers.
 * @entry: where the thread resumes.
 */
struct exo_upcall_work {
	struct callback_head cb;
	struct exo_upcall_frame frame;
	u64 entry;
};

/**
 * exo_upcall_enter() - send the current thread to a library OS's upcall
 *	entry on its way back to user mode (x86-64, 64-bit mode).
 * @fr: the frame, but for the registers, which this fills in.
 * @entry: the user address to resume at.
 *
 * Writes @fr below the interrupted stack's red zone and points the thread
 * at @entry with %rsp and %rdi at the frame. Call it from task work (no
 * lock held): the return to user mode goes by IRET, so every register is
 * taken from pt_regs.
 *
 * Return: true, or false after a SIGSEGV when the stack has no room.
 */
bool exo_upcall_enter(struct exo_upcall_frame *fr, u64 entry)
{
	struct pt_regs *regs = task_pt_regs(current);
	unsigned long sp;

	fr->r15 = regs->r15;
	fr->r14 = regs->r14;
	fr->r13 = regs->r13;
	fr->r12 = regs->r12;
	fr->r11 = regs->r11;
	fr->r10 = regs->r10;
	fr->r9 = regs->r9;
	fr->r8 = regs->r8;
	fr->rdi = regs->di;
	fr->rsi = regs->si;
	fr->rbp = regs->bp;
	fr->rbx = regs->bx;
	fr->rdx = regs->dx;
	fr->rcx = regs->cx;
	fr->rax = regs->ax;
	fr->rsp = regs->sp;
	fr->rflags = regs->flags;
	fr->rip = regs->ip;
	sp = regs->sp - EXO_UPCALL_RED_ZONE - sizeof(*fr);
	if (sp > regs->sp || copy_to_user((void __user *)sp, fr, sizeof(*fr))) {
		/* No room on the stack: as a signal frame would, SIGSEGV. */
		force_sig(SIGSEGV);
		return false;
	}
	regs->ip = entry;
	regs->sp = sp;
	regs->di = sp;
	return true;
}

/* Runs in the faulting thread just before it returns to user mode. */
static void exo_upcall_run(struct callback_head *cb)
{
	struct exo_upcall_work *w = container_of(cb, struct exo_upcall_work,
						 cb);

	if (!(current->flags & PF_EXITING))
		exo_upcall_enter(&w->frame, w->entry);
	kfree(w);
}

/* Queue the upcall; false if it cannot be (the caller sends SIGBUS). */
static bool exo_upcall(struct exo_ctx *ctx, struct vm_fault *vmf, u32 bits)
{
	struct exo_upcall_work *w;

	if (!user_64bit_mode(task_pt_regs(current)))
		return false;
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return false;
	w->frame.va = vmf->real_address;
	w->frame.fault = bits;
	w->frame.size = sizeof(w->frame);
	w->frame.cookie = ctx->fault.upcall_cookie;
	w->entry = ctx->fault.upcall_entry;
	init_task_work(&w->cb, exo_upcall_run);
	if (task_work_add(current, &w->cb, TWA_RESUME)) {
		kfree(w);
		return false;
	}
	return true;
}
#else
static bool exo_upcall(struct exo_ctx *ctx, struct vm_fault *vmf, u32 bits)
{
	return false;
}
#endif

/**
 * exo_fault() - resolve a fault in an exo VMA.
 * @ctx: the VMA's context.
 * @vmf: the fault.
 * @mkwrite: a write to a present read-only PTE (->pfn_mkwrite), rather
 *	than a fault on a missing PTE (->fault).
 *
 * Return: VM_FAULT_NOPAGE when a PTE was installed or a signal sent; 0 from
 * ->pfn_mkwrite to let the kernel make the PTE writable; VM_FAULT_RETRY
 * after sleeping on a fault event (mmap_lock released); VM_FAULT_SIGBUS
 * for an access nobody will handle; VM_FAULT_OOM.
 */
vm_fault_t exo_fault(struct exo_ctx *ctx, struct vm_fault *vmf, bool mkwrite)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long va = vmf->address;
	u32 access = mkwrite ? EXO_FAULT_WRITE : exo_fault_access(vmf->flags);
	vm_fault_t ret;
	void *b;

	mutex_lock(&ctx->lock);
	b = xa_load(&ctx->bind.map, va >> PAGE_SHIFT);
	if (!b && mkwrite) {
		/* Unmapped since the PTE was read: retry, see it gone. */
		mutex_unlock(&ctx->lock);
		return VM_FAULT_NOPAGE;
	}
	if (!b || !exo_prot_allows(exo_b_prot(b), access))
		b = exo_stlb_refill(ctx, vma, va, b, access);

	if (b && exo_prot_allows(exo_b_prot(b), access)) {
		if (access == EXO_FAULT_WRITE && !exo_b_dirty(b)) {
			b = exo_binding(exo_b_index(b), exo_b_frame(b),
					exo_b_prot(b), true);
			xa_store(&ctx->bind.map, va >> PAGE_SHIFT, b, GFP_KERNEL);
		}
		if (mkwrite)
			ret = 0;
		else
			ret = exo_bind_install(ctx, vma, va, b) ?
			      VM_FAULT_OOM : VM_FAULT_NOPAGE;
		ctx->fault.refills++;
		mutex_unlock(&ctx->lock);
		trace_exo_fault(ctx->id, va, access, EXO_TRACE_REFILL);
		return ret;
	}

	access |= b ? EXO_FAULT_PROT : 0;
	if (!b && exo_bind_repossessed(ctx, va >> PAGE_SHIFT))
		access |= EXO_FAULT_REPOSSESSED;
	/* A system call's copy is not the library OS's access: EFAULT. */
	if (!(vmf->flags & FAULT_FLAG_USER)) {
		mutex_unlock(&ctx->lock);
		return VM_FAULT_SIGBUS;
	}
	ctx->fault.upcalls++;
	if (ctx->fault.mode == EXO_FAULT_MODE_EVENT &&
	    (vmf->flags & FAULT_FLAG_ALLOW_RETRY)) {
		trace_exo_fault(ctx->id, va, access, EXO_TRACE_EVENT);
		ret = exo_fault_wait(ctx, vmf, access);
	} else if (ctx->fault.mode == EXO_FAULT_MODE_UPCALL &&
		   exo_upcall(ctx, vmf, access)) {
		mutex_unlock(&ctx->lock);
		trace_exo_fault(ctx->id, va, access, EXO_TRACE_UPCALL);
		ret = VM_FAULT_NOPAGE;
	} else {
		mutex_unlock(&ctx->lock);
		trace_exo_fault(ctx->id, va, access, EXO_TRACE_SIGBUS);
		ret = exo_sigbus(vmf, access);
	}
	/* After sleeping, ->pfn_mkwrite must not go on to make the PTE writable. */
	if (mkwrite && (ret & VM_FAULT_RETRY))
		ret |= VM_FAULT_NOPAGE;
	return ret;
}

/**
 * exo_fault_wake_range() - wake threads waiting on a fault in a range.
 * @ctx: the context.
 * @start: first byte.
 * @end: one past the last byte.
 * @how: %EXO_WOKEN_RETRY or %EXO_WOKEN_SIGBUS.
 */
void exo_fault_wake_range(struct exo_ctx *ctx, unsigned long start,
			  unsigned long end, int how)
{
	struct exo_fault_waiter *w, *tmp;
	unsigned long page;
	bool any = false;

	spin_lock(&ctx->fault.lock);
	list_for_each_entry_safe(w, tmp, &ctx->fault.waiters, node) {
		page = w->ev.va & PAGE_MASK;
		if (page < start || page >= end)
			continue;
		list_del_init(&w->node);
		WRITE_ONCE(w->woken, how);
		any = true;
	}
	spin_unlock(&ctx->fault.lock);
	if (any)
		wake_up_all(&ctx->fault.wakeq);
}

#define EXO_READ_EVENTS	16

/* Give events back that read(2) could not copy out. */
static void exo_fault_unreport(struct exo_ctx *ctx,
			       const struct exo_fault_event *ev, int n)
{
	struct exo_fault_waiter *w;
	int i;

	spin_lock(&ctx->fault.lock);
	list_for_each_entry(w, &ctx->fault.waiters, node)
		for (i = 0; i < n; i++)
			if (w->reported && w->ev.tid == ev[i].tid &&
			    w->ev.va == ev[i].va)
				w->reported = false;
	spin_unlock(&ctx->fault.lock);
}

/**
 * exo_fault_fop_read() - read(2) of /dev/exo: pending fault events.
 * @file: the context's file.
 * @buf: user buffer.
 * @len: its size; at least one &struct exo_fault_event.
 * @pos: unused.
 *
 * Return: bytes read (whole events), -EINVAL, -EAGAIN, -EFAULT, -EIO or
 * -ERESTARTSYS.
 */
ssize_t exo_fault_fop_read(struct file *file, char __user *buf, size_t len,
			   loff_t *pos)
{
	struct exo_fault_event ev[EXO_READ_EVENTS];
	struct exo_ctx *ctx = file->private_data;
	struct exo_fault_waiter *w;
	int n, max;

	if (ctx->mm != current->mm)
		return -EIO;
	if (len < sizeof(ev[0]))
		return -EINVAL;
	max = min_t(size_t, len / sizeof(ev[0]), EXO_READ_EVENTS);
	for (;;) {
		n = 0;
		spin_lock(&ctx->fault.lock);
		list_for_each_entry(w, &ctx->fault.waiters, node) {
			if (w->reported)
				continue;
			w->reported = true;
			ev[n++] = w->ev;
			if (n == max)
				break;
		}
		spin_unlock(&ctx->fault.lock);
		if (n)
			break;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_event_interruptible(ctx->fault.readq,
					     exo_fault_pending(ctx)))
			return -ERESTARTSYS;
	}
	if (copy_to_user(buf, ev, n * sizeof(ev[0]))) {
		exo_fault_unreport(ctx, ev, n);
		return -EFAULT;
	}
	return n * sizeof(ev[0]);
}

/**
 * exo_fault_cmd_mode() - choose how faults reach the library OS
 *	(%EXO_IOC_FAULT_MODE).
 * @ucmd: the command; its mode, entry and cookie become the previous ones.
 *
 * Leaving event mode wakes every waiter, whose retried access then takes
 * the new path.
 *
 * Return: 0, -EINVAL, or -EOPNOTSUPP for an upcall mode this kernel or
 * this (32-bit) caller cannot have.
 */
int exo_fault_cmd_mode(struct exo_ucmd *ucmd)
{
	struct exo_fault_mode *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	u32 old;

	if (req->__reserved || req->mode > EXO_FAULT_MODE_UPCALL)
		return -EINVAL;
	if (req->mode == EXO_FAULT_MODE_UPCALL) {
		if (!IS_ENABLED(CONFIG_X86_64) || in_compat_syscall())
			return -EOPNOTSUPP;
		if (!req->entry || req->entry >= TASK_SIZE)
			return -EINVAL;
	} else if (req->entry || req->cookie) {
		return -EINVAL;
	}
	mutex_lock(&ctx->lock);
	old = ctx->fault.mode;
	swap(ctx->fault.upcall_entry, req->entry);
	swap(ctx->fault.upcall_cookie, req->cookie);
	ctx->fault.mode = req->mode;
	mutex_unlock(&ctx->lock);
	if (old == EXO_FAULT_MODE_EVENT && req->mode != old)
		exo_fault_wake_range(ctx, 0, ULONG_MAX, EXO_WOKEN_RETRY);
	req->mode = old;
	return 0;
}

/**
 * exo_fault_cmd_mode_undo() - put back the mode exo_fault_cmd_mode()
 *	replaced, when its result could not be copied out.
 * @ucmd: what exo_fault_cmd_mode() returned: the previous mode.
 */
void exo_fault_cmd_mode_undo(struct exo_ucmd *ucmd)
{
	const struct exo_fault_mode *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;

	mutex_lock(&ctx->lock);
	ctx->fault.mode = req->mode;
	ctx->fault.upcall_entry = req->entry;
	ctx->fault.upcall_cookie = req->cookie;
	mutex_unlock(&ctx->lock);
}

/**
 * exo_fault_cmd_wake() - wake threads waiting on fault events in a range
 *	(%EXO_IOC_FAULT_WAKE).
 * @ucmd: the command: the range and flags.
 *
 * Return: 0 or -EINVAL.
 */
int exo_fault_cmd_wake(struct exo_ucmd *ucmd)
{
	const struct exo_fault_wake *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;

	if (!req->len || !PAGE_ALIGNED(req->va) || !PAGE_ALIGNED(req->len) ||
	    req->len > U64_MAX - req->va || req->va + req->len > ULONG_MAX)
		return -EINVAL;
	exo_fault_wake_range(ctx, req->va, req->va + req->len,
			     req->flags & EXO_WAKE_SIGBUS ?
			     EXO_WOKEN_SIGBUS : EXO_WOKEN_RETRY);
	return 0;
}

/**
 * exo_fault_ctx_init() - a new context's faults go up as SIGBUS.
 * @ctx: the context.
 *
 * Return: 0.
 */
int exo_fault_ctx_init(struct exo_ctx *ctx)
{
	spin_lock_init(&ctx->fault.lock);
	INIT_LIST_HEAD(&ctx->fault.waiters);
	init_waitqueue_head(&ctx->fault.readq);
	init_waitqueue_head(&ctx->fault.wakeq);
	return 0;
}

/**
 * exo_fault_ctx_fini() - let go of a dying context's page table. Its exo
 *	VMAs hold its file, so no thread waits on a fault.
 * @ctx: the context.
 */
void exo_fault_ctx_fini(struct exo_ctx *ctx)
{
	WARN_ON_ONCE(!list_empty(&ctx->fault.waiters));
	exo_stlb_free(ctx->fault.stlb);
	ctx->fault.stlb = NULL;
}
