// SPDX-License-Identifier: GPL-2.0
/*
 * The repossession vector and the save area.
 *
 * When the abort protocol takes frames, their contents go to a shmem file
 * of the context (swappable, charged to the opener's memory cgroup), and
 * an entry of the vector, mapped read-only by the library OS, says which
 * capability it was, which frames, which virtual pages were bound and
 * where the contents are. The library OS reads them back or has them
 * restored into a frame of its own (%EXO_IOC_RECOVER), which releases the
 * entry. The vector and the save area are under ctx->lock.
 */
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "exo.h"
#include "exo_cap.h"
#include "exo_ctx.h"
#include "exo_repo.h"
#include "trace/exo_trace.h"

static unsigned int exo_repo_entries = 1024;
module_param_named(repo_entries, exo_repo_entries, uint, 0644);
MODULE_PARM_DESC(repo_entries,
		 "Entries in a context's repossession vector, 1..65536; taken at open (default 1024)");

static struct exo_repo_entry *exo_repo_entry(struct exo_ctx *ctx, u32 slot)
{
	return exo_table_entry(&ctx->repo.vec, slot);
}

/**
 * exo_repo_ctx_init() - allocate a context's repossession vector.
 * @ctx: the context; @ctx->id is set.
 *
 * Return: 0 or -ENOMEM.
 */
int exo_repo_ctx_init(struct exo_ctx *ctx)
{
	u32 nr = clamp_t(u32, READ_ONCE(exo_repo_entries), 1, 65536);

	return exo_table_init(&ctx->repo.vec, EXO_REPO_MAGIC, EXO_REPO_VERSION,
			      ctx->id, sizeof(struct exo_repo_header),
			      sizeof(struct exo_repo_entry), nr);
}

/**
 * exo_repo_ctx_fini() - free the vector and the save area.
 * @ctx: a dying context.
 */
void exo_repo_ctx_fini(struct exo_ctx *ctx)
{
	if (ctx->repo.save_file)
		fput(ctx->repo.save_file);
	ctx->repo.save_file = NULL;
	exo_table_fini(&ctx->repo.vec);
}

/**
 * exo_repo_mmap() - map the vector read-only into the caller.
 * @ctx: the context.
 * @vma: a mapping at %EXO_MMAP_REPO.
 *
 * Return: 0, -EACCES for a writable mapping, -EINVAL for a bad size.
 */
int exo_repo_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma)
{
	return exo_table_mmap(&ctx->repo.vec, vma);
}

/**
 * exo_repo_next_free() - the first free entry at or after *@slot.
 * @ctx: the context, locked.
 * @slot: in: where to start; out: the entry.
 *
 * Return: 0, or -ENOSPC when no entry from there on is free.
 */
int exo_repo_next_free(struct exo_ctx *ctx, u32 *slot)
{
	u32 i;

	lockdep_assert_held(&ctx->lock);
	for (i = *slot; i < ctx->repo.vec.nr; i++) {
		if (exo_repo_entry(ctx, i)->state == EXO_REPO_FREE) {
			*slot = i;
			return 0;
		}
	}
	return -ENOSPC;
}

static int exo_save_area(struct exo_ctx *ctx)
{
	struct file *file;

	if (ctx->repo.save_file)
		return 0;
	file = shmem_file_setup("exo-saved", 0, VM_NORESERVE);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ctx->repo.save_file = file;
	return 0;
}

/* Copy @nr frames from @pfn to page offset @off of the save area. */
static int exo_save_frames(struct exo_ctx *ctx, unsigned long pfn, u32 nr,
			   u64 off)
{
	struct mem_cgroup *old = set_active_memcg(ctx->memcg);
	loff_t pos = off << PAGE_SHIFT;
	ssize_t n = PAGE_SIZE;
	void *kaddr;
	u32 i;

	for (i = 0; i < nr && n == PAGE_SIZE; i++) {
		kaddr = kmap_local_page(pfn_to_page(pfn + i));
		n = kernel_write(ctx->repo.save_file, kaddr, PAGE_SIZE, &pos);
		kunmap_local(kaddr);
	}
	set_active_memcg(old);
	return n == PAGE_SIZE ? 0 : n < 0 ? n : -EIO;
}

static void exo_save_release(struct exo_ctx *ctx, u64 off, u32 nr)
{
	vfs_fallocate(ctx->repo.save_file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      off << PAGE_SHIFT, (loff_t)nr << PAGE_SHIFT);
}

