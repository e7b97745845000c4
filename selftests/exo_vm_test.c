// SPDX-License-Identifier: GPL-2.0
/*
 * exo VM tests: exo VMAs and the calls that fill them (MAP, UNMAP, PROTECT,
 * QUERY, DIRTY), the fault paths (in-kernel refill from a binding or from
 * the library OS's page table, the SIGBUS upcall, fault events read from
 * the fd, EFAULT for a system call's copy), and the life of bindings across
 * munmap, close, exit, kill -9 and fork.
 *
 * Every fault the tests expect is caught by one SIGBUS handler that records
 * it and, when the faulting thread armed a jump, siglongjmp()s back; an
 * upcall nobody expected kills the test with SIGBUS. Threads never ASSERT:
 * they record what went wrong and the main thread checks.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <sys/resource.h>
#include <time.h>

#include "exo_util.h"

#define VMA_PAGES	80
#define RW		(EXO_PROT_READ | EXO_PROT_WRITE)
#define RO		EXO_PROT_READ

/* ------------------------------------------------------------------------
 * the SIGBUS upcall
 */

struct upcall {
	void *addr;
	int code;
	uint32_t err;		/* si_errno: EXO_FAULT_* bits */
	pid_t tid;
};

#define LOG_MAX		256

/* Every upcall of the process, in order (the first LOG_MAX kept). */
static struct {
	int n;
	struct upcall u[LOG_MAX];
} g_log;

/*
 * g_map_on_fault: the handler binds the page to frame 0 of g_cap with
 * g_prot (volatile: set just before an access the compiler cannot see
 * fault).
 */
static volatile int g_map_on_fault;
static volatile int g_map_rc;
static int g_fd = -1;
static volatile uint64_t g_cap;
static volatile uint32_t g_prot;
static size_t g_psz;

/*
 * Armed by the faulting thread around the access. volatile: the compiler
 * must not drop or move the stores around an access it cannot see fault.
 */
static __thread sigjmp_buf *volatile tls_jmp;
static __thread struct upcall tls_last;
static __thread int tls_upcalls;

static pid_t sys_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void sigbus_handler(int sig, siginfo_t *si, void *uc)
{
	char msg[96];
	int len;
	struct upcall u = {
		.addr = si->si_addr,
		.code = si->si_code,
		.err = si->si_errno,
		.tid = sys_gettid(),
	};
	int i = __atomic_fetch_add(&g_log.n, 1, __ATOMIC_RELAXED);
	uintptr_t page = (uintptr_t)si->si_addr & ~(uintptr_t)(g_psz - 1);

	if (i < LOG_MAX)
		g_log.u[i] = u;
	tls_last = u;
	tls_upcalls++;
	if (tls_jmp)
		siglongjmp(*tls_jmp, 1);
	if (g_map_on_fault) {
		g_map_rc = _test_map_one(g_fd, (void *)page, g_cap, 0, 1,
					 g_prot);
		if (!g_map_rc)
			return;	/* the access retries and succeeds */
	}
	/* nobody expected this one: say so and die by it */
	len = snprintf(msg, sizeof(msg),
		       "# unhandled upcall at %p, si_errno %#x, map %d\n",
		       si->si_addr, si->si_errno, g_map_rc);
	if (write(STDERR_FILENO, msg, len) < 0)
		_exit(99);
	signal(SIGBUS, SIG_DFL);
}

static int upcalls_seen(void)
{
	return __atomic_load_n(&g_log.n, __ATOMIC_RELAXED);
}

/*
 * Access one byte at @p; true if the access took an upcall instead (then
 * tls_last says which), false if it completed (a read's value in *@out).
 */
static bool access_faults(volatile uint8_t *p, bool write, uint8_t val,
			  uint8_t *out)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 1)) {
		tls_jmp = NULL;
		return true;
	}
	tls_jmp = &jb;
	if (write)
		*p = val;
	else if (out)
		*out = *p;
	else
		(void)*p;
	tls_jmp = NULL;
	return false;
}

/* Call @fn; true if fetching it took an upcall instead. */
static bool call_faults(void (*fn)(void))
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 1)) {
		tls_jmp = NULL;
		return true;
	}
	tls_jmp = &jb;
	fn();
	tls_jmp = NULL;
	return false;
}

/* The access at @p must take exactly one upcall with si_errno @err. */
static void __expect_upcall(struct __test_metadata *_metadata,
			    void *p, bool write, uint32_t err, int line)
{
	int before = tls_upcalls;

	ASSERT_TRUE(access_faults(p, write, 0x5a, NULL))
		TH_LOG("%s at %p completed; expected an upcall (line %d)",
		       write ? "write" : "read", p, line);
	EXPECT_EQ(before + 1, tls_upcalls) TH_LOG("line %d", line);
	EXPECT_EQ(p, tls_last.addr) TH_LOG("si_addr (line %d)", line);
	EXPECT_EQ(BUS_ADRERR, tls_last.code) TH_LOG("si_code (line %d)", line);
	EXPECT_EQ(err, tls_last.err)
		TH_LOG("si_errno %#x, expected %#x (line %d)", tls_last.err,
		       err, line);
	EXPECT_EQ(sys_gettid(), tls_last.tid) TH_LOG("line %d", line);
}
#define expect_upcall(p, write, err) \
	__expect_upcall(_metadata, p, write, err, __LINE__)

/* The read at @p must complete without an upcall; returns the byte. */
static uint8_t __expect_read(struct __test_metadata *_metadata, void *p,
			     int line)
{
	uint8_t v = 0;

	EXPECT_FALSE(access_faults(p, false, 0, &v))
		TH_LOG("read at %p took an upcall, si_errno %#x (line %d)", p,
		       tls_last.err, line);
	return v;
}
#define expect_read(p) __expect_read(_metadata, p, __LINE__)

static void __expect_write(struct __test_metadata *_metadata, void *p,
			   uint8_t v, int line)
{
	EXPECT_FALSE(access_faults(p, true, v, NULL))
		TH_LOG("write at %p took an upcall, si_errno %#x (line %d)", p,
		       tls_last.err, line);
}
#define expect_write(p, v) __expect_write(_metadata, p, v, __LINE__)

static void install_sigbus_handler(void)
{
	struct sigaction sa = {
		.sa_sigaction = sigbus_handler,
		.sa_flags = SA_SIGINFO,
	};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* ------------------------------------------------------------------------
 * fixture
 */

FIXTURE(vm) {
	struct exo_ctx ctx;
	struct exo_ctx other;
	struct exo_counters base;
	size_t psz;
	uint8_t *vma;		/* VMA_PAGES pages, RW */
	size_t vma_len;
	pid_t child;
	bool ready;
};

FIXTURE_SETUP(vm)
{
	self->ctx.fd = -1;
	self->other.fd = -1;
	self->psz = sysconf(_SC_PAGESIZE);
	g_psz = self->psz;
	exo_counters_read(&self->base);
	exo_ctx_open(&self->ctx, true);
	if (!(self->ctx.api.features & EXO_FEAT_VM))
		SKIP(return, "the module has no exo VMAs (EXO_FEAT_VM)");
	self->vma_len = VMA_PAGES * self->psz;
	self->vma = exo_vm_mmap(self->ctx.fd, self->vma_len,
				PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->vma)
		TH_LOG("mmap of an exo VMA: %s", strerror(errno));
	g_fd = self->ctx.fd;
	install_sigbus_handler();
	self->ready = true;
}

FIXTURE_TEARDOWN(vm)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		exo_wait(self->child);
	}
	/* the exo VMA holds its context: it goes first */
	if (self->vma)
		munmap(self->vma, self->vma_len);
	exo_ctx_close(&self->other);
	exo_ctx_close(&self->ctx);
	exo_counters_expect_baseline(&self->base);
}

/*
 * A test body that runs only if setup found the VM interface (SKIP() in a
 * 6.1 fixture setup still runs the body).
 */
#define VM_TEST_TIMEOUT(name, secs)					\
	static void body_##name(struct __test_metadata *_metadata,	\
				FIXTURE_DATA(vm) *self);		\
	TEST_F_TIMEOUT(vm, name, secs)					\
	{								\
		if (self->ready)					\
			body_##name(_metadata, self);			\
	}								\
	static void body_##name(struct __test_metadata *_metadata,	\
				FIXTURE_DATA(vm) *self)
#define VM_TEST(name) VM_TEST_TIMEOUT(name, 90)

#define P(i)	(self->vma + (size_t)(i) * self->psz)

static uint64_t *u64p(void *p)
{
	return p;
}

static struct exo_ctx_info __ctx_info(struct __test_metadata *_metadata,
				      int fd)
{
	struct exo_ctx_info info = { 0 };

	EXPECT_EQ(0, _test_ctx_info(fd, &info));
	return info;
}
#define ctx_info(fd) __ctx_info(_metadata, fd)

static struct exo_map_entry entry(void *va, uint64_t cap, uint32_t frame,
				  uint32_t nr, uint32_t prot)
{
	struct exo_map_entry e = {
		.va = (uintptr_t)va,
		.cap = cap,
		.frame = frame,
		.nr = nr,
		.prot = prot,
	};

	return e;
}

/* MAP must fail with @err and change nothing. */
static void __expect_map_err(struct __test_metadata *_metadata,
			     FIXTURE_DATA(vm) *self, int err,
			     struct exo_map_entry *e, uint32_t nr, int line)
{
	struct exo_map m = {
		.size = sizeof(m),
		.nr = nr,
		.entries = (uintptr_t)e,
	};

	__exo_expect_err(_metadata, self->ctx.fd, self->ctx.ft, EXO_IOC_MAP,
			 &m, sizeof(m), err, line);
}
#define expect_map_err(err, e, nr) \
	__expect_map_err(_metadata, self, err, e, nr, __LINE__)
#define expect_map1_err(err, va, cap, frame, nr, prot)			\
	do {								\
		struct exo_map_entry __e = entry(va, cap, frame, nr, prot); \
		expect_map_err(err, &__e, 1);				\
	} while (0)

/* UNMAP (@ioc) or PROTECT must fail with @err and change nothing. */
static void __expect_ranges_err(struct __test_metadata *_metadata,
				FIXTURE_DATA(vm) *self, int err,
				unsigned long ioc, struct exo_vrange *r,
				uint32_t nr, uint32_t prot, int line)
{
	struct exo_vm_ranges c = {
		.size = sizeof(c),
		.prot = prot,
		.nr = nr,
		.ranges = (uintptr_t)r,
	};

	__exo_expect_err(_metadata, self->ctx.fd, self->ctx.ft, ioc, &c,
			 sizeof(c), err, line);
}
#define expect_unmap_err(err, r, nr) \
	__expect_ranges_err(_metadata, self, err, EXO_IOC_UNMAP, r, nr, 0, \
			    __LINE__)
#define expect_protect_err(err, r, nr, prot) \
	__expect_ranges_err(_metadata, self, err, EXO_IOC_PROTECT, r, nr, \
			    prot, __LINE__)

static struct exo_vpage vpage(FIXTURE_DATA(vm) *self, const void *va)
{
	return exo_vpage_of(self->ctx.fd, va);
}

static bool bound(FIXTURE_DATA(vm) *self, const void *va)
{
	return vpage(self, va).state & EXO_VPAGE_BOUND;
}

/* Fill a page with a pattern derived from @seed; check it. */
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

static bool zeroed(const void *page, size_t psz)
{
	const volatile uint64_t *w = page;
	size_t i;

	for (i = 0; i < psz / 8; i++)
		if (w[i])
			return false;
	return true;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to @ms for *@flag to become non-zero. */
static bool wait_flag(volatile int *flag, unsigned int ms)
{
	uint64_t end = now_ms() + ms;

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (now_ms() > end)
			return false;
		usleep(1000);
	}
	return true;
}

static void no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
}

/* ------------------------------------------------------------------------
 * MAP
 */

/* One frame at two pages, RW and RO: one frame, two views. */
VM_TEST(map_alias_two_prots)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	struct exo_map_entry e[2];
	struct exo_vpage q;
	uint8_t *rw = P(0), *ro = P(5);

	test_alloc_any(fd, &a);
	e[0] = entry(rw, a.cap, 0, 1, RW);
	e[1] = entry(ro, a.cap, 0, 1, RO);
	test_map(fd, e, 2);
	expect_ctx_vm(fd, 2, 0);

	/* installed eagerly */
	q = vpage(self, rw);
	EXPECT_EQ(a.cap, q.cap);
	EXPECT_EQ(a.pfn, q.pfn);
	EXPECT_EQ(0U, q.frame);
	EXPECT_EQ(RW, q.prot);
	EXPECT_EQ(EXO_VPAGE_BOUND | EXO_VPAGE_PRESENT,
		  q.state & (EXO_VPAGE_BOUND | EXO_VPAGE_PRESENT));
	q = vpage(self, ro);
	EXPECT_EQ(a.cap, q.cap);
	EXPECT_EQ(a.pfn, q.pfn);
	EXPECT_EQ(RO, q.prot);
	EXPECT_EQ(EXO_VPAGE_BOUND | EXO_VPAGE_PRESENT,
		  q.state & (EXO_VPAGE_BOUND | EXO_VPAGE_PRESENT));

	/* frames come zeroed; a write through one view shows in the other */
	EXPECT_TRUE(zeroed(ro, self->psz));
	fill(rw, self->psz, 1);
	EXPECT_TRUE(filled(ro, self->psz, 1));

	/* and the read-only view refuses writes, changing nothing */
	expect_upcall(ro + 123, true, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	EXPECT_TRUE(filled(rw, self->psz, 1));
	EXPECT_TRUE(filled(ro, self->psz, 1));
	expect_ctx_vm(fd, 2, 1);

	test_unmap_range(fd, self->vma, self->vma_len);
	expect_ctx_vm(fd, 0, 1);
	test_frame_free(fd, a.cap);
}

