// SPDX-License-Identifier: GPL-2.0
/*
 * libexo's user-level network stack (exo_stack(3)) against the real module,
 * over a veth pair: exos0 here (10.0.3.1, Linux's) is attached to exo;
 * exos1 (10.0.3.2) is in the network namespace exostack, the peer host.
 *
 * Real clients talk to the stack: socat to its UDP echo server, ping to
 * its own address (10.0.3.3, ARP answered by the stack). Hand-made frames
 * sent from a packet socket in the peer check what the stack accepts
 * (checksums, IPv4 header fields, options, fragments, Ethernet padding)
 * and every field of what it sends back, with a checksum computed here.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <time.h>

#include <libexo.h>

#include "exo_util.h"

#define HOST_IF		"exos0"
#define PEER_IF		"exos1"
#define PEER_NS		"exostack"
#define HOST_IP		"10.0.3.1"
#define PEER_IP		"10.0.3.2"
#define STACK_IP	"10.0.3.3"
#define NOBODY_IP	"10.0.3.99"
#define ECHO_PORT	7777

/* Run a shell command: its exit status, or -1. */
static int sh(const char *fmt, ...)
{
	char cmd[768];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * Debian's ip, ping and socat, by path: a busybox shell may run its own
 * applet of the same name (no netns, no -i 0.2) whatever PATH says.
 */
static const char *tool(const char *name)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin",
					    "/bin" };
	static char found[3][32];
	static unsigned int nr;
	char path[32], real[PATH_MAX];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dirs) && nr < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) || !realpath(path, real) ||
		    strstr(real, "busybox"))
			continue;
		strcpy(found[nr], path);
		return found[nr++];
	}
	return NULL;
}

static const char *ip_bin, *ping_bin, *socat_bin;

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void net_down(void)
{
	sh("%s netns del " PEER_NS " 2>/dev/null", ip_bin);
	sh("%s link del " HOST_IF " 2>/dev/null", ip_bin);
}

FIXTURE(stk) {
	struct exo *exo;
	struct exo_net *net;
	struct exo_stack *stack;
	unsigned int ifindex;
	bool net_up;
	struct exo_counters base;
	/* The library OS's thread, for the tests with real clients. */
	pthread_t thr;
	bool running;
	int stop;
	int err;
	/* A packet socket on the peer's end, and the two MAC addresses. */
	int psock;
	uint8_t peer_mac[6], host_mac[6];
};

FIXTURE_SETUP(stk)
{
	struct exo_net_opts o = {
		.sz = sizeof(o), .rx_slots = 64, .tx_slots = 64,
	};
	int ret;

	self->psock = -1;
	ip_bin = ip_bin ?: tool("ip");
	ping_bin = ping_bin ?: tool("ping");
	socat_bin = socat_bin ?: tool("socat");
	if (!ip_bin)
		SKIP(return, "no ip(8) of iproute2 here");
	exo_counters_read(&self->base);
	net_down();
	self->net_up = true;
	ASSERT_EQ(0, sh("IP=%s; $IP link add " HOST_IF " type veth peer name "
			PEER_IF
			" && $IP netns add " PEER_NS
			" && $IP link set " PEER_IF " netns " PEER_NS
			" && $IP addr add " HOST_IP "/24 dev " HOST_IF
			" && $IP link set " HOST_IF " up"
			" && $IP -n " PEER_NS " addr add " PEER_IP "/24 dev " PEER_IF
			" && $IP -n " PEER_NS " link set " PEER_IF " up"
			" && $IP -n " PEER_NS " link set lo up", ip_bin));
	self->ifindex = if_nametoindex(HOST_IF);
	ASSERT_NE(0u, self->ifindex);
	ret = exo_open(&self->exo);
	ASSERT_EQ(0, ret) TH_LOG("exo_open: %s", strerror(-ret));
	ret = exo_net_attach(self->exo, self->ifindex);
	ASSERT_EQ(0, ret) TH_LOG("exo_net_attach: %s", strerror(-ret));
	ret = exo_net_open(self->exo, &o, &self->net);
	ASSERT_EQ(0, ret) TH_LOG("exo_net_open: %s", strerror(-ret));
}

