// SPDX-License-Identifier: GPL-2.0
/*
 * exo's network interface end to end, through raw ioctls: attachment,
 * claims and their checks, downloaded handlers (the bpf-filters/ ones and
 * tiny programs of the tests' own), the receive and transmit rings in the
 * context's frames, wake-ups and teardown. The peer host is a network
 * namespace at the other end of a veth pair; its clients are Debian's
 * ping, socat and nc, or a child that entered its namespace. Tests that
 * start several clients get 60 s rather than 30: the debug kernel is slow.
 */
#include <sys/eventfd.h>

#include "exo_net_bpf.h"

FIXTURE(net) {
	struct exo_ctx ctx;
	uint32_t ifindex;
	bool up;
};

FIXTURE_SETUP(net)
{
	const char *why;

	self->ctx.fd = -1;
	why = net_up();
	if (why)
		SKIP(return, "%s", why);
	self->up = true;
	self->ifindex = if_nametoindex(NET_DEV);
	ASSERT_NE(0U, self->ifindex);
	exo_ctx_open(&self->ctx, false);
}

FIXTURE_TEARDOWN(net)
{
	exo_ctx_close(&self->ctx);
	if (self->up)
		net_down();
}

/* The fixture skipped (and said why): the harness still runs the body. */
#define NET_READY() do { if (!self->up) return; } while (0)

/* The peer pings NET_ADDR @count times; 0 if every echo was answered. */
static int peer_ping(int count)
{
	return net_sh(NET_IP " netns exec " NET_NS
		      " ping -n -q -c %d -i 0.2 -W 2 " NET_ADDR " > /dev/null",
		      count);
}

/* socat in the peer sends the datagram @msg to NET_ADDR:@port. */
static int peer_socat_send(uint16_t port, const char *msg)
{
	return net_sh("printf '%s' | " NET_IP " netns exec " NET_NS
		      " socat -u - UDP:" NET_ADDR ":%u", msg, port);
}

/* Wait up to @ms for the claim to have matched @n packets. */
static int wait_packets(int fd, uint32_t id, uint64_t n, int ms,
			struct exo_net_stats *s)
{
	uint64_t end = net_now_ns() + (uint64_t)ms * 1000000;
	int rc;

	for (;;) {
		rc = _net_stats(fd, id, s);
		if (rc || s->packets >= n || net_now_ns() > end)
			return rc;
		usleep(5000);
	}
}

/* The UDP payload of a received frame and its length (-1: not UDP). */
static int slot_udp(const uint8_t *f, uint32_t len, uint16_t *dport,
		    const uint8_t **payload)
{
	uint16_t tot;

	if (len < NET_PAYLOAD_OFF || f[12] != 0x08 || f[13] != 0x00 ||
	    f[14] != 0x45 || f[23] != IPPROTO_UDP)
		return -1;
	tot = (f[16] << 8) | f[17];
	if (tot < NET_IP_HLEN + NET_UDP_HLEN || NET_ETH_HLEN + tot > (int)len)
		return -1;
	*dport = (f[NET_UDP_OFF + 2] << 8) | f[NET_UDP_OFF + 3];
	*payload = f + NET_PAYLOAD_OFF;
	return tot - NET_IP_HLEN - NET_UDP_HLEN;
}

/* Without @caps, open a context and claim; exit code = errno (0: ok). */
static int child_claim(uint64_t caps, uint32_t ifindex, uint16_t et,
		       uint8_t proto, uint16_t port)
{
	pid_t pid = exo_fork();
	int fd, rc;

	if (pid)
		return net_wait(pid);
	if (net_drop_caps(caps))
		_exit(200);
	fd = exo_open_raw(O_CLOEXEC);
	if (fd < 0)
		_exit(201);
	rc = _net_claim(fd, ifindex, et, proto, port, -1, NULL);
	_exit(-rc);
}

/* ---------------------------------------------------------------------- */

/*
 * The fixture works and Linux serves the interface: before exo is
 * attached and while it is, with no claim, ping and UDP reach Linux.
 */
TEST_F_TIMEOUT(net, unclaimed_traffic_reaches_linux, 60)
{
	long long echos = net_snmp("Icmp", "InEchos");
	int s, i;

	NET_READY();
	ASSERT_LE(0, echos);
	s = net_linux_udp(7000);
	ASSERT_LE(0, s);
	for (i = 0; i < 2; i++) {
		if (i == 1)
			test_net_attach(self->ctx.fd, self->ifindex);
		ASSERT_EQ(0, peer_ping(1));
		ASSERT_EQ(0, peer_socat_send(7000, "to-linux"));
		EXPECT_EQ(1, net_drain(s, 3000));
	}
	EXPECT_EQ(echos + 2, net_snmp("Icmp", "InEchos"));
	close(s);
}

TEST_F(net, attach_errors)
{
	struct exo_net_attach a = { .size = sizeof(a) };
	struct exo_ctx other = EXO_CTX_INIT;
	struct exo_net_stats st;
	uint32_t id;
	pid_t pid;

	NET_READY();
	EXPECT_EQ(-ENODEV, _net_attach(self->ctx.fd, 0x7ffffff0, 0));
	/* An unknown flag: EOPNOTSUPP, as for every exo command. */
	EXPECT_EQ(-EOPNOTSUPP, _net_attach(self->ctx.fd, self->ifindex, 0x2));
	a.ifindex = self->ifindex;
	a.__reserved = 1;
	EXPECT_EQ(-EINVAL, _test_ioctl(self->ctx.fd, EXO_IOC_NET_ATTACH, &a));
	EXPECT_EQ(-ENXIO, _net_attach(self->ctx.fd, self->ifindex,
				      EXO_NET_DETACH));

	/* CAP_NET_ADMIN, checked in a child that dropped it. */
	pid = exo_fork();
	if (!pid) {
		int fd;

		if (net_drop_caps(NET_CAP(CAP_NET_ADMIN)))
			_exit(200);
		fd = exo_open_raw(O_CLOEXEC);
		if (fd < 0)
			_exit(201);
		_exit(-_net_attach(fd, self->ifindex, 0));
	}
	EXPECT_EQ(EPERM, net_wait(pid));

	test_net_attach(self->ctx.fd, self->ifindex);
	EXPECT_EQ(-EEXIST, _net_attach(self->ctx.fd, self->ifindex, 0));

	/* A second context attaches too; the interface stays attached
	 * until the last one detaches, and its claims go with it.
	 */
	exo_ctx_open(&other, false);
	test_net_attach(other.fd, self->ifindex);
	test_net_claim_udp(self->ctx.fd, self->ifindex, 7001, -1, &id);
	ASSERT_EQ(0, _net_attach(self->ctx.fd, self->ifindex,
				 EXO_NET_DETACH));
	EXPECT_EQ(-ENXIO, _net_attach(self->ctx.fd, self->ifindex,
				      EXO_NET_DETACH));
	EXPECT_EQ(0, _net_stats(self->ctx.fd, id, &st));
	ASSERT_EQ(0, _net_attach(other.fd, self->ifindex, EXO_NET_DETACH));
	EXPECT_EQ(-ENOENT, _net_stats(self->ctx.fd, id, &st));
	EXPECT_EQ(-ENXIO, _net_claim_udp(self->ctx.fd, self->ifindex, 7001,
					 -1, NULL));
	exo_ctx_close(&other);
}

