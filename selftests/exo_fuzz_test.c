// SPDX-License-Identifier: GPL-2.0
/*
 * exo's ioctl fuzzer: every entry point of /dev/exo with plausible, hostile
 * and random arguments, from processes that come and go, so that a long run
 * shows the kernel stays healthy: a clean log (the guest runner checks it
 * after the test), no leak (kmemleak, debug tier) and exo's counters back
 * at zero.
 *
 * The test process is a parent that keeps FZ_WORKERS worker processes
 * running, as syzkaller runs its executors. A worker opens one or two
 * contexts, maps their tables and an exo VMA, makes up to FZ_WORKER_OPS
 * random operations, at times from two threads at once, and exits, tidily
 * or with everything still mapped, registered and attached. The parent
 * SIGKILLs some at a random moment and any that makes no progress for
 * FZ_STALL_MS (a thread waiting on a fault event nobody resolves). Workers
 * may crash (an upcall to a bad entry): only the kernel's health counts.
 *
 * An operation is one entry of fz_ops[]: an EXO_IOC_* command, whose
 * generator fills a plausible struct that the common path then mutates
 * some of the time (size, flags, reserved fields, the struct's address,
 * the fd), or another entry point (mmap, munmap, mprotect, mremap, read,
 * poll, a touch of a page, open, close, fork, a bad command, the register
 * commands EXO_IOC_CALL and EXO_IOC_REPLY), or a scenario that chains
 * calls to reach deep states (a bound frame touched, network rings
 * carrying frames on lo, a call served and answered, giving frames back).
 * Each call is counted by kind and outcome in memory shared with the
 * parent, which prints the counts at the end.
 *
 * A call no server takes, or a wait at an entry no call comes to, blocks:
 * the escape timer interrupts it (EINTR). A wait that takes a call
 * resumes at the entry's pc: fz_call_entry comes back to the REPLY, any
 * other (the trap pad, data, an exo VMA) kills the worker.
 *
 * exo.fuzz_calls=N and exo.fuzz_seed=S on the kernel command line set the
 * number of calls and the seed. Each worker draws every choice from one
 * PRNG seeded from S and its number (its helper thread from a seed drawn
 * from it), so a run repeats up to the timing of the workers and the
 * parent's kills. Everything exo maps goes into an arena of PROT_NONE
 * address space the worker reserved, and every address the kernel may
 * write through is scratch memory with a guard page after it, so hostile
 * arguments never touch the fuzzer's own data.
 */
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

#include "exo_util.h"

#define FZ_DEFAULT_CALLS	20000
#define FZ_DEFAULT_CALLS_DEBUG	5000	/* KASAN, lockdep: 10x slower */
#define FZ_DEFAULT_SEED		1
#define FZ_WORKERS		2	/* running at once */
#define FZ_CTXS			2	/* contexts per worker, at most */
#define FZ_WORKER_OPS		3000	/* a worker's operations, at most */
#define FZ_STALL_MS		4000	/* no progress for this long: SIGKILL */
#define FZ_PROGRESS		100000	/* a progress line every this many calls */
#define FZ_ARENA_PAGES		4096	/* where a worker's exo mappings go */
#define FZ_HOME_PAGES		32	/* each context's own exo VMA */
#define FZ_RING_PAGES		4	/* a ring's window: its last 8 pages */
#define FZ_SCRATCH_PAGES	64	/* arrays the kernel reads or writes */
#define FZ_ARG_CLEAR		512	/* bytes of the struct page cleared */
#define FZ_FRAMES		256	/* frames held, plus one largest run */
#define FZ_CAPS			64	/* capabilities remembered per context */
#define FZ_CLAIMS		32	/* claim ids remembered per context */
#define FZ_ENTRIES		16	/* entry ids remembered per context */
#define FZ_CALL_CAPS		16	/* call capabilities given, received */
#define FZ_GRANTS		8	/* grants published per worker */
#define FZ_TABLE_PAGES		1024	/* reserved for a context's tables */
#define FZ_STACK_PAGES		256	/* a helper thread's stack */
#define FZ_PROBES		8	/* mappings remembered for munmap etc. */
#define FZ_ESCAPE_MS		3	/* a stuck access jumps back after this */
#define FZ_ESCAPE_MT_MS		20	/* ... when another thread may resolve it */
#define FZ_PORT			40000	/* UDP/TCP ports the workers claim */
#define FZ_ETHERTYPE		0x88b5	/* IEEE local experimental */
#define FZ_UNMAPPED		0x1000UL /* below mmap_min_addr: never mapped */
#define FZ_USER_TOP		0x7ffffffff000UL /* last user page (x86-64) */
#define FZ_MAX_OPS		64	/* entries of fz_ops[], at most */

/*
 * What was called: the commands by number, the register commands, then
 * the other entry points.
 */
enum {
	FZ_C_CALL = EXO_CMD_LAST - EXO_CMD_BASE,
	FZ_C_REPLY,
	FZ_C_SEND,
	FZ_C_YIELD,
	FZ_C_CALL_FRAME,
	FZ_C_BADCMD,
	FZ_C_MMAP,
	FZ_C_MUNMAP,
	FZ_C_MPROTECT,
	FZ_C_MREMAP,
	FZ_C_READ,
	FZ_C_POLL,
	FZ_C_TOUCH,
	FZ_C_OPEN,
	FZ_C_CLOSE,
	FZ_C_FORK,
	FZ_NR_CALLS,
};

static const char *const fz_call_names[] = {
	"API", "CTX_INFO", "FRAME_ALLOC", "FRAME_FREE", "MAP", "UNMAP",
	"PROTECT", "QUERY", "DIRTY", "STLB", "FAULT_MODE", "FAULT_WAKE",
	"REVOKE", "REVOKE_NOTIFY", "FRAME_CRITICAL", "FRAME_GRANT", "RECOVER",
	"NET_ATTACH", "NET_CLAIM", "NET_UNCLAIM", "NET_HANDLER", "NET_RING",
	"NET_TX", "NET_STATS", "ENTRY_REGISTER", "ENTRY_UNREGISTER",
	"CALL_GRANT", "CALL_REVOKE", "THREAD_REGISTER", "THREAD_UNREGISTER",
	"CALL", "REPLY", "SEND", "YIELD", "CALL_FRAME",
	"bad command", "mmap", "munmap", "mprotect", "mremap", "read",
	"poll", "touch", "open", "close", "fork",
};
_Static_assert(ARRAY_SIZE(fz_call_names) == FZ_NR_CALLS,
	       "a name for each command and entry point");

/* How it ended: 0, an errno, or how a touch of a page came back. */
enum {
	FZ_R_ERRNO = 134,	/* errnos at or above count here */
	FZ_R_SIGBUS,
	FZ_R_SIGSEGV,
	FZ_R_UPCALL,
	FZ_R_STUCK,		/* waited on a fault event; the timer freed it */
	FZ_R_SERVED,		/* a REPLY that waited took a call */
	FZ_NR_RES,
};

/* A capability a worker gave another's context. */
struct fz_grant {
	uint32_t ctx_id;		/* the grantee */
	uint64_t cap;			/* the grantee's capability */
};

/* One worker's place in the shared area. */
struct fz_slot {
	uint64_t calls;			/* its progress */
	uint32_t ctx_id[FZ_CTXS];	/* its contexts, for the other to target */
	struct fz_grant grant[FZ_GRANTS];	/* frames */
	uint32_t grants;
	struct fz_grant call_grant[FZ_GRANTS];	/* entries */
	uint32_t call_grants;
	uint64_t crash_addr;		/* a fault that was not a touch */
	uint64_t crash_ip;
};

/* MAP_SHARED between the parent and the workers. */
struct fz_shared {
	uint64_t total;			/* calls by all workers */
	uint32_t stop;
	struct fz_slot slot[FZ_WORKERS];
	uint64_t stats[FZ_NR_CALLS][FZ_NR_RES];
	uint64_t op_ns[FZ_MAX_OPS + 1];	/* time in each operation, start last */
	uint64_t op_n[FZ_MAX_OPS + 1];
};

/* Descriptors a worker passes where the kernel wants one. */
struct fz_fds {
	int prog_cls;		/* BPF_PROG_TYPE_SCHED_CLS, "r0 = 0; exit" */
	int prog_sock;		/* BPF_PROG_TYPE_SOCKET_FILTER, the same */
	int map;		/* a BPF array map */
	int efd;		/* an eventfd */
	int devnull;
	int closed;		/* a number no file has */
	int udp;		/* Linux's UDP, to send on lo */
};

struct fz_ring {
	uint32_t slots;		/* 0: no ring of ours in the window */
	bool window;		/* its frames are bound at its window */
};

struct fz_ctx {
	int fd;			/* -1: no context in this place */
	struct exo_api api;
	const void *ft;		/* frame table, mapped while the fd is ours */
	const struct exo_events_header *ev;
	const struct exo_repo_header *repo;
	uint8_t *home;		/* FZ_HOME_PAGES of the arena */
	bool home_mapped;	/* an exo VMA of ours is (or was) there */
	uint32_t mode;		/* fault mode last set */
	uint64_t caps[FZ_CAPS];	/* capabilities it was given, some freed */
	unsigned int ncaps;
	uint32_t claims[FZ_CLAIMS];
	unsigned int nclaims;
	struct fz_ring ring[2];	/* EXO_NET_RX, EXO_NET_TX */
	uint32_t entries[FZ_ENTRIES];	/* entries it registered, some gone */
	unsigned int nentries;
	uint64_t ccaps[FZ_CALL_CAPS];	/* call capabilities it was given */
	unsigned int nccaps;
	struct {
		uint32_t entry, ctx_id;
		uint64_t cap;
	} cgrants[FZ_CALL_CAPS];	/* and those it gave, for revocation */
	unsigned int ncgrants;
};

struct fz_probe {
	uint8_t *addr;
	size_t len;
};

struct fz_worker {
	pthread_mutex_t lock;	/* everything below; never held over a call */
	struct fz_shared *sh;
	unsigned int slot;
	size_t psz;
	uint8_t *arena;
	struct fz_ctx ctx[FZ_CTXS];
	struct fz_fds fds;
	uint64_t budget;	/* frames held or saved, at most */
	bool threaded;		/* a helper runs: contexts stay as they are */
	struct fz_probe probe[FZ_PROBES];
	unsigned int nprobes;
	uint8_t *tables;	/* FZ_TABLE_PAGES per context, reserved */
	void *stack[2];		/* the helper's and the faulter's */
};

struct fz_thread {
	struct fz_worker *w;
	uint64_t rng;
	uint8_t *arg;		/* a page for the struct, a guard after */
	uint8_t *ro;		/* a read-only page, a guard after */
	uint8_t *scratch;	/* FZ_SCRATCH_PAGES, a guard after */
	uint64_t note;		/* a generator's word for its done() */
	bool helper;
};

struct fz_op {
	const char *name;
	unsigned int call;	/* FZ_C_* or the command's number */
	unsigned int weight;
	bool structural;	/* opens or closes contexts: one thread only */
	/* an ioctl: gen fills a plausible struct, done books a success */
	unsigned long ioc;
	uint32_t size;
	uint32_t min_size;	/* EXO_*_SIZE_VER1 */
	uint32_t flags;		/* the flags the command defines */
	struct {
		uint16_t off, len;
	} rsv[2];		/* fields that must be zero */
	void (*gen)(struct fz_thread *t, struct fz_ctx *c, void *arg);
	void (*done)(struct fz_thread *t, struct fz_ctx *c, void *arg);
	/* anything else */
	void (*run)(struct fz_thread *t);
};

/* ------------------------------------------------------------------------
 * randomness
 */

/* splitmix64: a worker's or a thread's seed; never 0 (xorshift's fixpoint). */
static uint64_t fz_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return (x ^ (x >> 31)) | 1;
}

static uint64_t fz_rand(struct fz_thread *t)
{
	return exo_rand64(&t->rng);
}

static uint32_t fz_below(struct fz_thread *t, uint64_t n)
{
	return n ? (uint32_t)(fz_rand(t) % n) : 0;
}

static bool fz_one_in(struct fz_thread *t, uint32_t n)
{
	return fz_below(t, n) == 0;
}

/* ------------------------------------------------------------------------
 * counting
 */

static void fz_count(struct fz_thread *t, unsigned int call, int rc)
{
	struct fz_shared *sh = t->w->sh;
	unsigned int res = rc < 0 ? (unsigned int)-rc : (unsigned int)rc;

	if (res > FZ_R_ERRNO && rc < 0)
		res = FZ_R_ERRNO;
	__atomic_add_fetch(&sh->stats[call][res], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->slot[t->w->slot].calls, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->total, 1, __ATOMIC_RELAXED);
}

