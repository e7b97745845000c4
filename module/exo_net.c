// SPDX-License-Identifier: GPL-2.0
/*
 * The network: attachment to an interface, the receive path that demuxes
 * by claim and runs the claim's downloaded handler, claims, and
 * transmission (Documentation/net.rst). The claim table and the demux are
 * in exo_flow.c, the rings in exo_netring.c.
 *
 * exo attaches as the interface's rx_handler, so it sees each frame after
 * the taps and tc ingress and before the protocol handlers.
 *
 * Locking: RTNL, then exo_net_lock, then a context's lock. exo_net_lock
 * serialises every change to attachments, claims, handlers and rings; the
 * receive path reads them under RCU only, and every removal waits for a
 * grace period before freeing.
 */
#include <linux/bpf.h>
#include <linux/etherdevice.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/sch_generic.h>

#include "exo.h"
#include "exo_ctx.h"
#include "exo_flow.h"
#include "exo_net.h"
#include "exo_netring.h"
#include "trace/exo_trace.h"

static LIST_HEAD(exo_netdevs);

/**
 * struct exo_netdev - an interface exo is attached to.
 * @dev: the interface; valid until its NETDEV_UNREGISTER.
 * @claims: the claim table (exo_flow.c): key -> struct exo_flow; read
 *	under RCU.
 * @attached: the contexts' attachments (struct exo_net_attachment).
 * @node: in exo_netdevs.
 */
struct exo_netdev {
	struct net_device *dev;
	struct xarray claims;
	struct list_head attached;
	struct list_head node;
};

/**
 * struct exo_net_attachment - one context's hold on an attached interface.
 * @nd: the interface.
 * @ctx: the context.
 * @nd_node: in @nd->attached.
 * @ctx_node: in @ctx->net.attached.
 */
struct exo_net_attachment {
	struct exo_netdev *nd;
	struct exo_ctx *ctx;
	struct list_head nd_node;
	struct list_head ctx_node;
};

static struct exo_netdev *exo_netdev_find(const struct net_device *dev)
{
	struct exo_netdev *nd;

	lockdep_assert_held(&exo_net_lock);
	list_for_each_entry(nd, &exo_netdevs, node)
		if (nd->dev == dev)
			return nd;
	return NULL;
}

/*
 * The interface leaves exo: at its last attachment's end, or at its
 * unregistration. Every claim on it goes, each owner is told. RTNL held.
 */
static void exo_netdev_detach(struct exo_netdev *nd)
{
	struct exo_net_attachment *a, *tmp;
	LIST_HEAD(free);

	ASSERT_RTNL();
	lockdep_assert_held(&exo_net_lock);
	/* Waits for the receive path: nothing reads the claims after this. */
	netdev_rx_handler_unregister(nd->dev);
	exo_flows_unlink_table(&nd->claims, &free);
	exo_flows_post_down(&free, nd->dev->ifindex);
	exo_flows_free(&free);
	list_for_each_entry_safe(a, tmp, &nd->attached, nd_node) {
		list_del(&a->ctx_node);
		kfree(a);
	}
	list_del(&nd->node);
	xa_destroy(&nd->claims);
	kfree(nd);
}

/*
 * An in-kernel reply (an ASH): the handler rewrote the frame in place;
 * send it back out of the interface it came in on. skb->data is at the
 * Ethernet header. Return: true if sent.
 */
static bool exo_net_reply(struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;

	if (skb->len < ETH_HLEN || skb_headlen(skb) < ETH_HLEN ||
	    !ether_addr_equal(eth_hdr(skb)->h_source, dev->dev_addr))
		return false;
	skb_reset_mac_header(skb);
	skb->pkt_type = PACKET_OUTGOING;
	skb_clear_tstamp(skb);
	/* The handler kept the checksum fields right; nothing is verified. */
	if (skb->ip_summed != CHECKSUM_PARTIAL)
		skb->ip_summed = CHECKSUM_NONE;
	dev_queue_xmit(skb);
	return true;
}

