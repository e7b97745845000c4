// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * libexo: the network, the raw calls (attach, claims, handlers, counters)
 * and the receive and transmit rings.
 *
 * A ring is frames the library OS owns: exo_net_open() allocates them,
 * binds them into an exo VMA of its own (the receive ring's frames first,
 * then the transmit ring's, each ring's header page first) and registers
 * each ring with EXO_IOC_NET_RING. From then on packets are read and
 * queued in that mapping with acquire/release loads and stores of the
 * header's indices; only waiting and sending take a system call.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "libexo.h"
#include "internal.h"

/* The module takes at most this many capabilities per ring. */
#define NET_RING_MAX_CAPS	64
#define NET_DEFAULT_SLOTS	256

static int net_attach(struct exo *exo, unsigned int ifindex, uint32_t flags)
{
	struct exo_net_attach a = {
		.size = sizeof(a),
		.flags = flags,
		.ifindex = ifindex,
	};

	if (!exo)
		return -EINVAL;
	return lx_ioctl(exo, EXO_IOC_NET_ATTACH, &a);
}

int exo_net_attach(struct exo *exo, unsigned int ifindex)
{
	return net_attach(exo, ifindex, 0);
}

int exo_net_detach(struct exo *exo, unsigned int ifindex)
{
	return net_attach(exo, ifindex, EXO_NET_DETACH);
}

int exo_net_claim(struct exo *exo, unsigned int ifindex, uint16_t ethertype,
		  uint8_t ip_proto, uint16_t port, int prog_fd, uint32_t *id)
{
	struct exo_net_claim c = {
		.size = sizeof(c),
		.ifindex = ifindex,
		.ethertype = ethertype,
		.ip_proto = ip_proto,
		.port = port,
		.abi = EXO_NET_ABI,
		.prog_fd = prog_fd,
	};
	int ret;

	if (!exo || !id)
		return -EINVAL;
	ret = lx_ioctl(exo, EXO_IOC_NET_CLAIM, &c);
	if (!ret)
		*id = c.id;
	return ret;
}

int exo_net_unclaim(struct exo *exo, uint32_t id)
{
	struct exo_net_unclaim u = { .size = sizeof(u), .id = id };

	if (!exo)
		return -EINVAL;
	return lx_ioctl(exo, EXO_IOC_NET_UNCLAIM, &u);
}

int exo_net_set_handler(struct exo *exo, uint32_t id, int prog_fd)
{
	struct exo_net_handler h = {
		.size = sizeof(h),
		.id = id,
		.prog_fd = prog_fd,
	};

	if (!exo)
		return -EINVAL;
	return lx_ioctl(exo, EXO_IOC_NET_HANDLER, &h);
}

int exo_net_stats(struct exo *exo, uint32_t id, struct exo_net_stats *out)
{
	struct exo_net_stats s = { .size = sizeof(s), .id = id };
	int ret;

	if (!exo || !out)
		return -EINVAL;
	ret = lx_ioctl(exo, EXO_IOC_NET_STATS, &s);
	if (!ret)
		*out = s;
	return ret;
}

/* One ring: its place in the VMA and the capabilities of its frames. */
struct net_ring {
	struct exo_net_ring_header *hdr;	/* NULL until checked */
	char *base;			/* the ring's first page in the VMA */
	exo_cap_t caps[NET_RING_MAX_CAPS];
	uint32_t orders[NET_RING_MAX_CAPS];
	uint32_t nr_caps;
	uint32_t nr_frames;		/* frames the ring needs */
	uint32_t nr_slots;
	uint32_t slots_offset;		/* checked once, from the header */
	bool registered;
	/* The index this side owns: RX cons, TX prod. */
	uint32_t mine;
};

struct exo_net {
	struct exo *exo;
	int efd;
	void *va;			/* the exo VMA, @len bytes */
	size_t len;
	size_t page;
	bool bound;			/* some page of the VMA is bound */
	struct net_ring rx, tx;
};

struct exo *exo_net_exo(const struct exo_net *net)
{
	return net ? net->exo : NULL;
}

int exo_net_fd(const struct exo_net *net)
{
	return net ? net->efd : -EINVAL;
}

const struct exo_net_ring_header *exo_net_rx_ring(const struct exo_net *net)
{
	return net ? net->rx.hdr : NULL;
}

const struct exo_net_ring_header *exo_net_tx_ring(const struct exo_net *net)
{
	return net ? net->tx.hdr : NULL;
}

