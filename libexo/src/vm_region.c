// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * libexo's managed VM regions: creating and destroying them, the
 * process-wide SIGBUS handler that hands a fault to the region holding its
 * address (and any other SIGBUS to whoever had the signal before), the
 * fault thread of EXO_VM_FAULT_THREAD and the upcall handler of
 * EXO_VM_FAULT_UPCALL. The top of a region's files (vm_internal.h): it
 * sets the region up and calls down, the pager for every fault.
 *
 * Two things belong to a context, not a region: the fault mode and the
 * registered page table. So libexo keeps one struct vm_ctx per context that
 * has regions: the first region of a context gets the in-kernel refill
 * (the next one when it goes), and while any region of a context wants the
 * fault thread (or upcalls), that thread (or the upcall handler) serves all
 * of them. The thread and upcalls exclude each other in one context.
 */
/* pipe2, O_TMPFILE, mkostemp, secure_getenv */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "vm_internal.h"

#define VM_EVENTS	16	/* fault events read at once */

static struct exo_vm *vm_table[VM_MAX_REGIONS];
static pthread_mutex_t vm_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vm_ctx *vm_ctxs;
static unsigned int vm_count;
static struct sigaction vm_old_sigbus;
static bool vm_sigbus_on;

/* The region whose pages (or scratch page) hold @addr. */
static struct exo_vm *vm_lookup(uintptr_t addr)
{
	struct exo_vm *vm;
	int i;

	for (i = 0; i < VM_MAX_REGIONS; i++) {
		vm = __atomic_load_n(&vm_table[i], __ATOMIC_ACQUIRE);
		if (vm && addr - (uintptr_t)vm->base < vm->len + vm->psz)
			return vm;
	}
	return NULL;
}

/* Not ours, or refused: do what would have happened without libexo. */
static void vm_sigbus_chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *old = &vm_old_sigbus;
	struct sigaction dfl;

	if (old->sa_flags & SA_SIGINFO) {
		if (old->sa_sigaction) {
			old->sa_sigaction(sig, si, uc);
			return;
		}
	} else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
		return;
	}
	/* A sent signal that was ignored stays ignored. */
	if (si->si_code <= 0 && old->sa_handler == SIG_IGN)
		return;
	/* Die of it: a fault retried now is forced; a sent one is raised. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGBUS, &dfl, NULL);
	if (si->si_code <= 0)
		raise(SIGBUS);
}

static void vm_sigbus(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	struct exo_vm *vm = NULL;
	uintptr_t addr = (uintptr_t)si->si_addr;

	if (si->si_code == BUS_ADRERR)
		vm = vm_lookup(addr);
	/* In event mode a SIGBUS at our address is a fault we refused. */
	if (vm && !__atomic_load_n(&vm->ctx->event_mode, __ATOMIC_ACQUIRE) &&
	    !vm_fault(vm, addr, (uint32_t)si->si_errno)) {
		errno = saved;
		return;
	}
	errno = saved;
	vm_sigbus_chain(sig, si, uc);
}

