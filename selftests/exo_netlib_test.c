// SPDX-License-Identifier: GPL-2.0
/*
 * libexo's network API against the module: the rings exo_net_open() builds
 * (their frames pinned while registered, nothing left behind by close or by
 * a failed open), the handlers in bpf-filters/ loaded with
 * exo_net_prog_load() (and one the verifier refuses, with its reason), each
 * handler run on crafted packets with BPF_PROG_TEST_RUN (verdicts, tags,
 * rewritten bytes, checksums, map rules), and the calls end to end on the
 * loopback interface: claims, a handler's tag in the receive ring, and a
 * frame sent from the transmit ring to a Linux socket.
 *
 * The handlers' objects are read from $EXO_BPF_DIR (default /bpf, where
 * the VM puts build/bpf-filters/ *.bpf.o).
 */
#include <arpa/inet.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libexo.h>

#include "exo_util.h"
/* bpftool gen skeleton: the handler's object is compiled into the test. */
#include "udp_echo.skel.h"

#define LOG_SIZE	(64 * 1024)
#define ICMP_ECHOREPLY	0
#define ICMP_ECHO	8

static const uint8_t MAC_A[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0xb };
#define IP_A	0x0a000001u	/* 10.0.0.1 */
#define IP_B	0x0a000002u	/* 10.0.0.2 */

static const char *bpf_dir(void)
{
	const char *d = getenv("EXO_BPF_DIR");

	return d && *d ? d : "/bpf";
}

static void bpf_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s.bpf.o", bpf_dir(), name);
}

/* ------------------------------------------------------------------------
 * Packets
 */

/* The checksum of @len bytes, in host order: 0 over a correct one. */
static uint16_t csum(const void *data, size_t len)
{
	return exo_inet_csum(0, data, len);
}

static uint16_t udp_csum(const struct iphdr *ip, const void *udp, size_t len)
{
	/* The pseudo-header's addresses, unfolded, then protocol and length. */
	uint32_t sum = 0xffff - exo_inet_csum(0, &ip->saddr, 8);

	sum += IPPROTO_UDP + (uint32_t)len;
	return exo_inet_csum(sum, udp, len);
}

/*
 * An Ethernet frame holding an IPv4 packet with @opt_words words of
 * options (NOPs) and @l4 as its payload; the IP checksum is set. Returns
 * the frame's length; *@l4_off gets the payload's offset.
 */
static size_t mk_ipv4(uint8_t *buf, const uint8_t *dst, const uint8_t *src,
		      uint32_t saddr, uint32_t daddr, uint8_t proto,
		      int opt_words, const void *l4, size_t l4_len,
		      size_t *l4_off)
{
	struct ethhdr *eth = (void *)buf;
	struct iphdr *ip = (void *)(eth + 1);
	size_t ihl = 20 + 4 * opt_words;
	uint8_t *p = (uint8_t *)ip + ihl;

	memcpy(eth->h_dest, dst, ETH_ALEN);
	memcpy(eth->h_source, src, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	memset(ip, 0, ihl);
	memset(ip + 1, 1, ihl - 20);	/* IPOPT_NOOP */
	ip->version = 4;
	ip->ihl = ihl / 4;
	ip->ttl = 64;
	ip->protocol = proto;
	ip->tot_len = htons(ihl + l4_len);
	ip->saddr = htonl(saddr);
	ip->daddr = htonl(daddr);
	ip->check = htons(csum(ip, ihl));
	memcpy(p, l4, l4_len);
	if (l4_off)
		*l4_off = p - buf;
	return p + l4_len - buf;
}

struct echo_hdr {
	uint8_t type, code;
	uint16_t checksum, id, seq;
	char data[24];
};

static size_t mk_icmp(uint8_t *buf, uint8_t type, int opt_words,
		      size_t *off)
{
	struct echo_hdr e = { .type = type, .id = htons(0x1234),
			      .seq = htons(7), .data = "exo echo payload 0123" };

	e.checksum = htons(csum(&e, sizeof(e)));
	return mk_ipv4(buf, MAC_A, MAC_B, IP_B, IP_A, IPPROTO_ICMP, opt_words,
		       &e, sizeof(e), off);
}

static size_t mk_udp(uint8_t *buf, const uint8_t *dst, const uint8_t *src,
		     uint32_t saddr, uint32_t daddr, uint16_t sport,
		     uint16_t dport, int opt_words, size_t *off)
{
	struct {
		struct udphdr h;
		char data[20];
	} u = { .data = "exo udp payload 0123" };
	struct iphdr *ip;
	size_t len, o;

	u.h.source = htons(sport);
	u.h.dest = htons(dport);
	u.h.len = htons(sizeof(u));
	len = mk_ipv4(buf, dst, src, saddr, daddr, IPPROTO_UDP, opt_words, &u,
		      sizeof(u), &o);
	ip = (void *)(buf + ETH_HLEN);
	((struct udphdr *)(buf + o))->check =
		htons(udp_csum(ip, buf + o, sizeof(u)));
	if (off)
		*off = o;
	return len;
}

/* ------------------------------------------------------------------------
 * BPF_PROG_TEST_RUN
 */

struct run {
	uint8_t out[256];
	uint32_t out_len;
	uint32_t retval;
	uint32_t tag;
};

/* Run @fd once on @pkt as exo would: cb[0] a claim, cb[1] the ABI. */
static int run_prog(int fd, const void *pkt, size_t len, struct run *r)
{
	struct __sk_buff ctx, ctx_out;
	int ret;

	memset(&ctx, 0, sizeof(ctx));
	memset(&ctx_out, 0, sizeof(ctx_out));
	ctx.cb[EXO_NET_CB_CLAIM] = 1;
	ctx.cb[EXO_NET_CB_ABI] = EXO_NET_ABI;
	LIBBPF_OPTS(bpf_test_run_opts, t,
		    .data_in = pkt, .data_size_in = len,
		    .data_out = r->out, .data_size_out = sizeof(r->out),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out),
		    .repeat = 1);
	ret = bpf_prog_test_run_opts(fd, &t);
	if (ret)
		return -errno;
	r->out_len = t.data_size_out;
	r->retval = t.retval;
	r->tag = ctx_out.cb[EXO_NET_CB_TAG];
	return 0;
}

