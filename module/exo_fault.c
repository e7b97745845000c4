// SPDX-License-Identifier: GPL-2.0
/*
 * Faults in an exo VMA belong to the library OS.
 *
 * The module first refills in the kernel: from the page's binding (a PTE
 * zapped when rights changed comes back this way), else from the library
 * OS's own page table (the STLB, as Aegis refilled its TLB from a software
 * TLB) when the entry is valid and its capability checks. Only then does
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

/**
 * struct exo_fault_waiter - a thread asleep on a fault event, on its stack.
 * @node: in &exo_ctx.fault_waiters until woken.
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

/* The entry of the library OS's table for @va, if valid. Under ctx->lock. */
static const struct exo_upte *exo_stlb_entry(struct exo_ctx *ctx,
					     unsigned long va, u32 *flags)
{
	const struct exo_stlb_map *s = ctx->stlb;
	const struct exo_upte *e;
	unsigned long i;

	if (!s || va < s->base)
		return NULL;
	i = (va - s->base) >> PAGE_SHIFT;
	if (i >= s->nr)
		return NULL;
	e = &s->table[i];
	*flags = READ_ONCE(e->flags);
	if (!(*flags & EXO_UPTE_VALID))
		return NULL;
	/* Pairs with the library OS setting VALID last. */
	smp_rmb();
	return e;
}

/*
 * Refill from the library OS's table: bind an unbound page, or widen a
 * binding to the same frame. Anything else is the library OS's to sort
 * out (it changed a bound entry without unmapping). Returns the binding
 * now in force, or @b unchanged.
 */
static void *exo_stlb_refill(struct exo_ctx *ctx, struct vm_area_struct *vma,
			     unsigned long va, void *b, u32 access)
{
	const struct exo_upte *e;
	struct exo_frames *f;
	u32 flags, prot, frame;
	void *nb;

	e = exo_stlb_entry(ctx, va, &flags);
	if (!e)
		return b;
	prot = flags & EXO_PROT_MASK;
	frame = READ_ONCE(e->frame);
	if ((flags & ~(EXO_PROT_MASK | EXO_UPTE_VALID)) || exo_prot_check(prot) ||
	    (prot & ~exo_vma_prot(vma)) || !exo_prot_allows(prot, access))
		return b;
	f = exo_cap_lookup(ctx, READ_ONCE(e->cap));
	if (!f || frame >= (1U << f->order))
		return b;
	if (b) {
		if (exo_b_index(b) != f->index || exo_b_frame(b) != frame)
			return b;
		nb = exo_binding(f->index, frame, prot, exo_b_dirty(b));
		if (xa_err(xa_store(&ctx->vmap, va >> PAGE_SHIFT, nb,
				    GFP_KERNEL_ACCOUNT)))
			return b;
		return nb;
	}
	nb = exo_binding(f->index, frame, prot, false);
	if (exo_vm_bind(ctx, f, va >> PAGE_SHIFT, nb))
		return NULL;
	return nb;
}

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

static bool exo_fault_pending(struct exo_ctx *ctx)
{
	struct exo_fault_waiter *w;
	bool pending = false;

	spin_lock(&ctx->fault_lock);
	list_for_each_entry(w, &ctx->fault_waiters, node) {
		if (!w->reported) {
			pending = true;
			break;
		}
	}
	spin_unlock(&ctx->fault_lock);
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
	spin_lock(&ctx->fault_lock);
	list_add_tail(&w.node, &ctx->fault_waiters);
	spin_unlock(&ctx->fault_lock);
	mutex_unlock(&ctx->lock);
	wake_up_poll(&ctx->fault_readq, EPOLLIN | EPOLLRDNORM);

	/* The VMA may go while we sleep; its file keeps the context. */
	get_file(file);
	mmap_read_unlock(mm);
	wait_event_interruptible(ctx->fault_wakeq, READ_ONCE(w.woken));

	spin_lock(&ctx->fault_lock);
	woken = w.woken;
	if (!woken)
		list_del(&w.node);
	spin_unlock(&ctx->fault_lock);
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

/*
 * Runs in the faulting thread just before it returns to user mode: write
 * the frame below the red zone and point the thread at the entry. The
 * exception returns with IRET, so every register is taken from pt_regs.
 */
static void exo_upcall_run(struct callback_head *cb)
{
	struct exo_upcall_work *w = container_of(cb, struct exo_upcall_work,
						 cb);
	struct pt_regs *regs = task_pt_regs(current);
	struct exo_upcall_frame *fr = &w->frame;
	unsigned long sp;

	if (current->flags & PF_EXITING)
		goto out;
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
		goto out;
	}
	regs->ip = w->entry;
	regs->sp = sp;
	regs->di = sp;
out:
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
	w->frame.cookie = ctx->upcall_cookie;
	w->entry = ctx->upcall_entry;
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
	b = xa_load(&ctx->vmap, va >> PAGE_SHIFT);
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
			xa_store(&ctx->vmap, va >> PAGE_SHIFT, b, GFP_KERNEL);
		}
		if (mkwrite)
			ret = 0;
		else
			ret = exo_vm_install(ctx, vma, va, b) ?
			      VM_FAULT_OOM : VM_FAULT_NOPAGE;
		ctx->refills++;
		mutex_unlock(&ctx->lock);
		return ret;
	}

	access |= b ? EXO_FAULT_PROT : 0;
	if (!b && xa_load(&ctx->repo_va, va >> PAGE_SHIFT))
		access |= EXO_FAULT_REPOSSESSED;
	/* A system call's copy is not the library OS's access: EFAULT. */
	if (!(vmf->flags & FAULT_FLAG_USER)) {
		mutex_unlock(&ctx->lock);
		return VM_FAULT_SIGBUS;
	}
	ctx->upcalls++;
	if (ctx->fault_mode == EXO_FAULT_MODE_EVENT &&
	    (vmf->flags & FAULT_FLAG_ALLOW_RETRY)) {
		ret = exo_fault_wait(ctx, vmf, access);
	} else if (ctx->fault_mode == EXO_FAULT_MODE_UPCALL &&
		   exo_upcall(ctx, vmf, access)) {
		mutex_unlock(&ctx->lock);
		ret = VM_FAULT_NOPAGE;
	} else {
		mutex_unlock(&ctx->lock);
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

	spin_lock(&ctx->fault_lock);
	list_for_each_entry_safe(w, tmp, &ctx->fault_waiters, node) {
		page = w->ev.va & PAGE_MASK;
		if (page < start || page >= end)
			continue;
		list_del_init(&w->node);
		WRITE_ONCE(w->woken, how);
		any = true;
	}
	spin_unlock(&ctx->fault_lock);
	if (any)
		wake_up_all(&ctx->fault_wakeq);
}

