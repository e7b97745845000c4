// SPDX-License-Identifier: GPL-2.0
/*
 * libexo's side of revocation: the raw calls and the readers of the event
 * ring and the repossession vector; the pager's default give-back policy
 * (spare frames, then clean cold pages, clean pages, dirty pages) and an
 * application's policy; a region that does not answer in time is aborted
 * and every byte of it comes back through the pager's recovery.
 *
 * Requests are posted with EXO_IOC_REVOKE on the test's own context (the
 * tests run as root); timeouts are short so that aborts come quickly.
 */
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <linux/capability.h>
#include <sys/eventfd.h>

#include <libexo.h>

#include "exo_util.h"

#define VM_RW		(EXO_PROT_READ | EXO_PROT_WRITE)
#define NPAGES		16
/* Long enough that the default handler meets it without hurry. */
#define LONG_MS		20000
/* The most a test waits for the handler thread, or for an abort. */
#define WAIT_NS		(10 * 1000000000ull)

struct rvfix {
	struct exo *exo;
	struct exo_vm *vm;
	struct exo_counters base;
	size_t psz;
	uint64_t old_timeout;	/* revoke_timeout_ms to restore; 0: unchanged */
};

/* Both fixtures: a context, and the module's counters to come back to. */
static void rvfix_setup(struct __test_metadata *_metadata, struct rvfix *f)
{
	int ret;

	f->psz = sysconf(_SC_PAGESIZE);
	exo_counters_read(&f->base);
	ret = exo_open(&f->exo);
	ASSERT_EQ(0, ret) TH_LOG("exo_open: %s", strerror(-ret));
}

static void rvfix_teardown(struct __test_metadata *_metadata,
			   struct rvfix *f)
{
	if (f->vm)
		EXPECT_EQ(0, exo_vm_destroy(f->vm));
	exo_close(f->exo);
	if (f->old_timeout)
		EXPECT_EQ(0, exo_param_set("revoke_timeout_ms", f->old_timeout));
	exo_counters_expect_baseline(&f->base);
}

FIXTURE(rv) {
	struct rvfix f;
};

FIXTURE_SETUP(rv)
{
	rvfix_setup(_metadata, &self->f);
}

FIXTURE_TEARDOWN(rv)
{
	rvfix_teardown(_metadata, &self->f);
}

/* An abort, three ways, each fault mode; recovery by fault or by handler. */
FIXTURE(aborted) {
	struct rvfix f;
};
FIXTURE_VARIANT(aborted) {
	uint32_t mode;		/* enum exo_vm_fault_mode */
	int how;		/* ABORT_* */
	bool handle_first;	/* exo_vm_handle_events() before touching */
};
enum { ABORT_FLAG, ABORT_TIMEOUT, ABORT_PARAM };
FIXTURE_VARIANT_ADD(aborted, signal_flag) {
	.mode = EXO_VM_FAULT_SIGNAL, .how = ABORT_FLAG,
};
FIXTURE_VARIANT_ADD(aborted, signal_flag_handled) {
	.mode = EXO_VM_FAULT_SIGNAL, .how = ABORT_FLAG, .handle_first = true,
};
FIXTURE_VARIANT_ADD(aborted, thread_timeout) {
	.mode = EXO_VM_FAULT_THREAD, .how = ABORT_TIMEOUT,
};
FIXTURE_VARIANT_ADD(aborted, upcall_param) {
	.mode = EXO_VM_FAULT_UPCALL, .how = ABORT_PARAM,
};
FIXTURE_VARIANT_ADD(aborted, signal_param_handled) {
	.mode = EXO_VM_FAULT_SIGNAL, .how = ABORT_PARAM, .handle_first = true,
};
FIXTURE_SETUP(aborted)
{
	rvfix_setup(_metadata, &self->f);
}
FIXTURE_TEARDOWN(aborted)
{
	rvfix_teardown(_metadata, &self->f);
}

#define NEED_REVOKE()							\
	do {								\
		if (!(exo_api(self->f.exo)->features & EXO_FEAT_REVOKE)) \
			SKIP(return, "no EXO_FEAT_REVOKE in this module"); \
	} while (0)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct exo_vm *__region(struct __test_metadata *_metadata,
			       struct rvfix *f, uint32_t mode)
{
	EXO_VM_OPTS(o, .len = NPAGES * f->psz, .fault_mode = mode);
	int ret;

	ret = exo_vm_create(f->exo, &o, &f->vm);
	if (ret)
		f->vm = NULL;
	EXPECT_EQ(0, ret) TH_LOG("exo_vm_create: %s", strerror(-ret));
	return f->vm;
}
#define region(mode) __region(_metadata, &self->f, mode)

/* Page @i's bytes: a pattern of its own, or zeros for a page only read. */
static uint8_t pat(size_t i, size_t off)
{
	return (uint8_t)(i * 131 + off * 7 + 1);
}