/* Setup skipped (the harness of Linux 6.1 runs the test anyway). */
#define STK_NEED_NET() do {						\
	if (!self->net_up)						\
		SKIP(return, "no ip(8) of iproute2 here");		\
} while (0)

/* The tests that send hand-made frames need a packet socket. */
#define STK_NEED_PACKET() do {						\
	int fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);	\
									\
	if (fd_ < 0 && errno == EAFNOSUPPORT)				\
		SKIP(return, "no AF_PACKET here (CONFIG_PACKET)");	\
	if (fd_ >= 0)							\
		close(fd_);						\
} while (0)

static void stk_stop(struct __test_metadata *_metadata,
		     FIXTURE_DATA(stk) *self)
{
	if (!self->running)
		return;
	__atomic_store_n(&self->stop, 1, __ATOMIC_RELEASE);
	pthread_join(self->thr, NULL);
	self->running = false;
	EXPECT_EQ(0, self->err) TH_LOG("exo_stack_poll: %s",
				       strerror(-self->err));
}

/*
 * Idempotent: after a failed ASSERT the 6.1 harness leaves its trigger
 * set, so the first ASSERT here jumps back and teardown runs again.
 */
FIXTURE_TEARDOWN(stk)
{
	stk_stop(_metadata, self);
	exo_stack_destroy(self->stack);
	self->stack = NULL;
	exo_net_close(self->net);
	self->net = NULL;
	if (self->exo)
		exo_close(self->exo);
	self->exo = NULL;
	if (self->psock >= 0)
		close(self->psock);
	self->psock = -1;
	if (self->net_up) {
		net_down();
		exo_counters_expect_baseline(&self->base);
	}
}

/* The library OS: its stack on this thread until told to stop. */
static void *stk_thread(void *arg)
{
	FIXTURE_DATA(stk) *self = arg;
	int ret;

	while (!__atomic_load_n(&self->stop, __ATOMIC_ACQUIRE)) {
		ret = exo_stack_poll(self->stack, 50);
		if (ret < 0) {
			self->err = ret;
			break;
		}
	}
	return NULL;
}

static void stk_create(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stk) *self, const char *ip)
{
	struct exo_stack_opts o = {
		.sz = sizeof(o), .ifindex = self->ifindex, .ip = ip4(ip),
	};
	int ret = exo_stack_create(self->net, &o, &self->stack);

	ASSERT_EQ(0, ret) TH_LOG("exo_stack_create: %s", strerror(-ret));
}

static void stk_start(struct __test_metadata *_metadata,
		      FIXTURE_DATA(stk) *self)
{
	ASSERT_EQ(0, pthread_create(&self->thr, NULL, stk_thread, self));
	self->running = true;
}

/* The UDP echo server: every datagram goes back where it came from. */
static void echo_fn(struct exo_stack *stack, const struct exo_udp_dgram *d,
		    void *arg)
{
	int *errp = arg;
	int ret;

	ret = exo_stack_udp_send(stack, d->saddr, d->sport, d->dport, d->data,
				 d->len);
	if (ret && !*errp)
		*errp = ret;
}

/* Poll the stack (on this thread) until @pred or @ms pass. */
#define POLL_UNTIL(stack, ms, pred) ({					\
	uint64_t __end = now_ms() + (ms);				\
	int __r = 0;							\
	while (!(pred) && now_ms() < __end && __r >= 0)			\
		__r = exo_stack_poll(stack, 50);			\
	__r;								\
})

static struct exo_stack_stats stk_stats(struct exo_stack *stack)
{
	struct exo_stack_stats st;

	memset(&st, 0xa5, sizeof(st));
	if (exo_stack_stats(stack, &st))
		memset(&st, 0xff, sizeof(st));
	return st;
}

/* -------------------------------------------------------------------------
 * Frames made and checked here, for the packet socket in the peer.
 */

static uint32_t pseudo(const uint8_t *ip, uint16_t ulen)
{
	/* saddr and daddr, protocol, UDP length */
	return (uint32_t)(0xffff - exo_inet_csum(0, ip + 12, 8)) + 17 + ulen;
}

