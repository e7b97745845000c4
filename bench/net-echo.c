// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * ASH-ECHO-B: the round trip of a UDP echo while B processes spin on the
 * guest's CPUs. A client on the peer host sends a datagram and waits for
 * the answer; one round is one such ping-pong, checked byte for byte.
 *
 *   exo    the udp_echo handler (bpf-filters/udp_echo.bpf.c, loaded with
 *          libbpf from /bpf/udp_echo.bpf.o) holds the port's claim and
 *          answers in the kernel (EXO_NET_REPLY), in the softirq that
 *          receives the request: no process is woken
 *   Linux  a process in a recvfrom(2)/sendto(2) loop on a UDP socket bound
 *          to the same port number (on the UDP pair): it must be woken and
 *          scheduled among the busy ones
 *
 * The client runs SCHED_FIFO: it stands for the remote host, whose own
 * scheduling is not what is measured. The server and the busy processes
 * are ordinary (SCHED_OTHER, nice 0), on the client's CPU like every
 * process of the benchmark (exo-net-bench.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>

#include <bpf/libbpf.h>
#include <libexo.h>

#include "net-bench.h"

#define ECHO_OBJ	"/bpf/udp_echo.bpf.o"
#define MAX_BUSY	64

static struct bpf_object *obj;
static struct exo *exo;
static uint32_t claim;
static pid_t server = -1;
static pid_t busy[MAX_BUSY];
static unsigned int nbusy;
static int client[2] = { -1, -1 };	/* [NE_ASH], [NE_LINUX] */
static uint64_t ash_rounds;

static void check(int ret, const char *what)
{
	if (ret < 0)
		die("%s: %s", what, strerror(errno));
}

static int exo_net_ioctl(unsigned long cmd, void *arg)
{
	return ioctl(exo_fd(exo), cmd, arg) < 0 ? -errno : 0;
}

/* The verifier checks the handler here, at load. */
static const char *load_ash(int *fd)
{
	static char why[160];
	struct bpf_program *prog;
	int err;

	if (access(ECHO_OBJ, R_OK)) {
		snprintf(why, sizeof(why), "%s: %s", ECHO_OBJ,
			 strerror(errno));
		return why;
	}
	obj = bpf_object__open_file(ECHO_OBJ, NULL);
	if (!obj)
		die("bpf_object__open_file(%s): %s", ECHO_OBJ,
		    strerror(errno));
	err = bpf_object__load(obj);
	if (err)
		die("bpf_object__load(%s): %s (the verifier's log is above)",
		    ECHO_OBJ, strerror(-err));
	prog = bpf_object__next_program(obj, NULL);
	if (!prog)
		die("%s holds no program", ECHO_OBJ);
	*fd = bpf_program__fd(prog);
	return NULL;
}

static void start_server(void)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(NB_ECHO_PORT),
		.sin_addr = nb_links[NB_UDP].addr,
	};
	struct sockaddr_in from;
	socklen_t flen;
	char buf[2048];
	ssize_t n;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	check(fd, "socket");
	check(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), "bind(echo)");
	server = fork();
	check(server, "fork");
	if (server) {
		close(fd);
		return;
	}
	for (;;) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			     &flen);
		if (n < 0)
			die("echo server: recvfrom: %s", strerror(errno));
		if (sendto(fd, buf, n, 0, (struct sockaddr *)&from, flen) != n)
			die("echo server: sendto: %s", strerror(errno));
	}
}

static int connect_client(const struct nb_link *l)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(NB_ECHO_PORT),
		.sin_addr = l->addr,
	};
	struct timeval tv = { .tv_sec = 2 };
	int fd = nb_peer_socket(AF_INET, SOCK_DGRAM, 0);

	check(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
	      "SO_RCVTIMEO");
	check(connect(fd, (struct sockaddr *)&to, sizeof(to)),
	      "connect(client)");
	return fd;
}

