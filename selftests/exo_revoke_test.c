// SPDX-License-Identifier: GPL-2.0
/*
 * exo revocation tests: visible revocation (the event ring, POLLPRI, the
 * eventfd and the signal), the urgent warning, the abort protocol and the
 * repossession vector (byte-exact recovery, stale capabilities, SIGBUS with
 * EXO_FAULT_REPOSSESSED, EFAULT for system calls), critical frames, grants,
 * hostile and killed library OSes, concurrent revocations, the global frame
 * limit and the memory-pressure shrinker.
 *
 * Raw ioctls only. Module parameters a test changes are put back in its
 * teardown (and once more by main(), should a test die by its timeout).
 * Every test ends with the module's frame counters at their baseline.
 * Threads never ASSERT: they record what went wrong and the main thread
 * checks.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <linux/capability.h>

#include "exo_util.h"

#define VMA_PAGES	64
#define RW		(EXO_PROT_READ | EXO_PROT_WRITE)
#define RO		EXO_PROT_READ
#define MS		1000000ULL	/* ns */

/* ------------------------------------------------------------------------
 * module parameters and sysctls the tests change
 */

#define WSF_PATH	"/proc/sys/vm/watermark_scale_factor"
#define MIN_FREE_PATH	"/proc/sys/vm/min_free_kbytes"

static const char *const params[] = {
	EXO_PARAM_DIR "/revoke_timeout_ms", EXO_PARAM_DIR "/urgent_pct",
	EXO_PARAM_DIR "/critical_max", EXO_PARAM_DIR "/max_frames",
	EXO_PARAM_DIR "/shrink", EXO_PARAM_DIR "/event_entries",
	EXO_PARAM_DIR "/repo_entries", WSF_PATH, MIN_FREE_PATH,
};
#define NR_PARAMS	ARRAY_SIZE(params)

static void params_save(uint64_t *vals, bool *ok)
{
	unsigned int i;

	for (i = 0; i < NR_PARAMS; i++)
		ok[i] = !exo_read_u64(params[i], &vals[i]);
}

/* Only what changed: min_free_kbytes rewrites the watermarks. */
static void params_restore(const uint64_t *vals, const bool *ok)
{
	uint64_t now = 0;
	unsigned int i;

	for (i = 0; i < NR_PARAMS; i++)
		if (ok[i] && (exo_read_u64(params[i], &now) || now != vals[i]))
			exo_write_u64(params[i], vals[i]);
}

#define set_param(name, val)						\
	ASSERT_EQ(0, exo_param_set(name, val))				\
		TH_LOG("cannot set " EXO_PARAM_DIR "/%s", name)

/* ------------------------------------------------------------------------
 * time, patterns
 */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void fill(void *page, size_t psz, uint64_t seed)
{
	uint64_t *w = page;
	size_t i;

	for (i = 0; i < psz / 8; i++)
		w[i] = seed * 0x9e3779b97f4a7c15ULL + i;
}

static bool filled(const void *page, size_t psz, uint64_t seed)
{
	const volatile uint64_t *w = page;
	size_t i;

	for (i = 0; i < psz / 8; i++)
		if (w[i] != seed * 0x9e3779b97f4a7c15ULL + i)
			return false;
	return true;
}

/* ------------------------------------------------------------------------
 * SIGBUS: recorded, and a siglongjmp() back when the thread armed one
 */

static __thread sigjmp_buf *volatile tls_jmp;
static __thread void *volatile tls_addr;
static __thread volatile int tls_code;
static __thread volatile uint32_t tls_err;

static void sigbus_handler(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] = "# unexpected SIGBUS\n";

	tls_addr = si->si_addr;
	tls_code = si->si_code;
	tls_err = si->si_errno;
	if (tls_jmp)
		siglongjmp(*tls_jmp, 1);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(99);
	signal(SIGBUS, SIG_DFL);
}

static void install_sigbus_handler(void)
{
	struct sigaction sa = {
		.sa_sigaction = sigbus_handler,
		.sa_flags = SA_SIGINFO,
	};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/*
 * Access one byte at @p: true if it took a SIGBUS (tls_err has si_errno),
 * false if it completed (a read's value in *@out).
 */
static bool access_faults(volatile uint8_t *p, bool write, uint8_t *out)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 1)) {
		tls_jmp = NULL;
		return true;
	}
	tls_jmp = &jb;
	if (write)
		*p = 0x5a;
	else
		*out = *p;
	tls_jmp = NULL;
	return false;
}

/* The access at @p must take a SIGBUS with si_errno @err, reading nothing. */
static void __expect_sigbus(struct __test_metadata *_metadata, void *p,
			    bool write, uint32_t err, int line)
{
	uint8_t v = 0xee;

	ASSERT_TRUE(access_faults(p, write, &v))
		TH_LOG("%s at %p completed (read %#x); expected SIGBUS (line %d)",
		       write ? "write" : "read", p, v, line);
	EXPECT_EQ(0xee, v) TH_LOG("the faulting read returned data (line %d)",
				  line);
	EXPECT_EQ(p, tls_addr) TH_LOG("si_addr (line %d)", line);
	EXPECT_EQ(BUS_ADRERR, tls_code) TH_LOG("si_code (line %d)", line);
	EXPECT_EQ(err, tls_err)
		TH_LOG("si_errno %#x, expected %#x (line %d)", tls_err, err,
		       line);
}
#define expect_sigbus(p, write, err) \
	__expect_sigbus(_metadata, p, write, err, __LINE__)

/* ------------------------------------------------------------------------
 * the new ioctls
 */

static int _test_revoke(int fd, uint32_t flags, uint32_t ctx_id,
			uint32_t timeout_ms, uint64_t nr, uint64_t *id)
{
	struct exo_revoke cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ctx_id = ctx_id,
		.timeout_ms = timeout_ms,
		.nr = nr,
	};
	int rc = _test_ioctl(fd, EXO_IOC_REVOKE, &cmd);

	if (!rc && id)
		*id = cmd.id;
	return rc;
}
#define test_revoke(fd, flags, ctx_id, tmo, nr, id)			  \
	do {								  \
		int __rc = _test_revoke(fd, flags, ctx_id, tmo, nr, id); \
		ASSERT_EQ(0, __rc) TH_LOG("REVOKE: %s", strerror(-__rc)); \
	} while (0)

static int _test_notify(int fd, int efd, uint32_t signo)
{
	struct exo_revoke_notify cmd = {
		.size = sizeof(cmd),
		.eventfd = efd,
		.signo = signo,
	};

	return _test_ioctl(fd, EXO_IOC_REVOKE_NOTIFY, &cmd);
}

static int _test_critical(int fd, uint64_t cap, uint32_t flags,
			  uint32_t *critical)
{
	struct exo_frame_critical cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.cap = cap,
	};
	int rc = _test_ioctl(fd, EXO_IOC_FRAME_CRITICAL, &cmd);

	if (!rc && critical)
		*critical = cmd.critical;
	return rc;
}

static int _test_grant(int fd, uint64_t cap, uint32_t ctx_id,
		       uint64_t *grant_cap)
{
	struct exo_frame_grant cmd = {
		.size = sizeof(cmd),
		.cap = cap,
		.ctx_id = ctx_id,
	};
	int rc = _test_ioctl(fd, EXO_IOC_FRAME_GRANT, &cmd);

	if (!rc && grant_cap)
		*grant_cap = cmd.grant_cap;
	return rc;
}

static int _test_recover(int fd, uint32_t flags, uint32_t slot,
			 uint32_t frame, uint32_t nr, uint32_t dst_frame,
			 uint64_t cap, const void *buf)
{
	struct exo_recover cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.slot = slot,
		.frame = frame,
		.nr = nr,
		.dst_frame = dst_frame,
		.cap = cap,
		.buf = (uintptr_t)buf,
	};

	return _test_ioctl(fd, EXO_IOC_RECOVER, &cmd);
}

/* Release a vector entry without copying anything. */
#define test_release(fd, slot) \
	ASSERT_EQ(0, _test_recover(fd, 0, slot, 0, 0, 0, 0, NULL))

static struct exo_ctx_info __ctx_info(struct __test_metadata *_metadata,
				      int fd)
{
	struct exo_ctx_info info = { 0 };

	EXPECT_EQ(0, _test_ctx_info(fd, &info));
	return info;
}
#define ctx_info(fd) __ctx_info(_metadata, fd)

/* ------------------------------------------------------------------------
 * a context with its event ring, repossession vector and an exo VMA
 */

struct rctx {
	struct exo_ctx c;
	const struct exo_events_header *ev;
	const struct exo_repo_header *repo;
	uint8_t *vma;
	size_t psz;
	uint64_t next;		/* next event to read */
};

static void rctx_init(struct rctx *r)
{
	memset(r, 0, sizeof(*r));
	r->c.fd = -1;
}

static const void *ro_mmap(int fd, size_t len, uint64_t off)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);

	return p == MAP_FAILED ? NULL : p;
}

/* Open a context, map its table, ring, vector and a VMA_PAGES exo VMA. */
static int rctx_open(struct rctx *r)
{
	struct exo_api *a = &r->c.api;

	rctx_init(r);
	r->psz = sysconf(_SC_PAGESIZE);
	r->c.fd = exo_open_raw(O_CLOEXEC);
	if (r->c.fd < 0)
		return r->c.fd;
	if (_test_api(r->c.fd, EXO_API_VERSION, a))
		return -EIO;
	if (!(a->features & EXO_FEAT_REVOKE))
		return -EOPNOTSUPP;
	r->c.ft = exo_ftable_mmap(r->c.fd, a->ftable_size);
	if (!r->c.ft)
		return -errno;
	r->c.ft_len = a->ftable_size;
	r->ev = ro_mmap(r->c.fd, a->events_size, EXO_MMAP_EVENTS);
	if (!r->ev)
		return -errno;
	r->repo = ro_mmap(r->c.fd, a->repo_size, EXO_MMAP_REPO);
	if (!r->repo)
		return -errno;
	r->vma = exo_vm_mmap(r->c.fd, VMA_PAGES * r->psz,
			     PROT_READ | PROT_WRITE);
	if (!r->vma)
		return -errno;
	return 0;
}

/* The mappings hold the context: they go before the fd. */
static void rctx_close(struct rctx *r)
{
	if (r->vma)
		munmap(r->vma, VMA_PAGES * r->psz);
	if (r->ev)
		munmap((void *)r->ev, r->c.api.events_size);
	if (r->repo)
		munmap((void *)r->repo, r->c.api.repo_size);
	r->vma = NULL;
	r->ev = NULL;
	r->repo = NULL;
	exo_ctx_close(&r->c);
}

#define RP(r, i)	((r)->vma + (size_t)(i) * (r)->psz)

static uint64_t ld64(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static uint32_t ld32(const __u32 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Event @n: 0 and a copy in *@out, -EAGAIN not posted yet, -EOVERFLOW lost. */
static int ev_read(const struct exo_events_header *h, uint64_t n,
		   struct exo_event *out)
{
	const struct exo_event *e = (const void *)((const char *)h +
		h->entries_offset + (n % h->nr_entries) * h->entry_size);
	size_t len = h->entry_size < sizeof(*out) ? h->entry_size :
						    sizeof(*out);
	uint64_t s1, s2;

	s1 = ld64(&e->seq);
	if (s1 > n + 1)
		return -EOVERFLOW;
	if (s1 != n + 1)
		return -EAGAIN;
	memset(out, 0, sizeof(*out));
	memcpy(out, e, len);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	s2 = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	return s2 == s1 ? 0 : -EOVERFLOW;
}

/* Wait up to @ms for the next event; 0, -ETIMEDOUT or -EOVERFLOW. */
static int ev_next(struct rctx *r, unsigned int ms, struct exo_event *out)
{
	uint64_t end = now_ns() + ms * MS;
	int rc;

	for (;;) {
		rc = ev_read(r->ev, r->next, out);
		if (!rc) {
			r->next++;
			return 0;
		}
		if (rc != -EAGAIN)
			return rc;
		if (now_ns() > end)
			return -ETIMEDOUT;
		usleep(500);
	}
}

/* The next event must come within @ms and be of @type. */
static void __expect_event(struct __test_metadata *_metadata, struct rctx *r,
			   uint32_t type, unsigned int ms,
			   struct exo_event *out, int line)
{
	int rc = ev_next(r, ms, out);

	ASSERT_EQ(0, rc) TH_LOG("event %" PRIu64 " of type %u: %s (line %d)",
				r->next, type, strerror(-rc), line);
	EXPECT_EQ(type, out->type) TH_LOG("event type (line %d)", line);
	EXPECT_EQ(r->next, out->seq) TH_LOG("event seq (line %d)", line);
	EXPECT_EQ(0U, out->__reserved) TH_LOG("line %d", line);
}
#define expect_event(r, type, ms, out) \
	__expect_event(_metadata, r, type, ms, out, __LINE__)

/* The next event within @ms that is not an URGENT warning. */
static int ev_skip_urgent(struct rctx *r, unsigned int ms,
			  struct exo_event *out)
{
	int rc;

	do {
		rc = ev_next(r, ms, out);
	} while (!rc && out->type == EXO_EV_REVOKE_URGENT);
	return rc;
}

/* No event posted now. */
static bool ev_none(struct rctx *r)
{
	struct exo_event e;

	return ev_read(r->ev, r->next, &e) == -EAGAIN;
}

/* Vector entry @slot under its sequence count. */
static int repo_read(const struct exo_repo_header *h, uint32_t slot,
		     struct exo_repo_entry *out)
{
	const struct exo_repo_entry *e;
	size_t n = h->entry_size < sizeof(*out) ? h->entry_size :
						  sizeof(*out);
	uint32_t s1, s2;
	long tries;

	if (slot >= h->nr_entries)
		return -ERANGE;
	e = (const void *)((const char *)h + h->entries_offset +
			   (size_t)slot * h->entry_size);
	for (tries = 0; tries < 1000000; tries++) {
		s1 = ld32(&e->seq);
		if (s1 & 1) {
			sched_yield();
			continue;
		}
		memset(out, 0, sizeof(*out));
		memcpy(out, e, n);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return 0;
	}
	return -EAGAIN;
}

/* The SAVED entry for @cap: its slot, or -1. */
static int repo_find(const struct rctx *r, uint64_t cap,
		     struct exo_repo_entry *out)
{
	uint32_t i;

	for (i = 0; i < r->repo->nr_entries; i++) {
		if (repo_read(r->repo, i, out))
			return -1;
		if (out->state == EXO_REPO_SAVED && out->cap == cap)
			return (int)i;
	}
	return -1;
}

/* Release every SAVED entry. */
static void __repo_release_all(struct __test_metadata *_metadata,
			       struct rctx *r)
{
	struct exo_repo_entry e;
	uint32_t i;

	for (i = 0; i < r->repo->nr_entries; i++)
		if (!repo_read(r->repo, i, &e) && e.state == EXO_REPO_SAVED)
			test_release(r->c.fd, i);
	EXPECT_EQ(0ULL, ld64(&r->repo->used));
}
#define repo_release_all(r) __repo_release_all(_metadata, r)

static short poll_revents(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, ms) < 0)
		return -1;
	return p.revents;
}

