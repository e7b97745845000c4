// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * What every layer of a managed region uses: the region's lock, writes to
 * its page table (the one registered for in-kernel refill), its frame
 * slots, and page I/O to its backing file. The bottom of libexo's VM
 * files: it calls only the C library, and only what a signal handler may.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "vm_internal.h"

/*
 * A spinlock, because the SIGBUS handler takes it. The holder only makes
 * system calls, so waiters yield after a short spin.
 */
int vm_lock(struct exo_vm *vm)
{
	pthread_t self = pthread_self();
	unsigned int i;

	for (i = 0;; i++) {
		if (!__atomic_exchange_n(&vm->locked, 1, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&vm->owner, self, __ATOMIC_RELAXED);
			return 0;
		}
		/* A fault taken while this thread holds it: refuse it. */
		if (pthread_equal(__atomic_load_n(&vm->owner, __ATOMIC_RELAXED),
				  self))
			return -EDEADLK;
		if (i < 64)
			cpu_relax();
		else
			sched_yield();
	}
}

void vm_unlock(struct exo_vm *vm)
{
	__atomic_store_n(&vm->owner, (pthread_t)0, __ATOMIC_RELAXED);
	__atomic_store_n(&vm->locked, 0, __ATOMIC_RELEASE);
}

void vm_upte_set(struct exo_vm *vm, uint64_t page, exo_cap_t cap,
		 uint32_t flags)
{
	struct exo_upte *e = &vm->upte[page];

	/* Invalid first, so the module never reads a half-written entry. */
	__atomic_store_n(&e->flags, 0, __ATOMIC_RELEASE);
	if (!(flags & EXO_UPTE_VALID))
		return;
	__atomic_store_n(&e->cap, cap, __ATOMIC_RELAXED);
	__atomic_store_n(&e->frame, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
}

/* Page @page of the backing file from or to @buf. */
int vm_io(struct exo_vm *vm, uint64_t page, char *buf, bool out)
{
	off_t off = (off_t)(page * vm->psz);
	size_t done = 0;
	ssize_t n;

	while (done < vm->psz) {
		if (out)
			n = pwrite(vm->backing, buf + done, vm->psz - done,
				   off + (off_t)done);
		else
			n = pread(vm->backing, buf + done, vm->psz - done,
				  off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			if (out)
				return -EIO;
			/* Past the end of a file someone truncated: zeros. */
			memset(buf + done, 0, vm->psz - done);
			break;
		}
		done += (size_t)n;
	}
	return 0;
}

/*
 * Forget slot @slot (its frame is freed or taken): the last slot moves
 * into its place, so slots stay dense for the policies' scans.
 */
void vm_slot_drop(struct exo_vm *vm, uint32_t slot)
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