static uint64_t fz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Time spent in operation @i (FZ_MAX_OPS: a worker's start). */
static void fz_time(struct fz_thread *t, unsigned int i, uint64_t since)
{
	struct fz_shared *sh = t->w->sh;

	__atomic_add_fetch(&sh->op_ns[i], fz_now_ns() - since,
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->op_n[i], 1, __ATOMIC_RELAXED);
}

static bool fz_stopping(struct fz_thread *t)
{
	return __atomic_load_n(&t->w->sh->stop, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------------
 * touching pages: faults jump back here
 */

/*
 * Armed around one deliberate access of the arena. A SIGBUS or SIGSEGV
 * there, an upcall, or the escape timer (for a thread asleep on a fault
 * event) siglongjmp()s back with how it ended; any other fault kills.
 */
static __thread sigjmp_buf fz_jb;
static __thread volatile sig_atomic_t fz_armed;
static __thread timer_t fz_timer;
static __thread bool fz_has_timer;
static uint8_t *fz_arena_lo, *fz_arena_hi;
static int fz_sig_escape;
static struct fz_slot *fz_my_slot;	/* where a crash is noted */

static bool fz_deliberate(const void *addr)
{
	return fz_armed && (const uint8_t *)addr >= fz_arena_lo &&
	       (const uint8_t *)addr < fz_arena_hi;
}

static void fz_fault_handler(int sig, siginfo_t *si, void *uc)
{
	if (fz_deliberate(si->si_addr)) {
		fz_armed = 0;
		siglongjmp(fz_jb, sig == SIGBUS ? FZ_R_SIGBUS : FZ_R_SIGSEGV);
	}
	/* sent, not a fault (a revocation notification's signal number) */
	if (si->si_code <= 0 || si->si_code >= SI_KERNEL)
		return;
	/* Not a touch: note where, and the access kills the worker. */
	if (fz_my_slot) {
		fz_my_slot->crash_addr = (uintptr_t)si->si_addr;
#ifdef __x86_64__
		fz_my_slot->crash_ip =
			((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
#endif
	}
	signal(sig, SIG_DFL);
}

/* Unarmed, it only interrupts a blocking read or poll (no SA_RESTART). */
static void fz_escape_handler(int sig, siginfo_t *si, void *uc)
{
	if (fz_armed) {
		fz_armed = 0;
		siglongjmp(fz_jb, FZ_R_STUCK);
	}
}

static void fz_noop_handler(int sig)
{
}

/* The C half of the upcall entry below: jump back to the touch. */
void fz_upcall(const struct exo_upcall_frame *f);
void fz_upcall(const struct exo_upcall_frame *f)
{
	if (fz_deliberate((const void *)(uintptr_t)f->va)) {
		fz_armed = 0;
		siglongjmp(fz_jb, FZ_R_UPCALL);
	}
	abort();
}

#ifdef __x86_64__
/*
 * The upcall's entry: the frame is at the stack pointer, not aligned for a
 * call. The trap pad is "somewhere in the fuzzer's text" for a bad entry
 * that must not run anything real: int3, SIGTRAP, the worker dies.
 */
void fz_upcall_entry(void);
extern const uint8_t fz_trap_pad[64];
__asm__(".pushsection .text\n"
	".globl fz_upcall_entry\n"
	".type fz_upcall_entry, @function\n"
	"fz_upcall_entry:\n"
	"	andq $-16, %rsp\n"
	"	call fz_upcall\n"
	"	ud2\n"
	".size fz_upcall_entry, . - fz_upcall_entry\n"
	".globl fz_trap_pad\n"
	"fz_trap_pad:\n"
	"	.fill 64, 1, 0xcc\n"
	".popsection\n");
#define FZ_ENTRY	((uintptr_t)fz_upcall_entry)
#define FZ_TRAP_PAD	((uintptr_t)fz_trap_pad)

/*
 * The end-of-slice upcall's entry: restore every register from the frame
 * (struct exo_upcall_frame: r15 at 24 ... rax at 136, rflags at 152) and
 * return to the interrupted code, dropping the red zone.
 */
void fz_slice_entry(void);
__asm__(".pushsection .text\n"
	".globl fz_slice_entry\n"
	".type fz_slice_entry, @function\n"
	"fz_slice_entry:\n"
	"	mov 24(%rsp), %r15\n"
	"	mov 32(%rsp), %r14\n"
	"	mov 40(%rsp), %r13\n"
	"	mov 48(%rsp), %r12\n"
	"	mov 56(%rsp), %r11\n"
	"	mov 64(%rsp), %r10\n"
	"	mov 72(%rsp), %r9\n"
	"	mov 80(%rsp), %r8\n"
	"	mov 88(%rsp), %rdi\n"
	"	mov 96(%rsp), %rsi\n"
	"	mov 104(%rsp), %rbp\n"
	"	mov 112(%rsp), %rbx\n"
	"	mov 120(%rsp), %rdx\n"
	"	mov 128(%rsp), %rcx\n"
	"	mov 136(%rsp), %rax\n"
	"	add $152, %rsp\n"
	"	popfq\n"
	"	ret $128\n"
	".size fz_slice_entry, . - fz_slice_entry\n"
	".popsection\n");
#define FZ_SLICE_ENTRY	((uintptr_t)fz_slice_entry)
#else
#define FZ_ENTRY	((uintptr_t)fz_upcall)
#define FZ_TRAP_PAD	((uintptr_t)abort)
#define FZ_SLICE_ENTRY	((uintptr_t)abort)
#endif

/* fz_reply_raw() came back at fz_call_entry: | the caller's context id. */
#define FZ_SERVED	(1LL << 32)

#ifdef __x86_64__
_Static_assert(SYS_ioctl == 16 && EXO_IOC_REPLY == 0x7841, "fz_reply_raw");

/*
 * long fz_reply_raw(int fd, uint64_t arg, uint64_t m[6], uint64_t stack):
 * EXO_IOC_REPLY, rdx @arg (the entry | flags << 32), the reply from m[]
 * in r10 r8 r9 r12 r13 r14, rbx @stack; what the registers hold after
 * goes back to m[]. A REPLY that waits and takes a call resumes at the
 * entry's pc; at fz_call_entry that returns from here with FZ_SERVED |
 * the caller's id, the message in m[], whatever stack it was given: r15
 * holds the stack pointer to come back to (the kernel keeps it, as
 * libexo's server loop relies on).
 */
void fz_call_entry(void);
long fz_reply_raw(int fd, uint64_t arg, uint64_t *m, uint64_t stack);
__asm__(".pushsection .text\n"
	".globl fz_reply_raw\n"
	".type fz_reply_raw, @function\n"
	"fz_reply_raw:\n"
	"	push %rbx\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	push %rdx\n"
	"	mov %rsp, %r15\n"
	"	mov %rcx, %rbx\n"
	"	mov 0(%rdx), %r10\n"
	"	mov 8(%rdx), %r8\n"
	"	mov 16(%rdx), %r9\n"
	"	mov 24(%rdx), %r12\n"
	"	mov 32(%rdx), %r13\n"
	"	mov 40(%rdx), %r14\n"
	"	mov %rsi, %rdx\n"
	"	mov $0x7841, %esi\n"
	"	mov $16, %eax\n"
	"	syscall\n"
	".Lfz_replied:\n"
	"	mov %r15, %rsp\n"
	"	pop %rdx\n"
	"	mov %r10, 0(%rdx)\n"
	"	mov %r8, 8(%rdx)\n"
	"	mov %r9, 16(%rdx)\n"
	"	mov %r12, 24(%rdx)\n"
	"	mov %r13, 32(%rdx)\n"
	"	mov %r14, 40(%rdx)\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbx\n"
	"	ret\n"
	".size fz_reply_raw, . - fz_reply_raw\n"
	".globl fz_call_entry\n"
	".type fz_call_entry, @function\n"
	"fz_call_entry:\n"
	"	bts $32, %rax\n"
	"	jmp .Lfz_replied\n"
	".size fz_call_entry, . - fz_call_entry\n"
	".popsection\n");
#define FZ_CALL_ENTRY	((uintptr_t)fz_call_entry)

/*
 * EXO_IOC_CALL, EXO_IOC_CALL_FRAME or EXO_IOC_SEND (@cmd): rdx @cap, rbx
 * @frame, the message from m[] in the six registers, a call's reply back
 * in them (into m[]); the syscall clobbers rcx and r11. Return: 0 or
 * -errno.
 */
static long fz_call_raw(int fd, uint64_t cap, uint64_t *m, unsigned int cmd,
			uint64_t frame)
{
	register uint64_t r10 __asm__("r10") = m[0];
	register uint64_t r8 __asm__("r8") = m[1];
	register uint64_t r9 __asm__("r9") = m[2];
	register uint64_t r12 __asm__("r12") = m[3];
	register uint64_t r13 __asm__("r13") = m[4];
	register uint64_t r14 __asm__("r14") = m[5];
	long ret = SYS_ioctl;

	__asm__ volatile("syscall"
			 : "+a"(ret), "+r"(r10), "+r"(r8), "+r"(r9),
			   "+r"(r12), "+r"(r13), "+r"(r14)
			 : "D"((long)fd), "S"((unsigned long)cmd), "d"(cap),
			   "b"(frame)
			 : "rcx", "r11", "memory");
	m[0] = r10;
	m[1] = r8;
	m[2] = r9;
	m[3] = r12;
	m[4] = r13;
	m[5] = r14;
	return ret;
}
#else
/* No registers for the message: exo refuses both (EOPNOTSUPP). */
static long fz_reply_raw(int fd, uint64_t arg, uint64_t *m, uint64_t stack)
{
	return ioctl(fd, EXO_IOC_REPLY, (unsigned long)arg) < 0 ? -errno : 0;
}

static long fz_call_raw(int fd, uint64_t cap, uint64_t *m, unsigned int cmd,
			uint64_t frame)
{
	return ioctl(fd, cmd, (unsigned long)cap) < 0 ? -errno : 0;
}
#define FZ_CALL_ENTRY	FZ_ENTRY
#endif

/* How a REPLY ended, to count. */
static int fz_reply_res(long r)
{
	return r >= FZ_SERVED ? FZ_R_SERVED : (int)r;
}

/*
 * Every @ms until disarmed (0): one shot could fire before the thread
 * goes to sleep and be lost.
 */
static void fz_timer_arm(int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};
	struct itimerspec its = { .it_value = ts, .it_interval = ts };

	if (fz_has_timer)
		timer_settime(fz_timer, 0, &its, NULL);
}

static void fz_timer_init(void)
{
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = fz_sig_escape,
	};

	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	fz_has_timer = !timer_create(CLOCK_MONOTONIC, &sev, &fz_timer);
}

static void fz_timer_fini(void)
{
	if (fz_has_timer)
		timer_delete(fz_timer);
	fz_has_timer = false;
}

enum { FZ_READ, FZ_WRITE, FZ_EXEC };

/*
 * One access of @p (@len bytes from @src for a write); 0, or the FZ_R_*
 * it ended with. @escape_ms 0: no timer (a thread asleep on a fault event
 * then waits for a resolution, or for the parent's SIGKILL).
 */
static int fz_access(volatile uint8_t *p, int kind, const void *src,
		     size_t len, int escape_ms)
{
	int r = sigsetjmp(fz_jb, 1);

	if (r) {
		fz_timer_arm(0);
		return r;
	}
	if (escape_ms)
		fz_timer_arm(escape_ms);
	fz_armed = 1;
	switch (kind) {
	case FZ_READ:
		(void)*p;
		break;
	case FZ_WRITE:
		memcpy((void *)p, src, len);
		break;
	default:
		/* ret: a page that can be executed returns at once */
		*p = 0xc3;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		((void (*)(void))(uintptr_t)p)();
		break;
	}
	fz_armed = 0;
	fz_timer_arm(0);
	return 0;
}

static int fz_escape_ms(struct fz_thread *t)
{
	return t->w->threaded ? FZ_ESCAPE_MT_MS : FZ_ESCAPE_MS;
}

/* A counted touch: @len bytes written from @src (NULL: a read). */
static int fz_touch_at(struct fz_thread *t, void *p, const void *src,
		       size_t len)
{
	int r = fz_access(p, src ? FZ_WRITE : FZ_READ, src, len,
			  fz_escape_ms(t));

	fz_count(t, FZ_C_TOUCH, r);
	return r;
}

/* ------------------------------------------------------------------------
 * locking, contexts, memory
 */

static void fz_lock(struct fz_worker *w)
{
	pthread_mutex_lock(&w->lock);
}

static void fz_unlock(struct fz_worker *w)
{
	pthread_mutex_unlock(&w->lock);
}

static bool fz_live(const struct fz_ctx *c)
{
	return c->fd >= 0;
}

/* A live context, or NULL. */
static struct fz_ctx *fz_ctx_pick(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	unsigned int i = fz_below(t, FZ_CTXS), n;

	for (n = 0; n < FZ_CTXS; n++, i = (i + 1) % FZ_CTXS)
		if (fz_live(&w->ctx[i]))
			return &w->ctx[i];
	return NULL;
}

/* The worker's other live context, or NULL. */
static struct fz_ctx *fz_ctx_other(struct fz_thread *t, struct fz_ctx *c)
{
	struct fz_worker *w = t->w;
	unsigned int i;

	for (i = 0; i < FZ_CTXS; i++)
		if (&w->ctx[i] != c && fz_live(&w->ctx[i]))
			return &w->ctx[i];
	return NULL;
}

/*
 * @pages of memory and a PROT_NONE guard page after them. All of a
 * worker's memory is allocated before it starts, so that none of it can
 * land in a hole of the arena.
 */
static uint8_t *fz_region(size_t psz, size_t pages, int prot)
{
	uint8_t *p = mmap(NULL, (pages + 1) * psz, prot,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	mprotect(p + pages * psz, psz, PROT_NONE);
	return p;
}

static uint8_t *fz_page(struct fz_thread *t, uint8_t *base, size_t pages)
{
	return base + (size_t)fz_below(t, pages) * t->w->psz;
}

/*
 * Put PROT_NONE back over [p, p + len) of a reserved zone. A zone must
 * have no hole: a mapping made elsewhere could land in it and be
 * clobbered by the zone's next MAP_FIXED. (A failed MAP_FIXED mmap
 * leaves a hole: the old mapping is gone.)
 */
static void fz_reserve(uint8_t *p, size_t len)
{
	mmap(p, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
	     MAP_NORESERVE, -1, 0);
}

/* A thread's memory: its struct page, read-only page and scratch. */
static int fz_thread_mem(struct fz_thread *t)
{
	size_t psz = t->w->psz;

	t->arg = fz_region(psz, 1, PROT_READ | PROT_WRITE);
	t->ro = fz_region(psz, 1, PROT_READ);
	t->scratch = fz_region(psz, FZ_SCRATCH_PAGES, PROT_READ | PROT_WRITE);
	return t->arg && t->ro && t->scratch ? 0 : -ENOMEM;
}

/* A thread stack, a guard page below it. */
static void *fz_stack(size_t psz)
{
	uint8_t *p = mmap(NULL, (FZ_STACK_PAGES + 1) * psz,
			  PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	mprotect(p, psz, PROT_NONE);
	return p + psz;
}

/* A thread on a stack of the worker's own (glibc's would be mmap'd now). */
static int fz_thread_start(struct fz_worker *w, unsigned int stack,
			   pthread_t *tid, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, w->stack[stack], FZ_STACK_PAGES * w->psz);
	rc = pthread_create(tid, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc;
}

/* A zone of PROT_NONE address space, NULL if none. */
static uint8_t *fz_zone(size_t len)
{
	uint8_t *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			  MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void fz_probe_add(struct fz_worker *w, uint8_t *addr, size_t len)
{
	w->probe[w->nprobes++ % FZ_PROBES] = (struct fz_probe){ addr, len };
}

/* ------------------------------------------------------------------------
 * pools of interesting values
 */

static uint64_t fz_kaddr(struct fz_thread *t)
{
	static const uint64_t k[] = {
		0xffff888000000000ull,	/* the direct map */
		0xffffffff81000000ull,	/* kernel text */
		0xffffc90000000000ull,	/* vmalloc */
		0xffffffffff600000ull,	/* vsyscall */
		0x0000800000000000ull,	/* just past user space */
		0x8000000000000000ull,	/* not canonical */
		0xfffffffffffff000ull,
	};

	return k[fz_below(t, ARRAY_SIZE(k))];
}

/* Anywhere in the arena: PROT_NONE, or one of this worker's mappings. */
static uint64_t fz_arena_addr(struct fz_thread *t)
{
	return (uintptr_t)t->w->arena +
	       fz_below(t, (uint64_t)FZ_ARENA_PAGES * t->w->psz);
}

/* A virtual address, usually a page of @c's exo VMA. */
static uint64_t fz_va(struct fz_thread *t, struct fz_ctx *c)
{
	uintptr_t home = (uintptr_t)c->home, psz = t->w->psz;
	struct fz_ctx *o;

	switch (fz_below(t, 24)) {
	case 13:
		return home + (FZ_HOME_PAGES - 1) * psz;
	case 14:
		return home + fz_below(t, FZ_HOME_PAGES * psz);
	case 15:
		o = fz_ctx_other(t, c);
		return o ? (uintptr_t)fz_page(t, o->home, FZ_HOME_PAGES) : home;
	case 16:
		return fz_arena_addr(t) & ~(psz - 1);
	case 17:
		return (uintptr_t)t->scratch;
	case 18:
		return fz_kaddr(t);
	case 19:
		return 0;
	case 20:
		return FZ_USER_TOP;
	case 21:
		return fz_rand(t);
	case 22:
		return home - psz;
	case 23:
		return home + FZ_HOME_PAGES * psz;
	default:
		return (uintptr_t)fz_page(t, c->home, FZ_HOME_PAGES);
	}
}

/* A number of pages (or entries): mostly small, sometimes out of range. */
static uint64_t fz_npages(struct fz_thread *t, uint64_t max)
{
	switch (fz_below(t, 16)) {
	case 0 ... 7:
		return 1;
	case 8 ... 10:
		return 2 + fz_below(t, 7);
	case 11:
		return FZ_HOME_PAGES;
	case 12:
		return max;
	case 13:
		return max + 1;
	case 14:
		return 0;
	default:
		return fz_one_in(t, 2) ? (uint32_t)fz_rand(t) : fz_rand(t);
	}
}

/* A byte length: pages, now and then not a multiple of one. */
static uint64_t fz_len(struct fz_thread *t)
{
	uint64_t len = fz_npages(t, FZ_HOME_PAGES) * t->w->psz;

	if (fz_one_in(t, 12))
		len += 1 + fz_below(t, t->w->psz - 1);
	return len;
}

static uint32_t fz_prot(struct fz_thread *t)
{
	static const uint32_t p[] = {
		EXO_PROT_READ, EXO_PROT_READ | EXO_PROT_WRITE,
		EXO_PROT_READ | EXO_PROT_WRITE, EXO_PROT_READ | EXO_PROT_EXEC,
		EXO_PROT_MASK, EXO_PROT_NONE, EXO_PROT_WRITE, EXO_PROT_EXEC,
	};

	if (fz_one_in(t, 32))
		return (uint32_t)fz_rand(t);
	return p[fz_below(t, ARRAY_SIZE(p))];
}

static void fz_cap_add(struct fz_ctx *c, uint64_t cap)
{
	c->caps[c->ncaps++ % FZ_CAPS] = cap;
}

static uint64_t fz_cap_recent(struct fz_thread *t, struct fz_ctx *c)
{
	unsigned int n = c->ncaps < FZ_CAPS ? c->ncaps : FZ_CAPS;

	return n ? c->caps[fz_below(t, n)] : 0;
}

/* A live capability of @c from its frame table, or 0. */
static uint64_t fz_cap_ftable(struct fz_thread *t, struct fz_ctx *c)
{
	struct exo_ftable_entry e;
	uint32_t i = 1 + fz_below(t, c->api.ftable_entries - 1);

	if (exo_ft_read(c->ft, i, &e) || e.state == EXO_FRAME_FREE)
		return 0;
	return (uint64_t)e.gen << 32 | i;
}

/* A frame (or @call: call) capability another worker gave @c, or 0. */
static uint64_t fz_published(struct fz_thread *t, struct fz_ctx *c, bool call)
{
	struct fz_slot *sl = &t->w->sh->slot[fz_below(t, FZ_WORKERS)];
	unsigned int i = fz_below(t, FZ_GRANTS);
	struct fz_grant *g = call ? &sl->call_grant[i] : &sl->grant[i];

	if (__atomic_load_n(&g->ctx_id, __ATOMIC_RELAXED) != c->api.ctx_id)
		return 0;
	return __atomic_load_n(&g->cap, __ATOMIC_RELAXED);
}

/* Publish a grant to another worker's context. */
static void fz_publish_grant(struct fz_worker *w, bool call, uint32_t ctx_id,
			     uint64_t cap)
{
	struct fz_slot *s = &w->sh->slot[w->slot];
	struct fz_grant *g;

	if (call)
		g = &s->call_grant[s->call_grants++ % FZ_GRANTS];
	else
		g = &s->grant[s->grants++ % FZ_GRANTS];

	__atomic_store_n(&g->ctx_id, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&g->cap, cap, __ATOMIC_RELAXED);
	__atomic_store_n(&g->ctx_id, ctx_id, __ATOMIC_RELEASE);
}

/* A grant another worker published for @c. */
static uint64_t fz_cap_granted(struct fz_thread *t, struct fz_ctx *c)
{
	uint64_t cap = fz_published(t, c, false);

	return cap ? cap : fz_cap_recent(t, c);
}

/* A capability: usually one @c was given, else foreign, stale, forged. */
static uint64_t fz_cap(struct fz_thread *t, struct fz_ctx *c)
{
	struct fz_ctx *o;
	uint64_t cap;

	switch (fz_below(t, 24)) {
	case 12 ... 13:
		cap = fz_cap_ftable(t, c);
		return cap ? cap : fz_cap_recent(t, c);
	case 14:
		o = fz_ctx_other(t, c);
		return o ? fz_cap_recent(t, o) : fz_cap_recent(t, c);
	case 15 ... 16:
		return fz_cap_granted(t, c);
	case 17:
		cap = fz_cap_recent(t, c);
		return cap + ((fz_one_in(t, 2) ? 1ull : -1ull) << 32);
	case 18:
		return 0;
	case 19:
		return fz_rand(t);
	case 20:
		return (uint64_t)fz_rand(t) << 32 | fz_below(t, 64);
	case 21:
		return (uint64_t)fz_rand(t) << 32 | c->api.ftable_entries;
	case 22:
		return ~0ull;
	default:
		return fz_cap_recent(t, c);
	}
}

/* A context id: the other worker's, ours, none, made up. */
static uint32_t fz_ctx_id(struct fz_thread *t, struct fz_ctx *c)
{
	struct fz_shared *sh = t->w->sh;
	struct fz_ctx *o;

	switch (fz_below(t, 12)) {
	case 4 ... 5:
		o = fz_ctx_other(t, c);
		return o ? o->api.ctx_id : c->api.ctx_id;
	case 6:
		return c->api.ctx_id;
	case 7:
		return 0;
	case 8:
		return c->api.ctx_id + 1;
	case 9:
		return fz_below(t, 2000);
	case 10:
		return (uint32_t)fz_rand(t);
	default:
		return __atomic_load_n(&sh->slot[fz_below(t, FZ_WORKERS)]
					 .ctx_id[fz_below(t, FZ_CTXS)],
				       __ATOMIC_RELAXED);
	}
}

/* A live context other than @c: the other worker's, else ours. */
static uint32_t fz_peer_id(struct fz_thread *t, struct fz_ctx *c)
{
	struct fz_shared *sh = t->w->sh;
	unsigned int s = fz_below(t, FZ_WORKERS), i, n;
	struct fz_ctx *o;
	uint32_t id;

	for (n = 0; n < FZ_WORKERS * FZ_CTXS; n++, s = (s + 1) % FZ_WORKERS) {
		if (s == t->w->slot)
			continue;
		i = fz_below(t, FZ_CTXS);
		id = __atomic_load_n(&sh->slot[s].ctx_id[i], __ATOMIC_RELAXED);
		if (id)
			return id;
	}
	o = fz_ctx_other(t, c);
	return o ? o->api.ctx_id : fz_ctx_id(t, c);
}

/* A descriptor where an eventfd belongs. */
static int32_t fz_efd(struct fz_thread *t)
{
	const struct fz_fds *f = &t->w->fds;

	switch (fz_below(t, 16)) {
	case 0 ... 2:
		return -1;
	case 3:
		return f->closed;
	case 4:
		return f->devnull;
	case 5:
		return f->map;
	case 6:
		return -2 - (int32_t)fz_below(t, 100);
	case 7:
		return (int32_t)fz_rand(t);
	default:
		return f->efd;
	}
}

/* A descriptor where a SCHED_CLS program belongs. */
static int32_t fz_prog_fd(struct fz_thread *t)
{
	const struct fz_fds *f = &t->w->fds;

	switch (fz_below(t, 16)) {
	case 0 ... 5:
		return -1;
	case 6 ... 9:
		return f->prog_cls;
	case 10:
		return f->prog_sock;
	case 11:
		return f->map;
	case 12:
		return f->efd;
	case 13:
		return f->closed;
	case 14:
		return -2;
	default:
		return (int32_t)fz_rand(t);
	}
}

/* An interface: lo, or one that does not exist. Never a real other one. */
static uint32_t fz_ifindex(struct fz_thread *t)
{
	char name[IF_NAMESIZE];
	uint32_t i;

	switch (fz_below(t, 10)) {
	case 0:
		return 0;
	case 1:
		i = (uint32_t)fz_rand(t);
		break;
	case 2:
		i = 2 + fz_below(t, 30);
		break;
	default:
		return 1;
	}
	return if_indextoname(i, name) ? 1 : i;
}

static uint16_t fz_port(struct fz_thread *t)
{
	switch (fz_below(t, 8)) {
	case 0:
		return 1 + fz_below(t, 1023);
	case 1:
		return (uint16_t)fz_rand(t);
	default:
		return FZ_PORT + fz_below(t, 32);
	}
}

static uint32_t fz_claim_id(struct fz_thread *t, struct fz_ctx *c)
{
	struct fz_ctx *o;

	switch (fz_below(t, 10)) {
	case 0:
		return 0;
	case 1:
		return (uint32_t)fz_rand(t);
	case 2:
		o = fz_ctx_other(t, c);
		if (o && o->nclaims)
			return o->claims[fz_below(t, o->nclaims)];
		return 1 + fz_below(t, 8);
	default:
		if (c->nclaims)
			return c->claims[fz_below(t, c->nclaims)];
		return 1 + fz_below(t, 8);
	}
}

/* An entry: usually one @c registered, else another's, gone, made up. */
static uint32_t fz_entry_id(struct fz_thread *t, struct fz_ctx *c)
{
	struct fz_ctx *o;

	switch (fz_below(t, 12)) {
	case 0:
		return 0;
	case 1:
		return (uint32_t)fz_rand(t);
	case 2:
		return 1 + fz_below(t, 65);	/* up to exo's limit, and past */
	case 3:
		o = fz_ctx_other(t, c);
		if (o && o->nentries)
			return o->entries[fz_below(t, o->nentries)];
		return 1 + fz_below(t, 8);
	default:
		if (c->nentries)
			return c->entries[fz_below(t, c->nentries)];
		return 1 + fz_below(t, 8);
	}
}

/*
 * An entry's pc: mostly fz_call_entry, which a served call comes back
 * from; else code or data a call taken dies at, or no user address.
 */
static uint64_t fz_entry_pc(struct fz_thread *t, struct fz_ctx *c)
{
	switch (fz_below(t, 24)) {
	case 0:
		return 0;
	case 1 ... 2:
		return fz_kaddr(t);
	case 3:
		/* the last byte of user space, or the first past it */
		return FZ_USER_TOP - fz_below(t, 2);
	case 4:
		return FZ_TRAP_PAD + fz_below(t, 64);
	case 5:
		return (uintptr_t)fz_page(t, c->home, FZ_HOME_PAGES);
	case 6:
		return (uintptr_t)t->scratch;	/* not executable */
	case 7:
		return fz_rand(t);
	default:
		return FZ_CALL_ENTRY;
	}
}

/* A call capability: usually one @c was given, else foreign, stale, forged. */
static uint64_t fz_call_cap(struct fz_thread *t, struct fz_ctx *c)
{
	unsigned int n = c->nccaps < FZ_CALL_CAPS ? c->nccaps : FZ_CALL_CAPS;
	uint64_t cap = n ? c->ccaps[fz_below(t, n)] : 0, pub;
	struct fz_ctx *o;

	switch (fz_below(t, 16)) {
	case 0 ... 3:
		pub = fz_published(t, c, true);
		return pub ? pub : cap;
	case 4:
		/* the other context's: not @c's to call with */
		o = fz_ctx_other(t, c);
		if (!o || !o->nccaps)
			return cap;
		n = o->nccaps < FZ_CALL_CAPS ? o->nccaps : FZ_CALL_CAPS;
		return o->ccaps[fz_below(t, n)];
	case 5:
		return cap + ((fz_one_in(t, 2) ? 1ull : -1ull) << 32);
	case 6:
		return 0;
	case 7:
		return fz_rand(t);
	case 8:
		/* generations and indexes both start at 1 */
		cap = 1 + fz_below(t, 8);
		return (uint64_t)(1 + fz_below(t, 8)) << 32 | cap;
	default:
		return cap;
	}
}

/* A message: random words, now and then zeroes or all ones. */
static void fz_words(struct fz_thread *t, uint64_t *m)
{
	unsigned int i;

	for (i = 0; i < EXO_CALL_WORDS; i++)
		m[i] = fz_one_in(t, 8) ? (fz_one_in(t, 2) ? 0 : ~0ull) :
					 fz_rand(t);
}

/* REPLY's rbx: the stack a served call enters with (0: this one). */
static uint64_t fz_reply_stack(struct fz_thread *t)
{
	switch (fz_below(t, 8)) {
	case 0:
		return (uintptr_t)t->scratch + FZ_SCRATCH_PAGES * t->w->psz;
	case 1:
		return fz_kaddr(t);
	case 2:
		return fz_rand(t);
	default:
		return 0;
	}
}

/* Copy @len bytes of @src into the thread's read-only page. */
static void fz_ro_fill(struct fz_thread *t, const void *src, size_t len)
{
	size_t psz = t->w->psz;

	mprotect(t->ro, psz, PROT_READ | PROT_WRITE);
	memcpy(t->ro, src, len < psz ? len : psz);
	mprotect(t->ro, psz, PROT_READ);
}

/*
 * Where an array of @len bytes goes. The generator wrote it at the start
 * of the scratch, which is where it usually stays; else a hostile place,
 * the array copied there where that place can hold it.
 */
static uint64_t fz_place(struct fz_thread *t, struct fz_ctx *c, size_t len)
{
	size_t psz = t->w->psz, n;
	uint8_t *end = t->scratch + FZ_SCRATCH_PAGES * psz, *p;

	switch (fz_below(t, 40)) {
	case 0:
		return 0;
	case 1:
		return FZ_UNMAPPED;
	case 2:
		fz_ro_fill(t, t->scratch, len);
		return (uintptr_t)t->ro;
	case 3:
		return fz_kaddr(t);
	case 4:
		/* In an exo VMA: the kernel's copy faults there, or reads a frame. */
		p = fz_page(t, c->home, FZ_HOME_PAGES);
		fz_access(p, FZ_WRITE, t->scratch, len < psz ? len : psz,
			  FZ_ESCAPE_MS);
		return (uintptr_t)p;
	case 5:
		/* Its second half in the guard page. */
		n = len / 2 < FZ_SCRATCH_PAGES * psz ? len / 2 : 0;
		memmove(end - n, t->scratch, n);
		return (uintptr_t)(end - n);
	case 6:
		return fz_arena_addr(t);
	case 7:
		return (uintptr_t)t->scratch + 1 + fz_below(t, 15);
	default:
		return (uintptr_t)t->scratch;
	}
}

static const struct exo_repo_entry *fz_repo_entry(const struct fz_ctx *c,
						  uint32_t i)
{
	const struct exo_repo_header *h = c->repo;

	return (const void *)((const uint8_t *)h + h->entries_offset +
			      (size_t)i * h->entry_size);
}

/* Frames this worker holds now, and those the abort saved. */
static uint64_t fz_saved(const struct fz_ctx *c)
{
	const struct exo_repo_entry *e;
	uint64_t n = 0;
	uint32_t i;

	if (!__atomic_load_n(&c->repo->used, __ATOMIC_RELAXED))
		return 0;
	for (i = 0; i < c->repo->nr_entries; i++) {
		e = fz_repo_entry(c, i);
		if (e->state == EXO_REPO_SAVED && e->order < 32)
			n += 1ull << e->order;
	}
	return n;
}

static uint64_t fz_held(struct fz_worker *w)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < FZ_CTXS; i++)
		if (fz_live(&w->ctx[i]))
			n += exo_ft_frames(w->ctx[i].ft) + fz_saved(&w->ctx[i]);
	return n;
}

/* ------------------------------------------------------------------------
 * one generator per command: a plausible struct, flaws now and then
 */

static void gen_api(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_api *a = arg;

	a->api = EXO_API_VERSION;
	if (fz_one_in(t, 10))
		a->api = fz_one_in(t, 2) ? fz_below(t, 3) : (uint32_t)fz_rand(t);
}

static void gen_none(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
}

static void gen_frame_alloc(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_frame_alloc *a = arg;
	uint32_t max = c->api.max_order, n;

	switch (fz_below(t, 20)) {
	case 0 ... 7:
		a->how = EXO_ALLOC_ANY;
		break;
	case 8 ... 10:
		a->how = EXO_ALLOC_PFN;
		if (fz_one_in(t, 8))
			a->pfn = fz_one_in(t, 2) ? fz_below(t, 1 << 18) : fz_rand(t);
		else
			a->pfn = c->api.pool_pfn +
				 fz_below(t, c->api.pool_frames + 1);
		break;
	case 11 ... 13:
		a->how = EXO_ALLOC_COLOUR;
		a->colour = fz_below(t, c->api.nr_colours + 1);
		break;
	case 14 ... 18:
		a->how = EXO_ALLOC_CONTIG;
		a->order = fz_one_in(t, 3) ? fz_below(t, max + 2) :
					     fz_below(t, 3);
		break;
	default:
		a->how = fz_below(t, 6);
		a->order = fz_below(t, max + 2);
		a->pfn = fz_one_in(t, 2) ? 0 : fz_rand(t);
		a->colour = fz_one_in(t, 2) ? 0 : (uint32_t)fz_rand(t);
		break;
	}
	/* Over the budget: a request that cannot succeed. */
	n = a->how == EXO_ALLOC_CONTIG && a->order < 31 ? 1U << a->order : 1;
	if (fz_held(t->w) + n > t->w->budget) {
		a->how = EXO_ALLOC_CONTIG;
		a->order = max + 1;
	}
}

static void done_frame_alloc(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	fz_cap_add(c, ((struct exo_frame_alloc *)arg)->cap);
}

static void gen_frame_free(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	((struct exo_frame_free *)arg)->cap = fz_cap(t, c);
}

static uint32_t fz_frame_idx(struct fz_thread *t)
{
	switch (fz_below(t, 10)) {
	case 0:
		return 1 + fz_below(t, 3);
	case 1:
		return fz_below(t, 1100);
	case 2:
		return (uint32_t)fz_rand(t);
	default:
		return 0;
	}
}

/* @n entries at the scratch: the first few made up, the rest copies. */
static void *fz_fill(struct fz_thread *t, uint64_t n, size_t size,
		     void (*one)(struct fz_thread *t, struct fz_ctx *c,
				 void *e),
		     struct fz_ctx *c)
{
	size_t room = FZ_SCRATCH_PAGES * t->w->psz / size, i;

	if (n > room)
		n = room;
	for (i = 0; i < n && i < 16; i++)
		one(t, c, t->scratch + i * size);
	for (; i < n; i++)
		memcpy(t->scratch + i * size, t->scratch + (i % 16) * size,
		       size);
	return t->scratch;
}

static void fz_map_entry(struct fz_thread *t, struct fz_ctx *c, void *p)
{
	struct exo_map_entry *e = p;

	e->va = fz_va(t, c);
	e->cap = fz_cap(t, c);
	e->frame = fz_frame_idx(t);
	e->nr = fz_one_in(t, 3) ? (uint32_t)fz_npages(t, FZ_HOME_PAGES) : 1;
	e->prot = fz_prot(t);
	e->__reserved = fz_one_in(t, 64) ? (uint32_t)fz_rand(t) : 0;
}

static uint32_t fz_batch(struct fz_thread *t, struct fz_ctx *c)
{
	return fz_one_in(t, 2) ? 1 : (uint32_t)fz_npages(t, c->api.max_batch);
}

static void gen_map(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_map *m = arg;

	m->nr = fz_batch(t, c);
	fz_fill(t, m->nr, sizeof(struct exo_map_entry), fz_map_entry, c);
	m->entries = fz_place(t, c, (size_t)m->nr * sizeof(struct exo_map_entry));
}

static void fz_vrange(struct fz_thread *t, struct fz_ctx *c, void *p)
{
	struct exo_vrange *r = p;

	r->va = fz_va(t, c);
	r->len = fz_len(t);
	if (fz_one_in(t, 4)) {
		r->va = (uintptr_t)c->home;
		r->len = FZ_HOME_PAGES * t->w->psz;
	}
}

static void gen_ranges(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_vm_ranges *r = arg;

	r->nr = fz_one_in(t, 2) ? 1 : fz_batch(t, c);
	fz_fill(t, r->nr, sizeof(struct exo_vrange), fz_vrange, c);
	r->ranges = fz_place(t, c, (size_t)r->nr * sizeof(struct exo_vrange));
}

static void gen_protect(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_vm_ranges *r = arg;

	gen_ranges(t, c, arg);
	r->prot = fz_prot(t);
	r->flags = fz_one_in(t, 3) ? EXO_PROTECT_POPULATE : 0;
}

static void gen_query(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_query *q = arg;

	q->va = fz_one_in(t, 3) ? (uintptr_t)c->home : fz_va(t, c);
	q->nr = (uint32_t)fz_npages(t, c->api.max_batch);
	q->pages = fz_place(t, c, (size_t)q->nr * sizeof(struct exo_vpage));
	q->flags = fz_one_in(t, 3) ? EXO_QUERY_CLEAR_ACCESSED : 0;
}

static void gen_dirty(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_dirty *d = arg;

	d->va = fz_one_in(t, 3) ? (uintptr_t)c->home : fz_va(t, c);
	d->nr = (uint32_t)fz_npages(t, EXO_DIRTY_MAX_PAGES);
	d->bitmap = fz_place(t, c, ((size_t)d->nr + 63) / 64 * 8);
}

static void fz_upte(struct fz_thread *t, struct fz_ctx *c, void *p)
{
	struct exo_upte *e = p;

	e->cap = fz_cap(t, c);
	e->frame = fz_one_in(t, 4) ? fz_frame_idx(t) : 0;
	e->flags = EXO_UPTE_VALID | fz_prot(t);
	if (fz_one_in(t, 8))
		e->flags = (uint32_t)fz_rand(t);
}

static void gen_stlb(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_stlb *s = arg;

	if (fz_one_in(t, 6))
		return;		/* unregister */
	s->nr_entries = FZ_HOME_PAGES;
	if (fz_one_in(t, 3))
		s->nr_entries = (uint32_t)fz_npages(t, c->api.stlb_max);
	fz_fill(t, s->nr_entries, sizeof(struct exo_upte), fz_upte, c);
	s->table = fz_place(t, c, (size_t)s->nr_entries *
				  sizeof(struct exo_upte));
	s->base = fz_one_in(t, 3) ? fz_va(t, c) : (uintptr_t)c->home;
}

static void gen_fault_mode(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_fault_mode *m = arg;

	m->mode = fz_below(t, 3);
	if (fz_one_in(t, 20))
		m->mode = (uint32_t)fz_rand(t);
	t->note = m->mode;
	if (m->mode != EXO_FAULT_MODE_UPCALL) {
		if (fz_one_in(t, 16))
			m->entry = FZ_ENTRY;
		return;
	}
	m->cookie = fz_rand(t);
	switch (fz_below(t, 20)) {
	case 0:
		m->entry = FZ_TRAP_PAD + fz_below(t, 64);
		break;
	case 2:
		m->entry = (uintptr_t)fz_page(t, c->home, FZ_HOME_PAGES);
		break;
	case 3:
		m->entry = 0;
		break;
	case 4:
		m->entry = fz_kaddr(t);
		break;
	case 5:
		m->entry = FZ_UNMAPPED + fz_below(t, 0xf000);
		break;
	default:
		m->entry = FZ_ENTRY;
		break;
	}
}

static void done_fault_mode(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	c->mode = (uint32_t)t->note;
}

static void gen_fault_wake(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_fault_wake *f = arg;
	struct exo_vrange r;

	fz_vrange(t, c, &r);
	f->va = r.va;
	f->len = r.len;
	f->flags = fz_one_in(t, 3) ? EXO_WAKE_SIGBUS : 0;
}

static void gen_revoke(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_revoke *r = arg;

	r->ctx_id = fz_one_in(t, 3) ? 0 : fz_ctx_id(t, c);
	r->nr = 1 + fz_below(t, 8);
	if (fz_one_in(t, 20))
		r->nr = fz_one_in(t, 2) ? 0 : fz_rand(t);
	r->timeout_ms = fz_below(t, 501);
	r->flags = fz_one_in(t, 4) ? EXO_REVOKE_ABORT : 0;
}

static void gen_revoke_notify(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_revoke_notify *n = arg;

	n->eventfd = fz_efd(t);
	switch (fz_below(t, 40)) {
	case 0 ... 15:
		n->signo = 0;
		break;
	case 16 ... 31:
		n->signo = SIGUSR1;
		break;
	case 32 ... 34:
		n->signo = SIGURG;	/* ignored by default */
		break;
	case 35 ... 36:
		n->signo = fz_one_in(t, 2) ? SIGKILL : SIGSTOP;
		break;
	case 37 ... 38:
		n->signo = 65 + fz_below(t, 1000);
		break;
	default:
		/* anything: a worker may die of its own notification */
		n->signo = 1 + fz_below(t, 64);
		break;
	}
}

static void gen_critical(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_frame_critical *f = arg;

	f->cap = fz_cap(t, c);
	f->flags = fz_one_in(t, 3) ? EXO_CRITICAL_CLEAR : 0;
}

static void gen_grant(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_frame_grant *g = arg;

	g->cap = fz_cap(t, c);
	g->ctx_id = fz_one_in(t, 3) ? fz_ctx_id(t, c) : fz_peer_id(t, c);
	t->note = g->ctx_id;
}

/* The grantee finds it: our other context directly, others in the slot. */
static void done_grant(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_frame_grant *g = arg;
	struct fz_ctx *o = fz_ctx_other(t, c);

	if (o && o->api.ctx_id == (uint32_t)t->note) {
		fz_cap_add(o, g->grant_cap);
		return;
	}
	fz_publish_grant(t->w, false, (uint32_t)t->note, g->grant_cap);
}

/* A slot of the repossession vector that holds contents, or any. */
static uint32_t fz_repo_slot(struct fz_thread *t, struct fz_ctx *c)
{
	const struct exo_repo_header *h = c->repo;
	uint32_t i, n = h->nr_entries;

	if (fz_one_in(t, 4))
		return fz_one_in(t, 2) ? n : (uint32_t)fz_rand(t);
	for (i = fz_below(t, n); n-- && h->used; i = (i + 1) % h->nr_entries)
		if (fz_repo_entry(c, i)->state == EXO_REPO_SAVED)
			return i;
	return fz_below(t, h->nr_entries);
}

static void gen_recover(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_recover *r = arg;
	uint32_t dest;

	r->slot = fz_repo_slot(t, c);
	switch (fz_below(t, 8)) {
	case 0 ... 2:
		dest = 0;
		break;
	case 3 ... 4:
		dest = EXO_RECOVER_TO_FRAME;
		break;
	case 5 ... 6:
		dest = EXO_RECOVER_TO_USER;
		break;
	default:
		dest = (uint32_t)fz_rand(t) & 7;
		break;
	}
	r->flags = dest | (fz_one_in(t, 4) ? EXO_RECOVER_KEEP : 0);
	r->frame = fz_one_in(t, 4) ? fz_frame_idx(t) : 0;
	r->nr = dest ? (uint32_t)fz_npages(t, 4) : 0;
	if (dest & EXO_RECOVER_TO_FRAME) {
		r->cap = fz_cap(t, c);
		r->dst_frame = fz_one_in(t, 4) ? fz_frame_idx(t) : 0;
	}
	if (dest & EXO_RECOVER_TO_USER)
		r->buf = fz_place(t, c, (size_t)r->nr * t->w->psz);
}

static void gen_net_attach(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_net_attach *a = arg;

	a->ifindex = fz_ifindex(t);
	a->flags = fz_one_in(t, 3) ? EXO_NET_DETACH : 0;
}

static void gen_net_claim(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	static const uint16_t types[] = {
		FZ_ETHERTYPE, FZ_ETHERTYPE + 1, 0x0806, 0x86dd, 0x0800,
	};
	struct exo_net_claim *n = arg;

	n->ifindex = fz_ifindex(t);
	n->abi = fz_one_in(t, 16) ? (uint16_t)fz_rand(t) : EXO_NET_ABI;
	n->prog_fd = fz_prog_fd(t);
	switch (fz_below(t, 8)) {
	case 0 ... 1:
		n->ethertype = types[fz_below(t, ARRAY_SIZE(types))];
		break;
	case 2:
		n->ethertype = 0x0800;
		n->ip_proto = fz_one_in(t, 2) ? IPPROTO_UDP : fz_below(t, 256);
		break;
	case 3:
		n->ethertype = (uint16_t)fz_rand(t);
		n->ip_proto = fz_one_in(t, 2) ? 0 : fz_below(t, 256);
		n->port = fz_one_in(t, 2) ? 0 : fz_port(t);
		break;
	default:
		n->ethertype = 0x0800;
		n->ip_proto = fz_one_in(t, 4) ? IPPROTO_TCP : IPPROTO_UDP;
		n->port = fz_port(t);
		break;
	}
}

static void done_net_claim(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	if (c->nclaims < FZ_CLAIMS)
		c->claims[c->nclaims++] = ((struct exo_net_claim *)arg)->id;
	else
		c->claims[fz_below(t, FZ_CLAIMS)] =
			((struct exo_net_claim *)arg)->id;
}

static void gen_net_unclaim(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	((struct exo_net_unclaim *)arg)->id = fz_claim_id(t, c);
}

static void gen_net_handler(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_net_handler *h = arg;

	h->id = fz_claim_id(t, c);
	h->prog_fd = fz_prog_fd(t);
}

static void fz_ring_cap(struct fz_thread *t, struct fz_ctx *c, void *p)
{
	*(uint64_t *)p = fz_cap(t, c);
}

static void gen_net_ring(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_net_ring *r = arg;

	r->kind = fz_one_in(t, 10) ? (uint32_t)fz_rand(t) : fz_below(t, 2);
	r->eventfd = -1;
	t->note = r->kind;
	if (fz_one_in(t, 4)) {
		if (fz_one_in(t, 8))
			r->eventfd = fz_efd(t);
		return;		/* unregister */
	}
	r->nr_caps = fz_one_in(t, 8) ? (uint32_t)fz_npages(t, 64) :
				       1 + fz_below(t, 4);
	fz_fill(t, r->nr_caps, sizeof(uint64_t), fz_ring_cap, c);
	r->caps = fz_place(t, c, (size_t)r->nr_caps * sizeof(uint64_t));
	if (r->kind == EXO_NET_RX ? !fz_one_in(t, 3) : fz_one_in(t, 10))
		r->eventfd = fz_efd(t);
}

static void done_net_ring(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_net_ring *r = arg;

	if (t->note > EXO_NET_TX)
		return;
	/* A ring whose frames we did not bind: nothing to write through. */
	c->ring[t->note] = (struct fz_ring){ .slots = r->nr_slots };
}

static void gen_net_stats(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	((struct exo_net_stats *)arg)->id = fz_claim_id(t, c);
}

static void gen_entry_register(struct fz_thread *t, struct fz_ctx *c,
			       void *arg)
{
	((struct exo_entry_register *)arg)->pc = fz_entry_pc(t, c);
}

static void done_entry_register(struct fz_thread *t, struct fz_ctx *c,
				void *arg)
{
	uint32_t id = ((struct exo_entry_register *)arg)->id;

	if (c->nentries < FZ_ENTRIES)
		c->entries[c->nentries++] = id;
	else
		c->entries[fz_below(t, FZ_ENTRIES)] = id;
}

static void gen_entry_unregister(struct fz_thread *t, struct fz_ctx *c,
				 void *arg)
{
	((struct exo_entry_unregister *)arg)->id = fz_entry_id(t, c);
}

static void gen_call_grant(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_call_grant *g = arg;

	g->entry = fz_entry_id(t, c);
	g->ctx_id = fz_one_in(t, 3) ? fz_ctx_id(t, c) : fz_peer_id(t, c);
}

/* Kept for revocation; the grantee finds it as done_grant()'s do. */
static void done_call_grant(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	struct exo_call_grant *g = arg;
	struct fz_ctx *o = fz_ctx_other(t, c);
	unsigned int i = c->ncgrants++ % FZ_CALL_CAPS;

	c->cgrants[i].entry = g->entry;
	c->cgrants[i].ctx_id = g->ctx_id;
	c->cgrants[i].cap = g->cap;
	if (o && o->api.ctx_id == g->ctx_id)
		o->ccaps[o->nccaps++ % FZ_CALL_CAPS] = g->cap;
	else
		fz_publish_grant(t->w, true, g->ctx_id, g->cap);
}

/* Mostly a grant @c made, at times with one of its three names wrong. */
/*
 * A thread registration: mostly rows only, at times end-of-slice upcalls
 * at the entry that resumes exactly (the fuzzer then runs preempted by
 * them), at times a bad entry or slice.
 */
static void gen_thread_register(struct fz_thread *t, struct fz_ctx *c,
				void *arg)
{
	struct exo_thread_register *r = arg;

	if (fz_one_in(t, 2))
		return;
	r->flags = EXO_THREAD_UPCALL;
	r->cookie = fz_rand(t);
	switch (fz_below(t, 12)) {
	case 0:
		r->entry = 0;
		break;
	case 1:
		r->entry = fz_kaddr(t);
		break;
	case 2:
		r->flags = 0;
		r->entry = FZ_SLICE_ENTRY;
		break;
	default:
		r->entry = FZ_SLICE_ENTRY;
		break;
	}
	switch (fz_below(t, 6)) {
	case 0:
		r->slice_ns = fz_below(t, EXO_THREAD_SLICE_MIN_NS);
		break;
	case 1:
		r->slice_ns = fz_rand(t);
		break;
	case 2:
	case 3:
		r->slice_ns = EXO_THREAD_SLICE_MIN_NS + fz_below(t, 5000000);
		break;
	default:
		break;
	}
}

static void gen_call_revoke(struct fz_thread *t, struct fz_ctx *c, void *arg)
{
	unsigned int n = c->ncgrants < FZ_CALL_CAPS ? c->ncgrants : FZ_CALL_CAPS;
	struct exo_call_revoke *r = arg;

	if (!n || fz_one_in(t, 8)) {
		r->entry = fz_entry_id(t, c);
		r->ctx_id = fz_ctx_id(t, c);
		r->cap = fz_call_cap(t, c);
		return;
	}
	n = fz_below(t, n);
	r->entry = c->cgrants[n].entry;
	r->ctx_id = c->cgrants[n].ctx_id;
	r->cap = c->cgrants[n].cap;
	switch (fz_below(t, 12)) {
	case 0:
		r->entry = fz_entry_id(t, c);
		break;
	case 1:
		r->ctx_id = fz_ctx_id(t, c);
		break;
	case 2:
		r->cap += fz_one_in(t, 2) ? 1ull << 32 : 1;
		break;
	}
}

/* ------------------------------------------------------------------------
 * the common path of a command
 */

static uint32_t fz_size(struct fz_thread *t, const struct fz_op *op,
			uint8_t *arg)
{
	uint32_t psz = (uint32_t)t->w->psz;

	if (!fz_one_in(t, 8))
		return op->size;
	switch (fz_below(t, 9)) {
	case 0 ... 1:
		return op->min_size;
	case 2:
		return op->min_size + fz_below(t, op->size - op->min_size + 1);
	case 3:
		return fz_below(t, op->min_size);
	case 4:
		return op->size + 8;
	case 5:
		arg[op->size + fz_below(t, 8)] = 1 + fz_below(t, 255);
		return op->size + 8;
	case 6:
		return psz;		/* zero up to the guard page */
	case 7:
		return psz + 64;	/* into it */
	default:
		return (uint32_t)fz_rand(t);
	}
}

/* Flags and reserved fields, now and then not what the command takes. */
static void fz_mutate(struct fz_thread *t, const struct fz_op *op,
		      uint8_t *arg)
{
	uint32_t *flags = (uint32_t *)(arg + 4);
	unsigned int i;

	if (fz_one_in(t, 16)) {
		switch (fz_below(t, 3)) {
		case 0:
			*flags |= 1U << fz_below(t, 32);
			break;
		case 1:
			*flags = (uint32_t)fz_rand(t);
			break;
		default:
			*flags = op->flags;
			break;
		}
	}
	if (!op->rsv[0].len || !fz_one_in(t, 16))
		return;
	i = op->rsv[1].len && fz_one_in(t, 2);
	arg[op->rsv[i].off + fz_below(t, op->rsv[i].len)] = 1 + fz_below(t, 255);
}

/* The struct's address: its page, or somewhere the kernel cannot copy. */
static uint64_t fz_argp(struct fz_thread *t, struct fz_ctx *c, uint8_t *arg,
			uint32_t size)
{
	size_t psz = t->w->psz, n = size < psz ? size : psz, m;
	uint8_t *end = t->scratch + FZ_SCRATCH_PAGES * psz, *p;

	switch (fz_below(t, 64)) {
	case 0:
		return 0;
	case 1:
		return FZ_UNMAPPED;
	case 2:
		return fz_kaddr(t);
	case 3 ... 4:
		/* readable, not writable: a result cannot be copied back */
		fz_ro_fill(t, arg, n);
		return (uintptr_t)t->ro;
	case 5:
		p = fz_page(t, c->home, FZ_HOME_PAGES);
		fz_access(p, FZ_WRITE, arg, n, FZ_ESCAPE_MS);
		return (uintptr_t)p;
	case 6:
		/* @size readable, the rest of the struct in the guard page */
		m = n < 64 ? n : 64;
		n = m > 4 ? 4 + fz_below(t, m - 4) : 4;
		memcpy(end - n, arg, n);
		return (uintptr_t)(end - n);
	default:
		return (uintptr_t)arg;
	}
}

/* The fd: the context's, now and then anything else. */
static int fz_fd(struct fz_thread *t, struct fz_ctx *c)
{
	const struct fz_fds *f = &t->w->fds;
	struct fz_ctx *o;

	if (!fz_one_in(t, 64))
		return c->fd;
	switch (fz_below(t, 6)) {
	case 0:
		o = fz_ctx_other(t, c);
		return o ? o->fd : c->fd;
	case 1:
		return f->devnull;
	case 2:
		return f->efd;
	case 3:
		return f->map;
	case 4:
		return f->closed;
	default:
		return -1;
	}
}

static int fz_sys_ioctl(int fd, unsigned long cmd, uint64_t arg)
{
	return ioctl(fd, cmd, (void *)(uintptr_t)arg) < 0 ? -errno : 0;
}

static void fz_ioctl_op(struct fz_thread *t, const struct fz_op *op)
{
	struct fz_worker *w = t->w;
	uint8_t *arg = t->arg;
	struct fz_ctx *c;
	uint64_t argp;
	uint32_t size;
	int fd, rc;

	fz_lock(w);
	c = fz_ctx_pick(t);
	if (!c) {
		fz_unlock(w);
		return;
	}
	memset(arg, 0, FZ_ARG_CLEAR);
	op->gen(t, c, arg);
	size = fz_size(t, op, arg);
	memcpy(arg, &size, sizeof(size));
	fz_mutate(t, op, arg);
	argp = fz_argp(t, c, arg, size);
	fd = fz_fd(t, c);
	fz_unlock(w);

	rc = fz_sys_ioctl(fd, op->ioc, argp);
	fz_count(t, op->call, rc);
	if (rc || !op->done || argp != (uintptr_t)arg || fd != c->fd ||
	    size < op->size)
		return;
	fz_lock(w);
	if (fz_live(c))
		op->done(t, c, arg);
	fz_unlock(w);
}

static int fz_call_fd(struct fz_thread *t, int fd, unsigned int cmd,
		      void *arg, uint32_t size)
{
	int rc;

	memcpy(arg, &size, sizeof(size));
	rc = fz_sys_ioctl(fd, _IO(EXO_IOC_TYPE, cmd), (uintptr_t)arg);
	fz_count(t, cmd - EXO_CMD_BASE, rc);
	return rc;
}

/* A plain call of a scenario: counted, not mutated. */
#define fz_call(t, c, cmd, arg) \
	fz_call_fd(t, (c)->fd, EXO_CMD_##cmd, arg, sizeof(*(arg)))

/* ------------------------------------------------------------------------
 * the other entry points
 */

static void op_badcmd(struct fz_thread *t)
{
	static const unsigned long generic[] = {
		FIONBIO, FIOASYNC, FIONREAD, FIOCLEX, FIONCLEX,
	};
	struct fz_ctx *c;
	unsigned long cmd;
	unsigned int nr;
	int fd;

	fz_lock(t->w);
	c = fz_ctx_pick(t);
	fd = c ? fz_fd(t, c) : -1;
	memset(t->arg, 0, FZ_ARG_CLEAR);
	t->arg[0] = fz_one_in(t, 2) ? 64 : 0;
	switch (fz_below(t, 6)) {
	case 0:
		/* below the commands; the register commands are op_call's */
		nr = fz_below(t, EXO_CMD_BASE);
		if (nr == _IOC_NR(EXO_IOC_CALL) ||
		    nr == _IOC_NR(EXO_IOC_REPLY) ||
		    nr == _IOC_NR(EXO_IOC_SEND) ||
		    nr == _IOC_NR(EXO_IOC_YIELD) ||
		    nr == _IOC_NR(EXO_IOC_CALL_FRAME))
			nr = EXO_CMD_BASE - 1;
		cmd = _IO(EXO_IOC_TYPE, nr);
		break;
	case 1:
		cmd = _IO(EXO_IOC_TYPE, EXO_CMD_LAST +
			  fz_below(t, 256 - EXO_CMD_LAST));
		break;
	case 2:
		/* a command's number with its size encoded, as exo does not */
		cmd = _IOWR(EXO_IOC_TYPE, EXO_CMD_BASE + fz_below(t, EXO_NR_CMDS),
			    struct exo_api);
		break;
	case 3:
		cmd = _IO(EXO_IOC_TYPE + 1,
			  EXO_CMD_BASE + fz_below(t, EXO_NR_CMDS));
		break;
	case 4:
		/* what the VFS handles before exo sees it */
		cmd = generic[fz_below(t, ARRAY_SIZE(generic))];
		break;
	default:
		cmd = (uint32_t)fz_rand(t);
		break;
	}
	fz_unlock(t->w);
	fz_count(t, FZ_C_BADCMD, fz_sys_ioctl(fd, cmd, (uintptr_t)t->arg));
}

static int fz_mmap_prot(struct fz_thread *t)
{
	static const int p[] = {
		PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ,
		PROT_READ | PROT_WRITE | PROT_EXEC, PROT_READ | PROT_EXEC,
		PROT_NONE, PROT_WRITE,
	};

	return p[fz_below(t, ARRAY_SIZE(p))];
}

static int fz_mmap_flags(struct fz_thread *t)
{
	switch (fz_below(t, 24)) {
	case 0 ... 1:
		return MAP_PRIVATE;
	case 2:
		return MAP_SHARED | MAP_POPULATE;
	case 3:
		return MAP_SHARED | MAP_LOCKED;
	default:
		return MAP_SHARED;
	}
}

/* A place in the arena's probe zone for @pages, or NULL if none fits. */
static uint8_t *fz_probe_at(struct fz_thread *t, size_t pages)
{
	size_t first = FZ_CTXS * FZ_HOME_PAGES, room = FZ_ARENA_PAGES - first;

	if (!pages || pages > room)
		return NULL;
	return t->w->arena +
	       (first + fz_below(t, room - pages + 1)) * t->w->psz;
}

/* mmap of /dev/exo: the tables and exo VMAs, right and wrong. */
static void op_mmap(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	size_t psz = w->psz, len;
	struct fz_ctx *c;
	uint8_t *at, *p;
	uint64_t off;
	int prot, flags, fd, rc;
	bool home = false;

	fz_lock(w);
	c = fz_ctx_pick(t);
	if (!c) {
		fz_unlock(w);
		return;
	}
	fd = fz_fd(t, c);
	prot = fz_mmap_prot(t);
	flags = fz_mmap_flags(t);
	switch (fz_below(t, 20)) {
	case 0 ... 2:
		off = EXO_MMAP_FTABLE;
		len = c->api.ftable_size;
		prot = fz_one_in(t, 4) ? prot : PROT_READ;
		break;
	case 3 ... 4:
		off = EXO_MMAP_EVENTS;
		len = c->api.events_size;
		prot = fz_one_in(t, 4) ? prot : PROT_READ;
		break;
	case 5 ... 6:
		off = EXO_MMAP_REPO;
		len = c->api.repo_size;
		prot = fz_one_in(t, 4) ? prot : PROT_READ;
		break;
	case 7:
		off = ((uint64_t)fz_below(t, 5) << 32) + psz * (1 + fz_below(t, 4));
		len = psz;
		break;
	case 8:
		off = fz_rand(t) & ~(uint64_t)(psz - 1);
		len = psz;
		break;
	default:
		off = EXO_MMAP_VM;
		len = (1 + fz_below(t, 16)) * psz;
		/* the context's own exo VMA, back in place */
		if (!c->home_mapped || fz_one_in(t, 4)) {
			home = fd == c->fd && !(flags & MAP_PRIVATE);
			len = FZ_HOME_PAGES * psz;
			prot = fz_one_in(t, 6) ? PROT_READ | PROT_WRITE |
						 PROT_EXEC :
						 PROT_READ | PROT_WRITE;
		}
		break;
	}
	if (fz_one_in(t, 8))
		len = fz_one_in(t, 2) ? psz : len + psz;
	if (fz_one_in(t, 32))
		len = fz_one_in(t, 2) ? 0 : (size_t)1 << 30;
	at = home ? c->home : fz_one_in(t, 8) ? NULL : fz_probe_at(t, len / psz);
	if (home)
		len = FZ_HOME_PAGES * psz;
	fz_unlock(w);

	p = mmap(at, len, prot, flags | (at ? MAP_FIXED : 0), fd, (off_t)off);
	rc = p == MAP_FAILED ? -errno : 0;
	fz_count(t, FZ_C_MMAP, rc);
	if (rc && at)
		fz_reserve(at, len);
	if (rc)
		return;
	if (!at) {
		fz_count(t, FZ_C_MUNMAP, munmap(p, len) ? -errno : 0);
		return;
	}
	fz_lock(w);
	if (home)
		c->home_mapped = true;
	else
		fz_probe_add(w, p, len);
	fz_unlock(w);
}

/* munmap, whole or in part; the arena's hole is reserved again. */
static void op_munmap(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	size_t psz = w->psz, len, skip;
	struct fz_probe *pr;
	struct fz_ctx *c;
	uint8_t *p;
	int rc;

	fz_lock(w);
	c = fz_ctx_pick(t);
	switch (fz_below(t, 12)) {
	case 0 ... 4:
		pr = &w->probe[fz_below(t, FZ_PROBES)];
		p = pr->addr;
		len = pr->len;
		if (p && fz_one_in(t, 3)) {
			skip = fz_below(t, len / psz) * psz;
			p += skip;
			len = (1 + fz_below(t, (len - skip) / psz)) * psz;
		}
		break;
	case 5 ... 7:
		if (!c)
			goto none;
		p = c->home;
		len = FZ_HOME_PAGES * psz;
		if (fz_one_in(t, 2)) {
			p = fz_page(t, c->home, FZ_HOME_PAGES);
			len = (1 + fz_below(t, 4)) * psz;
		}
		c->home_mapped = false;
		break;
	case 8 ... 9:
		p = (uint8_t *)(uintptr_t)(fz_arena_addr(t) & ~(psz - 1));
		len = (1 + fz_below(t, 16)) * psz;
		break;
	case 10:
		p = (uint8_t *)(uintptr_t)fz_kaddr(t);
		len = psz;
		break;
	default:
		p = (uint8_t *)(uintptr_t)fz_arena_addr(t) + 1;
		len = fz_one_in(t, 2) ? 0 : psz;
		break;
	}
	if (!p || (p >= fz_arena_lo && p < fz_arena_hi &&
		   p + len > fz_arena_hi))
		goto none;
	fz_unlock(w);

	if (p >= fz_arena_lo && p < fz_arena_hi && !((uintptr_t)p & (psz - 1)) &&
	    len && w->threaded) {
		/* replaced at once: the arena never has a hole */
		rc = mmap(p, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			  MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED ?
		     -errno : 0;
	} else {
		rc = munmap(p, len) ? -errno : 0;
		if (!rc && p >= fz_arena_lo && p < fz_arena_hi)
			fz_reserve(p, len);
	}
	fz_count(t, FZ_C_MUNMAP, rc);
	return;
none:
	fz_unlock(w);
}

static void op_mprotect(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	size_t psz = w->psz, len = psz;
	struct fz_probe *pr;
	struct fz_ctx *c;
	uint8_t *p;
	int prot = fz_mmap_prot(t);

	fz_lock(w);
	c = fz_ctx_pick(t);
	switch (fz_below(t, 8)) {
	case 0 ... 2:
		p = c ? fz_page(t, c->home, FZ_HOME_PAGES) : NULL;
		len = (1 + fz_below(t, 4)) * psz;
		break;
	case 3 ... 4:
		pr = &w->probe[fz_below(t, FZ_PROBES)];
		p = pr->addr;
		len = pr->len;
		break;
	case 5:
		/* a table the worker reads: refused, or a change to nothing */
		p = c ? (uint8_t *)c->ft : NULL;
		len = c ? c->api.ftable_size : 0;
		prot = PROT_READ | (fz_one_in(t, 2) ? PROT_WRITE : PROT_EXEC);
		break;
	case 6:
		p = c ? (uint8_t *)c->ev : NULL;
		prot = PROT_READ | PROT_WRITE;
		break;
	default:
		p = c ? c->home + 1 + fz_below(t, psz - 1) : NULL;
		break;
	}
	fz_unlock(w);
	if (p)
		fz_count(t, FZ_C_MPROTECT, mprotect(p, len, prot) ? -errno : 0);
}

/* mremap: exo VMAs neither grow nor move. One thread only (holes). */
static void op_mremap(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	size_t psz = w->psz, len, nlen;
	struct fz_probe *pr;
	struct fz_ctx *c;
	uint8_t *p, *to = NULL, *q;
	int flags = 0, rc;

	c = fz_ctx_pick(t);
	if (fz_one_in(t, 2) && c) {
		p = c->home;
		len = FZ_HOME_PAGES * psz;
	} else {
		pr = &w->probe[fz_below(t, FZ_PROBES)];
		p = pr->addr;
		len = pr->len;
		if (!p)
			return;
	}
	switch (fz_below(t, 3)) {
	case 0:
		nlen = len + psz;
		break;
	case 1:
		nlen = len > psz ? len - psz : len;
		break;
	default:
		nlen = len;
		to = fz_probe_at(t, len / psz);
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		break;
	}
	if (to && to < p + len && p < to + len)
		return;
	q = mremap(p, len, nlen, flags, to);
	rc = q == MAP_FAILED ? -errno : 0;
	fz_count(t, FZ_C_MREMAP, rc);
	if (rc) {
		/* MREMAP_FIXED may have unmapped the destination first */
		if (to)
			fz_reserve(to, nlen);
		return;
	}
	if (nlen < len)
		fz_reserve(p + nlen, len - nlen);
	if (q != p) {
		fz_reserve(p, len);
		fz_probe_add(w, q, nlen);
	}
}

/* read(2) of fault events; a thread that took one may resolve it. */
static void op_read(struct fz_thread *t)
{
	static const size_t lens[] = { 0, 1, 15, 16, 32, 256, 4096, 1 << 20 };
	struct fz_worker *w = t->w;
	struct exo_fault_event ev;
	struct exo_fault_wake wk = { 0 };
	struct fz_ctx *c;
	uint64_t buf;
	ssize_t n;
	size_t len;
	int fd;

	fz_lock(w);
	c = fz_ctx_pick(t);
	if (!c) {
		fz_unlock(w);
		return;
	}
	fd = fz_fd(t, c);
	len = fz_one_in(t, 2) ? 16 * (1 + fz_below(t, 4)) :
				lens[fz_below(t, ARRAY_SIZE(lens))];
	buf = fz_place(t, c, len);
	fz_unlock(w);

	/* blocking with nothing to read: the timer interrupts it (EINTR) */
	fz_timer_arm(2);
	n = read(fd, (void *)(uintptr_t)buf, len);
	fz_timer_arm(0);
	fz_count(t, FZ_C_READ, n < 0 ? -errno : 0);
	if (n < (ssize_t)sizeof(ev) || buf != (uintptr_t)t->scratch ||
	    fd != c->fd || fz_one_in(t, 3))
		return;
	memcpy(&ev, t->scratch, sizeof(ev));
	wk.va = ev.va & ~(uint64_t)(w->psz - 1);
	wk.len = w->psz;
	wk.flags = fz_one_in(t, 3) ? EXO_WAKE_SIGBUS : 0;
	fz_call(t, c, FAULT_WAKE, &wk);
}

static void op_poll(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	struct pollfd pfd[3];
	struct fz_ctx *c, *o;
	int n = 0, i, rc, ms;

	fz_lock(w);
	c = fz_ctx_pick(t);
	o = c ? fz_ctx_other(t, c) : NULL;
	if (c)
		pfd[n++].fd = c->fd;
	if (o && fz_one_in(t, 2))
		pfd[n++].fd = o->fd;
	if (fz_one_in(t, 3))
		pfd[n++].fd = fz_one_in(t, 2) ? w->fds.efd : w->fds.closed;
	for (i = 0; i < n; i++)
		pfd[i].events = fz_one_in(t, 8) ? (short)fz_rand(t) :
						  POLLIN | POLLPRI;
	ms = fz_one_in(t, 6) ? 1 + fz_below(t, 3) : 0;
	fz_unlock(w);
	if (!n)
		return;
	rc = poll(pfd, n, ms);
	fz_count(t, FZ_C_POLL, rc < 0 ? -errno : 0);
}

/* An access of a page: an exo VMA's, a table's, the arena's. */
static void op_touch(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	uint64_t val = fz_rand(t);
	struct fz_probe *pr;
	struct fz_ctx *c;
	uint8_t *p;
	int kind, r;

	fz_lock(w);
	c = fz_ctx_pick(t);
	if (!c) {
		fz_unlock(w);
		return;
	}
	switch (fz_below(t, 20)) {
	case 0 ... 2:
		pr = &w->probe[fz_below(t, FZ_PROBES)];
		p = pr->addr ? fz_page(t, pr->addr, pr->len / w->psz) : c->home;
		break;
	case 3 ... 5:
		p = (uint8_t *)(uintptr_t)fz_arena_addr(t);
		break;
	case 6 ... 7:
		c = fz_ctx_other(t, c) ?: c;
		p = fz_page(t, c->home, FZ_HOME_PAGES);
		break;
	default:
		p = fz_page(t, c->home, FZ_HOME_PAGES);
		break;
	}
	p = (uint8_t *)((uintptr_t)(p + fz_below(t, w->psz)) & ~7UL);
	kind = fz_one_in(t, 10) ? FZ_EXEC : fz_below(t, 2);
	fz_unlock(w);

	/* rarely no timer: stuck in event mode until someone resolves it */
	r = fz_access(p, kind, &val, sizeof(val),
		      fz_one_in(t, 4096) ? 0 : fz_escape_ms(t));
	fz_count(t, FZ_C_TOUCH, r);
}

/* A child shares the fds but not the address space: EIO everywhere. */
static void op_fork(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	struct exo_ctx_info info = { .size = sizeof(info) };
	unsigned int i;
	pid_t pid;
	void *p;
	int fd;

	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (i = 0; i < FZ_CTXS; i++) {
			fd = w->ctx[i].fd;
			if (fd < 0)
				continue;
			fz_count(t, EXO_CMD_CTX_INFO - EXO_CMD_BASE,
				 fz_sys_ioctl(fd, EXO_IOC_CTX_INFO,
					      (uintptr_t)&info));
			p = mmap(NULL, w->psz, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, EXO_MMAP_VM);
			fz_count(t, FZ_C_MMAP, p == MAP_FAILED ? -errno : 0);
			fz_count(t, FZ_C_READ, read(fd, &info, 16) < 0 ?
					       -errno : 0);
		}
		_exit(0);
	}
	fz_count(t, FZ_C_FORK, pid < 0 ? -errno : 0);
	if (pid > 0)
		exo_wait(pid);
}

/*
 * EXO_IOC_CALL with a message, or now and then EXO_IOC_SEND or
 * EXO_IOC_CALL_FRAME with a frame capability (the context's, mostly). A
 * call no server takes waits, and one being served waits for the answer:
 * the timer takes either back (EINTR). A send never waits.
 */
static void op_call(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	uint64_t m[EXO_CALL_WORDS], cap, frame = 0;
	unsigned int cmd = EXO_IOC_CALL;
	struct fz_ctx *c;
	long rc;
	int fd;

	fz_lock(w);
	c = fz_ctx_pick(t);
	if (!c) {
		fz_unlock(w);
		return;
	}
	fd = fz_fd(t, c);
	cap = fz_call_cap(t, c);
	if (fz_one_in(t, 4)) {
		cmd = EXO_IOC_CALL_FRAME;
		frame = fz_cap(t, c);
	}
	fz_unlock(w);
	fz_words(t, m);

	if (fz_one_in(t, 3)) {
		rc = fz_call_raw(fd, cap, m, EXO_IOC_SEND, 0);
		fz_count(t, FZ_C_SEND, (int)rc);
		return;
	}
	fz_timer_arm(fz_escape_ms(t));
	rc = fz_call_raw(fd, cap, m, cmd, frame);
	fz_timer_arm(0);
	fz_count(t, cmd == EXO_IOC_CALL ? FZ_C_CALL : FZ_C_CALL_FRAME,
		 (int)rc);
}

/*
 * EXO_IOC_YIELD to a row of this context or of one it may call: mostly
 * nobody (ESRCH), at times a registered thread of this worker.
 */
static void op_yield(struct fz_thread *t)
{
	uint64_t cap, row = fz_below(t, EXO_THREADS_MAX + 2);
	struct fz_ctx *c;
	long rc = SYS_ioctl;
	int fd;

	fz_lock(t->w);
	c = fz_ctx_pick(t);
	if (!c) {
		fz_unlock(t->w);
		return;
	}
	fd = fz_fd(t, c);
	cap = fz_one_in(t, 2) ? 0 : fz_call_cap(t, c);
	fz_unlock(t->w);
	if (fz_one_in(t, 20))
		row = fz_rand(t);
#ifdef __x86_64__
	{
		register uint64_t r10 __asm__("r10") = row;

		__asm__ volatile("syscall"
				 : "+a"(rc)
				 : "D"((long)fd), "S"((long)EXO_IOC_YIELD),
				   "d"(cap), "r"(r10)
				 : "rcx", "r11", "memory");
	}
#else
	rc = ioctl(fd, EXO_IOC_YIELD, (unsigned long)cap) < 0 ? -errno : 0;
#endif
	fz_count(t, FZ_C_YIELD, (int)rc);
}

/*
 * EXO_IOC_REPLY: an answer (to no call, mostly), now and then a wait at
 * the entry that the timer ends (EINTR) unless a call comes: at
 * fz_call_entry it is answered, or left for its caller to give up on;
 * any other pc kills the worker.
 */
static void op_reply(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	uint64_t m[EXO_CALL_WORDS], stack = 0;
	uint32_t entry, flags = 0;
	struct fz_ctx *c;
	long r;
	int fd;

	fz_lock(w);
	c = fz_ctx_pick(t);
	if (!c) {
		fz_unlock(w);
		return;
	}
	fd = fz_fd(t, c);
	entry = fz_entry_id(t, c);
	fz_unlock(w);
	switch (fz_below(t, 32)) {
	case 0 ... 3:
		flags = EXO_REPLY_WAIT;
		stack = fz_reply_stack(t);
		break;
	case 4:
		flags = fz_one_in(t, 2) ? 1U << fz_below(t, 32) :
					  (uint32_t)fz_rand(t);
		break;
	}
	fz_words(t, m);

	if (flags & EXO_REPLY_WAIT)
		fz_timer_arm(fz_escape_ms(t));
	r = fz_reply_raw(fd, entry | (uint64_t)flags << 32, m, stack);
	fz_timer_arm(0);
	fz_count(t, FZ_C_REPLY, fz_reply_res(r));
	if (r < FZ_SERVED || fz_one_in(t, 4))
		return;
	fz_words(t, m);
	fz_count(t, FZ_C_REPLY, fz_reply_res(fz_reply_raw(fd, entry, m, 0)));
}

/* ------------------------------------------------------------------------
 * contexts coming and going
 */

static void fz_publish(struct fz_thread *t, unsigned int i, uint32_t id)
{
	__atomic_store_n(&t->w->sh->slot[t->w->slot].ctx_id[i], id,
			 __ATOMIC_RELAXED);
}

static uint8_t *fz_table_zone(struct fz_worker *w, unsigned int i)
{
	return w->tables + (size_t)i * FZ_TABLE_PAGES * w->psz;
}

/* Map a table read-only at *@at, fixed in the context's table zone. */
static void *fz_map_table(struct fz_thread *t, unsigned int i, int fd,
			  size_t len, uint64_t off, uint8_t **at)
{
	uint8_t *end = fz_table_zone(t->w, i + 1);
	void *p;

	if (*at + len > end)
		return NULL;	/* module parameters far from the defaults */
	p = mmap(*at, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, (off_t)off);
	fz_count(t, FZ_C_MMAP, p == MAP_FAILED ? -errno : 0);
	if (p == MAP_FAILED) {
		fz_reserve(*at, len);
		return NULL;
	}
	*at += len;
	return p;
}

static void fz_unmap(struct fz_thread *t, const void *p, size_t len)
{
	if (p)
		fz_count(t, FZ_C_MUNMAP, munmap((void *)p, len) ? -errno : 0);
}

static void fz_close_fd(struct fz_thread *t, int fd)
{
	fz_count(t, FZ_C_CLOSE, close(fd) ? -errno : 0);
}

/* Open context @i: the handshake, its tables, its exo VMA. */
static void fz_ctx_open(struct fz_thread *t, unsigned int i)
{
	struct fz_worker *w = t->w;
	struct fz_ctx *c = &w->ctx[i];
	struct exo_api api = { .api = EXO_API_VERSION };
	int oflags = O_CLOEXEC, fd, prot;
	uint8_t *at = fz_table_zone(w, i);
	size_t home = FZ_HOME_PAGES * w->psz;
	void *p;

	oflags |= fz_one_in(t, 16) ? O_RDONLY : O_RDWR;
	oflags |= fz_one_in(t, 2) ? O_NONBLOCK : 0;
	fd = open(EXO_DEV_PATH, oflags);
	fz_count(t, FZ_C_OPEN, fd < 0 ? -errno : 0);
	if (fd < 0)
		return;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->home = w->arena + (size_t)i * FZ_HOME_PAGES * w->psz;
	if (fz_call_fd(t, fd, EXO_CMD_API, &api, sizeof(api)))
		goto err;
	c->api = api;
	c->ft = fz_map_table(t, i, fd, api.ftable_size, EXO_MMAP_FTABLE, &at);
	c->ev = fz_map_table(t, i, fd, api.events_size, EXO_MMAP_EVENTS, &at);
	c->repo = fz_map_table(t, i, fd, api.repo_size, EXO_MMAP_REPO, &at);
	if (!c->ft || !c->ev || !c->repo)
		goto err;
	prot = fz_one_in(t, 6) ? PROT_READ | PROT_WRITE | PROT_EXEC :
				 PROT_READ | PROT_WRITE;
	p = mmap(c->home, home, prot, MAP_SHARED | MAP_FIXED, fd, EXO_MMAP_VM);
	fz_count(t, FZ_C_MMAP, p == MAP_FAILED ? -errno : 0);
	c->home_mapped = p != MAP_FAILED;
	if (!c->home_mapped)
		fz_reserve(c->home, home);
	w->budget = FZ_FRAMES + (1ull << (api.max_order < 16 ? api.max_order : 16));
	c->fd = fd;
	fz_publish(t, i, api.ctx_id);
	return;
err:
	fz_unmap(t, c->ft, api.ftable_size);
	fz_unmap(t, c->ev, api.events_size);
	fz_unmap(t, c->repo, api.repo_size);
	fz_reserve(fz_table_zone(w, i), FZ_TABLE_PAGES * w->psz);
	fz_close_fd(t, fd);
}

/*
 * Close context @i: tidily, or the fd before the mappings (the context
 * ends at the last munmap), or the fd alone with everything left mapped
 * (the context lives on until its place is used again, or the exit).
 */
static void fz_ctx_close(struct fz_thread *t, unsigned int i, unsigned int how)
{
	struct fz_worker *w = t->w;
	struct fz_ctx *c = &w->ctx[i];
	size_t home = FZ_HOME_PAGES * w->psz;

	fz_publish(t, i, 0);
	if (how == 1 || how == 2)
		fz_close_fd(t, c->fd);
	if (how == 2) {
		c->fd = -1;
		return;
	}
	if (how != 3) {
		fz_unmap(t, c->home, home);
		fz_reserve(c->home, home);
	}
	fz_unmap(t, c->ft, c->api.ftable_size);
	fz_unmap(t, c->ev, c->api.events_size);
	fz_unmap(t, c->repo, c->api.repo_size);
	fz_reserve(fz_table_zone(w, i), FZ_TABLE_PAGES * w->psz);
	if (how != 1)
		fz_close_fd(t, c->fd);
	c->fd = -1;
}

static void op_churn(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	unsigned int i = fz_below(t, FZ_CTXS);

	fz_lock(w);
	if (!fz_live(&w->ctx[i]))
		fz_ctx_open(t, i);
	else if (fz_live(&w->ctx[(i + 1) % FZ_CTXS]) || fz_one_in(t, 2))
		fz_ctx_close(t, i, fz_below(t, 4));
	else
		fz_ctx_open(t, (i + 1) % FZ_CTXS);
	if (!fz_ctx_pick(t))
		fz_ctx_open(t, i);
	fz_unlock(w);
}

/* ------------------------------------------------------------------------
 * scenarios: calls that belong together, to reach deeper states
 */

/* A frame bound at a page and touched there. */
static void sc_map_touch(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	struct exo_frame_alloc a = { .how = EXO_ALLOC_ANY };
	struct exo_map_entry e = { .nr = 1 };
	struct exo_map m = { .nr = 1, .entries = (uintptr_t)&e };
	struct exo_vrange r = { .len = w->psz };
	struct exo_vm_ranges u = { .nr = 1, .ranges = (uintptr_t)&r };
	struct exo_frame_free f = { 0 };
	uint64_t val = fz_rand(t);
	struct fz_ctx *c;

	fz_lock(w);
	c = fz_ctx_pick(t);
	if (!c || fz_held(w) + 1 > w->budget) {
		fz_unlock(w);
		return;
	}
	e.va = (uintptr_t)fz_page(t, c->home,
				  FZ_HOME_PAGES - 2 * FZ_RING_PAGES);
	e.prot = fz_one_in(t, 4) ? EXO_PROT_READ :
				   EXO_PROT_READ | EXO_PROT_WRITE;
	fz_unlock(w);
	if (fz_call(t, c, FRAME_ALLOC, &a))
		return;
	fz_lock(w);
	fz_cap_add(c, a.cap);
	fz_unlock(w);
	e.cap = a.cap;
	fz_call(t, c, MAP, &m);
	fz_touch_at(t, (void *)(uintptr_t)e.va, fz_one_in(t, 2) ? &val : NULL,
		    sizeof(val));
	if (fz_one_in(t, 2))
		return;
	r.va = e.va;
	fz_call(t, c, UNMAP, &u);
	f.cap = a.cap;
	fz_call(t, c, FRAME_FREE, &f);
}

static uint8_t *fz_window(struct fz_worker *w, struct fz_ctx *c,
			  unsigned int kind)
{
	return c->home + (FZ_HOME_PAGES - (2 - kind) * FZ_RING_PAGES) * w->psz;
}

static unsigned int fz_ctx_idx(struct fz_worker *w, struct fz_ctx *c)
{
	return (unsigned int)(c - w->ctx);
}

/* This context's own UDP port on lo, for a ring of @kind. */
static uint16_t fz_own_port(struct fz_worker *w, struct fz_ctx *c,
			    unsigned int kind)
{
	return FZ_PORT + 32 + w->slot * 8 + fz_ctx_idx(w, c) * 2 + kind;
}

/*
 * A receive or transmit ring in frames bound at its window, lo attached
 * and a flow claimed for it.
 */
static void sc_ring(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	unsigned int kind = fz_below(t, 2), n = 2 + fz_below(t, 3), i;
	struct exo_map_entry e[FZ_RING_PAGES] = { { 0 } };
	struct exo_map m = { .nr = n, .entries = (uintptr_t)e };
	struct exo_net_attach at = { .ifindex = 1 };
	struct exo_net_claim cl = {
		.ifindex = 1, .ethertype = 0x0800, .ip_proto = IPPROTO_UDP,
		.abi = EXO_NET_ABI, .prog_fd = -1,
	};
	struct exo_net_ring r = { .kind = kind, .nr_caps = n, .eventfd = -1 };
	struct exo_frame_alloc a;
	uint64_t caps[FZ_RING_PAGES];
	struct exo_frame_free f;
	struct fz_ctx *c;
	uint8_t *win;

	fz_lock(w);
	c = fz_ctx_pick(t);
	if (!c || c->ring[kind].window || fz_held(w) + n > w->budget) {
		fz_unlock(w);
		return;
	}
	win = fz_window(w, c, kind);
	cl.port = fz_own_port(w, c, kind);
	if (fz_one_in(t, 2))
		cl.prog_fd = w->fds.prog_cls;
	if (kind == EXO_NET_RX)
		r.eventfd = w->fds.efd;
	fz_unlock(w);
	for (i = 0; i < n; i++) {
		a = (struct exo_frame_alloc){ .how = EXO_ALLOC_ANY };
		if (fz_call(t, c, FRAME_ALLOC, &a))
			goto err;
		caps[i] = a.cap;
		e[i] = (struct exo_map_entry){
			.va = (uintptr_t)win + i * w->psz, .cap = a.cap,
			.nr = 1, .prot = EXO_PROT_READ | EXO_PROT_WRITE,
		};
	}
	fz_call(t, c, MAP, &m);
	fz_call(t, c, NET_ATTACH, &at);
	if (!fz_call(t, c, NET_CLAIM, &cl)) {
		fz_lock(w);
		done_net_claim(t, c, &cl);
		fz_unlock(w);
	}
	r.caps = (uintptr_t)caps;
	if (!fz_call(t, c, NET_RING, &r)) {
		fz_lock(w);
		c->ring[kind] = (struct fz_ring){ r.nr_slots, true };
		for (i = 0; i < n; i++)
			fz_cap_add(c, caps[i]);
		fz_unlock(w);
		return;
	}
err:
	if (i == n) {
		struct exo_vrange ur = { (uintptr_t)win, n * w->psz };
		struct exo_vm_ranges u = { .nr = 1, .ranges = (uintptr_t)&ur };

		fz_call(t, c, UNMAP, &u);
	}
	while (i--) {
		f = (struct exo_frame_free){ .cap = caps[i] };
		if (fz_call(t, c, FRAME_FREE, &f) == -EBUSY) {
			fz_lock(w);
			fz_cap_add(c, caps[i]);
			fz_unlock(w);
		}
	}
}

/* Datagrams from Linux to a port on lo (a claim's, when one has it). */
static void fz_udp_send(struct fz_worker *w, uint16_t port)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	sendto(w->fds.udp, "exo-fuzz", 8, MSG_DONTWAIT,
	       (struct sockaddr *)&to, sizeof(to));
}

/* A frame for the transmit ring: claimed-looking or garbage. */
static uint32_t fz_frame(struct fz_thread *t, uint16_t port, uint8_t *f)
{
	uint32_t len = 14 + 20 + 8 + fz_below(t, 64), i;
	struct iphdr ip = {
		.version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_UDP,
		.tot_len = htons(len - 14),
		.saddr = htonl(INADDR_LOOPBACK), .daddr = htonl(INADDR_LOOPBACK),
	};
	struct udphdr udp = {
		.source = htons(port), .dest = htons(port),
		.len = htons(len - 34),
	};

	/* lo's MAC address is all zeroes: the source is right */
	memset(f, 0, 14);
	for (i = 14; i < len + 64; i++)
		f[i] = (uint8_t)fz_rand(t);
	switch (fz_below(t, 4)) {
	case 0:
		f[12] = FZ_ETHERTYPE >> 8;
		f[13] = FZ_ETHERTYPE & 0xff;
		return len;
	case 1:
		return fz_one_in(t, 2) ? fz_below(t, 64) :
		       fz_one_in(t, 2) ? EXO_NET_SLOT_MAX + fz_below(t, 3) :
					 (uint32_t)fz_rand(t);
	default:
		/* IPv4 UDP on 127.0.0.1, from and to @port */
		f[12] = 0x08;
		ip.check = htons(exo_inet_csum(0, &ip, sizeof(ip)));
		memcpy(f + 14, &ip, sizeof(ip));
		memcpy(f + 34, &udp, sizeof(udp));
		return len;
	}
}

/* Slots written through the window, prod moved, EXO_IOC_NET_TX. */
static void sc_tx(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	uint8_t slot[EXO_NET_SLOT_SIZE];
	struct exo_net_slot *s = (void *)slot;
	struct exo_net_ring_header *h;
	struct exo_net_tx tx;
	uint32_t prod = 0, slots, k, i;
	struct fz_ctx *c;
	uint16_t port;

	fz_lock(w);
	c = fz_ctx_pick(t);
	if (!c || !c->ring[EXO_NET_TX].window) {
		fz_unlock(w);
		return;
	}
	h = (void *)fz_window(w, c, EXO_NET_TX);
	slots = c->ring[EXO_NET_TX].slots;
	port = fz_one_in(t, 2) ? fz_own_port(w, c, EXO_NET_TX) : fz_port(t);
	fz_unlock(w);
	if (fz_access((uint8_t *)&prod, FZ_WRITE, &h->prod, sizeof(prod),
		      fz_escape_ms(t)))
		return;
	k = 1 + fz_below(t, 4);
	for (i = 0; i < k && slots; i++) {
		memset(s, 0, sizeof(*s));
		s->len = fz_frame(t, port, slot + EXO_NET_SLOT_DATA);
		s->ifindex = fz_one_in(t, 8) ? fz_ifindex(t) : 1;
		fz_touch_at(t, (uint8_t *)h + w->psz +
			       ((prod + i) % slots) * EXO_NET_SLOT_SIZE,
			    slot, EXO_NET_SLOT_DATA + 64);
	}
	prod += k;
	if (fz_one_in(t, 10))
		prod += fz_one_in(t, 2) ? slots + 1 : (uint32_t)fz_rand(t);
	fz_touch_at(t, &h->prod, &prod, sizeof(prod));
	memset(&tx, 0, sizeof(tx));
	fz_call(t, c, NET_TX, &tx);
	if (fz_one_in(t, 2))
		fz_udp_send(w, fz_own_port(w, c, EXO_NET_RX));
}

/* Packets into the receive ring; the library OS consumes them. */
static void sc_rx(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	struct exo_net_ring_header *h;
	uint32_t prod = 0;
	struct fz_ctx *c;

	fz_lock(w);
	c = fz_ctx_pick(t);
	if (!c || !c->ring[EXO_NET_RX].window) {
		fz_unlock(w);
		return;
	}
	h = (void *)fz_window(w, c, EXO_NET_RX);
	fz_unlock(w);
	fz_udp_send(w, fz_own_port(w, c, EXO_NET_RX));
	if (fz_access((uint8_t *)&prod, FZ_WRITE, &h->prod, sizeof(prod),
		      fz_escape_ms(t)))
		return;
	if (fz_one_in(t, 8))
		prod = (uint32_t)fz_rand(t);
	fz_touch_at(t, &h->cons, &prod, sizeof(prod));
}

struct fz_faulter {
	struct fz_worker *w;
	uint8_t *page;
	int r;
};

/* The faulting thread of sc_event(): one access; it waits to be resolved. */
static void *fz_faulter_main(void *arg)
{
	struct fz_faulter *f = arg;
	uint64_t val = 0x5a;

	fz_timer_init();
	f->r = fz_access(f->page, FZ_WRITE, &val, sizeof(val), 150);
	fz_timer_fini();
	return NULL;
}

/*
 * A fault event read from the fd and resolved: a thread faults at an
 * unbound page in event mode; this one polls, reads the event and binds
 * a frame there or wakes the thread (or lets the timer free it).
 */
static void sc_event(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	struct exo_fault_mode m = { .mode = EXO_FAULT_MODE_EVENT };
	struct fz_ctx *c = fz_ctx_pick(t);
	struct fz_faulter f = { .w = w };
	struct exo_fault_event ev;
	struct exo_frame_alloc a = { .how = EXO_ALLOC_ANY };
	struct exo_map_entry e = { .nr = 1, .prot = EXO_PROT_READ |
						    EXO_PROT_WRITE };
	struct exo_map mp = { .nr = 1, .entries = (uintptr_t)&e };
	struct exo_fault_wake wk = { .len = w->psz };
	struct pollfd pfd;
	pthread_t tid;
	ssize_t n;

	if (!c || !c->home_mapped || fz_held(w) + 1 > w->budget)
		return;
	f.page = fz_page(t, c->home, FZ_HOME_PAGES - 2 * FZ_RING_PAGES);
	if (fz_call(t, c, FAULT_MODE, &m))
		return;
	c->mode = EXO_FAULT_MODE_EVENT;
	if (fz_thread_start(w, 1, &tid, fz_faulter_main, &f))
		return;
	pfd = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	fz_count(t, FZ_C_POLL, poll(&pfd, 1, 50) < 0 ? -errno : 0);
	fz_timer_arm(20);
	n = read(c->fd, &ev, sizeof(ev));
	fz_timer_arm(0);
	fz_count(t, FZ_C_READ, n < 0 ? -errno : 0);
	if (n == sizeof(ev) && fz_one_in(t, 2)) {
		if (!fz_call(t, c, FRAME_ALLOC, &a)) {
			fz_cap_add(c, a.cap);
			e.va = ev.va & ~(uint64_t)(w->psz - 1);
			e.cap = a.cap;
			fz_call(t, c, MAP, &mp);
		}
	} else if (n == sizeof(ev)) {
		wk.va = ev.va & ~(uint64_t)(w->psz - 1);
		/* a plain wake: the access retries and waits again */
		wk.flags = fz_one_in(t, 4) ? 0 : EXO_WAKE_SIGBUS;
		fz_call(t, c, FAULT_WAKE, &wk);
	}
	pthread_join(tid, NULL);
	fz_count(t, FZ_C_TOUCH, f.r);
}

struct fz_server {
	int fd;
	uint32_t entry;
	bool answer;		/* reply to the call it takes */
	uint64_t m[EXO_CALL_WORDS];
	long r, r2;		/* the wait's result, the answer's */
};

/* The server thread of sc_call(): a wait at the entry, and the answer. */
static void *fz_server_main(void *arg)
{
	struct fz_server *s = arg;
	unsigned int i;

	fz_timer_init();
	fz_timer_arm(50);
	s->r = fz_reply_raw(s->fd, s->entry | (uint64_t)EXO_REPLY_WAIT << 32,
			    s->m, 0);
	fz_timer_arm(0);
	if (s->r >= FZ_SERVED && s->answer) {
		for (i = 0; i < EXO_CALL_WORDS; i++)
			s->m[i] = ~s->m[i];
		s->r2 = fz_reply_raw(s->fd, s->entry, s->m, 0);
	}
	fz_timer_fini();
	return NULL;
}

/*
 * A call served: an entry of one context at fz_call_entry, a capability
 * for it granted to the other, a thread waiting there and this one
 * calling. The server answers, or lets the caller give up (EINTR, and a
 * later answer finds it gone); the grant and the entry may stay.
 */
static void sc_call(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	struct fz_ctx *c = fz_ctx_pick(t), *o = c ? fz_ctx_other(t, c) : NULL;
	struct exo_entry_register r = { .pc = FZ_CALL_ENTRY };
	struct exo_call_grant g = { 0 };
	struct exo_call_revoke rv = { 0 };
	struct exo_entry_unregister u = { 0 };
	struct fz_server s = { 0 };
	uint64_t m[EXO_CALL_WORDS];
	pthread_t tid;
	long rc;

	if (!o || fz_call(t, c, ENTRY_REGISTER, &r))
		return;
	fz_lock(w);
	done_entry_register(t, c, &r);
	fz_unlock(w);
	g.entry = r.id;
	g.ctx_id = o->api.ctx_id;
	if (fz_call(t, c, CALL_GRANT, &g))
		goto out;
	fz_lock(w);
	done_call_grant(t, c, &g);
	fz_unlock(w);
	s.fd = c->fd;
	s.entry = r.id;
	s.answer = !fz_one_in(t, 4);
	fz_words(t, s.m);
	fz_words(t, m);
	if (fz_thread_start(w, 1, &tid, fz_server_main, &s))
		goto out;
	fz_timer_arm(50);
	rc = fz_call_raw(o->fd, g.cap, m, EXO_IOC_CALL, 0);
	fz_timer_arm(0);
	fz_count(t, FZ_C_CALL, (int)rc);
	pthread_join(tid, NULL);
	fz_count(t, FZ_C_REPLY, fz_reply_res(s.r));
	if (s.r >= FZ_SERVED && s.answer)
		fz_count(t, FZ_C_REPLY, fz_reply_res(s.r2));
	if (fz_one_in(t, 3)) {
		rv.entry = g.entry;
		rv.ctx_id = g.ctx_id;
		rv.cap = g.cap;
		fz_call(t, c, CALL_REVOKE, &rv);
	}
out:
	if (fz_one_in(t, 2)) {
		u.id = r.id;
		fz_call(t, c, ENTRY_UNREGISTER, &u);
	}
}

/*
 * Give everything back: bindings, rings, frames, saved contents. Run when
 * the worker nears its frame budget, and now and then at random.
 */
static void fz_reclaim(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	size_t zone = FZ_CTXS * FZ_HOME_PAGES * w->psz;
	struct exo_vrange r = { .len = FZ_HOME_PAGES * w->psz };
	struct exo_vm_ranges u = { .nr = 1, .ranges = (uintptr_t)&r };
	struct exo_ftable_entry e;
	struct exo_frame_free f;
	struct exo_net_ring nr;
	struct exo_recover rc;
	struct fz_ctx *c;
	unsigned int i, k;
	uint32_t j;

	/* the probe zone's exo VMAs and their bindings go at once */
	fz_count(t, FZ_C_MUNMAP, mmap(w->arena + zone,
				      FZ_ARENA_PAGES * w->psz - zone, PROT_NONE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
				      MAP_NORESERVE, -1, 0) == MAP_FAILED ?
				 -errno : 0);
	for (i = 0; i < FZ_CTXS; i++) {
		c = &w->ctx[i];
		if (!fz_live(c))
			continue;
		r.va = (uintptr_t)c->home;
		fz_call(t, c, UNMAP, &u);
		for (k = EXO_NET_RX; k <= EXO_NET_TX; k++) {
			nr = (struct exo_net_ring){ .kind = k, .eventfd = -1 };
			fz_call(t, c, NET_RING, &nr);
			c->ring[k] = (struct fz_ring){ 0 };
		}
		for (j = 1; j < c->api.ftable_entries; j++) {
			if (exo_ft_read(c->ft, j, &e) || e.state == EXO_FRAME_FREE)
				continue;
			f = (struct exo_frame_free){ .cap = (uint64_t)e.gen << 32 | j };
			fz_call(t, c, FRAME_FREE, &f);
		}
		for (j = 0; j < c->repo->nr_entries && c->repo->used; j++) {
			if (fz_repo_entry(c, j)->state != EXO_REPO_SAVED)
				continue;
			rc = (struct exo_recover){ .slot = j };
			fz_call(t, c, RECOVER, &rc);
		}
	}
	fz_lock(w);
	memset(w->probe, 0, sizeof(w->probe));
	fz_unlock(w);
}

static void sc_reclaim(struct fz_thread *t)
{
	if (fz_one_in(t, 4))
		fz_reclaim(t);
}

/* ------------------------------------------------------------------------
 * the table: one entry per command, then the other entry points
 */

#define FZ_RSV(_s, _f) { offsetof(struct _s, _f), sizeof(((struct _s *)0)->_f) }
#define FZ_CMD(_c, _s, _min, _fl, _w, _gen, _done, ...)			\
	{ .name = #_c, .call = EXO_CMD_##_c - EXO_CMD_BASE,		\
	  .ioc = EXO_IOC_##_c, .size = sizeof(struct _s), .min_size = _min, \
	  .flags = _fl, .weight = _w, .gen = _gen, .done = _done,	\
	  .rsv = { __VA_ARGS__ } }
#define FZ_RUN(_name, _w, _run, _structural)				\
	{ .name = _name, .weight = _w, .run = _run,			\
	  .structural = _structural }

static const struct fz_op fz_ops[] = {
	FZ_CMD(API, exo_api, EXO_API_SIZE_VER1, 0, 10, gen_api, NULL,
	       FZ_RSV(exo_api, __reserved), FZ_RSV(exo_api, __reserved2)),
	FZ_CMD(CTX_INFO, exo_ctx_info, EXO_CTX_INFO_SIZE_VER1, 0, 10, gen_none,
	       NULL),
	FZ_CMD(FRAME_ALLOC, exo_frame_alloc, EXO_FRAME_ALLOC_SIZE_VER1, 0, 80,
	       gen_frame_alloc, done_frame_alloc,
	       FZ_RSV(exo_frame_alloc, __reserved)),
	FZ_CMD(FRAME_FREE, exo_frame_free, EXO_FRAME_FREE_SIZE_VER1, 0, 50,
	       gen_frame_free, NULL),
	FZ_CMD(MAP, exo_map, EXO_MAP_SIZE_VER1, 0, 80, gen_map, NULL,
	       FZ_RSV(exo_map, __reserved)),
	FZ_CMD(UNMAP, exo_vm_ranges, EXO_VM_RANGES_SIZE_VER1, 0, 30,
	       gen_ranges, NULL, FZ_RSV(exo_vm_ranges, prot)),
	FZ_CMD(PROTECT, exo_vm_ranges, EXO_VM_RANGES_SIZE_VER1,
	       EXO_PROTECT_POPULATE, 40, gen_protect, NULL),
	FZ_CMD(QUERY, exo_query, EXO_QUERY_SIZE_VER1, EXO_QUERY_CLEAR_ACCESSED,
	       25, gen_query, NULL, FZ_RSV(exo_query, __reserved)),
	FZ_CMD(DIRTY, exo_dirty, EXO_DIRTY_SIZE_VER1, 0, 25, gen_dirty, NULL),
	FZ_CMD(STLB, exo_stlb, EXO_STLB_SIZE_VER1, 0, 20, gen_stlb, NULL,
	       FZ_RSV(exo_stlb, __reserved)),
	FZ_CMD(FAULT_MODE, exo_fault_mode, EXO_FAULT_MODE_SIZE_VER1, 0, 20,
	       gen_fault_mode, done_fault_mode,
	       FZ_RSV(exo_fault_mode, __reserved)),
	FZ_CMD(FAULT_WAKE, exo_fault_wake, EXO_FAULT_WAKE_SIZE_VER1,
	       EXO_WAKE_SIGBUS, 20, gen_fault_wake, NULL),
	FZ_CMD(REVOKE, exo_revoke, EXO_REVOKE_SIZE_VER1, EXO_REVOKE_ABORT, 20,
	       gen_revoke, NULL, FZ_RSV(exo_revoke, id)),
	FZ_CMD(REVOKE_NOTIFY, exo_revoke_notify, EXO_REVOKE_NOTIFY_SIZE_VER1,
	       0, 10, gen_revoke_notify, NULL),
	FZ_CMD(FRAME_CRITICAL, exo_frame_critical,
	       EXO_FRAME_CRITICAL_SIZE_VER1, EXO_CRITICAL_CLEAR, 20,
	       gen_critical, NULL, FZ_RSV(exo_frame_critical, __reserved)),
	FZ_CMD(FRAME_GRANT, exo_frame_grant, EXO_FRAME_GRANT_SIZE_VER1, 0, 25,
	       gen_grant, done_grant, FZ_RSV(exo_frame_grant, __reserved),
	       FZ_RSV(exo_frame_grant, grant_cap)),
	FZ_CMD(RECOVER, exo_recover, EXO_RECOVER_SIZE_VER1,
	       EXO_RECOVER_TO_FRAME | EXO_RECOVER_TO_USER | EXO_RECOVER_KEEP,
	       20, gen_recover, NULL),
	FZ_CMD(NET_ATTACH, exo_net_attach, EXO_NET_ATTACH_SIZE_VER1,
	       EXO_NET_DETACH, 10, gen_net_attach, NULL,
	       FZ_RSV(exo_net_attach, __reserved)),
	FZ_CMD(NET_CLAIM, exo_net_claim, EXO_NET_CLAIM_SIZE_VER1, 0, 20,
	       gen_net_claim, done_net_claim, FZ_RSV(exo_net_claim, __pad)),
	FZ_CMD(NET_UNCLAIM, exo_net_unclaim, EXO_NET_UNCLAIM_SIZE_VER1, 0, 10,
	       gen_net_unclaim, NULL, FZ_RSV(exo_net_unclaim, __reserved)),
	FZ_CMD(NET_HANDLER, exo_net_handler, EXO_NET_HANDLER_SIZE_VER1, 0, 10,
	       gen_net_handler, NULL),
	FZ_CMD(NET_RING, exo_net_ring, EXO_NET_RING_SIZE_VER1, 0, 15,
	       gen_net_ring, done_net_ring),
	FZ_CMD(NET_TX, exo_net_tx, EXO_NET_TX_SIZE_VER1, 0, 10, gen_none,
	       NULL),
	FZ_CMD(NET_STATS, exo_net_stats, EXO_NET_STATS_SIZE_VER1, 0, 10,
	       gen_net_stats, NULL, FZ_RSV(exo_net_stats, __reserved)),
	FZ_CMD(ENTRY_REGISTER, exo_entry_register, EXO_ENTRY_REGISTER_SIZE_VER1,
	       0, 10, gen_entry_register, done_entry_register,
	       FZ_RSV(exo_entry_register, __reserved),
	       FZ_RSV(exo_entry_register, id)),
	FZ_CMD(ENTRY_UNREGISTER, exo_entry_unregister,
	       EXO_ENTRY_UNREGISTER_SIZE_VER1, 0, 5, gen_entry_unregister, NULL,
	       FZ_RSV(exo_entry_unregister, __reserved)),
	FZ_CMD(CALL_GRANT, exo_call_grant, EXO_CALL_GRANT_SIZE_VER1, 0, 15,
	       gen_call_grant, done_call_grant, FZ_RSV(exo_call_grant, cap)),
	FZ_CMD(CALL_REVOKE, exo_call_revoke, EXO_CALL_REVOKE_SIZE_VER1, 0, 8,
	       gen_call_revoke, NULL),
	FZ_CMD(THREAD_REGISTER, exo_thread_register,
	       EXO_THREAD_REGISTER_SIZE_VER1, EXO_THREAD_UPCALL, 8,
	       gen_thread_register, NULL, FZ_RSV(exo_thread_register, id),
	       FZ_RSV(exo_thread_register, table_size)),
	FZ_CMD(THREAD_UNREGISTER, exo_thread_unregister,
	       EXO_THREAD_UNREGISTER_SIZE_VER1, 0, 5, gen_none, NULL),
	FZ_RUN("bad command", 10, op_badcmd, false),
	FZ_RUN("mmap", 15, op_mmap, false),
	FZ_RUN("munmap", 8, op_munmap, false),
	FZ_RUN("mprotect", 6, op_mprotect, false),
	FZ_RUN("mremap", 3, op_mremap, true),
	FZ_RUN("read", 15, op_read, false),
	FZ_RUN("poll", 10, op_poll, false),
	FZ_RUN("touch", 60, op_touch, false),
	FZ_RUN("open or close", 5, op_churn, true),
	FZ_RUN("fork", 1, op_fork, false),
	FZ_RUN("call", 15, op_call, false),
	FZ_RUN("reply", 10, op_reply, false),
	FZ_RUN("yield", 8, op_yield, false),
	FZ_RUN("map and touch", 40, sc_map_touch, false),
	FZ_RUN("ring", 8, sc_ring, false),
	FZ_RUN("transmit", 15, sc_tx, false),
	FZ_RUN("receive", 10, sc_rx, false),
	FZ_RUN("fault event", 5, sc_event, true),
	FZ_RUN("call served", 5, sc_call, true),
	FZ_RUN("give back", 8, sc_reclaim, false),
};

/* Where the time of the reclaim fz_loop() runs itself goes. */
#define FZ_OP_RECLAIM	(ARRAY_SIZE(fz_ops) - 1)
_Static_assert(ARRAY_SIZE(fz_ops) <= FZ_MAX_OPS, "FZ_MAX_OPS too small");

static const struct fz_op *fz_pick(struct fz_thread *t)
{
	bool one = !t->helper && !t->w->threaded;
	unsigned int i, total = 0, r;

	for (i = 0; i < ARRAY_SIZE(fz_ops); i++)
		if (one || !fz_ops[i].structural)
			total += fz_ops[i].weight;
	r = fz_below(t, total);
	for (i = 0; i < ARRAY_SIZE(fz_ops); i++) {
		if (!one && fz_ops[i].structural)
			continue;
		if (r < fz_ops[i].weight)
			break;
		r -= fz_ops[i].weight;
	}
	return &fz_ops[i];
}

/* ------------------------------------------------------------------------
 * a worker
 */

struct fz_helper {
	pthread_t tid;
	struct fz_thread t;
	uint64_t nops;
	uint64_t join_at;
	bool running;
};

static void fz_loop(struct fz_thread *t, uint64_t nops, struct fz_helper *h);

static void *fz_helper_main(void *arg)
{
	struct fz_helper *h = arg;

	fz_timer_init();
	fz_loop(&h->t, h->nops, NULL);
	fz_timer_fini();
	return NULL;
}

/* Wake whoever waits on a fault event in the arena, with SIGBUS. */
static void fz_wake_all(struct fz_thread *t)
{
	struct fz_worker *w = t->w;
	struct exo_fault_wake wk = {
		.flags = EXO_WAKE_SIGBUS,
		.va = (uintptr_t)w->arena,
		.len = FZ_ARENA_PAGES * w->psz,
	};
	unsigned int i;

	for (i = 0; i < FZ_CTXS; i++)
		if (fz_live(&w->ctx[i]))
			fz_call(t, &w->ctx[i], FAULT_WAKE, &wk);
}

static void fz_join(struct fz_thread *t, struct fz_helper *h)
{
	if (!h->running)
		return;
	fz_wake_all(t);
	pthread_join(h->tid, NULL);
	h->running = false;
	t->w->threaded = false;
}

/* Now and then a second thread on the same contexts, for a while. */
static void fz_threads(struct fz_thread *t, uint64_t i, struct fz_helper *h)
{
	struct fz_worker *w = t->w;

	if (h->running) {
		if (i >= h->join_at)
			fz_join(t, h);
		return;
	}
	if (!fz_one_in(t, 100))
		return;
	h->t = (struct fz_thread){
		.w = w, .rng = fz_mix(fz_rand(t)), .helper = true,
		.arg = h->t.arg, .ro = h->t.ro, .scratch = h->t.scratch,
	};
	h->nops = 20 + fz_below(t, 300);
	h->join_at = i + 20 + fz_below(t, 300);
	w->threaded = true;
	if (fz_thread_start(w, 0, &h->tid, fz_helper_main, h)) {
		w->threaded = false;
		return;
	}
	h->running = true;
}

static void fz_loop(struct fz_thread *t, uint64_t nops, struct fz_helper *h)
{
	struct fz_worker *w = t->w;
	const struct fz_op *op;
	uint64_t i, t0;

	for (i = 0; i < nops && !fz_stopping(t); i++) {
		if (h)
			fz_threads(t, i, h);
		t0 = fz_now_ns();
		if (fz_one_in(t, 8) && fz_held(w) * 4 > w->budget * 3) {
			fz_reclaim(t);
			fz_time(t, FZ_OP_RECLAIM, t0);
			t0 = fz_now_ns();
		}
		op = fz_pick(t);
		if (op->run)
			op->run(t);
		else
			fz_ioctl_op(t, op);
		fz_time(t, (unsigned int)(op - fz_ops), t0);
	}
}

static void fz_signals(void)
{
	struct sigaction fault = {
		.sa_sigaction = fz_fault_handler,
		.sa_flags = SA_SIGINFO,
	};
	struct sigaction escape = {
		.sa_sigaction = fz_escape_handler,
		.sa_flags = SA_SIGINFO,
	};

	fz_sig_escape = SIGRTMIN + 2;
	sigaction(SIGBUS, &fault, NULL);
	sigaction(SIGSEGV, &fault, NULL);
	sigaction(fz_sig_escape, &escape, NULL);
	signal(SIGUSR1, fz_noop_handler);
	signal(SIGPIPE, SIG_IGN);
}

static void fz_worker_fds(struct fz_worker *w, const struct fz_fds *bpf)
{
	w->fds = *bpf;
	w->fds.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->fds.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	w->fds.udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	w->fds.closed = 1000;
	close(w->fds.closed);
}

/* The end: tidy, or leaving everything for exit (and a helper mid-call). */
static void fz_worker_exit(struct fz_thread *t, struct fz_helper *h)
{
	struct fz_worker *w = t->w;
	unsigned int i;

	switch (fz_below(t, 8)) {
	case 0 ... 2:
		_exit(0);
	case 3:
		fz_join(t, h);
		for (i = 0; i < FZ_CTXS; i++)
			if (fz_live(&w->ctx[i]))
				fz_close_fd(t, w->ctx[i].fd);
		_exit(0);
	default:
		fz_join(t, h);
		for (i = 0; i < FZ_CTXS; i++)
			if (fz_live(&w->ctx[i]))
				fz_ctx_close(t, i, fz_below(t, 2));
		fz_unmap(t, w->tables, FZ_CTXS * FZ_TABLE_PAGES * w->psz);
		fz_unmap(t, w->arena, FZ_ARENA_PAGES * w->psz);
		_exit(0);
	}
}

static void __attribute__((noreturn))
fz_worker_main(struct fz_shared *sh, unsigned int slot, uint64_t seed,
	       const struct fz_fds *bpf)
{
	static struct fz_worker w;
	static struct fz_thread t;
	static struct fz_helper h;
	uint64_t t0 = fz_now_ns();
	unsigned int i;

	w.sh = sh;
	w.slot = slot;
	w.psz = getpagesize();
	pthread_mutex_init(&w.lock, NULL);
	t.w = &w;
	t.rng = seed;
	fz_signals();
	h.t.w = &w;
	w.stack[0] = fz_stack(w.psz);
	w.stack[1] = fz_stack(w.psz);
	w.tables = fz_zone(FZ_CTXS * FZ_TABLE_PAGES * w.psz);
	w.arena = fz_zone(FZ_ARENA_PAGES * w.psz);
	if (!w.arena || !w.tables || !w.stack[0] || !w.stack[1] ||
	    fz_thread_mem(&t) || fz_thread_mem(&h.t))
		_exit(2);
	fz_timer_init();
	fz_my_slot = &sh->slot[slot];
	fz_arena_lo = w.arena;
	fz_arena_hi = w.arena + FZ_ARENA_PAGES * w.psz;
	fz_worker_fds(&w, bpf);
	for (i = 0; i < FZ_CTXS; i++)
		w.ctx[i].fd = -1;
	fz_ctx_open(&t, 0);
	if (fz_one_in(&t, 2))
		fz_ctx_open(&t, 1);
	if (!fz_ctx_pick(&t))
		_exit(3);
	fz_time(&t, FZ_MAX_OPS, t0);
	fz_loop(&t, 100 + fz_below(&t, FZ_WORKER_OPS), &h);
	fz_worker_exit(&t, &h);
	_exit(0);
}

/* ------------------------------------------------------------------------
 * the parent
 */

struct fz_child {
	pid_t pid;
	bool killed;		/* by the parent, at random or stalled */
	uint64_t kill_at;	/* SIGKILL at this progress; 0: never */
	uint64_t seen;		/* progress last seen */
	uint64_t seen_ns;	/* when it last moved */
};

struct fz_tally {
	uint64_t started, exited, killed, stalled, late;
	uint64_t bad_jumps;	/* died fetching code at a bad address */
	uint64_t crashes;	/* died of a fault in the fuzzer's code */
	uint64_t crash_ip, crash_addr;	/* the first of those */
	uint64_t sigs[65];
	uint64_t states[26];	/* of stalled workers: S, T, D, ... */
};

/*
 * exo.fuzz_calls= and exo.fuzz_seed= from the kernel command line; fewer
 * calls by default on make check's debug tier (exo.tier=debug).
 */
static void fz_config(uint64_t *calls, uint64_t *seed)
{
	char buf[4096], *tok, *save;
	ssize_t n;
	int fd;

	bool calls_set = false;

	*calls = FZ_DEFAULT_CALLS;
	*seed = FZ_DEFAULT_SEED;
	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		if (!strncmp(tok, "exo.fuzz_calls=", 15)) {
			*calls = strtoull(tok + 15, NULL, 0);
			calls_set = true;
		} else if (!strncmp(tok, "exo.fuzz_seed=", 14)) {
			*seed = strtoull(tok + 14, NULL, 0);
		} else if (!strcmp(tok, "exo.tier=debug") && !calls_set) {
			/* make check's debug tier: the short run stays short */
			*calls = FZ_DEFAULT_CALLS_DEBUG;
		}
	}
}

/* Seconds the test may take: generous for the slowest tier. */
static unsigned int fz_timeout(uint64_t calls)
{
	return 300 + (unsigned int)(calls / 50);
}

/* A two-instruction program, "r0 = 0; exit", of @type; fd or -errno. */
static int fz_bpf_prog(uint32_t type)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = 2;
	a.license = (uintptr_t)"GPL";
	fd = syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	return fd < 0 ? -errno : fd;
}

static int fz_bpf_map(void)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1;
	fd = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	return fd < 0 ? -errno : fd;
}

static void fz_bpf(struct fz_fds *f)
{
	f->prog_cls = fz_bpf_prog(BPF_PROG_TYPE_SCHED_CLS);
	f->prog_sock = fz_bpf_prog(BPF_PROG_TYPE_SOCKET_FILTER);
	f->map = fz_bpf_map();
	if (f->prog_cls < 0 || f->prog_sock < 0 || f->map < 0)
		ksft_print_msg("fuzz: BPF: SCHED_CLS %s, SOCKET_FILTER %s, map %s; -1 in their place\n",
			       f->prog_cls < 0 ? strerror(-f->prog_cls) : "ok",
			       f->prog_sock < 0 ? strerror(-f->prog_sock) : "ok",
			       f->map < 0 ? strerror(-f->map) : "ok");
	if (f->prog_cls < 0)
		f->prog_cls = -1;
	if (f->prog_sock < 0)
		f->prog_sock = -1;
	if (f->map < 0)
		f->map = -1;
}

static void fz_start(struct fz_shared *sh, unsigned int s,
		     struct fz_child *ch, struct fz_tally *tl, uint64_t seed,
		     uint64_t *prng, const struct fz_fds *bpf)
{
	uint64_t wseed = fz_mix(seed ^ fz_mix(tl->started));
	pid_t pid;

	memset(&sh->slot[s], 0, sizeof(sh->slot[s]));
	pid = exo_fork();
	if (pid == 0)
		fz_worker_main(sh, s, wseed, bpf);
	tl->started++;
	*ch = (struct fz_child){
		.pid = pid,
		.seen_ns = fz_now_ns(),
		.kill_at = exo_rand64(prng) % 4 ? 0 :
			   1 + exo_rand64(prng) % (FZ_WORKER_OPS / 2),
	};
	if (pid < 0)
		ch->pid = 0;
}

/*
 * A worker that died of SIGSEGV or SIGBUS outside a touch: a jump to a
 * bad address (an upcall entry it was given) is expected; a fault in the
 * fuzzer's own code is a fuzzer bug or memory the kernel corrupted.
 */
static void fz_crash(const struct fz_slot *sl, struct fz_tally *tl)
{
	if (!sl->crash_addr && !sl->crash_ip)
		return;
	if (sl->crash_addr == sl->crash_ip) {
		tl->bad_jumps++;
		return;
	}
	if (!tl->crashes++) {
		tl->crash_ip = sl->crash_ip;
		tl->crash_addr = sl->crash_addr;
	}
}

/* Reap @ch if it ended; true if it did. */
static bool fz_reap(const struct fz_slot *sl, struct fz_child *ch,
		    struct fz_tally *tl, bool block)
{
	int st;

	if (waitpid(ch->pid, &st, block ? 0 : WNOHANG) <= 0)
		return false;
	if (WIFSIGNALED(st) && (WTERMSIG(st) == SIGSEGV ||
				WTERMSIG(st) == SIGBUS))
		fz_crash(sl, tl);
	if (!ch->killed && WIFSIGNALED(st))
		tl->sigs[WTERMSIG(st) < 65 ? WTERMSIG(st) : 0]++;
	else if (!ch->killed)
		tl->exited++;
	ch->pid = 0;
	return true;
}

static void fz_kill(struct fz_child *ch, uint64_t *count)
{
	if (ch->killed)
		return;
	kill(ch->pid, SIGKILL);
	ch->killed = true;
	(*count)++;
}

/* A process's state letter ("S", "T", "D"...) from /proc; '?' if unknown. */
static char fz_proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 'Z';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] >= 'A' && p[2] <= 'Z' ? p[2] : 'Z';
}

