// SPDX-License-Identifier: GPL-2.0
/*
 * exo ioctl ABI tests: struct sizing (iommufd's TEST_LENGTH pattern), flags,
 * reserved fields, bad pointers, unknown commands, the handshake and the
 * range checks of EXO_IOC_FRAME_ALLOC. The VM, revocation, network and call
 * commands get the same struct checks here (the network ones on the
 * loopback interface); their semantics are exo_vm_test's, exo_revoke_test's,
 * the network tests' and exo_call_test's. Every failing call is checked to
 * change nothing: not the caller's struct, not the context's counters, not
 * the module-wide counters, not the frame table.
 *
 * All calls are raw ioctl()s so the tests control every byte.
 */
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>

#include "exo_util.h"

/* ------------------------------------------------------------------------
 * Per-command ABI tests, one variant per ioctl.
 */

FIXTURE(cmd) {
	struct exo_ctx ctx;
	struct exo_counters base;
	size_t psz;
	uint8_t *arena;		/* page 0: RW, page 1: PROT_NONE, page 2: RO */
	uint64_t pending_cap;	/* frame prepared for EXO_IOC_FRAME_FREE */
	/* VM commands: an exo VMA, a frame to bind, and their arrays */
	uint8_t *vma;		/* CMD_VMA_PAGES pages, RW */
	uint8_t *scratch;	/* entries, ranges, pages, bitmaps, tables */
	uint64_t vm_cap;
	uint64_t vm_pfn;
	uint64_t held;		/* frames the fixture holds (vm_cap) */
	/* revocation commands */
	struct exo_ctx peer;	/* FRAME_GRANT's, CALL_*'s grantee */
	int efd;		/* REVOKE_NOTIFY's eventfd */
	const struct exo_repo_header *repo;
	uint32_t slot1;		/* RECOVER: a SAVED vector entry + 1 */
	/* network commands, on the loopback interface */
	uint32_t ifindex;	/* lo */
	uint32_t net_id;	/* a claim prep made for the command */
	uint64_t ring_caps[2];	/* RING, TX: the ring frames prep made */
	uint8_t *ring_va;	/* RING and TX: 2 pages to bind them at */
	/* call commands */
	uint32_t entry_id;	/* an entry prep registered for the command */
	uint64_t call_cap;	/* REVOKE: a capability prep granted the peer */
	/* thread commands */
	bool thread_reg;	/* UNREGISTER: prep registered this thread */
};

#define CMD_VMA_PAGES	4
#define SCRATCH_FILL	0xa5

FIXTURE_VARIANT(cmd) {
	const char *name;
	unsigned long ioc;
	uint32_t size;
	uint32_t min_size;	/* smallest size the module accepts */
	int reserved_off;	/* offset of __reserved, -1 if none */
	int reserved_len;
	bool output;		/* the command copies results back */
	bool vm;		/* needs the exo VMA and frame */
	uint32_t valid_flags;	/* flags bits the command defines */
	bool cap;		/* takes a capability (pending_cap) */
	bool scratch;		/* needs the scratch pages */
	bool attach;		/* needs lo attached */
};

FIXTURE_VARIANT_ADD(cmd, api) {
	.name = "EXO_IOC_API",
	.ioc = EXO_IOC_API,
	.size = sizeof(struct exo_api),
	.min_size = offsetofend(struct exo_api, ftable_size),
	.reserved_off = offsetof(struct exo_api, __reserved),
	.reserved_len = sizeof(((struct exo_api *)0)->__reserved),
	.output = true,
};

FIXTURE_VARIANT_ADD(cmd, ctx_info) {
	.name = "EXO_IOC_CTX_INFO",
	.ioc = EXO_IOC_CTX_INFO,
	.size = sizeof(struct exo_ctx_info),
	.min_size = offsetofend(struct exo_ctx_info, frees),
	.reserved_off = -1,
	.output = true,
};

FIXTURE_VARIANT_ADD(cmd, frame_alloc) {
	.name = "EXO_IOC_FRAME_ALLOC",
	.ioc = EXO_IOC_FRAME_ALLOC,
	.size = sizeof(struct exo_frame_alloc),
	.min_size = offsetofend(struct exo_frame_alloc, cap),
	.reserved_off = offsetof(struct exo_frame_alloc, __reserved),
	.reserved_len = sizeof(((struct exo_frame_alloc *)0)->__reserved),
	.output = true,
};

FIXTURE_VARIANT_ADD(cmd, frame_free) {
	.name = "EXO_IOC_FRAME_FREE",
	.ioc = EXO_IOC_FRAME_FREE,
	.size = sizeof(struct exo_frame_free),
	.min_size = offsetofend(struct exo_frame_free, cap),
	.reserved_off = -1,
	.output = false,
};

FIXTURE_VARIANT_ADD(cmd, map) {
	.name = "EXO_IOC_MAP",
	.ioc = EXO_IOC_MAP,
	.size = sizeof(struct exo_map),
	.min_size = offsetofend(struct exo_map, entries),
	.reserved_off = offsetof(struct exo_map, __reserved),
	.reserved_len = sizeof(((struct exo_map *)0)->__reserved),
	.vm = true,
};

FIXTURE_VARIANT_ADD(cmd, unmap) {
	.name = "EXO_IOC_UNMAP",
	.ioc = EXO_IOC_UNMAP,
	.size = sizeof(struct exo_vm_ranges),
	.min_size = offsetofend(struct exo_vm_ranges, ranges),
	.reserved_off = -1,
	.vm = true,
};

FIXTURE_VARIANT_ADD(cmd, protect) {
	.name = "EXO_IOC_PROTECT",
	.ioc = EXO_IOC_PROTECT,
	.size = sizeof(struct exo_vm_ranges),
	.min_size = offsetofend(struct exo_vm_ranges, ranges),
	.reserved_off = -1,
	.vm = true,
	.valid_flags = EXO_PROTECT_POPULATE,
};

FIXTURE_VARIANT_ADD(cmd, query) {
	.name = "EXO_IOC_QUERY",
	.ioc = EXO_IOC_QUERY,
	.size = sizeof(struct exo_query),
	.min_size = offsetofend(struct exo_query, pages),
	.reserved_off = offsetof(struct exo_query, __reserved),
	.reserved_len = sizeof(((struct exo_query *)0)->__reserved),
	.vm = true,
	.valid_flags = EXO_QUERY_CLEAR_ACCESSED,
};

FIXTURE_VARIANT_ADD(cmd, dirty) {
	.name = "EXO_IOC_DIRTY",
	.ioc = EXO_IOC_DIRTY,
	.size = sizeof(struct exo_dirty),
	.min_size = offsetofend(struct exo_dirty, bitmap),
	.reserved_off = -1,
	.output = true,
	.vm = true,
};

FIXTURE_VARIANT_ADD(cmd, stlb) {
	.name = "EXO_IOC_STLB",
	.ioc = EXO_IOC_STLB,
	.size = sizeof(struct exo_stlb),
	.min_size = offsetofend(struct exo_stlb, __reserved),
	.reserved_off = offsetof(struct exo_stlb, __reserved),
	.reserved_len = sizeof(((struct exo_stlb *)0)->__reserved),
	.vm = true,
};

FIXTURE_VARIANT_ADD(cmd, fault_mode) {
	.name = "EXO_IOC_FAULT_MODE",
	.ioc = EXO_IOC_FAULT_MODE,
	.size = sizeof(struct exo_fault_mode),
	.min_size = offsetofend(struct exo_fault_mode, __reserved),
	.reserved_off = offsetof(struct exo_fault_mode, __reserved),
	.reserved_len = sizeof(((struct exo_fault_mode *)0)->__reserved),
	.output = true,
	.vm = true,
};

FIXTURE_VARIANT_ADD(cmd, fault_wake) {
	.name = "EXO_IOC_FAULT_WAKE",
	.ioc = EXO_IOC_FAULT_WAKE,
	.size = sizeof(struct exo_fault_wake),
	.min_size = offsetofend(struct exo_fault_wake, len),
	.reserved_off = -1,
	.vm = true,
	.valid_flags = EXO_WAKE_SIGBUS,
};

FIXTURE_VARIANT_ADD(cmd, revoke) {
	.name = "EXO_IOC_REVOKE",
	.ioc = EXO_IOC_REVOKE,
	.size = sizeof(struct exo_revoke),
	.min_size = offsetofend(struct exo_revoke, id),
	/* id is an output: zero on input */
	.reserved_off = offsetof(struct exo_revoke, id),
	.reserved_len = sizeof(((struct exo_revoke *)0)->id),
	.output = true,
	.valid_flags = EXO_REVOKE_ABORT,
	.cap = true,
};

FIXTURE_VARIANT_ADD(cmd, revoke_notify) {
	.name = "EXO_IOC_REVOKE_NOTIFY",
	.ioc = EXO_IOC_REVOKE_NOTIFY,
	.size = sizeof(struct exo_revoke_notify),
	.min_size = offsetofend(struct exo_revoke_notify, signo),
	.reserved_off = -1,
};

FIXTURE_VARIANT_ADD(cmd, frame_critical) {
	.name = "EXO_IOC_FRAME_CRITICAL",
	.ioc = EXO_IOC_FRAME_CRITICAL,
	.size = sizeof(struct exo_frame_critical),
	.min_size = offsetofend(struct exo_frame_critical, __reserved),
	.reserved_off = offsetof(struct exo_frame_critical, __reserved),
	.reserved_len = sizeof(((struct exo_frame_critical *)0)->__reserved),
	.output = true,
	.valid_flags = EXO_CRITICAL_CLEAR,
	.cap = true,
};

FIXTURE_VARIANT_ADD(cmd, frame_grant) {
	.name = "EXO_IOC_FRAME_GRANT",
	.ioc = EXO_IOC_FRAME_GRANT,
	.size = sizeof(struct exo_frame_grant),
	.min_size = offsetofend(struct exo_frame_grant, grant_cap),
	.reserved_off = offsetof(struct exo_frame_grant, __reserved),
	.reserved_len = sizeof(((struct exo_frame_grant *)0)->__reserved),
	.output = true,
	.cap = true,
};

FIXTURE_VARIANT_ADD(cmd, recover) {
	.name = "EXO_IOC_RECOVER",
	.ioc = EXO_IOC_RECOVER,
	.size = sizeof(struct exo_recover),
	.min_size = offsetofend(struct exo_recover, buf),
	.reserved_off = -1,
	.valid_flags = EXO_RECOVER_TO_FRAME | EXO_RECOVER_TO_USER |
		       EXO_RECOVER_KEEP,
	.scratch = true,
};

FIXTURE_VARIANT_ADD(cmd, net_attach) {
	.name = "EXO_IOC_NET_ATTACH",
	.ioc = EXO_IOC_NET_ATTACH,
	.size = sizeof(struct exo_net_attach),
	.min_size = offsetofend(struct exo_net_attach, __reserved),
	.reserved_off = offsetof(struct exo_net_attach, __reserved),
	.reserved_len = sizeof(((struct exo_net_attach *)0)->__reserved),
	.valid_flags = EXO_NET_DETACH,
};

FIXTURE_VARIANT_ADD(cmd, net_claim) {
	.name = "EXO_IOC_NET_CLAIM",
	.ioc = EXO_IOC_NET_CLAIM,
	.size = sizeof(struct exo_net_claim),
	.min_size = offsetofend(struct exo_net_claim, id),
	.reserved_off = offsetof(struct exo_net_claim, __pad),
	.reserved_len = sizeof(((struct exo_net_claim *)0)->__pad),
	.output = true,
	.attach = true,
};

FIXTURE_VARIANT_ADD(cmd, net_unclaim) {
	.name = "EXO_IOC_NET_UNCLAIM",
	.ioc = EXO_IOC_NET_UNCLAIM,
	.size = sizeof(struct exo_net_unclaim),
	.min_size = offsetofend(struct exo_net_unclaim, __reserved),
	.reserved_off = offsetof(struct exo_net_unclaim, __reserved),
	.reserved_len = sizeof(((struct exo_net_unclaim *)0)->__reserved),
	.attach = true,
};

FIXTURE_VARIANT_ADD(cmd, net_handler) {
	.name = "EXO_IOC_NET_HANDLER",
	.ioc = EXO_IOC_NET_HANDLER,
	.size = sizeof(struct exo_net_handler),
	.min_size = offsetofend(struct exo_net_handler, prog_fd),
	.reserved_off = -1,
	.attach = true,
};

FIXTURE_VARIANT_ADD(cmd, net_ring) {
	.name = "EXO_IOC_NET_RING",
	.ioc = EXO_IOC_NET_RING,
	.size = sizeof(struct exo_net_ring),
	.min_size = offsetofend(struct exo_net_ring, nr_slots),
	.reserved_off = -1,
	.output = true,
	.scratch = true,
};

FIXTURE_VARIANT_ADD(cmd, net_tx) {
	.name = "EXO_IOC_NET_TX",
	.ioc = EXO_IOC_NET_TX,
	.size = sizeof(struct exo_net_tx),
	.min_size = offsetofend(struct exo_net_tx, rejected),
	.reserved_off = -1,
	.output = true,
};

FIXTURE_VARIANT_ADD(cmd, net_stats) {
	.name = "EXO_IOC_NET_STATS",
	.ioc = EXO_IOC_NET_STATS,
	.size = sizeof(struct exo_net_stats),
	.min_size = offsetofend(struct exo_net_stats, bad_verdict),
	.reserved_off = offsetof(struct exo_net_stats, __reserved),
	.reserved_len = sizeof(((struct exo_net_stats *)0)->__reserved),
	.output = true,
	.attach = true,
};

