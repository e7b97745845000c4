/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bindings: the secure binding of one virtual page of an exo VMA to one
 * frame of a capability, and the page-table entries that cache them
 * (exo_bind.c).
 */
#ifndef _EXO_BIND_H
#define _EXO_BIND_H

#include <linux/bitfield.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <linux/exo.h>

struct exo_cap;
struct exo_ctx;
struct vm_area_struct;

/**
 * struct exo_bind_ctx - a context's bindings.
 * @map: virtual page number -> binding (an xarray value, exo_binding()).
 *	Under ctx->lock.
 * @nr: entries in @map. Under ctx->lock.
 * @repossessed: virtual page number -> marker of a page whose frame the
 *	abort took (an xarray value: vector slot + 1, or 0 for a granted
 *	frame taken back). Under ctx->lock.
 */
struct exo_bind_ctx {
	struct xarray map;
	u64 nr;
	struct xarray repossessed;
};

/*
 * A binding (one virtual page -> one frame) is an xarray value in
 * @map: the capability index, the frame's position in its run, the
 * EXO_PROT_* bits and a software dirty bit. Writable page-table entries
 * exist only while the dirty bit is set, so the bit is exact without
 * reading hardware dirty bits.
 */
#define EXO_B_PROT	GENMASK(2, 0)
#define EXO_B_DIRTY	BIT(3)
#define EXO_B_FRAME	GENMASK(23, 8)
#define EXO_B_INDEX	GENMASK_ULL(55, 24)

static inline void *exo_binding(u32 index, u32 frame, u32 prot, bool dirty)
{
	return xa_mk_value(FIELD_PREP(EXO_B_INDEX, index) |
			   FIELD_PREP(EXO_B_FRAME, frame) |
			   FIELD_PREP(EXO_B_PROT, prot) |
			   (dirty ? EXO_B_DIRTY : 0));
}

static inline u32 exo_b_index(void *b)
{
	return FIELD_GET(EXO_B_INDEX, xa_to_value(b));
}

static inline u32 exo_b_frame(void *b)
{
	return FIELD_GET(EXO_B_FRAME, xa_to_value(b));
}

static inline u32 exo_b_prot(void *b)
{
	return FIELD_GET(EXO_B_PROT, xa_to_value(b));
}

static inline bool exo_b_dirty(void *b)
{
	return xa_to_value(b) & EXO_B_DIRTY;
}

/* Does protection @prot allow @access (one EXO_FAULT_READ/WRITE/EXEC)? */
static inline bool exo_prot_allows(u32 prot, u32 access)
{
	switch (access) {
	case EXO_FAULT_WRITE:
		return prot & EXO_PROT_WRITE;
	case EXO_FAULT_EXEC:
		return prot & EXO_PROT_EXEC;
	default:
		return prot & EXO_PROT_READ;
	}
}

/* Picks the bindings exo_bind_unbind_caps() removes; see there. */
typedef void *(*exo_unbind_fn)(void *arg, u32 index, unsigned long vpn);

int exo_bind_ctx_init(struct exo_ctx *ctx);
void exo_bind_ctx_fini(struct exo_ctx *ctx);
int exo_prot_check(u32 prot);
u32 exo_fault_access(unsigned int fault_flags);
u32 exo_vma_prot(struct vm_area_struct *vma);
int exo_bind_add(struct exo_ctx *ctx, struct exo_cap *c, unsigned long vpn,
		 void *b);
void exo_bind_remove(struct exo_ctx *ctx, unsigned long vpn);
void exo_bind_removed(struct exo_ctx *ctx, void *b);
int exo_bind_install(struct exo_ctx *ctx, struct vm_area_struct *vma,
		     unsigned long va, void *b);
u64 exo_bind_unbind_caps(struct exo_ctx *ctx, exo_unbind_fn fn, void *arg);
bool exo_bind_repossessed(struct exo_ctx *ctx, unsigned long vpn);
void exo_bind_unmark(struct exo_ctx *ctx, unsigned long first,
		     unsigned long last);

#endif /* _EXO_BIND_H */