static void write_page(volatile uint8_t *mem, size_t psz, size_t i)
{
	size_t off;

	for (off = 0; off < psz; off++)
		mem[i * psz + off] = pat(i, off);
}

/* 0 if page @i holds its pattern (or zeros when !@written). */
static int check_page(volatile uint8_t *mem, size_t psz, size_t i,
		      bool written)
{
	size_t off;

	for (off = 0; off < psz; off++)
		if (mem[i * psz + off] != (written ? pat(i, off) : 0))
			return -1;
	return 0;
}

static int page_bound(struct exo *exo, const volatile void *va)
{
	struct exo_vpage vp;
	int ret;

	ret = exo_vma_query(exo, (void *)va, 1, 0, &vp);
	if (ret)
		return ret;
	return !!(vp.state & EXO_VPAGE_BOUND);
}

static void __ctx(struct __test_metadata *_metadata, struct exo *exo,
		  struct exo_ctx_info *info)
{
	ASSERT_EQ(0, exo_ctx_info(exo, info));
}
#define ctx(info) __ctx(_metadata, self->f.exo, info)

static void __state(struct __test_metadata *_metadata, struct exo *exo,
		    struct exo_revoke_status *st)
{
	ASSERT_EQ(0, exo_revoke_state(exo, st));
}
#define state(st) __state(_metadata, self->f.exo, st)

/* The next event after *@pos must be of @type for request @id. */
static void __expect_event(struct __test_metadata *_metadata,
			   struct exo *exo, uint64_t *pos, uint32_t type,
			   uint64_t id, struct exo_event *out, int line)
{
	struct exo_event ev;
	uint64_t lost = ~0ull;

	ASSERT_EQ(1, exo_events_next(exo, pos, &ev, &lost))
		TH_LOG("no event %u at position %" PRIu64 " (line %d)", type,
		       *pos, line);
	EXPECT_EQ(0ull, lost) TH_LOG("line %d", line);
	EXPECT_EQ(type, ev.type) TH_LOG("event type (line %d)", line);
	EXPECT_EQ(id, ev.id) TH_LOG("event id (line %d)", line);
	EXPECT_EQ(*pos, ev.seq) TH_LOG("event seq (line %d)", line);
	if (out)
		*out = ev;
}
#define expect_event(pos, type, id, out) \
	__expect_event(_metadata, self->f.exo, pos, type, id, out, __LINE__)

static int pollpri(struct exo *exo)
{
	struct pollfd p = { .fd = exo_fd(exo), .events = POLLPRI };

	if (poll(&p, 1, 0) < 0)
		return -errno;
	return !!(p.revents & POLLPRI);
}

/*
 * The default handler meets a request before its deadline: the counters
 * say the frames were returned, nothing was taken, and the region's data
 * is all there.
 */
TEST_F(rv, default_meets_request)
{
	struct exo_ctx_info a, b;
	struct exo_revoke_status st;
	struct exo_vm_stats vs;
	struct exo_event ev;
	volatile uint8_t *mem;
	uint64_t id = 0, pos, t0;
	size_t i;

	NEED_REVOKE();
	ASSERT_NE(NULL, region(EXO_VM_FAULT_SIGNAL));
	mem = exo_vm_base(self->f.vm);
	for (i = 0; i < NPAGES; i++)
		write_page(mem, self->f.psz, i);
	state(&st);
	EXPECT_EQ((uint32_t)EXO_REVOKE_IDLE, st.state);
	pos = st.head;
	ctx(&a);
	EXPECT_EQ((uint64_t)NPAGES, a.frames);

	t0 = now_ns();
	ASSERT_EQ(0, exo_revoke_request(self->f.exo, 0, 4, LONG_MS, 0, &id));
	EXPECT_NE(0ull, id);
	state(&st);
	EXPECT_EQ(id, st.id);
	EXPECT_EQ(4ull, st.owed);
	EXPECT_EQ((uint32_t)EXO_REVOKE_REQUESTED, st.state);
	EXPECT_LT(t0, st.deadline_ns);
	EXPECT_GE(now_ns() + (uint64_t)LONG_MS * 1000000, st.deadline_ns);
	EXPECT_EQ(1, pollpri(self->f.exo));
	expect_event(&pos, EXO_EV_REVOKE, id, &ev);
	EXPECT_EQ(4ull, ev.nr);
	EXPECT_EQ(st.deadline_ns, ev.deadline_ns);

	EXPECT_EQ(4, exo_vm_handle_events(self->f.vm));
	ctx(&b);
	EXPECT_EQ(4ull, b.revoke_requested - a.revoke_requested);
	EXPECT_EQ(4ull, b.revoke_returned - a.revoke_returned);
	EXPECT_EQ(0ull, b.owed);
	EXPECT_EQ(a.repossessed, b.repossessed);
	EXPECT_EQ((uint64_t)NPAGES - 4, b.frames);
	state(&st);
	EXPECT_EQ((uint32_t)EXO_REVOKE_IDLE, st.state);
	EXPECT_EQ(0ull, st.owed);
	EXPECT_EQ(0ull, st.deadline_ns);
	EXPECT_EQ(0ull, st.repossessed);
	EXPECT_EQ(0, pollpri(self->f.exo));
	expect_event(&pos, EXO_EV_REVOKE_DONE, id, &ev);
	EXPECT_EQ(4ull, ev.nr);
	EXPECT_EQ(0, exo_events_next(self->f.exo, &pos, &ev, NULL));

	ASSERT_EQ(0, exo_vm_stats(self->f.vm, &vs));
	EXPECT_EQ(4ull, vs.revoked);
	EXPECT_EQ(0ull, vs.repossessed);
	EXPECT_EQ((uint64_t)NPAGES - 4, vs.frames);
	/* The request; its completion came after the handler read. */
	EXPECT_EQ(1ull, vs.events);
	/* Nothing owed: nothing more given. */
	EXPECT_EQ(0, exo_vm_handle_events(self->f.vm));
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ(0, check_page(mem, self->f.psz, i, true))
			TH_LOG("page %zu", i);
	ASSERT_EQ(0, exo_vm_stats(self->f.vm, &vs));
	EXPECT_EQ(4ull, vs.page_ins);
	EXPECT_EQ(2ull, vs.events);
	EXPECT_EQ(0ull, vs.events_lost);
}

