/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Physical frames: allocation by any, name, colour or run, free, critical
 * marks, and admission against exo's frame limit (exo_frame.c).
 */
#ifndef _EXO_FRAME_H
#define _EXO_FRAME_H

#include <linux/atomic.h>
#include <linux/types.h>

struct attribute_group;
struct exo_cap;
struct exo_ctx;
struct exo_ucmd;

/**
 * struct exo_frame_ctx - the frames a context holds.
 * @quota: frames it may hold at once (frame_quota when it opened).
 * @held: frames it holds now (owned, not granted). Written under
 *	ctx->lock; read without it by revocation and admission.
 * @critical: of those, frames marked critical. Under ctx->lock.
 * @allocs: successful allocations since open. Under ctx->lock.
 * @frees: successful frees since open. Under ctx->lock.
 */
struct exo_frame_ctx {
	u32 quota;
	u64 held;
	u32 critical;
	u64 allocs;
	u64 frees;
};

/* Frames all contexts hold now (the sysfs counter "frames"). */
extern atomic_long_t exo_nr_frames;
extern const struct attribute_group exo_frame_attr_group;
/* Frames one context may mark critical (the parameter critical_max). */
extern unsigned int exo_critical_max;
/* Frames all contexts together may hold, 0 for no limit (max_frames). */
extern unsigned int exo_max_frames;

unsigned int exo_frame_max_order(void);
int exo_frame_ctx_init(struct exo_ctx *ctx);
void exo_frame_ctx_fini(struct exo_ctx *ctx);
void exo_frame_put(struct exo_ctx *ctx, struct exo_cap *c);
bool exo_frames_idle(void);

int exo_frame_cmd_alloc(struct exo_ucmd *ucmd);
void exo_frame_cmd_alloc_undo(struct exo_ucmd *ucmd);
int exo_frame_cmd_free(struct exo_ucmd *ucmd);
int exo_frame_cmd_critical(struct exo_ucmd *ucmd);

#endif /* _EXO_FRAME_H */