/* One look at a running worker: progress, a random kill, a stall. */
static void fz_watch(struct fz_shared *sh, unsigned int s,
		     struct fz_child *ch, struct fz_tally *tl, uint64_t now)
{
	uint64_t calls = __atomic_load_n(&sh->slot[s].calls, __ATOMIC_RELAXED);

	if (calls != ch->seen) {
		ch->seen = calls;
		ch->seen_ns = now;
	} else if (now - ch->seen_ns > FZ_STALL_MS * 1000000ull &&
		   !ch->killed) {
		tl->states[fz_proc_state(ch->pid) - 'A']++;
		fz_kill(ch, &tl->stalled);
	}
	if (ch->kill_at && calls >= ch->kill_at)
		fz_kill(ch, &tl->killed);
}

static const char *fz_res_name(unsigned int r, char *buf, size_t len)
{
	static const char *const names[] = {
		[FZ_R_ERRNO - FZ_R_ERRNO] = "errno>=134",
		[FZ_R_SIGBUS - FZ_R_ERRNO] = "SIGBUS",
		[FZ_R_SIGSEGV - FZ_R_ERRNO] = "SIGSEGV",
		[FZ_R_UPCALL - FZ_R_ERRNO] = "upcall",
		[FZ_R_STUCK - FZ_R_ERRNO] = "stuck",
		[FZ_R_SERVED - FZ_R_ERRNO] = "served",
	};
	const char *n;

	if (!r)
		return "ok";
	if (r >= FZ_R_ERRNO)
		return names[r - FZ_R_ERRNO];
	n = strerrorname_np((int)r);
	if (n)
		return n;
	snprintf(buf, len, "E%u", r);
	return buf;
}

