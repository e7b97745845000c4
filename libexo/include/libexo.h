/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * libexo: the library OS over /dev/exo.
 *
 * Every call that can fail returns 0 (or a non-negative value) on success
 * and -errno on failure; errno itself is left as the system call set it.
 * Man pages: exo_open(3), exo_frame_alloc(3), exo_ftable(3), exo_ctx_info(3),
 * exo_vma_create(3), exo_map(3), exo_query(3), exo_stlb_set(3),
 * exo_fault_mode_set(3).
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
 * Virtual memory, the raw calls (one ioctl each; see <linux/exo.h> and
 * Documentation/vm.rst). exo_vma_create() maps a new exo VMA of @len bytes
 * (a multiple of the page size) with mmap(2) protection @prot (PROT_READ,
 * PROT_WRITE, PROT_EXEC: the most any binding in it may allow);
 * exo_vma_destroy() unmaps it and every binding in it.
 */
int exo_vma_create(struct exo *exo, size_t len, int prot, void **out);
int exo_vma_destroy(struct exo *exo, void *addr, size_t len);
int exo_map(struct exo *exo, const struct exo_map_entry *entries,
	    uint32_t nr);
int exo_map_one(struct exo *exo, void *va, exo_cap_t cap, uint32_t frame,
		uint32_t prot);
int exo_unmap(struct exo *exo, const struct exo_vrange *ranges, uint32_t nr);
int exo_protect(struct exo *exo, const struct exo_vrange *ranges,
		uint32_t nr, uint32_t prot);
int exo_query(struct exo *exo, void *va, uint32_t nr, uint32_t flags,
	      struct exo_vpage *out);
/* Returns the number of dirty pages (bits set in @bitmap) or -errno. */
int exo_dirty(struct exo *exo, void *va, uint32_t nr, uint64_t *bitmap);
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

#ifdef __cplusplus
}
#endif

#endif /* LIBEXO_H */
