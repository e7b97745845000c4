// SPDX-License-Identifier: GPL-2.0
/*
 * Capabilities: a context names its frames by capability, an index (a slot
 * in its xarray and its frame table) plus a generation. The index is
 * reused lowest-first, the generation not within 2^32 capabilities, so a
 * stale capability fails. Capabilities live in the context's own table
 * and generations are module-wide, so another context's capability names
 * nothing here. The frame table, mapped read-only, shows the library OS
 * what it holds with no system call.
 */
#include <linux/bits.h>
#include <linux/moduleparam.h>

#include "exo_cap.h"
#include "exo_colour.h"
#include "exo_ctx.h"

static unsigned int exo_max_caps = 4096;
module_param_named(max_caps, exo_max_caps, uint, 0644);
MODULE_PARM_DESC(max_caps,
		 "Capabilities one context may hold, 1..1048576; taken at open (default 4096)");

#define EXO_MAX_CAPS_LIMIT	BIT(20)

/*
 * Generations are module-wide, so no two live capabilities of different
 * contexts are equal: another context's capability never names a frame of
 * this one by accident.
 */
static atomic_t exo_last_gen = ATOMIC_INIT(0);

static u32 exo_cap_new_gen(void)
{
	u32 gen;

	do {
		gen = atomic_inc_return(&exo_last_gen);
	} while (!gen);
	return gen;
}

/**
 * exo_caps_init() - an empty capability table and its frame table.
 * @ctx: the context; @ctx->id is set.
 *
 * Return: 0 or -ENOMEM.
 */
int exo_caps_init(struct exo_ctx *ctx)
{
	struct exo_cap_ctx *caps = &ctx->caps;

	caps->nr_slots = clamp_t(u32, READ_ONCE(exo_max_caps), 1,
				 EXO_MAX_CAPS_LIMIT) + 1;
	xa_init_flags(&caps->xa, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	return exo_table_init(&caps->ftable, EXO_FTABLE_MAGIC,
			      EXO_FTABLE_VERSION, ctx->id,
			      sizeof(struct exo_ftable_header),
			      sizeof(struct exo_ftable_entry), caps->nr_slots);
}

/**
 * exo_caps_fini() - free the tables of a context that holds no capability.
 * @ctx: the context.
 */
void exo_caps_fini(struct exo_ctx *ctx)
{
	WARN_ON_ONCE(!xa_empty(&ctx->caps.xa));
	xa_destroy(&ctx->caps.xa);
	exo_table_fini(&ctx->caps.ftable);
}

/**
 * exo_caps_mmap() - map the frame table read-only into the caller.
 * @ctx: the context.
 * @vma: a mapping at %EXO_MMAP_FTABLE, at most the table's size.
 *
 * Return: 0, -EACCES for a writable mapping, -EINVAL for a bad size.
 */
int exo_caps_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma)
{
	return exo_table_mmap(&ctx->caps.ftable, vma);
}

/**
 * exo_cap_lookup() - the frames a capability names.
 * @ctx: the context, locked.
 * @cap: the capability.
 *
 * Return: the capability, or NULL if @cap is forged, stale or foreign.
 */
struct exo_cap *exo_cap_lookup(struct exo_ctx *ctx, u64 cap)
{
	struct exo_cap *c;

	lockdep_assert_held(&ctx->lock);
	c = xa_load(&ctx->caps.xa, EXO_CAP_INDEX(cap));
	if (!c || c->gen != EXO_CAP_GEN(cap))
		return NULL;
	return c;
}

/**
 * exo_cap_reserve() - give @c an index; it names nothing yet (generation
 *	0, which no capability has).
 * @ctx: the context, locked.
 * @c: the new capability, zeroed.
 *
 * Return: 0, -EDQUOT when the table is full, or -ENOMEM.
 */
int exo_cap_reserve(struct exo_ctx *ctx, struct exo_cap *c)
{
	int ret;

	lockdep_assert_held(&ctx->lock);
	ret = xa_alloc(&ctx->caps.xa, &c->index, c,
		       XA_LIMIT(1, ctx->caps.nr_slots - 1),
		       GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL);
	return ret == -EBUSY ? -EDQUOT : ret;
}

/**
 * exo_cap_unreserve() - give back an index exo_cap_reserve() gave.
 * @ctx: the context, locked.
 * @c: the capability, never published.
 */
void exo_cap_unreserve(struct exo_ctx *ctx, struct exo_cap *c)
{
	xa_erase(&ctx->caps.xa, c->index);
}

static struct exo_ftable_entry *exo_ftable_entry(struct exo_ctx *ctx,
						 u32 index)
{
	return exo_table_entry(&ctx->caps.ftable, index);
}

/**
 * exo_cap_update() - show a capability's frames as they are now.
 * @ctx: the context, locked.
 * @c: the capability.
 */
void exo_cap_update(struct exo_ctx *ctx, const struct exo_cap *c)
{
	struct exo_ftable_entry *e = exo_ftable_entry(ctx, c->index);

	lockdep_assert_held(&ctx->lock);
	exo_table_write_begin(&e->seq);
	e->gen = c->gen;
	e->pfn = c->pfn;
	e->owner = c->src ? c->src->holder->id : ctx->id;
	e->order = c->order;
	e->how = c->how;
	e->flags = c->critical ? EXO_FTABLE_CRITICAL : 0;
	e->colour = exo_colour_of(c->pfn);
	e->state = c->src ? EXO_FRAME_GRANTED : EXO_FRAME_OWNED;
	exo_table_write_end(&e->seq);
	exo_caps_show_frames(ctx);
}

/**
 * exo_cap_publish() - a reserved capability, its frames set, becomes
 *	valid: it gets its generation and appears in the frame table.
 * @ctx: the context, locked.
 * @c: the capability; @c->src set for a granted one.
 */
void exo_cap_publish(struct exo_ctx *ctx, struct exo_cap *c)
{
	c->gen = exo_cap_new_gen();
	c->holder = ctx;
	INIT_LIST_HEAD(&c->grants);
	ctx->caps.nr++;
	if (c->src)
		ctx->caps.granted++;
	exo_cap_update(ctx, c);
}

/**
 * exo_cap_erase() - a capability names nothing any more; its entry stays
 *	in the frame table as free, with its generation for readers.
 * @ctx: the context, locked (or dying).
 * @c: the capability; the caller frees it and its frames.
 */
void exo_cap_erase(struct exo_ctx *ctx, struct exo_cap *c)
{
	struct exo_ftable_entry *e = exo_ftable_entry(ctx, c->index);

	xa_erase(&ctx->caps.xa, c->index);
	ctx->caps.nr--;
	if (c->src)
		ctx->caps.granted--;
	exo_table_write_begin(&e->seq);
	e->state = EXO_FRAME_FREE;
	e->pfn = 0;
	e->owner = 0;
	e->order = 0;
	e->how = 0;
	e->flags = 0;
	e->colour = 0;
	exo_table_write_end(&e->seq);
}

/**
 * exo_caps_show_frames() - the frame table's header shows the frames the
 *	context holds.
 * @ctx: the context, locked (or dying).
 */
void exo_caps_show_frames(struct exo_ctx *ctx)
{
	struct exo_ftable_header *h = ctx->caps.ftable.hdr;

	WRITE_ONCE(h->frames, ctx->frames.held);
}
