/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by exo's KUnit suites: a context per test case, made without a
 * file or an address space, and a check that the case left no frame.
 */
#ifndef _EXO_KUNIT_H
#define _EXO_KUNIT_H

#include <kunit/test.h>

#include "../exo.h"

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

#endif /* _EXO_KUNIT_H */