/**
 * exo_repo_save() - save the contents of frames the abort takes and record
 *	them in the vector.
 * @ctx: the context, locked; no binding names @f any more.
 * @slot: a free entry from exo_repo_next_free().
 * @f: the frames, still held.
 * @id: the revocation request.
 * @vas: the first addresses that were bound to them.
 * @nr_va: how many addresses were bound in all.
 *
 * Return: 0, or -ENOMEM/-ENOSPC when the contents cannot be saved; the
 * frames must then stay with the context.
 */
int exo_repo_save(struct exo_ctx *ctx, u32 slot, struct exo_cap *f,
		  u64 id, const u64 *vas, u32 nr_va)
{
	struct exo_repo_entry *e = exo_repo_entry(ctx, slot);
	struct exo_repo_header *h = ctx->repo.vec.hdr;
	u32 nr = 1U << f->order;
	int ret, i;

	lockdep_assert_held(&ctx->lock);
	ret = exo_save_area(ctx);
	if (ret)
		return ret;
	ret = exo_save_frames(ctx, f->pfn, nr, ctx->repo.save_next);
	if (ret) {
		exo_save_release(ctx, ctx->repo.save_next, nr);
		return ret;
	}
	exo_table_write_begin(&e->seq);
	e->state = EXO_REPO_SAVED;
	e->cap = exo_cap_make(f->index, f->gen);
	e->pfn = f->pfn;
	e->id = id;
	e->save = ctx->repo.save_next;
	e->order = f->order;
	e->nr_va = nr_va;
	for (i = 0; i < EXO_REPO_VAS; i++)
		e->va[i] = i < nr_va ? vas[i] : 0;
	e->flags = f->critical ? EXO_REPO_CRITICAL : 0;
	exo_table_write_end(&e->seq);
	ctx->repo.save_next += nr;
	WRITE_ONCE(ctx->repo.used, ctx->repo.used + 1);
	WRITE_ONCE(h->used, ctx->repo.used);
	WRITE_ONCE(h->total, h->total + 1);
	return 0;
}

static void exo_repo_release(struct exo_ctx *ctx, u32 slot)
{
	struct exo_repo_entry *e = exo_repo_entry(ctx, slot);
	struct exo_repo_header *h = ctx->repo.vec.hdr;

	exo_save_release(ctx, e->save, 1U << e->order);
	exo_table_write_begin(&e->seq);
	memset((char *)e + sizeof(e->seq), 0, sizeof(*e) - sizeof(e->seq));
	exo_table_write_end(&e->seq);
	WRITE_ONCE(ctx->repo.used, ctx->repo.used - 1);
	WRITE_ONCE(h->used, ctx->repo.used);
}

static int exo_recover_check(struct exo_ctx *ctx, const struct exo_recover *req)
{
	u32 dest = req->flags & (EXO_RECOVER_TO_FRAME | EXO_RECOVER_TO_USER);

	if (dest == (EXO_RECOVER_TO_FRAME | EXO_RECOVER_TO_USER))
		return -EINVAL;
	if (!dest && (req->nr || (req->flags & EXO_RECOVER_KEEP) ||
		      req->frame || req->dst_frame))
		return -EINVAL;
	if (dest && !req->nr)
		return -EINVAL;
	if (!(req->flags & EXO_RECOVER_TO_FRAME) && (req->cap || req->dst_frame))
		return -EINVAL;
	if (!(req->flags & EXO_RECOVER_TO_USER) && req->buf)
		return -EINVAL;
	if (req->slot >= ctx->repo.vec.nr)
		return -EINVAL;
	return 0;
}

/* The entry, if it holds contents and [frame, frame + nr) is inside it. */
static int exo_recover_entry(struct exo_ctx *ctx, const struct exo_recover *req,
			     struct exo_repo_entry **ep)
{
	struct exo_repo_entry *e = exo_repo_entry(ctx, req->slot);

	if (e->state != EXO_REPO_SAVED)
		return -ENOENT;
	if ((u64)req->frame + req->nr > (1ULL << e->order))
		return -EINVAL;
	*ep = e;
	return 0;
}