FIXTURE_VARIANT_ADD(cmd, entry_register) {
	.name = "EXO_IOC_ENTRY_REGISTER",
	.ioc = EXO_IOC_ENTRY_REGISTER,
	.size = sizeof(struct exo_entry_register),
	.min_size = offsetofend(struct exo_entry_register, __reserved),
	/* id is an output, zero on input; __reserved follows it */
	.reserved_off = offsetof(struct exo_entry_register, id),
	.reserved_len = offsetofend(struct exo_entry_register, __reserved) -
			offsetof(struct exo_entry_register, id),
	.output = true,
};

FIXTURE_VARIANT_ADD(cmd, entry_unregister) {
	.name = "EXO_IOC_ENTRY_UNREGISTER",
	.ioc = EXO_IOC_ENTRY_UNREGISTER,
	.size = sizeof(struct exo_entry_unregister),
	.min_size = offsetofend(struct exo_entry_unregister, __reserved),
	.reserved_off = offsetof(struct exo_entry_unregister, __reserved),
	.reserved_len = sizeof(((struct exo_entry_unregister *)0)->__reserved),
};

FIXTURE_VARIANT_ADD(cmd, call_grant) {
	.name = "EXO_IOC_CALL_GRANT",
	.ioc = EXO_IOC_CALL_GRANT,
	.size = sizeof(struct exo_call_grant),
	.min_size = offsetofend(struct exo_call_grant, cap),
	/* cap is an output: zero on input */
	.reserved_off = offsetof(struct exo_call_grant, cap),
	.reserved_len = sizeof(((struct exo_call_grant *)0)->cap),
	.output = true,
};

FIXTURE_VARIANT_ADD(cmd, call_revoke) {
	.name = "EXO_IOC_CALL_REVOKE",
	.ioc = EXO_IOC_CALL_REVOKE,
	.size = sizeof(struct exo_call_revoke),
	.min_size = offsetofend(struct exo_call_revoke, cap),
	.reserved_off = -1,
};

FIXTURE_VARIANT_ADD(cmd, thread_register) {
	.name = "EXO_IOC_THREAD_REGISTER",
	.ioc = EXO_IOC_THREAD_REGISTER,
	.size = sizeof(struct exo_thread_register),
	.min_size = offsetofend(struct exo_thread_register, table_size),
	/* id and table_size are outputs, zero on input */
	.reserved_off = offsetof(struct exo_thread_register, id),
	.reserved_len = offsetofend(struct exo_thread_register, table_size) -
			offsetof(struct exo_thread_register, id),
	.output = true,
	.valid_flags = EXO_THREAD_UPCALL,
};

FIXTURE_VARIANT_ADD(cmd, thread_unregister) {
	.name = "EXO_IOC_THREAD_UNREGISTER",
	.ioc = EXO_IOC_THREAD_UNREGISTER,
	.size = sizeof(struct exo_thread_unregister),
	.min_size = offsetofend(struct exo_thread_unregister, flags),
	.reserved_off = -1,
};

/* The network commands' UDP port on lo: one per command. */
#define CMD_NET_PORT(ioc)	(40000 + _IOC_NR(ioc) - EXO_CMD_BASE)

static int net_attach(int fd, uint32_t ifindex, uint32_t flags)
{
	struct exo_net_attach a = {
		.size = sizeof(a),
		.flags = flags,
		.ifindex = ifindex,
	};

	return _test_ioctl(fd, EXO_IOC_NET_ATTACH, &a);
}

/* Claim UDP @port on @ifindex without a handler; 0 or -errno. */
static int net_claim(int fd, uint32_t ifindex, uint16_t port, uint32_t *id)
{
	struct exo_net_claim c = {
		.size = sizeof(c),
		.ifindex = ifindex,
		.ethertype = ETH_P_IP,
		.ip_proto = IPPROTO_UDP,
		.port = port,
		.abi = EXO_NET_ABI,
		.prog_fd = -1,
	};
	int rc = _test_ioctl(fd, EXO_IOC_NET_CLAIM, &c);

	if (!rc)
		*id = c.id;
	return rc;
}

static int net_unclaim(int fd, uint32_t id)
{
	struct exo_net_unclaim u = { .size = sizeof(u), .id = id };

	return _test_ioctl(fd, EXO_IOC_NET_UNCLAIM, &u);
}

static int net_stats(int fd, uint32_t id, struct exo_net_stats *out)
{
	*out = (struct exo_net_stats){ .size = sizeof(*out), .id = id };
	return _test_ioctl(fd, EXO_IOC_NET_STATS, out);
}

/* Register a ring of @kind from @nr caps, or unregister it (@nr 0). */
static int net_ring(int fd, uint32_t kind, const uint64_t *caps, uint32_t nr)
{
	struct exo_net_ring r = {
		.size = sizeof(r),
		.kind = kind,
		.nr_caps = nr,
		.caps = (uintptr_t)caps,
		.eventfd = -1,
	};

	return _test_ioctl(fd, EXO_IOC_NET_RING, &r);
}

/* ENTRY_REGISTER's pc: code of ours, never run (no call is made). */
static void cmd_entry(void)
{
}

static int entry_register(int fd, uint32_t *id)
{
	struct exo_entry_register r = {
		.size = sizeof(r),
		.pc = (uintptr_t)cmd_entry,
	};
	int rc = _test_ioctl(fd, EXO_IOC_ENTRY_REGISTER, &r);

	if (!rc)
		*id = r.id;
	return rc;
}

static int entry_unregister(int fd, uint32_t id)
{
	struct exo_entry_unregister u = { .size = sizeof(u), .id = id };

	return _test_ioctl(fd, EXO_IOC_ENTRY_UNREGISTER, &u);
}

static int call_grant(int fd, uint32_t entry, uint32_t ctx_id, uint64_t *cap)
{
	struct exo_call_grant g = {
		.size = sizeof(g),
		.entry = entry,
		.ctx_id = ctx_id,
	};
	int rc = _test_ioctl(fd, EXO_IOC_CALL_GRANT, &g);

	if (!rc)
		*cap = g.cap;
	return rc;
}

static int call_revoke(int fd, uint32_t entry, uint32_t ctx_id, uint64_t cap)
{
	struct exo_call_revoke r = {
		.size = sizeof(r),
		.entry = entry,
		.ctx_id = ctx_id,
		.cap = cap,
	};

	return _test_ioctl(fd, EXO_IOC_CALL_REVOKE, &r);
}

FIXTURE_SETUP(cmd)
{
	struct exo_frame_alloc a = { 0 };

	self->ctx.fd = -1;
	self->peer.fd = -1;
	self->efd = -1;
	self->arena = MAP_FAILED;
	exo_counters_read(&self->base);
	exo_ctx_open(&self->ctx, true);
	if (variant->ioc == EXO_IOC_FRAME_GRANT ||
	    variant->ioc == EXO_IOC_CALL_GRANT ||
	    variant->ioc == EXO_IOC_CALL_REVOKE)
		exo_ctx_open(&self->peer, true);
	if (variant->ioc == EXO_IOC_REVOKE_NOTIFY) {
		self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_LE(0, self->efd);
	}
	if (variant->ioc == EXO_IOC_RECOVER) {
		void *p = mmap(NULL, self->ctx.api.repo_size, PROT_READ,
			       MAP_SHARED, self->ctx.fd, EXO_MMAP_REPO);

		ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap of the vector: %s",
						strerror(errno));
		self->repo = p;
	}

	self->psz = sysconf(_SC_PAGESIZE);
	self->arena = mmap(NULL, 3 * self->psz, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->arena);
	memset(self->arena, 0, 3 * self->psz);
	ASSERT_EQ(0, mprotect(self->arena + self->psz, self->psz, PROT_NONE));
	ASSERT_EQ(0, mprotect(self->arena + 2 * self->psz, self->psz,
			      PROT_READ));
	self->ifindex = if_nametoindex("lo");
	ASSERT_NE(0U, self->ifindex) TH_LOG("lo: %s", strerror(errno));
	if (variant->attach)
		ASSERT_EQ(0, net_attach(self->ctx.fd, self->ifindex, 0));
	if (variant->ioc == EXO_IOC_NET_RING ||
	    variant->ioc == EXO_IOC_NET_TX) {
		self->ring_va = exo_vm_mmap(self->ctx.fd, 2 * self->psz,
					    PROT_READ | PROT_WRITE);
		ASSERT_NE(NULL, self->ring_va)
			TH_LOG("mmap of an exo VMA: %s", strerror(errno));
	}
	if (!variant->vm && !variant->scratch)
		return;
	self->scratch = mmap(NULL, 2 * self->psz, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->scratch);
	if (!variant->vm)
		return;
	self->vma = exo_vm_mmap(self->ctx.fd, CMD_VMA_PAGES * self->psz,
				PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->vma)
		TH_LOG("mmap of an exo VMA: %s", strerror(errno));
	test_alloc_any(self->ctx.fd, &a);
	self->vm_cap = a.cap;
	self->vm_pfn = a.pfn;
	self->held = 1;
}

FIXTURE_TEARDOWN(cmd)
{
	if (self->pending_cap && self->ctx.fd >= 0)
		_test_frame_free(self->ctx.fd, self->pending_cap);
	/* the exo VMA holds the context: it goes first */
	if (self->vma)
		munmap(self->vma, CMD_VMA_PAGES * self->psz);
	if (self->ring_va)
		munmap(self->ring_va, 2 * self->psz);
	if (self->repo)
		munmap((void *)self->repo, self->ctx.api.repo_size);
	exo_ctx_close(&self->ctx);
	exo_ctx_close(&self->peer);
	if (self->efd >= 0)
		close(self->efd);
	if (self->arena != MAP_FAILED)
		munmap(self->arena, 3 * self->psz);
	if (self->scratch && self->scratch != MAP_FAILED)
		munmap(self->scratch, 2 * self->psz);
	exo_counters_expect_baseline(&self->base);
}

static void set_u32(void *buf, size_t off, uint32_t v)
{
	memcpy((uint8_t *)buf + off, &v, sizeof(v));
}

/* Bind vma page 0 to the fixture's frame (RW) unless it is bound. */
static void __bind_page0(struct __test_metadata *_metadata,
			 FIXTURE_DATA(cmd) *self)
{
	if (exo_vpage_of(self->ctx.fd, self->vma).state & EXO_VPAGE_BOUND)
		return;
	test_map_one(self->ctx.fd, self->vma, self->vm_cap, 0, 1,
		     EXO_PROT_READ | EXO_PROT_WRITE);
}

/* Entries of a frame table in EXO_FRAME_GRANTED state. */
static int ft_count_granted(const void *ft)
{
	struct exo_ftable_entry e;
	uint32_t i;
	int n = 0;

	for (i = 0; i < exo_ft_hdr(ft)->nr_entries; i++)
		if (!exo_ft_read(ft, i, &e) && e.state == EXO_FRAME_GRANTED)
			n++;
	return n;
}

static const struct exo_repo_entry *repo_entry(const struct exo_repo_header *h,
					       uint32_t slot)
{
	return (const void *)((const char *)h + h->entries_offset +
			      (size_t)slot * h->entry_size);
}

/* Ask the module to revoke @nr frames of this context; 0 or -errno. */
static int revoke_self(int fd, uint32_t flags, uint64_t nr)
{
	struct exo_revoke r = {
		.size = sizeof(r),
		.flags = flags,
		.timeout_ms = 60000,
		.nr = nr,
	};

	return _test_ioctl(fd, EXO_IOC_REVOKE, &r);
}

/*
 * A SAVED entry of the vector for RECOVER: a fresh (zeroed) frame that an
 * abort of the context's own frames took. Kept across failed calls.
 */
static uint32_t __saved_slot(struct __test_metadata *_metadata,
			     FIXTURE_DATA(cmd) *self)
{
	const struct exo_repo_entry *e;
	uint64_t cap;
	uint32_t i;

	if (self->slot1)
		return self->slot1 - 1;
	cap = exo_alloc_any_cap(self->ctx.fd);
	ASSERT_EQ(0, revoke_self(self->ctx.fd, EXO_REVOKE_ABORT, 1));
	for (i = 0; i < self->repo->nr_entries; i++) {
		e = repo_entry(self->repo, i);
		if (e->state == EXO_REPO_SAVED && e->cap == cap)
			self->slot1 = i + 1;
	}
	ASSERT_NE(0U, self->slot1) TH_LOG("the abort recorded nothing");
	return self->slot1 - 1;
}

/* Is the context's REVOKE_NOTIFY eventfd registered? Leaves none. */
static bool __notify_registered(struct __test_metadata *_metadata,
				FIXTURE_DATA(cmd) *self)
{
	struct exo_revoke_notify off = { .size = sizeof(off), .eventfd = -1 };
	uint64_t cap = exo_alloc_any_cap(self->ctx.fd), v = 0;
	bool signalled;

	while (read(self->efd, &v, sizeof(v)) == sizeof(v))
		;
	v = 0;
	EXPECT_EQ(0, revoke_self(self->ctx.fd, 0, 1));
	signalled = read(self->efd, &v, sizeof(v)) == sizeof(v) && v;
	test_frame_free(self->ctx.fd, cap);	/* owed 0: REVOKE_DONE */
	EXPECT_EQ(0, _test_ioctl(self->ctx.fd, EXO_IOC_REVOKE_NOTIFY, &off));
	while (read(self->efd, &v, sizeof(v)) == sizeof(v))
		;
	return signalled;
}

