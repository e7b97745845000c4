// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * The revocation policy of libexo's managed regions: what to give back
 * when exo asks. It sits above the pager and calls down: the pager's
 * eviction primitives (pager.c) to free pages, and repossession recovery
 * (vm_repo.c) for what the abort protocol took meanwhile. The pager never
 * calls here.
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
 * Everything here runs with the region locked and perhaps in a signal
 * handler (the application's, on a revocation signal): system calls and
 * the region's arrays only.
 */
#include <errno.h>
#include <stdlib.h>

#include "vm_internal.h"

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
	/* Only what happens from now on can concern this region. */
	vm->ev_pos = st.head;
	return vm_repo_init(vm);
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
