// SPDX-License-Identifier: GPL-2.0
/*
 * exo-vm-bench, exo's cooperative revocation round trip (REVOKE-RT): the
 * operator's context asks the victim for N frames (EXO_IOC_REVOKE); the
 * victim's revocation handler, a thread asleep in poll(2) for POLLPRI on
 * the context fd, reads the request from the event ring, unbinds the
 * frames and frees them (EXO_IOC_FRAME_FREE). The round trip ends when the
 * last free leaves nothing owed: the module posts EXO_EV_REVOKE_DONE and
 * signals the eventfd registered with EXO_IOC_REVOKE_NOTIFY, on which the
 * measuring thread sleeps.
 *
 * Also the helpers every exo revocation column shares: the victim context
 * with its ring, vector, VMA and frames, and the operator's requests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "revoke-exo.h"

#define RX_RW		(EXO_PROT_READ | EXO_PROT_WRITE)

static struct exo *op;		/* the operator's context: posts requests */

void rx_check(int ret, const char *what)
{
	if (ret < 0)
		die("exo: %s: %s", what, strerror(-ret));
}

void rx_init(void)
{
	rx_check(exo_open(&op), "exo_open (the operator's context)");
}

void rx_fini(void)
{
	exo_close(op);
}

uint64_t rx_revoke(uint32_t ctx_id, uint64_t nr, uint32_t flags)
{
	struct exo_revoke r;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.flags = flags;
	r.ctx_id = ctx_id;
	r.timeout_ms = flags & EXO_REVOKE_ABORT ? 0 : RV_TIMEOUT_MS;
	r.nr = nr;
	if (ioctl(exo_fd(op), EXO_IOC_REVOKE, &r))
		die("exo: EXO_IOC_REVOKE(context %u, %" PRIu64 " frames%s): %s",
		    ctx_id, nr, flags & EXO_REVOKE_ABORT ? ", ABORT" : "",
		    strerror(errno));
	if (!r.id)
		die("exo: EXO_IOC_REVOKE returned request id 0");
	return r.id;
}

void rx_info(struct rx_victim *v, struct exo_ctx_info *info)
{
	rx_check(exo_ctx_info(v->exo, info), "exo_ctx_info");
}

/*
 * Copy event *@cursor out of the ring and step past it; 0 if none is
 * posted yet. The module completes an entry before it moves the head, and
 * rewrites it only a whole ring later, so a second look at its seq tells a
 * torn copy.
 */
int rx_next_event(const struct rx_victim *v, uint64_t *cursor,
		  struct exo_event *out)
{
	const struct exo_events_header *h = v->ev;
	const struct exo_event *e;
	uint64_t head = rx_load(&h->head), want = *cursor + 1;

	if (*cursor == head)
		return 0;
	if (head - *cursor > h->nr_entries)
		die("exo: the event ring lost events (%" PRIu64 " posted, %"
		    PRIu64 " read)", head, *cursor);
	e = (const void *)((const char *)h + h->entries_offset +
			   (size_t)(*cursor & (h->nr_entries - 1)) * h->entry_size);
	if (rx_load(&e->seq) != want)
		die("exo: event %" PRIu64 " is not complete though the head passed it",
		    *cursor);
	memcpy(out, (const void *)e, sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (rx_load(&e->seq) != want)
		die("exo: event %" PRIu64 " was overwritten while read", *cursor);
	(*cursor)++;
	return 1;
}

static const void *map_ro(struct rx_victim *v, uint64_t size, uint64_t off,
			  const char *what)
{
	void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, v->fd, off);

	if (p == MAP_FAILED)
		die("exo: mmap of the %s: %s", what, strerror(errno));
	return p;
}