/* Slots of a ring: a power of two, at least 2. */
static int net_slots(uint32_t want, uint32_t *out)
{
	if (!want)
		want = NET_DEFAULT_SLOTS;
	if (want < 2 || (want & (want - 1)) || want > (1u << 20))
		return -EINVAL;
	*out = want;
	return 0;
}

/*
 * The ring's frames: 1 + slots / 2 of them, in as few capabilities as
 * contiguous runs allow (the module takes 64 per ring); where Linux has no
 * run of an order, smaller ones.
 */
static int net_ring_alloc(struct exo *exo, struct net_ring *r)
{
	uint32_t left = r->nr_frames, max_order = exo_api(exo)->max_order;
	uint32_t order = 31;
	struct exo_frame f;
	int ret;

	if (!(exo_api(exo)->features & EXO_FEAT_FRAME_CONTIG))
		max_order = 0;
	while (left) {
		if (r->nr_caps == NET_RING_MAX_CAPS)
			return -ENOMEM;
		while (order && ((1u << order) > left || order > max_order))
			order--;
		if (order)
			ret = exo_frame_alloc_contig(exo, order, &f);
		else
			ret = exo_frame_alloc(exo, &f);
		if (ret) {
			/* No run that long: try shorter ones. */
			if (order && (ret == -ENOMEM || ret == -EBUSY ||
				      ret == -EAGAIN || ret == -EINVAL)) {
				order--;
				continue;
			}
			return ret;
		}
		r->caps[r->nr_caps] = f.cap;
		r->orders[r->nr_caps] = order;
		r->nr_caps++;
		left -= 1u << order;
	}
	return 0;
}

/* Bind the ring's frames at consecutive pages from r->base, in order. */
static int net_ring_bind(struct exo_net *net, struct net_ring *r)
{
	uint32_t max = exo_api(net->exo)->max_batch, i, n;
	struct exo_map_entry e[NET_RING_MAX_CAPS];
	char *va = r->base;
	int ret;

	for (i = 0; i < r->nr_caps; i++) {
		e[i] = (struct exo_map_entry){
			.va = (uintptr_t)va,
			.cap = r->caps[i],
			.nr = 1u << r->orders[i],
			.prot = EXO_PROT_READ | EXO_PROT_WRITE,
		};
		va += (size_t)e[i].nr * net->page;
	}
	if (!max)
		max = 1;
	for (i = 0; i < r->nr_caps; i += n) {
		n = r->nr_caps - i < max ? r->nr_caps - i : max;
		ret = exo_vma_map(net->exo, e + i, n);
		if (ret)
			return ret;
		net->bound = true;
	}
	return 0;
}

static int net_ring_register(struct exo_net *net, uint32_t kind,
			     uint32_t nr_caps, const exo_cap_t *caps, int efd,
			     uint32_t *nr_slots)
{
	struct exo_net_ring reg = {
		.size = sizeof(reg),
		.kind = kind,
		.nr_caps = nr_caps,
		.caps = (uintptr_t)caps,
		.eventfd = efd,
	};
	int ret;

	ret = lx_ioctl(net->exo, EXO_IOC_NET_RING, &reg);
	if (!ret && nr_slots)
		*nr_slots = reg.nr_slots;
	return ret;
}

/* The header exo wrote must describe the ring we asked for. */
static int net_ring_check(struct exo_net *net, struct net_ring *r,
			  uint32_t kind, uint32_t nr_slots)
{
	struct exo_net_ring_header *h = (void *)r->base;
	uint64_t end;

	if (h->magic != EXO_NET_RING_MAGIC ||
	    h->version != EXO_NET_RING_VERSION || h->kind != kind ||
	    h->nr_slots != r->nr_slots || nr_slots != r->nr_slots ||
	    h->slot_size != EXO_NET_SLOT_SIZE ||
	    h->slots_offset < sizeof(*h) ||
	    h->slots_offset % _Alignof(struct exo_net_slot))
		return -EPROTO;
	end = (uint64_t)h->slots_offset +
	      (uint64_t)h->nr_slots * h->slot_size;
	if (end > (uint64_t)r->nr_frames * net->page)
		return -EPROTO;
	r->hdr = h;
	r->slots_offset = h->slots_offset;
	/* Our own index starts where exo left it (zero). */
	r->mine = __atomic_load_n(kind == EXO_NET_RX ? &h->cons : &h->prod,
				  __ATOMIC_ACQUIRE);
	return 0;
}