/*
 * Clean pages go before dirty ones, cold before warm, and a dirty page
 * given back is written out first.
 */
TEST_F(rv, prefers_clean_cold)
{
	struct exo_vpage vp[NPAGES];
	struct exo_vm_stats s0, s1;
	volatile uint8_t *mem;
	int i, gone;

	NEED_REVOKE();
	ASSERT_NE(NULL, region(EXO_VM_FAULT_SIGNAL));
	mem = exo_vm_base(self->f.vm);
	for (i = 0; i < 6; i++)			/* dirty */
		write_page(mem, self->f.psz, i);
	for (i = 6; i < NPAGES; i++)		/* clean */
		EXPECT_EQ(0, mem[i * self->f.psz]);
	/* 6..9 warm, 10..15 cold. */
	ASSERT_EQ(0, exo_vma_query(self->f.exo, (void *)mem, NPAGES,
				   EXO_QUERY_CLEAR_ACCESSED, vp));
	for (i = 6; i < 10; i++)
		EXPECT_EQ(0, mem[i * self->f.psz + 8]);
	ASSERT_EQ(0, exo_vm_stats(self->f.vm, &s0));

	ASSERT_EQ(0, exo_revoke_request(self->f.exo, 0, 4, LONG_MS, 0, NULL));
	EXPECT_EQ(4, exo_vm_handle_events(self->f.vm));
	ASSERT_EQ(0, exo_vm_stats(self->f.vm, &s1));
	EXPECT_EQ(s0.write_outs, s1.write_outs);
	EXPECT_EQ(4ull, s1.evictions - s0.evictions);
	for (i = 0; i < 10; i++)
		EXPECT_EQ(1, page_bound(self->f.exo, mem + i * self->f.psz))
			TH_LOG("page %d", i);
	for (i = 10, gone = 0; i < NPAGES; i++)
		gone += !page_bound(self->f.exo, mem + i * self->f.psz);
	EXPECT_EQ(4, gone);

	/* 6 clean left, 6 dirty: 8 takes every clean page and 2 dirty. */
	ASSERT_EQ(0, exo_revoke_request(self->f.exo, 0, 8, LONG_MS, 0, NULL));
	EXPECT_EQ(8, exo_vm_handle_events(self->f.vm));
	ASSERT_EQ(0, exo_vm_stats(self->f.vm, &s1));
	EXPECT_EQ(2ull, s1.write_outs - s0.write_outs);
	for (i = 6; i < NPAGES; i++)
		EXPECT_EQ(0, page_bound(self->f.exo, mem + i * self->f.psz))
			TH_LOG("page %d", i);
	for (i = 0, gone = 0; i < 6; i++)
		gone += !page_bound(self->f.exo, mem + i * self->f.psz);
	EXPECT_EQ(2, gone);
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ(0, check_page(mem, self->f.psz, i, i < 6))
			TH_LOG("page %d", i);
}

/*
 * A region's critical frames are its floor: marked in the frame table,
 * never given back, even when they hold the cheapest pages to give.
 */
