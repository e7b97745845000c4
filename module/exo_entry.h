/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Protected control transfer: entry points a context serves and the call
 * capabilities other contexts hold for them (exo_entry.c), and the calls
 * made through them (exo_call.c). Entries and call capabilities change
 * under exo_abort_lock, as frame grants do (exo_grant.h): it keeps a
 * context found in the registry alive. Calls find them under RCU.
 */
#ifndef _EXO_ENTRY_H
#define _EXO_ENTRY_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include "exo.h"

struct exo_ctx;
struct exo_ucmd;

/**
 * struct exo_call_ctx - a context's entries and call capabilities.
 * @entries: entry id -> &struct exo_entry this context serves. Changed
 *	under exo_abort_lock; looked up under RCU.
 * @caps: call capability index -> &struct exo_call_cap this context
 *	holds. Changed under exo_abort_lock; looked up under RCU.
 * @nr_entries: entries in @entries. Under exo_abort_lock.
 * @next_entry: where the search for the next entry id starts. Under
 *	exo_abort_lock.
 * @gen: the generation of the next call capability. Under exo_abort_lock.
 */
struct exo_call_ctx {
	struct xarray entries;
	struct xarray caps;
	u32 nr_entries;
	u32 next_entry;
	u32 gen;
};

/**
 * struct exo_call - one call in flight, on its caller's stack, or one
 *	send, allocated (charged to the sender) and freed when settled.
 * @w: the message, then the reply.
 * @caller: the calling context's id, given to the server.
 * @status: 0 while in flight, 1 once replied, or a negative errno.
 * @task: the calling thread; NULL for a send, which nobody waits for.
 * @cap: the call capability it came through (compared, never followed).
 * @frame: the server's capability for a frame granted with the call, or 0.
 * @srv: the server thread serving it, or NULL while it waits in @node.
 * @node: link in &exo_entry.pending.
 *
 * Every field but @w's message is under the entry's lock once the call is
 * made.
 */
struct exo_call {
	u64 w[EXO_CALL_WORDS];
	u32 caller;
	int status;
	struct task_struct *task;
	struct exo_call_cap *cap;
	u64 frame;
	struct exo_server *srv;
	struct list_head node;
};

/**
 * struct exo_server - a thread of the serving context at one entry.
 * @task: the thread (a reference).
 * @call: the call it serves, or was handed while it waited, or NULL.
 * @node: link in &exo_entry.servers.
 * @waiting: asleep in REPLY with no call.
 * @orphaned: the caller of the call it served left before the reply.
 *
 * Under the entry's lock; made on the thread's first REPLY at the entry,
 * freed with the entry.
 */
struct exo_server {
	struct task_struct *task;
	struct exo_call *call;
	struct list_head node;
	bool waiting;
	bool orphaned;
};

/**
 * struct exo_entry - an entry point of a serving context.
 * @ref: the serving context's registry holds one, each call capability
 *	one, each call or REPLY in progress one.
 * @id: its id in the serving context's &exo_call_ctx.entries.
 * @ctx_id: the serving context's id (for %EXO_IOC_YIELD).
 * @pc: where a server thread resumes for a call.
 * @grants: the call capabilities for it, by their grant_node. Under
 *	exo_abort_lock.
 * @lock: guards the fields below and the calls and servers they reach.
 * @dead: unregistered, or its context closed: calls fail.
 * @nr_servers: entries of @servers.
 * @nr_sends: sends not yet answered (at most %EXO_CALL_MAX_SENDS).
 * @servers: its &struct exo_server, one per server thread.
 * @pending: calls no server has taken yet, oldest first.
 * @rcu: freed after a grace period: calls look entries up under RCU.
 */
struct exo_entry {
	struct kref ref;
	u32 id;
	u32 ctx_id;
	unsigned long pc;
	struct list_head grants;
	spinlock_t lock;	/* see above */
	bool dead;
	unsigned int nr_servers;
	unsigned int nr_sends;
	struct list_head servers;
	struct list_head pending;
	struct rcu_head rcu;
};

/**
 * struct exo_call_cap - a call capability: one context may call one entry.
 * @index: its index in the holder's &exo_call_ctx.caps.
 * @gen: its generation; the capability is gen << 32 | index.
 * @entry: the entry (a reference).
 * @holder: the context holding it.
 * @grant_node: link in the entry's @grants.
 * @revoked: taken back; set under the entry's lock, where a call that
 *	found the capability before checks it again.
 * @rcu: freed after a grace period: calls look capabilities up under RCU.
 */
struct exo_call_cap {
	u32 index;
	u32 gen;
	struct exo_entry *entry;
	struct exo_ctx *holder;
	struct list_head grant_node;
	bool revoked;
	struct rcu_head rcu;
};

/*
 * Settle @c with @status and wake its caller, or free it if it is a send.
 * @e's lock held; @c is not touched after: its caller may return as soon
 * as it sees @status.
 */
static inline void exo_call_settle(struct exo_entry *e, struct exo_call *c,
				   int status)
{
	struct task_struct *t = c->task;

	if (!t) {
		e->nr_sends--;
		kfree(c);
		return;
	}
	get_task_struct(t);
	/* Pairs with exo_call_wait(): the reply words before the status. */
	smp_store_release(&c->status, status);
	wake_up_process(t);
	put_task_struct(t);
}

void exo_entry_put(struct exo_entry *e);
struct exo_entry *exo_entry_get(struct exo_ctx *ctx, u32 id);
struct exo_entry *exo_entry_by_cap(struct exo_ctx *ctx, u64 cap,
				   struct exo_call_cap **ccp);

int exo_call_ctx_init(struct exo_ctx *ctx);
void exo_call_ctx_fini(struct exo_ctx *ctx);

int exo_entry_cmd_register(struct exo_ucmd *ucmd);
void exo_entry_cmd_register_undo(struct exo_ucmd *ucmd);
int exo_entry_cmd_unregister(struct exo_ucmd *ucmd);
int exo_entry_cmd_grant(struct exo_ucmd *ucmd);
void exo_entry_cmd_grant_undo(struct exo_ucmd *ucmd);
int exo_entry_cmd_revoke(struct exo_ucmd *ucmd);

#endif /* _EXO_ENTRY_H */