enum { F_BAD_IPCSUM = 1, F_BAD_UDPCSUM = 2, F_ZERO_UDPCSUM = 4,
       F_OPTIONS = 8, F_MF = 16, F_PAD = 32, F_LONG_TOT = 64, F_VER6 = 128 };

/* An Ethernet + IPv4 + UDP frame from the peer to @daddr:ECHO_PORT. */
static size_t mkframe(FIXTURE_DATA(stk) *self, uint8_t *f, const char *daddr,
		      uint16_t sport, const char *msg, unsigned int flags)
{
	size_t ihl = flags & F_OPTIONS ? 24 : 20, n = strlen(msg);
	uint16_t ulen = 8 + n, tot = ihl + ulen;
	uint8_t *ip = f + 14, *udp = ip + ihl;
	uint32_t a;

	memcpy(f, self->host_mac, 6);
	memcpy(f + 6, self->peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, ihl);
	ip[0] = (flags & F_VER6 ? 0x60 : 0x40) | ihl / 4;
	ip[2] = (tot + (flags & F_LONG_TOT ? 100 : 0)) >> 8;
	ip[3] = (tot + (flags & F_LONG_TOT ? 100 : 0)) & 0xff;
	ip[6] = flags & F_MF ? 0x20 : 0x40;
	ip[8] = 64;
	ip[9] = 17;
	a = ip4(PEER_IP);
	memcpy(ip + 12, &a, 4);
	a = ip4(daddr);
	memcpy(ip + 16, &a, 4);
	if (flags & F_OPTIONS)
		memset(ip + 20, 1, 4);	/* four NOPs */
	a = exo_inet_csum(0, ip, ihl) ^ (flags & F_BAD_IPCSUM ? 0x5a : 0);
	ip[10] = a >> 8;
	ip[11] = a & 0xff;
	udp[0] = sport >> 8;
	udp[1] = sport & 0xff;
	udp[2] = ECHO_PORT >> 8;
	udp[3] = ECHO_PORT & 0xff;
	udp[4] = ulen >> 8;
	udp[5] = ulen & 0xff;
	udp[6] = udp[7] = 0;
	memcpy(udp + 8, msg, n);
	a = exo_inet_csum(pseudo(ip, ulen), udp, ulen);
	if (flags & F_BAD_UDPCSUM)
		a ^= 0x33;
	if (flags & F_ZERO_UDPCSUM)
		a = 0;
	udp[6] = a >> 8;
	udp[7] = a & 0xff;
	n = 14 + tot;
	if (flags & F_PAD) {
		memset(f + n, 0xee, 16);	/* trailer, not payload */
		n += 16;
	}
	return n;
}

static int peer_ns_enter(int *orig)
{
	static const char *const dirs[] = { "/run/netns/", "/var/run/netns/" };
	char path[64];
	unsigned int i;
	int fd = -1;

	for (i = 0; i < 2 && fd < 0; i++) {
		snprintf(path, sizeof(path), "%s%s", dirs[i], PEER_NS);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	*orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*orig < 0 || setns(fd, CLONE_NEWNET)) {
		close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

/* A packet socket on the peer's interface, made from inside its netns. */
static void peer_socket(struct __test_metadata *_metadata,
			FIXTURE_DATA(stk) *self)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr = { 0 };
	int orig = -1, fd, ret;

	ret = peer_ns_enter(&orig);
	ASSERT_EQ(0, ret) TH_LOG("entering netns " PEER_NS ": %s",
				 strerror(-ret));
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	sll.sll_ifindex = if_nametoindex(PEER_IF);
	strcpy(ifr.ifr_name, PEER_IF);
	ret = fd >= 0 && sll.sll_ifindex &&
	      !bind(fd, (struct sockaddr *)&sll, sizeof(sll)) &&
	      !ioctl(fd, SIOCGIFHWADDR, &ifr) ? 0 : -errno;
	ASSERT_EQ(0, setns(orig, CLONE_NEWNET));
	close(orig);
	ASSERT_EQ(0, ret) TH_LOG("packet socket on " PEER_IF ": %s",
				 strerror(-ret));
	self->psock = fd;
	memcpy(self->peer_mac, ifr.ifr_hwaddr.sa_data, 6);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, HOST_IF);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, SIOCGIFHWADDR, &ifr));
	close(fd);
	memcpy(self->host_mac, ifr.ifr_hwaddr.sa_data, 6);
}

