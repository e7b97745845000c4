/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Flows: the claims on an attached interface, their keys, the demux that
 * finds a packet's claim, and the claims' downloaded handlers
 * (exo_flow.c).
 */
#ifndef _EXO_FLOW_H
#define _EXO_FLOW_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct bpf_prog;
struct exo_ctx;
struct exo_ucmd;
struct net;
struct sk_buff;

/*
 * Serialises every change to attachments, claims, handlers and the
 * network state of contexts (&exo_net_ctx.claims, .attached); the receive
 * path reads them under RCU only. Taken after RTNL, before ctx->lock.
 */
extern struct mutex exo_net_lock;

/**
 * struct exo_flow - a claim: a flow one context owns on one interface.
 * @id: its id in the owner's &exo_net_ctx.claims.
 * @key: its key in @table (exo_flow_key()).
 * @table: the interface's claim table.
 * @ctx: the owner.
 * @prog: the downloaded handler, or NULL (deliver everything).
 * @packets: packets matched.
 * @delivered: copied into the receive ring.
 * @dropped: dropped by verdict.
 * @replied: sent back by an in-kernel reply.
 * @passed: given to Linux.
 * @ring_full: lost to a full (or missing) receive ring.
 * @bad_verdict: unknown verdict, or a reply that could not be sent.
 * @free_node: on a list of claims to free after a grace period.
 */
struct exo_flow {
	u32 id;
	unsigned long key;
	struct xarray *table;
	struct exo_ctx *ctx;
	struct bpf_prog __rcu *prog;
	atomic64_t packets;
	atomic64_t delivered;
	atomic64_t dropped;
	atomic64_t replied;
	atomic64_t passed;
	atomic64_t ring_full;
	atomic64_t bad_verdict;
	struct list_head free_node;
};

struct exo_flow *exo_flow_new(struct exo_ctx *ctx, struct net *net,
			      const struct exo_net_claim *req);
int exo_flow_insert(struct xarray *table, struct exo_flow *c);
void exo_flow_put(struct exo_flow *c);
void exo_flow_unlink(struct exo_flow *c, struct list_head *free);
void exo_flows_unlink_ctx(struct exo_ctx *ctx, struct list_head *free);
void exo_flows_unlink_table(struct xarray *table, struct list_head *free);
void exo_flows_free(struct list_head *list);
void exo_flows_post_down(struct list_head *list, int ifindex);
int exo_flow_unclaim(struct exo_ctx *ctx, u32 id);
struct exo_flow *exo_flow_demux(struct xarray *table, struct sk_buff *skb);
struct exo_flow *exo_flow_of_tx(struct xarray *table, struct sk_buff *skb);

int exo_flow_cmd_unclaim(struct exo_ucmd *ucmd);
int exo_flow_cmd_handler(struct exo_ucmd *ucmd);
int exo_flow_cmd_stats(struct exo_ucmd *ucmd);

#endif /* _EXO_FLOW_H */
