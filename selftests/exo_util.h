/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the exo kselftests.
 *
 * The ioctl wrappers come in iommufd-selftest style trios:
 *
 *   _test_x(...)            does the call, returns 0 or -errno;
 *   test_x(...)             ASSERTs that it succeeded;
 *   test_err_x(errno, ...)  ASSERTs that it failed with exactly errno.
 *
 * Everything here talks to /dev/exo with raw ioctl()s so the tests control
 * every byte of the structs; nothing here uses libexo.
 */
#ifndef EXO_SELFTEST_UTIL_H
#define EXO_SELFTEST_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/exo.h>

#include "kselftest_harness.h"

#define EXO_DEV_PATH		"/dev/exo"
#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

#define EXO_SYSFS_DIR		"/sys/class/misc/exo"
#define EXO_PARAM_DIR		"/sys/module/exo/parameters"

/*
 * Every feature bit and every ioctl bit the uapi header defines, as the
 * handshake reports them (the Aegis-style upcall and the register
 * commands of protected control transfer exist on x86-64 only).
 */
#ifdef __x86_64__
#define EXO_FEAT_ALL	((uint64_t)EXO_API_FEATURES)
#else
#define EXO_FEAT_ALL	((uint64_t)EXO_API_FEATURES & \
			 ~(uint64_t)(EXO_FEAT_UPCALL | EXO_FEAT_CALL))
#endif
#define EXO_IOCTLS_ALL	((uint64_t)EXO_API_IOCTLS)
#define EXO_NR_CMDS	((unsigned int)(EXO_CMD_LAST - EXO_CMD_BASE))

/* ------------------------------------------------------------------------
 * sysfs: module-wide counters and module parameters
 */

static inline int exo_read_u64(const char *path, uint64_t *val)
{
	char buf[64], *end;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	errno = 0;
	*val = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

static inline int exo_write_str(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	err = n < 0 ? -errno : ((size_t)n == len ? 0 : -EIO);
	close(fd);
	return err;
}

static inline int exo_write_u64(const char *path, uint64_t val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", val);
	return exo_write_str(path, buf);
}

static inline int exo_param_get(const char *name, uint64_t *val)
{
	char path[128];

	snprintf(path, sizeof(path), EXO_PARAM_DIR "/%s", name);
	return exo_read_u64(path, val);
}

/* A module-wide counter in EXO_SYSFS_DIR; ~0 if it cannot be read. */
static __attribute__((noinline, unused)) uint64_t exo_sysfs_u64(const char *name)
{
	char path[128];
	uint64_t val = 0;

	snprintf(path, sizeof(path), EXO_SYSFS_DIR "/%s", name);
	return exo_read_u64(path, &val) ? ~0ULL : val;
}

static inline int exo_param_set(const char *name, uint64_t val)
{
	char path[128];

	snprintf(path, sizeof(path), EXO_PARAM_DIR "/%s", name);
	return exo_write_u64(path, val);
}

/* Is the module parameter writable at run time (S_IWUSR in its mode)? */
static inline bool exo_param_writable(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), EXO_PARAM_DIR "/%s", name);
	return !stat(path, &st) && (st.st_mode & S_IWUSR);
}

/* Read a module parameter, failing the test if it cannot be read. */
static inline uint64_t __exo_param(struct __test_metadata *_metadata,
				   const char *name)
{
	uint64_t val = 0;

	ASSERT_EQ(0, exo_param_get(name, &val))
		TH_LOG("cannot read " EXO_PARAM_DIR "/%s", name);
	return val;
}
#define exo_param(name) __exo_param(_metadata, name)

struct exo_counters {
	uint64_t contexts;
	uint64_t frames;
	uint64_t allocated;
	uint64_t freed;
	uint64_t threads;	/* registered threads not yet unlinked */
};

static inline int exo_counters_get(struct exo_counters *c)
{
	int err;

	err = exo_read_u64(EXO_SYSFS_DIR "/contexts", &c->contexts);
	if (!err)
		err = exo_read_u64(EXO_SYSFS_DIR "/frames", &c->frames);
	if (!err)
		err = exo_read_u64(EXO_SYSFS_DIR "/frames_allocated",
				   &c->allocated);
	if (!err)
		err = exo_read_u64(EXO_SYSFS_DIR "/frames_freed", &c->freed);
	if (!err)
		err = exo_read_u64(EXO_SYSFS_DIR "/threads", &c->threads);
	return err;
}

