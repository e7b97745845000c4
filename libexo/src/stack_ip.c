// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * IPv4 (RFC 791), ICMP echo (RFC 792) and UDP (RFC 768) of the user-level
 * stack. Received packets are checked in full before anything is learned
 * from them or handed on: version, header length, total length, header
 * checksum; fragments are not reassembled (dropped, as not for us), and
 * options are skipped. Sent packets carry no options, TTL 64 and DF, so
 * a datagram must fit the interface's MTU.
 */
#include <errno.h>
#include <string.h>

#include "libexo.h"
#include "stack_internal.h"

/* Build the 20-byte header of a packet with @plen bytes of payload. */
static void ip_header(struct exo_stack *s, uint8_t *ip, uint32_t daddr,
		      uint8_t proto, uint32_t plen)
{
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(IP_HLEN + plen));
	put16(ip + 4, s->ip_id++);
	put16(ip + 6, IP_DF);
	ip[8] = IP_TTL_OUT;
	ip[9] = proto;
	put16(ip + 10, 0);
	put_ip(ip + 12, s->ip);
	put_ip(ip + 16, daddr);
	put16(ip + 10, csum_fold(csum_add(0, ip, IP_HLEN)));
}

/* Answer an echo request: same identifier, sequence and data. */
static void icmp_input(struct exo_stack *s, const struct exo_net_pkt *pkt,
		       const uint8_t *icmp, uint32_t len, uint32_t saddr)
{
	const uint8_t *eth = pkt->data;
	uint8_t *frame, *ip, *r;

	if (len < ICMP_HLEN || icmp[0] != 8 || icmp[1] != 0 ||
	    (!(pkt->flags & EXO_NET_SLOT_CSUM_OK) &&
	     csum_fold(csum_add(0, icmp, len)))) {
		s->st.rx_bad++;
		return;
	}
	frame = stack_tx_begin(s);
	if (!frame)
		return;
	ip = frame + ETH_HLEN_;
	r = ip + IP_HLEN;
	memcpy(r, icmp, len);
	r[0] = 0;			/* echo reply */
	put16(r + 2, 0);
	put16(r + 2, csum_fold(csum_add(0, r, len)));
	ip_header(s, ip, saddr, PROTO_ICMP, len);
	/* To whoever sent it, learned or not: eth + 6 is its source. */
	if (!stack_tx_end(s, frame, eth + 6, ETHERTYPE_IP,
			  ETH_HLEN_ + IP_HLEN + len))
		s->st.icmp_echoes++;
}

static void udp_input(struct exo_stack *s, const struct exo_net_pkt *pkt,
		      const uint8_t *udp, uint32_t len, uint32_t saddr,
		      uint32_t daddr)
{
	struct exo_udp_dgram d;
	uint16_t ulen, dport;
	uint32_t i;

	if (len < UDP_HLEN)
		goto bad;
	ulen = get16(udp + 4);
	if (ulen < UDP_HLEN || ulen > len)
		goto bad;
	/* 0: the sender computed none; CSUM_OK: the kernel vouches for it. */
	if (!(pkt->flags & EXO_NET_SLOT_CSUM_OK) && get16(udp + 6) &&
	    csum_fold(csum_add(csum_pseudo(saddr, daddr, PROTO_UDP, ulen),
			       udp, ulen)))
		goto bad;
	dport = get16(udp + 2);
	for (i = 0; i < s->nr_ports; i++)
		if (s->ports[i].port == dport)
			break;
	if (i == s->nr_ports)
		goto bad;
	d = (struct exo_udp_dgram){
		.saddr = saddr, .daddr = daddr,
		.sport = get16(udp), .dport = dport,
		.data = udp + UDP_HLEN, .len = ulen - UDP_HLEN,
	};
	s->st.udp_rx++;
	s->ports[i].fn(s, &d, s->ports[i].arg);
	return;
bad:
	s->st.rx_bad++;
}

void ip_input(struct exo_stack *s, const struct exo_net_pkt *pkt)
{
	const uint8_t *eth = pkt->data, *ip = eth + ETH_HLEN_;
	uint32_t avail = pkt->len - ETH_HLEN_, ihl, tot, saddr, daddr;

	if (avail < IP_HLEN || ip[0] >> 4 != 4)
		goto bad;
	ihl = (ip[0] & 0xf) * 4u;
	tot = get16(ip + 2);
	/* tot < avail: Ethernet padding, not part of the packet. */
	if (ihl < IP_HLEN || ihl > avail || tot < ihl || tot > avail)
		goto bad;
	if (csum_fold(csum_add(0, ip, ihl)))
		goto bad;
	if (get16(ip + 6) & (IP_MF | IP_OFFMASK))
		goto bad;
	saddr = get_ip(ip + 12);
	daddr = get_ip(ip + 16);
	if (daddr != s->ip && !(daddr == 0xffffffffu && ip[9] == PROTO_UDP))
		goto bad;
	neigh_learn(s, saddr, eth + 6, true);
	switch (ip[9]) {
	case PROTO_ICMP:
		if (!s->icmp_claim || daddr != s->ip)
			goto bad;
		icmp_input(s, pkt, ip + ihl, tot - ihl, saddr);
		return;
	case PROTO_UDP:
		udp_input(s, pkt, ip + ihl, tot - ihl, saddr, daddr);
		return;
	}
bad:
	s->st.rx_bad++;
}

/* A datagram from bound port @sport, checked by exo_stack_udp_send(). */
int udp_output(struct exo_stack *s, uint32_t daddr, uint16_t dport,
	       uint16_t sport, const void *data, size_t len)
{
	uint8_t buf[EXO_NET_SLOT_MAX];
	uint8_t *udp = buf + IP_HLEN;
	uint32_t ulen, max;
	uint16_t c;
	int ret;

	max = EXO_NET_SLOT_MAX - ETH_HLEN_;
	if (s->mtu && s->mtu < max)
		max = s->mtu;
	if (len > max - IP_HLEN - UDP_HLEN)
		return -EMSGSIZE;
	ulen = UDP_HLEN + (uint32_t)len;
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)ulen);
	put16(udp + 6, 0);
	if (len)
		memcpy(udp + UDP_HLEN, data, len);
	c = csum_fold(csum_add(csum_pseudo(s->ip, daddr, PROTO_UDP,
					   (uint16_t)ulen), udp, ulen));
	put16(udp + 6, c ? c : 0xffff);	/* 0 would mean "none" */
	ip_header(s, buf, daddr, PROTO_UDP, ulen);
	/* Failures are counted in tx_fail where they happen. */
	ret = neigh_output(s, daddr, buf, IP_HLEN + ulen);
	if (ret == 0)
		s->st.udp_tx++;
	return ret < 0 ? ret : 0;
}
