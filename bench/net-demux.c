// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * DEMUX-N: what receiving a packet costs when N flows are claimed. One
 * round is one burst of NB_DEMUX_BURST datagrams from the peer host,
 * round-robin over N UDP ports; it is timed from the first send to the
 * last receive and divided by the packets received. The burst goes out
 * NB_SEND_BATCH datagrams to a sendmmsg(2), and after each the receiver
 * takes what has arrived, so it keeps up with small buffers. Everything
 * runs on one CPU: veth hands each frame to the receive path (softirq) in
 * the sender's own system call, so the time is the sum of all the work
 * the burst causes: sending (the same in every column), demultiplexing,
 * queueing and receiving.
 *
 *   exo        one context holds N port claims with no handler (deliver);
 *              the kernel demuxes by its claim table and copies each frame
 *              into the receive ring, read in place with no system call
 *   AF_PACKET  N packet sockets on the interface, each with a classic BPF
 *              filter accepting its port: every frame runs all N filters
 *   UDP        N UDP sockets bound to the N ports: Linux's own demux
 *
 * The two socket columns drain their sockets with epoll_wait(2) and
 * recvmmsg(2). Every packet's port is checked against the claim or socket
 * that received it; packets sent but not received are counted and printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <libexo.h>

#include "net-bench.h"

#define DRAIN_IDLE_NS	300000000ull	/* no packet for this long: lost */
#define RECV_BATCH	64
#define RING_SLOTS	1024
#define RUN_ORDER	6		/* ring frames come in runs of 64 */
#define SOCK_BUF	(1 << 20)	/* SO_RCVBUF: many times a batch */

struct nd_col {
	unsigned int n;		/* flows */
	uint64_t lost, sent, ring_drops;
	/* exo */
	struct exo *exo;
	void *va;
	size_t len;
	struct exo_net_ring_header *hdr;
	uint32_t nslots, *ids;
	/* sockets */
	int *fds, ep;
};

void nd_lost(const struct bench_col *c, uint64_t *lost, uint64_t *sent)
{
	const struct nd_col *d = c->priv;

	*lost = d ? d->lost : 0;
	*sent = d ? d->sent : 0;
}

static struct nd_col *new_col(struct bench_col *c)
{
	struct nd_col *d = calloc(1, sizeof(*d));

	if (!d)
		die("out of memory");
	d->n = c->npages;
	d->ep = -1;
	c->priv = d;
	return d;
}

static void xcheck(int ret, const char *what)
{
	if (ret < 0)
		die("%s: %s", what, strerror(-ret));
}

static int exo_net_ioctl(struct exo *exo, unsigned long cmd, void *arg)
{
	return ioctl(exo_fd(exo), cmd, arg) < 0 ? -errno : 0;
}

/* A receive ring of at least @want slots, bound at d->va. */
static void exo_ring(struct nd_col *d, uint32_t want)
{
	struct exo_frame f;
	struct exo_map_entry e[64];
	uint64_t caps[64];
	struct exo_net_ring r;
	uint32_t frames, i, nr = 0, at = 0;
	char *va;

	/* nr_slots = 2 (F - 1) for F frames: the header page, then slots. */
	for (i = 2; i < want; i *= 2)
		;
	frames = 1 + i / 2;
	d->len = (size_t)frames * bench_page;
	xcheck(exo_vma_create(d->exo, d->len, PROT_READ | PROT_WRITE,
			      &d->va), "exo_vma_create");
	va = d->va;
	while (at < frames) {
		if (nr == 64)
			die("exo: a %u-slot ring needs more than 64 runs", i);
		if (at == 0 || frames - at < (1u << RUN_ORDER))
			xcheck(exo_frame_alloc(d->exo, &f), "exo_frame_alloc");
		else
			xcheck(exo_frame_alloc_contig(d->exo, RUN_ORDER, &f),
			       "exo_frame_alloc_contig");
		caps[nr] = f.cap;
		memset(&e[nr], 0, sizeof(e[nr]));
		e[nr].va = (uintptr_t)(va + (size_t)at * bench_page);
		e[nr].cap = f.cap;
		e[nr].nr = 1u << f.order;
		e[nr].prot = EXO_PROT_READ | EXO_PROT_WRITE;
		at += 1u << f.order;
		nr++;
	}
	xcheck(exo_vma_map(d->exo, e, nr), "exo_vma_map (ring)");
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.kind = EXO_NET_RX;
	r.nr_caps = nr;
	r.caps = (uintptr_t)caps;
	r.eventfd = -1;
	xcheck(exo_net_ioctl(d->exo, EXO_IOC_NET_RING, &r),
	       "EXO_IOC_NET_RING");
	d->hdr = d->va;
	d->nslots = r.nr_slots;
	if (d->hdr->magic != EXO_NET_RING_MAGIC || d->hdr->nr_slots != i ||
	    r.nr_slots != i || d->hdr->slots_offset != bench_page)
		die("exo: ring of %u frames: magic %#x, %u slots (%u out), "
		    "slots at %u", frames, d->hdr->magic, d->hdr->nr_slots,
		    r.nr_slots, d->hdr->slots_offset);
}

