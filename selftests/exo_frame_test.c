// SPDX-License-Identifier: GPL-2.0
/*
 * exo frame tests: allocation (ANY, named PFN, colour, contiguous),
 * capabilities (forged, stale, foreign, double free), limits (frame_quota,
 * max_caps, memory cgroup) and the read-only frame table.
 *
 * Frames come zeroed, but nothing maps them yet, so their contents cannot be
 * checked from here; the tests check PFNs, capabilities, the frame table and
 * the counters instead.
 */
#include <sys/statfs.h>
#include <linux/magic.h>

#include "exo_util.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define CG_TEST		CG_ROOT "/exo-memcg-test"
#define MEMCG_LIMIT	(4ULL << 20)

FIXTURE(frame) {
	struct exo_ctx a;		/* opened (and mapped) by setup */
	struct exo_ctx b;		/* a second context, if a test needs one */
	struct exo_counters base;
	uint64_t saved_quota;
	bool quota_changed;
	bool cg_created;
	bool cg_enabled_memory;
	pid_t child;
	size_t psz;
};

FIXTURE_SETUP(frame)
{
	self->a.fd = -1;
	self->b.fd = -1;
	self->psz = sysconf(_SC_PAGESIZE);
	exo_counters_read(&self->base);
	exo_ctx_open(&self->a, true);
}

FIXTURE_TEARDOWN(frame)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		exo_wait(self->child);
	}
	exo_ctx_close(&self->b);
	exo_ctx_close(&self->a);
	if (self->quota_changed) {
		EXPECT_EQ(0, exo_param_set("frame_quota", self->saved_quota))
			TH_LOG("could not restore frame_quota=%" PRIu64,
			       self->saved_quota);
	}
	if (self->cg_created) {
		EXPECT_EQ(0, rmdir(CG_TEST))
			TH_LOG("rmdir " CG_TEST ": %s", strerror(errno));
	}
	if (self->cg_enabled_memory)
		exo_write_str(CG_ROOT "/cgroup.subtree_control", "-memory");
	exo_counters_expect_baseline(&self->base);
}

/* Change frame_quota for contexts opened from now on; teardown restores it. */
static void __set_quota(struct __test_metadata *_metadata,
			FIXTURE_DATA(frame) *self, uint64_t quota)
{
	int err;

	if (!self->quota_changed) {
		self->saved_quota = exo_param("frame_quota");
		self->quota_changed = true;
	}
	err = exo_param_set("frame_quota", quota);
	ASSERT_EQ(0, err)
		TH_LOG("write " EXO_PARAM_DIR "/frame_quota: %s",
		       strerror(-err));
}
#define set_quota(q) __set_quota(_metadata, self, q)

/* ------------------------------------------------------------------------
 * /proc/iomem (root sees real addresses)
 */

/* Does any "System RAM" range in /proc/iomem have a real address? */
static bool iomem_usable(void)
{
	char line[256];
	uint64_t s, e;
	bool ok = false;
	FILE *f;

	f = fopen("/proc/iomem", "re");
	if (!f)
		return false;
	while (!ok && fgets(line, sizeof(line), f))
		if (sscanf(line, " %" SCNx64 "-%" SCNx64, &s, &e) == 2 &&
		    strstr(line, ": System RAM") && e)
			ok = true;
	fclose(f);
	return ok;
}

/*
 * Find the first /proc/iomem range called @name that contains @addr (or,
 * if @addr is ~0, the first one at all). Returns 1 and fills @start, or 0.
 */
static int iomem_find(const char *name, uint64_t addr, uint64_t *start)
{
	char line[256], *p;
	uint64_t s, e;
	int found = 0, n;
	FILE *f;

	f = fopen("/proc/iomem", "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		n = 0;
		if (sscanf(line, " %" SCNx64 "-%" SCNx64 " : %n", &s, &e,
			   &n) != 2 || !n)
			continue;
		p = line + n;
		p[strcspn(p, "\n")] = '\0';
		if (strcmp(p, name))
			continue;
		if (addr != ~0ULL && (addr < s || addr > e))
			continue;
		if (start)
			*start = s;
		found = 1;
	}
	fclose(f);
	return found;
}

static bool pfn_is_system_ram(uint64_t pfn, size_t psz)
{
	if (pfn > UINT64_MAX / psz)
		return false;
	return iomem_find("System RAM", pfn * psz, NULL);
}

/* ------------------------------------------------------------------------
 * helpers
 */


/* ------------------------------------------------------------------------
 * ANY
 */

TEST_F(frame, alloc_any)
{
	struct exo_ctx *c = &self->a;
	struct exo_frame_alloc a = { 0 };

	test_alloc_any(c->fd, &a);
	EXPECT_EQ((uint32_t)EXO_ALLOC_ANY, a.how);
	EXPECT_EQ(0U, a.order);
	EXPECT_EQ((uint32_t)(a.pfn % c->api.nr_colours), a.colour);
	EXPECT_LT(0U, EXO_CAP_INDEX(a.cap));
	EXPECT_GT(c->api.ftable_entries, EXO_CAP_INDEX(a.cap));
	if (iomem_usable()) {
		EXPECT_TRUE(pfn_is_system_ram(a.pfn, self->psz))
			TH_LOG("pfn %#llx is not System RAM",
			       (unsigned long long)a.pfn);
	}
	exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_ANY, &a);
	EXPECT_EQ(1ULL, exo_ft_frames(c->ft));
	expect_ctx(c->fd, 1, 1, 1, 0);
	exo_counters_expect(&self->base, 1, 1);

	test_frame_free(c->fd, a.cap);
	exo_ft_expect_free(c->ft, EXO_CAP_INDEX(a.cap));
	EXPECT_EQ(0ULL, exo_ft_frames(c->ft));
	expect_ctx(c->fd, 0, 0, 1, 1);
	exo_counters_expect(&self->base, 1, 0);
}

