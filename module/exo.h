/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exo internals: one struct exo_ctx per open file of /dev/exo.
 */
#ifndef _EXO_INTERNAL_H
#define _EXO_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bitfield.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/exo.h>

struct exo_ctx;
struct eventfd_ctx;
struct mem_cgroup;
struct pid;
struct sk_buff;
struct exo_netring;

/**
 * struct exo_frames - frames named by one capability.
 * @pfn: first frame.
 * @gen: generation of the capability; part of its name.
 * @index: index of the capability and of its frame-table entry.
 * @order: the capability names 2^@order frames from @pfn.
 * @how: the &enum exo_alloc_how that allocated them.
 * @critical: marked critical: taken by an abort only after every other.
 * @pinned: part of a network ring: not freed, never taken by an abort.
 * @nr_bindings: virtual pages of @holder bound to any of these frames; the
 *	frames cannot be freed while it is not 0 (special PTEs hold no
 *	reference).
 * @holder: the context whose capability this is.
 * @src: for a granted capability, the owner's frames; NULL when owned.
 * @grants: owned: the granted capabilities for these frames, linked by
 *	their @grant_node. Under exo_abort_lock.
 * @grant_node: granted: link in @src->grants.
 */
struct exo_frames {
	unsigned long pfn;
	u32 gen;
	u32 index;
	u8 order;
	u8 how;
	bool critical;
	bool pinned;
	u32 nr_bindings;
	struct exo_ctx *holder;
	struct exo_frames *src;
	struct list_head grants;
	struct list_head grant_node;
};

/**
 * struct exo_stlb_map - the library OS's page table, pinned and mapped
 *	into the kernel for refill (%EXO_IOC_STLB).
 * @table: kernel address of entry 0.
 * @base: virtual address entry 0 describes.
 * @nr: entries.
 * @vaddr: the vmap() of @pages.
 * @pages: the pinned user pages holding the table.
 * @nr_pages: entries in @pages.
 */
struct exo_stlb_map {
	const struct exo_upte *table;
	unsigned long base;
	u32 nr;
	void *vaddr;
	struct page **pages;
	unsigned int nr_pages;
};

