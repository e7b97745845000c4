// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-net-demo: a library OS on the network.
 *
 * Step by step: a veth pair with its far end in a network namespace as
 * the peer host; exo attached to the near end; a UDP echo server run
 * entirely by the library OS (libexo's user-level stack) answering the
 * peer's socat; then two downloaded handlers (ASHs), verified by the
 * kernel when loaded, answering the peer's ping and socat inside the
 * kernel while the library OS sleeps; and a teardown after which the
 * interface is Linux's again. Exits 1 on anything unexpected, and ends
 * with "exo-net-demo: OK". Needs root, the exo module, ip(8), ping(8),
 * socat(1), and the handlers' objects in /bpf (or the directory given as
 * the first argument).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libexo.h>

#define HOST_IF		"exod0"
#define PEER_IF		"exod1"
#define PEER_NS		"exodemo"
#define HOST_IP		"10.0.4.1"
#define PEER_IP		"10.0.4.2"
#define ECHO_PORT	7777
#define ETHERTYPE_IP	0x0800
#define PROTO_ICMP	1
#define PROTO_UDP	17

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "exo-net-demo: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* Exit closes the context: exo detaches and drops every claim. */
	system("$IP netns del " PEER_NS " 2>/dev/null;"
	       " $IP link del " HOST_IF " 2>/dev/null");
	exit(1);
}

static void check(int ret, const char *what)
{
	if (ret < 0)
		die("%s: %s", what, strerror(-ret));
}

static int step_nr;

static void step(const char *title)
{
	printf("\n[%d] %s\n", ++step_nr, title);
	fflush(stdout);
}

/*
 * Run a shell command, its output indented: its exit status. Commands
 * name Debian's tools as $IP, $PING and $SOCAT (set by main()): a busybox
 * shell may run its own applet of the same name whatever PATH says.
 */
static int run(const char *cmd)
{
	static const char *const vars[] = { "$IP", "$PING", "$SOCAT" };
	char line[256];
	const char *c;
	unsigned int i;
	FILE *p;
	int st;

	printf("  $ ");
	for (c = cmd; *c; c++) {
		for (i = 0; i < 3; i++)
			if (!strncmp(c, vars[i], strlen(vars[i])))
				break;
		if (i < 3) {	/* show the tool's name, not the variable */
			for (c++; *c >= 'A' && *c <= 'Z'; c++)
				putchar(*c - 'A' + 'a');
			c--;
		} else {
			putchar(*c);
		}
	}
	putchar('\n');
	fflush(stdout);
	p = popen(cmd, "r");
	if (!p)
		die("popen: %s", strerror(errno));
	while (fgets(line, sizeof(line), p))
		printf("    %s", line);
	st = pclose(p);
	fflush(stdout);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void must_run(const char *cmd)
{
	int rc = run(cmd);

	if (rc)
		die("'%s' exited with %d", cmd, rc);
}

/* Debian's tool @name in a standard directory, into environment @var. */
static bool find_tool(const char *name, const char *var)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin",
					    "/bin" };
	char path[64], real[PATH_MAX];
	unsigned int i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) || !realpath(path, real) ||
		    strstr(real, "busybox"))
			continue;
		return setenv(var, path, 1) == 0;
	}
	return false;
}

/* -------------------------------------------------------------------------
 * The library OS's UDP echo server, on its own thread.
 */

struct server {
	struct exo_stack *stack;
	int stop;
	int err;
};

static void echo(struct exo_stack *stack, const struct exo_udp_dgram *d,
		 void *arg)
{
	struct server *srv = arg;
	char from[INET_ADDRSTRLEN];
	int ret;

	inet_ntop(AF_INET, &d->saddr, from, sizeof(from));
	printf("  library OS: %" PRIu32 " bytes from %s:%u to port %u,"
	       " echoed by exo_stack_udp_send()\n", d->len, from, d->sport,
	       d->dport);
	fflush(stdout);
	ret = exo_stack_udp_send(stack, d->saddr, d->sport, d->dport, d->data,
				 d->len);
	if (ret && !srv->err)
		srv->err = ret;
}

static void *serve(void *arg)
{
	struct server *srv = arg;
	int ret;

	while (!__atomic_load_n(&srv->stop, __ATOMIC_ACQUIRE)) {
		ret = exo_stack_poll(srv->stack, 50);
		if (ret < 0) {
			srv->err = ret;
			break;
		}
	}
	return NULL;
}