TEST_F(rv, critical_floor)
{
	EXO_VM_OPTS(o, .len = NPAGES * self->f.psz, .critical = 4);
	struct exo_ftable_entry fe;
	struct exo_vm_stats s0, s1;
	struct exo_ctx_info info;
	struct exo_vpage vp;
	volatile uint8_t *mem;
	int i;

	NEED_REVOKE();
	if (exo_api(self->f.exo)->critical_max < 4)
		SKIP(return, "critical_max below 4");
	o.critical = exo_api(self->f.exo)->critical_max + 1;
	EXPECT_EQ(-EINVAL, exo_vm_create(self->f.exo, &o, &self->f.vm));
	o.critical = 4;
	ASSERT_EQ(0, exo_vm_create(self->f.exo, &o, &self->f.vm));
	mem = exo_vm_base(self->f.vm);
	/* The critical frames hold the clean pages 0..3; the rest are dirty. */
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, mem[i * self->f.psz]);
	for (i = 4; i < NPAGES; i++)
		write_page(mem, self->f.psz, i);
	ctx(&info);
	EXPECT_EQ(4u, info.critical);
	for (i = 0; i < NPAGES; i++) {
		ASSERT_EQ(0, exo_vma_query(self->f.exo,
					   (void *)(mem + i * self->f.psz),
					   1, 0, &vp));
		ASSERT_EQ(0, exo_ftable_lookup(self->f.exo, vp.cap, &fe));
		EXPECT_EQ(i < 4 ? EXO_FTABLE_CRITICAL : 0u,
			  fe.flags & EXO_FTABLE_CRITICAL) TH_LOG("page %d", i);
	}
	ASSERT_EQ(0, exo_vm_stats(self->f.vm, &s0));
	ASSERT_EQ(0, exo_revoke_request(self->f.exo, 0, 4, LONG_MS, 0, NULL));
	EXPECT_EQ(4, exo_vm_handle_events(self->f.vm));
	ASSERT_EQ(0, exo_vm_stats(self->f.vm, &s1));
	EXPECT_EQ(4ull, s1.write_outs - s0.write_outs);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(1, page_bound(self->f.exo, mem + i * self->f.psz));
	ctx(&info);
	EXPECT_EQ(4u, info.critical);
	EXPECT_EQ(0ull, info.owed);
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ(0, check_page(mem, self->f.psz, i, i >= 4))
			TH_LOG("page %d", i);
}

/* An application's policy is asked, with every resident page, and obeyed. */
struct choice {
	unsigned int calls;
	uint32_t nr;
	uint64_t want;
	uint32_t dirty;		/* candidates flagged dirty */
	uint64_t take[2];	/* pages to give back */
};

static uint32_t choose(struct exo_vm *vm, const struct exo_vm_candidate *c,
		       uint32_t nr, uint64_t want, uint32_t *picks, void *arg)
{
	struct choice *ch = arg;
	uint32_t i, n = 1;

	(void)vm;
	ch->calls++;
	ch->nr = nr;
	ch->want = want;
	ch->dirty = 0;
	/* Out of range, and the same page twice: both ignored. */
	picks[0] = nr + 5;
	for (i = 0; i < nr; i++) {
		ch->dirty += !!(c[i].flags & EXO_VM_CAND_DIRTY);
		if (c[i].page == ch->take[0] || c[i].page == ch->take[1]) {
			picks[n++] = i;
			if (n == 2)
				picks[n++] = i;
		}
	}
	return n > 1 ? n : 0;
}

TEST_F(rv, custom_policy)
{
	struct choice ch = { .take = { 0, 1 } };
	struct exo_revoke_status st;
	struct exo_vm_stats s0, s1;
	volatile uint8_t *mem;
	int i;

	NEED_REVOKE();
	ASSERT_NE(NULL, region(EXO_VM_FAULT_SIGNAL));
	mem = exo_vm_base(self->f.vm);
	for (i = 0; i < 8; i++)
		write_page(mem, self->f.psz, i);
	for (i = 8; i < NPAGES; i++)
		EXPECT_EQ(0, mem[i * self->f.psz]);
	ASSERT_EQ(0, exo_vm_set_revoke_policy(self->f.vm, choose, &ch));
	ASSERT_EQ(0, exo_vm_stats(self->f.vm, &s0));

	/* The default would give clean pages; the application wants 0, 1. */
	ASSERT_EQ(0, exo_revoke_request(self->f.exo, 0, 2, LONG_MS, 0, NULL));
	EXPECT_EQ(2, exo_vm_handle_events(self->f.vm));
	EXPECT_EQ(1u, ch.calls);
	EXPECT_EQ((uint32_t)NPAGES, ch.nr);
	EXPECT_EQ(2ull, ch.want);
	EXPECT_EQ(8u, ch.dirty);
	ASSERT_EQ(0, exo_vm_stats(self->f.vm, &s1));
	EXPECT_EQ(2ull, s1.write_outs - s0.write_outs);
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ(i >= 2, page_bound(self->f.exo,
					     mem + i * self->f.psz))
			TH_LOG("page %d", i);

	/* A policy that gives nothing leaves the frames owed. */
	ch.take[0] = ch.take[1] = NPAGES + 1;
	ASSERT_EQ(0, exo_revoke_request(self->f.exo, 0, 1, LONG_MS, 0, NULL));
	EXPECT_EQ(0, exo_vm_handle_events(self->f.vm));
	EXPECT_EQ(2u, ch.calls);
	state(&st);
	EXPECT_EQ(1ull, st.owed);
	/* Back to the default: a clean page goes. */
	ASSERT_EQ(0, exo_vm_set_revoke_policy(self->f.vm, NULL, NULL));
	EXPECT_EQ(1, exo_vm_handle_events(self->f.vm));
	EXPECT_EQ(2u, ch.calls);
	state(&st);
	EXPECT_EQ(0ull, st.owed);
	ASSERT_EQ(0, exo_vm_stats(self->f.vm, &s1));
	EXPECT_EQ(2ull, s1.write_outs - s0.write_outs);
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ(0, check_page(mem, self->f.psz, i, i < 8))
			TH_LOG("page %d", i);
}