/* 64 frames at once: distinct PFNs, distinct table indexes. */
TEST_F(frame, alloc_any_many)
{
	enum { N = 64 };
	struct exo_ctx *c = &self->a;
	struct exo_frame_alloc a[N];
	int i, j;

	memset(a, 0, sizeof(a));
	for (i = 0; i < N; i++) {
		test_alloc_any(c->fd, &a[i]);
		for (j = 0; j < i; j++) {
			EXPECT_NE(a[j].pfn, a[i].pfn);
			EXPECT_NE(EXO_CAP_INDEX(a[j].cap),
				  EXO_CAP_INDEX(a[i].cap));
		}
	}
	for (i = 0; i < N; i++)
		exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_ANY,
				    &a[i]);
	EXPECT_EQ((uint64_t)N, exo_ft_frames(c->ft));
	EXPECT_EQ((long)N, exo_ft_count_owned(c->ft));
	expect_ctx(c->fd, N, N, N, 0);
	exo_counters_expect(&self->base, 1, N);

	for (i = 0; i < N; i++)
		test_frame_free(c->fd, a[i].cap);
	EXPECT_EQ(0L, exo_ft_count_owned(c->ft));
	expect_ctx(c->fd, 0, 0, N, N);
	exo_counters_expect(&self->base, 1, 0);
}

/* ------------------------------------------------------------------------
 * named PFN
 */

/*
 * A frame of exo's own region, taken by name, freed, and taken by name
 * again: the region makes naming certain.
 */
TEST_F(frame, alloc_pfn_region)
{
	struct exo_ctx *c = &self->a;
	struct exo_frame_alloc p = { 0 }, q = { 0 };

	alloc_named_region(c->fd, &p);
	EXPECT_EQ((uint32_t)EXO_ALLOC_PFN, p.how);
	EXPECT_EQ(0U, p.order);
	EXPECT_EQ((uint32_t)(p.pfn % c->api.nr_colours), p.colour);
	exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_PFN, &p);
	expect_ctx(c->fd, 1, 1, 1, 0);
	exo_counters_expect(&self->base, 1, 1);
	EXPECT_EQ(c->api.pool_frames - 1, exo_sysfs_u64("pool_free"));

	test_frame_free(c->fd, p.cap);
	exo_ft_expect_free(c->ft, EXO_CAP_INDEX(p.cap));
	exo_counters_expect(&self->base, 1, 0);
	EXPECT_EQ(c->api.pool_frames, exo_sysfs_u64("pool_free"));

	/* The same frame, by name, once more; the old capability is stale. */
	ASSERT_EQ(0, _test_alloc_pfn(c->fd, p.pfn, &q));
	EXPECT_EQ(p.pfn, q.pfn);
	EXPECT_NE(p.cap, q.cap);
	EXPECT_EQ(-ENOENT, _test_frame_free(c->fd, p.cap));
	test_frame_free(c->fd, q.cap);
	exo_counters_expect(&self->base, 1, 0);
}

/* PFNs that are not RAM: EINVAL, nothing changes. */
TEST_F(frame, alloc_pfn_not_ram)
{
	static const uint64_t bad[] = {
		1ULL << 40, (1ULL << 52) - 1, 1ULL << 52, ~0ULL,
	};
	struct exo_ctx *c = &self->a;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		exo_expect_alloc_err(EINVAL, c->fd, c->ft, EXO_ALLOC_PFN, 0,
				     bad[i], 0);
#if defined(__x86_64__) || defined(__i386__)
	/* the local APIC page, never RAM on x86 */
	if (!iomem_usable() || !pfn_is_system_ram(0xfee00, self->psz))
		exo_expect_alloc_err(EINVAL, c->fd, c->ft, EXO_ALLOC_PFN, 0,
				     0xfee00, 0);
#endif
	exo_counters_expect(&self->base, 1, 0);
}

/* A PFN another context owns: EBUSY, the owner's frame untouched. */
TEST_F(frame, alloc_pfn_other_ctx)
{
	struct exo_ctx *a = &self->a, *b = &self->b;
	struct exo_frame_alloc fa = { 0 };

	exo_ctx_open(b, true);
	test_alloc_any(a->fd, &fa);
	exo_expect_alloc_err(EBUSY, b->fd, b->ft, EXO_ALLOC_PFN, 0, fa.pfn,
			     0);
	exo_ft_expect_owned(a->ft, a->api.ctx_id, EXO_ALLOC_ANY, &fa);
	expect_ctx(a->fd, 1, 1, 1, 0);
	expect_ctx(b->fd, 0, 0, 0, 0);
	EXPECT_EQ(0L, exo_ft_count_owned(b->ft));
	exo_counters_expect(&self->base, 2, 1);

	test_frame_free(a->fd, fa.cap);
	exo_counters_expect(&self->base, 2, 0);
}

/* PFNs the kernel holds (reserved low memory, kernel text): EBUSY. */
TEST_F(frame, alloc_pfn_kernel)
{
	struct exo_ctx *c = &self->a;
	uint64_t pfns[2], start;
	const char *what[2];
	int n = 0, i;

	if (!iomem_usable())
		SKIP(return, "/proc/iomem shows no addresses; cannot tell kernel RAM from holes");
#if defined(__x86_64__) || defined(__i386__)
	/* x86 reserves the first 1M; pfn 1 is System RAM the kernel holds */
	if (pfn_is_system_ram(1, self->psz)) {
		pfns[n] = 1;
		what[n++] = "pfn 1 (reserved low memory)";
	}
#endif
	if (iomem_find("Kernel code", ~0ULL, &start) &&
	    pfn_is_system_ram(start / self->psz, self->psz)) {
		pfns[n] = start / self->psz;
		what[n++] = "first pfn of Kernel code";
	}
	if (!n)
		SKIP(return, "no PFN known to be kernel-held System RAM here");
	for (i = 0; i < n; i++) {
		TH_LOG("trying %s: %#llx", what[i],
		       (unsigned long long)pfns[i]);
		exo_expect_alloc_err(EBUSY, c->fd, c->ft, EXO_ALLOC_PFN, 0,
				     pfns[i], 0);
	}
	exo_counters_expect(&self->base, 1, 0);
}

