// SPDX-License-Identifier: GPL-2.0
/*
 * exo context tests: isolation between contexts, and teardown on every way a
 * context can end (close, exit without close, kill -9, the last munmap of
 * its frame table, a forked child holding the last reference), with the
 * module-wide counters back at their baseline each time. A process other
 * than the opener (forked child, exec'd image) gets EIO and changes nothing.
 */
#include <libexo.h>

#include "exo_util.h"

#define EXEC_FD_ENV	"EXO_SELFTEST_EXEC_FD"
#define EXEC_CAP_ENV	"EXO_SELFTEST_EXEC_CAP"

/*
 * Every ioctl (and mmap) on @fd, a context this process did not open, must
 * fail with EIO. Returns a bit mask of the calls that did not.
 */
static int foreign_calls(int fd, uint64_t cap, uint64_t pfn)
{
	void *map;
	int bad = 0;

	if (_test_api(fd, EXO_API_VERSION, NULL) != -EIO)
		bad |= 1 << 0;
	if (_test_ctx_info(fd, NULL) != -EIO)
		bad |= 1 << 1;
	if (_test_alloc_any(fd, NULL) != -EIO)
		bad |= 1 << 2;
	if (_test_frame_free(fd, cap) != -EIO)
		bad |= 1 << 3;
	if (pfn && _test_alloc_pfn(fd, pfn, NULL) != -EIO)
		bad |= 1 << 4;
	if (_test_alloc_contig(fd, 0, NULL) != -EIO)
		bad |= 1 << 5;
	/* nor map its frame table */
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, EXO_MMAP_FTABLE);
	if (map != MAP_FAILED)
		munmap(map, 4096);
	if (map != MAP_FAILED || errno != EIO)
		bad |= 1 << 6;
	return bad;
}

/*
 * exec_gets_eio re-executes this binary with EXEC_FD_ENV set: the new image
 * (same pid, new mm) runs foreign_calls() on the inherited fd before main()
 * and exits with the mask.
 */
static void __attribute__((constructor)) exec_child_main(void)
{
	const char *fd_s = getenv(EXEC_FD_ENV);
	const char *cap_s = getenv(EXEC_CAP_ENV);

	if (!fd_s || !cap_s)
		return;
	_exit(foreign_calls(atoi(fd_s), strtoull(cap_s, NULL, 0), 0));
}

FIXTURE(ctx) {
	struct exo_ctx a;
	struct exo_ctx b;
	struct exo_counters base;
	pid_t child;
	int ready[2];
	int go[2];
	uint64_t saved_quota;
	bool quota_changed;
};

FIXTURE_SETUP(ctx)
{
	self->a.fd = -1;
	self->b.fd = -1;
	self->ready[0] = self->ready[1] = -1;
	self->go[0] = self->go[1] = -1;
	exo_counters_read(&self->base);
}

FIXTURE_TEARDOWN(ctx)
{
	int i;

	if (self->child > 0) {
		kill(self->child, SIGKILL);
		exo_wait(self->child);
	}
	for (i = 0; i < 2; i++) {
		if (self->ready[i] >= 0)
			close(self->ready[i]);
		if (self->go[i] >= 0)
			close(self->go[i]);
	}
	exo_ctx_close(&self->b);
	exo_ctx_close(&self->a);
	if (self->quota_changed) {
		EXPECT_EQ(0, exo_param_set("frame_quota", self->saved_quota))
			TH_LOG("could not restore frame_quota=%" PRIu64,
			       self->saved_quota);
	}
	exo_counters_expect_baseline(&self->base);
}

/* ------------------------------------------------------------------------
 * a child holding frames
 */

struct holder_report {
	int err;		/* errno of the failed step, 0 if all went well */
	int step;
	uint32_t ctx_id;
	uint64_t frames;	/* the child's ctx_info.frames */
};

enum holder_end {
	HOLDER_EXIT_ON_GO,	/* _exit(0) without close once told to */
	HOLDER_PAUSE,		/* wait to be killed */
};

