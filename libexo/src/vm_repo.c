// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * Repossession recovery in libexo's managed regions: taking in what the
 * abort protocol took when the region did not give frames back in time.
 * The fault path (pager.c), the revocation policy (vm_revoke.c) and a
 * region's end (vm_region.c) all call vm_repo_sync(), so it sits below
 * them and calls only vm_common.c and the raw calls.
 *
 * Repossessed pages are saved eagerly into the backing file (RECOVER
 * TO_USER, then pwrite), not lazily into a new frame at their next fault:
 *  - it takes no frame, at a moment when exo has just taken frames for
 *    being short of them;
 *  - the vector entry is released at once, so the vector does not fill
 *    with the region's pages (a full vector stops the abort), and the
 *    context's POLLPRI, which stays up while any entry is saved, drops;
 *  - the page is then an ordinary evicted page, paged in by the usual path.
 * It costs one more copy and a write per repossessed page, on a path that
 * runs only when the library OS failed to answer in time.
 *
 * Everything here runs with the region locked and, from the fault path, in
 * a signal handler: system calls and the region's arrays only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "vm_internal.h"

/*
 * Fills of the vector so far. A volatile load, not an __atomic one: on
 * some 32-bit targets that is a cmpxchg, which faults on a read-only page.
 */
static uint64_t vm_repo_total(const struct exo_repo_header *h)
{
	uint64_t total = *(const volatile __typeof__(h->total) *)&h->total;

	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return total;
}

/*
 * Map the vector, and the page RECOVER copies saved contents into, now:
 * the fault path must not mmap.
 */
int vm_repo_init(struct exo_vm *vm)
{
	vm->repo = exo_repo(vm->exo);
	if (!vm->repo)
		return -errno;
	vm->repo_total = vm_repo_total(vm->repo);
	vm->rbuf = mmap(NULL, vm->psz, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->rbuf == MAP_FAILED) {
		vm->rbuf = NULL;
		vm->repo = NULL;
		return -ENOMEM;
	}
	return 0;
}

static uint32_t vm_slot_of(const struct exo_vm *vm, exo_cap_t cap)
{
	uint32_t s;

	for (s = 0; s < vm->nr_frames; s++)
		if (vm->frames[s].cap == cap)
			return s;
	return UINT32_MAX;
}

/*
 * Vector entry @e (index @idx) records the frame of slot @slot: save the
 * page it held to the backing file (unless @save is false: the region is
 * going away), release the entry, forget the slot. The data is copied out
 * with KEEP and released only once it is in the file.
 */
static int vm_repo_take(struct exo_vm *vm, uint32_t idx, uint32_t slot,
			bool save)
{
	struct vm_frame *f = &vm->frames[slot];
	uint64_t page = f->page;
	int ret;

	if (page != VM_NO_PAGE) {
		/* The kernel cannot refill from a stale capability; still. */
		vm_upte_set(vm, page, 0, 0);
		if (save) {
			ret = exo_repo_recover(vm->exo, idx, 0, 1,
					       EXO_RECOVER_TO_USER |
					       EXO_RECOVER_KEEP, 0, 0,
					       vm->rbuf);
			if (!ret)
				ret = vm_io(vm, page, vm->rbuf, true);
			if (ret)
				return ret;
			vm->pstate[page] |= PG_ON_DISK;
			vm_clear(vm->soft_wb, page);
			vm->stats.recovered++;
		}
		/* Its binding went with the frame, and its dirty bit. */
		vm_set(vm->soft_user, page);
		vm->pstate[page] &= ~PG_RESIDENT;
		vm->stats.resident--;
	}
	vm_slot_drop(vm, slot);
	vm->stats.repossessed++;
	/*
	 * Release the entry. The data is safe by now: a failure (there is
	 * none for a saved entry of ours) would leave only the entry behind,
	 * not worth failing a fault for.
	 */
	exo_repo_recover(vm->exo, idx, 0, 0, 0, 0, 0, NULL);
	return 0;
}

/*
 * Take in every saved vector entry that names one of the region's frames.
 * Cheap when no entry was filled since the last call: the header's total.
 */
int vm_repo_sync(struct exo_vm *vm, bool save)
{
	const struct exo_repo_header *h = vm->repo;
	struct exo_repo_entry e;
	uint32_t idx, slot, nr;
	uint64_t total;
	int ret, err = 0;

	if (!h)
		return 0;
	total = vm_repo_total(h);
	if (total == vm->repo_total && !vm->repo_retry)
		return 0;
	vm->repo_retry = false;
	nr = h->nr_entries;
	for (idx = 0; idx < nr; idx++) {
		ret = exo_repo_read(vm->exo, idx, &e);
		if (!ret && (e.state != EXO_REPO_SAVED || e.order))
			continue;
		if (!ret) {
			slot = vm_slot_of(vm, e.cap);
			if (slot == UINT32_MAX)
				continue;	/* not this region's */
			ret = vm_repo_take(vm, idx, slot, save);
		}
		if (ret) {
			vm->repo_retry = true;
			if (!err)
				err = ret;
		}
	}
	vm->repo_total = total;
	return err;
}