static void user_level_echo(struct exo_net *net, unsigned int ifindex)
{
	struct exo_stack_opts o = {
		.sz = sizeof(o), .ifindex = ifindex,
	};
	struct server srv = { 0 };
	struct exo_stack_stats st;
	pthread_t thr;

	step("The library OS runs a UDP echo server on port 7777 itself");
	inet_pton(AF_INET, HOST_IP, &o.ip);
	check(exo_stack_create(net, &o, &srv.stack), "exo_stack_create");
	check(exo_stack_udp_bind(srv.stack, ECHO_PORT, echo, &srv),
	      "exo_stack_udp_bind");
	printf("  claimed UDP port %d on " HOST_IF " (no handler: every"
	       " datagram is delivered to the receive ring)\n", ECHO_PORT);
	if (pthread_create(&thr, NULL, serve, &srv))
		die("pthread_create");
	must_run("printf 'hello, library OS' | $IP netns exec " PEER_NS
		 " timeout 10 $SOCAT -t 2 - UDP:" HOST_IP ":7777"
		 " | grep -x 'hello, library OS'");
	__atomic_store_n(&srv.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thr, NULL);
	check(srv.err, "the echo server");
	check(exo_stack_stats(srv.stack, &st), "exo_stack_stats");
	printf("  stack: %" PRIu64 " frames in, %" PRIu64 " datagrams to the"
	       " server, %" PRIu64 " sent, %" PRIu64 " bad, %" PRIu64
	       " failed\n", st.rx, st.udp_rx, st.udp_tx, st.rx_bad,
	       st.tx_fail);
	if (st.udp_rx != 1 || st.udp_tx != 1)
		die("the server saw %" PRIu64 " datagrams, sent %" PRIu64,
		    st.udp_rx, st.udp_tx);
	exo_stack_destroy(srv.stack);
	printf("  exo_stack_destroy(): port 7777 unclaimed\n");
}

/* -------------------------------------------------------------------------
 * The same, answered in the kernel by downloaded handlers.
 */

static struct exo_net_prog *load(const char *dir, const char *name)
{
	struct exo_net_prog *prog;
	char path[256], log[4096] = "";
	int ret;

	snprintf(path, sizeof(path), "%s/%s.bpf.o", dir, name);
	ret = exo_net_prog_load(path, NULL, &prog, log, sizeof(log));
	if (ret)
		die("exo_net_prog_load(%s): %s\n%s", path, strerror(-ret), log);
	printf("  loaded %s: the verifier accepted it (prog fd %d)\n", path,
	       exo_net_prog_fd(prog));
	return prog;
}

