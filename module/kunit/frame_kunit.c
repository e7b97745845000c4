// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites exo_frame and exo_pool: the frame allocator (any, named,
 * colour, contiguous, quota) and exo's own region.
 */
#include <linux/highmem.h>
#include <linux/mm.h>

#include "kunit.h"

/* The suites run before the module's init: set up what contexts need. */
int exo_kunit_suite_init(struct kunit_suite *suite)
{
	return exo_core_init();
}

/* Every case gets a fresh context and must give back all it took. */
int exo_kunit_init(struct kunit *test)
{
	struct exo_kunit *k = kunit_kzalloc(test, sizeof(*k), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, k);
	k->frames_before = atomic_long_read(&exo_nr_frames);
	k->ctx = exo_ctx_create(NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(k->ctx));
	test->priv = k;
	return 0;
}

void exo_kunit_exit(struct kunit *test)
{
	struct exo_kunit *k = test->priv;

	exo_ctx_destroy(k->ctx);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&exo_nr_frames),
			k->frames_before);
}

struct exo_ctx *exo_kunit_ctx(struct kunit *test)
{
	return ((struct exo_kunit *)test->priv)->ctx;
}

int exo_kunit_alloc(struct exo_ctx *ctx, u32 how, u32 order, u64 pfn,
		    u32 colour, struct exo_frame_alloc *out)
{
	*out = (struct exo_frame_alloc) {
		.size = sizeof(*out),
		.how = how,
		.order = order,
		.pfn = pfn,
		.colour = colour,
	};
	return exo_ioctl_run(ctx, EXO_IOC_FRAME_ALLOC, out);
}

int exo_kunit_free(struct exo_ctx *ctx, u64 cap)
{
	struct exo_frame_free f = { .size = sizeof(f), .cap = cap };

	return exo_ioctl_run(ctx, EXO_IOC_FRAME_FREE, &f);
}

static bool exo_frame_is_zero(unsigned long pfn)
{
	void *p = kmap_local_page(pfn_to_page(pfn));
	bool zero = !memchr_inv(p, 0, PAGE_SIZE);

	kunmap_local(p);
	return zero;
}

static void exo_frame_any(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a;

	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &a),
			0);
	KUNIT_EXPECT_TRUE(test, pfn_valid(a.pfn));
	KUNIT_EXPECT_TRUE(test, exo_frame_is_zero(a.pfn));
	KUNIT_EXPECT_EQ(test, a.order, 0U);
	KUNIT_EXPECT_EQ(test, a.colour, (u32)(a.pfn % exo_nr_colours));
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 1ULL);
	KUNIT_EXPECT_NE(test, EXO_CAP_INDEX(a.cap), 0U);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a.cap), 0);
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 0ULL);
}

static void exo_frame_contig(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a;
	unsigned int i;

	KUNIT_ASSERT_EQ(test,
			exo_kunit_alloc(ctx, EXO_ALLOC_CONTIG, 3, 0, 0, &a), 0);
	KUNIT_EXPECT_EQ(test, a.order, 3U);
	KUNIT_EXPECT_EQ(test, a.pfn & 7, 0ULL);
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 8ULL);
	/* split: every frame its own reference, zeroed */
	for (i = 0; i < 8; i++) {
		KUNIT_EXPECT_EQ(test, page_ref_count(pfn_to_page(a.pfn + i)), 1);
		KUNIT_EXPECT_TRUE(test, exo_frame_is_zero(a.pfn + i));
	}
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a.cap), 0);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_CONTIG,
					      exo_frame_max_order() + 1,
					      0, 0, &a), -EINVAL);
}

static void exo_frame_colour(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a;
	u32 c;

	for (c = 0; c < min(exo_nr_colours, 8U); c++) {
		KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_COLOUR, 0,
						      0, c, &a), 0);
		KUNIT_EXPECT_EQ(test, (u32)(a.pfn % exo_nr_colours), c);
		KUNIT_EXPECT_EQ(test, a.colour, c);
		KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a.cap), 0);
	}
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_COLOUR, 0, 0,
					      exo_nr_colours, &a), -EINVAL);
}

static void exo_frame_quota_full(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a[4], x;
	int i;

	ctx->frames.quota = 4;
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0,
						      0, &a[i]), 0);
	/* a run of 2 would cross the quota of 4 with 3 held */
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_CONTIG, 1, 0, 0,
					      &x), -EDQUOT);
	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0,
					      &a[3]), 0);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &x),
			-EDQUOT);
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 4ULL);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a[0].cap), 0);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &x),
			0);
	/* the remaining frames go back when the context is destroyed */
}

