// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * ICMP echo as an application-specific handler: exo answers an echo
 * request in the kernel, from the packet itself, without waking the
 * library OS. Other ICMP goes to Linux.
 */
#include "exo_pkt.h"

/* stats[0]: echo requests answered. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* RFC 1624: the checksum after one 16-bit word changed from @old to @new,
 * words as stored (the sum does not depend on byte order). */
static __always_inline __u16 csum_replace2(__u16 csum, __u16 old, __u16 new)
{
	__u32 s = (__u16)~csum + (__u16)~old + (__u32)new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s;
}

SEC("tc")
int icmp_echo(struct __sk_buff *skb)
{
	void *data = exo_data(skb), *end = exo_data_end(skb);
	struct iphdr *ip = exo_ipv4(data, end);
	struct exo_icmp_echo *icmp;
	__u16 old;

	if (!ip || ip->protocol != IPPROTO_ICMP)
		return EXO_NET_PASS;
	/* A fragmented request is Linux's to reassemble. */
	if (ip->frag_off & bpf_htons(EXO_IP_MF_OFFSET))
		return EXO_NET_PASS;
	icmp = exo_l4(ip, end, sizeof(*icmp));
	if (!icmp || icmp->type != EXO_ICMP_ECHO || icmp->code != 0)
		return EXO_NET_PASS;
	/* The datagram must hold at least its headers: nothing to echo
	 * from a truncated one. */
	if (bpf_ntohs(ip->tot_len) < ip->ihl * 4 + sizeof(*icmp) ||
	    !exo_unicast(data, ip))
		return EXO_NET_PASS;

	exo_swap_mac(data);
	exo_swap_ip(ip);
	/* type and code are the first checksummed word: 8,0 becomes 0,0. */
	old = *(__u16 *)icmp;
	icmp->type = EXO_ICMP_ECHOREPLY;
	icmp->checksum = csum_replace2(icmp->checksum, old, *(__u16 *)icmp);
	exo_count(stats, 0);
	return EXO_NET_REPLY;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