/*
 * A PFN holding one of our own anonymous pages: exo migrates the page away
 * and takes the frame. The page's contents survive at a new PFN.
 *
 * Linux gives a frame up only if nothing in its 2 MiB pageblock is
 * unmovable, which depends on the boot; so try one page in each of up to
 * 16 pageblocks our memory landed in, and skip, saying so, if Linux refused
 * all of them. Any answer but success or EBUSY fails.
 */
TEST_F_TIMEOUT(frame, alloc_pfn_migrate, 240)
{
	enum { NPAGES = 4096, NTRY = 16 };
	struct exo_ctx *c = &self->a;
	struct exo_frame_alloc p = { 0 };
	uint64_t pfn = 0, newpfn, block, tried[NTRY];
	size_t psz = self->psz, i, j;
	int pm, rc = -EBUSY, ntried = 0, k;
	uint64_t *buf;

	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, pm);
	buf = mmap(NULL, NPAGES * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	madvise(buf, NPAGES * psz, MADV_NOHUGEPAGE);
	for (i = 0; i < NPAGES * psz / 8; i++)
		buf[i] = 0x65786f0000000000ULL | i;

	if (!pagemap_pfn(pm, buf, psz)) {
		close(pm);
		munmap(buf, NPAGES * psz);
		SKIP(return, "/proc/self/pagemap shows no PFNs");
	}

	for (i = 0; i < NPAGES && ntried < NTRY; i++) {
		pfn = pagemap_pfn(pm, (char *)buf + i * psz, psz);
		ASSERT_NE(0ULL, pfn);
		block = pfn >> 9;
		for (k = 0; k < ntried && tried[k] != block; k++)
			;
		if (k < ntried)
			continue;
		tried[ntried++] = block;
		drain_lru_batches();
		rc = _test_alloc_pfn(c->fd, pfn, &p);
		if (!rc)
			break;
		ASSERT_EQ(-EBUSY, rc)
			TH_LOG("named allocation of our anonymous page's pfn %#llx: %s",
			       (unsigned long long)pfn, strerror(-rc));
	}
	if (rc) {
		close(pm);
		munmap(buf, NPAGES * psz);
		exo_counters_expect(&self->base, 1, 0);
		SKIP(return, "Linux refused the frames of all %d pageblocks tried (EBUSY: unmovable memory shares them in this boot)",
		     ntried);
	}
	TH_LOG("took pfn %#llx; pageblocks tried: %d",
	       (unsigned long long)pfn, ntried);
	EXPECT_EQ(pfn, p.pfn);
	exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_PFN, &p);

	newpfn = pagemap_pfn(pm, (char *)buf + i * psz, psz);
	EXPECT_NE(pfn, newpfn);
	for (j = 0; j < NPAGES * psz / 8; j++)
		if (buf[j] != (0x65786f0000000000ULL | j))
			break;
	EXPECT_EQ(NPAGES * psz / 8, j)
		TH_LOG("our memory changed at word %zu after migration", j);

	test_frame_free(c->fd, p.cap);
	close(pm);
	munmap(buf, NPAGES * psz);
	exo_counters_expect(&self->base, 1, 0);
}

/* ------------------------------------------------------------------------
 * colour
 */

/* Every colour 0..min(nr_colours,16)-1 and the last one. */
TEST_F(frame, alloc_colour)
{
	struct exo_ctx *c = &self->a;
	uint32_t n = c->api.nr_colours;
	uint32_t lim = n < 16 ? n : 16;
	struct exo_frame_alloc a[17];
	uint32_t colours[17], k, nr = 0, t;
	int rc = 0;

	memset(a, 0, sizeof(a));
	for (k = 0; k < lim; k++)
		colours[nr++] = k;
	if (n > lim)
		colours[nr++] = n - 1;

	for (k = 0; k < nr; k++) {
		/* ENOMEM is legitimate when the search bound runs out */
		for (t = 0; t < 3; t++) {
			rc = _test_alloc_colour(c->fd, colours[k], &a[k]);
			if (rc != -ENOMEM)
				break;
			TH_LOG("colour %u: ENOMEM within the search bound, retrying",
			       colours[k]);
		}
		ASSERT_EQ(0, rc) TH_LOG("colour %u: %s", colours[k],
					strerror(-rc));
		EXPECT_EQ(colours[k], a[k].colour);
		EXPECT_EQ((uint64_t)colours[k], a[k].pfn % n);
		EXPECT_EQ(0U, a[k].order);
		EXPECT_EQ((uint32_t)EXO_ALLOC_COLOUR, a[k].how);
		exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_COLOUR,
				    &a[k]);
		if (iomem_usable()) {
			EXPECT_TRUE(pfn_is_system_ram(a[k].pfn, self->psz));
		}
	}
	expect_ctx(c->fd, nr, nr, nr, 0);
	exo_counters_expect(&self->base, 1, nr);
	for (k = 0; k < nr; k++)
		test_frame_free(c->fd, a[k].cap);
	exo_counters_expect(&self->base, 1, 0);
}

/* ------------------------------------------------------------------------
 * contiguous
 */

