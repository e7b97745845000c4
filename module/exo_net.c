// SPDX-License-Identifier: GPL-2.0
/*
 * The network: attachment to an interface, exclusive flow claims, and the
 * receive path that demuxes by claim and runs the claim's downloaded
 * handler (Documentation/net.rst).
 *
 * exo attaches as the interface's rx_handler, so it sees each frame after
 * the taps and tc ingress and before the protocol handlers. The claim
 * table is an xarray per interface keyed by (ethertype, IP protocol, port):
 * the demux is at most three lookups, whatever the number of claims, and
 * only the matching claim's handler ever runs on a packet.
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
#include <linux/ip.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/sch_generic.h>

#include "exo.h"

/* Claims one context may hold at once. */
#define EXO_NET_MAX_CLAIMS	4096

static DEFINE_MUTEX(exo_net_lock);
static LIST_HEAD(exo_netdevs);

/**
 * struct exo_netdev - an interface exo is attached to.
 * @dev: the interface; valid until its NETDEV_UNREGISTER.
 * @claims: claim key -> struct exo_flow; read under RCU.
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
 * @ctx_node: in @ctx->net_attached.
 */
struct exo_net_attachment {
	struct exo_netdev *nd;
	struct exo_ctx *ctx;
	struct list_head nd_node;
	struct list_head ctx_node;
};

/**
 * struct exo_flow - a claim: a flow one context owns on one interface.
 * @id: its id in the owner's @net_claims.
 * @key: its key in @nd->claims (exo_net_key()).
 * @nd: the interface.
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
	struct exo_netdev *nd;
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

/*
 * Ethertype, protocol and port in one index: (E, 0, 0) claims the
 * ethertype, (E, P, 0) the protocol, (E, P, port) the port. Protocol 0 and
 * port 0 cannot be claimed, so the three kinds never collide.
 */
static unsigned long exo_net_key(u16 ethertype, u8 proto, u16 port)
{
	return (unsigned long)ethertype << 24 | (unsigned long)proto << 16 |
	       port;
}

static struct exo_netdev *exo_netdev_find(const struct net_device *dev)
{
	struct exo_netdev *nd;

	lockdep_assert_held(&exo_net_lock);
	list_for_each_entry(nd, &exo_netdevs, node)
		if (nd->dev == dev)
			return nd;
	return NULL;
}

static void exo_net_claims_free(struct list_head *list)
{
	struct exo_flow *c, *tmp;

	list_for_each_entry_safe(c, tmp, list, free_node) {
		struct bpf_prog *prog = rcu_dereference_protected(c->prog, 1);

		if (prog)
			bpf_prog_put(prog);
		kfree(c);
	}
}

/* Out of both tables; freed by exo_net_claims_free() after a grace period. */
static void exo_net_claim_unlink(struct exo_flow *c,
				 struct list_head *free)
{
	lockdep_assert_held(&exo_net_lock);
	xa_erase(&c->nd->claims, c->key);
	xa_erase(&c->ctx->net_claims, c->id);
	list_add(&c->free_node, free);
}

/* Is @c the first claim of its owner on @list? */
static bool exo_net_owner_first(struct list_head *list,
				struct exo_flow *c)
{
	struct exo_flow *o;

	list_for_each_entry(o, list, free_node) {
		if (o == c)
			return true;
		if (o->ctx == c->ctx)
			return false;
	}
	return true;
}

/* Tell each owner of a claim on @list, once, how many it lost. */
static void exo_net_post_down(struct list_head *list, int ifindex)
{
	struct exo_flow *c, *o;
	u64 nr;

	list_for_each_entry(c, list, free_node) {
		if (!exo_net_owner_first(list, c))
			continue;
		nr = 0;
		list_for_each_entry(o, list, free_node)
			nr += o->ctx == c->ctx;
		spin_lock(&c->ctx->revoke_lock);
		exo_event_post(c->ctx, EXO_EV_NET_DOWN, 0, nr, 0, ifindex,
			       false);
		spin_unlock(&c->ctx->revoke_lock);
	}
}