static uint64_t stat0(int map_fd)
{
	uint32_t key = 0;
	uint64_t v = UINT64_MAX;

	if (bpf_map_lookup_elem(map_fd, &key, &v))
		return UINT64_MAX;
	return v;
}

/* ------------------------------------------------------------------------
 * Fixture
 */

FIXTURE(net) {
	struct exo *exo;
	const char *why;	/* set: every test skips, saying why */
	struct exo_net *net;
	struct exo_net_prog *prog;
	char *log;
	char localnet;		/* lo's route_localnet to restore; 0: none */
};

FIXTURE_SETUP(net)
{
	int ret = exo_open(&self->exo);

	ASSERT_EQ(0, ret) TH_LOG("exo_open: %s", strerror(-ret));
	if (!(exo_api(self->exo)->features & EXO_FEAT_NET))
		self->why = "the module has no network (EXO_FEAT_NET)";
	self->log = calloc(1, LOG_SIZE);
	ASSERT_NE(NULL, self->log);
}

#define LOCALNET "/proc/sys/net/ipv4/conf/lo/route_localnet"

FIXTURE_TEARDOWN(net)
{
	if (self->localnet)
		EXPECT_EQ(0, exo_write_str(LOCALNET, self->localnet == '1' ?
					   "1" : "0"));
	exo_net_prog_close(self->prog);
	exo_net_close(self->net);
	exo_close(self->exo);
	free(self->log);
}

#define NEED_NET()							\
	do {								\
		if (self->why)						\
			SKIP(return, "%s", self->why);			\
	} while (0)

/* Load handler @name from the installed objects, or skip saying why.
 * Loading and running handlers needs BPF, not exo's network. */
#define LOAD(name)							\
	do {								\
		char path_[PATH_MAX];					\
		int ret_;						\
									\
		bpf_path(path_, sizeof(path_), name);			\
		if (access(path_, R_OK))				\
			SKIP(return, "%.200s: %s (set EXO_BPF_DIR)", path_,	\
			     strerror(errno));				\
		ret_ = exo_net_prog_load(path_, NULL, &self->prog,	\
					 self->log, LOG_SIZE);		\
		ASSERT_EQ(0, ret_) TH_LOG("%s: %s\n%s", path_,		\
					  strerror(-ret_), self->log);	\
		ASSERT_LE(0, exo_net_prog_fd(self->prog));		\
	} while (0)

/* Every owned capability of this context (from the frame table). */
static int owned_caps(struct exo *exo, exo_cap_t *caps, int max)
{
	const struct exo_ftable_header *h = exo_ftable(exo);
	struct exo_ftable_entry e;
	uint32_t i;
	int n = 0;

	for (i = 1; i < h->nr_entries && n < max; i++) {
		if (exo_ftable_read(exo, i, &e))
			return -1;
		if (e.state == EXO_FRAME_OWNED)
			caps[n++] = (uint64_t)e.gen << 32 | i;
	}
	return n;
}

static uint64_t ctx_frames(struct exo *exo)
{
	struct exo_ctx_info info;

	if (exo_ctx_info(exo, &info))
		return UINT64_MAX;
	return info.frames;
}

/* ------------------------------------------------------------------------
 * The rings
 */

TEST_F(net, open_pins_frames_close_frees)
{
	struct exo_net_opts o = { .sz = sizeof(o), .rx_slots = 64,
				  .tx_slots = 16 };
	const struct exo_net_ring_header *rx, *tx;
	struct exo_net_pkt pkt;
	exo_cap_t caps[128];
	int n, i, ret;

	NEED_NET();
	ret = exo_net_open(self->exo, &o, &self->net);
	ASSERT_EQ(0, ret) TH_LOG("exo_net_open: %s", strerror(-ret));
	EXPECT_EQ(self->exo, exo_net_exo(self->net));
	EXPECT_LE(0, exo_net_fd(self->net));

	rx = exo_net_rx_ring(self->net);
	tx = exo_net_tx_ring(self->net);
	ASSERT_NE(NULL, rx);
	ASSERT_NE(NULL, tx);
	EXPECT_EQ(EXO_NET_RING_MAGIC, rx->magic);
	EXPECT_EQ((uint32_t)EXO_NET_RX, rx->kind);
	EXPECT_EQ(64u, rx->nr_slots);
	EXPECT_EQ((uint32_t)EXO_NET_TX, tx->kind);
	EXPECT_EQ(16u, tx->nr_slots);
	/* 1 + 64/2 frames and 1 + 16/2. */
	EXPECT_EQ((unsigned int)(33 + 9), ctx_frames(self->exo));

	/* Nothing received: no packet, and waiting times out. */
	EXPECT_EQ(0u, exo_net_rx_peek(self->net, &pkt, 1));
	EXPECT_EQ(0, exo_net_rx_wait(self->net, 0));
	EXPECT_EQ(0, exo_net_rx_wait(self->net, 50));

	/* Registered frames are pinned: freeing one is refused. */
	n = owned_caps(self->exo, caps, 128);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(-EBUSY, exo_frame_free(self->exo, caps[i]))
			TH_LOG("frame cap %#llx freed from a registered ring",
			       (unsigned long long)caps[i]);

	exo_net_close(self->net);
	self->net = NULL;
	EXPECT_EQ(0u, ctx_frames(self->exo));
}