/* A contiguous run bound with one entry (nr > 1), and parts of it. */
VM_TEST(map_contig_run_one_entry)
{
	int fd = self->ctx.fd;
	uint32_t order = self->ctx.api.max_order < 2 ?
			 self->ctx.api.max_order : 2;
	uint32_t n = 1U << order, i;
	struct exo_frame_alloc a;
	struct exo_vpage q;

	if (!order)
		SKIP(return, "max_order is 0: no runs of frames");
	test_alloc_contig(fd, order, &a);
	test_map_one(fd, P(0), a.cap, 0, n, RW);
	expect_ctx_vm(fd, n, 0);
	for (i = 0; i < n; i++) {
		q = vpage(self, P(i));
		EXPECT_EQ(a.cap, q.cap);
		EXPECT_EQ(a.pfn + i, q.pfn);
		EXPECT_EQ(i, q.frame);
		EXPECT_EQ(RW, q.prot);
		*u64p(P(i)) = 0x1000 + i;
	}

	/* the last frame alone, read-only, elsewhere */
	test_map_one(fd, P(10), a.cap, n - 1, 1, RO);
	q = vpage(self, P(10));
	EXPECT_EQ(a.pfn + n - 1, q.pfn);
	EXPECT_EQ(n - 1, q.frame);
	EXPECT_EQ(0x1000 + n - 1, *u64p(P(10)));

	/* frames 1 .. n-1 from page 20 */
	test_map_one(fd, P(20), a.cap, 1, n - 1, RO);
	for (i = 1; i < n; i++) {
		EXPECT_EQ(0x1000 + i, *u64p(P(20 + i - 1)));
	}
	expect_ctx_vm(fd, 2 * n, 0);

	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
}

/* ------------------------------------------------------------------------
 * protection and the upcall
 */

/* A write to a read-only binding upcalls and leaves the frame alone. */
VM_TEST(write_readonly_upcalls)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	uint64_t refills;

	test_alloc_any(fd, &a);
	test_map_one(fd, P(1), a.cap, 0, 1, RW);
	fill(P(1), self->psz, 7);
	test_map_one(fd, P(3), a.cap, 0, 1, RO);
	refills = ctx_info(fd).refills;

	expect_upcall(P(3) + 123, true, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	expect_upcall(P(3), true, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	expect_upcall(P(3) + self->psz - 1, true,
		      EXO_FAULT_WRITE | EXO_FAULT_PROT);
	EXPECT_TRUE(filled(P(3), self->psz, 7));
	EXPECT_TRUE(filled(P(1), self->psz, 7));
	expect_ctx_vm(fd, 2, 3);
	EXPECT_EQ(refills, ctx_info(fd).refills);
	/* the binding is as it was */
	EXPECT_EQ(RO, vpage(self, P(3)).prot);
	EXPECT_EQ(3, upcalls_seen());

	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
}

/* Reading or writing a page with no binding: an upcall without PROT. */
VM_TEST(unbound_upcalls)
{
	int fd = self->ctx.fd;

	expect_upcall(P(3) + 77, false, EXO_FAULT_READ);
	expect_upcall(P(4) + self->psz - 1, true, EXO_FAULT_WRITE);
	expect_upcall(P(VMA_PAGES - 1), false, EXO_FAULT_READ);
	expect_ctx_vm(fd, 0, 3);
	EXPECT_FALSE(bound(self, P(3)));
}

/* The handler binds the page and returns: the access then succeeds. */
VM_TEST(handler_binds_and_returns)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	volatile uint64_t v;

	test_alloc_any(fd, &a);
	test_map_one(fd, P(30), a.cap, 0, 1, RW);
	fill(P(30), self->psz, 3);

	g_cap = a.cap;
	g_prot = RW;
	g_map_on_fault = 1;
	/* upcall: the handler maps, the read retries */
	v = *(volatile uint64_t *)(P(2) + 8);
	EXPECT_EQ(0, g_map_rc);
	EXPECT_EQ(u64p(P(30))[1], v);
	EXPECT_EQ(1, upcalls_seen());
	EXPECT_EQ(P(2) + 8, g_log.u[0].addr);
	EXPECT_EQ(EXO_FAULT_READ, g_log.u[0].err);
	EXPECT_EQ(BUS_ADRERR, g_log.u[0].code);

	/* now bound RW: no more upcalls on that page */
	*(volatile uint64_t *)P(2) = 42;
	EXPECT_EQ(1, upcalls_seen());
	EXPECT_EQ(42ULL, *u64p(P(30)));

	/* a write fault, fixed the same way: the write lands */
	*(volatile uint64_t *)(P(7) + 16) = 0xfeed;
	EXPECT_EQ(2, upcalls_seen());
	EXPECT_EQ(P(7) + 16, g_log.u[1].addr);
	EXPECT_EQ(EXO_FAULT_WRITE, g_log.u[1].err);
	EXPECT_EQ(0xfeedULL, u64p(P(30))[2]);
	g_map_on_fault = 0;
	expect_ctx_vm(fd, 3, 2);

	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
}

enum sigbus_disposition { SIGBUS_BLOCKED, SIGBUS_DEFAULT, SIGBUS_IGNORED };

/*
 * A child with its own context touches an unbound exo page with SIGBUS
 * blocked, default or ignored: it must die by SIGBUS.
 */
static void __sigbus_kills(struct __test_metadata *_metadata,
			   FIXTURE_DATA(vm) *self,
			   enum sigbus_disposition how)
{
	sigset_t set;
	int status, fd;
	uint8_t *p;

	self->child = exo_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		no_core_dumps();
		fd = exo_open_raw(O_CLOEXEC);
		if (fd < 0 || _test_api(fd, EXO_API_VERSION, NULL))
			_exit(10);
		p = exo_vm_mmap(fd, self->psz, PROT_READ | PROT_WRITE);
		if (!p)
			_exit(11);
		switch (how) {
		case SIGBUS_BLOCKED:
			sigemptyset(&set);
			sigaddset(&set, SIGBUS);
			sigprocmask(SIG_BLOCK, &set, NULL);
			break;
		case SIGBUS_DEFAULT:
			signal(SIGBUS, SIG_DFL);
			break;
		case SIGBUS_IGNORED:
			signal(SIGBUS, SIG_IGN);
			break;
		}
		(void)*(volatile uint8_t *)p;
		_exit(0);
	}
	status = exo_wait(self->child);
	self->child = 0;
	ASSERT_TRUE(WIFSIGNALED(status))
		TH_LOG("the child exited with %d", WEXITSTATUS(status));
	EXPECT_EQ(SIGBUS, WTERMSIG(status));
}

VM_TEST(sigbus_blocked_kills)
{
	__sigbus_kills(_metadata, self, SIGBUS_BLOCKED);
}

VM_TEST(sigbus_default_kills)
{
	__sigbus_kills(_metadata, self, SIGBUS_DEFAULT);
}

VM_TEST(sigbus_ignored_kills)
{
	__sigbus_kills(_metadata, self, SIGBUS_IGNORED);
}

/*
 * Instruction fetches: a READ|EXEC view of a frame runs what a RW view
 * wrote; fetching from an unbound page upcalls with EXO_FAULT_EXEC, from a
 * PROT_NONE binding with EXO_FAULT_EXEC | EXO_FAULT_PROT. (A fetch from a
 * present read-only entry is refused by x86's fault code with SIGSEGV
 * before exo sees it, so that case is not an upcall.)
 */
VM_TEST(exec_upcalls)
{
	int fd = self->ctx.fd;
	size_t len = 4 * self->psz;
	struct exo_frame_alloc a;
	uint8_t *x;
	void (*fn)(void);
	int i;

	x = exo_vm_mmap(fd, len, PROT_READ | PROT_WRITE | PROT_EXEC);
	if (!x && (errno == EPERM || errno == EACCES))
		SKIP(return, "PROT_EXEC mapping refused here (noexec /dev?)");
	ASSERT_NE(NULL, x) TH_LOG("mmap: %s", strerror(errno));
	test_alloc_any(fd, &a);
	test_map_one(fd, x, a.cap, 0, 1, RW);
	test_map_one(fd, x + self->psz, a.cap, 0, 1,
		     EXO_PROT_READ | EXO_PROT_EXEC);
	test_map_one(fd, x + 3 * self->psz, a.cap, 0, 1, EXO_PROT_NONE);
	x[0] = 0xc3;	/* ret */

	fn = (void (*)(void))(x + self->psz);
	fn();		/* runs */

	for (i = 2; i <= 3; i++) {
		int before = tls_upcalls;

		fn = (void (*)(void))(x + i * self->psz);
		EXPECT_TRUE(call_faults(fn)) TH_LOG("page %d ran", i);
		EXPECT_EQ(before + 1, tls_upcalls);
		EXPECT_EQ((void *)fn, tls_last.addr);
		EXPECT_EQ(BUS_ADRERR, tls_last.code);
		EXPECT_EQ(i == 2 ? EXO_FAULT_EXEC :
			  EXO_FAULT_EXEC | EXO_FAULT_PROT, tls_last.err);
	}
	ASSERT_EQ(0, munmap(x, len));
	test_frame_free(fd, a.cap);
}

/* ------------------------------------------------------------------------
 * MAP errors
 */

/* Forged, stale and foreign capabilities: ENOENT. */
VM_TEST(map_bad_caps)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a, stale, reuse, f[3];
	uint64_t foreign = 0, forged[7];
	unsigned int i;

	test_alloc_any(fd, &a);
	test_alloc_any(fd, &stale);
	test_frame_free(fd, stale.cap);

	forged[0] = 0;
	forged[1] = a.cap + (1ULL << 32);		/* wrong generation */
	forged[2] = a.cap ^ 0x100;			/* another index */
	forged[3] = EXO_CAP_INDEX(a.cap);		/* generation 0 */
	forged[4] = ~0ULL;
	forged[5] = (uint64_t)self->ctx.api.ftable_entries |
		    (a.cap & ~0xffffffffULL);		/* past the table */
	forged[6] = a.cap & ~0xffffffffULL;		/* index 0 */
	for (i = 0; i < ARRAY_SIZE(forged); i++) {
		if (forged[i] == a.cap)
			continue;
		expect_map1_err(ENOENT, P(0), forged[i], 0, 1, RW);
	}

	/* freed; and still refused once its index is reused */
	expect_map1_err(ENOENT, P(0), stale.cap, 0, 1, RW);
	test_alloc_any(fd, &reuse);
	if (reuse.cap != stale.cap)
		expect_map1_err(ENOENT, P(0), stale.cap, 0, 1, RW);

	/* another context's, not equal to one of ours */
	exo_ctx_open(&self->other, false);
	for (i = 0; i < 3; i++) {
		test_alloc_any(self->other.fd, &f[i]);
		if (f[i].cap != a.cap && f[i].cap != reuse.cap)
			foreign = f[i].cap;
	}
	ASSERT_NE(0ULL, foreign);
	expect_map1_err(ENOENT, P(0), foreign, 0, 1, RW);

	EXPECT_FALSE(bound(self, P(0)));
	expect_ctx_vm(fd, 0, 0);
	test_map_one(fd, P(0), a.cap, 0, 1, RW);	/* the real one works */
	test_unmap_range(fd, P(0), self->psz);
	test_frame_free(fd, a.cap);
	test_frame_free(fd, reuse.cap);
}

/* A frame index or count past the capability's run: EINVAL. */
VM_TEST(map_frame_past_run)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a, run;

	test_alloc_any(fd, &a);
	expect_map1_err(EINVAL, P(0), a.cap, 1, 1, RW);
	expect_map1_err(EINVAL, P(0), a.cap, 0, 2, RW);
	expect_map1_err(EINVAL, P(0), a.cap, 0xffffffffU, 1, RW);
	expect_map1_err(EINVAL, P(0), a.cap, 1, 0xffffffffU, RW);
	if (self->ctx.api.max_order >= 1) {
		test_alloc_contig(fd, 1, &run);
		expect_map1_err(EINVAL, P(0), run.cap, 1, 2, RW);
		expect_map1_err(EINVAL, P(0), run.cap, 2, 1, RW);
		expect_map1_err(EINVAL, P(0), run.cap, 0, 3, RW);
		test_map_one(fd, P(0), run.cap, 1, 1, RW);
		EXPECT_EQ(run.pfn + 1, vpage(self, P(0)).pfn);
		test_unmap_range(fd, P(0), self->psz);
		test_frame_free(fd, run.cap);
	}
	expect_ctx_vm(fd, 0, 0);
	test_frame_free(fd, a.cap);
}

