// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * libexo: revocation, the raw calls. The ioctl wrappers (REVOKE,
 * REVOKE_NOTIFY, FRAME_CRITICAL, FRAME_GRANT, RECOVER) and lock-free
 * readers for the two read-only mappings the module gives a context: the
 * event ring (EXO_MMAP_EVENTS) and the repossession vector (EXO_MMAP_REPO).
 * What to give back, and what to do with repossessed pages, is policy: the
 * pager's is in vm_revoke.c.
 *
 * The mappings are made on first use and stay until exo_close(). After
 * that the readers only load from memory and are async-signal-safe.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "libexo.h"
#include "internal.h"

int exo_revoke_request(struct exo *exo, uint32_t ctx_id, uint64_t nr,
		       uint32_t timeout_ms, uint32_t flags, uint64_t *id)
{
	struct exo_revoke r = {
		.size = sizeof(r),
		.flags = flags,
		.ctx_id = ctx_id,
		.timeout_ms = timeout_ms,
		.nr = nr,
	};
	int ret;

	if (!exo)
		return -EINVAL;
	ret = exo_ioctl(exo, EXO_IOC_REVOKE, &r);
	if (!ret && id)
		*id = r.id;
	return ret;
}

int exo_revoke_notify(struct exo *exo, int eventfd, uint32_t signo)
{
	struct exo_revoke_notify n = {
		.size = sizeof(n),
		.eventfd = eventfd,
		.signo = signo,
	};

	if (!exo)
		return -EINVAL;
	return exo_ioctl(exo, EXO_IOC_REVOKE_NOTIFY, &n);
}

int exo_frame_critical(struct exo *exo, exo_cap_t cap, uint32_t flags,
		       uint32_t *critical)
{
	struct exo_frame_critical c = {
		.size = sizeof(c),
		.flags = flags,
		.cap = cap,
	};
	int ret;

	if (!exo)
		return -EINVAL;
	ret = exo_ioctl(exo, EXO_IOC_FRAME_CRITICAL, &c);
	if (!ret && critical)
		*critical = c.critical;
	return ret;
}

int exo_frame_grant(struct exo *exo, exo_cap_t cap, uint32_t ctx_id,
		    exo_cap_t *grant_cap)
{
	struct exo_frame_grant g = {
		.size = sizeof(g),
		.cap = cap,
		.ctx_id = ctx_id,
	};
	int ret;

	if (!exo || !grant_cap)
		return -EINVAL;
	ret = exo_ioctl(exo, EXO_IOC_FRAME_GRANT, &g);
	if (!ret)
		*grant_cap = g.grant_cap;
	return ret;
}

int exo_repo_recover(struct exo *exo, uint32_t slot, uint32_t frame,
		     uint32_t nr, uint32_t flags, exo_cap_t cap,
		     uint32_t dst_frame, void *buf)
{
	struct exo_recover r = {
		.size = sizeof(r),
		.flags = flags,
		.slot = slot,
		.frame = frame,
		.nr = nr,
		.dst_frame = dst_frame,
		.cap = cap,
		.buf = (uintptr_t)buf,
	};

	if (!exo)
		return -EINVAL;
	return exo_ioctl(exo, EXO_IOC_RECOVER, &r);
}

/*
 * Both mappings start with the same six fields (magic, version, ctx_id,
 * nr_entries, entry_size, entries_offset); check them once so that every
 * later read can rely on the geometry.
 */
struct rv_geometry {
	uint32_t magic;
	uint32_t version;
	uint32_t ctx_id;
	uint32_t nr_entries;
	uint32_t entry_size;
	uint32_t entries_offset;
};