/* A device with another rx_handler (a bridge port) cannot be attached. */
TEST_F(net, attach_busy_bridge)
{
	NET_READY();
	if (net_sh(NET_IP " link add exobr type bridge 2>/dev/null"))
		SKIP(return, "no bridge driver in this kernel");
	ASSERT_EQ(0, net_sh(NET_IP " link set " NET_DEV " master exobr"));
	EXPECT_EQ(-EBUSY, _net_attach(self->ctx.fd, self->ifindex, 0));
	ASSERT_EQ(0, net_sh(NET_IP " link set " NET_DEV " nomaster"));
	test_net_attach(self->ctx.fd, self->ifindex);
	/* And the other way round: exo holds the rx_handler now. */
	EXPECT_NE(0, net_sh(NET_IP " link set " NET_DEV " master exobr "
			    "2>/dev/null"));
	ASSERT_EQ(0, _net_attach(self->ctx.fd, self->ifindex,
				 EXO_NET_DETACH));
	EXPECT_EQ(0, net_sh(NET_IP " link set " NET_DEV " master exobr"));
	net_sh(NET_IP " link del exobr");
}

TEST_F(net, claim_einval)
{
	const struct exo_net_claim ok = {
		.size = sizeof(ok), .ifindex = self->ifindex,
		.ethertype = NET_ETH_P_IP, .ip_proto = IPPROTO_UDP,
		.port = 7001, .abi = EXO_NET_ABI, .prog_fd = -1,
	};
	struct exo_net_claim bad[12];
	unsigned int i, n = 0;
	int rc;

	NET_READY();
	test_net_attach(self->ctx.fd, self->ifindex);
	for (i = 0; i < 12; i++)
		bad[i] = ok;
	/* Below 0x0600 is an 802.3 length, not an ethertype. */
	bad[n].ethertype = 0, bad[n].ip_proto = 0, bad[n++].port = 0;
	bad[n].ethertype = 0x05ff, bad[n].ip_proto = 0, bad[n++].port = 0;
	/* A protocol or a port needs IPv4. */
	bad[n].ethertype = NET_ETH_P_IPV6, bad[n++].port = 0;
	bad[n].ethertype = NET_ETH_P_ARP, bad[n++].ip_proto = 0;
	/* A port needs UDP or TCP. */
	bad[n++].ip_proto = 0;
	bad[n++].ip_proto = IPPROTO_ICMP;
	bad[n++].abi = 0;
	bad[n++].abi = EXO_NET_ABI + 1;
	bad[n++].__pad = 1;
	for (i = 0; i < n; i++) {
		rc = _test_ioctl(self->ctx.fd, EXO_IOC_NET_CLAIM, &bad[i]);
		EXPECT_EQ(-EINVAL, rc)
			TH_LOG("case %u (%#x/%u/%u abi %u flags %u pad %u): %s",
			       i, bad[i].ethertype, bad[i].ip_proto,
			       bad[i].port, bad[i].abi, bad[i].flags,
			       bad[i].__pad, rc ? strerror(-rc) : "success");
	}
	bad[0] = ok;
	bad[0].flags = 1;
	EXPECT_EQ(-EOPNOTSUPP, _test_ioctl(self->ctx.fd, EXO_IOC_NET_CLAIM,
					   &bad[0]));
	bad[0] = ok;
	ASSERT_EQ(0, _test_ioctl(self->ctx.fd, EXO_IOC_NET_CLAIM, &bad[0]));
	EXPECT_NE(0U, bad[0].id);
}

/* Claims are exclusive across contexts, like bind(2): in both directions. */
TEST_F(net, claim_overlap)
{
	struct exo_ctx b = EXO_CTX_INIT;
	uint32_t udp, tcp, proto, et, x;
	int fa = self->ctx.fd, fb, ifi = self->ifindex;
	struct exo_net_stats st;

	NET_READY();
	exo_ctx_open(&b, false);
	fb = b.fd;
	EXPECT_EQ(-ENXIO, _net_claim_udp(fa, ifi, 7001, -1, NULL));
	EXPECT_EQ(-ENODEV, _net_claim_udp(fa, 0x7ffffff0, 7001, -1, NULL));
	test_net_attach(fa, ifi);

	/* The same key. */
	test_net_claim_udp(fa, ifi, 7001, -1, &udp);
	test_err_net_claim(EADDRINUSE, fa, ifi, NET_ETH_P_IP, IPPROTO_UDP,
			   7001, -1);
	test_err_net_claim(EADDRINUSE, fb, ifi, NET_ETH_P_IP, IPPROTO_UDP,
			   7001, -1);
	test_net_claim(fb, ifi, NET_ETH_P_IP, IPPROTO_TCP, 7001, -1, &tcp);
	/* A protocol or an ethertype claim would contain a port claim. */
	test_err_net_claim(EADDRINUSE, fb, ifi, NET_ETH_P_IP, IPPROTO_UDP,
			   0, -1);
	test_err_net_claim(EADDRINUSE, fb, ifi, NET_ETH_P_IP, 0, 0, -1);
	test_net_claim(fb, ifi, NET_ETH_P_IP, IPPROTO_ICMP, 0, -1, &x);
	ASSERT_EQ(0, _net_unclaim(fb, x));
	ASSERT_EQ(0, _net_unclaim(fa, udp));
	ASSERT_EQ(0, _net_unclaim(fb, tcp));

	/* A port claim would be contained in a protocol claim. */
	test_net_claim(fb, ifi, NET_ETH_P_IP, IPPROTO_UDP, 0, -1, &proto);
	test_err_net_claim(EADDRINUSE, fa, ifi, NET_ETH_P_IP, IPPROTO_UDP,
			   7002, -1);
	test_err_net_claim(EADDRINUSE, fa, ifi, NET_ETH_P_IP, 0, 0, -1);
	test_net_claim(fa, ifi, NET_ETH_P_IP, IPPROTO_TCP, 7002, -1, &x);
	ASSERT_EQ(0, _net_unclaim(fa, x));
	ASSERT_EQ(0, _net_unclaim(fb, proto));

	/* Anything of IPv4 would be contained in the ethertype claim. */
	test_net_claim(fb, ifi, NET_ETH_P_IP, 0, 0, -1, &et);
	/* Ids are per context: A, holding none, cannot give B's up. */
	EXPECT_EQ(-ENOENT, _net_unclaim(fa, et));
	EXPECT_EQ(-ENOENT, _net_handler(fa, et, -1));
	EXPECT_EQ(0, _net_stats(fb, et, &st));
	test_err_net_claim(EADDRINUSE, fa, ifi, NET_ETH_P_IP, IPPROTO_UDP,
			   7003, -1);
	test_err_net_claim(EADDRINUSE, fa, ifi, NET_ETH_P_IP, IPPROTO_TCP,
			   0, -1);
	test_err_net_claim(EADDRINUSE, fb, ifi, NET_ETH_P_IP, 0, 0, -1);
	test_net_claim(fa, ifi, 0x88b5, 0, 0, -1, &x);

	EXPECT_EQ(-ENOENT, _net_unclaim(fa, 0x7ffffff0));
	EXPECT_EQ(-ENOENT, _net_stats(fa, 0x7ffffff0, &st));

	/* Closing a context gives its claims up. */
	exo_ctx_close(&b);
	test_net_claim_udp(fa, ifi, 7001, -1, &udp);
	test_net_claim(fa, ifi, NET_ETH_P_IP, IPPROTO_TCP, 0, -1, &x);
}

