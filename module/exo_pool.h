/* SPDX-License-Identifier: GPL-2.0 */
/* exo's own region of frames, kept for naming (exo_pool.c). */
#ifndef _EXO_POOL_H
#define _EXO_POOL_H

#include <linux/spinlock.h>
#include <linux/types.h>

struct attribute_group;

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
extern const struct attribute_group exo_pool_attr_group;

int exo_pool_init(void);
void exo_pool_exit(void);
bool exo_pool_contains(unsigned long pfn);
int exo_pool_take(unsigned long pfn);
void exo_pool_put(unsigned long pfn);
unsigned int exo_pool_nr_free(void);

#endif /* _EXO_POOL_H */
