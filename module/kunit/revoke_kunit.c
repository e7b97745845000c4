// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite exo_revoke: visible revocation, the abort protocol, the
 * repossession vector, grants, critical frames and the fair share, on
 * contexts with no address space (so nothing is bound: the VM side is the
 * selftests').
 */
#include <linux/highmem.h>
#include <linux/mm.h>

#include "kunit.h"

static void exo_fill(unsigned long pfn, u8 byte)
{
	void *p = kmap_local_page(pfn_to_page(pfn));

	memset(p, byte, PAGE_SIZE);
	kunmap_local(p);
}

static bool exo_filled(unsigned long pfn, u8 byte)
{
	void *p = kmap_local_page(pfn_to_page(pfn));
	bool ok = !memchr_inv(p, byte, PAGE_SIZE);

	kunmap_local(p);
	return ok;
}

static const struct exo_event *exo_ev(struct exo_ctx *ctx, u64 n)
{
	return exo_table_entry(&ctx->ev.ring, n & (ctx->ev.ring.nr - 1));
}

static int exo_revoke_req(struct exo_ctx *ctx, u64 nr, u32 flags,
			  struct exo_revoke *r)
{
	*r = (struct exo_revoke) {
		.size = sizeof(*r),
		.flags = flags,
		.nr = nr,
		.timeout_ms = 60000,
	};
	return exo_ioctl_run(ctx, EXO_IOC_REVOKE, r);
}

/* A request, then the library OS frees: done, nothing taken. */
static void exo_revoke_cooperative(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a[3];
	const struct exo_event *e;
	struct exo_revoke r;
	int i;

	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0,
						      0, &a[i]), 0);
	KUNIT_ASSERT_EQ(test, exo_revoke_req(ctx, 2, 0, &r), 0);
	KUNIT_EXPECT_NE(test, r.id, 0ULL);
	KUNIT_EXPECT_EQ(test, exo_kunit_events(ctx)->head, 1ULL);
	KUNIT_EXPECT_EQ(test, exo_kunit_events(ctx)->owed, 2ULL);
	KUNIT_EXPECT_EQ(test, exo_kunit_events(ctx)->state, (u32)EXO_REVOKE_REQUESTED);
	KUNIT_EXPECT_GT(test, exo_kunit_events(ctx)->deadline_ns, ktime_get_ns());
	e = exo_ev(ctx, 0);
	KUNIT_EXPECT_EQ(test, e->seq, 1ULL);
	KUNIT_EXPECT_EQ(test, e->type, (u32)EXO_EV_REVOKE);
	KUNIT_EXPECT_EQ(test, e->id, r.id);
	KUNIT_EXPECT_EQ(test, e->nr, 2ULL);
	KUNIT_EXPECT_TRUE(test, exo_revoke_pending(ctx));

	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a[0].cap), 0);
	KUNIT_EXPECT_EQ(test, exo_kunit_events(ctx)->owed, 1ULL);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a[1].cap), 0);
	KUNIT_EXPECT_EQ(test, exo_kunit_events(ctx)->owed, 0ULL);
	KUNIT_EXPECT_EQ(test, exo_kunit_events(ctx)->state, (u32)EXO_REVOKE_IDLE);
	KUNIT_EXPECT_EQ(test, exo_kunit_events(ctx)->deadline_ns, 0ULL);
	KUNIT_EXPECT_EQ(test, exo_kunit_events(ctx)->head, 2ULL);
	e = exo_ev(ctx, 1);
	KUNIT_EXPECT_EQ(test, e->type, (u32)EXO_EV_REVOKE_DONE);
	KUNIT_EXPECT_EQ(test, e->nr, 2ULL);
	KUNIT_EXPECT_EQ(test, ctx->rv.returned, 2ULL);
	KUNIT_EXPECT_EQ(test, ctx->rv.repossessed, 0ULL);
	KUNIT_EXPECT_FALSE(test, exo_revoke_pending(ctx));
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a[2].cap), 0);
}

