// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl dispatch: size-first extensible structs, as iommufd does. One row
 * of exo_ops[] per command names its struct, the minimum size it accepts
 * (the uapi's EXO_<STRUCT>_SIZE_VER1, checked at build time to end at the
 * struct's last version-1 field), the flags it accepts, whether it has
 * output fields, its handler (exo_<room>_cmd_<verb>() in the room that
 * owns it) and the handler's undo. copy_struct_from_user() zero-extends a shorter
 * struct and refuses unknown non-zero trailing bytes with -E2BIG.
 */
#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>

#include "exo.h"
#include "exo_call.h"
#include "exo_entry.h"
#include "exo_colour.h"
#include "exo_cpu.h"
#include "exo_ctx.h"
#include "exo_flow.h"
#include "exo_grant.h"
#include "exo_ioctl.h"
#include "exo_netring.h"
#include "exo_pool.h"
#include "exo_stlb.h"
#include "exo_vm.h"

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
	struct exo_entry_register entry_register;
	struct exo_entry_unregister entry_unregister;
	struct exo_call_grant call_grant;
	struct exo_call_revoke call_revoke;
	struct exo_thread_register thread_register;
	struct exo_thread_unregister thread_unregister;
};

/**
 * struct exo_ioctl_op - one command of /dev/exo.
 * @size: sizeof the module's struct.
 * @min_size: the smallest struct accepted.
 * @flags: the flags the command accepts.
 * @copy_out: the struct has output fields, copied back on success.
 * @execute: the handler.
 * @undo: undoes a successful @execute whose result could not be copied
 *	out, or NULL; a command with output and no undo gets the caller's
 *	own bytes written back before it runs, so that it cannot fail after.
 */
struct exo_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	u32 flags;
	bool copy_out;
	int (*execute)(struct exo_ucmd *ucmd);
	void (*undo)(struct exo_ucmd *ucmd);
};

#define EXO_IN		false
#define EXO_OUT		true

#define EXO_OP(_cmd, _struct, _min, _flags, _out, _exec, _undo)		\
	[EXO_CMD_##_cmd - EXO_CMD_BASE] = {				\
		.size = sizeof(struct _struct),				\
		.min_size = (_min),					\
		.flags = (_flags),					\
		.copy_out = (_out),					\
		.execute = (_exec),					\
		.undo = (_undo),					\
	}

/* Each minimum the uapi publishes ends at the last field of version 1. */
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
EXO_VER1(exo_entry_register, __reserved, EXO_ENTRY_REGISTER_SIZE_VER1);
EXO_VER1(exo_entry_unregister, __reserved, EXO_ENTRY_UNREGISTER_SIZE_VER1);
EXO_VER1(exo_call_grant, cap, EXO_CALL_GRANT_SIZE_VER1);
EXO_VER1(exo_call_revoke, cap, EXO_CALL_REVOKE_SIZE_VER1);
EXO_VER1(exo_thread_register, table_size, EXO_THREAD_REGISTER_SIZE_VER1);
EXO_VER1(exo_thread_unregister, flags, EXO_THREAD_UNREGISTER_SIZE_VER1);

static int exo_ioctl_cmd_api(struct exo_ucmd *ucmd);