static uint64_t efd_read(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* Allocate @n single frames in @r, caps in @caps (pfns in @pfns if given). */
static void __alloc_n(struct __test_metadata *_metadata, struct rctx *r,
		      int n, uint64_t *caps, uint64_t *pfns)
{
	struct exo_frame_alloc a;
	int i;

	for (i = 0; i < n; i++) {
		test_alloc_any(r->c.fd, &a);
		caps[i] = a.cap;
		if (pfns)
			pfns[i] = a.pfn;
	}
}
#define alloc_n(r, n, caps, pfns) __alloc_n(_metadata, r, n, caps, pfns)

/* Bind @cap at page @pg RW, fill it with @seed's pattern, maybe unbind. */
static void __put_pattern(struct __test_metadata *_metadata, struct rctx *r,
			  int pg, uint64_t cap, uint32_t frame, uint64_t seed,
			  bool keep)
{
	test_map_one(r->c.fd, RP(r, pg), cap, frame, 1, RW);
	fill(RP(r, pg), r->psz, seed);
	if (!keep)
		test_unmap_range(r->c.fd, RP(r, pg), r->psz);
}
#define put_pattern(r, pg, cap, frame, seed, keep) \
	__put_pattern(_metadata, r, pg, cap, frame, seed, keep)

/* ------------------------------------------------------------------------
 * fixture
 */

FIXTURE(rv) {
	struct exo_counters base;
	uint64_t repossessed0;
	uint64_t params[NR_PARAMS];
	bool params_ok[NR_PARAMS];
	size_t psz;
	struct rctx a, b;
	pid_t child[2];
	bool ready;
};

FIXTURE_SETUP(rv)
{
	int rc;

	rctx_init(&self->a);
	rctx_init(&self->b);
	self->psz = sysconf(_SC_PAGESIZE);
	params_save(self->params, self->params_ok);
	exo_counters_read(&self->base);
	self->repossessed0 = exo_sysfs_u64("repossessed");
	rc = rctx_open(&self->a);
	if (rc == -EOPNOTSUPP)
		SKIP(return, "the module has no revocation (EXO_FEAT_REVOKE)");
	ASSERT_EQ(0, rc) TH_LOG("opening a context: %s", strerror(-rc));
	install_sigbus_handler();
	self->ready = true;
}

FIXTURE_TEARDOWN(rv)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (self->child[i] > 0) {
			kill(self->child[i], SIGKILL);
			exo_wait(self->child[i]);
		}
	}
	rctx_close(&self->b);
	rctx_close(&self->a);
	params_restore(self->params, self->params_ok);
	exo_counters_expect_baseline(&self->base);
}

/*
 * A test body that runs only if setup found revocation; never inlined into
 * the harness's setjmp() wrapper (-Wclobbered).
 */
#define RV_TEST_TIMEOUT(name, secs)					\
	static void __attribute__((noinline))				\
	body_##name(struct __test_metadata *_metadata,			\
		    FIXTURE_DATA(rv) *self);				\
	TEST_F_TIMEOUT(rv, name, secs)					\
	{								\
		if (self->ready)					\
			body_##name(_metadata, self);			\
	}								\
	static void body_##name(struct __test_metadata *_metadata,	\
				FIXTURE_DATA(rv) *self)
#define RV_TEST(name) RV_TEST_TIMEOUT(name, 60)

#define open_b()							\
	do {								\
		int __rc = rctx_open(&self->b);				\
		ASSERT_EQ(0, __rc) TH_LOG("second context: %s",		\
					  strerror(-__rc));		\
	} while (0)

/* The ring header's revocation state is exactly this. */
static void __expect_state(struct __test_metadata *_metadata, struct rctx *r,
			   uint32_t state, uint64_t owed, int line)
{
	EXPECT_EQ(state, ld32(&r->ev->state)) TH_LOG("state (line %d)", line);
	EXPECT_EQ(owed, ld64(&r->ev->owed)) TH_LOG("owed (line %d)", line);
	EXPECT_EQ(owed, ctx_info(r->c.fd).owed)
		TH_LOG("ctx_info owed (line %d)", line);
	if (!owed) {
		EXPECT_EQ(0ULL, ld64(&r->ev->deadline_ns))
			TH_LOG("deadline with nothing owed (line %d)", line);
	}
}
#define expect_state(r, state, owed) \
	__expect_state(_metadata, r, state, owed, __LINE__)

/* ------------------------------------------------------------------------
 * visible revocation
 */

/*
 * A request for 3 of 8 frames: POLLPRI, the eventfd, the REVOKE event and
 * the ring header; freeing 3 frames ends it with REVOKE_DONE, no abort.
 */
RV_TEST(cooperative)
{
	struct rctx *r = &self->a;
	int fd = r->c.fd, efd, i;
	uint64_t caps[8], id = 0, t0, head0;
	struct exo_ctx_info info;
	struct exo_event e;

	alloc_n(r, 8, caps, NULL);
	for (i = 0; i < 4; i++)
		put_pattern(r, i, caps[i], 0, 100 + i, true);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, _test_notify(fd, efd, 0));
	EXPECT_EQ(0, poll_revents(fd, POLLPRI, 0) & POLLPRI);
	EXPECT_EQ(EXO_EVENTS_MAGIC, r->ev->magic);
	EXPECT_EQ(r->c.api.ctx_id, r->ev->ctx_id);
	head0 = ld64(&r->ev->head);
	EXPECT_EQ(0ULL, head0);
	expect_state(r, EXO_REVOKE_IDLE, 0);

	t0 = now_ns();
	test_revoke(fd, 0, r->c.api.ctx_id, 5000, 3, &id);
	EXPECT_NE(0ULL, id);
	EXPECT_NE(0, poll_revents(fd, POLLPRI, 2000) & POLLPRI);
	EXPECT_EQ(1ULL, efd_read(efd));

	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(id, e.id);
	EXPECT_EQ(3ULL, e.nr);
	EXPECT_EQ(0ULL, e.arg);
	EXPECT_LT(now_ns(), e.deadline_ns) TH_LOG("the deadline has passed");
	EXPECT_LE(t0 + 4000 * MS, e.deadline_ns);
	EXPECT_GE(now_ns() + 5000 * MS, e.deadline_ns);
	EXPECT_EQ(1ULL, ld64(&r->ev->head));
	EXPECT_EQ(id, ld64(&r->ev->revoke_id));
	EXPECT_EQ(e.deadline_ns, ld64(&r->ev->deadline_ns));
	expect_state(r, EXO_REVOKE_REQUESTED, 3);
	info = ctx_info(fd);
	EXPECT_EQ(3ULL, info.revoke_requested);
	EXPECT_EQ(0ULL, info.revoke_returned);

	/* give back three unbound frames, before the deadline */
	for (i = 0; i < 3; i++) {
		test_frame_free(fd, caps[7 - i]);
		if (i < 2)
			expect_state(r, EXO_REVOKE_REQUESTED, 2 - i);
	}
	EXPECT_LT(now_ns(), e.deadline_ns);
	expect_event(r, EXO_EV_REVOKE_DONE, 1000, &e);
	EXPECT_EQ(id, e.id);
	EXPECT_EQ(3ULL, e.nr);
	expect_state(r, EXO_REVOKE_IDLE, 0);
	EXPECT_EQ(1ULL, efd_read(efd));
	EXPECT_EQ(0, poll_revents(fd, POLLPRI, 0) & POLLPRI);

	info = ctx_info(fd);
	EXPECT_EQ(3ULL, info.revoke_returned);
	EXPECT_EQ(0ULL, info.repossessed);
	EXPECT_EQ(0U, info.repo_used);
	EXPECT_EQ(5ULL, info.frames);
	EXPECT_EQ(0ULL, ld64(&r->repo->used));
	EXPECT_EQ(0ULL, ld64(&r->repo->total));
	EXPECT_EQ(0ULL, ld64(&r->ev->repossessed));
	/* more frees count nowhere now */
	test_frame_free(fd, caps[4]);
	EXPECT_EQ(3ULL, ctx_info(fd).revoke_returned);
	EXPECT_TRUE(ev_none(r));
	for (i = 0; i < 4; i++)
		EXPECT_TRUE(filled(RP(r, i), r->psz, 100 + i));
	EXPECT_EQ(self->repossessed0, exo_sysfs_u64("repossessed"));

	ASSERT_EQ(0, _test_notify(fd, -1, 0));
	close(efd);
	test_unmap_range(fd, RP(r, 0), 4 * r->psz);
	for (i = 0; i < 4; i++)
		test_frame_free(fd, caps[i]);
}

static volatile int g_sigs;

static void count_sig(int sig)
{
	__atomic_fetch_add(&g_sigs, 1, __ATOMIC_RELAXED);
}

/*
 * Do nothing until the urgent warning (urgent_pct of the time), which
 * comes before the deadline; then free: DONE, and no abort follows. The
 * registered signal comes for REVOKE and URGENT, not for DONE.
 */
RV_TEST(urgent_warning)
{
	struct rctx *r = &self->a;
	int fd = r->c.fd, sig = SIGRTMIN + 1, i;
	uint64_t caps[4], id = 0, t0, t_urgent;
	struct exo_event e;

	set_param("urgent_pct", 50);
	alloc_n(r, 4, caps, NULL);
	signal(sig, count_sig);
	ASSERT_EQ(0, _test_notify(fd, -1, sig));
	t0 = now_ns();
	test_revoke(fd, 0, 0, 3000, 2, &id);
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(2ULL, e.nr);
	EXPECT_EQ(1, __atomic_load_n(&g_sigs, __ATOMIC_RELAXED));

	expect_event(r, EXO_EV_REVOKE_URGENT, 5000, &e);
	t_urgent = now_ns();
	EXPECT_EQ(id, e.id);
	EXPECT_EQ(2ULL, e.nr);
	EXPECT_LT(t_urgent, e.deadline_ns) TH_LOG("urgent came after the deadline");
	EXPECT_LE(t0 + 1300 * MS, t_urgent) TH_LOG("urgent after %llu ms",
		       (unsigned long long)((t_urgent - t0) / MS));
	expect_state(r, EXO_REVOKE_URGENT, 2);
	EXPECT_EQ(2, __atomic_load_n(&g_sigs, __ATOMIC_RELAXED));

	test_frame_free(fd, caps[0]);
	test_frame_free(fd, caps[1]);
	expect_event(r, EXO_EV_REVOKE_DONE, 1000, &e);
	EXPECT_EQ(2ULL, e.nr);
	expect_state(r, EXO_REVOKE_IDLE, 0);
	/* past the old deadline: nothing more happens */
	while (now_ns() < t0 + 3300 * MS)
		usleep(20000);
	EXPECT_TRUE(ev_none(r));
	EXPECT_EQ(2, __atomic_load_n(&g_sigs, __ATOMIC_RELAXED));
	EXPECT_EQ(0ULL, ctx_info(fd).repossessed);
	EXPECT_EQ(2ULL, ctx_info(fd).frames);
	ASSERT_EQ(0, _test_notify(fd, -1, 0));
	signal(sig, SIG_DFL);
	for (i = 2; i < 4; i++)
		test_frame_free(fd, caps[i]);
}

/* ------------------------------------------------------------------------
 * the abort protocol
 */

static bool va_listed(const struct exo_repo_entry *e, const void *va)
{
	uint32_t i;

	for (i = 0; i < e->nr_va && i < EXO_REPO_VAS; i++)
		if (e->va[i] == (uintptr_t)va)
			return true;
	return false;
}

/*
 * A library OS that does nothing: at the deadline exo takes every frame,
 * breaks the bindings, records each capability and saves its contents,
 * which RECOVER gives back byte for byte.
 *
 *   f0 bound at page 0; f1 bound at pages 1 and 2 (two views); f2 unbound;
 *   f3 bound read-only at 3; a contiguous pair (order 1) at pages 4 and 5.
 */