/**
 * struct exo_ctx - one library OS: an open file of /dev/exo.
 * @mm: address space of the opener; other address spaces get -EIO. NULL
 *	for a context made by a KUnit test.
 * @id: context id, unique among live contexts.
 * @frame_quota: frames this context may hold at once.
 * @nr_slots: frame-table entries (capability indices 1..@nr_slots - 1).
 * @lock: serialises allocation, free and frame-table writes.
 * @caps: capability index -> struct exo_frames.
 * @frames: frames held now.
 * @allocs: successful allocations since open.
 * @frees: successful frees since open.
 * @ftable: the frame table (vmalloc_user, mapped read-only by user space).
 * @ftable_size: bytes in @ftable, a multiple of PAGE_SIZE.
 * @vmap: virtual page number -> binding (an xarray value, exo_binding()).
 * @bindings: entries in @vmap.
 * @refills: faults resolved in the kernel.
 * @upcalls: faults handed to the library OS.
 * @stlb: the registered library-OS page table, or NULL.
 * @fault_mode: an &enum exo_fault_mode_kind.
 * @upcall_entry: %EXO_FAULT_MODE_UPCALL's entry point.
 * @upcall_cookie: copied into every upcall frame.
 * @fault_lock: protects @fault_waiters.
 * @fault_waiters: threads waiting on a fault event (struct exo_fault_waiter).
 * @fault_readq: readers and pollers of fault events.
 * @fault_wakeq: threads waiting for their fault to be resolved.
 * @uid: effective uid of the opener; grants stay within one user.
 * @memcg: memory cgroup of the opener, charged for saved contents.
 * @revoke_lock: protects the revocation state, the event ring and the
 *	notify registration; a spinlock, so the shrinker can post.
 * @dying: closing; no more requests.
 * @owed: frames owed to revocation requests.
 * @revoke_id: id of the latest request.
 * @deadline_ns: when the abort takes what is owed (ktime_get_ns()).
 * @urgent_ns: when the urgent warning goes out.
 * @revoke_state: an &enum exo_revoke_state.
 * @returned: frames freed since the current request began.
 * @revoke_requested: frames asked for since open.
 * @revoke_returned: frames freed while some were owed, since open.
 * @repossessed: frames the abort took since open.
 * @critical: frames marked critical.
 * @nr_caps: capabilities held (owned and granted).
 * @granted: capabilities held for another context's frames.
 * @revoke_work: the deadline: urgent warning, then abort.
 * @notify_efd: eventfd signalled on every event, or NULL.
 * @notify_pid: process signalled, or NULL.
 * @notify_signo: its signal, or 0.
 * @revoke_wq: poll(2) waiters for POLLPRI.
 * @events: the event ring (vmalloc_user, mapped read-only).
 * @events_size: bytes in @events.
 * @nr_events: entries in the ring, a power of two.
 * @repo: the repossession vector (vmalloc_user, mapped read-only).
 * @repo_size: bytes in @repo.
 * @nr_repo: entries in the vector.
 * @repo_used: entries in SAVED state.
 * @save_file: shmem file holding saved contents, made on first abort.
 * @save_next: next free page offset in @save_file.
 * @repo_va: virtual page number -> marker of a repossessed page (an
 *	xarray value: vector slot + 1, or 0 for a granted frame taken back).
 * @net_claims: claim id -> struct exo_net_claim. Under exo_net_lock.
 * @net_attached: this context's attachments (struct exo_net_attachment).
 * @net_rx: the receive ring, or NULL; read under RCU by the rx path.
 * @net_tx: the transmit ring, or NULL. Under exo_net_lock.
 * @net_tx_lock: serialises EXO_IOC_NET_TX.
 * @net_pinned: frames pinned by the rings (not revocable).
 * @net_used: some network call succeeded: close must tear down.
 */
struct exo_ctx {
	struct mm_struct *mm;
	u32 id;
	u32 frame_quota;
	u32 nr_slots;
	struct mutex lock;	/* allocation, free, frame-table writes */
	struct xarray caps;
	u64 frames;
	u64 allocs;
	u64 frees;
	struct exo_ftable_header *ftable;
	size_t ftable_size;
	struct xarray vmap;
	u64 bindings;
	u64 refills;
	u64 upcalls;
	struct exo_stlb_map *stlb;
	u32 fault_mode;
	u64 upcall_entry;
	u64 upcall_cookie;
	spinlock_t fault_lock;	/* protects fault_waiters */
	struct list_head fault_waiters;
	wait_queue_head_t fault_readq;
	wait_queue_head_t fault_wakeq;
	kuid_t uid;
	struct mem_cgroup *memcg;
	spinlock_t revoke_lock;	/* revocation state, event ring, notify */
	bool dying;
	u64 owed;
	u64 revoke_id;
	u64 deadline_ns;
	u64 urgent_ns;
	u32 revoke_state;
	u64 returned;
	u64 revoke_requested;
	u64 revoke_returned;
	u64 repossessed;
	u32 critical;
	u32 nr_caps;
	u32 granted;
	struct delayed_work revoke_work;
	struct eventfd_ctx *notify_efd;
	struct pid *notify_pid;
	int notify_signo;
	wait_queue_head_t revoke_wq;
	struct exo_events_header *events;
	size_t events_size;
	u32 nr_events;
	struct exo_repo_header *repo;
	size_t repo_size;
	u32 nr_repo;
	u32 repo_used;
	struct file *save_file;
	u64 save_next;
	struct xarray repo_va;
	struct xarray net_claims;
	struct list_head net_attached;
	struct exo_netring __rcu *net_rx;
	struct exo_netring *net_tx;
	struct mutex net_tx_lock;	/* serialises EXO_IOC_NET_TX */
	u32 net_pinned;
	bool net_used;
};

