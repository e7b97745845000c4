// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection over every ioctl path, after the kernel's
 * iommufd_fail_nth.c: make the 1st, 2nd, ... allocation-type call in the
 * kernel fail in turn (/proc/self/task/<tid>/fail-nth, with failslab and
 * fail_page_alloc armed for every kind of allocation), and show that each
 * path fails cleanly: a clear errno, no frame or context left behind, the
 * context still usable. The kernel-log check after each test catches any
 * splat; the debug tier's kmemleak scan catches leaks.
 *
 * Debian's stock kernel has no fault injection: there the tests skip.
 */
#include <libexo.h>

#include "exo_util.h"

#include "kselftest_harness.h"

#define DBG "/sys/kernel/debug"

/* Arm failslab and fail_page_alloc so fail-nth can hit every allocation. */
static bool fault_injection_arm(void)
{
	static const char *const knobs[][2] = {
		{ DBG "/failslab/ignore-gfp-wait", "N" },
		{ DBG "/failslab/verbose", "0" },
		{ DBG "/fail_page_alloc/ignore-gfp-wait", "N" },
		{ DBG "/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ DBG "/fail_page_alloc/min-order", "0" },
		{ DBG "/fail_page_alloc/verbose", "0" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		if (exo_write_str(knobs[i][0], knobs[i][1]))
			return false;
	return true;
}

static int fail_nth_fd(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	return open(path, O_RDWR | O_CLOEXEC);
}

static void fail_nth_set(int fd, unsigned int nth)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%u", nth);

	pwrite(fd, buf, n, 0);
}

/* True if the fault armed by fail_nth_set() was injected. */
static bool fail_nth_injected(int fd)
{
	char buf[16] = { 0 };

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return false;
	fail_nth_set(fd, 0);
	return atoi(buf) == 0;
}

FIXTURE(fail_nth) {
	int nth_fd;
	struct exo_counters base;
	uint64_t pool_free;
};

FIXTURE_SETUP(fail_nth)
{
	/* 6.1's harness runs the test even if setup skips: tests check. */
	self->nth_fd = fail_nth_fd();
	if (self->nth_fd < 0)
		return;
	ASSERT_TRUE(fault_injection_arm())
		TH_LOG("cannot arm failslab/fail_page_alloc in " DBG);
	exo_counters_read(&self->base);
	self->pool_free = exo_sysfs_u64("pool_free");
}

FIXTURE_TEARDOWN(fail_nth)
{
	if (self->nth_fd >= 0)
		close(self->nth_fd);
}

#define REQUIRE_FAIL_NTH()						\
	do {								\
		if (self->nth_fd < 0)					\
			SKIP(return, "no fault injection in this kernel (/proc/self/task/*/fail-nth missing; Debian's stock kernel has none, the debug tier runs this)"); \
	} while (0)

/* The module holds exactly what it held before the iteration. */
#define expect_baseline()						\
	do {								\
		exo_counters_expect_baseline(&self->base);		\
		EXPECT_EQ(self->pool_free, exo_sysfs_u64("pool_free"));	\
	} while (0)

/* An errno a failed allocation may give. */
#define EXPECT_ALLOC_ERRNO(rc)						\
	EXPECT_TRUE((rc) == -ENOMEM || (rc) == -EBUSY)			\
		TH_LOG("unexpected errno %d at nth %u", -(rc), nth)

/* Opening a context: file, context, frame table, handshake, mapping. */
TEST_F(fail_nth, open)
{
	unsigned int nth;
	struct exo *exo;
	bool injected;
	int rc;

	REQUIRE_FAIL_NTH();
	for (nth = 1; nth < 10000; nth++) {
		fail_nth_set(self->nth_fd, nth);
		rc = exo_open(&exo);
		injected = fail_nth_injected(self->nth_fd);
		if (!rc)
			exo_close(exo);
		else
			EXPECT_ALLOC_ERRNO(rc);
		expect_baseline();
		if (!injected) {
			ASSERT_EQ(0, rc);
			break;
		}
	}
	TH_LOG("exo_open: %u injection points", nth - 1);
}

/*
 * Walk one allocation kind: a fresh context per iteration, the fault armed
 * around the one ioctl, the context still usable after a failure, and all
 * of it gone after close.
 */
static void walk_alloc(struct __test_metadata *_metadata,
		       FIXTURE_DATA(fail_nth) *self, uint32_t how,
		       uint32_t order, bool named, uint32_t colour)
{
	struct exo_frame_alloc a, b;
	struct exo_ctx_info info;
	unsigned int nth;
	struct exo *exo;
	uint64_t pfn;
	bool injected;
	int rc, fd;

	REQUIRE_FAIL_NTH();
	for (nth = 1; nth < 10000; nth++) {
		ASSERT_EQ(0, exo_open(&exo));
		fd = exo_fd(exo);
		pfn = named ? exo_api(exo)->pool_pfn : 0;

		fail_nth_set(self->nth_fd, nth);
		rc = _test_frame_alloc(fd, how, order, pfn, colour, &a);
		injected = fail_nth_injected(self->nth_fd);

		ASSERT_EQ(0, _test_ctx_info(fd, &info));
		if (rc) {
			EXPECT_ALLOC_ERRNO(rc);
			EXPECT_EQ(0ULL, info.frames);
			EXPECT_EQ(0ULL, info.caps);
			/* nothing half-done: the same request now works */
			ASSERT_EQ(0, _test_frame_alloc(fd, how, order, pfn,
						       colour, &b));
			EXPECT_EQ(0, _test_frame_free(fd, b.cap));
		} else {
			EXPECT_EQ(1ULL << order, info.frames);
			EXPECT_EQ(0, _test_frame_free(fd, a.cap));
		}
		exo_close(exo);
		expect_baseline();
		if (!injected) {
			ASSERT_EQ(0, rc);
			break;
		}
	}
	TH_LOG("%u injection points", nth - 1);
}

TEST_F(fail_nth, alloc_any)
{
	walk_alloc(_metadata, self, EXO_ALLOC_ANY, 0, false, 0);
}

TEST_F(fail_nth, alloc_contig)
{
	walk_alloc(_metadata, self, EXO_ALLOC_CONTIG, 3, false, 0);
}

TEST_F(fail_nth, alloc_colour)
{
	walk_alloc(_metadata, self, EXO_ALLOC_COLOUR, 0, false, 1);
}

TEST_F(fail_nth, alloc_named)
{
	walk_alloc(_metadata, self, EXO_ALLOC_PFN, 0, true, 0);
}

/* Freeing, and the read-only calls: they allocate nothing, and say so. */
TEST_F(fail_nth, free_and_info)
{
	struct exo_frame_alloc a;
	struct exo_ctx_info info;
	struct exo_api api;
	unsigned int nth;
	struct exo *exo;
	bool injected;
	int rc, fd;

	REQUIRE_FAIL_NTH();
	for (nth = 1; nth < 100; nth++) {
		ASSERT_EQ(0, exo_open(&exo));
		fd = exo_fd(exo);
		ASSERT_EQ(0, _test_alloc_any(fd, &a));

		fail_nth_set(self->nth_fd, nth);
		rc = _test_frame_free(fd, a.cap);
		if (!rc)
			rc = _test_ctx_info(fd, &info);
		if (!rc)
			rc = _test_api(fd, EXO_API_VERSION, &api);
		injected = fail_nth_injected(self->nth_fd);

		EXPECT_EQ(0, rc);
		exo_close(exo);
		expect_baseline();
		if (!injected)
			break;
	}
	EXPECT_EQ(1U, nth) TH_LOG("free/info/api hit %u injection points",
				  nth - 1);
}

/*
 * The VM calls: a batch MAP that fails part-way takes back every binding
 * it made (all or nothing), and the calls that only walk bindings allocate
 * nothing worse than ENOMEM and leave the bindings as they were.
 */
#define NTH_VM_PAGES	16

static int nth_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static uint64_t nth_bindings(struct __test_metadata *_metadata, int fd)
{
	struct exo_ctx_info info = { .bindings = UINT64_MAX };

	EXPECT_EQ(0, _test_ctx_info(fd, &info));
	return info.bindings;
}

TEST_F(fail_nth, vm_map_batch)
{
	struct exo_map_entry e[3];
	struct exo_frame_alloc run, one, two;
	struct exo_vrange all;
	struct exo_vm_ranges un = { .size = sizeof(un), .nr = 1 };
	struct exo_map m = { .size = sizeof(m), .nr = 3 };
	unsigned int nth;
	struct exo *exo;
	bool injected;
	char *vm;
	int rc, fd;

	REQUIRE_FAIL_NTH();
	for (nth = 1; nth < 10000; nth++) {
		ASSERT_EQ(0, exo_open(&exo));
		fd = exo_fd(exo);
		ASSERT_EQ(0, _test_frame_alloc(fd, EXO_ALLOC_CONTIG, 2, 0, 0,
					       &run));
		ASSERT_EQ(0, _test_alloc_any(fd, &one));
		ASSERT_EQ(0, _test_alloc_any(fd, &two));
		vm = mmap(NULL, NTH_VM_PAGES * 4096, PROT_READ | PROT_WRITE,
			  MAP_SHARED, fd, EXO_MMAP_VM);
		ASSERT_NE(MAP_FAILED, vm);
		e[0] = (struct exo_map_entry){ .va = (uintptr_t)vm,
			.cap = run.cap, .nr = 4, .prot = EXO_PROT_READ };
		/* Far apart, so each needs its own page-table walk. */
		e[1] = (struct exo_map_entry){ .va = (uintptr_t)vm + 8 * 4096,
			.cap = one.cap, .nr = 1,
			.prot = EXO_PROT_READ | EXO_PROT_WRITE };
		e[2] = (struct exo_map_entry){ .va = (uintptr_t)vm + 15 * 4096,
			.cap = two.cap, .nr = 1, .prot = EXO_PROT_READ };
		m.entries = (uintptr_t)e;

		fail_nth_set(self->nth_fd, nth);
		rc = nth_ioctl(fd, EXO_IOC_MAP, &m);
		injected = fail_nth_injected(self->nth_fd);

		if (rc) {
			EXPECT_ALLOC_ERRNO(rc);
			EXPECT_EQ(0ULL, nth_bindings(_metadata, fd));
			/* nothing half-done: the same batch now works */
			ASSERT_EQ(0, nth_ioctl(fd, EXO_IOC_MAP, &m));
		}
		EXPECT_EQ(6ULL, nth_bindings(_metadata, fd));
		vm[8 * 4096] = 1;
		EXPECT_EQ(0, vm[0]);

		all = (struct exo_vrange){ (uintptr_t)vm, NTH_VM_PAGES * 4096 };
		un.ranges = (uintptr_t)&all;
		EXPECT_EQ(0, nth_ioctl(fd, EXO_IOC_UNMAP, &un));
		EXPECT_EQ(0ULL, nth_bindings(_metadata, fd));
		EXPECT_EQ(0, _test_frame_free(fd, run.cap));
		munmap(vm, NTH_VM_PAGES * 4096);
		exo_close(exo);
		expect_baseline();
		if (!injected) {
			ASSERT_EQ(0, rc);
			break;
		}
	}
	TH_LOG("map batch: %u injection points", nth - 1);
}

TEST_F(fail_nth, vm_walks)
{
	static struct exo_upte table[NTH_VM_PAGES] __attribute__((aligned(16)));
	struct exo_vpage pages[NTH_VM_PAGES];
	struct exo_frame_alloc a;
	struct exo_map_entry e;
	struct exo_vrange r;
	struct exo_map m = { .size = sizeof(m), .nr = 1, .entries = (uintptr_t)&e };
	struct exo_vm_ranges pr = { .size = sizeof(pr), .nr = 1,
				    .prot = EXO_PROT_READ, .ranges = (uintptr_t)&r };
	struct exo_query q = { .size = sizeof(q), .nr = NTH_VM_PAGES,
			       .pages = (uintptr_t)pages };
	struct exo_dirty d = { .size = sizeof(d), .nr = NTH_VM_PAGES };
	struct exo_stlb st = { .size = sizeof(st), .nr_entries = NTH_VM_PAGES,
			       .table = (uintptr_t)table };
	uint64_t bm;
	unsigned int nth;
	struct exo *exo;
	bool injected;
	int rc, fd;
	char *vm;

	REQUIRE_FAIL_NTH();
	for (nth = 1; nth < 10000; nth++) {
		ASSERT_EQ(0, exo_open(&exo));
		fd = exo_fd(exo);
		ASSERT_EQ(0, _test_alloc_any(fd, &a));
		vm = mmap(NULL, NTH_VM_PAGES * 4096, PROT_READ | PROT_WRITE,
			  MAP_SHARED, fd, EXO_MMAP_VM);
		ASSERT_NE(MAP_FAILED, vm);
		e = (struct exo_map_entry){ .va = (uintptr_t)vm, .cap = a.cap,
			.nr = 1, .prot = EXO_PROT_READ | EXO_PROT_WRITE };
		ASSERT_EQ(0, nth_ioctl(fd, EXO_IOC_MAP, &m));
		vm[0] = 7;
		r = (struct exo_vrange){ (uintptr_t)vm, NTH_VM_PAGES * 4096 };
		q.va = (uintptr_t)vm;
		d.va = (uintptr_t)vm;
		d.bitmap = (uintptr_t)&bm;
		st.base = (uintptr_t)vm;

		fail_nth_set(self->nth_fd, nth);
		rc = nth_ioctl(fd, EXO_IOC_QUERY, &q);
		if (!rc) {
			d.dirty = 0;
			rc = nth_ioctl(fd, EXO_IOC_DIRTY, &d);
		}
		if (!rc)
			rc = nth_ioctl(fd, EXO_IOC_PROTECT, &pr);
		if (!rc)
			rc = nth_ioctl(fd, EXO_IOC_STLB, &st);
		injected = fail_nth_injected(self->nth_fd);

		if (rc)
			EXPECT_EQ(-ENOMEM, rc) TH_LOG("nth %u", nth);
		/* Whatever failed, the binding and its data are intact. */
		EXPECT_EQ(1ULL, nth_bindings(_metadata, fd));
		EXPECT_EQ(7, vm[0]);
		munmap(vm, NTH_VM_PAGES * 4096);
		exo_close(exo);
		expect_baseline();
		if (!injected) {
			ASSERT_EQ(0, rc);
			break;
		}
	}
	TH_LOG("query/dirty/protect/stlb: %u injection points", nth - 1);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test_harness_run(argc, argv);
}