static int net_ring_setup(struct exo_net *net, struct net_ring *r,
			  uint32_t kind, int efd)
{
	uint32_t nr_slots = 0;
	int ret;

	ret = net_ring_bind(net, r);
	if (ret)
		return ret;
	ret = net_ring_register(net, kind, r->nr_caps, r->caps, efd,
				&nr_slots);
	if (ret)
		return ret;
	r->registered = true;
	return net_ring_check(net, r, kind, nr_slots);
}

int exo_net_open(struct exo *exo, const struct exo_net_opts *opts,
		 struct exo_net **out)
{
	struct exo_net_opts o = { .sz = sizeof(o) };
	struct exo_net *net;
	int ret;

	if (!exo || !out)
		return -EINVAL;
	ret = opts ? exo_opts_copy(&o, sizeof(o), opts, sizeof(opts->sz)) : 0;
	if (ret)
		return ret;

	net = calloc(1, sizeof(*net));
	if (!net)
		return -ENOMEM;
	net->exo = exo;
	net->efd = -1;
	net->page = exo_api(exo)->page_size;
	ret = net_slots(o.rx_slots, &net->rx.nr_slots);
	if (!ret)
		ret = net_slots(o.tx_slots, &net->tx.nr_slots);
	if (ret)
		goto err;
	/* Two slots per 4 KiB frame, after the header page. */
	if (net->page != 2 * EXO_NET_SLOT_SIZE) {
		ret = -EOPNOTSUPP;
		goto err;
	}
	net->rx.nr_frames = 1 + net->rx.nr_slots / 2;
	net->tx.nr_frames = 1 + net->tx.nr_slots / 2;

	ret = net_ring_alloc(exo, &net->rx);
	if (!ret)
		ret = net_ring_alloc(exo, &net->tx);
	if (ret)
		goto err;

	net->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (net->efd < 0) {
		ret = -errno;
		goto err;
	}

	net->len = (size_t)(net->rx.nr_frames + net->tx.nr_frames) *
		   net->page;
	ret = exo_vma_create(exo, net->len, PROT_READ | PROT_WRITE, &net->va);
	if (ret) {
		net->va = NULL;
		goto err;
	}
	net->rx.base = net->va;
	net->tx.base = (char *)net->va + (size_t)net->rx.nr_frames * net->page;

	ret = net_ring_setup(net, &net->rx, EXO_NET_RX, net->efd);
	if (!ret)
		ret = net_ring_setup(net, &net->tx, EXO_NET_TX, -1);
	if (ret)
		goto err;

	*out = net;
	return 0;
err:
	exo_net_close(net);
	return ret;
}

static void net_ring_free(struct exo_net *net, struct net_ring *r)
{
	uint32_t i;

	r->hdr = NULL;
	for (i = 0; i < r->nr_caps; i++)
		exo_frame_free(net->exo, r->caps[i]);
	r->nr_caps = 0;
}

/* Safe on a half-open exo_net: each step undoes only what was done. */
void exo_net_close(struct exo_net *net)
{
	int saved;

	if (!net)
		return;
	saved = errno;
	/* Unregister first: a registered ring's frames are pinned. */
	if (net->rx.registered)
		net_ring_register(net, EXO_NET_RX, 0, NULL, -1, NULL);
	if (net->tx.registered)
		net_ring_register(net, EXO_NET_TX, 0, NULL, -1, NULL);
	net->rx.registered = net->tx.registered = false;
	if (net->va) {
		if (net->bound) {
			struct exo_vrange vr = {
				.va = (uintptr_t)net->va,
				.len = net->len,
			};

			exo_vma_unmap(net->exo, &vr, 1);
		}
		exo_vma_destroy(net->exo, net->va, net->len);
	}
	net_ring_free(net, &net->rx);
	net_ring_free(net, &net->tx);
	if (net->efd >= 0)
		close(net->efd);
	free(net);
	errno = saved;
}

static uint32_t net_rx_avail(const struct exo_net *net)
{
	uint32_t prod = __atomic_load_n(&net->rx.hdr->prod, __ATOMIC_ACQUIRE);
	uint32_t n = prod - net->rx.mine;

	/* exo never runs more than a ring ahead; more is a corrupt index. */
	return n > net->rx.nr_slots ? net->rx.nr_slots : n;
}