static inline void __exo_counters_read(struct __test_metadata *_metadata,
				       struct exo_counters *c)
{
	ASSERT_EQ(0, exo_counters_get(c))
		TH_LOG("cannot read the counters in " EXO_SYSFS_DIR);
}
#define exo_counters_read(c) __exo_counters_read(_metadata, c)

/*
 * Check that the module holds @dctx contexts and @dframes frames more than
 * it did at @base, and that frames_allocated/frames_freed moved consistently
 * (allocated - freed grew by exactly @dframes, and frames == allocated -
 * freed overall). A context is released from the last fput, which can run a
 * little after close()/exit() returns, so poll for up to 2 s first.
 */
static inline void __exo_counters_expect(struct __test_metadata *_metadata,
					 const struct exo_counters *base,
					 int64_t dctx, int64_t dframes,
					 int line)
{
	uint64_t want_ctx = base->contexts + (uint64_t)dctx;
	uint64_t want_frames = base->frames + (uint64_t)dframes;
	struct exo_counters now = { 0 };
	int i;

	for (i = 0;; i++) {
		ASSERT_EQ(0, exo_counters_get(&now));
		if ((now.contexts == want_ctx && now.frames == want_frames &&
		     now.threads == base->threads) || i >= 200)
			break;
		usleep(10000);
	}
	EXPECT_EQ(want_ctx, now.contexts)
		TH_LOG("module contexts counter (checked at line %d)", line);
	EXPECT_EQ(want_frames, now.frames)
		TH_LOG("module frames counter (checked at line %d)", line);
	EXPECT_EQ((uint64_t)dframes, (now.allocated - base->allocated) -
				     (now.freed - base->freed))
		TH_LOG("frames_allocated/frames_freed deltas (line %d)", line);
	EXPECT_EQ(base->threads, now.threads)
		TH_LOG("module threads counter (checked at line %d)", line);
	EXPECT_EQ(now.frames, now.allocated - now.freed)
		TH_LOG("frames != frames_allocated - frames_freed (line %d)",
		       line);
}
#define exo_counters_expect(base, dctx, dframes) \
	__exo_counters_expect(_metadata, base, dctx, dframes, __LINE__)
#define exo_counters_expect_baseline(base) exo_counters_expect(base, 0, 0)

/* ------------------------------------------------------------------------
 * raw ioctl wrappers
 */

static inline int _test_ioctl(int fd, unsigned long cmd, void *arg)
{
	int rc = ioctl(fd, cmd, arg);

	return rc < 0 ? -errno : rc;
}

static inline int exo_open_raw(int oflags)
{
	int fd = open(EXO_DEV_PATH, O_RDWR | oflags);

	return fd < 0 ? -errno : fd;
}

/* EXO_IOC_API */
static inline int _test_api(int fd, uint32_t version, struct exo_api *out)
{
	struct exo_api cmd = {
		.size = sizeof(cmd),
		.api = version,
	};
	int rc = _test_ioctl(fd, EXO_IOC_API, &cmd);

	if (!rc && out)
		*out = cmd;
	return rc;
}
#define test_api(fd, out) \
	do { ASSERT_EQ(0, _test_api(fd, EXO_API_VERSION, out)); } while (0)
#define test_err_api(_errno, fd, version) \
	do { ASSERT_EQ(-(_errno), _test_api(fd, version, NULL)); } while (0)

/* EXO_IOC_CTX_INFO */
static inline int _test_ctx_info(int fd, struct exo_ctx_info *out)
{
	struct exo_ctx_info cmd = { .size = sizeof(cmd) };
	int rc = _test_ioctl(fd, EXO_IOC_CTX_INFO, &cmd);

	if (!rc && out)
		*out = cmd;
	return rc;
}
#define test_ctx_info(fd, out) \
	do { ASSERT_EQ(0, _test_ctx_info(fd, out)); } while (0)
#define test_err_ctx_info(_errno, fd) \
	do { ASSERT_EQ(-(_errno), _test_ctx_info(fd, NULL)); } while (0)

/* EXO_IOC_FRAME_ALLOC */
static inline int _test_frame_alloc(int fd, uint32_t how, uint32_t order,
				    uint64_t pfn, uint32_t colour,
				    struct exo_frame_alloc *out)
{
	struct exo_frame_alloc cmd = {
		.size = sizeof(cmd),
		.how = how,
		.order = order,
		.pfn = pfn,
		.colour = colour,
	};
	int rc = _test_ioctl(fd, EXO_IOC_FRAME_ALLOC, &cmd);

