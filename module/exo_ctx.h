/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A context: one library OS, one open file of /dev/exo (exo_ctx.c). Its
 * state is one part per room, each declared in that room's header with
 * the lock that guards it.
 */
#ifndef _EXO_CTX_H
#define _EXO_CTX_H

#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>

#include "exo_bind.h"
#include "exo_entry.h"
#include "exo_cap.h"
#include "exo_cpu.h"
#include "exo_events.h"
#include "exo_fault.h"
#include "exo_frame.h"
#include "exo_net.h"
#include "exo_repo.h"
#include "exo_revoke.h"

struct attribute_group;
struct exo_ucmd;
struct file;
struct inode;
struct mem_cgroup;
struct mm_struct;
struct pid;
struct vm_area_struct;

/**
 * struct exo_ctx - one library OS: an open file of /dev/exo.
 * @id: context id, unique while the module is loaded (0 is none).
 * @mm: the opener's address space; other address spaces get -EIO. NULL
 *	for a context a KUnit suite made.
 * @pid: the opener's process (thread group), or NULL for a context a
 *	KUnit suite made; shown in debugfs (exo_debugfs.c).
 * @comm: the opener's command name at open; shown in debugfs.
 * @uid: the opener's effective uid; grants stay within one user.
 * @memcg: the opener's memory cgroup, charged for saved contents.
 * @lock: the context lock. It serialises what changes the context's
 *	capabilities, frames, bindings, fault mode, repossession vector and
 *	rings; the parts below say which of their fields it guards. Taken
 *	after mmap_lock (Documentation/design.rst has the whole order).
 * @caps: capabilities and the frame table (exo_cap.h).
 * @frames: frames held (exo_frame.h).
 * @bind: bindings of virtual pages to frames (exo_bind.h).
 * @fault: how faults reach the library OS (exo_fault.h).
 * @ev: the event ring and its wake-ups (exo_events.h).
 * @repo: the repossession vector and saved contents (exo_repo.h).
 * @rv: revocation requests, deadline and abort (exo_revoke.h).
 * @net: claims, attachments and rings (exo_net.h).
 * @call: entry points and call capabilities (exo_entry.h).
 * @cpu: registered threads and the thread table (exo_cpu.h).
 */
struct exo_ctx {
	u32 id;
	struct mm_struct *mm;
	struct pid *pid;
	char comm[TASK_COMM_LEN];
	kuid_t uid;
	struct mem_cgroup *memcg;
	struct mutex lock;	/* see above */
	struct exo_cap_ctx caps;
	struct exo_frame_ctx frames;
	struct exo_bind_ctx bind;
	struct exo_fault_ctx fault;
	struct exo_events_ctx ev;
	struct exo_repo_ctx repo;
	struct exo_revoke_ctx rv;
	struct exo_net_ctx net;
	struct exo_call_ctx call;
	struct exo_cpu_ctx cpu;
};

/* Live contexts by id: the targets of requests and grants. */
extern struct xarray exo_ctxs;
extern const struct attribute_group exo_ctx_attr_group;

/*
 * The registry's lock keeps every context found under it alive (a dying
 * context leaves the registry first): a spinlock, so revocation can post
 * to contexts from the shrinker.
 */
static inline void exo_ctxs_lock(void)
{
	xa_lock(&exo_ctxs);
}

static inline void exo_ctxs_unlock(void)
{
	xa_unlock(&exo_ctxs);
}

#define exo_ctx_for_each(id, c)	xa_for_each(&exo_ctxs, id, c)

/* The live context with id @id, or NULL; see exo_ctxs_lock(). */
static inline struct exo_ctx *exo_ctx_find(u32 id)
{
	return xa_load(&exo_ctxs, id);
}

struct exo_ctx *exo_ctx_create(struct mm_struct *mm);
void exo_ctx_destroy(struct exo_ctx *ctx);
int exo_ctx_fop_open(struct inode *inode, struct file *file);
int exo_ctx_fop_release(struct inode *inode, struct file *file);
int exo_ctx_fop_mmap(struct file *file, struct vm_area_struct *vma);
__poll_t exo_ctx_fop_poll(struct file *file, struct poll_table_struct *wait);

int exo_ctx_cmd_info(struct exo_ucmd *ucmd);

#endif /* _EXO_CTX_H */
