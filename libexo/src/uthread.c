// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * User-level threads: a round-robin scheduler per kernel thread, as ExOS
 * had, preempted (if asked) by a per-thread CPU-time timer's signal or by
 * exo's end-of-slice upcall.
 *
 * The rule that makes preemption safe: everything that touches the
 * scheduler runs with the kernel thread's preempt count (lx_sched.np)
 * above zero. exo_uthread_preempt(), called from the signal handler or the
 * upcall at any instruction, switches only when the count is zero;
 * otherwise it sets "pending", and whoever brings the count back to zero
 * yields then. The count belongs to what runs: lx_switch() saves it with
 * the outgoing context and loads the incoming one's, so a uthread that
 * blocks inside exo_uthread_preempt_disable() gets its section back, and
 * no other uthread inherits it. errno is swapped the same way.
 *
 * No malloc here: a uthread's control block lives at the top of its own
 * stack, so creating and reaping one is an mmap and a munmap, which are
 * safe while another uthread is stopped half-way through malloc.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libexo.h"
#include "internal.h"

#if defined(__x86_64__)

enum lx_ut_state {
	LX_UT_RUNNABLE,
	LX_UT_RUNNING,
	LX_UT_BLOCKED,
	LX_UT_EXITED,
};

struct lx_sched;

struct exo_uthread {
	void *sp;			/* saved by lx_uthread_switch() */
	struct exo_uthread *next;	/* run queue, wait queue or reap list */
	struct exo_uthread *prev;	/* run queue only */
	struct lx_sched *sched;		/* the kernel thread's scheduler */
	enum lx_ut_state state;
	int np;				/* preempt count while switched out */
	int err;			/* errno while switched out */
	uint32_t flags;			/* EXO_UTHREAD_DETACHED */
	exo_uthread_fn fn;
	void *arg;
	void *retval;
	struct exo_uthread *joiner;	/* blocked in join on this one */
	struct exo_uthread *joining;	/* this one is blocked joining it */
	struct exo_uthread_waitq *wq;	/* blocked waiting on it */
	void *map;			/* the mapping (stack, guard), or NULL */
	size_t map_len;
};

struct lx_sched {
	volatile int np;		/* > 0: do not switch now */
	volatile int pending;		/* a preemption was held off */
	struct exo_uthread *cur;	/* NULL: the scheduler's own context */
	void *main_sp;
	int main_np;
	int main_err;
	struct exo_uthread *rq_first, *rq_last;
	struct exo_uthread *reap;	/* exited, detached, not yet unmapped */
	unsigned long live;		/* created and not exited */
	bool running;			/* inside exo_uthread_run() */
	uint32_t preempt;
	int signo;
	timer_t timer;
	struct exo *exo;
	struct exo_uthread_stats st;
};

/* initial-exec: read from signal handlers, never allocated lazily. */
static __thread struct lx_sched lx_sched
	__attribute__((tls_model("initial-exec")));

__attribute__((visibility("hidden")))
void lx_uthread_switch(void **save_sp, void *load_sp);
__attribute__((visibility("hidden"))) void lx_uthread_trampoline(void);
__attribute__((visibility("hidden"), noreturn))
void lx_uthread_start(struct exo_uthread *t);

static void rq_push(struct lx_sched *s, struct exo_uthread *t)
{
	t->state = LX_UT_RUNNABLE;
	t->next = NULL;
	t->prev = s->rq_last;
	if (s->rq_last)
		s->rq_last->next = t;
	else
		s->rq_first = t;
	s->rq_last = t;
}

static void rq_remove(struct lx_sched *s, struct exo_uthread *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		s->rq_first = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		s->rq_last = t->prev;
	t->next = t->prev = NULL;
}

static struct exo_uthread *rq_pop(struct lx_sched *s)
{
	struct exo_uthread *t = s->rq_first;

	if (t)
		rq_remove(s, t);
	return t;
}

static void lx_free(struct exo_uthread *t)
{
	if (t->map)
		munmap(t->map, t->map_len);
}

/* Unmap the detached uthreads that have exited: we are off their stacks. */
static void lx_reap(struct lx_sched *s)
{
	struct exo_uthread *t;

	while ((t = s->reap)) {
		s->reap = t->next;
		lx_free(t);
	}
}

