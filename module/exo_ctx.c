// SPDX-License-Identifier: GPL-2.0
/*
 * Contexts: the life of one library OS, from open(2) of /dev/exo to the
 * last reference's release. A context is made of one part per room, set
 * up in the order of exo_ctx_parts[] and torn down in the reverse order;
 * the registry makes it a target of revocation requests and grants. The
 * device's open, release, mmap and poll are here; ioctl is exo_ioctl.c's
 * and read (fault events) exo_fault.c's.
 */
#include <linux/cred.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "exo.h"
#include "exo_entry.h"
#include "exo_ctx.h"
#include "exo_grant.h"
#include "exo_netring.h"
#include "exo_vm.h"

DEFINE_XARRAY(exo_ctxs);

static atomic_long_t exo_nr_contexts = ATOMIC_LONG_INIT(0);

/* Context ids are never reused while the module is loaded (0 is none). */
static atomic_t exo_last_ctx_id = ATOMIC_INIT(0);

/* The last part: a complete context becomes a target of requests. */
static int exo_ctx_register(struct exo_ctx *ctx)
{
	return xa_insert(&exo_ctxs, ctx->id, ctx, GFP_KERNEL);
}

/* The first to go: no request or grant finds the context after this. */
static void exo_ctx_unregister(struct exo_ctx *ctx)
{
	xa_erase(&exo_ctxs, ctx->id);
}

/**
 * struct exo_ctx_part - one room's part of a context.
 * @init: set it up (may be NULL); 0 or a negative errno.
 * @fini: tear it down (may be NULL); never fails.
 */
struct exo_ctx_part {
	int (*init)(struct exo_ctx *ctx);
	void (*fini)(struct exo_ctx *ctx);
};

/*
 * Set up top to bottom, torn down bottom to top. Read bottom up for
 * teardown: out of the registry first; then no deadline fires; grants are
 * broken before frames go; packets stop before ring frames are unpinned;
 * the VMAs (which hold the file) are gone, so no binding or waiter is
 * left; every frame goes back before the capability table is freed.
 */
static const struct exo_ctx_part exo_ctx_parts[] = {
	{ exo_caps_init, exo_caps_fini },
	{ exo_frame_ctx_init, exo_frame_ctx_fini },
	{ exo_events_ctx_init, exo_events_ctx_fini },
	{ exo_repo_ctx_init, exo_repo_ctx_fini },
	{ exo_bind_ctx_init, exo_bind_ctx_fini },
	{ exo_fault_ctx_init, exo_fault_ctx_fini },
	{ exo_net_ctx_init, exo_net_ctx_fini },
	{ exo_call_ctx_init, exo_call_ctx_fini },
	{ exo_cpu_ctx_init, exo_cpu_ctx_fini },
	{ NULL, exo_grants_release },
	{ exo_revoke_ctx_init, exo_revoke_ctx_fini },
	{ exo_ctx_register, exo_ctx_unregister },
};

/* Tear down parts n - 1 .. 0. */
static void exo_ctx_fini_from(struct exo_ctx *ctx, int n)
{
	while (n--)
		if (exo_ctx_parts[n].fini)
			exo_ctx_parts[n].fini(ctx);
}

static void exo_ctx_free(struct exo_ctx *ctx)
{
	mem_cgroup_put(ctx->memcg);
	put_pid(ctx->pid);
	if (ctx->mm)
		mmdrop(ctx->mm);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
}

/**
 * exo_ctx_create() - make a context with no frames.
 * @mm: the address space it belongs to (pinned with mmgrab), or NULL.
 *
 * Return: the context, or ERR_PTR(-ENOMEM).
 */
struct exo_ctx *exo_ctx_create(struct mm_struct *mm)
{
	struct exo_ctx *ctx;
	int i, ret = 0;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	do {
		ctx->id = atomic_inc_return(&exo_last_ctx_id);
	} while (!ctx->id);
	mutex_init(&ctx->lock);
	ctx->uid = current_euid();
	ctx->mm = mm;
	if (mm) {
		mmgrab(mm);
		ctx->memcg = get_mem_cgroup_from_mm(mm);
		ctx->pid = get_task_pid(current, PIDTYPE_TGID);
		get_task_comm(ctx->comm, current);
	}
	for (i = 0; i < ARRAY_SIZE(exo_ctx_parts) && !ret; i++)
		if (exo_ctx_parts[i].init)
			ret = exo_ctx_parts[i].init(ctx);
	if (ret) {
		/* Part i - 1 failed and undid itself. */
		exo_ctx_fini_from(ctx, i - 1);
		exo_ctx_free(ctx);
		return ERR_PTR(ret);
	}
	atomic_long_inc(&exo_nr_contexts);
	return ctx;
}