TEST_F(frame, alloc_contig)
{
	struct exo_ctx *c = &self->a;
	uint32_t max = c->api.max_order;
	uint32_t top = max < 4 ? max : 4, o, k;
	struct exo_frame_alloc a[5], big = { 0 };
	uint64_t held = 0;
	int rc;

	memset(a, 0, sizeof(a));
	for (o = 0; o <= top; o++) {
		test_alloc_contig(c->fd, o, &a[o]);
		EXPECT_EQ(o, a[o].order);
		EXPECT_EQ((uint32_t)EXO_ALLOC_CONTIG, a[o].how);
		EXPECT_EQ(0ULL, a[o].pfn & ((1ULL << o) - 1))
			TH_LOG("order %u run at pfn %#llx is not aligned", o,
			       (unsigned long long)a[o].pfn);
		EXPECT_EQ((uint32_t)(a[o].pfn % c->api.nr_colours),
			  a[o].colour);
		exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_CONTIG,
				    &a[o]);
		if (iomem_usable()) {
			EXPECT_TRUE(pfn_is_system_ram(a[o].pfn +
						      (1ULL << o) - 1,
						      self->psz));
		}
		/* runs do not overlap */
		for (k = 0; k < o; k++) {
			EXPECT_TRUE(a[k].pfn + (1ULL << k) <= a[o].pfn ||
				    a[o].pfn + (1ULL << o) <= a[k].pfn);
		}
		held += 1ULL << o;
		EXPECT_EQ(held, exo_ft_frames(c->ft));
		expect_ctx(c->fd, held, o + 1, o + 1, 0);
		exo_counters_expect(&self->base, 1, held);
	}
	for (o = 0; o <= top; o++)
		test_frame_free(c->fd, a[o].cap);
	exo_counters_expect(&self->base, 1, 0);

	if (max <= top)
		return;
	if ((1ULL << max) > c->api.frame_quota) {
		TH_LOG("max_order %u is beyond frame_quota %u; not trying it",
		       max, c->api.frame_quota);
		return;
	}
	rc = _test_alloc_contig(c->fd, max, &big);
	if (rc == -ENOMEM) {
		TH_LOG("order %u (max_order): ENOMEM, memory too fragmented",
		       max);
		return;
	}
	ASSERT_EQ(0, rc);
	EXPECT_EQ(max, big.order);
	EXPECT_EQ(0ULL, big.pfn & ((1ULL << max) - 1));
	exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_CONTIG, &big);
	exo_counters_expect(&self->base, 1, 1LL << max);
	test_frame_free(c->fd, big.cap);
	exo_counters_expect(&self->base, 1, 0);
}

TEST_F(frame, alloc_contig_order_too_big)
{
	struct exo_ctx *c = &self->a;

	exo_expect_alloc_err(EINVAL, c->fd, c->ft, EXO_ALLOC_CONTIG,
			     c->api.max_order + 1, 0, 0);
	exo_expect_alloc_err(EINVAL, c->fd, c->ft, EXO_ALLOC_CONTIG,
			     c->api.max_order + 8, 0, 0);
	exo_counters_expect(&self->base, 1, 0);
}

/* ------------------------------------------------------------------------
 * capabilities
 */

static void __expect_free_enoent(struct __test_metadata *_metadata,
				 const struct exo_ctx *c, const void *ft,
				 uint64_t cap)
{
	struct exo_frame_free f = { .size = sizeof(f), .cap = cap };

	exo_expect_err(ENOENT, c->fd, ft, EXO_IOC_FRAME_FREE, &f, sizeof(f));
}
#define expect_free_enoent(c, ft, cap) \
	__expect_free_enoent(_metadata, c, ft, cap)

/* Caps nobody handed out: ENOENT, the real frame stays owned. */
TEST_F_TIMEOUT(frame, cap_forged, 180)
{
	struct exo_ctx *c = &self->a;
	struct exo_frame_alloc held = { 0 };
	uint64_t seed = 0x65786f2d63617073ULL, cap;
	uint32_t idx, gen;
	int i;

	test_alloc_any(c->fd, &held);
	idx = EXO_CAP_INDEX(held.cap);
	gen = EXO_CAP_GEN(held.cap);

	expect_free_enoent(c, c->ft, 0);
	/* the right index with the wrong generation */
	expect_free_enoent(c, c->ft, held.cap ^ (1ULL << 32));
	expect_free_enoent(c, c->ft, held.cap + (1ULL << 32));
	expect_free_enoent(c, c->ft, held.cap - (1ULL << 32));
	expect_free_enoent(c, c->ft, held.cap ^ (1ULL << 63));
	expect_free_enoent(c, c->ft, (uint64_t)~gen << 32 | idx);
	/* the right generation with other indexes */
	expect_free_enoent(c, c->ft, (uint64_t)gen << 32 | (idx + 1));
	expect_free_enoent(c, c->ft, (uint64_t)gen << 32);
	expect_free_enoent(c, c->ft,
			   (uint64_t)gen << 32 | c->api.ftable_entries);
	expect_free_enoent(c, c->ft, (uint64_t)gen << 32 | 0xffffffffU);
	/* garbage */
	for (i = 0; i < 1000; i++) {
		cap = exo_rand64(&seed);
		if (cap == held.cap)
			continue;
		expect_free_enoent(c, i % 100 ? NULL : c->ft, cap);
	}

	exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_ANY, &held);
	expect_ctx(c->fd, 1, 1, 1, 0);
	test_frame_free(c->fd, held.cap);
	exo_counters_expect(&self->base, 1, 0);
}

/*
 * After a free the index is reused with a new generation: the old cap is
 * stale (ENOENT) and cannot touch the new frame, the new cap works.
 */
TEST_F(frame, cap_stale)
{
	struct exo_ctx *c = &self->a;
	struct exo_frame_alloc first = { 0 }, x = { 0 };
	uint32_t limit = c->api.ftable_entries - 1, idx, n = 0, i;
	uint64_t *caps;
	bool reused = false;

	if (limit > c->api.frame_quota)
		limit = c->api.frame_quota;
	caps = calloc(limit, sizeof(*caps));
	ASSERT_NE(NULL, caps);

	test_alloc_any(c->fd, &first);
	idx = EXO_CAP_INDEX(first.cap);
	test_frame_free(c->fd, first.cap);
	exo_ft_expect_free(c->ft, idx);
	/* stale before the index is reused */
	expect_free_enoent(c, c->ft, first.cap);

	while (n < limit) {
		test_alloc_any(c->fd, &x);
		caps[n++] = x.cap;
		if (EXO_CAP_INDEX(x.cap) == idx) {
			reused = true;
			break;
		}
	}
	ASSERT_TRUE(reused) TH_LOG("index %u never reused in %u allocations",
				   idx, n);
	if (n > 1)
		TH_LOG("index %u reused after %u allocations", idx, n);
	EXPECT_NE(EXO_CAP_GEN(first.cap), EXO_CAP_GEN(x.cap));
	exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_ANY, &x);

	/* the stale cap names nothing, and the new frame is untouched */
	expect_free_enoent(c, c->ft, first.cap);
	exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_ANY, &x);
	expect_ctx(c->fd, n, n, n + 1, 1);

	for (i = 0; i < n; i++)
		test_frame_free(c->fd, caps[i]);
	free(caps);
	exo_counters_expect(&self->base, 1, 0);
}