const char *nd_setup_exo(struct bench_col *c)
{
	struct nd_col *d = new_col(c);
	const struct nb_link *l = &nb_links[NB_EXO];
	struct exo_net_attach a = { .size = sizeof(a), .ifindex = l->ifindex };
	struct exo_net_claim cl;
	unsigned int i;

	xcheck(exo_open(&d->exo), "exo_open");
	if (!(exo_api(d->exo)->features & EXO_FEAT_NET)) {
		exo_close(d->exo);
		d->exo = NULL;
		return "exo.ko has no network interface (EXO_FEAT_NET)";
	}
	xcheck(exo_net_ioctl(d->exo, EXO_IOC_NET_ATTACH, &a),
	       "EXO_IOC_NET_ATTACH");
	exo_ring(d, RING_SLOTS);
	d->ids = calloc(d->n, sizeof(*d->ids));
	if (!d->ids)
		die("out of memory");
	for (i = 0; i < d->n; i++) {
		memset(&cl, 0, sizeof(cl));
		cl.size = sizeof(cl);
		cl.ifindex = l->ifindex;
		cl.ethertype = ETH_P_IP;
		cl.ip_proto = IPPROTO_UDP;
		cl.port = NB_DEMUX_PORT0 + i;
		cl.abi = EXO_NET_ABI;
		cl.prog_fd = -1;
		xcheck(exo_net_ioctl(d->exo, EXO_IOC_NET_CLAIM, &cl),
		       "EXO_IOC_NET_CLAIM");
		if (!cl.id)
			die("exo: claim of port %u returned id 0", cl.port);
		d->ids[i] = cl.id;
	}
	return NULL;
}

/* Every frame in the ring, checked and given back; how many. */
static unsigned int drain_ring(struct nd_col *d)
{
	struct exo_net_ring_header *h = d->hdr;
	const struct exo_net_slot *s;
	uint32_t cons = h->cons, prod, got;
	unsigned int port;

	prod = __atomic_load_n(&h->prod, __ATOMIC_ACQUIRE);
	got = prod - cons;
	if (got > d->nslots)
		die("exo: ring prod %u cons %u, %u slots", prod, cons,
		    d->nslots);
	for (; cons != prod; cons++) {
		s = (const void *)((const char *)d->va + h->slots_offset +
				   (size_t)(cons % d->nslots) * h->slot_size);
		port = nb_frame_dport((const uint8_t *)(s + 1), s->len);
		if (port < NB_DEMUX_PORT0 || port >= NB_DEMUX_PORT0 + d->n ||
		    s->claim != d->ids[port - NB_DEMUX_PORT0])
			die("exo: slot %u: port %u delivered by claim %u",
			    cons, port, s->claim);
	}
	__atomic_store_n(&h->cons, cons, __ATOMIC_RELEASE);
	return got;
}

