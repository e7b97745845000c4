// SPDX-License-Identifier: GPL-2.0
/*
 * libexo's VM layer: managed regions (exo_vm_create), the pager under a
 * frame budget with every replacement policy, the user-level page table's
 * refills in the kernel, Appel & Li's primitives (TRAP, PROT1, PROTN,
 * UNPROT, DIRTY, MAP2), the fault thread, and teardown.
 *
 * Data goes through eviction and comes back byte for byte: every test that
 * writes keeps a shadow copy in ordinary memory and compares.
 */
#include <pthread.h>
#include <setjmp.h>
#include <sys/sysmacros.h>

#include <libexo.h>

#include "exo_util.h"

#define NPAGES		64
#define BUDGET		8
#define VM_RW		(EXO_PROT_READ | EXO_PROT_WRITE)

/* What every fixture here holds: one context and at most one region. */
struct vmfix {
	struct exo *exo;
	struct exo_vm *vm;
	struct exo_counters base;
	size_t psz;
};

static void __vmfix_setup(struct __test_metadata *_metadata, struct vmfix *f)
{
	int ret;

	f->psz = sysconf(_SC_PAGESIZE);
	exo_counters_read(&f->base);
	ret = exo_open(&f->exo);
	ASSERT_EQ(0, ret) TH_LOG("exo_open: %s", strerror(-ret));
	ASSERT_NE(0ULL, exo_api(f->exo)->features & EXO_FEAT_VM)
		TH_LOG("the module does not advertise EXO_FEAT_VM");
}

static void __vmfix_teardown(struct __test_metadata *_metadata,
			     struct vmfix *f)
{
	if (f->vm)
		EXPECT_EQ(0, exo_vm_destroy(f->vm));
	exo_close(f->exo);
	exo_counters_expect_baseline(&f->base);
}

/* Plain tests. */
FIXTURE(libvm) {
	struct vmfix f;
};
FIXTURE_SETUP(libvm) { __vmfix_setup(_metadata, &self->f); }
FIXTURE_TEARDOWN(libvm) { __vmfix_teardown(_metadata, &self->f); }

/* The pager's tests, once per replacement policy and fault mode. */
FIXTURE(pager) {
	struct vmfix f;
};
FIXTURE_VARIANT(pager) {
	uint32_t policy;
	uint32_t mode;
};
FIXTURE_VARIANT_ADD(pager, clock) {
	.policy = EXO_VM_POLICY_CLOCK, .mode = EXO_VM_FAULT_SIGNAL,
};
FIXTURE_VARIANT_ADD(pager, lru) {
	.policy = EXO_VM_POLICY_LRU, .mode = EXO_VM_FAULT_SIGNAL,
};
FIXTURE_VARIANT_ADD(pager, fifo) {
	.policy = EXO_VM_POLICY_FIFO, .mode = EXO_VM_FAULT_SIGNAL,
};
FIXTURE_VARIANT_ADD(pager, custom) {
	.policy = EXO_VM_POLICY_CUSTOM, .mode = EXO_VM_FAULT_SIGNAL,
};
FIXTURE_VARIANT_ADD(pager, clock_thread) {
	.policy = EXO_VM_POLICY_CLOCK, .mode = EXO_VM_FAULT_THREAD,
};
FIXTURE_VARIANT_ADD(pager, custom_thread) {
	.policy = EXO_VM_POLICY_CUSTOM, .mode = EXO_VM_FAULT_THREAD,
};
FIXTURE_VARIANT_ADD(pager, clock_upcall) {
	.policy = EXO_VM_POLICY_CLOCK, .mode = EXO_VM_FAULT_UPCALL,
};
FIXTURE_SETUP(pager) { __vmfix_setup(_metadata, &self->f); }
FIXTURE_TEARDOWN(pager) { __vmfix_teardown(_metadata, &self->f); }

/* Appel & Li's primitives, with each fault mode. */
FIXTURE(prim) {
	struct vmfix f;
};
FIXTURE_VARIANT(prim) {
	uint32_t mode;
};
FIXTURE_VARIANT_ADD(prim, signal) {
	.mode = EXO_VM_FAULT_SIGNAL,
};
FIXTURE_VARIANT_ADD(prim, thread) {
	.mode = EXO_VM_FAULT_THREAD,
};
FIXTURE_VARIANT_ADD(prim, upcall) {
	.mode = EXO_VM_FAULT_UPCALL,
};
FIXTURE_SETUP(prim) { __vmfix_setup(_metadata, &self->f); }
FIXTURE_TEARDOWN(prim) { __vmfix_teardown(_metadata, &self->f); }

/* The tests' custom policy: the most recently loaded page (MRU). */
struct mru {
	volatile unsigned int calls;
	volatile uint32_t max_nr;
};

/* Upcalls are x86-64's: elsewhere the upcall variants have nothing to test. */
#define NEED_MODE(mode)							\
	do {								\
		if ((mode) == EXO_VM_FAULT_UPCALL &&			\
		    !(exo_api(self->f.exo)->features & EXO_FEAT_UPCALL)) \
			SKIP(return, "no EXO_FEAT_UPCALL (x86-64 only)"); \
	} while (0)

static uint32_t mru_victim(struct exo_vm *vm, const struct exo_vm_candidate *c,
			   uint32_t nr, void *arg)
{
	struct mru *m = arg;
	uint32_t i, best = 0;

	(void)vm;
	m->calls++;
	if (nr > m->max_nr)
		m->max_nr = nr;
	for (i = 1; i < nr; i++)
		if (c[i].loaded > c[best].loaded)
			best = i;
	return best;
}

static struct mru default_mru;

