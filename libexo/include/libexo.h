/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * libexo: the library OS over /dev/exo.
 *
 * Every call that can fail returns 0 (or a non-negative value) on success
 * and -errno on failure; errno itself is left as the system call set it.
 * Man pages: exo_open(3), exo_frame_alloc(3), exo_ftable(3), exo_ctx_info(3),
 * exo_vma_create(3), exo_vma_map(3), exo_vma_query(3), exo_stlb_set(3),
 * exo_fault_mode_set(3), exo_vm_create(3), exo_vm_trap(3),
 * exo_revoke_request(3), exo_events(3), exo_repo_recover(3),
 * exo_frame_critical(3), exo_frame_grant(3), exo_vm_handle_events(3),
 * exo_entry_register(3), exo_call_grant(3), exo_call(3), exo_serve(3),
 * exo_uthread_create(3), exo_shm_create(3), exo_pipe_create(3), exo_rpc_server_create(3).
 */
#ifndef LIBEXO_H
#define LIBEXO_H

#include <stddef.h>
#include <stdint.h>
#include <linux/exo.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle for one exo context (one open of /dev/exo). */
struct exo;

/** A capability: the name of frames held by one context. */
typedef uint64_t exo_cap_t;

/** What an allocation returned. */
struct exo_frame {
	exo_cap_t cap;		/* capability; present it to free */
	uint64_t pfn;		/* first physical frame number */
	uint32_t order;		/* 2^order frames */
	uint32_t colour;	/* cache colour of @pfn */
};

#define EXO_DEFAULT_DEVICE "/dev/exo"

/*
 * Context lifetime. exo_open() opens EXO_DEFAULT_DEVICE with O_CLOEXEC, does
 * the EXO_IOC_API handshake and maps the frame table. exo_close() is
 * NULL-safe; exo_fd() is -EINVAL and exo_api() NULL for a NULL handle.
 */
int exo_open(struct exo **out);
int exo_open_path(const char *path, struct exo **out);
void exo_close(struct exo *exo);
int exo_fd(const struct exo *exo);
const struct exo_api *exo_api(const struct exo *exo);

/* Frames. */
int exo_frame_alloc(struct exo *exo, struct exo_frame *out);
int exo_frame_alloc_pfn(struct exo *exo, uint64_t pfn, struct exo_frame *out);
int exo_frame_alloc_colour(struct exo *exo, uint32_t colour,
			   struct exo_frame *out);
int exo_frame_alloc_contig(struct exo *exo, uint32_t order,
			   struct exo_frame *out);
int exo_frame_free(struct exo *exo, exo_cap_t cap);

/* Counters. */
int exo_ctx_info(struct exo *exo, struct exo_ctx_info *info);

/*
 * The read-only frame table, read without a system call. exo_ftable_read()
 * returns -ERANGE for an index at or past nr_entries and -EAGAIN if the
 * entry kept changing; exo_ftable_lookup() returns -ENOENT unless @cap is a
 * live capability of this context, and accepts a NULL @out.
 */
const struct exo_ftable_header *exo_ftable(const struct exo *exo);
int exo_ftable_read(const struct exo *exo, uint32_t index,
		    struct exo_ftable_entry *out);
int exo_ftable_lookup(const struct exo *exo, exo_cap_t cap,
		      struct exo_ftable_entry *out);

/*
 * Revocation, the raw calls (one ioctl each; see <linux/exo.h>).
 * exo_revoke_request() needs CAP_SYS_ADMIN; @id (may be NULL) gets the
 * request's id. exo_frame_critical() takes EXO_CRITICAL_CLEAR in @flags and
 * stores the frames marked critical now in @critical (may be NULL).
 */
int exo_revoke_request(struct exo *exo, uint32_t ctx_id, uint64_t nr,
		       uint32_t timeout_ms, uint32_t flags, uint64_t *id);
int exo_revoke_notify(struct exo *exo, int eventfd, uint32_t signo);
int exo_frame_critical(struct exo *exo, exo_cap_t cap, uint32_t flags,
		       uint32_t *critical);
int exo_frame_grant(struct exo *exo, exo_cap_t cap, uint32_t ctx_id,
		    exo_cap_t *grant_cap);
int exo_repo_recover(struct exo *exo, uint32_t slot, uint32_t frame,
		     uint32_t nr, uint32_t flags, exo_cap_t cap,
		     uint32_t dst_frame, void *buf);

