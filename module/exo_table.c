// SPDX-License-Identifier: GPL-2.0
/*
 * Exposed kernel data, as Aegis exposed its own: tables the library OS
 * maps read-only and reads with no system call. The frame table, the
 * event ring and the repossession vector are each one of these: the same
 * header, the same mapping rules; entries that change under a sequence
 * count use exo_table_write_begin() and exo_table_write_end().
 */
#include <linux/build_bug.h>
#include <linux/mm.h>
#include <linux/stddef.h>
#include <linux/vmalloc.h>

#include "exo.h"
#include "exo_compat.h"
#include "exo_table.h"

/* Each table's header starts with the common one (uapi). */
#define EXO_TABLE_HDR_CHECK(_t)						\
	static_assert(offsetofend(struct _t, entries_offset) ==		\
		      sizeof(struct exo_table_header))
EXO_TABLE_HDR_CHECK(exo_ftable_header);
EXO_TABLE_HDR_CHECK(exo_events_header);
EXO_TABLE_HDR_CHECK(exo_repo_header);

/**
 * exo_table_init() - allocate a table and fill in its common header.
 * @t: the table.
 * @magic: its magic number.
 * @version: its layout version.
 * @ctx_id: the context it belongs to.
 * @header_size: sizeof its own header type; entry 0 follows.
 * @entry_size: bytes per entry.
 * @nr: entries.
 *
 * The rest is zero.
 *
 * Return: 0 or -ENOMEM.
 */
int exo_table_init(struct exo_table *t, u32 magic, u32 version, u32 ctx_id,
		   size_t header_size, u32 entry_size, u32 nr)
{
	size_t size = PAGE_ALIGN(header_size + (size_t)nr * entry_size);
	struct exo_table_header *h;

	h = vmalloc_user(size);
	if (!h)
		return -ENOMEM;
	h->magic = magic;
	h->version = version;
	h->ctx_id = ctx_id;
	h->nr_entries = nr;
	h->entry_size = entry_size;
	h->entries_offset = header_size;
	t->hdr = h;
	t->size = size;
	t->nr = nr;
	t->entry_size = entry_size;
	return 0;
}

/**
 * exo_table_fini() - free a table (its mappings hold the context, so
 *	none is left).
 * @t: the table.
 */
void exo_table_fini(struct exo_table *t)
{
	vfree(t->hdr);
	t->hdr = NULL;
}

/**
 * exo_table_mmap() - map a table read-only into the caller.
 * @t: the table.
 * @vma: the mapping, at most the table's size.
 *
 * Return: 0, -EACCES for a writable mapping, -EINVAL for a bad size.
 */
int exo_table_mmap(struct exo_table *t, struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	if (vma->vm_end - vma->vm_start > t->size)
		return -EINVAL;
	/* Never writable later, and not handed to a forked child. */
	vm_flags_clear(vma, VM_MAYWRITE);
	vm_flags_set(vma, VM_DONTCOPY);
	return remap_vmalloc_range(vma, t->hdr, 0);
}