/* A region of @npages pages with these options; teardown destroys it. */
static struct exo_vm *__vm_new(struct __test_metadata *_metadata,
			       struct vmfix *f, size_t npages,
			       uint32_t budget, uint32_t policy, uint32_t mode,
			       exo_vm_victim_fn fn, void *arg)
{
	EXO_VM_OPTS(o, .len = npages * f->psz, .max_frames = budget,
		    .policy = policy, .fault_mode = mode,
		    .choose_victim = fn, .victim_arg = arg);
	int ret;

	/* The custom policy, unless the test brings its own. */
	if (policy == EXO_VM_POLICY_CUSTOM && !fn) {
		o.choose_victim = mru_victim;
		o.victim_arg = &default_mru;
	}
	ret = exo_vm_create(f->exo, &o, &f->vm);
	if (ret)
		f->vm = NULL;
	EXPECT_EQ(0, ret) TH_LOG("exo_vm_create: %s", strerror(-ret));
	return f->vm;
}
#define vm_new(n, budget, policy, mode, fn, arg) \
	__vm_new(_metadata, &self->f, n, budget, policy, mode, fn, arg)

static void __vm_stats(struct __test_metadata *_metadata, struct exo_vm *vm,
		       struct exo_vm_stats *st)
{
	ASSERT_EQ(0, exo_vm_stats(vm, st));
}
#define vm_stats(vm, st) __vm_stats(_metadata, vm, st)

static void __ctx(struct __test_metadata *_metadata, struct exo *exo,
		  struct exo_ctx_info *info)
{
	ASSERT_EQ(0, exo_ctx_info(exo, info));
}
#define ctx(info) __ctx(_metadata, self->f.exo, info)

/* Is the page at @va bound, per the module? */
static int page_bound(struct exo *exo, const volatile void *va)
{
	struct exo_vpage vp;
	int ret;

	ret = exo_vma_query(exo, (void *)va, 1, 0, &vp);
	if (ret)
		return ret;
	return !!(vp.state & EXO_VPAGE_BOUND);
}

/* The protection of the binding at @va; -1 if unbound. */
static int page_prot(struct exo *exo, const volatile void *va)
{
	struct exo_vpage vp;

	if (exo_vma_query(exo, (void *)va, 1, 0, &vp) ||
	    !(vp.state & EXO_VPAGE_BOUND))
		return -1;
	return vp.prot;
}

/*
 * Random writes all over the region (which evicts and pages back in under
 * the budget), then a check of every byte, twice: a read-only pass must
 * write out at most what was dirty and resident, and the next none.
 */
static void __roundtrip(struct __test_metadata *_metadata, struct exo_vm *vm,
			size_t psz, size_t npages, uint32_t budget,
			unsigned int writes, uint64_t seed, uint8_t *keep)
{
	volatile uint8_t *mem = exo_vm_base(vm);
	struct exo_vm_stats st0, st1, st2;
	size_t len = npages * psz, i;
	uint8_t *shadow = keep;
	unsigned int w;
	uint64_t r;

	/* @keep: the region's contents so far, kept up to date; else zeros. */
	if (!shadow)
		shadow = calloc(1, len);
	ASSERT_NE(NULL, shadow);
	for (w = 0; w < writes; w++) {
		r = exo_rand64(&seed);
		i = (size_t)(r % len);
		mem[i] = (uint8_t)(r >> 56);
		shadow[i] = (uint8_t)(r >> 56);
		/* Sometimes a run, so some pages are written a lot. */
		if (!(w % 16)) {
			i &= ~(psz - 1);
			memset((void *)&mem[i], (int)(r >> 8) & 0xff, 64);
			memset(&shadow[i], (int)(r >> 8) & 0xff, 64);
		}
	}
	ASSERT_EQ(0, exo_vm_stats(vm, &st0));
	EXPECT_GE((uint64_t)budget, st0.frames);
	for (i = 0; i < len; i++) {
		if (mem[i] != shadow[i]) {
			ASSERT_EQ(shadow[i], mem[i])
				TH_LOG("byte %zu (page %zu) differs", i,
				       i / psz);
		}
	}
	ASSERT_EQ(0, exo_vm_stats(vm, &st1));
	for (i = 0; i < len; i += 512)
		ASSERT_EQ(shadow[i], mem[i]);
	ASSERT_EQ(0, exo_vm_stats(vm, &st2));
	if (!keep)
		free(shadow);

	EXPECT_LT(0U, st0.evictions);
	EXPECT_LT(0U, st0.write_outs);
	EXPECT_LT(0U, st0.page_ins);
	EXPECT_GE((uint64_t)budget, st2.frames);
	EXPECT_GE((uint64_t)budget, st2.resident);
	/* Clean pages are never written out. */
	EXPECT_GE((uint64_t)budget, st1.write_outs - st0.write_outs);
	EXPECT_EQ(st1.write_outs, st2.write_outs);
	EXPECT_LT(st1.evictions, st2.evictions);
	TH_LOG("faults %" PRIu64 " evictions %" PRIu64 " write-outs %" PRIu64
	       " page-ins %" PRIu64 " zero-fills %" PRIu64, st2.faults,
	       st2.evictions, st2.write_outs, st2.page_ins, st2.zero_fills);
}
#define roundtrip(vm, npages, budget, writes, seed) \
	__roundtrip(_metadata, vm, self->f.psz, npages, budget, writes, seed, \
		    NULL)
#define roundtrip_keep(vm, npages, budget, writes, seed, keep) \
	__roundtrip(_metadata, vm, self->f.psz, npages, budget, writes, seed, \
		    keep)

/* Budget 8, 64 pages, random writes, every byte back: for each policy. */
TEST_F_TIMEOUT(pager, pager_roundtrip, 240)
{
	struct mru m = { 0 };
	struct exo_vm_stats st;
	struct exo_vm *vm;
	bool custom = variant->policy == EXO_VM_POLICY_CUSTOM;

	NEED_MODE(variant->mode);

	vm = vm_new(NPAGES, BUDGET, variant->policy, variant->mode,
		    custom ? mru_victim : NULL, custom ? &m : NULL);
	ASSERT_NE(NULL, vm);
	roundtrip(vm, NPAGES, BUDGET, 3000, 0x9e3779b97f4a7c15ULL);
	vm_stats(vm, &st);
	if (custom) {
		/* Every eviction asked the application, about every frame. */
		EXPECT_EQ(st.evictions, (uint64_t)m.calls);
		EXPECT_EQ((uint32_t)BUDGET, m.max_nr);
	}
}

