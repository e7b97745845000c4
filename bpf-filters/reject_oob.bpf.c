// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * Deliberately unsafe, so the verifier rejects it at load: it reads the
 * Ethernet type without first checking the packet is that long (no test
 * against data_end). exo_netlib_test loads it to show that such a handler
 * never gets an fd, and that the verifier's reason ("invalid access to
 * packet") reaches the caller. Do not "fix" it.
 */
#include "exo_pkt.h"

SEC("tc")
int reject_oob(struct __sk_buff *skb)
{
	struct ethhdr *eth = exo_data(skb);

	return eth->h_proto == bpf_htons(ETH_P_IP) ? EXO_NET_DELIVER
						   : EXO_NET_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