/* Another context's cap: ENOENT, the owner's frame untouched. */
TEST_F(frame, cap_other_ctx)
{
	struct exo_ctx *a = &self->a, *b = &self->b;
	struct exo_frame_alloc fa = { 0 }, fb = { 0 };
	struct exo_ftable_entry e;
	uint32_t i;

	exo_ctx_open(b, true);
	test_alloc_any(a->fd, &fa);

	/* B holds nothing */
	expect_free_enoent(b, b->ft, fa.cap);
	exo_ft_expect_owned(a->ft, a->api.ctx_id, EXO_ALLOC_ANY, &fa);
	expect_ctx(a->fd, 1, 1, 1, 0);

	/* B holds a frame, likely at the same index */
	test_alloc_any(b->fd, &fb);
	if (fb.cap != fa.cap) {
		expect_free_enoent(b, b->ft, fa.cap);
		exo_ft_expect_owned(b->ft, b->api.ctx_id, EXO_ALLOC_ANY, &fb);
	} else {
		TH_LOG("both contexts handed out cap %#llx; only the empty-table case applies",
		       (unsigned long long)fa.cap);
	}
	/* and A cannot free B's */
	if (fb.cap != fa.cap)
		expect_free_enoent(a, a->ft, fb.cap);
	exo_ft_expect_owned(a->ft, a->api.ctx_id, EXO_ALLOC_ANY, &fa);
	exo_ft_expect_owned(b->ft, b->api.ctx_id, EXO_ALLOC_ANY, &fb);
	expect_ctx(a->fd, 1, 1, 1, 0);
	expect_ctx(b->fd, 1, 1, 1, 0);

	/* B's table never shows A's frame */
	for (i = 0; i < exo_ft_hdr(b->ft)->nr_entries; i++) {
		ASSERT_EQ(0, exo_ft_read(b->ft, i, &e));
		if (e.state != EXO_FRAME_OWNED)
			continue;
		EXPECT_EQ(b->api.ctx_id, e.owner);
		EXPECT_NE(fa.pfn, e.pfn);
	}

	test_frame_free(a->fd, fa.cap);
	test_frame_free(b->fd, fb.cap);
	exo_counters_expect(&self->base, 2, 0);
}

TEST_F(frame, cap_double_free)
{
	struct exo_ctx *c = &self->a;
	struct exo_frame_alloc a = { 0 }, other = { 0 };

	test_alloc_any(c->fd, &other);
	test_alloc_any(c->fd, &a);
	test_frame_free(c->fd, a.cap);
	expect_free_enoent(c, c->ft, a.cap);
	expect_free_enoent(c, c->ft, a.cap);
	exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_ANY, &other);
	expect_ctx(c->fd, 1, 1, 2, 1);
	exo_counters_expect(&self->base, 1, 1);
	test_frame_free(c->fd, other.cap);
	expect_free_enoent(c, c->ft, other.cap);
	exo_counters_expect(&self->base, 1, 0);
}

/* ------------------------------------------------------------------------
 * limits
 */

/*
 * frame_quota: EDQUOT exactly at the quota, for every kind of allocation,
 * including a contiguous run that would cross it; freeing makes room again.
 */
TEST_F(frame, quota_edquot)
{
	enum { Q = 8 };
	struct exo_ctx *b = &self->b;
	struct exo_frame_alloc any[Q], run = { 0 }, x = { 0 };
	struct exo_ctx_info info = { 0 };
	uint64_t pfn;
	uint32_t o = self->a.api.max_order < 2 ? self->a.api.max_order : 2;
	int i, held, nany;

	memset(any, 0, sizeof(any));
	set_quota(Q);
	exo_ctx_open(b, true);
	EXPECT_EQ((uint32_t)Q, b->api.frame_quota);
	test_ctx_info(b->fd, &info);
	EXPECT_EQ((uint32_t)Q, info.frame_quota);

	for (i = 0; i < Q; i++)
		test_alloc_any(b->fd, &any[i]);
	nany = Q;
	exo_expect_alloc_err(EDQUOT, b->fd, b->ft, EXO_ALLOC_ANY, 0, 0, 0);
	exo_expect_alloc_err(EDQUOT, b->fd, b->ft, EXO_ALLOC_COLOUR, 0, 0, 0);
	exo_expect_alloc_err(EDQUOT, b->fd, b->ft, EXO_ALLOC_CONTIG, 0, 0, 0);
	/* a named frame counts too: take one A just gave back */
	test_alloc_any(self->a.fd, &x);
	pfn = x.pfn;
	test_frame_free(self->a.fd, x.cap);
	exo_expect_alloc_err(EDQUOT, b->fd, b->ft, EXO_ALLOC_PFN, 0, pfn, 0);
	expect_ctx(b->fd, Q, Q, Q, 0);

	if (o > 0) {
		/* leave room for 2^o - 1 frames: a 2^o run crosses the quota */
		for (i = 0; i < (1 << o) - 1; i++)
			test_frame_free(b->fd, any[--nany].cap);
		exo_expect_alloc_err(EDQUOT, b->fd, b->ft, EXO_ALLOC_CONTIG,
				     o, 0, 0);
		/* one more free and it fits exactly */
		test_frame_free(b->fd, any[--nany].cap);
		held = nany;
		test_alloc_contig(b->fd, o, &run);
		held += 1 << o;
		EXPECT_EQ(Q, held);
		exo_expect_alloc_err(EDQUOT, b->fd, b->ft, EXO_ALLOC_ANY, 0, 0,
				     0);
		test_ctx_info(b->fd, &info);
		EXPECT_EQ((uint64_t)Q, info.frames);
	} else {
		TH_LOG("max_order 0: no contiguous run can cross the quota");
	}

	/* free one ANY frame: exactly one more allocation fits */
	ASSERT_LT(0, nany);
	test_frame_free(b->fd, any[--nany].cap);
	test_alloc_any(b->fd, &any[nany++]);
	exo_expect_alloc_err(EDQUOT, b->fd, b->ft, EXO_ALLOC_ANY, 0, 0, 0);
	test_ctx_info(b->fd, &info);
	EXPECT_EQ((uint64_t)Q, info.frames);

	exo_ctx_close(b);
	exo_counters_expect(&self->base, 1, 0);
}

