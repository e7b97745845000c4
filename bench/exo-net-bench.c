// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-net-bench: exo's network path against stock Linux's, in one
 * process, interleaved round by round (the runner of bench.c):
 *
 *   DEMUX-N     per packet: a burst of UDP datagrams round-robin over N
 *               claimed flows (N = 1, 10, 100, 1000), received by exo's
 *               claims into the receive ring, by N AF_PACKET sockets with
 *               classic BPF filters, and by N UDP sockets (net-demux.c)
 *   ASH-ECHO-B  the round trip of a UDP echo answered by exo's in-kernel
 *               udp_echo handler and by a UDP socket server process, with
 *               B = 0, 1, 2, 4, 8 busy processes spinning (net-echo.c)
 *
 * The peer host is a network namespace behind veth pairs (net-setup.c).
 * Prints the median and the 99th percentile of each column, the ratio exo
 * / Linux and the accelerator (exo.accel=), and for DEMUX how many packets
 * each column lost. A benchmark, not a test: timings are never judged,
 * but a failed call, a packet delivered to the wrong flow or a wrong echo
 * stops it with exit status 1. Needs root, /dev/exo with EXO_FEAT_NET and
 * veth; the rows are skipped, with the reason, when one is missing.
 *
 * Usage: exo-net-bench [SCALE]: SCALE (default 1, or exo.bench_scale= on
 * the kernel command line) multiplies every round count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "net-bench.h"

#define ND_COLS(n) \
	{ { "exo", nd_setup_exo, nd_trial_exo, nd_teardown_exo, n, NB_EXO, \
	    NULL, NULL, { NULL } }, \
	  { "AF_PACKET", nd_setup_packet, nd_trial_sock, nd_teardown_sock, \
	    n, NB_PKT, NULL, NULL, { NULL } }, \
	  { "UDP", nd_setup_udp, nd_trial_sock, nd_teardown_sock, n, NB_UDP, \
	    NULL, NULL, { NULL } } }
/* AF_PACKET's thousand filters make DEMUX-1000's rounds long. */
static struct bench_row demux[] = {
	{ { "DEMUX-1" }, 1, 31, NULL, ND_COLS(1) },
	{ { "DEMUX-10" }, 1, 31, NULL, ND_COLS(10) },
	{ { "DEMUX-100" }, 1, 31, NULL, ND_COLS(100) },
	{ { "DEMUX-1000" }, 1, 7, NULL, ND_COLS(1000) },
};

#define NE_COLS \
	{ { "exo-ASH", NULL, ne_trial, NULL, 0, NE_ASH, NULL, NULL, \
	    { NULL } }, \
	  { "UDP-server", NULL, ne_trial, NULL, 0, NE_LINUX, NULL, NULL, \
	    { NULL } } }
#define ECHO_REPS	3000

static const unsigned int busy[] = { 0, 1, 2, 4, 8 };
static struct bench_row echo[] = {
	{ { "ASH-ECHO-0" }, 1, ECHO_REPS, NULL, NE_COLS },
	{ { "ASH-ECHO-1" }, 1, ECHO_REPS, NULL, NE_COLS },
	{ { "ASH-ECHO-2" }, 1, ECHO_REPS, NULL, NE_COLS },
	{ { "ASH-ECHO-4" }, 1, ECHO_REPS, NULL, NE_COLS },
	{ { "ASH-ECHO-8" }, 1, ECHO_REPS, NULL, NE_COLS },
};

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))

static unsigned int scaled(unsigned int reps, double scale)
{
	return reps * scale < 3 ? 3 : reps * scale;
}

static void print_lost(const struct bench_row *row)
{
	uint64_t lost, sent;
	unsigned int i;

	if (row->cols[0].skipped)
		return;	/* no round ran */
	printf("%-13s", row->names[0]);
	for (i = 0; i < BENCH_MAX_COLS && row->cols[i].name; i++) {
		nd_lost(&row->cols[i], &lost, &sent);
		printf("%s%s lost %llu of %llu", i ? ", " : " lost packets: ",
		       row->cols[i].name, (unsigned long long)lost,
		       (unsigned long long)sent);
		free(row->cols[i].priv);
	}
	printf(" (%s)\n", bench_tag());
}

