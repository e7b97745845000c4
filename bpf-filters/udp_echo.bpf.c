// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * UDP echo as an application-specific handler: the datagram goes back to
 * its sender, answered in the kernel. Swapping addresses and ports leaves
 * the IP and UDP checksums valid (the pseudo-header holds both addresses,
 * the header both ports), so nothing is recomputed.
 */
#include "exo_pkt.h"

/* stats[0]: datagrams echoed. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

SEC("tc")
int udp_echo(struct __sk_buff *skb)
{
	void *data = exo_data(skb), *end = exo_data_end(skb);
	struct iphdr *ip = exo_ipv4(data, end);
	struct udphdr *udp;
	__be16 port;

	if (!ip || ip->protocol != IPPROTO_UDP)
		return EXO_NET_PASS;
	/* Echoing one fragment would send back part of a datagram. */
	if (ip->frag_off & bpf_htons(EXO_IP_MF_OFFSET))
		return EXO_NET_PASS;
	udp = exo_l4(ip, end, sizeof(*udp));
	if (!udp)
		return EXO_NET_PASS;
	if (bpf_ntohs(udp->len) < sizeof(*udp) ||
	    bpf_ntohs(ip->tot_len) < ip->ihl * 4 + bpf_ntohs(udp->len) ||
	    !exo_unicast(data, ip))
		return EXO_NET_PASS;

	exo_swap_mac(data);
	exo_swap_ip(ip);
	port = udp->source;
	udp->source = udp->dest;
	udp->dest = port;
	exo_count(stats, 0);
	return EXO_NET_REPLY;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