/* The claim UNCLAIM, HANDLER and STATS work on: made once, kept on failure. */
static uint32_t __net_id(struct __test_metadata *_metadata,
			 FIXTURE_DATA(cmd) *self,
			 const FIXTURE_VARIANT(cmd) *variant)
{
	if (!self->net_id)
		EXPECT_EQ(0, net_claim(self->ctx.fd, self->ifindex,
				       CMD_NET_PORT(variant->ioc),
				       &self->net_id));
	return self->net_id;
}

static struct exo_net_ring_header *ring_hdr(FIXTURE_DATA(cmd) *self)
{
	return (struct exo_net_ring_header *)self->ring_va;
}

/*
 * TX's ring: two frames bound at ring_va, registered, holding one slot exo
 * must refuse (length 0), so a good call has something to consume.
 */
static void __tx_ring(struct __test_metadata *_metadata,
		      FIXTURE_DATA(cmd) *self)
{
	struct exo_net_ring_header *h = ring_hdr(self);
	struct exo_net_slot *s;

	if (self->ring_caps[0])
		return;
	self->ring_caps[0] = exo_alloc_any_cap(self->ctx.fd);
	self->ring_caps[1] = exo_alloc_any_cap(self->ctx.fd);
	test_map_one(self->ctx.fd, self->ring_va, self->ring_caps[0], 0, 1,
		     EXO_PROT_READ | EXO_PROT_WRITE);
	test_map_one(self->ctx.fd, self->ring_va + self->psz,
		     self->ring_caps[1], 0, 1,
		     EXO_PROT_READ | EXO_PROT_WRITE);
	ASSERT_EQ(0, net_ring(self->ctx.fd, EXO_NET_TX, self->ring_caps, 2));
	ASSERT_EQ(EXO_NET_RING_MAGIC, h->magic);
	ASSERT_EQ(0U, h->cons);
	s = (void *)(self->ring_va + h->slots_offset);
	memset(s, 0, sizeof(*s));
	s->ifindex = self->ifindex;
	__atomic_store_n(&h->prod, 1, __ATOMIC_RELEASE);
}

/* The entry UNREGISTER, GRANT and REVOKE name: made once, kept on failure. */
static uint32_t __entry_id(struct __test_metadata *_metadata,
			   FIXTURE_DATA(cmd) *self)
{
	if (!self->entry_id)
		EXPECT_EQ(0, entry_register(self->ctx.fd, &self->entry_id));
	return self->entry_id;
}

static int thread_register(int fd)
{
	struct exo_thread_register r = { .size = sizeof(r) };
	int rc = _test_ioctl(fd, EXO_IOC_THREAD_REGISTER, &r);

	return rc ? rc : (int)r.id;
}

static int thread_unregister(int fd)
{
	struct exo_thread_unregister u = { .size = sizeof(u) };

	return _test_ioctl(fd, EXO_IOC_THREAD_UNREGISTER, &u);
}

/* REVOKE's capability: the peer's, for that entry; kept on failure. */
static uint64_t __call_cap(struct __test_metadata *_metadata,
			   FIXTURE_DATA(cmd) *self)
{
	uint32_t entry = __entry_id(_metadata, self);

	if (!self->call_cap && entry)
		EXPECT_EQ(0, call_grant(self->ctx.fd, entry,
					self->peer.api.ctx_id,
					&self->call_cap));
	return self->call_cap;
}

/*
 * Fill @buf (@len bytes, zeroed) with a valid struct for the variant's
 * command, its size field set to the real struct size. For FRAME_FREE this
 * allocates the frame to free; for UNMAP, PROTECT, QUERY and DIRTY it binds
 * vma page 0 (RW, so dirty) to the fixture's frame. UNCLAIM, HANDLER and
 * STATS get a claim of UDP port CMD_NET_PORT on lo; RING gets two frames
 * (their caps in the scratch page); TX gets a transmit ring. UNREGISTER,
 * CALL_GRANT and CALL_REVOKE get an entry; CALL_REVOKE the peer's call
 * capability for it.
 */
static void __prep(struct __test_metadata *_metadata,
		   FIXTURE_DATA(cmd) *self, const FIXTURE_VARIANT(cmd) *variant,
		   void *buf, size_t len)
{
	memset(buf, 0, len);
	set_u32(buf, offsetof(struct exo_api, size), variant->size);
	switch (variant->ioc) {
	case EXO_IOC_API:
		set_u32(buf, offsetof(struct exo_api, api), EXO_API_VERSION);
		break;
	case EXO_IOC_FRAME_ALLOC:
		set_u32(buf, offsetof(struct exo_frame_alloc, how),
			EXO_ALLOC_ANY);
		break;
	case EXO_IOC_FRAME_FREE:
		if (!self->pending_cap)
			self->pending_cap = exo_alloc_any_cap(self->ctx.fd);
		((struct exo_frame_free *)buf)->cap = self->pending_cap;
		break;
	case EXO_IOC_MAP: {
		struct exo_map_entry *e = (void *)self->scratch;

		memset(e, 0, sizeof(*e));
		e->va = (uintptr_t)self->vma;
		e->cap = self->vm_cap;
		e->nr = 1;
		e->prot = EXO_PROT_READ | EXO_PROT_WRITE;
		((struct exo_map *)buf)->nr = 1;
		((struct exo_map *)buf)->entries = (uintptr_t)e;
		break;
	}
	case EXO_IOC_UNMAP:
	case EXO_IOC_PROTECT: {
		struct exo_vm_ranges *r = buf;
		struct exo_vrange *v = (void *)self->scratch;

		__bind_page0(_metadata, self);
		v->va = (uintptr_t)self->vma;
		v->len = self->psz;
		r->nr = 1;
		r->ranges = (uintptr_t)v;
		if (variant->ioc == EXO_IOC_PROTECT)
			r->prot = EXO_PROT_READ;
		break;
	}
	case EXO_IOC_QUERY: {
		struct exo_query *q = buf;

		__bind_page0(_metadata, self);
		memset(self->scratch, SCRATCH_FILL, self->psz);
		q->va = (uintptr_t)self->vma;
		q->nr = 1;
		q->pages = (uintptr_t)self->scratch;
		break;
	}
	case EXO_IOC_DIRTY: {
		struct exo_dirty *d = buf;

		__bind_page0(_metadata, self);
		memset(self->scratch, SCRATCH_FILL, self->psz);
		d->va = (uintptr_t)self->vma;
		d->nr = 1;
		d->bitmap = (uintptr_t)self->scratch;
		break;
	}
	case EXO_IOC_STLB: {
		struct exo_stlb *t = buf;
		struct exo_upte *u = (void *)self->scratch;

		memset(u, 0, sizeof(*u));
		u->cap = self->vm_cap;
		u->flags = EXO_UPTE_VALID | EXO_PROT_READ | EXO_PROT_WRITE;
		t->table = (uintptr_t)u;
		t->base = (uintptr_t)(self->vma + self->psz);
		t->nr_entries = 1;
		break;
	}
	case EXO_IOC_FAULT_MODE:
		((struct exo_fault_mode *)buf)->mode = EXO_FAULT_MODE_EVENT;
		break;
	case EXO_IOC_FAULT_WAKE:
		((struct exo_fault_wake *)buf)->va = (uintptr_t)self->vma;
		((struct exo_fault_wake *)buf)->len = self->psz;
		break;
	case EXO_IOC_REVOKE: {
		struct exo_revoke *r = buf;

		if (!self->pending_cap)
			self->pending_cap = exo_alloc_any_cap(self->ctx.fd);
		r->timeout_ms = 60000;
		r->nr = 1;
		break;
	}
	case EXO_IOC_REVOKE_NOTIFY:
		((struct exo_revoke_notify *)buf)->eventfd = self->efd;
		break;
	case EXO_IOC_FRAME_CRITICAL:
		if (!self->pending_cap)
			self->pending_cap = exo_alloc_any_cap(self->ctx.fd);
		((struct exo_frame_critical *)buf)->cap = self->pending_cap;
		break;
	case EXO_IOC_FRAME_GRANT:
		if (!self->pending_cap)
			self->pending_cap = exo_alloc_any_cap(self->ctx.fd);
		((struct exo_frame_grant *)buf)->cap = self->pending_cap;
		((struct exo_frame_grant *)buf)->ctx_id =
			self->peer.api.ctx_id;
		break;
	case EXO_IOC_RECOVER: {
		struct exo_recover *r = buf;

		r->slot = __saved_slot(_metadata, self);
		r->flags = EXO_RECOVER_TO_USER;
		r->nr = 1;
		r->buf = (uintptr_t)self->scratch;
		memset(self->scratch, SCRATCH_FILL, 2 * self->psz);
		break;
	}
	case EXO_IOC_NET_ATTACH:
		((struct exo_net_attach *)buf)->ifindex = self->ifindex;
		break;
	case EXO_IOC_NET_CLAIM: {
		struct exo_net_claim *c = buf;

		c->ifindex = self->ifindex;
		c->ethertype = ETH_P_IP;
		c->ip_proto = IPPROTO_UDP;
		c->port = CMD_NET_PORT(variant->ioc);
		c->abi = EXO_NET_ABI;
		c->prog_fd = -1;
		break;
	}
	case EXO_IOC_NET_UNCLAIM:
		((struct exo_net_unclaim *)buf)->id =
			__net_id(_metadata, self, variant);
		break;
	case EXO_IOC_NET_HANDLER:
		((struct exo_net_handler *)buf)->id =
			__net_id(_metadata, self, variant);
		((struct exo_net_handler *)buf)->prog_fd = -1;
		break;
	case EXO_IOC_NET_RING: {
		struct exo_net_ring *r = buf;
		uint64_t *caps = (void *)self->scratch;

		if (!self->ring_caps[0]) {
			self->ring_caps[0] = exo_alloc_any_cap(self->ctx.fd);
			self->ring_caps[1] = exo_alloc_any_cap(self->ctx.fd);
		}
		caps[0] = self->ring_caps[0];
		caps[1] = self->ring_caps[1];
		r->kind = EXO_NET_RX;
		r->nr_caps = 2;
		r->caps = (uintptr_t)caps;
		r->eventfd = -1;
		break;
	}
	case EXO_IOC_NET_TX:
		__tx_ring(_metadata, self);
		break;
	case EXO_IOC_NET_STATS:
		((struct exo_net_stats *)buf)->id =
			__net_id(_metadata, self, variant);
		break;
	case EXO_IOC_ENTRY_REGISTER:
		((struct exo_entry_register *)buf)->pc = (uintptr_t)cmd_entry;
		break;
	case EXO_IOC_ENTRY_UNREGISTER:
		((struct exo_entry_unregister *)buf)->id =
			__entry_id(_metadata, self);
		break;
	case EXO_IOC_CALL_GRANT: {
		struct exo_call_grant *g = buf;

		g->entry = __entry_id(_metadata, self);
		g->ctx_id = self->peer.api.ctx_id;
		break;
	}
	case EXO_IOC_CALL_REVOKE: {
		struct exo_call_revoke *r = buf;

		r->cap = __call_cap(_metadata, self);
		r->entry = self->entry_id;
		r->ctx_id = self->peer.api.ctx_id;
		break;
	}
	case EXO_IOC_THREAD_UNREGISTER:
		if (!self->thread_reg) {
			EXPECT_LE(0, thread_register(self->ctx.fd));
			self->thread_reg = true;
		}
		break;
	}
}
#define prep(buf, len) __prep(_metadata, self, variant, buf, len)

/*
 * The revocation commands: check that a failed call changed nothing (no
 * request posted, no mark, no grant, no registration, the vector entry
 * kept) and a good one did its work, then undo it.
 */
static void __finish_revocation(struct __test_metadata *_metadata,
				FIXTURE_DATA(cmd) *self,
				const FIXTURE_VARIANT(cmd) *variant, void *buf,
				int rc)
{
	bool done = !rc && buf;
	struct exo_ctx_info info = { 0 };

	switch (variant->ioc) {
	case EXO_IOC_REVOKE:
		test_ctx_info(self->ctx.fd, &info);
		EXPECT_EQ(done ? 1ULL : 0ULL, info.owed)
			TH_LOG("%s", done ? "no request posted" :
				     "a failed REVOKE posted a request");
		break;
	case EXO_IOC_REVOKE_NOTIFY:
		EXPECT_EQ(done, __notify_registered(_metadata, self))
			TH_LOG("%s", done ? "the eventfd was not registered" :
				     "a failed REVOKE_NOTIFY registered it");
		break;
	case EXO_IOC_FRAME_CRITICAL:
		test_ctx_info(self->ctx.fd, &info);
		EXPECT_EQ(done ? 1U : 0U, info.critical);
		if (info.critical) {
			struct exo_frame_critical c = {
				.size = sizeof(c),
				.flags = EXO_CRITICAL_CLEAR,
				.cap = self->pending_cap,
			};

			EXPECT_EQ(0, _test_ioctl(self->ctx.fd,
						 EXO_IOC_FRAME_CRITICAL, &c));
		}
		break;
	case EXO_IOC_FRAME_GRANT:
		test_ctx_info(self->peer.fd, &info);
		EXPECT_EQ(done ? 1U : 0U, info.granted);
		EXPECT_EQ(0ULL, info.frames);
		EXPECT_EQ(done ? 1 : 0, ft_count_granted(self->peer.ft));
		break;
	case EXO_IOC_RECOVER: {
		const struct exo_repo_entry *e;

		if (!self->slot1)
			break;
		e = repo_entry(self->repo, self->slot1 - 1);
		EXPECT_EQ((uint32_t)(done ? EXO_REPO_FREE : EXO_REPO_SAVED),
			  e->state);
		EXPECT_EQ(done ? 0ULL : 1ULL, self->repo->used);
		if (done)
			self->slot1 = 0;
		break;
	}
	default:
		return;
	}
	/* the owner's free also breaks a grant; it pays a request back */
	if (self->pending_cap) {
		test_frame_free(self->ctx.fd, self->pending_cap);
		self->pending_cap = 0;
	}
	test_ctx_info(self->ctx.fd, &info);
	EXPECT_EQ(0ULL, info.owed);
	EXPECT_EQ(0U, info.critical);
	if (self->peer.fd >= 0) {
		test_ctx_info(self->peer.fd, &info);
		EXPECT_EQ(0U, info.granted) TH_LOG("the owner's free kept it");
		EXPECT_EQ(0ULL, info.caps);
	}
}