/* Addresses outside this context's exo VMAs: ENXIO. */
VM_TEST(map_outside_vma)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	uint8_t *anon, *gone, *theirs;

	test_alloc_any(fd, &a);
	anon = mmap(NULL, self->psz, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	gone = exo_vm_mmap(fd, 2 * self->psz, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, gone);
	ASSERT_EQ(0, munmap(gone, 2 * self->psz));
	exo_ctx_open(&self->other, false);
	theirs = exo_vm_mmap(self->other.fd, 2 * self->psz,
			     PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, theirs);

	expect_map1_err(ENXIO, anon, a.cap, 0, 1, RW);
	expect_map1_err(ENXIO, gone, a.cap, 0, 1, RW);
	expect_map1_err(ENXIO, theirs, a.cap, 0, 1, RW);
	/* the frame table is ours, but not an exo VMA */
	expect_map1_err(ENXIO, (void *)self->ctx.ft, a.cap, 0, 1, RO);
	/* a run that leaves the VMA */
	expect_map1_err(ENXIO, P(VMA_PAGES - 1), a.cap, 0, 2, RW);
	EXPECT_EQ(0, *(volatile uint8_t *)anon);
	expect_ctx_vm(fd, 0, 0);
	expect_ctx_vm(self->other.fd, 0, 0);

	ASSERT_EQ(0, munmap(theirs, 2 * self->psz));
	ASSERT_EQ(0, munmap(anon, self->psz));
	test_frame_free(fd, a.cap);
}

/* More rights than the VMA was mapped with: EACCES. */
VM_TEST(map_prot_beyond_vma)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	uint8_t *ro;

	test_alloc_any(fd, &a);
	ro = exo_vm_mmap(fd, 2 * self->psz, PROT_READ);
	ASSERT_NE(NULL, ro);
	expect_map1_err(EACCES, ro, a.cap, 0, 1, RW);
	/* self->vma has no PROT_EXEC */
	expect_map1_err(EACCES, P(0), a.cap, 0, 1,
			EXO_PROT_READ | EXO_PROT_EXEC);
	expect_map1_err(EACCES, P(0), a.cap, 0, 1, RW | EXO_PROT_EXEC);

	/* what the VMA allows works */
	test_map_one(fd, ro, a.cap, 0, 1, RO);
	EXPECT_EQ(0, expect_read(ro + 9));
	ASSERT_EQ(0, munmap(ro, 2 * self->psz));
	expect_ctx_vm(fd, 0, 0);
	test_frame_free(fd, a.cap);
}

/* Malformed entries: EINVAL. */
VM_TEST(map_bad_fields)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	struct exo_map_entry e;

	test_alloc_any(fd, &a);
	expect_map1_err(EINVAL, P(0), a.cap, 0, 1, EXO_PROT_WRITE);
	expect_map1_err(EINVAL, P(0), a.cap, 0, 1, RW | 0x8);
	expect_map1_err(EINVAL, P(0), a.cap, 0, 1, RO | 0x80000000U);
	expect_map1_err(EINVAL, P(0) + 8, a.cap, 0, 1, RW);
	expect_map1_err(EINVAL, P(0) + self->psz / 2, a.cap, 0, 1, RW);
	expect_map1_err(EINVAL, P(0), a.cap, 0, 0, RW);
	e = entry(P(0), a.cap, 0, 1, RW);
	e.__reserved = 1;
	expect_map_err(EINVAL, &e, 1);
	e.__reserved = 0x80000000U;
	expect_map_err(EINVAL, &e, 1);
	expect_ctx_vm(fd, 0, 0);
	test_frame_free(fd, a.cap);
}

/* A page already bound: EEXIST, also within one batch. */
VM_TEST(map_already_bound)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	struct exo_map_entry e[2];

	test_alloc_any(fd, &a);
	test_map_one(fd, P(4), a.cap, 0, 1, RO);
	expect_map1_err(EEXIST, P(4), a.cap, 0, 1, RO);
	expect_map1_err(EEXIST, P(4), a.cap, 0, 1, RW);
	/* a batch whose second entry is the bound page */
	e[0] = entry(P(2), a.cap, 0, 1, RW);
	e[1] = entry(P(3), a.cap, 0, 1, RW);
	e[1].va = (uintptr_t)P(4);
	expect_map_err(EEXIST, e, 2);
	EXPECT_FALSE(bound(self, P(2)));
	/* the same page twice in one batch */
	e[0] = entry(P(6), a.cap, 0, 1, RW);
	e[1] = entry(P(6), a.cap, 0, 1, RO);
	expect_map_err(EEXIST, e, 2);
	EXPECT_FALSE(bound(self, P(6)));
	EXPECT_EQ(RO, vpage(self, P(4)).prot);
	expect_ctx_vm(fd, 1, 0);

	test_unmap_range(fd, P(4), self->psz);
	test_frame_free(fd, a.cap);
}

/* A batch whose last entry is bad binds nothing, whatever the error. */
VM_TEST(map_batch_all_or_nothing)
{
	enum { N = 6 };
	int fd = self->ctx.fd;
	struct exo_frame_alloc a, stale;
	struct exo_map_entry e[N];
	struct exo_vpage q[N];
	uint8_t *anon;
	struct {
		int err;
		struct exo_map_entry last;
	} bad[5];
	unsigned int i, k;

	test_alloc_any(fd, &a);
	test_alloc_any(fd, &stale);
	test_frame_free(fd, stale.cap);
	anon = mmap(NULL, self->psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	test_map_one(fd, P(40), a.cap, 0, 1, RW);

	bad[0].err = ENOENT;
	bad[0].last = entry(P(15), stale.cap, 0, 1, RW);
	bad[1].err = ENXIO;
	bad[1].last = entry(anon, a.cap, 0, 1, RW);
	bad[2].err = EINVAL;
	bad[2].last = entry(P(15), a.cap, 0, 1, EXO_PROT_WRITE);
	bad[3].err = EEXIST;
	bad[3].last = entry(P(40), a.cap, 0, 1, RW);
	bad[4].err = EINVAL;
	bad[4].last = entry(P(15), a.cap, 1, 1, RW);
	for (k = 0; k < ARRAY_SIZE(bad); k++) {
		for (i = 0; i < N - 1; i++)
			e[i] = entry(P(10 + i), a.cap, 0, 1,
				     i % 2 ? RO : RW);
		e[N - 1] = bad[k].last;
		expect_map_err(bad[k].err, e, N);
		test_query(fd, P(10), N, 0, q);
		for (i = 0; i < N; i++) {
			EXPECT_EQ(0, q[i].state)
				TH_LOG("case %u: page %u bound", k, i);
			EXPECT_EQ(0ULL, q[i].cap);
		}
		expect_ctx_vm(fd, 1, 0);
	}
	/* and the same batch with a good last entry binds all */
	e[N - 1] = entry(P(15), a.cap, 0, 1, RW);
	test_map(fd, e, N);
	expect_ctx_vm(fd, N + 1, 0);

	test_unmap_range(fd, self->vma, self->vma_len);
	ASSERT_EQ(0, munmap(anon, self->psz));
	test_frame_free(fd, a.cap);
}

/* nr 0: EINVAL; above max_batch: E2BIG; exactly max_batch works. */
VM_TEST_TIMEOUT(map_batch_limits, 300)
{
	int fd = self->ctx.fd;
	uint32_t max = self->ctx.api.max_batch, i;
	struct exo_frame_alloc a;
	struct exo_map_entry *e;
	struct exo_map m = { .size = sizeof(m) };
	size_t len;
	uint8_t *big;

	ASSERT_LE(1U, max);
	if (max > 65536)
		SKIP(return, "max_batch %u: too many pages to bind here", max);
	test_alloc_any(fd, &a);
	len = ((size_t)max + 1) * self->psz;
	big = exo_vm_mmap(fd, len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, big);
	e = calloc(max + 1, sizeof(*e));
	ASSERT_NE(NULL, e);
	for (i = 0; i <= max; i++)
		e[i] = entry(big + (size_t)i * self->psz, a.cap, 0, 1, RO);

	expect_map_err(EINVAL, e, 0);
	expect_map_err(E2BIG, e, max + 1);
	m.nr = 1;
	exo_expect_err(EFAULT, fd, self->ctx.ft, EXO_IOC_MAP, &m, sizeof(m));

	test_map(fd, e, max);
	expect_ctx_vm(fd, max, 0);
	EXPECT_EQ(a.pfn, vpage(self, big + (size_t)(max - 1) *
				     self->psz).pfn);
	test_unmap_range(fd, big, len);
	expect_ctx_vm(fd, 0, 0);
	free(e);
	ASSERT_EQ(0, munmap(big, len));
	test_frame_free(fd, a.cap);
}

/* ------------------------------------------------------------------------
 * UNMAP and PROTECT
 */

struct spinner {
	volatile uint64_t *p;
	volatile uint64_t count;	/* writes completed */
	volatile int stop;
	int faulted;
	int upcalls;
	struct upcall up;
};

/* Write *p = ++count until told to stop or an upcall stops it. */
static void *spin_writer(void *arg)
{
	struct spinner *s = arg;
	sigjmp_buf jb;
	uint64_t c;

	if (!sigsetjmp(jb, 1)) {
		tls_jmp = &jb;
		while (!s->stop) {
			c = s->count + 1;
			*s->p = c;
			s->count = c;
		}
	} else {
		s->faulted = 1;
		s->up = tls_last;
	}
	tls_jmp = NULL;
	s->upcalls = tls_upcalls;
	return NULL;
}

static bool wait_count(volatile uint64_t *count, uint64_t min,
		       unsigned int ms)
{
	uint64_t end = now_ms() + ms;

	while (*count < min) {
		if (now_ms() > end)
			return false;
		usleep(500);
	}
	return true;
}

/*
 * After UNMAP/PROTECT returns, a thread spinning on writes to the page can
 * write no more: its next write upcalls, and the frame (seen through a
 * second, read-only view) holds exactly its last completed write.
 */
static void __writers_stopped(struct __test_metadata *_metadata,
			      FIXTURE_DATA(vm) *self, bool unmap)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	struct spinner s;
	pthread_t t;
	uint64_t v1, v2;
	int round;

	test_alloc_any(fd, &a);
	test_map_one(fd, P(1), a.cap, 0, 1, RO);
	for (round = 0; round < 3; round++) {
		memset(&s, 0, sizeof(s));
		s.p = u64p(P(0));
		if (unmap || round == 0)
			test_map_one(fd, P(0), a.cap, 0, 1, RW);
		else
			test_protect_range(fd, P(0), self->psz, RW);
		ASSERT_EQ(0, pthread_create(&t, NULL, spin_writer, &s));
		EXPECT_TRUE(wait_count(&s.count, 1000, 20000))
			TH_LOG("the writer did not get going");
		if (unmap)
			test_unmap_range(fd, P(0), self->psz);
		else
			test_protect_range(fd, P(0), self->psz, RO);
		v1 = *u64p(P(1));
		usleep(50000);
		v2 = *u64p(P(1));
		EXPECT_EQ(v1, v2) TH_LOG("round %d: a write landed after %s returned",
					 round, unmap ? "UNMAP" : "PROTECT");
		if (!wait_flag(&s.faulted, 10000))
			s.stop = 1;
		ASSERT_EQ(0, pthread_join(t, NULL));
		EXPECT_TRUE(s.faulted) TH_LOG("round %d: the writer never took an upcall",
					      round);
		EXPECT_EQ(1, s.upcalls);
		EXPECT_EQ((void *)P(0), s.up.addr);
		EXPECT_EQ(unmap ? EXO_FAULT_WRITE :
			  EXO_FAULT_WRITE | EXO_FAULT_PROT, s.up.err);
		EXPECT_EQ(s.count, v1)
			TH_LOG("round %d: the frame holds %" PRIu64
			       ", the last completed write was %" PRIu64,
			       round, v1, (uint64_t)s.count);
	}
	expect_ctx_vm(fd, unmap ? 1 : 2, 3);
	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
}

VM_TEST(unmap_stops_other_threads)
{
	__writers_stopped(_metadata, self, true);
}

VM_TEST(protect_stops_other_threads)
{
	__writers_stopped(_metadata, self, false);
}

/* Take rights away, give them back (lazily: no upcall), and again. */
VM_TEST(protect_remove_restore)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	struct exo_ctx_info i0, i1;

	test_alloc_any(fd, &a);
	test_map_one(fd, P(0), a.cap, 0, 1, RW);
	expect_write(P(0), 0x11);

	test_protect_range(fd, P(0), self->psz, RO);
	EXPECT_EQ(RO, vpage(self, P(0)).prot);
	EXPECT_EQ(0x11, expect_read(P(0)));
	expect_upcall(P(0) + 1, true, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	EXPECT_EQ(0, expect_read(P(0) + 1));

	i0 = ctx_info(fd);
	test_protect_range(fd, P(0), self->psz, RW);
	EXPECT_EQ(RW, vpage(self, P(0)).prot);
	expect_write(P(0) + 1, 0x22);
	i1 = ctx_info(fd);
	EXPECT_EQ(i0.upcalls, i1.upcalls) TH_LOG("restored rights upcalled");
	EXPECT_LT(i0.refills, i1.refills) TH_LOG("no refill in the kernel");

	test_protect_range(fd, P(0), self->psz, EXO_PROT_NONE);
	EXPECT_EQ(EXO_PROT_NONE, vpage(self, P(0)).prot);
	EXPECT_TRUE(bound(self, P(0)));
	expect_upcall(P(0) + 2, false, EXO_FAULT_READ | EXO_FAULT_PROT);
	test_protect_range(fd, P(0), self->psz, RO);
	EXPECT_EQ(0x22, expect_read(P(0) + 1));
	EXPECT_EQ(0x11, expect_read(P(0)));
	expect_ctx_vm(fd, 1, 2);

	test_unmap_range(fd, P(0), self->psz);
	test_frame_free(fd, a.cap);
}