static rx_handler_result_t exo_net_rx(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct exo_netdev *nd = rcu_dereference(skb->dev->rx_handler_data);
	struct exo_flow *c;
	struct bpf_prog *prog;
	u32 verdict = EXO_NET_DELIVER;
	u32 *cb, tag = 0;

	if (skb->pkt_type == PACKET_LOOPBACK || skb_vlan_tag_present(skb))
		return RX_HANDLER_PASS;
	c = exo_flow_demux(&nd->claims, skb);
	if (!c)
		return RX_HANDLER_PASS;
	atomic64_inc(&c->packets);
	/* The handler may write the packet: it must be ours alone. */
	skb = skb_share_check(skb, GFP_ATOMIC);
	if (!skb)
		return RX_HANDLER_CONSUMED;
	*pskb = skb;

	/* As tc ingress does: the handler sees the frame from its MAC header. */
	__skb_push(skb, skb->mac_len);
	prog = rcu_dereference(c->prog);
	if (prog) {
		cb = (u32 *)qdisc_skb_cb(skb)->data;
		cb[EXO_NET_CB_CLAIM] = c->id;
		cb[EXO_NET_CB_ABI] = EXO_NET_ABI;
		cb[EXO_NET_CB_TAG] = 0;
		cb[3] = 0;
		cb[4] = 0;
		bpf_compute_data_pointers(skb);
		verdict = bpf_prog_run(prog, skb);
		tag = cb[EXO_NET_CB_TAG];
		trace_exo_verdict(c->ctx->id, c->id, verdict, skb->len);
	}

	switch (verdict) {
	case EXO_NET_PASS:
		atomic64_inc(&c->passed);
		__skb_pull(skb, skb->mac_len);
		return RX_HANDLER_PASS;
	case EXO_NET_DELIVER:
		if (exo_netring_rx_deliver(c->ctx, skb, c->id, tag))
			atomic64_inc(&c->delivered);
		else
			atomic64_inc(&c->ring_full);
		consume_skb(skb);
		return RX_HANDLER_CONSUMED;
	case EXO_NET_REPLY:
		if (exo_net_reply(skb)) {
			atomic64_inc(&c->replied);
			return RX_HANDLER_CONSUMED;
		}
		atomic64_inc(&c->bad_verdict);
		break;
	case EXO_NET_DROP:
		atomic64_inc(&c->dropped);
		break;
	default:
		atomic64_inc(&c->bad_verdict);
		break;
	}
	kfree_skb(skb);
	return RX_HANDLER_CONSUMED;
}

/**
 * exo_net_cmd_attach() - attach exo to an interface, or detach it
 *	(%EXO_IOC_NET_ATTACH).
 * @ucmd: the command; the attachment is the calling context's own.
 *
 * Return: 0, -EINVAL, -ENODEV, -EPERM, -EEXIST, -EBUSY, -ENXIO or -ENOMEM.
 */
int exo_net_cmd_attach(struct exo_ucmd *ucmd)
{
	const struct exo_net_attach *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_net_attachment *a = NULL;
	struct exo_netdev *nd, *new = NULL;
	struct net_device *dev;
	int ret;

	if (req->__reserved)
		return -EINVAL;
	if (!(req->flags & EXO_NET_DETACH)) {
		new = kzalloc(sizeof(*new), GFP_KERNEL);
		a = kzalloc(sizeof(*a), GFP_KERNEL);
		if (!new || !a) {
			ret = -ENOMEM;
			goto out_free;
		}
	}
	rtnl_lock();
	mutex_lock(&exo_net_lock);
	dev = __dev_get_by_index(current->nsproxy->net_ns, req->ifindex);
	ret = -ENODEV;
	if (!dev)
		goto out;
	ret = -EPERM;
	if (!ns_capable(dev_net(dev)->user_ns, CAP_NET_ADMIN))
		goto out;
	nd = exo_netdev_find(dev);
	if (req->flags & EXO_NET_DETACH) {
		ret = -ENXIO;
		if (!nd)
			goto out;
		list_for_each_entry(a, &nd->attached, nd_node)
			if (a->ctx == ctx)
				break;
		if (list_entry_is_head(a, &nd->attached, nd_node)) {
			a = NULL;
			goto out;
		}
		list_del(&a->nd_node);
		list_del(&a->ctx_node);
		kfree(a);
		a = NULL;
		if (list_empty(&nd->attached))
			exo_netdev_detach(nd);
		ret = 0;
		goto out;
	}
	if (nd) {
		struct exo_net_attachment *o;

		ret = -EEXIST;
		list_for_each_entry(o, &nd->attached, nd_node)
			if (o->ctx == ctx)
				goto out;
	} else {
		nd = new;
		nd->dev = dev;
		xa_init(&nd->claims);
		INIT_LIST_HEAD(&nd->attached);
		ret = netdev_rx_handler_register(dev, exo_net_rx, nd);
		if (ret)
			goto out;
		list_add(&nd->node, &exo_netdevs);
		new = NULL;
	}
	a->nd = nd;
	a->ctx = ctx;
	list_add(&a->nd_node, &nd->attached);
	list_add(&a->ctx_node, &ctx->net.attached);
	a = NULL;
	ctx->net.used = true;
	ret = 0;
out:
	mutex_unlock(&exo_net_lock);
	rtnl_unlock();
out_free:
	kfree(a);
	kfree(new);
	return ret;
}

