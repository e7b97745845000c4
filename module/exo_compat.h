/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exo_compat.h - the kernel interfaces that differ between the kernels exo
 * supports, Debian 12's 6.1 and Debian 13's 6.12 (also served to Debian 12
 * by its security archive and backports), in one place.
 *
 * The rooms use the newer kernel's interface; this header supplies it on
 * the older one. Where the two cannot share a name (a function whose
 * arguments changed), both are wrapped in an exo_ helper. Nothing else in
 * module/ tests the kernel's version (checkpatch's LINUX_VERSION_CODE
 * warning is waived for this file alone, scripts/check.sh). Documentation/kernels.rst lists each
 * difference and why it is handled so.
 */
#ifndef EXO_COMPAT_H
#define EXO_COMPAT_H

#include <linux/eventfd.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/version.h>

/* Whether the kernel built against is older than MAJOR.MINOR. */
#define EXO_KERNEL_BEFORE(major, minor) \
	(LINUX_VERSION_CODE < KERNEL_VERSION(major, minor, 0))

/*
 * 6.4 made MAX_ORDER the largest order rather than one past it, and 6.8
 * renamed it MAX_PAGE_ORDER: the largest order the buddy allocator serves.
 */
#ifndef MAX_PAGE_ORDER
#define MAX_PAGE_ORDER	(MAX_ORDER - 1)
#endif

#if EXO_KERNEL_BEFORE(6, 3)
/* 6.3 made vma->vm_flags read-only, written through these (mmap_lock held). */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/**
 * exo_eventfd_signal() - add one to an eventfd's counter.
 * @ctx: the eventfd.
 *
 * 6.8 dropped eventfd_signal()'s count argument (it was always 1 here).
 */
static inline void exo_eventfd_signal(struct eventfd_ctx *ctx)
{
#if EXO_KERNEL_BEFORE(6, 8)
	eventfd_signal(ctx, 1);
#else
	eventfd_signal(ctx);
#endif
}

/**
 * exo_shrinker_create() - allocate and register a shrinker.
 * @name: its name under /sys/kernel/debug/shrinker (where configured).
 * @count: the count_objects callback.
 * @scan: the scan_objects callback.
 *
 * 6.7 replaced register_shrinker() of a caller's struct with
 * shrinker_alloc() and shrinker_register(); both kernels get a shrinker
 * allocated here and freed by exo_shrinker_destroy().
 *
 * Return: the shrinker, or NULL when memory ran out or registering failed.
 */
static inline struct shrinker *
exo_shrinker_create(const char *name,
		    unsigned long (*count)(struct shrinker *,
					   struct shrink_control *),
		    unsigned long (*scan)(struct shrinker *,
					  struct shrink_control *))
{
	struct shrinker *s;

#if EXO_KERNEL_BEFORE(6, 7)
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	if (register_shrinker(s, "%s", name)) {
		kfree(s);
		return NULL;
	}
#else
	s = shrinker_alloc(0, "%s", name);
	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	shrinker_register(s);
#endif
	return s;
}

/**
 * exo_shrinker_destroy() - unregister and free what exo_shrinker_create()
 * made.
 * @s: the shrinker; NULL is allowed.
 */
static inline void exo_shrinker_destroy(struct shrinker *s)
{
	if (!s)
		return;
#if EXO_KERNEL_BEFORE(6, 7)
	unregister_shrinker(s);
	kfree(s);
#else
	shrinker_free(s);
#endif
}

#endif /* EXO_COMPAT_H */
