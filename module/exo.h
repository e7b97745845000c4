/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every room of exo.ko shares: the uapi, the command object the ioctl
 * table hands each handler, and the module-wide batch limit. Each room's
 * own state, locks and calls are in its header (exo_<room>.h); the room
 * map and the lock order are in Documentation/design.rst.
 */
#ifndef _EXO_H
#define _EXO_H

#include <linux/types.h>
#include <linux/exo.h>

struct exo_ctx;

/**
 * struct exo_ucmd - one command, as exo_ioctl() hands it to its handler
 *	(after the size, flags and copy-in checks of the op table).
 * @ctx: the calling context.
 * @cmd: the command's struct in kernel memory, zero-extended to the
 *	module's size; a handler writes its results back here.
 */
struct exo_ucmd {
	struct exo_ctx *ctx;
	void *cmd;
};

/* Entries, ranges or pages in one MAP, UNMAP, PROTECT or QUERY. */
#define EXO_MAX_BATCH		4096U

#endif /* _EXO_H */