/*
 * Protected control transfer (x86-64; see exo_call(3)). A server registers
 * an entry, grants call capabilities for it, and gives it threads with
 * exo_serve(): each runs @fn for one call at a time, with the message in
 * m->w and the caller's context id in m->caller; what @fn leaves in m->w
 * is the reply. exo_serve() returns only when the entry is gone (-ENOENT)
 * or on an error. exo_call() sends w[] and, on success (0), leaves the
 * reply in it; exo_call_send() only queues it (-EAGAIN when the entry
 * holds EXO_CALL_MAX_SENDS unanswered), and the handler sees EXO_MSG_SEND
 * in m->flags.
 */
struct exo_msg {
	uint64_t w[EXO_CALL_WORDS];
	uint32_t caller;
	uint32_t flags;		/* EXO_MSG_SEND: nobody waits for the reply */
	exo_cap_t frame;	/* this context's grant of the caller's frame, or 0 */
};

#define EXO_MSG_SEND	1u

typedef void (*exo_entry_fn)(void *arg, struct exo_msg *m);

int exo_entry_register(struct exo *exo, uint32_t *id);
int exo_entry_unregister(struct exo *exo, uint32_t id);
int exo_call_grant(struct exo *exo, uint32_t entry, uint32_t ctx_id,
		   uint64_t *cap);
int exo_call_revoke(struct exo *exo, uint32_t entry, uint32_t ctx_id,
		    uint64_t cap);
int exo_call(struct exo *exo, uint64_t cap, uint64_t w[EXO_CALL_WORDS]);
int exo_call_frame(struct exo *exo, uint64_t cap, uint64_t w[EXO_CALL_WORDS],
		   exo_cap_t frame);
int exo_call_send(struct exo *exo, uint64_t cap,
		  const uint64_t w[EXO_CALL_WORDS]);
int exo_serve(struct exo *exo, uint32_t entry, exo_entry_fn fn, void *arg);
/* The pc every entry of libexo resumes at (call_x86_64.S). */
void exo_serve_entry(void);

/*
 * The processor (x86-64; see exo_thread_register(3)). A thread registers
 * with a context: the module keeps its row of the thread table (read with
 * exo_thread_info()) and, with @on_slice, runs @on_slice on the thread's
 * own stack when Linux has preempted it (EXO_SLICE_PREEMPTED in
 * frame->fault) or it has run @slice_ns (EXO_SLICE_EXPIRED); returning
 * resumes the interrupted code. exo_thread_register() returns the thread's
 * row, its id for exo_yield(), which gives the rest of the caller's time
 * slice to a registered thread of the context serving @cap's entry (0:
 * the caller's own context).
 */
struct exo_thread_opts {
	size_t size;		/* sizeof(struct exo_thread_opts) */
	uint64_t slice_ns;	/* 0, or >= EXO_THREAD_SLICE_MIN_NS */
	/* NULL: the table row only; else as an exo_upcall_fn */
	void (*on_slice)(struct exo_upcall_frame *frame, void *arg);
	void *arg;
};

int exo_thread_register(struct exo *exo, const struct exo_thread_opts *opts);
int exo_thread_unregister(struct exo *exo);
int exo_thread_info(struct exo *exo, uint32_t id,
		    struct exo_thread_info *info);
int exo_yield(struct exo *exo, uint64_t cap, uint32_t thread);

/*
 * Inter-process communication at user level, ExOS's way, over frame grants
 * and protected calls (Documentation/ipc.rst; exo_shm_create(3),
 * exo_pipe_create(3), exo_rpc_server_create(3)).
 *
 * Shared memory: exo_shm_create() allocates 2^k frames under one
 * capability and binds them into an exo VMA of their own; exo_shm_grant()
 * names them to another context, which exo_shm_attach()es the granted
 * capability. exo_shm_valid() is 1 while the frames are still there (an
 * attached region loses them when its owner frees them or goes), 0 after.
 */
struct exo_shm;

int exo_shm_create(struct exo *exo, uint32_t nframes, struct exo_shm **out);
int exo_shm_grant(struct exo_shm *shm, uint32_t ctx_id, exo_cap_t *cap);
int exo_shm_attach(struct exo *exo, exo_cap_t cap, uint32_t nframes,
		   struct exo_shm **out);