#define HOLDER_ANY	16

/* In the child: open, allocate, optionally map, report on @wfd. */
static void holder_main(int wfd, int rfd, bool map, enum holder_end end)
{
	struct holder_report r = { 0 };
	struct exo_frame_alloc fa = { 0 };
	struct exo_api api = { 0 };
	uint32_t order;
	int fd, rc, i;
	char c;

	fd = exo_open_raw(O_CLOEXEC);
	r.step = 1;
	if (fd < 0) {
		r.err = -fd;
		goto report;
	}
	r.step = 2;
	rc = _test_api(fd, EXO_API_VERSION, &api);
	if (rc) {
		r.err = -rc;
		goto report;
	}
	r.ctx_id = api.ctx_id;
	r.step = 3;
	for (i = 0; i < HOLDER_ANY; i++) {
		rc = _test_alloc_any(fd, &fa);
		if (rc) {
			r.err = -rc;
			goto report;
		}
	}
	r.step = 4;
	order = api.max_order < 2 ? api.max_order : 2;
	rc = _test_alloc_contig(fd, order, &fa);
	if (rc) {
		r.err = -rc;
		goto report;
	}
	r.step = 5;
	if (map && !exo_ftable_mmap(fd, api.ftable_size)) {
		r.err = errno;
		goto report;
	}
	r.step = 6;
	{
		struct exo_ctx_info info = { 0 };

		rc = _test_ctx_info(fd, &info);
		if (rc) {
			r.err = -rc;
			goto report;
		}
		r.frames = info.frames;
	}
	r.step = 0;
report:
	if (exo_write_full(wfd, &r, sizeof(r)))
		_exit(2);
	if (r.err)
		_exit(1);
	if (end == HOLDER_EXIT_ON_GO) {
		if (read(rfd, &c, 1) != 1)
			_exit(3);
		_exit(0);	/* no close(), no munmap() */
	}
	for (;;)
		pause();
}

/*
 * Fork a child that holds a context with HOLDER_ANY frames plus one run of
 * 2^min(2, max_order) frames, and wait for its report.
 */
static void __spawn_holder(struct __test_metadata *_metadata,
			   FIXTURE_DATA(ctx) *self, bool map,
			   enum holder_end end, struct holder_report *r)
{
	ASSERT_EQ(0, pipe2(self->ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->go, O_CLOEXEC));
	self->child = exo_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		close(self->ready[0]);
		close(self->go[1]);
		holder_main(self->ready[1], self->go[0], map, end);
		_exit(4);
	}
	close(self->ready[1]);
	self->ready[1] = -1;
	close(self->go[0]);
	self->go[0] = -1;
	ASSERT_EQ(0, exo_read_full(self->ready[0], r, sizeof(*r)))
		TH_LOG("the child died before reporting");
	ASSERT_EQ(0, r->err) TH_LOG("child step %d: %s", r->step,
				    strerror(r->err));
	ASSERT_LE((uint64_t)HOLDER_ANY + 1, r->frames);
}
#define spawn_holder(map, end, r) __spawn_holder(_metadata, self, map, end, r)

static void __holder_exit(struct __test_metadata *_metadata,
			  FIXTURE_DATA(ctx) *self)
{
	int status;

	ASSERT_EQ(0, exo_write_full(self->go[1], "g", 1));
	status = exo_wait(self->child);
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}
#define holder_exit() __holder_exit(_metadata, self)

/* ------------------------------------------------------------------------
 * isolation
 */

static bool ft_has_pfn(const void *ft, uint64_t pfn)
{
	struct exo_ftable_entry e;
	uint32_t i;

	for (i = 0; i < exo_ft_hdr(ft)->nr_entries; i++)
		if (!exo_ft_read(ft, i, &e) && e.state == EXO_FRAME_OWNED &&
		    pfn >= e.pfn && pfn < e.pfn + (1ULL << e.order))
			return true;
	return false;
}

