// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * The processor: registered threads, their row of the thread table, their
 * end-of-slice upcalls, and directed yield (Documentation/cpu.rst).
 *
 * A slice upcall enters through the same entry as a fault upcall
 * (upcall_x86_64.S): the frame's cookie names the thread's registration,
 * whose handler runs on the interrupted stack and returns to the
 * interrupted code.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "libexo.h"
#include "internal.h"

/* This thread's registration through libexo: one context at a time. */
static __thread struct exo *lx_thread_exo;
static __thread struct exo_upcall_reg *lx_thread_reg;

#if defined(__x86_64__)

int exo_thread_register(struct exo *exo, const struct exo_thread_opts *opts)
{
	struct exo_thread_register r = { .size = sizeof(r) };
	struct exo_upcall_reg *reg = NULL;
	uint64_t zero = 0;
	int ret;

	if (!exo || (opts && opts->size < sizeof(*opts)))
		return -EINVAL;
	if (opts && !opts->on_slice && opts->slice_ns)
		return -EINVAL;
	if (lx_thread_exo)
		return lx_thread_exo == exo ? -EEXIST : -EBUSY;
	if (opts && opts->on_slice) {
		ret = lx_upcall_prepare();
		if (ret)
			return ret;
		reg = malloc(sizeof(*reg));
		if (!reg)
			return -ENOMEM;
		*reg = (struct exo_upcall_reg){
			.fn = opts->on_slice,
			.arg = opts->arg,
		};
		r.flags = EXO_THREAD_UPCALL;
		r.entry = (uintptr_t)exo_upcall_entry;
		r.cookie = (uintptr_t)reg;
		r.slice_ns = opts->slice_ns;
	}
	ret = lx_ioctl(exo, EXO_IOC_THREAD_REGISTER, &r);
	if (ret) {
		free(reg);
		return ret;
	}
	/* The table's size is the same for every thread: the first tells. */
	__atomic_compare_exchange_n(&exo->threads.size, &zero, r.table_size,
				    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	lx_thread_exo = exo;
	lx_thread_reg = reg;
	return (int)r.id;
}

int exo_thread_unregister(struct exo *exo)
{
	struct exo_thread_unregister u = { .size = sizeof(u) };
	int ret;

	if (!exo)
		return -EINVAL;
	ret = lx_ioctl(exo, EXO_IOC_THREAD_UNREGISTER, &u);
	/* -ENOENT: the context ended the registration (or never had it). */
	if ((!ret || ret == -ENOENT) && lx_thread_exo == exo) {
		/* The module sends no upcall once the ioctl has returned. */
		free(lx_thread_reg);
		lx_thread_reg = NULL;
		lx_thread_exo = NULL;
	}
	return ret;
}

int exo_yield(struct exo *exo, uint64_t cap, uint32_t thread)
{
	register uint64_t r10 __asm__("r10") = thread;
	long ret;

	if (!exo)
		return -EINVAL;
	/* EXO_IOC_YIELD is a register command: rdx the capability, r10 the row. */
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)SYS_ioctl), "D"((long)exo->fd),
			   "S"((long)EXO_IOC_YIELD), "d"(cap), "r"(r10)
			 : "rcx", "r11", "memory");
	return (int)ret;
}

#else

int exo_thread_register(struct exo *exo, const struct exo_thread_opts *opts)
{
	(void)exo;
	(void)opts;
	return -EOPNOTSUPP;
}

int exo_thread_unregister(struct exo *exo)
{
	(void)exo;
	return -EOPNOTSUPP;
}

int exo_yield(struct exo *exo, uint64_t cap, uint32_t thread)
{
	(void)exo;
	(void)cap;
	(void)thread;
	return -EOPNOTSUPP;
}

#endif

int exo_thread_info(struct exo *exo, uint32_t id, struct exo_thread_info *info)
{
	const struct exo_table_header *h;
	int ret;

	if (!exo || !info)
		return -EINVAL;
	if (!__atomic_load_n(&exo->threads.size, __ATOMIC_RELAXED))
		return -ENOENT;	/* no thread has registered: no table yet */
	ret = lx_table_map(exo, &exo->threads, &h);
	if (ret)
		return ret;
	if (id >= h->nr_entries)
		return -ERANGE;
	return lx_table_read(h, id, info, sizeof(*info));
}