TEST_F(net, claim_privilege)
{
	uint64_t start = 1024;
	FILE *f;
	int ifi = self->ifindex;

	NET_READY();
	f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
	if (f) {
		if (fscanf(f, "%" SCNu64, &start) != 1)
			start = 1024;
		fclose(f);
	}
	ASSERT_LT(1U, start);
	test_net_attach(self->ctx.fd, ifi);

	/* A privileged port needs CAP_NET_BIND_SERVICE. */
	EXPECT_EQ(EACCES, child_claim(NET_CAP(CAP_NET_BIND_SERVICE), ifi,
				      NET_ETH_P_IP, IPPROTO_UDP, start - 1));
	EXPECT_EQ(EACCES, child_claim(NET_CAP(CAP_NET_BIND_SERVICE), ifi,
				      NET_ETH_P_IP, IPPROTO_TCP, 80));
	if (start < 65536)
		EXPECT_EQ(0, child_claim(NET_CAP(CAP_NET_BIND_SERVICE), ifi,
					 NET_ETH_P_IP, IPPROTO_UDP, start));
	test_net_claim_udp(self->ctx.fd, ifi, (uint16_t)(start - 1), -1, NULL);

	/* Whole protocols and ethertypes need CAP_NET_RAW. */
	EXPECT_EQ(EPERM, child_claim(NET_CAP(CAP_NET_RAW), ifi, NET_ETH_P_IP,
				     IPPROTO_ICMP, 0));
	EXPECT_EQ(EPERM, child_claim(NET_CAP(CAP_NET_RAW), ifi, 0x88b5, 0,
				     0));
	EXPECT_EQ(0, child_claim(NET_CAP(CAP_NET_RAW), ifi, NET_ETH_P_IP,
				 IPPROTO_UDP, 7005));
	test_net_claim(self->ctx.fd, ifi, NET_ETH_P_IP, IPPROTO_ICMP, 0, -1,
		       NULL);
}

/* Only a verified SCHED_CLS program is a handler. */
TEST_F(net, claim_bad_prog)
{
	int fd = self->ctx.fd, ifi = self->ifindex;
	int file, null, map, xdp, sock, cls;
	uint32_t id;

	NET_READY();
	test_net_attach(fd, ifi);
	file = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	ASSERT_LE(0, file);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "exo_map", 4, 4, 1, NULL);
	ASSERT_LE(0, map) TH_LOG("bpf_map_create: %s", strerror(errno));
	xdp = net_prog_verdict(BPF_PROG_TYPE_XDP, 2);
	ASSERT_LE(0, xdp) TH_LOG("loading an XDP program: %s", strerror(-xdp));
	sock = net_prog_verdict(BPF_PROG_TYPE_SOCKET_FILTER, 0);
	ASSERT_LE(0, sock);
	cls = net_prog_verdict(BPF_PROG_TYPE_SCHED_CLS, EXO_NET_DELIVER);
	ASSERT_LE(0, cls);

	test_err_net_claim(EBADF, fd, ifi, NET_ETH_P_IP, IPPROTO_UDP, 7001,
			   999);
	test_err_net_claim(EBADF, fd, ifi, NET_ETH_P_IP, IPPROTO_UDP, 7001,
			   -2);
	test_err_net_claim(EBADF, fd, ifi, NET_ETH_P_IP, IPPROTO_UDP, 7001,
			   file);
	test_err_net_claim(EBADF, fd, ifi, NET_ETH_P_IP, IPPROTO_UDP, 7001,
			   null);
	test_err_net_claim(EBADF, fd, ifi, NET_ETH_P_IP, IPPROTO_UDP, 7001,
			   map);
	test_err_net_claim(EBADF, fd, ifi, NET_ETH_P_IP, IPPROTO_UDP, 7001,
			   fd);
	test_err_net_claim(EINVAL, fd, ifi, NET_ETH_P_IP, IPPROTO_UDP, 7001,
			   xdp);
	test_err_net_claim(EINVAL, fd, ifi, NET_ETH_P_IP, IPPROTO_UDP, 7001,
			   sock);
	/* None of those left a claim behind. */
	test_net_claim_udp(fd, ifi, 7001, cls, &id);

	/* The same checks when switching handlers. */
	EXPECT_EQ(-EBADF, _net_handler(fd, id, 999));
	EXPECT_EQ(-EBADF, _net_handler(fd, id, file));
	EXPECT_EQ(-EBADF, _net_handler(fd, id, null));
	EXPECT_EQ(-EBADF, _net_handler(fd, id, map));
	EXPECT_EQ(-EINVAL, _net_handler(fd, id, xdp));
	EXPECT_EQ(-EINVAL, _net_handler(fd, id, sock));
	EXPECT_EQ(-ENOENT, _net_handler(fd, id + 1000, cls));
	EXPECT_EQ(0, _net_handler(fd, id, -1));
	EXPECT_EQ(0, _net_handler(fd, id, cls));
	/* exo holds its own reference: the program outlives our fd. */
	close(cls);
	EXPECT_EQ(0, _net_handler(fd, id, -1));
	close(sock);
	close(xdp);
	close(map);
	close(null);
	close(file);
}

/*
 * A handler reading past the packet is refused by the verifier when the
 * library OS loads it, so there is nothing to hand to exo; the log says
 * why.
 */
TEST(verifier_rejects_oob)
{
	static char log[1 << 16];
	struct bpf_object *obj;
	char *line, *end;
	int fd;

	fd = net_bpf_open("reject_oob", &obj, log, sizeof(log));
	ASSERT_GT(0, fd) TH_LOG("reject_oob loaded: the verifier let it in");
	ASSERT_NE(-ENOENT, fd) TH_LOG(NET_BPF_DIR "/reject_oob.bpf.o missing");
	line = strstr(log, "invalid access to packet");
	if (!line) {
		line = log + strlen(log);
		while (line > log && line - log > (long)strlen(log) - 400)
			line--;
	} else {
		while (line > log && line[-1] != '\n')
			line--;
	}
	end = strchr(line, '\n');
	TH_LOG("verifier: %.*s", end ? (int)(end - line) : 400, line);
	ASSERT_NE(NULL, strstr(log, "invalid access to packet"))
		TH_LOG("load failed (%s) but the log does not name the "
		       "packet access", strerror(-fd));
}

