/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exo internals: one struct exo_ctx per open file of /dev/exo.
 */
#ifndef _EXO_INTERNAL_H
#define _EXO_INTERNAL_H

#include <linux/atomic.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <linux/exo.h>

struct exo_ctx;

/**
 * struct exo_frames - frames named by one capability.
 * @pfn: first frame.
 * @gen: generation of the capability; part of its name.
 * @index: index of the capability and of its frame-table entry.
 * @order: the capability names 2^@order frames from @pfn.
 * @how: the &enum exo_alloc_how that allocated them.
 */
struct exo_frames {
	unsigned long pfn;
	u32 gen;
	u32 index;
	u8 order;
	u8 how;
};

/**
 * struct exo_ctx - one library OS: an open file of /dev/exo.
 * @mm: address space of the opener; other address spaces get -EIO. NULL
 *	for a context made by a KUnit test.
 * @id: context id, unique among live contexts.
 * @frame_quota: frames this context may hold at once.
 * @nr_slots: frame-table entries (capability indices 1..@nr_slots - 1).
 * @lock: serialises allocation, free and frame-table writes.
 * @caps: capability index -> struct exo_frames.
 * @frames: frames held now.
 * @allocs: successful allocations since open.
 * @frees: successful frees since open.
 * @ftable: the frame table (vmalloc_user, mapped read-only by user space).
 * @ftable_size: bytes in @ftable, a multiple of PAGE_SIZE.
 */
struct exo_ctx {
	struct mm_struct *mm;
	u32 id;
	u32 frame_quota;
	u32 nr_slots;
	struct mutex lock;	/* allocation, free, frame-table writes */
	struct xarray caps;
	u64 frames;
	u64 allocs;
	u64 frees;
	struct exo_ftable_header *ftable;
	size_t ftable_size;
};

/* Module parameters (exo_main.c). */
extern unsigned int exo_frame_quota;
extern unsigned int exo_max_caps;
extern unsigned int exo_max_order;
extern unsigned int exo_nr_colours;

/* Module-wide counters shown in sysfs (exo_main.c). */
extern atomic_long_t exo_nr_frames;
extern atomic_long_t exo_frames_allocated;
extern atomic_long_t exo_frames_freed;

unsigned int exo_effective_max_order(void);

/* exo_main.c */
int exo_core_init(void);
struct exo_ctx *exo_ctx_create(struct mm_struct *mm);
void exo_ctx_destroy(struct exo_ctx *ctx);

/* exo_ioctl.c */
long exo_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int exo_ioctl_run(struct exo_ctx *ctx, unsigned int cmd, void *kbuf);

/* exo_frame.c */
int exo_frame_alloc(struct exo_ctx *ctx, struct exo_frame_alloc *req);
int exo_frame_free(struct exo_ctx *ctx, u64 cap);
void exo_frame_unalloc(struct exo_ctx *ctx, u64 cap);
void exo_frame_release_all(struct exo_ctx *ctx);
bool exo_frames_idle(void);

/* exo_ftable.c */
int exo_ftable_init(struct exo_ctx *ctx, u32 nr_slots);
void exo_ftable_destroy(struct exo_ctx *ctx);
void exo_ftable_publish(struct exo_ctx *ctx, const struct exo_frames *f);
void exo_ftable_clear(struct exo_ctx *ctx, u32 index);
int exo_ftable_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma);

/**
 * struct exo_pool - exo's own region of frames, kept for naming.
 * @base_pfn: first frame.
 * @nr: frames in the region; 0 if there is none.
 * @lock: protects @free.
 * @free: bit i set while frame @base_pfn + i is held by no context.
 */
struct exo_pool {
	unsigned long base_pfn;
	unsigned int nr;
	spinlock_t lock;	/* protects @free */
	unsigned long *free;
};

extern struct exo_pool exo_pool;
extern unsigned int exo_pool_order;

/* exo_pool.c */
int exo_pool_init(void);
void exo_pool_exit(void);
bool exo_pool_contains(unsigned long pfn);
int exo_pool_take(unsigned long pfn);
void exo_pool_put(unsigned long pfn);
unsigned int exo_pool_nr_free(void);

/* exo_colour.c */
unsigned int exo_detect_colours(void);

/* Frames this many apart share the last-level cache's sets. */
static inline unsigned int exo_colour_of(unsigned long pfn)
{
	return pfn % exo_nr_colours;
}

static inline u64 exo_cap_make(u32 index, u32 gen)
{
	return (u64)gen << 32 | index;
}

#endif /* _EXO_INTERNAL_H */