const char *ne_init(void)
{
	struct exo_net_attach a = {
		.size = sizeof(a), .ifindex = nb_links[NB_EXO].ifindex,
	};
	struct exo_net_claim cl;
	const char *why;
	int prog_fd, err;

	err = exo_open(&exo);
	if (err)
		die("exo_open: %s", strerror(-err));
	if (!(exo_api(exo)->features & EXO_FEAT_NET))
		return "exo.ko has no network interface (EXO_FEAT_NET)";
	why = load_ash(&prog_fd);
	if (why)
		return why;
	err = exo_net_ioctl(EXO_IOC_NET_ATTACH, &a);
	if (err)
		die("EXO_IOC_NET_ATTACH: %s", strerror(-err));
	memset(&cl, 0, sizeof(cl));
	cl.size = sizeof(cl);
	cl.ifindex = nb_links[NB_EXO].ifindex;
	cl.ethertype = ETH_P_IP;
	cl.ip_proto = IPPROTO_UDP;
	cl.port = NB_ECHO_PORT;
	cl.abi = EXO_NET_ABI;
	cl.prog_fd = prog_fd;
	err = exo_net_ioctl(EXO_IOC_NET_CLAIM, &cl);
	if (err)
		die("EXO_IOC_NET_CLAIM (udp_echo): %s", strerror(-err));
	claim = cl.id;
	start_server();
	client[NE_ASH] = connect_client(&nb_links[NB_EXO]);
	client[NE_LINUX] = connect_client(&nb_links[NB_UDP]);
	return NULL;
}

void ne_trial(struct bench_col *c, double *out)
{
	static uint64_t seq;
	uint64_t msg[4], back[5], t0;
	int fd = client[c->variant];
	ssize_t n;

	msg[0] = ++seq;
	msg[1] = ~seq;
	msg[2] = c->variant;
	msg[3] = 0x65786f2d6e657421ull;
	t0 = bench_now();
	check(send(fd, msg, sizeof(msg), 0), "send");
	n = recv(fd, back, sizeof(back), 0);
	out[0] = bench_since(t0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		die("%s: no echo within 2 s", c->name);
	check(n, "recv");
	if (n != sizeof(msg) || memcmp(msg, back, sizeof(msg)))
		die("%s: the echo differs from the request (%zd bytes)",
		    c->name, n);
	if (c->variant == NE_ASH)
		ash_rounds++;
}

void ne_check_ash(void)
{
	struct exo_net_stats st;
	int err;

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	st.id = claim;
	err = exo_net_ioctl(EXO_IOC_NET_STATS, &st);
	if (err)
		die("EXO_IOC_NET_STATS: %s", strerror(-err));
	if (st.replied != ash_rounds || st.packets != ash_rounds ||
	    st.delivered || st.passed || st.dropped || st.bad_verdict)
		die("exo: udp_echo's claim counted %llu packets, %llu replied,"
		    " %llu delivered, %llu passed, %llu dropped, %llu bad "
		    "verdicts; the client made %llu round trips",
		    (unsigned long long)st.packets,
		    (unsigned long long)st.replied,
		    (unsigned long long)st.delivered,
		    (unsigned long long)st.passed,
		    (unsigned long long)st.dropped,
		    (unsigned long long)st.bad_verdict,
		    (unsigned long long)ash_rounds);
}

void ne_busy_start(unsigned int n)
{
	pid_t pid;

	if (n > MAX_BUSY)
		die("internal: %u busy processes", n);
	for (nbusy = 0; nbusy < n; nbusy++) {
		pid = fork();
		check(pid, "fork");
		if (!pid)
			for (;;)
				__asm__ volatile("" ::: "memory");
		busy[nbusy] = pid;
	}
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void ne_busy_stop(void)
{
	while (nbusy)
		reap(busy[--nbusy]);
}

void ne_fini(void)
{
	ne_busy_stop();
	if (server > 0)
		reap(server);
	server = -1;
	if (client[0] >= 0)
		close(client[0]);
	if (client[1] >= 0)
		close(client[1]);
	client[0] = client[1] = -1;
	exo_close(exo);
	exo = NULL;
	bpf_object__close(obj);
	obj = NULL;
}
