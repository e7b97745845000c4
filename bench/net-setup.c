// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-net-bench's network: a peer host (a network namespace), three veth
 * pairs to it, addresses and permanent ARP entries on both sides, all
 * made with rtnetlink and ioctls so that the guest needs no iproute2. The
 * benchmark keeps a descriptor of the peer's namespace and creates its
 * sockets there (a socket stays in the namespace it was created in).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/udp.h>
#include <linux/veth.h>

#include "net-bench.h"

struct nb_link nb_links[NB_NR_LINKS] = {
	[NB_EXO] = { .name = "nbexo", .peer = "nbexo-p" },
	[NB_PKT] = { .name = "nbpkt", .peer = "nbpkt-p" },
	[NB_UDP] = { .name = "nbudp", .peer = "nbudp-p" },
};

static int host_ns = -1, peer_ns = -1;

/*
 * The AF_PACKET pair's frames go to a MAC address nobody has: they still
 * reach the host end and its packet sockets, and Linux's IP layer then
 * drops them at once (PACKET_OTHERHOST) rather than answering with ICMP
 * port unreachable. Only the sockets' filters and copies are timed.
 */
static const uint8_t nobody_mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x99 };

static void check(int ret, const char *what)
{
	if (ret < 0)
		die("%s: %s", what, strerror(errno));
}

int nb_peer_socket(int domain, int type, int protocol)
{
	int fd;

	check(setns(peer_ns, CLONE_NEWNET), "setns(peer)");
	fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	check(setns(host_ns, CLONE_NEWNET), "setns(host)");
	check(fd, "socket in the peer namespace");
	return fd;
}

struct nl_req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char buf[512];
};

static struct rtattr *nl_put(struct nlmsghdr *nh, unsigned short type,
			     const void *data, unsigned int len)
{
	struct rtattr *rta = (void *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void nl_end(struct nlmsghdr *nh, struct rtattr *nest)
{
	nest->rta_len = (char *)nh + nh->nlmsg_len - (char *)nest;
}

/* RTM_NEWLINK of a veth pair, its peer end in the peer namespace. */
static const char *make_pair(const struct nb_link *l)
{
	static char why[128];
	struct nl_req req;
	struct rtattr *info, *data, *peer;
	struct ifinfomsg *pifi;
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
	} ack;
	int fd, err;
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.nh.nlmsg_type = RTM_NEWLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
			     NLM_F_EXCL;
	req.ifi.ifi_family = AF_UNSPEC;
	nl_put(&req.nh, IFLA_IFNAME, l->name, strlen(l->name) + 1);
	info = nl_put(&req.nh, IFLA_LINKINFO, NULL, 0);
	nl_put(&req.nh, IFLA_INFO_KIND, "veth", 4);
	data = nl_put(&req.nh, IFLA_INFO_DATA, NULL, 0);
	peer = nl_put(&req.nh, VETH_INFO_PEER, NULL, 0);
	pifi = (void *)((char *)&req.nh + req.nh.nlmsg_len);
	memset(pifi, 0, sizeof(*pifi));
	req.nh.nlmsg_len += NLMSG_ALIGN(sizeof(*pifi));
	nl_put(&req.nh, IFLA_IFNAME, l->peer, strlen(l->peer) + 1);
	nl_put(&req.nh, IFLA_NET_NS_FD, &peer_ns, sizeof(peer_ns));
	nl_end(&req.nh, peer);
	nl_end(&req.nh, data);
	nl_end(&req.nh, info);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	check(fd, "socket(AF_NETLINK)");
	check(send(fd, &req, req.nh.nlmsg_len, 0), "RTM_NEWLINK");
	n = recv(fd, &ack, sizeof(ack), 0);
	close(fd);
	if (n < (ssize_t)sizeof(ack) || ack.nh.nlmsg_type != NLMSG_ERROR)
		die("RTM_NEWLINK %s: no acknowledgement", l->name);
	err = -ack.err.error;
	if (!err)
		return NULL;
	if (err == EOPNOTSUPP) {
		/* The guest's /init loads veth.ko where it is a module. */
		snprintf(why, sizeof(why),
			 "no veth driver in this kernel (RTM_NEWLINK: %s)",
			 strerror(err));
		return why;
	}
	die("creating veth pair %s/%s: %s", l->name, l->peer, strerror(err));
}

static void set_ifreq_addr(struct sockaddr *sa, struct in_addr a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };

	memcpy(sa, &sin, sizeof(sin));
}