/* "NAME calls: ok N EINVAL N ...", the outcomes by count. */
static uint64_t fz_report_call(const struct fz_shared *sh, unsigned int c)
{
	uint64_t n[FZ_NR_RES], total = 0;
	char line[1024], name[16];
	unsigned int r, best;
	size_t len;

	memcpy(n, sh->stats[c], sizeof(n));
	for (r = 0; r < FZ_NR_RES; r++)
		total += n[r];
	len = snprintf(line, sizeof(line), "fuzz: %-14s %9" PRIu64 ":",
		       fz_call_names[c], total);
	for (;;) {
		best = 0;
		for (r = 1; r < FZ_NR_RES; r++)
			if (n[r] > n[best])
				best = r;
		if (!n[best] || len + 40 > sizeof(line))
			break;
		len += snprintf(line + len, sizeof(line) - len, " %s %" PRIu64,
				fz_res_name(best, name, sizeof(name)), n[best]);
		n[best] = 0;
	}
	ksft_print_msg("%s\n", line);
	return total;
}

/* Where the workers' time went, by operation, most first. */
static void fz_report_time(const struct fz_shared *sh)
{
	uint64_t t[FZ_MAX_OPS + 1], all = 0;
	char line[1024];
	unsigned int i, best;
	size_t len;

	memcpy(t, sh->op_ns, sizeof(t));
	for (i = 0; i <= FZ_MAX_OPS; i++)
		all += t[i];
	len = snprintf(line, sizeof(line), "fuzz: time by operation:");
	for (;;) {
		best = 0;
		for (i = 1; i <= FZ_MAX_OPS; i++)
			if (t[i] > t[best])
				best = i;
		if (!t[best] || len + 48 > sizeof(line))
			break;
		len += snprintf(line + len, sizeof(line) - len,
				" %s %.0f%% (%.1f ms)",
				best == FZ_MAX_OPS ? "start" : fz_ops[best].name,
				100.0 * t[best] / all,
				t[best] / 1e6 / sh->op_n[best]);
		t[best] = 0;
	}
	ksft_print_msg("%s\n", line);
}

