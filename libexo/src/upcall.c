// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * Aegis-style upcalls: a fault in an exo VMA runs the library OS's handler
 * on the faulting thread without a signal (EXO_FAULT_MODE_UPCALL). The
 * module points the thread at exo_upcall_entry (upcall_x86_64.S) with a
 * frame on its stack; the entry calls exo_upcall_dispatch(), which finds
 * the context's handler through the frame's cookie.
 */
#include <cpuid.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "libexo.h"
#include "internal.h"

/* After close: no fault of this context can reach a handler any more. */
void exo_upcall_free(struct exo *exo)
{
	struct exo_upcall_reg *r;

	free(exo->upcall);
	while ((r = exo->upcall_retired)) {
		exo->upcall_retired = r->next;
		free(r);
	}
}

#if defined(__x86_64__)

/* Bytes XSAVE needs for the features the kernel enabled; 0 until known. */
__attribute__((visibility("hidden"))) uint64_t exo_upcall_xsave_size;

__attribute__((visibility("hidden")))
void exo_upcall_dispatch(struct exo_upcall_frame *frame);

void exo_upcall_dispatch(struct exo_upcall_frame *frame)
{
	const struct exo_upcall_reg *reg =
		(const struct exo_upcall_reg *)(uintptr_t)frame->cookie;

	reg->fn(frame, reg->arg);
}

/* XSAVE must be usable (CPUID.1:ECX.OSXSAVE) for the entry to save state. */
int lx_upcall_prepare(void)
{
	unsigned int a, b, c, d;

	if (exo_upcall_xsave_size)
		return 0;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return -EOPNOTSUPP;
	__cpuid_count(0xd, 0, a, b, c, d);
	if (b < 576)
		return -EOPNOTSUPP;
	__atomic_store_n(&exo_upcall_xsave_size, b, __ATOMIC_RELEASE);
	return 0;
}

int exo_upcall_set(struct exo *exo, exo_upcall_fn fn, void *arg)
{
	struct exo_fault_mode m = { .size = sizeof(m) };
	struct exo_upcall_reg *reg = NULL, *old;
	int ret;

	if (!exo)
		return -EINVAL;
	if (fn) {
		ret = lx_upcall_prepare();
		if (ret)
			return ret;
		reg = malloc(sizeof(*reg));
		if (!reg)
			return -ENOMEM;
		reg->fn = fn;
		reg->arg = arg;
		m.mode = EXO_FAULT_MODE_UPCALL;
		m.entry = (uintptr_t)exo_upcall_entry;
		m.cookie = (uintptr_t)reg;
	} else {
		m.mode = EXO_FAULT_MODE_SIGNAL;
	}
	ret = lx_ioctl(exo, EXO_IOC_FAULT_MODE, &m);
	if (ret) {
		free(reg);
		return ret;
	}
	/*
	 * A fault taken before the switch may still be on its way to the old
	 * handler on another thread; keep the old registration until close.
	 */
	old = exo->upcall;
	exo->upcall = reg;
	if (old) {
		old->next = exo->upcall_retired;
		exo->upcall_retired = old;
	}
	return 0;
}

#else

int exo_upcall_set(struct exo *exo, exo_upcall_fn fn, void *arg)
{
	(void)exo;
	(void)fn;
	(void)arg;
	return -EOPNOTSUPP;
}

#endif
