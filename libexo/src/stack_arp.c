// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * ARP (RFC 826) and the neighbour table of the user-level stack.
 *
 * Neighbours are learned from ARP and from every IPv4 packet received.
 * Sending to an unknown one queues the datagram (a few per neighbour),
 * sends an ARP request and, after STACK_ARP_RETRY_MS, one retry; if that
 * is not answered either, the queued datagrams are dropped (tx_fail) and
 * sends to that address fail with -EHOSTUNREACH for STACK_ARP_FAIL_MS.
 * Without the ARP claim (exo_stack_serve_arp()) exo would not let the
 * request out, so sending to an unknown neighbour fails at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libexo.h"
#include "stack_internal.h"

#define ARP_HTYPE_ETHER	1
#define ARP_OP_REQUEST	1
#define ARP_OP_REPLY	2

static bool ip_unicast(uint32_t ip)
{
	const uint8_t *b = (const uint8_t *)&ip;

	return ip && ip != 0xffffffffu && (b[0] & 0xf0) != 0xe0;
}

struct neigh *neigh_find(struct exo_stack *s, uint32_t ip)
{
	unsigned int i;

	for (i = 0; i < STACK_NEIGH; i++)
		if (s->neigh[i].state != NEIGH_FREE && s->neigh[i].ip == ip)
			return &s->neigh[i];
	return NULL;
}

static void neigh_drop_queue(struct exo_stack *s, struct neigh *n)
{
	struct neigh_frame *f;

	while ((f = n->queue)) {
		n->queue = f->next;
		free(f);
		s->st.tx_fail++;
	}
	n->qlen = 0;
}

/*
 * A free entry, else the least recently used learned or failed one; never
 * a static one or one being resolved.
 */
static struct neigh *neigh_alloc(struct exo_stack *s, uint32_t ip)
{
	struct neigh *n, *victim = NULL;
	unsigned int i;

	for (i = 0; i < STACK_NEIGH; i++) {
		n = &s->neigh[i];
		if (n->state == NEIGH_FREE) {
			victim = n;
			break;
		}
		if ((n->state == NEIGH_REACHABLE || n->state == NEIGH_FAILED) &&
		    (!victim || n->used < victim->used))
			victim = n;
	}
	if (!victim)
		return NULL;
	*victim = (struct neigh){ .ip = ip };
	return victim;
}

static int arp_send(struct exo_stack *s, uint16_t op, const uint8_t *dst,
		    const uint8_t *tha, uint32_t tpa)
{
	uint8_t *frame = stack_tx_begin(s), *a;

	if (!frame)
		return -ENOBUFS;
	a = frame + ETH_HLEN_;
	put16(a, ARP_HTYPE_ETHER);
	put16(a + 2, ETHERTYPE_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, s->mac, 6);
	put_ip(a + 14, s->ip);
	memcpy(a + 18, tha, 6);
	put_ip(a + 24, tpa);
	return stack_tx_end(s, frame, dst, ETHERTYPE_ARP, ETH_HLEN_ + ARP_LEN);
}

static int arp_request(struct exo_stack *s, struct neigh *n)
{
	static const uint8_t zero[6];
	int ret;

	n->tries++;
	n->until = stack_now_ms() + STACK_ARP_RETRY_MS;
	ret = arp_send(s, ARP_OP_REQUEST, stack_bcast_mac, zero, n->ip);
	if (!ret)
		s->st.arp_requests++;
	return ret;
}

/* The neighbour's address is known now: send what waited for it. */
static void neigh_send_queue(struct exo_stack *s, struct neigh *n)
{
	struct neigh_frame *f;
	uint8_t *frame;

	while ((f = n->queue)) {
		n->queue = f->next;
		n->qlen--;
		frame = stack_tx_begin(s);
		if (frame) {
			memcpy(frame + ETH_HLEN_, f->data, f->len);
			/* Only UDP waits for a neighbour. */
			if (!stack_tx_end(s, frame, n->mac, ETHERTYPE_IP,
					  ETH_HLEN_ + f->len))
				s->st.udp_tx++;
		}
		free(f);
	}
}

void neigh_learn(struct exo_stack *s, uint32_t ip, const uint8_t *mac,
		 bool create)
{
	struct neigh *n;

	if (!ip_unicast(ip) || (mac[0] & 1) || ip == s->ip)
		return;
	n = neigh_find(s, ip);
	if (!n && create)
		n = neigh_alloc(s, ip);
	if (!n || n->state == NEIGH_STATIC)
		return;
	memcpy(n->mac, mac, 6);
	n->state = NEIGH_REACHABLE;
	n->used = stack_now_ms();
	n->tries = 0;
	if (n->queue)
		neigh_send_queue(s, n);
}

