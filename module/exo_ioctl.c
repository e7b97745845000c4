// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl dispatch: size-first extensible structs, as iommufd does. Each
 * command names its struct and the minimum size it accepts (the end of the
 * last field of version 1); copy_struct_from_user() zero-extends a shorter
 * struct and refuses unknown non-zero trailing bytes with -E2BIG.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>

#include "exo.h"

/* Every exo ioctl struct starts with these two fields. */
struct exo_ioctl_hdr {
	u32 size;
	u32 flags;
};

union exo_ioctl_buf {
	struct exo_ioctl_hdr hdr;
	struct exo_api api;
	struct exo_ctx_info ctx_info;
	struct exo_frame_alloc frame_alloc;
	struct exo_frame_free frame_free;
	struct exo_map map;
	struct exo_vm_ranges ranges;
	struct exo_query query;
	struct exo_dirty dirty;
	struct exo_stlb stlb;
	struct exo_fault_mode fault_mode;
	struct exo_fault_wake fault_wake;
	struct exo_revoke revoke;
	struct exo_revoke_notify notify;
	struct exo_frame_critical critical;
	struct exo_frame_grant grant;
	struct exo_recover recover;
	struct exo_net_attach net_attach;
	struct exo_net_claim net_claim;
	struct exo_net_unclaim net_unclaim;
	struct exo_net_handler net_handler;
	struct exo_net_ring net_ring;
	struct exo_net_tx net_tx;
	struct exo_net_stats net_stats;
};

struct exo_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	u32 flags;		/* flags the command accepts */
	bool copy_out;		/* the struct has output fields */
	int (*execute)(struct exo_ctx *ctx, union exo_ioctl_buf *buf);
	/* Undo a successful execute whose result could not be copied out. */
	void (*undo)(struct exo_ctx *ctx, union exo_ioctl_buf *buf);
};

static int exo_ioc_api(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	struct exo_api *a = &buf->api;

	if (a->__reserved || a->__reserved2)
		return -EINVAL;
	if (a->api != EXO_API_VERSION)
		return -EINVAL;

	a->features = EXO_FEAT_FRAMES | EXO_FEAT_FRAME_PFN |
		      EXO_FEAT_FRAME_COLOUR | EXO_FEAT_FRAME_CONTIG |
		      EXO_FEAT_FTABLE | EXO_FEAT_MEMCG | EXO_FEAT_VM |
		      EXO_FEAT_STLB | EXO_FEAT_FAULT_EVENTS |
		      EXO_FEAT_REVOKE | EXO_FEAT_GRANT | EXO_FEAT_NET |
		      (IS_ENABLED(CONFIG_X86_64) ? EXO_FEAT_UPCALL : 0);
	a->ioctls = GENMASK_ULL(EXO_CMD_LAST - EXO_CMD_BASE - 1, 0);
	a->page_size = PAGE_SIZE;
	a->nr_colours = exo_nr_colours;
	a->max_order = exo_effective_max_order();
	a->frame_quota = ctx->frame_quota;
	a->ctx_id = ctx->id;
	a->ftable_entries = ctx->nr_slots;
	a->ftable_size = ctx->ftable_size;
	a->pool_pfn = exo_pool.base_pfn;
	a->pool_frames = exo_pool.nr;
	a->max_batch = EXO_MAX_BATCH;
	a->stlb_max = READ_ONCE(exo_stlb_max);
	a->events_size = ctx->events_size;
	a->repo_size = ctx->repo_size;
	a->event_entries = ctx->nr_events;
	a->repo_entries = ctx->nr_repo;
	a->critical_max = READ_ONCE(exo_critical_max);
	a->revoke_timeout_ms = READ_ONCE(exo_revoke_timeout_ms);
	return 0;
}

static int exo_ioc_ctx_info(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	struct exo_ctx_info *info = &buf->ctx_info;

	mutex_lock(&ctx->lock);
	info->ctx_id = ctx->id;
	info->frame_quota = ctx->frame_quota;
	info->frames = ctx->frames;
	info->allocs = ctx->allocs;
	info->caps = ctx->nr_caps;
	info->frees = ctx->frees;
	info->bindings = ctx->bindings;
	info->refills = ctx->refills;
	info->upcalls = ctx->upcalls;
	info->critical = ctx->critical;
	info->repo_used = ctx->repo_used;
	info->granted = ctx->granted;
	spin_lock(&ctx->revoke_lock);
	info->revoke_requested = ctx->revoke_requested;
	info->revoke_returned = ctx->revoke_returned;
	info->repossessed = ctx->repossessed;
	info->owed = ctx->owed;
	spin_unlock(&ctx->revoke_lock);
	mutex_unlock(&ctx->lock);
	return 0;
}