static void exo_frame_caps_full(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a;
	u32 i;

	for (i = 1; i < ctx->caps.nr_slots; i++)
		KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0,
						      0, &a), 0);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &a),
			-EDQUOT);
}

static void exo_frame_bad_requests(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a;

	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, 4, 0, 0, 0, &a), -EINVAL);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 1, 0, 0, &a),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 5, 0, &a),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 1, &a),
			-EINVAL);
	a = (struct exo_frame_alloc) { .size = sizeof(a), .__reserved = 1 };
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FRAME_ALLOC, &a), -EINVAL);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_PFN, 0,
					      1ULL << 40, 0, &a), -EINVAL);
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 0ULL);
	KUNIT_EXPECT_EQ(test, ctx->frames.allocs, 0ULL);
}

static void exo_frame_named_region(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test), *other;
	struct exo_frame_alloc a, b;
	unsigned long pfn;

	if (!exo_pool.nr)
		kunit_skip(test, "exo has no region (pool_order=0)");
	pfn = exo_pool.base_pfn + exo_pool.nr - 1;
	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_PFN, 0, pfn, 0,
					      &a), 0);
	KUNIT_EXPECT_EQ(test, a.pfn, (u64)pfn);
	KUNIT_EXPECT_TRUE(test, exo_frame_is_zero(pfn));

	other = exo_ctx_create(NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(other));
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(other, EXO_ALLOC_PFN, 0, pfn, 0,
					      &b), -EBUSY);
	/* a frame another context holds, outside the region: EBUSY too */
	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &b),
			0);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(other, EXO_ALLOC_PFN, 0, b.pfn,
					      0, &b), -EBUSY);
	KUNIT_EXPECT_EQ(test, other->frames.held, 0ULL);
	exo_ctx_destroy(other);

	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a.cap), 0);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_PFN, 0, pfn, 0,
					      &b), 0);
	KUNIT_EXPECT_EQ(test, b.pfn, (u64)pfn);
}

static struct kunit_case exo_frame_cases[] = {
	KUNIT_CASE(exo_frame_any),
	KUNIT_CASE(exo_frame_contig),
	KUNIT_CASE(exo_frame_colour),
	KUNIT_CASE(exo_frame_quota_full),
	KUNIT_CASE(exo_frame_caps_full),
	KUNIT_CASE(exo_frame_bad_requests),
	KUNIT_CASE(exo_frame_named_region),
	{}
};

static struct kunit_suite exo_frame_suite = {
	.name = "exo_frame",
	.suite_init = exo_kunit_suite_init,
	.init = exo_kunit_init,
	.exit = exo_kunit_exit,
	.test_cases = exo_frame_cases,
};

static void exo_pool_take_put(struct kunit *test)
{
	unsigned int free_before = exo_pool_nr_free();
	unsigned long pfn = exo_pool.base_pfn;

	if (!exo_pool.nr)
		kunit_skip(test, "exo has no region (pool_order=0)");
	KUNIT_EXPECT_TRUE(test, exo_pool_contains(pfn));
	KUNIT_EXPECT_TRUE(test, exo_pool_contains(pfn + exo_pool.nr - 1));
	KUNIT_EXPECT_FALSE(test, exo_pool_contains(pfn + exo_pool.nr));
	KUNIT_EXPECT_FALSE(test, exo_pool_contains(pfn - 1));
	KUNIT_ASSERT_EQ(test, exo_pool_take(pfn), 0);
	KUNIT_EXPECT_EQ(test, exo_pool_take(pfn), -EBUSY);
	KUNIT_EXPECT_EQ(test, exo_pool_nr_free(), free_before - 1);
	exo_pool_put(pfn);
	KUNIT_EXPECT_EQ(test, exo_pool_nr_free(), free_before);
}

static struct kunit_case exo_pool_cases[] = {
	KUNIT_CASE(exo_pool_take_put),
	{}
};

static struct kunit_suite exo_pool_suite = {
	.name = "exo_pool",
	.suite_init = exo_kunit_suite_init,
	.test_cases = exo_pool_cases,
};

kunit_test_suites(&exo_frame_suite, &exo_pool_suite);