void *exo_shm_addr(const struct exo_shm *shm);
size_t exo_shm_len(const struct exo_shm *shm);
exo_cap_t exo_shm_cap(const struct exo_shm *shm);
int exo_shm_valid(const struct exo_shm *shm);
int exo_shm_detach(struct exo_shm *shm);
int exo_shm_destroy(struct exo_shm *shm);

/*
 * Pipes: a byte stream from one writer context to one reader context
 * through a ring in the reader's frames, granted to the writer. The reader
 * creates the pipe and hands the token to the writer by any means; the
 * writer attaches. Data moves with no system call while the other side is
 * awake; a side that must wait waits in an exo_call() to an entry of the
 * other side's, which ends it by replacing that entry (or by dying).
 * Reads and writes return bytes moved or -errno; a read returns 0 at end
 * of file.
 */
struct exo_pipe;

struct exo_pipe_token {
	uint64_t magic;		/* EXO_PIPE_MAGIC */
	exo_cap_t ring;		/* the writer's capability for the ring */
	uint32_t nframes;	/* frames in the ring, the header's included */
	uint32_t reader_ctx;	/* the reader's context id */
};

#define EXO_PIPE_MAGIC		0x65786f2d70697065ull	/* "exo-pipe" */
#define EXO_PIPE_NONBLOCK	0x1
#define EXO_PIPE_FRAMES		16	/* nframes 0: this many */

int exo_pipe_create(struct exo *exo, uint32_t writer_ctx, uint32_t nframes,
		    struct exo_pipe **out, struct exo_pipe_token *tok);
int exo_pipe_attach(struct exo *exo, const struct exo_pipe_token *tok,
		    struct exo_pipe **out);
long exo_pipe_read(struct exo_pipe *p, void *buf, size_t len, int flags);
long exo_pipe_write(struct exo_pipe *p, const void *buf, size_t len,
		    int flags);
int exo_pipe_close(struct exo_pipe *p);

/*
 * RPC: stubs over exo_call(). A server registers procedures by number and
 * serves its entry with exo_rpc_serve() (one thread each); a client binds
 * to the entry with a call capability the server granted it and calls by
 * procedure number. Arguments and results of up to EXO_RPC_WORDS_MAX bytes
 * travel in the message words; larger ones (up to the client's buffer, in
 * frames of the server granted at bind) in shared memory. exo_rpc_call()
 * returns the procedure's own status (0 or a positive errno value) or a
 * negative errno for the transport.
 */
struct exo_rpc_server;
struct exo_rpc_client;

struct exo_rpc_req {
	uint32_t proc;		/* the procedure number */
	uint32_t caller;	/* the calling context's id (the kernel's) */
	const void *in;		/* the arguments */
	size_t in_len;
	void *out;		/* room for the results */
	size_t out_max;
	size_t out_len;		/* set by the procedure; 0 at entry */
};

/* Returns 0 or a positive errno value, delivered to the client as is. */
typedef int (*exo_rpc_fn)(void *arg, struct exo_rpc_req *req);

#define EXO_RPC_WORDS_MAX	((EXO_CALL_WORDS - 1) * 8)	/* 40 bytes */
#define EXO_RPC_PROC_MAX	0x7fffffffu	/* procedures 1..MAX */
#define EXO_RPC_MAX_PROCS	64
#define EXO_RPC_MAX_CLIENTS	64
#define EXO_RPC_FRAMES_MAX	64

int exo_rpc_server_create(struct exo *exo, struct exo_rpc_server **out);
int exo_rpc_server_destroy(struct exo_rpc_server *srv);
int exo_rpc_register(struct exo_rpc_server *srv, uint32_t proc,
		     exo_rpc_fn fn, void *arg);
int exo_rpc_grant(struct exo_rpc_server *srv, uint32_t ctx_id,
		  uint64_t *cap);
int exo_rpc_revoke(struct exo_rpc_server *srv, uint32_t ctx_id,
		   uint64_t cap);
int exo_rpc_serve(struct exo_rpc_server *srv);
int exo_rpc_bind(struct exo *exo, uint64_t cap, uint32_t buf_frames,
		 struct exo_rpc_client **out);
int exo_rpc_call(struct exo_rpc_client *cl, uint32_t proc, const void *in,
		 size_t in_len, void *out, size_t out_max, size_t *out_len);
int exo_rpc_unbind(struct exo_rpc_client *cl);

