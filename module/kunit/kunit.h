/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by exo's KUnit suites: a context per test case, made without a
 * file or an address space, and a check that the case left no frame.
 */
#ifndef _EXO_KUNIT_H
#define _EXO_KUNIT_H

#include <kunit/test.h>

#include "../exo.h"
#include "../exo_colour.h"
#include "../exo_ctx.h"
#include "../exo_ioctl.h"
#include "../exo_main.h"
#include "../exo_pool.h"
#include "../exo_stlb.h"
#include "../exo_table.h"

struct exo_kunit {
	struct exo_ctx *ctx;
	long frames_before;
};

int exo_kunit_suite_init(struct kunit_suite *suite);
int exo_kunit_init(struct kunit *test);
void exo_kunit_exit(struct kunit *test);
struct exo_ctx *exo_kunit_ctx(struct kunit *test);
int exo_kunit_alloc(struct exo_ctx *ctx, u32 how, u32 order, u64 pfn,
		    u32 colour, struct exo_frame_alloc *out);
int exo_kunit_free(struct exo_ctx *ctx, u64 cap);

/* The read-only tables' headers, as the library OS sees them. */
static inline struct exo_ftable_header *exo_kunit_ftable(struct exo_ctx *ctx)
{
	return ctx->caps.ftable.hdr;
}

static inline struct exo_events_header *exo_kunit_events(struct exo_ctx *ctx)
{
	return ctx->ev.ring.hdr;
}

static inline struct exo_repo_header *exo_kunit_repo(struct exo_ctx *ctx)
{
	return ctx->repo.vec.hdr;
}

#endif /* _EXO_KUNIT_H */