RV_TEST(abort_recover_exact)
{
	struct rctx *r = &self->a;
	int fd = r->c.fd, slot[5], i, p[2];
	uint64_t caps[4], pfns[4], pair_cap, pair_pfn, id = 0, fresh, t0;
	uint32_t orders[5] = { 0, 0, 0, 0, 1 };
	struct exo_frame_alloc pair;
	struct exo_ctx_info info;
	struct exo_repo_entry re;
	struct exo_event e;
	uint64_t all[5];
	uint8_t *buf;
	char junk[16];

	ASSERT_LE(1U, r->c.api.max_order);
	set_param("revoke_timeout_ms", 300);
	alloc_n(r, 4, caps, pfns);
	test_alloc_contig(fd, 1, &pair);
	pair_cap = pair.cap;
	pair_pfn = pair.pfn;
	put_pattern(r, 0, caps[0], 0, 10, true);
	put_pattern(r, 1, caps[1], 0, 11, true);
	test_map_one(fd, RP(r, 2), caps[1], 0, 1, RW);
	put_pattern(r, 6, caps[2], 0, 12, false);
	put_pattern(r, 3, caps[3], 0, 13, true);
	test_protect_range(fd, RP(r, 3), r->psz, RO);
	put_pattern(r, 4, pair_cap, 0, 14, true);
	put_pattern(r, 5, pair_cap, 1, 15, true);
	EXPECT_EQ(6ULL, ctx_info(fd).frames);

	/* nr 0 in the request: the module's revoke_timeout_ms */
	t0 = now_ns();
	test_revoke(fd, 0, r->c.api.ctx_id, 0, 6, &id);
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(6ULL, e.nr);
	EXPECT_GE(t0 + 1000 * MS, e.deadline_ns) TH_LOG("not 300 ms");
	ASSERT_EQ(0, ev_skip_urgent(r, 5000, &e));
	EXPECT_LE(e.deadline_ns, now_ns());
	EXPECT_EQ((uint32_t)EXO_EV_REPOSSESSED, e.type);
	EXPECT_EQ(id, e.id);
	EXPECT_EQ(6ULL, e.nr);
	/* nothing owed now: the request is done, nothing returned */
	expect_event(r, EXO_EV_REVOKE_DONE, 1000, &e);
	EXPECT_EQ(id, e.id);
	EXPECT_EQ(0ULL, e.nr);
	EXPECT_TRUE(ev_none(r));
	expect_state(r, EXO_REVOKE_IDLE, 0);
	EXPECT_EQ(6ULL, ld64(&r->ev->repossessed));

	info = ctx_info(fd);
	EXPECT_EQ(0ULL, info.frames);
	EXPECT_EQ(0ULL, info.caps);
	EXPECT_EQ(0ULL, info.bindings);
	EXPECT_EQ(6ULL, info.repossessed);
	EXPECT_EQ(6ULL, info.revoke_requested);
	EXPECT_EQ(0ULL, info.revoke_returned);
	EXPECT_EQ(5U, info.repo_used);
	EXPECT_EQ(5ULL, ld64(&r->repo->used));
	EXPECT_EQ(5ULL, ld64(&r->repo->total));
	EXPECT_EQ(self->repossessed0 + 6, exo_sysfs_u64("repossessed"));
	EXPECT_NE(0, poll_revents(fd, POLLPRI, 0) & POLLPRI)
		TH_LOG("POLLPRI while the vector holds SAVED entries");

	/* the vector: one SAVED entry per capability */
	memcpy(all, caps, sizeof(caps));
	all[4] = pair_cap;
	for (i = 0; i < 5; i++) {
		slot[i] = repo_find(r, all[i], &re);
		ASSERT_LE(0, slot[i]) TH_LOG("no vector entry for cap %d", i);
		EXPECT_EQ(id, re.id);
		EXPECT_EQ(i < 4 ? pfns[i] : pair_pfn, re.pfn);
		EXPECT_EQ(orders[i], re.order);
		EXPECT_EQ(0U, re.flags);
		EXPECT_EQ(0U, re.seq & 1);
		exo_ft_expect_free(r->c.ft, EXO_CAP_INDEX(all[i]));
		test_err_frame_free(ENOENT, fd, all[i]);
		test_err_map_one(ENOENT, fd, RP(r, 10), all[i], 0, 1, RW);
		switch (i) {
		case 0:
			EXPECT_EQ(1U, re.nr_va);
			EXPECT_TRUE(va_listed(&re, RP(r, 0)));
			break;
		case 1:
			EXPECT_EQ(2U, re.nr_va);
			EXPECT_TRUE(va_listed(&re, RP(r, 1)));
			EXPECT_TRUE(va_listed(&re, RP(r, 2)));
			break;
		case 2:
			EXPECT_EQ(0U, re.nr_va);
			EXPECT_EQ(0ULL, re.va[0]);
			break;
		case 3:
			EXPECT_EQ(1U, re.nr_va);
			EXPECT_TRUE(va_listed(&re, RP(r, 3)));
			break;
		case 4:
			EXPECT_EQ(2U, re.nr_va);
			EXPECT_TRUE(va_listed(&re, RP(r, 4)));
			EXPECT_TRUE(va_listed(&re, RP(r, 5)));
			break;
		}
	}

	/* the pages fault with EXO_FAULT_REPOSSESSED and read nothing */
	expect_sigbus(RP(r, 0), false, EXO_FAULT_REPOSSESSED | EXO_FAULT_READ);
	expect_sigbus(RP(r, 1) + 9, true,
		      EXO_FAULT_REPOSSESSED | EXO_FAULT_WRITE);
	expect_sigbus(RP(r, 2), false, EXO_FAULT_REPOSSESSED | EXO_FAULT_READ);
	expect_sigbus(RP(r, 3), false, EXO_FAULT_REPOSSESSED | EXO_FAULT_READ);
	expect_sigbus(RP(r, 5) + 100, false,
		      EXO_FAULT_REPOSSESSED | EXO_FAULT_READ);
	/* a page never bound faults plainly */
	expect_sigbus(RP(r, 7), false, EXO_FAULT_READ);
	EXPECT_LE(6ULL, ctx_info(fd).upcalls);
	/* a system call gets EFAULT */
	ASSERT_EQ(0, pipe2(p, O_NONBLOCK | O_CLOEXEC));
	EXPECT_EQ(-1, write(p[1], RP(r, 0), 16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, read(p[0], junk, sizeof(junk)));
	close(p[0]);
	close(p[1]);

	buf = mmap(NULL, 2 * r->psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);

	/* f0: to the user, kept; then into a fresh frame bound at page 0 */
	memset(buf, 0xcc, 2 * r->psz);
	ASSERT_EQ(0, _test_recover(fd, EXO_RECOVER_TO_USER | EXO_RECOVER_KEEP,
				   slot[0], 0, 1, 0, 0, buf));
	EXPECT_TRUE(filled(buf, r->psz, 10));
	EXPECT_EQ(0xcc, buf[r->psz]) TH_LOG("wrote past nr pages");
	EXPECT_EQ(0, repo_read(r->repo, slot[0], &re));
	EXPECT_EQ((uint32_t)EXO_REPO_SAVED, re.state) TH_LOG("KEEP released");
	fresh = exo_alloc_any_cap(fd);
	ASSERT_EQ(0, _test_recover(fd, EXO_RECOVER_TO_FRAME, slot[0], 0, 1, 0,
				   fresh, NULL));
	EXPECT_EQ(0, repo_read(r->repo, slot[0], &re));
	EXPECT_EQ((uint32_t)EXO_REPO_FREE, re.state);
	EXPECT_EQ(4ULL, ld64(&r->repo->used));
	test_map_one(fd, RP(r, 0), fresh, 0, 1, RW);
	EXPECT_TRUE(filled(RP(r, 0), r->psz, 10));
	/* the other view of f1 is still repossessed */
	expect_sigbus(RP(r, 2), false, EXO_FAULT_REPOSSESSED | EXO_FAULT_READ);

	/* f1, f2, f3 to the user */
	for (i = 1; i < 4; i++) {
		memset(buf, 0, r->psz);
		ASSERT_EQ(0, _test_recover(fd, EXO_RECOVER_TO_USER, slot[i], 0,
					   1, 0, 0, buf));
		EXPECT_TRUE(filled(buf, r->psz, 10 + i)) TH_LOG("cap %d", i);
	}
	/* the pair: its second frame alone, then both */
	memset(buf, 0, 2 * r->psz);
	ASSERT_EQ(0, _test_recover(fd, EXO_RECOVER_TO_USER | EXO_RECOVER_KEEP,
				   slot[4], 1, 1, 0, 0, buf));
	EXPECT_TRUE(filled(buf, r->psz, 15));
	ASSERT_EQ(0, _test_recover(fd, EXO_RECOVER_TO_USER, slot[4], 0, 2, 0,
				   0, buf));
	EXPECT_TRUE(filled(buf, r->psz, 14));
	EXPECT_TRUE(filled(buf + r->psz, r->psz, 15));
	EXPECT_EQ(0ULL, ld64(&r->repo->used));
	EXPECT_EQ(0U, ctx_info(fd).repo_used);
	EXPECT_EQ(0, poll_revents(fd, POLLPRI, 0) & POLLPRI);
	/* released: ENOENT */
	EXPECT_EQ(-ENOENT, _test_recover(fd, 0, slot[4], 0, 0, 0, 0, NULL));

	/* UNMAP ends the repossessed state: a plain fault again */
	test_unmap_range(fd, RP(r, 1), 5 * r->psz);
	expect_sigbus(RP(r, 2), false, EXO_FAULT_READ);
	test_unmap_range(fd, RP(r, 0), r->psz);
	test_frame_free(fd, fresh);
	munmap(buf, 2 * r->psz);
	EXPECT_EQ(6ULL, ctx_info(fd).repossessed);
}

/* RECOVER's errors change nothing: the entry stays SAVED, used stays. */
static void __expect_recover_err(struct __test_metadata *_metadata,
				 struct rctx *r, int err, uint32_t flags,
				 uint32_t slot, uint32_t frame, uint32_t nr,
				 uint32_t dst_frame, uint64_t cap, void *buf,
				 int line)
{
	struct exo_recover c = {
		.size = sizeof(c),
		.flags = flags,
		.slot = slot,
		.frame = frame,
		.nr = nr,
		.dst_frame = dst_frame,
		.cap = cap,
		.buf = (uintptr_t)buf,
	};
	uint64_t used = ld64(&r->repo->used);

	__exo_expect_err(_metadata, r->c.fd, r->c.ft, EXO_IOC_RECOVER, &c,
			 sizeof(c), err, line);
	EXPECT_EQ(used, ld64(&r->repo->used)) TH_LOG("line %d", line);
}
#define expect_recover_err(err, flags, slot, frame, nr, dst, cap, buf) \
	__expect_recover_err(_metadata, r, err, flags, slot, frame, nr, dst, \
			     cap, buf, __LINE__)

RV_TEST(recover_errors)
{
	struct rctx *r = &self->a;
	int fd = r->c.fd, s, free_slot;
	uint64_t cap, one, pair_dst, stale, id;
	struct exo_frame_alloc pair;
	struct exo_repo_entry re;
	uint32_t n = r->repo->nr_entries;
	uint8_t *buf;

	EXPECT_EQ(EXO_REPO_MAGIC, r->repo->magic);
	EXPECT_EQ((uint32_t)EXO_REPO_VERSION, r->repo->version);
	EXPECT_EQ(r->c.api.ctx_id, r->repo->ctx_id);
	EXPECT_EQ(r->c.api.repo_entries, n);
	test_alloc_contig(fd, 1, &pair);
	cap = pair.cap;
	put_pattern(r, 0, cap, 0, 40, false);
	put_pattern(r, 0, cap, 1, 41, false);
	test_revoke(fd, EXO_REVOKE_ABORT, 0, 0, 2, &id);
	s = repo_find(r, cap, &re);
	ASSERT_LE(0, s);
	free_slot = s ? 0 : 1;
	one = exo_alloc_any_cap(fd);
	stale = exo_alloc_any_cap(fd);
	test_frame_free(fd, stale);
	buf = mmap(NULL, 3 * r->psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, mprotect(buf + 2 * r->psz, r->psz, PROT_NONE));

	/* flag combinations */
	expect_recover_err(EINVAL, EXO_RECOVER_TO_FRAME | EXO_RECOVER_TO_USER,
			   s, 0, 1, 0, one, buf);
	expect_recover_err(EINVAL, EXO_RECOVER_KEEP, s, 0, 0, 0, 0, NULL);
	expect_recover_err(EINVAL, 0, s, 0, 1, 0, 0, NULL);
	expect_recover_err(EINVAL, EXO_RECOVER_TO_USER, s, 0, 0, 0, 0, buf);
	expect_recover_err(EINVAL, EXO_RECOVER_TO_FRAME, s, 0, 0, 0, one,
			   NULL);
	/* slots and ranges */
	expect_recover_err(EINVAL, 0, n, 0, 0, 0, 0, NULL);
	expect_recover_err(EINVAL, 0, 0xffffffffU, 0, 0, 0, 0, NULL);
	expect_recover_err(EINVAL, EXO_RECOVER_TO_USER, s, 2, 1, 0, 0, buf);
	expect_recover_err(EINVAL, EXO_RECOVER_TO_USER, s, 1, 2, 0, 0, buf);
	expect_recover_err(EINVAL, EXO_RECOVER_TO_USER, s, 0, 3, 0, 0, buf);
	expect_recover_err(EINVAL, EXO_RECOVER_TO_USER, s, 0xffffffffU, 2, 0,
			   0, buf);
	expect_recover_err(EINVAL, EXO_RECOVER_TO_FRAME, s, 0, 2, 0, one,
			   NULL);
	expect_recover_err(EINVAL, EXO_RECOVER_TO_FRAME, s, 0, 1, 1, one,
			   NULL);
	/* a FREE slot, a capability that is not live */
	expect_recover_err(ENOENT, 0, free_slot, 0, 0, 0, 0, NULL);
	expect_recover_err(ENOENT, EXO_RECOVER_TO_USER, free_slot, 0, 1, 0, 0,
			   buf);
	expect_recover_err(ENOENT, EXO_RECOVER_TO_FRAME, s, 0, 1, 0, stale,
			   NULL);
	expect_recover_err(ENOENT, EXO_RECOVER_TO_FRAME, s, 0, 1, 0, cap,
			   NULL);
	expect_recover_err(ENOENT, EXO_RECOVER_TO_FRAME, s, 0, 1, 0, 0, NULL);
	/* a bad buffer, wholly or its second page */
	expect_recover_err(EFAULT, EXO_RECOVER_TO_USER, s, 0, 1, 0, 0, NULL);
	expect_recover_err(EFAULT, EXO_RECOVER_TO_USER, s, 0, 2, 0, 0,
			   buf + r->psz);
	expect_recover_err(EFAULT, EXO_RECOVER_TO_USER, s, 0, 1, 0, 0,
			   (void *)~(uintptr_t)0xfff);

	/* and it still works: frame 1 into a contiguous pair's frame 1 */
	test_alloc_contig(fd, 1, &pair);
	pair_dst = pair.cap;
	ASSERT_EQ(0, _test_recover(fd, EXO_RECOVER_TO_FRAME, s, 1, 1, 1,
				   pair_dst, NULL));
	test_map_one(fd, RP(r, 0), pair_dst, 0, 2, RW);
	EXPECT_EQ(0ULL, *(volatile uint64_t *)RP(r, 0));
	EXPECT_TRUE(filled(RP(r, 1), r->psz, 41));
	EXPECT_EQ(0ULL, ld64(&r->repo->used));
	test_unmap_range(fd, RP(r, 0), 2 * r->psz);
	test_frame_free(fd, pair_dst);
	test_frame_free(fd, one);
	munmap(buf, 3 * r->psz);
}

/*
 * A vector of 2 entries and 4 frames owed: the abort takes 2 (nothing is
 * lost), the request stays owed, and once the entries are recovered the
 * next try, another revoke_timeout_ms later, takes the other 2.
 */
RV_TEST(vector_full_retries)
{
	struct rctx *b = &self->b;
	uint64_t caps[4], id;
	int i, s, taken = 0;
	struct exo_repo_entry re;
	struct exo_event e;
	uint8_t *buf;

	set_param("repo_entries", 2);
	set_param("revoke_timeout_ms", 300);
	open_b();
	ASSERT_EQ(2U, b->c.api.repo_entries);
	alloc_n(b, 4, caps, NULL);
	for (i = 0; i < 4; i++)
		put_pattern(b, i, caps[i], 0, 200 + i, false);
	buf = malloc(b->psz);
	ASSERT_NE(NULL, buf);
	test_revoke(b->c.fd, 0, 0, 0, 4, &id);
	expect_event(b, EXO_EV_REVOKE, 1000, &e);
	while (taken < 4) {
		ASSERT_EQ(0, ev_skip_urgent(b, 5000, &e));
		ASSERT_EQ((uint32_t)EXO_EV_REPOSSESSED, e.type);
		EXPECT_EQ(id, e.id);
		EXPECT_EQ(2ULL, e.nr);
		taken += e.nr;
		EXPECT_EQ(2ULL, ld64(&b->repo->used));
		EXPECT_EQ(4ULL - taken, ctx_info(b->c.fd).frames);
		EXPECT_EQ(4ULL - taken, ctx_info(b->c.fd).owed);
		for (i = 0; i < 4; i++) {
			s = repo_find(b, caps[i], &re);
			if (s < 0)
				continue;
			ASSERT_EQ(0, _test_recover(b->c.fd, EXO_RECOVER_TO_USER,
						   s, 0, 1, 0, 0, buf));
			EXPECT_TRUE(filled(buf, b->psz, 200 + i));
		}
		EXPECT_EQ(0ULL, ld64(&b->repo->used));
	}
	expect_event(b, EXO_EV_REVOKE_DONE, 1000, &e);
	expect_state(b, EXO_REVOKE_IDLE, 0);
	EXPECT_EQ(4ULL, ctx_info(b->c.fd).repossessed);
	EXPECT_EQ(4ULL, ld64(&b->repo->total));
	free(buf);
}

/*
 * A ring of 16 entries and 20 events: a reader at event 0 sees it lost,
 * the header stays exact, and the last 16 are there in order.
 */
RV_TEST(event_ring_overrun)
{
	struct rctx *b = &self->b;
	uint64_t caps[20], id[20];
	struct exo_event e;
	int i;

	set_param("event_entries", 16);
	open_b();
	ASSERT_EQ(16U, b->c.api.event_entries);
	ASSERT_EQ(16U, b->ev->nr_entries);
	alloc_n(b, 20, caps, NULL);
	for (i = 0; i < 20; i++)
		test_revoke(b->c.fd, 0, 0, 20000, 1, &id[i]);
	EXPECT_EQ(20ULL, ld64(&b->ev->head));
	EXPECT_EQ(id[19], ld64(&b->ev->revoke_id));
	expect_state(b, EXO_REVOKE_REQUESTED, 20);
	EXPECT_EQ(-EOVERFLOW, ev_read(b->ev, 0, &e));
	b->next = 4;
	for (i = 4; i < 20; i++) {
		expect_event(b, EXO_EV_REVOKE, 0, &e);
		EXPECT_EQ(id[i], e.id);
		EXPECT_EQ(1ULL, e.nr);
	}
	EXPECT_TRUE(ev_none(b));
	for (i = 0; i < 20; i++)
		test_frame_free(b->c.fd, caps[i]);
	expect_event(b, EXO_EV_REVOKE_DONE, 1000, &e);
	EXPECT_EQ(20ULL, e.nr);
	expect_state(b, EXO_REVOKE_IDLE, 0);
}

struct toucher {
	volatile uint8_t *p;
	volatile int done;
	uint8_t val;
};

static void *touch_run(void *arg)
{
	struct toucher *t = arg;

	t->val = *t->p;
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * EXO_FAULT_MODE_EVENT: a thread touching a repossessed page sleeps, its
 * fault event says EXO_FAULT_REPOSSESSED; RECOVER into a fresh frame and
 * MAP wake it, and it reads the old contents.
 */
RV_TEST(repossessed_fault_event)
{
	struct rctx *r = &self->a;
	int fd = r->c.fd, s, i;
	struct exo_fault_mode fm = { .size = sizeof(fm),
				     .mode = EXO_FAULT_MODE_EVENT };
	struct toucher t = { .p = RP(r, 2) + 77 };
	struct exo_fault_event fe;
	struct exo_repo_entry re;
	uint64_t cap, fresh;
	pthread_t th;

	cap = exo_alloc_any_cap(fd);
	put_pattern(r, 2, cap, 0, 300, true);
	test_revoke(fd, EXO_REVOKE_ABORT, 0, 0, 1, NULL);
	s = repo_find(r, cap, &re);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, _test_ioctl(fd, EXO_IOC_FAULT_MODE, &fm));
	ASSERT_EQ(0, pthread_create(&th, NULL, touch_run, &t));
	ASSERT_NE(0, poll_revents(fd, POLLIN, 5000) & POLLIN);
	ASSERT_EQ((ssize_t)sizeof(fe), read(fd, &fe, sizeof(fe)));
	EXPECT_EQ((uintptr_t)t.p, fe.va);
	EXPECT_EQ(EXO_FAULT_REPOSSESSED | EXO_FAULT_READ, fe.fault);
	for (i = 0; i < 20; i++)
		usleep(1000);
	EXPECT_EQ(0, __atomic_load_n(&t.done, __ATOMIC_ACQUIRE));
	fresh = exo_alloc_any_cap(fd);
	ASSERT_EQ(0, _test_recover(fd, EXO_RECOVER_TO_FRAME, s, 0, 1, 0,
				   fresh, NULL));
	test_map_one(fd, RP(r, 2), fresh, 0, 1, RW);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(((const uint8_t *)RP(r, 2))[77], t.val);
	EXPECT_TRUE(filled(RP(r, 2), r->psz, 300));
	fm.mode = EXO_FAULT_MODE_SIGNAL;
	ASSERT_EQ(0, _test_ioctl(fd, EXO_IOC_FAULT_MODE, &fm));
	test_unmap_range(fd, RP(r, 2), r->psz);
	test_frame_free(fd, fresh);
}

/* ------------------------------------------------------------------------
 * critical frames
 */

static int cap_in(uint64_t cap, const uint64_t *caps, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (caps[i] == cap)
			return i;
	return -1;
}

/* Frames of @caps[0..n) recorded in the vector by request @id. */
static int taken_of(const struct rctx *r, uint64_t id, const uint64_t *caps,
		    int n, bool *taken)
{
	struct exo_repo_entry e;
	int k = 0, j;
	uint32_t i;

	for (i = 0; i < r->repo->nr_entries; i++) {
		if (repo_read(r->repo, i, &e) || e.state != EXO_REPO_SAVED ||
		    e.id != id)
			continue;
		j = cap_in(e.cap, caps, n);
		if (j >= 0) {
			if (taken)
				taken[j] = true;
			k++;
		}
	}
	return k;
}

/*
 * c0..c3 critical, n0 n1 bound, n2..n5 unbound. An abort for 3 takes
 * unbound non-critical frames only; one for 5 takes the last unbound one,
 * then the bound ones, then 2 critical ones. Marking is idempotent and
 * bounded by critical_max; a visible request is unaffected by the marks.
 */
RV_TEST(critical_last)
{
	struct rctx *r = &self->a;
	int fd = r->c.fd, i;
	uint64_t c[5], n[6], id1, id2, id3;
	bool taken[6] = { 0 }, ctaken[4] = { 0 };
	struct exo_ftable_entry fe;
	struct exo_repo_entry re;
	struct exo_event e;
	struct exo_frame_critical fc = { .size = sizeof(fc) };
	uint32_t crit = 0;

	set_param("critical_max", 4);
	alloc_n(r, 5, c, NULL);
	alloc_n(r, 6, n, NULL);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, _test_critical(fd, c[i], 0, &crit));
		EXPECT_EQ((uint32_t)i + 1, crit);
		ASSERT_EQ(0, exo_ft_read(r->c.ft, EXO_CAP_INDEX(c[i]), &fe));
		EXPECT_EQ(EXO_FTABLE_CRITICAL, fe.flags);
	}
	/* idempotent */
	ASSERT_EQ(0, _test_critical(fd, c[0], 0, &crit));
	EXPECT_EQ(4U, crit);
	ASSERT_EQ(0, _test_critical(fd, n[0], EXO_CRITICAL_CLEAR, &crit));
	EXPECT_EQ(4U, crit);
	/* beyond critical_max: ENOSPC; bad capabilities: ENOENT */
	fc.cap = c[4];
	exo_expect_err(ENOSPC, fd, r->c.ft, EXO_IOC_FRAME_CRITICAL, &fc,
		       sizeof(fc));
	fc.cap = c[4] + (1ULL << 32);
	exo_expect_err(ENOENT, fd, r->c.ft, EXO_IOC_FRAME_CRITICAL, &fc,
		       sizeof(fc));
	fc.flags = EXO_CRITICAL_CLEAR;
	exo_expect_err(ENOENT, fd, r->c.ft, EXO_IOC_FRAME_CRITICAL, &fc,
		       sizeof(fc));
	ASSERT_EQ(0, exo_ft_read(r->c.ft, EXO_CAP_INDEX(c[4]), &fe));
	EXPECT_EQ(0, fe.flags);
	EXPECT_EQ(4U, ctx_info(fd).critical);
	test_frame_free(fd, c[4]);

	/* a visible request goes as ever */
	test_revoke(fd, 0, 0, 5000, 1, &id1);
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(1ULL, e.nr);
	test_frame_free(fd, n[5]);
	expect_event(r, EXO_EV_REVOKE_DONE, 1000, &e);
	n[5] = exo_alloc_any_cap(fd);

	put_pattern(r, 0, n[0], 0, 50, true);
	put_pattern(r, 1, n[1], 0, 51, true);
	test_revoke(fd, EXO_REVOKE_ABORT, 0, 0, 3, &id2);
	expect_event(r, EXO_EV_REPOSSESSED, 1000, &e);
	EXPECT_EQ(id2, e.id);
	EXPECT_EQ(3ULL, e.nr);
	expect_event(r, EXO_EV_REVOKE_DONE, 1000, &e);
	EXPECT_EQ(3, taken_of(r, id2, n, 6, taken));
	EXPECT_FALSE(taken[0] || taken[1]) TH_LOG("a bound frame went first");
	EXPECT_EQ(0, taken_of(r, id2, c, 4, NULL));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, exo_ft_read(r->c.ft, EXO_CAP_INDEX(c[i]), &fe));
		EXPECT_EQ(EXO_FRAME_OWNED, fe.state);
		EXPECT_EQ(EXO_FTABLE_CRITICAL, fe.flags);
	}
	EXPECT_TRUE(filled(RP(r, 0), r->psz, 50));
	EXPECT_EQ(4U, ctx_info(fd).critical);

	/* 3 non-critical left: an abort for 5 takes them and 2 critical */
	test_revoke(fd, EXO_REVOKE_ABORT, r->c.api.ctx_id, 0, 5, &id3);
	expect_event(r, EXO_EV_REPOSSESSED, 1000, &e);
	EXPECT_EQ(5ULL, e.nr);
	expect_event(r, EXO_EV_REVOKE_DONE, 1000, &e);
	memset(taken, 0, sizeof(taken));
	EXPECT_EQ(3, taken_of(r, id3, n, 6, NULL));
	EXPECT_EQ(2, taken_of(r, id3, c, 4, ctaken));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, exo_ft_read(r->c.ft, EXO_CAP_INDEX(c[i]), &fe));
		if (ctaken[i]) {
			EXPECT_EQ(EXO_FRAME_FREE, fe.state);
			ASSERT_LE(0, repo_find(r, c[i], &re));
			EXPECT_EQ(EXO_REPO_CRITICAL, re.flags & EXO_REPO_CRITICAL);
		} else {
			EXPECT_EQ(EXO_FRAME_OWNED, fe.state);
		}
	}
	ASSERT_LE(0, repo_find(r, n[0], &re));
	EXPECT_EQ(0U, re.flags);
	EXPECT_EQ(1U, re.nr_va);
	EXPECT_EQ((uintptr_t)RP(r, 0), re.va[0]);
	EXPECT_EQ(2U, ctx_info(fd).critical);
	EXPECT_EQ(2ULL, ctx_info(fd).frames);
	EXPECT_EQ(8ULL, ctx_info(fd).repossessed);
	expect_sigbus(RP(r, 1), false, EXO_FAULT_REPOSSESSED | EXO_FAULT_READ);

	repo_release_all(r);
	test_unmap_range(fd, RP(r, 0), 2 * r->psz);
	for (i = 0; i < 4; i++) {
		if (ctaken[i])
			continue;
		ASSERT_EQ(0, _test_critical(fd, c[i], EXO_CRITICAL_CLEAR,
					    &crit));
		test_frame_free(fd, c[i]);
	}
	EXPECT_EQ(0U, crit);
	EXPECT_EQ(0U, ctx_info(fd).critical);
}

