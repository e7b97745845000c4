// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite exo_cap: capability checks. A capability is index plus
 * generation in one context's table; forged, stale and foreign ones name
 * nothing and must fail with -ENOENT without touching any frame.
 */
#include "kunit.h"

static void exo_cap_forged(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a;
	u32 idx, gen;

	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &a),
			0);
	idx = EXO_CAP_INDEX(a.cap);
	gen = EXO_CAP_GEN(a.cap);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, ~0ULL), -ENOENT);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, exo_cap_make(0, gen)),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, exo_cap_make(idx + 1, gen)),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, exo_cap_make(idx, gen + 1)),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 1ULL);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a.cap), 0);
}

static void exo_cap_stale(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a, b;

	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &a),
			0);
	KUNIT_ASSERT_EQ(test, exo_kunit_free(ctx, a.cap), 0);
	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &b),
			0);
	/* the index is reused lowest-first, the generation is not */
	KUNIT_EXPECT_EQ(test, EXO_CAP_INDEX(b.cap), EXO_CAP_INDEX(a.cap));
	KUNIT_EXPECT_NE(test, EXO_CAP_GEN(b.cap), EXO_CAP_GEN(a.cap));
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a.cap), -ENOENT);
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 1ULL);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, b.cap), 0);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, b.cap), -ENOENT);
}

static void exo_cap_foreign(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test), *other;
	struct exo_frame_alloc a, b;

	other = exo_ctx_create(NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(other));
	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &a),
			0);
	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(other, EXO_ALLOC_ANY, 0, 0, 0,
					      &b), 0);
	/* both first capabilities: same index, never the same generation */
	KUNIT_EXPECT_EQ(test, EXO_CAP_INDEX(a.cap), EXO_CAP_INDEX(b.cap));
	KUNIT_EXPECT_NE(test, a.cap, b.cap);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(other, a.cap), -ENOENT);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, b.cap), -ENOENT);
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 1ULL);
	KUNIT_EXPECT_EQ(test, other->frames.held, 1ULL);
	exo_ctx_destroy(other);
	/* the other context's end left ours alone */
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a.cap), 0);
}

static struct kunit_case exo_cap_cases[] = {
	KUNIT_CASE(exo_cap_forged),
	KUNIT_CASE(exo_cap_stale),
	KUNIT_CASE(exo_cap_foreign),
	{}
};

static struct kunit_suite exo_cap_suite = {
	.name = "exo_cap",
	.suite_init = exo_kunit_suite_init,
	.init = exo_kunit_init,
	.exit = exo_kunit_exit,
	.test_cases = exo_cap_cases,
};

kunit_test_suites(&exo_cap_suite);