TEST_F(net, rx_ring_errors)
{
	struct exo_net_ring r = { .size = sizeof(r), .kind = EXO_NET_RX };
	int fd = self->ctx.fd, null, efd;
	uint64_t caps[4], more[2], forged[2];
	uint32_t n;
	int i;

	NET_READY();
	for (i = 0; i < 4; i++)
		caps[i] = exo_alloc_any_cap(fd);
	for (i = 0; i < 2; i++)
		more[i] = exo_alloc_any_cap(fd);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);

	EXPECT_EQ(-EINVAL, _net_ring(fd, 2, caps, 3, -1, NULL));
	EXPECT_EQ(-EINVAL, _net_ring(fd, EXO_NET_RX, caps, 65, -1, NULL));
	EXPECT_EQ(-EINVAL, _net_ring(fd, EXO_NET_RX, caps, 1, -1, NULL))
		TH_LOG("a ring of one frame has no slot");
	r.flags = 1;
	r.nr_caps = 3;
	r.caps = (uintptr_t)caps;
	r.eventfd = -1;
	EXPECT_EQ(-EOPNOTSUPP, _test_ioctl(fd, EXO_IOC_NET_RING, &r));
	EXPECT_EQ(-EFAULT, _net_ring(fd, EXO_NET_RX, (void *)8, 3, -1, NULL));
	forged[0] = caps[0];
	forged[1] = caps[3] + (UINT64_C(1) << 32);
	EXPECT_EQ(-ENOENT, _net_ring(fd, EXO_NET_RX, forged, 2, -1, NULL));
	EXPECT_EQ(-EBADF, _net_ring(fd, EXO_NET_RX, caps, 3, 999, NULL));
	EXPECT_EQ(-EINVAL, _net_ring(fd, EXO_NET_RX, caps, 3, null, NULL));
	EXPECT_EQ(-ENOENT, _net_ring(fd, EXO_NET_RX, NULL, 0, -1, NULL));
	EXPECT_EQ(-ENOENT, _net_ring(fd, EXO_NET_TX, NULL, 0, -1, NULL));

	/* A freed frame is no capability any more. */
	test_frame_free(fd, caps[3]);
	EXPECT_EQ(-ENOENT, _net_ring(fd, EXO_NET_RX, &caps[2], 2, -1, NULL));

	ASSERT_EQ(0, _net_ring(fd, EXO_NET_RX, caps, 3, efd, &n));
	EXPECT_EQ(4U, n);
	EXPECT_EQ(-EBUSY, _net_ring(fd, EXO_NET_RX, more, 2, -1, NULL));
	/* A frame of the RX ring cannot be in the TX ring too. */
	EXPECT_EQ(-EBUSY, _net_ring(fd, EXO_NET_TX, &caps[1], 2, -1, NULL));
	/* Pinned: neither freed nor reused while the ring is registered. */
	for (i = 0; i < 3; i++)
		test_err_frame_free(EBUSY, fd, caps[i]);
	ASSERT_EQ(0, _net_ring(fd, EXO_NET_TX, more, 2, -1, &n));
	EXPECT_EQ(2U, n);

	ASSERT_EQ(0, _net_ring(fd, EXO_NET_RX, NULL, 0, -1, NULL));
	EXPECT_EQ(-ENOENT, _net_ring(fd, EXO_NET_RX, NULL, 0, -1, NULL));
	for (i = 0; i < 3; i++)
		test_frame_free(fd, caps[i]);
	test_err_frame_free(EBUSY, fd, more[0]);
	close(null);
	close(efd);
}

/* The ring is in the library OS's own frames: it reads exo's header. */
TEST_F(net, rx_ring_header)
{
	const uint32_t frames[] = { 2, 3, 4, 5, 9 };
	const uint32_t slots[] = { 2, 4, 4, 8, 16 };
	struct net_ring r;
	unsigned int i;

	NET_READY();
	for (i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		uint32_t kind = i & 1 ? EXO_NET_TX : EXO_NET_RX;
		struct exo_net_ring_header *h;

		net_ring_setup(self->ctx.fd, kind, frames[i], -1, &r);
		h = r.hdr;
		EXPECT_EQ(slots[i], r.nslots) TH_LOG("%u frames", frames[i]);
		EXPECT_EQ(EXO_NET_RING_MAGIC, h->magic);
		EXPECT_EQ((uint32_t)EXO_NET_RING_VERSION, h->version);
		EXPECT_EQ(kind, h->kind);
		EXPECT_EQ(r.nslots, h->nr_slots);
		EXPECT_EQ((uint32_t)EXO_NET_SLOT_SIZE, h->slot_size);
		EXPECT_EQ(4096U, h->slots_offset);
		EXPECT_EQ(0U, h->prod);
		EXPECT_EQ(0U, h->cons);
		EXPECT_EQ(0U, h->drops);
		EXPECT_EQ(0U, h->rejected);
		EXPECT_EQ(0U, h->sent);
		ASSERT_EQ(0, _net_ring(self->ctx.fd, kind, NULL, 0, -1, NULL));
		net_ring_unmap(&r);
	}
}

/* Claimed UDP lands in the ring, once copied, and Linux sees none of it. */
TEST_F_TIMEOUT(net, delivery, 60)
{
	int fd = self->ctx.fd, s, i, plen;
	struct exo_net_stats st;
	char msg[32];
	struct net_ring r;
	uint64_t t0, t1;
	uint32_t id;

	NET_READY();
	test_net_attach(fd, self->ifindex);
	net_ring_setup(fd, EXO_NET_RX, 3, -1, &r);
	test_net_claim_udp(fd, self->ifindex, 7001, -1, &id);
	s = net_linux_udp(7001);
	ASSERT_LE(0, s);

	t0 = net_now_ns();
	for (i = 0; i < 3; i++) {
		snprintf(msg, sizeof(msg), "exo-delivery-%d", i);
		ASSERT_EQ(0, peer_socat_send(7001, msg));
	}
	ASSERT_EQ(3U, net_ring_wait(&r, 3, 5000));
	t1 = net_now_ns();
	for (i = 0; i < 3; i++) {
		const struct exo_net_slot *sl = net_slot(&r, i);
		const uint8_t *f = net_slot_data(&r, i), *payload;
		uint16_t dport = 0;

		snprintf(msg, sizeof(msg), "exo-delivery-%d", i);
		EXPECT_EQ(id, sl->claim);
		EXPECT_EQ(self->ifindex, sl->ifindex);
		EXPECT_EQ(0U, sl->tag);
		EXPECT_EQ(0U, sl->flags & EXO_NET_SLOT_TRUNC);
		EXPECT_NE(0U, sl->flags & EXO_NET_SLOT_CSUM_OK);
		EXPECT_EQ(sl->wire_len, sl->len);
		EXPECT_LE(t0, sl->tstamp_ns);
		EXPECT_GE(t1, sl->tstamp_ns);
		EXPECT_EQ(0, memcmp(f, net_mac, 6));
		EXPECT_EQ(0, memcmp(f + 6, net_peer_mac, 6));
		plen = slot_udp(f, sl->len, &dport, &payload);
		ASSERT_EQ((int)strlen(msg), plen);
		EXPECT_EQ(7001, dport);
		EXPECT_EQ(0, memcmp(payload, msg, plen));
		EXPECT_EQ(0, memcmp(f + 26, "\x0a\x00\x01\x02\x0a\x00\x01\x01",
				    8));
	}
	net_set_cons(&r, 3);
	test_net_stats(fd, id, &st);
	EXPECT_EQ(3U, st.packets);
	EXPECT_EQ(3U, st.delivered);
	EXPECT_EQ(0U, st.dropped + st.replied + st.passed + st.ring_full +
		      st.bad_verdict);
	EXPECT_EQ(0, net_drain(s, 300)) TH_LOG("Linux got claimed datagrams");

	/* Given up, the port is Linux's again. */
	ASSERT_EQ(0, _net_unclaim(fd, id));
	EXPECT_EQ(-ENOENT, _net_stats(fd, id, &st));
	ASSERT_EQ(0, peer_socat_send(7001, "after-unclaim"));
	EXPECT_EQ(1, net_drain(s, 3000));
	EXPECT_EQ(3U, net_prod(&r));
	close(s);
	net_ring_unmap(&r);
}

