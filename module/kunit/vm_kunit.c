// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite exo_vm: the binding encoding, protection rules, and the
 * checks every VM command makes before it needs an address space. A KUnit
 * context has none, so what happens in an exo VMA is the selftests' part.
 */
#include "kunit.h"

static void exo_vm_binding_roundtrip(struct kunit *test)
{
	static const struct {
		u32 index, frame, prot;
		bool dirty;
	} cases[] = {
		{ 1, 0, EXO_PROT_READ, false },
		{ 1U << 20, (1U << 16) - 1, EXO_PROT_MASK, true },
		{ U32_MAX, 1023, EXO_PROT_NONE, true },
		{ 77, 5, EXO_PROT_READ | EXO_PROT_WRITE, false },
	};
	unsigned int i;
	void *b;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		b = exo_binding(cases[i].index, cases[i].frame, cases[i].prot,
				cases[i].dirty);
		KUNIT_EXPECT_TRUE(test, xa_is_value(b));
		KUNIT_EXPECT_EQ(test, exo_b_index(b), cases[i].index);
		KUNIT_EXPECT_EQ(test, exo_b_frame(b), cases[i].frame);
		KUNIT_EXPECT_EQ(test, exo_b_prot(b), cases[i].prot);
		KUNIT_EXPECT_EQ(test, exo_b_dirty(b), cases[i].dirty);
	}
}

static void exo_vm_prot_rules(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, exo_prot_check(EXO_PROT_NONE), 0);
	KUNIT_EXPECT_EQ(test, exo_prot_check(EXO_PROT_READ), 0);
	KUNIT_EXPECT_EQ(test, exo_prot_check(EXO_PROT_READ | EXO_PROT_WRITE), 0);
	KUNIT_EXPECT_EQ(test, exo_prot_check(EXO_PROT_MASK), 0);
	KUNIT_EXPECT_EQ(test, exo_prot_check(EXO_PROT_WRITE), -EINVAL);
	KUNIT_EXPECT_EQ(test, exo_prot_check(EXO_PROT_EXEC), -EINVAL);
	KUNIT_EXPECT_EQ(test, exo_prot_check(EXO_PROT_MASK + 1), -EINVAL);

	KUNIT_EXPECT_TRUE(test, exo_prot_allows(EXO_PROT_READ, EXO_FAULT_READ));
	KUNIT_EXPECT_FALSE(test, exo_prot_allows(EXO_PROT_READ,
						 EXO_FAULT_WRITE));
	KUNIT_EXPECT_FALSE(test, exo_prot_allows(EXO_PROT_NONE,
						 EXO_FAULT_READ));
	KUNIT_EXPECT_TRUE(test, exo_prot_allows(EXO_PROT_READ | EXO_PROT_WRITE,
						EXO_FAULT_WRITE));
	KUNIT_EXPECT_FALSE(test, exo_prot_allows(EXO_PROT_READ | EXO_PROT_WRITE,
						 EXO_FAULT_EXEC));

	KUNIT_EXPECT_EQ(test, exo_fault_access(FAULT_FLAG_WRITE |
					       FAULT_FLAG_USER),
			EXO_FAULT_WRITE);
	KUNIT_EXPECT_EQ(test, exo_fault_access(FAULT_FLAG_INSTRUCTION),
			EXO_FAULT_EXEC);
	KUNIT_EXPECT_EQ(test, exo_fault_access(FAULT_FLAG_USER),
			EXO_FAULT_READ);
}

/* Malformed requests fail before anything is looked up. */
static void exo_vm_request_checks(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_map m = { .size = sizeof(m), .nr = 1, .entries = 0 };
	struct exo_vm_ranges r = { .size = sizeof(r), .nr = 1 };
	struct exo_query q = { .size = sizeof(q), .nr = 1 };
	struct exo_dirty d = { .size = sizeof(d), .nr = 1 };

	m.nr = 0;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_MAP, &m), -EINVAL);
	m.nr = EXO_MAX_BATCH + 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_MAP, &m), -E2BIG);
	m.nr = 1;
	m.__reserved = 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_MAP, &m), -EINVAL);
	m.__reserved = 0;
	m.flags = 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_MAP, &m), -EOPNOTSUPP);

	r.nr = 0;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_UNMAP, &r), -EINVAL);
	r.nr = EXO_MAX_BATCH + 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_PROTECT, &r), -E2BIG);
	r.nr = 1;
	r.prot = EXO_PROT_READ;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_UNMAP, &r), -EINVAL);
	r.prot = EXO_PROT_WRITE;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_PROTECT, &r), -EINVAL);

	q.va = PAGE_SIZE + 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_QUERY, &q), -EINVAL);
	q.va = PAGE_SIZE;
	q.nr = EXO_MAX_BATCH + 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_QUERY, &q), -E2BIG);
	q.nr = 1;
	q.flags = EXO_QUERY_CLEAR_ACCESSED << 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_QUERY, &q),
			-EOPNOTSUPP);
	/* Well formed, but a KUnit context has no exo VMA. */
	q.flags = EXO_QUERY_CLEAR_ACCESSED;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_QUERY, &q), -ENXIO);

	d.dirty = 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_DIRTY, &d), -EINVAL);
	d.dirty = 0;
	d.nr = EXO_DIRTY_MAX_PAGES + 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_DIRTY, &d), -E2BIG);
	d.nr = 1;
	d.va = U64_MAX & PAGE_MASK;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_DIRTY, &d), -EINVAL);
	d.va = PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_DIRTY, &d), -ENXIO);
}