const char *rx_open(struct rx_victim *v, unsigned int npages)
{
	static char why[96];
	const struct exo_events_header *ev;
	const struct exo_repo_header *repo;

	memset(v, 0, sizeof(*v));
	rx_check(exo_open(&v->exo), "exo_open (a victim context)");
	v->api = exo_api(v->exo);
	if (!(v->api->features & EXO_FEAT_REVOKE)) {
		exo_close(v->exo);
		return "exo.ko without revocation (EXO_FEAT_REVOKE)";
	}
	if (npages > v->api->frame_quota || npages > v->api->repo_entries) {
		snprintf(why, sizeof(why),
			 "a context may hold %u frames and record %u in its vector, not %u",
			 v->api->frame_quota, v->api->repo_entries, npages);
		exo_close(v->exo);
		return why;
	}
	v->fd = exo_fd(v->exo);
	v->id = v->api->ctx_id;
	v->ev = ev = map_ro(v, v->api->events_size, EXO_MMAP_EVENTS,
			    "event ring");
	if (ev->magic != EXO_EVENTS_MAGIC || ev->version != EXO_EVENTS_VERSION ||
	    ev->ctx_id != v->id || ev->entry_size < sizeof(struct exo_event) ||
	    !ev->nr_entries || (ev->nr_entries & (ev->nr_entries - 1)))
		die("exo: the event ring's header is wrong (magic %#x version %u ctx %u entries %u of %u bytes)",
		    ev->magic, ev->version, ev->ctx_id, ev->nr_entries,
		    ev->entry_size);
	v->repo = repo = map_ro(v, v->api->repo_size, EXO_MMAP_REPO,
				"repossession vector");
	if (repo->magic != EXO_REPO_MAGIC || repo->version != EXO_REPO_VERSION ||
	    repo->ctx_id != v->id || repo->nr_entries != v->api->repo_entries ||
	    repo->entry_size < sizeof(struct exo_repo_entry))
		die("exo: the repossession vector's header is wrong (magic %#x version %u ctx %u entries %u of %u bytes)",
		    repo->magic, repo->version, repo->ctx_id, repo->nr_entries,
		    repo->entry_size);

	v->npages = npages;
	v->len = (size_t)npages * bench_page;
	rx_check(exo_vma_create(v->exo, v->len, PROT_READ | PROT_WRITE,
			     (void **)&v->va), "exo_vma_create");
	v->caps = calloc(npages, sizeof(*v->caps));
	v->entries = calloc(npages, sizeof(*v->entries));
	if (!v->caps || !v->entries)
		die("out of memory");
	return NULL;
}

void rx_close(struct rx_victim *v)
{
	struct exo_ctx_info info;

	rx_check(exo_vma_destroy(v->exo, v->va, v->len), "exo_vma_destroy");
	while (v->held)
		rx_check(exo_frame_free(v->exo, v->caps[--v->held]),
			 "exo_frame_free");
	rx_info(v, &info);
	if (info.frames || info.owed || info.repo_used || info.bindings)
		die("exo: a victim closes with %" PRIu64 " frames, %" PRIu64
		    " owed, %u saved, %" PRIu64 " bindings; expected none",
		    (uint64_t)info.frames, (uint64_t)info.owed, info.repo_used,
		    (uint64_t)info.bindings);
	munmap((void *)v->ev, v->api->events_size);
	munmap((void *)v->repo, v->api->repo_size);
	exo_close(v->exo);
	free(v->caps);
	free(v->entries);
}

void rx_alloc(struct rx_victim *v, exo_cap_t *caps, unsigned int n)
{
	struct exo_frame f;
	unsigned int i;

	for (i = 0; i < n; i++) {
		rx_check(exo_frame_alloc(v->exo, &f), "exo_frame_alloc");
		caps[i] = f.cap;
	}
}

