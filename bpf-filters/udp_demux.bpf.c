// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * UDP port demux: one handler for a whole-protocol UDP claim. A datagram
 * whose destination port is in @ports reaches the library OS tagged with
 * the port's value (exo_net_slot.tag), so the library OS dispatches by tag
 * without parsing; every other packet goes to Linux.
 */
#include "exo_pkt.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u16);	/* destination port, host byte order */
	__type(value, __u32);	/* the tag */
} ports SEC(".maps");

SEC("tc")
int udp_demux(struct __sk_buff *skb)
{
	void *end = exo_data_end(skb);
	struct iphdr *ip = exo_ipv4(exo_data(skb), end);
	struct udphdr *udp;
	__u32 *tag;
	__u16 port;

	if (!ip || ip->protocol != IPPROTO_UDP)
		return EXO_NET_PASS;
	udp = exo_l4(ip, end, sizeof(*udp));
	if (!udp)
		return EXO_NET_PASS;
	port = bpf_ntohs(udp->dest);
	tag = bpf_map_lookup_elem(&ports, &port);
	if (!tag)
		return EXO_NET_PASS;
	skb->cb[EXO_NET_CB_TAG] = *tag;
	return EXO_NET_DELIVER;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
