/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * libexo's managed VM regions, inside the library. The files call one
 * way, from the top down:
 *
 *   vm_region.c  the region: create/destroy, the SIGBUS handler, the
 *                fault thread, the upcall handler; sets things up and
 *                hands each fault to the pager
 *   vm_prim.c    Appel & Li's primitives
 *   vm_revoke.c  the revocation policy: what to give back when exo asks
 *   pager.c      the pager: fault handling, page in, replacement
 *                policies, eviction
 *   vm_repo.c    repossession recovery: saving what the abort protocol
 *                took (the fault path needs it too, hence below the pager)
 *   vm_common.c  what all of them use: the region lock, page-table entry
 *                updates, frame slots, backing-file I/O
 *
 * and all of them call down into the raw calls (vm.c, revoke.c, exo.c).
 *
 * Everything the fault path touches is allocated at create time; the fault
 * path itself runs in a signal handler and uses only system calls and the
 * region's own arrays; so does revocation. A region is guarded by a
 * spinlock that the signal handler can take: the owner is recorded so that
 * a fault taken while the same thread holds the lock is refused instead of
 * deadlocking.
 */
#ifndef LIBEXO_VM_INTERNAL_H
#define LIBEXO_VM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "libexo.h"

/* Regions alive in the process at once; the SIGBUS handler scans them. */
#define VM_MAX_REGIONS		64
/* MAP2 aliases of one region at once. */
#define VM_MAX_ALIASES		64

#define VM_NO_PAGE		UINT64_MAX
#define VM_PROT_RW		(EXO_PROT_READ | EXO_PROT_WRITE)

/* vm->pstate[page]: the protection the application asked for, and state. */
#define PG_PROT_MASK		0x07u	/* EXO_PROT_* */
#define PG_RESIDENT		0x08u	/* has a frame (vm->pslot) */
#define PG_ON_DISK		0x10u	/* the backing file holds its data */
#define PG_OLD_SHIFT		5	/* the protection before a change */

struct vm_frame {
	exo_cap_t cap;
	uint64_t page;		/* VM_NO_PAGE while free */
	uint64_t loaded;	/* vm->tick when paged in */
	uint64_t used;		/* vm->tick when last seen accessed */
	uint64_t round;		/* last accessed-bit harvest that saw it */
	uint32_t pins;		/* MAP2 aliases of this frame */
	bool ref;		/* CLOCK: referenced since the hand passed */
	bool fresh;		/* straight from the module: already zero */
	bool accessed;		/* in the last harvest */
	bool dirty;		/* in the last harvest, or not written out */
	bool critical;		/* marked with EXO_IOC_FRAME_CRITICAL */
};

struct vm_alias {
	uintptr_t va;		/* 0: free */
	uint64_t page;
};

/* Per context: the fault mode, the STLB holder and the fault thread. */
struct vm_ctx {
	struct exo *exo;
	struct vm_ctx *next;
	unsigned int nr_vms;
	unsigned int nr_thread_vms;
	unsigned int nr_upcall_vms;
	int event_mode;		/* read by the SIGBUS handler */
	int old_mode;		/* to restore when the thread stops */
	struct exo_vm *stlb;	/* whose table is registered */
	pthread_t thread;
	int stop[2];		/* pipe: a byte stops the thread */
};

struct exo_vm {
	struct exo *exo;
	struct vm_ctx *ctx;
	int slot;		/* index in the process's region table */
	uint32_t mode;		/* enum exo_vm_fault_mode asked for */

	char *base;
	size_t len;		/* region bytes, without the scratch page */
	size_t psz;
	uint64_t npages;
	char *scratch;		/* one page after the region: the pager's */

	int backing;
	bool own_backing;
	bool no_populate;	/* the module has no EXO_PROTECT_POPULATE */

	uint32_t policy;
	exo_vm_victim_fn victim_fn;
	void *victim_arg;
	exo_vm_trap_fn trap_fn;
	void *trap_arg;

	/* The library OS's page table, registered with EXO_IOC_STLB. */
	struct exo_upte *upte;
	size_t upte_bytes;
	uint64_t stlb_pages;	/* pages it covers in the kernel; 0: none */

	uint8_t *pstate;
	uint32_t *pslot;	/* frame slot of a resident page */
	uint64_t *soft_wb;	/* dirty since written out (or never out) */
	uint64_t *soft_user;	/* dirty since exo_vm_dirty() last asked */
	size_t words;		/* in each of the two bitmaps */