/*
 * The network commands: check that a failed call changed nothing (lo not
 * attached, no claim taken or given up, no ring registered, no slot
 * consumed) and a good one did its work, then undo it: no attachment but
 * the fixture's, no claim, no ring, the ring frames freed.
 */
static void __finish_net(struct __test_metadata *_metadata,
			 FIXTURE_DATA(cmd) *self,
			 const FIXTURE_VARIANT(cmd) *variant, void *buf, int rc)
{
	uint16_t port = CMD_NET_PORT(variant->ioc);
	bool done = !rc && buf, gone;
	struct exo_net_ring_header *h;
	struct exo_net_stats st;
	int fd = self->ctx.fd;
	uint32_t id = 0;
	int err, i;

	switch (variant->ioc) {
	case EXO_IOC_NET_ATTACH:
		if (done)
			EXPECT_EQ(0, net_attach(fd, self->ifindex,
						EXO_NET_DETACH));
		EXPECT_EQ(-ENXIO, net_attach(fd, self->ifindex,
					     EXO_NET_DETACH))
			TH_LOG("%s", done ? "the detach left lo attached" :
				     "a failed ATTACH attached lo");
		break;
	case EXO_IOC_NET_CLAIM:
		if (done)
			EXPECT_EQ(0, net_unclaim(fd,
				((struct exo_net_claim *)buf)->id));
		/* nothing holds the port: it can be claimed again */
		err = net_claim(fd, self->ifindex, port, &id);
		EXPECT_EQ(0, err)
			TH_LOG("%s: %s", done ? "UNCLAIM left the claim" :
					  "a failed CLAIM left a claim",
			       strerror(-err));
		if (!err)
			EXPECT_EQ(0, net_unclaim(fd, id));
		break;
	case EXO_IOC_NET_UNCLAIM:
	case EXO_IOC_NET_HANDLER:
	case EXO_IOC_NET_STATS:
		if (!self->net_id)
			break;
		gone = done && variant->ioc == EXO_IOC_NET_UNCLAIM;
		err = net_stats(fd, self->net_id, &st);
		EXPECT_EQ(gone ? -ENOENT : 0, err)
			TH_LOG("%s", gone ? "UNCLAIM left the claim" :
				     "the claim went away");
		if (!err)
			EXPECT_EQ(0, net_unclaim(fd, self->net_id));
		self->net_id = 0;
		break;
	case EXO_IOC_NET_RING:
		if (!self->ring_caps[0])
			break;
		err = net_ring(fd, EXO_NET_RX, NULL, 0);
		EXPECT_EQ(done ? 0 : -ENOENT, err)
			TH_LOG("%s", done ? "no ring was registered" :
				     "a failed RING left a ring registered");
		/* unpinned: the frames free at once */
		for (i = 0; i < 2; i++) {
			EXPECT_EQ(0, _test_frame_free(fd, self->ring_caps[i]));
			self->ring_caps[i] = 0;
		}
		break;
	case EXO_IOC_NET_TX:
		if (!self->ring_caps[0])
			break;
		h = ring_hdr(self);
		EXPECT_EQ(done ? 1U : 0U, __atomic_load_n(&h->cons,
							  __ATOMIC_ACQUIRE))
			TH_LOG("%s", done ? "TX left the slot" :
				     "a failed TX consumed the slot");
		EXPECT_EQ(done ? 1ULL : 0ULL, h->rejected);
		EXPECT_EQ(0ULL, h->sent);
		EXPECT_EQ(0, net_ring(fd, EXO_NET_TX, NULL, 0));
		test_unmap_range(fd, self->ring_va, 2 * self->psz);
		for (i = 0; i < 2; i++) {
			EXPECT_EQ(0, _test_frame_free(fd, self->ring_caps[i]));
			self->ring_caps[i] = 0;
		}
		break;
	}
}

/*
 * How many more entries the context may register (64 with none held): ids
 * are not reused soon, so a leaked entry shows as one fewer free slot.
 */
static unsigned int __entries_free(struct __test_metadata *_metadata,
				   FIXTURE_DATA(cmd) *self)
{
	uint32_t ids[64];
	unsigned int n = 0, i;
	int rc;

	while (n < 64) {
		rc = entry_register(self->ctx.fd, &ids[n]);
		if (rc) {
			EXPECT_EQ(-ENOSPC, rc);
			break;
		}
		n++;
	}
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, entry_unregister(self->ctx.fd, ids[i]));
	return n;
}

/*
 * The index of the peer's next call capability for @entry, or 0; taken
 * back at once. Indexes are the lowest free: 1 if the peer holds none.
 */
static uint32_t __peer_cap_next(struct __test_metadata *_metadata,
				FIXTURE_DATA(cmd) *self, uint32_t entry)
{
	uint32_t peer = self->peer.api.ctx_id;
	uint64_t cap = 0;

	EXPECT_EQ(0, call_grant(self->ctx.fd, entry, peer, &cap));
	if (cap)
		EXPECT_EQ(0, call_revoke(self->ctx.fd, entry, peer, cap));
	return (uint32_t)cap;
}

/*
 * The call commands: check that a failed call changed nothing (no entry
 * registered or removed, no capability given or taken back) and a good
 * one did its work, then undo it: no entry, the peer holds nothing.
 */
static void __finish_call(struct __test_metadata *_metadata,
			  FIXTURE_DATA(cmd) *self,
			  const FIXTURE_VARIANT(cmd) *variant, void *buf,
			  int rc)
{
	uint32_t peer = self->peer.api.ctx_id;
	bool done = !rc && buf;
	int fd = self->ctx.fd;
	int err;

	switch (variant->ioc) {
	case EXO_IOC_ENTRY_REGISTER:
		if (done)
			EXPECT_EQ(0, entry_unregister(fd,
				((struct exo_entry_register *)buf)->id));
		EXPECT_EQ(64U - !!self->entry_id,
			  __entries_free(_metadata, self))
			TH_LOG("%s", done ? "UNREGISTER left the entry" :
				     "a failed REGISTER left an entry");
		break;
	case EXO_IOC_ENTRY_UNREGISTER:
		if (!self->entry_id)
			break;
		err = entry_unregister(fd, self->entry_id);
		EXPECT_EQ(done ? -ENOENT : 0, err)
			TH_LOG("%s", done ? "UNREGISTER left the entry" :
				     "a failed UNREGISTER removed it");
		self->entry_id = 0;
		break;
	case EXO_IOC_CALL_GRANT:
		if (!self->entry_id)
			break;
		if (done)
			EXPECT_EQ(0, call_revoke(fd, self->entry_id, peer,
				((struct exo_call_grant *)buf)->cap));
		EXPECT_EQ(1U, __peer_cap_next(_metadata, self, self->entry_id))
			TH_LOG("%s", done ? "REVOKE left the capability" :
				     "a failed GRANT left a capability");
		break;
	case EXO_IOC_CALL_REVOKE:
		if (!self->call_cap)
			break;
		err = call_revoke(fd, self->entry_id, peer, self->call_cap);
		EXPECT_EQ(done ? -ENOENT : 0, err)
			TH_LOG("%s", done ? "REVOKE left the capability" :
				     "a failed REVOKE took it back");
		self->call_cap = 0;
		break;
	case EXO_IOC_THREAD_REGISTER:
		/* registered: unregistering works once; else it finds none */
		EXPECT_EQ(done ? 0 : -ENOENT, thread_unregister(fd))
			TH_LOG("%s", done ? "REGISTER left no registration" :
				     "a failed REGISTER registered the thread");
		break;
	case EXO_IOC_THREAD_UNREGISTER:
		if (!self->thread_reg)
			break;
		err = thread_unregister(fd);
		EXPECT_EQ(done ? -ENOENT : 0, err)
			TH_LOG("%s", done ? "UNREGISTER left the registration" :
				     "a failed UNREGISTER unregistered");
		self->thread_reg = false;
		break;
	default:
		return;
	}
	if (self->entry_id) {
		EXPECT_EQ(0, entry_unregister(fd, self->entry_id));
		self->entry_id = 0;
	}
}

/*
 * Undo what a call (result @rc) left behind, then check the context is back
 * at rest: nothing held.
 */
static void __finish(struct __test_metadata *_metadata,
		     FIXTURE_DATA(cmd) *self,
		     const FIXTURE_VARIANT(cmd) *variant, void *buf, int rc)
{
	struct exo_ctx_info info = { 0 };
	struct exo_vpage pg;
	uint32_t prev = ~0U;

	if (variant->vm) {
		/* a failed call changed nothing */
		pg = exo_vpage_of(self->ctx.fd, self->vma);
		switch (rc && buf ? variant->ioc : 0) {
		case EXO_IOC_MAP:
			EXPECT_EQ(0, pg.state & EXO_VPAGE_BOUND)
				TH_LOG("a failed MAP bound the page");
			break;
		case EXO_IOC_UNMAP:
			EXPECT_NE(0, pg.state & EXO_VPAGE_BOUND)
				TH_LOG("a failed UNMAP unbound the page");
			break;
		case EXO_IOC_PROTECT:
			EXPECT_EQ(EXO_PROT_READ | EXO_PROT_WRITE, pg.prot)
				TH_LOG("a failed PROTECT changed the prot");
			break;
		case EXO_IOC_DIRTY:
			EXPECT_NE(0, pg.state & EXO_VPAGE_DIRTY)
				TH_LOG("a failed DIRTY cleaned the page");
			break;
		}
		/* back to rest: nothing bound, no table, signal mode */
		test_unmap_range(self->ctx.fd, self->vma,
				 CMD_VMA_PAGES * self->psz);
		if (variant->ioc == EXO_IOC_STLB)
			test_stlb(self->ctx.fd, NULL, NULL, 0);
		test_fault_mode(self->ctx.fd, EXO_FAULT_MODE_SIGNAL, &prev);
		if (variant->ioc == EXO_IOC_FAULT_MODE && buf && !rc) {
			EXPECT_EQ((uint32_t)EXO_FAULT_MODE_EVENT, prev);
		} else {
			EXPECT_EQ((uint32_t)EXO_FAULT_MODE_SIGNAL, prev)
				TH_LOG("the fault mode changed");
		}
	}
	if (!rc && variant->ioc == EXO_IOC_FRAME_ALLOC)
		test_frame_free(self->ctx.fd,
				((struct exo_frame_alloc *)buf)->cap);
	__finish_revocation(_metadata, self, variant, buf, rc);
	__finish_net(_metadata, self, variant, buf, rc);
	__finish_call(_metadata, self, variant, buf, rc);
	if (variant->ioc == EXO_IOC_FRAME_FREE && self->pending_cap) {
		if (rc)
			test_frame_free(self->ctx.fd, self->pending_cap);
		self->pending_cap = 0;
	}
	test_ctx_info(self->ctx.fd, &info);
	EXPECT_EQ(self->held, info.frames);
	EXPECT_EQ(self->held, info.caps);
	/* frames an abort took (RECOVER's) are not frees */
	EXPECT_EQ(info.allocs, info.frees + info.repossessed + self->held);
	EXPECT_EQ(0ULL, info.bindings);
	EXPECT_EQ((long)self->held, exo_ft_count_owned(self->ctx.ft));
	exo_counters_expect(&self->base, self->peer.fd >= 0 ? 2 : 1,
			    self->held);
}
#define finish(buf, rc) __finish(_metadata, self, variant, buf, rc)