/* Module parameters (exo_main.c). */
extern unsigned int exo_frame_quota;
extern unsigned int exo_max_caps;
extern unsigned int exo_max_order;
extern unsigned int exo_nr_colours;
extern unsigned int exo_stlb_max;
extern unsigned int exo_revoke_timeout_ms;
extern unsigned int exo_urgent_pct;
extern unsigned int exo_critical_max;
extern unsigned int exo_max_frames;
extern unsigned int exo_event_entries;
extern unsigned int exo_repo_entries;
extern bool exo_shrink;

/* Entries, ranges or pages in one MAP, UNMAP, PROTECT or QUERY. */
#define EXO_MAX_BATCH		4096U

/* Module-wide counters shown in sysfs (exo_main.c). */
extern atomic_long_t exo_nr_frames;
extern atomic_long_t exo_frames_allocated;
extern atomic_long_t exo_frames_freed;
extern atomic_long_t exo_nr_repossessed;
extern atomic_long_t exo_nr_revoke_requests;
extern atomic_long_t exo_nr_shrinker_requested;

/* Serialises aborts, grants and the breaking of grants (exo_revoke.c). */
extern struct mutex exo_abort_lock;

unsigned int exo_effective_max_order(void);

/* exo_main.c */
int exo_core_init(void);
struct exo_ctx *exo_ctx_create(struct mm_struct *mm);
void exo_ctx_destroy(struct exo_ctx *ctx);

/* exo_ioctl.c */
long exo_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int exo_ioctl_run(struct exo_ctx *ctx, unsigned int cmd, void *kbuf);

/* exo_vm.c */
int exo_vm_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma);
int exo_vm_map(struct exo_ctx *ctx, const struct exo_map *req);
int exo_vm_unmap_protect(struct exo_ctx *ctx, const struct exo_vm_ranges *req,
			 bool protect);
int exo_vm_query(struct exo_ctx *ctx, const struct exo_query *req);
int exo_vm_dirty(struct exo_ctx *ctx, struct exo_dirty *req);
void exo_vm_dirty_undo(struct exo_ctx *ctx, const struct exo_dirty *req);
int exo_prot_check(u32 prot);
u32 exo_fault_access(unsigned int fault_flags);
u32 exo_vma_prot(struct vm_area_struct *vma);
int exo_vm_install(struct exo_ctx *ctx, struct vm_area_struct *vma,
		   unsigned long va, void *b);
int exo_vm_bind(struct exo_ctx *ctx, struct exo_frames *f, unsigned long vpn,
		void *b);
typedef void *(*exo_unbind_fn)(void *arg, u32 index, unsigned long vpn);
u64 exo_vm_unbind_caps(struct exo_ctx *ctx, exo_unbind_fn fn, void *arg);
void exo_repo_unmark(struct exo_ctx *ctx, unsigned long first,
		     unsigned long last);

/* exo_fault.c */
vm_fault_t exo_fault(struct exo_ctx *ctx, struct vm_fault *vmf, bool mkwrite);
int exo_stlb_set(struct exo_ctx *ctx, const struct exo_stlb *req);
void exo_stlb_free(struct exo_stlb_map *stlb);
int exo_fault_mode_set(struct exo_ctx *ctx, struct exo_fault_mode *req);
void exo_fault_mode_undo(struct exo_ctx *ctx, const struct exo_fault_mode *req);
int exo_fault_wake_ioctl(struct exo_ctx *ctx, const struct exo_fault_wake *req);
void exo_fault_wake_range(struct exo_ctx *ctx, unsigned long start,
			  unsigned long end, int how);
ssize_t exo_fault_read(struct file *file, char __user *buf, size_t len,
		       loff_t *pos);
__poll_t exo_fault_poll(struct file *file, struct poll_table_struct *wait);

/* How exo_fault_wake_range() ends a wait. */
#define EXO_WOKEN_RETRY		1
#define EXO_WOKEN_SIGBUS	2