/* Every owned entry of @ft belongs to @ctx_id. */
static void __expect_ft_all_owned_by(struct __test_metadata *_metadata,
				     const void *ft, uint32_t ctx_id)
{
	struct exo_ftable_entry e;
	uint32_t i;

	for (i = 0; i < exo_ft_hdr(ft)->nr_entries; i++) {
		ASSERT_EQ(0, exo_ft_read(ft, i, &e));
		if (e.state == EXO_FRAME_OWNED) {
			EXPECT_EQ(ctx_id, e.owner) TH_LOG("entry %u", i);
		}
	}
}
#define expect_ft_all_owned_by(ft, id) \
	__expect_ft_all_owned_by(_metadata, ft, id)

TEST_F(ctx, two_contexts_isolated)
{
	struct exo_ctx *a = &self->a, *b = &self->b;
	struct exo_frame_alloc fa[4], fb[2];
	uint32_t order = 0;
	int i, j;

	memset(fa, 0, sizeof(fa));
	memset(fb, 0, sizeof(fb));
	exo_ctx_open(a, true);
	exo_ctx_open(b, true);
	EXPECT_NE(a->api.ctx_id, b->api.ctx_id);
	EXPECT_EQ(a->api.ctx_id, exo_ft_hdr(a->ft)->ctx_id);
	EXPECT_EQ(b->api.ctx_id, exo_ft_hdr(b->ft)->ctx_id);

	for (i = 0; i < 3; i++)
		test_alloc_any(a->fd, &fa[i]);
	order = a->api.max_order ? 1 : 0;
	test_alloc_contig(a->fd, order, &fa[3]);

	/* B sees nothing of A */
	expect_ctx(b->fd, 0, 0, 0, 0);
	EXPECT_EQ(0L, exo_ft_count_owned(b->ft));
	EXPECT_EQ(0ULL, exo_ft_frames(b->ft));
	for (i = 0; i < 4; i++) {
		struct exo_frame_free f = { .size = sizeof(f),
					    .cap = fa[i].cap };

		exo_expect_err(ENOENT, b->fd, b->ft, EXO_IOC_FRAME_FREE, &f,
			       sizeof(f));
	}

	for (i = 0; i < 2; i++)
		test_alloc_any(b->fd, &fb[i]);
	EXPECT_EQ(2L, exo_ft_count_owned(b->ft));
	EXPECT_EQ(4L, exo_ft_count_owned(a->ft));
	expect_ft_all_owned_by(a->ft, a->api.ctx_id);
	expect_ft_all_owned_by(b->ft, b->api.ctx_id);
	for (i = 0; i < 4; i++) {
		EXPECT_FALSE(ft_has_pfn(b->ft, fa[i].pfn));
	}
	for (i = 0; i < 2; i++) {
		EXPECT_FALSE(ft_has_pfn(a->ft, fb[i].pfn));
		exo_ft_expect_owned(b->ft, b->api.ctx_id, EXO_ALLOC_ANY,
				    &fb[i]);
	}
	for (i = 0; i < 3; i++)
		exo_ft_expect_owned(a->ft, a->api.ctx_id, EXO_ALLOC_ANY,
				    &fa[i]);
	exo_ft_expect_owned(a->ft, a->api.ctx_id, EXO_ALLOC_CONTIG, &fa[3]);

	/* per-context counters */
	expect_ctx(a->fd, 3 + (1ULL << order), 4, 4, 0);
	expect_ctx(b->fd, 2, 2, 2, 0);
	exo_counters_expect(&self->base, 2, 5 + (1LL << order));

	/* A cannot free B's caps either (unless the numbers coincide) */
	for (i = 0; i < 2; i++) {
		bool same = false;

		for (j = 0; j < 4; j++)
			same |= fa[j].cap == fb[i].cap;
		if (!same) {
			struct exo_frame_free f = { .size = sizeof(f),
						    .cap = fb[i].cap };

			exo_expect_err(ENOENT, a->fd, a->ft,
				       EXO_IOC_FRAME_FREE, &f, sizeof(f));
		}
	}

	/* closing A leaves B exactly as it was */
	exo_ctx_close(a);
	exo_counters_expect(&self->base, 1, 2);
	expect_ctx(b->fd, 2, 2, 2, 0);
	for (i = 0; i < 2; i++)
		exo_ft_expect_owned(b->ft, b->api.ctx_id, EXO_ALLOC_ANY,
				    &fb[i]);
	test_frame_free(b->fd, fb[0].cap);
	exo_ctx_close(b);
	exo_counters_expect_baseline(&self->base);
}

