// SPDX-License-Identifier: GPL-2.0
/*
 * exo_net_hold IFNAME: a library OS that holds the network part of exo in
 * use, for scripts/guest/run-tests.sh's module tests: it attaches IFNAME,
 * claims ICMP with the ICMP echo ASH and UDP port 7070 with the UDP echo
 * ASH, registers a receive ring, prints "ready" and keeps all of it until
 * its standard input closes.
 */
/* The shared helpers bring the kselftest harness along, unused here. */
#pragma GCC diagnostic ignored "-Wunused-function"

#include "exo_net_bpf.h"

static int fail(const char *what, int err)
{
	fprintf(stderr, "exo_net_hold: %s: %s\n", what, strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *icmp_obj, *udp_obj;
	struct exo_frame_alloc a;
	int fd, icmp, udp, rc, i;
	uint64_t caps[3];
	uint32_t ifindex;
	char c;

	if (argc != 2) {
		fprintf(stderr, "usage: exo_net_hold IFNAME\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex)
		return fail(argv[1], errno);
	fd = exo_open_raw(O_CLOEXEC);
	if (fd < 0)
		return fail(EXO_DEV_PATH, -fd);
	icmp = net_bpf_open("icmp_echo", &icmp_obj, NULL, 0);
	if (icmp < 0)
		return fail("loading icmp_echo", -icmp);
	udp = net_bpf_open("udp_echo", &udp_obj, NULL, 0);
	if (udp < 0)
		return fail("loading udp_echo", -udp);
	rc = _net_attach(fd, ifindex, 0);
	if (rc)
		return fail("NET_ATTACH", -rc);
	rc = _net_claim(fd, ifindex, NET_ETH_P_IP, IPPROTO_ICMP, 0, icmp, NULL);
	if (rc)
		return fail("NET_CLAIM icmp", -rc);
	rc = _net_claim_udp(fd, ifindex, 7070, udp, NULL);
	if (rc)
		return fail("NET_CLAIM udp 7070", -rc);
	for (i = 0; i < 3; i++) {
		memset(&a, 0, sizeof(a));
		rc = _test_alloc_any(fd, &a);
		if (rc)
			return fail("FRAME_ALLOC", -rc);
		caps[i] = a.cap;
	}
	rc = _net_ring(fd, EXO_NET_RX, caps, 3, -1, NULL);
	if (rc)
		return fail("NET_RING", -rc);
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
