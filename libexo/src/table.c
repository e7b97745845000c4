// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * libexo: the read-only tables the module maps into the process, the
 * frame table (EXO_MMAP_FTABLE), the event ring (EXO_MMAP_EVENTS) and the
 * repossession vector (EXO_MMAP_REPO). Each begins with struct
 * exo_table_header: it is checked once, when the table is mapped, and
 * every later read relies on its geometry, which the module never changes.
 *
 * Entries of the frame table and of the vector change under a 32-bit
 * sequence count, their first field; lx_table_read() is their one
 * reader. The event ring numbers its entries with 64-bit counts instead
 * (exo_events_next() in revoke.c) and shares the check and the copy.
 *
 * Once a table is mapped, reading it only loads from memory: the readers
 * are async-signal-safe.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "libexo.h"
#include "internal.h"

/* What libexo knows of each table. */
struct exo_table_type {
	uint64_t offset;	/* EXO_MMAP_* */
	uint32_t magic;
	uint32_t version;
	size_t hdr_size;	/* the table's own header struct */
	size_t ent_size;	/* the entry struct libexo was built with */
	size_t ent_align;
	bool ring;		/* entry n at n % nr_entries, a power of two */
};

static const struct exo_table_type exo_table_types[] = {
	[LX_TABLE_FTABLE] = {
		.offset = EXO_MMAP_FTABLE,
		.magic = EXO_FTABLE_MAGIC,
		.version = EXO_FTABLE_VERSION,
		.hdr_size = sizeof(struct exo_ftable_header),
		.ent_size = sizeof(struct exo_ftable_entry),
		.ent_align = _Alignof(struct exo_ftable_entry),
	},
	[LX_TABLE_EVENTS] = {
		.offset = EXO_MMAP_EVENTS,
		.magic = EXO_EVENTS_MAGIC,
		.version = EXO_EVENTS_VERSION,
		.hdr_size = sizeof(struct exo_events_header),
		.ent_size = sizeof(struct exo_event),
		.ent_align = _Alignof(struct exo_event),
		.ring = true,
	},
	[LX_TABLE_REPO] = {
		.offset = EXO_MMAP_REPO,
		.magic = EXO_REPO_MAGIC,
		.version = EXO_REPO_VERSION,
		.hdr_size = sizeof(struct exo_repo_header),
		.ent_size = sizeof(struct exo_repo_entry),
		.ent_align = _Alignof(struct exo_repo_entry),
	},
	[LX_TABLE_THREADS] = {
		.offset = EXO_MMAP_THREADS,
		.magic = EXO_THREADS_MAGIC,
		.version = EXO_THREADS_VERSION,
		.hdr_size = sizeof(struct exo_threads_header),
		.ent_size = sizeof(struct exo_thread_info),
		.ent_align = _Alignof(struct exo_thread_info),
	},
};

/* lx_table_read() copies into a buffer of its own first. */
#define LX_TABLE_ENTRY_MAX	128

_Static_assert(sizeof(struct exo_ftable_entry) <= LX_TABLE_ENTRY_MAX &&
	       sizeof(struct exo_repo_entry) <= LX_TABLE_ENTRY_MAX &&
	       sizeof(struct exo_thread_info) <= LX_TABLE_ENTRY_MAX,
	       "a sequence-counted entry outgrew lx_table_read()'s buffer");

void lx_table_init(struct lx_table *t, enum lx_table_kind kind,
		   uint64_t size)
{
	*t = (struct lx_table){ .size = size, .kind = kind };
}