/* A critical frame that is freed stops counting. */
RV_TEST(critical_free_uncounts)
{
	struct rctx *r = &self->a;
	int fd = r->c.fd;
	uint64_t cap = exo_alloc_any_cap(fd);
	uint32_t crit = 0;

	ASSERT_EQ(0, _test_critical(fd, cap, 0, &crit));
	EXPECT_EQ(1U, crit);
	test_frame_free(fd, cap);
	EXPECT_EQ(0U, ctx_info(fd).critical);
}

/* ------------------------------------------------------------------------
 * children: hostile, cooperative, killed
 */

struct child_report {
	int err;
	int step;
	uint32_t ctx_id;
	uint64_t frames;
};

/*
 * In a child: open a context with an exo VMA, bind @n frames (seed-filled),
 * report, then run @what:
 *   CHILD_SPIN   block every signal, never look at the ring, spin;
 *   CHILD_CHECK  wait for a byte, check the contents and the context's
 *                counters, report again, wait to be killed;
 *   CHILD_PAUSE  wait to be killed.
 */
enum child_what { CHILD_SPIN, CHILD_CHECK, CHILD_PAUSE };

static void child_run(int wfd, int rfd, int n, uint64_t seed,
		      enum child_what what)
{
	struct child_report rep = { 0 };
	struct exo_ctx_info info = { 0 };
	struct exo_map_entry *ents;
	struct rctx r;
	sigset_t all;
	uint64_t *caps;
	int i, rc;
	char c;