static int vm_sigbus_install(void)
{
	struct sigaction sa;

	if (vm_sigbus_on)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = vm_sigbus;
	/* NODEFER: a TRAP handler may touch other pages of a region. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &vm_old_sigbus))
		return -errno;
	vm_sigbus_on = true;
	return 0;
}

static void vm_sigbus_uninstall(void)
{
	struct sigaction cur;

	if (!vm_sigbus_on)
		return;
	/* Someone installed a handler after ours: leave theirs alone. */
	if (!sigaction(SIGBUS, NULL, &cur) && (cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == vm_sigbus)
		sigaction(SIGBUS, &vm_old_sigbus, NULL);
	vm_sigbus_on = false;
}

/*
 * EXO_VM_FAULT_UPCALL: the faulting thread runs this from libexo's upcall
 * entry, with no signal. A fault we refuse becomes the SIGBUS it would
 * have been without libexo, for whoever had the signal before us.
 */
static void vm_upcall(struct exo_upcall_frame *frame, void *arg)
{
	struct vm_ctx *ctx = arg;
	struct exo_vm *vm = vm_lookup((uintptr_t)frame->va);
	int saved = errno;
	siginfo_t si;

	if (vm && vm->ctx == ctx &&
	    !vm_fault(vm, (uintptr_t)frame->va, frame->fault)) {
		errno = saved;
		return;
	}
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = BUS_ADRERR;
	si.si_errno = (int)frame->fault;
	si.si_addr = (void *)(uintptr_t)frame->va;
	errno = saved;
	vm_sigbus_chain(SIGBUS, &si, NULL);
	/* Nobody took it: die of it, since a retry would only come back. */
	if (vm_old_sigbus.sa_handler == SIG_DFL ||
	    vm_old_sigbus.sa_handler == SIG_IGN)
		raise(SIGBUS);
}

/* Resolve one event and wake its thread: to retry, or to take SIGBUS. */
static void vm_event(struct vm_ctx *ctx, const struct exo_fault_event *ev)
{
	uintptr_t psz = exo_api(ctx->exo)->page_size;
	struct exo_vm *vm = vm_lookup((uintptr_t)ev->va);
	int ret = -EFAULT;

	if (vm && vm->ctx == ctx)
		ret = vm_fault(vm, (uintptr_t)ev->va, ev->fault);
	exo_fault_wake(ctx->exo, (void *)((uintptr_t)ev->va & ~(psz - 1)),
		       psz, ret ? EXO_WAKE_SIGBUS : 0);
}

static void *vm_thread(void *arg)
{
	struct vm_ctx *ctx = arg;
	struct exo_fault_event ev[VM_EVENTS];
	struct pollfd pfd[2];
	sigset_t all;
	int n, i;

	/* Signals are for the application's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pfd[0].fd = exo_fd(ctx->exo);
	pfd[0].events = POLLIN;
	pfd[1].fd = ctx->stop[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		n = exo_fault_read(ctx->exo, ev, VM_EVENTS, 1);
		if (n < 0 && n != -EINTR)
			break;
		for (i = 0; i < n; i++)
			vm_event(ctx, &ev[i]);
	}
	return NULL;
}

static int vm_thread_start(struct vm_ctx *ctx)
{
	int ret;

	if (pipe2(ctx->stop, O_CLOEXEC))
		return -errno;
	ret = exo_fault_mode_set(ctx->exo, EXO_FAULT_MODE_EVENT);
	if (ret < 0)
		goto err_pipe;
	ctx->old_mode = ret;
	__atomic_store_n(&ctx->event_mode, 1, __ATOMIC_RELEASE);
	ret = -pthread_create(&ctx->thread, NULL, vm_thread, ctx);
	if (ret)
		goto err_mode;
	return 0;

err_mode:
	__atomic_store_n(&ctx->event_mode, 0, __ATOMIC_RELEASE);
	exo_fault_mode_set(ctx->exo, (uint32_t)ctx->old_mode);
err_pipe:
	close(ctx->stop[0]);
	close(ctx->stop[1]);
	return ret;
}

static void vm_thread_stop(struct vm_ctx *ctx)
{
	char c = 1;

	while (write(ctx->stop[1], &c, 1) < 0 && errno == EINTR)
		;
	pthread_join(ctx->thread, NULL);
	close(ctx->stop[0]);
	close(ctx->stop[1]);
	exo_fault_mode_set(ctx->exo, (uint32_t)ctx->old_mode);
	__atomic_store_n(&ctx->event_mode, 0, __ATOMIC_RELEASE);
}

/* Register @vm's page table if its context has none of ours yet. */
static void vm_stlb_claim(struct vm_ctx *ctx, struct exo_vm *vm)
{
	const struct exo_api *api = exo_api(vm->exo);
	uint64_t n = vm->npages;

	if (ctx->stlb || !(api->features & EXO_FEAT_STLB) || !api->stlb_max)
		return;
	if (n > api->stlb_max)
		n = api->stlb_max;
	if (exo_stlb_set(vm->exo, vm->upte, vm->base, (uint32_t)n))
		return;
	ctx->stlb = vm;
	vm->stlb_pages = n;
}

static struct vm_ctx *vm_ctx_get(struct exo *exo)
{
	struct vm_ctx *ctx;

	for (ctx = vm_ctxs; ctx; ctx = ctx->next)
		if (ctx->exo == exo)
			return ctx;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->exo = exo;
	ctx->next = vm_ctxs;
	vm_ctxs = ctx;
	return ctx;
}

static void vm_ctx_put(struct vm_ctx *ctx)
{
	struct vm_ctx **pp;

	if (ctx->nr_vms)
		return;
	for (pp = &vm_ctxs; *pp; pp = &(*pp)->next) {
		if (*pp == ctx) {
			*pp = ctx->next;
			break;
		}
	}
	free(ctx);
}

static int vm_register(struct exo_vm *vm)
{
	bool thread = vm->mode == EXO_VM_FAULT_THREAD;
	bool upcall = vm->mode == EXO_VM_FAULT_UPCALL;
	struct vm_ctx *ctx;
	int slot, ret;

	pthread_mutex_lock(&vm_reg_lock);
	for (slot = 0; slot < VM_MAX_REGIONS; slot++)
		if (!vm_table[slot])
			break;
	ret = -ENOSPC;
	if (slot == VM_MAX_REGIONS)
		goto out;
	ret = -ENOMEM;
	ctx = vm_ctx_get(vm->exo);
	if (!ctx)
		goto out;
	ret = vm_sigbus_install();
	if (!ret && (thread || upcall) &&
	    (thread ? ctx->nr_upcall_vms : ctx->nr_thread_vms))
		ret = -EBUSY;
	if (!ret && thread && !ctx->nr_thread_vms)
		ret = vm_thread_start(ctx);
	if (!ret && upcall && !ctx->nr_upcall_vms)
		ret = exo_upcall_set(ctx->exo, vm_upcall, ctx);
	if (ret) {
		if (!vm_count)
			vm_sigbus_uninstall();
		vm_ctx_put(ctx);
		goto out;
	}
	ctx->nr_thread_vms += thread;
	ctx->nr_upcall_vms += upcall;
	ctx->nr_vms++;
	vm_count++;
	vm->ctx = ctx;
	vm->slot = slot;
	vm_stlb_claim(ctx, vm);
	__atomic_store_n(&vm_table[slot], vm, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&vm_reg_lock);
	return ret;
}

static void vm_unregister(struct exo_vm *vm)
{
	struct vm_ctx *ctx = vm->ctx;
	struct exo_vm *other;
	int i;

	pthread_mutex_lock(&vm_reg_lock);
	__atomic_store_n(&vm_table[vm->slot], NULL, __ATOMIC_RELEASE);
	if (vm->mode == EXO_VM_FAULT_THREAD && !--ctx->nr_thread_vms)
		vm_thread_stop(ctx);
	if (vm->mode == EXO_VM_FAULT_UPCALL && !--ctx->nr_upcall_vms)
		exo_upcall_set(ctx->exo, NULL, NULL);
	if (ctx->stlb == vm) {
		exo_stlb_set(vm->exo, NULL, NULL, 0);
		ctx->stlb = NULL;
		vm->stlb_pages = 0;
		/* Hand the in-kernel refill to another region of the context. */
		for (i = 0; i < VM_MAX_REGIONS && !ctx->stlb; i++) {
			other = vm_table[i];
			if (other && other->ctx == ctx) {
				vm_lock(other);
				vm_stlb_claim(ctx, other);
				vm_unlock(other);
			}
		}
	}
	ctx->nr_vms--;
	vm_ctx_put(ctx);
	if (!--vm_count)
		vm_sigbus_uninstall();
	pthread_mutex_unlock(&vm_reg_lock);
}

static int vm_backing_open(struct exo_vm *vm, const struct exo_vm_opts *o)
{
	char path[4096];
	const char *dir;
	int fd;

	if (o->flags & EXO_VM_BACKING_FD) {
		vm->backing = o->backing_fd;
		return 0;
	}
	if (o->backing_path) {
		fd = open(o->backing_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	} else {
		dir = secure_getenv("TMPDIR");
		if (!dir || !*dir)
			dir = "/tmp";
		fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
		/* A file system without O_TMPFILE: create and unlink. */
		if (fd < 0 && errno != ENOENT && errno != EACCES) {
			if (snprintf(path, sizeof(path), "%s/libexo-vm-XXXXXX",
				     dir) >= (int)sizeof(path))
				return -ENAMETOOLONG;
			fd = mkostemp(path, O_CLOEXEC);
			if (fd >= 0)
				unlink(path);
		}
	}
	if (fd < 0)
		return -errno;
	vm->backing = fd;
	vm->own_backing = true;
	return 0;
}

static void vm_free(struct exo_vm *vm)
{
	if (vm->own_backing)
		close(vm->backing);
	if (vm->upte)
		munmap(vm->upte, vm->upte_bytes);
	free(vm->pstate);
	free(vm->pslot);
	free(vm->soft_wb);
	free(vm->soft_user);
	free(vm->frames);
	free(vm->free_slots);
	free(vm->cands);
	free(vm->rcands);
	free(vm->picks);
	if (vm->rbuf)
		munmap(vm->rbuf, vm->psz);
	free(vm->qbuf);
	free(vm->dbuf);
	free(vm);
}

static int vm_alloc(struct exo_vm *vm, uint32_t max_batch)
{
	void *p;

	vm->words = (vm->npages + 63) / 64;
	vm->qmax = max_batch ? max_batch : 1;
	if (vm->qmax > vm->npages)
		vm->qmax = (uint32_t)vm->npages;
	vm->dmax = vm->npages < EXO_DIRTY_MAX_PAGES ? (uint32_t)vm->npages :
						      EXO_DIRTY_MAX_PAGES;
	vm->pstate = malloc(vm->npages);
	vm->pslot = calloc(vm->npages, sizeof(*vm->pslot));
	vm->soft_wb = calloc(vm->words, sizeof(uint64_t));
	vm->soft_user = calloc(vm->words, sizeof(uint64_t));
	vm->frames = calloc(vm->max_frames, sizeof(*vm->frames));
	vm->free_slots = calloc(vm->max_frames, sizeof(*vm->free_slots));
	if (vm->policy == EXO_VM_POLICY_CUSTOM)
		vm->cands = calloc(vm->max_frames, sizeof(*vm->cands));
	vm->qbuf = calloc(vm->qmax, sizeof(*vm->qbuf));
	vm->dbuf = calloc((vm->dmax + 63) / 64, sizeof(uint64_t));
	if (!vm->pstate || !vm->pslot || !vm->soft_wb || !vm->soft_user ||
	    !vm->frames || !vm->free_slots || !vm->qbuf || !vm->dbuf ||
	    (vm->policy == EXO_VM_POLICY_CUSTOM && !vm->cands))
		return -ENOMEM;
	/* Every page starts read-write, in no frame, on no disk. */
	memset(vm->pstate, VM_PROT_RW, vm->npages);

	/* Page-aligned: the module pins the pages the table lies in. */
	vm->upte_bytes = (vm->npages * sizeof(struct exo_upte) + vm->psz - 1) &
			 ~(vm->psz - 1);
	p = mmap(NULL, vm->upte_bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	vm->upte = p;
	return 0;
}

int exo_vm_create(struct exo *exo, const struct exo_vm_opts *opts,
		  struct exo_vm **out)
{
	const struct exo_api *api;
	struct exo_vm_opts o;
	struct exo_vm *vm;
	uint64_t npages;
	void *p;
	int ret;

	if (!exo || !opts || !out)
		return -EINVAL;
	ret = exo_opts_copy(&o, sizeof(o), opts,
			    offsetof(struct exo_vm_opts, len) + sizeof(o.len));
	if (ret)
		return ret;
	api = exo_api(exo);
	if (!(api->features & EXO_FEAT_VM))
		return -EOPNOTSUPP;
	if (!o.len || o.policy > EXO_VM_POLICY_CUSTOM ||
	    (o.policy == EXO_VM_POLICY_CUSTOM) != !!o.choose_victim ||
	    o.fault_mode > EXO_VM_FAULT_UPCALL ||
	    (o.flags & ~EXO_VM_BACKING_FD) || o.__reserved ||
	    ((o.flags & EXO_VM_BACKING_FD) &&
	     (o.backing_fd < 0 || o.backing_path)) || o.__reserved2)
		return -EINVAL;
	if (o.critical && !(api->features & EXO_FEAT_REVOKE))
		return -EOPNOTSUPP;
	if (o.critical > api->critical_max)
		return -EINVAL;
	if ((o.fault_mode == EXO_VM_FAULT_THREAD &&
	     !(api->features & EXO_FEAT_FAULT_EVENTS)) ||
	    (o.fault_mode == EXO_VM_FAULT_UPCALL &&
	     !(api->features & EXO_FEAT_UPCALL)))
		return -EOPNOTSUPP;
	if (o.len > SIZE_MAX - 2 * (size_t)api->page_size)
		return -EINVAL;
	npages = (o.len + api->page_size - 1) / api->page_size;
	if (npages > SIZE_MAX / sizeof(struct exo_upte))
		return -EINVAL;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->exo = exo;
	vm->psz = api->page_size;
	vm->npages = npages;
	vm->len = npages * vm->psz;
	vm->backing = -1;
	vm->policy = o.policy;
	vm->victim_fn = o.choose_victim;
	vm->victim_arg = o.victim_arg;
	vm->critical = o.critical;
	vm->max_frames = o.max_frames && o.max_frames < npages ?
			 o.max_frames : (npages < UINT32_MAX ?
					 (uint32_t)npages : UINT32_MAX);

	ret = vm_alloc(vm, api->max_batch);
	if (ret)
		goto err_free;
	ret = vm_backing_open(vm, &o);
	if (ret)
		goto err_free;
	ret = vm_revoke_init(vm);
	if (ret)
		goto err_free;
	/* One more page than asked: the pager's scratch page. */
	ret = exo_vma_create(exo, vm->len + vm->psz, PROT_READ | PROT_WRITE,
			     &p);
	if (ret)
		goto err_free;
	vm->base = p;
	vm->scratch = vm->base + vm->len;
	vm->mode = o.fault_mode;
	ret = vm_register(vm);
	if (ret)
		goto err_unmap;
	*out = vm;
	return 0;

err_unmap:
	exo_vma_destroy(exo, vm->base, vm->len + vm->psz);
err_free:
	vm_free(vm);
	return ret;
}

int exo_vm_destroy(struct exo_vm *vm)
{
	struct exo_vrange r;
	uint32_t i, tries = 0;
	int ret = 0, err;

	if (!vm)
		return 0;
	vm_unregister(vm);
	for (i = 0; i < VM_MAX_ALIASES; i++) {
		if (!vm->aliases[i].va)
			continue;
		r.va = vm->aliases[i].va;
		r.len = vm->psz;
		err = exo_vma_unmap(vm->exo, &r, 1);
		if (err && !ret)
			ret = err;
	}
	/* Unmapping the region drops its bindings; then frames can go. */
	err = exo_vma_destroy(vm->exo, vm->base, vm->len + vm->psz);
	if (err && !ret)
		ret = err;
	/* Frames the abort took are not ours to free: release their entries. */
	vm_repo_sync(vm, false);
	while (vm->nr_frames) {
		err = exo_frame_free(vm->exo, vm->frames[vm->nr_frames - 1].cap);
		/* Taken just now: its entry may be a moment behind. */
		if (err == -ENOENT && vm->repo && tries++ < 64) {
			vm->repo_retry = true;
			vm_repo_sync(vm, false);
			sched_yield();
			continue;
		}
		if (err && !ret)
			ret = err;
		vm->nr_frames--;
	}
	vm_free(vm);
	return ret;
}

void *exo_vm_base(const struct exo_vm *vm)
{
	return vm ? vm->base : NULL;
}

size_t exo_vm_len(const struct exo_vm *vm)
{
	return vm ? vm->len : 0;
}

int exo_vm_stats(struct exo_vm *vm, struct exo_vm_stats *out)
{
	int ret;

	if (!vm || !out)
		return -EINVAL;
	ret = vm_lock(vm);
	if (ret)
		return ret;
	*out = vm->stats;
	vm_unlock(vm);
	return 0;
}