/*
 * The event ring and the repossession vector, read-only, mapped on first
 * use and read without a system call. exo_events() and exo_repo() return
 * the headers, or NULL if they cannot be mapped (errno says why).
 * exo_events_next() returns 1 and the next complete event after *@pos
 * (then advances it), 0 if there is none yet, or -errno; *@lost (may be
 * NULL) gets the events the reader skipped because it fell a whole ring
 * behind. exo_revoke_state() copies the state fields of the ring's header.
 * exo_repo_read() copies one vector entry under its seqcount.
 */
struct exo_revoke_status {
	uint64_t id;		/* latest revocation request; 0: none yet */
	uint64_t owed;		/* frames still owed */
	uint64_t deadline_ns;	/* CLOCK_MONOTONIC of the abort; 0: none */
	uint64_t repossessed;	/* frames the abort took since open */
	uint64_t head;		/* events posted since open */
	uint32_t state;		/* enum exo_revoke_state */
	uint32_t __pad;
};

const struct exo_events_header *exo_events(struct exo *exo);
const struct exo_repo_header *exo_repo(struct exo *exo);
int exo_events_next(struct exo *exo, uint64_t *pos, struct exo_event *out,
		    uint64_t *lost);
int exo_revoke_state(struct exo *exo, struct exo_revoke_status *out);
int exo_repo_read(struct exo *exo, uint32_t slot,
		  struct exo_repo_entry *out);

/*
 * Virtual memory, the raw calls (one ioctl each; see <linux/exo.h> and
 * Documentation/vm.rst). exo_vma_create() maps a new exo VMA of @len bytes
 * (a multiple of the page size) with mmap(2) protection @prot (PROT_READ,
 * PROT_WRITE, PROT_EXEC: the most any binding in it may allow);
 * exo_vma_destroy() unmaps it and every binding in it.
 */
int exo_vma_create(struct exo *exo, size_t len, int prot, void **out);
int exo_vma_destroy(struct exo *exo, void *addr, size_t len);
int exo_vma_map(struct exo *exo, const struct exo_map_entry *entries,
		uint32_t nr);
int exo_vma_map_one(struct exo *exo, void *va, exo_cap_t cap, uint32_t frame,
		    uint32_t prot);
int exo_vma_unmap(struct exo *exo, const struct exo_vrange *ranges,
		  uint32_t nr);
int exo_vma_protect(struct exo *exo, const struct exo_vrange *ranges,
		    uint32_t nr, uint32_t prot);
/* @flags: EXO_PROTECT_POPULATE, or 0 (exo_vma_protect()). */
int exo_vma_protect_flags(struct exo *exo, const struct exo_vrange *ranges,
			  uint32_t nr, uint32_t prot, uint32_t flags);
int exo_vma_query(struct exo *exo, void *va, uint32_t nr, uint32_t flags,
		  struct exo_vpage *out);
/* Returns the number of dirty pages (bits set in @bitmap) or -errno. */
int exo_vma_dirty(struct exo *exo, void *va, uint32_t nr, uint64_t *bitmap);
int exo_stlb_set(struct exo *exo, struct exo_upte *table, void *base,
		 uint32_t nr_entries);
/* Returns the previous mode or -errno. */
int exo_fault_mode_set(struct exo *exo, uint32_t mode);
/* Returns the number of events read (0 if none and nonblocking) or -errno. */
int exo_fault_read(struct exo *exo, struct exo_fault_event *events,
		   uint32_t max, int nonblock);
int exo_fault_wake(struct exo *exo, void *va, size_t len, uint32_t flags);

/*
 * Aegis-style upcalls (x86-64): a fault the module cannot refill runs @fn on
 * the faulting thread, with no signal (EXO_FAULT_MODE_UPCALL). @fn gets the
 * frame (address, EXO_FAULT_* bits, interrupted registers; it may change
 * rip and the general registers) and @arg; when it returns the interrupted
 * code resumes and the access retries. A NULL @fn goes back to SIGBUS.
 */
typedef void (*exo_upcall_fn)(struct exo_upcall_frame *frame, void *arg);
int exo_upcall_set(struct exo *exo, exo_upcall_fn fn, void *arg);

/*
 * A managed region (exo_vm_create(3)): libexo's own page table, registered
 * for refill in the kernel, demand paging with a frame budget, a pager with
 * a replacement policy, and Appel & Li's primitives (exo_vm_trap(3)).
 */