/*
 * EXO_PROTECT_POPULATE installs the entries of the pages that can now be
 * read at once: present right after the call, no refill on the next
 * access. Without it they come back lazily.
 */
VM_TEST(protect_populate)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	struct exo_vpage q[4];
	struct exo_vrange r = { .va = (uintptr_t)P(0), .len = 4 * self->psz };
	uint64_t refills;
	int i;

	test_alloc_any(fd, &a);
	for (i = 0; i < 3; i++)
		test_map_one(fd, P(i), a.cap, 0, 1, RW);
	P(0)[0] = 0x61;
	test_protect_range(fd, P(0), 4 * self->psz, EXO_PROT_NONE);
	test_query(fd, P(0), 4, 0, q);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, q[i].state & EXO_VPAGE_PRESENT);
	}

	/* lazily: not present until touched */
	test_protect_range(fd, P(0), 4 * self->psz, RO);
	EXPECT_EQ(0, vpage(self, P(1)).state & EXO_VPAGE_PRESENT);

	test_protect_range(fd, P(0), 4 * self->psz, EXO_PROT_NONE);
	ASSERT_EQ(0, __test_vm_ranges(fd, EXO_IOC_PROTECT, &r, 1, RW,
				      EXO_PROTECT_POPULATE));
	test_query(fd, P(0), 4, 0, q);
	for (i = 0; i < 3; i++) {
		EXPECT_NE(0, q[i].state & EXO_VPAGE_PRESENT) TH_LOG("page %d", i);
		EXPECT_EQ(RW, q[i].prot);
	}
	EXPECT_EQ(0, q[3].state) TH_LOG("an unbound page got populated");
	refills = ctx_info(fd).refills;
	EXPECT_EQ(0x61, expect_read(P(2)));
	EXPECT_EQ(refills, ctx_info(fd).refills) TH_LOG("populated, yet refilled");
	/* a write still marks the page dirty */
	expect_write(P(1), 0x62);
	EXPECT_NE(0, vpage(self, P(1)).state & EXO_VPAGE_DIRTY);
	expect_ctx_vm(fd, 3, 0);

	/* a PROT_NONE populate installs nothing; UNMAP takes no flags */
	ASSERT_EQ(0, __test_vm_ranges(fd, EXO_IOC_PROTECT, &r, 1,
				      EXO_PROT_NONE, EXO_PROTECT_POPULATE));
	EXPECT_EQ(0, vpage(self, P(0)).state & EXO_VPAGE_PRESENT);
	EXPECT_EQ(-EOPNOTSUPP, __test_vm_ranges(fd, EXO_IOC_UNMAP, &r, 1, 0,
						EXO_PROTECT_POPULATE));
	expect_ctx_vm(fd, 3, 0);

	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
}

/* Pages without a binding inside the ranges are skipped. */
VM_TEST(unmap_protect_skip_unbound)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	struct exo_vpage q[8];
	struct exo_vrange r[2];
	int i;

	test_alloc_any(fd, &a);
	for (i = 0; i < 8; i += 3)
		test_map_one(fd, P(i), a.cap, 0, 1, RW);
	expect_ctx_vm(fd, 3, 0);
	test_unmap_range(fd, P(0), 8 * self->psz);
	expect_ctx_vm(fd, 0, 0);
	/* and an all-empty range */
	test_unmap_range(fd, P(20), 8 * self->psz);

	for (i = 0; i < 8; i += 3)
		test_map_one(fd, P(i), a.cap, 0, 1, RW);
	test_protect_range(fd, P(0), 8 * self->psz, RO);
	test_query(fd, P(0), 8, 0, q);
	for (i = 0; i < 8; i++) {
		if (i % 3 == 0) {
			EXPECT_NE(0, q[i].state & EXO_VPAGE_BOUND);
			EXPECT_EQ(RO, q[i].prot);
		} else {
			EXPECT_EQ(0, q[i].state) TH_LOG("page %d", i);
		}
	}
	/* two ranges in one call */
	r[0].va = (uintptr_t)P(0);
	r[0].len = 2 * self->psz;
	r[1].va = (uintptr_t)P(5);
	r[1].len = 3 * self->psz;
	ASSERT_EQ(0, _test_unmap(fd, r, 2));
	EXPECT_FALSE(bound(self, P(0)));
	EXPECT_TRUE(bound(self, P(3)));
	EXPECT_FALSE(bound(self, P(6)));
	expect_ctx_vm(fd, 1, 0);

	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
}

/* Bad ranges: the call fails and nothing changes, not even good ranges. */
VM_TEST(unmap_protect_bad_ranges)
{
	int fd = self->ctx.fd;
	uint32_t max = self->ctx.api.max_batch, i;
	struct exo_frame_alloc a;
	struct exo_vrange r[2], *many;
	uint8_t *anon, *ro;

	test_alloc_any(fd, &a);
	anon = mmap(NULL, self->psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	test_map_one(fd, P(0), a.cap, 0, 1, RW);
	r[0].va = (uintptr_t)P(0);
	r[0].len = self->psz;

	/* outside any exo VMA: ENXIO */
	r[1].va = (uintptr_t)anon;
	r[1].len = self->psz;
	expect_unmap_err(ENXIO, r, 2);
	expect_protect_err(ENXIO, r, 2, RO);
	r[1].va = (uintptr_t)P(VMA_PAGES - 1);
	r[1].len = 2 * self->psz;
	expect_unmap_err(ENXIO, r, 2);
	expect_protect_err(ENXIO, r, 2, RO);
	exo_ctx_open(&self->other, false);
	r[1].va = (uintptr_t)exo_vm_mmap(self->other.fd, self->psz,
					 PROT_READ | PROT_WRITE);
	ASSERT_NE(0ULL, r[1].va);
	r[1].len = self->psz;
	expect_unmap_err(ENXIO, r, 2);
	expect_protect_err(ENXIO, r, 2, RO);
	ASSERT_EQ(0, munmap((void *)(uintptr_t)r[1].va, self->psz));

	/* malformed: EINVAL */
	r[1].va = (uintptr_t)P(2);
	r[1].len = 0;
	expect_unmap_err(EINVAL, r, 2);
	expect_protect_err(EINVAL, r, 2, RO);
	r[1].len = self->psz / 2;
	expect_unmap_err(EINVAL, r, 2);
	expect_protect_err(EINVAL, r, 2, RO);
	r[1].va = (uintptr_t)P(2) + 64;
	r[1].len = self->psz;
	expect_unmap_err(EINVAL, r, 2);
	expect_protect_err(EINVAL, r, 2, RO);
	expect_unmap_err(EINVAL, r, 0);
	expect_protect_err(EINVAL, r, 0, RO);
	/* UNMAP takes prot 0; PROTECT a valid prot */
	__expect_ranges_err(_metadata, self, EINVAL, EXO_IOC_UNMAP, r, 1, RO,
			    __LINE__);
	expect_protect_err(EINVAL, r, 1, EXO_PROT_WRITE);
	expect_protect_err(EINVAL, r, 1, RW | 0x8);
	/* more than the VMA allows: EACCES */
	ro = exo_vm_mmap(fd, self->psz, PROT_READ);
	ASSERT_NE(NULL, ro);
	test_map_one(fd, ro, a.cap, 0, 1, RO);
	r[1].va = (uintptr_t)ro;
	r[1].len = self->psz;
	expect_protect_err(EACCES, &r[1], 1, RW);
	expect_protect_err(EACCES, r, 2, RW);

	/* too many ranges: E2BIG */
	many = calloc((size_t)max + 1, sizeof(*many));
	ASSERT_NE(NULL, many);
	for (i = 0; i <= max; i++) {
		many[i].va = (uintptr_t)P(0);
		many[i].len = self->psz;
	}
	expect_unmap_err(E2BIG, many, max + 1);
	expect_protect_err(E2BIG, many, max + 1, RO);
	free(many);

	/* nothing changed */
	EXPECT_EQ(RW, vpage(self, P(0)).prot);
	EXPECT_EQ(RO, vpage(self, ro).prot);
	expect_write(P(0), 1);
	expect_ctx_vm(fd, 2, 0);

	ASSERT_EQ(0, munmap(ro, self->psz));
	test_unmap_range(fd, P(0), self->psz);
	ASSERT_EQ(0, munmap(anon, self->psz));
	test_frame_free(fd, a.cap);
}

/* ------------------------------------------------------------------------
 * QUERY and DIRTY
 */

VM_TEST(query_fields)
{
	int fd = self->ctx.fd;
	uint32_t order = self->ctx.api.max_order ? 1 : 0;
	uint32_t fr = order;	/* the run's last frame */
	struct exo_frame_alloc a;
	struct exo_vpage q[3];

	test_alloc_contig(fd, order, &a);
	test_map_one(fd, P(0), a.cap, fr, 1, RW);
	test_map_one(fd, P(1), a.cap, fr, 1, RO);
	memset(q, 0xa5, sizeof(q));
	test_query(fd, P(0), 3, 0, q);
	EXPECT_EQ(a.cap, q[0].cap);
	EXPECT_EQ(a.pfn + fr, q[0].pfn);
	EXPECT_EQ(fr, q[0].frame);
	EXPECT_EQ(RW, q[0].prot);
	EXPECT_EQ(EXO_VPAGE_BOUND | EXO_VPAGE_PRESENT | EXO_VPAGE_DIRTY,
		  q[0].state & ~EXO_VPAGE_ACCESSED)
		TH_LOG("a new RW binding: bound, present, dirty");
	EXPECT_EQ(a.cap, q[1].cap);
	EXPECT_EQ(a.pfn + fr, q[1].pfn);
	EXPECT_EQ(fr, q[1].frame);
	EXPECT_EQ(RO, q[1].prot);
	EXPECT_EQ(EXO_VPAGE_BOUND | EXO_VPAGE_PRESENT,
		  q[1].state & ~EXO_VPAGE_ACCESSED)
		TH_LOG("a new RO binding: bound, present, clean");
	EXPECT_EQ(0ULL, q[2].cap);
	EXPECT_EQ(0ULL, q[2].pfn);
	EXPECT_EQ(0U, q[2].frame);
	EXPECT_EQ(0, q[2].prot);
	EXPECT_EQ(0, q[2].state);

	/* taking rights zaps the entries: bound, not present, until a touch */
	test_protect_range(fd, P(0), 2 * self->psz, RO);
	test_query(fd, P(0), 2, 0, q);
	EXPECT_EQ(0, q[0].state & EXO_VPAGE_PRESENT);
	EXPECT_NE(0, q[0].state & EXO_VPAGE_BOUND);
	EXPECT_EQ(0, q[1].state & EXO_VPAGE_PRESENT);
	expect_read(P(0));
	EXPECT_NE(0, vpage(self, P(0)).state & EXO_VPAGE_PRESENT);
	EXPECT_EQ(0, vpage(self, P(1)).state & EXO_VPAGE_PRESENT);

	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
}

VM_TEST(query_errors)
{
	int fd = self->ctx.fd;
	uint32_t max = self->ctx.api.max_batch;
	struct exo_vpage *q;
	struct exo_query c = { .size = sizeof(c) };
	uint8_t *big;
	size_t len = ((size_t)max + 1) * self->psz;

	q = calloc((size_t)max + 1, sizeof(*q));
	ASSERT_NE(NULL, q);
	big = exo_vm_mmap(fd, len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, big);
	c.pages = (uintptr_t)q;

	c.va = (uintptr_t)big;
	c.nr = 0;
	exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_QUERY, &c, sizeof(c));
	c.nr = max + 1;
	exo_expect_err(E2BIG, fd, self->ctx.ft, EXO_IOC_QUERY, &c, sizeof(c));
	c.nr = max;
	ASSERT_EQ(0, _test_ioctl(fd, EXO_IOC_QUERY, &c));
	c.nr = 1;
	c.va = (uintptr_t)big + 8;
	exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_QUERY, &c, sizeof(c));
	c.va = (uintptr_t)self->ctx.ft;
	exo_expect_err(ENXIO, fd, self->ctx.ft, EXO_IOC_QUERY, &c, sizeof(c));
	c.va = (uintptr_t)P(VMA_PAGES - 1);
	c.nr = 2;
	exo_expect_err(ENXIO, fd, self->ctx.ft, EXO_IOC_QUERY, &c, sizeof(c));
	c.va = (uintptr_t)P(0);
	c.pages = 0;
	exo_expect_err(EFAULT, fd, self->ctx.ft, EXO_IOC_QUERY, &c, sizeof(c));
	ASSERT_EQ(0, munmap(big, len));
	free(q);
}