/* Check the outputs of a successful call made on a buffer from prep(). */
static void __check_output(struct __test_metadata *_metadata,
			   FIXTURE_DATA(cmd) *self,
			   const FIXTURE_VARIANT(cmd) *variant, void *buf)
{
	const struct exo_api *api = &self->ctx.api;
	struct exo_ctx_info info = { 0 };

	switch (variant->ioc) {
	case EXO_IOC_API: {
		struct exo_api *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ((uint32_t)EXO_API_VERSION, out->api);
		EXPECT_EQ(0U, out->__reserved);
		EXPECT_EQ(EXO_FEAT_ALL, out->features);
		EXPECT_EQ(EXO_IOCTLS_ALL, out->ioctls);
		EXPECT_EQ(api->page_size, out->page_size);
		EXPECT_EQ(api->nr_colours, out->nr_colours);
		EXPECT_EQ(api->max_order, out->max_order);
		EXPECT_EQ(api->frame_quota, out->frame_quota);
		EXPECT_EQ(api->ctx_id, out->ctx_id);
		EXPECT_EQ(api->ftable_entries, out->ftable_entries);
		EXPECT_EQ(api->ftable_size, out->ftable_size);
		EXPECT_EQ(api->pool_pfn, out->pool_pfn);
		EXPECT_EQ(api->pool_frames, out->pool_frames);
		EXPECT_EQ(0U, out->__reserved2);
		EXPECT_EQ(api->max_batch, out->max_batch);
		EXPECT_EQ(api->stlb_max, out->stlb_max);
		EXPECT_LE(1U, out->max_batch);
		EXPECT_LE(1U, out->stlb_max);
		EXPECT_EQ(api->events_size, out->events_size);
		EXPECT_EQ(api->repo_size, out->repo_size);
		EXPECT_EQ(api->event_entries, out->event_entries);
		EXPECT_EQ(api->repo_entries, out->repo_entries);
		EXPECT_EQ(api->critical_max, out->critical_max);
		EXPECT_EQ(api->revoke_timeout_ms, out->revoke_timeout_ms);
		break;
	}
	case EXO_IOC_CTX_INFO: {
		struct exo_ctx_info *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(api->ctx_id, out->ctx_id);
		EXPECT_EQ(api->frame_quota, out->frame_quota);
		EXPECT_EQ(0ULL, out->frames);
		EXPECT_EQ(0ULL, out->caps);
		EXPECT_EQ(out->allocs, out->frees);
		EXPECT_EQ(0ULL, out->bindings);
		EXPECT_EQ(0ULL, out->upcalls);
		EXPECT_EQ(0ULL, out->revoke_requested);
		EXPECT_EQ(0ULL, out->revoke_returned);
		EXPECT_EQ(0ULL, out->repossessed);
		EXPECT_EQ(0ULL, out->owed);
		EXPECT_EQ(0U, out->critical);
		EXPECT_EQ(0U, out->repo_used);
		EXPECT_EQ(0U, out->granted);
		EXPECT_EQ(0U, out->__reserved);
		break;
	}
	case EXO_IOC_FRAME_ALLOC: {
		struct exo_frame_alloc *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ((uint32_t)EXO_ALLOC_ANY, out->how);
		EXPECT_EQ(0U, out->order);
		EXPECT_EQ(0U, out->__reserved);
		EXPECT_LT(0U, EXO_CAP_INDEX(out->cap));
		EXPECT_GT(api->ftable_entries, EXO_CAP_INDEX(out->cap));
		EXPECT_EQ((uint32_t)(out->pfn % api->nr_colours), out->colour);
		exo_ft_expect_owned(self->ctx.ft, api->ctx_id, EXO_ALLOC_ANY,
				    out);
		test_ctx_info(self->ctx.fd, &info);
		EXPECT_EQ(1ULL, info.frames);
		EXPECT_EQ(1ULL, info.caps);
		EXPECT_EQ(info.frees + 1, info.allocs);
		exo_counters_expect(&self->base, 1, 1);
		break;
	}
	case EXO_IOC_FRAME_FREE: {
		struct exo_frame_free *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(self->pending_cap, out->cap);
		exo_ft_expect_free(self->ctx.ft,
				   EXO_CAP_INDEX(self->pending_cap));
		test_ctx_info(self->ctx.fd, &info);
		EXPECT_EQ(0ULL, info.frames);
		EXPECT_EQ(0ULL, info.caps);
		EXPECT_EQ(info.allocs, info.frees);
		exo_counters_expect(&self->base, 1, 0);
		break;
	}
	case EXO_IOC_MAP: {
		struct exo_map *out = buf;
		struct exo_vpage pg = exo_vpage_of(self->ctx.fd, self->vma);

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(1U, out->nr);
		EXPECT_EQ(0U, out->__reserved);
		EXPECT_EQ((uintptr_t)self->scratch, out->entries);
		EXPECT_EQ(self->vm_cap, pg.cap);
		EXPECT_EQ(self->vm_pfn, pg.pfn);
		EXPECT_EQ(EXO_PROT_READ | EXO_PROT_WRITE, pg.prot);
		EXPECT_NE(0, pg.state & EXO_VPAGE_BOUND);
		test_ctx_info(self->ctx.fd, &info);
		EXPECT_EQ(1ULL, info.bindings);
		break;
	}
	case EXO_IOC_UNMAP:
	case EXO_IOC_PROTECT: {
		struct exo_vm_ranges *out = buf;
		struct exo_vpage pg = exo_vpage_of(self->ctx.fd, self->vma);
		bool unmap = variant->ioc == EXO_IOC_UNMAP;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(unmap ? 0U : EXO_PROT_READ, out->prot);
		EXPECT_EQ(1U, out->nr);
		EXPECT_EQ((uintptr_t)self->scratch, out->ranges);
		test_ctx_info(self->ctx.fd, &info);
		if (unmap) {
			EXPECT_EQ(0, pg.state & EXO_VPAGE_BOUND);
			EXPECT_EQ(0ULL, pg.cap);
			EXPECT_EQ(0ULL, info.bindings);
		} else {
			EXPECT_NE(0, pg.state & EXO_VPAGE_BOUND);
			EXPECT_EQ(EXO_PROT_READ, pg.prot);
			EXPECT_EQ(1ULL, info.bindings);
		}
		break;
	}
	case EXO_IOC_QUERY: {
		struct exo_query *out = buf;
		struct exo_vpage *pg = (void *)self->scratch;
		uint8_t *tail = self->scratch + sizeof(*pg);

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ((uintptr_t)self->vma, out->va);
		EXPECT_EQ(1U, out->nr);
		EXPECT_EQ(0U, out->__reserved);
		EXPECT_EQ((uintptr_t)self->scratch, out->pages);
		EXPECT_EQ(self->vm_cap, pg->cap);
		EXPECT_EQ(self->vm_pfn, pg->pfn);
		EXPECT_EQ(0U, pg->frame);
		EXPECT_EQ(EXO_PROT_READ | EXO_PROT_WRITE, pg->prot);
		EXPECT_NE(0, pg->state & EXO_VPAGE_BOUND);
		EXPECT_EQ(SCRATCH_FILL, tail[0]) TH_LOG("wrote past nr pages");
		break;
	}
	case EXO_IOC_DIRTY: {
		struct exo_dirty *out = buf;
		uint64_t *bm = (void *)self->scratch, again = 0;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ((uintptr_t)self->vma, out->va);
		EXPECT_EQ(1U, out->nr);
		EXPECT_EQ(1U, out->dirty) TH_LOG("a new RW binding is dirty");
		EXPECT_EQ((uintptr_t)self->scratch, out->bitmap);
		EXPECT_EQ(1ULL, bm[0] & 1);
		EXPECT_EQ(0x0101010101010101ULL * SCRATCH_FILL, bm[1])
			TH_LOG("wrote past (nr + 63) / 64 words");
		/* reported means cleaned */
		EXPECT_EQ(0, _test_dirty(self->ctx.fd, self->vma, 1, &again));
		EXPECT_EQ(0ULL, again & 1);
		break;
	}
	case EXO_IOC_STLB: {
		struct exo_stlb *out = buf;
		volatile uint8_t *p = self->vma + self->psz;
		struct exo_vpage pg;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ((uintptr_t)self->scratch, out->table);
		EXPECT_EQ((uintptr_t)p, out->base);
		EXPECT_EQ(1U, out->nr_entries);
		EXPECT_EQ(0U, out->__reserved);
		/* in force: a touch refills from the table (else SIGBUS) */
		EXPECT_EQ(0, p[5]);
		pg = exo_vpage_of(self->ctx.fd, (void *)p);
		EXPECT_EQ(self->vm_cap, pg.cap);
		EXPECT_NE(0, pg.state & EXO_VPAGE_BOUND);
		break;
	}
	case EXO_IOC_FAULT_MODE: {
		struct exo_fault_mode *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ((uint32_t)EXO_FAULT_MODE_SIGNAL, out->mode)
			TH_LOG("mode out: the previous mode");
		EXPECT_EQ(0U, out->__reserved);
		EXPECT_EQ(0ULL, out->entry);
		EXPECT_EQ(0ULL, out->cookie);
		break;
	}
	case EXO_IOC_FAULT_WAKE: {
		struct exo_fault_wake *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ((uintptr_t)self->vma, out->va);
		EXPECT_EQ((uint64_t)self->psz, out->len);
		break;
	}
	case EXO_IOC_REVOKE: {
		struct exo_revoke *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(0U, out->ctx_id);
		EXPECT_EQ(60000U, out->timeout_ms);
		EXPECT_EQ(1ULL, out->nr);
		EXPECT_NE(0ULL, out->id);
		test_ctx_info(self->ctx.fd, &info);
		EXPECT_EQ(1ULL, info.owed);
		break;
	}
	case EXO_IOC_REVOKE_NOTIFY: {
		struct exo_revoke_notify *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(self->efd, out->eventfd);
		EXPECT_EQ(0U, out->signo);
		break;
	}
	case EXO_IOC_FRAME_CRITICAL: {
		struct exo_frame_critical *out = buf;
		struct exo_ftable_entry e = { 0 };

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(self->pending_cap, out->cap);
		EXPECT_EQ(1U, out->critical);
		EXPECT_EQ(0U, out->__reserved);
		ASSERT_EQ(0, exo_ft_read(self->ctx.ft,
					 EXO_CAP_INDEX(self->pending_cap), &e));
		EXPECT_EQ(EXO_FTABLE_CRITICAL, e.flags);
		break;
	}
	case EXO_IOC_FRAME_GRANT: {
		struct exo_frame_grant *out = buf;
		struct exo_ftable_entry e = { 0 };

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(self->pending_cap, out->cap);
		EXPECT_EQ(self->peer.api.ctx_id, out->ctx_id);
		EXPECT_EQ(0U, out->__reserved);
		ASSERT_EQ(0, exo_ft_read(self->peer.ft,
					 EXO_CAP_INDEX(out->grant_cap), &e));
		EXPECT_EQ(EXO_FRAME_GRANTED, e.state);
		EXPECT_EQ(EXO_CAP_GEN(out->grant_cap), e.gen);
		EXPECT_EQ(api->ctx_id, e.owner);
		break;
	}
	case EXO_IOC_RECOVER: {
		struct exo_recover *out = buf;
		size_t i;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ((uint32_t)EXO_RECOVER_TO_USER, out->flags);
		EXPECT_EQ(1U, out->nr);
		EXPECT_EQ((uintptr_t)self->scratch, out->buf);
		/* the saved frame was a fresh, zeroed one */
		for (i = 0; i < self->psz; i++)
			if (self->scratch[i])
				break;
		EXPECT_EQ(self->psz, i) TH_LOG("byte %zu not recovered", i);
		EXPECT_EQ(SCRATCH_FILL, self->scratch[self->psz])
			TH_LOG("wrote past nr pages");
		break;
	}
	case EXO_IOC_NET_ATTACH: {
		struct exo_net_attach *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(self->ifindex, out->ifindex);
		EXPECT_EQ(0U, out->__reserved);
		/* attached: by this context, once */
		EXPECT_EQ(-EEXIST, net_attach(self->ctx.fd, self->ifindex, 0));
		break;
	}
	case EXO_IOC_NET_CLAIM: {
		struct exo_net_claim *out = buf;
		struct exo_net_stats st;
		uint32_t id = 0;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(self->ifindex, out->ifindex);
		EXPECT_EQ(ETH_P_IP, out->ethertype);
		EXPECT_EQ(IPPROTO_UDP, out->ip_proto);
		EXPECT_EQ(0U, out->__pad);
		EXPECT_EQ(CMD_NET_PORT(variant->ioc), out->port);
		EXPECT_EQ(EXO_NET_ABI, out->abi);
		EXPECT_EQ(-1, out->prog_fd);
		EXPECT_NE(0U, out->id);
		EXPECT_EQ(0, net_stats(self->ctx.fd, out->id, &st));
		/* exclusive: the same port again is refused */
		EXPECT_EQ(-EADDRINUSE,
			  net_claim(self->ctx.fd, self->ifindex, out->port,
				    &id));
		break;
	}
	case EXO_IOC_NET_UNCLAIM: {
		struct exo_net_unclaim *out = buf;
		struct exo_net_stats st;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(self->net_id, out->id);
		EXPECT_EQ(0U, out->__reserved);
		EXPECT_EQ(-ENOENT, net_stats(self->ctx.fd, out->id, &st));
		EXPECT_EQ(-ENOENT, net_unclaim(self->ctx.fd, out->id));
		break;
	}
	case EXO_IOC_NET_HANDLER: {
		struct exo_net_handler *out = buf;
		struct exo_net_stats st;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(self->net_id, out->id);
		EXPECT_EQ(-1, out->prog_fd);
		EXPECT_EQ(0, net_stats(self->ctx.fd, out->id, &st));
		break;
	}
	case EXO_IOC_NET_RING: {
		struct exo_net_ring *out = buf;
		const struct exo_net_ring_header *h = ring_hdr(self);
		int i;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ((uint32_t)EXO_NET_RX, out->kind);
		EXPECT_EQ(2U, out->nr_caps);
		EXPECT_EQ((uintptr_t)self->scratch, out->caps);
		EXPECT_EQ(-1, out->eventfd);
		EXPECT_EQ(2U, out->nr_slots) TH_LOG("one header page, 2 slots");
		/* pinned: not freed, and no second ring */
		for (i = 0; i < 2; i++) {
			struct exo_frame_free f = {
				.size = sizeof(f),
				.cap = self->ring_caps[i],
			};

			exo_expect_err(EBUSY, self->ctx.fd, self->ctx.ft,
				       EXO_IOC_FRAME_FREE, &f, sizeof(f));
		}
		EXPECT_EQ(-EBUSY, net_ring(self->ctx.fd, EXO_NET_RX,
					   self->ring_caps, 2));
		/* the header exo wrote, read through a binding */
		test_map_one(self->ctx.fd, self->ring_va, self->ring_caps[0],
			     0, 1, EXO_PROT_READ);
		EXPECT_EQ(EXO_NET_RING_MAGIC, h->magic);
		EXPECT_EQ((uint32_t)EXO_NET_RING_VERSION, h->version);
		EXPECT_EQ((uint32_t)EXO_NET_RX, h->kind);
		EXPECT_EQ(2U, h->nr_slots);
		EXPECT_EQ((uint32_t)EXO_NET_SLOT_SIZE, h->slot_size);
		EXPECT_EQ((uint32_t)self->psz, h->slots_offset);
		EXPECT_EQ(0U, h->prod);
		EXPECT_EQ(0U, h->cons);
		EXPECT_EQ(0ULL, h->drops);
		test_unmap_range(self->ctx.fd, self->ring_va, self->psz);
		break;
	}
	case EXO_IOC_NET_TX: {
		struct exo_net_tx *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(0U, out->sent);
		EXPECT_EQ(1U, out->rejected) TH_LOG("the slot of length 0");
		break;
	}
	case EXO_IOC_NET_STATS: {
		struct exo_net_stats *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(self->net_id, out->id);
		EXPECT_EQ(0U, out->__reserved);
		EXPECT_EQ(0ULL, out->packets);
		EXPECT_EQ(0ULL, out->delivered);
		EXPECT_EQ(0ULL, out->dropped);
		EXPECT_EQ(0ULL, out->replied);
		EXPECT_EQ(0ULL, out->passed);
		EXPECT_EQ(0ULL, out->ring_full);
		EXPECT_EQ(0ULL, out->bad_verdict);
		break;
	}
	case EXO_IOC_ENTRY_REGISTER: {
		struct exo_entry_register *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ((uintptr_t)cmd_entry, out->pc);
		EXPECT_NE(0U, out->id);
		EXPECT_EQ(0U, out->__reserved);
		break;
	}
	case EXO_IOC_ENTRY_UNREGISTER: {
		struct exo_entry_unregister *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(self->entry_id, out->id);
		EXPECT_EQ(0U, out->__reserved);
		EXPECT_EQ(-ENOENT, entry_unregister(self->ctx.fd, out->id));
		break;
	}
	case EXO_IOC_CALL_GRANT: {
		struct exo_call_grant *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(self->entry_id, out->entry);
		EXPECT_EQ(self->peer.api.ctx_id, out->ctx_id);
		EXPECT_NE(0ULL, out->cap);
		/* the peer's, not ours: a revocation must name the peer */
		EXPECT_EQ(-ENOENT, call_revoke(self->ctx.fd, out->entry,
					       api->ctx_id, out->cap));
		break;
	}
	case EXO_IOC_CALL_REVOKE: {
		struct exo_call_revoke *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(self->entry_id, out->entry);
		EXPECT_EQ(self->peer.api.ctx_id, out->ctx_id);
		EXPECT_EQ(self->call_cap, out->cap);
		EXPECT_EQ(-ENOENT, call_revoke(self->ctx.fd, out->entry,
					       out->ctx_id, out->cap));
		break;
	}
	case EXO_IOC_THREAD_REGISTER: {
		struct exo_thread_register *out = buf;
		struct exo_thread_info ti = { 0 };
		const struct exo_threads_header *h;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		EXPECT_EQ(0ULL, out->entry);
		EXPECT_EQ(0ULL, out->slice_ns);
		EXPECT_EQ(0U, out->id) TH_LOG("the first row");
		EXPECT_EQ((uint32_t)self->psz, out->table_size);
		/* the row, through the read-only table */
		h = mmap(NULL, out->table_size, PROT_READ, MAP_SHARED,
			 self->ctx.fd, EXO_MMAP_THREADS);
		ASSERT_NE(MAP_FAILED, h);
		EXPECT_EQ(EXO_THREADS_MAGIC, h->magic);
		EXPECT_EQ((uint32_t)EXO_THREADS_MAX, h->nr_entries);
		memcpy(&ti, (const char *)h + h->entries_offset, sizeof(ti));
		EXPECT_EQ(1U, ti.live);
		EXPECT_EQ((uint32_t)syscall(SYS_gettid), ti.tid);
		munmap((void *)h, out->table_size);
		/* a second registration of this thread */
		EXPECT_EQ(-EEXIST, thread_register(self->ctx.fd));
		break;
	}
	case EXO_IOC_THREAD_UNREGISTER: {
		struct exo_thread_unregister *out = buf;

		EXPECT_EQ(variant->size, out->size);
		EXPECT_EQ(0U, out->flags);
		break;
	}
	}
}
#define check_output(buf) __check_output(_metadata, self, variant, buf)

