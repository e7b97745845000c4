// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * A small user-level network stack over exo's rings: the public calls and
 * Ethernet II's receive dispatch here, IPv4, ICMP echo and UDP in
 * stack_ip.c, ARP in stack_arp.c, the transmit path in stack_tx.c; each
 * calls only the ones after it (stack_internal.h).
 *
 * The stack reads received frames in place in the receive ring and builds
 * the frames it sends in place in the transmit ring. Inside
 * exo_stack_poll() everything it sends is flushed once per batch of
 * received packets (one EXO_IOC_NET_TX); outside, each send is flushed at
 * once. It is not thread-safe: one thread drives one stack.
 */
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libexo.h"
#include "internal.h"
#include "stack_internal.h"

/* Received packets taken from the ring per batch. */
#define STACK_BATCH	32

/* The interface's MAC address (if @mac is all zero) and MTU. */
static int stack_if_query(struct exo_stack *s, bool want_mac)
{
	struct ifreq ifr;
	int fd, ret = 0;

	memset(&ifr, 0, sizeof(ifr));
	if (!if_indextoname(s->ifindex, ifr.ifr_name))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (want_mac) {
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
			ret = -errno;
		else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
			ret = -EOPNOTSUPP;
		else
			memcpy(s->mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	if (!ret) {
		if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
			ret = -errno;
		else
			s->mtu = ifr.ifr_mtu > 0 ? (uint32_t)ifr.ifr_mtu : 0;
	}
	close(fd);
	return ret;
}

int exo_stack_create(struct exo_net *net, const struct exo_stack_opts *opts,
		     struct exo_stack **out)
{
	static const uint8_t zero[6];
	struct exo_stack_opts o;
	struct exo_stack *s;
	int ret;

	if (!net || !opts || !out)
		return -EINVAL;
	ret = exo_opts_copy(&o, sizeof(o), opts,
			    offsetof(struct exo_stack_opts, ip) + sizeof(o.ip));
	if (ret)
		return ret;
	if (!o.ifindex || !o.ip || o.__pad[0] || o.__pad[1] ||
	    (o.mac[0] & 1))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->net = net;
	s->exo = exo_net_exo(net);
	s->ifindex = o.ifindex;
	s->ip = o.ip;
	memcpy(s->mac, o.mac, 6);
	ret = stack_if_query(s, !memcmp(o.mac, zero, 6));
	if (ret) {
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void exo_stack_destroy(struct exo_stack *s)
{
	uint32_t i;

	if (!s)
		return;
	if (s->arp_claim)
		exo_net_unclaim(s->exo, s->arp_claim);
	if (s->icmp_claim)
		exo_net_unclaim(s->exo, s->icmp_claim);
	for (i = 0; i < s->nr_ports; i++)
		exo_net_unclaim(s->exo, s->ports[i].claim);
	neigh_free_all(s);
	free(s->ports);
	free(s);
}

static int stack_serve(struct exo_stack *s, uint32_t *claim,
		       uint16_t ethertype, uint8_t proto)
{
	if (!s)
		return -EINVAL;
	if (*claim)
		return -EALREADY;
	return exo_net_claim(s->exo, s->ifindex, ethertype, proto, 0, -1,
			     claim);
}

int exo_stack_serve_arp(struct exo_stack *s)
{
	return stack_serve(s, s ? &s->arp_claim : NULL, ETHERTYPE_ARP, 0);
}

int exo_stack_serve_icmp(struct exo_stack *s)
{
	return stack_serve(s, s ? &s->icmp_claim : NULL, ETHERTYPE_IP,
			   PROTO_ICMP);
}

int exo_stack_udp_bind(struct exo_stack *s, uint16_t port, exo_udp_fn fn,
		       void *arg)
{
	struct udp_port *p;
	uint32_t i, claim;
	int ret;

	if (!s || !port || !fn)
		return -EINVAL;
	for (i = 0; i < s->nr_ports; i++)
		if (s->ports[i].port == port)
			return -EADDRINUSE;
	if (s->nr_ports == s->max_ports) {
		uint32_t max = s->max_ports ? s->max_ports * 2 : 8;

		p = realloc(s->ports, max * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->ports = p;
		s->max_ports = max;
	}
	ret = exo_net_claim(s->exo, s->ifindex, ETHERTYPE_IP, PROTO_UDP, port,
			    -1, &claim);
	if (ret)
		return ret;
	s->ports[s->nr_ports++] = (struct udp_port){
		.port = port, .claim = claim, .fn = fn, .arg = arg,
	};
	return 0;
}

int exo_stack_udp_send(struct exo_stack *s, uint32_t daddr, uint16_t dport,
		       uint16_t sport, const void *data, size_t len)
{
	uint32_t i;

	if (!s || !daddr || !dport || (len && !data))
		return -EINVAL;
	for (i = 0; i < s->nr_ports; i++)
		if (s->ports[i].port == sport)
			break;
	if (!sport || i == s->nr_ports)
		return -EADDRNOTAVAIL;
	return udp_output(s, daddr, dport, sport, data, len);
}

int exo_stack_arp_add(struct exo_stack *s, uint32_t ip, const uint8_t mac[6])
{
	if (!s || !mac)
		return -EINVAL;
	return neigh_add_static(s, ip, mac);
}

int exo_stack_stats(const struct exo_stack *s, struct exo_stack_stats *out)
{
	if (!s || !out)
		return -EINVAL;
	*out = s->st;
	return 0;
}

static void stack_input(struct exo_stack *s, const struct exo_net_pkt *pkt)
{
	const uint8_t *eth = pkt->data;

	s->st.rx++;
	if (pkt->len < ETH_HLEN_ || (pkt->flags & EXO_NET_SLOT_TRUNC) ||
	    pkt->ifindex != s->ifindex ||
	    (memcmp(eth, s->mac, 6) && memcmp(eth, stack_bcast_mac, 6))) {
		s->st.rx_bad++;
		return;
	}
	switch (get16(eth + 12)) {
	case ETHERTYPE_ARP:
		if (s->arp_claim)
			arp_input(s, eth, pkt->len);
		else
			s->st.rx_bad++;
		break;
	case ETHERTYPE_IP:
		ip_input(s, pkt);
		break;
	default:
		s->st.rx_bad++;
	}
}

int exo_stack_poll(struct exo_stack *s, int timeout_ms)
{
	struct exo_net_pkt pkts[STACK_BATCH];
	const struct exo_net_ring_header *rx;
	int ret, next, total = 0;
	uint32_t n, i, max;

	if (!s)
		return -EINVAL;
	if (s->in_poll)
		return -EBUSY;
	/* A ring's worth at most, so that a flood cannot keep us here. */
	rx = exo_net_rx_ring(s->net);
	max = rx ? rx->nr_slots : 256;
	s->in_poll = true;
	/* Sleep no longer than until the next ARP retry is due. */
	next = neigh_timers(s, stack_now_ms());
	if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
		timeout_ms = next;
	ret = stack_tx_flush(s);
	if (!ret)
		ret = exo_net_rx_wait(s->net, timeout_ms);
	while (ret >= 0 && (uint32_t)total < max) {
		n = exo_net_rx_peek(s->net, pkts, STACK_BATCH);
		if (!n)
			break;
		for (i = 0; i < n; i++)
			stack_input(s, &pkts[i]);
		exo_net_rx_release(s->net, n);
		total += n;
		ret = stack_tx_flush(s);
	}
	neigh_timers(s, stack_now_ms());
	if (ret >= 0)
		ret = stack_tx_flush(s);
	else
		stack_tx_flush(s);
	s->in_poll = false;
	return ret < 0 ? ret : total;
}