/* Requests add up and are clamped to what the context holds. */
static void exo_revoke_clamped(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a[2];
	struct exo_revoke r;
	int i;

	KUNIT_EXPECT_EQ(test, exo_revoke_req(ctx, 1, 0, &r), -ENODATA);
	for (i = 0; i < 2; i++)
		KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0,
						      0, &a[i]), 0);
	KUNIT_EXPECT_EQ(test, exo_revoke_req(ctx, 1, 0, &r), 0);
	KUNIT_EXPECT_EQ(test, exo_revoke_req(ctx, 5, 0, &r), 0);
	KUNIT_EXPECT_EQ(test, ctx->rv.owed, 2ULL);
	KUNIT_EXPECT_EQ(test, exo_revoke_req(ctx, 1, 0, &r), -ENODATA);
	KUNIT_EXPECT_EQ(test, exo_revoke_req(ctx, 0, 0, &r), -EINVAL);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a[i].cap), 0);
	KUNIT_EXPECT_EQ(test, ctx->rv.owed, 0ULL);
}

/* The abort saves contents; RECOVER puts them back into a new frame. */
static void exo_revoke_abort_recover(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	const struct exo_repo_entry *e = exo_table_entry(&ctx->repo.vec, 0);
	struct exo_frame_alloc a, b;
	struct exo_recover rc;
	struct exo_revoke r;

	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_CONTIG, 1, 0, 0,
					      &a), 0);
	exo_fill(a.pfn, 0x5a);
	exo_fill(a.pfn + 1, 0xa5);
	KUNIT_ASSERT_EQ(test, exo_revoke_req(ctx, 1, EXO_REVOKE_ABORT, &r), 0);
	/* A run is taken whole. */
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 0ULL);
	KUNIT_EXPECT_EQ(test, ctx->rv.repossessed, 2ULL);
	KUNIT_EXPECT_EQ(test, ctx->rv.owed, 0ULL);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a.cap), -ENOENT);
	KUNIT_EXPECT_EQ(test, exo_kunit_repo(ctx)->used, 1ULL);
	KUNIT_EXPECT_EQ(test, e[0].state, (u32)EXO_REPO_SAVED);
	KUNIT_EXPECT_EQ(test, e[0].cap, a.cap);
	KUNIT_EXPECT_EQ(test, e[0].pfn, a.pfn);
	KUNIT_EXPECT_EQ(test, e[0].order, 1U);
	KUNIT_EXPECT_EQ(test, e[0].id, r.id);
	KUNIT_EXPECT_EQ(test, e[0].nr_va, 0U);
	KUNIT_EXPECT_EQ(test, exo_ev(ctx, 0)->type, (u32)EXO_EV_REPOSSESSED);
	KUNIT_EXPECT_EQ(test, exo_ev(ctx, 0)->nr, 2ULL);
	KUNIT_EXPECT_EQ(test, exo_ev(ctx, 1)->type, (u32)EXO_EV_REVOKE_DONE);

	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &b),
			0);
	rc = (struct exo_recover) {
		.size = sizeof(rc),
		.flags = EXO_RECOVER_TO_FRAME | EXO_RECOVER_KEEP,
		.frame = 1,
		.nr = 1,
		.cap = b.cap,
	};
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_RECOVER, &rc), 0);
	KUNIT_EXPECT_TRUE(test, exo_filled(b.pfn, 0xa5));
	rc.frame = 0;
	rc.flags = EXO_RECOVER_TO_FRAME;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_RECOVER, &rc), 0);
	KUNIT_EXPECT_TRUE(test, exo_filled(b.pfn, 0x5a));
	KUNIT_EXPECT_EQ(test, exo_kunit_repo(ctx)->used, 0ULL);
	KUNIT_EXPECT_EQ(test, e[0].state, (u32)EXO_REPO_FREE);
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_RECOVER, &rc), -ENOENT);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, b.cap), 0);
}

