/* SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT) */
/*
 * IPC's private state: rpc.c and pipe.c sit on shm.c, which sits on the
 * raw calls (exo.c, vm.c); call.c carries the wake-ups and the RPCs.
 */
#ifndef LIBEXO_IPC_INTERNAL_H
#define LIBEXO_IPC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "libexo.h"

struct exo_shm {
	struct exo *exo;
	exo_cap_t cap;		/* the owner's, or the grantee's */
	uint32_t nframes;
	bool owner;		/* made by exo_shm_create() */
	void *addr;
	size_t len;
};

#endif /* LIBEXO_IPC_INTERNAL_H */
