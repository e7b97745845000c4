/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Read-only tables the library OS maps: the frame table, the event ring
 * and the repossession vector (exo_table.c).
 */
#ifndef _EXO_TABLE_H
#define _EXO_TABLE_H

#include <linux/compiler.h>
#include <linux/types.h>
#include <asm/barrier.h>
#include <linux/exo.h>

struct vm_area_struct;

/**
 * struct exo_table - one read-only table: a &struct exo_table_header, the
 *	table's own header fields, then @nr entries of @entry_size bytes.
 * @hdr: the table (vmalloc_user); its own header type starts with
 *	&struct exo_table_header.
 * @size: bytes in @hdr, a multiple of PAGE_SIZE.
 * @nr: entries.
 * @entry_size: bytes per entry.
 */
struct exo_table {
	void *hdr;
	size_t size;
	u32 nr;
	u32 entry_size;
};

int exo_table_init(struct exo_table *t, u32 magic, u32 version, u32 ctx_id,
		   size_t header_size, u32 entry_size, u32 nr);
void exo_table_fini(struct exo_table *t);
int exo_table_mmap(struct exo_table *t, struct vm_area_struct *vma);

/* Entry @i of @t. */
static inline void *exo_table_entry(const struct exo_table *t, u32 i)
{
	const struct exo_table_header *h = t->hdr;

	return (u8 *)t->hdr + h->entries_offset + (size_t)i * t->entry_size;
}

/*
 * An entry's 32-bit sequence count around a change (odd while it
 * changes): the writer side of the protocol in &struct exo_table_header.
 */
static inline void exo_table_write_begin(u32 *seq)
{
	WRITE_ONCE(*seq, *seq + 1);
	/* Pairs with the reader's fence after its first read of seq. */
	smp_wmb();
}

static inline void exo_table_write_end(u32 *seq)
{
	/* Pairs with the reader's fence before its second read of seq. */
	smp_wmb();
	WRITE_ONCE(*seq, *seq + 1);
}

#endif /* _EXO_TABLE_H */