TEST_F(net, default_slots)
{
	int ret;

	NEED_NET();
	ret = exo_net_open(self->exo, NULL, &self->net);
	ASSERT_EQ(0, ret) TH_LOG("exo_net_open: %s", strerror(-ret));
	EXPECT_EQ(256u, exo_net_rx_ring(self->net)->nr_slots);
	EXPECT_EQ(256u, exo_net_tx_ring(self->net)->nr_slots);
	EXPECT_EQ((unsigned int)(2 * 129), ctx_frames(self->exo));
}

TEST_F(net, bad_opts)
{
	struct exo_net_opts o = { .sz = sizeof(o), .rx_slots = 48 };
	struct exo_net *net = NULL;

	NEED_NET();
	EXPECT_EQ(-EINVAL, exo_net_open(self->exo, &o, &net));
	o.rx_slots = 1;
	EXPECT_EQ(-EINVAL, exo_net_open(self->exo, &o, &net));
	o.rx_slots = 0;
	o.sz = 0;
	EXPECT_EQ(-EINVAL, exo_net_open(self->exo, &o, &net));
	EXPECT_EQ(-EINVAL, exo_net_open(NULL, NULL, &net));
	EXPECT_EQ(NULL, net);
	EXPECT_EQ(0u, ctx_frames(self->exo));
}

/* A second open on one context fails at registration (EBUSY) and gives
 * back all it had allocated and bound; the first keeps working. */
TEST_F(net, failed_open_undoes_all)
{
	struct exo_net_opts o = { .sz = sizeof(o), .rx_slots = 8,
				  .tx_slots = 8 };
	struct exo_net *second = NULL;
	uint64_t frames;
	int ret;

	NEED_NET();
	ASSERT_EQ(0, exo_net_open(self->exo, &o, &self->net));
	frames = ctx_frames(self->exo);
	EXPECT_EQ(10u, frames);
	ret = exo_net_open(self->exo, &o, &second);
	EXPECT_EQ(-EBUSY, ret);
	EXPECT_EQ(NULL, second);
	EXPECT_EQ(frames, ctx_frames(self->exo));
	EXPECT_EQ(EXO_NET_RING_MAGIC, exo_net_rx_ring(self->net)->magic);
	EXPECT_NE(NULL, exo_net_tx_slot(self->net));

	/* After close the context may open rings again. */
	exo_net_close(self->net);
	self->net = NULL;
	EXPECT_EQ(0u, ctx_frames(self->exo));
	EXPECT_EQ(0, exo_net_open(self->exo, &o, &self->net));
}

/* The transmit ring fills, and exo refuses a frame of no claim. */
TEST_F(net, tx_full_and_rejected)
{
	struct exo_net_opts o = { .sz = sizeof(o), .rx_slots = 2,
				  .tx_slots = 4 };
	uint32_t rejected = 0;
	uint8_t *p;
	size_t len;
	int i;

	NEED_NET();
	ASSERT_EQ(0, exo_net_open(self->exo, &o, &self->net));
	for (i = 0; i < 4; i++) {
		p = exo_net_tx_slot(self->net);
		ASSERT_NE(NULL, p);
		len = mk_udp(p, MAC_A, MAC_B, IP_B, IP_A, 5000, 6000, 0, NULL);
		ASSERT_EQ(0, exo_net_tx_commit(self->net, 1, len));
	}
	EXPECT_EQ(NULL, exo_net_tx_slot(self->net));
	EXPECT_EQ(-ENOBUFS, exo_net_tx_commit(self->net, 1, 60));
	EXPECT_EQ(-EINVAL, exo_net_tx_commit(self->net, 1,
					     EXO_NET_SLOT_MAX + 1));

	/* No claim, no attachment: all four are refused, none sent. */
	EXPECT_EQ(0, exo_net_tx_flush(self->net, &rejected));
	EXPECT_EQ(4u, rejected);
	EXPECT_EQ(4u, exo_net_tx_ring(self->net)->rejected);
	EXPECT_EQ(0u, exo_net_tx_ring(self->net)->sent);
	/* exo consumed them: the slots are free again. */
	EXPECT_NE(NULL, exo_net_tx_slot(self->net));
}

/* ------------------------------------------------------------------------
 * Loading handlers
 */

TEST_F(net, load_every_filter)
{
	static const char *const names[] = {
		"udp_demux", "icmp_echo", "udp_echo", "drop_rule",
	};
	static const char *const maps[] = {
		"ports", "stats", "stats", "deny",
	};
	char path[PATH_MAX];
	struct exo_net_prog *p;
	size_t i;
	int ret;

	LOAD("udp_demux");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		bpf_path(path, sizeof(path), names[i]);
		ret = exo_net_prog_load(path, names[i], &p, self->log,
					LOG_SIZE);
		ASSERT_EQ(0, ret) TH_LOG("%s: %s\n%s", path, strerror(-ret),
					 self->log);
		EXPECT_LE(0, exo_net_prog_fd(p));
		EXPECT_LE(0, exo_net_prog_map_fd(p, maps[i]));
		EXPECT_EQ(-ENOENT, exo_net_prog_map_fd(p, "no_such_map"));
		exo_net_prog_close(p);
	}
	/* A program name the object lacks. */
	bpf_path(path, sizeof(path), "udp_demux");
	EXPECT_EQ(-ENOENT, exo_net_prog_load(path, "no_such_prog", &p, NULL,
					     0));
}

