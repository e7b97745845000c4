/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Faults in exo VMAs: refill in the kernel, or up to the library OS by
 * SIGBUS, a fault event, or an Aegis-style upcall (exo_fault.c).
 */
#ifndef _EXO_FAULT_H
#define _EXO_FAULT_H

#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

struct exo_ctx;
struct exo_stlb_map;
struct exo_upcall_frame;
struct exo_ucmd;
struct file;

/**
 * struct exo_fault_ctx - how a context's faults reach its library OS.
 * @mode: an &enum exo_fault_mode_kind. Under ctx->lock.
 * @upcall_entry: %EXO_FAULT_MODE_UPCALL's entry point. Under ctx->lock.
 * @upcall_cookie: copied into every upcall frame. Under ctx->lock.
 * @stlb: the library OS's page table registered for refill (exo_stlb.h),
 *	or NULL. Under ctx->lock.
 * @refills: faults resolved in the kernel. Under ctx->lock.
 * @upcalls: faults handed to the library OS. Under ctx->lock.
 * @lock: guards @waiters and each waiter's state.
 * @waiters: threads asleep on a fault event.
 * @readq: readers and pollers of fault events.
 * @wakeq: threads waiting for their fault to be resolved.
 */
struct exo_fault_ctx {
	u32 mode;
	u64 upcall_entry;
	u64 upcall_cookie;
	struct exo_stlb_map *stlb;
	u64 refills;
	u64 upcalls;
	spinlock_t lock;	/* @waiters */
	struct list_head waiters;
	wait_queue_head_t readq;
	wait_queue_head_t wakeq;
};

/* How exo_fault_wake_range() ends a wait. */
#define EXO_WOKEN_RETRY		1
#define EXO_WOKEN_SIGBUS	2

int exo_fault_ctx_init(struct exo_ctx *ctx);
void exo_fault_ctx_fini(struct exo_ctx *ctx);
vm_fault_t exo_fault(struct exo_ctx *ctx, struct vm_fault *vmf, bool mkwrite);
void exo_fault_wake_range(struct exo_ctx *ctx, unsigned long start,
			  unsigned long end, int how);
bool exo_fault_pending(struct exo_ctx *ctx);
#ifdef CONFIG_X86_64
bool exo_upcall_enter(struct exo_upcall_frame *fr, u64 entry);
#endif
ssize_t exo_fault_fop_read(struct file *file, char __user *buf, size_t len,
			   loff_t *pos);

int exo_fault_cmd_mode(struct exo_ucmd *ucmd);
void exo_fault_cmd_mode_undo(struct exo_ucmd *ucmd);
int exo_fault_cmd_wake(struct exo_ucmd *ucmd);

#endif /* _EXO_FAULT_H */