/* A full ring drops and counts; what it holds stays intact. */
TEST_F(net, full_ring_counts_drops)
{
	int fd = self->ctx.fd, i, plen;
	struct exo_net_stats st;
	struct net_ring r;
	char msg[32];
	uint32_t id;

	NET_READY();
	test_net_attach(fd, self->ifindex);
	net_ring_setup(fd, EXO_NET_RX, 2, -1, &r);
	ASSERT_EQ(2U, r.nslots);
	test_net_claim_udp(fd, self->ifindex, 7004, -1, &id);
	ASSERT_EQ(0, net_wait(net_peer_send(7004, "full", 10, 1000, 0)));
	ASSERT_EQ(0, wait_packets(fd, id, 10, 5000, &st));
	EXPECT_EQ(10U, st.packets);
	EXPECT_EQ(2U, st.delivered);
	EXPECT_EQ(8U, st.ring_full);
	EXPECT_EQ(8U, r.hdr->drops);
	EXPECT_EQ(2U, net_prod(&r));
	for (i = 0; i < 2; i++) {
		const uint8_t *payload;
		uint16_t dport;

		snprintf(msg, sizeof(msg), "full-%03d", i);
		plen = slot_udp(net_slot_data(&r, i), net_slot(&r, i)->len,
				&dport, &payload);
		ASSERT_EQ((int)strlen(msg), plen);
		EXPECT_EQ(0, memcmp(payload, msg, plen));
		EXPECT_EQ(id, net_slot(&r, i)->claim);
	}

	/* Consumed, it takes packets again. */
	net_set_cons(&r, 2);
	ASSERT_EQ(0, net_wait(net_peer_send(7004, "again", 1, 0, 0)));
	ASSERT_EQ(1U, net_ring_wait(&r, 1, 3000));
	net_set_cons(&r, 3);

	/* A consumer index that makes no sense counts as full. */
	net_set_cons(&r, net_prod(&r) + 5);
	ASSERT_EQ(0, net_wait(net_peer_send(7004, "bogus", 1, 0, 0)));
	ASSERT_EQ(0, wait_packets(fd, id, 12, 3000, &st));
	EXPECT_EQ(12U, st.packets);
	EXPECT_EQ(9U, st.ring_full);
	EXPECT_EQ(9U, r.hdr->drops);
	EXPECT_EQ(3U, net_prod(&r));
	net_ring_unmap(&r);
}

/* The eventfd and poll(2) on the context wake when the ring fills. */
TEST_F(net, wakeups)
{
	int fd = self->ctx.fd, efd, round;
	struct pollfd p[2];
	struct net_ring r;
	uint64_t cnt;
	uint32_t id;
	pid_t pid;

	NET_READY();
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	test_net_attach(fd, self->ifindex);
	net_ring_setup(fd, EXO_NET_RX, 3, efd, &r);
	test_net_claim_udp(fd, self->ifindex, 7005, -1, &id);

	for (round = 0; round < 2; round++) {
		bool ev = false, ctx = false;
		uint64_t end;

		p[0] = (struct pollfd){ .fd = efd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = fd, .events = POLLIN };
		ASSERT_EQ(0, poll(p, 2, 0)) TH_LOG("ready with an empty ring");

		/* The datagram comes while we sleep in poll(2). */
		pid = exo_fork();
		if (!pid) {
			usleep(300000);
			_exit(net_wait(net_peer_send(7005, "wake", 1, 0, 0)));
		}
		end = net_now_ns() + 5000000000ull;
		while ((!ev || !ctx) && net_now_ns() < end) {
			p[0].revents = p[1].revents = 0;
			ASSERT_LE(0, poll(p, 2, 5000));
			ev |= p[0].revents & POLLIN;
			ctx |= p[1].revents & POLLIN;
			if (ev)
				p[0].events = 0;
			if (ctx)
				p[1].events = 0;
		}
		ASSERT_EQ(0, net_wait(pid));
		EXPECT_TRUE(ev) TH_LOG("the eventfd was not signalled");
		EXPECT_TRUE(ctx) TH_LOG("poll on the context did not wake");
		ASSERT_EQ((ssize_t)sizeof(cnt), read(efd, &cnt, sizeof(cnt)));
		EXPECT_LE(1U, cnt);
		EXPECT_EQ((uint32_t)round + 1, net_prod(&r));
		net_set_cons(&r, net_prod(&r));
	}
	p[1] = (struct pollfd){ .fd = fd, .events = POLLIN };
	EXPECT_EQ(0, poll(&p[1], 1, 0)) TH_LOG("ready with the ring consumed");
	net_ring_unmap(&r);
	close(efd);
}

/* ping from the peer is answered in the kernel by the ICMP echo ASH. */
TEST_F_TIMEOUT(net, icmp_echo_ash, 60)
{
	struct exo_net_stats st;
	struct bpf_object *obj;
	long long echos;
	int prog;
	uint32_t id;

	NET_READY();
	prog = net_handler_load("icmp_echo", &obj);
	test_net_attach(self->ctx.fd, self->ifindex);
	test_net_claim(self->ctx.fd, self->ifindex, NET_ETH_P_IP,
		       IPPROTO_ICMP, 0, prog, &id);
	echos = net_snmp("Icmp", "InEchos");
	EXPECT_EQ(0, peer_ping(3));
	test_net_stats(self->ctx.fd, id, &st);
	EXPECT_EQ(3U, st.replied);
	EXPECT_EQ(0U, st.bad_verdict);
	EXPECT_EQ(0U, st.delivered);
	EXPECT_EQ(echos, net_snmp("Icmp", "InEchos"))
		TH_LOG("Linux saw the echo requests");
	bpf_object__close(obj);
}

