/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The library OS's own page table, registered for in-kernel refill, as
 * Aegis refilled its TLB from a software TLB (exo_stlb.c).
 */
#ifndef _EXO_STLB_H
#define _EXO_STLB_H

#include <linux/types.h>

struct exo_ctx;
struct exo_ucmd;
struct page;
struct vm_area_struct;

/**
 * struct exo_stlb_map - the registered table, pinned and mapped into the
 *	kernel; immutable once registered (replaced whole under ctx->lock).
 * @table: kernel address of entry 0.
 * @base: virtual address entry 0 describes.
 * @nr: entries.
 * @vaddr: the vmap() of @pages.
 * @pages: the pinned user pages holding the table.
 * @nr_pages: entries in @pages.
 */
struct exo_stlb_map {
	const struct exo_upte *table;
	unsigned long base;
	u32 nr;
	void *vaddr;
	struct page **pages;
	unsigned int nr_pages;
};

/* Most entries a registered table may have (the parameter stlb_max). */
extern unsigned int exo_stlb_max;

void *exo_stlb_refill(struct exo_ctx *ctx, struct vm_area_struct *vma,
		      unsigned long va, void *b, u32 access);
void exo_stlb_free(struct exo_stlb_map *stlb);

int exo_stlb_cmd_set(struct exo_ucmd *ucmd);

#endif /* _EXO_STLB_H */
