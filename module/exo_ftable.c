// SPDX-License-Identifier: GPL-2.0
/*
 * The frame table: exposed kernel data, as Aegis exposed its own. The
 * library OS maps it read-only and reads what it owns with no system call.
 * Entries change under a per-entry sequence count (odd while changing).
 */
#include <linux/mm.h>
#include <linux/vmalloc.h>

#include "exo.h"

static struct exo_ftable_entry *exo_ftable_entry(struct exo_ctx *ctx,
						 u32 index)
{
	return (struct exo_ftable_entry *)((char *)ctx->ftable +
					   sizeof(*ctx->ftable)) + index;
}

/**
 * exo_ftable_init() - allocate and fill the header of a context's table.
 * @ctx: the context; @ctx->id must be set.
 * @nr_slots: entries, including the unused entry 0.
 *
 * Return: 0 or -ENOMEM.
 */
int exo_ftable_init(struct exo_ctx *ctx, u32 nr_slots)
{
	size_t size = sizeof(struct exo_ftable_header) +
		      (size_t)nr_slots * sizeof(struct exo_ftable_entry);
	struct exo_ftable_header *h;

	size = PAGE_ALIGN(size);
	h = vmalloc_user(size);
	if (!h)
		return -ENOMEM;
	h->magic = EXO_FTABLE_MAGIC;
	h->version = EXO_FTABLE_VERSION;
	h->ctx_id = ctx->id;
	h->nr_entries = nr_slots;
	h->entry_size = sizeof(struct exo_ftable_entry);
	h->entries_offset = sizeof(*h);
	ctx->ftable = h;
	ctx->ftable_size = size;
	ctx->nr_slots = nr_slots;
	return 0;
}

void exo_ftable_destroy(struct exo_ctx *ctx)
{
	vfree(ctx->ftable);
	ctx->ftable = NULL;
}

static void exo_ftable_begin(struct exo_ftable_entry *e)
{
	WRITE_ONCE(e->seq, e->seq + 1);
	/* Pairs with the reader's fence after its first read of seq. */
	smp_wmb();
}

static void exo_ftable_end(struct exo_ftable_entry *e)
{
	/* Pairs with the reader's fence before its second read of seq. */
	smp_wmb();
	WRITE_ONCE(e->seq, e->seq + 1);
}

/**
 * exo_ftable_publish() - show a new capability's frames in the table.
 * @ctx: the context, locked.
 * @f: the frames.
 */
void exo_ftable_publish(struct exo_ctx *ctx, const struct exo_frames *f)
{
	struct exo_ftable_entry *e = exo_ftable_entry(ctx, f->index);

	lockdep_assert_held(&ctx->lock);
	exo_ftable_begin(e);
	e->gen = f->gen;
	e->pfn = f->pfn;
	e->owner = f->src ? f->src->holder->id : ctx->id;
	e->order = f->order;
	e->how = f->how;
	e->flags = f->critical ? EXO_FTABLE_CRITICAL : 0;
	e->colour = exo_colour_of(f->pfn);
	e->state = f->src ? EXO_FRAME_GRANTED : EXO_FRAME_OWNED;
	exo_ftable_end(e);
	WRITE_ONCE(ctx->ftable->frames, ctx->frames);
}

/**
 * exo_ftable_clear() - mark an entry free; its generation stays for readers.
 * @ctx: the context, locked; ctx->frames already reduced.
 * @index: the entry.
 */
void exo_ftable_clear(struct exo_ctx *ctx, u32 index)
{
	struct exo_ftable_entry *e = exo_ftable_entry(ctx, index);

	lockdep_assert_held(&ctx->lock);
	exo_ftable_begin(e);
	e->state = EXO_FRAME_FREE;
	e->pfn = 0;
	e->owner = 0;
	e->order = 0;
	e->how = 0;
	e->flags = 0;
	e->colour = 0;
	exo_ftable_end(e);
}

/**
 * exo_mmap_readonly() - map exposed kernel data read-only into the caller.
 * @vma: the mapping.
 * @buf: the data (vmalloc_user).
 * @size: its size, a multiple of PAGE_SIZE.
 *
 * Return: 0, -EACCES for a writable mapping, -EINVAL for a bad size.
 */
int exo_mmap_readonly(struct vm_area_struct *vma, void *buf, size_t size)
{
	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	if (vma->vm_end - vma->vm_start > size)
		return -EINVAL;
	/* Never writable later, and not handed to a forked child. */
	vma->vm_flags &= ~VM_MAYWRITE;
	vma->vm_flags |= VM_DONTCOPY;
	return remap_vmalloc_range(vma, buf, 0);
}

/**
 * exo_ftable_mmap() - map the frame table read-only into the caller.
 * @ctx: the context.
 * @vma: a mapping at offset %EXO_MMAP_FTABLE, at most the table's size.
 *
 * Return: 0, -EACCES for a writable mapping, -EINVAL for a bad size.
 */
int exo_ftable_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma)
{
	return exo_mmap_readonly(vma, ctx->ftable, ctx->ftable_size);
}
