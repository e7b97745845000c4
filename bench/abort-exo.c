// SPDX-License-Identifier: GPL-2.0
/*
 * exo-vm-bench, exo's abort protocol (ABORT) and its undoing (RECOVER):
 * the victim holds N single frames, each bound at one page of its VMA and
 * filled. The operator's EXO_IOC_REVOKE with EXO_REVOKE_ABORT takes them
 * all at once and returns when it is done: every binding removed, every
 * frame's contents saved, one repossession vector entry per capability.
 * Then the victim allocates N new frames and restores each entry into
 * one with EXO_IOC_RECOVER (EXO_RECOVER_TO_FRAME), which also frees the
 * entry; bound where the old frames were, they must hold this round's
 * contents. The new frames are the next round's victims.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "revoke-exo.h"

#define NO_SLOT		(~0u)

struct rx_ab {
	struct rx_victim v;
	exo_cap_t *fresh;		/* the frames RECOVER fills */
	unsigned int *slot;		/* page i's entry in the vector */
	uint64_t cursor;
	uint64_t round;
};

const char *rx_setup_abort(struct bench_col *c)
{
	struct rx_ab *a = calloc(1, sizeof(*a));
	const char *skip;

	if (!a)
		die("out of memory");
	skip = rx_open(&a->v, c->npages);
	if (skip) {
		free(a);
		return skip;
	}
	a->fresh = calloc(c->npages, sizeof(*a->fresh));
	a->slot = calloc(c->npages, sizeof(*a->slot));
	if (!a->fresh || !a->slot)
		die("out of memory");
	rx_alloc(&a->v, a->v.caps, c->npages);
	rx_bind(&a->v, a->v.caps, c->npages);
	a->v.held = c->npages;
	a->cursor = rx_load(&a->v.ev->head);
	c->priv = a;
	return NULL;
}

/*
 * The abort's events: one REPOSSESSED for all @n frames, then, as nothing
 * is owed any more, possibly the request's REVOKE_DONE (nothing returned).
 * No REVOKE: an abort asks nothing.
 */
static void check_events(struct rx_ab *a, uint64_t id, unsigned int n)
{
	struct exo_event e;
	unsigned int repo = 0, done = 0;

	while (rx_next_event(&a->v, &a->cursor, &e)) {
		if (e.id == id && e.type == EXO_EV_REPOSSESSED && e.nr == n &&
		    !repo && !done)
			repo++;
		else if (e.id == id && e.type == EXO_EV_REVOKE_DONE && !e.nr &&
			 repo && !done)
			done++;
		else
			die("exo: ABORT: event type %u, request %" PRIu64 ", %"
			    PRIu64 " frames; expected REPOSSESSED for request %"
			    PRIu64 " and %u frames, then at most its REVOKE_DONE",
			    e.type, (uint64_t)e.id, (uint64_t)e.nr, id, n);
	}
	if (!repo)
		die("exo: ABORT: no REPOSSESSED event");
}

/*
 * Every entry the abort filled: one per frame, naming the capability that
 * was bound at its page. Nothing else may be SAVED: earlier rounds
 * recovered everything.
 */
