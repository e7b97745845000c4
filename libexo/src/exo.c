// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * libexo: the library OS over /dev/exo.
 *
 * A thin layer: one struct exo per open of the device, ioctl wrappers that
 * turn the kernel's errno into a negative return value, and the frame
 * table the module maps read-only into the process (read by table.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libexo.h"
#include "internal.h"

int exo_open(struct exo **out)
{
	return exo_open_path(EXO_DEFAULT_DEVICE, out);
}

int exo_open_path(const char *path, struct exo **out)
{
	const struct exo_table_header *h;
	struct exo *exo;
	int ret, saved;

	if (!path || !out)
		return -EINVAL;

	exo = calloc(1, sizeof(*exo));
	if (!exo)
		return -ENOMEM;

	/* CLOEXEC: an exec'd image would only get EIO from the context. */
	exo->fd = open(path, O_RDWR | O_CLOEXEC);
	if (exo->fd < 0) {
		ret = -errno;
		goto err_free;
	}

	exo->api = (struct exo_api){
		.size = sizeof(exo->api),
		.api = EXO_API_VERSION,
	};
	ret = lx_ioctl(exo, EXO_IOC_API, &exo->api);
	if (ret)
		goto err_close;
	lx_table_init(&exo->ftable, LX_TABLE_FTABLE, exo->api.ftable_size);
	lx_table_init(&exo->events, LX_TABLE_EVENTS, exo->api.events_size);
	lx_table_init(&exo->repo, LX_TABLE_REPO, exo->api.repo_size);
	/* Its size comes with the first registration (exo_thread_register). */
	lx_table_init(&exo->threads, LX_TABLE_THREADS, 0);
	ret = lx_table_map(exo, &exo->ftable, &h);
	if (ret)
		goto err_close;

	*out = exo;
	return 0;

err_close:
	/* The header promises errno as the failing call left it. */
	saved = errno;
	close(exo->fd);
	errno = saved;
err_free:
	free(exo);
	return ret;
}

void exo_close(struct exo *exo)
{
	int saved;

	if (!exo)
		return;
	saved = errno;
	/* Unmap first: a mapping alone would keep the context alive. */
	lx_table_unmap(&exo->ftable);
	lx_table_unmap(&exo->events);
	lx_table_unmap(&exo->repo);
	lx_table_unmap(&exo->threads);
	close(exo->fd);
	exo_upcall_free(exo);
	free(exo);
	errno = saved;
}

int exo_fd(const struct exo *exo)
{
	if (!exo)
		return -EINVAL;
	return exo->fd;
}

const struct exo_api *exo_api(const struct exo *exo)
{
	return exo ? &exo->api : NULL;
}

static int exo_alloc(struct exo *exo, uint32_t how, uint32_t order,
		     uint64_t pfn, uint32_t colour, struct exo_frame *out)
{
	/* Unnamed fields are zero: the module rejects non-zero unused ones. */
	struct exo_frame_alloc a = {
		.size = sizeof(a),
		.how = how,
		.order = order,
		.pfn = pfn,
		.colour = colour,
	};
	int ret;

	if (!exo || !out)
		return -EINVAL;
	ret = lx_ioctl(exo, EXO_IOC_FRAME_ALLOC, &a);
	if (ret)
		return ret;

	out->cap = a.cap;
	out->pfn = a.pfn;
	out->order = a.order;
	out->colour = a.colour;
	return 0;
}

int exo_frame_alloc(struct exo *exo, struct exo_frame *out)
{
	return exo_alloc(exo, EXO_ALLOC_ANY, 0, 0, 0, out);
}

/*
 * Ask Linux to flush every CPU's LRU-add batches: migrate_pages(2) from our
 * nodes to the same nodes moves nothing but drains them first. A freshly
 * faulted page waits in such a batch, off the LRU, and the kernel's
 * alloc_contig_range() counts it as unmovable until it lands there.
 */
static void drain_lru_batches(void)
{
	unsigned long nodes[16] = { 0 };
	unsigned long maxnode = sizeof(nodes) * 8;

	/* MPOL_F_MEMS_ALLOWED (4): the nodes we may use; others are EINVAL. */
	if (syscall(SYS_get_mempolicy, NULL, nodes, maxnode, NULL, 4UL))
		nodes[0] = 1;
	syscall(SYS_migrate_pages, 0, maxnode, nodes, nodes);
}

/* Tries of a named allocation that Linux refused, each after a drain. */
#define PFN_TRIES	4

int exo_frame_alloc_pfn(struct exo *exo, uint64_t pfn, struct exo_frame *out)
{
	int ret = exo_alloc(exo, EXO_ALLOC_PFN, 0, pfn, 0, out);
	int i;

	/*
	 * EBUSY: another context owns the frame, or Linux could not let go of
	 * it yet; pages faulted since the last drain sit in LRU batches again,
	 * so drain and retry a few times.
	 */
	for (i = 1; i < PFN_TRIES && ret == -EBUSY; i++) {
		drain_lru_batches();
		ret = exo_alloc(exo, EXO_ALLOC_PFN, 0, pfn, 0, out);
	}
	return ret;
}

int exo_frame_alloc_colour(struct exo *exo, uint32_t colour,
			   struct exo_frame *out)
{
	return exo_alloc(exo, EXO_ALLOC_COLOUR, 0, 0, colour, out);
}

int exo_frame_alloc_contig(struct exo *exo, uint32_t order,
			   struct exo_frame *out)
{
	return exo_alloc(exo, EXO_ALLOC_CONTIG, order, 0, 0, out);
}

int exo_frame_free(struct exo *exo, exo_cap_t cap)
{
	struct exo_frame_free f = { .size = sizeof(f), .cap = cap };

	if (!exo)
		return -EINVAL;
	return lx_ioctl(exo, EXO_IOC_FRAME_FREE, &f);
}

int exo_ctx_info(struct exo *exo, struct exo_ctx_info *info)
{
	if (!exo || !info)
		return -EINVAL;

	/* All other fields are outputs; zero them so none reads as input. */
	*info = (struct exo_ctx_info){ .size = sizeof(*info) };
	return lx_ioctl(exo, EXO_IOC_CTX_INFO, info);
}

const struct exo_ftable_header *exo_ftable(const struct exo *exo)
{
	return exo ? exo->ftable.map : NULL;
}

int exo_ftable_read(const struct exo *exo, uint32_t index,
		    struct exo_ftable_entry *out)
{
	if (!exo || !out)
		return -EINVAL;
	return lx_table_read(exo->ftable.map, index, out, sizeof(*out));
}

int exo_ftable_lookup(const struct exo *exo, exo_cap_t cap,
		      struct exo_ftable_entry *out)
{
	struct exo_ftable_entry e;
	uint32_t index = EXO_CAP_INDEX(cap);
	int ret;

	if (!exo)
		return -EINVAL;
	/* Index 0 is never handed out; one out of range is forged. */
	if (index == 0)
		return -ENOENT;
	ret = exo_ftable_read(exo, index, &e);
	if (ret)
		return ret == -ERANGE ? -ENOENT : ret;
	if ((e.state != EXO_FRAME_OWNED && e.state != EXO_FRAME_GRANTED) ||
	    e.gen != EXO_CAP_GEN(cap))
		return -ENOENT;
	if (out)
		*out = e;
	return 0;
}

/*
 * libbpf-style options (their first field is size_t sz): copy the caller's
 * struct @u into @o, @osz bytes, zeroed first. A shorter struct is fine
 * down to @min bytes, a longer one only if its extra bytes are zero. The
 * copy's sz becomes @osz.
 */
int exo_opts_copy(void *o, size_t osz, const void *u, size_t min)
{
	size_t sz = *(const size_t *)u, i;

	if (sz < min)
		return -EINVAL;
	for (i = osz; i < sz; i++)
		if (((const unsigned char *)u)[i])
			return -E2BIG;
	memset(o, 0, osz);
	memcpy(o, u, sz < osz ? sz : osz);
	*(size_t *)o = osz;
	return 0;
}
