// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * libexo: revocation, the raw calls. The ioctl wrappers (REVOKE,
 * REVOKE_NOTIFY, FRAME_CRITICAL, FRAME_GRANT, RECOVER) and lock-free
 * readers for the two read-only tables the module gives a context for
 * revocation: the event ring (EXO_MMAP_EVENTS) and the repossession vector
 * (EXO_MMAP_REPO), both mapped, checked and read through table.c.
 * What to give back, and what to do with repossessed pages, is policy: a
 * managed region's is in vm_revoke.c and vm_repo.c.
 *
 * The mappings are made on first use and stay until exo_close(). After
 * that the readers only load from memory and are async-signal-safe.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

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
	ret = lx_ioctl(exo, EXO_IOC_REVOKE, &r);
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
	return lx_ioctl(exo, EXO_IOC_REVOKE_NOTIFY, &n);
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
	ret = lx_ioctl(exo, EXO_IOC_FRAME_CRITICAL, &c);
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
	ret = lx_ioctl(exo, EXO_IOC_FRAME_GRANT, &g);
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
	return lx_ioctl(exo, EXO_IOC_RECOVER, &r);
}

/* Map one of the two tables unless done, and return its header. */
static int rv_table(struct exo *exo, struct lx_table *t,
		    const struct exo_table_header **h)
{
	if (!(exo->api.features & EXO_FEAT_REVOKE))
		return -EOPNOTSUPP;
	return lx_table_map(exo, t, h);
}

static int rv_events(struct exo *exo, const struct exo_events_header **h)
{
	if (!exo)
		return -EINVAL;
	return rv_table(exo, &exo->events,
			(const struct exo_table_header **)h);
}

static int rv_repo(struct exo *exo, const struct exo_repo_header **h)
{
	if (!exo)
		return -EINVAL;
	return rv_table(exo, &exo->repo, (const struct exo_table_header **)h);
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

/*
 * Event n lies in entry n % nr_entries and is complete when that entry's
 * seq reads n + 1. An entry whose seq is beyond n + 1 holds a later event:
 * n was overwritten, and so may be every event up to head - nr_entries.
 * The ring's own protocol; table.c only checked its header and copies.
 */
int exo_events_next(struct exo *exo, uint64_t *pos, struct exo_event *out,
		    uint64_t *lost)
{
	const struct exo_events_header *h;
	const struct exo_table_header *th;
	const struct exo_event *e;
	struct exo_event tmp;
	uint64_t p, n, seq, head, skipped = 0;
	int ret = -EAGAIN, i;

	if (!exo || !pos || !out)
		return -EINVAL;
	ret = rv_events(exo, &h);
	if (ret)
		return ret;
	th = (const struct exo_table_header *)h;
	ret = -EAGAIN;
	n = h->nr_entries;
	p = *pos;
	for (i = 0; i < EXO_SEQ_TRIES; i++) {
		exo_seq_backoff(i);
		e = lx_table_entry(th, p & (n - 1));
		seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
		/* Order the field loads after the first seq load. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (seq == p + 1) {
			lx_table_copy(&tmp, sizeof(tmp), e, th);
			tmp.seq = seq;
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
	int ret;

	if (!exo || !out)
		return -EINVAL;
	ret = rv_repo(exo, &h);
	if (ret)
		return ret;
	return lx_table_read((const struct exo_table_header *)h, slot, out,
			     sizeof(*out));
}
