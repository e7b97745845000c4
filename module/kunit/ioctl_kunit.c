// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites exo_ioctl and exo_ftable: command lookup and struct
 * validation (the part after the copy from user space, which the
 * selftests cover), and the frame table the library OS reads.
 */
#include "kunit.h"

static void exo_ioctl_unknown(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_api a = { .size = sizeof(a), .api = EXO_API_VERSION };

	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, _IO(EXO_IOC_TYPE,
						     EXO_CMD_LAST), &a),
			-ENOTTY);
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, _IO(EXO_IOC_TYPE,
						     EXO_CMD_BASE - 1), &a),
			-ENOTTY);
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, _IO('y', EXO_CMD_API), &a),
			-ENOTTY);
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, _IOW(EXO_IOC_TYPE,
						      EXO_CMD_API,
						      struct exo_api), &a),
			-ENOTTY);
}

static void exo_ioctl_api(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_api a = { .size = sizeof(a), .api = EXO_API_VERSION };

	KUNIT_ASSERT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_API, &a), 0);
	KUNIT_EXPECT_EQ(test, a.ctx_id, ctx->id);
	KUNIT_EXPECT_EQ(test, a.page_size, (u32)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, a.nr_colours, exo_nr_colours);
	KUNIT_EXPECT_EQ(test, a.ftable_entries, ctx->caps.nr_slots);
	KUNIT_EXPECT_EQ(test, a.ftable_size, (u64)ctx->caps.ftable.size);
	KUNIT_EXPECT_EQ(test, a.ioctls,
			GENMASK_ULL(EXO_CMD_LAST - EXO_CMD_BASE - 1, 0));
	KUNIT_EXPECT_EQ(test, a.pool_frames, exo_pool.nr);

	a = (struct exo_api) { .size = sizeof(a), .api = EXO_API_VERSION + 1 };
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_API, &a), -EINVAL);
	a = (struct exo_api) { .size = sizeof(a), .api = EXO_API_VERSION,
			       .__reserved = 1 };
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_API, &a), -EINVAL);
	a = (struct exo_api) { .size = sizeof(a), .api = EXO_API_VERSION,
			       .__reserved2 = 1 };
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_API, &a), -EINVAL);
	a = (struct exo_api) { .size = sizeof(a), .api = EXO_API_VERSION,
			       .flags = 1 };
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_API, &a),
			-EOPNOTSUPP);
	/* version 1's minimum is accepted, one byte less is not */
	a = (struct exo_api) { .size = offsetofend(struct exo_api, ftable_size),
			       .api = EXO_API_VERSION };
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_API, &a), 0);
	a.size--;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_API, &a), -EINVAL);
}

static void exo_ioctl_frames(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a = { .size = sizeof(a), .how = EXO_ALLOC_ANY };
	struct exo_frame_free f = { .size = sizeof(f) };
	struct exo_ctx_info info = { .size = sizeof(info) };

	KUNIT_ASSERT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FRAME_ALLOC, &a), 0);
	KUNIT_ASSERT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_CTX_INFO, &info), 0);
	KUNIT_EXPECT_EQ(test, info.frames, 1ULL);
	KUNIT_EXPECT_EQ(test, info.caps, 1ULL);
	KUNIT_EXPECT_EQ(test, info.allocs, 1ULL);

	f.cap = a.cap;
	f.flags = 2;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FRAME_FREE, &f),
			-EOPNOTSUPP);
	f.flags = 0;
	f.size = offsetofend(struct exo_frame_free, cap) - 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FRAME_FREE, &f),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 1ULL);
	f.size = sizeof(f);
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FRAME_FREE, &f), 0);
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FRAME_FREE, &f),
			-ENOENT);
	KUNIT_ASSERT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_CTX_INFO, &info), 0);
	KUNIT_EXPECT_EQ(test, info.frames, 0ULL);
	KUNIT_EXPECT_EQ(test, info.frees, 1ULL);
}

static struct kunit_case exo_ioctl_cases[] = {
	KUNIT_CASE(exo_ioctl_unknown),
	KUNIT_CASE(exo_ioctl_api),
	KUNIT_CASE(exo_ioctl_frames),
	{}
};

static struct kunit_suite exo_ioctl_suite = {
	.name = "exo_ioctl",
	.suite_init = exo_kunit_suite_init,
	.init = exo_kunit_init,
	.exit = exo_kunit_exit,
	.test_cases = exo_ioctl_cases,
};

static const struct exo_ftable_entry *
exo_kunit_entry(struct exo_ctx *ctx, u32 index)
{
	return exo_table_entry(&ctx->caps.ftable, index);
}

static void exo_ftable_tracks(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	const struct exo_ftable_entry *e;
	struct exo_frame_alloc a;

	KUNIT_EXPECT_EQ(test, exo_kunit_ftable(ctx)->magic, EXO_FTABLE_MAGIC);
	KUNIT_EXPECT_EQ(test, exo_kunit_ftable(ctx)->ctx_id, ctx->id);
	KUNIT_EXPECT_EQ(test, exo_kunit_ftable(ctx)->nr_entries, ctx->caps.nr_slots);
	KUNIT_EXPECT_LE(test, (size_t)exo_kunit_ftable(ctx)->entries_offset +
			(size_t)ctx->caps.nr_slots * sizeof(*e), ctx->caps.ftable.size);

	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_CONTIG, 2, 0, 0,
					      &a), 0);
	e = exo_kunit_entry(ctx, EXO_CAP_INDEX(a.cap));
	KUNIT_EXPECT_EQ(test, e->seq % 2, 0U);
	KUNIT_EXPECT_EQ(test, e->state, (u8)EXO_FRAME_OWNED);
	KUNIT_EXPECT_EQ(test, e->gen, EXO_CAP_GEN(a.cap));
	KUNIT_EXPECT_EQ(test, e->pfn, a.pfn);
	KUNIT_EXPECT_EQ(test, e->order, 2);
	KUNIT_EXPECT_EQ(test, e->how, (u8)EXO_ALLOC_CONTIG);
	KUNIT_EXPECT_EQ(test, e->owner, ctx->id);
	KUNIT_EXPECT_EQ(test, exo_kunit_ftable(ctx)->frames, 4ULL);

	KUNIT_ASSERT_EQ(test, exo_kunit_free(ctx, a.cap), 0);
	KUNIT_EXPECT_EQ(test, e->seq % 2, 0U);
	KUNIT_EXPECT_EQ(test, e->seq, 4U);
	KUNIT_EXPECT_EQ(test, e->state, (u8)EXO_FRAME_FREE);
	KUNIT_EXPECT_EQ(test, e->gen, EXO_CAP_GEN(a.cap));
	KUNIT_EXPECT_EQ(test, exo_kunit_ftable(ctx)->frames, 0ULL);
}

static struct kunit_case exo_ftable_cases[] = {
	KUNIT_CASE(exo_ftable_tracks),
	{}
};

static struct kunit_suite exo_ftable_suite = {
	.name = "exo_ftable",
	.suite_init = exo_kunit_suite_init,
	.init = exo_kunit_init,
	.exit = exo_kunit_exit,
	.test_cases = exo_ftable_cases,
};

kunit_test_suites(&exo_ioctl_suite, &exo_ftable_suite);