static void fz_report(struct __test_metadata *_metadata,
		      const struct fz_shared *sh, const struct fz_tally *tl,
		      uint64_t seed, uint64_t ns)
{
	char sigs[512] = "", states[128] = "";
	size_t len = 0, slen = 0;
	unsigned int c, s;
	uint64_t total = __atomic_load_n(&sh->total, __ATOMIC_RELAXED);

	for (s = 0; s < ARRAY_SIZE(tl->sigs); s++) {
		if (!tl->sigs[s] || len + 32 > sizeof(sigs))
			continue;
		if (s && sigabbrev_np(s))
			len += snprintf(sigs + len, sizeof(sigs) - len, " SIG%s",
					sigabbrev_np(s));
		else
			len += snprintf(sigs + len, sizeof(sigs) - len,
					" signal %u", s);
		len += snprintf(sigs + len, sizeof(sigs) - len, " %" PRIu64,
				tl->sigs[s]);
	}
	for (s = 0; s < ARRAY_SIZE(tl->states); s++)
		if (tl->states[s] && slen + 32 < sizeof(states))
			slen += snprintf(states + slen, sizeof(states) - slen,
					 "%s%c %" PRIu64, slen ? ", " : " (",
					 'A' + s, tl->states[s]);
	if (slen)
		snprintf(states + slen, sizeof(states) - slen, ")");
	ksft_print_msg("fuzz: seed %" PRIu64 ", %" PRIu64 " calls in %.1f s (%.0f calls/s)\n",
		       seed, total, ns / 1e9, total / (ns / 1e9));
	ksft_print_msg("fuzz: %" PRIu64 " workers: %" PRIu64 " exited, %" PRIu64 " killed at random, %" PRIu64 " killed stalled%s, %" PRIu64 " killed at the end, died of a signal:%s\n",
		       tl->started, tl->exited, tl->killed, tl->stalled, states,
		       tl->late, len ? sigs : " none");
	ksft_print_msg("fuzz: of those, %" PRIu64 " jumped to a bad address (an upcall or call entry), %" PRIu64 " faulted in the fuzzer's code%s\n",
		       tl->bad_jumps, tl->crashes, tl->crashes ? ":" : "");
	if (tl->crashes)
		ksft_print_msg("fuzz: the first at ip %#" PRIx64 ", address %#" PRIx64 "\n",
			       tl->crash_ip, tl->crash_addr);
	fz_report_time(sh);
	/* every command, the register ones too */
	for (c = 0; c < FZ_NR_CALLS; c++) {
		if (!fz_report_call(sh, c) && c < FZ_C_BADCMD)
			EXPECT_TRUE(false) TH_LOG("%s was never called",
						  fz_call_names[c]);
	}
}

