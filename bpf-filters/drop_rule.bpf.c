// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * A drop rule from a map: packets from an IPv4 source address in @deny
 * are dropped in the kernel; the library OS changes the rule by updating
 * the map, without reloading the handler. Everything else is delivered.
 */
#include "exo_pkt.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __be32);	/* source address, network byte order */
	__type(value, __u32);	/* 1 */
} deny SEC(".maps");

/* stats[0]: packets dropped. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

SEC("tc")
int drop_rule(struct __sk_buff *skb)
{
	struct iphdr *ip = exo_ipv4(exo_data(skb), exo_data_end(skb));
	__be32 saddr;

	if (!ip)
		return EXO_NET_DELIVER;
	saddr = ip->saddr;
	if (!bpf_map_lookup_elem(&deny, &saddr))
		return EXO_NET_DELIVER;
	exo_count(stats, 0);
	return EXO_NET_DROP;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