static int exo_recover_frame(struct exo_ctx *ctx, const struct exo_recover *req)
{
	struct exo_repo_entry *e;
	struct exo_cap *f;
	loff_t pos;
	ssize_t n;
	void *kaddr;
	u32 i;
	int ret;

	mutex_lock(&ctx->lock);
	ret = exo_recover_entry(ctx, req, &e);
	if (ret)
		goto out;
	f = exo_cap_lookup(ctx, req->cap);
	if (!f) {
		ret = -ENOENT;
		goto out;
	}
	if ((u64)req->dst_frame + req->nr > (1ULL << f->order)) {
		ret = -EINVAL;
		goto out;
	}
	pos = (e->save + req->frame) << PAGE_SHIFT;
	for (i = 0; i < req->nr; i++) {
		kaddr = kmap_local_page(pfn_to_page(f->pfn + req->dst_frame + i));
		n = kernel_read(ctx->repo.save_file, kaddr, PAGE_SIZE, &pos);
		kunmap_local(kaddr);
		if (n != PAGE_SIZE) {
			ret = n < 0 ? n : -EIO;
			goto out;
		}
	}
	if (!(req->flags & EXO_RECOVER_KEEP))
		exo_repo_release(ctx, req->slot);
out:
	mutex_unlock(&ctx->lock);
	return ret;
}

/*
 * copy_to_user() may fault on an exo VMA, whose fault path takes ctx->lock:
 * read each page into a bounce buffer under the lock, copy it out after.
 */
static int exo_recover_user(struct exo_ctx *ctx, const struct exo_recover *req)
{
	void __user *buf = u64_to_user_ptr(req->buf);
	struct exo_repo_entry *e;
	u64 save = 0, cap = 0;
	void *bounce;
	loff_t pos;
	ssize_t n;
	u32 i;
	int ret = 0;

	bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	for (i = 0; i < req->nr; i++) {
		mutex_lock(&ctx->lock);
		ret = exo_recover_entry(ctx, req, &e);
		/* Released and filled again meanwhile: not what we began on. */
		if (!ret && i && (e->save != save || e->cap != cap))
			ret = -ENOENT;
		if (ret) {
			mutex_unlock(&ctx->lock);
			goto out;
		}
		save = e->save;
		cap = e->cap;
		pos = (save + req->frame + i) << PAGE_SHIFT;
		n = kernel_read(ctx->repo.save_file, bounce, PAGE_SIZE, &pos);
		mutex_unlock(&ctx->lock);
		if (n != PAGE_SIZE) {
			ret = n < 0 ? n : -EIO;
			goto out;
		}
		if (copy_to_user(buf + ((size_t)i << PAGE_SHIFT), bounce,
				 PAGE_SIZE)) {
			ret = -EFAULT;
			goto out;
		}
	}
	if (!(req->flags & EXO_RECOVER_KEEP)) {
		mutex_lock(&ctx->lock);
		ret = exo_recover_entry(ctx, req, &e);
		if (!ret && (e->save != save || e->cap != cap))
			ret = -ENOENT;
		if (!ret)
			exo_repo_release(ctx, req->slot);
		mutex_unlock(&ctx->lock);
	}
out:
	kfree(bounce);
	return ret;
}

/**
 * exo_repo_cmd_recover() - read back, restore or release repossessed
 *	contents (%EXO_IOC_RECOVER).
 * @ucmd: the command.
 *
 * Return: 0, -EINVAL, -ENOENT, -EFAULT, -ENOMEM or -EIO; the entry is
 * released only on success.
 */
int exo_repo_cmd_recover(struct exo_ucmd *ucmd)
{
	const struct exo_recover *req = ucmd->cmd;
	struct exo_ctx *ctx = ucmd->ctx;
	struct exo_repo_entry *e;
	int ret;

	ret = exo_recover_check(ctx, req);
	if (ret)
		goto out;
	if (req->flags & EXO_RECOVER_TO_FRAME) {
		ret = exo_recover_frame(ctx, req);
		goto out;
	}
	if (req->flags & EXO_RECOVER_TO_USER) {
		ret = exo_recover_user(ctx, req);
		goto out;
	}
	mutex_lock(&ctx->lock);
	ret = exo_recover_entry(ctx, req, &e);
	if (!ret)
		exo_repo_release(ctx, req->slot);
	mutex_unlock(&ctx->lock);
out:
	trace_exo_recover(ctx->id, req->slot, ret);
	return ret;
}
