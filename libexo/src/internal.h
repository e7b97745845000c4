/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/* libexo's private state, shared by its source files. */
#ifndef LIBEXO_INTERNAL_H
#define LIBEXO_INTERNAL_H

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "libexo.h"

/* An upcall handler, named by the cookie the module copies into frames. */
struct exo_upcall_reg {
	exo_upcall_fn fn;
	void *arg;
	struct exo_upcall_reg *next;	/* on exo->upcall_retired */
};

/*
 * Where the module sends a thread for an upcall (upcall_x86_64.S): it
 * calls the exo_upcall_reg in the frame's cookie. lx_upcall_prepare()
 * checks that the entry can save the extended state (0 or -EOPNOTSUPP).
 */
void exo_upcall_entry(void) __attribute__((visibility("hidden")));
int lx_upcall_prepare(void) __attribute__((visibility("hidden")));

/* The read-only tables of a context (table.c). */
enum lx_table_kind {
	LX_TABLE_FTABLE,
	LX_TABLE_EVENTS,
	LX_TABLE_REPO,
	LX_TABLE_THREADS,
};

struct lx_table {
	/*
	 * PROT_READ, NULL until mapped: published with a release store once
	 * its header is checked; the header's geometry never changes.
	 */
	void *map;
	uint64_t size;			/* bytes, as the handshake gave them */
	enum lx_table_kind kind;
};

struct exo {
	int fd;
	struct exo_api api;
	/* The frame table is mapped at open, the other two on first use. */
	struct lx_table ftable;
	struct lx_table events;
	struct lx_table repo;
	struct lx_table threads;	/* mapped on first exo_thread_info() */
	/* exo_upcall_set(): the handler in force, and the ones it replaced. */
	struct exo_upcall_reg *upcall;
	struct exo_upcall_reg *upcall_retired;
};

/*
 * Tries before a reader of a table's entry (the frame table, the event
 * ring, the repossession vector) gives up with -EAGAIN. The module holds
 * an entry inconsistent only for a few stores, so a reader that keeps
 * losing the race is seeing a writer that was preempted; after the first
 * spins it yields so that writer can finish.
 */
#define EXO_SEQ_SPINS	64
#define EXO_SEQ_TRIES	1024

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static inline void exo_seq_backoff(int i)
{
	if (i >= EXO_SEQ_SPINS)
		sched_yield();
	else if (i)
		cpu_relax();
}

/*
 * Fields of the read-only mappings are read through volatile rather than
 * __atomic loads: they need not be single-copy atomic (a torn read shows up
 * as a changed seq), and on some 32-bit targets a 64-bit atomic load is a
 * cmpxchg, which faults on a read-only mapping.
 */
#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))

/*
 * The one way libexo issues a command: ioctl(2) on the context's fd with
 * the command's size-first struct; 0 or -errno. Only a system call, so
 * async-signal-safe: the pager's SIGBUS handler goes through it. Inline,
 * so that every file may use it without depending on another.
 */
static inline int lx_ioctl(const struct exo *exo, unsigned long cmd,
			   void *arg)
{
	if (ioctl(exo->fd, cmd, arg) < 0)
		return -errno;
	return 0;
}

/* table.c */
void lx_table_init(struct lx_table *t, enum lx_table_kind kind,
		   uint64_t size);
int lx_table_map(const struct exo *exo, struct lx_table *t,
		 const struct exo_table_header **out);
void lx_table_unmap(struct lx_table *t);
void lx_table_copy(void *dst, size_t size, const void *e,
		   const struct exo_table_header *h);
int lx_table_read(const struct exo_table_header *h, uint32_t index,
		  void *out, size_t size);

/* Entry @index of a checked table; the caller keeps @index in range. */
static inline const void *lx_table_entry(const struct exo_table_header *h,
					 uint64_t index)
{
	return (const char *)h + h->entries_offset +
	       (size_t)index * h->entry_size;
}

void exo_upcall_free(struct exo *exo);
int exo_opts_copy(void *o, size_t osz, const void *u, size_t min);

#endif /* LIBEXO_INTERNAL_H */