#define EXO_READ_EVENTS	16

/* Give events back that read(2) could not copy out. */
static void exo_fault_unreport(struct exo_ctx *ctx,
			       const struct exo_fault_event *ev, int n)
{
	struct exo_fault_waiter *w;
	int i;

	spin_lock(&ctx->fault_lock);
	list_for_each_entry(w, &ctx->fault_waiters, node)
		for (i = 0; i < n; i++)
			if (w->reported && w->ev.tid == ev[i].tid &&
			    w->ev.va == ev[i].va)
				w->reported = false;
	spin_unlock(&ctx->fault_lock);
}

/**
 * exo_fault_read() - read(2) of /dev/exo: pending fault events.
 * @file: the context's file.
 * @buf: user buffer.
 * @len: its size; at least one &struct exo_fault_event.
 * @pos: unused.
 *
 * Return: bytes read (whole events), -EINVAL, -EAGAIN, -EFAULT, -EIO or
 * -ERESTARTSYS.
 */
ssize_t exo_fault_read(struct file *file, char __user *buf, size_t len,
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
		spin_lock(&ctx->fault_lock);
		list_for_each_entry(w, &ctx->fault_waiters, node) {
			if (w->reported)
				continue;
			w->reported = true;
			ev[n++] = w->ev;
			if (n == max)
				break;
		}
		spin_unlock(&ctx->fault_lock);
		if (n)
			break;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_event_interruptible(ctx->fault_readq,
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
 * exo_fault_poll() - poll(2) of /dev/exo: readable while a fault event
 *	waits or the receive ring holds packets, urgent while revocation
 *	needs the library OS.
 * @file: the context's file.
 * @wait: the poll table.
 *
 * Return: EPOLLIN | EPOLLRDNORM, EPOLLPRI, both or 0.
 */
__poll_t exo_fault_poll(struct file *file, struct poll_table_struct *wait)
{
	struct exo_ctx *ctx = file->private_data;

	__poll_t mask = 0;

	poll_wait(file, &ctx->fault_readq, wait);
	poll_wait(file, &ctx->revoke_wq, wait);
	if (exo_fault_pending(ctx) || exo_net_rx_pending(ctx))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (exo_revoke_pending(ctx))
		mask |= EPOLLPRI;
	return mask;
}

/**
 * exo_fault_mode_set() - choose how faults reach the library OS
 *	(%EXO_IOC_FAULT_MODE).
 * @ctx: the context.
 * @req: the request; @req->mode, entry and cookie become the previous
 *	ones.
 *
 * Leaving event mode wakes every waiter, whose retried access then takes
 * the new path.
 *
 * Return: 0, -EINVAL, or -EOPNOTSUPP for an upcall mode this kernel or
 * this (32-bit) caller cannot have.
 */
int exo_fault_mode_set(struct exo_ctx *ctx, struct exo_fault_mode *req)
{
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
	old = ctx->fault_mode;
	swap(ctx->upcall_entry, req->entry);
	swap(ctx->upcall_cookie, req->cookie);
	ctx->fault_mode = req->mode;
	mutex_unlock(&ctx->lock);
	if (old == EXO_FAULT_MODE_EVENT && req->mode != old)
		exo_fault_wake_range(ctx, 0, ULONG_MAX, EXO_WOKEN_RETRY);
	req->mode = old;
	return 0;
}

/**
 * exo_fault_mode_undo() - put back the mode exo_fault_mode_set() replaced,
 *	when its result could not be copied out.
 * @ctx: the context.
 * @req: what exo_fault_mode_set() returned: the previous mode.
 */
void exo_fault_mode_undo(struct exo_ctx *ctx, const struct exo_fault_mode *req)
{
	mutex_lock(&ctx->lock);
	ctx->fault_mode = req->mode;
	ctx->upcall_entry = req->entry;
	ctx->upcall_cookie = req->cookie;
	mutex_unlock(&ctx->lock);
}

/**
 * exo_fault_wake_ioctl() - %EXO_IOC_FAULT_WAKE.
 * @ctx: the context.
 * @req: the range and flags.
 *
 * Return: 0 or -EINVAL.
 */
int exo_fault_wake_ioctl(struct exo_ctx *ctx, const struct exo_fault_wake *req)
{
	if (!req->len || !PAGE_ALIGNED(req->va) || !PAGE_ALIGNED(req->len) ||
	    req->len > U64_MAX - req->va || req->va + req->len > ULONG_MAX)
		return -EINVAL;
	exo_fault_wake_range(ctx, req->va, req->va + req->len,
			     req->flags & EXO_WAKE_SIGBUS ?
			     EXO_WOKEN_SIGBUS : EXO_WOKEN_RETRY);
	return 0;
}

/**
 * exo_stlb_free() - unpin and unmap a registered table.
 * @stlb: the table, or NULL.
 */
void exo_stlb_free(struct exo_stlb_map *stlb)
{
	if (!stlb)
		return;
	vunmap(stlb->vaddr);
	unpin_user_pages(stlb->pages, stlb->nr_pages);
	kvfree(stlb->pages);
	kfree(stlb);
}

/* Pin the table's pages (the fault path cannot fault) and map them. */
static struct exo_stlb_map *exo_stlb_pin(const struct exo_stlb *req)
{
	unsigned long start = req->table & PAGE_MASK;
	size_t bytes = (size_t)req->nr_entries * sizeof(struct exo_upte);
	struct exo_stlb_map *s;
	int pinned, ret = -ENOMEM;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->nr_pages = DIV_ROUND_UP(req->table + bytes - start, PAGE_SIZE);
	s->pages = kvmalloc_array(s->nr_pages, sizeof(*s->pages),
				  GFP_KERNEL_ACCOUNT);
	if (!s->pages)
		goto err_free;
	pinned = pin_user_pages_fast(start, s->nr_pages,
				     FOLL_WRITE | FOLL_LONGTERM, s->pages);
	if (pinned != s->nr_pages) {
		if (pinned > 0)
			unpin_user_pages(s->pages, pinned);
		ret = pinned < 0 && pinned != -EFAULT ? pinned : -EFAULT;
		goto err_free;
	}
	s->vaddr = vmap(s->pages, s->nr_pages, VM_MAP, PAGE_KERNEL_RO);
	if (!s->vaddr) {
		unpin_user_pages(s->pages, s->nr_pages);
		goto err_free;
	}
	s->table = s->vaddr + offset_in_page(req->table);
	s->base = req->base;
	s->nr = req->nr_entries;
	return s;

err_free:
	kvfree(s->pages);
	kfree(s);
	return ERR_PTR(ret);
}

/**
 * exo_stlb_set() - register (or with table 0, drop) the library OS's page
 *	table (%EXO_IOC_STLB).
 * @ctx: the context.
 * @req: the request.
 *
 * Return: 0, -EINVAL, -EFAULT (the table is not ordinary writable memory)
 * or -ENOMEM.
 */
int exo_stlb_set(struct exo_ctx *ctx, const struct exo_stlb *req)
{
	struct exo_stlb_map *s = NULL, *old;
	u64 span;

	if (req->__reserved)
		return -EINVAL;
	if (req->table) {
		span = (u64)req->nr_entries << PAGE_SHIFT;
		if (!req->nr_entries || req->nr_entries > READ_ONCE(exo_stlb_max))
			return -EINVAL;
		if (!IS_ALIGNED(req->table, sizeof(struct exo_upte)) ||
		    req->table > ULONG_MAX - (u64)req->nr_entries *
						 sizeof(struct exo_upte))
			return -EINVAL;
		if (!PAGE_ALIGNED(req->base) || span > TASK_SIZE ||
		    req->base > TASK_SIZE - span)
			return -EINVAL;
		/* The table must be this context's own memory. */
		if (!ctx->mm || ctx->mm != current->mm)
			return -EFAULT;
		s = exo_stlb_pin(req);
		if (IS_ERR(s))
			return PTR_ERR(s);
	} else if (req->base || req->nr_entries) {
		return -EINVAL;
	}
	mutex_lock(&ctx->lock);
	old = ctx->stlb;
	ctx->stlb = s;
	mutex_unlock(&ctx->lock);
	exo_stlb_free(old);
	return 0;
}