struct exo_vm;

/* Which resident page the pager evicts at the frame budget. */
enum exo_vm_policy {
	EXO_VM_POLICY_CLOCK = 0,	/* second chance on accessed bits */
	EXO_VM_POLICY_LRU = 1,		/* least recently seen accessed */
	EXO_VM_POLICY_FIFO = 2,		/* longest resident */
	EXO_VM_POLICY_CUSTOM = 3,	/* the application's choose_victim */
};

/* Who resolves the region's faults. */
enum exo_vm_fault_mode {
	EXO_VM_FAULT_SIGNAL = 0,	/* libexo's SIGBUS handler */
	EXO_VM_FAULT_THREAD = 1,	/* a libexo thread reading fault events */
	EXO_VM_FAULT_UPCALL = 2,	/* exo_upcall_set(3), no signal (x86-64) */
};

/* exo_vm_opts.flags */
#define EXO_VM_BACKING_FD	(1u << 0)	/* page to backing_fd */

/* exo_vm_candidate.flags */
#define EXO_VM_CAND_ACCESSED	(1u << 0)	/* accessed since last asked */
#define EXO_VM_CAND_DIRTY	(1u << 1)	/* would be written out */

/* A resident page the custom policy may evict. */
struct exo_vm_candidate {
	void *addr;		/* the page */
	uint64_t page;		/* its index in the region */
	uint64_t loaded;	/* fault count when it was paged in */
	uint64_t used;		/* fault count when last seen accessed */
	uint32_t flags;		/* EXO_VM_CAND_* */
	uint32_t __pad;
};

/*
 * Return the index of the candidate to evict. Called with the region
 * locked, possibly from a signal handler: async-signal-safe code only, and
 * no access to the region.
 */
typedef uint32_t (*exo_vm_victim_fn)(struct exo_vm *vm,
				     const struct exo_vm_candidate *cands,
				     uint32_t nr, void *arg);

/*
 * TRAP: called for an access the page's protection forbids (@fault is
 * EXO_FAULT_* bits). Return 0 to retry the access, non-zero to refuse it
 * (the thread gets SIGBUS as if the region were not libexo's).
 */
typedef int (*exo_vm_trap_fn)(struct exo_vm *vm, void *addr, uint32_t fault,
			      void *arg);

/* Options, libbpf style: set sz (EXO_VM_OPTS does); zero means default. */
struct exo_vm_opts {
	size_t sz;			/* sizeof(struct exo_vm_opts) */
	size_t len;			/* bytes, rounded up to pages */
	uint32_t max_frames;		/* frame budget; 0: one per page */
	uint32_t policy;		/* enum exo_vm_policy */
	uint32_t fault_mode;		/* enum exo_vm_fault_mode */
	uint32_t flags;			/* EXO_VM_BACKING_FD */
	int backing_fd;			/* with EXO_VM_BACKING_FD */
	uint32_t __reserved;		/* must be 0 */
	const char *backing_path;	/* file to page to; default a temp file */
	exo_vm_victim_fn choose_victim;	/* EXO_VM_POLICY_CUSTOM */
	void *victim_arg;
	uint32_t critical;		/* first frames to mark critical */
	uint32_t __reserved2;		/* must be 0 */
};

#define EXO_VM_OPTS(name, ...)						\
	struct exo_vm_opts name = {					\
		.sz = sizeof(struct exo_vm_opts), __VA_ARGS__		\
	}

struct exo_vm_stats {
	uint64_t faults;	/* faults libexo resolved or refused */
	uint64_t zero_fills;	/* first touches given a zeroed frame */
	uint64_t page_ins;	/* pages read back from the backing file */
	uint64_t evictions;	/* pages the pager took the frame from */
	uint64_t write_outs;	/* of those, dirty pages written out */
	uint64_t traps;		/* protection faults handed to TRAP */
	uint64_t frames;	/* frames held now */
	uint64_t resident;	/* pages with a frame now */
	uint64_t revoked;	/* frames given back to revocation requests */
	uint64_t repossessed;	/* frames the abort protocol took */
	uint64_t recovered;	/* repossessed pages saved to the backing file */
	uint64_t events;	/* revocation events read */
	uint64_t events_lost;	/* events the ring overwrote before read */
};

int exo_vm_create(struct exo *exo, const struct exo_vm_opts *opts,
		  struct exo_vm **out);