static int rv_check(const struct exo *exo, const void *map, uint64_t size,
		    uint32_t magic, uint32_t version, size_t hdr_size,
		    size_t ent_size, size_t ent_align, bool pow2)
{
	const struct rv_geometry *g = map;
	uint64_t end;

	if (size < hdr_size)
		return -EPROTO;
	if (g->magic != magic || g->version != version ||
	    g->ctx_id != exo->api.ctx_id)
		return -EPROTO;
	/* A larger entry is a newer module's; we read the prefix we know. */
	if (g->entry_size < ent_size || g->entry_size % ent_align)
		return -EPROTO;
	if (g->entries_offset < hdr_size || g->entries_offset % ent_align)
		return -EPROTO;
	end = (uint64_t)g->entries_offset +
	      (uint64_t)g->nr_entries * g->entry_size;
	if (end > size)
		return -EPROTO;
	/* The ring: event n is in entry n & (nr_entries - 1). */
	if (pow2 && (!g->nr_entries || (g->nr_entries & (g->nr_entries - 1))))
		return -EPROTO;
	return 0;
}

/* Map one of the two read-only areas unless done, and return it. */
static int rv_map(struct exo *exo, void **slot, uint64_t size, uint64_t off,
		  uint32_t magic, uint32_t version, size_t hdr_size,
		  size_t ent_size, size_t ent_align, bool pow2,
		  const void **out)
{
	void *map, *cur = NULL;
	int ret;

	map = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (map) {
		*out = map;
		return 0;
	}
	if (!(exo->api.features & EXO_FEAT_REVOKE))
		return -EOPNOTSUPP;
	if ((size_t)size != size || size < hdr_size)
		return -EPROTO;
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, exo->fd, (off_t)off);
	if (map == MAP_FAILED)
		return -errno;
	ret = rv_check(exo, map, size, magic, version, hdr_size, ent_size,
		       ent_align, pow2);
	if (ret) {
		munmap(map, size);
		return ret;
	}
	/* Two threads raced to map it: keep the first, drop ours. */
	if (!__atomic_compare_exchange_n(slot, &cur, map, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(map, size);
		map = cur;
	}
	*out = map;
	return 0;
}

static int rv_events(struct exo *exo, const struct exo_events_header **h)
{
	if (!exo)
		return -EINVAL;
	return rv_map(exo, &exo->events, exo->api.events_size,
		      EXO_MMAP_EVENTS, EXO_EVENTS_MAGIC, EXO_EVENTS_VERSION,
		      sizeof(struct exo_events_header),
		      sizeof(struct exo_event), _Alignof(struct exo_event),
		      true, (const void **)h);
}

static int rv_repo(struct exo *exo, const struct exo_repo_header **h)
{
	if (!exo)
		return -EINVAL;
	return rv_map(exo, &exo->repo, exo->api.repo_size, EXO_MMAP_REPO,
		      EXO_REPO_MAGIC, EXO_REPO_VERSION,
		      sizeof(struct exo_repo_header),
		      sizeof(struct exo_repo_entry),
		      _Alignof(struct exo_repo_entry), false,
		      (const void **)h);
}

void exo_revoke_unmap(struct exo *exo)
{
	if (exo->events)
		munmap(exo->events, exo->api.events_size);
	if (exo->repo)
		munmap(exo->repo, exo->api.repo_size);
	exo->events = NULL;
	exo->repo = NULL;
}

/* Pointers: NULL and errno on failure, as the C library does. */
const struct exo_events_header *exo_events(struct exo *exo)
{
	const struct exo_events_header *h;
	int ret = rv_events(exo, &h);

	if (ret) {
		errno = -ret;
		return NULL;
	}
	return h;
}

const struct exo_repo_header *exo_repo(struct exo *exo)
{
	const struct exo_repo_header *h;
	int ret = rv_repo(exo, &h);

	if (ret) {
		errno = -ret;
		return NULL;
	}
	return h;
}

static const void *rv_entry(const void *hdr, uint64_t index)
{
	const struct rv_geometry *g = hdr;

	return (const char *)hdr + g->entries_offset +
	       (size_t)index * g->entry_size;
}

/*
 * Event n lies in entry n % nr_entries and is complete when that entry's
 * seq reads n + 1. An entry whose seq is beyond n + 1 holds a later event:
 * n was overwritten, and so may be every event up to head - nr_entries.
 */