static struct exo_net_slot *net_slot(const struct net_ring *r, uint32_t i)
{
	return (void *)((char *)r->hdr + r->slots_offset +
			(size_t)(i & (r->nr_slots - 1)) * EXO_NET_SLOT_SIZE);
}

static int64_t net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int exo_net_rx_wait(struct exo_net *net, int timeout_ms)
{
	int64_t deadline = 0, left;
	struct pollfd p;
	uint64_t v;
	int ret;

	if (!net || !net->rx.hdr)
		return -EINVAL;
	if (timeout_ms > 0)
		deadline = net_now_ms() + timeout_ms;
	for (;;) {
		/*
		 * exo signals the eventfd only when the ring goes from empty
		 * to not empty, so look at the ring after each drain: a
		 * packet that came before the drain signalled nothing new.
		 */
		if (net_rx_avail(net))
			return 1;
		left = timeout_ms;
		if (timeout_ms > 0) {
			left = deadline - net_now_ms();
			if (left < 0)
				left = 0;
		}
		p.fd = net->efd;
		p.events = POLLIN;
		p.revents = 0;
		ret = poll(&p, 1, (int)left);
		if (ret < 0)
			return -errno;
		if (ret == 0)
			return net_rx_avail(net) ? 1 : 0;
		if (read(net->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -errno;
	}
}

uint32_t exo_net_rx_peek(struct exo_net *net, struct exo_net_pkt *pkts,
			 uint32_t nr)
{
	const struct exo_net_slot *s;
	uint32_t avail, i;

	if (!net || !net->rx.hdr || !pkts)
		return 0;
	avail = net_rx_avail(net);
	if (nr > avail)
		nr = avail;
	for (i = 0; i < nr; i++) {
		s = net_slot(&net->rx, net->rx.mine + i);
		pkts[i].data = (const char *)s + EXO_NET_SLOT_DATA;
		/* The slot is our memory but exo's to fill: never read past it. */
		pkts[i].len = s->len > EXO_NET_SLOT_MAX ? EXO_NET_SLOT_MAX
							 : s->len;
		pkts[i].wire_len = s->wire_len;
		pkts[i].claim = s->claim;
		pkts[i].ifindex = s->ifindex;
		pkts[i].tag = s->tag;
		pkts[i].flags = s->flags;
		pkts[i].tstamp_ns = s->tstamp_ns;
	}
	return nr;
}

void exo_net_rx_release(struct exo_net *net, uint32_t nr)
{
	uint32_t avail;

	if (!net || !net->rx.hdr)
		return;
	avail = net_rx_avail(net);
	if (nr > avail)
		nr = avail;
	net->rx.mine += nr;
	__atomic_store_n(&net->rx.hdr->cons, net->rx.mine, __ATOMIC_RELEASE);
}

static bool net_tx_full(const struct exo_net *net)
{
	uint32_t cons = __atomic_load_n(&net->tx.hdr->cons, __ATOMIC_ACQUIRE);

	return net->tx.mine - cons >= net->tx.nr_slots;
}

void *exo_net_tx_slot(struct exo_net *net)
{
	if (!net || !net->tx.hdr || net_tx_full(net))
		return NULL;
	return (char *)net_slot(&net->tx, net->tx.mine) + EXO_NET_SLOT_DATA;
}

int exo_net_tx_commit(struct exo_net *net, unsigned int ifindex,
		      uint32_t len)
{
	struct exo_net_slot *s;

	if (!net || !net->tx.hdr || !len || len > EXO_NET_SLOT_MAX)
		return -EINVAL;
	if (net_tx_full(net))
		return -ENOBUFS;
	s = net_slot(&net->tx, net->tx.mine);
	s->len = len;
	s->wire_len = len;
	s->claim = 0;
	s->ifindex = ifindex;
	s->tag = 0;
	s->flags = 0;
	s->tstamp_ns = 0;
	net->tx.mine++;
	__atomic_store_n(&net->tx.hdr->prod, net->tx.mine, __ATOMIC_RELEASE);
	return 0;
}

int exo_net_tx_flush(struct exo_net *net, uint32_t *rejected)
{
	struct exo_net_tx t = { .size = sizeof(t) };
	int ret;

	if (!net || !net->tx.hdr)
		return -EINVAL;
	ret = lx_ioctl(net->exo, EXO_IOC_NET_TX, &t);
	if (ret)
		return ret;
	if (rejected)
		*rejected += t.rejected;
	return (int)t.sent;
}