static void run_demux(double scale)
{
	unsigned int i;
	uint64_t t0;

	for (i = 0; i < NROWS(demux); i++) {
		t0 = bench_now();
		demux[i].reps = scaled(demux[i].reps, scale);
		printf("# %s: %u rounds of %u UDP datagrams round-robin over "
		       "%u ports, %u to a sendmmsg; time per packet received\n",
		       demux[i].names[0], demux[i].reps, NB_DEMUX_BURST,
		       demux[i].cols[0].npages, NB_SEND_BATCH);
		bench_run(&demux[i], 1);
		print_lost(&demux[i]);
		printf("# %s took %.0fs\n", demux[i].names[0],
		       (bench_now() - t0) / 1e9);
	}
}

static void run_echo(double scale)
{
	struct sched_param sp = { .sched_priority = 10 };
	unsigned int i;
	const char *why;
	uint64_t t0;

	why = ne_init();
	if (why) {
		for (i = 0; i < NROWS(echo); i++)
			printf("%-13s skipped: %s (%s)\n", echo[i].names[0],
			       why, bench_tag());
		ne_fini();
		return;
	}
	/* The client is the remote host: its own scheduling is not timed. */
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
		die("sched_setscheduler(SCHED_FIFO): %s", strerror(errno));
	for (i = 0; i < NROWS(echo); i++) {
		t0 = bench_now();
		echo[i].reps = scaled(echo[i].reps, scale);
		printf("# %s: %u ping-pongs each with %u busy processes; "
		       "client SCHED_FIFO\n", echo[i].names[0], echo[i].reps,
		       busy[i]);
		ne_busy_start(busy[i]);
		bench_run(&echo[i], echo[i].reps / 10);
		ne_busy_stop();
		ne_check_ash();
		printf("# %s took %.0fs\n", echo[i].names[0],
		       (bench_now() - t0) / 1e9);
	}
	sp.sched_priority = 0;
	if (sched_setscheduler(0, SCHED_OTHER, &sp))
		die("sched_setscheduler(SCHED_OTHER): %s", strerror(errno));
	ne_fini();
}

int main(int argc, char **argv)
{
	double scale;
	const char *why;
	struct utsname u;
	char date[32];
	time_t now = time(NULL);
	cpu_set_t set;
	uint64_t t0;
	unsigned int i;
	int cpu;

	scale = bench_start(argc, argv);
	t0 = bench_now();
	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	printf("exo-net-bench: accelerator %s, kernel %s, %ld cpus, %s\n",
	       bench_accel(), u.release, sysconf(_SC_NPROCESSORS_ONLN), date);
	printf("# columns interleaved round by round; times are wall-clock "
	       "(CLOCK_MONOTONIC); ratio = exo median / first Linux "
	       "column's median\n");
	/* DEMUX-1000's sockets, and room. */
	if (setrlimit(RLIMIT_NOFILE, &(struct rlimit){ 4096, 4096 }))
		die("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	/*
	 * One CPU for every process: the sender, the receive path it drives
	 * (softirq, on the sending CPU), the receiver, the echo server and
	 * the busy processes all share it, so a burst's time is the sum of
	 * its work and a wake-up is a switch on this CPU, not an IPI to the
	 * other vCPU, whose cost under TCG is the host scheduler's (an idle
	 * vCPU may sleep until its next tick). The last CPU allowed, so that
	 * every run uses the same one.
	 */
	if (sched_getaffinity(0, sizeof(set), &set))
		die("sched_getaffinity: %s", strerror(errno));
	for (cpu = CPU_SETSIZE - 1; cpu > 0 && !CPU_ISSET(cpu, &set); cpu--)
		;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("pinning to cpu %d: %s", cpu, strerror(errno));
	printf("# every process pinned to cpu %d\n", cpu);

	why = nb_setup();
	if (why) {
		for (i = 0; i < NROWS(demux); i++)
			printf("%-13s skipped: %s (%s)\n", demux[i].names[0],
			       why, bench_tag());
		for (i = 0; i < NROWS(echo); i++)
			printf("%-13s skipped: %s (%s)\n", echo[i].names[0],
			       why, bench_tag());
	} else {
		printf("# peer host: a network namespace behind 3 veth pairs "
		       "(exo, AF_PACKET, UDP: one each)\n");
		run_demux(scale);
		run_echo(scale);
	}
	printf("exo-net-bench: %.0fs in all (%s)\n", (bench_now() - t0) / 1e9,
	       bench_accel());
	printf("exo-net-bench: OK\n");
	return 0;
}