/*
 * The accessed bit: the kernel installs entries young, so clear it first;
 * then a touch sets it, and EXO_QUERY_CLEAR_ACCESSED reports and clears it.
 * (A touch after a clear may hit a cached TLB entry that does not set the
 * bit again, as on real hardware, so that is not checked.)
 */
VM_TEST(query_accessed)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	struct exo_vpage q[2];

	test_alloc_any(fd, &a);
	test_map_one(fd, P(0), a.cap, 0, 1, RW);
	test_map_one(fd, P(1), a.cap, 0, 1, RW);
	test_query(fd, P(0), 2, EXO_QUERY_CLEAR_ACCESSED, q);
	test_query(fd, P(0), 2, 0, q);
	EXPECT_EQ(0, q[0].state & EXO_VPAGE_ACCESSED);
	EXPECT_EQ(0, q[1].state & EXO_VPAGE_ACCESSED);
	EXPECT_NE(0, q[0].state & EXO_VPAGE_PRESENT);

	expect_read(P(0) + 5);
	test_query(fd, P(0), 2, EXO_QUERY_CLEAR_ACCESSED, q);
	EXPECT_NE(0, q[0].state & EXO_VPAGE_ACCESSED)
		TH_LOG("a touch did not set the accessed bit");
	EXPECT_EQ(0, q[1].state & EXO_VPAGE_ACCESSED)
		TH_LOG("the untouched page is accessed");
	test_query(fd, P(0), 2, 0, q);
	EXPECT_EQ(0, q[0].state & EXO_VPAGE_ACCESSED)
		TH_LOG("EXO_QUERY_CLEAR_ACCESSED did not clear it");
	EXPECT_NE(0, q[0].state & EXO_VPAGE_PRESENT)
		TH_LOG("clearing the accessed bit zapped the entry");

	test_unmap_range(fd, P(0), 2 * self->psz);
	test_frame_free(fd, a.cap);
}

static int bits_set(const uint64_t *bm, uint32_t nr, uint32_t *first)
{
	uint32_t i;
	int n = 0;

	for (i = 0; i < nr; i++) {
		if (bm[i / 64] & (1ULL << (i % 64))) {
			if (!n && first)
				*first = i;
			n++;
		}
	}
	return n;
}

/* DIRTY reports exactly the written pages and cleans them. */
VM_TEST(dirty_exact)
{
	enum { N = 70 };
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	struct exo_map_entry e[N];
	uint64_t bm[4];
	const uint64_t fillw = 0x0101010101010101ULL * 0xa5;
	size_t big_len = (EXO_DIRTY_MAX_PAGES + 1ULL) * self->psz;
	uint64_t *big_bm;
	uint32_t i, first = 0;
	uint8_t *big;

	test_alloc_any(fd, &a);
	for (i = 0; i < N; i++)
		e[i] = entry(P(i), a.cap, 0, 1, RW);
	test_map(fd, e, N);
	test_map_one(fd, P(75), a.cap, 0, 1, RO);

	/* every new writable binding starts dirty */
	memset(bm, 0xa5, sizeof(bm));
	test_dirty(fd, P(0), N, bm, N);
	EXPECT_EQ(~0ULL, bm[0]);
	EXPECT_EQ((1ULL << (N - 64)) - 1, bm[1]);
	EXPECT_EQ(fillw, bm[2]) TH_LOG("wrote past (nr + 63) / 64 words");
	EXPECT_EQ(fillw, bm[3]);

	/* reported means clean */
	memset(bm, 0xa5, sizeof(bm));
	test_dirty(fd, P(0), N, bm, 0);
	EXPECT_EQ(0ULL, bm[0]);
	EXPECT_EQ(0ULL, bm[1]);

	/* exactly the written pages; reads do not count */
	*u64p(P(1)) = 1;
	*u64p(P(3) + 100) = 3;
	*u64p(P(66)) = 66;
	EXPECT_EQ(66ULL, *u64p(P(5)));	/* the same frame everywhere */
	test_dirty(fd, P(0), N, bm, 3);
	EXPECT_EQ(3, bits_set(bm, N, NULL));
	EXPECT_EQ((1ULL << 1) | (1ULL << 3), bm[0]);
	EXPECT_EQ(1ULL << 2, bm[1]);
	test_dirty(fd, P(0), N, bm, 0);

	/* a write after DIRTY marks the page again */
	*u64p(P(3)) = 33;
	test_dirty(fd, P(0), N, bm, 1);
	EXPECT_EQ(1ULL << 3, bm[0]);

	/* sub-ranges: bit 0 is the first page asked about */
	*u64p(P(10)) = 10;
	*u64p(P(11)) = 11;
	test_dirty(fd, P(11), 1, bm, 1);
	EXPECT_EQ(1ULL, bm[0]);
	test_dirty(fd, P(9), 3, bm, 1);
	EXPECT_EQ(1, bits_set(bm, 3, &first));
	EXPECT_EQ(1U, first);

	/* a read-only binding is never dirty */
	test_dirty(fd, P(75), 1, bm, 0);
	expect_read(P(75));
	test_dirty(fd, P(75), 1, bm, 0);

	/* errors */
	test_err_dirty(EINVAL, fd, P(0), 0, bm);
	test_err_dirty(ENXIO, fd, P(VMA_PAGES - 1), 2, bm);
	test_err_dirty(ENXIO, fd, self->ctx.ft, 1, bm);
	test_err_dirty(EINVAL, fd, P(0) + 8, 1, bm);
	test_err_dirty(EFAULT, fd, P(0), 1, NULL);
	/* more than EXO_DIRTY_MAX_PAGES, all inside one (big) VMA */
	big = exo_vm_mmap(fd, big_len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, big);
	big_bm = calloc(EXO_DIRTY_MAX_PAGES / 64 + 1, sizeof(*big_bm));
	ASSERT_NE(NULL, big_bm);
	test_err_dirty(E2BIG, fd, big, EXO_DIRTY_MAX_PAGES + 1, big_bm);
	free(big_bm);
	ASSERT_EQ(0, munmap(big, big_len));

	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
}

/*
 * Another thread keeps writing a page: each DIRTY cleans it, and the
 * thread's next writes (with a TLB entry it had before the call) mark it
 * dirty again, without an upcall.
 */
VM_TEST(dirty_other_thread)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	struct spinner s;
	uint64_t bm, c0;
	pthread_t t;
	int round, d;

	test_alloc_any(fd, &a);
	test_map_one(fd, P(7), a.cap, 0, 1, RW);
	memset(&s, 0, sizeof(s));
	s.p = u64p(P(7));
	ASSERT_EQ(0, pthread_create(&t, NULL, spin_writer, &s));
	EXPECT_TRUE(wait_count(&s.count, 1000, 20000));
	for (round = 0; round < 10; round++) {
		d = _test_dirty(fd, P(7), 1, &bm);
		EXPECT_EQ(1, d) TH_LOG("round %d", round);
		c0 = s.count;
		EXPECT_TRUE(wait_count(&s.count, c0 + 100, 20000));
		if (s.faulted)
			break;
	}
	d = _test_dirty(fd, P(7), 1, &bm);
	EXPECT_EQ(1, d);
	s.stop = 1;
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_FALSE(s.faulted) TH_LOG("the writer took an upcall, si_errno %#x",
				       s.up.err);
	/* stopped: one last report, then clean */
	d = _test_dirty(fd, P(7), 1, &bm);
	EXPECT_LE(0, d);
	test_dirty(fd, P(7), 1, &bm, 0);
	expect_ctx_vm(fd, 1, 0);

	test_unmap_range(fd, P(7), self->psz);
	test_frame_free(fd, a.cap);
}

/* ------------------------------------------------------------------------
 * frames and bindings
 */

VM_TEST(free_bound_frame_busy)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a, run;
	struct exo_frame_free f = { .size = sizeof(f) };

	test_alloc_any(fd, &a);
	test_map_one(fd, P(0), a.cap, 0, 1, RW);
	test_map_one(fd, P(1), a.cap, 0, 1, RO);
	f.cap = a.cap;
	exo_expect_err(EBUSY, fd, self->ctx.ft, EXO_IOC_FRAME_FREE, &f,
		       sizeof(f));
	test_unmap_range(fd, P(0), self->psz);
	exo_expect_err(EBUSY, fd, self->ctx.ft, EXO_IOC_FRAME_FREE, &f,
		       sizeof(f));
	EXPECT_TRUE(bound(self, P(1)));
	test_unmap_range(fd, P(1), self->psz);
	test_frame_free(fd, a.cap);

	/* one bound frame of a run holds the whole run */
	if (self->ctx.api.max_order >= 1) {
		test_alloc_contig(fd, 1, &run);
		test_map_one(fd, P(5), run.cap, 1, 1, RW);
		f.cap = run.cap;
		exo_expect_err(EBUSY, fd, self->ctx.ft, EXO_IOC_FRAME_FREE,
			       &f, sizeof(f));
		test_unmap_range(fd, P(5), self->psz);
		test_frame_free(fd, run.cap);
	}
	expect_ctx_vm(fd, 0, 0);
}

/* ------------------------------------------------------------------------
 * STLB: the library OS's page table
 */

static struct exo_upte *__stlb_table(struct __test_metadata *_metadata,
				     FIXTURE_DATA(vm) *self, size_t n)
{
	struct exo_upte *t;

	if (!(self->ctx.api.features & EXO_FEAT_STLB))
		return NULL;
	t = mmap(NULL, n * sizeof(*t), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_NE(MAP_FAILED, t);
	return t == MAP_FAILED ? NULL : t;
}
#define stlb_table(n) __stlb_table(_metadata, self, n)

static uint32_t stlb_entries(FIXTURE_DATA(vm) *self)
{
	return self->ctx.api.stlb_max < 16 ? self->ctx.api.stlb_max : 16;
}

static void set_upte(struct exo_upte *u, uint64_t cap, uint32_t frame,
		     uint32_t flags)
{
	__atomic_store_n(&u->flags, 0, __ATOMIC_RELEASE);
	u->cap = cap;
	u->frame = frame;
	__atomic_store_n(&u->flags, flags, __ATOMIC_RELEASE);
}

/* A valid entry is refilled in the kernel: no upcall, no signal. */
VM_TEST(stlb_refill)
{
	int fd = self->ctx.fd;
	uint32_t n = stlb_entries(self);
	struct exo_upte *t = stlb_table(n);
	struct exo_frame_alloc a;
	struct exo_ctx_info i0, i1;
	struct exo_vpage q;

	if (!t)
		SKIP(return, "no EXO_FEAT_STLB");
	ASSERT_LE(5U, n);
	test_alloc_any(fd, &a);
	test_map_one(fd, P(40), a.cap, 0, 1, RW);
	fill(P(40), self->psz, 9);
	test_stlb(fd, t, P(0), n);
	set_upte(&t[3], a.cap, 0, EXO_UPTE_VALID | RO);

	i0 = ctx_info(fd);
	EXPECT_TRUE(filled(P(3), self->psz, 9));
	i1 = ctx_info(fd);
	EXPECT_LT(i0.refills, i1.refills);
	EXPECT_EQ(i0.upcalls, i1.upcalls);
	EXPECT_EQ(i0.bindings + 1, i1.bindings);
	EXPECT_EQ(0, upcalls_seen());
	q = vpage(self, P(3));
	EXPECT_EQ(a.cap, q.cap);
	EXPECT_EQ(a.pfn, q.pfn);
	EXPECT_EQ(RO, q.prot);

	/* the entry allows reads only */
	expect_upcall(P(3) + 64, true, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	/* a writable entry: the write goes through */
	set_upte(&t[4], a.cap, 0, EXO_UPTE_VALID | RW);
	expect_write(P(4) + 8, 0x77);
	EXPECT_EQ(0x77, P(40)[8]);
	EXPECT_EQ(1, upcalls_seen());

	test_stlb(fd, NULL, NULL, 0);
	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
	munmap(t, n * sizeof(*t));
}

/* Entries that cannot be used upcall like an empty page would. */
VM_TEST(stlb_unusable_entries_upcall)
{
	int fd = self->ctx.fd;
	uint32_t n = stlb_entries(self);
	struct exo_upte *t = stlb_table(n);
	struct exo_frame_alloc a, stale, theirs;
	uint64_t refills;

	if (!t)
		SKIP(return, "no EXO_FEAT_STLB");
	ASSERT_LE(8U, n);
	test_alloc_any(fd, &a);
	test_alloc_any(fd, &stale);
	test_frame_free(fd, stale.cap);
	exo_ctx_open(&self->other, false);
	do {
		test_alloc_any(self->other.fd, &theirs);
	} while (theirs.cap == a.cap);

	test_stlb(fd, t, P(0), n);
	set_upte(&t[1], a.cap, 0, RW);			/* not valid */
	set_upte(&t[2], stale.cap, 0, EXO_UPTE_VALID | RW);
	set_upte(&t[3], a.cap, 1, EXO_UPTE_VALID | RW);	/* past the run */
	set_upte(&t[4], theirs.cap, 0, EXO_UPTE_VALID | RW);
	set_upte(&t[5], a.cap, 0, EXO_UPTE_VALID | EXO_PROT_NONE);
	refills = ctx_info(fd).refills;

	expect_upcall(P(1), false, EXO_FAULT_READ);
	expect_upcall(P(2), false, EXO_FAULT_READ);
	expect_upcall(P(3), false, EXO_FAULT_READ);
	expect_upcall(P(4), false, EXO_FAULT_READ);
	expect_upcall(P(5) + 1, false, EXO_FAULT_READ);
	expect_upcall(P(n), false, EXO_FAULT_READ);	/* past the table */
	expect_ctx_vm(fd, 0, 6);
	EXPECT_EQ(refills, ctx_info(fd).refills);

	test_stlb(fd, NULL, NULL, 0);
	test_frame_free(fd, a.cap);
	munmap(t, n * sizeof(*t));
}

/* Bad registrations: EINVAL, and the registration in force stays. */
VM_TEST(stlb_bad_registration)
{
	int fd = self->ctx.fd;
	uint32_t n = stlb_entries(self), max = self->ctx.api.stlb_max;
	struct exo_upte *t = stlb_table(n), *big;
	struct exo_frame_alloc a;
	struct exo_stlb c = { .size = sizeof(c) };
	size_t big_len = ((size_t)max + 1) * sizeof(*big);

	if (!t)
		SKIP(return, "no EXO_FEAT_STLB");
	test_alloc_any(fd, &a);
	test_stlb(fd, t, P(0), n);
	set_upte(&t[2], a.cap, 0, EXO_UPTE_VALID | RO);

	c.table = (uintptr_t)t + 8;		/* misaligned */
	c.base = (uintptr_t)P(0);
	c.nr_entries = n - 1;
	exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_STLB, &c, sizeof(c));
	c.table = (uintptr_t)t;
	c.base = (uintptr_t)P(0) + 512;		/* unaligned base */
	exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_STLB, &c, sizeof(c));
	c.base = (uintptr_t)P(0);
	c.nr_entries = 0;			/* a table of nothing */
	exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_STLB, &c, sizeof(c));
	c.table = 0;				/* no table, some entries */
	c.nr_entries = 1;
	exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_STLB, &c, sizeof(c));
	big = mmap(NULL, big_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, big);
	c.table = (uintptr_t)big;		/* too many entries */
	c.nr_entries = max + 1;
	exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_STLB, &c, sizeof(c));
	ASSERT_EQ(0, munmap(big, big_len));

	/* the first registration is still in force */
	EXPECT_EQ(0, expect_read(P(2)));
	EXPECT_EQ(0, upcalls_seen());
	EXPECT_EQ(a.cap, vpage(self, P(2)).cap);

	test_stlb(fd, NULL, NULL, 0);
	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
	munmap(t, n * sizeof(*t));
}

