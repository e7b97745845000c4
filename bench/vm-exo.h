/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * exo-vm-bench's exo columns, shared by vm-exo.c (the context, its frames,
 * the calls without faults) and vm-exo-trap.c (the faults).
 */
#ifndef EXO_VM_EXO_H
#define EXO_VM_EXO_H

#include <pthread.h>

#include <libexo.h>

#include "vm-bench.h"

#define VX_RW		(EXO_PROT_READ | EXO_PROT_WRITE)

struct vx_col {
	char *va;
	size_t len;
	unsigned int npages;
	struct exo_map_entry *entries;	/* the whole VMA onto the pool */
	unsigned int nentries;
	char *last;			/* APPEL1: the one page unprotected */
	unsigned int *perm;
	uint64_t *bitmap;
	struct exo_vpage *vpages;
	struct exo_upte *upte;		/* STLB: the library OS's page table */
	pthread_t thread;		/* EVENT: the fault thread */
	int upcall;			/* in EXO_FAULT_MODE_UPCALL */
	uint64_t round;
};

/* What the fault handler (or the fault thread) does for the access. */
enum vx_mode { VX_FATAL, VX_UNPROTECT, VX_BIND, VX_APPEL1, VX_EVENT };

/* vm-exo.c */
void vx_check(int ret, const char *what);
void vx_check_mark(const char *page, unsigned int i, const char *what);
int vx_protect(char *va, unsigned int n, uint32_t prot);
int vx_unprotect_fault(char *page);
int vx_unmap(char *va, unsigned int n);
int vx_bind(struct vx_col *x, char *page);
int vx_read_event(struct exo_fault_event *ev);

/* vm-exo-trap.c */
void vx_traps_init(void);
void vx_upcall(struct exo_upcall_frame *frame, void *arg);
void *vx_event_thread(void *arg);
void vx_arm(struct vx_col *x, enum vx_mode mode, uint32_t expect);
void vx_disarm(unsigned long faults, const char *what);

#endif /* EXO_VM_EXO_H */