/* Every context gone, every frame back, every thread let go: exo's counters. */
static void fz_check_counters(struct __test_metadata *_metadata)
{
	struct exo_counters now = { 0 };
	uint64_t pool, pool_free;
	int i;

	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(0, exo_counters_get(&now));
		if (!now.contexts && !now.frames && !now.threads)
			break;
		usleep(10000);
	}
	pool = exo_sysfs_u64("pool_frames");
	pool_free = exo_sysfs_u64("pool_free");
	ksft_print_msg("fuzz: counters: contexts %" PRIu64 ", frames %" PRIu64 ", allocated %" PRIu64 ", freed %" PRIu64 ", threads %" PRIu64 ", pool %" PRIu64 "/%" PRIu64 " free\n",
		       now.contexts, now.frames, now.allocated, now.freed,
		       now.threads, pool_free, pool);
	EXPECT_EQ(0ULL, now.contexts);
	EXPECT_EQ(0ULL, now.threads);
	EXPECT_EQ(0ULL, now.frames);
	EXPECT_EQ(now.allocated, now.freed);
	EXPECT_EQ(pool, pool_free);
}

FIXTURE(fuzz) {
	struct fz_shared *sh;
	struct fz_fds bpf;
	uint64_t calls, seed;
};

FIXTURE_SETUP(fuzz)
{
	int fd = exo_open_raw(O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("open(" EXO_DEV_PATH "): %s", strerror(-fd));
	close(fd);
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
	fz_config(&self->calls, &self->seed);
	fz_bpf(&self->bpf);
}

FIXTURE_TEARDOWN(fuzz)
{
	if (self->bpf.prog_cls >= 0)
		close(self->bpf.prog_cls);
	if (self->bpf.prog_sock >= 0)
		close(self->bpf.prog_sock);
	if (self->bpf.map >= 0)
		close(self->bpf.map);
	if (self->sh && self->sh != MAP_FAILED)
		munmap(self->sh, sizeof(*self->sh));
}

/* Workers until the calls are made; then exo must be as it was. */
TEST_F_TIMEOUT(fuzz, run, 500)
{
	struct fz_shared *sh = self->sh;
	struct fz_child ch[FZ_WORKERS] = { { 0 } };
	struct fz_tally tl = { 0 };
	uint64_t prng = fz_mix(self->seed), start = fz_now_ns(), now;
	uint64_t next = FZ_PROGRESS, total, last_started = 0;
	unsigned int s;

	ksft_print_msg("fuzz: seed %" PRIu64 ", %" PRIu64 " calls, %d workers at once\n",
		       self->seed, self->calls, FZ_WORKERS);
	for (;;) {
		total = __atomic_load_n(&sh->total, __ATOMIC_RELAXED);
		if (total >= self->calls)
			break;
		now = fz_now_ns();
		for (s = 0; s < FZ_WORKERS; s++) {
			if (ch[s].pid && !fz_reap(&sh->slot[s], &ch[s], &tl,
						  false))
				fz_watch(sh, s, &ch[s], &tl, now);
			if (!ch[s].pid)
				fz_start(sh, s, &ch[s], &tl, self->seed, &prng,
					 &self->bpf);
		}
		if (total >= next) {
			ksft_print_msg("fuzz: %" PRIu64 " calls, %.0f calls/s, %" PRIu64 " workers\n",
				       total, total / ((now - start) / 1e9),
				       tl.started);
			next += FZ_PROGRESS;
		}
		/* workers that die before a single call: exo is not usable */
		if (total == 0 && tl.started - last_started > 50)
			ASSERT_TRUE(false) TH_LOG("50 workers made no call");
		usleep(5000);
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	for (s = 0; s < FZ_WORKERS; s++) {
		for (now = fz_now_ns(); ch[s].pid &&
		     fz_now_ns() - now < 5000000000ull;)
			if (!fz_reap(&sh->slot[s], &ch[s], &tl, false))
				usleep(5000);
		if (ch[s].pid) {
			fz_kill(&ch[s], &tl.late);
			fz_reap(&sh->slot[s], &ch[s], &tl, true);
		}
	}
	fz_report(_metadata, sh, &tl, self->seed, fz_now_ns() - start);
	fz_check_counters(_metadata);
}

int main(int argc, char **argv)
{
	uint64_t calls, seed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The harness's timeout lives in the test's object; a long run needs more. */
	fz_config(&calls, &seed);
	if ((int)fz_timeout(calls) > _fuzz_run_object.timeout)
		_fuzz_run_object.timeout = (int)fz_timeout(calls);
	return test_harness_run(argc, argv);
}