static int exo_ioc_frame_alloc(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_frame_alloc(ctx, &buf->frame_alloc);
}

static void exo_undo_frame_alloc(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	exo_frame_unalloc(ctx, buf->frame_alloc.cap);
}

static int exo_ioc_frame_free(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_frame_free(ctx, buf->frame_free.cap);
}

static int exo_ioc_map(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_vm_map(ctx, &buf->map);
}

static int exo_ioc_unmap(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_vm_unmap_protect(ctx, &buf->ranges, false);
}

static int exo_ioc_protect(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_vm_unmap_protect(ctx, &buf->ranges, true);
}

static int exo_ioc_query(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_vm_query(ctx, &buf->query);
}

static int exo_ioc_dirty(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_vm_dirty(ctx, &buf->dirty);
}

static void exo_undo_dirty(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	exo_vm_dirty_undo(ctx, &buf->dirty);
}

static int exo_ioc_stlb(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_stlb_set(ctx, &buf->stlb);
}

static int exo_ioc_fault_mode(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_fault_mode_set(ctx, &buf->fault_mode);
}

static void exo_undo_fault_mode(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	exo_fault_mode_undo(ctx, &buf->fault_mode);
}

static int exo_ioc_fault_wake(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_fault_wake_ioctl(ctx, &buf->fault_wake);
}

static int exo_ioc_revoke(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_revoke_ioctl(ctx, &buf->revoke);
}

static int exo_ioc_notify(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_revoke_notify(ctx, &buf->notify);
}

static int exo_ioc_critical(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_frame_critical(ctx, &buf->critical);
}

static int exo_ioc_grant(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_frame_grant(ctx, &buf->grant);
}

static void exo_undo_grant(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	exo_grant_undo(ctx, &buf->grant);
}

static int exo_ioc_recover(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_recover(ctx, &buf->recover);
}

static int exo_ioc_net_attach(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_net_attach(ctx, &buf->net_attach);
}

static int exo_ioc_net_claim(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_net_claim(ctx, &buf->net_claim);
}

static void exo_undo_net_claim(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	exo_net_claim_undo(ctx, &buf->net_claim);
}

static int exo_ioc_net_unclaim(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_net_unclaim(ctx, &buf->net_unclaim);
}

static int exo_ioc_net_handler(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_net_handler(ctx, &buf->net_handler);
}

static int exo_ioc_net_ring(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_net_ring(ctx, &buf->net_ring);
}

static void exo_undo_net_ring(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	exo_net_ring_undo(ctx, &buf->net_ring);
}

static int exo_ioc_net_tx(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_net_tx(ctx, &buf->net_tx);
}

static int exo_ioc_net_stats(struct exo_ctx *ctx, union exo_ioctl_buf *buf)
{
	return exo_net_stats(ctx, &buf->net_stats);
}

/* A command whose struct is only read (nothing is copied back). */
#define EXO_OP_IN(_cmd, _fn, _struct, _last, _flags)			\
	[(_cmd) - EXO_CMD_BASE] = {					\
		.size = sizeof(_struct),				\
		.min_size = offsetofend(_struct, _last),		\
		.flags = _flags,					\
		.execute = _fn,						\
	}

#define EXO_OP(_cmd, _fn, _struct, _last)				\
	[(_cmd) - EXO_CMD_BASE] = {					\
		.size = sizeof(_struct),				\
		.min_size = offsetofend(_struct, _last),		\
		.execute = _fn,						\
		.copy_out = true,					\
	}