/*
 * The application's own thread drives the handler from an eventfd while
 * the main thread keeps faulting in the region.
 */
struct driver {
	struct exo_vm *vm;
	int efd;
	int stop;
	int given;
	int err;
};

static void *drive(void *arg)
{
	struct driver *d = arg;
	struct pollfd p = { .fd = d->efd, .events = POLLIN };
	uint64_t cnt;
	int n;

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		if (poll(&p, 1, 50) <= 0)
			continue;
		if (read(d->efd, &cnt, sizeof(cnt)) != sizeof(cnt))
			continue;
		n = exo_vm_handle_events(d->vm);
		if (n < 0)
			d->err = n;
		else
			d->given += n;
	}
	return NULL;
}

TEST_F(rv, handled_from_thread)
{
	struct driver d = { .efd = -1 };
	struct exo_revoke_status st;
	struct exo_ctx_info a, b;
	volatile uint8_t *mem;
	pthread_t t;
	uint64_t t0;
	int i;

	NEED_REVOKE();
	ASSERT_NE(NULL, region(EXO_VM_FAULT_SIGNAL));
	mem = exo_vm_base(self->f.vm);
	for (i = 0; i < NPAGES; i++)
		write_page(mem, self->f.psz, i);
	d.vm = self->f.vm;
	d.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, d.efd);
	ASSERT_EQ(0, exo_revoke_notify(self->f.exo, d.efd, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, drive, &d));
	ctx(&a);
	ASSERT_EQ(0, exo_revoke_request(self->f.exo, 0, 6, LONG_MS, 0, NULL));
	/* Touch every page meanwhile: the handler and faults take turns. */
	for (t0 = now_ns(); now_ns() - t0 < WAIT_NS;) {
		for (i = 0; i < NPAGES; i++)
			EXPECT_EQ(pat(i, 3), mem[i * self->f.psz + 3]);
		state(&st);
		if (!st.owed)
			break;
		usleep(5000);
	}
	__atomic_store_n(&d.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	EXPECT_EQ(0, d.err);
	EXPECT_EQ(0ull, st.owed);
	EXPECT_LE(6, d.given);
	ctx(&b);
	EXPECT_LE(6ull, b.revoke_returned - a.revoke_returned);
	EXPECT_EQ(a.repossessed, b.repossessed);
	EXPECT_EQ(0, exo_revoke_notify(self->f.exo, -1, 0));
	close(d.efd);
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ(0, check_page(mem, self->f.psz, i, true))
			TH_LOG("page %d", i);
}

/*
 * A region whose library OS does not answer is aborted; the pager takes in
 * what the abort saved, and every page reads back byte for byte.
 */