/* Several threads fault at once on their own pages of one region. */
struct worker {
	volatile uint8_t *mem;
	size_t first, npages, psz;
	uint64_t seed;
	int bad;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	size_t len = w->npages * w->psz, i;
	uint8_t *shadow = calloc(1, len);
	unsigned int k;
	uint64_t r;

	if (!shadow) {
		w->bad = -1;
		return NULL;
	}
	for (k = 0; k < 1500; k++) {
		r = exo_rand64(&w->seed);
		i = (size_t)(r % len);
		w->mem[w->first * w->psz + i] = (uint8_t)(r >> 56);
		shadow[i] = (uint8_t)(r >> 56);
	}
	for (i = 0; i < len; i++)
		if (w->mem[w->first * w->psz + i] != shadow[i])
			w->bad++;
	free(shadow);
	return NULL;
}

TEST_F_TIMEOUT(pager, pager_threads, 240)
{
	struct worker w[4];
	pthread_t t[4];
	struct exo_vm *vm;
	int i;

	NEED_MODE(variant->mode);

	vm = vm_new(NPAGES, BUDGET, variant->policy, variant->mode, NULL,
		    NULL);
	ASSERT_NE(NULL, vm);
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){
			.mem = exo_vm_base(vm), .first = (size_t)i * 16,
			.npages = 16, .psz = self->f.psz, .seed = 7 + i,
		};
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_run, &w[i]));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, w[i].bad) TH_LOG("thread %d: %d bytes differ",
					      i, w[i].bad);
	}
}

/* A custom policy is asked, with every resident page, and obeyed. */
struct pick {
	volatile unsigned int calls;
	volatile uint32_t nr;
	volatile uint64_t want;		/* the page to evict */
	volatile uint64_t seen;		/* bit per candidate page */
};

static uint32_t pick_victim(struct exo_vm *vm, const struct exo_vm_candidate *c,
			    uint32_t nr, void *arg)
{
	struct pick *p = arg;
	uint32_t i, ret = nr;	/* out of range unless found */

	p->calls++;
	p->nr = nr;
	for (i = 0; i < nr; i++) {
		p->seen |= 1ULL << c[i].page;
		if ((char *)c[i].addr !=
		    (char *)exo_vm_base(vm) + c[i].page * 4096)
			p->seen |= 1ULL << 63;
		if (c[i].page == p->want)
			ret = i;
	}
	return ret;
}

TEST_F(libvm, custom_policy_consulted)
{
	struct pick p = { .want = 2 };
	volatile char *mem;
	struct exo_vm_stats st;
	struct exo_vm *vm;
	int i;

	if (self->f.psz != 4096)
		SKIP(return, "page size %zu", self->f.psz);
	vm = vm_new(16, 4, EXO_VM_POLICY_CUSTOM, EXO_VM_FAULT_SIGNAL,
		    pick_victim, &p);
	ASSERT_NE(NULL, vm);
	mem = exo_vm_base(vm);
	for (i = 0; i < 4; i++)
		mem[i * self->f.psz] = (char)(i + 1);
	EXPECT_EQ(0U, p.calls);
	mem[10 * self->f.psz] = 11;
	EXPECT_EQ(1U, p.calls);
	EXPECT_EQ(4U, p.nr);
	EXPECT_EQ(0xfULL, p.seen);
	vm_stats(vm, &st);
	EXPECT_EQ(1U, st.evictions);
	EXPECT_EQ(0, page_bound(self->f.exo, (char *)mem + 2 * self->f.psz));
	for (i = 0; i < 4; i++) {
		if (i != 2)
			EXPECT_EQ(1, page_bound(self->f.exo,
						mem + i * self->f.psz));
	}
	/* The evicted page comes back with its data, evicting another. */
	p.want = 3;
	EXPECT_EQ(3, mem[2 * self->f.psz]);
	EXPECT_EQ(2U, p.calls);
	EXPECT_EQ(0, page_bound(self->f.exo, mem + 3 * self->f.psz));
	/* Page 2, read back, is clean: evicting it writes nothing. */
	p.want = 2;
	EXPECT_EQ(4, mem[3 * self->f.psz]);
	EXPECT_EQ(0, page_bound(self->f.exo, mem + 2 * self->f.psz));
	vm_stats(vm, &st);
	EXPECT_EQ(3U, st.evictions);
	EXPECT_EQ(2U, st.page_ins);
	EXPECT_EQ(2U, st.write_outs);
}

/*
 * The page table libexo registers refills in the kernel: a page's first
 * touch is one upcall, and after its PTE is zapped (DIRTY write-protects)
 * the next touch is a refill with no upcall.
 */
TEST_F(libvm, stlb_refill_without_upcall)
{
	struct exo_ctx_info a, b, c;
	uint64_t bm[1];
	volatile char *mem;
	struct exo_vm *vm;

	if (!(exo_api(self->f.exo)->features & EXO_FEAT_STLB))
		SKIP(return, "the module does not advertise EXO_FEAT_STLB");
	vm = vm_new(8, 0, EXO_VM_POLICY_CLOCK, EXO_VM_FAULT_SIGNAL, NULL,
		    NULL);
	ASSERT_NE(NULL, vm);
	mem = exo_vm_base(vm);
	ctx(&a);
	mem[0] = 1;		/* upcall, then bound from the table */
	ctx(&b);
	EXPECT_EQ(a.upcalls + 1, b.upcalls);
	EXPECT_LE(a.refills + 1, b.refills);
	EXPECT_EQ(a.bindings + 1, b.bindings);
	EXPECT_EQ(1, exo_vm_dirty(vm, (void *)mem, 1, bm));
	mem[1] = 2;		/* zapped by DIRTY: refilled in the kernel */
	EXPECT_EQ(2, mem[1]);
	ctx(&c);
	EXPECT_EQ(b.upcalls, c.upcalls);
	EXPECT_LT(b.refills, c.refills);
}