/* The header of a table just mapped: is the geometry inside @size bytes? */
static int lx_table_check(const struct exo *exo, const void *map,
			  size_t size, const struct exo_table_type *type)
{
	const struct exo_table_header *h = map;
	uint64_t end;

	if (h->magic != type->magic || h->version != type->version ||
	    h->ctx_id != exo->api.ctx_id)
		return -EPROTO;
	/* A larger entry is a newer module's; we read the prefix we know. */
	if (h->entry_size < type->ent_size || h->entry_size % type->ent_align)
		return -EPROTO;
	if (h->entries_offset < type->hdr_size ||
	    h->entries_offset % type->ent_align)
		return -EPROTO;
	end = (uint64_t)h->entries_offset +
	      (uint64_t)h->nr_entries * h->entry_size;
	if (end > size)
		return -EPROTO;
	if (type->ring && (!h->nr_entries ||
			   (h->nr_entries & (h->nr_entries - 1))))
		return -EPROTO;
	return 0;
}

/*
 * The table's header, mapping and checking it unless done. Two threads
 * may race to map it: both map and check, the first to publish wins and
 * the other unmaps its own.
 */
int lx_table_map(const struct exo *exo, struct lx_table *t,
		 const struct exo_table_header **out)
{
	const struct exo_table_type *type = &exo_table_types[t->kind];
	void *map, *cur = NULL;
	int ret;

	map = __atomic_load_n(&t->map, __ATOMIC_ACQUIRE);
	if (map) {
		*out = map;
		return 0;
	}
	if ((size_t)t->size != t->size || t->size < type->hdr_size)
		return -EPROTO;
	map = mmap(NULL, (size_t)t->size, PROT_READ, MAP_SHARED, exo->fd,
		   (off_t)type->offset);
	if (map == MAP_FAILED)
		return -errno;
	ret = lx_table_check(exo, map, (size_t)t->size, type);
	if (ret) {
		munmap(map, (size_t)t->size);
		return ret;
	}
	if (!__atomic_compare_exchange_n(&t->map, &cur, map, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(map, (size_t)t->size);
		map = cur;
	}
	*out = map;
	return 0;
}

void lx_table_unmap(struct lx_table *t)
{
	if (t->map)
		munmap(t->map, (size_t)t->size);
	t->map = NULL;
}

/*
 * Copy entry @e into @dst, @size bytes: the smaller of the module's entry
 * and @size from the entry, zeros after. 32-bit volatile loads: the copy
 * need not be single-copy atomic (a torn one shows up in the entry's
 * count), and a 64-bit atomic load is a cmpxchg on some 32-bit targets,
 * which faults on a read-only page. Entries and @dst are 8-byte aligned
 * and their sizes multiples of 8 (lx_table_check()).
 */
void lx_table_copy(void *dst, size_t size, const void *e,
		   const struct exo_table_header *h)
{
	size_t n = size < h->entry_size ? size : h->entry_size, i;
	const volatile uint32_t *s = e;
	uint32_t *d = dst;

	for (i = 0; i < n / sizeof(*d); i++)
		d[i] = s[i];
	memset((char *)dst + n, 0, size - n);
}

/*
 * Read entry @index of a sequence-counted table into @out (@size bytes,
 * the caller's struct): read the count, the entry, the count again, and
 * retry until both reads agree on an even count. -ERANGE past the table,
 * -EAGAIN if the entry kept changing.
 */
int lx_table_read(const struct exo_table_header *h, uint32_t index,
		  void *out, size_t size)
{
	uint64_t buf[LX_TABLE_ENTRY_MAX / sizeof(uint64_t)];
	const uint32_t *seqp;
	uint32_t seq;
	int i;

	if (index >= h->nr_entries)
		return -ERANGE;
	if (size > sizeof(buf))
		return -EINVAL;
	seqp = lx_table_entry(h, index);
	for (i = 0; i < EXO_SEQ_TRIES; i++) {
		exo_seq_backoff(i);
		seq = __atomic_load_n(seqp, __ATOMIC_RELAXED);
		if (seq & 1)
			continue;	/* writer in progress */
		/* Order the entry's loads after the first count load... */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		lx_table_copy(buf, size, seqp, h);
		/* ... and before the second. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(seqp, __ATOMIC_RELAXED) == seq) {
			memcpy(out, buf, size);
			/* The count both reads agreed on. */
			*(uint32_t *)out = seq;
			return 0;
		}
	}
	return -EAGAIN;
}