void nd_trial_exo(struct bench_col *c, double *out)
{
	struct nd_col *d = c->priv;
	struct pollfd pfd = { .fd = exo_fd(d->exo), .events = POLLIN };
	uint64_t t0, last, drops0 = d->hdr->drops;
	unsigned int got = 0, sent, k, r;

	if (drain_ring(d))
		die("exo: receive ring not empty before the burst");
	t0 = bench_now();
	for (sent = 0; sent < NB_DEMUX_BURST; sent += k) {
		k = NB_DEMUX_BURST - sent < NB_SEND_BATCH ?
		    NB_DEMUX_BURST - sent : NB_SEND_BATCH;
		nb_send(&nb_links[NB_EXO], NB_DEMUX_PORT0, d->n, sent, k);
		got += drain_ring(d);
	}
	last = bench_now();
	/* Stragglers: softirq work the kernel left to ksoftirqd. */
	while (got < NB_DEMUX_BURST) {
		r = drain_ring(d);
		if (r) {
			got += r;
			last = bench_now();
		} else if (bench_now() - last > DRAIN_IDLE_NS) {
			break;
		} else {
			poll(&pfd, 1, 10);
		}
	}
	if (!got || got > NB_DEMUX_BURST)
		die("exo: %u packets received of %u sent", got,
		    NB_DEMUX_BURST);
	d->lost += NB_DEMUX_BURST - got;
	d->sent += NB_DEMUX_BURST;
	d->ring_drops += d->hdr->drops - drops0;
	out[0] = (double)(last - t0) / got;
}

void nd_teardown_exo(struct bench_col *c)
{
	struct nd_col *d = c->priv;

	if (d->ring_drops)
		printf("# exo: the receive ring counted %llu drops\n",
		       (unsigned long long)d->ring_drops);
	if (d->va)
		xcheck(exo_vma_destroy(d->exo, d->va, d->len),
		       "exo_vma_destroy");
	exo_close(d->exo);
	free(d->ids);
	d->exo = NULL;
	d->ids = NULL;
}

/* Accept the UDP datagrams of IPv4 to @port, unfragmented or first. */
static void attach_port_filter(int fd, uint16_t port)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 8),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, ETH_HLEN + 9),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, ETH_HLEN + 6),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, ETH_HLEN),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, ETH_HLEN + 2),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		die("SO_ATTACH_FILTER: %s", strerror(errno));
}

static void size_rcvbuf(int fd)
{
	int sz = SOCK_BUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		die("SO_RCVBUFFORCE: %s", strerror(errno));
}

static void add_epoll(struct nd_col *d, unsigned int i)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->fds[i], &ev))
		die("epoll_ctl: %s", strerror(errno));
}

static void new_sockets(struct nd_col *d)
{
	d->fds = calloc(d->n, sizeof(*d->fds));
	if (!d->fds)
		die("out of memory");
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->ep < 0)
		die("epoll_create1: %s", strerror(errno));
}

const char *nd_setup_packet(struct bench_col *c)
{
	struct nd_col *d = new_col(c);
	struct sockaddr_ll sll;
	unsigned int i;

	new_sockets(d);
	for (i = 0; i < d->n; i++) {
		/*
		 * Protocol 0 until bind(): a packet socket created with a
		 * protocol hooks into every interface at once, and moving it
		 * to one would wait for a grace period.
		 */
		d->fds[i] = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC |
				   SOCK_NONBLOCK, 0);
		if (d->fds[i] < 0)
			die("socket(AF_PACKET): %s", strerror(errno));
		attach_port_filter(d->fds[i], NB_DEMUX_PORT0 + i);
		size_rcvbuf(d->fds[i]);
		memset(&sll, 0, sizeof(sll));
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = htons(ETH_P_IP);
		sll.sll_ifindex = nb_links[NB_PKT].ifindex;
		if (bind(d->fds[i], (struct sockaddr *)&sll, sizeof(sll)))
			die("bind(AF_PACKET): %s", strerror(errno));
		add_epoll(d, i);
	}
	return NULL;
}