static const struct exo_ioctl_op exo_ops[] = {
	EXO_OP(EXO_CMD_API, exo_ioc_api, struct exo_api, ftable_size),
	EXO_OP(EXO_CMD_CTX_INFO, exo_ioc_ctx_info, struct exo_ctx_info, frees),
	[EXO_CMD_FRAME_ALLOC - EXO_CMD_BASE] = {
		.size = sizeof(struct exo_frame_alloc),
		.min_size = offsetofend(struct exo_frame_alloc, cap),
		.execute = exo_ioc_frame_alloc,
		.undo = exo_undo_frame_alloc,
		.copy_out = true,
	},
	[EXO_CMD_FRAME_FREE - EXO_CMD_BASE] = {
		.size = sizeof(struct exo_frame_free),
		.min_size = offsetofend(struct exo_frame_free, cap),
		.execute = exo_ioc_frame_free,
	},
	EXO_OP_IN(EXO_CMD_MAP, exo_ioc_map, struct exo_map, entries, 0),
	EXO_OP_IN(EXO_CMD_UNMAP, exo_ioc_unmap, struct exo_vm_ranges, ranges,
		  0),
	EXO_OP_IN(EXO_CMD_PROTECT, exo_ioc_protect, struct exo_vm_ranges,
		  ranges, EXO_PROTECT_POPULATE),
	EXO_OP_IN(EXO_CMD_QUERY, exo_ioc_query, struct exo_query, pages,
		  EXO_QUERY_CLEAR_ACCESSED),
	[EXO_CMD_DIRTY - EXO_CMD_BASE] = {
		.size = sizeof(struct exo_dirty),
		.min_size = offsetofend(struct exo_dirty, bitmap),
		.execute = exo_ioc_dirty,
		.undo = exo_undo_dirty,
		.copy_out = true,
	},
	EXO_OP_IN(EXO_CMD_STLB, exo_ioc_stlb, struct exo_stlb, __reserved, 0),
	[EXO_CMD_FAULT_MODE - EXO_CMD_BASE] = {
		.size = sizeof(struct exo_fault_mode),
		.min_size = offsetofend(struct exo_fault_mode, __reserved),
		.execute = exo_ioc_fault_mode,
		.undo = exo_undo_fault_mode,
		.copy_out = true,
	},
	EXO_OP_IN(EXO_CMD_FAULT_WAKE, exo_ioc_fault_wake, struct exo_fault_wake,
		  len, EXO_WAKE_SIGBUS),
	[EXO_CMD_REVOKE - EXO_CMD_BASE] = {
		.size = sizeof(struct exo_revoke),
		.min_size = offsetofend(struct exo_revoke, id),
		.flags = EXO_REVOKE_ABORT,
		.execute = exo_ioc_revoke,
		.copy_out = true,
	},
	EXO_OP_IN(EXO_CMD_REVOKE_NOTIFY, exo_ioc_notify,
		  struct exo_revoke_notify, signo, 0),
	[EXO_CMD_FRAME_CRITICAL - EXO_CMD_BASE] = {
		.size = sizeof(struct exo_frame_critical),
		.min_size = offsetofend(struct exo_frame_critical, __reserved),
		.flags = EXO_CRITICAL_CLEAR,
		.execute = exo_ioc_critical,
		.copy_out = true,
	},
	[EXO_CMD_FRAME_GRANT - EXO_CMD_BASE] = {
		.size = sizeof(struct exo_frame_grant),
		.min_size = offsetofend(struct exo_frame_grant, grant_cap),
		.execute = exo_ioc_grant,
		.undo = exo_undo_grant,
		.copy_out = true,
	},
	EXO_OP_IN(EXO_CMD_RECOVER, exo_ioc_recover, struct exo_recover, buf,
		  EXO_RECOVER_TO_FRAME | EXO_RECOVER_TO_USER | EXO_RECOVER_KEEP),
	EXO_OP_IN(EXO_CMD_NET_ATTACH, exo_ioc_net_attach,
		  struct exo_net_attach, __reserved, EXO_NET_DETACH),
	[EXO_CMD_NET_CLAIM - EXO_CMD_BASE] = {
		.size = sizeof(struct exo_net_claim),
		.min_size = offsetofend(struct exo_net_claim, id),
		.execute = exo_ioc_net_claim,
		.undo = exo_undo_net_claim,
		.copy_out = true,
	},
	EXO_OP_IN(EXO_CMD_NET_UNCLAIM, exo_ioc_net_unclaim,
		  struct exo_net_unclaim, __reserved, 0),
	EXO_OP_IN(EXO_CMD_NET_HANDLER, exo_ioc_net_handler,
		  struct exo_net_handler, prog_fd, 0),
	[EXO_CMD_NET_RING - EXO_CMD_BASE] = {
		.size = sizeof(struct exo_net_ring),
		.min_size = offsetofend(struct exo_net_ring, nr_slots),
		.execute = exo_ioc_net_ring,
		.undo = exo_undo_net_ring,
		.copy_out = true,
	},
	EXO_OP(EXO_CMD_NET_TX, exo_ioc_net_tx, struct exo_net_tx, rejected),
	EXO_OP(EXO_CMD_NET_STATS, exo_ioc_net_stats, struct exo_net_stats,
	       bad_verdict),
};

static_assert(ARRAY_SIZE(exo_ops) == EXO_CMD_LAST - EXO_CMD_BASE);

/* The minimum sizes the uapi publishes are the table's. */
#define EXO_VER1(_struct, _last, _size) \
	static_assert(offsetofend(struct _struct, _last) == (_size))