int neigh_add_static(struct exo_stack *s, uint32_t ip, const uint8_t *mac)
{
	struct neigh *n;

	if (!ip_unicast(ip) || (mac[0] & 1))
		return -EINVAL;
	n = neigh_find(s, ip);
	if (!n)
		n = neigh_alloc(s, ip);
	if (!n)
		return -ENOSPC;
	memcpy(n->mac, mac, 6);
	n->state = NEIGH_STATIC;
	n->tries = 0;
	if (n->queue)
		neigh_send_queue(s, n);
	return 0;
}

void neigh_free_all(struct exo_stack *s)
{
	unsigned int i;

	for (i = 0; i < STACK_NEIGH; i++)
		neigh_drop_queue(s, &s->neigh[i]);
}

/* A frame lost here; the transmit path counts its own failures. */
static int neigh_fail(struct exo_stack *s, int err)
{
	s->st.tx_fail++;
	return err;
}

/*
 * Send the IPv4 packet @l3 (@len bytes) to @daddr: at once if its address
 * is known (0), else queued behind an ARP request (1), or -errno.
 */
int neigh_output(struct exo_stack *s, uint32_t daddr, const uint8_t *l3,
		 uint32_t len)
{
	struct neigh_frame *f, **tail;
	struct neigh *n = neigh_find(s, daddr);
	uint8_t *frame;

	if (daddr == 0xffffffffu || (n && (n->state == NEIGH_REACHABLE ||
					   n->state == NEIGH_STATIC))) {
		frame = stack_tx_begin(s);
		if (!frame)
			return -ENOBUFS;
		memcpy(frame + ETH_HLEN_, l3, len);
		if (n)
			n->used = stack_now_ms();
		return stack_tx_end(s, frame, n ? n->mac : stack_bcast_mac,
				    ETHERTYPE_IP, ETH_HLEN_ + len);
	}
	if (n && n->state == NEIGH_FAILED && n->until > stack_now_ms())
		return neigh_fail(s, -EHOSTUNREACH);
	if (!s->arp_claim || !ip_unicast(daddr))
		return neigh_fail(s, -EHOSTUNREACH);
	if (!n || n->state == NEIGH_FAILED) {
		if (!n)
			n = neigh_alloc(s, daddr);
		if (!n)
			return neigh_fail(s, -ENOBUFS);
		n->ip = daddr;
		n->state = NEIGH_INCOMPLETE;
		n->tries = 0;
		n->used = stack_now_ms();
	}
	if (n->qlen >= STACK_NEIGH_QLEN)
		return neigh_fail(s, -ENOBUFS);
	f = malloc(sizeof(*f) + len);
	if (!f)
		return neigh_fail(s, -ENOMEM);
	f->next = NULL;
	f->len = len;
	memcpy(f->data, l3, len);
	for (tail = &n->queue; *tail; tail = &(*tail)->next)
		;
	*tail = f;
	n->qlen++;
	/* The first request; if it cannot go out now, the retry will. */
	if (!n->tries)
		arp_request(s, n);
	return 1;
}

int neigh_timers(struct exo_stack *s, uint64_t now)
{
	int64_t next = -1, left;
	struct neigh *n;
	unsigned int i;

	for (i = 0; i < STACK_NEIGH; i++) {
		n = &s->neigh[i];
		if (n->state == NEIGH_FAILED && n->until <= now) {
			n->state = NEIGH_FREE;
			continue;
		}
		if (n->state != NEIGH_INCOMPLETE)
			continue;
		if (n->until <= now) {
			if (n->tries < 2) {
				arp_request(s, n);
			} else {
				neigh_drop_queue(s, n);
				n->state = NEIGH_FAILED;
				n->until = now + STACK_ARP_FAIL_MS;
				continue;
			}
		}
		left = (int64_t)(n->until - now);
		if (left < 0)
			left = 0;
		if (next < 0 || left < next)
			next = left;
	}
	return (int)next;
}

void arp_input(struct exo_stack *s, const uint8_t *frame, uint32_t len)
{
	const uint8_t *a = frame + ETH_HLEN_;
	uint32_t spa, tpa;
	uint16_t op;

	if (len < ETH_HLEN_ + ARP_LEN || get16(a) != ARP_HTYPE_ETHER ||
	    get16(a + 2) != ETHERTYPE_IP || a[4] != 6 || a[5] != 4) {
		s->st.rx_bad++;
		return;
	}
	op = get16(a + 6);
	spa = get_ip(a + 14);
	tpa = get_ip(a + 24);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY) {
		s->st.rx_bad++;
		return;
	}
	/* RFC 826: update a neighbour we know; add one that asks for us. */
	neigh_learn(s, spa, a + 8, tpa == s->ip);
	if (tpa != s->ip) {
		s->st.rx_bad++;
		return;
	}
	if (op == ARP_OP_REQUEST &&
	    !arp_send(s, ARP_OP_REPLY, a + 8, a + 8, spa))
		s->st.arp_replies++;
}