	if (!rc && out)
		*out = cmd;
	return rc;
}
#define test_frame_alloc(fd, how, order, pfn, colour, out)		   \
	do {								   \
		ASSERT_EQ(0, _test_frame_alloc(fd, how, order, pfn, colour, \
					       out));			   \
	} while (0)
#define test_err_frame_alloc(_errno, fd, how, order, pfn, colour)	   \
	do {								   \
		ASSERT_EQ(-(_errno), _test_frame_alloc(fd, how, order, pfn, \
						       colour, NULL));	   \
	} while (0)

#define _test_alloc_any(fd, out) \
	_test_frame_alloc(fd, EXO_ALLOC_ANY, 0, 0, 0, out)
#define test_alloc_any(fd, out) \
	test_frame_alloc(fd, EXO_ALLOC_ANY, 0, 0, 0, out)
#define test_err_alloc_any(_errno, fd) \
	test_err_frame_alloc(_errno, fd, EXO_ALLOC_ANY, 0, 0, 0)
#define _test_alloc_pfn(fd, pfn, out) \
	_test_frame_alloc(fd, EXO_ALLOC_PFN, 0, pfn, 0, out)
#define test_alloc_pfn(fd, pfn, out) \
	test_frame_alloc(fd, EXO_ALLOC_PFN, 0, pfn, 0, out)
#define test_err_alloc_pfn(_errno, fd, pfn) \
	test_err_frame_alloc(_errno, fd, EXO_ALLOC_PFN, 0, pfn, 0)
#define _test_alloc_colour(fd, colour, out) \
	_test_frame_alloc(fd, EXO_ALLOC_COLOUR, 0, 0, colour, out)
#define test_alloc_colour(fd, colour, out) \
	test_frame_alloc(fd, EXO_ALLOC_COLOUR, 0, 0, colour, out)
#define test_err_alloc_colour(_errno, fd, colour) \
	test_err_frame_alloc(_errno, fd, EXO_ALLOC_COLOUR, 0, 0, colour)
#define _test_alloc_contig(fd, order, out) \
	_test_frame_alloc(fd, EXO_ALLOC_CONTIG, order, 0, 0, out)
#define test_alloc_contig(fd, order, out) \
	test_frame_alloc(fd, EXO_ALLOC_CONTIG, order, 0, 0, out)
#define test_err_alloc_contig(_errno, fd, order) \
	test_err_frame_alloc(_errno, fd, EXO_ALLOC_CONTIG, order, 0, 0)

/* EXO_IOC_FRAME_FREE */
static inline int _test_frame_free(int fd, uint64_t cap)
{
	struct exo_frame_free cmd = {
		.size = sizeof(cmd),
		.cap = cap,
	};

	return _test_ioctl(fd, EXO_IOC_FRAME_FREE, &cmd);
}
#define test_frame_free(fd, cap) \
	do { ASSERT_EQ(0, _test_frame_free(fd, cap)); } while (0)
#define test_err_frame_free(_errno, fd, cap) \
	do { ASSERT_EQ(-(_errno), _test_frame_free(fd, cap)); } while (0)

/* ------------------------------------------------------------------------
 * contexts
 */

/* One raw context: the fd, its handshake, and (optionally) its frame table. */
struct exo_ctx {
	int fd;
	struct exo_api api;
	const void *ft;
	size_t ft_len;
};

#define EXO_CTX_INIT { .fd = -1, .ft = NULL }

static inline const void *exo_ftable_mmap(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, EXO_MMAP_FTABLE);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Open /dev/exo (with @oflags added to O_RDWR), do the handshake and, if
 * @map, mmap the frame table read-only.
 */
static inline void __exo_ctx_open(struct __test_metadata *_metadata,
				  struct exo_ctx *ctx, int oflags, bool map)
{
	ctx->ft = NULL;
	ctx->ft_len = 0;
	ctx->fd = exo_open_raw(oflags);
	ASSERT_LE(0, ctx->fd)
		TH_LOG("open(" EXO_DEV_PATH "): %s (is the module loaded?)",
		       strerror(-ctx->fd));
	test_api(ctx->fd, &ctx->api);
	ASSERT_EQ((uint32_t)EXO_API_VERSION, ctx->api.api);
	if (map) {
		ctx->ft = exo_ftable_mmap(ctx->fd, ctx->api.ftable_size);
		ASSERT_NE(NULL, ctx->ft)
			TH_LOG("mmap of the frame table: %s", strerror(errno));
		ctx->ft_len = ctx->api.ftable_size;
	}
}
#define exo_ctx_open(ctx, map) __exo_ctx_open(_metadata, ctx, O_CLOEXEC, map)