/* Bind page i of the victim's VMA to caps[i], for the first @n pages. */
void rx_bind(struct rx_victim *v, const exo_cap_t *caps, unsigned int n)
{
	unsigned int i, k, batch = v->api->max_batch;

	for (i = 0; i < n; i++) {
		memset(&v->entries[i], 0, sizeof(v->entries[i]));
		v->entries[i].va = (uintptr_t)(v->va + (size_t)i * bench_page);
		v->entries[i].cap = caps[i];
		v->entries[i].nr = 1;
		v->entries[i].prot = RX_RW;
	}
	for (i = 0; i < n; i += k) {
		k = n - i < batch ? n - i : batch;
		rx_check(exo_vma_map(v->exo, v->entries + i, k), "exo_vma_map");
	}
}

struct rx_rt {
	struct rx_victim v;
	int notify;		/* registered: every event signals it */
	int ack;		/* the handler's "done with this request" */
	int stop;
	pthread_t thread;
	uint64_t hcursor;	/* the handler's place in the ring */
	uint64_t mcursor;	/* the measuring thread's */
	uint64_t round;
};

/* The library OS's side: give back the last @k frames it holds. */
static void give_back(struct rx_victim *v, unsigned int k)
{
	unsigned int first = v->held - k;
	struct exo_vrange r = {
		(uintptr_t)(v->va + (size_t)first * bench_page),
		(uint64_t)k * bench_page,
	};

	rx_check(exo_vma_unmap(v->exo, &r, 1),
		 "exo_vma_unmap (revocation handler)");
	while (v->held > first)
		rx_check(exo_frame_free(v->exo, v->caps[--v->held]),
			 "exo_frame_free (revocation handler)");
}

static void *rt_handler(void *arg)
{
	struct rx_rt *r = arg;
	struct rx_victim *v = &r->v;
	struct pollfd p[2];
	struct exo_event e;
	uint64_t owed;
	unsigned int k;

	for (;;) {
		p[0].fd = v->fd;
		p[0].events = POLLPRI;
		p[1].fd = r->stop;
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("exo: poll of the context: %s", strerror(errno));
		}
		if (p[1].revents)
			return NULL;
		if (p[0].revents & ~POLLPRI)
			die("exo: poll of the context: revents %#x",
			    p[0].revents);
		while (rx_next_event(v, &r->hcursor, &e))
			if (e.type != EXO_EV_REVOKE &&
			    e.type != EXO_EV_REVOKE_URGENT &&
			    e.type != EXO_EV_REVOKE_DONE)
				die("exo: REVOKE-RT: event type %u in the ring; the abort must not run",
				    e.type);
		owed = rx_load(&v->ev->owed);
		if (!owed && rx_load(&v->repo->used))
			die("exo: REVOKE-RT: the vector holds saved contents; the abort must not run");
		if (!owed)
			continue;	/* POLLPRI raced with the last free */
		if (owed > v->held)
			die("exo: REVOKE-RT: %" PRIu64 " frames owed, %u held",
			    owed, v->held);
		k = owed;
		give_back(v, k);
		efd_write(r->ack, k);
	}
}

const char *rx_setup_rt(struct bench_col *c)
{
	struct rx_rt *r = calloc(1, sizeof(*r));
	struct exo_revoke_notify rn;
	const char *skip;
	int ret;

	if (!r)
		die("out of memory");
	skip = rx_open(&r->v, c->npages);
	if (skip) {
		free(r);
		return skip;
	}
	rx_alloc(&r->v, r->v.caps, c->npages);
	rx_bind(&r->v, r->v.caps, c->npages);
	r->v.held = c->npages;
	rv_fill(r->v.va, c->npages, 0);

	r->notify = eventfd(0, EFD_CLOEXEC);
	r->ack = eventfd(0, EFD_CLOEXEC);
	r->stop = eventfd(0, EFD_CLOEXEC);
	if (r->notify < 0 || r->ack < 0 || r->stop < 0)
		die("eventfd: %s", strerror(errno));
	memset(&rn, 0, sizeof(rn));
	rn.size = sizeof(rn);
	rn.eventfd = r->notify;
	if (ioctl(r->v.fd, EXO_IOC_REVOKE_NOTIFY, &rn))
		die("exo: EXO_IOC_REVOKE_NOTIFY: %s", strerror(errno));
	r->hcursor = r->mcursor = rx_load(&r->v.ev->head);
	ret = pthread_create(&r->thread, NULL, rt_handler, r);
	if (ret)
		die("pthread_create: %s", strerror(ret));
	c->priv = r;
	return NULL;
}