/* A context keeps the quota in force when it was opened. */
TEST_F(frame, quota_taken_at_open)
{
	struct exo_ctx *a = &self->a, *b = &self->b;
	struct exo_ctx_info info = { 0 };
	uint32_t old = a->api.frame_quota;
	uint64_t caps[4];
	int i;

	ASSERT_LE(8U, old) TH_LOG("frame_quota %u too small for this test",
				  old);
	set_quota(3);
	exo_ctx_open(b, false);
	EXPECT_EQ(3U, b->api.frame_quota);
	test_ctx_info(a->fd, &info);
	EXPECT_EQ(old, info.frame_quota);

	/* A can still go beyond the new quota */
	for (i = 0; i < 4; i++)
		caps[i] = exo_alloc_any_cap(a->fd);
	for (i = 0; i < 3; i++)
		exo_alloc_any_cap(b->fd);
	exo_expect_alloc_err(EDQUOT, b->fd, NULL, EXO_ALLOC_ANY, 0, 0, 0);
	for (i = 0; i < 4; i++)
		test_frame_free(a->fd, caps[i]);
	exo_ctx_close(b);
	exo_counters_expect(&self->base, 1, 0);
}

/*
 * max_caps: a context holds at most ftable_entries - 1 capabilities, then
 * EDQUOT even below the frame quota.
 */
TEST_F(frame, max_caps_edquot)
{
	struct exo_ctx *b = &self->b;
	struct exo_frame_alloc x = { 0 };
	struct exo_ctx_info info = { 0 };
	uint32_t caps = self->a.api.ftable_entries - 1, i;
	uint64_t *held;

	if (caps > 65536)
		SKIP(return, "max_caps %u: too many capabilities to fill here",
		     caps);
	if (self->a.api.frame_quota < caps + 16)
		set_quota(caps + 16);
	exo_ctx_open(b, true);
	ASSERT_EQ(caps + 1, b->api.ftable_entries);
	ASSERT_LE(caps + 2, b->api.frame_quota);

	held = calloc(caps, sizeof(*held));
	ASSERT_NE(NULL, held);
	for (i = 0; i < caps; i++) {
		int rc = _test_alloc_any(b->fd, &x);

		ASSERT_EQ(0, rc) TH_LOG("allocation %u of %u: %s", i + 1, caps,
					strerror(-rc));
		ASSERT_LT(0U, EXO_CAP_INDEX(x.cap));
		ASSERT_GT(b->api.ftable_entries, EXO_CAP_INDEX(x.cap));
		held[i] = x.cap;
	}
	exo_expect_alloc_err(EDQUOT, b->fd, b->ft, EXO_ALLOC_ANY, 0, 0, 0);
	exo_expect_alloc_err(EDQUOT, b->fd, b->ft, EXO_ALLOC_COLOUR, 0, 0, 0);
	if (b->api.max_order >= 1)
		exo_expect_alloc_err(EDQUOT, b->fd, b->ft, EXO_ALLOC_CONTIG,
				     1, 0, 0);
	test_ctx_info(b->fd, &info);
	EXPECT_EQ((uint64_t)caps, info.caps);
	EXPECT_EQ((uint64_t)caps, info.frames);
	EXPECT_EQ((long)caps, exo_ft_count_owned(b->ft));

	test_frame_free(b->fd, held[0]);
	test_alloc_any(b->fd, &x);
	held[0] = x.cap;
	exo_expect_alloc_err(EDQUOT, b->fd, b->ft, EXO_ALLOC_ANY, 0, 0, 0);

	exo_ctx_close(b);
	free(held);
	exo_counters_expect(&self->base, 1, 0);
}

/* ------------------------------------------------------------------------
 * memory cgroup
 */

struct memcg_result {
	int step;
	int err;
	uint64_t count;
	uint64_t ctx_frames;
};

/* Fault in (COW) the stack the child will use, while still in our cgroup. */
static void __attribute__((noinline)) prefault_stack(void)
{
	volatile char pad[256 * 1024];
	size_t i;

	for (i = 0; i < sizeof(pad); i += 512)
		pad[i] = 1;
}

/*
 * The child: move into the test cgroup, open exo and allocate ANY frames
 * until that fails. It must not fault in new user pages once in the cgroup
 * (those would be charged there, and a page fault at the limit brings the
 * OOM killer), so everything it writes is touched before the move. It
 * exits without closing: exit releases the context.
 */
static int memcg_child(struct memcg_result *res)
{
	struct exo_frame_alloc fa;
	struct exo_ctx_info info;
	struct exo_api api;
	int procs, fd, rc;

	prefault_stack();
	memset(&fa, 0, sizeof(fa));
	memset(&info, 0, sizeof(info));
	memset(&api, 0, sizeof(api));
	res->step = 1;
	procs = open(CG_TEST "/cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (procs < 0)
		return 10;
	(void)close(-1);		/* writes errno: COW its page now */
	if (write(procs, "0", 1) != 1)
		return 11;
	close(procs);

	res->step = 2;
	fd = exo_open_raw(O_CLOEXEC);
	if (fd < 0) {
		res->err = -fd;
		return 12;
	}
	rc = _test_api(fd, EXO_API_VERSION, &api);
	if (rc) {
		res->err = -rc;
		return 13;
	}
	res->step = 3;
	for (;;) {
		rc = _test_alloc_any(fd, &fa);
		if (rc)
			break;
		res->count++;
	}
	res->err = -rc;
	if (!_test_ctx_info(fd, &info))
		res->ctx_frames = info.frames;
	res->step = 4;
	return 0;
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
		p += n;
	}
	return false;
}