/* The good path with an exactly sized struct. */
TEST_F(cmd, good)
{
	uint8_t *buf = self->arena;

	prep(buf, variant->size);
	ASSERT_EQ(0, _test_ioctl(self->ctx.fd, variant->ioc, buf));
	check_output(buf);
	finish(buf, 0);
}

/*
 * An older caller's struct, exactly the minimum: accepted, zero-extended,
 * and nothing written past the size it gave.
 */
TEST_F(cmd, size_min_accepted)
{
	uint8_t *buf = self->arena;
	uint32_t i;

	prep(buf, variant->size);
	set_u32(buf, 0, variant->min_size);
	memset(buf + variant->min_size, 0xa5,
	       variant->size - variant->min_size);
	ASSERT_EQ(0, _test_ioctl(self->ctx.fd, variant->ioc, buf));
	for (i = variant->min_size; i < variant->size; i++)
		ASSERT_EQ(0xa5, buf[i]) TH_LOG("byte %u written", i);
	set_u32(buf, 0, variant->size);
	memset(buf + variant->min_size, 0, variant->size - variant->min_size);
	finish(buf, 0);
}

/* The good path twice in a row: the command has no hidden one-shot state. */
TEST_F(cmd, good_repeat)
{
	uint8_t *buf = self->arena;
	int i;

	for (i = 0; i < 3; i++) {
		prep(buf, variant->size);
		ASSERT_EQ(0, _test_ioctl(self->ctx.fd, variant->ioc, buf));
		check_output(buf);
		finish(buf, 0);
	}
}

TEST_F(cmd, size_zero)
{
	uint8_t *buf = self->arena;

	prep(buf, variant->size);
	set_u32(buf, 0, 0);
	exo_expect_err(EINVAL, self->ctx.fd, self->ctx.ft, variant->ioc, buf,
		       variant->size);
	finish(buf, -EINVAL);
}

TEST_F(cmd, size_minus_one)
{
	uint8_t *buf = self->arena;

	prep(buf, variant->size);
	set_u32(buf, 0, variant->min_size - 1);
	exo_expect_err(EINVAL, self->ctx.fd, self->ctx.ft, variant->ioc, buf,
		       variant->size);
	finish(buf, -EINVAL);
}

/* Every size below the command's minimum. */
TEST_F(cmd, size_short_all)
{
	uint8_t *buf = self->arena;
	uint32_t s;

	for (s = 0; s < variant->min_size; s++) {
		prep(buf, variant->size);
		set_u32(buf, 0, s);
		exo_expect_err(EINVAL, self->ctx.fd, self->ctx.ft,
			       variant->ioc, buf, variant->size);
		finish(buf, -EINVAL);
	}
}

/* size + 8 with one non-zero byte anywhere in the unknown tail: E2BIG. */
TEST_F(cmd, size_long_nonzero_tail)
{
	uint8_t *buf = self->arena;
	uint32_t i;

	for (i = 0; i < 8; i++) {
		prep(buf, variant->size + 8);
		set_u32(buf, 0, variant->size + 8);
		buf[variant->size + i] = 0x5a;
		exo_expect_err(E2BIG, self->ctx.fd, self->ctx.ft,
			       variant->ioc, buf, variant->size + 8);
		finish(buf, -E2BIG);
	}
}

/* size + 8 with a zeroed tail works; the tail stays zero. */
TEST_F(cmd, size_long_zero_tail)
{
	static const uint8_t zero[8];
	uint8_t *buf = self->arena;

	prep(buf, variant->size + 8);
	set_u32(buf, 0, variant->size + 8);
	ASSERT_EQ(0, _test_ioctl(self->ctx.fd, variant->ioc, buf));
	EXPECT_EQ(0, memcmp(buf + variant->size, zero, sizeof(zero)));
	/* check_output() checks size against the struct's own size */
	set_u32(buf, 0, variant->size);
	check_output(buf);
	finish(buf, 0);
}

/* A whole page, zero beyond the struct, works too. */
TEST_F(cmd, size_page_zero_tail)
{
	uint8_t *buf = self->arena;
	size_t i;

	prep(buf, self->psz);
	set_u32(buf, 0, self->psz);
	ASSERT_EQ(0, _test_ioctl(self->ctx.fd, variant->ioc, buf));
	for (i = variant->size; i < self->psz; i++)
		if (buf[i])
			break;
	EXPECT_EQ(self->psz, i) TH_LOG("tail byte %zu written", i);
	set_u32(buf, 0, variant->size);
	check_output(buf);
	finish(buf, 0);
}

/* A whole page with its last byte non-zero: E2BIG. */
TEST_F(cmd, size_page_nonzero_last_byte)
{
	uint8_t *buf = self->arena;

	prep(buf, self->psz);
	set_u32(buf, 0, self->psz);
	buf[self->psz - 1] = 1;
	exo_expect_err(E2BIG, self->ctx.fd, self->ctx.ft, variant->ioc, buf,
		       self->psz);
	finish(buf, -E2BIG);
}

/* flags must be 0: every single bit is unknown. */
TEST_F(cmd, unknown_flags)
{
	uint8_t *buf = self->arena;
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		if (variant->valid_flags & (1U << bit))
			continue;
		prep(buf, variant->size);
		set_u32(buf, offsetof(struct exo_api, flags), 1U << bit);
		exo_expect_err(EOPNOTSUPP, self->ctx.fd, self->ctx.ft,
			       variant->ioc, buf, variant->size);
		finish(buf, -EOPNOTSUPP);
	}
}

/* Any non-zero byte of __reserved: EINVAL. */
TEST_F(cmd, reserved_nonzero)
{
	uint8_t *buf = self->arena;
	int i;

	if (variant->reserved_off < 0)
		SKIP(return, "%s: its struct has no __reserved field",
		     variant->name);
	for (i = 0; i < variant->reserved_len; i++) {
		prep(buf, variant->size);
		buf[variant->reserved_off + i] = 0x01;
		exo_expect_err(EINVAL, self->ctx.fd, self->ctx.ft,
			       variant->ioc, buf, variant->size);
		finish(buf, -EINVAL);

		prep(buf, variant->size);
		buf[variant->reserved_off + i] = 0x80;
		exo_expect_err(EINVAL, self->ctx.fd, self->ctx.ft,
			       variant->ioc, buf, variant->size);
		finish(buf, -EINVAL);
	}
}

TEST_F(cmd, null_ptr)
{
	exo_expect_err(EFAULT, self->ctx.fd, self->ctx.ft, variant->ioc, NULL,
		       0);
	finish(NULL, -EFAULT);
}

/* A user address with nothing readable behind it. */
TEST_F(cmd, unmapped_ptr)
{
	exo_expect_err(EFAULT, self->ctx.fd, self->ctx.ft, variant->ioc,
		       self->arena + self->psz, 0);
	finish(NULL, -EFAULT);
}

/* A kernel address (the top page of the address space). */
TEST_F(cmd, kernel_ptr)
{
	exo_expect_err(EFAULT, self->ctx.fd, self->ctx.ft, variant->ioc,
		       (void *)~(uintptr_t)0xfff, 0);
	finish(NULL, -EFAULT);
}

/*
 * size and flags readable at the end of a page, the rest of the struct in a
 * PROT_NONE page: the module must fault copying the struct in.
 */
TEST_F(cmd, straddle_ptr)
{
	/* an 8-byte struct straddles from its second field on */
	unsigned int in = variant->size > 8 ? 8 : 4;
	uint8_t *buf = self->arena + self->psz - in;

	set_u32(buf, 0, variant->size);
	if (in == 8)
		set_u32(buf, 4, 0);
	exo_expect_err(EFAULT, self->ctx.fd, self->ctx.ft, variant->ioc, buf,
		       in);
	finish(NULL, -EFAULT);
}

/*
 * A valid struct in a read-only page: the module cannot copy its results
 * back, so the call fails with EFAULT and must leave nothing behind (for
 * FRAME_ALLOC: no frame held, no entry in the frame table; for DIRTY: the
 * page still dirty; for FAULT_MODE: the mode unchanged).
 *
 * A command without output may succeed (and do its work) or fail with
 * EFAULT (and do nothing), but it must not fail after doing its work.
 */