/* socat in the peer gets its datagram back from the UDP echo ASH. */
TEST_F_TIMEOUT(net, udp_echo_ash, 60)
{
	const char *msg = "exo-udp-echo-ash";
	struct exo_net_stats st;
	struct bpf_object *obj;
	char buf[128] = "";
	int prog, s, i;
	uint32_t id;
	FILE *p;

	NET_READY();
	prog = net_handler_load("udp_echo", &obj);
	test_net_attach(self->ctx.fd, self->ifindex);
	test_net_claim_udp(self->ctx.fd, self->ifindex, 7002, prog, &id);
	s = net_linux_udp(7002);
	ASSERT_LE(0, s);
	/* Debian's socat, then OpenBSD nc, as the peer's client. */
	for (i = 0; i < 2; i++) {
		fflush(stdout);
		p = popen(i ? "printf 'exo-udp-echo-ash' | " NET_IP
			      " netns exec " NET_NS " nc -u -w 1 " NET_ADDR
			      " 7002"
			    : "printf 'exo-udp-echo-ash' | " NET_IP
			      " netns exec " NET_NS " socat -t 1 -T 3 - UDP:"
			      NET_ADDR ":7002",
			  "r");
		ASSERT_NE(NULL, p);
		memset(buf, 0, sizeof(buf));
		if (!fgets(buf, sizeof(buf), p))
			buf[0] = '\0';
		EXPECT_EQ(0, pclose(p));
		EXPECT_STREQ(msg, buf);
	}
	test_net_stats(self->ctx.fd, id, &st);
	EXPECT_EQ(2U, st.packets);
	EXPECT_EQ(2U, st.replied);
	EXPECT_EQ(0U, st.bad_verdict);
	EXPECT_EQ(0, net_drain(s, 0));
	close(s);
	bpf_object__close(obj);
}

/* drop_rule drops what its map denies and delivers the rest. */
TEST_F(net, drop_rule)
{
	int fd = self->ctx.fd, prog, map;
	struct exo_net_stats st;
	struct bpf_object *obj;
	struct bpf_map *deny;
	uint8_t key[16] = { 0 }, val[64];
	struct net_ring r;
	uint32_t id;

	NET_READY();
	prog = net_handler_load("drop_rule", &obj);
	deny = bpf_object__find_map_by_name(obj, "deny");
	ASSERT_NE(NULL, deny) TH_LOG("drop_rule has no map 'deny'");
	ASSERT_EQ(4U, bpf_map__key_size(deny))
		TH_LOG("deny's key is an IPv4 source address");
	ASSERT_GE(sizeof(val), bpf_map__value_size(deny));
	map = bpf_map__fd(deny);
	inet_pton(AF_INET, NET_PEER_ADDR, key);
	memset(val, 0, sizeof(val));
	val[0] = 1;

	test_net_attach(fd, self->ifindex);
	net_ring_setup(fd, EXO_NET_RX, 5, -1, &r);
	test_net_claim_udp(fd, self->ifindex, 7003, prog, &id);
	ASSERT_EQ(0, bpf_map_update_elem(map, key, val, BPF_ANY));
	ASSERT_EQ(0, net_wait(net_peer_send(7003, "denied", 4, 1000, 0)));
	ASSERT_EQ(0, wait_packets(fd, id, 4, 3000, &st));
	EXPECT_EQ(4U, st.packets);
	EXPECT_EQ(4U, st.dropped);
	EXPECT_EQ(0U, st.delivered);
	EXPECT_EQ(0U, net_prod(&r));

	ASSERT_EQ(0, bpf_map_delete_elem(map, key));
	ASSERT_EQ(0, net_wait(net_peer_send(7003, "allowed", 4, 1000, 0)));
	EXPECT_EQ(4U, net_ring_wait(&r, 4, 3000));
	test_net_stats(fd, id, &st);
	EXPECT_EQ(8U, st.packets);
	EXPECT_EQ(4U, st.dropped);
	EXPECT_EQ(4U, st.delivered);
	net_ring_unmap(&r);
	bpf_object__close(obj);
}

/*
 * udp_demux on a whole-UDP claim: ports in its map reach the ring tagged,
 * the rest it passes to Linux.
 */
TEST_F_TIMEOUT(net, udp_demux_tags_and_passes, 60)
{
	int fd = self->ctx.fd, prog, map, s;
	uint32_t id, tag = 0xd0017021, i;
	struct exo_net_stats st;
	struct bpf_object *obj;
	struct bpf_map *ports;
	uint16_t port = 7021;
	struct net_ring r;

	NET_READY();
	prog = net_handler_load("udp_demux", &obj);
	ports = bpf_object__find_map_by_name(obj, "ports");
	ASSERT_NE(NULL, ports) TH_LOG("udp_demux has no map 'ports'");
	ASSERT_EQ(sizeof(port), bpf_map__key_size(ports));
	map = bpf_map__fd(ports);
	ASSERT_EQ(0, bpf_map_update_elem(map, &port, &tag, BPF_ANY));
	test_net_attach(fd, self->ifindex);
	net_ring_setup(fd, EXO_NET_RX, 5, -1, &r);
	test_net_claim(fd, self->ifindex, NET_ETH_P_IP, IPPROTO_UDP, 0, prog,
		       &id);
	s = net_linux_udp(7022);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, net_wait(net_peer_send(7021, "demux", 3, 1000, 0)));
	ASSERT_EQ(0, net_wait(net_peer_send(7022, "linux", 2, 1000, 0)));
	EXPECT_EQ(3U, net_ring_wait(&r, 3, 3000));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(tag, net_slot(&r, i)->tag);
		EXPECT_EQ(id, net_slot(&r, i)->claim);
	}
	EXPECT_EQ(2, net_drain(s, 3000));
	test_net_stats(fd, id, &st);
	EXPECT_EQ(5U, st.packets);
	EXPECT_EQ(3U, st.delivered);
	EXPECT_EQ(2U, st.passed);
	close(s);
	net_ring_unmap(&r);
	bpf_object__close(obj);
}

/* Count a ring's slots; every one must be @id's, to @port, "@tag-NNN". */
static int ring_check_own(struct __test_metadata *_metadata,
			  struct net_ring *r, uint32_t id, uint16_t port,
			  const char *tag)
{
	uint32_t i, prod = net_prod(r);
	int n = 0;

	for (i = net_cons(r); i != prod; i++, n++) {
		const uint8_t *payload;
		uint16_t dport = 0;
		int plen = slot_udp(net_slot_data(r, i), net_slot(r, i)->len,
				    &dport, &payload);

		EXPECT_EQ(id, net_slot(r, i)->claim);
		EXPECT_EQ(port, dport);
		EXPECT_LT((int)strlen(tag), plen);
		if (plen > (int)strlen(tag))
			EXPECT_EQ(0, memcmp(payload, tag, strlen(tag)));
	}
	net_set_cons(r, prod);
	return n;
}