/* Unmap and close; safe on a context that was never (fully) opened. */
static inline void exo_ctx_close(struct exo_ctx *ctx)
{
	if (ctx->ft)
		munmap((void *)ctx->ft, ctx->ft_len);
	ctx->ft = NULL;
	ctx->ft_len = 0;
	if (ctx->fd >= 0)
		close(ctx->fd);
	ctx->fd = -1;
}

/* Allocate one ANY frame in @fd and return its capability. */
static inline uint64_t __exo_alloc_any_cap(struct __test_metadata *_metadata,
					   int fd)
{
	struct exo_frame_alloc a = { 0 };

	test_alloc_any(fd, &a);
	return a.cap;
}
#define exo_alloc_any_cap(fd) __exo_alloc_any_cap(_metadata, fd)

/*
 * Flush every CPU's LRU-add batches (a freshly faulted page waits there, off
 * the LRU, and alloc_contig_range() counts it unmovable until it lands):
 * migrate_pages(2) from our nodes to the same nodes moves nothing but drains
 * them first.
 */
static inline void drain_lru_batches(void)
{
	unsigned long nodes[16] = { 0 };
	unsigned long maxnode = sizeof(nodes) * 8;

	/* MPOL_F_MEMS_ALLOWED (4): the nodes we may use */
	if (syscall(SYS_get_mempolicy, NULL, nodes, maxnode, NULL, 4UL))
		nodes[0] = 1;
	syscall(SYS_migrate_pages, 0, maxnode, nodes, nodes);
}

static inline uint64_t pagemap_pfn(int pm, const void *addr, size_t psz)
{
	uint64_t ent = 0;
	off_t off = (off_t)((uintptr_t)addr / psz) * 8;

	if (pread(pm, &ent, sizeof(ent), off) != sizeof(ent))
		return 0;
	if (!(ent & (1ULL << 63)))
		return 0;
	return ent & ((1ULL << 55) - 1);
}

/*
 * Named allocation from exo's own region (exo_api.pool_pfn): a frame there
 * that no context holds must be given, so take the first free one. Only
 * contexts of the running test hold region frames, so this is certain.
 */
static inline void __alloc_named_region(struct __test_metadata *_metadata,
					int fd, struct exo_frame_alloc *out)
{
	struct exo_api api = { .size = sizeof(api), .api = EXO_API_VERSION };
	int rc = -EBUSY;
	uint32_t i;

	ASSERT_EQ(0, ioctl(fd, EXO_IOC_API, &api));
	ASSERT_NE(0U, api.pool_frames) TH_LOG("exo has no region of its own");
	for (i = 0; i < api.pool_frames && rc == -EBUSY; i++)
		rc = _test_alloc_pfn(fd, api.pool_pfn + i, out);
	ASSERT_EQ(0, rc) TH_LOG("no free frame in exo's region: %s",
				strerror(-rc));
	EXPECT_EQ(api.pool_pfn + i - 1, out->pfn);
}
#define alloc_named_region(fd, out) __alloc_named_region(_metadata, fd, out)

/* The context's counters are exactly these. */
static inline void __expect_ctx(struct __test_metadata *_metadata, int fd,
				uint64_t frames, uint64_t caps,
				uint64_t allocs, uint64_t frees, int line)
{
	struct exo_ctx_info info = { 0 };

	test_ctx_info(fd, &info);
	EXPECT_EQ(frames, info.frames) TH_LOG("ctx frames (line %d)", line);
	EXPECT_EQ(caps, info.caps) TH_LOG("ctx caps (line %d)", line);
	EXPECT_EQ(allocs, info.allocs) TH_LOG("ctx allocs (line %d)", line);
	EXPECT_EQ(frees, info.frees) TH_LOG("ctx frees (line %d)", line);
}
#define expect_ctx(fd, frames, caps, allocs, frees) \
	__expect_ctx(_metadata, fd, frames, caps, allocs, frees, __LINE__)

/* ------------------------------------------------------------------------
 * the frame table
 */

static inline const struct exo_ftable_header *exo_ft_hdr(const void *ft)
{
	return ft;
}