/*
 * The interface leaves exo: at its last attachment's end, or at its
 * unregistration. Every claim on it goes, each owner is told. RTNL held.
 */
static void exo_netdev_detach(struct exo_netdev *nd)
{
	struct exo_net_attachment *a, *tmp;
	struct exo_flow *c;
	unsigned long key;
	LIST_HEAD(free);

	ASSERT_RTNL();
	lockdep_assert_held(&exo_net_lock);
	/* Waits for the receive path: nothing reads the claims after this. */
	netdev_rx_handler_unregister(nd->dev);
	xa_for_each(&nd->claims, key, c)
		exo_net_claim_unlink(c, &free);
	exo_net_post_down(&free, nd->dev->ifindex);
	exo_net_claims_free(&free);
	list_for_each_entry_safe(a, tmp, &nd->attached, nd_node) {
		list_del(&a->ctx_node);
		kfree(a);
	}
	list_del(&nd->node);
	xa_destroy(&nd->claims);
	kfree(nd);
}

/*
 * The claim a received frame belongs to: its UDP/TCP port, else its IP
 * protocol, else its ethertype. skb->data is at the network header.
 */
static struct exo_flow *exo_net_demux(struct exo_netdev *nd,
				      struct sk_buff *skb)
{
	u16 ethertype = ntohs(skb->protocol);
	struct exo_flow *c;
	const struct iphdr *iph;
	struct iphdr ipbuf;
	__be16 pbuf[2];
	const __be16 *ports;