static void peer_send(struct __test_metadata *_metadata,
		      FIXTURE_DATA(stk) *self, const uint8_t *f, size_t len)
{
	ASSERT_EQ((ssize_t)len, send(self->psock, f, len, 0));
}

/*
 * The next IPv4 UDP frame the peer receives for @dport within @ms: its
 * length, 0 if none came.
 */
static ssize_t peer_recv_udp(int fd, uint8_t *f, size_t size, uint16_t dport,
			     int ms)
{
	uint64_t end = now_ms() + ms;
	struct sockaddr_ll from;
	socklen_t fl;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	size_t ihl;

	while (now_ms() < end) {
		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			continue;
		fl = sizeof(from);
		n = recvfrom(fd, f, size, MSG_DONTWAIT, (struct sockaddr *)&from,
			     &fl);
		if (n < 14 + 20 + 8 || from.sll_pkttype == PACKET_OUTGOING ||
		    f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 17)
			continue;
		ihl = (f[14] & 0xf) * 4;
		if ((size_t)n >= 14 + ihl + 8 &&
		    (f[14 + ihl + 2] << 8 | f[14 + ihl + 3]) == dport)
			return n;
	}
	return 0;
}

/* Check every field of a reply the stack sent the peer. */
static void check_reply(struct __test_metadata *_metadata,
			FIXTURE_DATA(stk) *self, const uint8_t *f, size_t n,
			const char *saddr, uint16_t sport, uint16_t dport,
			const char *msg)
{
	const uint8_t *ip = f + 14, *udp = ip + 20;
	size_t len = strlen(msg);
	uint32_t a;

	ASSERT_LE(14 + 20 + 8 + len, n);
	EXPECT_EQ(0, memcmp(f, self->peer_mac, 6));
	EXPECT_EQ(0, memcmp(f + 6, self->host_mac, 6));
	EXPECT_EQ(0x45, ip[0]);
	EXPECT_EQ(20 + 8 + len, (size_t)(ip[2] << 8 | ip[3]));
	EXPECT_EQ(0x40, ip[6]);		/* DF, no fragment */
	EXPECT_EQ(0, ip[7]);
	EXPECT_EQ(64, ip[8]);
	EXPECT_EQ(17, ip[9]);
	EXPECT_EQ(0, exo_inet_csum(0, ip, 20)) TH_LOG("bad IPv4 header checksum");
	memcpy(&a, ip + 12, 4);
	EXPECT_EQ(ip4(saddr), a);
	memcpy(&a, ip + 16, 4);
	EXPECT_EQ(ip4(PEER_IP), a);
	EXPECT_EQ(sport, udp[0] << 8 | udp[1]);
	EXPECT_EQ(dport, udp[2] << 8 | udp[3]);
	EXPECT_EQ(8 + len, (size_t)(udp[4] << 8 | udp[5]));
	EXPECT_NE(0, udp[6] << 8 | udp[7]) TH_LOG("no UDP checksum");
	EXPECT_EQ(0, exo_inet_csum(pseudo(ip, 8 + len), udp, 8 + len))
		TH_LOG("bad UDP checksum");
	EXPECT_EQ(0, memcmp(udp + 8, msg, len));
}

/* -------------------------------------------------------------------------
 * Tests
 */

