/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The processor: registered threads, their row of the thread table, the
 * end-of-slice upcall and directed yield (exo_cpu.c).
 */
#ifndef _EXO_CPU_H
#define _EXO_CPU_H

#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/exo.h>

#include "exo_table.h"

struct exo_ctx;
struct exo_thread;
struct exo_ucmd;

/**
 * struct exo_cpu_ctx - a context's registered threads.
 * @lock: guards @threads and @nr (a spinlock: the yield path looks
 *	threads up without sleeping).
 * @threads: row -> &struct exo_thread, or NULL.
 * @nr: rows in use.
 * @table: the read-only thread table (%EXO_MMAP_THREADS). Each row is
 *	written only by its own thread's switches, registration and
 *	upcalls, so the sequence count has one writer.
 */
struct exo_cpu_ctx {
	spinlock_t lock;	/* see above */
	struct exo_thread *threads[EXO_THREADS_MAX];
	u32 nr;
	struct exo_table table;
};

int exo_cpu_ctx_init(struct exo_ctx *ctx);
void exo_cpu_ctx_fini(struct exo_ctx *ctx);
int exo_cpu_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma);
bool exo_cpu_supported(void);

int exo_cpu_cmd_register(struct exo_ucmd *ucmd);
void exo_cpu_cmd_register_undo(struct exo_ucmd *ucmd);
int exo_cpu_cmd_unregister(struct exo_ucmd *ucmd);
long exo_cpu_yield(struct exo_ctx *ctx, unsigned long arg);

void exo_cpu_init(void);
void exo_cpu_exit(void);

extern const struct attribute_group exo_cpu_attr_group;

#endif /* _EXO_CPU_H */