	if (ethertype == ETH_P_IP) {
		iph = skb_header_pointer(skb, 0, sizeof(ipbuf), &ipbuf);
		if (!iph || iph->ihl < 5)
			goto ethertype;
		if ((iph->protocol == IPPROTO_UDP ||
		     iph->protocol == IPPROTO_TCP) &&
		    !(iph->frag_off & htons(IP_OFFSET))) {
			/* UDP and TCP both start with the two ports. */
			ports = skb_header_pointer(skb, iph->ihl * 4,
						   sizeof(pbuf), pbuf);
			if (ports) {
				c = xa_load(&nd->claims,
					    exo_net_key(ethertype,
							iph->protocol,
							ntohs(ports[1])));
				if (c)
					return c;
			}
		}
		c = xa_load(&nd->claims,
			    exo_net_key(ethertype, iph->protocol, 0));
		if (c)
			return c;
	}
ethertype:
	return xa_load(&nd->claims, exo_net_key(ethertype, 0, 0));
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
	c = exo_net_demux(nd, skb);
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
	}

	switch (verdict) {
	case EXO_NET_PASS:
		atomic64_inc(&c->passed);
		__skb_pull(skb, skb->mac_len);
		return RX_HANDLER_PASS;
	case EXO_NET_DELIVER:
		if (exo_net_rx_deliver(c->ctx, skb, c->id, tag))
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
 * exo_net_attach() - attach exo to an interface, or detach it
 *	(%EXO_IOC_NET_ATTACH).
 * @ctx: the context; the attachment is its own.
 * @req: the request.
 *
 * Return: 0, -EINVAL, -ENODEV, -EPERM, -EEXIST, -EBUSY, -ENXIO or -ENOMEM.
 */
int exo_net_attach(struct exo_ctx *ctx, const struct exo_net_attach *req)
{
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
	list_add(&a->ctx_node, &ctx->net_attached);
	a = NULL;
	ctx->net_used = true;
	ret = 0;
out:
	mutex_unlock(&exo_net_lock);
	rtnl_unlock();
out_free:
	kfree(a);
	kfree(new);
	return ret;
}

/*
 * The handler behind a file descriptor: a SCHED_CLS program, or -EINVAL
 * for a program of another type, or -EBADF for anything else.
 */
static struct bpf_prog *exo_net_prog_get(s32 fd)
{
	struct bpf_prog *prog;
	int type;

	if (fd == -1)
		return NULL;
	if (fd < 0)
		return ERR_PTR(-EBADF);
	prog = bpf_prog_get_type_dev(fd, BPF_PROG_TYPE_SCHED_CLS, false);
	if (!IS_ERR(prog) || PTR_ERR(prog) != -EINVAL)
		return prog;
	/* Only exported way to tell "wrong type" from "not a program". */
	for (type = BPF_PROG_TYPE_UNSPEC + 1; type <= BPF_PROG_TYPE_SYSCALL;
	     type++) {
		prog = bpf_prog_get_type_dev(fd, type, true);
		if (!IS_ERR(prog)) {
			bpf_prog_put(prog);
			return ERR_PTR(-EINVAL);
		}
	}
	return ERR_PTR(-EBADF);
}

/* Is the claim @req asks for allowed to the caller in @net? */
static int exo_net_claim_check(struct net *net,
			       const struct exo_net_claim *req)
{
	if (req->flags || req->__pad || req->abi != EXO_NET_ABI ||
	    req->ethertype < ETH_P_802_3_MIN)
		return -EINVAL;
	if ((req->ip_proto || req->port) && req->ethertype != ETH_P_IP)
		return -EINVAL;
	if (req->port && req->ip_proto != IPPROTO_UDP &&
	    req->ip_proto != IPPROTO_TCP)
		return -EINVAL;
	if (!req->port && !ns_capable(net->user_ns, CAP_NET_RAW))
		return -EPERM;
	if (req->port && inet_port_requires_bind_service(net, req->port) &&
	    !ns_capable(net->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;
	return 0;
}

/* Does a claim on @nd contain, equal or lie inside the flow @key names? */
static bool exo_net_overlaps(struct exo_netdev *nd, u16 ethertype, u8 proto,
			     u16 port)
{
	unsigned long first, last;

	lockdep_assert_held(&exo_net_lock);
	if (xa_load(&nd->claims, exo_net_key(ethertype, 0, 0)))
		return true;
	if (proto && xa_load(&nd->claims, exo_net_key(ethertype, proto, 0)))
		return true;
	if (port)
		return xa_load(&nd->claims,
			       exo_net_key(ethertype, proto, port));
	/* A wider claim: anything inside its range overlaps. */
	first = exo_net_key(ethertype, proto, 0);
	last = proto ? exo_net_key(ethertype, proto, 0xffff) :
		       exo_net_key(ethertype, 0xff, 0xffff);
	return xa_find(&nd->claims, &first, last, XA_PRESENT);
}

/**
 * exo_net_claim() - claim a flow (%EXO_IOC_NET_CLAIM).
 * @ctx: the context.
 * @req: the request; @req->id is set.
 *
 * Return: 0, -EINVAL, -EPERM, -EACCES, -ENODEV, -ENXIO, -EADDRINUSE,
 * -EBADF, -ENOSPC or -ENOMEM.
 */
int exo_net_claim(struct exo_ctx *ctx, struct exo_net_claim *req)
{
	struct net *net = current->nsproxy->net_ns;
	struct exo_flow *c;
	struct exo_netdev *nd;
	struct net_device *dev;
	struct bpf_prog *prog;
	int ret;

	ret = exo_net_claim_check(net, req);
	if (ret)
		return ret;
	prog = exo_net_prog_get(req->prog_fd);
	if (IS_ERR(prog))
		return PTR_ERR(prog);
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c) {
		ret = -ENOMEM;
		goto out_prog;
	}
	c->key = exo_net_key(req->ethertype, req->ip_proto, req->port);
	c->ctx = ctx;
	RCU_INIT_POINTER(c->prog, prog);

	mutex_lock(&exo_net_lock);
	rcu_read_lock();
	dev = dev_get_by_index_rcu(net, req->ifindex);
	nd = dev ? exo_netdev_find(dev) : NULL;
	rcu_read_unlock();
	ret = dev ? -ENXIO : -ENODEV;
	if (!nd)
		goto out_unlock;
	ret = -EADDRINUSE;
	if (exo_net_overlaps(nd, req->ethertype, req->ip_proto, req->port))
		goto out_unlock;
	c->nd = nd;
	ret = xa_alloc(&ctx->net_claims, &c->id, c,
		       XA_LIMIT(1, EXO_NET_MAX_CLAIMS), GFP_KERNEL);
	if (ret) {
		ret = ret == -EBUSY ? -ENOSPC : ret;
		goto out_unlock;
	}
	/* Published last: the receive path may use it from here on. */
	ret = xa_insert(&nd->claims, c->key, c, GFP_KERNEL);
	if (ret) {
		xa_erase(&ctx->net_claims, c->id);
		goto out_unlock;
	}
	ctx->net_used = true;
	req->id = c->id;
	mutex_unlock(&exo_net_lock);
	return 0;

out_unlock:
	mutex_unlock(&exo_net_lock);
	kfree(c);
out_prog:
	if (prog)
		bpf_prog_put(prog);
	return ret;
}

static int exo_net_unclaim_id(struct exo_ctx *ctx, u32 id)
{
	struct exo_flow *c;
	LIST_HEAD(free);

	mutex_lock(&exo_net_lock);
	c = xa_load(&ctx->net_claims, id);
	if (!c) {
		mutex_unlock(&exo_net_lock);
		return -ENOENT;
	}
	exo_net_claim_unlink(c, &free);
	mutex_unlock(&exo_net_lock);
	synchronize_net();
	exo_net_claims_free(&free);
	return 0;
}

/* EXO_IOC_NET_CLAIM could not tell the caller its id: take it back. */
void exo_net_claim_undo(struct exo_ctx *ctx, const struct exo_net_claim *req)
{
	exo_net_unclaim_id(ctx, req->id);
}

/**
 * exo_net_unclaim() - give a claim up (%EXO_IOC_NET_UNCLAIM).
 * @ctx: the context.
 * @req: the request.
 *
 * Return: 0, -EINVAL or -ENOENT.
 */
int exo_net_unclaim(struct exo_ctx *ctx, const struct exo_net_unclaim *req)
{
	if (req->__reserved)
		return -EINVAL;
	return exo_net_unclaim_id(ctx, req->id);
}

/**
 * exo_net_handler() - set or clear a claim's handler (%EXO_IOC_NET_HANDLER).
 * @ctx: the context.
 * @req: the request.
 *
 * Return: 0, -ENOENT, -EBADF or -EINVAL.
 */
int exo_net_handler(struct exo_ctx *ctx, const struct exo_net_handler *req)
{
	struct bpf_prog *prog, *old;
	struct exo_flow *c;

	prog = exo_net_prog_get(req->prog_fd);
	if (IS_ERR(prog))
		return PTR_ERR(prog);
	mutex_lock(&exo_net_lock);
	c = xa_load(&ctx->net_claims, req->id);
	if (!c) {
		mutex_unlock(&exo_net_lock);
		if (prog)
			bpf_prog_put(prog);
		return -ENOENT;
	}
	old = rcu_replace_pointer(c->prog, prog,
				  lockdep_is_held(&exo_net_lock));
	mutex_unlock(&exo_net_lock);
	/* On return the old handler runs no more. */
	synchronize_net();
	if (old)
		bpf_prog_put(old);
	return 0;
}

/**
 * exo_net_stats() - a claim's counters (%EXO_IOC_NET_STATS).
 * @ctx: the context.
 * @req: the request; the counters are filled in.
 *
 * Return: 0, -EINVAL or -ENOENT.
 */
int exo_net_stats(struct exo_ctx *ctx, struct exo_net_stats *req)
{
	struct exo_flow *c;

	if (req->__reserved)
		return -EINVAL;
	mutex_lock(&exo_net_lock);
	c = xa_load(&ctx->net_claims, req->id);
	if (c) {
		req->packets = atomic64_read(&c->packets);
		req->delivered = atomic64_read(&c->delivered);
		req->dropped = atomic64_read(&c->dropped);
		req->replied = atomic64_read(&c->replied);
		req->passed = atomic64_read(&c->passed);
		req->ring_full = atomic64_read(&c->ring_full);
		req->bad_verdict = atomic64_read(&c->bad_verdict);
	}
	mutex_unlock(&exo_net_lock);
	return c ? 0 : -ENOENT;
}

/**
 * exo_net_tx_allowed() - may @ctx send this frame?
 * @ctx: the sender.
 * @skb: the frame, data at its Ethernet header; skb->dev is an interface
 *	exo is attached to.
 *
 * Its source must be the interface's MAC address and it must belong to a
 * claim of @ctx on the interface: its ethertype, its IP protocol, or its
 * UDP/TCP source port. Caller holds rcu_read_lock().
 *
 * Return: true if allowed.
 */
bool exo_net_tx_allowed(struct exo_ctx *ctx, struct sk_buff *skb)
{
	struct exo_netdev *nd = rcu_dereference(skb->dev->rx_handler_data);
	const struct ethhdr *eth = (const struct ethhdr *)skb->data;
	u16 ethertype = ntohs(eth->h_proto);
	struct exo_flow *c;
	const struct iphdr *iph;
	struct iphdr ipbuf;
	__be16 pbuf[2];
	const __be16 *ports;

	if (rcu_access_pointer(skb->dev->rx_handler) != exo_net_rx || !nd ||
	    !ether_addr_equal(eth->h_source, skb->dev->dev_addr))
		return false;
	c = xa_load(&nd->claims, exo_net_key(ethertype, 0, 0));
	if (c)
		return c->ctx == ctx;
	if (ethertype != ETH_P_IP)
		return false;
	iph = skb_header_pointer(skb, ETH_HLEN, sizeof(ipbuf), &ipbuf);
	if (!iph || iph->ihl < 5)
		return false;
	c = xa_load(&nd->claims, exo_net_key(ethertype, iph->protocol, 0));
	if (c)
		return c->ctx == ctx;
	if ((iph->protocol != IPPROTO_UDP && iph->protocol != IPPROTO_TCP) ||
	    (iph->frag_off & htons(IP_OFFSET)))
		return false;
	ports = skb_header_pointer(skb, ETH_HLEN + iph->ihl * 4, sizeof(pbuf),
				   pbuf);
	if (!ports)
		return false;
	c = xa_load(&nd->claims,
		    exo_net_key(ethertype, iph->protocol, ntohs(ports[0])));
	return c && c->ctx == ctx;
}

/**
 * exo_net_ctx_init() - a new context has no network state.
 * @ctx: the context.
 */
void exo_net_ctx_init(struct exo_ctx *ctx)
{
	xa_init_flags(&ctx->net_claims, XA_FLAGS_ALLOC1);
	INIT_LIST_HEAD(&ctx->net_attached);
	mutex_init(&ctx->net_tx_lock);
}

/**
 * exo_net_ctx_release() - a closing context's claims, rings and
 *	attachments go: handlers released, ring frames unpinned, interfaces
 *	it alone attached detached (other contexts' claims on them too).
 * @ctx: the context, no longer reachable from user space.
 */
void exo_net_ctx_release(struct exo_ctx *ctx)
{
	struct exo_net_attachment *a, *tmp;
	struct exo_netring *rx, *tx;
	struct exo_flow *c;
	struct exo_netdev *nd;
	unsigned long id;
	LIST_HEAD(free);

	if (!ctx->net_used)
		goto out;
	rtnl_lock();
	mutex_lock(&exo_net_lock);
	xa_for_each(&ctx->net_claims, id, c)
		exo_net_claim_unlink(c, &free);
	list_for_each_entry_safe(a, tmp, &ctx->net_attached, ctx_node) {
		nd = a->nd;
		list_del(&a->nd_node);
		list_del(&a->ctx_node);
		kfree(a);
		if (list_empty(&nd->attached))
			exo_netdev_detach(nd);
	}
	exo_net_rings_unpublish(ctx, &rx, &tx);
	mutex_unlock(&exo_net_lock);
	rtnl_unlock();
	synchronize_net();
	exo_net_claims_free(&free);
	exo_net_ring_free(ctx, rx);
	exo_net_ring_free(ctx, tx);
out:
	xa_destroy(&ctx->net_claims);
	mutex_destroy(&ctx->net_tx_lock);
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