/**
 * exo_ctx_destroy() - return everything a context held and free it.
 * @ctx: a context no longer reachable from user space. Its exo VMAs hold
 *	its file, so they are gone and with them every binding.
 */
void exo_ctx_destroy(struct exo_ctx *ctx)
{
	exo_ctx_fini_from(ctx, ARRAY_SIZE(exo_ctx_parts));
	exo_ctx_free(ctx);
	atomic_long_dec(&exo_nr_contexts);
}

/**
 * exo_ctx_fop_open() - open(2) of /dev/exo: a new context, bound to the
 *	opener's address space, as KVM binds a VM.
 * @inode: the device's inode.
 * @file: the new file.
 *
 * Return: 0 or -ENOMEM.
 */
int exo_ctx_fop_open(struct inode *inode, struct file *file)
{
	struct exo_ctx *ctx = exo_ctx_create(current->mm);

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	file->private_data = ctx;
	return 0;
}

/**
 * exo_ctx_fop_release() - the last reference is gone (close, exit, kill,
 *	munmap of the last mapping).
 * @inode: the device's inode.
 * @file: the context's file.
 *
 * Return: 0.
 */
int exo_ctx_fop_release(struct inode *inode, struct file *file)
{
	exo_ctx_destroy(file->private_data);
	return 0;
}

/**
 * exo_ctx_fop_mmap() - mmap(2) of /dev/exo: a read-only table or an exo
 *	VMA, by offset.
 * @file: the context's file.
 * @vma: the new mapping.
 *
 * Return: 0, -EIO for another address space, -EINVAL for an unknown
 * offset, or the table's or the VMA's own error.
 */
int exo_ctx_fop_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct exo_ctx *ctx = file->private_data;

	if (ctx->mm != current->mm)
		return -EIO;

	switch ((u64)vma->vm_pgoff << PAGE_SHIFT) {
	case EXO_MMAP_FTABLE:
		return exo_caps_mmap(ctx, vma);
	case EXO_MMAP_VM:
		return exo_vm_mmap(ctx, vma);
	case EXO_MMAP_EVENTS:
		return exo_events_mmap(ctx, vma);
	case EXO_MMAP_REPO:
		return exo_repo_mmap(ctx, vma);
	case EXO_MMAP_THREADS:
		return exo_cpu_mmap(ctx, vma);
	default:
		return -EINVAL;
	}
}

/**
 * exo_ctx_fop_poll() - poll(2) of /dev/exo: readable while a fault event
 *	waits or the receive ring holds packets, urgent while revocation
 *	needs the library OS.
 * @file: the context's file.
 * @wait: the poll table.
 *
 * Return: EPOLLIN | EPOLLRDNORM, EPOLLPRI, both or 0.
 */
__poll_t exo_ctx_fop_poll(struct file *file, struct poll_table_struct *wait)
{
	struct exo_ctx *ctx = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &ctx->fault.readq, wait);
	poll_wait(file, &ctx->ev.wq, wait);
	if (exo_fault_pending(ctx) || exo_netring_rx_pending(ctx))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (exo_revoke_pending(ctx))
		mask |= EPOLLPRI;
	return mask;
}

/**
 * exo_ctx_cmd_info() - the calling context's counters (%EXO_IOC_CTX_INFO).
 * @ucmd: the command; every output field is set.
 *
 * Return: 0.
 */
int exo_ctx_cmd_info(struct exo_ucmd *ucmd)
{
	struct exo_ctx_info *info = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;

	mutex_lock(&ctx->lock);
	info->ctx_id = ctx->id;
	info->frame_quota = ctx->frames.quota;
	info->frames = ctx->frames.held;
	info->allocs = ctx->frames.allocs;
	info->caps = ctx->caps.nr;
	info->frees = ctx->frames.frees;
	info->bindings = ctx->bind.nr;
	info->refills = ctx->fault.refills;
	info->upcalls = ctx->fault.upcalls;
	info->critical = ctx->frames.critical;
	info->repo_used = ctx->repo.used;
	info->granted = ctx->caps.granted;
	spin_lock(&ctx->ev.lock);
	info->revoke_requested = ctx->rv.requested;
	info->revoke_returned = ctx->rv.returned;
	info->repossessed = ctx->rv.repossessed;
	info->owed = ctx->rv.owed;
	spin_unlock(&ctx->ev.lock);
	mutex_unlock(&ctx->lock);
	return 0;
}

static ssize_t contexts_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&exo_nr_contexts));
}
static DEVICE_ATTR_RO(contexts);

static struct attribute *exo_ctx_attrs[] = {
	&dev_attr_contexts.attr,
	NULL,
};

/* /sys/class/misc/exo/contexts. */
const struct attribute_group exo_ctx_attr_group = {
	.attrs = exo_ctx_attrs,
};
