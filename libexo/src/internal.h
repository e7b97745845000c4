/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/* libexo's private state, shared by its source files. */
#ifndef LIBEXO_INTERNAL_H
#define LIBEXO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "libexo.h"

/* An upcall handler, named by the cookie the module copies into frames. */
struct exo_upcall_reg {
	exo_upcall_fn fn;
	void *arg;
	struct exo_upcall_reg *next;	/* on exo->upcall_retired */
};

struct exo {
	int fd;
	struct exo_api api;
	void *ftable;			/* PROT_READ, ftable_size bytes */
	size_t ftable_size;
	/* Geometry from the header, checked once at open and trusted after. */
	uint32_t nr_entries;
	uint32_t entry_size;
	uint32_t entries_offset;
	/* exo_upcall_set(): the handler in force, and the ones it replaced. */
	struct exo_upcall_reg *upcall;
	struct exo_upcall_reg *upcall_retired;
};

void exo_upcall_free(struct exo *exo);

#endif /* LIBEXO_INTERNAL_H */