/* The header's frame count (a plain volatile load: the mapping is RO). */
static inline uint64_t exo_ft_frames(const void *ft)
{
	return *(const volatile __u64 *)&exo_ft_hdr(ft)->frames;
}

/* Read entry @index under its sequence count (raw; not libexo's). */
static inline int exo_ft_read(const void *ft, uint32_t index,
			      struct exo_ftable_entry *out)
{
	const struct exo_ftable_header *h = exo_ft_hdr(ft);
	const struct exo_ftable_entry *e;
	size_t n = h->entry_size < sizeof(*out) ? h->entry_size : sizeof(*out);
	uint32_t s1, s2;
	long tries;

	if (index >= h->nr_entries)
		return -ERANGE;
	e = (const void *)((const char *)ft + h->entries_offset +
			   (size_t)index * h->entry_size);
	for (tries = 0; tries < 1000000; tries++) {
		s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
			sched_yield();
			continue;
		}
		memset(out, 0, sizeof(*out));
		memcpy(out, e, n);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
		if (s1 == s2) {
			out->seq = s1;
			return 0;
		}
	}
	return -EAGAIN;
}

/* Number of entries in EXO_FRAME_OWNED state, or -errno. */
static inline long exo_ft_count_owned(const void *ft)
{
	const struct exo_ftable_header *h = exo_ft_hdr(ft);
	struct exo_ftable_entry e;
	long owned = 0;
	uint32_t i;
	int err;

	for (i = 0; i < h->nr_entries; i++) {
		err = exo_ft_read(ft, i, &e);
		if (err)
			return err;
		if (e.state == EXO_FRAME_OWNED)
			owned++;
	}
	return owned;
}

/*
 * Check that the frame table entry of @a->cap describes exactly what the
 * allocation returned, owned by @ctx_id.
 */
static inline void __exo_ft_expect_owned(struct __test_metadata *_metadata,
					 const void *ft, uint32_t ctx_id,
					 uint32_t how,
					 const struct exo_frame_alloc *a,
					 int line)
{
	struct exo_ftable_entry e;

	ASSERT_EQ(0, exo_ft_read(ft, EXO_CAP_INDEX(a->cap), &e))
		TH_LOG("frame table read (line %d)", line);
	EXPECT_EQ(EXO_FRAME_OWNED, e.state) TH_LOG("state (line %d)", line);
	EXPECT_EQ(EXO_CAP_GEN(a->cap), e.gen) TH_LOG("gen (line %d)", line);
	EXPECT_EQ(a->pfn, e.pfn) TH_LOG("pfn (line %d)", line);
	EXPECT_EQ(a->order, (uint32_t)e.order) TH_LOG("order (line %d)", line);
	EXPECT_EQ(a->colour, e.colour) TH_LOG("colour (line %d)", line);
	EXPECT_EQ(how, (uint32_t)e.how) TH_LOG("how (line %d)", line);
	EXPECT_EQ(ctx_id, e.owner) TH_LOG("owner (line %d)", line);
	EXPECT_EQ(0U, e.seq & 1) TH_LOG("seq (line %d)", line);
	EXPECT_EQ(0, e.flags) TH_LOG("flags (line %d)", line);
	EXPECT_EQ(0U, e.__reserved) TH_LOG("__reserved (line %d)", line);
}
#define exo_ft_expect_owned(ft, ctx_id, how, a) \
	__exo_ft_expect_owned(_metadata, ft, ctx_id, how, a, __LINE__)

static inline void __exo_ft_expect_free(struct __test_metadata *_metadata,
					const void *ft, uint32_t index,
					int line)
{
	struct exo_ftable_entry e;

	ASSERT_EQ(0, exo_ft_read(ft, index, &e))
		TH_LOG("frame table read (line %d)", line);
	EXPECT_EQ(EXO_FRAME_FREE, e.state)
		TH_LOG("entry %u should be free (line %d)", index, line);
}
#define exo_ft_expect_free(ft, index) \
	__exo_ft_expect_free(_metadata, ft, index, __LINE__)

/* ------------------------------------------------------------------------
 * "a failed call changes nothing"
 */

/*
 * Issue @ioc on @fd with @arg and expect exactly -@err. Check that nothing
 * changed: the context's counters, the module-wide counters, the number of
 * owned frame-table entries (if @ft) and the first @cmp_len bytes at @arg.
 */