TEST_F_TIMEOUT(aborted, recovered_exact, 60)
{
	const uint64_t nr = 6;
	struct exo_revoke_status st;
	struct exo_ctx_info a, b;
	struct exo_vm_stats vs;
	struct exo_event ev;
	volatile uint8_t *mem;
	uint64_t id = 0, pos, sys0, lost, t0;
	bool saw_revoke = false, saw_urgent = false, saw_repo = false;
	int i, n;

	NEED_REVOKE();
	if (variant->mode == EXO_VM_FAULT_UPCALL &&
	    !(exo_api(self->f.exo)->features & EXO_FEAT_UPCALL))
		SKIP(return, "no EXO_FEAT_UPCALL (x86-64 only)");
	ASSERT_NE(NULL, region(variant->mode));
	mem = exo_vm_base(self->f.vm);
	for (i = 0; i < 12; i++)
		write_page(mem, self->f.psz, i);
	for (i = 12; i < NPAGES; i++)
		EXPECT_EQ(0, mem[i * self->f.psz]);
	state(&st);
	pos = st.head;
	ctx(&a);
	sys0 = exo_sysfs_u64("repossessed");

	switch (variant->how) {
	case ABORT_FLAG:
		ASSERT_EQ(0, exo_revoke_request(self->f.exo, 0, nr, 0,
						EXO_REVOKE_ABORT, &id));
		break;
	case ABORT_TIMEOUT:
		ASSERT_EQ(0, exo_revoke_request(self->f.exo, 0, nr, 300, 0,
						&id));
		break;
	case ABORT_PARAM:
		if (!exo_param_writable("revoke_timeout_ms"))
			SKIP(return, "revoke_timeout_ms is not writable");
		self->f.old_timeout = exo_param("revoke_timeout_ms");
		ASSERT_NE(0ull, self->f.old_timeout);
		ASSERT_EQ(0, exo_param_set("revoke_timeout_ms", 300));
		ASSERT_EQ(0, exo_revoke_request(self->f.exo, 0, nr, 0, 0, &id));
		break;
	}
	/* Nobody answers: wait for the abort (300 ms, and TCG's slowness). */
	for (t0 = now_ns(); now_ns() - t0 < WAIT_NS; usleep(10000)) {
		state(&st);
		if (st.repossessed >= nr && st.state == EXO_REVOKE_IDLE)
			break;
	}
	EXPECT_EQ(nr, st.repossessed);
	EXPECT_EQ(0ull, st.owed);
	EXPECT_EQ((uint32_t)EXO_REVOKE_IDLE, st.state);
	ctx(&b);
	EXPECT_EQ(nr, b.repossessed - a.repossessed);
	EXPECT_EQ(a.revoke_returned, b.revoke_returned);
	EXPECT_EQ((uint64_t)NPAGES - nr, b.frames);
	EXPECT_EQ((uint32_t)nr, b.repo_used);
	EXPECT_EQ(nr, exo_repo(self->f.exo)->used);
	EXPECT_EQ(nr, exo_sysfs_u64("repossessed") - sys0);
	EXPECT_EQ(1, pollpri(self->f.exo));

	while ((n = exo_events_next(self->f.exo, &pos, &ev, &lost)) == 1) {
		EXPECT_EQ(0ull, lost);
		EXPECT_EQ(id, ev.id);
		saw_revoke |= ev.type == EXO_EV_REVOKE;
		saw_urgent |= ev.type == EXO_EV_REVOKE_URGENT;
		if (ev.type == EXO_EV_REPOSSESSED) {
			saw_repo = true;
			EXPECT_EQ(nr, ev.nr);
		}
	}
	EXPECT_EQ(0, n);
	EXPECT_TRUE(saw_repo);
	/* With the flag the abort is the request; else it was warned. */
	EXPECT_EQ(variant->how != ABORT_FLAG, saw_revoke);
	EXPECT_EQ(variant->how != ABORT_FLAG, saw_urgent);

	if (variant->handle_first) {
		EXPECT_EQ(0, exo_vm_handle_events(self->f.vm));
		ASSERT_EQ(0, exo_vm_stats(self->f.vm, &vs));
		EXPECT_EQ(nr, vs.repossessed);
		EXPECT_EQ(nr, vs.recovered);
		EXPECT_EQ(0ull, exo_repo(self->f.exo)->used);
		EXPECT_EQ(0, pollpri(self->f.exo));
	}
	/* Every byte, through faults that say REPOSSESSED. */
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ(0, check_page(mem, self->f.psz, i, i < 12))
			TH_LOG("page %d", i);
	ASSERT_EQ(0, exo_vm_stats(self->f.vm, &vs));
	EXPECT_EQ(nr, vs.repossessed);
	EXPECT_EQ(nr, vs.recovered);
	EXPECT_EQ(nr, vs.page_ins);
	EXPECT_EQ((uint64_t)NPAGES, vs.resident);
	ctx(&b);
	EXPECT_EQ(0u, b.repo_used);
	EXPECT_EQ((uint64_t)NPAGES, b.frames);
	EXPECT_EQ(0, pollpri(self->f.exo));
	/* And they stay right when written again. */
	for (i = 0; i < NPAGES; i++)
		write_page(mem, self->f.psz, i);
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ(0, check_page(mem, self->f.psz, i, true));
}