static void find_slots(struct rx_ab *a, uint64_t id, unsigned int n)
{
	const struct exo_repo_header *h = a->v.repo;
	const struct exo_repo_entry *e;
	unsigned int s, page, found = 0;
	uint64_t off;

	for (page = 0; page < n; page++)
		a->slot[page] = NO_SLOT;
	for (s = 0; s < h->nr_entries; s++) {
		e = (const void *)((const char *)h + h->entries_offset +
				   (size_t)s * h->entry_size);
		if (__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) & 1)
			die("exo: ABORT: vector entry %u still being written after the abort returned",
			    s);
		if (e->state != EXO_REPO_SAVED)
			continue;
		off = e->va[0] - (uintptr_t)a->v.va;
		page = off / bench_page;
		if (e->id != id || e->order || e->nr_va != 1 ||
		    e->va[0] < (uintptr_t)a->v.va || off % bench_page ||
		    page >= n || a->slot[page] != NO_SLOT ||
		    e->cap != a->v.caps[page] || e->flags)
			die("exo: ABORT: vector entry %u: request %" PRIu64
			    ", order %u, %u VAs (the first %#" PRIx64 "), cap %#"
			    PRIx64 ", flags %#x; expected request %" PRIu64
			    ", one frame bound at one page of the VMA",
			    s, (uint64_t)e->id, e->order, e->nr_va,
			    (uint64_t)e->va[0], (uint64_t)e->cap, e->flags, id);
		a->slot[page] = s;
		found++;
	}
	if (found != n || rx_load(&h->used) != n)
		die("exo: ABORT: %u vector entries SAVED (the header says %" PRIu64
		    "), expected %u", found, rx_load(&h->used), n);
}

static void recover(struct rx_ab *a, unsigned int slot, exo_cap_t cap)
{
	struct exo_recover r;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.flags = EXO_RECOVER_TO_FRAME;
	r.slot = slot;
	r.nr = 1;
	r.cap = cap;
	if (ioctl(a->v.fd, EXO_IOC_RECOVER, &r))
		die("exo: EXO_IOC_RECOVER(slot %u): %s", slot, strerror(errno));
}

void rx_abort(struct bench_col *c, double *out)
{
	struct rx_ab *a = c->priv;
	struct rx_victim *v = &a->v;
	unsigned int i, n = c->npages;
	struct exo_ctx_info before, after;
	double t_abort, t_recover;
	exo_cap_t *swap;
	uint64_t t0, id;

	rv_fill(v->va, n, ++a->round);
	rx_info(v, &before);
	t0 = bench_now();
	id = rx_revoke(v->id, n, EXO_REVOKE_ABORT);
	t_abort = bench_since(t0);

	rx_info(v, &after);
	if (after.frames || after.owed || after.bindings ||
	    after.repossessed != before.repossessed + n ||
	    after.repo_used != n || rx_load(&v->ev->owed) ||
	    __atomic_load_n(&v->ev->state, __ATOMIC_ACQUIRE) != EXO_REVOKE_IDLE)
		die("exo: ABORT of %u frames: the context holds %" PRIu64
		    ", owes %" PRIu64 " (the ring: %" PRIu64 ", state %u), has %"
		    PRIu64 " bindings and %u saved entries, repossessed +%" PRIu64,
		    n, (uint64_t)after.frames, (uint64_t)after.owed,
		    rx_load(&v->ev->owed), v->ev->state,
		    (uint64_t)after.bindings, after.repo_used,
		    (uint64_t)(after.repossessed - before.repossessed));
	v->held = 0;
	check_events(a, id, n);
	find_slots(a, id, n);

	rx_alloc(v, a->fresh, n);
	t0 = bench_now();
	for (i = 0; i < n; i++)
		recover(a, a->slot[i], a->fresh[i]);
	t_recover = bench_since(t0);

	rx_info(v, &after);
	if (after.repo_used || rx_load(&v->repo->used) || after.frames != n)
		die("exo: RECOVER: %u entries (the header: %" PRIu64
		    ") still saved and %" PRIu64 " frames held; expected 0 and %u",
		    after.repo_used, rx_load(&v->repo->used),
		    (uint64_t)after.frames, n);
	rx_bind(v, a->fresh, n);
	swap = v->caps;
	v->caps = a->fresh;
	a->fresh = swap;
	v->held = n;
	rv_verify(v->va, n, a->round, "exo: ABORT then RECOVER");
	rv_abort_out(c, out, t_abort, t_recover);
}

void rx_teardown_abort(struct bench_col *c)
{
	struct rx_ab *a = c->priv;

	rx_close(&a->v);
	free(a->fresh);
	free(a->slot);
	free(a);
}
