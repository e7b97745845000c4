// SPDX-License-Identifier: GPL-2.0
/*
 * Flows: the exclusive claims a library OS holds on an attached interface
 * (an ethertype, an IPv4 protocol, or a UDP/TCP port), as bind(2) claims
 * ports, and their downloaded handlers (Documentation/net.rst).
 *
 * Each interface has one claim table, an xarray keyed by (ethertype, IP
 * protocol, port): the demux is at most three lookups, whatever the number
 * of claims, and only the matching claim's handler ever runs on a packet.
 * Claims are changed under exo_net_lock and read under RCU; a removed
 * claim is freed after a grace period.
 */
#include <linux/bpf.h>
#include <linux/etherdevice.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/net_namespace.h>

#include "exo.h"
#include "exo_ctx.h"
#include "exo_events.h"
#include "exo_flow.h"

/* Claims one context may hold at once. */
#define EXO_NET_MAX_CLAIMS	4096

/* Guards claims and attachments; see exo_flow.h. */
DEFINE_MUTEX(exo_net_lock);

/*
 * Ethertype, protocol and port in one index: (E, 0, 0) claims the
 * ethertype, (E, P, 0) the protocol, (E, P, port) the port. Protocol 0 and
 * port 0 cannot be claimed, so the three kinds never collide.
 */
static unsigned long exo_flow_key(u16 ethertype, u8 proto, u16 port)
{
	return (unsigned long)ethertype << 24 | (unsigned long)proto << 16 |
	       port;
}

/**
 * exo_flows_free() - free claims no one can reach any more (a grace
 *	period after their unlinking), putting their handlers.
 * @list: the claims, linked by their free_node.
 */
void exo_flows_free(struct list_head *list)
{
	struct exo_flow *c, *tmp;

	list_for_each_entry_safe(c, tmp, list, free_node) {
		struct bpf_prog *prog = rcu_dereference_protected(c->prog, 1);

		if (prog)
			bpf_prog_put(prog);
		kfree(c);
	}
}

/**
 * exo_flow_unlink() - take a claim out of its interface's table and its
 *	owner's; exo_flows_free() frees it after a grace period.
 * @c: the claim.
 * @free: the list to put it on.
 */
void exo_flow_unlink(struct exo_flow *c, struct list_head *free)
{
	lockdep_assert_held(&exo_net_lock);
	xa_erase(c->table, c->key);
	xa_erase(&c->ctx->net.claims, c->id);
	list_add(&c->free_node, free);
}

/* Is @c the first claim of its owner on @list? */
static bool exo_flow_owner_first(struct list_head *list, struct exo_flow *c)
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

/**
 * exo_flows_post_down() - tell each owner of a claim on @list, once, how
 *	many it lost when interface @ifindex went.
 * @list: unlinked claims.
 * @ifindex: the interface.
 */
void exo_flows_post_down(struct list_head *list, int ifindex)
{
	struct exo_flow *c, *o;
	u64 nr;

	list_for_each_entry(c, list, free_node) {
		if (!exo_flow_owner_first(list, c))
			continue;
		nr = 0;
		list_for_each_entry(o, list, free_node)
			nr += o->ctx == c->ctx;
		spin_lock(&c->ctx->ev.lock);
		exo_event_post(c->ctx, EXO_EV_NET_DOWN, 0, nr, 0, ifindex,
			       false);
		spin_unlock(&c->ctx->ev.lock);
	}
}

/*
 * The handler behind a file descriptor: a SCHED_CLS program, or -EINVAL
 * for a program of another type, or -EBADF for anything else.
 */
static struct bpf_prog *exo_flow_prog_get(s32 fd)
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
static int exo_flow_check(struct net *net, const struct exo_net_claim *req)
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

/* Does a claim in @table contain, equal or lie inside the flow named? */
static bool exo_flow_overlaps(struct xarray *table, u16 ethertype, u8 proto,
			      u16 port)
{
	unsigned long first, last;

	lockdep_assert_held(&exo_net_lock);
	if (xa_load(table, exo_flow_key(ethertype, 0, 0)))
		return true;
	if (proto && xa_load(table, exo_flow_key(ethertype, proto, 0)))
		return true;
	if (port)
		return xa_load(table,
			       exo_flow_key(ethertype, proto, port));
	/* A wider claim: anything inside its range overlaps. */
	first = exo_flow_key(ethertype, proto, 0);
	last = proto ? exo_flow_key(ethertype, proto, 0xffff) :
		       exo_flow_key(ethertype, 0xff, 0xffff);
	return xa_find(table, &first, last, XA_PRESENT);
}