static const struct exo_ioctl_op exo_ops[] = {
	EXO_OP(API, exo_api, EXO_API_SIZE_VER1, 0, EXO_OUT,
	       exo_ioctl_cmd_api, NULL),
	EXO_OP(CTX_INFO, exo_ctx_info, EXO_CTX_INFO_SIZE_VER1, 0, EXO_OUT,
	       exo_ctx_cmd_info, NULL),
	EXO_OP(FRAME_ALLOC, exo_frame_alloc, EXO_FRAME_ALLOC_SIZE_VER1, 0,
	       EXO_OUT, exo_frame_cmd_alloc, exo_frame_cmd_alloc_undo),
	EXO_OP(FRAME_FREE, exo_frame_free, EXO_FRAME_FREE_SIZE_VER1, 0, EXO_IN,
	       exo_frame_cmd_free, NULL),
	EXO_OP(MAP, exo_map, EXO_MAP_SIZE_VER1, 0, EXO_IN,
	       exo_vm_cmd_map, NULL),
	EXO_OP(UNMAP, exo_vm_ranges, EXO_VM_RANGES_SIZE_VER1, 0, EXO_IN,
	       exo_vm_cmd_unmap, NULL),
	EXO_OP(PROTECT, exo_vm_ranges, EXO_VM_RANGES_SIZE_VER1,
	       EXO_PROTECT_POPULATE, EXO_IN, exo_vm_cmd_protect, NULL),
	EXO_OP(QUERY, exo_query, EXO_QUERY_SIZE_VER1,
	       EXO_QUERY_CLEAR_ACCESSED, EXO_IN, exo_vm_cmd_query, NULL),
	EXO_OP(DIRTY, exo_dirty, EXO_DIRTY_SIZE_VER1, 0, EXO_OUT,
	       exo_vm_cmd_dirty, exo_vm_cmd_dirty_undo),
	EXO_OP(STLB, exo_stlb, EXO_STLB_SIZE_VER1, 0, EXO_IN,
	       exo_stlb_cmd_set, NULL),
	EXO_OP(FAULT_MODE, exo_fault_mode, EXO_FAULT_MODE_SIZE_VER1, 0,
	       EXO_OUT, exo_fault_cmd_mode, exo_fault_cmd_mode_undo),
	EXO_OP(FAULT_WAKE, exo_fault_wake, EXO_FAULT_WAKE_SIZE_VER1,
	       EXO_WAKE_SIGBUS, EXO_IN, exo_fault_cmd_wake, NULL),
	EXO_OP(REVOKE, exo_revoke, EXO_REVOKE_SIZE_VER1, EXO_REVOKE_ABORT,
	       EXO_OUT, exo_revoke_cmd_request, NULL),
	EXO_OP(REVOKE_NOTIFY, exo_revoke_notify, EXO_REVOKE_NOTIFY_SIZE_VER1,
	       0, EXO_IN, exo_events_cmd_notify, NULL),
	EXO_OP(FRAME_CRITICAL, exo_frame_critical, EXO_FRAME_CRITICAL_SIZE_VER1,
	       EXO_CRITICAL_CLEAR, EXO_OUT, exo_frame_cmd_critical, NULL),
	EXO_OP(FRAME_GRANT, exo_frame_grant, EXO_FRAME_GRANT_SIZE_VER1, 0,
	       EXO_OUT, exo_grant_cmd_give, exo_grant_cmd_give_undo),
	EXO_OP(RECOVER, exo_recover, EXO_RECOVER_SIZE_VER1,
	       EXO_RECOVER_TO_FRAME | EXO_RECOVER_TO_USER | EXO_RECOVER_KEEP,
	       EXO_IN, exo_repo_cmd_recover, NULL),
	EXO_OP(NET_ATTACH, exo_net_attach, EXO_NET_ATTACH_SIZE_VER1,
	       EXO_NET_DETACH, EXO_IN, exo_net_cmd_attach, NULL),
	EXO_OP(NET_CLAIM, exo_net_claim, EXO_NET_CLAIM_SIZE_VER1, 0, EXO_OUT,
	       exo_net_cmd_claim, exo_net_cmd_claim_undo),
	EXO_OP(NET_UNCLAIM, exo_net_unclaim, EXO_NET_UNCLAIM_SIZE_VER1, 0,
	       EXO_IN, exo_flow_cmd_unclaim, NULL),
	EXO_OP(NET_HANDLER, exo_net_handler, EXO_NET_HANDLER_SIZE_VER1, 0,
	       EXO_IN, exo_flow_cmd_handler, NULL),
	EXO_OP(NET_RING, exo_net_ring, EXO_NET_RING_SIZE_VER1, 0, EXO_OUT,
	       exo_netring_cmd_register, exo_netring_cmd_register_undo),
	EXO_OP(NET_TX, exo_net_tx, EXO_NET_TX_SIZE_VER1, 0, EXO_OUT,
	       exo_net_cmd_tx, NULL),
	EXO_OP(NET_STATS, exo_net_stats, EXO_NET_STATS_SIZE_VER1, 0, EXO_OUT,
	       exo_flow_cmd_stats, NULL),
	EXO_OP(ENTRY_REGISTER, exo_entry_register, EXO_ENTRY_REGISTER_SIZE_VER1,
	       0, EXO_OUT, exo_entry_cmd_register, exo_entry_cmd_register_undo),
	EXO_OP(ENTRY_UNREGISTER, exo_entry_unregister,
	       EXO_ENTRY_UNREGISTER_SIZE_VER1, 0, EXO_IN,
	       exo_entry_cmd_unregister, NULL),
	EXO_OP(CALL_GRANT, exo_call_grant, EXO_CALL_GRANT_SIZE_VER1, 0, EXO_OUT,
	       exo_entry_cmd_grant, exo_entry_cmd_grant_undo),
	EXO_OP(CALL_REVOKE, exo_call_revoke, EXO_CALL_REVOKE_SIZE_VER1, 0,
	       EXO_IN, exo_entry_cmd_revoke, NULL),
	EXO_OP(THREAD_REGISTER, exo_thread_register,
	       EXO_THREAD_REGISTER_SIZE_VER1, EXO_THREAD_UPCALL, EXO_OUT,
	       exo_cpu_cmd_register, exo_cpu_cmd_register_undo),
	EXO_OP(THREAD_UNREGISTER, exo_thread_unregister,
	       EXO_THREAD_UNREGISTER_SIZE_VER1, 0, EXO_IN,
	       exo_cpu_cmd_unregister, NULL),
};