/* Two library OSes with different claims never see each other's packets. */
TEST_F_TIMEOUT(net, two_library_oses, 60)
{
	struct exo_ctx b = EXO_CTX_INIT;
	struct net_ring ra, rb;
	uint32_t ida, idb;
	pid_t p1, p2, p3;

	NET_READY();
	exo_ctx_open(&b, false);
	test_net_attach(self->ctx.fd, self->ifindex);
	net_ring_setup(self->ctx.fd, EXO_NET_RX, 9, -1, &ra);
	net_ring_setup(b.fd, EXO_NET_RX, 9, -1, &rb);
	test_net_claim_udp(self->ctx.fd, self->ifindex, 7011, -1, &ida);
	test_net_claim_udp(b.fd, self->ifindex, 7012, -1, &idb);

	p1 = net_peer_send(7011, "for-a", 5, 2000, 0);
	p2 = net_peer_send(7012, "for-b", 7, 2000, 0);
	p3 = net_peer_send(7013, "for-linux", 3, 2000, 0);
	ASSERT_EQ(0, net_wait(p1));
	ASSERT_EQ(0, net_wait(p2));
	ASSERT_EQ(0, net_wait(p3));
	net_ring_wait(&ra, 5, 3000);
	net_ring_wait(&rb, 7, 3000);
	usleep(200000);
	EXPECT_EQ(5, ring_check_own(_metadata, &ra, ida, 7011, "for-a-"));
	EXPECT_EQ(7, ring_check_own(_metadata, &rb, idb, 7012, "for-b-"));
	net_ring_unmap(&rb);
	net_ring_unmap(&ra);
	exo_ctx_close(&b);
}

/*
 * Handlers switch atomically while packets flow: every packet is counted
 * once, by the handler that saw it. Then the claim goes while they flow:
 * on return nothing more reaches the ring, and the port is Linux's.
 */
TEST_F_TIMEOUT(net, handler_switch_and_unclaim_under_traffic, 60)
{
	int fd = self->ctx.fd, tag, drop, s, i, seen = 0, linux_n;
	struct exo_net_stats st;
	struct net_ring r;
	uint32_t id, prod, j;
	uint64_t end;
	pid_t pid;

	NET_READY();
	tag = net_prog_tag();
	ASSERT_LE(0, tag) TH_LOG("loading the tag handler: %s", strerror(-tag));
	drop = net_prog_verdict(BPF_PROG_TYPE_SCHED_CLS, EXO_NET_DROP);
	ASSERT_LE(0, drop);
	test_net_attach(fd, self->ifindex);
	net_ring_setup(fd, EXO_NET_RX, 9, -1, &r);
	test_net_claim_udp(fd, self->ifindex, 7020, -1, &id);
	s = net_linux_udp(7020);
	ASSERT_LE(0, s);

	pid = net_peer_send(7020, "switch", 0, 300, 1500);
	end = net_now_ns() + 1500000000ull;
	for (i = 0; net_now_ns() < end; i++) {
		const int progs[] = { tag, drop, -1 };

		ASSERT_EQ(0, _net_handler(fd, id, progs[i % 3]));
		usleep(20000);
		prod = net_prod(&r);
		for (j = net_cons(&r); j != prod; j++, seen++) {
			uint32_t t = net_slot(&r, j)->tag;

			EXPECT_EQ(id, net_slot(&r, j)->claim);
			if (t)
				EXPECT_EQ((id ^ (EXO_NET_ABI << 24)), t);
		}
		net_set_cons(&r, prod);
	}
	ASSERT_EQ(0, net_wait(pid));
	usleep(200000);
	seen += net_prod(&r) - net_cons(&r);
	net_set_cons(&r, net_prod(&r));
	test_net_stats(fd, id, &st);
	TH_LOG("%d switches, %llu packets: %llu delivered, %llu dropped, "
	       "%llu ring full", i, (unsigned long long)st.packets,
	       (unsigned long long)st.delivered,
	       (unsigned long long)st.dropped,
	       (unsigned long long)st.ring_full);
	EXPECT_EQ(st.packets, st.delivered + st.dropped + st.ring_full);
	EXPECT_EQ((uint64_t)seen, st.delivered);
	EXPECT_LT(0U, st.delivered);
	EXPECT_LT(0U, st.dropped);
	EXPECT_EQ(0U, st.passed + st.replied + st.bad_verdict);
	EXPECT_EQ(0, net_drain(s, 0)) TH_LOG("Linux got claimed datagrams");

	ASSERT_EQ(0, _net_handler(fd, id, tag));
	pid = net_peer_send(7020, "unclaim", 0, 300, 1500);
	usleep(500000);
	/* Room in the ring: only the unclaim can stop it growing. */
	net_set_cons(&r, net_prod(&r));
	ASSERT_EQ(0, _net_unclaim(fd, id));
	prod = net_prod(&r);
	usleep(300000);
	EXPECT_EQ(prod, net_prod(&r)) TH_LOG("the ring grew after UNCLAIM");
	EXPECT_EQ(-ENOENT, _net_stats(fd, id, &st));
	ASSERT_EQ(0, net_wait(pid));
	linux_n = net_drain(s, 500);
	EXPECT_LT(0, linux_n) TH_LOG("Linux got nothing after UNCLAIM");
	close(s);
	close(drop);
	close(tag);
	net_ring_unmap(&r);
}

