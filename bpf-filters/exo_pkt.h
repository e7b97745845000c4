/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * Packet parsing shared by the handlers. The skb's data starts at the
 * Ethernet header (exo runs handlers as tc ingress runs them); every
 * access is checked against data_end first, as the verifier demands.
 */
#ifndef EXO_PKT_H
#define EXO_PKT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <linux/exo.h>

/*
 * The ICMP echo header. <linux/icmp.h> is not used: it includes
 * <linux/if.h>, which pulls in the C library's <sys/socket.h>, and that
 * does not build for -target bpf.
 */
struct exo_icmp_echo {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 seq;
};

#define EXO_ICMP_ECHOREPLY	0
#define EXO_ICMP_ECHO		8

/* Fragment offset and more-fragments bits of iphdr.frag_off. */
#define EXO_IP_MF_OFFSET	0x3fff
#define EXO_IP_OFFSET		0x1fff

static __always_inline void *exo_data(const struct __sk_buff *skb)
{
	return (void *)(long)skb->data;
}

static __always_inline void *exo_data_end(const struct __sk_buff *skb)
{
	return (void *)(long)skb->data_end;
}

/* The IPv4 header of an Ethernet frame, its options included; NULL if the
 * frame is not IPv4 or too short for the header it announces. */
static __always_inline struct iphdr *exo_ipv4(void *data, void *end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > end)
		return NULL;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->version != 4 ||
	    ip->ihl < 5)
		return NULL;
	if ((void *)ip + ip->ihl * 4 > end)
		return NULL;
	return ip;
}

/* The @len bytes after the IPv4 header (and its options), if the frame
 * holds them and the packet is not a later fragment; else NULL. */
static __always_inline void *exo_l4(struct iphdr *ip, void *end, __u32 len)
{
	void *l4 = (void *)ip + ip->ihl * 4;

	if (ip->frag_off & bpf_htons(EXO_IP_OFFSET))
		return NULL;
	if (l4 + len > end)
		return NULL;
	return l4;
}

static __always_inline void exo_swap_mac(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/* Swapping addresses keeps the IP header checksum: the one's complement
 * sum does not depend on the order of the words. */
static __always_inline void exo_swap_ip(struct iphdr *ip)
{
	__be32 tmp = ip->saddr;

	ip->saddr = ip->daddr;
	ip->daddr = tmp;
}

/* A reply goes back to one host: never answer a group address. */
static __always_inline int exo_unicast(const struct ethhdr *eth,
				       const struct iphdr *ip)
{
	__u32 daddr = bpf_ntohl(ip->daddr);

	return !(eth->h_dest[0] & 1) && (daddr >> 28) != 0xe &&
	       daddr != 0xffffffff;
}

/* Bump counter @idx of an array map of __u64. */
#define exo_count(map, idx)						\
	({								\
		__u32 __k = (idx);					\
		__u64 *__v = bpf_map_lookup_elem(&(map), &__k);		\
		if (__v)						\
			__sync_fetch_and_add(__v, 1);			\
	})

#endif /* EXO_PKT_H */