/* ------------------------------------------------------------------------
 * teardown
 */

/* close() releases every kind of frame. */
TEST_F(ctx, close_releases)
{
	struct exo_ctx *a = &self->a;
	struct exo_frame_alloc x = { 0 };
	struct exo_ctx_info info = { 0 };
	uint32_t order, i;
	uint64_t frames = 0;
	int rc = 0, t;

	exo_ctx_open(a, true);
	for (i = 0; i < 16; i++)
		test_alloc_any(a->fd, NULL);
	frames += 16;
	for (i = 0; i < 4; i++) {
		for (t = 0; t < 3; t++) {
			rc = _test_alloc_colour(a->fd,
						i % a->api.nr_colours, NULL);
			if (rc != -ENOMEM)
				break;
		}
		ASSERT_EQ(0, rc);
	}
	frames += 4;
	order = a->api.max_order < 2 ? a->api.max_order : 2;
	test_alloc_contig(a->fd, order, NULL);
	frames += 1ULL << order;
	alloc_named_region(a->fd, &x);
	frames += 1;

	test_ctx_info(a->fd, &info);
	EXPECT_EQ(frames, info.frames);
	EXPECT_EQ(22ULL, info.caps);
	EXPECT_EQ(frames, exo_ft_frames(a->ft));
	exo_counters_expect(&self->base, 1, frames);
	exo_ctx_close(a);
	exo_counters_expect_baseline(&self->base);
}

/* A process that exits without close() releases its context. */
TEST_F(ctx, exit_without_close)
{
	struct holder_report r = { 0 };

	spawn_holder(false, HOLDER_EXIT_ON_GO, &r);
	exo_counters_expect(&self->base, 1, r.frames);
	holder_exit();
	exo_counters_expect_baseline(&self->base);
}

/* ...also with its frame table still mapped. */
TEST_F(ctx, exit_without_close_mapped)
{
	struct holder_report r = { 0 };

	spawn_holder(true, HOLDER_EXIT_ON_GO, &r);
	exo_counters_expect(&self->base, 1, r.frames);
	holder_exit();
	exo_counters_expect_baseline(&self->base);
}

/* kill -9 of a process holding frames (and a mapped table). */
TEST_F(ctx, kill9_releases)
{
	struct holder_report r = { 0 };
	int status;

	spawn_holder(true, HOLDER_PAUSE, &r);
	exo_counters_expect(&self->base, 1, r.frames);
	ASSERT_EQ(0, kill(self->child, SIGKILL));
	status = exo_wait(self->child);
	self->child = 0;
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGKILL, WTERMSIG(status));
	exo_counters_expect_baseline(&self->base);
}

/* ...and without the mapping. */
TEST_F(ctx, kill9_releases_unmapped)
{
	struct holder_report r = { 0 };
	int status;

	spawn_holder(false, HOLDER_PAUSE, &r);
	exo_counters_expect(&self->base, 1, r.frames);
	ASSERT_EQ(0, kill(self->child, SIGKILL));
	status = exo_wait(self->child);
	self->child = 0;
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGKILL, WTERMSIG(status));
	exo_counters_expect_baseline(&self->base);
}

/*
 * close() with the frame table still mapped: the mapping keeps the context
 * (and its frames) alive until the last munmap().
 */