/* exo_frame.c */
int exo_frame_alloc(struct exo_ctx *ctx, struct exo_frame_alloc *req);
int exo_frame_free(struct exo_ctx *ctx, u64 cap);
int exo_frame_critical(struct exo_ctx *ctx, struct exo_frame_critical *req);
void exo_frames_put(struct exo_ctx *ctx, struct exo_frames *f);
u32 exo_new_gen(void);
void exo_frame_unalloc(struct exo_ctx *ctx, u64 cap);
void exo_frame_release_all(struct exo_ctx *ctx);
bool exo_frames_idle(void);
struct exo_frames *exo_cap_lookup(struct exo_ctx *ctx, u64 cap);

/* exo_ftable.c */
int exo_ftable_init(struct exo_ctx *ctx, u32 nr_slots);
void exo_ftable_destroy(struct exo_ctx *ctx);
void exo_ftable_publish(struct exo_ctx *ctx, const struct exo_frames *f);
void exo_ftable_clear(struct exo_ctx *ctx, u32 index);
int exo_ftable_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma);
int exo_mmap_readonly(struct vm_area_struct *vma, void *buf, size_t size);

/* exo_events.c */
int exo_events_init(struct exo_ctx *ctx);
void exo_events_destroy(struct exo_ctx *ctx);
int exo_events_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma);
void exo_event_post(struct exo_ctx *ctx, u32 type, u64 id, u64 nr,
		    u64 deadline_ns, u64 arg, bool signal);
void exo_events_sync(struct exo_ctx *ctx);
int exo_revoke_notify(struct exo_ctx *ctx,
		      const struct exo_revoke_notify *req);
bool exo_revoke_pending(struct exo_ctx *ctx);

/* exo_repo.c */
int exo_repo_init(struct exo_ctx *ctx);
void exo_repo_destroy(struct exo_ctx *ctx);
int exo_repo_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma);
int exo_repo_slot(struct exo_ctx *ctx);
int exo_repo_save(struct exo_ctx *ctx, u32 slot, struct exo_frames *f,
		  u64 id, const u64 *vas, u32 nr_va);
int exo_recover(struct exo_ctx *ctx, const struct exo_recover *req);

/* exo_grant.c */
int exo_frame_grant(struct exo_ctx *ctx, struct exo_frame_grant *req);
void exo_grant_undo(struct exo_ctx *ctx, const struct exo_frame_grant *req);
void exo_grants_break(struct exo_frames *f);
void exo_ctx_grants_release(struct exo_ctx *ctx);

/* exo_net.c */
int exo_net_init(void);
void exo_net_exit(void);
void exo_net_ctx_init(struct exo_ctx *ctx);
void exo_net_ctx_release(struct exo_ctx *ctx);
int exo_net_attach(struct exo_ctx *ctx, const struct exo_net_attach *req);
int exo_net_claim(struct exo_ctx *ctx, struct exo_net_claim *req);
void exo_net_claim_undo(struct exo_ctx *ctx, const struct exo_net_claim *req);
int exo_net_unclaim(struct exo_ctx *ctx, const struct exo_net_unclaim *req);
int exo_net_handler(struct exo_ctx *ctx, const struct exo_net_handler *req);
int exo_net_stats(struct exo_ctx *ctx, struct exo_net_stats *req);
bool exo_net_tx_allowed(struct exo_ctx *ctx, struct sk_buff *skb);

/* exo_net_ring.c */
int exo_net_ring(struct exo_ctx *ctx, struct exo_net_ring *req);
void exo_net_ring_undo(struct exo_ctx *ctx, const struct exo_net_ring *req);
void exo_net_rings_unpublish(struct exo_ctx *ctx, struct exo_netring **rx,
			     struct exo_netring **tx);
void exo_net_ring_free(struct exo_ctx *ctx, struct exo_netring *ring);
bool exo_net_rx_pending(struct exo_ctx *ctx);
bool exo_net_rx_deliver(struct exo_ctx *ctx, struct sk_buff *skb, u32 claim,
			u32 tag);