static inline void __exo_expect_err(struct __test_metadata *_metadata,
				    int fd, const void *ft, unsigned long ioc,
				    void *arg, size_t cmp_len, int err,
				    int line)
{
	struct exo_ctx_info before = { 0 }, after = { 0 };
	struct exo_counters c0 = { 0 }, c1 = { 0 };
	long owned0 = 0, owned1 = 0;
	uint8_t *copy = NULL;
	int rc;

	ASSERT_EQ(0, _test_ctx_info(fd, &before));
	ASSERT_EQ(0, exo_counters_get(&c0));
	if (ft)
		owned0 = exo_ft_count_owned(ft);
	if (cmp_len) {
		copy = malloc(cmp_len);
		ASSERT_NE(NULL, copy);
		memcpy(copy, arg, cmp_len);
	}

	rc = _test_ioctl(fd, ioc, arg);
	EXPECT_EQ(-err, rc)
		TH_LOG("ioctl %#lx: expected %s, got %s (line %d)", ioc,
		       strerror(err), rc ? strerror(-rc) : "success", line);

	if (cmp_len) {
		EXPECT_EQ(0, memcmp(copy, arg, cmp_len))
			TH_LOG("failed call wrote to the struct (line %d)",
			       line);
		free(copy);
	}
	ASSERT_EQ(0, _test_ctx_info(fd, &after));
	EXPECT_EQ(before.frames, after.frames)
		TH_LOG("ctx frames changed (line %d)", line);
	EXPECT_EQ(before.caps, after.caps)
		TH_LOG("ctx caps changed (line %d)", line);
	EXPECT_EQ(before.allocs, after.allocs)
		TH_LOG("ctx allocs changed (line %d)", line);
	EXPECT_EQ(before.frees, after.frees)
		TH_LOG("ctx frees changed (line %d)", line);
	EXPECT_EQ(before.bindings, after.bindings)
		TH_LOG("ctx bindings changed (line %d)", line);
	ASSERT_EQ(0, exo_counters_get(&c1));
	EXPECT_EQ(c0.contexts, c1.contexts)
		TH_LOG("module contexts changed (line %d)", line);
	EXPECT_EQ(c0.frames, c1.frames)
		TH_LOG("module frames changed (line %d)", line);
	EXPECT_EQ(c1.allocated - c0.allocated, c1.freed - c0.freed)
		TH_LOG("module allocated/freed deltas differ (line %d)", line);
	if (ft) {
		owned1 = exo_ft_count_owned(ft);
		EXPECT_EQ(owned0, owned1)
			TH_LOG("owned frame-table entries changed (line %d)",
			       line);
	}
}
#define exo_expect_err(_errno, fd, ft, ioc, arg, cmp_len) \
	__exo_expect_err(_metadata, fd, ft, ioc, arg, cmp_len, _errno, \
			 __LINE__)

/* FRAME_ALLOC with these fields must fail with @_errno, changing nothing. */
#define exo_expect_alloc_err(_errno, fd, ft, _how, _order, _pfn, _colour)  \
	do {								   \
		struct exo_frame_alloc __a = {				   \
			.size = sizeof(__a), .how = (_how),		   \
			.order = (_order), .pfn = (_pfn),		   \
			.colour = (_colour),				   \
		};							   \
		exo_expect_err(_errno, fd, ft, EXO_IOC_FRAME_ALLOC, &__a,  \
			       sizeof(__a));				   \
	} while (0)

/* ------------------------------------------------------------------------
 * virtual memory: exo VMAs and the VM ioctls
 */

/*
 * mmap an exo VMA of @len bytes with mmap(2) protection @prot (the most any
 * binding in it may allow); NULL with errno set on failure.
 */
static inline void *exo_vm_mmap(int fd, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, EXO_MMAP_VM);

	return p == MAP_FAILED ? NULL : p;
}

/* EXO_IOC_MAP */
static inline int _test_map(int fd, const struct exo_map_entry *entries,
			    uint32_t nr)
{
	struct exo_map cmd = {
		.size = sizeof(cmd),
		.nr = nr,
		.entries = (uintptr_t)entries,
	};

	return _test_ioctl(fd, EXO_IOC_MAP, &cmd);
}
#define test_map(fd, entries, nr) \
	do { ASSERT_EQ(0, _test_map(fd, entries, nr)); } while (0)
#define test_err_map(_errno, fd, entries, nr) \
	do { ASSERT_EQ(-(_errno), _test_map(fd, entries, nr)); } while (0)