/* The verifier refuses reject_oob; its reason reaches the caller. */
TEST_F(net, verifier_rejects_with_reason)
{
	struct exo_net_prog *p = NULL;
	char path[PATH_MAX];
	int ret;

	bpf_path(path, sizeof(path), "reject_oob");
	if (access(path, R_OK))
		SKIP(return, "%.200s: %s (set EXO_BPF_DIR)", path,
		     strerror(errno));
	ret = exo_net_prog_load(path, NULL, &p, self->log, LOG_SIZE);
	EXPECT_GT(0, ret);
	EXPECT_EQ(NULL, p);
	EXPECT_NE(NULL, strstr(self->log, "invalid access to packet"))
		TH_LOG("verifier log: %s", self->log);
	TH_LOG("the verifier's reason: %s",
	       strstr(self->log, "invalid access to packet") ?: "(none)");
}

TEST_F(net, load_missing_file)
{
	struct exo_net_prog *p = NULL;
	int ret;

	ret = exo_net_prog_load("/nonexistent/x.bpf.o", NULL, &p, self->log,
				LOG_SIZE);
	EXPECT_EQ(-ENOENT, ret);
	EXPECT_EQ(NULL, p);
	/* No verifier ran: libbpf's own message is the log. */
	EXPECT_NE('\0', self->log[0]);
	EXPECT_EQ(-EINVAL, exo_net_prog_load(NULL, NULL, &p, NULL, 0));

	/* An ELF file, not a BPF object: libbpf's reason, and an errno. */
	ret = exo_net_prog_load("/proc/self/exe", NULL, &p, self->log,
				LOG_SIZE);
	EXPECT_EQ(-EINVAL, ret);
	EXPECT_EQ(NULL, p);
	EXPECT_NE('\0', self->log[0]);
	TH_LOG("libbpf's reason: %s", self->log);
}

/* ------------------------------------------------------------------------
 * The handlers, run on crafted packets
 */

TEST_F(net, udp_demux_tags_ports)
{
	uint16_t port = 7777;
	uint32_t tag = 42;
	uint8_t pkt[256];
	struct run r;
	size_t len;
	int fd;

	LOAD("udp_demux");
	fd = exo_net_prog_fd(self->prog);
	ASSERT_EQ(0, bpf_map_update_elem(exo_net_prog_map_fd(self->prog,
							     "ports"),
					 &port, &tag, BPF_ANY));

	len = mk_udp(pkt, MAC_A, MAC_B, IP_B, IP_A, 1234, 7777, 0, NULL);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_DELIVER, r.retval);
	EXPECT_EQ(42u, r.tag);

	/* Options before the UDP header: the port is found past them. */
	len = mk_udp(pkt, MAC_A, MAC_B, IP_B, IP_A, 1234, 7777, 3, NULL);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_DELIVER, r.retval);
	EXPECT_EQ(42u, r.tag);

	len = mk_udp(pkt, MAC_A, MAC_B, IP_B, IP_A, 7777, 7778, 0, NULL);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_PASS, r.retval);
	EXPECT_EQ(0u, r.tag);

	/* Cut inside the UDP header. */
	len = mk_udp(pkt, MAC_A, MAC_B, IP_B, IP_A, 1234, 7777, 0, NULL);
	ASSERT_EQ(0, run_prog(fd, pkt, ETH_HLEN + 20 + 3, &r));
	EXPECT_EQ((uint32_t)EXO_NET_PASS, r.retval);

	/* A later fragment has no UDP header where one would be. */
	((struct iphdr *)(pkt + ETH_HLEN))->frag_off = htons(100);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_PASS, r.retval);

	len = mk_icmp(pkt, ICMP_ECHO, 0, NULL);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_PASS, r.retval);
}

static void expect_swapped(struct __test_metadata *_metadata,
			   const uint8_t *in, const uint8_t *out)
{
	const struct iphdr *ii = (const void *)(in + ETH_HLEN);
	const struct iphdr *oi = (const void *)(out + ETH_HLEN);

	EXPECT_EQ(0, memcmp(out, in + ETH_ALEN, ETH_ALEN));
	EXPECT_EQ(0, memcmp(out + ETH_ALEN, in, ETH_ALEN));
	EXPECT_EQ(ii->saddr, oi->daddr);
	EXPECT_EQ(ii->daddr, oi->saddr);
	EXPECT_EQ(0, csum(oi, oi->ihl * 4)) TH_LOG("IP checksum broken");
}