/**
 * exo_flow_new() - a claim as @req asks for it, not yet in any table.
 * @ctx: the claiming context.
 * @net: the caller's network namespace, for the privilege checks.
 * @req: the request.
 *
 * Return: the claim (exo_flow_put() frees it), or ERR_PTR(-EINVAL,
 * -EPERM, -EACCES, -EBADF, -ENOMEM).
 */
struct exo_flow *exo_flow_new(struct exo_ctx *ctx, struct net *net,
			      const struct exo_net_claim *req)
{
	struct bpf_prog *prog;
	struct exo_flow *c;
	int ret;

	ret = exo_flow_check(net, req);
	if (ret)
		return ERR_PTR(ret);
	prog = exo_flow_prog_get(req->prog_fd);
	if (IS_ERR(prog))
		return ERR_CAST(prog);
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c) {
		if (prog)
			bpf_prog_put(prog);
		return ERR_PTR(-ENOMEM);
	}
	c->key = exo_flow_key(req->ethertype, req->ip_proto, req->port);
	c->ctx = ctx;
	RCU_INIT_POINTER(c->prog, prog);
	return c;
}

/**
 * exo_flow_put() - free a claim that never entered a table.
 * @c: the claim.
 */
void exo_flow_put(struct exo_flow *c)
{
	struct bpf_prog *prog = rcu_dereference_protected(c->prog, 1);

	if (prog)
		bpf_prog_put(prog);
	kfree(c);
}

/**
 * exo_flow_insert() - enter a claim into an interface's table and its
 *	owner's; the receive path may use it from then on.
 * @table: the interface's claims.
 * @c: the claim from exo_flow_new().
 *
 * Return: 0, -EADDRINUSE for a claim that overlaps one in @table, -ENOSPC
 * past the owner's claim limit, -ENOMEM.
 */
int exo_flow_insert(struct xarray *table, struct exo_flow *c)
{
	u16 ethertype = c->key >> 24;
	u8 proto = c->key >> 16;
	u16 port = c->key;
	int ret;

	lockdep_assert_held(&exo_net_lock);
	if (exo_flow_overlaps(table, ethertype, proto, port))
		return -EADDRINUSE;
	c->table = table;
	ret = xa_alloc(&c->ctx->net.claims, &c->id, c,
		       XA_LIMIT(1, EXO_NET_MAX_CLAIMS), GFP_KERNEL);
	if (ret)
		return ret == -EBUSY ? -ENOSPC : ret;
	/* Published last: the receive path may use it from here on. */
	ret = xa_insert(table, c->key, c, GFP_KERNEL);
	if (ret) {
		xa_erase(&c->ctx->net.claims, c->id);
		return ret;
	}
	c->ctx->net.used = true;
	return 0;
}

/**
 * exo_flows_unlink_ctx() - unlink every claim of a context.
 * @ctx: the context.
 * @free: the list to put them on (exo_flows_free()).
 */
void exo_flows_unlink_ctx(struct exo_ctx *ctx, struct list_head *free)
{
	struct exo_flow *c;
	unsigned long id;

	xa_for_each(&ctx->net.claims, id, c)
		exo_flow_unlink(c, free);
}

/**
 * exo_flows_unlink_table() - unlink every claim on an interface.
 * @table: the interface's claims.
 * @free: the list to put them on (exo_flows_free()).
 */
void exo_flows_unlink_table(struct xarray *table, struct list_head *free)
{
	struct exo_flow *c;
	unsigned long key;

	xa_for_each(table, key, c)
		exo_flow_unlink(c, free);
}

/**
 * exo_flow_unclaim() - give claim @id of @ctx up.
 * @ctx: the owner.
 * @id: the claim's id.
 *
 * Return: 0 or -ENOENT.
 */
int exo_flow_unclaim(struct exo_ctx *ctx, u32 id)
{
	struct exo_flow *c;
	LIST_HEAD(free);

	mutex_lock(&exo_net_lock);
	c = xa_load(&ctx->net.claims, id);
	if (!c) {
		mutex_unlock(&exo_net_lock);
		return -ENOENT;
	}
	exo_flow_unlink(c, &free);
	mutex_unlock(&exo_net_lock);
	synchronize_net();
	exo_flows_free(&free);
	return 0;
}

/* What a flow key can hold of an IPv4 packet: protocol and ports. */
struct exo_flow_ip {
	u8 proto;
	bool has_ports;
	u16 sport;
	u16 dport;
};

/*
 * Read the IPv4 header at @off of @skb and, for UDP and TCP (not a later
 * fragment), the two ports their headers both start with. Return: false
 * if there is no IPv4 header there.
 */
