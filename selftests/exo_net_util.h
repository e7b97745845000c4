/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The network the exo network tests run on, and raw wrappers of the
 * EXO_IOC_NET_* calls.
 *
 * net_up() builds a veth pair: NET_DEV (NET_ADDR, NET_MAC) in the caller's
 * namespace and NET_PEER_DEV (NET_PEER_ADDR, NET_PEER_MAC) in the network
 * namespace NET_NS, the peer host. Everything is done with Debian's ip(8);
 * the peer's clients are ping, socat and nc, or a child of the test that
 * entered NET_NS with setns(2).
 */
#ifndef EXO_NET_UTIL_H
#define EXO_NET_UTIL_H

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/capability.h>

#include "exo_util.h"

#define NET_NS		"exonet"
#define NET_DEV		"exon0"
#define NET_PEER_DEV	"exon1"
#define NET_ADDR	"10.0.1.1"
#define NET_PEER_ADDR	"10.0.1.2"
#define NET_MAC_STR	"02:00:00:00:01:01"
#define NET_PEER_MAC_STR "02:00:00:00:01:02"
#define NET_NS_PATH	"/run/netns/" NET_NS
#define NET_BPF_DIR	"/bpf"
/*
 * Debian's iproute2 by its full path: busybox's shell (system(3)'s /bin/sh
 * in the test VM) runs its own "ip" applet before anything in PATH. What
 * "ip netns exec" runs comes from PATH: Debian's ping and socat.
 */
#define NET_IP		"/usr/sbin/ip"

static const uint8_t net_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t net_peer_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };

#define NET_ETH_P_IP	0x0800
#define NET_ETH_P_ARP	0x0806
#define NET_ETH_P_IPV6	0x86dd
#define NET_ETH_HLEN	14
#define NET_IP_HLEN	20
#define NET_UDP_HLEN	8
#define NET_UDP_OFF	(NET_ETH_HLEN + NET_IP_HLEN)
#define NET_PAYLOAD_OFF	(NET_UDP_OFF + NET_UDP_HLEN)