/*
 * TRAP + PROT1 + UNPROT: Appel & Li's protection fault handling. What the
 * handler records is volatile: it changes behind a plain store's back.
 */
static volatile struct {
	unsigned int calls;
	void *addr;
	uint32_t fault;
	pid_t tid;
	int unprot;		/* exo_vm_unprot's return */
	int refuse;
} trap;

static int trap_unprot(struct exo_vm *vm, void *addr, uint32_t fault,
		       void *arg)
{
	size_t psz = *(size_t *)arg;

	trap.calls++;
	trap.addr = addr;
	trap.fault = fault;
	trap.tid = (pid_t)syscall(SYS_gettid);
	if (trap.refuse)
		return -1;
	trap.unprot = exo_vm_unprot(vm, (void *)((uintptr_t)addr & ~(psz - 1)),
				    1);
	return 0;
}

TEST_F(prim, trap_prot1_unprot)
{
	struct exo_ctx_info a, b;
	volatile char *mem, *p;
	struct exo_vm_stats st;
	struct exo_vm *vm;

	NEED_MODE(variant->mode);

	vm = vm_new(16, 0, EXO_VM_POLICY_CLOCK, variant->mode, NULL, NULL);
	ASSERT_NE(NULL, vm);
	memset((void *)&trap, 0, sizeof(trap));
	ASSERT_EQ(0, exo_vm_trap(vm, trap_unprot, &self->f.psz));
	mem = exo_vm_base(vm);
	p = mem + 3 * self->f.psz;
	p[0] = 7;

	/* PROT1 read-only: reads pass, a write traps, is let through. */
	ASSERT_EQ(0, exo_vm_prot1(vm, (void *)p, EXO_PROT_READ));
	EXPECT_EQ((int)EXO_PROT_READ, page_prot(self->f.exo, p));
	EXPECT_EQ(7, p[0]);
	EXPECT_EQ(0U, trap.calls);
	p[100] = 42;
	EXPECT_EQ(1U, trap.calls);
	EXPECT_EQ((void *)(p + 100), trap.addr);
	EXPECT_EQ(EXO_FAULT_WRITE | EXO_FAULT_PROT, trap.fault);
	EXPECT_EQ(0, trap.unprot);
	EXPECT_EQ(42, p[100]);
	EXPECT_EQ((int)VM_RW, page_prot(self->f.exo, p));
	/* The fault thread runs the handler, or the faulting thread does. */
	if (variant->mode == EXO_VM_FAULT_THREAD) {
		EXPECT_NE((pid_t)syscall(SYS_gettid), trap.tid);
	} else {
		EXPECT_EQ((pid_t)syscall(SYS_gettid), trap.tid);
	}

	/* PROT1 none: a read traps too. */
	ASSERT_EQ(0, exo_vm_prot1(vm, (void *)p, EXO_PROT_NONE));
	ctx(&a);
	EXPECT_EQ(42, p[100]);
	ctx(&b);
	EXPECT_EQ(2U, trap.calls);
	/* UNPROT installed the PTE the protection zapped: no refill. */
	EXPECT_EQ(a.upcalls + 1, b.upcalls);
	EXPECT_EQ(a.refills, b.refills);
	EXPECT_EQ((void *)(p + 100), trap.addr);
	EXPECT_EQ(EXO_FAULT_READ | EXO_FAULT_PROT, trap.fault);

	/* A page never touched, protected: first touch pages in, traps. */
	ASSERT_EQ(0, exo_vm_prot1(vm, (void *)(mem + 9 * self->f.psz),
				  EXO_PROT_READ));
	EXPECT_EQ(0, mem[9 * self->f.psz]);
	EXPECT_EQ(2U, trap.calls);
	mem[9 * self->f.psz + 1] = 5;
	EXPECT_EQ(3U, trap.calls);
	EXPECT_EQ(5, mem[9 * self->f.psz + 1]);
	vm_stats(vm, &st);
	EXPECT_EQ(3U, st.traps);
}

/* PROTN: n pages in one call; pages around them keep their rights. */
TEST_F(prim, protn)
{
	volatile char *mem;
	struct exo_vm *vm;
	int i;

	NEED_MODE(variant->mode);

	vm = vm_new(16, 0, EXO_VM_POLICY_CLOCK, variant->mode, NULL, NULL);
	ASSERT_NE(NULL, vm);
	memset((void *)&trap, 0, sizeof(trap));
	ASSERT_EQ(0, exo_vm_trap(vm, trap_unprot, &self->f.psz));
	mem = exo_vm_base(vm);
	for (i = 0; i < 16; i++)
		mem[i * self->f.psz] = (char)i;
	ASSERT_EQ(0, exo_vm_protn(vm, (void *)(mem + 4 * self->f.psz), 8,
				  EXO_PROT_NONE));
	for (i = 0; i < 16; i++) {
		EXPECT_EQ(i >= 4 && i < 12 ? (int)EXO_PROT_NONE : (int)VM_RW,
			  page_prot(self->f.exo, mem + i * self->f.psz))
			TH_LOG("page %d", i);
	}
	for (i = 0; i < 16; i++)
		EXPECT_EQ((char)i, mem[i * self->f.psz]);
	EXPECT_EQ(8U, trap.calls);
	EXPECT_EQ(-EINVAL, exo_vm_protn(vm, (void *)(mem + 9 * self->f.psz), 8,
					EXO_PROT_READ));
	EXPECT_EQ(-EINVAL, exo_vm_protn(vm, (void *)mem, 1, EXO_PROT_WRITE));
}