/*
 * Unregistering (table 0) ends refills from the table, bindings made from
 * it stay; a new registration replaces the old one.
 */
VM_TEST(stlb_unregister_replace)
{
	int fd = self->ctx.fd;
	uint32_t n = stlb_entries(self);
	struct exo_upte *t = stlb_table(n), *t2 = stlb_table(n);
	struct exo_frame_alloc a;

	if (!t || !t2)
		SKIP(return, "no EXO_FEAT_STLB");
	ASSERT_LE(8U, n);
	test_alloc_any(fd, &a);
	test_stlb(fd, t, P(0), n);
	set_upte(&t[2], a.cap, 0, EXO_UPTE_VALID | RW);
	set_upte(&t[5], a.cap, 0, EXO_UPTE_VALID | RW);
	set_upte(&t[6], a.cap, 0, EXO_UPTE_VALID | RW);
	expect_write(P(2), 0x42);
	EXPECT_EQ(0, upcalls_seen());

	test_stlb(fd, NULL, NULL, 0);
	EXPECT_TRUE(bound(self, P(2)));
	EXPECT_EQ(0x42, expect_read(P(2)));
	expect_upcall(P(5), false, EXO_FAULT_READ);

	/* a new table, whose entry 6 is empty, and entry 7 full */
	set_upte(&t2[7], a.cap, 0, EXO_UPTE_VALID | RO);
	test_stlb(fd, t2, P(0), n);
	expect_upcall(P(6), false, EXO_FAULT_READ);
	EXPECT_EQ(0x42, expect_read(P(7)));
	/* and registering it again over itself */
	test_stlb(fd, t, P(0), n);
	EXPECT_EQ(0x42, expect_read(P(6)));
	expect_ctx_vm(fd, 3, 2);

	test_stlb(fd, NULL, NULL, 0);
	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
	munmap(t, n * sizeof(*t));
	munmap(t2, n * sizeof(*t2));
}

/* ------------------------------------------------------------------------
 * fault events
 */

struct toucher {
	volatile uint8_t *p;
	bool write;
	uint8_t val;
	uint8_t got;
	pid_t tid;
	volatile int started;
	volatile int done;	/* the access completed */
	volatile int sigbus;	/* it took SIGBUS instead */
	struct upcall up;
};

static void *toucher_main(void *arg)
{
	struct toucher *t = arg;

	t->tid = sys_gettid();
	__atomic_store_n(&t->started, 1, __ATOMIC_RELEASE);
	if (access_faults(t->p, t->write, t->val, &t->got)) {
		t->up = tls_last;
		__atomic_store_n(&t->sigbus, 1, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void __start_toucher(struct __test_metadata *_metadata,
			    struct toucher *t, pthread_t *th, void *p,
			    bool write)
{
	memset(t, 0, sizeof(*t));
	t->p = p;
	t->write = write;
	t->val = 0x3c;
	ASSERT_EQ(0, pthread_create(th, NULL, toucher_main, t));
	ASSERT_TRUE(wait_flag(&t->started, 10000));
}
#define start_toucher(t, th, p, write) \
	__start_toucher(_metadata, t, th, p, write)

/* Wait for one event (up to 10 s) and read it. */
static void __read_event(struct __test_metadata *_metadata, int fd,
			 struct exo_fault_event *ev)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct exo_fault_event evs[2];
	ssize_t n;

	ASSERT_EQ(1, poll(&pfd, 1, 10000)) TH_LOG("no fault event came");
	EXPECT_NE(0, pfd.revents & POLLIN);
	/* room for two: whole events only, and only what is there */
	n = read(fd, evs, sizeof(evs));
	ASSERT_EQ((ssize_t)sizeof(*ev), n) TH_LOG("read: %s",
						   n < 0 ? strerror(errno) : "short");
	*ev = evs[0];
}
#define read_event(fd, ev) __read_event(_metadata, fd, ev)

static bool __events_setup(struct __test_metadata *_metadata,
			   FIXTURE_DATA(vm) *self)
{
	uint32_t prev = ~0U;

	if (!(self->ctx.api.features & EXO_FEAT_FAULT_EVENTS))
		return false;
	test_fault_mode(self->ctx.fd, EXO_FAULT_MODE_EVENT, &prev);
	EXPECT_EQ((uint32_t)EXO_FAULT_MODE_SIGNAL, prev);
	test_fault_mode(self->ctx.fd, EXO_FAULT_MODE_EVENT, &prev);
	EXPECT_EQ((uint32_t)EXO_FAULT_MODE_EVENT, prev);
	return true;
}
#define events_setup() __events_setup(_metadata, self)

/* A fault blocks its thread; another thread reads the event and maps. */
VM_TEST(event_blocks_until_mapped)
{
	int fd = self->ctx.fd;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct exo_fault_event ev;
	struct exo_frame_alloc a;
	struct toucher t;
	pthread_t th;

	if (!events_setup())
		SKIP(return, "no EXO_FEAT_FAULT_EVENTS");
	test_alloc_any(fd, &a);
	test_map_one(fd, P(30), a.cap, 0, 1, RW);
	P(30)[40] = 0x99;

	start_toucher(&t, &th, P(2) + 40, false);
	read_event(fd, &ev);
	EXPECT_EQ((uintptr_t)(P(2) + 40), ev.va);
	EXPECT_EQ(EXO_FAULT_READ, ev.fault);
	EXPECT_EQ((uint32_t)t.tid, ev.tid);
	usleep(100000);
	EXPECT_FALSE(t.done) TH_LOG("the toucher did not wait");
	EXPECT_FALSE(t.sigbus);
	EXPECT_EQ(0, poll(&pfd, 1, 0)) TH_LOG("a second event");

	test_map_one(fd, P(2), a.cap, 0, 1, RO);
	EXPECT_TRUE(wait_flag(&t.done, 10000)) TH_LOG("MAP did not wake it");
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0x99, t.got);
	EXPECT_FALSE(t.sigbus);
	EXPECT_EQ(0, upcalls_seen());
	expect_ctx_vm(fd, 2, 1);

	test_fault_mode(fd, EXO_FAULT_MODE_SIGNAL, NULL);
	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
}

/* A write to a read-only binding: WRITE|PROT; PROTECT wakes it. */
VM_TEST(event_protect_wakes)
{
	int fd = self->ctx.fd;
	struct exo_fault_event ev;
	struct exo_frame_alloc a;
	struct toucher t;
	pthread_t th;

	if (!events_setup())
		SKIP(return, "no EXO_FEAT_FAULT_EVENTS");
	test_alloc_any(fd, &a);
	test_map_one(fd, P(3), a.cap, 0, 1, RO);
	test_map_one(fd, P(31), a.cap, 0, 1, RO);

	start_toucher(&t, &th, P(3) + 7, true);
	read_event(fd, &ev);
	EXPECT_EQ((uintptr_t)(P(3) + 7), ev.va);
	EXPECT_EQ(EXO_FAULT_WRITE | EXO_FAULT_PROT, ev.fault);
	EXPECT_EQ((uint32_t)t.tid, ev.tid);
	usleep(50000);
	EXPECT_FALSE(t.done);
	EXPECT_EQ(0, P(31)[7]);

	test_protect_range(fd, P(3), self->psz, RW);
	EXPECT_TRUE(wait_flag(&t.done, 10000)) TH_LOG("PROTECT did not wake it");
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0x3c, P(31)[7]);

	test_fault_mode(fd, EXO_FAULT_MODE_SIGNAL, NULL);
	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
}

/* O_NONBLOCK with nothing pending: EAGAIN, and poll says not readable. */
VM_TEST(event_nonblock_eagain)
{
	int fd = self->ctx.fd;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct exo_fault_event ev;

	if (!events_setup())
		SKIP(return, "no EXO_FEAT_FAULT_EVENTS");
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK));
	EXPECT_EQ(-1, read(fd, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	test_fault_mode(fd, EXO_FAULT_MODE_SIGNAL, NULL);
}

/* A buffer smaller than one event: EINVAL, and the event stays. */
VM_TEST(event_small_buffer)
{
	int fd = self->ctx.fd;
	struct exo_fault_event ev;
	struct exo_frame_alloc a;
	struct toucher t;
	pthread_t th;
	char small[sizeof(ev)];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (!events_setup())
		SKIP(return, "no EXO_FEAT_FAULT_EVENTS");
	test_alloc_any(fd, &a);
	start_toucher(&t, &th, P(4), false);
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	EXPECT_EQ(-1, read(fd, small, sizeof(small) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(fd, small, 1));
	EXPECT_EQ(EINVAL, errno);
	read_event(fd, &ev);
	EXPECT_EQ((uintptr_t)P(4), ev.va);

	test_map_one(fd, P(4), a.cap, 0, 1, RO);
	EXPECT_TRUE(wait_flag(&t.done, 10000));
	ASSERT_EQ(0, pthread_join(th, NULL));
	test_fault_mode(fd, EXO_FAULT_MODE_SIGNAL, NULL);
	test_unmap_range(fd, P(4), self->psz);
	test_frame_free(fd, a.cap);
}

/*
 * FAULT_WAKE: without flags the thread retries (and faults again: a new
 * event); with EXO_WAKE_SIGBUS it takes SIGBUS at the faulting address.
 */
VM_TEST(event_wake)
{
	int fd = self->ctx.fd;
	struct exo_fault_event ev;
	struct toucher t;
	pthread_t th;

	if (!events_setup())
		SKIP(return, "no EXO_FEAT_FAULT_EVENTS");
	start_toucher(&t, &th, P(6) + 100, false);
	read_event(fd, &ev);
	EXPECT_EQ((uintptr_t)(P(6) + 100), ev.va);

	test_fault_wake(fd, 0, P(6), self->psz);
	read_event(fd, &ev);	/* it retried and faulted again */
	EXPECT_EQ((uintptr_t)(P(6) + 100), ev.va);
	EXPECT_EQ(EXO_FAULT_READ, ev.fault);
	EXPECT_EQ((uint32_t)t.tid, ev.tid);
	EXPECT_FALSE(t.done);
	EXPECT_FALSE(t.sigbus);

	/* a wake of another page leaves it asleep */
	test_fault_wake(fd, EXO_WAKE_SIGBUS, P(7), 2 * self->psz);
	usleep(100000);
	EXPECT_FALSE(t.sigbus);

	test_fault_wake(fd, EXO_WAKE_SIGBUS, P(6), self->psz);
	EXPECT_TRUE(wait_flag(&t.sigbus, 10000)) TH_LOG("no SIGBUS");
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_FALSE(t.done);
	EXPECT_EQ((void *)(P(6) + 100), t.up.addr);
	EXPECT_EQ(BUS_ADRERR, t.up.code);
	EXPECT_EQ(EXO_FAULT_READ, t.up.err);
	EXPECT_EQ(t.tid, t.up.tid);

	/* errors */
	test_err_fault_wake(EINVAL, fd, 0, P(6) + 8, self->psz);
	test_err_fault_wake(EINVAL, fd, 0, P(6), 0);
	test_err_fault_wake(EINVAL, fd, 0, P(6), self->psz + 1);
	test_fault_mode(fd, EXO_FAULT_MODE_SIGNAL, NULL);
}

/* FAULT_MODE's fields: a known mode; entry and cookie for UPCALL only. */
VM_TEST(fault_mode_fields)
{
	int fd = self->ctx.fd;
	struct exo_fault_mode m = { .size = sizeof(m) };
	uint32_t prev = ~0U;

	m.mode = EXO_FAULT_MODE_UPCALL + 1;
	exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_FAULT_MODE, &m,
		       sizeof(m));
	m.mode = 0xffffffffU;
	exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_FAULT_MODE, &m,
		       sizeof(m));
	m.mode = EXO_FAULT_MODE_EVENT;
	m.entry = (uintptr_t)self->vma;
	exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_FAULT_MODE, &m,
		       sizeof(m));
	m.entry = 0;
	m.cookie = 1;
	exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_FAULT_MODE, &m,
		       sizeof(m));
	m.mode = EXO_FAULT_MODE_SIGNAL;
	exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_FAULT_MODE, &m,
		       sizeof(m));
	if (self->ctx.api.features & EXO_FEAT_UPCALL) {
		m.mode = EXO_FAULT_MODE_UPCALL;
		m.entry = 0;
		m.cookie = 0;
		exo_expect_err(EINVAL, fd, self->ctx.ft, EXO_IOC_FAULT_MODE,
			       &m, sizeof(m));
	}
	/* nothing changed: still signal mode, and a fault still SIGBUSes */
	test_fault_mode(fd, EXO_FAULT_MODE_SIGNAL, &prev);
	EXPECT_EQ((uint32_t)EXO_FAULT_MODE_SIGNAL, prev);
	expect_upcall(P(1), false, EXO_FAULT_READ);
}