/*
 * Switch from what runs now to @next (NULL: the scheduler's context in
 * exo_uthread_run()). Called with s->np > 0; returns, with s->np as it
 * was, when the caller is switched back to.
 */
static void lx_switch(struct lx_sched *s, struct exo_uthread *next)
{
	struct exo_uthread *prev = s->cur;
	void **save = prev ? &prev->sp : &s->main_sp;

	if (prev) {
		prev->np = s->np;
		prev->err = errno;
	} else {
		s->main_np = s->np;
		s->main_err = errno;
	}
	s->cur = next;
	s->pending = 0;
	s->st.switches++;
	if (next) {
		next->state = LX_UT_RUNNING;
		s->np = next->np;
		errno = next->err;
		lx_uthread_switch(save, next->sp);
	} else {
		s->np = s->main_np;
		errno = s->main_err;
		lx_uthread_switch(save, s->main_sp);
	}
	lx_reap(s);
}

/* Give the processor to the next runnable uthread, if any (s->np > 0). */
static void lx_yield(struct lx_sched *s)
{
	struct exo_uthread *next = rq_pop(s);

	if (!next)
		return;
	rq_push(s, s->cur);
	lx_switch(s, next);
}

/* Block the running uthread until someone makes it runnable (s->np > 0). */
static void lx_block(struct lx_sched *s)
{
	s->cur->state = LX_UT_BLOCKED;
	lx_switch(s, rq_pop(s));
}

/* Leave a critical section; yield if a preemption was held off. */
static void lx_np_dec(struct lx_sched *s)
{
	s->np--;
	while (!s->np && s->pending && s->cur) {
		s->np = 1;
		s->pending = 0;
		s->st.preempts++;
		lx_yield(s);
		s->np--;
	}
}

void exo_uthread_preempt(void)
{
	struct lx_sched *s = &lx_sched;
	int err;

	if (!s->running || !s->cur)
		return;
	if (s->np) {
		s->pending = 1;
		s->st.deferred++;
		return;
	}
	err = errno;
	s->np = 1;
	s->st.preempts++;
	lx_yield(s);
	lx_np_dec(s);
	errno = err;
}

void exo_uthread_on_slice(struct exo_upcall_frame *frame, void *arg)
{
	(void)frame;
	(void)arg;
	exo_uthread_preempt();
}

void exo_uthread_preempt_disable(void)
{
	lx_sched.np++;
}

void exo_uthread_preempt_enable(void)
{
	struct lx_sched *s = &lx_sched;

	if (s->np > 0)
		lx_np_dec(s);
}

static __attribute__((noreturn)) void lx_exit(struct lx_sched *s, void *ret)
{
	struct exo_uthread *me = s->cur;

	s->np++;
	me->retval = ret;
	me->state = LX_UT_EXITED;
	s->live--;
	if (me->joiner)
		rq_push(s, me->joiner);
	if (me->flags & EXO_UTHREAD_DETACHED) {
		me->next = s->reap;
		s->reap = me;
	}
	lx_switch(s, rq_pop(s));
	__builtin_unreachable();
}

void lx_uthread_start(struct exo_uthread *t)
{
	struct lx_sched *s = &lx_sched;

	/* lx_switch() switched here with np == 1 and nothing after it ran. */
	lx_reap(s);
	lx_np_dec(s);
	lx_exit(s, t->fn(t->arg));
}

static void lx_fp_control(uint16_t *fcw, uint32_t *mxcsr)
{
	__asm__ __volatile__("fnstcw %0; stmxcsr %1" : "=m"(*fcw), "=m"(*mxcsr));
}