/* The library OS's echo server answers socat in the peer, on Linux's IP. */
TEST_F(stk, udp_echo_socat)
{
	const char *msg = "exo-stack-echo";
	struct exo_stack_stats st;
	char out[128] = "", cmd[256];
	int echo_err = 0;
	size_t n;
	FILE *p;

	STK_NEED_NET();
	if (!socat_bin)
		SKIP(return, "no socat here");
	stk_create(_metadata, self, HOST_IP);
	ASSERT_EQ(0, exo_stack_udp_bind(self->stack, ECHO_PORT, echo_fn,
					&echo_err));
	stk_start(_metadata, self);
	snprintf(cmd, sizeof(cmd), "printf %s | %s netns exec " PEER_NS
		 " timeout 10 %s -t 3 - UDP:" HOST_IP ":7777", msg, ip_bin,
		 socat_bin);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	EXPECT_EQ(0, pclose(p));
	stk_stop(_metadata, self);
	EXPECT_STREQ(msg, out);
	EXPECT_EQ(0, echo_err);
	st = stk_stats(self->stack);
	EXPECT_EQ(1u, st.rx);
	EXPECT_EQ(0u, st.rx_bad);
	EXPECT_EQ(1u, st.udp_rx);
	EXPECT_EQ(1u, st.udp_tx);
	EXPECT_EQ(0u, st.tx_fail);
	EXPECT_EQ(0u, st.icmp_echoes);
}

/* ping to the stack's own address: its ARP and its ICMP echo reply. */
TEST_F(stk, ping_own_address)
{
	struct exo_stack_stats st;

	STK_NEED_NET();
	if (!ping_bin)
		SKIP(return, "no ping (iputils-ping) here");
	stk_create(_metadata, self, STACK_IP);
	ASSERT_EQ(0, exo_stack_serve_arp(self->stack));
	ASSERT_EQ(0, exo_stack_serve_icmp(self->stack));
	EXPECT_EQ(-EALREADY, exo_stack_serve_icmp(self->stack));
	stk_start(_metadata, self);
	EXPECT_EQ(0, sh("%s netns exec " PEER_NS " %s -c 3 -i 0.2 -W 2 "
			STACK_IP " > /tmp/exo_stack_ping.out 2>&1; rc=$?; "
			"cat /tmp/exo_stack_ping.out; [ $rc = 0 ] && "
			"grep -q ' 3 received' /tmp/exo_stack_ping.out",
			ip_bin, ping_bin));
	stk_stop(_metadata, self);
	st = stk_stats(self->stack);
	EXPECT_EQ(3u, st.icmp_echoes);
	EXPECT_LE(1u, st.arp_replies);
	EXPECT_LE(4u, st.rx);
	EXPECT_EQ(0u, st.udp_rx);
	EXPECT_EQ(0u, st.tx_fail);
	/* ICMP and ARP are Linux's again once the stack is gone. */
	exo_stack_destroy(self->stack);
	self->stack = NULL;
	EXPECT_EQ(0, sh("%s netns exec " PEER_NS " %s -c 1 -W 2 " HOST_IP
			" >/dev/null", ip_bin, ping_bin));
}

/* Hand-made frames: what the stack takes, drops, and what it sends. */
TEST_F(stk, udp_frames)
{
	static const struct {
		unsigned int flags;
		bool echoed;
	} cases[] = {
		{ 0, true },
		{ F_ZERO_UDPCSUM, true },	/* no checksum: accepted */
		{ F_OPTIONS, true },		/* options skipped */
		{ F_PAD, true },		/* Ethernet trailer ignored */
		{ F_BAD_UDPCSUM, false },
		{ F_BAD_IPCSUM, false },
		{ F_MF, false },		/* a first fragment */
		{ F_LONG_TOT, false },		/* longer than the frame */
		{ F_VER6, false },
	};
	uint8_t f[256], r[2048];
	struct exo_stack_stats st;
	char msg[32];
	unsigned int good = 0;
	int echo_err = 0;
	unsigned int i;
	ssize_t n;

	STK_NEED_NET();
	STK_NEED_PACKET();
	stk_create(_metadata, self, HOST_IP);
	ASSERT_EQ(0, exo_stack_udp_bind(self->stack, ECHO_PORT, echo_fn,
					&echo_err));
	peer_socket(_metadata, self);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(msg, sizeof(msg), "frame %u", i);
		n = mkframe(self, f, HOST_IP, 4000 + i, msg, cases[i].flags);
		peer_send(_metadata, self, f, n);
		ASSERT_LE(0, POLL_UNTIL(self->stack, 3000,
					stk_stats(self->stack).rx > i));
		good += cases[i].echoed;
		st = stk_stats(self->stack);
		EXPECT_EQ(i + 1, st.rx) TH_LOG("case %u not received", i);
		EXPECT_EQ(good, st.udp_rx) TH_LOG("case %u", i);
		EXPECT_EQ(i + 1 - good, st.rx_bad) TH_LOG("case %u", i);
		n = peer_recv_udp(self->psock, r, sizeof(r), 4000 + i,
				  cases[i].echoed ? 3000 : 300);
		if (!cases[i].echoed) {
			EXPECT_EQ(0, n) TH_LOG("case %u was answered", i);
			continue;
		}
		ASSERT_LT(0, n) TH_LOG("case %u: no echo", i);
		check_reply(_metadata, self, r, n, HOST_IP, ECHO_PORT,
			    4000 + i, msg);
	}
	EXPECT_EQ(0, echo_err);
	st = stk_stats(self->stack);
	EXPECT_EQ(good, st.udp_tx);
	EXPECT_EQ(0u, st.tx_fail);
}