int exo_vm_destroy(struct exo_vm *vm);
void *exo_vm_base(const struct exo_vm *vm);
size_t exo_vm_len(const struct exo_vm *vm);
int exo_vm_stats(struct exo_vm *vm, struct exo_vm_stats *out);

/* Appel & Li's primitives; each names the ioctl it becomes in its page. */
int exo_vm_trap(struct exo_vm *vm, exo_vm_trap_fn fn, void *arg);
int exo_vm_prot1(struct exo_vm *vm, void *addr, uint32_t prot);
int exo_vm_protn(struct exo_vm *vm, void *addr, size_t npages,
		 uint32_t prot);
int exo_vm_unprot(struct exo_vm *vm, void *addr, size_t npages);
/* Returns the number of pages written since last asked, or -errno. */
int exo_vm_dirty(struct exo_vm *vm, void *addr, size_t npages,
		 uint64_t *bitmap);
int exo_vm_map2(struct exo_vm *vm, void *addr, void *alias, uint32_t prot);
int exo_vm_unmap2(struct exo_vm *vm, void *alias);

/*
 * Revocation (exo_vm_handle_events(3)). exo_vm_handle_events() reads the
 * context's new events, saves what the abort protocol took from the region
 * and gives frames back while any are owed; it returns the frames given
 * back or -errno. By default the region gives back its spare frames, then
 * clean pages not accessed lately, clean pages, and last dirty pages
 * (written out first). A revocation policy chooses instead among the
 * resident pages: it stores up to @nr indices of @cands in @picks and
 * returns how many; @want is what is still owed. It runs with the region
 * locked: no access to the region.
 */
typedef uint32_t (*exo_vm_revoke_fn)(struct exo_vm *vm,
				     const struct exo_vm_candidate *cands,
				     uint32_t nr, uint64_t want,
				     uint32_t *picks, void *arg);
int exo_vm_set_revoke_policy(struct exo_vm *vm, exo_vm_revoke_fn fn,
			     void *arg);
int exo_vm_handle_events(struct exo_vm *vm);

/*
 * Network (exo_net(7) in libexo(7), Documentation/net.rst). The calls
 * below wrap EXO_IOC_NET_*; each returns 0 or -errno.
 */
int exo_net_attach(struct exo *exo, unsigned int ifindex);
int exo_net_detach(struct exo *exo, unsigned int ifindex);
/* @prog_fd: a BPF_PROG_TYPE_SCHED_CLS program (bpf_program__fd() of a
 * libbpf skeleton's program, or exo_net_prog_fd()), or -1 to deliver all. */
int exo_net_claim(struct exo *exo, unsigned int ifindex, uint16_t ethertype,
		  uint8_t ip_proto, uint16_t port, int prog_fd, uint32_t *id);
int exo_net_unclaim(struct exo *exo, uint32_t id);
int exo_net_set_handler(struct exo *exo, uint32_t id, int prog_fd);
int exo_net_stats(struct exo *exo, uint32_t id, struct exo_net_stats *out);

/*
 * A handler from a BPF object file, loaded with libbpf (the kernel's
 * verifier checks it here). @prog_name NULL takes the object's first
 * program. If the load fails and @log is not NULL, the verifier's log (or
 * libbpf's reason) is left in @log, NUL-terminated.
 */
struct exo_net_prog;
int exo_net_prog_load(const char *path, const char *prog_name,
		      struct exo_net_prog **out, char *log, size_t log_size);
int exo_net_prog_fd(const struct exo_net_prog *prog);
/* The fd of map @name of the program's object, or -ENOENT. */
int exo_net_prog_map_fd(const struct exo_net_prog *prog, const char *name);
void exo_net_prog_close(struct exo_net_prog *prog);

/*
 * The receive and transmit rings: exo_net_open() allocates frames for
 * them, binds the frames into an exo VMA of its own and registers them.
 * Received packets are read in place, with no system call per packet.
 */
struct exo_net;

struct exo_net_opts {
	size_t sz;		/* sizeof(struct exo_net_opts) */
	uint32_t rx_slots;	/* a power of two; 0: 256 */
	uint32_t tx_slots;	/* a power of two; 0: 256 */
};

struct exo_net_pkt {
	const void *data;	/* the frame, from its Ethernet header */
	uint32_t len;
	uint32_t wire_len;
	uint32_t claim;
	uint32_t ifindex;
	uint32_t tag;
	uint32_t flags;		/* EXO_NET_SLOT_* */
	uint64_t tstamp_ns;
};