	rep.step = 1;
	rc = rctx_open(&r);
	if (rc)
		goto fail;
	ents = calloc(n, sizeof(*ents));
	caps = calloc(n, sizeof(*caps));
	if (!ents || !caps) {
		rc = -ENOMEM;
		goto fail;
	}
	if ((size_t)n * r.psz > VMA_PAGES * r.psz) {
		munmap(r.vma, VMA_PAGES * r.psz);
		r.vma = exo_vm_mmap(r.c.fd, (size_t)n * r.psz,
				    PROT_READ | PROT_WRITE);
		if (!r.vma) {
			rc = -errno;
			goto fail;
		}
	}
	rep.step = 2;
	for (i = 0; i < n; i++) {
		struct exo_frame_alloc a;

		rc = _test_alloc_any(r.c.fd, &a);
		if (rc)
			goto fail;
		caps[i] = a.cap;
		ents[i] = (struct exo_map_entry){
			.va = (uintptr_t)RP(&r, i), .cap = a.cap, .nr = 1,
			.prot = RW,
		};
	}
	rep.step = 3;
	for (i = 0; i < n; i += r.c.api.max_batch) {
		uint32_t k = n - i < (int)r.c.api.max_batch ?
			     (uint32_t)(n - i) : r.c.api.max_batch;

		rc = _test_map(r.c.fd, ents + i, k);
		if (rc)
			goto fail;
	}
	for (i = 0; i < n; i++)
		fill(RP(&r, i), r.psz, seed + i);
	rep.ctx_id = r.c.api.ctx_id;
	rep.frames = n;
	rep.step = 0;
	if (what == CHILD_SPIN) {
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
	}
	if (exo_write_full(wfd, &rep, sizeof(rep)))
		_exit(2);
	switch (what) {
	case CHILD_SPIN:
		for (;;)
			__atomic_fetch_add(&rep.step, 1, __ATOMIC_RELAXED);
	case CHILD_CHECK:
		if (read(rfd, &c, 1) != 1)
			_exit(3);
		rep.step = 4;
		for (i = 0; i < n; i++)
			if (!filled(RP(&r, i), r.psz, seed + i))
				rep.err = EBADMSG;
		rc = _test_ctx_info(r.c.fd, &info);
		if (rc || info.frames != (uint64_t)n || info.repossessed ||
		    info.owed || info.bindings != (uint64_t)n ||
		    ld64(&r.ev->head))
			rep.err = rep.err ?: EUCLEAN;
		rep.frames = info.frames;
		if (exo_write_full(wfd, &rep, sizeof(rep)))
			_exit(2);
		/* fall through */
	case CHILD_PAUSE:
		for (;;)
			pause();
	}
fail:
	rep.err = -rc;
	exo_write_full(wfd, &rep, sizeof(rep));
	_exit(1);
}

struct kid {
	pid_t pid;
	int rd, wr;		/* its reports, our commands */
	struct child_report rep;
};