/* ------------------------------------------------------------------------
 * system calls on exo pages
 */

/* A syscall's copy from/to an unbound page fails with EFAULT, no upcall. */
VM_TEST(syscall_efault)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	char buf[16];
	int p[2];
	uint64_t upcalls = ctx_info(fd).upcalls;

	ASSERT_EQ(0, pipe2(p, O_NONBLOCK | O_CLOEXEC));
	test_alloc_any(fd, &a);

	EXPECT_EQ(-1, write(p[1], P(8), 16));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(16, write(p[1], "0123456789abcdef", 16));
	EXPECT_EQ(-1, read(p[0], P(8), 16));
	EXPECT_EQ(EFAULT, errno);
	/* a read-only binding is no destination either */
	test_map_one(fd, P(9), a.cap, 0, 1, RO);
	EXPECT_EQ(-1, read(p[0], P(9), 16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, upcalls_seen());
	EXPECT_EQ(upcalls, ctx_info(fd).upcalls);
	while (read(p[0], buf, sizeof(buf)) > 0)
		;

	/*
	 * Bound: both work, also from a zapped entry (refilled in the
	 * kernel), as far as the binding allows.
	 */
	test_map_one(fd, P(8), a.cap, 0, 1, RW);
	memcpy(P(8), "fedcba9876543210", 16);
	test_protect_range(fd, P(8), self->psz, RO);
	EXPECT_EQ(16, write(p[1], P(8), 16));
	EXPECT_EQ(16, read(p[0], buf, 16));
	EXPECT_EQ(0, memcmp(buf, "fedcba9876543210", 16));
	ASSERT_EQ(16, write(p[1], "0123456789abcdef", 16));
	EXPECT_EQ(-1, read(p[0], P(8), 16));
	EXPECT_EQ(EFAULT, errno);
	test_protect_range(fd, P(8), self->psz, RW);
	EXPECT_EQ(16, read(p[0], P(8), 16));
	EXPECT_EQ(0, memcmp(P(9), "0123456789abcdef", 16));
	EXPECT_EQ(0, upcalls_seen());
	EXPECT_EQ(upcalls, ctx_info(fd).upcalls);

	close(p[0]);
	close(p[1]);
	test_unmap_range(fd, self->vma, self->vma_len);
	test_frame_free(fd, a.cap);
}

/* ------------------------------------------------------------------------
 * many threads at once
 */

#define STRESS_THREADS		4
#define STRESS_PAGES		4
#define STRESS_MS		4000

struct stresser {
	int fd;
	int id;
	uint8_t *base;		/* its own STRESS_PAGES pages */
	size_t psz;
	uint64_t caps[STRESS_PAGES];
	uint64_t iters;
	uint64_t expected;	/* upcalls it caused on purpose */
	int upcalls;		/* upcalls it took */
	int err;		/* first thing that went wrong, 0 if none */
	int err_line;
	uint64_t deadline;
};

#define STRESS_FAIL(s, code)						\
	do {								\
		if (!(s)->err) {					\
			(s)->err = (code);				\
			(s)->err_line = __LINE__;			\
		}							\
		goto out;						\
	} while (0)

static uint64_t stress_word(int id, uint64_t iter, int k)
{
	return ((uint64_t)id << 48) | (iter << 8) | (uint64_t)k;
}

/*
 * Map its pages, check what the last round left in its frames, write a new
 * round, protect read-only, check a write upcalls, restore, unmap, check a
 * read upcalls. The same VMA is shared with every other stresser.
 */
static void *stress_main(void *arg)
{
	struct stresser *s = arg;
	size_t psz = s->psz;
	struct exo_vpage q[STRESS_PAGES];
	uint64_t it, prev;
	int k, rc;

	for (it = 1; now_ms() < s->deadline || it <= 3; it++) {
		for (k = 0; k < STRESS_PAGES; k++) {
			rc = _test_map_one(s->fd, s->base + k * psz,
					   s->caps[k], 0, 1, RW);
			if (rc)
				STRESS_FAIL(s, rc);
		}
		for (k = 0; k < STRESS_PAGES; k++) {
			uint64_t *w = (uint64_t *)(s->base + k * psz);

			prev = it == 1 ? 0 : stress_word(s->id, it - 1, k);
			if (w[0] != prev || w[psz / 8 - 1] != prev)
				STRESS_FAIL(s, 1000 + k);
			w[0] = stress_word(s->id, it, k);
			w[psz / 8 - 1] = w[0];
		}
		rc = _test_protect_range(s->fd, s->base, STRESS_PAGES * psz,
					 RO);
		if (rc)
			STRESS_FAIL(s, rc);
		k = it % STRESS_PAGES;
		s->expected++;
		if (!access_faults(s->base + k * psz + 8, true, 1, NULL) ||
		    tls_last.err != (EXO_FAULT_WRITE | EXO_FAULT_PROT))
			STRESS_FAIL(s, 2000);
		if (*(volatile uint64_t *)(s->base + k * psz) !=
		    stress_word(s->id, it, k))
			STRESS_FAIL(s, 2001);
		rc = _test_protect_range(s->fd, s->base, STRESS_PAGES * psz,
					 RW);
		if (rc)
			STRESS_FAIL(s, rc);
		if (access_faults(s->base + k * psz + 16, true, 2, NULL))
			STRESS_FAIL(s, 2002);
		rc = _test_unmap_range(s->fd, s->base, STRESS_PAGES * psz);
		if (rc)
			STRESS_FAIL(s, rc);
		s->expected++;
		if (!access_faults(s->base + k * psz, false, 0, NULL) ||
		    tls_last.err != EXO_FAULT_READ ||
		    tls_last.addr != s->base + k * psz)
			STRESS_FAIL(s, 2003);
		rc = _test_query(s->fd, s->base, STRESS_PAGES, 0, q);
		if (rc)
			STRESS_FAIL(s, rc);
		for (k = 0; k < STRESS_PAGES; k++)
			if (q[k].state)
				STRESS_FAIL(s, 3000 + k);
		s->iters = it;
	}
out:
	s->upcalls = tls_upcalls;
	return NULL;
}

/* Reads every binding and dirty bit of the VMA while the others work. */
struct observer {
	int fd;
	uint8_t *vma;
	uint32_t pages;
	volatile int stop;
	int err;
	uint64_t rounds;
};

static void *observe_main(void *arg)
{
	struct observer *o = arg;
	struct exo_vpage q[VMA_PAGES];
	uint64_t bm[(VMA_PAGES + 63) / 64];
	int rc;

	while (!o->stop) {
		rc = _test_query(o->fd, o->vma, o->pages,
				 o->rounds % 2 ? EXO_QUERY_CLEAR_ACCESSED : 0,
				 q);
		if (!rc)
			rc = _test_dirty(o->fd, o->vma, o->pages, bm);
		if (rc < 0) {
			o->err = rc;
			break;
		}
		o->rounds++;
	}
	return NULL;
}

VM_TEST_TIMEOUT(stress_threads, 600)
{
	int fd = self->ctx.fd;
	struct stresser s[STRESS_THREADS];
	struct observer o = {
		.fd = fd, .vma = self->vma,
		.pages = STRESS_THREADS * STRESS_PAGES * 2,
	};
	pthread_t th[STRESS_THREADS], oth;
	struct exo_frame_alloc a;
	struct exo_ctx_info i0, i1;
	uint64_t expected = 0, taken = 0, deadline;
	int i, k;

	memset(s, 0, sizeof(s));
	i0 = ctx_info(fd);
	deadline = now_ms() + STRESS_MS;
	for (i = 0; i < STRESS_THREADS; i++) {
		s[i].fd = fd;
		s[i].id = i + 1;
		/* its own pages, a gap of unbound pages between owners */
		s[i].base = P(i * STRESS_PAGES * 2);
		s[i].psz = self->psz;
		s[i].deadline = deadline;
		for (k = 0; k < STRESS_PAGES; k++) {
			test_alloc_any(fd, &a);
			s[i].caps[k] = a.cap;
		}
	}
	ASSERT_EQ(0, pthread_create(&oth, NULL, observe_main, &o));
	for (i = 0; i < STRESS_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, stress_main, &s[i]));
	for (i = 0; i < STRESS_THREADS; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));
	o.stop = 1;
	ASSERT_EQ(0, pthread_join(oth, NULL));

	for (i = 0; i < STRESS_THREADS; i++) {
		EXPECT_EQ(0, s[i].err)
			TH_LOG("thread %d: error %d (%s) at line %d, iteration %" PRIu64,
			       i, s[i].err, s[i].err < 0 ? strerror(-s[i].err) :
			       "check", s[i].err_line, s[i].iters + 1);
		EXPECT_LE(3ULL, s[i].iters);
		EXPECT_EQ((int)s[i].expected, s[i].upcalls);
		expected += s[i].expected;
		taken += s[i].upcalls;
		TH_LOG("thread %d: %" PRIu64 " rounds", i, s[i].iters);
	}
	EXPECT_EQ(0, o.err) TH_LOG("observer: %s", strerror(-o.err));
	EXPECT_LT(0ULL, o.rounds);
	i1 = ctx_info(fd);
	EXPECT_EQ(i0.upcalls + expected, i1.upcalls);
	EXPECT_EQ(taken, (uint64_t)upcalls_seen());
	EXPECT_EQ(0ULL, i1.bindings);
	EXPECT_LE(i0.refills, i1.refills);

	/* every frame holds its owner's last round */
	for (i = 0; i < STRESS_THREADS; i++) {
		for (k = 0; k < STRESS_PAGES; k++) {
			test_map_one(fd, P(70), s[i].caps[k], 0, 1, RO);
			EXPECT_EQ(stress_word(s[i].id, s[i].iters, k),
				  *u64p(P(70)));
			test_unmap_range(fd, P(70), self->psz);
			test_frame_free(fd, s[i].caps[k]);
		}
	}
}

/* ------------------------------------------------------------------------
 * the life of an exo VMA
 */

/* munmap drops the bindings: the frames can be freed. */
VM_TEST(munmap_drops_bindings)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a[3];
	struct exo_vpage q;
	int i;

	for (i = 0; i < 3; i++) {
		test_alloc_any(fd, &a[i]);
		test_map_one(fd, P(i * 2), a[i].cap, 0, 1, RW);
		test_map_one(fd, P(i * 2 + 1), a[i].cap, 0, 1, RO);
		P(i * 2)[0] = i;
	}
	expect_ctx_vm(fd, 6, 0);
	ASSERT_EQ(0, munmap(self->vma, self->vma_len));
	expect_ctx_vm(fd, 0, 0);
	test_err_query(ENXIO, fd, self->vma, 1, 0, &q);
	test_err_map_one(ENXIO, fd, self->vma, a[0].cap, 0, 1, RW);
	self->vma = NULL;
	for (i = 0; i < 3; i++)
		test_frame_free(fd, a[i].cap);
	exo_counters_expect(&self->base, 1, 0);
}