/* A reader that falls a whole ring behind is told how many it lost. */
TEST_F(rv, events_lost)
{
	const struct exo_events_header *h;
	struct exo_frame fr;
	struct exo_event ev;
	uint64_t pos = 0, lost, total_lost = 0, head, seen = 0;
	uint32_t entries;
	int i, n;

	NEED_REVOKE();
	h = exo_events(self->f.exo);
	ASSERT_NE(NULL, h);
	EXPECT_EQ(EXO_EVENTS_MAGIC, h->magic);
	EXPECT_EQ(exo_api(self->f.exo)->event_entries, h->nr_entries);
	entries = h->nr_entries;
	/* Each round posts two events: REVOKE, then REVOKE_DONE. */
	for (i = 0; i < (int)entries / 2 + 20; i++) {
		ASSERT_EQ(0, exo_frame_alloc(self->f.exo, &fr));
		ASSERT_EQ(0, exo_revoke_request(self->f.exo, 0, 1, LONG_MS, 0,
						NULL));
		ASSERT_EQ(0, exo_frame_free(self->f.exo, fr.cap));
	}
	head = h->head;
	EXPECT_LT((uint64_t)entries, head);
	while ((n = exo_events_next(self->f.exo, &pos, &ev, &lost)) == 1) {
		total_lost += lost;
		/* Requests and their completions, in turn, from event 0. */
		EXPECT_EQ((ev.seq - 1) % 2 ? (uint32_t)EXO_EV_REVOKE_DONE :
					     (uint32_t)EXO_EV_REVOKE, ev.type);
		seen++;
	}
	EXPECT_EQ(0, n);
	EXPECT_EQ(head, pos);
	EXPECT_EQ(head - entries, total_lost);
	EXPECT_EQ((uint64_t)entries, seen);
}