TEST_F(cmd, readonly_ptr)
{
	uint8_t *buf = self->arena + 2 * self->psz;
	struct exo_ctx_info info = { 0 };
	uint64_t cap;
	int rc;

	ASSERT_EQ(0, mprotect(buf, self->psz, PROT_READ | PROT_WRITE));
	prep(buf, variant->size);
	ASSERT_EQ(0, mprotect(buf, self->psz, PROT_READ));
	if (variant->output) {
		exo_expect_err(EFAULT, self->ctx.fd, self->ctx.ft,
			       variant->ioc, buf, variant->size);
		finish(buf, -EFAULT);
		return;
	}

	if (variant->ioc != EXO_IOC_FRAME_FREE) {
		rc = _test_ioctl(self->ctx.fd, variant->ioc, buf);
		if (rc == 0) {
			check_output(buf);
		} else {
			EXPECT_EQ(-EFAULT, rc) TH_LOG("%s", strerror(-rc));
		}
		finish(buf, rc);
		return;
	}

	cap = self->pending_cap;
	rc = _test_ioctl(self->ctx.fd, variant->ioc, buf);
	test_ctx_info(self->ctx.fd, &info);
	if (rc == 0) {
		exo_ft_expect_free(self->ctx.ft, EXO_CAP_INDEX(cap));
		EXPECT_EQ(0ULL, info.frames);
		EXPECT_EQ(info.allocs, info.frees);
		self->pending_cap = 0;
	} else {
		EXPECT_EQ(-EFAULT, rc) TH_LOG("%s", strerror(-rc));
		EXPECT_EQ(1ULL, info.frames)
			TH_LOG("FRAME_FREE failed (%s) but freed the frame",
			       strerror(-rc));
		EXPECT_EQ(0ULL, info.frees);
		if (info.frames) {
			struct exo_frame_alloc held = { .cap = cap };
			struct exo_ftable_entry e = { 0 };

			ASSERT_EQ(0, exo_ft_read(self->ctx.ft,
						 EXO_CAP_INDEX(cap), &e));
			EXPECT_EQ(EXO_FRAME_OWNED, e.state);
			EXPECT_EQ(EXO_CAP_GEN(held.cap), e.gen);
		} else {
			self->pending_cap = 0;
		}
	}
	finish(buf, rc);
}

/* ------------------------------------------------------------------------
 * Tests that are not per command.
 */

FIXTURE(exo) {
	struct exo_ctx ctx;
	struct exo_counters base;
};

FIXTURE_SETUP(exo)
{
	self->ctx.fd = -1;
	exo_counters_read(&self->base);
	exo_ctx_open(&self->ctx, true);
}

FIXTURE_TEARDOWN(exo)
{
	exo_ctx_close(&self->ctx);
	exo_counters_expect_baseline(&self->base);
}

/* A zeroed, page-sized argument so an unknown command cannot fault. */
static void expect_enotty(struct __test_metadata *_metadata,
			  FIXTURE_DATA(exo) *self, unsigned long ioc)
{
	uint64_t arg[64] = { 0 };

	arg[0] = 4096;	/* a plausible size field */
	exo_expect_err(ENOTTY, self->ctx.fd, self->ctx.ft, ioc, arg,
		       sizeof(arg));
}

TEST_F(exo, unknown_cmd_last)
{
	expect_enotty(_metadata, self, _IO(EXO_IOC_TYPE, EXO_CMD_LAST));
	expect_enotty(_metadata, self, _IO(EXO_IOC_TYPE, EXO_CMD_LAST + 1));
}

TEST_F(exo, unknown_cmd_below_base)
{
	expect_enotty(_metadata, self, _IO(EXO_IOC_TYPE, EXO_CMD_BASE - 1));
	expect_enotty(_metadata, self, _IO(EXO_IOC_TYPE, 0));
}

TEST_F(exo, unknown_cmd_other_type)
{
	unsigned int nr;

	for (nr = EXO_CMD_BASE; nr < EXO_CMD_LAST; nr++) {
		expect_enotty(_metadata, self, _IO('y', nr));
		expect_enotty(_metadata, self, _IO('w', nr));
		expect_enotty(_metadata, self, _IO('X', nr));
	}
}

/* The register commands: their argument is not a struct (register_cmds). */
static bool register_nr(unsigned int nr)
{
	return nr == _IOC_NR(EXO_IOC_CALL) || nr == _IOC_NR(EXO_IOC_REPLY) ||
	       nr == _IOC_NR(EXO_IOC_SEND) || nr == _IOC_NR(EXO_IOC_YIELD) ||
	       nr == _IOC_NR(EXO_IOC_CALL_FRAME);
}

/* Every number of our type other than the commands. */
TEST_F_TIMEOUT(exo, unknown_cmd_all_nr, 180)
{
	unsigned int nr;

	for (nr = 0; nr < 256; nr++) {
		if ((nr >= EXO_CMD_BASE && nr < EXO_CMD_LAST) ||
		    register_nr(nr))
			continue;
		expect_enotty(_metadata, self, _IO(EXO_IOC_TYPE, nr));
	}
}

/*
 * The register commands take their argument in rdx, not through a
 * pointer: 0 is no capability and no entry (ENOENT; EOPNOTSUPP where
 * there are no registers to carry a message) and nothing is read. Their
 * numbers with a size or direction encoded, or of another type, are
 * unknown commands.
 */
TEST_F(exo, register_cmds)
{
	static const unsigned long ioc[] = {
		EXO_IOC_CALL, EXO_IOC_REPLY, EXO_IOC_SEND, EXO_IOC_CALL_FRAME,
	};
	int err = self->ctx.api.features & EXO_FEAT_CALL ? ENOENT : EOPNOTSUPP;
	unsigned int i, nr;

	for (i = 0; i < ARRAY_SIZE(ioc); i++) {
		nr = _IOC_NR(ioc[i]);
		ASSERT_EQ(_IO(EXO_IOC_TYPE, nr), ioc[i]);
		exo_expect_err(err, self->ctx.fd, self->ctx.ft, ioc[i], NULL, 0);
		expect_enotty(_metadata, self,
			      _IOWR(EXO_IOC_TYPE, nr, struct exo_api));
		expect_enotty(_metadata, self,
			      _IOR(EXO_IOC_TYPE, nr, struct exo_ctx_info));
		expect_enotty(_metadata, self,
			      _IOW(EXO_IOC_TYPE, nr, struct exo_frame_free));
		expect_enotty(_metadata, self, _IO('y', nr));
		expect_enotty(_metadata, self, _IO('X', nr));
	}
}

#ifdef __x86_64__
/* EXO_IOC_YIELD: rdx the capability, r10 the row. */
static long yield_raw(int fd, uint64_t cap, uint64_t row)
{
	register uint64_t r10 __asm__("r10") = row;
	long ret = SYS_ioctl;

	__asm__ volatile("syscall"
			 : "+a"(ret)
			 : "D"((long)fd), "S"((long)EXO_IOC_YIELD), "d"(cap),
			   "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

/*
 * YIELD takes a capability in rdx (0: this context) and a row in r10:
 * an empty row is ESRCH, one past the table EINVAL, a capability not held
 * ENOENT; the caller's own row EINVAL. Sized numbers are unknown.
 */
TEST_F(exo, yield_cmd)
{
	unsigned int nr = _IOC_NR(EXO_IOC_YIELD);
	int fd = self->ctx.fd;
	long id;

	if (!(self->ctx.api.features & EXO_FEAT_THREADS)) {
		EXPECT_EQ(-EOPNOTSUPP, yield_raw(fd, 0, 0));
		return;
	}
	EXPECT_EQ(-ESRCH, yield_raw(fd, 0, 0));
	EXPECT_EQ(-ESRCH, yield_raw(fd, 0, EXO_THREADS_MAX - 1));
	EXPECT_EQ(-EINVAL, yield_raw(fd, 0, EXO_THREADS_MAX));
	EXPECT_EQ(-EINVAL, yield_raw(fd, 0, ~0ull));
	EXPECT_EQ(-ENOENT, yield_raw(fd, 1, 0));
	EXPECT_EQ(-ENOENT, yield_raw(fd, ~0ull, 0));
	id = thread_register(fd);
	ASSERT_LE(0, id);
	EXPECT_EQ(-EINVAL, yield_raw(fd, 0, id)) TH_LOG("to itself");
	EXPECT_EQ(0, thread_unregister(fd));
	EXPECT_EQ(-ESRCH, yield_raw(fd, 0, id));
	expect_enotty(_metadata, self, _IOWR(EXO_IOC_TYPE, nr, struct exo_api));
	expect_enotty(_metadata, self, _IO('y', nr));
}
#endif

/*
 * The command numbers do not encode a size or direction: the same number
 * with _IOR/_IOW/_IOWR encoding is a different, unknown command.
 */
TEST_F(exo, unknown_cmd_sized)
{
	unsigned int nr;

	for (nr = EXO_CMD_BASE; nr < EXO_CMD_LAST; nr++) {
		expect_enotty(_metadata, self,
			      _IOWR(EXO_IOC_TYPE, nr, struct exo_api));
		expect_enotty(_metadata, self,
			      _IOR(EXO_IOC_TYPE, nr, struct exo_ctx_info));
		expect_enotty(_metadata, self,
			      _IOW(EXO_IOC_TYPE, nr, struct exo_frame_free));
	}
}

/* The handshake refuses any version but EXO_API_VERSION. */
TEST_F(exo, api_wrong_version)
{
	static const uint32_t bad[] = {
		0, EXO_API_VERSION + 1, EXO_API_VERSION + 100, 0x80000000U,
		0xffffffffU,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct exo_api a = { .size = sizeof(a), .api = bad[i] };

		exo_expect_err(EINVAL, self->ctx.fd, self->ctx.ft, EXO_IOC_API,
			       &a, sizeof(a));
	}
	/* and the context still works */
	test_api(self->ctx.fd, NULL);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Orders the buddy allocator has (MAX_ORDER): columns of /proc/buddyinfo. */
static int buddy_orders(void)
{
	char line[512], *p, *end;
	int n = -1;
	FILE *f;

	f = fopen("/proc/buddyinfo", "re");
	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f)) {
		/* "Node 0, zone      DMA      1      0 ..." */
		p = strstr(line, "zone");
		if (p) {
			p += 4;
			while (*p == ' ')
				p++;
			p += strcspn(p, " ");	/* the zone name */
			n = 0;
			for (;;) {
				strtoul(p, &end, 10);
				if (end == p)
					break;
				n++;
				p = end;
			}
		}
	}
	fclose(f);
	return n;
}

/* Every handshake output against the module parameters and the system. */
TEST_F(exo, api_outputs)
{
	const struct exo_api *a = &self->ctx.api;
	uint64_t max_caps = exo_param("max_caps");
	struct exo_ctx_info info = { 0 };

	EXPECT_EQ((uint32_t)EXO_API_VERSION, a->api);
	EXPECT_EQ(EXO_FEAT_ALL, a->features);
	EXPECT_EQ(EXO_IOCTLS_ALL, a->ioctls);
	EXPECT_EQ((uint32_t)sysconf(_SC_PAGESIZE), a->page_size);
	EXPECT_LE(1U, a->nr_colours);
	EXPECT_EQ(exo_param("nr_colours"), (uint64_t)a->nr_colours);
	/* the max_order parameter, capped at the buddy allocator's top order */
	if (buddy_orders() > 0) {
		EXPECT_EQ(min_u64(exo_param("max_order"),
				  (uint64_t)buddy_orders() - 1),
			  (uint64_t)a->max_order);
	} else {
		EXPECT_GE(exo_param("max_order"), (uint64_t)a->max_order);
	}
	EXPECT_EQ(exo_param("frame_quota"), (uint64_t)a->frame_quota);
	EXPECT_EQ(max_caps + 1, (uint64_t)a->ftable_entries);
	EXPECT_EQ(0ULL, a->ftable_size % a->page_size);
	EXPECT_LE(sizeof(struct exo_ftable_header) +
		  (uint64_t)a->ftable_entries * sizeof(struct exo_ftable_entry),
		  a->ftable_size);

	test_ctx_info(self->ctx.fd, &info);
	EXPECT_EQ(a->ctx_id, info.ctx_id);
	EXPECT_EQ(a->frame_quota, info.frame_quota);
	EXPECT_EQ(a->ctx_id, exo_ft_hdr(self->ctx.ft)->ctx_id);

	/* revocation: the ring and vector geometry, the parameters */
	EXPECT_EQ(exo_param("event_entries"), (uint64_t)a->event_entries);
	EXPECT_EQ(0U, a->event_entries & (a->event_entries - 1))
		TH_LOG("event_entries %u: not a power of two",
		       a->event_entries);
	EXPECT_EQ(exo_param("repo_entries"), (uint64_t)a->repo_entries);
	EXPECT_EQ(exo_param("critical_max"), (uint64_t)a->critical_max);
	EXPECT_EQ(exo_param("revoke_timeout_ms"),
		  (uint64_t)a->revoke_timeout_ms);
	EXPECT_EQ(0ULL, a->events_size % a->page_size);
	EXPECT_LE(sizeof(struct exo_events_header) +
		  (uint64_t)a->event_entries * sizeof(struct exo_event),
		  a->events_size);
	EXPECT_EQ(0ULL, a->repo_size % a->page_size);
	EXPECT_LE(sizeof(struct exo_repo_header) +
		  (uint64_t)a->repo_entries * sizeof(struct exo_repo_entry),
		  a->repo_size);
	EXPECT_EQ(0ULL, info.owed);
	EXPECT_EQ(0U, info.__reserved);
}

/* ------------------------------------------------------------------------
 * The event ring and the repossession vector: read-only mappings, as the
 * frame table.
 */

static const uint64_t ro_offsets[] = { EXO_MMAP_EVENTS, EXO_MMAP_REPO };

static size_t ro_len(FIXTURE_DATA(exo) *self, uint64_t off)
{
	return off == EXO_MMAP_EVENTS ? self->ctx.api.events_size :
					self->ctx.api.repo_size;
}

static void __expect_mmap_fails(struct __test_metadata *_metadata, int fd,
				size_t len, int prot, int flags, uint64_t off,
				int err, int line)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);
	int e = errno;

	EXPECT_EQ(MAP_FAILED, p) TH_LOG("mmap at %#llx succeeded (line %d)",
					(unsigned long long)off, line);
	if (p != MAP_FAILED) {
		munmap(p, len);
		return;
	}
	EXPECT_EQ(err, e) TH_LOG("mmap at %#llx: %s (line %d)",
				 (unsigned long long)off, strerror(e), line);
}
#define expect_mmap_fails(fd, len, prot, flags, off, err) \
	__expect_mmap_fails(_metadata, fd, len, prot, flags, off, err, __LINE__)