/* A refused trap goes on to the SIGBUS handler that was there before. */
static sigjmp_buf chain_jmp;
static void *volatile chain_addr;

static void chain_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	chain_addr = si->si_addr;
	siglongjmp(chain_jmp, 1);
}

static void install_chain(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = chain_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, old);
}

TEST_F(prim, trap_refused_chains)
{
	struct sigaction old;
	volatile char *mem;
	struct exo_vm *vm;

	NEED_MODE(variant->mode);

	install_chain(&old);
	vm = vm_new(4, 0, EXO_VM_POLICY_CLOCK, variant->mode, NULL, NULL);
	ASSERT_NE(NULL, vm);
	memset((void *)&trap, 0, sizeof(trap));
	trap.refuse = 1;
	ASSERT_EQ(0, exo_vm_trap(vm, trap_unprot, &self->f.psz));
	mem = exo_vm_base(vm);
	mem[0] = 1;
	ASSERT_EQ(0, exo_vm_prot1(vm, (void *)mem, EXO_PROT_READ));
	chain_addr = NULL;
	if (!sigsetjmp(chain_jmp, 1))
		mem[8] = 2;	/* the handler jumps back instead */
	EXPECT_EQ((void *)(mem + 8), chain_addr);
	EXPECT_EQ(1U, trap.calls);
	EXPECT_EQ(1, mem[0]);
	EXPECT_EQ(0, mem[8]);
	sigaction(SIGBUS, &old, NULL);
}

/* DIRTY: exactly the pages written since last asked, across eviction. */
TEST_F(pager, dirty_exact)
{
	uint64_t bm[1];
	volatile char *mem;
	struct exo_vm *vm;
	int i;

	NEED_MODE(variant->mode);

	vm = vm_new(32, 4, variant->policy, variant->mode, NULL, NULL);
	ASSERT_NE(NULL, vm);
	mem = exo_vm_base(vm);
	for (i = 0; i < 32; i++)
		EXPECT_EQ(0, mem[i * self->f.psz]);
	bm[0] = ~0ULL;
	EXPECT_EQ(0, exo_vm_dirty(vm, (void *)mem, 32, bm));
	EXPECT_EQ(0ULL, bm[0]);

	/* Written, then evicted by reading 8 others: still reported. */
	mem[1 * self->f.psz] = 1;
	mem[5 * self->f.psz + 7] = 5;
	mem[31 * self->f.psz + 99] = 31;
	for (i = 8; i < 16; i++)
		EXPECT_EQ(0, mem[i * self->f.psz]);
	EXPECT_EQ(3, exo_vm_dirty(vm, (void *)mem, 32, bm));
	EXPECT_EQ((1ULL << 1) | (1ULL << 5) | (1ULL << 31), bm[0]);
	EXPECT_EQ(0, exo_vm_dirty(vm, (void *)mem, 32, bm));
	EXPECT_EQ(0ULL, bm[0]);

	/* Paged back in by reads: clean. A sub-range reports from bit 0. */
	EXPECT_EQ(1, mem[1 * self->f.psz]);
	EXPECT_EQ(5, mem[5 * self->f.psz + 7]);
	EXPECT_EQ(0, exo_vm_dirty(vm, (void *)mem, 32, bm));
	/* Protected and unprotected, not written: still clean. */
	ASSERT_EQ(0, exo_vm_protn(vm, (void *)mem, 32, EXO_PROT_READ));
	ASSERT_EQ(0, exo_vm_unprot(vm, (void *)mem, 32));
	EXPECT_EQ(5, mem[5 * self->f.psz + 7]);
	EXPECT_EQ(0, exo_vm_dirty(vm, (void *)mem, 32, bm));
	mem[5 * self->f.psz] = 6;
	EXPECT_EQ(1, exo_vm_dirty(vm, (void *)(mem + 4 * self->f.psz), 4, bm));
	EXPECT_EQ(1ULL << 1, bm[0]);
	EXPECT_EQ(5, mem[5 * self->f.psz + 7]);
	EXPECT_EQ(6, mem[5 * self->f.psz]);
	EXPECT_EQ(-EINVAL, exo_vm_dirty(vm, (void *)mem, 33, bm));
}

/*
 * MAP2: the same frame at two addresses with different protections.
 * Writes through either show at the other; the read-only alias refuses
 * writes (the SIGBUS goes to the handler that was there before libexo's,
 * the address not being a region's); the page stays while aliased.
 */
