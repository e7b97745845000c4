/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * exo-vm-bench's columns: the same operations done with exo (vm-exo.c),
 * with stock Linux system calls and signals (vm-linux.c) and with
 * userfaultfd (vm-uffd.c). Each column owns its memory; c->npages says
 * how much. Every timed access writes with bench_poke() and is checked.
 */
#ifndef EXO_VM_BENCH_H
#define EXO_VM_BENCH_H

#include "bench.h"

#define VM_BIG_PAGES	4096	/* DIRTY and the largest MAP */
#define VM_DIRTY_WRITES	256	/* pages written between two DIRTY calls */

/* Shared by the DIRTY columns (exo-vm-bench.c). */
void vm_pick(unsigned int *pages, unsigned int npages);
void vm_check_dirty(const char *who, const uint64_t *bitmap, int reported,
		    unsigned int npages, const unsigned int *written,
		    unsigned int nwritten);

/* exo: one context, and the frames every exo column binds. */
enum { VX_VIA_SIGBUS, VX_VIA_UPCALL };	/* bench_col.variant */
void vx_init(unsigned int frames);
void vx_describe(void);
void vx_fini(void);
const char *vx_setup(struct bench_col *c);	/* bound RW, touched */
const char *vx_setup_empty(struct bench_col *c);	/* nothing bound */
const char *vx_setup_appel1(struct bench_col *c);
const char *vx_setup_dirty(struct bench_col *c);
const char *vx_setup_event(struct bench_col *c);	/* fault thread */
const char *vx_setup_stlb(struct bench_col *c);	/* STLB registered */
void vx_teardown(struct bench_col *c);
void vx_trap(struct bench_col *c, double *out);
void vx_trap_miss(struct bench_col *c, double *out);
void vx_trap_event(struct bench_col *c, double *out);
void vx_refill(struct bench_col *c, double *out);
void vx_prot(struct bench_col *c, double *out);
void vx_unprot(struct bench_col *c, double *out);
void vx_appel1(struct bench_col *c, double *out);
void vx_appel2(struct bench_col *c, double *out);
void vx_dirty(struct bench_col *c, double *out);
void vx_map(struct bench_col *c, double *out);

/* Stock Linux: mprotect(2) and SIGSEGV, soft-dirty, mmap(2). */
void lx_init(void);
const char *lx_setup(struct bench_col *c);	/* anonymous RW, touched */
const char *lx_setup_miss(struct bench_col *c);
const char *lx_setup_appel1(struct bench_col *c);
const char *lx_setup_softdirty(struct bench_col *c);
const char *lx_setup_track(struct bench_col *c);
const char *lx_setup_map(struct bench_col *c);
const char *lx_setup_refill(struct bench_col *c);	/* LX_MAP_MEMFD */
void lx_teardown(struct bench_col *c);
void lx_trap(struct bench_col *c, double *out);
void lx_trap_miss(struct bench_col *c, double *out);
void lx_refill(struct bench_col *c, double *out);
void lx_prot(struct bench_col *c, double *out);
void lx_unprot(struct bench_col *c, double *out);
void lx_appel1(struct bench_col *c, double *out);
void lx_appel2(struct bench_col *c, double *out);
void lx_softdirty(struct bench_col *c, double *out);
void lx_track(struct bench_col *c, double *out);
void lx_map(struct bench_col *c, double *out);

/* mmap variants of lx_map (bench_col.variant). */
enum { LX_MAP_TOUCH, LX_MAP_POPULATE, LX_MAP_MEMFD };

/* userfaultfd: a fault thread resolves; absent if the kernel refuses. */
void uf_init(void);
const char *uf_setup(struct bench_col *c);	/* registered, touched */
const char *uf_setup_appel1(struct bench_col *c);
void uf_teardown(struct bench_col *c);
void uf_trap(struct bench_col *c, double *out);
void uf_trap_miss(struct bench_col *c, double *out);
void uf_prot(struct bench_col *c, double *out);
void uf_unprot(struct bench_col *c, double *out);
void uf_appel1(struct bench_col *c, double *out);
void uf_appel2(struct bench_col *c, double *out);

/* PAGEMAP_SCAN over a userfaultfd-WP_ASYNC range (Linux 6.7). */
const char *pm_setup_dirty(struct bench_col *c);
void pm_teardown(struct bench_col *c);
void pm_dirty(struct bench_col *c, double *out);

#endif /* EXO_VM_BENCH_H */
