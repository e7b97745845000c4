/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Visible revocation and the abort protocol (exo_revoke.c).
 */
#ifndef _EXO_REVOKE_H
#define _EXO_REVOKE_H

#include <linux/types.h>
#include <linux/workqueue.h>

struct attribute_group;
struct exo_ctx;
struct exo_ucmd;

/**
 * struct exo_revoke_ctx - a context's revocation state. Every field but
 *	@work is under ctx->ev.lock (the event ring's header shows them).
 * @dying: closing: no more requests.
 * @owed: frames owed to requests now.
 * @id: id of the latest request.
 * @deadline_ns: when the abort takes what is owed (ktime_get_ns()).
 * @urgent_ns: when the urgent warning goes out.
 * @state: an &enum exo_revoke_state.
 * @cur_returned: frames freed since the current request began.
 * @requested: frames asked for since open.
 * @returned: owed frames freed since open.
 * @repossessed: frames the abort took since open.
 * @work: the deadline: urgent warning, then abort.
 */
struct exo_revoke_ctx {
	bool dying;
	u64 owed;
	u64 id;
	u64 deadline_ns;
	u64 urgent_ns;
	u32 state;
	u64 cur_returned;
	u64 requested;
	u64 returned;
	u64 repossessed;
	struct delayed_work work;
};

/* The time a request gives (the parameter revoke_timeout_ms). */
extern unsigned int exo_revoke_timeout_ms;
extern const struct attribute_group exo_revoke_attr_group;

int exo_revoke_init(void);
void exo_revoke_exit(void);
int exo_revoke_ctx_init(struct exo_ctx *ctx);
void exo_revoke_ctx_fini(struct exo_ctx *ctx);
u64 exo_revocable(struct exo_ctx *ctx);
u64 exo_revoke_post(struct exo_ctx *ctx, u64 nr, u32 timeout_ms);
void exo_revoke_returned(struct exo_ctx *ctx, u64 nr);
bool exo_revoke_pending(struct exo_ctx *ctx);

int exo_revoke_cmd_request(struct exo_ucmd *ucmd);

#endif /* _EXO_REVOKE_H */