/* Bad RECOVER requests change nothing. */
static void exo_revoke_recover_checks(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a;
	struct exo_recover rc = { .size = sizeof(rc) };
	struct exo_revoke r;

	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &a),
			0);
	KUNIT_ASSERT_EQ(test, exo_revoke_req(ctx, 1, EXO_REVOKE_ABORT, &r), 0);
	rc.flags = EXO_RECOVER_TO_FRAME | EXO_RECOVER_TO_USER;
	rc.nr = 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_RECOVER, &rc), -EINVAL);
	rc.flags = EXO_RECOVER_KEEP;
	rc.nr = 0;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_RECOVER, &rc), -EINVAL);
	rc.flags = EXO_RECOVER_TO_USER;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_RECOVER, &rc), -EINVAL);
	rc.flags = EXO_RECOVER_TO_FRAME;
	rc.nr = 2;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_RECOVER, &rc), -EINVAL);
	rc.nr = 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_RECOVER, &rc), -ENOENT);
	rc.flags = 0;
	rc.nr = 0;
	rc.slot = ctx->repo.vec.nr;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_RECOVER, &rc), -EINVAL);
	rc.slot = 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_RECOVER, &rc), -ENOENT);
	KUNIT_EXPECT_EQ(test, ctx->repo.used, 1U);
	rc.slot = 0;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_RECOVER, &rc), 0);
	KUNIT_EXPECT_EQ(test, ctx->repo.used, 0U);
}

/* Critical frames go last, and only so many may be marked. */
static void exo_revoke_critical_last(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_critical c = { .size = sizeof(c) };
	unsigned int old_max = exo_critical_max;
	struct exo_frame_alloc a[3];
	struct exo_revoke r;
	int i;

	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0,
						      0, &a[i]), 0);
	exo_critical_max = 1;
	c.cap = a[0].cap;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FRAME_CRITICAL, &c), 0);
	KUNIT_EXPECT_EQ(test, c.critical, 1U);
	c.critical = 0;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FRAME_CRITICAL, &c), 0);
	KUNIT_EXPECT_EQ(test, c.critical, 1U);
	c.critical = 0;
	c.cap = a[1].cap;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FRAME_CRITICAL, &c), -ENOSPC);
	exo_critical_max = old_max;

	KUNIT_ASSERT_EQ(test, exo_revoke_req(ctx, 2, EXO_REVOKE_ABORT, &r), 0);
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 1ULL);
	KUNIT_EXPECT_EQ(test, ctx->frames.critical, 1U);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a[1].cap), -ENOENT);
	KUNIT_ASSERT_EQ(test, exo_revoke_req(ctx, 1, EXO_REVOKE_ABORT, &r), 0);
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 0ULL);
	KUNIT_EXPECT_EQ(test, ctx->frames.critical, 0U);
	KUNIT_EXPECT_EQ(test, ctx->repo.used, 3U);
}

/* An abort of a granted frame takes the grantee's capability first. */
static void exo_revoke_grant_broken(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_grant g = { .size = sizeof(g) };
	struct exo_frame_alloc a;
	struct exo_revoke r;
	struct exo_ctx *peer;

	peer = exo_ctx_create(NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(peer));
	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &a),
			0);
	g.cap = a.cap;
	g.ctx_id = ctx->id;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FRAME_GRANT, &g), -EINVAL);
	g.ctx_id = U32_MAX;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FRAME_GRANT, &g), -ESRCH);
	g.ctx_id = peer->id;
	KUNIT_ASSERT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FRAME_GRANT, &g), 0);
	KUNIT_EXPECT_EQ(test, peer->caps.granted, 1U);
	KUNIT_EXPECT_EQ(test, peer->frames.held, 0ULL);
	mutex_lock(&peer->lock);
	KUNIT_EXPECT_NOT_NULL(test, exo_cap_lookup(peer, g.grant_cap));
	mutex_unlock(&peer->lock);

	KUNIT_ASSERT_EQ(test, exo_revoke_req(ctx, 1, EXO_REVOKE_ABORT, &r), 0);
	KUNIT_EXPECT_EQ(test, peer->caps.granted, 0U);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(peer, g.grant_cap), -ENOENT);
	KUNIT_EXPECT_EQ(test, exo_ev(peer, 0)->type,
			(u32)EXO_EV_GRANT_REVOKED);
	KUNIT_EXPECT_EQ(test, exo_ev(peer, 0)->arg, g.grant_cap);
	KUNIT_EXPECT_EQ(test, ctx->rv.repossessed, 1ULL);
	exo_ctx_destroy(peer);
}

