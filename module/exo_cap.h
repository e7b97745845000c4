/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Capabilities: the secure bindings that name frames (exo_cap.c), and the
 * frame table that shows them to the library OS.
 */
#ifndef _EXO_CAP_H
#define _EXO_CAP_H

#include <linux/list.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include "exo_table.h"

struct exo_ctx;
struct vm_area_struct;

/**
 * struct exo_cap - frames named by one capability of one context.
 * @pfn: first frame.
 * @gen: generation of the capability; part of its name.
 * @index: index of the capability and of its frame-table entry.
 * @order: the capability names 2^@order frames from @pfn.
 * @how: the &enum exo_alloc_how that allocated them.
 * @critical: marked critical: taken by an abort only after every other.
 * @pinned: part of a network ring: not freed, never taken by an abort.
 * @nr_bindings: virtual pages of @holder bound to any of these frames; the
 *	frames cannot be freed while it is not 0 (special PTEs hold no
 *	reference).
 * @holder: the context whose capability this is.
 * @src: for a granted capability, the owner's; NULL when owned.
 * @grants: owned: the capabilities granted for these frames, linked by
 *	their @grant_node. Under exo_abort_lock (exo_grant.h).
 * @grant_node: granted: link in @src->grants.
 *
 * Every field is under the holder's ctx->lock but for the grant links.
 */
struct exo_cap {
	unsigned long pfn;
	u32 gen;
	u32 index;
	u8 order;
	u8 how;
	bool critical;
	bool pinned;
	u32 nr_bindings;
	struct exo_ctx *holder;
	struct exo_cap *src;
	struct list_head grants;
	struct list_head grant_node;
};

/**
 * struct exo_cap_ctx - a context's capabilities.
 * @xa: capability index -> &struct exo_cap. Changed under ctx->lock.
 * @nr_slots: frame-table entries; capability indices are 1..@nr_slots - 1.
 * @nr: capabilities held, owned and granted. Under ctx->lock.
 * @granted: of those, capabilities for another context's frames. Under
 *	ctx->lock.
 * @ftable: the frame table (&struct exo_ftable_header), written under
 *	ctx->lock.
 */
struct exo_cap_ctx {
	struct xarray xa;
	u32 nr_slots;
	u32 nr;
	u32 granted;
	struct exo_table ftable;
};

static inline u64 exo_cap_make(u32 index, u32 gen)
{
	return (u64)gen << 32 | index;
}

/* The capability at @index, whatever its generation. Under ctx->lock. */
static inline struct exo_cap *exo_cap_at(struct exo_cap_ctx *caps, u32 index)
{
	return xa_load(&caps->xa, index);
}

int exo_caps_init(struct exo_ctx *ctx);
void exo_caps_fini(struct exo_ctx *ctx);
int exo_caps_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma);
struct exo_cap *exo_cap_lookup(struct exo_ctx *ctx, u64 cap);
int exo_cap_reserve(struct exo_ctx *ctx, struct exo_cap *c);
void exo_cap_unreserve(struct exo_ctx *ctx, struct exo_cap *c);
void exo_cap_publish(struct exo_ctx *ctx, struct exo_cap *c);
void exo_cap_update(struct exo_ctx *ctx, const struct exo_cap *c);
void exo_cap_erase(struct exo_ctx *ctx, struct exo_cap *c);
void exo_caps_show_frames(struct exo_ctx *ctx);

#endif /* _EXO_CAP_H */
