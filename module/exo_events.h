/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The event ring: what exo tells the library OS (revocation requests,
 * warnings, repossessions, grants taken back, interfaces gone), and how it
 * wakes it (exo_events.c).
 */
#ifndef _EXO_EVENTS_H
#define _EXO_EVENTS_H

#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "exo_table.h"

struct eventfd_ctx;
struct exo_ctx;
struct exo_ucmd;
struct pid;
struct vm_area_struct;

/**
 * struct exo_events_ctx - a context's event ring and wake-ups.
 * @lock: guards the ring, the notify registration below, and the
 *	revocation state of &struct exo_revoke_ctx (marked "ev.lock"
 *	there), which the ring's header shows. A spinlock: the shrinker,
 *	the receive path and the deadline work post events.
 * @ring: the ring (&struct exo_events_header), mapped read-only.
 * @efd: eventfd signalled on every event, or NULL. Under @lock.
 * @pid: process signalled, or NULL. Under @lock.
 * @signo: its signal, or 0. Under @lock.
 * @wq: poll(2) waiters for POLLPRI.
 */
struct exo_events_ctx {
	spinlock_t lock;	/* the ring, the registration, revocation state */
	struct exo_table ring;
	struct eventfd_ctx *efd;
	struct pid *pid;
	int signo;
	wait_queue_head_t wq;
};

int exo_events_ctx_init(struct exo_ctx *ctx);
void exo_events_ctx_fini(struct exo_ctx *ctx);
int exo_events_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma);
void exo_event_post(struct exo_ctx *ctx, u32 type, u64 id, u64 nr,
		    u64 deadline_ns, u64 arg, bool signal);
void exo_events_sync(struct exo_ctx *ctx);

int exo_events_cmd_notify(struct exo_ucmd *ucmd);

#endif /* _EXO_EVENTS_H */