TEST_F(net, icmp_echo_replies)
{
	const struct echo_hdr *e;
	uint8_t pkt[256];
	struct run r;
	int fd, map, opt;
	size_t len, off;

	LOAD("icmp_echo");
	fd = exo_net_prog_fd(self->prog);
	map = exo_net_prog_map_fd(self->prog, "stats");
	ASSERT_LE(0, map);
	EXPECT_EQ(0u, stat0(map));

	for (opt = 0; opt <= 2; opt += 2) {
		len = mk_icmp(pkt, ICMP_ECHO, opt, &off);
		ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
		EXPECT_EQ((uint32_t)EXO_NET_REPLY, r.retval);
		ASSERT_EQ(len, r.out_len);
		expect_swapped(_metadata, pkt, r.out);
		e = (const void *)(r.out + off);
		EXPECT_EQ(ICMP_ECHOREPLY, e->type);
		EXPECT_EQ(0, e->code);
		EXPECT_EQ(0, csum(e, sizeof(*e)))
			TH_LOG("ICMP checksum of the reply is wrong");
		/* The rest is echoed as it came. */
		EXPECT_EQ(0, memcmp(r.out + off + 4, pkt + off + 4,
				    len - off - 4));
	}
	EXPECT_EQ(2u, stat0(map));

	/* Not a request: Linux's. */
	len = mk_icmp(pkt, ICMP_ECHOREPLY, 0, NULL);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_PASS, r.retval);
	/* Too short for an echo header. */
	len = mk_icmp(pkt, ICMP_ECHO, 0, &off);
	ASSERT_EQ(0, run_prog(fd, pkt, off + 4, &r));
	EXPECT_EQ((uint32_t)EXO_NET_PASS, r.retval);
	/* To a group address: no reply from a group. */
	memset(pkt, 0xff, ETH_ALEN);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_PASS, r.retval);
	/* UDP is not ICMP. */
	len = mk_udp(pkt, MAC_A, MAC_B, IP_B, IP_A, 1, 2, 0, NULL);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_PASS, r.retval);
	EXPECT_EQ(2u, stat0(map));
}

TEST_F(net, udp_echo_swaps)
{
	const struct udphdr *in, *out;
	uint8_t pkt[256];
	struct run r;
	size_t len, off;
	int fd, map, opt;

	LOAD("udp_echo");
	fd = exo_net_prog_fd(self->prog);
	map = exo_net_prog_map_fd(self->prog, "stats");
	ASSERT_LE(0, map);

	for (opt = 0; opt <= 1; opt++) {
		len = mk_udp(pkt, MAC_A, MAC_B, IP_B, IP_A, 40000, 7, opt,
			     &off);
		ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
		EXPECT_EQ((uint32_t)EXO_NET_REPLY, r.retval);
		ASSERT_EQ(len, r.out_len);
		expect_swapped(_metadata, pkt, r.out);
		in = (const void *)(pkt + off);
		out = (const void *)(r.out + off);
		EXPECT_EQ(in->source, out->dest);
		EXPECT_EQ(in->dest, out->source);
		EXPECT_EQ(0, udp_csum((const void *)(r.out + ETH_HLEN), out,
				      ntohs(out->len)))
			TH_LOG("UDP checksum of the echo is wrong");
		EXPECT_EQ(0, memcmp(out + 1, in + 1, len - off - 8));
	}
	EXPECT_EQ(2u, stat0(map));

	/* Shorter than its UDP length says. */
	len = mk_udp(pkt, MAC_A, MAC_B, IP_B, IP_A, 40000, 7, 0, &off);
	((struct udphdr *)(pkt + off))->len = htons(200);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_PASS, r.retval);
	/* A first fragment only. */
	len = mk_udp(pkt, MAC_A, MAC_B, IP_B, IP_A, 40000, 7, 0, &off);
	((struct iphdr *)(pkt + ETH_HLEN))->frag_off = htons(0x2000);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_PASS, r.retval);
	EXPECT_EQ(2u, stat0(map));
}

TEST_F(net, drop_rule_from_map)
{
	uint32_t one = 1, saddr = htonl(IP_B);
	uint8_t pkt[256], arp[60];
	struct run r;
	size_t len;
	int fd, deny, stats;

	LOAD("drop_rule");
	fd = exo_net_prog_fd(self->prog);
	deny = exo_net_prog_map_fd(self->prog, "deny");
	stats = exo_net_prog_map_fd(self->prog, "stats");
	ASSERT_LE(0, deny);
	ASSERT_LE(0, stats);

	len = mk_udp(pkt, MAC_A, MAC_B, IP_B, IP_A, 1, 2, 0, NULL);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_DELIVER, r.retval);

	/* The rule changes with the map, not the program. */
	ASSERT_EQ(0, bpf_map_update_elem(deny, &saddr, &one, BPF_ANY));
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_DROP, r.retval);
	len = mk_icmp(pkt, ICMP_ECHO, 1, NULL);	/* also from IP_B */
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_DROP, r.retval);
	EXPECT_EQ(2u, stat0(stats));

	len = mk_udp(pkt, MAC_B, MAC_A, IP_A, IP_B, 1, 2, 0, NULL);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_DELIVER, r.retval);

	/* Not IPv4 at all. */
	memset(arp, 0, sizeof(arp));
	memset(arp, 0xff, ETH_ALEN);
	memcpy(arp + ETH_ALEN, MAC_B, ETH_ALEN);
	arp[12] = 0x08;
	arp[13] = 0x06;
	ASSERT_EQ(0, run_prog(fd, arp, sizeof(arp), &r));
	EXPECT_EQ((uint32_t)EXO_NET_DELIVER, r.retval);

	ASSERT_EQ(0, bpf_map_delete_elem(deny, &saddr));
	len = mk_udp(pkt, MAC_A, MAC_B, IP_B, IP_A, 1, 2, 0, NULL);
	ASSERT_EQ(0, run_prog(fd, pkt, len, &r));
	EXPECT_EQ((uint32_t)EXO_NET_DELIVER, r.retval);
	EXPECT_EQ(2u, stat0(stats));
}

/* ------------------------------------------------------------------------
 * End to end on the loopback interface
 */

static int lo_up(void)
{
	struct ifreq ifr;
	int s, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			ret = -errno;
	}
	close(s);
	return ret;
}

static int udp_socket(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s >= 0 && bind(s, (void *)&a, sizeof(a))) {
		close(s);
		return -1;
	}
	return s;
}