/**
 * exo_net_cmd_claim() - claim a flow on an attached interface
 *	(%EXO_IOC_NET_CLAIM).
 * @ucmd: the command; its id is set.
 *
 * Return: 0, -EINVAL, -EPERM, -EACCES, -ENODEV, -ENXIO, -EADDRINUSE,
 * -EBADF, -ENOSPC or -ENOMEM.
 */
int exo_net_cmd_claim(struct exo_ucmd *ucmd)
{
	struct net *net = current->nsproxy->net_ns;
	struct exo_net_claim *req = ucmd->cmd;
	struct exo_netdev *nd;
	struct net_device *dev;
	struct exo_flow *c;
	int ret;

	c = exo_flow_new(ucmd->ctx, net, req);
	if (IS_ERR(c))
		return PTR_ERR(c);
	mutex_lock(&exo_net_lock);
	rcu_read_lock();
	dev = dev_get_by_index_rcu(net, req->ifindex);
	nd = dev ? exo_netdev_find(dev) : NULL;
	rcu_read_unlock();
	ret = dev ? -ENXIO : -ENODEV;
	if (nd)
		ret = exo_flow_insert(&nd->claims, c);
	mutex_unlock(&exo_net_lock);
	trace_exo_claim(ucmd->ctx->id, req->ifindex, req->ethertype,
			req->ip_proto, req->port, ret ? 0 : c->id, ret);
	if (ret) {
		exo_flow_put(c);
		return ret;
	}
	req->id = c->id;
	return 0;
}

/**
 * exo_net_cmd_claim_undo() - %EXO_IOC_NET_CLAIM could not tell the caller
 *	its id: take the claim back.
 * @ucmd: the command as exo_net_cmd_claim() completed it.
 */
void exo_net_cmd_claim_undo(struct exo_ucmd *ucmd)
{
	const struct exo_net_claim *req = ucmd->cmd;

	exo_flow_unclaim(ucmd->ctx, req->id);
}

/*
 * May @ctx send this frame (data at its Ethernet header)? Its interface
 * must be attached to exo, its source the interface's MAC address, and it
 * must belong to a claim of @ctx there: its ethertype, its IP protocol, or
 * its UDP/TCP source port. Caller holds rcu_read_lock().
 */
static bool exo_net_tx_allowed(struct exo_ctx *ctx, struct sk_buff *skb)
{
	struct exo_netdev *nd = rcu_dereference(skb->dev->rx_handler_data);
	const struct ethhdr *eth = (const struct ethhdr *)skb->data;
	struct exo_flow *c;

	if (rcu_access_pointer(skb->dev->rx_handler) != exo_net_rx || !nd ||
	    !ether_addr_equal(eth->h_source, skb->dev->dev_addr))
		return false;
	c = exo_flow_of_tx(&nd->claims, skb);
	return c && c->ctx == ctx;
}