	struct vm_frame *frames;
	uint32_t max_frames;
	uint32_t nr_frames;	/* allocated so far */
	uint32_t critical;	/* frames to keep marked critical */
	uint32_t nr_critical;	/* frames marked now */
	uint32_t *free_slots;	/* slots with a frame and no page */
	uint32_t nr_free;
	uint32_t hand;		/* CLOCK */
	uint64_t tick;		/* faults so far: the policies' clock */
	uint64_t round;		/* accessed-bit harvests so far */

	struct exo_vpage *qbuf;	/* EXO_IOC_QUERY output */
	uint32_t qmax;
	uint64_t *dbuf;		/* EXO_IOC_DIRTY output */
	uint32_t dmax;
	struct exo_vm_candidate *cands;

	/* Revocation (vm_revoke.c). */
	const struct exo_repo_header *repo;	/* NULL: no EXO_FEAT_REVOKE */
	uint64_t repo_total;	/* vector fills seen by the last sync */
	bool repo_retry;	/* an entry of ours could not be saved yet */
	uint64_t ev_pos;	/* next event to read */
	char *rbuf;		/* one page: RECOVER's EXO_RECOVER_TO_USER */
	exo_vm_revoke_fn revoke_fn;
	void *revoke_arg;
	struct exo_vm_candidate *rcands;
	uint32_t *picks;

	struct vm_alias aliases[VM_MAX_ALIASES];
	struct exo_vm_stats stats;

	int locked;
	pthread_t owner;
};

static inline void *vm_page_addr(const struct exo_vm *vm, uint64_t page)
{
	return vm->base + page * vm->psz;
}

static inline bool vm_test(const uint64_t *map, uint64_t bit)
{
	return map[bit / 64] & (UINT64_C(1) << (bit % 64));
}

static inline void vm_set(uint64_t *map, uint64_t bit)
{
	map[bit / 64] |= UINT64_C(1) << (bit % 64);
}

static inline void vm_clear(uint64_t *map, uint64_t bit)
{
	map[bit / 64] &= ~(UINT64_C(1) << (bit % 64));
}

static inline uint32_t vm_prot(const struct exo_vm *vm, uint64_t page)
{
	return vm->pstate[page] & PG_PROT_MASK;
}

/* The rights an access needs; EXEC is never granted in a region. */
static inline uint32_t vm_fault_needs(uint32_t fault)
{
	if (fault & EXO_FAULT_WRITE)
		return VM_PROT_RW;
	if (fault & EXO_FAULT_EXEC)
		return EXO_PROT_EXEC | EXO_PROT_READ;
	return EXO_PROT_READ;
}

static inline bool vm_evictable(const struct vm_frame *f)
{
	return f->page != VM_NO_PAGE && !f->pins;
}

/* Frames the pager may give back: evictable and not critical. */
static inline bool vm_givable(const struct vm_frame *f)
{
	return vm_evictable(f) && !f->critical;
}

/* vm_revoke.c: the revocation policy. */
int vm_revoke_init(struct exo_vm *vm);

/* pager.c: fault handling and the eviction primitives it shares. */
int vm_fault(struct exo_vm *vm, uintptr_t addr, uint32_t fault);
int vm_page_in(struct exo_vm *vm, uint64_t page);
int vm_evict(struct exo_vm *vm, uint32_t slot);
int vm_harvest(struct exo_vm *vm, uint32_t qflags);
int vm_harvest_dirty(struct exo_vm *vm, uint64_t first, uint64_t nr);
int vm_alias_harvest(struct exo_vm *vm, struct vm_alias *a);
uint32_t vm_candidates(struct exo_vm *vm, struct exo_vm_candidate *cands,
		       bool givable);

/* vm_repo.c: repossession recovery. */
int vm_repo_init(struct exo_vm *vm);
int vm_repo_sync(struct exo_vm *vm, bool save);

/* vm_common.c */
int vm_lock(struct exo_vm *vm);
void vm_unlock(struct exo_vm *vm);
/* Rewrite one entry of the page table the module may be reading. */
void vm_upte_set(struct exo_vm *vm, uint64_t page, exo_cap_t cap,
		 uint32_t flags);
void vm_slot_drop(struct exo_vm *vm, uint32_t slot);
int vm_io(struct exo_vm *vm, uint64_t page, char *buf, bool out);

#endif /* LIBEXO_VM_INTERNAL_H */