static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/*
 * ANY frames are charged to the caller's memory cgroup: with memory.max at
 * 4M and a frame quota far above that, a context in the cgroup gets ENOMEM
 * (not EDQUOT, not the OOM killer), and all its frames go back when it exits.
 */
TEST_F_TIMEOUT(frame, memcg_limit, 120)
{
	uint64_t need = MEMCG_LIMIT / self->psz, quota = 4 * need, max_ev;
	uint32_t caps = self->a.api.ftable_entries - 1;
	struct memcg_result *res;
	char text[1024], *p;
	struct statfs sfs;
	int status, err;

	if (!(self->a.api.features & EXO_FEAT_MEMCG))
		SKIP(return, "the module does not advertise EXO_FEAT_MEMCG");
	if (statfs(CG_ROOT, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		SKIP(return, "cgroup2 is not mounted at " CG_ROOT);
	if (read_text(CG_ROOT "/cgroup.controllers", text, sizeof(text)) ||
	    !has_word(text, "memory"))
		SKIP(return, "no memory controller in " CG_ROOT "/cgroup.controllers");
	if (caps < 2 * need)
		SKIP(return, "max_caps %u is too small to reach a 4M limit with single frames",
		     caps);

	ASSERT_EQ(0, read_text(CG_ROOT "/cgroup.subtree_control", text,
			       sizeof(text)));
	if (!has_word(text, "memory")) {
		err = exo_write_str(CG_ROOT "/cgroup.subtree_control",
				    "+memory");
		if (err)
			SKIP(return, "cannot enable the memory controller: %s",
			     strerror(-err));
		self->cg_enabled_memory = true;
	}
	if (rmdir(CG_TEST) && errno != ENOENT)
		TH_LOG("stale " CG_TEST ": %s", strerror(errno));
	ASSERT_EQ(0, mkdir(CG_TEST, 0755))
		TH_LOG("mkdir " CG_TEST ": %s", strerror(errno));
	self->cg_created = true;
	ASSERT_EQ(0, exo_write_u64(CG_TEST "/memory.max", MEMCG_LIMIT));
	if (self->a.api.frame_quota < quota)
		set_quota(quota);

	res = mmap(NULL, self->psz, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	memset(res, 0, self->psz);

	self->child = exo_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0)
		_exit(memcg_child(res));
	status = exo_wait(self->child);
	self->child = 0;

	ASSERT_FALSE(WIFSIGNALED(status))
		TH_LOG("child killed by signal %d at step %d after %" PRIu64 " frames: at the memcg limit an allocation must fail with ENOMEM, not invoke the OOM killer",
		       WTERMSIG(status), res->step, res->count);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child failed at step %d: %s", res->step,
		       strerror(res->err));
	TH_LOG("child allocated %" PRIu64 " frames (%" PRIu64 " KiB) before %s",
	       res->count, res->count * self->psz / 1024, strerror(res->err));
	EXPECT_EQ(ENOMEM, res->err);
	EXPECT_EQ(res->count, res->ctx_frames);
	EXPECT_LT(res->count, quota);
	EXPECT_LE(res->count, need);
	EXPECT_LE(need / 2, res->count)
		TH_LOG("far fewer frames than the limit allows");

	/* the limit was really hit in our cgroup */
	ASSERT_EQ(0, read_text(CG_TEST "/memory.events", text, sizeof(text)));
	p = strstr(text, "max ");
	ASSERT_NE(NULL, p);
	max_ev = strtoull(p + 4, NULL, 10);
	EXPECT_LT(0ULL, max_ev);

	/* every frame of the dead child went back */
	exo_counters_expect(&self->base, 1, 0);
	munmap(res, self->psz);
}

/* ------------------------------------------------------------------------
 * frame table
 */

TEST_F(frame, ftable_header)
{
	struct exo_ctx *c = &self->a;
	const struct exo_ftable_header *h = exo_ft_hdr(c->ft);
	struct exo_ftable_entry e;
	unsigned int i;

	EXPECT_EQ(EXO_FTABLE_MAGIC, h->magic);
	EXPECT_EQ((uint32_t)EXO_FTABLE_VERSION, h->version);
	EXPECT_EQ(c->api.ctx_id, h->ctx_id);
	EXPECT_EQ(c->api.ftable_entries, h->nr_entries);
	EXPECT_EQ((uint32_t)sizeof(struct exo_ftable_entry), h->entry_size);
	EXPECT_LE((uint32_t)sizeof(*h), h->entries_offset);
	EXPECT_EQ(0U, h->entries_offset % 8);
	EXPECT_LE((uint64_t)h->entries_offset +
		  (uint64_t)h->nr_entries * h->entry_size, c->api.ftable_size);
	EXPECT_EQ(0ULL, h->frames);
	for (i = 0; i < ARRAY_SIZE(h->__reserved); i++) {
		EXPECT_EQ(0ULL, h->__reserved[i]);
	}
	/* every entry, including the unused entry 0, starts free */
	for (i = 0; i < h->nr_entries; i++) {
		ASSERT_EQ(0, exo_ft_read(c->ft, i, &e));
		EXPECT_EQ(EXO_FRAME_FREE, e.state) TH_LOG("entry %u", i);
		EXPECT_EQ(0U, e.seq & 1) TH_LOG("entry %u", i);
	}
}

/* Entries follow alloc and free for every kind of allocation. */
TEST_F(frame, ftable_tracks)
{
	struct exo_ctx *c = &self->a;
	struct exo_frame_alloc a[4], again = { 0 };
	static const uint32_t how[4] = {
		EXO_ALLOC_ANY, EXO_ALLOC_COLOUR, EXO_ALLOC_CONTIG,
		EXO_ALLOC_PFN,
	};
	struct exo_ftable_entry e;
	uint32_t order = c->api.max_order ? 1 : 0;
	uint64_t frames = 0;
	int i, rc = 0;

	memset(a, 0, sizeof(a));
	test_alloc_any(c->fd, &a[0]);
	frames += 1;
	EXPECT_EQ(frames, exo_ft_frames(c->ft));
	for (i = 0; i < 3; i++) {
		rc = _test_alloc_colour(c->fd, c->api.nr_colours - 1, &a[1]);
		if (rc != -ENOMEM)
			break;
	}
	ASSERT_EQ(0, rc);
	frames += 1;
	EXPECT_EQ(frames, exo_ft_frames(c->ft));
	test_alloc_contig(c->fd, order, &a[2]);
	frames += 1ULL << order;
	EXPECT_EQ(frames, exo_ft_frames(c->ft));
	alloc_named_region(c->fd, &a[3]);
	frames += 1;
	EXPECT_EQ(frames, exo_ft_frames(c->ft));

	for (i = 0; i < 4; i++)
		exo_ft_expect_owned(c->ft, c->api.ctx_id, how[i], &a[i]);
	EXPECT_EQ(4L, exo_ft_count_owned(c->ft));

	for (i = 0; i < 4; i++) {
		test_frame_free(c->fd, a[i].cap);
		frames -= 1ULL << a[i].order;
		exo_ft_expect_free(c->ft, EXO_CAP_INDEX(a[i].cap));
		EXPECT_EQ(frames, exo_ft_frames(c->ft));
	}
	EXPECT_EQ(0L, exo_ft_count_owned(c->ft));

	/* a reused index carries a new generation in the table too */
	test_alloc_any(c->fd, &again);
	exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_ANY, &again);
	for (i = 0; i < 4; i++) {
		if (EXO_CAP_INDEX(a[i].cap) == EXO_CAP_INDEX(again.cap)) {
			EXPECT_NE(EXO_CAP_GEN(a[i].cap),
				  EXO_CAP_GEN(again.cap));
		}
	}
	ASSERT_EQ(0, exo_ft_read(c->ft, EXO_CAP_INDEX(again.cap), &e));
	EXPECT_EQ(EXO_CAP_GEN(again.cap), e.gen);
	test_frame_free(c->fd, again.cap);
	exo_counters_expect(&self->base, 1, 0);
}