/* A UDP datagram NET_ADDR:@sport -> NET_PEER_ADDR:@dport in slot @i. */
static void tx_udp(struct net_ring *r, uint32_t i, uint32_t ifindex,
		   const uint8_t *src_mac, uint16_t sport, uint16_t dport,
		   const char *msg)
{
	struct exo_net_slot *sl = net_slot(r, i);
	uint8_t *f = net_slot_data(r, i);
	size_t plen = strlen(msg);
	uint16_t tot = NET_IP_HLEN + NET_UDP_HLEN + plen, c;

	memset(sl, 0, sizeof(*sl));
	memcpy(f, net_peer_mac, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(f + 14, 0, NET_IP_HLEN);
	f[14] = 0x45;
	f[16] = tot >> 8;
	f[17] = tot & 0xff;
	f[22] = 64;
	f[23] = IPPROTO_UDP;
	inet_pton(AF_INET, NET_ADDR, f + 26);
	inet_pton(AF_INET, NET_PEER_ADDR, f + 30);
	c = exo_inet_csum(0, f + 14, NET_IP_HLEN);
	f[24] = c >> 8;
	f[25] = c & 0xff;
	f[34] = sport >> 8;
	f[35] = sport & 0xff;
	f[36] = dport >> 8;
	f[37] = dport & 0xff;
	f[38] = (NET_UDP_HLEN + plen) >> 8;
	f[39] = (NET_UDP_HLEN + plen) & 0xff;
	f[40] = f[41] = 0;	/* no UDP checksum: allowed in IPv4 */
	memcpy(f + NET_PAYLOAD_OFF, msg, plen);
	sl->len = NET_PAYLOAD_OFF + plen;
	sl->ifindex = ifindex;
}

/*
 * socat listening in the peer for UDP on @port; its output on *@out.
 * Returns once its socket is bound (its /proc/PID/net/udp lists it).
 */
static pid_t peer_socat_recv(uint16_t port, int *out)
{
	char path[64], line[256], want[16];
	int pfd[2], i;
	bool bound = false;
	pid_t pid;
	FILE *f;

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = exo_fork();
	if (!pid) {
		char addr[32];

		dup2(pfd[1], 1);
		snprintf(addr, sizeof(addr), "UDP-RECV:%u", port);
		execlp(NET_IP, "ip", "netns", "exec", NET_NS, "socat", "-u",
		       addr, "STDOUT", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	*out = pfd[0];
	snprintf(path, sizeof(path), "/proc/%d/net/udp", pid);
	snprintf(want, sizeof(want), ":%04X ", port);
	for (i = 0; i < 500 && !bound; i++) {
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			bound |= strstr(line, want) != NULL;
		if (f)
			fclose(f);
		if (!bound)
			usleep(10000);
	}
	return pid;
}

/* The TX ring sends frames of the context's claims, and only those. */
TEST_F_TIMEOUT(net, tx_ring, 60)
{
	static const uint8_t foreign[6] = { 0x02, 0, 0, 0, 0x09, 0x09 };
	int fd = self->ctx.fd, ifi = self->ifindex, out;
	uint32_t sent = 0, rejected = 0, id;
	struct pollfd p;
	struct net_ring r;
	char buf[256];
	ssize_t n;
	pid_t pid;

	NET_READY();
	test_net_attach(fd, ifi);
	test_net_claim_udp(fd, ifi, 7030, -1, &id);
	EXPECT_EQ(-ENOENT, _net_tx(fd, &sent, &rejected));
	net_ring_setup(fd, EXO_NET_TX, 3, -1, &r);
	ASSERT_EQ(4U, r.nslots);

	pid = peer_socat_recv(7100, &out);
	ASSERT_LT(0, pid);
	tx_udp(&r, 0, ifi, net_mac, 7031, 7100, "unclaimed-port");
	tx_udp(&r, 1, ifi, foreign, 7030, 7100, "foreign-mac");
	tx_udp(&r, 2, ifi, net_mac, 7030, 7100, "exo-tx-ok");
	__atomic_store_n(&r.hdr->prod, 3, __ATOMIC_RELEASE);
	ASSERT_EQ(0, _net_tx(fd, &sent, &rejected));
	EXPECT_EQ(1U, sent);
	EXPECT_EQ(2U, rejected);
	EXPECT_EQ(3U, net_cons(&r));
	EXPECT_EQ(1U, r.hdr->sent);
	EXPECT_EQ(2U, r.hdr->rejected);

	p = (struct pollfd){ .fd = out, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 5000)) TH_LOG("the peer received nothing");
	n = read(out, buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_STREQ("exo-tx-ok", buf);

	/* Too short, too long for the MTU, then good again (wrapping). */
	tx_udp(&r, 3, ifi, net_mac, 7030, 7100, "short");
	net_slot(&r, 3)->len = 10;
	tx_udp(&r, 4, ifi, net_mac, 7030, 7100, "long");
	net_slot(&r, 4)->len = 1600;
	tx_udp(&r, 5, ifi, net_mac, 7030, 7100, "exo-tx-again");
	__atomic_store_n(&r.hdr->prod, 6, __ATOMIC_RELEASE);
	ASSERT_EQ(0, _net_tx(fd, &sent, &rejected));
	EXPECT_EQ(1U, sent);
	EXPECT_EQ(2U, rejected);
	EXPECT_EQ(2U, r.hdr->sent);
	EXPECT_EQ(4U, r.hdr->rejected);
	ASSERT_EQ(1, poll(&p, 1, 5000)) TH_LOG("the peer received nothing");
	n = read(out, buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_STREQ("exo-tx-again", buf);
	/* Nothing more arrived. */
	EXPECT_EQ(0, poll(&p, 1, 300));

	kill(pid, SIGTERM);
	net_wait(pid);
	close(out);
	net_ring_unmap(&r);
}

/* Closing the context while packets flow leaves Linux a working link. */
TEST_F_TIMEOUT(net, close_while_flowing, 60)
{
	int fd = self->ctx.fd, prog;
	struct bpf_object *obj;
	struct net_ring r;
	long long echos;
	pid_t p1, p2;
	uint32_t id;

	NET_READY();
	prog = net_handler_load("udp_echo", &obj);
	test_net_attach(fd, self->ifindex);
	net_ring_setup(fd, EXO_NET_RX, 3, -1, &r);
	test_net_claim_udp(fd, self->ifindex, 7040, -1, &id);
	test_net_claim_udp(fd, self->ifindex, 7041, prog, &id);

	p1 = net_peer_send(7040, "flood", 0, 0, 1500);
	p2 = net_peer_send(7041, "flood", 0, 0, 1500);
	usleep(500000);
	net_ring_unmap(&r);
	bpf_object__close(obj);
	exo_ctx_close(&self->ctx);
	ASSERT_EQ(0, net_wait(p1));
	ASSERT_EQ(0, net_wait(p2));

	echos = net_snmp("Icmp", "InEchos");
	EXPECT_EQ(0, peer_ping(1)) TH_LOG("Linux does not answer after close");
	EXPECT_LT(echos, net_snmp("Icmp", "InEchos"));
}

/* The device goes away under its claims: their owner hears of it. */
TEST_F_TIMEOUT(net, device_unregistered, 60)
{
	int fd = self->ctx.fd;
	const struct exo_events_header *h;
	uint32_t ids[2];
	uint64_t head, end, n;
	bool found = false;
	void *ev;

	NET_READY();
	ev = mmap(NULL, self->ctx.api.events_size, PROT_READ, MAP_SHARED, fd,
		  EXO_MMAP_EVENTS);
	ASSERT_NE(MAP_FAILED, ev) TH_LOG("mmap of the event ring: %s",
					 strerror(errno));
	h = ev;
	test_net_attach(fd, self->ifindex);
	test_net_claim_udp(fd, self->ifindex, 7050, -1, &ids[0]);
	test_net_claim(fd, self->ifindex, NET_ETH_P_IP, IPPROTO_TCP, 7051, -1,
		       &ids[1]);
	head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);

	ASSERT_EQ(0, net_sh(NET_IP " link del " NET_DEV));
	end = net_now_ns() + 3000000000ull;
	while (!found && net_now_ns() < end) {
		uint64_t now = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);

		for (n = head; n < now; n++) {
			const struct exo_event *e = (const void *)
				((const char *)ev + h->entries_offset +
				 (n % h->nr_entries) * h->entry_size);

			if (__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) != n + 1)
				break;
			if (e->type != EXO_EV_NET_DOWN)
				continue;
			EXPECT_EQ(self->ifindex, e->arg);
			EXPECT_EQ(2U, e->nr);
			found = true;
		}
		if (!found)
			usleep(10000);
	}
	EXPECT_TRUE(found) TH_LOG("no EXO_EV_NET_DOWN event");
	EXPECT_EQ(-ENOENT, _net_unclaim(fd, ids[0]));
	EXPECT_EQ(-ENOENT, _net_unclaim(fd, ids[1]));
	EXPECT_EQ(-ENODEV, _net_attach(fd, self->ifindex, 0));
	munmap(ev, self->ctx.api.events_size);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test_harness_run(argc, argv);
}