static_assert(ARRAY_SIZE(exo_ops) == EXO_CMD_LAST - EXO_CMD_BASE);

/* The commands the table implements: bit (cmd - EXO_CMD_BASE). */
static u64 exo_ioctl_supported(void)
{
	u64 bits = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(exo_ops); i++)
		if (exo_ops[i].execute)
			bits |= BIT_ULL(i);
	return bits;
}

/*
 * The handshake (%EXO_IOC_API): what this module speaks, derived from the
 * table and the rooms' parameters. Return: 0 or -EINVAL.
 */
static int exo_ioctl_cmd_api(struct exo_ucmd *ucmd)
{
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_api *a = ucmd->cmd;

	if (a->__reserved || a->__reserved2)
		return -EINVAL;
	if (a->api != EXO_API_VERSION)
		return -EINVAL;

	a->features = EXO_API_FEATURES;
	if (!IS_ENABLED(CONFIG_X86_64))
		a->features &= ~(u64)(EXO_FEAT_UPCALL | EXO_FEAT_CALL);
	if (!exo_cpu_supported())
		a->features &= ~(u64)EXO_FEAT_THREADS;
	a->ioctls = exo_ioctl_supported();
	a->page_size = PAGE_SIZE;
	a->nr_colours = exo_nr_colours;
	a->max_order = exo_frame_max_order();
	a->frame_quota = ctx->frames.quota;
	a->ctx_id = ctx->id;
	a->ftable_entries = ctx->caps.nr_slots;
	a->ftable_size = ctx->caps.ftable.size;
	a->pool_pfn = exo_pool.base_pfn;
	a->pool_frames = exo_pool.nr;
	a->max_batch = EXO_MAX_BATCH;
	a->stlb_max = READ_ONCE(exo_stlb_max);
	a->events_size = ctx->ev.ring.size;
	a->repo_size = ctx->repo.vec.size;
	a->event_entries = ctx->ev.ring.nr;
	a->repo_entries = ctx->repo.vec.nr;
	a->critical_max = READ_ONCE(exo_critical_max);
	a->revoke_timeout_ms = READ_ONCE(exo_revoke_timeout_ms);
	return 0;
}

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
	struct exo_ucmd ucmd = { .ctx = ctx, .cmd = kbuf };
	struct exo_ioctl_hdr *hdr = kbuf;

	if (!op)
		return -ENOTTY;
	if (hdr->size < op->min_size)
		return -EINVAL;
	if (hdr->flags & ~op->flags)
		return -EOPNOTSUPP;
	return op->execute(&ucmd);
}

/**
 * exo_ioctl() - dispatch one ioctl of /dev/exo.
 * @file: the context's file.
 * @cmd: an EXO_IOC_* command.
 * @arg: user pointer to the command's struct.
 *
 * Return: 0 or a negative errno from the table in Documentation/index.rst.
 */
long exo_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct exo_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct exo_ucmd ucmd = { .ctx = ctx };
	const struct exo_ioctl_op *op;
	union exo_ioctl_buf buf;
	u32 size;
	int ret;

	/* The register commands: no struct, nothing copied. */
	if (cmd == EXO_IOC_CALL || cmd == EXO_IOC_REPLY ||
	    cmd == EXO_IOC_SEND || cmd == EXO_IOC_CALL_FRAME) {
		if (ctx->mm != current->mm)
			return -EIO;
		return exo_call_ioctl(ctx, cmd, arg);
	}
	if (cmd == EXO_IOC_YIELD) {
		if (ctx->mm != current->mm)
			return -EIO;
		return exo_cpu_yield(ctx, arg);
	}
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
		if (op->undo) {
			ucmd.cmd = &buf;
			op->undo(&ucmd);
		}
		return -EFAULT;
	}
	return 0;
}
