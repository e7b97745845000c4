// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * Shared memory between contexts: a run of 2^order frames under one
 * capability, bound into an exo VMA of its own, granted to other contexts
 * (exo_frame_grant) which bind the granted capability into theirs.
 * Calls down into exo.c and vm.c only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "ipc_internal.h"

static int shm_order(uint32_t nframes)
{
	int order = 0;

	if (!nframes || (nframes & (nframes - 1)))
		return -1;
	while ((1u << order) < nframes)
		order++;
	return order;
}

/* Bind @nframes frames of @cap into a new exo VMA of @exo. */
static int shm_map(struct exo *exo, exo_cap_t cap, uint32_t nframes,
		   struct exo_shm *shm)
{
	struct exo_map_entry e = {
		.cap = cap,
		.nr = nframes,
		.prot = EXO_PROT_READ | EXO_PROT_WRITE,
	};
	size_t len = (size_t)nframes * exo_api(exo)->page_size;
	void *addr;
	int ret;

	ret = exo_vma_create(exo, len, PROT_READ | PROT_WRITE, &addr);
	if (ret)
		return ret;
	e.va = (uintptr_t)addr;
	ret = exo_vma_map(exo, &e, 1);
	if (ret) {
		exo_vma_destroy(exo, addr, len);
		return ret;
	}
	shm->exo = exo;
	shm->cap = cap;
	shm->nframes = nframes;
	shm->addr = addr;
	shm->len = len;
	return 0;
}

int exo_shm_create(struct exo *exo, uint32_t nframes, struct exo_shm **out)
{
	struct exo_frame f;
	struct exo_shm *shm;
	int order = shm_order(nframes);
	int ret;

	if (!exo || !out || order < 0 ||
	    (uint32_t)order > exo_api(exo)->max_order)
		return -EINVAL;
	shm = calloc(1, sizeof(*shm));
	if (!shm)
		return -ENOMEM;
	ret = order ? exo_frame_alloc_contig(exo, order, &f) :
		      exo_frame_alloc(exo, &f);
	if (ret)
		goto free;
	ret = shm_map(exo, f.cap, nframes, shm);
	if (ret) {
		exo_frame_free(exo, f.cap);
		goto free;
	}
	shm->owner = true;
	memset(shm->addr, 0, shm->len);
	*out = shm;
	return 0;
free:
	free(shm);
	return ret;
}

int exo_shm_grant(struct exo_shm *shm, uint32_t ctx_id, exo_cap_t *cap)
{
	if (!shm || !cap || !shm->owner)
		return -EINVAL;
	return exo_frame_grant(shm->exo, shm->cap, ctx_id, cap);
}

int exo_shm_attach(struct exo *exo, exo_cap_t cap, uint32_t nframes,
		   struct exo_shm **out)
{
	struct exo_ftable_entry e;
	struct exo_shm *shm;
	int order = shm_order(nframes);
	int ret;

	if (!exo || !out || order < 0)
		return -EINVAL;
	ret = exo_ftable_lookup(exo, cap, &e);
	if (ret)
		return ret;
	/* Only a grant, and only of the size the granter said. */
	if (e.state != EXO_FRAME_GRANTED)
		return -EINVAL;
	if (e.order != order)
		return -EMSGSIZE;
	shm = calloc(1, sizeof(*shm));
	if (!shm)
		return -ENOMEM;
	ret = shm_map(exo, cap, nframes, shm);
	if (ret) {
		free(shm);
		return ret;
	}
	*out = shm;
	return 0;
}

void *exo_shm_addr(const struct exo_shm *shm)
{
	return shm ? shm->addr : NULL;
}

size_t exo_shm_len(const struct exo_shm *shm)
{
	return shm ? shm->len : 0;
}

exo_cap_t exo_shm_cap(const struct exo_shm *shm)
{
	return shm ? shm->cap : 0;
}

int exo_shm_valid(const struct exo_shm *shm)
{
	if (!shm)
		return -EINVAL;
	return exo_ftable_lookup(shm->exo, shm->cap, NULL) == 0;
}

/* Unbind and unmap; then the capability can go. */
static int shm_unmap(struct exo_shm *shm)
{
	return exo_vma_destroy(shm->exo, shm->addr, shm->len);
}

int exo_shm_detach(struct exo_shm *shm)
{
	int ret;

	if (!shm || shm->owner)
		return -EINVAL;
	ret = shm_unmap(shm);
	if (ret)
		return ret;
	/*
	 * The owner may have taken the frames back already (ENOENT), or
	 * another region of this context binds the same grant (EBUSY): its
	 * detach drops the capability.
	 */
	ret = exo_frame_free(shm->exo, shm->cap);
	free(shm);
	return ret == -ENOENT || ret == -EBUSY ? 0 : ret;
}

int exo_shm_destroy(struct exo_shm *shm)
{
	int ret;

	if (!shm || !shm->owner)
		return -EINVAL;
	ret = shm_unmap(shm);
	if (ret)
		return ret;
	/* Breaks every grant of the frames first (exo_frame_grant(3)). */
	ret = exo_frame_free(shm->exo, shm->cap);
	free(shm);
	return ret;
}
