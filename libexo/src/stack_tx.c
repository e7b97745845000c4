// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * The user-level stack's transmit path: Ethernet framing and the batching
 * of the transmit ring. ARP (stack_arp.c) and IPv4 (stack_ip.c) build
 * their packets in place in a slot from stack_tx_begin() and queue them
 * with stack_tx_end(); inside exo_stack_poll() what is queued goes out
 * once per batch of received packets (one EXO_IOC_NET_TX, from
 * stack_tx_flush()), outside it each frame goes at once. The bottom of
 * the stack's files: it calls only the rings (net.c).
 */
#include <string.h>

#include "libexo.h"
#include "stack_internal.h"

/* Send what is queued; frames exo refused count in tx_fail. */
int stack_tx_flush(struct exo_stack *s)
{
	uint32_t rejected = 0;
	int ret;

	if (!s->tx_queued)
		return 0;
	ret = exo_net_tx_flush(s->net, &rejected);
	if (ret < 0)
		s->st.tx_fail += s->tx_queued;
	else
		s->st.tx_fail += rejected;
	s->tx_queued = 0;
	return ret < 0 ? ret : 0;
}

/* A transmit slot's data area; NULL (counted) when the ring stays full. */
uint8_t *stack_tx_begin(struct exo_stack *s)
{
	uint8_t *p = exo_net_tx_slot(s->net);

	if (!p && s->tx_queued) {
		stack_tx_flush(s);
		p = exo_net_tx_slot(s->net);
	}
	if (!p)
		s->st.tx_fail++;
	return p;
}

/* Add the Ethernet header to the @len-byte frame at @frame and queue it. */
int stack_tx_end(struct exo_stack *s, uint8_t *frame, const uint8_t *dst,
		 uint16_t ethertype, uint32_t len)
{
	int ret;

	memcpy(frame, dst, 6);
	memcpy(frame + 6, s->mac, 6);
	put16(frame + 12, ethertype);
	if (len < ETH_ZLEN_) {
		memset(frame + len, 0, ETH_ZLEN_ - len);
		len = ETH_ZLEN_;
	}
	ret = exo_net_tx_commit(s->net, s->ifindex, len);
	if (ret < 0) {
		s->st.tx_fail++;
		return ret;
	}
	s->tx_queued++;
	return s->in_poll ? 0 : stack_tx_flush(s);
}