/* One entry: @nr pages from @va to frames @frame.. of @cap. */
static inline int _test_map_one(int fd, const void *va, uint64_t cap,
				uint32_t frame, uint32_t nr, uint32_t prot)
{
	struct exo_map_entry e = {
		.va = (uintptr_t)va,
		.cap = cap,
		.frame = frame,
		.nr = nr,
		.prot = prot,
	};

	return _test_map(fd, &e, 1);
}
#define test_map_one(fd, va, cap, frame, nr, prot)			\
	do {								\
		int __rc = _test_map_one(fd, va, cap, frame, nr, prot);	\
		ASSERT_EQ(0, __rc) TH_LOG("MAP %p: %s", (void *)(va),	\
					  strerror(-__rc));		\
	} while (0)
#define test_err_map_one(_errno, fd, va, cap, frame, nr, prot)		  \
	do {								  \
		ASSERT_EQ(-(_errno), _test_map_one(fd, va, cap, frame, nr, \
						   prot));		  \
	} while (0)

/* EXO_IOC_UNMAP and EXO_IOC_PROTECT */
static inline int __test_vm_ranges(int fd, unsigned long ioc,
				   const struct exo_vrange *ranges,
				   uint32_t nr, uint32_t prot, uint32_t flags)
{
	struct exo_vm_ranges cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.prot = prot,
		.nr = nr,
		.ranges = (uintptr_t)ranges,
	};

	return _test_ioctl(fd, ioc, &cmd);
}
#define _test_vm_ranges(fd, ioc, ranges, nr, prot) \
	__test_vm_ranges(fd, ioc, ranges, nr, prot, 0)
#define _test_unmap(fd, ranges, nr) \
	_test_vm_ranges(fd, EXO_IOC_UNMAP, ranges, nr, 0)
#define _test_protect(fd, ranges, nr, prot) \
	_test_vm_ranges(fd, EXO_IOC_PROTECT, ranges, nr, prot)

static inline int _test_unmap_range(int fd, const void *va, size_t len)
{
	struct exo_vrange r = { .va = (uintptr_t)va, .len = len };

	return _test_unmap(fd, &r, 1);
}
#define test_unmap_range(fd, va, len) \
	do { ASSERT_EQ(0, _test_unmap_range(fd, va, len)); } while (0)
#define test_err_unmap_range(_errno, fd, va, len) \
	do { ASSERT_EQ(-(_errno), _test_unmap_range(fd, va, len)); } while (0)

static inline int _test_protect_range(int fd, const void *va, size_t len,
				      uint32_t prot)
{
	struct exo_vrange r = { .va = (uintptr_t)va, .len = len };

	return _test_protect(fd, &r, 1, prot);
}
#define test_protect_range(fd, va, len, prot) \
	do { ASSERT_EQ(0, _test_protect_range(fd, va, len, prot)); } while (0)
#define test_err_protect_range(_errno, fd, va, len, prot)		    \
	do {								    \
		ASSERT_EQ(-(_errno), _test_protect_range(fd, va, len, prot)); \
	} while (0)

/* EXO_IOC_QUERY */
static inline int _test_query(int fd, const void *va, uint32_t nr,
			      uint32_t flags, struct exo_vpage *pages)
{
	struct exo_query cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.va = (uintptr_t)va,
		.nr = nr,
		.pages = (uintptr_t)pages,
	};

	return _test_ioctl(fd, EXO_IOC_QUERY, &cmd);
}
#define test_query(fd, va, nr, flags, pages) \
	do { ASSERT_EQ(0, _test_query(fd, va, nr, flags, pages)); } while (0)
#define test_err_query(_errno, fd, va, nr, flags, pages)		    \
	do {								    \
		ASSERT_EQ(-(_errno), _test_query(fd, va, nr, flags, pages)); \
	} while (0)

/* What QUERY says of the one page at @va (zeroed if the call fails). */
static inline struct exo_vpage exo_vpage_of(int fd, const void *va)
{
	struct exo_vpage p = { 0 };

	if (_test_query(fd, va, 1, 0, &p))
		memset(&p, 0, sizeof(p));
	return p;
}