int exo_net_open(struct exo *exo, const struct exo_net_opts *opts,
		 struct exo_net **out);
void exo_net_close(struct exo_net *net);
struct exo *exo_net_exo(const struct exo_net *net);
/* An eventfd that becomes readable when the receive ring goes non-empty. */
int exo_net_fd(const struct exo_net *net);
const struct exo_net_ring_header *exo_net_rx_ring(const struct exo_net *net);
const struct exo_net_ring_header *exo_net_tx_ring(const struct exo_net *net);
/* Wait until the receive ring holds a packet: 1, 0 on timeout, -errno. */
int exo_net_rx_wait(struct exo_net *net, int timeout_ms);
/* Up to @nr packets, in place, oldest first; they stay valid until
 * exo_net_rx_release() gives their slots back. Returns how many. */
uint32_t exo_net_rx_peek(struct exo_net *net, struct exo_net_pkt *pkts,
			 uint32_t nr);
void exo_net_rx_release(struct exo_net *net, uint32_t nr);
/* A free transmit slot's data area (EXO_NET_SLOT_MAX bytes), or NULL when
 * the ring is full; exo_net_tx_commit() queues @len bytes of it. */
void *exo_net_tx_slot(struct exo_net *net);
int exo_net_tx_commit(struct exo_net *net, unsigned int ifindex,
		      uint32_t len);
/* Send what is queued (EXO_IOC_NET_TX): frames sent, or -errno; refused
 * frames are added to *@rejected if it is not NULL. */
int exo_net_tx_flush(struct exo_net *net, uint32_t *rejected);

/*
 * A small user-level network stack over one exo_net and one interface:
 * Ethernet, ARP, IPv4, ICMP echo and UDP (exo_stack(3)). The stack claims
 * the flows it serves; addresses are in network byte order.
 */
struct exo_stack;

struct exo_stack_opts {
	size_t sz;		/* sizeof(struct exo_stack_opts) */
	unsigned int ifindex;
	uint32_t ip;		/* the library OS's IPv4 address */
	uint8_t mac[6];		/* all zero: the interface's address */
	uint8_t __pad[2];
};

struct exo_stack_stats {
	uint64_t rx;		/* frames taken from the ring */
	uint64_t rx_bad;	/* malformed or not for us */
	uint64_t arp_replies;	/* ARP requests answered */
	uint64_t arp_requests;	/* ARP requests sent */
	uint64_t icmp_echoes;	/* ICMP echo requests answered */
	uint64_t udp_rx;	/* datagrams handed to a bound port */
	uint64_t udp_tx;	/* datagrams sent */
	uint64_t tx_fail;	/* frames that could not be queued or sent */
};

struct exo_udp_dgram {
	uint32_t saddr, daddr;	/* network byte order */
	uint16_t sport, dport;	/* host byte order */
	const void *data;
	uint32_t len;
};

typedef void (*exo_udp_fn)(struct exo_stack *stack,
			   const struct exo_udp_dgram *dgram, void *arg);

int exo_stack_create(struct exo_net *net, const struct exo_stack_opts *opts,
		     struct exo_stack **out);
void exo_stack_destroy(struct exo_stack *stack);
/* Claim ARP (answer for our address, learn neighbours) or ICMP (answer
 * echo requests) on the stack's interface. */
int exo_stack_serve_arp(struct exo_stack *stack);
int exo_stack_serve_icmp(struct exo_stack *stack);
/* Claim UDP @port and hand its datagrams to @fn. */
int exo_stack_udp_bind(struct exo_stack *stack, uint16_t port, exo_udp_fn fn,
		       void *arg);
int exo_stack_udp_send(struct exo_stack *stack, uint32_t daddr,
		       uint16_t dport, uint16_t sport, const void *data,
		       size_t len);
int exo_stack_arp_add(struct exo_stack *stack, uint32_t ip,
		      const uint8_t mac[6]);
/* Wait up to @timeout_ms for packets and process them all: packets
 * processed, or -errno. */
int exo_stack_poll(struct exo_stack *stack, int timeout_ms);
int exo_stack_stats(const struct exo_stack *stack,
		    struct exo_stack_stats *out);