/* One transmit slot into an skb for an attached interface, or NULL. */
static struct sk_buff *exo_net_tx_skb(struct exo_ctx *ctx,
				      const struct exo_net_slot *s)
{
	struct net *net = current->nsproxy->net_ns;
	u32 len = READ_ONCE(s->len);
	u32 ifindex = READ_ONCE(s->ifindex);
	struct net_device *dev;
	struct sk_buff *skb;

	if (len < ETH_HLEN || len > EXO_NET_SLOT_MAX)
		return NULL;
	skb = alloc_skb(LL_MAX_HEADER + len, GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_reserve(skb, LL_MAX_HEADER);
	/* One copy, then every check reads the copy, not shared memory. */
	skb_put_data(skb, (const u8 *)s + EXO_NET_SLOT_DATA, len);
	rcu_read_lock();
	dev = dev_get_by_index_rcu(net, ifindex);
	if (!dev || len > dev->mtu + dev->hard_header_len ||
	    !(dev->flags & IFF_UP))
		goto drop;
	skb->dev = dev;
	if (!exo_net_tx_allowed(ctx, skb))
		goto drop;
	dev_hold(dev);
	rcu_read_unlock();
	skb_reset_mac_header(skb);
	skb_set_network_header(skb, ETH_HLEN);
	skb->protocol = eth_hdr(skb)->h_proto;
	return skb;
drop:
	rcu_read_unlock();
	kfree_skb(skb);
	return NULL;
}

/* exo_netring_tx()'s sender: copy, check and transmit one slot. */
static bool exo_net_tx_one(struct exo_ctx *ctx, const struct exo_net_slot *s)
{
	struct sk_buff *skb = exo_net_tx_skb(ctx, s);
	struct net_device *dev;
	int ret;

	if (!skb)
		return false;
	dev = skb->dev;
	/* net_xmit_eval() evaluates its argument twice. */
	ret = dev_queue_xmit(skb);
	dev_put(dev);
	return !net_xmit_eval(ret);
}

/**
 * exo_net_cmd_tx() - send what the transmit ring holds (%EXO_IOC_NET_TX).
 * @ucmd: the command; its sent and rejected are set.
 *
 * Return: 0, -ENOENT without a transmit ring, -EINVAL if its producer
 * index is more than a ring ahead (nothing is sent then).
 */
int exo_net_cmd_tx(struct exo_ucmd *ucmd)
{
	struct exo_net_tx *req = ucmd->cmd;

	return exo_netring_tx(ucmd->ctx, exo_net_tx_one, &req->sent,
			      &req->rejected);
}

/**
 * exo_net_ctx_init() - a new context has no network state.
 * @ctx: the context.
 *
 * Return: 0.
 */
int exo_net_ctx_init(struct exo_ctx *ctx)
{
	xa_init_flags(&ctx->net.claims, XA_FLAGS_ALLOC1);
	INIT_LIST_HEAD(&ctx->net.attached);
	mutex_init(&ctx->net.tx_lock);
	return 0;
}

/**
 * exo_net_flow_ifindex() - the interface a claim is on.
 * @c: a claim in its interface's table; exo_net_lock held.
 *
 * Return: the interface's index.
 */
int exo_net_flow_ifindex(const struct exo_flow *c)
{
	lockdep_assert_held(&exo_net_lock);
	return container_of(c->table, struct exo_netdev, claims)->dev->ifindex;
}

/**
 * exo_net_ctx_fini() - a closing context's claims, rings and attachments
 *	go: handlers released, ring frames unpinned, interfaces it alone
 *	attached detached (other contexts' claims on them too).
 * @ctx: the context, no longer reachable from user space.
 */
void exo_net_ctx_fini(struct exo_ctx *ctx)
{
	struct exo_net_attachment *a, *tmp;
	struct exo_netring *rx, *tx;
	struct exo_netdev *nd;
	LIST_HEAD(free);

	if (!ctx->net.used)
		goto out;
	rtnl_lock();
	mutex_lock(&exo_net_lock);
	exo_flows_unlink_ctx(ctx, &free);
	list_for_each_entry_safe(a, tmp, &ctx->net.attached, ctx_node) {
		nd = a->nd;
		list_del(&a->nd_node);
		list_del(&a->ctx_node);
		kfree(a);
		if (list_empty(&nd->attached))
			exo_netdev_detach(nd);
	}
	exo_netrings_unpublish(ctx, &rx, &tx);
	mutex_unlock(&exo_net_lock);
	rtnl_unlock();
	/* Packets stop before the ring frames are unpinned and freed. */
	synchronize_net();
	exo_flows_free(&free);
	exo_netring_free(ctx, rx);
	exo_netring_free(ctx, tx);
out:
	xa_destroy(&ctx->net.claims);
	mutex_destroy(&ctx->net.tx_lock);
}

/* An attached interface going away takes exo's attachment with it. */
static int exo_net_notify(struct notifier_block *nb, unsigned long event,
			  void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct exo_netdev *nd;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	mutex_lock(&exo_net_lock);
	nd = exo_netdev_find(dev);
	if (nd)
		exo_netdev_detach(nd);
	mutex_unlock(&exo_net_lock);
	return NOTIFY_DONE;
}

static struct notifier_block exo_net_notifier = {
	.notifier_call = exo_net_notify,
};

/**
 * exo_net_init() - watch interfaces for their unregistration.
 *
 * Return: 0 or a negative errno.
 */
int exo_net_init(void)
{
	/* The claim key needs 40 bits of an xarray index. */
	BUILD_BUG_ON(BITS_PER_LONG < 64);
	return register_netdevice_notifier(&exo_net_notifier);
}

/**
 * exo_net_exit() - stop watching. Every context is gone, and with them
 *	every attachment.
 */
void exo_net_exit(void)
{
	unregister_netdevice_notifier(&exo_net_notifier);
	WARN_ON_ONCE(!list_empty(&exo_netdevs));
}