/*
 * An unknown neighbour: the datagram waits for ARP; the peer answers and
 * gets it; nobody answers for NOBODY_IP and, after one retry, the datagram
 * is dropped and sends to it fail with EHOSTUNREACH. A static entry needs
 * no ARP. Without the ARP claim nothing can be asked: EHOSTUNREACH at once.
 */
TEST_F(stk, udp_send_neighbours)
{
	static const uint8_t fake_mac[6] = { 0x02, 0, 0, 0, 0x12, 0x34 };
	struct exo_stack_stats st;
	uint8_t r[2048];
	int echo_err = 0;
	uint64_t t0;
	ssize_t n;

	STK_NEED_NET();
	STK_NEED_PACKET();
	stk_create(_metadata, self, STACK_IP);
	ASSERT_EQ(0, exo_stack_udp_bind(self->stack, 7778, echo_fn,
					&echo_err));
	EXPECT_EQ(-EADDRINUSE, exo_stack_udp_bind(self->stack, 7778, echo_fn,
						  NULL));
	peer_socket(_metadata, self);

	/* No ARP claim: no way to ask. */
	EXPECT_EQ(-EHOSTUNREACH, exo_stack_udp_send(self->stack, ip4(PEER_IP),
						    9999, 7778, "x", 1));
	EXPECT_EQ(-EADDRNOTAVAIL, exo_stack_udp_send(self->stack,
						     ip4(PEER_IP), 9999, 7779,
						     "x", 1));
	st = stk_stats(self->stack);
	EXPECT_EQ(1u, st.tx_fail);
	EXPECT_EQ(0u, st.arp_requests);

	ASSERT_EQ(0, exo_stack_serve_arp(self->stack));
	/* The peer: queued, resolved by the peer's answer, delivered. */
	EXPECT_EQ(0, exo_stack_udp_send(self->stack, ip4(PEER_IP), 9999, 7778,
					"to the peer", 11));
	st = stk_stats(self->stack);
	EXPECT_EQ(1u, st.arp_requests);
	EXPECT_EQ(0u, st.udp_tx);
	ASSERT_LE(0, POLL_UNTIL(self->stack, 3000,
				stk_stats(self->stack).udp_tx == 1));
	EXPECT_EQ(1u, stk_stats(self->stack).udp_tx);
	n = peer_recv_udp(self->psock, r, sizeof(r), 9999, 3000);
	ASSERT_LT(0, n) TH_LOG("the peer got no datagram");
	check_reply(_metadata, self, r, n, STACK_IP, 7778, 9999,
		    "to the peer");
	/* Known now: sent at once. */
	EXPECT_EQ(0, exo_stack_udp_send(self->stack, ip4(PEER_IP), 9999, 7778,
					"again", 5));
	st = stk_stats(self->stack);
	EXPECT_EQ(2u, st.udp_tx);
	EXPECT_EQ(1u, st.arp_requests);
	EXPECT_LT(0, peer_recv_udp(self->psock, r, sizeof(r), 9999, 3000));

	/* Nobody: a request, one retry a second later, then failure. */
	t0 = now_ms();
	EXPECT_EQ(0, exo_stack_udp_send(self->stack, ip4(NOBODY_IP), 9999,
					7778, "lost", 4));
	ASSERT_LE(0, POLL_UNTIL(self->stack, 5000,
				stk_stats(self->stack).tx_fail == 2));
	st = stk_stats(self->stack);
	EXPECT_EQ(2u, st.tx_fail) TH_LOG("the datagram was never dropped");
	EXPECT_EQ(3u, st.arp_requests);
	EXPECT_EQ(2u, st.udp_tx);
	EXPECT_LE(1900u, now_ms() - t0);
	EXPECT_EQ(-EHOSTUNREACH, exo_stack_udp_send(self->stack,
						    ip4(NOBODY_IP), 9999,
						    7778, "lost", 4));
	EXPECT_EQ(3u, stk_stats(self->stack).tx_fail);

	/* A static entry: no ARP, straight out to the address given. */
	EXPECT_EQ(0, exo_stack_arp_add(self->stack, ip4(NOBODY_IP), fake_mac));
	EXPECT_EQ(0, exo_stack_udp_send(self->stack, ip4(NOBODY_IP), 9999,
					7778, "static", 6));
	st = stk_stats(self->stack);
	EXPECT_EQ(3u, st.udp_tx);
	EXPECT_EQ(3u, st.arp_requests);
	n = peer_recv_udp(self->psock, r, sizeof(r), 9999, 3000);
	ASSERT_LT(0, n);
	EXPECT_EQ(0, memcmp(r, fake_mac, 6));
	EXPECT_EQ(0, echo_err);
}