/* Run a shell command; its exit status (128 + signal if killed, -1). */
static __attribute__((format(printf, 1, 2), unused)) int net_sh(const char *fmt,
								 ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	st = system(cmd);
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Remove what an earlier (killed) run may have left. */
static inline void net_down(void)
{
	net_sh(NET_IP " link del exobr 2>/dev/null; "
	       NET_IP " link del " NET_DEV " 2>/dev/null; "
	       NET_IP " netns del " NET_NS " 2>/dev/null");
}

/* Build the pair; NULL, or why it cannot be built (the test skips). */
static inline const char *net_up(void)
{
	net_down();
	if (net_sh(NET_IP " netns add " NET_NS " 2>/dev/null"))
		return "ip netns add failed (no iproute2 or net namespaces)";
	if (net_sh(NET_IP " link add " NET_DEV " address " NET_MAC_STR
		   " type veth peer name " NET_PEER_DEV " address "
		   NET_PEER_MAC_STR " netns " NET_NS " 2>/dev/null")) {
		net_down();
		return "cannot create a veth pair (no veth driver)";
	}
	if (net_sh(NET_IP " addr add " NET_ADDR "/24 dev " NET_DEV " && "
		   NET_IP " link set " NET_DEV " up && "
		   NET_IP " -n " NET_NS " addr add " NET_PEER_ADDR "/24 dev "
		   NET_PEER_DEV " && "
		   NET_IP " -n " NET_NS " link set " NET_PEER_DEV " up && "
		   NET_IP " -n " NET_NS " link set lo up")) {
		net_down();
		return "cannot configure the veth pair";
	}
	return NULL;
}

/* Enter the peer's network namespace (in a child). */
static inline int net_enter_peer(void)
{
	int fd = open(NET_NS_PATH, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	rc = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return rc;
}

static inline uint64_t net_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A value of /proc/net/snmp ("Icmp", "InEchos"); -1 if not found. */
static inline long long net_snmp(const char *proto, const char *field)
{
	char names[2048], vals[2048], *n, *v, *sn, *sv;
	size_t plen = strlen(proto);
	long long res = -1;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		if (strncmp(names, proto, plen) || names[plen] != ':')
			continue;
		n = strtok_r(names + plen + 1, " \n", &sn);
		v = strtok_r(vals + plen + 1, " \n", &sv);
		while (n && v) {
			if (!strcmp(n, field)) {
				res = atoll(v);
				break;
			}
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
		break;
	}
	fclose(f);
	return res;
}

/*
 * Drop the capabilities in @mask from the effective and permitted sets
 * (in a child: exo checks the caller's effective capabilities).
 */
static inline int net_drop_caps(uint64_t mask)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[0].effective &= ~(uint32_t)mask;
	d[1].effective &= ~(uint32_t)(mask >> 32);
	d[0].permitted &= ~(uint32_t)mask;
	d[1].permitted &= ~(uint32_t)(mask >> 32);
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}
#define NET_CAP(c)	(UINT64_C(1) << (c))

/* ------------------------------------------------------------------------
 * raw EXO_IOC_NET_* wrappers: 0 (or a result) or -errno
 */

static inline int _net_attach(int fd, uint32_t ifindex, uint32_t flags)
{
	struct exo_net_attach a = {
		.size = sizeof(a), .flags = flags, .ifindex = ifindex,
	};

	return _test_ioctl(fd, EXO_IOC_NET_ATTACH, &a);
}

/* Claim; the id in *@id. */
static inline int _net_claim(int fd, uint32_t ifindex, uint16_t ethertype,
			     uint8_t proto, uint16_t port, int prog_fd,
			     uint32_t *id)
{
	struct exo_net_claim c = {
		.size = sizeof(c), .ifindex = ifindex, .ethertype = ethertype,
		.ip_proto = proto, .port = port, .abi = EXO_NET_ABI,
		.prog_fd = prog_fd,
	};
	int rc = _test_ioctl(fd, EXO_IOC_NET_CLAIM, &c);

	if (!rc && id)
		*id = c.id;
	return rc;
}
#define _net_claim_udp(fd, ifindex, port, prog_fd, id) \
	_net_claim(fd, ifindex, NET_ETH_P_IP, IPPROTO_UDP, port, prog_fd, id)

static inline int _net_unclaim(int fd, uint32_t id)
{
	struct exo_net_unclaim u = { .size = sizeof(u), .id = id };

	return _test_ioctl(fd, EXO_IOC_NET_UNCLAIM, &u);
}

static inline int _net_handler(int fd, uint32_t id, int prog_fd)
{
	struct exo_net_handler h = {
		.size = sizeof(h), .id = id, .prog_fd = prog_fd,
	};

	return _test_ioctl(fd, EXO_IOC_NET_HANDLER, &h);
}

static inline int _net_ring(int fd, uint32_t kind, const uint64_t *caps,
			    uint32_t nr_caps, int efd, uint32_t *nr_slots)
{
	struct exo_net_ring r = {
		.size = sizeof(r), .kind = kind, .nr_caps = nr_caps,
		.caps = (uintptr_t)caps, .eventfd = efd,
	};
	int rc = _test_ioctl(fd, EXO_IOC_NET_RING, &r);

	if (!rc && nr_slots)
		*nr_slots = r.nr_slots;
	return rc;
}

static inline int _net_tx(int fd, uint32_t *sent, uint32_t *rejected)
{
	struct exo_net_tx t = { .size = sizeof(t) };
	int rc = _test_ioctl(fd, EXO_IOC_NET_TX, &t);

	if (!rc) {
		*sent = t.sent;
		*rejected = t.rejected;
	}
	return rc;
}

static inline int _net_stats(int fd, uint32_t id, struct exo_net_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->id = id;
	return _test_ioctl(fd, EXO_IOC_NET_STATS, s);
}

#define test_net_attach(fd, ifindex)					    \
	do {								    \
		int __rc = _net_attach(fd, ifindex, 0);			    \
		ASSERT_EQ(0, __rc) TH_LOG("NET_ATTACH: %s", strerror(-__rc)); \
	} while (0)
#define test_net_claim(fd, ifindex, et, proto, port, prog_fd, id)	     \
	do {								     \
		int __rc = _net_claim(fd, ifindex, et, proto, port, prog_fd, \
				      id);				     \
		ASSERT_EQ(0, __rc) TH_LOG("NET_CLAIM %#x/%u/%u: %s",	     \
					  (unsigned int)(et),		     \
					  (unsigned int)(proto),	     \
					  (unsigned int)(port),		     \
					  strerror(-__rc));		     \
	} while (0)
#define test_net_claim_udp(fd, ifindex, port, prog_fd, id)		\
	test_net_claim(fd, ifindex, NET_ETH_P_IP, IPPROTO_UDP, port,	\
		       prog_fd, id)
#define test_err_net_claim(_errno, fd, ifindex, et, proto, port, prog_fd)   \
	do {								    \
		int __rc = _net_claim(fd, ifindex, et, proto, port, prog_fd, \
				      NULL);				    \
		ASSERT_EQ(-(_errno), __rc)				    \
			TH_LOG("NET_CLAIM %#x/%u/%u: expected %s, got %s",   \
			       (unsigned int)(et), (unsigned int)(proto),   \
			       (unsigned int)(port), strerror(_errno),	    \
			       __rc ? strerror(-__rc) : "success");	    \
	} while (0)
#define test_net_stats(fd, id, s) \
	do { ASSERT_EQ(0, _net_stats(fd, id, s)); } while (0)

/* ------------------------------------------------------------------------
 * rings in the context's own frames
 */

struct net_ring {
	uint32_t nframes;
	uint32_t nslots;
	uint64_t caps[64];
	uint8_t *base;				/* the frames, in an exo VMA */
	struct exo_net_ring_header *hdr;
};

/* Allocate @nframes frames and bind them, in order, into a new exo VMA. */
static inline void __net_ring_frames(struct __test_metadata *_metadata,
				     int fd, uint32_t nframes,
				     struct net_ring *r)
{
	size_t page = getpagesize();
	uint32_t i;

	memset(r, 0, sizeof(*r));
	ASSERT_GE(64U, nframes);
	r->nframes = nframes;
	for (i = 0; i < nframes; i++)
		r->caps[i] = exo_alloc_any_cap(fd);
	r->base = exo_vm_mmap(fd, nframes * page, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, r->base) TH_LOG("mmap of an exo VMA: %s",
					strerror(errno));
	for (i = 0; i < nframes; i++)
		test_map_one(fd, r->base + i * page, r->caps[i], 0, 1,
			     EXO_PROT_READ | EXO_PROT_WRITE);
	r->hdr = (struct exo_net_ring_header *)r->base;
}
#define net_ring_frames(fd, nframes, r) \
	__net_ring_frames(_metadata, fd, nframes, r)

/* Frames, VMA and registration: a ring of @kind ready to use. */
static inline void __net_ring_setup(struct __test_metadata *_metadata,
				    int fd, uint32_t kind, uint32_t nframes,
				    int efd, struct net_ring *r)
{
	int rc;

	__net_ring_frames(_metadata, fd, nframes, r);
	rc = _net_ring(fd, kind, r->caps, nframes, efd, &r->nslots);
	ASSERT_EQ(0, rc) TH_LOG("NET_RING: %s", strerror(-rc));
	ASSERT_NE(0U, r->nslots);
	ASSERT_EQ(r->nslots, r->hdr->nr_slots);
}
#define net_ring_setup(fd, kind, nframes, efd, r) \
	__net_ring_setup(_metadata, fd, kind, nframes, efd, r)

static inline void net_ring_unmap(struct net_ring *r)
{
	if (r->base)
		munmap(r->base, r->nframes * getpagesize());
	r->base = NULL;
	r->hdr = NULL;
}

static inline struct exo_net_slot *net_slot(const struct net_ring *r,
					    uint32_t i)
{
	return (struct exo_net_slot *)(r->base + r->hdr->slots_offset +
				       (size_t)(i & (r->nslots - 1)) *
				       r->hdr->slot_size);
}

static inline uint8_t *net_slot_data(const struct net_ring *r, uint32_t i)
{
	return (uint8_t *)net_slot(r, i) + EXO_NET_SLOT_DATA;
}

static inline uint32_t net_prod(const struct net_ring *r)
{
	return __atomic_load_n(&r->hdr->prod, __ATOMIC_ACQUIRE);
}

static inline uint32_t net_cons(const struct net_ring *r)
{
	return __atomic_load_n(&r->hdr->cons, __ATOMIC_ACQUIRE);
}

static inline void net_set_cons(struct net_ring *r, uint32_t cons)
{
	__atomic_store_n(&r->hdr->cons, cons, __ATOMIC_RELEASE);
}

/* Wait up to @ms for prod - cons >= @want; returns prod - cons. */
static inline uint32_t net_ring_wait(const struct net_ring *r, uint32_t want,
				     int ms)
{
	uint64_t end = net_now_ns() + (uint64_t)ms * 1000000;
	uint32_t n;

	for (;;) {
		n = net_prod(r) - net_cons(r);
		if (n >= want || net_now_ns() > end)
			return n;
		usleep(2000);
	}
}

/* ------------------------------------------------------------------------
 * the peer host
 */

/*
 * A child in the peer's namespace sends @n datagrams "@tag-NNN" to
 * NET_ADDR:@port, @gap_us apart (0: as fast as it can for @n, or for
 * @ms milliseconds if @n is 0). Returns its pid.
 */
static inline pid_t net_peer_send(uint16_t port, const char *tag, int n,
				  int gap_us, int ms)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET, .sin_port = htons(port),
	};
	uint64_t end;
	char buf[64];
	pid_t pid;
	int s, i, len;

	pid = exo_fork();
	if (pid)
		return pid;
	if (net_enter_peer())
		_exit(2);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		_exit(3);
	inet_pton(AF_INET, NET_ADDR, &to.sin_addr);
	end = net_now_ns() + (uint64_t)ms * 1000000;
	for (i = 0; n ? i < n : net_now_ns() < end; i++) {
		len = snprintf(buf, sizeof(buf), "%s-%03d", tag, i);
		/* ENOBUFS/EAGAIN under a flood: the flood goes on. */
		sendto(s, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
		if (gap_us)
			usleep(gap_us);
	}
	_exit(0);
}

/* Wait for a child; its exit code, or 128 + signal. */
static inline int net_wait(pid_t pid)
{
	int st = exo_wait(pid);

	if (st < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A UDP socket of Linux's on NET_ADDR:@port, non-blocking. */
static inline int net_linux_udp(uint16_t port)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET, .sin_port = htons(port),
	};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	inet_pton(AF_INET, NET_ADDR, &a.sin_addr);
	if (bind(s, (struct sockaddr *)&a, sizeof(a))) {
		close(s);
		return -errno;
	}
	return s;
}

/* Datagrams waiting on a non-blocking socket (read and counted). */
static inline int net_drain(int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	char buf[2048];
	int n = 0;

	while (poll(&p, 1, ms) > 0) {
		if (recv(s, buf, sizeof(buf), 0) < 0)
			break;
		n++;
		ms = 0;
	}
	return n;
}

#endif /* EXO_NET_UTIL_H */