/* The raw calls' errors (the module's, passed through as -errno). */
TEST_F(rv, raw_calls)
{
	const struct exo_repo_header *rh;
	struct exo_repo_entry re;
	struct exo_ftable_entry fe;
	struct exo_event ev;
	struct exo_frame fr;
	struct exo *other;
	exo_cap_t gcap = 0, g2;
	uint64_t pos = 0, cnt;
	uint32_t crit = ~0u;
	char buf[64];
	int efd, p[2];

	NEED_REVOKE();
	EXPECT_EQ(-EINVAL, exo_revoke_request(NULL, 0, 1, 0, 0, NULL));
	/* A context holding nothing has nothing to give. */
	EXPECT_EQ(-ENODATA, exo_revoke_request(self->f.exo, 0, 1, 0, 0, NULL));
	ASSERT_EQ(0, exo_frame_alloc(self->f.exo, &fr));
	EXPECT_EQ(-EINVAL, exo_revoke_request(self->f.exo, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EOPNOTSUPP, exo_revoke_request(self->f.exo, 0, 1, 0, 0x80,
						  NULL));
	EXPECT_EQ(-ESRCH, exo_revoke_request(self->f.exo, 0x7ffffff0, 1, 0, 0,
					     NULL));

	/* Notify: a bad eventfd, a bad signal; an eventfd counts events. */
	EXPECT_EQ(-EBADF, exo_revoke_notify(self->f.exo, 1000, 0));
	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-EINVAL, exo_revoke_notify(self->f.exo, p[0], 0));
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(-EINVAL, exo_revoke_notify(self->f.exo, -1, 1000));
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, exo_revoke_notify(self->f.exo, efd, 0));
	ASSERT_EQ(0, exo_revoke_request(self->f.exo, 0, 1, LONG_MS, 0, NULL));
	ASSERT_EQ((ssize_t)sizeof(cnt), read(efd, &cnt, sizeof(cnt)));
	EXPECT_EQ(1ull, cnt);
	ASSERT_EQ(0, exo_revoke_notify(self->f.exo, -1, 0));
	close(efd);

	/* Critical: marked, seen in the frame table, cleared; idempotent. */
	EXPECT_EQ(-ENOENT, exo_frame_critical(self->f.exo, fr.cap + 1, 0,
					      &crit));
	EXPECT_EQ(~0u, crit);
	ASSERT_EQ(0, exo_frame_critical(self->f.exo, fr.cap, 0, &crit));
	EXPECT_EQ(1u, crit);
	ASSERT_EQ(0, exo_frame_critical(self->f.exo, fr.cap, 0, &crit));
	EXPECT_EQ(1u, crit);
	ASSERT_EQ(0, exo_ftable_lookup(self->f.exo, fr.cap, &fe));
	EXPECT_EQ(EXO_FTABLE_CRITICAL, fe.flags & EXO_FTABLE_CRITICAL);
	ASSERT_EQ(0, exo_frame_critical(self->f.exo, fr.cap,
					EXO_CRITICAL_CLEAR, &crit));
	EXPECT_EQ(0u, crit);
	ASSERT_EQ(0, exo_frame_critical(self->f.exo, fr.cap,
					EXO_CRITICAL_CLEAR, NULL));
	ASSERT_EQ(0, exo_ftable_lookup(self->f.exo, fr.cap, &fe));
	EXPECT_EQ(0u, fe.flags & EXO_FTABLE_CRITICAL);

	/* Grants: to another context of ours, which sees it in its table. */
	ASSERT_EQ(0, exo_open(&other));
	EXPECT_EQ(-EINVAL, exo_frame_grant(self->f.exo, fr.cap, 1, NULL));
	EXPECT_EQ(-ESRCH, exo_frame_grant(self->f.exo, fr.cap, 0x7ffffff0,
					  &gcap));
	EXPECT_EQ(-EINVAL, exo_frame_grant(self->f.exo, fr.cap,
					   exo_api(self->f.exo)->ctx_id,
					   &gcap));
	EXPECT_EQ(-ENOENT, exo_frame_grant(self->f.exo, fr.cap + 1,
					   exo_api(other)->ctx_id, &gcap));
	ASSERT_EQ(0, exo_frame_grant(self->f.exo, fr.cap,
				     exo_api(other)->ctx_id, &gcap));
	ASSERT_EQ(0, exo_ftable_lookup(other, gcap, &fe));
	EXPECT_EQ(EXO_FRAME_GRANTED, fe.state);
	EXPECT_EQ(exo_api(self->f.exo)->ctx_id, fe.owner);
	EXPECT_EQ(fr.pfn, fe.pfn);
	/* Not granted on; not marked critical by the grantee. */
	EXPECT_EQ(-EINVAL, exo_frame_grant(other, gcap,
					   exo_api(self->f.exo)->ctx_id, &g2));
	EXPECT_EQ(-EINVAL, exo_frame_critical(other, gcap, 0, NULL));
	/* The owner's free takes it back: the grantee hears of it. */
	ASSERT_EQ(0, exo_frame_free(self->f.exo, fr.cap));
	EXPECT_EQ(-ENOENT, exo_ftable_lookup(other, gcap, NULL));
	ASSERT_EQ(1, exo_events_next(other, &pos, &ev, NULL));
	EXPECT_EQ((uint32_t)EXO_EV_GRANT_REVOKED, ev.type);
	EXPECT_EQ(gcap, ev.arg);
	exo_close(other);

	/* The vector: geometry, errors of reads and of RECOVER. */
	rh = exo_repo(self->f.exo);
	ASSERT_NE(NULL, rh);
	EXPECT_EQ(EXO_REPO_MAGIC, rh->magic);
	EXPECT_EQ(exo_api(self->f.exo)->repo_entries, rh->nr_entries);
	EXPECT_EQ(-ERANGE, exo_repo_read(self->f.exo, rh->nr_entries,
					 &re));
	ASSERT_EQ(0, exo_repo_read(self->f.exo, 0, &re));
	EXPECT_EQ((uint32_t)EXO_REPO_FREE, re.state);
	EXPECT_EQ(-EINVAL, exo_repo_read(self->f.exo, 0, NULL));
	EXPECT_EQ(-EINVAL, exo_repo_recover(self->f.exo, 0, 0, 1,
					    EXO_RECOVER_TO_FRAME |
					    EXO_RECOVER_TO_USER, 0, 0, buf));
	EXPECT_EQ(-EINVAL, exo_repo_recover(self->f.exo, 0, 0, 0,
					    EXO_RECOVER_KEEP, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, exo_repo_recover(self->f.exo, rh->nr_entries, 0, 0,
					    0, 0, 0, NULL));
	EXPECT_EQ(-ENOENT, exo_repo_recover(self->f.exo, 0, 0, 0, 0, 0, 0,
					    NULL));

	EXPECT_EQ(-EINVAL, exo_events_next(self->f.exo, NULL, &ev, NULL));
	EXPECT_EQ(-EINVAL, exo_revoke_state(self->f.exo, NULL));
	EXPECT_EQ(-EINVAL, exo_vm_handle_events(NULL));
	EXPECT_EQ(-EINVAL, exo_vm_set_revoke_policy(NULL, NULL, NULL));
}

/*
 * EPERM: root is allowed to revoke, so a child drops CAP_SYS_ADMIN from its
 * effective set and tries.
 */
TEST_F(rv, revoke_needs_cap_sys_admin)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	pid_t pid;
	int status;

	NEED_REVOKE();
	if (syscall(SYS_capget, &hdr, data) ||
	    !(data[0].effective & (1u << CAP_SYS_ADMIN)))
		SKIP(return, "not run with CAP_SYS_ADMIN");
	pid = exo_fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct exo_frame fr;
		struct exo *exo;

		if (exo_open(&exo) || exo_frame_alloc(exo, &fr))
			_exit(2);
		data[0].effective &= ~(1u << CAP_SYS_ADMIN);
		if (syscall(SYS_capset, &hdr, data))
			_exit(3);
		_exit(exo_revoke_request(exo, 0, 1, 0, 0, NULL) == -EPERM ?
		      0 : 1);
	}
	status = exo_wait(pid);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
	/* The runner reads results as they come: one line at a time. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test_harness_run(argc, argv);
}
