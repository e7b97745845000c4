// SPDX-License-Identifier: GPL-2.0
/*
 * The receive and transmit rings: frames the library OS owns, pinned and
 * mapped contiguously into the kernel (vmap), laid out as
 * struct exo_net_ring_header and slots (Documentation/net.rst).
 *
 * exo keeps its own copy of the indices it produces and never trusts the
 * ones the library OS writes: a consumer index that makes no sense makes
 * the ring full, a producer index more than a ring ahead is refused.
 */
#include <linux/eventfd.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <net/net_namespace.h>

#include "exo.h"
#include "exo_cap.h"
#include "exo_compat.h"
#include "exo_ctx.h"
#include "exo_netring.h"

/* Capabilities one ring may be made of. */
#define EXO_NET_RING_CAPS	64

/**
 * struct exo_netring - a registered ring.
 * @hdr: its first page, the header (also the start of the vmap).
 * @kind: %EXO_NET_RX or %EXO_NET_TX.
 * @nr_slots: slots, a power of two.
 * @prod: RX: exo's producer index; the header's copy is for reading only.
 * @cons: TX: exo's consumer index.
 * @drops: RX: packets lost to a full ring.
 * @sent: TX: frames sent.
 * @rejected: TX: frames refused.
 * @lock: RX: serialises the producers (softirq, any CPU).
 * @efd: RX: eventfd signalled on empty -> not empty, or NULL.
 * @ctx: the owner (its poll waiters are woken too).
 * @nr_caps: entries in @caps.
 * @caps: the pinned capabilities, in ring order.
 */
struct exo_netring {
	struct exo_net_ring_header *hdr;
	u32 kind;
	u32 nr_slots;
	u32 prod;
	u32 cons;
	u64 drops;
	u64 sent;
	u64 rejected;
	spinlock_t lock;	/* RX producers */
	struct eventfd_ctx *efd;
	struct exo_ctx *ctx;
	u32 nr_caps;
	u64 caps[];
};

static void *exo_netring_slot(struct exo_netring *r, u32 index)
{
	return (u8 *)r->hdr + PAGE_SIZE +
	       (size_t)(index & (r->nr_slots - 1)) * EXO_NET_SLOT_SIZE;
}

/* Unpin the first @nr capabilities of @r. ctx->lock held. */
static void exo_netring_unpin(struct exo_ctx *ctx, struct exo_netring *r,
			      u32 nr)
{
	struct exo_cap *f;
	u32 i;

	for (i = 0; i < nr; i++) {
		f = exo_cap_lookup(ctx, r->caps[i]);
		if (WARN_ON_ONCE(!f || !f->pinned))
			continue;
		f->pinned = false;
		ctx->net.pinned -= 1U << f->order;
	}
}

/* Pin @r's capabilities and collect their pages. ctx->lock held. */
static int exo_netring_pin(struct exo_ctx *ctx, struct exo_netring *r,
			   struct page ***pagesp, u32 *nr_pages)
{
	struct page **pages = NULL;
	struct exo_cap *f;
	u32 i, j, n = 0;
	int ret;

	for (i = 0; i < r->nr_caps; i++) {
		f = exo_cap_lookup(ctx, r->caps[i]);
		ret = -ENOENT;
		if (!f || f->src)
			goto err;
		ret = -EBUSY;
		if (f->pinned)
			goto err;
		f->pinned = true;
		ctx->net.pinned += 1U << f->order;
		n += 1U << f->order;
	}
	ret = -EINVAL;
	if (n < 2)
		goto err;
	ret = -ENOMEM;
	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		goto err;
	n = 0;
	for (i = 0; i < r->nr_caps; i++) {
		f = exo_cap_lookup(ctx, r->caps[i]);
		for (j = 0; j < 1U << f->order; j++)
			pages[n++] = pfn_to_page(f->pfn + j);
	}
	*pagesp = pages;
	*nr_pages = n;
	return 0;
err:
	exo_netring_unpin(ctx, r, i);
	return ret;
}

/* The registered ring of @kind. ctx->lock held. */
static struct exo_netring *exo_netring_get(struct exo_ctx *ctx, u32 kind)
{
	if (kind == EXO_NET_RX)
		return rcu_dereference_protected(ctx->net.rx,
						 lockdep_is_held(&ctx->lock));
	return ctx->net.tx;
}

static int exo_netring_unregister(struct exo_ctx *ctx, u32 kind)
{
	struct exo_netring *r;

	mutex_lock(&ctx->lock);
	r = exo_netring_get(ctx, kind);
	if (r) {
		if (kind == EXO_NET_RX)
			RCU_INIT_POINTER(ctx->net.rx, NULL);
		else
			ctx->net.tx = NULL;
	}
	mutex_unlock(&ctx->lock);
	if (!r)
		return -ENOENT;
	/* The receive path may still be writing into it. */
	synchronize_net();
	if (kind == EXO_NET_TX) {
		/* EXO_IOC_NET_TX reads it under net.tx_lock. */
		mutex_lock(&ctx->net.tx_lock);
		mutex_unlock(&ctx->net.tx_lock);
	}
	exo_netring_free(ctx, r);
	return 0;
}