TEST_F(prim, map2)
{
	volatile char *mem, *rw, *ro;
	struct sigaction old;
	uint64_t bm[1];
	struct exo_vm *vm;
	void *alias;
	int i;

	NEED_MODE(variant->mode);

	install_chain(&old);
	vm = vm_new(8, 2, EXO_VM_POLICY_CLOCK, variant->mode, NULL, NULL);
	ASSERT_NE(NULL, vm);
	ASSERT_EQ(0, exo_vma_create(self->f.exo, 2 * self->f.psz,
				    PROT_READ | PROT_WRITE, &alias));
	rw = alias;
	ro = rw + self->f.psz;
	mem = exo_vm_base(vm);
	mem[0] = 'a';
	ASSERT_EQ(0, exo_vm_map2(vm, (void *)mem, (void *)rw,
				 EXO_PROT_READ | EXO_PROT_WRITE));
	ASSERT_EQ(0, exo_vm_map2(vm, (void *)mem, (void *)ro, EXO_PROT_READ));
	EXPECT_EQ(-EEXIST, exo_vm_map2(vm, (void *)mem, (void *)ro,
				       EXO_PROT_READ));
	EXPECT_EQ('a', rw[0]);
	EXPECT_EQ('a', ro[0]);
	rw[1] = 'b';
	EXPECT_EQ('b', mem[1]);
	EXPECT_EQ('b', ro[1]);
	EXPECT_EQ((int)EXO_PROT_READ, page_prot(self->f.exo, ro));

	chain_addr = NULL;
	if (!sigsetjmp(chain_jmp, 1))
		ro[2] = 'x';	/* the handler jumps back instead */
	EXPECT_EQ((void *)(ro + 2), chain_addr);
	EXPECT_EQ(0, mem[2]);

	/* Budget 2: the aliased page is pinned while others come and go. */
	for (i = 1; i < 8; i++)
		mem[i * self->f.psz] = (char)i;
	EXPECT_EQ(1, page_bound(self->f.exo, (void *)mem));
	EXPECT_EQ('b', ro[1]);

	EXPECT_EQ(0, exo_vm_dirty(vm, (void *)mem, 8, bm) < 0);
	rw[3] = 'c';
	EXPECT_EQ(0, exo_vm_unmap2(vm, (void *)rw));
	EXPECT_EQ(0, exo_vm_unmap2(vm, (void *)ro));
	EXPECT_EQ(-ENOENT, exo_vm_unmap2(vm, (void *)ro));
	EXPECT_EQ(0, page_bound(self->f.exo, (void *)ro));
	/* The write through the alias is the page's. */
	EXPECT_EQ(1, exo_vm_dirty(vm, (void *)mem, 1, bm));
	for (i = 1; i < 8; i++)
		EXPECT_EQ((char)i, mem[i * self->f.psz]);
	EXPECT_EQ('c', mem[3]);
	EXPECT_EQ(0, exo_vma_destroy(self->f.exo, alias, 2 * self->f.psz));
	sigaction(SIGBUS, &old, NULL);
}

/* exo_vm_destroy gives every frame back, aliases and all. */
TEST_F(pager, destroy_returns_frames)
{
	struct exo_ctx_info info;
	volatile char *mem;
	void *alias;
	int i;

	NEED_MODE(variant->mode);

	ASSERT_NE(NULL, vm_new(32, 8, variant->policy, variant->mode, NULL,
			       NULL));
	mem = exo_vm_base(self->f.vm);
	for (i = 0; i < 32; i++)
		mem[i * self->f.psz] = (char)i;
	ASSERT_EQ(0, exo_vma_create(self->f.exo, self->f.psz,
				    PROT_READ | PROT_WRITE, &alias));
	ASSERT_EQ(0, exo_vm_map2(self->f.vm, (void *)mem, alias, EXO_PROT_READ));
	/* Paged back in for the alias if it was out; bind it here too. */
	EXPECT_EQ(0, mem[0]);
	ctx(&info);
	EXPECT_EQ(8U, info.frames);
	EXPECT_EQ(9U, info.bindings);
	EXPECT_EQ(0, exo_vm_destroy(self->f.vm));
	self->f.vm = NULL;
	ctx(&info);
	EXPECT_EQ(0U, info.frames);
	EXPECT_EQ(0U, info.caps);
	EXPECT_EQ(0U, info.bindings);
	EXPECT_EQ(0, exo_vma_destroy(self->f.exo, alias, self->f.psz));
}