/*
 * User-level threads (x86-64; exo_uthread_create(3)): many uthreads on one
 * kernel thread, run round robin by a scheduler of that kernel thread's own
 * (thread-local) until all have exited. A uthread gives up the processor
 * when it yields, yields to a named uthread, waits on a wait queue or joins
 * one still running, and, if the scheduler was asked to, when its slice
 * ends: a per-thread CPU-time timer's signal or the end-of-slice upcall
 * calls exo_uthread_preempt(), which switches uthreads unless the running
 * one is in a critical section (then it switches when the section ends).
 */
struct exo_uthread;

typedef void *(*exo_uthread_fn)(void *arg);

/* exo_uthread_create_opts.flags */
#define EXO_UTHREAD_DETACHED	(1u << 0)	/* freed at exit; not joinable */

#define EXO_UTHREAD_STACK_DEFAULT	(256u << 10)
#define EXO_UTHREAD_STACK_MIN		(16u << 10)

struct exo_uthread_create_opts {
	size_t sz;		/* sizeof(struct exo_uthread_create_opts) */
	size_t stack_size;	/* 0: EXO_UTHREAD_STACK_DEFAULT */
	void *stack;		/* the caller's stack of stack_size bytes;
				   NULL: libexo maps one with a guard page */
	uint32_t flags;		/* EXO_UTHREAD_DETACHED */
	uint32_t __reserved;	/* must be 0 */
};

#define EXO_UTHREAD_CREATE_OPTS(name, ...)				\
	struct exo_uthread_create_opts name = {				\
		.sz = sizeof(struct exo_uthread_create_opts), __VA_ARGS__ \
	}

/* What ends a uthread's slice (exo_uthread_opts.preempt). */
enum exo_uthread_preempt {
	EXO_UTHREAD_PREEMPT_NONE = 0,	/* uthreads run until they yield */
	EXO_UTHREAD_PREEMPT_SIGNAL = 1,	/* a CPU-time timer's signal */
	EXO_UTHREAD_PREEMPT_UPCALL = 2,	/* exo's end-of-slice upcall */
};

struct exo_uthread_opts {
	size_t sz;		/* sizeof(struct exo_uthread_opts) */
	uint32_t preempt;	/* enum exo_uthread_preempt */
	int signo;		/* PREEMPT_SIGNAL: 0 is SIGVTALRM */
	uint64_t slice_ns;	/* 0: EXO_UTHREAD_SLICE_DEFAULT_NS (SIGNAL);
				   UPCALL: only when Linux preempts */
	struct exo *exo;	/* PREEMPT_UPCALL: the context */
};

#define EXO_UTHREAD_SLICE_DEFAULT_NS	10000000ull

#define EXO_UTHREAD_OPTS(name, ...)					\
	struct exo_uthread_opts name = {				\
		.sz = sizeof(struct exo_uthread_opts), __VA_ARGS__	\
	}

/* A wait queue: zero (EXO_UTHREAD_WAITQ_INIT) is an empty one. */
struct exo_uthread_waitq {
	struct exo_uthread *first;
	struct exo_uthread *last;
};

#define EXO_UTHREAD_WAITQ_INIT	{ 0, 0 }

struct exo_uthread_stats {
	uint64_t switches;	/* context switches, the scheduler's included */
	uint64_t yields;	/* voluntary: yield, yield_to, wait, join */
	uint64_t preempts;	/* switches exo_uthread_preempt() made */
	uint64_t deferred;	/* preemptions held off by a critical section */
};

int exo_uthread_create(struct exo_uthread **out, exo_uthread_fn fn, void *arg,
		       const struct exo_uthread_create_opts *opts);
int exo_uthread_run(const struct exo_uthread_opts *opts);
int exo_uthread_yield(void);
int exo_uthread_yield_to(struct exo_uthread *t);
/* Does not return when called from a uthread; -EPERM otherwise. */
int exo_uthread_exit(void *retval);
int exo_uthread_join(struct exo_uthread *t, void **retval);
struct exo_uthread *exo_uthread_self(void);
int exo_uthread_wait(struct exo_uthread_waitq *wq);
int exo_uthread_wake(struct exo_uthread_waitq *wq, int nr);
void exo_uthread_preempt(void);
void exo_uthread_on_slice(struct exo_upcall_frame *frame, void *arg);
void exo_uthread_preempt_disable(void);
void exo_uthread_preempt_enable(void);
int exo_uthread_stats(struct exo_uthread_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* LIBEXO_H */