static void __kid_start(struct __test_metadata *_metadata,
			FIXTURE_DATA(rv) *self, int idx, struct kid *k, int n,
			uint64_t seed, enum child_what what)
{
	int up[2], down[2];

	ASSERT_EQ(0, pipe2(up, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(down, O_CLOEXEC));
	k->pid = exo_fork();
	ASSERT_LE(0, k->pid);
	if (k->pid == 0) {
		close(up[0]);
		close(down[1]);
		child_run(up[1], down[0], n, seed, what);
		_exit(4);
	}
	self->child[idx] = k->pid;
	close(up[1]);
	close(down[0]);
	k->rd = up[0];
	k->wr = down[1];
	ASSERT_EQ(0, exo_read_full(k->rd, &k->rep, sizeof(k->rep)));
	ASSERT_EQ(0, k->rep.err) TH_LOG("child step %d: %s", k->rep.step,
					strerror(k->rep.err));
	ASSERT_NE(0U, k->rep.ctx_id);
}
#define kid_start(idx, k, n, seed, what) \
	__kid_start(_metadata, self, idx, k, n, seed, what)

/* Has the child ended (without reaping it)? */
static bool kid_gone(const struct kid *k)
{
	siginfo_t si = { 0 };

	return waitid(P_PID, k->pid, &si, WEXITED | WNOHANG | WNOWAIT) ||
	       si.si_pid == k->pid;
}

/* SIGKILL and reap; true if it died by SIGKILL. */
static bool kid_kill(FIXTURE_DATA(rv) *self, int idx, struct kid *k)
{
	int status;

	kill(k->pid, SIGKILL);
	status = exo_wait(k->pid);
	self->child[idx] = 0;
	close(k->rd);
	close(k->wr);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/* Wait up to @ms for sysfs repossessed to reach @want. */
static uint64_t wait_repossessed(uint64_t want, unsigned int ms)
{
	uint64_t end = now_ns() + ms * MS, v;

	for (;;) {
		v = exo_sysfs_u64("repossessed");
		if (v >= want || now_ns() > end)
			return v;
		usleep(5000);
	}
}

/*
 * A hostile library OS: all signals blocked, never reads its ring, spins
 * with 16 bound frames. Revoked with a short timeout, it is aborted; a
 * cooperative neighbour is untouched.
 */
RV_TEST(hostile_aborted)
{
	struct kid h, good;
	struct exo_counters c = { 0 };
	uint64_t id = 0, r0;
	int fd = self->a.c.fd;

	kid_start(0, &h, 16, 1000, CHILD_SPIN);
	kid_start(1, &good, 8, 2000, CHILD_CHECK);
	exo_counters_read(&c);
	r0 = exo_sysfs_u64("repossessed");
	EXPECT_EQ(self->base.frames + 24, c.frames);

	test_revoke(fd, 0, h.rep.ctx_id, 300, 16, &id);
	EXPECT_EQ(r0 + 16, wait_repossessed(r0 + 16, 5000))
		TH_LOG("the hostile context was not aborted");
	/* it keeps spinning: it never touches the pages */
	EXPECT_FALSE(kid_gone(&h));
	/* the module holds nothing of it now but the saved contents */
	exo_counters_expect(&self->base, 3, 8);

	ASSERT_EQ(0, exo_write_full(good.wr, "c", 1));
	ASSERT_EQ(0, exo_read_full(good.rd, &good.rep, sizeof(good.rep)));
	EXPECT_EQ(0, good.rep.err) TH_LOG("the neighbour: %s",
					  strerror(good.rep.err));
	EXPECT_EQ(8ULL, good.rep.frames);

	EXPECT_TRUE(kid_kill(self, 0, &h));
	exo_counters_expect(&self->base, 2, 8);
	EXPECT_TRUE(kid_kill(self, 1, &good));
	exo_counters_expect(&self->base, 1, 0);
}

/* A child with a request pending (long timeout) killed: no abort, no leak. */
RV_TEST(killed_while_owing)
{
	uint64_t r0 = exo_sysfs_u64("repossessed"), t0, req0;
	struct kid k;

	kid_start(0, &k, 8, 3000, CHILD_PAUSE);
	req0 = exo_sysfs_u64("revoke_requests");
	t0 = now_ns();
	test_revoke(self->a.c.fd, 0, k.rep.ctx_id, 20000, 4, NULL);
	EXPECT_EQ(req0 + 1, exo_sysfs_u64("revoke_requests"));
	EXPECT_TRUE(kid_kill(self, 0, &k));
	exo_counters_expect(&self->base, 1, 0);
	EXPECT_GT(t0 + 10000 * MS, now_ns());
	EXPECT_EQ(r0, exo_sysfs_u64("repossessed"));
	/* the context is gone */
	EXPECT_EQ(-ESRCH, _test_revoke(self->a.c.fd, 0, k.rep.ctx_id, 0, 1,
				       NULL));
}

struct aborter {
	int fd;
	uint32_t ctx_id;
	volatile int go;
	int rc;
};

static void *abort_thread(void *arg)
{
	struct aborter *a = arg;

	while (!__atomic_load_n(&a->go, __ATOMIC_ACQUIRE))
		;
	a->rc = _test_revoke(a->fd, EXO_REVOKE_ABORT, a->ctx_id, 0, 1 << 20,
			     NULL);
	return NULL;
}

/*
 * An abort of a child with 256 bound frames while the child is SIGKILLed:
 * either may win; no crash, and every frame comes back.
 */
RV_TEST(killed_during_abort)
{
	struct aborter ab = { .fd = self->a.c.fd };
	pthread_t t;
	struct kid k;
	int round;

	for (round = 0; round < 3; round++) {
		kid_start(0, &k, 256, 4000, CHILD_PAUSE);
		ab.ctx_id = k.rep.ctx_id;
		ab.go = 0;
		ab.rc = 1;
		ASSERT_EQ(0, pthread_create(&t, NULL, abort_thread, &ab));
		__atomic_store_n(&ab.go, 1, __ATOMIC_RELEASE);
		usleep(round * 2000);
		EXPECT_TRUE(kid_kill(self, 0, &k));
		ASSERT_EQ(0, pthread_join(t, NULL));
		EXPECT_TRUE(ab.rc == 0 || ab.rc == -ESRCH || ab.rc == -ENODATA)
			TH_LOG("round %d: REVOKE ABORT: %s", round,
			       strerror(-ab.rc));
		exo_counters_expect(&self->base, 1, 0);
	}
}

/* ------------------------------------------------------------------------
 * network rings: their frames are pinned, never asked for, never taken
 */

/* EXO_IOC_NET_RING of @nr frames (0: unregister) as a receive ring. */
static int _test_rx_ring(int fd, const uint64_t *caps, uint32_t nr)
{
	struct exo_net_ring cmd = {
		.size = sizeof(cmd),
		.kind = EXO_NET_RX,
		.nr_caps = nr,
		.caps = nr ? (uintptr_t)caps : 0,
		.eventfd = -1,
	};

	return _test_ioctl(fd, EXO_IOC_NET_RING, &cmd);
}

struct ring_racer {
	int fd;
	uint32_t ctx_id;
	struct rctx *r;
	int stop;
	unsigned long aborts;		/* EXO_REVOKE_ABORT calls returned */
	int bad_rc;			/* an unexpected errno, or 0 */
};

/* Abort the context over and over, releasing what the aborts saved. */
static void *ring_aborter(void *arg)
{
	struct ring_racer *x = arg;
	struct exo_repo_entry e;
	uint32_t i;
	int rc;

	while (!__atomic_load_n(&x->stop, __ATOMIC_ACQUIRE)) {
		rc = _test_revoke(x->fd, EXO_REVOKE_ABORT, x->ctx_id, 0, 2,
				  NULL);
		if (rc && rc != -ENODATA && !x->bad_rc)
			x->bad_rc = rc;
		for (i = 0; i < x->r->repo->nr_entries; i++)
			if (!repo_read(x->r->repo, i, &e) &&
			    e.state == EXO_REPO_SAVED)
				_test_recover(x->r->c.fd, 0, i, 0, 0, 0, 0, NULL);
		__atomic_add_fetch(&x->aborts, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * Hold the mmap_lock for writing again and again (mprotect of a populated
 * region), so the abort often waits for it between choosing its victims
 * and taking them: the window a ring registration once slipped into.
 */
static void *mmap_lock_hog(void *arg)
{
	struct ring_racer *x = arg;
	size_t len = 4 << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	while (!__atomic_load_n(&x->stop, __ATOMIC_ACQUIRE)) {
		mprotect(p, len, PROT_READ);
		mprotect(p, len, PROT_READ | PROT_WRITE);
	}
	munmap(p, len);
	return NULL;
}

/*
 * Ring registration against privileged aborts of the same context, for a
 * bounded time: once a registration succeeded, no abort (the one under
 * way then included) may take the ring's frames: freeing them must give
 * EBUSY, never ENOENT, until the ring is unregistered.
 */
RV_TEST_TIMEOUT(ring_register_vs_abort, 90)
{
	struct rctx *r = &self->a;
	struct ring_racer x = {
		.fd = r->c.fd, .ctx_id = r->c.api.ctx_id, .r = r,
	};
	struct exo_frame_alloc a;
	unsigned long n, rounds = 0, registered = 0, lost = 0;
	uint64_t caps[2], end = now_ns() + 8000 * MS;
	unsigned int seed = 1;
	pthread_t t[2];
	int rc, i, f[2];

	ASSERT_EQ(0, pthread_create(&t[0], NULL, ring_aborter, &x));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, mmap_lock_hog, &x));
	while (now_ns() < end && !lost) {
		rounds++;
		for (i = 0; i < 2; i++) {
			rc = _test_alloc_any(r->c.fd, &a);
			if (rc)
				break;
			caps[i] = a.cap;
		}
		if (rc) {
			EXPECT_EQ(0, rc) TH_LOG("ALLOC: %s", strerror(-rc));
			break;
		}
		/*
		 * Out of step with the aborter: let it choose these frames
		 * now and then, and register while it waits to take them.
		 */
		usleep(rand_r(&seed) % 2000);
		rc = _test_rx_ring(r->c.fd, caps, 2);
		if (rc) {
			/* An abort took a frame first: fine. */
			EXPECT_EQ(-ENOENT, rc) TH_LOG("RING: %s", strerror(-rc));
		} else {
			registered++;
			/* The abort under way, and one begun after, end. */
			n = __atomic_load_n(&x.aborts, __ATOMIC_ACQUIRE);
			while (__atomic_load_n(&x.aborts, __ATOMIC_ACQUIRE) <
			       n + 2 && now_ns() < end + 5000 * MS)
				sched_yield();
			for (i = 0; i < 2; i++)
				f[i] = _test_frame_free(r->c.fd, caps[i]);
			if (f[0] != -EBUSY || f[1] != -EBUSY) {
				lost++;
				TH_LOG("round %lu: FREE of pinned ring frames: %s, %s",
				       rounds, strerror(-f[0]), strerror(-f[1]));
			}
			EXPECT_EQ(0, _test_rx_ring(r->c.fd, NULL, 0));
		}
		for (i = 0; i < 2; i++) {
			rc = _test_frame_free(r->c.fd, caps[i]);
			EXPECT_TRUE(rc == 0 || rc == -ENOENT)
				TH_LOG("FREE: %s", strerror(-rc));
		}
	}
	__atomic_store_n(&x.stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(t[0], NULL));
	ASSERT_EQ(0, pthread_join(t[1], NULL));
	ksft_print_msg("%lu rounds, %lu rings registered, %lu aborts took %llu frames\n",
		       rounds, registered, x.aborts,
		       (unsigned long long)ctx_info(r->c.fd).repossessed);
	EXPECT_EQ(0UL, lost) TH_LOG("an abort took frames a ring had pinned");
	EXPECT_EQ(0, x.bad_rc) TH_LOG("ABORT: %s", strerror(-x.bad_rc));
	EXPECT_LT(0UL, registered);
	EXPECT_LT(0ULL, ctx_info(r->c.fd).repossessed)
		TH_LOG("no abort ever took a frame: nothing raced");
	repo_release_all(r);
	EXPECT_EQ(0ULL, ctx_info(r->c.fd).frames);
}

/*
 * A request never counts ring frames: 2 pinned of 4 held, a request for 4
 * asks for 2; the abort takes those 2 and the request ends. With nothing
 * but ring frames left, a request or an abort finds nothing (ENODATA).
 */
/*
 * Request @id owes 2 of the 4 frames of @caps, whose first two are a ring's:
 * the abort takes the other two and the request ends. Then the ring goes.
 */
static void __ring_request_ends(struct __test_metadata *_metadata,
				struct rctx *r, const uint64_t *caps, uint64_t id)
{
	int fd = r->c.fd;
	struct exo_event e;

	expect_event(r, EXO_EV_REVOKE_URGENT, 3000, &e);
	expect_event(r, EXO_EV_REPOSSESSED, 3000, &e);
	EXPECT_EQ(2ULL, e.nr);
	expect_event(r, EXO_EV_REVOKE_DONE, 1000, &e);
	EXPECT_EQ(id, e.id);
	expect_state(r, EXO_REVOKE_IDLE, 0);
	EXPECT_EQ(2ULL, ctx_info(fd).frames);
	/* Nothing but ring frames left: nothing to ask for or take. */
	EXPECT_EQ(-ENODATA, _test_revoke(fd, 0, 0, 300, 1, NULL));
	EXPECT_EQ(-ENODATA, _test_revoke(fd, EXO_REVOKE_ABORT, 0, 0, 1, NULL));
	EXPECT_EQ(-EBUSY, _test_frame_free(fd, caps[0]));
	repo_release_all(r);
	EXPECT_EQ(0, poll_revents(fd, POLLPRI, 0) & POLLPRI);
	ASSERT_EQ(0, _test_rx_ring(fd, NULL, 0));
	test_frame_free(fd, caps[0]);
	test_frame_free(fd, caps[1]);
}
#define ring_request_ends(r, caps, id) \
	__ring_request_ends(_metadata, r, caps, id)

RV_TEST(ring_frames_not_asked)
{
	struct rctx *r = &self->a;
	uint64_t caps[4], id;
	struct exo_event e;

	alloc_n(r, 4, caps, NULL);
	ASSERT_EQ(0, _test_rx_ring(r->c.fd, caps, 2));
	test_revoke(r->c.fd, 0, 0, 300, 4, &id);
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(2ULL, e.nr);
	ring_request_ends(r, caps, id);
}

/*
 * Frames pinned by a ring after the request asked for them: the abort
 * takes what it may, the request ends (it once stayed ABORTING for ever,
 * owing frames the library OS could not free).
 */
RV_TEST(ring_pinned_after_request_ends)
{
	struct rctx *r = &self->a;
	uint64_t caps[4], id;
	struct exo_event e;

	alloc_n(r, 4, caps, NULL);
	test_revoke(r->c.fd, 0, 0, 300, 4, &id);
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(4ULL, e.nr);
	ASSERT_EQ(0, _test_rx_ring(r->c.fd, caps, 2));
	ring_request_ends(r, caps, id);
}

/*
 * The urgent warning always comes before an abort, even when the work
 * item finds the deadline already past: with urgent_pct 100 the warning
 * and the deadline fall at the same instant.
 */
RV_TEST(urgent_before_late_abort)
{
	struct rctx *r = &self->a;
	uint64_t caps[2], id;
	struct exo_event e;

	set_param("urgent_pct", 100);
	alloc_n(r, 2, caps, NULL);
	test_revoke(r->c.fd, 0, 0, 200, 2, &id);
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	expect_event(r, EXO_EV_REVOKE_URGENT, 3000, &e);
	EXPECT_EQ(id, e.id);
	EXPECT_EQ(2ULL, e.nr);
	expect_event(r, EXO_EV_REPOSSESSED, 3000, &e);
	expect_event(r, EXO_EV_REVOKE_DONE, 1000, &e);
	expect_state(r, EXO_REVOKE_IDLE, 0);
	repo_release_all(r);
}

/* ------------------------------------------------------------------------
 * several revocations
 */

/*
 * Two contexts of this process revoked at once with a short timeout: a
 * does nothing and is aborted, b gives its frames back and is not.
 */
RV_TEST(two_contexts_one_aborted)
{
	struct rctx *a = &self->a, *b;
	uint64_t ca[4], cb[4], ida, idb;
	struct exo_event e;
	int i, kept = 0;

	open_b();
	b = &self->b;
	alloc_n(a, 4, ca, NULL);
	alloc_n(b, 4, cb, NULL);
	for (i = 0; i < 4; i++) {
		put_pattern(a, i, ca[i], 0, 60 + i, true);
		put_pattern(b, i, cb[i], 0, 70 + i, true);
	}
	test_revoke(a->c.fd, 0, a->c.api.ctx_id, 1000, 2, &ida);
	test_revoke(a->c.fd, 0, b->c.api.ctx_id, 4000, 2, &idb);
	EXPECT_NE(ida, idb);
	expect_event(b, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(idb, e.id);
	test_unmap_range(b->c.fd, RP(b, 2), 2 * b->psz);
	test_frame_free(b->c.fd, cb[2]);
	test_frame_free(b->c.fd, cb[3]);
	expect_event(b, EXO_EV_REVOKE_DONE, 1000, &e);

	expect_event(a, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(ida, e.id);
	ASSERT_EQ(0, ev_skip_urgent(a, 5000, &e));
	EXPECT_EQ((uint32_t)EXO_EV_REPOSSESSED, e.type);
	EXPECT_EQ(2ULL, e.nr);
	EXPECT_EQ(2ULL, ctx_info(a->c.fd).repossessed);
	EXPECT_EQ(2ULL, ctx_info(a->c.fd).frames);
	EXPECT_EQ(0ULL, ctx_info(b->c.fd).repossessed);
	EXPECT_EQ(2ULL, ctx_info(b->c.fd).revoke_returned);
	/* b's remaining data never moved; b got nothing else */
	for (i = 0; i < 2; i++)
		EXPECT_TRUE(filled(RP(b, i), b->psz, 70 + i));
	EXPECT_TRUE(ev_none(b));
	/* a kept 2 of its bound frames, whichever the abort left */
	for (i = 0; i < 4; i++) {
		struct exo_vpage pg = exo_vpage_of(a->c.fd, RP(a, i));

		if (pg.state & EXO_VPAGE_BOUND) {
			kept++;
			EXPECT_TRUE(filled(RP(a, i), a->psz, 60 + i));
			test_unmap_range(a->c.fd, RP(a, i), a->psz);
			test_frame_free(a->c.fd, ca[i]);
		} else {
			expect_sigbus(RP(a, i), false,
				      EXO_FAULT_REPOSSESSED | EXO_FAULT_READ);
		}
	}
	EXPECT_EQ(2, kept);
	repo_release_all(a);
	test_unmap_range(a->c.fd, RP(a, 0), 4 * a->psz);
	test_unmap_range(b->c.fd, RP(b, 0), 2 * b->psz);
	test_frame_free(b->c.fd, cb[0]);
	test_frame_free(b->c.fd, cb[1]);
}

/* Two aborts at once, from two threads, on two contexts. */
RV_TEST(two_aborts_concurrent)
{
	struct aborter ab[2];
	struct rctx *r[2];
	uint64_t caps[2][32];
	pthread_t t[2];
	int i, j;

	open_b();
	r[0] = &self->a;
	r[1] = &self->b;
	for (i = 0; i < 2; i++) {
		alloc_n(r[i], 32, caps[i], NULL);
		for (j = 0; j < 32; j += 2)
			put_pattern(r[i], j, caps[i][j], 0, 100 * i + j, true);
		ab[i] = (struct aborter){ .fd = self->a.c.fd,
					  .ctx_id = r[i]->c.api.ctx_id };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, abort_thread, &ab[i]));
	}
	for (i = 0; i < 2; i++)
		__atomic_store_n(&ab[i].go, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++) {
		struct exo_repo_entry re;
		struct exo_event e;
		uint8_t *buf;

		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, ab[i].rc) TH_LOG("abort %d: %s", i,
					      strerror(-ab[i].rc));
		expect_event(r[i], EXO_EV_REPOSSESSED, 1000, &e);
		EXPECT_EQ(32ULL, e.nr);
		EXPECT_EQ(32ULL, ctx_info(r[i]->c.fd).repossessed);
		EXPECT_EQ(32ULL, ld64(&r[i]->repo->used));
		buf = malloc(r[i]->psz);
		ASSERT_NE(NULL, buf);
		for (j = 0; j < 32; j += 2) {
			int s = repo_find(r[i], caps[i][j], &re);

			ASSERT_LE(0, s);
			EXPECT_EQ(1U, re.nr_va);
			ASSERT_EQ(0, _test_recover(r[i]->c.fd,
						   EXO_RECOVER_TO_USER, s, 0,
						   1, 0, 0, buf));
			EXPECT_TRUE(filled(buf, r[i]->psz, 100 * i + j));
		}
		free(buf);
		repo_release_all(r[i]);
		test_unmap_range(r[i]->c.fd, RP(r[i], 0), 32 * r[i]->psz);
	}
}

/*
 * Requests add up: owed is the sum, the deadline the earliest; nr is
 * clamped to what the context holds.
 */
RV_TEST(requests_add_up)
{
	struct rctx *r = &self->a;
	int fd = r->c.fd, i;
	uint64_t caps[6], id[3], d1, d2;
	struct exo_event e;

	alloc_n(r, 6, caps, NULL);
	test_revoke(fd, 0, 0, 16000, 1, &id[0]);
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	d1 = e.deadline_ns;
	EXPECT_EQ(d1, ld64(&r->ev->deadline_ns));
	test_revoke(fd, 0, 0, 8000, 2, &id[1]);
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(id[1], e.id);
	d2 = e.deadline_ns;
	EXPECT_GT(d1, d2) TH_LOG("the earlier deadline wins");
	EXPECT_EQ(d2, ld64(&r->ev->deadline_ns));
	expect_state(r, EXO_REVOKE_REQUESTED, 3);
	test_revoke(fd, 0, 0, 18000, 1, &id[2]);
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(d2, ld64(&r->ev->deadline_ns)) TH_LOG("a later one does not");
	EXPECT_EQ(id[2], ld64(&r->ev->revoke_id));
	EXPECT_TRUE(id[0] != id[1] && id[1] != id[2] && id[0] != id[2]);
	expect_state(r, EXO_REVOKE_REQUESTED, 4);
	EXPECT_EQ(4ULL, ctx_info(fd).revoke_requested);
	for (i = 0; i < 4; i++)
		test_frame_free(fd, caps[i]);
	expect_event(r, EXO_EV_REVOKE_DONE, 1000, &e);
	EXPECT_EQ(4ULL, e.nr);
	expect_state(r, EXO_REVOKE_IDLE, 0);

	/* clamped: 2 frames held */
	test_revoke(fd, 0, 0, 8000, 1000, &id[0]);
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(2ULL, e.nr);
	expect_state(r, EXO_REVOKE_REQUESTED, 2);
	test_frame_free(fd, caps[4]);
	test_frame_free(fd, caps[5]);
	expect_event(r, EXO_EV_REVOKE_DONE, 1000, &e);
	expect_state(r, EXO_REVOKE_IDLE, 0);
	EXPECT_EQ(6ULL, ctx_info(fd).revoke_returned);
	EXPECT_EQ(0ULL, ctx_info(fd).repossessed);
}

/*
 * 2 owed, a run of 4 freed: owed stops at 0, and the request counts the 2
 * frames that paid it (revoke_returned, DONE's nr); the other 2 were not
 * asked for.
 */
RV_TEST(free_run_counts_all)
{
	struct rctx *r = &self->a;
	struct exo_frame_alloc a;
	struct exo_event e;
	uint64_t one;

	ASSERT_LE(2U, r->c.api.max_order);
	test_alloc_contig(r->c.fd, 2, &a);
	one = exo_alloc_any_cap(r->c.fd);
	test_revoke(r->c.fd, 0, 0, 8000, 2, NULL);
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	test_frame_free(r->c.fd, a.cap);
	expect_event(r, EXO_EV_REVOKE_DONE, 1000, &e);
	EXPECT_EQ(2ULL, e.nr);
	expect_state(r, EXO_REVOKE_IDLE, 0);
	EXPECT_EQ(2ULL, ctx_info(r->c.fd).revoke_returned);
	test_frame_free(r->c.fd, one);
}

/* The operator's sysfs trigger posts requests as REVOKE does. */
RV_TEST(sysfs_revoke)
{
	struct rctx *r = &self->a;
	uint64_t caps[3], t0;
	struct exo_event e;
	char cmd[64];
	int i;

	/* the request without a timeout takes the parameter's */
	set_param("revoke_timeout_ms", 20000);
	alloc_n(r, 3, caps, NULL);
	snprintf(cmd, sizeof(cmd), "%u 2 6000\n", r->c.api.ctx_id);
	t0 = now_ns();
	ASSERT_EQ(0, exo_write_str(EXO_SYSFS_DIR "/revoke", cmd));
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(2ULL, e.nr);
	EXPECT_LE(t0 + 5000 * MS, e.deadline_ns);
	EXPECT_GE(now_ns() + 6000 * MS, e.deadline_ns);
	expect_state(r, EXO_REVOKE_REQUESTED, 2);
	snprintf(cmd, sizeof(cmd), "%u 1\n", r->c.api.ctx_id);
	ASSERT_EQ(0, exo_write_str(EXO_SYSFS_DIR "/revoke", cmd));
	expect_event(r, EXO_EV_REVOKE, 1000, &e);
	expect_state(r, EXO_REVOKE_REQUESTED, 3);
	/* nonsense is refused and posts nothing */
	EXPECT_NE(0, exo_write_str(EXO_SYSFS_DIR "/revoke", "x\n"));
	EXPECT_NE(0, exo_write_str(EXO_SYSFS_DIR "/revoke", "4294967280 1\n"));
	snprintf(cmd, sizeof(cmd), "%u 0\n", r->c.api.ctx_id);
	EXPECT_NE(0, exo_write_str(EXO_SYSFS_DIR "/revoke", cmd));
	EXPECT_TRUE(ev_none(r));
	for (i = 0; i < 3; i++)
		test_frame_free(r->c.fd, caps[i]);
	expect_event(r, EXO_EV_REVOKE_DONE, 1000, &e);
	expect_state(r, EXO_REVOKE_IDLE, 0);
	EXPECT_EQ(3ULL, ctx_info(r->c.fd).revoke_requested);
}

static int drop_cap_sys_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[CAP_SYS_ADMIN / 32].effective &= ~(1U << (CAP_SYS_ADMIN % 32));
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

RV_TEST(revoke_errors)
{
	struct rctx *r = &self->a;
	int fd = r->c.fd, status;
	uint64_t cap;
	pid_t pid;

	{
		struct exo_revoke v = { .size = sizeof(v), .nr = 1 };

		/* no frames held */
		exo_expect_err(ENODATA, fd, r->c.ft, EXO_IOC_REVOKE, &v,
			       sizeof(v));
		v.ctx_id = r->c.api.ctx_id;
		exo_expect_err(ENODATA, fd, r->c.ft, EXO_IOC_REVOKE, &v,
			       sizeof(v));
		cap = exo_alloc_any_cap(fd);
		v.ctx_id = 0xfffffff0U;
		exo_expect_err(ESRCH, fd, r->c.ft, EXO_IOC_REVOKE, &v,
			       sizeof(v));
		v.ctx_id = 0;
		v.nr = 0;
		exo_expect_err(EINVAL, fd, r->c.ft, EXO_IOC_REVOKE, &v,
			       sizeof(v));
		v.nr = 1;
		v.id = 1;
		exo_expect_err(EINVAL, fd, r->c.ft, EXO_IOC_REVOKE, &v,
			       sizeof(v));
		v.id = 0;
		v.flags = EXO_REVOKE_ABORT;
		v.ctx_id = 0xfffffff0U;
		exo_expect_err(ESRCH, fd, r->c.ft, EXO_IOC_REVOKE, &v,
			       sizeof(v));
	}
	expect_state(r, EXO_REVOKE_IDLE, 0);
	EXPECT_EQ(0ULL, ld64(&r->ev->head));
	EXPECT_EQ(0ULL, ctx_info(fd).revoke_requested);

	/* without CAP_SYS_ADMIN: EPERM, on its own context too */
	pid = exo_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = exo_open_raw(O_CLOEXEC), rc;
		struct exo_frame_alloc a;

		if (cfd < 0 || _test_api(cfd, EXO_API_VERSION, NULL) ||
		    _test_alloc_any(cfd, &a))
			_exit(10);
		if (drop_cap_sys_admin())
			_exit(11);
		rc = _test_revoke(cfd, 0, 0, 0, 1, NULL);
		if (rc != -EPERM)
			_exit(12);
		rc = _test_revoke(cfd, EXO_REVOKE_ABORT, r->c.api.ctx_id, 0,
				  1, NULL);
		if (rc != -EPERM)
			_exit(13);
		/* the rest works unprivileged */
		if (_test_critical(cfd, a.cap, 0, NULL) ||
		    _test_notify(cfd, -1, 0))
			_exit(14);
		_exit(0);
	}
	status = exo_wait(pid);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	expect_state(r, EXO_REVOKE_IDLE, 0);
	EXPECT_EQ(0ULL, ctx_info(fd).repossessed);
	test_frame_free(fd, cap);
}

RV_TEST(notify_errors)
{
	int fd = self->a.c.fd, efd, pfd[2];
	struct exo_revoke_notify n = { .size = sizeof(n), .eventfd = -1 };
	struct exo_event e;
	uint64_t cap;

	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	n.eventfd = 1000000;
	exo_expect_err(EBADF, fd, self->a.c.ft, EXO_IOC_REVOKE_NOTIFY, &n,
		       sizeof(n));
	n.eventfd = -2;
	exo_expect_err(EBADF, fd, self->a.c.ft, EXO_IOC_REVOKE_NOTIFY, &n,
		       sizeof(n));
	/* not an eventfd */
	n.eventfd = pfd[0];
	exo_expect_err(EINVAL, fd, self->a.c.ft, EXO_IOC_REVOKE_NOTIFY, &n,
		       sizeof(n));
	n.eventfd = -1;
	n.signo = 65;
	exo_expect_err(EINVAL, fd, self->a.c.ft, EXO_IOC_REVOKE_NOTIFY, &n,
		       sizeof(n));
	n.signo = 0xffffffffU;
	exo_expect_err(EINVAL, fd, self->a.c.ft, EXO_IOC_REVOKE_NOTIFY, &n,
		       sizeof(n));
	close(pfd[0]);
	close(pfd[1]);
	/* a replaced registration: the old eventfd hears nothing more */
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, _test_notify(fd, efd, 0));
	ASSERT_EQ(0, _test_notify(fd, -1, 0));
	cap = exo_alloc_any_cap(fd);
	test_revoke(fd, 0, 0, 5000, 1, NULL);
	expect_event(&self->a, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(0ULL, efd_read(efd));
	test_frame_free(fd, cap);
	expect_event(&self->a, EXO_EV_REVOKE_DONE, 1000, &e);
	EXPECT_EQ(0ULL, efd_read(efd));
	close(efd);
}

/* ------------------------------------------------------------------------
 * grants
 */

static void __expect_granted(struct __test_metadata *_metadata,
			     struct rctx *r, uint64_t gcap, uint64_t pfn,
			     uint32_t owner, int line)
{
	struct exo_ftable_entry fe;

	ASSERT_EQ(0, exo_ft_read(r->c.ft, EXO_CAP_INDEX(gcap), &fe));
	EXPECT_EQ(EXO_FRAME_GRANTED, fe.state) TH_LOG("line %d", line);
	EXPECT_EQ(EXO_CAP_GEN(gcap), fe.gen) TH_LOG("line %d", line);
	EXPECT_EQ(pfn, fe.pfn) TH_LOG("line %d", line);
	EXPECT_EQ(owner, fe.owner) TH_LOG("line %d", line);
}
#define expect_granted(r, gcap, pfn, owner) \
	__expect_granted(_metadata, r, gcap, pfn, owner, __LINE__)

/*
 * a grants a frame to b (two contexts of one process); b binds it and
 * reads a's data; a is aborted: b's binding breaks (SIGBUS with
 * EXO_FAULT_REPOSSESSED, GRANT_REVOKED with its capability, which is now
 * stale), a's vector has the contents.
 */
RV_TEST(grant_then_abort)
{
	struct rctx *a = &self->a, *b;
	struct exo_frame_alloc f;
	struct exo_repo_entry re;
	struct exo_ctx_info info;
	struct exo_event e;
	uint64_t gcap = 0, id;
	uint8_t *buf;
	int s;

	open_b();
	b = &self->b;
	test_alloc_any(a->c.fd, &f);
	put_pattern(a, 0, f.cap, 0, 80, true);
	ASSERT_EQ(0, _test_grant(a->c.fd, f.cap, b->c.api.ctx_id, &gcap));
	EXPECT_NE(0ULL, gcap);
	expect_granted(b, gcap, f.pfn, a->c.api.ctx_id);
	info = ctx_info(b->c.fd);
	EXPECT_EQ(1U, info.granted);
	EXPECT_EQ(0ULL, info.frames) TH_LOG("granted frames count for the owner");
	EXPECT_EQ(1ULL, ctx_info(a->c.fd).frames);
	test_map_one(b->c.fd, RP(b, 3), gcap, 0, 1, RW);
	EXPECT_TRUE(filled(RP(b, 3), b->psz, 80));
	/* one frame: b's write shows at a */
	*(volatile uint64_t *)(RP(b, 3) + 8) = 0x1234;
	EXPECT_EQ(0x1234ULL, *(volatile uint64_t *)(RP(a, 0) + 8));
	fill(RP(b, 3), b->psz, 81);

	test_revoke(b->c.fd, EXO_REVOKE_ABORT, a->c.api.ctx_id, 0, 1, &id);
	expect_event(a, EXO_EV_REPOSSESSED, 1000, &e);
	EXPECT_EQ(1ULL, e.nr);
	expect_event(b, EXO_EV_GRANT_REVOKED, 1000, &e);
	EXPECT_EQ(gcap, e.arg);
	expect_sigbus(RP(b, 3), false, EXO_FAULT_REPOSSESSED | EXO_FAULT_READ);
	expect_sigbus(RP(a, 0), true, EXO_FAULT_REPOSSESSED | EXO_FAULT_WRITE);
	test_err_frame_free(ENOENT, b->c.fd, gcap);
	test_err_map_one(ENOENT, b->c.fd, RP(b, 4), gcap, 0, 1, RW);
	exo_ft_expect_free(b->c.ft, EXO_CAP_INDEX(gcap));
	info = ctx_info(b->c.fd);
	EXPECT_EQ(0U, info.granted);
	EXPECT_EQ(0ULL, info.repossessed) TH_LOG("the owner's, not b's");
	EXPECT_EQ(0ULL, ld64(&b->repo->used));

	s = repo_find(a, f.cap, &re);
	ASSERT_LE(0, s);
	EXPECT_EQ(f.pfn, re.pfn);
	EXPECT_EQ(1U, re.nr_va) TH_LOG("only a's own VAs");
	EXPECT_EQ((uintptr_t)RP(a, 0), re.va[0]);
	buf = malloc(a->psz);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, _test_recover(a->c.fd, EXO_RECOVER_TO_USER, s, 0, 1, 0, 0,
				   buf));
	EXPECT_TRUE(filled(buf, a->psz, 81)) TH_LOG("b's writes are saved too");
	free(buf);
	test_unmap_range(b->c.fd, RP(b, 3), b->psz);
	test_unmap_range(a->c.fd, RP(a, 0), a->psz);
}