static void kernel_echo(struct exo *exo, struct exo_net *net,
			unsigned int ifindex, const char *dir)
{
	const struct exo_net_ring_header *rx = exo_net_rx_ring(net);
	struct exo_net_prog *icmp, *udp;
	struct exo_net_stats si, su;
	uint32_t icmp_id, udp_id, prod;

	step("Download two handlers (ASHs): ICMP echo and UDP echo");
	icmp = load(dir, "icmp_echo");
	udp = load(dir, "udp_echo");
	check(exo_net_claim(exo, ifindex, ETHERTYPE_IP, PROTO_ICMP, 0,
			    exo_net_prog_fd(icmp), &icmp_id),
	      "exo_net_claim(ICMP)");
	check(exo_net_claim(exo, ifindex, ETHERTYPE_IP, PROTO_UDP, ECHO_PORT,
			    exo_net_prog_fd(udp), &udp_id),
	      "exo_net_claim(UDP 7777)");
	printf("  claim %" PRIu32 ": IPv4 ICMP -> icmp_echo;"
	       " claim %" PRIu32 ": UDP 7777 -> udp_echo\n", icmp_id, udp_id);

	step("The peer pings " HOST_IP " and talks to port 7777: the kernel"
	     " answers, the library OS sleeps");
	prod = __atomic_load_n(&rx->prod, __ATOMIC_ACQUIRE);
	must_run("$IP netns exec " PEER_NS " $PING -c 3 -i 0.2 -W 2 " HOST_IP);
	must_run("printf 'hello, ASH' | $IP netns exec " PEER_NS
		 " timeout 10 $SOCAT -t 2 - UDP:" HOST_IP ":7777"
		 " | grep -x 'hello, ASH'");
	check(exo_net_stats(exo, icmp_id, &si), "exo_net_stats(ICMP)");
	check(exo_net_stats(exo, udp_id, &su), "exo_net_stats(UDP)");
	printf("  ICMP claim: %" PRIu64 " packets, %" PRIu64 " replied in the"
	       " kernel, %" PRIu64 " delivered, %" PRIu64 " passed\n",
	       (uint64_t)si.packets, (uint64_t)si.replied,
	       (uint64_t)si.delivered, (uint64_t)si.passed);
	printf("  UDP claim:  %" PRIu64 " packets, %" PRIu64 " replied in the"
	       " kernel, %" PRIu64 " delivered, %" PRIu64 " passed\n",
	       (uint64_t)su.packets, (uint64_t)su.replied,
	       (uint64_t)su.delivered, (uint64_t)su.passed);
	if (si.replied < 3 || su.replied < 1)
		die("the handlers answered %" PRIu64 " pings and %" PRIu64
		    " datagrams", (uint64_t)si.replied,
		    (uint64_t)su.replied);
	if (si.delivered || su.delivered ||
	    __atomic_load_n(&rx->prod, __ATOMIC_ACQUIRE) != prod ||
	    exo_net_rx_wait(net, 0) != 0)
		die("a packet reached the library OS's receive ring");
	printf("  receive ring: producer index unchanged at %" PRIu32
	       ", nothing to read: the library OS was never woken\n", prod);

	check(exo_net_unclaim(exo, icmp_id), "exo_net_unclaim(ICMP)");
	check(exo_net_unclaim(exo, udp_id), "exo_net_unclaim(UDP)");
	exo_net_prog_close(icmp);
	exo_net_prog_close(udp);
	printf("  both claims given up, handlers released\n");
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/bpf";
	static const char *const tools[][2] = {
		{ "ip", "IP" }, { "ping", "PING" }, { "socat", "SOCAT" },
	};
	struct exo_net_opts no = {
		.sz = sizeof(no), .rx_slots = 64, .tx_slots = 64,
	};
	unsigned int ifindex, i;
	struct exo_net *net;
	struct exo *exo;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("exo-net-demo: a library OS on the network\n");
	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if (!find_tool(tools[i][0], tools[i][1])) {
			printf("exo-net-demo: SKIPPED: no %s here (Debian's"
			       " iproute2, iputils-ping and socat are"
			       " needed)\n", tools[i][0]);
			return 0;
		}
	}

	step("A veth pair: " HOST_IF " (" HOST_IP ") here, " PEER_IF " ("
	     PEER_IP ") in network namespace " PEER_NS ", the peer host");
	run("$IP netns del " PEER_NS " 2>/dev/null;"
	    " $IP link del " HOST_IF " 2>/dev/null; true");
	must_run("$IP link add " HOST_IF " type veth peer name " PEER_IF);
	must_run("$IP netns add " PEER_NS);
	must_run("$IP link set " PEER_IF " netns " PEER_NS);
	must_run("$IP addr add " HOST_IP "/24 dev " HOST_IF);
	must_run("$IP link set " HOST_IF " up");
	must_run("$IP -n " PEER_NS " addr add " PEER_IP "/24 dev " PEER_IF);
	must_run("$IP -n " PEER_NS " link set " PEER_IF " up");
	must_run("$IP -n " PEER_NS " link set lo up");
	ifindex = if_nametoindex(HOST_IF);
	if (!ifindex)
		die("if_nametoindex(" HOST_IF "): %s", strerror(errno));

	step("Open a library OS context and attach exo to " HOST_IF);
	check(exo_open(&exo), "exo_open");
	check(exo_net_attach(exo, ifindex), "exo_net_attach");
	printf("  exo_net_attach() on ifindex %u: exo's rx handler sits on "
	       HOST_IF "; unclaimed traffic still goes to Linux\n", ifindex);
	check(exo_net_open(exo, &no, &net), "exo_net_open");
	printf("  receive and transmit rings: %" PRIu32 " + %" PRIu32
	       " slots in frames the library OS owns, mapped in its exo"
	       " VMA\n", exo_net_rx_ring(net)->nr_slots,
	       exo_net_tx_ring(net)->nr_slots);

	user_level_echo(net, ifindex);
	kernel_echo(exo, net, ifindex, dir);

	step("Tear down: close the context; " HOST_IF " is Linux's again");
	exo_net_close(net);
	exo_close(exo);
	must_run("$IP netns exec " PEER_NS " $PING -c 1 -W 2 " HOST_IP
		 " >/dev/null && echo answered by Linux");
	must_run("$IP netns del " PEER_NS);
	run("$IP link del " HOST_IF " 2>/dev/null; true");

	printf("\nexo-net-demo: OK\n");
	return 0;
}