int exo_events_next(struct exo *exo, uint64_t *pos, struct exo_event *out,
		    uint64_t *lost)
{
	const struct exo_events_header *h;
	const struct exo_event *e;
	struct exo_event tmp;
	uint64_t p, n, seq, head, skipped = 0;
	int ret = -EAGAIN, i;

	if (!exo || !pos || !out)
		return -EINVAL;
	ret = rv_events(exo, &h);
	if (ret)
		return ret;
	ret = -EAGAIN;
	n = h->nr_entries;
	p = *pos;
	for (i = 0; i < EXO_SEQ_TRIES; i++) {
		exo_seq_backoff(i);
		e = rv_entry(h, p & (n - 1));
		seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
		/* Order the field loads after the first seq load. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (seq == p + 1) {
			memset(&tmp, 0, sizeof(tmp));
			tmp.seq = seq;
			tmp.type = READ_ONCE(e->type);
			tmp.id = READ_ONCE(e->id);
			tmp.nr = READ_ONCE(e->nr);
			tmp.deadline_ns = READ_ONCE(e->deadline_ns);
			tmp.arg = READ_ONCE(e->arg);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != seq)
				continue;	/* overwritten as we read */
			*out = tmp;
			p++;
			ret = 1;
			break;
		}
		head = READ_ONCE(h->head);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (seq > p + 1 || head > p + n) {
			/* Lost: go on from the oldest that can be intact. */
			seq = head > n ? head - n : 0;
			if (seq <= p)
				seq = p + 1;
			skipped += seq - p;
			p = seq;
			continue;
		}
		if (head <= p) {
			ret = 0;	/* nothing posted past @pos */
			break;
		}
		/* Posted, not complete: the module is writing the entry. */
	}
	*pos = p;
	if (lost)
		*lost = skipped;
	return ret;
}

/*
 * The header has no seqcount: its fields are the state now, each written
 * on its own. Take two copies that agree, so that owed, state and the
 * deadline come from one moment unless the module changed them back.
 */
int exo_revoke_state(struct exo *exo, struct exo_revoke_status *out)
{
	const struct exo_events_header *h;
	struct exo_revoke_status a, b;
	int ret, i;

	if (!exo || !out)
		return -EINVAL;
	ret = rv_events(exo, &h);
	if (ret)
		return ret;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	for (i = 0; i < EXO_SEQ_TRIES; i++) {
		exo_seq_backoff(i);
		a.head = READ_ONCE(h->head);
		a.id = READ_ONCE(h->revoke_id);
		a.owed = READ_ONCE(h->owed);
		a.deadline_ns = READ_ONCE(h->deadline_ns);
		a.state = READ_ONCE(h->state);
		a.repossessed = READ_ONCE(h->repossessed);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (i && !memcmp(&a, &b, sizeof(a))) {
			*out = a;
			return 0;
		}
		b = a;
	}
	return -EAGAIN;
}

int exo_repo_read(struct exo *exo, uint32_t slot,
		  struct exo_repo_entry *out)
{
	const struct exo_repo_header *h;
	const struct exo_repo_entry *e;
	struct exo_repo_entry tmp;
	uint32_t seq;
	int ret, i, v;

	if (!exo || !out)
		return -EINVAL;
	ret = rv_repo(exo, &h);
	if (ret)
		return ret;
	if (slot >= h->nr_entries)
		return -ERANGE;
	e = rv_entry(h, slot);
	for (i = 0; i < EXO_SEQ_TRIES; i++) {
		exo_seq_backoff(i);
		seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
		if (seq & 1)
			continue;	/* writer in progress */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);

		memset(&tmp, 0, sizeof(tmp));
		tmp.seq = seq;
		tmp.state = READ_ONCE(e->state);
		tmp.cap = READ_ONCE(e->cap);
		tmp.pfn = READ_ONCE(e->pfn);
		tmp.id = READ_ONCE(e->id);
		tmp.save = READ_ONCE(e->save);
		tmp.order = READ_ONCE(e->order);
		tmp.nr_va = READ_ONCE(e->nr_va);
		for (v = 0; v < EXO_REPO_VAS; v++)
			tmp.va[v] = READ_ONCE(e->va[v]);
		tmp.flags = READ_ONCE(e->flags);

		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == seq) {
			*out = tmp;
			return 0;
		}
	}
	return -EAGAIN;
}