TEST_F(ctx, close_while_mapped)
{
	struct exo_ctx *a = &self->a;
	const struct exo_ftable_header *h;
	struct exo_frame_alloc fa[5];
	const void *ft2;
	int i;

	memset(fa, 0, sizeof(fa));
	exo_ctx_open(a, true);
	ft2 = exo_ftable_mmap(a->fd, a->api.ftable_size);
	ASSERT_NE(NULL, ft2);
	for (i = 0; i < 5; i++)
		test_alloc_any(a->fd, &fa[i]);

	close(a->fd);
	a->fd = -1;
	usleep(100000);
	exo_counters_expect(&self->base, 1, 5);

	/* the table is still there and still right */
	h = exo_ft_hdr(a->ft);
	EXPECT_EQ(EXO_FTABLE_MAGIC, h->magic);
	EXPECT_EQ(a->api.ctx_id, h->ctx_id);
	EXPECT_EQ(5ULL, exo_ft_frames(a->ft));
	for (i = 0; i < 5; i++)
		exo_ft_expect_owned(a->ft, a->api.ctx_id, EXO_ALLOC_ANY,
				    &fa[i]);

	/* one of two mappings gone: still alive */
	EXPECT_EQ(0, munmap((void *)ft2, a->api.ftable_size));
	usleep(100000);
	exo_counters_expect(&self->base, 1, 5);
	EXPECT_EQ(5ULL, exo_ft_frames(a->ft));

	/* the last one gone: released */
	EXPECT_EQ(0, munmap((void *)a->ft, a->ft_len));
	a->ft = NULL;
	exo_counters_expect_baseline(&self->base);
}

/* ------------------------------------------------------------------------
 * another process on the same fd
 */

/*
 * A forked child inherits the fd: every ioctl gets EIO, it cannot free or
 * allocate in the parent's context, and its exit leaves the parent's context
 * exactly as it was. Its own context works.
 */
TEST_F(ctx, fork_child_gets_eio)
{
	struct exo_ctx *a = &self->a;
	struct exo_frame_alloc fa[3];
	struct exo_ctx_info before = { 0 }, after = { 0 };
	int i, status, bad, fd2;

	memset(fa, 0, sizeof(fa));
	exo_ctx_open(a, true);
	for (i = 0; i < 3; i++)
		test_alloc_any(a->fd, &fa[i]);
	test_ctx_info(a->fd, &before);

	self->child = exo_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		bad = 0;
		for (i = 0; i < 3; i++)
			bad |= foreign_calls(a->fd, fa[i].cap, fa[i].pfn);
		/* a context of its own works */
		fd2 = exo_open_raw(O_CLOEXEC);
		if (fd2 < 0 || _test_api(fd2, EXO_API_VERSION, NULL) ||
		    _test_alloc_any(fd2, NULL))
			bad |= 1 << 7;
		_exit(bad);
	}
	status = exo_wait(self->child);
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("calls that did not fail with EIO (bit: 0 api, 1 ctx_info, 2 alloc, 3 free, 4 alloc pfn, 5 alloc contig, 6 mmap, 7 own context broken): %#x",
		       WEXITSTATUS(status));

	test_ctx_info(a->fd, &after);
	EXPECT_EQ(before.frames, after.frames);
	EXPECT_EQ(before.caps, after.caps);
	EXPECT_EQ(before.allocs, after.allocs);
	EXPECT_EQ(before.frees, after.frees);
	for (i = 0; i < 3; i++)
		exo_ft_expect_owned(a->ft, a->api.ctx_id, EXO_ALLOC_ANY,
				    &fa[i]);
	exo_counters_expect(&self->base, 1, 3);

	/* the parent's context still works */
	for (i = 0; i < 3; i++)
		test_frame_free(a->fd, fa[i].cap);
	test_alloc_any(a->fd, NULL);
	exo_ctx_close(a);
	exo_counters_expect_baseline(&self->base);
}

/*
 * The parent closes while a forked child still holds the fd: the context
 * lives on (the child's reference) until the child exits.
 */