int exo_uthread_create(struct exo_uthread **out, exo_uthread_fn fn, void *arg,
		       const struct exo_uthread_create_opts *uopts)
{
	struct lx_sched *s = &lx_sched;
	struct exo_uthread_create_opts o = { .sz = sizeof(o) };
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size;
	struct exo_uthread *t;
	uintptr_t top;
	uint64_t *sp;
	uint16_t fcw;
	uint32_t mxcsr;
	void *map = NULL, *base;
	size_t map_len = 0;
	int ret;

	if (!out || !fn)
		return -EINVAL;
	if (uopts) {
		ret = exo_opts_copy(&o, sizeof(o), uopts, sizeof(uopts->sz));
		if (ret)
			return ret;
	}
	if (o.__reserved || (o.flags & ~EXO_UTHREAD_DETACHED))
		return -EINVAL;
	size = o.stack_size ? o.stack_size : EXO_UTHREAD_STACK_DEFAULT;
	if (size < EXO_UTHREAD_STACK_MIN)
		return -EINVAL;
	if (o.stack) {
		base = o.stack;
	} else {
		if (size > SIZE_MAX - 2 * page)
			return -EINVAL;
		size = (size + page - 1) & ~(page - 1);
		map_len = size + page;
		map = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (map == MAP_FAILED)
			return -errno;
		/* The guard: running off the bottom faults instead of
		 * writing over whatever lies below. */
		if (mprotect(map, page, PROT_NONE)) {
			ret = -errno;
			munmap(map, map_len);
			return ret;
		}
		base = (char *)map + page;
	}

	/* The control block at the top of the stack, the stack below it. */
	top = ((uintptr_t)base + size - sizeof(*t)) & ~(uintptr_t)63;
	t = (struct exo_uthread *)top;
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
	t->flags = o.flags;
	t->map = map;
	t->map_len = map_len;
	t->sched = s;
	t->np = 1;	/* lx_uthread_start() leaves lx_switch()'s section */

	/* What lx_uthread_switch() pops: fcw, mxcsr, r15..r12, rbx, rbp, rip. */
	sp = (uint64_t *)(top & ~(uintptr_t)15) - 10;
	lx_fp_control(&fcw, &mxcsr);
	sp[0] = fcw;
	sp[1] = mxcsr;
	sp[2] = sp[3] = sp[4] = sp[5] = 0;	/* r15, r14, r13, r12 */
	sp[6] = (uintptr_t)t;			/* rbx */
	sp[7] = 0;				/* rbp */
	sp[8] = (uintptr_t)lx_uthread_trampoline;
	sp[9] = 0;
	t->sp = sp;

	s->np++;
	s->live++;
	rq_push(s, t);
	lx_np_dec(s);
	*out = t;
	return 0;
}

int exo_uthread_yield(void)
{
	struct lx_sched *s = &lx_sched;

	if (!s->cur)
		return -EPERM;
	s->np++;
	s->st.yields++;
	lx_yield(s);
	lx_np_dec(s);
	return 0;
}

int exo_uthread_yield_to(struct exo_uthread *t)
{
	struct lx_sched *s = &lx_sched;
	int ret = 0;

	if (!t)
		return -EINVAL;
	if (!s->cur)
		return -EPERM;
	if (t->sched != s || t == s->cur)
		return -EINVAL;
	s->np++;
	if (t->state == LX_UT_EXITED) {
		ret = -ESRCH;
	} else if (t->state == LX_UT_BLOCKED) {
		ret = -EAGAIN;
	} else {
		s->st.yields++;
		rq_remove(s, t);
		rq_push(s, s->cur);
		lx_switch(s, t);
	}
	lx_np_dec(s);
	return ret;
}

int exo_uthread_exit(void *retval)
{
	struct lx_sched *s = &lx_sched;

	if (!s->cur)
		return -EPERM;
	lx_exit(s, retval);
}

struct exo_uthread *exo_uthread_self(void)
{
	return lx_sched.cur;
}

int exo_uthread_join(struct exo_uthread *t, void **retval)
{
	struct lx_sched *s = &lx_sched;
	struct exo_uthread *me = s->cur, *u;
	int ret = 0;

	if (!t || t->sched != s || (t->flags & EXO_UTHREAD_DETACHED))
		return -EINVAL;
	if (t == me)
		return -EDEADLK;
	s->np++;
	if (t->joiner) {
		ret = -EINVAL;
		goto out;
	}
	if (t->state != LX_UT_EXITED) {
		if (!me) {
			ret = -EBUSY;
			goto out;
		}
		/* A cycle of joins would never end. */
		for (u = t; u; u = u->joining) {
			if (u == me) {
				ret = -EDEADLK;
				goto out;
			}
		}
		t->joiner = me;
		me->joining = t;
		s->st.yields++;
		lx_block(s);
		me->joining = NULL;
	}
	if (retval)
		*retval = t->retval;
	lx_free(t);
out:
	lx_np_dec(s);
	return ret;
}