TEST_F(exo, events_mmap_header)
{
	const struct exo_api *a = &self->ctx.api;
	const struct exo_events_header *h;
	const struct exo_event *e;
	uint32_t i;

	h = mmap(NULL, a->events_size, PROT_READ, MAP_SHARED, self->ctx.fd,
		 EXO_MMAP_EVENTS);
	ASSERT_NE(MAP_FAILED, h) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(EXO_EVENTS_MAGIC, h->magic);
	EXPECT_EQ((uint32_t)EXO_EVENTS_VERSION, h->version);
	EXPECT_EQ(a->ctx_id, h->ctx_id);
	EXPECT_EQ(a->event_entries, h->nr_entries);
	EXPECT_EQ(sizeof(struct exo_event), (size_t)h->entry_size);
	EXPECT_LE(sizeof(*h), (size_t)h->entries_offset);
	EXPECT_GE(a->events_size, h->entries_offset +
		  (uint64_t)h->nr_entries * h->entry_size);
	EXPECT_EQ(0ULL, h->head);
	EXPECT_EQ(0ULL, h->revoke_id);
	EXPECT_EQ(0ULL, h->owed);
	EXPECT_EQ(0ULL, h->deadline_ns);
	EXPECT_EQ((uint32_t)EXO_REVOKE_IDLE, h->state);
	EXPECT_EQ(0U, h->__reserved);
	EXPECT_EQ(0ULL, h->repossessed);
	for (i = 0; i < h->nr_entries; i++) {
		e = (const void *)((const char *)h + h->entries_offset +
				   (size_t)i * h->entry_size);
		EXPECT_EQ(0ULL, e->seq) TH_LOG("entry %u", i);
	}
	EXPECT_EQ(0, munmap((void *)h, a->events_size));
}

TEST_F(exo, repo_mmap_header)
{
	const struct exo_api *a = &self->ctx.api;
	const struct exo_repo_header *h;
	const struct exo_repo_entry *e;
	uint32_t i;

	h = mmap(NULL, a->repo_size, PROT_READ, MAP_SHARED, self->ctx.fd,
		 EXO_MMAP_REPO);
	ASSERT_NE(MAP_FAILED, h) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(EXO_REPO_MAGIC, h->magic);
	EXPECT_EQ((uint32_t)EXO_REPO_VERSION, h->version);
	EXPECT_EQ(a->ctx_id, h->ctx_id);
	EXPECT_EQ(a->repo_entries, h->nr_entries);
	EXPECT_EQ(sizeof(struct exo_repo_entry), (size_t)h->entry_size);
	EXPECT_LE(sizeof(*h), (size_t)h->entries_offset);
	EXPECT_GE(a->repo_size, h->entries_offset +
		  (uint64_t)h->nr_entries * h->entry_size);
	EXPECT_EQ(0ULL, h->used);
	EXPECT_EQ(0ULL, h->total);
	for (i = 0; i < h->nr_entries; i++) {
		e = (const void *)((const char *)h + h->entries_offset +
				   (size_t)i * h->entry_size);
		EXPECT_EQ((uint32_t)EXO_REPO_FREE, e->state) TH_LOG("entry %u", i);
	}
	EXPECT_EQ(0, munmap((void *)h, a->repo_size));
}

TEST_F(exo, ring_vector_mmap_write)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ro_offsets); i++) {
		uint64_t off = ro_offsets[i];
		size_t len = ro_len(self, off);

		expect_mmap_fails(self->ctx.fd, len, PROT_READ | PROT_WRITE,
				  MAP_SHARED, off, EACCES);
		expect_mmap_fails(self->ctx.fd, len, PROT_WRITE, MAP_SHARED,
				  off, EACCES);
		expect_mmap_fails(self->ctx.fd, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE, off, EACCES);
	}
}

TEST_F(exo, ring_vector_mprotect_write)
{
	size_t psz = self->ctx.api.page_size;
	unsigned int i;
	int rc, err;
	void *p;

	for (i = 0; i < ARRAY_SIZE(ro_offsets); i++) {
		uint64_t off = ro_offsets[i];
		size_t len = ro_len(self, off);

		p = mmap(NULL, len, PROT_READ, MAP_SHARED, self->ctx.fd, off);
		ASSERT_NE(MAP_FAILED, p);
		rc = mprotect(p, len, PROT_READ | PROT_WRITE);
		err = errno;
		EXPECT_EQ(-1, rc);
		EXPECT_EQ(EACCES, err);
		rc = mprotect(p, psz, PROT_WRITE);
		err = errno;
		EXPECT_EQ(-1, rc);
		EXPECT_EQ(EACCES, err);
		/* still mapped and readable */
		EXPECT_EQ(off == EXO_MMAP_EVENTS ? EXO_EVENTS_MAGIC :
						   EXO_REPO_MAGIC,
			  *(volatile uint32_t *)p);
		EXPECT_EQ(0, munmap(p, len));
	}
}

TEST_F(exo, ring_vector_mmap_too_long)
{
	size_t psz = self->ctx.api.page_size;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ro_offsets); i++) {
		uint64_t off = ro_offsets[i];
		size_t len = ro_len(self, off);

		expect_mmap_fails(self->ctx.fd, len + psz, PROT_READ,
				  MAP_SHARED, off, EINVAL);
		expect_mmap_fails(self->ctx.fd, 2 * len + psz, PROT_READ,
				  MAP_SHARED, off, EINVAL);
	}
}

/*
 * ioctls bit n set <=> command EXO_CMD_BASE + n exists: each advertised
 * command reaches its struct (NULL -> EFAULT), each other number in the
 * 64-bit window is ENOTTY.
 */
TEST_F(exo, api_ioctls_match_commands)
{
	unsigned int bit;

	ASSERT_EQ(EXO_IOCTLS_ALL, self->ctx.api.ioctls);
	for (bit = 0; bit < 64 && EXO_CMD_BASE + bit < 256; bit++) {
		unsigned long ioc = _IO(EXO_IOC_TYPE, EXO_CMD_BASE + bit);

		if (self->ctx.api.ioctls & (UINT64_C(1) << bit))
			exo_expect_err(EFAULT, self->ctx.fd, self->ctx.ft, ioc,
				       NULL, 0);
		else
			expect_enotty(_metadata, self, ioc);
	}
}

TEST_F(exo, api_ctx_id_unique)
{
	struct exo_ctx other = EXO_CTX_INIT;
	struct exo_ctx_info info = { 0 };

	exo_ctx_open(&other, false);
	EXPECT_NE(self->ctx.api.ctx_id, other.api.ctx_id);
	test_ctx_info(other.fd, &info);
	EXPECT_EQ(other.api.ctx_id, info.ctx_id);
	test_ctx_info(self->ctx.fd, &info);
	EXPECT_EQ(self->ctx.api.ctx_id, info.ctx_id);
	exo_ctx_close(&other);
}

/* how beyond the enum. */
TEST_F(exo, frame_alloc_how_range)
{
	static const uint32_t bad[] = {
		EXO_ALLOC_CONTIG + 1, EXO_ALLOC_CONTIG + 2, 0x80000000U,
		0xffffffffU,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		exo_expect_alloc_err(EINVAL, self->ctx.fd, self->ctx.ft,
				     bad[i], 0, 0, 0);
}

/*
 * A PFN that a named allocation would accept: a frame we allocate and give
 * back, so an EINVAL can only come from the field under test.
 */
static uint64_t usable_pfn(struct __test_metadata *_metadata, int fd)
{
	struct exo_frame_alloc a;

	test_alloc_any(fd, &a);
	test_frame_free(fd, a.cap);
	return a.pfn;
}

/* pfn, colour or order given to an allocation that does not use it. */
TEST_F(exo, frame_alloc_unused_fields)
{
	int fd = self->ctx.fd;
	const void *ft = self->ctx.ft;
	uint32_t colour = self->ctx.api.nr_colours > 1 ? 1 : 0;
	uint64_t pfn = usable_pfn(_metadata, fd);

	/* ANY uses none of them */
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_ANY, 0, pfn, 0);
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_ANY, 0, 1, 0);
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_ANY, 0, 0, 1);
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_ANY, 1, 0, 0);
	/* PFN uses pfn only */
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_PFN, 1, pfn, 0);
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_PFN, 0, pfn, 1);
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_PFN, 0, pfn,
			     (uint32_t)(pfn % self->ctx.api.nr_colours) ?: 1);
	/* COLOUR uses colour only */
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_COLOUR, 0, 1, colour);
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_COLOUR, 1, 0, colour);
	/* CONTIG uses order only */
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_CONTIG, 0, 1, 0);
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_CONTIG, 0, 0, 1);
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_CONTIG, 0, pfn, 0);
}

TEST_F(exo, frame_alloc_colour_range)
{
	uint32_t n = self->ctx.api.nr_colours;

	exo_expect_alloc_err(EINVAL, self->ctx.fd, self->ctx.ft,
			     EXO_ALLOC_COLOUR, 0, 0, n);
	exo_expect_alloc_err(EINVAL, self->ctx.fd, self->ctx.ft,
			     EXO_ALLOC_COLOUR, 0, 0, n + 1);
	exo_expect_alloc_err(EINVAL, self->ctx.fd, self->ctx.ft,
			     EXO_ALLOC_COLOUR, 0, 0, 0x80000000U);
	exo_expect_alloc_err(EINVAL, self->ctx.fd, self->ctx.ft,
			     EXO_ALLOC_COLOUR, 0, 0, 0xffffffffU);
}

TEST_F(exo, frame_alloc_order_range)
{
	uint32_t m = self->ctx.api.max_order;
	static const uint32_t big[] = { 31, 32, 63, 64, 0xffffffffU };
	unsigned int i;

	exo_expect_alloc_err(EINVAL, self->ctx.fd, self->ctx.ft,
			     EXO_ALLOC_CONTIG, m + 1, 0, 0);
	exo_expect_alloc_err(EINVAL, self->ctx.fd, self->ctx.ft,
			     EXO_ALLOC_CONTIG, m + 2, 0, 0);
	for (i = 0; i < ARRAY_SIZE(big); i++)
		if (big[i] > m)
			exo_expect_alloc_err(EINVAL, self->ctx.fd,
					     self->ctx.ft, EXO_ALLOC_CONTIG,
					     big[i], 0, 0);
}

TEST_F(exo, frame_alloc_pfn_not_ram)
{
	exo_expect_alloc_err(EINVAL, self->ctx.fd, self->ctx.ft,
			     EXO_ALLOC_PFN, 0, 1ULL << 40, 0);
	exo_expect_alloc_err(EINVAL, self->ctx.fd, self->ctx.ft,
			     EXO_ALLOC_PFN, 0, ~0ULL, 0);
}

TEST_F(exo, frame_free_bad_cap)
{
	static const uint64_t bad[] = {
		0, 1, 0x100000001ULL, 0xffffffffULL, ~0ULL,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct exo_frame_free f = { .size = sizeof(f), .cap = bad[i] };

		exo_expect_err(ENOENT, self->ctx.fd, self->ctx.ft,
			       EXO_IOC_FRAME_FREE, &f, sizeof(f));
	}
}

/*
 * Failed calls interleaved with a held frame: nothing about the held frame
 * or the counters moves, and the context keeps working afterwards.
 */
TEST_F(exo, failed_calls_change_nothing)
{
	int fd = self->ctx.fd;
	const void *ft = self->ctx.ft;
	struct exo_frame_alloc held;
	struct exo_ctx_info info = { 0 };

	test_alloc_any(fd, &held);
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_CONTIG,
			     self->ctx.api.max_order + 1, 0, 0);
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_COLOUR, 0, 0,
			     self->ctx.api.nr_colours);
	exo_expect_alloc_err(EINVAL, fd, ft, EXO_ALLOC_PFN, 0, 1ULL << 40, 0);
	{
		struct exo_frame_free f = {
			.size = sizeof(f),
			.cap = held.cap + (1ULL << 32),
		};

		exo_expect_err(ENOENT, fd, ft, EXO_IOC_FRAME_FREE, &f,
			       sizeof(f));
		f.flags = 1;
		f.cap = held.cap;
		exo_expect_err(EOPNOTSUPP, fd, ft, EXO_IOC_FRAME_FREE, &f,
			       sizeof(f));
		f.flags = 0;
		f.size = sizeof(f) - 1;
		exo_expect_err(EINVAL, fd, ft, EXO_IOC_FRAME_FREE, &f,
			       sizeof(f));
	}
	expect_enotty(_metadata, self, _IO(EXO_IOC_TYPE, EXO_CMD_LAST));

	exo_ft_expect_owned(ft, self->ctx.api.ctx_id, EXO_ALLOC_ANY, &held);
	test_ctx_info(fd, &info);
	EXPECT_EQ(1ULL, info.frames);
	EXPECT_EQ(1ULL, info.caps);
	EXPECT_EQ(1ULL, info.allocs);
	EXPECT_EQ(0ULL, info.frees);
	exo_counters_expect(&self->base, 1, 1);

	test_frame_free(fd, held.cap);
	test_ctx_info(fd, &info);
	EXPECT_EQ(0ULL, info.frames);
	EXPECT_EQ(1ULL, info.frees);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test_harness_run(argc, argv);
}