/* The same across fork(): the child opens its own context. */
RV_TEST(grant_to_child_then_abort)
{
	struct rctx *a = &self->a;
	struct exo_frame_alloc f;
	int up[2], down[2], status;
	struct { uint32_t ctx_id; int err; } rep;
	uint64_t gcap = 0;
	pid_t pid;

	test_alloc_any(a->c.fd, &f);
	put_pattern(a, 0, f.cap, 0, 90, true);
	ASSERT_EQ(0, pipe2(up, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(down, O_CLOEXEC));
	pid = exo_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rctx c;
		struct exo_event e;
		uint8_t v;

		rep.err = -rctx_open(&c);
		rep.ctx_id = c.c.api.ctx_id;
		if (exo_write_full(up[1], &rep, sizeof(rep)) || rep.err)
			_exit(1);
		if (exo_read_full(down[0], &gcap, sizeof(gcap)))
			_exit(2);
		rep.err = _test_map_one(c.c.fd, RP(&c, 1), gcap, 0, 1, RO);
		if (!rep.err && !filled(RP(&c, 1), c.psz, 90))
			rep.err = EBADMSG;
		if (exo_write_full(up[1], &rep, sizeof(rep)) || rep.err)
			_exit(3);
		/* the parent aborts its frame */
		if (exo_read_full(down[0], &v, 1))
			_exit(4);
		if (ev_next(&c, 2000, &e) || e.type != EXO_EV_GRANT_REVOKED ||
		    e.arg != gcap)
			rep.err = 100;
		else if (!access_faults(RP(&c, 1), false, &v) ||
			 tls_err != (EXO_FAULT_REPOSSESSED | EXO_FAULT_READ))
			rep.err = 101;
		else if (_test_frame_free(c.c.fd, gcap) != -ENOENT)
			rep.err = 102;
		exo_write_full(up[1], &rep, sizeof(rep));
		_exit(0);
	}
	self->child[0] = pid;
	close(up[1]);
	close(down[0]);
	ASSERT_EQ(0, exo_read_full(up[0], &rep, sizeof(rep)));
	ASSERT_EQ(0, rep.err) TH_LOG("child: %s", strerror(rep.err));
	ASSERT_EQ(0, _test_grant(a->c.fd, f.cap, rep.ctx_id, &gcap));
	ASSERT_EQ(0, exo_write_full(down[1], &gcap, sizeof(gcap)));
	ASSERT_EQ(0, exo_read_full(up[0], &rep, sizeof(rep)));
	ASSERT_EQ(0, rep.err) TH_LOG("child mapping the grant: %s",
				     strerror(rep.err));
	test_revoke(a->c.fd, EXO_REVOKE_ABORT, 0, 0, 1, NULL);
	ASSERT_EQ(0, exo_write_full(down[1], "x", 1));
	ASSERT_EQ(0, exo_read_full(up[0], &rep, sizeof(rep)));
	EXPECT_EQ(0, rep.err) TH_LOG("child after the abort: step %d",
				     rep.err);
	status = exo_wait(pid);
	self->child[0] = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(up[0]);
	close(down[1]);
	EXPECT_EQ(1ULL, ld64(&a->repo->used));
	repo_release_all(a);
	test_unmap_range(a->c.fd, RP(a, 0), a->psz);
}

static void __expect_grant_err(struct __test_metadata *_metadata,
			       struct rctx *r, int err, uint64_t cap,
			       uint32_t ctx_id, int line)
{
	struct exo_frame_grant g = {
		.size = sizeof(g), .cap = cap, .ctx_id = ctx_id,
	};

	__exo_expect_err(_metadata, r->c.fd, r->c.ft, EXO_IOC_FRAME_GRANT, &g,
			 sizeof(g), err, line);
}
#define expect_grant_err(r, err, cap, ctx_id) \
	__expect_grant_err(_metadata, r, err, cap, ctx_id, __LINE__)

/*
 * Grant errors; the owner's FRAME_FREE breaks the grant; the grantee's
 * FRAME_FREE drops only its capability (EBUSY while it binds it).
 */