/* Two mappings of one table see the same thing. */
TEST_F(frame, ftable_two_mappings)
{
	struct exo_ctx *c = &self->a;
	struct exo_frame_alloc a = { 0 };
	const void *ft2;

	ft2 = exo_ftable_mmap(c->fd, c->api.ftable_size);
	ASSERT_NE(NULL, ft2);
	test_alloc_any(c->fd, &a);
	exo_ft_expect_owned(c->ft, c->api.ctx_id, EXO_ALLOC_ANY, &a);
	exo_ft_expect_owned(ft2, c->api.ctx_id, EXO_ALLOC_ANY, &a);
	EXPECT_EQ(1ULL, exo_ft_frames(ft2));
	test_frame_free(c->fd, a.cap);
	exo_ft_expect_free(ft2, EXO_CAP_INDEX(a.cap));
	EXPECT_EQ(0, munmap((void *)ft2, c->api.ftable_size));
}

static void __expect_mmap_fails(struct __test_metadata *_metadata, int fd,
				size_t len, int prot, int flags, int err,
				int line)
{
	void *p = mmap(NULL, len, prot, flags, fd, EXO_MMAP_FTABLE);
	int e = errno;

	EXPECT_EQ(MAP_FAILED, p) TH_LOG("mmap succeeded (line %d)", line);
	if (p != MAP_FAILED) {
		munmap(p, len);
		return;
	}
	EXPECT_EQ(err, e) TH_LOG("mmap: %s (line %d)", strerror(e), line);
}
#define expect_mmap_fails(fd, len, prot, flags, err) \
	__expect_mmap_fails(_metadata, fd, len, prot, flags, err, __LINE__)

TEST_F(frame, ftable_mmap_write)
{
	struct exo_ctx *c = &self->a;
	size_t len = c->api.ftable_size;

	expect_mmap_fails(c->fd, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			  EACCES);
	expect_mmap_fails(c->fd, len, PROT_WRITE, MAP_SHARED, EACCES);
	expect_mmap_fails(c->fd, len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			  EACCES);
}

TEST_F(frame, ftable_mprotect_write)
{
	struct exo_ctx *c = &self->a;
	size_t len = c->api.ftable_size;
	int rc, err;
	void *p;

	p = mmap(NULL, len, PROT_READ, MAP_SHARED, c->fd, EXO_MMAP_FTABLE);
	ASSERT_NE(MAP_FAILED, p);
	rc = mprotect(p, len, PROT_READ | PROT_WRITE);
	err = errno;
	EXPECT_EQ(-1, rc);
	EXPECT_EQ(EACCES, err);
	rc = mprotect(p, self->psz, PROT_WRITE);
	err = errno;
	EXPECT_EQ(-1, rc);
	EXPECT_EQ(EACCES, err);
	/* still mapped and readable */
	EXPECT_EQ(EXO_FTABLE_MAGIC, exo_ft_hdr(p)->magic);
	EXPECT_EQ(0, munmap(p, len));
}

TEST_F(frame, ftable_mmap_too_long)
{
	struct exo_ctx *c = &self->a;

	expect_mmap_fails(c->fd, c->api.ftable_size + self->psz, PROT_READ,
			  MAP_SHARED, EINVAL);
	expect_mmap_fails(c->fd, 2 * c->api.ftable_size + self->psz,
			  PROT_READ, MAP_SHARED, EINVAL);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test_harness_run(argc, argv);
}
