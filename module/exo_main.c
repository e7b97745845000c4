// SPDX-License-Identifier: GPL-2.0
/*
 * exo: the exokernel architecture on a stock Linux kernel.
 *
 * /dev/exo is a misc device; each open file is one library-OS context. This
 * file holds the device, the context lifetime, module parameters and the
 * module-wide counters. The module only protects: what to allocate, map or
 * give back is decided by the library OS (libexo).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/device.h>
#include <linux/memcontrol.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "exo.h"

unsigned int exo_frame_quota = 8192;
module_param_named(frame_quota, exo_frame_quota, uint, 0644);
MODULE_PARM_DESC(frame_quota,
		 "Frames one context may hold; taken at open (default 8192)");

unsigned int exo_max_caps = 4096;
module_param_named(max_caps, exo_max_caps, uint, 0644);
MODULE_PARM_DESC(max_caps,
		 "Capabilities one context may hold, 1..1048576; taken at open (default 4096)");

unsigned int exo_max_order = MAX_ORDER - 1;
module_param_named(max_order, exo_max_order, uint, 0644);
MODULE_PARM_DESC(max_order,
		 "Largest order of a contiguous run (default and ceiling MAX_ORDER - 1)");

unsigned int exo_pool_order = 10;
module_param_named(pool_order, exo_pool_order, uint, 0444);
MODULE_PARM_DESC(pool_order,
		 "exo's own region for named frames: 2^pool_order frames taken at load, 0..MAX_ORDER - 1 (default 10)");

unsigned int exo_nr_colours;
module_param_named(nr_colours, exo_nr_colours, uint, 0444);
MODULE_PARM_DESC(nr_colours,
		 "Cache colours; 0 = derive from the last-level cache at load");

unsigned int exo_stlb_max = 1U << 18;
module_param_named(stlb_max, exo_stlb_max, uint, 0644);
MODULE_PARM_DESC(stlb_max,
		 "Most entries in a library OS page table registered for in-kernel refill; pinned (default 262144: 4 MiB)");

unsigned int exo_revoke_timeout_ms = 2000;
module_param_named(revoke_timeout_ms, exo_revoke_timeout_ms, uint, 0644);
MODULE_PARM_DESC(revoke_timeout_ms,
		 "Time a revocation request gives before the abort, in ms (default 2000)");

unsigned int exo_urgent_pct = 50;
module_param_named(urgent_pct, exo_urgent_pct, uint, 0644);
MODULE_PARM_DESC(urgent_pct,
		 "The urgent warning goes out when this percentage of a request's time has passed (default 50)");

unsigned int exo_critical_max = 64;
module_param_named(critical_max, exo_critical_max, uint, 0644);
MODULE_PARM_DESC(critical_max,
		 "Frames one context may mark critical (default 64)");

unsigned int exo_max_frames;
module_param_named(max_frames, exo_max_frames, uint, 0644);
MODULE_PARM_DESC(max_frames,
		 "Frames all contexts together may hold; past it, contexts above their fair share are asked for frames (default 0: no limit)");

unsigned int exo_event_entries = 256;
module_param_named(event_entries, exo_event_entries, uint, 0644);
MODULE_PARM_DESC(event_entries,
		 "Entries in a context's event ring, 16..65536, rounded down to a power of two; taken at open (default 256)");

unsigned int exo_repo_entries = 1024;
module_param_named(repo_entries, exo_repo_entries, uint, 0644);
MODULE_PARM_DESC(repo_entries,
		 "Entries in a context's repossession vector, 1..65536; taken at open (default 1024)");

bool exo_shrink = true;
module_param_named(shrink, exo_shrink, bool, 0644);
MODULE_PARM_DESC(shrink,
		 "Ask contexts for frames under memory pressure (default Y)");

#define EXO_MAX_CAPS_LIMIT	BIT(20)

atomic_long_t exo_nr_frames = ATOMIC_LONG_INIT(0);
atomic_long_t exo_frames_allocated = ATOMIC_LONG_INIT(0);
atomic_long_t exo_frames_freed = ATOMIC_LONG_INIT(0);
atomic_long_t exo_nr_repossessed = ATOMIC_LONG_INIT(0);
atomic_long_t exo_nr_revoke_requests = ATOMIC_LONG_INIT(0);
atomic_long_t exo_nr_shrinker_requested = ATOMIC_LONG_INIT(0);
static atomic_long_t exo_nr_contexts = ATOMIC_LONG_INIT(0);

/* Context ids are never reused while the module is loaded (0 is none). */
static atomic_t exo_last_ctx_id = ATOMIC_INIT(0);