static ssize_t udp_send(int s, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };

	return sendto(s, buf, len, 0, (void *)&a, sizeof(a));
}

#define LO_PORT		47001
#define LO_PORT2	47002
#define LO_PORT3	47003

/* Attach exo to lo, or skip saying why. */
#define ATTACH_LO(ifindex)						\
	do {								\
		int ret_;						\
									\
		NEED_NET();						\
		ifindex = if_nametoindex("lo");				\
		ASSERT_NE(0u, ifindex);					\
		ASSERT_EQ(0, lo_up());					\
		ret_ = exo_net_attach(self->exo, ifindex);		\
		if (ret_ == -EOPNOTSUPP || ret_ == -EINVAL)		\
			SKIP(return, "exo does not attach lo: %s",	\
			     strerror(-ret_));				\
		ASSERT_EQ(0, ret_) TH_LOG("attach lo: %s",		\
					  strerror(-ret_));		\
	} while (0)

TEST_F(net, claim_calls)
{
	struct exo_net_stats st;
	unsigned int lo;
	uint32_t id, id2;
	int fd;

	NEED_NET();
	LOAD("drop_rule");
	fd = exo_net_prog_fd(self->prog);
	ATTACH_LO(lo);
	EXPECT_EQ(-EEXIST, exo_net_attach(self->exo, lo));

	ASSERT_EQ(0, exo_net_claim(self->exo, lo, ETH_P_IP, IPPROTO_UDP,
				   LO_PORT, fd, &id));
	EXPECT_NE(0u, id);
	EXPECT_EQ(-EADDRINUSE, exo_net_claim(self->exo, lo, ETH_P_IP,
					     IPPROTO_UDP, LO_PORT, -1, &id2));
	EXPECT_EQ(-EINVAL, exo_net_claim(self->exo, lo, 0x0100, 0, 0, -1,
					 &id2));
	/* A map is not a program. */
	EXPECT_EQ(-EBADF, exo_net_claim(self->exo, lo, ETH_P_IP, IPPROTO_UDP,
					LO_PORT2,
					exo_net_prog_map_fd(self->prog,
							    "deny"),
					&id2));

	ASSERT_EQ(0, exo_net_stats(self->exo, id, &st));
	EXPECT_EQ(id, st.id);
	EXPECT_EQ(0u, st.packets);
	EXPECT_EQ(0, exo_net_set_handler(self->exo, id, -1));
	EXPECT_EQ(0, exo_net_set_handler(self->exo, id, fd));
	EXPECT_EQ(-EBADF, exo_net_set_handler(self->exo, id, 1000));

	EXPECT_EQ(0, exo_net_unclaim(self->exo, id));
	EXPECT_EQ(-ENOENT, exo_net_unclaim(self->exo, id));
	EXPECT_EQ(-ENOENT, exo_net_set_handler(self->exo, id, -1));
	EXPECT_EQ(-ENOENT, exo_net_stats(self->exo, id, &st));

	EXPECT_EQ(0, exo_net_detach(self->exo, lo));
	EXPECT_EQ(-ENXIO, exo_net_detach(self->exo, lo));
	EXPECT_EQ(-ENXIO, exo_net_claim(self->exo, lo, ETH_P_IP, IPPROTO_UDP,
					LO_PORT, -1, &id2));
}

/* A datagram to a claimed port lands in the receive ring with the
 * handler's tag; release gives its slot back. */
TEST_F(net, rx_through_the_ring)
{
	struct exo_net_opts o = { .sz = sizeof(o), .rx_slots = 16,
				  .tx_slots = 2 };
	const char msg[] = "to the library OS";
	uint16_t port = LO_PORT;
	struct exo_net_stats st;
	struct exo_net_pkt pkt[4];
	const struct iphdr *ip;
	const struct udphdr *udp;
	unsigned int lo;
	uint32_t id, tag = 77;
	int s, ret;

	NEED_NET();
	LOAD("udp_demux");
	ASSERT_EQ(0, bpf_map_update_elem(exo_net_prog_map_fd(self->prog,
							     "ports"),
					 &port, &tag, BPF_ANY));
	ASSERT_EQ(0, exo_net_open(self->exo, &o, &self->net));
	ATTACH_LO(lo);
	ASSERT_EQ(0, exo_net_claim(self->exo, lo, ETH_P_IP, IPPROTO_UDP,
				   LO_PORT, exo_net_prog_fd(self->prog),
				   &id));

	s = udp_socket(0);
	ASSERT_LE(0, s);
	ASSERT_EQ((ssize_t)sizeof(msg), udp_send(s, LO_PORT, msg, sizeof(msg)));
	ret = exo_net_rx_wait(self->net, 5000);
	ASSERT_EQ(1, ret) TH_LOG("rx_wait: %d", ret);
	ASSERT_EQ(1u, exo_net_rx_peek(self->net, pkt, 4));
	EXPECT_EQ(id, pkt[0].claim);
	EXPECT_EQ(lo, pkt[0].ifindex);
	EXPECT_EQ(77u, pkt[0].tag);
	EXPECT_EQ(pkt[0].len, pkt[0].wire_len);
	ASSERT_EQ(ETH_HLEN + 20 + 8 + sizeof(msg), pkt[0].len);
	ip = (const void *)((const uint8_t *)pkt[0].data + ETH_HLEN);
	udp = (const void *)(ip + 1);
	EXPECT_EQ(IPPROTO_UDP, ip->protocol);
	EXPECT_EQ(htons(LO_PORT), udp->dest);
	EXPECT_EQ(0, memcmp(udp + 1, msg, sizeof(msg)));
	/* Peeking again sees the same packet until it is released. */
	EXPECT_EQ(1u, exo_net_rx_peek(self->net, pkt, 4));
	exo_net_rx_release(self->net, 4);
	EXPECT_EQ(1u, exo_net_rx_ring(self->net)->cons);
	EXPECT_EQ(0u, exo_net_rx_peek(self->net, pkt, 4));
	EXPECT_EQ(0, exo_net_rx_wait(self->net, 0));

	ASSERT_EQ(0, exo_net_stats(self->exo, id, &st));
	EXPECT_EQ(1u, st.packets);
	EXPECT_EQ(1u, st.delivered);
	close(s);
}

