// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * Revocation in libexo's pager: giving frames back when exo asks, and
 * taking in what the abort protocol took when the region did not give in
 * time.
 *
 * Giving back uses what only the pager knows. A request for N frames is
 * met by the region's spare frames (held, holding no page) first, then by
 * clean pages not accessed lately, then clean pages (both cost one unbind:
 * the backing file or a zero fill can give them back), and only then by
 * dirty pages, written out first as eviction does. An application's
 * policy (exo_vm_set_revoke_policy()) may choose the pages instead. Frames
 * the region marked critical (exo_vm_opts.critical) are its floor: exo
 * does not ask for them, and the pager does not give them.
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
#include <stdlib.h>
#include <string.h>
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

/* Map the ring and the vector now: the fault path must not mmap. */
int vm_revoke_init(struct exo_vm *vm)
{
	struct exo_revoke_status st;
	int ret;

	if (!(exo_api(vm->exo)->features & EXO_FEAT_REVOKE))
		return 0;
	ret = exo_revoke_state(vm->exo, &st);
	if (ret)
		return ret;
	vm->repo = exo_repo(vm->exo);
	if (!vm->repo)
		return -errno;
	/* Only what happens from now on can concern this region. */
	vm->ev_pos = st.head;
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

/*
 * Forget slot @slot (its frame is freed or taken): the last slot moves
 * into its place, so slots stay dense for the policies' scans.
 */
static void vm_slot_drop(struct exo_vm *vm, uint32_t slot)
{
	uint32_t last = vm->nr_frames - 1, k;

	/* A critical frame gone: the next one allocated takes its place. */
	if (vm->frames[slot].critical)
		vm->nr_critical--;

	for (k = 0; k < vm->nr_free; k++) {
		if (vm->free_slots[k] == slot) {
			vm->free_slots[k] = vm->free_slots[--vm->nr_free];
			break;
		}
	}
	if (slot != last) {
		vm->frames[slot] = vm->frames[last];
		if (vm->frames[slot].page != VM_NO_PAGE) {
			vm->pslot[vm->frames[slot].page] = slot;
		} else {
			for (k = 0; k < vm->nr_free; k++)
				if (vm->free_slots[k] == last)
					vm->free_slots[k] = slot;
		}
	}
	vm->nr_frames--;
	if (vm->hand >= vm->nr_frames)
		vm->hand = 0;
	vm->stats.frames--;
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

/* Free the frame of slot @slot, which holds no page, towards what is owed. */
static int vm_give_slot(struct exo_vm *vm, uint32_t slot)
{
	int ret;

	ret = exo_frame_free(vm->exo, vm->frames[slot].cap);
	if (ret)
		return ret;
	vm_slot_drop(vm, slot);
	vm->stats.revoked++;
	return 0;
}

static int vm_give_page(struct exo_vm *vm, uint32_t slot)
{
	int ret;

	ret = vm_evict(vm, slot);
	if (ret)
		return ret;
	return vm_give_slot(vm, slot);
}

/* 0: clean and cold, 1: clean, 2: dirty and cold, 3: dirty. */
static unsigned int vm_revoke_class(const struct vm_frame *f)
{
	return (f->dirty ? 2u : 0u) + (f->accessed ? 1u : 0u);
}

static int vm_give_default(struct exo_vm *vm, uint64_t want, uint64_t *given)
{
	unsigned int cls;
	uint32_t s;
	int ret;

	/* Read, not clear, the accessed bits: they are the policies' too. */
	ret = vm_harvest(vm, 0);
	if (ret)
		return ret;
	for (cls = 0; cls < 4; cls++) {
		/* Downwards: a dropped slot takes the last, already seen. */
		for (s = vm->nr_frames; s-- > 0 && *given < want;) {
			if (s >= vm->nr_frames || !vm_givable(&vm->frames[s]) ||
			    vm_revoke_class(&vm->frames[s]) != cls)
				continue;
			ret = vm_give_page(vm, s);
			if (ret)
				return ret;
			(*given)++;
		}
	}
	return 0;
}

static int vm_give_custom(struct exo_vm *vm, uint64_t want, uint64_t *given)
{
	uint32_t nr, n, k, pick;
	uint64_t page;
	int ret;

	ret = vm_harvest(vm, 0);
	if (ret)
		return ret;
	nr = vm_candidates(vm, vm->rcands, true);
	if (!nr)
		return 0;
	n = vm->revoke_fn(vm, vm->rcands, nr, want - *given, vm->picks,
			  vm->revoke_arg);
	if (n > nr)
		n = nr;
	for (k = 0; k < n && *given < want; k++) {
		pick = vm->picks[k];
		if (pick >= nr)
			continue;
		page = vm->rcands[pick].page;
		/* Picked twice: gone already. */
		if (!(vm->pstate[page] & PG_RESIDENT))
			continue;
		ret = vm_give_page(vm, vm->pslot[page]);
		if (ret)
			return ret;
		(*given)++;
	}
	return 0;
}

/*
 * Give back up to @want frames. ENOENT means the abort took a frame under
 * us: take in what it took and go on, a few times at most.
 */
static int vm_give_back(struct exo_vm *vm, uint64_t want, uint64_t *given)
{
	uint32_t k, slot;
	int ret = 0, tries;

	for (tries = 0; tries < 4; tries++) {
		/* Downwards: a dropped slot leaves the list's last in its place. */
		for (k = vm->nr_free; k-- > 0 && *given < want;) {
			if (k >= vm->nr_free)
				continue;
			slot = vm->free_slots[k];
			if (vm->frames[slot].critical)
				continue;
			ret = vm_give_slot(vm, slot);
			if (ret)
				break;
			(*given)++;
		}
		if (!ret && *given < want)
			ret = vm->revoke_fn ? vm_give_custom(vm, want, given) :
					      vm_give_default(vm, want, given);
		if (ret != -ENOENT)
			return ret;
		ret = vm_repo_sync(vm, true);
		if (ret)
			return ret;
	}
	return -ENOENT;
}

int exo_vm_handle_events(struct exo_vm *vm)
{
	struct exo_revoke_status st;
	struct exo_event ev;
	uint64_t lost, given = 0;
	int ret, n;

	if (!vm)
		return -EINVAL;
	if (!vm->repo)
		return -EOPNOTSUPP;
	ret = vm_lock(vm);
	if (ret)
		return ret;
	/*
	 * The events say something happened; the header and the vector say
	 * what is true now, and that is what the region acts on: a lost event
	 * loses nothing. GRANT_REVOKED needs nothing here: a region binds
	 * only the frames it allocated.
	 */
	do {
		n = exo_events_next(vm->exo, &vm->ev_pos, &ev, &lost);
		vm->stats.events_lost += lost;
		vm->stats.events += n > 0;
	} while (n > 0);
	ret = vm_repo_sync(vm, true);
	if (!ret)
		ret = exo_revoke_state(vm->exo, &st);
	if (!ret && st.owed)
		ret = vm_give_back(vm, st.owed, &given);
	vm_unlock(vm);
	if (ret)
		return ret;
	return given > INT32_MAX ? INT32_MAX : (int)given;
}

int exo_vm_set_revoke_policy(struct exo_vm *vm, exo_vm_revoke_fn fn,
			     void *arg)
{
	struct exo_vm_candidate *c = NULL;
	uint32_t *p = NULL;
	int ret;

	if (!vm)
		return -EINVAL;
	/* The arrays are made here, outside the lock and any signal handler. */
	if (fn && !vm->rcands) {
		c = calloc(vm->max_frames, sizeof(*c));
		p = calloc(vm->max_frames, sizeof(*p));
		if (!c || !p) {
			free(c);
			free(p);
			return -ENOMEM;
		}
	}
	ret = vm_lock(vm);
	if (ret) {
		free(c);
		free(p);
		return ret;
	}
	if (c && !vm->rcands) {
		vm->rcands = c;
		vm->picks = p;
		c = NULL;
		p = NULL;
	}
	vm->revoke_fn = fn;
	vm->revoke_arg = arg;
	vm_unlock(vm);
	free(c);
	free(p);
	return 0;
}