/**
 * exo_netring_cmd_register() - register or unregister a ring
 *	(%EXO_IOC_NET_RING).
 * @ucmd: the command; its nr_slots is set.
 *
 * Return: 0, -EINVAL, -ENOENT, -EBUSY, -EFAULT, -EBADF or -ENOMEM.
 */
int exo_netring_cmd_register(struct exo_ucmd *ucmd)
{
	struct exo_net_ring *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct eventfd_ctx *efd = NULL;
	struct exo_netring *r;
	struct page **pages = NULL;
	u32 nr_pages;
	int ret;

	if (req->kind != EXO_NET_RX && req->kind != EXO_NET_TX)
		return -EINVAL;
	if (!req->nr_caps) {
		if (req->caps || req->eventfd != -1)
			return -EINVAL;
		return exo_netring_unregister(ctx, req->kind);
	}
	if (req->nr_caps > EXO_NET_RING_CAPS ||
	    (req->kind == EXO_NET_TX && req->eventfd != -1))
		return -EINVAL;
	r = kzalloc(struct_size(r, caps, req->nr_caps), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->kind = req->kind;
	r->nr_caps = req->nr_caps;
	r->ctx = ctx;
	spin_lock_init(&r->lock);
	if (copy_from_user(r->caps, u64_to_user_ptr(req->caps),
			   req->nr_caps * sizeof(u64))) {
		ret = -EFAULT;
		goto err_free;
	}
	if (req->eventfd != -1) {
		efd = eventfd_ctx_fdget(req->eventfd);
		if (IS_ERR(efd)) {
			ret = PTR_ERR(efd);
			efd = NULL;
			goto err_free;
		}
	}
	r->efd = efd;

	mutex_lock(&ctx->lock);
	ret = -EBUSY;
	if (exo_netring_get(ctx, req->kind))
		goto err_unlock;
	ret = exo_netring_pin(ctx, r, &pages, &nr_pages);
	if (ret)
		goto err_unlock;
	r->hdr = vmap(pages, nr_pages, VM_MAP, PAGE_KERNEL);
	kvfree(pages);
	if (!r->hdr) {
		exo_netring_unpin(ctx, r, r->nr_caps);
		ret = -ENOMEM;
		goto err_unlock;
	}
	r->nr_slots = rounddown_pow_of_two((nr_pages - 1) *
					   (PAGE_SIZE / EXO_NET_SLOT_SIZE));
	memset(r->hdr, 0, sizeof(*r->hdr));
	r->hdr->magic = EXO_NET_RING_MAGIC;
	r->hdr->version = EXO_NET_RING_VERSION;
	r->hdr->kind = r->kind;
	r->hdr->nr_slots = r->nr_slots;
	r->hdr->slot_size = EXO_NET_SLOT_SIZE;
	r->hdr->slots_offset = PAGE_SIZE;
	req->nr_slots = r->nr_slots;
	if (req->kind == EXO_NET_RX)
		rcu_assign_pointer(ctx->net.rx, r);
	else
		ctx->net.tx = r;
	ctx->net.used = true;
	mutex_unlock(&ctx->lock);
	return 0;

err_unlock:
	mutex_unlock(&ctx->lock);
	if (efd)
		eventfd_ctx_put(efd);
err_free:
	kfree(r);
	return ret;
}

/**
 * exo_netring_cmd_register_undo() - %EXO_IOC_NET_RING could not tell the
 *	caller: unregister again.
 * @ucmd: the command as exo_netring_cmd_register() completed it.
 */
void exo_netring_cmd_register_undo(struct exo_ucmd *ucmd)
{
	const struct exo_net_ring *req = ucmd->cmd;

	if (req->nr_caps)
		exo_netring_unregister(ucmd->ctx, req->kind);
}

/**
 * exo_netrings_unpublish() - take a closing context's rings out of reach.
 * @ctx: the context.
 * @rx: out: its receive ring, or NULL.
 * @tx: out: its transmit ring, or NULL.
 *
 * The caller frees them with exo_netring_free() after a grace period.
 */
void exo_netrings_unpublish(struct exo_ctx *ctx, struct exo_netring **rx,
			    struct exo_netring **tx)
{
	mutex_lock(&ctx->lock);
	*rx = rcu_dereference_protected(ctx->net.rx,
					lockdep_is_held(&ctx->lock));
	RCU_INIT_POINTER(ctx->net.rx, NULL);
	*tx = ctx->net.tx;
	ctx->net.tx = NULL;
	mutex_unlock(&ctx->lock);
}

/**
 * exo_netring_free() - unmap a ring no one can reach and unpin its frames.
 * @ctx: its context.
 * @r: the ring, or NULL.
 */
void exo_netring_free(struct exo_ctx *ctx, struct exo_netring *r)
{
	if (!r)
		return;
	vunmap(r->hdr);
	mutex_lock(&ctx->lock);
	exo_netring_unpin(ctx, r, r->nr_caps);
	mutex_unlock(&ctx->lock);
	if (r->efd)
		eventfd_ctx_put(r->efd);
	kfree(r);
}

/**
 * exo_netring_rx_pending() - does the receive ring hold packets?
 * @ctx: the context.
 *
 * Return: true if the library OS has not consumed everything exo produced.
 */
bool exo_netring_rx_pending(struct exo_ctx *ctx)
{
	struct exo_netring *r;
	bool pending;

	rcu_read_lock();
	r = rcu_dereference(ctx->net.rx);
	pending = r && READ_ONCE(r->hdr->cons) != READ_ONCE(r->prod);
	rcu_read_unlock();
	return pending;
}

/**
 * exo_netring_rx_deliver() - copy a frame into the context's receive ring.
 * @ctx: the claim's owner.
 * @skb: the frame, data at its Ethernet header.
 * @claim: the claim's id.
 * @tag: what the handler left in cb[%EXO_NET_CB_TAG].
 *
 * Runs in the receive path, under RCU.
 *
 * Return: true if delivered; false if the ring is full or missing (then
 * the ring's drops counter moves).
 */
bool exo_netring_rx_deliver(struct exo_ctx *ctx, struct sk_buff *skb,
			    u32 claim, u32 tag)
{
	struct exo_netring *r = rcu_dereference(ctx->net.rx);
	struct exo_net_slot *s;
	u32 prod, cons, len;
	bool wake;

	if (!r)
		return false;
	len = min_t(u32, skb->len, EXO_NET_SLOT_MAX);
	spin_lock(&r->lock);
	prod = r->prod;
	cons = READ_ONCE(r->hdr->cons);
	/* Full, or a consumer index the library OS made up: no room. */
	if (prod - cons >= r->nr_slots) {
		WRITE_ONCE(r->hdr->drops, ++r->drops);
		spin_unlock(&r->lock);
		return false;
	}
	s = exo_netring_slot(r, prod);
	s->len = len;
	s->wire_len = skb->len;
	s->claim = claim;
	s->ifindex = skb->dev->ifindex;
	s->tag = tag;
	s->flags = (len < skb->len ? EXO_NET_SLOT_TRUNC : 0) |
		   (skb->ip_summed == CHECKSUM_UNNECESSARY ||
		    skb->ip_summed == CHECKSUM_PARTIAL ?
		    EXO_NET_SLOT_CSUM_OK : 0);
	s->tstamp_ns = ktime_get_ns();
	if (skb_copy_bits(skb, 0, (u8 *)s + EXO_NET_SLOT_DATA, len))
		s->len = 0;
	r->prod = prod + 1;
	/* The slot is complete before the library OS can see the index. */
	smp_store_release(&r->hdr->prod, prod + 1);
	wake = prod == cons;
	spin_unlock(&r->lock);
	if (wake) {
		if (r->efd)
			exo_eventfd_signal(r->efd);
		wake_up_interruptible(&ctx->fault.readq);
	}
	return true;
}

/**
 * exo_netring_tx() - send what the transmit ring holds.
 * @ctx: the context.
 * @send: sends one slot (the network's checks and transmission).
 * @sent: out: slots sent.
 * @rejected: out: slots refused.
 *
 * Return: 0, -ENOENT without a transmit ring, -EINVAL if its producer
 * index is more than a ring ahead (nothing is sent then).
 */
int exo_netring_tx(struct exo_ctx *ctx, exo_netring_send_fn send, u32 *sent,
		   u32 *rejected)
{
	struct exo_netring *r;
	u32 prod, ok = 0, bad = 0;
	int ret = 0;

	mutex_lock(&ctx->net.tx_lock);
	mutex_lock(&ctx->lock);
	r = ctx->net.tx;
	mutex_unlock(&ctx->lock);
	if (!r) {
		ret = -ENOENT;
		goto out;
	}
	/* Pairs with the library OS's release: its slots are written. */
	prod = smp_load_acquire(&r->hdr->prod);
	if (prod - r->cons > r->nr_slots) {
		ret = -EINVAL;
		goto out;
	}
	for (; r->cons != prod; r->cons++) {
		if (send(ctx, exo_netring_slot(r, r->cons)))
			ok++;
		else
			bad++;
	}
	r->sent += ok;
	r->rejected += bad;
	WRITE_ONCE(r->hdr->sent, r->sent);
	WRITE_ONCE(r->hdr->rejected, r->rejected);
	/* Slots are read (copied) before the library OS may reuse them. */
	smp_store_release(&r->hdr->cons, r->cons);
	*sent = ok;
	*rejected = bad;
out:
	mutex_unlock(&ctx->net.tx_lock);
	return ret;
}