/* A full receive ring loses the newest packets and counts them; the
 * packets in it stay intact, and released slots take packets again. */
TEST_F(net, rx_ring_full_counts_drops)
{
	struct exo_net_opts o = { .sz = sizeof(o), .rx_slots = 2,
				  .tx_slots = 2 };
	struct exo_net_stats st;
	struct exo_net_pkt pkt[4];
	unsigned int lo;
	uint32_t id;
	char msg = '0';
	int s, i;

	NEED_NET();
	ASSERT_EQ(0, exo_net_open(self->exo, &o, &self->net));
	ATTACH_LO(lo);
	ASSERT_EQ(0, exo_net_claim(self->exo, lo, ETH_P_IP, IPPROTO_UDP,
				   LO_PORT, -1, &id));
	s = udp_socket(0);
	ASSERT_LE(0, s);
	for (i = 0; i < 5; i++, msg++)
		ASSERT_EQ(1, udp_send(s, LO_PORT, &msg, 1));
	/* lo hands packets over from a softirq: wait until all five came. */
	for (i = 0; i < 200; i++) {
		ASSERT_EQ(0, exo_net_stats(self->exo, id, &st));
		if (st.packets == 5)
			break;
		usleep(10000);
	}
	EXPECT_EQ(5u, st.packets);
	EXPECT_EQ(2u, st.delivered);
	EXPECT_EQ(3u, st.ring_full);
	EXPECT_EQ(3u, exo_net_rx_ring(self->net)->drops);
	ASSERT_EQ(2u, exo_net_rx_peek(self->net, pkt, 4));
	EXPECT_EQ('0', ((const char *)pkt[0].data)[pkt[0].len - 1]);
	EXPECT_EQ('1', ((const char *)pkt[1].data)[pkt[1].len - 1]);

	exo_net_rx_release(self->net, 2);
	ASSERT_EQ(1, udp_send(s, LO_PORT, &msg, 1));
	ASSERT_EQ(1, exo_net_rx_wait(self->net, 5000));
	ASSERT_EQ(1u, exo_net_rx_peek(self->net, pkt, 4));
	EXPECT_EQ('5', ((const char *)pkt[0].data)[pkt[0].len - 1]);
	close(s);
}

/* The UDP echo ASH answers a Linux socket in the kernel: the library OS
 * has no ring at all. */
TEST_F(net, udp_echo_ash_on_lo)
{
	const char msg[] = "echo me, exo";
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	struct exo_net_stats st;
	struct pollfd p;
	unsigned int lo;
	char buf[64];
	uint32_t id;
	int s;

	NEED_NET();
	LOAD("udp_echo");
	ATTACH_LO(lo);
	ASSERT_EQ(0, exo_net_claim(self->exo, lo, ETH_P_IP, IPPROTO_UDP,
				   LO_PORT, exo_net_prog_fd(self->prog),
				   &id));
	s = udp_socket(0);
	ASSERT_LE(0, s);
	ASSERT_EQ((ssize_t)sizeof(msg), udp_send(s, LO_PORT, msg, sizeof(msg)));
	p.fd = s;
	p.events = POLLIN;
	ASSERT_EQ(1, poll(&p, 1, 5000));
	ASSERT_EQ((ssize_t)sizeof(msg),
		  recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, (void *)&from,
			   &fromlen));
	EXPECT_EQ(0, memcmp(buf, msg, sizeof(msg)));
	EXPECT_EQ(htons(LO_PORT), from.sin_port);
	ASSERT_EQ(0, exo_net_stats(self->exo, id, &st));
	EXPECT_EQ(1u, st.packets);
	EXPECT_EQ(1u, st.replied);
	EXPECT_EQ(1u, stat0(exo_net_prog_map_fd(self->prog, "stats")));
	close(s);
}

/* A handler from a libbpf skeleton (no object file at run time): the
 * skeleton loads it, exo takes bpf_program__fd() of its program. */
TEST_F(net, skeleton_handler_on_lo)
{
	const char msg[] = "skeleton echo";
	struct exo_net_stats st;
	struct udp_echo_bpf *skel;
	struct pollfd p;
	unsigned int lo;
	char buf[64];
	uint32_t id, key = 0;
	uint64_t replies = 0;
	int s;

	NEED_NET();
	skel = udp_echo_bpf__open_and_load();
	ASSERT_NE(NULL, skel) TH_LOG("udp_echo_bpf__open_and_load: %s",
				     strerror(errno));
	ATTACH_LO(lo);
	ASSERT_EQ(0, exo_net_claim(self->exo, lo, ETH_P_IP, IPPROTO_UDP,
				   LO_PORT3,
				   bpf_program__fd(skel->progs.udp_echo),
				   &id));
	s = udp_socket(0);
	ASSERT_LE(0, s);
	ASSERT_EQ((ssize_t)sizeof(msg), udp_send(s, LO_PORT3, msg,
						 sizeof(msg)));
	p.fd = s;
	p.events = POLLIN;
	ASSERT_EQ(1, poll(&p, 1, 5000));
	ASSERT_EQ((ssize_t)sizeof(msg), recv(s, buf, sizeof(buf),
					     MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, msg, sizeof(msg)));
	ASSERT_EQ(0, exo_net_stats(self->exo, id, &st));
	EXPECT_EQ(1u, st.replied);
	EXPECT_EQ(0u, st.delivered);
	ASSERT_EQ(0, bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &key,
					 &replies));
	EXPECT_EQ(1u, replies);
	ASSERT_EQ(0, exo_net_unclaim(self->exo, id));
	close(s);
	udp_echo_bpf__destroy(skel);
}

