/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * The user-level network stack's private state. Its files call one way,
 * from the top down:
 *
 *   stack.c      the public calls and the receive dispatch
 *   stack_ip.c   IPv4, ICMP echo and UDP
 *   stack_arp.c  ARP and the neighbour table
 *   stack_tx.c   the transmit path: Ethernet framing, tx-ring batching
 *
 * Frames are read and written in place in the rings; their headers are at
 * 2-byte alignment at best, so fields go through the byte helpers below
 * rather than through packed structs.
 */
#ifndef LIBEXO_STACK_INTERNAL_H
#define LIBEXO_STACK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "libexo.h"

#define ETH_HLEN_	14
#define ETH_ZLEN_	60		/* shortest frame, without the FCS */
#define ETHERTYPE_IP	0x0800
#define ETHERTYPE_ARP	0x0806
#define IP_HLEN		20
#define UDP_HLEN	8
#define ICMP_HLEN	8
#define ARP_LEN		28
#define IP_TTL_OUT	64
#define IP_DF		0x4000
#define IP_MF		0x2000
#define IP_OFFMASK	0x1fff
#define PROTO_ICMP	1
#define PROTO_UDP	17

static const uint8_t stack_bcast_mac[6] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* Neighbour table. */
#define STACK_NEIGH		64
#define STACK_NEIGH_QLEN	4	/* datagrams held per unresolved one */
#define STACK_ARP_RETRY_MS	1000	/* request, then one retry ... */
#define STACK_ARP_FAIL_MS	3000	/* ... then -EHOSTUNREACH this long */

enum neigh_state {
	NEIGH_FREE,
	NEIGH_INCOMPLETE,	/* request sent, datagrams queued */
	NEIGH_REACHABLE,	/* learned */
	NEIGH_STATIC,		/* exo_stack_arp_add(); never replaced */
	NEIGH_FAILED,		/* no answer: sends fail until @until */
};

/* A frame waiting for its neighbour's address: Ethernet header unfilled. */
struct neigh_frame {
	struct neigh_frame *next;
	uint32_t len;
	uint8_t data[];
};

struct neigh {
	uint32_t ip;			/* network byte order */
	uint8_t mac[6];
	uint8_t state;			/* enum neigh_state */
	uint8_t tries;			/* requests sent */
	uint64_t until;			/* ms: next retry, or end of FAILED */
	uint64_t used;			/* ms: for replacement */
	struct neigh_frame *queue;
	uint32_t qlen;
};

struct udp_port {
	uint16_t port;
	uint32_t claim;
	exo_udp_fn fn;
	void *arg;
};

struct exo_stack {
	struct exo_net *net;
	struct exo *exo;
	unsigned int ifindex;
	uint32_t ip;
	uint8_t mac[6];
	uint32_t mtu;
	uint32_t arp_claim, icmp_claim;	/* 0: not served */
	struct udp_port *ports;
	uint32_t nr_ports, max_ports;
	struct neigh neigh[STACK_NEIGH];
	uint16_t ip_id;
	bool in_poll;			/* tx flushed at the end of the batch */
	uint32_t tx_queued;		/* committed, not yet flushed */
	struct exo_stack_stats st;
};

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* IPv4 addresses stay in network byte order: copied, never swapped. */
static inline uint32_t get_ip(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline void put_ip(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* The Internet checksum (RFC 1071): accumulate, then fold. */
static inline uint32_t csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	for (; len > 1; b += 2, len -= 2)
		sum += get16(b);
	if (len)
		sum += (uint32_t)b[0] << 8;
	return sum;
}

static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The UDP/TCP pseudo-header's contribution. */
static inline uint32_t csum_pseudo(uint32_t saddr, uint32_t daddr,
				   uint8_t proto, uint16_t len)
{
	uint32_t sum = csum_add(0, &saddr, 4);

	sum = csum_add(sum, &daddr, 4);
	return sum + proto + len;
}

static inline uint64_t stack_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* stack_ip.c */
void ip_input(struct exo_stack *s, const struct exo_net_pkt *pkt);
int udp_output(struct exo_stack *s, uint32_t daddr, uint16_t dport,
	       uint16_t sport, const void *data, size_t len);

/* stack_arp.c */
struct neigh *neigh_find(struct exo_stack *s, uint32_t ip);
void neigh_learn(struct exo_stack *s, uint32_t ip, const uint8_t *mac,
		 bool create);
void neigh_free_all(struct exo_stack *s);
int neigh_output(struct exo_stack *s, uint32_t daddr, const uint8_t *l3,
		 uint32_t len);
int neigh_add_static(struct exo_stack *s, uint32_t ip, const uint8_t *mac);
/* Retries and failures due by @now; the ms until the next one, or -1. */
int neigh_timers(struct exo_stack *s, uint64_t now);
void arp_input(struct exo_stack *s, const uint8_t *frame, uint32_t len);

/* stack_tx.c: the transmit path the protocols share. */
int stack_tx_flush(struct exo_stack *s);
uint8_t *stack_tx_begin(struct exo_stack *s);
int stack_tx_end(struct exo_stack *s, uint8_t *frame, const uint8_t *dst,
		 uint16_t ethertype, uint32_t len);

#endif /* LIBEXO_STACK_INTERNAL_H */
