/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The network: attachment to interfaces, the receive path, claims and
 * transmission (exo_net.c), over flows (exo_flow.h) and rings
 * (exo_netring.h).
 */
#ifndef _EXO_NET_H
#define _EXO_NET_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct exo_ctx;
struct exo_flow;
struct exo_netring;
struct exo_ucmd;

/**
 * struct exo_net_ctx - a context's network state.
 * @claims: claim id -> &struct exo_flow. Under exo_net_lock.
 * @attached: its attachments (&struct exo_net_attachment). Under
 *	exo_net_lock.
 * @rx: the receive ring, or NULL. Set under ctx->lock; the receive path
 *	reads it under RCU.
 * @tx: the transmit ring, or NULL. Under ctx->lock.
 * @tx_lock: serialises %EXO_IOC_NET_TX; taken before ctx->lock.
 * @pinned: frames pinned by the rings (not revocable). Under ctx->lock.
 * @used: some network call succeeded, so close must tear down. Set under
 *	exo_net_lock or ctx->lock, read when the context dies.
 */
struct exo_net_ctx {
	struct xarray claims;
	struct list_head attached;
	struct exo_netring __rcu *rx;
	struct exo_netring *tx;
	struct mutex tx_lock;	/* EXO_IOC_NET_TX */
	u32 pinned;
	bool used;
};

int exo_net_init(void);
void exo_net_exit(void);
int exo_net_ctx_init(struct exo_ctx *ctx);
void exo_net_ctx_fini(struct exo_ctx *ctx);
int exo_net_flow_ifindex(const struct exo_flow *c);

int exo_net_cmd_attach(struct exo_ucmd *ucmd);
int exo_net_cmd_claim(struct exo_ucmd *ucmd);
void exo_net_cmd_claim_undo(struct exo_ucmd *ucmd);
int exo_net_cmd_tx(struct exo_ucmd *ucmd);

#endif /* _EXO_NET_H */
