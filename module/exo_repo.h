/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The repossession vector and the save area: what the abort took, and
 * where its contents are (exo_repo.c).
 */
#ifndef _EXO_REPO_H
#define _EXO_REPO_H

#include <linux/types.h>

#include "exo_table.h"

struct exo_cap;
struct exo_ctx;
struct exo_ucmd;
struct file;
struct vm_area_struct;

/**
 * struct exo_repo_ctx - a context's repossession vector. Under ctx->lock.
 * @vec: the vector (&struct exo_repo_header), mapped read-only.
 * @used: entries holding saved contents (read without the lock by poll).
 * @save_file: shmem file holding saved contents, made at the first abort.
 * @save_next: next free page offset in @save_file.
 */
struct exo_repo_ctx {
	struct exo_table vec;
	u32 used;
	struct file *save_file;
	u64 save_next;
};

int exo_repo_ctx_init(struct exo_ctx *ctx);
void exo_repo_ctx_fini(struct exo_ctx *ctx);
int exo_repo_mmap(struct exo_ctx *ctx, struct vm_area_struct *vma);
int exo_repo_next_free(struct exo_ctx *ctx, u32 *slot);
int exo_repo_save(struct exo_ctx *ctx, u32 slot, struct exo_cap *c,
		  u64 id, const u64 *vas, u32 nr_va);

int exo_repo_cmd_recover(struct exo_ucmd *ucmd);

#endif /* _EXO_REPO_H */
