/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * exo: exokernel-style resource management for Linux, user-space API.
 *
 * Every ioctl of /dev/exo takes one of the structs below. Each struct starts
 * with @size (the caller's sizeof) and @flags; the kernel accepts a smaller
 * struct down to the documented minimum and a larger one whose extra bytes
 * are zero, so old binaries and new kernels interoperate. The errno table is
 * in Documentation/index.rst, each command's errors in Documentation/uapi.rst.
 */
#ifndef _UAPI_LINUX_EXO_H
#define _UAPI_LINUX_EXO_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define EXO_API_VERSION		1
#define EXO_IOC_TYPE		'x'

/**
 * enum exo_cmd - ioctl command numbers, in the order they were added.
 * @EXO_CMD_BASE: first command number; bit (cmd - EXO_CMD_BASE) of
 *	&exo_api.ioctls says the command is supported.
 * @EXO_CMD_API: handshake, &struct exo_api.
 * @EXO_CMD_CTX_INFO: context counters, &struct exo_ctx_info.
 * @EXO_CMD_FRAME_ALLOC: allocate frames, &struct exo_frame_alloc.
 * @EXO_CMD_FRAME_FREE: free frames, &struct exo_frame_free.
 * @EXO_CMD_MAP: bind frames to virtual pages, &struct exo_map.
 * @EXO_CMD_UNMAP: remove bindings, &struct exo_vm_ranges.
 * @EXO_CMD_PROTECT: change the protection of bindings, &struct exo_vm_ranges.
 * @EXO_CMD_QUERY: read bindings, &struct exo_query.
 * @EXO_CMD_DIRTY: read and clear dirty bits, &struct exo_dirty.
 * @EXO_CMD_STLB: register the library OS's page table, &struct exo_stlb.
 * @EXO_CMD_FAULT_MODE: choose how faults are delivered,
 *	&struct exo_fault_mode.
 * @EXO_CMD_FAULT_WAKE: wake threads waiting on fault events,
 *	&struct exo_fault_wake.
 * @EXO_CMD_REVOKE: ask a context for frames back, privileged,
 *	&struct exo_revoke.
 * @EXO_CMD_REVOKE_NOTIFY: how revocation events wake the library OS,
 *	&struct exo_revoke_notify.
 * @EXO_CMD_FRAME_CRITICAL: mark or unmark frames as critical,
 *	&struct exo_frame_critical.
 * @EXO_CMD_FRAME_GRANT: give another context a capability for frames,
 *	&struct exo_frame_grant.
 * @EXO_CMD_RECOVER: read back or restore repossessed contents,
 *	&struct exo_recover.
 * @EXO_CMD_NET_ATTACH: attach exo to a network interface or detach it,
 *	privileged, &struct exo_net_attach.
 * @EXO_CMD_NET_CLAIM: claim a flow on an attached interface,
 *	&struct exo_net_claim.
 * @EXO_CMD_NET_UNCLAIM: give a claim up, &struct exo_net_unclaim.
 * @EXO_CMD_NET_HANDLER: set or clear the downloaded handler of a claim,
 *	&struct exo_net_handler.
 * @EXO_CMD_NET_RING: register the receive or transmit ring,
 *	&struct exo_net_ring.
 * @EXO_CMD_NET_TX: send what the transmit ring holds, &struct exo_net_tx.
 * @EXO_CMD_NET_STATS: counters of a claim, &struct exo_net_stats.
 * @EXO_CMD_ENTRY_REGISTER: register an entry point for protected control
 *	transfer, &struct exo_entry_register.
 * @EXO_CMD_ENTRY_UNREGISTER: remove an entry point, &struct exo_entry_unregister.
 * @EXO_CMD_CALL_GRANT: give another context a call capability for an
 *	entry, &struct exo_call_grant.
 * @EXO_CMD_CALL_REVOKE: take a call capability back, &struct exo_call_revoke.
 * @EXO_CMD_THREAD_REGISTER: register the calling thread: its row of the
 *	thread table and its end-of-slice upcalls, &struct exo_thread_register.
 * @EXO_CMD_THREAD_UNREGISTER: unregister the calling thread,
 *	&struct exo_thread_unregister.
 * @EXO_CMD_LAST: one past the last command.
 */
enum exo_cmd {
	EXO_CMD_BASE = 0x80,
	EXO_CMD_API = EXO_CMD_BASE,
	EXO_CMD_CTX_INFO,
	EXO_CMD_FRAME_ALLOC,
	EXO_CMD_FRAME_FREE,
	EXO_CMD_MAP,
	EXO_CMD_UNMAP,
	EXO_CMD_PROTECT,
	EXO_CMD_QUERY,
	EXO_CMD_DIRTY,
	EXO_CMD_STLB,
	EXO_CMD_FAULT_MODE,
	EXO_CMD_FAULT_WAKE,
	EXO_CMD_REVOKE,
	EXO_CMD_REVOKE_NOTIFY,
	EXO_CMD_FRAME_CRITICAL,
	EXO_CMD_FRAME_GRANT,
	EXO_CMD_RECOVER,
	EXO_CMD_NET_ATTACH,
	EXO_CMD_NET_CLAIM,
	EXO_CMD_NET_UNCLAIM,
	EXO_CMD_NET_HANDLER,
	EXO_CMD_NET_RING,
	EXO_CMD_NET_TX,
	EXO_CMD_NET_STATS,
	EXO_CMD_ENTRY_REGISTER,
	EXO_CMD_ENTRY_UNREGISTER,
	EXO_CMD_CALL_GRANT,
	EXO_CMD_CALL_REVOKE,
	EXO_CMD_THREAD_REGISTER,
	EXO_CMD_THREAD_UNREGISTER,
	EXO_CMD_LAST,
};

/* Sizes travel in the struct, not the ioctl number (as iommufd does). */
#define EXO_IOC_API		_IO(EXO_IOC_TYPE, EXO_CMD_API)
#define EXO_IOC_CTX_INFO	_IO(EXO_IOC_TYPE, EXO_CMD_CTX_INFO)
#define EXO_IOC_FRAME_ALLOC	_IO(EXO_IOC_TYPE, EXO_CMD_FRAME_ALLOC)
#define EXO_IOC_FRAME_FREE	_IO(EXO_IOC_TYPE, EXO_CMD_FRAME_FREE)
#define EXO_IOC_MAP		_IO(EXO_IOC_TYPE, EXO_CMD_MAP)
#define EXO_IOC_UNMAP		_IO(EXO_IOC_TYPE, EXO_CMD_UNMAP)
#define EXO_IOC_PROTECT		_IO(EXO_IOC_TYPE, EXO_CMD_PROTECT)
#define EXO_IOC_QUERY		_IO(EXO_IOC_TYPE, EXO_CMD_QUERY)
#define EXO_IOC_DIRTY		_IO(EXO_IOC_TYPE, EXO_CMD_DIRTY)
#define EXO_IOC_STLB		_IO(EXO_IOC_TYPE, EXO_CMD_STLB)
#define EXO_IOC_FAULT_MODE	_IO(EXO_IOC_TYPE, EXO_CMD_FAULT_MODE)
#define EXO_IOC_FAULT_WAKE	_IO(EXO_IOC_TYPE, EXO_CMD_FAULT_WAKE)
#define EXO_IOC_REVOKE		_IO(EXO_IOC_TYPE, EXO_CMD_REVOKE)
#define EXO_IOC_REVOKE_NOTIFY	_IO(EXO_IOC_TYPE, EXO_CMD_REVOKE_NOTIFY)
#define EXO_IOC_FRAME_CRITICAL	_IO(EXO_IOC_TYPE, EXO_CMD_FRAME_CRITICAL)
#define EXO_IOC_FRAME_GRANT	_IO(EXO_IOC_TYPE, EXO_CMD_FRAME_GRANT)
#define EXO_IOC_RECOVER		_IO(EXO_IOC_TYPE, EXO_CMD_RECOVER)
#define EXO_IOC_NET_ATTACH	_IO(EXO_IOC_TYPE, EXO_CMD_NET_ATTACH)
#define EXO_IOC_NET_CLAIM	_IO(EXO_IOC_TYPE, EXO_CMD_NET_CLAIM)
#define EXO_IOC_NET_UNCLAIM	_IO(EXO_IOC_TYPE, EXO_CMD_NET_UNCLAIM)
#define EXO_IOC_NET_HANDLER	_IO(EXO_IOC_TYPE, EXO_CMD_NET_HANDLER)
#define EXO_IOC_NET_RING	_IO(EXO_IOC_TYPE, EXO_CMD_NET_RING)
#define EXO_IOC_NET_TX		_IO(EXO_IOC_TYPE, EXO_CMD_NET_TX)
#define EXO_IOC_NET_STATS	_IO(EXO_IOC_TYPE, EXO_CMD_NET_STATS)
#define EXO_IOC_ENTRY_REGISTER	_IO(EXO_IOC_TYPE, EXO_CMD_ENTRY_REGISTER)
#define EXO_IOC_ENTRY_UNREGISTER _IO(EXO_IOC_TYPE, EXO_CMD_ENTRY_UNREGISTER)
#define EXO_IOC_CALL_GRANT	_IO(EXO_IOC_TYPE, EXO_CMD_CALL_GRANT)
#define EXO_IOC_CALL_REVOKE	_IO(EXO_IOC_TYPE, EXO_CMD_CALL_REVOKE)
#define EXO_IOC_THREAD_REGISTER	_IO(EXO_IOC_TYPE, EXO_CMD_THREAD_REGISTER)
#define EXO_IOC_THREAD_UNREGISTER _IO(EXO_IOC_TYPE, EXO_CMD_THREAD_UNREGISTER)

/*
 * Register commands: no struct; their arguments and results travel in
 * registers (x86-64 only), so that a protected control transfer copies
 * nothing through memory. See Documentation/cpu.rst for the convention:
 *
 * %EXO_IOC_CALL: rdx the call capability; the message in r10, r8, r9,
 *	r12, r13, r14. Returns 0 with the reply in the same six registers,
 *	or -errno with them unchanged.
 * %EXO_IOC_REPLY: rdx the entry id | &enum exo_reply_flags << 32; the
 *	reply in the six registers; rbx, with %EXO_REPLY_WAIT, the stack
 *	pointer to enter with (0: keep). With %EXO_REPLY_WAIT the thread
 *	resumes at the entry's pc with rax the caller's context id, rdx
 *	%EXO_CALL_SEND for a send (0 for a call), rbx the server context's
 *	capability for a frame granted with the call (0: none) and the
 *	message in the six registers.
 * %EXO_IOC_CALL_FRAME: as %EXO_IOC_CALL, and rbx a capability for frames
 *	the caller owns: before the call queues, the serving context is
 *	granted them as by %EXO_IOC_FRAME_GRANT, and its capability reaches
 *	the server in rbx. If the call fails before a server takes it, the
 *	grant is taken back.
 * %EXO_IOC_SEND: as %EXO_IOC_CALL, but returns 0 as soon as the message
 *	is queued at the entry or handed to a server thread; nothing is
 *	replied. -EAGAIN while the entry holds %EXO_CALL_MAX_SENDS sends.
 * %EXO_IOC_YIELD: rdx a call capability (0: this context), r10 a thread
 *	id in the thread table of the context serving its entry. Gives the
 *	rest of the caller's time slice to that registered thread: 0 once it
 *	has run, -EAGAIN when it cannot take the processor (asleep, or
 *	already running), -ESRCH when no such thread is registered.
 */
#define EXO_IOC_CALL		_IO(EXO_IOC_TYPE, 0x40)
#define EXO_IOC_REPLY		_IO(EXO_IOC_TYPE, 0x41)
#define EXO_IOC_SEND		_IO(EXO_IOC_TYPE, 0x42)
#define EXO_IOC_YIELD		_IO(EXO_IOC_TYPE, 0x43)
#define EXO_IOC_CALL_FRAME	_IO(EXO_IOC_TYPE, 0x44)

/*
 * In rdx at the entry: the message is a send, and its reply goes nowhere.
 * (Not in rax: ioctl(2) returns an int.)
 */
#define EXO_CALL_SEND		1

/* Sends an entry holds at most, queued or being served. */
#define EXO_CALL_MAX_SENDS	64

/* The number of 64-bit message words a call and its reply carry. */
#define EXO_CALL_WORDS		6

/**
 * enum exo_reply_flags - bits 32..63 of %EXO_IOC_REPLY's rdx.
 * @EXO_REPLY_WAIT: after replying (if this thread was serving a call),
 *	wait at the entry for the next call.
 */
enum exo_reply_flags {
	EXO_REPLY_WAIT = 1 << 0,
};

/**
 * enum exo_feature - bits of &exo_api.features.
 * @EXO_FEAT_FRAMES: frame allocation (ANY) and free.
 * @EXO_FEAT_FRAME_PFN: allocation of a named frame by PFN.
 * @EXO_FEAT_FRAME_COLOUR: allocation by cache colour.
 * @EXO_FEAT_FRAME_CONTIG: allocation of contiguous runs of 2^order frames.
 * @EXO_FEAT_FTABLE: read-only frame table at mmap offset %EXO_MMAP_FTABLE.
 * @EXO_FEAT_MEMCG: ANY, COLOUR and CONTIG frames are charged to the
 *	caller's memory cgroup.
 * @EXO_FEAT_VM: exo VMAs (mmap at %EXO_MMAP_VM), MAP, UNMAP, PROTECT,
 *	QUERY, DIRTY and the SIGBUS fault upcall.
 * @EXO_FEAT_STLB: in-kernel refill from the library OS's page table.
 * @EXO_FEAT_FAULT_EVENTS: fault events read from the context's fd.
 * @EXO_FEAT_UPCALL: %EXO_FAULT_MODE_UPCALL (x86-64 only).
 * @EXO_FEAT_REVOKE: visible revocation, the abort protocol, the event
 *	ring (%EXO_MMAP_EVENTS) and the repossession vector (%EXO_MMAP_REPO).
 * @EXO_FEAT_GRANT: %EXO_IOC_FRAME_GRANT.
 * @EXO_FEAT_NET: network attachment, flow claims, downloaded handlers and
 *	the receive and transmit rings (EXO_IOC_NET_*).
 * @EXO_FEAT_THREADS: registered threads, the thread table
 *	(%EXO_MMAP_THREADS), end-of-slice upcalls and %EXO_IOC_YIELD (x86-64,
 *	on kernels with preempt notifiers).
 * @EXO_FEAT_CALL: entry points, call capabilities and protected control
 *	transfer (%EXO_IOC_CALL, %EXO_IOC_CALL_FRAME, %EXO_IOC_REPLY,
 *	%EXO_IOC_SEND; x86-64 only).
 */
enum exo_feature {
	EXO_FEAT_FRAMES = 1 << 0,
	EXO_FEAT_FRAME_PFN = 1 << 1,
	EXO_FEAT_FRAME_COLOUR = 1 << 2,
	EXO_FEAT_FRAME_CONTIG = 1 << 3,
	EXO_FEAT_FTABLE = 1 << 4,
	EXO_FEAT_MEMCG = 1 << 5,
	EXO_FEAT_VM = 1 << 6,
	EXO_FEAT_STLB = 1 << 7,
	EXO_FEAT_FAULT_EVENTS = 1 << 8,
	EXO_FEAT_UPCALL = 1 << 9,
	EXO_FEAT_REVOKE = 1 << 10,
	EXO_FEAT_GRANT = 1 << 11,
	EXO_FEAT_NET = 1 << 12,
	EXO_FEAT_CALL = 1 << 13,
	EXO_FEAT_THREADS = 1 << 14,
};

/*
 * Every feature and every command this header describes: what
 * &exo_api.features and &exo_api.ioctls hold on a module built from it
 * (%EXO_FEAT_UPCALL and %EXO_FEAT_CALL on x86-64 only).
 */
#define EXO_API_FEATURES						\
	(EXO_FEAT_FRAMES | EXO_FEAT_FRAME_PFN | EXO_FEAT_FRAME_COLOUR |	\
	 EXO_FEAT_FRAME_CONTIG | EXO_FEAT_FTABLE | EXO_FEAT_MEMCG |	\
	 EXO_FEAT_VM | EXO_FEAT_STLB | EXO_FEAT_FAULT_EVENTS |		\
	 EXO_FEAT_UPCALL | EXO_FEAT_REVOKE | EXO_FEAT_GRANT | EXO_FEAT_NET | \
	 EXO_FEAT_CALL | EXO_FEAT_THREADS)
#define EXO_API_IOCTLS	((1ULL << (EXO_CMD_LAST - EXO_CMD_BASE)) - 1)

/**
 * struct exo_api - handshake: what this module speaks (%EXO_IOC_API).
 * @size: sizeof(struct exo_api) as the caller knows it.
 * @flags: must be 0.
 * @api: in: the API version the caller speaks (%EXO_API_VERSION);
 *	out: the version the module speaks.
 * @__reserved: must be 0.
 * @features: out: &enum exo_feature bits the module supports.
 * @ioctls: out: bit (cmd - %EXO_CMD_BASE) set for each supported command.
 * @page_size: out: bytes in one frame.
 * @nr_colours: out: number of cache colours; a frame's colour is
 *	pfn % nr_colours.
 * @max_order: out: largest order accepted by %EXO_ALLOC_CONTIG.
 * @frame_quota: out: frames this context may hold at once.
 * @ctx_id: out: this context's id, unique while the module is loaded.
 * @ftable_entries: out: entries in the frame table, including the unused
 *	entry 0; also the most capabilities this context may hold at once,
 *	plus one.
 * @ftable_size: out: bytes to mmap at %EXO_MMAP_FTABLE.
 * @pool_pfn: out: first frame of exo's own region, the frames exo keeps
 *	for allocation by name (%EXO_ALLOC_PFN always finds these when no
 *	context holds them).
 * @pool_frames: out: frames in that region; 0 if there is none.
 * @__reserved2: must be 0.
 * @max_batch: out: most entries in one %EXO_IOC_MAP, ranges in one
 *	%EXO_IOC_UNMAP or %EXO_IOC_PROTECT, pages in one %EXO_IOC_QUERY.
 * @stlb_max: out: most entries in a table given to %EXO_IOC_STLB.
 * @events_size: out: bytes to mmap at %EXO_MMAP_EVENTS.
 * @repo_size: out: bytes to mmap at %EXO_MMAP_REPO.
 * @event_entries: out: entries in the event ring.
 * @repo_entries: out: entries in the repossession vector.
 * @critical_max: out: most frames this context may mark critical.
 * @revoke_timeout_ms: out: time a revocation request gives by default
 *	before the abort.
 */
struct exo_api {
	__u32 size;
	__u32 flags;
	__u32 api;
	__u32 __reserved;
	__aligned_u64 features;
	__aligned_u64 ioctls;
	__u32 page_size;
	__u32 nr_colours;
	__u32 max_order;
	__u32 frame_quota;
	__u32 ctx_id;
	__u32 ftable_entries;
	__aligned_u64 ftable_size;
	__aligned_u64 pool_pfn;
	__u32 pool_frames;
	__u32 __reserved2;
	__u32 max_batch;
	__u32 stlb_max;
	__aligned_u64 events_size;
	__aligned_u64 repo_size;
	__u32 event_entries;
	__u32 repo_entries;
	__u32 critical_max;
	__u32 revoke_timeout_ms;
};

/* The smallest &struct exo_api accepted: up to and including @ftable_size. */
#define EXO_API_SIZE_VER1	64

/**
 * struct exo_ctx_info - counters of the calling context (%EXO_IOC_CTX_INFO).
 * @size: sizeof(struct exo_ctx_info) as the caller knows it.
 * @flags: must be 0.
 * @ctx_id: out: this context's id.
 * @frame_quota: out: frames this context may hold at once.
 * @frames: out: frames held now.
 * @caps: out: live capabilities held now.
 * @allocs: out: successful allocations since open.
 * @frees: out: successful frees since open.
 * @bindings: out: virtual pages bound to a frame now.
 * @refills: out: faults the module resolved itself, from a binding or
 *	from the library OS's page table (%EXO_IOC_STLB).
 * @upcalls: out: faults handed to the library OS (SIGBUS or fault event).
 * @revoke_requested: out: frames revocation requests asked for since open.
 * @revoke_returned: out: owed frames the library OS paid back by freeing
 *	(a free of more frames than were owed counts what was owed).
 * @repossessed: out: frames taken by the abort protocol since open.
 * @owed: out: frames still owed now.
 * @critical: out: frames marked critical now.
 * @repo_used: out: repossession vector entries not yet recovered.
 * @granted: out: capabilities held now that name another context's frames.
 * @__reserved: zero.
 */
struct exo_ctx_info {
	__u32 size;
	__u32 flags;
	__u32 ctx_id;
	__u32 frame_quota;
	__aligned_u64 frames;
	__aligned_u64 caps;
	__aligned_u64 allocs;
	__aligned_u64 frees;
	__aligned_u64 bindings;
	__aligned_u64 refills;
	__aligned_u64 upcalls;
	__aligned_u64 revoke_requested;
	__aligned_u64 revoke_returned;
	__aligned_u64 repossessed;
	__aligned_u64 owed;
	__u32 critical;
	__u32 repo_used;
	__u32 granted;
	__u32 __reserved;
};

/* The smallest &struct exo_ctx_info accepted: up to and including @frees. */
#define EXO_CTX_INFO_SIZE_VER1	48

/**
 * enum exo_alloc_how - what &exo_frame_alloc.how asks for.
 * @EXO_ALLOC_ANY: any one frame.
 * @EXO_ALLOC_PFN: exactly the frame &exo_frame_alloc.pfn names.
 * @EXO_ALLOC_COLOUR: one frame whose colour is &exo_frame_alloc.colour.
 * @EXO_ALLOC_CONTIG: 2^&exo_frame_alloc.order physically contiguous
 *	frames, the first aligned to its size.
 */
enum exo_alloc_how {
	EXO_ALLOC_ANY = 0,
	EXO_ALLOC_PFN = 1,
	EXO_ALLOC_COLOUR = 2,
	EXO_ALLOC_CONTIG = 3,
};

/**
 * struct exo_frame_alloc - allocate frames (%EXO_IOC_FRAME_ALLOC).
 * @size: sizeof(struct exo_frame_alloc) as the caller knows it.
 * @flags: must be 0.
 * @how: in: an &enum exo_alloc_how.
 * @order: in: log2 of the frames wanted for %EXO_ALLOC_CONTIG, at most
 *	&exo_api.max_order; must be 0 otherwise. out: the order allocated.
 * @pfn: in: the frame wanted for %EXO_ALLOC_PFN; must be 0 otherwise.
 *	out: the first frame allocated.
 * @colour: in: the colour wanted for %EXO_ALLOC_COLOUR, below
 *	&exo_api.nr_colours; must be 0 otherwise. out: the first frame's colour.
 * @__reserved: must be 0.
 * @cap: out: the capability naming these frames in this context. Its low
 *	32 bits are the frame-table index (EXO_CAP_INDEX()), its high 32 bits a
 *	generation that changes every time the index is reused.
 *
 * Frames come zeroed. A named frame is given only if exo can own that exact
 * frame: EBUSY if another context or the kernel holds it. Frames of exo's
 * region (&exo_api.pool_pfn) are always given when no context holds them;
 * other frames only when Linux can give them up (alloc_contig_range()).
 */
struct exo_frame_alloc {
	__u32 size;
	__u32 flags;
	__u32 how;
	__u32 order;
	__aligned_u64 pfn;
	__u32 colour;
	__u32 __reserved;
	__aligned_u64 cap;
};

/* The smallest &struct exo_frame_alloc accepted: up to and including @cap. */
#define EXO_FRAME_ALLOC_SIZE_VER1	40

/**
 * struct exo_frame_free - give frames back (%EXO_IOC_FRAME_FREE).
 * @size: sizeof(struct exo_frame_free) as the caller knows it.
 * @flags: must be 0.
 * @cap: in: the capability &struct exo_frame_alloc returned; all frames it
 *	names are freed and the capability becomes stale.
 */
struct exo_frame_free {
	__u32 size;
	__u32 flags;
	__aligned_u64 cap;
};

/* The smallest &struct exo_frame_free accepted: up to and including @cap. */
#define EXO_FRAME_FREE_SIZE_VER1	16

#define EXO_CAP_INDEX(cap)	((__u32)((cap) & 0xffffffffu))
#define EXO_CAP_GEN(cap)	((__u32)((cap) >> 32))

/*
 * mmap offsets of /dev/exo: the frame table (read-only), and exo VMAs
 * (MAP_SHARED, any size, empty until the library OS binds frames).
 */
#define EXO_MMAP_FTABLE		0ULL
#define EXO_MMAP_VM		0x100000000ULL
#define EXO_MMAP_EVENTS		0x200000000ULL
#define EXO_MMAP_REPO		0x300000000ULL
#define EXO_MMAP_THREADS	0x400000000ULL

/**
 * struct exo_table_header - how each read-only table exo maps begins: the
 *	frame table, the event ring and the repossession vector start with
 *	these fields, then their own.
 * @magic: the table's magic number.
 * @version: the table's layout version.
 * @ctx_id: the context the table belongs to.
 * @nr_entries: entries in the table.
 * @entry_size: bytes of one entry as the module knows it; a reader copies
 *	the smaller of this and its own struct.
 * @entries_offset: byte offset of entry 0 from the start of the mapping.
 *
 * The entries of the frame table and of the repossession vector change
 * under a 32-bit sequence count, their first field: odd while an entry
 * changes. A reader reads the count, the entry, then the count again
 * (with read barriers between), and retries until both reads agree on an
 * even value. The event ring's entries carry their own 64-bit number
 * instead (&struct exo_event).
 */
struct exo_table_header {
	__u32 magic;
	__u32 version;
	__u32 ctx_id;
	__u32 nr_entries;
	__u32 entry_size;
	__u32 entries_offset;
};

#define EXO_FTABLE_MAGIC	0x464f5845u	/* "EXOF" in little-endian bytes */
#define EXO_FTABLE_VERSION	1

/**
 * struct exo_ftable_header - first bytes of the read-only frame table.
 * @magic: %EXO_FTABLE_MAGIC.
 * @version: %EXO_FTABLE_VERSION.
 * @ctx_id: the context that owns every entry in %EXO_FRAME_OWNED state.
 * @nr_entries: entries that follow, including the unused entry 0.
 * @entry_size: sizeof(struct exo_ftable_entry) as the module knows it.
 * @entries_offset: byte offset of entry 0 from the start of the mapping.
 * @frames: frames the context holds now.
 * @__reserved: zero.
 */
struct exo_ftable_header {
	__u32 magic;
	__u32 version;
	__u32 ctx_id;
	__u32 nr_entries;
	__u32 entry_size;
	__u32 entries_offset;
	__aligned_u64 frames;
	__aligned_u64 __reserved[4];
};

/**
 * enum exo_frame_state - &exo_ftable_entry.state.
 * @EXO_FRAME_FREE: the entry names nothing.
 * @EXO_FRAME_OWNED: the context owns the frames the entry describes.
 * @EXO_FRAME_GRANTED: another context (&exo_ftable_entry.owner) owns them
 *	and granted this context a capability for them (%EXO_IOC_FRAME_GRANT).
 */
enum exo_frame_state {
	EXO_FRAME_FREE = 0,
	EXO_FRAME_OWNED = 1,
	EXO_FRAME_GRANTED = 2,
};

/* &exo_ftable_entry.flags */
#define EXO_FTABLE_CRITICAL	0x1u	/* marked critical (%EXO_IOC_FRAME_CRITICAL) */

/**
 * struct exo_ftable_entry - one capability's frames, at index EXO_CAP_INDEX().
 * @seq: odd while the module updates the entry; readers retry when it is
 *	odd or changed across their read (a seqcount).
 * @gen: generation of the capability that uses this index.
 * @pfn: first frame.
 * @owner: context id of the owner (the table's context when owned).
 * @state: an &enum exo_frame_state.
 * @order: the entry covers 2^order frames from @pfn.
 * @how: the &enum exo_alloc_how that allocated it.
 * @flags: EXO_FTABLE_* bits.
 * @colour: colour of @pfn.
 * @__reserved: zero.
 */
struct exo_ftable_entry {
	__u32 seq;
	__u32 gen;
	__aligned_u64 pfn;
	__u32 owner;
	__u8 state;
	__u8 order;
	__u8 how;
	__u8 flags;
	__u32 colour;
	__u32 __reserved;
};

/*
 * Virtual memory. An exo VMA (mmap of /dev/exo at %EXO_MMAP_VM, MAP_SHARED)
 * has no pages until the library OS binds frames it holds to its virtual
 * pages. The module keeps every binding (va -> frame, protection, dirty)
 * and installs the page-table entry eagerly on MAP and lazily on a fault;
 * taking rights away zaps the entries (one TLB shootdown per call) and the
 * next access refills them in the kernel. A fault the module cannot refill
 * goes to the library OS. Documentation/vm.rst has the whole protocol.
 */

/* Protection of a binding; READ is implied by WRITE and EXEC on x86. */
#define EXO_PROT_NONE		0x0u
#define EXO_PROT_READ		0x1u
#define EXO_PROT_WRITE		0x2u
#define EXO_PROT_EXEC		0x4u
#define EXO_PROT_MASK		0x7u

/**
 * struct exo_map_entry - bind @nr consecutive virtual pages from @va to
 *	frames @frame .. @frame + @nr - 1 of capability @cap.
 * @va: page-aligned address inside one of this context's exo VMAs.
 * @cap: a capability of this context.
 * @frame: first frame within the capability's run (0 for a single frame).
 * @nr: pages to bind, at least 1; @frame + @nr must not pass the run.
 * @prot: EXO_PROT_* bits; WRITE and EXEC need READ, and the VMA must allow
 *	them (it was mapped with PROT_WRITE / PROT_EXEC).
 * @__reserved: must be 0.
 */
struct exo_map_entry {
	__aligned_u64 va;
	__aligned_u64 cap;
	__u32 frame;
	__u32 nr;
	__u32 prot;
	__u32 __reserved;
};

/**
 * struct exo_map - bind frames to virtual pages (%EXO_IOC_MAP).
 * @size: sizeof(struct exo_map) as the caller knows it.
 * @flags: must be 0.
 * @nr: entries at @entries, 1 .. &exo_api.max_batch.
 * @__reserved: must be 0.
 * @entries: user address of @nr &struct exo_map_entry.
 *
 * All or nothing: on any error no binding of the call remains. A page
 * already bound gets EEXIST (unmap it first). The same frame may be bound
 * at many pages with different protections. A writable binding starts
 * dirty.
 */
struct exo_map {
	__u32 size;
	__u32 flags;
	__u32 nr;
	__u32 __reserved;
	__aligned_u64 entries;
};

/* The smallest &struct exo_map accepted: up to and including @entries. */
#define EXO_MAP_SIZE_VER1	24

/**
 * struct exo_vrange - a page-aligned virtual range.
 * @va: first byte, page-aligned.
 * @len: bytes, a non-zero multiple of the page size.
 */
struct exo_vrange {
	__aligned_u64 va;
	__aligned_u64 len;
};

/* &exo_vm_ranges.flags, PROTECT only. */
#define EXO_PROTECT_POPULATE	0x1u

/**
 * struct exo_vm_ranges - unmap (%EXO_IOC_UNMAP) or protect
 *	(%EXO_IOC_PROTECT) every bound page in some ranges.
 * @size: sizeof(struct exo_vm_ranges) as the caller knows it.
 * @flags: UNMAP: 0. PROTECT: %EXO_PROTECT_POPULATE installs at once, as
 *	MAP does, the page-table entries that readable pages lack, instead of
 *	at their next access (a handler that unprotects an inaccessible page
 *	saves the retry's refill). A page that stays present keeps its entry:
 *	made writable, it takes its first write in the kernel, which is how
 *	its dirty bit stays exact.
 * @prot: PROTECT: the new EXO_PROT_* bits for every bound page; UNMAP: 0.
 * @nr: ranges at @ranges, 1 .. &exo_api.max_batch.
 * @ranges: user address of @nr &struct exo_vrange, each inside one exo
 *	VMA of this context.
 *
 * Pages without a binding are skipped. All ranges are checked before
 * anything changes. Rights taken away are gone, in every thread, when the
 * call returns: the module zaps the span the ranges cover in each VMA once
 * (one TLB shootdown per VMA per call); pages in that span keep their
 * bindings and refill in the kernel on their next access. Rights given
 * are lazy unless %EXO_PROTECT_POPULATE: the next access takes them
 * without an upcall.
 */
struct exo_vm_ranges {
	__u32 size;
	__u32 flags;
	__u32 prot;
	__u32 nr;
	__aligned_u64 ranges;
};

/* The smallest &struct exo_vm_ranges accepted: up to and including @ranges. */
#define EXO_VM_RANGES_SIZE_VER1	24

/**
 * enum exo_vpage_state - bits of &exo_vpage.state.
 * @EXO_VPAGE_BOUND: the page is bound to a frame.
 * @EXO_VPAGE_PRESENT: a page-table entry is installed now.
 * @EXO_VPAGE_ACCESSED: the entry's accessed bit (hardware) is set.
 * @EXO_VPAGE_DIRTY: the page may have been written since it was bound or
 *	since the last %EXO_IOC_DIRTY.
 */
enum exo_vpage_state {
	EXO_VPAGE_BOUND = 1 << 0,
	EXO_VPAGE_PRESENT = 1 << 1,
	EXO_VPAGE_ACCESSED = 1 << 2,
	EXO_VPAGE_DIRTY = 1 << 3,
};

/**
 * struct exo_vpage - what %EXO_IOC_QUERY says of one virtual page.
 * @cap: capability of the bound frame; 0 if unbound.
 * @pfn: the bound frame.
 * @frame: the frame's position in the capability's run.
 * @prot: EXO_PROT_* of the binding.
 * @state: &enum exo_vpage_state bits.
 */
struct exo_vpage {
	__aligned_u64 cap;
	__aligned_u64 pfn;
	__u32 frame;
	__u16 prot;
	__u16 state;
};

/* &exo_query.flags */
#define EXO_QUERY_CLEAR_ACCESSED	0x1u

/**
 * struct exo_query - read the bindings of consecutive pages (%EXO_IOC_QUERY).
 * @size: sizeof(struct exo_query) as the caller knows it.
 * @flags: %EXO_QUERY_CLEAR_ACCESSED clears the accessed bits it reports
 *	(without a TLB flush, as Linux's own page aging does on x86).
 * @va: first page, inside an exo VMA of this context.
 * @nr: pages, 1 .. &exo_api.max_batch, all in that VMA.
 * @__reserved: must be 0.
 * @pages: user address of @nr &struct exo_vpage, filled in.
 */
struct exo_query {
	__u32 size;
	__u32 flags;
	__aligned_u64 va;
	__u32 nr;
	__u32 __reserved;
	__aligned_u64 pages;
};

/* The smallest &struct exo_query accepted: up to and including @pages. */
#define EXO_QUERY_SIZE_VER1	32

#define EXO_DIRTY_MAX_PAGES	0x40000u

/**
 * struct exo_dirty - report and clear dirty bits (%EXO_IOC_DIRTY).
 * @size: sizeof(struct exo_dirty) as the caller knows it.
 * @flags: must be 0.
 * @va: first page, inside an exo VMA of this context.
 * @nr: pages, 1 .. %EXO_DIRTY_MAX_PAGES, all in that VMA.
 * @dirty: out: pages that were dirty.
 * @bitmap: user address of (@nr + 63) / 64 __u64 words; bit i (of word
 *	i / 64, from its least significant bit) is set if page i was dirty.
 *
 * Every page reported is clean when the call returns: its next write, in
 * any thread, marks it dirty again.
 */
struct exo_dirty {
	__u32 size;
	__u32 flags;
	__aligned_u64 va;
	__u32 nr;
	__u32 dirty;
	__aligned_u64 bitmap;
};

/* The smallest &struct exo_dirty accepted: up to and including @bitmap. */
#define EXO_DIRTY_SIZE_VER1	32

/* &exo_upte.flags: EXO_PROT_* bits and this one. */
#define EXO_UPTE_VALID		0x80000000u

/**
 * struct exo_upte - one entry of the library OS's own page table.
 * @cap: capability of the frame; checked on every refill.
 * @frame: position of the frame in the capability's run.
 * @flags: %EXO_UPTE_VALID and EXO_PROT_* bits.
 *
 * Entry i describes virtual page base + i * page size. The library OS
 * changes an entry by clearing %EXO_UPTE_VALID, writing, and setting it
 * again; an entry read half-written names at worst another frame the
 * context holds. Like a hardware TLB, the module's bindings are not
 * updated when the table changes: unmap or protect after changing an
 * entry that may be bound.
 */
struct exo_upte {
	__aligned_u64 cap;
	__u32 frame;
	__u32 flags;
};

/**
 * struct exo_stlb - register the library OS's page table for in-kernel
 *	refill (%EXO_IOC_STLB).
 * @size: sizeof(struct exo_stlb) as the caller knows it.
 * @flags: must be 0.
 * @table: user address of @nr_entries &struct exo_upte, 16-byte aligned,
 *	in ordinary writable memory (the module pins it); 0 to unregister.
 * @base: page-aligned virtual address described by entry 0.
 * @nr_entries: 1 .. &exo_api.stlb_max; 0 with @table 0.
 * @__reserved: must be 0.
 *
 * On a fault at a page with no binding (or one that forbids the access)
 * inside [@base, @base + @nr_entries pages), the module reads the entry and,
 * if it is valid, its capability live and its protection allows the
 * access, binds the page and retries it without leaving the kernel. A new
 * registration replaces the old one; bindings made from it stay.
 */
struct exo_stlb {
	__u32 size;
	__u32 flags;
	__aligned_u64 table;
	__aligned_u64 base;
	__u32 nr_entries;
	__u32 __reserved;
};

/* The smallest &struct exo_stlb accepted: up to and including @__reserved. */
#define EXO_STLB_SIZE_VER1	32

/**
 * enum exo_fault_mode_kind - &exo_fault_mode.mode.
 * @EXO_FAULT_MODE_SIGNAL: a fault the module cannot refill sends SIGBUS
 *	to the faulting thread (si_code BUS_ADRERR, si_addr the address,
 *	si_errno the EXO_FAULT_* bits); when its handler returns the access
 *	retries. A thread that blocks, ignores or does not handle SIGBUS is
 *	killed by it. A fault in a system call's copy gets EFAULT.
 * @EXO_FAULT_MODE_EVENT: the faulting thread sleeps (interruptibly) and a
 *	&struct exo_fault_event becomes readable on the context's fd; a MAP or
 *	PROTECT covering the page, or %EXO_IOC_FAULT_WAKE, wakes it and the
 *	access retries.
 * @EXO_FAULT_MODE_UPCALL: Aegis-style exception dispatch, no signal: on
 *	return to user mode the faulting thread resumes at
 *	&exo_fault_mode.entry with its stack pointer, and its first argument
 *	register, at a &struct exo_upcall_frame written below its stack's red
 *	zone. The entry (libexo's) saves what else it needs, handles the fault
 *	and resumes the interrupted code from the frame itself. Faults in
 *	32-bit code fall back to %EXO_FAULT_MODE_SIGNAL.
 */
enum exo_fault_mode_kind {
	EXO_FAULT_MODE_SIGNAL = 0,
	EXO_FAULT_MODE_EVENT = 1,
	EXO_FAULT_MODE_UPCALL = 2,
};

/**
 * struct exo_fault_mode - choose how faults reach the library OS
 *	(%EXO_IOC_FAULT_MODE).
 * @size: sizeof(struct exo_fault_mode) as the caller knows it.
 * @flags: must be 0.
 * @mode: in: an &enum exo_fault_mode_kind. out: the previous mode.
 * @__reserved: must be 0.
 * @entry: in: for %EXO_FAULT_MODE_UPCALL the user address the faulting
 *	thread resumes at; 0 for the other modes. out: the previous one.
 * @cookie: in: for %EXO_FAULT_MODE_UPCALL a value copied into every frame;
 *	0 for the other modes. out: the previous one.
 */
struct exo_fault_mode {
	__u32 size;
	__u32 flags;
	__u32 mode;
	__u32 __reserved;
	__aligned_u64 entry;
	__aligned_u64 cookie;
};

/* The smallest &struct exo_fault_mode accepted: up to and including @__reserved. */
#define EXO_FAULT_MODE_SIZE_VER1	16

/**
 * struct exo_upcall_frame - what %EXO_FAULT_MODE_UPCALL writes for the
 *	library OS's entry (x86-64). The frame ends exactly 128 bytes (the red
 *	zone) below the interrupted stack pointer, with @rflags and @rip last,
 *	so the entry can restore every register, pop the flags and return with
 *	``ret $128``. The handler may change @rip and the general registers;
 *	@rsp is for reading only.
 * @va: the faulting address.
 * @fault: EXO_FAULT_* bits.
 * @size: sizeof(struct exo_upcall_frame) as the module wrote it.
 * @cookie: &exo_fault_mode.cookie.
 * @r15: interrupted register.
 * @r14: interrupted register.
 * @r13: interrupted register.
 * @r12: interrupted register.
 * @r11: interrupted register.
 * @r10: interrupted register.
 * @r9: interrupted register.
 * @r8: interrupted register.
 * @rdi: interrupted register.
 * @rsi: interrupted register.
 * @rbp: interrupted register.
 * @rbx: interrupted register.
 * @rdx: interrupted register.
 * @rcx: interrupted register.
 * @rax: interrupted register.
 * @rsp: interrupted stack pointer.
 * @rflags: interrupted flags.
 * @rip: the faulting instruction.
 */
struct exo_upcall_frame {
	__aligned_u64 va;
	__u32 fault;
	__u32 size;
	__aligned_u64 cookie;
	__aligned_u64 r15;
	__aligned_u64 r14;
	__aligned_u64 r13;
	__aligned_u64 r12;
	__aligned_u64 r11;
	__aligned_u64 r10;
	__aligned_u64 r9;
	__aligned_u64 r8;
	__aligned_u64 rdi;
	__aligned_u64 rsi;
	__aligned_u64 rbp;
	__aligned_u64 rbx;
	__aligned_u64 rdx;
	__aligned_u64 rcx;
	__aligned_u64 rax;
	__aligned_u64 rsp;
	__aligned_u64 rflags;
	__aligned_u64 rip;
};

/* Bytes below the interrupted stack pointer that the frame leaves alone. */
#define EXO_UPCALL_RED_ZONE	128

/*
 * What a fault was: exactly one access bit, plus EXO_FAULT_PROT when the
 * page is bound but the binding forbids the access (otherwise the page is
 * unbound). Carried in si_errno of exo's SIGBUS and in exo_fault_event.
 */
#define EXO_FAULT_READ		0x1u
#define EXO_FAULT_WRITE		0x2u
#define EXO_FAULT_EXEC		0x4u
#define EXO_FAULT_PROT		0x100u
/*
 * The page was bound until the abort protocol took its frame (or the owner
 * of a granted frame took it back); nothing is bound there now.
 */
#define EXO_FAULT_REPOSSESSED	0x200u

/**
 * struct exo_fault_event - one fault, as read(2) returns it in
 *	%EXO_FAULT_MODE_EVENT. read(2) returns whole events only (EINVAL for
 *	a buffer smaller than one), blocks unless the fd is O_NONBLOCK
 *	(EAGAIN), and poll(2) reports POLLIN while one is pending.
 * @va: the faulting address (not rounded to the page).
 * @fault: EXO_FAULT_* bits.
 * @tid: the faulting thread, as gettid(2) names it in the reader's pid
 *	namespace.
 */
struct exo_fault_event {
	__aligned_u64 va;
	__u32 fault;
	__u32 tid;
};

/* &exo_fault_wake.flags */
#define EXO_WAKE_SIGBUS		0x1u

/**
 * struct exo_fault_wake - wake threads waiting on a fault event
 *	(%EXO_IOC_FAULT_WAKE).
 * @size: sizeof(struct exo_fault_wake) as the caller knows it.
 * @flags: %EXO_WAKE_SIGBUS: the woken threads get SIGBUS (as a fault the
 *	library OS refuses) instead of retrying the access.
 * @va: first byte of the range, page-aligned.
 * @len: bytes, a non-zero multiple of the page size.
 */
struct exo_fault_wake {
	__u32 size;
	__u32 flags;
	__aligned_u64 va;
	__aligned_u64 len;
};

/* The smallest &struct exo_fault_wake accepted: up to and including @len. */
#define EXO_FAULT_WAKE_SIZE_VER1	24

/*
 * Revocation. exo asks for frames back by posting a request ("return N
 * frames by T") into the context's event ring, a read-only mapping at
 * %EXO_MMAP_EVENTS, and waking it: poll(2) reports POLLPRI while frames are
 * owed, an eventfd and a signal can be registered (%EXO_IOC_REVOKE_NOTIFY).
 * Every frame the library OS frees while frames are owed counts towards the
 * request. Part-way to the deadline an urgent warning follows; at the
 * deadline the abort protocol takes what is still owed: it breaks every
 * binding of the frames it takes (in every context they were granted to),
 * saves their contents, records each capability in the repossession vector
 * (read-only, at %EXO_MMAP_REPO) and posts %EXO_EV_REPOSSESSED. The library
 * OS reads the contents back or restores them into a new frame with
 * %EXO_IOC_RECOVER. Documentation/revocation.rst has the whole protocol.
 */

#define EXO_EVENTS_MAGIC	0x45455845u	/* "EXEE" in little-endian bytes */
#define EXO_EVENTS_VERSION	1

/**
 * enum exo_revoke_state - &exo_events_header.state.
 * @EXO_REVOKE_IDLE: nothing owed.
 * @EXO_REVOKE_REQUESTED: frames owed; the deadline is ahead.
 * @EXO_REVOKE_URGENT: frames owed; the urgent warning went out.
 * @EXO_REVOKE_ABORTING: the deadline passed; exo is taking frames.
 */
enum exo_revoke_state {
	EXO_REVOKE_IDLE = 0,
	EXO_REVOKE_REQUESTED = 1,
	EXO_REVOKE_URGENT = 2,
	EXO_REVOKE_ABORTING = 3,
};

/**
 * struct exo_events_header - first bytes of the read-only event ring.
 *
 * The fields after @head are the revocation state now; the ring holds its
 * history. Event n (counting from 0) is at entry n % @nr_entries and is
 * complete when its &exo_event.seq reads n + 1; a reader more than
 * @nr_entries behind has lost events (the state fields stay exact).
 *
 * @magic: %EXO_EVENTS_MAGIC.
 * @version: %EXO_EVENTS_VERSION.
 * @ctx_id: the context.
 * @nr_entries: entries in the ring, a power of two.
 * @entry_size: sizeof(struct exo_event) as the module knows it.
 * @entries_offset: byte offset of entry 0 from the start of the mapping.
 * @head: events posted since open.
 * @revoke_id: id of the latest revocation request (0: none yet).
 * @owed: frames still owed.
 * @deadline_ns: CLOCK_MONOTONIC time of the abort; 0 when nothing is owed.
 * @state: an &enum exo_revoke_state.
 * @__reserved: zero.
 * @repossessed: frames the abort protocol took since open.
 */
struct exo_events_header {
	__u32 magic;
	__u32 version;
	__u32 ctx_id;
	__u32 nr_entries;
	__u32 entry_size;
	__u32 entries_offset;
	__aligned_u64 head;
	__aligned_u64 revoke_id;
	__aligned_u64 owed;
	__aligned_u64 deadline_ns;
	__u32 state;
	__u32 __reserved;
	__aligned_u64 repossessed;
};

/**
 * enum exo_event_type - &exo_event.type.
 * @EXO_EV_REVOKE: return &exo_event.nr frames by &exo_event.deadline_ns.
 * @EXO_EV_REVOKE_URGENT: the deadline is near; &exo_event.nr still owed.
 * @EXO_EV_REVOKE_DONE: nothing owed any more (&exo_event.nr: frames the
 *	library OS returned since the request); also after an abort, right
 *	after its %EXO_EV_REPOSSESSED.
 * @EXO_EV_REPOSSESSED: the abort protocol took &exo_event.nr frames;
 *	their vector entries are the ones in %EXO_REPO_SAVED state whose
 *	&exo_repo_entry.id is &exo_event.id (the repossession exception).
 * @EXO_EV_GRANT_REVOKED: the owner took back the &exo_event.nr frames of
 *	the granted capability &exo_event.arg; its bindings here are gone.
 * @EXO_EV_NET_DOWN: the interface &exo_event.arg (an ifindex) was detached
 *	or unregistered; the &exo_event.nr claims this context had on it are
 *	gone.
 */
enum exo_event_type {
	EXO_EV_REVOKE = 1,
	EXO_EV_REVOKE_URGENT = 2,
	EXO_EV_REVOKE_DONE = 3,
	EXO_EV_REPOSSESSED = 4,
	EXO_EV_GRANT_REVOKED = 5,
	EXO_EV_NET_DOWN = 6,
};

/**
 * struct exo_event - one entry of the event ring.
 * @seq: n + 1 once event n is complete in this entry (0 while written).
 * @type: an &enum exo_event_type.
 * @__reserved: zero.
 * @id: the revocation request the event belongs to.
 * @nr: frames (see &enum exo_event_type).
 * @deadline_ns: CLOCK_MONOTONIC time of the abort, for REVOKE and URGENT.
 * @arg: %EXO_EV_GRANT_REVOKED: the capability; otherwise 0.
 */
struct exo_event {
	__aligned_u64 seq;
	__u32 type;
	__u32 __reserved;
	__aligned_u64 id;
	__aligned_u64 nr;
	__aligned_u64 deadline_ns;
	__aligned_u64 arg;
};

#define EXO_REPO_MAGIC		0x52455845u	/* "EXER" in little-endian bytes */
#define EXO_REPO_VERSION	1
/* Virtual addresses an entry of the repossession vector lists. */
#define EXO_REPO_VAS		4

/**
 * struct exo_repo_header - first bytes of the read-only repossession vector.
 * @magic: %EXO_REPO_MAGIC.
 * @version: %EXO_REPO_VERSION.
 * @ctx_id: the context.
 * @nr_entries: entries that follow.
 * @entry_size: sizeof(struct exo_repo_entry) as the module knows it.
 * @entries_offset: byte offset of entry 0 from the start of the mapping.
 * @used: entries in %EXO_REPO_SAVED state.
 * @total: entries ever filled since open.
 */
struct exo_repo_header {
	__u32 magic;
	__u32 version;
	__u32 ctx_id;
	__u32 nr_entries;
	__u32 entry_size;
	__u32 entries_offset;
	__aligned_u64 used;
	__aligned_u64 total;
};

/**
 * enum exo_repo_state - &exo_repo_entry.state.
 * @EXO_REPO_FREE: the entry records nothing.
 * @EXO_REPO_SAVED: the entry records a repossessed capability whose
 *	contents exo holds until %EXO_IOC_RECOVER releases them.
 */
enum exo_repo_state {
	EXO_REPO_FREE = 0,
	EXO_REPO_SAVED = 1,
};

/* &exo_repo_entry.flags */
#define EXO_REPO_CRITICAL	0x1u	/* the frames were marked critical */

/**
 * struct exo_repo_entry - one repossessed capability.
 * @seq: odd while the module updates the entry (a seqcount, as in the
 *	frame table).
 * @state: an &enum exo_repo_state.
 * @cap: the capability the frames had; stale now.
 * @pfn: the first frame it named.
 * @id: the revocation request the abort served.
 * @save: where the saved contents are: the entry's own index is what
 *	%EXO_IOC_RECOVER takes; @save is the page offset in the context's
 *	save area, for diagnostics.
 * @order: the capability named 2^@order frames.
 * @nr_va: virtual pages that were bound to its frames (in this context).
 * @va: the first %EXO_REPO_VAS of those pages' addresses, 0 past @nr_va.
 * @flags: EXO_REPO_* bits.
 * @__reserved: zero.
 */
struct exo_repo_entry {
	__u32 seq;
	__u32 state;
	__aligned_u64 cap;
	__aligned_u64 pfn;
	__aligned_u64 id;
	__aligned_u64 save;
	__u32 order;
	__u32 nr_va;
	__aligned_u64 va[EXO_REPO_VAS];
	__u32 flags;
	__u32 __reserved;
};

/* &exo_revoke.flags */
#define EXO_REVOKE_ABORT	0x1u	/* no request: abort now, return after */

/**
 * struct exo_revoke - ask a context for frames back (%EXO_IOC_REVOKE).
 *	Needs CAP_SYS_ADMIN: the operator's trigger (tests, demos); exo's own
 *	triggers are its frame limit and memory pressure.
 * @size: sizeof(struct exo_revoke) as the caller knows it.
 * @flags: %EXO_REVOKE_ABORT.
 * @ctx_id: the context to ask; 0 for the caller's own.
 * @timeout_ms: time until the abort; 0 for the module's revoke_timeout_ms.
 * @nr: frames wanted, at least 1.
 * @id: out: the request's id, as its events carry it.
 */
struct exo_revoke {
	__u32 size;
	__u32 flags;
	__u32 ctx_id;
	__u32 timeout_ms;
	__aligned_u64 nr;
	__aligned_u64 id;
};

/* The smallest &struct exo_revoke accepted: up to and including @id. */
#define EXO_REVOKE_SIZE_VER1	32

/**
 * struct exo_revoke_notify - how revocation events wake the library OS
 *	(%EXO_IOC_REVOKE_NOTIFY). Replaces an earlier registration.
 * @size: sizeof(struct exo_revoke_notify) as the caller knows it.
 * @flags: must be 0.
 * @eventfd: an eventfd signalled on every event, or -1 for none.
 * @signo: a signal sent to the caller's process on every revocation
 *	request, urgent warning and repossession, or 0 for none.
 */
struct exo_revoke_notify {
	__u32 size;
	__u32 flags;
	__s32 eventfd;
	__u32 signo;
};

/* The smallest &struct exo_revoke_notify accepted: up to and including @signo. */
#define EXO_REVOKE_NOTIFY_SIZE_VER1	16

/* &exo_frame_critical.flags */
#define EXO_CRITICAL_CLEAR	0x1u	/* unmark rather than mark */

/**
 * struct exo_frame_critical - mark frames critical (%EXO_IOC_FRAME_CRITICAL):
 *	never asked for by a revocation request and taken by an abort only
 *	after every other frame. At most &exo_api.critical_max frames.
 * @size: sizeof(struct exo_frame_critical) as the caller knows it.
 * @flags: %EXO_CRITICAL_CLEAR.
 * @cap: a capability this context owns.
 * @critical: out: frames marked critical now.
 * @__reserved: must be 0.
 */
struct exo_frame_critical {
	__u32 size;
	__u32 flags;
	__aligned_u64 cap;
	__u32 critical;
	__u32 __reserved;
};

/* The smallest &struct exo_frame_critical accepted: up to and including @__reserved. */
#define EXO_FRAME_CRITICAL_SIZE_VER1	24

/**
 * struct exo_frame_grant - give another context a capability for frames
 *	this one owns (%EXO_IOC_FRAME_GRANT). The grantee may bind them but
 *	not grant them on; its FRAME_FREE drops only its capability. Freeing,
 *	revoking or closing on the owner's side breaks the grantee's bindings
 *	first (%EXO_EV_GRANT_REVOKED).
 * @size: sizeof(struct exo_frame_grant) as the caller knows it.
 * @flags: must be 0.
 * @cap: a capability this context owns.
 * @ctx_id: the grantee, a context of the same user; not this one.
 * @__reserved: must be 0.
 * @grant_cap: out: the grantee's capability for the frames.
 */
struct exo_frame_grant {
	__u32 size;
	__u32 flags;
	__aligned_u64 cap;
	__u32 ctx_id;
	__u32 __reserved;
	__aligned_u64 grant_cap;
};

/* The smallest &struct exo_frame_grant accepted: up to and including @grant_cap. */
#define EXO_FRAME_GRANT_SIZE_VER1	32

/* &exo_recover.flags: where the saved contents go (at most one). */
#define EXO_RECOVER_TO_FRAME	0x1u	/* into frames of @cap */
#define EXO_RECOVER_TO_USER	0x2u	/* into the buffer at @buf */
#define EXO_RECOVER_KEEP	0x4u	/* keep the entry (default: release) */

/**
 * struct exo_recover - recover repossessed contents (%EXO_IOC_RECOVER).
 *	Copies @nr saved frames from frame @frame of entry @slot, then
 *	releases the entry unless %EXO_RECOVER_KEEP. With neither TO_FRAME
 *	nor TO_USER it only releases the entry (KEEP is then refused).
 * @size: sizeof(struct exo_recover) as the caller knows it.
 * @flags: EXO_RECOVER_* bits.
 * @slot: the entry's index in the repossession vector.
 * @frame: first saved frame to copy, below 2^&exo_repo_entry.order.
 * @nr: frames to copy; with no destination, 0.
 * @dst_frame: %EXO_RECOVER_TO_FRAME: first frame of @cap to write.
 * @cap: %EXO_RECOVER_TO_FRAME: a capability of this context; else 0.
 * @buf: %EXO_RECOVER_TO_USER: @nr pages of user memory; else 0.
 */
struct exo_recover {
	__u32 size;
	__u32 flags;
	__u32 slot;
	__u32 frame;
	__u32 nr;
	__u32 dst_frame;
	__aligned_u64 cap;
	__aligned_u64 buf;
};

/* The smallest &struct exo_recover accepted: up to and including @buf. */
#define EXO_RECOVER_SIZE_VER1	40

/*
 * Network: Documentation/net.rst. A privileged call attaches exo to an
 * interface (%EXO_IOC_NET_ATTACH); a library OS then claims flows on it,
 * exclusively, as bind(2) claims ports (%EXO_IOC_NET_CLAIM). exo demuxes
 * every received frame by its own claim table, so a claim's handler and
 * ring only ever see that claim's packets. A claim may carry a downloaded
 * handler: an eBPF program of type BPF_PROG_TYPE_SCHED_CLS, verified by the
 * kernel when the library OS loaded it, run by exo on each packet of the
 * claim; it returns an &enum exo_net_verdict. Delivered packets are copied
 * once into the receive ring, which lives in frames the library OS owns
 * and maps itself; the transmit ring likewise (%EXO_IOC_NET_RING).
 */

/* The handler ABI this module runs (&exo_net_claim.abi). */
#define EXO_NET_ABI		1

/*
 * What a handler finds in struct __sk_buff's cb[] (Documentation/net.rst):
 * cb[EXO_NET_CB_CLAIM] the claim id, cb[EXO_NET_CB_ABI] %EXO_NET_ABI; the
 * handler may set cb[EXO_NET_CB_TAG], copied to &exo_net_slot.tag.
 */
#define EXO_NET_CB_CLAIM	0
#define EXO_NET_CB_ABI		1
#define EXO_NET_CB_TAG		2

/**
 * enum exo_net_verdict - what a handler returns.
 * @EXO_NET_PASS: give the packet to the Linux stack, as if unclaimed.
 * @EXO_NET_DELIVER: copy it into the library OS's receive ring.
 * @EXO_NET_DROP: drop it.
 * @EXO_NET_REPLY: the handler rewrote the packet into a reply (an ASH):
 *	exo sends it out of the interface it came in on, without waking the
 *	library OS. It must come from the interface's MAC address.
 *
 * Any other value drops the packet and counts in
 * &exo_net_stats.bad_verdict. A claim without a handler delivers.
 */
enum exo_net_verdict {
	EXO_NET_PASS = 0,
	EXO_NET_DELIVER = 1,
	EXO_NET_DROP = 2,
	EXO_NET_REPLY = 3,
};

/* &exo_net_attach.flags */
#define EXO_NET_DETACH		0x1u	/* detach rather than attach */

/**
 * struct exo_net_attach - attach exo to a network interface, or detach it
 *	(%EXO_IOC_NET_ATTACH). Needs CAP_NET_ADMIN in the interface's network
 *	namespace. The attachment belongs to the calling context: it ends at
 *	%EXO_NET_DETACH or close, or when the interface goes away, and with
 *	it every claim on the interface (%EXO_EV_NET_DOWN). Several contexts
 *	may attach one interface; it stays attached while one of them does.
 * @size: sizeof(struct exo_net_attach) as the caller knows it.
 * @flags: %EXO_NET_DETACH.
 * @ifindex: the interface, in the caller's network namespace.
 * @__reserved: must be 0.
 */
struct exo_net_attach {
	__u32 size;
	__u32 flags;
	__u32 ifindex;
	__u32 __reserved;
};

/* The smallest &struct exo_net_attach accepted: up to and including @__reserved. */
#define EXO_NET_ATTACH_SIZE_VER1	16

/**
 * struct exo_net_claim - claim a flow (%EXO_IOC_NET_CLAIM).
 *
 * Three kinds, by which fields are non-zero: an ethertype alone (every
 * frame of that ethertype); %ETH_P_IP and an IP protocol (every IPv4
 * packet of that protocol); %ETH_P_IP, %IPPROTO_UDP or %IPPROTO_TCP and a
 * destination port. A claim that overlaps another on the interface (the
 * same flow, or one containing or contained in it) fails with EADDRINUSE.
 * A port below net.ipv4.ip_unprivileged_port_start needs
 * CAP_NET_BIND_SERVICE; an ethertype or protocol claim needs CAP_NET_RAW.
 *
 * @size: sizeof(struct exo_net_claim) as the caller knows it.
 * @flags: must be 0.
 * @ifindex: an interface exo is attached to, in the caller's namespace.
 * @ethertype: host byte order, at least 0x0600.
 * @ip_proto: with %ETH_P_IP: the IP protocol, or 0 for the whole ethertype.
 * @__pad: must be 0.
 * @port: with UDP or TCP: destination port, host byte order; 0 for the
 *	whole protocol.
 * @abi: %EXO_NET_ABI, the handler ABI the library OS was written for.
 * @prog_fd: a BPF_PROG_TYPE_SCHED_CLS program to run on each packet, or
 *	-1 for none (deliver every packet).
 * @id: out: the claim's id, non-zero.
 */
struct exo_net_claim {
	__u32 size;
	__u32 flags;
	__u32 ifindex;
	__u16 ethertype;
	__u8 ip_proto;
	__u8 __pad;
	__u16 port;
	__u16 abi;
	__s32 prog_fd;
	__u32 id;
};

/* The smallest &struct exo_net_claim accepted: up to and including @id. */
#define EXO_NET_CLAIM_SIZE_VER1	28

/**
 * struct exo_net_unclaim - give a claim up (%EXO_IOC_NET_UNCLAIM). When
 *	the call returns, no packet of the claim is in its handler or on its
 *	way into the ring.
 * @size: sizeof(struct exo_net_unclaim) as the caller knows it.
 * @flags: must be 0.
 * @id: a claim of this context.
 * @__reserved: must be 0.
 */
struct exo_net_unclaim {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
};

/* The smallest &struct exo_net_unclaim accepted: up to and including @__reserved. */
#define EXO_NET_UNCLAIM_SIZE_VER1	16

/**
 * struct exo_net_handler - set the handler of a claim
 *	(%EXO_IOC_NET_HANDLER). Packets see the old handler or the new one,
 *	never none; on return the old one runs no more.
 * @size: sizeof(struct exo_net_handler) as the caller knows it.
 * @flags: must be 0.
 * @id: a claim of this context.
 * @prog_fd: a BPF_PROG_TYPE_SCHED_CLS program, or -1 for none.
 */
struct exo_net_handler {
	__u32 size;
	__u32 flags;
	__u32 id;
	__s32 prog_fd;
};

/* The smallest &struct exo_net_handler accepted: up to and including @prog_fd. */
#define EXO_NET_HANDLER_SIZE_VER1	16

/* &exo_net_ring.kind */
#define EXO_NET_RX		0
#define EXO_NET_TX		1

#define EXO_NET_RING_MAGIC	0x4e455845u	/* "EXEN" in little-endian bytes */
#define EXO_NET_RING_VERSION	1
/* Bytes in one slot; two per 4 KiB frame. */
#define EXO_NET_SLOT_SIZE	2048

/**
 * struct exo_net_ring - register the context's receive or transmit ring
 *	(%EXO_IOC_NET_RING), or unregister it (@nr_caps 0).
 *
 * The ring is the frames of @nr_caps capabilities this context owns, in
 * order: their first page is the &struct exo_net_ring_header, the rest
 * hold slots of %EXO_NET_SLOT_SIZE bytes. The frames stay pinned (free and
 * revocation leave them alone) until the ring is unregistered or the
 * context closes. The library OS binds them into its exo VMA to read and
 * write the ring. Replacing a registered ring is refused (EBUSY).
 *
 * @size: sizeof(struct exo_net_ring) as the caller knows it.
 * @flags: must be 0.
 * @kind: %EXO_NET_RX or %EXO_NET_TX.
 * @nr_caps: entries at @caps, at most 64; 0 unregisters.
 * @caps: user pointer to an array of __u64 capabilities.
 * @eventfd: %EXO_NET_RX: an eventfd signalled when the ring goes from
 *	empty to not empty, or -1.
 * @nr_slots: out: slots in the ring, a power of two.
 */
struct exo_net_ring {
	__u32 size;
	__u32 flags;
	__u32 kind;
	__u32 nr_caps;
	__aligned_u64 caps;
	__s32 eventfd;
	__u32 nr_slots;
};

/* The smallest &struct exo_net_ring accepted: up to and including @nr_slots. */
#define EXO_NET_RING_SIZE_VER1	32

/**
 * struct exo_net_ring_header - first page of a ring.
 *
 * Indices run freely and wrap at 2^32; slot i is at byte
 * @slots_offset + (i % @nr_slots) * @slot_size of the ring. The producer
 * (exo for RX, the library OS for TX) fills slot @prod, then advances
 * @prod with a release store; the consumer reads slots up to @prod and
 * then advances @cons with a release store. exo never trusts the indices
 * the library OS writes: an RX ring whose @cons is not within @nr_slots
 * behind @prod counts as full.
 *
 * @magic: %EXO_NET_RING_MAGIC, written by exo.
 * @version: %EXO_NET_RING_VERSION.
 * @kind: %EXO_NET_RX or %EXO_NET_TX.
 * @nr_slots: slots, a power of two.
 * @slot_size: %EXO_NET_SLOT_SIZE.
 * @slots_offset: byte offset of slot 0 from the start of the ring.
 * @__pad: zero.
 * @prod: producer index (exo for RX, the library OS for TX).
 * @__pad1: keeps @prod and @cons on separate cache lines.
 * @cons: consumer index (the library OS for RX, exo for TX).
 * @__pad2: see @__pad1.
 * @drops: RX: packets lost because the ring was full.
 * @rejected: TX: slots exo refused to send (bad length, or a frame that
 *	does not belong to one of this context's claims).
 * @sent: TX: slots sent.
 */
struct exo_net_ring_header {
	__u32 magic;
	__u32 version;
	__u32 kind;
	__u32 nr_slots;
	__u32 slot_size;
	__u32 slots_offset;
	__u32 __pad[10];
	__u32 prod;
	__u32 __pad1[15];
	__u32 cons;
	__u32 __pad2[15];
	__aligned_u64 drops;
	__aligned_u64 rejected;
	__aligned_u64 sent;
};

/*
 * &exo_net_slot.flags. CSUM_OK: the checksums were verified, or a local
 * sender left them to be computed on the way out (CHECKSUM_PARTIAL).
 */
#define EXO_NET_SLOT_TRUNC	0x1u	/* RX: @wire_len > @len */
#define EXO_NET_SLOT_CSUM_OK	0x2u	/* RX: checksums need no check */

/**
 * struct exo_net_slot - the head of one slot; the frame follows it,
 *	starting with its Ethernet header.
 * @len: bytes of frame in the slot, at most %EXO_NET_SLOT_SIZE - 32.
 * @wire_len: RX: the frame's length as received.
 * @claim: RX: the claim that delivered it.
 * @ifindex: the interface it came in on (RX) or goes out of (TX).
 * @tag: RX: what the handler left in cb[%EXO_NET_CB_TAG]; 0 if none.
 * @flags: EXO_NET_SLOT_*.
 * @tstamp_ns: RX: CLOCK_MONOTONIC time exo received it.
 */
struct exo_net_slot {
	__u32 len;
	__u32 wire_len;
	__u32 claim;
	__u32 ifindex;
	__u32 tag;
	__u32 flags;
	__aligned_u64 tstamp_ns;
};

#define EXO_NET_SLOT_DATA	sizeof(struct exo_net_slot)
#define EXO_NET_SLOT_MAX	(EXO_NET_SLOT_SIZE - EXO_NET_SLOT_DATA)

/**
 * struct exo_net_tx - send the slots of the transmit ring from @cons to
 *	@prod (%EXO_IOC_NET_TX). Each frame must carry the interface's MAC
 *	address as its source and belong to one of this context's claims on
 *	&exo_net_slot.ifindex: its ethertype claimed, or IPv4 with its
 *	protocol claimed, or UDP/TCP from a claimed port. Others are skipped
 *	and counted in &exo_net_ring_header.rejected.
 * @size: sizeof(struct exo_net_tx) as the caller knows it.
 * @flags: must be 0.
 * @sent: out: frames sent by this call.
 * @rejected: out: frames refused by this call.
 */
struct exo_net_tx {
	__u32 size;
	__u32 flags;
	__u32 sent;
	__u32 rejected;
};

/* The smallest &struct exo_net_tx accepted: up to and including @rejected. */
#define EXO_NET_TX_SIZE_VER1	16

/**
 * struct exo_net_stats - counters of one claim (%EXO_IOC_NET_STATS).
 * @size: sizeof(struct exo_net_stats) as the caller knows it.
 * @flags: must be 0.
 * @id: a claim of this context.
 * @__reserved: must be 0.
 * @packets: out: packets the claim matched.
 * @delivered: out: copied into the receive ring.
 * @dropped: out: dropped by the handler's verdict.
 * @replied: out: answered in the kernel (%EXO_NET_REPLY).
 * @passed: out: given to the Linux stack.
 * @ring_full: out: lost to a full receive ring, or to no ring.
 * @bad_verdict: out: dropped because the handler returned an unknown
 *	verdict or its reply could not be sent.
 */
struct exo_net_stats {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
	__aligned_u64 packets;
	__aligned_u64 delivered;
	__aligned_u64 dropped;
	__aligned_u64 replied;
	__aligned_u64 passed;
	__aligned_u64 ring_full;
	__aligned_u64 bad_verdict;
};

/* The smallest &struct exo_net_stats accepted: up to and including @bad_verdict. */
#define EXO_NET_STATS_SIZE_VER1	72

/**
 * struct exo_entry_register - register an entry point: where this
 *	context's server threads resume when a call arrives
 *	(%EXO_IOC_ENTRY_REGISTER).
 * @size: sizeof(struct exo_entry_register) as the caller knows it.
 * @flags: must be 0.
 * @pc: a user address of this context's code.
 * @id: out: the entry id, local to this context.
 * @__reserved: must be 0.
 */
struct exo_entry_register {
	__u32 size;
	__u32 flags;
	__aligned_u64 pc;
	__u32 id;
	__u32 __reserved;
};

/* The smallest &struct exo_entry_register accepted: up to and including @__reserved. */
#define EXO_ENTRY_REGISTER_SIZE_VER1	24

/**
 * struct exo_entry_unregister - remove an entry point
 *	(%EXO_IOC_ENTRY_UNREGISTER): every call capability for it is taken
 *	back, calls waiting or being served fail with ECONNRESET, and its
 *	waiting server threads return ENOENT.
 * @size: sizeof(struct exo_entry_unregister) as the caller knows it.
 * @flags: must be 0.
 * @id: an entry of this context.
 * @__reserved: must be 0.
 */
struct exo_entry_unregister {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
};

/* The smallest &struct exo_entry_unregister accepted: up to and including @__reserved. */
#define EXO_ENTRY_UNREGISTER_SIZE_VER1	16

/**
 * struct exo_call_grant - give another context a capability to call one
 *	of this context's entries (%EXO_IOC_CALL_GRANT).
 * @size: sizeof(struct exo_call_grant) as the caller knows it.
 * @flags: must be 0.
 * @entry: an entry of this context.
 * @ctx_id: the grantee, a context of the same user; not this one.
 * @cap: out: the grantee's call capability, for %EXO_IOC_CALL.
 */
struct exo_call_grant {
	__u32 size;
	__u32 flags;
	__u32 entry;
	__u32 ctx_id;
	__aligned_u64 cap;
};

/* The smallest &struct exo_call_grant accepted: up to and including @cap. */
#define EXO_CALL_GRANT_SIZE_VER1	24

/**
 * struct exo_call_revoke - take back a call capability this context
 *	granted (%EXO_IOC_CALL_REVOKE). Calls made with it that no server
 *	has taken yet fail with ECONNRESET; a call being served completes.
 * @size: sizeof(struct exo_call_revoke) as the caller knows it.
 * @flags: must be 0.
 * @entry: the entry it names, of this context.
 * @ctx_id: the grantee.
 * @cap: the capability, as %EXO_IOC_CALL_GRANT returned it.
 */
struct exo_call_revoke {
	__u32 size;
	__u32 flags;
	__u32 entry;
	__u32 ctx_id;
	__aligned_u64 cap;
};

/* The smallest &struct exo_call_revoke accepted: up to and including @cap. */
#define EXO_CALL_REVOKE_SIZE_VER1	24

/**
 * struct exo_thread_register - register the calling thread with its context
 *	(%EXO_IOC_THREAD_REGISTER): exo keeps its row of the thread table
 *	(%EXO_MMAP_THREADS) up to date at every switch and, with
 *	%EXO_THREAD_UPCALL, sends it to @entry on its way back to user mode
 *	after Linux preempted it or after each @slice_ns of CPU time.
 * @size: sizeof(struct exo_thread_register) as the caller knows it.
 * @flags: &enum exo_thread_flags.
 * @entry: with %EXO_THREAD_UPCALL: the user address the thread enters, at
 *	a &struct exo_upcall_frame (as %EXO_FAULT_MODE_UPCALL's) whose
 *	@fault is %EXO_UPCALL_SLICE with the reasons.
 * @cookie: copied into each frame.
 * @slice_ns: with %EXO_THREAD_UPCALL: 0, or an upcall each time the
 *	thread has run this long (at least %EXO_THREAD_SLICE_MIN_NS).
 * @id: out: the thread's row in the table, its id for %EXO_IOC_YIELD.
 * @table_size: out: bytes to mmap at %EXO_MMAP_THREADS.
 */
struct exo_thread_register {
	__u32 size;
	__u32 flags;
	__aligned_u64 entry;
	__aligned_u64 cookie;
	__aligned_u64 slice_ns;
	__u32 id;
	__u32 table_size;
};

/* The smallest &struct exo_thread_register accepted: up to and including @table_size. */
#define EXO_THREAD_REGISTER_SIZE_VER1	40

/**
 * enum exo_thread_flags - &exo_thread_register.flags.
 * @EXO_THREAD_UPCALL: deliver end-of-slice upcalls at @entry.
 */
enum exo_thread_flags {
	EXO_THREAD_UPCALL = 1 << 0,
};

/* The shortest slice a thread may ask for: 100 microseconds. */
#define EXO_THREAD_SLICE_MIN_NS	100000ULL

/* Threads a context may register at once: the thread table's rows. */
#define EXO_THREADS_MAX		63

/*
 * &exo_upcall_frame.fault of an end-of-slice upcall: %EXO_UPCALL_SLICE
 * with one or both reasons.
 */
#define EXO_UPCALL_SLICE	0x10000u
#define EXO_SLICE_PREEMPTED	0x20000u	/* Linux switched it out while runnable */
#define EXO_SLICE_EXPIRED	0x40000u	/* it ran @slice_ns */

/**
 * struct exo_thread_unregister - unregister the calling thread
 *	(%EXO_IOC_THREAD_UNREGISTER).
 * @size: sizeof(struct exo_thread_unregister) as the caller knows it.
 * @flags: must be 0.
 */
struct exo_thread_unregister {
	__u32 size;
	__u32 flags;
};

/* The smallest &struct exo_thread_unregister accepted: up to and including @flags. */
#define EXO_THREAD_UNREGISTER_SIZE_VER1	8

#define EXO_THREADS_MAGIC	0x54505845u	/* "EXPT" in little-endian bytes */
#define EXO_THREADS_VERSION	1

/**
 * struct exo_threads_header - first bytes of the read-only thread table.
 * @magic: %EXO_THREADS_MAGIC.
 * @version: %EXO_THREADS_VERSION.
 * @ctx_id: the context.
 * @nr_entries: rows that follow (%EXO_THREADS_MAX).
 * @entry_size: sizeof(struct exo_thread_info) as the module knows it.
 * @entries_offset: byte offset of row 0 from the start of the mapping.
 * @__reserved: zero.
 */
struct exo_threads_header {
	__u32 magic;
	__u32 version;
	__u32 ctx_id;
	__u32 nr_entries;
	__u32 entry_size;
	__u32 entries_offset;
	__aligned_u64 __reserved[5];
};

/**
 * struct exo_thread_info - one row of the thread table: a registered
 *	thread as the scheduler last saw it (the sequence protocol of
 *	&struct exo_table_header). Written by the thread's own switches.
 * @seq: sequence count, odd while the row changes.
 * @live: 1 while a thread is registered in the row, else 0.
 * @tid: its thread id, in the pid namespace it registered from.
 * @cpu: the CPU it last ran on.
 * @switches: times it was switched out.
 * @preempted: of those, times it was still runnable: preempted (or it
 *	called sched_yield(2)); %EXO_IOC_YIELD does not count.
 * @run_ns: CPU time it had used when last switched out.
 * @upcalls: end-of-slice upcalls it entered.
 * @__reserved: zero.
 */
struct exo_thread_info {
	__u32 seq;
	__u32 live;
	__u32 tid;
	__u32 cpu;
	__aligned_u64 switches;
	__aligned_u64 preempted;
	__aligned_u64 run_ns;
	__aligned_u64 upcalls;
	__aligned_u64 __reserved[2];
};

#endif /* _UAPI_LINUX_EXO_H */