TEST_F(ctx, fork_child_holds_last_ref)
{
	struct exo_ctx *a = &self->a;
	int status;
	char c;

	exo_ctx_open(a, false);
	test_alloc_any(a->fd, NULL);
	test_alloc_any(a->fd, NULL);
	ASSERT_EQ(0, pipe2(self->go, O_CLOEXEC));

	self->child = exo_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		close(self->go[1]);
		_exit(read(self->go[0], &c, 1) == 1 ? 0 : 1);
	}
	close(self->go[0]);
	self->go[0] = -1;

	exo_ctx_close(a);
	usleep(100000);
	exo_counters_expect(&self->base, 1, 2);

	ASSERT_EQ(0, exo_write_full(self->go[1], "g", 1));
	status = exo_wait(self->child);
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	exo_counters_expect_baseline(&self->base);
}

/*
 * The opener execs (same pid, new mm) and keeps the fd: the new image gets
 * EIO from every ioctl, and its exit releases the context.
 */
TEST_F(ctx, exec_gets_eio)
{
	char fd_s[16], cap_s[32];
	struct exo_frame_alloc fa;
	struct exo_api api;
	int status, fd;

	self->child = exo_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		/* no O_CLOEXEC: the fd survives the exec */
		fd = exo_open_raw(0);
		if (fd < 0)
			_exit(200);
		if (_test_api(fd, EXO_API_VERSION, &api))
			_exit(201);
		if (_test_alloc_any(fd, &fa))
			_exit(202);
		snprintf(fd_s, sizeof(fd_s), "%d", fd);
		snprintf(cap_s, sizeof(cap_s), "%#llx",
			 (unsigned long long)fa.cap);
		if (setenv(EXEC_FD_ENV, fd_s, 1) ||
		    setenv(EXEC_CAP_ENV, cap_s, 1))
			_exit(203);
		execl("/proc/self/exe", "exo_ctx_test", (char *)NULL);
		_exit(204);
	}
	status = exo_wait(self->child);
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("exit %d: >= 200 is a setup step, else the mask of calls that did not fail with EIO (bit: 0 api, 1 ctx_info, 2 alloc, 3 free, 5 alloc contig, 6 mmap)",
		       WEXITSTATUS(status));
	exo_counters_expect_baseline(&self->base);
}

/* ------------------------------------------------------------------------
 * scale
 */

/* 64 contexts at once, twice over: ids unique among them, all released. */
TEST_F(ctx, many_contexts)
{
	enum { N = 64, ROUNDS = 2 };
	struct exo_ctx *c;
	int r, i, j;

	c = calloc(N, sizeof(*c));
	ASSERT_NE(NULL, c);
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < N; i++) {
			c[i].fd = -1;
			exo_ctx_open(&c[i], i % 2 == 0);
			test_alloc_any(c[i].fd, NULL);
		}
		exo_counters_expect(&self->base, N, N);
		for (i = 0; i < N; i++) {
			expect_ctx(c[i].fd, 1, 1, 1, 0);
			for (j = 0; j < i; j++) {
				EXPECT_NE(c[j].api.ctx_id, c[i].api.ctx_id);
			}
		}
		for (i = 0; i < N; i++)
			exo_ctx_close(&c[i]);
		exo_counters_expect_baseline(&self->base);
	}
	free(c);
}

/*
 * exo.h: ctx_id is "unique while the module is loaded": an id is not handed
 * out again after its context closed.
 */
TEST_F(ctx, ctx_id_not_reused)
{
	enum { N = 8, ROUNDS = 4 };
	uint32_t ids[N * ROUNDS];
	struct exo_ctx c[N];
	int r, i, j;

	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < N; i++) {
			c[i].fd = -1;
			exo_ctx_open(&c[i], false);
			ids[r * N + i] = c[i].api.ctx_id;
		}
		for (i = 0; i < N; i++)
			exo_ctx_close(&c[i]);
	}
	for (i = 0; i < N * ROUNDS; i++) {
		for (j = 0; j < i; j++) {
			EXPECT_NE(ids[j], ids[i])
				TH_LOG("ctx_id %u handed out again", ids[i]);
		}
	}
	exo_counters_expect_baseline(&self->base);
}