/* The owner's free and close take grants back too. */
static void exo_revoke_grant_owner_leaves(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_grant g = { .size = sizeof(g) };
	struct exo_frame_alloc a;
	struct exo_ctx *owner;

	owner = exo_ctx_create(NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(owner));
	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(owner, EXO_ALLOC_ANY, 0, 0, 0,
					      &a), 0);
	g.cap = a.cap;
	g.ctx_id = ctx->id;
	KUNIT_ASSERT_EQ(test, exo_ioctl_run(owner, EXO_IOC_FRAME_GRANT, &g), 0);
	/* The grantee drops its capability only. */
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, g.grant_cap), 0);
	KUNIT_EXPECT_EQ(test, owner->frames.held, 1ULL);
	g.grant_cap = 0;
	KUNIT_ASSERT_EQ(test, exo_ioctl_run(owner, EXO_IOC_FRAME_GRANT, &g), 0);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(owner, a.cap), 0);
	KUNIT_EXPECT_EQ(test, ctx->caps.granted, 0U);
	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(owner, EXO_ALLOC_ANY, 0, 0, 0,
					      &a), 0);
	g.cap = a.cap;
	g.grant_cap = 0;
	KUNIT_ASSERT_EQ(test, exo_ioctl_run(owner, EXO_IOC_FRAME_GRANT, &g), 0);
	exo_ctx_destroy(owner);
	KUNIT_EXPECT_EQ(test, ctx->caps.granted, 0U);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, g.grant_cap), -ENOENT);
}

/* Past max_frames: below the fair share, others are asked; at it, no. */
static void exo_revoke_fair_share(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	unsigned int old_max = exo_max_frames;
	struct exo_frame_alloc a[4], b;
	struct exo_ctx *hog;
	long base;
	int i;

	hog = exo_ctx_create(NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(hog));
	base = atomic_long_read(&exo_nr_frames);
	exo_max_frames = base + 4;
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_EQ(test, exo_kunit_alloc(hog, EXO_ALLOC_ANY, 0, 0,
						      0, &a[i]), 0);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &b),
			-EAGAIN);
	KUNIT_EXPECT_GE(test, hog->rv.owed, 1ULL);
	KUNIT_EXPECT_EQ(test, exo_kunit_events(hog)->head, 1ULL);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(hog, EXO_ALLOC_ANY, 0, 0, 0, &b),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(hog, a[0].cap), 0);
	KUNIT_EXPECT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &b),
			0);
	exo_max_frames = old_max;
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, b.cap), 0);
	exo_ctx_destroy(hog);
}

static struct kunit_case exo_revoke_cases[] = {
	KUNIT_CASE(exo_revoke_cooperative),
	KUNIT_CASE(exo_revoke_clamped),
	KUNIT_CASE(exo_revoke_abort_recover),
	KUNIT_CASE(exo_revoke_recover_checks),
	KUNIT_CASE(exo_revoke_critical_last),
	KUNIT_CASE(exo_revoke_grant_broken),
	KUNIT_CASE(exo_revoke_grant_owner_leaves),
	KUNIT_CASE(exo_revoke_fair_share),
	{}
};

static struct kunit_suite exo_revoke_suite = {
	.name = "exo_revoke",
	.suite_init = exo_kunit_suite_init,
	.init = exo_kunit_init,
	.exit = exo_kunit_exit,
	.test_cases = exo_revoke_cases,
};

kunit_test_suite(exo_revoke_suite);