/* close() with a VMA still mapped: it keeps the context until munmap. */
VM_TEST(close_while_vma_mapped)
{
	struct exo_frame_alloc a[2];
	int i;

	for (i = 0; i < 2; i++) {
		test_alloc_any(self->ctx.fd, &a[i]);
		test_map_one(self->ctx.fd, P(i), a[i].cap, 0, 1, RW);
		fill(P(i), self->psz, 20 + i);
	}
	exo_ctx_close(&self->ctx);	/* the fd and the frame table */
	usleep(100000);
	exo_counters_expect(&self->base, 1, 2);

	for (i = 0; i < 2; i++)
		EXPECT_TRUE(filled(P(i), self->psz, 20 + i));
	expect_write(P(1) + 5, 5);
	/* faults still upcall */
	expect_upcall(P(3), false, EXO_FAULT_READ);

	ASSERT_EQ(0, munmap(self->vma, self->vma_len));
	self->vma = NULL;
	exo_counters_expect_baseline(&self->base);
}

struct vm_child_report {
	int err;
	int step;
	uint64_t frames;
};

/*
 * In a child: open a context, bind @n frames in an exo VMA, touch them,
 * report, then exit without cleaning up (@do_exit) or wait to be killed.
 */
static void vm_child(int wfd, int rfd, size_t psz, int n, bool do_exit)
{
	struct vm_child_report r = { 0 };
	struct exo_frame_alloc a;
	uint8_t *p;
	int fd, i, rc;
	char c;

	r.step = 1;
	fd = exo_open_raw(O_CLOEXEC);
	if (fd < 0 || _test_api(fd, EXO_API_VERSION, NULL)) {
		r.err = fd < 0 ? -fd : EIO;
		goto report;
	}
	r.step = 2;
	p = exo_vm_mmap(fd, n * psz, PROT_READ | PROT_WRITE);
	if (!p) {
		r.err = errno;
		goto report;
	}
	for (i = 0; i < n; i++) {
		r.step = 3 + i;
		rc = _test_alloc_any(fd, &a);
		if (!rc)
			rc = _test_map_one(fd, p + i * psz, a.cap, 0, 1, RW);
		if (rc) {
			r.err = -rc;
			goto report;
		}
		p[i * psz] = i;
	}
	r.frames = n;
	r.step = 0;
report:
	if (exo_write_full(wfd, &r, sizeof(r)))
		_exit(2);
	if (r.err)
		_exit(1);
	if (do_exit) {
		if (read(rfd, &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	for (;;)
		pause();
}

static void __child_mapped_ends(struct __test_metadata *_metadata,
				FIXTURE_DATA(vm) *self, bool do_exit)
{
	struct vm_child_report r = { 0 };
	int ready[2], go[2], status;

	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	self->child = exo_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		close(ready[0]);
		close(go[1]);
		vm_child(ready[1], go[0], self->psz, 8, do_exit);
		_exit(4);
	}
	close(ready[1]);
	close(go[0]);
	ASSERT_EQ(0, exo_read_full(ready[0], &r, sizeof(r)));
	ASSERT_EQ(0, r.err) TH_LOG("child step %d: %s", r.step,
				   strerror(r.err));
	exo_counters_expect(&self->base, 2, 8);
	if (do_exit) {
		ASSERT_EQ(0, exo_write_full(go[1], "g", 1));
	} else {
		ASSERT_EQ(0, kill(self->child, SIGKILL));
	}
	status = exo_wait(self->child);
	self->child = 0;
	if (do_exit) {
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	} else {
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
	close(ready[0]);
	close(go[1]);
	exo_counters_expect(&self->base, 1, 0);
}

VM_TEST(exit_while_mapped)
{
	__child_mapped_ends(_metadata, self, true);
}

VM_TEST(kill9_while_mapped)
{
	__child_mapped_ends(_metadata, self, false);
}

/*
 * fork: the child has nothing at the exo VMA's address (SIGSEGV), and its
 * calls on the inherited fd get EIO; the parent's bindings are untouched.
 */
VM_TEST(fork_child)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	struct exo_ctx_info i0, i1;
	struct exo_map_entry e;
	struct exo_vrange r;
	struct exo_vpage q;
	struct exo_upte u[1];
	uint64_t bm;
	void *m;
	int status, bad;

	test_alloc_any(fd, &a);
	test_map_one(fd, P(0), a.cap, 0, 1, RW);
	fill(P(0), self->psz, 77);
	i0 = ctx_info(fd);

	self->child = exo_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		no_core_dumps();
		signal(SIGSEGV, SIG_DFL);
		(void)*(volatile uint8_t *)P(0);
		_exit(0);
	}
	status = exo_wait(self->child);
	self->child = 0;
	ASSERT_TRUE(WIFSIGNALED(status))
		TH_LOG("the child read the parent's exo page");
	EXPECT_EQ(SIGSEGV, WTERMSIG(status));

	self->child = exo_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		bad = 0;
		e = entry(P(1), a.cap, 0, 1, RW);
		r.va = (uintptr_t)P(0);
		r.len = self->psz;
		if (_test_map(fd, &e, 1) != -EIO)
			bad |= 1 << 0;
		if (_test_unmap(fd, &r, 1) != -EIO)
			bad |= 1 << 1;
		if (_test_protect(fd, &r, 1, RO) != -EIO)
			bad |= 1 << 2;
		if (_test_query(fd, P(0), 1, 0, &q) != -EIO)
			bad |= 1 << 3;
		if (_test_dirty(fd, P(0), 1, &bm) != -EIO)
			bad |= 1 << 4;
		if (_test_stlb(fd, u, P(0), 1) != -EIO)
			bad |= 1 << 5;
		if (_test_fault_mode(fd, EXO_FAULT_MODE_EVENT, NULL) != -EIO ||
		    _test_fault_wake(fd, 0, P(0), self->psz) != -EIO ||
		    read(fd, &q, sizeof(q)) != -1 || errno != EIO)
			bad |= 1 << 6;
		m = mmap(NULL, self->psz, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, EXO_MMAP_VM);
		if (m != MAP_FAILED || errno != EIO)
			bad |= 1 << 7;
		_exit(bad);
	}
	status = exo_wait(self->child);
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("calls that did not fail with EIO (bit: 0 map, 1 unmap, 2 protect, 3 query, 4 dirty, 5 stlb, 6 fault_mode, fault_wake or read, 7 mmap): %#x",
		       WEXITSTATUS(status));

	/* the parent's VMA is as it was */
	i1 = ctx_info(fd);
	EXPECT_EQ(i0.bindings, i1.bindings);
	EXPECT_EQ(i0.upcalls, i1.upcalls);
	q = vpage(self, P(0));
	EXPECT_EQ(a.cap, q.cap);
	EXPECT_EQ(RW, q.prot);
	EXPECT_TRUE(filled(P(0), self->psz, 77));
	expect_write(P(0), 1);
	EXPECT_FALSE(bound(self, P(1)));

	test_unmap_range(fd, P(0), self->psz);
	test_frame_free(fd, a.cap);
}

/* mprotect(2) and mremap(2) of an exo VMA are refused; it stays intact. */
VM_TEST(mprotect_mremap_refused)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	void *spot, *r;

	test_alloc_any(fd, &a);
	test_map_one(fd, P(0), a.cap, 0, 1, RW);
	fill(P(0), self->psz, 5);

	EXPECT_EQ(-1, mprotect(self->vma, self->vma_len, PROT_READ));
	EXPECT_EQ(-1, mprotect(self->vma, self->vma_len, PROT_NONE));
	EXPECT_EQ(-1, mprotect(self->vma, self->psz,
			       PROT_READ | PROT_WRITE | PROT_EXEC));
	EXPECT_EQ(-1, mprotect(P(1), self->psz, PROT_READ));

	r = mremap(self->vma, self->vma_len, 2 * self->vma_len,
		   MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, r);
	if (r != MAP_FAILED)
		self->vma = r;
	spot = mmap(NULL, self->vma_len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, spot);
	r = mremap(self->vma, self->vma_len, self->vma_len,
		   MREMAP_MAYMOVE | MREMAP_FIXED, spot);
	EXPECT_EQ(MAP_FAILED, r);
	if (r != MAP_FAILED)
		self->vma = r;
	else
		munmap(spot, self->vma_len);

	/* still the same binding, rights and contents */
	EXPECT_EQ(RW, vpage(self, P(0)).prot);
	EXPECT_TRUE(filled(P(0), self->psz, 5));
	expect_write(P(0) + 3, 3);
	expect_upcall(P(1), false, EXO_FAULT_READ);
	expect_ctx_vm(fd, 1, 1);

	test_unmap_range(fd, P(0), self->psz);
	test_frame_free(fd, a.cap);
}

VM_TEST(map_private_refused)
{
	void *p = mmap(NULL, self->psz, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		       self->ctx.fd, EXO_MMAP_VM);

	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	if (p != MAP_FAILED)
		munmap(p, self->psz);
}

/* ctx_info's VM counters, step by step. */
/*
 * An UNMAP long enough to be preempted mid-walk must still remove every
 * binding. (It once resumed its walk with xas_pause() after freeing an
 * emptied xarray node, which skipped the next 63 pages.) Hogs on the same
 * CPU make the kernel ask for a reschedule during the walks. Rounds stop
 * after PREEMPT_SECONDS: a debug kernel does far fewer, the stock one all
 * (the old walk failed by round 45 there).
 */
#define PREEMPT_ALIASES	16
#define PREEMPT_ROUNDS	150
#define PREEMPT_SECONDS	40

static volatile int hog_stop;

static void *hog_main(void *arg)
{
	(void)arg;
	while (!hog_stop)
		;
	return NULL;
}

VM_TEST_TIMEOUT(unmap_preempted, 300)
{
	struct exo_map_entry e[PREEMPT_ALIASES];
	size_t run = 1024, len = PREEMPT_ALIASES * run * self->psz;
	struct exo_frame_alloc a;
	pthread_t hogs[2];
	uint64_t left = 0;
	cpu_set_t cpus;
	int i, round;
	time_t start;
	uint8_t *va;

	test_frame_alloc(self->ctx.fd, EXO_ALLOC_CONTIG, 10, 0, 0, &a);
	va = exo_vm_mmap(self->ctx.fd, len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, va);
	for (i = 0; i < PREEMPT_ALIASES; i++)
		e[i] = entry(va + i * run * self->psz, a.cap, 0, run,
			     EXO_PROT_READ | EXO_PROT_WRITE);
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));
	hog_stop = 0;
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&hogs[i], NULL, hog_main, NULL));
	start = time(NULL);
	for (round = 0; round < PREEMPT_ROUNDS && !left &&
	     time(NULL) - start < PREEMPT_SECONDS; round++) {
		if (_test_map(self->ctx.fd, e, PREEMPT_ALIASES) ||
		    _test_unmap_range(self->ctx.fd, va, len)) {
			left = UINT64_MAX;
			break;
		}
		left = ctx_info(self->ctx.fd).bindings;
	}
	hog_stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(hogs[i], NULL);
	EXPECT_EQ(0ULL, left) TH_LOG("round %d", round);
	TH_LOG("%d rounds of %d bindings", round, PREEMPT_ALIASES * (int)run);
	EXPECT_EQ(0, munmap(va, len));
	EXPECT_EQ(0, _test_frame_free(self->ctx.fd, a.cap));
}

VM_TEST(ctx_info_counters)
{
	int fd = self->ctx.fd;
	struct exo_frame_alloc a;
	struct exo_ctx_info i;
	struct exo_map_entry e[3];
	int k;

	i = ctx_info(fd);
	EXPECT_EQ(0ULL, i.bindings);
	EXPECT_EQ(0ULL, i.refills);
	EXPECT_EQ(0ULL, i.upcalls);

	test_alloc_any(fd, &a);
	for (k = 0; k < 3; k++)
		e[k] = entry(P(k), a.cap, 0, 1, RW);
	test_map(fd, e, 3);
	expect_read(P(0));	/* installed eagerly: no fault */
	i = ctx_info(fd);
	EXPECT_EQ(3ULL, i.bindings);
	EXPECT_EQ(0ULL, i.refills) TH_LOG("a MAP'd page faulted");
	EXPECT_EQ(0ULL, i.upcalls);

	test_protect_range(fd, P(0), 3 * self->psz, RO);
	expect_read(P(1));	/* zapped: one refill */
	i = ctx_info(fd);
	EXPECT_EQ(1ULL, i.refills);
	EXPECT_EQ(0ULL, i.upcalls);
	expect_upcall(P(1), true, EXO_FAULT_WRITE | EXO_FAULT_PROT);
	i = ctx_info(fd);
	EXPECT_EQ(1ULL, i.refills);
	EXPECT_EQ(1ULL, i.upcalls);

	test_unmap_range(fd, P(0), self->psz);
	expect_upcall(P(0), false, EXO_FAULT_READ);
	i = ctx_info(fd);
	EXPECT_EQ(2ULL, i.bindings);
	EXPECT_EQ(2ULL, i.upcalls);

	/* counters are per context */
	exo_ctx_open(&self->other, false);
	i = ctx_info(self->other.fd);
	EXPECT_EQ(0ULL, i.bindings);
	EXPECT_EQ(0ULL, i.refills);
	EXPECT_EQ(0ULL, i.upcalls);

	test_unmap_range(fd, self->vma, self->vma_len);
	EXPECT_EQ(0ULL, ctx_info(fd).bindings);
	EXPECT_EQ(2ULL, ctx_info(fd).upcalls);
	test_frame_free(fd, a.cap);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test_harness_run(argc, argv);
}
