/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * exo-net-bench's pieces: the network it builds (net-setup.c), the demux
 * columns (net-demux.c) and the echo columns (net-echo.c).
 *
 * The guest gets three identical veth pairs, each with its host end in
 * the benchmark's network namespace and its peer end in a namespace of
 * its own, the peer host. Each way of receiving has its own pair, so that
 * the ways can stay set up side by side while their rounds interleave:
 * AF_PACKET sockets see every packet of their interface before exo's
 * rx_handler does, and closing one costs an RCU grace period.
 */
#ifndef EXO_NET_BENCH_H
#define EXO_NET_BENCH_H

#include <stdint.h>
#include <netinet/in.h>

#include "bench.h"

enum { NB_EXO, NB_PKT, NB_UDP, NB_NR_LINKS };

struct nb_link {
	const char *name;	/* host end, in the benchmark's namespace */
	const char *peer;	/* peer end, in the peer namespace */
	unsigned int ifindex;	/* of the host end */
	unsigned int peer_ifindex;	/* in the peer namespace */
	struct in_addr addr;	/* of the host end */
	struct in_addr peer_addr;
	uint8_t mac[6], peer_mac[6];
};

extern struct nb_link nb_links[NB_NR_LINKS];

/* Builds the namespace and the pairs; NULL or why it cannot. */
const char *nb_setup(void);
/* A socket of the peer host's namespace: socket(2) run there. */
int nb_peer_socket(int domain, int type, int protocol);
/*
 * Datagrams @first .. @first + @n - 1 of a burst from the peer end of @l to
 * @l's address: datagram j goes to port @port0 + j % @nports and carries
 * j. sendmmsg(2) of up to NB_SEND_BATCH at a time on a packet socket of
 * the peer namespace.
 */
#define NB_SEND_BATCH	64
void nb_send(const struct nb_link *l, uint16_t port0, unsigned int nports,
	     uint32_t first, unsigned int n);
/* The destination port of a frame nb_send() sent, or 0. */
uint16_t nb_frame_dport(const uint8_t *frame, uint32_t len);
/*
 * close(2) of many sockets at once: closing an AF_PACKET socket waits for
 * an RCU grace period, and concurrent closes share one.
 */
void nb_close_all(const int *fds, unsigned int n);

/* DEMUX-N: one burst per round; out[0] = ns per packet. */
#define NB_DEMUX_PORT0	20000
#define NB_DEMUX_BURST	1000
const char *nd_setup_exo(struct bench_col *c);
const char *nd_setup_packet(struct bench_col *c);
const char *nd_setup_udp(struct bench_col *c);
void nd_trial_exo(struct bench_col *c, double *out);
void nd_trial_sock(struct bench_col *c, double *out);
void nd_teardown_exo(struct bench_col *c);
void nd_teardown_sock(struct bench_col *c);
/* Packets a column sent but did not receive, and how many it sent. */
void nd_lost(const struct bench_col *c, uint64_t *lost, uint64_t *sent);

/* ASH-ECHO-B: one ping-pong per round; out[0] = ns round trip. */
#define NB_ECHO_PORT	7777
enum { NE_ASH, NE_LINUX };	/* bench_col.variant */
const char *ne_init(void);	/* NULL, or why the rows cannot run */
void ne_fini(void);
void ne_trial(struct bench_col *c, double *out);
void ne_busy_start(unsigned int n);
void ne_busy_stop(void);
/* Checks the ASH's counters against the round trips its column made. */
void ne_check_ash(void);

#endif /* EXO_NET_BENCH_H */