static bool exo_flow_parse_ip(const struct sk_buff *skb, int off,
			      struct exo_flow_ip *ip)
{
	const struct iphdr *iph;
	struct iphdr ipbuf;
	const __be16 *ports;
	__be16 pbuf[2];

	iph = skb_header_pointer(skb, off, sizeof(ipbuf), &ipbuf);
	if (!iph || iph->ihl < 5)
		return false;
	ip->proto = iph->protocol;
	ip->has_ports = false;
	if ((iph->protocol != IPPROTO_UDP && iph->protocol != IPPROTO_TCP) ||
	    (iph->frag_off & htons(IP_OFFSET)))
		return true;
	ports = skb_header_pointer(skb, off + iph->ihl * 4, sizeof(pbuf), pbuf);
	if (ports) {
		ip->has_ports = true;
		ip->sport = ntohs(ports[0]);
		ip->dport = ntohs(ports[1]);
	}
	return true;
}

/**
 * exo_flow_demux() - the claim a received frame belongs to: its UDP/TCP
 *	port, else its IP protocol, else its ethertype.
 * @table: the interface's claims; the caller holds rcu_read_lock().
 * @skb: the frame, skb->data at the network header.
 *
 * At most three lookups, whatever the number of claims.
 *
 * Return: the claim, or NULL.
 */
struct exo_flow *exo_flow_demux(struct xarray *table, struct sk_buff *skb)
{
	u16 ethertype = ntohs(skb->protocol);
	struct exo_flow_ip ip;
	struct exo_flow *c;

	if (ethertype == ETH_P_IP && exo_flow_parse_ip(skb, 0, &ip)) {
		if (ip.has_ports) {
			c = xa_load(table,
				    exo_flow_key(ethertype, ip.proto, ip.dport));
			if (c)
				return c;
		}
		c = xa_load(table, exo_flow_key(ethertype, ip.proto, 0));
		if (c)
			return c;
	}
	return xa_load(table, exo_flow_key(ethertype, 0, 0));
}

/**
 * exo_flow_cmd_unclaim() - give a claim up (%EXO_IOC_NET_UNCLAIM).
 * @ucmd: the command.
 *
 * Return: 0, -EINVAL or -ENOENT.
 */
int exo_flow_cmd_unclaim(struct exo_ucmd *ucmd)
{
	const struct exo_net_unclaim *req = ucmd->cmd;

	if (req->__reserved)
		return -EINVAL;
	return exo_flow_unclaim(ucmd->ctx, req->id);
}

/**
 * exo_flow_cmd_handler() - set or clear a claim's handler
 *	(%EXO_IOC_NET_HANDLER).
 * @ucmd: the command.
 *
 * Return: 0, -ENOENT, -EBADF or -EINVAL.
 */
int exo_flow_cmd_handler(struct exo_ucmd *ucmd)
{
	const struct exo_net_handler *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct bpf_prog *prog, *old;
	struct exo_flow *c;

	prog = exo_flow_prog_get(req->prog_fd);
	if (IS_ERR(prog))
		return PTR_ERR(prog);
	mutex_lock(&exo_net_lock);
	c = xa_load(&ctx->net.claims, req->id);
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
 * exo_flow_cmd_stats() - a claim's counters (%EXO_IOC_NET_STATS).
 * @ucmd: the command; the counters are filled in.
 *
 * Return: 0, -EINVAL or -ENOENT.
 */
int exo_flow_cmd_stats(struct exo_ucmd *ucmd)
{
	struct exo_net_stats *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_flow *c;

	if (req->__reserved)
		return -EINVAL;
	mutex_lock(&exo_net_lock);
	c = xa_load(&ctx->net.claims, req->id);
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
 * exo_flow_of_tx() - the claim a frame to be sent belongs to: the claim of
 *	its ethertype, else of its IP protocol, else of its UDP/TCP source
 *	port.
 * @table: the interface's claims; the caller holds rcu_read_lock().
 * @skb: the frame, data at its Ethernet header.
 *
 * Return: the claim, or NULL.
 */
struct exo_flow *exo_flow_of_tx(struct xarray *table, struct sk_buff *skb)
{
	const struct ethhdr *eth = (const struct ethhdr *)skb->data;
	u16 ethertype = ntohs(eth->h_proto);
	struct exo_flow_ip ip;
	struct exo_flow *c;

	c = xa_load(table, exo_flow_key(ethertype, 0, 0));
	if (c || ethertype != ETH_P_IP ||
	    !exo_flow_parse_ip(skb, ETH_HLEN, &ip))
		return c;
	c = xa_load(table, exo_flow_key(ethertype, ip.proto, 0));
	if (c || !ip.has_ports)
		return c;
	return xa_load(table, exo_flow_key(ethertype, ip.proto, ip.sport));
}
