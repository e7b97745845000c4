/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The receive and transmit rings: frames of the library OS's own, pinned
 * and mapped into the kernel (exo_netring.c).
 */
#ifndef _EXO_NETRING_H
#define _EXO_NETRING_H

#include <linux/types.h>

struct exo_ctx;
struct exo_netring;
struct exo_ucmd;
struct sk_buff;

/* Sends one transmit slot: true if sent, false if refused. */
typedef bool (*exo_netring_send_fn)(struct exo_ctx *ctx,
				    const struct exo_net_slot *slot);

void exo_netrings_unpublish(struct exo_ctx *ctx, struct exo_netring **rx,
			    struct exo_netring **tx);
void exo_netring_free(struct exo_ctx *ctx, struct exo_netring *r);
bool exo_netring_rx_pending(struct exo_ctx *ctx);
bool exo_netring_rx_deliver(struct exo_ctx *ctx, struct sk_buff *skb,
			    u32 claim, u32 tag);
int exo_netring_tx(struct exo_ctx *ctx, exo_netring_send_fn send, u32 *sent,
		   u32 *rejected);

int exo_netring_cmd_register(struct exo_ucmd *ucmd);
void exo_netring_cmd_register_undo(struct exo_ucmd *ucmd);

#endif /* _EXO_NETRING_H */