unsigned int exo_effective_max_order(void)
{
	return min_t(unsigned int, READ_ONCE(exo_max_order), MAX_ORDER - 1);
}

/**
 * exo_ctx_create() - make a context with no frames.
 * @mm: the address space it belongs to (pinned with mmgrab), or NULL.
 *
 * Return: the context, or ERR_PTR(-ENOMEM).
 */
struct exo_ctx *exo_ctx_create(struct mm_struct *mm)
{
	u32 nr_slots = clamp_t(u32, READ_ONCE(exo_max_caps), 1,
			       EXO_MAX_CAPS_LIMIT) + 1;
	struct exo_ctx *ctx;
	int ret;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return ERR_PTR(-ENOMEM);

	do {
		ctx->id = atomic_inc_return(&exo_last_ctx_id);
	} while (!ctx->id);
	mutex_init(&ctx->lock);
	xa_init_flags(&ctx->caps, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	xa_init_flags(&ctx->vmap, XA_FLAGS_ACCOUNT);
	spin_lock_init(&ctx->fault_lock);
	INIT_LIST_HEAD(&ctx->fault_waiters);
	init_waitqueue_head(&ctx->fault_readq);
	init_waitqueue_head(&ctx->fault_wakeq);
	exo_revoke_ctx_init(ctx);
	exo_net_ctx_init(ctx);
	ctx->frame_quota = READ_ONCE(exo_frame_quota);
	ctx->uid = current_euid();

	ret = exo_ftable_init(ctx, nr_slots);
	if (ret)
		goto err_free;
	ret = exo_events_init(ctx);
	if (ret)
		goto err_ftable;
	ret = exo_repo_init(ctx);
	if (ret)
		goto err_events;
	ret = exo_ctx_register(ctx);
	if (ret)
		goto err_repo;
	ctx->mm = mm;
	if (mm) {
		mmgrab(mm);
		ctx->memcg = get_mem_cgroup_from_mm(mm);
	}
	atomic_long_inc(&exo_nr_contexts);
	return ctx;

err_repo:
	exo_repo_destroy(ctx);
err_events:
	exo_events_destroy(ctx);
err_ftable:
	exo_ftable_destroy(ctx);
err_free:
	kfree(ctx);
	return ERR_PTR(ret);
}

/**
 * exo_ctx_destroy() - return every frame of a context and free it.
 * @ctx: a context no longer reachable from user space. Its exo VMAs hold
 *	its file, so they are gone and with them every binding.
 */
void exo_ctx_destroy(struct exo_ctx *ctx)
{
	/* First out of reach: no request, grant or deadline after this. */
	exo_ctx_unregister(ctx);
	/* Packets stop before the ring frames are unpinned and freed. */
	exo_net_ctx_release(ctx);
	WARN_ON_ONCE(!xa_empty(&ctx->vmap) || !list_empty(&ctx->fault_waiters));
	exo_stlb_free(ctx->stlb);
	xa_destroy(&ctx->vmap);
	xa_destroy(&ctx->repo_va);
	exo_frame_release_all(ctx);
	xa_destroy(&ctx->caps);
	exo_repo_destroy(ctx);
	exo_events_destroy(ctx);
	exo_ftable_destroy(ctx);
	mem_cgroup_put(ctx->memcg);
	if (ctx->mm)
		mmdrop(ctx->mm);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
	atomic_long_dec(&exo_nr_contexts);
}

static int exo_open(struct inode *inode, struct file *file)
{
	/* The context is bound to the opener's address space, as KVM is. */
	struct exo_ctx *ctx = exo_ctx_create(current->mm);

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	file->private_data = ctx;
	return 0;
}

/* Last reference gone (close, exit, kill, munmap of the frame table). */
static int exo_release(struct inode *inode, struct file *file)
{
	exo_ctx_destroy(file->private_data);
	return 0;
}

static int exo_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct exo_ctx *ctx = file->private_data;

	if (ctx->mm != current->mm)
		return -EIO;