RV_TEST(grant_errors_and_frees)
{
	struct rctx *a = &self->a, *b;
	struct exo_frame_alloc f1, f2;
	struct exo_event e;
	struct exo_frame_critical fc = { .size = sizeof(fc) };
	uint64_t g1 = 0, g2 = 0;
	uint32_t bid;

	open_b();
	b = &self->b;
	bid = b->c.api.ctx_id;
	test_alloc_any(a->c.fd, &f1);
	test_alloc_any(a->c.fd, &f2);
	expect_grant_err(a, ESRCH, f1.cap, 0xfffffff0U);
	expect_grant_err(a, EINVAL, f1.cap, a->c.api.ctx_id);
	expect_grant_err(a, ENOENT, f1.cap + (1ULL << 32), bid);
	expect_grant_err(a, ENOENT, 0, bid);
	EXPECT_EQ(0U, ctx_info(b->c.fd).granted);

	ASSERT_EQ(0, _test_grant(a->c.fd, f1.cap, bid, &g1));
	ASSERT_EQ(0, _test_grant(a->c.fd, f2.cap, bid, &g2));
	EXPECT_NE(g1, g2);
	EXPECT_EQ(2U, ctx_info(b->c.fd).granted);
	/* a granted capability is not granted on, nor marked critical */
	expect_grant_err(b, EINVAL, g1, a->c.api.ctx_id);
	fc.cap = g1;
	exo_expect_err(EINVAL, b->c.fd, b->c.ft, EXO_IOC_FRAME_CRITICAL, &fc,
		       sizeof(fc));

	/* owner frees f1 while b binds it: b's binding breaks */
	put_pattern(a, 0, f1.cap, 0, 95, false);
	test_map_one(b->c.fd, RP(b, 0), g1, 0, 1, RO);
	EXPECT_TRUE(filled(RP(b, 0), b->psz, 95));
	test_frame_free(a->c.fd, f1.cap);
	expect_event(b, EXO_EV_GRANT_REVOKED, 1000, &e);
	EXPECT_EQ(g1, e.arg);
	EXPECT_EQ(1ULL, e.nr) TH_LOG("the capability's frames");
	EXPECT_EQ(0ULL, e.deadline_ns);
	expect_sigbus(RP(b, 0), false, EXO_FAULT_REPOSSESSED | EXO_FAULT_READ);
	test_err_frame_free(ENOENT, b->c.fd, g1);
	EXPECT_EQ(1U, ctx_info(b->c.fd).granted);
	EXPECT_EQ(0ULL, ctx_info(b->c.fd).bindings);
	test_unmap_range(b->c.fd, RP(b, 0), b->psz);
	expect_sigbus(RP(b, 0), false, EXO_FAULT_READ);

	/* grantee frees g2: EBUSY while bound, then only its capability */
	put_pattern(a, 1, f2.cap, 0, 96, true);
	test_map_one(b->c.fd, RP(b, 1), g2, 0, 1, RW);
	test_err_frame_free(EBUSY, b->c.fd, g2);
	test_unmap_range(b->c.fd, RP(b, 1), b->psz);
	test_frame_free(b->c.fd, g2);
	EXPECT_EQ(0U, ctx_info(b->c.fd).granted);
	exo_ft_expect_free(b->c.ft, EXO_CAP_INDEX(g2));
	exo_ft_expect_owned(a->c.ft, a->c.api.ctx_id, EXO_ALLOC_ANY, &f2);
	EXPECT_TRUE(filled(RP(a, 1), a->psz, 96));
	EXPECT_EQ(1ULL, ctx_info(a->c.fd).frames);
	EXPECT_TRUE(ev_none(b)) TH_LOG("no GRANT_REVOKED for its own free");
	/* the owner can grant it again */
	ASSERT_EQ(0, _test_grant(a->c.fd, f2.cap, bid, &g2));
	test_unmap_range(a->c.fd, RP(a, 1), a->psz);
	/* and the owner's close breaks it */
	test_map_one(b->c.fd, RP(b, 2), g2, 0, 1, RO);
	rctx_close(a);
	expect_event(b, EXO_EV_GRANT_REVOKED, 2000, &e);
	EXPECT_EQ(g2, e.arg);
	expect_sigbus(RP(b, 2), false, EXO_FAULT_REPOSSESSED | EXO_FAULT_READ);
	EXPECT_EQ(0U, ctx_info(b->c.fd).granted);
	test_unmap_range(b->c.fd, RP(b, 2), b->psz);
	exo_counters_expect(&self->base, 1, 0);
}

/* ------------------------------------------------------------------------
 * exo's own triggers: the global limit and memory pressure
 */

/* Give back what the ring says is owed, from the end of @caps. */
static int pay_owed(struct rctx *r, uint64_t *caps, int *n)
{
	int rc;

	while (ld64(&r->ev->owed) && *n > 0) {
		rc = _test_frame_free(r->c.fd, caps[*n - 1]);
		if (rc)
			return rc;
		(*n)--;
	}
	return 0;
}

/*
 * max_frames 32: a takes all 32; its next allocation is ENOSPC (its fair
 * share is everything). b gets EAGAIN, and a, above its share of two (16),
 * is asked for no more than the shortfall: 1 frame for b's single frame,
 * 4 for b's contiguous run of 4. b retries while a pays what it owes until
 * b holds its 16; then both are at their share: ENOSPC.
 */
RV_TEST(global_limit_fair_share)
{
	struct rctx *a = &self->a, *b;
	struct exo_frame_alloc fa = { .size = sizeof(fa) };
	int i, rc, na = 32, nb = 0, tries = 0, frames_b = 0;
	uint64_t ca[32], cb[16];
	struct exo_event e;

	if (self->base.frames)
		SKIP(return, "other contexts hold frames (%" PRIu64 ")",
		     self->base.frames);
	ASSERT_LE(2U, a->c.api.max_order);
	open_b();
	b = &self->b;
	set_param("revoke_timeout_ms", 10000);
	set_param("max_frames", 32);
	alloc_n(a, 32, ca, NULL);
	test_err_alloc_any(ENOSPC, a->c.fd);
	EXPECT_TRUE(ev_none(a));
	exo_expect_err(EAGAIN, b->c.fd, b->c.ft, EXO_IOC_FRAME_ALLOC, &fa,
		       sizeof(fa));
	expect_event(a, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(1ULL, e.nr) TH_LOG("the shortfall of one frame");
	fa.how = EXO_ALLOC_CONTIG;
	fa.order = 2;
	exo_expect_err(EAGAIN, b->c.fd, b->c.ft, EXO_IOC_FRAME_ALLOC, &fa,
		       sizeof(fa));
	expect_event(a, EXO_EV_REVOKE, 1000, &e);
	EXPECT_EQ(4ULL, e.nr) TH_LOG("the shortfall of a run of 4");
	expect_state(a, EXO_REVOKE_REQUESTED, 5);
	EXPECT_EQ(0ULL, ctx_info(b->c.fd).owed);
	ASSERT_EQ(0, pay_owed(a, ca, &na));
	EXPECT_EQ(27, na);
	test_alloc_contig(b->c.fd, 2, &fa);
	cb[nb++] = fa.cap;
	frames_b = 4;

	while (frames_b < 16 && tries++ < 200) {
		ASSERT_EQ(0, pay_owed(a, ca, &na));
		rc = _test_alloc_any(b->c.fd, &fa);
		if (!rc) {
			cb[nb++] = fa.cap;
			frames_b++;
			continue;
		}
		ASSERT_EQ(-EAGAIN, rc) TH_LOG("b at %d frames: %s", frames_b,
					      strerror(-rc));
	}
	ASSERT_EQ(16, frames_b);
	EXPECT_EQ(16, na);
	/* both at their share now */
	test_err_alloc_any(ENOSPC, b->c.fd);
	test_err_alloc_any(ENOSPC, a->c.fd);
	expect_state(a, EXO_REVOKE_IDLE, 0);
	EXPECT_EQ(16ULL, ctx_info(a->c.fd).revoke_requested);
	EXPECT_EQ(16ULL, ctx_info(a->c.fd).revoke_returned);
	EXPECT_EQ(0ULL, ctx_info(a->c.fd).repossessed);
	EXPECT_EQ(0ULL, ctx_info(b->c.fd).revoke_requested);
	for (i = 0; i < na; i++)
		test_frame_free(a->c.fd, ca[i]);
	for (i = 0; i < nb; i++)
		test_frame_free(b->c.fd, cb[i]);
}

/*
 * A cooperative handler thread: waits for POLLPRI, and while frames are
 * owed frees them from the end of its array (under the array's lock).
 */
struct handler {
	int fd;
	const struct exo_events_header *ev;
	uint64_t *caps;
	volatile int n;		/* caps still held */
	volatile int stop;
	int freed;
	int err;
	pthread_mutex_t lock;
};

static void *handler_run(void *arg)
{
	struct handler *h = arg;
	int rc;

	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		if (!(poll_revents(h->fd, POLLPRI, 50) & POLLPRI))
			continue;
		pthread_mutex_lock(&h->lock);
		while (ld64(&h->ev->owed) && h->n > 0) {
			rc = _test_frame_free(h->fd, h->caps[h->n - 1]);
			if (rc) {
				h->err = rc;
				break;
			}
			h->n--;
			h->freed++;
		}
		pthread_mutex_unlock(&h->lock);
		if (h->err)
			break;
		usleep(1000);
	}
	return NULL;
}

#define SHRINK_FRAMES	2000

static void __handler_start(struct __test_metadata *_metadata,
			    struct rctx *r, struct handler *h, pthread_t *t)
{
	memset(h, 0, sizeof(*h));
	h->fd = r->c.fd;
	h->ev = r->ev;
	h->caps = calloc(SHRINK_FRAMES, sizeof(uint64_t));
	ASSERT_NE(NULL, h->caps);
	pthread_mutex_init(&h->lock, NULL);
	alloc_n(r, SHRINK_FRAMES, h->caps, NULL);
	h->n = SHRINK_FRAMES;
	ASSERT_EQ(0, pthread_create(t, NULL, handler_run, h));
}
#define handler_start(r, h, t) __handler_start(_metadata, r, h, t)

static void __handler_stop(struct __test_metadata *_metadata,
			   struct handler *h, pthread_t t)
{
	int i;

	__atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, h->err) TH_LOG("handler: FRAME_FREE: %s",
				    strerror(-h->err));
	for (i = 0; i < h->n; i++)
		test_frame_free(h->fd, h->caps[i]);
	free(h->caps);
}
#define handler_stop(h, t) __handler_stop(_metadata, h, t)

/* Wait up to @ms for the handler to have freed something and owe nothing. */
static bool handler_done(struct handler *h, unsigned int ms)
{
	uint64_t end = now_ns() + ms * MS;

	while (now_ns() < end) {
		if (__atomic_load_n(&h->freed, __ATOMIC_ACQUIRE) &&
		    !ld64(&h->ev->owed))
			return true;
		usleep(5000);
	}
	return false;
}

/* drop_caches runs every shrinker: exo asks for frames and gets them. */
RV_TEST(shrinker_drop_caches)
{
	struct rctx *r = &self->a;
	uint64_t asked0, req0, cap;
	struct handler h;
	struct exo_event e;
	pthread_t t;

	set_param("shrink", 1);
	set_param("revoke_timeout_ms", 10000);
	handler_start(r, &h, &t);
	asked0 = exo_sysfs_u64("shrinker_requested");
	req0 = exo_sysfs_u64("revoke_requests");
	ASSERT_EQ(0, exo_write_str("/proc/sys/vm/drop_caches", "2\n"));
	EXPECT_LT(asked0, exo_sysfs_u64("shrinker_requested"));
	EXPECT_LT(req0, exo_sysfs_u64("revoke_requests"));
	EXPECT_TRUE(handler_done(&h, 5000));
	ASSERT_EQ(0, ev_next(r, 1000, &e));
	EXPECT_EQ((uint32_t)EXO_EV_REVOKE, e.type);
	EXPECT_LT(0ULL, e.nr);
	EXPECT_GE((uint64_t)SHRINK_FRAMES, e.nr);
	handler_stop(&h, t);
	EXPECT_EQ(0ULL, ctx_info(r->c.fd).repossessed);
	EXPECT_EQ((uint64_t)h.freed, ctx_info(r->c.fd).revoke_returned);
	EXPECT_LT(0ULL, ctx_info(r->c.fd).revoke_returned);

	/* shrink=0: drop_caches asks nothing */
	set_param("shrink", 0);
	cap = exo_alloc_any_cap(r->c.fd);
	asked0 = exo_sysfs_u64("shrinker_requested");
	ASSERT_EQ(0, exo_write_str("/proc/sys/vm/drop_caches", "2\n"));
	EXPECT_EQ(asked0, exo_sysfs_u64("shrinker_requested"));
	EXPECT_EQ(0ULL, ctx_info(r->c.fd).owed);
	test_frame_free(r->c.fd, cap);
}

static uint64_t mem_total_kb(void)
{
	char line[128];
	uint64_t kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * A hog child (oom_score_adj 1000) touches anonymous memory 16 MiB at a
 * time until exo's shrinker has asked for frames (bounded by 2x the RAM);
 * reclaim or the OOM killer's way there both count. The context's handler
 * thread gives frames back.
 */
RV_TEST_TIMEOUT(shrinker_memory_pressure, 120)
{
	struct rctx *r = &self->a;
	uint64_t asked0, ram = mem_total_kb() * 1024, t0;
	struct handler h;
	uint64_t mib = 0;
	int status, pfd[2];
	pthread_t t;
	pid_t pid;

	ASSERT_LT(0ULL, ram);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC | O_NONBLOCK));
	set_param("shrink", 1);
	set_param("revoke_timeout_ms", 10000);
	handler_start(r, &h, &t);
	asked0 = exo_sysfs_u64("shrinker_requested");
	/*
	 * kswapd wakes below the low watermark: raise it (min_free_kbytes
	 * and the gap to low, a fraction of RAM) so the hog gets there
	 * after touching a few hundred MiB, not most of RAM (TCG is slow
	 * at zeroing pages). Put back by the teardown.
	 */
	ASSERT_EQ(0, exo_write_u64(MIN_FREE_PATH, ram / 1024 / 4));
	ASSERT_EQ(0, exo_write_u64(WSF_PATH, 3000));
	t0 = now_ns();
	pid = exo_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		const size_t step = 16 << 20;
		size_t done = 0, i;
		uint8_t *p;

		if (exo_write_str("/proc/self/oom_score_adj", "1000\n"))
			_exit(10);
		while (done < 2 * ram) {
			/* populated in the kernel: no per-page fault (TCG) */
			p = mmap(NULL, step, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				 -1, 0);
			if (p == MAP_FAILED)
				_exit(11);
			for (i = 0; i < step; i += 4096)
				p[i] = 1;
			done += step;
			mib = done >> 20;
			if (write(pfd[1], &mib, sizeof(mib)) != sizeof(mib))
				_exit(13);
			if (exo_sysfs_u64("shrinker_requested") > asked0)
				_exit(0);
		}
		_exit(12);
	}
	self->child[0] = pid;
	status = exo_wait(pid);
	self->child[0] = 0;
	while (read(pfd[0], &mib, sizeof(mib)) == sizeof(mib))
		;
	close(pfd[0]);
	close(pfd[1]);
	ksft_print_msg("the hog touched %llu MiB in %llu ms (%s); the shrinker asked for %llu frames\n",
		       (unsigned long long)mib,
		       (unsigned long long)((now_ns() - t0) / MS),
		       WIFSIGNALED(status) ? "killed" : "exited",
		       (unsigned long long)(exo_sysfs_u64("shrinker_requested") -
					    asked0));
	EXPECT_TRUE((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		    (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
		TH_LOG("hog: status %#x", status);
	EXPECT_LT(asked0, exo_sysfs_u64("shrinker_requested"));
	EXPECT_TRUE(handler_done(&h, 10000))
		TH_LOG("no frames went back (freed %d)", h.freed);
	handler_stop(&h, t);
	EXPECT_LT(0ULL, ctx_info(r->c.fd).revoke_requested);
	EXPECT_LT(0ULL, ctx_info(r->c.fd).revoke_returned);
	EXPECT_EQ(0ULL, ctx_info(r->c.fd).repossessed);
}

int main(int argc, char **argv)
{
	uint64_t vals[NR_PARAMS];
	bool ok[NR_PARAMS];
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	params_save(vals, ok);
	rc = test_harness_run(argc, argv);
	params_restore(vals, ok);
	return rc;
}