static void exo_vm_stlb_checks(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_stlb s = { .size = sizeof(s) };

	/* Unregistering with nothing registered is fine. */
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_STLB, &s), 0);
	s.nr_entries = 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_STLB, &s), -EINVAL);
	s = (struct exo_stlb) { .size = sizeof(s), .table = 0x10000,
				.base = 0x200000, .nr_entries = 0 };
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_STLB, &s), -EINVAL);
	s.nr_entries = exo_stlb_max + 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_STLB, &s), -EINVAL);
	s.nr_entries = 1;
	s.table = 0x10008;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_STLB, &s), -EINVAL);
	s.table = 0x10000;
	s.base = 0x200010;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_STLB, &s), -EINVAL);
	s.base = TASK_SIZE;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_STLB, &s), -EINVAL);
	s.base = 0x200000;
	s.__reserved = 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_STLB, &s), -EINVAL);
	/* Well formed, but a KUnit context has no user memory to pin. */
	s.__reserved = 0;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_STLB, &s), -EFAULT);
	KUNIT_EXPECT_NULL(test, ctx->fault.stlb);
}

static void exo_vm_fault_mode(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_fault_mode m = { .size = sizeof(m),
				    .mode = EXO_FAULT_MODE_EVENT };
	struct exo_fault_wake w = { .size = sizeof(w), .va = PAGE_SIZE,
				    .len = PAGE_SIZE };

	KUNIT_ASSERT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_MODE, &m), 0);
	KUNIT_EXPECT_EQ(test, m.mode, (u32)EXO_FAULT_MODE_SIGNAL);
	KUNIT_EXPECT_EQ(test, ctx->fault.mode, (u32)EXO_FAULT_MODE_EVENT);
	m.mode = EXO_FAULT_MODE_SIGNAL;
	KUNIT_ASSERT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_MODE, &m), 0);
	KUNIT_EXPECT_EQ(test, m.mode, (u32)EXO_FAULT_MODE_EVENT);
	m.mode = EXO_FAULT_MODE_EVENT + 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_MODE, &m),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ctx->fault.mode, (u32)EXO_FAULT_MODE_SIGNAL);

	/* An entry only with the upcall mode, and only a user address. */
	m = (struct exo_fault_mode) { .size = sizeof(m),
				      .mode = EXO_FAULT_MODE_SIGNAL,
				      .entry = 0x400000 };
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_MODE, &m),
			-EINVAL);
	m.entry = 0;
	m.cookie = 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_MODE, &m),
			-EINVAL);
	m = (struct exo_fault_mode) { .size = sizeof(m),
				      .mode = EXO_FAULT_MODE_UPCALL };
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_MODE, &m),
			-EINVAL);
	m.entry = TASK_SIZE;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_MODE, &m),
			-EINVAL);
	m.entry = 0x400000;
	m.cookie = 42;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_MODE, &m), 0);
	KUNIT_EXPECT_EQ(test, ctx->fault.mode, (u32)EXO_FAULT_MODE_UPCALL);
	KUNIT_EXPECT_EQ(test, ctx->fault.upcall_entry, 0x400000ULL);
	KUNIT_EXPECT_EQ(test, ctx->fault.upcall_cookie, 42ULL);
	m = (struct exo_fault_mode) { .size = sizeof(m),
				      .mode = EXO_FAULT_MODE_SIGNAL };
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_MODE, &m), 0);
	KUNIT_EXPECT_EQ(test, m.mode, (u32)EXO_FAULT_MODE_UPCALL);
	KUNIT_EXPECT_EQ(test, ctx->fault.upcall_entry, 0ULL);

	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_WAKE, &w), 0);
	w.flags = EXO_WAKE_SIGBUS;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_WAKE, &w), 0);
	w.flags = EXO_WAKE_SIGBUS << 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_WAKE, &w),
			-EOPNOTSUPP);
	w.flags = 0;
	w.len = 0;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_WAKE, &w),
			-EINVAL);
	w.len = PAGE_SIZE + 1;
	KUNIT_EXPECT_EQ(test, exo_ioctl_run(ctx, EXO_IOC_FAULT_WAKE, &w),
			-EINVAL);
}

/* Special PTEs hold no reference: a bound frame must not be freed. */
static void exo_vm_bound_frame_busy(struct kunit *test)
{
	struct exo_ctx *ctx = exo_kunit_ctx(test);
	struct exo_frame_alloc a;
	struct exo_cap *f;

	KUNIT_ASSERT_EQ(test, exo_kunit_alloc(ctx, EXO_ALLOC_ANY, 0, 0, 0, &a),
			0);
	mutex_lock(&ctx->lock);
	f = exo_cap_lookup(ctx, a.cap);
	KUNIT_ASSERT_NOT_NULL(test, f);
	f->nr_bindings = 1;
	mutex_unlock(&ctx->lock);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a.cap), -EBUSY);
	KUNIT_EXPECT_EQ(test, ctx->frames.held, 1ULL);
	mutex_lock(&ctx->lock);
	f->nr_bindings = 0;
	mutex_unlock(&ctx->lock);
	KUNIT_EXPECT_EQ(test, exo_kunit_free(ctx, a.cap), 0);
}

static struct kunit_case exo_vm_cases[] = {
	KUNIT_CASE(exo_vm_binding_roundtrip),
	KUNIT_CASE(exo_vm_prot_rules),
	KUNIT_CASE(exo_vm_request_checks),
	KUNIT_CASE(exo_vm_stlb_checks),
	KUNIT_CASE(exo_vm_fault_mode),
	KUNIT_CASE(exo_vm_bound_frame_busy),
	{}
};

static struct kunit_suite exo_vm_suite = {
	.name = "exo_vm",
	.suite_init = exo_kunit_suite_init,
	.init = exo_kunit_init,
	.exit = exo_kunit_exit,
	.test_cases = exo_vm_cases,
};

kunit_test_suite(exo_vm_suite);