/* A context holding 1000 frames releases them all on close. */
TEST_F(ctx, many_frames)
{
	enum { N = 1000 };
	struct exo_ctx *a = &self->a;
	int i, rc;

	if (exo_param("max_caps") < N)
		SKIP(return, "max_caps %" PRIu64 " < %d capabilities",
		     exo_param("max_caps"), N);
	if (exo_param("frame_quota") < N) {
		self->saved_quota = exo_param("frame_quota");
		self->quota_changed = true;
		ASSERT_EQ(0, exo_param_set("frame_quota", N));
	}
	exo_ctx_open(a, true);
	for (i = 0; i < N; i++) {
		rc = _test_alloc_any(a->fd, NULL);
		ASSERT_EQ(0, rc) TH_LOG("frame %d: %s", i, strerror(-rc));
	}
	expect_ctx(a->fd, N, N, N, 0);
	EXPECT_EQ((uint64_t)N, exo_ft_frames(a->ft));
	exo_counters_expect(&self->base, 1, N);
	exo_ctx_close(a);
	exo_counters_expect_baseline(&self->base);
}

/* ------------------------------------------------------------------------
 * libexo on top of the module
 */

TEST_F(ctx, libexo_roundtrip)
{
	struct exo_ftable_entry e = { 0 }, raw = { 0 };
	struct exo_ctx_info info = { 0 };
	struct exo_frame f = { 0 }, run = { 0 };
	const struct exo_api *api;
	struct exo *x = NULL;
	uint32_t order;
	int flags;

	ASSERT_EQ(0, exo_open(&x));
	ASSERT_NE(NULL, x);
	flags = fcntl(exo_fd(x), F_GETFD);
	EXPECT_TRUE(flags >= 0 && (flags & FD_CLOEXEC));
	api = exo_api(x);
	ASSERT_NE(NULL, api);
	EXPECT_EQ((uint32_t)EXO_API_VERSION, api->api);
	ASSERT_NE(NULL, exo_ftable(x));
	EXPECT_EQ(api->ctx_id, exo_ftable(x)->ctx_id);

	ASSERT_EQ(0, exo_frame_alloc(x, &f));
	ASSERT_EQ(0, exo_ftable_lookup(x, f.cap, &e));
	EXPECT_EQ(EXO_FRAME_OWNED, e.state);
	EXPECT_EQ(f.pfn, e.pfn);
	EXPECT_EQ(api->ctx_id, e.owner);
	/* the library agrees with a raw read of the same table */
	ASSERT_EQ(0, exo_ft_read(exo_ftable(x), EXO_CAP_INDEX(f.cap), &raw));
	EXPECT_EQ(raw.pfn, e.pfn);
	EXPECT_EQ(raw.gen, e.gen);
	EXPECT_EQ(EXO_CAP_GEN(f.cap), e.gen);

	order = api->max_order < 1 ? api->max_order : 1;
	ASSERT_EQ(0, exo_frame_alloc_contig(x, order, &run));
	EXPECT_EQ(order, run.order);
	EXPECT_EQ(0ULL, run.pfn & ((1ULL << order) - 1));

	ASSERT_EQ(0, exo_ctx_info(x, &info));
	EXPECT_EQ(1 + (1ULL << order), info.frames);
	EXPECT_EQ(2ULL, info.caps);
	exo_counters_expect(&self->base, 1, 1 + (1LL << order));

	EXPECT_EQ(0, exo_frame_free(x, f.cap));
	EXPECT_EQ(-ENOENT, exo_frame_free(x, f.cap));
	exo_close(x);
	exo_counters_expect_baseline(&self->base);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test_harness_run(argc, argv);
}