int exo_net_tx(struct exo_ctx *ctx, struct exo_net_tx *req);

/* exo_revoke.c */
int exo_revoke_init(void);
void exo_revoke_exit(void);
int exo_ctx_register(struct exo_ctx *ctx);
void exo_ctx_unregister(struct exo_ctx *ctx);
struct exo_ctx *exo_ctx_find(u32 id);
void exo_revoke_ctx_init(struct exo_ctx *ctx);
void exo_revoke_returned(struct exo_ctx *ctx, u64 nr);
int exo_revoke_ioctl(struct exo_ctx *ctx, struct exo_revoke *req);
int exo_frames_reserve(struct exo_ctx *ctx, u32 nr);
ssize_t exo_revoke_store(const char *buf, size_t len);

/**
 * struct exo_pool - exo's own region of frames, kept for naming.
 * @base_pfn: first frame.
 * @nr: frames in the region; 0 if there is none.
 * @lock: protects @free.
 * @free: bit i set while frame @base_pfn + i is held by no context.
 */
struct exo_pool {
	unsigned long base_pfn;
	unsigned int nr;
	spinlock_t lock;	/* protects @free */
	unsigned long *free;
};

extern struct exo_pool exo_pool;
extern unsigned int exo_pool_order;

/* exo_pool.c */
int exo_pool_init(void);
void exo_pool_exit(void);
bool exo_pool_contains(unsigned long pfn);
int exo_pool_take(unsigned long pfn);
void exo_pool_put(unsigned long pfn);
unsigned int exo_pool_nr_free(void);

/* exo_colour.c */
unsigned int exo_detect_colours(void);

/* Frames this many apart share the last-level cache's sets. */
static inline unsigned int exo_colour_of(unsigned long pfn)
{
	return pfn % exo_nr_colours;
}

static inline u64 exo_cap_make(u32 index, u32 gen)
{
	return (u64)gen << 32 | index;
}

/*
 * A binding (one virtual page -> one frame) is an xarray value in
 * ctx->vmap: the capability index, the frame's position in its run, the
 * EXO_PROT_* bits and a software dirty bit. Writable page-table entries
 * exist only while the dirty bit is set, so the bit is exact without
 * reading hardware dirty bits.
 */
#define EXO_B_PROT	GENMASK(2, 0)
#define EXO_B_DIRTY	BIT(3)
#define EXO_B_FRAME	GENMASK(23, 8)
#define EXO_B_INDEX	GENMASK_ULL(55, 24)

static inline void *exo_binding(u32 index, u32 frame, u32 prot, bool dirty)
{
	return xa_mk_value(FIELD_PREP(EXO_B_INDEX, index) |
			   FIELD_PREP(EXO_B_FRAME, frame) |
			   FIELD_PREP(EXO_B_PROT, prot) |
			   (dirty ? EXO_B_DIRTY : 0));
}

static inline u32 exo_b_index(void *b)
{
	return FIELD_GET(EXO_B_INDEX, xa_to_value(b));
}

static inline u32 exo_b_frame(void *b)
{
	return FIELD_GET(EXO_B_FRAME, xa_to_value(b));
}

static inline u32 exo_b_prot(void *b)
{
	return FIELD_GET(EXO_B_PROT, xa_to_value(b));
}

static inline bool exo_b_dirty(void *b)
{
	return xa_to_value(b) & EXO_B_DIRTY;
}

/* Does protection @prot allow @access (one EXO_FAULT_READ/WRITE/EXEC)? */
static inline bool exo_prot_allows(u32 prot, u32 access)
{
	switch (access) {
	case EXO_FAULT_WRITE:
		return prot & EXO_PROT_WRITE;
	case EXO_FAULT_EXEC:
		return prot & EXO_PROT_EXEC;
	default:
		return prot & EXO_PROT_READ;
	}
}

#endif /* _EXO_INTERNAL_H */