/* Arguments the stack refuses, and what destroy gives back. */
TEST_F(stk, args)
{
	struct exo_stack_opts o = {
		.sz = sizeof(o), .ifindex = self->ifindex, .ip = ip4(STACK_IP),
	};
	static const uint8_t mc[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
	static char big[1500];
	struct exo_stack *s2;
	uint32_t id;
	int err = 0;

	STK_NEED_NET();
	EXPECT_EQ(-EINVAL, exo_stack_create(NULL, &o, &s2));
	o.ip = 0;
	EXPECT_EQ(-EINVAL, exo_stack_create(self->net, &o, &s2));
	o.ip = ip4(STACK_IP);
	o.ifindex = 0;
	EXPECT_EQ(-EINVAL, exo_stack_create(self->net, &o, &s2));
	o.ifindex = 1000000;
	EXPECT_EQ(-ENXIO, exo_stack_create(self->net, &o, &s2));
	o.ifindex = self->ifindex;
	stk_create(_metadata, self, STACK_IP);
	EXPECT_EQ(-EINVAL, exo_stack_udp_bind(self->stack, 0, echo_fn, &err));
	EXPECT_EQ(-EINVAL, exo_stack_udp_bind(self->stack, 7777, NULL, NULL));
	EXPECT_EQ(-EINVAL, exo_stack_arp_add(self->stack, ip4(PEER_IP), mc));
	EXPECT_EQ(0, exo_stack_udp_bind(self->stack, 7777, echo_fn, &err));
	EXPECT_EQ(-EMSGSIZE, exo_stack_udp_send(self->stack, ip4(PEER_IP),
						9, 7777, big, 1500 - 27));
	EXPECT_EQ(0, exo_stack_serve_arp(self->stack));
	/* A second stack on the interface collides with the first's claims. */
	ASSERT_EQ(0, exo_stack_create(self->net, &o, &s2));
	EXPECT_EQ(-EADDRINUSE, exo_stack_udp_bind(s2, 7777, echo_fn, &err));
	EXPECT_EQ(-EADDRINUSE, exo_stack_serve_arp(s2));
	exo_stack_destroy(s2);
	/* Destroy gives its claims up. */
	exo_stack_destroy(self->stack);
	self->stack = NULL;
	EXPECT_EQ(0, exo_net_claim(self->exo, self->ifindex, ETH_P_IP,
				   IPPROTO_UDP, 7777, -1, &id));
	EXPECT_EQ(0, exo_net_claim(self->exo, self->ifindex, ETH_P_ARP, 0, 0,
				   -1, &id));
}

TEST_HARNESS_MAIN