/* Address /24, up, and its MAC into @mac: on @sock's namespace. */
static void config_if(int sock, const char *name, struct in_addr a,
		      uint8_t mac[6])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	set_ifreq_addr(&ifr.ifr_addr, a);
	check(ioctl(sock, SIOCSIFADDR, &ifr), "SIOCSIFADDR");
	set_ifreq_addr(&ifr.ifr_netmask,
		       (struct in_addr){ htonl(0xffffff00) });
	check(ioctl(sock, SIOCSIFNETMASK, &ifr), "SIOCSIFNETMASK");
	check(ioctl(sock, SIOCGIFFLAGS, &ifr), "SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP;
	check(ioctl(sock, SIOCSIFFLAGS, &ifr), "SIOCSIFFLAGS");
	check(ioctl(sock, SIOCGIFHWADDR, &ifr), "SIOCGIFHWADDR");
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

static unsigned int peer_ifindex(int sock, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	check(ioctl(sock, SIOCGIFINDEX, &ifr), "SIOCGIFINDEX");
	return ifr.ifr_ifindex;
}

/* A permanent neighbour: no ARP exchange, no timer, in any round. */
static void add_arp(int sock, const char *dev, struct in_addr a,
		    const uint8_t mac[6])
{
	struct arpreq r;

	memset(&r, 0, sizeof(r));
	set_ifreq_addr(&r.arp_pa, a);
	r.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(r.arp_ha.sa_data, mac, 6);
	r.arp_flags = ATF_PERM | ATF_COM;
	snprintf(r.arp_dev, sizeof(r.arp_dev), "%s", dev);
	check(ioctl(sock, SIOCSARP, &r), "SIOCSARP");
}

/* IPv6 would add router solicitations and DAD to every interface. */
static void no_ipv6(void)
{
	static const char *const knobs[] = {
		"/proc/sys/net/ipv6/conf/all/disable_ipv6",
		"/proc/sys/net/ipv6/conf/default/disable_ipv6",
	};
	unsigned int i;
	int fd;

	for (i = 0; i < 2; i++) {
		fd = open(knobs[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* no IPv6 in this kernel */
		if (write(fd, "1", 1) != 1)
			die("%s: %s", knobs[i], strerror(errno));
		close(fd);
	}
}

const char *nb_setup(void)
{
	const char *why;
	struct nb_link *l;
	int hs, ps, i;

	host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	check(host_ns, "/proc/self/ns/net");
	no_ipv6();
	check(unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)");
	peer_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	check(peer_ns, "/proc/self/ns/net of the peer");
	no_ipv6();
	check(setns(host_ns, CLONE_NEWNET), "setns(host)");

	hs = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	check(hs, "socket");
	ps = nb_peer_socket(AF_INET, SOCK_DGRAM, 0);
	for (i = 0; i < NB_NR_LINKS; i++) {
		l = &nb_links[i];
		why = make_pair(l);
		if (why)
			return why;
		l->ifindex = if_nametoindex(l->name);
		if (!l->ifindex)
			die("if_nametoindex(%s): %s", l->name, strerror(errno));
		l->peer_ifindex = peer_ifindex(ps, l->peer);
		l->addr.s_addr = htonl(0x0a4d0001 | (i + 1) << 8);
		l->peer_addr.s_addr = htonl(0x0a4d0002 | (i + 1) << 8);
		config_if(hs, l->name, l->addr, l->mac);
		config_if(ps, l->peer, l->peer_addr, l->peer_mac);
		add_arp(hs, l->name, l->peer_addr, l->peer_mac);
		add_arp(ps, l->peer, l->addr, l->mac);
	}
	close(hs);
	close(ps);
	return NULL;
}

#define SRC_PORT	40000
#define FRAME_LEN	(ETH_HLEN + sizeof(struct iphdr) + \
			 sizeof(struct udphdr) + sizeof(uint32_t))

static uint16_t ip_csum(const void *p, unsigned int len)
{
	const uint16_t *w = p;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* The datagram to @port as the peer end of @l puts it on the wire. */
static void build_frame(const struct nb_link *l, uint16_t port, uint8_t *f)
{
	struct iphdr *ip = (void *)(f + ETH_HLEN);
	struct udphdr *uh = (void *)(ip + 1);

	memset(f, 0, FRAME_LEN);
	memcpy(f, l == &nb_links[NB_PKT] ? nobody_mac : l->mac, 6);
	memcpy(f + 6, l->peer_mac, 6);
	f[12] = ETH_P_IP >> 8;
	f[13] = ETH_P_IP & 0xff;
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(FRAME_LEN - ETH_HLEN);
	ip->frag_off = htons(0x4000);	/* DF */
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = l->peer_addr.s_addr;
	ip->daddr = l->addr.s_addr;
	ip->check = ip_csum(ip, sizeof(*ip));
	uh->source = htons(SRC_PORT);
	uh->dest = htons(port);
	uh->len = htons(FRAME_LEN - ETH_HLEN - sizeof(*ip));
	uh->check = 0;	/* none: IPv4 allows it, and it costs no one */
}

/*
 * A packet socket on the peer end that only sends (protocol 0: it hooks
 * into no receive path) and skips the qdisc: the frames are built once, so
 * the sender's share of each packet, the same in every column, is small.
 */
static int sender_socket(const struct nb_link *l)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd = nb_peer_socket(AF_PACKET, SOCK_RAW, 0), one = 1;

	sll.sll_ifindex = l->peer_ifindex;
	check(bind(fd, (struct sockaddr *)&sll, sizeof(sll)),
	      "bind(AF_PACKET sender)");
	check(setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
			 sizeof(one)), "PACKET_QDISC_BYPASS");
	return fd;
}

void nb_send(const struct nb_link *l, uint16_t port0, unsigned int nports,
	     uint32_t first, unsigned int n)
{
	static int fd[NB_NR_LINKS] = { -1, -1, -1 };
	static uint8_t (*frames[NB_NR_LINKS])[FRAME_LEN];
	static unsigned int built[NB_NR_LINKS];
	static uint8_t buf[NB_SEND_BATCH][FRAME_LEN];
	static struct mmsghdr msg[NB_SEND_BATCH];
	static struct iovec iov[NB_SEND_BATCH];
	int li = l - nb_links, sent;
	unsigned int i, k;
	uint32_t seq;

	if (fd[li] < 0)
		fd[li] = sender_socket(l);
	if (built[li] != nports) {
		free(frames[li]);
		frames[li] = calloc(nports, FRAME_LEN);
		if (!frames[li])
			die("out of memory");
		for (i = 0; i < nports; i++)
			build_frame(l, port0 + i, frames[li][i]);
		built[li] = nports;
	}
	while (n) {
		k = n < NB_SEND_BATCH ? n : NB_SEND_BATCH;
		for (i = 0; i < k; i++) {
			seq = first + i;
			memcpy(buf[i], frames[li][seq % nports], FRAME_LEN);
			memcpy(buf[i] + FRAME_LEN - sizeof(seq), &seq,
			       sizeof(seq));
			iov[i].iov_base = buf[i];
			iov[i].iov_len = FRAME_LEN;
			memset(&msg[i], 0, sizeof(msg[i]));
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		sent = sendmmsg(fd[li], msg, k, 0);
		check(sent, "sendmmsg");
		if (!sent)
			die("sendmmsg sent nothing");
		first += sent;
		n -= sent;
	}
}

uint16_t nb_frame_dport(const uint8_t *f, uint32_t len)
{
	const struct iphdr *ip = (const void *)(f + ETH_HLEN);
	const struct udphdr *uh;

	if (len < ETH_HLEN + sizeof(*ip) + sizeof(*uh) ||
	    f[12] != 0x08 || f[13] != 0x00 || ip->protocol != IPPROTO_UDP)
		return 0;
	if (len < ETH_HLEN + ip->ihl * 4u + sizeof(*uh))
		return 0;
	uh = (const void *)(f + ETH_HLEN + ip->ihl * 4);
	return ntohs(uh->dest);
}

struct closer {
	const int *fds;
	unsigned int n;
};

static void *close_some(void *arg)
{
	struct closer *c = arg;
	unsigned int i;

	for (i = 0; i < c->n; i++)
		close(c->fds[i]);
	return NULL;
}

#define CLOSERS	32

void nb_close_all(const int *fds, unsigned int n)
{
	struct closer c[CLOSERS];
	pthread_t t[CLOSERS];
	unsigned int i, per = (n + CLOSERS - 1) / CLOSERS, at = 0;
	int err;

	for (i = 0; i < CLOSERS; i++) {
		c[i].fds = fds + at;
		c[i].n = n - at < per ? n - at : per;
		at += c[i].n;
		err = pthread_create(&t[i], NULL, close_some, &c[i]);
		if (err)
			die("pthread_create: %s", strerror(err));
	}
	for (i = 0; i < CLOSERS; i++)
		pthread_join(t[i], NULL);
}