/* EXO_IOC_DIRTY: the number of dirty pages reported, or -errno. */
static inline int _test_dirty(int fd, const void *va, uint32_t nr,
			      uint64_t *bitmap)
{
	struct exo_dirty cmd = {
		.size = sizeof(cmd),
		.va = (uintptr_t)va,
		.nr = nr,
		.bitmap = (uintptr_t)bitmap,
	};
	int rc = _test_ioctl(fd, EXO_IOC_DIRTY, &cmd);

	return rc ? rc : (int)cmd.dirty;
}
#define test_dirty(fd, va, nr, bitmap, count)				\
	do {								\
		ASSERT_EQ((int)(count), _test_dirty(fd, va, nr, bitmap)); \
	} while (0)
#define test_err_dirty(_errno, fd, va, nr, bitmap) \
	do { ASSERT_EQ(-(_errno), _test_dirty(fd, va, nr, bitmap)); } while (0)

/* EXO_IOC_STLB */
static inline int _test_stlb(int fd, const struct exo_upte *table,
			     const void *base, uint32_t nr_entries)
{
	struct exo_stlb cmd = {
		.size = sizeof(cmd),
		.table = (uintptr_t)table,
		.base = (uintptr_t)base,
		.nr_entries = nr_entries,
	};

	return _test_ioctl(fd, EXO_IOC_STLB, &cmd);
}
#define test_stlb(fd, table, base, nr) \
	do { ASSERT_EQ(0, _test_stlb(fd, table, base, nr)); } while (0)
#define test_err_stlb(_errno, fd, table, base, nr) \
	do { ASSERT_EQ(-(_errno), _test_stlb(fd, table, base, nr)); } while (0)

/* EXO_IOC_FAULT_MODE: 0 or -errno; the previous mode in *@prev. */
static inline int _test_fault_mode(int fd, uint32_t mode, uint32_t *prev)
{
	struct exo_fault_mode cmd = { .size = sizeof(cmd), .mode = mode };
	int rc = _test_ioctl(fd, EXO_IOC_FAULT_MODE, &cmd);

	if (!rc && prev)
		*prev = cmd.mode;
	return rc;
}
#define test_fault_mode(fd, mode, prev) \
	do { ASSERT_EQ(0, _test_fault_mode(fd, mode, prev)); } while (0)
#define test_err_fault_mode(_errno, fd, mode) \
	do { ASSERT_EQ(-(_errno), _test_fault_mode(fd, mode, NULL)); } while (0)

/* EXO_IOC_FAULT_WAKE */
static inline int _test_fault_wake(int fd, uint32_t flags, const void *va,
				   size_t len)
{
	struct exo_fault_wake cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.va = (uintptr_t)va,
		.len = len,
	};

	return _test_ioctl(fd, EXO_IOC_FAULT_WAKE, &cmd);
}
#define test_fault_wake(fd, flags, va, len) \
	do { ASSERT_EQ(0, _test_fault_wake(fd, flags, va, len)); } while (0)
#define test_err_fault_wake(_errno, fd, flags, va, len)			   \
	do {								   \
		ASSERT_EQ(-(_errno), _test_fault_wake(fd, flags, va, len)); \
	} while (0)

/* The context's VM counters. */
static inline void __expect_ctx_vm(struct __test_metadata *_metadata, int fd,
				   uint64_t bindings, uint64_t upcalls,
				   int line)
{
	struct exo_ctx_info info = { 0 };

	test_ctx_info(fd, &info);
	EXPECT_EQ(bindings, info.bindings)
		TH_LOG("ctx bindings (line %d)", line);
	EXPECT_EQ(upcalls, info.upcalls) TH_LOG("ctx upcalls (line %d)", line);
}
#define expect_ctx_vm(fd, bindings, upcalls) \
	__expect_ctx_vm(_metadata, fd, bindings, upcalls, __LINE__)

/* ------------------------------------------------------------------------
 * processes
 */

/*
 * fork() a child that dies with SIGKILL if the test process dies, so a
 * failed ASSERT never leaves a child (and its frames) behind.
 */
static inline pid_t exo_fork(void)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(250);
	}
	return pid;
}

/* waitpid() ignoring EINTR; returns the status or -1. */
static inline int exo_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return status;
}

static inline int exo_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

static inline int exo_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* A tiny deterministic PRNG (xorshift64*) for forged capabilities. */
static inline uint64_t exo_rand64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(2685821657736338717);
}

/*
 * The Internet checksum (RFC 1071) of @len bytes, started from the
 * unfolded sum @sum, in host byte order: 0 over data that carries a
 * correct one.
 */
static inline uint16_t exo_inet_csum(uint32_t sum, const void *buf,
				     size_t len)
{
	const uint8_t *b = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif /* EXO_SELFTEST_UTIL_H */