/* Paging to a file of the application's, by descriptor. */
TEST_F(prim, backing_fd)
{
	struct exo_vm_opts o = { 0 };
	volatile char *mem;
	struct exo_vm_stats st;
	struct stat sb;
	int fd, i;

	NEED_MODE(variant->mode);

	fd = memfd_create("exo-libvm", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	o.sz = sizeof(o);
	o.len = 16 * self->f.psz;
	o.max_frames = 2;
	o.flags = EXO_VM_BACKING_FD;
	o.backing_fd = fd;
	o.fault_mode = variant->mode;
	ASSERT_EQ(0, exo_vm_create(self->f.exo, &o, &self->f.vm));
	mem = exo_vm_base(self->f.vm);
	for (i = 0; i < 16; i++)
		mem[i * self->f.psz + i] = (char)(i + 1);
	for (i = 0; i < 16; i++)
		EXPECT_EQ((char)(i + 1), mem[i * self->f.psz + i]);
	vm_stats(self->f.vm, &st);
	EXPECT_LE(14U, st.write_outs);
	ASSERT_EQ(0, fstat(fd, &sb));
	EXPECT_LE((off_t)(14 * self->f.psz), sb.st_size);
	EXPECT_EQ(0, exo_vm_destroy(self->f.vm));
	self->f.vm = NULL;
	/* The descriptor stays the application's. */
	EXPECT_EQ(0, fstat(fd, &sb));
	close(fd);
}

/* FIFO evicts in load order, however recently a page was used. */
TEST_F(libvm, fifo_order)
{
	volatile char *mem;
	struct exo_vm *vm;
	int i;

	vm = vm_new(8, 4, EXO_VM_POLICY_FIFO, EXO_VM_FAULT_SIGNAL, NULL, NULL);
	ASSERT_NE(NULL, vm);
	mem = exo_vm_base(vm);
	for (i = 0; i < 4; i++)
		mem[i * self->f.psz] = (char)(i + 1);
	mem[4 * self->f.psz] = 5;		/* evicts page 0 */
	EXPECT_EQ(0, page_bound(self->f.exo, mem));
	EXPECT_EQ(2, mem[1 * self->f.psz]);	/* used, but oldest now */
	mem[5 * self->f.psz] = 6;		/* evicts page 1 */
	EXPECT_EQ(0, page_bound(self->f.exo, mem + 1 * self->f.psz));
	for (i = 2; i < 6; i++)
		EXPECT_EQ(1, page_bound(self->f.exo, mem + i * self->f.psz));
	for (i = 0; i < 6; i++)
		EXPECT_EQ((char)(i + 1), mem[i * self->f.psz]);
}

/*
 * Two regions of one context: one has the context's page table, the other
 * is bound with EXO_IOC_MAP; destroying the first hands the table over.
 */
TEST_F_TIMEOUT(libvm, two_regions, 120)
{
	struct exo_ctx_info a, b;
	struct exo_vm *other;
	volatile char *mem;
	uint8_t *keep;
	int i, n;

	EXO_VM_OPTS(o, .len = NPAGES * self->f.psz, .max_frames = BUDGET);
	ASSERT_NE(NULL, vm_new(NPAGES, BUDGET, EXO_VM_POLICY_LRU,
			       EXO_VM_FAULT_SIGNAL, NULL, NULL));
	ASSERT_EQ(0, exo_vm_create(self->f.exo, &o, &other));
	keep = calloc(1, NPAGES * self->f.psz);
	ASSERT_NE(NULL, keep);
	roundtrip(self->f.vm, NPAGES, BUDGET, 1000, 1);
	roundtrip_keep(other, NPAGES, BUDGET, 1000, 2, keep);
	ctx(&a);
	EXPECT_EQ((uint64_t)2 * BUDGET, a.frames);
	EXPECT_EQ(0, exo_vm_destroy(self->f.vm));
	self->f.vm = other;
	ctx(&a);
	EXPECT_EQ((uint64_t)BUDGET, a.frames);
	/* The survivor's first touches are refilled from its table now. */
	mem = exo_vm_base(other);
	roundtrip_keep(other, NPAGES, BUDGET, 1000, 3, keep);
	free(keep);
	if (exo_api(self->f.exo)->features & EXO_FEAT_STLB) {
		for (i = 0, n = 0; i < NPAGES && n < 2; i++) {
			if (page_bound(self->f.exo, mem + i * self->f.psz))
				continue;
			ctx(&a);
			mem[i * self->f.psz] = 1;
			ctx(&b);
			EXPECT_EQ(a.upcalls + 1, b.upcalls);
			EXPECT_EQ(a.refills + 1, b.refills);
			n++;
		}
		EXPECT_EQ(2, n);
	}
}

/*
 * The fault mode is the context's: a region that asks for signals, in a
 * context whose other region has the fault thread, is served by the
 * thread; the thread and upcalls cannot share a context.
 */
TEST_F(libvm, fault_mode_per_context)
{
	EXO_VM_OPTS(o, .len = 4 * self->f.psz);
	struct exo_vm_stats st;
	struct exo_vm *sig, *up = NULL;
	volatile char *mem;

	ASSERT_NE(NULL, vm_new(4, 0, EXO_VM_POLICY_CLOCK, EXO_VM_FAULT_THREAD,
			       NULL, NULL));
	ASSERT_EQ(0, exo_vm_create(self->f.exo, &o, &sig));
	mem = exo_vm_base(sig);
	mem[0] = 1;
	mem[self->f.psz] = 2;
	EXPECT_EQ(1, mem[0]);
	ASSERT_EQ(0, exo_vm_stats(sig, &st));
	EXPECT_EQ(2U, st.faults);
	if (exo_api(self->f.exo)->features & EXO_FEAT_UPCALL) {
		o.fault_mode = EXO_VM_FAULT_UPCALL;
		EXPECT_EQ(-EBUSY, exo_vm_create(self->f.exo, &o, &up));
		EXPECT_EQ(NULL, up);
	}
	EXPECT_EQ(0, exo_vm_destroy(sig));
}

/* libexo's raw VM calls: one system call each, -errno on failure. */
TEST_F(libvm, raw_calls)
{
	struct exo_map_entry e[2];
	struct exo_fault_event ev;
	struct exo_frame f, g;
	struct exo_vpage vp[2];
	struct exo_vrange r;
	struct exo_upte t[2] __attribute__((aligned(16)));
	size_t psz = self->f.psz;
	uint64_t bm[1];
	char *va;
	void *p;

	EXPECT_EQ(-EINVAL, exo_vma_create(self->f.exo, 0, PROT_READ, &p));
	EXPECT_EQ(-EINVAL, exo_vma_create(self->f.exo, psz + 1, PROT_READ,
					  &p));
	EXPECT_EQ(-EINVAL, exo_vma_create(self->f.exo, psz, 0x100, &p));
	ASSERT_EQ(0, exo_vma_create(self->f.exo, 2 * psz,
				    PROT_READ | PROT_WRITE, &p));
	va = p;
	ASSERT_EQ(0, exo_frame_alloc(self->f.exo, &f));
	ASSERT_EQ(0, exo_frame_alloc(self->f.exo, &g));

	EXPECT_EQ(0, exo_vma_map_one(self->f.exo, va, f.cap, 0, VM_RW));
	EXPECT_EQ(-EEXIST, exo_vma_map_one(self->f.exo, va, g.cap, 0, VM_RW));
	EXPECT_EQ(-ENOENT, exo_vma_map_one(self->f.exo, va + psz, f.cap + 1, 0,
					   VM_RW));
	va[5] = 'x';
	ASSERT_EQ(0, exo_vma_query(self->f.exo, va, 2, 0, vp));
	EXPECT_EQ(f.cap, vp[0].cap);
	EXPECT_EQ(f.pfn, vp[0].pfn);
	EXPECT_EQ((int)VM_RW, vp[0].prot);
	EXPECT_NE(0, vp[0].state & EXO_VPAGE_BOUND);
	EXPECT_NE(0, vp[0].state & EXO_VPAGE_DIRTY);
	EXPECT_EQ(0, vp[1].state & EXO_VPAGE_BOUND);
	EXPECT_EQ(1, exo_vma_dirty(self->f.exo, va, 2, bm));
	EXPECT_EQ(1ULL, bm[0]);
	EXPECT_EQ(0, exo_vma_dirty(self->f.exo, va, 2, bm));

	/* The same frame at a second page, read-only. */
	EXPECT_EQ(0, exo_vma_map_one(self->f.exo, va + psz, f.cap, 0,
				     EXO_PROT_READ));
	EXPECT_EQ('x', va[psz + 5]);
	r.va = (uintptr_t)va;
	r.len = 2 * psz;
	EXPECT_EQ(0, exo_vma_protect(self->f.exo, &r, 1, EXO_PROT_READ));
	ASSERT_EQ(0, exo_vma_query(self->f.exo, va, 2, 0, vp));
	EXPECT_EQ((int)EXO_PROT_READ, vp[0].prot);
	EXPECT_EQ(0, exo_vma_unmap(self->f.exo, &r, 1));
	ASSERT_EQ(0, exo_vma_query(self->f.exo, va, 2, 0, vp));
	EXPECT_EQ(0, vp[0].state & EXO_VPAGE_BOUND);
	memset(e, 0, sizeof(e));
	e[0].va = (uintptr_t)va;
	e[0].cap = f.cap;
	e[0].nr = 1;
	e[0].prot = VM_RW;
	e[1] = e[0];
	e[1].va += psz;
	e[1].cap = g.cap;
	EXPECT_EQ(0, exo_vma_map(self->f.exo, e, 2));
	EXPECT_EQ('x', va[5]);
	EXPECT_EQ(0, va[psz + 5]);
	EXPECT_EQ(-EINVAL, exo_vma_map(self->f.exo, e, 0));
	EXPECT_EQ(0, exo_vma_unmap(self->f.exo, &r, 1));

	/* The page table, fault modes, events, wake-ups. */
	memset(t, 0, sizeof(t));
	EXPECT_EQ(-EINVAL, exo_stlb_set(self->f.exo, t, va, 0));
	if (exo_api(self->f.exo)->features & EXO_FEAT_STLB) {
		t[1].cap = g.cap;
		t[1].flags = EXO_UPTE_VALID | EXO_PROT_READ;
		EXPECT_EQ(0, exo_stlb_set(self->f.exo, t, va, 2));
		EXPECT_EQ(0, va[psz]);	/* refilled from t[1], no upcall */
		EXPECT_EQ(1, page_bound(self->f.exo, va + psz));
		EXPECT_EQ(0, exo_stlb_set(self->f.exo, NULL, NULL, 0));
	}
	if (exo_api(self->f.exo)->features & EXO_FEAT_FAULT_EVENTS) {
		EXPECT_EQ((int)EXO_FAULT_MODE_SIGNAL,
			  exo_fault_mode_set(self->f.exo,
					     EXO_FAULT_MODE_EVENT));
		EXPECT_EQ(0, exo_fault_read(self->f.exo, &ev, 1, 1));
		EXPECT_EQ(-EINVAL, exo_fault_read(self->f.exo, &ev, 0, 1));
		EXPECT_EQ(0, exo_fault_wake(self->f.exo, va, psz, 0));
		EXPECT_EQ((int)EXO_FAULT_MODE_EVENT,
			  exo_fault_mode_set(self->f.exo,
					     EXO_FAULT_MODE_SIGNAL));
	}
	EXPECT_EQ(-EINVAL, exo_fault_wake(self->f.exo, va, 0, 0));
	EXPECT_EQ(0, exo_vma_destroy(self->f.exo, va, 2 * psz));
	EXPECT_EQ(0, exo_frame_free(self->f.exo, f.cap));
	EXPECT_EQ(0, exo_frame_free(self->f.exo, g.cap));
}

/* Options are checked, libbpf style. */
TEST_F(libvm, opts)
{
	struct {
		struct exo_vm_opts o;
		uint64_t more;
	} big;
	EXO_VM_OPTS(o, .len = self->f.psz);
	struct exo_vm *vm = NULL;

	EXPECT_EQ(-EINVAL, exo_vm_create(self->f.exo, NULL, &vm));
	o.sz = offsetof(struct exo_vm_opts, len);
	EXPECT_EQ(-EINVAL, exo_vm_create(self->f.exo, &o, &vm));
	o.sz = sizeof(o);
	o.len = 0;
	EXPECT_EQ(-EINVAL, exo_vm_create(self->f.exo, &o, &vm));
	o.len = self->f.psz;
	o.policy = EXO_VM_POLICY_CUSTOM;
	EXPECT_EQ(-EINVAL, exo_vm_create(self->f.exo, &o, &vm));
	o.policy = 9;
	EXPECT_EQ(-EINVAL, exo_vm_create(self->f.exo, &o, &vm));
	o.policy = 0;
	o.fault_mode = 3;
	EXPECT_EQ(-EINVAL, exo_vm_create(self->f.exo, &o, &vm));
	o.fault_mode = 0;
	o.flags = 2;
	EXPECT_EQ(-EINVAL, exo_vm_create(self->f.exo, &o, &vm));
	o.flags = 0;
	EXPECT_EQ(NULL, vm);

	memset(&big, 0, sizeof(big));
	big.o = o;
	big.o.sz = sizeof(big);
	big.more = 1;
	EXPECT_EQ(-E2BIG, exo_vm_create(self->f.exo, &big.o, &vm));
	big.more = 0;
	/* A newer caller's zeroed tail, and an older caller's shorter struct. */
	ASSERT_EQ(0, exo_vm_create(self->f.exo, &big.o, &vm));
	EXPECT_EQ(self->f.psz, exo_vm_len(vm));
	EXPECT_EQ(0, exo_vm_destroy(vm));
	o.sz = offsetof(struct exo_vm_opts, len) + sizeof(o.len);
	o.len = self->f.psz + 1;
	ASSERT_EQ(0, exo_vm_create(self->f.exo, &o, &vm));
	EXPECT_EQ(2 * self->f.psz, exo_vm_len(vm));
	EXPECT_EQ(0, exo_vm_destroy(vm));
}

TEST_HARNESS_MAIN