EXO_VER1(exo_api, ftable_size, EXO_API_SIZE_VER1);
EXO_VER1(exo_ctx_info, frees, EXO_CTX_INFO_SIZE_VER1);
EXO_VER1(exo_frame_alloc, cap, EXO_FRAME_ALLOC_SIZE_VER1);
EXO_VER1(exo_frame_free, cap, EXO_FRAME_FREE_SIZE_VER1);
EXO_VER1(exo_map, entries, EXO_MAP_SIZE_VER1);
EXO_VER1(exo_vm_ranges, ranges, EXO_VM_RANGES_SIZE_VER1);
EXO_VER1(exo_query, pages, EXO_QUERY_SIZE_VER1);
EXO_VER1(exo_dirty, bitmap, EXO_DIRTY_SIZE_VER1);
EXO_VER1(exo_stlb, __reserved, EXO_STLB_SIZE_VER1);
EXO_VER1(exo_fault_mode, __reserved, EXO_FAULT_MODE_SIZE_VER1);
EXO_VER1(exo_fault_wake, len, EXO_FAULT_WAKE_SIZE_VER1);
EXO_VER1(exo_revoke, id, EXO_REVOKE_SIZE_VER1);
EXO_VER1(exo_revoke_notify, signo, EXO_REVOKE_NOTIFY_SIZE_VER1);
EXO_VER1(exo_frame_critical, __reserved, EXO_FRAME_CRITICAL_SIZE_VER1);
EXO_VER1(exo_frame_grant, grant_cap, EXO_FRAME_GRANT_SIZE_VER1);
EXO_VER1(exo_recover, buf, EXO_RECOVER_SIZE_VER1);
EXO_VER1(exo_net_attach, __reserved, EXO_NET_ATTACH_SIZE_VER1);
EXO_VER1(exo_net_claim, id, EXO_NET_CLAIM_SIZE_VER1);
EXO_VER1(exo_net_unclaim, __reserved, EXO_NET_UNCLAIM_SIZE_VER1);
EXO_VER1(exo_net_handler, prog_fd, EXO_NET_HANDLER_SIZE_VER1);
EXO_VER1(exo_net_ring, nr_slots, EXO_NET_RING_SIZE_VER1);
EXO_VER1(exo_net_tx, rejected, EXO_NET_TX_SIZE_VER1);
EXO_VER1(exo_net_stats, bad_verdict, EXO_NET_STATS_SIZE_VER1);

static const struct exo_ioctl_op *exo_ioctl_op(unsigned int cmd)
{
	unsigned int nr = _IOC_NR(cmd);

	if (cmd != _IO(EXO_IOC_TYPE, nr) || nr < EXO_CMD_BASE ||
	    nr >= EXO_CMD_LAST)
		return NULL;
	return &exo_ops[nr - EXO_CMD_BASE];
}

/**
 * exo_ioctl_run() - validate and execute a command whose struct is in
 *	kernel memory.
 * @ctx: the context.
 * @cmd: an EXO_IOC_* command.
 * @kbuf: the command's struct, at its full kernel size, zero-extended past
 *	the size the caller gave (in its @size field). Results are written
 *	back here.
 *
 * The user-space entry copies in and out around this; KUnit calls it
 * directly.
 *
 * Return: 0, -ENOTTY, -EINVAL, -EOPNOTSUPP or the command's own errno.
 */
int exo_ioctl_run(struct exo_ctx *ctx, unsigned int cmd, void *kbuf)
{
	const struct exo_ioctl_op *op = exo_ioctl_op(cmd);
	struct exo_ioctl_hdr *hdr = kbuf;

	if (!op)
		return -ENOTTY;
	if (hdr->size < op->min_size)
		return -EINVAL;
	if (hdr->flags & ~op->flags)
		return -EOPNOTSUPP;
	return op->execute(ctx, kbuf);
}

/**
 * exo_ioctl() - dispatch one ioctl of /dev/exo.
 * @file: the context's file.
 * @cmd: an EXO_IOC_* command.
 * @arg: user pointer to the command's struct.
 *
 * Return: 0 or a negative errno from the table in Documentation/uapi.rst.
 */
long exo_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct exo_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct exo_ioctl_op *op;
	union exo_ioctl_buf buf;
	u32 size;
	int ret;

	op = exo_ioctl_op(cmd);
	if (!op)
		return -ENOTTY;
	if (ctx->mm != current->mm)
		return -EIO;

	if (get_user(size, (u32 __user *)uarg))
		return -EFAULT;
	if (size < op->min_size)
		return -EINVAL;
	ret = copy_struct_from_user(&buf, op->size, uarg, size);
	if (ret)
		return ret;
	/*
	 * A command that cannot be undone must not act on a struct it cannot
	 * answer in: write the caller's own bytes back first.
	 */
	if (op->copy_out && !op->undo &&
	    copy_to_user(uarg, &buf, min_t(u32, size, op->size)))
		return -EFAULT;

	ret = exo_ioctl_run(ctx, cmd, &buf);
	if (ret)
		return ret;

	if (op->copy_out &&
	    copy_to_user(uarg, &buf, min_t(u32, size, op->size))) {
		if (op->undo)
			op->undo(ctx, &buf);
		return -EFAULT;
	}
	return 0;
}