int exo_uthread_wait(struct exo_uthread_waitq *wq)
{
	struct lx_sched *s = &lx_sched;
	struct exo_uthread *me = s->cur;

	if (!wq)
		return -EINVAL;
	if (!me)
		return -EPERM;
	s->np++;
	if (wq->first && wq->first->sched != s) {
		lx_np_dec(s);
		return -EXDEV;
	}
	me->next = NULL;
	if (wq->last)
		wq->last->next = me;
	else
		wq->first = me;
	wq->last = me;
	me->wq = wq;
	s->st.yields++;
	lx_block(s);
	lx_np_dec(s);
	return 0;
}

int exo_uthread_wake(struct exo_uthread_waitq *wq, int nr)
{
	struct lx_sched *s = &lx_sched;
	struct exo_uthread *t;
	int n = 0;

	if (!wq || nr <= 0)
		return -EINVAL;
	s->np++;
	if (wq->first && wq->first->sched != s) {
		lx_np_dec(s);
		return -EXDEV;
	}
	while (n < nr && (t = wq->first)) {
		wq->first = t->next;
		if (!wq->first)
			wq->last = NULL;
		t->wq = NULL;
		rq_push(s, t);
		n++;
	}
	lx_np_dec(s);
	return n;
}

int exo_uthread_stats(struct exo_uthread_stats *out)
{
	if (!out)
		return -EINVAL;
	*out = lx_sched.st;
	return 0;
}

/* PREEMPT_SIGNAL: one handler per signal number for the whole process. */
static pthread_mutex_t lx_sig_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int lx_sig_users[NSIG];
static struct sigaction lx_sig_old[NSIG];

static void lx_sig_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	/* Only our timer, and only on the kernel thread it was made for. */
	if (si->si_code == SI_TIMER && si->si_value.sival_ptr == &lx_sched)
		exo_uthread_preempt();
}

static int lx_sig_get(int signo)
{
	struct sigaction sa;
	int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = lx_sig_handler;
	/*
	 * SA_NODEFER: the handler may switch to another uthread, which must
	 * stay preemptible while this handler's frame waits on the first
	 * one's stack. No SA_ONSTACK: the frame must be on that stack.
	 */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	pthread_mutex_lock(&lx_sig_lock);
	if (!lx_sig_users[signo] && sigaction(signo, &sa, &lx_sig_old[signo]))
		ret = -errno;
	if (!ret)
		lx_sig_users[signo]++;
	pthread_mutex_unlock(&lx_sig_lock);
	return ret;
}

static void lx_sig_put(int signo)
{
	pthread_mutex_lock(&lx_sig_lock);
	if (!--lx_sig_users[signo])
		sigaction(signo, &lx_sig_old[signo], NULL);
	pthread_mutex_unlock(&lx_sig_lock);
}

static int lx_preempt_start(struct lx_sched *s,
			    const struct exo_uthread_opts *o)
{
	struct sigevent sev;
	struct itimerspec its;
	uint64_t ns;
	int ret;

	s->preempt = o->preempt;
	switch (o->preempt) {
	case EXO_UTHREAD_PREEMPT_NONE:
		return 0;
	case EXO_UTHREAD_PREEMPT_SIGNAL:
		s->signo = o->signo ? o->signo : SIGVTALRM;
		ns = o->slice_ns ? o->slice_ns : EXO_UTHREAD_SLICE_DEFAULT_NS;
		ret = lx_sig_get(s->signo);
		if (ret)
			return ret;
		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_THREAD_ID;
		sev.sigev_signo = s->signo;
		sev.sigev_value.sival_ptr = s;
		sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
		if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &s->timer)) {
			ret = -errno;
			lx_sig_put(s->signo);
			return ret;
		}
		its.it_value.tv_sec = ns / 1000000000u;
		its.it_value.tv_nsec = ns % 1000000000u;
		its.it_interval = its.it_value;
		if (timer_settime(s->timer, 0, &its, NULL)) {
			ret = -errno;
			timer_delete(s->timer);
			lx_sig_put(s->signo);
			return ret;
		}
		return 0;
	case EXO_UTHREAD_PREEMPT_UPCALL: {
		/* This kernel thread's end-of-slice upcall runs the hook. */
		struct exo_thread_opts to = {
			.size = sizeof(to),
			.slice_ns = o->slice_ns,
			.on_slice = exo_uthread_on_slice,
		};

		s->exo = o->exo;
		ret = exo_thread_register(o->exo, &to);
		return ret < 0 ? ret : 0;
	}
	default:
		return -EINVAL;
	}
}