/* The ICMP echo ASH answers an echo request in the kernel; the reply,
 * ICMP too, comes back through the same claim and goes to Linux. */
TEST_F(net, icmp_echo_ash_on_lo)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct echo_hdr req = { .type = ICMP_ECHO, .id = htons(0xe0e0),
				.seq = htons(1), .data = "ping from exo" };
	const struct echo_hdr *rep;
	const struct iphdr *ip;
	struct exo_net_stats st;
	struct pollfd p;
	unsigned int lo;
	uint8_t buf[256];
	uint32_t id;
	ssize_t n;
	int s, i;

	NEED_NET();
	LOAD("icmp_echo");
	ATTACH_LO(lo);
	ASSERT_EQ(0, exo_net_claim(self->exo, lo, ETH_P_IP, IPPROTO_ICMP, 0,
				   exo_net_prog_fd(self->prog), &id));
	s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	ASSERT_LE(0, s);
	req.checksum = htons(csum(&req, sizeof(req)));
	ASSERT_EQ((ssize_t)sizeof(req),
		  sendto(s, &req, sizeof(req), 0, (void *)&to, sizeof(to)));

	/* A raw socket sees every ICMP packet Linux gets: find the reply. */
	for (i = 0; i < 4; i++) {
		p.fd = s;
		p.events = POLLIN;
		ASSERT_EQ(1, poll(&p, 1, 5000));
		n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
		ASSERT_LT((ssize_t)sizeof(*ip), n);
		ip = (const void *)buf;
		rep = (const void *)(buf + ip->ihl * 4);
		if (rep->type == ICMP_ECHOREPLY)
			break;
	}
	ASSERT_EQ(ICMP_ECHOREPLY, rep->type);
	EXPECT_EQ(req.id, rep->id);
	EXPECT_EQ(0, memcmp(rep->data, req.data, sizeof(req.data)));
	EXPECT_EQ(0, csum(rep, sizeof(*rep)));
	ASSERT_EQ(0, exo_net_stats(self->exo, id, &st));
	EXPECT_EQ(2u, st.packets);	/* the request and the reply */
	EXPECT_EQ(1u, st.replied);
	EXPECT_EQ(1u, st.passed);
	close(s);
}

/*
 * A frame from the transmit ring, from a claimed port, reaches a Linux
 * socket on another port. It comes in on lo with no route attached, as
 * from a wire: Linux takes 127.0.0.1 for a martian destination then
 * unless lo has route_localnet, and a local source for a martian too, so
 * it comes from IP_B.
 */
TEST_F(net, tx_to_a_linux_socket)
{
	static const uint8_t lo_mac[ETH_ALEN];	/* lo's address: zero */
	struct exo_net_opts o = { .sz = sizeof(o), .rx_slots = 2,
				  .tx_slots = 4 };
	uint32_t id, rejected = 0;
	char buf[64];
	unsigned int lo;
	struct pollfd p;
	uint8_t *slot;
	size_t len;
	int s, fd;

	NEED_NET();
	ASSERT_EQ(0, exo_net_open(self->exo, &o, &self->net));
	ATTACH_LO(lo);
	ASSERT_EQ(0, exo_net_claim(self->exo, lo, ETH_P_IP, IPPROTO_UDP,
				   LO_PORT3, -1, &id));
	fd = open(LOCALNET, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, read(fd, &self->localnet, 1));
	close(fd);
	ASSERT_EQ(0, exo_write_str(LOCALNET, "1"));
	s = udp_socket(LO_PORT2);
	ASSERT_LE(0, s);

	slot = exo_net_tx_slot(self->net);
	ASSERT_NE(NULL, slot);
	len = mk_udp(slot, lo_mac, lo_mac, IP_B, INADDR_LOOPBACK, LO_PORT3,
		     LO_PORT2, 0, NULL);
	ASSERT_EQ(0, exo_net_tx_commit(self->net, lo, len));
	/* And one from a port we did not claim: refused. */
	slot = exo_net_tx_slot(self->net);
	ASSERT_NE(NULL, slot);
	len = mk_udp(slot, lo_mac, lo_mac, IP_B, INADDR_LOOPBACK,
		     LO_PORT3 + 10, LO_PORT2, 0, NULL);
	ASSERT_EQ(0, exo_net_tx_commit(self->net, lo, len));

	EXPECT_EQ(1, exo_net_tx_flush(self->net, &rejected));
	EXPECT_EQ(1u, rejected);
	EXPECT_EQ(1u, exo_net_tx_ring(self->net)->sent);

	p.fd = s;
	p.events = POLLIN;
	ASSERT_EQ(1, poll(&p, 1, 5000));
	ASSERT_EQ(20, recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, "exo udp payload 0123", 20));
	EXPECT_EQ(-1, recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	close(s);
}

TEST_HARNESS_MAIN