	switch ((u64)vma->vm_pgoff << PAGE_SHIFT) {
	case EXO_MMAP_FTABLE:
		return exo_ftable_mmap(ctx, vma);
	case EXO_MMAP_VM:
		return exo_vm_mmap(ctx, vma);
	case EXO_MMAP_EVENTS:
		return exo_events_mmap(ctx, vma);
	case EXO_MMAP_REPO:
		return exo_repo_mmap(ctx, vma);
	default:
		return -EINVAL;
	}
}

static const struct file_operations exo_fops = {
	.owner = THIS_MODULE,
	.open = exo_open,
	.release = exo_release,
	.unlocked_ioctl = exo_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = exo_mmap,
	.read = exo_fault_read,
	.poll = exo_fault_poll,
	.llseek = noop_llseek,
};

static ssize_t contexts_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&exo_nr_contexts));
}
static DEVICE_ATTR_RO(contexts);

static ssize_t frames_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&exo_nr_frames));
}
static DEVICE_ATTR_RO(frames);

static ssize_t frames_allocated_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&exo_frames_allocated));
}
static DEVICE_ATTR_RO(frames_allocated);

static ssize_t frames_freed_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&exo_frames_freed));
}
static DEVICE_ATTR_RO(frames_freed);

static ssize_t pool_frames_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", exo_pool.nr);
}
static DEVICE_ATTR_RO(pool_frames);

static ssize_t pool_free_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", exo_pool_nr_free());
}
static DEVICE_ATTR_RO(pool_free);

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

/* "CTX_ID NR [TIMEOUT_MS]": the operator's revocation request. */
static ssize_t revoke_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t len)
{
	return exo_revoke_store(buf, len);
}
static DEVICE_ATTR_WO(revoke);

static struct attribute *exo_attrs[] = {
	&dev_attr_repossessed.attr,
	&dev_attr_revoke_requests.attr,
	&dev_attr_shrinker_requested.attr,
	&dev_attr_revoke.attr,
	&dev_attr_contexts.attr,
	&dev_attr_frames.attr,
	&dev_attr_frames_allocated.attr,
	&dev_attr_frames_freed.attr,
	&dev_attr_pool_frames.attr,
	&dev_attr_pool_free.attr,
	NULL,
};
ATTRIBUTE_GROUPS(exo);

static struct miscdevice exo_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "exo",
	.fops = &exo_fops,
	.groups = exo_groups,
	.mode = 0600,
};

static DEFINE_MUTEX(exo_core_lock);
static bool exo_core_ready;

/**
 * exo_core_init() - set up what every context relies on: the colour count
 *	and exo's own region. Idempotent.
 *
 * KUnit runs a module's suites before its init function (6.1 does so at
 * MODULE_STATE_COMING), so the suites call this too.
 *
 * Return: 0, or -EINVAL for a bad pool_order.
 */
int exo_core_init(void)
{
	int ret = 0;

	mutex_lock(&exo_core_lock);
	if (!exo_core_ready) {
		if (!exo_nr_colours)
			exo_nr_colours = exo_detect_colours();
		ret = exo_revoke_init();
		if (!ret) {
			ret = exo_pool_init();
			if (ret)
				exo_revoke_exit();
		}
		exo_core_ready = !ret;
	}
	mutex_unlock(&exo_core_lock);
	return ret;
}

static int __init exo_init(void)
{
	int ret;

	ret = exo_core_init();
	if (ret)
		return ret;
	ret = exo_net_init();
	if (ret)
		goto err_core;
	ret = misc_register(&exo_misc);
	if (ret) {
		exo_net_exit();
		goto err_core;
	}
	pr_info("loaded: api %d, %u colours, quota %u frames, region of %u frames at pfn %#lx\n",
		EXO_API_VERSION, exo_nr_colours, exo_frame_quota, exo_pool.nr,
		exo_pool.base_pfn);
	return 0;

err_core:
	exo_pool_exit();
	exo_revoke_exit();
	return ret;
}

static void __exit exo_exit(void)
{
	misc_deregister(&exo_misc);
	exo_net_exit();
	/* Every context has closed (each holds a module reference). */
	WARN(!exo_frames_idle(), "exo: %ld frames still held at unload\n",
	     atomic_long_read(&exo_nr_frames));
	exo_pool_exit();
	exo_revoke_exit();
	pr_info("unloaded: %ld frames allocated, %ld freed\n",
		atomic_long_read(&exo_frames_allocated),
		atomic_long_read(&exo_frames_freed));
}

module_init(exo_init);
module_exit(exo_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The exo developers");
MODULE_DESCRIPTION("exo: exokernel-style resource management for Linux");
