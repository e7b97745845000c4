// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-vm-bench: exo's virtual-memory primitives against stock Linux's, in
 * one process, interleaved round by round, with the operations of Appel &
 * Li (ASPLOS 1991) that the exokernel paper (SOSP 1995) measured:
 *
 *   TRAP       a write to a protected page, fixed by a user-level handler
 *   TRAP-MISS  a write to a page with no memory, supplied by the handler
 *   TRAP-UPCALL TRAP with exo's handler entered by an Aegis-style upcall
 *              (EXO_FAULT_MODE_UPCALL) instead of SIGBUS; APPEL1-UPCALL
 *              and APPEL2-UPCALL likewise
 *   TRAP-EVENT TRAP with a fault thread instead of a signal handler
 *   REFILL     a write to an unmapped page the kernel maps by itself (exo:
 *              from the library OS's page table; Linux: from the page cache)
 *   PROT1      protect 1 page; PROT100 protect 100 pages
 *   UNPROT100  unprotect 100 pages
 *   APPEL1     write a random protected page; the handler protects another
 *              page and unprotects this one (per access)
 *   APPEL2     protect 100 pages, write each in random order; the handler
 *              unprotects the faulting page (per page)
 *   DIRTY      report and clear the dirty pages of 4096, of which 256 were
 *              written; DIRTY-WRITE is the cost per page of those writes
 *              (Linux: soft-dirty, mprotect tracking, and from 6.7
 *              PAGEMAP_SCAN over userfaultfd's asynchronous write-protect)
 *   MAPn       map n pages and write each once
 *   REVOKE-RTn the round trip of a revocation request for n frames to a
 *              library OS that gives them back (Linux: an eventfd to a
 *              thread that drops n pages, and one back)
 *   ABORTn     exo's abort protocol taking n bound, filled frames, saving
 *              their contents (Linux: pwrite to a memfd, MADV_DONTNEED);
 *              RECOVERn restores the contents (Linux: pread)
 *
 * Prints the median and the 99th percentile of each column, the ratio
 * exo / Linux and the accelerator (exo.accel= on the kernel command line).
 * A benchmark, not a test: timings are never judged, but a failed call or
 * wrong data stops it with a message and exit status 1. Needs /dev/exo
 * with the VM interface, and root (pagemap, clear_refs, userfaultfd,
 * EXO_IOC_REVOKE); the revocation rows are skipped on a module without
 * EXO_FEAT_REVOKE.
 *
 * Usage: exo-vm-bench [SCALE]: SCALE (default 1, or exo.bench_scale= on
 * the kernel command line) multiplies every round count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "revoke-bench.h"
#include "vm-bench.h"

#define SMALL	100	/* Appel & Li's, and the exokernel paper's, 100 pages */

#define COL(name, setup, trial, teardown, n, variant) \
	{ name, setup, trial, teardown, n, variant, NULL, NULL, { NULL } }
#define LX(name, setup, trial, n, variant) \
	COL(name, setup, trial, lx_teardown, n, variant)
#define UF(name, setup, trial, n) COL(name, setup, trial, uf_teardown, n, 0)
#define EXO(setup, trial, n) \
	COL("exo", setup, trial, vx_teardown, n, VX_VIA_SIGBUS)
#define EXO_UP(setup, trial, n) \
	COL("exo", setup, trial, vx_teardown, n, VX_VIA_UPCALL)
#define RX_RT(n) COL("exo", rx_setup_rt, rx_rt, rx_teardown_rt, n, 0)
#define RL_RT(n) \
	COL("eventfd+MADV_DONTNEED", rl_setup_rt, rl_rt, rl_teardown, n, 0)
#define RX_AB(n) COL("exo", rx_setup_abort, rx_abort, rx_teardown_abort, n, 0)
#define RL_AB(n) \
	COL("memfd-pwrite+DONTNEED/pread", rl_setup_abort, rl_abort, \
	    rl_teardown, n, 0)

static struct bench_row rows[] = {
	{ { "TRAP" }, 1, 10000,
	  "write to a protected page; the handler unprotects it",
	  { EXO(vx_setup, vx_trap, 1),
	    LX("mprotect+SIGSEGV", lx_setup, lx_trap, 1, 0),
	    UF("uffd-wp", uf_setup, uf_trap, 1) } },
	{ { "TRAP-MISS" }, 1, 10000,
	  "write to a page with no memory; the handler supplies it",
	  { EXO(vx_setup, vx_trap_miss, 1),
	    LX("mprotect+SIGSEGV+zero-fill", lx_setup, lx_trap_miss, 1, 0),
	    UF("uffd-copy", uf_setup, uf_trap_miss, 1) } },
	{ { "TRAP-UPCALL" }, 1, 10000,
	  "TRAP, exo's handler entered by an upcall instead of SIGBUS",
	  { EXO_UP(vx_setup, vx_trap, 1),
	    LX("mprotect+SIGSEGV", lx_setup, lx_trap, 1, 0),
	    UF("uffd-wp", uf_setup, uf_trap, 1) } },
	{ { "TRAP-EVENT" }, 1, 10000,
	  "write to a protected page; a fault thread unprotects it",
	  { EXO(vx_setup_event, vx_trap_event, 1),
	    UF("uffd-wp", uf_setup, uf_trap, 1) } },
	{ { "REFILL" }, 1, 10000,
	  "write to a page the kernel maps again without asking anyone",
	  { EXO(vx_setup_stlb, vx_refill, 1),
	    LX("memfd-minor-fault", lx_setup_refill, lx_refill, 1,
	       LX_MAP_MEMFD) } },
	{ { "PROT1" }, 1, 10000, "protect 1 page (one call)",
	  { EXO(vx_setup, vx_prot, 1),
	    LX("mprotect", lx_setup, lx_prot, 1, 0),
	    UF("uffd-wp", uf_setup, uf_prot, 1) } },
	{ { "PROT100" }, 1, 5000, "protect 100 pages (one call)",
	  { EXO(vx_setup, vx_prot, SMALL),
	    LX("mprotect", lx_setup, lx_prot, SMALL, 0),
	    UF("uffd-wp", uf_setup, uf_prot, SMALL) } },
	{ { "UNPROT100" }, 1, 5000, "unprotect 100 pages (one call)",
	  { EXO(vx_setup, vx_unprot, SMALL),
	    LX("mprotect", lx_setup, lx_unprot, SMALL, 0),
	    UF("uffd-wp", uf_setup, uf_unprot, SMALL) } },
	{ { "APPEL1" }, 1, 10000,
	  "per access: trap, protect another page, unprotect this one",
	  { EXO(vx_setup_appel1, vx_appel1, SMALL),
	    LX("mprotect+SIGSEGV", lx_setup_appel1, lx_appel1, SMALL, 0),
	    UF("uffd-wp", uf_setup_appel1, uf_appel1, SMALL) } },
	{ { "APPEL2" }, 1, 500,
	  "per page: protect 100 pages, trap on each, unprotect it",
	  { EXO(vx_setup, vx_appel2, SMALL),
	    LX("mprotect+SIGSEGV", lx_setup, lx_appel2, SMALL, 0),
	    UF("uffd-wp", uf_setup, uf_appel2, SMALL) } },
	{ { "APPEL1-UPCALL" }, 1, 10000, "APPEL1, exo's handler entered by an upcall",
	  { EXO_UP(vx_setup_appel1, vx_appel1, SMALL),
	    LX("mprotect+SIGSEGV", lx_setup_appel1, lx_appel1, SMALL, 0),
	    UF("uffd-wp", uf_setup_appel1, uf_appel1, SMALL) } },
	{ { "APPEL2-UPCALL" }, 1, 500, "APPEL2, exo's handler entered by an upcall",
	  { EXO_UP(vx_setup, vx_appel2, SMALL),
	    LX("mprotect+SIGSEGV", lx_setup, lx_appel2, SMALL, 0),
	    UF("uffd-wp", uf_setup, uf_appel2, SMALL) } },
	{ { "DIRTY", "DIRTY-WRITE" }, 2, 500,
	  "report and clear the dirty bits of 4096 pages; DIRTY-WRITE: "
	  "each first write after it",
	  { EXO(vx_setup_dirty, vx_dirty, VM_BIG_PAGES),
	    LX("soft-dirty", lx_setup_softdirty, lx_softdirty, VM_BIG_PAGES, 0),
	    LX("mprotect-tracking", lx_setup_track, lx_track, VM_BIG_PAGES, 0),
	    COL("pagemap-scan", pm_setup_dirty, pm_dirty, pm_teardown,
		VM_BIG_PAGES, 0) } },
	{ { "MAP1" }, 1, 10000, "map 1 page and write it",
	  { EXO(vx_setup_empty, vx_map, 1),
	    LX("mmap+touch", lx_setup_map, lx_map, 1, LX_MAP_TOUCH),
	    LX("mmap+POPULATE", lx_setup_map, lx_map, 1, LX_MAP_POPULATE),
	    LX("memfd+POPULATE", lx_setup_map, lx_map, 1, LX_MAP_MEMFD) } },
	{ { "MAP64" }, 1, 3000, "map 64 pages and write each",
	  { EXO(vx_setup_empty, vx_map, 64),
	    LX("mmap+touch", lx_setup_map, lx_map, 64, LX_MAP_TOUCH),
	    LX("mmap+POPULATE", lx_setup_map, lx_map, 64, LX_MAP_POPULATE),
	    LX("memfd+POPULATE", lx_setup_map, lx_map, 64, LX_MAP_MEMFD) } },
	{ { "MAP4096" }, 1, 200, "map 4096 pages and write each",
	  { EXO(vx_setup_empty, vx_map, VM_BIG_PAGES),
	    LX("mmap+touch", lx_setup_map, lx_map, VM_BIG_PAGES, LX_MAP_TOUCH),
	    LX("mmap+POPULATE", lx_setup_map, lx_map, VM_BIG_PAGES,
	       LX_MAP_POPULATE),
	    LX("memfd+POPULATE", lx_setup_map, lx_map, VM_BIG_PAGES,
	       LX_MAP_MEMFD) } },
	{ { "REVOKE-RT1" }, 1, 2000,
	  "ask for 1 frame back; the handler unbinds and frees it",
	  { RX_RT(1), RL_RT(1) } },
	{ { "REVOKE-RT64" }, 1, 500,
	  "ask for 64 frames back; the handler unbinds and frees them",
	  { RX_RT(64), RL_RT(64) } },
	{ { "ABORT1", "RECOVER1" }, 2, 1000,
	  "take 1 bound frame, saving it; RECOVER1: restore it",
	  { RX_AB(1), RL_AB(1) } },
	{ { "ABORT64", "ABORT64-FRAME", "RECOVER64-FRAME" }, 3, 300,
	  "take 64 bound frames, saving them (per call, per frame); "
	  "RECOVER64-FRAME: restore them (per frame)",
	  { RX_AB(64), RL_AB(64) } },
	{ { "ABORT1024", "ABORT1024-FRAME", "RECOVER1024-FRAME" }, 3, 50,
	  "take 1024 bound frames, saving them (per call, per frame); "
	  "RECOVER1024-FRAME: restore them (per frame)",
	  { RX_AB(1024), RL_AB(1024) } },
};

void vm_pick(unsigned int *pages, unsigned int npages)
{
	bench_shuffle(pages, npages);
}

void vm_check_dirty(const char *who, const uint64_t *bitmap, int reported,
		    unsigned int npages, const unsigned int *written,
		    unsigned int nwritten)
{
	static uint64_t want[VM_BIG_PAGES / 64];
	unsigned int i;
	int w, got;

	if (npages > VM_BIG_PAGES)
		die("internal: DIRTY over %u pages", npages);
	memset(want, 0, sizeof(want));
	for (i = 0; i < nwritten; i++)
		want[written[i] / 64] |= 1ull << (written[i] % 64);
	for (i = 0; i < npages; i++) {
		w = !!(want[i / 64] & (1ull << (i % 64)));
		got = !!(bitmap[i / 64] & (1ull << (i % 64)));
		if (w != got)
			die("%s: DIRTY says page %u is %s, but it was %s", who,
			    i, got ? "dirty" : "clean",
			    w ? "written" : "not written");
	}
	if (reported != (int)nwritten)
		die("%s: DIRTY counted %d dirty pages, %u were written", who,
		    reported, nwritten);
}

int main(int argc, char **argv)
{
	double scale;
	struct utsname u;
	char date[32];
	time_t now = time(NULL);
	uint64_t t0;
	unsigned int i, warmup;
	cpu_set_t set;
	int cpu;

	scale = bench_start(argc, argv);
	t0 = bench_now();
	/* 4 KiB pages everywhere: exo binds 4 KiB frames. */
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		die("prctl(PR_SET_THP_DISABLE): %s", strerror(errno));
	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	printf("exo-vm-bench: accelerator %s, kernel %s, %ld cpus, %s\n",
	       bench_accel(), u.release, sysconf(_SC_NPROCESSORS_ONLN), date);
	printf("# columns interleaved round by round; times are wall-clock "
	       "(CLOCK_MONOTONIC); ratio = exo median / Linux median\n");

	/*
	 * One CPU for every thread: a fault thread's handoff (userfaultfd,
	 * exo's fault events) is then a switch on this CPU, not a wake-up of
	 * another vCPU, which under TCG costs whatever the host's scheduler
	 * makes it cost. Shootdowns stay local for exo and Linux alike. The
	 * last CPU allowed, so that every run uses the same one.
	 */
	if (sched_getaffinity(0, sizeof(set), &set))
		die("sched_getaffinity: %s", strerror(errno));
	for (cpu = CPU_SETSIZE - 1; cpu > 0 && !CPU_ISSET(cpu, &set); cpu--)
		;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("pinning to cpu %d: %s", cpu, strerror(errno));
	printf("# every thread pinned to cpu %d\n", cpu);

	vx_init(VM_BIG_PAGES);
	vx_describe();
	lx_init();
	uf_init();
	rx_init();

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rows[i].reps = rows[i].reps * scale < 10 ? 10 :
			       rows[i].reps * scale;
		warmup = rows[i].reps / 10 < 5 ? 5 : rows[i].reps / 10;
		printf("# %s: %s\n", rows[i].names[0], rows[i].what);
		bench_run(&rows[i], warmup);
	}

	rx_fini();
	vx_fini();
	printf("exo-vm-bench: %.0fs in all (%s)\n", (bench_now() - t0) / 1e9,
	       bench_accel());
	printf("exo-vm-bench: OK\n");
	return 0;
}