const char *nd_setup_udp(struct bench_col *c)
{
	struct nd_col *d = new_col(c);
	struct sockaddr_in sin;
	unsigned int i;

	new_sockets(d);
	for (i = 0; i < d->n; i++) {
		d->fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC |
				   SOCK_NONBLOCK, 0);
		if (d->fds[i] < 0)
			die("socket(AF_INET): %s", strerror(errno));
		size_rcvbuf(d->fds[i]);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr = nb_links[NB_UDP].addr;
		sin.sin_port = htons(NB_DEMUX_PORT0 + i);
		if (bind(d->fds[i], (struct sockaddr *)&sin, sizeof(sin)))
			die("bind(UDP %u): %s", NB_DEMUX_PORT0 + i,
			    strerror(errno));
		add_epoll(d, i);
	}
	return NULL;
}

/* Every datagram queued on socket @i, checked; how many. */
static unsigned int drain_socket(struct nd_col *d, int link, unsigned int i)
{
	static uint8_t buf[RECV_BATCH][2048];
	static struct iovec iov[RECV_BATCH];
	static struct mmsghdr m[RECV_BATCH];
	unsigned int got = 0, k, port;
	int r;

	for (;;) {
		for (k = 0; k < RECV_BATCH; k++) {
			iov[k].iov_base = buf[k];
			iov[k].iov_len = sizeof(buf[k]);
			memset(&m[k], 0, sizeof(m[k]));
			m[k].msg_hdr.msg_iov = &iov[k];
			m[k].msg_hdr.msg_iovlen = 1;
		}
		r = recvmmsg(d->fds[i], m, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return got;
		if (r < 0)
			die("recvmmsg: %s", strerror(errno));
		for (k = 0; k < (unsigned int)r; k++) {
			if (link == NB_UDP) {
				if (m[k].msg_len != sizeof(uint32_t))
					die("UDP: %u-byte datagram on port %u",
					    m[k].msg_len, NB_DEMUX_PORT0 + i);
				continue;
			}
			port = nb_frame_dport(buf[k], m[k].msg_len);
			if (port != NB_DEMUX_PORT0 + i)
				die("AF_PACKET: the socket of port %u got a "
				    "frame for port %u", NB_DEMUX_PORT0 + i,
				    port);
		}
		got += r;
	}
}

/* What epoll reports within @timeout_ms, drained; how many. */
static unsigned int drain_ready(struct nd_col *d, int link, int timeout_ms)
{
	struct epoll_event ev[RECV_BATCH];
	unsigned int got = 0;
	int n, k;

	do
		n = epoll_wait(d->ep, ev, RECV_BATCH, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die("epoll_wait: %s", strerror(errno));
	for (k = 0; k < n; k++)
		got += drain_socket(d, link, ev[k].data.u32);
	return got;
}

void nd_trial_sock(struct bench_col *c, double *out)
{
	struct nd_col *d = c->priv;
	uint64_t t0, last;
	unsigned int got = 0, sent, k, r;

	if (drain_ready(d, c->variant, 0))
		die("%s: packets queued before the burst", c->name);
	t0 = bench_now();
	for (sent = 0; sent < NB_DEMUX_BURST; sent += k) {
		k = NB_DEMUX_BURST - sent < NB_SEND_BATCH ?
		    NB_DEMUX_BURST - sent : NB_SEND_BATCH;
		nb_send(&nb_links[c->variant], NB_DEMUX_PORT0, d->n, sent, k);
		/* Until epoll has nothing more: N sockets, N events. */
		while ((r = drain_ready(d, c->variant, 0)))
			got += r;
	}
	last = bench_now();
	while (got < NB_DEMUX_BURST) {
		r = drain_ready(d, c->variant, 10);
		if (r) {
			got += r;
			last = bench_now();
		} else if (bench_now() - last > DRAIN_IDLE_NS) {
			break;
		}
	}
	if (!got || got > NB_DEMUX_BURST)
		die("%s: %u packets received of %u sent", c->name, got,
		    NB_DEMUX_BURST);
	d->lost += NB_DEMUX_BURST - got;
	d->sent += NB_DEMUX_BURST;
	out[0] = (double)(last - t0) / got;
}

void nd_teardown_sock(struct bench_col *c)
{
	struct nd_col *d = c->priv;

	nb_close_all(d->fds, d->n);
	close(d->ep);
	free(d->fds);
	d->fds = NULL;
}