void rx_rt(struct bench_col *c, double *out)
{
	struct rx_rt *r = c->priv;
	struct rx_victim *v = &r->v;
	const struct exo_events_header *h = v->ev;
	unsigned int n = c->npages;
	struct exo_ctx_info before, after;
	struct exo_event e;
	uint64_t t0, id, got;
	int done = 0;

	rx_info(v, &before);
	t0 = bench_now();
	id = rx_revoke(v->id, n, 0);
	while (!done) {
		efd_read(r->notify);
		while (rx_next_event(v, &r->mcursor, &e)) {
			if (e.id != id)
				die("exo: REVOKE-RT: an event of request %" PRIu64
				    " during request %" PRIu64, (uint64_t)e.id, id);
			if (e.type == EXO_EV_REVOKE_URGENT)
				continue;
			if ((e.type != EXO_EV_REVOKE &&
			     e.type != EXO_EV_REVOKE_DONE) || e.nr != n)
				die("exo: REVOKE-RT: event type %u for %" PRIu64
				    " frames; expected REVOKE, then REVOKE_DONE, for %u",
				    e.type, (uint64_t)e.nr, n);
			done = e.type == EXO_EV_REVOKE_DONE;
		}
	}
	out[0] = bench_since(t0);

	/* The handler may still be on its way out of its last free. */
	for (got = 0; got < n; )
		got += efd_read(r->ack);
	rx_info(v, &after);
	if (got != n || v->held || rx_load(&h->owed) ||
	    __atomic_load_n(&h->state, __ATOMIC_ACQUIRE) != EXO_REVOKE_IDLE ||
	    rx_load(&h->deadline_ns) || rx_load(&h->revoke_id) != id)
		die("exo: REVOKE-RT: after the request the handler gave %" PRIu64
		    " of %u frames and holds %u; the ring says %" PRIu64
		    " owed, state %u, deadline %" PRIu64 ", request %" PRIu64,
		    got, n, v->held, rx_load(&h->owed), h->state,
		    rx_load(&h->deadline_ns), rx_load(&h->revoke_id));
	if (after.frames || after.owed || after.bindings ||
	    after.revoke_requested != before.revoke_requested + n ||
	    after.revoke_returned != before.revoke_returned + n ||
	    after.repossessed != before.repossessed)
		die("exo: REVOKE-RT: the context holds %" PRIu64 " frames, owes %"
		    PRIu64 ", has %" PRIu64 " bindings; requested +%" PRIu64
		    ", returned +%" PRIu64 ", repossessed +%" PRIu64
		    "; expected none, none, none, %u, %u, 0",
		    (uint64_t)after.frames, (uint64_t)after.owed,
		    (uint64_t)after.bindings,
		    (uint64_t)(after.revoke_requested - before.revoke_requested),
		    (uint64_t)(after.revoke_returned - before.revoke_returned),
		    (uint64_t)(after.repossessed - before.repossessed), n, n);

	/* The next round's frames, in use again. */
	rx_alloc(v, v->caps, n);
	rx_bind(v, v->caps, n);
	v->held = n;
	rv_fill(v->va, n, ++r->round);
}

void rx_teardown_rt(struct bench_col *c)
{
	struct rx_rt *r = c->priv;

	efd_write(r->stop, 1);
	pthread_join(r->thread, NULL);
	rx_close(&r->v);
	close(r->notify);
	close(r->ack);
	close(r->stop);
	free(r);
}