static void lx_preempt_stop(struct lx_sched *s)
{
	switch (s->preempt) {
	case EXO_UTHREAD_PREEMPT_SIGNAL:
		timer_delete(s->timer);
		lx_sig_put(s->signo);
		break;
	case EXO_UTHREAD_PREEMPT_UPCALL:
		exo_thread_unregister(s->exo);
		s->exo = NULL;
		break;
	default:
		break;
	}
	s->preempt = EXO_UTHREAD_PREEMPT_NONE;
}

int exo_uthread_run(const struct exo_uthread_opts *uopts)
{
	struct lx_sched *s = &lx_sched;
	struct exo_uthread_opts o = { .sz = sizeof(o) };
	struct exo_uthread *t;
	int np, ret;

	if (uopts) {
		ret = exo_opts_copy(&o, sizeof(o), uopts, sizeof(uopts->sz));
		if (ret)
			return ret;
	}
	if (o.preempt > EXO_UTHREAD_PREEMPT_UPCALL)
		return -EINVAL;
	if (o.preempt == EXO_UTHREAD_PREEMPT_SIGNAL &&
	    (o.signo < 0 || o.signo >= NSIG || o.signo == SIGKILL ||
	     o.signo == SIGSTOP))
		return -EINVAL;
	if (o.preempt == EXO_UTHREAD_PREEMPT_UPCALL && !o.exo)
		return -EINVAL;
	if (s->running)
		return -EBUSY;
	np = s->np;
	s->np = 1;
	s->running = true;
	ret = lx_preempt_start(s, &o);
	if (ret)
		goto out;
	while ((t = rq_pop(s)))
		lx_switch(s, t);
	/* Nothing runnable: either all have exited or the rest wait. */
	ret = s->live ? -EDEADLK : 0;
	lx_preempt_stop(s);
out:
	s->running = false;
	s->pending = 0;
	s->np = np;
	return ret;
}

#else /* !__x86_64__ */

int exo_uthread_create(struct exo_uthread **out, exo_uthread_fn fn, void *arg,
		       const struct exo_uthread_create_opts *opts)
{
	(void)out; (void)fn; (void)arg; (void)opts;
	return -EOPNOTSUPP;
}

int exo_uthread_run(const struct exo_uthread_opts *opts)
{
	(void)opts;
	return -EOPNOTSUPP;
}

int exo_uthread_yield(void) { return -EPERM; }
int exo_uthread_yield_to(struct exo_uthread *t) { (void)t; return -EPERM; }
int exo_uthread_exit(void *retval) { (void)retval; return -EPERM; }
int exo_uthread_join(struct exo_uthread *t, void **retval)
{
	(void)t; (void)retval;
	return -EINVAL;
}
struct exo_uthread *exo_uthread_self(void) { return NULL; }
int exo_uthread_wait(struct exo_uthread_waitq *wq) { (void)wq; return -EPERM; }
int exo_uthread_wake(struct exo_uthread_waitq *wq, int nr)
{
	(void)wq; (void)nr;
	return -EINVAL;
}
void exo_uthread_preempt(void) {}
void exo_uthread_on_slice(struct exo_upcall_frame *frame, void *arg)
{
	(void)frame; (void)arg;
}
void exo_uthread_preempt_disable(void) {}
void exo_uthread_preempt_enable(void) {}
int exo_uthread_stats(struct exo_uthread_stats *out)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	return 0;
}

#endif
