/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * libexo: the library OS over /dev/exo.
 *
 * Every call that can fail returns 0 (or a non-negative value) on success
 * and -errno on failure; errno itself is left as the system call set it.
 * Man pages: exo_open(3), exo_frame_alloc(3), exo_ftable(3), exo_ctx_info(3).
 */
#ifndef LIBEXO_H
#define LIBEXO_H

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

#ifdef __cplusplus
}
#endif

#endif /* LIBEXO_H */
